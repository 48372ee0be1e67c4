//! Status types both deployment kinds (Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone)
//! report: endpoints, connection examples and the diagnostics of databases, users and roles.
//! Written by the controller, so without the size bounds of the specs (see `bounds.rs`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Connection endpoints.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bolt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<InternalEndpoints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_examples: Option<ConnectionExamples>,
}

/// In-cluster Service endpoints.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InternalEndpoints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headless: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// Example connection strings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionExamples {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_forward: Option<String>,
    #[serde(rename = "browserURL")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_url: Option<String>,
    #[serde(rename = "boltURI")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bolt_uri: Option<String>,
    #[serde(rename = "neo4jURI")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neo4j_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python_example: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub java_example: Option<String>,
}

/// One row of `SHOW DATABASES`, as seen by the operator over Bolt.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseDiagnosticInfo {
    pub name: String,
    /// e.g. `online`, `offline`, `quarantined`.
    pub status: String,
    pub requested_status: String,
    /// Role on the most recently contacted server, e.g. `primary`.
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// `system`, `standard`, `composite`, `graph shard`, `property shard`, `replica`.
    #[serde(rename = "type")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// `read-write` or `read-only`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_committed_txn: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_lag: Option<i64>,
}

/// One row of `SHOW USERS`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDiagnosticInfo {
    pub user: String,
    /// Directly granted roles (without PUBLIC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_database: Option<String>,
}

/// One row of `SHOW ROLES YIELD role, immutable`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleDiagnosticInfo {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}
