//! The size bounds of the CRD schemas (`shared/src/types/bounds.rs`) through `neo4j-webhook
//! check`, the real binary: one past a bound is refused with the API server's own message, at the
//! bound the schema has nothing to say. The documents are built here because they are big; the
//! manifest corpus (`tests/corpus/bounds/`) holds the cluster cases for the API server too.

mod common;

use std::path::Path;
use std::process::Command;

use common::temp_dir;
use neo4j_shared::types::bounds;
use serde_json::{Map, Value, json};

/// The one report `check` prints for the single document in `object`.
fn check(dir: &Path, file: &str, object: &Value) -> Value {
    let path = dir.join(file);
    let text = serde_saphyr::to_string(object).unwrap_or_else(|e| panic!("{file}: {e}"));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_neo4j-webhook"))
        .args(["check", "--output", "json"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run neo4j-webhook: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    let report = lines.next().unwrap_or_else(|| {
        panic!(
            "{file}: no report; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(lines.next().is_none(), "{file}: more than one report");
    serde_json::from_str(report).unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {report}"))
}

/// The `(rule, field, message)` of every reason of a report.
fn reasons(report: &Value) -> Vec<(String, String, String)> {
    report["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                    (s("rule"), s("field"), s("message"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The reasons of a report that come from the schema (`schema-*` rules).
fn schema_reasons(report: &Value) -> Vec<(String, String, String)> {
    reasons(report)
        .into_iter()
        .filter(|(rule, _, _)| rule.starts_with("schema-"))
        .collect()
}

fn instance(kind: &str, name: &str, extra: Value) -> Value {
    let mut spec = json!({
        "acceptLicenseAgreement": "yes",
        "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
        "storage": {"size": "10Gi"},
    });
    if kind == "Neo4jEnterpriseCluster" {
        spec["topology"] = json!({"servers": 3});
    }
    merge(&mut spec, extra);
    json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    })
}

fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    })
}

fn merge(into: &mut Value, extra: Value) {
    if let (Some(into), Value::Object(extra)) = (into.as_object_mut(), extra) {
        into.extend(extra);
    }
}

fn env(n: u32) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"name": format!("BOUNDS_{i:04}"), "value": "x"}))
            .collect(),
    )
}

/// `n` settings Neo4j has (OIDC display names, a group accepted under any provider name).
fn settings(n: u32) -> Value {
    Value::Object(
        (0..n)
            .map(|i| {
                (
                    format!("dbms.security.oidc.p{i}.display_name"),
                    Value::from("x"),
                )
            })
            .collect::<Map<_, _>>(),
    )
}

fn chars(n: u32) -> String {
    "a".repeat(n as usize)
}

fn too_many(field: &str, n: u32, max: u32) -> (String, String, String) {
    (
        "schema-size".into(),
        field.into(),
        format!("{field}: Too many: {n}: must have at most {max} items"),
    )
}

fn too_long(field: &str, max: u32) -> (String, String, String) {
    (
        "schema-length".into(),
        field.into(),
        format!("{field}: Too long: may not be more than {max} bytes"),
    )
}

#[test]
fn a_cluster_one_past_the_env_bound_is_refused_with_the_api_servers_message() {
    let dir = temp_dir("bounds-env");
    let n = bounds::ENV_MAX_ITEMS;
    for kind in ["Neo4jEnterpriseCluster", "Neo4jEnterpriseStandalone"] {
        let over = check(
            &dir,
            "over.yaml",
            &instance(kind, "graph", json!({"env": env(n + 1)})),
        );
        assert_eq!(
            (over["allowed"].as_bool(), over["code"].as_u64()),
            (Some(false), Some(422)),
            "{kind}"
        );
        assert_eq!(reasons(&over), [too_many("spec.env", n + 1, n)], "{kind}");
        assert_eq!(
            reasons(&over)[0].2,
            "spec.env: Too many: 1025: must have at most 1024 items"
        );
        let at = check(
            &dir,
            "at.yaml",
            &instance(kind, "graph", json!({"env": env(n)})),
        );
        assert_eq!(at["allowed"], true, "{kind}: {:?}", reasons(&at));
    }
}

#[test]
fn settings_maps_are_bounded_in_entries_and_value_length() {
    let dir = temp_dir("bounds-config");
    let (n, len) = (bounds::CONFIG_MAX_PROPERTIES, bounds::CONFIG_VALUE_MAX);
    let kind = "Neo4jEnterpriseCluster";
    let over = check(
        &dir,
        "over.yaml",
        &instance(kind, "graph", json!({"config": settings(n + 1)})),
    );
    assert_eq!(reasons(&over), [too_many("spec.config", n + 1, n)]);
    let at = check(
        &dir,
        "at.yaml",
        &instance(kind, "graph", json!({"config": settings(n)})),
    );
    assert_eq!(at["allowed"], true, "{:?}", reasons(&at));

    let jvm = |length: u32| {
        let prefix = "-Dbounds.padding=";
        let value = format!("{prefix}{}", chars(length - prefix.len() as u32));
        instance(
            kind,
            "graph",
            json!({"config": {"server.jvm.additional": value}}),
        )
    };
    let long = check(&dir, "long.yaml", &jvm(len + 1));
    assert_eq!(
        reasons(&long),
        [too_long("spec.config.server.jvm.additional", len)]
    );
    let fits = check(&dir, "fits.yaml", &jvm(len));
    assert_eq!(fits["allowed"], true, "{:?}", reasons(&fits));
}

