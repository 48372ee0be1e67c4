//! The Neo4jPlugin controller. The cluster and standalone controllers fold the plugins that
//! reference them into their own render (`Instance::plugins`, called from
//! `Instance::render_in`): they stay the single writer of their StatefulSet and ConfigMap. This
//! controller writes nothing but the plugin's own status: `Pending` until the target's pods run
//! the render containing the plugin, `Applied` then, `Conflict` when the merge does not honour
//! one of its requests (`shared::status::plugin`). A touched plugin reconciles every plugin of
//! the same target (a change of one can resolve or cause another's conflict).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use neo4j_shared::policy::Policy;
use neo4j_shared::render::{DESIRED_HASH_ANNOTATION, DesiredObject};
use neo4j_shared::status::plugin::{PluginObserved, Rollout};
use neo4j_shared::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, Neo4jPlugin};
use serde_json::json;

use crate::cache;
use crate::context::Context;
use crate::error::{Error, Result, is_conflict};
use crate::health::Health;
use crate::instance::Instance;

/// The field manager of plugin status writes: the only field manager the plugin controller
/// has, so `managedFields` show that it never writes a StatefulSet or ConfigMap.
pub const STATUS_MANAGER: &str = "neo4j-controller-plugins";
/// The name of the plugin controller's StatefulSet watch in the watch health and its metrics.
pub const STATEFULSET_WATCH: &str = "StatefulSet/plugins";

/// The Neo4jPlugin controller: reconciles each touched plugin and every plugin of the same
/// target (routed by the plugin watch, `plugin_fold.rs`), the plugins of a target whose
/// StatefulSet changed (its rollout is what `Applied` waits for), and every plugin once when
/// the watches recover from an outage. The StatefulSets are watched and cached here (a plain
/// watch, label-selected like every child watch, on which every event triggers, deletions
/// included), so a reconcile reads the rollout that woke it; nothing is polled. Runs until a
/// watch ends.
pub async fn run(
    ctx: Arc<Context>,
    hosts: Hosts,
    touched: impl Stream<Item = ObjectRef<Neo4jPlugin>> + Send + 'static,
    recovered: impl Stream<Item = ()> + Send + 'static,
    health: Arc<Health>,
    namespace: Option<String>,
) -> anyhow::Result<()> {
    let Hosts {
        clusters,
        standalones,
    } = hosts;
    let store = ctx.caches.plugins.clone();
    let sts_api: Api<StatefulSet> = match &namespace {
        Some(ns) => Api::namespaced(ctx.client.clone(), ns),
        None => Api::all(ctx.client.clone()),
    };
    let (statefulsets, sts_writer) = reflector::store::<StatefulSet>();
    let sts_stream = cache::healthy_watch(
        sts_api,
        cache::watch_config().labels(&cache::child_selector()),
        &health,
        STATEFULSET_WATCH,
    )
    .modify(|sts: &mut StatefulSet| *sts = slim_statefulset(std::mem::take(sts)))
    .reflect(sts_writer)
    .touched_objects();
    let by_target = store.clone();
    let pc = Arc::new(PluginContext {
        ctx,
        clusters,
        standalones,
        statefulsets,
    });
    let metrics = pc.ctx.metrics.clone();
    let counted = store.clone();
    let controller = Controller::for_stream(
        futures_util::stream::pending::<std::result::Result<Neo4jPlugin, watcher::Error>>(),
        store,
    )
    .reconcile_on(touched)
    .reconcile_all_on(recovered)
    .watches_stream(sts_stream, move |sts| plugins_of_owner(&by_target, &sts))
    .with_config(controller::Config::default().debounce(Duration::from_millis(500)))
    .run(reconcile, error_policy, pc)
    .for_each(|res| async move {
        if let Err(e) = res {
            tracing::debug!(kind = "Neo4jPlugin", error = %e, "reconcile error");
        }
    });
    tokio::select! {
        () = controller => {},
        () = count_phases(&metrics, Neo4jPlugin::KIND.name(), &counted, |p| {
            p.status.as_ref().and_then(|s| s.phase.as_deref())
        }) => {},
    }
    Err(anyhow::anyhow!("Neo4jPlugin controller stopped"))
}

/// The instance controllers' caches, from which the plugin controller reads the targets.
pub struct Hosts {
    pub clusters: Store<Neo4jEnterpriseCluster>,
    pub standalones: Store<Neo4jEnterpriseStandalone>,
}

/// What the plugin controller keeps of a StatefulSet: what the child cache keeps
/// (`cache::slim_statefulset`: no pod template) plus its desired-hash annotation, which says
/// whether it carries the render with the plugin.
fn slim_statefulset(sts: StatefulSet) -> StatefulSet {
    let hash = sts.annotations().get(DESIRED_HASH_ANNOTATION).cloned();
    let owners = sts.metadata.owner_references.clone();
    let mut slim = cache::slim_statefulset(sts);
    if let Some(h) = hash {
        slim.annotations_mut()
            .insert(DESIRED_HASH_ANNOTATION.to_string(), h);
    }
    slim.metadata.owner_references = owners;
    slim
}

