//! Status of clusters and standalones, computed by a pure function from what the controller
//! observed of the children (its caches), the validation verdict and the previous status.
//! The same inputs always give an equal status — `now` is a parameter, and a condition keeps
//! its `lastTransitionTime` while its status and reason stay — so a steady object renders a
//! byte-identical status and costs no write.
//!
//! Phases:
//! - `Failed`: the spec fails validation, or its objects cannot be rendered; nothing is applied.
//! - `Pending`: the StatefulSet is not observed yet, or the first certificate is observed not
//!   ready while no server runs.
//! - `Initializing`: servers are starting — first formation, scaling, or servers recovering.
//! - `Upgrading`: an established instance (one that has been Ready, so `status.version` is
//!   set) is replacing pods: the StatefulSet's `updateRevision` differs from its
//!   `currentRevision` (an image change, or a configuration change rolled by the config hash).
//! - `Ready`: every desired server is ready on the current revision; `version` becomes the tag.
//! - `Failed` also when the API server refuses what the controller applies, or its writes keep
//!   failing ([`WriteFailure`]): the `Ready` condition carries the reason and the API server's
//!   message.
//! - `Terminating`: the object is being deleted and the deletion cannot finish yet (its
//!   finalizer's work keeps failing); the `Ready` condition says why.
//!
//! Conditions, in this order: `Ready`, `Valid`, `Progressing`, `Degraded` (fewer than a
//! majority of the servers ready on an established instance), and `SecretsReady` once the
//! controller has checked the Secrets the pods need (`crate::secrets`). A Secret problem also
//! becomes the reason of `Ready` while the instance is not ready: it is why.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::names::{ClusterNames, StandaloneNames};
use crate::render::{RenderError, cert_manager_tls};
use crate::secrets::SecretProblem;
use crate::text::one_line;
use crate::types::{
    ConnectionExamples, EndpointStatus, InternalEndpoints, Neo4jEnterpriseCluster,
    Neo4jEnterpriseClusterStatus, Neo4jEnterpriseStandalone, Neo4jEnterpriseStandaloneStatus,
    ReplicaStatus,
};
use crate::verdict::Verdict;

