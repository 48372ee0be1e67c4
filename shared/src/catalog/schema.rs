//! What the API server refuses before our webhooks are called (`schema/`): fields the CRD schema
//! does not have, and each class of schema constraint. The webhook never reports these (the API
//! server has refused the object by then); `neo4j-webhook check` does, with the message the API
//! server prints, so that its verdict is the one `kubectl apply` gets.
//!
//! [`OWNERSHIP`] records, for every constraint the schema and a webhook rule could both check,
//! which of the two owns it — and so whose message the user sees. A test holds it to the
//! generated CRDs.

use super::rule::Severity::*;
use super::rule::Stage::*;
use super::rule::{ALL_KINDS, CLUSTER, INSTANCE, Rule};
use crate::types::Kind;

pub const RULES: &[Rule] = &[
    Rule {
        id: "metadata-name-invalid",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Schema,
        fields: &["metadata.name"],
        message: "metadata.name: Invalid value: {name}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        hint: "use lower-case letters, digits, '-' and '.', at most 253 characters (the server kinds allow less: see name-dns1035-label)",
    },
    Rule {
        id: "schema-duplicate",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Schema,
        fields: &["*"],
        message: "{path}[{i}]: Duplicate value: {key} (two items of a keyed list with the same key, such as spec.topology.serverRoles[*].serverIndex)",
        hint: "merge the two items or change one's key",
    },
    Rule {
        id: "schema-enum",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Schema,
        fields: &["*"],
        message: "{path}: Unsupported value: {value}: supported values: {values}",
        hint: "use one of the supported values",
    },
    Rule {
        id: "schema-length",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Schema,
        fields: &["*"],
        message: "{path}: Too long: may not be more than {n} bytes | {path}: Invalid value: {value}: {path} in body should be at least {n} chars long",
        hint: "shorten (or lengthen) the value to the bound the schema gives",
    },
    Rule {
        id: "schema-pattern",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Schema,
        fields: &["*"],
        message: "{path}: Invalid value: {value}: {path} in body should match {pattern}",
        hint: "write the value in the form the pattern describes (see the field's description in the CRD)",
    },
    Rule {
        id: "schema-range",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Schema,
        fields: &["*"],
        message: "{path}: Invalid value: {n}: {path} in body should be greater than or equal to {min} | less than or equal to {max}",
        hint: "give a number within the bounds",
    },
    Rule {
        id: "schema-required",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Schema,
        fields: &["*"],
        message: "{path}: Required value",
        hint: "add the field (see the field's description in the CRD)",
    },
    Rule {
        id: "schema-rule",
        severity: Error,
        kinds: &[Kind::Cluster, Kind::Plugin],
        operation: Schema,
        fields: &["spec.topology", "spec.source", "spec"],
        message: "{path}: Invalid value: {the rule's message} (a CEL rule of the CRD, x-kubernetes-validations)",
        hint: "do what the rule's message says",
    },
    Rule {
        id: "schema-size",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Schema,
        fields: &["*"],
        message: "{path}: Too many: {n}: must have at most {max} items | {path}: Invalid value: {n}: {path} in body should have at least {min} items",
        hint: "remove (or add) items to stay within the bound",
    },
    Rule {
        id: "schema-type",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Schema,
        fields: &["*"],
        message: "{path}: Invalid value: {actual}: {path} in body must be of type {type}: {actual}",
        hint: "give the field the type the schema expects; quote values YAML would read as numbers or booleans (yes, no, on, off, 1.0)",
    },
    Rule {
        id: "unknown-field",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Schema,
        fields: &["*"],
        message: "{path}: unknown field (strict decoding error: unknown field {path}); the {kind} schema has no such field",
        hint: "check the field's spelling and indentation, or remove it; kubectl's default strict field validation refuses the whole object",
    },
];

/// Who checks a constraint that the CRD schema and a webhook rule could both check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The schema has the constraint (the API server refuses first, with its own message); the
    /// webhook rule stays as a second line for objects the schema let through before.
    Schema,
    /// The schema leaves the constraint out, so the webhook's rule id and hint reach the user.
    /// Nothing is lost: the webhook is `failurePolicy: Fail`.
    Webhook,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Schema => "schema",
            Owner::Webhook => "webhook",
        }
    }
}

/// A schema constraint, as it appears (or does not) on the node of a field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Constraint {
    /// The field is in its parent's `required`.
    Required,
    Enum,
    Minimum(f64),
    Maximum(f64),
    Pattern,
    MaxLength(u64),
    MaxItems(u64),
    /// A CEL rule on the node, by its message.
    Rule(&'static str),
}

impl Constraint {
    pub fn describe(self) -> String {
        match self {
            Constraint::Required => "required".into(),
            Constraint::Enum => "enum".into(),
            Constraint::Minimum(n) => format!("minimum {n}"),
            Constraint::Maximum(n) => format!("maximum {n}"),
            Constraint::Pattern => "pattern".into(),
            Constraint::MaxLength(n) => format!("maxLength {n}"),
            Constraint::MaxItems(n) => format!("maxItems {n}"),
            Constraint::Rule(message) => format!("CEL rule: {message}"),
        }
    }
}

