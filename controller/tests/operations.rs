//! Neo4jBackup and Neo4jRestore against a real API server and kube-controller-manager (whose
//! Job and CronJob controllers run the Jobs' lifecycles); the fake kubelet finishes Job pods
//! when a test says so. Each test has its own namespace and in-process controller.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use neo4j_e2e::kubelet::{self, JobPodOutcome};
use neo4j_shared::names::LABEL_JOB_NAME;
use neo4j_shared::render::restore::HELD_BY_ANNOTATION;
use neo4j_shared::types::{
    Neo4jBackup, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, Neo4jRestore,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use support::*;

const T: Duration = Duration::from_secs(90);
const BACKUP: &str = "Neo4jBackup";
const RESTORE: &str = "Neo4jRestore";

fn api<K>(env: &TestEnv) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    Api::namespaced(env.client.clone(), &env.ns)
}

async fn create<K>(env: &TestEnv, manifest: Value) -> K
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(manifest).expect("manifest");
    api::<K>(env)
        .create(&PostParams::default(), &obj)
        .await
        .expect("create")
}

fn backup_manifest(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jBackup", "metadata": {"name": name}, "spec": spec})
}

fn restore_manifest(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jRestore", "metadata": {"name": name}, "spec": spec})
}

async fn wait_job(env: &TestEnv, name: &str) -> Job {
    wait_for(&format!("Job {name}"), T, || async {
        api::<Job>(env).get_opt(name).await.ok()?
    })
    .await
}

/// Finishes the pods of Job `job` as the kubelet would, once the Job controller made one.
async fn finish_job(client: &Client, ns: &str, job: &str, outcome: JobPodOutcome) {
    let selector = format!("{LABEL_JOB_NAME}={job}");
    wait_for(&format!("a pod of Job {job} to finish"), T, || async {
        let n = kubelet::finish_job_pods(client, ns, &selector, NODE, &outcome)
            .await
            .ok()?;
        (n > 0).then_some(())
    })
    .await;
}

async fn backup_status(env: &TestEnv, name: &str) -> Value {
    let b = api::<Neo4jBackup>(env).get(name).await.expect("backup");
    serde_json::to_value(b.status).unwrap_or_default()
}

async fn wait_backup_phase(env: &TestEnv, name: &str, phase: &str) -> Value {
    wait_for(&format!("backup {name} {phase}"), T, || async {
        let s = backup_status(env, name).await;
        (s["phase"] == phase).then_some(s)
    })
    .await
}

fn strings(v: &Value) -> Vec<String> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

