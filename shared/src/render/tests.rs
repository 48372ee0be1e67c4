//! Rendering tests: names, labels, ports and selectors (`docs/design.md`, Names), determinism,
//! what rolls pods and what does not, the disruption budget, memory, and that no user value
//! reaches a shell script.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::memory;
use crate::names::CONFIG_HASH_ANNOTATION;

fn minimal_spec() -> Value {
    json!({
        "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
        "topology": {"servers": 3},
        "storage": {"size": "10Gi"},
        "acceptLicenseAgreement": "yes"
    })
}

/// `minimal_spec` with the top-level fields of `patch` replaced.
fn spec_with(patch: Value) -> Value {
    let mut spec = minimal_spec();
    if let (Some(s), Some(p)) = (spec.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            s.insert(k.clone(), v.clone());
        }
    }
    spec
}

fn cluster_from(spec: Value) -> Neo4jEnterpriseCluster {
    let mut c: Neo4jEnterpriseCluster = serde_json::from_value(json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": "graph", "namespace": "db", "uid": "uid-1", "generation": 3},
        "spec": spec,
    }))
    .expect("cluster manifest");
    crate::defaults::cluster(&mut c.spec);
    c
}

fn standalone_from(spec: Value) -> Neo4jEnterpriseStandalone {
    let mut s: Neo4jEnterpriseStandalone = serde_json::from_value(json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseStandalone",
        "metadata": {"name": "solo", "namespace": "db", "uid": "uid-2", "generation": 1},
        "spec": spec,
    }))
    .expect("standalone manifest");
    crate::defaults::standalone(&mut s.spec);
    s
}

fn render_cluster(spec: Value) -> Vec<DesiredObject> {
    cluster(&cluster_from(spec)).expect("cluster renders")
}

