//! The result of checking one object: errors (the object is refused) and warnings (admitted,
//! but the user is told). Every finding carries a stable rule id, the field path and a one-line
//! message that says what to do.

use serde::Serialize;

use crate::text::one_line;

/// One violated or warned rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case rule id; a public interface (metric label, dashboard filter).
    pub rule: &'static str,
    /// Field path, e.g. `spec.topology.servers` or `spec.config[db.format]`.
    pub field: String,
    /// One line: what is wrong with the value given and what to do.
    pub message: String,
}

impl Finding {
    pub fn new(rule: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        let message: String = message.into();
        // Messages are one line whatever the user's input held.
        let message = one_line(&message, usize::MAX);
        Self {
            rule,
            field: one_line(&field.into(), usize::MAX),
            message,
        }
    }
}

impl Finding {
    /// The warning line shown to the user (`kubectl` prints it after `Warning: `):
    /// `<rule>: <message>`, with the field path put in front of the message when the message
    /// does not already start with it.
    ///
    /// One line, cut at [`WARNING_MAX_CHARS`] with "…": kubectl prints each on one terminal
    /// line. The webhook's warnings and the offline checker's are this line.
    pub fn warning_line(&self) -> String {
        one_line(&self.to_string(), WARNING_MAX_CHARS)
    }
}

/// Longest warning line shown to a user.
pub const WARNING_MAX_CHARS: usize = 200;

/// `<rule>: <field>: <message>`; the field is left out when the message already starts with
/// it (`cluster-min-servers: spec.topology.servers is 1; …`), so it is never said twice.
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() || self.message.starts_with(&self.field) {
            write!(f, "{}: {}", self.rule, self.message)
        } else {
            write!(f, "{}: {}: {}", self.rule, self.field, self.message)
        }
    }
}

/// Errors and warnings for one object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        self.errors.is_empty()
    }
    pub fn error(
        &mut self,
        rule: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.errors.push(Finding::new(rule, field, message));
    }
    pub fn warn(
        &mut self,
        rule: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.warnings.push(Finding::new(rule, field, message));
    }
    pub fn extend(&mut self, other: Verdict) {
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
    }
    /// Every rule id that fired, errors first (for tests and metrics).
    pub fn rules(&self) -> Vec<&'static str> {
        self.errors
            .iter()
            .chain(&self.warnings)
            .map(|f| f.rule)
            .collect()
    }
    pub fn error_rules(&self) -> Vec<&'static str> {
        self.errors.iter().map(|f| f.rule).collect()
    }
    pub fn warning_rules(&self) -> Vec<&'static str> {
        self.warnings.iter().map(|f| f.rule).collect()
    }
}
