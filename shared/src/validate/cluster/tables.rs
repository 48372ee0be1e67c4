//! The cluster's own rules as one table (create rows, then update rows), and the property that no
//! scrambled cluster makes create, update or cross panic. The shared rules are tabled in
//! `instance/tests.rs`.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::validate::testkit::{
    Case, On, all_on, assert_verdict, cluster_with, hit, miss, run_instances, scramble,
    scramble_edits, with,
};

fn topology(t: Value) -> Value {
    json!({ "topology": t })
}

fn roles(list: Value) -> Value {
    topology(json!({ "serverRoles": list }))
}

fn sharding(extra: Value) -> Value {
    with(
        json!({"image": {"tag": "2025.12.0-enterprise"}, "propertySharding": {"enabled": true}}),
        extra,
    )
}

const FNI: &[&str] = &["field-not-implemented"];

fn cases() -> Vec<Case> {
    let many_roles: Vec<Value> = (0..101)
        .map(|i| json!({"serverIndex": i, "modeConstraint": "NONE"}))
        .collect();
    let servers = |n: i64| topology(json!({ "servers": n }));
    let tag = |t: &str| json!({"image": {"tag": t}});
    let size = |s: &str| json!({"storage": {"size": s}});
    let class = |c: Value| json!({"storage": {"className": c}});
    let msp = |m: Value| topology(json!({"servers": 5, "minSystemPrimaries": m}));
    all_on(On::Cluster, vec![
        // Topology.
        hit("cluster-min-servers", topology(json!({"servers": 1}))),
        miss("cluster-min-servers", topology(json!({"servers": 2}))).warnings(&["cluster-even-servers", "cluster-two-servers"]),
        hit("cluster-max-servers", topology(json!({"servers": 101}))).warnings(&["cluster-many-servers"]),
        miss("cluster-max-servers", topology(json!({"servers": 99}))).warnings(&["cluster-many-servers"]),
        hit("cluster-min-system-primaries-floor", topology(json!({"minSystemPrimaries": 1}))),
        miss("cluster-min-system-primaries-floor", topology(json!({"minSystemPrimaries": 3}))),
        hit("cluster-min-system-primaries-ceiling", topology(json!({"minSystemPrimaries": 5}))),
        miss("cluster-min-system-primaries-ceiling", topology(json!({"servers": 5, "minSystemPrimaries": 5}))),
        hit("cluster-server-mode-constraint-enum", topology(json!({"serverModeConstraint": "READ_REPLICA"}))),
        miss("cluster-server-mode-constraint-enum", topology(json!({"serverModeConstraint": ""}))),
        hit("cluster-server-role-index-range", roles(json!([{"serverIndex": 3, "modeConstraint": "PRIMARY"}]))),
        hit("cluster-server-role-index-range", roles(json!([{"serverIndex": -1, "modeConstraint": "PRIMARY"}]))),
        miss("cluster-server-role-index-range", roles(json!([{"serverIndex": 2, "modeConstraint": "PRIMARY"}]))),
        hit("cluster-server-role-index-duplicate", roles(json!([{"serverIndex": 1, "modeConstraint": "PRIMARY"}, {"serverIndex": 1, "modeConstraint": "SECONDARY"}]))),
        miss("cluster-server-role-index-duplicate", roles(json!([{"serverIndex": 0, "modeConstraint": "PRIMARY"}, {"serverIndex": 1, "modeConstraint": "SECONDARY"}]))),
        hit("cluster-server-roles-all-secondary", roles(json!([0, 1, 2].map(|i| json!({"serverIndex": i, "modeConstraint": "SECONDARY"}))))),
        miss("cluster-server-roles-all-secondary", roles(json!([0, 1].map(|i| json!({"serverIndex": i, "modeConstraint": "SECONDARY"}))))),
        hit("cluster-server-role-mode-enum", roles(json!([{"serverIndex": 0, "modeConstraint": "primary"}]))),
        miss("cluster-server-role-mode-enum", roles(json!([{"serverIndex": 0, "modeConstraint": "NONE"}]))),
        hit("cluster-server-roles-max-items", topology(json!({"servers": 100, "serverRoles": many_roles}))).errors(&["cluster-server-roles-max-items", "cluster-server-role-index-range"]).warnings(&["cluster-even-servers", "cluster-many-servers"]),
        miss("cluster-server-roles-max-items", topology(json!({"servers": 100, "serverRoles": many_roles[..100].to_vec()}))).warnings(&["cluster-even-servers", "cluster-many-servers"]),
        hit("cluster-mode-has-primary", topology(json!({"serverModeConstraint": "SECONDARY"}))).warnings(&["cluster-mode-all-secondary"]),
        miss("cluster-mode-has-primary", topology(json!({"serverModeConstraint": "SECONDARY", "serverRoles": [{"serverIndex": 0, "modeConstraint": "PRIMARY"}]}))).warnings(&["cluster-mode-all-secondary"]),
        // Warnings: legal topologies with a known weakness.
        hit("cluster-even-servers", topology(json!({"servers": 4}))).warning(),
        miss("cluster-even-servers", topology(json!({"servers": 5}))),
        hit("cluster-even-min-system-primaries", topology(json!({"servers": 5, "minSystemPrimaries": 4}))).warning(),
        miss("cluster-even-min-system-primaries", topology(json!({"servers": 5, "minSystemPrimaries": 3}))),
        hit("cluster-two-servers", topology(json!({"servers": 2}))).warning().warnings(&["cluster-even-servers", "cluster-two-servers"]),
        miss("cluster-two-servers", topology(json!({"servers": 3}))),
        hit("cluster-many-servers", topology(json!({"servers": 11}))).warning(),
        miss("cluster-many-servers", topology(json!({"servers": 9}))),
        hit("cluster-mode-all-primary", topology(json!({"serverModeConstraint": "PRIMARY"}))).warning(),
        miss("cluster-mode-all-primary", topology(json!({"serverModeConstraint": "NONE"}))),
        hit("cluster-mode-all-secondary", topology(json!({"serverModeConstraint": "SECONDARY", "serverRoles": [{"serverIndex": 2, "modeConstraint": "NONE"}]}))).warning(),
        miss("cluster-mode-all-secondary", topology(json!({"serverModeConstraint": "PRIMARY"}))).warnings(&["cluster-mode-all-primary"]),
        // Property sharding (its config passes the spec.config rules too).
        hit("sharding-version", sharding(json!({"image": {"tag": "2025.11.0"}}))).warnings(FNI),
        miss("sharding-version", sharding(json!({}))).warnings(FNI),
        miss("sharding-version", json!({"propertySharding": {"enabled": false}})),
        hit("sharding-min-servers", sharding(json!({"topology": {"servers": 0}}))).errors(&["sharding-min-servers", "cluster-min-servers"]).warnings(FNI),
        miss("sharding-min-servers", sharding(json!({"topology": {"servers": 1}}))).errors(&["cluster-min-servers"]).warnings(FNI),
        hit("sharding-required-settings", sharding(json!({"propertySharding": {"config": {"db.query.default_language": "CYPHER_5"}}}))).warnings(FNI),
        miss("sharding-required-settings", sharding(json!({"propertySharding": {"config": {"db.query.default_language": "CYPHER_25", "internal.dbms.sharded_property_database.enabled": "true"}}}))).warnings(FNI),
        hit("sharding-min-memory", sharding(json!({"resources": {"requests": {"memory": "4G", "cpu": "2"}, "limits": {"memory": "8Gi"}}}))).warnings(FNI),
        hit("sharding-min-memory", sharding(json!({"resources": {"requests": {"cpu": "2"}}}))).warnings(FNI),
        miss("sharding-min-memory", sharding(json!({"resources": {"requests": {"memory": "4096Mi", "cpu": "1"}, "limits": {"memory": "8Gi"}}}))).warnings(FNI),
        miss("sharding-min-memory", sharding(json!({"resources": {"limits": {"memory": "8Gi"}}}))).warnings(FNI),
        hit("sharding-min-cpu", sharding(json!({"resources": {"requests": {"memory": "4Gi", "cpu": "999m"}, "limits": {"memory": "8Gi"}}}))).warnings(FNI),
        miss("sharding-min-cpu", sharding(json!({"resources": {"requests": {"memory": "4Gi", "cpu": "1000m"}, "limits": {"memory": "8Gi"}}}))).warnings(FNI),
        hit("config-db-format", sharding(json!({"propertySharding": {"config": {"db.format": "block"}}}))).warnings(FNI),
        miss("config-db-format", json!({"propertySharding": {"enabled": false, "config": {"db.format": "block"}}})),
        hit("config-key-charset", sharding(json!({"propertySharding": {"config": {"a\nb": "1"}}}))).warnings(FNI),
        // Memory (memory::check_cluster): default limit, requests-only, sharding keys.
        hit("memory-exceeds-limit", json!({"config": {"server.memory.heap.max_size": "8g"}})),
        miss("memory-exceeds-limit", json!({"config": {"server.memory.heap.max_size": "1g"}})),
        hit("memory-exceeds-limit", json!({"resources": {"requests": {"memory": "1Gi"}}, "config": {"server.memory.heap.max_size": "8g"}})),
        hit("memory-exceeds-limit", json!({"propertySharding": {"enabled": false, "config": {"server.memory.heap.max_size": "8g"}}})),
        hit("memory-container-min", json!({"resources": {"limits": {"memory": "512Mi"}}})),
        miss("memory-container-min", json!({"resources": {"requests": {"memory": "512Mi"}}})),
        hit("memory-cluster-size-min", json!({"topology": {"servers": 5}, "resources": {"limits": {"memory": "1Gi"}}})),
        miss("memory-cluster-size-min", json!({"topology": {"servers": 5}, "resources": {"limits": {"memory": "2Gi"}}})),
        hit("memory-value-neo4j-syntax", json!({"resources": {"limits": {"memory": "8Gi"}}, "config": {"server.memory.heap.max_size": "2Gi"}})),
        miss("memory-value-neo4j-syntax", json!({"resources": {"limits": {"memory": "8Gi"}}, "config": {"server.memory.heap.max_size": "2g"}})),
        // field-not-implemented for cluster-only fields.
        hit("field-not-implemented", topology(json!({"placement": {"nodeSelector": {"disk": "ssd"}, "requiredDuringScheduling": true}}))).warning().warnings(&["field-not-implemented", "field-not-implemented"]),
        miss("field-not-implemented", topology(json!({"placement": {"nodeSelector": {}, "requiredDuringScheduling": false, "antiAffinity": {"enabled": true}}}))),
        // Update rules.
        hit("cluster-scale-down-floor", servers(1)).errors(&["cluster-scale-down-floor", "cluster-min-servers"]).updated_from(servers(3)),
        miss("cluster-scale-down-floor", servers(1)).errors(&["cluster-min-servers"]).updated_from(servers(1)),
        miss("cluster-scale-down-floor", servers(3)).updated_from(servers(5)),
        hit("cluster-scale-below-system-primaries", servers(2)).errors(&[]).warnings(&["cluster-scale-below-system-primaries", "cluster-even-servers", "cluster-two-servers"]).updated_from(servers(3)),
        hit("cluster-scale-below-system-primaries", servers(4)).errors(&[]).warnings(&["cluster-scale-below-system-primaries", "cluster-even-servers", "cluster-min-system-primaries-immutable"]).updated_from(topology(json!({"servers": 5, "minSystemPrimaries": 5}))),
        // Below two servers other rules refuse the update; this one says nothing more.
        miss("cluster-scale-below-system-primaries", servers(1)).errors(&["cluster-scale-down-floor", "cluster-min-servers"]).updated_from(servers(3)),
        miss("cluster-scale-below-system-primaries", servers(2)).warnings(&["cluster-even-servers", "cluster-two-servers", "cluster-min-system-primaries-immutable"]).updated_from(topology(json!({"servers": 4, "minSystemPrimaries": 2}))),
        miss("cluster-scale-below-system-primaries", servers(3)).updated_from(servers(7)),
        hit("cluster-version-upgrade", tag("5.26.1")).updated_from(tag("5.26.3")),
        hit("cluster-version-upgrade", tag("5.26.0")).updated_from(tag("2025.01.0")),
        miss("cluster-version-upgrade", tag("2025.10.1-enterprise")).updated_from(tag("5.26.0-enterprise")),
        miss("cluster-version-upgrade", tag("5.26.0")).updated_from(tag("5.26.0")),
        hit("storage-size-no-shrink", size("50Gi")).updated_from(size("100Gi")),
        miss("storage-size-no-shrink", size("1024Gi")).updated_from(size("1Ti")),
        miss("storage-size-no-shrink", size("20Gi")).updated_from(size("10Gi")),
        hit("cluster-storage-class-immutable", class(json!("fast-ssd"))).updated_from(class(json!("standard"))),
        hit("cluster-storage-class-immutable", class(json!("fast-ssd"))).updated_from(class(Value::Null)),
        miss("cluster-storage-class-immutable", class(json!(""))).updated_from(class(Value::Null)),
        hit("cluster-min-system-primaries-immutable", msp(json!(5))).warning().updated_from(msp(json!(3))),
        hit("cluster-min-system-primaries-immutable", msp(json!(3))).warning().updated_from(msp(Value::Null)),
        miss("cluster-min-system-primaries-immutable", msp(json!(3))).updated_from(msp(json!(3))),
    ])
}

