//! What the webhook's benchmarks share: a throwaway PKI, TLS clients for HTTP/1.1 and HTTP/2,
//! starting `neo4j-webhook serve` as a child process and reading its addresses, and sampling a
//! process's resident memory.

#![allow(dead_code)] // Each benchmark uses a different subset.

pub mod callgrind;
#[path = "../../tests/common/wire.rs"]
mod wire;
pub use wire::apiserver_json;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use neo4j_webhook::serve::tls;
use serde_json::Value;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fixtures")
}

/// Set: the benchmarks send the recorded review without the parts admission skips (both
/// objects' `metadata.managedFields` and last-applied annotation), to bound what skipping them
/// faster could gain. The admission bench then leaves BENCHMARKS.md alone.
pub const WITHOUT_SKIPPED_ENV: &str = "BENCH_WITHOUT_SKIPPED_PARTS";

/// The recorded review as compact JSON, the way the API server sends it: its request's keys in
/// the order of Go's `AdmissionRequest` (`operation` and `kind` before the objects), which the
/// webhook's one-pass decoder relies on; serde_json would sort them.
pub fn cluster_review() -> Result<Bytes, BoxError> {
    let mut recorded: Value = serde_json::from_slice(&std::fs::read(
        fixture_dir().join("cluster-update-review.json"),
    )?)?;
    if std::env::var_os(WITHOUT_SKIPPED_ENV).is_some() {
        for object in ["object", "oldObject"] {
            if let Some(metadata) = recorded["request"][object]["metadata"].as_object_mut() {
                metadata.remove("managedFields");
                if let Some(annotations) = metadata
                    .get_mut("annotations")
                    .and_then(Value::as_object_mut)
                {
                    annotations.remove(neo4j_webhook::serve::strict::LAST_APPLIED);
                }
            }
        }
    }
    Ok(Bytes::from(apiserver_json(&recorded)))
}

/// A CA and a `localhost` serving certificate in `dir`: (CA certificate, cert file, key file).
pub fn test_pki(
    dir: &Path,
) -> Result<(rustls::pki_types::CertificateDer<'static>, PathBuf, PathBuf), BoxError> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let leaf_key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec!["localhost".to_string()])?.signed_by(&leaf_key, &ca)?;
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&cert, leaf.pem())?;
    std::fs::write(&key, leaf_key.serialize_pem())?;
    Ok((ca.der().clone(), cert, key))
}

/// The HTTP version a client speaks (chosen by ALPN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    H1,
    H2,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::H1 => "HTTP/1.1",
            Proto::H2 => "HTTP/2",
        }
    }
}

pub fn client_config(
    ca: &rustls::pki_types::CertificateDer<'static>,
    proto: Proto,
) -> Result<Arc<rustls::ClientConfig>, BoxError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone())?;
    let mut config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![match proto {
        Proto::H1 => b"http/1.1".to_vec(),
        Proto::H2 => b"h2".to_vec(),
    }];
    Ok(Arc::new(config))
}

/// One client connection. HTTP/2 senders are cheap clones sharing the connection, one per
/// concurrent stream ([`Conn::stream`]).
pub enum Conn {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

pub async fn tls_stream(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, BoxError> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Ok(tokio_rustls::TlsConnector::from(config)
        .connect(rustls::pki_types::ServerName::try_from("localhost")?, tcp)
        .await?)
}

pub async fn connect(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    proto: Proto,
) -> Result<Conn, BoxError> {
    let stream = TokioIo::new(tls_stream(addr, config).await?);
    Ok(match proto {
        Proto::H1 => {
            let (sender, conn) = hyper::client::conn::http1::handshake(stream).await?;
            tokio::spawn(conn);
            Conn::H1(sender)
        }
        Proto::H2 => {
            let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                .initial_stream_window_size(1 << 20)
                .initial_connection_window_size(4 << 20)
                .handshake(stream)
                .await?;
            tokio::spawn(conn);
            Conn::H2(sender)
        }
    })
}

impl Conn {
    /// Another stream on the same HTTP/2 connection (`None` for HTTP/1.1).
    pub fn stream(&self) -> Option<Conn> {
        match self {
            Conn::H1(_) => None,
            Conn::H2(s) => Some(Conn::H2(s.clone())),
        }
    }

