//! `POST /mutate` and `POST /validate`: decode an `admission.k8s.io/v1` AdmissionReview, hand
//! the object to `neo4j_shared::engine`, encode its answer. No policy lives here. Everything a
//! client can get wrong is answered with a precise 4xx and a one-line reason, counted by reason;
//! the decoding goes through `serde_json::Value` first so that each shape error is told apart.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
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
use super::metrics::{KindLabels, Metrics, RuleLabels};
pub use super::review::Webhook;
use super::review::{FastReview, Target};
use super::strict::Budget;

const REVIEW_API_VERSION: &str = "admission.k8s.io/v1";
const REVIEW_KIND: &str = "AdmissionReview";
/// Longest transport error quoted in a `body-read` answer.
const BODY_ERROR_MAX_CHARS: usize = 120;
/// Distinct unknown kinds remembered for the log-once rule; beyond it they are logged at debug
/// so a flood of invented kinds cannot grow memory.
const UNKNOWN_KINDS_REMEMBERED: usize = 256;

/// What every admission request reads.
pub struct AppState {
    pub metrics: Arc<Metrics>,
    inventory: Arc<dyn SharedInventory>,
    pub limits: Limits,
    unknown_kinds: Mutex<HashSet<String>>,
    /// The Kubernetes cluster's DNS domain (`--cluster-domain`).
    cluster_domain: String,
    /// Requests being handled.
    in_flight: AtomicUsize,
    /// Request-body bytes held.
    body_bytes: AtomicUsize,
    /// One large review is decoded at a time, off the connections' tasks.
    large: tokio::sync::Semaphore,
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
            in_flight: AtomicUsize::new(0),
            body_bytes: AtomicUsize::new(0),
            large: tokio::sync::Semaphore::new(1),
        }
    }

    /// The state for a Kubernetes cluster whose DNS domain is `domain`.
    pub fn with_cluster_domain(mut self, domain: String) -> Self {
        self.cluster_domain = domain;
        self
    }

    /// The watch cache's inventory, answering for names in this cluster's DNS domain.
    fn in_domain(&self) -> InDomain<'_> {
        InDomain {
            inner: &*self.inventory,
            domain: &self.cluster_domain,
        }
    }

    /// Counts a request in flight, or `None` at `max_in_flight`.
    fn enter(&self) -> Option<InFlight<'_>> {
        let entered = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limits.max_in_flight).then_some(n + 1)
            })
            .is_ok();
        entered.then(|| {
            self.metrics.in_flight.inc();
            InFlight(self)
        })
    }

    /// Takes `bytes` from the body budget for a body that is `large` (beyond
    /// `inline_body_max`); false when the budget cannot give them.
    fn take_body_bytes(&self, bytes: usize, large: bool) -> bool {
        let budget = self.limits.max_body_bytes_in_flight;
        let cap = if large { budget - budget / 8 } else { budget };
        let taken = self
            .body_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(bytes).filter(|total| *total <= cap)
            })
            .is_ok();
        if taken {
            self.metrics
                .body_bytes_in_flight
                .inc_by(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        taken
    }

    fn release_body_bytes(&self, bytes: usize) {
        self.body_bytes.fetch_sub(bytes, Ordering::AcqRel);
        self.metrics
            .body_bytes_in_flight
            .dec_by(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// 503 now, counted by reason.
    fn overloaded(&self, reason: &'static str, detail: String) -> Reply {
        tracing::debug!(reason, %detail, "admission request refused: overloaded");
        self.metrics.overloaded(reason);
        Reply::text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("overloaded: {reason}: {detail}; retry\n"),
        )
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
    #[error("the review holds more than {0} JSON values (map entries and list items)")]
    TooManyValues(usize),
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
            BadRequest::TooManyValues(_) => "too-many-values",
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
            BadRequest::TooLarge(_) | BadRequest::TooManyValues(_) => StatusCode::PAYLOAD_TOO_LARGE,
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

/// Findings listed in one answer; the rest are counted in a last line. A review can hold
/// thousands of bad values, and the answer goes into the API server's error and the user's
/// terminal.
pub const MAX_FINDINGS_LISTED: usize = 50;
/// Longest line of a denial message; longer ones (an echoed value, a decode error quoting a
/// huge string) are cut with "…".
pub const DENIAL_LINE_MAX_CHARS: usize = 1000;

/// `status.message` of a denial: every violated rule as `<rule>: <field>: <message>`, one per
/// line (kubectl prints the message verbatim after "denied the request: ", so a list of lines
/// stays readable where "; " would make one very long line); at most
/// [`MAX_FINDINGS_LISTED`] lines of at most [`DENIAL_LINE_MAX_CHARS`], then how many more.
pub fn denial_message(decision: &AdmissionDecision) -> String {
    let listed = decision
        .errors
        .iter()
        .take(MAX_FINDINGS_LISTED)
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let mut lines: Vec<String> = listed
        .lines()
        .map(|l| one_line(l, DENIAL_LINE_MAX_CHARS))
        .collect();
    let more = decision.errors.len().saturating_sub(MAX_FINDINGS_LISTED);
    if more > 0 {
        lines.push(format!(
            "… and {more} more violations ({} in all; `neo4j-webhook check` lists them all)",
            decision.errors.len()
        ));
    }
    lines.join("\n")
}

/// The warnings of an answer: at most [`MAX_FINDINGS_LISTED`] lines, then how many more.
fn capped_warnings(warnings: &[Finding]) -> Vec<String> {
    let mut out: Vec<String> = warnings
        .iter()
        .take(MAX_FINDINGS_LISTED)
        .map(warning_line)
        .collect();
    let more = warnings.len().saturating_sub(MAX_FINDINGS_LISTED);
    if more > 0 {
        out.push(format!(
            "… and {more} more warnings ({} in all; `neo4j-webhook check` lists them all)",
            warnings.len()
        ));
    }
    out
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

/// [`admit`] the exact way only (what it falls back to when the fast way declines), so tests
/// can hold the two ways to the same answer byte for byte.
pub fn admit_exact(
    state: &AppState,
    webhook: Webhook,
    content_type: Option<&[u8]>,
    body: &[u8],
) -> Reply {
    let reply = check_content_type(content_type).and_then(|()| {
        if body.len() > state.limits.max_body_bytes {
            return Err(BadRequest::TooLarge(state.limits.max_body_bytes));
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(BadRequest::Empty);
        }
        exact(state, webhook, body)
    });
    match reply {
        Ok(reply) => reply,
        Err(bad) => state.refuse(bad),
    }
}

/// Whether `body` would be answered the fast way (for tests and benchmarks).
pub fn takes_fast_way(state: &AppState, webhook: Webhook, body: &[u8]) -> bool {
    super::review::fast(body, webhook, &Budget::new(state.limits.max_review_values)).is_some()
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
    let budget = Budget::new(state.limits.max_review_values);
    if let Some(fast) = super::review::fast(body, webhook, &budget) {
        return Ok(answer_fast(state, webhook, fast));
    }
    exact(state, webhook, body)
}

/// The answer to a review decoded the fast way ([`super::review`]).
fn answer_fast(state: &AppState, webhook: Webhook, fast: FastReview<'_>) -> Reply {
    let operation = fast.operation;
    let (kind, answer) = match fast.target {
        Target::Unknown { group, kind } => {
            state.note_unknown_kind(&group, &kind);
            count_request(state, webhook, None, operation, "allowed");
            return encode(state, &fast.uid, Answer::allow());
        }
        Target::Nothing(kind) => (kind, Answer::allow()),
        Target::Validate { new, api_version } => {
            let kind = new.kind();
            let decision = super::review::validate(new, &api_version, &state.in_domain());
            (kind, validate_answer(state, kind, &decision))
        }
        Target::ValidateUpdate { pair, api_version } => {
            let kind = pair.kind();
            let decision = super::review::validate_update(pair, &api_version, &state.in_domain());
            (kind, validate_answer(state, kind, &decision))
        }
        Target::Mutate { new, spec } => {
            let kind = new.kind();
            let patch = super::review::mutate(new, spec.as_ref());
            (kind, mutate_answer(state, kind, patch))
        }
    };
    count_request(state, webhook, Some(kind), operation, answer.result);
    encode(state, &fast.uid, answer)
}

/// The exact way: the body parsed into a `serde_json::Value` (minus what is never read), every
/// shape error told apart.
fn exact(state: &AppState, webhook: Webhook, body: &[u8]) -> Result<Reply, BadRequest> {
    // managedFields (the largest part of a review) are skipped while parsing, and so is the
    // content of oldObject for /mutate: neither is ever read.
    let budget = Budget::new(state.limits.max_review_values);
    let value: Value =
        super::decode::review(body, webhook == Webhook::Validate, &budget).map_err(|e| {
            if budget.spent() {
                BadRequest::TooManyValues(state.limits.max_review_values)
            } else {
                json_error(&e)
            }
        })?;
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
        count_request(state, webhook, None, operation, "allowed");
        return Ok(encode(state, uid, Answer::allow()));
    };
    if matches!(operation, Operation::Delete | Operation::Connect) {
        // Nothing to default or check on a deletion or a connect; the engine agrees.
        count_request(state, webhook, Some(kind), operation, "allowed");
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
    let answer = match webhook {
        Webhook::Mutate => {
            mutate_answer(state, kind, engine::mutate(kind, object).map(|m| m.patch))
        }
        Webhook::Validate => {
            let in_domain = state.in_domain();
            let decision = engine::validate(kind, operation, old_object, object, &in_domain);
            validate_answer(state, kind, &decision)
        }
    };
    count_request(state, webhook, Some(kind), operation, answer.result);
    Ok(encode(state, uid, answer))
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
    kind: Option<Kind>,
    operation: Operation,
    result: &'static str,
) {
    state
        .metrics
        .count_request(webhook.name(), kind, operation, result);
}

/// Defaults as a JSON patch (base64 of its JSON, as the API server wants it). Rule warnings
/// are left to the validating webhook so kubectl does not print each twice.
fn mutate_answer(
    state: &AppState,
    kind: Kind,
    patch: Result<json_patch::Patch, engine::DecodeError>,
) -> Answer {
    let kind = kind.name();
    match patch {
        Ok(patch) if patch.0.is_empty() => Answer::allow(),
        Ok(patch) => {
            let encoded = BUFFERS.with(|buffers| {
                let mut buffers = buffers.borrow_mut();
                let Buffers { json, .. } = &mut *buffers;
                json.clear();
                serde_json::to_writer(&mut *json, &patch)
                    .map(|()| base64::engine::general_purpose::STANDARD.encode(&json[..]))
            });
            match encoded {
                Ok(patch) => {
                    state
                        .metrics
                        .patches
                        .get_or_create(&KindLabels { kind })
                        .inc();
                    Answer {
                        patch: Some(patch),
                        ..Answer::allow()
                    }
                }
                // A patch is strings and values only; failing to encode one is a bug, and
                // admitting without defaults is what the validating webhook can still judge.
                Err(e) => {
                    tracing::error!(error = %e, kind, "encoding a JSON patch failed");
                    Answer {
                        result: "error",
                        ..Answer::allow()
                    }
                }
            }
        }
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

fn validate_answer(state: &AppState, kind: Kind, decision: &AdmissionDecision) -> Answer {
    let kind = kind.name();
    for w in &decision.warnings {
        state
            .metrics
            .warnings
            .get_or_create(&RuleLabels { kind, rule: w.rule })
            .inc();
    }
    let warnings = capped_warnings(&decision.warnings);
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
            message: denial_message(decision),
        }),
        warnings,
    }
}

/// Buffers the encoders write into, kept per thread so a request allocates only its answer.
#[derive(Default)]
struct Buffers {
    /// JSON of a patch, before base64.
    json: Vec<u8>,
    /// The response body.
    out: Vec<u8>,
}

/// A buffer that grew past this is dropped after use rather than kept.
const BUFFER_KEEP_MAX: usize = 64 * 1024;

thread_local! {
    static BUFFERS: std::cell::RefCell<Buffers> = std::cell::RefCell::new(Buffers::default());
}

fn trim(buffer: &mut Vec<u8>) {
    if buffer.capacity() > BUFFER_KEEP_MAX {
        *buffer = Vec::new();
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
    let encoded = BUFFERS.with(|buffers| {
        let mut buffers = buffers.borrow_mut();
        let Buffers { json, out: body } = &mut *buffers;
        trim(json);
        body.clear();
        let encoded = serde_json::to_writer(&mut *body, &out).map(|()| body.clone());
        trim(body);
        encoded
    });
    match encoded {
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

/// A request counted in flight until dropped.
struct InFlight<'a>(&'a AppState);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.metrics.in_flight.dec();
    }
}

/// A request body, holding its share of the body budget until dropped. A small body stays the
/// chunks it arrived in (no copy). A large one is copied into one buffer sized to its announced
/// length as it arrives, so the budget counts the memory it really holds: chunks would pin the
/// connection's read buffers, which are larger than the data they carry. (Copying the parts of
/// small bodies out as they arrive was tried: at 4 HTTP/2 connections × 128 streams, where most
/// bodies wait for their last frame behind the other streams', the peak rose from about 20 to
/// 31–36 MiB, each waiting body then holding a buffer of its whole length instead of a part of a
/// read buffer that other streams' frames share.)
struct BodyChunks {
    state: Arc<AppState>,
    chunks: Vec<Bytes>,
    joined: Vec<u8>,
    len: usize,
    /// Bytes of the body budget this body holds.
    held: usize,
}

impl Drop for BodyChunks {
    fn drop(&mut self) {
        self.state.release_body_bytes(self.held);
    }
}

impl BodyChunks {
    /// Calls `f` with the body as one slice: the joined buffer or the one chunk when there is
    /// one, else a copy in a per-thread buffer.
    fn with_slice<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        if !self.joined.is_empty() {
            return f(&self.joined);
        }
        match self.chunks.as_slice() {
            [] => f(&[]),
            [one] => f(one),
            many => SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                scratch.clear();
                for chunk in many {
                    scratch.extend_from_slice(chunk);
                }
                let result = f(&scratch);
                trim(&mut scratch);
                result
            }),
        }
    }

    /// Takes `bytes` more of the budget; false when it cannot give them.
    fn hold(&mut self, bytes: usize, large: bool) -> bool {
        let taken = bytes == 0 || self.state.take_body_bytes(bytes, large);
        if taken {
            self.held += bytes;
        }
        taken
    }

    /// Adds a chunk; false when the budget cannot hold it.
    fn push(&mut self, data: Bytes, large: bool, limits: &Limits) -> bool {
        let len = self.len + data.len();
        if !large {
            // A small body holds exactly its length.
            if !self.hold(data.len(), false) {
                return false;
            }
            self.chunks.push(data);
            self.len = len;
            return true;
        }
        if len > self.joined.capacity() {
            // The announced length was held up front; without one, grow by doubling (the
            // caller has refused anything past the body limit already).
            let capacity = len
                .max(self.joined.capacity() * 2)
                .min(limits.max_body_bytes);
            if !self.hold(capacity.saturating_sub(self.held), true) {
                return false;
            }
            self.joined.reserve_exact(capacity - self.joined.len());
        }
        for chunk in self.chunks.drain(..) {
            self.joined.extend_from_slice(&chunk);
        }
        self.joined.extend_from_slice(&data);
        self.len = len;
        true
    }
}

