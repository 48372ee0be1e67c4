//! The shared rules as one table run against both kinds (rows of one kind say so), the Route host
//! check that needs the namespace, and the helpers of the instance module checked on their own.

use serde_json::{Value, json};

use super::*;
use crate::inventory::NoInventory;
use crate::validate;
use crate::validate::testkit::{
    Case, On, cluster_with, hit, miss, run_instances, standalone_with, with,
};

const FNI: &[&str] = &["field-not-implemented"];

/// Shared rules; the kind-specific ids of shared groups have rows of their own kind.
fn cases() -> Vec<Case> {
    use On::*;
    let long = |n: usize| "a".repeat(n);
    let cm = |extra: Value| json!({"tls": with(json!({"mode": "cert-manager", "issuerRef": {"name": "ca"}}), extra)});
    let es = |extra: Value| {
        let e = json!({"enabled": true, "secretStoreRef": {"name": "vault"}, "data": [{"secretKey": "tls.crt", "remoteRef": {"key": "neo4j/tls"}}]});
        cm(json!({ "externalSecrets": with(e, extra) }))
    };
    let oidc_ok = json!({"audience": "neo4j", "wellKnownDiscoveryURI": "https://idp.example.com/.well-known/openid-configuration"});
    let ldap = |extra: Value| json!({"auth": {"ldap": with(json!({"host": "ldaps://ldap.example.com:636"}), extra)}});
    let config = |key: &str, value: &str| json!({"config": {key: value}});
    let env = |name: &str, value: &str| json!({"env": [{"name": name, "value": value}]});
    let mcp = |m: Value| json!({ "mcp": m });
    let fleet = |f: Value| json!({ "auraFleetManagement": f });
    let mount = |path: &str| json!({"extraVolumeMounts": [{"name": "extra", "mountPath": path}]});
    let usages = |n: usize| {
        let mut u = vec!["server auth".to_string(), "client auth".to_string()];
        u.extend(std::iter::repeat_n("digital signature".to_string(), n - 2));
        u
    };
    vec![
        // Identity and licence.
        hit("name-dns1035-label", json!({})).named("Graph.prod"),
        hit("name-dns1035-label", json!({})).named("1graph"),
        miss("name-dns1035-label", json!({})).named("graph-1"),
        hit("cluster-name-max-45", json!({})).named(&long(46)).on(Cluster),
        miss("cluster-name-max-45", json!({})).named(&long(45)).on(Cluster),
        hit("cluster-name-max-length", json!({})).errors(&["cluster-name-max-length", "cluster-name-max-45"]).named(&long(57)).on(Cluster),
        miss("cluster-name-max-length", json!({})).errors(&["cluster-name-max-45"]).named(&long(56)).on(Cluster),
        hit("standalone-name-max-52", json!({})).named(&long(53)).on(Standalone),
        miss("standalone-name-max-52", json!({})).named(&long(52)).on(Standalone),
        hit("standalone-name-max-length", json!({})).errors(&["standalone-name-max-length", "standalone-name-max-52"]).named(&long(64)).on(Standalone),
        miss("standalone-name-max-length", json!({})).errors(&["standalone-name-max-52"]).named(&long(63)).on(Standalone),
        hit("license-required", json!({"acceptLicenseAgreement": null})),
        hit("license-required", json!({"acceptLicenseAgreement": ""})),
        miss("license-required", json!({"acceptLicenseAgreement": "eval"})),
        hit("license-value", json!({"acceptLicenseAgreement": "YES"})),
        miss("license-value", json!({"acceptLicenseAgreement": "yes"})),
        // Image.
        hit("image-required", json!({"image": null})),
        hit("image-required", json!({"image": {"repo": "", "tag": "", "pullPolicy": "Always"}})),
        miss("image-required", json!({"image": {"repo": "", "tag": "5.26.0-enterprise"}})).errors(&["image-repo-required"]),
        hit("image-repo-required", json!({"image": {"repo": ""}})),
        miss("image-repo-required", json!({"image": {"repo": "registry.example.com/neo4j"}})),
        hit("image-tag-required", json!({"image": {"tag": ""}})).on(Cluster),
        hit("image-tag-required", json!({"image": {"tag": ""}})).errors(&["image-tag-required", "image-version-supported"]).on(Standalone),
        miss("image-tag-required", json!({"image": {"tag": "5.26"}})),
        hit("image-version-supported", json!({"image": {"tag": "5.25.1"}})),
        hit("image-version-supported", json!({"image": {"tag": "latest"}})),
        hit("image-version-supported", json!({"image": {"tag": "2024.12.0"}})),
        miss("image-version-supported", json!({"image": {"tag": "2025.10.1-enterprise"}})),
        hit("image-community-tag", json!({"image": {"tag": "5.26.0-Community"}})).on(Cluster),
        miss("image-community-tag", json!({"image": {"tag": "5.26.0"}})).on(Cluster),
        hit("standalone-image-community", json!({"image": {"tag": "5.26.0-community"}})).on(Standalone),
        miss("standalone-image-community", json!({"image": {"tag": "5.26.0"}})).on(Standalone),
        hit("image-pull-policy", json!({"image": {"pullPolicy": "always"}})).on(Cluster),
        miss("image-pull-policy", json!({"image": {"pullPolicy": "Always"}})).on(Cluster),
        hit("standalone-image-pull-policy", json!({"image": {"pullPolicy": "Sometimes"}})).on(Standalone),
        miss("standalone-image-pull-policy", json!({"image": {"pullPolicy": "Never"}})).on(Standalone),
        hit("image-tag-label-safe", json!({"image": {"tag": "5.26.0@sha256:abcdef"}})),
        hit("image-tag-label-safe", json!({"image": {"tag": format!("5.26.0-{}", long(57))}})),
        miss("image-tag-label-safe", json!({"image": {"tag": format!("5.26.0-{}", long(56))}})),
        // Storage.
        hit("storage-required", json!({"storage": null})),
        hit("storage-required", json!({"storage": {"size": ""}})),
        miss("storage-required", json!({"storage": {"size": "", "className": "standard"}})).errors(&["storage-size-required"]),
        hit("storage-size-required", json!({"storage": {"size": "", "retentionPolicy": "Retain"}})),
        hit("storage-retention-delete", json!({"storage": {"retentionPolicy": "Delete"}})).warning(),
        miss("storage-retention-delete", json!({"storage": {"retentionPolicy": "Retain"}})),
        miss("storage-size-required", json!({"storage": {"size": "1Ti"}})),
        hit("storage-size-format", json!({"storage": {"size": "1.5Gi"}})).on(Cluster),
        hit("storage-size-format", json!({"storage": {"size": "100k"}})).on(Cluster),
        miss("storage-size-format", json!({"storage": {"size": "500M"}})),
        miss("storage-size-format", json!({"storage": {"size": "1.5Gi"}})).on(Standalone),
        hit("storage-size-quantity", json!({"storage": {"size": "0"}})),
        hit("storage-size-quantity", json!({"storage": {"size": "ten gigs"}})).on(Standalone),
        miss("storage-size-quantity", json!({"storage": {"size": "1"}})),
        hit("storage-retention-enum", json!({"storage": {"retentionPolicy": "Keep"}})),
        miss("storage-retention-enum", json!({"storage": {"retentionPolicy": "Retain"}})),
        // TLS.
        hit("tls-mode-enum", json!({"tls": {"mode": "manual"}})),
        miss("tls-mode-enum", json!({"tls": {"mode": "disabled"}})),
        hit("tls-issuer-ref-required", json!({"tls": {}})),
        miss("tls-issuer-ref-required", cm(json!({}))),
        hit("tls-issuer-name-required", cm(json!({"issuerRef": {"name": ""}}))),
        miss("tls-issuer-name-required", cm(json!({"issuerRef": {"name": "vault-issuer", "kind": "VaultIssuer", "group": "example.com"}}))),
        hit("tls-duration-format", cm(json!({"duration": "90d"}))),
        miss("tls-duration-format", cm(json!({"duration": "2160h"}))),
        miss("tls-duration-format", json!({"tls": {"mode": "disabled", "duration": "90d"}})),
        hit("tls-renew-before-format", cm(json!({"renewBefore": "1 day"}))),
        miss("tls-renew-before-format", cm(json!({"renewBefore": "360h"}))),
        hit("tls-cert-duration-bounds", cm(json!({"duration": "30m"}))),
        hit("tls-cert-duration-bounds", cm(json!({"duration": "-2h"}))),
        hit("tls-cert-duration-bounds", cm(json!({"renewBefore": "-1h"}))),
        hit("tls-cert-duration-bounds", cm(json!({"renewBefore": "3000h"}))),
        hit("tls-cert-duration-bounds", cm(json!({"duration": "24h", "renewBefore": "24h"}))),
        miss("tls-cert-duration-bounds", cm(json!({"duration": "1h", "renewBefore": "30m"}))),
        hit("tls-usage-enum", cm(json!({"usages": ["server auth", "client auth", "Server Auth"]}))),
        miss("tls-usage-enum", json!({"tls": {"mode": "disabled", "usages": ["server auth", "client auth", "Server Auth"]}})),
        hit("tls-usages-required-ekus", cm(json!({"usages": ["server auth"]}))),
        hit("tls-usages-required-ekus", cm(json!({"usages": ["digital signature"]}))).errors(&["tls-usages-required-ekus", "tls-usages-required-ekus"]),
        hit("tls-usages-required-ekus", json!({"tls": {"mode": "disabled", "usages": ["client auth"]}})),
        miss("tls-usages-required-ekus", cm(json!({"usages": []}))),
        miss("tls-usages-required-ekus", cm(json!({"usages": ["client auth", "server auth", "key encipherment"]}))),
        hit("tls-usages-bounds", cm(json!({ "usages": usages(33) }))),
        hit("tls-usages-bounds", json!({"tls": {"mode": "disabled", "usages": ["server auth", "client auth", long(65)]}})),
        miss("tls-usages-bounds", cm(json!({ "usages": usages(32) }))),
        hit("tls-es-store-required", es(json!({"secretStoreRef": null}))).warnings(FNI).on(Cluster),
        miss("tls-es-store-required", es(json!({"secretStoreRef": null}))).warnings(FNI).on(Standalone),
        miss("tls-es-store-required", es(json!({}))).warnings(FNI).on(Cluster),
        hit("tls-es-store-name", es(json!({"secretStoreRef": {"name": ""}}))).warnings(FNI).on(Cluster),
        miss("tls-es-store-name", es(json!({"secretStoreRef": {"name": "vault"}}))).warnings(FNI).on(Cluster),
        hit("tls-es-store-kind", es(json!({"secretStoreRef": {"kind": "Vault"}}))).warnings(FNI).on(Cluster),
        miss("tls-es-store-kind", es(json!({"secretStoreRef": {"kind": "ClusterSecretStore"}}))).warnings(FNI).on(Cluster),
        hit("tls-es-refresh-format", es(json!({"refreshInterval": "1d"}))).warnings(FNI).on(Cluster),
        miss("tls-es-refresh-format", es(json!({"refreshInterval": "0"}))).warnings(FNI).on(Cluster),
        hit("tls-es-data-required", es(json!({"data": []}))).warnings(FNI).on(Cluster),
        miss("tls-es-data-required", cm(json!({"externalSecrets": {"enabled": false}}))).on(Cluster),
        hit("tls-es-secret-key", es(json!({"data": [{"secretKey": ""}]}))).warnings(FNI).on(Cluster),
        miss("tls-es-secret-key", es(json!({"data": [{"secretKey": "ca.crt"}]}))).warnings(FNI).on(Cluster),
        hit("tls-es-remote-key", es(json!({"data": [{"secretKey": "a", "remoteRef": {"key": ""}}]}))).warnings(FNI).on(Cluster),
        miss("tls-es-remote-key", es(json!({"data": [{"secretKey": "a", "remoteRef": {"key": "k", "property": "p"}}]}))).warnings(FNI).on(Cluster),
        // Auth.
        hit("auth-provider-allowed", json!({"auth": {"authenticationProviders": ["native", "kerbros"]}})),
        hit("auth-provider-allowed", json!({"auth": {"authorizationProviders": ["LDAP"]}})),
        miss("auth-provider-allowed", json!({"auth": {"authenticationProviders": ["ldap", "native"]}})),
        hit("auth-provider-neo4j-names", json!({"auth": {"authenticationProviders": ["jwt"]}})),
        hit("auth-provider-neo4j-names", json!({"auth": {"authorizationProviders": ["native", "kerberos"]}})),
        hit("auth-provider-neo4j-names", json!({"auth": {"authenticationProviders": ["plugin-"]}})),
        miss("auth-provider-neo4j-names", json!({"auth": {"authenticationProviders": ["plugin-Neo4jKerberosAuthPlugin", "native"]}})),
        hit("auth-oidc-ref-exists", json!({"auth": {"authenticationProviders": ["oidc-okta", "native"]}})),
        miss("auth-oidc-ref-exists", json!({"auth": {"authenticationProviders": ["oidc-okta"], "authorizationProviders": ["oidc-okta"], "oidc": {"okta": oidc_ok.clone()}}})).warnings(FNI),
        hit("auth-ldap-host-required", ldap(json!({"host": ""}))).warnings(FNI),
        miss("auth-ldap-host-required", ldap(json!({}))).warnings(FNI),
        hit("auth-ldap-system-account", ldap(json!({"authorization": {"useSystemAccount": true}}))).warnings(FNI),
        miss("auth-ldap-system-account", ldap(json!({"authorization": {"useSystemAccount": true, "systemAccountSecretRef": "ldap-system"}}))).warnings(FNI),
        miss("auth-ldap-system-account", ldap(json!({"authorization": {"useSystemAccount": false}}))).warnings(FNI),
        hit("auth-oidc-provider-name", json!({"auth": {"oidc": {"1okta": oidc_ok.clone()}}})).warnings(FNI),
        hit("auth-oidc-provider-name", json!({"auth": {"oidc": {"okta.eu": oidc_ok.clone()}}})).warnings(FNI),
        miss("auth-oidc-provider-name", json!({"auth": {"oidc": {"okta-2": oidc_ok.clone()}}})).warnings(FNI),
        hit("auth-oidc-audience", json!({"auth": {"oidc": {"okta": {"audience": " ", "issuer": "https://idp"}}}})).warnings(FNI),
        miss("auth-oidc-audience", json!({"auth": {"oidc": {"okta": {"audience": "neo4j", "issuer": "https://idp"}}}})).warnings(FNI),
        hit("auth-oidc-endpoints", json!({"auth": {"oidc": {"okta": {"audience": "neo4j"}}}})).warnings(FNI),
        miss("auth-oidc-endpoints", json!({"auth": {"oidc": {"okta": {"audience": "neo4j", "jwksURI": "https://idp/jwks"}}}})).warnings(FNI),
        hit("auth-oidc-auth-flow", json!({"auth": {"oidc": {"okta": {"audience": "a", "issuer": "i", "authFlow": "code"}}}})).warnings(FNI),
        miss("auth-oidc-auth-flow", json!({"auth": {"oidc": {"okta": {"audience": "a", "issuer": "i", "authFlow": "implicit"}}}})).warnings(FNI),
        hit("auth-truststore-name", json!({"auth": {"trustStore": {"name": ""}}})),
        miss("auth-truststore-name", json!({"auth": {"trustStore": {"name": "ldap-ca", "key": "ca.crt"}}})),
        hit("typed-conf-fields-single-line", json!({"auth": {"authCacheTTL": "10m\ndbms.security.auth_enabled=false"}})),
        hit("typed-conf-fields-single-line", ldap(json!({"authorization": {"groupToRoleMapping": {"cn=admins": "admin\r"}}}))).warnings(FNI),
        hit("typed-conf-fields-single-line", json!({"auth": {"oidc": {"okta": {"audience": "a", "issuer": "i", "claims": {"groups": "groups\u{1b}"}}}}})).warnings(FNI),
        hit("typed-conf-fields-single-line", json!({"monitoring": {"metricsPrefix": "neo4j\nx"}})),
        miss("typed-conf-fields-single-line", json!({"auth": {"authCacheTTL": "10m"}, "monitoring": {"metricsFilter": "*bolt*\t"}})),
        // spec.config.
        hit("config-value-control-chars", config("db.transaction.timeout", "10s\ndbms.security.auth_enabled=false")),
        miss("config-value-control-chars", config("db.transaction.timeout", "10s")),
        hit("config-value-controls", config("db.transaction.timeout", "10s\u{7}")),
        miss("config-value-controls", config("server.jvm.additional", "-Dx=a\tb")),
        hit("config-key-charset", config("a=b", "c")),
        hit("config-key-charset", config("dbms.x\nserver.y", "1")),
        miss("config-key-charset", config("dbms.logs.debug-level_x", "1")).errors(&["config-unknown-key"]),
        hit("config-discovery-version", config("dbms.cluster.discovery.version", "V1")).on(Cluster),
        miss("config-discovery-version", config("dbms.cluster.discovery.version", "V2_ONLY")).on(Cluster),
        hit("config-discovery-version-semver-only", json!({"image": {"tag": "2025.01.0"}, "config": {"dbms.cluster.discovery.version": "V2_ONLY"}})).on(Cluster),
        miss("config-discovery-version-semver-only", json!({"image": {"tag": "5.26.3"}, "config": {"dbms.cluster.discovery.version": "V2_ONLY"}})).on(Cluster),
        hit("config-deprecated-key", config("dbms.default_database", "movies")).warning(),
        hit("config-deprecated-key", config("dbms.logs.query.enabled", "true")).errors(&["config-value"]).warnings(&["config-deprecated-key"]),
        hit("config-deprecated-key", config("server.groups", "eu")).warning(),
        hit("config-deprecated-key", config("dbms.allow_upgrade", "true")).warning(),
        miss("config-deprecated-key", config("db.logs.query.enabled", "INFO")),
        miss("config-deprecated-key", config("initial.server.tags", "eu")),
        hit("config-discovery-managed", config("dbms.cluster.endpoints", "a:6000")).on(Cluster),
        miss("config-discovery-managed", config("dbms.kubernetes.label_selector", "a=b")).on(Standalone),
        hit("config-runtime-managed", config("initial.server.mode_constraint", "PRIMARY")).on(Cluster),
        miss("config-runtime-managed", config("server.default_advertised_address", "x")).on(Standalone),
        hit("config-tls-managed", config("dbms.ssl.policy.bolt.enabled", "true")),
        hit("config-tls-managed", config("server.bolt.tls_level", "OPTIONAL")),
        miss("config-tls-managed", config("dbms.ssl.policyx", "1")).errors(&["config-unknown-key"]),
        hit("config-db-format", config("db.format", "block")),
        miss("config-db-format", config("db.format.x", "block")).errors(&["config-unknown-key"]),
        hit("config-azure-blob-suffix", config("dbms.integrations.cloud_storage.azb.blob_endpoint_suffix", "windows")).on(Cluster),
        miss("config-azure-blob-suffix", json!({"image": {"tag": "5.26.4"}, "config": {"dbms.integrations.cloud_storage.azb.blob_endpoint_suffix": "core.windows.net"}})).on(Cluster),
        hit("standalone-config-clustering", config("dbms.cluster.raft.listen_address", "0.0.0.0:7000")).on(Standalone),
        hit("standalone-config-clustering", config("dbms.cluster.discovery.version", "V2_ONLY")).on(Standalone),
        miss("standalone-config-clustering", config("server.cluster.raft.listen_address", "0.0.0.0:7000")).on(Cluster),
        hit("standalone-config-dbms-mode", config("dbms.mode", "SINGLE")).on(Standalone),
        miss("standalone-config-dbms-mode", config("dbms.mode", "SINGLE")).errors(&["config-unknown-key"]).on(Cluster),
        // The settings catalogue.
        hit("config-unknown-key", config("db.transaction.timeot", "10s")),
        hit("config-unknown-key", config("dbms.integrations.cloud_storage.azb.authority_endpoint", "https://login.example.com")),
        hit("config-unknown-key", env("NEO4J_db_transaction_timeot", "10s")),
        miss("config-unknown-key", json!({"image": {"tag": "5.26.4"}, "config": {"dbms.integrations.cloud_storage.azb.authority_endpoint": "https://login.example.com"}})),
        miss("config-unknown-key", config("dbms.ssl.policy.backup.ciphers", "TLS_AES_256_GCM_SHA384")).errors(&["config-tls-managed"]),
        hit("config-removed-key", json!({"image": {"tag": "2025.01.0"}, "config": {"server.groups": "eu"}})),
        hit("config-removed-key", json!({"image": {"tag": "2025.01.0"}, "config": {"dbms.allow_upgrade": "true"}})),
        hit("config-removed-key", json!({"image": {"tag": "2025.10.0"}, "config": {"dbms.memory.heap.max_size": "1g"}})),
        miss("config-removed-key", json!({"image": {"tag": "2025.01.0"}, "config": {"initial.server.tags": "eu"}})),
        hit("config-value", config("db.transaction.timeout", "ten seconds")),
        hit("config-value", config("dbms.max_databases", "1")),
        hit("config-value", config("db.logs.query.enabled", "DEBUG")),
        hit("config-value", env("NEO4J_db_transaction_timeout", "10 s")),
        miss("config-value", config("db.transaction.timeout", "1m30s")),
        miss("config-value", json!({"env": [{"name": "NEO4J_db_transaction_timeout", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]})),
        hit("config-unverified-key", config("internal.dbms.example_switch", "true")).warning(),
        hit("config-unverified-key", json!({"config": {"server.config.strict_validation.enabled": "false", "db.transaction.timeot": "10s"}})).warning(),
        hit("config-unverified-key", json!({"image": {"tag": "2027.01.0"}, "config": {"db.transaction.timeot": "10s"}})).warning(),
        miss("config-unverified-key", json!({"image": {"tag": "2026.07.1"}, "config": {"db.transaction.timeot": "10s"}})).errors(&["config-unknown-key"]),
        hit("config-plugin-key", config("gds.enterprise.license_file", "/licenses/gds")).warning(),
        hit("config-plugin-key", env("NEO4J_dbms_bloom_license__file", "/licenses/bloom")).warning(),
        miss("config-plugin-key", config("apoc.export.file.enabled", "true")),
        hit("config-catalogue-version", json!({"image": {"tag": "latest"}, "config": {"db.transaction.timeout": "10s"}})).errors(&["image-version-supported"]).warnings(&["config-catalogue-version"]),
        miss("config-catalogue-version", json!({"image": {"tag": "latest"}})).errors(&["image-version-supported"]),
        // Env.
        hit("env-no-neo4j-setting-override", env("NEO4J_db_format", "block")),

        hit("env-no-neo4j-setting-override", json!({"env": [{"name": "NEO4J_dbms_ssl_policy_bolt_enabled", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]})),
        hit("env-no-neo4j-setting-override", env("NEO4J_initial_server_mode__constraint", "PRIMARY")).on(Cluster),
        miss("env-no-neo4j-setting-override", env("NEO4J_initial_server_mode__constraint", "PRIMARY")).on(Standalone),
        hit("env-no-neo4j-setting-override", env("NEO4J_dbms_logs_debug_level", "DEBUG\nx=y")),
        miss("env-no-neo4j-setting-override", env("NEO4J_server_jvm_additional", "-Xss2m")),
        miss("env-no-neo4j-setting-override", env("JAVA_OPTS", "-Dneo4j")),
        hit("env-entrypoint-override", env("NEO4J_AUTH", "neo4j/secret")).warning(),
        hit("env-entrypoint-override", env("NEO4J_AUTH", "none")).warning(),
        hit("env-entrypoint-override", env("NEO4J_AUTH_FILE", "/run/secrets/auth")).warning(),
        hit("env-entrypoint-override", env("NEO4J_ACCEPT_LICENSE_AGREEMENT", "yes")).warning(),
        hit("env-entrypoint-override", json!({"acceptLicenseAgreement": "eval", "env": [{"name": "NEO4J_ACCEPT_LICENSE_AGREEMENT", "value": "yes"}]})).warning(),
        hit("env-entrypoint-override", env("NEO4J_PLUGINS", "[\"apoc\"]")).warning(),
        miss("env-entrypoint-override", env("NEO4J_DEBUG", "yes")),
        hit("env-overrides-config", json!({"config": {"db.transaction.timeout": "10s"}, "env": [{"name": "NEO4J_db_transaction_timeout", "value": "20s"}]})).warning(),
        miss("env-overrides-config", json!({"config": {"db.transaction.timeout": "10s"}, "env": [{"name": "NEO4J_db_lock_acquisition_timeout", "value": "20s"}]})),
        // Resources.
        hit("resources-request-le-limit", json!({"resources": {"requests": {"memory": "4Gi"}, "limits": {"memory": "2Gi"}}})),
        hit("resources-request-le-limit", json!({"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1500m"}}})),
        miss("resources-request-le-limit", json!({"resources": {"requests": {"memory": "2Gi", "cpu": "1"}, "limits": {"memory": "2Gi", "cpu": "1000m"}}})),
        hit("resources-quantity-format", json!({"resources": {"limits": {"memory": "lots"}}})),
        miss("resources-quantity-format", json!({"resources": {"limits": {"memory": "2Gi", "nvidia.com/gpu": "1"}}})),
        hit("resources-quantity-positive", json!({"resources": {"limits": {"memory": "-4Gi"}}})),
        hit("resources-quantity-positive", json!({"resources": {"requests": {"cpu": "0"}, "limits": {"memory": "4Gi"}}})),
        hit("resources-quantity-positive", json!({"resources": {"limits": {"ephemeral-storage": "-1"}}})),
        hit("resources-quantity-positive", json!({"mcp": {"resources": {"requests": {"memory": "0"}}}})),
        // Zero is refused for memory and CPU only; other resources may be zero.
        miss("resources-quantity-positive", json!({"resources": {"requests": {"cpu": "1m", "nvidia.com/gpu": "0"}, "limits": {"memory": "4Gi"}}})),
        hit("resources-request-le-limit", json!({"mcp": {"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}})),
        // MCP.
        hit("mcp-transport-enum", mcp(json!({"enabled": true, "transport": "grpc"}))).warnings(FNI),
        miss("mcp-transport-enum", mcp(json!({"enabled": false, "transport": "grpc"}))),
        miss("mcp-transport-enum", mcp(json!({"enabled": true, "transport": "stdio"}))).warnings(FNI),
        hit("mcp-http-port-range", mcp(json!({"enabled": true, "http": {"port": 70000}}))).warnings(FNI),
        miss("mcp-http-port-range", mcp(json!({"enabled": true, "http": {"port": 0}}))).warnings(FNI),
        miss("mcp-http-port-range", mcp(json!({"enabled": true, "transport": "stdio", "http": {"port": -1}}))).warnings(FNI),
        hit("mcp-http-tls-secret", mcp(json!({"enabled": true, "http": {"tls": {"secretName": ""}}}))).warnings(FNI),
        miss("mcp-http-tls-secret", mcp(json!({"enabled": true, "http": {"tls": {"secretName": "mcp-tls"}}}))).warnings(FNI),
        hit("mcp-service-port-range", mcp(json!({"enabled": true, "http": {"service": {"port": -1}}}))).warnings(FNI),
        miss("mcp-service-port-range", mcp(json!({"enabled": true, "http": {"service": {"port": 65535}}}))).warnings(FNI),
        hit("mcp-auth-secret", mcp(json!({"enabled": true, "transport": "stdio", "auth": {}}))).warnings(FNI),
        miss("mcp-auth-secret", mcp(json!({"enabled": true, "transport": "stdio", "auth": {"secretName": "mcp"}}))).warnings(FNI),
        hit("mcp-crd-bounds", mcp(json!({"schemaSampleSize": -2}))),
        hit("mcp-crd-bounds", mcp(json!({"logLevel": "trace", "logFormat": "xml"}))).errors(&["mcp-crd-bounds", "mcp-crd-bounds"]),
        hit("mcp-crd-bounds", mcp(json!({"http": {"service": {"type": "Ingress", "externalTrafficPolicy": "Local"}}}))),
        miss("mcp-crd-bounds", mcp(json!({"schemaSampleSize": -1, "logLevel": "notice", "logFormat": "json"}))),
        // Aura Fleet Management.
        hit("fleet-token-secret-name", fleet(json!({"tokenSecretRef": {"name": ""}}))),
        miss("fleet-token-secret-name", fleet(json!({"enabled": true, "tokenSecretRef": {"name": "fleet-token"}}))).warnings(FNI),
        hit("fleet-provision-xor-token", fleet(json!({"tokenSecretRef": {"name": "t"}, "provision": {"providerConfigRef": {"name": "aura"}}}))),
        miss("fleet-provision-xor-token", fleet(json!({"provision": {"providerConfigRef": {"name": "aura"}}}))),
        hit("fleet-provider-config-name", fleet(json!({"enabled": true, "provision": {"providerConfigRef": {"name": ""}}}))).errors(&["fleet-provider-config-name", "fleet-org-project-required", "fleet-org-project-required"]).warnings(FNI),
        miss("fleet-provider-config-name", fleet(json!({"provision": {"providerConfigRef": {"name": ""}}}))),
        hit("fleet-credentials-secret-name", fleet(json!({"provision": {"credentialsSecretRef": {"name": ""}}}))),
        miss("fleet-credentials-secret-name", fleet(json!({"provision": {"credentialsSecretRef": {"name": "aura-api"}}}))),
        hit("fleet-credentials-exactly-one", fleet(json!({"provision": {"organizationId": "o"}}))),
        hit("fleet-credentials-exactly-one", fleet(json!({"provision": {"providerConfigRef": {"name": "aura"}, "credentialsSecretRef": {"name": "c"}}}))),
        miss("fleet-credentials-exactly-one", fleet(json!({"provision": {"credentialsSecretRef": {"name": "c"}}}))),
        hit("fleet-deployment-name-length", fleet(json!({"provision": {"providerConfigRef": {"name": "aura"}, "deploymentName": long(31)}}))),
        miss("fleet-deployment-name-length", fleet(json!({"provision": {"providerConfigRef": {"name": "aura"}, "deploymentName": long(30)}}))),
        hit("fleet-org-project-required", fleet(json!({"enabled": true, "provision": {"credentialsSecretRef": {"name": "c"}, "organizationId": "o"}}))).warnings(FNI),
        miss("fleet-org-project-required", fleet(json!({"enabled": true, "provision": {"credentialsSecretRef": {"name": "c"}, "organizationId": "o", "projectId": "p"}}))).warnings(FNI),
        miss("fleet-org-project-required", fleet(json!({"enabled": true, "provision": {"providerConfigRef": {"name": "aura"}}}))).warnings(FNI),
        hit("fleet-crd-enums", fleet(json!({"provision": {"providerConfigRef": {"name": "aura"}, "tokenPolicy": "Never"}}))),
        hit("fleet-crd-enums", fleet(json!({"provision": {"providerConfigRef": {"name": "aura"}, "managementPolicies": ["Observe", "Update"]}}))),
        miss("fleet-crd-enums", fleet(json!({"provision": {"providerConfigRef": {"name": "aura"}, "tokenPolicy": "Rotate", "deletionPolicy": "Delete", "managementPolicies": ["Observe", "Create"]}}))),
        // Trusted CAs, extra volumes and mounts.
        hit("trusted-ca-name-required", json!({"trustedCASecrets": [{"name": ""}]})),
        miss("trusted-ca-name-required", json!({"trustedCASecrets": [{"name": "corp-ca", "key": "ca.pem"}]})),
        hit("trusted-ca-name-unique", json!({"trustedCASecrets": [{"name": "a"}, {"name": "b"}, {"name": "a"}]})),
        miss("trusted-ca-name-unique", json!({"trustedCASecrets": [{"name": "a"}, {"name": "b"}]})),
        hit("extra-volume-name-required", json!({"extraVolumes": [{"name": "", "emptyDir": {}}]})),
        miss("extra-volume-name-required", json!({"extraVolumes": [{"name": "scratch", "emptyDir": {}}]})),
        hit("extra-volume-name-unique", json!({"extraVolumes": [{"name": "x", "emptyDir": {}}, {"name": "x", "emptyDir": {}}]})),
        miss("extra-volume-name-unique", json!({"extraVolumes": [{"name": "x", "emptyDir": {}}, {"name": "y", "emptyDir": {}}]})),
        hit("extra-volume-name-reserved", json!({"extraVolumes": [{"name": "plugins", "emptyDir": {}}, {"name": "trusted-ca-x", "emptyDir": {}}]})).errors(&["extra-volume-name-reserved", "extra-volume-name-reserved"]),
        miss("extra-volume-name-reserved", json!({"extraVolumes": [{"name": "my-plugins", "emptyDir": {}}]})),
        hit("extra-mount-name-required", json!({"extraVolumeMounts": [{"name": "", "mountPath": "/extra"}]})),
        miss("extra-mount-name-required", mount("/extra")),
        hit("extra-mount-path-required", mount("")),
        miss("extra-mount-path-required", mount("/import")),
        hit("extra-mount-path-reserved", mount("/data/")),
        hit("extra-mount-path-reserved", mount("/var/lib/neo4j/certificates")),
        miss("extra-mount-path-reserved", mount("/data2")),
        hit("extra-mount-path-normalized", mount("//data")),
        hit("extra-mount-path-normalized", mount("/ssl/extra")),
        hit("extra-mount-path-normalized", mount("/var/lib/./neo4j/x/../conf")),
        hit("extra-mount-path-normalized", mount("/var/lib")),
        hit("extra-mount-path-normalized", mount("/")),
        miss("extra-mount-path-normalized", mount("/var/lib/neo4j/import")),
        miss("extra-mount-path-normalized", mount("/datastore/x")),
        hit("extra-mount-path-unique", json!({"extraVolumeMounts": [{"name": "a", "mountPath": "/x"}, {"name": "b", "mountPath": "/x/"}]})),
        miss("extra-mount-path-unique", json!({"extraVolumeMounts": [{"name": "a", "mountPath": "/x"}, {"name": "a", "mountPath": "/y"}]})),
        // Service, monitoring, upgrade strategy (its rules run on create too).
        hit("crd-service-enums", json!({"service": {"type": "Ingress"}})),
        hit("crd-service-enums", json!({"service": {"externalTrafficPolicy": "Global"}})),
        hit("crd-service-enums", json!({"service": {"route": {"tls": {"termination": "none", "insecureEdgeTerminationPolicy": "Deny"}}}})).errors(&["crd-service-enums", "crd-service-enums"]),
        miss("crd-service-enums", json!({"service": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "route": {"tls": {"termination": "edge"}}}})),
        hit("crd-monitoring", json!({"monitoring": {"queryLogLevel": "DEBUG"}})),
        hit("crd-monitoring", json!({"monitoring": {"sampling": {"rate": "1.5"}}})),
        miss("crd-monitoring", json!({"monitoring": {"queryLogLevel": "VERBOSE", "sampling": {"rate": "0.25"}}})),
        hit("upgrade-strategy-enum", json!({"upgradeStrategy": {"strategy": "BlueGreen"}})),
        miss("upgrade-strategy-enum", json!({"upgradeStrategy": {"strategy": "Recreate"}})).warnings(FNI),
        hit("upgrade-strategy-durations", json!({"upgradeStrategy": {"upgradeTimeout": "1d", "stabilizationTimeout": "x"}})).errors(&["upgrade-strategy-durations", "upgrade-strategy-durations"]),
        miss("upgrade-strategy-durations", json!({"upgradeStrategy": {"upgradeTimeout": "45m", "healthCheckTimeout": "90s"}})),
        hit("upgrade-max-unavailable", json!({"upgradeStrategy": {"maxUnavailableDuringUpgrade": -1}})),
        miss("upgrade-max-unavailable", json!({"upgradeStrategy": {"maxUnavailableDuringUpgrade": 0}})),
        // field-not-implemented.
        hit("field-not-implemented", json!({"networkPolicy": {"enabled": true}})).warning(),
        hit("field-not-implemented", json!({"audit": {"enabled": true}})).warning(),
        hit("field-not-implemented", json!({"upgradeStrategy": {"strategy": "Recreate"}})).warning(),
        miss("field-not-implemented", json!({"upgradeStrategy": {"strategy": "RollingUpgrade"}})),
        hit("field-not-implemented", json!({"service": {"ingress": {"enabled": true, "host": "neo4j.example.com"}, "route": {"enabled": true, "host": "neo4j.apps.example.com"}}})).warning().warnings(&["field-not-implemented", "field-not-implemented"]),
        hit("field-not-implemented", json!({"auth": {"externalSecrets": {"enabled": true}}})).warning(),
        miss("field-not-implemented", json!({"networkPolicy": {"enabled": false}, "audit": {"enabled": false}, "mcp": {"enabled": false}, "auth": {"oidc": {}}, "service": {"ingress": {"enabled": false}}})),
    ]
}

/// Every shared rule id with its own row(s) in [`cases`].

#[test]
fn shared_rules_table() {
    run_instances(&cases(), &crate::catalog::coverage::shared());
}

/// `route-generated-host-fits`, checked in `cross` because it needs the namespace.
#[test]
fn route_host_must_fit_a_dns_label_when_generated() {
    let route = |host: Value| json!({"service": {"route": {"enabled": true, "host": host}}});
    let mcp_route =
        json!({"mcp": {"enabled": true, "http": {"service": {"route": {"enabled": true}}}}});
    // `graph-client-route` is 18 characters, `graph-route` 11, `graph-mcp-route` 15.
    let cases: Vec<(On, Value, usize, &[&str])> = vec![
        (
            On::Cluster,
            route(Value::Null),
            45,
            &["route-generated-host-fits"],
        ),
        (On::Cluster, route(Value::Null), 44, &[]),
        (On::Cluster, route(json!("neo4j.apps.example.com")), 60, &[]),
        (
            On::Standalone,
            route(Value::Null),
            52,
            &["route-generated-host-fits"],
        ),
        (On::Standalone, route(Value::Null), 51, &[]),
        (
            On::Both,
            mcp_route.clone(),
            48,
            &["route-generated-host-fits"],
        ),
        (On::Both, mcp_route, 47, &[]),
    ];
    // The catalogue's cross-object rules of both kinds: each needs a hit and a near miss here
    // (`name-fqdn-length` in `dns_names_must_fit_in_the_cluster_domain`).
    for rule in crate::catalog::coverage::shared_cross()
        .into_iter()
        .filter(|r| *r != "name-fqdn-length")
    {
        assert!(
            cases.iter().any(|(.., want)| want.contains(&rule)),
            "no case where {rule} fires"
        );
        assert!(
            cases.iter().any(|(.., want)| !want.contains(&rule)),
            "no near miss for {rule}"
        );
    }
    for (on, patch, ns_len, want) in cases {
        let ns = "n".repeat(ns_len);
        if on != On::Standalone {
            let v = validate::cluster::cross(&cluster_with(patch.clone()), &ns, &NoInventory);
            assert_eq!(
                v.error_rules(),
                want.to_vec(),
                "cluster {patch} in a {ns_len}-char namespace"
            );
        }
        if on != On::Cluster {
            let v = validate::standalone::cross(&standalone_with(patch.clone()), &ns, &NoInventory);
            assert_eq!(
                v.error_rules(),
                want.to_vec(),
                "standalone {patch} in a {ns_len}-char namespace"
            );
        }
    }
}

/// `name-fqdn-length`: the names the operator derives must be DNS names in the cluster's domain.
#[test]
fn dns_names_must_fit_in_the_cluster_domain() {
    use crate::inventory::InDomain;
    let long = format!("{}.example", "d".repeat(180));
    let short = "cluster.local";
    let ns = "n".repeat(63);
    let cluster = cluster_with(json!({"topology": {"servers": 12}}));
    let solo = standalone_with(json!({}));
    for (domain, want) in [(long.as_str(), vec!["name-fqdn-length"]), (short, vec![])] {
        let inv = InDomain {
            inner: &NoInventory,
            domain,
        };
        assert_eq!(
            validate::cluster::cross(&cluster, &ns, &inv).error_rules(),
            want,
            "{domain}"
        );
        assert_eq!(
            validate::standalone::cross(&solo, &ns, &inv).error_rules(),
            want,
            "{domain}"
        );
    }
    // The last server's name is the longest: index 11 has one more digit than index 9.
    let edge = |servers: i32| {
        let c = cluster_with(json!({"topology": {"servers": servers}}));
        // graph-server-N.graph-headless.<ns>.svc.<domain>: fill the domain up to 253 for N < 10.
        let fixed = "graph-server-0.graph-headless.db.svc.".len();
        let domain = format!("{}.x", "d".repeat(253 - fixed - 2));
        let inv = InDomain {
            inner: &NoInventory,
            domain: &domain,
        };
        validate::cluster::cross(&c, "db", &inv).error_rules()
    };
    assert_eq!(edge(10), Vec::<&str>::new());
    assert_eq!(edge(11), vec!["name-fqdn-length"]);
    let c = crate::catalog::coverage::shared_cross();
    assert!(c.contains(&"name-fqdn-length"), "{c:?}");
}

#[test]
fn mount_paths_normalize() {
    for (raw, want) in [
        ("//data", "/data"),
        ("/a/./b/../c/", "/a/c"),
        ("relative/x", "/relative/x"),
        ("/..", "/"),
        ("", "/"),
    ] {
        assert_eq!(normalize_mount_path(raw), want, "{raw}");
    }
}

#[test]
fn messages_name_the_value_and_paths_use_brackets() {
    let c = cluster_with(
        json!({"config": {"db.format": "block"}, "extraVolumes": [{"name": "x"}, {"name": "x"}]}),
    );
    let v = validate::cluster::create(&c);
    let fields: Vec<_> = v.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        ["spec.config[db.format]", "spec.extraVolumes[1].name"]
    );
    assert!(
        v.errors[1].message.contains("already used at index 0"),
        "{}",
        v.errors[1].message
    );
}
