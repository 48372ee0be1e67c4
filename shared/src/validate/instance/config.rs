//! Free-form neo4j.conf settings, from `spec.config` (or a cluster's property-sharding config) and
//! from `NEO4J_*` env variables the image turns into settings: keys the operator manages, keys a
//! kind does not allow, and values that would break out of their line.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1 as corev1;

use crate::inventory::InstanceKind;
use crate::memory;
use crate::settings::{self, Catalogue, Choice, Guess, Line, Lookup, env};
use crate::validate::{KeyPath, has_control_chars, item_path, shown};
use crate::verdict::Verdict;
use crate::version::Neo4jVersion;

/// A setting name neo4j.conf can hold on one line: `^[A-Za-z0-9][A-Za-z0-9_.-]*$`, checked by
/// hand because every key of every review passes through it twice.
fn config_key_charset(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

const DISCOVERY_VERSION_KEY: &str = "dbms.cluster.discovery.version";
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
    if !config_key_charset(key) {
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
        let field = KeyPath(map_path, key);
        if let Some(r) = value_refusal(value) {
            v.error(r.rule, field.to_string(), format!("{field} {}", r.reason));
        }
        if let Some(r) = key_refusal(kind, key, Some(value), version, tag) {
            v.error(
                r.rule,
                field.to_string(),
                format!("{} {}", shown(key), r.reason),
            );
        }
    }
}

/// What the catalogue checks of one instance need: the catalogue its image tag chooses, the
/// 5.26 one for legacy names, whether Neo4j's strict validation stays on, and the spec's own
/// keys (to tell env settings that override them).
pub struct Settings<'a> {
    pub kind: InstanceKind,
    pub tag: &'a str,
    pub choice: Choice,
    catalogue: Option<&'static Catalogue>,
    lts: Option<&'static Catalogue>,
    /// `server.config.strict_validation.enabled` is not switched off (spec.config or env).
    pub strict: bool,
    config: Option<&'a BTreeMap<String, String>>,
    /// `config-catalogue-version` was reported for this object.
    version_warned: Cell<bool>,
}

const STRICT_KEY: &str = "server.config.strict_validation.enabled";
/// A cluster's memory keys, whose values the memory rules check.
const CLUSTER_MEMORY_KEYS: [&str; 5] = [
    memory::HEAP_INITIAL_KEY,
    memory::HEAP_MAX_KEY,
    memory::PAGECACHE_KEY,
    memory::TX_TOTAL_KEY,
    memory::TX_MAX_KEY,
];

impl<'a> Settings<'a> {
    pub fn new(
        kind: InstanceKind,
        tag: &'a str,
        config: Option<&'a BTreeMap<String, String>>,
        env: Option<&[corev1::EnvVar]>,
    ) -> Self {
        let choice = settings::choose(tag);
        // The env value wins over spec.config, as in the rendered file.
        let from_env = env
            .into_iter()
            .flatten()
            .rev()
            .find_map(|e| match env::classify(&e.name) {
                env::EnvVar::Setting { key } if key == STRICT_KEY => e.value.clone(),
                _ => None,
            });
        let value = from_env.or_else(|| config.and_then(|c| c.get(STRICT_KEY)).cloned());
        Settings {
            kind,
            tag,
            choice,
            catalogue: settings::catalogue(choice.line),
            lts: settings::catalogue(Line::Lts),
            strict: !value.is_some_and(|v| v.trim().eq_ignore_ascii_case("false")),
            config,
            version_warned: Cell::new(false),
        }
    }

    /// `config-catalogue-version`, once per object, when the tag names no line and a setting
    /// reaches the catalogue.
    fn catalogue_version(&self, v: &mut Verdict) {
        if self.choice.guess == Some(Guess::UnknownTag) && !self.version_warned.replace(true) {
            v.warn(
                "config-catalogue-version",
                "spec.image.tag",
                format!(
                    "spec.image.tag {} names no supported Neo4j release, so settings were checked against the newest catalogue (CalVer, documented up to {}); use a 5.26.x or CalVer tag",
                    shown(self.tag),
                    self.catalogue
                        .and_then(|c| c.documented)
                        .map_or("?".into(), settings::release)
                ),
            );
        }
    }

    /// Keys the operator sets itself on this kind whatever the spec says (a user value is
    /// dropped from the rendered file, and a rule of its own judges it).
    fn operator_set(&self, key: &str) -> bool {
        self.kind == InstanceKind::Cluster && key == DISCOVERY_VERSION_KEY
    }

