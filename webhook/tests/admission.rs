//! The admission router called in-process: verdicts per kind, the patch, the response envelope,
//! and every kind of hostile input with its precise status and counted reason.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::routing::post;
use base64::Engine as _;
use common::*;
use futures_util::StreamExt;
use neo4j_shared::engine;
use neo4j_shared::inventory::NoInventory;
use neo4j_shared::types::{Kind, Operation};
use neo4j_webhook::serve::admission::{self, AppState};
use neo4j_webhook::serve::config::Limits;
use serde_json::{Value, json};

fn decoded_patch(response: &Value) -> Option<Value> {
    let patch = response.get("patch")?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch)
        .expect("patch is base64");
    Some(serde_json::from_slice(&bytes).expect("patch is JSON"))
}

/// Applies the response's patch to `object` (or nothing when there is no patch).
fn patched(object: &Value, response: &Value) -> Value {
    let mut out = object.clone();
    if let Some(patch) = decoded_patch(response) {
        let patch: json_patch::Patch = serde_json::from_value(patch).expect("RFC 6902 patch");
        json_patch::patch(&mut out, &patch).expect("patch applies");
    }
    out
}

/// Asserts that a metrics line starts with `line` (all metrics in the message otherwise).
fn assert_counted(state: &Arc<AppState>, line: &str) {
    assert!(
        metric_line(state, line).is_some(),
        "{line} missing:\n{}",
        state.metrics.encode()
    );
}

fn metric_line(state: &Arc<AppState>, prefix: &str) -> Option<String> {
    state
        .metrics
        .encode()
        .lines()
        .find(|l| l.starts_with(prefix))
        .map(str::to_string)
}

#[tokio::test]
async fn mutate_returns_the_engines_defaults_as_a_patch_for_every_kind() {
    for kind in Kind::ALL {
        let state = state();
        let object = object(kind, "graph", json!({}));
        let answer = post_json(&state, "/mutate", &review("uid-1", "CREATE", &object, None)).await;
        let response = answer.response();
        let expected = engine::mutate(kind, &object).expect("the fixture decodes");
        assert_eq!(response["allowed"], true, "{kind}");
        assert_eq!(response["uid"], "uid-1");
        if expected.patch.0.is_empty() {
            assert!(
                response.get("patch").is_none() && response.get("patchType").is_none(),
                "{kind}: {response}"
            );
        } else {
            assert_eq!(response["patchType"], "JSONPatch", "{kind}");
            assert_eq!(
                decoded_patch(&response),
                Some(serde_json::to_value(&expected.patch).expect("patch")),
                "{kind}"
            );
            let line = format!(
                "neo4j_admission_patches_total{{kind=\"{}\"}} 1",
                kind.name()
            );
            assert_eq!(
                metric_line(&state, &line).as_deref(),
                Some(line.as_str()),
                "{kind}"
            );
        }
        // The result of the patch is exactly what the engine stores.
        assert_eq!(patched(&object, &response), expected.defaulted, "{kind}");
        // Rule warnings are the validating webhook's job.
        assert!(response.get("warnings").is_none(), "{kind}: {response}");
    }
}

#[tokio::test]
async fn mutate_patches_a_cluster_with_its_defaults() {
    let object = object(Kind::Cluster, "graph", json!({}));
    let response = admit(&state(), "/mutate", "u", "CREATE", &object, None).await;
    let defaulted = patched(&object, &response);
    assert_ne!(defaulted, object, "a bare cluster gets defaults");
    assert_eq!(
        defaulted["spec"]["topology"]["serverModeConstraint"],
        "NONE"
    );
    assert_eq!(
        defaulted["spec"]["acceptLicenseAgreement"], "yes",
        "nothing the user wrote is changed"
    );
}

