//! Fuzzing the decode-and-admit path (`admission::admit`, everything between the socket and the
//! response) with proptest: arbitrary bytes, arbitrary JSON, and AdmissionReview-shaped JSON
//! around randomly damaged objects of every kind. It must never panic and always answer 200 with
//! a well-formed review or a one-line 4xx; and the fast way through a review (straight into
//! typed objects) must answer exactly what the exact way (through a `serde_json::Value`) does.
//!
//! Long run: `PROPTEST_CASES=100000 cargo test -p neo4j-webhook --release --test fuzz`
//! (`make fuzz`); each of the three properties runs that many cases.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine as _;
use common::*;
use neo4j_shared::engine;
use neo4j_shared::types::Kind;
use neo4j_webhook::serve::admission::{AppState, Webhook, admit, admit_exact};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        Just(json!(2)),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        ".{0,24}".prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "yes",
            "eval",
            "system",
            "neo4j",
            "10Gi",
            "5.26.0",
            "NONE",
            "VerifiedDownload",
            "https://x/y.jar"
        ])
        .prop_map(Value::from),
    ]
}

/// Keys from the vocabulary of our objects, so random objects hit real fields often.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "spec", "topology", "servers", "image", "repo", "tag", "storage", "size", "acceptLicenseAgreement",
            "config", "resources", "limits", "memory", "tls", "mode", "auth", "name", "clusterRef", "instanceRef",
            "database", "source", "type", "installMode", "checksum", "version", "mcp", "enabled", "metadata",
            "namespace", "kind", "apiVersion", "serverRoles", "serverIndex", "modeConstraint", "retention", "managedFields", "oldObject", "object", "request",
        ])
        .prop_map(str::to_string),
        1 => ".{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(Kind::ALL.to_vec())
}

/// Paths that exist in our objects, so that edits change what the rules read.
fn real_path() -> impl Strategy<Value = Vec<String>> {
    let paths: Vec<&'static [&'static str]> = vec![
        &["spec", "topology", "servers"],
        &["spec", "topology", "minSystemPrimaries"],
        &["spec", "acceptLicenseAgreement"],
        &["spec", "image", "tag"],
        &["spec", "image", "repo"],
        &["spec", "storage", "size"],
        &["spec", "storage", "type"],
        &["spec", "config"],
        &["spec", "resources", "limits", "memory"],
        &["spec", "tls", "mode"],
        &["spec", "mcp", "enabled"],
        &["spec", "name"],
        &["spec", "database"],
        &["spec", "instanceRef"],
        &["spec", "clusterRef"],
        &["spec", "installMode"],
        &["spec", "source", "type"],
        &["spec", "version"],
        &["metadata", "name"],
        &["metadata", "managedFields"],
        &["apiVersion"],
        &["spec"],
    ];
    prop::sample::select(paths).prop_map(|p| p.iter().map(|s| s.to_string()).collect())
}

/// A valid object of a random kind with some fields replaced by random values.
fn damaged_object() -> impl Strategy<Value = Value> {
    let path = prop_oneof![3 => real_path(), 1 => prop::collection::vec(key(), 1..4)];
    let edits = prop::collection::vec((path, json_value()), 0..3);
    (kind(), edits).prop_map(|(kind, edits)| {
        let mut object = object(kind, "graph", json!({}));
        for (path, value) in edits {
            set_path(&mut object, &path, value);
        }
        object
    })
}

fn set_path(target: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *target = value;
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(map) = target {
        set_path(map.entry(first.clone()).or_insert(Value::Null), rest, value);
    }
}

fn uid() -> impl Strategy<Value = Value> {
    prop_oneof![20 => "[a-f0-9-]{1,36}".prop_map(Value::from), 1 => json_leaf()]
}

fn operation() -> impl Strategy<Value = Value> {
    prop_oneof![20 => prop::sample::select(vec!["CREATE", "UPDATE", "DELETE", "CONNECT"]).prop_map(Value::from), 1 => json_leaf()]
}

/// AdmissionReview-shaped JSON: mostly well-formed, sometimes with a damaged envelope.
fn review_json() -> impl Strategy<Value = Value> {
    (
        uid(),
        operation(),
        damaged_object(),
        prop::option::of(damaged_object()),
        any::<bool>(),
        0u8..24,
        json_value(),
    )
        .prop_map(|(uid, op, object, old, dry_run, damage, junk)| {
            let mut r = review("placeholder", "CREATE", &object, old.as_ref());
            r["request"]["uid"] = uid;
            r["request"]["operation"] = op;
            r["request"]["dryRun"] = json!(dry_run);
            match damage {
                0 => r["apiVersion"] = junk,
                1 => r["kind"] = junk,
                2 => r["request"] = junk,
                3 => r["request"]["kind"] = junk,
                4 => r["request"]["object"] = junk,
                5 => r["request"]["oldObject"] = junk,
                _ => {}
            }
            r
        })
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        8 => Just(Some("application/json")),
        1 => Just(Some("application/json; charset=utf-8")),
        1 => prop::sample::select(vec![None, Some("text/plain"), Some("application/json; charset=utf-16"), Some("")]),
    ]
}

