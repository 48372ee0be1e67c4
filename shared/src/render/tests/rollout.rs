//! Determinism and what rolls pods: identical bytes for identical input whatever the map order,
//! no user value in startup.sh, what changes the pod template hash and what does not, pinning
//! immutable fields, and the disruption budget.

use proptest::prelude::*;
use serde_json::json;

use super::*;

#[test]
fn rendering_twice_gives_identical_bytes() {
    let spec = spec_with(json!({
        "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}},
        "monitoring": {},
        "trustedCASecrets": [{"name": "corp"}],
        "config": {"b": "2", "a": "1"}
    }));
    let a = render_cluster(spec.clone());
    let b = render_cluster(spec);
    assert_eq!(a, b);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(canonical_json(&x.object), canonical_json(&y.object));
        assert_eq!(x.hash, y.hash);
    }
}

/// A spec whose maps are written in the given key order.
fn spec_with_ordered_maps(keys: &[String]) -> Value {
    let mut config = serde_json::Map::new();
    let mut annotations = serde_json::Map::new();
    for k in keys {
        config.insert(format!("custom.{k}"), json!(format!("v-{k}")));
        annotations.insert(format!("example.com/{k}"), json!(k));
    }
    spec_with(json!({
        "config": Value::Object(config),
        "podServiceAccountAnnotations": Value::Object(annotations.clone()),
        "service": {"annotations": Value::Object(annotations)}
    }))
}

proptest! {
    #[test]
    fn map_order_never_changes_the_output(keys in proptest::collection::btree_set("[a-z]{1,8}", 1..30), seed in any::<u64>()) {
        let sorted: Vec<String> = keys.into_iter().collect();
        let mut shuffled = sorted.clone();
        // Deterministic shuffle from the seed.
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let a = render_cluster(spec_with_ordered_maps(&sorted));
        let b = render_cluster(spec_with_ordered_maps(&shuffled));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn no_user_value_reaches_startup_sh(value in "[ -~]{1,40}", key in "[a-z]{1,6}\\.[a-z]{1,6}") {
        let spec = spec_with(json!({"config": {key.clone(): value.clone()}}));
        let objects = render_cluster(spec);
        let data = &find(&objects, "ConfigMap", "graph-config").object["data"];
        let startup = data["startup.sh"].as_str().unwrap_or_default();
        prop_assert_eq!(startup, conf::CLUSTER_STARTUP_SH);
        for script in ["startup.sh", "health.sh", "truststore.sh"] {
            let text = data[script].as_str().unwrap_or_default();
            if value.len() > 6 {
                prop_assert!(!text.contains(value.as_str()), "{} holds the value {:?}", script, value);
            }
        }
        // Every script is a constant: no input of any kind reaches it.
        prop_assert_eq!(data["health.sh"].as_str(), Some(conf::CLUSTER_HEALTH_SH));
        prop_assert_eq!(data["truststore.sh"].as_str(), Some(conf::TRUSTSTORE_SH));
        // The value does reach neo4j.conf, on one line.
        let neo4j_conf = data["neo4j.conf"].as_str().unwrap_or_default();
        let line = format!("{key}={value}\n");
        prop_assert!(neo4j_conf.contains(&line));
    }
}

#[test]
fn a_conf_setting_changes_the_pod_template_hash() {
    let before = render_cluster(spec_with(
        json!({"config": {"db.tx_log.rotation.retention_policy": "2 days"}}),
    ));
    let after = render_cluster(spec_with(
        json!({"config": {"db.tx_log.rotation.retention_policy": "3 days"}}),
    ));
    let hash = |o: &[DesiredObject]| {
        pod_template(o, "graph-server")["metadata"]["annotations"][CONFIG_HASH_ANNOTATION].clone()
    };
    assert_ne!(hash(&before), hash(&after));
    assert_eq!(hash(&before).as_str().map(str::len), Some(64));
}

#[test]
fn scaling_changes_replicas_not_the_pod_template() {
    let three = render_cluster(spec_with(json!({"topology": {"servers": 3}})));
    let six = render_cluster(spec_with(json!({"topology": {"servers": 6}})));
    assert_eq!(
        canonical_json(&pod_template(&three, "graph-server")),
        canonical_json(&pod_template(&six, "graph-server")),
        "the pod template is byte-identical"
    );
    let sts = |o: &[DesiredObject]| {
        let mut spec = find(o, "StatefulSet", "graph-server").object["spec"].clone();
        if let Some(m) = spec.as_object_mut() {
            m.remove("replicas");
        }
        spec
    };
    assert_eq!(sts(&three), sts(&six), "only replicas differs");
    assert_eq!(
        find(&three, "StatefulSet", "graph-server").object["spec"]["replicas"],
        3
    );
    assert_eq!(
        find(&six, "StatefulSet", "graph-server").object["spec"]["replicas"],
        6
    );
    for o in &three {
        if o.kind != "StatefulSet" {
            assert_eq!(
                o,
                find(&six, o.kind, &o.name),
                "{} {} unchanged by 3 → 6",
                o.kind,
                o.name
            );
        }
    }
    // 2 → 3 raises the effective system primaries: a first-boot value, so no pod restarts.
    let two = render_cluster(spec_with(json!({"topology": {"servers": 2}})));
    assert_eq!(
        canonical_json(&pod_template(&two, "graph-server")),
        canonical_json(&pod_template(&three, "graph-server"))
    );
}

#[test]
fn service_type_changes_only_the_client_service() {
    let a = render_cluster(spec_with(json!({"service": {"type": "ClusterIP"}})));
    let b = render_cluster(spec_with(json!({"service": {"type": "NodePort"}})));
    let changed: Vec<String> = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(x, _)| format!("{}/{}", x.kind, x.name))
        .collect();
    assert_eq!(changed, ["Service/graph-client"]);
}