fn find<'a>(objects: &'a [DesiredObject], kind: &str, name: &str) -> &'a DesiredObject {
    objects
        .iter()
        .find(|o| o.kind == kind && o.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn labels(o: &DesiredObject) -> BTreeMap<String, String> {
    serde_json::from_value(o.object["metadata"]["labels"].clone()).unwrap_or_default()
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

fn ports(service: &DesiredObject) -> Vec<(String, i64)> {
    service.object["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["port"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

fn conf_of(objects: &[DesiredObject], name: &str) -> String {
    find(objects, "ConfigMap", name).object["data"]["neo4j.conf"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn settings(conf: &str) -> Vec<(String, String)> {
    conf.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn setting(conf: &str, key: &str) -> Option<String> {
    settings(conf)
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn pod_template(objects: &[DesiredObject], name: &str) -> Value {
    find(objects, "StatefulSet", name).object["spec"]["template"].clone()
}

fn l(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const TAG: &str = "5.26.0-enterprise";

/// (name, selector, ports, clusterIP, publishNotReadyAddresses)
type ServiceRow<'a> = (
    &'a str,
    BTreeMap<String, String>,
    Vec<(String, i64)>,
    Value,
    Value,
);
/// (name, labels, ports)
type StandaloneServiceRow<'a> = (&'a str, BTreeMap<String, String>, Vec<(String, i64)>);

fn base_labels(role: Option<&str>) -> BTreeMap<String, String> {
    crate::names::ClusterNames::new("graph").base_labels(TAG, role)
}

fn without(mut m: BTreeMap<String, String>, keys: &[&str]) -> BTreeMap<String, String> {
    for k in keys {
        m.remove(*k);
    }
    m
}

// ---------------------------------------------------------------------------------------------
// Inventory, names, labels, ports, selectors
// ---------------------------------------------------------------------------------------------

#[test]
fn cluster_objects_in_apply_order() {
    let tls = spec_with(json!({
        "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}},
        "monitoring": {}
    }));
    let inventory: Vec<(&str, &str, &str, String)> = render_cluster(tls)
        .iter()
        .map(|o| (o.api_version, o.kind, o.plural, o.name.clone()))
        .collect();
    assert_eq!(
        inventory,
        [
            ("v1", "ConfigMap", "configmaps", "graph-config".to_string()),
            (
                "v1",
                "ServiceAccount",
                "serviceaccounts",
                "graph-discovery".into()
            ),
            ("v1", "Service", "services", "graph-headless".into()),
            ("v1", "Service", "services", "graph-internals".into()),
            ("v1", "Service", "services", "graph-client".into()),
            ("v1", "Service", "services", "graph-metrics".into()),
            (
                "cert-manager.io/v1",
                "Certificate",
                "certificates",
                "graph-tls".into()
            ),
            (
                "policy/v1",
                "PodDisruptionBudget",
                "poddisruptionbudgets",
                "graph-server".into()
            ),
            (
                "apps/v1",
                "StatefulSet",
                "statefulsets",
                "graph-server".into()
            ),
        ]
    );
    let plain: Vec<String> = render_cluster(minimal_spec())
        .iter()
        .map(|o| format!("{}/{}", o.kind, o.name))
        .collect();
    assert!(
        !plain
            .iter()
            .any(|n| n.contains("metrics") || n.contains("Certificate"))
    );
    assert!(
        !plain.iter().any(|n| n.starts_with("Role")),
        "no RBAC is rendered"
    );
    assert!(!plain.contains(&"Service/graph-discovery".to_string()));
}

#[test]
fn every_object_carries_identity_owner_and_hash() {
    let spec = spec_with(json!({
        "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}},
        "monitoring": {}
    }));
    for o in render_cluster(spec) {
        let m = &o.object["metadata"];
        assert_eq!(o.object["apiVersion"], o.api_version, "{}", o.name);
        assert_eq!(o.object["kind"], o.kind, "{}", o.name);
        assert_eq!(m["name"], o.name.as_str());
        assert_eq!(m["namespace"], "db");
        assert_eq!(
            m["ownerReferences"],
            json!([{
                "apiVersion": "neo4j.neo4j.com/v1beta1",
                "kind": "Neo4jEnterpriseCluster",
                "name": "graph",
                "uid": "uid-1",
                "controller": true,
                "blockOwnerDeletion": true
            }])
        );
        assert_eq!(m["annotations"][DESIRED_HASH_ANNOTATION], o.hash.as_str());
        let mut bare = o.object.clone();
        set_hash_annotation(&mut bare, None);
        assert_eq!(
            content_hash(&bare),
            o.hash,
            "{} hash covers the object",
            o.name
        );
    }
}

#[test]
fn owner_kind_comes_from_constants_not_type_meta() {
    // A typed object built in code has no apiVersion/kind to copy.
    let from_manifest = cluster_from(minimal_spec());
    let mut c = Neo4jEnterpriseCluster::new("graph", from_manifest.spec.clone());
    c.metadata = from_manifest.metadata.clone();
    let objects = cluster(&c).expect("renders a typed object");
    assert_eq!(
        objects[0].object["metadata"]["ownerReferences"][0]["kind"],
        "Neo4jEnterpriseCluster"
    );
}

#[test]
fn cluster_labels_follow_objects_md() {
    let spec = spec_with(json!({
        "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}},
        "monitoring": {}
    }));
    let objects = render_cluster(spec);
    let clustering = "neo4j.com/clustering";
    let service_type = "neo4j.com/service-type";
    let mut sts_labels = without(base_labels(Some("server")), &[clustering]);
    sts_labels.insert("neo4j.com/server-name".into(), "server".into());
    let mut metrics = base_labels(Some("metrics"));
    metrics.insert(service_type.into(), "metrics".into());
    let table: Vec<(&str, &str, BTreeMap<String, String>)> = vec![
        ("ConfigMap", "graph-config", base_labels(Some("config"))),
        (
            "ServiceAccount",
            "graph-discovery",
            base_labels(Some("discovery-service-account")),
        ),
        (
            "Service",
            "graph-headless",
            without(base_labels(None), &[clustering, service_type]),
        ),
        (
            "Service",
            "graph-internals",
            without(base_labels(None), &[clustering]),
        ),
        (
            "Service",
            "graph-client",
            without(base_labels(Some("client")), &[clustering]),
        ),
        ("Service", "graph-metrics", metrics),
        ("Certificate", "graph-tls", base_labels(Some("tls"))),
        ("StatefulSet", "graph-server", sts_labels),
    ];
    for (kind, name, expected) in table {
        assert_eq!(
            labels(find(&objects, kind, name)),
            expected,
            "{kind} {name}"
        );
    }
}

#[test]
fn cluster_services_follow_objects_md() {
    let spec = spec_with(json!({
        "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}},
        "monitoring": {}
    }));
    let objects = render_cluster(spec);
    let internal: Vec<(String, i64)> = [
        ("bolt", 7687),
        ("http", 7474),
        ("tcp-tx", 6000),
        ("routing", 7688),
        ("raft", 7000),
        ("transaction", 7689),
        ("backup", 6362),
    ]
    .iter()
    .map(|(n, p)| (n.to_string(), *p))
    .collect();
    let by_cluster = l(&[("neo4j.com/cluster", "graph")]);
    // (name, selector, ports, clusterIP, publishNotReadyAddresses)
    let table: Vec<ServiceRow<'_>> = vec![
        (
            "graph-headless",
            by_cluster.clone(),
            internal.clone(),
            json!("None"),
            json!(true),
        ),
        (
            "graph-internals",
            by_cluster.clone(),
            internal,
            Value::Null,
            json!(true),
        ),
        (
            "graph-client",
            by_cluster,
            vec![
                ("bolt".into(), 7687),
                ("http".into(), 7474),
                ("https".into(), 7473),
            ],
            Value::Null,
            Value::Null,
        ),
        (
            "graph-metrics",
            l(&[
                ("app.kubernetes.io/name", "neo4j"),
                ("neo4j.com/cluster", "graph"),
            ]),
            vec![("metrics".into(), 2004)],
            Value::Null,
            Value::Null,
        ),
    ];
    for (name, selector, expected_ports, cluster_ip, pnr) in table {
        let s = find(&objects, "Service", name);
        assert_eq!(
            string_map(&s.object["spec"]["selector"]),
            selector,
            "{name}"
        );
        assert_eq!(ports(s), expected_ports, "{name}");
        assert_eq!(s.object["spec"]["clusterIP"], cluster_ip, "{name}");
        assert_eq!(s.object["spec"]["publishNotReadyAddresses"], pnr, "{name}");
        assert_eq!(s.object["spec"]["type"], "ClusterIP", "{name}");
        // Server-defaulted fields are never owned.
        assert!(s.object["spec"].get("sessionAffinity").is_none());
        assert!(s.object["spec"].get("ipFamilies").is_none());
    }
    // Without TLS the client Service has no https port.
    let plain = render_cluster(minimal_spec());
    assert_eq!(
        ports(find(&plain, "Service", "graph-client")),
        [("bolt".to_string(), 7687), ("http".to_string(), 7474)]
    );
}

#[test]
fn client_service_takes_only_the_options_its_type_allows() {
    let spec = spec_with(json!({"service": {
        "type": "LoadBalancer",
        "annotations": {"a": "b"},
        "loadBalancerIP": "10.0.0.10",
        "loadBalancerSourceRanges": ["10.0.0.0/8"],
        "externalTrafficPolicy": "Local",
        "dnsName": "neo4j.example.com"
    }}));
    let objects = render_cluster(spec);
    let s = &find(&objects, "Service", "graph-client").object;
    assert_eq!(s["spec"]["type"], "LoadBalancer");
    assert_eq!(s["spec"]["loadBalancerIP"], "10.0.0.10");
    assert_eq!(s["spec"]["loadBalancerSourceRanges"], json!(["10.0.0.0/8"]));
    assert_eq!(s["spec"]["externalTrafficPolicy"], "Local");
    assert_eq!(s["metadata"]["annotations"]["a"], "b");
    assert_eq!(
        s["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"],
        "neo4j.example.com"
    );
    let spec = spec_with(json!({"service": {
        "type": "ClusterIP",
        "loadBalancerIP": "10.0.0.10",
        "externalTrafficPolicy": "Local"
    }}));
    let objects = render_cluster(spec);
    let s = &find(&objects, "Service", "graph-client").object["spec"];
    assert!(s.get("loadBalancerIP").is_none());
    assert!(s.get("externalTrafficPolicy").is_none());
}

#[test]
fn statefulset_shape_follows_objects_md() {
    let objects = render_cluster(minimal_spec());
    let sts = &find(&objects, "StatefulSet", "graph-server").object["spec"];
    assert_eq!(sts["replicas"], 3);
    assert_eq!(sts["serviceName"], "graph-headless");
    assert_eq!(sts["podManagementPolicy"], "Parallel");
    assert_eq!(sts["updateStrategy"], json!({"type": "RollingUpdate"}));
    assert_eq!(
        string_map(&sts["selector"]["matchLabels"]),
        l(&[
            ("neo4j.com/cluster", "graph"),
            ("neo4j.com/server-name", "server")
        ])
    );
    assert_eq!(
        sts["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Delete", "whenScaled": "Delete"})
    );
    let claim = &sts["volumeClaimTemplates"][0];
    assert_eq!(claim["metadata"]["name"], "data");
    assert_eq!(
        string_map(&claim["metadata"]["labels"]),
        crate::names::ClusterNames::new("graph").pvc_labels()
    );
    assert_eq!(claim["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "10Gi");
    assert!(
        claim["spec"].get("storageClassName").is_none(),
        "empty class is omitted"
    );

    let pod = &sts["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "graph-discovery");
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["enableServiceLinks"], false);
    assert_eq!(pod["terminationGracePeriodSeconds"], 120);
    assert_eq!(
        pod["securityContext"],
        json!({"runAsUser": 7474, "runAsGroup": 7474, "fsGroup": 7474, "runAsNonRoot": true,
               "seccompProfile": {"type": "RuntimeDefault"}})
    );
    let labels = string_map(&sts["template"]["metadata"]["labels"]);
    for (k, v) in string_map(&sts["selector"]["matchLabels"])
        .into_iter()
        .chain(crate::names::ClusterNames::new("graph").server_pod_selector())
    {
        assert_eq!(labels.get(&k), Some(&v), "pod labels carry {k}");
    }

    let c = &pod["containers"][0];
    assert_eq!(c["name"], "neo4j");
    assert_eq!(c["image"], "neo4j:5.26.0-enterprise");
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["command"], json!(["/bin/bash", "/conf/startup.sh"]));
    assert_eq!(
        c["resources"],
        json!({"limits": {"cpu": "1000m", "memory": "2Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}})
    );
    let container_ports: Vec<(String, i64)> = c["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["containerPort"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(String, i64)> = [
        ("bolt", 7687),
        ("http", 7474),
        ("https", 7473),
        ("tcp-tx", 6000),
        ("routing", 7688),
        ("raft", 7000),
        ("transaction", 7689),
        ("backup", 6362),
    ]
    .iter()
    .map(|(n, p)| (n.to_string(), *p))
    .collect();
    assert_eq!(container_ports, expected);
    let probe = |name: &str| {
        let p = &c[name];
        (
            p["exec"]["command"].clone(),
            p["initialDelaySeconds"].as_i64(),
            p["periodSeconds"].as_i64(),
            p["timeoutSeconds"].as_i64(),
            p["failureThreshold"].as_i64(),
        )
    };
    assert_eq!(
        probe("startupProbe"),
        (
            json!(["/bin/bash", "/conf/health.sh", "startup"]),
            Some(30),
            Some(10),
            Some(5),
            Some(60)
        )
    );
    assert_eq!(
        probe("readinessProbe"),
        (
            json!(["/bin/bash", "/conf/health.sh", "readiness"]),
            Some(45),
            Some(15),
            Some(5),
            Some(8)
        )
    );
    assert_eq!(
        probe("livenessProbe"),
        (
            json!(["/bin/bash", "/conf/health.sh", "liveness"]),
            Some(120),
            Some(60),
            Some(10),
            Some(3)
        )
    );
    let mounts: Vec<(String, String)> = c["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["name"].as_str().unwrap_or_default().into(),
                m["mountPath"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(
        mounts,
        [
            ("data".to_string(), "/data".to_string()),
            ("config".into(), "/conf".into()),
            ("logs".into(), "/logs".into()),
            ("plugins".into(), "/plugins".into()),
        ]
    );
    assert_eq!(
        pod["volumes"][0],
        json!({"name": "config", "configMap": {"name": "graph-config", "defaultMode": 0o755}})
    );
}

#[test]
fn admin_password_is_only_a_secret_reference() {
    let spec = spec_with(json!({"auth": {"adminSecret": "creds"}}));
    let objects = render_cluster(spec);
    let env = &pod_template(&objects, "graph-server")["spec"]["containers"][0]["env"];
    let by_name = |n: &str| {
        env.as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == n)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        by_name("DB_PASSWORD"),
        json!({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}})
    );
    assert_eq!(
        by_name("NEO4J_AUTH")["value"],
        "$(DB_USERNAME)/$(DB_PASSWORD)"
    );
    assert_eq!(
        by_name("SERVER_SUBDOMAIN")["value"],
        "graph-headless.db.svc.cluster.local"
    );
}

#[test]
fn tls_mounts_the_certificate_with_the_trust_anchor_when_strict() {
    let strict = spec_with(json!({"tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}}}));
    let objects = render_cluster(strict);
    let pod = pod_template(&objects, "graph-server");
    let certs = pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == "certs")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(certs["secret"]["secretName"], "graph-tls-secret");
    assert_eq!(certs["secret"]["defaultMode"], 0o440);
    assert_eq!(
        certs["secret"]["items"][3],
        json!({"key": "ca.crt", "path": "trusted/ca.crt"})
    );
    let conf = conf_of(&objects, "graph-config");
    assert_eq!(
        setting(&conf, "dbms.ssl.policy.cluster.client_auth").as_deref(),
        Some("REQUIRE")
    );
    assert_eq!(
        setting(&conf, "dbms.ssl.policy.cluster.verify_hostname").as_deref(),
        Some("true")
    );
    assert_eq!(
        setting(&conf, "server.bolt.tls_level").as_deref(),
        Some("REQUIRED")
    );
    assert!(!conf.contains("server.directories.certificates"));
    assert!(
        !conf.contains("${HOSTNAME}"),
        "no literal variable in the static conf"
    );

    let relaxed = spec_with(
        json!({"tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"},
                                           "strictPeerValidation": false}}),
    );
    let objects = render_cluster(relaxed);
    let conf = conf_of(&objects, "graph-config");
    assert_eq!(
        setting(&conf, "dbms.ssl.policy.cluster.trust_all").as_deref(),
        Some("true")
    );
    assert_eq!(
        setting(&conf, "dbms.ssl.policy.cluster.client_auth").as_deref(),
        Some("NONE")
    );
    let pod = pod_template(&objects, "graph-server");
    let certs = pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == "certs")
        .cloned()
        .unwrap_or(Value::Null);
    assert!(certs["secret"].get("items").is_none());
}

#[test]
fn certificate_dns_names_are_twelve_plus_nine_per_server() {
    for servers in [2, 3, 5] {
        let spec = spec_with(json!({
            "topology": {"servers": servers},
            "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca", "kind": "Issuer", "group": "cert-manager.io"},
                    "duration": "2160h", "renewBefore": "90d"},
            "service": {"dnsName": "neo4j.example.com"}
        }));
        let objects = render_cluster(spec);
        let cert = &find(&objects, "Certificate", "graph-tls").object["spec"];
        let names = cert["dnsNames"].as_array().cloned().unwrap_or_default();
        assert_eq!(names.len(), 12 + 9 * servers as usize + 1);
        assert_eq!(names[0], "graph-client");
        assert_eq!(names[11], "graph-headless.db.svc.cluster.local");
        assert_eq!(names[12], "graph-server-0");
        assert_eq!(
            names[20],
            "graph-server-0.graph-headless.db.svc.cluster.local"
        );
        assert_eq!(names.last(), Some(&json!("neo4j.example.com")));
        assert_eq!(cert["commonName"], "graph");
        assert_eq!(cert["secretName"], "graph-tls-secret");
        assert_eq!(
            cert["issuerRef"],
            json!({"name": "ca", "kind": "Issuer", "group": "cert-manager.io"})
        );
        assert_eq!(cert["duration"], "2160h");
        assert!(
            cert.get("renewBefore").is_none(),
            "90d is not a Go duration"
        );
    }
}

#[test]
fn placement_adds_to_the_users_affinity() {
    let spec = spec_with(json!({
        "topology": {"servers": 3, "placement": {
            "antiAffinity": {"enabled": true, "type": "required"},
            "topologySpread": {"enabled": true, "maxSkew": 2, "minDomains": 3}
        }},
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["db"]}]}]}},
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "rack", "labelSelector": {"matchLabels": {"team": "x"}}}]}
        }
    }));
    let objects = render_cluster(spec);
    let pod = pod_template(&objects, "graph-server");
    let affinity = &pod["spec"]["affinity"];
    assert!(
        affinity["nodeAffinity"].is_object(),
        "user node affinity kept"
    );
    let required = affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(required.len(), 2, "user term kept, ours added");
    assert_eq!(required[0]["topologyKey"], "rack");
    assert_eq!(required[1]["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(
        string_map(&required[1]["labelSelector"]["matchLabels"]),
        l(&[
            ("app.kubernetes.io/name", "neo4j"),
            ("app.kubernetes.io/instance", "graph")
        ])
    );
    let spread = &pod["spec"]["topologySpreadConstraints"][0];
    assert_eq!(spread["maxSkew"], 2);
    assert_eq!(spread["topologyKey"], "topology.kubernetes.io/zone");
    assert_eq!(spread["whenUnsatisfiable"], "DoNotSchedule");
    assert_eq!(spread["minDomains"], 3);
    assert_eq!(
        string_map(&spread["labelSelector"]["matchLabels"]),
        l(&[
            ("app.kubernetes.io/name", "neo4j"),
            ("app.kubernetes.io/instance", "graph"),
            ("app.kubernetes.io/component", "database")
        ])
    );
}

