//! Watch caches of the objects the controller owns, and the routing of their changes to the
//! owners' reconciles.
//!
//! One watch per child kind, label-selected (`app.kubernetes.io/managed-by=neo4j-operator`,
//! carried by every rendered object), so memory follows the operator's objects, not the
//! cluster's. Each object is kept as a [`Child`]: its controller owner, its desired-hash
//! annotation and the [`Digest`] of the fields the controller owns (`owned.rs`), plus the
//! StatefulSet's status and immutable fields (status and pinning need them) and a
//! Certificate's Ready condition, and a backup's or restore's Job and CronJob without their
//! templates (their status decides the operation's). The pod template, the conf files and
//! everything other managers own are never kept.
//!
//! Every change of a [`Child`] — an edit of a field the controller owns, a deletion, an object
//! leaving the label selector — and every difference found by a re-list after a broken watch
//! is routed to the owner's controller (see [`Router`]). kube-runtime's shared reflector
//! streams are not used: their dispatcher drops delete events, and a subscriber that finds an
//! object already gone from the store returns `Pending` without a waker, stalling that trigger.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use std::fmt::Debug;

use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, watcher};
use kube::{Client, Resource, ResourceExt};
use neo4j_shared::names::{APP_INSTANCE, APP_MANAGED_BY, APP_NAME, FIELD_MANAGER, MANAGED_BY};
use neo4j_shared::render::DESIRED_HASH_ANNOTATION as DESIRED_HASH;
use neo4j_shared::render::TLS_REVISION_ANNOTATION;
use neo4j_shared::types::Neo4jPlugin;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{Notify, mpsc};

use crate::health::{Health, WatchHealth};
use crate::owned::{self, Digest};

/// Longest pause between two attempts of a failing watch: a watch resumes within this of the
/// API server answering again.
pub const WATCH_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// The first pause of a failing watch.
pub const WATCH_BACKOFF_MIN: Duration = Duration::from_millis(250);

/// The backoff of every watch: [`WATCH_BACKOFF_MIN`] doubling to [`WATCH_BACKOFF_MAX`], each
/// pause shortened by up to a quarter (jitter, so a fleet of replicas does not retry in step),
/// reset by the first event after a failure.
#[derive(Debug, Clone)]
pub struct WatchBackoff {
    next: Duration,
}

pub fn watch_backoff() -> WatchBackoff {
    WatchBackoff {
        next: WATCH_BACKOFF_MIN,
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let base = self.next;
        self.next = (base * 2).min(WATCH_BACKOFF_MAX);
        // Jitter from the clock's sub-second digits: no random source needed for this.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let cut = base.mul_f64(f64::from(nanos % 250) / 1000.0);
        Some(base.saturating_sub(cut))
    }
}

impl Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = WATCH_BACKOFF_MIN;
    }
}

/// Streaming lists (the initial state arrives as watch events, one object at a time) keep the
/// start-up peak low: a paged or cached LIST of a thousand StatefulSets is parsed whole before
/// anything can be dropped.
pub fn watch_config() -> watcher::Config {
    watcher::Config::default().streaming_lists()
}

/// A watch that starts over with a fresh list after every error, instead of resuming from the
/// last resourceVersion. An API server that restarted has a new watch cache whose window
/// usually begins after that version, and it answers "too old" only once that cache is ready,
/// seconds after the API server itself; a list read from etcd (the first attempt streams,
/// later ones page through a LIST, which does not wait for the cache) has the current state
/// at once. The re-list also reveals what changed or vanished while the watch was down.
pub fn relisting_watcher<K>(
    api: Api<K>,
    config: watcher::Config,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    type Events<K> = BoxStream<'static, Result<watcher::Event<K>, watcher::Error>>;
    futures_util::stream::unfold((None::<Events<K>>, true), move |(current, first)| {
        let (api, config) = (api.clone(), config.clone());
        async move {
            let mut events = current.unwrap_or_else(|| {
                let config = if first {
                    config
                } else {
                    watcher::Config {
                        initial_list_strategy: watcher::InitialListStrategy::ListWatch,
                        ..config
                    }
                };
                watcher(api, config).boxed()
            });
            let item = events.next().await?;
            let keep = item.is_ok().then_some(events);
            Some((item, (keep, false)))
        }
    })
}

