//! Neo4jPlugins folded into their target (`docs/design.md`, Plugins): the merge. Its rendering
//! into the pod and the config files is `render/plugin.rs`. The cluster or standalone
//! controller is the only writer of its StatefulSet and ConfigMap, so it reads the Neo4jPlugins
//! that name it and renders them in, through [`merge`]: a pure, deterministic function of the
//! plugin objects and the target's own `spec.config`.
//!
//! - Plugins are taken sorted by `metadata.name`; a disabled one (`enabled: false`) contributes
//!   nothing, and a second plugin of the same (mapped) name on one target is a duplicate that
//!   contributes nothing either.
//! - `NEO4J_PLUGINS` (Managed mode) is the sorted, de-duplicated JSON list of the mapped names
//!   (`gds` → `graph-data-science`, `neosemantics` → `n10s`) and their dependencies; the image's
//!   entrypoint installs them into `/plugins` at start.
//! - Settings go into the rendered files, never into `NEO4J_*` variables: the image writes those
//!   into a file under `$NEO4J_HOME/conf`, while the servers read the `neo4j.conf` of
//!   `$NEO4J_CONF` (the operator's). `apoc.*` keys go to `apoc.conf` next to it (APOC 5 reads only
//!   that file and its environment); every other key goes to `neo4j.conf`, in a section before the
//!   operator's and the target's own, so both override a plugin.
//! - Additive keys (the procedure lists, the HTTP allow-list, unmanaged extensions) are unioned
//!   in order. For any other key the first plugin (by name) that sets it wins; a later plugin
//!   with a different value, or one overridden by the target's `spec.config`, is in conflict:
//!   its value is not used and its status says so (`Conflict`). Keys of the Neo4j server's own
//!   namespaces are the target's to set, so a plugin cannot set them (`plugin-config-server-key`).
//! - VerifiedDownload adds an init container `plugin-init-<name>` that downloads the JAR over
//!   https with a fixed script (user values only as `"$VARIABLES"`) and checks its digest.
//!
//! Removing a plugin therefore removes exactly what it contributed: the next render simply no
//! longer sees it.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::Neo4jPluginSpec;

/// Keys whose values are comma lists that Neo4j reads as one set (the renderer's neo4j.conf
/// merges every occurrence of them the same way; a render test holds the two lists together).
pub const ADDITIVE_KEYS: [&str; 4] = [
    "dbms.security.procedures.unrestricted",
    "dbms.security.procedures.allowlist",
    "dbms.security.http_auth_allowlist",
    "server.unmanaged_extension_classes",
];

/// The name the entrypoint installs: `gds` and `neosemantics` are aliases.
pub fn mapped_name(name: &str) -> &str {
    match name {
        "gds" => "graph-data-science",
        "neosemantics" => "n10s",
        other => other,
    }
}

/// Image of the VerifiedDownload init containers unless the controller is told otherwise.
pub const DEFAULT_INIT_IMAGE: &str = "curlimages/curl:8.5.0";
/// The startup probe's smallest budget of a cluster server, in seconds (30 s delay + 5,000 s;
/// a large store gets 6 s per GiB instead, `render/cluster.rs`): the time the image's
/// entrypoint has to install Managed plugins before the kubelet restarts the pod. Below
/// [`ENTRYPOINT_DOWNLOAD_WINDOW_SECONDS`], so a slow download can outlast it.
pub const CLUSTER_STARTUP_BUDGET_SECONDS: i64 = 30 + 5_000;
/// How long the image's entrypoint may retry one plugin download (`wget --timeout 300
/// --tries 30`), in seconds.
pub const ENTRYPOINT_DOWNLOAD_WINDOW_SECONDS: i64 = 300 * 30;
/// Plugins whose Managed install downloads a large JAR at every server start.
pub const LARGE_DOWNLOADS: [&str; 3] = ["graph-data-science", "bloom", "neo4j-bloom"];

