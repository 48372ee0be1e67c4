//! What a user feels of admission: server-side dry-run creates of clusters sent to the local
//! control plane at a fixed rate, first with no webhook registered, then with both of ours
//! (`cargo bench -p neo4j-e2e --bench apiserver`, control plane from `$E2E_STATE_DIR`; the
//! webhook binary from `$NEO4J_WEBHOOK_BIN`, `tests/scripts/bench.sh` passes the release build).
//!
//! Reports client latency p50/p99 of each phase and their difference, and the API server's own
//! `apiserver_admission_webhook_admission_duration_seconds` for our two webhooks, in the "Admission
//! through the API server" section of BENCHMARKS.md. Every phase is bounded in count and time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use neo4j_e2e::{ControlPlane, Webhook, root, unregister, wait_until_admission_active};
use serde_json::json;

/// Requests per second sent in each phase.
const RATE: u32 = 200;
/// Length of each phase (after a warm-up of a second at the same rate, not counted).
const PHASE: Duration = Duration::from_secs(10);
/// Requests in flight at most; beyond, the sender waits (and the row says how often).
const MAX_IN_FLIGHT: usize = 256;
const HEADING: &str = "## Admission through the API server";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
    if let Err(e) = rt.block_on(run()) {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
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
    Ok(serde_json::from_value(json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": name},
        "spec": {
            "acceptLicenseAgreement": "yes",
            "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": 3},
            "storage": {"size": "10Gi"},
        },
    }))?)
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

/// A quantile of the difference of two scrapes, interpolated in its bucket (ms), and the count.
fn quantile_ms(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> Option<(f64, f64)> {
    let delta: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, c)| {
            let b = before
                .iter()
                .find(|(l, _)| l == le)
                .map_or(0.0, |(_, b)| *b);
            (*le, c - b)
        })
        .collect();
    let total = delta.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let target = total * q;
    let mut lower = (0.0, 0.0);
    for (le, count) in &delta {
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

async fn run() -> Result<(), BoxError> {
    let cp = ControlPlane::from_env();
    cp.install_crds();
    let client = cp.client().await;
    let namespace = neo4j_e2e::unique_namespace(&client, "bench-admission").await;
    let api = clusters(&client, &namespace);

    unregister(&cp);
    let without = drive(&api, "plain").await?;

    let webhook = Webhook::start(&cp, "bench");
    webhook.register(&cp);
    wait_until_admission_active(&cp);
    let names = ["mutate.neo4j.neo4j.com", "validate.neo4j.neo4j.com"];
    let mut before = Vec::new();
    for name in names {
        before.push(admission_histogram(&cp, name)?);
    }
    let own_before = webhook_histograms(webhook.metrics_port)?;
    let with = drive(&api, "hooked").await?;
    let own_after = webhook_histograms(webhook.metrics_port)?;
    let mut server = Vec::new();
    for (name, before) in names.iter().zip(&before) {
        let after = admission_histogram(&cp, name)?;
        server.push((
            *name,
            quantile_ms(before, &after, 0.50),
            quantile_ms(before, &after, 0.99),
        ));
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
        "- load: server-side dry-run creates (`dryRun=All`) of a valid Neo4jEnterpriseCluster through kube-rs, {RATE} a second for {} s after 1 s of warm-up, at most {MAX_IN_FLIGHT} in flight; first with no webhook registered, then with both of ours (the shipped configurations, pointed at a local `neo4j-webhook serve`)\n\n",
        PHASE.as_secs()
    ));
    out.push_str("| phase | requests | errors | sends that waited | client p50 | client p99 |\n|---|---:|---:|---:|---:|---:|\n");
    for (label, p) in [("no webhook", &without), ("our two webhooks", &with)] {
        out.push_str(&format!(
            "| {label} | {} | {} | {} | {:.2} ms | {:.2} ms |\n",
            p.latencies.len(),
            p.errors,
            p.late,
            p.quantile_ms(0.50),
            p.quantile_ms(0.99)
        ));
    }
    out.push_str(&format!(
        "| **added by the webhooks** | | | | **{:.2} ms** | **{:.2} ms** |\n",
        with.quantile_ms(0.50) - without.quantile_ms(0.50),
        with.quantile_ms(0.99) - without.quantile_ms(0.99)
    ));
    out.push_str("\nThe API server's `apiserver_admission_webhook_admission_duration_seconds` (CREATE; its buckets are 5, 25, 100 ms…, so these are coarse interpolations) over the second phase, its warm-up included:\n\n| webhook | calls | p50 | p99 |\n|---|---:|---:|---:|\n");
    for (name, p50, p99) in &server {
        let show = |q: &Option<(f64, f64)>| {
            q.map_or_else(|| "n/a".into(), |(ms, _)| format!("{ms:.2} ms"))
        };
        out.push_str(&format!(
            "| {name} | {} | {} | {} |\n",
            p50.map_or_else(|| "0".into(), |(_, n)| format!("{n:.0}")),
            show(p50),
            show(p99)
        ));
    }
    out.push_str("\nThe webhook's own histograms over the same phase (`neo4j_admission_request_duration_seconds`: from the handler's start, the body's arrival included; `neo4j_admission_decision_duration_seconds`: from the body's arrival to the encoded answer):\n\n| webhook | timed | calls | p50 | p99 |\n|---|---|---:|---:|---:|\n");
    for ((webhook, what, _), (before, after)) in WEBHOOK_HISTOGRAMS
        .iter()
        .zip(own_before.iter().zip(&own_after))
    {
        let p50 = quantile_ms(before, after, 0.50);
        let p99 = quantile_ms(before, after, 0.99);
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
            format!("{}{}{}", &existing[..start], section, &existing[end..])
        }
        None => format!("{}\n\n{}", existing.trim_end(), section),
    };
    std::fs::write(&path, updated)?;
    Ok(())
}
