//! Heap / page cache / OS split for a Neo4j server container (`docs/design.md`, Memory): 60 %
//! heap and 30 % page cache from 4Gi up, 50 % / 25 % below, with clamps and an OS reserve that
//! rounding never eats. Explicit user values win; the `memory-…` rules of `docs/rules.md`
//! (in `validate::memory`) check them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;

use crate::units::{human_bytes, lenient_memory_bytes, quantity_bytes};

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

/// Renders transaction memory in whole units, rounded down: `Ng` for whole GiB, else `Nm`
/// (`Nk` below a MiB), so no value carries a decimal (the reference wrote `716.8m`).
fn render_tx(bytes: u64) -> String {
    if bytes >= GI && bytes.is_multiple_of(GI) {
        format!("{}g", bytes / GI)
    } else if bytes >= MI {
        format!("{}m", bytes / MI)
    } else if bytes >= KI {
        format!("{}k", bytes / KI)
    } else {
        format!("{bytes}")
    }
}

/// The reference's transaction-memory parser: `g`/`m`/`k` suffixes (any case, fractions), or bytes.
pub(crate) fn parse_tx_base(s: &str) -> Option<u64> {
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

/// The container's memory limit in bytes, when one is set and parses.
pub fn container_limit(resources: Option<&ResourceRequirements>) -> Option<u64> {
    resources
        .and_then(|r| r.limits.as_ref())
        .and_then(|limits| limits.get("memory"))
        .and_then(|q| quantity_bytes(&q.0))
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
            (GI, "512M", "256M", "358m", "256m"),
            (2 * GI, "1G", "512M", "716m", "256m"),
            (4 * GI, "2G", "1G", "1433m", "256m"),
            (8 * GI, "5G", "2G", "3584m", "358m"),
            (16 * GI, "10G", "5G", "7g", "716m"),
            (64 * GI, "31G", "19G", "22220m", "2222m"),
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
        assert_eq!((p.tx_total.as_str(), p.tx_max.as_str()), ("2867m", "286m"));
        assert_eq!(p.split, None);
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
