//! Neo4jRestore: runs the steps `shared::status_restore` decides, one transition per
//! reconcile, each recorded in status before the next is taken.
//!
//! - A standalone is stopped by its own controller, which reads this restore's step
//!   (`Stopping`, `Restoring`) and renders its StatefulSet with 0 replicas: the StatefulSet keeps
//!   one writer. The restore watches it scale to 0, runs `<r>-restore` on its volume, lets it
//!   start again, then runs `<r>-create`.
//! - A cluster gets its database from the backup by one `<r>-restore` Job (a seed).
//!
//! Two restores never act on the same standalone, or the same database of a cluster, at once:
//! a restore starts only when no other restore of that target has started (their steps are in
//! status) and no other has been let start by this process (the claims, taken and checked
//! under one lock). A restore holding a standalone stopped keeps a finalizer, so deleting it
//! first removes its Job and only then lets the server start.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use neo4j_shared::Verdict;
use neo4j_shared::inventory::{InstanceKind, InstanceSummary, MapInventory};
use neo4j_shared::names;
use neo4j_shared::policy::Policy;
use neo4j_shared::render::DesiredObject;
use neo4j_shared::render::ops::Target;
use neo4j_shared::render::restore::{self as render_restore, Resolution};
use neo4j_shared::status_backup::{JobOutcome, JobRun};
use neo4j_shared::status_restore::{
    self, RestoreObserved, Step, StepJob, StsState, exclusion_key, pinned_plan, step_of,
};
use neo4j_shared::types::{Kind, Neo4jBackup, Neo4jRestore};
use tracing::Instrument as _;

use crate::backup::target;
use crate::error::{Error, Result};
use crate::ops::{OpsContext, error_action, set_finalizer, timed, write_status};
use crate::reconcile::RESYNC;

/// Held while the restore holds a standalone stopped, or may still run its Job on it.
pub const FINALIZER: &str = "neo4j.neo4j.com/restore-finalizer";
/// How soon a restore looks again at a StatefulSet scaling down or up (pods do not trigger
/// restores).
const STS_POLL: Duration = Duration::from_secs(2);
/// How soon a waiting restore looks again (targets, backups and other restores do not
/// trigger it).
const WAIT_POLL: Duration = Duration::from_secs(10);

fn key(r: &Neo4jRestore) -> String {
    format!(
        "{}/{}/{}",
        Kind::Restore.name(),
        r.namespace().unwrap_or_default(),
        r.name_any()
    )
}

fn span(r: &Neo4jRestore) -> tracing::Span {
    tracing::info_span!(
        "reconcile",
        kind = Kind::Restore.name(),
        namespace = r.namespace().unwrap_or_default(),
        name = r.name_any(),
    )
}

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

pub async fn reconcile(r: Arc<Neo4jRestore>, ctx: Arc<OpsContext>) -> Result<Action> {
    let work = Box::pin(reconcile_restore(&r, &ctx).instrument(span(&r)));
    Box::pin(timed(Kind::Restore, key(&r), &ctx, work)).await
}

pub fn error_policy(r: Arc<Neo4jRestore>, error: &Error, ctx: Arc<OpsContext>) -> Action {
    let _span = span(&r).entered();
    error_action(&ctx, &key(&r), error)
}

/// What admission knows of the target, for re-running the cross rules here (admission may
/// have run before the target existed).
fn summary(ctx: &OpsContext, namespace: &str, name: &str) -> Option<InstanceSummary> {
    if let Some(c) = ctx.cluster(namespace, name) {
        let mut c = (*c).clone();
        c.apply_defaults();
        return Some(InstanceSummary::of_cluster(&c));
    }
    let s = ctx.standalone(namespace, name)?;
    let mut s = (*s).clone();
    s.apply_defaults();
    Some(InstanceSummary::of_standalone(&s))
}

/// The Jobs of a restore on `target` reading `plan`: `<r>-restore` (a seed on a cluster) and,
/// on a standalone, `<r>-create`.
struct Jobs {
    restore: DesiredObject,
    create: Option<DesiredObject>,
}

