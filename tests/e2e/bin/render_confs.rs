//! `render-confs`: writes the neo4j.conf the operator renders for a matrix of clusters and
//! standalones into a directory, for the checks in `tests/neo4j` (Neo4j's own configuration
//! parser and a real Community server, `make neo4j-check`).
//!
//! For each case `<dir>/<case>.conf` holds the file a server reads: for a cluster, the
//! ConfigMap's `neo4j.conf` followed by the lines `startup.sh` appends before the first start
//! (advertised addresses, `bootstrap.conf`, the server's mode constraint), with pod-specific
//! values filled in as the script would for server 0. `<dir>/<case>.json` says what the case is
//! (topology, TLS mode, memory limit, the Certificate spec in cert-manager mode). Cases whose
//! file is identical to an earlier one are skipped and named on stdout.
//!
//! The cases are rendered for a 5.26 image (`<dir>/*.conf`) and for a CalVer image
//! (`<dir>/calver/*.conf`, image tag [`CALVER_TAG`]): the 5.26 files go through Neo4j 5.26
//! itself, the CalVer ones through the CalVer settings catalogue only.
//!
//! The cases with user configuration also carry `spec.env` settings: literal values (rendered
//! into neo4j.conf, one overriding a `spec.config` key), an `apoc.*` one (rendered into
//! `apoc.conf`, written as `<case>.apoc.properties`), and a Secret-backed one, whose line the file gets
//! as `startup.sh` would append it (with a stand-in value).
//!
//! `<dir>/value-corpus.tsv` lists setting values with the verdict of the admission rule
//! `config-value` (the settings catalogue's value check) for a 5.26 image; `tests/neo4j` holds
//! each verdict to Neo4j 5.26's own parser.
//!
//! The cases with `spec.config` (`-config`) also fold in two Neo4jPlugins (APOC and GDS with
//! procedure allow/deny lists and an `apoc.*` key), so the plugin lines of neo4j.conf go through
//! the same checks; the others render without plugins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use neo4j_shared::plugins::{self, DEFAULT_INIT_IMAGE, PluginRef, PluginSet, Target};
use neo4j_shared::render::{self, DesiredObject};
use neo4j_shared::settings::{self, Line};
use neo4j_shared::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, Neo4jPluginSpec};
use serde_json::{Value, json};

const GI: u64 = 1024 * 1024 * 1024;
/// The image tag of the 5.26 LTS cases.
const LTS_TAG: &str = "5.26.0-enterprise";
/// The image tag of the CalVer cases: a release the newest catalogue covers.
const CALVER_TAG: &str = "2026.07.0-enterprise";

#[derive(Clone, Copy)]
enum Topology {
    Cluster,
    Standalone,
}

#[derive(Clone, Copy)]
enum Tls {
    Off,
    /// cert-manager with `strictPeerValidation: false`.
    CertManager,
    /// cert-manager with strict peer validation (the default).
    Strict,
}

impl Tls {
    fn name(self) -> &'static str {
        match self {
            Tls::Off => "tls-off",
            Tls::CertManager => "tls-cert-manager",
            Tls::Strict => "tls-strict",
        }
    }
    fn spec(self) -> Option<Value> {
        match self {
            Tls::Off => None,
            Tls::CertManager => Some(json!({
                "mode": "cert-manager", "issuerRef": {"name": "ca"}, "strictPeerValidation": false
            })),
            Tls::Strict => Some(json!({"mode": "cert-manager", "issuerRef": {"name": "ca"}})),
        }
    }
}

/// `spec.config` of the cases that carry one: Community and Enterprise keys, an additive list.
fn user_config() -> Value {
    json!({
        "db.transaction.timeout": "60s",
        "db.checkpoint.interval.time": "10m",
        "dbms.security.procedures.unrestricted": "gds.*",
        "server.bolt.connection_keep_alive": "30s",
        "server.memory.query_cache.per_db_cache_num_entries": "500",
        "dbms.max_databases": "50",
        "initial.server.tags": "eu-west"
    })
}

/// `spec.env` of the cases with user configuration: a literal setting overriding `spec.config`,
/// a JVM line, an APOC setting, a Secret-backed setting, and variables that are not settings.
fn user_env() -> Value {
    json!([
        {"name": "NEO4J_db_transaction_timeout", "value": "30s"},
        {"name": "NEO4J_server_jvm_additional", "value": "-Xss2m"},
        {"name": "NEO4J_dbms_routing__ttl", "value": "300s"},
        {"name": "NEO4J_apoc_export_file_enabled", "value": "true"},
        {"name": "NEO4J_db_lock_acquisition_timeout", "valueFrom": {"secretKeyRef": {"name": "tuning", "key": "lock-timeout"}}},
        {"name": "NEO4J_DEBUG", "value": "yes"},
        {"name": "JAVA_TOOL_OPTIONS", "value": "-Dx=1"}
    ])
}

