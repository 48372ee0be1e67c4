//! `fake-kubelet`: test support only. The local control plane has no scheduler and no kubelet,
//! so this registers one Node, keeps its Lease fresh (so the node lifecycle controller never
//! evicts), binds every pending pod to it, and reports the pods as running and Ready — or as
//! Succeeded for pods of Jobs — so StatefulSet readiness, Job completion and our status
//! conditions can be tested. It never runs a container. The work is `neo4j_e2e::kubelet`'s.

use clap::Parser;
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use neo4j_e2e::kubelet;

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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = neo4j_e2e::client(&args.kubeconfig).await?;
    let _lease = kubelet::start_node(&client, &args.node).await?;
    eprintln!("fake-kubelet: node {} registered; handling pods", args.node);

    let pods: Api<Pod> = Api::all(client.clone());
    let mut cfg = watcher::Config::default();
    if !args.selector.is_empty() {
        cfg = cfg.labels(&args.selector);
    }
    // Errors are retried after a pause (`kubelet::WatchBackoff`), never in a tight loop.
    let mut events = watcher::watcher(pods, cfg)
        .backoff(kubelet::WatchBackoff::default())
        .boxed();
    while let Some(event) = events.next().await {
        let pod = match event {
            Ok(Event::Apply(p)) | Ok(Event::InitApply(p)) => p,
            Ok(_) => continue,
            Err(e) => {
                eprintln!("fake-kubelet: watch error (retrying): {e}");
                continue;
            }
        };
        if let Err(e) = kubelet::handle(&client, &args.node, args.never_ready, &pod).await {
            eprintln!(
                "fake-kubelet: {}: {e:#}",
                pod.metadata.name.as_deref().unwrap_or("?")
            );
        }
    }
    Ok(())
}
