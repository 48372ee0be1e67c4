//! Heap / page cache / OS split for a Neo4j server container (`docs/design.md`, Memory): 60 %
//! heap and 30 % page cache from 4Gi up, 50 % / 25 % below, with clamps and an OS reserve that
//! rounding never eats. Explicit user values win but are checked (the `memory-…` rules of
//! `docs/rules.md`).

use std::collections::BTreeMap;

use crate::units::{human_bytes, lenient_memory_bytes, neo4j_bytes};
use crate::verdict::Verdict;

pub const KI: u64 = 1 << 10;
pub const MI: u64 = 1 << 20;
pub const GI: u64 = 1 << 30;

/// Smallest heap Neo4j is given.
pub const MIN_HEAP: u64 = 256 * MI;
/// Above 31Gi the JVM loses compressed object pointers.
pub const MAX_HEAP: u64 = 31 * GI;
pub const MIN_PAGE_CACHE: u64 = 128 * MI;
/// Sizing assumes this limit when the container has none.
pub const DEFAULT_LIMIT: u64 = 2 * GI;
/// Smallest container limit an Enterprise server runs in.
pub const MIN_CONTAINER: u64 = GI;
/// From this limit up the 60/30 split applies.
pub const LARGE_SPLIT_THRESHOLD: u64 = 4 * GI;

pub const HEAP_MAX_KEY: &str = "server.memory.heap.max_size";
pub const HEAP_INITIAL_KEY: &str = "server.memory.heap.initial_size";
pub const PAGECACHE_KEY: &str = "server.memory.pagecache.size";
pub const TX_TOTAL_KEY: &str = "dbms.memory.transaction.total.max";
pub const TX_MAX_KEY: &str = "db.memory.transaction.max";

/// Memory kept for the OS, off-heap buffers and the JVM itself.
pub fn os_reserve(limit: u64) -> u64 {
    if limit <= 2 * GI { 256 * MI } else { 512 * MI }
}

/// An automatic split of a container limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemorySplit {
    pub limit: u64,
    /// Heap as rendered (initial = max).
    pub heap: u64,
    pub page_cache: u64,
    /// What is left for the OS: `limit − heap − page_cache`, never below [`os_reserve`].
    pub os: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryError {
    #[error("memory limit {} is below the {} an Enterprise server needs", human_bytes(*.limit), human_bytes(MIN_CONTAINER))]
    LimitTooSmall { limit: u64 },
}

/// The reference's raw split in bytes (percentages, clamps, scaling), before rendering.
fn raw_split(limit: u64) -> (f64, f64) {
    let l = limit as f64;
    let reserve = os_reserve(limit) as f64;
    if limit >= LARGE_SPLIT_THRESHOLD {
        let heap = (0.60 * l).min(MAX_HEAP as f64).max(MIN_HEAP as f64);
        let pc = (0.30 * l).max(MIN_PAGE_CACHE as f64);
        let budget = l - 512.0 * MI as f64;
        if heap + pc > budget {
            let r = budget / (heap + pc);
            return ((heap * r).trunc(), (pc * r).trunc());
        }
        return (heap.trunc(), pc.trunc());
    }
    let heap = (0.50 * l).clamp(MIN_HEAP as f64, MAX_HEAP as f64);
    let pc = (0.25 * l).max(MIN_PAGE_CACHE as f64);
    if heap + pc + reserve <= l {
        return (heap.trunc(), pc.trunc());
    }
    // Only below 1Gi; such limits are refused by [`split`], kept for the reference's shape.
    let a = l - reserve;
    let (mut heap, mut pc) = (heap, a - heap);
    if pc < MIN_PAGE_CACHE as f64 {
        heap = a - MIN_PAGE_CACHE as f64;
        pc = MIN_PAGE_CACHE as f64;
    }
    (heap.max(0.0).trunc(), pc.max(0.0).trunc())
}

