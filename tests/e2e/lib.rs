//! The end-to-end test harness, shared by this crate's tests and the controller's: the local
//! control plane started by `tests/scripts/cluster-up.sh` (its `env` file), the real `kubectl`
//! built with it, an API client, a `neo4j-webhook serve` process registered with the API server
//! by URL and CA bundle, and a stand-in for the kubelet ([`kubelet`]).
//!
//! Every wait is a condition polled against a deadline, never a bare sleep.

pub mod kubelet;

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, PostParams};
use serde_json::{Value, json};

pub mod corpus_support;

/// Repository root (the tests crate lives in `tests/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The local control plane the tests run against.
#[derive(Debug, Clone)]
pub struct ControlPlane {
    pub state_dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub kubectl: PathBuf,
}

impl ControlPlane {
    /// Reads `$E2E_STATE_DIR/env` (default `target/cluster/env`) written by cluster-up.sh.
    pub fn from_env() -> ControlPlane {
        let state_dir = std::env::var_os("E2E_STATE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target/cluster"));
        let env_file = state_dir.join("env");
        let text = std::fs::read_to_string(&env_file).unwrap_or_else(|e| {
            panic!(
                "{}: {e} — start the control plane with `make cluster-up` (or run `make e2e`)",
                env_file.display()
            )
        });
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
        ControlPlane {
            kubeconfig: get("KUBECONFIG"),
            kubectl: get("KUBECTL"),
            state_dir,
        }
    }

    /// An API client with the control plane's admin credentials.
    pub async fn client(&self) -> kube::Client {
        client(&self.kubeconfig)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// Runs kubectl with `args`, feeding `stdin` when given.
    pub fn kubectl_in(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(&self.kubectl);
        cmd.arg("--kubeconfig").arg(&self.kubeconfig).args(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.kubectl.display()));
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes())
                .unwrap_or_else(|e| panic!("kubectl stdin: {e}"));
        }
        child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("kubectl: {e}"))
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_in(args, None)
    }

    /// Runs kubectl and fails the test unless it succeeds; returns stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `kubectl get -o json` of one object, `None` when it does not exist.
    pub fn get_json(&self, namespace: &str, resource: &str, name: &str) -> Option<Value> {
        let mut args = vec!["get", resource, name, "-o", "json"];
        if !namespace.is_empty() {
            args.extend(["-n", namespace]);
        }
        let out = self.kubectl(&args);
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("NotFound") || err.contains("not found"),
                "kubectl get {resource}/{name}: {err}"
            );
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    pub fn create_namespace(&self, name: &str) {
        let out = self.kubectl_in(
            &["apply", "-f", "-"],
            Some(
                &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
                    .to_string(),
            ),
        );
        assert!(
            out.status.success(),
            "namespace {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Installs the generated CRDs and waits until every one is Established.
    pub fn install_crds(&self) {
        let dir = root().join("manifests/crds");
        let dir = dir.to_string_lossy();
        // Server-side apply: the CRDs exceed the 256 KiB client-side last-applied annotation.
        self.kubectl_ok(&[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=neo4j-e2e",
            "-f",
            &dir,
        ]);
        self.kubectl_ok(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "-f",
            &dir,
        ]);
    }

    /// Installs cert-manager's CRDs from `dir` (`tests/scripts/cert-manager-crds.sh` extracts
    /// them from its Go module) and waits until the Certificate CRD is Established.
    pub fn install_cert_manager_crds(&self, dir: &Path) {
        self.kubectl_ok(&[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=neo4j-e2e",
            "-f",
            &dir.to_string_lossy(),
        ]);
        self.kubectl_ok(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/certificates.cert-manager.io",
        ]);
    }
}

/// Creates a namespace of its own for one test or benchmark run: `base` and a suffix from the
/// clock, so a control plane can be reused while the namespaces of earlier runs terminate.
pub async fn unique_namespace(client: &kube::Client, base: &str) -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    let name = format!("{base}-{:06x}", micros as u64 & 0xff_ffff);
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => name,
        Err(kube::Error::Api(s)) if s.code == 409 => panic!("namespace {name} exists"),
        Err(e) => panic!("create namespace {name}: {e}"),
    }
}

