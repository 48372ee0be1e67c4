//! The harness of every rule table of the crate: the rows of a table (one [`hit`] or [`miss`]
//! line each) and their runners ([`run`] for one kind, [`run_instances`] for the cluster and
//! standalone tables), the objects they start from, an inventory to cross-check against, and the
//! property tests that no input makes the rules panic.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::inventory::{InstanceKind, InstanceSummary, Inventory, MapInventory, NoInventory};
use crate::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone};
use crate::validate::{cluster, standalone};
use crate::verdict::Verdict;

pub(crate) const NAMESPACE: &str = "db";

/// A cluster `graph` (3 servers, 2025.10), a cluster `old` (2 servers, PRIMARY-only, 5.26),
/// a cluster `duo` (2 servers, SECONDARY-only, 2025.01), a cluster `big` (6 servers, 2025.10),
/// a standalone `solo` (5.26) and a standalone `bare` (2025.10) whose storage size is not a
/// positive quantity and whose default database is `movies`.
pub(crate) fn inventory() -> MapInventory {
    use InstanceKind::{Cluster, Standalone};
    let mut inv = MapInventory::default();
    for (name, kind, servers, constraint, tag) in [
        ("graph", Cluster, 3, "NONE", "2025.10.0-enterprise"),
        ("old", Cluster, 2, "PRIMARY", "5.26.0-enterprise"),
        ("duo", Cluster, 2, "SECONDARY", "2025.01.0-enterprise"),
        ("big", Cluster, 6, "NONE", "2025.10.0-enterprise"),
        ("solo", Standalone, 1, "NONE", "5.26.0-enterprise"),
        ("bare", Standalone, 1, "NONE", "2025.10.0-enterprise"),
    ] {
        let instance = InstanceSummary {
            kind,
            servers,
            server_mode_constraint: Some(constraint.to_string()),
            image_tag: Some(tag.to_string()),
            property_sharding: false,
            persistent_storage: name != "bare",
            default_database: if name == "bare" { "movies" } else { "neo4j" }.to_string(),
        };
        inv.insert(NAMESPACE, name, instance);
    }
    // Plugins already on the targets, for the plugin merge checks.
    for (name, target, spec) in [
        (
            "aaa-settings",
            "graph",
            json!({"name": "my-settings", "version": "1.0.0",
                "config": {"custom.mode": "fast", "apoc.import.file.enabled": "true"}}),
        ),
        (
            "apoc-old",
            "big",
            json!({"name": "apoc", "version": "5.26.0"}),
        ),
    ] {
        let mut spec: crate::types::Neo4jPluginSpec =
            serde_json::from_value(spec).unwrap_or_else(|e| panic!("{e}"));
        spec.cluster_ref = Some(target.to_string());
        crate::defaults::plugin(&mut spec);
        inv.insert_plugin(
            NAMESPACE,
            crate::inventory::PluginSummary {
                name: name.to_string(),
                spec,
            },
        );
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

/// Which instance kind a row of a cluster or standalone table runs against. Rows of the other
/// kinds' tables leave it at `Both`, which [`run`] does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum On {
    Both,
    Cluster,
    Standalone,
}

/// One row of a rule table: the spec merged (RFC 7386) into the base object's spec (and `meta`
/// into its metadata), the rule it exercises, whether it should fire, and the exact rule ids
/// expected (as multisets).
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub rule: &'static str,
    pub hit: bool,
    pub patch: Value,
    pub meta: Value,
    pub old: Value,
    pub on: On,
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
        meta: json!({}),
        old: json!({}),
        on: On::Both,
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
        meta: json!({}),
        old: json!({}),
        on: On::Both,
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
    pub(crate) fn named(mut self, name: &str) -> Self {
        self.meta["name"] = json!(name);
        self
    }
    pub(crate) fn on(mut self, on: On) -> Self {
        self.on = on;
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

/// The functions of one kind's module, so one runner serves every table.
pub(crate) struct Kind<T> {
    pub base: fn() -> Value,
    /// The kind has no controller yet: every create and update verdict starts with
    /// `field-not-implemented` on `spec`.
    pub not_run_yet: bool,
    pub defaults: fn(&mut T),
    pub create: fn(&T) -> Verdict,
    pub update: fn(&T, &T) -> Verdict,
    pub cross: fn(&T, &str, &dyn Inventory) -> Verdict,
    /// Every rule id the kind's findings may carry, from the catalogue
    /// (`catalog::coverage::kind`). Empty for the two instance kinds, whose ids are spread over
    /// several tables (each passes its own list to [`run_instances`]).
    pub rules: fn() -> Vec<&'static str>,
}

/// `base` with `spec_patch` merged into its spec (and the name replaced), decoded and
/// defaulted as the engine does.
pub(crate) fn build<T: DeserializeOwned>(
    kind: &Kind<T>,
    spec_patch: &Value,
    name: Option<&str>,
) -> T {
    let meta = name.map_or_else(|| json!({}), |name| json!({ "name": name }));
    decode(kind, document(kind, spec_patch, &meta))
}

/// `base` with `spec_patch` merged into its spec and `meta` into its metadata.
fn document<T>(kind: &Kind<T>, spec_patch: &Value, meta: &Value) -> Value {
    let mut object = (kind.base)();
    json_patch::merge(&mut object["spec"], spec_patch);
    json_patch::merge(&mut object["metadata"], meta);
    object
}

fn decode<T: DeserializeOwned>(kind: &Kind<T>, object: Value) -> T {
    let mut typed: T = match serde_json::from_value(object.clone()) {
        Ok(t) => t,
        Err(e) => panic!("case object does not decode: {e}: {object}"),
    };
    (kind.defaults)(&mut typed);
    typed
}

pub(crate) fn sorted(mut v: Vec<&'static str>) -> Vec<&'static str> {
    v.sort_unstable();
    v
}

/// The minimal valid cluster before defaults.
pub(crate) fn cluster_json() -> Value {
    json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": "graph", "namespace": "default"},
        "spec": {
            "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": 3},
            "storage": {"size": "10Gi"},
            "acceptLicenseAgreement": "yes"
        }
    })
}

