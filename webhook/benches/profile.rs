//! Where an admission request's time goes (`cargo bench -p neo4j-webhook --bench profile`).
//!
//! Runs `neo4j-webhook serve` under valgrind's callgrind, which counts executed instructions
//! deterministically (no sampling noise, no dependence on what else the machine runs), sends the
//! recorded cluster review over one TLS connection, one request at a time, and splits the
//! instructions the server spent on those requests into stages: TLS, HTTP, the async runtime,
//! body read, JSON decode, engine, patch, encode, metrics, logging. The result goes to the
//! "Where the admission time goes" section of BENCHMARKS.md.
//!
//! `NEO4J_WEBHOOK_BASELINE=/path/to/neo4j-webhook` profiles that binary too, in the same run, so
//! the section shows before and after side by side. Needs `valgrind` (Debian: `apt-get install
//! valgrind`; `tests/scripts/bench.sh` runs this when it is installed).

mod support;

use std::path::{Path, PathBuf};

use support::callgrind::{self, Profile, STAGES, breakdown};
use support::*;

/// Requests profiled per scenario (after a warm-up that is not counted).
const REQUESTS: u64 = 400;
const WARMUP: u64 = 40;
const HEADING: &str = "## Where the admission time goes";

fn main() {
    if let Err(e) = run() {
        eprintln!("profile failed: {e}");
        std::process::exit(1);
    }
}

struct Scenario {
    proto: Proto,
    path: &'static str,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        proto: Proto::H1,
        path: "/validate",
    },
    Scenario {
        proto: Proto::H1,
        path: "/mutate",
    },
    Scenario {
        proto: Proto::H2,
        path: "/validate",
    },
    Scenario {
        proto: Proto::H2,
        path: "/mutate",
    },
];

struct Measured {
    label: String,
    /// One profile per scenario.
    profiles: Vec<Profile>,
}

fn run() -> Result<(), BoxError> {
    let rt = callgrind::runtime()?;
    rt.block_on(async {
        neo4j_webhook::serve::tls::install_default_provider();
        let dir =
            std::env::temp_dir().join(format!("neo4j-webhook-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let (ca, cert, key) = test_pki(&dir)?;
        let review = cluster_review()?;
        let mut binaries: Vec<(String, PathBuf)> = Vec::new();
        if let Some(baseline) = std::env::var_os("NEO4J_WEBHOOK_BASELINE") {
            binaries.push(("before".into(), PathBuf::from(baseline)));
        }
        binaries.push(("after".into(), webhook_bin()));
        let mut measured = Vec::new();
        for (label, bin) in &binaries {
            eprintln!("profiling {} ({label})", bin.display());
            measured.push(Measured {
                label: label.clone(),
                profiles: profile_binary(bin, &dir, &ca, &cert, &key, &review).await?,
            });
        }
        let _ = std::fs::remove_dir_all(&dir);
        let report = report(&measured, review.len());
        println!("{report}");
        write_benchmarks_section(HEADING, &report)?;
        Ok(())
    })
}

async fn profile_binary(
    bin: &Path,
    dir: &Path,
    ca: &rustls::pki_types::CertificateDer<'static>,
    cert: &Path,
    key: &Path,
    review: &hyper::body::Bytes,
) -> Result<Vec<Profile>, BoxError> {
    let out = dir.join("callgrind.out");
    let wrapper = callgrind::wrapper(&out, &[]);
    let server = spawn_webhook(bin, &wrapper, cert, key, &[], |c| {
        c.env("NEO4J_WEBHOOK_LOG_LEVEL", "info");
    })?;
    let mut profiles = Vec::new();
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        let config = client_config(ca, scenario.proto)?;
        let mut conn = connect(server.tls, config, scenario.proto).await?;
        for _ in 0..WARMUP {
            let (status, _) = conn.post(scenario.path, review).await?;
            if status != 200 {
                return Err(format!("warm-up answered {status}").into());
            }
        }
        callgrind::control(&["-z"], server.pid())?;
        for _ in 0..REQUESTS {
            conn.post(scenario.path, review).await?;
        }
        let dump = PathBuf::from(format!("{}.{}", out.display(), i + 1));
        let text = callgrind::dump(server.pid(), &dump)?;
        let profile = Profile::parse(&text);
        if std::env::var_os("PROFILE_DEBUG").is_some() {
            for (i, stage) in STAGES.iter().enumerate() {
                eprintln!("== {stage}");
                for (name, cost) in profile.top_of_stage(i, 12) {
                    eprintln!("   {:>10} {name}", cost / REQUESTS);
                }
            }
        }
        profiles.push(profile);
        drop(conn);
    }
    drop(server);
    for entry in std::fs::read_dir(dir)?.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("callgrind.out")
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(profiles)
}

fn report(measured: &[Measured], body: usize) -> String {
    let mut out = String::new();
    out.push_str(HEADING);
    out.push_str("\n\n");
    out.push_str(&format!("- machine: {}; date: {}\n", machine(), now_utc()));
    out.push_str("- command: `cargo bench -p neo4j-webhook --bench profile` (`webhook/benches/profile.rs`), with `NEO4J_WEBHOOK_BASELINE` naming the binary of the commit before the change for the \"before\" columns\n");
    out.push_str(&format!(
        "- method: `neo4j-webhook serve --no-cluster` under valgrind's callgrind (instructions executed, deterministic); the recorded cluster UPDATE review ({body} bytes) sent {REQUESTS} times over one TLS 1.3 connection, one request at a time, after {WARMUP} uncounted ones; counters zeroed before and dumped after, so start-up and the handshake are not included. Each function's own instructions go to a stage by its name; allocator, `memcpy` and generic helpers go to their callers in proportion to what each caller spent in them (`webhook/benches/support/callgrind.rs`)\n\n"
    ));
    let mut header = String::from("| stage |");
    let mut rule = String::from("|---|");
    for m in measured {
        for s in &SCENARIOS {
            header.push_str(&format!(" {} {} {} |", m.label, s.proto.name(), s.path));
            rule.push_str("---:|");
        }
    }
    out.push_str("Instructions per request (thousands) and share of the total:\n\n");
    out.push_str(&header);
    out.push('\n');
    out.push_str(&rule);
    out.push('\n');
    let tables: Vec<Vec<(&str, f64, f64)>> = measured
        .iter()
        .flat_map(|m| m.profiles.iter().map(|p| breakdown(p, REQUESTS)))
        .collect();
    for (i, stage) in STAGES.iter().enumerate() {
        out.push_str(&format!("| {stage} |"));
        for t in &tables {
            out.push_str(&format!(
                " {:.1} k ({:.0}%) |",
                t[i].1 / 1000.0,
                t[i].2 * 100.0
            ));
        }
        out.push('\n');
    }
    out.push_str("| **total** |");
    for m in measured {
        for p in &m.profiles {
            out.push_str(&format!(
                " **{:.1} k** |",
                p.total as f64 / REQUESTS as f64 / 1000.0
            ));
        }
    }
    out.push('\n');
    for m in measured {
        if let Some(p) = m.profiles.first() {
            out.push_str(&format!(
                "\nTop functions by own instructions, {} HTTP/1.1 /validate (per request):\n\n| function | instructions |\n|---|---:|\n",
                m.label
            ));
            for (name, cost) in p.top(15) {
                let name: String = name.chars().take(110).collect();
                out.push_str(&format!(
                    "| `{}` | {:.1} k |\n",
                    name.replace('|', "\\|"),
                    cost as f64 / REQUESTS as f64 / 1000.0
                ));
            }
        }
    }
    out
}
