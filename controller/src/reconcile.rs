//! The reconcile shared by both kinds: defaults and validation from `shared`, the finalizer,
//! server-side apply of the rendered objects in order, then status. The kind-specific parts
//! (which renderer, which StatefulSet) are the [`Instance`] trait, implemented in `cluster.rs`
//! and `standalone.rs`.
//!
//! Failures are reported where users look, not only in the log: a request the API server
//! refuses at once, and any other failure from its [`PERSISTENT_AFTER`]th repetition on, is
//! written to the status (`Ready=False`, reason `ApplyRejected`, `ApiError` or — while the
//! object is being deleted — `DeletionBlocked`, with the API server's message) and becomes one
//! Warning event per generation. Retries back off per object (`backoff.rs`).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};
use neo4j_shared::Verdict;
use neo4j_shared::names::FIELD_MANAGER;
use neo4j_shared::policy::Policy;
use neo4j_shared::render::RenderError;
use neo4j_shared::status::{FailureKind, Observed, WriteFailure};
use neo4j_shared::types::Kind;
use serde_json::json;
use tracing::Instrument as _;

use crate::apply;
use crate::backoff::DELETION_CAP;
use crate::context::Context;
use crate::error::{Error, Result, is_conflict};
use crate::finalizer::{self, Step};
use crate::instance::Instance;

/// A healthy object is reconciled again only on change, or after this long as a safety net.
pub const RESYNC: Duration = Duration::from_secs(30 * 60);
/// How soon an object whose Secrets keep its pods from starting is checked again: Secrets are
/// read, not watched, so their fix would otherwise wait for the safety net.
pub const SECRET_RECHECK: Duration = Duration::from_secs(30);

/// Consecutive failures after which a failure that is not a refusal is reported in the
/// status and an event (the first ones may be a blip: a restarting API server, a conflict).
pub const PERSISTENT_AFTER: u32 = 3;

/// The span around everything done for one object: every log line of its reconcile (and of
/// its error policy) carries the kind, namespace and name from here.
fn span<K: Instance>(obj: &K) -> tracing::Span {
    let meta = obj.meta();
    tracing::info_span!(
        "reconcile",
        kind = K::KIND.name(),
        namespace = meta.namespace.as_deref().unwrap_or_default(),
        name = meta.name.as_deref().unwrap_or_default(),
    )
}

/// Key of an object in the failure counts.
pub fn key<K: Instance>(obj: &K) -> String {
    format!(
        "{}/{}/{}",
        K::KIND.name(),
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

/// Entry point handed to `Controller::run`.
pub async fn reconcile<K: Instance>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action> {
    let started = Instant::now();
    let span = span(&*obj);
    let result = reconcile_object(&*obj, &ctx).instrument(span.clone()).await;
    let label = match &result {
        Ok((_, outcome)) => outcome.label(),
        Err(e) => e.metric_label(),
    };
    ctx.metrics
        .reconciled(K::KIND.name(), label, started.elapsed());
    let key = key(&*obj);
    match &result {
        Ok((_, Outcome::Deleted)) => {
            ctx.failures.succeed(&key);
            ctx.reported
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
        }
        Ok(_) => ctx.failures.succeed(&key),
        Err(e) => report_failure(&*obj, &ctx, e).instrument(span).await,
    }
    result.map(|(action, _)| action)
}

/// How a reconcile that raised no error ended (the `result` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Children applied (or already in place) and status written.
    Applied,
    /// The spec fails validation: status says so, nothing is materialized.
    Invalid,
    /// The spec cannot be rendered: status says so, nothing is applied.
    RenderFailed,
    /// Deletion handled (finalizer work done or nothing to do).
    Deleted,
}

impl Outcome {
    /// Every outcome label (for creating the series at start-up).
    pub const LABELS: [&'static str; 4] = ["ok", "invalid", "render_error", "deleted"];

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Applied => "ok",
            Outcome::Invalid => "invalid",
            Outcome::RenderFailed => "render_error",
            Outcome::Deleted => "deleted",
        }
    }
}

/// Every `result` label of `neo4j_controller_reconciles_total`.
pub fn result_labels() -> Vec<&'static str> {
    Outcome::LABELS.into_iter().chain(Error::LABELS).collect()
}

