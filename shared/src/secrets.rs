//! Checks of the Secrets an instance's pods need, run by the controller on the Secret objects it
//! reads (`docs/design.md`, Secrets the pods need). Each problem below makes every pod fail to
//! start — stuck in `ContainerCreating` or `CreateContainerConfigError`, or in a crash loop — so
//! it is reported as a status condition instead. No message ever holds a password or any other
//! Secret value.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;

use crate::names::ClusterNames;
use crate::render::{cert_manager_tls, strict_peer_validation};
use crate::settings::env::{self, EnvVar};
use crate::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone};

/// The user the image's entrypoint accepts in `NEO4J_AUTH`.
const ADMIN_USER: &str = "neo4j";
/// Neo4j's default `dbms.security.auth_minimum_password_length`.
const DEFAULT_MIN_PASSWORD: usize = 8;
const MIN_PASSWORD_KEY: &str = "dbms.security.auth_minimum_password_length";

/// Why a Secret keeps the pods from starting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretProblem {
    /// The condition reason: `AdminSecretMissing`, `AdminSecretInvalid`, `TLSSecretIncomplete`.
    pub reason: &'static str,
    /// One line naming the Secret and what to do; never a value from it.
    pub message: String,
}

/// The Secrets one instance's pods need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    /// The admin Secret (`spec.auth.adminSecret`, default `neo4j-admin-secret`).
    pub admin: String,
    /// The smallest password Neo4j accepts (`dbms.security.auth_minimum_password_length` from
    /// spec.env or spec.config, else 8).
    pub min_password_length: usize,
    /// The certificate Secret whose `ca.crt` the pods mount (cert-manager TLS with strict peer
    /// validation, a cluster's only), once cert-manager has written it.
    pub tls: Option<String>,
}

impl Needs {
    pub fn of_cluster(c: &Neo4jEnterpriseCluster) -> Needs {
        let name = c.metadata.name.as_deref().unwrap_or_default();
        let tls =
            cert_manager_tls(c.spec.tls.as_ref()) && strict_peer_validation(c.spec.tls.as_ref());
        Needs {
            admin: crate::render::admin_secret_name(c.spec.auth.as_ref()).to_string(),
            min_password_length: min_password_length(c.spec.config.as_ref(), c.spec.env.as_deref()),
            tls: tls.then(|| ClusterNames::new(name).tls_secret()),
        }
    }

    /// A standalone mounts no `ca.crt` (it has no peers to verify), so only its admin Secret
    /// counts.
    pub fn of_standalone(s: &Neo4jEnterpriseStandalone) -> Needs {
        Needs {
            admin: crate::render::admin_secret_name(s.spec.auth.as_ref()).to_string(),
            min_password_length: min_password_length(s.spec.config.as_ref(), s.spec.env.as_deref()),
            tls: None,
        }
    }
}

/// `dbms.security.auth_minimum_password_length` as the server will read it (a literal
/// `spec.env` value wins over `spec.config`), else Neo4j's default.
fn min_password_length(
    config: Option<&BTreeMap<String, String>>,
    env_vars: Option<&[k8s_openapi::api::core::v1::EnvVar]>,
) -> usize {
    let from_env =
        env_vars
            .into_iter()
            .flatten()
            .rev()
            .find_map(|e| match env::classify(&e.name) {
                EnvVar::Setting { key } if key == MIN_PASSWORD_KEY => e.value.clone(),
                _ => None,
            });
    from_env
        .or_else(|| config.and_then(|c| c.get(MIN_PASSWORD_KEY)).cloned())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(DEFAULT_MIN_PASSWORD)
}

/// The text of key `key` of a Secret, if present and UTF-8.
fn text<'a>(secret: &'a Secret, key: &str) -> Option<&'a str> {
    secret
        .data
        .as_ref()?
        .get(key)
        .and_then(|b| std::str::from_utf8(&b.0).ok())
}

/// What keeps the admin Secret `name` (`None`: it does not exist) from starting the pods: it
/// must hold `username` `neo4j` and a `password` the image's entrypoint and `neo4j-admin` accept
/// (at least `min_length` characters, not starting with `-`, no `/`, not `neo4j`).
pub fn admin_secret(
    name: &str,
    secret: Option<&Secret>,
    min_length: usize,
) -> Option<SecretProblem> {
    let invalid = |what: String| SecretProblem {
        reason: "AdminSecretInvalid",
        message: format!(
            "the admin Secret {name} {what}; every server fails to start until it is fixed"
        ),
    };
    let Some(secret) = secret else {
        return Some(SecretProblem {
            reason: "AdminSecretMissing",
            message: format!(
                "the admin Secret {name} does not exist, so no server can start; create it with the keys username (neo4j) and password"
            ),
        });
    };
    let Some(user) = text(secret, "username") else {
        return Some(invalid("has no key username (it must hold neo4j)".into()));
    };
    let Some(password) = text(secret, "password") else {
        return Some(invalid("has no key password".into()));
    };
    if user.trim() != ADMIN_USER {
        return Some(invalid(format!(
            "names the user {}, but the image only sets the password of neo4j; set username to neo4j",
            crate::validate::shown(user)
        )));
    }
    if password.chars().count() < min_length {
        return Some(invalid(format!(
            "holds a password shorter than {min_length} characters, which Neo4j refuses; use a longer one"
        )));
    }
    if password.starts_with('-') {
        return Some(invalid(
            "holds a password starting with '-', which neo4j-admin reads as an option; choose another".into(),
        ));
    }
    if password.contains('/') {
        return Some(invalid(
            "holds a password with '/', which the image cannot pass on (it splits NEO4J_AUTH at '/'); choose another".into(),
        ));
    }
    if password == "neo4j" {
        return Some(invalid(
            "holds the default password neo4j, which the image refuses; choose another".into(),
        ));
    }
    None
}

