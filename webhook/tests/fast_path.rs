//! The admission server answers most reviews the fast way (decoding the body straight into the
//! kinds' typed structs) and falls back to the exact way (the body as a `serde_json::Value`,
//! every shape error told apart) for anything else. These tests hold the two to the same answer
//! byte for byte, on reviews the fast way takes and on every kind of body it must decline; the
//! fuzz target (`fuzz.rs`) does the same on random reviews.

mod common;

use common::*;
use neo4j_shared::types::Kind;
use neo4j_webhook::serve::admission::{self, AppState, Webhook};
use serde_json::{Value, json};

/// Both ways give the same status, content type and body; returns whether the fast way took
/// the body.
fn agree(state: &AppState, webhook: Webhook, body: &[u8], what: &str) -> bool {
    let ct = Some(b"application/json".as_slice());
    let fast = admission::admit(state, webhook, ct, body);
    let exact = admission::admit_exact(state, webhook, ct, body);
    assert_eq!(
        (fast.status, fast.json, String::from_utf8_lossy(&fast.body)),
        (
            exact.status,
            exact.json,
            String::from_utf8_lossy(&exact.body)
        ),
        "{what} ({webhook:?}): the two ways differ"
    );
    admission::takes_fast_way(state, webhook, body)
}

/// Whether the exact way answers `/validate` with an `object-decode` denial (an object that
/// does not decode as its kind).
fn undecodable(state: &AppState, body: &[u8]) -> bool {
    let exact = admission::admit_exact(state, Webhook::Validate, Some(b"application/json"), body);
    String::from_utf8_lossy(&exact.body).contains("object-decode")
}

fn both(state: &AppState, body: &[u8], what: &str) -> bool {
    let a = agree(state, Webhook::Validate, body, what);
    let b = agree(state, Webhook::Mutate, body, what);
    a && b
}

