//! The result of checking one object: errors (the object is refused) and warnings (admitted,
//! but the user is told). Every finding carries a stable rule id, the field path and a one-line
//! message that says what to do.

use serde::Serialize;

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
        let message = one_line(&message);
        Self {
            rule,
            field: one_line(&field.into()),
            message,
        }
    }
}

/// Control characters (a user's map key or value may hold them) become spaces: every
/// message and path is printed on one line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl Finding {
    /// The warning line shown to the user (`kubectl` prints it after `Warning: `):
    /// `<rule>: <message>`, with the field path put in front of the message when the message
    /// does not already start with it.
    ///
    /// Cut at [`WARNING_MAX_CHARS`] with "…": kubectl prints each on one terminal line.
    pub fn warning_line(&self) -> String {
        let line = self.to_string();
        match line.char_indices().nth(WARNING_MAX_CHARS - 1) {
            Some((cut, _)) if line.chars().count() > WARNING_MAX_CHARS => {
                format!("{}…", &line[..cut])
            }
            _ => line,
        }
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
