//! Load benchmark of the admission webhook (`cargo bench -p neo4j-webhook --bench admission`).
//!
//! Sends a recorded AdmissionReview (an UPDATE of a typical cluster with managedFields, ~24 KB,
//! `fixtures/cluster-update-review.json`) over N keep-alive TLS connections (N = 1, 8, 64) for a
//! fixed time each, to three servers, each a child process so that none shares the load
//! generator's threads:
//! - `neo4j-webhook serve --no-cluster` (the real binary);
//! - a floor: bare axum + rustls with the same TLS settings, answering every POST with a fixed
//!   body of the size of the webhook's answer (our throughput is reported against it);
//! - the webhook code with a watch cache holding 1,000 clusters (this bench binary, re-executed).
//!
//! Reports throughput, client-side p50/p99/p99.9, the server-side p99 from the webhook's own
//! histogram, resident memory (VmRSS) idle and under load, as a markdown table on stdout and in
//! the "Admission webhook" section of BENCHMARKS.md. Traffic goes to 127.0.0.1 only, and the
//! whole run is bounded (about a minute).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use neo4j_webhook::serve::tls;
use serde_json::{Value, json};

const ROLE_ENV: &str = "NEO4J_WEBHOOK_BENCH_ROLE";
const RUN: Duration = Duration::from_secs(4);
const WARMUP: Duration = Duration::from_millis(500);
const CLUSTERS_IN_INVENTORY: usize = 1_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    if let Err(e) = match std::env::var(ROLE_ENV).as_deref() {
        Ok("floor") => floor_server(),
        Ok("inventory") => inventory_server(),
        _ => bench(),
    } {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fixtures")
}

// ---------------------------------------------------------------- child roles