    /// Keys whose values other rules own: a cluster's memory keys (the memory rules).
    fn value_owned_elsewhere(&self, key: &str) -> bool {
        self.kind == InstanceKind::Cluster && CLUSTER_MEMORY_KEYS.contains(&key)
    }

    /// The catalogue rules for one setting: `subject` says where it came from ("spec.config key
    /// \"x\"", "spec.env[2].name NEO4J_x sets y, which"), `value` is `None` when not known.
    fn check(
        &self,
        subject: &Subject<'_>,
        key: &str,
        value: Option<&str>,
        field: &dyn fmt::Display,
        v: &mut Verdict,
    ) {
        let Some(catalogue) = self.catalogue else {
            return;
        };
        self.catalogue_version(v);
        match env::namespace(key) {
            // Rendered into apoc.conf; APOC's settings are not catalogued.
            env::Namespace::Apoc => return,
            env::Namespace::Plugin(plugin) => {
                v.warn(
                    "config-plugin-key",
                    field.to_string(),
                    format!("{subject} is a setting of the {plugin} plugin, not of Neo4j; Neo4j refuses it at start unless that plugin is installed (Neo4jPlugin or a jar in /plugins)"),
                );
                return;
            }
            env::Namespace::Neo4j => {}
        }
        let line = catalogue.line.name();
        let version = self.choice.version;
        let shown_version = || version.map_or_else(|| self.tag.to_string(), settings::release);
        let replacement = |to: Option<&str>| match to {
            Some(to) => format!("; use {to} instead"),
            None => String::new(),
        };
        let value_check = |setting: Option<&settings::Setting>, v: &mut Verdict| {
            if let (Some(s), Some(value)) = (setting, value)
                && !self.value_owned_elsewhere(&s.name)
                && let Some(why) = s.value.check(value)
            {
                v.error(
                    "config-value",
                    field.to_string(),
                    format!(
                        "{subject} has the value {} which {why}; give {}",
                        shown(value),
                        s.value.describe()
                    ),
                );
            }
        };
        match catalogue.lookup(key, version) {
            Lookup::Known(s) => {
                if let Some(since) = s.deprecated.as_deref() {
                    v.warn(
                        "config-deprecated-key",
                        field.to_string(),
                        format!("{subject} is deprecated since Neo4j {since}{}", match s.replaced_by.as_deref() {
                            Some(to) => format!("; use {to} instead"),
                            None => "; it will be removed, so plan to drop it".into(),
                        }),
                    );
                }
                value_check(Some(s), v);
            }
            Lookup::NotYet(s) => self.unknown(
                key,
                subject,
                field,
                &format!(
                    "was introduced in Neo4j {}, after the image's {}",
                    s.introduced.map_or("?".into(), settings::release),
                    shown_version()
                ),
                v,
            ),
            Lookup::Removed(g) => v.error(
                "config-removed-key",
                field.to_string(),
                format!(
                    "{subject} was removed in Neo4j {} and the image is {}{}",
                    g.removed_in.map_or("?".into(), settings::release),
                    shown_version(),
                    match g.replaced_by.as_deref() {
                        Some(to) => format!("; use {to} instead"),
                        None => "; remove it".into(),
                    }
                ),
            ),
            Lookup::Legacy(Some(to)) => {
                v.warn(
                    "config-deprecated-key",
                    field.to_string(),
                    format!("{subject} is the Neo4j 4.x name of {to}, which Neo4j {line} still reads with a warning; use {to} instead"),
                );
                value_check(catalogue.lookup(to, version).known(), v);
            }
            // Neo4j 5.26 starts with it (its migrator drops the key and logs a warning), so
            // admission warns rather than refusing what the server accepts.
            Lookup::Legacy(None) => v.warn(
                "config-deprecated-key",
                field.to_string(),
                format!("{subject} was removed in Neo4j 5.0 and has no effect: Neo4j {line} drops it with a warning; remove it"),
            ),
            Lookup::Unknown => {
                // A 4.x name the CalVer releases are not documented to read any more.
                if catalogue.line == Line::CalVer
                    && let Some(Lookup::Legacy(to)) = self.lts.map(|l| l.lookup(key, None))
                {
                    v.error(
                        "config-removed-key",
                        field.to_string(),
                        format!("{subject} is a Neo4j 4.x name that Neo4j 5.26 still read, but the CalVer releases do not document it{}", replacement(to).replace("; use", "; use the current name")),
                    );
                    return;
                }
                let hint = match catalogue.suggest(key) {
                    Some(s) => format!("; did you mean {s}?"),
                    None => String::new(),
                };
                self.unknown(
                    key,
                    subject,
                    field,
                    &format!("is not a setting of Neo4j {line} (image {}){hint}", shown_version()),
                    v,
                );
            }
        }
    }

