//! The webhook's Prometheus metrics. The names are a public interface (the Grafana dashboard and
//! the alert rules in `manifests/` use them, `webhook/METRICS.md` documents them): never rename
//! one. Every label value is a `&'static str` from a closed set (rule ids, kind names, reasons),
//! so a hostile request cannot grow the series count.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Buckets of the latency histogram: 50 µs to 1 s. The target is p99 ≤ 1 ms, so the buckets are
/// dense below a few milliseconds; the upper ones only show that something is badly wrong.
const DURATION_BUCKETS: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0,
];

/// The kind label of a review whose kind is not one of ours.
pub const KIND_UNKNOWN: &str = "unknown";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub webhook: &'static str,
    pub kind: &'static str,
    pub operation: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    pub webhook: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    pub kind: &'static str,
    pub rule: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

type HistogramFamily = Family<WebhookLabels, Histogram, fn() -> Histogram>;

/// Every metric of the webhook, registered once in [`Metrics::new`].
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub duration: HistogramFamily,
    pub warnings: Family<RuleLabels, Counter>,
    pub denials: Family<RuleLabels, Counter>,
    pub patches: Family<KindLabels, Counter>,
    pub bad_requests: Family<ReasonLabels, Counter>,
    pub panics: Counter,
    pub certificate_expiry: Gauge,
    pub certificate_reloads: Family<ResultLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let duration: HistogramFamily = Family::new_with_constructor(duration_histogram);
        let warnings = Family::<RuleLabels, Counter>::default();
        let denials = Family::<RuleLabels, Counter>::default();
        let patches = Family::<KindLabels, Counter>::default();
        let bad_requests = Family::<ReasonLabels, Counter>::default();
        let panics = Counter::default();
        let certificate_expiry = Gauge::default();
        let certificate_reloads = Family::<ResultLabels, Counter>::default();
        // prometheus-client appends `_total` to counter names itself.
        registry.register(
            "neo4j_admission_requests",
            "Admission reviews answered, by webhook, kind, operation and result (allowed, denied, or error: the object could not be decoded)",
            requests.clone(),
        );
        registry.register(
            "neo4j_admission_request_duration_seconds",
            "Time from the request reaching the handler to the response being encoded, by webhook",
            duration.clone(),
        );
        registry.register(
            "neo4j_admission_warnings",
            "Warnings attached to admission responses, by kind and rule id",
            warnings.clone(),
        );
        registry.register(
            "neo4j_admission_denials",
            "Violated rules of denied reviews, by kind and rule id",
            denials.clone(),
        );
        registry.register(
            "neo4j_admission_patches",
            "Mutating responses that carried a non-empty JSON patch, by kind",
            patches.clone(),
        );
        registry.register(
            "neo4j_admission_bad_requests",
            "Requests refused with a 4xx before admission (not a usable AdmissionReview), by reason",
            bad_requests.clone(),
        );
        registry.register(
            "neo4j_admission_panics",
            "Handler panics caught and answered with 500 (a bug: report it)",
            panics.clone(),
        );
        registry.register(
            "neo4j_webhook_certificate_expiry_timestamp_seconds",
            "notAfter of the serving certificate in use, as a Unix timestamp",
            certificate_expiry.clone(),
        );
        registry.register(
            "neo4j_webhook_certificate_reloads",
            "Serving certificate reloads after a change of the files, by result (success or error; on error the old pair stays)",
            certificate_reloads.clone(),
        );
        // Both results exist from the start, so an alert on `increase(...{result="error"}[1h])`
        // has a series to read before the first failure.
        for result in ["success", "error"] {
            let _ = certificate_reloads.get_or_create(&ResultLabels { result });
        }
        Metrics {
            registry,
            requests,
            duration,
            warnings,
            denials,
            patches,
            bad_requests,
            panics,
            certificate_expiry,
            certificate_reloads,
        }
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail; an error here would be a bug in the encoder.
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }

    pub fn bad_request(&self, reason: &'static str) {
        self.bad_requests
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub fn certificate_reload(&self, success: bool) {
        let result = if success { "success" } else { "error" };
        self.certificate_reloads
            .get_or_create(&ResultLabels { result })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_the_documented_names() {
        let m = Metrics::new();
        m.requests
            .get_or_create(&RequestLabels {
                webhook: "mutate",
                kind: "Neo4jBackup",
                operation: "CREATE",
                result: "allowed",
            })
            .inc();
        m.duration
            .get_or_create(&WebhookLabels { webhook: "mutate" })
            .observe(0.0002);
        m.warnings
            .get_or_create(&RuleLabels {
                kind: "Neo4jBackup",
                rule: "r",
            })
            .inc();
        m.denials
            .get_or_create(&RuleLabels {
                kind: "Neo4jBackup",
                rule: "r",
            })
            .inc();
        m.patches
            .get_or_create(&KindLabels {
                kind: "Neo4jBackup",
            })
            .inc();
        m.bad_request("not-json");
        m.certificate_reload(false);
        m.certificate_expiry.set(1_900_000_000);
        let text = m.encode();
        for name in [
            "neo4j_admission_requests_total{",
            "neo4j_admission_request_duration_seconds_bucket{",
            "neo4j_admission_warnings_total{",
            "neo4j_admission_denials_total{",
            "neo4j_admission_patches_total{",
            "neo4j_admission_bad_requests_total{reason=\"not-json\"} 1",
            "neo4j_admission_panics_total 0",
            "neo4j_webhook_certificate_expiry_timestamp_seconds 1900000000",
            "neo4j_webhook_certificate_reloads_total{result=\"error\"} 1",
            "neo4j_webhook_certificate_reloads_total{result=\"success\"} 0",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
        assert!(
            text.contains("le=\"5e-5\"") || text.contains("le=\"0.00005\""),
            "50 µs bucket missing:\n{text}"
        );
    }
}
