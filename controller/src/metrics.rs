//! The controller's Prometheus metrics. Names are a public interface (documented in
//! `controller/METRICS.md`); label values come from closed sets (kind names, plurals, verbs,
//! error labels, phases), so series counts stay bounded.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Reconcile durations: 1 ms to 30 s (a reconcile is a handful of API calls).
const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub kind: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WriteLabels {
    pub kind: &'static str,
    pub resource: &'static str,
    pub verb: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SkipLabels {
    pub kind: &'static str,
    pub resource: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabels {
    pub resource: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WatchLabels {
    pub watch: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    pub kind: &'static str,
    pub phase: String,
}

type HistogramFamily = Family<KindLabels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// Every metric, registered once.
pub struct Metrics {
    registry: Registry,
    pub reconciles: Family<ReconcileLabels, Counter>,
    pub reconcile_duration: HistogramFamily,
    pub api_writes: Family<WriteLabels, Counter>,
    pub apply_skipped: Family<SkipLabels, Counter>,
    pub conflicts: Family<ResourceLabels, Counter>,
    pub objects: Family<PhaseLabels, Gauge>,
    pub leader: Gauge,
    pub fenced: Counter,
    pub watch_errors: Family<WatchLabels, Counter>,
    pub watch_healthy: Family<WatchLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("neo4j_controller");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles by kind and result (ok or an error label)",
            reconciles.clone(),
        );
        let reconcile_duration: HistogramFamily = Family::new_with_constructor(duration_histogram);
        registry.register(
            "reconcile_duration_seconds",
            "Duration of one reconcile",
            reconcile_duration.clone(),
        );
        let api_writes = Family::<WriteLabels, Counter>::default();
        registry.register(
            "api_writes",
            "Write requests sent to the API server, by owner kind, resource and verb",
            api_writes.clone(),
        );
        let apply_skipped = Family::<SkipLabels, Counter>::default();
        registry.register(
            "apply_skipped",
            "Applies skipped because the live child already holds the desired hash and, in every field the controller owns, the desired content",
            apply_skipped.clone(),
        );
        let conflicts = Family::<ResourceLabels, Counter>::default();
        registry.register(
            "conflicts",
            "HTTP 409 answers to the controller's writes (expected to stay 0)",
            conflicts.clone(),
        );
        let objects = Family::<PhaseLabels, Gauge>::default();
        registry.register(
            "objects",
            "Custom resources in the cache, by kind and status phase",
            objects.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica holds the lease and runs the controllers",
            leader.clone(),
        );
        let fenced = Counter::default();
        registry.register(
            "fenced_writes",
            "Write requests refused before sending because this replica did not hold the lease with margin",
            fenced.clone(),
        );
        let watch_errors = Family::<WatchLabels, Counter>::default();
        registry.register(
            "watch_errors",
            "Errors of each watch (one per watched kind); each is retried within 2 s",
            watch_errors.clone(),
        );
        let watch_healthy = Family::<WatchLabels, Gauge>::default();
        registry.register(
            "watch_healthy",
            "1 while the watch of a kind has its initial list and is not failing",
            watch_healthy.clone(),
        );
        Metrics {
            leader,
            fenced,
            watch_errors,
            watch_healthy,
            registry,
            reconciles,
            reconcile_duration,
            api_writes,
            apply_skipped,
            conflicts,
            objects,
        }
    }

    /// Creates, at 0, every series `kind` can produce: one per reconcile result, per
    /// `(resource, verb)` it writes, per child resource it can skip, and per written resource's
    /// conflicts. `increase()` over a series that appears with its first event misses that
    /// event, so every counter is exported from start-up.
    pub fn init_kind(
        &self,
        kind: &'static str,
        results: &[&'static str],
        writes: &[(&'static str, &'static str)],
        skippable: &[&'static str],
    ) {
        for result in results {
            let _ = self
                .reconciles
                .get_or_create(&ReconcileLabels { kind, result });
        }
        let _ = self.reconcile_duration.get_or_create(&KindLabels { kind });
        for (resource, verb) in writes {
            let _ = self.api_writes.get_or_create(&WriteLabels {
                kind,
                resource,
                verb,
            });
            let _ = self.conflicts.get_or_create(&ResourceLabels { resource });
        }
        for resource in skippable {
            let _ = self
                .apply_skipped
                .get_or_create(&SkipLabels { kind, resource });
        }
        self.set_objects(kind, []);
    }

    /// The error counter of the watch `watch`, created at 0. (Its `watch_healthy` gauge
    /// appears once the watch runs, on the leader: a standby has no watch to report.)
    pub fn watch_error_counter(&self, watch: &str) -> Counter {
        let labels = WatchLabels {
            watch: watch.to_string(),
        };
        self.watch_errors.get_or_create(&labels).clone()
    }

    pub fn set_watch_healthy(&self, watch: &str, healthy: bool) {
        self.watch_healthy
            .get_or_create(&WatchLabels {
                watch: watch.to_string(),
            })
            .set(i64::from(healthy));
    }

    pub fn reconciled(&self, kind: &'static str, result: &'static str, took: Duration) {
        self.reconciles
            .get_or_create(&ReconcileLabels { kind, result })
            .inc();
        self.reconcile_duration
            .get_or_create(&KindLabels { kind })
            .observe(took.as_secs_f64());
    }

    pub fn wrote(&self, kind: &'static str, resource: &'static str, verb: &'static str) {
        self.api_writes
            .get_or_create(&WriteLabels {
                kind,
                resource,
                verb,
            })
            .inc();
    }

    pub fn skipped(&self, kind: &'static str, resource: &'static str) {
        self.apply_skipped
            .get_or_create(&SkipLabels { kind, resource })
            .inc();
    }

    pub fn conflict(&self, resource: &'static str) {
        self.conflicts
            .get_or_create(&ResourceLabels { resource })
            .inc();
    }

    /// Replaces the per-phase object counts of `kind`.
    pub fn set_objects(&self, kind: &'static str, counts: impl IntoIterator<Item = (String, i64)>) {
        let counts: Vec<(String, i64)> = counts.into_iter().collect();
        // Phases that disappeared drop to 0 rather than vanish, so dashboards see the change.
        for phase in self.known_phases(kind) {
            if !counts.iter().any(|(p, _)| *p == phase) {
                self.objects
                    .get_or_create(&PhaseLabels { kind, phase })
                    .set(0);
            }
        }
        for (phase, n) in counts {
            self.objects
                .get_or_create(&PhaseLabels { kind, phase })
                .set(n);
        }
    }

    /// The phases the shared status functions produce for `kind`, plus `Unknown` (no status
    /// yet).
    fn known_phases(&self, kind: &'static str) -> Vec<String> {
        use neo4j_shared::status::Phase;
        use neo4j_shared::status::database::DatabasePhase;
        use neo4j_shared::status::plugin::PluginPhase;
        use neo4j_shared::status_backup::OpPhase;
        use neo4j_shared::types::Kind;
        let phases: Vec<&str> = match Kind::from_name(kind) {
            Some(Kind::Backup | Kind::Restore) => OpPhase::ALL.iter().map(|p| p.as_str()).collect(),
            Some(Kind::Database) => DatabasePhase::ALL.iter().map(|p| p.as_str()).collect(),
            Some(Kind::Plugin) => PluginPhase::ALL.iter().map(|p| p.as_str()).collect(),
            _ => Phase::ALL.iter().map(|p| p.as_str()).collect(),
        };
        phases
            .into_iter()
            .chain(["Unknown"])
            .map(str::to_string)
            .collect()
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_the_documented_names() {
        let m = Metrics::new();
        m.reconciled("Neo4jEnterpriseCluster", "ok", Duration::from_millis(3));
        m.wrote("Neo4jEnterpriseCluster", "statefulsets", "apply");
        m.skipped("Neo4jEnterpriseCluster", "services");
        m.conflict("statefulsets");
        m.set_objects("Neo4jEnterpriseCluster", [("Ready".to_string(), 2)]);
        let text = m.encode();
        for name in [
            "neo4j_controller_reconciles_total{kind=\"Neo4jEnterpriseCluster\",result=\"ok\"} 1",
            "neo4j_controller_reconcile_duration_seconds_bucket",
            "neo4j_controller_api_writes_total{kind=\"Neo4jEnterpriseCluster\",resource=\"statefulsets\",verb=\"apply\"} 1",
            "neo4j_controller_apply_skipped_total{kind=\"Neo4jEnterpriseCluster\",resource=\"services\"} 1",
            "neo4j_controller_conflicts_total{resource=\"statefulsets\"} 1",
            "neo4j_controller_objects{kind=\"Neo4jEnterpriseCluster\",phase=\"Ready\"} 2",
            "neo4j_controller_objects{kind=\"Neo4jEnterpriseCluster\",phase=\"Failed\"} 0",
            "neo4j_controller_fenced_writes_total 0",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
    }

    #[test]
    fn every_series_of_a_kind_is_exported_at_zero_before_its_first_event() {
        let m = Metrics::new();
        m.init_kind(
            "Neo4jEnterpriseStandalone",
            &["ok", "kube_error"],
            &[("statefulsets", "apply"), ("events", "create")],
            &["statefulsets"],
        );
        let _ = m.watch_error_counter("StatefulSet");
        let text = m.encode();
        for name in [
            "neo4j_controller_reconciles_total{kind=\"Neo4jEnterpriseStandalone\",result=\"kube_error\"} 0",
            "neo4j_controller_api_writes_total{kind=\"Neo4jEnterpriseStandalone\",resource=\"events\",verb=\"create\"} 0",
            "neo4j_controller_apply_skipped_total{kind=\"Neo4jEnterpriseStandalone\",resource=\"statefulsets\"} 0",
            "neo4j_controller_conflicts_total{resource=\"statefulsets\"} 0",
            "neo4j_controller_watch_errors_total{watch=\"StatefulSet\"} 0",
            "neo4j_controller_objects{kind=\"Neo4jEnterpriseStandalone\",phase=\"Ready\"} 0",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
        m.set_objects("Neo4jBackup", [("Running".to_string(), 1)]);
        let text = m.encode();
        for name in [
            "neo4j_controller_objects{kind=\"Neo4jBackup\",phase=\"Running\"} 1",
            "neo4j_controller_objects{kind=\"Neo4jBackup\",phase=\"Succeeded\"} 0",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
    }
}
