//! Rules of Neo4jEnterpriseCluster: the shared instance rules of [`super::instance`], plus
//! topology, property sharding, memory, the topology warnings and the update rules only a cluster
//! has. Every error is reported at once (no fail-fast after image errors, unlike the reference
//! operator).

use super::instance::{self, Common, not_implemented_warning};
use super::{item_path, memory};
use crate::defaults;
use crate::inventory::{InstanceKind, Inventory};
use crate::memory::{MI, container_limit};
use crate::policy::Policy;
use crate::topology::{MIN_SERVERS, effective_system_primaries};
use crate::types::{
    Kind, Neo4jEnterpriseCluster, Neo4jEnterpriseClusterSpec, TopologyConfiguration,
};
use crate::units::{quantity_bytes, quantity_millicores};
use crate::verdict::Verdict;
use crate::version::{parse_tag, upgrade_refusal};

const MAX_SERVERS: i32 = 100;
const MAX_SERVER_ROLES: usize = crate::types::bounds::SERVER_ROLES_MAX_ITEMS as usize;
const MANY_SERVERS: i32 = 10;
const MODES: [&str; 3] = ["NONE", "PRIMARY", "SECONDARY"];

/// Settings property sharding needs; a user value must agree (`sharding-required-settings`).
const SHARDING_REQUIRED: [(&str, &str); 3] = [
    ("internal.dbms.sharded_property_database.enabled", "true"),
    ("db.query.default_language", "CYPHER_25"),
    (
        "internal.dbms.sharded_property_database.allow_external_shard_access",
        "false",
    ),
];
const SHARDING_MIN_MEMORY_MIB: u64 = 4096;
const SHARDING_MIN_CPU_MILLIS: u64 = 1000;

/// How the admission engine and the controller reach this kind: its defaults, then the rules
/// of this file.
impl Policy for Neo4jEnterpriseCluster {
    const KIND: Kind = Kind::Cluster;
    fn apply_defaults(&mut self) {
        defaults::cluster(&mut self.spec);
    }
    fn create(&self) -> Verdict {
        create(self)
    }
    fn update(old: &Self, new: &Self) -> Verdict {
        update(old, new)
    }
    fn cross(&self, namespace: &str, inventory: &dyn Inventory) -> Verdict {
        cross(self, namespace, inventory)
    }
}

pub fn create(obj: &Neo4jEnterpriseCluster) -> Verdict {
    let mut v = Verdict::default();
    let spec = &obj.spec;
    let common = Common::of_cluster(obj);
    common.identity(&mut v);
    topology(&spec.topology, &mut v);
    common.body(&mut v);
    property_sharding(spec, &mut v);
    memory_rules(spec, &mut v);
    not_implemented(spec, &mut v);
    warnings(&spec.topology, &mut v);
    v
}

pub fn update(old: &Neo4jEnterpriseCluster, new: &Neo4jEnterpriseCluster) -> Verdict {
    let mut v = create(new);
    let (o, n) = (&old.spec, &new.spec);
    let (before, after) = (o.topology.servers, n.topology.servers);
    let field = "spec.topology.servers";
    if after < before && after < MIN_SERVERS {
        v.error(
            "cluster-scale-down-floor",
            field,
            format!("spec.topology.servers is {after} (was {before}); a cluster cannot scale below {MIN_SERVERS} servers"),
        );
    }
    // Below the system primaries the cluster formed with, but not below two servers: admitted
    // (the reference allows it), with the risk spelled out. Fewer than two is refused above.
    let floor = effective_system_primaries(&o.topology);
    if after < floor && after >= MIN_SERVERS {
        v.warn(
            "cluster-scale-below-system-primaries",
            field,
            format!("spec.topology.servers is {after} (was {before}), below the {floor} system primaries the cluster was formed with: the system database keeps fewer members than it was formed with, so losing one more server can leave it without a majority (no database can then be created, started or changed); scale back to {floor} or more servers when you can"),
        );
    }
    if let Some(why) = upgrade_refusal(&o.image.tag, &n.image.tag) {
        v.error(
            "cluster-version-upgrade",
            "spec.image.tag",
            format!("spec.image.tag is {}, changed from {}: {why}; allowed are 5.26.x → 5.26.y, 5.26.x → CalVer and CalVer → later CalVer", super::shown(&n.image.tag), super::shown(&o.image.tag)),
        );
    }
    instance::storage_update(InstanceKind::Cluster, &o.storage, &n.storage, &mut v);
    if o.topology.min_system_primaries != n.topology.min_system_primaries {
        let shown = |m: Option<i32>| m.map_or_else(|| "unset".to_string(), |m| m.to_string());
        v.warn(
            "cluster-min-system-primaries-immutable",
            "spec.topology.minSystemPrimaries",
            format!(
                "spec.topology.minSystemPrimaries is {} (was {}); it only applies when the cluster first forms, so the change has no effect",
                shown(n.topology.min_system_primaries),
                shown(o.topology.min_system_primaries)
            ),
        );
    }
    v
}

