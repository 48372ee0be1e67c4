//! Validation per kind: `create(&obj)` and `update(&old, &new)` return a [`Verdict`] of errors
//! (refused) and warnings (admitted, with a message), each with a stable rule id and field path
//! (`docs/rules.md` lists them all). `cross` checks an object against others through an
//! [`Inventory`](crate::inventory::Inventory) (a watch cache, never a live call). Each kind's
//! file starts with its [`Policy`](crate::policy::Policy), how the engine reaches its rules.

pub mod backup;
pub mod cluster;
pub mod database;
pub mod instance;
pub mod memory;
pub mod plugin;
pub mod quantities;
pub mod restore;
pub mod standalone;
#[cfg(test)]
pub(crate) mod testkit;

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::inventory::{self, InstanceSummary, Inventory};
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
pub use crate::cypher::{DATABASE_NAME, DATABASE_NAME_MAX};

/// Whether `s` holds a C0 control character other than TAB (or DEL): such a value would
/// forge lines in a config file or a shell.
pub fn has_control_chars(s: &str) -> bool {
    s.chars()
        .any(|c| (c.is_control() && c != '\t') || c == '\u{7f}')
}

/// Path of a map entry, in the bracketed form used in every message: `spec.config[db.format]`.
pub fn key_path(map_path: &str, key: &str) -> String {
    KeyPath(map_path, key).to_string()
}

/// Path of a list item: `spec.extraVolumes[2].name`.
pub fn item_path(list_path: &str, index: usize, field: &str) -> String {
    ItemPath(list_path, index, field).to_string()
}

// Field paths written out only when a rule reports them. Most values pass every rule, and a
// path formatted up front for each map entry and list item was a large share of the time a
// review took; a rule that may report takes `impl Display` and formats it then.

/// `map[key]`, as [`key_path`] writes it.
#[derive(Clone, Copy)]
pub struct KeyPath<P, K>(pub P, pub K);

impl<P: fmt::Display, K: fmt::Display> fmt::Display for KeyPath<P, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

/// `list[index].field`, or `list[index]` when `field` is empty, as [`item_path`] writes it.
#[derive(Clone, Copy)]
pub struct ItemPath<'a, P>(pub P, pub usize, pub &'a str);

impl<P: fmt::Display> fmt::Display for ItemPath<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.2 {
            "" => write!(f, "{}[{}]", self.0, self.1),
            field => write!(f, "{}[{}].{field}", self.0, self.1),
        }
    }
}

/// `base.field`.
#[derive(Clone, Copy)]
pub struct SubPath<'a, P>(pub P, pub &'a str);

impl<P: fmt::Display> fmt::Display for SubPath<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
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

/// An optional string field, when set and not empty.
pub(crate) fn set(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|x| !x.is_empty())
}

/// `field-not-implemented` on a field this operator version accepts and keeps but does not act
/// on; `effect` says what the user gets instead.
pub(crate) fn not_implemented(v: &mut Verdict, field: &str, effect: &str) {
    v.warn(
        "field-not-implemented",
        field,
        format!(
            "{field} is accepted and kept, but this operator version does not act on it: {effect}"
        ),
    );
}

/// How a kind that acts on a cluster or standalone names it, for [`require_instance_ref`] and
/// [`resolve_instance`].
pub(crate) struct InstanceRef {
    /// The field holding the name: `spec.instanceRef` or `spec.clusterRef`.
    pub field: &'static str,
    /// The error when the field is unset or blank.
    pub required: &'static str,
    /// What the instance is to this kind, completing "name the Neo4jEnterpriseCluster or
    /// Neo4jEnterpriseStandalone …", e.g. `to back up`.
    pub role: &'static str,
    /// What the cross check looks at, for `cross-check-skipped` when there is no inventory.
    pub checks: &'static str,
    /// The warning when the inventory has no instance of that name.
    pub not_found: &'static str,
    /// What waits for the instance to exist, e.g. `backup`.
    pub waiter: &'static str,
}

/// `r.required` when the reference is unset or blank.
pub(crate) fn require_instance_ref(v: &mut Verdict, reference: &Option<String>, r: &InstanceRef) {
    if set(reference).is_none_or(|name| name.trim().is_empty()) {
        v.error(
            r.required,
            r.field,
            format!(
                "is empty; name the Neo4jEnterpriseCluster or Neo4jEnterpriseStandalone {}",
                r.role
            ),
        );
    }
}

/// The name `reference` holds and the cluster or standalone of that name in `namespace`, or
/// `None` (with why in `v`): nothing is checked without a name, the cross check is skipped
/// without a view of the cluster, and a missing instance is only a warning, since one
/// `kubectl apply` may create both in any order.
pub(crate) fn resolve_instance<'a>(
    v: &mut Verdict,
    inventory: &dyn Inventory,
    namespace: &str,
    reference: &'a Option<String>,
    r: &InstanceRef,
) -> Option<(&'a str, InstanceSummary)> {
    let name = set(reference)?;
    if !inventory.available() {
        inventory::skipped_cross_check(v, r.field, r.checks);
        return None;
    }
    let Some(instance) = inventory.instance(namespace, name) else {
        v.warn(
            r.not_found,
            r.field,
            format!("no Neo4jEnterpriseCluster or Neo4jEnterpriseStandalone {} in namespace {namespace}; the {} waits until it exists", shown(name), r.waiter),
        );
        return None;
    };
    Some((name, instance))
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
    fn paths_write_what_the_messages_always_said() {
        assert_eq!(
            key_path("spec.config", "db.format"),
            "spec.config[db.format]"
        );
        assert_eq!(item_path("spec.env", 2, "name"), "spec.env[2].name");
        assert_eq!(
            item_path("spec.extraVolumes", 0, ""),
            "spec.extraVolumes[0]"
        );
        assert_eq!(
            SubPath("spec.service", "type").to_string(),
            "spec.service.type"
        );
        assert_eq!(
            KeyPath(SubPath("spec.resources", "limits"), "memory").to_string(),
            "spec.resources.limits[memory]"
        );
    }

    #[test]
    fn shown_quotes_and_truncates() {
        assert_eq!(shown("x"), "\"x\"");
        assert!(shown(&"y".repeat(100)).ends_with('…'));
    }
}