/// The selector of every child watch.
pub fn child_selector() -> String {
    format!("{APP_MANAGED_BY}={MANAGED_BY}")
}

/// A kind of child the renderer produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildKind {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
}

impl ChildKind {
    pub fn api_resource(&self) -> ApiResource {
        let (group, version) = match self.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", self.api_version),
        };
        ApiResource {
            group: group.to_string(),
            version: version.to_string(),
            api_version: self.api_version.to_string(),
            kind: self.kind.to_string(),
            plural: self.plural.to_string(),
        }
    }
}

pub const STATEFULSET: ChildKind = ChildKind {
    api_version: "apps/v1",
    kind: "StatefulSet",
    plural: "statefulsets",
};
pub const SERVICE: ChildKind = ChildKind {
    api_version: "v1",
    kind: "Service",
    plural: "services",
};
pub const CONFIG_MAP: ChildKind = ChildKind {
    api_version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
};
pub const SERVICE_ACCOUNT: ChildKind = ChildKind {
    api_version: "v1",
    kind: "ServiceAccount",
    plural: "serviceaccounts",
};
pub const PDB: ChildKind = ChildKind {
    api_version: "policy/v1",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
};
pub const CERTIFICATE: ChildKind = ChildKind {
    api_version: "cert-manager.io/v1",
    kind: "Certificate",
    plural: "certificates",
};

pub const JOB: ChildKind = ChildKind {
    api_version: "batch/v1",
    kind: "Job",
    plural: "jobs",
};
pub const CRONJOB: ChildKind = ChildKind {
    api_version: "batch/v1",
    kind: "CronJob",
    plural: "cronjobs",
};

/// The kinds the backup and restore renderers produce and read back (the staging
/// PersistentVolumeClaim is written once and never read, so it has no cache).
pub fn ops_child_kinds() -> Vec<ChildKind> {
    vec![JOB, CRONJOB]
}

/// The kinds the instance renderers produce (the Certificate only when its CRD is served).
pub fn instance_child_kinds(cert_manager: bool) -> Vec<ChildKind> {
    let mut kinds = vec![STATEFULSET, SERVICE, CONFIG_MAP, SERVICE_ACCOUNT, PDB];
    if cert_manager {
        kinds.push(CERTIFICATE);
    }
    kinds
}

/// The controller owner of a child: the kind and name of the object whose reconcile it feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub kind: String,
    pub name: String,
}

/// What the cache keeps of one child.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Child {
    pub owner: Option<Owner>,
    /// The desired-hash annotation.
    pub hash: Option<String>,
    /// Digest of the live values of the fields the controller owns; `None` when it owns none.
    pub owned: Option<Digest>,
    /// StatefulSets only: generation, the immutable spec fields and status.
    pub statefulset: Option<StatefulSet>,
    /// Certificates only: the Ready condition.
    pub certificate_ready: Option<bool>,
    /// Certificates only: `status.revision`, incremented by cert-manager on every issue.
    pub certificate_revision: Option<i64>,
    /// Jobs only: metadata (labels, owners) and status, without the pod template.
    pub job: Option<Job>,
    /// CronJobs only: metadata and status (`lastScheduleTime`, active runs), without the Job
    /// template.
    pub cronjob: Option<CronJob>,
}

