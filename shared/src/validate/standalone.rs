//! Rules of Neo4jEnterpriseStandalone (being written).

use crate::engine::Inventory;
use crate::types::Neo4jEnterpriseStandalone;
use crate::verdict::Verdict;

pub fn create(_obj: &Neo4jEnterpriseStandalone) -> Verdict {
    Verdict::default()
}

pub fn update(_old: &Neo4jEnterpriseStandalone, new: &Neo4jEnterpriseStandalone) -> Verdict {
    create(new)
}

pub fn cross(_obj: &Neo4jEnterpriseStandalone, _namespace: &str, _inventory: &dyn Inventory) -> Verdict {
    Verdict::default()
}
