//! Rules of Neo4jBackup (being written).

use crate::engine::Inventory;
use crate::types::Neo4jBackup;
use crate::verdict::Verdict;

pub fn create(_obj: &Neo4jBackup) -> Verdict {
    Verdict::default()
}

pub fn update(_old: &Neo4jBackup, new: &Neo4jBackup) -> Verdict {
    create(new)
}

pub fn cross(_obj: &Neo4jBackup, _namespace: &str, _inventory: &dyn Inventory) -> Verdict {
    Verdict::default()
}