    pub async fn post(&mut self, path: &str, body: &Bytes) -> Result<(u16, Bytes), BoxError> {
        let request = hyper::Request::builder()
            .method("POST")
            .uri(match self {
                Conn::H1(_) => path.to_string(),
                Conn::H2(_) => format!("https://localhost{path}"),
            })
            .header("content-type", "application/json");
        let request = match self {
            Conn::H1(_) => request.header("host", "localhost"),
            Conn::H2(_) => request,
        }
        .body(Full::new(body.clone()))?;
        let response = match self {
            Conn::H1(s) => {
                s.ready().await?;
                s.send_request(request).await?
            }
            Conn::H2(s) => {
                s.ready().await?;
                s.send_request(request).await?
            }
        };
        let status = response.status().as_u16();
        Ok((status, response.into_body().collect().await?.to_bytes()))
    }
}

/// A server child process and where it listens.
pub struct Server {
    pub child: Child,
    pub tls: SocketAddr,
    pub metrics: Option<SocketAddr>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.child.id())
    }
}

/// VmRSS of a process, KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// CPU time a process has used so far, all its threads, user and system (`/proc/<pid>/stat`,
/// in clock ticks of 10 ms: Linux reports these in USER_HZ, 100 a second).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces; the fields after it are fixed:
    // utime and stime are the 12th and 13th after the closing parenthesis.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

/// A field of `/proc/<pid>/status` given in KiB (`VmRSS:`, `VmHWM:`, `RssAnon:`, …).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The text of the webhook's `/metrics` (plain HTTP on its metrics port).
pub async fn scrape_metrics(metrics: SocketAddr) -> Result<String, BoxError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(metrics).await?;
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut text = String::new();
    tcp.read_to_string(&mut text).await?;
    Ok(text)
}

/// The webhook binary of this build, or another one named by `NEO4J_WEBHOOK_BIN`.
pub fn webhook_bin() -> PathBuf {
    std::env::var_os("NEO4J_WEBHOOK_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_neo4j-webhook")),
        PathBuf::from,
    )
}

/// Starts `neo4j-webhook serve --no-cluster` on ephemeral loopback ports (optionally under a
/// wrapper such as valgrind) and reads its addresses from the JSON start-up log line.
pub fn spawn_webhook(
    bin: &Path,
    wrapper: &[String],
    cert: &Path,
    key: &Path,
    extra: &[String],
    configure: impl FnOnce(&mut Command),
) -> Result<Server, BoxError> {
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.args([
        "serve",
        "--no-cluster",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--log-format",
        "json",
    ])
    .arg("--tls-cert-file")
    .arg(cert)
    .arg("--tls-key-file")
    .arg(key)
    .args(extra)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    configure(&mut cmd);
    let mut child = cmd.spawn()?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let Some(line) = lines.next().transpose()? else {
            break;
        };
        let Ok(log) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if log["fields"]["message"] == "admission webhook listening" {
            let tls = log["fields"]["tls_addr"]
                .as_str()
                .ok_or("tls_addr")?
                .parse()?;
            let metrics = log["fields"]["metrics_addr"]
                .as_str()
                .ok_or("metrics_addr")?
                .parse()?;
            // Keep draining the log so the child never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok(Server {
                child,
                tls,
                metrics: Some(metrics),
            });
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!("{} serve did not report its addresses", bin.display()).into())
}

pub fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = Command::new("lscpu")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Model name:"))
                .map(|l| l.trim_start_matches("Model name:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs (nproc), {model}")
}

pub fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown date".into(), |s| s.trim().to_string())
}

/// Replaces (or appends) the section of BENCHMARKS.md that starts with `heading`.
pub fn write_benchmarks_section(heading: &str, section: &str) -> Result<(), BoxError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n\n".into());
    let updated = match existing.find(heading) {
        Some(start) => {
            let rest = &existing[start + heading.len()..];
            let end = rest
                .find("\n## ")
                .map_or(existing.len(), |i| start + heading.len() + i + 1);
            format!("{}{}{}", &existing[..start], section, &existing[end..])
        }
        None => format!("{}\n\n{section}", existing.trim_end()),
    };
    std::fs::write(&path, updated)?;
    eprintln!("wrote {heading} to {}", path.display());
    Ok(())
}
