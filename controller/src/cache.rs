//! Watch caches of the objects the controller owns. One watch per child kind feeds a shared
//! reflector store (read by the hash-skip decision) and both controllers' owner triggers.
//! The StatefulSet and the Certificate are cached whole (status is computed from them); every
//! other kind is cached as metadata, which is all the skip decision needs.
//!
//! The kinds are those the renderer produces: StatefulSet, Service, ConfigMap, ServiceAccount,
//! PodDisruptionBudget and, when its CRD is served, cert-manager's Certificate. (The renderer
//! makes no Role or RoleBinding: pods no longer talk to the API, so neither is watched and the
//! controller needs no right to grant RBAC. A kind added to the renderer without a cache here
//! still works: it is applied once per process, then skipped by the hash this process applied.)

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, ObjectRef, ReflectHandle, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use neo4j_shared::render::DESIRED_HASH_ANNOTATION as DESIRED_HASH;
use neo4j_shared::render::TLS_REVISION_ANNOTATION;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// cert-manager's Certificate, only as far as the controller needs it (metadata and the Ready
/// condition), so no cert-manager crate is pulled in; the spec is never read.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Certificate {
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CertificateStatus>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CertificateStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<CertificateCondition>>,
    /// Incremented by cert-manager on every issue (1 for the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CertificateCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
}

impl Certificate {
    /// The `Ready` condition, if cert-manager has reported one.
    pub fn ready(&self) -> Option<bool> {
        self.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == "Ready")
            .map(|c| c.status == "True")
    }
}

impl Resource for Certificate {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;
    fn kind(_: &()) -> Cow<'_, str> {
        "Certificate".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        "cert-manager.io".into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "certificates".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Buffer of each shared store's fan-out; a slow subscriber holds the watch back, never drops.
const SUBSCRIBER_BUFFER: usize = 1024;

/// Annotation kubectl's client-side apply leaves on objects: large, and of no use here.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A future that drives one watch.
pub type Driver = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The two controllers' trigger streams of one child kind.
pub struct Triggers<K: Resource<DynamicType = ()> + Clone + 'static> {
    pub cluster: ReflectHandle<K>,
    pub standalone: ReflectHandle<K>,
}

/// Drops what no decision reads, so a thousand instances fit in little memory: managed
/// fields, labels, and every annotation but the desired hash. Owner references stay (they map
/// a child to its owner's reconcile).
pub fn slim<K: Resource>(obj: &mut K) {
    obj.managed_fields_mut().clear();
    obj.labels_mut().clear();
    obj.annotations_mut().retain(|k, _| k == DESIRED_HASH);
}

/// A StatefulSet as the controller needs it: status (for the status function), generation, and
/// the immutable fields of the spec (pinned on apply). The pod template, by far the largest
/// part, is dropped but for the certificate revision the pods run with
/// (`render::TLS_REVISION_ANNOTATION`): the desired-hash annotation says whether it is current.
pub fn slim_statefulset(sts: &mut StatefulSet) {
    slim(sts);
    if let Some(spec) = sts.spec.as_mut() {
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
    }
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

/// The custom resources are cached whole (the spec is the input), without managed fields or
/// kubectl's copy of the last applied manifest.
pub fn slim_instance<K: Resource>(obj: &mut K) {
    obj.managed_fields_mut().clear();
    obj.annotations_mut().remove(LAST_APPLIED);
}

/// Streaming lists (the initial state arrives as watch events, one object at a time) keep the
/// start-up peak low: a paged or cached LIST of a thousand StatefulSets is parsed whole, before
/// `slim` can drop what is not needed.
pub fn watch_config() -> watcher::Config {
    watcher::Config::default().streaming_lists()
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

fn full<K>(
    client: &Client,
    namespace: Option<&str>,
    slim: fn(&mut K),
) -> (Store<K>, Triggers<K>, Driver)
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store_shared::<K>(SUBSCRIBER_BUFFER);
    let triggers = subscribe(&writer);
    let driver = watcher(api::<K>(client, namespace), watch_config())
        .default_backoff()
        .modify(slim)
        .reflect_shared(writer)
        .for_each(|event| async move {
            if let Err(e) = event {
                tracing::warn!(error = %e, kind = %K::kind(&()), "watch error");
            }
        });
    (reader, triggers, Box::pin(driver))
}

/// A metadata-only cache: [`full`] over `PartialObjectMeta<K>` (the spec is never kept).
fn meta<K>(
    client: &Client,
    namespace: Option<&str>,
) -> (
    Store<PartialObjectMeta<K>>,
    Triggers<PartialObjectMeta<K>>,
    Driver,
)
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    full::<PartialObjectMeta<K>>(client, namespace, slim)
}

fn subscribe<K>(writer: &reflector::store::Writer<K>) -> Triggers<K>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    // Shared writers always hand out subscribers.
    let sub = || {
        writer
            .subscribe()
            .unwrap_or_else(|| unreachable!("store_shared writers always subscribe"))
    };
    Triggers {
        cluster: sub(),
        standalone: sub(),
    }
}

/// Every child store, and the triggers the controllers consume.
pub struct Caches {
    pub statefulsets: Store<StatefulSet>,
    pub services: Store<PartialObjectMeta<Service>>,
    pub config_maps: Store<PartialObjectMeta<ConfigMap>>,
    pub service_accounts: Store<PartialObjectMeta<ServiceAccount>>,
    pub pdbs: Store<PartialObjectMeta<PodDisruptionBudget>>,
    pub certificates: Option<Store<Certificate>>,
    /// Hashes applied to kinds that have no cache here, so a steady object is not re-applied
    /// by this process (after a restart each is applied once).
    applied: Mutex<HashMap<String, String>>,
}

