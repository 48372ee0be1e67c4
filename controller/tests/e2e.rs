//! The controller against a real API server and kube-controller-manager (no mocks). Each test
//! has its own namespace and its own in-process controller scoped to it. Needs the control
//! plane of `$E2E_STATE_DIR` (see `neo4j_e2e::ControlPlane::from_env`); without one every test
//! fails, loudly.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Service};
use k8s_openapi::api::events::v1::Event;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use neo4j_controller::apply::api_resource;
use neo4j_shared::names::{self, CONFIG_HASH_ANNOTATION, ClusterNames, StandaloneNames};
use neo4j_shared::render;
use serde_json::{Value, json};

use support::instances::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_server_cluster_gets_every_child_becomes_ready_and_stays_write_free() {
    let env = setup("ctl-lifecycle").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    let c = create_cluster(&env, cluster_manifest("graph", 3, "Delete")).await;
    let uid = c.uid().unwrap();
    let desired = desired_cluster(&c);
    let n = ClusterNames::new("graph");
    // The object set every cluster gets (docs/design.md), whatever else the renderer adds.
    for (kind, name) in [
        ("StatefulSet", n.statefulset()),
        ("Service", n.headless_service()),
        ("Service", n.client_service()),
        ("ConfigMap", n.config_map()),
    ] {
        assert!(
            desired.iter().any(|d| d.kind == kind && d.name == name),
            "renderer does not produce {kind} {name}"
        );
    }
    wait_children(&env, &desired, &uid).await;

    let sts = sts_api(&env).get(&n.statefulset()).await.unwrap();
    let spec = sts.spec.clone().unwrap();
    assert_eq!(spec.replicas, Some(3));
    assert_eq!(
        spec.service_name.as_deref(),
        Some(n.headless_service().as_str())
    );
    let pod_labels = spec.template.metadata.clone().unwrap().labels.unwrap();
    for (k, v) in n.statefulset_selector() {
        assert_eq!(pod_labels.get(&k), Some(&v), "pod label {k}");
    }
    let headless: Service = Api::namespaced(env.client.clone(), &env.ns)
        .get(&n.headless_service())
        .await
        .unwrap();
    assert_eq!(
        headless.spec.unwrap().cluster_ip.as_deref(),
        Some("None"),
        "headless Service"
    );

    let finalized = clusters(&env).get("graph").await.unwrap();
    assert!(
        finalized
            .finalizers()
            .iter()
            .any(|f| f == "neo4j.neo4j.com/cluster-finalizer"),
        "retentionPolicy Delete needs the finalizer"
    );

    drive_cluster_ready(&env, "graph", 3).await;
    let ready = clusters(&env).get("graph").await.unwrap();
    let status = serde_json::to_value(&ready.status).unwrap();
    let conds = conditions(&Some(status.clone()));
    let cond = |t: &str| conds.iter().find(|c| c["type"] == t).cloned();
    assert_eq!(
        cond("Ready").map(|c| c["status"].clone()),
        Some(json!("True"))
    );
    assert_eq!(
        cond("Valid").map(|c| c["status"].clone()),
        Some(json!("True"))
    );
    assert_eq!(
        status["observedGeneration"],
        json!(ready.metadata.generation)
    );

    // Steady state: nothing more to write.
    let writes = wait_quiet(&ctl, Duration::from_secs(3)).await;
    let rvs = resource_versions(&env, &desired).await;
    let cr_rv = clusters(&env)
        .get("graph")
        .await
        .unwrap()
        .resource_version();

    // Another writer touches a field the controller does not own: nothing to restore, no write.
    Api::<Service>::namespaced(env.client.clone(), &env.ns)
        .patch(
            &n.client_service(),
            &PatchParams::apply("someone-else"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": n.client_service(), "annotations": {"example.com/touched": "yes"}}})),
        )
        .await
        .unwrap();
    // Observed for a while: the foreign annotation is never written over.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        ctl.metric("neo4j_controller_api_writes_total", &[]),
        writes,
        "a change of a foreign field caused a write"
    );
    let mut after = resource_versions(&env, &desired).await;
    after.remove(&format!("Service/{}", n.client_service()));
    let mut before = rvs.clone();
    before.remove(&format!("Service/{}", n.client_service()));
    assert_eq!(
        before, after,
        "resourceVersions changed on a no-op reconcile"
    );

    // Restart: the new process reconciles everything from its first list and writes nothing.
    ctl.kill().await;
    let ctl = start(&env, |_| {}).await;
    wait_ready(&ctl).await;
    wait_for("the restarted controller's first reconcile", T, || async {
        (ctl.metric(
            "neo4j_controller_reconciles_total",
            &[("kind", CLUSTER), ("result", "ok")],
        ) >= 1.0)
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        ctl.metric("neo4j_controller_api_writes_total", &[]),
        0.0,
        "a restarted controller wrote to a steady cluster:\n{}",
        ctl.metrics()
    );
    assert!(
        ctl.metric("neo4j_controller_apply_skipped_total", &[("kind", CLUSTER)])
            >= desired.len() as f64
    );
    let mut after = resource_versions(&env, &desired).await;
    after.remove(&format!("Service/{}", n.client_service()));
    assert_eq!(before, after, "resourceVersions changed after a restart");
    assert_eq!(
        clusters(&env)
            .get("graph")
            .await
            .unwrap()
            .resource_version(),
        cr_rv,
        "the cluster object itself was written"
    );
    assert_eq!(ctl.metric("neo4j_controller_conflicts_total", &[]), 0.0);
    let gauge = wait_for("objects gauge", T, || async {
        let v = ctl.metric(
            "neo4j_controller_objects",
            &[("kind", CLUSTER), ("phase", "Ready")],
        );
        (v == 1.0).then_some(v)
    })
    .await;
    assert_eq!(gauge, 1.0);
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_three_to_six_changes_replicas_only_without_conflicts() {
    let env = setup("ctl-scale").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    let c = create_cluster(&env, cluster_manifest("scaled", 3, "Retain")).await;
    let n = ClusterNames::new("scaled");
    wait_cluster_children(&env, &c).await;
    drive_cluster_ready(&env, "scaled", 3).await;
    wait_quiet(&ctl, Duration::from_secs(2)).await;

    let before = sts_api(&env).get(&n.statefulset()).await.unwrap();
    let template_before = serde_json::to_value(&before.spec.as_ref().unwrap().template).unwrap();
    let mut uids = BTreeMap::new();
    for i in 0..3 {
        uids.insert(i, pods(&env).get(&n.pod(i)).await.unwrap().uid().unwrap());
    }
    let revisions: Api<ControllerRevision> = Api::namespaced(env.client.clone(), &env.ns);
    let revs_before = revisions
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();

    clusters(&env)
        .patch(
            "scaled",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"topology": {"servers": 6}}})),
        )
        .await
        .unwrap();
    wait_for("replicas 6", T, || async {
        let s = sts_api(&env).get(&n.statefulset()).await.ok()?;
        (s.spec?.replicas == Some(6)).then_some(())
    })
    .await;
    drive_cluster_ready(&env, "scaled", 6).await;
    let after = sts_api(&env).get(&n.statefulset()).await.unwrap();
    let template_after = serde_json::to_value(&after.spec.as_ref().unwrap().template).unwrap();
    assert_eq!(
        template_before, template_after,
        "scaling changed the pod template"
    );
    for (i, uid) in &uids {
        assert_eq!(
            &pods(&env).get(&n.pod(*i)).await.unwrap().uid().unwrap(),
            uid,
            "pod {i} was replaced"
        );
    }
    let revs_after = revisions
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    assert!(
        revs_after <= revs_before + 1,
        "{revs_before} → {revs_after} ControllerRevisions"
    );
    assert_eq!(ctl.metric("neo4j_controller_conflicts_total", &[]), 0.0);
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_and_config_changes_cause_no_conflicts_and_roll_only_on_config() {
    let env = setup("ctl-writers").await;
    let ctl = start(&env, |_| {}).await;
    let c = create_cluster(&env, cluster_manifest("busy", 3, "Retain")).await;
    let n = ClusterNames::new("busy");
    wait_cluster_children(&env, &c).await;
    // kube-controller-manager is writing the StatefulSet's status (pods created) meanwhile.
    wait_for(
        "StatefulSet status from kube-controller-manager",
        T,
        || async {
            let s = sts_api(&env).get(&n.statefulset()).await.ok()?;
            (s.status?.replicas >= 3).then_some(())
        },
    )
    .await;
    // Another field manager labels the StatefulSet.
    sts_api(&env)
        .patch(
            &n.statefulset(),
            &PatchParams::apply("team-tooling"),
            &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": n.statefulset(), "labels": {"example.com/team": "graph"}}})),
        )
        .await
        .unwrap();
    wait_quiet(&ctl, Duration::from_secs(2)).await;
    let hash_of = |s: &StatefulSet| {
        s.spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(CONFIG_HASH_ANNOTATION).cloned())
    };
    let before = sts_api(&env).get(&n.statefulset()).await.unwrap();
    let hash_before = hash_of(&before).expect("pod template carries the config hash");

    // A config change: the pod template hash changes (this is what rolls pods).
    clusters(&env)
        .patch(
            "busy",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"config": {"db.logs.query.threshold": "2s"}}})),
        )
        .await
        .unwrap();
    let rolled = wait_for("a new config hash", T, || async {
        let s = sts_api(&env).get(&n.statefulset()).await.ok()?;
        let h = hash_of(&s)?;
        (h != hash_before).then_some(s)
    })
    .await;
    assert_eq!(
        rolled.labels().get("example.com/team").map(String::as_str),
        Some("graph"),
        "the other manager's label survived"
    );
    wait_quiet(&ctl, Duration::from_secs(2)).await;
    let sts_rv = sts_api(&env)
        .get(&n.statefulset())
        .await
        .unwrap()
        .resource_version();

    // A change that does not reach the StatefulSet leaves it untouched.
    let sts_writes = ctl.metric(
        "neo4j_controller_api_writes_total",
        &[("resource", "statefulsets")],
    );
    clusters(&env)
        .patch(
            "busy",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"service": {"type": "NodePort"}}})),
        )
        .await
        .unwrap();
    wait_for("client Service type NodePort", T, || async {
        let s: Service = Api::namespaced(env.client.clone(), &env.ns)
            .get(&n.client_service())
            .await
            .ok()?;
        (s.spec?.type_.as_deref() == Some("NodePort")).then_some(())
    })
    .await;
    wait_quiet(&ctl, Duration::from_secs(2)).await;
    assert_eq!(
        ctl.metric(
            "neo4j_controller_api_writes_total",
            &[("resource", "statefulsets")]
        ),
        sts_writes,
        "the StatefulSet was written for a Service change"
    );
    assert_eq!(
        sts_api(&env)
            .get(&n.statefulset())
            .await
            .unwrap()
            .resource_version(),
        sts_rv
    );
    assert_eq!(ctl.metric("neo4j_controller_conflicts_total", &[]), 0.0);
    ctl.stop().await;
}

