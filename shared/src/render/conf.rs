//! neo4j.conf and the scripts of the `<name>-config` ConfigMaps (`docs/design.md`, Rendering
//! decisions).
//!
//! A file is built as an ordered list of sections and settings, then deduplicated once: a
//! scalar key keeps its last value (so a `spec.config` entry overrides a built-in default),
//! the additive list keys become one line holding the ordered union of their comma tokens,
//! and the repeatable JVM keys keep every line. Values are forced onto one line, whatever the
//! validator let through, so no value can forge a second setting.
//!
//! What the user writes reaches the file in this order, each later source winning over an
//! earlier one for a scalar key: the operator's defaults, `spec.config`, then the `NEO4J_*`
//! variables of `spec.env` (the image's environment overrides neo4j.conf, so env wins here too;
//! `docs/design.md`, Settings from spec.env). Keys the operator manages are dropped from both.
//! `apoc.*` settings go to `apoc.conf`, next to neo4j.conf, where APOC reads them (Neo4j 5 refuses
//! them in neo4j.conf). A `NEO4J_*` variable whose value the kubelet resolves (a Secret or
//! ConfigMap reference) or that names a file (`NEO4J_*_FILE`) is listed in `env-settings`, and
//! the startup script appends its value when the container starts, so a secret never lands in a
//! ConfigMap.
//!
//! The scripts are constants: they read every value from `/conf` or the environment and never
//! evaluate one as shell code, so no user input reaches a shell.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1 as corev1;

use crate::memory::{
    HEAP_INITIAL_KEY, HEAP_MAX_KEY, MemoryPlan, PAGECACHE_KEY, TX_MAX_KEY, TX_TOTAL_KEY,
};
use crate::settings::env::{self, EnvVar, Namespace};
use crate::types::{AuthSpec, MonitoringSpec, TLSSpec, TopologyConfiguration};
use crate::version::Neo4jVersion;

use super::object::{PORT_BACKUP, PORT_BOLT, PORT_CLUSTER, PORT_HTTP, PORT_HTTPS, PORT_METRICS};
use super::object::{PORT_RAFT, PORT_ROUTING, cert_manager_tls, strict_peer_validation};

/// Keys whose values are comma lists that Neo4j reads as one set: every occurrence is merged.
pub(crate) const ADDITIVE_KEYS: [&str; 4] = [
    "dbms.security.procedures.unrestricted",
    "dbms.security.procedures.allowlist",
    "dbms.security.http_auth_allowlist",
    "server.unmanaged_extension_classes",
];
/// Keys Neo4j reads once per line.
const REPEATABLE_KEYS: [&str; 2] = ["server.jvm.additional", "dbms.jvm.additional"];

/// Keys the operator writes itself on every cluster server (statically here, or per pod in
/// `startup.sh`); a `spec.config` value for them is dropped (the validator refuses most of them
/// already — this keeps a stored object from before the webhook from starting a broken server).
const CLUSTER_MANAGED_KEYS: [&str; 19] = [
    HEAP_INITIAL_KEY,
    HEAP_MAX_KEY,
    PAGECACHE_KEY,
    TX_TOTAL_KEY,
    TX_MAX_KEY,
    "server.bolt.tls_level",
    "server.directories.certificates",
    "db.format",
    "dbms.cluster.discovery.version",
    "dbms.cluster.discovery.resolver_type",
    "dbms.cluster.discovery.v2.endpoints",
    "dbms.cluster.endpoints",
    "dbms.kubernetes.label_selector",
    "dbms.kubernetes.discovery.service_port_name",
    "server.default_advertised_address",
    "server.cluster.advertised_address",
    "server.routing.advertised_address",
    "server.cluster.raft.advertised_address",
    "initial.server.mode_constraint",
];
/// Written at first boot from `bootstrap.conf`.
const SYSTEM_PRIMARIES_KEY: &str = "dbms.cluster.minimum_initial_system_primaries_count";
/// Written at first boot from `bootstrap.conf`, unless `spec.config` sets it.
pub(crate) const DEFAULT_PRIMARIES_KEY: &str = "initial.dbms.default_primaries_count";
/// Keys a standalone's `spec.config` may not override (`config-tls-managed`).
const STANDALONE_MANAGED_KEYS: [&str; 2] =
    ["server.bolt.tls_level", "server.directories.certificates"];
const SSL_POLICY_PREFIX: &str = "dbms.ssl.policy.";

/// The `server.jvm.additional` lines of the neo4j.conf that ships with Neo4j 5.26 and every
/// CalVer release (Operations Manual, "Pre-defined values of server.jvm.additional"; the
/// profiling ones it ships commented out are left out). Our neo4j.conf replaces that file, so
/// they are written here, before our own.
const STOCK_JVM_FLAGS: [&str; 17] = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+AlwaysPreTouch",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-XX:-RestrictContended",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j.layout.jsonTemplate.maxStringLength=32768",
];
/// Stock lines added by CalVer 2025.04.
const STOCK_JVM_FLAGS_2025_04: [&str; 2] = [
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "-Dio.netty.leakDetection.level=DISABLED",
];
/// Stock line added by CalVer 2026.02.
const STOCK_JVM_FLAGS_2026_02: &str =
    "-Dorg.neo4j.shaded.lucene9.vectorization.upperJavaFeatureVersion=25";

