//! Reading a callgrind profile (`--compress-strings=no --compress-pos=no`) and splitting its
//! instruction count into the stages of an admission request.
//!
//! Every function's own instructions go to a stage chosen by its name (the crate or module it
//! belongs to: rustls and ring are TLS, hyper and h2 are HTTP, serde_json's parser and derived
//! `Deserialize` code are JSON decode, and so on). Functions that belong to no stage by name
//! (the allocator, `memcpy`, `core`/`alloc`/`std` helpers, generic serde plumbing) are charged to
//! their callers, in proportion to the instructions each caller spent in them, so an allocation
//! made while decoding counts as decoding.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::BoxError;

/// Whether `program --version` runs.
fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The runtime a callgrind bench drives the server from (one worker: the client's own
/// scheduling stays out of the way); an error that says what to install when valgrind is
/// missing.
pub fn runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    if !have("valgrind") || !have("callgrind_control") {
        return Err(
            "valgrind (with callgrind_control) is not installed: apt-get install valgrind".into(),
        );
    }
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?)
}

/// The command line that runs a program under callgrind, writing uncompressed names and
/// positions (what [`Profile::parse`] reads) to `out`, with `extra` options.
pub fn wrapper(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec!["valgrind".into(), "--tool=callgrind".into()];
    args.extend(extra.iter().map(|a| a.to_string()));
    args.push("--compress-strings=no".into());
    args.push("--compress-pos=no".into());
    args.push(format!("--callgrind-out-file={}", out.display()));
    args
}