async fn wait_pvcs(env: &TestEnv, selector: &str, count: usize) -> Vec<String> {
    wait_for(&format!("{count} PVCs ({selector})"), T, || async {
        let l = pvcs(env)
            .list(&ListParams::default().labels(selector))
            .await
            .ok()?;
        let names: Vec<String> = l.items.iter().map(|p| p.name_any()).collect();
        (names.len() >= count).then_some(names)
    })
    .await
}

/// A PVC that looks like a same-named standalone's: it must survive the cluster's deletion.
async fn decoy_standalone_pvc(env: &TestEnv, instance: &str) -> String {
    let name = StandaloneNames::new(instance).pvc();
    let labels: BTreeMap<String, String> = StandaloneNames::new(instance).pvc_labels();
    let pvc: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    }))
    .unwrap();
    pvcs(env)
        .create(&PostParams::default(), &pvc)
        .await
        .unwrap();
    name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_follows_the_retention_policy_and_never_touches_another_instances_pvcs() {
    let env = setup("ctl-delete").await;
    let ctl = start(&env, |_| {}).await;
    let keep = create_cluster(&env, cluster_manifest("keep", 2, "Retain")).await;
    let drop = create_cluster(&env, cluster_manifest("drop", 2, "Delete")).await;
    let decoy = decoy_standalone_pvc(&env, "drop").await;
    wait_cluster_children(&env, &keep).await;
    wait_cluster_children(&env, &drop).await;
    let keep_pvcs = wait_pvcs(&env, &names::instance_pvc_selector("keep"), 2).await;
    wait_pvcs(&env, &names::instance_pvc_selector("drop"), 3).await;
    assert!(
        !clusters(&env)
            .get("keep")
            .await
            .unwrap()
            .finalizers()
            .iter()
            .any(|f| f.starts_with("neo4j.neo4j.com/")),
        "Retain needs no finalizer"
    );
    wait_for("the Delete cluster's finalizer", T, || async {
        let c = clusters(&env).get("drop").await.ok()?;
        c.finalizers()
            .iter()
            .any(|f| f == "neo4j.neo4j.com/cluster-finalizer")
            .then_some(())
    })
    .await;

    for name in ["keep", "drop"] {
        delete_named(&clusters(&env), name).await;
    }
    for name in ["keep", "drop"] {
        wait_gone(&format!("cluster {name} gone"), &clusters(&env), name).await;
    }
    wait_for("the Delete cluster's PVCs gone", T, || async {
        let l = pvcs(&env)
            .list(&ListParams::default().labels(&names::instance_pvc_selector("drop")))
            .await
            .ok()?;
        let left: Vec<String> = l.items.iter().map(|p| p.name_any()).collect();
        (left == vec![decoy.clone()]).then_some(())
    })
    .await;
    let left: Vec<String> = pvcs(&env)
        .list(&ListParams::default().labels(&names::instance_pvc_selector("keep")))
        .await
        .unwrap()
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| p.name_any())
        .collect();
    assert_eq!(
        left.len(),
        keep_pvcs.len(),
        "Retain kept every PVC: {left:?}"
    );
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_completes_when_children_were_removed_by_hand() {
    let env = setup("ctl-orphan").await;
    let ctl = start(&env, |_| {}).await;
    let c = create_cluster(&env, cluster_manifest("bare", 2, "Delete")).await;
    let desired = desired_cluster(&c);
    wait_children(&env, &desired, &c.uid().unwrap()).await;
    wait_pvcs(&env, &names::instance_pvc_selector("bare"), 2).await;
    ctl.kill().await;
    // Remove every child and PVC by hand while no controller runs.
    for d in &desired {
        let api: Api<DynamicObject> =
            Api::namespaced_with(env.client.clone(), &env.ns, &api_resource(d));
        let _ = api.delete(&d.name, &DeleteParams::default()).await;
    }
    let _ = pvcs(&env)
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels(&names::instance_pvc_selector("bare")),
        )
        .await;
    delete_named(&clusters(&env), "bare").await;
    let ctl = start(&env, |_| {}).await;
    wait_gone("cluster bare gone", &clusters(&env), "bare").await;
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_killed_mid_reconcile_converges_without_duplicates() {
    let env = setup("ctl-crash").await;
    let ctl = start(&env, |_| {}).await;
    let c = create_cluster(&env, cluster_manifest("crash", 3, "Retain")).await;
    // Kill it as soon as the first child write went out.
    wait_for("the first write", T, || async {
        (ctl.metric("neo4j_controller_api_writes_total", &[]) >= 1.0).then_some(())
    })
    .await;
    ctl.kill().await;
    let ctl = start(&env, |_| {}).await;
    let desired = desired_cluster(&c);
    wait_children(&env, &desired, &c.uid().unwrap()).await;
    wait_quiet(&ctl, Duration::from_secs(2)).await;
    // Exactly one of each, and nothing else owned by the cluster.
    let uid = c.uid().unwrap();
    let mut owned = Vec::new();
    for d in &desired {
        let api: Api<DynamicObject> =
            Api::namespaced_with(env.client.clone(), &env.ns, &api_resource(d));
        for o in api.list(&ListParams::default()).await.unwrap().items {
            if o.owner_references().iter().any(|r| r.uid == uid) {
                owned.push(format!("{}/{}", d.kind, o.name_any()));
            }
        }
    }
    owned.sort();
    owned.dedup();
    let mut want: Vec<String> = desired
        .iter()
        .map(|d| format!("{}/{}", d.kind, d.name))
        .collect();
    want.sort();
    assert_eq!(owned, want);
    assert_eq!(ctl.metric("neo4j_controller_conflicts_total", &[]), 0.0);
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_object_gets_valid_false_and_events_and_no_children_and_no_loop() {
    let env = setup("ctl-invalid").await;
    let ctl = start(&env, |_| {}).await;
    let mut manifest = cluster_manifest("unlicensed", 3, "Delete");
    manifest["spec"]
        .as_object_mut()
        .unwrap()
        .remove("acceptLicenseAgreement");
    let c = create_cluster(&env, manifest).await;
    let status = wait_for("Valid=False", T, || async {
        let c = clusters(&env).get("unlicensed").await.ok()?;
        let s = serde_json::to_value(&c.status).ok()?;
        conditions(&Some(s.clone()))
            .iter()
            .any(|c| c["type"] == "Valid" && c["status"] == "False")
            .then_some(s)
    })
    .await;
    let valid = conditions(&Some(status.clone()))
        .into_iter()
        .find(|c| c["type"] == "Valid")
        .unwrap();
    let text = format!("{} {}", valid["reason"], valid["message"]);
    assert!(
        text.contains("license-required"),
        "Valid condition names the rule: {valid}"
    );
    let events: Api<Event> = Api::namespaced(env.client.clone(), &env.ns);
    let reasons = wait_for("a Warning event per finding", T, || async {
        let l = events.list(&ListParams::default()).await.ok()?;
        let reasons: Vec<String> = l
            .items
            .iter()
            .filter(|e| is_about(e, "unlicensed"))
            .filter(|e| e.type_.as_deref() == Some("Warning"))
            .filter_map(|e| e.reason.clone())
            .collect();
        reasons
            .iter()
            .any(|r| r == "license-required")
            .then_some(reasons)
    })
    .await;
    assert!(
        reasons.contains(&"license-required".to_string()),
        "{reasons:?}"
    );
    let events_before = events.list(&ListParams::default()).await.unwrap().items;
    let reconciles = ctl.metric("neo4j_controller_reconciles_total", &[("kind", CLUSTER)]);
    tokio::time::sleep(Duration::from_secs(30)).await;
    let later = ctl.metric("neo4j_controller_reconciles_total", &[("kind", CLUSTER)]);
    assert!(
        later - reconciles <= 1.0,
        "hot loop: {reconciles} → {later} reconciles in 30 s"
    );
    assert!(later <= 3.0, "{later} reconciles for one invalid object");
    // Render the same spec with a license to know every child it would have had.
    let mut licensed = c.clone();
    licensed.spec.accept_license_agreement = Some("eval".into());
    for d in desired_cluster(&licensed) {
        assert!(
            get_child(&env.client, &env.ns, &d).await.is_none(),
            "{} {} was created for an invalid object",
            d.kind,
            d.name
        );
    }
    assert!(
        !clusters(&env)
            .get("unlicensed")
            .await
            .unwrap()
            .finalizers()
            .iter()
            .any(|f| f.starts_with("neo4j.neo4j.com/")),
        "an invalid object gets no finalizer"
    );
    // Events once per generation: nothing new, no series bumped, without a change.
    let events_after = events.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(
        serde_json::to_value(&events_before).unwrap(),
        serde_json::to_value(&events_after).unwrap(),
        "events were re-emitted"
    );
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_warnings_become_events_once_per_generation() {
    let env = setup("ctl-warned").await;
    let ctl = start(&env, |_| {}).await;
    let c = create_cluster(&env, cluster_manifest("pair", 2, "Retain")).await;
    let mut verdict_of = c.clone();
    neo4j_shared::defaults::cluster(&mut verdict_of.spec);
    let warnings = neo4j_shared::validate::cluster::create(&verdict_of).warning_rules();
    assert!(!warnings.is_empty(), "a two-server cluster is warned about");
    let events: Api<Event> = Api::namespaced(env.client.clone(), &env.ns);
    let list_warnings = || async {
        events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.type_.as_deref() == Some("Warning"))
            .filter(|e| is_about(e, "pair"))
            .collect::<Vec<Event>>()
    };
    wait_for("one event per warning", T, || async {
        let got: Vec<String> = list_warnings()
            .await
            .into_iter()
            .filter_map(|e| e.reason)
            .collect();
        warnings
            .iter()
            .all(|w| got.iter().any(|g| g == w))
            .then_some(())
    })
    .await;
    wait_cluster_children(&env, &c).await;
    wait_quiet(&ctl, Duration::from_secs(2)).await;
    let before = serde_json::to_value(list_warnings().await).unwrap();
    // Child events make the controller reconcile again; no event is repeated.
    Api::<Service>::namespaced(env.client.clone(), &env.ns)
        .patch(
            &ClusterNames::new("pair").client_service(),
            &PatchParams::apply("someone-else"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": ClusterNames::new("pair").client_service(), "labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = serde_json::to_value(list_warnings().await).unwrap();
    assert_eq!(
        before, after,
        "events were re-emitted without a new generation"
    );
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_lifecycle_ready_write_free_and_deleted_with_its_pvc() {
    let env = setup("ctl-standalone").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    let s = create_standalone(&env, standalone_manifest("solo", "Delete")).await;
    let desired = desired_standalone(&s);
    let n = StandaloneNames::new("solo");
    assert!(
        desired
            .iter()
            .any(|d| d.kind == "StatefulSet" && d.name == n.statefulset())
    );
    wait_children(&env, &desired, &s.uid().unwrap()).await;
    let selector = "app=solo".to_string();
    wait_for("solo Ready", T, || async {
        mark_pods_ready(&env.client, &env.ns, &selector).await;
        let s = standalones(&env).get("solo").await.ok()?;
        (s.status?.phase.as_deref() == Some("Ready")).then_some(())
    })
    .await;
    wait_quiet(&ctl, Duration::from_secs(2)).await;
    let rvs = resource_versions(&env, &desired).await;
    ctl.kill().await;
    let ctl = start(&env, |_| {}).await;
    wait_ready(&ctl).await;
    wait_for("first reconcile", T, || async {
        (ctl.metric("neo4j_controller_reconciles_total", &[("kind", STANDALONE)]) >= 1.0)
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(ctl.metric("neo4j_controller_api_writes_total", &[]), 0.0);
    assert_eq!(resource_versions(&env, &desired).await, rvs);

    wait_pvcs(&env, &names::instance_pvc_selector("solo"), 1).await;
    delete_named(&standalones(&env), "solo").await;
    wait_gone("standalone gone", &standalones(&env), "solo").await;
    // The pod was bound to the fake node: finish its termination as a kubelet would.
    let _ = pods(&env)
        .delete(
            &n.pod(),
            &DeleteParams {
                grace_period_seconds: Some(0),
                ..Default::default()
            },
        )
        .await;
    wait_gone("the standalone's PVC gone", &pvcs(&env), &n.pvc()).await;
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_leader_election_only_the_leader_reconciles_and_the_standby_takes_over() {
    let env = setup("ctl-leader").await;
    let lease_ns = env.ns.clone();
    let elect = move |c: &mut neo4j_controller::Config| {
        c.leader_elect = true;
        c.leader_election_namespace = Some(lease_ns.clone());
        c.lease_duration_seconds = 6;
        c.renew_deadline_seconds = 4;
        c.retry_period_seconds = 1;
    };
    let a = start(&env, |c| {
        elect(c);
        c.identity = Some("replica-a".into());
    })
    .await;
    wait_for("replica-a leads", T, || async {
        (a.metric("neo4j_controller_leader", &[]) == 1.0).then_some(())
    })
    .await;
    let b = start(&env, |c| {
        elect(c);
        c.identity = Some("replica-b".into());
    })
    .await;
    let c = create_cluster(&env, cluster_manifest("led", 2, "Retain")).await;
    wait_cluster_children(&env, &c).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(b.metric("neo4j_controller_leader", &[]), 0.0);
    assert_eq!(
        b.metric("neo4j_controller_reconciles_total", &[]),
        0.0,
        "the standby reconciled"
    );
    assert_eq!(b.metric("neo4j_controller_api_writes_total", &[]), 0.0);
    // The leader steps down (releasing the lease); the standby takes over and reconciles.
    a.stop().await;
    wait_for("replica-b leads", T, || async {
        (b.metric("neo4j_controller_leader", &[]) == 1.0).then_some(())
    })
    .await;
    clusters(&env)
        .patch(
            "led",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"topology": {"servers": 3}}})),
        )
        .await
        .unwrap();
    wait_for("the new leader applies replicas 3", T, || async {
        let s = sts_api(&env)
            .get(&ClusterNames::new("led").statefulset())
            .await
            .ok()?;
        (s.spec?.replicas == Some(3)).then_some(())
    })
    .await;
    wait_for("replica-b's reconcile counted", T, || async {
        (b.metric("neo4j_controller_reconciles_total", &[]) >= 1.0).then_some(())
    })
    .await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_runs_with_exactly_the_rbac_table() {
    let env = setup("ctl-rbac").await;
    let _node = fake_node(&env.client).await;
    let rules = rbac_rules();
    assert!(rules.len() >= 8, "RBAC.md table not found: {rules:?}");
    let user = format!("rbac-{}", env.ns);
    let path = impersonating_kubeconfig(&env, &user, &rules).await;
    let lease_ns = env.ns.clone();
    let ctl = start(&env, |c| {
        c.kubeconfig = Some(path.clone());
        c.leader_elect = true;
        c.leader_election_namespace = Some(lease_ns);
    })
    .await;
    wait_for("leadership under the RBAC table", T, || async {
        (ctl.metric("neo4j_controller_leader", &[]) == 1.0).then_some(())
    })
    .await;
    // Two servers: admitted with warnings, so events are recorded too.
    let c = create_cluster(&env, cluster_manifest("least", 2, "Delete")).await;
    wait_cluster_children(&env, &c).await;
    drive_cluster_ready(&env, "least", 2).await;
    let events: Api<Event> = Api::namespaced(env.client.clone(), &env.ns);
    wait_for("events recorded under the RBAC table", T, || async {
        let l = events.list(&ListParams::default()).await.ok()?;
        l.items.iter().any(|e| is_about(e, "least")).then_some(())
    })
    .await;
    // A backup under the same rules: its Job is applied, its failure read from the pod.
    let backups: Api<DynamicObject> = Api::namespaced_with(
        env.client.clone(),
        &env.ns,
        &kube::api::ApiResource::erase::<neo4j_shared::types::Neo4jBackup>(&()),
    );
    backups
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jBackup",
                "metadata": {"name": "least-once"},
                "spec": {"instanceRef": "least", "database": "neo4j", "storage": {"type": "pvc", "pvc": {"name": "b"}}}}))
            .unwrap(),
        )
        .await
        .unwrap();
    wait_for(
        "the backup's pod failed under the RBAC table",
        T,
        || async {
            let n = neo4j_e2e::kubelet::finish_job_pods(
                &env.client,
                &env.ns,
                &format!("{}=least-once-backup", names::LABEL_JOB_NAME),
                NODE,
                &neo4j_e2e::kubelet::JobPodOutcome::Failed("no space left".into()),
            )
            .await
            .ok()?;
            (n > 0).then_some(())
        },
    )
    .await;
    wait_for("the backup Failed with its pod's message", T, || async {
        let b = backups.get("least-once").await.ok()?;
        let message = b.data["status"]["message"].as_str()?.to_string();
        message.contains("no space left").then_some(())
    })
    .await;
    wait_pvcs(&env, &names::instance_pvc_selector("least"), 2).await;
    delete_named(&clusters(&env), "least").await;
    wait_gone(
        "cluster deleted under the RBAC table",
        &clusters(&env),
        "least",
    )
    .await;
    for result in ["kube_error", "rejected"] {
        assert_eq!(
            ctl.metric("neo4j_controller_reconciles_total", &[("result", result)]),
            0.0,
            "a call was refused:\n{}",
            ctl.metrics()
        );
    }
    ctl.stop().await;
    let _ = std::fs::remove_file(&path);
}

