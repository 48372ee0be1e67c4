//! Rules of Neo4jDatabase (being written).

use crate::engine::Inventory;
use crate::types::Neo4jDatabase;
use crate::verdict::Verdict;

pub fn create(_obj: &Neo4jDatabase) -> Verdict {
    Verdict::default()
}

pub fn update(_old: &Neo4jDatabase, new: &Neo4jDatabase) -> Verdict {
    create(new)
}

pub fn cross(_obj: &Neo4jDatabase, _namespace: &str, _inventory: &dyn Inventory) -> Verdict {
    Verdict::default()
}