/// Objects of every kind, valid and broken in ways the rules and the decoder report.
fn objects() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        out.push((format!("{kind:?} valid"), object(kind, "graph", json!({}))));
    }
    let cluster = |spec: Value| object(Kind::Cluster, "graph", spec);
    out.extend([
        ("cluster one server".into(), cluster(json!({"topology": {"servers": 1}}))),
        ("cluster two servers".into(), cluster(json!({"topology": {"servers": 2}}))),
        ("cluster servers a string".into(), cluster(json!({"topology": {"servers": "3"}}))),
        ("cluster bad license".into(), cluster(json!({"acceptLicenseAgreement": "no"}))),
        ("cluster unknown fields".into(), cluster(json!({"zzz": {"deep": [1, 2, {"x": null}]}, "aaa": 1.5}))),
        ("cluster config".into(), cluster(json!({"config": {"server.memory.heap.max_size": "1g", "dbms.security.auth_enabled": "false"}}))),
        ("cluster env".into(), cluster(json!({"env": [{"name": "A", "value": "b"}, {"name": "C"}]}))),
        ("cluster no image".into(), cluster(json!({"image": null}))),
        ("cluster null spec field".into(), cluster(json!({"storage": null}))),
    ]);
    let mut no_name = cluster(json!({}));
    no_name["metadata"]["name"] = Value::Null;
    out.push(("no name".into(), no_name));
    let mut generate = cluster(json!({}));
    generate["metadata"]["name"] = Value::Null;
    generate["metadata"]["generateName"] = json!("graph-");
    out.push(("generateName".into(), generate));
    let mut wrong_version = cluster(json!({}));
    wrong_version["apiVersion"] = json!("neo4j.neo4j.com/v1");
    out.push(("wrong apiVersion".into(), wrong_version));
    let mut numeric_version = cluster(json!({}));
    numeric_version["apiVersion"] = json!(1);
    out.push(("numeric apiVersion".into(), numeric_version));
    let mut no_namespace = cluster(json!({}));
    no_namespace["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("namespace");
    out.push(("no namespace".into(), no_namespace));
    let mut annotated = cluster(json!({}));
    annotated["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration": annotated.to_string(),
        "other": "kept",
    });
    annotated["metadata"]["managedFields"] = json!([{"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {"f:topology": {}}}}]);
    out.push(("annotations and managed fields".into(), annotated));
    out
}

#[test]
fn objects_of_every_kind_agree_on_create_and_update() {
    let state = state();
    let mut fast = 0;
    let objects = objects();
    for (what, new) in &objects {
        let create = apiserver_json(&review("u-1", "CREATE", new, None));
        let taken = both(&state, create.as_bytes(), what);
        // Only objects that do not decode (the exact way words their error) are declined.
        assert!(
            taken || undecodable(&state, create.as_bytes()),
            "{what}: CREATE not taken the fast way"
        );
        fast += usize::from(taken);
        let old = object(
            Kind::from_name(new["kind"].as_str().unwrap_or_default()).unwrap_or(Kind::Cluster),
            "graph",
            json!({}),
        );
        let update = apiserver_json(&review("u-2", "UPDATE", new, Some(&old)));
        both(&state, update.as_bytes(), &format!("{what} UPDATE"));
        let update_against_itself = apiserver_json(&review("u-3", "UPDATE", new, Some(new)));
        both(
            &state,
            update_against_itself.as_bytes(),
            &format!("{what} UPDATE of itself"),
        );
        for op in ["DELETE", "CONNECT"] {
            let body = apiserver_json(&review("u-4", op, new, None));
            assert!(both(&state, body.as_bytes(), &format!("{what} {op}")));
        }
    }
    assert!(
        fast * 2 >= objects.len(),
        "fast way for {fast} of {}",
        objects.len()
    );
}

#[test]
fn the_recorded_review_agrees_and_takes_the_fast_way() {
    let state = state();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("benches/fixtures/cluster-update-review.json"),
    )
    .expect("fixture");
    // The fixture is an UPDATE that changes the spec: validated and mutated the fast way, the
    // same answer either way.
    let updated = |body: &[u8], what: &str| {
        assert!(
            both(&state, body, what),
            "{what}: not taken the fast way by both webhooks"
        );
    };
    updated(text.as_bytes(), "indented fixture");
    let mut review: Value = serde_json::from_str(&text).expect("JSON");
    let compact = apiserver_json(&review);
    updated(compact.as_bytes(), "compact fixture");
    // The same object created: the fast way for both webhooks.
    review["request"]["operation"] = json!("CREATE");
    review["request"]["oldObject"] = Value::Null;
    let created = apiserver_json(&review);
    assert!(
        both(&state, created.as_bytes(), "created fixture"),
        "not taken the fast way"
    );
    // Sorted keys put `object` before `operation`: declined, still the same answer.
    let sorted = review.to_string();
    assert!(!both(&state, sorted.as_bytes(), "sorted fixture"));
}

#[test]
fn the_samples_agree() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests/samples");
    let state = state();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("samples") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("sample");
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("YAML");
        for doc in docs.into_iter().filter(|d| d.is_object()) {
            seen += 1;
            let what = path.display().to_string();
            let body = apiserver_json(&review("u-s", "CREATE", &doc, None));
            assert!(
                both(&state, body.as_bytes(), &what),
                "{what}: not taken the fast way"
            );
            let update = apiserver_json(&review("u-t", "UPDATE", &doc, Some(&doc)));
            both(&state, update.as_bytes(), &format!("{what} UPDATE"));
        }
    }
    assert!(seen >= 10, "only {seen} sample documents");
}

