//! What the controller owns of a live child, compared by content (pure; no I/O).
//!
//! Server-side apply records, per field manager, the set of fields each manager owns
//! (`metadata.managedFields`, format `FieldsV1`). When anyone else changes a field the controller
//! owns — `kubectl scale`, `kubectl edit`, another manager's forced apply — that field leaves the
//! controller's set (an update takes the fields it changes from every other manager); when a
//! field is removed it leaves the set too. So the live values of exactly the fields in the
//! controller's set, [`project`]ed out of the live object, equal the applied object as long as
//! nobody touched what the controller owns, and differ as soon as someone did. Fields other
//! managers own (a foreign annotation, a label added by a team's tooling) are never part of the
//! projection, so they never cause an apply.
//!
//! The watch keeps only a 32-byte [`Digest`] of the projection per child; the reconcile
//! computes the digest of the object it would apply and skips the apply when both are equal.
//! [`normalize`] makes the two sides comparable: it drops the identity fields the field set
//! never lists, empty values the API server does not store, and writes resource quantities in
//! one canonical form (`0.5` and `500m` are the same CPU).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use neo4j_shared::render::canonical_json;
use neo4j_shared::render::sha256;
use serde_json::{Map, Value};

/// SHA-256 of the canonical JSON of a normalized projection.
pub type Digest = [u8; 32];

/// The field set (`FieldsV1`) the manager `manager` owns on the object itself through apply:
/// the entry with operation `Apply` and no subresource (status writes are a separate entry).
pub fn applied_fields<'a>(meta: &'a ObjectMeta, manager: &str) -> Option<&'a Value> {
    meta.managed_fields.iter().flatten().find_map(|entry| {
        let ours = entry.manager.as_deref() == Some(manager)
            && entry.operation.as_deref() == Some("Apply")
            && entry.subresource.as_deref().unwrap_or_default().is_empty();
        if ours {
            entry.fields_v1.as_ref().map(|f| &f.0)
        } else {
            None
        }
    })
}

/// What a field holds when it holds nothing: a zero, `false`, `""`, an empty map or list, or —
/// in a projection — a field the manager owns that the API server does not store (it omits
/// zero values of many fields, e.g. a probe's `initialDelaySeconds: 0`). A field someone else
/// changed is not in the manager's set at all, so it never projects to this.
const ZERO: &str = "\u{0}zero";

/// The values of `live` at exactly the paths of the field set `fields`.
///
/// Field sets name map keys as `f:<key>`, list items of associative lists as `k:{<key
/// fields>}`, items of set lists as `v:<value>`, items by position as `i:<index>`; `.` marks the
/// item itself. A path whose set is empty (or only `.`) is owned whole (a scalar, an atomic list
/// or map): its live value is taken as it is. An owned key the live map lacks projects to
/// [`ZERO`].
pub fn project(live: &Value, fields: &Value) -> Value {
    let Some(set) = fields.as_object() else {
        return live.clone();
    };
    if set.keys().all(|k| k == ".") {
        return live.clone();
    }
    match live {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, sub) in set {
                if let Some(name) = key.strip_prefix("f:") {
                    let value = match map.get(name) {
                        Some(value) => project(value, sub),
                        None => Value::String(ZERO.to_string()),
                    };
                    out.insert(name.to_string(), value);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for (index, item) in items.iter().enumerate() {
                if let Some(sub) = set
                    .iter()
                    .find_map(|(key, sub)| item_matches(key, index, item).then_some(sub))
                {
                    out.push(project(item, sub));
                }
            }
            Value::Array(out)
        }
        // The set descends into something the live object no longer has as a map or list.
        other => other.clone(),
    }
}

/// Whether the list item `item` at `index` is the one the field-set key `key` names.
fn item_matches(key: &str, index: usize, item: &Value) -> bool {
    if let Some(json) = key.strip_prefix("k:") {
        let Ok(Value::Object(wanted)) = serde_json::from_str::<Value>(json) else {
            return false;
        };
        let Value::Object(fields) = item else {
            return false;
        };
        wanted.iter().all(|(k, v)| fields.get(k) == Some(v))
    } else if let Some(json) = key.strip_prefix("v:") {
        serde_json::from_str::<Value>(json).is_ok_and(|v| &v == item)
    } else if let Some(i) = key.strip_prefix("i:") {
        i.parse::<usize>() == Ok(index)
    } else {
        false
    }
}