/// The stock JVM lines of a version (`None`: the ones every supported version ships).
fn stock_jvm_flags(version: Option<Neo4jVersion>) -> Vec<&'static str> {
    let at_least = |major: i64, minor: i64| {
        version.is_some_and(|v| v.is_calver() && (v.major, v.minor) >= (major, minor))
    };
    let mut flags = STOCK_JVM_FLAGS.to_vec();
    if at_least(2025, 4) {
        flags.extend(STOCK_JVM_FLAGS_2025_04);
    }
    if at_least(2026, 2) {
        flags.push(STOCK_JVM_FLAGS_2026_02);
    }
    flags
}

/// JVM flags of every cluster server (the reference's), after the stock ones.
const CLUSTER_JVM_FLAGS: [&str; 13] = [
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=200",
    "-XX:+ParallelRefProcEnabled",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:G1NewSizePercent=2",
    "-XX:G1MaxNewSizePercent=10",
    "-XX:+G1UseAdaptiveIHOP",
    "-XX:InitiatingHeapOccupancyPercent=45",
    "-XX:+UseCompressedOops",
    "-XX:+UseCompressedClassPointers",
    "-XX:+UseStringDeduplication",
    "-XX:+ExitOnOutOfMemoryError",
];
/// Where `truststore-init` writes the JVM truststore, and its (integrity-only) password: the
/// store holds public CA certificates only.
pub(crate) const TRUSTSTORE_FILE: &str = "/truststore/truststore.jks";
const TRUSTSTORE_PASSWORD: &str = "changeit";

/// The port name of the cluster listener on the headless Service; its DNS SRV record
/// (`_tcp-tx._tcp.<headless>`) lists every server pod by FQDN.
pub(crate) const CLUSTER_PORT_NAME: &str = "tcp-tx";

enum Line {
    Section(&'static str),
    Setting { key: String, value: String },
}

/// A neo4j.conf under construction.
#[derive(Default)]
pub(crate) struct Conf {
    lines: Vec<Line>,
}

/// A setting key is safe on a conf line only with these characters (`config-key-charset`).
fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A value on one conf line: control characters other than TAB become spaces, nothing is cut.
/// Unlike [`crate::text::one_line`] (text shown to users) a TAB stays: it is a legal character
/// of a setting value (`has_control_chars` lets it through validation), and the rendered file,
/// hence its hash, must not change for it.
fn conf_value(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect()
}

impl Conf {
    fn section(&mut self, title: &'static str) {
        self.lines.push(Line::Section(title));
    }

    fn set(&mut self, key: &str, value: impl AsRef<str>) {
        if valid_key(key) {
            self.lines.push(Line::Setting {
                key: key.to_string(),
                value: conf_value(value.as_ref()),
            });
        }
    }

    fn set_bool(&mut self, key: &str, value: bool) {
        self.set(key, if value { "true" } else { "false" });
    }

    /// Every key set so far.
    fn keys(&self) -> BTreeSet<String> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Setting { key, .. } => Some(key.clone()),
                Line::Section(_) => None,
            })
            .collect()
    }

    /// The file text after the dedupe pass described in the module docs.
    pub(crate) fn render(&self) -> String {
        let mut last: BTreeMap<&str, usize> = BTreeMap::new();
        let mut union: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (i, line) in self.lines.iter().enumerate() {
            if let Line::Setting { key, value } = line {
                last.insert(key, i);
                if ADDITIVE_KEYS.contains(&key.as_str()) {
                    let tokens = union.entry(key).or_default();
                    for t in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                        if !tokens.iter().any(|have| have == t) {
                            tokens.push(t.to_string());
                        }
                    }
                }
            }
        }
        let mut out = String::from(
            "# Generated by the Neo4j operator. Change spec.config of the resource, not this file.\n",
        );
        let mut pending: Option<&str> = None;
        let mut repeated: BTreeSet<(&str, &str)> = BTreeSet::new();
        for (i, line) in self.lines.iter().enumerate() {
            match line {
                Line::Section(title) => pending = Some(title),
                Line::Setting { key, value } => {
                    // A repeatable key keeps each distinct line once, at its first position.
                    let keep = if REPEATABLE_KEYS.contains(&key.as_str()) {
                        repeated.insert((key.as_str(), value.as_str()))
                    } else {
                        last.get(key.as_str()) == Some(&i)
                    };
                    if !keep {
                        continue;
                    }
                    if let Some(title) = pending.take() {
                        out.push_str(&format!("\n# {title}\n"));
                    }
                    let value = match union.get(key.as_str()) {
                        Some(tokens) => tokens.join(","),
                        None => value.clone(),
                    };
                    out.push_str(&format!("{key}={value}\n"));
                }
            }
        }
        out
    }
}

/// Whether the metrics endpoint and query logging are on: a `monitoring` block whose
/// `enabled` is not `false` (no block means no monitoring, as in the reference).
pub(crate) fn monitoring_enabled(m: Option<&MonitoringSpec>) -> bool {
    m.is_some_and(|m| m.enabled != Some(false))
}

fn seed_providers(conf: &mut Conf, version: Option<Neo4jVersion>) {
    let mut providers = "CloudSeedProvider,FileSeedProvider,URLConnectionSeedProvider".to_string();
    if version.is_some_and(|v| v.major > 2026 || (v.major == 2026 && v.minor >= 4)) {
        providers.push_str(",ServerSeedProvider");
    }
    conf.section("seed providers");
    conf.set("dbms.databases.seed_from_uri_providers", providers);
}