/// Rounds to whole GiB/MiB/KiB the way the reference renders (nearest, ties to even).
fn round_to_unit(bytes: u64) -> (u64, &'static str) {
    let (unit, suffix) = if bytes >= GI {
        (GI, "G")
    } else if bytes >= MI {
        (MI, "M")
    } else if bytes >= KI {
        (KI, "K")
    } else {
        return (bytes, "");
    };
    let q = bytes as f64 / unit as f64;
    (q.round_ties_even() as u64 * unit, suffix)
}

/// Splits a container memory limit into heap, page cache and OS headroom.
///
/// Rendering rounds to whole GiB like the reference where that keeps the OS reserve; where
/// rounding would eat it (3Gi, 5Gi, 6Gi limits) both values are floored to MiB instead.
pub fn split(limit: u64) -> Result<MemorySplit, MemoryError> {
    if limit < MIN_CONTAINER {
        return Err(MemoryError::LimitTooSmall { limit });
    }
    let (heap_raw, pc_raw) = raw_split(limit);
    let reserve = os_reserve(limit);
    let (heap, _) = round_to_unit(heap_raw as u64);
    let (pc, _) = round_to_unit(pc_raw as u64);
    let (heap, pc) = if heap + pc + reserve <= limit {
        (heap, pc)
    } else {
        ((heap_raw as u64) / MI * MI, (pc_raw as u64) / MI * MI)
    };
    Ok(MemorySplit {
        limit,
        heap,
        page_cache: pc,
        os: limit - heap - pc,
    })
}

/// Renders bytes as a Neo4j setting: `NG` for whole GiB, `NM` for whole MiB, `NK`, else bytes.
pub fn render_size(bytes: u64) -> String {
    if bytes >= GI && bytes.is_multiple_of(GI) {
        format!("{}G", bytes / GI)
    } else if bytes >= MI && bytes.is_multiple_of(MI) {
        format!("{}M", bytes / MI)
    } else if bytes >= KI && bytes.is_multiple_of(KI) {
        format!("{}K", bytes / KI)
    } else if bytes >= MI {
        format!("{}M", bytes / MI)
    } else {
        format!("{bytes}")
    }
}

/// Renders transaction memory as the reference does: `Ng`, `N.Ng`, `Nm`, `N.Nm`, `Nk`, bytes.
fn render_tx(bytes: u64) -> String {
    let f = bytes as f64;
    if bytes >= GI {
        if bytes.is_multiple_of(GI) {
            format!("{}g", bytes / GI)
        } else {
            trim_decimal(f / GI as f64, "g")
        }
    } else if bytes >= MI {
        if bytes.is_multiple_of(MI) {
            format!("{}m", bytes / MI)
        } else {
            trim_decimal(f / MI as f64, "m")
        }
    } else if bytes >= KI {
        format!("{}k", bytes / KI)
    } else {
        format!("{bytes}")
    }
}

fn trim_decimal(v: f64, unit: &str) -> String {
    let s = format!("{v:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    format!("{s}{unit}")
}

/// The reference's transaction-memory parser: `g`/`m`/`k` suffixes (any case, fractions), or bytes.
fn parse_tx_base(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    for (suf, scale) in [("g", GI), ("m", MI), ("k", KI)] {
        if let Some(n) = t.strip_suffix(suf) {
            return n
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| (v * scale as f64) as u64);
        }
    }
    t.parse::<u64>().ok()
}

/// The memory settings written to neo4j.conf for one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryPlan {
    /// `Some` when sizing was automatic.
    pub split: Option<MemorySplit>,
    pub heap_initial: String,
    pub heap_max: String,
    pub page_cache: String,
    pub tx_total: String,
    pub tx_max: String,
}

impl MemoryPlan {
    /// The neo4j.conf keys this plan produces, sorted.
    pub fn conf_keys(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            (HEAP_INITIAL_KEY, self.heap_initial.clone()),
            (HEAP_MAX_KEY, self.heap_max.clone()),
            (PAGECACHE_KEY, self.page_cache.clone()),
            (TX_TOTAL_KEY, self.tx_total.clone()),
            (TX_MAX_KEY, self.tx_max.clone()),
        ])
    }
}

