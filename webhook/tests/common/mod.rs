//! Helpers shared by the webhook's integration tests: objects of every kind, AdmissionReviews
//! around them, in-process calls of the router, and a TLS client and test PKI.

#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use neo4j_shared::types::Kind;
use neo4j_webhook::serve::admission::{self, AppState};
use neo4j_webhook::serve::cache::SharedInventory;
use neo4j_webhook::serve::config::Limits;
use neo4j_webhook::serve::metrics::Metrics;
use neo4j_webhook::serve::tls;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SerialNumber,
};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tower::ServiceExt;

mod wire;
#[allow(unused_imports)] // Not every test binary sends API-server bodies.
pub use wire::apiserver_json;

pub const API_VERSION: &str = "neo4j.neo4j.com/v1beta1";

/// A minimal valid object of `kind`, with `spec` overrides merged in (a `null` removes a key).
pub fn object(kind: Kind, name: &str, spec_overrides: Value) -> Value {
    let mut spec = match kind {
        Kind::Cluster => json!({
            "acceptLicenseAgreement": "yes",
            "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": 3},
            "storage": {"size": "10Gi"},
        }),
        Kind::Standalone => json!({
            "acceptLicenseAgreement": "yes",
            "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "storage": {"size": "10Gi"},
        }),
        Kind::Backup => json!({
            "instanceRef": "graph",
            "database": "sales",
            "storage": {"type": "pvc", "pvc": {"name": "backups", "size": "10Gi"}},
        }),
        Kind::Restore => json!({
            "instanceRef": "graph",
            "database": "sales",
            "source": {"type": "backup", "backupRef": "nightly"},
        }),
        Kind::Database => json!({"clusterRef": "graph", "name": "sales"}),
        Kind::Plugin => json!({"clusterRef": "graph", "name": "apoc", "version": "5.26.0"}),
    };
    merge(&mut spec, spec_overrides);
    json!({
        "apiVersion": API_VERSION,
        "kind": kind.name(),
        "metadata": {"name": name, "namespace": "default", "uid": "0d7a5d3c-5b36-4d8e-9d6a-2f7c1f0c9a11"},
        "spec": spec,
    })
}

fn merge(target: &mut Value, overrides: Value) {
    match (target, overrides) {
        (Value::Object(t), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, o) => *t = o,
    }
}

/// An `admission.k8s.io/v1` AdmissionReview as the API server sends it.
pub fn review(uid: &str, operation: &str, object: &Value, old: Option<&Value>) -> Value {
    let kind = object.get("kind").cloned().unwrap_or(Value::Null);
    let plural = kind
        .as_str()
        .and_then(Kind::from_name)
        .map(Kind::plural)
        .unwrap_or("unknowns");
    let name = object
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(Value::Null);
    let (object, old_object) = match operation {
        "DELETE" => (Value::Null, old.cloned().unwrap_or_else(|| object.clone())),
        _ => (object.clone(), old.cloned().unwrap_or(Value::Null)),
    };
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "neo4j.neo4j.com", "version": "v1beta1", "kind": kind},
            "resource": {"group": "neo4j.neo4j.com", "version": "v1beta1", "resource": plural},
            "requestKind": {"group": "neo4j.neo4j.com", "version": "v1beta1", "kind": kind},
            "requestResource": {"group": "neo4j.neo4j.com", "version": "v1beta1", "resource": plural},
            "name": name,
            "namespace": "default",
            "operation": operation,
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
            "object": object,
            "oldObject": old_object,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions", "fieldManager": "kubectl-client-side-apply"},
        }
    })
}

/// A review of a valid cluster CREATE (allowed by `/validate`).
pub fn valid_review(uid: &str) -> Value {
    review(
        uid,
        "CREATE",
        &object(Kind::Cluster, "graph", json!({})),
        None,
    )
}

/// Whether an answer's body is an AdmissionReview that allows (false for anything else).
pub fn allowed(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["response"]["allowed"].as_bool())
        .unwrap_or(false)
}

/// The head of an HTTP/1.1 POST to `/validate` announcing `len` body bytes, with `extra`
/// header lines (each ending in CRLF).
pub fn post_head(len: usize, extra: &str) -> String {
    format!(
        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{extra}Content-Length: {len}\r\n\r\n"
    )
}

pub fn state_with(inventory: Arc<dyn SharedInventory>, limits: Limits) -> Arc<AppState> {
    Arc::new(AppState::new(Arc::new(Metrics::new()), inventory, limits))
}

pub fn state() -> Arc<AppState> {
    state_with(
        Arc::new(neo4j_shared::inventory::NoInventory),
        Limits::default(),
    )
}

/// An HTTP answer as the tests look at it.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// `response` of the AdmissionReview.
    pub fn response(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text());
        self.json()["response"].clone()
    }
}

/// Calls the router in-process.
pub async fn call(
    router: axum::Router,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Body,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    send(router, request.body(body).expect("request")).await
}

/// Sends a request built by the caller to the router in-process.
pub async fn send(router: axum::Router, request: Request<Body>) -> Answer {
    let response = router.oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        content_type,
        body,
    }
}

pub async fn post_json(state: &Arc<AppState>, path: &str, body: &Value) -> Answer {
    call(
        admission::router(state.clone()),
        "POST",
        path,
        Some("application/json"),
        Body::from(body.to_string()),
    )
    .await
}

/// Rule ids of the warnings of a response (`<rule>: <message>` each).
/// The `response` of an AdmissionReview (`uid`, `operation`, `object`, `old`) posted to `path`.
pub async fn admit(
    state: &Arc<AppState>,
    path: &str,
    uid: &str,
    operation: &str,
    object: &Value,
    old: Option<&Value>,
) -> Value {
    post_json(state, path, &review(uid, operation, object, old))
        .await
        .response()
}

