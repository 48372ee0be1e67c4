//! Memory rules of a cluster server: the explicit heap, page cache and transaction keys must
//! parse in Neo4j's syntax and fit together and in the container, and the container must be
//! large enough for a server. The sizing itself (what is rendered) is [`crate::memory`].

use std::collections::BTreeMap;

use crate::memory::{
    DEFAULT_LIMIT, GI, HEAP_INITIAL_KEY, HEAP_MAX_KEY, MAX_HEAP, MI, MIN_CONTAINER, MIN_HEAP,
    MIN_PAGE_CACHE, PAGECACHE_KEY, TX_MAX_KEY, TX_TOTAL_KEY, explicit_keys, os_reserve,
    parse_tx_base, plan, render_size,
};
use crate::units::{human_bytes, lenient_memory_bytes, neo4j_bytes};
use crate::verdict::Verdict;

/// Checks the memory of a cluster server (rules 64–72 and the stricter §7 memory rules).
/// `config_path` names the map the keys came from, for field paths.
pub fn check_cluster(
    limit: Option<u64>,
    servers: i64,
    config: Option<&BTreeMap<String, String>>,
    sharding: Option<&BTreeMap<String, String>>,
    v: &mut Verdict,
) {
    let limit_field = "spec.resources.limits.memory";
    let l = limit.unwrap_or(DEFAULT_LIMIT);
    let before = v.errors.len();
    let field_of = |key: &str| -> String {
        if config.is_some_and(|c| c.contains_key(key)) {
            format!("spec.config[{key}]")
        } else {
            format!("spec.propertySharding.config[{key}]")
        }
    };
    let keys = explicit_keys(config, sharding);
    for key in [HEAP_MAX_KEY, HEAP_INITIAL_KEY, PAGECACHE_KEY] {
        if keys.get(key).is_some_and(|v| v.trim().is_empty()) {
            v.error(
                "memory-key-nonempty",
                field_of(key),
                format!("{key} is empty; give a size such as 2g or remove the key"),
            );
        }
    }
    let mut parsed: BTreeMap<&str, u64> = BTreeMap::new();
    let mut unparsable = false;
    for (key, rule) in [
        (HEAP_MAX_KEY, "memory-heap-format"),
        (PAGECACHE_KEY, "memory-pagecache-format"),
        (TX_TOTAL_KEY, "memory-tx-format"),
        (HEAP_INITIAL_KEY, "memory-heap-format"),
    ] {
        let Some(raw) = keys.get(key).filter(|s| !s.trim().is_empty()) else {
            continue;
        };
        match lenient_memory_bytes(raw) {
            None => {
                v.error(
                    rule,
                    field_of(key),
                    format!("{raw:?} is not a memory size; use Neo4j syntax such as 4g or 512m"),
                );
                unparsable = true;
            }
            Some(bytes) => {
                if neo4j_bytes(raw).is_none() {
                    v.error(
                        "memory-value-neo4j-syntax",
                        field_of(key),
                        format!(
                            "{raw:?} is Kubernetes syntax, which Neo4j refuses; write it as {}",
                            render_size(bytes).to_ascii_lowercase()
                        ),
                    );
                }
                parsed.insert(key, bytes);
            }
        }
    }
    if let Some(raw) = keys.get(TX_MAX_KEY).filter(|s| !s.trim().is_empty())
        && neo4j_bytes(raw).is_none()
    {
        v.error(
            "memory-value-neo4j-syntax",
            field_of(TX_MAX_KEY),
            format!("{raw:?} is not a Neo4j memory size; use syntax such as 256m"),
        );
    }
    if !unparsable {
        let heap = parsed.get(HEAP_MAX_KEY).copied();
        let pc = parsed.get(PAGECACHE_KEY).copied();
        if let (Some(h), Some(tx)) = (heap, parsed.get(TX_TOTAL_KEY).copied())
            && tx > h
        {
            v.error("memory-tx-exceeds-heap", field_of(TX_TOTAL_KEY), format!("transaction memory ({}) cannot exceed the heap ({}); lower it or raise the heap", human_bytes(tx), human_bytes(h)));
        }
        if let (Some(init), Some(h)) = (parsed.get(HEAP_INITIAL_KEY).copied(), heap)
            && init > h
        {
            v.error("memory-heap-initial-le-max", field_of(HEAP_INITIAL_KEY), format!("initial heap ({}) is larger than the maximum heap ({}); the JVM refuses to start", human_bytes(init), human_bytes(h)));
        }
        // With an explicit heap, the page cache that runs is the explicit one or half the heap
        // (`memory::plan`); without one, sizing is automatic and always fits.
        if let Some(h) = heap {
            let page_cache = pc.unwrap_or_else(|| (h / 2).max(MIN_PAGE_CACHE) / MI * MI);
            let used = h.saturating_add(page_cache);
            let reserve = os_reserve(l);
            let shown_pc = if pc.is_some() {
                human_bytes(page_cache)
            } else {
                format!("{} (half the heap)", human_bytes(page_cache))
            };
            if used.saturating_add(reserve) > l {
                v.error("memory-exceeds-limit", field_of(HEAP_MAX_KEY),
                    format!("heap {} + page cache {shown_pc} + the {} the JVM and the OS need outside them exceed the {} container limit, so the server cannot fit; lower them or raise {limit_field}", human_bytes(h), human_bytes(reserve), human_bytes(l)));
            } else if is_thin(l, l - used) {
                v.warn("memory-headroom-thin", field_of(HEAP_MAX_KEY),
                    format!("heap {} + page cache {shown_pc} leave {} of the {} container limit for the JVM's own memory, off-heap buffers and the OS; that fits, but less than {} is thin — lower them a little or raise {limit_field}", human_bytes(h), human_bytes(l - used), human_bytes(l), human_bytes(thin_below(l))));
            }
        }
        if let Some(h) = heap.filter(|h| *h > 0 && *h < MIN_HEAP) {
            v.error(
                "memory-heap-min",
                field_of(HEAP_MAX_KEY),
                format!(
                    "heap {} is below the {} minimum",
                    human_bytes(h),
                    human_bytes(MIN_HEAP)
                ),
            );
        }
        if let Some(p) = pc.filter(|p| *p > 0 && *p < MIN_PAGE_CACHE) {
            v.error(
                "memory-pagecache-min",
                field_of(PAGECACHE_KEY),
                format!(
                    "page cache {} is below the {} minimum",
                    human_bytes(p),
                    human_bytes(MIN_PAGE_CACHE)
                ),
            );
        }
        if let Some(h) = heap.filter(|h| *h > MAX_HEAP) {
            v.warn("memory-heap-over-31g", field_of(HEAP_MAX_KEY), format!("heap {} is above 31Gi, where the JVM loses compressed pointers; prefer 31g and give the rest to the page cache", human_bytes(h)));
        }
    }
    if heap_missing_with_orphans(&keys) {
        let key = if keys.contains_key(PAGECACHE_KEY) {
            PAGECACHE_KEY
        } else {
            HEAP_INITIAL_KEY
        };
        v.warn(
            "memory-orphan-keys",
            field_of(key),
            format!("{key} is ignored unless {HEAP_MAX_KEY} is also set; sizing stays automatic"),
        );
    }
    if v.errors.len() == before {
        if l < MIN_CONTAINER {
            v.error(
                "memory-container-min",
                limit_field,
                format!(
                    "{} is below the {} a Neo4j Enterprise server needs; raise the limit",
                    human_bytes(l),
                    human_bytes(MIN_CONTAINER)
                ),
            );
        } else if servers > 3 && l < 2 * GI {
            v.error(
                "memory-cluster-size-min",
                limit_field,
                format!(
                    "{} is too little for a cluster of {servers} servers; give each at least {}",
                    human_bytes(l),
                    human_bytes(2 * GI)
                ),
            );
        } else if let Ok(p) = plan(Some(l), &keys)
            && let (Some(total), Some(per)) = (parse_tx_base(&p.tx_total), parse_tx_base(&p.tx_max))
            && per > total
        {
            v.warn("memory-tx-per-le-total", field_of(TX_MAX_KEY), format!("per-transaction memory {} exceeds the total transaction memory {}; one transaction could starve all others", p.tx_max, p.tx_total));
        }
    }
}