impl Child {
    /// What to keep of `obj`, a child of kind `kind`.
    pub fn of(kind: &str, obj: &DynamicObject) -> Child {
        let meta = &obj.metadata;
        let controller_owner = || {
            meta.owner_references
                .iter()
                .flatten()
                .find(|r| r.controller == Some(true))
                .map(|r| Owner {
                    kind: r.kind.clone(),
                    name: r.name.clone(),
                })
        };
        // The Jobs a CronJob makes are owned by the CronJob: their labels name the backup.
        let owner = if kind == JOB.kind {
            labelled_owner(meta).or_else(controller_owner)
        } else {
            controller_owner()
        };
        let json = serde_json::to_value(obj).unwrap_or(Value::Null);
        let owned = owned::owned_digest(&json, meta, FIELD_MANAGER);
        let statefulset = (kind == STATEFULSET.kind)
            .then(|| serde_json::from_value::<StatefulSet>(json.clone()).ok())
            .flatten()
            .map(slim_statefulset);
        let certificate_ready = (kind == CERTIFICATE.kind)
            .then(|| certificate_ready(&json))
            .flatten();
        let certificate_revision = (kind == CERTIFICATE.kind)
            .then(|| json.pointer("/status/revision").and_then(Value::as_i64))
            .flatten();
        let job = (kind == JOB.kind)
            .then(|| serde_json::from_value::<Job>(json.clone()).ok())
            .flatten()
            .map(slim_job);
        let cronjob = (kind == CRONJOB.kind)
            .then(|| serde_json::from_value::<CronJob>(json.clone()).ok())
            .flatten()
            .map(slim_cronjob);
        Child {
            owner,
            hash: meta
                .annotations
                .as_ref()
                .and_then(|a| a.get(DESIRED_HASH).cloned()),
            owned,
            statefulset,
            certificate_ready,
            certificate_revision,
            job,
            cronjob,
        }
    }
}

/// The backup or restore a Job belongs to, by its labels (`app.kubernetes.io/name` is
/// `neo4j-backup` or `neo4j-restore`, `app.kubernetes.io/instance` the object's name).
fn labelled_owner(meta: &ObjectMeta) -> Option<Owner> {
    let labels = meta.labels.as_ref()?;
    let kind = match labels.get(APP_NAME).map(String::as_str)? {
        "neo4j-backup" => "Neo4jBackup",
        "neo4j-restore" => "Neo4jRestore",
        _ => return None,
    };
    Some(Owner {
        kind: kind.to_string(),
        name: labels.get(APP_INSTANCE)?.clone(),
    })
}

/// What a decision reads of a Job: metadata (labels and owners map it to its backup or
/// restore; the desired hash says whether it is current) and status. Managed fields, other
/// annotations and the pod template are dropped.
pub fn slim_job(mut job: Job) -> Job {
    job.metadata.managed_fields = None;
    job.metadata.annotations = slim_annotations(job.metadata.annotations.take());
    if let Some(spec) = job.spec.as_mut() {
        spec.template = Default::default();
    }
    job
}

/// A CronJob as the backup controller reads it: metadata and status, no Job template.
pub fn slim_cronjob(mut cron: CronJob) -> CronJob {
    cron.metadata.managed_fields = None;
    cron.metadata.annotations = slim_annotations(cron.metadata.annotations.take());
    if let Some(spec) = cron.spec.as_mut() {
        spec.job_template = Default::default();
    }
    cron
}

fn slim_annotations(
    annotations: Option<BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    annotations
        .map(|a| {
            a.into_iter()
                .filter(|(k, _)| k == DESIRED_HASH)
                .collect::<BTreeMap<_, _>>()
        })
        .filter(|a| !a.is_empty())
}

/// A StatefulSet as the controller needs it: generation, the immutable spec fields (pinned on
/// apply) and status (for the status function). The pod template, by far the largest part, is
/// dropped but for the certificate revision the pods run with (`render::TLS_REVISION_ANNOTATION`).
pub fn slim_statefulset(sts: StatefulSet) -> StatefulSet {
    let mut slim = StatefulSet::default();
    slim.metadata.name = sts.metadata.name;
    slim.metadata.namespace = sts.metadata.namespace;
    slim.metadata.generation = sts.metadata.generation;
    slim.spec = sts.spec.map(|mut spec| {
        let tls_revision = spec
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(TLS_REVISION_ANNOTATION))
            .cloned();
        spec.template = Default::default();
        if let Some(r) = tls_revision {
            spec.template.metadata = Some(ObjectMeta {
                annotations: Some([(TLS_REVISION_ANNOTATION.to_string(), r)].into()),
                ..Default::default()
            });
        }
        spec
    });
    slim.status = sts.status;
    slim
}

/// The certificate revision the pods of `sts` run with, if it carries one.
pub fn tls_revision(sts: &StatefulSet) -> Option<i64> {
    sts.spec
        .as_ref()?
        .template
        .metadata
        .as_ref()?
        .annotations
        .as_ref()?
        .get(TLS_REVISION_ANNOTATION)?
        .parse()
        .ok()
}

