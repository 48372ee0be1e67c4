//! Rules of Neo4jEnterpriseStandalone (`docs/rules.md`): the shared instance rules of
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
    _inventory: &dyn Inventory,
) -> Verdict {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::validate::cluster::tests::{edits, scramble};
    use crate::validate::instance::tests::{
        On, assert_covered, assert_verdict, case, coverage_of, run_create_table, spec,
        standalone_from, valid_standalone,
    };

    fn standalone_cases() -> Vec<crate::validate::instance::tests::Case> {
        let s = On::Standalone;
        let limit = |m: &str| spec(json!({"resources": {"limits": {"memory": m}}}));
        vec![
            case(
                s,
                "standalone-memory-floor",
                limit("512Mi"),
                &["standalone-memory-floor"],
                &[],
            ),
            case(
                s,
                "standalone-memory-floor",
                limit("1000M"),
                &["standalone-memory-floor"],
                &[],
            ),
            case(s, "standalone-memory-floor", limit("1Gi"), &[], &[]),
            case(
                s,
                "standalone-memory-floor",
                spec(json!({"resources": {"requests": {"memory": "256Mi"}}})),
                &[],
                &[],
            ),
            // Cluster-only rules stay off for a standalone.
            case(
                s,
                "memory-exceeds-limit",
                spec(json!({"config": {"server.memory.heap.max_size": "64g"}})),
                &[],
                &[],
            ),
            case(
                s,
                "sharding-version",
                spec(json!({"image": {"tag": "5.26.0"}})),
                &[],
                &[],
            ),
        ]
    }

    #[test]
    fn the_minimal_valid_standalone_has_no_findings() {
        let s = valid_standalone();
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
        run_create_table(&standalone_cases());
    }

    fn update_cases() -> Vec<(&'static str, Value, Value, &'static [&'static str])> {
        let size = |s: &str| spec(json!({"storage": {"size": s}}));
        let class = |c: Value| spec(json!({"storage": {"className": c}}));
        let tag = |t: &str| spec(json!({"image": {"tag": t}}));
        vec![
            (
                "standalone-storage-class-immutable",
                class(json!("standard")),
                class(json!("premium")),
                &["standalone-storage-class-immutable"],
            ),
            (
                "standalone-storage-class-immutable",
                class(json!("")),
                class(json!("premium")),
                &["standalone-storage-class-immutable"],
            ),
            (
                "standalone-storage-class-immutable",
                class(json!("standard")),
                class(json!("standard")),
                &[],
            ),
            (
                "storage-size-no-shrink",
                size("20Gi"),
                size("10Gi"),
                &["storage-size-no-shrink"],
            ),
            ("storage-size-no-shrink", size("10Gi"), size("10240Mi"), &[]),
            // cluster-version-upgrade is a cluster rule only.
            (
                "cluster-version-upgrade",
                tag("2025.01.0"),
                tag("5.26.0"),
                &[],
            ),
        ]
    }

    #[test]
    fn standalone_update_rules_table() {
        for (rule, old, new, errors) in update_cases() {
            let v = update(&standalone_from(&old), &standalone_from(&new));
            assert_verdict(&format!("update [{rule}] {old} -> {new}"), &v, errors, &[]);
        }
    }

    #[test]
    fn every_standalone_rule_has_a_hit_and_a_near_miss() {
        let mut coverage = coverage_of(&standalone_cases());
        coverage.extend(
            update_cases()
                .iter()
                .map(|(rule, _, _, errors)| (*rule, errors.contains(rule))),
        );
        assert_covered(&crate::catalog::coverage::standalone(), &coverage);
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
        fn create_and_update_never_panic(a in edits(), b in edits()) {
            if let Some(new) = scrambled_standalone(b) {
                let v = create(&new);
                prop_assert!(v.errors.iter().chain(&v.warnings).all(|f| !f.message.contains('\n')));
                let _ = cross(&new, "default", &crate::engine::NoInventory);
                if let Some(old) = scrambled_standalone(a) {
                    let _ = update(&old, &new);
                }
            }
        }
    }
}
