//! Status of a Neo4jPlugin: a pure function of what the plugin controller observed — whether
//! the target exists and renders, whether its StatefulSet runs the render that contains the
//! plugin, and which of the plugin's requests the merge did not honour. The plugin controller
//! writes only this status; the target's controller folds the plugin in (`render/plugin.rs`).
//!
//! Phases:
//! - `Failed`: the spec fails validation;
//! - `Disabled`: `enabled: false` — nothing of it is rendered;
//! - `Conflict`: a request is not honoured (a setting another plugin or the target sets
//!   differently, a server setting, or a second plugin of the same name on the target); the
//!   `Ready` condition lists them;
//! - `Pending`: the target does not exist or does not render, or its pods do not run the
//!   render containing the plugin yet;
//! - `Applied`: the target's StatefulSet carries the render containing the plugin and every
//!   pod runs it (`installationTime` is set once, then kept).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{ConditionType, Draft, MESSAGE_MAX_CHARS, stamp, valid_condition};
use crate::text::one_line;
use crate::types::{Neo4jPlugin, Neo4jPluginStatus};
use crate::verdict::Verdict;

/// Where a plugin stands, as written to `status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginPhase {
    Pending,
    Applied,
    Conflict,
    Disabled,
    Failed,
}

impl PluginPhase {
    pub const ALL: [PluginPhase; 5] = [
        PluginPhase::Pending,
        PluginPhase::Applied,
        PluginPhase::Conflict,
        PluginPhase::Disabled,
        PluginPhase::Failed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PluginPhase::Pending => "Pending",
            PluginPhase::Applied => "Applied",
            PluginPhase::Conflict => "Conflict",
            PluginPhase::Disabled => "Disabled",
            PluginPhase::Failed => "Failed",
        }
    }
}

/// How far the target has taken the render that contains the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// No cluster or standalone of that name.
    TargetMissing,
    /// The target is not rendered (invalid spec, render error): why.
    TargetNotRendered(String),
    /// The StatefulSet does not carry the render yet, or its pods are being replaced: what is
    /// awaited.
    InProgress(String),
    /// Every pod runs the render containing the plugin.
    Running,
}

/// What the plugin controller observed of one plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginObserved {
    pub rollout: Rollout,
    /// The plugin's requests the merge did not honour, one line each.
    pub conflicts: Vec<String>,
}

/// The status of a plugin. `now` stamps conditions that change and the first
/// `installationTime`.
pub fn plugin(
    p: &Neo4jPlugin,
    observed: &PluginObserved,
    validation: &Verdict,
    previous: Option<&Neo4jPluginStatus>,
    now: Time,
) -> Neo4jPluginStatus {
    let target = p.spec.cluster_ref.as_deref().unwrap_or_default();
    let (phase, reason, message): (PluginPhase, &'static str, String) = if !validation
        .errors
        .is_empty()
    {
        (
            PluginPhase::Failed,
            "ValidationFailed",
            format!(
                "validation failed: {}",
                super::unique(&validation.error_rules()).join(", ")
            ),
        )
    } else if p.spec.enabled == Some(false) {
        (
            PluginPhase::Disabled,
            "Disabled",
            format!("enabled is false: nothing of this plugin is rendered into {target:?}"),
        )
    } else if !observed.conflicts.is_empty() {
        (
            PluginPhase::Conflict,
            "SettingConflict",
            format!("not honoured: {}", observed.conflicts.join("; ")),
        )
    } else {
        match &observed.rollout {
            Rollout::TargetMissing => (
                PluginPhase::Pending,
                "TargetNotFound",
                format!(
                    "waiting for the Neo4jEnterpriseCluster or Neo4jEnterpriseStandalone {target:?}"
                ),
            ),
            Rollout::TargetNotRendered(why) => (
                PluginPhase::Pending,
                "TargetNotRendered",
                format!("{target:?} is not rendered: {why}"),
            ),
            Rollout::InProgress(what) => (PluginPhase::Pending, "RollingOut", what.clone()),
            Rollout::Running => (
                PluginPhase::Applied,
                "Applied",
                format!("every server of {target:?} runs the configuration with this plugin"),
            ),
        }
    };
    let generation = p.metadata.generation;
    let previous_conditions = previous.and_then(|s| s.conditions.as_deref());
    let conditions = [
        Draft {
            type_: ConditionType::Ready,
            status: phase == PluginPhase::Applied,
            reason,
            message: message.clone(),
        },
        valid_condition(validation),
    ]
    .into_iter()
    .map(|c| stamp(c, generation, previous_conditions, &now))
    .collect();
    let installation_time = previous
        .and_then(|s| s.installation_time.clone())
        .or_else(|| (phase == PluginPhase::Applied).then(|| now.clone()));
    Neo4jPluginStatus {
        conditions: Some(conditions),
        phase: Some(phase.as_str().to_string()),
        message: Some(one_line(&message, MESSAGE_MAX_CHARS)),
        observed_generation: generation,
        installation_time,
        installed_version: previous.and_then(|s| s.installed_version.clone()),
        health: previous.and_then(|s| s.health.clone()),
        usage: previous.and_then(|s| s.usage.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(enabled: bool) -> Neo4jPlugin {
        serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jPlugin",
            "metadata": {"name": "apoc", "namespace": "shop", "generation": 1},
            "spec": {"clusterRef": "graph", "name": "apoc", "version": "5.26.0", "enabled": enabled}
        }))
        .expect("plugin")
    }

    fn t(s: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(s).expect("time"))
    }

    fn obs(rollout: Rollout, conflicts: &[&str]) -> PluginObserved {
        PluginObserved {
            rollout,
            conflicts: conflicts.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn phases() {
        let ok = Verdict::default();
        for (object, o, phase) in [
            (p(true), obs(Rollout::TargetMissing, &[]), "Pending"),
            (
                p(true),
                obs(Rollout::TargetNotRendered("x".into()), &[]),
                "Pending",
            ),
            (
                p(true),
                obs(Rollout::InProgress("1/3".into()), &[]),
                "Pending",
            ),
            (p(true), obs(Rollout::Running, &[]), "Applied"),
            (p(true), obs(Rollout::Running, &["k is 1"]), "Conflict"),
            (p(false), obs(Rollout::Running, &["k is 1"]), "Disabled"),
        ] {
            let s = plugin(&object, &o, &ok, None, t(5));
            assert_eq!(s.phase.as_deref(), Some(phase), "{o:?}");
            let ready = &s.conditions.as_ref().expect("conditions")[0];
            assert_eq!(ready.status == "True", phase == "Applied");
        }
    }

    #[test]
    fn conflicts_are_listed_and_applied_time_is_kept() {
        let s = plugin(
            &p(true),
            &obs(Rollout::Running, &["a is 1", "b is 2"]),
            &Verdict::default(),
            None,
            t(5),
        );
        assert_eq!(s.message.as_deref(), Some("not honoured: a is 1; b is 2"));
        let applied = plugin(
            &p(true),
            &obs(Rollout::Running, &[]),
            &Verdict::default(),
            None,
            t(7),
        );
        assert_eq!(applied.installation_time, Some(t(7)));
        let later = plugin(
            &p(true),
            &obs(Rollout::Running, &[]),
            &Verdict::default(),
            Some(&applied),
            t(70),
        );
        assert_eq!(applied, later);
    }
}