/// Bare axum + rustls: reads the body, answers a fixed body of the webhook's answer size.
fn floor_server() -> Result<(), BoxError> {
    let size: usize = std::env::var("FLOOR_BODY_BYTES")?.parse()?;
    let cert = std::env::var("FLOOR_CERT")?;
    let key = std::env::var("FLOOR_KEY")?;
    runtime()?.block_on(async move {
        tls::install_default_provider();
        let metrics = Arc::new(neo4j_webhook::serve::metrics::Metrics::new());
        let files = tls::CertFiles {
            cert: cert.into(),
            key: key.into(),
        };
        let (_reloader, resolver) = tls::CertReloader::load(files, metrics).await?;
        let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(
            tls::server_config(resolver)?,
        ));
        let answer = Bytes::from(format!(
            "{{\"pad\":\"{}\"}}",
            "x".repeat(size.saturating_sub(10))
        ));
        let app = axum::Router::new().route(
            "/{*path}",
            axum::routing::post(move |body: Bytes| {
                let answer = answer.clone();
                async move {
                    std::hint::black_box(body.len());
                    ([("content-type", "application/json")], answer)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("LISTENING tls={} metrics=-", listener.local_addr()?);
        axum_server::Server::<SocketAddr>::from_listener(listener)
            .acceptor(axum_server::tls_rustls::RustlsAcceptor::new(config))
            .serve(app.into_make_service())
            .await?;
        Ok(())
    })
}

/// The webhook with a watch cache of 1,000 clusters, filled in-process through the reflector
/// store's writer (what the watcher would do).
fn inventory_server() -> Result<(), BoxError> {
    use kube::runtime::reflector;
    use kube::runtime::watcher::Event;
    use neo4j_shared::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone};
    use neo4j_webhook::serve::cache::WatchCache;
    use neo4j_webhook::serve::config::{ClusterSource, Settings};

    let cert = std::env::var("FLOOR_CERT")?;
    let key = std::env::var("FLOOR_KEY")?;
    let review: Value = serde_json::from_slice(&std::fs::read(
        fixture_dir().join("cluster-update-review.json"),
    )?)?;
    runtime()?.block_on(async move {
        let (clusters, mut writer) = reflector::store::<Neo4jEnterpriseCluster>();
        let (standalones, _standalone_writer) = reflector::store::<Neo4jEnterpriseStandalone>();
        for i in 0..CLUSTERS_IN_INVENTORY {
            let mut object = review["request"]["object"].clone();
            object["metadata"]["name"] = json!(format!("graph-{i:04}"));
            object["metadata"]["uid"] = json!(format!("00000000-0000-0000-0000-{i:012}"));
            let mut cluster: Neo4jEnterpriseCluster = serde_json::from_value(object)?;
            // What the watch cache keeps of each object.
            cluster.metadata.managed_fields = None;
            cluster.metadata.annotations = None;
            writer.apply_watcher_event(&Event::Apply(cluster));
        }
        let cache = WatchCache::from_stores(clusters, standalones);
        let mut settings = Settings::new(
            "127.0.0.1:0".parse()?,
            "127.0.0.1:0".parse()?,
            cert.into(),
            key.into(),
        );
        settings.cluster = ClusterSource::Given(Arc::new(cache));
        let running = neo4j_webhook::serve::server::start(settings).await?;
        println!(
            "LISTENING tls={} metrics={}",
            running.tls_addr, running.metrics_addr
        );
        running.wait().await?;
        Ok(())
    })
}

// ---------------------------------------------------------------- the load generator

struct Server {
    child: Child,
    tls: SocketAddr,
    metrics: Option<SocketAddr>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }
}

/// Spawns a bench child role, reading `LISTENING tls=.. metrics=..` from its stdout.
fn spawn_role(role: &str, env: &[(&str, String)]) -> Result<Server, BoxError> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.env(ROLE_ENV, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let mut tls = None;
    let mut metrics = None;
    for part in line.split_whitespace() {
        if let Some(a) = part.strip_prefix("tls=") {
            tls = Some(a.parse()?);
        }
        if let Some(a) = part.strip_prefix("metrics=") {
            metrics = a.parse().ok();
        }
    }
    Ok(Server {
        child,
        tls: tls.ok_or_else(|| format!("{role}: no address in {line:?}"))?,
        metrics,
    })
}

/// Spawns `neo4j-webhook serve`, reading its addresses from the JSON start-up log line.
fn spawn_webhook(cert: &Path, key: &Path) -> Result<Server, BoxError> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_neo4j-webhook"))
        .args([
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
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
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
    Err("neo4j-webhook serve did not report its addresses".into())
}

fn client_config(
    ca: &rustls::pki_types::CertificateDer<'static>,
) -> Result<Arc<rustls::ClientConfig>, BoxError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone())?;
    let mut config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Result<Sender, BoxError> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(rustls::pki_types::ServerName::try_from("localhost")?, tcp)
        .await?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn post(sender: &mut Sender, path: &str, body: &Bytes) -> Result<(u16, Bytes), BoxError> {
    let request = hyper::Request::builder()
        .method("POST")
        .uri(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Full::new(body.clone()))?;
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

struct Load {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    /// Client-side latencies, microseconds, sorted.
    latencies: Vec<u32>,
}

impl Load {
    fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i =
            ((self.latencies.len() as f64 * q).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        f64::from(self.latencies[i]) / 1000.0
    }
}

/// `connections` closed loops, each sending the next request when the previous answer is in.
async fn load(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    path: &'static str,
    body: Bytes,
    connections: usize,
    run: Duration,
) -> Result<Load, BoxError> {
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut s = connect(addr, config.clone()).await?;
        post(&mut s, path, &body).await?; // warm the connection
        senders.push(s);
    }
    let warm_until = Instant::now() + WARMUP;
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for mut sender in senders {
        let (stop, body) = (stop.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::with_capacity(100_000), 0usize);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = matches!(post(&mut sender, path, &body).await, Ok((200, _)));
                if t < warm_until {
                    continue;
                }
                if ok {
                    lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    tokio::time::sleep(WARMUP).await;
    let started = Instant::now();
    tokio::time::sleep(run).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    Ok(Load {
        requests: latencies.len(),
        errors,
        elapsed,
        latencies,
    })
}

/// `neo4j_admission_request_duration_seconds` buckets of one webhook: (upper bound, count).
async fn histogram(metrics: SocketAddr, webhook: &str) -> Result<Vec<(f64, f64)>, BoxError> {
    let mut tcp = tokio::net::TcpStream::connect(metrics).await?;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut text = String::new();
    tcp.read_to_string(&mut text).await?;
    let prefix = "neo4j_admission_request_duration_seconds_bucket{";
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with(prefix) && l.contains(&format!("webhook=\"{webhook}\"")))
    {
        let le = line
            .split("le=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .ok_or("le")?;
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse()?
        };
        let count: f64 = line.rsplit(' ').next().ok_or("count")?.parse()?;
        out.push((le, count));
    }
    Ok(out)
}

/// p99 from the difference of two histogram scrapes, interpolated inside its bucket.
fn server_p99_ms(before: &[(f64, f64)], after: &[(f64, f64)]) -> Option<(f64, f64)> {
    let delta: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, c)| {
            (
                *le,
                c - before
                    .iter()
                    .find(|(l, _)| l == le)
                    .map_or(0.0, |(_, b)| *b),
            )
        })
        .collect();
    let total = delta.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let target = total * 0.99;
    let mut lower = (0.0, 0.0);
    for (le, count) in &delta {
        if *count >= target {
            let within = if le.is_finite() {
                lower.0 + (le - lower.0) * (target - lower.1) / (count - lower.1).max(1.0)
            } else {
                lower.0
            };
            let under_1ms = delta
                .iter()
                .find(|(l, _)| (*l - 0.001).abs() < 1e-12)
                .map_or(f64::NAN, |(_, c)| c / total * 100.0);
            return Some((within * 1000.0, under_1ms));
        }
        lower = (*le, *count);
    }
    None
}

