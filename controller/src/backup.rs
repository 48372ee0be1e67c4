//! Neo4jBackup: a one-shot backup becomes a Job, a scheduled one a CronJob, applied by
//! server-side apply; status is `shared::status_backup` of the Jobs observed. A one-shot
//! backup runs once: a final phase is never re-run (delete and recreate the object to run it
//! again). With `spec.retention` on PVC storage, deleting the backup starts a cleanup Job on
//! the PVC first (`render::backup::cleanup_job`); the finalizer exists only for that.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use neo4j_shared::Verdict;
use neo4j_shared::names;
use neo4j_shared::policy::Policy;
use neo4j_shared::render::backup::{self as render_backup, scheduled};
use neo4j_shared::render::ops::Target;
use neo4j_shared::status_backup::{
    self, BackupObserved, JobOutcome, JobRun, OpPhase, cronjob_runs, failure_to_explain,
};
use neo4j_shared::types::{Kind, Neo4jBackup};
use tracing::Instrument as _;

use crate::error::{Error, Result};
use crate::ops::{OpsContext, error_action, set_finalizer, timed, write_status};
use crate::reconcile::RESYNC;

/// Held only by a backup whose deletion prunes old backups (`spec.retention`, PVC storage).
pub const FINALIZER: &str = "neo4j.neo4j.com/backup-finalizer";
/// How soon a backup waiting for its target looks again (targets do not trigger backups).
const TARGET_POLL: Duration = Duration::from_secs(10);

fn key(b: &Neo4jBackup) -> String {
    format!(
        "{}/{}/{}",
        Kind::Backup.name(),
        b.namespace().unwrap_or_default(),
        b.name_any()
    )
}

fn span(b: &Neo4jBackup) -> tracing::Span {
    tracing::info_span!(
        "reconcile",
        kind = Kind::Backup.name(),
        namespace = b.namespace().unwrap_or_default(),
        name = b.name_any(),
    )
}

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

/// Entry point handed to `Controller::run`.
pub async fn reconcile(b: Arc<Neo4jBackup>, ctx: Arc<OpsContext>) -> Result<Action> {
    let work = Box::pin(reconcile_backup(&b, &ctx).instrument(span(&b)));
    Box::pin(timed(Kind::Backup, key(&b), &ctx, work)).await
}

pub fn error_policy(b: Arc<Neo4jBackup>, error: &Error, ctx: Arc<OpsContext>) -> Action {
    let _span = span(&b).entered();
    error_action(&ctx, &key(&b), error)
}

/// The target of a backup or restore: the cluster of that name, else the standalone (the
/// reference looks a cluster up first), as a Job needs it.
pub fn target(ctx: &OpsContext, namespace: &str, name: Option<&str>) -> Option<Target> {
    let name = name.filter(|n| !n.is_empty())?;
    if let Some(c) = ctx.cluster(namespace, name) {
        let mut c = (*c).clone();
        c.apply_defaults();
        return Target::of_cluster(&c).ok();
    }
    let s = ctx.standalone(namespace, name)?;
    let mut s = (*s).clone();
    s.apply_defaults();
    Target::of_standalone(&s).ok()
}

/// Whether retention needs the deletion finalizer: pruning is done on PVC storage only.
fn prunes_on_delete(b: &Neo4jBackup) -> bool {
    b.spec.retention.is_some()
        && b.spec
            .storage
            .as_ref()
            .is_some_and(neo4j_shared::render::ops::is_pvc)
}

