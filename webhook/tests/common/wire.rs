//! A review as the API server puts it on the wire (its key order), for the tests and the
//! benchmarks (`benches/support` includes this file).

use serde_json::Value;

/// `review` as the API server writes it: `kind`, `apiVersion`, then `request` with its fields in
/// the order of Go's `AdmissionRequest` (uid, kind, …, operation, userInfo, object, oldObject,
/// dryRun, options); maps inside the objects in sorted key order, as Go writes a map. Other
/// keys follow in sorted order.
pub fn apiserver_json(review: &Value) -> String {
    const TOP: &[&str] = &["kind", "apiVersion", "request"];
    const REQUEST: &[&str] = &[
        "uid",
        "kind",
        "resource",
        "subResource",
        "requestKind",
        "requestResource",
        "requestSubResource",
        "name",
        "namespace",
        "operation",
        "userInfo",
        "object",
        "oldObject",
        "dryRun",
        "options",
    ];
    fn ordered(value: &Value, order: &[&str], inner: Option<&[&str]>) -> String {
        let Value::Object(map) = value else {
            return value.to_string();
        };
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by_key(|k| (order.iter().position(|o| o == k).unwrap_or(order.len()), *k));
        let fields: Vec<String> = keys
            .into_iter()
            .map(|k| {
                let v = &map[k];
                let text = match (k.as_str(), inner) {
                    ("request", Some(inner)) => ordered(v, inner, None),
                    _ => v.to_string(),
                };
                format!("{}:{text}", Value::from(k.as_str()))
            })
            .collect();
        format!("{{{}}}", fields.join(","))
    }
    ordered(review, TOP, Some(REQUEST))
}
