//! Neo4jDatabase and Neo4jPlugin against a real API server and kube-controller-manager (the
//! Job controller included; the fake kubelet reports Job pods Succeeded, a test reports one
//! Failed with the Bolt client's exit code and termination message). Each test has its own
//! namespace and an in-process controller scoped to it.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use neo4j_controller::plugin::STATUS_MANAGER;
use neo4j_controller::plugin_fold::merged;
use neo4j_shared::names::{ClusterNames, FIELD_MANAGER, StandaloneNames};
use neo4j_shared::plugins::Target;
use neo4j_shared::render::{self, DesiredObject};
use neo4j_shared::types::{
    Neo4jDatabase, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, Neo4jPlugin,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use support::*;

const T: Duration = Duration::from_secs(90);
/// The message Neo4j 5.26 Community answers `CREATE DATABASE` with, as the Bolt client writes
/// it (recorded by tests/neo4j's BoltClientTest against a real server).
const REFUSAL: &str = "Neo.ClientError.Statement.UnsupportedAdministrationCommand: Unsupported administration command: CREATE DATABASE $name IF NOT EXISTS OPTIONS {storeFormat: $opt_storeFormat} WAIT";

fn api<K>(env: &TestEnv) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    Api::namespaced(env.client.clone(), &env.ns)
}

async fn create<K>(env: &TestEnv, manifest: Value) -> K
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let obj: K = serde_json::from_value(manifest).expect("manifest");
    api::<K>(env)
        .create(&PostParams::default(), &obj)
        .await
        .expect("create")
}

async fn ready_standalone(env: &TestEnv, name: &str) -> Neo4jEnterpriseStandalone {
    let s: Neo4jEnterpriseStandalone = create(env, standalone_manifest(name, "Retain")).await;
    let selector = format!("app={name}");
    wait_for(&format!("{name} Ready"), T, || async {
        mark_pods_ready(&env.client, &env.ns, &selector).await;
        let s: Neo4jEnterpriseStandalone = api(env).get(name).await.ok()?;
        (s.status?.phase.as_deref() == Some("Ready")).then_some(())
    })
    .await;
    s
}

fn database(name: &str, extra: Value) -> Value {
    let mut spec = json!({"clusterRef": "solo", "name": "orders-2026.eu",
        "options": {"storeFormat": "block"}});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jDatabase",
        "metadata": {"name": name}, "spec": spec})
}

async fn database_status(env: &TestEnv, name: &str) -> Option<(String, String)> {
    let d: Neo4jDatabase = api(env).get_opt(name).await.ok()??;
    let s = d.status?;
    let ready = s.conditions?.into_iter().find(|c| c.type_ == "Ready")?;
    Some((s.phase?, ready.message))
}

async fn wait_phase(env: &TestEnv, name: &str, phase: &str) -> String {
    wait_for(&format!("{name} {phase}"), T, || async {
        let (p, message) = database_status(env, name).await?;
        (p == phase).then_some(message)
    })
    .await
}

/// The database Jobs of `operation` (`create` or `drop`) in the namespace.
async fn jobs(env: &TestEnv, operation: &str) -> Vec<Job> {
    api::<Job>(env)
        .list(&ListParams::default().labels(&format!(
            "app.kubernetes.io/component=neo4j-database,neo4j.com/database-operation={operation}"
        )))
        .await
        .expect("list jobs")
        .items
}

async fn wait_job(env: &TestEnv, operation: &str) -> Job {
    wait_for(&format!("a {operation} Job"), T, || async {
        let mut list = jobs(env, operation).await;
        (list.len() == 1).then(|| list.remove(0))
    })
    .await
}

fn args(job: &Job) -> Vec<String> {
    let c = &job
        .spec
        .as_ref()
        .expect("spec")
        .template
        .spec
        .as_ref()
        .expect("pod")
        .containers[0];
    assert_eq!(
        c.command.as_deref(),
        Some(&["neo4j-controller".to_string()][..])
    );
    c.args.clone().unwrap_or_default()
}

