//! A real Prometheus (built from its Go module by tests/tools/build.sh) scrapes two webhook
//! replicas, the controller (both on their ServiceAccount tokens) and the API server while
//! samples are applied through the webhook Service. Every expression of the PrometheusRule and
//! of the dashboard passes `promtool check rules`, Prometheus loads the rules, and every
//! dashboard panel's queries return a non-empty series: the dashboard truly shows warnings by
//! rule. Run by tests/scripts/install-e2e.sh.

#[path = "support/installed.rs"]
mod installed;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use installed::{
    NAMESPACE, Proc, Replica, cluster_env, free_port_on, http_get, install_with_own_certs, run,
    run_ok, service_account_kubeconfig, set_endpoints, tool,
};
use neo4j_e2e::{ControlPlane, root, wait_for, wait_until_admission_active};
use serde_json::{Value, json};

/// Grafana's range variables, as the tests evaluate the panels.
const RATE_INTERVAL: &str = "1m";
const RANGE: &str = "15m";

/// (panel title, expression) of every query of the dashboard, variables substituted.
pub fn dashboard_queries() -> Vec<(String, String)> {
    let path = root().join("manifests/monitoring/dashboard.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dash: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for panel in dash["panels"].as_array().into_iter().flatten() {
        if panel["type"] == "row" {
            continue;
        }
        let title = panel["title"].as_str().unwrap_or("?").to_string();
        let targets = panel["targets"].as_array().cloned().unwrap_or_default();
        assert!(!targets.is_empty(), "panel {title:?} has no query");
        for t in targets {
            let expr = t["expr"].as_str().unwrap_or_default();
            out.push((
                title.clone(),
                expr.replace("$__rate_interval", RATE_INTERVAL)
                    .replace("$__range", RANGE),
            ));
        }
    }
    out
}