#[test]
fn the_minimal_valid_cluster_has_no_findings() {
    let c = cluster_with(json!({}));
    assert_verdict("valid cluster", &create(&c), &[], &[]);
    assert_verdict("valid cluster, unchanged update", &update(&c, &c), &[], &[]);
}

#[test]
fn cluster_rules_table() {
    run_instances(
        &cases(),
        &[
            crate::catalog::coverage::cluster(),
            crate::catalog::coverage::cluster_update(),
        ]
        .concat(),
    );
}

/// A template holding most fields, mutated at random below.
fn rich_template() -> Value {
    json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": "graph", "namespace": "prod"},
        "spec": {
            "image": {"repo": "neo4j", "tag": "2025.12.0-enterprise", "pullPolicy": "Always"},
            "topology": {"servers": 3, "minSystemPrimaries": 3, "serverModeConstraint": "NONE",
                "serverRoles": [{"serverIndex": 0, "modeConstraint": "PRIMARY"}],
                "placement": {"nodeSelector": {"a": "b"}, "requiredDuringScheduling": true}},
            "storage": {"size": "10Gi", "className": "standard", "retentionPolicy": "Retain"},
            "acceptLicenseAgreement": "yes",
            "resources": {"requests": {"memory": "4Gi", "cpu": "1"}, "limits": {"memory": "8Gi", "cpu": "2"}},
            "env": [{"name": "NEO4J_db_format", "value": "block"}, {"name": "X", "value": "y"}],
            "config": {"server.memory.heap.max_size": "4g", "server.memory.pagecache.size": "1g", "dbms.cluster.discovery.version": "V2_ONLY"},
            "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}, "duration": "2160h", "renewBefore": "360h",
                "usages": ["server auth", "client auth"],
                "externalSecrets": {"enabled": true, "secretStoreRef": {"name": "v", "kind": "SecretStore"}, "refreshInterval": "1h",
                    "data": [{"secretKey": "k", "remoteRef": {"key": "r"}}]}},
            "auth": {"authenticationProviders": ["native", "oidc-okta"], "authorizationProviders": ["ldap"], "authCacheTTL": "10m",
                "ldap": {"host": "ldap://x", "authorization": {"useSystemAccount": true, "systemAccountSecretRef": "s", "groupToRoleMapping": {"a": "b"}}},
                "oidc": {"okta": {"audience": "a", "issuer": "i", "authFlow": "pkce", "claims": {"groups": "g"}}},
                "trustStore": {"name": "ca"}},
            "service": {"type": "ClusterIP", "route": {"enabled": true, "tls": {"termination": "edge"}}, "ingress": {"enabled": true}},
            "monitoring": {"queryLogLevel": "INFO", "sampling": {"rate": "0.5"}, "metricsPrefix": "neo4j"},
            "upgradeStrategy": {"strategy": "RollingUpgrade", "upgradeTimeout": "30m", "maxUnavailableDuringUpgrade": 1},
            "mcp": {"enabled": true, "transport": "http", "schemaSampleSize": 100,
                "http": {"port": 8080, "tls": {"secretName": "t"}, "service": {"port": 80, "route": {"enabled": true}}}, "auth": {"secretName": "m"}},
            "propertySharding": {"enabled": true, "config": {"db.query.default_language": "CYPHER_25", "server.memory.heap.initial_size": "1g"}},
            "auraFleetManagement": {"enabled": true, "provision": {"credentialsSecretRef": {"name": "c"}, "organizationId": "o",
                "projectId": "p", "deploymentName": "d", "tokenPolicy": "Rotate", "managementPolicies": ["*"]}},
            "trustedCASecrets": [{"name": "ca"}],
            "extraVolumes": [{"name": "x", "emptyDir": {}}],
            "extraVolumeMounts": [{"name": "x", "mountPath": "/x"}]
        }
    })
}

