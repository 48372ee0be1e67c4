//! The steps of a Neo4jRestore, decided by a pure function of what the controller observed and
//! the previous status. Every step is recorded in `status` (the reason of the `Progressing`
//! condition), never in memory, so a controller killed mid-way resumes where it stopped.
//!
//! ```text
//! standalone: Waiting → Stopping → Restoring → Starting → Creating → Succeeded
//! cluster:    Waiting → Seeding → Succeeded
//! ```
//!
//! `Stopping` and `Restoring` hold the standalone stopped: its own controller reads this
//! status and renders its StatefulSet with 0 replicas ([`holds`]), so the StatefulSet keeps one
//! writer. A restore that fails after stopping releases the hold, and the server starts again.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::inventory::InstanceKind;
use crate::names;
use crate::render::RenderError;
use crate::render::ops::location_path;
use crate::render::restore::{Resolution, SourcePlan, database};
use crate::status::{ConditionType, Draft, stamp};
use crate::status_backup::{JobOutcome, JobRun, OpPhase, go_duration};
use crate::text::one_line;
use crate::types::{
    Neo4jRestore, Neo4jRestoreStatus, ResolvedRestoreSource, RestoreBackupInfo, RestoreStats,
};
use crate::verdict::Verdict;

const MESSAGE_MAX_CHARS: usize = 1000;

/// The step a restore is at (the reason of its `Progressing` condition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// For the target, the backup, or another restore of the same target to finish.
    Waiting,
    /// A standalone's server is being stopped.
    Stopping,
    /// `neo4j-admin database restore` runs on the stopped standalone's volume.
    Restoring,
    /// The standalone's server is starting again.
    Starting,
    /// The restored database is created (if new) on the running standalone.
    Creating,
    /// A cluster database is being created from the backup.
    Seeding,
    Succeeded,
    Failed,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Waiting,
        Step::Stopping,
        Step::Restoring,
        Step::Starting,
        Step::Creating,
        Step::Seeding,
        Step::Succeeded,
        Step::Failed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Waiting => "Waiting",
            Step::Stopping => "Stopping",
            Step::Restoring => "Restoring",
            Step::Starting => "Starting",
            Step::Creating => "Creating",
            Step::Seeding => "Seeding",
            Step::Succeeded => "Succeeded",
            Step::Failed => "Failed",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the standalone must be stopped at this step.
    pub fn holds_target(self) -> bool {
        matches!(self, Step::Stopping | Step::Restoring)
    }

    /// Whether the restore has begun acting on its target and has not ended.
    pub fn in_progress(self) -> bool {
        matches!(
            self,
            Step::Stopping | Step::Restoring | Step::Starting | Step::Creating | Step::Seeding
        )
    }

    pub fn is_final(self) -> bool {
        matches!(self, Step::Succeeded | Step::Failed)
    }

    fn phase(self) -> OpPhase {
        match self {
            Step::Waiting => OpPhase::Pending,
            Step::Succeeded => OpPhase::Succeeded,
            Step::Failed => OpPhase::Failed,
            _ => OpPhase::Running,
        }
    }
}

/// The step recorded in a restore's status (`Waiting` when there is none).
pub fn step_of(status: Option<&Neo4jRestoreStatus>) -> Step {
    status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == ConditionType::Progressing.as_str())
        .and_then(|c| Step::parse(&c.reason))
        .unwrap_or(Step::Waiting)
}

/// Whether `r` holds the standalone `standalone` (in namespace `namespace`) stopped.
pub fn holds(r: &Neo4jRestore, namespace: &str, standalone: &str) -> bool {
    r.metadata.namespace.as_deref() == Some(namespace)
        && r.spec.instance_ref.as_deref() == Some(standalone)
        && step_of(r.status.as_ref()).holds_target()
}

/// The restore holding the standalone stopped, if any (the first by name, should there ever be
/// two).
pub fn holder<'a>(
    restores: impl IntoIterator<Item = &'a Neo4jRestore>,
    namespace: &str,
    standalone: &str,
) -> Option<String> {
    restores
        .into_iter()
        .filter(|r| holds(r, namespace, standalone))
        .filter_map(|r| r.metadata.name.clone())
        .min()
}

