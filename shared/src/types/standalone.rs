//! `Neo4jEnterpriseStandalone`: a single-server Neo4j Enterprise deployment, and its status
//! types.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bounds;

use super::common::{
    AuditSpec, AuraFleetManagementSpec, AuraFleetManagementStatus, AuthSpec,
    DatabaseDiagnosticInfo, EndpointStatus, ImageSpec, MCPServerSpec, MonitoringSpec,
    NetworkPolicySpec, RoleDiagnosticInfo, SecurityContextSpec, ServiceSpec, StorageSpec, TLSSpec,
    TrustedCASecret, UpgradeStrategySpec, UserDiagnosticInfo,
};

/// Desired state of a single-server Neo4j Enterprise deployment.
// Two printer columns of type string read to clippy as a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "neo4j.neo4j.com",
    version = "v1beta1",
    kind = "Neo4jEnterpriseStandalone",
    plural = "neo4jenterprisestandalones",
    singular = "neo4jenterprisestandalone",
    namespaced,
    status = "Neo4jEnterpriseStandaloneStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "Neo4jEnterpriseStandalone declaratively manages a single-node Neo4j Enterprise deployment.",
    printcolumn(name = "Ready", type_ = "boolean", json_path = ".status.ready"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Version", type_ = "string", json_path = ".status.version"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jEnterpriseStandaloneSpec {
    /// The Neo4j Enterprise image. Required: the webhook refuses an object without one
    /// (`image-required`), so the schema leaves it optional and the user sees that rule.
    #[serde(default, skip_serializing_if = "ImageSpec::is_unset")]
    pub image: ImageSpec,
    /// Data volume of the server. Required: the webhook refuses an object without one
    /// (`storage-required`).
    #[serde(default, skip_serializing_if = "StorageSpec::is_unset")]
    pub storage: StorageSpec,
    /// Acceptance of the Neo4j Enterprise license: `yes` (commercial) or `eval` (30-day
    /// evaluation). The operator refuses to deploy until it is set. The values are checked by
    /// the webhook (`license-required`, `license-value`), not by a schema enum, so a refusal
    /// names the rule and what to write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub accept_license_agreement: Option<String>,
    /// Resources of the Neo4j container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<corev1::ResourceRequirements>,
    /// Environment variables of the Neo4j container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::ENV_MAX_ITEMS))]
    pub env: Option<Vec<corev1::EnvVar>>,
    /// Secrets / ConfigMaps projected whole as environment variables of the Neo4j container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS))]
    pub extra_env_from: Option<Vec<corev1::EnvFromSource>>,
    /// Node selector of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::label_map)]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Tolerations of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS))]
    pub tolerations: Option<Vec<corev1::Toleration>>,
    /// Affinity of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<corev1::Affinity>,
    /// Pod / container security context overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContextSpec>,
    /// Extra `neo4j.conf` settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::config_map)]
    pub config: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TLSSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceSpec>,
    /// Metrics, query logging and diagnostics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<MonitoringSpec>,
    /// Compliance-oriented logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditSpec>,
    /// NetworkPolicy restricting ingress to the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_policy: Option<NetworkPolicySpec>,
    /// MCP server for this deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<MCPServerSpec>,
    /// Aura Fleet Management integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aura_fleet_management: Option<AuraFleetManagementSpec>,
    /// How version upgrades are rolled out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_strategy: Option<UpgradeStrategySpec>,
    /// Extra CA certificates Neo4j-the-server trusts for outgoing TLS.
    #[serde(rename = "trustedCASecrets")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS))]
    pub trusted_ca_secrets: Option<Vec<TrustedCASecret>>,
    /// Extra pod volumes (mounted through `extraVolumeMounts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS))]
    pub extra_volumes: Option<Vec<corev1::Volume>>,
    /// Extra volume mounts of the Neo4j container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS))]
    pub extra_volume_mounts: Option<Vec<corev1::VolumeMount>>,
}

/// Observed state of a standalone deployment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jEnterpriseStandaloneStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<metav1::Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<EndpointStatus>,
    /// Running Neo4j version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Ready for connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_start_time: Option<metav1::Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_status: Option<StandalonePodStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_status: Option<StandaloneDatabaseStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aura_fleet_management: Option<AuraFleetManagementStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<StandaloneDiagnosticsStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// The Neo4j pod.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StandalonePodStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_name: Option<String>,
    #[serde(rename = "podIP")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// Pod phase (`Pending`, `Running`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<metav1::Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<corev1::PodCondition>>,
}

/// The Neo4j database.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StandaloneDatabaseStatus {
    /// Should be `SINGLE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_health_check: Option<metav1::Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_status: Option<String>,
}