#[tokio::test]
async fn managed_fields_are_not_read_and_the_patch_still_fits_the_whole_object() {
    let mut object = object(Kind::Cluster, "graph", json!({}));
    object["metadata"]["managedFields"] = json!([{
        "manager": "kubectl-client-side-apply",
        "operation": "Update",
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:topology": {"f:servers": {}}}},
    }]);
    let old = object.clone();
    for op in ["CREATE", "UPDATE"] {
        let review = review("uid-mf", op, &object, Some(&old));
        let response = post_json(&state(), "/mutate", &review).await.response();
        let expected = engine::mutate(Kind::Cluster, &object).expect("decodes");
        assert_eq!(patched(&object, &response), expected.defaulted, "{op}");
        let response = post_json(&state(), "/validate", &review).await.response();
        assert_eq!(response["allowed"], true, "{op}: {response}");
    }
    // Not even their shape: the API server owns managedFields and never sends broken ones.
    object["metadata"]["managedFields"] = json!(false);
    let review = review("uid-mf", "CREATE", &object, None);
    let response = post_json(&state(), "/validate", &review).await.response();
    assert_eq!(response["allowed"], true, "{response}");
    let response = post_json(&state(), "/mutate", &review).await.response();
    assert!(
        response.get("patch").is_some() && response.get("warnings").is_none(),
        "{response}"
    );
}

#[tokio::test]
async fn validate_allows_a_valid_object_of_every_kind() {
    for kind in Kind::ALL {
        let object = object(kind, "graph", json!({}));
        let response = admit(&state(), "/validate", "uid-ok", "CREATE", &object, None).await;
        assert_eq!(response["allowed"], true, "{kind}: {response}");
        assert!(response.get("status").is_none(), "{kind}: {response}");
        assert!(
            response.get("patch").is_none(),
            "{kind}: validate never patches"
        );
    }
}

/// (kind, spec overrides, rule ids that must be among the errors, status code)
fn denied_cases() -> Vec<(Kind, Value, Vec<&'static str>, u16)> {
    vec![
        (
            Kind::Cluster,
            json!({"topology": {"servers": 1}}),
            vec!["cluster-min-servers"],
            403,
        ),
        (
            Kind::Cluster,
            json!({"acceptLicenseAgreement": null}),
            vec!["license-required"],
            403,
        ),
        (
            Kind::Cluster,
            json!({"acceptLicenseAgreement": null, "topology": {"servers": 1}}),
            vec!["license-required", "cluster-min-servers"],
            403,
        ),
        (
            Kind::Standalone,
            json!({"acceptLicenseAgreement": null}),
            vec!["license-required"],
            403,
        ),
        (
            Kind::Backup,
            json!({"instanceRef": null}),
            vec!["backup-instance-ref-required"],
            403,
        ),
        (
            Kind::Restore,
            json!({"database": "system"}),
            vec!["restore-database-system"],
            403,
        ),
        (
            Kind::Database,
            json!({"name": "system"}),
            vec!["database-name-system"],
            403,
        ),
        (
            Kind::Plugin,
            json!({"installMode": "VerifiedDownload", "source": {"type": "url", "url": "https://example.org/p.jar"}}),
            vec!["plugin-verified-checksum"],
            403,
        ),
        // A value of the wrong type cannot be decoded: 422, named by its path.
        (
            Kind::Cluster,
            json!({"topology": {"servers": "three"}}),
            vec!["object-decode"],
            422,
        ),
    ]
}

#[tokio::test]
async fn validate_denies_with_every_violated_rule_and_its_code() {
    for (kind, overrides, rules, code) in denied_cases() {
        let state = state();
        let object = object(kind, "graph", overrides.clone());
        let response = admit(&state, "/validate", "uid-deny", "CREATE", &object, None).await;
        assert_eq!(response["allowed"], false, "{kind} {overrides}: {response}");
        assert_eq!(response["uid"], "uid-deny");
        assert_eq!(response["status"]["code"], code, "{kind} {overrides}");
        assert_eq!(
            response["status"]["reason"],
            if code == 403 { "Forbidden" } else { "Invalid" }
        );
        assert_rules_among(
            &denial_rules(&response),
            &rules,
            &format!("{kind} {overrides}"),
        );
        // The message is the engine's, line for line.
        let decision = engine::validate(kind, Operation::Create, None, &object, &NoInventory);
        assert_eq!(response["status"]["message"], decision.message(), "{kind}");
        let result = if code == 422 { "error" } else { "denied" };
        let counted = format!(
            "neo4j_admission_requests_total{{webhook=\"validate\",kind=\"{}\",operation=\"CREATE\",result=\"{result}\"}} 1",
            kind.name()
        );
        assert_counted(&state, &counted);
        let denial = format!(
            "neo4j_admission_denials_total{{kind=\"{}\",rule=\"{}\"}} 1",
            kind.name(),
            rules[0]
        );
        assert_counted(&state, &denial);
    }
}