#[test]
fn standalone_objects_follow_objects_md() {
    let s = standalone_from(json!({
        "image": {"repo": "neo4j", "tag": "2025.01.0-enterprise"},
        "storage": {"size": "5Gi", "className": "fast"},
        "acceptLicenseAgreement": "eval",
        "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}},
        "monitoring": {},
        "service": {"dnsName": "solo.example.com"}
    }));
    let objects = standalone(&s).expect("standalone renders");
    let inventory: Vec<String> = objects
        .iter()
        .map(|o| format!("{}/{}", o.kind, o.name))
        .collect();
    assert_eq!(
        inventory,
        [
            "ConfigMap/solo-config",
            "Service/solo-headless",
            "Service/solo-client",
            "Service/solo-service",
            "Certificate/solo-tls-cert",
            "StatefulSet/solo"
        ]
    );
    let names = crate::names::StandaloneNames::new("solo");
    let app = l(&[("app", "solo")]);
    // (name, labels, selector, ports)
    let table: Vec<StandaloneServiceRow<'_>> = vec![
        (
            "solo-headless",
            names.component_labels("standalone-headless"),
            vec![
                ("bolt".into(), 7687),
                ("http".into(), 7474),
                ("backup".into(), 6362),
                ("https".into(), 7473),
            ],
        ),
        (
            "solo-client",
            {
                let mut m = names.component_labels("standalone");
                m.insert("neo4j.com/metrics-endpoint".into(), "true".into());
                m
            },
            vec![
                ("http".into(), 7474),
                ("bolt".into(), 7687),
                ("metrics".into(), 2004),
                ("https".into(), 7473),
            ],
        ),
        (
            "solo-service",
            names.component_labels("standalone"),
            vec![
                ("http".into(), 7474),
                ("bolt".into(), 7687),
                ("metrics".into(), 2004),
                ("https".into(), 7473),
            ],
        ),
    ];
    for (name, expected_labels, expected_ports) in table {
        let svc = find(&objects, "Service", name);
        assert_eq!(labels(svc), expected_labels, "{name}");
        assert_eq!(string_map(&svc.object["spec"]["selector"]), app, "{name}");
        assert_eq!(ports(svc), expected_ports, "{name}");
    }
    assert_eq!(
        find(&objects, "Service", "solo-service").object["metadata"]["annotations"]["neo4j.com/deprecated-alias-of"],
        "solo-client"
    );
    let cert = &find(&objects, "Certificate", "solo-tls-cert").object["spec"];
    assert_eq!(cert["secretName"], "solo-tls-secret");
    assert_eq!(cert["dnsNames"].as_array().map(Vec::len), Some(9));
    let sts = find(&objects, "StatefulSet", "solo");
    assert!(sts.object["metadata"].get("labels").is_none());
    let spec = &sts.object["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["serviceName"], "solo-headless");
    assert!(spec.get("podManagementPolicy").is_none());
    assert_eq!(string_map(&spec["selector"]["matchLabels"]), app);
    assert_eq!(
        string_map(&spec["template"]["metadata"]["labels"]),
        names.pod_labels()
    );
    let claim = &spec["volumeClaimTemplates"][0];
    assert_eq!(claim["metadata"]["name"], "neo4j-data");
    assert_eq!(string_map(&claim["metadata"]["labels"]), names.pvc_labels());
    assert_eq!(claim["spec"]["storageClassName"], "fast");
    let c = &spec["template"]["spec"]["containers"][0];
    assert!(
        c.get("command").is_none(),
        "the image entrypoint starts a standalone"
    );
    assert!(c.get("resources").is_none());
    let env_names: Vec<&str> = c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(env_names.contains(&"NEO4J_CONF"));
    let conf = conf_of(&objects, "solo-config");
    assert_eq!(
        setting(&conf, "server.default_advertised_address").as_deref(),
        Some("solo-client.db.svc.cluster.local")
    );
    assert!(setting(&conf, "server.memory.heap.max_size").is_none());
    assert!(setting(&conf, "dbms.ssl.policy.cluster.enabled").is_none());
    assert_eq!(
        setting(&conf, "dbms.ssl.policy.bolt.enabled").as_deref(),
        Some("true")
    );
    assert!(objects.iter().all(|o| o.kind != "PodDisruptionBudget"));
}

