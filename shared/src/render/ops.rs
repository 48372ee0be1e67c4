//! What the Jobs of backups and restores share: the [`Target`] they act on (a cluster or a
//! standalone, reduced to what a Job needs), the pod hardening, the storage URIs and the cloud
//! credentials, all taken by reference to Secrets.
//!
//! Arguments are argv arrays. Kubernetes expands `$(NAME)` in a container's command, args and
//! env values when `NAME` is one of its variables, so every value that comes from a user goes
//! through [`literal`], which doubles `$` (the kubelet turns `$$` back into `$`): a value can
//! never pull a Secret-backed variable into an argument.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::object::{Owner, RenderError, cert_manager_tls, strict_peer_validation};
use super::pod;
use crate::inventory::InstanceKind;
use crate::names::{self, ClusterNames, Labels, StandaloneNames};
use crate::types::{
    Kind, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, SecurityContextSpec, StorageLocation,
};
use crate::version::{Neo4jVersion, parse_tag};

/// Port of the backup server (`server.backup.listen_address`).
pub const BACKUP_PORT: i32 = super::object::PORT_BACKUP;
/// Where a PVC holding backups is mounted in a Job.
pub const BACKUP_MOUNT: &str = "/backup";
/// Where the target's TLS Secret is mounted in a Job (the servers use the same path).
pub const TLS_MOUNT: &str = "/ssl";
/// Where Google credentials are mounted.
const GCP_MOUNT: &str = "/var/secrets/gcp";
/// Key of the Google credentials JSON in the credentials Secret (the reference's name).
const GCP_KEY: &str = "GOOGLE_APPLICATION_CREDENTIALS_JSON";

/// What a backup or restore Job needs to know about the cluster or standalone it acts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub kind: InstanceKind,
    pub name: String,
    pub namespace: String,
    /// Servers of a cluster; 1 for a standalone.
    pub servers: u32,
    pub image: String,
    pub pull_policy: Option<String>,
    pub pull_secrets: Option<Vec<corev1::LocalObjectReference>>,
    pub version: Option<Neo4jVersion>,
    /// The Secret with the admin credentials (keys `username`, `password`).
    pub admin_secret: String,
    /// cert-manager TLS: the Secret it writes, and whether peers verify each other.
    pub tls: Option<TargetTls>,
    pub security_context: Option<SecurityContextSpec>,
    /// The StatefulSet of the servers.
    pub statefulset: String,
    /// The data PVC of a standalone's server.
    pub data_pvc: String,
}

/// TLS of the target, as the servers have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetTls {
    pub secret: String,
    /// Strict peer validation: the CA is mounted as `trusted/ca.crt` and certificates are
    /// verified, hostnames included.
    pub strict: bool,
    /// Whether the server certificate names each server pod (a cluster's does; a
    /// standalone's names its Services only).
    pub names_pods: bool,
}

fn metadata(meta: &ObjectMeta, kind: Kind) -> Result<(String, String), RenderError> {
    let owner = Owner::new(kind, meta)?;
    Ok((owner.name, owner.namespace))
}

impl Target {
    pub fn of_cluster(c: &Neo4jEnterpriseCluster) -> Result<Target, RenderError> {
        let (name, namespace) = metadata(&c.metadata, Kind::Cluster)?;
        let n = ClusterNames::new(&name);
        let spec = &c.spec;
        Ok(Target {
            kind: InstanceKind::Cluster,
            servers: u32::try_from(spec.topology.servers.max(1)).unwrap_or(1),
            image: pod::image(&spec.image),
            pull_policy: spec.image.pull_policy.clone(),
            pull_secrets: pod::image_pull_secrets(&spec.image),
            version: parse_tag(&spec.image.tag),
            admin_secret: pod::admin_secret(spec.auth.as_ref()).to_string(),
            tls: cert_manager_tls(spec.tls.as_ref()).then(|| TargetTls {
                secret: n.tls_secret(),
                strict: strict_peer_validation(spec.tls.as_ref()),
                names_pods: true,
            }),
            security_context: spec.security_context.clone(),
            statefulset: n.statefulset(),
            data_pvc: n.pvc(0),
            name,
            namespace,
        })
    }