fn render_jobs(
    r: &Neo4jRestore,
    target: &Target,
    plan: &render_restore::SourcePlan,
    domain: &str,
) -> std::result::Result<Jobs, neo4j_shared::render::RenderError> {
    Ok(match target.kind {
        InstanceKind::Standalone => Jobs {
            restore: render_restore::restore_job(r, target, plan)?,
            create: Some(render_restore::create_job(r, target, domain)?),
        },
        InstanceKind::Cluster => Jobs {
            restore: render_restore::seed_job(r, target, plan, domain)?,
            create: None,
        },
    })
}

/// Another restore of the same standalone (or cluster database) that has started, or that
/// this process has let start.
fn blocked_by(
    ctx: &OpsContext,
    claims: &std::collections::BTreeMap<String, (String, String)>,
    r: &Neo4jRestore,
    kind: InstanceKind,
) -> Option<String> {
    let key = exclusion_key(r, kind);
    let uid = r.uid().unwrap_or_default();
    let all = ctx.restores.state();
    let started = all.iter().find(|o| {
        o.uid().unwrap_or_default() != uid
            && exclusion_key(o, kind) == key
            && step_of(o.status.as_ref()).in_progress()
    });
    if let Some(o) = started {
        return Some(o.name_any());
    }
    let (holder_uid, holder_name) = claims.get(&key)?;
    if *holder_uid == uid {
        return None;
    }
    // A claim counts while its restore exists and has not finished.
    let live = all.iter().any(|o| {
        o.uid().as_deref() == Some(holder_uid.as_str()) && !step_of(o.status.as_ref()).is_final()
    });
    live.then(|| holder_name.clone())
}

fn job_run(ctx: &OpsContext, namespace: &str, name: &str) -> Option<JobRun> {
    ctx.job(namespace, name).map(|j| JobRun::of(&j))
}

