//! `Neo4jDatabase`: one user database created with `CREATE DATABASE` on a cluster or standalone,
//! optionally seeded from a URI or initial Cypher, with its topology and default Cypher language.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bounds;

use super::common::StorageLocation;

/// Desired state of a Neo4jDatabase.
// CRD-required fields carry no `serde(default)` so the schema lists them in `required`;
// a missing one still decodes to `None`, for the validator to report.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "neo4j.neo4j.com",
    version = "v1beta1",
    kind = "Neo4jDatabase",
    plural = "neo4jdatabases",
    namespaced,
    status = "Neo4jDatabaseStatus",
    derive = "Default",
    derive = "PartialEq"
)]
#[kube(printcolumn = r#"{"name":"Cluster","type":"string","jsonPath":".spec.clusterRef"}"#)]
#[kube(
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#
)]
#[kube(printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#)]
#[kube(printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jDatabaseSpec {
    /// Name of the Neo4jEnterpriseCluster or Neo4jEnterpriseStandalone hosting the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub cluster_ref: Option<String>,

    /// Database name in Neo4j.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub name: Option<String>,

    /// `CREATE DATABASE ... OPTIONS` entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::config_map)]
    pub options: Option<BTreeMap<String, String>>,

    /// Data loaded after creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_data: Option<InitialDataSpec>,

    /// Wait for the database to come online (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub wait: Option<bool>,

    /// Use `IF NOT EXISTS` when creating (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub if_not_exists: Option<bool>,

    /// Number of primaries and secondaries hosting the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<DatabaseTopology>,

    /// Default Cypher language version: "5" or "25".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["5", "25"]))]
    pub default_cypher_language: Option<String>,

    /// URI of a backup or dump to seed the database from.
    #[serde(rename = "seedURI", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::URL_MAX))]
    pub seed_uri: Option<String>,

    /// Seeding options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_config: Option<SeedConfiguration>,

    /// Credentials for the seed URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_credentials: Option<SeedCredentials>,

    /// What deleting this resource does to the database in Neo4j: `Retain` (the default) keeps
    /// it; `Drop` runs `DROP DATABASE` before the resource goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Retain", "Drop"], "default" = "Retain"))]
    pub deletion_policy: Option<String>,
}

/// Database allocation across servers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseTopology {
    /// Number of primary copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub primaries: Option<i32>,

    /// Number of secondary copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub secondaries: Option<i32>,
}

/// Initial data of a new database.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitialDataSpec {
    /// Kind of initial data: cypher, dump or csv.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["cypher", "dump", "csv"]))]
    pub source: Option<String>,

    /// Cypher statements to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::CYPHER_MAX_ITEMS), inner(length(max = bounds::CYPHER_MAX)))]
    pub cypher_statements: Option<Vec<String>>,

    /// ConfigMap holding the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub config_map_ref: Option<String>,

    /// Secret holding the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub secret_ref: Option<String>,

    /// Storage location holding the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageLocation>,
}

/// Seeding options.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeedConfiguration {
    /// Restore the seed up to this point in time or transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub restore_until: Option<String>,

    /// Extra seed configuration entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::config_map)]
    pub config: Option<BTreeMap<String, String>>,
}

/// Credentials for the seed URI.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeedCredentials {
    /// Secret holding the cloud credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub secret_ref: Option<String>,
}

/// Observed state of a Neo4jDatabase.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jDatabaseStatus {
    /// Current conditions of the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,

    /// Current phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,

    /// Human-readable detail of the current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// Generation last observed by the controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Whether the initial data was imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_imported: Option<bool>,

    /// When the database first became ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Time>,

    /// Size of the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,

    /// Database state reported by Neo4j.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,

    /// Servers hosting the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn round_trip(input: Value) -> Result<(), serde_json::Error> {
        let db: Neo4jDatabase = serde_json::from_value(input.clone())?;
        assert_eq!(serde_json::to_value(&db)?, input);
        Ok(())
    }

    #[test]
    fn minimal_manifest_round_trips() -> Result<(), serde_json::Error> {
        round_trip(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jDatabase",
            "metadata": {"name": "orders"},
            "spec": {"clusterRef": "graph", "name": "orders"}
        }))
    }

    /// A manifest using every top-level spec and status field.
    fn rich_manifest() -> Value {
        json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1",
            "kind": "Neo4jDatabase",
            "metadata": {"name": "orders", "namespace": "db", "labels": {"team": "a"}},
            "spec": {
                "clusterRef": "graph",
                "name": "orders",
                "options": {},
                "initialData": {
                    "source": "cypher",
                    "cypherStatements": ["CREATE (:A)", "CREATE (:B)"],
                    "configMapRef": "init-cm",
                    "secretRef": "init-secret",
                    "storage": {"type": "s3", "bucket": "seed", "path": "x"}
                },
                "wait": false,
                "ifNotExists": false,
                "topology": {"primaries": 1, "secondaries": 0},
                "defaultCypherLanguage": "25",
                "seedURI": "s3://seed/orders.backup",
                "seedConfig": {"restoreUntil": "2026-01-01T00:00:00Z", "config": {"region": "eu-west-1"}},
                "seedCredentials": {"secretRef": "seed-creds"},
                "deletionPolicy": "Drop"
            },
            "status": {
                "conditions": [{
                    "type": "Ready",
                    "status": "False",
                    "reason": "ClusterNotReady",
                    "message": "waiting",
                    "lastTransitionTime": "2026-01-02T03:04:05Z"
                }],
                "phase": "Pending",
                "message": "waiting",
                "observedGeneration": 3,
                "dataImported": false,
                "creationTime": "2026-01-02T03:04:05Z",
                "size": "",
                "state": "online",
                "servers": []
            }
        })
    }

    #[test]
    fn rich_manifest_round_trips() -> Result<(), serde_json::Error> {
        round_trip(rich_manifest())
    }

    #[test]
    fn rich_manifest_uses_every_top_level_field() -> Result<(), serde_json::Error> {
        let crd = serde_json::to_value(<Neo4jDatabase as kube::CustomResourceExt>::crd())?;
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
        let spec: Neo4jDatabaseSpec = serde_json::from_value(json!({}))?;
        assert_eq!(spec, Neo4jDatabaseSpec::default());
        let crd = serde_json::to_value(<Neo4jDatabase as kube::CustomResourceExt>::crd())?;
        let required =
            crd.pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/required");
        assert_eq!(required, Some(&json!(["clusterRef", "name"])));
        Ok(())
    }
}