/// Live diagnostics collected from the standalone over Bolt.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StandaloneDiagnosticsStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databases: Option<Vec<DatabaseDiagnosticInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserDiagnosticInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleDiagnosticInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_collected: Option<metav1::Time>,
    /// Last collection error; empty on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn round_trip(input: Value) {
        let standalone: Neo4jEnterpriseStandalone =
            serde_json::from_value(input.clone()).expect("manifest deserializes");
        let back = serde_json::to_value(&standalone).expect("serializes");
        assert_eq!(back, input, "round trip changed the manifest");
    }

    #[test]
    fn minimal_manifest_round_trips() {
        round_trip(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jEnterpriseStandalone",
            "metadata": {"name": "dev"},
            "spec": {
                "image": {"repo": "neo4j", "tag": "5.26-enterprise"},
                "storage": {"size": "5Gi"}
            }
        }));
    }

    #[test]
    fn rich_manifest_round_trips() {
        round_trip(rich_manifest());
    }

    #[test]
    fn rich_manifest_uses_every_top_level_spec_field() {
        let schema = serde_json::to_value(
            <Neo4jEnterpriseStandalone as kube::CustomResourceExt>::crd()
                .spec
                .versions[0]
                .schema
                .clone()
                .unwrap()
                .open_api_v3_schema
                .unwrap(),
        )
        .unwrap();
        let manifest = rich_manifest();
        for section in ["spec", "status"] {
            let props = schema["properties"][section]["properties"]
                .as_object()
                .unwrap();
            for field in props.keys() {
                assert!(
                    manifest[section].get(field).is_some(),
                    "rich manifest lacks {section}.{field}"
                );
            }
        }
    }

    fn rich_manifest() -> Value {
        serde_json::from_str(
            r#"{
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jEnterpriseStandalone",
            "metadata": {"name": "dev", "namespace": "test", "annotations": {"neo4j.com/auto-inherit-seed-creds": "true"}},
            "spec": {
                "image": {"repo": "neo4j", "tag": "5.26-enterprise", "pullPolicy": "IfNotPresent", "pullSecrets": ["regcred"]},
                "storage": {"className": "standard", "size": "5Gi", "retentionPolicy": "Delete"},
                "acceptLicenseAgreement": "yes",
                "resources": {"limits": {"memory": "2Gi"}, "requests": {}},
                "env": [],
                "extraEnvFrom": [{"secretRef": {"name": "s3-creds", "optional": false}}],
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"operator": "Exists"}],
                "affinity": {
                    "podAntiAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [{
                            "weight": 100,
                            "podAffinityTerm": {
                                "topologyKey": "kubernetes.io/hostname",
                                "labelSelector": {"matchLabels": {"app": "neo4j"}}
                            }
                        }]
                    }
                },
                "securityContext": {
                    "podSecurityContext": {"runAsUser": 7474, "runAsGroup": 7474, "fsGroup": 7474},
                    "containerSecurityContext": {"readOnlyRootFilesystem": false}
                },
                "config": {"dbms.logs.debug.level": "DEBUG"},
                "tls": {"mode": "disabled"},
                "auth": {
                    "adminSecret": "dev-admin",
                    "authenticationProviders": ["native"],
                    "oidc": {},
                    "trustStore": {"name": "ca"}
                },
                "service": {"type": "NodePort", "ingress": {"enabled": true, "host": "dev.local"}},
                "monitoring": {"enabled": true, "sampling": {}, "metricsExport": {"prometheus": false}},
                "audit": {"enabled": false},
                "networkPolicy": {"enabled": true},
                "mcp": {"enabled": false, "transport": "stdio", "auth": {"secretName": "mcp"}},
                "auraFleetManagement": {"enabled": false, "tokenSecretRef": {"name": "fleet"}},
                "upgradeStrategy": {"strategy": "Recreate", "preUpgradeHealthCheck": false},
                "trustedCASecrets": [],
                "extraVolumes": [{"name": "conf", "configMap": {"name": "extra-conf", "items": [{"key": "a", "path": "a.conf"}]}}],
                "extraVolumeMounts": [{"name": "conf", "mountPath": "/extra-conf"}]
            },
            "status": {
                "conditions": [{
                    "type": "Ready", "status": "False", "reason": "Starting", "message": "",
                    "lastTransitionTime": "2025-03-04T05:06:07Z"
                }],
                "phase": "Pending",
                "message": "waiting for pod",
                "endpoints": {"bolt": "bolt://dev.test.svc:7687", "internal": {"client": "dev.test.svc"}},
                "version": "5.26.0",
                "ready": false,
                "lastStartTime": "2025-03-04T05:06:07Z",
                "podStatus": {
                    "podName": "dev-0",
                    "podIP": "10.1.2.3",
                    "nodeName": "node-a",
                    "phase": "Running",
                    "startTime": "2025-03-04T05:06:07Z",
                    "restartCount": 0,
                    "conditions": [{"type": "Ready", "status": "True"}]
                },
                "databaseStatus": {
                    "databaseMode": "SINGLE",
                    "databaseName": "neo4j",
                    "storageSize": "1Gi",
                    "connectionCount": 0,
                    "lastHealthCheck": "2025-03-04T05:06:07Z",
                    "healthStatus": "Healthy"
                },
                "auraFleetManagement": {"registered": true, "servers": []},
                "diagnostics": {
                    "databases": [{"name": "system", "status": "online", "requestedStatus": "online", "role": "primary"}],
                    "users": [],
                    "userCount": 0,
                    "roles": [{"role": "PUBLIC", "immutable": true}],
                    "roleCount": 1,
                    "lastCollected": "2025-03-04T05:06:07Z",
                    "collectionError": "timeout"
                },
                "observedGeneration": 1
            }
        }"#,
        )
        .expect("rich manifest is valid JSON")
    }
}
