//! Rules shared by Neo4jEnterpriseCluster and Neo4jEnterpriseStandalone (`api/RULES.md` §1, §3,
//! §7): one short function per rule group, each taking the sub-structs it reads and, where the
//! rule differs by kind, an [`InstanceKind`]. `cluster.rs` and `standalone.rs` call them in the
//! reference's order and add what only their kind has.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use regex::Regex;

use super::{DNS1035_LABEL, has_control_chars, item_path, key_path, regex, shown};
use crate::engine::InstanceKind;
use crate::names::{CLUSTER_NAME_MAX, ClusterNames, STANDALONE_NAME_MAX, StandaloneNames};
use crate::types::*;
use crate::units::{go_duration_seconds, quantity, quantity_bytes};
use crate::verdict::Verdict;
use crate::version::{Neo4jVersion, parse_tag};

/// The reference's generated-name allowance: 56 for a cluster, 63 for a standalone (rules 1, 2).
const CLUSTER_NAME_REFERENCE_MAX: usize = 56;
const STANDALONE_NAME_REFERENCE_MAX: usize = 63;
/// A DNS label, the first label of an OpenShift generated Route host.
const DNS_LABEL_MAX: usize = 63;
/// Certificate lifetime cert-manager uses when `duration` is unset.
const CERT_MANAGER_DEFAULT_DURATION_SECS: f64 = 2160.0 * 3600.0;

static STORAGE_SIZE: LazyLock<Regex> = LazyLock::new(|| regex(r"^\d+([KMGT]i?)?$"));
static IMAGE_TAG_LABEL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$"));
static CONFIG_KEY: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"));
static OIDC_PROVIDER_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-zA-Z][a-zA-Z0-9-]*$"));
static SAMPLING_RATE: LazyLock<Regex> = LazyLock::new(|| regex(r"^(0(\.\d+)?|1(\.0+)?)$"));

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

/// Rules 1–2 and the stricter §7 limits: every derived object name must stay a valid name.
pub fn name(kind: InstanceKind, name: &str, v: &mut Verdict) {
    // A generateName object gets its name after mutation; the validating call sees it.
    if name.is_empty() {
        return;
    }
    let field = "metadata.name";
    let len = name.len();
    match kind {
        InstanceKind::Cluster => {
            if len > CLUSTER_NAME_REFERENCE_MAX {
                v.error(
                    "cluster-name-max-length",
                    field,
                    format!("metadata.name is {len} characters; a cluster name may have at most {CLUSTER_NAME_REFERENCE_MAX} because generated names append suffixes to it — shorten it"),
                );
            }
            if len > CLUSTER_NAME_MAX {
                v.error(
                    "cluster-name-max-45",
                    field,
                    format!("metadata.name is {len} characters; the StatefulSet {name}-server and its pods' revision label allow at most {CLUSTER_NAME_MAX} — shorten it"),
                );
            }
        }
        InstanceKind::Standalone => {
            if len > STANDALONE_NAME_REFERENCE_MAX {
                v.error(
                    "standalone-name-max-length",
                    field,
                    format!("metadata.name is {len} characters; a standalone name may have at most {STANDALONE_NAME_REFERENCE_MAX} — shorten it"),
                );
            }
            if len > STANDALONE_NAME_MAX {
                v.error(
                    "standalone-name-max-52",
                    field,
                    format!("metadata.name is {len} characters; the StatefulSet of that name and its pod's revision label allow at most {STANDALONE_NAME_MAX} — shorten it"),
                );
            }
        }
    }
    if !DNS1035_LABEL.is_match(name) {
        v.error(
            "name-dns1035-label",
            field,
            format!("metadata.name is {}; it names Services, so use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit", shown(name)),
        );
    }
}

/// Rules 3–4: the user must accept the Enterprise licence themselves.
pub fn license(value: Option<&str>, v: &mut Verdict) {
    let field = "spec.acceptLicenseAgreement";
    match value {
        None | Some("") => v.error(
            "license-required",
            field,
            "spec.acceptLicenseAgreement is not set; Neo4j Enterprise needs a licence — set yes (you hold a commercial licence) or eval (30-day evaluation); the operator never accepts on your behalf, see https://neo4j.com/licensing/",
        ),
        Some("yes" | "eval") => {}
        Some(other) => v.error(
            "license-value",
            field,
            format!("spec.acceptLicenseAgreement is {}; set yes (commercial licence) or eval (30-day evaluation)", shown(other)),
        ),
    }
}

const PULL_POLICIES: [&str; 3] = ["Always", "Never", "IfNotPresent"];

/// Rules 17–21 and `image-tag-label-safe`; the community and pull-policy rules apply to a
/// standalone under their §7 ids.
pub fn image(kind: InstanceKind, image: &ImageSpec, v: &mut Verdict) {
    let tag = image.tag.as_str();
    if is_blank(&image.repo) {
        v.error(
            "image-repo-required",
            "spec.image.repo",
            "spec.image.repo is empty; give the image repository, e.g. neo4j",
        );
    }
    if tag.is_empty() {
        v.error(
            "image-tag-required",
            "spec.image.tag",
            "spec.image.tag is empty; give an Enterprise tag such as 5.26.0-enterprise or 2025.01.0-enterprise",
        );
    }
    // The reference's standalone reports an empty tag twice; the cluster only once.
    if !tag.is_empty() || kind == InstanceKind::Standalone {
        match parse_tag(tag) {
            None => v.error(
                "image-version-supported",
                "spec.image.tag",
                format!("spec.image.tag is {}, which names no Neo4j version; use 5.26.x (the last SemVer LTS) or a 2025.01+ CalVer release, e.g. 5.26.0-enterprise", shown(tag)),
            ),
            Some(ver) if !ver.is_supported() => v.error(
                "image-version-supported",
                "spec.image.tag",
                format!("spec.image.tag is {} (Neo4j {ver}), which this operator does not support; use 5.26.x or a 2025.01+ CalVer release", shown(tag)),
            ),
            Some(_) => {}
        }
    }
    if tag.to_lowercase().contains("community") {
        let rule = match kind {
            InstanceKind::Cluster => "image-community-tag",
            InstanceKind::Standalone => "standalone-image-community",
        };
        v.error(
            rule,
            "spec.image.tag",
            format!("spec.image.tag is {}, a Community image; the operator configures Enterprise-only features — use an Enterprise image such as neo4j:5.26-enterprise", shown(tag)),
        );
    }
    if let Some(policy) = image.pull_policy.as_deref().filter(|p| !p.is_empty())
        && !PULL_POLICIES.contains(&policy)
    {
        let rule = match kind {
            InstanceKind::Cluster => "image-pull-policy",
            InstanceKind::Standalone => "standalone-image-pull-policy",
        };
        v.error(
            rule,
            "spec.image.pullPolicy",
            format!(
                "spec.image.pullPolicy is {}; use Always, Never or IfNotPresent",
                shown(policy)
            ),
        );
    }
    if tag.len() > DNS_LABEL_MAX || !IMAGE_TAG_LABEL.is_match(tag) {
        v.error(
            "image-tag-label-safe",
            "spec.image.tag",
            format!("spec.image.tag is {} ({} characters); it becomes the label app.kubernetes.io/version, so use at most 63 letters, digits, '-', '_' or '.' (no digest '@' or ':')", shown(tag), tag.len()),
        );
    }
}

