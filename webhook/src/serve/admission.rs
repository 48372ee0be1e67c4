//! `POST /mutate` and `POST /validate`: decode an `admission.k8s.io/v1` AdmissionReview, hand
//! the object to `neo4j_shared::engine`, encode its answer. No policy lives here. Everything a
//! client can get wrong is answered with a precise 4xx and a one-line reason, counted by reason;
//! the decoding goes through `serde_json::Value` first so that each shape error is told apart.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use http_body_util::BodyExt;
use neo4j_shared::Finding;
use neo4j_shared::engine::{self, AdmissionDecision};
use neo4j_shared::inventory::InDomain;
use neo4j_shared::text::one_line;
use neo4j_shared::types::{GROUP, Kind, Operation};
use neo4j_shared::validate::shown;
use neo4j_shared::verdict::WARNING_MAX_CHARS;
use serde::Serialize;
use serde_json::{Map, Value};
use tower_http::catch_panic::CatchPanicLayer;

use super::cache::SharedInventory;
use super::config::Limits;
use super::metrics::{KIND_UNKNOWN, KindLabels, Metrics, RequestLabels, RuleLabels, WebhookLabels};

const REVIEW_API_VERSION: &str = "admission.k8s.io/v1";
const REVIEW_KIND: &str = "AdmissionReview";
/// Longest transport error quoted in a `body-read` answer.
const BODY_ERROR_MAX_CHARS: usize = 120;
/// Distinct unknown kinds remembered for the log-once rule; beyond it they are logged at debug
/// so a flood of invented kinds cannot grow memory.
const UNKNOWN_KINDS_REMEMBERED: usize = 256;
/// Body bytes reserved up front from Content-Length; a client announcing 8 MiB and sending
/// nothing must not cost 8 MiB.
const PREALLOCATE_MAX: usize = 256 * 1024;

/// Which of the two webhooks a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    Mutate,
    Validate,
}

impl Webhook {
    pub fn name(self) -> &'static str {
        match self {
            Webhook::Mutate => "mutate",
            Webhook::Validate => "validate",
        }
    }
}

/// What every admission request reads.
pub struct AppState {
    pub metrics: Arc<Metrics>,
    inventory: Arc<dyn SharedInventory>,
    pub limits: Limits,
    unknown_kinds: Mutex<HashSet<String>>,
    /// The Kubernetes cluster's DNS domain (`--cluster-domain`).
    cluster_domain: String,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(metrics: Arc<Metrics>, inventory: Arc<dyn SharedInventory>, limits: Limits) -> Self {
        AppState {
            metrics,
            inventory,
            limits,
            unknown_kinds: Mutex::new(HashSet::new()),
            cluster_domain: neo4j_shared::names::DEFAULT_CLUSTER_DOMAIN.to_string(),
        }
    }

    /// The state for a Kubernetes cluster whose DNS domain is `domain`.
    pub fn with_cluster_domain(mut self, domain: String) -> Self {
        self.cluster_domain = domain;
        self
    }

    /// Logs an unknown kind the first time it is seen.
    fn note_unknown_kind(&self, group: &str, kind: &str) {
        let key = format!("{group}/{kind}");
        let mut seen = self
            .unknown_kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if seen.contains(&key) {
            return;
        }
        if seen.len() < UNKNOWN_KINDS_REMEMBERED {
            tracing::info!(group = %shown(group), kind = %shown(kind), "review of a kind this webhook does not serve: allowed unchanged (logged once per kind)");
            seen.insert(key);
        } else {
            tracing::debug!(group = %shown(group), kind = %shown(kind), "review of a kind this webhook does not serve: allowed unchanged");
        }
    }

    fn refuse(&self, bad: BadRequest) -> Reply {
        tracing::debug!(reason = bad.reason(), detail = %bad, "bad admission request");
        self.metrics.bad_request(bad.reason());
        Reply::text(bad.status(), format!("{}: {bad}\n", bad.reason()))
    }
}

