//! The reconcile shared by both kinds: defaults and validation from `shared`, the finalizer,
//! server-side apply of the rendered objects in order, then status. The kind-specific parts
//! (which renderer, which StatefulSet) are the [`Instance`] trait, implemented in `cluster.rs`
//! and `standalone.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use neo4j_shared::Verdict;
use neo4j_shared::names::FIELD_MANAGER;
use neo4j_shared::render::RenderError;
use neo4j_shared::status::Observed;
use neo4j_shared::types::Kind;
use serde_json::json;
use tracing::Instrument as _;

use crate::apply;
use crate::context::Context;
use crate::error::{Error, Result, is_conflict};
use crate::finalizer::{self, Step};
use crate::instance::Instance;

/// A healthy object is reconciled again only on change, or after this long as a safety net.
pub const RESYNC: Duration = Duration::from_secs(30 * 60);

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
    let result = reconcile_object(&*obj, &ctx).instrument(span(&*obj)).await;
    let label = match &result {
        Ok((_, outcome)) => outcome.label(),
        Err(e) => e.metric_label(),
    };
    ctx.metrics
        .reconciled(K::KIND.name(), label, started.elapsed());
    if result.is_ok() {
        ctx.failures.succeed(&key(&*obj));
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
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Applied => "ok",
            Outcome::Invalid => "invalid",
            Outcome::RenderFailed => "render_error",
            Outcome::Deleted => "deleted",
        }
    }
}

/// Transient errors back off exponentially per object; anything else waits for a change.
pub fn error_policy<K: Instance>(obj: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action {
    let _span = span(&*obj).entered();
    if error.is_transient() {
        let delay = ctx.failures.fail(&key(&*obj));
        tracing::warn!(%error, retry_in = ?delay, "reconcile failed");
        Action::requeue(delay)
    } else {
        tracing::error!(%error, "reconcile failed; waiting for a change");
        Action::await_change()
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
        let observed = observe(ctx, obj, &namespace, None);
        write_status(ctx, obj, &defaulted, observed, &verdict).await?;
        return Ok((Action::await_change(), Outcome::Invalid));
    }

    match finalizer::step(false, has_finalizer, defaulted.retention_policy()) {
        Step::Add => finalizer::set(ctx, obj, true).await?,
        Step::Remove => finalizer::set(ctx, obj, false).await?,
        Step::DeletePvcsThenRemove | Step::Nothing => {}
    }

    let desired = match defaulted.render_in(ctx) {
        Ok(d) => d,
        Err(e) => {
            // Permanent for this generation (admission refuses every such spec).
            if seen_generation != generation {
                publish(ctx, obj, e.reason(), &e.to_string(), "Render").await;
            }
            let observed = observe(ctx, obj, &namespace, Some(e));
            write_status(ctx, obj, &defaulted, observed, &verdict).await?;
            return Ok((Action::await_change(), Outcome::RenderFailed));
        }
    };
    let mut writes = 0;
    for d in &desired {
        if apply::apply(ctx, K::KIND.name(), &namespace, d).await? {
            writes += 1;
        }
    }
    if writes > 0 {
        tracing::info!(writes, "applied");
    }
    let observed = observe(ctx, obj, &namespace, None);
    write_status(ctx, obj, &defaulted, observed, &verdict).await?;
    Ok((Action::requeue(RESYNC), Outcome::Applied))
}

fn observe<K: Instance>(
    ctx: &Context,
    obj: &K,
    namespace: &str,
    render_error: Option<RenderError>,
) -> Observed {
    Observed {
        statefulset: ctx
            .caches
            .statefulset(namespace, &obj.statefulset_name())
            .map(|s| (*s).clone()),
        certificate_ready: ctx
            .caches
            .certificate_ready(namespace, &obj.certificate_name()),
        render_error,
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

fn status_resource<K: Instance>() -> &'static str {
    // Every kind is in the map; the fallback only keeps this total.
    STATUS_RESOURCES
        .get(&K::KIND)
        .map_or("status", String::as_str)
}

/// One Warning event per finding, reason = rule id, so `kubectl describe` shows what admission
/// said (or would have said). Called once per generation.
async fn publish_findings<K: Instance>(ctx: &Context, obj: &K, verdict: &Verdict) {
    for (finding, action) in verdict
        .errors
        .iter()
        .map(|f| (f, "Validate"))
        .chain(verdict.warnings.iter().map(|f| (f, "Admit")))
    {
        publish(ctx, obj, finding.rule, &finding.to_string(), action).await;
    }
}

async fn publish<K: Instance>(ctx: &Context, obj: &K, reason: &str, note: &str, action: &str) {
    let event = Event {
        type_: EventType::Warning,
        reason: reason.to_string(),
        note: Some(truncate(note, 1000)),
        action: action.to_string(),
        secondary: None,
    };
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

    #[test]
    fn truncates_long_notes_on_a_char_boundary() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("ééé", 2), "éé…");
    }
}