/// Rules 23–25 and `storage-size-quantity`.
pub fn storage(kind: InstanceKind, storage: &StorageSpec, v: &mut Verdict) {
    let size = storage.size.as_str();
    let field = "spec.storage.size";
    if is_blank(size) {
        v.error(
            "storage-size-required",
            field,
            "spec.storage.size is empty; give the data volume size, e.g. 10Gi",
        );
    } else if kind == InstanceKind::Cluster && !STORAGE_SIZE.is_match(size) {
        v.error(
            "storage-size-format",
            field,
            format!("spec.storage.size is {}; use a whole number with an optional K, M, G or T suffix (binary Ki, Mi, Gi, Ti allowed), e.g. 100Gi or 1Ti", shown(size)),
        );
    } else if quantity_bytes(size).is_none_or(|b| b == 0) {
        v.error(
            "storage-size-quantity",
            field,
            format!(
                "spec.storage.size is {}; give a positive Kubernetes quantity such as 10Gi",
                shown(size)
            ),
        );
    }
    if let Some(policy) = storage.retention_policy.as_deref()
        && !["Delete", "Retain"].contains(&policy)
    {
        v.error(
            "storage-retention-enum",
            "spec.storage.retentionPolicy",
            format!(
                "spec.storage.retentionPolicy is {}; use Delete or Retain",
                shown(policy)
            ),
        );
    }
}

/// Update rules on storage: `storage-size-no-shrink`, and the class immutability (U7 for a
/// standalone, `cluster-storage-class-immutable` for a cluster: PVC templates cannot change).
pub fn storage_update(kind: InstanceKind, old: &StorageSpec, new: &StorageSpec, v: &mut Verdict) {
    if let (Some(before), Some(after)) = (quantity(&old.size), quantity(&new.size))
        && after < before
    {
        v.error(
            "storage-size-no-shrink",
            "spec.storage.size",
            format!("spec.storage.size is {}, smaller than the current {}; volumes can only grow — keep at least the current size", shown(&new.size), shown(&old.size)),
        );
    }
    let (before, after) = (
        old.class_name.as_deref().unwrap_or(""),
        new.class_name.as_deref().unwrap_or(""),
    );
    if before != after {
        let rule = match kind {
            InstanceKind::Cluster => "cluster-storage-class-immutable",
            InstanceKind::Standalone => "standalone-storage-class-immutable",
        };
        v.error(
            rule,
            "spec.storage.className",
            format!("spec.storage.className is {}, but the volumes were created with {}; the storage class cannot change after creation — restore the previous value", shown(after), shown(before)),
        );
    }
}

const TLS_USAGES: [&str; 15] = [
    "digital signature",
    "key encipherment",
    "key agreement",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
];
const TLS_USAGES_MAX_ITEMS: usize = 32;
const TLS_USAGE_MAX_LEN: usize = 64;

/// Rules 26–40 and `tls-cert-duration-bounds` (durations and usages checked for both kinds;
/// External Secrets for clusters, as in the reference).
pub fn tls(kind: InstanceKind, t: &TLSSpec, v: &mut Verdict) {
    let mode = t.mode.as_deref().unwrap_or("");
    if !mode.is_empty() && mode != "cert-manager" && mode != "disabled" {
        v.error(
            "tls-mode-enum",
            "spec.tls.mode",
            format!(
                "spec.tls.mode is {}; use cert-manager or disabled",
                shown(mode)
            ),
        );
    }
    let cert_manager = mode == "cert-manager";
    if cert_manager {
        match &t.issuer_ref {
            None => v.error(
                "tls-issuer-ref-required",
                "spec.tls.issuerRef",
                "spec.tls.issuerRef is not set, but spec.tls.mode is cert-manager; set spec.tls.issuerRef.name or set mode: disabled",
            ),
            Some(issuer) if is_blank(&issuer.name) => v.error(
                "tls-issuer-name-required",
                "spec.tls.issuerRef.name",
                "spec.tls.issuerRef.name is empty; name the cert-manager (or external) issuer, or set spec.tls.mode: disabled",
            ),
            Some(_) => {}
        }
        tls_durations(t, v);
        for (i, usage) in t.usages.iter().flatten().enumerate() {
            if !TLS_USAGES.contains(&usage.as_str()) {
                let field = item_path("spec.tls.usages", i, "");
                v.error(
                    "tls-usage-enum",
                    &field,
                    format!("{field} is {}, not a cert-manager key usage; use e.g. server auth, client auth, digital signature or key encipherment", shown(usage)),
                );
            }
        }
    }
    if let Some(usages) = t.usages.as_deref() {
        if usages.len() > TLS_USAGES_MAX_ITEMS {
            v.error(
                "tls-usages-bounds",
                "spec.tls.usages",
                format!(
                    "spec.tls.usages has {} items; at most {TLS_USAGES_MAX_ITEMS} are allowed",
                    usages.len()
                ),
            );
        }
        for (i, usage) in usages
            .iter()
            .enumerate()
            .filter(|(_, u)| u.len() > TLS_USAGE_MAX_LEN)
        {
            v.error(
                "tls-usages-bounds",
                item_path("spec.tls.usages", i, ""),
                format!("spec.tls.usages[{i}] is {} characters; at most {TLS_USAGE_MAX_LEN} are allowed", usage.len()),
            );
        }
        if !usages.is_empty() {
            for eku in ["server auth", "client auth"] {
                if !usages.iter().any(|u| u == eku) {
                    v.error(
                        "tls-usages-required-ekus",
                        "spec.tls.usages",
                        format!("spec.tls.usages lacks {eku:?}; Neo4j needs server auth (Bolt, HTTPS, cluster) and client auth (mutual TLS between servers) — add it or omit usages for the operator's defaults"),
                    );
                }
            }
        }
    }
    if kind == InstanceKind::Cluster
        && let Some(es) = t
            .external_secrets
            .as_ref()
            .filter(|e| e.enabled == Some(true))
    {
        tls_external_secrets(es, v);
    }
}