// ---------------------------------------------------------------------------------------------
// neo4j.conf
// ---------------------------------------------------------------------------------------------

#[test]
fn discovery_follows_the_image_version_and_never_lists_servers() {
    for (tag, calver) in [("5.26.0-enterprise", false), ("2025.10.1-enterprise", true)] {
        let spec =
            spec_with(json!({"image": {"repo": "neo4j", "tag": tag}, "topology": {"servers": 5}}));
        let conf = conf_of(&render_cluster(spec), "graph-config");
        let srv = "_tcp-tx._tcp.graph-headless.db.svc.cluster.local:0";
        assert_eq!(
            setting(&conf, "dbms.cluster.discovery.resolver_type").as_deref(),
            Some("SRV")
        );
        if calver {
            assert_eq!(
                setting(&conf, "dbms.cluster.endpoints").as_deref(),
                Some(srv)
            );
            assert!(setting(&conf, "dbms.cluster.discovery.version").is_none());
            assert!(setting(&conf, "dbms.cluster.discovery.v2.endpoints").is_none());
        } else {
            assert_eq!(
                setting(&conf, "dbms.cluster.discovery.v2.endpoints").as_deref(),
                Some(srv)
            );
            assert_eq!(
                setting(&conf, "dbms.cluster.discovery.version").as_deref(),
                Some("V2_ONLY")
            );
        }
        assert!(
            !conf.contains("graph-server-"),
            "no per-server endpoint in {tag}"
        );
    }
    let floating = cluster(&cluster_from(spec_with(
        json!({"image": {"repo": "neo4j", "tag": "enterprise"}}),
    )));
    assert!(matches!(
        floating,
        Err(RenderError::UnsupportedImageTag { .. })
    ));
}