/// What restores must not overlap on: a standalone as a whole (its server stops), a cluster's
/// database.
pub fn exclusion_key(r: &Neo4jRestore, kind: InstanceKind) -> String {
    let ns = r.metadata.namespace.as_deref().unwrap_or_default();
    let target = r.spec.instance_ref.as_deref().unwrap_or_default();
    match kind {
        InstanceKind::Standalone => format!("{ns}/{target}"),
        InstanceKind::Cluster => {
            format!("{ns}/{target}/{}", database(r).unwrap_or_default())
        }
    }
}

/// The source a started restore pinned in its status.
pub fn pinned_plan(status: Option<&Neo4jRestoreStatus>) -> Option<SourcePlan> {
    let status = status?;
    let resolved = status.resolved_source.as_ref()?;
    Some(SourcePlan {
        storage: resolved.storage.clone()?,
        path: resolved.backup_path.clone()?,
        source_database: status.backup_info.as_ref()?.original_database.clone()?,
        backup_ref: resolved.backup_ref.clone(),
    })
}

/// A StatefulSet as the steps need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StsState {
    /// `spec.replicas`.
    pub desired: i32,
    /// The StatefulSet controller has seen the latest spec.
    pub current: bool,
    /// `status.replicas`: pods that exist.
    pub pods: i32,
    pub ready: i32,
}

impl StsState {
    pub fn of(sts: &StatefulSet) -> StsState {
        let status = sts.status.clone().unwrap_or_default();
        let current = match (sts.metadata.generation, status.observed_generation) {
            (Some(g), Some(o)) => o >= g,
            (Some(_), None) => false,
            (None, _) => true,
        };
        StsState {
            desired: sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            current,
            pods: status.replicas,
            ready: status.ready_replicas.unwrap_or(0),
        }
    }
    /// Scaled to 0 and every pod gone.
    pub fn stopped(&self) -> bool {
        self.desired == 0 && self.current && self.pods == 0
    }
    /// Scaled up again with a ready server.
    pub fn running(&self) -> bool {
        self.desired >= 1 && self.current && self.ready >= 1
    }
}

/// The Job a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepJob {
    /// `<r>-restore` on a standalone.
    Restore,
    /// `<r>-create` on a standalone.
    Create,
    /// `<r>-restore` on a cluster.
    Seed,
}

/// What the controller observed for a restore.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreObserved {
    /// The kind of the target, `None` when it does not exist.
    pub target: Option<InstanceKind>,
    /// The source, resolved now (before the start) or as pinned (after).
    pub source: Resolution,
    /// Another restore of the same standalone or cluster database has started, or has been
    /// let start, first.
    pub blocked_by: Option<String>,
    /// A standalone target's StatefulSet.
    pub statefulset: Option<StsState>,
    /// `<r>-restore`.
    pub restore_job: Option<JobRun>,
    /// `<r>-create`.
    pub create_job: Option<JobRun>,
    /// The termination message of a failed Job's pod, when read.
    pub failure_detail: Option<String>,
    /// The Jobs this restore would run cannot be rendered.
    pub render_error: Option<RenderError>,
}

/// The status to write and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreDecision {
    pub status: Neo4jRestoreStatus,
    pub step: Step,
    /// The Job the step runs, to apply (the apply is skipped when it exists).
    pub job: Option<StepJob>,
    /// Waiting on something that does not notify the controller (the StatefulSet's pods, a
    /// target or backup to appear): look again soon.
    pub poll: bool,
}

/// The message of a step whose Job was observed running: seeing it again with the Job gone
/// means the Job was deleted.
pub fn running_message(job: &str) -> String {
    format!("Job {job} is running")
}

struct Next {
    step: Step,
    reason: &'static str,
    message: String,
    job: Option<StepJob>,
    poll: bool,
}

fn next(step: Step, reason: &'static str, message: impl Into<String>) -> Next {
    Next {
        step,
        reason,
        message: message.into(),
        job: None,
        poll: false,
    }
}

impl Next {
    fn job(mut self, job: StepJob) -> Self {
        self.job = Some(job);
        self
    }
    fn poll(mut self) -> Self {
        self.poll = true;
        self
    }
}

/// A step that runs `job` (named `name`): wait for it, then go to `done`; fail with its reason.
fn job_step(
    step: Step,
    job: StepJob,
    name: &str,
    run: Option<&JobRun>,
    previous_message: Option<&str>,
    detail: Option<&str>,
    done: Next,
) -> Next {
    match run {
        None if previous_message == Some(running_message(name).as_str()) => next(
            Step::Failed,
            "JobLost",
            format!(
                "Job {name} was deleted before it finished; delete and recreate this Neo4jRestore to try again"
            ),
        ),
        None => next(step, step.as_str(), format!("starting Job {name}")).job(job),
        Some(r) => match &r.outcome {
            JobOutcome::Active => next(step, step.as_str(), running_message(name)).job(job),
            JobOutcome::Succeeded => done,
            JobOutcome::Failed { .. } => next(
                Step::Failed,
                "JobFailed",
                r.failure(detail).unwrap_or_default(),
            ),
        },
    }
}