/// The value `startup.sh` reads for the Secret-backed variable of [`user_env`].
const SECRET_VALUE: &str = "15s";

fn spec(topology: Topology, tag: &str, tls: Tls, limit: &str, extras: bool) -> Value {
    let mut spec = json!({
        "image": {"repo": "neo4j", "tag": tag},
        "storage": {"size": "10Gi"},
        "acceptLicenseAgreement": "yes",
        "resources": {"limits": {"memory": limit, "cpu": "2"}},
    });
    if let Topology::Cluster = topology {
        spec["topology"] = json!({"servers": 3});
    }
    if let Some(t) = tls.spec() {
        spec["tls"] = t;
    }
    if extras {
        spec["config"] = user_config();
        spec["env"] = user_env();
        spec["monitoring"] = json!({});
        spec["auth"] = json!({
            "authenticationProviders": ["native"],
            "authorizationProviders": ["native"],
            "authCacheTTL": "10m"
        });
        spec["trustedCASecrets"] = json!([{"name": "corp-ca"}]);
    }
    spec
}

/// The plugins folded into the `-config` cases.
fn plugin_specs() -> anyhow::Result<Vec<(&'static str, Neo4jPluginSpec)>> {
    let mut out = Vec::new();
    for (name, spec) in [
        (
            "apoc",
            json!({"clusterRef": "graph", "name": "apoc", "version": "5.26.0",
                "config": {"apoc.export.file.enabled": "true"},
                "security": {"allowedProcedures": ["apoc.*"], "deniedProcedures": ["apoc.trigger.*"]}}),
        ),
        (
            "gds",
            json!({"clusterRef": "graph", "name": "graph-data-science", "version": "2.10.0",
                "security": {"allowedProcedures": ["gds.*"]}}),
        ),
    ] {
        let mut s: Neo4jPluginSpec = serde_json::from_value(spec)?;
        neo4j_shared::defaults::plugin(&mut s);
        out.push((name, s));
    }
    Ok(out)
}

fn plugin_set(
    target: Target,
    config: Option<&BTreeMap<String, String>>,
    with_plugins: bool,
) -> anyhow::Result<PluginSet> {
    if !with_plugins {
        return Ok(PluginSet::default());
    }
    let specs = plugin_specs()?;
    Ok(plugins::merge(
        target,
        config,
        specs.iter().map(|(name, spec)| PluginRef { name, spec }),
        DEFAULT_INIT_IMAGE,
    ))
}

fn render_case(
    topology: Topology,
    spec: Value,
    with_plugins: bool,
) -> anyhow::Result<Vec<DesiredObject>> {
    let metadata = json!({"name": "graph", "namespace": "db", "uid": "uid-1", "generation": 1});
    Ok(match topology {
        Topology::Cluster => {
            let mut c: Neo4jEnterpriseCluster = serde_json::from_value(json!({
                "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
                "metadata": metadata, "spec": spec,
            }))?;
            neo4j_shared::defaults::cluster(&mut c.spec);
            let set = plugin_set(Target::Cluster, c.spec.config.as_ref(), with_plugins)?;
            render::cluster_with_plugins(&c, &set)?
        }
        Topology::Standalone => {
            let mut s: Neo4jEnterpriseStandalone = serde_json::from_value(json!({
                "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseStandalone",
                "metadata": metadata, "spec": spec,
            }))?;
            neo4j_shared::defaults::standalone(&mut s.spec);
            let set = plugin_set(Target::Standalone, s.spec.config.as_ref(), with_plugins)?;
            render::standalone_with_plugins(&s, &set)?
        }
    })
}

fn data_key<'a>(objects: &'a [DesiredObject], key: &str) -> anyhow::Result<&'a str> {
    objects
        .iter()
        .filter(|o| o.kind == "ConfigMap")
        .find_map(|o| o.object["data"][key].as_str())
        .with_context(|| format!("no ConfigMap holds {key}"))
}

