//! What a kubelet would do, for a control plane that has none: register a Node, keep its Lease
//! fresh (so the node lifecycle controller never evicts), bind pending pods to it, and report
//! them running and Ready — or, for pods of Jobs, finished: Succeeded by default, or as the
//! pod's [`OUTCOME_ANNOTATION`] says (`Failed`, with [`MESSAGE_ANNOTATION`] as the container's
//! termination message, or `Running` to leave it running). No container ever runs.
//!
//! Under faults it behaves like a kubelet: when the node lifecycle controller has marked the
//! node not Ready (its lease went stale while the API server or etcd was away) the node's
//! status is posted again, and a running pod whose Ready condition it turned False is reported
//! Ready again. The `fake-kubelet` binary retries its pod watch with a capped backoff.
//!
//! The `fake-kubelet` binary runs this continuously over a pod watch; the controller's tests
//! call [`mark_pods_ready`], [`start_job_pods`], [`finish_job_pods`] and
//! [`finish_terminating`] at the moment they want a pod to move.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{Binding, Node, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;

/// Field manager of every write made here.
pub const MANAGER: &str = "fake-kubelet";

/// Pod annotation choosing how a Job pod ends: `Succeeded` (the default), `Failed`, or
/// `Running` (started, never finished).
pub const OUTCOME_ANNOTATION: &str = "fake-kubelet.neo4j.com/outcome";
/// Pod annotation holding the termination message of a `Failed` Job pod.
pub const MESSAGE_ANNOTATION: &str = "fake-kubelet.neo4j.com/message";

/// How a Job pod ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobPodOutcome {
    /// Started, never finished.
    Running,
    Succeeded,
    /// Exit code 1 with this termination message.
    Failed(String),
}

impl JobPodOutcome {
    /// The outcome a pod asks for through its annotations (default: Succeeded).
    pub fn of(pod: &Pod) -> JobPodOutcome {
        let annotations = pod.metadata.annotations.as_ref();
        let get = |k: &str| annotations.and_then(|a| a.get(k)).cloned();
        match get(OUTCOME_ANNOTATION).as_deref() {
            Some("Failed") => JobPodOutcome::Failed(get(MESSAGE_ANNOTATION).unwrap_or_default()),
            Some("Running") => JobPodOutcome::Running,
            _ => JobPodOutcome::Succeeded,
        }
    }
}

/// How often the node's Lease is renewed (its duration is 40 s).
const LEASE_RENEW: Duration = Duration::from_secs(10);

/// Registers (or re-registers) the Node `name`, Ready, with room for any test's pods.
pub async fn register_node(client: &Client, name: &str) -> anyhow::Result<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    let capacity =
        json!({"cpu": "64", "memory": "256Gi", "pods": "250", "ephemeral-storage": "1Ti"});
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {
        "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": "zone-a", "kubernetes.io/os": "linux"}}});
    nodes
        .patch(
            name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&node),
        )
        .await
        .context("registering the node")?;
    let now = Time(Timestamp::now());
    let status = json!({"apiVersion": "v1", "kind": "Node", "status": {"capacity": capacity, "allocatable": capacity,
        "conditions": [{"type": "Ready", "status": "True", "reason": "FakeKubeletReady", "message": "fake kubelet",
            "lastHeartbeatTime": now, "lastTransitionTime": now}],
        "nodeInfo": {"kubeletVersion": "v1.36.3-fake", "containerRuntimeVersion": "fake://0", "kernelVersion": "",
            "osImage": "", "operatingSystem": "linux", "architecture": "amd64", "machineID": "", "systemUUID": "",
            "bootID": "", "kubeProxyVersion": ""}}});
    nodes
        .patch_status(
            name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&status),
        )
        .await
        .context("node status")?;
    Ok(())
}

/// Whether the Node `name` reports Ready=True (`None`: could not tell).
async fn node_ready(client: &Client, name: &str) -> Option<bool> {
    let node = Api::<Node>::all(client.clone()).get(name).await.ok()?;
    let ready = node
        .status?
        .conditions?
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status == "True");
    Some(ready.unwrap_or(false))
}

