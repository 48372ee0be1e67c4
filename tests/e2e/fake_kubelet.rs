//! The fake kubelet makes StatefulSet pods Ready and Job pods Succeeded on the local control
//! plane, so readiness and completion can be tested without running containers.

use std::process::{Command, Stdio};
use std::time::Duration;

use neo4j_e2e::{ControlPlane, kubelet, wait_for};
use serde_json::json;

struct Kubelet(std::process::Child);

impl Drop for Kubelet {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn statefulset_becomes_ready_and_job_completes() {
    let cp = ControlPlane::from_env();
    cp.create_namespace("e2e-kubelet");
    let bin = std::env::var_os("FAKE_KUBELET_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| neo4j_e2e::root().join("target/debug/fake-kubelet"));
    let log = std::fs::File::create(cp.state_dir.join("fake-kubelet-test.log"))
        .unwrap_or_else(|e| panic!("{e}"));
    let _kubelet = Kubelet(
        Command::new(&bin)
            .arg("--kubeconfig")
            .arg(&cp.kubeconfig)
            .arg("--node=fake-node-test")
            .arg("--selector=e2e=fake-kubelet")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display())),
    );
    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": "e2e-kubelet"},
        "spec": {"replicas": 2, "podManagementPolicy": "Parallel", "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web", "e2e": "fake-kubelet"}},
                "spec": {"containers": [{"name": "c", "image": "example.invalid/none:0"}]}}}});
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": "e2e-kubelet"},
        "spec": {"template": {"metadata": {"labels": {"e2e": "fake-kubelet"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "example.invalid/none:0"}]}}}});
    // A Job whose pod is asked to fail, with the message its container would leave.
    let failing = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "doomed", "namespace": "e2e-kubelet"},
        "spec": {"backoffLimit": 0, "template": {"metadata": {"labels": {"e2e": "fake-kubelet"},
            "annotations": {(kubelet::OUTCOME_ANNOTATION): "Failed", (kubelet::MESSAGE_ANNOTATION): "disk full"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "example.invalid/none:0"}]}}}});
    for obj in [&sts, &job, &failing] {
        let out = cp.kubectl_in(&["apply", "-f", "-"], Some(&obj.to_string()));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    wait_for(
        "StatefulSet web to have 2 ready replicas",
        Duration::from_secs(90),
        || {
            let s = cp.get_json("e2e-kubelet", "statefulset", "web")?;
            (s["status"]["readyReplicas"] == 2).then_some(())
        },
    );
    wait_for("Job once to complete", Duration::from_secs(90), || {
        let j = cp.get_json("e2e-kubelet", "job", "once")?;
        (j["status"]["succeeded"] == 1).then_some(())
    });
    wait_for("Job doomed to fail", Duration::from_secs(90), || {
        let j = cp.get_json("e2e-kubelet", "job", "doomed")?;
        j["status"]["conditions"]
            .as_array()?
            .iter()
            .any(|c| c["type"] == "Failed" && c["status"] == "True")
            .then_some(())
    });
    let pods: serde_json::Value = serde_json::from_str(&cp.kubectl_ok(&[
        "get",
        "pods",
        "-n",
        "e2e-kubelet",
        "-l",
        "job-name=doomed",
        "-o",
        "json",
    ]))
    .unwrap_or_default();
    let message = pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p["status"]["containerStatuses"][0]["state"]["terminated"]["message"].as_str()
        })
        .next()
        .map(str::to_string);
    assert_eq!(message.as_deref(), Some("disk full"));
    let node_ready = || {
        let node = cp
            .get_json("", "node", "fake-node-test")
            .unwrap_or_default();
        condition_true(&node, "Ready")
    };
    assert!(node_ready(), "node not Ready");

    // What the node lifecycle controller does when a node stops reporting: the node's Ready
    // condition Unknown, its pods' Ready False. The kubelet reports both again.
    let not_ready = |kind: &str, name: &str, ns: Option<&str>, status: &str, reason: &str| {
        let patch = json!({"status": {"conditions": [{"type": "Ready", "status": status, "reason": reason,
            "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
        let mut args = vec![
            "patch",
            kind,
            name,
            "--subresource=status",
            "--type=strategic",
            "--field-manager=node-lifecycle-sim",
        ];
        if let Some(ns) = ns {
            args.extend(["-n", ns]);
        }
        let p = patch.to_string();
        args.extend(["-p", &p]);
        cp.kubectl_ok(&args);
    };
    not_ready("pod", "web-0", Some("e2e-kubelet"), "False", "NodeNotReady");
    not_ready(
        "node",
        "fake-node-test",
        None,
        "Unknown",
        "NodeStatusUnknown",
    );
    wait_for(
        "pod web-0 reported Ready again",
        Duration::from_secs(60),
        || {
            let pod = cp.get_json("e2e-kubelet", "pod", "web-0")?;
            condition_true(&pod, "Ready").then_some(())
        },
    );
    wait_for("node reported Ready again", Duration::from_secs(60), || {
        node_ready().then_some(())
    });
}

/// Whether the object's condition `type_` is True.
fn condition_true(obj: &serde_json::Value, type_: &str) -> bool {
    obj["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == type_ && c["status"] == "True")
}
