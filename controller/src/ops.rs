//! What the controllers of Neo4jBackup and Neo4jRestore share: the watches of the backups
//! and restores themselves (each reads the other's, and a restore's step decides whether its
//! standalone runs), the [`OpsContext`] handed to their reconciles, and the few API calls
//! they make: server-side apply of a child through the same path as the instance kinds
//! (`apply::apply`: fenced, skipped when the cache holds it), status by server-side apply on
//! the status subresource, the finalizer, and reading why a Job's pod failed.
//!
//! Their Jobs and CronJobs are child kinds of the shared caches (`cache::ops_child_kinds`):
//! every change of one, deletions included, reaches the backup or restore it belongs to
//! through the [`Router`].

use std::collections::{BTreeMap, HashSet};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PropagationPolicy};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use neo4j_shared::names::{FIELD_MANAGER, LABEL_JOB_NAME};
use neo4j_shared::render::DesiredObject;
use neo4j_shared::text::one_line;
use neo4j_shared::types::{
    Kind, Neo4jBackup, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, Neo4jRestore,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::cache::{self, Driver, Owner, Router};
use crate::context::Context;
use crate::error::{Error, Result, is_conflict, is_not_found};
use crate::health::Health;

/// Longest failure reason read from a pod.
const DETAIL_MAX_CHARS: usize = 600;

/// The watch of an operation kind `K`: its store, and the future driving it. Every event,
/// deletions included, is handed to `route` once the store holds it: the controllers of the
/// operation kinds are triggered through the [`Router`] (their own objects as well as their
/// Jobs), and the restores' watch also asks for a reconcile of the standalone a restore
/// names. Driven on its own (not by a controller), so the store can be awaited before any
/// controller starts.
pub fn watch<K>(
    client: &Client,
    namespace: Option<&str>,
    health: &Health,
    route: impl Fn(&K) + Send + 'static,
) -> (Store<K>, Driver)
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store::<K>();
    let events = cache::healthy_watch(api, cache::watch_config(), health, &K::kind(&()))
        .modify(cache::slim_instance::<K>)
        .reflect(writer);
    let driver = events.for_each(move |item| {
        if let Ok(
            watcher::Event::Apply(o) | watcher::Event::InitApply(o) | watcher::Event::Delete(o),
        ) = &item
        {
            route(o);
        }
        futures_util::future::ready(())
    });
    (reader, Box::pin(driver))
}

/// Routes every change of a backup or restore to its own controller.
pub fn route_self<K: Resource<DynamicType = ()>>(
    router: Arc<Router>,
) -> impl Fn(&K) + Send + 'static {
    move |obj: &K| {
        if let (Some(ns), Some(name)) = (obj.meta().namespace.as_deref(), &obj.meta().name) {
            router.send(
                ns,
                &Owner {
                    kind: K::kind(&()).into_owned(),
                    name: name.clone(),
                },
            );
        }
    }
}

/// A restore's changes reach its own controller and, since a restore's step decides whether
/// its standalone runs, the standalone it names (its deletion included).
pub fn route_restore(router: Arc<Router>) -> impl Fn(&Neo4jRestore) + Send + 'static {
    let own = route_self::<Neo4jRestore>(router.clone());
    move |r: &Neo4jRestore| {
        own(r);
        let (Some(ns), Some(target)) = (
            r.metadata.namespace.as_deref(),
            r.spec.instance_ref.as_deref().filter(|t| !t.is_empty()),
        ) else {
            return;
        };
        router.send(
            ns,
            &Owner {
                kind: "Neo4jEnterpriseStandalone".to_string(),
                name: target.to_string(),
            },
        );
    }
}

/// What every backup and restore reconcile shares.
pub struct OpsContext {
    pub base: Arc<Context>,
    pub backups: Store<Neo4jBackup>,
    pub restores: Store<Neo4jRestore>,
    pub clusters: Store<Neo4jEnterpriseCluster>,
    pub standalones: Store<Neo4jEnterpriseStandalone>,
    /// The cluster's DNS domain (`svc.<domain>` names of the servers).
    pub domain: String,
    /// Restores let start by this process, by exclusion key: `(uid, name)`. Together with the
    /// steps recorded in status this keeps two restores of one database (or one standalone)
    /// from ever running at once, even when their reconciles run in parallel.
    pub claims: Mutex<BTreeMap<String, (String, String)>>,
    /// Jobs this process applied that the cache has not shown yet.
    recent_jobs: Mutex<HashSet<String>>,
}

/// Waits until `store` has its initial list.
async fn store_ready<K>(store: &Store<K>) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    store
        .wait_until_ready()
        .await
        .map_err(|_| Error::MissingField("a watch cache"))
}

