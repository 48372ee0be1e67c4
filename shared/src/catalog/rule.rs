//! The vocabulary of the catalogue's rows: a rule, its severity, when it is checked, and the
//! kind sets the tables name.

use crate::types::Kind;

/// Whether a finding refuses the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The object is refused (403, or 422 for `object-decode`).
    Error,
    /// The object is admitted; the user is told (kubectl prints `Warning: …`).
    Warning,
    /// One id, reported as an error in some situations and as a warning in others; the
    /// message column of the rule says which is which. Kept as one id because dashboards
    /// already count it under that name.
    ErrorOrWarning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::ErrorOrWarning => "error or warning",
        }
    }
}

/// When a rule is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// By the API server before any webhook is called (strict field validation, the CRD schema
    /// and its CEL rules); only `neo4j-webhook check` reports these, predicting the refusal.
    Schema,
    /// By the engine on every CREATE and UPDATE of every kind, before the kind's rules
    /// (decoding also on the mutating call).
    Admission,
    /// On CREATE and on UPDATE, from the object alone.
    CreateUpdate,
    /// On UPDATE only, comparing the stored object with the new one.
    Update,
    /// On CREATE and UPDATE, against other objects (the webhook's watch cache, or the other
    /// documents of a `check` run) or the object's namespace.
    Cross,
    /// From the object alone and, for another condition, against other objects.
    CreateUpdateCross,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Schema => "schema",
            Stage::Admission => "admission",
            Stage::CreateUpdate => "create, update",
            Stage::Update => "update",
            Stage::Cross => "cross",
            Stage::CreateUpdateCross => "create, update, cross",
        }
    }
}

/// One rule id and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable kebab-case id.
    pub id: &'static str,
    pub severity: Severity,
    /// The kinds whose objects can report it.
    pub kinds: &'static [Kind],
    pub operation: Stage,
    /// The field paths it names; `*` stands for a map key or list index, as in
    /// `spec.config[*]` or `spec.extraVolumes[*].name`.
    pub fields: &'static [&'static str],
    /// The shape of the message, `{…}` standing for a value from the object; variants are
    /// separated by ` | `.
    pub message: &'static str,
    /// What the user should do.
    pub hint: &'static str,
}

pub(crate) const ALL_KINDS: &[Kind] = &Kind::ALL;
pub(crate) const INSTANCE: &[Kind] = &[Kind::Cluster, Kind::Standalone];
pub(crate) const CLUSTER: &[Kind] = &[Kind::Cluster];
pub(crate) const STANDALONE: &[Kind] = &[Kind::Standalone];
pub(crate) const BACKUP: &[Kind] = &[Kind::Backup];
pub(crate) const RESTORE: &[Kind] = &[Kind::Restore];
pub(crate) const DATABASE: &[Kind] = &[Kind::Database];
pub(crate) const PLUGIN: &[Kind] = &[Kind::Plugin];
