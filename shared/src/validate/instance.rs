//! Rules shared by Neo4jEnterpriseCluster and Neo4jEnterpriseStandalone, one file per group of
//! `spec` fields: each function takes the sub-structs it reads and, where a rule differs by kind,
//! an [`InstanceKind`]. `cluster.rs` and `standalone.rs` call them through [`Common`] in the
//! reference operator's order and add what only their kind has. This file holds [`Common`] and the
//! helpers the groups share.

mod auth;
mod config;
mod identity;
mod integrations;
mod pods;
mod services;
mod storage;
mod tls;
mod volumes;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

pub use self::auth::auth;
pub use self::config::{config, env, env_conf_key};
pub use self::identity::{image, license, name};
pub use self::integrations::{fleet, mcp};
pub use self::pods::{resources, upgrade_strategy};
pub use self::services::{monitoring, service};
pub use self::storage::{storage, storage_update};
pub use self::tls::tls;
pub use self::volumes::{extra_volume_mounts, extra_volumes, normalize_mount_path, trusted_cas};
use super::{has_control_chars, key_path, shown};
use crate::engine::InstanceKind;
use crate::names::{ClusterNames, StandaloneNames};
use crate::types::*;
use crate::units::quantity_bytes;
use crate::verdict::Verdict;
use crate::version::{Neo4jVersion, parse_tag};

/// A DNS label, the first label of an OpenShift generated Route host.
const DNS_LABEL_MAX: usize = 63;

/// Everything both kinds share, borrowed from either spec, so each rule is written once.
pub struct Common<'a> {
    pub kind: InstanceKind,
    /// `metadata.name`; empty while the API server has still to generate it.
    pub name: &'a str,
    pub license: Option<&'a str>,
    pub image: &'a ImageSpec,
    pub storage: &'a StorageSpec,
    pub resources: Option<&'a corev1::ResourceRequirements>,
    pub env: Option<&'a [corev1::EnvVar]>,
    pub config: Option<&'a BTreeMap<String, String>>,
    pub tls: Option<&'a TLSSpec>,
    pub auth: Option<&'a AuthSpec>,
    pub service: Option<&'a ServiceSpec>,
    pub monitoring: Option<&'a MonitoringSpec>,
    pub audit: Option<&'a AuditSpec>,
    pub network_policy: Option<&'a NetworkPolicySpec>,
    pub mcp: Option<&'a MCPServerSpec>,
    pub fleet: Option<&'a AuraFleetManagementSpec>,
    pub upgrade_strategy: Option<&'a UpgradeStrategySpec>,
    pub trusted_ca_secrets: Option<&'a [TrustedCASecret]>,
    pub extra_volumes: Option<&'a [corev1::Volume]>,
    pub extra_volume_mounts: Option<&'a [corev1::VolumeMount]>,
}

impl<'a> Common<'a> {
    pub fn of_cluster(c: &'a Neo4jEnterpriseCluster) -> Self {
        let s = &c.spec;
        Common {
            kind: InstanceKind::Cluster,
            name: c.metadata.name.as_deref().unwrap_or_default(),
            license: s.accept_license_agreement.as_deref(),
            image: &s.image,
            storage: &s.storage,
            resources: s.resources.as_ref(),
            env: s.env.as_deref(),
            config: s.config.as_ref(),
            tls: s.tls.as_ref(),
            auth: s.auth.as_ref(),
            service: s.service.as_ref(),
            monitoring: s.monitoring.as_ref(),
            audit: s.audit.as_ref(),
            network_policy: s.network_policy.as_ref(),
            mcp: s.mcp.as_ref(),
            fleet: s.aura_fleet_management.as_ref(),
            upgrade_strategy: s.upgrade_strategy.as_ref(),
            trusted_ca_secrets: s.trusted_ca_secrets.as_deref(),
            extra_volumes: s.extra_volumes.as_deref(),
            extra_volume_mounts: s.extra_volume_mounts.as_deref(),
        }
    }

    pub fn of_standalone(c: &'a Neo4jEnterpriseStandalone) -> Self {
        let s = &c.spec;
        Common {
            kind: InstanceKind::Standalone,
            name: c.metadata.name.as_deref().unwrap_or_default(),
            license: s.accept_license_agreement.as_deref(),
            image: &s.image,
            storage: &s.storage,
            resources: s.resources.as_ref(),
            env: s.env.as_deref(),
            config: s.config.as_ref(),
            tls: s.tls.as_ref(),
            auth: s.auth.as_ref(),
            service: s.service.as_ref(),
            monitoring: s.monitoring.as_ref(),
            audit: s.audit.as_ref(),
            network_policy: s.network_policy.as_ref(),
            mcp: s.mcp.as_ref(),
            fleet: s.aura_fleet_management.as_ref(),
            upgrade_strategy: s.upgrade_strategy.as_ref(),
            trusted_ca_secrets: s.trusted_ca_secrets.as_deref(),
            extra_volumes: s.extra_volumes.as_deref(),
            extra_volume_mounts: s.extra_volume_mounts.as_deref(),
        }
    }

    /// The version the image tag names, when it parses.
    pub fn version(&self) -> Option<Neo4jVersion> {
        parse_tag(&self.image.tag)
    }

    /// Name and licence: the reference checks these first.
    pub fn identity(&self, v: &mut Verdict) {
        name(self.kind, self.name, v);
        license(self.license, v);
    }

    /// Every shared rule after identity, in the reference's order (image, storage, TLS, auth,
    /// config, MCP, fleet, CAs, volumes, mounts), then the ones the reference lacks.
    pub fn body(&self, v: &mut Verdict) {
        let version = self.version();
        image(self.kind, self.image, v);
        storage(self.kind, self.storage, v);
        if let Some(t) = self.tls {
            tls(self.kind, t, v);
        }
        if let Some(a) = self.auth {
            auth(a, v);
        }
        config(
            self.kind,
            "spec.config",
            self.config,
            version,
            &self.image.tag,
            v,
        );
        mcp(self.mcp, v);
        fleet(self.fleet, v);
        trusted_cas(self.trusted_ca_secrets, v);
        extra_volumes(self.extra_volumes, v);
        extra_volume_mounts(self.extra_volume_mounts, v);
        env(self.kind, self.env, version, &self.image.tag, v);
        resources(self.resources, v);
        service(self.service, v);
        monitoring(self.monitoring, v);
        upgrade_strategy(self.upgrade_strategy, v);
        self.not_implemented(v);
    }

    /// `field-not-implemented`: fields accepted and kept, whose behaviour is not built yet.
    fn not_implemented(&self, v: &mut Verdict) {
        if self.mcp.is_some_and(|m| m.enabled == Some(true)) {
            not_implemented_warning("spec.mcp", v);
        }
        if self.fleet.is_some_and(|f| f.enabled == Some(true)) {
            not_implemented_warning("spec.auraFleetManagement", v);
        }
        if let Some(a) = self.auth {
            if a.ldap.is_some() {
                not_implemented_warning("spec.auth.ldap", v);
            }
            if a.oidc.as_ref().is_some_and(|o| !o.is_empty()) {
                not_implemented_warning("spec.auth.oidc", v);
            }
            if external_secrets_enabled(a.external_secrets.as_ref()) {
                not_implemented_warning("spec.auth.externalSecrets", v);
            }
        }
        if self
            .tls
            .is_some_and(|t| external_secrets_enabled(t.external_secrets.as_ref()))
        {
            not_implemented_warning("spec.tls.externalSecrets", v);
        }
        if let Some(s) = self.service {
            if s.ingress.as_ref().is_some_and(|i| i.enabled == Some(true)) {
                not_implemented_warning("spec.service.ingress", v);
            }
            if s.route.as_ref().is_some_and(|r| r.enabled == Some(true)) {
                not_implemented_warning("spec.service.route", v);
            }
        }
        if self.network_policy.is_some_and(|n| n.enabled == Some(true)) {
            not_implemented_warning("spec.networkPolicy", v);
        }
        if self.audit.is_some_and(|a| a.enabled == Some(true)) {
            not_implemented_warning("spec.audit", v);
        }
        // Pods always roll one at a time; Recreate (stop all, then start) is not built.
        if self.upgrade_strategy.and_then(|u| u.strategy.as_deref()) == Some("Recreate") {
            not_implemented_warning("spec.upgradeStrategy.strategy", v);
        }
    }

