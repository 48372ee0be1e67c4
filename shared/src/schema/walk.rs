//! The walks over an object and its schema, each mirroring one step of the API server: finding
//! unknown fields (the pruning that strict field validation reports), dropping what pruning drops,
//! applying defaults, and validating (with ratcheting on UPDATE).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::compile::{Bound, Node, Type};
use super::ids::{
    DUPLICATE, ENUM, LENGTH, METADATA_NAME, PATTERN, RANGE, REQUIRED, RULE, SIZE, TYPE,
};
use crate::verdict::Finding;

/// Fields at the root of every object that the schema does not describe.
const META_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// The fields of `metadata` (Kubernetes' ObjectMeta).
const OBJECT_META: [&str; 15] = [
    "annotations",
    "creationTimestamp",
    "deletionGracePeriodSeconds",
    "deletionTimestamp",
    "finalizers",
    "generateName",
    "generation",
    "labels",
    "managedFields",
    "name",
    "namespace",
    "ownerReferences",
    "resourceVersion",
    "selfLink",
    "uid",
];

// ---------------------------------------------------------------------------------------------
// Unknown fields and pruning
// ---------------------------------------------------------------------------------------------

fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Every unknown field of `object`: those of `metadata` first, then the rest sorted, as the API
/// server lists them.
pub fn unknown_fields(root: &Node, object: &Value) -> Vec<String> {
    let mut meta: Vec<String> = object
        .get("metadata")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(Map::keys)
        .filter(|k| !OBJECT_META.contains(&k.as_str()))
        .map(|k| format!("metadata.{k}"))
        .collect();
    meta.sort();
    let mut rest = Vec::new();
    unknown(object, Some(root), "", true, &mut rest);
    rest.sort();
    meta.extend(rest);
    meta
}

fn unknown(x: &Value, s: Option<&Node>, path: &str, root: bool, out: &mut Vec<String>) {
    if let Some(s) = s
        && s.preserve_unknown
    {
        return unknown_below_preserved(x, s, path, out);
    }
    match x {
        Value::Object(map) => {
            let Some(s) = s else {
                out.extend(map.keys().map(|k| join_key(path, k)));
                return;
            };
            for (k, v) in map {
                if root && META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                if let Some(prop) = s.properties.get(k) {
                    unknown(v, Some(prop), &join_key(path, k), false, out);
                } else if let Some(additional) = &s.additional {
                    unknown(v, additional.as_deref(), &join_key(path, k), false, out);
                } else if !META_FIELDS.contains(&k.as_str()) || !path.is_empty() {
                    out.push(join_key(path, k));
                }
            }
        }
        Value::Array(items) => {
            let item_schema = s.and_then(|s| s.items.as_deref());
            for (i, v) in items.iter().enumerate() {
                unknown(v, item_schema, &format!("{path}[{i}]"), false, out);
            }
        }
        _ => {}
    }
}

