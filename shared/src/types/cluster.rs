//! `Neo4jEnterpriseCluster`: a Neo4j Enterprise cluster of two or more servers, and the types
//! only the cluster uses (topology, placement, property sharding, upgrade progress, cluster
//! diagnostics).

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

/// Desired state of a Neo4j Enterprise cluster: one `{name}-server` StatefulSet whose servers
/// self-organize into primaries and secondaries.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "neo4j.neo4j.com",
    version = "v1beta1",
    kind = "Neo4jEnterpriseCluster",
    plural = "neo4jenterpriseclusters",
    singular = "neo4jenterprisecluster",
    namespaced,
    status = "Neo4jEnterpriseClusterStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "Neo4jEnterpriseCluster declaratively manages a Neo4j Enterprise cluster (minimum 2 servers).",
    printcolumn(
        name = "Servers",
        type_ = "integer",
        json_path = ".spec.topology.servers"
    ),
    printcolumn(name = "Ready", type_ = "boolean", json_path = ".status.ready"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jEnterpriseClusterSpec {
    /// The Neo4j Enterprise image. Required: the webhook refuses an object without one
    /// (`image-required`), so the schema leaves it optional and the user sees that rule.
    #[serde(default, skip_serializing_if = "ImageSpec::is_unset")]
    pub image: ImageSpec,
    /// Number of servers and their role constraints.
    pub topology: TopologyConfiguration,
    /// Data volume of each server. Required: the webhook refuses an object without one
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
    /// Resources of the Neo4j containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<corev1::ResourceRequirements>,
    /// Environment variables of the Neo4j containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::ENV_MAX_ITEMS))]
    pub env: Option<Vec<corev1::EnvVar>>,
    /// Node selector of the Neo4j pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::label_map)]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Tolerations of the Neo4j pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS))]
    pub tolerations: Option<Vec<corev1::Toleration>>,
    /// Affinity of the Neo4j pods.
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
    /// How version upgrades are rolled out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_strategy: Option<UpgradeStrategySpec>,
    /// Metrics, query logging and diagnostics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<MonitoringSpec>,
    /// Compliance-oriented logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditSpec>,
    /// NetworkPolicy restricting ingress to the server pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_policy: Option<NetworkPolicySpec>,
    /// MCP server for this cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<MCPServerSpec>,
    /// Property sharding (Neo4j 2025.12+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_sharding: Option<PropertyShardingSpec>,
    /// Aura Fleet Management integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aura_fleet_management: Option<AuraFleetManagementSpec>,
    /// Secrets / ConfigMaps projected whole as environment variables of the Neo4j container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS))]
    pub extra_env_from: Option<Vec<corev1::EnvFromSource>>,
    /// Annotations of the ServiceAccount the server pods run under (workload identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::annotation_map)]
    pub pod_service_account_annotations: Option<BTreeMap<String, String>>,
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

/// Cluster topology: server count and role constraints.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{"rule": "!has(self.minSystemPrimaries) || self.minSystemPrimaries <= self.servers", "message": "minSystemPrimaries must not exceed servers"}, {"rule": "!has(self.serverRoles) || self.serverRoles.all(r, r.serverIndex < self.servers)", "message": "serverRoles[].serverIndex must be below servers"}, {"rule": "!has(self.serverRoles) || size(self.serverRoles) < self.servers || self.serverRoles.exists(r, r.modeConstraint != 'SECONDARY')", "message": "at least one server must be able to host primaries"}]))]
pub struct TopologyConfiguration {
    /// Number of Neo4j servers (2..=100). The floor of 2 is the webhook's
    /// (`cluster-min-servers`, whose message says to use a standalone for one server); the
    /// schema keeps the ceiling.
    #[schemars(range(max = 100))]
    pub servers: i32,
    /// `dbms.cluster.minimum_initial_system_primaries_count` (default `min(3, servers)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2))]
    pub min_system_primaries: Option<i32>,
    /// `NONE` (default), `PRIMARY` or `SECONDARY` for every server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["NONE", "PRIMARY", "SECONDARY"]))]
    pub server_mode_constraint: Option<String>,
    /// Per-server mode constraints, keyed by `serverIndex`; override `serverModeConstraint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend(
        "x-kubernetes-list-type" = "map",
        "x-kubernetes-list-map-keys" = ["serverIndex"]
    ))]
    #[schemars(length(max = bounds::SERVER_ROLES_MAX_ITEMS))]
    pub server_roles: Option<Vec<ServerRoleHint>>,
    /// Distribution of the servers across the Kubernetes cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<PlacementConfig>,
    /// Expected availability zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::LABEL_VALUE_MAX)))]
    pub availability_zones: Option<Vec<String>>,
    /// Require servers to be spread across topology domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_distribution: Option<bool>,
}