/// One decision: the constraint on `field` of `kinds`, who owns it, the webhook rule that checks
/// the same thing, and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ownership {
    /// Dotted path of the field in the schema (`[]` steps into list items).
    pub field: &'static str,
    pub kinds: &'static [Kind],
    pub constraint: Constraint,
    pub owner: Owner,
    pub rule: &'static str,
    pub why: &'static str,
}

/// The common mistakes, whose refusal must carry our rule id and hint.
const COMMON: &str =
    "a common mistake: the rule's message says what to write, the schema's would not";
/// Rare mistakes, which the schema's message already names precisely.
const PRECISE: &str = "the schema's message names the field and the bound or the allowed values; the refusal loses nothing";

/// A size bound of `types/bounds.rs` looser than the rule's own limit.
const LOOSER: &str = "the schema's size bound (types/bounds.rs) is looser and only stops absurd values; the rule's limit and message reach the user";

const BACKUP: &[Kind] = &[Kind::Backup];
const DATABASE: &[Kind] = &[Kind::Database];
const PLUGIN: &[Kind] = &[Kind::Plugin];

pub const OWNERSHIP: &[Ownership] = &[
    Ownership {
        field: "spec.topology.servers",
        kinds: CLUSTER,
        constraint: Constraint::Minimum(2.0),
        owner: Owner::Webhook,
        rule: "cluster-min-servers",
        why: "a one-server cluster is the most common mistake; the rule says to use a Neo4jEnterpriseStandalone",
    },
    Ownership {
        field: "spec.acceptLicenseAgreement",
        kinds: INSTANCE,
        constraint: Constraint::Enum,
        owner: Owner::Webhook,
        rule: "license-value",
        why: "the rule says what each accepted value means (commercial licence or evaluation)",
    },
    Ownership {
        field: "spec.image",
        kinds: INSTANCE,
        constraint: Constraint::Required,
        owner: Owner::Webhook,
        rule: "image-required",
        why: COMMON,
    },
    Ownership {
        field: "spec.image.repo",
        kinds: INSTANCE,
        constraint: Constraint::Required,
        owner: Owner::Webhook,
        rule: "image-repo-required",
        why: COMMON,
    },
    Ownership {
        field: "spec.image.tag",
        kinds: INSTANCE,
        constraint: Constraint::Required,
        owner: Owner::Webhook,
        rule: "image-tag-required",
        why: "the rule names the supported versions",
    },
    Ownership {
        field: "spec.storage",
        kinds: INSTANCE,
        constraint: Constraint::Required,
        owner: Owner::Webhook,
        rule: "storage-required",
        why: COMMON,
    },
    Ownership {
        field: "spec.storage.size",
        kinds: INSTANCE,
        constraint: Constraint::Required,
        owner: Owner::Webhook,
        rule: "storage-size-required",
        why: COMMON,
    },
    Ownership {
        field: "spec.topology.servers",
        kinds: CLUSTER,
        constraint: Constraint::Maximum(100.0),
        owner: Owner::Schema,
        rule: "cluster-max-servers",
        why: PRECISE,
    },
    Ownership {
        field: "spec.topology.minSystemPrimaries",
        kinds: CLUSTER,
        constraint: Constraint::Minimum(2.0),
        owner: Owner::Schema,
        rule: "cluster-min-system-primaries-floor",
        why: PRECISE,
    },
    Ownership {
        field: "spec.topology",
        kinds: CLUSTER,
        constraint: Constraint::Rule("minSystemPrimaries must not exceed servers"),
        owner: Owner::Schema,
        rule: "cluster-min-system-primaries-ceiling",
        why: "the rule's message says what is wrong; kept in the schema as the reference has it",
    },
    Ownership {
        field: "spec.topology",
        kinds: CLUSTER,
        constraint: Constraint::Rule("serverRoles[].serverIndex must be below servers"),
        owner: Owner::Schema,
        rule: "cluster-server-role-index-range",
        why: "the rule's message says what is wrong; kept in the schema as the reference has it",
    },
    Ownership {
        field: "spec.topology",
        kinds: CLUSTER,
        constraint: Constraint::Rule("at least one server must be able to host primaries"),
        owner: Owner::Schema,
        rule: "cluster-server-roles-all-secondary",
        why: "the rule's message says what is wrong; kept in the schema as the reference has it",
    },
    Ownership {
        field: "spec.topology.serverModeConstraint",
        kinds: CLUSTER,
        constraint: Constraint::Enum,
        owner: Owner::Schema,
        rule: "cluster-server-mode-constraint-enum",
        why: PRECISE,
    },
    Ownership {
        field: "spec.topology.serverRoles",
        kinds: CLUSTER,
        constraint: Constraint::MaxItems(100),
        owner: Owner::Schema,
        rule: "cluster-server-roles-max-items",
        why: PRECISE,
    },
    Ownership {
        field: "spec.storage.retentionPolicy",
        kinds: INSTANCE,
        constraint: Constraint::Enum,
        owner: Owner::Schema,
        rule: "storage-retention-enum",
        why: PRECISE,
    },
    Ownership {
        field: "spec.tls.mode",
        kinds: INSTANCE,
        constraint: Constraint::Enum,
        owner: Owner::Schema,
        rule: "tls-mode-enum",
        why: PRECISE,
    },
    Ownership {
        field: "spec.tls.usages",
        kinds: INSTANCE,
        constraint: Constraint::MaxItems(32),
        owner: Owner::Schema,
        rule: "tls-usages-bounds",
        why: PRECISE,
    },
    Ownership {
        field: "spec.tls.usages.[]",
        kinds: INSTANCE,
        constraint: Constraint::MaxLength(64),
        owner: Owner::Schema,
        rule: "tls-usages-bounds",
        why: PRECISE,
    },
    Ownership {
        field: "spec.image.tag",
        kinds: INSTANCE,
        constraint: Constraint::MaxLength(63),
        owner: Owner::Webhook,
        rule: "image-tag-label-safe",
        why: LOOSER,
    },
    Ownership {
        field: "spec.auraFleetManagement.provision.deploymentName",
        kinds: INSTANCE,
        constraint: Constraint::MaxLength(30),
        owner: Owner::Webhook,
        rule: "fleet-deployment-name-length",
        why: LOOSER,
    },
    Ownership {
        field: "spec.database",
        kinds: BACKUP,
        constraint: Constraint::Pattern,
        owner: Owner::Schema,
        rule: "backup-database-name",
        why: PRECISE,
    },
    Ownership {
        field: "spec.database",
        kinds: BACKUP,
        constraint: Constraint::MaxLength(65),
        owner: Owner::Schema,
        rule: "backup-database-name",
        why: PRECISE,
    },
    Ownership {
        field: "spec.mode",
        kinds: BACKUP,
        constraint: Constraint::Enum,
        owner: Owner::Schema,
        rule: "backup-options-patterns",
        why: PRECISE,
    },
    Ownership {
        field: "spec.options.backupType",
        kinds: BACKUP,
        constraint: Constraint::Enum,
        owner: Owner::Schema,
        rule: "backup-options-patterns",
        why: PRECISE,
    },
    Ownership {
        field: "spec.chainFromBackup",
        kinds: BACKUP,
        constraint: Constraint::MaxLength(253),
        owner: Owner::Schema,
        rule: "backup-chain-name",
        why: PRECISE,
    },
    Ownership {
        field: "spec.shardedDatabase",
        kinds: BACKUP,
        constraint: Constraint::MaxLength(253),
        owner: Owner::Schema,
        rule: "backup-sharded-name",
        why: PRECISE,
    },
    Ownership {
        field: "spec.topology.primaries",
        kinds: DATABASE,
        constraint: Constraint::Minimum(1.0),
        owner: Owner::Schema,
        rule: "database-topology-primaries",
        why: PRECISE,
    },
    Ownership {
        field: "spec.topology.secondaries",
        kinds: DATABASE,
        constraint: Constraint::Minimum(0.0),
        owner: Owner::Schema,
        rule: "database-topology-secondaries",
        why: PRECISE,
    },
    Ownership {
        field: "spec.defaultCypherLanguage",
        kinds: DATABASE,
        constraint: Constraint::Enum,
        owner: Owner::Schema,
        rule: "database-cypher-version",
        why: PRECISE,
    },
    Ownership {
        field: "spec.name",
        kinds: DATABASE,
        constraint: Constraint::MaxLength(65),
        owner: Owner::Webhook,
        rule: "database-name-max-len",
        why: LOOSER,
    },
    Ownership {
        field: "spec.installMode",
        kinds: PLUGIN,
        constraint: Constraint::Enum,
        owner: Owner::Schema,
        rule: "plugin-install-mode",
        why: PRECISE,
    },
    Ownership {
        field: "spec.source",
        kinds: PLUGIN,
        constraint: Constraint::Rule(
            "source.url scheme must be https: plugin JARs are downloaded over the network and a non-https scheme has no transport integrity",
        ),
        owner: Owner::Schema,
        rule: "plugin-url-https",
        why: "the rule's message says what is wrong and why",
    },
    Ownership {
        field: "spec.version",
        kinds: PLUGIN,
        constraint: Constraint::MaxLength(64),
        owner: Owner::Webhook,
        rule: "plugin-version-format",
        why: LOOSER,
    },
    Ownership {
        field: "spec.source.url",
        kinds: PLUGIN,
        constraint: Constraint::MaxLength(2048),
        owner: Owner::Schema,
        rule: "plugin-url-https",
        why: PRECISE,
    },
];