/// Below `x-kubernetes-preserve-unknown-fields` only the fields the schema does describe are
/// looked into.
fn unknown_below_preserved(x: &Value, s: &Node, path: &str, out: &mut Vec<String>) {
    match x {
        Value::Object(map) => {
            for (k, v) in map {
                if let Some(prop) = s.properties.get(k) {
                    unknown(v, Some(prop), &join_key(path, k), false, out);
                } else if let Some(additional) = &s.additional {
                    unknown(v, additional.as_deref(), &join_key(path, k), false, out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = s.items.as_deref() {
                for (i, v) in items.iter().enumerate() {
                    unknown_below_preserved(v, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Drops unknown fields (outside `metadata`) and the `null`s of fields that are neither nullable
/// nor defaulted, as the API server does after decoding.
pub fn prune(root: &Node, object: &mut Value) {
    drop_unknown(object, Some(root), true);
    drop_nulls(object, Some(root));
}

fn drop_unknown(x: &mut Value, s: Option<&Node>, root: bool) {
    if s.is_some_and(|s| s.preserve_unknown) {
        return;
    }
    match x {
        Value::Object(map) => {
            let Some(s) = s else {
                map.clear();
                return;
            };
            map.retain(|k, _| {
                (root && META_FIELDS.contains(&k.as_str()))
                    || s.properties.contains_key(k)
                    || s.additional.is_some()
            });
            for (k, v) in map.iter_mut() {
                if root && META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                let child = s
                    .properties
                    .get(k)
                    .or_else(|| s.additional.as_ref().and_then(|a| a.as_deref()));
                drop_unknown(v, child, false);
            }
        }
        Value::Array(items) => {
            let item = s.and_then(|s| s.items.as_deref());
            for v in items {
                drop_unknown(v, item, false);
            }
        }
        _ => {}
    }
}

fn drop_nulls(x: &mut Value, s: Option<&Node>) {
    match x {
        Value::Object(map) => {
            let child = |k: &str| s.and_then(|s| s.child(k));
            map.retain(|k, v| {
                !(v.is_null() && child(k).is_some_and(|c| !c.nullable && c.default.is_none()))
            });
            for (k, v) in map.iter_mut() {
                drop_nulls(v, child(k));
            }
        }
        Value::Array(items) => {
            let item = s.and_then(|s| s.items.as_deref());
            for v in items {
                drop_nulls(v, item);
            }
        }
        _ => {}
    }
}

/// Fills in the schema's defaults: an absent field (or a `null` one that is not nullable) with a
/// default gets it, at every level that is present.
pub fn default(s: &Node, x: &mut Value) {
    match x {
        Value::Object(map) => {
            for (k, prop) in &s.properties {
                let Some(d) = &prop.default else { continue };
                let missing = match map.get(k) {
                    None => true,
                    Some(v) => v.is_null() && !prop.nullable,
                };
                if missing {
                    map.insert(k.clone(), d.clone());
                }
            }
            for (k, v) in map.iter_mut() {
                if let Some(prop) = s.properties.get(k) {
                    default(prop, v);
                } else if let Some(Some(additional)) = &s.additional {
                    if v.is_null()
                        && !additional.nullable
                        && let Some(d) = &additional.default
                    {
                        *v = d.clone();
                    }
                    default(additional, v);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = &s.items {
                for v in items {
                    if v.is_null()
                        && !item.nullable
                        && let Some(d) = &item.default
                    {
                        *v = d.clone();
                    }
                    default(item, v);
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// A field path as the API server prints it: `spec.topology.servers`, `spec.env[0].name`.
fn index_path(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A value as the API server quotes it in "Invalid value: …".
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// A number as Go's `%v` prints a float64 bound (`2`, `0.5`).
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

/// The JSON type name the API server reports for a value.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn type_matches(ty: Type, v: &Value) -> bool {
    match ty {
        Type::Object => v.is_object(),
        Type::Array => v.is_array(),
        Type::String => v.is_string(),
        Type::Integer => is_integer(v),
        Type::Number => v.is_number(),
        Type::Boolean => v.is_boolean(),
        Type::IntOrString => v.is_string() || is_integer(v),
        Type::Any => true,
    }
}

/// Errors found so far, and whether one of them keeps the CEL rules from running.
#[derive(Default)]
struct Errors {
    list: Vec<Finding>,
    blocking: bool,
}

impl Errors {
    fn add(&mut self, rule: &'static str, path: &str, detail: String, blocking: bool) {
        self.blocking |= blocking;
        self.list
            .push(Finding::new(rule, path, format!("{path}: {detail}")));
    }
}

/// The API server's validation of a defaulted object: `metadata.name`, the schema (ratcheted
/// against `old`), the list-type invariants, then the CEL rules unless a blocking error (type,
/// required, enum, too long, too many) was found.
pub fn validate(root: &Node, object: &Value, old: Option<&Value>) -> Vec<Finding> {
    let mut errors = Errors::default();
    if old.is_none() {
        metadata_name(object, &mut errors);
    }
    // The schema of the whole object, without `status` (a subresource, set aside on CREATE and
    // UPDATE of the object itself) and without `metadata` (checked above).
    let body = |v: &Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("status");
            map.remove("metadata");
        }
        v
    };
    let (new_body, old_body) = (body(object), old.map(body));
    schema(root, &new_body, old_body.as_ref(), "", &mut errors);
    // The list-type invariants are checked on UPDATE only when the stored object keeps them.
    let mut duplicates = Vec::new();
    list_types(root, &new_body, "", &mut duplicates);
    let old_duplicates = old_body.as_ref().is_some_and(|o| {
        let mut d = Vec::new();
        list_types(root, o, "", &mut d);
        !d.is_empty()
    });
    if !old_duplicates {
        for (path, key) in duplicates {
            errors.add(DUPLICATE, &path, format!("Duplicate value: {key}"), false);
        }
    }
    if !errors.blocking {
        cel(root, &new_body, old_body.as_ref(), "", &mut errors);
    }
    errors.list
}

fn metadata_name(object: &Value, errors: &mut Errors) {
    let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str) else {
        return;
    };
    if name.is_empty() {
        return;
    }
    let valid = name.len() <= 253 && crate::validate::DNS1123_SUBDOMAIN.is_match(name);
    if !valid {
        let detail = if name.len() > 253 {
            "must be no more than 253 characters".to_string()
        } else {
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string()
        };
        errors.add(
            METADATA_NAME,
            "metadata.name",
            format!("Invalid value: {name:?}: {detail}"),
            false,
        );
    }
}

/// One node: ratcheted away when the value is the stored one; otherwise its type first (nothing
/// else is checked on a value of the wrong type), then its own constraints, then its children.
fn schema(s: &Node, v: &Value, old: Option<&Value>, path: &str, errors: &mut Errors) {
    if old.is_some_and(|o| o == v) {
        return;
    }
    if v.is_null() {
        if !s.nullable && s.ty != Type::Any {
            errors.add(
                TYPE,
                path,
                format!(
                    "Invalid value: \"null\": {path} in body must be of type {}: \"null\"",
                    s.ty.name()
                ),
                true,
            );
        }
        return;
    }
    if !type_matches(s.ty, v) {
        let actual = type_name(v);
        errors.add(
            TYPE,
            path,
            format!(
                "Invalid value: \"{actual}\": {path} in body must be of type {}: \"{actual}\"",
                s.ty.name()
            ),
            true,
        );
        return;
    }
    if let Some(allowed) = &s.enumeration
        && !allowed.contains(v)
    {
        let values: Vec<String> = allowed
            .iter()
            .map(|a| match a {
                Value::String(s) => format!("{s:?}"),
                other => format!("{:?}", other.to_string()),
            })
            .collect();
        errors.add(
            ENUM,
            path,
            format!(
                "Unsupported value: {}: supported values: {}",
                shown(v),
                values.join(", ")
            ),
            true,
        );
    }
    match v {
        Value::Number(n) => bounds(s, v, n.as_f64().unwrap_or_default(), path, errors),
        Value::String(text) => string(s, v, text, path, errors),
        Value::Array(items) => array(s, items, old, path, errors),
        Value::Object(map) => object(s, map, old, path, errors),
        _ => {}
    }
}

fn bounds(s: &Node, v: &Value, n: f64, path: &str, errors: &mut Errors) {
    let mut check = |bound: Option<Bound>, below: bool| {
        let Some(b) = bound else { return };
        let fails = match (below, b.exclusive) {
            (true, false) => n < b.value,
            (true, true) => n <= b.value,
            (false, false) => n > b.value,
            (false, true) => n >= b.value,
        };
        if fails {
            let relation = match (below, b.exclusive) {
                (true, false) => "greater than or equal to",
                (true, true) => "greater than",
                (false, false) => "less than or equal to",
                (false, true) => "less than",
            };
            errors.add(
                RANGE,
                path,
                format!(
                    "Invalid value: {}: {path} in body should be {relation} {}",
                    shown(v),
                    number(b.value)
                ),
                false,
            );
        }
    };
    check(s.minimum, true);
    check(s.maximum, false);
}

fn string(s: &Node, v: &Value, text: &str, path: &str, errors: &mut Errors) {
    let chars = text.chars().count() as u64;
    if let Some(max) = s.max_length
        && chars > max
    {
        let unit = if max == 1 { "byte" } else { "bytes" };
        errors.add(
            LENGTH,
            path,
            format!("Too long: may not be more than {max} {unit}"),
            true,
        );
    }
    if let Some(min) = s.min_length
        && chars < min
    {
        errors.add(
            LENGTH,
            path,
            format!(
                "Invalid value: {}: {path} in body should be at least {min} chars long",
                shown(v)
            ),
            false,
        );
    }
    if matches!(s.format.as_deref(), Some("date-time" | "datetime")) && !is_date_time(text) {
        errors.add(
            TYPE,
            path,
            format!(
                "Invalid value: {}: {path} in body must be of type date-time: {}",
                shown(v),
                shown(v)
            ),
            true,
        );
    }
    if let Some((pattern, Some(re))) = &s.pattern
        && !re.is_match(text)
    {
        errors.add(
            PATTERN,
            path,
            format!(
                "Invalid value: {}: {path} in body should match '{pattern}'",
                shown(v)
            ),
            false,
        );
    }
}

static TIME_OF_DAY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")
        .unwrap_or_else(|e| panic!("built-in pattern: {e}"))
});

/// The API server's `date-time` format: `YYYY-MM-DD`, `T`, `hh:mm:ss`, optional fraction, and
/// `Z` or an offset (case-insensitive), e.g. `2025-06-01T12:00:00Z`.
fn is_date_time(text: &str) -> bool {
    if text.len() < 4 {
        return false;
    }
    let lower = text.to_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !is_date(date) {
        return false;
    }
    TIME_OF_DAY.captures(time).is_some_and(|c| {
        c.get(1).is_some_and(|h| h.as_str() <= "23")
            && c.get(2).is_some_and(|m| m.as_str() <= "59")
            && c.get(3).is_some_and(|s| s.as_str() <= "59")
    })
}

/// `YYYY-MM-DD`, a real day of the Gregorian calendar.
fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        text.get(r)
            .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok())
    };
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn too_many(actual: usize, max: u64) -> String {
    let unit = if max == 1 { "item" } else { "items" };
    format!("Too many: {actual}: must have at most {max} {unit}")
}

fn array(s: &Node, items: &[Value], old: Option<&Value>, path: &str, errors: &mut Errors) {
    if let Some(max) = s.max_items
        && items.len() as u64 > max
    {
        errors.add(SIZE, path, too_many(items.len(), max), true);
    }
    if let Some(min) = s.min_items
        && (items.len() as u64) < min
    {
        errors.add(
            SIZE,
            path,
            format!(
                "Invalid value: {}: {path} in body should have at least {min} items",
                items.len()
            ),
            false,
        );
    }
    let Some(item) = &s.items else { return };
    for (i, v) in items.iter().enumerate() {
        let old_item = correlated_item(s, v, old);
        schema(item, v, old_item, &index_path(path, i), errors);
    }
}

/// The stored item an item of a list corresponds to: only items of a list-type `map` are
/// matched (by their keys); other lists change as a whole.
fn correlated_item<'a>(s: &Node, item: &Value, old: Option<&'a Value>) -> Option<&'a Value> {
    if s.list_type.as_deref() != Some("map") || s.list_map_keys.is_empty() {
        return None;
    }
    let key = |v: &Value| -> Vec<Value> {
        s.list_map_keys
            .iter()
            .map(|k| v.get(k).cloned().unwrap_or(Value::Null))
            .collect()
    };
    let wanted = key(item);
    old?.as_array()?.iter().find(|o| key(o) == wanted)
}

fn object(
    s: &Node,
    map: &Map<String, Value>,
    old: Option<&Value>,
    path: &str,
    errors: &mut Errors,
) {
    for name in &s.required {
        if !map.contains_key(name) {
            errors.add(
                REQUIRED,
                &join_key(path, name),
                "Required value".into(),
                true,
            );
        }
    }
    if let Some(max) = s.max_properties
        && map.len() as u64 > max
    {
        errors.add(SIZE, path, too_many(map.len(), max), true);
    }
    if let Some(min) = s.min_properties
        && (map.len() as u64) < min
    {
        errors.add(
            SIZE,
            path,
            format!(
                "Invalid value: {}: {path} in body should have at least {min} properties",
                map.len()
            ),
            false,
        );
    }
    for (k, v) in map {
        let Some(child) = s.child(k) else { continue };
        let old_child = old.and_then(|o| o.get(k));
        schema(child, v, old_child, &join_key(path, k), errors);
    }
}

/// Duplicates of list-type `map` keys and `set` items, as (path of the repeated item, key).
fn list_types(s: &Node, v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if let Some(prop) = s.properties.get(k) {
                    list_types(prop, child, &join_key(path, k), out);
                } else if let Some(Some(additional)) = &s.additional {
                    list_types(additional, child, &format!("{path}[{k}]"), out);
                }
            }
        }
        Value::Array(items) => {
            let keys: Option<Vec<Value>> = match s.list_type.as_deref() {
                Some("set") => Some(items.to_vec()),
                Some("map") => Some(
                    items
                        .iter()
                        .map(|item| {
                            let mut key = Map::new();
                            for k in &s.list_map_keys {
                                if let Some(x) = item.get(k) {
                                    key.insert(k.clone(), x.clone());
                                }
                            }
                            Value::Object(key)
                        })
                        .collect(),
                ),
                _ => None,
            };
            if let Some(keys) = keys {
                let mut seen = BTreeSet::new();
                let mut reported = BTreeSet::new();
                for (i, key) in keys.iter().enumerate() {
                    let text = key.to_string();
                    if !seen.insert(text.clone()) && reported.insert(text.clone()) {
                        out.push((index_path(path, i), text));
                    }
                }
            }
            if let Some(item) = &s.items {
                for (i, x) in items.iter().enumerate() {
                    list_types(item, x, &index_path(path, i), out);
                }
            }
        }
        _ => {}
    }
}

/// The CEL rules of every node present in the object, ratcheted like the schema.
fn cel(s: &Node, v: &Value, old: Option<&Value>, path: &str, errors: &mut Errors) {
    if old.is_some_and(|o| o == v) || v.is_null() {
        return;
    }
    for rule in &s.rules {
        if let Some(check) = rule.check
            && !check(v)
        {
            // The API server leaves out the value of an object or a list.
            let value = match v {
                Value::Object(_) | Value::Array(_) => String::new(),
                other => format!("{}: ", shown(other)),
            };
            errors.add(
                RULE,
                path,
                format!("Invalid value: {value}{}", rule.message),
                false,
            );
        }
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let Some(node) = s.child(k) else { continue };
                let child_path = if s.properties.contains_key(k) {
                    join_key(path, k)
                } else {
                    format!("{path}[{k}]")
                };
                cel(node, child, old.and_then(|o| o.get(k)), &child_path, errors);
            }
        }
        Value::Array(items) => {
            if let Some(item) = &s.items {
                for (i, x) in items.iter().enumerate() {
                    cel(
                        item,
                        x,
                        correlated_item(s, x, old),
                        &index_path(path, i),
                        errors,
                    );
                }
            }
        }
        _ => {}
    }
}
