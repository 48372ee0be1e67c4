//! Setting value types of the catalogue and the check of a value against one: the syntax
//! Neo4j's own parsers accept (`SettingValueParsers` of Neo4j 5.26: trimmed input, enums and
//! booleans in any case, lists split at commas) and the ranges and enum values the catalogue
//! records. `make neo4j-check` holds these answers to Neo4j's parser on a corpus of values
//! (`render-confs` writes it, `tests/neo4j` parses every row with Neo4j 5.26).
//!
//! A kind whose syntax Neo4j does not restrict (free strings, paths, JVM arguments) or that is
//! too rich to mirror safely (URIs, maps, time zones) only has its documented constraints
//! checked, if any: a value is refused only when Neo4j would certainly refuse it too.

use regex::Regex;
use serde_json::Value;

use crate::units::neo4j_bytes;

/// The type of a setting, with the constraints the catalogue records.
#[derive(Debug, Clone)]
pub enum ValueType {
    Boolean,
    /// `integer` (32-bit) or `long` (64-bit).
    Integer {
        bits: u32,
        min: Option<i64>,
        max: Option<i64>,
    },
    Double {
        min: Option<f64>,
        max: Option<f64>,
    },
    /// Milliseconds; `or` is a value allowed below `min` (typically 0 = off).
    Duration {
        min: Option<u64>,
        max: Option<u64>,
        or: Option<u64>,
    },
    Bytes {
        min: Option<u64>,
        max: Option<u64>,
        or: Option<u64>,
        power_of_two: bool,
    },
    Enum(Vec<String>),
    List(Box<ValueType>),
    SocketAddress,
    /// A free string; `pattern` when the catalogue gives one.
    String {
        pattern: Option<Regex>,
        non_empty: bool,
    },
    /// Kinds checked for nothing but what every value needs (one line, no control characters,
    /// which other rules own): paths, URIs, maps, JVM arguments, time zones, host names,
    /// database names, duration ranges, file permissions.
    Unchecked(&'static str),
}

impl ValueType {
    /// The type described by a catalogue `type` object.
    pub(crate) fn from_json(t: &Value) -> ValueType {
        let s = |k: &str| t.get(k).and_then(Value::as_str);
        let kind = s("kind").unwrap_or("string");
        match kind {
            "boolean" => ValueType::Boolean,
            "integer" | "long" => ValueType::Integer {
                bits: if kind == "integer" { 32 } else { 64 },
                min: s("min").and_then(|v| v.parse().ok()),
                max: s("max").and_then(|v| v.parse().ok()),
            },
            "double" => ValueType::Double {
                min: s("min").and_then(|v| v.parse().ok()),
                max: s("max").and_then(|v| v.parse().ok()),
            },
            "duration" => ValueType::Duration {
                min: s("min").and_then(duration_millis),
                max: s("max").and_then(duration_millis),
                or: s("or").and_then(duration_millis),
            },
            "bytes" => ValueType::Bytes {
                min: s("min").and_then(neo4j_bytes),
                max: s("max").and_then(neo4j_bytes),
                or: s("or").and_then(neo4j_bytes),
                power_of_two: t.get("power_of_two").and_then(Value::as_bool) == Some(true),
            },
            "enum" => ValueType::Enum(
                t.get("values")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            ),
            "list" => ValueType::List(Box::new(
                t.get("element")
                    .map_or(ValueType::Unchecked("string"), ValueType::from_json),
            )),
            "socket_address" => ValueType::SocketAddress,
            "string" => ValueType::String {
                // The catalogue's patterns are whole-value Java regexes.
                pattern: s("pattern").and_then(|p| Regex::new(&format!("^(?:{p})$")).ok()),
                non_empty: t.get("non_empty").and_then(Value::as_bool) == Some(true),
            },
            "path" => ValueType::Unchecked("path"),
            "uri" => ValueType::Unchecked("uri"),
            "map" => ValueType::Unchecked("map"),
            "jvm_arguments" => ValueType::Unchecked("JVM arguments"),
            "timezone" => ValueType::Unchecked("time zone"),
            "hostname" => ValueType::Unchecked("host name"),
            "database_name" => ValueType::Unchecked("database name"),
            "duration_range" => ValueType::Unchecked("duration range"),
            "file_permissions" => ValueType::Unchecked("file permissions"),
            _ => ValueType::Unchecked("value"),
        }
    }