/// Where a cluster or standalone stands, as written to `status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Initializing,
    Ready,
    Upgrading,
    Failed,
    Terminating,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::Pending,
        Phase::Initializing,
        Phase::Ready,
        Phase::Upgrading,
        Phase::Failed,
        Phase::Terminating,
    ];

    /// The phase as it appears in `status.phase` (and the `phase` metric label).
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Initializing => "Initializing",
            Phase::Ready => "Ready",
            Phase::Upgrading => "Upgrading",
            Phase::Failed => "Failed",
            Phase::Terminating => "Terminating",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The condition types, in the order they appear in `status.conditions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionType {
    Ready,
    Valid,
    Progressing,
    Degraded,
    SecretsReady,
}

impl ConditionType {
    pub const ALL: [ConditionType; 5] = [
        ConditionType::Ready,
        ConditionType::Valid,
        ConditionType::Progressing,
        ConditionType::Degraded,
        ConditionType::SecretsReady,
    ];

    /// The condition's `type` as written to the status.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConditionType::Ready => "Ready",
            ConditionType::Valid => "Valid",
            ConditionType::Progressing => "Progressing",
            ConditionType::Degraded => "Degraded",
            ConditionType::SecretsReady => "SecretsReady",
        }
    }
}

pub mod database;
pub mod plugin;

/// Longest condition message; the list of findings is cut there.
pub(crate) const MESSAGE_MAX_CHARS: usize = 1000;

/// Why the controller's writes for an object fail, as its status reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The API server (or an admission step) refused an apply: it fails again until the object
    /// or what refused it changes. Reason `ApplyRejected`.
    Rejected,
    /// Writes keep failing (the API server unreachable, timing out, answering 5xx). Reason
    /// `ApiError`.
    Unavailable,
    /// The object is being deleted and its finalizer's work keeps failing. Reason
    /// `DeletionBlocked`.
    DeletionBlocked,
}

impl FailureKind {
    pub const fn reason(self) -> &'static str {
        match self {
            FailureKind::Rejected => "ApplyRejected",
            FailureKind::Unavailable => "ApiError",
            FailureKind::DeletionBlocked => "DeletionBlocked",
        }
    }
}

/// A write failure the status reports: its kind and the API server's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFailure {
    pub kind: FailureKind,
    pub message: String,
}

/// What the controller observed of an instance's children, all optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// The instance's StatefulSet from the cache (`<c>-server` of a cluster, `<s>` of a
    /// standalone).
    pub statefulset: Option<StatefulSet>,
    /// The `Ready` condition of the instance's Certificate (cert-manager mode: `<c>-tls`,
    /// `<s>-tls-cert`); `None` when not observed (then nothing is claimed about it).
    pub certificate_ready: Option<bool>,
    /// Rendering failed, so nothing was applied.
    pub render_error: Option<RenderError>,
    /// The controller's writes for the object fail (refused, or failing for a while).
    pub write_failure: Option<WriteFailure>,
    /// The object is being deleted.
    pub deleting: bool,
    /// What keeps the Secrets the pods need from working (`crate::secrets`); `None` when they
    /// were not checked (then no `SecretsReady` condition is written).
    pub secrets: Option<Vec<SecretProblem>>,
    /// The cluster's DNS domain, for the endpoints (`None`: `cluster.local`).
    pub cluster_domain: Option<String>,
}

impl Observed {
    fn domain(&self) -> &str {
        self.cluster_domain
            .as_deref()
            .unwrap_or(crate::names::DEFAULT_CLUSTER_DOMAIN)
    }
}

/// The status of a cluster. `now` stamps conditions that change.
pub fn cluster(
    c: &Neo4jEnterpriseCluster,
    observed: &Observed,
    validation: &Verdict,
    previous: Option<&Neo4jEnterpriseClusterStatus>,
    now: Time,
) -> Neo4jEnterpriseClusterStatus {
    let desired = c.spec.topology.servers;
    let o = evaluate(&Inputs {
        generation: c.metadata.generation,
        tag: &c.spec.image.tag,
        desired,
        tls: cert_manager_tls(c.spec.tls.as_ref()),
        statefulset: observed.statefulset.as_ref(),
        certificate_ready: observed.certificate_ready,
        render_error: observed.render_error.as_ref(),
        write_failure: observed.write_failure.as_ref(),
        deleting: observed.deleting,
        secrets: observed.secrets.as_deref(),
        validation,
        previous_conditions: previous.and_then(|p| p.conditions.as_deref()),
        previous_version: previous.and_then(|p| p.version.as_deref()),
        unit: "servers",
        now: &now,
    });
    let endpoints = c.metadata.namespace.as_deref().and_then(|ns| {
        let names = c.metadata.name.as_deref().map(ClusterNames::new)?;
        let client = names.client_fqdn_in(ns, observed.domain());
        let mut e = endpoints(&client, &names.client_service(), ns, o.tls);
        e.internal = Some(InternalEndpoints {
            headless: Some(names.headless_fqdn_in(ns, observed.domain())),
            client: Some(client),
        });
        Some(e)
    });
    Neo4jEnterpriseClusterStatus {
        conditions: Some(o.conditions),
        replicas: Some(ReplicaStatus {
            servers: Some(desired),
            ready: Some(o.ready_servers),
        }),
        ready: Some(o.phase == Phase::Ready),
        phase: Some(o.phase.as_str().to_string()),
        message: Some(o.message),
        endpoints,
        last_upgrade_time: last_upgrade_time(
            previous.and_then(|p| p.version.as_deref()),
            o.version.as_deref(),
            previous.and_then(|p| p.last_upgrade_time.as_ref()),
            &now,
        ),
        version: o.version,
        observed_generation: c.metadata.generation,
        ..Default::default()
    }
}

/// The status of a standalone. `now` stamps conditions that change.
pub fn standalone(
    s: &Neo4jEnterpriseStandalone,
    observed: &Observed,
    validation: &Verdict,
    previous: Option<&Neo4jEnterpriseStandaloneStatus>,
    now: Time,
) -> Neo4jEnterpriseStandaloneStatus {
    let o = evaluate(&Inputs {
        generation: s.metadata.generation,
        tag: &s.spec.image.tag,
        desired: 1,
        tls: cert_manager_tls(s.spec.tls.as_ref()),
        statefulset: observed.statefulset.as_ref(),
        certificate_ready: observed.certificate_ready,
        render_error: observed.render_error.as_ref(),
        write_failure: observed.write_failure.as_ref(),
        deleting: observed.deleting,
        secrets: observed.secrets.as_deref(),
        validation,
        previous_conditions: previous.and_then(|p| p.conditions.as_deref()),
        previous_version: previous.and_then(|p| p.version.as_deref()),
        unit: "server",
        now: &now,
    });
    let endpoints = s.metadata.namespace.as_deref().and_then(|ns| {
        let names = s.metadata.name.as_deref().map(StandaloneNames::new)?;
        Some(endpoints(
            &names.client_fqdn_in(ns, observed.domain()),
            &names.client_service(),
            ns,
            o.tls,
        ))
    });
    Neo4jEnterpriseStandaloneStatus {
        conditions: Some(o.conditions),
        ready: Some(o.phase == Phase::Ready),
        phase: Some(o.phase.as_str().to_string()),
        message: Some(o.message),
        endpoints,
        version: o.version,
        observed_generation: s.metadata.generation,
        ..Default::default()
    }
}

/// Set when the running version moves from one tag to another; otherwise kept.
fn last_upgrade_time(
    before: Option<&str>,
    after: Option<&str>,
    previous: Option<&Time>,
    now: &Time,
) -> Option<Time> {
    match (before, after) {
        (Some(b), Some(a)) if a != b => Some(now.clone()),
        _ => previous.cloned(),
    }
}

fn endpoints(client_fqdn: &str, client_service: &str, ns: &str, tls: bool) -> EndpointStatus {
    let s = if tls { "+s" } else { "" };
    EndpointStatus {
        bolt: Some(format!("bolt{s}://{client_fqdn}:7687")),
        http: Some(format!("http://{client_fqdn}:7474")),
        https: tls.then(|| format!("https://{client_fqdn}:7473")),
        internal: None,
        connection_examples: Some(ConnectionExamples {
            port_forward: Some(format!(
                "kubectl port-forward -n {ns} svc/{client_service} 7474:7474 7687:7687"
            )),
            browser_url: Some("http://localhost:7474".into()),
            bolt_uri: Some("bolt://localhost:7687".into()),
            neo4j_uri: Some(format!("neo4j{s}://{client_fqdn}:7687")),
            ..Default::default()
        }),
    }
}

struct Inputs<'a> {
    generation: Option<i64>,
    tag: &'a str,
    desired: i32,
    tls: bool,
    statefulset: Option<&'a StatefulSet>,
    certificate_ready: Option<bool>,
    render_error: Option<&'a RenderError>,
    write_failure: Option<&'a WriteFailure>,
    deleting: bool,
    secrets: Option<&'a [SecretProblem]>,
    validation: &'a Verdict,
    previous_conditions: Option<&'a [Condition]>,
    previous_version: Option<&'a str>,
    /// "servers" or "server", for messages.
    unit: &'static str,
    now: &'a Time,
}

/// What [`evaluate`] found: the phase and the fields of the status that follow from it.
struct Evaluation {
    phase: Phase,
    message: String,
    ready_servers: i32,
    version: Option<String>,
    tls: bool,
    conditions: Vec<Condition>,
}

/// What the StatefulSet says about the rollout.
struct Rollout {
    ready: i32,
    /// The StatefulSet controller has seen the latest spec, every pod runs the update
    /// revision, and there are exactly as many pods as desired.
    settled: bool,
    /// Pods are being replaced by a new revision.
    replacing: bool,
}

fn rollout(sts: &StatefulSet, desired: i32) -> Rollout {
    let status = sts.status.clone().unwrap_or_default();
    let seen = match (sts.metadata.generation, status.observed_generation) {
        (Some(generation), Some(observed)) => observed >= generation,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let replacing = matches!(
        (status.current_revision.as_deref(), status.update_revision.as_deref()),
        (Some(current), Some(update)) if current != update
    );
    let ready = status.ready_replicas.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    Rollout {
        ready,
        settled: seen && !replacing && status.replicas == desired && updated >= desired,
        replacing,
    }
}

/// Majority of `n` servers.
fn majority(n: i32) -> i32 {
    n / 2 + 1
}

/// Where the instance stands and why: the phase, and the reason and message its `Ready` and
/// `Progressing` conditions carry.
struct Standing {
    phase: Phase,
    reason: &'static str,
    message: String,
}

fn evaluate(i: &Inputs<'_>) -> Evaluation {
    let established = i.previous_version.is_some();
    let unit = i.unit;
    let desired = i.desired;
    let mut ready_servers = 0;
    let mut version = i.previous_version.map(str::to_string);

    let (phase, reason, message): (Phase, &'static str, String) = if !i.validation.errors.is_empty()
    {
        (
            Phase::Failed,
            "ValidationFailed",
            format!(
                "validation failed: {}",
                unique(&i.validation.error_rules()).join(", ")
            ),
        )
    } else if let Some(e) = i.render_error {
        (Phase::Failed, "RenderFailed", e.to_string())
    } else if i.deleting {
        if let Some(sts) = i.statefulset {
            ready_servers = rollout(sts, desired).ready;
        }
        match i.write_failure {
            Some(f) => (Phase::Terminating, f.kind.reason(), f.message.clone()),
            None => (
                Phase::Terminating,
                "Deleting",
                "the object is being deleted".to_string(),
            ),
        }
    } else if let Some(f) = i.write_failure {
        if let Some(sts) = i.statefulset {
            ready_servers = rollout(sts, desired).ready;
        }
        (Phase::Failed, f.kind.reason(), f.message.clone())
    } else if let Some(sts) = i.statefulset {
        let r = rollout(sts, desired);
        ready_servers = r.ready;
        let counts = format!("{}/{desired} {unit} ready", r.ready);
        if i.tls && !established && r.ready == 0 && i.certificate_ready == Some(false) {
            (
                Phase::Pending,
                "WaitingForCertificate",
                "waiting for cert-manager to issue the TLS certificate".to_string(),
            )
        } else if r.settled && r.ready >= desired {
            version = Some(i.tag.to_string());
            (Phase::Ready, "AllServersReady", counts)
        } else if established && r.replacing {
            if i.previous_version != Some(i.tag) {
                (
                    Phase::Upgrading,
                    "ImageUpgrade",
                    format!("rolling out image tag {}: {counts}", i.tag),
                )
            } else {
                (
                    Phase::Upgrading,
                    "RollingUpdate",
                    format!("rolling out a configuration change: {counts}"),
                )
            }
        } else if established {
            (Phase::Initializing, "ServersNotReady", counts)
        } else {
            (Phase::Initializing, "Forming", format!("forming: {counts}"))
        }
    } else {
        (
            Phase::Pending,
            "StatefulSetNotFound",
            "waiting for the StatefulSet to be created".to_string(),
        )
    };
    let mut standing = Standing {
        phase,
        reason,
        message,
    };
    // A Secret that stops the pods is why an instance is not ready.
    if let Some(first) = i.secrets.and_then(|p| p.first())
        && !matches!(standing.phase, Phase::Ready | Phase::Failed)
    {
        standing.reason = first.reason;
        standing.message = first.message.clone();
    }

    let conditions = [
        Some(ready_condition(&standing)),
        Some(valid_condition(i.validation)),
        Some(progressing_condition(&standing)),
        Some(degraded_condition(
            established && i.statefulset.is_some(),
            ready_servers,
            desired,
            unit,
        )),
        i.secrets.map(secrets_condition),
    ]
    .into_iter()
    .flatten()
    .map(|c| stamp(c, i.generation, i.previous_conditions, i.now))
    .collect();
    Evaluation {
        phase: standing.phase,
        message: one_line(&standing.message, MESSAGE_MAX_CHARS),
        ready_servers,
        version,
        tls: i.tls,
        conditions,
    }
}

/// `Ready`: true exactly in the Ready phase; otherwise the reason and message say why not.
fn ready_condition(s: &Standing) -> Draft {
    Draft {
        type_: ConditionType::Ready,
        status: s.phase == Phase::Ready,
        reason: s.reason,
        message: s.message.clone(),
    }
}

/// `Valid`: whether the spec passed validation, naming the rules that failed or warned.
pub(crate) fn valid_condition(validation: &Verdict) -> Draft {
    if validation.errors.is_empty() {
        let warnings = validation.warning_rules();
        let message = if warnings.is_empty() {
            "the spec passed validation".to_string()
        } else {
            format!(
                "the spec passed validation with warnings: {}",
                unique(&warnings).join(", ")
            )
        };
        Draft {
            type_: ConditionType::Valid,
            status: true,
            reason: "Validated",
            message,
        }
    } else {
        let rules = unique(&validation.error_rules()).join(", ");
        let first = validation
            .errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        Draft {
            type_: ConditionType::Valid,
            status: false,
            reason: "ValidationFailed",
            message: format!("validation failed ({rules}); first: {first}"),
        }
    }
}

/// `Progressing`: true while the instance moves toward Ready; false once it is there (reason
/// `Complete`) or has failed (with the failure's reason).
fn progressing_condition(s: &Standing) -> Draft {
    let (status, reason, message) = match s.phase {
        Phase::Ready => (
            false,
            "Complete",
            "the StatefulSet runs the current spec on every pod".to_string(),
        ),
        Phase::Failed | Phase::Terminating => (false, s.reason, s.message.clone()),
        Phase::Pending | Phase::Initializing | Phase::Upgrading => {
            (true, s.reason, s.message.clone())
        }
    };
    Draft {
        type_: ConditionType::Progressing,
        status,
        reason,
        message,
    }
}

/// `Degraded`: an established instance whose StatefulSet is observed has fewer than a majority
/// of its servers ready. `watched` says both hold; a forming instance is never degraded.
fn degraded_condition(watched: bool, ready: i32, desired: i32, unit: &str) -> Draft {
    if watched && ready < majority(desired) {
        Draft {
            type_: ConditionType::Degraded,
            status: true,
            reason: "MajorityUnavailable",
            message: format!(
                "{ready}/{desired} {unit} ready, fewer than the majority of {}",
                majority(desired)
            ),
        }
    } else {
        Draft {
            type_: ConditionType::Degraded,
            status: false,
            reason: "AsExpected",
            message: format!("{ready}/{desired} {unit} ready"),
        }
    }
}

/// `SecretsReady`: the Secrets the pods need exist and hold what the pods read.
fn secrets_condition(problems: &[SecretProblem]) -> Draft {
    match problems.first() {
        None => Draft {
            type_: ConditionType::SecretsReady,
            status: true,
            reason: "SecretsUsable",
            message: "the Secrets the servers need are present and usable".to_string(),
        },
        Some(first) => Draft {
            type_: ConditionType::SecretsReady,
            status: false,
            reason: first.reason,
            message: problems
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        },
    }
}

pub(crate) fn unique(rules: &[&'static str]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in rules {
        if !out.contains(r) {
            out.push(r);
        }
    }
    out
}

/// A condition before stamping (generation and transition time).
pub(crate) struct Draft {
    pub type_: ConditionType,
    pub status: bool,
    pub reason: &'static str,
    pub message: String,
}

/// Keeps the previous `lastTransitionTime` while status and reason are unchanged.
pub(crate) fn stamp(
    d: Draft,
    generation: Option<i64>,
    previous: Option<&[Condition]>,
    now: &Time,
) -> Condition {
    let type_ = d.type_.as_str();
    let status = if d.status { "True" } else { "False" };
    let last_transition_time = previous
        .into_iter()
        .flatten()
        .find(|p| p.type_ == type_ && p.status == status && p.reason == d.reason)
        .map(|p| p.last_transition_time.clone())
        .unwrap_or_else(|| now.clone());
    Condition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: d.reason.to_string(),
        message: one_line(&d.message, MESSAGE_MAX_CHARS),
        observed_generation: generation,
        last_transition_time,
    }
}

#[cfg(test)]
mod tests;
