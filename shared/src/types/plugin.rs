//! `Neo4jPlugin`: one Neo4j plugin (APOC, GDS, n10s, custom JARs) installed on a cluster or
//! standalone, with its source, configuration, dependencies and procedure security.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bounds;

/// Desired state of a Neo4jPlugin.
// CRD-required fields carry no `serde(default)` so the schema lists them in `required`;
// a missing one still decodes to `None`, for the validator to report.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "neo4j.neo4j.com",
    version = "v1beta1",
    kind = "Neo4jPlugin",
    plural = "neo4jplugins",
    namespaced,
    status = "Neo4jPluginStatus",
    derive = "Default",
    derive = "PartialEq"
)]
#[kube(printcolumn = r#"{"name":"Plugin","type":"string","jsonPath":".spec.name"}"#)]
#[kube(printcolumn = r#"{"name":"Version","type":"string","jsonPath":".spec.version"}"#)]
#[kube(printcolumn = r#"{"name":"Cluster","type":"string","jsonPath":".spec.clusterRef"}"#)]
#[kube(printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#)]
#[kube(printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "self.installMode != 'VerifiedDownload' || (has(self.source) && has(self.source.url) && size(self.source.url) > 0)",
        "message": "installMode 'VerifiedDownload' requires spec.source.url"
    },
    {
        "rule": "self.installMode != 'VerifiedDownload' || (has(self.source) && has(self.source.checksum) && size(self.source.checksum) > 0)",
        "message": "installMode 'VerifiedDownload' requires spec.source.checksum (sha256:<64 hex> or sha512:<128 hex>)"
    },
    {
        "rule": "self.installMode != 'VerifiedDownload' || !has(self.source) || !(self.source.type in ['official', 'community'])",
        "message": "installMode 'VerifiedDownload' requires source.type url or custom; official/community resolve via the Neo4j entrypoint and cannot be pointed at a verifiable URL"
    },
    {
        "rule": "self.installMode != 'VerifiedDownload' || !has(self.dependencies) || size(self.dependencies) == 0",
        "message": "installMode 'VerifiedDownload' does not support spec.dependencies; each dependency must be its own Neo4jPlugin CR with its own verified source"
    }
]))]
pub struct Neo4jPluginSpec {
    /// Name of the Neo4jEnterpriseCluster or Neo4jEnterpriseStandalone to install into.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub cluster_ref: Option<String>,

    /// Plugin name (e.g. `apoc`, `gds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub name: Option<String>,

    /// Plugin version.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub version: Option<String>,

    /// Whether the plugin is enabled (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub enabled: Option<bool>,

    /// How the plugin JAR gets onto the server: Managed, PreBaked or VerifiedDownload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Managed", "PreBaked", "VerifiedDownload"], "default" = "Managed"))]
    pub install_mode: Option<String>,

    /// Where the plugin comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PluginSource>,

    /// Plugin configuration entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::config_map)]
    pub config: Option<BTreeMap<String, String>>,

    /// Other plugins this one needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS))]
    pub dependencies: Option<Vec<PluginDependency>>,

    /// Procedure security settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<PluginSecurity>,

    /// Resource limits of the plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<PluginResourceRequirements>,
}

/// Source of a plugin.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "!has(self.url) || size(self.url) == 0 || self.url.matches('(?i)^https://')",
        "message": "source.url scheme must be https: plugin JARs are downloaded over the network and a non-https scheme has no transport integrity"
    }
]))]
pub struct PluginSource {
    /// Source type: official, community, custom or url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["official", "community", "custom", "url"], "default" = "official"))]
    pub r#type: Option<String>,

    /// Download URL (https only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::URL_MAX))]
    pub url: Option<String>,

    /// Checksum of the JAR (`sha256:<hex>` or `sha512:<hex>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub checksum: Option<String>,

    /// Secret with download credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub auth_secret: Option<String>,

    /// Custom plugin registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<PluginRegistry>,
}

/// A custom plugin registry.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginRegistry {
    /// Registry URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    #[schemars(length(max = bounds::URL_MAX))]
    pub url: Option<String>,

    /// Secret with registry credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub auth_secret: Option<String>,

    /// TLS settings of the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<RegistryTLSConfig>,
}

/// TLS settings of a plugin registry.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistryTLSConfig {
    /// Skip TLS verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,

    /// Secret holding the registry CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub ca_secret: Option<String>,
}

/// A plugin dependency.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginDependency {
    /// Name of the required plugin.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub name: Option<String>,

    /// Accepted versions of the required plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub version_constraint: Option<String>,

    /// Whether the dependency may be missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// Procedure security of a plugin.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginSecurity {
    /// Procedures allowed to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub allowed_procedures: Option<Vec<String>>,

    /// Procedures denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub denied_procedures: Option<Vec<String>>,

    /// Run the plugin sandboxed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<bool>,

    /// Named security policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TEXT_MAX))]
    pub security_policy: Option<String>,
}

/// Resource limits of a plugin.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginResourceRequirements {
    /// Memory limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub memory_limit: Option<String>,

    /// CPU limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub cpu_limit: Option<String>,

    /// Thread pool size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_pool_size: Option<i32>,
}

