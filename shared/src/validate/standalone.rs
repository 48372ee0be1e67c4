//! Rules of Neo4jEnterpriseStandalone (`docs/rules.md`): the shared instance rules of
//! [`super::instance`] (including those the reference applied to clusters only), the memory
//! floor and the storage update rules. A standalone has no topology and no warnings of its own.

use super::instance::{self, Common};
use crate::defaults;
use crate::inventory::{InstanceKind, Inventory};
use crate::memory::{MIN_CONTAINER, container_limit};
use crate::policy::Policy;
use crate::types::{Kind, Neo4jEnterpriseStandalone};
use crate::units::human_bytes;
use crate::verdict::Verdict;

/// How the admission engine and the controller reach this kind: its defaults, then the rules
/// of this file.
impl Policy for Neo4jEnterpriseStandalone {
    const KIND: Kind = Kind::Standalone;
    fn apply_defaults(&mut self) {
        defaults::standalone(&mut self.spec);
    }
    fn create(&self) -> Verdict {
        create(self)
    }
    fn update(old: &Self, new: &Self) -> Verdict {
        update(old, new)
    }
    fn cross(&self, namespace: &str, inventory: &dyn Inventory) -> Verdict {
        cross(self, namespace, inventory)
    }
}

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
    instance::storage_update(
        InstanceKind::Standalone,
        &old.spec.storage,
        &new.spec.storage,
        &mut v,
    );
    v
}

/// Standalones need no cross-object check yet; the Route host check needs only the namespace.
pub fn cross(
    obj: &Neo4jEnterpriseStandalone,
    namespace: &str,
    inventory: &dyn Inventory,
) -> Verdict {
    let mut v = Verdict::default();
    let common = Common::of_standalone(obj);
    common.routes(namespace, &mut v);
    common.dns_names(namespace, inventory.cluster_domain(), 1, &mut v);
    v
}

/// `standalone-memory-floor`: a memory limit, when set, must hold a Neo4j Enterprise server.
fn memory_floor(common: &Common, v: &mut Verdict) {
    if let Some(limit) = container_limit(common.resources)
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::validate::testkit::{
        Case, On, all_on, assert_verdict, hit, miss, run_instances, scramble, scramble_edits,
        standalone_with,
    };

    // One row per line, as in the other rule tables.
    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        let limit = |m: &str| json!({"resources": {"limits": {"memory": m}}});
        let size = |s: &str| json!({"storage": {"size": s}});
        let class = |c: Value| json!({"storage": {"className": c}});
        let tag = |t: &str| json!({"image": {"tag": t}});
        all_on(On::Standalone, vec![
            hit("standalone-memory-floor", limit("512Mi")),
            hit("standalone-memory-floor", limit("1000M")),
            miss("standalone-memory-floor", limit("1Gi")),
            miss("standalone-memory-floor", json!({"resources": {"requests": {"memory": "256Mi"}}})),
            // Cluster-only rules stay off for a standalone.
            miss("memory-exceeds-limit", json!({"config": {"server.memory.heap.max_size": "64g"}})),
            miss("sharding-version", json!({"image": {"tag": "5.26.0"}})),
            // Update rules.
            hit("standalone-storage-class-immutable", class(json!("premium"))).updated_from(class(json!("standard"))),
            hit("standalone-storage-class-immutable", class(json!("premium"))).updated_from(class(json!(""))),
            miss("standalone-storage-class-immutable", class(json!("standard"))).updated_from(class(json!("standard"))),
            hit("storage-size-no-shrink", size("10Gi")).updated_from(size("20Gi")),
            miss("storage-size-no-shrink", size("10240Mi")).updated_from(size("10Gi")),
            // `cluster-version-upgrade` applies to clusters only.
            miss("cluster-version-upgrade", tag("5.26.0")).updated_from(tag("2025.01.0")),
        ])
    }

    #[test]
    fn the_minimal_valid_standalone_has_no_findings() {
        let s = standalone_with(json!({}));
        assert_verdict("valid standalone", &create(&s), &[], &[]);
        assert_verdict(
            "valid standalone, unchanged update",
            &update(&s, &s),
            &[],
            &[],
        );
    }

    #[test]
    fn standalone_rules_table() {
        run_instances(&cases(), &crate::catalog::coverage::standalone());
    }

    fn rich_template() -> Value {
        json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseStandalone",
            "metadata": {"name": "dev", "namespace": "test"},
            "spec": {
                "image": {"repo": "neo4j", "tag": "5.26-enterprise", "pullPolicy": "IfNotPresent"},
                "storage": {"className": "standard", "size": "5Gi", "retentionPolicy": "Delete"},
                "acceptLicenseAgreement": "eval",
                "resources": {"limits": {"memory": "2Gi", "cpu": "1"}, "requests": {"memory": "1Gi"}},
                "env": [{"name": "NEO4J_server_jvm_additional", "value": "-Xss2m"}],
                "config": {"dbms.logs.debug.level": "DEBUG", "dbms.mode": "SINGLE"},
                "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}, "duration": "2160h", "usages": ["server auth", "client auth"]},
                "auth": {"adminSecret": "dev-admin", "authenticationProviders": ["native", "oidc-x"], "oidc": {"x": {"audience": "a", "issuer": "i"}},
                    "ldap": {"host": "ldaps://h", "authentication": {"userDNTemplate": "uid={0}"}}, "trustStore": {"name": "ca"}},
                "service": {"type": "NodePort", "ingress": {"enabled": true}, "route": {"enabled": true}},
                "monitoring": {"enabled": true, "sampling": {"rate": "1"}, "slowQueryThreshold": "5s"},
                "audit": {"enabled": true},
                "networkPolicy": {"enabled": true},
                "mcp": {"enabled": true, "transport": "stdio", "auth": {"secretName": "mcp"}, "logLevel": "info"},
                "auraFleetManagement": {"enabled": true, "tokenSecretRef": {"name": "fleet"}},
                "upgradeStrategy": {"strategy": "Recreate", "healthCheckTimeout": "5m", "maxUnavailableDuringUpgrade": 0},
                "trustedCASecrets": [{"name": "corp"}],
                "extraVolumes": [{"name": "conf", "emptyDir": {}}],
                "extraVolumeMounts": [{"name": "conf", "mountPath": "/extra-conf"}]
            }
        })
    }

    fn scrambled_standalone(seed: Vec<(u8, String, i64)>) -> Option<Neo4jEnterpriseStandalone> {
        let mut doc = rich_template();
        scramble(&mut doc, &mut seed.into_iter());
        let mut s: Neo4jEnterpriseStandalone = serde_json::from_value(doc).ok()?;
        crate::defaults::standalone(&mut s.spec);
        Some(s)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn create_and_update_never_panic(a in scramble_edits(), b in scramble_edits()) {
            if let Some(new) = scrambled_standalone(b) {
                let v = create(&new);
                prop_assert!(v.errors.iter().chain(&v.warnings).all(|f| !f.message.contains('\n')));
                let _ = cross(&new, "default", &crate::inventory::NoInventory);
                if let Some(old) = scrambled_standalone(a) {
                    let _ = update(&old, &new);
                }
            }
        }
    }
}