/// (kind, spec overrides, rule ids that must be among the warnings)
fn warned_cases() -> Vec<(Kind, Value, Vec<&'static str>)> {
    vec![
        (
            Kind::Cluster,
            json!({"topology": {"servers": 2}}),
            vec!["cluster-even-servers", "cluster-two-servers"],
        ),
        (
            Kind::Standalone,
            json!({"mcp": {"enabled": true}}),
            vec!["field-not-implemented"],
        ),
        (
            Kind::Backup,
            json!({"options": {"validate": true}}),
            vec!["field-not-implemented"],
        ),
        (
            Kind::Restore,
            json!({"options": {"tempStorage": {"size": "5Gi"}}}),
            vec!["field-not-implemented"],
        ),
        (
            Kind::Database,
            json!({"initialData": {"source": "cypher"}}),
            vec!["field-not-implemented"],
        ),
        (
            Kind::Plugin,
            json!({"resources": {"memoryLimit": "1Gi"}}),
            vec!["field-not-implemented"],
        ),
    ]
}

#[tokio::test]
async fn validate_allows_with_warnings_prefixed_by_rule_id() {
    for (kind, overrides, rules) in warned_cases() {
        let state = state();
        let object = object(kind, "graph", overrides.clone());
        let response = admit(&state, "/validate", "uid-warn", "CREATE", &object, None).await;
        assert_eq!(response["allowed"], true, "{kind} {overrides}: {response}");
        assert_rules_among(
            &warning_rules(&response),
            &rules,
            &format!("{kind} {overrides}"),
        );
        for rule in &rules {
            let counted = format!(
                "neo4j_admission_warnings_total{{kind=\"{}\",rule=\"{rule}\"}}",
                kind.name()
            );
            assert!(metric_line(&state, &counted).is_some(), "{counted} missing");
        }
        for w in response["warnings"].as_array().expect("warnings") {
            let w = w.as_str().expect("string");
            assert!(
                !w.contains('\n') && w.chars().count() <= 200,
                "one short line: {w:?}"
            );
        }
        // The same warnings, in the same order, as the engine's.
        let decision = engine::validate(kind, Operation::Create, None, &object, &NoInventory);
        let expected: Vec<String> = decision
            .warnings
            .iter()
            .map(admission::warning_line)
            .collect();
        assert_eq!(response["warnings"], json!(expected), "{kind}");
    }
}

#[tokio::test]
async fn update_is_judged_against_the_old_object() {
    let old = object(Kind::Cluster, "graph", json!({"storage": {"size": "20Gi"}}));
    let new = object(Kind::Cluster, "graph", json!({"storage": {"size": "10Gi"}}));
    let response = admit(&state(), "/validate", "uid-up", "UPDATE", &new, Some(&old)).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        denial_rules(&response).contains(&"storage-size-no-shrink".to_string()),
        "{response}"
    );
    // The same object as a CREATE has nothing to compare with.
    let response = admit(&state(), "/validate", "uid-up", "CREATE", &new, None).await;
    assert_eq!(response["allowed"], true, "{response}");
}

#[tokio::test]
async fn the_response_uid_is_the_requests() {
    for uid in [
        "705ab4f5-6393-11e8-b7cc-42010a800002",
        "x",
        "ü-ñ-☃",
        &"u".repeat(500),
    ] {
        for path in ["/mutate", "/validate"] {
            let object = object(Kind::Cluster, "graph", json!({"topology": {"servers": 1}}));
            let response = admit(&state(), path, uid, "CREATE", &object, None).await;
            assert_eq!(response["uid"], uid, "{path}");
        }
    }
}

