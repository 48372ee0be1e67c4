//! Rules of Neo4jEnterpriseStandalone (`api/RULES.md` §1, §3, §7): the shared instance rules of
//! [`super::instance`] (including those the reference applied to clusters only), the memory
//! floor and the storage update rules. A standalone has no topology and no warnings of its own.

use super::instance::{self, Common};
use crate::engine::{InstanceKind, Inventory};
use crate::memory::MIN_CONTAINER;
use crate::types::Neo4jEnterpriseStandalone;
use crate::units::human_bytes;
use crate::verdict::Verdict;

pub fn create(obj: &Neo4jEnterpriseStandalone) -> Verdict {
    let mut v = Verdict::default();
    let common = Common::of_standalone(obj);
    common.identity(&mut v);
    common.body(&mut v);
    memory_floor(&common, &mut v);
    v
}

pub fn update(old: &Neo4jEnterpriseStandalone, new: &Neo4jEnterpriseStandalone) -> Verdict {
    let mut v = create(new);
    instance::storage_update(InstanceKind::Standalone, &old.spec.storage, &new.spec.storage, &mut v);
    v
}

/// Standalones need no cross-object check yet; the Route host check needs only the namespace.
pub fn cross(obj: &Neo4jEnterpriseStandalone, namespace: &str, _inventory: &dyn Inventory) -> Verdict {
    let mut v = Verdict::default();
    Common::of_standalone(obj).routes(namespace, &mut v);
    v
}

/// `standalone-memory-floor`: a memory limit, when set, must hold a Neo4j Enterprise server.
fn memory_floor(common: &Common, v: &mut Verdict) {
    if let Some(limit) = instance::memory_limit(common.resources)
        && limit < MIN_CONTAINER
    {
        v.error(
            "standalone-memory-floor",
            "spec.resources.limits.memory",
            format!(
                "spec.resources.limits.memory is {}; a Neo4j Enterprise server needs at least {} — raise the limit",
                human_bytes(limit),
                human_bytes(MIN_CONTAINER)
            ),
        );
    }
}