impl OpsContext {
    /// Reads the Jobs and CronJobs from the child caches of `base`, and the stores of the
    /// operation kinds, the clusters and the standalones.
    pub fn new(
        base: Arc<Context>,
        backups: Store<Neo4jBackup>,
        restores: Store<Neo4jRestore>,
        clusters: Store<Neo4jEnterpriseCluster>,
        standalones: Store<Neo4jEnterpriseStandalone>,
    ) -> OpsContext {
        let domain = base.site.cluster_domain.clone();
        OpsContext {
            base,
            backups,
            restores,
            clusters,
            standalones,
            domain,
            claims: Mutex::new(BTreeMap::new()),
            recent_jobs: Mutex::new(HashSet::new()),
        }
    }

    /// Remembers that this process applied the Job `namespace/name` (the cache may not show it
    /// yet).
    pub fn applied_job(&self, namespace: &str, name: &str) {
        let mut recent = self.recent_jobs.lock().unwrap_or_else(|p| p.into_inner());
        recent.insert(format!("{namespace}/{name}"));
    }

    /// Whether the Job `namespace/name` is missing from the cache only because the watch has
    /// not delivered it yet: this process applied it, and the cache has never shown it since.
    pub fn job_in_flight(&self, namespace: &str, name: &str) -> bool {
        let key = format!("{namespace}/{name}");
        let mut recent = self.recent_jobs.lock().unwrap_or_else(|p| p.into_inner());
        if self.job(namespace, name).is_some() {
            recent.remove(&key);
            return false;
        }
        recent.contains(&key)
    }

    /// Waits until the stores of the operation kinds have their initial list (the child
    /// caches, Jobs and CronJobs included, are awaited too before any controller starts).
    pub async fn ready(&self) -> Result<()> {
        store_ready(&self.backups).await?;
        store_ready(&self.restores).await
    }

    /// Waits until the clusters' and standalones' stores have their initial list, so a
    /// target is never reported missing only because the cache is still empty.
    pub async fn targets_ready(&self) -> Result<()> {
        store_ready(&self.clusters).await?;
        store_ready(&self.standalones).await
    }

    pub fn job(&self, namespace: &str, name: &str) -> Option<Job> {
        self.base.caches.job(namespace, name)
    }

    /// Every cached Job in `namespace`.
    pub fn jobs_in(&self, namespace: &str) -> Vec<Job> {
        self.base.caches.jobs_in(namespace)
    }

    pub fn cronjob(&self, namespace: &str, name: &str) -> Option<CronJob> {
        self.base.caches.cronjob(namespace, name)
    }

    pub fn cluster(&self, namespace: &str, name: &str) -> Option<Arc<Neo4jEnterpriseCluster>> {
        self.clusters.get(&ObjectRef::new(name).within(namespace))
    }

    pub fn standalone(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<Neo4jEnterpriseStandalone>> {
        self.standalones
            .get(&ObjectRef::new(name).within(namespace))
    }

    /// Server-side applies `desired` unless the cache holds it with the same hash and owned
    /// content: the instance kinds' path (`apply::apply`), fenced. Returns whether a write
    /// was sent.
    pub async fn apply(
        &self,
        owner_kind: &'static str,
        namespace: &str,
        desired: &DesiredObject,
    ) -> Result<bool> {
        crate::apply::apply(&self.base, owner_kind, namespace, desired).await
    }

    /// Deletes a child (gone already is fine); `foreground` waits for its pods.
    pub async fn delete<K>(
        &self,
        owner_kind: &'static str,
        namespace: &str,
        name: &str,
        foreground: bool,
    ) -> Result<()>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let plural = K::plural(&()).to_string();
        let api: Api<K> = Api::namespaced(self.base.client.clone(), namespace);
        let params = DeleteParams {
            propagation_policy: Some(if foreground {
                PropagationPolicy::Foreground
            } else {
                PropagationPolicy::Background
            }),
            ..Default::default()
        };
        self.base.fence.check()?;
        self.base
            .metrics
            .wrote(owner_kind, plural_label(&plural), "delete");
        match api.delete(name, &params).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(Error::kube("delete", plural, name, e)),
        }
    }

    /// Why the pods of Job `job` failed: the termination message of the last container that
    /// ended with an error (the end of its log: containers say
    /// `terminationMessagePolicy: FallbackToLogsOnError`). One LIST, made once per failed run.
    pub async fn failure_detail(&self, namespace: &str, job: &str) -> Option<String> {
        let pods: Api<Pod> = Api::namespaced(self.base.client.clone(), namespace);
        let list = match pods
            .list(&ListParams::default().labels(&format!("{LABEL_JOB_NAME}={job}")))
            .await
        {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(job, error = %e, "cannot read the pods of a failed Job");
                return None;
            }
        };
        let mut messages: Vec<String> = Vec::new();
        for pod in list.items {
            let status = pod.status.unwrap_or_default();
            for c in status
                .init_container_statuses
                .into_iter()
                .flatten()
                .chain(status.container_statuses.into_iter().flatten())
            {
                let Some(t) = c.state.and_then(|s| s.terminated) else {
                    continue;
                };
                if t.exit_code == 0 {
                    continue;
                }
                let text = t
                    .message
                    .filter(|m| !m.trim().is_empty())
                    .or(t.reason)
                    .map(|m| format!("{}: {}", c.name, last_lines(&m)))
                    .unwrap_or_else(|| format!("{}: exit code {}", c.name, t.exit_code));
                messages.push(text);
            }
        }
        messages.pop().map(|m| one_line(&m, DETAIL_MAX_CHARS))
    }

    /// Publishes a Normal or Warning event about `obj` (transitions only, so it costs writes
    /// only when something happened).
    pub async fn event<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        kind: Kind,
        warning: bool,
        reason: &str,
        note: &str,
    ) {
        let event = Event {
            type_: if warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: reason.to_string(),
            note: Some(one_line(note, 1000)),
            action: "Reconcile".to_string(),
            secondary: None,
        };
        if self.base.fence.check().is_err() {
            return;
        }
        self.base.metrics.wrote(kind.name(), "events", "create");
        if let Err(e) = self
            .base
            .recorder
            .publish(&event, &obj.object_ref(&()))
            .await
        {
            tracing::warn!(reason, error = %e, "event not recorded");
        }
    }
}

