//! The Jobs of a Neo4jDatabase (`docs/design.md`, Databases): one Job runs one statement of
//! [`crate::cypher`] through the operator's own Bolt client (`neo4j-controller cypher`, in the
//! operator's image) against the host's client Service.
//!
//! The statement text and its parameters are separate argv elements (the parameters as one
//! JSON object), so no shell and no Cypher parser ever sees a user value as code; the admin
//! credentials come from the host's Secret as environment variables. A Job's name ends with a
//! hash of its spec: a changed statement is a new Job, an unchanged one is never re-run.

use k8s_openapi::api::batch::v1 as batchv1;
use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::cypher::{self, HostKind, Statement};
use crate::names::{
    APP_COMPONENT, APP_MANAGED_BY, ClusterNames, Labels, MANAGED_BY, StandaloneNames,
};
use crate::types::{Neo4jDatabase, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone};

use super::object::{self, DesiredObject, Owner, PORT_BOLT, RenderError, cert_manager_tls};
use super::pod::{self, admin_secret};

/// `app.kubernetes.io/component` of every database Job (the controller's Job watch selects it).
pub const JOB_COMPONENT: &str = "neo4j-database";
/// Label naming the statement a Job runs: `create` or `drop`.
pub const JOB_OPERATION_LABEL: &str = "neo4j.com/database-operation";
/// The Bolt client's exit code when Neo4j refused the statement (its message is the
/// container's termination message).
pub const EXIT_REFUSED: i32 = 3;
/// Seconds the client waits for a statement (`CREATE … WAIT` included).
pub const STATEMENT_TIMEOUT_SECONDS: i64 = 300;
/// Where the client reads the host's CA certificate (cert-manager TLS).
const CA_DIR: &str = "/var/run/neo4j-tls";
/// Unprivileged user of the operator's image.
const JOB_UID: i64 = 65532;
/// Longest Job name: its pods carry it in a 63-character label.
const JOB_NAME_MAX: usize = 63;

/// What a database's Jobs need to know about the cluster or standalone that hosts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseHost {
    pub kind: HostKind,
    pub name: String,
    /// `<host>-client.<ns>.svc.cluster.local`, a name the host's certificate carries.
    pub client_fqdn: String,
    /// cert-manager TLS: the Secret whose `ca.crt` the client trusts.
    pub tls_secret: Option<String>,
    /// Secret with the admin `username` and `password`.
    pub admin_secret: String,
    pub image_tag: String,
}

impl DatabaseHost {
    pub fn of_cluster(c: &Neo4jEnterpriseCluster) -> Option<Self> {
        let ns = c.metadata.namespace.as_deref()?;
        let names = ClusterNames::new(c.metadata.name.as_deref()?);
        Some(DatabaseHost {
            kind: HostKind::Cluster,
            name: names.cluster().to_string(),
            client_fqdn: names.client_fqdn(ns),
            tls_secret: cert_manager_tls(c.spec.tls.as_ref()).then(|| names.tls_secret()),
            admin_secret: admin_secret(c.spec.auth.as_ref()).to_string(),
            image_tag: c.spec.image.tag.clone(),
        })
    }

    pub fn of_standalone(s: &Neo4jEnterpriseStandalone) -> Option<Self> {
        let ns = s.metadata.namespace.as_deref()?;
        let name = s.metadata.name.as_deref()?;
        let names = StandaloneNames::new(name);
        Some(DatabaseHost {
            kind: HostKind::Standalone,
            name: name.to_string(),
            client_fqdn: names.client_fqdn(ns),
            tls_secret: cert_manager_tls(s.spec.tls.as_ref()).then(|| names.tls_secret()),
            admin_secret: admin_secret(s.spec.auth.as_ref()).to_string(),
            image_tag: s.spec.image.tag.clone(),
        })
    }
}

/// The image the Jobs run (the operator's own) and its pull policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobImage<'a> {
    pub image: &'a str,
    pub pull_policy: &'a str,
}

/// The statement a Job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Drop,
}

impl Operation {
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Drop => "drop",
        }
    }
}

/// The statement of `op` for `db` on `host`.
pub fn statement(
    db: &Neo4jDatabase,
    host: &DatabaseHost,
    op: Operation,
) -> Result<Statement, RenderError> {
    Ok(match op {
        Operation::Create => cypher::create_database(&db.spec, host.kind)?,
        Operation::Drop => cypher::drop_database(&db.spec)?,
    })
}

