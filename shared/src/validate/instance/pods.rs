//! How the pods roll: the upgrade strategy (checked on create as well as update). Their resource
//! requests and limits are checked by `validate::quantities`, as every kind's are.

use crate::types::UpgradeStrategySpec;
use crate::units::go_duration_seconds;
use crate::validate::shown;
use crate::verdict::Verdict;

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
