//! Neo4jPlugins rendered into the target: neo4j.conf, apoc.conf, the StatefulSet's
//! `NEO4J_PLUGINS` and download init containers, and that removing a plugin removes exactly
//! its contributions.

use super::*;
use crate::plugins::{self, DEFAULT_INIT_IMAGE, PluginRef, Target};
use crate::types::Neo4jPluginSpec;

fn plugin(v: Value) -> Neo4jPluginSpec {
    let mut s: Neo4jPluginSpec = serde_json::from_value(v).expect("plugin");
    crate::defaults::plugin(&mut s);
    s
}

fn apoc() -> (&'static str, Neo4jPluginSpec) {
    (
        "apoc",
        plugin(
            json!({"clusterRef": "graph", "name": "apoc", "version": "5.26.0",
            "config": {"apoc.export.file.enabled": "true", "apoc.import.file.enabled": "true"},
            "security": {"allowedProcedures": ["apoc.*", "gds.*"]}}),
        ),
    )
}

fn gds() -> (&'static str, Neo4jPluginSpec) {
    (
        "gds",
        plugin(
            json!({"clusterRef": "graph", "name": "gds", "version": "2.10.0",
            "config": {"gds.enterprise.license_file": "/licenses/gds.license"}}),
        ),
    )
}

fn set_of(
    target: Target,
    config: Option<&BTreeMap<String, String>>,
    list: &[(&str, Neo4jPluginSpec)],
) -> PluginSet {
    plugins::merge(
        target,
        config,
        list.iter().map(|(name, spec)| PluginRef { name, spec }),
        DEFAULT_INIT_IMAGE,
    )
}

fn with_plugins(
    c: &Neo4jEnterpriseCluster,
    list: &[(&str, Neo4jPluginSpec)],
) -> Vec<DesiredObject> {
    cluster_with_plugins(c, &set_of(Target::Cluster, c.spec.config.as_ref(), list))
        .expect("renders")
}

fn graph_conf(objects: &[DesiredObject]) -> String {
    conf_of(objects, "graph-config")
}

fn config_hash(objects: &[DesiredObject]) -> Value {
    pod_template(objects, "graph-server")["metadata"]["annotations"][CONFIG_HASH_ANNOTATION].clone()
}

fn neo4j_container(objects: &[DesiredObject], sts: &str) -> Value {
    find(objects, "StatefulSet", sts).object["spec"]["template"]["spec"]["containers"][0].clone()
}

fn env_value(container: &Value, name: &str) -> Option<String> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str().map(str::to_string))
}