fn webhook() -> impl Strategy<Value = Webhook> {
    prop::sample::select(vec![Webhook::Mutate, Webhook::Validate])
}

/// What every answer must look like, whatever the input.
fn check_reply(
    state: &AppState,
    webhook: Webhook,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), TestCaseError> {
    let reply = admit(state, webhook, content_type.map(str::as_bytes), body);
    if reply.status == StatusCode::OK {
        prop_assert!(reply.json);
        let out: Value =
            serde_json::from_slice(&reply.body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&out["apiVersion"], "admission.k8s.io/v1");
        let response = &out["response"];
        prop_assert!(response["allowed"].is_boolean());
        let request: Value =
            serde_json::from_slice(body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&response["uid"], &request["request"]["uid"]);
        if response["allowed"] == false {
            let code = response["status"]["code"].as_u64();
            prop_assert!(code == Some(403) || code == Some(422), "code {:?}", code);
            prop_assert!(
                response["status"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
        if let Some(patch) = response.get("patch").and_then(Value::as_str) {
            // The patch applied to the request object is the engine's defaulted object.
            prop_assert_eq!(webhook, Webhook::Mutate);
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(patch)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let patch: json_patch::Patch =
                serde_json::from_slice(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let object = &request["request"]["object"];
            let mut patched = object.clone();
            json_patch::patch(&mut patched, &patch)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let kind = Kind::from_name(
                request["request"]["kind"]["kind"]
                    .as_str()
                    .unwrap_or_default(),
            )
            .expect("a patch means a known kind");
            // managedFields are not policy (the API server owns them, the webhook skips them),
            // so the reference is the engine's answer for the object without them.
            let mut without = object.clone();
            strip_managed_fields(&mut without);
            strip_managed_fields(&mut patched);
            let expected =
                engine::mutate(kind, &without).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(patched, expected.defaulted);
        }
        for w in response["warnings"].as_array().into_iter().flatten() {
            prop_assert!(
                w.as_str()
                    .is_some_and(|w| !w.chars().any(char::is_control) && w.chars().count() <= 200)
            );
        }
    } else {
        prop_assert!(reply.status.is_client_error(), "status {}", reply.status);
        prop_assert!(!reply.json);
        let text = String::from_utf8(reply.body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(
            text.ends_with('\n') && text.lines().count() == 1,
            "{:?}",
            text
        );
    }
    Ok(())
}

fn strip_managed_fields(object: &mut Value) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
}

fn shared_state() -> Arc<AppState> {
    state()
}

proptest! {
    // Cases come from PROPTEST_CASES (256 by default); a failing input is saved next to this file
    // (proptest cannot find a lib.rs for an integration test to put it beside).
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct("tests/fuzz.proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..2048), ct in content_type(), webhook in webhook()) {
        let state = shared_state();
        check_reply(&state, webhook, ct, &body)?;
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value(), ct in content_type(), webhook in webhook()) {
        let state = shared_state();
        check_reply(&state, webhook, ct, value.to_string().as_bytes())?;
    }

    #[test]
    fn review_shaped_json_with_random_objects_never_panics(review in review_json(), webhook in webhook()) {
        let state = shared_state();
        check_reply(&state, webhook, Some("application/json"), review.to_string().as_bytes())?;
    }

    #[test]
    fn the_fast_and_the_exact_way_agree(review in review_json(), webhook in webhook()) {
        let state = shared_state();
        // In the API server's field order, which the fast way needs (kind and operation before
        // the objects).
        let body = apiserver_json(&review);
        let ct = Some(b"application/json".as_slice());
        let fast = admit(&state, webhook, ct, body.as_bytes());
        let exact = admit_exact(&state, webhook, ct, body.as_bytes());
        prop_assert_eq!(
            (fast.status, fast.json, String::from_utf8_lossy(&fast.body)),
            (exact.status, exact.json, String::from_utf8_lossy(&exact.body))
        );
    }
}

/// The review strategy is only worth its cases if many of them get past the envelope checks
/// into the engine, and some are denied or patched.
#[test]
fn review_strategy_reaches_the_engine() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (review_json(), webhook());
    let state = shared_state();
    let (mut answered, mut denied, mut patched) = (0, 0, 0);
    for _ in 0..500 {
        let (review, webhook) = strategy.new_tree(&mut runner).expect("value").current();
        let reply = admit(
            &state,
            webhook,
            Some(b"application/json".as_slice()),
            review.to_string().as_bytes(),
        );
        if reply.status == StatusCode::OK {
            answered += 1;
            let out: Value = serde_json::from_slice(&reply.body).expect("JSON");
            denied += usize::from(out["response"]["allowed"] == false);
            patched += usize::from(out["response"].get("patch").is_some());
        }
    }
    eprintln!(
        "review strategy: {answered} of 500 answered 200, {denied} denied, {patched} patched"
    );
    assert!(
        answered >= 250 && denied >= 25 && patched >= 25,
        "answered {answered}, denied {denied}, patched {patched} of 500"
    );
}
