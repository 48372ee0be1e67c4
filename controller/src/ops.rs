//! What the controllers of Neo4jBackup and Neo4jRestore share: the watch caches of the Jobs
//! and CronJobs they make (and of the backups and restores themselves, which each reads of
//! the other), the [`OpsContext`] handed to their reconciles, and the few API calls they make:
//! server-side apply of a child unless the cache already holds its hash, status by
//! server-side apply on the status subresource, the finalizer, and reading why a Job's pod
//! failed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PropagationPolicy,
};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::{self, ObjectRef, ReflectHandle, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use neo4j_shared::names::{FIELD_MANAGER, LABEL_JOB_NAME};
use neo4j_shared::render::{DESIRED_HASH_ANNOTATION, DesiredObject};
use neo4j_shared::text::one_line;
use neo4j_shared::types::{
    Kind, Neo4jBackup, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, Neo4jRestore,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::apply::{self, Decision, api_resource};
use crate::cache::{Cached, Driver, watch_config};
use crate::context::Context;
use crate::error::{Error, Result, is_conflict, is_not_found};

/// Buffer of each shared store's fan-out (as the child caches have).
const SUBSCRIBER_BUFFER: usize = 1024;

/// Longest failure reason read from a pod.
const DETAIL_MAX_CHARS: usize = 600;

/// Drops what no decision reads from a cached Job or CronJob: managed fields, annotations but
/// the desired hash, and the pod template (the hash says whether it is current). Labels stay:
/// they map a Job to its backup or restore.
fn slim_job(job: &mut Job) {
    job.managed_fields_mut().clear();
    job.annotations_mut()
        .retain(|k, _| k == DESIRED_HASH_ANNOTATION);
    if let Some(spec) = job.spec.as_mut() {
        spec.template = Default::default();
    }
}

fn slim_cronjob(cron: &mut CronJob) {
    cron.managed_fields_mut().clear();
    cron.annotations_mut()
        .retain(|k, _| k == DESIRED_HASH_ANNOTATION);
    if let Some(spec) = cron.spec.as_mut() {
        spec.job_template = Default::default();
    }
}

/// The custom resources as the other caches keep them: whole, without managed fields.
fn slim_resource<K: Resource>(obj: &mut K) {
    crate::cache::slim_instance(obj);
}

/// A shared watch of `K` in `namespace` (or everywhere): its store, `subscribers` trigger
/// streams, and the future driving it.
pub fn shared<K>(
    client: &Client,
    namespace: Option<&str>,
    slim: fn(&mut K),
    subscribers: usize,
) -> (Store<K>, Vec<ReflectHandle<K>>, Driver)
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
    let (reader, writer) = reflector::store_shared::<K>(SUBSCRIBER_BUFFER);
    let subs = (0..subscribers)
        .map(|_| {
            writer
                .subscribe()
                .unwrap_or_else(|| unreachable!("store_shared writers always subscribe"))
        })
        .collect();
    let driver = watcher(api, watch_config())
        .default_backoff()
        .modify(slim)
        .reflect_shared(writer)
        .for_each(|event| async move {
            if let Err(e) = event {
                tracing::warn!(error = %e, kind = %K::kind(&()), "watch error");
            }
        });
    (reader, subs, Box::pin(driver))
}

/// The watches of the operation kinds, and who is triggered by them.
pub struct OpsWatches {
    pub jobs: Store<Job>,
    pub cronjobs: Store<CronJob>,
    pub backups: Store<Neo4jBackup>,
    pub restores: Store<Neo4jRestore>,
    /// Jobs → the backup controller; Jobs → the restore controller.
    pub job_triggers: (ReflectHandle<Job>, ReflectHandle<Job>),
    pub cronjob_trigger: ReflectHandle<CronJob>,
    pub backup_trigger: ReflectHandle<Neo4jBackup>,
    /// Restores → the restore controller; restores → the standalone controller (a restore's
    /// step decides whether its standalone runs).
    pub restore_triggers: (ReflectHandle<Neo4jRestore>, ReflectHandle<Neo4jRestore>),
    pub drivers: Vec<Driver>,
}

impl OpsWatches {
    pub fn new(client: &Client, namespace: Option<&str>) -> OpsWatches {
        fn pop<T>(v: &mut Vec<T>) -> T {
            v.pop()
                .unwrap_or_else(|| unreachable!("as many handles were subscribed"))
        }
        let mut drivers = Vec::new();
        let (jobs, mut job_subs, d) = shared::<Job>(client, namespace, slim_job, 2);
        drivers.push(d);
        let (cronjobs, mut cron_subs, d) = shared::<CronJob>(client, namespace, slim_cronjob, 1);
        drivers.push(d);
        let (backups, mut backup_subs, d) =
            shared::<Neo4jBackup>(client, namespace, slim_resource::<Neo4jBackup>, 1);
        drivers.push(d);
        let (restores, mut restore_subs, d) =
            shared::<Neo4jRestore>(client, namespace, slim_resource::<Neo4jRestore>, 2);
        drivers.push(d);
        let job_triggers = (pop(&mut job_subs), pop(&mut job_subs));
        let restore_triggers = (pop(&mut restore_subs), pop(&mut restore_subs));
        OpsWatches {
            jobs,
            cronjobs,
            backups,
            restores,
            job_triggers,
            cronjob_trigger: pop(&mut cron_subs),
            backup_trigger: pop(&mut backup_subs),
            restore_triggers,
            drivers,
        }
    }
}

/// What every backup and restore reconcile shares.
pub struct OpsContext {
    pub base: Arc<Context>,
    pub jobs: Store<Job>,
    pub cronjobs: Store<CronJob>,
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
    /// Hashes applied to kinds without a cache (a backup's staging PVC).
    applied: Mutex<HashMap<String, String>>,
    /// Jobs this process applied that the cache has not shown yet.
    recent_jobs: Mutex<HashSet<String>>,
}

impl OpsContext {
    /// Reads the stores of the operation kinds, their Jobs, and the clusters and standalones.
    #[allow(clippy::too_many_arguments)] // one store per argument, each named at the call
    pub fn new(
        base: Arc<Context>,
        jobs: Store<Job>,
        cronjobs: Store<CronJob>,
        backups: Store<Neo4jBackup>,
        restores: Store<Neo4jRestore>,
        clusters: Store<Neo4jEnterpriseCluster>,
        standalones: Store<Neo4jEnterpriseStandalone>,
        domain: String,
    ) -> OpsContext {
        OpsContext {
            base,
            jobs,
            cronjobs,
            backups,
            restores,
            clusters,
            standalones,
            domain,
            claims: Mutex::new(BTreeMap::new()),
            applied: Mutex::new(HashMap::new()),
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

    /// Waits until the stores of the operation kinds and their Jobs have their initial list.
    /// (The clusters' and standalones' stores fill once their controllers run: see
    /// [`Self::targets_ready`].)
    pub async fn ready(&self) -> std::result::Result<(), reflector::store::WriterDropped> {
        crate::cache::ready(&self.jobs).await?;
        crate::cache::ready(&self.cronjobs).await?;
        crate::cache::ready(&self.backups).await?;
        crate::cache::ready(&self.restores).await?;
        Ok(())
    }

    /// Waits until the clusters' and standalones' stores have their initial list, so a
    /// target is never reported missing only because the cache is still empty.
    pub async fn targets_ready(&self) -> Result<()> {
        let dropped = |_| Error::MissingField("a cluster or standalone cache");
        crate::cache::ready(&self.clusters).await.map_err(dropped)?;
        crate::cache::ready(&self.standalones)
            .await
            .map_err(dropped)?;
        Ok(())
    }

    pub fn job(&self, namespace: &str, name: &str) -> Option<Arc<Job>> {
        self.jobs.get(&ObjectRef::new(name).within(namespace))
    }

    pub fn cronjob(&self, namespace: &str, name: &str) -> Option<Arc<CronJob>> {
        self.cronjobs.get(&ObjectRef::new(name).within(namespace))
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

    fn lookup(&self, kind: &str, namespace: &str, name: &str) -> Cached {
        fn hash_of<K: Resource<DynamicType = ()> + Clone>(o: Option<Arc<K>>) -> Cached {
            match o {
                Some(o) => Cached::Present(o.annotations().get(DESIRED_HASH_ANNOTATION).cloned()),
                None => Cached::Absent,
            }
        }
        match kind {
            "Job" => hash_of(self.job(namespace, name)),
            "CronJob" => hash_of(self.cronjob(namespace, name)),
            _ => {
                let applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
                Cached::Uncached(applied.get(&format!("{kind}/{namespace}/{name}")).cloned())
            }
        }
    }

    /// Server-side applies `desired` unless the cache holds it with the same hash. Returns
    /// whether a write was sent.
    pub async fn apply(
        &self,
        owner_kind: &'static str,
        namespace: &str,
        desired: &DesiredObject,
    ) -> Result<bool> {
        let metrics = &self.base.metrics;
        let cached = self.lookup(desired.kind, namespace, &desired.name);
        if apply::decide(&cached, &desired.hash) == Decision::Skip {
            metrics.skipped(owner_kind, desired.plural);
            return Ok(false);
        }
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.base.client.clone(), namespace, &api_resource(desired));
        metrics.wrote(owner_kind, desired.plural, "apply");
        match api
            .patch(
                &desired.name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&desired.object),
            )
            .await
        {
            Ok(_) => {
                if matches!(cached, Cached::Uncached(_)) {
                    let mut applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
                    applied.insert(
                        format!("{}/{namespace}/{}", desired.kind, desired.name),
                        desired.hash.clone(),
                    );
                }
                tracing::debug!(kind = desired.kind, name = %desired.name, "applied");
                Ok(true)
            }
            Err(e) => {
                if is_conflict(&e) {
                    metrics.conflict(desired.plural);
                }
                Err(Error::kube("apply", desired.plural, &desired.name, e))
            }
        }
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

fn status_label(kind: Kind) -> &'static str {
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