    /// `route-generated-host-fits`: OpenShift names a Route without a host
    /// `<route>-<namespace>.<router domain>`, whose first label must fit 63 characters.
    pub fn routes(&self, namespace: &str, v: &mut Verdict) {
        if self.name.is_empty() {
            return;
        }
        let (client_route, mcp_route) = match self.kind {
            InstanceKind::Cluster => {
                let n = ClusterNames::new(self.name);
                (n.route(), n.mcp_route())
            }
            InstanceKind::Standalone => (
                StandaloneNames::new(self.name).route(),
                format!("{}-mcp-route", self.name),
            ),
        };
        let needs_generated_host = |r: Option<&RouteSpec>| {
            r.is_some_and(|r| {
                r.enabled == Some(true) && r.host.as_deref().is_none_or(|h| h.trim().is_empty())
            })
        };
        let mut check = |route: String, field: &str| {
            let label = format!("{route}-{namespace}");
            if label.len() > DNS_LABEL_MAX {
                v.error(
                    "route-generated-host-fits",
                    field,
                    format!(
                        "{field} is unset, so OpenShift would generate the host label {} ({} characters, over the {DNS_LABEL_MAX}-character DNS limit); set {field} or use a shorter name or namespace",
                        shown(&label),
                        label.len()
                    ),
                );
            }
        };
        if needs_generated_host(self.service.and_then(|s| s.route.as_ref())) {
            check(client_route, "spec.service.route.host");
        }
        let mcp_route_spec = self
            .mcp
            .filter(|m| m.enabled == Some(true))
            .and_then(|m| m.http.as_ref())
            .and_then(|h| h.service.as_ref())
            .and_then(|s| s.route.as_ref());
        if needs_generated_host(mcp_route_spec) {
            check(mcp_route, "spec.mcp.http.service.route.host");
        }
    }
}

/// The one message of `field-not-implemented`.
pub fn not_implemented_warning(field: &str, v: &mut Verdict) {
    v.warn(
        "field-not-implemented",
        field,
        format!("{field} is accepted and kept, but this operator version does not act on it yet"),
    );
}

fn external_secrets_enabled(e: Option<&ExternalSecretsConfig>) -> bool {
    e.is_some_and(|e| e.enabled == Some(true))
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn blank(s: Option<&str>) -> bool {
    s.is_none_or(is_blank)
}

/// Reports a string rendered into neo4j.conf that holds a control character.
fn single_line(field: &str, value: Option<&str>, v: &mut Verdict) {
    if let Some(value) = value.filter(|s| has_control_chars(s)) {
        v.error(
            "typed-conf-fields-single-line",
            field,
            format!("{field} is {}, which holds a control character (e.g. a newline); it is written into neo4j.conf, so give it on one line", shown(value)),
        );
    }
}

fn single_line_map(path: &str, map: Option<&BTreeMap<String, String>>, v: &mut Verdict) {
    for (k, val) in map.into_iter().flatten() {
        if has_control_chars(k) {
            v.error(
                "typed-conf-fields-single-line",
                path,
                format!("{path} has the key {}, which holds a control character; it is written into neo4j.conf, so give it on one line", shown(k)),
            );
        }
        single_line(&key_path(path, k), Some(val), v);
    }
}

/// [`single_line`] for each `(field, value)`, the field under `base`.
fn single_lines(base: &str, fields: &[(&str, Option<&str>)], v: &mut Verdict) {
    for (field, value) in fields {
        single_line(&format!("{base}.{field}"), *value, v);
    }
}

fn entry<'q>(map: Option<&'q BTreeMap<String, Quantity>>, resource: &str) -> Option<&'q str> {
    map.and_then(|m| m.get(resource)).map(|q| q.0.as_str())
}

/// The memory limit in bytes, when one is set and parses.
pub fn memory_limit(r: Option<&corev1::ResourceRequirements>) -> Option<u64> {
    entry(r.and_then(|r| r.limits.as_ref()), "memory").and_then(quantity_bytes)
}

const MCP_LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];
const SERVICE_TYPES: [&str; 3] = ["ClusterIP", "NodePort", "LoadBalancer"];
const TRAFFIC_POLICIES: [&str; 2] = ["Cluster", "Local"];

/// Reports `value` when it is set and not one of `allowed` (a schema enum).
fn enum_check(
    rule: &'static str,
    field: &str,
    value: Option<&str>,
    allowed: &[&str],
    v: &mut Verdict,
) {
    if let Some(value) = value
        && !allowed.contains(&value)
    {
        v.error(
            rule,
            field,
            format!(
                "{field} is {}; use one of {}",
                shown(value),
                allowed.join(", ")
            ),
        );
    }
}

/// The enums of a Service block at `path`: `type` and `externalTrafficPolicy`.
fn service_enums(
    rule: &'static str,
    path: &str,
    type_: Option<&str>,
    traffic_policy: Option<&str>,
    v: &mut Verdict,
) {
    enum_check(rule, &format!("{path}.type"), type_, &SERVICE_TYPES, v);
    enum_check(
        rule,
        &format!("{path}.externalTrafficPolicy"),
        traffic_policy,
        &TRAFFIC_POLICIES,
        v,
    );
}

#[cfg(test)]
pub(crate) mod tests {
    //! The shared rules as a table run against both kinds, plus the builders the cluster and
    //! standalone tests use.

    use std::collections::BTreeSet;

    use serde_json::{Value, json};

    use super::*;
    use crate::engine::NoInventory;
    use crate::{defaults, validate};