/// The minimal valid standalone before defaults.
pub(crate) fn standalone_json() -> Value {
    json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseStandalone",
        "metadata": {"name": "graph", "namespace": "default"},
        "spec": {
            "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "storage": {"size": "10Gi"},
            "acceptLicenseAgreement": "yes"
        }
    })
}

pub(crate) const CLUSTER: Kind<Neo4jEnterpriseCluster> = Kind {
    base: cluster_json,
    not_run_yet: false,
    defaults: |c| crate::defaults::cluster(&mut c.spec),
    create: cluster::create,
    update: cluster::update,
    cross: cluster::cross,
    rules: Vec::new,
};

pub(crate) const STANDALONE: Kind<Neo4jEnterpriseStandalone> = Kind {
    base: standalone_json,
    not_run_yet: false,
    defaults: |s| crate::defaults::standalone(&mut s.spec),
    create: standalone::create,
    update: standalone::update,
    cross: standalone::cross,
    rules: Vec::new,
};

/// The minimal valid cluster with `spec_patch` merged into its spec, defaulted.
pub(crate) fn cluster_with(spec_patch: Value) -> Neo4jEnterpriseCluster {
    build(&CLUSTER, &spec_patch, None)
}

/// The minimal valid standalone with `spec_patch` merged into its spec, defaulted.
pub(crate) fn standalone_with(spec_patch: Value) -> Neo4jEnterpriseStandalone {
    build(&STANDALONE, &spec_patch, None)
}

/// What [`judge`] checks beyond the expected ids.
struct Checks<'r> {
    /// Create and update verdicts start with `field-not-implemented` (kinds not run yet).
    not_run_yet: bool,
    /// Every finding's rule id is one of these.
    listed: Option<&'r [&'static str]>,
}

