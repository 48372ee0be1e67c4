//! The rule catalogue: every rule id admission can report, with its severity, the kinds it
//! applies to, when it is checked, the field paths it names, the shape of its message and what
//! the user should do.
//!
//! Rule ids are a public interface: they appear in denial messages and warnings (`<id>: …`),
//! as the `rule` label of `neo4j_admission_warnings_total` and `neo4j_admission_denials_total`,
//! as the reason of the controller's Warning events, and in dashboards and alerts built on
//! those. An id is never renamed, never reused for another meaning, and never removed while
//! the code can still report it. `docs/rules.md` is generated from these tables
//! (`neo4j-webhook rules --output markdown`, `make rules-doc`).
//!
//! The tables follow the code that reports the rules: [`schema`] for what the API server
//! refuses before the webhooks (predicted by `check`, with the record of which constraints the
//! schema owns and which the webhook), [`envelope`] for the engine itself
//! (every kind), [`instance`] for the rules Neo4jEnterpriseCluster and
//! Neo4jEnterpriseStandalone share (a few of them report a kind-specific id), [`cluster`],
//! [`memory`] (cluster memory sizing) and [`standalone`] for what only one of the two has, and
//! one table per other kind. Each table is sorted by id. Tests hold the tables to the code:
//! every id the code reports is listed and every listed id is reported, ids are unique,
//! kebab-case and sorted, and every id has a table test where it fires and a near miss where
//! it does not (see [`coverage`]).

pub mod backup;
pub mod cluster;
pub mod database;
pub mod envelope;
pub mod instance;
pub mod memory;
pub mod plugin;
pub mod restore;
mod rule;
pub mod schema;
pub mod standalone;
#[cfg(test)]
mod tests;

use crate::types::Kind;

pub use rule::{Rule, Severity, Stage};

/// One table of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Schema,
    Envelope,
    Instance,
    Cluster,
    Memory,
    Standalone,
    Backup,
    Restore,
    Database,
    Plugin,
}

impl Table {
    /// Every table, in the order they are printed.
    pub const ALL: [Table; 10] = [
        Table::Schema,
        Table::Envelope,
        Table::Instance,
        Table::Cluster,
        Table::Memory,
        Table::Standalone,
        Table::Backup,
        Table::Restore,
        Table::Database,
        Table::Plugin,
    ];

    pub fn rules(self) -> &'static [Rule] {
        match self {
            Table::Schema => schema::RULES,
            Table::Envelope => envelope::RULES,
            Table::Instance => instance::RULES,
            Table::Cluster => cluster::RULES,
            Table::Memory => memory::RULES,
            Table::Standalone => standalone::RULES,
            Table::Backup => backup::RULES,
            Table::Restore => restore::RULES,
            Table::Database => database::RULES,
            Table::Plugin => plugin::RULES,
        }
    }

    /// Short name, as in `--output json` and the module name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Schema => "schema",
            Table::Envelope => "envelope",
            Table::Instance => "instance",
            Table::Cluster => "cluster",
            Table::Memory => "memory",
            Table::Standalone => "standalone",
            Table::Backup => "backup",
            Table::Restore => "restore",
            Table::Database => "database",
            Table::Plugin => "plugin",
        }
    }

    /// Heading of the table.
    pub fn title(self) -> &'static str {
        match self {
            Table::Schema => "Every kind: the API server, before the webhooks",
            Table::Envelope => "Every kind: envelope and engine",
            Table::Instance => "Neo4jEnterpriseCluster and Neo4jEnterpriseStandalone",
            Table::Cluster => "Neo4jEnterpriseCluster",
            Table::Memory => "Neo4jEnterpriseCluster memory",
            Table::Standalone => "Neo4jEnterpriseStandalone",
            Table::Backup => "Neo4jBackup",
            Table::Restore => "Neo4jRestore",
            Table::Database => "Neo4jDatabase",
            Table::Plugin => "Neo4jPlugin",
        }
    }

    /// One paragraph on what the table holds.
    pub fn about(self) -> &'static str {
        match self {
            Table::Schema => {
                "Refused by the API server before any webhook is called: fields the CRD schema does not have (kubectl's strict field validation), the schema's constraints and its CEL rules. The webhook never reports these; neo4j-webhook check does, with the API server's message, so that its verdict is the one kubectl apply gets. On UPDATE the API server ratchets them: a value the update leaves unchanged is not refused again."
            }
            Table::Envelope => {
                "Checked by the admission engine for every kind: the API version and name, decoding, the not-implemented notice, and the notice that a cross-object check was skipped."
            }
            Table::Instance => {
                "The rules both server kinds share. Where the two kinds differ, the row names the one kind it applies to; a few shared checks report a kind-specific id. The resources rows also apply to the resources blocks of backups, restores and plugins."
            }
            Table::Cluster => {
                "Topology, property sharding and the update rules only a cluster has, besides the shared rules and the memory rules."
            }
            Table::Memory => {
                "Heap, page cache and transaction memory of each cluster server, from spec.resources.limits.memory and the memory keys of spec.config or spec.propertySharding.config."
            }
            Table::Standalone => "What only a standalone has, besides the shared rules.",
            Table::Backup => {
                "Scope, storage, schedule, retention and options of a backup; the target and its version are checked against the inventory."
            }
            Table::Restore => {
                "Source, target database, options and hooks of a restore; the target is checked against the inventory."
            }
            Table::Database => {
                "Name, topology, seeding and options of a database; the host and its capacity are checked against the inventory."
            }
            Table::Plugin => {
                "Name, version, source, security and configuration of a plugin; the target is checked against the inventory."
            }
        }
    }
}

