//! The harness of the rule tables of Neo4jBackup, Neo4jRestore, Neo4jDatabase and
//! Neo4jPlugin: an inventory to cross-check against, the rows of a table and their runner, and
//! the property tests that no input makes the rules panic.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::engine::{Instance, InstanceKind, Inventory, MapInventory, NoInventory};
use crate::verdict::Verdict;

pub(crate) const NAMESPACE: &str = "db";

/// A cluster `graph` (3 servers, 2025.10), a cluster `old` (2 servers, PRIMARY-only, 5.26),
/// a cluster `duo` (2 servers, SECONDARY-only, 2025.01), a cluster `big` (6 servers, 2025.10)
/// and a standalone `solo` (5.26).
pub(crate) fn inventory() -> MapInventory {
    use InstanceKind::{Cluster, Standalone};
    let mut inv = MapInventory::default();
    for (name, kind, servers, constraint, tag) in [
        ("graph", Cluster, 3, "NONE", "2025.10.0-enterprise"),
        ("old", Cluster, 2, "PRIMARY", "5.26.0-enterprise"),
        ("duo", Cluster, 2, "SECONDARY", "2025.01.0-enterprise"),
        ("big", Cluster, 6, "NONE", "2025.10.0-enterprise"),
        ("solo", Standalone, 1, "NONE", "5.26.0-enterprise"),
    ] {
        let instance = Instance {
            kind,
            servers,
            server_mode_constraint: Some(constraint.to_string()),
            image_tag: Some(tag.to_string()),
            property_sharding: false,
        };
        inv.insert(NAMESPACE, name, instance);
    }
    inv
}

/// A manifest of `kind` named `name` in [`NAMESPACE`].
pub(crate) fn manifest(kind: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": kind,
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec
    })
}

/// How a case is judged.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Via {
    Create,
    /// `update(old, new)`, the old object being the base with [`Case::old`] merged in.
    Update,
    /// `cross` against [`inventory`].
    Cross,
    /// `cross` without any view of the cluster.
    CrossBlind,
}

/// One row of a rule table: the spec merged (RFC 7386) into the base object's spec, the
/// rule it exercises, whether it should fire, and the exact rule ids expected.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub rule: &'static str,
    pub hit: bool,
    pub patch: Value,
    pub old: Value,
    pub name: Option<&'static str>,
    pub via: Via,
    pub errors: Vec<&'static str>,
    pub warnings: Vec<&'static str>,
}

/// A case where `rule` fires (expected: that rule as an error, unless told otherwise).
pub(crate) fn hit(rule: &'static str, patch: Value) -> Case {
    Case {
        rule,
        hit: true,
        patch,
        old: json!({}),
        name: None,
        via: Via::Create,
        errors: vec![rule],
        warnings: vec![],
    }
}

/// A near miss: `rule` must not fire (expected: nothing, unless told otherwise).
pub(crate) fn miss(rule: &'static str, patch: Value) -> Case {
    Case {
        rule,
        hit: false,
        patch,
        old: json!({}),
        name: None,
        via: Via::Create,
        errors: vec![],
        warnings: vec![],
    }
}