/// A deletion whose finalizer cannot finish (here: the controller may not delete PVCs) shows
/// in the status — phase `Terminating`, `Ready=False` reason `DeletionBlocked` with the API
/// server's message — with one event; once the API server accepts the work (the permission
/// granted), the deletion completes within seconds (the retry backoff of a deletion is capped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_deletion_shows_in_status_and_completes_within_seconds_once_allowed() {
    let env = setup("ctl-stuck").await;
    let full = rbac_rules();
    let without_pvc_delete: Vec<Value> = full
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r["resources"] == json!(["persistentvolumeclaims"]) {
                r["verbs"] = json!(["list"]);
            }
            r
        })
        .collect();
    assert_ne!(full, without_pvc_delete, "the PVC rule is in RBAC.md");
    let user = format!("stuck-{}", env.ns);
    let path = impersonating_kubeconfig(&env, &user, &without_pvc_delete).await;
    let ctl = start(&env, |c| c.kubeconfig = Some(path.clone())).await;
    let c = create_cluster(&env, cluster_manifest("stuck", 2, "Delete")).await;
    wait_cluster_children(&env, &c).await;
    wait_pvcs(&env, &names::instance_pvc_selector("stuck"), 2).await;
    wait_for("the finalizer", T, || async {
        let c = clusters(&env).get("stuck").await.ok()?;
        (!c.finalizers().is_empty()).then_some(())
    })
    .await;
    delete_named(&clusters(&env), "stuck").await;
    let status = wait_for("Terminating with DeletionBlocked", T, || async {
        let c = clusters(&env).get_opt("stuck").await.ok()??;
        let s = serde_json::to_value(c.status?).ok()?;
        let blocked = conditions(&Some(s.clone())).iter().any(|c| {
            c["type"] == "Ready" && c["status"] == "False" && c["reason"] == "DeletionBlocked"
        });
        blocked.then_some(s)
    })
    .await;
    assert_eq!(status["phase"], "Terminating");
    let ready = conditions(&Some(status.clone()))
        .into_iter()
        .find(|c| c["type"] == "Ready")
        .unwrap();
    assert!(
        ready["message"]
            .as_str()
            .is_some_and(|m| m.contains("persistentvolumeclaims") && m.contains("forbidden")),
        "the API server's message: {ready}"
    );
    let events: Api<Event> = Api::namespaced(env.client.clone(), &env.ns);
    let blocked_events = || async {
        events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| is_about(e, "stuck") && e.reason.as_deref() == Some("DeletionBlocked"))
            .collect::<Vec<Event>>()
    };
    wait_for("a DeletionBlocked event", T, || async {
        (!blocked_events().await.is_empty()).then_some(())
    })
    .await;
    // Several retries later, still one event.
    wait_for("a few retries", T, || async {
        (ctl.metric(
            "neo4j_controller_reconciles_total",
            &[("result", "rejected")],
        ) >= 4.0)
            .then_some(())
    })
    .await;
    let once = blocked_events().await;
    assert_eq!(once.len(), 1, "{once:?}");
    assert_eq!(once[0].series.as_ref().map(|s| s.count), None, "repeated");

    // The permission granted: the next retry (at most 4 s away) finishes the deletion.
    impersonating_kubeconfig(&env, &user, &full).await;
    let granted = Instant::now();
    wait_gone("the deleted cluster", &clusters(&env), "stuck").await;
    neo4j_e2e::record_figure(
        "deletion",
        "blocked deletion completes after the API server accepts the finalizer's work",
        &format!("{} ms", granted.elapsed().as_millis()),
    );
    ctl.stop().await;
    let _ = std::fs::remove_file(&path);
}