    /// What a value of this type looks like, for messages.
    pub fn describe(&self) -> String {
        match self {
            ValueType::Boolean => "true or false".into(),
            ValueType::Integer { bits: 32, .. } => "an integer".into(),
            ValueType::Integer { .. } => "a long integer".into(),
            ValueType::Double { .. } => "a decimal number".into(),
            ValueType::Duration { .. } => {
                "a duration such as 500ms, 30s, 5m, 1h30m or 2d (no unit: seconds)".into()
            }
            ValueType::Bytes { .. } => {
                "a byte size such as 512m, 4g or 1GiB (Neo4j units, not Kubernetes' Gi/Mi)".into()
            }
            ValueType::Enum(values) => format!("one of {}", values.join(", ")),
            ValueType::List(element) => format!("a comma-separated list of {}", element.describe()),
            ValueType::SocketAddress => "a socket address host:port, host or :port".into(),
            ValueType::String { .. } => "a string".into(),
            ValueType::Unchecked(what) => format!("a {what}"),
        }
    }

    /// Why `value` is not a valid value of this type, or `None` when it is (or cannot be
    /// judged).
    pub fn check(&self, value: &str) -> Option<String> {
        let v = value.trim();
        match self {
            ValueType::Boolean => (!v.eq_ignore_ascii_case("true")
                && !v.eq_ignore_ascii_case("false"))
            .then(|| format!("is not {}", self.describe())),
            ValueType::Integer { bits, min, max } => {
                let parsed = if *bits == 32 {
                    v.parse::<i32>().ok().map(i64::from)
                } else {
                    v.parse::<i64>().ok()
                };
                let Some(n) = parsed else {
                    return Some(format!("is not {}", self.describe()));
                };
                range(n, *min, *max, |b| b.to_string())
            }
            ValueType::Double { min, max } => {
                // Java's Double.parseDouble; Rust's f64 grammar is close enough for numbers
                // (both refuse text that is not a number).
                let Some(n) = v.parse::<f64>().ok().filter(|n| !n.is_nan()) else {
                    return Some(format!("is not {}", self.describe()));
                };
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    return Some(format!(
                        "is out of range ({}..{})",
                        min.map_or("".into(), |m| m.to_string()),
                        max.map_or("".into(), |m| m.to_string())
                    ));
                }
                None
            }
            ValueType::Duration { min, max, or } => {
                let Some(ms) = duration_millis(v) else {
                    return Some(format!("is not {}", self.describe()));
                };
                if or.is_some_and(|o| o == ms) {
                    return None;
                }
                range(ms, *min, *max, show_millis)
            }
            ValueType::Bytes {
                min,
                max,
                or,
                power_of_two,
            } => {
                let Some(b) = neo4j_bytes(v) else {
                    return Some(format!("is not {}", self.describe()));
                };
                if or.is_some_and(|o| o == b) {
                    return None;
                }
                if let Some(why) = range(b, *min, *max, crate::units::human_bytes) {
                    return Some(why);
                }
                (*power_of_two && !b.is_power_of_two()).then(|| "is not a power of two".to_string())
            }
            ValueType::Enum(values) => (!values.iter().any(|e| e.eq_ignore_ascii_case(v)))
                .then(|| format!("is not {}", self.describe())),
            ValueType::List(element) => value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .find_map(|e| {
                    element
                        .check(e)
                        .map(|why| format!("has an element {e:?} that {why}"))
                }),
            ValueType::SocketAddress => {
                (!socket_address(value)).then(|| format!("is not {}", self.describe()))
            }
            ValueType::String { pattern, non_empty } => {
                if *non_empty && v.is_empty() {
                    return Some("is empty".into());
                }
                // The pattern applies to the value as written (Neo4j does not trim strings).
                pattern
                    .as_ref()
                    .filter(|p| !p.is_match(value))
                    .map(|p| format!("does not match {}", p.as_str()))
            }
            ValueType::Unchecked(_) => None,
        }
    }
}

