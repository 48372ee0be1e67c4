//! The admission engine end to end, without a server: reference-shaped manifests round-trip and
//! are admitted; defaults are idempotent; the JSON patch reproduces the defaulted object exactly;
//! validation never panics.

use neo4j_shared::engine;
use neo4j_shared::inventory::{MapInventory, NoInventory};
use neo4j_shared::types::{Kind, Operation};
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixture_documents() -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/examples");
    let mut docs = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for file in files {
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for chunk in text.split("\n---\n") {
            let v: Value =
                serde_saphyr::from_str(chunk).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            docs.push(v);
        }
    }
    assert!(
        docs.len() >= 10,
        "expected the example fixtures, found {}",
        docs.len()
    );
    docs
}

fn kind_of(v: &Value) -> Kind {
    v["kind"]
        .as_str()
        .and_then(Kind::from_name)
        .unwrap_or_else(|| panic!("not one of our kinds: {v}"))
}

/// JSON as the types serialize it: explicit nulls (`env:` with no value) are dropped.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn round_trip(kind: Kind, v: &Value) -> Value {
    use neo4j_shared::types::*;
    fn rt<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Value {
        let typed: T =
            serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("decode {e}: {v}"));
        serde_json::to_value(typed).unwrap_or_default()
    }
    match kind {
        Kind::Cluster => rt::<Neo4jEnterpriseCluster>(v),
        Kind::Standalone => rt::<Neo4jEnterpriseStandalone>(v),
        Kind::Backup => rt::<Neo4jBackup>(v),
        Kind::Restore => rt::<Neo4jRestore>(v),
        Kind::Database => rt::<Neo4jDatabase>(v),
        Kind::Plugin => rt::<Neo4jPlugin>(v),
    }
}

#[test]
fn reference_shaped_manifests_round_trip_unchanged() {
    for doc in fixture_documents() {
        assert_eq!(
            round_trip(kind_of(&doc), &doc),
            without_nulls(&doc),
            "{}",
            doc["metadata"]["name"]
        );
    }
}

#[test]
fn reference_shaped_manifests_are_admitted_and_the_patch_gives_the_defaulted_object() {
    let docs = fixture_documents();
    let mut inventory = MapInventory::default();
    let mutated: Vec<_> = docs
        .iter()
        .map(|d| {
            let m = engine::mutate(kind_of(d), d)
                .unwrap_or_else(|e| panic!("{}: {e}", d["metadata"]["name"]));
            inventory.insert_object(&m.defaulted);
            (d, m)
        })
        .collect();
    let mut refused = Vec::new();
    for (doc, m) in mutated {
        let mut patched = doc.clone();
        json_patch::patch(&mut patched, &m.patch)
            .unwrap_or_else(|e| panic!("patch does not apply: {e}"));
        assert_eq!(patched, m.defaulted);
        let d = engine::validate(
            kind_of(doc),
            Operation::Create,
            None,
            &m.defaulted,
            &inventory,
        );
        if !d.allowed {
            refused.push(format!("{}: {}", doc["metadata"]["name"], d.message()));
        }
    }
    assert!(
        refused.is_empty(),
        "reference-shaped manifests refused:\n{}",
        refused.join("\n")
    );
}

#[test]
fn an_object_that_needs_no_default_gets_an_empty_patch() {
    for doc in fixture_documents() {
        let kind = kind_of(&doc);
        let once = engine::mutate(kind, &doc).unwrap_or_else(|e| panic!("{e}"));
        let twice = engine::mutate(kind, &once.defaulted).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            twice.patch.0.is_empty(),
            "{}: second patch {:?}",
            doc["metadata"]["name"],
            twice.patch
        );
    }
}

#[test]
fn undecodable_objects_name_the_field() {
    let bad = json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster", "metadata": {"name": "x"},
        "spec": {"image": {"repo": "neo4j", "tag": "5.26.0"}, "storage": {"size": "1Gi"}, "topology": {"servers": "three"}}});
    let err = engine::mutate(Kind::Cluster, &bad)
        .err()
        .unwrap_or_else(|| panic!("decoded a string as servers"));
    assert_eq!(err.path, "spec.topology.servers");
    let d = engine::validate(Kind::Cluster, Operation::Create, None, &bad, &NoInventory);
    assert_eq!((d.allowed, d.code), (false, engine::CODE_UNPROCESSABLE));
    assert_eq!(d.errors[0].field, "spec.topology.servers");
}

