//! `Neo4jRestore`: restore one or all databases of a cluster or standalone from a Neo4jBackup,
//! a storage location or a point in time, with optional pre/post hooks run around it.

use k8s_openapi::api::core::v1::{EnvVar, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bounds;

use super::backup::{DatabaseArtifact, TempStorageSpec};
use super::common::StorageLocation;

/// Desired state of a Neo4jRestore.
// CRD-required fields carry no `serde(default)` so the schema lists them in `required`;
// a missing one still decodes to `None`, for the validator to report.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "neo4j.neo4j.com",
    version = "v1beta1",
    kind = "Neo4jRestore",
    plural = "neo4jrestores",
    namespaced,
    status = "Neo4jRestoreStatus",
    derive = "Default",
    derive = "PartialEq"
)]
#[kube(printcolumn = r#"{"name":"Target","type":"string","jsonPath":".spec.instanceRef"}"#)]
#[kube(printcolumn = r#"{"name":"Database","type":"string","jsonPath":".spec.database"}"#)]
#[kube(printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#)]
#[kube(printcolumn = r#"{"name":"Duration","type":"string","jsonPath":".status.stats.duration"}"#)]
#[kube(printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jRestoreSpec {
    /// Name of the Neo4jEnterpriseCluster or Neo4jEnterpriseStandalone to restore into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub instance_ref: Option<String>,

    /// Where the backup to restore comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub source: Option<RestoreSource>,

    /// Database to restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::DATABASE_NAME_MAX), regex(pattern = r"^[a-zA-Z][a-zA-Z0-9.\-]*$"))]
    pub database: Option<String>,

    /// Restore every database recorded in the backup's artifact map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_databases: Option<bool>,

    /// Restore options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<RestoreOptionsSpec>,

    /// Stop the target (scale to zero) during an offline restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_cluster: Option<bool>,

    /// Overall restore timeout (Go duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub timeout: Option<String>,
}

/// Source of a restore.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSource {
    /// Source type: backup, storage or pitr.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required, extend("enum" = ["backup", "storage", "pitr"]))]
    pub r#type: Option<String>,

    /// Neo4jBackup to restore from (type backup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub backup_ref: Option<String>,

    /// Storage location to restore from (type storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageLocation>,

    /// Backup directory or exact `.backup` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::PATH_MAX))]
    pub backup_path: Option<String>,

    /// Point in time to recover to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_in_time: Option<Time>,

    /// Point-in-time recovery settings (type pitr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitr: Option<PITRConfig>,
}

/// Point-in-time recovery settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PITRConfig {
    /// Where the transaction logs are stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_storage: Option<StorageLocation>,

    /// The full backup the logs are replayed onto.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_backup: Option<BaseBackupSource>,
}

/// Base backup of a point-in-time recovery.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BaseBackupSource {
    /// Source type: backup or storage.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required, extend("enum" = ["backup", "storage"]))]
    pub r#type: Option<String>,

    /// Neo4jBackup holding the base backup (type backup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub backup_ref: Option<String>,

    /// Storage location of the base backup (type storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageLocation>,

    /// Path of the base backup inside the storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::PATH_MAX))]
    pub backup_path: Option<String>,
}

/// Options of the restore run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreOptionsSpec {
    /// Resources of the restore Job container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// Replace an existing database of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_existing: Option<bool>,

    /// Extra neo4j-admin restore arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS), inner(length(max = bounds::ARG_MAX)))]
    pub additional_args: Option<Vec<String>>,

    /// Local directory for temporary files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::PATH_MAX))]
    pub temp_path: Option<String>,

    /// Temporary staging PVC for cloud restores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_storage: Option<TempStorageSpec>,

    /// Hooks run before the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_restore: Option<RestoreHooks>,

    /// Hooks run after the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_restore: Option<RestoreHooks>,
}

/// Pre- or post-restore hooks.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreHooks {
    /// A Job to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<RestoreHookJob>,

    /// Cypher statements to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::CYPHER_MAX_ITEMS), inner(length(max = bounds::CYPHER_MAX)))]
    pub cypher_statements: Option<Vec<String>>,
}

/// A hook Job.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreHookJob {
    /// Template of the Job.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub template: Option<JobTemplateSpec>,

    /// Timeout of the Job (Go duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub timeout: Option<String>,
}

/// Minimal Job template of a hook.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobTemplateSpec {
    /// The hook container.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub container: Option<ContainerSpec>,

    /// Job backoff limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<i32>,
}

/// Minimal container of a hook Job.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSpec {
    /// Container image.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    #[schemars(length(max = bounds::IMAGE_MAX))]
    pub image: Option<String>,

    /// Entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS), inner(length(max = bounds::ARG_MAX)))]
    pub command: Option<Vec<String>>,

    /// Entrypoint arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS), inner(length(max = bounds::ARG_MAX)))]
    pub args: Option<Vec<String>>,

    /// Environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::ENV_MAX_ITEMS))]
    pub env: Option<Vec<EnvVar>>,
}

/// Observed state of a Neo4jRestore.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jRestoreStatus {
    /// Current conditions of the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,

    /// Current phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,

    /// Human-readable detail of the current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// When the restore started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,

    /// When the restore finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,

    /// Restore statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<RestoreStats>,

    /// Information about the restored backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_info: Option<RestoreBackupInfo>,

    /// Generation last observed by the controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Per-database outcome of an all-databases restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_results: Option<Vec<DatabaseRestoreResult>>,

    /// Source pinned at the first reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_source: Option<ResolvedRestoreSource>,
}