/// What keeps the certificate Secret `name` from being mounted with strict peer validation:
/// the pods mount `tls.crt`, `tls.key` and `ca.crt`, and an issuer that writes no `ca.crt`
/// leaves every pod in `ContainerCreating`. `None` while the Secret does not exist yet (the
/// certificate is not issued: the status says so already).
pub fn tls_secret(name: &str, secret: Option<&Secret>) -> Option<SecretProblem> {
    let secret = secret?;
    let missing: Vec<&str> = ["tls.crt", "tls.key", "ca.crt"]
        .into_iter()
        .filter(|k| {
            secret
                .data
                .as_ref()
                .and_then(|d| d.get(*k))
                .is_none_or(|b| b.0.is_empty())
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(SecretProblem {
        reason: "TLSSecretIncomplete",
        message: format!(
            "the certificate Secret {name} has no {}, which strict peer validation mounts, so the pods cannot start; use an issuer that writes the CA into the Secret (a CA or Vault issuer), or set spec.tls.strictPeerValidation: false",
            missing.join(", ")
        ),
    })
}

/// Every problem of `needs`, given the Secrets read (`admin`, and `tls` when `needs.tls`).
pub fn check(needs: &Needs, admin: Option<&Secret>, tls: Option<&Secret>) -> Vec<SecretProblem> {
    let mut out = Vec::new();
    out.extend(admin_secret(&needs.admin, admin, needs.min_password_length));
    if let Some(name) = &needs.tls {
        out.extend(tls_secret(name, tls));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use serde_json::json;

    fn secret(pairs: &[(&str, &str)]) -> Secret {
        Secret {
            data: Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn admin_secrets_that_stop_the_pods() {
        let ok = secret(&[("username", "neo4j"), ("password", "correct-horse")]);
        assert_eq!(admin_secret("a", Some(&ok), 8), None);
        let cases: Vec<(Option<Secret>, &str)> = vec![
            (None, "AdminSecretMissing"),
            (
                Some(secret(&[("password", "correct-horse")])),
                "AdminSecretInvalid",
            ),
            (Some(secret(&[("username", "neo4j")])), "AdminSecretInvalid"),
            (
                Some(secret(&[
                    ("username", "admin"),
                    ("password", "correct-horse"),
                ])),
                "AdminSecretInvalid",
            ),
            (
                Some(secret(&[("username", "neo4j"), ("password", "short")])),
                "AdminSecretInvalid",
            ),
            (
                Some(secret(&[
                    ("username", "neo4j"),
                    ("password", "-starts-with-dash"),
                ])),
                "AdminSecretInvalid",
            ),
            (
                Some(secret(&[
                    ("username", "neo4j"),
                    ("password", "has/a-slash"),
                ])),
                "AdminSecretInvalid",
            ),
        ];
        for (s, reason) in cases {
            let p = admin_secret("a", s.as_ref(), 8).expect("a problem");
            assert_eq!(p.reason, reason, "{p:?}");
            // The message names the Secret and never a password.
            assert!(p.message.contains("the admin Secret a "), "{}", p.message);
            for value in [
                "correct-horse",
                "pw1234",
                "-starts-with-dash",
                "has/a-slash",
            ] {
                assert!(!p.message.contains(value), "{}", p.message);
            }
        }
        // The minimum length is Neo4j's setting.
        let five = secret(&[("username", "neo4j"), ("password", "abcde")]);
        assert_eq!(admin_secret("a", Some(&five), 5), None);
        assert!(admin_secret("a", Some(&five), 6).is_some());
    }

    #[test]
    fn the_minimum_length_follows_the_spec() {
        let c: Neo4jEnterpriseCluster = serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
            "metadata": {"name": "graph", "namespace": "db"},
            "spec": {"image": {"repo": "neo4j", "tag": "5.26.0"}, "topology": {"servers": 3},
                     "storage": {"size": "1Gi"}, "auth": {"adminSecret": "creds"},
                     "config": {MIN_PASSWORD_KEY: "4"},
                     "env": [{"name": "NEO4J_dbms_security_auth__minimum__password__length", "value": "12"}],
                     "tls": {"mode": "cert-manager", "issuerRef": {"name": "ca"}}}
        }))
        .expect("cluster");
        let needs = Needs::of_cluster(&c);
        assert_eq!(
            needs,
            Needs {
                admin: "creds".into(),
                min_password_length: 12,
                tls: Some("graph-tls-secret".into())
            }
        );
    }

    #[test]
    fn strict_tls_needs_the_ca_in_the_secret() {
        let full = secret(&[("tls.crt", "c"), ("tls.key", "k"), ("ca.crt", "a")]);
        assert_eq!(tls_secret("t", Some(&full)), None);
        assert_eq!(tls_secret("t", None), None, "not issued yet");
        let p = tls_secret("t", Some(&secret(&[("tls.crt", "c"), ("tls.key", "k")])))
            .expect("a problem");
        assert_eq!(p.reason, "TLSSecretIncomplete");
        assert!(p.message.contains("has no ca.crt"), "{}", p.message);
        let empty_ca = secret(&[("tls.crt", "c"), ("tls.key", "k"), ("ca.crt", "")]);
        assert!(tls_secret("t", Some(&empty_ca)).is_some());
    }
}