/// A Service annotation of `len` characters.
fn annotation(len: u32) -> Value {
    json!({"service": {"annotations": {"example.com/note": chars(len)}}})
}

#[test]
fn names_labels_and_annotations_are_bounded_as_kubernetes_bounds_them() {
    let dir = temp_dir("bounds-names");
    let kind = "Neo4jEnterpriseStandalone";
    let cases = [
        (
            json!({"storage": {"size": "10Gi", "className": chars(bounds::OBJECT_NAME_MAX + 1)}}),
            too_long("spec.storage.className", bounds::OBJECT_NAME_MAX),
        ),
        (
            json!({"nodeSelector": {"zone": chars(bounds::LABEL_VALUE_MAX + 1)}}),
            too_long("spec.nodeSelector.zone", bounds::LABEL_VALUE_MAX),
        ),
        (
            annotation(bounds::ANNOTATION_VALUE_MAX + 1),
            too_long(
                "spec.service.annotations.example.com/note",
                bounds::ANNOTATION_VALUE_MAX,
            ),
        ),
        (
            json!({"image": {"repo": chars(bounds::IMAGE_MAX + 1), "tag": "5.26.0-enterprise"}}),
            too_long("spec.image.repo", bounds::IMAGE_MAX),
        ),
    ];
    for (extra, expected) in cases {
        let report = check(&dir, "over.yaml", &instance(kind, "solo", extra));
        assert_eq!(reasons(&report), [expected]);
    }
    // Near misses: at each bound the schema has nothing to say.
    let mut at = instance(
        kind,
        "solo",
        json!({
            "storage": {"size": "10Gi", "className": chars(bounds::OBJECT_NAME_MAX)},
            "nodeSelector": {"zone": chars(bounds::LABEL_VALUE_MAX)},
        }),
    );
    merge(&mut at["spec"], annotation(bounds::ANNOTATION_VALUE_MAX));
    let report = check(&dir, "at.yaml", &at);
    assert_eq!(report["allowed"], true, "{:?}", reasons(&report));
}

/// `n` strings of `len` characters.
fn strings(n: u32, len: u32) -> Value {
    Value::Array((0..n).map(|_| Value::from(chars(len))).collect())
}

/// A Neo4jDatabase seeded with `statements`.
fn database(statements: Value) -> Value {
    let initial = json!({"source": "cypher", "cypherStatements": statements});
    let spec = json!({"clusterRef": "my-cluster", "name": "appdb", "initialData": initial});
    object("Neo4jDatabase", "db", spec)
}

/// A Neo4jPlugin with `config`.
fn plugin(config: Value) -> Value {
    let spec =
        json!({"clusterRef": "my-cluster", "name": "apoc", "version": "5.26.0", "config": config});
    object("Neo4jPlugin", "apoc", spec)
}

/// A Neo4jBackup of `instance_ref`.
fn backup(instance_ref: String) -> Value {
    let storage = json!({"type": "pvc", "pvc": {"size": "10Gi"}});
    let spec = json!({"instanceRef": instance_ref, "database": "neo4j", "storage": storage});
    object("Neo4jBackup", "nightly", spec)
}

/// A Neo4jRestore passing `args` to `neo4j-admin`.
fn restore(args: Value) -> Value {
    let source = json!({"type": "backup", "backupRef": "nightly"});
    let options = json!({"additionalArgs": args});
    let spec = json!({
        "instanceRef": "my-cluster",
        "database": "neo4j",
        "source": source,
        "options": options,
    });
    object("Neo4jRestore", "back", spec)
}

#[test]
fn the_other_kinds_refuse_absurd_lists_and_strings_too() {
    let dir = temp_dir("bounds-kinds");
    let (statement, statements) = (bounds::CYPHER_MAX, bounds::CYPHER_MAX_ITEMS);
    let (settings_max, name, args) = (
        bounds::CONFIG_MAX_PROPERTIES,
        bounds::OBJECT_NAME_MAX,
        bounds::MANY_ITEMS,
    );
    let cases = [
        (
            database(strings(1, statement + 1)),
            database(strings(1, statement)),
            too_long("spec.initialData.cypherStatements[0]", statement),
        ),
        (
            database(strings(statements + 1, 1)),
            database(strings(statements, 1)),
            too_many(
                "spec.initialData.cypherStatements",
                statements + 1,
                statements,
            ),
        ),
        (
            plugin(settings(settings_max + 1)),
            plugin(settings(settings_max)),
            too_many("spec.config", settings_max + 1, settings_max),
        ),
        (
            backup(chars(name + 1)),
            backup(chars(name)),
            too_long("spec.instanceRef", name),
        ),
        (
            restore(strings(args + 1, 1)),
            restore(strings(args, 1)),
            too_many("spec.options.additionalArgs", args + 1, args),
        ),
    ];
    for (over, at, expected) in cases {
        let kind = over["kind"].clone();
        let report = check(&dir, "over.yaml", &over);
        assert_eq!(
            (report["allowed"].as_bool(), report["code"].as_u64()),
            (Some(false), Some(422)),
            "{kind}"
        );
        assert_eq!(reasons(&report), [expected], "{kind}");
        // At the bound the schema is silent; the webhook's own rules (e.g. on the referenced
        // cluster, which this run does not have) may still speak.
        let report = check(&dir, "at.yaml", &at);
        assert_eq!(schema_reasons(&report), [], "{kind}");
    }
}