/// The concrete backup a restore resolved to.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedRestoreSource {
    /// Neo4jBackup the source came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_ref: Option<String>,

    /// Resolved storage location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageLocation>,

    /// Resolved backup path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_path: Option<String>,

    /// Resolved `.backup` filename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_filename: Option<String>,

    /// When the source was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Time>,

    /// When the resolved backup was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_created_at: Option<Time>,

    /// Per-database artifacts of an all-databases source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_artifacts: Option<Vec<DatabaseArtifact>>,

    /// Sharded databases the source backup did not catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharded_databases_excluded: Option<Vec<String>>,
}

/// Outcome of restoring one database.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseRestoreResult {
    /// Database name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub database: Option<String>,

    /// Pending, Running, Completed or Failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Pending", "Running", "Completed", "Failed"]))]
    pub phase: Option<String>,

    /// Detail of the outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// When this database finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
}

/// Restore statistics.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreStats {
    /// Duration of the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// Information about the restored backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreBackupInfo {
    /// Path of the backup used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_path: Option<String>,

    /// When the backup was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_created_at: Option<Time>,

    /// Database the backup was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_database: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn round_trip(input: Value) -> Result<(), serde_json::Error> {
        let restore: Neo4jRestore = serde_json::from_value(input.clone())?;
        assert_eq!(serde_json::to_value(&restore)?, input);
        Ok(())
    }

    #[test]
    fn minimal_manifest_round_trips() -> Result<(), serde_json::Error> {
        round_trip(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jRestore",
            "metadata": {"name": "restore"},
            "spec": {"source": {"type": "backup", "backupRef": "nightly"}}
        }))
    }

    /// A manifest using every top-level spec and status field.
    fn rich_manifest() -> Value {
        let hook = json!({
            "cypherStatements": [],
            "job": {
                "template": {
                    "container": {
                        "image": "busybox:1.36",
                        "command": ["sh", "-c"],
                        "args": [],
                        "env": [
                            {"name": "A", "value": "1"},
                            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": false}}}
                        ]
                    },
                    "backoffLimit": 0
                },
                "timeout": "10m"
            }
        });
        json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jRestore",
            "metadata": {"name": "pitr", "namespace": "db"},
            "spec": {
                "instanceRef": "graph",
                "source": {
                    "type": "pitr",
                    "backupRef": "nightly",
                    "storage": {"type": "pvc", "pvc": {"name": "backups", "storageClassName": "", "size": "10Gi"}},
                    "backupPath": "nightly/neo4j.backup",
                    "pointInTime": "2026-01-02T03:04:05Z",
                    "pitr": {
                        "logStorage": {"type": "gcs", "bucket": "logs", "path": ""},
                        "baseBackup": {
                            "type": "storage",
                            "backupRef": "",
                            "storage": {"type": "azure", "bucket": "base"},
                            "backupPath": "full"
                        }
                    }
                },
                "database": "neo4j",
                "allDatabases": false,
                "options": {
                    "resources": {"requests": {"memory": "1Gi"}},
                    "replaceExisting": false,
                    "additionalArgs": ["--verbose"],
                    "tempPath": "/tmp/x",
                    "tempStorage": {"size": "5Gi"},
                    "preRestore": hook,
                    "postRestore": {"cypherStatements": ["RETURN 1"]}
                },
                "stopCluster": false,
                "timeout": "5m"
            },
            "status": {
                "conditions": [],
                "phase": "Completed",
                "message": "restored",
                "startTime": "2026-01-02T03:04:05Z",
                "completionTime": "2026-01-02T03:09:05Z",
                "stats": {"duration": "5m0s"},
                "backupInfo": {
                    "backupPath": "nightly",
                    "backupCreatedAt": "2026-01-01T00:00:00Z",
                    "originalDatabase": "neo4j"
                },
                "observedGeneration": 1,
                "databaseResults": [{
                    "database": "neo4j",
                    "phase": "Completed",
                    "message": "",
                    "completionTime": "2026-01-02T03:09:05Z"
                }],
                "resolvedSource": {
                    "backupRef": "nightly",
                    "storage": {"type": "s3", "bucket": "b"},
                    "backupPath": "nightly",
                    "artifactFilename": "neo4j.backup",
                    "resolvedAt": "2026-01-02T03:04:05Z",
                    "backupCreatedAt": "2026-01-01T00:00:00Z",
                    "databaseArtifacts": [{"database": "neo4j"}],
                    "shardedDatabasesExcluded": []
                }
            }
        })
    }

    #[test]
    fn rich_manifest_round_trips() -> Result<(), serde_json::Error> {
        round_trip(rich_manifest())
    }

    #[test]
    fn rich_manifest_uses_every_top_level_field() -> Result<(), serde_json::Error> {
        let crd = serde_json::to_value(<Neo4jRestore as kube::CustomResourceExt>::crd())?;
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
        let spec: Neo4jRestoreSpec = serde_json::from_value(json!({}))?;
        assert_eq!(spec, Neo4jRestoreSpec::default());
        let crd = serde_json::to_value(<Neo4jRestore as kube::CustomResourceExt>::crd())?;
        let required =
            crd.pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/required");
        assert_eq!(required, Some(&json!(["source"])));
        Ok(())
    }
}
