//! The one error type of the controller. Every variant maps to a fixed metric label, so errors
//! become `result` labels without string matching.

use crate::fence::NotLeader;

/// What can go wrong in a reconcile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to the API server failed (network, 5xx, 409, ...): transient, retried with backoff.
    #[error("API call {verb} {resource}/{name} failed: {source}")]
    Kube {
        verb: &'static str,
        resource: String,
        name: String,
        #[source]
        source: Box<kube::Error>,
    },
    /// A desired object could not be turned into an API request.
    #[error("serializing {what} failed: {source}")]
    Serialize {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// The object asks for cert-manager, whose CRD is not installed.
    #[error(
        "spec.tls.mode is cert-manager but the cert-manager.io Certificate CRD is not installed"
    )]
    CertManagerMissing,
    /// The object lacks a name or namespace (never happens for objects from a watch).
    #[error("object has no {0}")]
    MissingField(&'static str),
    /// This replica does not hold the lease with margin: nothing was sent (`fence.rs`).
    #[error(transparent)]
    NotLeader(#[from] NotLeader),
}

impl Error {
    /// The `result` label of `neo4j_controller_reconciles_total` for this error.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube { source, .. } if is_conflict(source) => "conflict",
            Error::Kube { source, .. } if is_rejection(source) => "rejected",
            Error::Kube { .. } => "kube_error",
            Error::Serialize { .. } => "serialize_error",
            Error::CertManagerMissing => "cert_manager_missing",
            Error::MissingField(_) => "missing_field",
            Error::NotLeader(_) => "not_leader",
        }
    }

    /// Every `result` label an error can give (for creating the series at start-up).
    pub const LABELS: [&'static str; 7] = [
        "conflict",
        "rejected",
        "kube_error",
        "serialize_error",
        "cert_manager_missing",
        "missing_field",
        "not_leader",
    ];

    /// Whether retrying can help without a change of the object (used by the error policy).
    /// A refused request is retried too (with backoff): what refused it — a quota, a policy,
    /// a webhook — can change without the object changing.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Kube { .. } | Error::CertManagerMissing)
    }

    /// Whether the API server refused the request itself (it will fail again until something
    /// changes), as opposed to failing to answer it.
    pub fn is_rejection(&self) -> bool {
        matches!(self, Error::Kube { source, .. } if is_rejection(source))
    }

    /// What the status and the event say: the request and the API server's own message.
    pub fn status_message(&self) -> String {
        match self {
            Error::Kube {
                verb,
                resource,
                name,
                source,
            } => {
                let why = match &**source {
                    kube::Error::Api(status) if !status.message.is_empty() => {
                        status.message.clone()
                    }
                    other => other.to_string(),
                };
                format!("{verb} {resource}/{name}: {why}")
            }
            other => other.to_string(),
        }
    }

    /// A client error becomes [`Error::NotLeader`] when the fence refused the request.
    pub fn kube(
        verb: &'static str,
        resource: impl Into<String>,
        name: impl Into<String>,
        source: kube::Error,
    ) -> Self {
        if is_fenced(&source) {
            return Error::NotLeader(NotLeader);
        }
        Error::Kube {
            verb,
            resource: resource.into(),
            name: name.into(),
            source: Box::new(source),
        }
    }
}

/// Whether the fence layer refused the request (it was never sent).
fn is_fenced(e: &kube::Error) -> bool {
    match e {
        kube::Error::Service(inner) => inner.is::<NotLeader>(),
        _ => false,
    }
}

/// A 4xx answer other than 404 (gone), 408 (timeout), 409 (conflict) and 429 (throttled): the
/// API server or an admission step refused the request (invalid, forbidden, too large).
pub fn is_rejection(e: &kube::Error) -> bool {
    matches!(api_code(e), Some(code) if (400..500).contains(&code) && ![404, 408, 409, 429].contains(&code))
}

/// HTTP status of an API error, if the error is one.
pub fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

pub fn is_conflict(e: &kube::Error) -> bool {
    api_code(e) == Some(409)
}

pub fn is_not_found(e: &kube::Error) -> bool {
    api_code(e) == Some(404)
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            ..Default::default()
        }))
    }

    #[test]
    fn every_error_has_a_stable_label() {
        let cases: Vec<(Error, &str, bool)> = vec![
            (
                Error::kube("apply", "statefulsets", "g-server", api_error(409)),
                "conflict",
                true,
            ),
            (
                Error::kube("apply", "services", "g-client", api_error(500)),
                "kube_error",
                true,
            ),
            (
                Error::Serialize {
                    what: "status".into(),
                    source: serde_json::from_str::<u8>("x").unwrap_err(),
                },
                "serialize_error",
                false,
            ),
            (Error::CertManagerMissing, "cert_manager_missing", true),
            (Error::MissingField("namespace"), "missing_field", false),
            (
                Error::kube("apply", "services", "g-client", api_error(422)),
                "rejected",
                true,
            ),
            (Error::NotLeader(NotLeader), "not_leader", false),
            (
                Error::kube(
                    "apply",
                    "services",
                    "g-client",
                    kube::Error::Service(Box::new(NotLeader)),
                ),
                "not_leader",
                false,
            ),
        ];
        for (err, label, transient) in cases {
            assert_eq!(err.metric_label(), label, "{err}");
            assert_eq!(err.is_transient(), transient, "{err}");
            assert!(Error::LABELS.contains(&label), "{label}");
        }
    }

    #[test]
    fn refusals_are_told_from_failures_and_carry_the_api_servers_message() {
        for (code, rejected) in [
            (400, true),
            (403, true),
            (422, true),
            (404, false),
            (409, false),
            (429, false),
            (500, false),
            (503, false),
        ] {
            let e = Error::kube("apply", "statefulsets", "g-server", api_error(code));
            assert_eq!(e.is_rejection(), rejected, "{code}");
        }
        let e = Error::kube(
            "apply",
            "services",
            "g-client",
            kube::Error::Api(Box::new(kube::core::Status {
                code: 422,
                message: "Service \"g-client\" is invalid: metadata.annotations: Invalid value"
                    .into(),
                ..Default::default()
            })),
        );
        assert_eq!(
            e.status_message(),
            "apply services/g-client: Service \"g-client\" is invalid: metadata.annotations: Invalid value"
        );
    }

    #[test]
    fn classifies_api_codes() {
        assert!(is_conflict(&api_error(409)));
        assert!(!is_conflict(&api_error(404)));
        assert!(is_not_found(&api_error(404)));
    }
}
