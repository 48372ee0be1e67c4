//! Which objects a cluster and a standalone render, in what order, and their names, labels,
//! owner, ports and selectors; what metadata rendering needs; and that every volume the renderer
//! mounts is one the validator reserves.

use serde_json::json;

use super::*;

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
fn cluster_labels_are_exactly_these() {
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
fn cluster_services_have_these_names_selectors_and_ports() {
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
fn standalone_objects_have_these_names_labels_and_ports() {
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
    // The StatefulSet and the ConfigMap carry only the label every child has (the controller
    // watches its children by it).
    let managed_by = l(&[("app.kubernetes.io/managed-by", "neo4j-operator")]);
    let sts = find(&objects, "StatefulSet", "solo");
    assert_eq!(labels(sts), managed_by);
    assert_eq!(
        labels(find(&objects, "ConfigMap", "solo-config")),
        managed_by
    );
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
    assert_eq!(
        c["command"],
        json!(["/bin/bash", "/conf/startup.sh"]),
        "startup.sh completes the configuration, then runs the image's entrypoint"
    );
    assert!(c.get("resources").is_none());
    let env_names: Vec<&str> = c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .collect();
    // startup.sh exports NEO4J_CONF itself, pointing at the copy it completes.
    assert!(!env_names.contains(&"NEO4J_CONF"));
    assert!(super::conf::STANDALONE_STARTUP_SH.contains("export NEO4J_CONF=\"${conf_dir}\""));
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