/// Asserts that every one of `rules` is among `found` (`context` in the message otherwise).
pub fn assert_rules_among(found: &[String], rules: &[&str], context: &str) {
    for rule in rules {
        assert!(
            found.iter().any(|r| r == rule),
            "{context}: {rule} not in {found:?}"
        );
    }
}

pub fn warning_rules(response: &Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .map(|ws| {
            ws.iter()
                .filter_map(Value::as_str)
                .map(|w| w.split(": ").next().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Rule ids in a denial's `status.message` (`<rule>: <field>: <message>` per line).
pub fn denial_rules(response: &Value) -> Vec<String> {
    response["status"]["message"]
        .as_str()
        .map(|m| {
            m.lines()
                .map(|l| l.split(": ").next().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits for `condition` with a deadline (never a bare sleep standing in for readiness).
pub async fn eventually<F, Fut>(what: &str, deadline: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let until = Instant::now() + deadline;
    loop {
        if condition().await {
            return;
        }
        assert!(
            Instant::now() < until,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A CA generated at test time, issuing serving certificates for `localhost`.
pub struct TestPki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A serving certificate and its key, PEM.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub serial: Vec<u8>,
    /// notAfter as Unix seconds (0 for a made-up pair).
    pub not_after: i64,
}

impl TestPki {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        TestPki {
            ca: CertifiedIssuer::self_signed(params, key).expect("CA"),
        }
    }

    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A serving certificate for localhost and 127.0.0.1 with the given serial.
    pub fn leaf(&self, serial: u64) -> Leaf {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "neo4j-webhook.test");
        // A leading 0x01 keeps the DER INTEGER positive and its content bytes exactly these.
        let mut bytes = vec![0x01];
        bytes.extend_from_slice(&serial.to_be_bytes());
        params.serial_number = Some(SerialNumber::from_slice(&bytes));
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.ca).expect("leaf");
        let not_after = tls::certificate_facts(cert.der())
            .expect("own certificate parses")
            .not_after;
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial: bytes,
            not_after,
        }
    }
}

/// Writes a pair the way a Kubernetes Secret volume lays it out: `..<stamp>/tls.{crt,key}`,
/// `..data` → `..<stamp>`, `tls.crt` → `..data/tls.crt`. Calling it again swaps `..data`
/// atomically (rename over the old link), as the kubelet does.
pub fn write_secret_volume(dir: &Path, stamp: &str, leaf: &Leaf) -> (PathBuf, PathBuf) {
    let data = dir.join(format!("..{stamp}"));
    std::fs::create_dir_all(&data).expect("mkdir");
    std::fs::write(data.join("tls.crt"), &leaf.cert_pem).expect("write cert");
    std::fs::write(data.join("tls.key"), &leaf.key_pem).expect("write key");
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(format!("..{stamp}"), &tmp).expect("symlink");
    std::fs::rename(&tmp, dir.join("..data")).expect("swap ..data");
    for file in ["tls.crt", "tls.key"] {
        let link = dir.join(file);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(format!("..data/{file}"), &link).expect("symlink file");
        }
    }
    (dir.join("tls.crt"), dir.join("tls.key"))
}

/// A fresh directory under the target dir's tmp (removed by the test when it passes).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neo4j-webhook-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn client_config(
    trusted: &[CertificateDer<'static>],
    alpn: &[&[u8]],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in trusted {
        roots.add(ca.clone()).expect("add root");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // Every connection does a full handshake, so it shows the certificate served right now (a
    // resumed session would carry the identity of the one it was first made with).
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// One TLS connection speaking HTTP/1.1 (keep-alive) or HTTP/2, whichever ALPN chose.
pub struct Client {
    sender: Sender,
    /// Serial of the certificate the server presented.
    pub serial: Vec<u8>,
    pub alpn: Option<Vec<u8>>,
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Client {
    pub async fn connect(
        addr: SocketAddr,
        config: Arc<rustls::ClientConfig>,
    ) -> Result<Client, BoxError> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let connector = tokio_rustls::TlsConnector::from(config);
        let stream = connector
            .connect(ServerName::try_from("localhost")?, tcp)
            .await?;
        let (_, session) = stream.get_ref();
        let leaf = session
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or("no peer certificate")?;
        let serial = tls::certificate_facts(leaf)?.serial;
        let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
        let io = TokioIo::new(stream);
        let sender = if alpn.as_deref() == Some(b"h2") {
            let (sender, conn) =
                hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
                    .await?;
            tokio::spawn(conn);
            Sender::H2(sender)
        } else {
            let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
            tokio::spawn(conn);
            Sender::H1(sender)
        };
        Ok(Client {
            sender,
            serial,
            alpn,
        })
    }

    pub async fn post(&mut self, path: &str, body: Bytes) -> Result<(StatusCode, Bytes), BoxError> {
        // HTTP/2 carries scheme and authority as pseudo-headers, so it needs the absolute form.
        let uri = match self.sender {
            Sender::H1(_) => path.to_string(),
            Sender::H2(_) => format!("https://localhost{path}"),
        };
        let request = hyper::Request::builder()
            .method("POST")
            .uri(uri)
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Full::new(body))?;
        let response = match &mut self.sender {
            Sender::H1(s) => {
                s.ready().await?;
                s.send_request(request).await?
            }
            Sender::H2(s) => {
                s.ready().await?;
                s.send_request(request).await?
            }
        };
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}