/// Decides the next step and the status of a restore. `now` stamps the times it sets.
pub fn restore(
    r: &Neo4jRestore,
    observed: &RestoreObserved,
    validation: &Verdict,
    previous: Option<&Neo4jRestoreStatus>,
    now: Time,
) -> RestoreDecision {
    let name = r.metadata.name.clone().unwrap_or_default();
    let step = step_of(previous);
    let previous_message = previous.and_then(|p| p.message.as_deref());
    let detail = observed.failure_detail.as_deref();
    let restore_job = names::restore_job(&name);
    let create_job = names::restore_create_job(&name);
    let sts = observed.statefulset;

    let n: Next = match step {
        Step::Succeeded | Step::Failed => next(
            step,
            if step == Step::Succeeded {
                "Succeeded"
            } else {
                previous
                    .and_then(|p| p.conditions.as_ref())
                    .into_iter()
                    .flatten()
                    .find(|c| c.type_ == ConditionType::Ready.as_str())
                    .and_then(|c| leak_reason(&c.reason))
                    .unwrap_or("Failed")
            },
            previous_message.unwrap_or_default(),
        ),
        Step::Waiting => {
            if !validation.errors.is_empty() {
                next(
                    Step::Waiting,
                    "ValidationFailed",
                    format!("validation failed: {}", validation.error_rules().join(", ")),
                )
            } else if observed.target.is_none() {
                next(
                    Step::Waiting,
                    "TargetNotFound",
                    format!(
                        "waiting for the Neo4jEnterpriseCluster or Neo4jEnterpriseStandalone {:?}",
                        r.spec.instance_ref.as_deref().unwrap_or_default()
                    ),
                )
                .poll()
            } else {
                match &observed.source {
                    Resolution::Wait(why) => {
                        next(Step::Waiting, "SourceNotReady", why.clone()).poll()
                    }
                    Resolution::Fail(why) => next(Step::Failed, "SourceUnusable", why.clone()),
                    Resolution::Ready(_) => {
                        if let Some(e) = &observed.render_error {
                            next(Step::Failed, e.reason(), e.to_string())
                        } else if let Some(other) = &observed.blocked_by {
                            next(
                                Step::Waiting,
                                "WaitingForRestore",
                                format!("waiting for Neo4jRestore {other:?} of the same target to finish"),
                            )
                            .poll()
                        } else if observed.target == Some(InstanceKind::Standalone) {
                            next(
                                Step::Stopping,
                                "Stopping",
                                "stopping the standalone's server".to_string(),
                            )
                            .poll()
                        } else {
                            next(
                                Step::Seeding,
                                "Seeding",
                                format!("starting Job {restore_job}"),
                            )
                            .job(StepJob::Seed)
                        }
                    }
                }
            }
        }
        Step::Stopping => match sts {
            _ if observed.target.is_none() => next(
                Step::Failed,
                "TargetNotFound",
                "the standalone was deleted during the restore",
            ),
            Some(s) if s.stopped() => next(
                Step::Restoring,
                "Restoring",
                format!("starting Job {restore_job}"),
            )
            .job(StepJob::Restore),
            _ => next(
                Step::Stopping,
                "Stopping",
                "stopping the standalone's server",
            )
            .poll(),
        },
        Step::Restoring => job_step(
            Step::Restoring,
            StepJob::Restore,
            &restore_job,
            observed.restore_job.as_ref(),
            previous_message,
            detail,
            next(
                Step::Starting,
                "Starting",
                "starting the standalone's server",
            )
            .poll(),
        ),
        Step::Starting => match sts {
            Some(s) if s.running() => next(
                Step::Creating,
                "Creating",
                format!("starting Job {create_job}"),
            )
            .job(StepJob::Create),
            _ => next(
                Step::Starting,
                "Starting",
                "starting the standalone's server",
            )
            .poll(),
        },
        Step::Creating => job_step(
            Step::Creating,
            StepJob::Create,
            &create_job,
            observed.create_job.as_ref(),
            previous_message,
            detail,
            next(
                Step::Succeeded,
                "Succeeded",
                format!("database {:?} restored", database(r).unwrap_or_default()),
            ),
        ),
        Step::Seeding => job_step(
            Step::Seeding,
            StepJob::Seed,
            &restore_job,
            observed.restore_job.as_ref(),
            previous_message,
            detail,
            next(
                Step::Succeeded,
                "Succeeded",
                format!(
                    "database {:?} created from the backup",
                    database(r).unwrap_or_default()
                ),
            ),
        ),
    };

    let phase = if n.step == Step::Waiting && n.reason == "ValidationFailed" {
        OpPhase::Failed
    } else {
        n.step.phase()
    };
    let started = n.step != Step::Waiting && !(n.step == Step::Failed && step == Step::Waiting);
    let start_time = previous
        .and_then(|p| p.start_time.clone())
        .or_else(|| started.then(|| now.clone()));
    let completion_time = if n.step.is_final() {
        previous
            .and_then(|p| p.completion_time.clone())
            .or_else(|| Some(now.clone()))
    } else {
        None
    };
    let stats = match (&start_time, &completion_time, n.step) {
        (Some(s), Some(e), Step::Succeeded) => Some(RestoreStats {
            duration: Some(go_duration((e.0.as_second() - s.0.as_second()).max(0))),
        }),
        _ => previous.and_then(|p| p.stats.clone()),
    };
    // The source is pinned when the restore starts, so a later backup run cannot change
    // what a restore in progress reads.
    let (resolved_source, backup_info) = match (&observed.source, previous) {
        (_, Some(p)) if p.resolved_source.is_some() => {
            (p.resolved_source.clone(), p.backup_info.clone())
        }
        (Resolution::Ready(plan), _) if started => (
            Some(ResolvedRestoreSource {
                backup_ref: plan.backup_ref.clone(),
                storage: Some(plan.storage.clone()),
                backup_path: Some(plan.path.clone()),
                resolved_at: Some(now.clone()),
                ..Default::default()
            }),
            Some(RestoreBackupInfo {
                backup_path: location_path(&plan.storage, &plan.path),
                original_database: Some(plan.source_database.clone()),
                ..Default::default()
            }),
        ),
        _ => (None, None),
    };

    let conditions_before = previous.and_then(|p| p.conditions.as_deref());
    let message = one_line(&n.message, MESSAGE_MAX_CHARS);
    let conditions: Vec<Condition> = [
        Draft {
            type_: ConditionType::Ready,
            status: n.step == Step::Succeeded,
            reason: n.reason,
            message: message.clone(),
        },
        Draft {
            type_: ConditionType::Progressing,
            status: !n.step.is_final(),
            reason: n.step.as_str(),
            message: message.clone(),
        },
    ]
    .into_iter()
    .map(|d| stamp(d, r.metadata.generation, conditions_before, &now))
    .collect();
    RestoreDecision {
        status: Neo4jRestoreStatus {
            conditions: Some(conditions),
            phase: Some(phase.as_str().to_string()),
            message: Some(message),
            start_time,
            completion_time,
            stats,
            backup_info,
            observed_generation: r.metadata.generation,
            database_results: previous.and_then(|p| p.database_results.clone()),
            resolved_source,
        },
        step: n.step,
        job: n.job,
        poll: n.poll,
    }
}

