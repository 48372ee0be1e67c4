//! Support for the controller's integration tests against the local control plane started by
//! `tests/scripts/cluster-up.sh` (its `env` file in `$E2E_STATE_DIR`). The controller runs
//! in-process, scoped to the test's own namespace; every wait polls a condition against a
//! deadline.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use neo4j_controller::Config;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const NODE: &str = "ctl-test-node";

/// The control plane: kubeconfig and kubectl from `$E2E_STATE_DIR/env`.
#[derive(Debug, Clone)]
pub struct Plane {
    pub kubeconfig: PathBuf,
    pub kubectl: PathBuf,
}

pub fn plane() -> Plane {
    let Some(dir) = std::env::var_os("E2E_STATE_DIR") else {
        panic!(
            "E2E_STATE_DIR is not set: these tests need the local control plane \
             (tests/scripts/cluster-up.sh STATE_DIR, then E2E_STATE_DIR=STATE_DIR); \
             they are not skipped silently"
        );
    };
    let env_file = PathBuf::from(dir).join("env");
    let text = std::fs::read_to_string(&env_file)
        .unwrap_or_else(|e| panic!("{}: {e}", env_file.display()));
    let vars: BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect();
    let get = |k: &str| {
        PathBuf::from(
            vars.get(k)
                .unwrap_or_else(|| panic!("{} has no {k}", env_file.display())),
        )
    };
    Plane {
        kubeconfig: get("KUBECONFIG"),
        kubectl: get("KUBECTL"),
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `kubectl --kubeconfig <plane> ARGS`, asserting that it succeeds (`what` and kubectl's
/// stderr in the message otherwise).
pub fn kubectl(p: &Plane, what: &str, args: &[&OsStr]) -> Output {
    let out = Command::new(&p.kubectl)
        .arg("--kubeconfig")
        .arg(&p.kubeconfig)
        .args(args)
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `kubectl apply --server-side --force-conflicts -f PATH`.
fn apply_server_side(p: &Plane, what: &str, path: &Path) -> Output {
    let mut args: Vec<&OsStr> = ["apply", "--server-side", "--force-conflicts", "-f"]
        .map(OsStr::new)
        .to_vec();
    args.push(path.as_os_str());
    kubectl(p, what, &args)
}

/// `kubectl wait --for=condition=Established --timeout=60s CRDS...`.
fn wait_established(p: &Plane, what: &str, crds: &[&str]) -> Output {
    let mut args: Vec<&OsStr> = ["wait", "--for=condition=Established", "--timeout=60s"]
        .map(OsStr::new)
        .to_vec();
    args.extend(crds.iter().map(OsStr::new));
    kubectl(p, what, &args)
}

/// Installs the CRDs once per test process (server-side apply is idempotent).
pub fn install_crds(p: &Plane) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let crds = repo_root().join("manifests/crds");
        apply_server_side(p, "installing CRDs failed", &crds);
        // cert-manager's own CRDs (Certificate, Issuer, ...), from its Go module: e2e.sh sets
        // CERT_MANAGER_CRDS (tests/scripts/cert-manager-crds.sh).
        if let Some(dir) = std::env::var_os("CERT_MANAGER_CRDS") {
            apply_server_side(
                p,
                "installing the cert-manager CRDs failed",
                Path::new(&dir),
            );
            wait_established(
                p,
                "Certificate CRD not established",
                &["crd/certificates.cert-manager.io"],
            );
        }
        wait_established(
            p,
            "CRDs not established",
            &[
                "crd/neo4jenterpriseclusters.neo4j.neo4j.com",
                "crd/neo4jenterprisestandalones.neo4j.neo4j.com",
            ],
        );
    });
}

pub async fn client(p: &Plane) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kc = kube::config::Kubeconfig::read_from(&p.kubeconfig).expect("read kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("kubeconfig");
    Client::try_from(cfg).expect("client")
}

/// A fresh namespace for one test.
pub async fn namespace(client: &Client, base: &str) -> String {
    // A suffix per run, so a control plane can be reused while old namespaces terminate.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let name = &format!("{base}-{:06x}", (nanos / 1000) as u64 & 0xff_ffff);
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {
            panic!("namespace {name} exists")
        }
        Err(e) => panic!("create namespace {name}: {e}"),
    }
    name.to_string()
}

/// Everything a test needs: the plane, a client and its namespace.
pub struct TestEnv {
    pub plane: Plane,
    pub client: Client,
    pub ns: String,
}

pub async fn setup(ns: &str) -> TestEnv {
    neo4j_controller::init_tracing(neo4j_controller::LogFormat::Text);
    let plane = plane();
    install_crds(&plane);
    let client = client(&plane).await;
    let ns = namespace(&client, ns).await;
    TestEnv { plane, client, ns }
}

/// Polls `f` every 200 ms until it yields `Some`, or panics after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A controller running in-process.
pub struct Running {
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    stop: Option<oneshot::Sender<()>>,
    pub port: u16,
}

impl Running {
    /// Scrapes `/metrics`.
    pub fn metrics(&self) -> String {
        http_get(self.port, "/metrics").unwrap_or_default()
    }

    /// Sum of the samples of `name` whose labels include every `(key, value)` of `filters`.
    pub fn metric(&self, name: &str, filters: &[(&str, &str)]) -> f64 {
        metric_sum(&self.metrics(), name, filters)
    }