impl Case {
    pub(crate) fn errors(mut self, e: &[&'static str]) -> Self {
        self.errors = e.to_vec();
        self
    }
    pub(crate) fn warnings(mut self, w: &[&'static str]) -> Self {
        self.warnings = w.to_vec();
        self
    }
    /// Expected: `rule` as a warning and nothing else.
    pub(crate) fn warning(self) -> Self {
        let rule = self.rule;
        self.errors(&[]).warnings(&[rule])
    }
    pub(crate) fn named(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }
    pub(crate) fn via(mut self, via: Via) -> Self {
        self.via = via;
        self
    }
    pub(crate) fn updated_from(mut self, old: Value) -> Self {
        self.old = old;
        self.via = Via::Update;
        self
    }
}

/// The functions of one kind's module, so one runner serves all four tables.
pub(crate) struct Kind<T> {
    pub base: fn() -> Value,
    pub defaults: fn(&mut T),
    pub create: fn(&T) -> Verdict,
    pub update: fn(&T, &T) -> Verdict,
    pub cross: fn(&T, &str, &dyn Inventory) -> Verdict,
    /// The kind's ids, from the catalogue (`catalog::coverage::kind`).
    pub rules: fn() -> Vec<&'static str>,
}

/// `base` with `spec_patch` merged into its spec (and the name replaced), decoded and
/// defaulted as the engine does.
pub(crate) fn build<T: DeserializeOwned>(
    kind: &Kind<T>,
    spec_patch: &Value,
    name: Option<&str>,
) -> T {
    let mut object = (kind.base)();
    json_patch::merge(&mut object["spec"], spec_patch);
    if let Some(name) = name {
        object["metadata"]["name"] = json!(name);
    }
    let mut typed: T = match serde_json::from_value(object.clone()) {
        Ok(t) => t,
        Err(e) => panic!("case object does not decode: {e}: {object}"),
    };
    (kind.defaults)(&mut typed);
    typed
}

fn sorted(mut v: Vec<&'static str>) -> Vec<&'static str> {
    v.sort_unstable();
    v
}

/// Runs every case and checks the rule table covers each rule id of the kind with a case
/// where it fires and a near miss where it does not.
pub(crate) fn run<T: DeserializeOwned>(kind: &Kind<T>, cases: &[Case]) {
    let inv = inventory();
    let rules = (kind.rules)();
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let new = build(kind, &case.patch, case.name);
        let verdict = match case.via {
            Via::Create => (kind.create)(&new),
            Via::Update => (kind.update)(&build(kind, &case.old, case.name), &new),
            Via::Cross => (kind.cross)(&new, NAMESPACE, &inv),
            Via::CrossBlind => (kind.cross)(&new, NAMESPACE, &NoInventory),
        };
        let mut warnings = verdict.warning_rules();
        if matches!(case.via, Via::Create | Via::Update) {
            // Every object of these kinds carries the not-implemented warning first.
            if warnings.first() == Some(&"field-not-implemented") {
                warnings.remove(0);
            } else {
                failures.push(format!(
                    "case {i} ({} hit={}): no field-not-implemented warning first",
                    case.rule, case.hit
                ));
            }
        }
        let (errors, warnings) = (sorted(verdict.error_rules()), sorted(warnings));
        if errors != sorted(case.errors.clone()) || warnings != sorted(case.warnings.clone()) {
            failures.push(format!(
                "case {i} ({} hit={} via {:?}, patch {}): errors {errors:?} (want {:?}), warnings {warnings:?} (want {:?}); {:?}",
                case.rule, case.hit, case.via, case.patch, case.errors, case.warnings, verdict
            ));
        }
        let fired = errors.contains(&case.rule) || warnings.contains(&case.rule);
        if fired != case.hit {
            failures.push(format!(
                "case {i} ({}): hit={} but fired={fired}",
                case.rule, case.hit
            ));
        }
        for f in verdict.errors.iter().chain(&verdict.warnings) {
            if f.message.contains('\n') || f.message.is_empty() || f.field.is_empty() {
                failures.push(format!("case {i}: malformed finding {f:?}"));
            }
            if !rules.contains(&f.rule) {
                failures.push(format!(
                    "case {i}: rule {} is not in the catalogue for this kind",
                    f.rule
                ));
            }
        }
    }
    // `field-not-implemented` is on every object; the loop above checks it on each case.
    for rule in rules.iter().filter(|r| **r != "field-not-implemented") {
        if !cases.iter().any(|c| c.rule == *rule && c.hit) {
            failures.push(format!("rule {rule} has no case where it fires"));
        }
        if !cases.iter().any(|c| c.rule == *rule && !c.hit) {
            failures.push(format!("rule {rule} has no near miss"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Overwrites the leaves of `value` chosen by `edits` with values of the same JSON type
/// (or removes them), so most mutated objects still decode and reach the rules.
pub(crate) fn mutate(value: &mut Value, edits: &[(usize, u8, String, i64)]) {
    let mut leaves = Vec::new();
    collect_leaves(value, String::new(), &mut leaves);
    for (pick, how, text, number) in edits {
        if leaves.is_empty() {
            return;
        }
        let pointer = &leaves[pick % leaves.len()];
        let Some(slot) = value.pointer_mut(pointer) else {
            continue;
        };
        *slot = match (how % 4, &*slot) {
            (0, _) => Value::Null,
            (_, Value::String(_)) => json!(text),
            (_, Value::Number(_)) => json!(number % 100),
            (_, Value::Bool(b)) => json!(!b),
            (1, Value::Array(_)) => json!([text]),
            (_, other) => other.clone(),
        };
    }
}

fn collect_leaves(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_leaves(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                collect_leaves(v, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

/// Runs create, update and cross (with and without a view) on `object`, whatever it holds.
pub(crate) fn exercise<T: DeserializeOwned + Clone>(kind: &Kind<T>, object: Value) {
    let Ok(mut typed) = serde_json::from_value::<T>(object) else {
        return;
    };
    (kind.defaults)(&mut typed);
    let _ = (kind.create)(&typed);
    let _ = (kind.update)(&typed, &typed);
    let base = build(kind, &json!({}), None);
    let _ = (kind.update)(&base, &typed);
    let _ = (kind.update)(&typed, &base);
    for ns in [NAMESPACE, "elsewhere"] {
        let _ = (kind.cross)(&typed, ns, &inventory());
        let _ = (kind.cross)(&typed, ns, &NoInventory);
    }
}

/// Strings that have broken parsers before: empty, long, control characters, non-ASCII.
pub(crate) fn nasty_string() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        Just(String::new()),
        Just("system".to_string()),
        Just("txId:99999999999999999999".to_string()),
        Just("s3://".to_string()),
        Just("https://".to_string()),
        Just("2025-02-30T25:61:61+99:99".to_string()),
        Just("@every 1h".to_string()),
        Just("*/0 * * * *".to_string()),
        "[ -~]{0,80}",
        ".{0,40}",
        "[a-z0-9./:-]{0,300}",
    ]
}

/// An arbitrary JSON value (for specs that mostly do not decode).
pub(crate) fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        nasty_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,16}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `a` with `b` merged into it (RFC 7386).
pub(crate) fn with(mut a: Value, b: Value) -> Value {
    json_patch::merge(&mut a, &b);
    a
}

/// Edits for [`mutate`]: which leaf, how, and the string or number to put there.
pub(crate) fn edits() -> impl proptest::strategy::Strategy<Value = Vec<(usize, u8, String, i64)>> {
    proptest::collection::vec(
        (
            0usize..200,
            0u8..8,
            nasty_string(),
            proptest::prelude::any::<i64>(),
        ),
        0..12,
    )
}

/// The two property tests of a kind's rules: `$mutated` runs them ([`exercise`]) on the
/// object `$rich` with leaves overwritten by [`mutate`], `$arbitrary` on `$base` with an
/// arbitrary spec; neither may panic.
macro_rules! never_panic {
    ($kind:expr, $mutated:ident($rich:expr), $arbitrary:ident($base:expr) $(,)?) => {
        proptest::proptest! {
            #[test]
            fn $mutated(edits in $crate::validate::testkit::edits()) {
                let mut object = $rich;
                $crate::validate::testkit::mutate(&mut object, &edits);
                $crate::validate::testkit::exercise(&$kind, object);
            }

            #[test]
            fn $arbitrary(spec in $crate::validate::testkit::any_json()) {
                let mut object = $base;
                object["spec"] = spec;
                $crate::validate::testkit::exercise(&$kind, object);
            }
        }
    };
}
pub(crate) use never_panic;
