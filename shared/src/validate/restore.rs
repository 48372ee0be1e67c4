//! Rules of Neo4jRestore (being written).

use crate::engine::Inventory;
use crate::types::Neo4jRestore;
use crate::verdict::Verdict;

pub fn create(_obj: &Neo4jRestore) -> Verdict {
    Verdict::default()
}

pub fn update(_old: &Neo4jRestore, new: &Neo4jRestore) -> Verdict {
    create(new)
}

pub fn cross(_obj: &Neo4jRestore, _namespace: &str, _inventory: &dyn Inventory) -> Verdict {
    Verdict::default()
}