/// An API client from the kubeconfig at `path` (with ring as the TLS crypto provider).
pub async fn client(path: &Path) -> anyhow::Result<kube::Client> {
    // One crypto provider in the tree (ring); ignore "already installed".
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .with_context(|| format!("loading {}", path.display()))?;
    kube::Client::try_from(config).context("building the API client")
}

/// The pauses between two polls of a condition: 50 ms, doubling up to 500 ms, until the
/// deadline (then the wait fails, naming what it waited for).
struct Polls {
    what: String,
    timeout: Duration,
    deadline: Instant,
    pause: Duration,
}

impl Polls {
    fn new(what: &str, timeout: Duration) -> Self {
        Polls {
            what: what.to_string(),
            timeout,
            deadline: Instant::now() + timeout,
            pause: Duration::from_millis(50),
        }
    }

    /// The pause before the next poll; panics once the deadline has passed.
    fn next_pause(&mut self) -> Duration {
        assert!(
            Instant::now() < self.deadline,
            "timed out after {:?} waiting for {}",
            self.timeout,
            self.what
        );
        let pause = self.pause;
        self.pause = (pause * 2).min(Duration::from_millis(500));
        pause
    }
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let mut polls = Polls::new(what, timeout);
    loop {
        if let Some(v) = check() {
            return v;
        }
        std::thread::sleep(polls.next_pause());
    }
}

/// [`wait_for`] for async tests: awaits `check` until it yields `Some`, or panics with `what`
/// after `timeout`.
pub async fn wait_for_async<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let mut polls = Polls::new(what, timeout);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(polls.next_pause()).await;
    }
}

/// Records a measured figure: printed, and appended as a tab-separated line
/// `section<TAB>what<TAB>value` to the file `$E2E_FIGURES` when it is set (the `make chaos`
/// run collects them into `target/chaos/figures.md`). Figures are reported, never asserted.
pub fn record_figure(section: &str, what: &str, value: &str) {
    println!("figure: {section}: {what}: {value}");
    if let Some(path) = std::env::var_os("E2E_FIGURES") {
        let line = format!("{section}\t{what}\t{value}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!(
                "figure not recorded in {}: {e}",
                PathBuf::from(path).display()
            );
        }
    }
}

/// A free loopback port (bound and released; good enough for tests on one machine).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// Status code and body of a plain-HTTP GET on loopback, `None` when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    // HTTP/1.0: the server closes the connection after one answer, never chunks it.
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// Status code of a plain-HTTP GET on loopback, `None` when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    http_get(port, path).map(|(status, _)| status)
}

/// The body of a plain-HTTP GET on loopback answered 200, else `None`.
pub fn http_ok(port: u16, path: &str) -> Option<String> {
    http_get(port, path).and_then(|(status, body)| (status == 200).then_some(body))
}

/// A running `neo4j-webhook serve` with a CA made for this test run.
pub struct Webhook {
    child: Option<Child>,
    pub port: u16,
    pub metrics_port: u16,
    pub dir: PathBuf,
    pub ca_pem: String,
}