/// A request refused before admission. The reason is a metric label and the first word of the
/// response body; the message is the rest of that one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRequest {
    #[error("Content-Type must be application/json (charset utf-8, if given), got {0}")]
    ContentType(String),
    #[error("the body exceeds {0} bytes")]
    TooLarge(usize),
    #[error("the body was not received within {0} ms")]
    BodyTimeout(u128),
    #[error("the body could not be read: {0}")]
    BodyRead(String),
    #[error("the body is empty; send an AdmissionReview")]
    Empty,
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the JSON is nested too deeply (serde_json's recursion limit is 128)")]
    TooDeep,
    #[error("the body is not a JSON object; send an AdmissionReview")]
    NotObject,
    #[error("apiVersion must be {REVIEW_API_VERSION}, got {0}")]
    ApiVersion(String),
    #[error("kind must be {REVIEW_KIND}, got {0}")]
    ReviewKind(String),
    #[error("the AdmissionReview has no request")]
    MissingRequest,
    #[error("request.uid is missing or empty")]
    MissingUid,
    #[error("{0}")]
    RequestShape(String),
    #[error("no such path; the webhook serves POST /mutate and POST /validate")]
    NotFound,
    #[error("only POST is served")]
    MethodNotAllowed,
}

impl BadRequest {
    /// The `reason` label of `neo4j_admission_bad_requests_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            BadRequest::ContentType(_) => "content-type",
            BadRequest::TooLarge(_) => "body-too-large",
            BadRequest::BodyTimeout(_) => "body-timeout",
            BadRequest::BodyRead(_) => "body-read",
            BadRequest::Empty => "empty-body",
            BadRequest::NotJson(_) => "not-json",
            BadRequest::TooDeep => "json-too-deep",
            BadRequest::NotObject => "not-an-object",
            BadRequest::ApiVersion(_) => "review-api-version",
            BadRequest::ReviewKind(_) => "review-kind",
            BadRequest::MissingRequest => "missing-request",
            BadRequest::MissingUid => "missing-uid",
            BadRequest::RequestShape(_) => "request-shape",
            BadRequest::NotFound => "not-found",
            BadRequest::MethodNotAllowed => "method-not-allowed",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            BadRequest::ContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BadRequest::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BadRequest::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            BadRequest::NotFound => StatusCode::NOT_FOUND,
            BadRequest::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An HTTP answer, before axum: what the fuzz target and the handlers both look at.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub json: bool,
    pub body: Vec<u8>,
}

impl Reply {
    fn text(status: StatusCode, body: String) -> Self {
        Reply {
            status,
            json: false,
            body: body.into_bytes(),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let content_type = if self.json {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        (
            self.status,
            [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
            self.body,
        )
            .into_response()
    }
}

/// The wire form of the answer (`admission.k8s.io/v1` AdmissionReview with `response`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReviewOut<'a> {
    api_version: &'static str,
    kind: &'static str,
    response: ResponseOut<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResponseOut<'a> {
    uid: &'a str,
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<StatusOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// A `metav1.Status` of a denial.
#[derive(Serialize)]
struct StatusOut {
    status: &'static str,
    code: u16,
    reason: &'static str,
    message: String,
}

/// A warning as kubectl prints it: `Warning: <rule>: <message>` — the same line the offline
/// checker prints ([`Finding::warning_line`]: one line, cut at
/// [`WARNING_MAX_CHARS`]; warnings end up in HTTP `Warning` headers and terminals, and the API
/// server itself truncates beyond 256 characters).
pub fn warning_line(finding: &Finding) -> String {
    finding.warning_line()
}

/// `status.message` of a denial: every violated rule as `<rule>: <field>: <message>`, one per
/// line (kubectl prints the message verbatim after "denied the request: ", so a list of lines
/// stays readable where "; " would make one very long line).
pub fn denial_message(decision: &AdmissionDecision) -> String {
    decision
        .message()
        .lines()
        .map(|l| one_line(l, usize::MAX))
        .collect::<Vec<_>>()
        .join("\n")
}

fn status_reason(code: u16) -> &'static str {
    match code {
        engine::CODE_FORBIDDEN => "Forbidden",
        engine::CODE_UNPROCESSABLE => "Invalid",
        _ => "BadRequest",
    }
}

/// Whether `content_type` is `application/json`, optionally with `charset=utf-8` (any case,
/// optionally quoted); other parameters are ignored.
pub fn check_content_type(content_type: Option<&[u8]>) -> Result<(), BadRequest> {
    let refuse = |shown_value: String| Err(BadRequest::ContentType(shown_value));
    let Some(raw) = content_type else {
        return refuse("none".into());
    };
    let Ok(text) = std::str::from_utf8(raw) else {
        return refuse("a value that is not UTF-8".into());
    };
    let mut parts = text.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return refuse(shown(text));
    }
    for param in parts {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("charset") {
            let value = value.trim().trim_matches('"');
            if !value.eq_ignore_ascii_case("utf-8") && !value.eq_ignore_ascii_case("utf8") {
                return refuse(shown(text));
            }
        }
    }
    Ok(())
}

fn json_error(e: &serde_json::Error) -> BadRequest {
    // serde_json has no error code for its recursion limit; its message is the only signal.
    let message = e.to_string();
    if message.starts_with("recursion limit exceeded") {
        BadRequest::TooDeep
    } else {
        BadRequest::NotJson(message)
    }
}

/// The whole decode-and-admit path for one body (everything but reading it off the socket):
/// never panics, answers 200 with an AdmissionReview or a 4xx.
pub fn admit(
    state: &AppState,
    webhook: Webhook,
    content_type: Option<&[u8]>,
    body: &[u8],
) -> Reply {
    match check_content_type(content_type).and_then(|()| review(state, webhook, body)) {
        Ok(reply) => reply,
        Err(bad) => state.refuse(bad),
    }
}

/// The parts of a request admission needs, borrowed from the decoded body.
struct AdmissionInput<'a> {
    uid: &'a str,
    operation: Operation,
    kind: Kind,
    object: &'a Value,
    old_object: Option<&'a Value>,
}

