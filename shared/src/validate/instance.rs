//! Rules shared by Neo4jEnterpriseCluster and Neo4jEnterpriseStandalone, one file per group of
//! `spec` fields: each function takes the sub-structs it reads and, where a rule differs by kind,
//! an [`InstanceKind`]. `cluster.rs` and `standalone.rs` call them through [`Common`] in the
//! reference operator's order and add what only their kind has. This file holds [`Common`] and the
//! helpers the groups share.

mod auth;
mod config;
mod fields;
mod identity;
mod integrations;
mod pods;
mod services;
mod storage;
mod tls;
mod volumes;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as corev1;

pub use self::auth::auth;
pub use self::config::{EnvContext, Settings, config, env, settings};
use self::fields::{DNS_LABEL_MAX, external_secrets_enabled};
pub use self::identity::{image, license, name};
pub use self::integrations::{fleet, mcp};
pub use self::pods::upgrade_strategy;
pub use self::services::{monitoring, service};
pub use self::storage::{storage, storage_update};
pub use self::tls::tls;
pub use self::volumes::{extra_volume_mounts, extra_volumes, normalize_mount_path, trusted_cas};
use super::shown;
use crate::inventory::InstanceKind;
use crate::names::{ClusterNames, StandaloneNames};
use crate::types::*;
use crate::verdict::Verdict;
use crate::version::{Neo4jVersion, parse_tag};

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
        let catalogue = Settings::new(self.kind, &self.image.tag, self.config, self.env);
        settings(&catalogue, v);
        mcp(self.mcp, v);
        fleet(self.fleet, v);
        trusted_cas(self.trusted_ca_secrets, v);
        extra_volumes(self.extra_volumes, v);
        extra_volume_mounts(self.extra_volume_mounts, v);
        let spec = EnvContext {
            license: self.license,
        };
        env(&catalogue, &spec, self.env, v);
        crate::validate::quantities::resources("spec.resources", self.resources, v);
        crate::validate::quantities::resources(
            "spec.mcp.resources",
            self.mcp.and_then(|m| m.resources.as_ref()),
            v,
        );
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
        // Named only for a route that needs a generated host (rarely any).
        let route_name = |mcp: bool| match (self.kind, mcp) {
            (InstanceKind::Cluster, false) => ClusterNames::new(self.name).route(),
            (InstanceKind::Cluster, true) => ClusterNames::new(self.name).mcp_route(),
            (InstanceKind::Standalone, false) => StandaloneNames::new(self.name).route(),
            (InstanceKind::Standalone, true) => format!("{}-mcp-route", self.name),
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
            check(route_name(false), "spec.service.route.host");
        }
        let mcp_route_spec = self
            .mcp
            .filter(|m| m.enabled == Some(true))
            .and_then(|m| m.http.as_ref())
            .and_then(|h| h.service.as_ref())
            .and_then(|s| s.route.as_ref());
        if needs_generated_host(mcp_route_spec) {
            check(route_name(true), "spec.mcp.http.service.route.host");
        }
    }
}

impl Common<'_> {
    /// `name-fqdn-length`: the longest in-cluster DNS name the operator derives — a cluster's last
    /// server `<c>-server-<n>.<c>-headless.<ns>.svc.<domain>`, a standalone's Services
    /// `<s>-….<ns>.svc.<domain>` — must fit the 253 characters of a DNS name, or the
    /// certificate, discovery and the advertised addresses fail.
    pub fn dns_names(&self, namespace: &str, domain: &str, servers: i32, v: &mut Verdict) {
        if self.name.is_empty() {
            return;
        }
        let longest = match self.kind {
            InstanceKind::Cluster => {
                let last = u32::try_from(servers.max(1) - 1).unwrap_or(0);
                ClusterNames::new(self.name).pod_fqdn_in(last, namespace, domain)
            }
            InstanceKind::Standalone => {
                let n = StandaloneNames::new(self.name);
                [n.client_service(), n.alias_service(), n.headless_service()]
                    .into_iter()
                    .map(|s| crate::names::service_fqdn(&s, namespace, domain))
                    .max_by_key(String::len)
                    .unwrap_or_default()
            }
        };
        if longest.len() > DNS_NAME_MAX {
            v.error(
                "name-fqdn-length",
                "metadata.name",
                format!(
                    "the in-cluster DNS name {} has {} characters, over the {DNS_NAME_MAX} a DNS name may have (namespace {}, cluster domain {}); use a shorter name or namespace",
                    shown(&longest),
                    longest.len(),
                    shown(namespace),
                    shown(domain)
                ),
            );
        }
    }
}

/// Longest DNS name.
const DNS_NAME_MAX: usize = 253;

/// The one message of `field-not-implemented`.
pub fn not_implemented_warning(field: &str, v: &mut Verdict) {
    v.warn(
        "field-not-implemented",
        field,
        format!("{field} is accepted and kept, but this operator version does not act on it yet"),
    );
}

#[cfg(test)]
mod tests;
