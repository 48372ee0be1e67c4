//! Which functions the server runs, for the linker's code layout (`make symbol-order`, which runs
//! `cargo bench -p neo4j-webhook --bench layout` on the release build).
//!
//! Runs `neo4j-webhook serve --no-cluster` under valgrind's callgrind from start-up, sends
//! HTTP/1.1 and HTTP/2 reviews (the recorded UPDATE, the same object as a CREATE, a malformed
//! body) to `/validate` and `/mutate`, scrapes `/metrics`, and writes every function the binary
//! executed to `webhook/symbol-order.txt`: those that served requests first, most instructions
//! first, then those only start-up ran. `webhook/build.rs` hands the file to the linker, which
//! places these functions together at the start of the code, so the pages the kernel maps in
//! around each one are mostly code the server runs (docs/design.md, "Code layout").
//!
//! Symbol names carry hashes of the crate and the compiler, so run this again after a Rust
//! upgrade or a dependency bump; until then the names that no longer match are laid out where
//! the compiler puts them, which costs resident memory, never correctness.

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use hyper::body::Bytes;
use support::callgrind::{self, Profile};
use support::*;

/// Reviews of each kind per protocol and path: enough to run every branch they take, more adds
/// nothing to the set of functions.
const ROUNDS: usize = 5;

fn main() {
    if let Err(e) = run() {
        eprintln!("layout failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), BoxError> {
    let rt = callgrind::runtime()?;
    let bin = webhook_bin();
    let (serving, start_up) = rt.block_on(record(&bin))?;
    let name = bin
        .file_name()
        .map(|n| format!("/{}", n.to_string_lossy()))
        .ok_or("no binary name")?;
    let (text, counts) = order_file(&serving, &start_up, &name);
    if counts.0 == 0 {
        return Err(format!("callgrind saw no function of {}", bin.display()).into());
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("symbol-order.txt");
    std::fs::write(&out, text)?;
    println!(
        "{}: {} functions that served requests, then {} that only start-up ran",
        out.display(),
        counts.0,
        counts.1
    );
    Ok(())
}

/// The profiles of serving (reviews, metrics) and of start-up, in that order.
async fn record(bin: &Path) -> Result<(Profile, Profile), BoxError> {
    neo4j_webhook::serve::tls::install_default_provider();
    let dir = std::env::temp_dir().join(format!("neo4j-webhook-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (ca, cert, key) = test_pki(&dir)?;
    let out = dir.join("callgrind.out");
    // Mangled names: what the linker's ordering file matches.
    let wrapper = callgrind::wrapper(&out, &["--demangle=no"]);
    let server = spawn_webhook(bin, &wrapper, &cert, &key, &[], |c| {
        c.env("NEO4J_WEBHOOK_LOG_LEVEL", "info");
    })?;
    let dump = |i: u32| PathBuf::from(format!("{}.{i}", out.display()));
    let start_up = Profile::parse(&callgrind::dump(server.pid(), &dump(1))?);

    let update = cluster_review()?;
    let create = Bytes::from(create_review()?);
    let malformed = Bytes::from_static(b"{\"kind\":\"AdmissionReview\",");
    for proto in [Proto::H1, Proto::H2] {
        let mut conn = connect(server.tls, client_config(&ca, proto)?, proto).await?;
        for path in ["/validate", "/mutate"] {
            for _ in 0..ROUNDS {
                for (body, want) in [(&update, 200), (&create, 200), (&malformed, 400)] {
                    let (status, _) = conn.post(path, body).await?;
                    if status != want {
                        return Err(format!(
                            "{} {path} answered {status}, not {want}",
                            proto.name()
                        )
                        .into());
                    }
                }
            }
        }
    }
    scrape_metrics(server.metrics.ok_or("no metrics address")?).await?;
    let serving = Profile::parse(&callgrind::dump(server.pid(), &dump(2))?);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok((serving, start_up))
}

/// The recorded review as a CREATE: no old object.
fn create_review() -> Result<String, BoxError> {
    let mut review: serde_json::Value = serde_json::from_slice(&cluster_review()?)?;
    let request = review
        .get_mut("request")
        .and_then(|r| r.as_object_mut())
        .ok_or("the recorded review has no request")?;
    request.insert("operation".into(), "CREATE".into());
    request.remove("oldObject");
    Ok(apiserver_json(&review))
}

/// The ordering file: serving's functions (most instructions first), then start-up's others;
/// only functions of the binary `object`. Also returns how many of each.
fn order_file(serving: &Profile, start_up: &Profile, object: &str) -> (String, (usize, usize)) {
    let mut text = String::from(
        "# Functions of neo4j-webhook in the order the linker places them (webhook/build.rs):\n\
         # those that served reviews first, most executed instructions first, then those only\n\
         # start-up ran. Written by `make symbol-order` (webhook/benches/layout.rs); do not edit.\n",
    );
    let hot = serving.executed_in(object);
    let mut seen = std::collections::HashSet::new();
    for (name, _) in &hot {
        seen.insert(name.as_str());
        let _ = writeln!(text, "{name}");
    }
    let mut cold = 0;
    for (name, _) in start_up.executed_in(object) {
        if !seen.contains(name.as_str()) {
            cold += 1;
            let _ = writeln!(text, "{name}");
        }
    }
    (text, (hot.len(), cold))
}