/// Observed state of a Neo4jPlugin.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jPluginStatus {
    /// Current conditions of the plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,

    /// Current phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,

    /// Human-readable detail of the current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// Installed plugin version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<String>,

    /// When the plugin was installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation_time: Option<Time>,

    /// Plugin health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<PluginHealth>,

    /// Plugin usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<PluginUsage>,

    /// Generation last observed by the controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Health of a plugin.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginHealth {
    /// Health status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,

    /// When health was last checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_health_check: Option<Time>,

    /// Errors found by the health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,

    /// Performance figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<PluginPerformance>,
}

/// Performance figures of a plugin.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginPerformance {
    /// Memory usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_usage: Option<String>,

    /// CPU usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_usage: Option<String>,

    /// Number of procedure executions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_count: Option<i64>,

    /// Average execution time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_execution_time: Option<String>,
}

/// Usage of a plugin.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginUsage {
    /// Call counts per procedure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedures_called: Option<BTreeMap<String, i64>>,

    /// When the plugin was last used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<Time>,

    /// Usage frequency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_frequency: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn round_trip(input: Value) -> Result<(), serde_json::Error> {
        let plugin: Neo4jPlugin = serde_json::from_value(input.clone())?;
        assert_eq!(serde_json::to_value(&plugin)?, input);
        Ok(())
    }

    #[test]
    fn minimal_manifest_round_trips() -> Result<(), serde_json::Error> {
        round_trip(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jPlugin",
            "metadata": {"name": "apoc"},
            "spec": {"clusterRef": "graph", "name": "apoc", "version": "2025.10.0"}
        }))
    }

    /// A manifest using every top-level spec and status field.
    fn rich_manifest() -> Value {
        json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jPlugin",
            "metadata": {"name": "custom", "namespace": "db"},
            "spec": {
                "clusterRef": "graph",
                "name": "my-plugin",
                "version": "1.2.3",
                "enabled": false,
                "installMode": "VerifiedDownload",
                "source": {
                    "type": "url",
                    "url": "https://example.com/my-plugin-1.2.3.jar",
                    "checksum": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                    "authSecret": "dl-creds",
                    "registry": {
                        "url": "https://registry.example.com",
                        "authSecret": "reg-creds",
                        "tls": {"insecureSkipVerify": false, "caSecret": "reg-ca"}
                    }
                },
                "config": {"apoc.export.file.enabled": "true"},
                "dependencies": [{"name": "apoc", "versionConstraint": ">=5.0", "optional": false}],
                "security": {
                    "allowedProcedures": ["apoc.*"],
                    "deniedProcedures": [],
                    "sandbox": false,
                    "securityPolicy": "strict"
                },
                "resources": {"memoryLimit": "1Gi", "cpuLimit": "500m", "threadPoolSize": 0}
            },
            "status": {
                "conditions": [],
                "phase": "Ready",
                "message": "installed",
                "installedVersion": "1.2.3",
                "installationTime": "2026-01-02T03:04:05Z",
                "health": {
                    "status": "Healthy",
                    "lastHealthCheck": "2026-01-02T03:04:05Z",
                    "errors": [],
                    "performance": {
                        "memoryUsage": "10Mi",
                        "cpuUsage": "1m",
                        "executionCount": 0,
                        "avgExecutionTime": "1ms"
                    }
                },
                "usage": {
                    "proceduresCalled": {"apoc.help": 3},
                    "lastUsed": "2026-01-02T03:04:05Z",
                    "usageFrequency": "low"
                },
                "observedGeneration": 1
            }
        })
    }

    #[test]
    fn rich_manifest_round_trips() -> Result<(), serde_json::Error> {
        round_trip(rich_manifest())
    }

    #[test]
    fn rich_manifest_uses_every_top_level_field() -> Result<(), serde_json::Error> {
        let crd = serde_json::to_value(<Neo4jPlugin as kube::CustomResourceExt>::crd())?;
        let manifest = rich_manifest();
        for section in ["spec", "status"] {
            let pointer =
                format!("/spec/versions/0/schema/openAPIV3Schema/properties/{section}/properties");
            let props = crd.pointer(&pointer).and_then(Value::as_object);
            assert!(props.is_some(), "schema has no {section} properties");
            for field in props.into_iter().flat_map(|p| p.keys()) {
                assert!(
                    manifest[section].get(field).is_some(),
                    "rich manifest lacks {section}.{field}"
                );
            }
        }
        Ok(())
    }
    #[test]
    fn missing_required_fields_decode_and_stay_required_in_schema() -> Result<(), serde_json::Error>
    {
        let spec: Neo4jPluginSpec = serde_json::from_value(json!({}))?;
        assert_eq!(spec, Neo4jPluginSpec::default());
        let crd = serde_json::to_value(<Neo4jPlugin as kube::CustomResourceExt>::crd())?;
        let required =
            crd.pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/required");
        assert_eq!(required, Some(&json!(["clusterRef", "name", "version"])));
        Ok(())
    }
}
