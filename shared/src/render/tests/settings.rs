//! Settings from `spec.env` and `spec.config`, `apoc.conf` and `env-settings`, the stock JVM
//! lines, certificate reload, whole transaction-memory units, the plugins directory, the
//! startup budget and the cluster domain.

use super::*;

fn data(objects: &[DesiredObject], cm: &str, key: &str) -> Option<String> {
    find(objects, "ConfigMap", cm).object["data"][key]
        .as_str()
        .map(str::to_string)
}

fn render_standalone(spec: Value) -> Vec<DesiredObject> {
    standalone(&standalone_from(spec)).expect("standalone renders")
}

fn jvm_lines(conf: &str) -> Vec<String> {
    settings(conf)
        .into_iter()
        .filter(|(k, _)| k == "server.jvm.additional")
        .map(|(_, v)| v)
        .collect()
}

#[test]
fn env_settings_land_in_neo4j_conf_after_spec_config_and_win() {
    let env = json!([
        {"name": "NEO4J_db_transaction_timeout", "value": "20s"},
        {"name": "NEO4J_dbms_security_auth__minimum__password__length", "value": "12"},
        {"name": "NEO4J_server_jvm_additional", "value": "-Xss2m"},
        {"name": "NEO4J_server_bolt_tls__level", "value": "DISABLED"},
        {"name": "NEO4J_UDC_PACKAGING", "value": "mine"},
        {"name": "NEO4J_db_lock_acquisition_timeout", "value": ""},
        {"name": "JAVA_OPTS", "value": "-Dx"}
    ]);
    let config =
        json!({"db.transaction.timeout": "10s", "server.jvm.additional": "-Dfrom.config=1"});
    for objects in [
        render_cluster(spec_with(json!({"config": config, "env": env}))),
        render_standalone(spec_with(json!({"config": config, "env": env}))),
    ] {
        let cm = if objects.iter().any(|o| o.name == "graph-config") {
            "graph-config"
        } else {
            "solo-config"
        };
        let conf = conf_of(&objects, cm);
        // One line per scalar key, the env value; the spec.config line is gone.
        assert_eq!(
            setting(&conf, "db.transaction.timeout").as_deref(),
            Some("20s")
        );
        assert_eq!(conf.matches("db.transaction.timeout=").count(), 1, "{conf}");
        assert!(conf.contains("# spec.env\n"));
        assert_eq!(
            setting(&conf, "dbms.security.auth_minimum_password_length").as_deref(),
            Some("12")
        );
        // JVM lines add up, as the image's entrypoint appends them.
        let jvm = jvm_lines(&conf);
        assert!(
            jvm.contains(&"-Xss2m".to_string()) && jvm.contains(&"-Dfrom.config=1".to_string())
        );
        // Managed keys, entry-point variables, empty values and other names are not settings.
        assert_ne!(
            setting(&conf, "server.bolt.tls_level").as_deref(),
            Some("DISABLED")
        );
        assert!(!conf.contains("UDC"), "{conf}");
        assert!(!conf.contains("lock_acquisition"));
        assert!(!conf.contains("JAVA"));
        assert!(data(&objects, cm, "apoc.conf").is_none());
        assert!(data(&objects, cm, "env-settings").is_none());
    }
}

#[test]
fn apoc_settings_go_to_apoc_conf_and_roll_the_pods() {
    let spec = |v: &str| {
        spec_with(json!({
            "config": {"apoc.export.file.enabled": "true", "apoc.import.file.enabled": v},
            "env": [{"name": "NEO4J_apoc_trigger_enabled", "value": "true"}]
        }))
    };
    let objects = render_cluster(spec("true"));
    let conf = conf_of(&objects, "graph-config");
    assert!(
        !conf.contains("apoc."),
        "Neo4j 5 refuses apoc.* in neo4j.conf: {conf}"
    );
    let apoc = data(&objects, "graph-config", "apoc.conf").expect("apoc.conf");
    assert_eq!(
        settings(&apoc),
        vec![
            ("apoc.export.file.enabled".to_string(), "true".to_string()),
            ("apoc.import.file.enabled".to_string(), "true".to_string()),
            ("apoc.trigger.enabled".to_string(), "true".to_string()),
        ]
    );
    let hash = |o: &[DesiredObject]| {
        pod_template(o, "graph-server")["metadata"]["annotations"][CONFIG_HASH_ANNOTATION].clone()
    };
    assert_ne!(hash(&objects), hash(&render_cluster(spec("false"))));
    assert!(
        super::conf::CLUSTER_STARTUP_SH.contains("cp /conf/apoc.conf"),
        "startup.sh copies apoc.conf next to neo4j.conf"
    );
}