    pub fn of_standalone(s: &Neo4jEnterpriseStandalone) -> Result<Target, RenderError> {
        let (name, namespace) = metadata(&s.metadata, Kind::Standalone)?;
        let n = StandaloneNames::new(&name);
        let spec = &s.spec;
        Ok(Target {
            kind: InstanceKind::Standalone,
            servers: 1,
            image: pod::image(&spec.image),
            pull_policy: spec.image.pull_policy.clone(),
            pull_secrets: pod::image_pull_secrets(&spec.image),
            version: parse_tag(&spec.image.tag),
            admin_secret: pod::admin_secret(spec.auth.as_ref()).to_string(),
            tls: cert_manager_tls(spec.tls.as_ref()).then(|| TargetTls {
                secret: n.tls_secret(),
                strict: true,
                names_pods: false,
            }),
            security_context: spec.security_context.clone(),
            statefulset: n.statefulset(),
            data_pvc: n.pvc(),
            name,
            namespace,
        })
    }

    /// `host:port` of every server's backup port, in order, for `--from`.
    pub fn backup_addresses(&self, domain: &str) -> Vec<String> {
        match self.kind {
            InstanceKind::Cluster => {
                let n = ClusterNames::new(&self.name);
                (0..self.servers)
                    .map(|i| {
                        format!(
                            "{}:{BACKUP_PORT}",
                            n.pod_fqdn_in(i, &self.namespace, domain)
                        )
                    })
                    .collect()
            }
            InstanceKind::Standalone => {
                let n = StandaloneNames::new(&self.name);
                vec![format!(
                    "{}:{BACKUP_PORT}",
                    n.pod_fqdn_in(&self.namespace, domain)
                )]
            }
        }
    }

    /// The URL of the HTTP transaction endpoint of the `system` database, through the client
    /// Service (HTTPS under TLS).
    pub fn system_tx_url(&self, domain: &str) -> String {
        let host = match self.kind {
            InstanceKind::Cluster => {
                ClusterNames::new(&self.name).client_fqdn_in(&self.namespace, domain)
            }
            InstanceKind::Standalone => {
                StandaloneNames::new(&self.name).client_fqdn_in(&self.namespace, domain)
            }
        };
        match self.tls {
            Some(_) => format!("https://{host}:7473/db/system/tx/commit"),
            None => format!("http://{host}:7474/db/system/tx/commit"),
        }
    }
}

/// `value` with `$` doubled, so the kubelet's `$(NAME)` expansion leaves it as written.
pub fn literal(value: &str) -> String {
    value.replace('$', "$$")
}

/// How a storage URI names the Azure storage account that only the credentials Secret knows:
/// a reference the kubelet expands from the container's `AZURE_STORAGE_ACCOUNT` variable.
pub const AZURE_ACCOUNT_REF: &str = "$(AZURE_STORAGE_ACCOUNT)";

/// [`literal`], except for [`AZURE_ACCOUNT_REF`], which stays a reference. For arguments and
/// values built from storage URIs (the bucket and path charsets admit no `$` or parenthesis,
/// so the only reference left is the operator's own).
pub fn literal_uri(value: &str) -> String {
    literal(value).replace(&literal(AZURE_ACCOUNT_REF), AZURE_ACCOUNT_REF)
}

/// A `/`-trimmed path segment, `None` when empty.
fn segment(s: Option<&str>) -> Option<&str> {
    s.map(|s| s.trim_matches('/')).filter(|s| !s.is_empty())
}

/// The URI scheme of a cloud storage type.
pub fn scheme(storage_type: &str) -> Option<&'static str> {
    match storage_type {
        "s3" => Some("s3"),
        "gcs" => Some("gs"),
        "azure" => Some("azb"),
        _ => None,
    }
}

/// Whether the storage is a PVC (else object storage).
pub fn is_pvc(s: &StorageLocation) -> bool {
    s.type_ == "pvc"
}

/// The root of a cloud location: `<scheme>://<bucket>` (Azure: `azb://<account>/<container>`,
/// the account from the credentials Secret as [`AZURE_ACCOUNT_REF`], unless the bucket names
/// it as `<account>/<container>`). Raw: pass it through [`literal_uri`] into a pod.
pub fn cloud_root(s: &StorageLocation) -> Option<String> {
    let scheme = scheme(&s.type_)?;
    let bucket = segment(s.bucket.as_deref())?;
    let with_secret = s
        .cloud
        .as_ref()
        .and_then(|c| c.credentials_secret_ref.as_deref())
        .is_some_and(|r| !r.trim().is_empty());
    Some(if scheme == "azb" && !bucket.contains('/') && with_secret {
        format!("azb://{AZURE_ACCOUNT_REF}/{bucket}")
    } else {
        format!("{scheme}://{bucket}")
    })
}