/// Mode constraint of one server.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerRoleHint {
    /// 0-based server index, below `servers`.
    #[schemars(range(min = 0))]
    pub server_index: i32,
    /// `NONE`, `PRIMARY` or `SECONDARY`.
    #[schemars(extend("enum" = ["NONE", "PRIMARY", "SECONDARY"]))]
    pub mode_constraint: String,
}

/// Placement and scheduling of the servers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlacementConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_spread: Option<TopologySpreadConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anti_affinity: Option<PodAntiAffinityConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::label_map)]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Hard placement requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_during_scheduling: Option<bool>,
}

/// Topology spread constraints of the servers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpreadConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// e.g. `topology.kubernetes.io/zone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::QUALIFIED_NAME_MAX))]
    pub topology_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_skew: Option<i32>,
    /// `DoNotSchedule` or `ScheduleAnyway`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub when_unsatisfiable: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_domains: Option<i32>,
}

/// Pod anti-affinity between the servers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodAntiAffinityConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::QUALIFIED_NAME_MAX))]
    pub topology_key: Option<String>,
    /// `required` or `preferred`.
    #[serde(rename = "type")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub type_: Option<String>,
}

/// Property sharding (Neo4j 2025.12+, Infinigraph).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropertyShardingSpec {
    /// Enable property sharding support (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Property-sharding settings applied when enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::config_map)]
    pub config: Option<BTreeMap<String, String>>,
}

/// Observed state of a Neo4j Enterprise cluster.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jEnterpriseClusterStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<metav1::Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<ReplicaStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Ready for connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<EndpointStatus>,
    /// Running Neo4j version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_upgrade_time: Option<metav1::Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_status: Option<UpgradeStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_sharding_ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aura_fleet_management: Option<AuraFleetManagementStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<ClusterDiagnosticsStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Progress of an upgrade.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStatus {
    /// `Pending`, `Staging`, `InProgress`, `Rolling`, `Stabilizing`, `Verifying`, `Paused`,
    /// `Completed` or `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<metav1::Time>,
    /// Anchor of the per-step timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_start_time: Option<metav1::Time>,
    /// StatefulSet RollingUpdate partition most recently applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_partition: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<metav1::Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<UpgradeProgress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Upgrade counts across servers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeProgress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgraded: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<NodeUpgradeProgress>,
}

/// Upgrade counts of the servers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeUpgradeProgress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgraded: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_leader: Option<String>,
}

/// Server counts.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<i32>,
}

/// Live diagnostics collected from the cluster over Bolt.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDiagnosticsStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<ServerDiagnosticInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databases: Option<Vec<DatabaseDiagnosticInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserDiagnosticInfo>>,
    /// Total users, even when `users` is truncated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleDiagnosticInfo>>,
    /// Total roles, even when `roles` is truncated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_collected: Option<metav1::Time>,
    /// Last collection error; empty on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_error: Option<String>,
}