#[test]
fn secret_backed_and_file_settings_are_listed_for_the_startup_script() {
    let spec = spec_with(json!({
        "config": {"dbms.security.ldap.authorization.system_password": "from-config"},
        "env": [
            {"name": "NEO4J_dbms_security_ldap_authorization_system__password",
             "valueFrom": {"secretKeyRef": {"name": "ldap", "key": "password"}}},
            {"name": "NEO4J_dbms_security_keystore_password_FILE", "value": "/secrets/keystore"},
            {"name": "NEO4J_apoc_jdbc_db_url", "valueFrom": {"secretKeyRef": {"name": "jdbc", "key": "url"}}},
            {"name": "NEO4J_server_bolt_tls__level", "valueFrom": {"secretKeyRef": {"name": "x", "key": "y"}}}
        ]
    }));
    for objects in [
        render_cluster(spec.clone()),
        render_standalone(spec.clone()),
    ] {
        let cm = if objects.iter().any(|o| o.name == "graph-config") {
            "graph-config"
        } else {
            "solo-config"
        };
        assert_eq!(
            data(&objects, cm, "env-settings").as_deref(),
            Some(
                "NEO4J_dbms_security_ldap_authorization_system__password neo4j.conf dbms.security.ldap.authorization.system_password\n\
                 NEO4J_dbms_security_keystore_password_FILE neo4j.conf dbms.security.keystore.password\n\
                 NEO4J_apoc_jdbc_db_url apoc.conf apoc.jdbc.db.url\n"
            )
        );
        // The spec.config value is replaced (env wins), and no secret is in the ConfigMap.
        let conf = conf_of(&objects, cm);
        assert!(!conf.contains("system_password"), "{conf}");
        assert!(!conf.contains("keystore"));
    }
    assert!(super::conf::STANDALONE_STARTUP_SH.contains("/conf/env-settings"));
    assert!(super::conf::CLUSTER_STARTUP_SH.contains("/conf/env-settings"));
}

#[test]
fn the_stock_jvm_lines_come_first_and_follow_the_version() {
    let flags = |tag: &str| {
        let cluster = render_cluster(spec_with(json!({"image": {"repo": "neo4j", "tag": tag}})));
        let solo = render_standalone(spec_with(json!({"image": {"repo": "neo4j", "tag": tag}})));
        (
            jvm_lines(&conf_of(&cluster, "graph-config")),
            jvm_lines(&conf_of(&solo, "solo-config")),
        )
    };
    let stock = [
        "-XX:+UseG1GC",
        "-XX:-OmitStackTraceInFastThrow",
        "-XX:+AlwaysPreTouch",
        "-XX:+UnlockExperimentalVMOptions",
        "-XX:+TrustFinalNonStaticFields",
        "-XX:+DisableExplicitGC",
        "-XX:-RestrictContended",
        "-Djdk.nio.maxCachedBufferSize=1024",
        "-Dio.netty.tryReflectionSetAccessible=true",
        "-Djdk.tls.ephemeralDHKeySize=2048",
        "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED",
        "-Dlog4j2.disable.jmx=true",
        "-Dlog4j.layout.jsonTemplate.maxStringLength=32768",
    ];
    let concurrent = "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED";
    let lucene = "-Dorg.neo4j.shaded.lucene9.vectorization.upperJavaFeatureVersion=25";
    for (tag, with_concurrent, with_lucene) in [
        ("5.26.0", false, false),
        ("2025.03.0", false, false),
        ("2025.04.0", true, false),
        ("2026.02.0", true, true),
    ] {
        let (cluster, solo) = flags(tag);
        for lines in [&cluster, &solo] {
            assert_eq!(lines[..stock.len()], stock, "{tag}");
            assert_eq!(
                lines.contains(&concurrent.to_string()),
                with_concurrent,
                "{tag}"
            );
            assert_eq!(lines.contains(&lucene.to_string()), with_lucene, "{tag}");
            // Each line once, although the cluster's own list repeats -XX:+UseG1GC.
            let mut unique = lines.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), lines.len(), "{tag}: {lines:?}");
        }
        assert!(cluster.contains(&"-XX:+ExitOnOutOfMemoryError".to_string()));
    }
}

