//! Rules of Neo4jEnterpriseCluster (being written).

use crate::engine::Inventory;
use crate::types::Neo4jEnterpriseCluster;
use crate::verdict::Verdict;

pub fn create(_obj: &Neo4jEnterpriseCluster) -> Verdict {
    Verdict::default()
}

pub fn update(_old: &Neo4jEnterpriseCluster, new: &Neo4jEnterpriseCluster) -> Verdict {
    create(new)
}

pub fn cross(_obj: &Neo4jEnterpriseCluster, _namespace: &str, _inventory: &dyn Inventory) -> Verdict {
    Verdict::default()
}