/// One row of `SHOW SERVERS`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerDiagnosticInfo {
    pub name: String,
    /// Bolt address.
    pub address: String,
    /// e.g. `Enabled`, `Cordoned`, `Deallocating`.
    pub state: String,
    /// e.g. `Available`, `Unavailable`.
    pub health: String,
    pub hosting_databases: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn round_trip(input: Value) {
        let cluster: Neo4jEnterpriseCluster =
            serde_json::from_value(input.clone()).expect("manifest deserializes");
        let back = serde_json::to_value(&cluster).expect("serializes");
        assert_eq!(back, input, "round trip changed the manifest");
    }

    #[test]
    fn minimal_manifest_round_trips() {
        round_trip(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jEnterpriseCluster",
            "metadata": {"name": "graph", "namespace": "default"},
            "spec": {
                "image": {"repo": "neo4j", "tag": "5.26-enterprise"},
                "topology": {"servers": 3},
                "storage": {"size": "10Gi"}
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
            <Neo4jEnterpriseCluster as kube::CustomResourceExt>::crd()
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
            "kind": "Neo4jEnterpriseCluster",
            "metadata": {"name": "graph", "namespace": "prod", "labels": {"team": "data"}},
            "spec": {
                "image": {
                    "repo": "neo4j",
                    "tag": "2025.01.0-enterprise",
                    "pullPolicy": "Always",
                    "pullSecrets": []
                },
                "topology": {
                    "servers": 5,
                    "minSystemPrimaries": 3,
                    "serverModeConstraint": "NONE",
                    "serverRoles": [
                        {"serverIndex": 0, "modeConstraint": "PRIMARY"},
                        {"serverIndex": 4, "modeConstraint": "SECONDARY"}
                    ],
                    "placement": {
                        "topologySpread": {
                            "enabled": true,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "maxSkew": 1,
                            "whenUnsatisfiable": "DoNotSchedule",
                            "minDomains": 3
                        },
                        "antiAffinity": {
                            "enabled": false,
                            "topologyKey": "kubernetes.io/hostname",
                            "type": "preferred"
                        },
                        "nodeSelector": {"disk": "ssd"},
                        "requiredDuringScheduling": false
                    },
                    "availabilityZones": ["eu-west-1a", "eu-west-1b"],
                    "enforceDistribution": false
                },
                "storage": {"className": "", "size": "100Gi", "retentionPolicy": "Retain"},
                "acceptLicenseAgreement": "eval",
                "resources": {
                    "limits": {"cpu": "4", "memory": "8Gi"},
                    "requests": {"cpu": "2", "memory": "8Gi"}
                },
                "env": [
                    {"name": "NEO4J_PLUGINS", "value": "[\"apoc\"]"},
                    {
                        "name": "TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "tok", "key": "t", "optional": false}}
                    }
                ],
                "nodeSelector": {},
                "tolerations": [
                    {"key": "dedicated", "operator": "Equal", "value": "neo4j", "effect": "NoSchedule"}
                ],
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [{
                                "matchExpressions": [
                                    {"key": "pool", "operator": "In", "values": ["db"]}
                                ]
                            }]
                        }
                    }
                },
                "securityContext": {
                    "podSecurityContext": {"runAsNonRoot": true, "fsGroup": 7474},
                    "containerSecurityContext": {
                        "allowPrivilegeEscalation": false,
                        "capabilities": {"drop": ["ALL"]}
                    }
                },
                "config": {"server.memory.heap.max_size": "4G", "db.tx_log.rotation.retention_policy": "2 days"},
                "tls": {
                    "mode": "cert-manager",
                    "issuerRef": {"name": "ca", "kind": "ClusterIssuer", "group": "cert-manager.io"},
                    "certificateSecret": "manual-cert",
                    "trustedCASecret": "ca-secret",
                    "externalSecrets": {
                        "enabled": false,
                        "secretStoreRef": {"name": "vault", "kind": "ClusterSecretStore"},
                        "refreshInterval": "1h",
                        "data": [
                            {"secretKey": "tls.crt", "remoteRef": {"key": "neo4j/tls", "property": "crt", "version": "3"}}
                        ]
                    },
                    "duration": "2160h",
                    "renewBefore": "360h",
                    "subject": {
                        "organizations": ["Example"],
                        "countries": ["GB"],
                        "organizationalUnits": [],
                        "localities": ["London"],
                        "provinces": ["England"]
                    },
                    "usages": ["server auth", "client auth", "digital signature"],
                    "strictPeerValidation": false
                },
                "auth": {
                    "authenticationProviders": ["oidc-okta", "ldap", "native"],
                    "authorizationProviders": ["native"],
                    "adminSecret": "neo4j-admin",
                    "externalSecrets": {"enabled": true, "data": []},
                    "ldap": {
                        "host": "ldaps://ldap.example.com:636",
                        "useStartTLS": false,
                        "authentication": {
                            "userDNTemplate": "uid={0},ou=users,dc=example,dc=com",
                            "searchForAttribute": false,
                            "attribute": "uid",
                            "cacheEnabled": true
                        },
                        "authorization": {
                            "userSearchBase": "ou=users,dc=example,dc=com",
                            "userSearchFilter": "(&(objectClass=user)(uid={0}))",
                            "groupMembershipAttributes": ["memberOf"],
                            "groupToRoleMapping": {"cn=admins,dc=example,dc=com": "admin"},
                            "accessPermittedGroup": "cn=neo4j,dc=example,dc=com",
                            "useSystemAccount": true,
                            "systemAccountSecretRef": "ldap-system",
                            "nestedGroupsEnabled": false,
                            "nestedGroupsSearchFilter": "(member={0})"
                        },
                        "debugGroupLogging": false
                    },
                    "oidc": {
                        "okta": {
                            "displayName": "Okta",
                            "wellKnownDiscoveryURI": "https://okta.example.com/.well-known/openid-configuration",
                            "authEndpoint": "https://okta.example.com/auth",
                            "tokenEndpoint": "https://okta.example.com/token",
                            "jwksURI": "https://okta.example.com/keys",
                            "userInfoURI": "https://okta.example.com/userinfo",
                            "issuer": "https://okta.example.com",
                            "audience": "neo4j-client",
                            "authFlow": "pkce",
                            "claims": {"username": "email", "groups": "groups"},
                            "getGroupsFromUserInfo": false,
                            "getUsernameFromUserInfo": false,
                            "groupToRoleMapping": {"engineers": "editor,reader"},
                            "authParams": "scope=openid profile email",
                            "tokenParams": "client_secret=x"
                        }
                    },
                    "authCacheTTL": "10m",
                    "trustStore": {"name": "corp-ca", "key": "ca.crt"}
                },
                "service": {
                    "type": "LoadBalancer",
                    "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
                    "loadBalancerIP": "10.0.0.10",
                    "loadBalancerSourceRanges": ["10.0.0.0/8"],
                    "externalTrafficPolicy": "Local",
                    "dnsName": "neo4j.example.com",
                    "ingress": {
                        "enabled": false,
                        "className": "nginx",
                        "annotations": {},
                        "host": "neo4j.example.com",
                        "tlsSecretName": "neo4j-ingress-tls"
                    },
                    "route": {
                        "enabled": false,
                        "host": "neo4j.apps.example.com",
                        "path": "/",
                        "annotations": {"a": "b"},
                        "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect", "secretName": "route-tls"},
                        "targetPort": 7474
                    }
                },
                "upgradeStrategy": {
                    "strategy": "RollingUpgrade",
                    "preUpgradeHealthCheck": true,
                    "maxUnavailableDuringUpgrade": 1,
                    "upgradeTimeout": "30m",
                    "postUpgradeHealthCheck": false,
                    "healthCheckTimeout": "5m",
                    "stabilizationTimeout": "3m",
                    "autoPauseOnFailure": false
                },
                "monitoring": {
                    "enabled": false,
                    "slowQueryThreshold": "5s",
                    "explainPlan": false,
                    "queryLogLevel": "VERBOSE",
                    "obfuscateLiterals": true,
                    "metricsFilter": "*bolt*,*transaction*",
                    "metricsPrefix": "neo4j",
                    "sampling": {"rate": "0.5", "maxQueriesPerSecond": 0},
                    "metricsExport": {"prometheus": true, "customEndpoint": "http://otel:4318", "interval": "30s"}
                },
                "audit": {
                    "enabled": true,
                    "logSuccessfulAuthentication": false,
                    "obfuscateQueryLiterals": true,
                    "parameterLogging": false
                },
                "networkPolicy": {"enabled": false},
                "mcp": {
                    "enabled": true,
                    "image": {"repo": "mcp/neo4j", "tag": "latest"},
                    "transport": "http",
                    "readOnly": false,
                    "database": "neo4j",
                    "schemaSampleSize": -1,
                    "telemetry": false,
                    "logLevel": "info",
                    "logFormat": "json",
                    "http": {
                        "host": "0.0.0.0",
                        "port": 8443,
                        "tls": {"secretName": "mcp-tls", "certKey": "tls.crt", "keyKey": "tls.key"},
                        "authHeaderName": "X-Auth",
                        "service": {
                            "type": "ClusterIP",
                            "annotations": {},
                            "loadBalancerIP": "",
                            "loadBalancerSourceRanges": [],
                            "externalTrafficPolicy": "Cluster",
                            "port": 8443,
                            "ingress": {"enabled": false},
                            "route": {"enabled": false}
                        }
                    },
                    "auth": {"secretName": "mcp-creds", "usernameKey": "username", "passwordKey": "password"},
                    "replicas": 0,
                    "resources": {"requests": {"cpu": "100m"}},
                    "env": [{"name": "EXTRA", "value": "1"}],
                    "securityContext": {"podSecurityContext": {"runAsUser": 1000}}
                },
                "propertySharding": {"enabled": false, "config": {"internal.dbms.sharded_property_database.enabled": "true"}},
                "auraFleetManagement": {
                    "enabled": true,
                    "provision": {
                        "providerConfigRef": {"name": "aura"},
                        "credentialsSecretRef": {"name": "aura-creds", "clientIdKey": "id", "clientSecretKey": "secret"},
                        "organizationId": "org-1",
                        "projectId": "proj-1",
                        "deploymentName": "prod-graph",
                        "tokenSecretName": "graph-aura-fleet-token",
                        "tokenPolicy": "CreateIfMissing",
                        "deletionPolicy": "Orphan",
                        "managementPolicies": ["*"],
                        "collectTelemetry": false
                    },
                    "tokenSecretRef": {"name": "aura-fleet-token", "key": "token"}
                },
                "extraEnvFrom": [
                    {"secretRef": {"name": "s3-creds"}},
                    {"configMapRef": {"name": "extra", "optional": true}, "prefix": "X_"}
                ],
                "podServiceAccountAnnotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/neo4j"},
                "trustedCASecrets": [{"name": "corp-ca"}, {"name": "ldap-ca", "key": "root.pem"}],
                "extraVolumes": [
                    {"name": "plugins", "emptyDir": {}},
                    {"name": "trust", "secret": {"secretName": "trust", "defaultMode": 420}}
                ],
                "extraVolumeMounts": [
                    {"name": "plugins", "mountPath": "/extra-plugins", "readOnly": false},
                    {"name": "trust", "mountPath": "/trust", "readOnly": true, "subPath": "x"}
                ]
            },
            "status": {
                "conditions": [{
                    "type": "Ready",
                    "status": "True",
                    "reason": "ClusterReady",
                    "message": "all servers up",
                    "lastTransitionTime": "2025-01-02T03:04:05Z",
                    "observedGeneration": 2
                }],
                "replicas": {"servers": 5, "ready": 0},
                "phase": "Ready",
                "ready": false,
                "message": "",
                "endpoints": {
                    "bolt": "bolt://graph-client.prod.svc:7687",
                    "http": "http://graph-client.prod.svc:7474",
                    "https": "https://graph-client.prod.svc:7473",
                    "internal": {"headless": "graph-headless.prod.svc", "client": "graph-client.prod.svc"},
                    "connectionExamples": {
                        "portForward": "kubectl port-forward svc/graph-client 7474 7687",
                        "browserURL": "http://localhost:7474",
                        "boltURI": "bolt://localhost:7687",
                        "neo4jURI": "neo4j://localhost:7687",
                        "pythonExample": "GraphDatabase.driver(...)",
                        "javaExample": "GraphDatabase.driver(...)"
                    }
                },
                "version": "2025.01.0",
                "lastUpgradeTime": "2025-01-01T00:00:00Z",
                "upgradeStatus": {
                    "phase": "Rolling",
                    "startTime": "2025-01-01T00:00:00Z",
                    "stepStartTime": "2025-01-01T00:05:00Z",
                    "currentPartition": 0,
                    "completionTime": "2025-01-01T00:30:00Z",
                    "currentStep": "restarting server 2",
                    "previousVersion": "5.26.0",
                    "targetVersion": "2025.01.0",
                    "progress": {
                        "total": 5, "upgraded": 2, "inProgress": 1, "pending": 2,
                        "servers": {"total": 5, "upgraded": 2, "inProgress": 1, "pending": 2, "currentLeader": "graph-server-0"}
                    },
                    "message": "rolling",
                    "lastError": ""
                },
                "propertyShardingReady": false,
                "auraFleetManagement": {
                    "registered": false,
                    "lastRegistrationTime": "2025-01-01T00:00:00Z",
                    "message": "waiting",
                    "provisioned": true,
                    "deploymentId": "dep-1",
                    "deploymentName": "prod-graph",
                    "tokenSecretName": "graph-aura-fleet-token",
                    "tokenCreationTime": "2025-01-01T00:00:00Z",
                    "tokenExpiryTime": "2026-01-01T00:00:00Z",
                    "tokenAutoRotate": false,
                    "servers": [{
                        "name": "s0", "address": "graph-server-0:7687", "status": "ONLINE", "version": "2025.01.0",
                        "modeConstraint": "NONE", "lastPing": "now", "pluginVersion": "1.0",
                        "licenseState": "VALID", "licenseType": "EVALUATION"
                    }],
                    "serverCount": 1,
                    "databases": [{
                        "name": "neo4j", "serverId": "s0", "currentStatus": "online", "role": "primary",
                        "writer": true, "lastCommittedTxn": 42, "replicationLag": 0,
                        "graphShards": [], "propertyShards": ["p0"]
                    }],
                    "databaseCount": 1,
                    "telemetryError": ""
                },
                "diagnostics": {
                    "servers": [{"name": "s0", "address": "graph-server-0:7687", "state": "Enabled", "health": "Available", "hostingDatabases": 2}],
                    "databases": [{
                        "name": "neo4j", "status": "online", "requestedStatus": "online", "role": "primary",
                        "default": true, "type": "standard", "access": "read-write", "writer": false,
                        "lastCommittedTxn": 7, "replicationLag": 0
                    }],
                    "users": [{"user": "neo4j", "roles": ["admin"], "suspended": false, "homeDatabase": "neo4j"}],
                    "userCount": 1,
                    "roles": [{"role": "admin", "immutable": false}],
                    "roleCount": 1,
                    "lastCollected": "2025-01-01T00:00:00Z",
                    "collectionError": ""
                },
                "observedGeneration": 2
            }
        }"#,
        )
        .expect("rich manifest is valid JSON")
    }
}
