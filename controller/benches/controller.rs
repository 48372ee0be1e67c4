//! Controller benchmark against the local control plane (`tests/scripts/cluster-up.sh`, its
//! `env` file in `$E2E_STATE_DIR`). Runs the release binary `target/release/neo4j-controller`
//! as a child process (so its VmRSS is its own) and measures:
//!
//! 1. time from applying 100 clusters (3 servers each) to every child existing;
//! 2. API writes and reconciles per minute over `IDLE_SECONDS` (default 300) idle seconds,
//!    from the controller's metrics and from the API server's `apiserver_request_total`;
//! 3. controller VmRSS with `MEMORY_CLUSTERS` (default 1000) cluster objects (the extra ones in
//!    a namespace whose ResourceQuota allows no pods);
//! 4. controller writes per cluster creation;
//! 5. 100 backups of those clusters (half one-shot Jobs, half CronJobs): time until every Job
//!    and CronJob exists and writes per backup; they stay in the caches for the idle window.
//! 6. 100 databases on a few of those clusters, made Ready by reporting their pods as a kubelet
//!    would (`neo4j_e2e::kubelet`): time until every create Job exists and until every
//!    database is Ready (its Job's pod reported Succeeded), and writes per database; they stay
//!    for the idle window too.
//!
//! Traffic goes only to the local API server; every wait has a deadline.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ResourceQuota;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::{Client, ResourceExt};
use neo4j_controller::apply::api_resource;
use neo4j_e2e::kubelet::{self, JobPodOutcome};
use neo4j_e2e::{
    ControlPlane, free_port, http_ok, root, unique_namespace, wait_for, wait_for_async,
};
use neo4j_shared::names;
use neo4j_shared::render::{self, DesiredObject};
use neo4j_shared::types::{Neo4jBackup, Neo4jDatabase, Neo4jEnterpriseCluster};
use serde_json::json;

const FIRST_CLUSTERS: usize = 100;
const BACKUPS: usize = 100;
const SERVERS: i32 = 3;
const DATABASES: usize = 100;
/// Clusters made Ready (their pods reported by the fake kubelet) to host the databases.
const DATABASE_HOSTS: usize = 4;
/// The fake kubelet's node.
const NODE: &str = "bench-node";
/// The pods (and Jobs) of database statements.
const DATABASE_JOBS: &str = "app.kubernetes.io/component=neo4j-database";
/// Resources the controller writes (the API server's `resource` label), for the write count.
const OUR_RESOURCES: &[&str] = &[
    "statefulsets",
    "services",
    "configmaps",
    "serviceaccounts",
    "poddisruptionbudgets",
    "certificates",
    "persistentvolumeclaims",
    "neo4jenterpriseclusters",
    "neo4jenterprisestandalones",
    "jobs",
    "cronjobs",
    "neo4jbackups",
    "neo4jdatabases",
];
const WRITE_VERBS: &[&str] = &["POST", "PUT", "PATCH", "APPLY", "DELETE"];

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Labels of a Prometheus sample line `name{a="b",...} value`.
fn parse_sample(line: &str) -> Option<(&str, BTreeMap<&str, &str>, f64)> {
    if line.starts_with('#') {
        return None;
    }
    let (series, value) = line.rsplit_once(' ')?;
    let (metric, labels) = match series.split_once('{') {
        Some((m, rest)) => (m, rest.trim_end_matches('}')),
        None => (series, ""),
    };
    let labels = labels
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k, v.trim_matches('"')))
        .collect();
    Some((metric, labels, value.parse().ok()?))
}

fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter_map(parse_sample)
        .filter(|(m, _, _)| *m == name)
        .map(|(_, _, v)| v)
        .sum()
}

/// Write requests (POST/PUT/PATCH/APPLY/DELETE) on our resources, by verb and resource, from
/// the API server.
fn apiserver_writes(p: &ControlPlane) -> BTreeMap<String, f64> {
    let text = p.kubectl_ok(&["get", "--raw", "/metrics"]);
    let mut by_verb = BTreeMap::new();
    for (m, labels, v) in text.lines().filter_map(parse_sample) {
        if m != "apiserver_request_total" {
            continue;
        }
        let verb = labels.get("verb").copied().unwrap_or_default();
        let resource = labels.get("resource").copied().unwrap_or_default();
        let sub = labels.get("subresource").copied().unwrap_or_default();
        if WRITE_VERBS.contains(&verb) && OUR_RESOURCES.contains(&resource) {
            let key = if sub.is_empty() {
                format!("{verb} {resource}")
            } else {
                format!("{verb} {resource}/{sub}")
            };
            *by_verb.entry(key).or_insert(0.0) += v;
        }
    }
    by_verb
}