#[tokio::test]
async fn the_envelope_is_an_admission_v1_review() {
    let object = object(Kind::Cluster, "graph", json!({}));
    let answer = post_json(&state(), "/mutate", &review("u", "CREATE", &object, None)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type, "application/json");
    let review = answer.json();
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(review["kind"], "AdmissionReview");
}

#[tokio::test]
async fn dry_run_gets_exactly_the_same_answer() {
    for (kind, overrides, _, _) in denied_cases() {
        let object = object(kind, "graph", overrides);
        for path in ["/mutate", "/validate"] {
            let real = review("uid-dry", "CREATE", &object, None);
            let mut dry = real.clone();
            dry["request"]["dryRun"] = json!(true);
            let a = post_json(&state(), path, &real).await;
            let b = post_json(&state(), path, &dry).await;
            assert_eq!((a.status, a.body), (b.status, b.body), "{kind} {path}");
        }
    }
}

#[tokio::test]
async fn delete_and_connect_are_allowed_without_checks() {
    // An object every rule would refuse.
    let bad = object(
        Kind::Cluster,
        "graph",
        json!({"acceptLicenseAgreement": null, "topology": {"servers": 1}}),
    );
    for op in ["DELETE", "CONNECT"] {
        for path in ["/mutate", "/validate"] {
            let response = admit(&state(), path, "uid-del", op, &bad, Some(&bad)).await;
            assert_eq!(
                response,
                json!({"uid": "uid-del", "allowed": true}),
                "{op} {path}"
            );
        }
    }
}

#[tokio::test]
async fn unknown_kinds_are_allowed_unchanged_and_counted() {
    let state = state();
    let mut user = object(Kind::Cluster, "alice", json!({}));
    user["kind"] = json!("Neo4jUser");
    let mut review = review("uid-unknown", "CREATE", &user, None);
    for path in ["/mutate", "/validate"] {
        let response = post_json(&state, path, &review).await.response();
        assert_eq!(
            response,
            json!({"uid": "uid-unknown", "allowed": true}),
            "{path}"
        );
    }
    // One of our kind names in another group is not ours either.
    review["request"]["kind"] =
        json!({"group": "example.com", "version": "v1", "kind": "Neo4jEnterpriseCluster"});
    let response = post_json(&state, "/validate", &review).await.response();
    assert_eq!(response["allowed"], true);
    assert!(response.get("status").is_none());
    let text = state.metrics.encode();
    assert!(
        text.contains("neo4j_admission_requests_total{webhook=\"validate\",kind=\"unknown\",operation=\"CREATE\",result=\"allowed\"} 2"),
        "{text}"
    );
}

#[tokio::test]
async fn an_undecodable_object_is_admitted_by_mutate_without_defaults_and_warned() {
    let state = state();
    let object = object(
        Kind::Cluster,
        "graph",
        json!({"topology": {"servers": "three"}}),
    );
    let response = admit(&state, "/mutate", "uid-bad", "CREATE", &object, None).await;
    assert_eq!(response["allowed"], true);
    assert!(response.get("patch").is_none());
    let warnings = response["warnings"].as_array().expect("one warning");
    assert_eq!(warnings.len(), 1);
    let w = warnings[0].as_str().expect("string");
    assert!(
        w.starts_with("object-decode: spec.topology.servers: ")
            && w.ends_with("; no defaults applied"),
        "{w}"
    );
    assert!(state.metrics.encode().contains("result=\"error\"} 1"));
}

/// (what, content type, body, status, reason label)
type HostileCase = (
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    u16,
    &'static str,
);

