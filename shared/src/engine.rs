//! The admission engine: what the API server runs through the webhook, as pure functions.
//! Mutation (defaults → RFC 6902 patch) and validation (errors and warnings) for every kind,
//! shared line for line by `neo4j-webhook serve`, `neo4j-webhook check` and the controller.
//! The engine is the caller: it decodes, applies a kind's defaults, runs its rules through
//! [`Policy`] (implemented next to the rules in `validate/<kind>.rs`) and turns the verdict
//! into a decision. Nothing below it calls back up here.

use kube::core::object::HasSpec;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::inventory::{Inventory, namespace_of};
use crate::policy::Policy;
use crate::types::{
    self, Kind, Neo4jBackup, Neo4jDatabase, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone,
    Neo4jPlugin, Neo4jRestore, Operation,
};
use crate::verdict::{Finding, Verdict};

/// An object that cannot be decoded as its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DecodeError {
    /// Field path of the offending value, e.g. `spec.topology.servers`.
    pub path: String,
    pub message: String,
}

fn decode<T: DeserializeOwned>(object: &Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize::<_, T>(object).map_err(|e| {
        let path = e.path().to_string();
        DecodeError {
            path: if path == "." { "(object)".into() } else { path },
            message: e.into_inner().to_string(),
        }
    })
}

/// The mutating webhook's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    /// RFC 6902 operations turning the request object into the defaulted one; empty when the
    /// object needs no default.
    pub patch: json_patch::Patch,
    /// The object after defaults (what the API server stores).
    pub defaulted: Value,
}

/// Computes the defaults of `object` as a JSON patch. Only `spec` is touched, and nothing the
/// user wrote is removed (fields this version does not know are carried over untouched).
pub fn mutate(kind: Kind, object: &Value) -> Result<Mutation, DecodeError> {
    match kind {
        Kind::Cluster => mutate_as::<Neo4jEnterpriseCluster>(object),
        Kind::Standalone => mutate_as::<Neo4jEnterpriseStandalone>(object),
        Kind::Backup => mutate_as::<Neo4jBackup>(object),
        Kind::Restore => mutate_as::<Neo4jRestore>(object),
        Kind::Database => mutate_as::<Neo4jDatabase>(object),
        Kind::Plugin => mutate_as::<Neo4jPlugin>(object),
    }
}

fn mutate_as<P: Policy + HasSpec>(object: &Value) -> Result<Mutation, DecodeError>
where
    P::Spec: Serialize,
{
    let typed: P = decode(object)?;
    let spec = defaulted_spec(typed)?;
    let mut defaulted = object.clone();
    if let (Some(target), Some(spec)) = (defaulted.as_object_mut(), spec) {
        match target.get_mut("spec") {
            Some(existing) => merge_preserving(existing, &spec),
            None => {
                target.insert("spec".into(), spec);
            }
        }
    }
    let patch = json_patch::diff(object, &defaulted);
    Ok(Mutation { patch, defaulted })
}

/// The `spec` of `typed` after its defaults, as JSON (what the object's `spec` key serializes
/// to; only the spec is serialized).
fn defaulted_spec<P: Policy + HasSpec>(mut typed: P) -> Result<Option<Value>, DecodeError>
where
    P::Spec: Serialize,
{
    typed.apply_defaults();
    serde_json::to_value(typed.spec())
        .map(Some)
        .map_err(|e| DecodeError {
            path: "(object)".into(),
            message: e.to_string(),
        })
}

/// [`mutate`] for an object its caller has decoded already (the admission server decodes
/// straight from the request body): `typed` is the object, `spec` its `spec` exactly as sent
/// (`None` when it has none). The patch is the one [`mutate`] computes for the whole object:
/// defaults only ever touch `spec`, and the diff of two objects that differ only under `spec`
/// is the diff of their specs with paths under `/spec`.
pub fn mutate_decoded<P: Policy + HasSpec>(
    typed: P,
    spec: Option<&Value>,
) -> Result<json_patch::Patch, DecodeError>
where
    P::Spec: Serialize,
{
    let Some(defaults) = defaulted_spec(typed)? else {
        return Ok(json_patch::Patch(Vec::new()));
    };
    let Some(original) = spec else {
        // No spec at all: the whole defaulted spec is added.
        return Ok(json_patch::Patch(vec![json_patch::PatchOperation::Add(
            json_patch::AddOperation {
                path: json_patch::jsonptr::PointerBuf::from_tokens(["spec"]),
                value: defaults,
            },
        )]));
    };
    let mut patch = Vec::new();
    defaults_patch(
        original,
        &defaults,
        &mut vec![Step::Key("spec")],
        &mut patch,
    );
    Ok(json_patch::Patch(patch))
}

