//! Helpers the rule groups of this directory share: blank and single-line checks of values that
//! reach neo4j.conf, enum checks of schema-like fields, and resource map lookups.

use std::collections::BTreeMap;
use std::fmt::Display;

use crate::types::ExternalSecretsConfig;
use crate::validate::{KeyPath, SubPath, has_control_chars, shown};
use crate::verdict::Verdict;

/// A DNS label, the first label of an OpenShift generated Route host.
pub(super) const DNS_LABEL_MAX: usize = 63;

pub(super) fn external_secrets_enabled(e: Option<&ExternalSecretsConfig>) -> bool {
    e.is_some_and(|e| e.enabled == Some(true))
}

pub(super) fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

pub(super) fn blank(s: Option<&str>) -> bool {
    s.is_none_or(is_blank)
}

/// Reports a string rendered into neo4j.conf that holds a control character.
pub(super) fn single_line(field: impl Display, value: Option<&str>, v: &mut Verdict) {
    if let Some(value) = value.filter(|s| has_control_chars(s)) {
        v.error(
            "typed-conf-fields-single-line",
            field.to_string(),
            format!("{field} is {}, which holds a control character (e.g. a newline); it is written into neo4j.conf, so give it on one line", shown(value)),
        );
    }
}

pub(super) fn single_line_map(path: &str, map: Option<&BTreeMap<String, String>>, v: &mut Verdict) {
    for (k, val) in map.into_iter().flatten() {
        if has_control_chars(k) {
            v.error(
                "typed-conf-fields-single-line",
                path,
                format!("{path} has the key {}, which holds a control character; it is written into neo4j.conf, so give it on one line", shown(k)),
            );
        }
        single_line(KeyPath(path, k), Some(val), v);
    }
}

/// [`single_line`] for each `(field, value)`, the field under `base`.
pub(super) fn single_lines(base: &str, fields: &[(&str, Option<&str>)], v: &mut Verdict) {
    for (field, value) in fields {
        single_line(SubPath(base, field), *value, v);
    }
}

pub(super) const MCP_LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];
pub(super) const SERVICE_TYPES: [&str; 3] = ["ClusterIP", "NodePort", "LoadBalancer"];
pub(super) const TRAFFIC_POLICIES: [&str; 2] = ["Cluster", "Local"];

/// Reports `value` when it is set and not one of `allowed` (a schema enum).
pub(super) fn enum_check(
    rule: &'static str,
    field: impl Display,
    value: Option<&str>,
    allowed: &[&str],
    v: &mut Verdict,
) {
    if let Some(value) = value
        && !allowed.contains(&value)
    {
        v.error(
            rule,
            field.to_string(),
            format!(
                "{field} is {}; use one of {}",
                shown(value),
                allowed.join(", ")
            ),
        );
    }
}

/// The enums of a Service block at `path`: `type` and `externalTrafficPolicy`.
pub(super) fn service_enums(
    rule: &'static str,
    path: &str,
    type_: Option<&str>,
    traffic_policy: Option<&str>,
    v: &mut Verdict,
) {
    enum_check(rule, SubPath(path, "type"), type_, &SERVICE_TYPES, v);
    enum_check(
        rule,
        SubPath(path, "externalTrafficPolicy"),
        traffic_policy,
        &TRAFFIC_POLICIES,
        v,
    );
}