/// Runs one case against `kind` and records what differs from the row.
fn judge<T: DeserializeOwned>(
    kind: &Kind<T>,
    label: &str,
    i: usize,
    case: &Case,
    checks: &Checks,
    failures: &mut Vec<String>,
) {
    let new = decode(kind, document(kind, &case.patch, &case.meta));
    let verdict = match case.via {
        Via::Create => (kind.create)(&new),
        Via::Update => (kind.update)(&decode(kind, document(kind, &case.old, &case.meta)), &new),
        Via::Cross => (kind.cross)(&new, NAMESPACE, &inventory()),
        Via::CrossBlind => (kind.cross)(&new, NAMESPACE, &NoInventory),
    };
    let mut warnings = verdict.warning_rules();
    if checks.not_run_yet && matches!(case.via, Via::Create | Via::Update) {
        // Every object of these kinds carries the not-implemented warning first.
        if warnings.first() == Some(&"field-not-implemented") {
            warnings.remove(0);
        } else {
            failures.push(format!(
                "case {i}{label} ({} hit={}): no field-not-implemented warning first",
                case.rule, case.hit
            ));
        }
    } else if checks.listed.is_some() && !case.warnings.contains(&"field-not-implemented") {
        // Kinds that run: a notice on a not-implemented field is checked by the kind's own
        // tests, not repeated in every row whose object happens to set that field.
        warnings.retain(|w| *w != "field-not-implemented");
    }
    let (errors, warnings) = (sorted(verdict.error_rules()), sorted(warnings));
    if errors != sorted(case.errors.clone()) || warnings != sorted(case.warnings.clone()) {
        failures.push(format!(
            "case {i}{label} ({} hit={} via {:?}, patch {}, meta {}): errors {errors:?} (want {:?}), warnings {warnings:?} (want {:?}); {:?}",
            case.rule, case.hit, case.via, case.patch, case.meta, case.errors, case.warnings, verdict
        ));
    }
    let fired = errors.contains(&case.rule) || warnings.contains(&case.rule);
    if fired != case.hit {
        failures.push(format!(
            "case {i}{label} ({}): hit={} but fired={fired}",
            case.rule, case.hit
        ));
    }
    for f in verdict.errors.iter().chain(&verdict.warnings) {
        if f.message.contains('\n') || f.message.is_empty() || f.field.is_empty() {
            failures.push(format!("case {i}{label}: malformed finding {f:?}"));
        }
        if checks.listed.is_some_and(|rules| !rules.contains(&f.rule)) {
            failures.push(format!(
                "case {i}{label}: rule {} is not in the catalogue for this kind",
                f.rule
            ));
        }
    }
}

/// Records each of `rules` that has no case where it fires or no near miss.
fn cover<'r>(
    rules: impl IntoIterator<Item = &'r &'r str>,
    cases: &[Case],
    failures: &mut Vec<String>,
) {
    for rule in rules {
        if !cases.iter().any(|c| c.rule == *rule && c.hit) {
            failures.push(format!("rule {rule} has no case where it fires"));
        }
        if !cases.iter().any(|c| c.rule == *rule && !c.hit) {
            failures.push(format!("rule {rule} has no near miss"));
        }
    }
}

fn report(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs every case and checks the rule table covers each rule id of the kind with a case
/// where it fires and a near miss where it does not.
pub(crate) fn run<T: DeserializeOwned>(kind: &Kind<T>, cases: &[Case]) {
    let listed = (kind.rules)();
    let checks = Checks {
        not_run_yet: kind.not_run_yet,
        listed: Some(&listed),
    };
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        judge(kind, "", i, case, &checks, &mut failures);
    }
    // `field-not-implemented` is on every object; `judge` checks it on each case.
    let rules = listed.iter().filter(|r| **r != "field-not-implemented");
    cover(rules, cases, &mut failures);
    report(&failures);
}

