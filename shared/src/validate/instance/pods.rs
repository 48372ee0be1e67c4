//! How the pods run: resource requests and limits that are quantities and fit each other, and the
//! upgrade strategy (checked on create as well as update).

use k8s_openapi::api::core::v1 as corev1;

use super::fields::entry;
use crate::types::UpgradeStrategySpec;
use crate::units::{go_duration_seconds, quantity};
use crate::validate::{key_path, shown};
use crate::verdict::Verdict;

/// `resources-request-le-limit`, and every quantity well-formed (the reference CRD's pattern,
/// which our schema does not carry): the pod would be refused later otherwise.
pub fn resources(r: Option<&corev1::ResourceRequirements>, v: &mut Verdict) {
    let Some(r) = r else { return };
    for (section, map) in [("limits", &r.limits), ("requests", &r.requests)] {
        for (res, q) in map.iter().flatten() {
            if quantity(&q.0).is_none() {
                let field = key_path(&format!("spec.resources.{section}"), res);
                v.error(
                    "resources-quantity-format",
                    &field,
                    format!("{field} is {}, not a Kubernetes quantity; use e.g. 4Gi for memory or 500m for CPU", shown(&q.0)),
                );
            }
        }
    }
    for res in ["memory", "cpu"] {
        if let (Some(req), Some(lim)) = (
            entry(r.requests.as_ref(), res),
            entry(r.limits.as_ref(), res),
        ) && let (Some(rq), Some(lq)) = (quantity(req), quantity(lim))
            && rq > lq
        {
            let field = key_path("spec.resources.requests", res);
            v.error(
                "resources-request-le-limit",
                &field,
                format!("{field} is {}, above the limit {}; a request may not exceed its limit — lower the request or raise the limit", shown(req), shown(lim)),
            );
        }
    }
}

/// `upgrade-strategy-enum`, `upgrade-strategy-durations` and `upgrade-max-unavailable`, run on
/// create and update for both kinds (`upgrade-strategy-on-create`). They also cover
/// `crd-upgrade-strategy-enum`, which is the same condition once defaults are applied.
pub fn upgrade_strategy(u: Option<&UpgradeStrategySpec>, v: &mut Verdict) {
    let Some(u) = u else { return };
    if let Some(s) = u.strategy.as_deref().filter(|s| !s.is_empty())
        && s != "RollingUpgrade"
        && s != "Recreate"
    {
        v.error(
            "upgrade-strategy-enum",
            "spec.upgradeStrategy.strategy",
            format!(
                "spec.upgradeStrategy.strategy is {}; use RollingUpgrade or Recreate",
                shown(s)
            ),
        );
    }
    for (field, value) in [
        ("upgradeTimeout", &u.upgrade_timeout),
        ("healthCheckTimeout", &u.health_check_timeout),
        ("stabilizationTimeout", &u.stabilization_timeout),
    ] {
        if let Some(d) = value.as_deref().filter(|d| !d.is_empty())
            && go_duration_seconds(d).is_none()
        {
            let field = format!("spec.upgradeStrategy.{field}");
            v.error(
                "upgrade-strategy-durations",
                &field,
                format!(
                    "{field} is {}, not a duration; use Go syntax such as 30m or 1h30m",
                    shown(d)
                ),
            );
        }
    }
    if let Some(n) = u.max_unavailable_during_upgrade.filter(|n| *n < 0) {
        v.error(
            "upgrade-max-unavailable",
            "spec.upgradeStrategy.maxUnavailableDuringUpgrade",
            format!("spec.upgradeStrategy.maxUnavailableDuringUpgrade is {n}; use 0 or more"),
        );
    }
}
