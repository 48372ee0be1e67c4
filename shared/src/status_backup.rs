//! Status of Neo4jBackups and the vocabulary shared with restores: a pure function of the
//! Jobs the controller observed (one Job of a one-shot backup, or the CronJob's Jobs), the
//! verdict and the previous status. `now` is a parameter, conditions keep their transition
//! time while status and reason stay, and history is merged by run, so a steady backup yields
//! an identical status and costs no write.
//!
//! Phases: `Pending` (waiting for the target, or for the first scheduled run), `Running` (a
//! Job is active), `Succeeded` and `Failed` (the outcome of the newest run; for a one-shot
//! backup both are final). One condition, `Ready`: true exactly when the newest run succeeded.

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::names;
use crate::render::RenderError;
use crate::render::backup::{chain_root, scheduled};
use crate::status::{ConditionType, Draft, stamp};
use crate::text::one_line;
use crate::types::{BackupRun, BackupStats, Neo4jBackup, Neo4jBackupStatus};
use crate::verdict::Verdict;

/// Runs kept in `status.history`.
pub const HISTORY_MAX: usize = 10;
/// Longest message or failure reason kept in status.
const MESSAGE_MAX_CHARS: usize = 1000;

/// Where a backup or restore stands, as written to `status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl OpPhase {
    pub const ALL: [OpPhase; 4] = [
        OpPhase::Pending,
        OpPhase::Running,
        OpPhase::Succeeded,
        OpPhase::Failed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            OpPhase::Pending => "Pending",
            OpPhase::Running => "Running",
            OpPhase::Succeeded => "Succeeded",
            OpPhase::Failed => "Failed",
        }
    }

    pub fn parse(s: &str) -> Option<OpPhase> {
        OpPhase::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether the phase ends a one-shot operation.
    pub fn is_final(self) -> bool {
        matches!(self, OpPhase::Succeeded | OpPhase::Failed)
    }
}

/// How a Job ended, or that it has not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Active,
    Succeeded,
    /// The Job's `Failed` condition: its reason (e.g. `BackoffLimitExceeded`) and message.
    Failed {
        reason: String,
        message: String,
    },
}

/// One Job, as status needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRun {
    pub name: String,
    pub start: Option<Time>,
    /// When it succeeded or failed.
    pub end: Option<Time>,
    pub outcome: JobOutcome,
}