fn str_field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

fn review(state: &AppState, webhook: Webhook, body: &[u8]) -> Result<Reply, BadRequest> {
    if body.len() > state.limits.max_body_bytes {
        return Err(BadRequest::TooLarge(state.limits.max_body_bytes));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BadRequest::Empty);
    }
    // managedFields (the largest part of a review) are skipped while parsing, and so is the
    // content of oldObject for /mutate: neither is ever read.
    let value: Value =
        super::decode::review(body, webhook == Webhook::Validate).map_err(|e| json_error(&e))?;
    let Value::Object(review) = &value else {
        return Err(BadRequest::NotObject);
    };
    match review.get("apiVersion") {
        Some(Value::String(v)) if v == REVIEW_API_VERSION => {}
        other => return Err(BadRequest::ApiVersion(shown_json(other))),
    }
    match review.get("kind") {
        Some(Value::String(k)) if k == REVIEW_KIND => {}
        other => return Err(BadRequest::ReviewKind(shown_json(other))),
    }
    let request = match review.get("request") {
        None | Some(Value::Null) => return Err(BadRequest::MissingRequest),
        Some(Value::Object(r)) => r,
        Some(_) => return Err(BadRequest::RequestShape("request must be an object".into())),
    };
    let uid = str_field(request, "uid")
        .filter(|u| !u.is_empty())
        .ok_or(BadRequest::MissingUid)?;
    let operation = str_field(request, "operation")
        .and_then(Operation::parse)
        .ok_or_else(|| {
            BadRequest::RequestShape(format!(
                "request.operation must be CREATE, UPDATE, DELETE or CONNECT, got {}",
                shown_json(request.get("operation"))
            ))
        })?;
    let gvk = request.get("kind").and_then(Value::as_object);
    let kind_name = gvk.and_then(|g| str_field(g, "kind")).ok_or_else(|| {
        BadRequest::RequestShape("request.kind.kind is missing or not a string".into())
    })?;
    let group = gvk.and_then(|g| str_field(g, "group")).unwrap_or_default();
    let kind = if group == GROUP {
        Kind::from_name(kind_name)
    } else {
        None
    };
    let Some(kind) = kind else {
        state.note_unknown_kind(group, kind_name);
        count_request(state, webhook, KIND_UNKNOWN, operation, "allowed");
        return Ok(encode(state, uid, Answer::allow()));
    };
    if matches!(operation, Operation::Delete | Operation::Connect) {
        // Nothing to default or check on a deletion or a connect; the engine agrees.
        count_request(state, webhook, kind.name(), operation, "allowed");
        return Ok(encode(state, uid, Answer::allow()));
    }
    let object = match request.get("object") {
        Some(o @ Value::Object(_)) => o,
        other => {
            return Err(BadRequest::RequestShape(format!(
                "request.object must be an object on {}, got {}",
                operation.as_str(),
                json_type(other)
            )));
        }
    };
    let old_object = match (operation, request.get("oldObject")) {
        (Operation::Update, Some(o @ Value::Object(_))) => Some(o),
        (_, None | Some(Value::Null)) | (Operation::Create, _) => None,
        (_, Some(other)) => {
            return Err(BadRequest::RequestShape(format!(
                "request.oldObject must be an object, got {}",
                json_type(Some(other))
            )));
        }
    };
    let req = AdmissionInput {
        uid,
        operation,
        kind,
        object,
        old_object,
    };
    let answer = match webhook {
        Webhook::Mutate => mutate(state, &req),
        Webhook::Validate => validate(state, &req),
    };
    count_request(state, webhook, kind.name(), operation, answer.result);
    Ok(encode(state, req.uid, answer))
}