fn hostile_cases() -> Vec<HostileCase> {
    let good = review(
        "u",
        "CREATE",
        &object(Kind::Cluster, "graph", json!({})),
        None,
    );
    let with = |f: &dyn Fn(&mut Value)| {
        let mut r = good.clone();
        f(&mut r);
        r.to_string().into_bytes()
    };
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let deep_in_object = {
        let nested = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
        good.to_string()
            .replacen("\"spec\":{", &format!("\"spec\":{{\"deep\":{nested},"), 1)
            .into_bytes()
    };
    vec![
        (
            "no content type",
            None,
            good.to_string().into_bytes(),
            415,
            "content-type",
        ),
        (
            "text/plain",
            Some("text/plain"),
            good.to_string().into_bytes(),
            415,
            "content-type",
        ),
        (
            "latin1 charset",
            Some("application/json; charset=latin1"),
            good.to_string().into_bytes(),
            415,
            "content-type",
        ),
        (
            "empty body",
            Some("application/json"),
            vec![],
            400,
            "empty-body",
        ),
        (
            "whitespace body",
            Some("application/json"),
            b"  \n ".to_vec(),
            400,
            "empty-body",
        ),
        (
            "not JSON",
            Some("application/json"),
            b"hello".to_vec(),
            400,
            "not-json",
        ),
        (
            "truncated JSON",
            Some("application/json"),
            good.to_string().as_bytes()[..100].to_vec(),
            400,
            "not-json",
        ),
        (
            "binary",
            Some("application/json"),
            vec![0xff, 0x00, 0x13, 0x37],
            400,
            "not-json",
        ),
        (
            "deeply nested",
            Some("application/json"),
            deep,
            400,
            "json-too-deep",
        ),
        (
            "deeply nested object",
            Some("application/json"),
            deep_in_object,
            400,
            "json-too-deep",
        ),
        (
            "JSON array",
            Some("application/json"),
            b"[]".to_vec(),
            400,
            "not-an-object",
        ),
        (
            "JSON string",
            Some("application/json"),
            b"\"AdmissionReview\"".to_vec(),
            400,
            "not-an-object",
        ),
        (
            "v1beta1 review",
            Some("application/json"),
            with(&|r| r["apiVersion"] = json!("admission.k8s.io/v1beta1")),
            400,
            "review-api-version",
        ),
        (
            "no apiVersion",
            Some("application/json"),
            with(&|r| r["apiVersion"] = Value::Null),
            400,
            "review-api-version",
        ),
        (
            "wrong kind",
            Some("application/json"),
            with(&|r| r["kind"] = json!("Pod")),
            400,
            "review-kind",
        ),
        (
            "missing request",
            Some("application/json"),
            with(&|r| r["request"] = Value::Null),
            400,
            "missing-request",
        ),
        (
            "request not an object",
            Some("application/json"),
            with(&|r| r["request"] = json!([1])),
            400,
            "request-shape",
        ),
        (
            "missing uid",
            Some("application/json"),
            with(&|r| r["request"]["uid"] = Value::Null),
            400,
            "missing-uid",
        ),
        (
            "empty uid",
            Some("application/json"),
            with(&|r| r["request"]["uid"] = json!("")),
            400,
            "missing-uid",
        ),
        (
            "numeric uid",
            Some("application/json"),
            with(&|r| r["request"]["uid"] = json!(7)),
            400,
            "missing-uid",
        ),
        (
            "bad operation",
            Some("application/json"),
            with(&|r| r["request"]["operation"] = json!("PATCH")),
            400,
            "request-shape",
        ),
        (
            "no request kind",
            Some("application/json"),
            with(&|r| r["request"]["kind"] = Value::Null),
            400,
            "request-shape",
        ),
        (
            "object not an object",
            Some("application/json"),
            with(&|r| r["request"]["object"] = json!("x")),
            400,
            "request-shape",
        ),
        (
            "object missing",
            Some("application/json"),
            with(&|r| r["request"]["object"] = Value::Null),
            400,
            "request-shape",
        ),
        (
            "old object not an object",
            Some("application/json"),
            with(&|r| {
                r["request"]["operation"] = json!("UPDATE");
                r["request"]["oldObject"] = json!(5);
            }),
            400,
            "request-shape",
        ),
    ]
}