    /// `config-unknown-key`, or `config-unverified-key` where the catalogue cannot be sure:
    /// internal settings, strict validation switched off, or an image newer than the catalogue.
    fn unknown(
        &self,
        key: &str,
        subject: &Subject<'_>,
        field: &dyn fmt::Display,
        why: &str,
        v: &mut Verdict,
    ) {
        let unsure = if key.starts_with("internal.") {
            Some("internal settings are not documented, and Neo4j refuses one it does not declare")
        } else if !self.strict {
            Some("strict validation is off, so Neo4j only logs a warning and ignores it")
        } else if let Some(Guess::NewerThanCatalogue(_)) = self.choice.guess {
            Some(
                "the image is newer than the settings catalogue, so it may exist; Neo4j refuses it at start if it does not",
            )
        } else {
            None
        };
        match unsure {
            Some(reason) => v.warn(
                "config-unverified-key",
                field.to_string(),
                format!("{subject} {why}; {reason}"),
            ),
            None => v.error(
                "config-unknown-key",
                field.to_string(),
                format!("{subject} {why}"),
            ),
        }
    }
}

/// Where a setting came from, as the start of a message about it; written out only when a
/// message is (most settings get none).
enum Subject<'a> {
    /// `spec.config key "x"`
    ConfigKey(&'a str),
    /// `spec.env[2].name "NEO4J_x" sets x, which`
    EnvVar {
        field: &'a str,
        name: &'a str,
        key: &'a str,
    },
}

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::ConfigKey(key) => write!(f, "spec.config key {}", shown(key)),
            Subject::EnvVar { field, name, key } => {
                write!(f, "{field} {} sets {key}, which", shown(name))
            }
        }
    }
}

/// The catalogue rules over `spec.config` (`config-unknown-key`, `config-removed-key`,
/// `config-deprecated-key`, `config-value`, `config-unverified-key`, `config-plugin-key`,
/// `config-catalogue-version`). A key another config rule already refused is left to that rule.
pub fn settings(s: &Settings<'_>, v: &mut Verdict) {
    let Some(map) = s.config.filter(|m| !m.is_empty()) else {
        return;
    };
    let version = s.choice.version;
    for (key, value) in map {
        if value_refusal(value).is_some()
            || key_refusal(s.kind, key, Some(value), version, s.tag).is_some()
            || s.operator_set(key)
        {
            continue;
        }
        let field = KeyPath("spec.config", key);
        s.check(&Subject::ConfigKey(key), key, Some(value), &field, v);
    }
}

/// The spec fields the entry-point variables contradict or repeat.
pub struct EnvContext<'a> {
    pub license: Option<&'a str>,
}

/// `spec.env`: entry-point variables (`env-entrypoint-override`, a warning when one contradicts
/// the spec or does nothing), settings the image derives from `NEO4J_*` names (the key rules
/// under `env-no-neo4j-setting-override`, then the catalogue rules under their own ids), and
/// settings that override `spec.config` (`env-overrides-config`).
pub fn env(
    s: &Settings<'_>,
    spec: &EnvContext<'_>,
    list: Option<&[corev1::EnvVar]>,
    v: &mut Verdict,
) {
    let list = list.unwrap_or_default();
    for (i, e) in list.iter().enumerate() {
        let name = e.name.as_str();
        // The path is built only for the entries the rules look at (most are the app's own).
        let field = || item_path("spec.env", i, "name");
        let (key, from_file) = match env::classify(name) {
            env::EnvVar::Other => continue,
            env::EnvVar::EntryPoint => {
                entry_point(&field(), name, e.value.as_deref(), spec, v);
                continue;
            }
            env::EnvVar::File { key } => (key, true),
            env::EnvVar::Setting { key } => (key, false),
        };
        let field = field();
        // A value read from a file, a Secret or a ConfigMap is not known here.
        let value = if from_file { None } else { e.value.as_deref() };
        let refusal = value
            .and_then(value_refusal)
            .or_else(|| key_refusal(s.kind, &key, value, s.choice.version, s.tag));
        if let Some(r) = refusal {
            v.error(
                "env-no-neo4j-setting-override",
                &field,
                format!("{field} is {}, which the image turns into the setting {key}; that setting {} ({})", shown(name), r.reason, r.rule),
            );
            continue;
        }
        if s.operator_set(&key) {
            continue;
        }
        let subject = Subject::EnvVar {
            field: &field,
            name,
            key: &key,
        };
        s.check(&subject, &key, value, &field, v);
        if s.config.is_some_and(|c| c.contains_key(&key)) {
            v.warn(
                "env-overrides-config",
                &field,
                format!("{field} {} sets {key}, which spec.config also sets; the spec.env value is used — keep only one", shown(name)),
            );
        }
    }
}

