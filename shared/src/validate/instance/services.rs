//! The client Service and its Route, and monitoring: schema enums the API server would otherwise
//! check, and the monitoring strings written into neo4j.conf.

use std::sync::LazyLock;

use regex::Regex;

use super::fields::{enum_check, service_enums, single_lines};
use crate::types::{MonitoringSpec, ServiceSpec};
use crate::validate::{regex, shown};
use crate::verdict::Verdict;

static SAMPLING_RATE: LazyLock<Regex> = LazyLock::new(|| regex(r"^(0(\.\d+)?|1(\.0+)?)$"));

/// `crd-service-enums`: the enums of the client Service and its Route.
pub fn service(s: Option<&ServiceSpec>, v: &mut Verdict) {
    let Some(s) = s else { return };
    let rule = "crd-service-enums";
    service_enums(
        rule,
        "spec.service",
        s.type_.as_deref(),
        s.external_traffic_policy.as_deref(),
        v,
    );
    if let Some(t) = s.route.as_ref().and_then(|r| r.tls.as_ref()) {
        enum_check(
            rule,
            "spec.service.route.tls.termination",
            t.termination.as_deref(),
            &["edge", "reencrypt", "passthrough"],
            v,
        );
        enum_check(
            rule,
            "spec.service.route.tls.insecureEdgeTerminationPolicy",
            t.insecure_edge_termination_policy.as_deref(),
            &["None", "Allow", "Redirect"],
            v,
        );
    }
}

/// `crd-monitoring` and the monitoring strings rendered into neo4j.conf.
pub fn monitoring(m: Option<&MonitoringSpec>, v: &mut Verdict) {
    let Some(m) = m else { return };
    enum_check(
        "crd-monitoring",
        "spec.monitoring.queryLogLevel",
        m.query_log_level.as_deref(),
        &["OFF", "INFO", "VERBOSE"],
        v,
    );
    if let Some(rate) = m.sampling.as_ref().and_then(|s| s.rate.as_deref())
        && !SAMPLING_RATE.is_match(rate)
    {
        v.error(
            "crd-monitoring",
            "spec.monitoring.sampling.rate",
            format!(
                "spec.monitoring.sampling.rate is {}; give a decimal from 0 to 1, e.g. 0.5",
                shown(rate)
            ),
        );
    }
    single_lines(
        "spec.monitoring",
        &[
            ("slowQueryThreshold", m.slow_query_threshold.as_deref()),
            ("metricsFilter", m.metrics_filter.as_deref()),
            ("metricsPrefix", m.metrics_prefix.as_deref()),
        ],
        v,
    );
}