struct Row {
    server: String,
    connections: usize,
    load: Load,
    server_p99: Option<(f64, f64)>,
    /// Peak VmRSS of the server during the row, KiB.
    rss: Option<u64>,
    floor: Option<f64>,
}

fn machine() -> String {
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

fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown date".into(), |s| s.trim().to_string())
}

fn bench() -> Result<(), BoxError> {
    let rt = runtime()?;
    rt.block_on(async {
        tls::install_default_provider();
        let dir = std::env::temp_dir().join(format!("neo4j-webhook-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let (ca_der, cert, key) = test_pki(&dir)?;
        let config = client_config(&ca_der)?;
        // The file is indented to be readable; the API server sends compact JSON.
        let recorded: Value = serde_json::from_slice(&std::fs::read(fixture_dir().join("cluster-update-review.json"))?)?;
        let review = Bytes::from(serde_json::to_vec(&recorded)?);
        let database_review = database_review(&review)?;

        let webhook = spawn_webhook(&cert, &key)?;
        // One request of each kind first: what the answers are, and how big.
        let mut probe = connect(webhook.tls, config.clone()).await?;
        let (status, validate_answer) = post(&mut probe, "/validate", &review).await?;
        let (_, mutate_answer) = post(&mut probe, "/mutate", &review).await?;
        eprintln!("validate answer ({status}, {} bytes): {}", validate_answer.len(), String::from_utf8_lossy(&validate_answer));
        eprintln!("mutate answer ({} bytes): {}", mutate_answer.len(), String::from_utf8_lossy(&mutate_answer));
        drop(probe);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let idle_rss = webhook.rss_kib();

        let floor = spawn_role(
            "floor",
            &[
                ("FLOOR_BODY_BYTES", validate_answer.len().to_string()),
                ("FLOOR_CERT", cert.display().to_string()),
                ("FLOOR_KEY", key.display().to_string()),
            ],
        )?;

        let mut rows = Vec::new();
        let mut peak_rss = idle_rss.unwrap_or(0);
        for connections in [1usize, 8, 64] {
            let floor_load = load(floor.tls, config.clone(), "/validate", review.clone(), connections, RUN).await?;
            let floor_rps = floor_load.throughput();
            rows.push(Row { server: "floor: bare axum + rustls, fixed answer".into(), connections, load: floor_load, server_p99: None, rss: None, floor: None });
            for path in ["/validate", "/mutate"] {
                let metrics = webhook.metrics.ok_or("metrics address")?;
                let name = path.trim_start_matches('/');
                let before = histogram(metrics, name).await?;
                let sampler = rss_sampler(webhook.child.id());
                let l = load(webhook.tls, config.clone(), path, review.clone(), connections, RUN).await?;
                let row_rss = sampler.await?;
                peak_rss = peak_rss.max(row_rss);
                let after = histogram(metrics, name).await?;
                rows.push(Row { server: format!("neo4j-webhook {path}"), connections, load: l, server_p99: server_p99_ms(&before, &after), rss: Some(row_rss), floor: Some(floor_rps) });
            }
        }
        drop(floor);

        let inventory = spawn_role("inventory", &[("FLOOR_CERT", cert.display().to_string()), ("FLOOR_KEY", key.display().to_string())])?;
        let inventory_metrics = inventory.metrics.ok_or("metrics address")?;
        let mut probe = connect(inventory.tls, config.clone()).await?;
        let (_, db_answer) = post(&mut probe, "/validate", &database_review).await?;
        eprintln!("database review against 1,000 clusters: {}", String::from_utf8_lossy(&db_answer));
        drop(probe);
        let inventory_idle_rss = inventory.rss_kib();
        for (what, body) in [("cluster review", review.clone()), ("database review (cross-object lookup)", database_review.clone())] {
            let before = histogram(inventory_metrics, "validate").await?;
            let sampler = rss_sampler(inventory.child.id());
            let l = load(inventory.tls, config.clone(), "/validate", body, 8, RUN).await?;
            let row_rss = sampler.await?;
            let after = histogram(inventory_metrics, "validate").await?;
            rows.push(Row {
                server: format!("neo4j-webhook /validate, {CLUSTERS_IN_INVENTORY} clusters in the watch cache, {what}"),
                connections: 8,
                load: l,
                server_p99: server_p99_ms(&before, &after),
                rss: Some(row_rss),
                floor: None,
            });
        }
        let inventory_rss = inventory.rss_kib();
        drop(inventory);
        drop(webhook);
        let _ = std::fs::remove_dir_all(&dir);

        let report = report(&rows, idle_rss, peak_rss, inventory_idle_rss, inventory_rss, review.len());
        println!("{report}");
        write_benchmarks_md(&report)?;
        Ok(())
    })
}

/// A Neo4jDatabase CREATE naming one of the 1,000 clusters, so validation reads the cache.
fn database_review(cluster_review: &Bytes) -> Result<Bytes, BoxError> {
    let mut r: Value = serde_json::from_slice(cluster_review)?;
    let request = &mut r["request"];
    request["kind"] =
        json!({"group": "neo4j.neo4j.com", "version": "v1beta1", "kind": "Neo4jDatabase"});
    request["resource"] =
        json!({"group": "neo4j.neo4j.com", "version": "v1beta1", "resource": "neo4jdatabases"});
    request["operation"] = json!("CREATE");
    request["oldObject"] = Value::Null;
    request["object"] = json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jDatabase",
        "metadata": {"name": "orders", "namespace": "payments"},
        "spec": {"clusterRef": "graph-0500", "name": "orders", "topology": {"primaries": 3, "secondaries": 0}},
    });
    Ok(Bytes::from(serde_json::to_vec(&r)?))
}