/// Clusters need no cross-object check yet; the Route host and DNS name checks need only the
/// namespace and the cluster's DNS domain.
pub fn cross(obj: &Neo4jEnterpriseCluster, namespace: &str, inventory: &dyn Inventory) -> Verdict {
    let mut v = Verdict::default();
    let common = Common::of_cluster(obj);
    common.routes(namespace, &mut v);
    common.dns_names(
        namespace,
        inventory.cluster_domain(),
        obj.spec.topology.servers,
        &mut v,
    );
    v
}

/// Rules 5–15 and `cluster-mode-has-primary`.
fn topology(t: &TopologyConfiguration, v: &mut Verdict) {
    let servers = t.servers;
    let field = "spec.topology.servers";
    if servers < MIN_SERVERS {
        v.error(
            "cluster-min-servers",
            field,
            format!("spec.topology.servers is {servers}; a cluster needs at least {MIN_SERVERS} servers — use Neo4jEnterpriseStandalone for one server"),
        );
    }
    if servers > MAX_SERVERS {
        v.error(
            "cluster-max-servers",
            field,
            format!("spec.topology.servers is {servers}; this operator manages at most {MAX_SERVERS} servers per cluster"),
        );
    }
    if let Some(m) = t.min_system_primaries {
        let field = "spec.topology.minSystemPrimaries";
        if m < MIN_SERVERS {
            v.error(
                "cluster-min-system-primaries-floor",
                field,
                format!(
                    "spec.topology.minSystemPrimaries is {m}; it must be at least {MIN_SERVERS}"
                ),
            );
        }
        if m > servers {
            v.error(
                "cluster-min-system-primaries-ceiling",
                field,
                format!("spec.topology.minSystemPrimaries is {m}, more than the {servers} servers; such a floor can never be met — lower it to at most {servers}"),
            );
        }
    }
    let mode = t.server_mode_constraint.as_deref().unwrap_or("");
    if !mode.is_empty() && !MODES.contains(&mode) {
        v.error(
            "cluster-server-mode-constraint-enum",
            "spec.topology.serverModeConstraint",
            format!(
                "spec.topology.serverModeConstraint is {}; use NONE, PRIMARY or SECONDARY",
                super::shown(mode)
            ),
        );
    }
    let roles = t.server_roles.as_deref().unwrap_or_default();
    if roles.len() > MAX_SERVER_ROLES {
        v.error(
            "cluster-server-roles-max-items",
            "spec.topology.serverRoles",
            format!(
                "spec.topology.serverRoles has {} entries; at most {MAX_SERVER_ROLES} are allowed",
                roles.len()
            ),
        );
    }
    let mut seen = std::collections::BTreeMap::new();
    for (i, role) in roles.iter().enumerate() {
        let index_field = item_path("spec.topology.serverRoles", i, "serverIndex");
        let index = role.server_index;
        if index < 0 || index >= servers {
            v.error(
                "cluster-server-role-index-range",
                &index_field,
                format!("{index_field} is {index}; server indexes run from 0 to {} for {servers} servers", servers.saturating_sub(1)),
            );
        }
        match seen.get(&index) {
            Some(first) => v.error(
                "cluster-server-role-index-duplicate",
                &index_field,
                format!("{index_field} is {index}, already given at index {first}; list each server once"),
            ),
            None => {
                seen.insert(index, i);
            }
        }
        if !MODES.contains(&role.mode_constraint.as_str()) {
            let mode_field = item_path("spec.topology.serverRoles", i, "modeConstraint");
            v.error(
                "cluster-server-role-mode-enum",
                &mode_field,
                format!(
                    "{mode_field} is {} for server {index}; use NONE, PRIMARY or SECONDARY",
                    super::shown(&role.mode_constraint)
                ),
            );
        }
    }
    let all_secondary = !roles.is_empty() && roles.iter().all(|r| r.mode_constraint == "SECONDARY");
    if all_secondary && i64::try_from(roles.len()).is_ok_and(|n| n == i64::from(servers)) {
        v.error(
            "cluster-server-roles-all-secondary",
            "spec.topology.serverRoles",
            "spec.topology.serverRoles makes every server SECONDARY; at least one server must be able to host primaries — make one PRIMARY or NONE",
        );
    }
    if mode == "SECONDARY"
        && !roles
            .iter()
            .any(|r| r.mode_constraint == "PRIMARY" || r.mode_constraint == "NONE")
    {
        v.error(
            "cluster-mode-has-primary",
            "spec.topology.serverModeConstraint",
            "spec.topology.serverModeConstraint is SECONDARY and no serverRoles entry is PRIMARY or NONE, so no server can host primaries; add such an entry or change the constraint",
        );
    }
}