/// Key prefixes of the Neo4j server's own settings: the target's `spec.config` sets those.
const SERVER_PREFIXES: [&str; 7] = [
    "dbms.",
    "db.",
    "server.",
    "initial.",
    "internal.",
    "browser.",
    "client.",
];
/// Server keys a plugin may still set: the procedure and extension lists (additive) and
/// Bloom's own settings.
const PLUGIN_SERVER_PREFIXES: [&str; 1] = ["dbms.bloom."];
const APOC_PREFIX: &str = "apoc.";
const PLUGINS_DIR_KEY: &str = "server.directories.plugins";
const UNRESTRICTED: &str = "dbms.security.procedures.unrestricted";
const ALLOWLIST: &str = "dbms.security.procedures.allowlist";
const HTTP_ALLOWLIST: &str = "dbms.security.http_auth_allowlist";
const EXTENSIONS: &str = "server.unmanaged_extension_classes";

/// Whether `key` belongs to the Neo4j server and not to a plugin.
pub fn is_server_key(key: &str) -> bool {
    SERVER_PREFIXES.iter().any(|p| key.starts_with(p))
        && !ADDITIVE_KEYS.contains(&key)
        && !PLUGIN_SERVER_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// Whether `key` holds a comma list that Neo4j reads as a set (merged, never in conflict).
pub fn is_additive(key: &str) -> bool {
    ADDITIVE_KEYS.contains(&key)
}

/// The security settings a plugin gets without asking, by mapped name (the reference's
/// table).
fn automatic_security(mapped: &str) -> Vec<(&'static str, &'static str)> {
    match mapped {
        "bloom" | "neo4j-bloom" => vec![
            (UNRESTRICTED, "bloom.*"),
            (HTTP_ALLOWLIST, "/,/browser.*,/bloom.*"),
            (EXTENSIONS, "com.neo4j.bloom.server=/bloom"),
        ],
        "graph-data-science" => vec![(UNRESTRICTED, "gds.*,apoc.load.*")],
        "fleet-management" => vec![
            (UNRESTRICTED, "fleetManagement.*"),
            (ALLOWLIST, "fleetManagement.*"),
        ],
        _ => Vec::new(),
    }
}

/// One Neo4jPlugin as the merge reads it.
#[derive(Debug, Clone, Copy)]
pub struct PluginRef<'a> {
    /// `metadata.name`: the merge order and the name conflicts are reported under.
    pub name: &'a str,
    /// The defaulted spec.
    pub spec: &'a Neo4jPluginSpec,
}

/// What overrode a plugin's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Winner {
    /// Another Neo4jPlugin (its `metadata.name`) set the key first, to this value.
    Plugin { name: String, value: String },
    /// The target's `spec.config` sets the key, to this value.
    TargetConfig { value: String },
    /// The key is the Neo4j server's, which only the target sets.
    Server,
    /// Another Neo4jPlugin (its `metadata.name`) installs the same plugin on this target.
    Duplicate { name: String },
}

/// One request of a plugin the render does not honour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The setting (empty for a duplicate plugin).
    pub key: String,
    /// The value the plugin asked for.
    pub value: String,
    pub winner: Winner,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.winner {
            Winner::Plugin { name, value } => write!(
                f,
                "{} is {value:?} from Neo4jPlugin {name:?}, which sorts first (this plugin asks for {:?})",
                self.key, self.value
            ),
            Winner::TargetConfig { value } => write!(
                f,
                "{} is {value:?} from the target's spec.config (this plugin asks for {:?})",
                self.key, self.value
            ),
            Winner::Server => write!(
                f,
                "{} is a Neo4j server setting; set it in the target's spec.config",
                self.key
            ),
            Winner::Duplicate { name } => write!(
                f,
                "Neo4jPlugin {name:?} installs the same plugin on this target and sorts first; this one contributes nothing"
            ),
        }
    }
}

