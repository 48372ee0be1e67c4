//! What a user feels of admission: server-side dry-run creates of clusters sent to the local
//! control plane at a fixed rate, first with no webhook registered, then with both of ours
//! (`cargo bench -p neo4j-e2e --bench apiserver`, control plane from `$E2E_STATE_DIR`; the
//! webhook binary from `$NEO4J_WEBHOOK_BIN`, `tests/scripts/bench.sh` passes the release build),
//! then with the same two registrations answered by a minimal webhook (this binary re-executed:
//! TLS, HTTP/2, each review read as JSON for its uid and allowed), the least any webhook adds.
//!
//! Reports client latency p50/p99 of each phase and their difference, and the API server's own
//! `apiserver_admission_webhook_admission_duration_seconds` for our two webhooks, in the "Admission
//! through the API server" section of BENCHMARKS.md. Every phase is bounded in count and time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use neo4j_e2e::{ControlPlane, Webhook, root, unregister};
use serde_json::json;

/// Requests per second sent in each phase.
const RATE: u32 = 200;
/// Length of each phase (after a warm-up of a second at the same rate, not counted).
const PHASE: Duration = Duration::from_secs(10);
/// Requests in flight at most; beyond, the sender waits (and the row says how often).
const MAX_IN_FLIGHT: usize = 256;
const HEADING: &str = "## Admission through the API server";

/// Set (to the address to listen on) when this binary runs as the minimal webhook.
const MINIMAL_LISTEN_ENV: &str = "NEO4J_BENCH_MINIMAL_LISTEN";
/// The minimal webhook's serving certificate and key (PEM files).
const MINIMAL_CERT_ENV: &str = "NEO4J_BENCH_MINIMAL_CERT";
const MINIMAL_KEY_ENV: &str = "NEO4J_BENCH_MINIMAL_KEY";
/// When set, the JSON Patch the minimal webhook answers `/mutate` with.
const MINIMAL_PATCH_ENV: &str = "NEO4J_BENCH_MINIMAL_PATCH";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[path = "../../webhook/benches/support/minimal.rs"]
mod minimal;

fn main() {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench failed: {e}");
            std::process::exit(1);
        }
    };
    let done = match std::env::var(MINIMAL_LISTEN_ENV) {
        Ok(listen) => rt.block_on(minimal_webhook(&listen)),
        Err(_) => rt.block_on(run()),
    };
    if let Err(e) = done {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

/// The minimal webhook: TLS with the certificate and key the environment names, HTTP/2 or
/// HTTP/1.1 by ALPN (hyper's defaults), every review read whole as JSON and allowed. Prints
/// `LISTENING` once bound, then serves until killed.
async fn minimal_webhook(listen: &str) -> Result<(), BoxError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let cert = std::env::var(MINIMAL_CERT_ENV)?;
    let key = std::env::var(MINIMAL_KEY_ENV)?;
    let patch: Option<Arc<str>> = std::env::var(MINIMAL_PATCH_ENV)
        .ok()
        .map(|p| neo4j_e2e::base64(p.as_bytes()).into());
    let chain = CertificateDer::pem_file_iter(&cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("LISTENING");
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let (acceptor, patch) = (acceptor.clone(), patch.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service =
                hyper::service::service_fn(move |request| minimal_review(request, patch.clone()));
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
        });
    }
}