async fn reconcile_restore(r: &Neo4jRestore, ctx: &OpsContext) -> Result<Action> {
    ctx.targets_ready().await?;
    let namespace = r.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = r.name_any();
    let mut defaulted = r.clone();
    defaulted.apply_defaults();
    let previous = r.status.as_ref();
    let step = step_of(previous);
    let has_finalizer = r.finalizers().iter().any(|f| f == FINALIZER);
    let restore_job = names::restore_job(&name);

    if r.meta().deletion_timestamp.is_some() {
        if has_finalizer {
            // The server stays stopped until no restore pod can touch its volume.
            if ctx.job(&namespace, &restore_job).is_some() {
                ctx.delete::<Job>(Kind::Restore.name(), &namespace, &restore_job, true)
                    .await?;
                return Ok(Action::requeue(STS_POLL));
            }
            set_finalizer(ctx, r, Kind::Restore, FINALIZER, false).await?;
        }
        return Ok(Action::await_change());
    }

    let instance = defaulted.spec.instance_ref.clone().unwrap_or_default();
    let target = target(ctx, &namespace, Some(&instance));
    let mut verdict = defaulted.create();
    if step == Step::Waiting
        && let Some(s) = summary(ctx, &namespace, &instance)
    {
        // The cross rules, now that the target is known.
        let mut inventory = MapInventory::default();
        inventory.insert(&namespace, &instance, s);
        let cross = defaulted.cross(&namespace, &inventory);
        verdict.errors.extend(cross.errors);
    }
    if previous.and_then(|p| p.observed_generation) != r.meta().generation {
        publish_findings(ctx, r, &verdict).await;
    }

    let source = if step == Step::Waiting {
        let backup: Option<Arc<Neo4jBackup>> = defaulted
            .spec
            .source
            .as_ref()
            .and_then(|s| s.backup_ref.as_deref())
            .and_then(|b| {
                ctx.backups
                    .get(&kube::runtime::reflector::ObjectRef::new(b).within(&namespace))
            });
        render_restore::resolve_source(&defaulted, backup.as_deref())
    } else {
        match pinned_plan(previous) {
            Some(plan) => Resolution::Ready(Box::new(plan)),
            None => {
                Resolution::Fail("the source pinned at the start is missing from status".into())
            }
        }
    };
    let jobs = match (&target, &source) {
        (Some(t), Resolution::Ready(plan)) => Some(render_jobs(&defaulted, t, plan, &ctx.domain)),
        _ => None,
    };
    let statefulset = target
        .as_ref()
        .filter(|t| t.kind == InstanceKind::Standalone)
        .and_then(|t| ctx.base.caches.statefulset(&namespace, &t.statefulset))
        .map(|s| StsState::of(&s));
    let restore_run = job_run(ctx, &namespace, &restore_job);
    let create_run = job_run(ctx, &namespace, &names::restore_create_job(&name));
    let failed = |run: &Option<JobRun>| {
        run.as_ref()
            .filter(|r| matches!(r.outcome, JobOutcome::Failed { .. }))
            .map(|r| r.name.clone())
    };
    let failed_job = match step {
        Step::Restoring | Step::Seeding => failed(&restore_run),
        Step::Creating => failed(&create_run),
        _ => None,
    };
    let failure_detail = match failed_job {
        Some(job) => ctx.failure_detail(&namespace, &job).await,
        None => None,
    };
    let mut observed = RestoreObserved {
        target: target.as_ref().map(|t| t.kind),
        source,
        blocked_by: None,
        statefulset,
        restore_job: restore_run,
        create_job: create_run,
        failure_detail,
        render_error: jobs.as_ref().and_then(|j| j.as_ref().err().cloned()),
    };

    // Checking for another restore and letting this one start happen under one lock.
    let decision = {
        let mut claims = ctx.claims.lock().unwrap_or_else(|p| p.into_inner());
        let kind = target.as_ref().map(|t| t.kind);
        if step == Step::Waiting
            && let Some(kind) = kind
        {
            observed.blocked_by = blocked_by(ctx, &claims, &defaulted, kind);
        }
        let d = status_restore::restore(&defaulted, &observed, &verdict, previous, now());
        if let Some(kind) = kind {
            let key = exclusion_key(&defaulted, kind);
            let uid = r.uid().unwrap_or_default();
            if d.step.in_progress() {
                claims.insert(key, (uid, name.clone()));
            } else if claims.get(&key).is_some_and(|(holder, _)| *holder == uid) {
                claims.remove(&key);
            }
        }
        d
    };

    if decision.step.holds_target() && !has_finalizer {
        set_finalizer(ctx, r, Kind::Restore, FINALIZER, true).await?;
    }
    if let (Some(job), Some(Ok(jobs))) = (decision.job, jobs.as_ref()) {
        let desired = match job {
            StepJob::Restore | StepJob::Seed => Some(&jobs.restore),
            StepJob::Create => jobs.create.as_ref(),
        };
        if let Some(d) = desired {
            ctx.apply(Kind::Restore.name(), &namespace, d).await?;
        }
    }
    if previous != Some(&decision.status) {
        write_status(ctx, r, Kind::Restore, &decision.status).await?;
        if decision.step != step {
            let message = decision.status.message.clone().unwrap_or_default();
            match decision.step {
                Step::Failed => {
                    ctx.event(r, Kind::Restore, true, "RestoreFailed", &message)
                        .await
                }
                Step::Succeeded => {
                    ctx.event(r, Kind::Restore, false, "RestoreSucceeded", &message)
                        .await
                }
                s => {
                    ctx.event(r, Kind::Restore, false, s.as_str(), &message)
                        .await
                }
            }
        }
    }
    if decision.step.is_final() && has_finalizer {
        set_finalizer(ctx, r, Kind::Restore, FINALIZER, false).await?;
    }
    Ok(if decision.poll {
        if matches!(decision.step, Step::Stopping | Step::Starting) {
            Action::requeue(STS_POLL)
        } else {
            Action::requeue(WAIT_POLL)
        }
    } else {
        Action::requeue(RESYNC)
    })
}

/// One Warning event per finding, reason = rule id, once per generation.
async fn publish_findings(ctx: &OpsContext, r: &Neo4jRestore, verdict: &Verdict) {
    for f in verdict.errors.iter().chain(&verdict.warnings) {
        ctx.event(r, Kind::Restore, true, f.rule, &f.to_string())
            .await;
    }
}
