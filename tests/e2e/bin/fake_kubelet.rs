//! `fake-kubelet`: test support only. The local control plane has no scheduler and no kubelet,
//! so this registers one Node, keeps its Lease fresh (so the node lifecycle controller never
//! evicts), binds every pending pod to it, and reports the pods as running and Ready — or as
//! Succeeded for pods of Jobs — so StatefulSet readiness, Job completion and our status
//! conditions can be tested. It never runs a container.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use futures_util::StreamExt;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{Binding, Node, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Config};
use serde_json::json;

/// Register a fake Node and make pods on it look Running/Ready (or Succeeded for Job pods).
#[derive(Parser, Debug)]
#[command(name = "fake-kubelet", version, about)]
struct Args {
    /// Kubeconfig of the control plane.
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: std::path::PathBuf,
    /// Name of the Node to register.
    #[arg(long, default_value = "fake-node-0")]
    node: String,
    /// Only handle pods whose labels match this selector (default: every pod).
    #[arg(long, default_value = "")]
    selector: String,
    /// Bind pods but leave them Pending (to test not-Ready paths).
    #[arg(long)]
    never_ready: bool,
}

const MANAGER: &str = "fake-kubelet";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig =
        kube::config::Kubeconfig::read_from(&args.kubeconfig).context("reading the kubeconfig")?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .context("kubeconfig")?;
    let client = Client::try_from(config)?;
    register_node(&client, &args.node).await?;
    tokio::spawn(keep_lease(client.clone(), args.node.clone()));
    eprintln!("fake-kubelet: node {} registered; handling pods", args.node);

    let pods: Api<Pod> = Api::all(client.clone());
    let mut cfg = watcher::Config::default();
    if !args.selector.is_empty() {
        cfg = cfg.labels(&args.selector);
    }
    let mut events = watcher::watcher(pods, cfg).boxed();
    let mut ip = 10u32;
    while let Some(event) = events.next().await {
        let pod = match event {
            Ok(Event::Apply(p)) | Ok(Event::InitApply(p)) => p,
            Ok(_) => continue,
            Err(e) => {
                eprintln!("fake-kubelet: watch error (retrying): {e}");
                continue;
            }
        };
        if let Err(e) = handle(&client, &args, &pod, &mut ip).await {
            eprintln!(
                "fake-kubelet: {}: {e:#}",
                pod.metadata.name.as_deref().unwrap_or("?")
            );
        }
    }
    Ok(())
}

async fn register_node(client: &Client, name: &str) -> anyhow::Result<()> {
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

/// Renews the node's Lease every 10 s: with a fresh lease the node lifecycle controller keeps
/// the node Ready and never taints or evicts.
async fn keep_lease(client: Client, node: String) {
    let leases: Api<Lease> = Api::namespaced(client, "kube-node-lease");
    loop {
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
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

fn owned_by_job(pod: &Pod) -> bool {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "Job")
}

async fn handle(client: &Client, args: &Args, pod: &Pod, ip: &mut u32) -> anyhow::Result<()> {
    let (Some(name), Some(ns)) = (
        pod.metadata.name.as_deref(),
        pod.metadata.namespace.as_deref(),
    ) else {
        return Ok(());
    };
    if pod.metadata.deletion_timestamp.is_some() {
        // No kubelet will confirm the shutdown: finish the deletion like a kubelet would.
        let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
        let _ = pods
            .delete(
                name,
                &kube::api::DeleteParams {
                    grace_period_seconds: Some(0),
                    ..Default::default()
                },
            )
            .await;
        return Ok(());
    }
    let spec = pod.spec.as_ref();
    let node = spec.and_then(|s| s.node_name.as_deref());
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    match node {
        None => {
            let binding = Binding {
                metadata: ObjectMeta {
                    name: Some(name.to_string()),
                    namespace: Some(ns.to_string()),
                    ..Default::default()
                },
                target: ObjectReference {
                    kind: Some("Node".into()),
                    name: Some(args.node.clone()),
                    api_version: Some("v1".into()),
                    ..Default::default()
                },
            };
            let _: serde_json::Value = pods
                .create_subresource("binding", name, &PostParams::default(), &binding)
                .await
                .context("binding")?;
            Ok(())
        }
        Some(n) if n == args.node => {
            let phase = pod
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .unwrap_or("Pending");
            if args.never_ready || phase != "Pending" {
                return Ok(());
            }
            *ip += 1;
            let now = Time(Timestamp::now());
            let containers: Vec<String> = spec
                .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
                .unwrap_or_default();
            let job = owned_by_job(pod);
            let statuses: Vec<_> = containers
                .iter()
                .map(|c| {
                    let image = spec.and_then(|s| s.containers.iter().find(|x| &x.name == c)).and_then(|x| x.image.clone()).unwrap_or_default();
                    let state = if job {
                        json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}})
                    } else {
                        json!({"running": {"startedAt": now}})
                    };
                    json!({"name": c, "image": image, "imageID": "", "ready": !job, "started": !job, "restartCount": 0, "state": state})
                })
                .collect();
            let ready = if job { "False" } else { "True" };
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
            let status = json!({"apiVersion": "v1", "kind": "Pod", "status": {
                "phase": if job { "Succeeded" } else { "Running" }, "conditions": conditions,
                "podIP": format!("10.244.{}.{}", *ip / 250, *ip % 250 + 1), "hostIP": "10.243.0.1", "startTime": now,
                "containerStatuses": statuses}});
            pods.patch_status(
                name,
                &PatchParams::apply(MANAGER).force(),
                &Patch::Apply(&status),
            )
            .await
            .context("pod status")?;
            Ok(())
        }
        Some(_) => Ok(()),
    }
}