/// UPDATEs between objects of one kind: the fast way judges those whose decoded specs differ
/// (update rules, ratcheting of errors the stored object already had) and leaves the rest to
/// the exact way; the answer is the same.
#[test]
fn updates_agree_and_changed_specs_take_the_fast_way() {
    let state = state();
    let cluster = |spec: Value| object(Kind::Cluster, "graph", spec);
    let olds = [
        ("valid", cluster(json!({}))),
        ("two servers", cluster(json!({"topology": {"servers": 2}}))),
        ("one server", cluster(json!({"topology": {"servers": 1}}))),
        (
            "bad license",
            cluster(json!({"acceptLicenseAgreement": "no"})),
        ),
        ("unknown field", cluster(json!({"zzz": 1}))),
        (
            "config",
            cluster(json!({"config": {"server.memory.heap.max_size": "1g"}})),
        ),
        (
            "other storage",
            cluster(json!({"storage": {"className": "fast", "size": "20Gi"}})),
        ),
    ];
    let (mut fast, mut changed) = (0, 0);
    for (new_what, new) in objects()
        .into_iter()
        .filter(|(_, o)| o["kind"] == "Neo4jEnterpriseCluster")
    {
        for (old_what, old) in &olds {
            let what = format!("UPDATE {old_what} -> {new_what}");
            let body = apiserver_json(&review("u-5", "UPDATE", &new, Some(old)));
            let taken = agree(&state, Webhook::Validate, body.as_bytes(), &what);
            fast += usize::from(taken);
            let undecodable = undecodable(&state, body.as_bytes());
            let spec_changed = new.get("spec") != old.get("spec");
            let known_change = spec_changed
                && new["spec"].get("zzz").is_none()
                && old["spec"].get("zzz").is_none();
            if known_change && !undecodable && !new_what.contains("null spec") {
                changed += 1;
                assert!(taken, "{what}: a changed spec not judged the fast way");
            }
            if !spec_changed {
                assert!(!taken, "{what}: an unchanged spec taken the fast way");
            }
        }
    }
    assert!(
        changed >= 30 && fast >= changed,
        "fast {fast}, changed {changed}"
    );
    // Ratcheting: the stored object already had the error, the update changes something else.
    let old = cluster(json!({"acceptLicenseAgreement": "no"}));
    let new = cluster(json!({"acceptLicenseAgreement": "no", "topology": {"servers": 5}}));
    let body = apiserver_json(&review("u-6", "UPDATE", &new, Some(&old)));
    assert!(agree(
        &state,
        Webhook::Validate,
        body.as_bytes(),
        "ratcheted"
    ));
    let reply = admission::admit(
        &state,
        Webhook::Validate,
        Some(b"application/json"),
        body.as_bytes(),
    );
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(
        text.contains("already invalid before this update"),
        "{text}"
    );
    // Another kind under the same name, and the stored object sent first: same answer.
    let standalone = object(Kind::Standalone, "graph", json!({}));
    let body = apiserver_json(&review(
        "u-7",
        "UPDATE",
        &cluster(json!({})),
        Some(&standalone),
    ));
    agree(
        &state,
        Webhook::Validate,
        body.as_bytes(),
        "old of another kind",
    );
    let body = apiserver_json(&review("u-8", "UPDATE", &new, Some(&cluster(json!({})))));
    let object_at = body.find(",\"object\":").expect("object");
    let old_at = body.find(",\"oldObject\":").expect("oldObject");
    let end = body[old_at + 1..]
        .find(",\"")
        .map_or(body.len() - 2, |i| old_at + 1 + i);
    assert!(object_at < old_at, "{body}");
    let swapped = format!(
        "{}{}{}{}",
        &body[..object_at],
        &body[old_at..end],
        &body[object_at..old_at],
        &body[end..]
    );
    assert_ne!(swapped, body);
    agree(
        &state,
        Webhook::Validate,
        swapped.as_bytes(),
        "oldObject first",
    );
}

