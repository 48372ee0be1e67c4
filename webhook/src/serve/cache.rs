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
use neo4j_shared::inventory::{InstanceSummary, Inventory};
use neo4j_shared::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone};

/// An [`Inventory`] the admission handlers can share across threads: the [`WatchCache`], or
/// whatever a test or benchmark hands in.
pub trait SharedInventory: Inventory + Send + Sync {}
impl<T: Inventory + Send + Sync> SharedInventory for T {}

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
        // Cross-object checks read only `spec`: managedFields and annotations (kubectl's
        // last-applied-configuration repeats the whole object) are most of the bytes otherwise.
        .modify(|o| {
            o.managed_fields_mut().clear();
            o.annotations_mut().clear();
        })
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

    fn instance(&self, namespace: &str, name: &str) -> Option<InstanceSummary> {
        // A cluster is looked up first, as the reference operator does. Defaults are applied to
        // a copy because objects stored before the webhook existed may lack them.
        if let Some(c) = self.clusters.get(&ObjectRef::new(name).within(namespace)) {
            let mut spec = c.spec.clone();
            defaults::cluster(&mut spec);
            return Some(InstanceSummary::of_cluster(&Neo4jEnterpriseCluster::new(
                name, spec,
            )));
        }
        self.standalones
            .get(&ObjectRef::new(name).within(namespace))
            .map(|s| {
                let mut spec = s.spec.clone();
                defaults::standalone(&mut spec);
                InstanceSummary::of_standalone(&Neo4jEnterpriseStandalone::new(name, spec))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::watcher::Event;
    use neo4j_shared::inventory::InstanceKind;
    use serde_json::json;

    fn cluster(name: &str, namespace: &str, servers: i32) -> Neo4jEnterpriseCluster {
        serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jEnterpriseCluster",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
                "topology": {"servers": servers},
                "storage": {"size": "1Gi"},
            },
        }))
        .expect("cluster")
    }

    fn standalone(name: &str, namespace: &str) -> Neo4jEnterpriseStandalone {
        serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jEnterpriseStandalone",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"image": {"repo": "neo4j", "tag": "2025.10.1"}, "storage": {"size": "1Gi"}},
        }))
        .expect("standalone")
    }

    #[test]
    fn looks_objects_up_by_namespace_and_name_cluster_first() {
        let (clusters, mut cluster_writer) = reflector::store::<Neo4jEnterpriseCluster>();
        let (standalones, mut standalone_writer) = reflector::store::<Neo4jEnterpriseStandalone>();
        cluster_writer.apply_watcher_event(&Event::Apply(cluster("graph", "prod", 5)));
        cluster_writer.apply_watcher_event(&Event::Apply(cluster("twin", "prod", 3)));
        standalone_writer.apply_watcher_event(&Event::Apply(standalone("twin", "prod")));
        standalone_writer.apply_watcher_event(&Event::Apply(standalone("solo", "dev")));
        let cache = WatchCache::from_stores(clusters, standalones);

        assert!(cache.available());
        let graph = cache.instance("prod", "graph").expect("cluster");
        assert_eq!((graph.kind, graph.servers), (InstanceKind::Cluster, 5));
        // Defaults are applied to what the cache holds.
        assert_eq!(graph.server_mode_constraint.as_deref(), Some("NONE"));
        assert_eq!(
            cache.instance("prod", "twin").map(|i| i.kind),
            Some(InstanceKind::Cluster)
        );
        let solo = cache.instance("dev", "solo").expect("standalone");
        assert_eq!(
            (solo.kind, solo.servers, solo.image_tag.as_deref()),
            (InstanceKind::Standalone, 1, Some("2025.10.1"))
        );
        assert_eq!(cache.instance("dev", "graph"), None);
        assert_eq!(cache.instance("prod", "nope"), None);

        cluster_writer.apply_watcher_event(&Event::Delete(cluster("graph", "prod", 5)));
        assert_eq!(cache.instance("prod", "graph"), None);
    }
}
