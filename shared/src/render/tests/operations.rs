//! The Jobs and CronJobs of backups and restores: exact argv, storage URIs and credentials,
//! TLS material, the `$` escaping of user values, the restore Jobs' statements and parameters,
//! and the standalone hold.

use serde_json::{Value, json};

use super::{cluster_from, spec_with, standalone_from};
use crate::render::backup::{self, ADMIN_CONF_ANNOTATION};
use crate::render::ops::Target;
use crate::render::restore::{self, Resolution, SourcePlan};
use crate::render::{DesiredObject, RenderError, standalone};
use crate::types::{Neo4jBackup, Neo4jRestore, StorageLocation};

const DOMAIN: &str = "cluster.local";

fn backup_from(spec: Value) -> Neo4jBackup {
    let mut b: Neo4jBackup = serde_json::from_value(json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jBackup",
        "metadata": {"name": "nightly", "namespace": "db", "uid": "0b1d2c3e-4f50-6172-8394-a5b6c7d8e9f0", "generation": 1},
        "spec": spec,
    }))
    .expect("backup manifest");
    crate::defaults::backup(&mut b.spec);
    b
}

fn restore_from(spec: Value) -> Neo4jRestore {
    let mut r: Neo4jRestore = serde_json::from_value(json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jRestore",
        "metadata": {"name": "back", "namespace": "db", "uid": "uid-r", "generation": 1},
        "spec": spec,
    }))
    .expect("restore manifest");
    crate::defaults::restore(&mut r.spec);
    r
}

fn cluster_target(extra: Value) -> Target {
    Target::of_cluster(&cluster_from(spec_with(extra))).expect("target")
}

fn standalone_target(extra: Value) -> Target {
    let mut spec = json!({"image": {"repo": "neo4j", "tag": "2025.10.1-enterprise"}, "storage": {"size": "10Gi"},
        "acceptLicenseAgreement": "yes"});
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    Target::of_standalone(&standalone_from(spec)).expect("target")
}

fn pvc() -> Value {
    json!({"type": "pvc", "pvc": {"name": "backups"}})
}

fn the<'a>(objects: &'a [DesiredObject], kind: &str) -> &'a DesiredObject {
    objects
        .iter()
        .find(|o| o.kind == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn strings(v: &Value) -> Vec<String> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

fn env_of(container: &Value) -> Vec<(String, Value)> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let value = if e["value"].is_string() {
                e["value"].clone()
            } else {
                e["valueFrom"].clone()
            };
            (e["name"].as_str().unwrap_or_default().to_string(), value)
        })
        .collect()
}

fn job_container(job: &DesiredObject) -> Value {
    job.object["spec"]["template"]["spec"]["containers"][0].clone()
}

#[test]
fn one_shot_backup_is_one_job_with_the_exact_argv() {
    let b = backup_from(json!({"instanceRef": "graph", "database": "sales", "storage": pvc()}));
    let objects = backup::render(&b, &cluster_target(json!({})), DOMAIN).expect("renders");
    assert_eq!(objects.len(), 1);
    let job = the(&objects, "Job");
    assert_eq!(job.name, "nightly-backup");
    let c = job_container(job);
    assert_eq!(
        strings(&c["command"]),
        [
            "neo4j-admin",
            "database",
            "backup",
            "--from=graph-server-0.graph-headless.db.svc.cluster.local:6362,graph-server-1.graph-headless.db.svc.cluster.local:6362,graph-server-2.graph-headless.db.svc.cluster.local:6362",
            "--to-path=/backup/nightly/",
            "sales",
        ]
    );
    assert!(c["args"].is_null(), "no shell: the argv is the command");
    let spec = &job.object["spec"];
    assert_eq!(spec["backoffLimit"], 0, "one pod per run");
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(
        strings(&pod["initContainers"][0]["command"]),
        ["mkdir", "-p", "/backup/nightly"]
    );
    assert_eq!(
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "backups"
    );
    assert_eq!(c["securityContext"]["runAsNonRoot"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["terminationMessagePolicy"], "FallbackToLogsOnError");
    assert_eq!(c["image"], "neo4j:5.26.0-enterprise");
    let labels = &job.object["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/name"], "neo4j-backup");
    assert_eq!(labels["app.kubernetes.io/instance"], "nightly");
    assert_eq!(labels["neo4j.com/backup-target"], "graph");
    assert_eq!(
        job.object["metadata"]["ownerReferences"][0]["kind"],
        "Neo4jBackup"
    );
}

