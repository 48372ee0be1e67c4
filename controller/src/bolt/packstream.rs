//! PackStream, Bolt's value encoding: what the client needs to send parameters and read
//! results. Values the client does not interpret (nodes, temporal types, …) are kept as
//! generic structures; JSON is the bridge to the command line.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// A PackStream value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// A structure: its tag byte and fields.
    Struct(u8, Vec<Value>),
}

/// A malformed PackStream message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message ends inside a value")]
    Truncated,
    #[error("unknown PackStream marker 0x{0:02X}")]
    Marker(u8),
    #[error("string is not UTF-8")]
    Utf8,
    #[error("map key is not a string")]
    MapKey,
    #[error("values nested deeper than {MAX_DEPTH}")]
    TooDeep,
}

/// Deepest nesting accepted from the server.
const MAX_DEPTH: usize = 64;

impl Value {
    /// A map from `(key, value)` pairs.
    pub fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// The string inside, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Field `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// A JSON value as PackStream: integers stay integers, other numbers become floats.
    pub fn from_json(j: &Json) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::String(s.clone()),
            Json::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            Json::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The value as JSON; a structure becomes `{"structure": <tag>, "fields": [...]}`.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Bytes(b) => Json::Array(b.iter().map(|x| Json::from(*x)).collect()),
            Value::String(s) => Json::String(s.clone()),
            Value::List(l) => Json::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                Json::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Struct(tag, fields) => serde_json::json!({
                "structure": tag,
                "fields": fields.iter().map(Value::to_json).collect::<Vec<_>>(),
            }),
        }
    }

    /// Appends the encoding of this value to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.push(0xC0),
            Value::Bool(false) => out.push(0xC2),
            Value::Bool(true) => out.push(0xC3),
            Value::Int(i) => encode_int(*i, out),
            Value::Float(f) => {
                out.push(0xC1);
                out.extend_from_slice(&f.to_be_bytes());
            }
            Value::Bytes(b) => {
                size_header(b.len(), None, [0xCC, 0xCD, 0xCE], out);
                out.extend_from_slice(b);
            }
            Value::String(s) => {
                size_header(s.len(), Some(0x80), [0xD0, 0xD1, 0xD2], out);
                out.extend_from_slice(s.as_bytes());
            }
            Value::List(l) => {
                size_header(l.len(), Some(0x90), [0xD4, 0xD5, 0xD6], out);
                l.iter().for_each(|v| v.encode(out));
            }
            Value::Map(m) => {
                size_header(m.len(), Some(0xA0), [0xD8, 0xD9, 0xDA], out);
                for (k, v) in m {
                    Value::String(k.clone()).encode(out);
                    v.encode(out);
                }
            }
            Value::Struct(tag, fields) => {
                // Bolt messages and values have at most 15 fields.
                out.push(0xB0 | (fields.len().min(15) as u8));
                out.push(*tag);
                fields.iter().take(15).for_each(|v| v.encode(out));
            }
        }
    }

    /// Decodes one value from the front of `input`, returning it and the rest.
    pub fn decode(input: &[u8]) -> Result<(Value, &[u8]), DecodeError> {
        let mut r = Reader { buf: input };
        let v = r.value(0)?;
        Ok((v, r.buf))
    }
}