#[test]
fn pin_immutable_fields_keeps_the_live_claim_templates() {
    let small = render_cluster(minimal_spec());
    let live: k8s_openapi::api::apps::v1::StatefulSet =
        serde_json::from_value(find(&small, "StatefulSet", "graph-server").object.clone())
            .expect("typed");
    let grown = render_cluster(spec_with(json!({"storage": {"size": "20Gi"}})));
    let mut desired = find(&grown, "StatefulSet", "graph-server").clone();
    assert_eq!(
        desired.object["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "20Gi"
    );
    let rendered_hash = desired.hash.clone();
    pin_immutable_fields(&mut desired, &live);
    assert_eq!(
        desired.object["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "10Gi"
    );
    assert_eq!(
        desired.object["spec"]["replicas"], 3,
        "mutable fields stay as rendered"
    );
    // The hash still names the render, so the skip decision needs no live object.
    assert_eq!(desired.hash, rendered_hash);
    assert_eq!(
        desired.object["metadata"]["annotations"][DESIRED_HASH_ANNOTATION],
        rendered_hash.as_str()
    );
    // Pinned to itself, the small one is unchanged.
    let mut same = find(&small, "StatefulSet", "graph-server").clone();
    pin_immutable_fields(&mut same, &live);
    assert_eq!(&same, find(&small, "StatefulSet", "graph-server"));
    // Other kinds are left alone.
    let mut cm = small[0].clone();
    pin_immutable_fields(&mut cm, &live);
    assert_eq!(cm, small[0]);
}

#[test]
fn pdb_keeps_a_majority_for_two_to_nine_servers() {
    for servers in 2..=9 {
        let objects = render_cluster(spec_with(json!({"topology": {"servers": servers}})));
        let pdb = &find(&objects, "PodDisruptionBudget", "graph-server").object["spec"];
        let max_unavailable = pdb["maxUnavailable"].as_i64().unwrap_or(i64::MAX);
        let servers = i64::from(servers);
        let left = servers - max_unavailable;
        assert!(
            2 * left > servers,
            "{servers} servers: {left} left is no majority"
        );
        // A Raft group of three members (the default system primaries) keeps its majority too.
        assert!(max_unavailable <= 1);
        assert_eq!(
            string_map(&pdb["selector"]["matchLabels"]),
            crate::names::ClusterNames::new("graph").server_pod_selector()
        );
    }
}

#[test]
fn a_renewed_certificate_restarts_the_servers_only_when_all_are_ready() {
    use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec, StatefulSetStatus};
    let sts = |ready: i32, updated: i32, revisions: (&str, &str)| StatefulSet {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            generation: Some(2),
            ..Default::default()
        },
        spec: Some(StatefulSetSpec {
            replicas: Some(3),
            ..Default::default()
        }),
        status: Some(StatefulSetStatus {
            observed_generation: Some(2),
            replicas: 3,
            ready_replicas: Some(ready),
            updated_replicas: Some(updated),
            current_revision: Some(revisions.0.into()),
            update_revision: Some(revisions.1.into()),
            ..Default::default()
        }),
    };
    let settled = sts(3, 3, ("a", "a"));
    // A new StatefulSet starts with whatever is issued (1 before the first issue).
    assert_eq!(tls_revision(None, None, None), 1);
    assert_eq!(tls_revision(None, Some(1), None), 1);
    assert_eq!(tls_revision(None, Some(4), None), 4);
    // Renewal: only once every server is ready on the current template.
    assert_eq!(tls_revision(Some(1), Some(2), Some(&settled)), 2);
    assert_eq!(
        tls_revision(Some(1), Some(2), Some(&sts(2, 3, ("a", "a")))),
        1
    );
    assert_eq!(
        tls_revision(Some(1), Some(2), Some(&sts(3, 2, ("a", "b")))),
        1
    );
    assert_eq!(tls_revision(Some(1), Some(2), None), 1);
    // The first issue after creation is the certificate the pods mounted: no restart.
    assert_eq!(tls_revision(Some(1), Some(1), Some(&settled)), 1);
    assert_eq!(tls_revision(Some(1), None, Some(&settled)), 1);

    // The annotation reaches the pod template (so the StatefulSet rolls) and the hash.
    let tls = spec_with(json!({"tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}}}));
    let mut objects = render_cluster(tls);
    let before = find(&objects, "StatefulSet", "graph-server").clone();
    set_tls_revision(&mut objects, 2);
    let after = find(&objects, "StatefulSet", "graph-server");
    assert_eq!(
        after.object["spec"]["template"]["metadata"]["annotations"][TLS_REVISION_ANNOTATION],
        "2"
    );
    assert_ne!(before.hash, after.hash);
    assert_eq!(
        after.object["metadata"]["annotations"][DESIRED_HASH_ANNOTATION],
        after.hash.as_str()
    );
    // Without TLS there is no certificate to follow.
    let mut plain = render_cluster(minimal_spec());
    let unchanged = plain.clone();
    set_tls_revision(&mut plain, 2);
    assert_eq!(plain, unchanged);
}