/// Keeps `neo4j_controller_objects{kind}` at the cached objects' `status.phase` counts
/// (`Unknown`: no status yet), refreshed every 2 s, like the instance kinds. Never returns.
pub(crate) async fn count_phases<K>(
    metrics: &crate::metrics::Metrics,
    kind: &'static str,
    store: &Store<K>,
    phase: fn(&K) -> Option<&str>,
) where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for obj in store.state() {
            *counts
                .entry(phase(&obj).unwrap_or("Unknown").to_string())
                .or_default() += 1;
        }
        metrics.set_objects(kind, counts);
    }
}

/// Key of a plugin in the failure counts.
fn key(p: &Neo4jPlugin) -> String {
    format!(
        "Neo4jPlugin/{}/{}",
        p.namespace().unwrap_or_default(),
        p.name_any()
    )
}

/// Transient errors back off per object; anything else waits for a change.
pub fn error_policy(p: Arc<Neo4jPlugin>, error: &Error, pc: Arc<PluginContext>) -> Action {
    if error.is_transient() {
        let delay = pc.ctx.failures.fail(&key(&p));
        tracing::warn!(%error, name = %p.name_any(), retry_in = ?delay, "plugin reconcile failed");
        Action::requeue(delay)
    } else {
        Action::await_change()
    }
}

/// What the plugin controller reads besides the plugin cache.
pub struct PluginContext {
    pub ctx: Arc<Context>,
    pub clusters: Store<Neo4jEnterpriseCluster>,
    pub standalones: Store<Neo4jEnterpriseStandalone>,
    /// The StatefulSets in scope (slim: status, generation, desired-hash annotation).
    pub statefulsets: Store<StatefulSet>,
}

/// The plugins naming the cluster or standalone that owns `sts`.
fn plugins_of_owner(
    plugins: &Store<Neo4jPlugin>,
    sts: &StatefulSet,
) -> Vec<ObjectRef<Neo4jPlugin>> {
    let namespace = sts.metadata.namespace.as_deref();
    let owners: Vec<&str> = sts
        .owner_references()
        .iter()
        .filter(|o| o.kind == "Neo4jEnterpriseCluster" || o.kind == "Neo4jEnterpriseStandalone")
        .map(|o| o.name.as_str())
        .collect();
    plugins
        .state()
        .iter()
        .filter(|p| {
            p.metadata.namespace.as_deref() == namespace
                && p.spec
                    .cluster_ref
                    .as_deref()
                    .is_some_and(|t| owners.contains(&t))
        })
        .map(|p| ObjectRef::from_obj(&**p))
        .collect()
}

/// Whether the live StatefulSet carries `desired` and every pod runs it; else what is awaited.
pub fn rollout_of(desired: &DesiredObject, live: Option<&StatefulSet>) -> Rollout {
    let Some(live) = live else {
        return Rollout::InProgress(format!("StatefulSet {} does not exist yet", desired.name));
    };
    if live.annotations().get(DESIRED_HASH_ANNOTATION) != Some(&desired.hash) {
        return Rollout::InProgress(format!(
            "StatefulSet {} does not carry the configuration with this plugin yet",
            desired.name
        ));
    }
    let want = live.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = live.status.clone().unwrap_or_default();
    let current = status.observed_generation == live.metadata.generation
        && status.updated_replicas.unwrap_or(0) == want
        && status.ready_replicas.unwrap_or(0) == want
        && (status.update_revision.is_none() || status.current_revision == status.update_revision);
    if current {
        Rollout::Running
    } else {
        Rollout::InProgress(format!(
            "{}/{want} servers of StatefulSet {} run the configuration with this plugin",
            status
                .updated_replicas
                .unwrap_or(0)
                .min(status.ready_replicas.unwrap_or(0)),
            desired.name
        ))
    }
}

fn observe_target<K: Instance>(
    pc: &PluginContext,
    target: &K,
    namespace: &str,
    plugin_name: &str,
) -> PluginObserved {
    let target = target.defaulted();
    let set = target.plugins(&pc.ctx);
    let conflicts = set
        .conflicts_of(plugin_name)
        .iter()
        .map(ToString::to_string)
        .collect();
    let rollout = if !target.validate().allowed() {
        Rollout::TargetNotRendered("its spec fails validation".into())
    } else {
        match target.render(&pc.ctx.site, &set) {
            Err(e) => Rollout::TargetNotRendered(e.to_string()),
            Ok(desired) => match desired.iter().find(|d| d.kind == "StatefulSet") {
                None => Rollout::TargetNotRendered("no StatefulSet rendered".into()),
                Some(sts) => rollout_of(
                    sts,
                    pc.statefulsets
                        .get(&ObjectRef::new(&sts.name).within(namespace))
                        .as_deref(),
                ),
            },
        }
    };
    PluginObserved { rollout, conflicts }
}

/// Entry point handed to `Controller::run` for Neo4jPlugins.
pub async fn reconcile(p: Arc<Neo4jPlugin>, pc: Arc<PluginContext>) -> Result<Action> {
    let started = Instant::now();
    let kind = Neo4jPlugin::KIND.name();
    let result = reconcile_plugin(&p, &pc).await;
    let label = match &result {
        Ok(_) => "ok",
        Err(e) => e.metric_label(),
    };
    pc.ctx.metrics.reconciled(kind, label, started.elapsed());
    if result.is_ok() {
        pc.ctx.failures.succeed(&key(&p));
    }
    result
}