#[test]
fn two_plugins_fold_into_the_statefulset_and_the_config() {
    let c = cluster_from(minimal_spec());
    let objects = with_plugins(&c, &[apoc(), gds()]);
    let container = neo4j_container(&objects, "graph-server");
    assert_eq!(
        env_value(&container, "NEO4J_PLUGINS").as_deref(),
        Some(r#"["apoc","graph-data-science"]"#)
    );
    let conf = graph_conf(&objects);
    let section = conf
        .split("\n# ")
        .find(|s| s.starts_with("Neo4jPlugin settings"))
        .expect("plugin section");
    assert!(
        section.contains("gds.enterprise.license_file=/licenses/gds.license\n"),
        "{conf}"
    );
    assert!(
        conf.contains("dbms.security.procedures.allowlist=apoc.*,gds.*\n"),
        "{conf}"
    );
    assert!(
        conf.contains("dbms.security.procedures.unrestricted=apoc.*,gds.*,apoc.load.*\n"),
        "unioned in plugin order: {conf}"
    );
    assert!(
        !conf.contains("apoc.export"),
        "apoc keys stay out of neo4j.conf: {conf}"
    );
    let data = &find(&objects, "ConfigMap", "graph-config").object["data"];
    assert_eq!(
        data["apoc.conf"].as_str().map(|s| s
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect::<Vec<_>>()),
        Some(vec![
            "apoc.export.file.enabled=true",
            "apoc.import.file.enabled=true"
        ])
    );
    assert!(
        data["startup.sh"]
            .as_str()
            .unwrap_or_default()
            .contains("cp /conf/apoc.conf \"${conf_dir}/apoc.conf\"\n"),
        "the cluster copies apoc.conf next to neo4j.conf"
    );
    let plain = cluster(&c).expect("renders");
    assert_ne!(
        config_hash(&objects),
        config_hash(&plain),
        "plugins roll the pods"
    );
}

#[test]
fn merging_is_deterministic_whatever_the_input_order() {
    let c = cluster_from(minimal_spec());
    assert_eq!(
        with_plugins(&c, &[apoc(), gds()]),
        with_plugins(&c, &[gds(), apoc()])
    );
}

#[test]
fn removing_a_plugin_removes_exactly_its_contributions() {
    let c = cluster_from(minimal_spec());
    assert_eq!(
        with_plugins(&c, &[apoc(), gds()][1..]),
        with_plugins(&c, &[gds()])
    );
    let only_apoc = with_plugins(&c, &[apoc()]);
    assert!(
        !graph_conf(&only_apoc).contains("gds.enterprise"),
        "gds setting gone"
    );
    assert!(
        !graph_conf(&only_apoc).contains("apoc.load.*"),
        "gds's automatic procedures gone"
    );
    assert_eq!(
        env_value(
            &neo4j_container(&only_apoc, "graph-server"),
            "NEO4J_PLUGINS"
        )
        .as_deref(),
        Some(r#"["apoc"]"#)
    );
    // Without any plugin the objects are byte-identical to a render that never had one, so
    // upgrading the operator or deleting the last plugin restarts exactly as a spec change does.
    assert_eq!(with_plugins(&c, &[]), cluster(&c).expect("renders"));
    let disabled = (
        "apoc",
        plugin(
            json!({"clusterRef": "graph", "name": "apoc", "version": "5.26.0", "enabled": false,
            "config": {"apoc.export.file.enabled": "true"}}),
        ),
    );
    assert_eq!(with_plugins(&c, &[disabled]), cluster(&c).expect("renders"));
}

#[test]
fn the_targets_own_config_overrides_a_plugin_and_joins_its_lists() {
    let c = cluster_from(spec_with(json!({"config": {
        "gds.enterprise.license_file": "/licenses/ours.license",
        "dbms.security.procedures.unrestricted": "custom.*"
    }})));
    let set = set_of(Target::Cluster, c.spec.config.as_ref(), &[gds()]);
    assert_eq!(set.conflicts_of("gds").len(), 1);
    let conf = graph_conf(&cluster_with_plugins(&c, &set).expect("renders"));
    assert!(
        conf.contains("gds.enterprise.license_file=/licenses/ours.license\n"),
        "{conf}"
    );
    assert!(!conf.contains("gds.license"), "{conf}");
    assert!(
        conf.contains("dbms.security.procedures.unrestricted=gds.*,apoc.load.*,custom.*\n"),
        "{conf}"
    );
}

#[test]
fn verified_downloads_get_a_pinned_init_container_with_fixed_script() {
    let sum = format!("sha512:{}", "AB".repeat(64));
    let custom = (
        "custom",
        plugin(
            json!({"clusterRef": "graph", "name": "my-plugin", "version": "1.0.0",
            "installMode": "VerifiedDownload",
            "source": {"type": "url", "url": "https://example.com/p.jar?a=$(id)", "checksum": sum, "authSecret": "dl-creds"}}),
        ),
    );
    let c = cluster_from(spec_with(
        json!({"trustedCASecrets": [{"name": "corp-ca"}]}),
    ));
    let objects = with_plugins(&c, &[custom]);
    let pod = &find(&objects, "StatefulSet", "graph-server").object["spec"]["template"]["spec"];
    let init = pod["initContainers"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["name"] == "plugin-init-my-plugin"))
        .expect("init container");
    assert_eq!(init["image"], DEFAULT_INIT_IMAGE);
    assert_eq!(init["command"][2], super::super::plugin::DOWNLOAD_SH);
    assert_eq!(
        env_value(init, "PLUGIN_URL").as_deref(),
        Some("https://example.com/p.jar?a=$(id)")
    );
    assert_eq!(
        env_value(init, "PLUGIN_CHECKSUM"),
        Some(format!("sha512:{}", "ab".repeat(64)))
    );
    assert_eq!(
        env_value(init, "PLUGIN_TARGET").as_deref(),
        Some("/plugins/my-plugin.jar")
    );
    assert_eq!(init["securityContext"]["readOnlyRootFilesystem"], true);
    let volume = |name: &str| {
        pod["volumes"]
            .as_array()
            .and_then(|l| l.iter().find(|v| v["name"] == name).cloned())
            .unwrap_or_else(|| panic!("no volume {name}"))
    };
    assert_eq!(
        volume("plugin-auth-my-plugin")["secret"]["secretName"],
        "dl-creds"
    );
    assert_eq!(
        volume("plugin-ca")["projected"]["sources"][0]["secret"]["items"][0]["path"],
        "corp-ca.crt"
    );
    assert!(
        env_value(&neo4j_container(&objects, "graph-server"), "NEO4J_PLUGINS").is_none(),
        "a verified download is not installed by the entrypoint"
    );
    // The script never interpolates a value: each one is a quoted variable.
    let script = super::super::plugin::DOWNLOAD_SH;
    for var in [
        "PLUGIN_URL",
        "PLUGIN_CHECKSUM",
        "PLUGIN_TARGET",
        "PLUGIN_NAME",
    ] {
        assert!(!script.contains(&format!(" ${var}")), "{var} unquoted");
    }
    assert!(!script.contains("eval"));
}

#[test]
fn standalones_read_plugins_from_their_config_directory() {
    let s = standalone_from(json!({
        "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
        "storage": {"size": "10Gi"},
        "acceptLicenseAgreement": "yes"
    }));
    let set = set_of(Target::Standalone, None, &[apoc()]);
    let objects = standalone_with_plugins(&s, &set).expect("renders");
    let data = &find(&objects, "ConfigMap", "solo-config").object["data"];
    let conf = data["neo4j.conf"].as_str().unwrap_or_default();
    assert!(
        conf.contains("server.directories.plugins=/plugins\n"),
        "{conf}"
    );
    assert!(
        data["apoc.conf"].is_string(),
        "NEO4J_CONF=/conf holds apoc.conf"
    );
    assert_eq!(
        env_value(&neo4j_container(&objects, "solo"), "NEO4J_PLUGINS").as_deref(),
        Some(r#"["apoc"]"#)
    );
    assert_eq!(
        standalone_with_plugins(&s, &PluginSet::default()).expect("renders"),
        standalone(&s).expect("renders")
    );
}

#[test]
fn a_users_neo4j_plugins_list_joins_the_merged_one() {
    let c = cluster_from(spec_with(
        json!({"env": [{"name": "NEO4J_PLUGINS", "value": "[\"n10s\"]"}]}),
    ));
    let objects = with_plugins(&c, &[apoc()]);
    let container = neo4j_container(&objects, "graph-server");
    let count = container["env"].as_array().map_or(0, |l| {
        l.iter().filter(|e| e["name"] == "NEO4J_PLUGINS").count()
    });
    assert_eq!(count, 1, "one entry, or server-side apply refuses the list");
    assert_eq!(
        env_value(&container, "NEO4J_PLUGINS").as_deref(),
        Some(r#"["apoc","n10s"]"#)
    );
}

#[test]
fn the_additive_lists_and_the_startup_budget_match_the_renderer() {
    assert_eq!(
        crate::plugins::ADDITIVE_KEYS,
        super::super::conf::ADDITIVE_KEYS
    );
    let objects = render_cluster(minimal_spec());
    let probe = &neo4j_container(&objects, "graph-server")["startupProbe"];
    let budget = probe["initialDelaySeconds"].as_i64().unwrap_or(0)
        + probe["periodSeconds"].as_i64().unwrap_or(0)
            * probe["failureThreshold"].as_i64().unwrap_or(0);
    assert_eq!(budget, crate::plugins::CLUSTER_STARTUP_BUDGET_SECONDS);
}
