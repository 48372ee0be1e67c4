//! The Neo4jPlugin watch and the merge the cluster and standalone controllers fold into their
//! render. One watch feeds the plugin cache and, after the cache holds the change, fans each
//! touched plugin out to the controllers it concerns: its target (cluster or standalone,
//! deletions included, so a removed plugin's contributions go at once) and the plugin
//! controller (`plugin.rs`).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::{Stream, StreamExt};
use kube::api::Api;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use neo4j_shared::plugins::{self, DEFAULT_INIT_IMAGE, PluginRef, PluginSet, Target};
use neo4j_shared::policy::Policy;
use neo4j_shared::types::Neo4jPlugin;
use tokio::sync::mpsc;

use crate::instance::Instance;

/// Buffer of each fan-out channel; a slow controller holds the watch back, never drops.
const FAN_OUT_BUFFER: usize = 1024;

/// The plugin cache's trigger streams.
pub struct PluginTriggers {
    pub cluster: mpsc::Receiver<Arc<Neo4jPlugin>>,
    pub standalone: mpsc::Receiver<Arc<Neo4jPlugin>>,
    pub plugins: mpsc::Receiver<Arc<Neo4jPlugin>>,
}

/// A receiver as a stream (what `Controller::watches_shared_stream` takes).
pub fn stream_of<T: Send + 'static>(
    rx: mpsc::Receiver<T>,
) -> impl Stream<Item = T> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// The plugin cache: its store, the fan-out of touched plugins, and the watch to drive.
pub fn cache(
    client: &Client,
    namespace: Option<&str>,
) -> (
    Store<Neo4jPlugin>,
    PluginTriggers,
    Pin<Box<dyn Future<Output = ()> + Send>>,
) {
    let api: Api<Neo4jPlugin> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store::<Neo4jPlugin>();
    let (cluster_tx, cluster) = mpsc::channel(FAN_OUT_BUFFER);
    let (standalone_tx, standalone) = mpsc::channel(FAN_OUT_BUFFER);
    let (plugins_tx, plugins) = mpsc::channel(FAN_OUT_BUFFER);
    // The same watch settings as every cache (`cache::watch_config`), and the same slimming
    // (`cache::slim_instance`): managed fields and kubectl's last-applied copy go.
    let driver = watcher(api, watcher::Config::default().streaming_lists())
        .default_backoff()
        .modify(|p: &mut Neo4jPlugin| {
            p.managed_fields_mut().clear();
            p.annotations_mut()
                .remove("kubectl.kubernetes.io/last-applied-configuration");
        })
        .reflect(writer)
        .touched_objects()
        .for_each(move |event| {
            let (cluster_tx, standalone_tx, plugins_tx) = (
                cluster_tx.clone(),
                standalone_tx.clone(),
                plugins_tx.clone(),
            );
            async move {
                match event {
                    Ok(p) => {
                        let p = Arc::new(p);
                        // A closed channel is a stopped controller; the process is ending.
                        let _ = cluster_tx.send(p.clone()).await;
                        let _ = standalone_tx.send(p.clone()).await;
                        let _ = plugins_tx.send(p).await;
                    }
                    Err(e) => tracing::warn!(error = %e, kind = "Neo4jPlugin", "watch error"),
                }
            }
        });
    (
        reader,
        PluginTriggers {
            cluster,
            standalone,
            plugins,
        },
        Box::pin(driver),
    )
}

/// The target a plugin names, as an object reference of kind `K`.
pub fn target_ref<K>(p: &Neo4jPlugin) -> Option<ObjectRef<K>>
where
    K: Resource<DynamicType = ()>,
{
    Some(ObjectRef::new(p.spec.cluster_ref.as_deref()?).within(p.namespace()?.as_str()))
}

/// The plugins of namespace `namespace` naming `target`, not being deleted, defaulted, sorted
/// by name.
pub fn plugins_of(store: &Store<Neo4jPlugin>, namespace: &str, target: &str) -> Vec<Neo4jPlugin> {
    let mut found: Vec<Neo4jPlugin> = store
        .state()
        .into_iter()
        .filter(|p| {
            p.namespace().as_deref() == Some(namespace)
                && p.spec.cluster_ref.as_deref() == Some(target)
                && p.meta().deletion_timestamp.is_none()
        })
        .map(|p| {
            let mut p = (*p).clone();
            p.apply_defaults();
            p
        })
        .collect();
    found.sort_by_key(|p| p.name_any());
    found
}

/// The merged contribution of `plugins` to a target of kind `target` whose own
/// `spec.config` is `config`.
pub fn merged(
    target: Target,
    config: Option<&BTreeMap<String, String>>,
    plugins: &[Neo4jPlugin],
) -> PluginSet {
    plugins::merge(
        target,
        config,
        plugins.iter().map(|p| PluginRef {
            name: p.metadata.name.as_deref().unwrap_or_default(),
            spec: &p.spec,
        }),
        DEFAULT_INIT_IMAGE,
    )
}

/// What the cluster or standalone `obj` (defaulted) folds in: its plugins' merge. Plugins
/// failing validation contribute nothing.
pub fn plugin_set<K: Instance>(store: &Store<Neo4jPlugin>, namespace: &str, obj: &K) -> PluginSet {
    let valid: Vec<Neo4jPlugin> = plugins_of(store, namespace, &obj.name_any())
        .into_iter()
        .filter(|p| p.create().allowed())
        .collect();
    merged(K::PLUGIN_TARGET, obj.config(), &valid)
}
