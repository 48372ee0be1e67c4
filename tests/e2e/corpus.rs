//! The manifest corpus (`tests/corpus/`) through the API server: every document is applied with
//! `kubectl apply --dry-run=server` with the CRDs installed and the webhooks registered, and
//! through `neo4j-webhook check`. Both must give the declared verdict, and the same one.
//!
//! Clusters and standalones go to an empty namespace; the other kinds go to a namespace where
//! the context instances (`tests/corpus/context/`) exist for real, and `check` gets the same
//! instances. An UPDATE (`<name>.yaml` next to `<name>.old.yaml`) creates the stored object
//! for real, applies the new one as a dry run, then deletes the stored object.

use std::process::Output;
use std::time::Duration;

use neo4j_e2e::corpus_support::{self as corpus, Case, Row, Verdict};
use neo4j_e2e::{ControlPlane, Webhook, root, unregister, wait_for, warnings, webhook_bin};
use serde_json::{Value, json};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `kubectl apply --dry-run=server -o json` of one document: the verdict, and on admission the
/// object the API server would store.
fn dry_run(cp: &ControlPlane, case: &Case) -> (Verdict, Option<Value>) {
    let ns = corpus::namespace_for(&case.kind);
    let out = cp.kubectl_in(
        &[
            "apply",
            "--dry-run=server",
            "-n",
            ns,
            "-o",
            "json",
            "-f",
            "-",
        ],
        Some(&case.text),
    );
    let verdict = corpus::kubectl_verdict(out.status.success(), &stderr(&out));
    let stored = out
        .status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten();
    (verdict, stored)
}

/// Creates the context instances for real and waits until the webhook's cache has each (a
/// database naming it no longer draws `database-host-exists`).
fn create_context(cp: &ControlPlane, corpus: &corpus::Corpus) {
    let dir = corpus.context_dir();
    let out = cp.kubectl(&[
        "apply",
        "-n",
        corpus::REFS_NAMESPACE,
        "-f",
        &dir.to_string_lossy(),
    ]);
    assert!(out.status.success(), "context: {}", stderr(&out));
    assert!(
        warnings(&out.stderr).is_empty(),
        "context objects must draw no warning: {:?}",
        warnings(&out.stderr)
    );
    for instance in &corpus.context {
        let probe = json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jDatabase",
            "metadata": {"name": "context-probe"},
            "spec": {"clusterRef": instance.name, "name": "probe"}})
        .to_string();
        wait_for(
            &format!("the webhook's cache to hold {}", instance.name),
            Duration::from_secs(30),
            || {
                let out = cp.kubectl_in(
                    &[
                        "apply",
                        "--dry-run=server",
                        "-n",
                        corpus::REFS_NAMESPACE,
                        "-f",
                        "-",
                    ],
                    Some(&probe),
                );
                (out.status.success() && !stderr(&out).contains("database-host-exists"))
                    .then_some(())
            },
        );
    }
}

/// Creates an UPDATE's stored object for real; the error when the API server refuses it.
fn create_stored(cp: &ControlPlane, old: &Case) -> Result<(), String> {
    let ns = corpus::namespace_for(&old.kind);
    let out = cp.kubectl_in(&["apply", "-n", ns, "-f", "-"], Some(&old.text));
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "the stored object was refused: {}",
            stderr(&out).trim()
        ))
    }
}

fn delete_stored(cp: &ControlPlane, old: &Case) {
    let ns = corpus::namespace_for(&old.kind);
    let out = cp.kubectl_in(
        &[
            "delete",
            "-n",
            ns,
            "--wait=true",
            "--ignore-not-found",
            "-f",
            "-",
        ],
        Some(&old.text),
    );
    assert!(
        out.status.success(),
        "delete {}: {}",
        old.id(),
        stderr(&out)
    );
}

/// Removes the webhook configurations when dropped, also when the test fails.
struct Registration<'a>(&'a ControlPlane);

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        unregister(self.0);
    }
}

#[test]
fn every_corpus_document_gets_the_same_declared_verdict_from_the_api_server_and_check() {
    let cp = ControlPlane::from_env();
    cp.install_crds();
    let webhook = Webhook::start(&cp, "corpus");
    webhook.register(&cp);
    // Dropped before `webhook`: the configurations go while it still answers, so the suites
    // that run next on this control plane (the controller's) find no webhook failing closed.
    let _registered = Registration(&cp);
    for ns in [corpus::INSTANCE_NAMESPACE, corpus::REFS_NAMESPACE] {
        cp.create_namespace(ns);
    }
    let corpus = corpus::load(&root().join("tests/corpus")).unwrap_or_else(|e| panic!("{e}"));
    create_context(&cp, &corpus);
    let scratch = cp.state_dir.join("corpus-check");
    std::fs::create_dir_all(&scratch).unwrap_or_else(|e| panic!("{}: {e}", scratch.display()));

    let mut rows = Vec::new();
    let (mut agree, mut api_ok, mut check_ok) = (0, 0, 0);
    for case in &corpus.cases {
        let mut problems = Vec::new();
        if let Some(old) = &case.old
            && let Err(e) = create_stored(&cp, old)
        {
            problems.push(e);
        }
        let (api, stored) = dry_run(&cp, case);
        if let Some(old) = &case.old {
            delete_stored(&cp, old);
        }
        let (check, _) = corpus::run_check(&webhook_bin(), &corpus, case, &scratch);
        match corpus::compare(&case.expect, &api) {
            Ok(()) => api_ok += 1,
            Err(p) => problems.push(format!("API server: {p}")),
        }
        match corpus::compare(&case.expect, &check) {
            Ok(()) => check_ok += 1,
            Err(p) => problems.push(format!("check: {p}")),
        }
        if corpus::same_verdict(&api, &check) {
            agree += 1;
        } else {
            problems.push("check and the API server disagree".to_string());
        }
        if let Some(object) = &stored
            && let Err(p) = case.check_fields(object)
        {
            problems.push(format!("stored object: {p}"));
        }
        if !problems.is_empty() {
            problems.insert(0, case.about.clone());
            rows.push(Row {
                document: case.id(),
                expected: case.expect.to_string(),
                answers: vec![
                    corpus::mark(&case.expect, &check),
                    corpus::mark(&case.expect, &api),
                ],
                problems,
            });
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let total = corpus.cases.len();
    println!(
        "corpus: {total} documents; declared verdict from the API server {api_ok}, from check \
         {check_ok}; both paths agree on {agree}"
    );
    assert!(
        rows.is_empty(),
        "{} of {total} corpus documents do not match (API server {api_ok}/{total}, check \
         {check_ok}/{total}, agreeing {agree}/{total}):\n{}",
        rows.len(),
        corpus::table(&["check", "API server"], &rows)
    );
}
