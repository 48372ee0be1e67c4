//! Updates of an object stored before a rule existed, through the real API server: it can still
//! be relabelled, edited elsewhere, and deleted (its finalizer removed) — the last even while the
//! webhook is down — and only what an update breaks is refused.

use std::time::Duration;

use neo4j_e2e::{ControlPlane, Webhook, unregister, wait_for, warnings};
use serde_json::json;

const NS: &str = "e2e-ratchet";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn patch(cp: &ControlPlane, body: serde_json::Value) -> std::process::Output {
    cp.kubectl(&[
        "patch",
        "-n",
        NS,
        "neo4jenterprisecluster",
        "legacy",
        "--type=merge",
        "-p",
        &body.to_string(),
    ])
}

// One test: it changes the cluster-wide webhook configuration.
#[test]
fn an_object_stored_before_a_rule_existed_can_be_relabelled_edited_and_deleted() {
    let cp = ControlPlane::from_env();
    cp.install_crds();
    cp.create_namespace(NS);
    // Stored while no webhook was registered: it passes the schema, but `config-db-format`
    // (a rule of the webhook) refuses it on CREATE.
    unregister(&cp);
    let legacy = json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": "legacy", "namespace": NS, "finalizers": ["example.com/hold"]},
        "spec": {"acceptLicenseAgreement": "yes", "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": 3}, "storage": {"size": "10Gi", "retentionPolicy": "Retain"},
            "config": {"db.format": "block"}}})
    .to_string();
    wait_for(
        "the webhook configurations to be gone",
        Duration::from_secs(30),
        || {
            let out = cp.kubectl_in(&["create", "-f", "-"], Some(&legacy));
            out.status.success().then_some(())
        },
    );
    let mut webhook = Webhook::start(&cp, "ratchet");
    webhook.register(&cp);

    // The same object is refused as a new one (near miss: only CREATE judges it whole).
    let fresh = legacy.replace("\"name\":\"legacy\"", "\"name\":\"fresh\"");
    let out = cp.kubectl_in(&["create", "--dry-run=server", "-f", "-"], Some(&fresh));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("config-db-format"),
        "{}",
        stderr(&out)
    );

    // Relabelled: spec unchanged, the webhooks are not even called.
    let out = cp.kubectl(&[
        "label",
        "-n",
        NS,
        "neo4jenterprisecluster",
        "legacy",
        "team=graph",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(warnings(&out.stderr).is_empty(), "{}", stderr(&out));

    // Another spec field changed: admitted, with the old error as a warning.
    let out = patch(
        &cp,
        json!({"spec": {"config": {"db.transaction.timeout": "30s"}}}),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let w = warnings(&out.stderr);
    assert!(
        w.iter().any(|l| l.starts_with("config-db-format: ")
            && l.contains("already invalid before this update")),
        "{w:?}"
    );

    // An update that breaks a rule of its own is refused, for that rule only.
    let out = patch(&cp, json!({"spec": {"topology": {"servers": 1}}}));
    assert!(!out.status.success());
    let err = stderr(&out);
    let (warned, denial) = err.split_once("denied the request: ").unwrap_or(("", ""));
    assert!(denial.contains("cluster-min-servers"), "{err}");
    assert!(!denial.contains("config-db-format"), "{err}");
    assert!(warned.contains("config-db-format"), "{err}");

    // Deleted while the webhook is down: removing the finalizer is a metadata-only UPDATE,
    // which the matchConditions keep away from the failing webhook.
    let out = cp.kubectl(&[
        "delete",
        "-n",
        NS,
        "neo4jenterprisecluster",
        "legacy",
        "--wait=false",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    webhook.stop();
    let out = patch(&cp, json!({"metadata": {"finalizers": null}}));
    assert!(out.status.success(), "{}", stderr(&out));
    wait_for("the object to be gone", Duration::from_secs(30), || {
        cp.get_json(NS, "neo4jenterprisecluster", "legacy")
            .is_none()
            .then_some(())
    });
    // Near miss: a spec change still goes through the (stopped) webhook and fails closed.
    let probe = legacy.replace("\"name\":\"legacy\"", "\"name\":\"probe\"");
    let out = cp.kubectl_in(&["create", "--dry-run=server", "-f", "-"], Some(&probe));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("failed calling webhook"),
        "{}",
        stderr(&out)
    );
    unregister(&cp);
}
