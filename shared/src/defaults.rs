//! Defaults per kind (`docs/design.md`, Admission), as pure idempotent functions.
//! The mutating webhook returns their effect as a JSON patch, so the stored object carries every
//! default; the controller re-applies them in memory for objects stored before the webhook.
//!
//! CRD `default` markers apply only inside a present parent object; they are repeated here so
//! the offline checker and the controller see what the API server would store.

use crate::types::*;

/// Sets `slot` to `value` when it holds nothing.
fn or_set<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// Sets a string to `value` when it is absent or empty (the reference treats both as unset).
fn or_set_str(slot: &mut Option<String>, value: &str) {
    if slot.as_deref().is_none_or(str::is_empty) {
        *slot = Some(value.to_string());
    }
}

/// An image the manifest leaves out stays left out, so the webhook can say it is missing.
fn image(i: &mut ImageSpec) {
    if !i.is_unset() {
        or_set_str(&mut i.pull_policy, "IfNotPresent");
    }
}

/// Retain unless the user asks for Delete: deleting the object keeps its volumes and data (the
/// reference defaults to Delete; Kubernetes' StatefulSets and Neo4j's Helm chart keep them).
/// Storage the manifest leaves out stays left out, so the webhook can say it is missing.
fn storage(s: &mut StorageSpec) {
    if !s.is_unset() {
        or_set_str(&mut s.retention_policy, "Retain");
    }
}

/// The provider a storage location of type `s3`, `gcs` or `azure` can only have, when the
/// manifest gives none (the reference's examples leave it out; its validator requires it).
fn storage_location(l: &mut StorageLocation) {
    let provider = match l.type_.as_str() {
        "s3" => "aws",
        "gcs" => "gcp",
        "azure" => "azure",
        _ => return,
    };
    or_set_str(
        &mut l.cloud.get_or_insert_with(Default::default).provider,
        provider,
    );
}

fn external_secrets(e: &mut ExternalSecretsConfig) {
    or_set(&mut e.enabled, false);
    or_set(&mut e.refresh_interval, "1h".to_string());
    if let Some(store) = e.secret_store_ref.as_mut() {
        or_set(&mut store.kind, "SecretStore".to_string());
    }
}

/// `tls` present: the CRD defaults. `mode` absent means cert-manager (the CRD default the
/// API server applies); an explicit empty mode means disabled (the reference's ApplyDefaults).
fn tls(t: &mut TLSSpec) {
    match t.mode.as_deref() {
        None => t.mode = Some("cert-manager".into()),
        Some("") => t.mode = Some("disabled".into()),
        Some(_) => {}
    }
    or_set(&mut t.strict_peer_validation, true);
    if let Some(issuer) = t.issuer_ref.as_mut() {
        or_set(&mut issuer.kind, "ClusterIssuer".to_string());
    }
    if let Some(e) = t.external_secrets.as_mut() {
        external_secrets(e);
    }
}

fn auth(a: &mut AuthSpec) {
    // Each list independently (the reference overwrote authorization when authentication was
    // empty, discarding what the user wrote).
    for list in [
        &mut a.authentication_providers,
        &mut a.authorization_providers,
    ] {
        if list.as_ref().is_none_or(Vec::is_empty) {
            *list = Some(vec!["native".to_string()]);
        }
    }
    if let Some(e) = a.external_secrets.as_mut() {
        external_secrets(e);
    }
    for provider in a.oidc.iter_mut().flat_map(|m| m.values_mut()) {
        or_set_str(&mut provider.auth_flow, "pkce");
    }
}

fn service(s: &mut ServiceSpec) {
    or_set_str(&mut s.type_, "ClusterIP");
}

fn monitoring(m: &mut MonitoringSpec) {
    or_set(&mut m.enabled, true);
    or_set(&mut m.slow_query_threshold, "5s".to_string());
    or_set(&mut m.explain_plan, false);
    or_set(&mut m.query_log_level, "INFO".to_string());
    or_set(&mut m.obfuscate_literals, false);
}

fn upgrade_strategy(u: &mut UpgradeStrategySpec) {
    or_set_str(&mut u.strategy, "RollingUpgrade");
    or_set(&mut u.pre_upgrade_health_check, true);
    or_set(&mut u.max_unavailable_during_upgrade, 1);
    or_set(&mut u.upgrade_timeout, "30m".to_string());
    or_set(&mut u.post_upgrade_health_check, true);
    or_set(&mut u.health_check_timeout, "5m".to_string());
    or_set(&mut u.stabilization_timeout, "3m".to_string());
    or_set(&mut u.auto_pause_on_failure, true);
}