#[test]
fn envelope_rules_refuse_other_versions_and_nameless_objects() {
    let mut doc = fixture_documents().remove(0);
    doc["apiVersion"] = json!("neo4j.neo4j.com/v1alpha1");
    let d = engine::validate(Kind::Cluster, Operation::Create, None, &doc, &NoInventory);
    assert_eq!(
        d.errors.iter().map(|f| f.rule).collect::<Vec<_>>(),
        ["api-version-unsupported"]
    );
    let mut doc = fixture_documents().remove(0);
    doc["metadata"].as_object_mut().map(|m| m.remove("name"));
    let d = engine::validate(Kind::Cluster, Operation::Create, None, &doc, &NoInventory);
    assert_eq!(
        d.errors.iter().map(|f| f.rule).collect::<Vec<_>>(),
        ["metadata-name-required"]
    );
}

#[test]
fn delete_and_connect_are_allowed_without_checks() {
    let garbage = json!({"kind": "Neo4jEnterpriseCluster"});
    for op in [Operation::Delete, Operation::Connect] {
        assert!(engine::validate(Kind::Cluster, op, None, &garbage, &NoInventory).allowed);
    }
}

/// A cluster stored before `config-db-format` existed (the rule refuses it on CREATE now).
fn stored_before_the_rule() -> Value {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": "graph", "namespace": "db"},
        "spec": {"acceptLicenseAgreement": "yes", "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": 3}, "storage": {"size": "10Gi"}, "config": {"db.format": "block"}}})
}

fn update(old: &Value, new: &Value) -> engine::AdmissionDecision {
    engine::validate(
        Kind::Cluster,
        Operation::Update,
        Some(old),
        new,
        &NoInventory,
    )
}

#[test]
fn an_update_is_refused_only_for_errors_it_introduces() {
    let old = stored_before_the_rule();
    let created = engine::validate(Kind::Cluster, Operation::Create, None, &old, &NoInventory);
    assert_eq!(
        created.errors.iter().map(|f| f.rule).collect::<Vec<_>>(),
        ["config-db-format"]
    );
    // Relabelled, a finalizer removed: spec unchanged, nothing to judge.
    let mut relabelled = old.clone();
    relabelled["metadata"]["labels"] = json!({"team": "graph"});
    relabelled["metadata"]["finalizers"] = json!([]);
    let d = update(&old, &relabelled);
    assert!(
        d.allowed && d.errors.is_empty() && d.warnings.is_empty(),
        "{d:?}"
    );
    // Another spec field changed: admitted; the old error comes back as a warning that says the
    // object was already invalid, under the same rule id, with what to do.
    let mut other = old.clone();
    other["spec"]["config"]["db.transaction.timeout"] = json!("30s");
    let d = update(&old, &other);
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.warnings.len(), 1, "{d:?}");
    assert_eq!(d.warnings[0].rule, "config-db-format");
    assert_eq!(d.warnings[0].field, "spec.config[db.format]");
    assert!(
        d.warnings[0]
            .message
            .starts_with("already invalid before this update"),
        "{:?}",
        d.warnings[0]
    );
    // Near misses: the update changes the offending value (to another bad one), or breaks a
    // rule the stored object kept: refused.
    let mut changed = old.clone();
    changed["spec"]["config"]["db.format"] = json!("standard");
    let d = update(&old, &changed);
    assert!(
        !d.allowed && d.errors[0].rule == "config-db-format",
        "{d:?}"
    );
    let mut broken = other.clone();
    broken["spec"]["topology"]["servers"] = json!(1);
    let d = update(&old, &broken);
    assert!(!d.allowed, "{d:?}");
    assert_eq!(
        d.errors.iter().map(|f| f.rule).collect::<Vec<_>>(),
        ["cluster-min-servers", "cluster-scale-down-floor"]
    );
    assert_eq!(
        d.warnings.iter().map(|f| f.rule).collect::<Vec<_>>(),
        ["config-db-format"]
    );
}

#[test]
fn spec_changed_is_what_the_webhook_configurations_match() {
    let old = stored_before_the_rule();
    let mut relabelled = old.clone();
    relabelled["metadata"]["labels"] = json!({"a": "b"});
    assert!(!engine::spec_changed(&old, &relabelled));
    let mut changed = old.clone();
    changed["spec"]["topology"]["servers"] = json!(5);
    assert!(engine::spec_changed(&old, &changed));
    assert!(engine::spec_changed(&json!({}), &old));
    // Both shipped webhook configurations carry the same condition.
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests/webhook/webhooks.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let expression = "expression: \"request.operation != 'UPDATE' || !has(object.spec) || !has(oldObject.spec) || object.spec != oldObject.spec\"";
    let hooks: Vec<&str> = text.split("\n---\n").collect();
    assert_eq!(hooks.len(), 2);
    for hook in hooks {
        assert!(
            hook.contains("matchConditions:") && hook.contains(expression),
            "{hook}"
        );
    }
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop_oneof![Just(None), s.prop_map(Some)].boxed()
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z][a-z0-9.-]{0,20}",
        "\\PC{0,30}",
        Just("cert-manager".to_string()),
        Just("disabled".to_string()),
        Just("PRIMARY".to_string()),
        Just("SECONDARY".to_string()),
        Just("NONE".to_string()),
    ]
}