fn metrics_hardening(conf: &mut Conf) {
    conf.section("metrics hardening");
    conf.set_bool("server.metrics.jmx.enabled", false);
    conf.set_bool("server.metrics.csv.enabled", false);
}

fn monitoring(conf: &mut Conf, m: Option<&MonitoringSpec>) {
    let Some(m) = m.filter(|m| monitoring_enabled(Some(m))) else {
        return;
    };
    conf.section("monitoring");
    conf.set_bool("server.metrics.prometheus.enabled", true);
    conf.set(
        "server.metrics.prometheus.endpoint",
        format!("0.0.0.0:{PORT_METRICS}"),
    );
    conf.set(
        "db.logs.query.enabled",
        m.query_log_level.as_deref().unwrap_or("INFO"),
    );
    conf.set(
        "db.logs.query.threshold",
        m.slow_query_threshold.as_deref().unwrap_or("5s"),
    );
    conf.set_bool(
        "db.logs.query.plan_description_enabled",
        m.explain_plan.unwrap_or(false),
    );
    conf.set_bool("db.logs.query.parameter_logging_enabled", true);
    conf.set_bool(
        "db.logs.query.obfuscate_literals",
        m.obfuscate_literals.unwrap_or(false),
    );
    if let Some(filter) = m.metrics_filter.as_deref().filter(|s| !s.is_empty()) {
        conf.set("server.metrics.filter", filter);
    }
    if let Some(prefix) = m.metrics_prefix.as_deref().filter(|s| !s.is_empty()) {
        conf.set("server.metrics.prefix", prefix);
    }
}

/// The provider lists and cache TTL. LDAP and OIDC are not rendered yet (the webhook warns
/// `field-not-implemented`). Returns the keys written, which `spec.config` may not override.
fn auth(conf: &mut Conf, a: Option<&AuthSpec>) -> BTreeSet<String> {
    let before = conf.keys();
    let Some(a) = a else {
        return BTreeSet::new();
    };
    conf.section("authentication");
    for (key, list) in [
        (
            "dbms.security.authentication_providers",
            &a.authentication_providers,
        ),
        (
            "dbms.security.authorization_providers",
            &a.authorization_providers,
        ),
    ] {
        let list: Vec<&str> = list
            .iter()
            .flatten()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        if !list.is_empty() {
            conf.set(key, list.join(","));
        }
    }
    if let Some(ttl) = a.auth_cache_ttl.as_deref().filter(|s| !s.is_empty()) {
        conf.set("dbms.security.auth_cache_ttl", ttl);
    }
    conf.keys().difference(&before).cloned().collect()
}

/// The SSL policy of one connector: the certificate pair cert-manager writes into `/ssl`.
fn ssl_policy(conf: &mut Conf, policy: &str) {
    let key = |k: &str| format!("{SSL_POLICY_PREFIX}{policy}.{k}");
    conf.set_bool(&key("enabled"), true);
    conf.set(&key("base_directory"), "/ssl");
    conf.set(&key("private_key"), "tls.key");
    conf.set(&key("public_certificate"), "tls.crt");
    conf.set(&key("tls_versions"), "TLSv1.3,TLSv1.2");
}

/// The SSL policies of client connectors (`bolt`, `https`), in the order given: no client
/// certificate is asked for.
fn client_ssl_policies(conf: &mut Conf, policies: [&str; 2]) {
    for policy in policies {
        ssl_policy(conf, policy);
        conf.set(&format!("{SSL_POLICY_PREFIX}{policy}.client_auth"), "NONE");
    }
}

/// The backup port's SSL policy, so backup Jobs (`render::backup`) talk to the servers over
/// TLS: with `require_clients` the Job must present a certificate signed by the CA, as peers
/// of the cluster policy must.
fn backup_ssl_policy(conf: &mut Conf, require_clients: bool) {
    ssl_policy(conf, "backup");
    conf.set(
        "dbms.ssl.policy.backup.client_auth",
        if require_clients { "REQUIRE" } else { "NONE" },
    );
    conf.set_bool("dbms.ssl.policy.backup.trust_all", !require_clients);
}

/// The HTTPS connector (cert-manager TLS).
fn https_connector(conf: &mut Conf) {
    conf.set_bool("server.https.enabled", true);
    conf.set(
        "server.https.listen_address",
        format!("0.0.0.0:{PORT_HTTPS}"),
    );
}

fn truststore_flags(conf: &mut Conf) {
    conf.set(
        "server.jvm.additional",
        format!("-Djavax.net.ssl.trustStore={TRUSTSTORE_FILE}"),
    );
    conf.set(
        "server.jvm.additional",
        format!("-Djavax.net.ssl.trustStorePassword={TRUSTSTORE_PASSWORD}"),
    );
}

/// The rendered configuration files of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfFiles {
    pub neo4j: String,
    /// `apoc.conf`, when some `apoc.*` setting is given.
    pub apoc: Option<String>,
    /// `env-settings`: `<variable> <file> <key>` per line, for the startup script.
    pub env_settings: Option<String>,
}

/// A `NEO4J_*` setting whose value is only known in the container: a Secret or ConfigMap
/// reference, or a file (`NEO4J_*_FILE`).
struct RuntimeSetting {
    var: String,
    target: &'static str,
    key: String,
}

/// `spec.config` and the `NEO4J_*` variables of `spec.env`, sorted out by file.
#[derive(Default)]
struct UserSettings {
    config: Vec<(String, String)>,
    env: Vec<(String, String)>,
    apoc: Vec<(String, String)>,
    runtime: Vec<RuntimeSetting>,
}

