//! `neo4j-webhook rules` as a user runs it, and `docs/rules.md`, which is its markdown output:
//! run `make rules-doc` after changing the rule catalogue.

use std::process::{Command, Output};

fn rules(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neo4j-webhook"))
        .arg("rules")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run neo4j-webhook: {e}"))
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn committed_rules_doc_matches_the_catalogue() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = stdout(&rules(&["--output", "markdown"]));
    assert!(
        committed == generated,
        "{} is out of date: run `make rules-doc`",
        path.display()
    );
}

#[test]
fn every_format_prints_every_rule() {
    let ids: Vec<&str> = neo4j_shared::catalog::all().map(|(_, r)| r.id).collect();
    let json = stdout(&rules(&["--output", "json"]));
    let from_json: Vec<String> = json
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert!(v["fields"].as_array().is_some_and(|f| !f.is_empty()), "{l}");
            v["id"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(from_json, ids);
    // Text is the default.
    let text = stdout(&rules(&[]));
    assert_eq!(text, stdout(&rules(&["--output", "text"])));
    assert!(text.contains("cluster-min-servers  error  Neo4jEnterpriseCluster  [create, update]"));
    assert!(text.contains("object-decode  error or warning  all  [admission]"));
}

#[test]
fn help_names_the_formats_and_a_bad_format_is_refused() {
    let help = stdout(&rules(&["--help"]));
    for word in ["text", "json", "markdown", "--output"] {
        assert!(help.contains(word), "{help}");
    }
    let bad = rules(&["--output", "yaml"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("yaml"));
}
