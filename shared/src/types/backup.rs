//! `Neo4jBackup`: one-shot or scheduled `neo4j-admin database backup` of a cluster or standalone
//! into PVC or object storage, with retention, options and the run history kept in status.

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bounds;

use super::common::StorageLocation;

/// Desired state of a Neo4jBackup.
// CRD-required fields carry no `serde(default)` so the schema lists them in `required`;
// a missing one still decodes to `None`, for the validator to report.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "neo4j.neo4j.com",
    version = "v1beta1",
    kind = "Neo4jBackup",
    plural = "neo4jbackups",
    namespaced,
    status = "Neo4jBackupStatus",
    derive = "Default",
    derive = "PartialEq"
)]
#[kube(printcolumn = r#"{"name":"Target","type":"string","jsonPath":".spec.instanceRef"}"#)]
#[kube(printcolumn = r#"{"name":"Schedule","type":"string","jsonPath":".spec.schedule"}"#)]
#[kube(printcolumn = r#"{"name":"LastRun","type":"string","jsonPath":".status.lastRunTime"}"#)]
#[kube(printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#)]
#[kube(printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jBackupSpec {
    /// Name of the Neo4jEnterpriseCluster or Neo4jEnterpriseStandalone to back up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub instance_ref: Option<String>,

    /// Single-database scope: the database to back up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::DATABASE_NAME_MAX), regex(pattern = r"^[a-zA-Z][a-zA-Z0-9.\-]*$"))]
    pub database: Option<String>,

    /// Instance-wide scope: back up every user database (system excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_databases: Option<bool>,

    /// Sharded scope: name of the Neo4jShardedDatabase resource to back up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = bounds::OBJECT_NAME_MAX),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub sharded_database: Option<String>,

    /// Where the backup artifacts are written.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub storage: Option<StorageLocation>,

    /// Cron schedule (5-field or macro); empty means a one-shot backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub schedule: Option<String>,

    /// Validation strictness: `standard` or `replication-source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["standard", "replication-source"], "default" = "standard"))]
    pub mode: Option<String>,

    /// Retention policy for old backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionPolicy>,

    /// neo4j-admin backup options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<BackupOptions>,

    /// Suspend the backup schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,

    /// Write into the chain directory of another Neo4jBackup in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub chain_from_backup: Option<String>,
}

/// Retention rules for backup cleanup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicy {
    /// Maximum age of backups to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub max_age: Option<String>,

    /// Maximum number of backups to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<i32>,

    /// What happens to expired backups (only `Delete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Delete"], "default" = "Delete"))]
    pub delete_policy: Option<String>,
}

/// Options of the backup run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupOptions {
    /// Resources of the backup Job container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// Compress the backup (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub compress: Option<bool>,

    /// Backup type: FULL, DIFF or AUTO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["FULL", "DIFF", "AUTO"], "default" = "AUTO"))]
    pub backup_type: Option<String>,

    /// Page cache size for the backup (e.g. `4G`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+[KMG]?$"))]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub page_cache: Option<String>,

    /// Enable parallel download for remote backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_download: Option<bool>,

    /// Resolve remote addresses via the cluster discovery service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_address_resolution: Option<bool>,

    /// Skip the recovery step after the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_recovery: Option<bool>,

    /// Run `neo4j-admin backup validate` after a successful backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<bool>,

    /// Extra neo4j-admin backup arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS), inner(length(max = bounds::ARG_MAX)))]
    pub additional_args: Option<Vec<String>>,

    /// Use the latest differential backup as the parent of a new DIFF (2025.04+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_diff_as_parent: Option<bool>,

    /// Local directory for temporary files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::PATH_MAX))]
    pub temp_path: Option<String>,

    /// Temporary staging PVC for cloud backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_storage: Option<TempStorageSpec>,

    /// Metadata included in the backup: all, none, users or roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["all", "none", "users", "roles"]))]
    pub include_metadata: Option<String>,

    /// Multi-threaded transaction application during backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_recovery: Option<bool>,

    /// Keep failed backup artifacts for debugging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_failed: Option<bool>,
}

/// Temporary staging PVC for cloud backup and restore.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TempStorageSpec {
    /// Size of the temporary PVC (e.g. `50Gi`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required, regex(pattern = r"^[0-9]+(Ki|Mi|Gi|Ti)?$"))]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub size: Option<String>,

    /// StorageClass of the temporary PVC; empty uses the cluster default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub storage_class_name: Option<String>,
}