/// Every row, table by table (each table sorted by id).
pub fn all() -> impl Iterator<Item = (Table, &'static Rule)> {
    Table::ALL
        .into_iter()
        .flat_map(|t| t.rules().iter().map(move |r| (t, r)))
}

/// The row of `id`, with its table.
pub fn get(id: &str) -> Option<(Table, &'static Rule)> {
    all().find(|(_, r)| r.id == id)
}

/// The ids of `table` checked at `operation`, in table order.
pub fn ids(table: Table, operation: Stage) -> Vec<&'static str> {
    table
        .rules()
        .iter()
        .filter(|r| r.operation == operation)
        .map(|r| r.id)
        .collect()
}

/// The ids of every table that `kind` reports at `operation`.
pub fn ids_on(kind: Kind, operation: Stage) -> Vec<&'static str> {
    all()
        .filter(|(_, r)| r.operation == operation && r.kinds.contains(&kind))
        .map(|(_, r)| r.id)
        .collect()
}

/// Every id the validators of `kind` can report (its create, update and cross rules, with
/// `field-not-implemented` and `cross-check-skipped`), leaving out the API server's and the
/// engine's checks that run before them.
pub fn ids_for(kind: Kind) -> Vec<&'static str> {
    all()
        .filter(|(_, r)| {
            !matches!(r.operation, Stage::Admission | Stage::Schema) && r.kinds.contains(&kind)
        })
        .map(|(_, r)| r.id)
        .collect()
}

/// The id lists the table tests assert coverage of: each id of a list has a case where it
/// fires and a near miss where it does not. Together they hold every id of the catalogue
/// (checked by this module's tests, which also check that each list is used).
pub mod coverage {
    use super::{Kind, Stage, Table, ids, ids_for, ids_on};

    /// The engine's admission checks: `catalog::tests::envelope_rules_table`.
    pub fn envelope() -> Vec<&'static str> {
        ids(Table::Envelope, Stage::Admission)
    }

    /// The API server's checks that `check` predicts: `schema` tests,
    /// `every_schema_rule_has_a_hit_and_a_near_miss`.
    pub fn schema() -> Vec<&'static str> {
        ids(Table::Schema, Stage::Schema)
    }

    /// The shared create rules (and the not-implemented notice they report):
    /// `validate::instance` tests, `every_shared_rule_has_a_hit_and_a_near_miss`.
    pub fn shared() -> Vec<&'static str> {
        let mut v = ids(Table::Instance, Stage::CreateUpdate);
        v.push("field-not-implemented");
        v
    }

    /// The shared rules checked with the namespace: `validate::instance` tests,
    /// `route_host_must_fit_a_dns_label_when_generated`.
    pub fn shared_cross() -> Vec<&'static str> {
        ids(Table::Instance, Stage::Cross)
    }

    /// The cluster's own create rules: `validate::cluster` tests,
    /// `every_cluster_rule_has_a_hit_and_a_near_miss`.
    pub fn cluster() -> Vec<&'static str> {
        ids(Table::Cluster, Stage::CreateUpdate)
    }

    /// Every update rule of a cluster (its own and the shared storage ones): the same test.
    pub fn cluster_update() -> Vec<&'static str> {
        ids_on(Kind::Cluster, Stage::Update)
    }

    /// The standalone's own rules and every update rule of a standalone: `validate::standalone`
    /// tests, `every_standalone_rule_has_a_hit_and_a_near_miss`.
    pub fn standalone() -> Vec<&'static str> {
        let mut v = ids(Table::Standalone, Stage::CreateUpdate);
        v.extend(ids_on(Kind::Standalone, Stage::Update));
        v
    }

    /// The memory rules: `memory` tests, `memory_rules_table`.
    pub fn memory() -> Vec<&'static str> {
        ids(Table::Memory, Stage::CreateUpdate)
    }

    /// Every id of a backup, restore, database or plugin (the table runner of
    /// `validate::testkit`, which exempts `field-not-implemented`: it checks that notice on
    /// every case instead).
    pub fn kind(kind: Kind) -> Vec<&'static str> {
        ids_for(kind)
    }
}