fn shown_json(value: Option<&Value>) -> String {
    match value {
        None => "none".into(),
        Some(Value::String(s)) => shown(s),
        Some(other) => json_type(Some(other)).into(),
    }
}

fn json_type(value: Option<&Value>) -> &'static str {
    match value {
        None => "nothing",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "a string",
        Some(Value::Array(_)) => "an array",
        Some(Value::Object(_)) => "an object",
    }
}

/// What admission decided, before encoding.
struct Answer {
    allowed: bool,
    /// The `result` metric label: allowed, denied, or error (the object could not be decoded).
    result: &'static str,
    patch: Option<String>,
    status: Option<StatusOut>,
    warnings: Vec<String>,
}

impl Answer {
    fn allow() -> Self {
        Answer {
            allowed: true,
            result: "allowed",
            patch: None,
            status: None,
            warnings: Vec::new(),
        }
    }
}

fn count_request(
    state: &AppState,
    webhook: Webhook,
    kind: &'static str,
    operation: Operation,
    result: &'static str,
) {
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            webhook: webhook.name(),
            kind,
            operation: operation.as_str(),
            result,
        })
        .inc();
}

/// Defaults as a JSON patch. Rule warnings are left to the validating webhook so kubectl does
/// not print each twice.
fn mutate(state: &AppState, req: &AdmissionInput<'_>) -> Answer {
    let kind = req.kind.name();
    match engine::mutate(req.kind, req.object) {
        Ok(m) if m.patch.0.is_empty() => Answer::allow(),
        Ok(m) => match serde_json::to_vec(&m.patch) {
            Ok(json) => {
                state
                    .metrics
                    .patches
                    .get_or_create(&KindLabels { kind })
                    .inc();
                Answer {
                    patch: Some(base64::engine::general_purpose::STANDARD.encode(json)),
                    ..Answer::allow()
                }
            }
            // A patch is strings and values only; failing to encode one is a bug, and admitting
            // without defaults is what the validating webhook can still judge.
            Err(e) => {
                tracing::error!(error = %e, kind, "encoding a JSON patch failed");
                Answer {
                    result: "error",
                    ..Answer::allow()
                }
            }
        },
        Err(e) => {
            // Admit without defaults: the validating webhook denies the object with the same
            // decode error, with a 422 the user sees.
            state
                .metrics
                .warnings
                .get_or_create(&RuleLabels {
                    kind,
                    rule: "object-decode",
                })
                .inc();
            let warning = one_line(
                &format!(
                    "object-decode: {}: {}; no defaults applied",
                    e.path, e.message
                ),
                WARNING_MAX_CHARS,
            );
            Answer {
                result: "error",
                warnings: vec![warning],
                ..Answer::allow()
            }
        }
    }
}

fn validate(state: &AppState, req: &AdmissionInput<'_>) -> Answer {
    let kind = req.kind.name();
    let inventory = InDomain {
        inner: &*state.inventory,
        domain: &state.cluster_domain,
    };
    let decision = engine::validate(
        req.kind,
        req.operation,
        req.old_object,
        req.object,
        &inventory,
    );
    for w in &decision.warnings {
        state
            .metrics
            .warnings
            .get_or_create(&RuleLabels { kind, rule: w.rule })
            .inc();
    }
    let warnings = decision.warnings.iter().map(warning_line).collect();
    if decision.allowed {
        return Answer {
            warnings,
            ..Answer::allow()
        };
    }
    for e in &decision.errors {
        state
            .metrics
            .denials
            .get_or_create(&RuleLabels { kind, rule: e.rule })
            .inc();
    }
    Answer {
        allowed: false,
        result: if decision.code == engine::CODE_UNPROCESSABLE {
            "error"
        } else {
            "denied"
        },
        patch: None,
        status: Some(StatusOut {
            status: "Failure",
            code: decision.code,
            reason: status_reason(decision.code),
            message: denial_message(&decision),
        }),
        warnings,
    }
}