thread_local! {
    /// Where a small body that arrived in several chunks is joined.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Why a body was not read.
enum Unread {
    Bad(BadRequest),
    /// The body budget cannot hold it.
    Budget(String),
}

/// Reads the body within the limits: 413 past the size limit (from Content-Length when it is
/// announced, before reading anything), 408 when it does not arrive in time, 503 when the body
/// budget cannot hold it (a large announced body takes its whole length from the budget before
/// anything is read, so a client trickling it cannot hold more than it was given).
async fn read_body(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    body: Body,
) -> Result<BodyChunks, Unread> {
    let limits = state.limits;
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limits.max_body_bytes) {
        return Err(Unread::Bad(BadRequest::TooLarge(limits.max_body_bytes)));
    }
    let announced_large = announced.is_some_and(|n| n > limits.inline_body_max);
    let budget_error = |len: usize| {
        Unread::Budget(format!(
            "request bodies in flight would exceed {} bytes (this one: {} bytes so far)",
            limits.max_body_bytes_in_flight, len
        ))
    };
    let mut received = BodyChunks {
        state: state.clone(),
        chunks: Vec::new(),
        joined: Vec::new(),
        len: 0,
        held: 0,
    };
    // Refused before reading when it cannot fit now.
    if let Some(n) = announced {
        if announced_large {
            if !received.hold(n, true) {
                return Err(budget_error(n));
            }
            received.joined.reserve_exact(n);
        } else if !state.take_body_bytes(n, false) {
            return Err(budget_error(n));
        } else {
            state.release_body_bytes(n);
        }
    }
    let collect = async move {
        let mut body = body;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                Unread::Bad(BadRequest::BodyRead(one_line(
                    &e.to_string(),
                    BODY_ERROR_MAX_CHARS,
                )))
            })?;
            if let Ok(data) = frame.into_data() {
                let len = received.len + data.len();
                if len > limits.max_body_bytes {
                    return Err(Unread::Bad(BadRequest::TooLarge(limits.max_body_bytes)));
                }
                let large = announced_large || len > limits.inline_body_max;
                if !received.push(data, large, &limits) {
                    return Err(budget_error(len));
                }
            }
        }
        Ok(received)
    };
    tokio::time::timeout(limits.body_timeout, collect)
        .await
        .map_err(|_| Unread::Bad(BadRequest::BodyTimeout(limits.body_timeout.as_millis())))?
}

