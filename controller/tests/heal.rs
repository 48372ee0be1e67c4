//! Drift, deleted children and refused applies against a real API server (the controller
//! in-process, scoped to the test's namespace; see `support`).
//!
//! Every hand edit of a field the controller owns, and every deleted child, is restored by one
//! apply of that child; fields other managers own stay. The restore latency of each kind of
//! drift is recorded as a figure (`neo4j_e2e::record_figure`), not asserted.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::events::v1::Event;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use neo4j_e2e::record_figure;
use neo4j_shared::names::ClusterNames;
use neo4j_shared::render::DesiredObject;
use neo4j_shared::types::Neo4jEnterpriseCluster;
use serde_json::{Value, json};

use support::*;

const T: Duration = Duration::from_secs(90);

/// Child resources the controller applies (the `resource` label of its writes).
const CHILD_RESOURCES: [&str; 6] = [
    "statefulsets",
    "services",
    "configmaps",
    "serviceaccounts",
    "poddisruptionbudgets",
    "certificates",
];

fn clusters(env: &TestEnv) -> Api<Neo4jEnterpriseCluster> {
    Api::namespaced(env.client.clone(), &env.ns)
}

/// Writes per child resource, from the controller's metrics.
fn child_writes(ctl: &Running) -> BTreeMap<&'static str, f64> {
    let text = ctl.metrics();
    CHILD_RESOURCES
        .iter()
        .map(|r| {
            (
                *r,
                metric_sum(
                    &text,
                    "neo4j_controller_api_writes_total",
                    &[("resource", r)],
                ),
            )
        })
        .collect()
}

fn find<'a>(desired: &'a [DesiredObject], kind: &str, name: &str) -> &'a DesiredObject {
    desired
        .iter()
        .find(|d| d.kind == kind && d.name == name)
        .unwrap_or_else(|| panic!("the renderer makes no {kind} {name}"))
}

/// The live object of a rendered child, as JSON (`None`: absent).
async fn live(env: &TestEnv, d: &DesiredObject) -> Option<Value> {
    let o = child_api(&env.client, &env.ns, d)
        .get_opt(&d.name)
        .await
        .ok()??;
    serde_json::to_value(o).ok()
}

/// One hand edit: what it does, which child it touches, and the JSON pointer whose live
/// value must come back to the rendered one (`None`: the child is deleted and must come back).
struct Drift {
    name: String,
    kind: &'static str,
    child: String,
    pointer: Option<&'static str>,
    edit: Edit,
}

enum Edit {
    /// A JSON merge patch sent by the manager `kubectl-edit` (an update: it takes the fields
    /// it changes from every other manager).
    Merge(Value),
    /// A strategic merge patch (list items merged by key), by `kubectl-edit`.
    Strategic(Value),
    /// `kubectl` with these arguments (the test's namespace is added).
    Kubectl(Vec<String>),
    Delete,
}