#[tokio::test]
async fn hostile_input_gets_a_precise_4xx_and_is_counted_by_reason() {
    for (what, content_type, body, status, reason) in hostile_cases() {
        for path in ["/mutate", "/validate"] {
            let state = state();
            let answer = call(
                admission::router(state.clone()),
                "POST",
                path,
                content_type,
                Body::from(body.clone()),
            )
            .await;
            assert_eq!(
                answer.status.as_u16(),
                status,
                "{what} {path}: {}",
                answer.text()
            );
            let text = answer.text();
            assert!(
                text.starts_with(&format!("{reason}: ")) && text.ends_with('\n'),
                "{what}: {text:?}"
            );
            assert_eq!(text.lines().count(), 1, "{what}: one line");
            let counted = format!("neo4j_admission_bad_requests_total{{reason=\"{reason}\"}} 1");
            assert!(
                metric_line(&state, &counted).is_some(),
                "{what}: {counted} missing\n{}",
                state.metrics.encode()
            );
            // The same through the function the fuzz target drives.
            let reply = admission::admit(
                &state,
                admission::Webhook::Validate,
                content_type.map(str::as_bytes),
                &body,
            );
            assert_eq!(reply.status.as_u16(), status, "{what} via admit");
        }
    }
}

#[tokio::test]
async fn wrong_paths_and_methods_are_counted_4xx() {
    let state = state();
    let a = call(
        admission::router(state.clone()),
        "POST",
        "/admit",
        Some("application/json"),
        Body::empty(),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let b = call(
        admission::router(state.clone()),
        "GET",
        "/validate",
        None,
        Body::empty(),
    )
    .await;
    assert_eq!(b.status, StatusCode::METHOD_NOT_ALLOWED);
    let text = state.metrics.encode();
    assert!(
        text.contains("reason=\"not-found\"} 1")
            && text.contains("reason=\"method-not-allowed\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn bodies_over_8_mib_get_413() {
    let big = vec![b' '; 8 * 1024 * 1024 + 1];
    // Announced by Content-Length: refused before reading.
    let state = state();
    let answer = call(
        admission::router(state.clone()),
        "POST",
        "/validate",
        Some("application/json"),
        Body::from(big.clone()),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.text()
    );
    // Streamed without a length: refused once the limit is crossed.
    let chunks = big
        .chunks(64 * 1024)
        .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
        .collect::<Vec<_>>();
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let answer = call(
        admission::router(state.clone()),
        "POST",
        "/validate",
        Some("application/json"),
        body,
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.text()
    );
    assert!(
        state
            .metrics
            .encode()
            .contains("reason=\"body-too-large\"} 2")
    );
}

/// `body` to `path` in pieces of `piece` bytes, with or without its length announced.
async fn post_in_pieces(path: &str, body: &[u8], piece: usize, announce: bool) -> Answer {
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(piece).map(|c| Ok(c.to_vec())).collect();
    let mut request = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    if announce {
        request = request.header("content-length", body.len());
    }
    let request = request
        .body(Body::from_stream(futures_util::stream::iter(pieces)))
        .expect("request");
    send(admission::router(state()), request).await
}

#[tokio::test]
async fn a_body_in_pieces_gets_the_answer_it_gets_in_one() {
    // The recorded 18 KB cluster UPDATE (managed fields, last-applied annotation), and the same
    // padded past the size decoded inline (256 KiB) with whitespace after the JSON.
    let recorded = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("benches/fixtures/cluster-update-review.json"),
    )
    .expect("fixture");
    let mut padded = recorded.clone();
    padded.resize(recorded.len() + 300 * 1024, b' ');
    for body in [&recorded, &padded] {
        for path in ["/mutate", "/validate"] {
            let whole = post_in_pieces(path, body, body.len(), true).await;
            assert_eq!(whole.status, StatusCode::OK, "{}", whole.text());
            assert!(
                whole.json()["response"]["uid"].is_string(),
                "{}",
                whole.text()
            );
            for piece in [1, 7, 1000, 16 * 1024] {
                for announce in [true, false] {
                    let answer = post_in_pieces(path, body, piece, announce).await;
                    assert_eq!(
                        (answer.status, answer.text()),
                        (whole.status, whole.text()),
                        "{path}, {} bytes in pieces of {piece}, length announced: {announce}",
                        body.len()
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408() {
    let limits = Limits {
        body_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let state = state_with(Arc::new(NoInventory), limits);
    let stalled =
        futures_util::stream::once(async { Ok::<_, std::io::Error>(b"{\"apiVersion\":".to_vec()) })
            .chain(futures_util::stream::pending());
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        call(
            admission::router(state.clone()),
            "POST",
            "/validate",
            Some("application/json"),
            Body::from_stream(stalled),
        ),
    )
    .await
    .expect("the webhook does not hang");
    assert_eq!(
        answer.status,
        StatusCode::REQUEST_TIMEOUT,
        "{}",
        answer.text()
    );
    assert!(answer.text().starts_with("body-timeout: "));
    assert!(
        state
            .metrics
            .encode()
            .contains("reason=\"body-timeout\"} 1")
    );
}

#[tokio::test]
async fn a_panicking_handler_is_caught_as_a_counted_500() {
    let state = state();
    // The real routes never panic on purpose; a test route behind the same guard proves it works.
    let routes: Router<Arc<AppState>> = Router::new().route(
        "/boom",
        post(|| async {
            if true {
                panic!("a bug in a handler");
            }
            "unreachable"
        }),
    );
    let router = admission::harden(routes, state.clone());
    let answer = call(
        router,
        "POST",
        "/boom",
        Some("application/json"),
        Body::empty(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(answer.text().starts_with("internal-error: "));
    assert!(
        state
            .metrics
            .encode()
            .contains("neo4j_admission_panics_total 1")
    );
}

#[tokio::test]
async fn every_request_is_timed_per_webhook() {
    let state = state();
    let object = object(Kind::Cluster, "graph", json!({}));
    post_json(&state, "/mutate", &review("u", "CREATE", &object, None)).await;
    post_json(&state, "/validate", &review("u", "CREATE", &object, None)).await;
    post_json(&state, "/validate", &json!({})).await;
    let text = state.metrics.encode();
    assert!(
        text.contains("neo4j_admission_request_duration_seconds_count{webhook=\"mutate\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("neo4j_admission_request_duration_seconds_count{webhook=\"validate\"} 2"),
        "{text}"
    );
}

#[tokio::test]
async fn the_decision_is_timed_once_the_body_has_arrived() {
    let state = state_with(
        Arc::new(NoInventory),
        Limits {
            max_body_bytes: 64,
            ..Limits::default()
        },
    );
    let object = object(Kind::Cluster, "graph", json!({}));
    // Over the size limit: refused before it is read, so there is no decision to time.
    let refused = post_json(&state, "/validate", &review("u", "CREATE", &object, None)).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Read in full, then refused as not a review: decided, and timed.
    let bad = post_json(&state, "/validate", &json!({})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let text = state.metrics.encode();
    assert!(
        text.contains("neo4j_admission_request_duration_seconds_count{webhook=\"validate\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("neo4j_admission_decision_duration_seconds_count{webhook=\"validate\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("neo4j_admission_decision_duration_seconds_count{webhook=\"mutate\"} 0"),
        "{text}"
    );
}

#[tokio::test]
async fn cross_object_checks_read_the_inventory() {
    // With a view of the cluster the check runs instead of being skipped.
    let mut inventory = neo4j_shared::inventory::MapInventory::default();
    inventory.insert_object(&object(Kind::Cluster, "graph", json!({})));
    let with_cache = state_with(Arc::new(inventory), Limits::default());
    let database = object(Kind::Database, "sales", json!({}));
    let blind = admit(&state(), "/validate", "u", "CREATE", &database, None).await;
    let seeing = admit(&with_cache, "/validate", "u", "CREATE", &database, None).await;
    assert!(
        warning_rules(&blind).contains(&"cross-check-skipped".to_string()),
        "{blind}"
    );
    assert!(
        !warning_rules(&seeing).contains(&"cross-check-skipped".to_string()),
        "{seeing}"
    );
}