prop_compose! {
    /// A cluster JSON with random optional sections and hostile values.
    fn arbitrary_cluster()(
        name in "[a-z]{1,60}",
        servers in prop_oneof![-5i64..120, Just(i64::from(i32::MAX))],
        min_primaries in opt(-3i64..200),
        mode in opt(word()),
        tag in prop_oneof![Just("5.26.0".to_string()), Just("2025.10.1-enterprise".to_string()), word()],
        size in prop_oneof![Just("10Gi".to_string()), Just("0".to_string()), word()],
        license in opt(word()),
        tls in opt((opt(word()), opt(word()))),
        providers in opt(proptest::collection::vec(word(), 0..3)),
        memory in opt(prop_oneof![Just("512Mi".to_string()), Just("8Gi".to_string()), Just("1Ti".to_string()), word()]),
        config in opt(proptest::collection::btree_map("[a-z.]{1,30}", word(), 0..4)),
        monitoring in opt(opt(any::<bool>())),
    ) -> Value {
        let mut spec = json!({"image": {"repo": "neo4j", "tag": tag}, "topology": {"servers": servers}, "storage": {"size": size}});
        if let Some(m) = min_primaries { spec["topology"]["minSystemPrimaries"] = json!(m); }
        if let Some(m) = mode { spec["topology"]["serverModeConstraint"] = json!(m); }
        if let Some(l) = license { spec["acceptLicenseAgreement"] = json!(l); }
        if let Some((mode, issuer)) = tls {
            let mut t = json!({});
            if let Some(m) = mode { t["mode"] = json!(m); }
            if let Some(i) = issuer { t["issuerRef"] = json!({"name": i}); }
            spec["tls"] = t;
        }
        if let Some(p) = providers { spec["auth"] = json!({"authenticationProviders": p}); }
        if let Some(m) = memory { spec["resources"] = json!({"limits": {"memory": m}}); }
        if let Some(c) = config { spec["config"] = json!(c); }
        if let Some(m) = monitoring { spec["monitoring"] = match m { Some(e) => json!({"enabled": e}), None => json!({}) }; }
        json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster", "metadata": {"name": name, "namespace": "default"}, "spec": spec})
    }
}

proptest! {
    #[test]
    fn defaults_are_idempotent_and_the_patch_reproduces_them(doc in arbitrary_cluster()) {
        if let Ok(m) = engine::mutate(Kind::Cluster, &doc) {
            let mut patched = doc.clone();
            prop_assert!(json_patch::patch(&mut patched, &m.patch).is_ok());
            prop_assert_eq!(&patched, &m.defaulted);
            let again = engine::mutate(Kind::Cluster, &m.defaulted);
            prop_assert!(again.is_ok_and(|a| a.patch.0.is_empty()));
        }
    }

    #[test]
    fn validation_never_panics(doc in arbitrary_cluster(), old in arbitrary_cluster()) {
        let d = engine::validate(Kind::Cluster, Operation::Update, Some(&old), &doc, &NoInventory);
        prop_assert!(d.allowed == d.errors.is_empty());
        prop_assert!(matches!(d.code, 200 | 403 | 422));
    }

    #[test]
    fn any_valid_minimal_cluster_passes(
        name in "[a-z][a-z0-9-]{0,30}[a-z0-9]",
        servers in 3i64..=99,
        tag in prop_oneof![Just("5.26.0-enterprise"), Just("5.26.12"), Just("2025.01.0"), Just("2026.4.0-enterprise")],
        size in prop_oneof![Just("1Gi"), Just("100Gi"), Just("2Ti")],
        license in prop_oneof![Just("yes"), Just("eval")],
        memory_gi in 2u64..=256,
    ) {
        let doc = json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"acceptLicenseAgreement": license, "image": {"repo": "neo4j", "tag": tag},
                "topology": {"servers": servers}, "storage": {"size": size},
                "resources": {"limits": {"memory": format!("{memory_gi}Gi")}}}});
        let m = engine::mutate(Kind::Cluster, &doc);
        prop_assert!(m.is_ok());
        let defaulted = m.map(|m| m.defaulted).unwrap_or_default();
        let d = engine::validate(Kind::Cluster, Operation::Create, None, &defaulted, &NoInventory);
        prop_assert!(d.allowed, "{}", d.message());
    }
}