/// What a kubelet reports for a Job pod whose Bolt client Neo4j refused: bound to the fake
/// node, the `cypher` container terminated with exit code 3 and `message`.
async fn fail_job_pod(env: &TestEnv, job: &str, message: &str) {
    let pods: Api<Pod> = api(env);
    let pod = wait_for("the Job's pod", T, || async {
        let mut list = pods
            .list(&ListParams::default().labels(&format!("job-name={job}")))
            .await
            .ok()?
            .items;
        (!list.is_empty()).then(|| list.remove(0))
    })
    .await;
    let name = pod.name_any();
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
        "target": {"apiVersion": "v1", "kind": "Node", "name": NODE}});
    let _: Value = pods
        .create_subresource("binding", &name, &PostParams::default(), &binding)
        .await
        .expect("bind");
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let status = json!({"apiVersion": "v1", "kind": "Pod", "status": {
        "phase": "Failed",
        "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": now}],
        "containerStatuses": [{"name": "cypher", "image": "x", "imageID": "", "ready": false,
            "restartCount": 0, "started": false,
            "state": {"terminated": {"exitCode": 3, "reason": "Error", "message": message,
                "startedAt": now, "finishedAt": now}}}]}});
    pods.patch_status(
        &name,
        &PatchParams::apply("test-kubelet").force(),
        &Patch::Apply(&status),
    )
    .await
    .expect("pod status");
}

/// One pass of a kubelet over the pods of `selector`: a pod being deleted (the StatefulSet
/// rolling onto a new template) goes at once, the others are bound and reported Ready.
async fn kubelet_pass(env: &TestEnv, selector: &str) {
    let pods: Api<Pod> = api(env);
    let list = pods
        .list(&ListParams::default().labels(selector))
        .await
        .expect("list pods");
    for p in list
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_some())
    {
        let _ = pods
            .delete(
                &p.name_any(),
                &DeleteParams {
                    grace_period_seconds: Some(0),
                    ..Default::default()
                },
            )
            .await;
    }
    mark_pods_ready(&env.client, &env.ns, selector).await;
}

/// resourceVersions of the named objects, for "a second reconcile changes nothing".
async fn versions<K>(env: &TestEnv, names: &[String]) -> BTreeMap<String, String>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let mut out = BTreeMap::new();
    for n in names {
        let o: K = api(env).get(n).await.expect("object");
        out.insert(n.clone(), o.resource_version().unwrap_or_default());
    }
    out
}

/// Waits until the controller has nothing left to do: no write for `quiet` in a row.
async fn wait_quiet(r: &Running, quiet: Duration) {
    let deadline = Instant::now() + T;
    let mut last = r.metric("neo4j_controller_api_writes_total", &[]);
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = r.metric("neo4j_controller_api_writes_total", &[]);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= quiet {
            return;
        }
        assert!(Instant::now() < deadline, "the controller never went quiet");
    }
}