/// Rules 29–30 and `tls-cert-duration-bounds` (cert-manager mode only).
fn tls_durations(t: &TLSSpec, v: &mut Verdict) {
    let parse = |value: Option<&str>,
                 rule: &'static str,
                 field: &str,
                 v: &mut Verdict|
     -> Option<f64> {
        let value = value?;
        let secs = go_duration_seconds(value);
        if secs.is_none() {
            v.error(rule, field, format!("{field} is {}, not a duration; use Go syntax such as 2160h or 720h30m (no d unit)", shown(value)));
        }
        secs
    };
    let duration = parse(
        t.duration.as_deref(),
        "tls-duration-format",
        "spec.tls.duration",
        v,
    );
    let renew = parse(
        t.renew_before.as_deref(),
        "tls-renew-before-format",
        "spec.tls.renewBefore",
        v,
    );
    let bounds = "tls-cert-duration-bounds";
    if let Some(d) = duration
        && d < 3600.0
    {
        v.error(
            bounds,
            "spec.tls.duration",
            format!(
                "spec.tls.duration is {}; cert-manager needs a certificate lifetime of at least 1h",
                shown(t.duration.as_deref().unwrap_or_default())
            ),
        );
    }
    if let Some(r) = renew {
        let lifetime = duration.unwrap_or(CERT_MANAGER_DEFAULT_DURATION_SECS);
        if r <= 0.0 {
            v.error(
                bounds,
                "spec.tls.renewBefore",
                format!("spec.tls.renewBefore is {}; give a positive duration shorter than spec.tls.duration", shown(t.renew_before.as_deref().unwrap_or_default())),
            );
        } else if r >= lifetime {
            v.error(
                bounds,
                "spec.tls.renewBefore",
                format!("spec.tls.renewBefore is {}, not shorter than the certificate lifetime ({}); lower it below the duration", shown(t.renew_before.as_deref().unwrap_or_default()), t.duration.as_deref().unwrap_or("2160h, cert-manager's default")),
            );
        }
    }
}

/// Rules 34–40: the External Secrets source of the TLS certificates.
fn tls_external_secrets(es: &ExternalSecretsConfig, v: &mut Verdict) {
    let base = "spec.tls.externalSecrets";
    match &es.secret_store_ref {
        None => v.error(
            "tls-es-store-required",
            format!("{base}.secretStoreRef"),
            format!("{base}.secretStoreRef is not set, but externalSecrets is enabled; name the SecretStore to read the certificates from"),
        ),
        Some(store) => {
            if is_blank(&store.name) {
                v.error(
                    "tls-es-store-name",
                    format!("{base}.secretStoreRef.name"),
                    format!("{base}.secretStoreRef.name is empty; name the SecretStore or ClusterSecretStore"),
                );
            }
            if let Some(kind) = store.kind.as_deref().filter(|k| !k.is_empty())
                && kind != "SecretStore"
                && kind != "ClusterSecretStore"
            {
                v.error(
                    "tls-es-store-kind",
                    format!("{base}.secretStoreRef.kind"),
                    format!("{base}.secretStoreRef.kind is {}; use SecretStore or ClusterSecretStore", shown(kind)),
                );
            }
        }
    }
    if let Some(interval) = es.refresh_interval.as_deref().filter(|i| !i.is_empty())
        && go_duration_seconds(interval).is_none()
    {
        v.error(
            "tls-es-refresh-format",
            format!("{base}.refreshInterval"),
            format!("{base}.refreshInterval is {}, not a duration; use Go syntax such as 1h, or 0 for no polling", shown(interval)),
        );
    }
    let data = es.data.as_deref().unwrap_or_default();
    if data.is_empty() {
        v.error(
            "tls-es-data-required",
            format!("{base}.data"),
            format!(
                "{base}.data is empty; map at least one key (e.g. tls.crt) from the external store"
            ),
        );
    }
    for (i, d) in data.iter().enumerate() {
        if is_blank(&d.secret_key) {
            let field = item_path(&format!("{base}.data"), i, "secretKey");
            v.error(
                "tls-es-secret-key",
                &field,
                format!("{field} is empty; name the key of the resulting Secret, e.g. tls.crt"),
            );
        }
        if let Some(remote) = &d.remote_ref
            && is_blank(&remote.key)
        {
            let field = item_path(&format!("{base}.data"), i, "remoteRef.key");
            v.error(
                "tls-es-remote-key",
                &field,
                format!("{field} is empty; name the secret in the external store"),
            );
        }
    }
}

/// Provider names the reference accepts (rule 41); `oidc-…` passes unchecked.
const REFERENCE_PROVIDERS: [&str; 7] = [
    "native", "ldap", "oidc", "jwt", "kerberos", "saml", "custom",
];

/// Rules 41–48 and the stricter `auth-oidc-ref-exists`, `auth-provider-neo4j-names`,
/// `typed-conf-fields-single-line` for auth (rule 49 needs the Secret: not at admission).
pub fn auth(a: &AuthSpec, v: &mut Verdict) {
    let oidc = a.oidc.as_ref();
    for (field, provider) in providers(a) {
        auth_provider(provider, &field, oidc, v);
    }
    if let Some(ldap) = &a.ldap {
        if is_blank(&ldap.host) {
            v.error(
                "auth-ldap-host-required",
                "spec.auth.ldap.host",
                "spec.auth.ldap.host is empty; give the LDAP server URL, e.g. ldaps://ldap.example.com:636",
            );
        }
        if let Some(authz) = &ldap.authorization
            && authz.use_system_account == Some(true)
            && blank(authz.system_account_secret_ref.as_deref())
        {
            v.error(
                "auth-ldap-system-account",
                "spec.auth.ldap.authorization.systemAccountSecretRef",
                "spec.auth.ldap.authorization.systemAccountSecretRef is empty, but useSystemAccount is true; name the Secret holding the system account, or set useSystemAccount: false",
            );
        }
    }
    for (name, p) in oidc.into_iter().flatten() {
        oidc_provider(name, p, v);
    }
    if let Some(ts) = &a.trust_store
        && is_blank(&ts.name)
    {
        v.error(
            "auth-truststore-name",
            "spec.auth.trustStore.name",
            "spec.auth.trustStore.name is empty; name the Secret holding the CA certificate",
        );
    }
    auth_single_line(a, v);
}

