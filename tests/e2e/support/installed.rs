//! Support for the install tests (tests/scripts/install-e2e.sh): the shipped manifests applied
//! to a control plane started with `--enable-aggregator-routing=true`, so the API server calls
//! the webhook through its Service, resolved to the EndpointSlice the tests write (loopback
//! addresses 127.0.0.2, 127.0.0.3 standing in for two pods). Included by each test file with
//! `#[path]`; not every test uses every helper.
#![allow(dead_code)] // Each test binary includes this module and uses a different part of it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use neo4j_e2e::{ControlPlane, root, wait_for};
use serde_json::{Value, json};

pub const NAMESPACE: &str = "neo4j-operator";
pub const WEBHOOK_SERVICE: &str = "neo4j-webhook";
pub const SLICE: &str = "neo4j-webhook-e2e";

/// A third-party tool built by tests/tools/build.sh (`$TOOLS_BIN`, default target/tools/bin).
pub fn tool(name: &str) -> PathBuf {
    std::env::var_os("TOOLS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/tools/bin"))
        .join(name)
}

/// Runs a command to completion with captured output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command and fails the test unless it succeeds; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `KEY="value"` lines of the control plane's env file.
pub fn cluster_env(cp: &ControlPlane) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(cp.state_dir.join("env"))
        .unwrap_or_else(|e| panic!("{}/env: {e}", cp.state_dir.display()));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

/// Directory of a CRD set named by an environment variable the script sets.
fn crd_dir(var: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(var).unwrap_or_else(|| {
        panic!("{var} is not set: run tests/scripts/install-e2e.sh (or `make install-e2e`)")
    }))
}

/// Server-side apply of a file or directory (CRDs exceed the client-side annotation limit).
pub fn apply_server_side(cp: &ControlPlane, path: &Path) {
    cp.kubectl_ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=neo4j-install-e2e",
        "-f",
        &path.to_string_lossy(),
    ]);
}

/// Our CRDs, cert-manager's and the Prometheus Operator's (ServiceMonitor, PrometheusRule),
/// applied for real and Established.
pub fn install_all_crds(cp: &ControlPlane) {
    cp.install_crds();
    for var in ["CERT_MANAGER_CRDS", "PROMETHEUS_OPERATOR_CRDS"] {
        let dir = crd_dir(var);
        apply_server_side(cp, &dir);
        cp.kubectl_ok(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "-f",
            &dir.to_string_lossy(),
        ]);
    }
}

/// `kubectl apply -k manifests/` for real (server-side: the CRDs are large), after the CRDs of
/// cert-manager and the Prometheus Operator. Pods stay Pending (no scheduler), but the
/// ReplicaSets create them, so pod security admission checks every template.
pub fn install(cp: &ControlPlane) {
    install_all_crds(cp);
    cp.kubectl_ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=neo4j-install-e2e",
        "-k",
        &root().join("manifests").to_string_lossy(),
    ]);
}

