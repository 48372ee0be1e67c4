//! The pod template of a cluster: the StatefulSet's shape, the admin password as a Secret
//! reference, the TLS mounts and certificate names, and placement added to the user's affinity.

use serde_json::json;

use super::*;

#[test]
fn statefulset_has_this_shape() {
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
        json!({"whenDeleted": "Retain", "whenScaled": "Delete"})
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
            Some(500)
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
fn certificate_dns_names_cover_every_server_by_wildcard() {
    let mut seen = None;
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
        assert_eq!(names.len(), 12 + 3 + 1);
        assert_eq!(names[0], "graph-client");
        assert_eq!(names[11], "graph-headless.db.svc.cluster.local");
        assert_eq!(names[12], "*.graph-headless.db");
        assert_eq!(names[14], "*.graph-headless.db.svc.cluster.local");
        assert_eq!(names.last(), Some(&json!("neo4j.example.com")));
        // Scaling changes no name: a new server is covered before it starts.
        if let Some(previous) = seen.replace(names.clone()) {
            assert_eq!(previous, names, "{servers} servers");
        }
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
