//! Hostile clients against the webhook binary (`neo4j-webhook serve` as a child process on
//! loopback): bodies trickled over hundreds of connections, stalled HTTP/2 streams, thousands of
//! idle connections while the process has a 1,024 file-descriptor limit, reviews of the API
//! server's maximum size, a denial with tens of thousands of findings, and large reviews
//! competing with small ones. Each probe asserts that valid reviews keep being answered, that
//! resident memory peaks at most [`PEAK_LIMIT_KIB`], and that it falls back to at most
//! [`SETTLED_LIMIT_KIB`] within [`SETTLE_WITHIN`] once the hostile clients are gone. Every loop
//! is bounded in count and in time; no assertion is about how fast anything was.
//!
//! The memory bounds hold for the release build, which is what ships: `make probes` (part of
//! `make test`) builds it and runs these tests against it (`NEO4J_WEBHOOK_BIN`), appending the
//! figures to the file `PROBE_FIGURES` names (RELIABILITY.md quotes them). A debug build touches
//! far more code pages and is not held to them, so `cargo test` leaves this file out
//! (`test = false` in webhook/Cargo.toml).

#[allow(clippy::duplicate_mod)] // Both include `common/wire.rs`; this file uses neither copy.
mod common;
#[path = "../benches/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{allowed, object, post_head, review, valid_review};
use hyper::body::Bytes;
use neo4j_shared::types::Kind;
use serde_json::{Map, Value, json};
use support::{BoxError, Proto, Server};
use tokio::io::AsyncWriteExt;

/// Resident memory a probe may drive the webhook to (the shipped pod's memory limit).
const PEAK_LIMIT_KIB: u64 = 64 * 1024;
/// Resident memory the webhook must be back under once the clients are gone...
const SETTLED_LIMIT_KIB: u64 = 24 * 1024;
/// ...and how soon.
const SETTLE_WITHIN: Duration = Duration::from_secs(10);
/// What the file-descriptor probe limits the server process to.
const FD_LIMIT: u32 = 1024;

