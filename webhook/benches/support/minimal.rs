//! The minimal webhook both load benches measure beside ours: it reads a review whole as JSON
//! (serde checks every part, keeps only the uid) and allows it, the least any webhook can do
//! with a review. The admission bench (`webhook/benches/admission.rs`) and the API-server bench
//! (`tests/benches/apiserver.rs`) include this file.

/// All a webhook must take from a review to answer it.
#[derive(serde::Deserialize)]
struct UidOnly {
    request: UidOnlyRequest,
}

#[derive(serde::Deserialize)]
struct UidOnlyRequest {
    uid: String,
}

/// The answer to the review in `body`: allowed, with `patch` (a base64 JSON Patch) when given;
/// the parse error when `body` is not a review.
pub fn answer(body: &[u8], patch: Option<&str>) -> Result<String, serde_json::Error> {
    let review: UidOnly = serde_json::from_slice(body)?;
    let mut response = serde_json::json!({"uid": review.request.uid, "allowed": true});
    if let Some(patch) = patch {
        response["patchType"] = "JSONPatch".into();
        response["patch"] = patch.into();
    }
    Ok(serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": response,
    })
    .to_string())
}