/// Every entry of `spec.auth.authenticationProviders`, then of `authorizationProviders`, with
/// its field path.
fn providers(a: &AuthSpec) -> impl Iterator<Item = (String, &str)> {
    [
        (
            &a.authentication_providers,
            "spec.auth.authenticationProviders",
        ),
        (
            &a.authorization_providers,
            "spec.auth.authorizationProviders",
        ),
    ]
    .into_iter()
    .flat_map(|(list, path)| {
        list.iter()
            .flatten()
            .enumerate()
            .map(move |(i, p)| (item_path(path, i, ""), p.as_str()))
    })
}

fn auth_provider(
    provider: &str,
    field: &str,
    oidc: Option<&BTreeMap<String, Neo4jOIDCProviderSpec>>,
    v: &mut Verdict,
) {
    // `plugin-<name>` is what Neo4j expects for custom providers; the reference's list lacks it,
    // which would leave the §7 set (native, ldap, oidc-<name>, plugin-<name>) unreachable.
    let prefixed = provider.starts_with("oidc-") || provider.starts_with("plugin-");
    if !prefixed && !REFERENCE_PROVIDERS.contains(&provider) {
        v.error(
            "auth-provider-allowed",
            field,
            format!(
                "{field} is {}; use native, ldap, oidc-<name> or plugin-<name>",
                shown(provider)
            ),
        );
        return;
    }
    let suffix = provider
        .strip_prefix("oidc-")
        .or_else(|| provider.strip_prefix("plugin-"));
    let plain_neo4j_name = provider == "native" || provider == "ldap";
    if (!prefixed && !plain_neo4j_name) || suffix.is_some_and(str::is_empty) {
        v.error(
            "auth-provider-neo4j-names",
            field,
            format!("{field} is {}, which Neo4j does not accept as a provider; use native, ldap, oidc-<name> or plugin-<name>", shown(provider)),
        );
        return;
    }
    if let Some(name) = provider.strip_prefix("oidc-")
        && !oidc.is_some_and(|o| o.contains_key(name))
    {
        v.error(
            "auth-oidc-ref-exists",
            field,
            format!("{field} is {}, but spec.auth.oidc has no provider {}; add spec.auth.oidc.{name} or remove the entry", shown(provider), shown(name)),
        );
    }
}