    /// The minimal valid cluster before defaults.
    pub(crate) fn cluster_json() -> Value {
        json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jEnterpriseCluster",
            "metadata": {"name": "graph", "namespace": "default"},
            "spec": {
                "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
                "topology": {"servers": 3},
                "storage": {"size": "10Gi"},
                "acceptLicenseAgreement": "yes"
            }
        })
    }

    /// The minimal valid standalone before defaults.
    pub(crate) fn standalone_json() -> Value {
        json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jEnterpriseStandalone",
            "metadata": {"name": "graph", "namespace": "default"},
            "spec": {
                "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
                "storage": {"size": "10Gi"},
                "acceptLicenseAgreement": "yes"
            }
        })
    }

    /// JSON merge patch (RFC 7386): objects merge, `null` removes, anything else replaces.
    pub(crate) fn merge(target: &mut Value, patch: &Value) {
        match (target, patch) {
            (Value::Object(t), Value::Object(p)) => {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
            (t, p) => *t = p.clone(),
        }
    }

    /// `doc` with `patch` merged in, decoded as a `what`.
    fn decoded<T: serde::de::DeserializeOwned>(mut doc: Value, patch: &Value, what: &str) -> T {
        merge(&mut doc, patch);
        serde_json::from_value(doc)
            .unwrap_or_else(|e| panic!("test {what} does not decode: {e}: {patch}"))
    }

    pub(crate) fn cluster_from(patch: &Value) -> Neo4jEnterpriseCluster {
        let mut c: Neo4jEnterpriseCluster = decoded(cluster_json(), patch, "cluster");
        defaults::cluster(&mut c.spec);
        c
    }

    pub(crate) fn standalone_from(patch: &Value) -> Neo4jEnterpriseStandalone {
        let mut s: Neo4jEnterpriseStandalone = decoded(standalone_json(), patch, "standalone");
        defaults::standalone(&mut s.spec);
        s
    }

    pub(crate) fn valid_cluster() -> Neo4jEnterpriseCluster {
        cluster_from(&json!({}))
    }

    pub(crate) fn valid_standalone() -> Neo4jEnterpriseStandalone {
        standalone_from(&json!({}))
    }

    /// `{"spec": spec}`: most cases only touch the spec.
    pub(crate) fn spec(spec: Value) -> Value {
        json!({ "spec": spec })
    }

    /// Which kinds a row runs against.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub(crate) enum On {
        Both,
        Cluster,
        Standalone,
    }

    /// One row: the rule the row is about, the patch, and the exact error and warning ids
    /// expected (as multisets). A row whose lists hold `rule` triggers it; one whose lists do
    /// not is a near miss.
    pub(crate) struct Case {
        pub on: On,
        pub rule: &'static str,
        pub patch: Value,
        pub errors: &'static [&'static str],
        pub warnings: &'static [&'static str],
    }

    pub(crate) fn case(
        on: On,
        rule: &'static str,
        patch: Value,
        errors: &'static [&'static str],
        warnings: &'static [&'static str],
    ) -> Case {
        Case {
            on,
            rule,
            patch,
            errors,
            warnings,
        }
    }

    pub(crate) fn sorted(mut ids: Vec<&'static str>) -> Vec<&'static str> {
        ids.sort_unstable();
        ids
    }

    /// Asserts a verdict holds exactly the expected ids.
    pub(crate) fn assert_verdict(
        what: &str,
        v: &Verdict,
        errors: &[&'static str],
        warnings: &[&'static str],
    ) {
        assert_eq!(
            sorted(v.error_rules()),
            sorted(errors.to_vec()),
            "errors of {what}: {:#?}",
            v.errors
        );
        assert_eq!(
            sorted(v.warning_rules()),
            sorted(warnings.to_vec()),
            "warnings of {what}: {:#?}",
            v.warnings
        );
        for f in v.errors.iter().chain(&v.warnings) {
            assert!(
                !f.message.contains('\n') && !f.field.is_empty(),
                "{what}: {f:?}"
            );
        }
    }

    /// Runs `create` for every row and kind the row names.
    pub(crate) fn run_create_table(cases: &[Case]) {
        for c in cases {
            if c.on != On::Standalone {
                let obj = cluster_from(&c.patch);
                assert_verdict(
                    &format!("cluster [{}] {}", c.rule, c.patch),
                    &validate::cluster::create(&obj),
                    c.errors,
                    c.warnings,
                );
            }
            if c.on != On::Cluster {
                let obj = standalone_from(&c.patch);
                assert_verdict(
                    &format!("standalone [{}] {}", c.rule, c.patch),
                    &validate::standalone::create(&obj),
                    c.errors,
                    c.warnings,
                );
            }
        }
    }

    /// Every id of `rules` has a row that triggers it and a row (about it) that does not.
    pub(crate) fn assert_covered(rules: &[&str], hits_and_misses: &[(&'static str, bool)]) {
        let rules_where = |fired: bool| -> BTreeSet<&str> {
            hits_and_misses
                .iter()
                .filter(|(_, hit)| *hit == fired)
                .map(|(r, _)| *r)
                .collect()
        };
        let (hits, misses) = (rules_where(true), rules_where(false));
        for rule in rules {
            assert!(hits.contains(rule), "no case triggers {rule}");
            assert!(misses.contains(rule), "no near-miss case for {rule}");
        }
    }

    pub(crate) fn coverage_of(cases: &[Case]) -> Vec<(&'static str, bool)> {
        cases
            .iter()
            .map(|c| {
                (
                    c.rule,
                    c.errors.contains(&c.rule) || c.warnings.contains(&c.rule),
                )
            })
            .collect()
    }

    const FNI: &[&str] = &["field-not-implemented"];

    /// Shared rules; the kind-specific ids of shared groups have one row per kind.
    fn shared_cases() -> Vec<Case> {
        use On::*;
        let long = |n: usize| "a".repeat(n);
        let cm = |extra: Value| {
            let mut t = json!({"mode": "cert-manager", "issuerRef": {"name": "ca"}});
            merge(&mut t, &extra);
            spec(json!({ "tls": t }))
        };
        let es = |extra: Value| {
            let mut e = json!({"enabled": true, "secretStoreRef": {"name": "vault"}, "data": [{"secretKey": "tls.crt", "remoteRef": {"key": "neo4j/tls"}}]});
            merge(&mut e, &extra);
            cm(json!({ "externalSecrets": e }))
        };
        let oidc_ok = json!({"audience": "neo4j", "wellKnownDiscoveryURI": "https://idp.example.com/.well-known/openid-configuration"});
        let ldap = |extra: Value| {
            let mut l = json!({"host": "ldaps://ldap.example.com:636"});
            merge(&mut l, &extra);
            spec(json!({"auth": {"ldap": l}}))
        };
        let config = |key: &str, value: &str| spec(json!({"config": {key: value}}));
        let env = |name: &str, value: &str| spec(json!({"env": [{"name": name, "value": value}]}));
        let mcp = |m: Value| spec(json!({ "mcp": m }));
        let fleet = |f: Value| spec(json!({ "auraFleetManagement": f }));
        let mount =
            |path: &str| spec(json!({"extraVolumeMounts": [{"name": "extra", "mountPath": path}]}));
        let usages = |n: usize| {
            let mut u = vec!["server auth".to_string(), "client auth".to_string()];
            u.extend(std::iter::repeat_n("digital signature".to_string(), n - 2));
            u
        };
        vec![
            // Identity and licence.
            case(
                Both,
                "name-dns1035-label",
                json!({"metadata": {"name": "Graph.prod"}}),
                &["name-dns1035-label"],
                &[],
            ),
            case(
                Both,
                "name-dns1035-label",
                json!({"metadata": {"name": "1graph"}}),
                &["name-dns1035-label"],
                &[],
            ),
            case(
                Both,
                "name-dns1035-label",
                json!({"metadata": {"name": "graph-1"}}),
                &[],
                &[],
            ),
            case(
                Cluster,
                "cluster-name-max-45",
                json!({"metadata": {"name": long(46)}}),
                &["cluster-name-max-45"],
                &[],
            ),
            case(
                Cluster,
                "cluster-name-max-45",
                json!({"metadata": {"name": long(45)}}),
                &[],
                &[],
            ),
            case(
                Cluster,
                "cluster-name-max-length",
                json!({"metadata": {"name": long(57)}}),
                &["cluster-name-max-length", "cluster-name-max-45"],
                &[],
            ),
            case(
                Cluster,
                "cluster-name-max-length",
                json!({"metadata": {"name": long(56)}}),
                &["cluster-name-max-45"],
                &[],
            ),
            case(
                Standalone,
                "standalone-name-max-52",
                json!({"metadata": {"name": long(53)}}),
                &["standalone-name-max-52"],
                &[],
            ),
            case(
                Standalone,
                "standalone-name-max-52",
                json!({"metadata": {"name": long(52)}}),
                &[],
                &[],
            ),
            case(
                Standalone,
                "standalone-name-max-length",
                json!({"metadata": {"name": long(64)}}),
                &["standalone-name-max-length", "standalone-name-max-52"],
                &[],
            ),
            case(
                Standalone,
                "standalone-name-max-length",
                json!({"metadata": {"name": long(63)}}),
                &["standalone-name-max-52"],
                &[],
            ),
            case(
                Both,
                "license-required",
                spec(json!({"acceptLicenseAgreement": null})),
                &["license-required"],
                &[],
            ),
            case(
                Both,
                "license-required",
                spec(json!({"acceptLicenseAgreement": ""})),
                &["license-required"],
                &[],
            ),
            case(
                Both,
                "license-required",
                spec(json!({"acceptLicenseAgreement": "eval"})),
                &[],
                &[],
            ),
            case(
                Both,
                "license-value",
                spec(json!({"acceptLicenseAgreement": "YES"})),
                &["license-value"],
                &[],
            ),
            case(
                Both,
                "license-value",
                spec(json!({"acceptLicenseAgreement": "yes"})),
                &[],
                &[],
            ),
            // Image.
            case(
                Both,
                "image-repo-required",
                spec(json!({"image": {"repo": ""}})),
                &["image-repo-required"],
                &[],
            ),
            case(
                Both,
                "image-repo-required",
                spec(json!({"image": {"repo": "registry.example.com/neo4j"}})),
                &[],
                &[],
            ),
            case(
                Cluster,
                "image-tag-required",
                spec(json!({"image": {"tag": ""}})),
                &["image-tag-required"],
                &[],
            ),
            case(
                Standalone,
                "image-tag-required",
                spec(json!({"image": {"tag": ""}})),
                &["image-tag-required", "image-version-supported"],
                &[],
            ),
            case(
                Both,
                "image-tag-required",
                spec(json!({"image": {"tag": "5.26"}})),
                &[],
                &[],
            ),
            case(
                Both,
                "image-version-supported",
                spec(json!({"image": {"tag": "5.25.1"}})),
                &["image-version-supported"],
                &[],
            ),
            case(
                Both,
                "image-version-supported",
                spec(json!({"image": {"tag": "latest"}})),
                &["image-version-supported"],
                &[],
            ),
            case(
                Both,
                "image-version-supported",
                spec(json!({"image": {"tag": "2024.12.0"}})),
                &["image-version-supported"],
                &[],
            ),
            case(
                Both,
                "image-version-supported",
                spec(json!({"image": {"tag": "2025.10.1-enterprise"}})),
                &[],
                &[],
            ),
            case(
                Cluster,
                "image-community-tag",
                spec(json!({"image": {"tag": "5.26.0-Community"}})),
                &["image-community-tag"],
                &[],
            ),
            case(
                Cluster,
                "image-community-tag",
                spec(json!({"image": {"tag": "5.26.0"}})),
                &[],
                &[],
            ),
            case(
                Standalone,
                "standalone-image-community",
                spec(json!({"image": {"tag": "5.26.0-community"}})),
                &["standalone-image-community"],
                &[],
            ),
            case(
                Standalone,
                "standalone-image-community",
                spec(json!({"image": {"tag": "5.26.0"}})),
                &[],
                &[],
            ),
            case(
                Cluster,
                "image-pull-policy",
                spec(json!({"image": {"pullPolicy": "always"}})),
                &["image-pull-policy"],
                &[],
            ),
            case(
                Cluster,
                "image-pull-policy",
                spec(json!({"image": {"pullPolicy": "Always"}})),
                &[],
                &[],
            ),
            case(
                Standalone,
                "standalone-image-pull-policy",
                spec(json!({"image": {"pullPolicy": "Sometimes"}})),
                &["standalone-image-pull-policy"],
                &[],
            ),
            case(
                Standalone,
                "standalone-image-pull-policy",
                spec(json!({"image": {"pullPolicy": "Never"}})),
                &[],
                &[],
            ),
            case(
                Both,
                "image-tag-label-safe",
                spec(json!({"image": {"tag": "5.26.0@sha256:abcdef"}})),
                &["image-tag-label-safe"],
                &[],
            ),
            case(
                Both,
                "image-tag-label-safe",
                spec(json!({"image": {"tag": format!("5.26.0-{}", long(57))}})),
                &["image-tag-label-safe"],
                &[],
            ),
            case(
                Both,
                "image-tag-label-safe",
                spec(json!({"image": {"tag": format!("5.26.0-{}", long(56))}})),
                &[],
                &[],
            ),
            // Storage.
            case(
                Both,
                "storage-size-required",
                spec(json!({"storage": {"size": ""}})),
                &["storage-size-required"],
                &[],
            ),
            case(
                Both,
                "storage-size-required",
                spec(json!({"storage": {"size": "1Ti"}})),
                &[],
                &[],
            ),
            case(
                Cluster,
                "storage-size-format",
                spec(json!({"storage": {"size": "1.5Gi"}})),
                &["storage-size-format"],
                &[],
            ),
            case(
                Cluster,
                "storage-size-format",
                spec(json!({"storage": {"size": "100k"}})),
                &["storage-size-format"],
                &[],
            ),
            case(
                Both,
                "storage-size-format",
                spec(json!({"storage": {"size": "500M"}})),
                &[],
                &[],
            ),
            case(
                Standalone,
                "storage-size-format",
                spec(json!({"storage": {"size": "1.5Gi"}})),
                &[],
                &[],
            ),
            case(
                Both,
                "storage-size-quantity",
                spec(json!({"storage": {"size": "0"}})),
                &["storage-size-quantity"],
                &[],
            ),
            case(
                Standalone,
                "storage-size-quantity",
                spec(json!({"storage": {"size": "ten gigs"}})),
                &["storage-size-quantity"],
                &[],
            ),
            case(
                Both,
                "storage-size-quantity",
                spec(json!({"storage": {"size": "1"}})),
                &[],
                &[],
            ),
            case(
                Both,
                "storage-retention-enum",
                spec(json!({"storage": {"retentionPolicy": "Keep"}})),
                &["storage-retention-enum"],
                &[],
            ),
            case(
                Both,
                "storage-retention-enum",
                spec(json!({"storage": {"retentionPolicy": "Retain"}})),
                &[],
                &[],
            ),
            // TLS.
            case(
                Both,
                "tls-mode-enum",
                spec(json!({"tls": {"mode": "manual"}})),
                &["tls-mode-enum"],
                &[],
            ),
            case(
                Both,
                "tls-mode-enum",
                spec(json!({"tls": {"mode": "disabled"}})),
                &[],
                &[],
            ),
            case(
                Both,
                "tls-issuer-ref-required",
                spec(json!({"tls": {}})),
                &["tls-issuer-ref-required"],
                &[],
            ),
            case(Both, "tls-issuer-ref-required", cm(json!({})), &[], &[]),
            case(
                Both,
                "tls-issuer-name-required",
                cm(json!({"issuerRef": {"name": ""}})),
                &["tls-issuer-name-required"],
                &[],
            ),
            case(
                Both,
                "tls-issuer-name-required",
                cm(
                    json!({"issuerRef": {"name": "vault-issuer", "kind": "VaultIssuer", "group": "example.com"}}),
                ),
                &[],
                &[],
            ),
            case(
                Both,
                "tls-duration-format",
                cm(json!({"duration": "90d"})),
                &["tls-duration-format"],
                &[],
            ),
            case(
                Both,
                "tls-duration-format",
                cm(json!({"duration": "2160h"})),
                &[],
                &[],
            ),
            case(
                Both,
                "tls-duration-format",
                spec(json!({"tls": {"mode": "disabled", "duration": "90d"}})),
                &[],
                &[],
            ),
            case(
                Both,
                "tls-renew-before-format",
                cm(json!({"renewBefore": "1 day"})),
                &["tls-renew-before-format"],
                &[],
            ),
            case(
                Both,
                "tls-renew-before-format",
                cm(json!({"renewBefore": "360h"})),
                &[],
                &[],
            ),
            case(
                Both,
                "tls-cert-duration-bounds",
                cm(json!({"duration": "30m"})),
                &["tls-cert-duration-bounds"],
                &[],
            ),
            case(
                Both,
                "tls-cert-duration-bounds",
                cm(json!({"duration": "-2h"})),
                &["tls-cert-duration-bounds"],
                &[],
            ),
            case(
                Both,
                "tls-cert-duration-bounds",
                cm(json!({"renewBefore": "-1h"})),
                &["tls-cert-duration-bounds"],
                &[],
            ),
            case(
                Both,
                "tls-cert-duration-bounds",
                cm(json!({"renewBefore": "3000h"})),
                &["tls-cert-duration-bounds"],
                &[],
            ),
            case(
                Both,
                "tls-cert-duration-bounds",
                cm(json!({"duration": "24h", "renewBefore": "24h"})),
                &["tls-cert-duration-bounds"],
                &[],
            ),
            case(
                Both,
                "tls-cert-duration-bounds",
                cm(json!({"duration": "1h", "renewBefore": "30m"})),
                &[],
                &[],
            ),
            case(
                Both,
                "tls-usage-enum",
                cm(json!({"usages": ["server auth", "client auth", "Server Auth"]})),
                &["tls-usage-enum"],
                &[],
            ),
            case(
                Both,
                "tls-usage-enum",
                spec(
                    json!({"tls": {"mode": "disabled", "usages": ["server auth", "client auth", "Server Auth"]}}),
                ),
                &[],
                &[],
            ),
            case(
                Both,
                "tls-usages-required-ekus",
                cm(json!({"usages": ["server auth"]})),
                &["tls-usages-required-ekus"],
                &[],
            ),
            case(
                Both,
                "tls-usages-required-ekus",
                cm(json!({"usages": ["digital signature"]})),
                &["tls-usages-required-ekus", "tls-usages-required-ekus"],
                &[],
            ),
            case(
                Both,
                "tls-usages-required-ekus",
                spec(json!({"tls": {"mode": "disabled", "usages": ["client auth"]}})),
                &["tls-usages-required-ekus"],
                &[],
            ),
            case(
                Both,
                "tls-usages-required-ekus",
                cm(json!({"usages": []})),
                &[],
                &[],
            ),
            case(
                Both,
                "tls-usages-required-ekus",
                cm(json!({"usages": ["client auth", "server auth", "key encipherment"]})),
                &[],
                &[],
            ),
            case(
                Both,
                "tls-usages-bounds",
                cm(json!({ "usages": usages(33) })),
                &["tls-usages-bounds"],
                &[],
            ),
            case(
                Both,
                "tls-usages-bounds",
                spec(
                    json!({"tls": {"mode": "disabled", "usages": ["server auth", "client auth", long(65)]}}),
                ),
                &["tls-usages-bounds"],
                &[],
            ),
            case(
                Both,
                "tls-usages-bounds",
                cm(json!({ "usages": usages(32) })),
                &[],
                &[],
            ),
            case(
                Cluster,
                "tls-es-store-required",
                es(json!({"secretStoreRef": null})),
                &["tls-es-store-required"],
                FNI,
            ),
            case(
                Standalone,
                "tls-es-store-required",
                es(json!({"secretStoreRef": null})),
                &[],
                FNI,
            ),
            case(Cluster, "tls-es-store-required", es(json!({})), &[], FNI),
            case(
                Cluster,
                "tls-es-store-name",
                es(json!({"secretStoreRef": {"name": ""}})),
                &["tls-es-store-name"],
                FNI,
            ),
            case(
                Cluster,
                "tls-es-store-name",
                es(json!({"secretStoreRef": {"name": "vault"}})),
                &[],
                FNI,
            ),
            case(
                Cluster,
                "tls-es-store-kind",
                es(json!({"secretStoreRef": {"kind": "Vault"}})),
                &["tls-es-store-kind"],
                FNI,
            ),
            case(
                Cluster,
                "tls-es-store-kind",
                es(json!({"secretStoreRef": {"kind": "ClusterSecretStore"}})),
                &[],
                FNI,
            ),
            case(
                Cluster,
                "tls-es-refresh-format",
                es(json!({"refreshInterval": "1d"})),
                &["tls-es-refresh-format"],
                FNI,
            ),
            case(
                Cluster,
                "tls-es-refresh-format",
                es(json!({"refreshInterval": "0"})),
                &[],
                FNI,
            ),
            case(
                Cluster,
                "tls-es-data-required",
                es(json!({"data": []})),
                &["tls-es-data-required"],
                FNI,
            ),
            case(
                Cluster,
                "tls-es-data-required",
                cm(json!({"externalSecrets": {"enabled": false}})),
                &[],
                &[],
            ),
            case(
                Cluster,
                "tls-es-secret-key",
                es(json!({"data": [{"secretKey": ""}]})),
                &["tls-es-secret-key"],
                FNI,
            ),
            case(
                Cluster,
                "tls-es-secret-key",
                es(json!({"data": [{"secretKey": "ca.crt"}]})),
                &[],
                FNI,
            ),
            case(
                Cluster,
                "tls-es-remote-key",
                es(json!({"data": [{"secretKey": "a", "remoteRef": {"key": ""}}]})),
                &["tls-es-remote-key"],
                FNI,
            ),
            case(
                Cluster,
                "tls-es-remote-key",
                es(
                    json!({"data": [{"secretKey": "a", "remoteRef": {"key": "k", "property": "p"}}]}),
                ),
                &[],
                FNI,
            ),
            // Auth.
            case(
                Both,
                "auth-provider-allowed",
                spec(json!({"auth": {"authenticationProviders": ["native", "kerbros"]}})),
                &["auth-provider-allowed"],
                &[],
            ),
            case(
                Both,
                "auth-provider-allowed",
                spec(json!({"auth": {"authorizationProviders": ["LDAP"]}})),
                &["auth-provider-allowed"],
                &[],
            ),
            case(
                Both,
                "auth-provider-allowed",
                spec(json!({"auth": {"authenticationProviders": ["ldap", "native"]}})),
                &[],
                &[],
            ),
            case(
                Both,
                "auth-provider-neo4j-names",
                spec(json!({"auth": {"authenticationProviders": ["jwt"]}})),
                &["auth-provider-neo4j-names"],
                &[],
            ),
            case(
                Both,
                "auth-provider-neo4j-names",
                spec(json!({"auth": {"authorizationProviders": ["native", "kerberos"]}})),
                &["auth-provider-neo4j-names"],
                &[],
            ),
            case(
                Both,
                "auth-provider-neo4j-names",
                spec(json!({"auth": {"authenticationProviders": ["plugin-"]}})),
                &["auth-provider-neo4j-names"],
                &[],
            ),
            case(
                Both,
                "auth-provider-neo4j-names",
                spec(
                    json!({"auth": {"authenticationProviders": ["plugin-Neo4jKerberosAuthPlugin", "native"]}}),
                ),
                &[],
                &[],
            ),
            case(
                Both,
                "auth-oidc-ref-exists",
                spec(json!({"auth": {"authenticationProviders": ["oidc-okta", "native"]}})),
                &["auth-oidc-ref-exists"],
                &[],
            ),
            case(
                Both,
                "auth-oidc-ref-exists",
                spec(
                    json!({"auth": {"authenticationProviders": ["oidc-okta"], "authorizationProviders": ["oidc-okta"], "oidc": {"okta": oidc_ok.clone()}}}),
                ),
                &[],
                FNI,
            ),
            case(
                Both,
                "auth-ldap-host-required",
                ldap(json!({"host": ""})),
                &["auth-ldap-host-required"],
                FNI,
            ),
            case(Both, "auth-ldap-host-required", ldap(json!({})), &[], FNI),
            case(
                Both,
                "auth-ldap-system-account",
                ldap(json!({"authorization": {"useSystemAccount": true}})),
                &["auth-ldap-system-account"],
                FNI,
            ),
            case(
                Both,
                "auth-ldap-system-account",
                ldap(
                    json!({"authorization": {"useSystemAccount": true, "systemAccountSecretRef": "ldap-system"}}),
                ),
                &[],
                FNI,
            ),
            case(
                Both,
                "auth-ldap-system-account",
                ldap(json!({"authorization": {"useSystemAccount": false}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "auth-oidc-provider-name",
                spec(json!({"auth": {"oidc": {"1okta": oidc_ok.clone()}}})),
                &["auth-oidc-provider-name"],
                FNI,
            ),
            case(
                Both,
                "auth-oidc-provider-name",
                spec(json!({"auth": {"oidc": {"okta.eu": oidc_ok.clone()}}})),
                &["auth-oidc-provider-name"],
                FNI,
            ),
            case(
                Both,
                "auth-oidc-provider-name",
                spec(json!({"auth": {"oidc": {"okta-2": oidc_ok.clone()}}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "auth-oidc-audience",
                spec(
                    json!({"auth": {"oidc": {"okta": {"audience": " ", "issuer": "https://idp"}}}}),
                ),
                &["auth-oidc-audience"],
                FNI,
            ),
            case(
                Both,
                "auth-oidc-audience",
                spec(
                    json!({"auth": {"oidc": {"okta": {"audience": "neo4j", "issuer": "https://idp"}}}}),
                ),
                &[],
                FNI,
            ),
            case(
                Both,
                "auth-oidc-endpoints",
                spec(json!({"auth": {"oidc": {"okta": {"audience": "neo4j"}}}})),
                &["auth-oidc-endpoints"],
                FNI,
            ),
            case(
                Both,
                "auth-oidc-endpoints",
                spec(
                    json!({"auth": {"oidc": {"okta": {"audience": "neo4j", "jwksURI": "https://idp/jwks"}}}}),
                ),
                &[],
                FNI,
            ),
            case(
                Both,
                "auth-oidc-auth-flow",
                spec(
                    json!({"auth": {"oidc": {"okta": {"audience": "a", "issuer": "i", "authFlow": "code"}}}}),
                ),
                &["auth-oidc-auth-flow"],
                FNI,
            ),
            case(
                Both,
                "auth-oidc-auth-flow",
                spec(
                    json!({"auth": {"oidc": {"okta": {"audience": "a", "issuer": "i", "authFlow": "implicit"}}}}),
                ),
                &[],
                FNI,
            ),
            case(
                Both,
                "auth-truststore-name",
                spec(json!({"auth": {"trustStore": {"name": ""}}})),
                &["auth-truststore-name"],
                &[],
            ),
            case(
                Both,
                "auth-truststore-name",
                spec(json!({"auth": {"trustStore": {"name": "ldap-ca", "key": "ca.crt"}}})),
                &[],
                &[],
            ),
            case(
                Both,
                "typed-conf-fields-single-line",
                spec(json!({"auth": {"authCacheTTL": "10m\ndbms.security.auth_enabled=false"}})),
                &["typed-conf-fields-single-line"],
                &[],
            ),
            case(
                Both,
                "typed-conf-fields-single-line",
                ldap(json!({"authorization": {"groupToRoleMapping": {"cn=admins": "admin\r"}}})),
                &["typed-conf-fields-single-line"],
                FNI,
            ),
            case(
                Both,
                "typed-conf-fields-single-line",
                spec(
                    json!({"auth": {"oidc": {"okta": {"audience": "a", "issuer": "i", "claims": {"groups": "groups\u{1b}"}}}}}),
                ),
                &["typed-conf-fields-single-line"],
                FNI,
            ),
            case(
                Both,
                "typed-conf-fields-single-line",
                spec(json!({"monitoring": {"metricsPrefix": "neo4j\nx"}})),
                &["typed-conf-fields-single-line"],
                &[],
            ),
            case(
                Both,
                "typed-conf-fields-single-line",
                spec(
                    json!({"auth": {"authCacheTTL": "10m"}, "monitoring": {"metricsFilter": "*bolt*\t"}}),
                ),
                &[],
                &[],
            ),
            // spec.config.
            case(
                Both,
                "config-value-control-chars",
                config(
                    "dbms.logs.debug.level",
                    "DEBUG\ndbms.security.auth_enabled=false",
                ),
                &["config-value-control-chars"],
                &[],
            ),
            case(
                Both,
                "config-value-control-chars",
                config("dbms.logs.debug.level", "DEBUG"),
                &[],
                &[],
            ),
            case(
                Both,
                "config-value-controls",
                config("dbms.logs.debug.level", "DEBUG\u{7}"),
                &["config-value-controls"],
                &[],
            ),
            case(
                Both,
                "config-value-controls",
                config("server.jvm.additional", "-Dx=a\tb"),
                &[],
                &[],
            ),
            case(
                Both,
                "config-key-charset",
                config("a=b", "c"),
                &["config-key-charset"],
                &[],
            ),
            case(
                Both,
                "config-key-charset",
                config("dbms.x\nserver.y", "1"),
                &["config-key-charset"],
                &[],
            ),
            case(
                Both,
                "config-key-charset",
                config("dbms.logs.debug-level_x", "1"),
                &[],
                &[],
            ),
            case(
                Cluster,
                "config-discovery-version",
                config("dbms.cluster.discovery.version", "V1"),
                &["config-discovery-version"],
                &[],
            ),
            case(
                Cluster,
                "config-discovery-version",
                config("dbms.cluster.discovery.version", "V2_ONLY"),
                &[],
                &[],
            ),
            case(
                Cluster,
                "config-discovery-version-semver-only",
                json!({"spec": {"image": {"tag": "2025.01.0"}, "config": {"dbms.cluster.discovery.version": "V2_ONLY"}}}),
                &["config-discovery-version-semver-only"],
                &[],
            ),
            case(
                Cluster,
                "config-discovery-version-semver-only",
                json!({"spec": {"image": {"tag": "5.26.3"}, "config": {"dbms.cluster.discovery.version": "V2_ONLY"}}}),
                &[],
                &[],
            ),
            case(
                Cluster,
                "config-deprecated-key",
                config("dbms.logs.query.enabled", "true"),
                &["config-deprecated-key"],
                &[],
            ),
            case(
                Standalone,
                "config-deprecated-key",
                config("dbms.default_database", "movies"),
                &[],
                &[],
            ),
            case(
                Cluster,
                "config-deprecated-key",
                config("db.logs.query.enabled", "INFO"),
                &[],
                &[],
            ),
            case(
                Cluster,
                "config-discovery-managed",
                config("dbms.cluster.endpoints", "a:6000"),
                &["config-discovery-managed"],
                &[],
            ),
            case(
                Standalone,
                "config-discovery-managed",
                config("dbms.kubernetes.label_selector", "a=b"),
                &[],
                &[],
            ),
            case(
                Cluster,
                "config-runtime-managed",
                config("initial.server.mode_constraint", "PRIMARY"),
                &["config-runtime-managed"],
                &[],
            ),
            case(
                Standalone,
                "config-runtime-managed",
                config("server.default_advertised_address", "x"),
                &[],
                &[],
            ),
            case(
                Both,
                "config-tls-managed",
                config("dbms.ssl.policy.bolt.enabled", "true"),
                &["config-tls-managed"],
                &[],
            ),
            case(
                Both,
                "config-tls-managed",
                config("server.bolt.tls_level", "OPTIONAL"),
                &["config-tls-managed"],
                &[],
            ),
            case(
                Both,
                "config-tls-managed",
                config("dbms.ssl.policyx", "1"),
                &[],
                &[],
            ),
            case(
                Both,
                "config-db-format",
                config("db.format", "block"),
                &["config-db-format"],
                &[],
            ),
            case(
                Both,
                "config-db-format",
                config("db.format.x", "block"),
                &[],
                &[],
            ),
            case(
                Cluster,
                "config-azure-blob-suffix",
                config(
                    "dbms.integrations.cloud_storage.azb.blob_endpoint_suffix",
                    "windows",
                ),
                &["config-azure-blob-suffix"],
                &[],
            ),
            case(
                Cluster,
                "config-azure-blob-suffix",
                config(
                    "dbms.integrations.cloud_storage.azb.blob_endpoint_suffix",
                    "core.windows.net",
                ),
                &[],
                &[],
            ),
            case(
                Standalone,
                "standalone-config-clustering",
                config("dbms.cluster.raft.listen_address", "0.0.0.0:7000"),
                &["standalone-config-clustering"],
                &[],
            ),
            case(
                Standalone,
                "standalone-config-clustering",
                config("dbms.cluster.discovery.version", "V2_ONLY"),
                &["standalone-config-clustering"],
                &[],
            ),
            case(
                Cluster,
                "standalone-config-clustering",
                config("dbms.cluster.raft.listen_address", "0.0.0.0:7000"),
                &[],
                &[],
            ),
            case(
                Standalone,
                "standalone-config-dbms-mode",
                config("dbms.mode", "SINGLE"),
                &["standalone-config-dbms-mode"],
                &[],
            ),
            case(
                Cluster,
                "standalone-config-dbms-mode",
                config("dbms.mode", "SINGLE"),
                &[],
                &[],
            ),
            // Env.
            case(
                Both,
                "env-no-neo4j-setting-override",
                env("NEO4J_db_format", "block"),
                &["env-no-neo4j-setting-override"],
                &[],
            ),
            case(
                Both,
                "env-no-neo4j-setting-override",
                env("NEO4J_AUTH", "neo4j/secret"),
                &["env-no-neo4j-setting-override"],
                &[],
            ),
            case(
                Both,
                "env-no-neo4j-setting-override",
                env("NEO4J_ACCEPT_LICENSE_AGREEMENT", "yes"),
                &["env-no-neo4j-setting-override"],
                &[],
            ),
            case(
                Both,
                "env-no-neo4j-setting-override",
                spec(
                    json!({"env": [{"name": "NEO4J_dbms_ssl_policy_bolt_enabled", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}),
                ),
                &["env-no-neo4j-setting-override"],
                &[],
            ),
            case(
                Cluster,
                "env-no-neo4j-setting-override",
                env("NEO4J_initial_server_mode__constraint", "PRIMARY"),
                &["env-no-neo4j-setting-override"],
                &[],
            ),
            case(
                Standalone,
                "env-no-neo4j-setting-override",
                env("NEO4J_initial_server_mode__constraint", "PRIMARY"),
                &[],
                &[],
            ),
            case(
                Both,
                "env-no-neo4j-setting-override",
                env("NEO4J_dbms_logs_debug_level", "DEBUG\nx=y"),
                &["env-no-neo4j-setting-override"],
                &[],
            ),
            case(
                Both,
                "env-no-neo4j-setting-override",
                env("NEO4J_server_jvm_additional", "-Xss2m"),
                &[],
                &[],
            ),
            case(
                Both,
                "env-no-neo4j-setting-override",
                env("JAVA_OPTS", "-Dneo4j"),
                &[],
                &[],
            ),
            // Resources.
            case(
                Both,
                "resources-request-le-limit",
                spec(
                    json!({"resources": {"requests": {"memory": "4Gi"}, "limits": {"memory": "2Gi"}}}),
                ),
                &["resources-request-le-limit"],
                &[],
            ),
            case(
                Both,
                "resources-request-le-limit",
                spec(json!({"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1500m"}}})),
                &["resources-request-le-limit"],
                &[],
            ),
            case(
                Both,
                "resources-request-le-limit",
                spec(
                    json!({"resources": {"requests": {"memory": "2Gi", "cpu": "1"}, "limits": {"memory": "2Gi", "cpu": "1000m"}}}),
                ),
                &[],
                &[],
            ),
            case(
                Both,
                "resources-quantity-format",
                spec(json!({"resources": {"limits": {"memory": "lots"}}})),
                &["resources-quantity-format"],
                &[],
            ),
            case(
                Both,
                "resources-quantity-format",
                spec(json!({"resources": {"limits": {"memory": "2Gi", "nvidia.com/gpu": "1"}}})),
                &[],
                &[],
            ),
            // MCP.
            case(
                Both,
                "mcp-transport-enum",
                mcp(json!({"enabled": true, "transport": "grpc"})),
                &["mcp-transport-enum"],
                FNI,
            ),
            case(
                Both,
                "mcp-transport-enum",
                mcp(json!({"enabled": false, "transport": "grpc"})),
                &[],
                &[],
            ),
            case(
                Both,
                "mcp-transport-enum",
                mcp(json!({"enabled": true, "transport": "stdio"})),
                &[],
                FNI,
            ),
            case(
                Both,
                "mcp-http-port-range",
                mcp(json!({"enabled": true, "http": {"port": 70000}})),
                &["mcp-http-port-range"],
                FNI,
            ),
            case(
                Both,
                "mcp-http-port-range",
                mcp(json!({"enabled": true, "http": {"port": 0}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "mcp-http-port-range",
                mcp(json!({"enabled": true, "transport": "stdio", "http": {"port": -1}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "mcp-http-tls-secret",
                mcp(json!({"enabled": true, "http": {"tls": {"secretName": ""}}})),
                &["mcp-http-tls-secret"],
                FNI,
            ),
            case(
                Both,
                "mcp-http-tls-secret",
                mcp(json!({"enabled": true, "http": {"tls": {"secretName": "mcp-tls"}}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "mcp-service-port-range",
                mcp(json!({"enabled": true, "http": {"service": {"port": -1}}})),
                &["mcp-service-port-range"],
                FNI,
            ),
            case(
                Both,
                "mcp-service-port-range",
                mcp(json!({"enabled": true, "http": {"service": {"port": 65535}}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "mcp-auth-secret",
                mcp(json!({"enabled": true, "transport": "stdio", "auth": {}})),
                &["mcp-auth-secret"],
                FNI,
            ),
            case(
                Both,
                "mcp-auth-secret",
                mcp(json!({"enabled": true, "transport": "stdio", "auth": {"secretName": "mcp"}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "mcp-crd-bounds",
                mcp(json!({"schemaSampleSize": -2})),
                &["mcp-crd-bounds"],
                &[],
            ),
            case(
                Both,
                "mcp-crd-bounds",
                mcp(json!({"logLevel": "trace", "logFormat": "xml"})),
                &["mcp-crd-bounds", "mcp-crd-bounds"],
                &[],
            ),
            case(
                Both,
                "mcp-crd-bounds",
                mcp(
                    json!({"http": {"service": {"type": "Ingress", "externalTrafficPolicy": "Local"}}}),
                ),
                &["mcp-crd-bounds"],
                &[],
            ),
            case(
                Both,
                "mcp-crd-bounds",
                mcp(json!({"schemaSampleSize": -1, "logLevel": "notice", "logFormat": "json"})),
                &[],
                &[],
            ),
            // Aura Fleet Management.
            case(
                Both,
                "fleet-token-secret-name",
                fleet(json!({"tokenSecretRef": {"name": ""}})),
                &["fleet-token-secret-name"],
                &[],
            ),
            case(
                Both,
                "fleet-token-secret-name",
                fleet(json!({"enabled": true, "tokenSecretRef": {"name": "fleet-token"}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "fleet-provision-xor-token",
                fleet(
                    json!({"tokenSecretRef": {"name": "t"}, "provision": {"providerConfigRef": {"name": "aura"}}}),
                ),
                &["fleet-provision-xor-token"],
                &[],
            ),
            case(
                Both,
                "fleet-provision-xor-token",
                fleet(json!({"provision": {"providerConfigRef": {"name": "aura"}}})),
                &[],
                &[],
            ),
            case(
                Both,
                "fleet-provider-config-name",
                fleet(json!({"enabled": true, "provision": {"providerConfigRef": {"name": ""}}})),
                &[
                    "fleet-provider-config-name",
                    "fleet-org-project-required",
                    "fleet-org-project-required",
                ],
                FNI,
            ),
            case(
                Both,
                "fleet-provider-config-name",
                fleet(json!({"provision": {"providerConfigRef": {"name": ""}}})),
                &[],
                &[],
            ),
            case(
                Both,
                "fleet-credentials-secret-name",
                fleet(json!({"provision": {"credentialsSecretRef": {"name": ""}}})),
                &["fleet-credentials-secret-name"],
                &[],
            ),
            case(
                Both,
                "fleet-credentials-secret-name",
                fleet(json!({"provision": {"credentialsSecretRef": {"name": "aura-api"}}})),
                &[],
                &[],
            ),
            case(
                Both,
                "fleet-credentials-exactly-one",
                fleet(json!({"provision": {"organizationId": "o"}})),
                &["fleet-credentials-exactly-one"],
                &[],
            ),
            case(
                Both,
                "fleet-credentials-exactly-one",
                fleet(
                    json!({"provision": {"providerConfigRef": {"name": "aura"}, "credentialsSecretRef": {"name": "c"}}}),
                ),
                &["fleet-credentials-exactly-one"],
                &[],
            ),
            case(
                Both,
                "fleet-credentials-exactly-one",
                fleet(json!({"provision": {"credentialsSecretRef": {"name": "c"}}})),
                &[],
                &[],
            ),
            case(
                Both,
                "fleet-deployment-name-length",
                fleet(
                    json!({"provision": {"providerConfigRef": {"name": "aura"}, "deploymentName": long(31)}}),
                ),
                &["fleet-deployment-name-length"],
                &[],
            ),
            case(
                Both,
                "fleet-deployment-name-length",
                fleet(
                    json!({"provision": {"providerConfigRef": {"name": "aura"}, "deploymentName": long(30)}}),
                ),
                &[],
                &[],
            ),
            case(
                Both,
                "fleet-org-project-required",
                fleet(
                    json!({"enabled": true, "provision": {"credentialsSecretRef": {"name": "c"}, "organizationId": "o"}}),
                ),
                &["fleet-org-project-required"],
                FNI,
            ),
            case(
                Both,
                "fleet-org-project-required",
                fleet(
                    json!({"enabled": true, "provision": {"credentialsSecretRef": {"name": "c"}, "organizationId": "o", "projectId": "p"}}),
                ),
                &[],
                FNI,
            ),
            case(
                Both,
                "fleet-org-project-required",
                fleet(
                    json!({"enabled": true, "provision": {"providerConfigRef": {"name": "aura"}}}),
                ),
                &[],
                FNI,
            ),
            case(
                Both,
                "fleet-crd-enums",
                fleet(
                    json!({"provision": {"providerConfigRef": {"name": "aura"}, "tokenPolicy": "Never"}}),
                ),
                &["fleet-crd-enums"],
                &[],
            ),
            case(
                Both,
                "fleet-crd-enums",
                fleet(
                    json!({"provision": {"providerConfigRef": {"name": "aura"}, "managementPolicies": ["Observe", "Update"]}}),
                ),
                &["fleet-crd-enums"],
                &[],
            ),
            case(
                Both,
                "fleet-crd-enums",
                fleet(
                    json!({"provision": {"providerConfigRef": {"name": "aura"}, "tokenPolicy": "Rotate", "deletionPolicy": "Delete", "managementPolicies": ["Observe", "Create"]}}),
                ),
                &[],
                &[],
            ),
            // Trusted CAs, extra volumes and mounts.
            case(
                Both,
                "trusted-ca-name-required",
                spec(json!({"trustedCASecrets": [{"name": ""}]})),
                &["trusted-ca-name-required"],
                &[],
            ),
            case(
                Both,
                "trusted-ca-name-required",
                spec(json!({"trustedCASecrets": [{"name": "corp-ca", "key": "ca.pem"}]})),
                &[],
                &[],
            ),
            case(
                Both,
                "trusted-ca-name-unique",
                spec(json!({"trustedCASecrets": [{"name": "a"}, {"name": "b"}, {"name": "a"}]})),
                &["trusted-ca-name-unique"],
                &[],
            ),
            case(
                Both,
                "trusted-ca-name-unique",
                spec(json!({"trustedCASecrets": [{"name": "a"}, {"name": "b"}]})),
                &[],
                &[],
            ),
            case(
                Both,
                "extra-volume-name-required",
                spec(json!({"extraVolumes": [{"name": "", "emptyDir": {}}]})),
                &["extra-volume-name-required"],
                &[],
            ),
            case(
                Both,
                "extra-volume-name-required",
                spec(json!({"extraVolumes": [{"name": "scratch", "emptyDir": {}}]})),
                &[],
                &[],
            ),
            case(
                Both,
                "extra-volume-name-unique",
                spec(
                    json!({"extraVolumes": [{"name": "x", "emptyDir": {}}, {"name": "x", "emptyDir": {}}]}),
                ),
                &["extra-volume-name-unique"],
                &[],
            ),
            case(
                Both,
                "extra-volume-name-unique",
                spec(
                    json!({"extraVolumes": [{"name": "x", "emptyDir": {}}, {"name": "y", "emptyDir": {}}]}),
                ),
                &[],
                &[],
            ),
            case(
                Both,
                "extra-volume-name-reserved",
                spec(
                    json!({"extraVolumes": [{"name": "plugins", "emptyDir": {}}, {"name": "trusted-ca-x", "emptyDir": {}}]}),
                ),
                &["extra-volume-name-reserved", "extra-volume-name-reserved"],
                &[],
            ),
            case(
                Both,
                "extra-volume-name-reserved",
                spec(json!({"extraVolumes": [{"name": "my-plugins", "emptyDir": {}}]})),
                &[],
                &[],
            ),
            case(
                Both,
                "extra-mount-name-required",
                spec(json!({"extraVolumeMounts": [{"name": "", "mountPath": "/extra"}]})),
                &["extra-mount-name-required"],
                &[],
            ),
            case(Both, "extra-mount-name-required", mount("/extra"), &[], &[]),
            case(
                Both,
                "extra-mount-path-required",
                mount(""),
                &["extra-mount-path-required"],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-required",
                mount("/import"),
                &[],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-reserved",
                mount("/data/"),
                &["extra-mount-path-reserved"],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-reserved",
                mount("/var/lib/neo4j/certificates"),
                &["extra-mount-path-reserved"],
                &[],
            ),
            case(Both, "extra-mount-path-reserved", mount("/data2"), &[], &[]),
            case(
                Both,
                "extra-mount-path-normalized",
                mount("//data"),
                &["extra-mount-path-normalized"],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-normalized",
                mount("/ssl/extra"),
                &["extra-mount-path-normalized"],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-normalized",
                mount("/var/lib/./neo4j/x/../conf"),
                &["extra-mount-path-normalized"],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-normalized",
                mount("/var/lib"),
                &["extra-mount-path-normalized"],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-normalized",
                mount("/"),
                &["extra-mount-path-normalized"],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-normalized",
                mount("/var/lib/neo4j/import"),
                &[],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-normalized",
                mount("/datastore/x"),
                &[],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-unique",
                spec(
                    json!({"extraVolumeMounts": [{"name": "a", "mountPath": "/x"}, {"name": "b", "mountPath": "/x/"}]}),
                ),
                &["extra-mount-path-unique"],
                &[],
            ),
            case(
                Both,
                "extra-mount-path-unique",
                spec(
                    json!({"extraVolumeMounts": [{"name": "a", "mountPath": "/x"}, {"name": "a", "mountPath": "/y"}]}),
                ),
                &[],
                &[],
            ),
            // Service, monitoring, upgrade strategy (U4–U6 on create).
            case(
                Both,
                "crd-service-enums",
                spec(json!({"service": {"type": "Ingress"}})),
                &["crd-service-enums"],
                &[],
            ),
            case(
                Both,
                "crd-service-enums",
                spec(json!({"service": {"externalTrafficPolicy": "Global"}})),
                &["crd-service-enums"],
                &[],
            ),
            case(
                Both,
                "crd-service-enums",
                spec(
                    json!({"service": {"route": {"tls": {"termination": "none", "insecureEdgeTerminationPolicy": "Deny"}}}}),
                ),
                &["crd-service-enums", "crd-service-enums"],
                &[],
            ),
            case(
                Both,
                "crd-service-enums",
                spec(
                    json!({"service": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "route": {"tls": {"termination": "edge"}}}}),
                ),
                &[],
                &[],
            ),
            case(
                Both,
                "crd-monitoring",
                spec(json!({"monitoring": {"queryLogLevel": "DEBUG"}})),
                &["crd-monitoring"],
                &[],
            ),
            case(
                Both,
                "crd-monitoring",
                spec(json!({"monitoring": {"sampling": {"rate": "1.5"}}})),
                &["crd-monitoring"],
                &[],
            ),
            case(
                Both,
                "crd-monitoring",
                spec(
                    json!({"monitoring": {"queryLogLevel": "VERBOSE", "sampling": {"rate": "0.25"}}}),
                ),
                &[],
                &[],
            ),
            case(
                Both,
                "upgrade-strategy-enum",
                spec(json!({"upgradeStrategy": {"strategy": "BlueGreen"}})),
                &["upgrade-strategy-enum"],
                &[],
            ),
            case(
                Both,
                "upgrade-strategy-enum",
                spec(json!({"upgradeStrategy": {"strategy": "Recreate"}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "upgrade-strategy-durations",
                spec(
                    json!({"upgradeStrategy": {"upgradeTimeout": "1d", "stabilizationTimeout": "x"}}),
                ),
                &["upgrade-strategy-durations", "upgrade-strategy-durations"],
                &[],
            ),
            case(
                Both,
                "upgrade-strategy-durations",
                spec(
                    json!({"upgradeStrategy": {"upgradeTimeout": "45m", "healthCheckTimeout": "90s"}}),
                ),
                &[],
                &[],
            ),
            case(
                Both,
                "upgrade-max-unavailable",
                spec(json!({"upgradeStrategy": {"maxUnavailableDuringUpgrade": -1}})),
                &["upgrade-max-unavailable"],
                &[],
            ),
            case(
                Both,
                "upgrade-max-unavailable",
                spec(json!({"upgradeStrategy": {"maxUnavailableDuringUpgrade": 0}})),
                &[],
                &[],
            ),
            // field-not-implemented.
            case(
                Both,
                "field-not-implemented",
                spec(json!({"networkPolicy": {"enabled": true}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "field-not-implemented",
                spec(json!({"audit": {"enabled": true}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "field-not-implemented",
                spec(json!({"upgradeStrategy": {"strategy": "Recreate"}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "field-not-implemented",
                spec(json!({"upgradeStrategy": {"strategy": "RollingUpgrade"}})),
                &[],
                &[],
            ),
            case(
                Both,
                "field-not-implemented",
                spec(
                    json!({"service": {"ingress": {"enabled": true, "host": "neo4j.example.com"}, "route": {"enabled": true, "host": "neo4j.apps.example.com"}}}),
                ),
                &[],
                &["field-not-implemented", "field-not-implemented"],
            ),
            case(
                Both,
                "field-not-implemented",
                spec(json!({"auth": {"externalSecrets": {"enabled": true}}})),
                &[],
                FNI,
            ),
            case(
                Both,
                "field-not-implemented",
                spec(
                    json!({"networkPolicy": {"enabled": false}, "audit": {"enabled": false}, "mcp": {"enabled": false}, "auth": {"oidc": {}}, "service": {"ingress": {"enabled": false}}}),
                ),
                &[],
                &[],
            ),
        ]
    }

    /// Every shared rule id with its own row(s) in [`shared_cases`].
    const SHARED_RULES: &[&str] = &[
        "name-dns1035-label",
        "cluster-name-max-45",
        "cluster-name-max-length",
        "standalone-name-max-52",
        "standalone-name-max-length",
        "license-required",
        "license-value",
        "image-repo-required",
        "image-tag-required",
        "image-version-supported",
        "image-community-tag",
        "standalone-image-community",
        "image-pull-policy",
        "standalone-image-pull-policy",
        "image-tag-label-safe",
        "storage-size-required",
        "storage-size-format",
        "storage-size-quantity",
        "storage-retention-enum",
        "tls-mode-enum",
        "tls-issuer-ref-required",
        "tls-issuer-name-required",
        "tls-duration-format",
        "tls-renew-before-format",
        "tls-cert-duration-bounds",
        "tls-usage-enum",
        "tls-usages-required-ekus",
        "tls-usages-bounds",
        "tls-es-store-required",
        "tls-es-store-name",
        "tls-es-store-kind",
        "tls-es-refresh-format",
        "tls-es-data-required",
        "tls-es-secret-key",
        "tls-es-remote-key",
        "auth-provider-allowed",
        "auth-provider-neo4j-names",
        "auth-oidc-ref-exists",
        "auth-ldap-host-required",
        "auth-ldap-system-account",
        "auth-oidc-provider-name",
        "auth-oidc-audience",
        "auth-oidc-endpoints",
        "auth-oidc-auth-flow",
        "auth-truststore-name",
        "typed-conf-fields-single-line",
        "config-value-control-chars",
        "config-value-controls",
        "config-key-charset",
        "config-discovery-version",
        "config-discovery-version-semver-only",
        "config-deprecated-key",
        "config-discovery-managed",
        "config-runtime-managed",
        "config-tls-managed",
        "config-db-format",
        "config-azure-blob-suffix",
        "standalone-config-clustering",
        "standalone-config-dbms-mode",
        "env-no-neo4j-setting-override",
        "resources-request-le-limit",
        "resources-quantity-format",
        "mcp-transport-enum",
        "mcp-http-port-range",
        "mcp-http-tls-secret",
        "mcp-service-port-range",
        "mcp-auth-secret",
        "mcp-crd-bounds",
        "fleet-token-secret-name",
        "fleet-provision-xor-token",
        "fleet-provider-config-name",
        "fleet-credentials-secret-name",
        "fleet-credentials-exactly-one",
        "fleet-deployment-name-length",
        "fleet-org-project-required",
        "fleet-crd-enums",
        "trusted-ca-name-required",
        "trusted-ca-name-unique",
        "extra-volume-name-required",
        "extra-volume-name-unique",
        "extra-volume-name-reserved",
        "extra-mount-name-required",
        "extra-mount-path-required",
        "extra-mount-path-reserved",
        "extra-mount-path-normalized",
        "extra-mount-path-unique",
        "crd-service-enums",
        "crd-monitoring",
        "upgrade-strategy-enum",
        "upgrade-strategy-durations",
        "upgrade-max-unavailable",
        "field-not-implemented",
    ];

    #[test]
    fn shared_rules_table() {
        run_create_table(&shared_cases());
    }

    #[test]
    fn every_shared_rule_has_a_hit_and_a_near_miss() {
        assert_covered(SHARED_RULES, &coverage_of(&shared_cases()));
    }

    /// `route-generated-host-fits`, checked in `cross` because it needs the namespace.
    #[test]
    fn route_host_must_fit_a_dns_label_when_generated() {
        let route =
            |host: Value| spec(json!({"service": {"route": {"enabled": true, "host": host}}}));
        let mcp_route = spec(
            json!({"mcp": {"enabled": true, "http": {"service": {"route": {"enabled": true}}}}}),
        );
        // `graph-client-route` is 18 characters, `graph-route` 11, `graph-mcp-route` 15.
        let cases: Vec<(On, Value, usize, &[&str])> = vec![
            (
                On::Cluster,
                route(Value::Null),
                45,
                &["route-generated-host-fits"],
            ),
            (On::Cluster, route(Value::Null), 44, &[]),
            (On::Cluster, route(json!("neo4j.apps.example.com")), 60, &[]),
            (
                On::Standalone,
                route(Value::Null),
                52,
                &["route-generated-host-fits"],
            ),
            (On::Standalone, route(Value::Null), 51, &[]),
            (
                On::Both,
                mcp_route.clone(),
                48,
                &["route-generated-host-fits"],
            ),
            (On::Both, mcp_route, 47, &[]),
        ];
        for (on, patch, ns_len, want) in cases {
            let ns = "n".repeat(ns_len);
            if on != On::Standalone {
                let v = validate::cluster::cross(&cluster_from(&patch), &ns, &NoInventory);
                assert_eq!(
                    v.error_rules(),
                    want.to_vec(),
                    "cluster {patch} in a {ns_len}-char namespace"
                );
            }
            if on != On::Cluster {
                let v = validate::standalone::cross(&standalone_from(&patch), &ns, &NoInventory);
                assert_eq!(
                    v.error_rules(),
                    want.to_vec(),
                    "standalone {patch} in a {ns_len}-char namespace"
                );
            }
        }
    }

    #[test]
    fn env_names_map_to_conf_keys_like_the_image() {
        assert_eq!(
            env_conf_key("NEO4J_server_memory_heap_max__size").as_deref(),
            Some("server.memory.heap.max_size")
        );
        assert_eq!(
            env_conf_key("NEO4J_db_format").as_deref(),
            Some("db.format")
        );
        assert_eq!(
            env_conf_key("NEO4J_dbms_security_procedures_unrestricted").as_deref(),
            Some("dbms.security.procedures.unrestricted")
        );
        assert_eq!(env_conf_key("JAVA_OPTS"), None);
    }

    #[test]
    fn mount_paths_normalize() {
        for (raw, want) in [
            ("//data", "/data"),
            ("/a/./b/../c/", "/a/c"),
            ("relative/x", "/relative/x"),
            ("/..", "/"),
            ("", "/"),
        ] {
            assert_eq!(normalize_mount_path(raw), want, "{raw}");
        }
    }

    #[test]
    fn messages_name_the_value_and_paths_use_brackets() {
        let c = cluster_from(&spec(
            json!({"config": {"db.format": "block"}, "extraVolumes": [{"name": "x"}, {"name": "x"}]}),
        ));
        let v = validate::cluster::create(&c);
        let fields: Vec<_> = v.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["spec.config[db.format]", "spec.extraVolumes[1].name"]
        );
        assert!(
            v.errors[1].message.contains("already used at index 0"),
            "{}",
            v.errors[1].message
        );
    }
}
