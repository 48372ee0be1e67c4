//! Pod-template parts shared by the cluster and standalone StatefulSets: security contexts,
//! environment, trusted CAs, probes and the merging of user lists (env, volumes, mounts) into
//! the operator's without duplicate keys, which server-side apply would refuse.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::names::{CONFIG_HASH_ANNOTATION, DEFAULT_ADMIN_SECRET, Labels};
use crate::types::{AuthSpec, ImageSpec, SecurityContextSpec, TrustedCASecret};

use super::object::{PORT_METRICS, RenderError};

/// UID, GID and fsGroup of the Neo4j image's `neo4j` user.
pub(crate) const NEO4J_UID: i64 = 7474;
/// Value of `NEO4J_UDC_PACKAGING`. Constant, so an operator upgrade restarts no server.
const UDC_PACKAGING: &str = "k8s-neo4j-operator";
/// Where each trusted CA Secret is mounted for `truststore-init`.
const TRUSTED_CA_DIR: &str = "/trusted-ca";

/// Image reference `<repo>:<tag>`.
pub(crate) fn image(i: &ImageSpec) -> String {
    format!("{}:{}", i.repo, i.tag)
}

/// `spec.image.pullSecrets` as references, blank names dropped.
pub(crate) fn image_pull_secrets(i: &ImageSpec) -> Option<Vec<corev1::LocalObjectReference>> {
    let list: Vec<corev1::LocalObjectReference> = i
        .pull_secrets
        .iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| corev1::LocalObjectReference {
            name: s.to_string(),
        })
        .collect();
    (!list.is_empty()).then_some(list)
}