    /// Ends the controller abruptly (a crash: no lease release, nothing finished).
    pub async fn kill(mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
            let _ = h.await;
        }
    }

    /// Asks for a graceful stop and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), h).await;
        }
    }

    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

/// Starts a controller scoped to `ns`; `tune` adjusts its flags.
pub async fn start(env: &TestEnv, tune: impl FnOnce(&mut Config)) -> Running {
    let port = free_port();
    let mut config = Config::defaults();
    config.kubeconfig = Some(env.plane.kubeconfig.clone());
    config.namespace = Some(env.ns.clone());
    config.metrics_listen = format!("127.0.0.1:{port}").parse().unwrap();
    tune(&mut config);
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(neo4j_controller::run_until(config, async move {
        let _ = rx.await;
    }));
    let running = Running {
        handle: Some(handle),
        stop: Some(tx),
        port,
    };
    wait_for(
        "the controller's metrics port",
        Duration::from_secs(30),
        || async { http_get(port, "/healthz").map(|_| ()) },
    )
    .await;
    running
}

/// Waits until the controller reports its caches synced (or is a standby).
pub async fn wait_ready(r: &Running) {
    wait_for("/readyz", Duration::from_secs(60), || async {
        http_get(r.port, "/readyz").map(|_| ())
    })
    .await;
}

/// A plain HTTP/1.0 GET; `Some(body)` on 200.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    if !(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200")) {
        return None;
    }
    Some(body.to_string())
}

pub fn metric_sum(text: &str, name: &str, filters: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, labels) = match series.split_once('{') {
                Some((m, rest)) => (m, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let ok = filters
                .iter()
                .all(|(k, v)| labels.split(',').any(|kv| kv == format!("{k}=\"{v}\"")));
            ok.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

pub const CLUSTER: &str = "Neo4jEnterpriseCluster";
pub const STANDALONE: &str = "Neo4jEnterpriseStandalone";

pub fn cluster_manifest(name: &str, servers: i32, retention: &str) -> Value {
    json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": name},
        "spec": {
            "acceptLicenseAgreement": "eval",
            "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": servers},
            "storage": {"size": "1Gi", "retentionPolicy": retention},
            "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
        }
    })
}

pub fn standalone_manifest(name: &str, retention: &str) -> Value {
    json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseStandalone",
        "metadata": {"name": name},
        "spec": {
            "acceptLicenseAgreement": "eval",
            "image": {"repo": "neo4j", "tag": "2025.10.1-enterprise"},
            "storage": {"size": "1Gi", "retentionPolicy": retention},
            "resources": {"limits": {"memory": "2Gi"}}
        }
    })
}

/// Registers the fake node pods are bound to and keeps it alive (status Ready, node Lease
/// renewed) so the node lifecycle controller never marks the pods NotReady or evicts them.
pub async fn fake_node(client: &Client) -> JoinHandle<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}}
    }))
    .unwrap();
    match nodes.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => panic!("create node: {e}"),
    }
    let client = client.clone();
    tokio::spawn(async move {
        let nodes: Api<Node> = Api::all(client.clone());
        let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
        loop {
            let now = k8s_openapi::jiff::Timestamp::now().to_string();
            let _ = nodes
                .patch_status(
                    NODE,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": {"conditions": [{
                        "type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "fake node for controller tests",
                        "lastHeartbeatTime": now, "lastTransitionTime": now
                    }]}})),
                )
                .await;
            let lease = json!({
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": NODE, "namespace": "kube-node-lease"},
                "spec": {"holderIdentity": NODE, "leaseDurationSeconds": 40,
                         "renewTime": k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()}
            });
            let _ = leases
                .patch(
                    NODE,
                    &PatchParams::apply("ctl-test-node").force(),
                    &Patch::Apply(&lease),
                )
                .await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    })
}

/// What the kubelet would do for every pod matching `selector`: bind it to the fake node and
/// report it Running and Ready.
pub async fn mark_pods_ready(client: &Client, ns: &str, selector: &str) -> usize {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let list = pods
        .list(&ListParams::default().labels(selector))
        .await
        .expect("list pods");
    let mut marked = 0;
    for pod in list.items {
        let name = pod.name_any();
        let spec = pod.spec.clone().unwrap_or_default();
        if spec.node_name.is_none() {
            let binding = json!({
                "apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": NODE}
            });
            if let Err(e) = pods
                .create_subresource::<Value, Value>(
                    "binding",
                    &name,
                    &PostParams::default(),
                    &binding,
                )
                .await
            {
                panic!("bind {name}: {e}");
            }
        }
        let ready = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if ready {
            continue;
        }
        let now = k8s_openapi::jiff::Timestamp::now().to_string();
        let containers: Vec<Value> = spec
            .containers
            .iter()
            .map(|c| {
                json!({"name": c.name, "image": c.image, "imageID": "", "ready": true, "started": true,
                       "restartCount": 0, "state": {"running": {"startedAt": now}}})
            })
            .collect();
        let cond = |t: &str| json!({"type": t, "status": "True", "lastTransitionTime": now});
        pods.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {
                "phase": "Running",
                "podIP": "10.244.0.10",
                "hostIP": "10.1.0.1",
                "startTime": now,
                "conditions": [cond("PodScheduled"), cond("Initialized"), cond("ContainersReady"), cond("Ready")],
                "containerStatuses": containers
            }})),
        )
        .await
        .unwrap_or_else(|e| panic!("mark {name} ready: {e}"));
        marked += 1;
    }
    marked
}