/// The last few lines of a termination message, where the error usually is.
fn last_lines(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// The `resource` label of a write, as a `&'static str` (metric labels come from closed sets).
fn plural_label(plural: &str) -> &'static str {
    match plural {
        "jobs" => "jobs",
        "cronjobs" => "cronjobs",
        "persistentvolumeclaims" => "persistentvolumeclaims",
        _ => "other",
    }
}

/// Writes `status` through the status subresource by server-side apply.
pub async fn write_status<K, S>(ctx: &OpsContext, obj: &K, kind: Kind, status: &S) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
    S: Serialize,
{
    let namespace = obj.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = obj.name_any();
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": {"name": name},
        "status": status,
    });
    let api: Api<K> = Api::namespaced(ctx.base.client.clone(), &namespace);
    let resource = status_label(kind);
    ctx.base.fence.check()?;
    ctx.base.metrics.wrote(kind.name(), resource, "apply");
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
                ctx.base.metrics.conflict(resource);
            }
            Err(Error::kube("apply", resource, name, e))
        }
    }
}

pub fn status_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Backup => "neo4jbackups/status",
        Kind::Restore => "neo4jrestores/status",
        _ => "status",
    }
}

/// Sets (`present`) or gives up this controller's entry of `metadata.finalizers`, by
/// server-side apply of that field alone.
pub async fn set_finalizer<K>(
    ctx: &OpsContext,
    obj: &K,
    kind: Kind,
    finalizer: &str,
    present: bool,
) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let namespace = obj.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = obj.name_any();
    let mut metadata = json!({"name": name});
    if present {
        metadata["finalizers"] = json!([finalizer]);
    }
    let patch =
        json!({"apiVersion": K::api_version(&()), "kind": K::kind(&()), "metadata": metadata});
    ctx.base.fence.check()?;
    ctx.base.metrics.wrote(kind.name(), kind.plural(), "apply");
    let api: Api<K> = Api::namespaced(ctx.base.client.clone(), &namespace);
    match api
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if !present && is_not_found(&e) => Ok(()),
        Err(e) => Err(Error::kube("apply", kind.plural(), name, e)),
    }
}

/// Runs a reconcile of an operation kind with the shared bookkeeping: duration and result
/// metrics, the failure counts behind the backoff.
pub async fn timed<F>(kind: Kind, key: String, ctx: &OpsContext, work: F) -> Result<Action>
where
    F: std::future::Future<Output = Result<Action>>,
{
    let started = Instant::now();
    let result = work.await;
    let label = match &result {
        Ok(_) => "ok",
        Err(e) => e.metric_label(),
    };
    ctx.base
        .metrics
        .reconciled(kind.name(), label, started.elapsed());
    if result.is_ok() {
        ctx.base.failures.succeed(&key);
    }
    result
}

/// Transient errors back off per object; anything else waits for a change.
pub fn error_action(ctx: &OpsContext, key: &str, error: &Error) -> Action {
    if error.is_transient() {
        let delay = ctx.base.failures.fail(key);
        tracing::warn!(%error, retry_in = ?delay, "reconcile failed");
        Action::requeue(delay)
    } else {
        tracing::error!(%error, "reconcile failed; waiting for a change");
        Action::await_change()
    }
}

/// Counts the objects of a store by `status.phase` into `neo4j_controller_objects`.
pub fn count_phases<K: Resource<DynamicType = ()> + Clone + 'static>(
    metrics: &crate::metrics::Metrics,
    kind: Kind,
    store: &Store<K>,
    phase: impl Fn(&K) -> Option<String>,
) {
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for obj in store.state() {
        let p = phase(&obj).unwrap_or_else(|| "Unknown".to_string());
        *counts.entry(p).or_default() += 1;
    }
    metrics.set_objects(kind.name(), counts);
}