impl Webhook {
    /// Starts the webhook (binary from `$NEO4J_WEBHOOK_BIN`, default `target/debug/neo4j-webhook`)
    /// on loopback with a fresh CA and serving certificate, watching the control plane for the
    /// cross-object cache, and waits until it is ready.
    pub fn start(cp: &ControlPlane, name: &str) -> Webhook {
        let dir = cp.state_dir.join(format!("webhook-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        let status = Command::new("bash")
            .arg(root().join("certs/dev-certs.sh"))
            .arg(&dir)
            .stdout(Stdio::null())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "certs/dev-certs.sh failed"
        );
        let ca_pem =
            std::fs::read_to_string(dir.join("ca.crt")).unwrap_or_else(|e| panic!("ca.crt: {e}"));
        let mut w = Webhook {
            child: None,
            port: free_port(),
            metrics_port: free_port(),
            dir,
            ca_pem,
        };
        w.restart(cp);
        w
    }

    /// Starts the process again (after [`Webhook::stop`]) on the same ports with the same
    /// certificate, so registrations made for it still hold, and waits until it is ready. The
    /// log is appended to.
    pub fn restart(&mut self, cp: &ControlPlane) {
        self.stop();
        let bin = webhook_bin();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("webhook.log"))
            .unwrap_or_else(|e| panic!("webhook.log: {e}"));
        let log2 = log
            .try_clone()
            .unwrap_or_else(|e| panic!("webhook.log: {e}"));
        let child = Command::new(&bin)
            .arg("serve")
            .arg(format!("--listen=127.0.0.1:{}", self.port))
            .arg(format!("--metrics-listen=127.0.0.1:{}", self.metrics_port))
            .arg(format!(
                "--tls-cert-file={}",
                self.dir.join("tls.crt").display()
            ))
            .arg(format!(
                "--tls-key-file={}",
                self.dir.join("tls.key").display()
            ))
            .arg(format!("--kubeconfig={}", cp.kubeconfig.display()))
            .env("RUST_LOG", "info")
            .stdout(log)
            .stderr(log2)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        // The e2e script kills whatever a crashed test run leaves behind.
        let _ = std::fs::write(self.dir.join("pid"), child.id().to_string());
        self.child = Some(child);
        wait_for(
            "the webhook to report ready",
            Duration::from_secs(60),
            || {
                if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                    panic!("the webhook exited ({status}); log: {}", self.log());
                }
                (http_status(self.metrics_port, "/readyz") == Some(200)).then_some(())
            },
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("webhook.log")).unwrap_or_default()
    }

    /// Stops the process (SIGKILL: the outage test wants it gone, not drained).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The shipped webhook configurations with clientConfig pointed at this process.
    pub fn configurations(&self) -> Value {
        let shipped = root().join("manifests/webhook/webhooks.yaml");
        let cp = ControlPlane::from_env();
        let out = cp.kubectl(&[
            "create",
            "--dry-run=client",
            "-o",
            "json",
            "-f",
            &shipped.to_string_lossy(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // One JSON object per document, back to back.
        let mut items: Vec<Value> = serde_json::Deserializer::from_slice(&out.stdout)
            .into_iter::<Value>()
            .map(|v| v.unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let ca = base64(self.ca_pem.as_bytes());
        for item in items.iter_mut() {
            for hook in item["webhooks"].as_array_mut().into_iter().flatten() {
                let path = hook["clientConfig"]["service"]["path"]
                    .as_str()
                    .unwrap_or("/validate")
                    .to_string();
                hook["clientConfig"] = json!({"url": format!("https://127.0.0.1:{}{path}", self.port), "caBundle": ca});
            }
        }
        json!({"apiVersion": "v1", "kind": "List", "items": items})
    }

    /// Registers the webhook configurations and waits until the API server calls them.
    pub fn register(&self, cp: &ControlPlane) {
        let out = cp.kubectl_in(
            &["apply", "-f", "-"],
            Some(&self.configurations().to_string()),
        );
        assert!(
            out.status.success(),
            "register webhooks: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        wait_until_admission_active(cp);
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Removes the webhook configurations (cluster-wide).
pub fn unregister(cp: &ControlPlane) {
    cp.kubectl(&[
        "delete",
        "mutatingwebhookconfiguration,validatingwebhookconfiguration",
        "neo4j-webhook",
        "--ignore-not-found",
    ]);
}

/// The API server picks up webhook configurations asynchronously: wait until a server-side dry
/// run of an object that only the webhook refuses is refused.
pub fn wait_until_admission_active(cp: &ControlPlane) {
    let probe = json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": "admission-probe", "namespace": "default"},
        "spec": {"image": {"repo": "neo4j", "tag": "5.26.0-enterprise"}, "topology": {"servers": 3}, "storage": {"size": "1Gi"}}})
    .to_string();
    wait_for(
        "the API server to call the webhook",
        Duration::from_secs(30),
        || {
            let out = cp.kubectl_in(&["apply", "--dry-run=server", "-f", "-"], Some(&probe));
            String::from_utf8_lossy(&out.stderr)
                .contains("license-required")
                .then_some(())
        },
    );
}

/// The webhook binary the tests run: `$NEO4J_WEBHOOK_BIN`, else the debug build.
pub fn webhook_bin() -> PathBuf {
    std::env::var_os("NEO4J_WEBHOOK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/debug/neo4j-webhook"))
}

/// Standard base64 (the caBundle field), to avoid a dependency for twenty lines.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `Warning: ` lines kubectl printed, without the prefix.
pub fn warnings(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("Warning: "))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
