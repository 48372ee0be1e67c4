//! Validation per kind: `create(&obj)` and `update(&old, &new)` return a [`Verdict`] of errors
//! (refused) and warnings (admitted, with a message), each with a stable rule id and field path
//! (`api/RULES.md`, `api/REFERENCE.md` §4). `cross` checks an object against others through an
//! [`Inventory`](crate::engine::Inventory) (a watch cache, never a live call).

pub mod backup;
pub mod cluster;
pub mod database;
pub mod instance;
pub mod plugin;
pub mod restore;
pub mod standalone;

use std::sync::LazyLock;

use regex::Regex;

pub use crate::verdict::{Finding, Verdict};

fn regex(pattern: &str) -> Regex {
    // Patterns are literals in this crate; a typo is caught by the unit tests of this module.
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in pattern {pattern}: {e}"))
}

/// DNS-1035 label: what every derived Service name must be.
pub static DNS1035_LABEL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^[a-z]([-a-z0-9]*[a-z0-9])?$"));
/// DNS-1123 subdomain (names of most Kubernetes objects).
pub static DNS1123_SUBDOMAIN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"));
/// Neo4j database names as the operator accepts them (`^[a-zA-Z][a-zA-Z0-9.\-]*$`, ≤ 65).
pub static DATABASE_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-zA-Z][a-zA-Z0-9.\-]*$"));
pub const DATABASE_NAME_MAX: usize = 65;

/// Whether `s` holds a C0 control character other than TAB (or DEL): such a value would
/// forge lines in a config file or a shell.
pub fn has_control_chars(s: &str) -> bool {
    s.chars()
        .any(|c| (c.is_control() && c != '\t') || c == '\u{7f}')
}

/// Path of a map entry, in the bracketed form used in every message: `spec.config[db.format]`.
pub fn key_path(map_path: &str, key: &str) -> String {
    format!("{map_path}[{key}]")
}

/// Path of a list item: `spec.extraVolumes[2].name`.
pub fn item_path(list_path: &str, index: usize, field: &str) -> String {
    if field.is_empty() {
        format!("{list_path}[{index}]")
    } else {
        format!("{list_path}[{index}].{field}")
    }
}

/// `value`, quoted and shortened for a one-line message (user input can be long).
pub fn shown(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_patterns_compile_and_match() {
        assert!(DNS1035_LABEL.is_match("graph-1"));
        assert!(!DNS1035_LABEL.is_match("1graph"));
        assert!(!DNS1035_LABEL.is_match("graph.prod"));
        assert!(DNS1123_SUBDOMAIN.is_match("a.b-c"));
        assert!(DATABASE_NAME.is_match("sales.eu-1"));
        assert!(!DATABASE_NAME.is_match("1sales"));
    }

    #[test]
    fn control_chars() {
        assert!(has_control_chars("a\nb"));
        assert!(has_control_chars("a\u{1b}b"));
        assert!(!has_control_chars("a\tb"));
    }

    #[test]
    fn shown_quotes_and_truncates() {
        assert_eq!(shown("x"), "\"x\"");
        assert!(shown(&"y".repeat(100)).ends_with('…'));
    }
}