/// Headroom below this share of the limit is thin (it matters from 20Gi up).
const THIN_PERCENT: u64 = 5;

/// The least headroom that is not thin: twice the OS reserve (512Mi up to a 2Gi limit, 1Gi
/// above), or 5 % of the limit when that is more.
pub fn thin_below(limit: u64) -> u64 {
    (2 * os_reserve(limit)).max(limit / 100 * THIN_PERCENT)
}

/// Whether `headroom` bytes left in a container of `limit` bytes are thin ([`thin_below`]).
pub fn is_thin(limit: u64, headroom: u64) -> bool {
    headroom < thin_below(limit)
}

fn heap_missing_with_orphans(keys: &BTreeMap<&'static str, &str>) -> bool {
    !keys.contains_key(HEAP_MAX_KEY)
        && (keys.contains_key(PAGECACHE_KEY) || keys.contains_key(HEAP_INITIAL_KEY))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(limit: Option<u64>, servers: i64, cfg: &[(&str, &str)]) -> Verdict {
        let map: BTreeMap<String, String> = cfg
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut v = Verdict::default();
        check_cluster(limit, servers, Some(&map), None, &mut v);
        v
    }

    proptest::proptest! {
        /// Our own automatic split, written back as explicit settings, is admitted: whatever
        /// the limit (1Gi to 1Ti), heap + page cache + reserve fit.
        #[test]
        fn every_default_split_written_back_is_admitted(limit in GI..=(1024 * GI)) {
            let split = crate::memory::split(limit).unwrap_or_else(|e| panic!("{e}"));
            let heap = render_size(split.heap).to_ascii_lowercase();
            let pc = render_size(split.page_cache).to_ascii_lowercase();
            let v = check(Some(limit), 3, &[(HEAP_MAX_KEY, &heap), (PAGECACHE_KEY, &pc)]);
            proptest::prop_assert!(v.errors.is_empty(), "limit {limit}: {heap} + {pc}: {:?}", v.errors);
        }

        /// The plain 60/30 split of a limit is admitted wherever its 10 % remainder holds the
        /// OS reserve (from 5Gi up), with no thin-headroom warning from 20Gi up.
        #[test]
        fn the_60_30_split_is_admitted(mib in (5u64 * 1024)..=(1024 * 1024)) {
            let limit = mib * MI;
            let heap = format!("{}m", mib * 6 / 10);
            let pc = format!("{}m", mib * 3 / 10);
            let v = check(Some(limit), 3, &[(HEAP_MAX_KEY, &heap), (PAGECACHE_KEY, &pc)]);
            proptest::prop_assert!(v.errors.is_empty(), "{limit}: {:?}", v.errors);
            if limit >= 20 * GI {
                proptest::prop_assert!(
                    !v.warning_rules().contains(&"memory-headroom-thin"),
                    "{limit}: {:?}",
                    v.warnings
                );
            }
        }
    }

    #[test]
    fn memory_rules_table() {
        type MemoryCase<'a> = (Option<u64>, i64, &'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: &[MemoryCase] = &[
            (Some(8 * GI), 3, &[(HEAP_MAX_KEY, "4g")], &[]),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "lots")],
                &["memory-heap-format"],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g"), (PAGECACHE_KEY, "x")],
                &["memory-pagecache-format"],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g"), (TX_TOTAL_KEY, "x")],
                &["memory-tx-format"],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g"), (TX_TOTAL_KEY, "3g")],
                &["memory-tx-exceeds-heap"],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "6g"), (PAGECACHE_KEY, "2g")],
                &["memory-exceeds-limit"],
            ),
            // 5g + 2g + the 512Mi reserve fit in 8Gi: admitted, 1Gi left.
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "5g"), (PAGECACHE_KEY, "2g")],
                &[],
            ),
            // Half the heap is the page cache when none is given: 6g + 3g do not fit in 8Gi.
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "6g")],
                &["memory-exceeds-limit"],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "5g"), (PAGECACHE_KEY, "2560m")],
                &["memory-headroom-thin"],
            ),
            (
                Some(5 * GI),
                3,
                &[(HEAP_MAX_KEY, "3g"), (PAGECACHE_KEY, "1536m")],
                &["memory-headroom-thin"],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "4g"), (PAGECACHE_KEY, "2g")],
                &[],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "200m")],
                &["memory-heap-min"],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g"), (PAGECACHE_KEY, "100m")],
                &["memory-pagecache-min"],
            ),
            (Some(512 * MI), 3, &[], &["memory-container-min"]),
            (Some(GI), 4, &[], &["memory-cluster-size-min"]),
            (Some(GI), 3, &[], &[]),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "4Gi")],
                &["memory-value-neo4j-syntax"],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g"), (HEAP_INITIAL_KEY, "3g")],
                &["memory-heap-initial-le-max"],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "")],
                &["memory-key-nonempty"],
            ),
            (None, 3, &[(HEAP_MAX_KEY, "8g")], &["memory-exceeds-limit"]),
            (
                Some(8 * GI),
                3,
                &[(PAGECACHE_KEY, "1g")],
                &["memory-orphan-keys"],
            ),
            (
                Some(64 * GI),
                3,
                &[(HEAP_MAX_KEY, "40g")],
                &["memory-heap-over-31g"],
            ),
            (
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "256m")],
                &["memory-tx-per-le-total"],
            ),
        ];
        for (limit, servers, cfg, want) in cases {
            let got = check(*limit, *servers, cfg).rules();
            assert_eq!(
                &got, want,
                "limit {limit:?} servers {servers} config {cfg:?}"
            );
        }
        // Near misses: each rule, just inside its bound.
        type NearMiss<'a> = (&'a str, Option<u64>, i64, &'a [(&'a str, &'a str)]);
        let near_misses: &[NearMiss] = &[
            ("memory-cluster-size-min", Some(2 * GI), 4, &[]),
            ("memory-container-min", Some(GI), 3, &[]),
            (
                "memory-exceeds-limit",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "5g"), (PAGECACHE_KEY, "2560m")],
            ),
            (
                "memory-headroom-thin",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "5g"), (PAGECACHE_KEY, "2g")],
            ),
            (
                "memory-headroom-thin",
                Some(20 * GI),
                3,
                &[(HEAP_MAX_KEY, "12g"), (PAGECACHE_KEY, "6g")],
            ),
            (
                "memory-heap-format",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "4g")],
            ),
            (
                "memory-heap-initial-le-max",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g"), (HEAP_INITIAL_KEY, "2g")],
            ),
            (
                "memory-heap-min",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "256m")],
            ),
            (
                "memory-heap-over-31g",
                Some(64 * GI),
                3,
                &[(HEAP_MAX_KEY, "31g")],
            ),
            (
                "memory-key-nonempty",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g")],
            ),
            (
                "memory-orphan-keys",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "4g"), (PAGECACHE_KEY, "1g")],
            ),
            (
                "memory-pagecache-format",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g"), (PAGECACHE_KEY, "1g")],
            ),
            (
                "memory-pagecache-min",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g"), (PAGECACHE_KEY, "128m")],
            ),
            (
                "memory-tx-exceeds-heap",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g"), (TX_TOTAL_KEY, "2g")],
            ),
            (
                "memory-tx-format",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "2g"), (TX_TOTAL_KEY, "1g")],
            ),
            (
                "memory-tx-per-le-total",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "4g")],
            ),
            (
                "memory-value-neo4j-syntax",
                Some(8 * GI),
                3,
                &[(HEAP_MAX_KEY, "4g")],
            ),
        ];
        for (rule, limit, servers, cfg) in near_misses {
            let got = check(*limit, *servers, cfg).rules();
            assert!(
                !got.contains(rule),
                "{rule} fired: limit {limit:?} servers {servers} config {cfg:?}"
            );
        }
        for rule in crate::catalog::coverage::memory() {
            assert!(
                cases.iter().any(|(_, _, _, want)| want.contains(&rule)),
                "no case where {rule} fires"
            );
            assert!(
                near_misses.iter().any(|(r, ..)| *r == rule),
                "no near miss for {rule}"
            );
        }
    }
}