fn oidc_provider(name: &str, p: &Neo4jOIDCProviderSpec, v: &mut Verdict) {
    let base = key_path("spec.auth.oidc", name);
    if !OIDC_PROVIDER_NAME.is_match(name) {
        v.error(
            "auth-oidc-provider-name",
            &base,
            format!("spec.auth.oidc has a provider named {}; the name becomes part of a setting name, so start with a letter and use letters, digits and '-' only", shown(name)),
        );
    }
    if is_blank(&p.audience) {
        v.error(
            "auth-oidc-audience",
            format!("{base}.audience"),
            format!("{base}.audience is empty; give the expected JWT audience (usually the OIDC client ID)"),
        );
    }
    let endpoints = [&p.auth_endpoint, &p.token_endpoint, &p.jwks_uri, &p.issuer];
    if blank(p.well_known_discovery_uri.as_deref()) && endpoints.iter().all(|e| blank(e.as_deref()))
    {
        v.error(
            "auth-oidc-endpoints",
            format!("{base}.wellKnownDiscoveryURI"),
            format!("{base}.wellKnownDiscoveryURI is empty and no endpoint is given; set the discovery URI, or authEndpoint, tokenEndpoint, jwksURI and issuer by hand"),
        );
    }
    if let Some(flow) = p.auth_flow.as_deref()
        && flow != "pkce"
        && flow != "implicit"
    {
        v.error(
            "auth-oidc-auth-flow",
            format!("{base}.authFlow"),
            format!("{base}.authFlow is {}; use pkce or implicit", shown(flow)),
        );
    }
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

fn auth_single_line(a: &AuthSpec, v: &mut Verdict) {
    for (field, p) in providers(a) {
        single_line(&field, Some(p), v);
    }
    single_line("spec.auth.authCacheTTL", a.auth_cache_ttl.as_deref(), v);
    if let Some(l) = &a.ldap {
        single_line("spec.auth.ldap.host", Some(&l.host), v);
        if let Some(authn) = &l.authentication {
            single_lines(
                "spec.auth.ldap.authentication",
                &[
                    ("userDNTemplate", authn.user_dn_template.as_deref()),
                    ("attribute", authn.attribute.as_deref()),
                ],
                v,
            );
        }
        if let Some(z) = &l.authorization {
            let base = "spec.auth.ldap.authorization";
            single_lines(
                base,
                &[
                    ("userSearchBase", z.user_search_base.as_deref()),
                    ("userSearchFilter", z.user_search_filter.as_deref()),
                ],
                v,
            );
            for (i, attr) in z.group_membership_attributes.iter().flatten().enumerate() {
                single_line(
                    &item_path(&format!("{base}.groupMembershipAttributes"), i, ""),
                    Some(attr),
                    v,
                );
            }
            single_line_map(
                &format!("{base}.groupToRoleMapping"),
                z.group_to_role_mapping.as_ref(),
                v,
            );
            single_lines(
                base,
                &[
                    ("accessPermittedGroup", z.access_permitted_group.as_deref()),
                    (
                        "nestedGroupsSearchFilter",
                        z.nested_groups_search_filter.as_deref(),
                    ),
                ],
                v,
            );
        }
    }
    for (name, p) in a.oidc.iter().flatten() {
        let base = key_path("spec.auth.oidc", name);
        single_lines(
            &base,
            &[
                ("displayName", p.display_name.as_deref()),
                (
                    "wellKnownDiscoveryURI",
                    p.well_known_discovery_uri.as_deref(),
                ),
                ("authEndpoint", p.auth_endpoint.as_deref()),
                ("tokenEndpoint", p.token_endpoint.as_deref()),
                ("jwksURI", p.jwks_uri.as_deref()),
                ("userInfoURI", p.user_info_uri.as_deref()),
                ("issuer", p.issuer.as_deref()),
                ("audience", Some(p.audience.as_str())),
                ("authParams", p.auth_params.as_deref()),
                ("tokenParams", p.token_params.as_deref()),
                (
                    "claims.username",
                    p.claims.as_ref().and_then(|c| c.username.as_deref()),
                ),
                (
                    "claims.groups",
                    p.claims.as_ref().and_then(|c| c.groups.as_deref()),
                ),
            ],
            v,
        );
        single_line_map(
            &format!("{base}.groupToRoleMapping"),
            p.group_to_role_mapping.as_ref(),
            v,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// neo4j.conf keys (§1.7)
// ---------------------------------------------------------------------------------------------

const DISCOVERY_VERSION_KEY: &str = "dbms.cluster.discovery.version";
const DEPRECATED_KEYS: [(&str, &str); 3] = [
    (
        "dbms.default_database",
        "is deprecated; set the default database with the dbms.setDefaultDatabase procedure instead",
    ),
    (
        "dbms.integrations.cloud_storage.s3.region",
        "is deprecated and replaced by the newer cloud-storage settings; remove it",
    ),
    (
        "dbms.logs.query.enabled",
        "was renamed; use db.logs.query.enabled",
    ),
];
const DISCOVERY_MANAGED_KEYS: [&str; 5] = [
    "dbms.cluster.discovery.resolver_type",
    "dbms.cluster.discovery.v2.endpoints",
    "dbms.cluster.endpoints",
    "dbms.kubernetes.label_selector",
    "dbms.kubernetes.discovery.service_port_name",
];
const RUNTIME_MANAGED_KEYS: [&str; 6] = [
    "server.default_advertised_address",
    "server.cluster.advertised_address",
    "server.routing.advertised_address",
    "server.cluster.raft.advertised_address",
    "initial.server.mode_constraint",
    "dbms.cluster.minimum_initial_system_primaries_count",
];
const AZURE_BLOB_SUFFIX_KEY: &str = "dbms.integrations.cloud_storage.azb.blob_endpoint_suffix";
const STANDALONE_CLUSTERING_KEYS: [&str; 14] = [
    "dbms.cluster.discovery.version",
    "dbms.cluster.discovery.type",
    "dbms.kubernetes.service_port_name",
    "dbms.kubernetes.discovery.v2.service_port_name",
    "dbms.kubernetes.discovery.service_port_name",
    "dbms.cluster.minimum_initial_system_primaries_count",
    "internal.dbms.single_raft_enabled",
    "dbms.cluster.discovery.endpoints",
    "dbms.cluster.network.advertised_address",
    "dbms.cluster.network.listen_address",
    "dbms.cluster.bind_address",
    "dbms.cluster.raft.advertised_address",
    "dbms.cluster.raft.listen_address",
    "dbms.cluster.raft.bind_address",
];

/// Why a neo4j.conf setting is refused: the rule id and a predicate completing "<key> …".
struct Refusal {
    rule: &'static str,
    reason: String,
}

fn refuse(rule: &'static str, reason: impl Into<String>) -> Option<Refusal> {
    Some(Refusal {
        rule,
        reason: reason.into(),
    })
}

/// The key rules of §1.7 (51–59) plus `config-key-charset` and
/// `config-discovery-version-semver-only`. `value` is `None` when it is not known (an env
/// variable read from a Secret): value rules then pass.
fn key_refusal(
    kind: InstanceKind,
    key: &str,
    value: Option<&str>,
    version: Option<Neo4jVersion>,
    tag: &str,
) -> Option<Refusal> {
    let cluster = kind == InstanceKind::Cluster;
    if !CONFIG_KEY.is_match(key) {
        return refuse(
            "config-key-charset",
            "is not a valid setting name (it could forge neo4j.conf lines); start with a letter or digit and use letters, digits, '_', '.' and '-' only",
        );
    }
    if cluster && key == DISCOVERY_VERSION_KEY {
        if version.is_some_and(|v| v.is_calver()) {
            return refuse(
                "config-discovery-version-semver-only",
                format!(
                    "does not exist in CalVer Neo4j (image tag {}) and strict config validation would stop startup; remove it",
                    shown(tag)
                ),
            );
        }
        return match value {
            Some(val) if val != "V2_ONLY" => refuse(
                "config-discovery-version",
                format!(
                    "is {}; only V2_ONLY is supported — set V2_ONLY or remove the key",
                    shown(val)
                ),
            ),
            _ => None,
        };
    }
    if cluster && let Some((_, hint)) = DEPRECATED_KEYS.iter().find(|(k, _)| *k == key) {
        return refuse("config-deprecated-key", *hint);
    }
    if cluster && DISCOVERY_MANAGED_KEYS.contains(&key) {
        return refuse(
            "config-discovery-managed",
            "is managed by the operator (servers discover each other through the headless Service); remove it",
        );
    }
    if cluster && RUNTIME_MANAGED_KEYS.contains(&key) {
        return refuse(
            "config-runtime-managed",
            "is set per pod at startup (from spec.topology where it applies), and a second value stops Neo4j from starting; remove it",
        );
    }
    if key.starts_with("dbms.ssl.policy.")
        || key == "server.bolt.tls_level"
        || key == "server.directories.certificates"
    {
        let hint = if cluster {
            " (for trust-all peer TLS set spec.tls.strictPeerValidation: false)"
        } else {
            ""
        };
        return refuse(
            "config-tls-managed",
            format!("is managed through spec.tls{hint}; remove it"),
        );
    }
    if key == "db.format" {
        return refuse(
            "config-db-format",
            "is managed by the operator, which always uses the block format; choose a format per database with Neo4jDatabase and remove it",
        );
    }
    if cluster
        && key == AZURE_BLOB_SUFFIX_KEY
        && let Some(val) = value.filter(|s| !s.is_empty() && !s.contains('.'))
    {
        return refuse(
            "config-azure-blob-suffix",
            format!(
                "is {}, not an endpoint suffix; give a domain such as core.windows.net",
                shown(val)
            ),
        );
    }
    if !cluster && STANDALONE_CLUSTERING_KEYS.contains(&key) {
        return refuse(
            "standalone-config-clustering",
            "is a clustering setting, which a standalone does not allow; remove it, or use Neo4jEnterpriseCluster",
        );
    }
    if !cluster && key == "dbms.mode" {
        return refuse(
            "standalone-config-dbms-mode",
            "was removed in Neo4j 5; remove it",
        );
    }
    None
}

/// Rule 50 and `config-value-controls`: a value must stay on its conf line.
fn value_refusal(value: &str) -> Option<Refusal> {
    if value.contains(['\n', '\r']) {
        return refuse(
            "config-value-control-chars",
            "holds a newline or carriage return, which would forge extra neo4j.conf lines; give the value on one line",
        );
    }
    if has_control_chars(value) {
        return refuse(
            "config-value-controls",
            "holds a control character; only printable characters and TAB may appear in a neo4j.conf value",
        );
    }
    None
}

/// Rules 50–59 (and the stricter key/value rules) over one free-form conf map: `spec.config`,
/// or `spec.propertySharding.config` for a cluster (`sharding-config-validated`).
pub fn config(
    kind: InstanceKind,
    map_path: &str,
    map: Option<&BTreeMap<String, String>>,
    version: Option<Neo4jVersion>,
    tag: &str,
    v: &mut Verdict,
) {
    for (key, value) in map.into_iter().flatten() {
        let field = key_path(map_path, key);
        if let Some(r) = value_refusal(value) {
            v.error(r.rule, &field, format!("{field} {}", r.reason));
        }
        if let Some(r) = key_refusal(kind, key, Some(value), version, tag) {
            v.error(r.rule, &field, format!("{} {}", shown(key), r.reason));
        }
    }
}

/// The conf key the official image derives from an env variable `NEO4J_<x>`: `__` → `_`,
/// then `_` → `.`.
pub fn env_conf_key(name: &str) -> Option<String> {
    let rest = name.strip_prefix("NEO4J_")?;
    // NUL cannot occur in an env name the API server accepts, so it is a safe placeholder.
    Some(
        rest.replace("__", "\0")
            .replace('_', ".")
            .replace('\0', "_"),
    )
}

/// `env-no-neo4j-setting-override`: env variables the image turns into conf lines must pass
/// the same rules as `spec.config`, and the two control variables belong to typed fields.
pub fn env(
    kind: InstanceKind,
    env: Option<&[corev1::EnvVar]>,
    version: Option<Neo4jVersion>,
    tag: &str,
    v: &mut Verdict,
) {
    let rule = "env-no-neo4j-setting-override";
    for (i, e) in env.into_iter().flatten().enumerate() {
        let field = item_path("spec.env", i, "name");
        let name = e.name.as_str();
        match name {
            "NEO4J_AUTH" => {
                v.error(rule, &field, format!("{field} is NEO4J_AUTH, which the operator sets from the admin Secret; use spec.auth.adminSecret instead"));
                continue;
            }
            "NEO4J_ACCEPT_LICENSE_AGREEMENT" => {
                v.error(rule, &field, format!("{field} is NEO4J_ACCEPT_LICENSE_AGREEMENT, which the operator sets; use spec.acceptLicenseAgreement instead"));
                continue;
            }
            _ => {}
        }
        let Some(key) = env_conf_key(name) else {
            continue;
        };
        let value = e.value.as_deref();
        let refusal = value
            .and_then(value_refusal)
            .or_else(|| key_refusal(kind, &key, value, version, tag));
        if let Some(r) = refusal {
            v.error(
                rule,
                &field,
                format!("{field} is {}, which the image turns into the setting {key}; that setting {} ({})", shown(name), r.reason, r.rule),
            );
        }
    }
}

/// `resources-request-le-limit`, and every quantity well-formed (the reference CRD's pattern,
/// which our schema does not carry): the pod would be refused later otherwise.
pub fn resources(r: Option<&corev1::ResourceRequirements>, v: &mut Verdict) {
    let Some(r) = r else { return };
    for (section, map) in [("limits", &r.limits), ("requests", &r.requests)] {
        for (res, q) in map.iter().flatten() {
            if quantity(&q.0).is_none() {
                let field = key_path(&format!("spec.resources.{section}"), res);
                v.error(
                    "resources-quantity-format",
                    &field,
                    format!("{field} is {}, not a Kubernetes quantity; use e.g. 4Gi for memory or 500m for CPU", shown(&q.0)),
                );
            }
        }
    }
    for res in ["memory", "cpu"] {
        if let (Some(req), Some(lim)) = (
            entry(r.requests.as_ref(), res),
            entry(r.limits.as_ref(), res),
        ) && let (Some(rq), Some(lq)) = (quantity(req), quantity(lim))
            && rq > lq
        {
            let field = key_path("spec.resources.requests", res);
            v.error(
                "resources-request-le-limit",
                &field,
                format!("{field} is {}, above the limit {}; a request may not exceed its limit — lower the request or raise the limit", shown(req), shown(lim)),
            );
        }
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

fn port_out_of_range(port: Option<i32>) -> Option<i32> {
    port.filter(|p| !(0..=65535).contains(p))
}

/// Rules 73–78 (the schema bounds hold whether or not the MCP server is enabled).
pub fn mcp(m: Option<&MCPServerSpec>, v: &mut Verdict) {
    let Some(m) = m else { return };
    let bounds = "mcp-crd-bounds";
    if let Some(s) = m.schema_sample_size.filter(|s| *s < -1) {
        v.error(bounds, "spec.mcp.schemaSampleSize", format!("spec.mcp.schemaSampleSize is {s}; use -1 (whole graph) or a non-negative sample size"));
    }
    enum_check(
        bounds,
        "spec.mcp.logLevel",
        m.log_level.as_deref(),
        &MCP_LOG_LEVELS,
        v,
    );
    enum_check(
        bounds,
        "spec.mcp.logFormat",
        m.log_format.as_deref(),
        &["text", "json"],
        v,
    );
    if let Some(svc) = m.http.as_ref().and_then(|h| h.service.as_ref()) {
        service_enums(
            bounds,
            "spec.mcp.http.service",
            svc.type_.as_deref(),
            svc.external_traffic_policy.as_deref(),
            v,
        );
    }
    if m.enabled != Some(true) {
        return;
    }
    let transport = m
        .transport
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or("http");
    if transport != "http" && transport != "stdio" {
        v.error(
            "mcp-transport-enum",
            "spec.mcp.transport",
            format!(
                "spec.mcp.transport is {}; use http or stdio",
                shown(transport)
            ),
        );
    }
    if transport == "http"
        && let Some(http) = &m.http
    {
        if let Some(p) = port_out_of_range(http.port) {
            v.error(
                "mcp-http-port-range",
                "spec.mcp.http.port",
                format!(
                    "spec.mcp.http.port is {p}; use a port from 1 to 65535, or 0 for the default"
                ),
            );
        }
        if let Some(t) = &http.tls
            && is_blank(&t.secret_name)
        {
            v.error("mcp-http-tls-secret", "spec.mcp.http.tls.secretName", "spec.mcp.http.tls.secretName is empty; name the kubernetes.io/tls Secret, or remove spec.mcp.http.tls");
        }
        if let Some(p) = port_out_of_range(http.service.as_ref().and_then(|s| s.port)) {
            v.error("mcp-service-port-range", "spec.mcp.http.service.port", format!("spec.mcp.http.service.port is {p}; use a port from 1 to 65535, or 0 for the default"));
        }
    }
    if let Some(a) = &m.auth
        && blank(a.secret_name.as_deref())
    {
        v.error("mcp-auth-secret", "spec.mcp.auth.secretName", "spec.mcp.auth.secretName is empty; name the Secret with the MCP credentials, or remove spec.mcp.auth");
    }
}

const FLEET_DEPLOYMENT_NAME_MAX: usize = 30;

/// Rules 79–86: schema rules always, the validator's only when enabled.
pub fn fleet(f: Option<&AuraFleetManagementSpec>, v: &mut Verdict) {
    let Some(f) = f else { return };
    let enabled = f.enabled == Some(true);
    let base = "spec.auraFleetManagement";
    if let Some(t) = &f.token_secret_ref
        && is_blank(&t.name)
    {
        v.error("fleet-token-secret-name", format!("{base}.tokenSecretRef.name"), format!("{base}.tokenSecretRef.name is empty; name the Secret holding the registration token"));
    }
    let Some(p) = &f.provision else { return };
    if f.token_secret_ref.is_some() {
        v.error(
            "fleet-provision-xor-token",
            format!("{base}.provision"),
            format!("{base}.provision and {base}.tokenSecretRef are both set; set provision to let the operator mint the token, or tokenSecretRef to supply it, not both"),
        );
    }
    let base = format!("{base}.provision");
    let provider_named = p
        .provider_config_ref
        .as_ref()
        .is_some_and(|r| !is_blank(&r.name));
    if enabled
        && let Some(r) = &p.provider_config_ref
        && is_blank(&r.name)
    {
        v.error(
            "fleet-provider-config-name",
            format!("{base}.providerConfigRef.name"),
            format!("{base}.providerConfigRef.name is empty; name the AuraProviderConfig"),
        );
    }
    if let Some(c) = &p.credentials_secret_ref
        && is_blank(&c.name)
    {
        v.error("fleet-credentials-secret-name", format!("{base}.credentialsSecretRef.name"), format!("{base}.credentialsSecretRef.name is empty; name the Secret with the Aura API client credentials"));
    }
    let sources = usize::from(p.provider_config_ref.is_some())
        + usize::from(p.credentials_secret_ref.is_some());
    if sources != 1 {
        v.error(
            "fleet-credentials-exactly-one",
            base.as_str(),
            format!("{base} has {sources} credential sources; set exactly one of providerConfigRef and credentialsSecretRef to give the Aura API credentials"),
        );
    }
    if let Some(name) = p.deployment_name.as_deref()
        && name.chars().count() > FLEET_DEPLOYMENT_NAME_MAX
    {
        v.error(
            "fleet-deployment-name-length",
            format!("{base}.deploymentName"),
            format!("{base}.deploymentName is {} characters; the Aura API allows at most {FLEET_DEPLOYMENT_NAME_MAX}", name.chars().count()),
        );
    }
    if enabled && !provider_named {
        for (field, value) in [
            ("organizationId", &p.organization_id),
            ("projectId", &p.project_id),
        ] {
            if blank(value.as_deref()) {
                v.error(
                    "fleet-org-project-required",
                    format!("{base}.{field}"),
                    format!("{base}.{field} is empty and no AuraProviderConfig supplies it; set it, or name one in providerConfigRef"),
                );
            }
        }
    }
    let enums = "fleet-crd-enums";
    enum_check(
        enums,
        &format!("{base}.tokenPolicy"),
        p.token_policy.as_deref(),
        &["CreateIfMissing", "Rotate"],
        v,
    );
    enum_check(
        enums,
        &format!("{base}.deletionPolicy"),
        p.deletion_policy.as_deref(),
        &["Orphan", "Delete"],
        v,
    );
    for (i, policy) in p.management_policies.iter().flatten().enumerate() {
        enum_check(
            enums,
            &item_path(&format!("{base}.managementPolicies"), i, ""),
            Some(policy.as_str()),
            &["Observe", "Create", "Delete", "*"],
            v,
        );
    }
}

/// Checks that the names of a list are set and unique (rules 87–90).
fn names_required_unique<'n>(
    list_path: &str,
    names: impl Iterator<Item = &'n str>,
    required: &'static str,
    unique: &'static str,
    what: &str,
    v: &mut Verdict,
) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, name) in names.enumerate() {
        let field = item_path(list_path, i, "name");
        if is_blank(name) {
            v.error(required, &field, format!("{field} is empty; {what}"));
            continue;
        }
        match seen.get(name) {
            Some(first) => v.error(
                unique,
                &field,
                format!(
                    "{field} is {}, already used at index {first}; give each entry its own name",
                    shown(name)
                ),
            ),
            None => {
                seen.insert(name, i);
            }
        }
    }
}

/// Rules 87–88: the Secret name is also the keystore alias.
pub fn trusted_cas(list: Option<&[TrustedCASecret]>, v: &mut Verdict) {
    names_required_unique(
        "spec.trustedCASecrets",
        list.into_iter().flatten().map(|t| t.name.as_str()),
        "trusted-ca-name-required",
        "trusted-ca-name-unique",
        "name the Secret holding the CA certificate",
        v,
    );
}

/// Rules 89–90.
pub fn extra_volumes(list: Option<&[corev1::Volume]>, v: &mut Verdict) {
    names_required_unique(
        "spec.extraVolumes",
        list.into_iter().flatten().map(|vol| vol.name.as_str()),
        "extra-volume-name-required",
        "extra-volume-name-unique",
        "name the volume (extraVolumeMounts refer to it by name)",
        v,
    );
    for (i, vol) in list.into_iter().flatten().enumerate() {
        if crate::names::is_reserved_volume(&vol.name) {
            v.error(
                "extra-volume-name-reserved",
                item_path("spec.extraVolumes", i, "name"),
                format!(
                    "{} is a volume the operator mounts itself; give your volume another name",
                    shown(&vol.name)
                ),
            );
        }
    }
}

/// Paths the operator mounts itself. `/var/lib/neo4j` is reserved only as a whole: the image
/// keeps user directories such as `/var/lib/neo4j/import` below it.
const RESERVED_MOUNT_PATHS: [&str; 13] = [
    "/data",
    "/logs",
    "/conf",
    "/ssl",
    "/plugins",
    "/truststore",
    "/truststore-ca",
    "/var/lib/neo4j",
    "/var/lib/neo4j/data",
    "/var/lib/neo4j/logs",
    "/var/lib/neo4j/conf",
    "/var/lib/neo4j/plugins",
    "/var/lib/neo4j/certificates",
];
const NEO4J_HOME: &str = "/var/lib/neo4j";

/// A mount path with `//`, `.` and `..` collapsed (always absolute).
pub fn normalize_mount_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The reserved path a normalised mount path would shadow: the path itself, one below a
/// reserved directory, or a parent of one (which hides it).
fn shadowed_reserved(normalized: &str) -> Option<&'static str> {
    RESERVED_MOUNT_PATHS.iter().copied().find(|r| {
        let under = |parent: &str, child: &str| {
            child
                .strip_prefix(parent)
                .is_some_and(|rest| rest.starts_with('/'))
                || (parent == "/" && child != "/")
        };
        normalized == *r || (*r != NEO4J_HOME && under(r, normalized)) || under(normalized, r)
    })
}

/// Rules 91–94 and `extra-mount-path-normalized`.
pub fn extra_volume_mounts(list: Option<&[corev1::VolumeMount]>, v: &mut Verdict) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, m) in list.into_iter().flatten().enumerate() {
        if is_blank(&m.name) {
            let field = item_path("spec.extraVolumeMounts", i, "name");
            v.error(
                "extra-mount-name-required",
                &field,
                format!("{field} is empty; name the extra volume to mount"),
            );
        }
        let field = item_path("spec.extraVolumeMounts", i, "mountPath");
        let path = m.mount_path.as_str();
        if is_blank(path) {
            v.error(
                "extra-mount-path-required",
                &field,
                format!("{field} is empty; give the directory to mount the volume at"),
            );
            continue;
        }
        let trimmed = path.trim_end_matches('/');
        let normalized = normalize_mount_path(path);
        if RESERVED_MOUNT_PATHS.contains(&trimmed) {
            v.error(
                "extra-mount-path-reserved",
                &field,
                format!(
                    "{field} is {}, where the operator mounts its own volume; choose another path",
                    shown(path)
                ),
            );
        } else if let Some(reserved) = shadowed_reserved(&normalized) {
            v.error(
                "extra-mount-path-normalized",
                &field,
                format!("{field} is {} (that is {normalized}), which overlaps the operator-managed {reserved}; choose a path outside it", shown(path)),
            );
        }
        match seen.get(&normalized) {
            Some(first) => v.error(
                "extra-mount-path-unique",
                &field,
                format!(
                    "{field} is {}, already used at index {first}; mount each path once",
                    shown(path)
                ),
            ),
            None => {
                seen.insert(normalized, i);
            }
        }
    }
}