async fn perform(env: &TestEnv, d: &DesiredObject, edit: &Edit) {
    let api = child_api(&env.client, &env.ns, d);
    let by_hand = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..Default::default()
    };
    match edit {
        Edit::Merge(patch) => {
            api.patch(&d.name, &by_hand, &Patch::Merge(patch))
                .await
                .unwrap_or_else(|e| panic!("editing {} {}: {e}", d.kind, d.name));
        }
        Edit::Strategic(patch) => {
            api.patch(&d.name, &by_hand, &Patch::Strategic(patch))
                .await
                .unwrap_or_else(|e| panic!("editing {} {}: {e}", d.kind, d.name));
        }
        Edit::Kubectl(args) => {
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            args.extend(["-n", &env.ns]);
            env.plane.kubectl_ok(&args);
        }
        Edit::Delete => {
            api.delete(&d.name, &DeleteParams::background())
                .await
                .unwrap_or_else(|e| panic!("deleting {} {}: {e}", d.kind, d.name));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_owned_field_and_every_child_is_restored_by_one_apply_and_foreign_fields_stay() {
    let env = setup("ctl-heal").await;
    let ctl = start(&env, |_| {}).await;
    wait_ready(&ctl).await;
    // Every counter is exported before its first event, at 0.
    let text = ctl.metrics();
    for series in [
        "neo4j_controller_conflicts_total{resource=\"statefulsets\"} 0",
        "neo4j_controller_reconciles_total{kind=\"Neo4jEnterpriseCluster\",result=\"rejected\"} 0",
        "neo4j_controller_api_writes_total{kind=\"Neo4jEnterpriseStandalone\",resource=\"events\",verb=\"create\"} 0",
        "neo4j_controller_fenced_writes_total 0",
        "neo4j_controller_watch_errors_total{watch=\"ConfigMap\"} 0",
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }

    let tls = std::env::var_os("CERT_MANAGER_CRDS").is_some();
    let mut manifest = cluster_manifest("heal", 3, "Retain");
    if tls {
        manifest["spec"]["tls"] =
            json!({"mode": "cert-manager", "issuerRef": {"name": "ca", "kind": "ClusterIssuer"}});
    }
    let c: Neo4jEnterpriseCluster = serde_json::from_value(manifest).unwrap();
    let c = clusters(&env)
        .create(&PostParams::default(), &c)
        .await
        .unwrap();
    let uid = c.uid().unwrap();
    let desired = rendered_cluster(&c);
    for d in &desired {
        wait_for(&format!("{} {}", d.kind, d.name), T, || async {
            live(&env, d).await.map(|_| ())
        })
        .await;
    }
    settle(&ctl, Duration::from_secs(2)).await;

    // Another manager labels and annotates the StatefulSet: its fields, never touched.
    let n = ClusterNames::new("heal");
    let sts = find(&desired, "StatefulSet", &n.statefulset());
    child_api(&env.client, &env.ns, sts)
        .patch(
            &sts.name,
            &PatchParams::apply("team-tooling"),
            &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": sts.name, "labels": {"example.com/team": "graph"},
                    "annotations": {"example.com/runbook": "https://runbooks.example.com/graph"}}})),
        )
        .await
        .unwrap();
    let quiet = settle(&ctl, Duration::from_secs(2)).await;

    let container = sts.object["spec"]["template"]["spec"]["containers"][0]["name"].clone();
    let mut drifts = vec![
        Drift {
            name: "StatefulSet scaled 3 → 5 (kubectl scale)".into(),
            kind: "StatefulSet",
            child: n.statefulset(),
            pointer: Some("/spec/replicas"),
            edit: Edit::Kubectl(vec![
                "scale".into(),
                "statefulset".into(),
                n.statefulset(),
                "--replicas=5".into(),
            ]),
        },
        Drift {
            name: "StatefulSet container image changed".into(),
            kind: "StatefulSet",
            child: n.statefulset(),
            pointer: Some("/spec/template/spec/containers/0/image"),
            edit: Edit::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": container, "image": "example.invalid/neo4j:tampered"}]}}}})),
        },
        Drift {
            name: "StatefulSet controller-owned label changed".into(),
            kind: "StatefulSet",
            child: n.statefulset(),
            pointer: Some("/metadata/labels/app.kubernetes.io~1component"),
            edit: Edit::Merge(
                json!({"metadata": {"labels": {"app.kubernetes.io/component": "tampered"}}}),
            ),
        },
        Drift {
            name: "client Service targetPort changed".into(),
            kind: "Service",
            child: n.client_service(),
            pointer: Some("/spec/ports/0/targetPort"),
            edit: Edit::Strategic(json!({"spec": {"ports": [{"port": 7687, "targetPort": 9999}]}})),
        },
        Drift {
            name: "headless Service publishNotReadyAddresses changed".into(),
            kind: "Service",
            child: n.headless_service(),
            pointer: Some("/spec/publishNotReadyAddresses"),
            edit: Edit::Merge(json!({"spec": {"publishNotReadyAddresses": false}})),
        },
        Drift {
            name: "Service managed-by label removed (leaves the watch)".into(),
            kind: "Service",
            child: n.headless_service(),
            pointer: Some("/metadata/labels/app.kubernetes.io~1managed-by"),
            edit: Edit::Merge(
                json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": null}}}),
            ),
        },
        Drift {
            name: "ConfigMap neo4j.conf edited".into(),
            kind: "ConfigMap",
            child: n.config_map(),
            pointer: Some("/data/neo4j.conf"),
            edit: Edit::Merge(json!({"data": {"neo4j.conf": "server.memory.heap.max_size=1g\n"}})),
        },
        Drift {
            name: "ServiceAccount label changed".into(),
            kind: "ServiceAccount",
            child: n.discovery_rbac(),
            pointer: Some("/metadata/labels/app.kubernetes.io~1instance"),
            edit: Edit::Merge(
                json!({"metadata": {"labels": {"app.kubernetes.io/instance": "someone-else"}}}),
            ),
        },
        Drift {
            name: "PodDisruptionBudget maxUnavailable changed".into(),
            kind: "PodDisruptionBudget",
            child: n.pod_disruption_budget(),
            pointer: Some("/spec/maxUnavailable"),
            edit: Edit::Merge(json!({"spec": {"maxUnavailable": 3}})),
        },
        Drift {
            name: "PodDisruptionBudget owner reference removed".into(),
            kind: "PodDisruptionBudget",
            child: n.pod_disruption_budget(),
            pointer: Some("/metadata/ownerReferences"),
            edit: Edit::Merge(json!({"metadata": {"ownerReferences": null}})),
        },
    ];
    if tls {
        drifts.push(Drift {
            name: "Certificate DNS names changed".into(),
            kind: "Certificate",
            child: n.certificate(),
            pointer: Some("/spec/dnsNames"),
            edit: Edit::Merge(json!({"spec": {"dnsNames": ["evil.example.com"]}})),
        });
    }
    let edits = drifts.len();
    for d in &desired {
        drifts.push(Drift {
            name: format!("{} {} deleted", d.kind, d.name),
            kind: d.kind,
            child: d.name.clone(),
            pointer: None,
            edit: Edit::Delete,
        });
    }

    let mut last_quiet = quiet;
    for (i, drift) in drifts.iter().enumerate() {
        if i == edits {
            // Every field edit restored: the other manager's fields are still there (the
            // deletions below remove the StatefulSet itself).
            let sts_live = live(&env, sts).await.unwrap();
            assert_eq!(
                sts_live["metadata"]["labels"]["example.com/team"],
                json!("graph"),
                "another manager's label was removed"
            );
            assert_eq!(
                sts_live["metadata"]["annotations"]["example.com/runbook"],
                json!("https://runbooks.example.com/graph"),
                "another manager's annotation was removed"
            );
        }
        let d = find(&desired, drift.kind, &drift.child);
        let before = child_writes(&ctl);
        let old_uid = live(&env, d)
            .await
            .and_then(|v| v["metadata"]["uid"].as_str().map(str::to_string));
        perform(&env, d, &drift.edit).await;
        let (_, took) = time_until(&drift.name, T, || async {
            let obj = live(&env, d).await?;
            match drift.pointer {
                Some(p) => (obj.pointer(p) == d.object.pointer(p)).then_some(()),
                // Deleted: back as a new object, owned by the cluster.
                None => {
                    let new_uid = obj["metadata"]["uid"].as_str().map(str::to_string);
                    let owned = obj["metadata"]["ownerReferences"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|r| r["uid"] == json!(uid));
                    (new_uid != old_uid && owned).then_some(())
                }
            }
        })
        .await;
        record_figure(
            "drift restore latency",
            &drift.name,
            &format!("{} ms", took.as_millis()),
        );
        last_quiet = settle(&ctl, Duration::from_millis(1500)).await;
        let after = child_writes(&ctl);
        for (resource, n_after) in &after {
            let sent = n_after - before[resource];
            let want = if *resource == d.plural { 1.0 } else { 0.0 };
            assert_eq!(
                sent, want,
                "{}: {sent} applies of {resource} (expected {want})",
                drift.name
            );
        }
    }
    assert!(last_quiet > quiet, "restores were counted");
    assert_eq!(ctl.metric("neo4j_controller_conflicts_total", &[]), 0.0);
    ctl.stop().await;
}

