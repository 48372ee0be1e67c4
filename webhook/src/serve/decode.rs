//! Decoding an AdmissionReview body into a `serde_json::Value`, minus the objects'
//! `metadata.managedFields`. The API server sends them with every object (and twice on UPDATE);
//! they are often the largest part of a review and no default or rule reads them, so they are
//! skipped while parsing instead of being built as a tree and thrown away. Defaults only touch
//! `spec`, so the JSON patch computed without them is the same. The mutating webhook never reads
//! `oldObject` either, so for it only the JSON type of `oldObject` is kept.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use std::marker::PhantomData;

use super::strict::{Budget, Context, Level as StrictLevel, StrictSeed};

/// Where in the review the parser is: only the path `request.{object,oldObject}.metadata`
/// behaves differently from a plain `Value`.
#[derive(Clone, Copy)]
enum Level {
    Review,
    Request,
    Object,
    Metadata,
}

#[derive(Clone, Copy)]
struct Pruned<'b> {
    level: Level,
    keep_old_object: bool,
    budget: &'b Budget,
}

/// Parses `body` as JSON (with serde_json's limits: a depth of 128, no trailing data), leaving
/// out `request.object.metadata.managedFields` and `request.oldObject.metadata.managedFields`.
/// Without `keep_old_object`, `request.oldObject` is checked as JSON but kept only as an empty
/// value of its type (`{}`, `[]`, or the scalar). Every map entry and list item kept counts
/// against `budget`; past it the parse fails (see [`Budget`]).
pub fn review(
    body: &[u8],
    keep_old_object: bool,
    budget: &Budget,
) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Pruned {
        level: Level::Review,
        keep_old_object,
        budget,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A `serde_json::Value` exactly as `Value::deserialize` builds it, with its map entries and list
/// items counted against `budget`.
fn plain_value(budget: &Budget) -> StrictSeed<'_, PhantomData<Value>> {
    StrictSeed {
        seed: PhantomData,
        cx: Context {
            budget,
            captured: None,
            keep_spec: false,
            fast: false,
        },
        level: StrictLevel::Plain,
    }
}

/// A value parsed for its JSON type only.
pub struct Shape;

impl<'de> DeserializeSeed<'de> for Shape {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shape {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, _: &str) -> Result<Value, E> {
        Ok(Value::String(String::new()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Array(Vec::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Object(Map::new()))
    }
}

impl<'de> DeserializeSeed<'de> for Pruned<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pruned<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON text cannot hold NaN or infinities, so this is always a number.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element_seed(plain_value(self.budget))? {
            self.budget.take()?;
            out.push(item);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.budget.take()?;
            let child = match (self.level, key.as_str()) {
                (Level::Review, "request") => Some(Level::Request),
                (Level::Request, "oldObject") if !self.keep_old_object => {
                    let shape = map.next_value_seed(Shape)?;
                    out.insert(key, shape);
                    continue;
                }
                (Level::Request, "object" | "oldObject") => Some(Level::Object),
                (Level::Object, "metadata") => Some(Level::Metadata),
                (Level::Metadata, "managedFields") => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                _ => None,
            };
            let value = match child {
                Some(level) => map.next_value_seed(Pruned { level, ..self })?,
                None => map.next_value_seed(plain_value(self.budget))?,
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn big() -> Budget {
        Budget::new(usize::MAX)
    }

    #[test]
    fn drops_managed_fields_of_both_objects_only() {
        let managed = json!([{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]);
        let review = json!({
            "request": {
                "object": {"metadata": {"name": "a", "managedFields": managed}, "spec": {"managedFields": 1}},
                "oldObject": {"metadata": {"name": "a", "managedFields": managed}},
                "managedFields": 2,
            },
            "metadata": {"managedFields": 3},
        });
        let parsed = super::review(review.to_string().as_bytes(), true, &big()).expect("parses");
        assert_eq!(
            parsed,
            json!({
                "request": {
                    "object": {"metadata": {"name": "a"}, "spec": {"managedFields": 1}},
                    "oldObject": {"metadata": {"name": "a"}},
                    "managedFields": 2,
                },
                "metadata": {"managedFields": 3},
            })
        );
    }

    #[test]
    fn same_as_serde_json_otherwise() {
        for text in [
            "null",
            "1",
            "-1",
            "1.5",
            "\"s\"",
            "[1,[2]]",
            "{\"request\":[{\"object\":1}]}",
            "{\"request\":{\"object\":null}}",
        ] {
            assert_eq!(
                review(text.as_bytes(), true, &big()).ok(),
                serde_json::from_str::<Value>(text).ok(),
                "{text}"
            );
        }
        for bad in [
            "",
            "{",
            "1 2",
            "{\"request\":{\"object\":{\"metadata\":{\"managedFields\":[}}}}",
        ] {
            assert!(review(bad.as_bytes(), true, &big()).is_err(), "{bad}");
            assert!(review(bad.as_bytes(), false, &big()).is_err(), "{bad}");
        }
        // Kept parts have serde_json's depth limit; skipped parts are skipped by its iterative
        // scanner, which has no recursion to limit.
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let deep_kept = format!(r#"{{"request":{{"object":{{"spec":{}}}}}}}"#, nested(200));
        let error = review(deep_kept.as_bytes(), true, &big()).expect_err("too deep");
        assert!(
            error.to_string().starts_with("recursion limit exceeded"),
            "{error}"
        );
        let deep_skipped = format!(
            r#"{{"request":{{"object":{{"metadata":{{"managedFields":{}}}}},"oldObject":{}}}}}"#,
            nested(100_000),
            nested(100_000)
        );
        assert_eq!(
            review(deep_skipped.as_bytes(), false, &big()).ok(),
            Some(json!({"request": {"object": {"metadata": {}}, "oldObject": []}}))
        );
    }

    #[test]
    fn keeps_only_the_type_of_an_old_object_nobody_reads() {
        let text = r#"{"request":{"object":{"a":1},"oldObject":{"spec":{"x":[1,2]}}}}"#;
        assert_eq!(
            review(text.as_bytes(), false, &big()).ok(),
            Some(json!({"request": {"object": {"a": 1}, "oldObject": {}}}))
        );
        for (old, shape) in [
            ("5", json!(5)),
            ("null", Value::Null),
            ("[1]", json!([])),
            ("\"s\"", json!("")),
        ] {
            let text = format!(r#"{{"request":{{"oldObject":{old}}}}}"#);
            assert_eq!(
                review(text.as_bytes(), false, &big()).ok(),
                Some(json!({"request": {"oldObject": shape}})),
                "{old}"
            );
        }
    }
}