/// Restarts the controller and checks its first reconciles of everything write nothing.
async fn restart_writes_nothing(env: &TestEnv, ctl: Running, kind: &str) -> Running {
    wait_quiet(&ctl, Duration::from_secs(2)).await;
    ctl.kill().await;
    let ctl = start(env, |_| {}).await;
    wait_ready(&ctl).await;
    wait_for(&format!("a reconcile of a {kind}"), T, || async {
        (ctl.metric("neo4j_controller_reconciles_total", &[("kind", kind)]) >= 1.0).then_some(())
    })
    .await;
    wait_for("the standalone's reconcile", T, || async {
        (ctl.metric("neo4j_controller_reconciles_total", &[("kind", STANDALONE)]) >= 1.0)
            .then_some(())
    })
    .await;
    let writes: Vec<String> = ctl
        .metrics()
        .lines()
        .filter(|l| l.starts_with("neo4j_controller_api_writes_total"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        ctl.metric("neo4j_controller_api_writes_total", &[]),
        0.0,
        "{writes:?}"
    );
    ctl
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_job_binds_every_value_and_reports_neo4js_refusal_then_drops_on_delete() {
    let env = setup("ctl-db").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    ready_standalone(&env, "solo").await;

    // Refused: the exact statement and parameters, then Neo4j's message in the status.
    let _: Neo4jDatabase = create(&env, database("refused", json!({}))).await;
    let job = wait_job(&env, "create").await;
    assert_eq!(
        args(&job),
        [
            "cypher",
            "--address",
            &format!("solo-client.{}.svc.cluster.local:7687", env.ns),
            "--database",
            "system",
            "--statement",
            "CREATE DATABASE $name IF NOT EXISTS OPTIONS {storeFormat: $opt_storeFormat} WAIT",
            "--parameters",
            r#"{"name":"orders-2026.eu","opt_storeFormat":"block"}"#,
            "--timeout-seconds",
            "300",
        ]
    );
    assert_eq!(job.owner_references()[0].kind, "Neo4jDatabase");
    fail_job_pod(&env, &job.name_any(), REFUSAL).await;
    let message = wait_phase(&env, "refused", "Failed").await;
    assert!(message.ends_with(REFUSAL), "{message}");
    let events: Api<k8s_openapi::api::events::v1::Event> = api(&env);
    wait_for(
        "one CreationFailed event with Neo4j's message",
        T,
        || async {
            let list = events.list(&ListParams::default()).await.ok()?;
            let found: Vec<_> = list
                .items
                .iter()
                .filter(|e| e.reason.as_deref() == Some("CreationFailed"))
                .collect();
            (found.len() == 1
                && found[0]
                    .note
                    .as_deref()
                    .is_some_and(|n| n.contains("UnsupportedAdministrationCommand")))
            .then_some(())
        },
    )
    .await;
    assert!(message.contains(&job.name_any()), "{message}");
    api::<Neo4jDatabase>(&env)
        .delete("refused", &DeleteParams::default())
        .await
        .expect("delete");
    wait_for(
        "refused gone (Retain: no finalizer, no DROP)",
        T,
        || async {
            api::<Neo4jDatabase>(&env)
                .get_opt("refused")
                .await
                .ok()?
                .is_none()
                .then_some(())
        },
    )
    .await;
    assert!(jobs(&env, "drop").await.is_empty(), "Retain never drops");
    wait_for("its Job garbage-collected with it", T, || async {
        api::<Job>(&env)
            .get_opt(&job.name_any())
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;

    // Created, then dropped on delete (deletionPolicy Drop).
    let _: Neo4jDatabase =
        create(&env, database("orders", json!({"deletionPolicy": "Drop"}))).await;
    let job = wait_for("the orders create Job", T, || async {
        jobs(&env, "create").await.into_iter().find(|j| {
            j.owner_references()[0].name == "orders" && j.metadata.deletion_timestamp.is_none()
        })
    })
    .await;
    wait_for("orders Ready", T, || async {
        mark_pods_ready(
            &env.client,
            &env.ns,
            &format!("job-name={}", job.name_any()),
        )
        .await;
        (database_status(&env, "orders").await?.0 == "Ready").then_some(())
    })
    .await;
    let d: Neo4jDatabase = api(&env).get("orders").await.expect("orders");
    assert_eq!(d.finalizers(), ["neo4j.neo4j.com/database-finalizer"]);
    wait_for("the objects gauge counts the Ready database", T, || async {
        (ctl.metric(
            "neo4j_controller_objects",
            &[("kind", "Neo4jDatabase"), ("phase", "Ready")],
        ) == 1.0)
            .then_some(())
    })
    .await;

    // A second reconcile changes no resourceVersion.
    let before = (
        versions::<Neo4jDatabase>(&env, &["orders".into()]).await,
        versions::<Job>(&env, &[job.name_any()]).await,
    );
    let ctl = restart_writes_nothing(&env, ctl, "Neo4jDatabase").await;
    let after = (
        versions::<Neo4jDatabase>(&env, &["orders".into()]).await,
        versions::<Job>(&env, &[job.name_any()]).await,
    );
    assert_eq!(before, after);

    api::<Neo4jDatabase>(&env)
        .delete("orders", &DeleteParams::default())
        .await
        .expect("delete");
    let drop = wait_job(&env, "drop").await;
    let argv = args(&drop);
    assert_eq!(argv[6], "DROP DATABASE $name IF EXISTS WAIT");
    assert_eq!(argv[8], r#"{"name":"orders-2026.eu"}"#);
    assert!(
        api::<Neo4jDatabase>(&env)
            .get_opt("orders")
            .await
            .expect("get")
            .is_some(),
        "held by the finalizer until the DROP succeeded"
    );
    wait_for("orders gone after DROP", T, || async {
        mark_pods_ready(
            &env.client,
            &env.ns,
            &format!("job-name={}", drop.name_any()),
        )
        .await;
        api::<Neo4jDatabase>(&env)
            .get_opt("orders")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    ctl.stop().await;
}

fn plugin(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jPlugin",
        "metadata": {"name": name}, "spec": spec})
}

fn apoc() -> Value {
    plugin(
        "apoc",
        json!({"clusterRef": "solo", "name": "apoc", "version": "5.26.0",
            "config": {"apoc.export.file.enabled": "true"},
            "security": {"allowedProcedures": ["apoc.*"]}}),
    )
}

fn gds() -> Value {
    plugin(
        "gds",
        json!({"clusterRef": "solo", "name": "gds", "version": "2.10.0",
            "config": {"gds.enterprise.license_file": "/licenses/gds.license"},
            "security": {"allowedProcedures": ["gds.*"]}}),
    )
}

/// The standalone's objects with `plugins` folded in, as the controller renders them.
async fn desired_with(env: &TestEnv, plugins: &[&str]) -> Vec<DesiredObject> {
    let mut s: Neo4jEnterpriseStandalone = api(env).get("solo").await.expect("solo");
    neo4j_shared::defaults::standalone(&mut s.spec);
    let mut list = Vec::new();
    for name in plugins {
        let mut p: Neo4jPlugin = api(env).get(name).await.expect("plugin");
        neo4j_shared::defaults::plugin(&mut p.spec);
        list.push(p);
    }
    let set = merged(Target::Standalone, s.spec.config.as_ref(), &list);
    render::standalone_with_plugins(&s, &set).expect("render")
}

fn find<'a>(objects: &'a [DesiredObject], kind: &str) -> &'a DesiredObject {
    objects.iter().find(|d| d.kind == kind).expect("rendered")
}

async fn live_conf(env: &TestEnv) -> Value {
    let cm: ConfigMap = api(env)
        .get(&StandaloneNames::new("solo").config_map())
        .await
        .expect("config map");
    serde_json::to_value(cm.data).expect("data")
}

async fn wait_rendered(env: &TestEnv, plugins: &[&str]) {
    wait_for(&format!("the render with {plugins:?}"), T, || async {
        let desired = desired_with(env, plugins).await;
        let want = &find(&desired, "ConfigMap").object["data"];
        (live_conf(env).await == *want).then_some(())
    })
    .await;
}

/// `NEO4J_PLUGINS` of the StatefulSet's Neo4j container.
fn plugins_env(sts: &StatefulSet) -> Option<String> {
    sts.spec.as_ref()?.template.spec.as_ref()?.containers[0]
        .env
        .iter()
        .flatten()
        .find(|e| e.name == "NEO4J_PLUGINS")?
        .value
        .clone()
}

/// Waits until the StatefulSet `name` exists with `NEO4J_PLUGINS` = `want`.
async fn wait_plugins_env(env: &TestEnv, name: &str, want: Option<&str>) {
    wait_for(
        &format!("{name} with NEO4J_PLUGINS {want:?}"),
        T,
        || async {
            let sts: StatefulSet = api(env).get_opt(name).await.ok()??;
            (plugins_env(&sts).as_deref() == want).then_some(())
        },
    )
    .await;
}

async fn plugin_phase(env: &TestEnv, name: &str) -> Option<String> {
    let p: Neo4jPlugin = api(env).get_opt(name).await.ok()??;
    p.status?.phase
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_fold_into_the_standalone_and_go_exactly_when_removed() {
    let env = setup("ctl-plugin").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    ready_standalone(&env, "solo").await;
    let without = live_conf(&env).await;

    // Created in the reverse of name order: the merge is by name, whatever the order.
    let _: Neo4jPlugin = create(&env, gds()).await;
    let _: Neo4jPlugin = create(&env, apoc()).await;
    wait_rendered(&env, &["apoc", "gds"]).await;
    let conf = live_conf(&env).await;
    let neo4j_conf = conf["neo4j.conf"].as_str().expect("neo4j.conf");
    assert!(
        neo4j_conf.contains("dbms.security.procedures.allowlist=apoc.*,gds.*\n"),
        "{neo4j_conf}"
    );
    assert!(
        neo4j_conf.contains("gds.enterprise.license_file=/licenses/gds.license\n"),
        "{neo4j_conf}"
    );
    assert!(
        !neo4j_conf.contains("apoc.export"),
        "apoc keys go to apoc.conf: {neo4j_conf}"
    );
    assert!(
        conf["apoc.conf"]
            .as_str()
            .expect("apoc.conf")
            .contains("apoc.export.file.enabled=true\n")
    );
    let sts_name = StandaloneNames::new("solo").statefulset();
    wait_plugins_env(&env, &sts_name, Some(r#"["apoc","graph-data-science"]"#)).await;

    // Applied once the pods run the render that contains them.
    wait_for("both plugins Applied", T, || async {
        kubelet_pass(&env, "app=solo").await;
        let a = plugin_phase(&env, "apoc").await?;
        let g = plugin_phase(&env, "gds").await?;
        (a == "Applied" && g == "Applied").then_some(())
    })
    .await;

    // The plugin controller writes plugin status only: every managedFields entry of the
    // StatefulSet and the ConfigMap is the instance controller's (or the API server's own).
    let cm: ConfigMap = api(&env)
        .get(&StandaloneNames::new("solo").config_map())
        .await
        .expect("cm");
    let sts: StatefulSet = api(&env).get(&sts_name).await.expect("sts");
    for (what, fields) in [
        ("ConfigMap", cm.managed_fields()),
        ("StatefulSet", sts.managed_fields()),
    ] {
        let managers: Vec<&str> = fields.iter().filter_map(|f| f.manager.as_deref()).collect();
        assert!(!managers.contains(&STATUS_MANAGER), "{what}: {managers:?}");
        assert!(managers.contains(&FIELD_MANAGER), "{what}: {managers:?}");
    }
    let p: Neo4jPlugin = api(&env).get("apoc").await.expect("apoc");
    let plugin_managers: Vec<(Option<String>, Option<String>)> = p
        .managed_fields()
        .iter()
        .filter(|f| f.subresource.as_deref() == Some("status"))
        .map(|f| (f.manager.clone(), f.operation.clone()))
        .collect();
    assert_eq!(
        plugin_managers,
        [(Some(STATUS_MANAGER.to_string()), Some("Apply".to_string()))]
    );

    // A second reconcile changes nothing.
    let names = [sts_name.clone()];
    let cms = [StandaloneNames::new("solo").config_map()];
    let plugins = ["apoc".to_string(), "gds".to_string()];
    let before = (
        versions::<StatefulSet>(&env, &names).await,
        versions::<ConfigMap>(&env, &cms).await,
        versions::<Neo4jPlugin>(&env, &plugins).await,
    );
    let ctl = restart_writes_nothing(&env, ctl, "Neo4jPlugin").await;
    let after = (
        versions::<StatefulSet>(&env, &names).await,
        versions::<ConfigMap>(&env, &cms).await,
        versions::<Neo4jPlugin>(&env, &plugins).await,
    );
    assert_eq!(before, after);

    // Removing one removes exactly its contributions; removing both gives the plain render.
    api::<Neo4jPlugin>(&env)
        .delete("gds", &DeleteParams::default())
        .await
        .expect("delete gds");
    wait_rendered(&env, &["apoc"]).await;
    let conf = live_conf(&env).await;
    let neo4j_conf = conf["neo4j.conf"].as_str().expect("neo4j.conf");
    assert!(!neo4j_conf.contains("gds"), "{neo4j_conf}");
    assert!(
        neo4j_conf.contains("dbms.security.procedures.allowlist=apoc.*\n"),
        "{neo4j_conf}"
    );
    wait_plugins_env(&env, &sts_name, Some(r#"["apoc"]"#)).await;
    api::<Neo4jPlugin>(&env)
        .delete("apoc", &DeleteParams::default())
        .await
        .expect("delete apoc");
    wait_rendered(&env, &[]).await;
    assert_eq!(live_conf(&env).await, without);
    wait_plugins_env(&env, &sts_name, None).await;
    ctl.stop().await;
}

/// The cluster `graph`'s ConfigMap data as rendered with `plugins` folded in.
async fn cluster_conf_with(env: &TestEnv, plugins: &[&str]) -> Value {
    let mut c: Neo4jEnterpriseCluster = api(env).get("graph").await.expect("graph");
    neo4j_shared::defaults::cluster(&mut c.spec);
    let mut list = Vec::new();
    for name in plugins {
        let mut p: Neo4jPlugin = api(env).get(name).await.expect("plugin");
        neo4j_shared::defaults::plugin(&mut p.spec);
        list.push(p);
    }
    let set = merged(Target::Cluster, c.spec.config.as_ref(), &list);
    let desired = render::cluster_with_plugins(&c, &set).expect("render");
    find(&desired, "ConfigMap").object["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_a_scalar_two_plugins_set_differently_is_a_conflict_of_the_later_one() {
    let env = setup("ctl-plugin-conflict").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    let _: Neo4jEnterpriseCluster = create(&env, cluster_manifest("graph", 3, "Delete")).await;
    // Created in the reverse of name order.
    let _: Neo4jPlugin = create(
        &env,
        plugin(
            "beta",
            json!({"clusterRef": "graph", "name": "bloom", "version": "2.15.0",
            "config": {"gds.arrow.enabled": "false"}}),
        ),
    )
    .await;
    let _: Neo4jPlugin = create(
        &env,
        plugin(
            "alpha",
            json!({"clusterRef": "graph", "name": "gds", "version": "2.10.0",
            "config": {"gds.arrow.enabled": "true"}}),
        ),
    )
    .await;
    let cm_name = ClusterNames::new("graph").config_map();
    let live = || async {
        let cm: ConfigMap = api(&env).get_opt(&cm_name).await.ok()??;
        Some(serde_json::to_value(cm.data).expect("data"))
    };
    wait_for("the cluster's render with alpha and beta", T, || async {
        (live().await? == cluster_conf_with(&env, &["alpha", "beta"]).await).then_some(())
    })
    .await;
    let conf = live().await.expect("config map");
    let neo4j_conf = conf["neo4j.conf"].as_str().unwrap_or_default();
    assert!(
        neo4j_conf.contains("gds.arrow.enabled=true\n"),
        "the first by name wins: {neo4j_conf}"
    );
    assert!(
        !neo4j_conf.contains("gds.arrow.enabled=false"),
        "{neo4j_conf}"
    );
    wait_plugins_env(
        &env,
        &ClusterNames::new("graph").statefulset(),
        Some(r#"["bloom","graph-data-science"]"#),
    )
    .await;
    wait_for("beta Conflict", T, || async {
        (plugin_phase(&env, "beta").await? == "Conflict").then_some(())
    })
    .await;
    let p: Neo4jPlugin = api(&env).get("beta").await.expect("beta");
    let message = p.status.and_then(|s| s.message).unwrap_or_default();
    assert!(
        message.contains("gds.arrow.enabled") && message.contains("alpha"),
        "{message}"
    );
    assert_ne!(
        plugin_phase(&env, "alpha").await.as_deref(),
        Some("Conflict")
    );

    assert!(
        ctl.metric("neo4j_controller_reconciles_total", &[("kind", CLUSTER)]) >= 1.0,
        "the cluster controller rendered the plugins"
    );

    // Beta goes: alpha's value stays, and alpha was never in conflict.
    api::<Neo4jPlugin>(&env)
        .delete("beta", &DeleteParams::default())
        .await
        .expect("delete beta");
    wait_for("the cluster's render with alpha alone", T, || async {
        (live().await? == cluster_conf_with(&env, &["alpha"]).await).then_some(())
    })
    .await;
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_and_plugins_run_with_exactly_the_rbac_table() {
    let env = setup("ctl-kinds-rbac").await;
    let _node = fake_node(&env.client).await;
    let kubeconfig =
        impersonating_kubeconfig(&env, &format!("rbac-{}", env.ns), &rbac_rules()).await;
    let ctl = start(&env, |c| c.kubeconfig = Some(kubeconfig.clone())).await;
    wait_ready(&ctl).await;
    ready_standalone(&env, "solo").await;

    let _: Neo4jPlugin = create(&env, apoc()).await;
    wait_rendered(&env, &["apoc"]).await;
    wait_for("apoc Applied under the RBAC table", T, || async {
        kubelet_pass(&env, "app=solo").await;
        (plugin_phase(&env, "apoc").await? == "Applied").then_some(())
    })
    .await;

    let _: Neo4jDatabase =
        create(&env, database("orders", json!({"deletionPolicy": "Drop"}))).await;
    let job = wait_job(&env, "create").await;
    fail_job_pod(&env, &job.name_any(), REFUSAL).await;
    let message = wait_phase(&env, "orders", "Failed").await;
    assert!(
        message.ends_with(REFUSAL),
        "the pods list is allowed: {message}"
    );
    api::<Neo4jDatabase>(&env)
        .delete("orders", &DeleteParams::default())
        .await
        .expect("delete");
    let drop = wait_job(&env, "drop").await;
    wait_for("orders gone under the RBAC table", T, || async {
        mark_pods_ready(
            &env.client,
            &env.ns,
            &format!("job-name={}", drop.name_any()),
        )
        .await;
        api::<Neo4jDatabase>(&env)
            .get_opt("orders")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(
        ctl.metric(
            "neo4j_controller_reconciles_total",
            &[("result", "kube_error")]
        ),
        0.0,
        "a call was refused:\n{}",
        ctl.metrics()
    );
    ctl.stop().await;
    let _ = std::fs::remove_file(&kubeconfig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_waits_for_its_host_and_starts_once_the_host_is_ready() {
    let env = setup("ctl-db-wait").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    let _: Neo4jDatabase = create(&env, database("early", json!({}))).await;
    let message = wait_phase(&env, "early", "Pending").await;
    assert!(message.contains("waiting for"), "{message}");
    assert!(
        jobs(&env, "create").await.is_empty(),
        "no Job before a host"
    );
    // The host's changes wake the database (nothing polls): created, then Ready.
    let _: Neo4jEnterpriseStandalone = create(&env, standalone_manifest("solo", "Retain")).await;
    wait_for("a HostNotReady status", T, || async {
        let d: Neo4jDatabase = api(&env).get("early").await.ok()?;
        let ready = d
            .status?
            .conditions?
            .into_iter()
            .find(|c| c.type_ == "Ready")?;
        (ready.reason == "HostNotReady").then_some(())
    })
    .await;
    assert!(
        jobs(&env, "create").await.is_empty(),
        "no Job before the host is Ready"
    );
    wait_for("solo Ready", T, || async {
        mark_pods_ready(&env.client, &env.ns, "app=solo").await;
        let s: Neo4jEnterpriseStandalone = api(&env).get("solo").await.ok()?;
        (s.status?.phase.as_deref() == Some("Ready")).then_some(())
    })
    .await;
    let job = wait_job(&env, "create").await;
    wait_for("early Ready", T, || async {
        mark_pods_ready(
            &env.client,
            &env.ns,
            &format!("job-name={}", job.name_any()),
        )
        .await;
        (database_status(&env, "early").await?.0 == "Ready").then_some(())
    })
    .await;
    ctl.stop().await;
}