/// A Warning event with `reason` about `name`.
async fn events_about(env: &TestEnv, name: &str, reason: &str) -> Vec<Event> {
    Api::<Event>::namespaced(env.client.clone(), &env.ns)
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .filter(|e| e.reason.as_deref() == Some(reason))
        .collect()
}

fn ready_condition(c: &Neo4jEnterpriseCluster) -> Option<Value> {
    let status = serde_json::to_value(c.status.as_ref()?).ok()?;
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .cloned()
}

/// Issue: an object the webhook would have refused, stored while no webhook was registered
/// (these tests never register one), makes the API server refuse the controller's apply. The
/// status and one event per generation say so, with the API server's message; retries back off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_apply_shows_in_status_and_one_event_per_generation_without_a_hot_loop() {
    let env = setup("ctl-refused").await;
    let ctl = start(&env, |_| {}).await;
    let mut manifest = cluster_manifest("refused", 3, "Retain");
    // Not a valid annotation key: the API server refuses the client Service.
    manifest["spec"]["service"] = json!({"annotations": {"not a valid key!": "x"}});
    let c: Neo4jEnterpriseCluster = serde_json::from_value(manifest.clone()).unwrap();
    clusters(&env)
        .create(&PostParams::default(), &c)
        .await
        .unwrap();
    let ready = wait_for("Ready=False ApplyRejected", T, || async {
        let c = clusters(&env).get("refused").await.ok()?;
        let ready = ready_condition(&c)?;
        (ready["reason"] == "ApplyRejected").then_some((ready, c))
    })
    .await;
    let (cond, stored) = ready;
    assert_eq!(cond["status"], "False");
    let message = cond["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("services/refused-client") && message.contains("metadata.annotations"),
        "the API server's message: {message}"
    );
    assert_eq!(
        stored.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Failed")
    );
    wait_for("one ApplyRejected event", T, || async {
        (!events_about(&env, "refused", "ApplyRejected")
            .await
            .is_empty())
        .then_some(())
    })
    .await;
    // Backoff, no hot loop: a handful of attempts in 15 s (1, 2, 4, 8 s apart).
    let attempts = ctl.metric(
        "neo4j_controller_reconciles_total",
        &[("kind", CLUSTER), ("result", "rejected")],
    );
    tokio::time::sleep(Duration::from_secs(15)).await;
    let later = ctl.metric(
        "neo4j_controller_reconciles_total",
        &[("kind", CLUSTER), ("result", "rejected")],
    );
    assert!(
        later - attempts <= 4.0,
        "{attempts} → {later} attempts in 15 s"
    );
    let events = events_about(&env, "refused", "ApplyRejected").await;
    assert_eq!(events.len(), 1, "one event per generation: {events:?}");
    assert_eq!(
        events[0].series.as_ref().map(|s| s.count),
        None,
        "the event was repeated"
    );

    // A new generation that is refused again: one more event.
    clusters(&env)
        .patch(
            "refused",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"service": {"annotations": {"still not valid!": "y"}}}})),
        )
        .await
        .unwrap();
    wait_for("a second ApplyRejected event", T, || async {
        let events = events_about(&env, "refused", "ApplyRejected").await;
        let repeated = events
            .iter()
            .any(|e| e.series.as_ref().is_some_and(|s| s.count >= 2));
        (events.len() >= 2 || repeated).then_some(())
    })
    .await;

    // Fixed: the Service is applied and Ready no longer says ApplyRejected.
    clusters(&env)
        .patch(
            "refused",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"service": null}})),
        )
        .await
        .unwrap();
    wait_for("the fixed cluster's Service", T, || async {
        Api::<Service>::namespaced(env.client.clone(), &env.ns)
            .get_opt("refused-client")
            .await
            .ok()?
            .map(|_| ())
    })
    .await;
    wait_for("Ready no longer ApplyRejected", T, || async {
        let c = clusters(&env).get("refused").await.ok()?;
        (ready_condition(&c)?["reason"] != "ApplyRejected").then_some(())
    })
    .await;
    ctl.stop().await;
}