fn diff(after: &BTreeMap<String, f64>, before: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v != 0.0)
        .collect()
}

fn total(m: &BTreeMap<String, f64>) -> f64 {
    // `+ 0.0`: an empty float sum is -0.0, printed "-0.00".
    m.values().sum::<f64>() + 0.0
}

fn fmt_verbs(m: &BTreeMap<String, f64>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The controller binary as a child process; killed on drop.
struct Controller {
    child: Child,
    port: u16,
}

impl Controller {
    fn start(p: &ControlPlane) -> Controller {
        let bin = root().join("target/release/neo4j-controller");
        assert!(
            bin.exists(),
            "{} missing: cargo build --release -p neo4j-controller",
            bin.display()
        );
        let port = free_port();
        let log =
            std::fs::File::create(p.state_dir.join("logs/bench-controller.log")).expect("log");
        let child = Command::new(&bin)
            .arg("--kubeconfig")
            .arg(&p.kubeconfig)
            .args(["--metrics-listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn the controller");
        let c = Controller { child, port };
        wait_for("the controller's /readyz", Duration::from_secs(60), || {
            http_ok(port, "/readyz")
        });
        c
    }

    fn metrics(&self) -> String {
        http_ok(self.port, "/metrics").unwrap_or_default()
    }

    fn writes(&self) -> f64 {
        metric_sum(&self.metrics(), "neo4j_controller_api_writes_total")
    }

    fn reconciles(&self) -> f64 {
        metric_sum(&self.metrics(), "neo4j_controller_reconciles_total")
    }

    fn objects(&self) -> f64 {
        metric_sum(&self.metrics(), "neo4j_controller_objects")
    }

    /// VmRSS in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("controller exited");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn cluster_manifest(name: &str) -> Neo4jEnterpriseCluster {
    serde_json::from_value(json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": name},
        "spec": {
            "acceptLicenseAgreement": "eval",
            "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
            "topology": {"servers": SERVERS},
            "storage": {"size": "1Gi", "retentionPolicy": "Retain"},
            "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
        }
    }))
    .expect("cluster manifest")
}