/// The operations `json_patch::diff(original, merged)` gives, where `merged` is `original` with
/// `defaults` overlaid by [`merge_preserving`], without building `merged` or walking the parts
/// of `original` that `defaults` leaves alone (they are unchanged, so they add nothing), with
/// paths under `pointer`. Where the overlay merges (objects, lists of one length) this walks
/// both; where it replaces a value, the two are diffed as a whole.
fn defaults_patch<'v>(
    original: &'v Value,
    defaults: &'v Value,
    path: &mut Vec<Step<'v>>,
    patch: &mut Vec<json_patch::PatchOperation>,
) {
    match (original, defaults) {
        (Value::Object(o), Value::Object(d)) => {
            // Keys only in `original` stay as they are; the merged object's other keys are
            // `defaults`' keys, in the same (sorted) order.
            for (key, value) in d {
                path.push(Step::Key(key));
                match o.get(key) {
                    Some(existing) => defaults_patch(existing, value, path, patch),
                    None => patch.push(json_patch::PatchOperation::Add(json_patch::AddOperation {
                        path: pointer(path),
                        value: value.clone(),
                    })),
                }
                path.pop();
            }
        }
        (Value::Array(o), Value::Array(d)) if o.len() == d.len() => {
            for (i, (existing, value)) in o.iter().zip(d).enumerate() {
                path.push(Step::Index(i));
                defaults_patch(existing, value, path, patch);
                path.pop();
            }
        }
        // The overlay replaces `original` with `defaults` here; most often they are the same
        // value, which diffs to nothing.
        _ if original == defaults => {}
        _ => {
            let at = pointer(path);
            for mut op in json_patch::diff(original, defaults).0 {
                let path = match &mut op {
                    json_patch::PatchOperation::Add(o) => &mut o.path,
                    json_patch::PatchOperation::Remove(o) => &mut o.path,
                    json_patch::PatchOperation::Replace(o) => &mut o.path,
                    json_patch::PatchOperation::Move(o) => &mut o.path,
                    json_patch::PatchOperation::Copy(o) => &mut o.path,
                    json_patch::PatchOperation::Test(o) => &mut o.path,
                };
                *path = at.concat(path);
                patch.push(op);
            }
        }
    }
}

/// One step of the path [`defaults_patch`] is at: kept borrowed while it walks, and written
/// out as a JSON pointer (escaping `~` and `/`) only for the operations it emits.
#[derive(Clone, Copy)]
enum Step<'v> {
    Key(&'v str),
    Index(usize),
}