fn ready_condition(status: &Value) -> Value {
    status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready")
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_backup_runs_once_succeeds_and_stays_write_free() {
    let env = setup("ctl-backup").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    wait_ready(&ctl).await;
    create::<Neo4jEnterpriseCluster>(&env, cluster_manifest("graph", 3, "Delete")).await;
    create::<Neo4jBackup>(
        &env,
        backup_manifest(
            "once",
            json!({"instanceRef": "graph", "database": "neo4j", "storage": {"type": "pvc", "pvc": {"name": "backups"}}}),
        ),
    )
    .await;

    let job = wait_job(&env, "once-backup").await;
    let ns = &env.ns;
    let pod = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let pod = serde_json::to_value(pod.spec).unwrap_or_default();
    let from: Vec<String> = (0..3)
        .map(|i| format!("graph-server-{i}.graph-headless.{ns}.svc.cluster.local:6362"))
        .collect();
    assert_eq!(
        strings(&pod["containers"][0]["command"]),
        [
            "neo4j-admin".to_string(),
            "database".into(),
            "backup".into(),
            format!("--from={}", from.join(",")),
            "--to-path=/backup/once/".into(),
            "neo4j".into(),
        ],
        "the exact argv"
    );
    assert_eq!(job.spec.as_ref().and_then(|s| s.backoff_limit), Some(0));
    assert_eq!(
        job.owner_references().first().map(|o| o.kind.as_str()),
        Some(BACKUP)
    );
    let running = wait_backup_phase(&env, "once", "Running").await;
    assert_eq!(ready_condition(&running)["status"], "False");

    finish_job(&env.client, ns, "once-backup", JobPodOutcome::Succeeded).await;
    let done = wait_backup_phase(&env, "once", "Succeeded").await;
    assert!(done["lastRunTime"].is_string(), "{done}");
    assert!(done["lastSuccessTime"].is_string(), "{done}");
    assert_eq!(ready_condition(&done)["status"], "True");
    assert_eq!(done["history"][0]["runID"], "once-backup");
    assert_eq!(done["history"][0]["status"], "Succeeded");

    // A second reconcile (a metadata-only change triggers one) changes nothing.
    let job_rv = api::<Job>(&env)
        .get("once-backup")
        .await
        .unwrap()
        .resource_version();
    let writes = ctl.metric("neo4j_controller_api_writes_total", &[]);
    let reconciles = ctl.metric("neo4j_controller_reconciles_total", &[("kind", BACKUP)]);
    api::<Neo4jBackup>(&env)
        .patch(
            "once",
            &PatchParams::apply("someone-else"),
            &Patch::Apply(
                json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jBackup",
                "metadata": {"name": "once", "annotations": {"example.com/touched": "yes"}}}),
            ),
        )
        .await
        .unwrap();
    wait_for("a reconcile after the touch", T, || async {
        (ctl.metric("neo4j_controller_reconciles_total", &[("kind", BACKUP)]) > reconciles)
            .then_some(())
    })
    .await;
    assert_eq!(ctl.metric("neo4j_controller_api_writes_total", &[]), writes);
    assert_eq!(
        api::<Job>(&env)
            .get("once-backup")
            .await
            .unwrap()
            .resource_version(),
        job_rv,
        "the Job was written on a no-op reconcile"
    );
    assert_eq!(backup_status(&env, "once").await, done, "status rewritten");
    assert_eq!(
        ctl.metric(
            "neo4j_controller_reconciles_total",
            &[("kind", BACKUP), ("result", "kube_error")]
        ),
        0.0
    );

    // Idle: a minute without a single write.
    let writes = ctl.metric("neo4j_controller_api_writes_total", &[]);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(
        ctl.metric("neo4j_controller_api_writes_total", &[]),
        writes,
        "writes while idle:\n{}",
        ctl.metrics()
    );

    // A restarted controller never runs a finished one-shot backup again.
    ctl.kill().await;
    api::<Job>(&env)
        .delete("once-backup", &Default::default())
        .await
        .unwrap();
    let ctl = start(&env, |_| {}).await;
    wait_ready(&ctl).await;
    // A reconcile is counted when it has finished, so any Job it made exists by then.
    wait_for("the restarted controller's reconcile", T, || async {
        (ctl.metric(
            "neo4j_controller_reconciles_total",
            &[("kind", BACKUP), ("result", "ok")],
        ) >= 1.0)
            .then_some(())
    })
    .await;
    assert!(
        api::<Job>(&env)
            .get_opt("once-backup")
            .await
            .unwrap()
            .is_none_or(|j| j.metadata.deletion_timestamp.is_some()),
        "the Job was created again"
    );
    assert_eq!(backup_status(&env, "once").await["phase"], "Succeeded");
    assert_eq!(
        ctl.metric("neo4j_controller_api_writes_total", &[("kind", BACKUP)]),
        0.0,
        "{}",
        ctl.metrics()
    );
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_backup_reports_the_reason_from_its_job() {
    let env = setup("ctl-backup-fail").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    create::<Neo4jEnterpriseStandalone>(&env, standalone_manifest("solo", "Delete")).await;
    create::<Neo4jBackup>(
        &env,
        backup_manifest(
            "broken",
            json!({"instanceRef": "solo", "database": "sales", "storage": {"type": "pvc", "pvc": {"name": "backups"}}}),
        ),
    )
    .await;
    wait_job(&env, "broken-backup").await;
    finish_job(
        &env.client,
        &env.ns,
        "broken-backup",
        JobPodOutcome::Failed("Backup failed: Database 'sales' does not exist".into()),
    )
    .await;
    let failed = wait_backup_phase(&env, "broken", "Failed").await;
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(message.contains("broken-backup"), "{message}");
    assert!(
        message.contains("Database 'sales' does not exist"),
        "{message}"
    );
    let ready = ready_condition(&failed);
    assert_eq!(
        (ready["status"].clone(), ready["reason"].clone()),
        (json!("False"), json!("BackupFailed"))
    );
    assert_eq!(failed["history"][0]["status"], "Failed");
    assert!(failed["lastSuccessTime"].is_null());
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_backup_is_a_cronjob_updated_in_place() {
    let env = setup("ctl-backup-cron").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    let mut cluster = cluster_manifest("secure", 3, "Delete");
    cluster["spec"]["tls"] =
        json!({"mode": "cert-manager", "issuerRef": {"name": "ca", "kind": "ClusterIssuer"}});
    create::<Neo4jEnterpriseCluster>(&env, cluster).await;
    create::<Neo4jBackup>(
        &env,
        backup_manifest(
            "hourly",
            json!({"instanceRef": "secure", "allDatabases": true, "schedule": "0 3 1 1 *",
                "storage": {"type": "s3", "bucket": "neo4j-backups", "cloud": {"provider": "aws",
                    "credentialsSecretRef": "minio", "endpointURL": "http://minio.storage.svc:9000"}}}),
        ),
    )
    .await;
    let cron = wait_for("CronJob hourly-backup-cron", T, || async {
        api::<CronJob>(&env)
            .get_opt("hourly-backup-cron")
            .await
            .ok()?
    })
    .await;
    let spec = serde_json::to_value(cron.spec.clone()).unwrap_or_default();
    assert_eq!(spec["schedule"], "0 3 1 1 *");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    let pod = &spec["jobTemplate"]["spec"]["template"];
    let c = &pod["spec"]["containers"][0];
    let command = strings(&c["command"]);
    assert_eq!(
        command.last().map(String::as_str),
        Some("*"),
        "every database: {command:?}"
    );
    assert!(command.contains(&"--to-path=s3://neo4j-backups/backups/hourly/".to_string()));
    assert!(
        command.contains(&"--additional-config=/var/run/neo4j-admin/neo4j-admin.conf".to_string())
    );
    let env_vars = c["env"].as_array().cloned().unwrap_or_default();
    assert!(
        env_vars
            .iter()
            .any(|e| e["name"] == "AWS_ENDPOINT_URL_S3"
                && e["value"] == "http://minio.storage.svc:9000"),
        "the custom endpoint: {env_vars:?}"
    );
    let volumes = pod["spec"]["volumes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        volumes
            .iter()
            .any(|v| v["name"] == "neo4j-certs" && v["secret"]["secretName"] == "secure-tls-secret"),
        "TLS material: {volumes:?}"
    );
    assert!(
        pod["metadata"]["annotations"]["neo4j.com/neo4j-admin-conf"]
            .as_str()
            .is_some_and(|c| c.contains("dbms.ssl.policy.backup.enabled=true"))
    );
    let pending = wait_for("a next run time", T, || async {
        let s = backup_status(&env, "hourly").await;
        s["nextRunTime"].is_string().then_some(s)
    })
    .await;
    assert_eq!(pending["phase"], "Pending");

    // Schedule and suspension change the same CronJob.
    let uid = cron.uid();
    api::<Neo4jBackup>(&env)
        .patch(
            "hourly",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"schedule": "30 4 * * *", "suspend": true}})),
        )
        .await
        .unwrap();
    let cron = wait_for("the CronJob updated", T, || async {
        let c = api::<CronJob>(&env)
            .get_opt("hourly-backup-cron")
            .await
            .ok()??;
        let s = c.spec.clone()?;
        (s.schedule == "30 4 * * *" && s.suspend == Some(true)).then_some(c)
    })
    .await;
    assert_eq!(cron.uid(), uid, "updated in place, not replaced");
    wait_for("no next run while suspended", T, || async {
        let s = backup_status(&env, "hourly").await;
        (s["nextRunTime"].is_null() && s["phase"] == "Pending").then_some(())
    })
    .await;

    // No longer scheduled: the CronJob goes, a one-shot Job comes.
    api::<Neo4jBackup>(&env)
        .patch(
            "hourly",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"schedule": null}})),
        )
        .await
        .unwrap();
    wait_for("the CronJob removed", T, || async {
        let gone = api::<CronJob>(&env)
            .get_opt("hourly-backup-cron")
            .await
            .ok()?
            .is_none_or(|c| c.metadata.deletion_timestamp.is_some());
        gone.then_some(())
    })
    .await;
    wait_job(&env, "hourly-backup").await;
    ctl.stop().await;
}

