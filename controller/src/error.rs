//! The one error type of the controller. Every variant maps to a fixed metric label, so errors
//! become `result` labels without string matching.

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
}

impl Error {
    /// The `result` label of `neo4j_controller_reconciles_total` for this error.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube { source, .. } if is_conflict(source) => "conflict",
            Error::Kube { .. } => "kube_error",
            Error::Serialize { .. } => "serialize_error",
            Error::CertManagerMissing => "cert_manager_missing",
            Error::MissingField(_) => "missing_field",
        }
    }

    /// Whether retrying can help without a change of the object (used by the error policy).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Kube { .. } | Error::CertManagerMissing)
    }

    pub fn kube(
        verb: &'static str,
        resource: impl Into<String>,
        name: impl Into<String>,
        source: kube::Error,
    ) -> Self {
        Error::Kube {
            verb,
            resource: resource.into(),
            name: name.into(),
            source: Box::new(source),
        }
    }
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
        ];
        for (err, label, transient) in cases {
            assert_eq!(err.metric_label(), label, "{err}");
            assert_eq!(err.is_transient(), transient, "{err}");
        }
    }

    #[test]
    fn classifies_api_codes() {
        assert!(is_conflict(&api_error(409)));
        assert!(!is_conflict(&api_error(404)));
        assert!(is_not_found(&api_error(404)));
    }
}