/// The minimal webhook's answer to one request: allowed (on `/mutate` with `patch`, base64,
/// when given), or 400 when the body is not a review.
async fn minimal_review(
    request: hyper::Request<hyper::body::Incoming>,
    patch: Option<Arc<str>>,
) -> Result<hyper::Response<http_body_util::Full<hyper::body::Bytes>>, hyper::Error> {
    use http_body_util::BodyExt as _;
    let patch = patch.filter(|_| request.uri().path() == "/mutate");
    let body = request.into_body().collect().await?.to_bytes();
    let (status, answer) = match minimal::answer(&body, patch.as_deref()) {
        Ok(answer) => (hyper::StatusCode::OK, answer),
        Err(e) => (hyper::StatusCode::BAD_REQUEST, e.to_string()),
    };
    let mut response = hyper::Response::new(http_body_util::Full::new(answer.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// The minimal webhook as a child process (this binary again), killed when dropped.
struct MinimalWebhook(std::process::Child);

impl MinimalWebhook {
    /// Starts it on `port` of loopback with the serving certificate in `dir` (`tls.crt`,
    /// `tls.key`), answering `/mutate` with `patch` when given, and waits until it has bound
    /// the port.
    fn start(port: u16, dir: &std::path::Path, patch: Option<&str>) -> Result<Self, BoxError> {
        use std::io::BufRead as _;
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command
            .env(MINIMAL_LISTEN_ENV, format!("127.0.0.1:{port}"))
            .env(MINIMAL_CERT_ENV, dir.join("tls.crt"))
            .env(MINIMAL_KEY_ENV, dir.join("tls.key"))
            .stdout(std::process::Stdio::piped());
        if let Some(patch) = patch {
            command.env(MINIMAL_PATCH_ENV, patch);
        }
        let mut child = command.spawn()?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            std::io::BufReader::new(out).read_line(&mut line)?;
        }
        let started = MinimalWebhook(child);
        if line.trim() != "LISTENING" {
            return Err(format!("the minimal webhook did not start (said {line:?})").into());
        }
        Ok(started)
    }
}

impl Drop for MinimalWebhook {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (60 s at most) until a dry-run create goes through the webhooks now registered.
async fn wait_until_admitted(api: &Api<DynamicObject>) -> Result<(), BoxError> {
    let params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let object = cluster("admitted")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match api.create(&params, &object).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => {
                return Err(format!("dry-run creates still fail after 60 s: {e}").into());
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

struct Phase {
    /// Client latencies of the counted requests, microseconds, sorted.
    latencies: Vec<u64>,
    errors: usize,
    /// Sends that had to wait for a free slot (the API server fell behind the rate).
    late: usize,
}

impl Phase {
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i =
            ((self.latencies.len() as f64 * q).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[i] as f64 / 1000.0
    }
}

fn clusters(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("neo4j.neo4j.com", "v1beta1", "Neo4jEnterpriseCluster");
    Api::namespaced_with(client.clone(), namespace, &ApiResource::from_gvk(&gvk))
}

/// A valid cluster: the webhooks default it and allow it.
fn cluster(name: &str) -> Result<DynamicObject, BoxError> {
    Ok(serde_json::from_value(cluster_json(name))?)
}

fn cluster_json(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": name},
        "spec": {
            "acceptLicenseAgreement": "yes",
            "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": 3},
            "storage": {"size": "10Gi"},
        },
    })
}

/// The JSON Patch our mutating webhook answers for [`cluster`] (its `check` command, which
/// runs the same defaults), for the minimal webhook to answer with.
fn our_patch(dir: &std::path::Path) -> Result<String, BoxError> {
    let file = dir.join("bench-cluster.json");
    let mut object = cluster_json("patched");
    object["metadata"]["namespace"] = json!("default");
    std::fs::write(&file, object.to_string())?;
    let out = std::process::Command::new(neo4j_e2e::webhook_bin())
        .args(["check", "--output", "json"])
        .arg(&file)
        .output()?;
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    match verdict.get("patch") {
        Some(patch) if verdict["allowed"] == true && patch.is_array() => Ok(patch.to_string()),
        _ => Err(format!("`neo4j-webhook check` of the bench cluster: {verdict}").into()),
    }
}

/// `RATE` dry-run creates a second for `warm-up + PHASE`; the warm-up is not counted.
async fn drive(api: &Api<DynamicObject>, label: &str) -> Result<Phase, BoxError> {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let warm = RATE as usize;
    let total = warm + (RATE as usize) * PHASE.as_secs() as usize;
    let interval = Duration::from_secs(1) / RATE;
    let start = tokio::time::Instant::now();
    let mut late = 0;
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        tokio::time::sleep_until(start + interval * i as u32).await;
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                late += 1;
                slots.clone().acquire_owned().await?
            }
        };
        let (api, params) = (api.clone(), params.clone());
        let object = cluster(&format!("{label}-{i}"))?;
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ok = api.create(&params, &object).await.is_ok();
            drop(permit);
            (i >= warm, ok, sent.elapsed())
        }));
    }
    let mut phase = Phase {
        latencies: Vec::with_capacity(total),
        errors: 0,
        late,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    for task in tasks {
        let left = deadline.saturating_duration_since(Instant::now());
        let (counted, ok, took) = tokio::time::timeout(left, task).await??;
        if !counted {
            continue;
        }
        if ok {
            phase
                .latencies
                .push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
        } else {
            phase.errors += 1;
        }
    }
    phase.latencies.sort_unstable();
    Ok(phase)
}