/// The reasons a finished restore may carry, as `'static` strings (a reason read back from a
/// stored condition).
fn leak_reason(reason: &str) -> Option<&'static str> {
    const REASONS: [&str; 13] = [
        "Failed",
        "JobFailed",
        "JobLost",
        "SourceUnusable",
        "TargetNotFound",
        "Succeeded",
        // RenderError::reason
        "MissingMetadata",
        "MissingField",
        "UnsupportedImageTag",
        "MemoryLimitTooSmall",
        "InternalError",
        "NameTooLong",
        "Unsupported",
    ];
    REASONS.into_iter().find(|r| *r == reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(seconds: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(seconds).expect("valid timestamp"))
    }

    fn restore_of(target: &str) -> Neo4jRestore {
        serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jRestore",
            "metadata": {"name": "back", "namespace": "db", "generation": 1},
            "spec": {"instanceRef": target, "database": "sales", "stopCluster": true,
                "source": {"type": "backup", "backupRef": "nightly"}},
        }))
        .expect("manifest")
    }

    fn plan() -> Resolution {
        Resolution::Ready(Box::new(SourcePlan {
            storage: serde_json::from_value(json!({"type": "pvc", "pvc": {"name": "b"}}))
                .expect("storage"),
            path: "nightly".into(),
            source_database: "sales".into(),
            backup_ref: Some("nightly".into()),
        }))
    }

    fn observed(kind: InstanceKind) -> RestoreObserved {
        RestoreObserved {
            target: Some(kind),
            source: plan(),
            blocked_by: None,
            statefulset: Some(StsState {
                desired: 1,
                current: true,
                pods: 1,
                ready: 1,
            }),
            restore_job: None,
            create_job: None,
            failure_detail: None,
            render_error: None,
        }
    }

    fn job(name: &str, outcome: JobOutcome) -> Option<JobRun> {
        Some(JobRun {
            name: name.into(),
            start: Some(at(10)),
            end: None,
            outcome,
        })
    }

    /// Runs `restore` with the previous status and returns the decision, storing its status
    /// on the object as the API server would.
    fn step(r: &mut Neo4jRestore, o: &RestoreObserved, now: i64) -> RestoreDecision {
        let d = restore(r, o, &Verdict::default(), r.status.as_ref(), at(now));
        r.status = Some(d.status.clone());
        d
    }

    #[test]
    fn a_standalone_restore_walks_its_steps_in_order() {
        let mut r = restore_of("solo");
        let mut o = observed(InstanceKind::Standalone);
        let mut seen = Vec::new();

        let d = step(&mut r, &o, 100);
        assert_eq!((d.step, d.job, d.poll), (Step::Stopping, None, true));
        assert!(holds(&r, "db", "solo"), "the standalone is held stopped");
        assert_eq!(
            r.status.as_ref().and_then(|s| s.start_time.clone()),
            Some(at(100))
        );
        seen.push(d.step);
        // Still running: stay.
        assert_eq!(step(&mut r, &o, 101).step, Step::Stopping);
        o.statefulset = Some(StsState {
            desired: 0,
            current: true,
            pods: 0,
            ready: 0,
        });
        let d = step(&mut r, &o, 102);
        assert_eq!((d.step, d.job), (Step::Restoring, Some(StepJob::Restore)));
        seen.push(d.step);
        o.restore_job = job("back-restore", JobOutcome::Active);
        let d = step(&mut r, &o, 103);
        assert_eq!((d.step, d.job), (Step::Restoring, Some(StepJob::Restore)));
        o.restore_job = job("back-restore", JobOutcome::Succeeded);
        let d = step(&mut r, &o, 104);
        assert_eq!(d.step, Step::Starting);
        assert!(!holds(&r, "db", "solo"), "released once restored");
        seen.push(d.step);
        o.statefulset = Some(StsState {
            desired: 1,
            current: true,
            pods: 1,
            ready: 1,
        });
        let d = step(&mut r, &o, 105);
        assert_eq!((d.step, d.job), (Step::Creating, Some(StepJob::Create)));
        seen.push(d.step);
        o.create_job = job("back-create", JobOutcome::Succeeded);
        let d = step(&mut r, &o, 106);
        assert_eq!(d.step, Step::Succeeded);
        seen.push(d.step);
        assert_eq!(
            seen,
            [
                Step::Stopping,
                Step::Restoring,
                Step::Starting,
                Step::Creating,
                Step::Succeeded
            ]
        );
        let s = r.status.clone().unwrap_or_default();
        assert_eq!(s.phase.as_deref(), Some("Succeeded"));
        assert_eq!(s.completion_time, Some(at(106)));
        assert_eq!(s.stats.and_then(|x| x.duration).as_deref(), Some("6s"));
        let resolved = s.resolved_source.unwrap_or_default();
        assert_eq!(resolved.backup_path.as_deref(), Some("nightly"));
        assert_eq!(resolved.resolved_at, Some(at(100)), "pinned at the start");
        // Final: steady.
        let before = r.status.clone();
        let d = step(&mut r, &o, 999);
        assert_eq!((d.step, d.job, d.poll), (Step::Succeeded, None, false));
        assert_eq!(r.status, before);
    }

    #[test]
    fn a_restore_resumes_from_the_step_in_its_status() {
        let mut r = restore_of("solo");
        let mut o = observed(InstanceKind::Standalone);
        o.statefulset = Some(StsState {
            desired: 0,
            current: true,
            pods: 0,
            ready: 0,
        });
        step(&mut r, &o, 1);
        step(&mut r, &o, 2);
        assert_eq!(step_of(r.status.as_ref()), Step::Restoring);
        // A new process reads only the status: the pinned source and the step.
        assert_eq!(
            pinned_plan(r.status.as_ref()).map(|p| p.path),
            Some("nightly".to_string())
        );
        let fresh = RestoreObserved {
            source: Resolution::Ready(Box::new(pinned_plan(r.status.as_ref()).expect("pinned"))),
            ..o.clone()
        };
        let d = restore(&r, &fresh, &Verdict::default(), r.status.as_ref(), at(3));
        assert_eq!((d.step, d.job), (Step::Restoring, Some(StepJob::Restore)));
    }

    #[test]
    fn a_failed_restore_releases_the_standalone_with_the_reason() {
        let mut r = restore_of("solo");
        let mut o = observed(InstanceKind::Standalone);
        o.statefulset = Some(StsState {
            desired: 0,
            current: true,
            pods: 0,
            ready: 0,
        });
        step(&mut r, &o, 1);
        step(&mut r, &o, 2);
        o.restore_job = job(
            "back-restore",
            JobOutcome::Failed {
                reason: "BackoffLimitExceeded".into(),
                message: String::new(),
            },
        );
        o.failure_detail = Some("restore: The database 'sales' already exists".into());
        let d = step(&mut r, &o, 3);
        assert_eq!(d.step, Step::Failed);
        assert!(!holds(&r, "db", "solo"));
        let message = r
            .status
            .as_ref()
            .and_then(|s| s.message.clone())
            .unwrap_or_default();
        assert!(message.contains("already exists"), "{message}");
        assert_eq!(
            r.status.as_ref().and_then(|s| s.phase.clone()).as_deref(),
            Some("Failed")
        );
    }

    #[test]
    fn a_job_deleted_while_running_is_not_run_again() {
        let mut r = restore_of("graph");
        let mut o = observed(InstanceKind::Cluster);
        assert_eq!(step(&mut r, &o, 1).step, Step::Seeding);
        o.restore_job = job("back-restore", JobOutcome::Active);
        assert_eq!(step(&mut r, &o, 2).step, Step::Seeding);
        o.restore_job = None;
        let d = step(&mut r, &o, 3);
        assert_eq!((d.step, d.job), (Step::Failed, None));
    }

    #[test]
    fn a_cluster_restore_seeds_once_and_waits_its_turn() {
        let mut r = restore_of("graph");
        let mut o = observed(InstanceKind::Cluster);
        o.blocked_by = Some("earlier".into());
        let d = step(&mut r, &o, 1);
        assert_eq!((d.step, d.job, d.poll), (Step::Waiting, None, true));
        assert!(
            r.status
                .as_ref()
                .and_then(|s| s.message.clone())
                .unwrap_or_default()
                .contains("earlier")
        );
        o.blocked_by = None;
        let d = step(&mut r, &o, 2);
        assert_eq!((d.step, d.job), (Step::Seeding, Some(StepJob::Seed)));
        o.restore_job = job("back-restore", JobOutcome::Succeeded);
        assert_eq!(step(&mut r, &o, 3).step, Step::Succeeded);
    }

    #[test]
    fn waits_for_target_and_source_and_fails_on_an_unusable_one() {
        let mut r = restore_of("solo");
        let mut o = observed(InstanceKind::Standalone);
        o.target = None;
        let d = step(&mut r, &o, 1);
        assert_eq!((d.step, d.poll), (Step::Waiting, true));
        o.target = Some(InstanceKind::Standalone);
        o.source = Resolution::Wait("waiting for Neo4jBackup".into());
        assert_eq!(step(&mut r, &o, 2).step, Step::Waiting);
        o.source = Resolution::Fail("source.type pitr is not implemented".into());
        let d = step(&mut r, &o, 3);
        assert_eq!(d.step, Step::Failed);
        assert!(
            r.status
                .as_ref()
                .and_then(|s| s.start_time.clone())
                .is_none(),
            "never started"
        );
    }

    #[test]
    fn the_holder_is_found_by_step() {
        let mut r = restore_of("solo");
        let o = observed(InstanceKind::Standalone);
        assert_eq!(holder([&r], "db", "solo"), None);
        step(&mut r, &o, 1);
        assert_eq!(holder([&r], "db", "solo"), Some("back".to_string()));
        assert_eq!(holder([&r], "other", "solo"), None);
        assert_eq!(exclusion_key(&r, InstanceKind::Cluster), "db/solo/sales");
        assert_eq!(exclusion_key(&r, InstanceKind::Standalone), "db/solo");
    }
}