/// Sizes near `u64::MAX` must not overflow the memory arithmetic (it saturates).
#[test]
fn huge_memory_values_do_not_overflow() {
    for huge in ["1e308", "99999999999999999999Ei", "18446744073709551615"] {
        let c = cluster_with(
            json!({"resources": {"limits": {"memory": huge}}, "config": {"server.memory.heap.max_size": huge, "server.memory.pagecache.size": huge}}),
        );
        let _ = create(&c);
    }
}

#[test]
fn scrambled_clusters_mostly_decode() {
    // The never-panic property is only worth something if most inputs reach the rules.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let decoded = (0..200)
        .filter(|_| {
            scramble_edits()
                .new_tree(&mut runner)
                .is_ok_and(|t| scrambled_cluster(t.current()).is_some())
        })
        .count();
    assert!(
        decoded >= 80,
        "only {decoded} of 200 scrambled clusters decode"
    );
}

fn scrambled_cluster(seed: Vec<(u8, String, i64)>) -> Option<Neo4jEnterpriseCluster> {
    let mut doc = rich_template();
    scramble(&mut doc, &mut seed.into_iter());
    let mut c: Neo4jEnterpriseCluster = serde_json::from_value(doc).ok()?;
    crate::defaults::cluster(&mut c.spec);
    Some(c)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn create_and_update_never_panic(a in scramble_edits(), b in scramble_edits()) {
        let (old, new) = (scrambled_cluster(a), scrambled_cluster(b));
        if let Some(new) = &new {
            let v = create(new);
            prop_assert!(v.errors.iter().chain(&v.warnings).all(|f| !f.message.contains('\n')));
            let _ = cross(new, "default", &crate::inventory::NoInventory);
            if let Some(old) = &old {
                let _ = update(old, new);
            }
        }
    }
}