#[test]
fn user_config_is_sorted_last_and_managed_keys_are_dropped() {
    let spec = spec_with(json!({"config": {
        "zz.custom": "1",
        "dbms.security.procedures.unrestricted": "apoc.*,gds.*",
        "server.bolt.thread_pool_max_size": "800",
        "dbms.cluster.endpoints": "evil:6000",
        "dbms.ssl.policy.bolt.trust_all": "true",
        "server.memory.pagecache.size": "3g",
        "dbms.security.authentication_providers": "ldap",
        "db.format": "aligned",
        "server.jvm.additional": "-Dcustom=1",
        "aa.custom": "2"
    }}));
    let conf = conf_of(&render_cluster(spec), "graph-config");
    let user_section: Vec<(String, String)> =
        settings(conf.split("# spec.config\n").nth(1).unwrap_or_default());
    assert_eq!(
        user_section,
        [
            ("aa.custom".to_string(), "2".to_string()),
            (
                "dbms.security.procedures.unrestricted".into(),
                "apoc.*,gds.*".into()
            ),
            ("server.bolt.thread_pool_max_size".into(), "800".into()),
            ("server.jvm.additional".into(), "-Dcustom=1".into()),
            ("zz.custom".into(), "1".into()),
        ]
    );
    assert_eq!(
        settings(&conf)
            .iter()
            .filter(|(k, _)| k == "server.bolt.thread_pool_max_size")
            .count(),
        1
    );
    assert!(setting(&conf, "dbms.cluster.endpoints").is_none());
    assert!(setting(&conf, "dbms.ssl.policy.bolt.trust_all").is_none());
    assert_eq!(setting(&conf, "db.format").as_deref(), Some("block"));
    assert_eq!(
        setting(&conf, "dbms.security.authentication_providers").as_deref(),
        Some("native")
    );
    assert!(
        conf.contains("server.jvm.additional=-XX:+ExitOnOutOfMemoryError"),
        "defaults kept"
    );
    // The explicit page cache feeds the memory plan instead of a second line.
    assert_eq!(
        setting(&conf, "server.memory.pagecache.size").as_deref(),
        Some("512M")
    );
    let keys: Vec<String> = settings(&conf).into_iter().map(|(k, _)| k).collect();
    let mut scalars: Vec<&String> = keys
        .iter()
        .filter(|k| *k != "server.jvm.additional")
        .collect();
    let n = scalars.len();
    scalars.sort();
    scalars.dedup();
    assert_eq!(scalars.len(), n, "every scalar key appears once");
}