async fn restore_status(env: &TestEnv, name: &str) -> Value {
    let r = api::<Neo4jRestore>(env).get(name).await.expect("restore");
    serde_json::to_value(r.status).unwrap_or_default()
}

fn step(status: &Value) -> String {
    status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Progressing")
        .and_then(|c| c["reason"].as_str())
        .unwrap_or("")
        .to_string()
}

async fn wait_step(env: &TestEnv, name: &str, want: &str, seen: &mut Vec<String>) -> Value {
    let s = wait_for(&format!("restore {name} at {want}"), T, || async {
        let s = restore_status(env, name).await;
        let now = step(&s);
        (now == want).then_some(s)
    })
    .await;
    seen.push(want.to_string());
    s
}

/// `spec.replicas` and `status.replicas` of a StatefulSet (`(None, -1)` before it exists).
async fn replicas(env: &TestEnv, sts: &str) -> (Option<i32>, i32) {
    match api::<StatefulSet>(env).get_opt(sts).await.ok().flatten() {
        Some(s) => (
            s.spec.and_then(|s| s.replicas),
            s.status.map(|s| s.replicas).unwrap_or_default(),
        ),
        None => (None, -1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_restore_walks_its_steps_in_order_across_a_controller_restart() {
    let env = setup("ctl-restore").await;
    let _node = fake_node(&env.client).await;
    let ns = env.ns.clone();
    let ctl = start(&env, |_| {}).await;
    wait_ready(&ctl).await;
    create::<Neo4jEnterpriseStandalone>(&env, standalone_manifest("solo", "Delete")).await;
    let solo_pods = "app=solo";
    wait_for("solo Ready", T, || async {
        mark_pods_ready(&env.client, &ns, solo_pods).await;
        (replicas(&env, "solo").await.1 == 1
            && api::<Neo4jEnterpriseStandalone>(&env)
                .get("solo")
                .await
                .ok()?
                .status?
                .phase
                .as_deref()
                == Some("Ready"))
        .then_some(())
    })
    .await;

    // The backup the restore reads.
    create::<Neo4jBackup>(
        &env,
        backup_manifest(
            "nightly",
            json!({"instanceRef": "solo", "database": "sales", "storage": {"type": "pvc", "pvc": {"name": "backups"}}}),
        ),
    )
    .await;
    wait_job(&env, "nightly-backup").await;
    finish_job(&env.client, &ns, "nightly-backup", JobPodOutcome::Succeeded).await;
    wait_backup_phase(&env, "nightly", "Succeeded").await;

    create::<Neo4jRestore>(
        &env,
        restore_manifest(
            "back",
            json!({"instanceRef": "solo", "database": "sales", "stopCluster": true,
                "options": {"replaceExisting": true}, "source": {"type": "backup", "backupRef": "nightly"}}),
        ),
    )
    .await;
    let mut seen = Vec::new();
    wait_step(&env, "back", "Stopping", &mut seen).await;
    // The standalone's own controller stops it, and says why.
    let sts = wait_for("the standalone scaled to 0", T, || async {
        let s = api::<StatefulSet>(&env).get("solo").await.ok()?;
        (s.spec.as_ref()?.replicas == Some(0)).then_some(s)
    })
    .await;
    assert_eq!(
        sts.annotations()
            .get(HELD_BY_ANNOTATION)
            .map(String::as_str),
        Some("back")
    );
    let r = api::<Neo4jRestore>(&env).get("back").await.unwrap();
    assert!(
        r.finalizers()
            .iter()
            .any(|f| f == "neo4j.neo4j.com/restore-finalizer"),
        "held with a finalizer"
    );
    wait_for("the server pod gone", T, || async {
        kubelet::finish_terminating(&env.client, &ns, solo_pods)
            .await
            .ok()?;
        (replicas(&env, "solo").await.1 == 0).then_some(())
    })
    .await;
    wait_step(&env, "back", "Restoring", &mut seen).await;
    let job = wait_job(&env, "back-restore").await;
    let pod = serde_json::to_value(job.spec.map(|s| s.template.spec)).unwrap_or_default();
    let command = strings(&pod["containers"][0]["command"]);
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
    let claims: Vec<String> = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            v["persistentVolumeClaim"]["claimName"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert!(
        claims.contains(&"neo4j-data-solo-0".to_string()),
        "{claims:?}"
    );

    // The controller dies mid-restore; the Job finishes while nobody watches.
    ctl.kill().await;
    finish_job(&env.client, &ns, "back-restore", JobPodOutcome::Succeeded).await;
    wait_for("the restore Job complete", T, || async {
        let j = api::<Job>(&env).get("back-restore").await.ok()?;
        (j.status?.succeeded == Some(1)).then_some(())
    })
    .await;
    assert_eq!(step(&restore_status(&env, "back").await), "Restoring");
    assert_eq!(
        replicas(&env, "solo").await.0,
        Some(0),
        "still stopped without a controller"
    );

    let ctl = start(&env, |_| {}).await;
    wait_ready(&ctl).await;
    wait_step(&env, "back", "Starting", &mut seen).await;
    wait_for("the standalone started again", T, || async {
        mark_pods_ready(&env.client, &ns, solo_pods).await;
        (replicas(&env, "solo").await == (Some(1), 1)).then_some(())
    })
    .await;
    wait_step(&env, "back", "Creating", &mut seen).await;
    let create_job = wait_job(&env, "back-create").await;
    let body = create_job
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|p| p.containers.into_iter().next())
        .and_then(|c| c.env)
        .and_then(|e| e.into_iter().find(|v| v.name == "REQUEST_BODY"))
        .and_then(|v| v.value)
        .unwrap_or_default()
        .replace("$$", "$");
    let body: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(
        body["statements"][0]["statement"],
        "CREATE DATABASE $name IF NOT EXISTS WAIT 300 SECONDS"
    );
    assert_eq!(body["statements"][0]["parameters"]["name"], "sales");
    finish_job(&env.client, &ns, "back-create", JobPodOutcome::Succeeded).await;
    let done = wait_step(&env, "back", "Succeeded", &mut seen).await;
    assert_eq!(
        seen,
        ["Stopping", "Restoring", "Starting", "Creating", "Succeeded"]
    );
    assert_eq!(done["phase"], "Succeeded");
    assert!(done["startTime"].is_string() && done["completionTime"].is_string());
    assert_eq!(done["resolvedSource"]["backupPath"], "nightly");
    wait_for("the finalizer released", T, || async {
        let r = api::<Neo4jRestore>(&env).get("back").await.ok()?;
        r.finalizers().is_empty().then_some(())
    })
    .await;
    assert_eq!(
        api::<StatefulSet>(&env)
            .get("solo")
            .await
            .unwrap()
            .annotations()
            .get(HELD_BY_ANNOTATION),
        None
    );

    // A second reconcile of the finished restore (a metadata-only change triggers one) writes
    // nothing: neither its Jobs nor its status.
    let job_versions = || async {
        let mut v = Vec::new();
        for name in ["back-restore", "back-create"] {
            v.push(
                api::<Job>(&env)
                    .get_opt(name)
                    .await
                    .unwrap()
                    .map(|j| j.resource_version()),
            );
        }
        v
    };
    let before = job_versions().await;
    let settled = restore_status(&env, "back").await;
    let writes = ctl.metric("neo4j_controller_api_writes_total", &[("kind", RESTORE)]);
    let reconciles = ctl.metric(
        "neo4j_controller_reconciles_total",
        &[("kind", RESTORE), ("result", "ok")],
    );
    api::<Neo4jRestore>(&env)
        .patch(
            "back",
            &PatchParams::apply("someone-else"),
            &Patch::Apply(
                json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jRestore",
                "metadata": {"name": "back", "annotations": {"example.com/touched": "yes"}}}),
            ),
        )
        .await
        .unwrap();
    wait_for("a reconcile after the touch", T, || async {
        (ctl.metric(
            "neo4j_controller_reconciles_total",
            &[("kind", RESTORE), ("result", "ok")],
        ) > reconciles)
            .then_some(())
    })
    .await;
    assert_eq!(
        ctl.metric("neo4j_controller_api_writes_total", &[("kind", RESTORE)]),
        writes,
        "{}",
        ctl.metrics()
    );
    assert_eq!(job_versions().await, before, "a Job was written");
    assert_eq!(
        restore_status(&env, "back").await,
        settled,
        "status rewritten"
    );
    assert_eq!(
        ctl.metric(
            "neo4j_controller_reconciles_total",
            &[("kind", RESTORE), ("result", "kube_error")]
        ),
        0.0
    );
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_restores_of_one_cluster_database_never_seed_at_once() {
    let env = setup("ctl-seed").await;
    let _node = fake_node(&env.client).await;
    let ns = env.ns.clone();
    let ctl = start(&env, |_| {}).await;
    create::<Neo4jEnterpriseCluster>(&env, cluster_manifest("graph", 3, "Delete")).await;
    let source = json!({"type": "storage", "backupPath": "nightly/sales-2026-01-01T00-00-00.backup",
        "storage": {"type": "s3", "bucket": "neo4j-backups", "cloud": {"provider": "aws"}}});
    for name in ["first", "second"] {
        create::<Neo4jRestore>(
            &env,
            restore_manifest(
                name,
                json!({"instanceRef": "graph", "database": "sales", "source": source.clone()}),
            ),
        )
        .await;
    }
    // Exactly one seeds; the other waits for it.
    let (seeding, waiting) = wait_for("one restore seeding", T, || async {
        let a = step(&restore_status(&env, "first").await);
        let b = step(&restore_status(&env, "second").await);
        match (a.as_str(), b.as_str()) {
            ("Seeding", "Waiting") => Some(("first", "second")),
            ("Waiting", "Seeding") => Some(("second", "first")),
            _ => None,
        }
    })
    .await;
    let job = wait_job(&env, &format!("{seeding}-restore")).await;
    let body = job
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|p| p.containers.into_iter().next())
        .and_then(|c| c.env)
        .and_then(|e| e.into_iter().find(|v| v.name == "REQUEST_BODY"))
        .and_then(|v| v.value)
        .unwrap_or_default()
        .replace("$$", "$");
    let body: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(
        body["statements"][0]["parameters"],
        json!({"name": "sales", "uri": "s3://neo4j-backups/nightly/sales-2026-01-01T00-00-00.backup"})
    );
    let message = restore_status(&env, waiting).await["message"].clone();
    assert!(
        message.as_str().is_some_and(|m| m.contains(seeding)),
        "{message}"
    );
    assert!(
        api::<Job>(&env)
            .get_opt(&format!("{waiting}-restore"))
            .await
            .unwrap()
            .is_none(),
        "a second seed was issued"
    );
    // The seed fails (the database exists, and replaceExisting is not set): the other goes.
    finish_job(
        &env.client,
        &ns,
        &format!("{seeding}-restore"),
        JobPodOutcome::Failed("Database 'sales' already exists.".into()),
    )
    .await;
    wait_for(
        "the first restore failed with Neo4j's message",
        T,
        || async {
            let s = restore_status(&env, seeding).await;
            (s["phase"] == "Failed" && s["message"].as_str()?.contains("already exists"))
                .then_some(())
        },
    )
    .await;
    wait_step(&env, waiting, "Seeding", &mut Vec::new()).await;
    finish_job(
        &env.client,
        &ns,
        &format!("{waiting}-restore"),
        JobPodOutcome::Succeeded,
    )
    .await;
    wait_step(&env, waiting, "Succeeded", &mut Vec::new()).await;
    ctl.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_backup_with_retention_leaves_a_cleanup_job_on_its_pvc() {
    let env = setup("ctl-backup-retention").await;
    let _node = fake_node(&env.client).await;
    let ctl = start(&env, |_| {}).await;
    wait_ready(&ctl).await;
    create::<Neo4jEnterpriseStandalone>(&env, standalone_manifest("solo", "Delete")).await;
    let backup: Neo4jBackup = create(
        &env,
        backup_manifest(
            "pruned",
            json!({"instanceRef": "solo", "database": "neo4j", "schedule": "0 3 1 1 *",
                "storage": {"type": "pvc", "pvc": {"name": "backups"}},
                "retention": {"maxAge": "7d", "maxCount": 5}}),
        ),
    )
    .await;
    wait_for("the retention finalizer", T, || async {
        let b = api::<Neo4jBackup>(&env).get("pruned").await.ok()?;
        b.finalizers()
            .iter()
            .any(|f| f == "neo4j.neo4j.com/backup-finalizer")
            .then_some(())
    })
    .await;
    api::<Neo4jBackup>(&env)
        .delete("pruned", &Default::default())
        .await
        .unwrap();
    let suffix: String = backup
        .uid()
        .unwrap_or_default()
        .chars()
        .filter(|c| *c != '-')
        .take(8)
        .collect();
    let cleanup = wait_job(&env, &format!("pruned-cleanup-{suffix}")).await;
    assert!(
        cleanup.owner_references().is_empty(),
        "the cleanup Job outlives the backup"
    );
    let pod = serde_json::to_value(cleanup.spec.map(|s| s.template.spec)).unwrap_or_default();
    let c = &pod["containers"][0];
    assert_eq!(strings(&c["command"])[..2], ["/bin/sh", "-c"]);
    let env_vars: Vec<(String, String)> = c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or_default().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        env_vars,
        [
            ("BACKUP_DIR".to_string(), "/backup/pruned".to_string()),
            ("MAX_COUNT".into(), "5".into()),
            ("MAX_AGE_MINUTES".into(), "10080".into()),
        ]
    );
    assert_eq!(
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "backups"
    );
    wait_for("the backup gone", T, || async {
        api::<Neo4jBackup>(&env)
            .get_opt("pruned")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    ctl.stop().await;
}