const APOC_CONF: &str = "apoc.conf";
const NEO4J_CONF: &str = "neo4j.conf";

/// A name bash (and so the image's entrypoint) sees as a variable.
fn shell_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Sorts the user's settings out, minus the keys `dropped` says the operator owns. Of several
/// `spec.env` entries with one name the last counts (as in the container); a setting from
/// `spec.env` replaces the same key of `spec.config`, except the repeatable JVM keys, whose lines
/// add up (as the image's entrypoint does). Like the image, empty values and keys starting with
/// a digit are skipped.
fn user_settings(
    config: Option<&BTreeMap<String, String>>,
    env_vars: Option<&[corev1::EnvVar]>,
    dropped: impl Fn(&str) -> bool,
) -> UserSettings {
    let env_vars = env_vars.unwrap_or_default();
    let mut out = UserSettings::default();
    let mut env_apoc = Vec::new();
    let mut from_env: BTreeSet<String> = BTreeSet::new();
    for (i, e) in env_vars.iter().enumerate() {
        if env_vars[i + 1..].iter().any(|later| later.name == e.name) || !shell_name(&e.name) {
            continue;
        }
        let (key, file) = match env::classify(&e.name) {
            EnvVar::Setting { key } => (key, false),
            EnvVar::File { key } => (key, true),
            EnvVar::Other | EnvVar::EntryPoint => continue,
        };
        if key.starts_with(|c: char| c.is_ascii_digit()) || !valid_key(&key) {
            continue;
        }
        let apoc = env::namespace(&key) == Namespace::Apoc;
        if !apoc && dropped(&key) {
            continue;
        }
        match (e.value.as_deref(), e.value_from.is_some()) {
            (Some(value), false) if !file && !value.is_empty() => {
                let list = if apoc { &mut env_apoc } else { &mut out.env };
                list.push((key.clone(), value.to_string()));
            }
            (Some(path), false) if file && !path.is_empty() => {
                out.runtime.push(runtime(e, apoc, &key))
            }
            (_, true) => out.runtime.push(runtime(e, apoc, &key)),
            // No value: the image skips the variable.
            _ => continue,
        }
        from_env.insert(key);
    }
    for (key, value) in config.into_iter().flatten() {
        if from_env.contains(key) && !REPEATABLE_KEYS.contains(&key.as_str()) {
            continue;
        }
        if env::namespace(key) == Namespace::Apoc {
            out.apoc.push((key.clone(), value.clone()));
        } else if !dropped(key) {
            out.config.push((key.clone(), value.clone()));
        }
    }
    out.apoc.extend(env_apoc);
    out
}

fn runtime(e: &corev1::EnvVar, apoc: bool, key: &str) -> RuntimeSetting {
    RuntimeSetting {
        var: e.name.clone(),
        target: if apoc { APOC_CONF } else { NEO4J_CONF },
        key: key.to_string(),
    }
}

impl UserSettings {
    /// Writes the neo4j.conf part: `spec.config`, then `spec.env`.
    fn write(&self, conf: &mut Conf) {
        if !self.config.is_empty() {
            conf.section("spec.config");
            for (key, value) in &self.config {
                conf.set(key, value);
            }
        }
        if !self.env.is_empty() {
            conf.section("spec.env");
            for (key, value) in &self.env {
                conf.set(key, value);
            }
        }
    }

    /// The files, with `plugin_apoc` (the `apoc.*` keys of the target's Neo4jPlugins) first
    /// in apoc.conf, so `spec.config` and `spec.env` win over a plugin.
    fn files(&self, neo4j: String, plugin_apoc: &BTreeMap<String, String>) -> ConfFiles {
        let apoc = (!self.apoc.is_empty() || !plugin_apoc.is_empty()).then(|| {
            let mut conf = Conf::default();
            if !plugin_apoc.is_empty() {
                conf.section("Neo4jPlugin apoc.* settings");
                plugin_apoc.iter().for_each(|(k, v)| conf.set(k, v));
            }
            if !self.apoc.is_empty() {
                conf.section("apoc.* of spec.config and spec.env");
            }
            for (key, value) in &self.apoc {
                conf.set(key, value);
            }
            conf.render()
        });
        let env_settings = (!self.runtime.is_empty()).then(|| {
            let mut out = String::new();
            for r in &self.runtime {
                out.push_str(&format!("{} {} {}\n", r.var, r.target, r.key));
            }
            out
        });
        ConfFiles {
            neo4j,
            apoc,
            env_settings,
        }
    }
}

/// The settings of the target's Neo4jPlugins (`render/plugin.rs`), first in the file: every
/// later section (the operator's, then `spec.config`) overrides a scalar and joins an
/// additive key.
fn plugins(conf: &mut Conf, settings: &[(String, String)]) {
    if !settings.is_empty() {
        conf.section("Neo4jPlugin settings");
        settings.iter().for_each(|(k, v)| conf.set(k, v));
    }
}