/// The Ready condition of a cert-manager Certificate, if it has reported one.
fn certificate_ready(json: &Value) -> Option<bool> {
    json.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .map(|c| c["status"] == "True")
}

/// The custom resources are cached whole (the spec is the input), without managed fields or
/// kubectl's copy of the last applied manifest.
pub fn slim_instance<K: Resource>(obj: &mut K) {
    obj.managed_fields_mut().clear();
    obj.annotations_mut()
        .remove("kubectl.kubernetes.io/last-applied-configuration");
}

type Key = (String, String);

/// The cache of one child kind.
#[derive(Default)]
struct KindStore {
    objects: RwLock<HashMap<Key, Arc<Child>>>,
    ready: AtomicBool,
    ready_notify: Notify,
}

impl KindStore {
    fn get(&self, namespace: &str, name: &str) -> Option<Arc<Child>> {
        let objects = self.objects.read().unwrap_or_else(|p| p.into_inner());
        objects
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    fn mark_ready(&self) {
        self.ready.store(true, Ordering::Release);
        self.ready_notify.notify_waiters();
    }

    async fn wait_ready(&self) {
        loop {
            let notified = self.ready_notify.notified();
            if self.ready.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// Where changes of children go: one channel per owner kind, registered by that kind's
/// controller ([`Router::subscribe`]). Changes of children whose owner kind has no subscriber
/// are dropped.
#[derive(Default)]
pub struct Router {
    routes: Mutex<BTreeMap<String, mpsc::UnboundedSender<Key>>>,
}

impl Router {
    /// The stream of objects of kind `K` whose children changed, for `Controller::reconcile_on`.
    pub fn subscribe<K>(&self) -> impl Stream<Item = ObjectRef<K>> + Send + 'static
    where
        K: Resource<DynamicType = ()> + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel::<Key>();
        self.routes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(K::kind(&()).into_owned(), tx);
        futures_util::stream::unfold(rx, |mut rx| async move {
            let (namespace, name) = rx.recv().await?;
            Some((ObjectRef::<K>::new(&name).within(&namespace), rx))
        })
    }

    /// Asks for a reconcile of the owner of a child in `namespace`.
    pub fn send(&self, namespace: &str, owner: &Owner) {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = routes.get(&owner.kind) {
            let _ = tx.send((namespace.to_string(), owner.name.clone()));
        }
    }
}

/// A future that drives one watch.
pub type Driver = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Every child cache.
pub struct Caches {
    stores: BTreeMap<&'static str, Arc<KindStore>>,
    /// Neo4jPlugins, folded into their targets' render (`plugin_fold.rs`, which drives it).
    pub plugins: Store<Neo4jPlugin>,
    /// Hashes applied to kinds that have no cache here, so a steady object is not re-applied
    /// by this process (after a restart each is applied once).
    applied: Mutex<HashMap<String, String>>,
    /// Children the API server stores differently from how they were applied (a value it
    /// normalizes in a way `owned::normalize` does not know): desired digest → the digest read
    /// back right after the apply, so such a child is not applied on every reconcile.
    equivalent: Mutex<HashMap<String, (Digest, Digest)>>,
}

/// What the cache knows of one child.
#[derive(Debug, Clone, PartialEq)]
pub enum Cached {
    /// The kind is cached and the object is absent.
    Absent,
    /// The object is cached.
    Present(Arc<Child>),
    /// The kind has no cache; the hash this process last applied, if any.
    Uncached(Option<String>),
}

impl Caches {
    /// Starts nothing: returns the caches and the watch futures to drive. Changes go to
    /// `router`; each watch reports to `health` under its kind name. `plugins` is the
    /// Neo4jPlugin cache, driven by its own watch (`plugin_fold::cache`).
    pub fn new(
        client: &Client,
        namespace: Option<&str>,
        kinds: &[ChildKind],
        router: Arc<Router>,
        health: &Health,
        plugins: Store<Neo4jPlugin>,
    ) -> (Arc<Caches>, Vec<Driver>) {
        let mut stores = BTreeMap::new();
        let mut drivers = Vec::new();
        for kind in kinds {
            let store = Arc::new(KindStore::default());
            stores.insert(kind.kind, store.clone());
            drivers.push(drive(
                client.clone(),
                namespace.map(str::to_string),
                *kind,
                store,
                router.clone(),
                health.watch(kind.kind),
            ));
        }
        let caches = Arc::new(Caches {
            stores,
            plugins,
            applied: Mutex::new(HashMap::new()),
            equivalent: Mutex::new(HashMap::new()),
        });
        (caches, drivers)
    }

    /// Waits until every store has its initial list, so no decision is made on an empty cache.
    pub async fn ready(&self) {
        for store in self.stores.values() {
            store.wait_ready().await;
        }
        // Errs only when the plugin watch is gone, which ends the process anyway.
        let _ = self.plugins.wait_until_ready().await;
    }

    /// Whether children of `kind` are watched (a Certificate is only when its CRD is served).
    pub fn watches(&self, kind: &str) -> bool {
        self.stores.contains_key(kind)
    }

    /// The cached StatefulSet `namespace/name` (slim: no pod template).
    pub fn statefulset(&self, namespace: &str, name: &str) -> Option<StatefulSet> {
        self.stores
            .get(STATEFULSET.kind)?
            .get(namespace, name)?
            .statefulset
            .clone()
    }

    /// The Ready condition of a cached Certificate (`None`: no cache, no object, no condition).
    pub fn certificate_ready(&self, namespace: &str, name: &str) -> Option<bool> {
        self.stores
            .get(CERTIFICATE.kind)?
            .get(namespace, name)?
            .certificate_ready
    }

    /// The revision of a cached Certificate (`None`: no cache, no object, not issued yet).
    pub fn certificate_revision(&self, namespace: &str, name: &str) -> Option<i64> {
        self.stores
            .get(CERTIFICATE.kind)?
            .get(namespace, name)?
            .certificate_revision
    }

    /// The cached Job `namespace/name` (slim: no pod template).
    pub fn job(&self, namespace: &str, name: &str) -> Option<Job> {
        self.stores.get(JOB.kind)?.get(namespace, name)?.job.clone()
    }

    /// Every cached Job in `namespace`, by name.
    pub fn jobs_in(&self, namespace: &str) -> Vec<Job> {
        let Some(store) = self.stores.get(JOB.kind) else {
            return Vec::new();
        };
        let objects = store.objects.read().unwrap_or_else(|p| p.into_inner());
        let mut jobs: Vec<(String, Job)> = objects
            .iter()
            .filter(|((ns, _), _)| ns == namespace)
            .filter_map(|((_, name), c)| Some((name.clone(), c.job.clone()?)))
            .collect();
        jobs.sort_by(|a, b| a.0.cmp(&b.0));
        jobs.into_iter().map(|(_, j)| j).collect()
    }

    /// The cached CronJob `namespace/name` (slim: no Job template).
    pub fn cronjob(&self, namespace: &str, name: &str) -> Option<CronJob> {
        self.stores
            .get(CRONJOB.kind)?
            .get(namespace, name)?
            .cronjob
            .clone()
    }

    /// What the cache holds for the child `kind` `namespace/name`.
    pub fn lookup(&self, kind: &str, namespace: &str, name: &str) -> Cached {
        match self.stores.get(kind) {
            Some(store) => match store.get(namespace, name) {
                Some(c) => Cached::Present(c),
                None => Cached::Absent,
            },
            None => {
                let applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
                Cached::Uncached(applied.get(&key(kind, namespace, name)).cloned())
            }
        }
    }

    /// Remembers a hash applied to a kind without a cache.
    pub fn remember(&self, kind: &str, namespace: &str, name: &str, hash: &str) {
        if !self.stores.contains_key(kind) {
            let mut applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
            applied.insert(key(kind, namespace, name), hash.to_string());
        }
    }

    /// Remembers that right after applying `desired`, the API server's copy read back as
    /// `stored`.
    pub fn remember_equivalent(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        desired: Digest,
        stored: Digest,
    ) {
        let mut eq = self.equivalent.lock().unwrap_or_else(|p| p.into_inner());
        if desired == stored {
            eq.remove(&key(kind, namespace, name));
        } else {
            eq.insert(key(kind, namespace, name), (desired, stored));
        }
    }

    /// Whether a live digest `stored` is what applying `desired` gave last time.
    pub fn is_equivalent(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        desired: &Digest,
        stored: &Digest,
    ) -> bool {
        let eq = self.equivalent.lock().unwrap_or_else(|p| p.into_inner());
        eq.get(&key(kind, namespace, name))
            .is_some_and(|(d, s)| d == desired && s == stored)
    }
}

fn key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}/{namespace}/{name}")
}

/// Owners to reconcile after the store changed from `old` to `new` (for one object): both
/// owners when ownership moved, none when nothing the controller reads changed.
fn changed_owners(old: Option<&Child>, new: Option<&Child>) -> Vec<Owner> {
    if old == new {
        return Vec::new();
    }
    let mut owners: Vec<Owner> = Vec::new();
    for owner in [old, new]
        .into_iter()
        .flatten()
        .filter_map(|c| c.owner.clone())
    {
        if !owners.contains(&owner) {
            owners.push(owner);
        }
    }
    owners
}

/// [`relisting_watcher`] with the backoff of every watch and its health reported under `name`
/// (so `/readyz` and the recovery re-check cover it); an outage is logged once at warn, its
/// retries (at most 2 s apart) at debug.
pub fn healthy_watch<K>(
    api: Api<K>,
    config: watcher::Config,
    health: &Health,
    name: &str,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let health = health.watch(name);
    let name = name.to_string();
    relisting_watcher(api, config)
        .backoff(watch_backoff())
        .inspect(move |item| {
            let was_healthy = health.healthy();
            health.observe(item);
            if let Err(e) = item {
                if was_healthy {
                    tracing::warn!(error = %e, watch = %name, "watch failed; retrying");
                } else {
                    tracing::debug!(error = %e, watch = %name, "watch still failing");
                }
            }
        })
}

/// Drives the watch of one child kind: keeps `store` current and routes every change.
fn drive(
    client: Client,
    namespace: Option<String>,
    kind: ChildKind,
    store: Arc<KindStore>,
    router: Arc<Router>,
    health: Arc<WatchHealth>,
) -> Driver {
    let resource = kind.api_resource();
    let api: Api<DynamicObject> = match namespace.as_deref() {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::all_with(client, &resource),
    };
    let config = watch_config().labels(&child_selector());
    let events = relisting_watcher(api, config).backoff(watch_backoff());
    Box::pin(async move {
        let mut events = std::pin::pin!(events);
        // The re-list in progress, and whether a first list completed (the controllers
        // reconcile everything at start, so the first list routes nothing).
        let mut relist: Option<HashMap<Key, Arc<Child>>> = None;
        let mut listed = false;
        while let Some(item) = events.next().await {
            let was_healthy = health.healthy();
            health.observe(&item);
            let event = match item {
                Ok(e) => e,
                Err(e) => {
                    // Once per outage at warn; the retries (at most 2 s apart) at debug.
                    if was_healthy {
                        tracing::warn!(error = %e, kind = kind.kind, "watch failed; retrying");
                    } else {
                        tracing::debug!(error = %e, kind = kind.kind, "watch still failing");
                    }
                    continue;
                }
            };
            match event {
                watcher::Event::Init => relist = Some(HashMap::new()),
                watcher::Event::InitApply(obj) => {
                    let child = Arc::new(Child::of(kind.kind, &obj));
                    relist
                        .get_or_insert_with(HashMap::new)
                        .insert(object_key(&obj), child);
                }
                watcher::Event::InitDone => {
                    let new = relist.take().unwrap_or_default();
                    let old = {
                        let mut objects = store.objects.write().unwrap_or_else(|p| p.into_inner());
                        std::mem::replace(&mut *objects, new.clone())
                    };
                    if listed {
                        for k in old
                            .keys()
                            .chain(new.keys().filter(|k| !old.contains_key(*k)))
                        {
                            for owner in
                                changed_owners(old.get(k).map(|c| &**c), new.get(k).map(|c| &**c))
                            {
                                router.send(&k.0, &owner);
                            }
                        }
                    }
                    listed = true;
                    store.mark_ready();
                }
                watcher::Event::Apply(obj) => {
                    let k = object_key(&obj);
                    let child = Arc::new(Child::of(kind.kind, &obj));
                    let old = {
                        let mut objects = store.objects.write().unwrap_or_else(|p| p.into_inner());
                        objects.insert(k.clone(), child.clone())
                    };
                    for owner in changed_owners(old.as_deref(), Some(&child)) {
                        router.send(&k.0, &owner);
                    }
                }
                watcher::Event::Delete(obj) => {
                    let k = object_key(&obj);
                    let old = {
                        let mut objects = store.objects.write().unwrap_or_else(|p| p.into_inner());
                        objects.remove(&k)
                    };
                    // The last state of the object names its owner even when the cache had
                    // not seen it.
                    let last = old.unwrap_or_else(|| Arc::new(Child::of(kind.kind, &obj)));
                    for owner in changed_owners(Some(&last), None) {
                        router.send(&k.0, &owner);
                    }
                }
            }
        }
    })
}

fn object_key(obj: &DynamicObject) -> Key {
    (obj.namespace().unwrap_or_default(), obj.name_any())
}

#[cfg(test)]
mod tests {
    use super::*;
    use neo4j_shared::render;
    use neo4j_shared::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone};
    use serde_json::json;