/// Transient errors back off exponentially per object (capped lower while it is being deleted,
/// so a deletion completes within seconds once the API server accepts it); anything else waits
/// for a change.
pub fn error_policy<K: Instance>(obj: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action {
    let _span = span(&*obj).entered();
    if error.is_transient() {
        let delay = if obj.meta().deletion_timestamp.is_some() {
            ctx.failures.fail_capped(&key(&*obj), DELETION_CAP)
        } else {
            ctx.failures.fail(&key(&*obj))
        };
        tracing::warn!(%error, retry_in = ?delay, "reconcile failed");
        Action::requeue(delay)
    } else {
        tracing::error!(%error, "reconcile failed; waiting for a change");
        Action::await_change()
    }
}

/// How a failed reconcile shows in the status: refused requests (and errors no retry can
/// fix) at once, other failures once they persist; while the object is being deleted, any
/// persistent failure blocks the deletion. `None`: not (yet) worth reporting.
pub fn failure_kind(error: &Error, deleting: bool, failures: u32) -> Option<FailureKind> {
    if matches!(error, Error::NotLeader(_)) {
        return None;
    }
    let refused = error.is_rejection() || !matches!(error, Error::Kube { .. });
    if deleting {
        (refused || failures >= PERSISTENT_AFTER).then_some(FailureKind::DeletionBlocked)
    } else if refused {
        Some(FailureKind::Rejected)
    } else {
        (failures >= PERSISTENT_AFTER).then_some(FailureKind::Unavailable)
    }
}

/// Writes a failure into the status (when it changes it) and, once per generation and
/// reason, a Warning event. Best effort: when the API server cannot take these writes either,
/// the log is all there is.
async fn report_failure<K: Instance>(obj: &K, ctx: &Context, error: &Error) {
    let deleting = obj.meta().deletion_timestamp.is_some();
    // This failure is counted by the error policy, which runs after.
    let failures = ctx.failures.count(&key(obj)).saturating_add(1);
    let Some(kind) = failure_kind(error, deleting, failures) else {
        return;
    };
    let Some(namespace) = obj.namespace() else {
        return;
    };
    let failure = WriteFailure {
        kind,
        message: error.status_message(),
    };
    let defaulted = obj.defaulted();
    let verdict = defaulted.validate();
    let mut observed = observe(ctx, obj, &namespace, None, None);
    observed.write_failure = Some(failure.clone());
    observed.deleting = deleting;
    if let Err(e) = write_status(ctx, obj, &defaulted, observed, &verdict).await {
        tracing::debug!(error = %e, "could not write the failure into the status");
    }
    let generation = obj.meta().generation;
    let reason = kind.reason();
    let in_status = obj.current_status().is_some_and(|s| {
        K::conditions(s).iter().any(|c| {
            c.type_ == "Ready" && c.reason == reason && c.observed_generation == generation
        })
    });
    let first = {
        let mut reported = ctx.reported.lock().unwrap_or_else(|p| p.into_inner());
        let first = !in_status && reported.get(&key(obj)) != Some(&(generation, reason));
        reported.insert(key(obj), (generation, reason));
        first
    };
    if first {
        publish(ctx, obj, reason, &failure.message, "Reconcile").await;
    }
}

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

async fn reconcile_object<K: Instance>(obj: &K, ctx: &Context) -> Result<(Action, Outcome)> {
    let namespace = obj.namespace().ok_or(Error::MissingField("namespace"))?;
    let defaulted = obj.defaulted();
    let has_finalizer = obj.finalizers().iter().any(|f| f == K::FINALIZER);
    let deleting = obj.meta().deletion_timestamp.is_some();

    if deleting {
        match finalizer::step(true, has_finalizer, defaulted.retention_policy()) {
            Step::DeletePvcsThenRemove => {
                let n = finalizer::delete_pvcs(ctx, obj).await?;
                tracing::info!(pvcs = n, "deleted data PVCs");
                finalizer::set(ctx, obj, false).await?;
            }
            Step::Remove => finalizer::set(ctx, obj, false).await?,
            Step::Add | Step::Nothing => {}
        }
        return Ok((Action::await_change(), Outcome::Deleted));
    }

    let verdict = defaulted.validate();
    let generation = obj.meta().generation;
    let seen_generation = obj.current_status().and_then(K::observed_generation);
    if seen_generation != generation {
        publish_findings(ctx, obj, &verdict).await;
    }
    if !verdict.allowed() {
        // Not materialized, not retried: only a new generation re-triggers.
        let observed = observe(ctx, obj, &namespace, None, None);
        write_status(ctx, obj, &defaulted, observed, &verdict).await?;
        return Ok((Action::await_change(), Outcome::Invalid));
    }

    match finalizer::step(false, has_finalizer, defaulted.retention_policy()) {
        Step::Add => finalizer::set(ctx, obj, true).await?,
        Step::Remove => finalizer::set(ctx, obj, false).await?,
        Step::DeletePvcsThenRemove | Step::Nothing => {}
    }

    let mut desired = match defaulted.render_in(ctx) {
        Ok(d) => d,
        Err(e) => {
            // Permanent for this generation (admission refuses every such spec).
            if seen_generation != generation {
                publish(ctx, obj, e.reason(), &e.to_string(), "Render").await;
            }
            let observed = observe(ctx, obj, &namespace, Some(e), None);
            write_status(ctx, obj, &defaulted, observed, &verdict).await?;
            return Ok((Action::await_change(), Outcome::RenderFailed));
        }
    };
    // In order, stopping at the first failure: the StatefulSet comes last, so pods never roll
    // onto a configuration that could not be written.
    follow_certificate(ctx, obj, &namespace, &mut desired);
    let secrets = crate::secrets::check(ctx, &namespace, &defaulted.secret_needs()).await;
    let mut writes = 0;
    for d in &desired {
        if apply::apply(ctx, K::KIND.name(), &namespace, d).await? {
            writes += 1;
        }
    }
    if writes > 0 {
        tracing::info!(writes, "applied");
    }
    let recheck = secrets.as_ref().is_some_and(|p| !p.is_empty());
    let observed = observe(ctx, obj, &namespace, None, secrets);
    write_status(ctx, obj, &defaulted, observed, &verdict).await?;
    let after = if recheck { SECRET_RECHECK } else { RESYNC };
    Ok((Action::requeue(after), Outcome::Applied))
}

/// Stamps the Certificate revision the servers should run with on the rendered StatefulSet
/// (`render::tls_revision`): a renewed certificate restarts the servers one at a time, and only
/// once all of them are ready.
fn follow_certificate<K: Instance>(
    ctx: &Context,
    obj: &K,
    namespace: &str,
    desired: &mut [neo4j_shared::render::DesiredObject],
) {
    let live = ctx.caches.statefulset(namespace, &obj.statefulset_name());
    let running = live.as_ref().and_then(crate::cache::tls_revision);
    let issued = ctx
        .caches
        .certificate_revision(namespace, &obj.certificate_name());
    let revision = neo4j_shared::render::tls_revision(running, issued, live.as_ref());
    if running.is_some_and(|r| r != revision) {
        tracing::info!(
            from = running,
            to = revision,
            "certificate renewed; restarting the servers one at a time"
        );
    }
    neo4j_shared::render::set_tls_revision(desired, revision);
}

fn observe<K: Instance>(
    ctx: &Context,
    obj: &K,
    namespace: &str,
    render_error: Option<RenderError>,
    secrets: Option<Vec<neo4j_shared::secrets::SecretProblem>>,
) -> Observed {
    Observed {
        secrets,
        cluster_domain: Some(ctx.site.cluster_domain.clone()),
        statefulset: ctx.caches.statefulset(namespace, &obj.statefulset_name()),
        certificate_ready: ctx
            .caches
            .certificate_ready(namespace, &obj.certificate_name()),
        render_error,
        ..Default::default()
    }
}

/// Writes status through the status subresource by server-side apply, unless it would not
/// change.
async fn write_status<K: Instance>(
    ctx: &Context,
    obj: &K,
    defaulted: &K,
    observed: Observed,
    verdict: &Verdict,
) -> Result<()> {
    // The status functions read the previous status from the object itself.
    let status = defaulted.compute_status(&observed, verdict, now());
    if obj.current_status() == Some(&status) {
        return Ok(());
    }
    let namespace = obj.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = obj.name_any();
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": {"name": name},
        "status": status,
    });
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
    let resource = status_resource::<K>();
    ctx.fence.check()?;
    ctx.metrics.wrote(K::KIND.name(), resource, "apply");
    match api
        .patch_status(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            if is_conflict(&e) {
                ctx.metrics.conflict(resource);
            }
            Err(Error::kube("apply", resource, name, e))
        }
    }
}