/// The topology warnings: legal topologies with a known weakness.
fn warnings(t: &TopologyConfiguration, v: &mut Verdict) {
    let servers = t.servers;
    let field = "spec.topology.servers";
    if servers > 0 && servers % 2 == 0 {
        v.warn(
            "cluster-even-servers",
            field,
            format!("spec.topology.servers is {servers}, an even count, which may reduce fault tolerance when databases use odd allocations; prefer an odd count"),
        );
    }
    if let Some(m) = t.min_system_primaries.filter(|m| m % 2 == 0) {
        v.warn(
            "cluster-even-min-system-primaries",
            "spec.topology.minSystemPrimaries",
            format!("spec.topology.minSystemPrimaries is {m}; an even system-database voting set has no clean majority — use 3, 5, …"),
        );
    }
    if servers == 2 {
        v.warn(
            "cluster-two-servers",
            field,
            "spec.topology.servers is 2; one failure can lose quorum — use at least 3 servers in production",
        );
    }
    if servers > MANY_SERVERS {
        v.warn(
            "cluster-many-servers",
            field,
            format!("spec.topology.servers is {servers}; above {MANY_SERVERS} servers coordination overhead may hurt performance — size by real topology needs"),
        );
    }
    match t.server_mode_constraint.as_deref() {
        Some("PRIMARY") => v.warn(
            "cluster-mode-all-primary",
            "spec.topology.serverModeConstraint",
            "spec.topology.serverModeConstraint is PRIMARY; no server can be a secondary for read scaling",
        ),
        Some("SECONDARY") => v.warn(
            "cluster-mode-all-secondary",
            "spec.topology.serverModeConstraint",
            "spec.topology.serverModeConstraint is SECONDARY; make sure some servers can host primaries (serverRoles)",
        ),
        _ => {}
    }
}