#[test]
fn tls_reload_is_enabled_where_the_version_has_it() {
    let tls = json!({"mode": "cert-manager", "issuerRef": {"name": "ca"}});
    for (tag, tls, want) in [
        ("5.26.0", tls.clone(), None),
        ("2025.01.0", tls.clone(), None),
        ("2025.03.0", tls.clone(), Some("true")),
        ("2026.07.0", Value::Null, None),
    ] {
        let spec = spec_with(json!({"image": {"repo": "neo4j", "tag": tag}, "tls": tls}));
        let cluster = conf_of(&render_cluster(spec.clone()), "graph-config");
        let solo = conf_of(&render_standalone(spec), "solo-config");
        for conf in [cluster, solo] {
            assert_eq!(
                setting(&conf, "dbms.security.tls_reload_enabled").as_deref(),
                want,
                "{tag}"
            );
        }
    }
}

#[test]
fn transaction_memory_is_rendered_in_whole_units() {
    for gib in [1u64, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 31, 48, 64, 100] {
        let spec = spec_with(json!({"resources": {"limits": {"memory": format!("{gib}Gi")}}}));
        let conf = conf_of(&render_cluster(spec), "graph-config");
        for key in [memory::TX_TOTAL_KEY, memory::TX_MAX_KEY] {
            let v = setting(&conf, key).unwrap_or_default();
            assert!(
                !v.is_empty() && v[..v.len() - 1].bytes().all(|b| b.is_ascii_digit()),
                "{gib}Gi {key}={v}"
            );
        }
    }
}

#[test]
fn standalones_load_plugins_from_the_plugins_volume() {
    let conf = conf_of(&render_standalone(minimal_spec()), "solo-config");
    assert_eq!(
        setting(&conf, "server.directories.plugins").as_deref(),
        Some("/plugins")
    );
}

#[test]
fn the_startup_budget_is_the_helm_charts_at_least_and_grows_with_storage() {
    let threshold = |size: &str| {
        let objects = render_cluster(spec_with(json!({"storage": {"size": size}})));
        let p = &pod_template(&objects, "graph-server")["spec"]["containers"][0]["startupProbe"];
        let budget = p["initialDelaySeconds"].as_i64().unwrap_or(0)
            + p["periodSeconds"].as_i64().unwrap_or(0)
                * p["failureThreshold"].as_i64().unwrap_or(0);
        let solo = render_standalone(spec_with(json!({"storage": {"size": size}})));
        let q = &pod_template(&solo, "solo")["spec"]["containers"][0]["startupProbe"];
        assert_eq!(
            p["failureThreshold"], q["failureThreshold"],
            "both kinds share the budget"
        );
        assert_eq!(p["periodSeconds"], q["periodSeconds"]);
        budget
    };
    assert!(threshold("10Gi") >= 5_000);
    assert_eq!(threshold("10Gi"), threshold("100Gi"));
    assert!(threshold("2Ti") >= 6 * 2048, "{}", threshold("2Ti"));
    assert!(threshold("2Ti") > threshold("1Ti"));
}

#[test]
fn the_cluster_domain_reaches_every_derived_name() {
    let site = Site {
        cluster_domain: "corp.example".into(),
    };
    let spec = spec_with(json!({"tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}}}));
    let objects = cluster_in(&cluster_from(spec.clone()), &site).expect("renders");
    let text = serde_json::to_string(&objects.iter().map(|o| &o.object).collect::<Vec<_>>())
        .unwrap_or_default();
    assert!(
        !text.contains("cluster.local"),
        "a name kept the default domain"
    );
    let conf = conf_of(&objects, "graph-config");
    assert_eq!(
        setting(&conf, "dbms.cluster.discovery.v2.endpoints").as_deref(),
        Some("_tcp-tx._tcp.graph-headless.db.svc.corp.example:0")
    );
    let env = &pod_template(&objects, "graph-server")["spec"]["containers"][0]["env"];
    assert!(
        env.as_array()
            .into_iter()
            .flatten()
            .any(|e| e["name"] == "SERVER_SUBDOMAIN"
                && e["value"] == "graph-headless.db.svc.corp.example")
    );
    let cert = &find(&objects, "Certificate", "graph-tls").object["spec"]["dnsNames"];
    assert!(
        cert.as_array()
            .into_iter()
            .flatten()
            .any(|n| n == "*.graph-headless.db.svc.corp.example")
    );
    let solo = standalone_in(&standalone_from(spec), &site).expect("renders");
    let conf = conf_of(&solo, "solo-config");
    assert_eq!(
        setting(&conf, "server.default_advertised_address").as_deref(),
        Some("solo-client.db.svc.corp.example")
    );
    // The default site is cluster.local.
    assert_eq!(
        cluster(&cluster_from(minimal_spec())),
        cluster_in(&cluster_from(minimal_spec()), &Site::default())
    );
}