impl JobRun {
    /// Reads a Job's status: its `Complete` or `Failed` condition decides; anything else is
    /// still running.
    pub fn of(job: &Job) -> JobRun {
        let name = job.metadata.name.clone().unwrap_or_default();
        let status = job.status.clone().unwrap_or_default();
        let conditions = status.conditions.unwrap_or_default();
        let holds = |t: &str| {
            conditions
                .iter()
                .find(|c| c.type_ == t && c.status == "True")
        };
        let (outcome, end) = if let Some(c) = holds("Complete") {
            (
                JobOutcome::Succeeded,
                status
                    .completion_time
                    .clone()
                    .or_else(|| c.last_transition_time.clone()),
            )
        } else if let Some(c) = holds("Failed") {
            (
                JobOutcome::Failed {
                    reason: c.reason.clone().unwrap_or_default(),
                    message: c.message.clone().unwrap_or_default(),
                },
                c.last_transition_time.clone(),
            )
        } else {
            (JobOutcome::Active, None)
        };
        JobRun {
            name,
            start: status.start_time,
            end,
            outcome,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.outcome != JobOutcome::Active
    }

    /// Why it failed: the Job's reason and message, and the pod's termination message when
    /// the controller read one.
    pub fn failure(&self, detail: Option<&str>) -> Option<String> {
        let JobOutcome::Failed { reason, message } = &self.outcome else {
            return None;
        };
        let mut text = format!("Job {} failed", self.name);
        match (reason.is_empty(), message.is_empty()) {
            (false, false) => text.push_str(&format!(" ({reason}: {message})")),
            (false, true) => text.push_str(&format!(" ({reason})")),
            (true, false) => text.push_str(&format!(" ({message})")),
            (true, true) => {}
        }
        if let Some(d) = detail.map(str::trim).filter(|d| !d.is_empty()) {
            text.push_str(": ");
            text.push_str(d);
        }
        Some(one_line(&text, MESSAGE_MAX_CHARS))
    }
}

/// Seconds between two times (never negative).
fn seconds_between(start: &Time, end: &Time) -> i64 {
    (end.0.as_second() - start.0.as_second()).max(0)
}

/// A duration as Go prints it (`5s`, `1m5s`, `2h0m3s`), the reference's format.
pub fn go_duration(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// What the controller observed for a backup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackupObserved {
    /// The cluster or standalone named by `spec.instanceRef` exists.
    pub target_found: bool,
    /// The objects could not be rendered; nothing was applied.
    pub render_error: Option<RenderError>,
    /// Every Job of this backup: the one-shot Job, or those the CronJob made.
    pub runs: Vec<JobRun>,
    /// The CronJob is observed (a scheduled backup).
    pub cron_observed: bool,
    /// The termination message of the newest failed run's pod, when the controller read it.
    pub failure_detail: Option<String>,
}

/// The Jobs of a CronJob among `jobs`: those its controller owner reference names.
pub fn cronjob_runs<'a>(cron: &CronJob, jobs: impl IntoIterator<Item = &'a Job>) -> Vec<JobRun> {
    let uid = cron.metadata.uid.as_deref();
    jobs.into_iter()
        .filter(|j| {
            j.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.kind == "CronJob" && Some(o.uid.as_str()) == uid)
        })
        .map(JobRun::of)
        .collect()
}

/// The newest run first (by start time, then name), as history lists them.
fn newest_first(runs: &mut [JobRun]) {
    runs.sort_by(|a, b| {
        let key = |r: &JobRun| r.start.as_ref().map(|t| t.0.as_second());
        key(b).cmp(&key(a)).then_with(|| b.name.cmp(&a.name))
    });
}

/// The finished run whose failure still lacks the pod's termination message in `previous`
/// history: the one Job whose pods are worth reading (once).
pub fn failure_to_explain<'a>(
    runs: &'a [JobRun],
    previous: Option<&Neo4jBackupStatus>,
) -> Option<&'a JobRun> {
    let mut sorted: Vec<&JobRun> = runs.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |r: &JobRun| r.start.as_ref().map(|t| t.0.as_second());
        key(b).cmp(&key(a)).then_with(|| b.name.cmp(&a.name))
    });
    let newest = sorted.into_iter().find(|r| r.is_finished())?;
    if !matches!(newest.outcome, JobOutcome::Failed { .. }) {
        return None;
    }
    let recorded = previous
        .and_then(|p| p.history.as_ref())
        .into_iter()
        .flatten()
        .any(|h| h.run_id.as_deref() == Some(newest.name.as_str()));
    (!recorded).then_some(newest)
}

fn history_entry(run: &JobRun, chain: &str, detail: Option<&str>) -> Option<BackupRun> {
    let status = match run.outcome {
        JobOutcome::Active => return None,
        JobOutcome::Succeeded => "Succeeded",
        JobOutcome::Failed { .. } => "Failed",
    };
    let duration = match (&run.start, &run.end) {
        (Some(s), Some(e)) => Some(go_duration(seconds_between(s, e))),
        _ => None,
    };
    Some(BackupRun {
        run_id: Some(run.name.clone()),
        start_time: run.start.clone().or_else(|| run.end.clone()),
        completion_time: run.end.clone(),
        status: Some(status.into()),
        error: run.failure(detail),
        stats: duration.map(|d| BackupStats {
            duration: Some(d),
            ..Default::default()
        }),
        backups_path: Some(chain.to_string()),
        ..Default::default()
    })
}