/// The names our two webhook configurations register.
const WEBHOOK_NAMES: [&str; 2] = ["mutate.neo4j.neo4j.com", "validate.neo4j.neo4j.com"];

/// [`admission_histogram`] of each of [`WEBHOOK_NAMES`].
fn admission_histograms(cp: &ControlPlane) -> Result<Vec<Vec<(f64, f64)>>, BoxError> {
    WEBHOOK_NAMES
        .iter()
        .map(|name| admission_histogram(cp, name))
        .collect()
}

/// `apiserver_admission_webhook_admission_duration_seconds` buckets of one of our webhooks,
/// summed over operations and types: (upper bound, cumulative count).
fn admission_histogram(cp: &ControlPlane, name: &str) -> Result<Vec<(f64, f64)>, BoxError> {
    let text = cp.kubectl_ok(&["get", "--raw", "/metrics"]);
    buckets(
        &text,
        "apiserver_admission_webhook_admission_duration_seconds",
        &[&format!("name=\"{name}\""), "operation=\"CREATE\""],
    )
}

/// The buckets (upper bound, cumulative count) of histogram `family` in a Prometheus text
/// scrape, summed over the series whose labels contain every one of `labels`.
fn buckets(text: &str, family: &str, labels: &[&str]) -> Result<Vec<(f64, f64)>, BoxError> {
    let prefix = format!("{family}_bucket{{");
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with(&prefix) && labels.iter().all(|label| l.contains(label)))
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
        match buckets.iter_mut().find(|(l, _)| *l == le) {
            Some(b) => b.1 += count,
            None => buckets.push((le, count)),
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(buckets)
}

/// The webhook's own timing histograms: (webhook, what, family).
const WEBHOOK_HISTOGRAMS: [(&str, &str, &str); 4] = [
    (
        "mutate",
        "request",
        "neo4j_admission_request_duration_seconds",
    ),
    (
        "mutate",
        "decision",
        "neo4j_admission_decision_duration_seconds",
    ),
    (
        "validate",
        "request",
        "neo4j_admission_request_duration_seconds",
    ),
    (
        "validate",
        "decision",
        "neo4j_admission_decision_duration_seconds",
    ),
];

/// One scrape of the webhook's `/metrics`: the buckets of each of [`WEBHOOK_HISTOGRAMS`].
fn webhook_histograms(metrics_port: u16) -> Result<Vec<Vec<(f64, f64)>>, BoxError> {
    let text = neo4j_e2e::http_ok(metrics_port, "/metrics").ok_or("the webhook's /metrics")?;
    WEBHOOK_HISTOGRAMS
        .iter()
        .map(|(webhook, _, family)| buckets(&text, family, &[&format!("webhook=\"{webhook}\"")]))
        .collect()
}

