//! Rules of Neo4jEnterpriseCluster (`api/RULES.md` §1–§3, §7): the shared instance rules of
//! [`super::instance`], plus topology, property sharding, memory, the topology warnings and the
//! update rules only a cluster has. Every error is reported at once (no fail-fast after image
//! errors, unlike the reference).

use super::instance::{self, Common, not_implemented_warning};
use super::item_path;
use crate::engine::{InstanceKind, Inventory};
use crate::memory::{self, MI};
use crate::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseClusterSpec, TopologyConfiguration};
use crate::units::{quantity_bytes, quantity_millicores};
use crate::verdict::Verdict;
use crate::version::{parse_tag, upgrade_refusal};

const MIN_SERVERS: i32 = 2;
const MAX_SERVERS: i32 = 100;
const MAX_SERVER_ROLES: usize = 100;
const MANY_SERVERS: i32 = 10;
const MODES: [&str; 3] = ["NONE", "PRIMARY", "SECONDARY"];

/// Settings property sharding needs; a user value must agree (rule 61).
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
    let floor = effective_system_primaries(&o.topology);
    if after < floor {
        v.error(
            "cluster-scale-below-system-primaries",
            field,
            format!("spec.topology.servers is {after}, below the {floor} system primaries the cluster was formed with; keep at least {floor} servers"),
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

/// Clusters need no cross-object check yet; the Route host check needs only the namespace.
pub fn cross(obj: &Neo4jEnterpriseCluster, namespace: &str, _inventory: &dyn Inventory) -> Verdict {
    let mut v = Verdict::default();
    Common::of_cluster(obj).routes(namespace, &mut v);
    v
}

/// `dbms.cluster.minimum_initial_system_primaries_count` as rendered (RULES §4.3):
/// s = max(servers, 2); explicit m ⇒ min(max(m, 2), s); unset ⇒ min(s, 3).
pub fn effective_system_primaries(t: &TopologyConfiguration) -> i32 {
    let s = t.servers.max(MIN_SERVERS);
    match t.min_system_primaries {
        Some(m) => m.max(MIN_SERVERS).min(s),
        None => s.min(3),
    }
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

/// W1–W6: legal topologies with a known weakness.
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

/// Rules 60–63b and `sharding-config-validated`, only with property sharding enabled.
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

/// Rules 64–72 and the stricter memory rules, all in [`memory::check_cluster`]. Run even
/// without `spec.resources` (the default 2Gi limit, `memory-validate-default-limit`); a
/// `resources` without a memory limit is sized with 2Gi too (`resources-requests-only`).
/// Memory keys in `spec.propertySharding.config` are honoured whether or not sharding is
/// enabled, so they are always checked.
fn memory_rules(spec: &Neo4jEnterpriseClusterSpec, v: &mut Verdict) {
    let limit = instance::memory_limit(spec.resources.as_ref());
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
pub(crate) mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::validate::instance::tests::{
        On, assert_covered, assert_verdict, case, cluster_from, coverage_of, merge,
        run_create_table, spec, valid_cluster,
    };

    fn topology(t: Value) -> Value {
        spec(json!({ "topology": t }))
    }

    fn roles(list: Value) -> Value {
        topology(json!({ "serverRoles": list }))
    }

    fn sharding(extra: Value) -> Value {
        let mut p = json!({"spec": {"image": {"tag": "2025.12.0-enterprise"}, "propertySharding": {"enabled": true}}});
        merge(&mut p, &extra);
        p
    }

    const FNI: &[&str] = &["field-not-implemented"];
    const EVEN: &[&str] = &["cluster-even-servers"];

    fn cluster_cases() -> Vec<crate::validate::instance::tests::Case> {
        let c = On::Cluster;
        let many_roles: Vec<Value> = (0..101)
            .map(|i| json!({"serverIndex": i, "modeConstraint": "NONE"}))
            .collect();
        vec![
            // Topology (rules 5–15, cluster-mode-has-primary).
            case(
                c,
                "cluster-min-servers",
                topology(json!({"servers": 1})),
                &["cluster-min-servers"],
                &[],
            ),
            case(
                c,
                "cluster-min-servers",
                topology(json!({"servers": 2})),
                &[],
                &["cluster-even-servers", "cluster-two-servers"],
            ),
            case(
                c,
                "cluster-max-servers",
                topology(json!({"servers": 101})),
                &["cluster-max-servers"],
                &["cluster-many-servers"],
            ),
            case(
                c,
                "cluster-max-servers",
                topology(json!({"servers": 99})),
                &[],
                &["cluster-many-servers"],
            ),
            case(
                c,
                "cluster-min-system-primaries-floor",
                topology(json!({"minSystemPrimaries": 1})),
                &["cluster-min-system-primaries-floor"],
                &[],
            ),
            case(
                c,
                "cluster-min-system-primaries-floor",
                topology(json!({"minSystemPrimaries": 3})),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-min-system-primaries-ceiling",
                topology(json!({"minSystemPrimaries": 5})),
                &["cluster-min-system-primaries-ceiling"],
                &[],
            ),
            case(
                c,
                "cluster-min-system-primaries-ceiling",
                topology(json!({"servers": 5, "minSystemPrimaries": 5})),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-server-mode-constraint-enum",
                topology(json!({"serverModeConstraint": "READ_REPLICA"})),
                &["cluster-server-mode-constraint-enum"],
                &[],
            ),
            case(
                c,
                "cluster-server-mode-constraint-enum",
                topology(json!({"serverModeConstraint": ""})),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-server-role-index-range",
                roles(json!([{"serverIndex": 3, "modeConstraint": "PRIMARY"}])),
                &["cluster-server-role-index-range"],
                &[],
            ),
            case(
                c,
                "cluster-server-role-index-range",
                roles(json!([{"serverIndex": -1, "modeConstraint": "PRIMARY"}])),
                &["cluster-server-role-index-range"],
                &[],
            ),
            case(
                c,
                "cluster-server-role-index-range",
                roles(json!([{"serverIndex": 2, "modeConstraint": "PRIMARY"}])),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-server-role-index-duplicate",
                roles(
                    json!([{"serverIndex": 1, "modeConstraint": "PRIMARY"}, {"serverIndex": 1, "modeConstraint": "SECONDARY"}]),
                ),
                &["cluster-server-role-index-duplicate"],
                &[],
            ),
            case(
                c,
                "cluster-server-role-index-duplicate",
                roles(
                    json!([{"serverIndex": 0, "modeConstraint": "PRIMARY"}, {"serverIndex": 1, "modeConstraint": "SECONDARY"}]),
                ),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-server-roles-all-secondary",
                roles(json!([0, 1, 2].map(
                    |i| json!({"serverIndex": i, "modeConstraint": "SECONDARY"})
                ))),
                &["cluster-server-roles-all-secondary"],
                &[],
            ),
            case(
                c,
                "cluster-server-roles-all-secondary",
                roles(json!([0, 1].map(
                    |i| json!({"serverIndex": i, "modeConstraint": "SECONDARY"})
                ))),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-server-role-mode-enum",
                roles(json!([{"serverIndex": 0, "modeConstraint": "primary"}])),
                &["cluster-server-role-mode-enum"],
                &[],
            ),
            case(
                c,
                "cluster-server-role-mode-enum",
                roles(json!([{"serverIndex": 0, "modeConstraint": "NONE"}])),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-server-roles-max-items",
                topology(json!({"servers": 100, "serverRoles": many_roles})),
                &[
                    "cluster-server-roles-max-items",
                    "cluster-server-role-index-range",
                ],
                &["cluster-even-servers", "cluster-many-servers"],
            ),
            case(
                c,
                "cluster-server-roles-max-items",
                topology(json!({"servers": 100, "serverRoles": many_roles[..100].to_vec()})),
                &[],
                &["cluster-even-servers", "cluster-many-servers"],
            ),
            case(
                c,
                "cluster-mode-has-primary",
                topology(json!({"serverModeConstraint": "SECONDARY"})),
                &["cluster-mode-has-primary"],
                &["cluster-mode-all-secondary"],
            ),
            case(
                c,
                "cluster-mode-has-primary",
                topology(
                    json!({"serverModeConstraint": "SECONDARY", "serverRoles": [{"serverIndex": 0, "modeConstraint": "PRIMARY"}]}),
                ),
                &[],
                &["cluster-mode-all-secondary"],
            ),
            // Warnings W1–W6.
            case(
                c,
                "cluster-even-servers",
                topology(json!({"servers": 4})),
                &[],
                EVEN,
            ),
            case(
                c,
                "cluster-even-servers",
                topology(json!({"servers": 5})),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-even-min-system-primaries",
                topology(json!({"servers": 5, "minSystemPrimaries": 4})),
                &[],
                &["cluster-even-min-system-primaries"],
            ),
            case(
                c,
                "cluster-even-min-system-primaries",
                topology(json!({"servers": 5, "minSystemPrimaries": 3})),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-two-servers",
                topology(json!({"servers": 2})),
                &[],
                &["cluster-even-servers", "cluster-two-servers"],
            ),
            case(
                c,
                "cluster-two-servers",
                topology(json!({"servers": 3})),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-many-servers",
                topology(json!({"servers": 11})),
                &[],
                &["cluster-many-servers"],
            ),
            case(
                c,
                "cluster-many-servers",
                topology(json!({"servers": 9})),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-mode-all-primary",
                topology(json!({"serverModeConstraint": "PRIMARY"})),
                &[],
                &["cluster-mode-all-primary"],
            ),
            case(
                c,
                "cluster-mode-all-primary",
                topology(json!({"serverModeConstraint": "NONE"})),
                &[],
                &[],
            ),
            case(
                c,
                "cluster-mode-all-secondary",
                topology(
                    json!({"serverModeConstraint": "SECONDARY", "serverRoles": [{"serverIndex": 2, "modeConstraint": "NONE"}]}),
                ),
                &[],
                &["cluster-mode-all-secondary"],
            ),
            case(
                c,
                "cluster-mode-all-secondary",
                topology(json!({"serverModeConstraint": "PRIMARY"})),
                &[],
                &["cluster-mode-all-primary"],
            ),
            // Property sharding (rules 60–63b and sharding-config-validated).
            case(
                c,
                "sharding-version",
                sharding(json!({"spec": {"image": {"tag": "2025.11.0"}}})),
                &["sharding-version"],
                FNI,
            ),
            case(c, "sharding-version", sharding(json!({})), &[], FNI),
            case(
                c,
                "sharding-version",
                json!({"spec": {"propertySharding": {"enabled": false}}}),
                &[],
                &[],
            ),
            case(
                c,
                "sharding-min-servers",
                sharding(json!({"spec": {"topology": {"servers": 0}}})),
                &["sharding-min-servers", "cluster-min-servers"],
                FNI,
            ),
            case(
                c,
                "sharding-min-servers",
                sharding(json!({"spec": {"topology": {"servers": 1}}})),
                &["cluster-min-servers"],
                FNI,
            ),
            case(
                c,
                "sharding-required-settings",
                sharding(
                    json!({"spec": {"propertySharding": {"config": {"db.query.default_language": "CYPHER_5"}}}}),
                ),
                &["sharding-required-settings"],
                FNI,
            ),
            case(
                c,
                "sharding-required-settings",
                sharding(
                    json!({"spec": {"propertySharding": {"config": {"db.query.default_language": "CYPHER_25", "internal.dbms.sharded_property_database.enabled": "true"}}}}),
                ),
                &[],
                FNI,
            ),
            case(
                c,
                "sharding-min-memory",
                sharding(
                    json!({"spec": {"resources": {"requests": {"memory": "4G", "cpu": "2"}, "limits": {"memory": "8Gi"}}}}),
                ),
                &["sharding-min-memory"],
                FNI,
            ),
            case(
                c,
                "sharding-min-memory",
                sharding(json!({"spec": {"resources": {"requests": {"cpu": "2"}}}})),
                &["sharding-min-memory"],
                FNI,
            ),
            case(
                c,
                "sharding-min-memory",
                sharding(
                    json!({"spec": {"resources": {"requests": {"memory": "4096Mi", "cpu": "1"}, "limits": {"memory": "8Gi"}}}}),
                ),
                &[],
                FNI,
            ),
            case(
                c,
                "sharding-min-memory",
                sharding(json!({"spec": {"resources": {"limits": {"memory": "8Gi"}}}})),
                &[],
                FNI,
            ),
            case(
                c,
                "sharding-min-cpu",
                sharding(
                    json!({"spec": {"resources": {"requests": {"memory": "4Gi", "cpu": "999m"}, "limits": {"memory": "8Gi"}}}}),
                ),
                &["sharding-min-cpu"],
                FNI,
            ),
            case(
                c,
                "sharding-min-cpu",
                sharding(
                    json!({"spec": {"resources": {"requests": {"memory": "4Gi", "cpu": "1000m"}, "limits": {"memory": "8Gi"}}}}),
                ),
                &[],
                FNI,
            ),
            case(
                c,
                "config-db-format",
                sharding(json!({"spec": {"propertySharding": {"config": {"db.format": "block"}}}})),
                &["config-db-format"],
                FNI,
            ),
            case(
                c,
                "config-db-format",
                json!({"spec": {"propertySharding": {"enabled": false, "config": {"db.format": "block"}}}}),
                &[],
                &[],
            ),
            case(
                c,
                "config-key-charset",
                sharding(json!({"spec": {"propertySharding": {"config": {"a\nb": "1"}}}})),
                &["config-key-charset"],
                FNI,
            ),
            // Memory (memory::check_cluster): default limit, requests-only, sharding keys.
            case(
                c,
                "memory-exceeds-limit",
                spec(json!({"config": {"server.memory.heap.max_size": "8g"}})),
                &["memory-exceeds-limit"],
                &[],
            ),
            case(
                c,
                "memory-exceeds-limit",
                spec(json!({"config": {"server.memory.heap.max_size": "1g"}})),
                &[],
                &[],
            ),
            case(
                c,
                "memory-exceeds-limit",
                spec(
                    json!({"resources": {"requests": {"memory": "1Gi"}}, "config": {"server.memory.heap.max_size": "8g"}}),
                ),
                &["memory-exceeds-limit"],
                &[],
            ),
            case(
                c,
                "memory-exceeds-limit",
                json!({"spec": {"propertySharding": {"enabled": false, "config": {"server.memory.heap.max_size": "8g"}}}}),
                &["memory-exceeds-limit"],
                &[],
            ),
            case(
                c,
                "memory-container-min",
                spec(json!({"resources": {"limits": {"memory": "512Mi"}}})),
                &["memory-container-min"],
                &[],
            ),
            case(
                c,
                "memory-container-min",
                spec(json!({"resources": {"requests": {"memory": "512Mi"}}})),
                &[],
                &[],
            ),
            case(
                c,
                "memory-cluster-size-min",
                spec(
                    json!({"topology": {"servers": 5}, "resources": {"limits": {"memory": "1Gi"}}}),
                ),
                &["memory-cluster-size-min"],
                &[],
            ),
            case(
                c,
                "memory-cluster-size-min",
                spec(
                    json!({"topology": {"servers": 5}, "resources": {"limits": {"memory": "2Gi"}}}),
                ),
                &[],
                &[],
            ),
            case(
                c,
                "memory-value-neo4j-syntax",
                spec(
                    json!({"resources": {"limits": {"memory": "8Gi"}}, "config": {"server.memory.heap.max_size": "2Gi"}}),
                ),
                &["memory-value-neo4j-syntax"],
                &[],
            ),
            case(
                c,
                "memory-value-neo4j-syntax",
                spec(
                    json!({"resources": {"limits": {"memory": "8Gi"}}, "config": {"server.memory.heap.max_size": "2g"}}),
                ),
                &[],
                &[],
            ),
            // field-not-implemented for cluster-only fields.
            case(
                c,
                "field-not-implemented",
                topology(
                    json!({"placement": {"nodeSelector": {"disk": "ssd"}, "requiredDuringScheduling": true}}),
                ),
                &[],
                &["field-not-implemented", "field-not-implemented"],
            ),
            case(
                c,
                "field-not-implemented",
                topology(
                    json!({"placement": {"nodeSelector": {}, "requiredDuringScheduling": false, "antiAffinity": {"enabled": true}}}),
                ),
                &[],
                &[],
            ),
        ]
    }

    #[test]
    fn the_minimal_valid_cluster_has_no_findings() {
        let c = valid_cluster();
        assert_verdict("valid cluster", &create(&c), &[], &[]);
        assert_verdict("valid cluster, unchanged update", &update(&c, &c), &[], &[]);
    }

    #[test]
    fn cluster_rules_table() {
        run_create_table(&cluster_cases());
    }

    #[test]
    fn every_cluster_rule_has_a_hit_and_a_near_miss() {
        let mut coverage = coverage_of(&cluster_cases());
        coverage.extend(update_cases().iter().map(|c| {
            (
                c.rule,
                c.errors.contains(&c.rule) || c.warnings.contains(&c.rule),
            )
        }));
        assert_covered(&crate::catalog::coverage::cluster(), &coverage);
        assert_covered(&crate::catalog::coverage::cluster_update(), &coverage);
    }

    struct UpdateCase {
        rule: &'static str,
        old: Value,
        new: Value,
        errors: &'static [&'static str],
        warnings: &'static [&'static str],
    }

    fn upd(
        rule: &'static str,
        old: Value,
        new: Value,
        errors: &'static [&'static str],
        warnings: &'static [&'static str],
    ) -> UpdateCase {
        UpdateCase {
            rule,
            old,
            new,
            errors,
            warnings,
        }
    }

    fn update_cases() -> Vec<UpdateCase> {
        let servers = |n: i64| topology(json!({ "servers": n }));
        let tag = |t: &str| spec(json!({"image": {"tag": t}}));
        let size = |s: &str| spec(json!({"storage": {"size": s}}));
        let class = |c: Value| spec(json!({"storage": {"className": c}}));
        let msp = |m: Value| topology(json!({"servers": 5, "minSystemPrimaries": m}));
        vec![
            upd(
                "cluster-scale-down-floor",
                servers(3),
                servers(1),
                &[
                    "cluster-scale-down-floor",
                    "cluster-scale-below-system-primaries",
                    "cluster-min-servers",
                ],
                &[],
            ),
            upd(
                "cluster-scale-down-floor",
                servers(1),
                servers(1),
                &[
                    "cluster-scale-below-system-primaries",
                    "cluster-min-servers",
                ],
                &[],
            ),
            upd("cluster-scale-down-floor", servers(5), servers(3), &[], &[]),
            upd(
                "cluster-scale-below-system-primaries",
                servers(3),
                servers(2),
                &["cluster-scale-below-system-primaries"],
                &["cluster-even-servers", "cluster-two-servers"],
            ),
            upd(
                "cluster-scale-below-system-primaries",
                topology(json!({"servers": 5, "minSystemPrimaries": 5})),
                servers(4),
                &["cluster-scale-below-system-primaries"],
                &[
                    "cluster-even-servers",
                    "cluster-min-system-primaries-immutable",
                ],
            ),
            upd(
                "cluster-scale-below-system-primaries",
                topology(json!({"servers": 4, "minSystemPrimaries": 2})),
                servers(2),
                &[],
                &[
                    "cluster-even-servers",
                    "cluster-two-servers",
                    "cluster-min-system-primaries-immutable",
                ],
            ),
            upd(
                "cluster-scale-below-system-primaries",
                servers(7),
                servers(3),
                &[],
                &[],
            ),
            upd(
                "cluster-version-upgrade",
                tag("5.26.3"),
                tag("5.26.1"),
                &["cluster-version-upgrade"],
                &[],
            ),
            upd(
                "cluster-version-upgrade",
                tag("2025.01.0"),
                tag("5.26.0"),
                &["cluster-version-upgrade"],
                &[],
            ),
            upd(
                "cluster-version-upgrade",
                tag("5.26.0-enterprise"),
                tag("2025.10.1-enterprise"),
                &[],
                &[],
            ),
            upd(
                "cluster-version-upgrade",
                tag("5.26.0"),
                tag("5.26.0"),
                &[],
                &[],
            ),
            upd(
                "storage-size-no-shrink",
                size("100Gi"),
                size("50Gi"),
                &["storage-size-no-shrink"],
                &[],
            ),
            upd(
                "storage-size-no-shrink",
                size("1Ti"),
                size("1024Gi"),
                &[],
                &[],
            ),
            upd(
                "storage-size-no-shrink",
                size("10Gi"),
                size("20Gi"),
                &[],
                &[],
            ),
            upd(
                "cluster-storage-class-immutable",
                class(json!("standard")),
                class(json!("fast-ssd")),
                &["cluster-storage-class-immutable"],
                &[],
            ),
            upd(
                "cluster-storage-class-immutable",
                class(Value::Null),
                class(json!("fast-ssd")),
                &["cluster-storage-class-immutable"],
                &[],
            ),
            upd(
                "cluster-storage-class-immutable",
                class(Value::Null),
                class(json!("")),
                &[],
                &[],
            ),
            upd(
                "cluster-min-system-primaries-immutable",
                msp(json!(3)),
                msp(json!(5)),
                &[],
                &["cluster-min-system-primaries-immutable"],
            ),
            upd(
                "cluster-min-system-primaries-immutable",
                msp(Value::Null),
                msp(json!(3)),
                &[],
                &["cluster-min-system-primaries-immutable"],
            ),
            upd(
                "cluster-min-system-primaries-immutable",
                msp(json!(3)),
                msp(json!(3)),
                &[],
                &[],
            ),
        ]
    }

    #[test]
    fn cluster_update_rules_table() {
        for c in update_cases() {
            let v = update(&cluster_from(&c.old), &cluster_from(&c.new));
            assert_verdict(
                &format!("update [{}] {} -> {}", c.rule, c.old, c.new),
                &v,
                c.errors,
                c.warnings,
            );
        }
    }

    #[test]
    fn update_rules_do_not_run_on_create() {
        let v = create(&cluster_from(&topology(
            json!({"servers": 3, "minSystemPrimaries": 3}),
        )));
        assert!(v.rules().is_empty(), "{v:?}");
    }

    #[test]
    fn effective_system_primaries_follow_the_renderer() {
        let t = |servers, m| TopologyConfiguration {
            servers,
            min_system_primaries: m,
            ..Default::default()
        };
        for (servers, m, want) in [
            (3, None, 3),
            (2, None, 2),
            (7, None, 3),
            (1, None, 2),
            (5, Some(5), 5),
            (5, Some(9), 5),
            (5, Some(1), 2),
            (-4, None, 2),
        ] {
            assert_eq!(
                effective_system_primaries(&t(servers, m)),
                want,
                "servers {servers} m {m:?}"
            );
        }
    }

    #[test]
    fn every_error_is_reported_at_once_even_after_an_image_error() {
        let c = cluster_from(
            &json!({"spec": {"image": {"tag": "latest"}, "storage": {"size": "1.5Gi"}, "config": {"db.format": "block"}}}),
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

    /// A template holding most fields, mutated at random below.
    fn rich_template() -> Value {
        json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
            "metadata": {"name": "graph", "namespace": "prod"},
            "spec": {
                "image": {"repo": "neo4j", "tag": "2025.12.0-enterprise", "pullPolicy": "Always"},
                "topology": {"servers": 3, "minSystemPrimaries": 3, "serverModeConstraint": "NONE",
                    "serverRoles": [{"serverIndex": 0, "modeConstraint": "PRIMARY"}],
                    "placement": {"nodeSelector": {"a": "b"}, "requiredDuringScheduling": true}},
                "storage": {"size": "10Gi", "className": "standard", "retentionPolicy": "Retain"},
                "acceptLicenseAgreement": "yes",
                "resources": {"requests": {"memory": "4Gi", "cpu": "1"}, "limits": {"memory": "8Gi", "cpu": "2"}},
                "env": [{"name": "NEO4J_db_format", "value": "block"}, {"name": "X", "value": "y"}],
                "config": {"server.memory.heap.max_size": "4g", "server.memory.pagecache.size": "1g", "dbms.cluster.discovery.version": "V2_ONLY"},
                "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}, "duration": "2160h", "renewBefore": "360h",
                    "usages": ["server auth", "client auth"],
                    "externalSecrets": {"enabled": true, "secretStoreRef": {"name": "v", "kind": "SecretStore"}, "refreshInterval": "1h",
                        "data": [{"secretKey": "k", "remoteRef": {"key": "r"}}]}},
                "auth": {"authenticationProviders": ["native", "oidc-okta"], "authorizationProviders": ["ldap"], "authCacheTTL": "10m",
                    "ldap": {"host": "ldap://x", "authorization": {"useSystemAccount": true, "systemAccountSecretRef": "s", "groupToRoleMapping": {"a": "b"}}},
                    "oidc": {"okta": {"audience": "a", "issuer": "i", "authFlow": "pkce", "claims": {"groups": "g"}}},
                    "trustStore": {"name": "ca"}},
                "service": {"type": "ClusterIP", "route": {"enabled": true, "tls": {"termination": "edge"}}, "ingress": {"enabled": true}},
                "monitoring": {"queryLogLevel": "INFO", "sampling": {"rate": "0.5"}, "metricsPrefix": "neo4j"},
                "upgradeStrategy": {"strategy": "RollingUpgrade", "upgradeTimeout": "30m", "maxUnavailableDuringUpgrade": 1},
                "mcp": {"enabled": true, "transport": "http", "schemaSampleSize": 100,
                    "http": {"port": 8080, "tls": {"secretName": "t"}, "service": {"port": 80, "route": {"enabled": true}}}, "auth": {"secretName": "m"}},
                "propertySharding": {"enabled": true, "config": {"db.query.default_language": "CYPHER_25", "server.memory.heap.initial_size": "1g"}},
                "auraFleetManagement": {"enabled": true, "provision": {"credentialsSecretRef": {"name": "c"}, "organizationId": "o",
                    "projectId": "p", "deploymentName": "d", "tokenPolicy": "Rotate", "managementPolicies": ["*"]}},
                "trustedCASecrets": [{"name": "ca"}],
                "extraVolumes": [{"name": "x", "emptyDir": {}}],
                "extraVolumeMounts": [{"name": "x", "mountPath": "/x"}]
            }
        })
    }

    /// One random edit per visited key: drop it, swap in a value of another type, or keep
    /// the type with a hostile value.
    pub(crate) fn scramble(v: &mut Value, edits: &mut impl Iterator<Item = (u8, String, i64)>) {
        match v {
            Value::Object(map) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                for k in keys {
                    let Some((op, s, n)) = edits.next() else {
                        return;
                    };
                    // Rare drops and type swaps, so most documents still decode.
                    match op {
                        0..=5 => {
                            map.remove(&k);
                        }
                        255 => {
                            map.insert(k, Value::String(s));
                        }
                        254 => {
                            map.insert(k, json!(n));
                        }
                        _ => {
                            if let Some(child) = map.get_mut(&k) {
                                scramble(child, edits);
                            }
                        }
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| scramble(i, edits)),
            Value::String(s) => {
                if let Some((op, new, _)) = edits.next()
                    && op % 2 == 0
                {
                    *s = new;
                }
            }
            Value::Number(_) => {
                if let Some((op, _, n)) = edits.next()
                    && op % 2 == 0
                {
                    *v = json!(n);
                }
            }
            Value::Bool(b) => *b = !*b,
            Value::Null => {}
        }
    }

    pub(crate) fn hostile_string() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "\\PC{0,70}",
            ".{0,20}",
            "[a-z0-9./-]{0,80}",
            Just("-1".to_string()),
            Just("-1Gi".to_string()),
            Just("999999Ti".to_string()),
            Just("oidc-".to_string()),
            Just("NEO4J_AUTH".to_string()),
            Just("/data".to_string()),
        ]
    }

    pub(crate) fn edits() -> impl Strategy<Value = Vec<(u8, String, i64)>> {
        let number = prop_oneof![
            4 => -5i64..200,
            2 => any::<i32>().prop_map(i64::from),
            1 => Just(i64::from(i32::MAX)),
            1 => Just(i64::from(i32::MIN)),
            1 => any::<i64>(),
        ];
        proptest::collection::vec((any::<u8>(), hostile_string(), number), 0..300)
    }

    /// Sizes near `u64::MAX` must not overflow the memory arithmetic (it saturates).
    #[test]
    fn huge_memory_values_do_not_overflow() {
        for huge in ["1e308", "99999999999999999999Ei", "18446744073709551615"] {
            let c = cluster_from(&spec(
                json!({"resources": {"limits": {"memory": huge}}, "config": {"server.memory.heap.max_size": huge, "server.memory.pagecache.size": huge}}),
            ));
            let _ = create(&c);
        }
    }

    #[test]
    fn scrambled_clusters_mostly_decode() {
        // The never-panic property is only worth something if most inputs reach the rules.
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let decoded = (0..200)
            .filter(|_| {
                edits()
                    .new_tree(&mut runner)
                    .is_ok_and(|t| scrambled_cluster(t.current()).is_some())
            })
            .count();
        assert!(
            decoded >= 80,
            "only {decoded} of 200 scrambled clusters decode"
        );
    }

    fn scrambled_cluster(seed: Vec<(u8, String, i64)>) -> Option<Neo4jEnterpriseCluster> {
        let mut doc = rich_template();
        scramble(&mut doc, &mut seed.into_iter());
        let mut c: Neo4jEnterpriseCluster = serde_json::from_value(doc).ok()?;
        crate::defaults::cluster(&mut c.spec);
        Some(c)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn create_and_update_never_panic(a in edits(), b in edits()) {
            let (old, new) = (scrambled_cluster(a), scrambled_cluster(b));
            if let Some(new) = &new {
                let v = create(new);
                prop_assert!(v.errors.iter().chain(&v.warnings).all(|f| !f.message.contains('\n')));
                let _ = cross(new, "default", &crate::engine::NoInventory);
                if let Some(old) = &old {
                    let _ = update(old, new);
                }
            }
        }
    }
}