/// Runs every case of a cluster or standalone table against the kind(s) its [`On`] names, and
/// checks the table covers each of `rules` with a case where it fires and a near miss.
pub(crate) fn run_instances(cases: &[Case], rules: &[&str]) {
    let checks = Checks {
        not_run_yet: false,
        listed: None,
    };
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if case.on != On::Standalone {
            judge(&CLUSTER, " [cluster]", i, case, &checks, &mut failures);
        }
        if case.on != On::Cluster {
            judge(
                &STANDALONE,
                " [standalone]",
                i,
                case,
                &checks,
                &mut failures,
            );
        }
    }
    cover(rules, cases, &mut failures);
    report(&failures);
}

/// Rows with their target set to `on`: a table of one instance kind.
pub(crate) fn all_on(on: On, cases: Vec<Case>) -> Vec<Case> {
    cases.into_iter().map(|c| c.on(on)).collect()
}

/// Asserts a verdict holds exactly the expected ids (as multisets), each finding well-formed.
pub(crate) fn assert_verdict(
    what: &str,
    v: &Verdict,
    errors: &[&'static str],
    warnings: &[&'static str],
) {
    assert_eq!(
        sorted(v.error_rules()),
        sorted(errors.to_vec()),
        "errors of {what}: {:#?}",
        v.errors
    );
    assert_eq!(
        sorted(v.warning_rules()),
        sorted(warnings.to_vec()),
        "warnings of {what}: {:#?}",
        v.warnings
    );
    for f in v.errors.iter().chain(&v.warnings) {
        assert!(
            !f.message.contains('\n') && !f.field.is_empty(),
            "{what}: {f:?}"
        );
    }
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

/// The instance kinds' never-panic input: one random edit per visited key: drop it, swap in a value of another type, or keep
/// the type with a hostile value.
pub(crate) fn scramble(v: &mut Value, edits: &mut impl Iterator<Item = (u8, String, i64)>) {
    match v {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let Some((op, s, n)) = edits.next() else {
                    return;
                };
                // Rare drops and type swaps, so most documents still decode.
                match op {
                    0..=5 => {
                        map.remove(&k);
                    }
                    255 => {
                        map.insert(k, Value::String(s));
                    }
                    254 => {
                        map.insert(k, json!(n));
                    }
                    _ => {
                        if let Some(child) = map.get_mut(&k) {
                            scramble(child, edits);
                        }
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| scramble(i, edits)),
        Value::String(s) => {
            if let Some((op, new, _)) = edits.next()
                && op % 2 == 0
            {
                *s = new;
            }
        }
        Value::Number(_) => {
            if let Some((op, _, n)) = edits.next()
                && op % 2 == 0
            {
                *v = json!(n);
            }
        }
        Value::Bool(b) => *b = !*b,
        Value::Null => {}
    }
}

fn hostile_string() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        Just(String::new()),
        "\\PC{0,70}",
        ".{0,20}",
        "[a-z0-9./-]{0,80}",
        Just("-1".to_string()),
        Just("-1Gi".to_string()),
        Just("999999Ti".to_string()),
        Just("oidc-".to_string()),
        Just("NEO4J_AUTH".to_string()),
        Just("/data".to_string()),
    ]
}

/// Edits for [`scramble`]: an operation, a string and a number per visited key.
pub(crate) fn scramble_edits() -> impl proptest::strategy::Strategy<Value = Vec<(u8, String, i64)>>
{
    use proptest::prelude::*;
    let number = prop_oneof![
        4 => -5i64..200,
        2 => any::<i32>().prop_map(i64::from),
        1 => Just(i64::from(i32::MAX)),
        1 => Just(i64::from(i32::MIN)),
        1 => any::<i64>(),
    ];
    proptest::collection::vec((any::<u8>(), hostile_string(), number), 0..300)
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