/// `crd-service-enums` (rule 96).
pub fn service(s: Option<&ServiceSpec>, v: &mut Verdict) {
    let Some(s) = s else { return };
    let rule = "crd-service-enums";
    service_enums(
        rule,
        "spec.service",
        s.type_.as_deref(),
        s.external_traffic_policy.as_deref(),
        v,
    );
    if let Some(t) = s.route.as_ref().and_then(|r| r.tls.as_ref()) {
        enum_check(
            rule,
            "spec.service.route.tls.termination",
            t.termination.as_deref(),
            &["edge", "reencrypt", "passthrough"],
            v,
        );
        enum_check(
            rule,
            "spec.service.route.tls.insecureEdgeTerminationPolicy",
            t.insecure_edge_termination_policy.as_deref(),
            &["None", "Allow", "Redirect"],
            v,
        );
    }
}

/// `crd-monitoring` (rule 97) and the monitoring strings rendered into neo4j.conf.
pub fn monitoring(m: Option<&MonitoringSpec>, v: &mut Verdict) {
    let Some(m) = m else { return };
    enum_check(
        "crd-monitoring",
        "spec.monitoring.queryLogLevel",
        m.query_log_level.as_deref(),
        &["OFF", "INFO", "VERBOSE"],
        v,
    );
    if let Some(rate) = m.sampling.as_ref().and_then(|s| s.rate.as_deref())
        && !SAMPLING_RATE.is_match(rate)
    {
        v.error(
            "crd-monitoring",
            "spec.monitoring.sampling.rate",
            format!(
                "spec.monitoring.sampling.rate is {}; give a decimal from 0 to 1, e.g. 0.5",
                shown(rate)
            ),
        );
    }
    single_lines(
        "spec.monitoring",
        &[
            ("slowQueryThreshold", m.slow_query_threshold.as_deref()),
            ("metricsFilter", m.metrics_filter.as_deref()),
            ("metricsPrefix", m.metrics_prefix.as_deref()),
        ],
        v,
    );
}