/// The pod security context: `spec.securityContext.podSecurityContext` verbatim, else
/// non-root 7474 with the runtime's default seccomp profile.
pub(crate) fn pod_security_context(s: Option<&SecurityContextSpec>) -> corev1::PodSecurityContext {
    if let Some(p) = s.and_then(|s| s.pod_security_context.clone()) {
        return p;
    }
    corev1::PodSecurityContext {
        run_as_user: Some(NEO4J_UID),
        run_as_group: Some(NEO4J_UID),
        fs_group: Some(NEO4J_UID),
        run_as_non_root: Some(true),
        seccomp_profile: Some(corev1::SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The container security context: `spec.securityContext.containerSecurityContext`
/// verbatim, else non-root, no privilege escalation, every capability dropped.
pub(crate) fn container_security_context(
    s: Option<&SecurityContextSpec>,
) -> corev1::SecurityContext {
    if let Some(c) = s.and_then(|s| s.container_security_context.clone()) {
        return c;
    }
    corev1::SecurityContext {
        run_as_user: Some(NEO4J_UID),
        run_as_group: Some(NEO4J_UID),
        run_as_non_root: Some(true),
        allow_privilege_escalation: Some(false),
        // Neo4j writes under its home directory (run files, the copied config).
        read_only_root_filesystem: Some(false),
        capabilities: Some(corev1::Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn env_value(name: &str, value: impl Into<String>) -> corev1::EnvVar {
    corev1::EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

fn env_secret(name: &str, secret: &str, key: &str) -> corev1::EnvVar {
    corev1::EnvVar {
        name: name.into(),
        value_from: Some(corev1::EnvVarSource {
            secret_key_ref: Some(corev1::SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `spec.auth.adminSecret`, else the default Secret.
pub(crate) fn admin_secret(auth: Option<&AuthSpec>) -> &str {
    auth.and_then(|a| a.admin_secret.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_ADMIN_SECRET)
}

/// User variables the operator sets itself, that belong to typed fields, or that the image
/// would read in their place (`NEO4J_AUTH_PATH`, and the `_FILE` forms it reads first). Dropped;
/// the webhook warns about each (`env-entrypoint-override`).
const RESERVED_ENV: [&str; 7] = [
    "NEO4J_AUTH",
    "NEO4J_AUTH_FILE",
    "NEO4J_AUTH_PATH",
    "NEO4J_ACCEPT_LICENSE_AGREEMENT",
    "NEO4J_ACCEPT_LICENSE_AGREEMENT_FILE",
    "NEO4J_EDITION_FILE",
    "NEO4J_CONF",
];

/// The environment of the Neo4j container, in order: edition, licence, packaging, the admin
/// credentials as Secret references (never in clear), `NEO4J_AUTH` built from them by the
/// kubelet, `extra` (kind-specific), then `spec.env` minus reserved and already-set names
/// (a later duplicate wins, as it would in the container).
pub(crate) fn env(
    license: Option<&str>,
    auth: Option<&AuthSpec>,
    extra: Vec<corev1::EnvVar>,
    user: Option<&[corev1::EnvVar]>,
) -> Result<Vec<corev1::EnvVar>, RenderError> {
    let license =
        license
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .ok_or(RenderError::MissingField {
                field: "spec.acceptLicenseAgreement",
                hint: "set it to yes (commercial licence) or eval (evaluation)",
            })?;
    let secret = admin_secret(auth);
    let mut env = vec![
        env_value("NEO4J_EDITION", "enterprise"),
        env_value("NEO4J_ACCEPT_LICENSE_AGREEMENT", license),
        env_value("NEO4J_UDC_PACKAGING", UDC_PACKAGING),
        env_secret("DB_USERNAME", secret, "username"),
        env_secret("DB_PASSWORD", secret, "password"),
        // Kubernetes dependent-variable expansion: the password never appears in the spec.
        env_value("NEO4J_AUTH", "$(DB_USERNAME)/$(DB_PASSWORD)"),
    ];
    env.extend(extra);
    let ours: BTreeSet<String> = env.iter().map(|e| e.name.clone()).collect();
    let user: Vec<&corev1::EnvVar> = user
        .into_iter()
        .flatten()
        .filter(|e| !RESERVED_ENV.contains(&e.name.as_str()) && !ours.contains(&e.name))
        .collect();
    for (i, e) in user.iter().enumerate() {
        if !user[i + 1..].iter().any(|later| later.name == e.name) {
            env.push((*e).clone());
        }
    }
    Ok(env)
}

/// One trusted CA: a Secret and the key holding the PEM certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrustedCa {
    pub secret: String,
    pub key: String,
}

/// `spec.trustedCASecrets` (blank names skipped, first of each name kept) plus the legacy
/// `spec.auth.trustStore` when it names a new Secret; the key defaults to `ca.crt`.
pub(crate) fn trusted_cas(
    list: Option<&[TrustedCASecret]>,
    auth: Option<&AuthSpec>,
) -> Vec<TrustedCa> {
    let legacy = auth
        .and_then(|a| a.trust_store.as_ref())
        .map(|t| TrustedCASecret {
            name: t.name.clone(),
            key: t.key.clone(),
        });
    let mut out: Vec<TrustedCa> = Vec::new();
    for t in list.into_iter().flatten().chain(legacy.as_ref()) {
        let secret = t.name.trim();
        if secret.is_empty() || out.iter().any(|c| c.secret == secret) {
            continue;
        }
        let key = t
            .key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .unwrap_or("ca.crt");
        out.push(TrustedCa {
            secret: secret.to_string(),
            key: key.to_string(),
        });
    }
    out
}

/// What trusted CAs add to a pod: the `truststore` emptyDir and one Secret volume per CA
/// (named by position: Secret names may be longer than a volume name allows), and the
/// `truststore-init` container that builds the JKS from them with the static
/// `truststore.sh` of the ConfigMap (`config_volume` mounted at `/conf`).
pub(crate) struct Truststore {
    pub volumes: Vec<corev1::Volume>,
    pub init_container: corev1::Container,
}

impl Truststore {
    /// Adds the truststore's volumes to the pod's and mounts the JKS it builds into the Neo4j
    /// container at `/truststore` (read-only); returns the init container.
    pub(crate) fn attach(
        self,
        mounts: &mut Vec<corev1::VolumeMount>,
        volumes: &mut Vec<corev1::Volume>,
    ) -> corev1::Container {
        mounts.push(mount("truststore", "/truststore", true));
        volumes.extend(self.volumes);
        self.init_container
    }
}

pub(crate) fn truststore(
    cas: &[TrustedCa],
    image: String,
    pull_policy: Option<String>,
    config_volume: &str,
    security: corev1::SecurityContext,
) -> Option<Truststore> {
    if cas.is_empty() {
        return None;
    }
    let mut volumes = vec![empty_dir("truststore")];
    let mut mounts = vec![
        mount(config_volume, "/conf", true),
        mount("truststore", "/truststore", false),
    ];
    for (i, ca) in cas.iter().enumerate() {
        let name = format!("trusted-ca-{i}");
        volumes.push(corev1::Volume {
            name: name.clone(),
            secret: Some(corev1::SecretVolumeSource {
                secret_name: Some(ca.secret.clone()),
                items: Some(vec![corev1::KeyToPath {
                    key: ca.key.clone(),
                    path: "ca.crt".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(mount(&name, &format!("{TRUSTED_CA_DIR}/{i}"), true));
    }
    let init_container = corev1::Container {
        name: "truststore-init".into(),
        image: Some(image),
        image_pull_policy: pull_policy,
        command: Some(vec!["/bin/bash".into(), "/conf/truststore.sh".into()]),
        volume_mounts: Some(mounts),
        security_context: Some(security),
        resources: Some(resources(("50m", "128Mi"), ("500m", "256Mi"))),
        ..Default::default()
    };
    Some(Truststore {
        volumes,
        init_container,
    })
}

/// Requests and limits of cpu and memory.
pub(crate) fn resources(
    requests: (&str, &str),
    limits: (&str, &str),
) -> corev1::ResourceRequirements {
    let pair = |(cpu, memory): (&str, &str)| {
        std::collections::BTreeMap::from([
            ("cpu".to_string(), Quantity(cpu.into())),
            ("memory".to_string(), Quantity(memory.into())),
        ])
    };
    corev1::ResourceRequirements {
        requests: Some(pair(requests)),
        limits: Some(pair(limits)),
        ..Default::default()
    }
}

pub(crate) fn empty_dir(name: &str) -> corev1::Volume {
    corev1::Volume {
        name: name.into(),
        empty_dir: Some(Default::default()),
        ..Default::default()
    }
}

pub(crate) fn mount(name: &str, path: &str, read_only: bool) -> corev1::VolumeMount {
    corev1::VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

pub(crate) fn container_port(name: &str, port: i32) -> corev1::ContainerPort {
    corev1::ContainerPort {
        name: Some(name.into()),
        container_port: port,
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

/// An exec probe running `args`.
pub(crate) fn exec_probe(
    args: &[&str],
    initial_delay: i32,
    period: i32,
    timeout: i32,
    failure_threshold: i32,
    success_threshold: Option<i32>,
) -> corev1::Probe {
    corev1::Probe {
        exec: Some(corev1::ExecAction {
            command: Some(args.iter().map(|a| a.to_string()).collect()),
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(period),
        timeout_seconds: Some(timeout),
        failure_threshold: Some(failure_threshold),
        success_threshold,
        ..Default::default()
    }
}

/// The pod-template annotations: the config hash, whose change rolls the pods, and with
/// monitoring the Prometheus scrape hints.
pub(crate) fn pod_annotations(config_hash: &str, monitoring: bool) -> Labels {
    let mut annotations =
        Labels::from([(CONFIG_HASH_ANNOTATION.to_string(), config_hash.to_string())]);
    if monitoring {
        annotations.insert("prometheus.io/scrape".into(), "true".into());
        annotations.insert("prometheus.io/port".into(), PORT_METRICS.to_string());
        annotations.insert("prometheus.io/path".into(), "/metrics".into());
    }
    annotations
}

/// `ours` followed by the user's items whose `key` is still free.
fn with_user<T: Clone, K: PartialEq + ?Sized>(
    mut ours: Vec<T>,
    user: Option<&[T]>,
    key: impl Fn(&T) -> &K,
) -> Vec<T> {
    for item in user.into_iter().flatten() {
        if !ours.iter().any(|o| key(o) == key(item)) {
            ours.push(item.clone());
        }
    }
    ours
}

/// `ours` followed by the user's volumes whose names are free (a second volume of a name
/// makes the pod invalid; the operator's win).
pub(crate) fn with_user_volumes(
    ours: Vec<corev1::Volume>,
    user: Option<&[corev1::Volume]>,
) -> Vec<corev1::Volume> {
    with_user(ours, user, |v| v.name.as_str())
}

/// `ours` followed by the user's mounts whose paths are free.
pub(crate) fn with_user_mounts(
    ours: Vec<corev1::VolumeMount>,
    user: Option<&[corev1::VolumeMount]>,
) -> Vec<corev1::VolumeMount> {
    with_user(ours, user, |m| m.mount_path.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: &str) -> corev1::EnvVar {
        env_value(name, value)
    }

    #[test]
    fn env_keeps_secrets_as_references_and_drops_reserved_names() {
        let user = vec![
            var("NEO4J_AUTH", "neo4j/plaintext"),
            var("NEO4J_ACCEPT_LICENSE_AGREEMENT", "no"),
            var("DB_PASSWORD", "plaintext"),
            var("A", "1"),
            var("A", "2"),
        ];
        let env = env(Some("yes"), None, vec![], Some(&user)).expect("env");
        let names: Vec<&str> = env.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "NEO4J_EDITION",
                "NEO4J_ACCEPT_LICENSE_AGREEMENT",
                "NEO4J_UDC_PACKAGING",
                "DB_USERNAME",
                "DB_PASSWORD",
                "NEO4J_AUTH",
                "A"
            ]
        );
        assert!(env.iter().all(|e| e.value.as_deref() != Some("plaintext")));
        assert_eq!(env[6].value.as_deref(), Some("2"));
        let pw = env[4]
            .value_from
            .as_ref()
            .and_then(|v| v.secret_key_ref.as_ref());
        assert_eq!(
            pw.map(|s| (s.name.as_str(), s.key.as_str())),
            Some((DEFAULT_ADMIN_SECRET, "password"))
        );
    }

    #[test]
    fn env_needs_the_license() {
        assert!(matches!(
            env(None, None, vec![], None),
            Err(RenderError::MissingField { .. })
        ));
    }

    #[test]
    fn trusted_cas_dedupe_and_default_key() {
        let list = vec![
            TrustedCASecret {
                name: "corp".into(),
                key: None,
            },
            TrustedCASecret {
                name: " ".into(),
                key: None,
            },
            TrustedCASecret {
                name: "corp".into(),
                key: Some("other".into()),
            },
        ];
        let auth = AuthSpec {
            trust_store: Some(crate::types::SecretKeyRef {
                name: "ldap".into(),
                key: Some("root.pem".into()),
            }),
            ..Default::default()
        };
        assert_eq!(
            trusted_cas(Some(&list), Some(&auth)),
            vec![
                TrustedCa {
                    secret: "corp".into(),
                    key: "ca.crt".into()
                },
                TrustedCa {
                    secret: "ldap".into(),
                    key: "root.pem".into()
                },
            ]
        );
    }

    #[test]
    fn user_volumes_never_duplicate_ours() {
        let ours = vec![empty_dir("plugins")];
        let user = vec![empty_dir("plugins"), empty_dir("extra")];
        let names: Vec<String> = with_user_volumes(ours, Some(&user))
            .into_iter()
            .map(|v| v.name)
            .collect();
        assert_eq!(names, ["plugins", "extra"]);
    }
}