/// A JAR an init container downloads and verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// `spec.name` (a DNS label: validated at admission for VerifiedDownload).
    pub plugin: String,
    pub url: String,
    /// `sha256:<hex>` or `sha512:<hex>`, hex lower-cased (as `sha256sum` prints it).
    pub checksum: String,
    pub auth_secret: Option<String>,
}

/// Everything the Neo4jPlugins of one target contribute to it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PluginSet {
    /// `metadata.name` of every plugin folded in, sorted.
    pub members: Vec<String>,
    /// The `NEO4J_PLUGINS` list (Managed), sorted and de-duplicated.
    pub neo4j_plugins: Vec<String>,
    /// neo4j.conf lines, in order (an additive key may appear once per plugin).
    pub settings: Vec<(String, String)>,
    /// apoc.conf entries.
    pub apoc: BTreeMap<String, String>,
    pub downloads: Vec<Download>,
    /// Requests not honoured, by plugin `metadata.name`.
    pub conflicts: BTreeMap<String, Vec<Conflict>>,
    /// Image of the download init containers.
    pub init_image: String,
}

impl PluginSet {
    /// Whether nothing is contributed (the target renders exactly as without plugins).
    pub fn is_empty(&self) -> bool {
        self.neo4j_plugins.is_empty()
            && self.settings.is_empty()
            && self.apoc.is_empty()
            && self.downloads.is_empty()
    }

    /// The requests of plugin `name` (its `metadata.name`) that are not honoured.
    pub fn conflicts_of(&self, name: &str) -> &[Conflict] {
        self.conflicts.get(name).map_or(&[], Vec::as_slice)
    }
}

/// Which kind of target the plugins are folded into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Cluster,
    Standalone,
}