/// `env-entrypoint-override` for one of the image's control variables (or its `_FILE` form,
/// which the image reads into the variable before anything else).
fn entry_point(
    field: &str,
    name: &str,
    value: Option<&str>,
    spec: &EnvContext<'_>,
    v: &mut Verdict,
) {
    let rule = "env-entrypoint-override";
    let (name, value) = match name.strip_suffix("_FILE") {
        // The content of the file is not known here.
        Some(base) => (base, None),
        None => (name, value.map(str::trim)),
    };
    let message = match name {
        "NEO4J_ACCEPT_LICENSE_AGREEMENT" => match (spec.license.map(str::trim), value) {
            (Some(l), Some(e)) if !l.is_empty() && l == e => format!(
                "{field} NEO4J_ACCEPT_LICENSE_AGREEMENT repeats spec.acceptLicenseAgreement ({l}), which the operator passes to the image itself; remove it"
            ),
            (Some(l), _) if !l.is_empty() => format!(
                "{field} NEO4J_ACCEPT_LICENSE_AGREEMENT is {} but spec.acceptLicenseAgreement is {l}; the spec's value is used — remove the variable",
                shown(value.unwrap_or_default())
            ),
            _ => format!(
                "{field} NEO4J_ACCEPT_LICENSE_AGREEMENT is not read: the operator takes the licence acceptance from spec.acceptLicenseAgreement only; set it there and remove the variable"
            ),
        },
        "NEO4J_AUTH" | "NEO4J_AUTH_PATH" if value == Some("none") => format!(
            "{field} {name} is not read: the operator sets the initial password from the admin Secret (spec.auth.adminSecret); to run without authentication set spec.config dbms.security.auth_enabled: \"false\""
        ),
        "NEO4J_AUTH" | "NEO4J_AUTH_PATH" => format!(
            "{field} {name} is not read: the operator sets the initial password from the admin Secret (spec.auth.adminSecret); put the password there and remove the variable"
        ),
        "NEO4J_EDITION" if value == Some("enterprise") => {
            format!("{field} NEO4J_EDITION repeats what the operator sets (enterprise); remove it")
        }
        "NEO4J_EDITION" => format!(
            "{field} NEO4J_EDITION is {} but the operator runs the Enterprise edition and sets it to enterprise; remove it",
            shown(value.unwrap_or_default())
        ),
        "NEO4J_UDC_PACKAGING" | "NEO4J_CONF" => {
            format!("{field} {name} is set by the operator, so this value is not used; remove it")
        }
        "NEO4J_SHA256" | "NEO4J_TARBALL" => format!(
            "{field} {name} is only read when the image is built and does nothing here; remove it"
        ),
        "NEO4J_HOME" => format!(
            "{field} NEO4J_HOME moves where the image looks for Neo4j and breaks the rendered paths; remove it"
        ),
        "NEO4J_PLUGINS" => format!(
            "{field} NEO4J_PLUGINS downloads plugins at every start, and the settings the image adds for them are not read here; use Neo4jPlugin, or set those settings in spec.config"
        ),
        // NEO4J_DEBUG, NEO4J_DEPRECATION_WARNING and the *_FILE forms of entry-point variables:
        // read by the image, no conflict with the spec.
        _ => return,
    };
    v.warn(rule, field, message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::regex;

    proptest::proptest! {
        /// The hand-written charset check accepts exactly what its pattern does.
        #[test]
        fn config_key_charset_is_its_pattern(key in "[A-Za-z0-9_.\\-\n é\\[=#]{0,12}") {
            let pattern = regex(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$");
            proptest::prop_assert_eq!(config_key_charset(&key), pattern.is_match(&key));
        }
    }

    #[test]
    fn config_key_charset_cases() {
        for ok in ["db.format", "9lives", "a_b-c.d", "A"] {
            assert!(config_key_charset(ok), "{ok}");
        }
        for bad in [
            "",
            ".db",
            "-x",
            "_x",
            "db format",
            "db\nx",
            "dé",
            "db=1",
            "x\n",
        ] {
            assert!(!config_key_charset(bad), "{bad:?}");
        }
    }
}
