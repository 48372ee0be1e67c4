//! The per-kind contract between the admission engine and a kind's rules: how to default an
//! object and which rules judge it. Each kind implements it next to its rules in
//! `validate/<kind>.rs`; the engine and the controller call it without naming kinds.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::inventory::Inventory;
use crate::types::Kind;
use crate::verdict::Verdict;

/// Per-kind policy: the defaults and rules of one kind, as the engine calls them.
pub trait Policy: Serialize + DeserializeOwned + Clone {
    /// The kind, with its manifest name and plural (`Kind::name`, `Kind::plural`).
    const KIND: Kind;
    fn apply_defaults(&mut self);
    fn create(&self) -> Verdict;
    /// Create rules on the new object plus the rules that compare with the old one.
    fn update(old: &Self, new: &Self) -> Verdict;
    /// Checks against other objects; warnings unless the rule says otherwise.
    fn cross(&self, _namespace: &str, _inventory: &dyn Inventory) -> Verdict {
        Verdict::default()
    }
}