/// Map keys whose values are resource quantities (`resources.requests`, `resources.limits`,
/// a claim's `storage`).
const QUANTITY_MAPS: [&str; 3] = ["requests", "limits", "capacity"];

/// The comparable form of an applied object or of a projection: without `apiVersion`, `kind`,
/// `metadata.name`, `metadata.namespace` and `status` (never in a field set) and nulls, with
/// every empty value as [`ZERO`] (the API server omits many), and with every quantity in one
/// form. `None` when nothing is left.
pub fn normalize(object: &Value) -> Option<Value> {
    let mut v = object.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("name");
            meta.remove("namespace");
            meta.remove("managedFields");
        }
    }
    clean(v, Mode::Plain)
}

/// What a value is, for [`clean`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    /// A map of quantities (`requests`, `limits`).
    Quantities,
    /// One quantity.
    Quantity,
}

fn clean(v: Value, mode: Mode) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(map) if map.is_empty() => Some(Value::String(ZERO.to_string())),
        Value::Array(items) if items.is_empty() => Some(Value::String(ZERO.to_string())),
        Value::Object(map) => {
            let out: Map<String, Value> = map
                .into_iter()
                .filter_map(|(k, v)| {
                    let child = if mode == Mode::Quantities {
                        Mode::Quantity
                    } else if QUANTITY_MAPS.contains(&k.as_str()) {
                        Mode::Quantities
                    } else {
                        Mode::Plain
                    };
                    clean(v, child).map(|v| (k, v))
                })
                .collect();
            Some(if out.is_empty() {
                Value::String(ZERO.to_string())
            } else {
                Value::Object(out)
            })
        }
        Value::Array(items) => {
            // Items keep their positions.
            let out: Vec<Value> = items
                .into_iter()
                .map(|i| clean(i, Mode::Plain).unwrap_or_else(|| Value::String(ZERO.to_string())))
                .collect();
            Some(Value::Array(out))
        }
        Value::String(s) if mode == Mode::Quantity => Some(Value::String(canonical_quantity(&s))),
        Value::Number(n) if mode == Mode::Quantity => {
            Some(Value::String(canonical_quantity(&n.to_string())))
        }
        Value::Bool(false) => Some(Value::String(ZERO.to_string())),
        Value::String(s) if s.is_empty() => Some(Value::String(ZERO.to_string())),
        Value::Number(n) if n.as_f64() == Some(0.0) => Some(Value::String(ZERO.to_string())),
        other => Some(other),
    }
}

/// A quantity in one form (its value in scientific notation, 12 significant digits); anything
/// that is not a quantity stays as it is.
fn canonical_quantity(s: &str) -> String {
    match neo4j_shared::units::quantity(s) {
        Some(v) => format!("{v:.11e}"),
        None => s.to_string(),
    }
}

/// Digest of the normalized form of `value` (the empty object when nothing is left).
pub fn digest(value: &Value) -> Digest {
    let normalized = normalize(value).unwrap_or_else(|| Value::Object(Map::new()));
    sha256::digest(canonical_json(&normalized).as_bytes())
}