fn range<T: PartialOrd + Copy>(
    n: T,
    min: Option<T>,
    max: Option<T>,
    show: impl Fn(T) -> String,
) -> Option<String> {
    let below = min.is_some_and(|m| n < m);
    let above = max.is_some_and(|m| n > m);
    if !below && !above {
        return None;
    }
    Some(match (min, max) {
        (Some(lo), Some(hi)) => format!("is out of range ({} to {})", show(lo), show(hi)),
        (Some(lo), None) => format!("is below the minimum {}", show(lo)),
        (None, Some(hi)) => format!("is above the maximum {}", show(hi)),
        (None, None) => "is out of range".into(),
    })
}

fn show_millis(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Milliseconds of a Neo4j duration: one or more `<digits><unit>` parts (`1h30m`), units
/// `ns`, `μs`/`us`, `ms`, `s`, `m`, `h`, `d` in any case, or bare digits (seconds). Each number
/// must fit a Java `int`, as Neo4j parses it with `Integer.parseInt`.
pub fn duration_millis(value: &str) -> Option<u64> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<i32>().ok().map(|n| n as u64 * 1000);
    }
    let mut total: u64 = 0;
    let mut rest = v;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n = rest[..digits].parse::<i32>().ok()? as u64;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].to_lowercase();
        rest = &rest[unit_len..];
        let ms = match unit.as_str() {
            "ns" | "μs" | "us" => 0,
            "ms" => n,
            "s" => n * 1000,
            "m" => n * 60_000,
            "h" => n * 3_600_000,
            "d" => n * 86_400_000,
            _ => return None,
        };
        total = total.checked_add(ms)?;
    }
    Some(total)
}