    fn owner(name: &str) -> Option<Owner> {
        Some(Owner {
            kind: "Neo4jEnterpriseCluster".into(),
            name: name.into(),
        })
    }

    #[test]
    fn a_failing_watch_retries_at_most_two_seconds_apart() {
        let mut b = watch_backoff();
        let pauses: Vec<Duration> = (&mut b).take(8).collect();
        for (i, p) in pauses.iter().enumerate() {
            assert!(*p <= WATCH_BACKOFF_MAX, "pause {i}: {p:?}");
            assert!(*p >= WATCH_BACKOFF_MIN.mul_f64(0.75), "pause {i}: {p:?}");
        }
        assert!(pauses[7] >= WATCH_BACKOFF_MAX.mul_f64(0.75), "{pauses:?}");
        b.reset();
        assert!(b.next().unwrap() <= WATCH_BACKOFF_MIN);
    }

    #[test]
    fn only_a_change_of_what_is_kept_routes_and_a_deletion_always_does() {
        let a = Child {
            owner: owner("a"),
            hash: Some("h".into()),
            owned: Some([1; 32]),
            ..Default::default()
        };
        assert!(changed_owners(Some(&a), Some(&a.clone())).is_empty());
        let mut edited = a.clone();
        edited.owned = Some([2; 32]);
        assert_eq!(
            changed_owners(Some(&a), Some(&edited)),
            vec![owner("a").unwrap()]
        );
        assert_eq!(changed_owners(Some(&a), None), vec![owner("a").unwrap()]);
        assert_eq!(changed_owners(None, Some(&a)), vec![owner("a").unwrap()]);
        let mut moved = a.clone();
        moved.owner = owner("b");
        assert_eq!(
            changed_owners(Some(&a), Some(&moved)),
            vec![owner("a").unwrap(), owner("b").unwrap()]
        );
        let orphan = Child::default();
        assert!(changed_owners(Some(&orphan), None).is_empty());
    }