/// Renews the node's Lease forever: with a fresh lease the node lifecycle controller keeps the
/// node Ready and never taints or evicts. When it has marked the node not Ready anyway (the
/// lease could not be renewed for a while), the node's status is posted again, as a kubelet
/// does once it reaches the API server again.
pub async fn keep_lease(client: Client, node: String) {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    loop {
        if node_ready(&client, &node).await == Some(false) {
            match register_node(&client, &node).await {
                Ok(()) => eprintln!("fake-kubelet: node {node} reported Ready again"),
                Err(e) => eprintln!("fake-kubelet: node status: {e:#}"),
            }
        }
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(node.clone()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(node.clone()),
                lease_duration_seconds: Some(40),
                renew_time: Some(MicroTime(Timestamp::now())),
                ..Default::default()
            }),
        };
        if let Err(e) = leases
            .patch(
                &node,
                &PatchParams::apply(MANAGER).force(),
                &Patch::Apply(&lease),
            )
            .await
        {
            eprintln!("fake-kubelet: lease renewal failed: {e}");
        }
        tokio::time::sleep(LEASE_RENEW).await;
    }
}

/// Registers `node` and keeps its Lease fresh until the returned task is aborted or dropped
/// with the runtime.
pub async fn start_node(
    client: &Client,
    node: &str,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    register_node(client, node).await?;
    Ok(tokio::spawn(keep_lease(client.clone(), node.to_string())))
}

/// One pass of a kubelet over `pod`, as seen by a watch: a pod being deleted is removed at
/// once (no kubelet will confirm its shutdown), an unbound pod is bound to `node`, and a
/// Pending pod on `node` is reported started (unless `never_ready`).
pub async fn handle(
    client: &Client,
    node: &str,
    never_ready: bool,
    pod: &Pod,
) -> anyhow::Result<()> {
    let Some(ns) = pod.metadata.namespace.as_deref() else {
        return Ok(());
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    if pod.metadata.deletion_timestamp.is_some() {
        let _ = pods
            .delete(
                &pod.name_any(),
                &DeleteParams {
                    grace_period_seconds: Some(0),
                    ..Default::default()
                },
            )
            .await;
        return Ok(());
    }
    match bound_to(pod) {
        None => bind(&pods, pod, node).await,
        Some(n) if n == node && !never_ready && (is_pending(pod) || lost_ready(pod)) => {
            report_started(&pods, pod).await
        }
        Some(_) => Ok(()),
    }
}

/// A running pod (not of a Job) whose Ready condition is not True: the node lifecycle
/// controller marks pods so when their node stops reporting. A kubelet reports them again.
pub fn lost_ready(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    let running = status.and_then(|s| s.phase.as_deref()) == Some("Running");
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    running && !owned_by_job(pod) && !ready
}

/// Binds every pod matching `selector` in `ns` that is not bound yet to `node`, reports every
/// Pending one started, and removes every one being deleted. Returns how many were reported.
pub async fn mark_pods_ready(
    client: &Client,
    ns: &str,
    selector: &str,
    node: &str,
) -> anyhow::Result<usize> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let list = pods
        .list(&ListParams::default().labels(selector))
        .await
        .context("listing pods")?;
    let mut reported = 0;
    for pod in list.items {
        // Being deleted (a rolling update replaces it): confirm the shutdown, as `handle` does.
        if pod.metadata.deletion_timestamp.is_some() {
            let _ = pods
                .delete(
                    &pod.name_any(),
                    &DeleteParams {
                        grace_period_seconds: Some(0),
                        ..Default::default()
                    },
                )
                .await;
            continue;
        }
        if bound_to(&pod).is_none() {
            bind(&pods, &pod, node).await?;
        }
        if is_pending(&pod) || lost_ready(&pod) {
            report_started(&pods, &pod).await?;
            reported += 1;
        }
    }
    Ok(reported)
}

fn bound_to(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref())
}

fn is_pending(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
        == "Pending"
}