/// The files of the volume mounted at `/ssl` in a Neo4j container, as `path -> Secret key`
/// (the keys cert-manager writes when the volume lists no items); `null` without TLS.
fn ssl_files(objects: &[DesiredObject]) -> Value {
    let Some(sts) = objects.iter().find(|o| o.kind == "StatefulSet") else {
        return Value::Null;
    };
    let pod = &sts.object["spec"]["template"]["spec"];
    let volume = pod["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["volumeMounts"].as_array().into_iter().flatten())
        .find(|m| m["mountPath"] == "/ssl")
        .and_then(|m| m["name"].as_str());
    let Some(volume) = volume else {
        return Value::Null;
    };
    let Some(secret) = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == volume)
        .map(|v| &v["secret"])
    else {
        return Value::Null;
    };
    let mut files = serde_json::Map::new();
    match secret["items"].as_array() {
        Some(items) => {
            for item in items {
                files.insert(
                    item["path"].as_str().unwrap_or_default().to_string(),
                    item["key"].clone(),
                );
            }
        }
        None => {
            for key in ["ca.crt", "tls.crt", "tls.key"] {
                files.insert(key.to_string(), json!(key));
            }
        }
    }
    Value::Object(files)
}

/// What `startup.sh` appends for server 0 of a cluster before its first start.
fn startup_lines(objects: &[DesiredObject]) -> anyhow::Result<String> {
    let fqdn = "graph-server-0.graph-headless.db.svc.cluster.local";
    let mut out = env_settings(objects);
    out += &format!(
        "server.default_advertised_address={fqdn}\n\
         server.cluster.advertised_address={fqdn}:6000\n\
         server.routing.advertised_address={fqdn}:7688\n\
         server.cluster.raft.advertised_address={fqdn}:7000\n"
    );
    out.push_str(data_key(objects, "bootstrap.conf")?);
    let modes = data_key(objects, "server-modes.conf")?;
    let mode = modes
        .lines()
        .find_map(|l| l.strip_prefix("0 "))
        .or_else(|| modes.lines().find_map(|l| l.strip_prefix("default ")));
    if let Some(m @ ("PRIMARY" | "SECONDARY")) = mode {
        out.push_str(&format!("initial.server.mode_constraint={m}\n"));
    }
    Ok(out)
}

/// The lines `startup.sh` appends to neo4j.conf from `env-settings` (every Secret-backed value
/// being [`SECRET_VALUE`]).
fn env_settings(objects: &[DesiredObject]) -> String {
    let Ok(list) = data_key(objects, "env-settings") else {
        return String::new();
    };
    list.lines()
        .filter_map(|l| {
            let mut parts = l.split(' ');
            let (_, target, key) = (parts.next()?, parts.next()?, parts.next()?);
            (target == "neo4j.conf").then(|| format!("{key}={SECRET_VALUE}\n"))
        })
        .collect()
}

/// Setting values and the `config-value` verdict for a 5.26 image (`true`: accepted), one per
/// line: `<setting>\t<value>\t<verdict>`. Each setting is one Neo4j 5.26 Community declares, so
/// `tests/neo4j` can ask Neo4j's parser about the same value.
fn value_corpus() -> anyhow::Result<String> {
    let catalogue = settings::catalogue(Line::Lts).context("the 5.26 settings catalogue")?;
    let rows: &[(&str, &[&str])] = &[
        (
            "db.checkpoint.interval.tx",
            &["1", "0", "-5", "100000", "1e3", "2147483648", " 7 "],
        ),
        (
            "db.transaction.sampling.percentage",
            &["1", "0", "100", "101", "x"],
        ),
        (
            "db.tx_log.buffer.size",
            &["131072", "131071", "2147483648", "9223372036854775808"],
        ),
        ("server.bolt.enabled", &["true", "FALSE", "yes", "1", ""]),
        (
            "db.transaction.timeout",
            &[
                "10s",
                "1m30s",
                "500ms",
                "5",
                "2 s",
                "1.5s",
                "-1s",
                "1w",
                "0",
                "2147483648",
            ],
        ),
        ("dbms.routing_ttl", &["1s", "999ms", "300s"]),
        (
            "db.checkpoint.interval.volume",
            &["250m", "1KiB", "512", "1Gi", "4GB", "1 g", "1t", "-1k"],
        ),
        (
            "db.memory.transaction.total.max",
            &["0", "10m", "9m", "716m", "716.8m", "2g"],
        ),
        (
            "server.memory.pagecache.size",
            &["512M", "1.5g", "4Gi", "lots"],
        ),
        (
            "db.logs.query.enabled",
            &["INFO", "info", "OFF", "true", "DEBUG"],
        ),
        ("db.checkpoint", &["PERIODIC", "volumetric", "SOMETIMES"]),
        (
            "server.bolt.listen_address",
            &[
                "0.0.0.0:7687",
                ":7687",
                "localhost",
                "[::1]:7687",
                "::1",
                "http://x:1",
                "host:port",
                "a b:1",
                "x:99999",
            ],
        ),
        (
            "dbms.cypher.statistics_divergence_threshold",
            &["0.75", "1.0", "1.5", "-0.1", "half"],
        ),
        (
            "db.tx_state.memory_allocation",
            &["ON_HEAP", "off_heap", "ANYWHERE"],
        ),
        ("dbms.routing.default_router", &["SERVER", "client", "BOTH"]),
    ];
    let mut out = String::new();
    for (key, values) in rows {
        let setting = catalogue
            .lookup(key, None)
            .known()
            .with_context(|| format!("{key} is not in the 5.26 catalogue"))?;
        for value in *values {
            let accepted = setting.value.check(value).is_none();
            out.push_str(&format!("{key}\t{value}\t{accepted}\n"));
        }
    }
    Ok(out)
}