/// The directory of a backup chain, with a trailing `/`: `/backup/<chain>/` on a PVC (the
/// reference's layout, `path` unused), `<root>/<path or backups>/<chain>/` in object storage.
/// Raw, like [`cloud_root`].
pub fn chain_dir(s: &StorageLocation, chain: &str) -> Option<String> {
    if is_pvc(s) {
        return Some(format!("{BACKUP_MOUNT}/{chain}/"));
    }
    let root = cloud_root(s)?;
    let prefix = segment(s.path.as_deref()).unwrap_or(DEFAULT_PREFIX);
    Some(format!("{root}/{prefix}/{chain}/"))
}

/// The prefix a backup writes under in object storage when `storage.path` is empty.
pub const DEFAULT_PREFIX: &str = "backups";

/// A path given relative to a storage location (a restore's `backupPath`): under `/backup` on
/// a PVC, under `<root>/<path>` in object storage. Raw, like [`cloud_root`].
pub fn location_path(s: &StorageLocation, relative: &str) -> Option<String> {
    let relative = relative.trim_matches('/');
    if is_pvc(s) {
        return Some(format!("{BACKUP_MOUNT}/{relative}"));
    }
    let root = cloud_root(s)?;
    Some(match segment(s.path.as_deref()) {
        Some(prefix) => format!("{root}/{prefix}/{relative}"),
        None => format!("{root}/{relative}"),
    })
}