/// Merged explicit memory keys: `spec.config` wins over `spec.propertySharding.config`.
pub fn explicit_keys<'a>(
    config: Option<&'a BTreeMap<String, String>>,
    sharding: Option<&'a BTreeMap<String, String>>,
) -> BTreeMap<&'static str, &'a str> {
    let mut out = BTreeMap::new();
    for key in [
        HEAP_MAX_KEY,
        HEAP_INITIAL_KEY,
        PAGECACHE_KEY,
        TX_TOTAL_KEY,
        TX_MAX_KEY,
    ] {
        if let Some(v) = config
            .and_then(|c| c.get(key))
            .or_else(|| sharding.and_then(|c| c.get(key)))
        {
            out.insert(key, v.as_str());
        }
    }
    out
}

/// Plans the memory settings of a cluster server. `limit` is the container's memory limit in
/// bytes (`None` = no limit: sized as [`DEFAULT_LIMIT`]); `explicit` holds the user's keys.
pub fn plan(
    limit: Option<u64>,
    explicit: &BTreeMap<&'static str, &str>,
) -> Result<MemoryPlan, MemoryError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    let (split, heap_initial, heap_max, page_cache) = match explicit.get(HEAP_MAX_KEY) {
        Some(max) => {
            let initial = explicit
                .get(HEAP_INITIAL_KEY)
                .copied()
                .unwrap_or(max)
                .to_string();
            let pc = match explicit.get(PAGECACHE_KEY) {
                Some(pc) => pc.to_string(),
                None => {
                    let heap = lenient_memory_bytes(max).unwrap_or(0);
                    render_size((heap / 2).max(MIN_PAGE_CACHE) / MI * MI)
                }
            };
            (None, initial, max.to_string(), pc)
        }
        None => {
            let s = split(limit)?;
            let heap = render_size(s.heap);
            (Some(s), heap.clone(), heap, render_size(s.page_cache))
        }
    };
    let total_bytes = match explicit.get(TX_TOTAL_KEY).filter(|v| !v.is_empty()) {
        Some(v) => parse_tx_base(v),
        None => parse_tx_base(&heap_max).map(|h| (h as f64 * 0.70) as u64),
    };
    let tx_total = match explicit.get(TX_TOTAL_KEY).filter(|v| !v.is_empty()) {
        Some(v) => v.to_string(),
        None => total_bytes
            .filter(|b| *b > 0)
            .map(render_tx)
            .unwrap_or_else(|| "2g".into()),
    };
    let tx_max = match explicit.get(TX_MAX_KEY).filter(|v| !v.is_empty()) {
        Some(v) => v.to_string(),
        None => match total_bytes.filter(|b| *b > 0) {
            Some(total) => render_tx(((total as f64 * 0.10) as u64).max(256 * MI)),
            None => "256m".into(),
        },
    };
    Ok(MemoryPlan {
        split,
        heap_initial,
        heap_max,
        page_cache,
        tx_total,
        tx_max,
    })
}