/// Cases a real Community server is started from: together they hold every distinct memory
/// size, TLS mode, directory layout and user configuration of the matrix (each case file is
/// also checked by Neo4j's parser, started or not).
const SERVER_CASES: [&str; 5] = [
    "cluster-tls-strict-64gi-config",
    "cluster-tls-cert-manager-1gi",
    "cluster-tls-off-1gi-config",
    "standalone-tls-cert-manager-1gi-config",
    "standalone-tls-off-1gi",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out] = args.as_slice() else {
        bail!("usage: render-confs <output-directory>");
    };
    let out = PathBuf::from(out);
    render_all(&out, LTS_TAG)?;
    render_all(&out.join("calver"), CALVER_TAG)?;
    write(&out.join("value-corpus.tsv"), &value_corpus()?)?;
    Ok(())
}

/// Every case of the matrix for one image tag, into `out`.
fn render_all(out: &Path, tag: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut written = 0;
    let topologies = [
        (Topology::Cluster, "cluster"),
        (Topology::Standalone, "standalone"),
    ];
    for (topology, topo_name) in topologies {
        for tls in [Tls::Off, Tls::CertManager, Tls::Strict] {
            for (limit, bytes) in [("1Gi", GI), ("64Gi", 64 * GI)] {
                for extras in [false, true] {
                    let case = format!(
                        "{topo_name}-{}-{}{}",
                        tls.name(),
                        limit.to_lowercase(),
                        if extras { "-config" } else { "" }
                    );
                    let objects =
                        render_case(topology, spec(topology, tag, tls, limit, extras), extras)
                            .with_context(|| format!("rendering {case} ({tag})"))?;
                    let mut conf = data_key(&objects, "neo4j.conf")?.to_string();
                    if let Topology::Cluster = topology {
                        conf.push_str("\n# appended by startup.sh (server 0, first start)\n");
                        conf.push_str(&startup_lines(&objects)?);
                    } else {
                        let lines = env_settings(&objects);
                        if !lines.is_empty() {
                            conf.push_str("\n# appended by startup.sh\n");
                            conf.push_str(&lines);
                        }
                    }
                    if let Some(first) = seen.get(&conf) {
                        println!("{tag} {case}: same neo4j.conf as {first}");
                        continue;
                    }
                    seen.insert(conf.clone(), case.clone());
                    let certificate = objects
                        .iter()
                        .find(|o| o.kind == "Certificate")
                        .map(|o| o.object["spec"].clone());
                    let meta = json!({
                        "case": case,
                        "imageTag": tag,
                        "topology": topo_name,
                        "tls": tls.name(),
                        "memoryLimit": limit,
                        "memoryLimitBytes": bytes,
                        "userConfig": extras,
                        "plugins": extras,
                        "certificate": certificate,
                        "sslFiles": ssl_files(&objects),
                        "serverStart": SERVER_CASES.contains(&case.as_str()),
                        "envOverride": extras.then_some("db.transaction.timeout=30s"),
                        "secretSetting": extras.then(|| format!("db.lock.acquisition.timeout={SECRET_VALUE}")),
                    });
                    write(&out.join(format!("{case}.conf")), &conf)?;
                    if let Ok(apoc) = data_key(&objects, "apoc.conf") {
                        write(&out.join(format!("{case}.apoc.properties")), apoc)?;
                    }
                    write(
                        &out.join(format!("{case}.json")),
                        &serde_json::to_string_pretty(&meta)?,
                    )?;
                    written += 1;
                }
            }
        }
    }
    println!("{written} neo4j.conf files for {tag} in {}", out.display());
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