/// Bodies the fast way must decline (or get exactly right): each would be easy to get wrong by
/// decoding straight into typed structs.
#[test]
fn tricky_bodies_agree() {
    let state = state();
    let good = object(Kind::Cluster, "graph", json!({}));
    let base = apiserver_json(&review("u", "CREATE", &good, None));
    let replace = |from: &str, to: &str| {
        assert!(base.contains(from), "{from} not in {base}");
        base.replacen(from, to, 1)
    };
    let spec_at = base.find("\"spec\":{").expect("spec") + "\"spec\":{".len();
    let in_spec = |extra: &str| format!("{}{extra},{}", &base[..spec_at], &base[spec_at..]);
    let meta_at = base.find("\"metadata\":{").expect("metadata") + "\"metadata\":{".len();
    let in_meta = |extra: &str| format!("{}{extra},{}", &base[..meta_at], &base[meta_at..]);
    let nested = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let cases: Vec<(&str, String)> = vec![
        ("base", base.clone()),
        ("duplicate uid", replace("\"uid\":\"u\"", "\"uid\":\"u\",\"uid\":\"v\"")),
        ("duplicate operation", replace("\"operation\":\"CREATE\"", "\"operation\":\"DELETE\",\"operation\":\"CREATE\"")),
        ("duplicate spec field", in_spec("\"acceptLicenseAgreement\":\"no\"")),
        ("duplicate spec", in_meta("\"x\":1},\"spec\":{\"topology\":{\"servers\":1}},\"metadata\":{\"y\":2")),
        ("raw value token in spec", in_spec("\"config\":{\"$serde_json::private::RawValue\":\"{\\\"a\\\":\\\"b\\\"}\"}")),
        ("raw value token first in spec", base.replacen("\"spec\":{", "\"spec\":{\"$serde_json::private::RawValue\":\"{\\\"topology\\\":{\\\"servers\\\":1}}\",", 1)),
        ("raw value token in userInfo", replace("\"userInfo\":{", "\"userInfo\":{\"$serde_json::private::RawValue\":\"[]\",")),
        ("raw value token bad JSON", replace("\"userInfo\":{", "\"userInfo\":{\"$serde_json::private::RawValue\":\"{\",")),
        ("lone surrogate in spec", in_spec("\"zzz\":\"\\ud800\"")),
        ("lone surrogate in userInfo", replace("\"userInfo\":{", "\"userInfo\":{\"x\":\"\\udc00\",")),
        ("lone surrogate in managedFields", in_meta("\"managedFields\":[\"\\ud800\"]")),
        ("lone surrogate in last-applied", in_meta("\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"\\ud800\"}")),
        ("lone trailing surrogate in last-applied", in_meta("\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"a\\\":\\udc00}\"}")),
        ("surrogate pair in last-applied", in_meta("\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"\\ud83d\\ude00\"}")),
        ("escaped backslash and u in last-applied", in_meta("\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"a\\\":\\\"x\\\\u003c\\\"}\"}")),
        ("bad escape in last-applied", in_meta("\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"\\q\"}")),
        ("control character in last-applied", in_meta("\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"a\u{1}b\"}")),
        ("last-applied a number", in_meta("\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":5}")),
        ("surrogate pair in spec", in_spec("\"zzz\":\"\\ud83d\\ude00\"")),
        ("number out of range in spec", in_spec("\"zzz\":1e400")),
        ("number out of range in options", replace("\"dryRun\":false", "\"dryRun\":1e999")),
        ("number out of range in managedFields", in_meta("\"managedFields\":[1e400]")),
        ("unicode escape in managedFields", in_meta("\"managedFields\":[\"\\u0041\"]")),
        ("trailing comma in managedFields", in_meta("\"managedFields\":[1,]")),
        ("leading zero in managedFields", in_meta("\"managedFields\":[01]")),
        ("bad literal in managedFields", in_meta("\"managedFields\":[tru]")),
        ("missing colon in managedFields", in_meta("\"managedFields\":{\"a\" 1}")),
        ("control character in managedFields", in_meta("\"managedFields\":[\"a\u{1}b\"]")),
        ("escaped managedFields key", in_meta("\"managed\\u0046ields\":[1]")),
        ("old object with a lone surrogate key", replace("\"oldObject\":null", "\"oldObject\":{\"\\ud800\":1}").replacen("\"CREATE\"", "\"UPDATE\"", 1)),
        ("old object with a lone surrogate value", replace("\"oldObject\":null", "\"oldObject\":{\"a\":\"\\ud800\"}").replacen("\"CREATE\"", "\"UPDATE\"", 1)),
        ("old object with a number out of range", replace("\"oldObject\":null", "\"oldObject\":{\"a\":[1e400]}").replacen("\"CREATE\"", "\"UPDATE\"", 1)),
        ("old object with a trailing comma", replace("\"oldObject\":null", "\"oldObject\":{\"a\":[1,]}").replacen("\"CREATE\"", "\"UPDATE\"", 1)),
        ("old object with a control character", replace("\"oldObject\":null", "\"oldObject\":{\"a\":\"\u{1}\"}").replacen("\"CREATE\"", "\"UPDATE\"", 1)),
        ("huge integer in servers", in_spec("\"topology\":{\"servers\":18446744073709551616}")),
        ("float servers", in_spec("\"topology\":{\"servers\":3.0}")),
        ("negative servers", in_spec("\"topology\":{\"servers\":-3}")),
        ("last-applied not a string", in_meta("\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":{\"a\":1}}")),
        ("last-applied null", in_meta("\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":null}")),
        ("annotations null", in_meta("\"annotations\":null")),
        ("annotation not a string", in_meta("\"annotations\":{\"a\":1}")),
        ("managedFields of any type", in_meta("\"managedFields\":{\"a\":[1,{\"b\":true}]}")),
        ("escaped key", in_spec("\"acceptLicenseAgreemen\\u0074\":\"no\"")),
        ("escaped last-applied key", in_meta("\"annotations\":{\"kubectl.kubernetes.io\\/last-applied-configuration\":1}")),
        ("control character", in_spec("\"zzz\":\"a\u{1}b\"")),
        ("deep in spec 120", in_spec(&format!("\"zzz\":{}", nested(120)))),
        ("deep in spec 124", in_spec(&format!("\"zzz\":{}", nested(124)))),
        ("deep in spec 125", in_spec(&format!("\"zzz\":{}", nested(125)))),
        ("deep in spec 126", in_spec(&format!("\"zzz\":{}", nested(126)))),
        ("deep in userInfo 126", replace("\"userInfo\":{", &format!("\"userInfo\":{{\"x\":{},", nested(126)))),
        ("deep in managedFields", in_meta(&format!("\"managedFields\":{}", nested(500)))),
        ("metadata an array", base.replacen("\"metadata\":{", "\"metadata\":[{", 1).replacen(",\"spec\"", "],\"spec\"", 1)),
        ("object an array", replace("\"object\":{", "\"object\":[{").replacen(",\"oldObject\"", "],\"oldObject\"", 1)),
        ("object before operation", replace("\"operation\":\"CREATE\",", "").replacen("\"dryRun\"", "\"operation\":\"CREATE\",\"dryRun\"", 1)),
        ("object a string", replace("\"object\":{", "\"object\":\"x\",\"zz\":{")),
        ("oldObject a number on CREATE", replace("\"oldObject\":null", "\"oldObject\":5")),
        ("oldObject a number on UPDATE", replace("\"oldObject\":null", "\"oldObject\":5").replacen("\"CREATE\"", "\"UPDATE\"", 1)),
        ("oldObject an empty object on UPDATE", replace("\"oldObject\":null", "\"oldObject\":{}").replacen("\"CREATE\"", "\"UPDATE\"", 1)),
        ("oldObject undecodable on UPDATE", replace("\"oldObject\":null", "\"oldObject\":{\"spec\":{\"topology\":{\"servers\":\"x\"}}}").replacen("\"CREATE\"", "\"UPDATE\"", 1)),
        ("group elsewhere", replace("\"group\":\"neo4j.neo4j.com\"", "\"group\":\"apps\"")),
        ("group missing", replace("\"group\":\"neo4j.neo4j.com\",", "")),
        ("group a number", replace("\"group\":\"neo4j.neo4j.com\"", "\"group\":7")),
        ("unknown kind", replace("\"kind\":\"Neo4jEnterpriseCluster\",\"version\"", "\"kind\":\"Neo4jOther\",\"version\"")),
        ("empty uid", replace("\"uid\":\"u\"", "\"uid\":\"\"")),
        ("review kind wrong", replace("\"kind\":\"AdmissionReview\"", "\"kind\":\"Other\"")),
        ("review apiVersion v1beta1", replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1")),
        ("trailing data", format!("{base} x")),
        ("trailing whitespace", format!("{base} \n")),
        ("truncated", base[..base.len() - 3].to_string()),
        ("bad UTF-8", {
            let mut b = base.clone().into_bytes();
            let at = b.len() / 2;
            b[at] = 0xff;
            String::from_utf8_lossy(&b).into_owned()
        }),
    ];
    let mut fast = 0;
    for (what, body) in &cases {
        fast += usize::from(both(&state, body.as_bytes(), what));
    }
    // Long managed fields and last-applied annotations with escaped quotes and backslashes
    // across 64-byte spans, alone or with something wrong elsewhere in the object.
    let long = "x".repeat(70);
    let managed = format!(
        r#""managedFields":[{{"manager":"a\"]}}\\{long}","fieldsV1":{{"f:spec":{{".":{{}},"f:x\/y":{{}}}}}}}}, "b" ,[ ]]"#
    );
    let applied = format!(
        r#""annotations":{{"z":"1","kubectl.kubernetes.io/last-applied-configuration":"{{\"a\":\"\/\b\f\n\r\t\\{long}\"}}\n"}}"#
    );
    let with_meta = |body: String, extra: &str| {
        body.replacen("\"metadata\":{", &format!("\"metadata\":{{{extra},"), 1)
    };
    for (what, body) in [
        ("long managed fields", in_meta(&managed)),
        ("long last-applied", in_meta(&applied)),
        ("both, twice", in_meta(&format!("{managed},{applied},{managed}"))),
        ("managed fields with whitespace", in_meta(r#""managedFields" : [ { "a" : { } } , "b" ] "#)),
        ("managed fields, and a number out of range in spec", with_meta(in_spec("\"zzz\":1e400"), &managed)),
        ("last-applied, and a lone surrogate in spec", with_meta(in_spec("\"zzz\":\"\\ud800\""), &applied)),
        ("managed fields, and a duplicate spec field", with_meta(in_spec("\"acceptLicenseAgreement\":\"no\""), &managed)),
        ("managed fields, and trailing data", format!("{} x", in_meta(&managed))),
        ("managed fields in an old object", replace("\"oldObject\":null", &format!("\"oldObject\":{{\"metadata\":{{{managed},{applied}}},\"spec\":{{\"topology\":{{\"servers\":5}}}}}}")).replacen("\"CREATE\"", "\"UPDATE\"", 1)),
        ("raw value token in managed fields", in_meta(r#""managedFields":[{"$serde_json::private::RawValue":"[]"}]"#)),
    ] {
        let fast = both(&state, body.as_bytes(), what);
        if what.starts_with("long") || what.starts_with("both") {
            assert!(fast, "{what}: the fast way declined");
        }
    }
    // Raw invalid UTF-8, which a String cannot hold.
    let mut raw = base.clone().into_bytes();
    let at = raw
        .iter()
        .position(|b| *b == b'G')
        .expect("Gi in the storage size");
    raw[at] = 0xff;
    both(&state, &raw, "invalid UTF-8 in spec");
    // Invalid UTF-8 where the parser skips without checking (managedFields): answered, and the
    // same way both ways.
    let mut raw = in_meta("\"managedFields\":[\"xQx\"]").into_bytes();
    let at = raw.windows(3).position(|w| w == b"xQx").expect("marker") + 1;
    raw[at] = 0xff;
    assert!(!both(&state, &raw, "invalid UTF-8 in managedFields"));
    let reply = admission::admit(&state, Webhook::Validate, Some(b"application/json"), &raw);
    assert_eq!(
        reply.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(
        fast >= 5,
        "the fast way took only {fast} of {} bodies",
        cases.len()
    );
}

#[test]
fn a_review_with_too_many_values_is_refused_both_ways() {
    let state = state();
    let env: Vec<Value> = (0..30_000)
        .map(|i| json!({"name": format!("V{i}"), "value": "x"}))
        .collect();
    let big = object(Kind::Cluster, "graph", json!({"env": env}));
    let body = apiserver_json(&review("u", "CREATE", &big, None));
    for webhook in [Webhook::Validate, Webhook::Mutate] {
        let reply = admission::admit(&state, webhook, Some(b"application/json"), body.as_bytes());
        assert_eq!(
            reply.status.as_u16(),
            413,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        assert!(text.starts_with("too-many-values: "), "{text}");
        agree(&state, webhook, body.as_bytes(), "too many values");
    }
}