#[test]
fn every_database_is_backed_up_with_a_star_and_the_cluster_domain_is_honoured() {
    let b = backup_from(json!({"instanceRef": "solo", "allDatabases": true, "storage": pvc()}));
    let argv = backup::argv(&b, &standalone_target(json!({})), "corp.example").expect("argv");
    assert_eq!(argv.last().map(String::as_str), Some("*"));
    assert_eq!(
        argv[3],
        "--from=solo-0.solo-headless.db.svc.corp.example:6362"
    );
}

#[test]
fn options_become_flags_in_a_fixed_order() {
    let b = backup_from(
        json!({"instanceRef": "graph", "database": "sales", "storage": pvc(),
        "options": {"backupType": "FULL", "compress": false, "pageCache": "4G", "tempPath": "/tmp/stage",
            "preferDiffAsParent": true, "parallelRecovery": true, "keepFailed": true, "includeMetadata": "users",
            "remoteAddressResolution": false, "additionalArgs": ["--verbose"]}}),
    );
    let argv = backup::argv(&b, &cluster_target(json!({})), DOMAIN).expect("argv");
    assert_eq!(
        argv[5..],
        [
            "--type=FULL",
            "--compress=false",
            "--pagecache=4G",
            "--temp-path=/tmp/stage",
            "--prefer-diff-as-parent",
            "--parallel-recovery=true",
            "--keep-failed=true",
            "--include-metadata=users",
            "--remote-address-resolution=false",
            "--verbose",
            "sales",
        ]
    );
}

#[test]
fn a_user_value_cannot_pull_a_secret_into_an_argument() {
    let b = backup_from(
        json!({"instanceRef": "graph", "database": "sales", "storage": pvc(),
        "options": {"additionalArgs": ["--additional-config=$(AWS_SECRET_ACCESS_KEY)"]}}),
    );
    let argv = backup::argv(&b, &cluster_target(json!({})), DOMAIN).expect("argv");
    assert!(
        argv.contains(&"--additional-config=$$(AWS_SECRET_ACCESS_KEY)".to_string()),
        "the kubelet turns $$ back into $ and expands nothing: {argv:?}"
    );
}

#[test]
fn s3_with_a_custom_endpoint_uses_it_and_reads_credentials_from_the_secret() {
    let b = backup_from(json!({"instanceRef": "graph", "database": "sales",
        "storage": {"type": "s3", "bucket": "neo4j-backups", "path": "prod/", "cloud": {"provider": "aws",
            "credentialsSecretRef": "minio-creds", "endpointURL": "https://minio.storage.svc:9000", "forcePathStyle": true}}}));
    let objects = backup::render(&b, &cluster_target(json!({})), DOMAIN).expect("renders");
    let c = job_container(the(&objects, "Job"));
    assert!(
        strings(&c["command"]).contains(&"--to-path=s3://neo4j-backups/prod/nightly/".to_string())
    );
    let env = env_of(&c);
    let get = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(
        get("AWS_ENDPOINT_URL_S3"),
        Some(json!("https://minio.storage.svc:9000"))
    );
    assert_eq!(
        get("AWS_ACCESS_KEY_ID"),
        Some(json!({"secretKeyRef": {"name": "minio-creds", "key": "AWS_ACCESS_KEY_ID"}}))
    );
    assert_eq!(
        get("AWS_SECRET_ACCESS_KEY"),
        Some(json!({"secretKeyRef": {"name": "minio-creds", "key": "AWS_SECRET_ACCESS_KEY"}}))
    );
    assert_eq!(
        get("JAVA_TOOL_OPTIONS"),
        Some(json!("-Daws.s3.forcePathStyle=true"))
    );
    let pod = &the(&objects, "Job").object["spec"]["template"]["spec"];
    assert!(
        pod["initContainers"].is_null(),
        "no PVC, no directory to make"
    );
    // Without an endpoint or a Secret: the pod's own identity, nothing injected.
    let plain = backup_from(json!({"instanceRef": "graph", "database": "sales",
        "storage": {"type": "gcs", "bucket": "b", "cloud": {"provider": "gcp"}}}));
    let objects = backup::render(&plain, &cluster_target(json!({})), DOMAIN).expect("renders");
    let c = job_container(the(&objects, "Job"));
    assert!(c["env"].is_null(), "{c}");
    assert!(strings(&c["command"]).contains(&"--to-path=gs://b/backups/nightly/".to_string()));
}