/// A kubeconfig authenticating as a ServiceAccount of the install (a token from the
/// TokenRequest API), written under the state directory.
pub fn service_account_kubeconfig(cp: &ControlPlane, sa: &str) -> PathBuf {
    let env = cluster_env(cp);
    let token = cp
        .kubectl_ok(&["create", "token", sa, "-n", NAMESPACE, "--duration=2h"])
        .trim()
        .to_string();
    assert!(!token.is_empty(), "empty token for {sa}");
    let ca = std::fs::read(cp.state_dir.join("ca.crt"))
        .unwrap_or_else(|e| panic!("{}/ca.crt: {e}", cp.state_dir.display()));
    let kc = json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "local", "cluster": {"server": env["APISERVER_URL"], "certificate-authority-data": neo4j_e2e::base64(&ca)}}],
        "users": [{"name": sa, "user": {"token": token}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": sa}}],
        "current-context": "local",
    });
    let path = cp.state_dir.join(format!("{sa}.kubeconfig"));
    std::fs::write(&path, kc.to_string()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// A free port on `ip` (a loopback address), bound and released.
pub fn free_port_on(ip: IpAddr) -> u16 {
    TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on {ip}: {e}"))
}

/// Status code and body of a plain-HTTP GET, `None` when nothing answers. HTTP/1.0, so the
/// body is never chunked.
pub fn http_get(ip: IpAddr, port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&(ip, port).into(), Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {ip}\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let code = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((code, body))
}

/// A child process killed on drop, its pid recorded for the script's cleanup.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(cp: &ControlPlane, name: &str, cmd: &mut Command) -> Proc {
        let dir = cp.state_dir.join("procs");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let _ = std::fs::write(dir.join(format!("{name}.pid")), child.id().to_string());
        Proc {
            name: name.to_string(),
            child: Some(child),
            log,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the log when the process has exited.
    pub fn assert_running(&mut self) {
        if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
            panic!("{} exited ({status}); log:\n{}", self.name, self.log_text());
        }
    }

    /// SIGKILL: gone at once, connections reset.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One `neo4j-webhook serve` standing in for a pod: listens on `ip`, reads the serving pair
/// from `cert_dir` (reloaded within 200 ms of a change), watches with `kubeconfig`.
pub struct Replica {
    pub ip: IpAddr,
    pub port: u16,
    pub metrics_port: u16,
    pub proc: Proc,
}

impl Replica {
    pub fn start(
        cp: &ControlPlane,
        name: &str,
        ip: IpAddr,
        cert_dir: &Path,
        kubeconfig: &Path,
    ) -> Replica {
        let port = free_port_on(ip);
        let metrics_port = free_port_on(ip);
        Replica::start_on(cp, name, ip, port, metrics_port, cert_dir, kubeconfig)
    }

    pub fn start_on(
        cp: &ControlPlane,
        name: &str,
        ip: IpAddr,
        port: u16,
        metrics_port: u16,
        cert_dir: &Path,
        kubeconfig: &Path,
    ) -> Replica {
        let bin = std::env::var_os("NEO4J_WEBHOOK_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target/debug/neo4j-webhook"));
        let proc = Proc::spawn(
            cp,
            name,
            Command::new(bin)
                .arg("serve")
                .arg(format!("--listen={ip}:{port}"))
                .arg(format!("--metrics-listen={ip}:{metrics_port}"))
                .arg(format!(
                    "--tls-cert-file={}",
                    cert_dir.join("tls.crt").display()
                ))
                .arg(format!(
                    "--tls-key-file={}",
                    cert_dir.join("tls.key").display()
                ))
                .arg(format!("--kubeconfig={}", kubeconfig.display()))
                .arg("--cert-reload-interval=200ms")
                .env("RUST_LOG", "info"),
        );
        let mut r = Replica {
            ip,
            port,
            metrics_port,
            proc,
        };
        wait_for(
            &format!("{name} to report ready"),
            Duration::from_secs(60),
            || {
                r.proc.assert_running();
                (http_get(ip, metrics_port, "/readyz").map(|(c, _)| c) == Some(200)).then_some(())
            },
        );
        r
    }

    /// The replica's /metrics text.
    pub fn metrics(&self) -> String {
        http_get(self.ip, self.metrics_port, "/metrics")
            .map(|(_, body)| body)
            .unwrap_or_default()
    }
}

/// The address an EndpointSlice lists for a replica listening on `127.0.0.N`: `192.0.2.N`.
/// EndpointSlices may not hold loopback addresses, so the slices use documentation addresses
/// and the API server reaches them through its egress proxy (tests/e2e/bin/connect_proxy.rs),
/// which connects `192.0.2.N` to `127.0.0.N`.
pub fn slice_address(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_loopback() => [192, 0, 2, v4.octets()[3]].into(),
        other => other,
    }
}

