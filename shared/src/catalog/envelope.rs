//! Rules of the admission engine itself, for every kind (`engine.rs`, `validate/mod.rs`).

use super::rule::Severity::*;
use super::rule::Stage::*;
use super::rule::{ALL_KINDS, Rule};
use crate::types::Kind;

pub const RULES: &[Rule] = &[
    Rule {
        id: "api-version-unsupported",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Admission,
        fields: &["apiVersion"],
        message: "{apiVersion} is not served; use neo4j.neo4j.com/v1beta1",
        hint: "set apiVersion: neo4j.neo4j.com/v1beta1, the one version served",
    },
    Rule {
        id: "cross-check-skipped",
        severity: Warning,
        kinds: &[Kind::Backup, Kind::Restore, Kind::Database, Kind::Plugin],
        operation: Cross,
        fields: &["spec.instanceRef", "spec.clusterRef"],
        message: "{what the check looks at} was not checked: the webhook has no view of the cluster",
        hint: "nothing to change in the object; run the webhook with access to the API server (not --no-cluster) to have the target checked",
    },
    Rule {
        id: "field-not-implemented",
        severity: Warning,
        kinds: ALL_KINDS,
        operation: CreateUpdate,
        fields: &[
            "spec",
            "spec.mcp",
            "spec.auraFleetManagement",
            "spec.auth.ldap",
            "spec.auth.oidc",
            "spec.auth.externalSecrets",
            "spec.tls.externalSecrets",
            "spec.service.ingress",
            "spec.service.route",
            "spec.networkPolicy",
            "spec.audit",
            "spec.upgradeStrategy.strategy",
            "spec.propertySharding",
            "spec.topology.placement.nodeSelector",
            "spec.topology.placement.requiredDuringScheduling",
            "spec.shardedDatabase",
            "spec.options.validate",
            "spec.storage.pvc.size",
            "spec.allDatabases",
            "spec.source.pitr",
            "spec.options.preRestore",
            "spec.options.postRestore",
            "spec.options.tempStorage",
            "spec.security.securityPolicy",
        ],
        message: "{field} is accepted and kept, but this operator version does not act on it yet | {field} is accepted and kept, but this operator version does not act on it: {what happens instead} | {kind} objects are validated and stored, but this operator version does not run them yet (every Neo4jDatabase and Neo4jPlugin, on spec)",
        hint: "expect no effect from the field (or no controller for the kind) in this version; the object is stored unchanged",
    },
    Rule {
        id: "metadata-name-required",
        severity: Error,
        kinds: ALL_KINDS,
        operation: Admission,
        fields: &["metadata.name"],
        message: "the object has no name; set metadata.name",
        hint: "set metadata.name (or metadata.generateName)",
    },
    Rule {
        id: "object-decode",
        severity: ErrorOrWarning,
        kinds: ALL_KINDS,
        operation: Admission,
        fields: &["*", "(object)"],
        message: "cannot be decoded: {decoder error} (error, 422, from the validating webhook and check) | {field}: {decoder error}; no defaults applied (warning from the mutating webhook)",
        hint: "give the named field the type the schema expects (e.g. a number, not a string); the field is the path of the first value that does not decode",
    },
];