fn mcp(m: &mut MCPServerSpec) {
    or_set(&mut m.enabled, false);
    or_set(&mut m.transport, "http".to_string());
    or_set(&mut m.read_only, true);
    if let Some(http) = m.http.as_mut() {
        if let Some(tls) = http.tls.as_mut() {
            or_set(&mut tls.cert_key, "tls.crt".to_string());
            or_set(&mut tls.key_key, "tls.key".to_string());
        }
        if let Some(svc) = http.service.as_mut() {
            or_set(&mut svc.type_, "ClusterIP".to_string());
        }
    }
    if let Some(a) = m.auth.as_mut() {
        or_set(&mut a.username_key, "username".to_string());
        or_set(&mut a.password_key, "password".to_string());
    }
}

fn fleet(f: &mut AuraFleetManagementSpec) {
    or_set(&mut f.enabled, false);
    if let Some(p) = f.provision.as_mut() {
        or_set(&mut p.token_policy, "CreateIfMissing".to_string());
        or_set(&mut p.deletion_policy, "Orphan".to_string());
        or_set(&mut p.management_policies, vec!["*".to_string()]);
        or_set(&mut p.collect_telemetry, false);
        if let Some(c) = p.credentials_secret_ref.as_mut() {
            or_set(&mut c.client_id_key, "clientId".to_string());
            or_set(&mut c.client_secret_key, "clientSecret".to_string());
        }
    }
}

/// Defaults of a Neo4jEnterpriseCluster.
pub fn cluster(spec: &mut Neo4jEnterpriseClusterSpec) {
    image(&mut spec.image);
    storage(&mut spec.storage);
    or_set_str(&mut spec.topology.server_mode_constraint, "NONE");
    // No `tls` block means no TLS: the reference never enables it implicitly.
    tls(spec.tls.get_or_insert_with(|| TLSSpec {
        mode: Some("disabled".into()),
        ..Default::default()
    }));
    auth(spec.auth.get_or_insert_with(Default::default));
    service(spec.service.get_or_insert_with(Default::default));
    if let Some(m) = spec.monitoring.as_mut() {
        monitoring(m);
    }
    if let Some(u) = spec.upgrade_strategy.as_mut() {
        upgrade_strategy(u);
    }
    if let Some(p) = spec.property_sharding.as_mut() {
        or_set(&mut p.enabled, false);
    }
    if let Some(m) = spec.mcp.as_mut() {
        mcp(m);
    }
    if let Some(f) = spec.aura_fleet_management.as_mut() {
        fleet(f);
    }
}

/// Defaults of a Neo4jEnterpriseStandalone: the CRD's (the reference applies no in-memory
/// defaults to standalones).
pub fn standalone(spec: &mut Neo4jEnterpriseStandaloneSpec) {
    image(&mut spec.image);
    storage(&mut spec.storage);
    if let Some(t) = spec.tls.as_mut() {
        tls(t);
    }
    if let Some(a) = spec.auth.as_mut() {
        if let Some(e) = a.external_secrets.as_mut() {
            external_secrets(e);
        }
        for provider in a.oidc.iter_mut().flat_map(|m| m.values_mut()) {
            or_set_str(&mut provider.auth_flow, "pkce");
        }
    }
    if let Some(s) = spec.service.as_mut() {
        service(s);
    }
    if let Some(m) = spec.monitoring.as_mut() {
        monitoring(m);
    }
    if let Some(u) = spec.upgrade_strategy.as_mut() {
        upgrade_strategy(u);
    }
    if let Some(m) = spec.mcp.as_mut() {
        mcp(m);
    }
    if let Some(f) = spec.aura_fleet_management.as_mut() {
        fleet(f);
    }
}

/// Defaults of a Neo4jBackup.
pub fn backup(spec: &mut Neo4jBackupSpec) {
    or_set_str(&mut spec.mode, "standard");
    if let Some(o) = spec.options.as_mut() {
        or_set(&mut o.compress, true);
        or_set_str(&mut o.backup_type, "AUTO");
    }
    if let Some(r) = spec.retention.as_mut() {
        or_set_str(&mut r.delete_policy, "Delete");
    }
    if let Some(l) = spec.storage.as_mut() {
        storage_location(l);
    }
}

