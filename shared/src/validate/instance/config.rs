//! Free-form neo4j.conf settings, from `spec.config` (or a cluster's property-sharding config) and
//! from `NEO4J_*` env variables the image turns into settings: keys the operator manages, keys a
//! kind does not allow, and values that would break out of their line.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use k8s_openapi::api::core::v1 as corev1;
use regex::Regex;

use crate::inventory::InstanceKind;
use crate::validate::{has_control_chars, item_path, key_path, regex, shown};
use crate::verdict::Verdict;
use crate::version::Neo4jVersion;

static CONFIG_KEY: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"));

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

/// The key rules: `config-key-charset`, the discovery-version rules, the keys the operator
/// manages or that are deprecated, and the keys a standalone does not allow. `value` is `None`
/// when it is not known (an env variable read from a Secret): value rules then pass.
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

/// `config-value-control-chars` and `config-value-controls`: a value must stay on its conf line.
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

/// The value and key rules over one free-form conf map: `spec.config`,
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
