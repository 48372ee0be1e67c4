//! The watch cache cross-object checks read: kube-rs reflectors of every
//! Neo4jEnterpriseCluster and Neo4jEnterpriseStandalone. Admission only ever reads these
//! in-memory stores, so its latency never depends on the API server's load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use neo4j_shared::defaults;
use neo4j_shared::engine::{Instance, Inventory};
use neo4j_shared::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone};

/// An [`Inventory`] over two reflector stores.
#[derive(Clone)]
pub struct WatchCache {
    clusters: Store<Neo4jEnterpriseCluster>,
    standalones: Store<Neo4jEnterpriseStandalone>,
}

impl std::fmt::Debug for WatchCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchCache")
            .field("clusters", &self.clusters.len())
            .field("standalones", &self.standalones.len())
            .finish()
    }
}

impl WatchCache {
    /// A cache over stores filled by someone else (the reflectors of [`WatchCache::start`], or a
    /// test or benchmark writing events into the stores' writers directly).
    pub fn from_stores(
        clusters: Store<Neo4jEnterpriseCluster>,
        standalones: Store<Neo4jEnterpriseStandalone>,
    ) -> Self {
        WatchCache {
            clusters,
            standalones,
        }
    }

    /// Starts both reflectors on `client` (all namespaces) and sets `synced` once both have
    /// listed everything. The watchers retry with backoff forever: a missing CRD or RBAC rule
    /// keeps `/readyz` at 503 rather than crashing the webhook.
    pub fn start(client: Client, synced: Arc<AtomicBool>) -> Self {
        let clusters = spawn_reflector::<Neo4jEnterpriseCluster>(Api::all(client.clone()));
        let standalones = spawn_reflector::<Neo4jEnterpriseStandalone>(Api::all(client));
        let cache = WatchCache {
            clusters,
            standalones,
        };
        let waiting = cache.clone();
        tokio::spawn(async move {
            // Err only when a writer is dropped, i.e. the runtime is shutting down.
            if waiting.clusters.wait_until_ready().await.is_ok()
                && waiting.standalones.wait_until_ready().await.is_ok()
            {
                synced.store(true, Ordering::Release);
                tracing::info!(
                    clusters = waiting.clusters.len(),
                    standalones = waiting.standalones.len(),
                    "watch cache synced"
                );
            }
        });
        cache
    }
}

fn spawn_reflector<K>(api: Api<K>) -> Store<K>
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (store, writer) = reflector::store::<K>();
    let kind = K::kind(&()).to_string();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        // managedFields are most of a stored object's bytes and admission never reads them.
        .modify(|o| o.managed_fields_mut().clear())
        .reflect(writer)
        .applied_objects();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            if let Err(e) = event {
                tracing::warn!(kind = %kind, error = %e, "watch error; retrying with backoff");
            }
        }
    });
    store
}

impl Inventory for WatchCache {
    fn available(&self) -> bool {
        true
    }

    fn instance(&self, namespace: &str, name: &str) -> Option<Instance> {
        // A cluster is looked up first, as the reference operator does. Defaults are applied to
        // a copy because objects stored before the webhook existed may lack them.
        if let Some(c) = self.clusters.get(&ObjectRef::new(name).within(namespace)) {
            let mut spec = c.spec.clone();
            defaults::cluster(&mut spec);
            return Some(Instance::of_cluster(&Neo4jEnterpriseCluster::new(
                name, spec,
            )));
        }
        self.standalones
            .get(&ObjectRef::new(name).within(namespace))
            .map(|s| {
                let mut spec = s.spec.clone();
                defaults::standalone(&mut spec);
                Instance::of_standalone(&Neo4jEnterpriseStandalone::new(name, spec))
            })
    }
}