/// Observed state of a Neo4jBackup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jBackupStatus {
    /// Current conditions of the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,

    /// Current phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,

    /// Human-readable detail of the current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// When the last backup started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_time: Option<Time>,

    /// When the last successful backup completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_time: Option<Time>,

    /// When the next scheduled backup runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_time: Option<Time>,

    /// Statistics of the last backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<BackupStats>,

    /// Directory a cross-cluster replica pulls this chain from (replication-source mode).
    #[serde(
        rename = "replicationPullURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub replication_pull_uri: Option<String>,

    /// Recent backup runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<BackupRun>>,

    /// Generation last observed by the controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Statistics of one backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupStats {
    /// Size of the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,

    /// Duration of the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,

    /// Throughput of the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<String>,

    /// Number of files in the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_count: Option<i32>,
}

/// One backup execution.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupRun {
    /// Run identity (the backing Job's name).
    #[serde(rename = "runID", default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,

    /// Start time of the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub start_time: Option<Time>,

    /// Completion time of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,

    /// Status of the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub status: Option<String>,

    /// Error message when the run failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,

    /// Statistics of this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<BackupStats>,

    /// Per-resource directory (relative to storage path) the artifacts were written to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backups_path: Option<String>,

    /// Filename of the `.backup` artifact of a single-database run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_filename: Option<String>,

    /// Per-shard artifacts of a sharded run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_artifacts: Option<Vec<ShardArtifact>>,

    /// Per-database artifacts of an all-databases run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_artifacts: Option<Vec<DatabaseArtifact>>,

    /// Sharded databases written but not catalogued in `databaseArtifacts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharded_databases_excluded: Option<Vec<String>>,

    /// Per-family shard artifacts captured by an all-databases run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharded_families: Option<Vec<ShardedFamilyArtifacts>>,

    /// Outcome of the optional `neo4j-admin backup validate` step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<BackupValidationResult>,
}

/// One `.backup` file of a sharded backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShardArtifact {
    /// Per-shard database name (e.g. `products-g000`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub shard_name: Option<String>,

    /// Filename as written by neo4j-admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,

    /// Size in bytes (0 when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// Shard artifacts of one property-sharded family in an all-databases backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShardedFamilyArtifacts {
    /// Logical sharded-database name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub family: Option<String>,

    /// The family's per-shard `.backup` files.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub shard_artifacts: Option<Vec<ShardArtifact>>,
}

/// One database's `.backup` file in an all-databases backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseArtifact {
    /// Logical database name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub database: Option<String>,

    /// Filename as written by neo4j-admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,

    /// Size in bytes (0 when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// Parsed output of `neo4j-admin backup validate`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupValidationResult {
    /// Overall verdict: OK, Degraded or Unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["OK", "Degraded", "Unknown"]))]
    pub overall_status: Option<String>,

    /// Per-shard status rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_shard: Option<Vec<ShardValidationStatus>>,

    /// Truncated raw stdout of the validate command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_output: Option<String>,
}