/// Samples VmRSS of `pid` every 100 ms for the length of one run; resolves to the maximum.
fn rss_sampler(pid: u32) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let until = Instant::now() + WARMUP + RUN;
        let mut peak = 0;
        while Instant::now() < until {
            if let Some(kib) = std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmRSS:"))
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|v| v.parse().ok())
                })
            {
                peak = peak.max(kib);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    })
}

fn test_pki(
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

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn report(
    rows: &[Row],
    idle: Option<u64>,
    peak: u64,
    inventory_idle: Option<u64>,
    inventory_loaded: Option<u64>,
    body_bytes: usize,
) -> String {
    let mut out = String::new();
    out.push_str("## Admission webhook\n\n");
    out.push_str(&format!("- machine: {}; date: {}\n", machine(), now_utc()));
    out.push_str("- command: `cargo bench -p neo4j-webhook --bench admission` (`webhook/benches/admission.rs`)\n");
    out.push_str(&format!(
        "- request: `webhook/benches/fixtures/cluster-update-review.json`, an UPDATE AdmissionReview of a typical Neo4jEnterpriseCluster with managedFields and last-applied-configuration, sent as compact JSON like the API server does ({body_bytes} bytes); HTTP/1.1 keep-alive over TLS 1.3 (ring), closed loop per connection, {} s per row after {} ms warm-up; load generator, webhook and floor on the same machine, each a separate process\n",
        RUN.as_secs(),
        WARMUP.as_millis()
    ));
    out.push_str("- client latency: send to last byte of the answer, measured by the load generator; server p99: from the webhook's `neo4j_admission_request_duration_seconds` histogram (handler start to encoded answer, interpolated in its bucket), with the share of requests ≤ 1 ms\n\n");
    out.push_str("| server | conns | req/s | vs floor | client p50 | client p99 | client p99.9 | server p99 (≤1 ms) | RSS peak | errors |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let ratio = r.floor.map_or_else(
            || "—".into(),
            |f| format!("{:.2}×", r.load.throughput() / f),
        );
        let server = r.server_p99.map_or_else(
            || "—".into(),
            |(p, share)| format!("{p:.3} ms ({share:.2}%)"),
        );
        out.push_str(&format!(
            "| {} | {} | {:.0} | {} | {:.3} ms | {:.3} ms | {:.3} ms | {} | {} | {} |\n",
            r.server,
            r.connections,
            r.load.throughput(),
            ratio,
            r.load.quantile_ms(0.50),
            r.load.quantile_ms(0.99),
            r.load.quantile_ms(0.999),
            server,
            r.rss.map_or_else(|| "—".into(), |k| mib(Some(k))),
            r.load.errors
        ));
    }
    out.push_str(&format!(
        "\nResident memory (VmRSS) of `neo4j-webhook serve --no-cluster`: {} idle after start-up and one request, {} peak under load (sampled every 100 ms). With {CLUSTERS_IN_INVENTORY} clusters in the watch cache: {} idle, {} after its runs.\n",
        mib(idle),
        mib(Some(peak)),
        mib(inventory_idle),
        mib(inventory_loaded)
    ));
    out.push_str("\nTargets (DESIGN.md): server-side p99 ≤ 1 ms, throughput ≥ 0.5× the floor, resident memory ≤ 20 MiB.\n");
    out
}

/// Replaces (or appends) the "## Admission webhook" section of BENCHMARKS.md.
fn write_benchmarks_md(section: &str) -> Result<(), BoxError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n\n".into());
    let updated = match existing.find("## Admission webhook") {
        Some(start) => {
            let rest = &existing[start + 3..];
            let end = rest
                .find("\n## ")
                .map_or(existing.len(), |i| start + 3 + i + 1);
            format!("{}{}{}", &existing[..start], section, &existing[end..])
        }
        None => format!("{}\n\n{section}", existing.trim_end()),
    };
    std::fs::write(&path, updated)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