/// What the cluster's neo4j.conf is made from.
pub(crate) struct ClusterConfInput<'a> {
    /// FQDN of the headless Service: its SRV record drives discovery.
    pub headless_fqdn: String,
    pub version: Neo4jVersion,
    pub memory: &'a MemoryPlan,
    pub tls: Option<&'a TLSSpec>,
    pub monitoring: Option<&'a MonitoringSpec>,
    pub auth: Option<&'a AuthSpec>,
    pub config: Option<&'a BTreeMap<String, String>>,
    pub env: Option<&'a [corev1::EnvVar]>,
    pub trusted_cas: bool,
    pub plugins: &'a [(String, String)],
    /// The `apoc.*` keys of the Neo4jPlugins (apoc.conf).
    pub plugin_apoc: &'a BTreeMap<String, String>,
}

/// The static neo4j.conf shared by every server of a cluster (with its `apoc.conf` and
/// `env-settings`). Nothing in it depends on the server count, so scaling never changes it
/// (`docs/design.md`: discovery by DNS SRV).
pub(crate) fn cluster_conf(i: &ClusterConfInput<'_>) -> ConfFiles {
    let mut conf = Conf::default();
    plugins(&mut conf, i.plugins);
    let mem = i.memory.conf_keys();
    conf.section("listen");
    conf.set("server.default_listen_address", "0.0.0.0");
    conf.set("server.bolt.listen_address", format!("0.0.0.0:{PORT_BOLT}"));
    conf.set("server.http.listen_address", format!("0.0.0.0:{PORT_HTTP}"));
    conf.section("paths");
    conf.set("server.directories.data", "/data");
    conf.set("server.directories.logs", "/logs");
    conf.set("server.directories.plugins", "/plugins");
    conf.section("memory");
    for key in [HEAP_INITIAL_KEY, HEAP_MAX_KEY, PAGECACHE_KEY] {
        if let Some(v) = mem.get(key) {
            conf.set(key, v);
        }
    }
    conf.section("strict validation");
    conf.set_bool("server.config.strict_validation.enabled", true);
    conf.section("store format");
    conf.set("db.format", "block");
    conf.section("cluster listeners");
    conf.set(
        "server.cluster.listen_address",
        format!("0.0.0.0:{PORT_CLUSTER}"),
    );
    conf.set(
        "server.routing.listen_address",
        format!("0.0.0.0:{PORT_ROUTING}"),
    );
    conf.set(
        "server.cluster.raft.listen_address",
        format!("0.0.0.0:{PORT_RAFT}"),
    );
    conf.set_bool("server.backup.enabled", true);
    conf.set(
        "server.backup.listen_address",
        format!("0.0.0.0:{PORT_BACKUP}"),
    );
    discovery(&mut conf, &i.headless_fqdn, i.version);
    conf.section("transaction memory");
    for key in [TX_TOTAL_KEY, TX_MAX_KEY] {
        if let Some(v) = mem.get(key) {
            conf.set(key, v);
        }
    }
    conf.section("bolt thread pool");
    conf.set("server.bolt.thread_pool_min_size", "5");
    conf.set("server.bolt.thread_pool_max_size", "400");
    conf.set("server.bolt.thread_pool_keep_alive", "5m");
    if cert_manager_tls(i.tls) {
        conf.section("TLS (cert-manager)");
        https_connector(&mut conf);
        conf.set("server.bolt.tls_level", "REQUIRED");
        client_ssl_policies(&mut conf, ["bolt", "https"]);
        ssl_policy(&mut conf, "cluster");
        let strict = strict_peer_validation(i.tls);
        conf.set_bool("dbms.ssl.policy.cluster.trust_all", !strict);
        conf.set(
            "dbms.ssl.policy.cluster.client_auth",
            if strict { "REQUIRE" } else { "NONE" },
        );
        if strict {
            conf.set_bool("dbms.ssl.policy.cluster.verify_hostname", true);
        }
        backup_ssl_policy(&mut conf, strict);
        tls_reload(&mut conf, Some(i.version));
    }
    metrics_hardening(&mut conf);
    seed_providers(&mut conf, Some(i.version));
    monitoring(&mut conf, i.monitoring);
    let auth_keys = auth(&mut conf, i.auth);
    conf.section("JVM");
    for flag in stock_jvm_flags(Some(i.version))
        .into_iter()
        .chain(CLUSTER_JVM_FLAGS)
    {
        conf.set("server.jvm.additional", flag);
    }
    if i.trusted_cas {
        truststore_flags(&mut conf);
    }
    let user = user_settings(i.config, i.env, |k| {
        CLUSTER_MANAGED_KEYS.contains(&k)
            || k == SYSTEM_PRIMARIES_KEY
            || k.starts_with(SSL_POLICY_PREFIX)
            || k.starts_with("internal.dbms.cluster.discovery.")
            || auth_keys.contains(k)
    });
    user.write(&mut conf);
    user.files(conf.render(), i.plugin_apoc)
}

/// Certificate reload without a restart (`CALL dbms.security.reloadTLS()` on each server), where
/// the version has it (CalVer 2025.03 and later). The operator itself rolls the servers when the
/// certificate is renewed, on every version (`docs/design.md`, TLS renewal).
fn tls_reload(conf: &mut Conf, version: Option<Neo4jVersion>) {
    if version.is_some_and(|v| v.is_calver() && (v.major, v.minor) >= (2025, 3)) {
        conf.set_bool("dbms.security.tls_reload_enabled", true);
    }
}