/// U4–U6, run on create and update for both kinds (`upgrade-strategy-on-create`). They also
/// cover `crd-upgrade-strategy-enum`, which is the same condition once defaults are applied.
pub fn upgrade_strategy(u: Option<&UpgradeStrategySpec>, v: &mut Verdict) {
    let Some(u) = u else { return };
    if let Some(s) = u.strategy.as_deref().filter(|s| !s.is_empty())
        && s != "RollingUpgrade"
        && s != "Recreate"
    {
        v.error(
            "upgrade-strategy-enum",
            "spec.upgradeStrategy.strategy",
            format!(
                "spec.upgradeStrategy.strategy is {}; use RollingUpgrade or Recreate",
                shown(s)
            ),
        );
    }
    for (field, value) in [
        ("upgradeTimeout", &u.upgrade_timeout),
        ("healthCheckTimeout", &u.health_check_timeout),
        ("stabilizationTimeout", &u.stabilization_timeout),
    ] {
        if let Some(d) = value.as_deref().filter(|d| !d.is_empty())
            && go_duration_seconds(d).is_none()
        {
            let field = format!("spec.upgradeStrategy.{field}");
            v.error(
                "upgrade-strategy-durations",
                &field,
                format!(
                    "{field} is {}, not a duration; use Go syntax such as 30m or 1h30m",
                    shown(d)
                ),
            );
        }
    }
    if let Some(n) = u.max_unavailable_during_upgrade.filter(|n| *n < 0) {
        v.error(
            "upgrade-max-unavailable",
            "spec.upgradeStrategy.maxUnavailableDuringUpgrade",
            format!("spec.upgradeStrategy.maxUnavailableDuringUpgrade is {n}; use 0 or more"),
        );
    }
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

    #[test]
    fn shared_rules_table() {
        run_create_table(&shared_cases());
    }

    #[test]
    fn every_shared_rule_has_a_hit_and_a_near_miss() {
        assert_covered(
            &crate::catalog::coverage::shared(),
            &coverage_of(&shared_cases()),
        );
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
        let coverage: Vec<_> = cases
            .iter()
            .map(|(_, _, _, want)| ("route-generated-host-fits", !want.is_empty()))
            .collect();
        assert_covered(&crate::catalog::coverage::shared_cross(), &coverage);
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