/// Digest of what `manager` owns of the live object `live` (its whole JSON, metadata
/// included); `None` when it owns nothing there.
pub fn owned_digest(live: &Value, meta: &ObjectMeta, manager: &str) -> Option<Digest> {
    applied_fields(meta, manager).map(|fields| digest(&project(live, fields)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};
    use serde_json::json;

    /// A Service as the controller applies it.
    fn applied() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "g-client", "namespace": "db",
                "labels": {"app": "g"},
                "annotations": {"neo4j.com/desired-hash": "h1"},
                "ownerReferences": [{"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
                    "name": "g", "uid": "u1", "controller": true, "blockOwnerDeletion": true}]},
            "spec": {"type": "ClusterIP", "selector": {"app": "g"},
                "ports": [{"name": "bolt", "port": 7687, "targetPort": 7687}]}
        })
    }

    /// The field set the API server records for [`applied`].
    fn fields() -> Value {
        json!({
            "f:metadata": {
                "f:labels": {"f:app": {}},
                "f:annotations": {"f:neo4j.com/desired-hash": {}},
                "f:ownerReferences": {"k:{\"uid\":\"u1\"}": {".": {}, "f:apiVersion": {}, "f:blockOwnerDeletion": {},
                    "f:controller": {}, "f:kind": {}, "f:name": {}, "f:uid": {}}}
            },
            "f:spec": {"f:type": {}, "f:selector": {}, "f:ports": {
                "k:{\"port\":7687,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}, "f:port": {}, "f:targetPort": {}}}}
        })
    }

    /// [`applied`] as the API server stores it: server defaults and other managers' fields.
    fn live() -> Value {
        let mut v = applied();
        v["metadata"]["uid"] = json!("svc-uid");
        v["metadata"]["resourceVersion"] = json!("42");
        v["metadata"]["annotations"]["team.example.com/owner"] = json!("graph");
        v["spec"]["clusterIP"] = json!("10.0.0.7");
        v["spec"]["sessionAffinity"] = json!("None");
        v["spec"]["ports"][0]["protocol"] = json!("TCP");
        v["spec"]["ports"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "extra", "port": 9000, "protocol": "TCP", "targetPort": 9000}));
        v["status"] = json!({"loadBalancer": {}});
        v
    }

    #[test]
    fn a_live_object_nobody_touched_projects_to_what_was_applied() {
        assert_eq!(digest(&project(&live(), &fields())), digest(&applied()));
    }

    #[test]
    fn every_change_to_an_owned_field_changes_the_projection_and_foreign_fields_do_not() {
        let base = digest(&applied());
        // Each edit as the API server records it: the value changes and, for an edit by another
        // manager, the field leaves the controller's set.
        type Edit = fn(&mut Value, &mut Value);
        let drifted: [(&str, Edit); 5] = [
            ("port changed", |l, f| {
                l["spec"]["ports"][0]["port"] = json!(7000);
                f["f:spec"]["f:ports"]
                    .as_object_mut()
                    .unwrap()
                    .remove("k:{\"port\":7687,\"protocol\":\"TCP\"}");
            }),
            ("label changed", |l, f| {
                l["metadata"]["labels"]["app"] = json!("other");
                f["f:metadata"]["f:labels"]
                    .as_object_mut()
                    .unwrap()
                    .remove("f:app");
            }),
            ("label removed", |l, f| {
                l["metadata"]["labels"]
                    .as_object_mut()
                    .unwrap()
                    .remove("app");
                f["f:metadata"]["f:labels"]
                    .as_object_mut()
                    .unwrap()
                    .remove("f:app");
            }),
            ("type changed", |l, f| {
                l["spec"]["type"] = json!("NodePort");
                f["f:spec"].as_object_mut().unwrap().remove("f:type");
            }),
            (
                "selector changed, ownership kept (a forced apply of ours elsewhere)",
                |l, _| {
                    l["spec"]["selector"] = json!({"app": "x"});
                },
            ),
        ];
        for (what, edit) in drifted {
            let (mut l, mut f) = (live(), fields());
            edit(&mut l, &mut f);
            assert_ne!(digest(&project(&l, &f)), base, "{what}");
        }
        let foreign: [(&str, Edit); 3] = [
            ("foreign annotation changed", |l, _| {
                l["metadata"]["annotations"]["team.example.com/owner"] = json!("ops");
            }),
            ("foreign port removed", |l, _| {
                l["spec"]["ports"].as_array_mut().unwrap().pop();
            }),
            ("server default changed", |l, _| {
                l["spec"]["sessionAffinity"] = json!("ClientIP");
            }),
        ];
        for (what, edit) in foreign {
            let (mut l, mut f) = (live(), fields());
            edit(&mut l, &mut f);
            assert_eq!(digest(&project(&l, &f)), base, "{what}");
        }
    }

    #[test]
    fn set_and_positional_items_are_matched() {
        let live = json!({"a": ["x", "y", "z"], "b": [{"n": 1}, {"n": 2}]});
        let fields = json!({"f:a": {"v:\"y\"": {}}, "f:b": {"i:1": {"f:n": {}}}});
        assert_eq!(
            project(&live, &fields),
            json!({"a": ["y"], "b": [{"n": 2}]})
        );
    }

    #[test]
    fn quantities_zeros_and_identity_are_normalized() {
        let sent = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "n", "annotations": {}},
            "spec": {"template": {"spec": {"automountServiceAccountToken": false, "containers": [{"name": "c", "env": [],
                "livenessProbe": {"initialDelaySeconds": 0, "periodSeconds": 10},
                "resources": {"requests": {"cpu": "0.5", "memory": "1.5Gi"}, "limits": {"cpu": 1}}}],
                "volumes": [{"name": "v", "emptyDir": {}}]}}}});
        // What the API server stores (zero values omitted, quantities canonical, defaults
        // added), and the field set it records for the apply.
        let stored = json!({"metadata": {"name": "n", "uid": "x"},
            "spec": {"template": {"spec": {"automountServiceAccountToken": false, "dnsPolicy": "ClusterFirst",
                "containers": [{"name": "c", "imagePullPolicy": "Always",
                "livenessProbe": {"periodSeconds": 10, "timeoutSeconds": 1},
                "resources": {"requests": {"cpu": "500m", "memory": "1536Mi"}, "limits": {"cpu": "1"}}}],
                "volumes": [{"name": "v", "emptyDir": {}}]}}}});
        let fields = json!({"f:metadata": {"f:annotations": {}}, "f:spec": {"f:template": {"f:spec": {
            "f:automountServiceAccountToken": {},
            "f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:name": {}, "f:env": {},
                "f:livenessProbe": {"f:initialDelaySeconds": {}, "f:periodSeconds": {}},
                "f:resources": {"f:requests": {"f:cpu": {}, "f:memory": {}}, "f:limits": {"f:cpu": {}}}}},
            "f:volumes": {"k:{\"name\":\"v\"}": {".": {}, "f:name": {}, "f:emptyDir": {}}}}}}});
        assert_eq!(digest(&project(&stored, &fields)), digest(&sent));
        // A zero someone else changed leaves the controller's set: that is a difference.
        let mut flipped = stored.clone();
        flipped["spec"]["template"]["spec"]["automountServiceAccountToken"] = json!(true);
        let mut taken = fields.clone();
        taken["f:spec"]["f:template"]["f:spec"]
            .as_object_mut()
            .unwrap()
            .remove("f:automountServiceAccountToken");
        assert_ne!(digest(&project(&flipped, &taken)), digest(&sent));
        // A quantity-looking string outside resources is compared as written.
        let a = json!({"metadata": {"labels": {"size": "1k"}}});
        let b = json!({"metadata": {"labels": {"size": "1000"}}});
        assert_ne!(digest(&a), digest(&b));
        // A real change of a quantity is a change.
        let c = json!({"spec": {"resources": {"limits": {"memory": "2Gi"}}}});
        let d = json!({"spec": {"resources": {"limits": {"memory": "2G"}}}});
        assert_ne!(digest(&c), digest(&d));
    }

    #[test]
    fn only_the_managers_own_apply_entry_counts() {
        let entry =
            |manager: &str, operation: &str, sub: Option<&str>, marker: &str| ManagedFieldsEntry {
                manager: Some(manager.into()),
                operation: Some(operation.into()),
                subresource: sub.map(str::to_string),
                fields_v1: Some(FieldsV1(json!({ marker: {} }))),
                ..Default::default()
            };
        let meta = ObjectMeta {
            managed_fields: Some(vec![
                entry("kubectl", "Update", None, "f:a"),
                entry("neo4j-controller", "Apply", Some("status"), "f:b"),
                entry("neo4j-controller", "Update", None, "f:c"),
                entry("neo4j-controller", "Apply", None, "f:d"),
            ]),
            ..Default::default()
        };
        assert_eq!(
            applied_fields(&meta, "neo4j-controller"),
            Some(&json!({"f:d": {}}))
        );
        assert_eq!(applied_fields(&meta, "someone"), None);
        assert!(owned_digest(&json!({}), &ObjectMeta::default(), "neo4j-controller").is_none());
    }
}
