//! Small parsers shared by the rules: Go durations, Kubernetes quantities, and the byte sizes
//! Neo4j's configuration accepts. Each returns `None` for anything it does not accept.

/// Parses a Go duration (`1.5h`, `90m`, `2160h`, bare `0`, optional sign; units
/// `ns us µs ms s m h`, no `d`) into seconds.
pub fn go_duration_seconds(s: &str) -> Option<f64> {
    let (sign, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Some(sign * total)
}

/// Parses a Kubernetes quantity (`2Gi`, `500M`, `1.5Gi`, `100m`, `1e9`) into its value (bytes
/// for memory, cores for CPU). Rejects anything the API server would not accept.
pub fn quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    if num.is_empty() || num == "." || num == "+" || num == "-" {
        return None;
    }
    let value: f64 = num.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse::<i32>().ok()?),
        _ => return None,
    };
    let v = value * scale;
    v.is_finite().then_some(v)
}

/// Memory quantity in whole bytes (truncated), `None` when not a quantity or negative.
pub fn quantity_bytes(s: &str) -> Option<u64> {
    quantity(s).filter(|v| *v >= 0.0).map(|v| v as u64)
}

/// CPU quantity in millicores, `None` when not a quantity or negative.
pub fn quantity_millicores(s: &str) -> Option<u64> {
    quantity(s)
        .filter(|v| *v >= 0.0)
        .map(|v| (v * 1000.0).round() as u64)
}

/// The reference validator's lenient memory parser (how the memory rules read a size): trim,
/// lower-case; `g`/`gi`, `m`/`mi`, `k`/`ki` are binary multiples of a decimal number; anything
/// else is a quantity.
pub fn lenient_memory_bytes(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    for (suffixes, scale) in [
        (["gi", "g"], 1u64 << 30),
        (["mi", "m"], 1 << 20),
        (["ki", "k"], 1 << 10),
    ] {
        for suf in suffixes {
            if let Some(num) = t.strip_suffix(suf) {
                let v: f64 = num.parse().ok()?;
                return (v.is_finite() && v >= 0.0).then_some((v * scale as f64) as u64);
            }
        }
    }
    quantity_bytes(&t)
}

/// Neo4j's byte-size syntax (number + case-sensitive unit: `B`, `k K kB KB kb KiB`, `m M mB MB
/// mb MiB`, `g G gB GB gb GiB`, `TB TiB`, `PB PiB`, `EB EiB`, or plain digits). Kubernetes
/// suffixes `Gi`/`Mi`/`Ki` are not Neo4j syntax.
pub fn neo4j_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    let scale: u64 = match unit.trim_start() {
        "" | "B" => 1,
        "k" | "K" | "kB" | "KB" | "kb" | "KiB" => 1 << 10,
        "m" | "M" | "mB" | "MB" | "mb" | "MiB" => 1 << 20,
        "g" | "G" | "gB" | "GB" | "gb" | "GiB" => 1 << 30,
        "TB" | "TiB" => 1 << 40,
        "PB" | "PiB" => 1 << 50,
        "EB" | "EiB" => 1 << 60,
        _ => return None,
    };
    let bytes = v * scale as f64;
    (bytes.is_finite() && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Bytes as the reference's memory messages print them: one decimal and a binary unit.
pub fn human_bytes(b: u64) -> String {
    const GI: f64 = (1u64 << 30) as f64;
    const MI: f64 = (1u64 << 20) as f64;
    const KI: f64 = 1024.0;
    let f = b as f64;
    if f >= GI {
        format!("{:.1}Gi", f / GI)
    } else if f >= MI {
        format!("{:.1}Mi", f / MI)
    } else if f >= KI {
        format!("{:.1}Ki", f / KI)
    } else {
        format!("{b}b")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        for (s, secs) in [
            ("1h", 3600.0),
            ("90m", 5400.0),
            ("1.5h", 5400.0),
            ("2160h", 7_776_000.0),
            ("0", 0.0),
            ("1h30m", 5400.0),
            ("-5s", -5.0),
            ("500ms", 0.5),
        ] {
            assert_eq!(go_duration_seconds(s), Some(secs), "{s}");
        }
        for s in ["", "1d", "h", "1", "5 m", "1.2.3s", "abc"] {
            assert_eq!(go_duration_seconds(s), None, "{s}");
        }
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity_bytes("2Gi"), Some(2 << 30));
        assert_eq!(quantity_bytes("500M"), Some(500_000_000));
        assert_eq!(quantity_bytes("1e3"), Some(1000));
        assert_eq!(quantity_millicores("500m"), Some(500));
        assert_eq!(quantity_millicores("2"), Some(2000));
        for bad in ["", "Gi", "1GB", "abc", "1.2.3Gi", "-1Gi"] {
            assert_eq!(quantity_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn lenient_memory_reads_decimal_units_as_binary() {
        assert_eq!(lenient_memory_bytes("1G"), Some(1 << 30));
        assert_eq!(lenient_memory_bytes("500m"), Some(500 << 20));
        assert_eq!(lenient_memory_bytes("4Gi"), Some(4 << 30));
        assert_eq!(lenient_memory_bytes("1.5g"), Some(3 << 29));
        assert_eq!(lenient_memory_bytes("lots"), None);
    }

    #[test]
    fn neo4j_byte_syntax() {
        assert_eq!(neo4j_bytes("4g"), Some(4 << 30));
        assert_eq!(neo4j_bytes("512M"), Some(512 << 20));
        assert_eq!(
            neo4j_bytes("1.4g"),
            Some((1.4 * (1u64 << 30) as f64) as u64)
        );
        assert_eq!(neo4j_bytes("1024"), Some(1024));
        for bad in ["4Gi", "512Mi", "", "g", "1.x"] {
            assert_eq!(neo4j_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn human_bytes_format() {
        assert_eq!(human_bytes(1 << 30), "1.0Gi");
        assert_eq!(human_bytes(256 << 20), "256.0Mi");
        assert_eq!(human_bytes(0), "0b");
    }
}