/// Near miss: a valid annotation is applied and never reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_annotation_is_applied_and_nothing_is_reported() {
    let env = setup("ctl-accepted").await;
    let ctl = start(&env, |_| {}).await;
    let mut manifest = cluster_manifest("accepted", 3, "Retain");
    manifest["spec"]["service"] = json!({"annotations": {"example.com/valid-key": "x"}});
    let c: Neo4jEnterpriseCluster = serde_json::from_value(manifest).unwrap();
    clusters(&env)
        .create(&PostParams::default(), &c)
        .await
        .unwrap();
    let svc = wait_for("the annotated client Service", T, || async {
        Api::<Service>::namespaced(env.client.clone(), &env.ns)
            .get_opt("accepted-client")
            .await
            .ok()?
    })
    .await;
    assert_eq!(
        svc.annotations()
            .get("example.com/valid-key")
            .map(String::as_str),
        Some("x")
    );
    wait_for("a status", T, || async {
        let c = clusters(&env).get("accepted").await.ok()?;
        ready_condition(&c)
    })
    .await;
    settle(&ctl, Duration::from_secs(2)).await;
    let c = clusters(&env).get("accepted").await.unwrap();
    assert_ne!(ready_condition(&c).unwrap()["reason"], "ApplyRejected");
    assert!(
        events_about(&env, "accepted", "ApplyRejected")
            .await
            .is_empty()
    );
    assert_eq!(
        ctl.metric(
            "neo4j_controller_reconciles_total",
            &[("result", "rejected")]
        ),
        0.0
    );
    ctl.stop().await;
}