/// Writes (or replaces) the EndpointSlice of the webhook Service: one endpoint per
/// `(replica address, ready)`, all on `port` (what the EndpointSlice controller writes for
/// pods).
pub fn set_endpoints(cp: &ControlPlane, port: u16, endpoints: &[(IpAddr, bool)]) {
    let eps: Vec<Value> = endpoints
        .iter()
        .map(|(ip, ready)| {
            json!({"addresses": [slice_address(*ip).to_string()], "conditions": {"ready": ready, "serving": ready, "terminating": false}})
        })
        .collect();
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": SLICE, "namespace": NAMESPACE,
            "labels": {"kubernetes.io/service-name": WEBHOOK_SERVICE, "endpointslice.kubernetes.io/managed-by": "neo4j-install-e2e"}},
        "addressType": "IPv4",
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        "endpoints": eps,
    });
    let out = cp.kubectl_in(&["apply", "-f", "-"], Some(&slice.to_string()));
    assert!(
        out.status.success(),
        "EndpointSlice: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sets the caBundle of both webhook configurations (what `neo4j-webhook certs`' patch does).
pub fn set_ca_bundle(cp: &ControlPlane, patch_file: &Path) {
    for kind in [
        "mutatingwebhookconfiguration",
        "validatingwebhookconfiguration",
    ] {
        cp.kubectl_ok(&[
            "patch",
            kind,
            "neo4j-webhook",
            "--type=json",
            "--patch-file",
            &patch_file.to_string_lossy(),
        ]);
    }
}

/// The caBundle (decoded PEM) of a webhook configuration, empty when unset.
pub fn ca_bundle(cp: &ControlPlane, kind: &str) -> String {
    let v = cp
        .get_json("", kind, "neo4j-webhook")
        .unwrap_or_else(|| panic!("{kind}/neo4j-webhook is missing"));
    let b64 = v["webhooks"][0]["clientConfig"]["caBundle"]
        .as_str()
        .unwrap_or_default();
    String::from_utf8(decode_base64(b64)).unwrap_or_default()
}

/// Standard base64 decoding (caBundle and Secret data), ignoring whitespace.
pub fn decode_base64(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    out
}

/// `neo4j-webhook certs --out DIR --host ...`: the air-gapped certificate path.
pub fn webhook_certs(out: &Path, hosts: &[&str]) {
    let bin = std::env::var_os("NEO4J_WEBHOOK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/debug/neo4j-webhook"));
    let mut cmd = Command::new(bin);
    cmd.arg("certs").arg("--out").arg(out);
    for h in hosts {
        cmd.arg("--host").arg(h);
    }
    run_ok(&mut cmd);
}

/// Installs manifests/base with a certificate from `neo4j-webhook certs --base` (its overlay:
/// Secret and caBundle patch) written to `dir`: the install without cert-manager.
pub fn install_with_own_certs(cp: &ControlPlane, dir: &Path) {
    install_all_crds(cp);
    let _ = std::fs::remove_dir_all(dir);
    let bin = std::env::var_os("NEO4J_WEBHOOK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/debug/neo4j-webhook"));
    run_ok(
        Command::new(bin)
            .arg("certs")
            .arg("--out")
            .arg(dir)
            .arg("--base")
            .arg(root().join("manifests/base")),
    );
    cp.kubectl_ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=neo4j-install-e2e",
        "-k",
        &dir.to_string_lossy(),
    ]);
}

/// A valid standalone, labelled with `n` so every apply is a real change.
pub fn standalone(namespace: &str, name: &str, n: usize) -> String {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseStandalone",
        "metadata": {"name": name, "namespace": namespace, "labels": {"e2e-iteration": n.to_string()}},
        "spec": {"acceptLicenseAgreement": "yes", "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"}, "storage": {"size": "1Gi"}}})
    .to_string()
}

/// Outcome of one `kubectl apply` in a loop.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub n: usize,
    pub at: Instant,
    pub ok: bool,
    pub stderr: String,
}

/// Applies `standalone(namespace, name, n)` for n in 0..max, calling `before(n)` first and
/// stopping when it returns false; returns every attempt.
pub fn apply_loop(
    cp: &ControlPlane,
    namespace: &str,
    name: &str,
    max: usize,
    mut before: impl FnMut(usize) -> bool,
) -> Vec<Attempt> {
    let mut attempts = Vec::with_capacity(max);
    for n in 0..max {
        if !before(n) {
            break;
        }
        let at = Instant::now();
        let out = cp.kubectl_in(
            &["apply", "--request-timeout=20s", "-f", "-"],
            Some(&standalone(namespace, name, n)),
        );
        attempts.push(Attempt {
            n,
            at,
            ok: out.status.success(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    attempts
}

pub fn failures(attempts: &[Attempt]) -> Vec<&Attempt> {
    attempts.iter().filter(|a| !a.ok).collect()
}
