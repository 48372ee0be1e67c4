//! "Did you mean …": the documented name closest to an unknown key. Only unknown keys pay for
//! this (a few hundred names, each compared once).

/// Segments from the end that must agree for a name to count as the same setting moved to
/// another namespace (`dbms.memory.heap.max_size` → `server.memory.heap.max_size`).
const SAME_TAIL: usize = 2;

/// The closest name: the one with the same last two segments (the nearest of them, if several),
/// else the nearest within an edit distance of a tenth of the key (at least 2, at most 4).
pub(super) fn closest<'a>(key: &str, names: &'a [String]) -> Option<&'a str> {
    fn tail(s: &str) -> Option<Vec<&str>> {
        let parts: Vec<&str> = s.rsplit('.').take(SAME_TAIL).collect();
        (parts.len() == SAME_TAIL).then_some(parts)
    }
    let key_lower = key.to_ascii_lowercase();
    if let Some(t) = tail(&key_lower) {
        let best = names
            .iter()
            .filter(|n| tail(n).as_ref() == Some(&t))
            .min_by_key(|n| (distance(&key_lower, n, usize::MAX), n.as_str()));
        if let Some(b) = best {
            return Some(b);
        }
    }
    let limit = (key.chars().count() / 10).clamp(2, 4);
    names
        .iter()
        .filter_map(|n| {
            let d = distance(&key_lower, n, limit);
            (d <= limit).then_some((d, n))
        })
        .min()
        .map(|(_, n)| n.as_str())
}

/// Levenshtein distance of `a` and `b`, or something above `limit` as soon as it must exceed
/// it.
fn distance(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return limit.saturating_add(1);
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > limit {
            return limit.saturating_add(1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        [
            "server.memory.heap.max_size",
            "server.memory.heap.initial_size",
            "server.memory.pagecache.size",
            "db.transaction.timeout",
            "db.logs.query.enabled",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn distances() {
        assert_eq!(distance("kitten", "sitting", 10), 3);
        assert_eq!(distance("", "abc", 10), 3);
        assert!(distance("abcdefgh", "zzzzzzzz", 2) > 2);
    }

    #[test]
    fn typos_and_moved_namespaces_are_suggested() {
        let n = names();
        assert_eq!(
            closest("server.memory.heap.maxsize", &n),
            Some("server.memory.heap.max_size")
        );
        assert_eq!(
            closest("dbms.memory.heap.max_size", &n),
            Some("server.memory.heap.max_size")
        );
        assert_eq!(
            closest("dbms.logs.query.enabled", &n),
            Some("db.logs.query.enabled")
        );
        assert_eq!(
            closest("DB.Transaction.Timeout", &n),
            Some("db.transaction.timeout")
        );
        assert_eq!(closest("gds.enterprise.license_file", &n), None);
        assert_eq!(closest("x", &n), None);
    }
}