/// The probes share two cores; one at a time keeps each one's peak its own.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS:`, `VmHWM:`) of the running server.
fn status_kib(pid: u32, field: &str) -> u64 {
    support::status_kib(pid, field).unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// A fresh server with its own PKI; `wrapper` runs it (e.g. under `prlimit`).
struct Probe {
    name: &'static str,
    server: Server,
    ca: rustls::pki_types::CertificateDer<'static>,
    dir: PathBuf,
    idle_kib: u64,
}

impl Probe {
    async fn start(name: &'static str, wrapper: &[String]) -> Probe {
        let dir = common::temp_dir(&format!("probe-{name}"));
        let (ca, cert, key) = support::test_pki(&dir).expect("test PKI");
        let server =
            support::spawn_webhook(&support::webhook_bin(), wrapper, &cert, &key, &[], |_| {})
                .expect("the webhook starts");
        let mut probe = Probe {
            name,
            server,
            ca,
            dir,
            idle_kib: 0,
        };
        // One review first, so the idle figure includes what serving allocates once.
        let (status, allowed) = probe.post_valid(Proto::H1).await;
        assert_eq!(
            (status, allowed),
            (200, true),
            "{name}: a first valid review"
        );
        probe.idle_kib = probe.rss();
        probe
    }

    fn pid(&self) -> u32 {
        self.server.pid()
    }

    fn rss(&self) -> u64 {
        status_kib(self.pid(), "VmRSS:")
    }

    fn peak(&self) -> u64 {
        status_kib(self.pid(), "VmHWM:")
    }

    /// A gauge or counter from the metrics port (the sum over its label sets).
    async fn metric(&self, name: &str) -> f64 {
        let Some(addr) = self.server.metrics else {
            return f64::NAN;
        };
        let text = support::scrape_metrics(addr).await.unwrap_or_default();
        text.lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    fn config(&self, proto: Proto) -> Arc<rustls::ClientConfig> {
        support::client_config(&self.ca, proto).expect("client config")
    }

    /// A valid review on a new connection: (HTTP status, allowed).
    async fn post_valid(&self, proto: Proto) -> (u16, bool) {
        let body = Bytes::from(valid_review("uid-valid").to_string());
        let answer = tokio::time::timeout(Duration::from_secs(30), async {
            let mut conn = support::connect(self.server.tls, self.config(proto), proto).await?;
            conn.post("/validate", &body).await
        })
        .await;
        match answer {
            Ok(Ok((status, body))) => (status, allowed(&body)),
            Ok(Err(e)) => panic!("{}: a valid review failed: {e}", self.name),
            Err(_) => panic!("{}: a valid review got no answer in 30 s", self.name),
        }
    }

    /// `count` valid reviews on new connections, each must be answered and allowed.
    async fn valid_reviews_pass(&self, count: usize, proto: Proto) {
        for i in 0..count {
            let (status, allowed) = self.post_valid(proto).await;
            assert_eq!(
                (status, allowed),
                (200, true),
                "{}: valid review {i} while the hostile clients are connected",
                self.name
            );
        }
    }

    /// Asserts the peak, then waits (deadline [`SETTLE_WITHIN`]) for resident memory to fall
    /// back under [`SETTLED_LIMIT_KIB`]; returns the figure line.
    async fn settle(self, during: &str) -> String {
        let peak = self.peak();
        assert!(
            peak <= PEAK_LIMIT_KIB,
            "{}: resident memory peaked at {} (limit {})",
            self.name,
            mib(peak),
            mib(PEAK_LIMIT_KIB)
        );
        let since = Instant::now();
        let mut rss = self.rss();
        while rss > SETTLED_LIMIT_KIB && since.elapsed() < SETTLE_WITHIN {
            tokio::time::sleep(Duration::from_millis(100)).await;
            rss = self.rss();
        }
        let took = since.elapsed();
        let open = self.metric("neo4j_webhook_connections").await;
        let (anon, file) = (
            status_kib(self.pid(), "RssAnon:"),
            status_kib(self.pid(), "RssFile:"),
        );
        assert!(
            rss <= SETTLED_LIMIT_KIB,
            "{}: resident memory still {} ({} anonymous, {} file-backed) {:?} after the clients left (limit {}; {open} connections open)",
            self.name,
            mib(rss),
            mib(anon),
            mib(file),
            SETTLE_WITHIN,
            mib(SETTLED_LIMIT_KIB)
        );
        // Then what it holds 3 s after the clients left, for the figures.
        let settled_at = Duration::from_secs(3);
        if let Some(rest) = settled_at.checked_sub(since.elapsed()) {
            tokio::time::sleep(rest).await;
        }
        let (rss3, anon3) = (self.rss(), status_kib(self.pid(), "RssAnon:"));
        let line = format!(
            "| {} | {during} | {} | {} | {:.1} s | {} ({} anonymous) |",
            self.name,
            mib(self.idle_kib),
            mib(peak),
            took.as_secs_f64(),
            mib(rss3),
            mib(anon3),
        );
        record(&line);
        let _ = std::fs::remove_dir_all(&self.dir);
        line
    }
}

/// Prints a figure and appends it to `PROBE_FIGURES` when set.
fn record(line: &str) {
    eprintln!("figure: {line}");
    if let Some(path) = std::env::var_os("PROBE_FIGURES") {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("figures file");
        writeln!(file, "{line}").expect("write figures");
    }
}

/// Just under the default body limit (8 MiB), so a body is read, not refused by its length.
const LARGE_BODY: usize = 8_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_trickled_over_many_connections() {
    let _serial = SERIAL.lock().await;
    let probe = Probe::start("slow bodies (HTTP/1.1)", &[]).await;
    let connections = 200;
    let trickle_for = Duration::from_secs(5);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    // Connections that have sent their request head, or were refused.
    let opened = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (addr, config, stop, sent, opened) = (
            probe.server.tls,
            probe.config(Proto::H1),
            stop.clone(),
            sent.clone(),
            opened.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let stream = match support::tls_stream(addr, config).await {
                Ok(mut stream) => stream
                    .write_all(post_head(LARGE_BODY, "").as_bytes())
                    .await
                    .is_ok()
                    .then_some(stream),
                Err(_) => None,
            };
            opened.fetch_add(1, Ordering::Relaxed);
            let Some(mut stream) = stream else {
                return;
            };
            let chunk = vec![b' '; 64 * 1024];
            let mut written = 0;
            // Bounded: stops at the deadline or before the body would complete.
            while !stop.load(Ordering::Relaxed) && written + chunk.len() < LARGE_BODY {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
                written += chunk.len();
                sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            // Hold the connection until the probe ends.
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    // The valid reviews start once the flood of new connections is over: at the cap, a
    // connection that has not sent its request yet is evictable (the oldest first), and one
    // opened amid 200 others may be it. That flood is the idle-connection probes' subject; this
    // one's is the bodies trickling on the connections that stay.
    let deadline = Instant::now() + Duration::from_secs(30);
    while opened.load(Ordering::Relaxed) < connections {
        assert!(
            Instant::now() < deadline,
            "the trickling connections did not open in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let until = Instant::now() + trickle_for;
    while Instant::now() < until {
        probe.valid_reviews_pass(1, Proto::H1).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("client task");
    }
    let during = format!(
        "{connections} connections trickling {} MB bodies for {} s ({} MB sent)",
        LARGE_BODY / 1_000_000,
        trickle_for.as_secs(),
        sent.load(Ordering::Relaxed) / 1_000_000
    );
    probe.settle(&during).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_http2_streams() {
    let _serial = SERIAL.lock().await;
    let probe = Probe::start("stalled streams (HTTP/2)", &[]).await;
    let streams = 200;
    let stream = support::tls_stream(probe.server.tls, probe.config(Proto::H2))
        .await
        .expect("connect");
    let (mut sender, connection) = h2::client::handshake(stream).await.expect("h2 handshake");
    let driver = tokio::spawn(connection);
    let mut held = Vec::new();
    let mut refused = 0;
    for i in 0..streams {
        // The server admits at most its stream limit at once; the rest wait, bounded here.
        let Ok(Ok(ready)) =
            tokio::time::timeout(Duration::from_secs(2), sender.clone().ready()).await
        else {
            refused += streams - i;
            break;
        };
        sender = ready;
        let request = hyper::Request::builder()
            .method("POST")
            .uri("https://localhost/validate")
            .header("content-type", "application/json")
            .header("content-length", LARGE_BODY.to_string())
            .body(())
            .expect("request");
        let Ok((response, mut body)) = sender.send_request(request, false) else {
            refused += streams - i;
            break;
        };
        // 1 MiB each; what the server's windows do not take stays queued in this client.
        let _ = body.send_data(Bytes::from(vec![b' '; 1 << 20]), false);
        held.push((response, body));
    }
    let opened = held.len();
    probe.valid_reviews_pass(20, Proto::H2).await;
    probe.valid_reviews_pass(20, Proto::H1).await;
    drop(held);
    drop(sender);
    driver.abort();
    let during = format!(
        "1 connection, {opened} streams of announced {} MB bodies stalled after 1 MiB ({refused} not opened)",
        LARGE_BODY / 1_000_000
    );
    probe.settle(&during).await;
}

/// Opens `count` connections, `parallel` at a time; each sends one valid review and stays
/// open. Returns the connections the server kept answering and how many failed.
async fn open_idle(
    probe: &Probe,
    count: usize,
    parallel: usize,
    proto: Proto,
) -> (Vec<support::Conn>, usize) {
    let body = Bytes::from(valid_review("uid-idle").to_string());
    let mut kept = Vec::new();
    let mut failed = 0;
    let mut next = 0;
    while next < count {
        let batch = parallel.min(count - next);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch {
            let (addr, config, body) = (probe.server.tls, probe.config(proto), body.clone());
            set.spawn(async move {
                tokio::time::timeout(Duration::from_secs(20), async move {
                    let mut conn = support::connect(addr, config, proto).await?;
                    conn.post("/validate", &body).await?;
                    Ok::<_, BoxError>(conn)
                })
                .await
            });
        }
        while let Some(done) = set.join_next().await {
            match done {
                Ok(Ok(Ok(conn))) => kept.push(conn),
                _ => failed += 1,
            }
        }
        next += batch;
    }
    (kept, failed)
}

/// 10,000 connections that each sent one review in `proto` and stay open, against a server
/// limited to [`FD_LIMIT`] descriptors.
async fn idle_connections(name: &'static str, proto: Proto) {
    let _serial = SERIAL.lock().await;
    let wrapper: Vec<String> = vec![
        "prlimit".into(),
        format!("--nofile={FD_LIMIT}:{FD_LIMIT}"),
        "--".into(),
    ];
    let probe = Probe::start(name, &wrapper).await;
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", probe.pid())).expect("limits");
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max open files") && l.contains(&FD_LIMIT.to_string())),
        "the server runs with the fd limit: {limits}"
    );
    let count = 10_000;
    let (kept, failed) = open_idle(&probe, count, 64, proto).await;
    let fds = std::fs::read_dir(format!("/proc/{}/fd", probe.pid()))
        .expect("fd dir")
        .count();
    assert!(
        fds < FD_LIMIT as usize,
        "the server holds {fds} descriptors"
    );
    probe.valid_reviews_pass(30, Proto::H1).await;
    probe.valid_reviews_pass(30, Proto::H2).await;
    let during = format!(
        "{count} {} connections opened 64 at a time, each sent one review and stayed open ({} answered, {failed} refused or cut by the cap; {fds} descriptors in use on the server after)",
        proto.name(),
        kept.len()
    );
    drop(kept);
    probe.settle(&during).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http1_connections_under_a_file_descriptor_limit() {
    idle_connections("idle HTTP/1.1 connections, 1,024 fds", Proto::H1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http2_connections_under_a_file_descriptor_limit() {
    idle_connections("idle HTTP/2 connections, 1,024 fds", Proto::H2).await;
}

/// A cluster CREATE of about `bytes` whose `spec.env` has one entry per ~30 bytes.
fn env_heavy_review(bytes: usize) -> Bytes {
    let env: Vec<Value> = (0..bytes / 30)
        .map(|i| json!({"name": format!("VAR_{i}"), "value": "x"}))
        .collect();
    Bytes::from(
        review(
            "uid-env",
            "CREATE",
            &object(Kind::Cluster, "graph", json!({"env": env})),
            None,
        )
        .to_string(),
    )
}

/// A cluster CREATE with `count` settings Neo4j does not know: one finding each.
fn bad_config_review(count: usize) -> Bytes {
    let config: Map<String, Value> = (0..count)
        .map(|i| (format!("dbms.no_such_setting_{i}"), json!("x".repeat(20))))
        .collect();
    Bytes::from(
        review(
            "uid-config",
            "CREATE",
            &object(Kind::Cluster, "graph", json!({"config": config})),
            None,
        )
        .to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_of_the_api_servers_maximum_size() {
    let _serial = SERIAL.lock().await;
    let probe = Probe::start("maximum-size reviews", &[]).await;
    let huge = env_heavy_review(3_000_000);
    let mut answers = Vec::new();
    for path in ["/mutate", "/validate"] {
        let mut conn = support::connect(probe.server.tls, probe.config(Proto::H1), Proto::H1)
            .await
            .expect("connect");
        let (status, body) = conn.post(path, &huge).await.expect("answer");
        // Refused before a value tree is built: 413 with the reason.
        assert_eq!(status, 413, "{path}: {}", String::from_utf8_lossy(&body));
        assert!(
            String::from_utf8_lossy(&body).contains("more than 50000 JSON values"),
            "{path}: the refusal says why: {}",
            String::from_utf8_lossy(&body)
        );
        answers.push(format!("{path} {status}"));
    }
    let findings = 40_000;
    let denial = bad_config_review(findings);
    let mut conn = support::connect(probe.server.tls, probe.config(Proto::H1), Proto::H1)
        .await
        .expect("connect");
    let (status, body) = conn.post("/validate", &denial).await.expect("answer");
    assert_eq!(status, 200);
    assert!(!allowed(&body), "{findings} unknown settings are denied");
    assert!(
        body.len() <= 64 * 1024,
        "the denial is capped: {} bytes",
        body.len()
    );
    probe.valid_reviews_pass(5, Proto::H1).await;
    let during = format!(
        "a {} MB cluster CREATE with {} env entries ({}), a {} MB one with {findings} unknown settings (denial of {} bytes)",
        huge.len() / 1_000_000,
        3_000_000 / 30,
        answers.join(", "),
        denial.len() / 1_000_000,
        body.len()
    );
    probe.settle(&during).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_valid_review_of_the_maximum_size() {
    let _serial = SERIAL.lock().await;
    let probe = Probe::start("one large valid review", &[]).await;
    // The API server takes request bodies up to 3 MiB; its review of such an object is a
    // little larger.
    let large = large_valid_review(3 * 1024 * 1024);
    let before = probe.rss();
    let mut answers = Vec::new();
    for path in ["/mutate", "/validate"] {
        let mut conn = support::connect(probe.server.tls, probe.config(Proto::H1), Proto::H1)
            .await
            .expect("connect");
        let (status, body) = conn.post(path, &large).await.expect("answer");
        assert_eq!(
            (status, allowed(&body)),
            (200, true),
            "{path}: {}",
            String::from_utf8_lossy(&body[..body.len().min(500)])
        );
        answers.push(format!("{path} {status}, {} bytes", body.len()));
    }
    // What the review cost beyond the idle process: a small multiple of its body.
    let grew = probe.peak().saturating_sub(before) * 1024;
    let multiple = grew as f64 / large.len() as f64;
    assert!(
        multiple <= 8.0,
        "a {} byte review grew the process by {grew} bytes ({multiple:.1}x its body)",
        large.len()
    );
    let during = format!(
        "a {:.1} MB valid cluster review (1,024 settings) to /mutate then /validate ({}): peak {multiple:.1}x the body above idle",
        large.len() as f64 / 1e6,
        answers.join("; ")
    );
    probe.settle(&during).await;
}

/// A valid cluster review of about `bytes`: as many settings as the CRD allows (1,024, one
/// OIDC provider's display name each), each value as long as it takes.
fn large_valid_review(bytes: usize) -> Bytes {
    let entries = 1024;
    let value = "a".repeat(bytes / entries);
    let config: Map<String, Value> = (0..entries)
        .map(|i| {
            (
                format!("dbms.security.oidc.p{i}.display_name"),
                json!(value),
            )
        })
        .collect();
    let cluster = object(Kind::Cluster, "graph", json!({"config": config}));
    Bytes::from(review("uid-large", "CREATE", &cluster, None).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_reviews_beside_small_ones() {
    let _serial = SERIAL.lock().await;
    let probe = Probe::start("large beside small", &[]).await;
    let senders = 64;
    let large = large_valid_review(1_400_000);
    let run_for = Duration::from_secs(6);
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, other) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (addr, config, large, stop) = (
            probe.server.tls,
            probe.config(Proto::H1),
            large.clone(),
            stop.clone(),
        );
        let (answered, other) = (answered.clone(), other.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(mut conn) = support::connect(addr, config, Proto::H1).await else {
                other.fetch_add(1, Ordering::Relaxed);
                return;
            };
            while !stop.load(Ordering::Relaxed) {
                match conn.post("/validate", &large).await {
                    Ok((200, body)) if allowed(&body) => {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    // 503 when the body budget is full: refused quickly, by design; a
                    // client waits a little before it tries again.
                    _ => {
                        other.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }));
    }
    let mut small = support::connect(probe.server.tls, probe.config(Proto::H1), Proto::H1)
        .await
        .expect("connect");
    let body = Bytes::from(valid_review("uid-small").to_string());
    let mut latencies = Vec::new();
    let until = Instant::now() + run_for;
    while Instant::now() < until {
        let started = Instant::now();
        let (status, answer) = small.post("/validate", &body).await.expect("small review");
        latencies.push(started.elapsed());
        assert_eq!(
            (status, allowed(&answer)),
            (200, true),
            "a small review beside large ones"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("sender task");
    }
    assert!(
        answered.load(Ordering::Relaxed) > 0,
        "large reviews were answered too"
    );
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    let during = format!(
        "{senders} connections sending {:.1} MB valid reviews for {} s: {} answered, {} refused (503); small reviews: {} answered, p50 {:.1} ms, p99 {:.1} ms",
        large.len() as f64 / 1e6,
        run_for.as_secs(),
        answered.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
        latencies.len(),
        at(0.5),
        at(0.99)
    );
    drop(small);
    probe.settle(&during).await;
}