/// Folds `plugins` into one [`PluginSet`] for a target whose own `spec.config` is
/// `target_config` (see the module docs for the rules).
pub fn merge<'a>(
    target: Target,
    target_config: Option<&BTreeMap<String, String>>,
    plugins: impl IntoIterator<Item = PluginRef<'a>>,
    init_image: &str,
) -> PluginSet {
    let mut plugins: Vec<PluginRef<'a>> = plugins
        .into_iter()
        .filter(|p| p.spec.enabled != Some(false))
        .collect();
    plugins.sort_by(|a, b| a.name.cmp(b.name));
    let target_config = target_config.cloned().unwrap_or_default();
    let mut set = PluginSet {
        init_image: init_image.to_string(),
        ..Default::default()
    };
    let mut installs: BTreeMap<String, String> = BTreeMap::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    // Scalar keys already taken: key → (plugin, value).
    let mut taken: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut needs_plugin_dir = false;

    for p in plugins {
        let spec = p.spec;
        let Some(plugin) = spec.name.as_deref().filter(|n| !n.is_empty()) else {
            continue;
        };
        let mapped = mapped_name(plugin).to_string();
        if let Some(first) = installs.get(&mapped) {
            set.conflicts
                .entry(p.name.to_string())
                .or_default()
                .push(Conflict {
                    key: String::new(),
                    value: String::new(),
                    winner: Winner::Duplicate {
                        name: first.clone(),
                    },
                });
            continue;
        }
        installs.insert(mapped.clone(), p.name.to_string());
        set.members.push(p.name.to_string());
        let mut conflicts = Vec::new();

        match spec.install_mode.as_deref().unwrap_or("Managed") {
            "Managed" => {
                needs_plugin_dir = true;
                names.insert(mapped.clone());
                for dep in spec.dependencies.iter().flatten() {
                    if let Some(d) = dep.name.as_deref().filter(|d| !d.is_empty()) {
                        names.insert(mapped_name(d).to_string());
                    }
                }
            }
            "VerifiedDownload" => {
                needs_plugin_dir = true;
                let source = spec.source.clone().unwrap_or_default();
                set.downloads.push(Download {
                    plugin: plugin.to_string(),
                    url: source.url.unwrap_or_default(),
                    checksum: lower_hex(source.checksum.as_deref().unwrap_or_default()),
                    auth_secret: source.auth_secret.filter(|s| !s.is_empty()),
                });
            }
            _ => {}
        }

        // Security: the automatic set, with each list the spec gives replacing it.
        let mut security: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for (key, value) in automatic_security(&mapped) {
            security.insert(key, value.split(',').map(str::to_string).collect());
        }
        // `deniedProcedures` has no neo4j.conf counterpart (Neo4j 5 and later read no procedure
        // denylist; strict validation would refuse the key): admission warns that it is not
        // applied, and nothing of it is rendered.
        if let Some(sec) = &spec.security {
            let allowed: Vec<String> = sec.allowed_procedures.clone().unwrap_or_default();
            if !allowed.is_empty() {
                security.insert(ALLOWLIST, allowed.clone());
                if sec.sandbox == Some(true) {
                    security.remove(UNRESTRICTED);
                } else {
                    security.insert(UNRESTRICTED, allowed);
                }
            }
        }
        for (key, values) in security {
            set.settings.push((key.to_string(), values.join(",")));
        }

        for (key, value) in spec.config.iter().flatten() {
            if key.starts_with(APOC_PREFIX) {
                claim(&mut taken, &mut conflicts, p.name, key, value, None, || {
                    set.apoc.insert(key.clone(), value.clone());
                });
            } else if is_additive(key) {
                set.settings.push((key.clone(), value.clone()));
            } else if is_server_key(key) {
                conflicts.push(Conflict {
                    key: key.clone(),
                    value: value.clone(),
                    winner: Winner::Server,
                });
            } else {
                claim(
                    &mut taken,
                    &mut conflicts,
                    p.name,
                    key,
                    value,
                    target_config.get(key),
                    || set.settings.push((key.clone(), value.clone())),
                );
            }
        }
        if !conflicts.is_empty() {
            set.conflicts
                .entry(p.name.to_string())
                .or_default()
                .extend(conflicts);
        }
    }
    if needs_plugin_dir && target == Target::Standalone {
        // Where the entrypoint and the init containers put the JARs (a cluster's neo4j.conf
        // sets it already).
        set.settings
            .insert(0, (PLUGINS_DIR_KEY.to_string(), "/plugins".to_string()));
    }
    set.neo4j_plugins = names.into_iter().collect();
    set
}

/// Takes the scalar `key` for plugin `owner` unless the target's own config or an earlier
/// plugin has it; `use_it` records the value when taken.
fn claim(
    taken: &mut BTreeMap<String, (String, String)>,
    conflicts: &mut Vec<Conflict>,
    owner: &str,
    key: &str,
    value: &str,
    target_value: Option<&String>,
    use_it: impl FnOnce(),
) {
    if let Some(target) = target_value
        && target != value
    {
        conflicts.push(Conflict {
            key: key.to_string(),
            value: value.to_string(),
            winner: Winner::TargetConfig {
                value: target.clone(),
            },
        });
        return;
    }
    match taken.get(key) {
        Some((first, first_value)) if first_value != value => conflicts.push(Conflict {
            key: key.to_string(),
            value: value.to_string(),
            winner: Winner::Plugin {
                name: first.clone(),
                value: first_value.clone(),
            },
        }),
        Some(_) => {}
        None => {
            taken.insert(key.to_string(), (owner.to_string(), value.to_string()));
            use_it();
        }
    }
}