async fn handle(state: Arc<AppState>, webhook: Webhook, request: Request) -> Response {
    let started = Instant::now();
    let reply = match state.enter() {
        None => state.overloaded(
            "in-flight-limit",
            format!("{} requests are being handled", state.limits.max_in_flight),
        ),
        Some(in_flight) => {
            let (parts, body) = request.into_parts();
            // The body is read (within the limits) even when the content type is wrong:
            // answering before it is consumed makes HTTP/2 reset the stream, and clients report
            // that instead of the 415.
            let reply = match read_body(&state, &parts.headers, body).await {
                Ok(body) => {
                    let content_type = parts.headers.get(CONTENT_TYPE).cloned();
                    let arrived = Instant::now();
                    let reply = decide(&state, webhook, content_type, body).await;
                    state
                        .metrics
                        .decision
                        .observe(webhook.name(), arrived.elapsed().as_secs_f64());
                    reply
                }
                Err(Unread::Bad(bad)) => state.refuse(bad),
                Err(Unread::Budget(detail)) => state.overloaded("body-budget", detail),
            };
            drop(in_flight);
            reply
        }
    };
    state
        .metrics
        .duration
        .observe(webhook.name(), started.elapsed().as_secs_f64());
    reply.into_response()
}

/// Decodes and admits a body that has arrived: small ones right here, large ones one at a time
/// on a blocking thread.
async fn decide(
    state: &Arc<AppState>,
    webhook: Webhook,
    content_type: Option<HeaderValue>,
    body: BodyChunks,
) -> Reply {
    let admit_body = move |state: &AppState, body: &BodyChunks| {
        body.with_slice(|bytes| {
            admit(
                state,
                webhook,
                content_type.as_ref().map(HeaderValue::as_bytes),
                bytes,
            )
        })
    };
    if body.len <= state.limits.inline_body_max {
        return admit_body(state, &body);
    }
    // The semaphore is never closed; a closed one would only mean: decode here.
    let permit = state.large.acquire().await.ok();
    let task_state = state.clone();
    let decided = tokio::task::spawn_blocking(move || {
        let reply = admit_body(&task_state, &body);
        drop(body);
        reply
    })
    .await;
    drop(permit);
    decided.unwrap_or_else(|_| {
        state.metrics.panics.inc();
        tracing::error!("deciding a large review panicked; answered 500");
        Reply::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error: the handler panicked; this is a bug\n".into(),
        )
    })
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