fn pointer(path: &[Step<'_>]) -> json_patch::jsonptr::PointerBuf {
    json_patch::jsonptr::PointerBuf::from_tokens(path.iter().map(|step| match *step {
        Step::Key(key) => json_patch::jsonptr::Token::new(key),
        Step::Index(i) => json_patch::jsonptr::Token::from(i),
    }))
}

/// Overlays `typed` onto `target`: objects merge key by key (keys only in `target` stay), lists
/// of the same length merge item by item, anything else is replaced.
fn merge_preserving(target: &mut Value, typed: &Value) {
    match (target, typed) {
        (Value::Object(t), Value::Object(s)) => {
            for (k, v) in s {
                match t.get_mut(k) {
                    Some(existing) => merge_preserving(existing, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(s)) if t.len() == s.len() => {
            for (a, b) in t.iter_mut().zip(s) {
                merge_preserving(a, b);
            }
        }
        (t, s) => *t = s.clone(),
    }
}

/// HTTP-style status of a decision, as the validating webhook reports it.
pub const CODE_ALLOWED: u16 = 200;
/// The API server refuses the request before admission: a field the schema does not have
/// (strict field validation). Only `check` reports it; the webhook never sees such an object.
pub const CODE_BAD_REQUEST: u16 = 400;
/// A policy violation.
pub const CODE_FORBIDDEN: u16 = 403;
/// The object cannot be decoded as its kind (the webhook), or breaks the CRD schema (the API
/// server's refusal that `check` predicts).
pub const CODE_UNPROCESSABLE: u16 = 422;

/// The validating webhook's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdmissionDecision {
    pub allowed: bool,
    pub code: u16,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

impl AdmissionDecision {
    fn from_verdict(v: Verdict) -> Self {
        let allowed = v.allowed();
        AdmissionDecision {
            allowed,
            code: if allowed {
                CODE_ALLOWED
            } else {
                CODE_FORBIDDEN
            },
            errors: v.errors,
            warnings: v.warnings,
        }
    }
    fn undecodable(e: DecodeError) -> Self {
        AdmissionDecision {
            allowed: false,
            code: CODE_UNPROCESSABLE,
            errors: vec![Finding::new(
                "object-decode",
                e.path.clone(),
                format!("cannot be decoded: {}", e.message),
            )],
            warnings: vec![],
        }
    }
    /// Every error as `<rule>: <field>: <message>`, one per line, for `status.message`.
    pub fn message(&self) -> String {
        self.errors
            .iter()
            .map(Finding::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// What the envelope rules and the cross-object checks read of an object besides its kind's
/// fields: `apiVersion` and the name, generated name and namespace in `metadata` (each "" when
/// absent or not a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub api_version: &'a str,
    pub name: &'a str,
    pub generate_name: &'a str,
    pub namespace: &'a str,
}

impl<'a> Envelope<'a> {
    pub fn of(object: &'a Value) -> Self {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        Envelope {
            api_version: object
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            name: text("/metadata/name"),
            generate_name: text("/metadata/generateName"),
            namespace: text("/metadata/namespace"),
        }
    }

    /// The namespace the object lives in (objects without one are in `default`), as
    /// [`namespace_of`] reads it.
    fn namespace(&self) -> String {
        if self.namespace.is_empty() {
            "default".to_string()
        } else {
            self.namespace.to_string()
        }
    }
}

/// Rules every object of our group must pass before its kind's rules: the served version and
/// a name (the API server refuses both too; the offline checker must say so).
fn envelope(object: &Envelope<'_>) -> Verdict {
    let mut v = Verdict::default();
    if object.api_version != types::API_VERSION {
        v.error(
            "api-version-unsupported",
            "apiVersion",
            format!(
                "{:?} is not served; use {}",
                object.api_version,
                types::API_VERSION
            ),
        );
    }
    if object.name.is_empty() && object.generate_name.is_empty() {
        v.error(
            "metadata-name-required",
            "metadata.name",
            "the object has no name; set metadata.name",
        );
    }
    v
}

/// Validates `object` for `operation` (`old` is the stored object on UPDATE). Defaults are
/// applied in memory first, so the verdict is the same whether or not the mutating webhook ran.
pub fn validate(
    kind: Kind,
    operation: Operation,
    old: Option<&Value>,
    object: &Value,
    inventory: &dyn Inventory,
) -> AdmissionDecision {
    match operation {
        Operation::Delete | Operation::Connect => {
            return AdmissionDecision::from_verdict(Verdict::default());
        }
        Operation::Create | Operation::Update => {}
    }
    let envelope_verdict = envelope(&Envelope::of(object));
    if !envelope_verdict.allowed() {
        return AdmissionDecision::from_verdict(envelope_verdict);
    }
    let old = if operation == Operation::Update {
        old
    } else {
        None
    };
    // The webhook configurations' matchConditions keep an UPDATE that leaves `spec` as it was
    // (labels, annotations, finalizers) away from the webhooks; judged here anyway, it passes.
    if old.is_some_and(|old| !spec_changed(old, object)) {
        return AdmissionDecision::from_verdict(Verdict::default());
    }
    match kind {
        Kind::Cluster => validate_as::<Neo4jEnterpriseCluster>(old, object, inventory),
        Kind::Standalone => validate_as::<Neo4jEnterpriseStandalone>(old, object, inventory),
        Kind::Backup => validate_as::<Neo4jBackup>(old, object, inventory),
        Kind::Restore => validate_as::<Neo4jRestore>(old, object, inventory),
        Kind::Database => validate_as::<Neo4jDatabase>(old, object, inventory),
        Kind::Plugin => validate_as::<Neo4jPlugin>(old, object, inventory),
    }
}

fn validate_as<P: Policy>(
    old: Option<&Value>,
    object: &Value,
    inventory: &dyn Inventory,
) -> AdmissionDecision {
    let new: P = match decode(object) {
        Ok(n) => n,
        Err(e) => return AdmissionDecision::undecodable(e),
    };
    // An old object that no longer decodes cannot be compared; the new one is judged alone.
    let old = old.and_then(|o| decode::<P>(o).ok());
    judge(old, new, &namespace_of(object), inventory)
}

/// [`validate`] of an object its caller has decoded already (the admission server decodes
/// straight from the request body): `api_version` is the object's `apiVersion` as sent ("" when
/// it is not a string). `old` is the stored object of an UPDATE, given only when the caller has
/// established that the update changes `spec` (an UPDATE that leaves it as it was is never
/// judged, see [`validate`]); `None` for a CREATE.
pub fn validate_decoded<P: Policy + kube::Resource>(
    api_version: &str,
    old: Option<P>,
    new: P,
    inventory: &dyn Inventory,
) -> AdmissionDecision {
    let meta = new.meta();
    let envelope_of_new = Envelope {
        api_version,
        name: meta.name.as_deref().unwrap_or_default(),
        generate_name: meta.generate_name.as_deref().unwrap_or_default(),
        namespace: meta.namespace.as_deref().unwrap_or_default(),
    };
    let envelope_verdict = envelope(&envelope_of_new);
    if !envelope_verdict.allowed() {
        return AdmissionDecision::from_verdict(envelope_verdict);
    }
    let namespace = envelope_of_new.namespace();
    judge(old, new, &namespace, inventory)
}

/// Defaults, then the kind's rules (update rules when there is an old object), then the
/// cross-object checks. On UPDATE, errors are ratcheted against the stored object; the stored
/// object is judged only when there is an error to ratchet (with none, nothing would change).
fn judge<P: Policy>(
    old: Option<P>,
    mut new: P,
    namespace: &str,
    inventory: &dyn Inventory,
) -> AdmissionDecision {
    new.apply_defaults();
    let old = match old {
        Some(mut old) => {
            old.apply_defaults();
            Some(old)
        }
        None => None,
    };
    let mut verdict = match &old {
        Some(old) => P::update(old, &new),
        None => new.create(),
    };
    verdict.extend(new.cross(namespace, inventory));
    if let Some(old) = old.as_ref().filter(|_| !verdict.errors.is_empty()) {
        let mut before = old.create();
        before.extend(old.cross(namespace, inventory));
        verdict = ratchet(verdict, &before, &as_json(old), &as_json(&new));
    }
    AdmissionDecision::from_verdict(verdict)
}

/// What the API server answers to a `kubectl apply` of `object` with our CRDs installed and our
/// webhooks registered: an UPDATE of `old` when given, a CREATE otherwise. This is what
/// `neo4j-webhook check` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub decision: AdmissionDecision,
    /// The mutating webhook's defaults (empty when it is not called, or has none to add).
    pub patch: json_patch::Patch,
}

/// Runs the API server's steps in its order: the envelope (kubectl's own refusals), strict field
/// validation, the mutating webhook (when the matchConditions call it), the schema's defaults and
/// validation (ratcheted on UPDATE), and the validating webhook (again when called).
pub fn review(
    kind: Kind,
    old: Option<&Value>,
    object: &Value,
    inventory: &dyn Inventory,
) -> Review {
    let refused = |decision: AdmissionDecision| Review {
        decision,
        patch: json_patch::Patch(Vec::new()),
    };
    let envelope = envelope(&Envelope::of(object));
    if !envelope.allowed() {
        return refused(AdmissionDecision::from_verdict(envelope));
    }
    let schema = crate::schema::of(kind);
    let unknown = schema.unknown_fields(object);
    if !unknown.is_empty() {
        return refused(AdmissionDecision {
            allowed: false,
            code: CODE_BAD_REQUEST,
            errors: unknown,
            warnings: Vec::new(),
        });
    }
    let called = old.is_none_or(|old| spec_changed(old, object));
    // The mutating webhook admits an object it cannot decode unchanged (the schema refuses it).
    let mutated = |o: &Value| mutate(kind, o).ok();
    let (patch, defaulted) = match called.then(|| mutated(object)).flatten() {
        Some(m) => (m.patch, m.defaulted),
        None => (json_patch::Patch(Vec::new()), object.clone()),
    };
    let stored = |o: &Value| {
        let mut o = mutated(o).map_or_else(|| o.clone(), |m| m.defaulted);
        schema.default(&mut o);
        o
    };
    let mut candidate = defaulted.clone();
    schema.default(&mut candidate);
    let old_stored = old.map(stored);
    let errors = schema.validate(&candidate, old_stored.as_ref());
    if !errors.is_empty() {
        return Review {
            decision: AdmissionDecision {
                allowed: false,
                code: CODE_UNPROCESSABLE,
                errors,
                warnings: Vec::new(),
            },
            patch,
        };
    }
    let decision = if called {
        let operation = if old.is_some() {
            Operation::Update
        } else {
            Operation::Create
        };
        validate(kind, operation, old_stored.as_ref(), &candidate, inventory)
    } else {
        AdmissionDecision::from_verdict(Verdict::default())
    };
    Review { decision, patch }
}

fn as_json<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or_default()
}

/// Whether an UPDATE changes `spec` (what the webhook configurations' matchConditions ask before
/// calling the webhooks: `object.spec != oldObject.spec`, or either has none).
pub fn spec_changed(old: &Value, new: &Value) -> bool {
    match (old.get("spec"), new.get("spec")) {
        (Some(a), Some(b)) => a != b,
        _ => true,
    }
}

/// Ratcheting of an UPDATE: an error the stored object already had — same rule, same field, and
/// that field's value unchanged (or, where the path names no single value, the same message) —
/// is not the update's doing, so it becomes a warning saying the object was already invalid.
/// Errors the update introduces stay errors.
pub fn ratchet(mut verdict: Verdict, before: &Verdict, old: &Value, new: &Value) -> Verdict {
    let errors = std::mem::take(&mut verdict.errors);
    for e in errors {
        let already = before.errors.iter().any(|b| {
            b.rule == e.rule
                && b.field == e.field
                && match (value_at(old, &e.field), value_at(new, &e.field)) {
                    (None, None) => b.message == e.message,
                    (a, b) => a == b,
                }
        });
        if already {
            verdict.warnings.push(Finding::new(
                e.rule,
                e.field.clone(),
                format!(
                    "already invalid before this update, which does not change it, so it is not refused; fix it when you can: {}",
                    e.message
                ),
            ));
        } else {
            verdict.errors.push(e);
        }
    }
    verdict
}

/// The value at a finding's field path (`spec.config[db.format]`, `spec.env[0].name`).
pub fn value_at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = object;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let key = &after[..end];
            current = match current {
                Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                Value::Object(map) => map.get(key)?,
                _ => return None,
            };
            rest = &after[end + 1..];
        } else {
            let rest_trimmed = rest.strip_prefix('.').unwrap_or(rest);
            let end = rest_trimmed.find(['.', '[']).unwrap_or(rest_trimmed.len());
            current = current.get(&rest_trimmed[..end])?;
            rest = &rest_trimmed[end..];
        }
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_keeps_unknown_keys_and_adds_defaults() {
        let mut target = json!({"a": {"x": 1, "unknown": true}, "list": [{"k": 1, "extra": 2}]});
        merge_preserving(
            &mut target,
            &json!({"a": {"x": 1, "d": "default"}, "list": [{"k": 1, "z": 0}]}),
        );
        assert_eq!(
            target,
            json!({"a": {"x": 1, "unknown": true, "d": "default"}, "list": [{"k": 1, "extra": 2, "z": 0}]})
        );
    }

    /// The patch of the defaults, as the overlay-then-diff it replaces computes it.
    fn overlay_then_diff(original: &Value, defaults: &Value) -> json_patch::Patch {
        let mut merged = original.clone();
        merge_preserving(&mut merged, defaults);
        let wrap = |v: &Value| json!({ "spec": v });
        json_patch::diff(&wrap(original), &wrap(&merged))
    }

    fn defaults_patch_of(original: &Value, defaults: &Value) -> json_patch::Patch {
        let mut patch = Vec::new();
        defaults_patch(original, defaults, &mut vec![Step::Key("spec")], &mut patch);
        json_patch::Patch(patch)
    }

    #[test]
    fn defaults_patch_is_the_diff_of_the_overlay() {
        let cases = [
            (json!({"a": 1}), json!({"a": 1, "b": {"c": [1, 2]}})),
            (json!({"a": [1, 2, 3]}), json!({"a": [1, 2]})),
            (json!({"a": [1]}), json!({"a": [1, 2], "a~b/c": "x"})),
            (
                json!({"a": [{"x": 1}, {"y": 2}]}),
                json!({"a": [{"x": 1, "z": 0}, {"y": 3}]}),
            ),
            (json!({"a": {"x": 1}}), json!({"a": [1]})),
            (json!({"a": "s"}), json!({"a": {"b": 1}})),
            (json!(null), json!({"b": 1})),
            (json!({"a": [[1, 2], [3]]}), json!({"a": [[1], [3, 4, 5]]})),
        ];
        for (original, defaults) in cases {
            assert_eq!(
                defaults_patch_of(&original, &defaults),
                overlay_then_diff(&original, &defaults),
                "{original} with {defaults}"
            );
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (0u8..4).prop_map(Value::from),
            "[ab~/]{0,2}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[abc~/]{1,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn defaults_patch_matches_overlay_then_diff(original in json_value(), defaults in json_value()) {
            proptest::prop_assert_eq!(
                defaults_patch_of(&original, &defaults),
                overlay_then_diff(&original, &defaults)
            );
        }
    }
}