async fn reconcile_plugin(p: &Neo4jPlugin, pc: &PluginContext) -> Result<Action> {
    // No decision on an empty StatefulSet cache (every plugin would read as not rolled out).
    if pc.statefulsets.wait_until_ready().await.is_err() {
        return Err(Error::MissingField(
            "the StatefulSet cache of the plugin controller",
        ));
    }
    if p.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let namespace = p.namespace().ok_or(Error::MissingField("namespace"))?;
    let mut defaulted = p.clone();
    defaulted.apply_defaults();
    let verdict = defaulted.create();
    let seen_generation = p.status.as_ref().and_then(|s| s.observed_generation);
    if seen_generation != p.meta().generation {
        crate::reconcile::publish_findings(&pc.ctx, p, &verdict).await;
    }
    let target = defaulted.spec.cluster_ref.clone().unwrap_or_default();
    let observed = if let Some(c) = pc.clusters.get(&ObjectRef::new(&target).within(&namespace)) {
        observe_target(pc, &*c, &namespace, &p.name_any())
    } else if let Some(s) = pc
        .standalones
        .get(&ObjectRef::new(&target).within(&namespace))
    {
        observe_target(pc, &*s, &namespace, &p.name_any())
    } else {
        PluginObserved {
            rollout: Rollout::TargetMissing,
            conflicts: Vec::new(),
        }
    };
    let status = neo4j_shared::status::plugin::plugin(
        &defaulted,
        &observed,
        &verdict,
        p.status.as_ref(),
        Time(k8s_openapi::jiff::Timestamp::now()),
    );
    write_status(&pc.ctx, p, &status).await?;
    // A pending plugin is woken by its target's StatefulSet; a settled one by any change.
    Ok(Action::requeue(crate::reconcile::RESYNC))
}

async fn write_status(
    ctx: &Context,
    p: &Neo4jPlugin,
    status: &neo4j_shared::types::Neo4jPluginStatus,
) -> Result<()> {
    if p.status.as_ref() == Some(status) {
        return Ok(());
    }
    let namespace = p.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = p.name_any();
    let body = json!({
        "apiVersion": Neo4jPlugin::api_version(&()),
        "kind": Neo4jPlugin::kind(&()),
        "metadata": {"name": name},
        "status": status,
    });
    let api: Api<Neo4jPlugin> = Api::namespaced(ctx.client.clone(), &namespace);
    ctx.fence.check()?;
    ctx.metrics
        .wrote(Neo4jPlugin::KIND.name(), "neo4jplugins/status", "apply");
    match api
        .patch_status(
            &name,
            &PatchParams::apply(STATUS_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            if is_conflict(&e) {
                ctx.metrics.conflict("neo4jplugins/status");
            }
            Err(Error::kube("apply", "neo4jplugins/status", name, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn desired(hash: &str) -> DesiredObject {
        DesiredObject {
            api_version: "apps/v1",
            kind: "StatefulSet",
            plural: "statefulsets",
            name: "graph-server".into(),
            object: json!({}),
            hash: hash.into(),
        }
    }

    fn live(hash: &str, status: serde_json::Value) -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": {"name": "graph-server", "generation": 4,
                "annotations": {DESIRED_HASH_ANNOTATION: hash}},
            "spec": {"replicas": 3, "selector": {}, "template": {}, "serviceName": "x"},
            "status": status
        }))
        .expect("statefulset")
    }

    #[test]
    fn applied_only_when_every_pod_runs_the_render_with_the_plugin() {
        let done = json!({"replicas": 3, "observedGeneration": 4, "updatedReplicas": 3,
            "readyReplicas": 3, "currentRevision": "r2", "updateRevision": "r2"});
        assert_eq!(
            rollout_of(&desired("h2"), Some(&live("h2", done.clone()))),
            Rollout::Running
        );
        assert!(matches!(
            rollout_of(&desired("h2"), Some(&live("h1", done.clone()))),
            Rollout::InProgress(_)
        ));
        assert!(matches!(
            rollout_of(&desired("h2"), None),
            Rollout::InProgress(_)
        ));
        let rolling = json!({"replicas": 3, "observedGeneration": 4, "updatedReplicas": 1,
            "readyReplicas": 3, "currentRevision": "r1", "updateRevision": "r2"});
        assert_eq!(
            rollout_of(&desired("h2"), Some(&live("h2", rolling))),
            Rollout::InProgress(
                "1/3 servers of StatefulSet graph-server run the configuration with this plugin"
                    .into()
            )
        );
        let stale = json!({"replicas": 3, "observedGeneration": 3, "updatedReplicas": 3,
            "readyReplicas": 3, "currentRevision": "r2", "updateRevision": "r2"});
        assert!(matches!(
            rollout_of(&desired("h2"), Some(&live("h2", stale))),
            Rollout::InProgress(_)
        ));
    }
}
