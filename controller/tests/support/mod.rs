//! Support for the controller's integration tests against the local control plane started by
//! `tests/scripts/cluster-up.sh` (its `env` file in `$E2E_STATE_DIR`). The harness (control
//! plane, client, waits, HTTP, fake kubelet) is the `neo4j-e2e` crate's; what is here is the
//! controller's own: the controller runs in-process, scoped to the test's own namespace.
// Shared by several test binaries, each of which uses only part of it.
#![allow(dead_code)]

pub mod instances;

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use kube::Client;
use neo4j_controller::Config;
pub use neo4j_e2e::wait_for_async as wait_for;
use neo4j_e2e::{ControlPlane, free_port, http_ok, kubelet, unique_namespace};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The fake node the tests' pods are bound to.
pub const NODE: &str = "ctl-test-node";

/// Installs the CRDs once per test process: ours and, when e2e.sh sets `CERT_MANAGER_CRDS`
/// (tests/scripts/cert-manager-crds.sh), cert-manager's (Certificate, Issuer, ...).
pub fn install_crds(plane: &ControlPlane) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if let Some(dir) = std::env::var_os("CERT_MANAGER_CRDS") {
            plane.install_cert_manager_crds(Path::new(&dir));
        }
        plane.install_crds();
    });
}

/// Everything a test needs: the plane, a client and its namespace.
pub struct TestEnv {
    pub plane: ControlPlane,
    pub client: Client,
    pub ns: String,
}

pub async fn setup(ns: &str) -> TestEnv {
    neo4j_controller::init_tracing(neo4j_controller::LogFormat::Text);
    let plane = ControlPlane::from_env();
    install_crds(&plane);
    let client = plane.client().await;
    let ns = unique_namespace(&client, ns).await;
    TestEnv { plane, client, ns }
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
        http_ok(self.port, "/metrics").unwrap_or_default()
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
        || async { http_ok(port, "/healthz").map(|_| ()) },
    )
    .await;
    running
}

/// Waits until the controller reports its caches synced (or is a standby).
pub async fn wait_ready(r: &Running) {
    wait_for("/readyz", Duration::from_secs(60), || async {
        http_ok(r.port, "/readyz").map(|_| ())
    })
    .await;
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

/// Registers the fake node pods are bound to and keeps its Lease renewed (so the node
/// lifecycle controller never marks the pods NotReady or evicts them) while the task runs.
pub async fn fake_node(client: &Client) -> JoinHandle<()> {
    kubelet::start_node(client, NODE)
        .await
        .unwrap_or_else(|e| panic!("fake node: {e:#}"))
}

/// What the kubelet would do for every pod matching `selector`: bind it to the fake node and
/// report it Running and Ready.
pub async fn mark_pods_ready(client: &Client, ns: &str, selector: &str) -> usize {
    kubelet::mark_pods_ready(client, ns, selector, NODE)
        .await
        .unwrap_or_else(|e| panic!("marking pods ready: {e:#}"))
}

/// The objects the renderer wants for the stored cluster (defaults applied as the controller
/// does).
pub fn rendered_cluster(
    c: &neo4j_shared::types::Neo4jEnterpriseCluster,
) -> Vec<neo4j_shared::render::DesiredObject> {
    let mut d = c.clone();
    neo4j_shared::defaults::cluster(&mut d.spec);
    neo4j_shared::render::cluster(&d).expect("render")
}

/// An API for the kind of a rendered object, in `ns`.
pub fn child_api(
    client: &Client,
    ns: &str,
    d: &neo4j_shared::render::DesiredObject,
) -> kube::Api<kube::api::DynamicObject> {
    kube::Api::namespaced_with(
        client.clone(),
        ns,
        &neo4j_controller::apply::api_resource(d),
    )
}

/// Waits until the controller has sent no write for `quiet` in a row; returns its write count.
pub async fn settle(r: &Running, quiet: Duration) -> f64 {
    let mut last = r.metric("neo4j_controller_api_writes_total", &[]);
    let mut since = std::time::Instant::now();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = r.metric("neo4j_controller_api_writes_total", &[]);
        if now != last {
            last = now;
            since = std::time::Instant::now();
        } else if since.elapsed() >= quiet {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "controller never went quiet"
        );
    }
}

/// Polls `check` every 20 ms (finer than [`wait_for`], for latency figures) until it yields
/// `Some`, or panics with `what` after `timeout`; returns the value and the time it took.
pub async fn time_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> (T, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = std::time::Instant::now();
    loop {
        if let Some(v) = check().await {
            return (v, started.elapsed());
        }
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The rules of `controller/RBAC.md`'s table, as ClusterRole rules.
pub fn rbac_rules() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/RBAC.md"))
        .expect("controller/RBAC.md");
    let list = |cell: &str| -> Vec<String> {
        cell.split(',')
            .map(|s| s.trim().trim_matches('`').to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    text.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').collect();
            let groups: Vec<String> = list(cells[0])
                .into_iter()
                .map(|g| if g == "core" { String::new() } else { g })
                .collect();
            json!({"apiGroups": groups, "resources": list(cells[1]), "verbs": list(cells[2])})
        })
        .collect()
}

/// Grants `user` exactly `rules` (a ClusterRole and its binding, replaced when they exist) and
/// returns a kubeconfig that impersonates `user` (admin credentials, the user's permissions).
pub async fn impersonating_kubeconfig(
    env: &TestEnv,
    user: &str,
    rules: &[Value],
) -> std::path::PathBuf {
    let roles: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(
        env.client.clone(),
        &kube::api::ApiResource::erase::<k8s_openapi::api::rbac::v1::ClusterRole>(&()),
    );
    roles
        .patch(
            user,
            &kube::api::PatchParams::apply("ctl-test").force(),
            &kube::api::Patch::Apply(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": user}, "rules": rules}),
            ),
        )
        .await
        .unwrap();
    let bindings: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(
        env.client.clone(),
        &kube::api::ApiResource::erase::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>(&()),
    );
    bindings
        .patch(
            user,
            &kube::api::PatchParams::apply("ctl-test").force(),
            &kube::api::Patch::Apply(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": user},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": user},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})),
        )
        .await
        .unwrap();
    let mut kc = kube::config::Kubeconfig::read_from(&env.plane.kubeconfig).unwrap();
    for a in &mut kc.auth_infos {
        if let Some(info) = a.auth_info.as_mut() {
            info.impersonate = Some(user.to_string());
        }
    }
    let path = std::env::temp_dir().join(format!("{user}.kubeconfig"));
    std::fs::write(&path, serde_json::to_vec(&kc).unwrap()).unwrap();
    path
}