/// A quantile of a histogram's counts over some span (cumulative buckets, as [`add_delta`]
/// sums them), interpolated in its bucket (ms), and the count.
fn quantile_ms(delta: &[(f64, f64)], q: f64) -> Option<(f64, f64)> {
    let total = delta.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let target = total * q;
    let mut lower = (0.0, 0.0);
    for (le, count) in delta {
        if *count >= target {
            let within = if le.is_finite() {
                lower.0 + (le - lower.0) * (target - lower.1) / (count - lower.1).max(1.0)
            } else {
                lower.0
            };
            return Some((within * 1000.0, total));
        }
        lower = (*le, *count);
    }
    None
}

/// Who answers the two registrations during a phase.
#[derive(Clone, Copy, PartialEq)]
enum Answering {
    /// Not registered.
    Nobody,
    /// `neo4j-webhook serve`.
    Ours,
    /// [`minimal_webhook`], on the same port with the same certificate.
    Minimal,
    /// The same, answering `/mutate` with the patch ours answers ([`our_patch`]).
    MinimalWithOurPatch,
}

impl Answering {
    fn label(self) -> &'static str {
        match self {
            Answering::Nobody => "no webhook",
            Answering::Ours => "our two webhooks",
            Answering::Minimal => "two minimal webhooks (read the review's JSON, allow)",
            Answering::MinimalWithOurPatch => {
                "two minimal webhooks, the mutating one answering our patch"
            }
        }
    }
}

/// The phases in order: each kind twice, in the same rotation, so that a drift of the machine
/// over the run weighs on all three alike.
const PHASES: [Answering; 8] = [
    Answering::Nobody,
    Answering::Ours,
    Answering::Minimal,
    Answering::MinimalWithOurPatch,
    Answering::Nobody,
    Answering::Ours,
    Answering::Minimal,
    Answering::MinimalWithOurPatch,
];

/// Adds the counts of `after` minus `before` (cumulative buckets of one histogram) to `sum`.
fn add_delta(sum: &mut Vec<(f64, f64)>, before: &[(f64, f64)], after: &[(f64, f64)]) {
    for (le, count) in after {
        let was = before
            .iter()
            .find(|(l, _)| l == le)
            .map_or(0.0, |(_, c)| *c);
        match sum.iter_mut().find(|(l, _)| l == le) {
            Some(b) => b.1 += count - was,
            None => sum.push((*le, count - was)),
        }
    }
    sum.sort_by(|a, b| a.0.total_cmp(&b.0));
}

/// Latencies of every phase of one kind, together.
fn pooled(phases: &[(Answering, Phase)], kind: Answering) -> Phase {
    let mut all = Phase {
        latencies: Vec::new(),
        errors: 0,
        late: 0,
    };
    for (_, p) in phases.iter().filter(|(k, _)| *k == kind) {
        all.latencies.extend(&p.latencies);
        all.errors += p.errors;
        all.late += p.late;
    }
    all.latencies.sort_unstable();
    all
}