/// The argv of the Bolt client for `statement` against `host` (after the program name).
pub fn client_args(statement: &Statement, host: &DatabaseHost) -> Vec<String> {
    let mut args = vec![
        "cypher".to_string(),
        "--address".to_string(),
        format!("{}:{PORT_BOLT}", host.client_fqdn),
        "--database".to_string(),
        statement.database.to_string(),
        "--statement".to_string(),
        statement.text.clone(),
        "--parameters".to_string(),
        statement.parameters_json(),
        "--timeout-seconds".to_string(),
        STATEMENT_TIMEOUT_SECONDS.to_string(),
    ];
    if host.kind == HostKind::Cluster {
        // The servers route the statement to the system database's leader
        // (`dbms.routing.default_router=SERVER` in the cluster's neo4j.conf).
        args.push("--routing".to_string());
    }
    if host.tls_secret.is_some() {
        args.extend([
            "--tls".to_string(),
            "--ca-file".to_string(),
            format!("{CA_DIR}/ca.crt"),
        ]);
    }
    args
}

fn secret_env(name: &str, secret: &str, key: &str) -> corev1::EnvVar {
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

/// The Job running `op` for `db` on `host`.
pub fn job(
    db: &Neo4jDatabase,
    host: &DatabaseHost,
    op: Operation,
    image: JobImage<'_>,
) -> Result<DesiredObject, RenderError> {
    let owner = Owner::of_database(db)?;
    let statement = statement(db, host, op)?;
    let labels = Labels::from([
        (APP_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
        (APP_COMPONENT.to_string(), JOB_COMPONENT.to_string()),
        (JOB_OPERATION_LABEL.to_string(), op.as_str().to_string()),
    ]);
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if let Some(secret) = &host.tls_secret {
        volumes.push(corev1::Volume {
            name: "neo4j-tls".into(),
            secret: Some(corev1::SecretVolumeSource {
                secret_name: Some(secret.clone()),
                items: Some(vec![corev1::KeyToPath {
                    key: "ca.crt".into(),
                    path: "ca.crt".into(),
                    ..Default::default()
                }]),
                default_mode: Some(0o444),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(pod::mount("neo4j-tls", CA_DIR, true));
    }
    let container = corev1::Container {
        name: "cypher".into(),
        image: Some(image.image.to_string()),
        image_pull_policy: Some(image.pull_policy.to_string()),
        command: Some(vec!["neo4j-controller".into()]),
        args: Some(client_args(&statement, host)),
        env: Some(vec![
            secret_env("NEO4J_USERNAME", &host.admin_secret, "username"),
            secret_env("NEO4J_PASSWORD", &host.admin_secret, "password"),
        ]),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        resources: Some(pod::resources(("10m", "16Mi"), ("200m", "64Mi"))),
        security_context: Some(corev1::SecurityContext {
            run_as_non_root: Some(true),
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            capabilities: Some(corev1::Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        termination_message_policy: Some("File".into()),
        ..Default::default()
    };
    let spec = batchv1::JobSpec {
        backoff_limit: Some(2),
        // A statement Neo4j refused is refused again: fail the Job at once, keep retries for
        // connection trouble.
        pod_failure_policy: Some(batchv1::PodFailurePolicy {
            rules: vec![batchv1::PodFailurePolicyRule {
                action: "FailJob".into(),
                on_exit_codes: Some(batchv1::PodFailurePolicyOnExitCodesRequirement {
                    container_name: Some("cypher".into()),
                    operator: "In".into(),
                    values: vec![EXIT_REFUSED],
                }),
                ..Default::default()
            }],
        }),
        active_deadline_seconds: Some(4 * STATEMENT_TIMEOUT_SECONDS),
        template: corev1::PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(labels.clone()),
                ..Default::default()
            }),
            spec: Some(corev1::PodSpec {
                restart_policy: Some("Never".into()),
                automount_service_account_token: Some(false),
                enable_service_links: Some(false),
                security_context: Some(corev1::PodSecurityContext {
                    run_as_user: Some(JOB_UID),
                    run_as_group: Some(JOB_UID),
                    run_as_non_root: Some(true),
                    seccomp_profile: Some(corev1::SeccompProfile {
                        type_: "RuntimeDefault".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                containers: vec![container],
                volumes: (!volumes.is_empty()).then_some(volumes),
                ..Default::default()
            }),
        },
        ..Default::default()
    };
    let name = job_name(
        db.metadata.name.as_deref().unwrap_or_default(),
        op,
        &object::content_hash(&serde_json::to_value(&spec).map_err(|e| {
            RenderError::Serialize {
                kind: "Job",
                message: e.to_string(),
            }
        })?),
    );
    let job = batchv1::Job {
        metadata: owner.meta(name.clone(), labels, Labels::new()),
        spec: Some(spec),
        ..Default::default()
    };
    object::desired("batch/v1", "Job", "jobs", name, &job)
}

/// `<resource>-<op>-<8 hex of the spec hash>`, the resource name cut so the whole fits a label.
fn job_name(resource: &str, op: Operation, spec_hash: &str) -> String {
    let suffix = format!("-{}-{}", op.as_str(), &spec_hash[..8.min(spec_hash.len())]);
    let room = JOB_NAME_MAX - suffix.len();
    let prefix: String = resource.replace('.', "-").chars().take(room).collect();
    format!("{}{suffix}", prefix.trim_end_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn database(extra: Value) -> Neo4jDatabase {
        let mut spec = json!({"clusterRef": "graph", "name": "orders"});
        json_patch::merge(&mut spec, &extra);
        let mut d: Neo4jDatabase = serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jDatabase",
            "metadata": {"name": "orders", "namespace": "shop", "uid": "u-1"},
            "spec": spec
        }))
        .expect("database");
        crate::defaults::database(&mut d.spec);
        d
    }

    fn cluster(tls: bool) -> DatabaseHost {
        let mut c: Neo4jEnterpriseCluster = serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster",
            "metadata": {"name": "graph", "namespace": "shop", "uid": "c-1"},
            "spec": {"image": {"repo": "neo4j", "tag": "5.26.0-enterprise"}, "topology": {"servers": 3},
                "storage": {"size": "1Gi"}, "auth": {"adminSecret": "admins"}}
        }))
        .expect("cluster");
        if tls {
            c.spec.tls =
                Some(serde_json::from_value(json!({"mode": "cert-manager"})).expect("tls"));
        }
        DatabaseHost::of_cluster(&c).expect("host")
    }

    const IMAGE: JobImage<'static> = JobImage {
        image: "registry.example/neo4j-controller:1",
        pull_policy: "IfNotPresent",
    };

    fn container(job: &DesiredObject) -> Value {
        job.object["spec"]["template"]["spec"]["containers"][0].clone()
    }

    #[test]
    fn create_job_runs_the_fixed_statement_with_json_parameters() {
        let d =
            database(json!({"topology": {"primaries": 2}, "options": {"storeFormat": "block"}}));
        let job = job(&d, &cluster(false), Operation::Create, IMAGE).unwrap();
        let c = container(&job);
        assert_eq!(c["command"], json!(["neo4j-controller"]));
        assert_eq!(
            c["args"],
            json!([
                "cypher",
                "--address",
                "graph-client.shop.svc.cluster.local:7687",
                "--database",
                "system",
                "--statement",
                "CREATE DATABASE $name IF NOT EXISTS TOPOLOGY 2 PRIMARIES OPTIONS {storeFormat: $opt_storeFormat} WAIT",
                "--parameters",
                "{\"name\":\"orders\",\"opt_storeFormat\":\"block\"}",
                "--timeout-seconds",
                "300",
                "--routing"
            ])
        );
        assert_eq!(
            c["env"][1]["valueFrom"]["secretKeyRef"],
            json!({"name": "admins", "key": "password"})
        );
        assert_eq!(job.object["metadata"]["ownerReferences"][0]["uid"], "u-1");
        assert_eq!(
            job.object["spec"]["template"]["spec"]["restartPolicy"],
            "Never"
        );
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(
            job.object["spec"]["podFailurePolicy"]["rules"][0],
            json!({"action": "FailJob", "onExitCodes": {"containerName": "cypher", "operator": "In", "values": [3]}})
        );
        assert!(job.name.starts_with("orders-create-"), "{}", job.name);
    }

    #[test]
    fn tls_hosts_mount_their_ca() {
        let d = database(json!({}));
        let job = job(&d, &cluster(true), Operation::Drop, IMAGE).unwrap();
        let c = container(&job);
        let args: Vec<String> = serde_json::from_value(c["args"].clone()).unwrap();
        assert!(args.ends_with(&[
            "--tls".to_string(),
            "--ca-file".to_string(),
            "/var/run/neo4j-tls/ca.crt".to_string()
        ]));
        assert!(args.contains(&"DROP DATABASE $name IF EXISTS WAIT".to_string()));
        assert_eq!(
            job.object["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"],
            "graph-tls-secret"
        );
    }

    #[test]
    fn names_change_with_the_statement_and_fit_a_label() {
        let a = job(
            &database(json!({})),
            &cluster(false),
            Operation::Create,
            IMAGE,
        )
        .unwrap();
        let b = job(
            &database(json!({"wait": false})),
            &cluster(false),
            Operation::Create,
            IMAGE,
        )
        .unwrap();
        let again = job(
            &database(json!({})),
            &cluster(false),
            Operation::Create,
            IMAGE,
        )
        .unwrap();
        assert_ne!(a.name, b.name);
        assert_eq!(a, again, "deterministic");
        let long = job_name(&"a.b".repeat(40), Operation::Create, &a.hash);
        assert!(long.len() <= 63 && !long.contains('.'), "{long}");
    }

    #[test]
    fn refused_specs_render_nothing() {
        let d = database(json!({"name": "bad`name"}));
        assert!(matches!(
            job(&d, &cluster(false), Operation::Create, IMAGE),
            Err(RenderError::Statement(_))
        ));
    }
}
