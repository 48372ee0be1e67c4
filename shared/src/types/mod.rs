//! The custom resource types of `neo4j.neo4j.com/v1beta1`, field for field compatible with the
//! reference operator's CRD schemas, so existing manifests deserialize unchanged and nothing a
//! user wrote is pruned. [`Kind`] names the six kinds and [`Operation`] the admission
//! operations, for every layer above.

pub mod backup;
pub mod bounds;
pub mod cluster;
pub mod common;
pub mod database;
pub mod instance_status;
pub mod kind;
pub mod plugin;
pub mod restore;
pub mod standalone;

pub use backup::*;
pub use cluster::*;
pub use common::*;
pub use database::*;
pub use kind::{Kind, Operation};
pub use plugin::*;
pub use restore::*;
pub use standalone::*;

/// The API group of every kind.
pub const GROUP: &str = "neo4j.neo4j.com";
/// The only served and stored version.
pub const VERSION: &str = "v1beta1";
/// `apiVersion` as it appears in manifests.
pub const API_VERSION: &str = "neo4j.neo4j.com/v1beta1";