pub struct ChildTriggers {
    pub statefulsets: Triggers<StatefulSet>,
    pub services: Triggers<PartialObjectMeta<Service>>,
    pub config_maps: Triggers<PartialObjectMeta<ConfigMap>>,
    pub service_accounts: Triggers<PartialObjectMeta<ServiceAccount>>,
    pub pdbs: Triggers<PartialObjectMeta<PodDisruptionBudget>>,
    pub certificates: Option<Triggers<Certificate>>,
}

/// What the cache knows of one child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    /// The kind is cached and the object is absent.
    Absent,
    /// The object is cached; its desired-hash annotation, if any.
    Present(Option<String>),
    /// The kind has no cache; the hash this process last applied, if any.
    Uncached(Option<String>),
}

impl Caches {
    /// Starts nothing: returns the stores, the triggers and the watch futures to drive.
    pub fn new(
        client: &Client,
        namespace: Option<&str>,
        cert_manager: bool,
    ) -> (Arc<Caches>, ChildTriggers, Vec<Driver>) {
        let mut drivers = Vec::new();
        let (statefulsets, sts_t, d) = full::<StatefulSet>(client, namespace, slim_statefulset);
        drivers.push(d);
        let (services, svc_t, d) = meta::<Service>(client, namespace);
        drivers.push(d);
        let (config_maps, cm_t, d) = meta::<ConfigMap>(client, namespace);
        drivers.push(d);
        let (service_accounts, sa_t, d) = meta::<ServiceAccount>(client, namespace);
        drivers.push(d);
        let (pdbs, pdb_t, d) = meta::<PodDisruptionBudget>(client, namespace);
        drivers.push(d);
        let (certificates, cert_t) = if cert_manager {
            let (s, t, d) = full::<Certificate>(client, namespace, slim::<Certificate>);
            drivers.push(d);
            (Some(s), Some(t))
        } else {
            (None, None)
        };
        let caches = Arc::new(Caches {
            statefulsets,
            services,
            config_maps,
            service_accounts,
            pdbs,
            certificates,
            applied: Mutex::new(HashMap::new()),
        });
        let triggers = ChildTriggers {
            statefulsets: sts_t,
            services: svc_t,
            config_maps: cm_t,
            service_accounts: sa_t,
            pdbs: pdb_t,
            certificates: cert_t,
        };
        (caches, triggers, drivers)
    }

    /// Waits until every store has seen its initial list, so no decision is made on an
    /// empty cache.
    pub async fn ready(&self) -> Result<(), reflector::store::WriterDropped> {
        ready(&self.statefulsets).await?;
        ready(&self.services).await?;
        ready(&self.config_maps).await?;
        ready(&self.service_accounts).await?;
        ready(&self.pdbs).await?;
        if let Some(c) = &self.certificates {
            ready(c).await?;
        }
        Ok(())
    }

    /// The Ready condition of a cached Certificate (`None`: no cache, no object, no condition).
    pub fn certificate_ready(&self, namespace: &str, name: &str) -> Option<bool> {
        self.certificates
            .as_ref()?
            .get(&ObjectRef::new(name).within(namespace))?
            .ready()
    }

    /// The revision of a cached Certificate (`None`: no cache, no object, not issued yet).
    pub fn certificate_revision(&self, namespace: &str, name: &str) -> Option<i64> {
        self.certificates
            .as_ref()?
            .get(&ObjectRef::new(name).within(namespace))?
            .status
            .as_ref()?
            .revision
    }

    pub fn statefulset(&self, namespace: &str, name: &str) -> Option<Arc<StatefulSet>> {
        self.statefulsets
            .get(&ObjectRef::new(name).within(namespace))
    }

    /// What the cache holds for the child `kind` `namespace/name`.
    pub fn lookup(&self, kind: &str, namespace: &str, name: &str) -> Cached {
        fn hash_of<K: Resource<DynamicType = ()> + Clone>(
            store: &Store<K>,
            namespace: &str,
            name: &str,
        ) -> Cached {
            match store.get(&ObjectRef::new(name).within(namespace)) {
                Some(o) => Cached::Present(o.annotations().get(DESIRED_HASH).cloned()),
                None => Cached::Absent,
            }
        }
        match kind {
            "StatefulSet" => hash_of(&self.statefulsets, namespace, name),
            "Service" => hash_of(&self.services, namespace, name),
            "ConfigMap" => hash_of(&self.config_maps, namespace, name),
            "ServiceAccount" => hash_of(&self.service_accounts, namespace, name),
            "PodDisruptionBudget" => hash_of(&self.pdbs, namespace, name),
            "Certificate" if self.certificates.is_some() => match &self.certificates {
                Some(s) => hash_of(s, namespace, name),
                None => Cached::Uncached(None),
            },
            _ => {
                let applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
                Cached::Uncached(applied.get(&uncached_key(kind, namespace, name)).cloned())
            }
        }
    }

    /// Remembers a hash applied to a kind without a cache.
    pub fn remember(&self, kind: &str, namespace: &str, name: &str, hash: &str) {
        if matches!(self.lookup(kind, namespace, name), Cached::Uncached(_)) {
            let mut applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
            applied.insert(uncached_key(kind, namespace, name), hash.to_string());
        }
    }
}

/// `Store::wait_until_ready`, re-polled: its one-shot channel keeps only the last waiter's
/// waker, so with two waiters (the Controller holds its runner on the same store) one of them
/// may never be woken. Polling again re-checks the state.
pub async fn ready<K>(store: &Store<K>) -> Result<(), reflector::store::WriterDropped>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    loop {
        if let Ok(r) = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            store.wait_until_ready(),
        )
        .await
        {
            return r;
        }
    }
}

fn uncached_key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}/{namespace}/{name}")
}