/// Discovery through the DNS SRV record of the headless Service's `tcp-tx` port: one static
/// line that lists every server, whatever their number (see the module docs of `render`).
fn discovery(conf: &mut Conf, headless_fqdn: &str, version: Neo4jVersion) {
    let endpoint = format!("_{CLUSTER_PORT_NAME}._tcp.{headless_fqdn}:0");
    conf.section("discovery");
    if version.is_calver() {
        conf.set("dbms.cluster.discovery.resolver_type", "SRV");
        conf.set("dbms.cluster.endpoints", endpoint);
    } else {
        conf.set("dbms.cluster.discovery.version", "V2_ONLY");
        conf.set("dbms.cluster.discovery.resolver_type", "SRV");
        conf.set("dbms.cluster.discovery.v2.endpoints", endpoint);
        conf.set("dbms.cluster.raft.binding_timeout", "1d");
        conf.set("dbms.cluster.raft.membership.join_timeout", "10m");
    }
    conf.set_bool("initial.dbms.automatically_enable_free_servers", true);
    conf.set("dbms.routing.default_router", "SERVER");
}

/// What the standalone's neo4j.conf is made from.
pub(crate) struct StandaloneConfInput<'a> {
    /// FQDN of the client Service: the address the server advertises in routing tables.
    pub client_fqdn: String,
    pub version: Option<Neo4jVersion>,
    pub tls: Option<&'a TLSSpec>,
    pub monitoring: Option<&'a MonitoringSpec>,
    pub auth: Option<&'a AuthSpec>,
    pub config: Option<&'a BTreeMap<String, String>>,
    pub env: Option<&'a [corev1::EnvVar]>,
    pub trusted_cas: bool,
    pub plugins: &'a [(String, String)],
    /// The `apoc.*` keys of the Neo4jPlugins (apoc.conf).
    pub plugin_apoc: &'a BTreeMap<String, String>,
}

/// The standalone's neo4j.conf (with its `apoc.conf` and `env-settings`): no memory or store
/// format keys, and of the directories only the plugins one (the image links `/data` and
/// `/logs` into its home itself, but sets the plugins directory only through the file our
/// configuration replaces).
pub(crate) fn standalone_conf(i: &StandaloneConfInput<'_>) -> ConfFiles {
    let mut conf = Conf::default();
    plugins(&mut conf, i.plugins);
    conf.section("listen");
    conf.set("server.default_listen_address", "0.0.0.0");
    // The reference left this at localhost, which breaks neo4j:// routing from other pods.
    conf.set("server.default_advertised_address", &i.client_fqdn);
    conf.set_bool("server.http.enabled", true);
    conf.set("server.http.listen_address", format!(":{PORT_HTTP}"));
    conf.set_bool("server.bolt.enabled", true);
    if cert_manager_tls(i.tls) {
        conf.set("server.bolt.listen_address", format!("0.0.0.0:{PORT_BOLT}"));
        conf.section("TLS (cert-manager)");
        conf.set("server.bolt.tls_level", "REQUIRED");
        https_connector(&mut conf);
        client_ssl_policies(&mut conf, ["https", "bolt"]);
        backup_ssl_policy(&mut conf, false);
    } else {
        conf.set("server.bolt.listen_address", format!(":{PORT_BOLT}"));
    }
    if cert_manager_tls(i.tls) {
        tls_reload(&mut conf, i.version);
    }
    conf.section("paths");
    conf.set("server.directories.plugins", "/plugins");
    conf.section("backup");
    conf.set_bool("server.backup.enabled", true);
    conf.set(
        "server.backup.listen_address",
        format!("0.0.0.0:{PORT_BACKUP}"),
    );
    metrics_hardening(&mut conf);
    seed_providers(&mut conf, i.version);
    monitoring(&mut conf, i.monitoring);
    let auth_keys = auth(&mut conf, i.auth);
    conf.section("JVM");
    for flag in stock_jvm_flags(i.version) {
        conf.set("server.jvm.additional", flag);
    }
    if i.trusted_cas {
        truststore_flags(&mut conf);
    }
    let user = user_settings(i.config, i.env, |k| {
        STANDALONE_MANAGED_KEYS.contains(&k)
            || k.starts_with(SSL_POLICY_PREFIX)
            || auth_keys.contains(k)
    });
    user.write(&mut conf);
    user.files(conf.render(), i.plugin_apoc)
}

/// First-boot settings of every cluster server, appended by `startup.sh` only while the
/// server has no system database yet. Neo4j reads them only when a server first forms or
/// joins the cluster, so they are left out of the config hash: changing them (for example by
/// scaling 2 → 3, which raises the effective system primaries) restarts nothing.
/// `default_primaries` is `None` when `spec.config` sets the key itself (it is then in
/// neo4j.conf, and a second line would stop Neo4j).
pub(crate) fn bootstrap_conf(system_primaries: i32, default_primaries: Option<i32>) -> String {
    let mut out = format!("{SYSTEM_PRIMARIES_KEY}={system_primaries}\n");
    if let Some(n) = default_primaries {
        out.push_str(&format!("{DEFAULT_PRIMARIES_KEY}={n}\n"));
    }
    out
}