/// cert-manager mode: the controller materializes a Certificate naming every Service and, by
/// wildcard, every server (15 DNS names whatever the server count), mounts its Secret, reports a
/// Secret the pods cannot mount (no `ca.crt`) as a condition, becomes Ready once the certificate
/// is issued, and restarts the servers when it is renewed (cert-manager is simulated: its CRDs
/// are real, its controller is this test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_cluster_gets_a_certificate_for_every_server_and_becomes_ready_once_issued() {
    assert!(
        std::env::var_os("CERT_MANAGER_CRDS").is_some(),
        "CERT_MANAGER_CRDS is not set: run through `make e2e`, which installs cert-manager's CRDs"
    );
    let env = setup("ctl-tls").await;
    let _node = fake_node(&env.client).await;
    let _ctl = start(&env, |_| {}).await;
    let mut manifest = cluster_manifest("secure", 3, "Retain");
    manifest["spec"]["tls"] = json!({"mode": "cert-manager", "issuerRef": {"name": "internal-ca", "kind": "ClusterIssuer"}});
    let c = create_cluster(&env, manifest).await;
    let uid = c.uid().unwrap();
    let n = ClusterNames::new("secure");
    let desired = desired_cluster(&c);
    let cert_desired = desired
        .iter()
        .find(|d| d.kind == "Certificate")
        .cloned()
        .expect("the renderer makes a Certificate in cert-manager mode");
    let certs: Api<DynamicObject> =
        Api::namespaced_with(env.client.clone(), &env.ns, &api_resource(&cert_desired));
    let cert = wait_for("Certificate secure-tls", T, || async {
        certs.get_opt(&n.certificate()).await.ok().flatten()
    })
    .await;
    assert!(
        cert.owner_references()
            .iter()
            .any(|o| o.uid == uid && o.controller == Some(true)),
        "Certificate owner reference"
    );
    let spec = &cert.data["spec"];
    assert_eq!(spec["secretName"], json!(n.tls_secret()));
    assert_eq!(spec["issuerRef"]["name"], json!("internal-ca"));
    assert_eq!(spec["issuerRef"]["kind"], json!("ClusterIssuer"));
    let dns: Vec<String> = spec["dnsNames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(str::to_string))
        .collect();
    assert_eq!(dns.len(), 12 + 3, "{dns:?}");
    for i in 0..3 {
        let fqdn = n.pod_fqdn(i, &env.ns);
        let covered = dns.iter().any(|d| {
            d.strip_prefix("*.")
                .is_some_and(|rest| fqdn.split_once('.').is_some_and(|(_, tail)| tail == rest))
        });
        assert!(covered, "{fqdn} not covered by {dns:?}");
    }
    assert!(
        dns.contains(&n.client_fqdn(&env.ns)),
        "client Service FQDN missing"
    );
    let usages = spec["usages"].as_array().cloned().unwrap_or_default();
    for u in ["server auth", "client auth"] {
        assert!(usages.contains(&json!(u)), "usage {u} missing: {usages:?}");
    }
    // The pods mount the Secret cert-manager will write.
    let sts = wait_for("StatefulSet secure-server", T, || async {
        sts_api(&env).get_opt(&n.statefulset()).await.ok().flatten()
    })
    .await;
    let volumes = serde_json::to_value(sts.spec.and_then(|s| s.template.spec).map(|p| p.volumes))
        .unwrap_or_default();
    assert!(
        volumes.to_string().contains(&n.tls_secret()),
        "no volume of {}: {volumes}",
        n.tls_secret()
    );

    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(env.client.clone(), &env.ns);
    let put_secret = |name: String, data: Value| {
        let secrets = secrets.clone();
        async move {
            let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data});
            secrets
                .patch(
                    &name,
                    &PatchParams::apply("secret-sim").force(),
                    &Patch::Apply(&secret),
                )
                .await
                .expect("Secret");
        }
    };
    let secrets_condition = |want_status: &'static str, want_reason: &'static str| {
        let env = &env;
        async move {
            wait_for(
                &format!("SecretsReady {want_status} {want_reason}"),
                T,
                || async {
                    let c = clusters(env).get("secure").await.ok()?;
                    let status = serde_json::to_value(&c.status).ok()?;
                    conditions(&Some(status)).into_iter().find(|c| {
                        c["type"] == "SecretsReady"
                            && c["status"] == want_status
                            && c["reason"] == want_reason
                    })
                },
            )
            .await
        }
    };
    // No admin Secret yet: the pods could not start, and the status says why.
    let missing = secrets_condition("False", "AdminSecretMissing").await;
    assert!(
        missing["message"]
            .as_str()
            .unwrap_or_default()
            .contains("neo4j-admin-secret"),
        "{missing}"
    );
    put_secret(
        "neo4j-admin-secret".into(),
        json!({"username": "neo4j", "password": "correct-horse-battery"}),
    )
    .await;
    // Play an issuer that writes no CA: strict peer validation could not mount ca.crt.
    put_secret(
        n.tls_secret(),
        json!({"tls.crt": "test-certificate", "tls.key": "test-key"}),
    )
    .await;
    let incomplete = secrets_condition("False", "TLSSecretIncomplete").await;
    assert!(
        incomplete["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ca.crt"),
        "{incomplete}"
    );
    assert!(!incomplete.to_string().contains("correct-horse-battery"));

    // Play cert-manager: issue the Secret and mark the Certificate Ready.
    put_secret(
        n.tls_secret(),
        json!({"tls.crt": "test-certificate", "tls.key": "test-key", "ca.crt": "test-ca"}),
    )
    .await;
    let issue = |revision: i64| {
        let certs = certs.clone();
        let name = n.certificate();
        async move {
            let status = json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "status": {"revision": revision, "conditions": [
                {"type": "Ready", "status": "True", "reason": "Ready", "message": "issued by the test", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
            certs
                .patch_status(
                    &name,
                    &PatchParams::apply("cert-manager-sim").force(),
                    &Patch::Apply(&status),
                )
                .await
                .expect("Certificate status");
        }
    };
    issue(1).await;
    drive_cluster_ready(&env, "secure", 3).await;
    secrets_condition("True", "SecretsUsable").await;
    let tls_revision = |sts: &StatefulSet| {
        sts.spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(render::TLS_REVISION_ANNOTATION).cloned())
    };
    let first = sts_api(&env).get(&n.statefulset()).await.unwrap();
    assert_eq!(
        tls_revision(&first).as_deref(),
        Some("1"),
        "the first issue restarts nothing"
    );
    // Renewal: the pod template follows, so the StatefulSet replaces the servers one by one.
    issue(2).await;
    wait_for(
        "the servers restarted for the renewed certificate",
        T,
        || async {
            let sts = sts_api(&env).get(&n.statefulset()).await.ok()?;
            (tls_revision(&sts).as_deref() == Some("2")).then_some(())
        },
    )
    .await;
    // The StatefulSet replaces every server (the test kubelet confirms each shutdown and
    // reports the new pod Ready), so Ready below is the state after the roll, not before it.
    let selector = format!("{}=secure", names::APP_INSTANCE);
    wait_for("every server on the renewed template", T, || async {
        mark_pods_ready(&env.client, &env.ns, &selector).await;
        let status = sts_api(&env).get(&n.statefulset()).await.ok()?.status?;
        (status.updated_replicas == Some(3)
            && status.ready_replicas == Some(3)
            && status.current_revision.is_some()
            && status.current_revision == status.update_revision)
            .then_some(())
    })
    .await;
    drive_cluster_ready(&env, "secure", 3).await;
    let ready = clusters(&env).get("secure").await.unwrap();
    let bolt = ready
        .status
        .as_ref()
        .and_then(|s| s.endpoints.as_ref())
        .and_then(|e| e.bolt.clone())
        .unwrap_or_default();
    assert!(
        bolt.starts_with("bolt+s://"),
        "TLS endpoint expected, got {bolt:?}"
    );
}
