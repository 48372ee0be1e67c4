//! What happens around the webhook: the CRD schema alone still rejects what it owns, and a
//! stopped webhook fails closed for our group only.

use neo4j_e2e::{ControlPlane, Webhook, unregister, wait_for};
use serde_json::json;
use std::time::Duration;

fn one_server_cluster(name: &str) -> String {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"acceptLicenseAgreement": "yes", "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": 1}, "storage": {"size": "10Gi"}}})
    .to_string()
}

// One test: both steps change the cluster-wide webhook configuration.
#[test]
fn schema_rejects_without_the_webhook_and_a_stopped_webhook_fails_closed() {
    let cp = ControlPlane::from_env();
    cp.install_crds();

    // 1. No webhook configured: the CRD's OpenAPI maximum still refuses 101 servers. (The floor
    // of 2 is the webhook's, so that its rule id and hint reach the user: docs/rules.md.)
    unregister(&cp);
    // Once the configurations are gone, a one-server cluster passes the schema alone.
    wait_for(
        "the webhook configurations to be gone",
        Duration::from_secs(30),
        || {
            let out = cp.kubectl_in(
                &["apply", "--dry-run=server", "-f", "-"],
                Some(&one_server_cluster("schema-only")),
            );
            out.status.success().then_some(())
        },
    );
    let too_many = one_server_cluster("schema-only").replace("\"servers\":1", "\"servers\":101");
    let out = cp.kubectl_in(&["apply", "--dry-run=server", "-f", "-"], Some(&too_many));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("spec.topology.servers"), "{err}");
    assert!(err.contains("less than or equal to 100"), "{err}");

    // 2. Webhook registered, then its process stopped: our group fails closed, others do not.
    let mut webhook = Webhook::start(&cp, "outage");
    webhook.register(&cp);
    webhook.stop();
    let valid = one_server_cluster("while-down").replace("\"servers\":1", "\"servers\":3");
    let out = cp.kubectl_in(&["apply", "-f", "-"], Some(&valid));
    assert!(!out.status.success(), "applied with the webhook down");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("failed calling webhook"), "{err}");
    assert!(
        err.contains("mutate.neo4j.neo4j.com") || err.contains("validate.neo4j.neo4j.com"),
        "{err}"
    );
    assert!(err.contains("connection refused"), "{err}");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unaffected", "namespace": "default"}, "data": {"k": "v"}});
    let out = cp.kubectl_in(&["apply", "-f", "-"], Some(&cm.to_string()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    unregister(&cp);
}