/// The `sharding-*` rules and `sharding-config-validated`, only with property sharding enabled.
fn property_sharding(spec: &Neo4jEnterpriseClusterSpec, v: &mut Verdict) {
    let Some(ps) = spec
        .property_sharding
        .as_ref()
        .filter(|p| p.enabled == Some(true))
    else {
        return;
    };
    let tag = spec.image.tag.as_str();
    let version = parse_tag(tag);
    if !version.is_some_and(|ver| ver.supports_property_sharding()) {
        v.error(
            "sharding-version",
            "spec.image.tag",
            format!("spec.image.tag is {}; property sharding needs Neo4j 2025.12 or later — use such a CalVer image or disable spec.propertySharding", super::shown(tag)),
        );
    }
    if spec.topology.servers < 1 {
        v.error(
            "sharding-min-servers",
            "spec.topology.servers",
            format!(
                "spec.topology.servers is {}; property sharding needs at least 1 server",
                spec.topology.servers
            ),
        );
    }
    for (key, want) in SHARDING_REQUIRED {
        if let Some(got) = ps.config.as_ref().and_then(|c| c.get(key))
            && got != want
        {
            let field = super::key_path("spec.propertySharding.config", key);
            v.error(
                "sharding-required-settings",
                &field,
                format!("{field} is {}; property sharding requires {key}={want} — set that value or remove the key", super::shown(got)),
            );
        }
    }
    instance::config(
        InstanceKind::Cluster,
        "spec.propertySharding.config",
        ps.config.as_ref(),
        version,
        tag,
        v,
    );
    // The relax switch NEO4J_SHARDING_RELAX_MEMORY_MIN is an operator env: not at admission.
    if let Some(requests) = spec.resources.as_ref().and_then(|r| r.requests.as_ref()) {
        let memory = requests.get("memory").map(|q| q.0.as_str());
        let mib = memory.and_then(quantity_bytes).unwrap_or(0) / MI;
        if mib < SHARDING_MIN_MEMORY_MIB {
            v.error(
                "sharding-min-memory",
                "spec.resources.requests.memory",
                format!("spec.resources.requests.memory is {} ({mib} MiB); property sharding requires at least 4096 MiB (4Gi; 8Gi+ recommended for production)", shown_or_unset(memory)),
            );
        }
        let cpu = requests.get("cpu").map(|q| q.0.as_str());
        let millis = cpu.and_then(quantity_millicores).unwrap_or(0);
        if millis < SHARDING_MIN_CPU_MILLIS {
            v.error(
                "sharding-min-cpu",
                "spec.resources.requests.cpu",
                format!("spec.resources.requests.cpu is {} ({millis}m); property sharding requires at least 1 core (2+ recommended)", shown_or_unset(cpu)),
            );
        }
    }
}

/// A value for a message, or `unset` (counted as 0 by the sharding minimums).
fn shown_or_unset(value: Option<&str>) -> String {
    value.map_or_else(|| "unset".to_string(), super::shown)
}

/// The `memory-*` rules, all in [`memory::check_cluster`]. Run even without `spec.resources`
/// (the default 2Gi limit, `memory-validate-default-limit`); a `resources` without a memory limit
/// is sized with 2Gi too (`resources-requests-only`).
/// Memory keys in `spec.propertySharding.config` are honoured whether or not sharding is
/// enabled, so they are always checked.
fn memory_rules(spec: &Neo4jEnterpriseClusterSpec, v: &mut Verdict) {
    let limit = container_limit(spec.resources.as_ref());
    let sharding = spec
        .property_sharding
        .as_ref()
        .and_then(|p| p.config.as_ref());
    memory::check_cluster(
        limit,
        i64::from(spec.topology.servers),
        spec.config.as_ref(),
        sharding,
        v,
    );
}

/// `field-not-implemented` for the fields only a cluster has.
fn not_implemented(spec: &Neo4jEnterpriseClusterSpec, v: &mut Verdict) {
    if spec
        .property_sharding
        .as_ref()
        .is_some_and(|p| p.enabled == Some(true))
    {
        not_implemented_warning("spec.propertySharding", v);
    }
    if let Some(p) = &spec.topology.placement {
        if p.node_selector.as_ref().is_some_and(|n| !n.is_empty()) {
            not_implemented_warning("spec.topology.placement.nodeSelector", v);
        }
        if p.required_during_scheduling == Some(true) {
            not_implemented_warning("spec.topology.placement.requiredDuringScheduling", v);
        }
    }
}

#[cfg(test)]
mod tables;

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;
    use crate::validate::testkit::{assert_verdict, cluster_with};

    #[test]
    fn update_rules_do_not_run_on_create() {
        let v = create(&cluster_with(
            json!({"topology": {"servers": 3, "minSystemPrimaries": 3}}),
        ));
        assert!(v.rules().is_empty(), "{v:?}");
    }

    #[test]
    fn every_error_is_reported_at_once_even_after_an_image_error() {
        let c = cluster_with(
            json!({"image": {"tag": "latest"}, "storage": {"size": "1.5Gi"}, "config": {"db.format": "block"}}),
        );
        assert_verdict(
            "image error plus others",
            &create(&c),
            &[
                "image-version-supported",
                "storage-size-format",
                "config-db-format",
            ],
            &[],
        );
    }
}
