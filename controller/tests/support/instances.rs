//! Helpers of the instance e2e tests (`e2e.rs`): the APIs, creating and waiting for clusters and
//! standalones and their children, driving them Ready with the test kubelet.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::{Client, ResourceExt};
use neo4j_controller::apply::api_resource;
use neo4j_shared::names;
use neo4j_shared::render::{self, DESIRED_HASH_ANNOTATION, DesiredObject};
use neo4j_shared::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::*;

pub const T: Duration = Duration::from_secs(90);

pub fn clusters(env: &TestEnv) -> Api<Neo4jEnterpriseCluster> {
    Api::namespaced(env.client.clone(), &env.ns)
}
pub fn standalones(env: &TestEnv) -> Api<Neo4jEnterpriseStandalone> {
    Api::namespaced(env.client.clone(), &env.ns)
}
pub fn sts_api(env: &TestEnv) -> Api<StatefulSet> {
    Api::namespaced(env.client.clone(), &env.ns)
}
pub fn pods(env: &TestEnv) -> Api<Pod> {
    Api::namespaced(env.client.clone(), &env.ns)
}
pub fn pvcs(env: &TestEnv) -> Api<PersistentVolumeClaim> {
    Api::namespaced(env.client.clone(), &env.ns)
}

/// Deletes `name` (default propagation), asserting the API server accepted it.
pub async fn delete_named<K>(api: &Api<K>, name: &str)
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    api.delete(name, &DeleteParams::default()).await.unwrap();
}

/// Waits until `name` no longer exists.
pub async fn wait_gone<K>(what: &str, api: &Api<K>, name: &str)
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    wait_for(what, T, || async {
        api.get_opt(name).await.ok()?.is_none().then_some(())
    })
    .await;
}

pub async fn create_cluster(env: &TestEnv, manifest: Value) -> Neo4jEnterpriseCluster {
    let c: Neo4jEnterpriseCluster = serde_json::from_value(manifest).expect("cluster manifest");
    clusters(env)
        .create(&PostParams::default(), &c)
        .await
        .expect("create cluster")
}

pub async fn create_standalone(env: &TestEnv, manifest: Value) -> Neo4jEnterpriseStandalone {
    let s: Neo4jEnterpriseStandalone =
        serde_json::from_value(manifest).expect("standalone manifest");
    standalones(env)
        .create(&PostParams::default(), &s)
        .await
        .expect("create standalone")
}

/// The objects the renderer wants for the stored cluster (defaults applied as the controller does).
pub fn desired_cluster(c: &Neo4jEnterpriseCluster) -> Vec<DesiredObject> {
    let mut d = c.clone();
    neo4j_shared::defaults::cluster(&mut d.spec);
    render::cluster(&d).expect("render")
}

pub fn desired_standalone(s: &Neo4jEnterpriseStandalone) -> Vec<DesiredObject> {
    let mut d = s.clone();
    neo4j_shared::defaults::standalone(&mut d.spec);
    render::standalone(&d).expect("render")
}

pub async fn get_child(client: &Client, ns: &str, d: &DesiredObject) -> Option<DynamicObject> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &api_resource(d));
    api.get_opt(&d.name).await.expect("get child")
}

/// Waits until every desired child exists, and returns their resourceVersions by kind/name.
pub async fn wait_children(
    env: &TestEnv,
    desired: &[DesiredObject],
    owner_uid: &str,
) -> BTreeMap<String, String> {
    let mut rvs = BTreeMap::new();
    for d in desired {
        let obj = wait_for(&format!("{} {}", d.kind, d.name), T, || async {
            get_child(&env.client, &env.ns, d).await
        })
        .await;
        let owner = obj
            .owner_references()
            .iter()
            .find(|o| o.uid == owner_uid)
            .unwrap_or_else(|| {
                panic!(
                    "{} {} has no owner reference to {owner_uid}",
                    d.kind, d.name
                )
            });
        assert_eq!(
            owner.controller,
            Some(true),
            "{} {} controller ref",
            d.kind,
            d.name
        );
        assert!(
            obj.annotations().contains_key(DESIRED_HASH_ANNOTATION),
            "{} {} lacks the desired-hash annotation",
            d.kind,
            d.name
        );
        rvs.insert(
            format!("{}/{}", d.kind, d.name),
            obj.resource_version().unwrap_or_default(),
        );
    }
    rvs
}

/// Waits for every child the renderer wants for cluster `c`, owned by it.
pub async fn wait_cluster_children(env: &TestEnv, c: &Neo4jEnterpriseCluster) {
    wait_children(env, &desired_cluster(c), &c.uid().unwrap()).await;
}

/// Whether event `e` is about the object named `name`.
pub fn is_about(e: &Event, name: &str) -> bool {
    e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
}

pub async fn resource_versions(
    env: &TestEnv,
    desired: &[DesiredObject],
) -> BTreeMap<String, String> {
    let mut rvs = BTreeMap::new();
    for d in desired {
        let obj = get_child(&env.client, &env.ns, d)
            .await
            .unwrap_or_else(|| panic!("{} {} vanished", d.kind, d.name));
        rvs.insert(
            format!("{}/{}", d.kind, d.name),
            obj.resource_version().unwrap_or_default(),
        );
    }
    rvs
}

pub async fn cluster_phase(env: &TestEnv, name: &str) -> Option<String> {
    let c = clusters(env).get_opt(name).await.ok()??;
    c.status?.phase
}

/// Binds and readies pods until the cluster reports Ready.
pub async fn drive_cluster_ready(env: &TestEnv, name: &str, servers: usize) {
    let selector = format!("{}={name}", names::APP_INSTANCE);
    wait_for(&format!("{servers} pods of {name}"), T, || async {
        let n = pods(env)
            .list(&ListParams::default().labels(&selector))
            .await
            .ok()?
            .items
            .len();
        (n >= servers).then_some(())
    })
    .await;
    wait_for(&format!("{name} Ready"), T, || async {
        mark_pods_ready(&env.client, &env.ns, &selector).await;
        (cluster_phase(env, name).await.as_deref() == Some("Ready")).then_some(())
    })
    .await;
}

pub fn conditions(status: &Option<Value>) -> Vec<Value> {
    status
        .as_ref()
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Waits until the controller has nothing left to do: no write for `quiet` in a row.
pub async fn wait_quiet(r: &Running, quiet: Duration) -> f64 {
    let mut last = r.metric("neo4j_controller_api_writes_total", &[]);
    let mut since = Instant::now();
    let deadline = Instant::now() + T;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = r.metric("neo4j_controller_api_writes_total", &[]);
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return now;
        }
        assert!(Instant::now() < deadline, "controller never went quiet");
    }
}
