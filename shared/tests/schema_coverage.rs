//! Proof that no user field gets pruned: every property path of `spec` and `status` in the
//! reference operator's CRD schemas (listed in `tests/fixtures/reference-fields/<plural>.txt`)
//! exists in the openAPIV3Schema our types generate.
//!
//! Path notation, shared with the fixture files: `.` separates properties, `[]` steps into the
//! items of an array, `{}` into the values of a map (`additionalProperties`); a map itself is
//! listed both as `a.b` and `a.b{}`. For example `spec.topology.serverRoles[].serverIndex`,
//! `spec.config{}`, `spec.auth.oidc{}.audience`.
//!
//! Adding a kind is one line in [`KINDS`].

use std::collections::BTreeSet;
use std::path::PathBuf;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use neo4j_shared::types::*;
use serde_json::Value;

/// Builds a kind's CRD.
type CrdFn = fn() -> CustomResourceDefinition;

/// Every kind with a fixture: its plural and its generated CRD.
const KINDS: &[(&str, CrdFn)] = &[
    ("neo4jenterpriseclusters", Neo4jEnterpriseCluster::crd),
    ("neo4jenterprisestandalones", Neo4jEnterpriseStandalone::crd),
    ("neo4jbackups", Neo4jBackup::crd),
    ("neo4jrestores", Neo4jRestore::crd),
    ("neo4jdatabases", Neo4jDatabase::crd),
    ("neo4jplugins", Neo4jPlugin::crd),
];

/// Reference paths we knowingly lack, as `(plural, path)`, each with the reason. Only paths deep
/// inside embedded Kubernetes core types belong here, and only when the difference is the
/// Kubernetes version: the reference CRDs were generated from k8s.io/api v0.36, our
/// k8s-openapi is built for v1.35.
const ALLOWLIST: &[(&str, &str)] = &[];

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference-fields")
}

fn read_fixture(plural: &str) -> Vec<String> {
    let path = fixture_dir().join(format!("{plural}.txt"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Collects every property path below `schema`, which sits at `path`.
fn descend(schema: &Value, path: &str, out: &mut BTreeSet<String>) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    assert!(
        !obj.contains_key("$ref"),
        "unresolved $ref at {path}: the CRD schema must be fully inlined"
    );
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, child) in props {
            let p = format!("{path}.{name}");
            out.insert(p.clone());
            descend(child, &p, out);
        }
    }
    if let Some(items) = obj.get("items").filter(|v| v.is_object()) {
        descend(items, &format!("{path}[]"), out);
    }
    if let Some(values) = obj.get("additionalProperties").filter(|v| v.is_object()) {
        let p = format!("{path}{{}}");
        out.insert(p.clone());
        descend(values, &p, out);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for sub in obj.get(key).and_then(Value::as_array).into_iter().flatten() {
            descend(sub, path, out);
        }
    }
}

/// All `spec` / `status` paths of the v1beta1 schema of `crd`.
fn generated_paths(crd: &CustomResourceDefinition) -> BTreeSet<String> {
    let version = crd
        .spec
        .versions
        .iter()
        .find(|v| v.name == "v1beta1")
        .expect("CRD serves v1beta1");
    let schema = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .expect("v1beta1 has an openAPIV3Schema");
    let root = serde_json::to_value(schema).expect("schema serializes");
    let mut out = BTreeSet::new();
    for top in ["spec", "status"] {
        if let Some(sub) = root.get("properties").and_then(|p| p.get(top)) {
            out.insert(top.to_owned());
            descend(sub, top, &mut out);
        }
    }
    out
}

#[test]
fn every_reference_field_exists_in_our_schema() {
    let mut failures = Vec::new();
    for (plural, crd) in KINDS {
        let crd = crd();
        assert_eq!(
            crd.spec.names.plural, *plural,
            "KINDS entry names the wrong kind"
        );
        let ours = generated_paths(&crd);
        let missing: Vec<String> = read_fixture(plural)
            .into_iter()
            .filter(|p| !ours.contains(p) && !ALLOWLIST.contains(&(*plural, p.as_str())))
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{plural}: {} reference path(s) missing from our schema:\n  {}",
                missing.len(),
                missing.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "fields that would be pruned:\n{}",
        failures.join("\n")
    );
}

#[test]
fn allowlist_entries_are_still_needed() {
    let mut stale = Vec::new();
    for (plural, path) in ALLOWLIST {
        let Some((_, crd)) = KINDS.iter().find(|(p, _)| p == plural) else {
            continue;
        };
        if !read_fixture(plural).iter().any(|p| p == path) {
            stale.push(format!("{plural}: {path} (not in the fixture)"));
        } else if generated_paths(&crd()).contains(*path) {
            stale.push(format!("{plural}: {path} (now present in our schema)"));
        }
    }
    assert!(
        stale.is_empty(),
        "stale allowlist entries:\n  {}",
        stale.join("\n  ")
    );
}

#[test]
fn every_fixture_has_a_kind() {
    let mut unlisted = Vec::new();
    for entry in std::fs::read_dir(fixture_dir()).expect("fixture dir exists") {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(plural) = name.strip_suffix(".txt")
            && !KINDS.iter().any(|(p, _)| *p == plural)
        {
            unlisted.push(plural.to_owned());
        }
    }
    assert!(
        unlisted.is_empty(),
        "fixtures with no entry in KINDS: {unlisted:?}"
    );
}