#[test]
fn azure_takes_the_account_from_the_secret_by_reference() {
    let b = backup_from(json!({"instanceRef": "graph", "database": "sales",
        "storage": {"type": "azure", "bucket": "container", "cloud": {"provider": "azure", "credentialsSecretRef": "az"}}}));
    let argv = backup::argv(&b, &cluster_target(json!({})), DOMAIN).expect("argv");
    assert!(
        argv.contains(
            &"--to-path=azb://$(AZURE_STORAGE_ACCOUNT)/container/backups/nightly/".to_string()
        ),
        "{argv:?}"
    );
}

#[test]
fn a_tls_target_gets_its_certificates_mounted_and_a_client_policy() {
    let target = cluster_target(
        json!({"tls": {"mode": "cert-manager", "issuerRef": {"name": "ca", "kind": "ClusterIssuer"}}}),
    );
    let b = backup_from(json!({"instanceRef": "graph", "database": "sales", "storage": pvc()}));
    let objects = backup::render(&b, &target, DOMAIN).expect("renders");
    let job = the(&objects, "Job");
    let c = job_container(job);
    assert!(
        strings(&c["command"])
            .contains(&"--additional-config=/var/run/neo4j-admin/neo4j-admin.conf".to_string())
    );
    let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
    assert!(
        mounts.iter().any(|m| m["name"] == "neo4j-certs"
            && m["mountPath"] == "/ssl"
            && m["readOnly"] == true)
    );
    let template = &job.object["spec"]["template"];
    let volumes = template["spec"]["volumes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let certs = volumes
        .iter()
        .find(|v| v["name"] == "neo4j-certs")
        .expect("certs volume");
    assert_eq!(certs["secret"]["secretName"], "graph-tls-secret");
    assert!(
        certs["secret"]["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["path"] == "trusted/ca.crt"),
        "the CA the servers trust: {certs}"
    );
    let conf = template["metadata"]["annotations"][ADMIN_CONF_ANNOTATION]
        .as_str()
        .unwrap_or_default();
    for line in [
        "dbms.ssl.policy.backup.enabled=true",
        "dbms.ssl.policy.backup.base_directory=/ssl",
        "dbms.ssl.policy.backup.trust_all=false",
        "dbms.ssl.policy.backup.verify_hostname=true",
    ] {
        assert!(conf.lines().any(|l| l == line), "{line} missing in {conf}");
    }
    let conf_volume = volumes
        .iter()
        .find(|v| v["name"] == "admin-conf")
        .expect("downward API volume");
    assert_eq!(
        conf_volume["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"],
        format!("metadata.annotations['{ADMIN_CONF_ANNOTATION}']")
    );
}

#[test]
fn the_servers_enable_the_backup_policy_the_job_uses() {
    let tls = json!({"tls": {"mode": "cert-manager", "issuerRef": {"name": "ca", "kind": "ClusterIssuer"}}});
    let objects = super::render_cluster(spec_with(tls));
    let conf = super::conf_of(&objects, "graph-config");
    assert_eq!(
        super::setting(&conf, "dbms.ssl.policy.backup.enabled").as_deref(),
        Some("true")
    );
    assert_eq!(
        super::setting(&conf, "dbms.ssl.policy.backup.client_auth").as_deref(),
        Some("REQUIRE")
    );
}

#[test]
fn a_scheduled_backup_is_a_cronjob_that_never_overlaps() {
    let b = backup_from(
        json!({"instanceRef": "graph", "database": "sales", "storage": pvc(),
        "schedule": "0 2 * * *", "suspend": true}),
    );
    let objects = backup::render(&b, &cluster_target(json!({})), DOMAIN).expect("renders");
    assert!(objects.iter().all(|o| o.kind != "Job"));
    let cron = the(&objects, "CronJob");
    assert_eq!(cron.name, "nightly-backup-cron");
    let spec = &cron.object["spec"];
    assert_eq!(spec["schedule"], "0 2 * * *");
    assert_eq!(spec["suspend"], true);
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    assert_eq!(spec["successfulJobsHistoryLimit"], 3);
    assert_eq!(spec["failedJobsHistoryLimit"], 3);
    assert_eq!(
        spec["jobTemplate"]["metadata"]["labels"]["app.kubernetes.io/instance"],
        "nightly"
    );
    assert_eq!(spec["jobTemplate"]["spec"]["backoffLimit"], 0);
}

#[test]
fn temp_storage_gets_an_owned_staging_pvc() {
    let b = backup_from(json!({"instanceRef": "graph", "database": "sales",
        "storage": {"type": "s3", "bucket": "b", "cloud": {"provider": "aws"}},
        "options": {"tempStorage": {"size": "50Gi", "storageClassName": "fast"}}}));
    let objects = backup::render(&b, &cluster_target(json!({})), DOMAIN).expect("renders");
    assert_eq!(
        objects[0].kind, "PersistentVolumeClaim",
        "applied before the Job"
    );
    assert_eq!(objects[0].name, "nightly-temp-staging");
    assert_eq!(
        objects[0].object["spec"]["resources"]["requests"]["storage"],
        "50Gi"
    );
    let c = job_container(the(&objects, "Job"));
    assert!(strings(&c["command"]).contains(&"--temp-path=/tmp/neo4j-staging".to_string()));
}

#[test]
fn rendering_is_deterministic() {
    let b = backup_from(
        json!({"instanceRef": "graph", "database": "sales", "storage": pvc(), "schedule": "@daily"}),
    );
    let target = cluster_target(json!({}));
    let a = backup::render(&b, &target, DOMAIN).expect("renders");
    let again = backup::render(&b, &target, DOMAIN).expect("renders");
    assert_eq!(a, again);
    assert_eq!(
        a[0].object["metadata"]["annotations"]["neo4j.com/desired-hash"],
        a[0].hash.as_str()
    );
}

#[test]
fn sharded_backups_are_refused_when_rendered() {
    let b = backup_from(
        json!({"instanceRef": "graph", "shardedDatabase": "products", "storage": pvc()}),
    );
    assert!(matches!(
        backup::render(&b, &cluster_target(json!({})), DOMAIN),
        Err(RenderError::Unsupported { .. })
    ));
}

#[test]
fn retention_cleanup_is_a_job_without_owner_on_the_pvc() {
    let b = backup_from(
        json!({"instanceRef": "graph", "database": "sales", "storage": pvc(),
        "retention": {"maxAge": "90s", "maxCount": 5}}),
    );
    let job = backup::cleanup_job(&b, &cluster_target(json!({})))
        .expect("renders")
        .expect("a job");
    assert_eq!(job.name, "nightly-cleanup-0b1d2c3e");
    assert!(job.object["metadata"]["ownerReferences"].is_null());
    assert_eq!(job.object["spec"]["ttlSecondsAfterFinished"], 300);
    let env = env_of(&job_container(&job));
    assert!(env.contains(&("BACKUP_DIR".to_string(), json!("/backup/nightly"))));
    assert!(env.contains(&("MAX_COUNT".to_string(), json!("5"))));
    assert!(env.contains(&("MAX_AGE_MINUTES".to_string(), json!("2"))));
    let cloud = backup_from(json!({"instanceRef": "graph", "database": "sales",
        "storage": {"type": "s3", "bucket": "b", "cloud": {"provider": "aws"}}, "retention": {"maxCount": 5}}));
    assert_eq!(
        backup::cleanup_job(&cloud, &cluster_target(json!({}))),
        Ok(None)
    );
    assert_eq!(backup::max_age_minutes("7d"), Some(10_080));
    assert_eq!(backup::max_age_minutes("24h"), Some(1440));
    assert_eq!(backup::max_age_minutes("0m"), None);
}

fn plan(storage: Value, path: &str) -> SourcePlan {
    SourcePlan {
        storage: serde_json::from_value::<StorageLocation>(storage).expect("storage"),
        path: path.into(),
        source_database: "sales".into(),
        backup_ref: None,
    }
}

#[test]
fn a_standalone_restore_from_a_pvc_directory_picks_the_newest_artifact() {
    let r = restore_from(
        json!({"instanceRef": "solo", "database": "sales", "stopCluster": true,
        "options": {"replaceExisting": true}, "source": {"type": "backup", "backupRef": "nightly"}}),
    );
    let target = standalone_target(json!({}));
    let job = restore::restore_job(&r, &target, &plan(pvc(), "nightly")).expect("renders");
    assert_eq!(job.name, "back-restore");
    let c = job_container(&job);
    let command = strings(&c["command"]);
    assert_eq!(command[..2], ["/bin/sh", "-c"]);
    assert_eq!(command[2], restore::PICK_LATEST_SCRIPT.replace('$', "$$"));
    assert_eq!(
        command[3..],
        [
            "restore",
            "neo4j-admin",
            "database",
            "restore",
            "--overwrite-destination=true",
            "sales"
        ]
    );
    let env = env_of(&c);
    assert!(env.contains(&("BACKUP_DIR".to_string(), json!("/backup/nightly"))));
    assert!(env.contains(&("SOURCE_DATABASE".to_string(), json!("sales"))));
    let volumes = job.object["spec"]["template"]["spec"]["volumes"].clone();
    let claims: Vec<(String, Value)> = volumes
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            (
                v["persistentVolumeClaim"]["claimName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                v["persistentVolumeClaim"]["readOnly"].clone(),
            )
        })
        .collect();
    assert!(
        claims.contains(&("neo4j-data-solo-0".to_string(), Value::Null)),
        "{claims:?}"
    );
    assert!(
        claims.contains(&("backups".to_string(), json!(true))),
        "{claims:?}"
    );
}

#[test]
fn a_standalone_restore_of_one_file_is_pure_argv() {
    let r = restore_from(
        json!({"instanceRef": "solo", "database": "copy", "stopCluster": true,
        "source": {"type": "storage", "backupPath": "x", "pointInTime": "2026-01-02T03:04:05Z"}}),
    );
    let target = standalone_target(json!({}));
    let storage = json!({"type": "s3", "bucket": "b", "path": "p", "cloud": {"provider": "aws"}});
    let (argv, env) = restore::restore_argv(
        &r,
        &target,
        &plan(storage.clone(), "nightly/sales-2026-01-01T00-00-00.backup"),
    )
    .expect("argv");
    assert_eq!(
        argv,
        [
            "neo4j-admin",
            "database",
            "restore",
            "--from-path=s3://b/p/nightly/sales-2026-01-01T00-00-00.backup",
            "--restore-until=2026-01-02 03:04:05",
            "copy"
        ]
    );
    assert!(env.is_empty());
    // A directory in object storage needs 2025.02 and the source's own name.
    let err =
        restore::restore_argv(&r, &target, &plan(storage.clone(), "nightly")).expect_err("renamed");
    assert!(
        matches!(
            err,
            RenderError::Unsupported {
                field: "spec.database",
                ..
            }
        ),
        "{err}"
    );
    let old = standalone_target(json!({"image": {"repo": "neo4j", "tag": "5.26.4-enterprise"}}));
    let err = restore::restore_argv(&r, &old, &plan(storage.clone(), "nightly")).expect_err("5.26");
    assert!(
        matches!(
            err,
            RenderError::Unsupported {
                field: "spec.source.backupPath",
                ..
            }
        ),
        "{err}"
    );
    let same = restore_from(
        json!({"instanceRef": "solo", "database": "sales", "stopCluster": true,
        "source": {"type": "storage", "backupPath": "x"}}),
    );
    let (argv, _) = restore::restore_argv(&same, &target, &plan(storage, "nightly")).expect("argv");
    assert_eq!(
        argv[3..],
        ["--from-path=s3://b/p/nightly/", "--source-database=sales"]
    );
}

#[test]
fn a_cluster_restore_seeds_through_one_parameterised_statement() {
    let r = restore_from(
        json!({"instanceRef": "graph", "database": "sales", "timeout": "10m",
        "source": {"type": "backup", "backupRef": "nightly"}}),
    );
    let target = cluster_target(json!({}));
    let storage =
        json!({"type": "s3", "bucket": "b", "path": "backups", "cloud": {"provider": "aws"}});
    let job = restore::seed_job(&r, &target, &plan(storage, "nightly"), DOMAIN).expect("renders");
    let c = job_container(&job);
    assert_eq!(
        strings(&c["command"]),
        ["/bin/sh", "-c", &restore::CYPHER_SCRIPT.replace('$', "$$")]
    );
    let env = env_of(&c);
    let get = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(
        get("NEO4J_URL"),
        Some(json!(
            "http://graph-client.db.svc.cluster.local:7474/db/system/tx/commit"
        ))
    );
    assert_eq!(
        get("NEO4J_PASSWORD"),
        Some(json!({"secretKeyRef": {"name": "neo4j-admin-secret", "key": "password"}}))
    );
    let body: Value = serde_json::from_str(
        &get("REQUEST_BODY")
            .and_then(|v| v.as_str().map(|s| s.replace("$$", "$")))
            .unwrap_or_default(),
    )
    .expect("JSON body");
    assert_eq!(
        body["statements"][0]["statement"],
        "CREATE DATABASE $name OPTIONS {existingData: 'use', seedURI: $uri} WAIT 600 SECONDS"
    );
    assert_eq!(
        body["statements"][0]["parameters"],
        json!({"name": "sales", "uri": "s3://b/backups/nightly/"})
    );
    assert_eq!(
        job.object["spec"]["backoffLimit"], 0,
        "a seed is never issued twice"
    );
}

#[test]
fn replacing_a_cluster_database_uses_the_recreate_procedure_of_its_version() {
    let r = restore_from(json!({"instanceRef": "graph", "database": "sales",
        "options": {"replaceExisting": true}, "source": {"type": "backup", "backupRef": "nightly"}}));
    let v = |tag: &str| crate::version::parse_tag(tag);
    assert_eq!(
        restore::seed_statement(&r, v("5.26.3")),
        "CALL dbms.cluster.recreateDatabase($name, {seedURI: $uri})"
    );
    assert_eq!(
        restore::seed_statement(&r, v("2025.04.0")),
        "CALL dbms.recreateDatabase($name, {seedURI: $uri})"
    );
}

#[test]
fn a_pvc_cannot_seed_a_cluster() {
    let r = restore_from(
        json!({"instanceRef": "graph", "database": "sales", "source": {"type": "backup", "backupRef": "n"}}),
    );
    assert!(matches!(
        restore::seed_job(&r, &cluster_target(json!({})), &plan(pvc(), "n"), DOMAIN),
        Err(RenderError::Unsupported { .. })
    ));
}

#[test]
fn sources_resolve_from_a_succeeded_backup_or_wait() {
    let r = restore_from(
        json!({"instanceRef": "graph", "database": "sales", "source": {"type": "backup", "backupRef": "nightly"}}),
    );
    assert!(matches!(
        restore::resolve_source(&r, None),
        Resolution::Wait(_)
    ));
    let mut b = backup_from(json!({"instanceRef": "graph", "database": "orders",
        "storage": {"type": "s3", "bucket": "b", "cloud": {"provider": "aws"}}}));
    assert!(matches!(
        restore::resolve_source(&r, Some(&b)),
        Resolution::Wait(_)
    ));
    b.status = Some(crate::types::Neo4jBackupStatus {
        last_success_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::from_second(1_767_225_600).expect("time"),
        )),
        ..Default::default()
    });
    let Resolution::Ready(plan) = restore::resolve_source(&r, Some(&b)) else {
        panic!("not ready")
    };
    assert_eq!(plan.path, "nightly");
    assert_eq!(plan.source_database, "orders");
    assert_eq!(
        plan.storage.path.as_deref(),
        Some("backups"),
        "where the backup wrote"
    );
}

#[test]
fn a_held_standalone_renders_zero_replicas_and_says_why() {
    let s = standalone_from(
        json!({"image": {"repo": "neo4j", "tag": "2025.10.1-enterprise"},
        "storage": {"size": "10Gi"}, "acceptLicenseAgreement": "yes"}),
    );
    let free = standalone(&s).expect("renders");
    let mut held = free.clone();
    restore::hold_standalone(&mut held, "back");
    let (a, b) = (the(&free, "StatefulSet"), the(&held, "StatefulSet"));
    assert_eq!(a.object["spec"]["replicas"], 1);
    assert_eq!(b.object["spec"]["replicas"], 0);
    assert_eq!(
        b.object["metadata"]["annotations"][restore::HELD_BY_ANNOTATION],
        "back"
    );
    assert_ne!(a.hash, b.hash, "the change is applied");
    assert_eq!(
        b.object["metadata"]["annotations"]["neo4j.com/desired-hash"],
        b.hash.as_str()
    );
    for (x, y) in free.iter().zip(&held) {
        if x.kind != "StatefulSet" {
            assert_eq!(x, y, "only the StatefulSet changes");
        }
    }
}