/// `initial.server.mode_constraint` per server, one `<index> <MODE>` line each, plus
/// `default <MODE>` for the global `serverModeConstraint`. A server's own hint wins (`NONE`
/// included); servers without one take the default — the precedence the CRD documents (the
/// reference let any hint switch the global constraint off for every server).
/// First-boot data like `bootstrap.conf`; only `PRIMARY`/`SECONDARY`/`NONE` are written.
pub(crate) fn server_modes(t: &TopologyConfiguration) -> String {
    let mode = |m: &str| match m {
        "PRIMARY" | "SECONDARY" | "NONE" => Some(m.to_string()),
        _ => None,
    };
    let mut out = String::new();
    if let Some(global) = t.server_mode_constraint.as_deref().and_then(mode)
        && global != "NONE"
    {
        out.push_str(&format!("default {global}\n"));
    }
    let hints: BTreeMap<i32, String> = t
        .server_roles
        .iter()
        .flatten()
        .filter(|h| h.server_index >= 0)
        .filter_map(|h| mode(&h.mode_constraint).map(|m| (h.server_index, m)))
        .collect();
    for (index, m) in hints {
        out.push_str(&format!("{index} {m}\n"));
    }
    out
}

/// The part of both startup scripts that copies the rendered files into `${conf_dir}` and
/// appends the settings of `env-settings` (each `<variable> <file> <key>` line: the variable's
/// value, or with a `_FILE` name the content of the file it names, as `<key>=<value>` on one
/// line). Values are only ever printed, never evaluated.
macro_rules! copy_conf_sh {
    () => {
        r#"conf="${conf_dir}/neo4j.conf"
mkdir -p "${conf_dir}"
cp /conf/neo4j.conf "${conf}"
if [ -f /conf/apoc.conf ]; then
  cp /conf/apoc.conf "${conf_dir}/apoc.conf"
fi

# Settings whose values only the container sees: Secret or ConfigMap references, and files.
if [ -f /conf/env-settings ]; then
  while read -r var target key; do
    value="${!var:-}"
    case "${var}" in
      *_FILE)
        if [ ! -r "${value}" ]; then
          echo "${var}: cannot read the file ${value}" >&2
          exit 1
        fi
        value="$(cat -- "${value}")"
        ;;
    esac
    [ -n "${value}" ] || continue
    value="${value//[$'\r\n']/ }"
    printf '%s=%s\n' "${key}" "${value}" >> "${conf_dir}/${target}"
  done < /conf/env-settings
fi
"#
    };
}

/// Starts one cluster server. Every value comes from the environment (`HOSTNAME`, set by the
/// kubelet; `SERVER_SUBDOMAIN`, set in the pod template) or from files in `/conf`, and is only
/// ever printed into the copied conf, never evaluated.
pub(crate) const CLUSTER_STARTUP_SH: &str = concat!(
    r#"#!/bin/bash
# Starts one Neo4j cluster server. Generated by the Neo4j operator.
# Every value comes from the environment or /conf and is only printed into the config
# file, never evaluated as shell code.
set -euo pipefail

conf_dir=/tmp/neo4j-config
"#,
    copy_conf_sh!(),
    r#"
# Pods are named <cluster>-server-<index>; the headless Service gives each one an FQDN.
server_index="${HOSTNAME##*-}"
fqdn="${HOSTNAME}.${SERVER_SUBDOMAIN}"
{
  printf 'server.default_advertised_address=%s\n' "${fqdn}"
  printf 'server.cluster.advertised_address=%s:6000\n' "${fqdn}"
  printf 'server.routing.advertised_address=%s:7688\n' "${fqdn}"
  printf 'server.cluster.raft.advertised_address=%s:7000\n' "${fqdn}"
} >> "${conf}"

# First boot only: settings Neo4j reads when a server first forms or joins the cluster.
if [ ! -d /data/databases/system ]; then
  cat /conf/bootstrap.conf >> "${conf}"
  mode=""
  default_mode=""
  while read -r index value; do
    case "${index}" in
      "${server_index}") mode="${value}" ;;
      default) default_mode="${value}" ;;
    esac
  done < /conf/server-modes.conf
  mode="${mode:-${default_mode}}"
  case "${mode}" in
    PRIMARY|SECONDARY) printf 'initial.server.mode_constraint=%s\n' "${mode}" >> "${conf}" ;;
  esac
fi

export NEO4J_CONF="${conf_dir}"
exec /startup/docker-entrypoint.sh neo4j
"#
);

/// Starts the standalone server: the rendered files plus the `env-settings` values, then the
/// image's entrypoint.
pub(crate) const STANDALONE_STARTUP_SH: &str = concat!(
    r#"#!/bin/bash
# Starts a Neo4j standalone server. Generated by the Neo4j operator.
# Every value comes from the environment or /conf and is only printed into the config
# file, never evaluated as shell code.
set -euo pipefail

conf_dir=/tmp/neo4j-config
"#,
    copy_conf_sh!(),
    r#"
export NEO4J_CONF="${conf_dir}"
exec /startup/docker-entrypoint.sh neo4j
"#
);

/// `neo4j_running`, the shell function both health scripts start with: whether the Neo4j
/// JVM runs in the container.
macro_rules! neo4j_running_sh {
    () => {
        r#"neo4j_running() {
  local f
  # The bracket keeps a concurrent probe's own command line from matching.
  for f in /proc/[0-9]*/cmdline; do
    if grep -qaE 'EnterpriseEntryPoin[t]|Neo4jEnterpris[e]' "${f}" 2>/dev/null; then
      return 0
    fi
  done
  return 1
}
"#
    };
}

