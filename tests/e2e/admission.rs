//! `kubectl apply` against a real kube-apiserver with `neo4j-webhook serve` in the admission
//! chain: objects are mutated, rejected and warned exactly as the offline checker says.

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use neo4j_e2e::{ControlPlane, Webhook, root, wait_for, warnings};
use serde_json::{Value, json};

struct Harness {
    cp: ControlPlane,
    _webhook: Webhook,
}

/// One webhook for every test of this binary; each test works in its own namespace.
fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let cp = ControlPlane::from_env();
        cp.install_crds();
        let webhook = Webhook::start(&cp, "admission");
        webhook.register(&cp);
        Harness {
            cp,
            _webhook: webhook,
        }
    })
}

fn namespace(name: &str) -> &'static ControlPlane {
    let cp = &harness().cp;
    cp.create_namespace(name);
    cp
}

fn cluster(ns: &str, name: &str, servers: i64) -> Value {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"acceptLicenseAgreement": "yes", "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": servers}, "storage": {"size": "10Gi"}}})
}

fn apply(cp: &ControlPlane, object: &Value, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["apply", "-f", "-"];
    args.extend_from_slice(extra);
    cp.kubectl_in(&args, Some(&object.to_string()))
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn valid_cluster_is_stored_with_every_default() {
    let cp = namespace("e2e-valid");
    let out = apply(cp, &cluster("e2e-valid", "graph", 3), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stored = cp
        .get_json("e2e-valid", "neo4jenterprisecluster", "graph")
        .unwrap_or_else(|| panic!("not stored"));
    let spec = &stored["spec"];
    assert_eq!(spec["image"]["pullPolicy"], "IfNotPresent");
    // Retain unless Delete is asked for: deleting the object keeps its data.
    assert_eq!(spec["storage"]["retentionPolicy"], "Retain");
    assert_eq!(spec["topology"]["serverModeConstraint"], "NONE");
    assert_eq!(spec["tls"]["mode"], "disabled");
    assert_eq!(spec["auth"]["authenticationProviders"], json!(["native"]));
    assert_eq!(spec["auth"]["authorizationProviders"], json!(["native"]));
    assert_eq!(spec["service"]["type"], "ClusterIP");
    // What is stored is exactly what the offline engine computes.
    let mutated = neo4j_shared::engine::mutate(
        neo4j_shared::types::Kind::Cluster,
        &cluster("e2e-valid", "graph", 3),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored["spec"], mutated.defaulted["spec"]);
}

#[test]
fn invalid_cluster_is_denied_with_rule_and_field_and_not_stored() {
    let cp = namespace("e2e-invalid");
    let mut bad = cluster("e2e-invalid", "forged", 3);
    bad["spec"]["config"] =
        json!({"server.logs.debug.level": "INFO\ndbms.security.auth_enabled=false"});
    bad["spec"]
        .as_object_mut()
        .map(|s| s.remove("acceptLicenseAgreement"));
    let out = apply(cp, &bad, &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("denied the request"), "{err}");
    assert!(err.contains("config-value-control-chars"), "{err}");
    assert!(
        err.contains("spec.config[server.logs.debug.level]"),
        "{err}"
    );
    // Every violated rule is listed at once.
    assert!(err.contains("license-required"), "{err}");
    assert!(
        cp.get_json("e2e-invalid", "neo4jenterprisecluster", "forged")
            .is_none()
    );
}

#[test]
fn warned_cluster_is_admitted_and_kubectl_prints_the_warnings() {
    let cp = namespace("e2e-warned");
    let out = apply(cp, &cluster("e2e-warned", "pair", 2), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let w = warnings(&out.stderr);
    assert!(
        w.iter().any(|l| l.starts_with("cluster-two-servers: ")),
        "{w:?}"
    );
    assert!(
        w.iter().any(|l| l.starts_with("cluster-even-servers: ")),
        "{w:?}"
    );
}

#[test]
fn updates_are_checked_against_the_stored_object() {
    let cp = namespace("e2e-update");
    let out = apply(cp, &cluster("e2e-update", "graph", 5), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    // 5 → 2 drops below the 3 system primaries the cluster formed with: admitted (dry run),
    // with the warning that explains the risk; below 2 servers it is refused.
    let out = apply(
        cp,
        &cluster("e2e-update", "graph", 2),
        &["--dry-run=server"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        warnings(&out.stderr)
            .iter()
            .any(|w| w.starts_with("cluster-scale-below-system-primaries: ")),
        "{}",
        stderr(&out)
    );
    let out = apply(
        cp,
        &cluster("e2e-update", "graph", 1),
        &["--dry-run=server"],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cluster-min-servers"),
        "{}",
        stderr(&out)
    );
    // The storage class is baked into the StatefulSet's claim templates.
    let mut moved = cluster("e2e-update", "graph", 5);
    moved["spec"]["storage"]["className"] = json!("fast-ssd");
    let out = apply(cp, &moved, &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cluster-storage-class-immutable"),
        "{}",
        stderr(&out)
    );
    // A legal scale-up goes through.
    let out = apply(cp, &cluster("e2e-update", "graph", 7), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stored = cp
        .get_json("e2e-update", "neo4jenterprisecluster", "graph")
        .unwrap_or_default();
    assert_eq!(stored["spec"]["topology"]["servers"], 7);
}

#[test]
fn server_dry_run_gives_the_same_verdicts_and_stores_nothing() {
    let cp = namespace("e2e-dryrun");
    let out = apply(
        cp,
        &cluster("e2e-dryrun", "graph", 3),
        &["--dry-run=server", "-o", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let returned: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(
        returned["spec"]["image"]["pullPolicy"], "IfNotPresent",
        "dry run is mutated too"
    );
    assert!(
        cp.get_json("e2e-dryrun", "neo4jenterprisecluster", "graph")
            .is_none()
    );
    let mut bad = cluster("e2e-dryrun", "bad", 3);
    bad["spec"]["config"] = json!({"db.format": "aligned"});
    let out = apply(cp, &bad, &["--dry-run=server"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("config-db-format"),
        "{}",
        stderr(&out)
    );
    let out = apply(cp, &cluster("e2e-dryrun", "pair", 2), &["--dry-run=server"]);
    assert!(out.status.success());
    assert!(
        warnings(&out.stderr)
            .iter()
            .any(|l| l.starts_with("cluster-two-servers: "))
    );
    assert!(
        cp.get_json("e2e-dryrun", "neo4jenterprisecluster", "pair")
            .is_none()
    );
}

/// The offline verdicts on `manifests/samples/`, keyed by object name.
fn offline_verdicts() -> Vec<Value> {
    let out = Command::new(neo4j_e2e::webhook_bin())
        .args(["check", "--output", "json"])
        .arg(root().join("manifests/samples"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn samples_get_the_same_verdicts_from_the_api_server_as_from_check() {
    let cp = namespace("default");
    let verdicts = offline_verdicts();
    assert!(verdicts.len() >= 6, "{verdicts:?}");
    let samples = root().join("manifests/samples");
    // Instances first, so the cross-object checks see what `check` saw (all files of one run).
    let mut files: Vec<_> = std::fs::read_dir(&samples)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort_by_key(|p| {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        (
            !(text.contains("kind: Neo4jEnterpriseCluster")
                || text.contains("kind: Neo4jEnterpriseStandalone")),
            p.clone(),
        )
    });
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let name = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("name: "))
            .unwrap_or_default()
            .to_string();
        let Some(verdict) = verdicts.iter().find(|v| v["name"] == name.as_str()) else {
            panic!("check gave no verdict for {name}")
        };
        let mut expected: Vec<String> = verdict["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|w| w.as_str().map(str::to_string))
            .collect();
        expected.sort();
        let path = file.to_string_lossy().into_owned();
        // The webhook's watch cache follows the API server: retry until it has caught up.
        let mut last = String::new();
        let agreed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_for(
                &format!("the API server's verdict on {name} to match check's"),
                Duration::from_secs(20),
                || {
                    // A server-side dry run always reaches admission (a real re-apply of an
                    // unchanged object sends nothing).
                    let out = cp.kubectl(&["apply", "--dry-run=server", "-f", &path]);
                    let mut got = warnings(&out.stderr);
                    got.sort();
                    last = format!(
                        "allowed {} warnings {got:?}\nstderr {}",
                        out.status.success(),
                        stderr(&out)
                    );
                    (out.status.success() == verdict["allowed"].as_bool().unwrap_or_default()
                        && got == expected)
                        .then_some(())
                },
            )
        }));
        assert!(
            agreed.is_ok(),
            "{name}: check said allowed {} warnings {expected:?}; the API server said {last}",
            verdict["allowed"]
        );
        if verdict["allowed"].as_bool() == Some(true) {
            cp.kubectl_ok(&["apply", "-f", &path]);
        }
    }
}
