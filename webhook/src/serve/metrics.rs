//! The webhook's Prometheus metrics. The names are a public interface (the Grafana dashboard and
//! the alert rules in `manifests/` use them, `webhook/METRICS.md` documents them): never rename
//! one. Every label value is a `&'static str` from a closed set (rule ids, kind names, reasons),
//! so a hostile request cannot grow the series count.

use std::sync::OnceLock;

use neo4j_shared::types::{Kind, Operation};
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

/// Why the server refused a request with 503 (the `reason` label of
/// `neo4j_admission_overload_total`).
pub const OVERLOAD_REASONS: [&str; 2] = ["in-flight-limit", "body-budget"];
/// Why a connection was closed by the server or never served (the `reason` label of
/// `neo4j_webhook_connections_dropped_total`).
pub const DROP_REASONS: [&str; 5] = [
    "idle-timeout",
    "evicted-idle",
    "over-limit",
    "handshake",
    "accept-error",
];

/// The two webhooks, the six kinds plus unknown, four operations, three results.
const REQUEST_SLOTS: usize = 2 * 7 * 4 * 3;

/// Every metric of the webhook, registered once in [`Metrics::new`].
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    /// Counters of `requests`, looked up once per label set instead of on every request.
    request_slots: Box<[OnceLock<Counter>]>,
    /// Whole request: body read, decode, engine, encode.
    pub duration: ByWebhook,
    /// From the body read in full to the answer encoded: what the webhook itself spends.
    pub decision: ByWebhook,
    pub overload: Family<ReasonLabels, Counter>,
    pub in_flight: Gauge,
    pub body_bytes_in_flight: Gauge,
    pub connections: Gauge,
    pub connections_dropped: Family<ReasonLabels, Counter>,
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

/// A histogram family labelled by `webhook`, with the series of the two webhooks looked up once
/// instead of on every request.
pub struct ByWebhook {
    family: HistogramFamily,
    mutate: Histogram,
    validate: Histogram,
}

impl ByWebhook {
    fn new() -> Self {
        let family: HistogramFamily = Family::new_with_constructor(duration_histogram);
        let mutate = family
            .get_or_create(&WebhookLabels { webhook: "mutate" })
            .clone();
        let validate = family
            .get_or_create(&WebhookLabels {
                webhook: "validate",
            })
            .clone();
        ByWebhook {
            family,
            mutate,
            validate,
        }
    }

    /// Observes `seconds` for `webhook` (`mutate` and `validate` without a label lookup).
    pub fn observe(&self, webhook: &'static str, seconds: f64) {
        match webhook {
            "mutate" => self.mutate.observe(seconds),
            "validate" => self.validate.observe(seconds),
            other => self
                .family
                .get_or_create(&WebhookLabels { webhook: other })
                .observe(seconds),
        }
    }
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
        let duration = ByWebhook::new();
        let decision = ByWebhook::new();
        let warnings = Family::<RuleLabels, Counter>::default();
        let denials = Family::<RuleLabels, Counter>::default();
        let patches = Family::<KindLabels, Counter>::default();
        let bad_requests = Family::<ReasonLabels, Counter>::default();
        let panics = Counter::default();
        let overload = Family::<ReasonLabels, Counter>::default();
        let in_flight = Gauge::default();
        let body_bytes_in_flight = Gauge::default();
        let connections = Gauge::default();
        let connections_dropped = Family::<ReasonLabels, Counter>::default();
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
            duration.family.clone(),
        );
        registry.register(
            "neo4j_admission_decision_duration_seconds",
            "Time from the request body having arrived in full to the response being encoded (decode, engine, encode), by webhook",
            decision.family.clone(),
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
            "neo4j_admission_overload",
            "Requests answered 503 at once because the server was at a limit, by reason (in-flight-limit: --max-in-flight requests were being handled; body-budget: --max-body-bytes-in-flight of request bodies were held)",
            overload.clone(),
        );
        registry.register(
            "neo4j_admission_in_flight",
            "Admission requests being handled (body read, decode, engine, answer)",
            in_flight.clone(),
        );
        registry.register(
            "neo4j_admission_body_bytes_in_flight",
            "Bytes of request bodies held by requests in flight",
            body_bytes_in_flight.clone(),
        );
        registry.register(
            "neo4j_webhook_connections",
            "Open connections on the admission port (TLS handshakes in progress included)",
            connections.clone(),
        );
        registry.register(
            "neo4j_webhook_connections_dropped",
            "Connections the server closed or refused, by reason (idle-timeout, evicted-idle: closed to admit a new connection at --max-connections, over-limit: refused at --max-connections with none idle, handshake: TLS handshake failed or timed out, accept-error: accepting failed, e.g. out of file descriptors)",
            connections_dropped.clone(),
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
        for reason in OVERLOAD_REASONS {
            let _ = overload.get_or_create(&ReasonLabels { reason });
        }
        for reason in DROP_REASONS {
            let _ = connections_dropped.get_or_create(&ReasonLabels { reason });
        }
        Metrics {
            registry,
            requests,
            request_slots: (0..REQUEST_SLOTS).map(|_| OnceLock::new()).collect(),
            duration,
            decision,
            overload,
            in_flight,
            body_bytes_in_flight,
            connections,
            connections_dropped,
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

    /// Counts an answered review (`kind` `None`: a kind this webhook does not serve).
    pub fn count_request(
        &self,
        webhook: &'static str,
        kind: Option<Kind>,
        operation: Operation,
        result: &'static str,
    ) {
        let w = usize::from(webhook == "validate");
        let k = kind.map_or(6, |k| k as usize);
        let o = operation as usize;
        let r = match result {
            "allowed" => 0,
            "denied" => 1,
            _ => 2,
        };
        let slot = ((w * 7 + k) * 4 + o) * 3 + r;
        let labels = RequestLabels {
            webhook,
            kind: kind.map_or(KIND_UNKNOWN, Kind::name),
            operation: operation.as_str(),
            result,
        };
        match self.request_slots.get(slot) {
            Some(cell) => cell
                .get_or_init(|| self.requests.get_or_create(&labels).clone())
                .inc(),
            None => self.requests.get_or_create(&labels).inc(),
        };
    }

    pub fn overloaded(&self, reason: &'static str) {
        self.overload.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn connection_dropped(&self, reason: &'static str) {
        self.connections_dropped
            .get_or_create(&ReasonLabels { reason })
            .inc();
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
        m.duration.observe("mutate", 0.0002);
        m.decision.observe("validate", 0.0001);
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
            "neo4j_admission_decision_duration_seconds_count{webhook=\"validate\"} 1",
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