/// Creates `count` clusters (16 requests in flight) and returns every child they should get.
async fn create_clusters(
    client: &Client,
    ns: &str,
    prefix: &str,
    count: usize,
) -> Vec<DesiredObject> {
    let api: Api<Neo4jEnterpriseCluster> = Api::namespaced(client.clone(), ns);
    let created: Vec<Neo4jEnterpriseCluster> = stream::iter(0..count)
        .map(|i| {
            let api = api.clone();
            async move {
                let c = cluster_manifest(&format!("{prefix}-{i:04}"));
                let mut last = None;
                for _ in 0..5 {
                    match api.create(&PostParams::default(), &c).await {
                        Ok(c) => return c,
                        Err(e) => last = Some(e),
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                panic!("create cluster: {last:?}")
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    created
        .iter()
        .flat_map(|c| {
            let mut d = c.clone();
            neo4j_shared::defaults::cluster(&mut d.spec);
            render::cluster(&d).expect("render")
        })
        .collect()
}

/// Creates `count` backups of the clusters `<prefix>-0000…`, every other one scheduled (a
/// CronJob that does not fire during the run), and returns the Job or CronJob each should get.
async fn create_backups(
    client: &Client,
    ns: &str,
    prefix: &str,
    count: usize,
) -> Vec<DesiredObject> {
    let api: Api<Neo4jBackup> = Api::namespaced(client.clone(), ns);
    // (backup name, its cluster, scheduled?)
    let names: Vec<(String, String, bool)> = (0..count)
        .map(|i| {
            (
                format!("b-{i:04}"),
                format!("{prefix}-{:04}", i % FIRST_CLUSTERS),
                i % 2 == 1,
            )
        })
        .collect();
    stream::iter(names.clone())
        .map(|(name, cluster, scheduled)| {
            let api = api.clone();
            async move {
                let mut spec = json!({"instanceRef": cluster, "database": "neo4j",
                    "storage": {"type": "pvc", "pvc": {"name": "backups"}}});
                if scheduled {
                    spec["schedule"] = json!("0 3 1 1 *");
                }
                let b: Neo4jBackup =
                    serde_json::from_value(json!({"apiVersion": "neo4j.neo4j.com/v1beta1",
                    "kind": "Neo4jBackup", "metadata": {"name": name}, "spec": spec}))
                    .expect("backup manifest");
                api.create(&PostParams::default(), &b)
                    .await
                    .expect("create backup");
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    names
        .into_iter()
        .map(|(name, _, scheduled)| {
            let (kind, plural, child) = if scheduled {
                ("CronJob", "cronjobs", names::backup_cronjob(&name))
            } else {
                ("Job", "jobs", names::backup_job(&name))
            };
            DesiredObject {
                api_version: "batch/v1",
                kind,
                plural,
                name: child,
                object: json!({}),
                hash: String::new(),
            }
        })
        .collect()
}

/// Reports the pods of the clusters `<prefix>-0000…` (`count` of them) running and Ready, as a
/// kubelet would, until each cluster is Ready.
async fn ready_hosts(client: &Client, ns: &str, prefix: &str, count: usize) {
    let api: Api<Neo4jEnterpriseCluster> = Api::namespaced(client.clone(), ns);
    for i in 0..count {
        let name = format!("{prefix}-{i:04}");
        let selector = format!("{}={name}", names::APP_INSTANCE);
        wait_for_async(
            &format!("{name} Ready"),
            Duration::from_secs(120),
            || async {
                kubelet::mark_pods_ready(client, ns, &selector, NODE)
                    .await
                    .ok()?;
                let c = api.get(&name).await.ok()?;
                (c.status?.phase.as_deref() == Some("Ready")).then_some(())
            },
        )
        .await;
    }
}

/// Creates `count` databases, spread over the clusters `<prefix>-0000…` made Ready.
async fn create_databases(client: &Client, ns: &str, prefix: &str, count: usize) {
    let api: Api<Neo4jDatabase> = Api::namespaced(client.clone(), ns);
    stream::iter(0..count)
        .map(|i| {
            let api = api.clone();
            async move {
                let d: Neo4jDatabase = serde_json::from_value(json!({
                    "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jDatabase",
                    "metadata": {"name": format!("d-{i:04}")},
                    "spec": {"clusterRef": format!("{prefix}-{:04}", i % DATABASE_HOSTS),
                        "name": format!("db-{i:04}")}}))
                .expect("database manifest");
                api.create(&PostParams::default(), &d)
                    .await
                    .expect("create database");
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
}

/// Polls until every database is Ready, reporting the pods of their Jobs Succeeded as a kubelet
/// would; returns the times from `start` until every create Job existed and every database
/// was Ready.
async fn wait_databases(
    client: &Client,
    ns: &str,
    count: usize,
    start: Instant,
    timeout: Duration,
    ctl: &Controller,
    peak: &mut u64,
) -> (Duration, Duration) {
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    let dbs: Api<Neo4jDatabase> = Api::namespaced(client.clone(), ns);
    let deadline = Instant::now() + timeout;
    let mut jobs_at = None;
    loop {
        *peak = (*peak).max(ctl.rss_kib());
        let selected = ListParams::default().labels(DATABASE_JOBS);
        let have = jobs
            .list_metadata(&selected)
            .await
            .map_or(0, |l| l.items.len());
        if have >= count && jobs_at.is_none() {
            jobs_at = Some(start.elapsed());
        }
        // A failed pass is retried on the next poll.
        let _ =
            kubelet::finish_job_pods(client, ns, DATABASE_JOBS, NODE, &JobPodOutcome::Succeeded)
                .await;
        let ready = dbs.list(&ListParams::default()).await.map_or(0, |l| {
            l.items
                .iter()
                .filter(|d| d.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Ready"))
                .count()
        });
        if ready == count {
            let all = start.elapsed();
            return (jobs_at.unwrap_or(all), all);
        }
        assert!(
            Instant::now() < deadline,
            "{ready} of {count} databases Ready ({have} Jobs) after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Which desired children are still missing (metadata-only lists, one per kind).
async fn missing(client: &Client, ns: &str, desired: &[DesiredObject]) -> usize {
    let mut by_kind: BTreeMap<&str, (DesiredObject, BTreeSet<String>)> = BTreeMap::new();
    for d in desired {
        by_kind
            .entry(d.kind)
            .or_insert_with(|| (d.clone(), BTreeSet::new()))
            .1
            .insert(d.name.clone());
    }
    let mut missing = 0;
    for (_, (sample, wanted)) in by_kind {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), ns, &api_resource(&sample));
        let have: BTreeSet<String> = match api.list_metadata(&ListParams::default()).await {
            Ok(l) => l.items.iter().map(|o| o.name_any()).collect(),
            Err(_) => BTreeSet::new(),
        };
        missing += wanted.difference(&have).count();
    }
    missing
}

/// Polls until every desired child exists; returns the time it took from `start`.
async fn wait_materialized(
    client: &Client,
    ns: &str,
    desired: &[DesiredObject],
    start: Instant,
    timeout: Duration,
    ctl: &Controller,
    peak: &mut u64,
) -> Duration {
    let deadline = Instant::now() + timeout;
    loop {
        *peak = (*peak).max(ctl.rss_kib());
        let m = missing(client, ns, desired).await;
        if m == 0 {
            return start.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "{m} of {} children still missing after {timeout:?}",
            desired.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until the controller has sent no write for `quiet`.
async fn wait_quiet(ctl: &Controller, quiet: Duration, timeout: Duration, peak: &mut u64) {
    let deadline = Instant::now() + timeout;
    let mut last = ctl.writes();
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        *peak = (*peak).max(ctl.rss_kib());
        let now = ctl.writes();
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return;
        }
        assert!(Instant::now() < deadline, "controller never went quiet");
    }
}

/// Waits until the API server has seen no write on our resources (from anyone, e.g. the
/// StatefulSet controller creating PVCs and pods) for `quiet`; returns whether it did in time.
async fn wait_plane_quiet(p: &ControlPlane, quiet: Duration, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut last = total(&apiserver_writes(p));
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = total(&apiserver_writes(p));
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
    }
}

struct Figures {
    rows: Vec<(String, String)>,
}

impl Figures {
    fn add(&mut self, what: &str, value: String) {
        println!("{what}: {value}");
        self.rows.push((what.to_string(), value));
    }
}

fn machine() -> String {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{nproc} CPUs (nproc), {model}")
}

fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn write_section(section: &str) {
    let path = root().join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let new = match text.find("\n## Controller\n") {
        Some(start) => {
            let rest = &text[start + 1..];
            let end = rest[3..]
                .find("\n## ")
                .map(|i| start + 1 + 3 + i + 1)
                .unwrap_or(text.len());
            let sep = if end < text.len() { "\n" } else { "" };
            format!("{}{}{}{}", &text[..start + 1], section, sep, &text[end..])
        }
        None => format!(
            "{}\n{}",
            text.trim_end_matches('\n').to_string() + "\n",
            section
        ),
    };
    std::fs::write(&path, new).expect("write BENCHMARKS.md");
}

async fn run(p: &ControlPlane, idle: u64, memory_clusters: usize) -> Figures {
    let mut f = Figures { rows: Vec::new() };
    p.install_crds();
    let client = p.client().await;
    let ctl = Controller::start(p);
    let mut peak = ctl.rss_kib();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_empty = ctl.rss_kib();

    // (1) 100 clusters to every child materialized.
    let ns = unique_namespace(&client, "bench-ctl").await;
    let writes0 = ctl.writes();
    let api0 = apiserver_writes(p);
    let start = Instant::now();
    let desired = create_clusters(&client, &ns, "c", FIRST_CLUSTERS).await;
    let created_in = start.elapsed();
    let took = wait_materialized(
        &client,
        &ns,
        &desired,
        start,
        Duration::from_secs(600),
        &ctl,
        &mut peak,
    )
    .await;
    f.add(
        &format!(
            "{FIRST_CLUSTERS} clusters × {SERVERS} servers: apply → all {} children exist",
            desired.len()
        ),
        format!(
            "{:.1} s (creating the {FIRST_CLUSTERS} objects: {:.1} s)",
            took.as_secs_f64(),
            created_in.as_secs_f64()
        ),
    );
    wait_quiet(
        &ctl,
        Duration::from_secs(10),
        Duration::from_secs(300),
        &mut peak,
    )
    .await;
    let writes1 = ctl.writes();
    let api1 = apiserver_writes(p);
    let per = (writes1 - writes0) / FIRST_CLUSTERS as f64;
    let api_created = total(&diff(&api1, &api0)) - FIRST_CLUSTERS as f64;
    f.add(
        "controller API writes per cluster creation",
        format!(
            "{per:.2} ({} writes for {FIRST_CLUSTERS} clusters; API server saw {} writes on our resources besides the {FIRST_CLUSTERS} creates: {})",
            writes1 - writes0,
            api_created,
            fmt_verbs(&diff(&api1, &api0))
        ),
    );

    // (1b) 100 backups of those clusters.
    let wb0 = ctl.writes();
    let start = Instant::now();
    let backup_children = create_backups(&client, &ns, "c", BACKUPS).await;
    let took = wait_materialized(
        &client,
        &ns,
        &backup_children,
        start,
        Duration::from_secs(300),
        &ctl,
        &mut peak,
    )
    .await;
    wait_quiet(
        &ctl,
        Duration::from_secs(10),
        Duration::from_secs(300),
        &mut peak,
    )
    .await;
    let wb1 = ctl.writes();
    f.add(
        &format!(
            "{BACKUPS} backups ({} one-shot, {} scheduled): apply → every Job and CronJob exists",
            BACKUPS / 2,
            BACKUPS - BACKUPS / 2
        ),
        format!("{:.1} s", took.as_secs_f64()),
    );
    f.add(
        "controller API writes per backup creation",
        format!(
            "{:.2} ({} writes for {BACKUPS} backups: the Job or CronJob, the status, an event for each one-shot run)",
            (wb1 - wb0) / BACKUPS as f64,
            wb1 - wb0
        ),
    );

    // (1c) 100 databases on the first clusters, made Ready by a fake kubelet.
    let _node = kubelet::start_node(&client, NODE)
        .await
        .expect("register the fake node");
    ready_hosts(&client, &ns, "c", DATABASE_HOSTS).await;
    wait_quiet(
        &ctl,
        Duration::from_secs(10),
        Duration::from_secs(300),
        &mut peak,
    )
    .await;
    let wd0 = ctl.writes();
    let start = Instant::now();
    create_databases(&client, &ns, "c", DATABASES).await;
    let (jobs_in, ready_in) = wait_databases(
        &client,
        &ns,
        DATABASES,
        start,
        Duration::from_secs(300),
        &ctl,
        &mut peak,
    )
    .await;
    wait_quiet(
        &ctl,
        Duration::from_secs(10),
        Duration::from_secs(300),
        &mut peak,
    )
    .await;
    let wd1 = ctl.writes();
    f.add(
        &format!(
            "{DATABASES} databases on {DATABASE_HOSTS} Ready clusters: apply → every create Job exists / every database Ready (Job pods reported Succeeded)"
        ),
        format!(
            "{:.1} s / {:.1} s",
            jobs_in.as_secs_f64(),
            ready_in.as_secs_f64()
        ),
    );
    f.add(
        "controller API writes per database creation",
        format!(
            "{:.2} ({} writes for {DATABASES} databases)",
            (wd1 - wd0) / DATABASES as f64,
            wd1 - wd0
        ),
    );

    // (2) idle window, once the rest of the plane (StatefulSet controller) has settled too.
    let settled = wait_plane_quiet(p, Duration::from_secs(10), Duration::from_secs(300)).await;
    if !settled {
        f.add(
            "warning",
            "the API server still saw writes on our resources 300 s after the controller went quiet"
                .into(),
        );
    }
    let rec_a = ctl.reconciles();
    let wr_a = ctl.writes();
    let api_a = apiserver_writes(p);
    let idle_deadline = Instant::now() + Duration::from_secs(idle);
    while Instant::now() < idle_deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        peak = peak.max(ctl.rss_kib());
    }
    let rec_b = ctl.reconciles();
    let wr_b = ctl.writes();
    let api_idle = diff(&apiserver_writes(p), &api_a);
    let minutes = idle as f64 / 60.0;
    f.add(
        &format!("idle {idle} s: controller writes / min"),
        format!("{:.2} ({} in total)", (wr_b - wr_a) / minutes, wr_b - wr_a),
    );
    f.add(
        &format!("idle {idle} s: controller reconciles / min"),
        format!(
            "{:.2} ({} in total)",
            (rec_b - rec_a) / minutes,
            rec_b - rec_a
        ),
    );
    f.add(
        &format!("idle {idle} s: API server writes on our resources / min"),
        format!(
            "{:.2} ({})",
            total(&api_idle) / minutes,
            fmt_verbs(&api_idle)
        ),
    );
    let rss_100 = ctl.rss_kib();

    // (3) memory with `memory_clusters` cluster objects in the caches.
    let extra = memory_clusters.saturating_sub(FIRST_CLUSTERS);
    if extra > 0 {
        let ns2 = unique_namespace(&client, "bench-mem").await;
        let quota: ResourceQuota = serde_json::from_value(json!({
            "metadata": {"name": "no-pods"},
            "spec": {"hard": {"pods": "0"}}
        }))
        .unwrap();
        Api::<ResourceQuota>::namespaced(client.clone(), &ns2)
            .create(&PostParams::default(), &quota)
            .await
            .expect("create quota");
        let w0 = ctl.writes();
        let start = Instant::now();
        let desired2 = create_clusters(&client, &ns2, "m", extra).await;
        let took2 = wait_materialized(
            &client,
            &ns2,
            &desired2,
            start,
            Duration::from_secs(1800),
            &ctl,
            &mut peak,
        )
        .await;
        wait_quiet(
            &ctl,
            Duration::from_secs(10),
            Duration::from_secs(600),
            &mut peak,
        )
        .await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while ctl.objects() < memory_clusters as f64 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let w1 = ctl.writes();
        f.add(
            &format!(
                "{extra} more clusters (pods forbidden by quota): apply → all {} children exist",
                desired2.len()
            ),
            format!(
                "{:.1} s; {:.2} controller writes per cluster",
                took2.as_secs_f64(),
                (w1 - w0) / extra as f64
            ),
        );
    }
    let rss_mem = ctl.rss_kib();
    peak = peak.max(rss_mem);
    f.add("controller VmRSS, 0 clusters (synced)", mib(rss_empty));
    f.add(
        &format!("controller VmRSS, {FIRST_CLUSTERS} clusters, after idle"),
        mib(rss_100),
    );
    f.add(
        &format!(
            "controller VmRSS, {} clusters, steady",
            FIRST_CLUSTERS.max(memory_clusters)
        ),
        mib(rss_mem),
    );
    f.add("controller VmRSS peak (sampled)", mib(peak));
    f
}

fn main() {
    let p = ControlPlane::from_env();
    let idle = env_num("IDLE_SECONDS", 300);
    let memory_clusters = env_num("MEMORY_CLUSTERS", 1000) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = utc_now();
    let figures = rt.block_on(run(&p, idle, memory_clusters));
    let mut env_prefix = String::new();
    if std::env::var_os("IDLE_SECONDS").is_some() {
        env_prefix += &format!("IDLE_SECONDS={idle} ");
    }
    if std::env::var_os("MEMORY_CLUSTERS").is_some() {
        env_prefix += &format!("MEMORY_CLUSTERS={memory_clusters} ");
    }
    let mut s = String::new();
    s += "## Controller\n\n";
    s += &format!("- machine: {}; date: {started}\n", machine());
    s += &format!(
        "- command: `APISERVER_ARGS=--service-cluster-ip-range=10.0.0.0/16 KCM_ARGS=--service-cluster-ip-range=10.0.0.0/16 bash tests/scripts/cluster-up.sh target/bench-cluster`, then `{env_prefix}E2E_STATE_DIR=target/bench-cluster cargo bench --locked -p neo4j-controller --bench controller` (`controller/benches/controller.rs`; `tests/scripts/bench.sh` runs the same)\n"
    );
    s += &format!(
        "- setup: local control plane (etcd, kube-apiserver, kube-controller-manager; no scheduler and no kubelet: pods stay Pending and one-shot backups stay Running, except those the fake kubelet below reports); the release binary `target/release/neo4j-controller` runs as a child process watching all namespaces; idle window {idle} s (`IDLE_SECONDS`, default 300 = the issue's 5 minutes) with the {FIRST_CLUSTERS} clusters, {BACKUPS} backups and {DATABASES} databases in place; `MEMORY_CLUSTERS` {memory_clusters} clusters for the memory figure; clusters of {SERVERS} servers, created 16 at a time; backups created 16 at a time, every other one scheduled; databases created 16 at a time over the first {DATABASE_HOSTS} clusters, whose pods and the databases' Job pods a fake kubelet (`neo4j_e2e::kubelet`, node `{NODE}`) reports Ready and Succeeded\n"
    );
    s += &format!(
        "- API server writes: `apiserver_request_total` from `kubectl get --raw /metrics`, verbs {} on resources {}, before/after, by verb and resource (other clients count too, e.g. the StatefulSet controller creating PVCs and updating StatefulSet status); the idle window starts once the controller has sent no write for 10 s and the API server has seen none on these resources for 10 s\n\n",
        WRITE_VERBS.join("/"),
        OUR_RESOURCES.join(", ")
    );
    s += "| measure | result |\n|---|---|\n";
    for (k, v) in &figures.rows {
        s += &format!("| {k} | {v} |\n");
    }
    s += "\nTargets (issue): 0 writes per idle minute.\n";
    println!("\n{s}");
    write_section(&s);
}
