//! `neo4j-webhook check` as a user runs it: the real binary, files on disk, exit codes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::temp_dir;
use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neo4j-webhook"))
}

fn write(dir: &Path, file: &str, text: &str) -> PathBuf {
    let p = dir.join(file);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
    p
}

fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run neo4j-webhook: {e}"))
}

/// `neo4j-webhook check FILE`.
fn check_file(f: &Path) -> Output {
    run(&["check", f.to_str().unwrap_or_default()])
}

/// The run's stderr, lossily decoded.
fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn cluster(name: &str, servers: i64) -> String {
    format!(
        "apiVersion: neo4j.neo4j.com/v1beta1\nkind: Neo4jEnterpriseCluster\nmetadata:\n  name: {name}\nspec:\n  acceptLicenseAgreement: \"yes\"\n  image:\n    repo: neo4j\n    tag: 5.26.0-enterprise\n  topology:\n    servers: {servers}\n  storage:\n    size: 10Gi\n"
    )
}

fn rules(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    r.get("rule")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| {
                            r.as_str()
                                .unwrap_or_default()
                                .split(':')
                                .next()
                                .unwrap_or_default()
                                .to_string()
                        })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn valid_object_is_allowed_with_its_patch_and_exit_0() {
    let dir = temp_dir("valid");
    let f = write(&dir, "c.yaml", &cluster("graph", 3));
    let out = run(&["check", "--output", "json", f.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let r = &lines[0];
    for key in [
        "kind",
        "namespace",
        "name",
        "allowed",
        "code",
        "reasons",
        "warnings",
        "patch",
    ] {
        assert!(r.get(key).is_some(), "missing {key} in {r}");
    }
    assert_eq!(
        (
            r["kind"].as_str(),
            r["namespace"].as_str(),
            r["name"].as_str()
        ),
        (
            Some("Neo4jEnterpriseCluster"),
            Some("default"),
            Some("graph")
        )
    );
    assert_eq!(
        (r["allowed"].as_bool(), r["code"].as_u64()),
        (Some(true), Some(200))
    );
    let patch = r["patch"].as_array().cloned().unwrap_or_default();
    assert!(
        patch
            .iter()
            .any(|op| op["path"] == "/spec/image/pullPolicy" && op["value"] == "IfNotPresent"),
        "{patch:?}"
    );
}

#[test]
fn denied_object_exits_1_with_rule_ids_and_field_paths() {
    let dir = temp_dir("denied");
    let f = write(&dir, "c.yaml", &cluster("lonely", 1));
    let out = run(&["check", "--output", "json", f.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(1));
    let r = &json_lines(&out)[0];
    assert_eq!(
        (r["allowed"].as_bool(), r["code"].as_u64()),
        (Some(false), Some(403))
    );
    assert!(
        rules(r, "reasons").contains(&"cluster-min-servers".to_string()),
        "{r}"
    );
    assert!(
        r["reasons"]
            .as_array()
            .is_some_and(|a| a.iter().any(|f| f["field"] == "spec.topology.servers")),
        "{r}"
    );
}

#[test]
fn the_cluster_domain_flag_checks_names_in_that_domain() {
    let dir = temp_dir("domain");
    let f = write(&dir, "c.yaml", &cluster("graph", 3));
    let path = f.to_str().unwrap_or_default();
    let out = run(&["check", "--output", "json", path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A domain so long that the servers' names overflow 253 characters.
    let long = [
        "d".repeat(60),
        "d".repeat(60),
        "d".repeat(60),
        "e".repeat(40),
        "example".into(),
    ]
    .join(".");
    let out = run(&["check", "--output", "json", "--cluster-domain", &long, path]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        rules(&json_lines(&out)[0], "reasons").contains(&"name-fqdn-length".to_string()),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run(&["check", "--cluster-domain", "Not_A_Domain", path]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn text_output_reads_like_kubectl() {
    let dir = temp_dir("text");
    let f = write(
        &dir,
        "c.yaml",
        &format!("{}---\n{}", cluster("pair", 2), cluster("lonely", 1)),
    );
    let out = run(&["check", "--output", "text", f.to_str().unwrap_or_default()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("neo4jenterpriseclusters.neo4j.neo4j.com/pair (namespace default): allowed"),
        "{text}"
    );
    assert!(text.contains("Warning: cluster-two-servers: "), "{text}");
    assert!(
        text.contains("lonely (namespace default): denied (403)"),
        "{text}"
    );
    assert!(
        text.contains("cluster-min-servers: spec.topology.servers is 1;"),
        "{text}"
    );
    assert!(
        text.contains("add /spec/image/pullPolicy = \"IfNotPresent\""),
        "{text}"
    );
}

#[test]
fn old_file_makes_it_an_update() {
    let dir = temp_dir("update");
    let old = write(&dir, "old.yaml", &cluster("graph", 5));
    let new = write(&dir, "new.yaml", &cluster("graph", 1));
    let out = run(&[
        "check",
        "--output",
        "json",
        "--old",
        old.to_str().unwrap_or_default(),
        new.to_str().unwrap_or_default(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let r = &json_lines(&out)[0];
    assert!(
        rules(r, "reasons").contains(&"cluster-scale-down-floor".to_string()),
        "{r}"
    );
    // The same object without --old is a create: no scale-down rule.
    let out = run(&[
        "check",
        "--output",
        "json",
        new.to_str().unwrap_or_default(),
    ]);
    assert!(
        !rules(&json_lines(&out)[0], "reasons").contains(&"cluster-scale-down-floor".to_string())
    );
}

#[test]
fn unreadable_file_exits_2_naming_it() {
    let out = run(&["check", "/nonexistent/manifest.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/manifest.yaml"));
}

#[test]
fn yaml_syntax_error_exits_2_with_file_and_document() {
    let dir = temp_dir("syntax");
    let f = write(
        &dir,
        "bad.yaml",
        &format!("{}---\nspec: [unclosed\n", cluster("graph", 3)),
    );
    let out = check_file(&f);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.yaml: document 1:"), "{err}");
}

#[test]
fn wrong_type_is_a_verdict_with_the_field_path_not_exit_2() {
    let dir = temp_dir("type");
    let f = write(
        &dir,
        "c.yaml",
        &cluster("graph", 3).replace("servers: 3", "servers: three"),
    );
    let out = run(&["check", "--output", "json", f.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = &json_lines(&out)[0];
    assert_eq!(r["code"], 422);
    assert_eq!(r["reasons"][0]["rule"], "schema-type", "{r}");
    assert_eq!(r["reasons"][0]["field"], "spec.topology.servers");
    assert_eq!(
        r["reasons"][0]["message"],
        "spec.topology.servers: Invalid value: \"string\": spec.topology.servers in body must be of type integer: \"string\""
    );
}

#[test]
fn unknown_fields_are_refused_as_strict_field_validation_does() {
    let dir = temp_dir("unknown");
    let f = write(
        &dir,
        "c.yaml",
        &format!("{}  replicas: 3\n", cluster("graph", 3)),
    );
    let out = run(&["check", "--output", "json", f.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(1));
    let r = &json_lines(&out)[0];
    assert_eq!(r["code"], 400);
    assert_eq!(rules(r, "reasons"), ["unknown-field"]);
    assert_eq!(r["reasons"][0]["field"], "spec.replicas");
    // Near miss: the same object without the extra field is admitted.
    let ok = write(&dir, "ok.yaml", &cluster("graph", 3));
    assert_eq!(check_file(&ok).status.code(), Some(0));
}

#[test]
fn an_update_leaving_spec_unchanged_is_not_judged_and_old_errors_are_warnings() {
    let dir = temp_dir("ratchet");
    // Stored before `config-db-format` existed: the webhook refuses it on CREATE.
    let stored = format!("{}  config:\n    db.format: block\n", cluster("graph", 3));
    let old = write(&dir, "old.yaml", &stored);
    let update = |name: &str, text: &str| {
        let new = write(&dir, name, text);
        run(&[
            "check",
            "--output",
            "json",
            "--old",
            old.to_str().unwrap_or_default(),
            new.to_str().unwrap_or_default(),
        ])
    };
    // Relabelled: the webhooks are not called (matchConditions), no default, no finding.
    let relabelled = stored.replace(
        "  name: graph\n",
        "  name: graph\n  labels:\n    team: graph\n",
    );
    let out = update("relabel.yaml", &relabelled);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let r = &json_lines(&out)[0];
    assert_eq!(r["warnings"], serde_json::json!([]));
    assert_eq!(r["patch"], serde_json::json!([]));
    // Another field changed: admitted, the old error is a warning saying so.
    let out = update(
        "other.yaml",
        &stored.replace(
            "db.format: block",
            "db.format: block\n    db.transaction.timeout: 30s",
        ),
    );
    assert_eq!(out.status.code(), Some(0));
    let r = &json_lines(&out)[0];
    assert_eq!(rules(r, "warnings"), ["config-db-format"], "{r}");
    assert!(
        r["warnings"][0]
            .as_str()
            .unwrap_or_default()
            .contains("already invalid before this update"),
        "{r}"
    );
    // Near miss: the update introduces an error of its own, which is refused.
    let out = update("worse.yaml", &stored.replace("servers: 3", "servers: 1"));
    assert_eq!(out.status.code(), Some(1));
    let r = &json_lines(&out)[0];
    assert!(
        rules(r, "reasons").contains(&"cluster-min-servers".to_string()),
        "{r}"
    );
    assert!(
        !rules(r, "reasons").contains(&"config-db-format".to_string()),
        "{r}"
    );
}

#[test]
fn other_kinds_are_skipped_and_counted() {
    let dir = temp_dir("skip");
    let f = write(
        &dir,
        "m.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\napiVersion: neo4j.neo4j.com/v1beta1\nkind: Neo4jUser\nmetadata:\n  name: u\n",
    );
    let out = check_file(&f);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("skipped 1 object(s) of kind ConfigMap"),
        "{err}"
    );
    assert!(
        err.contains("skipped 1 object(s) of kind Neo4jUser"),
        "{err}"
    );
}

#[test]
fn unserved_version_and_missing_name_are_denied_with_their_own_rules() {
    let dir = temp_dir("envelope");
    let f = write(
        &dir,
        "m.yaml",
        &format!(
            "{}---\n{}",
            cluster("old", 3).replace("v1beta1", "v1alpha1"),
            cluster("x", 3).replace("  name: x\n", "  labels: {}\n")
        ),
    );
    let out = run(&["check", "--output", "json", f.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(rules(&lines[0], "reasons"), ["api-version-unsupported"]);
    assert_eq!(rules(&lines[1], "reasons"), ["metadata-name-required"]);
}

#[test]
fn objects_of_one_run_see_each_other() {
    let dir = temp_dir("cross");
    let db = "apiVersion: neo4j.neo4j.com/v1beta1\nkind: Neo4jDatabase\nmetadata:\n  name: sales\nspec:\n  clusterRef: graph\n  name: sales\n  topology:\n    primaries: 3\n    secondaries: 2\n";
    let f = write(&dir, "m.yaml", &format!("{}---\n{db}", cluster("graph", 3)));
    let out = run(&["check", "--output", "json", f.to_str().unwrap_or_default()]);
    let lines = json_lines(&out);
    assert!(
        rules(&lines[1], "reasons").contains(&"database-topology-capacity".to_string()),
        "{}",
        lines[1]
    );
    // Alone, the database only warns that its cluster is not known.
    let f = write(&dir, "db.yaml", db);
    let out = run(&["check", "--output", "json", f.to_str().unwrap_or_default()]);
    let r = &json_lines(&out)[0];
    assert!(
        rules(r, "warnings").contains(&"database-host-exists".to_string()),
        "{r}"
    );
}

#[test]
fn samples_directory_has_valid_and_denied_objects() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests/samples");
    let out = run(&[
        "check",
        "--output",
        "json",
        samples.to_str().unwrap_or_default(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for r in json_lines(&out) {
        let name = r["name"].as_str().unwrap_or_default().to_string();
        let expect_denied = [
            "lonely",
            "forged",
            "system-db",
            "sales-bad-schedule",
            "solo-overwrite",
        ]
        .contains(&name.as_str());
        assert_eq!(r["allowed"].as_bool(), Some(!expect_denied), "{r}");
    }
}
