//! Rules only Neo4jEnterpriseStandalone has (`validate/standalone.rs`). The shared rules,
//! including the ones reported under a `standalone-…` id, are in [`super::instance`].

use super::rule::Severity::*;
use super::rule::Stage::*;
use super::rule::{Rule, STANDALONE};

pub const RULES: &[Rule] = &[Rule {
    id: "standalone-memory-floor",
    severity: Error,
    kinds: STANDALONE,
    operation: CreateUpdate,
    fields: &["spec.resources.limits.memory"],
    message: "spec.resources.limits.memory is {limit}; a Neo4j Enterprise server needs at least 1Gi",
    hint: "raise the memory limit to 1Gi or more, or leave it unset",
}];
