//! The Neo4jPlugin watch and the merge the cluster and standalone controllers fold into their
//! render. One watch feeds the plugin cache and, after the cache holds the change, routes each
//! touched plugin (deletions included, so a removed plugin's contributions go at once) through
//! the [`Router`] to the controllers it concerns: its target (the cluster or standalone of that
//! name) and the plugin controller (`plugin.rs`), for the plugin and every other plugin of the
//! same target (a change of one can resolve or cause another's conflict). Like every watch it
//! starts over with a fresh list after an error and reports its health; a plugin deleted while
//! the watch was down is caught by the reconcile of every object that follows the recovery.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::StreamExt;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::{Client, Resource, ResourceExt};
use neo4j_shared::plugins::{self, DEFAULT_INIT_IMAGE, PluginRef, PluginSet, Target};
use neo4j_shared::policy::Policy;
use neo4j_shared::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, Neo4jPlugin};

use crate::cache::{self, Driver, Owner, Router};
use crate::health::Health;

/// The name of the plugin watch in the watch health and its metrics.
pub const WATCH: &str = "Neo4jPlugin";

/// The plugin cache and the watch that drives it and routes every change.
pub fn cache(
    client: &Client,
    namespace: Option<&str>,
    router: Arc<Router>,
    health: &Health,
) -> (Store<Neo4jPlugin>, Driver) {
    let api: Api<Neo4jPlugin> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store::<Neo4jPlugin>();
    let siblings = reader.clone();
    let driver = cache::healthy_watch(api, cache::watch_config(), health, WATCH)
        .modify(cache::slim_instance::<Neo4jPlugin>)
        .reflect(writer)
        .touched_objects()
        .for_each(move |touched| {
            if let Ok(p) = touched {
                route(&router, &siblings, &p);
            }
            futures_util::future::ready(())
        });
    (reader, Box::pin(driver))
}

/// Routes a touched plugin (the store already holds the change) to its target's controllers
/// and to the plugin controller, for it and its siblings.
fn route(router: &Router, store: &Store<Neo4jPlugin>, p: &Neo4jPlugin) {
    let Some(namespace) = p.namespace() else {
        return;
    };
    if let Some(target) = p.spec.cluster_ref.as_deref() {
        for kind in [
            Neo4jEnterpriseCluster::kind(&()),
            Neo4jEnterpriseStandalone::kind(&()),
        ] {
            router.send(
                &namespace,
                &Owner {
                    kind: kind.into_owned(),
                    name: target.to_string(),
                },
            );
        }
    }
    let mut names: Vec<String> = store
        .state()
        .iter()
        .filter(|o| {
            o.namespace().as_deref() == Some(namespace.as_str())
                && o.spec.cluster_ref == p.spec.cluster_ref
        })
        .map(|o| o.name_any())
        .collect();
    names.push(p.name_any());
    names.sort();
    names.dedup();
    for name in names {
        router.send(
            &namespace,
            &Owner {
                kind: Neo4jPlugin::kind(&()).into_owned(),
                name,
            },
        );
    }
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

/// What the cluster or standalone `name` of `namespace` (a `target`, whose own `spec.config`
/// is `config`) folds in: its plugins' merge. Plugins failing validation contribute nothing.
pub fn plugin_set(
    store: &Store<Neo4jPlugin>,
    namespace: &str,
    name: &str,
    target: Target,
    config: Option<&BTreeMap<String, String>>,
) -> PluginSet {
    let valid: Vec<Neo4jPlugin> = plugins_of(store, namespace, name)
        .into_iter()
        .filter(|p| p.create().allowed())
        .collect();
    merged(target, config, &valid)
}