/// Where a replica pulls the chain of a `mode: replication-source` backup from: its chain
/// directory in object storage (the same default prefix as the backup itself uses). `None`
/// for PVC storage, and for Azure when only the credentials Secret knows the account.
pub fn replication_pull_uri(b: &Neo4jBackup) -> Option<String> {
    if b.spec.mode.as_deref() != Some("replication-source") {
        return None;
    }
    let storage = b.spec.storage.as_ref()?;
    if crate::render::ops::is_pvc(storage) {
        return None;
    }
    crate::render::ops::chain_dir(storage, &chain_root(b))
        .filter(|uri| !uri.contains(crate::render::ops::AZURE_ACCOUNT_REF))
}

/// The status of a backup. `now` stamps changed conditions and anchors `nextRunTime`.
pub fn backup(
    b: &Neo4jBackup,
    observed: &BackupObserved,
    validation: &Verdict,
    previous: Option<&Neo4jBackupStatus>,
    now: Time,
) -> Neo4jBackupStatus {
    let name = b.metadata.name.clone().unwrap_or_default();
    let chain = chain_root(b);
    let schedule = scheduled(b);
    let suspended = b.spec.suspend == Some(true);
    let mut runs = observed.runs.clone();
    newest_first(&mut runs);
    let newest_finished = runs
        .iter()
        .find(|r| r.is_finished())
        .map(|r| r.name.clone());

    // History: what was recorded before, updated and extended by what is observed now.
    let mut history: Vec<BackupRun> = previous.and_then(|p| p.history.clone()).unwrap_or_default();
    for run in &runs {
        let previous_error = history
            .iter()
            .find(|h| h.run_id.as_deref() == Some(run.name.as_str()))
            .and_then(|h| h.error.clone());
        let detail = if newest_finished.as_deref() == Some(run.name.as_str()) {
            observed.failure_detail.as_deref()
        } else {
            None
        };
        let Some(mut entry) = history_entry(run, &chain, detail) else {
            continue;
        };
        // A reason read once (from a pod that may be gone now) is kept.
        if detail.is_none() && previous_error.is_some() {
            entry.error = previous_error;
        }
        history.retain(|h| h.run_id.as_deref() != Some(run.name.as_str()));
        history.push(entry);
    }
    history.sort_by(|a, b| {
        let key = |r: &BackupRun| r.start_time.as_ref().map(|t| t.0.as_second());
        key(b).cmp(&key(a)).then_with(|| b.run_id.cmp(&a.run_id))
    });
    history.truncate(HISTORY_MAX);

    let previous_phase = previous
        .and_then(|p| p.phase.as_deref())
        .and_then(OpPhase::parse);
    let one_shot_job = names::backup_job(&name);
    let current = match schedule {
        None => runs.iter().find(|r| r.name == one_shot_job),
        Some(_) => runs.first(),
    };

    let (phase, reason, message): (OpPhase, &'static str, String) = if !validation.errors.is_empty()
    {
        (
            OpPhase::Failed,
            "ValidationFailed",
            format!("validation failed: {}", validation.error_rules().join(", ")),
        )
    } else if let Some(e) = &observed.render_error {
        (OpPhase::Failed, e.reason(), e.to_string())
    } else if let Some(run) = current {
        match &run.outcome {
            JobOutcome::Active => (
                OpPhase::Running,
                "BackupRunning",
                format!("Job {} is running", run.name),
            ),
            JobOutcome::Succeeded => (
                OpPhase::Succeeded,
                "BackupSucceeded",
                format!("Job {} succeeded", run.name),
            ),
            JobOutcome::Failed { .. } => (
                OpPhase::Failed,
                "BackupFailed",
                history
                    .iter()
                    .find(|h| h.run_id.as_deref() == Some(run.name.as_str()))
                    .and_then(|h| h.error.clone())
                    .or_else(|| run.failure(None))
                    .unwrap_or_default(),
            ),
        }
    } else if schedule.is_none() && previous_phase.is_some_and(OpPhase::is_final) {
        // The one-shot Job is gone (deleted by hand): the outcome stands.
        (
            previous_phase.unwrap_or(OpPhase::Failed),
            if previous_phase == Some(OpPhase::Succeeded) {
                "BackupSucceeded"
            } else {
                "BackupFailed"
            },
            previous.and_then(|p| p.message.clone()).unwrap_or_default(),
        )
    } else if schedule.is_none() && previous_phase == Some(OpPhase::Running) {
        (
            OpPhase::Failed,
            "JobLost",
            format!(
                "Job {one_shot_job} was deleted before it finished; delete and recreate this Neo4jBackup to run it again"
            ),
        )
    } else if !observed.target_found {
        (
            OpPhase::Pending,
            "TargetNotFound",
            format!(
                "waiting for the Neo4jEnterpriseCluster or Neo4jEnterpriseStandalone {:?}",
                b.spec.instance_ref.as_deref().unwrap_or_default()
            ),
        )
    } else if schedule.is_some() && suspended {
        (
            OpPhase::Pending,
            "Suspended",
            format!(
                "the schedule of CronJob {} is suspended",
                names::backup_cronjob(&name)
            ),
        )
    } else if schedule.is_some() {
        (
            OpPhase::Pending,
            "Scheduled",
            format!(
                "CronJob {} waits for its first scheduled run",
                names::backup_cronjob(&name)
            ),
        )
    } else {
        (
            OpPhase::Pending,
            "Starting",
            format!("creating Job {one_shot_job}"),
        )
    };

    let next_run_time = match schedule {
        Some(s) if !suspended && observed.cron_observed => crate::cron::parse(s)
            .ok()
            .and_then(|parsed| parsed.next_after(now.0.as_second()))
            .and_then(|t| k8s_openapi::jiff::Timestamp::from_second(t).ok())
            .map(Time),
        _ => None,
    };
    let last_run_time = runs
        .iter()
        .find_map(|r| r.start.clone())
        .or_else(|| previous.and_then(|p| p.last_run_time.clone()));
    let newest_success = history
        .iter()
        .find(|h| h.status.as_deref() == Some("Succeeded"));
    let last_success_time = newest_success
        .and_then(|h| h.completion_time.clone())
        .or_else(|| previous.and_then(|p| p.last_success_time.clone()));
    let stats = newest_success
        .and_then(|h| h.stats.clone())
        .or_else(|| previous.and_then(|p| p.stats.clone()));

    let conditions: Vec<Condition> = vec![stamp(
        Draft {
            type_: ConditionType::Ready,
            status: phase == OpPhase::Succeeded,
            reason,
            message: message.clone(),
        },
        b.metadata.generation,
        previous.and_then(|p| p.conditions.as_deref()),
        &now,
    )];
    Neo4jBackupStatus {
        conditions: Some(conditions),
        phase: Some(phase.as_str().to_string()),
        message: Some(one_line(&message, MESSAGE_MAX_CHARS)),
        last_run_time,
        last_success_time,
        next_run_time,
        stats,
        replication_pull_uri: replication_pull_uri(b),
        history: (!history.is_empty()).then_some(history),
        observed_generation: b.metadata.generation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(seconds: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(seconds).expect("valid timestamp"))
    }

    fn backup(spec: serde_json::Value) -> Neo4jBackup {
        let mut b: Neo4jBackup = serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jBackup",
            "metadata": {"name": "nightly", "namespace": "db", "generation": 2},
            "spec": spec,
        }))
        .expect("manifest");
        crate::defaults::backup(&mut b.spec);
        b
    }

    fn one_shot() -> Neo4jBackup {
        backup(
            json!({"instanceRef": "graph", "database": "sales", "storage": {"type": "pvc", "pvc": {"name": "b"}}}),
        )
    }

    fn run(name: &str, start: Option<i64>, end: Option<i64>, outcome: JobOutcome) -> JobRun {
        JobRun {
            name: name.into(),
            start: start.map(at),
            end: end.map(at),
            outcome,
        }
    }

    fn observed(runs: Vec<JobRun>) -> BackupObserved {
        BackupObserved {
            target_found: true,
            runs,
            ..Default::default()
        }
    }

    fn failed() -> JobOutcome {
        JobOutcome::Failed {
            reason: "BackoffLimitExceeded".into(),
            message: "Job has reached the specified backoff limit".into(),
        }
    }

    #[test]
    fn a_one_shot_backup_runs_then_succeeds_with_its_times() {
        let b = one_shot();
        let v = Verdict::default();
        let running = super::backup(
            &b,
            &observed(vec![run(
                "nightly-backup",
                Some(100),
                None,
                JobOutcome::Active,
            )]),
            &v,
            None,
            at(101),
        );
        assert_eq!(running.phase.as_deref(), Some("Running"));
        assert_eq!(running.last_run_time, Some(at(100)));
        assert!(
            running.history.is_none(),
            "a running Job is not history yet"
        );
        let done = super::backup(
            &b,
            &observed(vec![run(
                "nightly-backup",
                Some(100),
                Some(165),
                JobOutcome::Succeeded,
            )]),
            &v,
            Some(&running),
            at(170),
        );
        assert_eq!(done.phase.as_deref(), Some("Succeeded"));
        assert_eq!(done.last_success_time, Some(at(165)));
        assert_eq!(
            done.stats.as_ref().and_then(|s| s.duration.as_deref()),
            Some("1m5s")
        );
        let conditions = done.conditions.clone().unwrap_or_default();
        assert_eq!(
            (conditions[0].type_.as_str(), conditions[0].status.as_str()),
            ("Ready", "True")
        );
        assert_eq!(conditions[0].last_transition_time, at(170));
        let history = done.history.clone().unwrap_or_default();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].status.as_deref(), Some("Succeeded"));
        assert_eq!(history[0].backups_path.as_deref(), Some("nightly"));
        // The same observation later yields the same status: nothing to write.
        let again = super::backup(
            &b,
            &observed(vec![run(
                "nightly-backup",
                Some(100),
                Some(165),
                JobOutcome::Succeeded,
            )]),
            &v,
            Some(&done),
            at(9_999),
        );
        assert_eq!(again, done);
        // The Job deleted by hand: the outcome stands.
        let gone = super::backup(&b, &observed(vec![]), &v, Some(&done), at(10_000));
        assert_eq!(gone, done);
    }

    #[test]
    fn a_failure_carries_the_jobs_reason_and_the_pods_message() {
        let b = one_shot();
        let mut o = observed(vec![run("nightly-backup", Some(100), Some(130), failed())]);
        o.failure_detail = Some("backup: Backup failed: database sales not found".into());
        let s = super::backup(&b, &o, &Verdict::default(), None, at(131));
        assert_eq!(s.phase.as_deref(), Some("Failed"));
        let message = s.message.clone().unwrap_or_default();
        for part in [
            "nightly-backup",
            "BackoffLimitExceeded",
            "database sales not found",
        ] {
            assert!(message.contains(part), "{part} missing in {message}");
        }
        assert_eq!(
            s.conditions.as_ref().map(|c| c[0].reason.as_str()),
            Some("BackupFailed")
        );
        // Read once: the next reconcile has no detail and keeps it.
        let later = super::backup(
            &b,
            &observed(vec![run("nightly-backup", Some(100), Some(130), failed())]),
            &Verdict::default(),
            Some(&s),
            at(500),
        );
        assert_eq!(later, s);
        assert!(failure_to_explain(&o.runs, Some(&s)).is_none());
        assert!(failure_to_explain(&o.runs, None).is_some());
    }

    #[test]
    fn a_one_shot_job_deleted_while_running_is_lost() {
        let b = one_shot();
        let running = super::backup(
            &b,
            &observed(vec![run(
                "nightly-backup",
                Some(100),
                None,
                JobOutcome::Active,
            )]),
            &Verdict::default(),
            None,
            at(101),
        );
        let lost = super::backup(
            &b,
            &observed(vec![]),
            &Verdict::default(),
            Some(&running),
            at(200),
        );
        assert_eq!(lost.phase.as_deref(), Some("Failed"));
        assert_eq!(
            lost.conditions.as_ref().map(|c| c[0].reason.as_str()),
            Some("JobLost")
        );
    }

    #[test]
    fn waiting_for_the_target_and_validation_failures() {
        let b = one_shot();
        let o = BackupObserved::default();
        let s = super::backup(&b, &o, &Verdict::default(), None, at(1));
        assert_eq!(s.phase.as_deref(), Some("Pending"));
        assert_eq!(
            s.conditions.as_ref().map(|c| c[0].reason.as_str()),
            Some("TargetNotFound")
        );
        let mut v = Verdict::default();
        v.error("backup-scope-required", "spec.database", "no scope");
        let s = super::backup(&b, &o, &v, None, at(1));
        assert_eq!(s.phase.as_deref(), Some("Failed"));
        assert!(
            s.message
                .unwrap_or_default()
                .contains("backup-scope-required")
        );
    }

    #[test]
    fn a_schedule_has_a_next_run_until_suspended_and_keeps_ten_runs() {
        let mut b = backup(json!({"instanceRef": "graph", "database": "sales",
            "storage": {"type": "pvc", "pvc": {"name": "b"}}, "schedule": "0 * * * *"}));
        let mut o = observed(vec![]);
        o.cron_observed = true;
        let now = 1_767_225_600 + 1_800; // 2026-01-01T00:30:00Z
        let s = super::backup(&b, &o, &Verdict::default(), None, at(now));
        assert_eq!(s.phase.as_deref(), Some("Pending"));
        assert_eq!(s.next_run_time, Some(at(1_767_225_600 + 3_600)));
        assert_eq!(
            s.message.as_deref(),
            Some("CronJob nightly-backup-cron waits for its first scheduled run")
        );
        let runs: Vec<JobRun> = (0..12)
            .map(|i| {
                let start = 1_767_225_600 - i * 3_600;
                let outcome = if i == 0 {
                    failed()
                } else {
                    JobOutcome::Succeeded
                };
                run(
                    &format!("nightly-backup-cron-{i:02}"),
                    Some(start),
                    Some(start + 60),
                    outcome,
                )
            })
            .collect();
        o.runs = runs;
        let s = super::backup(&b, &o, &Verdict::default(), None, at(now));
        let history = s.history.clone().unwrap_or_default();
        assert_eq!(history.len(), HISTORY_MAX);
        assert_eq!(history[0].run_id.as_deref(), Some("nightly-backup-cron-00"));
        assert_eq!(s.phase.as_deref(), Some("Failed"), "the newest run failed");
        assert_eq!(s.last_success_time, Some(at(1_767_225_600 - 3_600 + 60)));
        b.spec.suspend = Some(true);
        let s = super::backup(&b, &o, &Verdict::default(), None, at(now));
        assert_eq!(s.next_run_time, None);
        o.runs.clear();
        let s = super::backup(&b, &o, &Verdict::default(), None, at(now));
        assert_eq!(
            s.message.as_deref(),
            Some("the schedule of CronJob nightly-backup-cron is suspended")
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(5), "5s");
        assert_eq!(go_duration(65), "1m5s");
        assert_eq!(go_duration(7_203), "2h0m3s");
    }

    #[test]
    fn a_replication_source_publishes_its_chain() {
        let b = backup(
            json!({"instanceRef": "graph", "database": "sales", "mode": "replication-source",
            "schedule": "@hourly", "storage": {"type": "s3", "bucket": "b", "cloud": {"provider": "aws"}}}),
        );
        assert_eq!(
            replication_pull_uri(&b).as_deref(),
            Some("s3://b/backups/nightly/")
        );
        assert_eq!(replication_pull_uri(&one_shot()), None);
    }
}