/// A socket address as Neo4j's `SocketAddressParser` reads it (after refusing anything that
/// looks like a URI and trimming): `[host]:port`, `host:port` (the host not ending in a lone
/// colon), `:port`, or a host alone (no colon but maybe a trailing one, or two colons or more
/// as in a raw IPv6 address); no whitespace inside. A port is digits that fit a Java `int`
/// (Neo4j checks no range here).
pub fn socket_address(value: &str) -> bool {
    if value.contains("://") {
        return false;
    }
    let v = value.trim();
    let ws = |c: char| c.is_ascii_whitespace() || c == '\u{b}';
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let port = |p: &str| p.parse::<i32>().is_ok();
    if let Some(inner) = v.strip_prefix('[')
        && let Some((host, p)) = inner.rsplit_once("]:")
        && !host.is_empty()
        && !host.contains(ws)
        && digits(p)
    {
        return port(p);
    }
    if let Some((host, p)) = v.rsplit_once(':')
        && digits(p)
    {
        let host_ok = !host.is_empty()
            && !host.contains(ws)
            && (!host.ends_with(':') || host.ends_with("::"));
        if host_ok || host.is_empty() {
            return port(p);
        }
    }
    if v.is_empty() || v.contains(ws) {
        return false;
    }
    let colons = v.matches(':').count();
    match colons {
        0 => true,
        1 => v.ends_with(':') && v.len() > 1,
        _ => {
            // Up to the second colon, no '^' (a quirk of Neo4j's pattern).
            let second = v.match_indices(':').nth(1).map_or(0, |(i, _)| i);
            !v[..second].contains('^')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(v: Value) -> ValueType {
        ValueType::from_json(&v)
    }

    #[test]
    fn durations_follow_neo4j() {
        for (s, ms) in [
            ("1s", 1000),
            ("10m", 600_000),
            ("500ms", 500),
            ("1h30m", 5_400_000),
            ("1d", 86_400_000),
            ("5", 5000),
            ("1S", 1000),
            ("1M", 60_000),
            (" 3s", 3000),
            ("1us", 0),
            ("1μs", 0),
            ("0", 0),
            ("1m30s", 90_000),
        ] {
            assert_eq!(duration_millis(s), Some(ms), "{s}");
        }
        for s in [
            "1.5s",
            "2 s",
            "-1s",
            "1w",
            "PT1S",
            "1h 30m",
            "2147483648",
            "",
            "s",
        ] {
            assert_eq!(duration_millis(s), None, "{s}");
        }
    }

    #[test]
    fn socket_addresses_follow_neo4j() {
        for ok in [
            "0.0.0.0:7687",
            ":7687",
            "localhost",
            "host.example.com:6000",
            "[::1]:7687",
            "::1",
            "0.0.0.0:99999",
        ] {
            assert!(socket_address(ok), "{ok}");
        }
        for bad in ["http://x:1", "host:port", "a b:1", "", ":", "x:2147483648"] {
            assert!(!socket_address(bad), "{bad}");
        }
    }

    #[test]
    fn values_are_checked_by_kind_and_range() {
        let int = t(json!({"kind": "integer", "min": "1", "max": "11"}));
        assert_eq!(int.check("3"), None);
        assert_eq!(int.check(" 11 "), None);
        assert!(int.check("12").is_some_and(|w| w.contains("1 to 11")));
        assert!(int.check("three").is_some());
        assert!(int.check("2147483648").is_some());
        let long = t(json!({"kind": "long"}));
        assert_eq!(long.check("2147483648"), None);
        let b = t(json!({"kind": "boolean"}));
        assert_eq!(b.check("TRUE"), None);
        assert!(b.check("yes").is_some());
        let e = t(json!({"kind": "enum", "values": ["OFF", "INFO", "VERBOSE"]}));
        assert_eq!(e.check("info"), None);
        assert!(
            e.check("true")
                .is_some_and(|w| w.contains("OFF, INFO, VERBOSE"))
        );
        let bytes = t(json!({"kind": "bytes", "min": "10.00MiB", "or": "0B"}));
        assert_eq!(bytes.check("0"), None);
        assert_eq!(bytes.check("10m"), None);
        assert!(bytes.check("9m").is_some());
        assert!(bytes.check("1Gi").is_some_and(|w| w.contains("byte size")));
        let p2 = t(json!({"kind": "bytes", "power_of_two": true}));
        assert!(p2.check("3k").is_some());
        assert_eq!(p2.check("4k"), None);
        let d = t(json!({"kind": "duration", "min": "1s", "or": "0s"}));
        assert_eq!(d.check("0"), None);
        assert!(d.check("500ms").is_some_and(|w| w.contains("minimum 1s")));
        let dbl = t(json!({"kind": "double", "min": "0.0", "max": "1.0"}));
        assert_eq!(dbl.check("0.75"), None);
        assert!(dbl.check("1.5").is_some());
        let list = t(json!({"kind": "list", "element": {"kind": "socket_address"}}));
        assert_eq!(list.check("a:1, b:2,"), None);
        assert!(
            list.check("a:1,http://b:2")
                .is_some_and(|w| w.contains("http://b:2"))
        );
        let pat = t(json!({"kind": "string", "pattern": "[A-Za-z0-9-]*"}));
        assert_eq!(pat.check("uid-1"), None);
        assert!(pat.check("uid 1").is_some());
        assert_eq!(t(json!({"kind": "path"})).check("anything at all"), None);
    }
}