    #[test]
    fn every_rendered_child_is_of_a_watched_kind_and_carries_the_watch_selector() {
        let meta = json!({"name": "g", "namespace": "db", "uid": "u", "generation": 1});
        let mut cluster: Neo4jEnterpriseCluster = serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster", "metadata": meta,
            "spec": {"acceptLicenseAgreement": "yes", "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
                "topology": {"servers": 3}, "storage": {"size": "1Gi"},
                "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}}}
        }))
        .unwrap();
        neo4j_shared::defaults::cluster(&mut cluster.spec);
        let mut standalone: Neo4jEnterpriseStandalone = serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseStandalone", "metadata": meta,
            "spec": {"acceptLicenseAgreement": "yes", "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
                "storage": {"size": "1Gi"}, "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}}}
        }))
        .unwrap();
        neo4j_shared::defaults::standalone(&mut standalone.spec);
        let objects = render::cluster(&cluster)
            .unwrap()
            .into_iter()
            .chain(render::standalone(&standalone).unwrap());
        let kinds = instance_child_kinds(true);
        let (label, value) = child_selector()
            .split_once('=')
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .unwrap();
        for d in objects {
            let kind = kinds
                .iter()
                .find(|k| k.kind == d.kind)
                .unwrap_or_else(|| panic!("{} is rendered but not watched", d.kind));
            assert_eq!((kind.api_version, kind.plural), (d.api_version, d.plural));
            assert_eq!(
                d.object["metadata"]["labels"][&label], value,
                "{} {} lacks {label}",
                d.kind, d.name
            );
        }
    }

    #[test]
    fn a_job_routes_to_the_backup_or_restore_its_labels_name_and_a_status_change_routes() {
        let job = |labels: Value, status: Value| -> DynamicObject {
            serde_json::from_value(json!({
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "b-backup-123", "namespace": "db", "labels": labels,
                    "annotations": {"neo4j.com/desired-hash": "h1", "other": "x"},
                    "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                        "name": "b-backup-cron", "uid": "c", "controller": true}]},
                "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
                "status": status
            }))
            .unwrap()
        };
        let labels =
            json!({"app.kubernetes.io/name": "neo4j-backup", "app.kubernetes.io/instance": "b"});
        let running = Child::of("Job", &job(labels.clone(), json!({"active": 1})));
        let backup = Owner {
            kind: "Neo4jBackup".into(),
            name: "b".into(),
        };
        assert_eq!(
            running.owner,
            Some(backup.clone()),
            "the labels, not the CronJob"
        );
        let kept = running.job.clone().unwrap();
        assert!(
            kept.spec.unwrap().template.spec.is_none(),
            "no pod template"
        );
        assert_eq!(
            kept.metadata
                .annotations
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            vec!["neo4j.com/desired-hash"]
        );
        assert_eq!(kept.metadata.owner_references.unwrap()[0].uid, "c");
        let done = Child::of(
            "Job",
            &job(
                labels,
                json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}),
            ),
        );
        assert_eq!(changed_owners(Some(&running), Some(&done)), vec![backup]);
        // A Job that names no backup or restore belongs to its controller owner.
        let other = Child::of(
            "Job",
            &job(json!({"app.kubernetes.io/name": "x"}), json!({})),
        );
        assert_eq!(other.owner.unwrap().kind, "CronJob");
        let restore = Child::of(
            "Job",
            &job(
                json!({"app.kubernetes.io/name": "neo4j-restore", "app.kubernetes.io/instance": "r"}),
                json!({}),
            ),
        );
        assert_eq!(restore.owner.unwrap().kind, "Neo4jRestore");
    }

    #[test]
    fn a_child_keeps_its_owner_hash_and_owned_digest_and_a_statefulset_no_template() {
        let obj: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "g-server", "namespace": "db", "generation": 3,
                "annotations": {"neo4j.com/desired-hash": "h1", "other": "x"},
                "ownerReferences": [{"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
                    "name": "g", "uid": "u", "controller": true}],
                "managedFields": [{"manager": "neo4j-controller", "operation": "Apply", "apiVersion": "apps/v1",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
            "spec": {"replicas": 3, "serviceName": "g-headless", "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2}
        }))
        .unwrap();
        let c = Child::of("StatefulSet", &obj);
        assert_eq!(c.owner, owner("g"));
        assert_eq!(c.hash.as_deref(), Some("h1"));
        assert_eq!(
            c.owned,
            Some(owned::digest(&json!({"spec": {"replicas": 3}})))
        );
        let sts = c.statefulset.unwrap();
        assert_eq!(sts.metadata.generation, Some(3));
        assert_eq!(sts.status.unwrap().ready_replicas, Some(2));
        let spec = sts.spec.unwrap();
        assert_eq!(spec.service_name.as_deref(), Some("g-headless"));
        assert!(spec.template.spec.is_none(), "the pod template is dropped");
        let svc = Child::of("Service", &obj);
        assert!(svc.statefulset.is_none());
    }
}