async fn reconcile_backup(b: &Neo4jBackup, ctx: &OpsContext) -> Result<Action> {
    ctx.targets_ready().await?;
    let namespace = b.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = b.name_any();
    let mut defaulted = b.clone();
    defaulted.apply_defaults();
    let has_finalizer = b.finalizers().iter().any(|f| f == FINALIZER);

    if b.meta().deletion_timestamp.is_some() {
        if has_finalizer {
            cleanup(&defaulted, ctx, &namespace).await?;
            set_finalizer(ctx, b, Kind::Backup, FINALIZER, false).await?;
        }
        return Ok(Action::await_change());
    }

    let verdict = defaulted.create();
    let previous = b.status.as_ref();
    if previous.and_then(|p| p.observed_generation) != b.meta().generation {
        publish_findings(ctx, b, &verdict).await;
    }
    let wants_finalizer = verdict.allowed() && prunes_on_delete(&defaulted);
    if wants_finalizer != has_finalizer {
        set_finalizer(ctx, b, Kind::Backup, FINALIZER, wants_finalizer).await?;
    }

    let target = target(ctx, &namespace, defaulted.spec.instance_ref.as_deref());
    let schedule = scheduled(&defaulted).map(str::to_string);
    let job_name = names::backup_job(&name);
    let cron_name = names::backup_cronjob(&name);
    let previous_phase = previous
        .and_then(|p| p.phase.as_deref())
        .and_then(OpPhase::parse);
    let mut observed = BackupObserved {
        target_found: target.is_some(),
        ..Default::default()
    };

    let mut applied_job = false;
    if let (true, Some(target)) = (verdict.allowed(), target.as_ref()) {
        match render_backup::render(&defaulted, target, &ctx.domain) {
            Ok(desired) => {
                for d in &desired {
                    if d.kind == "Job" {
                        // One run per one-shot backup: never again once it started.
                        let started = previous_phase.is_some_and(OpPhase::is_final)
                            || previous_phase == Some(OpPhase::Running);
                        let exists = ctx.job(&namespace, &d.name).is_some();
                        if started && !exists {
                            continue;
                        }
                        if ctx.apply(Kind::Backup.name(), &namespace, d).await? && !exists {
                            ctx.applied_job(&namespace, &d.name);
                            applied_job = true;
                            ctx.event(
                                b,
                                Kind::Backup,
                                false,
                                "BackupStarted",
                                &format!("created Job {}", d.name),
                            )
                            .await;
                        }
                    } else {
                        ctx.apply(Kind::Backup.name(), &namespace, d).await?;
                    }
                }
            }
            Err(e) => observed.render_error = Some(e),
        }
    }
    // A backup that is no longer scheduled keeps no CronJob.
    if schedule.is_none() && ctx.cronjob(&namespace, &cron_name).is_some() {
        ctx.delete::<CronJob>(Kind::Backup.name(), &namespace, &cron_name, false)
            .await?;
    }

    match &schedule {
        None => {
            let run = ctx.job(&namespace, &job_name).map(|j| JobRun::of(&j));
            let in_flight = applied_job || ctx.job_in_flight(&namespace, &job_name);
            observed.runs = match run {
                Some(r) => vec![r],
                // Applied, not yet in the cache: it runs.
                None if in_flight => vec![JobRun {
                    name: job_name.clone(),
                    start: None,
                    end: None,
                    outcome: JobOutcome::Active,
                }],
                None => Vec::new(),
            };
        }
        Some(_) => {
            if let Some(cron) = ctx.cronjob(&namespace, &cron_name) {
                observed.cron_observed = true;
                let jobs = ctx.jobs_in(&namespace);
                observed.runs = cronjob_runs(&cron, jobs.iter());
            }
        }
    }
    if let Some(failed) = failure_to_explain(&observed.runs, previous) {
        observed.failure_detail = ctx.failure_detail(&namespace, &failed.name).await;
    }

    let status = status_backup::backup(&defaulted, &observed, &verdict, previous, now());
    if previous != Some(&status) {
        write_status(ctx, b, Kind::Backup, &status).await?;
        announce(ctx, b, previous_phase, &status).await;
    }
    let phase = status.phase.as_deref().and_then(OpPhase::parse);
    Ok(
        if !observed.target_found && phase != Some(OpPhase::Failed) {
            Action::requeue(TARGET_POLL)
        } else {
            Action::requeue(RESYNC)
        },
    )
}

/// One event per phase change of the newest run.
async fn announce(
    ctx: &OpsContext,
    b: &Neo4jBackup,
    before: Option<OpPhase>,
    status: &neo4j_shared::types::Neo4jBackupStatus,
) {
    let after = status.phase.as_deref().and_then(OpPhase::parse);
    let message = status.message.clone().unwrap_or_default();
    let last_run_changed =
        b.status.as_ref().and_then(|s| s.last_run_time.clone()) != status.last_run_time;
    if before == after && !last_run_changed {
        return;
    }
    match after {
        Some(OpPhase::Succeeded) => {
            ctx.event(b, Kind::Backup, false, "BackupSucceeded", &message)
                .await
        }
        Some(OpPhase::Failed) => {
            ctx.event(b, Kind::Backup, true, "BackupFailed", &message)
                .await
        }
        _ => {}
    }
}

/// One Warning event per finding, reason = rule id, once per generation.
async fn publish_findings(ctx: &OpsContext, b: &Neo4jBackup, verdict: &Verdict) {
    for f in verdict.errors.iter().chain(&verdict.warnings) {
        ctx.event(b, Kind::Backup, true, f.rule, &f.to_string())
            .await;
    }
}

/// Retention on deletion: a cleanup Job on the backup PVC (no owner, so it outlives the
/// backup; a TTL removes it), made from the target's image. Without a target it is skipped and
/// said so.
async fn cleanup(b: &Neo4jBackup, ctx: &OpsContext, namespace: &str) -> Result<()> {
    let Some(target) = target(ctx, namespace, b.spec.instance_ref.as_deref()) else {
        ctx.event(
            b,
            Kind::Backup,
            true,
            "RetentionSkipped",
            "the target is gone, so no image to prune the backup PVC with; old backups are kept",
        )
        .await;
        return Ok(());
    };
    match render_backup::cleanup_job(b, &target) {
        Ok(Some(job)) => {
            ctx.apply(Kind::Backup.name(), namespace, &job).await?;
            ctx.event(
                b,
                Kind::Backup,
                false,
                "RetentionStarted",
                &format!("Job {} prunes the backup PVC", job.name),
            )
            .await;
        }
        Ok(None) => {}
        Err(e) => {
            ctx.event(b, Kind::Backup, true, e.reason(), &e.to_string())
                .await
        }
    }
    Ok(())
}