fn encode_int(i: i64, out: &mut Vec<u8>) {
    if (-16..=127).contains(&i) {
        out.push(i as u8);
    } else if let Ok(v) = i8::try_from(i) {
        out.push(0xC8);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = i16::try_from(i) {
        out.push(0xC9);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = i32::try_from(i) {
        out.push(0xCA);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(0xCB);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

/// The marker for a container of `len` items: tiny (under 16) when `tiny` is given, else 8-,
/// 16- or 32-bit size.
fn size_header(len: usize, tiny: Option<u8>, sized: [u8; 3], out: &mut Vec<u8>) {
    match (tiny, len) {
        (Some(t), n) if n < 16 => out.push(t | n as u8),
        (_, n) if n <= usize::from(u8::MAX) => {
            out.push(sized[0]);
            out.push(n as u8);
        }
        (_, n) if n <= usize::from(u16::MAX) => {
            out.push(sized[1]);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        (_, n) => {
            out.push(sized[2]);
            out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, width: usize) -> Result<usize, DecodeError> {
        let b = self.take(width)?;
        Ok(b.iter().fold(0usize, |acc, x| (acc << 8) | usize::from(*x)))
    }

    fn int(&mut self, width: usize) -> Result<i64, DecodeError> {
        let b = self.take(width)?;
        let mut arr = [if b[0] & 0x80 != 0 { 0xFF } else { 0 }; 8];
        arr[8 - width..].copy_from_slice(b);
        Ok(i64::from_be_bytes(arr))
    }

    fn string(&mut self, len: usize) -> Result<String, DecodeError> {
        let b = self.take(len)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::Utf8)
    }

    fn list(&mut self, len: usize, depth: usize) -> Result<Vec<Value>, DecodeError> {
        // A declared length never reserves more than the bytes left could hold.
        let mut items = Vec::with_capacity(len.min(self.buf.len()));
        for _ in 0..len {
            items.push(self.value(depth + 1)?);
        }
        Ok(items)
    }

    fn map(&mut self, len: usize, depth: usize) -> Result<BTreeMap<String, Value>, DecodeError> {
        let mut m = BTreeMap::new();
        for _ in 0..len {
            let Value::String(k) = self.value(depth + 1)? else {
                return Err(DecodeError::MapKey);
            };
            let v = self.value(depth + 1)?;
            m.insert(k, v);
        }
        Ok(m)
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        let marker = self.byte()?;
        let low = usize::from(marker & 0x0F);
        Ok(match marker {
            0x00..=0x7F => Value::Int(i64::from(marker)),
            0xF0..=0xFF => Value::Int(i64::from(marker as i8)),
            0x80..=0x8F => Value::String(self.string(low)?),
            0x90..=0x9F => Value::List(self.list(low, depth)?),
            0xA0..=0xAF => Value::Map(self.map(low, depth)?),
            0xB0..=0xBF => {
                let tag = self.byte()?;
                Value::Struct(tag, self.list(low, depth)?)
            }
            0xC0 => Value::Null,
            0xC1 => {
                let b = self.take(8)?;
                let mut arr = [0u8; 8];
                arr.copy_from_slice(b);
                Value::Float(f64::from_be_bytes(arr))
            }
            0xC2 => Value::Bool(false),
            0xC3 => Value::Bool(true),
            0xC8 => Value::Int(self.int(1)?),
            0xC9 => Value::Int(self.int(2)?),
            0xCA => Value::Int(self.int(4)?),
            0xCB => Value::Int(self.int(8)?),
            0xCC..=0xCE => {
                let n = self.uint(1 << (marker - 0xCC))?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            0xD0..=0xD2 => {
                let n = self.uint(1 << (marker - 0xD0))?;
                Value::String(self.string(n)?)
            }
            0xD4..=0xD6 => {
                let n = self.uint(1 << (marker - 0xD4))?;
                Value::List(self.list(n, depth)?)
            }
            0xD8..=0xDA => {
                let n = self.uint(1 << (marker - 0xD8))?;
                Value::Map(self.map(n, depth)?)
            }
            other => return Err(DecodeError::Marker(other)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bytes(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        v.encode(&mut out);
        out
    }

    fn round_trip(v: Value) {
        let b = bytes(&v);
        let (back, rest) = Value::decode(&b).expect("decodes");
        assert_eq!(back, v);
        assert!(rest.is_empty());
    }

    #[test]
    fn encodes_as_the_specification_shows() {
        // Examples of the PackStream specification.
        assert_eq!(bytes(&Value::Int(1)), [0x01]);
        assert_eq!(bytes(&Value::Int(-16)), [0xF0]);
        assert_eq!(bytes(&Value::Int(-17)), [0xC8, 0xEF]);
        assert_eq!(bytes(&Value::Int(128)), [0xC9, 0x00, 0x80]);
        assert_eq!(bytes(&Value::Int(32768)), [0xCA, 0x00, 0x00, 0x80, 0x00]);
        assert_eq!(
            bytes(&Value::Int(2_147_483_648)),
            [0xCB, 0, 0, 0, 0, 0x80, 0, 0, 0]
        );
        assert_eq!(bytes(&Value::string("A")), [0x81, 0x41]);
        assert_eq!(bytes(&Value::Null), [0xC0]);
        assert_eq!(
            bytes(&Value::Float(1.1)),
            [0xC1, 0x3F, 0xF1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A]
        );
        assert_eq!(
            bytes(&Value::map([("one", Value::Int(1))])),
            [0xA1, 0x83, 0x6F, 0x6E, 0x65, 0x01]
        );
        assert_eq!(
            bytes(&Value::Struct(0x70, vec![Value::map([])])),
            [0xB1, 0x70, 0xA0]
        );
        let long = "x".repeat(300);
        assert_eq!(
            &bytes(&Value::string(long.clone()))[..3],
            [0xD1, 0x01, 0x2C]
        );
    }

    #[test]
    fn values_round_trip() {
        for v in [
            Value::Null,
            Value::Bool(true),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Int(-129),
            Value::Float(-0.5),
            Value::Bytes(vec![0, 1, 255]),
            Value::string("ünïcødé 'quotes' `ticks` $param ;\n"),
            Value::List((0..20).map(Value::Int).collect()),
            Value::map([
                ("a", Value::List(vec![])),
                ("b", Value::Struct(0x4E, vec![Value::Int(1)])),
            ]),
            Value::string("y".repeat(70_000)),
        ] {
            round_trip(v);
        }
    }

    #[test]
    fn json_bridges_both_ways() {
        let j = json!({"name": "orders", "n": 42, "f": 0.5, "flag": true, "list": ["a", null]});
        assert_eq!(Value::from_json(&j).to_json(), j);
        assert_eq!(
            Value::Struct(0x66, vec![Value::Int(1)]).to_json(),
            json!({"structure": 0x66, "fields": [1]})
        );
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        for bad in [
            &[0xD1, 0xFF][..],
            &[0x85, b'a'],
            &[0xA1, 0x01, 0x01],
            &[0xC7],
            &[0x81, 0xFF],
            &[0xD6, 0xFF, 0xFF, 0xFF, 0xFF],
        ] {
            assert!(Value::decode(bad).is_err(), "{bad:?}");
        }
        let deep: Vec<u8> = std::iter::repeat_n(0x91, 200).chain([0xC0]).collect();
        assert_eq!(Value::decode(&deep), Err(DecodeError::TooDeep));
    }
}