/// `sha256:ABC…` → `sha256:abc…`: `sha256sum` prints lower-case hex, so an upper-case digest
/// would never match.
fn lower_hex(checksum: &str) -> String {
    match checksum.split_once(':') {
        Some((algo, hex)) => format!("{algo}:{}", hex.to_ascii_lowercase()),
        None => checksum.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn spec(v: Value) -> Neo4jPluginSpec {
        let mut s: Neo4jPluginSpec = serde_json::from_value(v).expect("spec");
        crate::defaults::plugin(&mut s);
        s
    }

    fn merged(target: Target, config: Option<Value>, plugins: &[(&str, Value)]) -> PluginSet {
        let specs: Vec<(&str, Neo4jPluginSpec)> =
            plugins.iter().map(|(n, v)| (*n, spec(v.clone()))).collect();
        let config: Option<BTreeMap<String, String>> =
            config.map(|c| serde_json::from_value(c).expect("config"));
        merge(
            target,
            config.as_ref(),
            specs.iter().map(|(name, spec)| PluginRef { name, spec }),
            DEFAULT_INIT_IMAGE,
        )
    }

    fn lines(set: &PluginSet) -> Vec<(&str, &str)> {
        set.settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn managed_plugins_are_mapped_sorted_and_deduplicated() {
        let set = merged(
            Target::Cluster,
            None,
            &[
                (
                    "z-n10s",
                    json!({"name": "neosemantics", "version": "5.26.0", "dependencies": [{"name": "apoc"}]}),
                ),
                ("a-gds", json!({"name": "gds", "version": "2.10.0"})),
                ("m-apoc", json!({"name": "apoc", "version": "5.26.0"})),
                (
                    "off",
                    json!({"name": "bloom", "version": "2.15.0", "enabled": false}),
                ),
            ],
        );
        assert_eq!(set.neo4j_plugins, ["apoc", "graph-data-science", "n10s"]);
        assert_eq!(set.members, ["a-gds", "m-apoc", "z-n10s"]);
        assert_eq!(
            lines(&set),
            [("dbms.security.procedures.unrestricted", "gds.*,apoc.load.*")]
        );
        assert!(set.conflicts.is_empty());
    }

    #[test]
    fn the_first_plugin_by_name_wins_a_setting_and_the_later_one_is_in_conflict() {
        let set = merged(
            Target::Cluster,
            None,
            &[
                (
                    "b",
                    json!({"name": "one", "version": "1.0", "config": {"x.mode": "slow", "apoc.trigger.enabled": "false"}}),
                ),
                (
                    "a",
                    json!({"name": "two", "version": "1.0", "config": {"x.mode": "fast", "apoc.trigger.enabled": "true"}}),
                ),
                (
                    "c",
                    json!({"name": "three", "version": "1.0", "config": {"x.mode": "fast"}}),
                ),
            ],
        );
        assert_eq!(lines(&set), [("x.mode", "fast")]);
        assert_eq!(
            set.apoc,
            BTreeMap::from([("apoc.trigger.enabled".to_string(), "true".to_string())])
        );
        let b = set.conflicts_of("b");
        assert_eq!(b.len(), 2);
        assert_eq!(
            b[1],
            Conflict {
                key: "x.mode".into(),
                value: "slow".into(),
                winner: Winner::Plugin {
                    name: "a".into(),
                    value: "fast".into()
                }
            }
        );
        assert!(b[1].to_string().contains("Neo4jPlugin \"a\""), "{}", b[1]);
        assert!(
            set.conflicts_of("c").is_empty(),
            "the same value is no conflict"
        );
        assert!(set.conflicts_of("a").is_empty());
    }

    #[test]
    fn additive_keys_are_unioned_and_server_keys_refused() {
        let set = merged(
            Target::Cluster,
            Some(json!({"x.mode": "target", "dbms.security.procedures.unrestricted": "custom.*"})),
            &[
                (
                    "a",
                    json!({"name": "apoc", "version": "5.26.0",
                    "security": {"allowedProcedures": ["apoc.*"], "deniedProcedures": ["apoc.load.*"]},
                    "config": {"dbms.memory.heap.max_size": "9g", "x.mode": "plugin"}}),
                ),
                (
                    "b",
                    json!({"name": "bloom", "version": "2.15.0", "security": {"allowedProcedures": ["bloom.*"], "sandbox": true}}),
                ),
            ],
        );
        assert_eq!(
            lines(&set),
            [
                ("dbms.security.procedures.allowlist", "apoc.*"),
                ("dbms.security.procedures.unrestricted", "apoc.*"),
                ("dbms.security.http_auth_allowlist", "/,/browser.*,/bloom.*"),
                ("dbms.security.procedures.allowlist", "bloom.*"),
                (
                    "server.unmanaged_extension_classes",
                    "com.neo4j.bloom.server=/bloom"
                ),
            ]
        );
        let winners: Vec<&Winner> = set.conflicts_of("a").iter().map(|c| &c.winner).collect();
        assert_eq!(
            winners,
            [
                &Winner::Server,
                &Winner::TargetConfig {
                    value: "target".into()
                }
            ]
        );
    }

    #[test]
    fn duplicates_contribute_nothing() {
        let set = merged(
            Target::Cluster,
            None,
            &[
                (
                    "b",
                    json!({"name": "graph-data-science", "version": "2.10.0", "config": {"gds.x": "1"}}),
                ),
                ("a", json!({"name": "gds", "version": "2.10.0"})),
            ],
        );
        assert_eq!(set.members, ["a"]);
        assert!(!lines(&set).iter().any(|(k, _)| *k == "gds.x"));
        assert_eq!(
            set.conflicts_of("b")[0].winner,
            Winner::Duplicate { name: "a".into() }
        );
    }

    #[test]
    fn downloads_are_pinned_to_a_lower_case_digest_and_standalones_get_the_plugin_dir() {
        let sum = format!("sha256:{}", "AB".repeat(32));
        let set = merged(
            Target::Standalone,
            None,
            &[(
                "x",
                json!({"name": "custom", "version": "1.0", "installMode": "VerifiedDownload",
                "source": {"type": "url", "url": "https://h/c.jar", "checksum": sum, "authSecret": "dl"}}),
            )],
        );
        assert_eq!(
            set.downloads,
            [Download {
                plugin: "custom".into(),
                url: "https://h/c.jar".into(),
                checksum: format!("sha256:{}", "ab".repeat(32)),
                auth_secret: Some("dl".into()),
            }]
        );
        assert!(
            set.neo4j_plugins.is_empty(),
            "a verified download is not NEO4J_PLUGINS"
        );
        assert_eq!(lines(&set), [("server.directories.plugins", "/plugins")]);
        let prebaked = merged(
            Target::Standalone,
            None,
            &[(
                "p",
                json!({"name": "apoc", "version": "5.26.0", "installMode": "PreBaked"}),
            )],
        );
        assert!(prebaked.is_empty());
    }

    #[test]
    fn order_of_input_does_not_matter() {
        let plugins = [
            (
                "a",
                json!({"name": "apoc", "version": "5.26.0", "config": {"apoc.export.file.enabled": "true"}}),
            ),
            (
                "b",
                json!({"name": "gds", "version": "2.10.0", "config": {"gds.arrow.enabled": "true"}}),
            ),
        ];
        let forward = merged(Target::Cluster, None, &plugins);
        let mut reversed = plugins.clone();
        reversed.reverse();
        assert_eq!(forward, merged(Target::Cluster, None, &reversed));
    }

    #[test]
    fn server_keys_are_the_neo4j_namespaces_minus_the_plugin_lists() {
        for key in [
            "dbms.memory.heap.max_size",
            "server.jvm.additional",
            "db.format",
            "initial.dbms.x",
        ] {
            assert!(is_server_key(key), "{key}");
        }
        for key in [
            "dbms.security.procedures.unrestricted",
            "server.unmanaged_extension_classes",
            "dbms.bloom.license_file",
            "gds.enterprise.license_file",
            "apoc.export.file.enabled",
        ] {
            assert!(!is_server_key(key), "{key}");
        }
    }
}