fn encode(state: &AppState, uid: &str, answer: Answer) -> Reply {
    let out = ReviewOut {
        api_version: REVIEW_API_VERSION,
        kind: REVIEW_KIND,
        response: ResponseOut {
            uid,
            allowed: answer.allowed,
            patch_type: answer.patch.as_ref().map(|_| "JSONPatch"),
            patch: answer.patch,
            status: answer.status,
            warnings: answer.warnings,
        },
    };
    match serde_json::to_vec(&out) {
        Ok(body) => Reply {
            status: StatusCode::OK,
            json: true,
            body,
        },
        // Strings, bools and integers always serialize; this arm exists so that a bug is a
        // counted 500, not a panic.
        Err(e) => {
            tracing::error!(error = %e, "encoding an AdmissionReview failed");
            state.metrics.panics.inc();
            Reply::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error: the response could not be encoded\n".into(),
            )
        }
    }
}

/// Reads the body within the limits: 413 past the size limit (from Content-Length when it is
/// announced, before reading anything), 408 when it does not arrive in time.
async fn read_body(headers: &HeaderMap, body: Body, limits: Limits) -> Result<Vec<u8>, BadRequest> {
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limits.max_body_bytes) {
        return Err(BadRequest::TooLarge(limits.max_body_bytes));
    }
    let collect = async move {
        let mut body = body;
        let mut buf = Vec::with_capacity(announced.unwrap_or(0).min(PREALLOCATE_MAX));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                BadRequest::BodyRead(one_line(&e.to_string(), BODY_ERROR_MAX_CHARS))
            })?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > limits.max_body_bytes {
                    return Err(BadRequest::TooLarge(limits.max_body_bytes));
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(buf)
    };
    tokio::time::timeout(limits.body_timeout, collect)
        .await
        .map_err(|_| BadRequest::BodyTimeout(limits.body_timeout.as_millis()))?
}

async fn handle(state: Arc<AppState>, webhook: Webhook, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let content_type = parts.headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes);
    // The body is read (within the limits) even when the content type is wrong: answering before
    // it is consumed makes HTTP/2 reset the stream, and clients report that instead of the 415.
    let reply = match read_body(&parts.headers, body, state.limits).await {
        Ok(bytes) => admit(&state, webhook, content_type, &bytes),
        Err(bad) => state.refuse(bad),
    };
    state
        .metrics
        .duration
        .get_or_create(&WebhookLabels {
            webhook: webhook.name(),
        })
        .observe(started.elapsed().as_secs_f64());
    reply.into_response()
}

async fn mutate_handler(State(state): State<Arc<AppState>>, request: Request) -> Response {
    handle(state, Webhook::Mutate, request).await
}

async fn validate_handler(State(state): State<Arc<AppState>>, request: Request) -> Response {
    handle(state, Webhook::Validate, request).await
}

async fn not_found(State(state): State<Arc<AppState>>) -> Response {
    state.refuse(BadRequest::NotFound).into_response()
}

async fn method_not_allowed(State(state): State<Arc<AppState>>) -> Response {
    state.refuse(BadRequest::MethodNotAllowed).into_response()
}

/// The admission port's routes: `POST /mutate`, `POST /validate`.
pub fn router(state: Arc<AppState>) -> Router {
    harden(
        Router::new()
            .route("/mutate", post(mutate_handler))
            .route("/validate", post(validate_handler)),
        state,
    )
}

/// Wraps admission routes with what every one of them gets: counted 404/405 answers and a
/// panic guard that turns a bug into a counted 500 instead of a dropped connection. Public so a
/// test can prove the guard with a handler of its own; no production route panics on purpose.
pub fn harden(routes: Router<Arc<AppState>>, state: Arc<AppState>) -> Router {
    let metrics = state.metrics.clone();
    let on_panic = move |_: Box<dyn std::any::Any + Send + 'static>| {
        metrics.panics.inc();
        tracing::error!("an admission handler panicked; answered 500");
        Reply::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error: the handler panicked; this is a bug\n".into(),
        )
        .into_response()
    };
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(CatchPanicLayer::custom(on_panic))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
        ] {
            assert_eq!(check_content_type(Some(ok.as_bytes())), Ok(()), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/jsonx",
            "application/json; charset=latin1",
            "",
        ] {
            assert!(check_content_type(Some(bad.as_bytes())).is_err(), "{bad}");
        }
        assert!(check_content_type(None).is_err());
        assert!(check_content_type(Some(&[0xff, 0xfe])).is_err());
    }
}