async fn run() -> Result<(), BoxError> {
    let cp = ControlPlane::from_env();
    cp.install_crds();
    let client = cp.client().await;
    let namespace = neo4j_e2e::unique_namespace(&client, "bench-admission").await;
    let api = clusters(&client, &namespace);

    unregister(&cp);
    let mut webhook = Webhook::start(&cp, "bench");
    webhook.stop();
    let patch = our_patch(&webhook.dir)?;
    let mut registered = false;
    let mut phases = Vec::new();
    // Summed over the phases of each kind: the API server's histogram of each webhook name
    // (ours, then the minimal one's), and our webhook's own.
    let mut server = [
        vec![Vec::new(); 2],
        vec![Vec::new(); 2],
        vec![Vec::new(); 2],
    ];
    let mut own = vec![Vec::new(); WEBHOOK_HISTOGRAMS.len()];
    for (i, kind) in PHASES.into_iter().enumerate() {
        let minimal_webhook = match kind {
            Answering::Nobody => {
                if registered {
                    unregister(&cp);
                    registered = false;
                }
                None
            }
            Answering::Ours => {
                webhook.restart(&cp);
                None
            }
            Answering::Minimal => Some(MinimalWebhook::start(webhook.port, &webhook.dir, None)?),
            Answering::MinimalWithOurPatch => Some(MinimalWebhook::start(
                webhook.port,
                &webhook.dir,
                Some(&patch),
            )?),
        };
        if kind != Answering::Nobody {
            if !registered {
                webhook.register(&cp);
                registered = true;
            }
            wait_until_admitted(&api).await?;
        }
        let server_before = admission_histograms(&cp)?;
        let own_before = match kind {
            Answering::Ours => Some(webhook_histograms(webhook.metrics_port)?),
            _ => None,
        };
        let phase = drive(&api, &format!("phase-{i}")).await?;
        if let Some(before) = own_before {
            let after = webhook_histograms(webhook.metrics_port)?;
            for ((sum, before), after) in own.iter_mut().zip(&before).zip(&after) {
                add_delta(sum, before, after);
            }
        }
        let sums = match kind {
            Answering::Ours => Some(&mut server[0]),
            Answering::Minimal => Some(&mut server[1]),
            Answering::MinimalWithOurPatch => Some(&mut server[2]),
            Answering::Nobody => None,
        };
        if let Some(sums) = sums {
            let after = admission_histograms(&cp)?;
            for ((sum, before), after) in sums.iter_mut().zip(&server_before).zip(&after) {
                add_delta(sum, before, after);
            }
        }
        phases.push((kind, phase));
        drop(minimal_webhook);
        webhook.stop();
    }
    unregister(&cp);
    drop(webhook);
    cp.kubectl(&["delete", "namespace", &namespace, "--wait=false"]);

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut out = String::new();
    out.push_str(HEADING);
    out.push_str("\n\n");
    out.push_str(&format!(
        "- machine: {} CPUs (nproc); load average at the end (1, 5, 15 min): {}\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str("- command: `E2E_STATE_DIR=<state> NEO4J_WEBHOOK_BIN=target/release/neo4j-webhook cargo bench -p neo4j-e2e --bench apiserver` (`tests/benches/apiserver.rs`), against the local control plane of `tests/scripts/cluster-up.sh`\n");
    out.push_str(&format!(
        "- load: server-side dry-run creates (`dryRun=All`) of a valid Neo4jEnterpriseCluster through kube-rs, {RATE} a second for {} s after 1 s of warm-up, at most {MAX_IN_FLIGHT} in flight, in eight phases: no webhook registered; both of ours (the shipped configurations, pointed at a local `neo4j-webhook serve`); the same two registrations answered by a minimal webhook in its place (same port and certificate; TLS and HTTP/2 by hyper's defaults; each review read whole as JSON for its uid and allowed, no patch), what any webhook adds here; the minimal webhook answering `/mutate` with the JSON Patch ours answers for this cluster (its defaults, from `neo4j-webhook check`), what any webhook setting these defaults adds; then the four again in the same order\n\n",
        PHASE.as_secs()
    ));
    out.push_str("| phase | requests | errors | sends that waited | client p50 | client p99 |\n|---|---:|---:|---:|---:|---:|\n");
    let row = |out: &mut String, label: String, p: &Phase| {
        out.push_str(&format!(
            "| {label} | {} | {} | {} | {:.2} ms | {:.2} ms |\n",
            p.latencies.len(),
            p.errors,
            p.late,
            p.quantile_ms(0.50),
            p.quantile_ms(0.99)
        ));
    };
    for (i, (kind, p)) in phases.iter().enumerate() {
        row(&mut out, format!("{}. {}", i + 1, kind.label()), p);
    }
    let [nobody, ours, minimal, patching] = [
        Answering::Nobody,
        Answering::Ours,
        Answering::Minimal,
        Answering::MinimalWithOurPatch,
    ]
    .map(|k| pooled(&phases, k));
    for (label, p) in [
        ("no webhook, both phases", &nobody),
        ("ours, both phases", &ours),
        ("minimal, both phases", &minimal),
        ("minimal with our patch, both phases", &patching),
    ] {
        row(&mut out, label.into(), p);
    }
    for (label, more, less) in [
        ("**added by our webhooks**", &ours, &nobody),
        ("added by the minimal ones", &minimal, &nobody),
        (
            "added by the minimal ones with our patch",
            &patching,
            &nobody,
        ),
        ("ours beyond the minimal ones", &ours, &minimal),
        (
            "ours beyond the minimal ones with our patch",
            &ours,
            &patching,
        ),
    ] {
        out.push_str(&format!(
            "| {label} | | | | {:.2} ms | {:.2} ms |\n",
            more.quantile_ms(0.50) - less.quantile_ms(0.50),
            more.quantile_ms(0.99) - less.quantile_ms(0.99)
        ));
    }
    out.push_str("\nThe API server's `apiserver_admission_webhook_admission_duration_seconds` (CREATE; its buckets are 5, 25, 100 ms…, so these are coarse interpolations) over the phases with webhooks, their warm-up included:\n\n| answered by | webhook | calls | p50 | p99 |\n|---|---|---:|---:|---:|\n");
    let answering = [
        Answering::Ours,
        Answering::Minimal,
        Answering::MinimalWithOurPatch,
    ];
    for (kind, sums) in answering.iter().zip(&server) {
        for (name, sum) in WEBHOOK_NAMES.iter().zip(sums) {
            let p50 = quantile_ms(sum, 0.50);
            let p99 = quantile_ms(sum, 0.99);
            out.push_str(&format!(
                "| {} | {name} | {} | {} | {} |\n",
                kind.label(),
                p50.map_or_else(|| "0".into(), |(_, n)| format!("{n:.0}")),
                p50.map_or_else(|| "n/a".into(), |(ms, _)| format!("{ms:.2} ms")),
                p99.map_or_else(|| "n/a".into(), |(ms, _)| format!("{ms:.2} ms")),
            ));
        }
    }
    out.push_str("\nThe webhook's own histograms over the phases with ours (`neo4j_admission_request_duration_seconds`: from the handler's start, the body's arrival included; `neo4j_admission_decision_duration_seconds`: from the body's arrival to the encoded answer):\n\n| webhook | timed | calls | p50 | p99 |\n|---|---|---:|---:|---:|\n");
    for ((webhook, what, _), sum) in WEBHOOK_HISTOGRAMS.iter().zip(&own) {
        let p50 = quantile_ms(sum, 0.50);
        let p99 = quantile_ms(sum, 0.99);
        out.push_str(&format!(
            "| {webhook} | {what} | {} | {} | {} |\n",
            p50.map_or_else(|| "0".into(), |(_, n)| format!("{n:.0}")),
            p50.map_or_else(|| "n/a".into(), |(ms, _)| format!("{ms:.3} ms")),
            p99.map_or_else(|| "n/a".into(), |(ms, _)| format!("{ms:.3} ms")),
        ));
    }
    out.push_str("\nTarget (issue 14): p99 added ≤ 2 ms at 200 requests/s.\n\n");
    println!("{out}");
    write_section(&out)?;
    Ok(())
}

/// Replaces (or appends) this bench's section of BENCHMARKS.md.
fn write_section(section: &str) -> Result<(), BoxError> {
    let path = root().join("BENCHMARKS.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n\n".into());
    let updated = match existing.find(HEADING) {
        Some(start) => {
            let rest = &existing[start + HEADING.len()..];
            let end = rest
                .find("\n## ")
                .map_or(existing.len(), |i| start + HEADING.len() + i + 1);
            // A blank line between the section before and this heading.
            let before = existing[..start].trim_end();
            let gap = if before.is_empty() { "" } else { "\n\n" };
            format!("{before}{gap}{section}{}", &existing[end..])
        }
        None => format!("{}\n\n{}", existing.trim_end(), section),
    };
    std::fs::write(&path, updated)?;
    Ok(())
}
