//! Rules of Neo4jPlugin (being written).

use crate::engine::Inventory;
use crate::types::Neo4jPlugin;
use crate::verdict::Verdict;

pub fn create(_obj: &Neo4jPlugin) -> Verdict {
    Verdict::default()
}

pub fn update(_old: &Neo4jPlugin, new: &Neo4jPlugin) -> Verdict {
    create(new)
}

pub fn cross(_obj: &Neo4jPlugin, _namespace: &str, _inventory: &dyn Inventory) -> Verdict {
    Verdict::default()
}
