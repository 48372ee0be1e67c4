//! neo4j.conf as rendered: discovery per image version, user settings last with the managed keys
//! dropped, memory settings from the memory plan, and first-boot settings kept out.

use serde_json::json;

use super::*;

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
    // Four servers may host a primary; the system database has three.
    assert_eq!(
        cm["bootstrap.conf"],
        "dbms.cluster.minimum_initial_system_primaries_count=3\ninitial.dbms.default_primaries_count=3\n"
    );
    assert_eq!(cm["server-modes.conf"], "default PRIMARY\n4 SECONDARY\n");
    let conf = conf_of(&objects, "graph-config");
    assert!(!conf.contains("minimum_initial_system_primaries_count"));
    assert!(!conf.contains("mode_constraint"));
    assert!(!conf.contains("default_primaries_count"));
}

#[test]
fn a_users_default_primaries_count_replaces_the_derived_one() {
    let spec = spec_with(json!({"topology": {"servers": 3},
        "config": {"initial.dbms.default_primaries_count": "1"}}));
    let objects = render_cluster(spec);
    let cm = &find(&objects, "ConfigMap", "graph-config").object["data"];
    assert_eq!(
        cm["bootstrap.conf"],
        "dbms.cluster.minimum_initial_system_primaries_count=3\n"
    );
    let conf = conf_of(&objects, "graph-config");
    assert_eq!(
        conf.matches("initial.dbms.default_primaries_count=1\n")
            .count(),
        1
    );
}