/// The PrometheusRule's `spec` (a Prometheus rules file), as JSON (which is YAML).
fn rules_file(dir: &Path) -> (PathBuf, usize) {
    let path = root().join("manifests/monitoring/prometheusrule.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rule: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let alerts = rule["spec"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .collect::<Vec<_>>();
    for a in &alerts {
        let name = a["alert"].as_str().unwrap_or("?");
        let url = a["annotations"]["runbook_url"].as_str().unwrap_or_default();
        let anchor = url
            .split_once("docs/runbooks.md#")
            .map(|(_, anchor)| anchor)
            .unwrap_or_else(|| {
                panic!("{name}: runbook_url {url:?} does not point into docs/runbooks.md")
            });
        assert_eq!(anchor, name.to_lowercase(), "{name}: runbook anchor");
        let runbooks = std::fs::read_to_string(root().join("docs/runbooks.md")).unwrap_or_default();
        assert!(
            runbooks.contains(&format!("\n## {name}\n")),
            "docs/runbooks.md has no section {name}"
        );
    }
    let out = dir.join("rules.yaml");
    std::fs::write(&out, rule["spec"].to_string()).unwrap_or_else(|e| panic!("{e}"));
    (out, alerts.len())
}

/// The dashboard's expressions as recording rules, so promtool parses each one.
fn dashboard_rules_file(dir: &Path) -> PathBuf {
    let rules: Vec<Value> = dashboard_queries()
        .iter()
        .enumerate()
        .map(|(i, (_, expr))| json!({"record": format!("dashboard:panel_query_{i}"), "expr": expr}))
        .collect();
    let out = dir.join("dashboard-rules.yaml");
    std::fs::write(
        &out,
        json!({"groups": [{"name": "dashboard", "rules": rules}]}).to_string(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    out
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Result vector of an instant query; `None` when Prometheus does not answer.
fn query(port: u16, expr: &str) -> Option<Vec<Value>> {
    let path = format!("/api/v1/query?query={}", percent_encode(expr));
    let (code, body) = http_get([127, 0, 0, 1].into(), port, &path)?;
    assert_eq!(code, 200, "query {expr}: {body}");
    let v: Value = serde_json::from_str(body.trim()).ok()?;
    v["data"]["result"].as_array().cloned()
}

fn curl_bad_request(ca: &Path, ip: IpAddr, port: u16, content_type: &str, body: &str) {
    let host = "neo4j-webhook.neo4j-operator.svc";
    let out = run(Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(ca)
        .args(["--resolve", &format!("{host}:{port}:{ip}")])
        .args([
            "-H",
            &format!("Content-Type: {content_type}"),
            "--data",
            body,
        ])
        .arg(format!("https://{host}:{port}/validate")));
    let code = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(code.starts_with('4'), "bad request answered {code}");
}

#[test]
fn prometheus_scrapes_everything_and_every_panel_has_data() {
    let cp = ControlPlane::from_env();
    let dir = cp.state_dir.join("observability");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));

    // promtool: every alert and every dashboard expression parses.
    let (rules, alert_count) = rules_file(&dir);
    let checked = run_ok(
        Command::new(tool("promtool"))
            .args(["check", "rules"])
            .arg(&rules),
    );
    assert!(
        checked.contains(&format!("SUCCESS: {alert_count} rules found")),
        "{checked}"
    );
    let dash_rules = dashboard_rules_file(&dir);
    run_ok(
        Command::new(tool("promtool"))
            .args(["check", "rules"])
            .arg(&dash_rules),
    );

    // The install without cert-manager; two webhook replicas and the controller on their
    // ServiceAccount tokens.
    let certs = dir.join("certs");
    install_with_own_certs(&cp, &certs);
    let webhook_sa = service_account_kubeconfig(&cp, "neo4j-webhook");
    let controller_sa = service_account_kubeconfig(&cp, "neo4j-controller");
    let (a, b): (IpAddr, IpAddr) = ([127, 0, 0, 2].into(), [127, 0, 0, 3].into());
    let port = wait_for(
        "a port free on both addresses",
        Duration::from_secs(10),
        || {
            let la = std::net::TcpListener::bind((a, 0)).ok()?;
            let port = la.local_addr().ok()?.port();
            std::net::TcpListener::bind((b, port)).ok().map(|_| port)
        },
    );
    let ra = Replica::start_on(
        &cp,
        "obs-webhook-a",
        a,
        port,
        free_port_on(a),
        &certs,
        &webhook_sa,
    );
    let rb = Replica::start_on(
        &cp,
        "obs-webhook-b",
        b,
        port,
        free_port_on(b),
        &certs,
        &webhook_sa,
    );
    set_endpoints(&cp, port, &[(a, true), (b, true)]);
    wait_until_admission_active(&cp);

    let localhost: IpAddr = [127, 0, 0, 1].into();
    let controller_port = free_port_on(localhost);
    let controller_bin = std::env::var_os("NEO4J_CONTROLLER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/debug/neo4j-controller"));
    let mut controller = Proc::spawn(
        &cp,
        "obs-controller",
        Command::new(controller_bin)
            .arg(format!("--kubeconfig={}", controller_sa.display()))
            .arg(format!("--metrics-listen=127.0.0.1:{controller_port}"))
            .arg("--leader-elect")
            .arg(format!("--leader-election-namespace={NAMESPACE}"))
            .arg("--identity=obs-controller")
            .env("RUST_LOG", "info"),
    );
    wait_for(
        "the controller to be ready",
        Duration::from_secs(60),
        || {
            controller.assert_running();
            (http_get(localhost, controller_port, "/readyz").map(|(c, _)| c) == Some(200))
                .then_some(())
        },
    );

    // Prometheus, scraping every second.
    let env = cluster_env(&cp);
    let pki = PathBuf::from(&env["DATA_DIR"]).join("pki");
    let prom_port = free_port_on(localhost);
    let config = json!({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [rules.to_string_lossy()],
        "scrape_configs": [
            {"job_name": "neo4j-webhook", "static_configs": [{"targets": [
                format!("{a}:{}", ra.metrics_port), format!("{b}:{}", rb.metrics_port)]}]},
            {"job_name": "neo4j-controller", "static_configs": [{"targets": [format!("127.0.0.1:{controller_port}")]}]},
            {"job_name": "apiserver", "scheme": "https",
                "tls_config": {"ca_file": cp.state_dir.join("ca.crt").to_string_lossy(),
                    "cert_file": pki.join("admin.crt").to_string_lossy(),
                    "key_file": pki.join("admin.key").to_string_lossy()},
                "static_configs": [{"targets": [format!("127.0.0.1:{}", env["APISERVER_PORT"])]}]},
        ],
    });
    let config_file = dir.join("prometheus.yaml");
    std::fs::write(&config_file, config.to_string()).unwrap_or_else(|e| panic!("{e}"));
    run_ok(
        Command::new(tool("promtool"))
            .args(["check", "config"])
            .arg(&config_file),
    );
    let _ = std::fs::remove_dir_all(dir.join("tsdb"));
    let mut prometheus = Proc::spawn(
        &cp,
        "prometheus",
        Command::new(tool("prometheus"))
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}")),
    );
    wait_for("Prometheus to be ready", Duration::from_secs(60), || {
        prometheus.assert_running();
        (http_get(localhost, prom_port, "/-/ready").map(|(c, _)| c) == Some(200)).then_some(())
    });

    // Traffic: every sample (admitted, warned, denied), a standalone the controller
    // materializes, and requests the webhook refuses before admission.
    cp.create_namespace("obs-e2e");
    let samples = root().join("manifests/samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&samples)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let (mut admitted, mut denied) = (0, 0);
    for f in &files {
        let out = cp.kubectl(&["apply", "-f", &f.to_string_lossy()]);
        if out.status.success() {
            admitted += 1;
        } else {
            denied += 1;
        }
    }
    assert!(
        admitted > 0 && denied > 0,
        "samples: {admitted} admitted, {denied} denied"
    );
    let standalone = installed::standalone("obs-e2e", "metrics", 0);
    let out = cp.kubectl_in(&["apply", "-f", "-"], Some(&standalone));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ca = certs.join("ca.crt");
    curl_bad_request(&ca, a, port, "application/json", "not json");
    curl_bad_request(&ca, b, port, "text/plain", "{}");

    // Every panel's queries return data once Prometheus has scraped the traffic.
    let queries = dashboard_queries();
    let mut last: BTreeMap<String, usize> = BTreeMap::new();
    let outcome = wait_for_all(&queries, prom_port, &mut last);
    if let Err(empty) = outcome {
        panic!(
            "dashboard queries without data after 120 s: {empty:#?}\nseries per query: {last:#?}\nPrometheus log:\n{}",
            prometheus.log_text()
        );
    }
    for (title, n) in &last {
        eprintln!("panel query {title}: {n} series");
    }
    for job in ["neo4j-webhook", "neo4j-controller", "apiserver"] {
        let up = query(prom_port, &format!("min(up{{job=\"{job}\"}})")).unwrap_or_default();
        assert_eq!(
            up.first().map(|s| s["value"][1].clone()),
            Some(json!("1")),
            "{job} up"
        );
    }
    // Prometheus loaded the alert rules, and none of the outage alerts fires.
    let (code, body) = http_get(localhost, prom_port, "/api/v1/rules?type=alert")
        .unwrap_or_else(|| panic!("no rules answer"));
    assert_eq!(code, 200);
    for alert in [
        "Neo4jWebhookDown",
        "Neo4jControllerDown",
        "Neo4jAdmissionPanic",
    ] {
        assert!(body.contains(alert), "{alert} not loaded");
    }
    // The alerts on this test's own processes stay silent (the API server's counters also
    // carry the failures the other install tests provoke on purpose, so those are not checked).
    let firing = query(
        prom_port,
        "ALERTS{alertstate=\"firing\", alertname=~\"Neo4jWebhookDown|Neo4jControllerDown|Neo4jAdmissionPanic|Neo4jControllerConflicts|Neo4jWebhookCertificateReloadFailing\"}",
    )
    .unwrap_or_default();
    assert!(firing.is_empty(), "alerts firing: {firing:#?}");
    controller.assert_running();

    // `make dashboard-preview`: 90 more seconds of traffic (so the graphs have a shape), then
    // every panel rendered from this Prometheus into a PNG.
    if let Some(out) = std::env::var_os("DASHBOARD_PREVIEW_OUT") {
        let latest = || -> Option<f64> {
            let r = query(prom_port, "max(timestamp(up))")?;
            r.first()?["value"][1].as_str()?.parse().ok()
        };
        let begin = latest().unwrap_or(0.0);
        let mut round = 0;
        while latest().unwrap_or(0.0) < begin + 90.0 && round < 200 {
            let before = latest().unwrap_or(0.0);
            for f in files.iter().filter(|f| {
                round % 3 == 0
                    || f.to_string_lossy().contains("warned")
                    || f.to_string_lossy().contains("invalid")
            }) {
                cp.kubectl(&["apply", "-f", &f.to_string_lossy()]);
            }
            let out = cp.kubectl_in(
                &["apply", "-f", "-"],
                Some(&installed::standalone("obs-e2e", "metrics", round)),
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            if round % 4 == 0 {
                curl_bad_request(&ca, a, port, "application/json", "not json");
            }
            wait_for("the next scrape", Duration::from_secs(30), || {
                latest().filter(|t| *t > before)
            });
            round += 1;
        }
        let bin = root().join("target/debug/dashboard-preview");
        run_ok(
            Command::new(bin)
                .arg(format!("--prometheus=127.0.0.1:{prom_port}"))
                .arg(format!(
                    "--dashboard={}",
                    root().join("manifests/monitoring/dashboard.json").display()
                ))
                .arg("--out")
                .arg(&out)
                .arg("--range=150"),
        );
        let png = std::fs::read(&out).unwrap_or_default();
        assert!(png.starts_with(b"\x89PNG"), "no PNG written");
    }
}

/// Polls every query until each returns at least one series (or 120 s pass); records the
/// series counts in `last`.
fn wait_for_all(
    queries: &[(String, String)],
    port: u16,
    last: &mut BTreeMap<String, usize>,
) -> Result<(), Vec<String>> {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let mut empty = Vec::new();
        for (title, expr) in queries {
            let n = query(port, expr).map(|r| r.len()).unwrap_or(0);
            last.insert(format!("{title}: {expr}"), n);
            if n == 0 {
                empty.push(format!("{title}: {expr}"));
            }
        }
        if empty.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(empty);
        }
        // Ask again once Prometheus has scraped once more.
        let latest = |port| -> Option<f64> {
            let r = query(port, "max(timestamp(up))")?;
            r.first()?["value"][1].as_str()?.parse().ok()
        };
        let before = latest(port).unwrap_or(0.0);
        wait_for("the next scrape", Duration::from_secs(30), || {
            latest(port).filter(|t| *t > before)
        });
    }
}
