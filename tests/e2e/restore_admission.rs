//! The restore denials through the real admission chain (`kubectl apply` → kube-apiserver →
//! `neo4j-webhook serve`, whose watch cache knows the targets), and offline through `check`
//! for a target that the webhook would never have stored.

use std::process::Command;
use std::time::Duration;

use neo4j_e2e::{ControlPlane, Webhook, wait_for};
use serde_json::{Value, json};

fn standalone(ns: &str, name: &str, size: &str) -> Value {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseStandalone",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"acceptLicenseAgreement": "yes", "image": {"repo": "neo4j", "tag": "2025.10.1-enterprise"},
            "storage": {"size": size}}})
}

fn cluster(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"acceptLicenseAgreement": "yes", "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": 3}, "storage": {"size": "10Gi"}}})
}

fn restore(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jRestore",
        "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

/// Waits until a server-side dry run of `object` gets the verdict `denied_by` (a rule id in
/// the denial, or `None` for admitted): the webhook's cache catches up with the API server.
fn verdict_becomes(cp: &ControlPlane, object: &Value, denied_by: Option<&str>) {
    let mut last = String::new();
    wait_for(
        &format!(
            "the verdict {denied_by:?} on {}",
            object["metadata"]["name"]
        ),
        Duration::from_secs(30),
        || {
            let out = cp.kubectl_in(
                &["apply", "--dry-run=server", "-f", "-"],
                Some(&object.to_string()),
            );
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            match denied_by {
                None => out.status.success().then_some(()),
                Some(rule) => (!out.status.success() && last.contains(rule)).then_some(()),
            }
        },
    );
}

/// Removes the webhook configurations when the test ends, however it ends, so later tests
/// never meet a webhook that is gone.
struct Registered(ControlPlane);

impl Drop for Registered {
    fn drop(&mut self) {
        neo4j_e2e::unregister(&self.0);
    }
}

#[test]
fn restores_over_an_online_database_or_a_running_standalone_are_denied() {
    let cp = ControlPlane::from_env();
    cp.install_crds();
    let webhook = Webhook::start(&cp, "restore-admission");
    webhook.register(&cp);
    let _registered = Registered(cp.clone());
    let ns = "e2e-restore-admission";
    cp.create_namespace(ns);
    for target in [standalone(ns, "solo", "10Gi"), cluster(ns, "graph")] {
        let out = cp.kubectl_in(&["apply", "-f", "-"], Some(&target.to_string()));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let source = json!({"type": "backup", "backupRef": "nightly"});

    // A standalone is stopped for a restore: only with explicit consent.
    let no_consent = restore(
        ns,
        "r1",
        json!({"instanceRef": "solo", "database": "movies", "source": source}),
    );
    verdict_becomes(&cp, &no_consent, Some("restore-standalone-stop"));
    // Its default database is always there and online: only with replaceExisting.
    let over_default = restore(
        ns,
        "r2",
        json!({"instanceRef": "solo", "database": "neo4j",
        "stopCluster": true, "source": source}),
    );
    verdict_becomes(&cp, &over_default, Some("restore-overwrite-confirm"));
    let replacing = restore(
        ns,
        "r3",
        json!({"instanceRef": "solo", "database": "neo4j",
        "stopCluster": true, "options": {"replaceExisting": true}, "source": source}),
    );
    verdict_becomes(&cp, &replacing, None);
    // A cluster cannot be seeded from a PVC.
    let from_pvc = restore(
        ns,
        "r4",
        json!({"instanceRef": "graph", "database": "sales",
        "source": {"type": "storage", "backupPath": "nightly", "storage": {"type": "pvc", "pvc": {"name": "backups"}}}}),
    );
    verdict_becomes(&cp, &from_pvc, Some("restore-cluster-object-storage"));
    let over_cluster_default = restore(
        ns,
        "r5",
        json!({"instanceRef": "graph", "database": "NEO4J", "source": source}),
    );
    verdict_becomes(
        &cp,
        &over_cluster_default,
        Some("restore-overwrite-confirm"),
    );
    let fine = restore(
        ns,
        "r6",
        json!({"instanceRef": "graph", "database": "sales", "source": source}),
    );
    verdict_becomes(&cp, &fine, None);
    drop(webhook);
}

#[test]
fn a_target_without_persistent_storage_is_refused_offline() {
    let dir = std::env::temp_dir().join(format!("restore-admission-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    // One run: the restore is checked against the other file, a standalone whose storage is
    // no volume at all (denied itself, but what it asks for is what the restore is judged
    // against).
    let files = [
        ("bare.json", standalone("default", "bare", "0")),
        (
            "restore.json",
            restore(
                "default",
                "into-bare",
                json!({"instanceRef": "bare", "database": "movies",
                "stopCluster": true, "source": {"type": "backup", "backupRef": "nightly"}}),
            ),
        ),
    ];
    for (name, doc) in &files {
        std::fs::write(dir.join(name), doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
    }
    let out = Command::new(neo4j_e2e::webhook_bin())
        .args(["check", "--output", "json"])
        .args(files.iter().map(|(name, _)| dir.join(name)))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let verdicts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let restore = verdicts
        .iter()
        .find(|v| v["name"] == "into-bare")
        .unwrap_or_else(|| panic!("no verdict for the restore: {verdicts:?}"));
    assert_eq!(restore["allowed"], false, "{restore}");
    assert!(
        restore.to_string().contains("restore-target-storage"),
        "{restore}"
    );
}