#[test]
fn memory_keys_match_memory_plan() {
    for limit in ["2Gi", "4Gi", "8Gi"] {
        let spec = spec_with(json!({"resources": {"limits": {"memory": limit, "cpu": "2"}}}));
        let conf = conf_of(&render_cluster(spec), "graph-config");
        let bytes = crate::units::quantity_bytes(limit);
        let plan = memory::plan(bytes, &BTreeMap::new()).expect("plan");
        for (key, value) in plan.conf_keys() {
            assert_eq!(
                setting(&conf, key).as_deref(),
                Some(value.as_str()),
                "{limit} {key}"
            );
        }
    }
    let tiny = cluster(&cluster_from(spec_with(
        json!({"resources": {"limits": {"memory": "512Mi"}}}),
    )));
    assert!(matches!(tiny, Err(RenderError::Memory(_))));
}

#[test]
fn first_boot_settings_leave_the_conf() {
    let spec = spec_with(json!({"topology": {"servers": 5, "minSystemPrimaries": 3,
        "serverModeConstraint": "PRIMARY",
        "serverRoles": [{"serverIndex": 4, "modeConstraint": "SECONDARY"}]}}));
    let objects = render_cluster(spec);
    let cm = &find(&objects, "ConfigMap", "graph-config").object["data"];
    assert_eq!(
        cm["bootstrap.conf"],
        "dbms.cluster.minimum_initial_system_primaries_count=3\n"
    );
    assert_eq!(cm["server-modes.conf"], "default PRIMARY\n4 SECONDARY\n");
    let conf = conf_of(&objects, "graph-config");
    assert!(!conf.contains("minimum_initial_system_primaries_count"));
    assert!(!conf.contains("mode_constraint"));
}

