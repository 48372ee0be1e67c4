//! The manifest corpus (`tests/corpus/`) through `neo4j-webhook check`, the real binary: every
//! document gets the verdict its `# expect:` line declares, and the defaulted object holds every
//! `# expect-field:` value. The same corpus goes through the API server in the e2e suite
//! (`tests/e2e/corpus.rs`), which also asserts that both paths agree.

mod common;

#[path = "../../tests/e2e/corpus_support.rs"]
#[allow(dead_code)] // The namespace helpers serve the API-server runner only.
mod corpus_support;

use std::path::{Path, PathBuf};

use corpus_support::{Row, Token, Verdict};
use serde_json::Value;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus")
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_neo4j-webhook"))
}

/// The object `check` says the API server stores: the document with the reported patch applied.
fn stored(case: &corpus_support::Case, report: &Value) -> Result<Value, String> {
    let mut object: Value =
        serde_saphyr::from_str(&case.text).map_err(|e| format!("not YAML: {e}"))?;
    let patch: json_patch::Patch = serde_json::from_value(report["patch"].clone())
        .map_err(|e| format!("the report's patch: {e}"))?;
    json_patch::patch(&mut object, &patch).map_err(|e| format!("the patch does not apply: {e}"))?;
    Ok(object)
}

#[test]
fn every_corpus_document_gets_its_declared_verdict_from_check() {
    let corpus = corpus_support::load(&corpus_root()).unwrap_or_else(|e| panic!("corpus: {e}"));
    let scratch = common::temp_dir("corpus");
    let mut rows = Vec::new();
    // Context instances and the stored side of each UPDATE must themselves be admitted as
    // declared (the e2e runner creates them for real).
    let prerequisites = corpus
        .context
        .iter()
        .chain(corpus.cases.iter().filter_map(|c| c.old.as_deref()));
    for case in prerequisites {
        let (verdict, _) = corpus_support::run_check(&bin(), &corpus, case, &scratch);
        if let Err(problem) = corpus_support::compare(&case.expect, &verdict) {
            rows.push(Row {
                document: case.id(),
                expected: case.expect.to_string(),
                answers: vec![corpus_support::mark(&case.expect, &verdict)],
                problems: vec![format!("prerequisite: {problem}")],
            });
        }
    }
    for case in &corpus.cases {
        let (verdict, report) = corpus_support::run_check(&bin(), &corpus, case, &scratch);
        let mut problems = Vec::new();
        if let Err(p) = corpus_support::compare(&case.expect, &verdict) {
            problems.push(p);
        }
        if !case.fields.is_empty() && matches!(verdict, Verdict::Admitted(_)) {
            let fields = report
                .ok_or_else(|| "no report".to_string())
                .and_then(|r| stored(case, &r))
                .and_then(|object| case.check_fields(&object));
            if let Err(p) = fields {
                problems.push(format!("stored object: {p}"));
            }
        }
        if !problems.is_empty() {
            problems.insert(0, case.about.clone());
            rows.push(Row {
                document: case.id(),
                expected: case.expect.to_string(),
                answers: vec![corpus_support::mark(&case.expect, &verdict)],
                problems,
            });
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let total = corpus.cases.len();
    assert!(total >= 200, "the corpus shrank to {total} documents");
    assert!(
        rows.is_empty(),
        "{} of {total} corpus documents do not get their declared verdict from `check`:\n{}",
        rows.len(),
        corpus_support::table(&["check"], &rows)
    );
}

/// The API-server runner reads kubectl's output with these functions; the samples are what
/// kubectl printed against the local control plane.
#[test]
fn kubectl_answers_are_read_as_verdicts() {
    use corpus_support::kubectl_verdict;
    let denied = |tokens: &[(&str, &str)]| {
        Verdict::Denied(tokens.iter().map(|(r, p)| Token::new(r, p)).collect())
    };
    let strict = "Error from server (BadRequest): error when creating \"STDIN\": Neo4jEnterpriseCluster in version \"v1beta1\" cannot be handled as a Neo4jEnterpriseCluster: strict decoding error: unknown field \"spec.foo\", unknown field \"spec.tls.bar\"\n";
    assert_eq!(
        kubectl_verdict(false, strict),
        denied(&[
            ("unknown-field", "spec.foo"),
            ("unknown-field", "spec.tls.bar")
        ])
    );
    let schema = "The Neo4jEnterpriseCluster \"t1\" is invalid: \n* spec.topology.serverModeConstraint: Unsupported value: \"BOGUS\": supported values: \"NONE\", \"PRIMARY\", \"SECONDARY\"\n* spec.topology.servers: Invalid value: 1: spec.topology.servers in body should be greater than or equal to 2\n* <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation\n";
    assert_eq!(
        kubectl_verdict(false, schema),
        denied(&[
            ("schema-enum", "spec.topology.serverModeConstraint"),
            ("schema-range", "spec.topology.servers")
        ])
    );
    let cel = "The Neo4jEnterpriseCluster \"m\" is invalid: spec.topology: Invalid value: minSystemPrimaries must not exceed servers\n";
    assert_eq!(
        kubectl_verdict(false, cel),
        denied(&[("schema-rule", "spec.topology")])
    );
    let classes = "The Neo4jBackup \"b\" is invalid: \n* spec.storage.type: Required value\n* spec.database: Too long: may not be more than 65 bytes\n* spec.retention.maxCount: Invalid value: \"string\": spec.retention.maxCount in body must be of type integer: \"string\"\n* spec.options.pageCache: Invalid value: \"4 G\": spec.options.pageCache in body should match '^[0-9]+[KMG]?$'\n* spec.tls.usages: Too many: 33: must have at most 32 items\n* spec.topology.serverRoles[1]: Duplicate value: map[string]interface {}{\"serverIndex\":1}\n* metadata.name: Invalid value: \"My_Graph\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters\n";
    assert_eq!(
        kubectl_verdict(false, classes),
        denied(&[
            ("schema-required", "spec.storage.type"),
            ("schema-length", "spec.database"),
            ("schema-type", "spec.retention.maxCount"),
            ("schema-pattern", "spec.options.pageCache"),
            ("schema-size", "spec.tls.usages"),
            ("schema-duplicate", "spec.topology.serverRoles[1]"),
            ("metadata-name-invalid", "metadata.name"),
        ])
    );
    let webhook = "Error from server (Forbidden): error when creating \"STDIN\": admission webhook \"validate.neo4j.neo4j.com\" denied the request: license-required: spec.acceptLicenseAgreement is not set; set yes or eval\nconfig-value-control-chars: spec.config[a.b] holds a newline or carriage return\n";
    assert_eq!(
        kubectl_verdict(false, webhook),
        denied(&[
            ("license-required", "spec.acceptLicenseAgreement"),
            ("config-value-control-chars", "spec.config[a.b]")
        ])
    );
    let warned = "Warning: cluster-even-servers: spec.topology.servers is 2, an even count\nWarning: field-not-implemented: spec.security.securityPolicy: is kept, nothing acts on it\n";
    assert_eq!(
        kubectl_verdict(true, warned),
        Verdict::Admitted(vec![
            Token::new("cluster-even-servers", "spec.topology.servers"),
            Token::new("field-not-implemented", "spec.security.securityPolicy"),
        ])
    );
    assert!(matches!(
        kubectl_verdict(
            false,
            "error: error parsing STDIN: error converting YAML to JSON\n"
        ),
        Verdict::Unanswered(_)
    ));
}

#[test]
fn expectations_cover_findings_at_or_below_their_path() {
    let want = Token::new("field-not-implemented", "spec.security");
    assert!(want.covers(&Token::new(
        "field-not-implemented",
        "spec.security.securityPolicy"
    )));
    assert!(want.covers(&Token::new("field-not-implemented", "spec.security")));
    assert!(!want.covers(&Token::new("field-not-implemented", "spec.securityContext")));
    assert!(!want.covers(&Token::new("field-not-implemented", "spec")));
    let expected = corpus_support::parse_expect("warned: a-rule, b-rule@spec.x")
        .unwrap_or_else(|e| panic!("{e}"));
    let observed = Verdict::Admitted(vec![
        Token::new("a-rule", "spec.y"),
        Token::new("b-rule", "spec.x[0]"),
    ]);
    assert_eq!(corpus_support::compare(&expected, &observed), Ok(()));
    let extra = Verdict::Admitted(vec![
        Token::new("a-rule", "spec.y"),
        Token::new("b-rule", "spec.x"),
        Token::new("c-rule", "spec.z"),
    ]);
    assert!(corpus_support::compare(&expected, &extra).is_err());
    assert!(corpus_support::compare(&expected, &Verdict::Denied(vec![])).is_err());
    assert!(corpus_support::parse_expect("warned:").is_err());
    assert!(corpus_support::parse_expect("denied: Not_A_Rule").is_err());
    assert!(corpus_support::same_verdict(
        &Verdict::Denied(vec![Token::new("r", "p"), Token::new("r", "p")]),
        &Verdict::Denied(vec![Token::new("r", "p")])
    ));
}