/// One row of validate output.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShardValidationStatus {
    /// Shard database name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub shard_name: Option<String>,

    /// OK, Ahead, Behind or Unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["OK", "Ahead", "Behind", "Unknown"]))]
    pub status: Option<String>,

    /// Detail of the row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn round_trip(input: Value) -> Result<(), serde_json::Error> {
        let backup: Neo4jBackup = serde_json::from_value(input.clone())?;
        assert_eq!(serde_json::to_value(&backup)?, input);
        Ok(())
    }

    #[test]
    fn minimal_manifest_round_trips() -> Result<(), serde_json::Error> {
        round_trip(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jBackup",
            "metadata": {"name": "nightly", "namespace": "db"},
            "spec": {"instanceRef": "graph", "database": "neo4j", "storage": {"type": "pvc"}}
        }))
    }

    /// A manifest using every top-level spec and status field.
    fn rich_manifest() -> Value {
        json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jBackup",
            "metadata": {"name": "hourly", "namespace": "db"},
            "spec": {
                "instanceRef": "graph",
                "database": "orders",
                "allDatabases": false,
                "shardedDatabase": "products",
                "storage": {
                    "type": "s3",
                    "bucket": "backups",
                    "path": "prod",
                    "cloud": {
                        "provider": "aws",
                        "credentialsSecretRef": "s3-creds",
                        "endpointURL": "https://minio.example.com",
                        "forcePathStyle": false,
                        "identity": {
                            "provider": "aws",
                            "serviceAccount": "backup-sa",
                            "autoCreate": {"enabled": false, "annotations": {}}
                        }
                    }
                },
                "schedule": "0 * * * *",
                "mode": "replication-source",
                "retention": {"maxAge": "7d", "maxCount": 0, "deletePolicy": "Delete"},
                "options": {
                    "resources": {"limits": {"memory": "2Gi"}, "requests": {"cpu": "100m"}},
                    "compress": false,
                    "backupType": "DIFF",
                    "pageCache": "4G",
                    "parallelDownload": false,
                    "remoteAddressResolution": false,
                    "skipRecovery": false,
                    "validate": true,
                    "additionalArgs": [],
                    "preferDiffAsParent": true,
                    "tempPath": "/tmp/staging",
                    "tempStorage": {"size": "50Gi", "storageClassName": "fast"},
                    "includeMetadata": "users",
                    "parallelRecovery": false,
                    "keepFailed": true
                },
                "suspend": false,
                "chainFromBackup": "daily"
            },
            "status": {
                "conditions": [{
                    "type": "Ready",
                    "status": "True",
                    "reason": "BackupCompleted",
                    "message": "done",
                    "lastTransitionTime": "2026-01-02T03:04:05Z",
                    "observedGeneration": 2
                }],
                "phase": "Completed",
                "message": "ok",
                "lastRunTime": "2026-01-02T03:00:00Z",
                "lastSuccessTime": "2026-01-02T03:04:05Z",
                "nextRunTime": "2026-01-02T04:00:00Z",
                "stats": {"size": "1Gi", "duration": "4m5s", "throughput": "4MB/s", "fileCount": 0},
                "replicationPullURI": "s3://backups/prod/hourly",
                "history": [{
                    "runID": "hourly-cron-1767322800",
                    "startTime": "2026-01-02T03:00:00Z",
                    "completionTime": "2026-01-02T03:04:05Z",
                    "status": "Completed",
                    "error": "",
                    "stats": {"size": "1Gi"},
                    "backupsPath": "hourly",
                    "artifactFilename": "orders-2026-01-02T03-00-00.backup",
                    "shardArtifacts": [{"shardName": "products-g000", "filename": "products-g000.backup", "size": 0}],
                    "databaseArtifacts": [{"database": "orders", "filename": "orders.backup", "size": 1024}],
                    "shardedDatabasesExcluded": [],
                    "shardedFamilies": [{"family": "products", "shardArtifacts": []}],
                    "validation": {
                        "overallStatus": "OK",
                        "perShard": [{"shardName": "products-p000", "status": "Ahead", "message": "tx 5"}],
                        "rawOutput": "..."
                    }
                }],
                "observedGeneration": 2
            }
        })
    }

    #[test]
    fn rich_manifest_round_trips() -> Result<(), serde_json::Error> {
        round_trip(rich_manifest())
    }

    #[test]
    fn rich_manifest_uses_every_top_level_field() -> Result<(), serde_json::Error> {
        let crd = serde_json::to_value(<Neo4jBackup as kube::CustomResourceExt>::crd())?;
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
    fn spec_fields_keep_explicit_empty_values() -> Result<(), serde_json::Error> {
        let spec: Neo4jBackupSpec = serde_json::from_value(
            json!({"allDatabases": false, "options": {"additionalArgs": []}}),
        )?;
        assert_eq!(spec.all_databases, Some(false));
        assert_eq!(
            spec.options.and_then(|o| o.additional_args),
            Some(Vec::new())
        );
        Ok(())
    }
    #[test]
    fn missing_required_fields_decode_and_stay_required_in_schema() -> Result<(), serde_json::Error>
    {
        let spec: Neo4jBackupSpec = serde_json::from_value(json!({}))?;
        assert_eq!(spec, Neo4jBackupSpec::default());
        let crd = serde_json::to_value(<Neo4jBackup as kube::CustomResourceExt>::crd())?;
        let required =
            crd.pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/required");
        assert_eq!(required, Some(&json!(["storage"])));
        Ok(())
    }
}