// ---------------------------------------------------------------------------------------------
// Determinism and what rolls pods
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Disruption budget, errors
// ---------------------------------------------------------------------------------------------

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
fn missing_metadata_is_an_error() {
    for (field, expected) in [
        ("namespace", RenderError::MissingNamespace),
        ("uid", RenderError::MissingUid),
        ("name", RenderError::MissingName),
    ] {
        let mut c = cluster_from(minimal_spec());
        match field {
            "namespace" => c.metadata.namespace = None,
            "uid" => c.metadata.uid = None,
            _ => c.metadata.name = None,
        }
        assert_eq!(cluster(&c), Err(expected));
    }
    let mut c = cluster_from(minimal_spec());
    c.spec.accept_license_agreement = None;
    assert!(matches!(cluster(&c), Err(RenderError::MissingField { .. })));
}

/// Every pod volume the renderer emits is in `names::RESERVED_VOLUME_NAMES` (or has the CA
/// prefix), so the validator's `extra-volume-name-reserved` rule covers all of them.
#[test]
fn rendered_volume_names_are_all_reserved() {
    use crate::names::is_reserved_volume;
    let mut c: crate::types::Neo4jEnterpriseCluster = serde_json::from_value(serde_json::json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": "g", "namespace": "ns", "uid": "u-1"},
        "spec": {"acceptLicenseAgreement": "yes", "image": {"repo": "neo4j", "tag": "5.26.0"}, "topology": {"servers": 3},
            "storage": {"size": "1Gi"}, "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}},
            "trustedCASecrets": [{"name": "corp"}]}}))
    .unwrap_or_else(|e| panic!("{e}"));
    crate::defaults::cluster(&mut c.spec);
    let objects = crate::render::cluster(&c).unwrap_or_else(|e| panic!("{e}"));
    let sts = objects
        .iter()
        .find(|o| o.kind == "StatefulSet")
        .map(|o| o.object.clone())
        .unwrap_or_default();
    let volumes = sts
        .pointer("/spec/template/spec/volumes")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    assert!(volumes.len() >= 5, "{volumes:?}");
    for v in volumes {
        let name = v["name"].as_str().unwrap_or_default();
        assert!(
            is_reserved_volume(name),
            "rendered volume {name} is not reserved in names.rs"
        );
    }
}