/// Checks the memory of a cluster server: every `memory-…` rule of `docs/rules.md`.
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
        if heap.is_some() || pc.is_some() || parsed.contains_key(TX_TOTAL_KEY) {
            let overhead = (l / 4).max(512 * MI);
            let used = heap.unwrap_or(0).saturating_add(pc.unwrap_or(0));
            if used.saturating_add(overhead) > l {
                v.error("memory-exceeds-limit", if heap.is_some() { field_of(HEAP_MAX_KEY) } else { field_of(PAGECACHE_KEY) },
                    format!("heap + page cache ({}) plus {} system overhead exceed the {} container limit; lower them or raise {limit_field}", human_bytes(used), human_bytes(overhead), human_bytes(l)));
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

fn heap_missing_with_orphans(keys: &BTreeMap<&'static str, &str>) -> bool {
    !keys.contains_key(HEAP_MAX_KEY)
        && (keys.contains_key(PAGECACHE_KEY) || keys.contains_key(HEAP_INITIAL_KEY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rendered(limit: u64) -> (String, String, String, String) {
        let p = plan(Some(limit), &BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"));
        (p.heap_max, p.page_cache, p.tx_total, p.tx_max)
    }

    #[test]
    fn worked_examples_match_the_reference() {
        let cases = [
            (GI, "512M", "256M", "358.4m", "256m"),
            (2 * GI, "1G", "512M", "716.8m", "256m"),
            (4 * GI, "2G", "1G", "1.4g", "256m"),
            (8 * GI, "5G", "2G", "3.5g", "358.4m"),
            (16 * GI, "10G", "5G", "7g", "716.8m"),
            (64 * GI, "31G", "19G", "21.7g", "2.2g"),
        ];
        for (limit, heap, pc, total, per) in cases {
            assert_eq!(
                rendered(limit),
                (heap.into(), pc.into(), total.into(), per.into()),
                "limit {}",
                human_bytes(limit)
            );
        }
    }

    #[test]
    fn rounding_never_eats_the_os_reserve() {
        // The reference renders 3Gi → 2G/768M, 5Gi → 3G/2G, 6Gi → 4G/2G, leaving less than the reserve.
        for (limit, heap, pc) in [
            (3 * GI, "1536M", "768M"),
            (5 * GI, "3G", "1536M"),
            (6 * GI, "3686M", "1843M"),
        ] {
            let (h, p, _, _) = rendered(limit);
            assert_eq!(
                (h.as_str(), p.as_str()),
                (heap, pc),
                "limit {}",
                human_bytes(limit)
            );
            let s = split(limit).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.os >= os_reserve(limit));
        }
        assert_eq!(rendered(32 * GI).0, "19G");
        assert_eq!(rendered(128 * GI).1, "38G");
    }

    #[test]
    fn limit_below_one_gi_is_refused() {
        assert_eq!(
            split(512 * MI),
            Err(MemoryError::LimitTooSmall { limit: 512 * MI })
        );
    }

    #[test]
    fn explicit_heap_wins_and_derives_page_cache() {
        let keys = BTreeMap::from([(HEAP_MAX_KEY, "4g")]);
        let p = plan(Some(8 * GI), &keys).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (
                p.heap_initial.as_str(),
                p.heap_max.as_str(),
                p.page_cache.as_str()
            ),
            ("4g", "4g", "2G")
        );
        assert_eq!((p.tx_total.as_str(), p.tx_max.as_str()), ("2.8g", "286.7m"));
        assert_eq!(p.split, None);
    }

    fn check(limit: Option<u64>, servers: i64, cfg: &[(&str, &str)]) -> Verdict {
        let map: BTreeMap<String, String> = cfg
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut v = Verdict::default();
        check_cluster(limit, servers, Some(&map), None, &mut v);
        v
    }

    #[test]
    fn memory_rules_table() {
        type Case<'a> = (Option<u64>, i64, &'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: &[Case] = &[
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
                &[(HEAP_MAX_KEY, "5g"), (PAGECACHE_KEY, "2g")],
                &["memory-exceeds-limit"],
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
                &[(HEAP_MAX_KEY, "4g"), (PAGECACHE_KEY, "2g")],
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

    proptest! {
        #[test]
        fn split_fits_the_limit(limit in (256 * MI)..=(1024 * GI)) {
            match split(limit) {
                Err(MemoryError::LimitTooSmall { .. }) => prop_assert!(limit < MIN_CONTAINER),
                Ok(s) => {
                    prop_assert!(s.heap + s.page_cache + os_reserve(limit) <= limit);
                    prop_assert!(s.heap >= MIN_HEAP && s.heap <= MAX_HEAP);
                    prop_assert!(s.page_cache >= MIN_PAGE_CACHE);
                    prop_assert_eq!(s.heap + s.page_cache + s.os, limit);
                }
            }
        }

        #[test]
        fn larger_limits_never_get_less_heap(a in GI..(512 * GI), extra in 0u64..(GI)) {
            let (small, big) = (split(a), split(a + extra));
            if let (Ok(s), Ok(b)) = (small, big) {
                // Allow the one-GiB rounding step between the two renderings.
                prop_assert!(b.heap + GI >= s.heap);
            }
        }
    }
}
