//! `neo4j-shared`: every piece of policy of the Neo4j operator — the custom resource types,
//! defaults, validation, memory sizing, naming — as pure functions with no I/O, so the webhook,
//! the offline checker and the controller all run the same lines.

pub mod catalog;
pub mod crd;
pub mod cron;
pub mod cypher;
pub mod defaults;
pub mod engine;
pub mod inventory;
pub mod memory;
pub mod names;
pub mod plugins;
pub mod policy;
pub mod render;
pub mod schema;
pub mod secrets;
pub mod settings;
pub mod status;
pub mod status_backup;
pub mod status_restore;
pub mod text;
pub mod topology;
pub mod types;
pub mod units;
pub mod validate;
pub mod verdict;
pub mod version;

pub use verdict::{Finding, Verdict};