/// `<plural>/status` of every kind, built once so that the `resource` label of status writes
/// stays a `&'static str`.
static STATUS_RESOURCES: LazyLock<BTreeMap<Kind, String>> = LazyLock::new(|| {
    Kind::ALL
        .into_iter()
        .map(|kind| (kind, format!("{}/status", kind.plural())))
        .collect()
});

pub fn status_resource<K: Instance>() -> &'static str {
    // Every kind is in the map; the fallback only keeps this total.
    STATUS_RESOURCES
        .get(&K::KIND)
        .map_or("status", String::as_str)
}

/// One Warning event per finding, reason = rule id, so `kubectl describe` shows what admission
/// said (or would have said). Called once per generation.
pub(crate) async fn publish_findings<K: Policy + Resource<DynamicType = ()>>(
    ctx: &Context,
    obj: &K,
    verdict: &Verdict,
) {
    for (finding, action) in verdict
        .errors
        .iter()
        .map(|f| (f, "Validate"))
        .chain(verdict.warnings.iter().map(|f| (f, "Admit")))
    {
        publish(ctx, obj, finding.rule, &finding.to_string(), action).await;
    }
}

pub(crate) async fn publish<K: Policy + Resource<DynamicType = ()>>(
    ctx: &Context,
    obj: &K,
    reason: &str,
    note: &str,
    action: &str,
) {
    let event = Event {
        type_: EventType::Warning,
        reason: reason.to_string(),
        note: Some(truncate(note, 1000)),
        action: action.to_string(),
        secondary: None,
    };
    if ctx.fence.check().is_err() {
        return;
    }
    ctx.metrics.wrote(K::KIND.name(), "events", "create");
    if let Err(e) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        tracing::warn!(reason, error = %e, "event not recorded");
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> Error {
        Error::kube(
            "apply",
            "services",
            "g-client",
            kube::Error::Api(Box::new(kube::core::Status {
                code,
                ..Default::default()
            })),
        )
    }

    #[test]
    fn refusals_are_reported_at_once_other_failures_once_they_persist() {
        use FailureKind::*;
        let refused = api_error(422);
        let unavailable = api_error(503);
        let table = [
            (&refused, false, 1, Some(Rejected)),
            (&unavailable, false, 1, None),
            (&unavailable, false, PERSISTENT_AFTER - 1, None),
            (&unavailable, false, PERSISTENT_AFTER, Some(Unavailable)),
            (&refused, true, 1, Some(DeletionBlocked)),
            (&unavailable, true, 1, None),
            (&unavailable, true, PERSISTENT_AFTER, Some(DeletionBlocked)),
            (&Error::CertManagerMissing, false, 1, Some(Rejected)),
        ];
        for (error, deleting, failures, want) in table {
            assert_eq!(
                failure_kind(error, deleting, failures),
                want,
                "{error} deleting={deleting} failures={failures}"
            );
        }
        let fenced = Error::NotLeader(crate::fence::NotLeader);
        assert_eq!(
            failure_kind(&fenced, false, 10),
            None,
            "a fenced replica writes nothing"
        );
    }

    #[test]
    fn every_result_label_is_listed() {
        let labels = result_labels();
        for l in [
            "ok",
            "invalid",
            "render_error",
            "deleted",
            "conflict",
            "rejected",
            "kube_error",
            "not_leader",
        ] {
            assert!(labels.contains(&l), "{l}");
        }
    }

    #[test]
    fn truncates_long_notes_on_a_char_boundary() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("ééé", 2), "éé…");
    }
}