fn env_value(name: &str, value: &str) -> corev1::EnvVar {
    corev1::EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

pub(crate) fn env_secret(name: &str, secret: &str, key: &str, optional: bool) -> corev1::EnvVar {
    corev1::EnvVar {
        name: name.into(),
        value_from: Some(corev1::EnvVarSource {
            secret_key_ref: Some(corev1::SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: optional.then_some(true),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What object storage adds to a Job's container and pod: credentials from the Secret named
/// by `cloud.credentialsSecretRef` (none without it: the pod's workload identity is used),
/// the S3 endpoint and path style.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CloudAccess {
    pub env: Vec<corev1::EnvVar>,
    pub volumes: Vec<corev1::Volume>,
    pub mounts: Vec<corev1::VolumeMount>,
}

pub fn cloud_access(s: &StorageLocation) -> CloudAccess {
    let mut a = CloudAccess::default();
    let cloud = s.cloud.as_ref();
    let secret = cloud
        .and_then(|c| c.credentials_secret_ref.as_deref())
        .map(str::trim)
        .filter(|r| !r.is_empty());
    match s.type_.as_str() {
        "s3" => {
            if let Some(secret) = secret {
                a.env.push(env_secret(
                    "AWS_ACCESS_KEY_ID",
                    secret,
                    "AWS_ACCESS_KEY_ID",
                    false,
                ));
                a.env.push(env_secret(
                    "AWS_SECRET_ACCESS_KEY",
                    secret,
                    "AWS_SECRET_ACCESS_KEY",
                    false,
                ));
                a.env
                    .push(env_secret("AWS_REGION", secret, "AWS_REGION", true));
            }
            if let Some(endpoint) = cloud
                .and_then(|c| c.endpoint_url.as_deref())
                .map(str::trim)
                .filter(|e| !e.is_empty())
            {
                // Read by the AWS SDK inside neo4j-admin (and by the Neo4j server for seeds).
                a.env
                    .push(env_value("AWS_ENDPOINT_URL_S3", &literal(endpoint)));
            }
            if cloud.and_then(|c| c.force_path_style) == Some(true) {
                a.env.push(env_value(
                    "JAVA_TOOL_OPTIONS",
                    "-Daws.s3.forcePathStyle=true",
                ));
            }
        }
        "azure" => {
            if let Some(secret) = secret {
                a.env.push(env_secret(
                    "AZURE_STORAGE_ACCOUNT",
                    secret,
                    "AZURE_STORAGE_ACCOUNT",
                    false,
                ));
                a.env.push(env_secret(
                    "AZURE_STORAGE_KEY",
                    secret,
                    "AZURE_STORAGE_KEY",
                    false,
                ));
            }
        }
        "gcs" => {
            if let Some(secret) = secret {
                a.env.push(env_value(
                    "GOOGLE_APPLICATION_CREDENTIALS",
                    &format!("{GCP_MOUNT}/credentials.json"),
                ));
                a.volumes.push(corev1::Volume {
                    name: "gcp-credentials".into(),
                    secret: Some(corev1::SecretVolumeSource {
                        secret_name: Some(secret.to_string()),
                        items: Some(vec![corev1::KeyToPath {
                            key: GCP_KEY.into(),
                            path: "credentials.json".into(),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                a.mounts
                    .push(pod::mount("gcp-credentials", GCP_MOUNT, true));
            }
        }
        _ => {}
    }
    a
}

/// The volume of a backup PVC (`storage.pvc.name`), if the storage is one.
pub fn backup_pvc_volume(s: &StorageLocation, read_only: bool) -> Option<corev1::Volume> {
    let claim = s.pvc.as_ref()?.name.as_deref()?.trim();
    (is_pvc(s) && !claim.is_empty()).then(|| corev1::Volume {
        name: "backup-storage".into(),
        persistent_volume_claim: Some(corev1::PersistentVolumeClaimVolumeSource {
            claim_name: claim.to_string(),
            read_only: read_only.then_some(true),
        }),
        ..Default::default()
    })
}

/// The target's TLS Secret as a volume mounted at `/ssl`: with strict validation the CA also
/// appears as `trusted/ca.crt`, as on the servers.
pub fn tls_volume(tls: &TargetTls) -> (corev1::Volume, corev1::VolumeMount) {
    (
        super::cluster::certs_volume("neo4j-certs", tls.secret.clone(), tls.strict),
        pod::mount("neo4j-certs", TLS_MOUNT, true),
    )
}

/// The pod security context of a Job on `target`: the target's own when it sets one (files
/// on its volume keep their owner), else non-root 7474 with the runtime's seccomp profile.
pub fn pod_security(target: &Target) -> corev1::PodSecurityContext {
    pod::pod_security_context(target.security_context.as_ref())
}

/// The hardened container security context (non-root 7474, no privilege escalation, no
/// capabilities), or the target's own.
pub fn container_security(target: &Target) -> corev1::SecurityContext {
    pod::container_security_context(target.security_context.as_ref())
}

/// Default resources of a Job container without `options.resources`.
pub fn default_resources() -> corev1::ResourceRequirements {
    pod::resources(("100m", "512Mi"), ("1000m", "2Gi"))
}

/// The pod spec every operation Job shares: one try (`restartPolicy: Never`), no API token,
/// no Service links, the target's pull secrets and security context.
pub fn job_pod(
    target: &Target,
    init_containers: Vec<corev1::Container>,
    container: corev1::Container,
    volumes: Vec<corev1::Volume>,
) -> corev1::PodSpec {
    corev1::PodSpec {
        restart_policy: Some("Never".into()),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        image_pull_secrets: target.pull_secrets.clone(),
        security_context: Some(pod_security(target)),
        init_containers: (!init_containers.is_empty()).then_some(init_containers),
        containers: vec![container],
        volumes: (!volumes.is_empty()).then_some(volumes),
        ..Default::default()
    }
}

/// A container of the target's image, hardened, whose termination message falls back to the
/// end of its log on failure (the controller reports it as the failure reason).
pub fn job_container(target: &Target, name: &str) -> corev1::Container {
    corev1::Container {
        name: name.into(),
        image: Some(target.image.clone()),
        image_pull_policy: target.pull_policy.clone(),
        security_context: Some(container_security(target)),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    }
}

/// The pod-template metadata: labels, and annotations when any.
pub fn template_meta(labels: Labels, annotations: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        labels: Some(labels),
        annotations: (!annotations.is_empty()).then_some(annotations),
        ..Default::default()
    }
}

/// The name of a Job (or CronJob, with `max` 52), or why Kubernetes would refuse it.
pub fn job_name(kind: &'static str, name: String, max: usize) -> Result<String, RenderError> {
    if name.len() > max {
        return Err(RenderError::NameTooLong { kind, name, max });
    }
    Ok(name)
}

/// [`job_name`] of a Job.
pub fn checked_job_name(name: String) -> Result<String, RenderError> {
    job_name("Job", name, names::JOB_NAME_MAX)
}