/// Defaults of a Neo4jRestore.
pub fn restore(spec: &mut Neo4jRestoreSpec) {
    // How long a cluster restore waits for every server to bring the database online.
    or_set_str(&mut spec.timeout, "5m");
    if let Some(source) = spec.source.as_mut() {
        if let Some(l) = source.storage.as_mut() {
            storage_location(l);
        }
        if let Some(pitr) = source.pitr.as_mut() {
            if let Some(l) = pitr.log_storage.as_mut() {
                storage_location(l);
            }
            if let Some(l) = pitr.base_backup.as_mut().and_then(|b| b.storage.as_mut()) {
                storage_location(l);
            }
        }
    }
}

/// Defaults of a Neo4jDatabase.
pub fn database(spec: &mut Neo4jDatabaseSpec) {
    // Written explicitly so an explicit `false` is never confused with "unset".
    or_set(&mut spec.wait, true);
    or_set(&mut spec.if_not_exists, true);
    // Deleting the resource keeps the data unless the user asks for a drop.
    or_set_str(&mut spec.deletion_policy, "Retain");
    if let Some(l) = spec.initial_data.as_mut().and_then(|d| d.storage.as_mut()) {
        storage_location(l);
    }
}

/// Defaults of a Neo4jPlugin.
pub fn plugin(spec: &mut Neo4jPluginSpec) {
    or_set(&mut spec.enabled, true);
    or_set_str(&mut spec.install_mode, "Managed");
    if let Some(s) = spec.source.as_mut() {
        or_set_str(&mut s.r#type, "official");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Runs `apply` on the spec decoded from `spec` and returns the defaulted spec as JSON.
    fn defaulted<T: serde::de::DeserializeOwned + serde::Serialize>(
        spec: Value,
        apply: fn(&mut T),
    ) -> Value {
        let mut typed: T = serde_json::from_value(spec).unwrap_or_else(|e| panic!("{e}"));
        apply(&mut typed);
        serde_json::to_value(typed).unwrap_or_default()
    }

    fn cluster_spec(extra: Value) -> Value {
        let mut spec = json!({"image": {"repo": "neo4j", "tag": "5.26.0"}, "topology": {"servers": 3}, "storage": {"size": "1Gi"}});
        if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        spec
    }

    /// (input spec, JSON pointer into the defaulted spec, value before → value after).
    fn check_table<T: serde::de::DeserializeOwned + serde::Serialize>(
        cases: &[(Value, &str, Value)],
        apply: fn(&mut T),
    ) {
        for (spec, pointer, want) in cases {
            let before = spec.pointer(pointer).cloned();
            let after = defaulted::<T>(spec.clone(), apply);
            assert_eq!(
                after.pointer(pointer),
                Some(want),
                "{pointer}: before {before:?}, spec {spec}"
            );
            // Idempotent: a second pass changes nothing.
            assert_eq!(
                defaulted::<T>(after.clone(), apply),
                after,
                "{pointer}: not idempotent"
            );
        }
    }

    #[test]
    fn cluster_defaults_table() {
        let c = cluster_spec;
        check_table::<Neo4jEnterpriseClusterSpec>(
            &[
                (c(json!({})), "/image/pullPolicy", json!("IfNotPresent")),
                // Retain unless Delete is asked for (deleting the object keeps the data).
                (c(json!({})), "/storage/retentionPolicy", json!("Retain")),
                (
                    c(json!({"storage": {"size": "1Gi", "retentionPolicy": "Delete"}})),
                    "/storage/retentionPolicy",
                    json!("Delete"),
                ),
                (
                    c(json!({})),
                    "/topology/serverModeConstraint",
                    json!("NONE"),
                ),
                (
                    c(json!({})),
                    "/tls",
                    json!({"mode": "disabled", "strictPeerValidation": true}),
                ),
                (c(json!({"tls": {}})), "/tls/mode", json!("cert-manager")),
                (
                    c(json!({"tls": {"mode": ""}})),
                    "/tls/mode",
                    json!("disabled"),
                ),
                (
                    c(json!({"tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}}})),
                    "/tls/issuerRef/kind",
                    json!("ClusterIssuer"),
                ),
                (
                    c(json!({"tls": {"externalSecrets": {"secretStoreRef": {"name": "s"}}}})),
                    "/tls/externalSecrets",
                    json!({"enabled": false, "refreshInterval": "1h", "secretStoreRef": {"name": "s", "kind": "SecretStore"}}),
                ),
                (
                    c(json!({})),
                    "/auth",
                    json!({"authenticationProviders": ["native"], "authorizationProviders": ["native"]}),
                ),
                (
                    c(
                        json!({"auth": {"authenticationProviders": [], "authorizationProviders": ["ldap"]}}),
                    ),
                    "/auth/authorizationProviders",
                    json!(["ldap"]),
                ),
                (
                    c(json!({"auth": {"oidc": {"corp": {"audience": "a"}}}})),
                    "/auth/oidc/corp/authFlow",
                    json!("pkce"),
                ),
                (c(json!({})), "/service/type", json!("ClusterIP")),
                (
                    c(json!({"service": {"type": "LoadBalancer"}})),
                    "/service/type",
                    json!("LoadBalancer"),
                ),
                (
                    c(json!({"monitoring": {}})),
                    "/monitoring",
                    json!({"enabled": true, "slowQueryThreshold": "5s", "explainPlan": false, "queryLogLevel": "INFO", "obfuscateLiterals": false}),
                ),
                (
                    c(json!({"monitoring": {"enabled": false}})),
                    "/monitoring/enabled",
                    json!(false),
                ),
                (
                    c(json!({"upgradeStrategy": {}})),
                    "/upgradeStrategy",
                    json!({"strategy": "RollingUpgrade", "preUpgradeHealthCheck": true, "maxUnavailableDuringUpgrade": 1, "upgradeTimeout": "30m", "postUpgradeHealthCheck": true, "healthCheckTimeout": "5m", "stabilizationTimeout": "3m", "autoPauseOnFailure": true}),
                ),
                (
                    c(json!({"upgradeStrategy": {"postUpgradeHealthCheck": false}})),
                    "/upgradeStrategy/postUpgradeHealthCheck",
                    json!(false),
                ),
                (
                    c(json!({"propertySharding": {}})),
                    "/propertySharding/enabled",
                    json!(false),
                ),
                (
                    c(
                        json!({"mcp": {"http": {"tls": {"secretName": "t"}, "service": {}}, "auth": {}}}),
                    ),
                    "/mcp",
                    json!({"enabled": false, "transport": "http", "readOnly": true,
                    "http": {"tls": {"secretName": "t", "certKey": "tls.crt", "keyKey": "tls.key"}, "service": {"type": "ClusterIP"}}, "auth": {"usernameKey": "username", "passwordKey": "password"}}),
                ),
                (
                    c(
                        json!({"auraFleetManagement": {"provision": {"credentialsSecretRef": {"name": "c"}}}}),
                    ),
                    "/auraFleetManagement",
                    json!({"enabled": false, "provision": {
                    "credentialsSecretRef": {"name": "c", "clientIdKey": "clientId", "clientSecretKey": "clientSecret"},
                    "tokenPolicy": "CreateIfMissing", "deletionPolicy": "Orphan", "managementPolicies": ["*"], "collectTelemetry": false}}),
                ),
            ],
            cluster,
        );
        // A missing image or storage stays missing, so the webhook can say so (image-required,
        // storage-required) instead of finding empty defaults.
        let bare =
            defaulted::<Neo4jEnterpriseClusterSpec>(json!({"topology": {"servers": 3}}), cluster);
        assert_eq!(bare.pointer("/image"), None, "{bare}");
        assert_eq!(bare.pointer("/storage"), None, "{bare}");
    }

    #[test]
    fn standalone_defaults_table() {
        let s = |extra: Value| {
            let mut v = cluster_spec(extra);
            v.as_object_mut().map(|m| m.remove("topology"));
            v
        };
        check_table::<Neo4jEnterpriseStandaloneSpec>(
            &[
                (s(json!({})), "/image/pullPolicy", json!("IfNotPresent")),
                (s(json!({})), "/storage/retentionPolicy", json!("Retain")),
                (
                    s(json!({"storage": {"size": "1Gi", "retentionPolicy": "Delete"}})),
                    "/storage/retentionPolicy",
                    json!("Delete"),
                ),
                (s(json!({"tls": {}})), "/tls/mode", json!("cert-manager")),
                (
                    s(json!({"service": {}})),
                    "/service/type",
                    json!("ClusterIP"),
                ),
                (
                    s(json!({"monitoring": {"enabled": false}})),
                    "/monitoring/queryLogLevel",
                    json!("INFO"),
                ),
            ],
            standalone,
        );
        // The reference applies no in-memory defaults to standalones: nothing is invented.
        let after = defaulted::<Neo4jEnterpriseStandaloneSpec>(s(json!({})), standalone);
        for absent in ["/tls", "/auth", "/service"] {
            assert_eq!(after.pointer(absent), None, "{absent}");
        }
    }

    #[test]
    fn operations_defaults_table() {
        let storage = json!({"type": "pvc", "pvc": {"name": "p"}});
        check_table::<Neo4jBackupSpec>(
            &[
                (json!({"storage": storage}), "/mode", json!("standard")),
                (
                    json!({"storage": storage, "options": {}}),
                    "/options",
                    json!({"compress": true, "backupType": "AUTO"}),
                ),
                (
                    json!({"storage": storage, "options": {"compress": false}}),
                    "/options/compress",
                    json!(false),
                ),
                (
                    json!({"storage": storage, "retention": {"maxCount": 3}}),
                    "/retention/deletePolicy",
                    json!("Delete"),
                ),
                // A bucket type names its one provider; the reference's examples leave it out.
                (
                    json!({"storage": {"type": "s3", "bucket": "b"}}),
                    "/storage/cloud/provider",
                    json!("aws"),
                ),
                (
                    json!({"storage": {"type": "gcs", "bucket": "b", "cloud": {"credentialsSecretRef": "c"}}}),
                    "/storage/cloud",
                    json!({"provider": "gcp", "credentialsSecretRef": "c"}),
                ),
                (
                    json!({"storage": {"type": "azure", "bucket": "b"}}),
                    "/storage/cloud/provider",
                    json!("azure"),
                ),
                // Near misses: a provider given is kept (a contradiction is the validator's), and
                // a PVC gets no cloud block.
                (
                    json!({"storage": {"type": "s3", "bucket": "b", "cloud": {"provider": "gcp"}}}),
                    "/storage/cloud/provider",
                    json!("gcp"),
                ),
                (json!({"storage": storage}), "/storage", storage.clone()),
            ],
            backup,
        );
        check_table::<Neo4jRestoreSpec>(
            &[
                (
                    json!({"source": {"type": "backup"}}),
                    "/timeout",
                    json!("5m"),
                ),
                (
                    json!({"source": {"type": "storage", "storage": {"type": "s3", "bucket": "b"}}}),
                    "/source/storage/cloud/provider",
                    json!("aws"),
                ),
                (
                    json!({"source": {"type": "pitr", "pitr": {"logStorage": {"type": "gcs", "bucket": "l"}, "baseBackup": {"type": "storage", "storage": {"type": "azure", "bucket": "b"}}}}}),
                    "/source/pitr",
                    json!({"logStorage": {"type": "gcs", "bucket": "l", "cloud": {"provider": "gcp"}}, "baseBackup": {"type": "storage", "storage": {"type": "azure", "bucket": "b", "cloud": {"provider": "azure"}}}}),
                ),
            ],
            restore,
        );
        check_table::<Neo4jDatabaseSpec>(
            &[
                (
                    json!({"clusterRef": "c", "name": "d"}),
                    "/wait",
                    json!(true),
                ),
                (
                    json!({"clusterRef": "c", "name": "d"}),
                    "/ifNotExists",
                    json!(true),
                ),
                (
                    json!({"clusterRef": "c", "name": "d", "wait": false}),
                    "/wait",
                    json!(false),
                ),
                (
                    json!({"clusterRef": "c", "name": "d"}),
                    "/deletionPolicy",
                    json!("Retain"),
                ),
                (
                    json!({"clusterRef": "c", "name": "d", "deletionPolicy": "Drop"}),
                    "/deletionPolicy",
                    json!("Drop"),
                ),
                (
                    json!({"clusterRef": "c", "name": "d", "initialData": {"source": "dump", "storage": {"type": "s3", "bucket": "b"}}}),
                    "/initialData/storage/cloud/provider",
                    json!("aws"),
                ),
            ],
            database,
        );
        check_table::<Neo4jPluginSpec>(
            &[
                (
                    json!({"clusterRef": "c", "name": "apoc", "version": "5.26.0"}),
                    "/enabled",
                    json!(true),
                ),
                (
                    json!({"clusterRef": "c", "name": "apoc", "version": "5.26.0"}),
                    "/installMode",
                    json!("Managed"),
                ),
                (
                    json!({"clusterRef": "c", "name": "apoc", "version": "5.26.0", "source": {}}),
                    "/source/type",
                    json!("official"),
                ),
                (
                    json!({"clusterRef": "c", "name": "apoc", "version": "5.26.0", "enabled": false}),
                    "/enabled",
                    json!(false),
                ),
            ],
            plugin,
        );
    }
}