/// The probes of a cluster server: `startup` and `liveness` pass while the JVM runs and
/// either serves HTTP or is still forming the cluster; `readiness` needs the HTTP connector,
/// which Neo4j opens only once the DBMS has started.
pub(crate) const CLUSTER_HEALTH_SH: &str = concat!(
    r#"#!/bin/bash
# Probe of a Neo4j cluster server: $1 is startup, liveness or readiness.
# Generated by the Neo4j operator.
set -u
probe="${1:-liveness}"

"#,
    neo4j_running_sh!(),
    r#"
http_open() {
  timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/7474' 2>/dev/null
}

forming() {
  [ -f /logs/neo4j.log ] && grep -qE 'Resolved endpoints|Starting.*cluster|Waiting for.*servers|minimum_initial_system_primaries_count|cluster formation barrier' /logs/neo4j.log
}

neo4j_running || exit 1
case "${probe}" in
  readiness) http_open ;;
  *) http_open || forming ;;
esac
"#
);

/// The probes of a standalone: the JVM runs and serves HTTP.
pub(crate) const STANDALONE_HEALTH_SH: &str = concat!(
    r#"#!/bin/bash
# Probe of a Neo4j standalone server. Generated by the Neo4j operator.
set -u

"#,
    neo4j_running_sh!(),
    r#"
neo4j_running || exit 1
timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/7474' 2>/dev/null
"#
);

/// `truststore-init`: the JVM's default CAs plus each CA mounted at `/trusted-ca/<i>/ca.crt`.
pub(crate) const TRUSTSTORE_SH: &str = r#"#!/bin/bash
# Builds the JVM truststore of a Neo4j server. Generated by the Neo4j operator.
set -euo pipefail
store=/truststore/truststore.jks
cp "${JAVA_HOME}/lib/security/cacerts" "${store}"
chmod 0644 "${store}"
for dir in /trusted-ca/*/; do
  [ -f "${dir}ca.crt" ] || continue
  alias="trusted-ca-$(basename "${dir}")"
  "${JAVA_HOME}/bin/keytool" -importcert -noprompt -trustcacerts -alias "${alias}" \
    -file "${dir}ca.crt" -keystore "${store}" -storepass changeit
done
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Vec<(&str, &str)> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| l.split_once('='))
            .collect()
    }

    #[test]
    fn last_scalar_wins_at_its_own_position() {
        let mut c = Conf::default();
        c.section("a");
        c.set("x", "1");
        c.set("y", "1");
        c.section("b");
        c.set("x", "2");
        assert_eq!(settings(&c.render()), vec![("y", "1"), ("x", "2")]);
    }

    #[test]
    fn additive_keys_union_their_tokens() {
        let mut c = Conf::default();
        c.set("dbms.security.procedures.unrestricted", "apoc.*, gds.*");
        c.set(
            "dbms.security.procedures.unrestricted",
            "gds.*,fleetManagement.*",
        );
        assert_eq!(
            settings(&c.render()),
            vec![(
                "dbms.security.procedures.unrestricted",
                "apoc.*,gds.*,fleetManagement.*"
            )]
        );
    }

    #[test]
    fn repeatable_keys_keep_every_line() {
        let mut c = Conf::default();
        c.set("server.jvm.additional", "-Xa");
        c.set("server.jvm.additional", "-Xb");
        assert_eq!(settings(&c.render()).len(), 2);
    }

    #[test]
    fn values_and_keys_cannot_forge_lines() {
        let mut c = Conf::default();
        c.set("a", "1\ndbms.security.auth_enabled=false\r");
        c.set("b=c\nd", "x");
        let text = c.render();
        assert_eq!(
            settings(&text),
            vec![("a", "1 dbms.security.auth_enabled=false ")]
        );
    }

    #[test]
    fn empty_sections_print_no_header() {
        let mut c = Conf::default();
        c.section("gone");
        c.set("x", "1");
        c.section("kept");
        c.set("x", "2");
        let text = c.render();
        assert!(!text.contains("# gone"));
        assert!(text.contains("# kept"));
    }

    #[test]
    fn server_modes_hints_override_the_default() {
        let t: TopologyConfiguration = serde_json::from_value(serde_json::json!({
            "servers": 3,
            "serverModeConstraint": "SECONDARY",
            "serverRoles": [
                {"serverIndex": 2, "modeConstraint": "NONE"},
                {"serverIndex": 0, "modeConstraint": "PRIMARY"},
                {"serverIndex": 1, "modeConstraint": "bogus"}
            ]
        }))
        .expect("topology");
        assert_eq!(server_modes(&t), "default SECONDARY\n0 PRIMARY\n2 NONE\n");
        let none = TopologyConfiguration {
            servers: 3,
            server_mode_constraint: Some("NONE".into()),
            ..Default::default()
        };
        assert_eq!(server_modes(&none), "");
    }

    #[test]
    fn scripts_are_bash_with_strict_modes() {
        for s in [CLUSTER_STARTUP_SH, STANDALONE_STARTUP_SH, TRUSTSTORE_SH] {
            assert!(s.starts_with("#!/bin/bash\n"));
            assert!(s.contains("set -euo pipefail"));
        }
        assert!(CLUSTER_STARTUP_SH.contains("exec /startup/docker-entrypoint.sh neo4j"));
        let code = |s: &'static str| s.lines().filter(|l| !l.trim_start().starts_with('#'));
        for script in [
            CLUSTER_STARTUP_SH,
            STANDALONE_STARTUP_SH,
            CLUSTER_HEALTH_SH,
            STANDALONE_HEALTH_SH,
            TRUSTSTORE_SH,
        ] {
            assert!(code(script).all(|l| !l.contains("eval") && !l.contains("source ")));
        }
    }
}