/// Runs `callgrind_control ARGS PID` (`-z` zeroes the counters, `-d` dumps them).
pub fn control(args: &[&str], pid: u32) -> Result<(), BoxError> {
    let out = Command::new("callgrind_control")
        .args(args)
        .arg(pid.to_string())
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "callgrind_control {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

/// Dumps the counters of the callgrind process `pid` and returns the dump `file` (then removed).
pub fn dump(pid: u32, file: &Path) -> Result<String, BoxError> {
    control(&["-d"], pid)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // The dump is complete once callgrind_control returned; retry briefly in case the file
        // system is slow to show it.
        match std::fs::read_to_string(file) {
            Ok(t) if t.contains("totals:") || t.contains("summary:") => {
                let _ = std::fs::remove_file(file);
                return Ok(t);
            }
            _ if Instant::now() > deadline => {
                return Err(format!("no dump at {}", file.display()).into());
            }
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// The stages of the breakdown, in report order.
pub const STAGES: [&str; 12] = [
    "TLS (rustls, ring)",
    "HTTP (hyper, h2, axum, tower)",
    "async runtime and syscalls (tokio, mio, libc)",
    "body read (collecting the request body)",
    "JSON decode (review and typed objects)",
    "engine (defaults, rules)",
    "patch (defaults as a JSON patch)",
    "encode (response JSON)",
    "metrics (prometheus-client)",
    "logging (tracing)",
    "handler glue (admission module)",
    "other",
];

/// Instructions of one profile: each function's own cost, and what each call edge cost.
#[derive(Debug, Default)]
pub struct Profile {
    own: HashMap<String, u64>,
    /// function → the object file (`ob=`) it was executed from.
    object: HashMap<String, String>,
    /// callee → caller → instructions spent in the callee (inclusive) on behalf of the caller.
    callers: HashMap<String, HashMap<String, u64>>,
    pub total: u64,
}

impl Profile {
    /// Parses a callgrind output file written with uncompressed names and positions.
    pub fn parse(text: &str) -> Profile {
        let mut p = Profile::default();
        let mut current = String::new();
        let mut object = String::new();
        let mut callee: Option<String> = None;
        let mut call_cost_next = false;
        for line in text.lines() {
            if let Some(ob) = line.strip_prefix("ob=") {
                object = ob.to_string();
            } else if let Some(name) = line.strip_prefix("fn=") {
                current = name.to_string();
                p.object
                    .entry(current.clone())
                    .or_insert_with(|| object.clone());
                callee = None;
                call_cost_next = false;
            } else if let Some(name) = line.strip_prefix("cfn=") {
                callee = Some(name.to_string());
            } else if line.starts_with("calls=") {
                call_cost_next = true;
            } else if line
                .as_bytes()
                .first()
                .is_some_and(|b| b.is_ascii_digit() || *b == b'+' || *b == b'-' || *b == b'*')
            {
                let cost: u64 = line
                    .split_whitespace()
                    .last()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                if call_cost_next {
                    call_cost_next = false;
                    if let Some(callee) = callee.take() {
                        *p.callers
                            .entry(callee)
                            .or_default()
                            .entry(current.clone())
                            .or_default() += cost;
                    }
                } else {
                    *p.own.entry(current.clone()).or_default() += cost;
                    p.total += cost;
                }
            }
        }
        p
    }

    /// Instructions by stage (indices into [`STAGES`]).
    pub fn stages(&self) -> [u64; STAGES.len()] {
        let mut shares: HashMap<&str, [f64; STAGES.len()]> = HashMap::new();
        let mut out = [0f64; STAGES.len()];
        for (name, cost) in &self.own {
            let share = self.share(name, &mut shares, 0);
            for (o, s) in out.iter_mut().zip(share) {
                *o += s * *cost as f64;
            }
        }
        out.map(|x| x.round() as u64)
    }

    fn share<'a>(
        &'a self,
        name: &'a str,
        memo: &mut HashMap<&'a str, [f64; STAGES.len()]>,
        depth: usize,
    ) -> [f64; STAGES.len()] {
        if let Some(s) = memo.get(name) {
            return *s;
        }
        let mut share = [0f64; STAGES.len()];
        if let Some(stage) = stage_of(name) {
            share[stage] = 1.0;
        } else {
            let callers = self.callers.get(name);
            let total: u64 = callers.map_or(0, |c| c.values().sum());
            if total == 0 || depth > 64 {
                share[STAGES.len() - 1] = 1.0;
            } else {
                // Provisional entry breaks recursion cycles.
                let mut other = [0f64; STAGES.len()];
                other[STAGES.len() - 1] = 1.0;
                memo.insert(name, other);
                let mut callers: Vec<(&String, &u64)> = callers.into_iter().flatten().collect();
                callers.sort();
                for (caller, cost) in callers {
                    let s = self.share(caller, memo, depth + 1);
                    let w = *cost as f64 / total as f64;
                    for (a, b) in share.iter_mut().zip(s) {
                        *a += w * b;
                    }
                }
            }
        }
        memo.insert(name, share);
        share
    }

    /// The functions with the most own instructions charged to `stage`.
    pub fn top_of_stage(&self, stage: usize, n: usize) -> Vec<(String, u64)> {
        let mut memo = HashMap::new();
        let mut v: Vec<(String, u64)> = self
            .own
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    (self.share(k, &mut memo, 0)[stage] * *c as f64) as u64,
                )
            })
            .filter(|(_, c)| *c > 0)
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Every function executed from the object file whose name ends with `object`, with its own
    /// instructions, most first (ties by name).
    pub fn executed_in(&self, object: &str) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self
            .own
            .iter()
            .filter(|(name, _)| self.object.get(*name).is_some_and(|o| o.ends_with(object)))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// The functions with the most own instructions, for the report's appendix.
    pub fn top(&self, n: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.own.iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

/// Stage of a function by its (demangled) name; `None` = charge it to its callers.
fn stage_of(name: &str) -> Option<usize> {
    let has = |p: &str| name.contains(p);
    let starts = |p: &str| name.starts_with(p) || name.starts_with(&format!("<{p}"));
    // Our own modules first: they name the stage exactly.
    if has("neo4j_webhook::serve::metrics") || has("prometheus_client::") {
        return Some(8);
    }
    if has("neo4j_webhook::serve::body") || has("read_body") {
        return Some(3);
    }
    if has("neo4j_webhook::serve::decode") || has("neo4j_webhook::serve::review") {
        return Some(4);
    }
    if has("neo4j_webhook::serve::encode") || has("admission::encode") {
        return Some(7);
    }
    if has("json_patch::")
        || has("jsonptr::")
        || has("base64::")
        || has("engine::merge_preserving")
        || has("neo4j_shared::engine::patch")
        || has("engine::mutate_as")
    {
        return Some(6);
    }
    if has("tracing") {
        return Some(9);
    }
    if has("as serde::de::Deserialize")
        || has("as serde_core::de::Deserialize")
        || has("serde_json::de::")
        || has("serde_json::read::")
        || has("serde_path_to_error::")
        || has("as serde::de::Visitor")
        || has("as serde_core::de::Visitor")
        || has("__FieldVisitor")
        || has("serde_json::value::de")
    {
        return Some(4);
    }
    if has("neo4j_shared::") || has("regex") {
        return Some(5);
    }
    if has("neo4j_webhook::serve::admission") {
        return Some(10);
    }
    if has("rustls")
        || starts("ring::")
        || has("ring_core_")
        || name.starts_with("aes_")
        || name.starts_with("gcm_")
        || name.starts_with("GFp_")
        || has("chacha")
        || has("x25519")
        || has("sha256_block")
        || has("sha512_block")
        || has("bn_mul")
        || has("ecp_nistz256")
        || has("p256_")
        || has("p384_")
    {
        return Some(0);
    }
    if has("hyper::")
        || has("hyper_util::")
        || has("h2::")
        || has("httparse::")
        || starts("http::")
        || has("axum::")
        || has("tower::")
        || has("tower_http::")
        || has("matchit::")
        || has("axum_server::")
        || has("http_body")
    {
        return Some(1);
    }
    if has("tokio::")
        || has("mio::")
        || has("epoll")
        || name.starts_with("__libc_")
        || name == "recv"
        || name == "send"
        || name == "sendmsg"
        || name == "recvfrom"
        || name == "write"
        || name == "read"
        || name == "writev"
        || has("syscall")
        || has("futex")
        || has("clock_gettime")
        || has("pthread_")
        || has("parking_lot")
        || has("std::sys::")
        || has("std::thread")
        || has("crossbeam")
    {
        return Some(2);
    }
    None
}

/// The breakdown of one profile as `(stage, instructions per request, share)` rows.
pub fn breakdown(p: &Profile, requests: u64) -> Vec<(&'static str, f64, f64)> {
    let stages = p.stages();
    let total = p.total.max(1) as f64;
    STAGES
        .iter()
        .zip(stages)
        .map(|(name, cost)| (*name, cost as f64 / requests as f64, cost as f64 / total))
        .collect()
}
