//! What the API server checks before our webhooks ever see an object, from the CRDs generated
//! out of our types (`crd.rs`, `manifests/crds/`): strict field validation (unknown fields), the
//! structural schema (types, required, enum, ranges, patterns, lengths, list sizes, list-map
//! keys) and the CEL rules (`x-kubernetes-validations`). `neo4j-webhook check` runs it so that its
//! verdict is the one `kubectl apply` gets; the webhook never needs it, since the API server has
//! run the same checks by the time it calls us.
//!
//! The checks follow the API server's own order and wording:
//!
//! 1. decoding with strict field validation: every field the schema does not have is refused at
//!    once (`unknown-field`, one finding per field, nothing else checked);
//! 2. the mutating webhooks, then null pruning and the schema's `default`s ([`Structural::default`]);
//! 3. `metadata.name` (a DNS-1123 subdomain), the schema, the list-type invariants and, when none
//!    of the errors found so far blocks them, the CEL rules ([`Structural::validate`]).
//!
//! On UPDATE the API server ratchets the schema: an error inside a value the update leaves as it
//! was is dropped, so objects stored before a constraint existed stay editable. The same here
//! ([`Structural::validate`] with the stored object).
//!
//! Every finding's message is the line the API server prints after the field path
//! (`Invalid value: 1: spec.topology.servers in body should be greater than or equal to 2`), and
//! its rule id names the class of constraint (the `schema` table of the rule catalogue).

mod cel;
pub(crate) mod compile;
mod ids;
#[cfg(test)]
mod tests;
mod walk;

use std::sync::OnceLock;

use serde_json::Value;

use crate::types::Kind;
use crate::verdict::Finding;

pub use compile::Node;
pub use ids::*;

/// The structural schema of one kind, compiled once.
#[derive(Debug)]
pub struct Structural {
    kind: Kind,
    root: Node,
}

/// The compiled schema of `kind`, from the CRD the types generate.
pub fn of(kind: Kind) -> &'static Structural {
    static SCHEMAS: [OnceLock<Structural>; Kind::ALL.len()] =
        [const { OnceLock::new() }; Kind::ALL.len()];
    let index = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    SCHEMAS[index].get_or_init(|| Structural::for_kind(kind))
}

impl Structural {
    fn for_kind(kind: Kind) -> Structural {
        let crd = crate::crd::definition(kind);
        let schema = crd
            .spec
            .versions
            .first()
            .and_then(|v| v.schema.as_ref())
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .map(|s| serde_json::to_value(s).unwrap_or_default())
            .unwrap_or_default();
        Structural {
            kind,
            root: Node::compile(&schema),
        }
    }

    /// A schema compiled from an `openAPIV3Schema` given as JSON (for tests and tools).
    pub fn from_json(kind: Kind, schema: &Value) -> Structural {
        Structural {
            kind,
            root: Node::compile(schema),
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The root node of the schema.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The fields of `object` the schema does not have, as strict field validation refuses them:
    /// `metadata` fields first, then the others sorted by path.
    pub fn unknown_fields(&self, object: &Value) -> Vec<Finding> {
        walk::unknown_fields(&self.root, object)
            .into_iter()
            .map(|path| {
                Finding::new(
                    UNKNOWN_FIELD,
                    path.clone(),
                    format!("{path}: unknown field (strict decoding error: unknown field {path:?}); the {} schema has no such field — check its spelling and indentation, or remove it", self.kind.name()),
                )
            })
            .collect()
    }

    /// What the API server does to a decoded object before validating it: fields the schema does
    /// not have are dropped, a `null` of a field that is not nullable is dropped (or replaced by
    /// the field's default), and every `default` of the schema is filled in.
    pub fn default(&self, object: &mut Value) {
        walk::prune(&self.root, object);
        walk::default(&self.root, object);
    }

    /// The API server's validation of `object` (already defaulted): `metadata.name`, the schema,
    /// the list-type invariants and the CEL rules. With `old` (an UPDATE; also defaulted), errors
    /// inside values the update leaves unchanged are dropped, as the API server ratchets them.
    pub fn validate(&self, object: &Value, old: Option<&Value>) -> Vec<Finding> {
        walk::validate(&self.root, object, old)
    }
}

/// Every CEL rule of every CRD, with whether this module implements it (a test requires all).
pub fn cel_rules() -> Vec<(Kind, String, bool)> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        of(kind).root.visit(&mut |node| {
            for r in &node.rules {
                out.push((kind, r.rule.clone(), r.check.is_some()));
            }
        });
    }
    out
}