/// The pauses of a failing watch: 250 ms doubling to 5 s, reset by the next event (what
/// client-go's reflector does, with a lower cap so tests recover quickly).
#[derive(Debug, Clone)]
pub struct WatchBackoff {
    next: Duration,
}

impl Default for WatchBackoff {
    fn default() -> Self {
        WatchBackoff {
            next: Duration::from_millis(250),
        }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let pause = self.next;
        self.next = (pause * 2).min(Duration::from_secs(5));
        Some(pause)
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        *self = WatchBackoff::default();
    }
}

fn owned_by_job(pod: &Pod) -> bool {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "Job")
}

async fn bind(pods: &Api<Pod>, pod: &Pod, node: &str) -> anyhow::Result<()> {
    let name = pod.name_any();
    let binding = Binding {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: pod.metadata.namespace.clone(),
            ..Default::default()
        },
        target: ObjectReference {
            kind: Some("Node".into()),
            name: Some(node.to_string()),
            api_version: Some("v1".into()),
            ..Default::default()
        },
    };
    let _: serde_json::Value = pods
        .create_subresource("binding", &name, &PostParams::default(), &binding)
        .await
        .with_context(|| format!("binding {name}"))?;
    Ok(())
}

/// Binds every pod matching `selector` in `ns` to `node` and reports its containers running
/// (a Job pod whose work takes a while). Returns how many were reported.
pub async fn start_job_pods(
    client: &Client,
    ns: &str,
    selector: &str,
    node: &str,
) -> anyhow::Result<usize> {
    move_pods(client, ns, selector, node, &JobPodOutcome::Running).await
}

/// Binds every pod matching `selector` in `ns` that has not finished to `node` and reports it
/// finished with `outcome`. Returns how many were reported.
pub async fn finish_job_pods(
    client: &Client,
    ns: &str,
    selector: &str,
    node: &str,
    outcome: &JobPodOutcome,
) -> anyhow::Result<usize> {
    move_pods(client, ns, selector, node, outcome).await
}

async fn move_pods(
    client: &Client,
    ns: &str,
    selector: &str,
    node: &str,
    outcome: &JobPodOutcome,
) -> anyhow::Result<usize> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let list = pods
        .list(&ListParams::default().labels(selector))
        .await
        .context("listing pods")?;
    let mut reported = 0;
    for pod in list.items {
        let phase = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Pending".into());
        let finished = phase == "Succeeded" || phase == "Failed";
        if finished || pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        if *outcome == JobPodOutcome::Running && phase == "Running" {
            continue;
        }
        if bound_to(&pod).is_none() {
            bind(&pods, &pod, node).await?;
        }
        report(&pods, &pod, Some(outcome)).await?;
        reported += 1;
    }
    Ok(reported)
}

/// Finishes the termination of every pod matching `selector` in `ns` that is being deleted, as
/// the kubelet confirms a container has stopped (a StatefulSet scaled down). Returns how many.
pub async fn finish_terminating(
    client: &Client,
    ns: &str,
    selector: &str,
) -> anyhow::Result<usize> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let list = pods
        .list(&ListParams::default().labels(selector))
        .await
        .context("listing pods")?;
    let mut done = 0;
    for pod in list.items {
        if pod.metadata.deletion_timestamp.is_none() {
            continue;
        }
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        };
        match pods.delete(&pod.name_any(), &params).await {
            Ok(_) => done += 1,
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(e).context("deleting a terminating pod"),
        }
    }
    Ok(done)
}

/// A distinct pod IP per pod reported in this process.
fn next_pod_ip() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(11);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("10.244.{}.{}", n / 250, n % 250 + 1)
}

/// Reports the pod's containers started: running and Ready, or for a pod of a Job as its
/// annotations ask ([`JobPodOutcome::of`]).
async fn report_started(pods: &Api<Pod>, pod: &Pod) -> anyhow::Result<()> {
    report(pods, pod, None).await
}

/// Reports the pod's containers: running and Ready for a pod of no Job; for a Job pod, as
/// `outcome` says (else as its annotations ask): running, terminated with exit code 0 (phase
/// Succeeded) or with exit code 1 and a termination message (phase Failed).
async fn report(pods: &Api<Pod>, pod: &Pod, outcome: Option<&JobPodOutcome>) -> anyhow::Result<()> {
    let name = pod.name_any();
    let now = Time(Timestamp::now());
    let job = owned_by_job(pod);
    let outcome = match (job, outcome) {
        (false, _) => None,
        (true, Some(o)) => Some(o.clone()),
        (true, None) => Some(JobPodOutcome::of(pod)),
    };
    let state = match &outcome {
        None | Some(JobPodOutcome::Running) => json!({"running": {"startedAt": now}}),
        Some(JobPodOutcome::Succeeded) => {
            json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}})
        }
        Some(JobPodOutcome::Failed(message)) => {
            json!({"terminated": {"exitCode": 1, "reason": "Error", "message": message, "startedAt": now, "finishedAt": now}})
        }
    };
    let running = matches!(outcome, None | Some(JobPodOutcome::Running));
    let ready = outcome.is_none();
    let statuses: Vec<_> = pod
        .spec
        .iter()
        .flat_map(|s| &s.containers)
        .map(|c| {
            json!({"name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": "",
                   "ready": ready, "started": running, "restartCount": 0, "state": state})
        })
        .collect();
    let init_statuses: Vec<_> = pod
        .spec
        .iter()
        .flat_map(|s| s.init_containers.iter().flatten())
        .map(|c| {
            json!({"name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": "",
                   "ready": true, "restartCount": 0,
                   "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}}})
        })
        .collect();
    let ready = if ready { "True" } else { "False" };
    let mut conditions = BTreeMap::new();
    for t in ["PodScheduled", "Initialized"] {
        conditions.insert(t, "True");
    }
    conditions.insert("ContainersReady", ready);
    conditions.insert("Ready", ready);
    let conditions: Vec<_> = conditions
        .into_iter()
        .map(|(t, s)| json!({"type": t, "status": s, "lastTransitionTime": now}))
        .collect();
    let phase = match &outcome {
        None | Some(JobPodOutcome::Running) => "Running",
        Some(JobPodOutcome::Succeeded) => "Succeeded",
        Some(JobPodOutcome::Failed(_)) => "Failed",
    };
    // A pod reported again keeps its address.
    let ip = pod
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .unwrap_or_else(next_pod_ip);
    let mut status = json!({"phase": phase, "conditions": conditions,
        "podIP": ip, "hostIP": "10.243.0.1", "startTime": now,
        "containerStatuses": statuses});
    if !init_statuses.is_empty() {
        status["initContainerStatuses"] = json!(init_statuses);
    }
    let status = json!({"apiVersion": "v1", "kind": "Pod", "status": status});
    pods.patch_status(
        &name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&status),
    )
    .await
    .with_context(|| format!("status of {name}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(phase: &str, ready: Option<&str>, job: bool) -> Pod {
        let mut v = json!({"metadata": {"name": "p"}, "status": {"phase": phase}});
        if let Some(r) = ready {
            v["status"]["conditions"] = json!([{"type": "Ready", "status": r}]);
        }
        if job {
            v["metadata"]["ownerReferences"] =
                json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "u"}]);
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_running_pods_that_lost_ready_are_reported_again() {
        assert!(lost_ready(&pod("Running", Some("False"), false)));
        assert!(lost_ready(&pod("Running", None, false)));
        assert!(!lost_ready(&pod("Running", Some("True"), false)));
        assert!(!lost_ready(&pod("Pending", Some("False"), false)));
        assert!(!lost_ready(&pod("Succeeded", Some("False"), true)));
        assert!(!lost_ready(&pod("Running", Some("False"), true)));
    }

    #[test]
    fn the_watch_backoff_doubles_to_five_seconds_and_resets() {
        use kube::runtime::utils::Backoff;
        let mut b = WatchBackoff::default();
        let pauses: Vec<u64> = (&mut b).take(7).map(|d| d.as_millis() as u64).collect();
        assert_eq!(pauses, [250, 500, 1000, 2000, 4000, 5000, 5000]);
        b.reset();
        assert_eq!(b.next(), Some(Duration::from_millis(250)));
    }
}
