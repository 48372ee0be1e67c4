//! The objects of a Neo4jBackup: a Job for a one-shot backup, a CronJob for a scheduled one,
//! and the staging PVC of `options.tempStorage`. One pod per run talks to the target's
//! servers over the backup port (no sidecars, no standing backup StatefulSet).
//!
//! The container runs `neo4j-admin database backup` as an argv array, never through a shell:
//! the chain directory of a PVC is created by an init container running `mkdir -p` (also an
//! argv), and the TLS client configuration reaches neo4j-admin as a file that the downward API
//! writes from a pod annotation. Every value from the spec passes through
//! [`literal`](super::ops::literal).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1 as batchv1;
use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::object::{DesiredObject, Owner, RenderError, desired};
use super::ops::{
    BACKUP_MOUNT, Target, TargetTls, backup_pvc_volume, chain_dir, checked_job_name, cloud_access,
    default_resources, is_pvc, job_container, job_name, job_pod, literal, literal_uri,
    template_meta, tls_volume,
};
use super::pod::{empty_dir, mount};
use crate::names::{self, Labels};
use crate::types::{Kind, Neo4jBackup, StorageLocation};

/// Where the staging PVC of `options.tempStorage` is mounted.
pub const STAGING_MOUNT: &str = "/tmp/neo4j-staging";
/// Where neo4j-admin finds its TLS client configuration.
pub const ADMIN_CONF_DIR: &str = "/var/run/neo4j-admin";
/// The pod annotation the downward API turns into [`ADMIN_CONF_DIR`]`/neo4j-admin.conf`.
pub const ADMIN_CONF_ANNOTATION: &str = "neo4j.com/neo4j-admin-conf";
/// Longest CronJob name Kubernetes accepts (its Jobs are `<name>-<minutes since epoch>`).
const CRONJOB_NAME_MAX: usize = 52;

/// The chain a backup writes into: `spec.chainFromBackup`, else its own name.
pub fn chain_root(b: &Neo4jBackup) -> String {
    b.spec
        .chain_from_backup
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| b.metadata.name.clone().unwrap_or_default())
}

/// Whether the backup runs on a schedule.
pub fn scheduled(b: &Neo4jBackup) -> Option<&str> {
    b.spec
        .schedule
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn storage(b: &Neo4jBackup) -> Result<&StorageLocation, RenderError> {
    b.spec.storage.as_ref().ok_or(RenderError::MissingField {
        field: "spec.storage",
        hint: "set where the backups go (pvc, s3, gcs or azure)",
    })
}

/// The database argument: one name, or `*` for every database of the DBMS (system included).
fn database_argument(b: &Neo4jBackup) -> Result<String, RenderError> {
    let s = &b.spec;
    if s.all_databases == Some(true) {
        return Ok("*".into());
    }
    if s.sharded_database.as_deref().is_some_and(|x| !x.is_empty()) {
        return Err(RenderError::Unsupported {
            field: "spec.shardedDatabase",
            why: "backups of sharded databases are not implemented by this operator version; back up each shard database by name".into(),
        });
    }
    match s.database.as_deref().filter(|d| !d.is_empty()) {
        Some(db) => Ok(literal(db)),
        None => Err(RenderError::MissingField {
            field: "spec.database",
            hint: "name the database, or set allDatabases: true",
        }),
    }
}

/// The TLS client policy of neo4j-admin, matching the servers' `backup` policy.
pub fn tls_client_conf(tls: &TargetTls) -> String {
    let p = "dbms.ssl.policy.backup";
    let lines = [
        format!("{p}.enabled=true"),
        format!("{p}.base_directory=/ssl"),
        format!("{p}.private_key=tls.key"),
        format!("{p}.public_certificate=tls.crt"),
        format!("{p}.tls_versions=TLSv1.3,TLSv1.2"),
        format!("{p}.trust_all={}", !tls.strict),
        format!("{p}.verify_hostname={}", tls.strict && tls.names_pods),
    ];
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The argv of the backup container: `neo4j-admin database backup …`, options in a fixed
/// order, the database (or `*`) last.
pub fn argv(b: &Neo4jBackup, target: &Target, domain: &str) -> Result<Vec<String>, RenderError> {
    let storage = storage(b)?;
    let to_path = chain_dir(storage, &chain_root(b)).ok_or(RenderError::MissingField {
        field: "spec.storage.bucket",
        hint: "object storage needs a bucket (Azure: a container)",
    })?;
    let mut args: Vec<String> = ["neo4j-admin", "database", "backup"]
        .map(String::from)
        .to_vec();
    args.push(format!(
        "--from={}",
        target.backup_addresses(domain).join(",")
    ));
    args.push(format!("--to-path={}", literal_uri(&to_path)));
    if let Some(o) = &b.spec.options {
        if let Some(t) = o.backup_type.as_deref().filter(|t| !t.is_empty()) {
            args.push(format!("--type={}", literal(t)));
        }
        if o.compress == Some(false) {
            args.push("--compress=false".into());
        }
        if let Some(pc) = o.page_cache.as_deref().filter(|p| !p.is_empty()) {
            args.push(format!("--pagecache={}", literal(pc)));
        }
        match o.temp_path.as_deref().filter(|p| !p.is_empty()) {
            Some(tp) => args.push(format!("--temp-path={}", literal(tp))),
            None if o.temp_storage.is_some() => args.push(format!("--temp-path={STAGING_MOUNT}")),
            None => {}
        }
        for (on, flag) in [
            (o.prefer_diff_as_parent, "--prefer-diff-as-parent"),
            (o.parallel_download, "--parallel-download=true"),
            (o.skip_recovery, "--skip-recovery=true"),
            (o.parallel_recovery, "--parallel-recovery=true"),
            (o.keep_failed, "--keep-failed=true"),
        ] {
            if on == Some(true) {
                args.push(flag.into());
            }
        }
        if let Some(m) = o.include_metadata.as_deref().filter(|m| !m.is_empty()) {
            args.push(format!("--include-metadata={}", literal(m)));
        }
        if let Some(r) = o.remote_address_resolution {
            args.push(format!("--remote-address-resolution={r}"));
        }
    }
    if target.tls.is_some() {
        args.push(format!(
            "--additional-config={ADMIN_CONF_DIR}/neo4j-admin.conf"
        ));
    }
    for extra in b
        .spec
        .options
        .iter()
        .flat_map(|o| o.additional_args.iter().flatten())
    {
        args.push(literal(extra));
    }
    args.push(database_argument(b)?);
    Ok(args)
}

/// Every object of a backup, in apply order: the staging PVC (with `options.tempStorage`),
/// then the Job (one-shot) or the CronJob (scheduled).
pub fn render(
    b: &Neo4jBackup,
    target: &Target,
    domain: &str,
) -> Result<Vec<DesiredObject>, RenderError> {
    let owner = Owner::new(Kind::Backup, &b.metadata)?;
    let mut out = Vec::new();
    let temp = b
        .spec
        .options
        .as_ref()
        .and_then(|o| o.temp_storage.as_ref());
    if let Some(ts) = temp {
        let name = names::backup_temp_pvc(&owner.name);
        let pvc = corev1::PersistentVolumeClaim {
            metadata: owner.meta(name.clone(), Labels::new(), Labels::new()),
            spec: Some(corev1::PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: ts.storage_class_name.clone().filter(|c| !c.is_empty()),
                resources: Some(corev1::VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".to_string(),
                        Quantity(ts.size.clone().unwrap_or_default()),
                    )])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        out.push(desired(
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            name,
            &pvc,
        )?);
    }
    let chain = chain_root(b);
    let instance = b.spec.instance_ref.clone().unwrap_or_default();
    let component = if scheduled(b).is_some() {
        "backup-cron"
    } else {
        "backup"
    };
    let labels = names::backup_labels(&owner.name, component, &chain, &instance);
    let job_spec = job_spec(b, target, domain, labels.clone())?;
    match scheduled(b) {
        None => {
            let name = checked_job_name(names::backup_job(&owner.name))?;
            let job = batchv1::Job {
                metadata: owner.meta(name.clone(), labels, Labels::new()),
                spec: Some(job_spec),
                ..Default::default()
            };
            out.push(desired("batch/v1", "Job", "jobs", name, &job)?);
        }
        Some(schedule) => {
            let name = job_name(
                "CronJob",
                names::backup_cronjob(&owner.name),
                CRONJOB_NAME_MAX,
            )?;
            let cron = batchv1::CronJob {
                metadata: owner.meta(name.clone(), labels.clone(), Labels::new()),
                spec: Some(batchv1::CronJobSpec {
                    schedule: schedule.to_string(),
                    suspend: Some(b.spec.suspend == Some(true)),
                    concurrency_policy: Some("Forbid".into()),
                    starting_deadline_seconds: Some(60),
                    successful_jobs_history_limit: Some(3),
                    failed_jobs_history_limit: Some(3),
                    job_template: batchv1::JobTemplateSpec {
                        metadata: Some(template_meta(labels, BTreeMap::new())),
                        spec: Some(job_spec),
                    },
                    ..Default::default()
                }),
                ..Default::default()
            };
            out.push(desired("batch/v1", "CronJob", "cronjobs", name, &cron)?);
        }
    }
    Ok(out)
}

/// The Job spec of one run: one pod, one try (a failed run is reported, the next scheduled run
/// is the retry).
fn job_spec(
    b: &Neo4jBackup,
    target: &Target,
    domain: &str,
    labels: Labels,
) -> Result<batchv1::JobSpec, RenderError> {
    let storage = storage(b)?;
    let args = argv(b, target, domain)?;
    let access = cloud_access(storage);
    let mut volumes = access.volumes;
    let mut mounts = access.mounts;
    let mut init = Vec::new();
    if is_pvc(storage) {
        let volume = backup_pvc_volume(storage, false).ok_or(RenderError::MissingField {
            field: "spec.storage.pvc.name",
            hint: "name the PVC the backups go to",
        })?;
        volumes.push(volume);
        mounts.push(mount("backup-storage", BACKUP_MOUNT, false));
        // neo4j-admin wants the chain directory to exist; argv, no shell.
        let dir = format!("{BACKUP_MOUNT}/{}", literal(&chain_root(b)));
        let mut prepare = job_container(target, "prepare");
        prepare.command = Some(vec!["mkdir".into(), "-p".into(), dir]);
        prepare.volume_mounts = Some(vec![mount("backup-storage", BACKUP_MOUNT, false)]);
        prepare.resources = Some(super::pod::resources(("10m", "16Mi"), ("100m", "64Mi")));
        init.push(prepare);
    }
    let o = b.spec.options.as_ref();
    if o.and_then(|o| o.temp_storage.as_ref()).is_some() {
        let claim = names::backup_temp_pvc(b.metadata.name.as_deref().unwrap_or_default());
        volumes.push(corev1::Volume {
            name: "temp-staging".into(),
            persistent_volume_claim: Some(corev1::PersistentVolumeClaimVolumeSource {
                claim_name: claim,
                read_only: None,
            }),
            ..Default::default()
        });
        mounts.push(mount("temp-staging", STAGING_MOUNT, false));
    }
    let mut annotations = BTreeMap::new();
    if let Some(tls) = &target.tls {
        let (volume, m) = tls_volume(tls);
        volumes.push(volume);
        mounts.push(m);
        annotations.insert(ADMIN_CONF_ANNOTATION.to_string(), tls_client_conf(tls));
        volumes.push(admin_conf_volume());
        mounts.push(mount("admin-conf", ADMIN_CONF_DIR, true));
    }
    if let Some(tp) = o
        .and_then(|o| o.temp_path.as_deref())
        .filter(|p| p.starts_with("/tmp/") && p.len() > "/tmp/".len())
    {
        // A scratch directory at the path asked for, so it exists and is empty; only under
        // /tmp, where it cannot shadow the image's own directories.
        volumes.push(empty_dir("temp-path"));
        mounts.push(mount("temp-path", &literal(tp), false));
    }
    let mut container = job_container(target, "backup");
    container.command = Some(args);
    container.env = (!access.env.is_empty()).then_some(access.env);
    container.resources = Some(
        o.and_then(|o| o.resources.clone())
            .unwrap_or_else(default_resources),
    );
    container.volume_mounts = (!mounts.is_empty()).then_some(mounts);
    Ok(batchv1::JobSpec {
        backoff_limit: Some(0),
        template: corev1::PodTemplateSpec {
            metadata: Some(template_meta(labels, annotations)),
            spec: Some(job_pod(target, init, container, volumes)),
        },
        ..Default::default()
    })
}

/// The downward-API volume holding the TLS client configuration from the pod annotation.
fn admin_conf_volume() -> corev1::Volume {
    corev1::Volume {
        name: "admin-conf".into(),
        downward_api: Some(corev1::DownwardAPIVolumeSource {
            items: Some(vec![corev1::DownwardAPIVolumeFile {
                path: "neo4j-admin.conf".into(),
                field_ref: Some(corev1::ObjectFieldSelector {
                    field_path: format!("metadata.annotations['{ADMIN_CONF_ANNOTATION}']"),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The script of a retention cleanup: in `$BACKUP_DIR`, keep the newest `$MAX_COUNT`
/// `.backup` files, and delete those older than `$MAX_AGE_MINUTES` except the newest one.
/// Fixed text; the values arrive as environment variables. Pruning by file can remove the full
/// backup a differential one needs (warned at admission, `backup-retention-diff`).
pub const CLEANUP_SCRIPT: &str = r#"set -eu
export LC_ALL=C
dir="$BACKUP_DIR"
if [ ! -d "$dir" ]; then echo "nothing to prune: $dir does not exist"; exit 0; fi
list() { find "$dir" -maxdepth 1 -type f -name '*.backup' -printf '%T@ %p\n' | sort -n; }
if [ -n "${MAX_COUNT:-}" ] && [ "$MAX_COUNT" -gt 0 ]; then
  excess=$(( $(list | wc -l) - MAX_COUNT ))
  if [ "$excess" -gt 0 ]; then
    list | head -n "$excess" | cut -d' ' -f2- | while IFS= read -r f; do
      echo "removing $f"; rm -f -- "$f"
    done
  fi
fi
if [ -n "${MAX_AGE_MINUTES:-}" ]; then
  newest=$(list | tail -n 1 | cut -d' ' -f2-)
  find "$dir" -maxdepth 1 -type f -name '*.backup' -mmin +"$MAX_AGE_MINUTES" | while IFS= read -r f; do
    if [ "$f" != "$newest" ]; then echo "removing $f"; rm -f -- "$f"; fi
  done
fi
"#;

/// `retention.maxAge` (`7d`, `24h`, `30m`, `90s`) in whole minutes, rounded up.
pub fn max_age_minutes(max_age: &str) -> Option<u64> {
    let (digits, unit) = max_age.split_at(max_age.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok().filter(|n| *n > 0)?;
    Some(match unit {
        "d" => n.checked_mul(1440)?,
        "h" => n.checked_mul(60)?,
        "m" => n,
        "s" => n.div_ceil(60),
        _ => return None,
    })
}

/// The cleanup Job a deleted backup with `spec.retention` leaves on its PVC; `None` when
/// there is nothing to prune (no retention, or object storage: expire objects with a bucket
/// lifecycle rule). It has no owner, so it outlives the backup, and removes itself after five
/// minutes.
pub fn cleanup_job(b: &Neo4jBackup, target: &Target) -> Result<Option<DesiredObject>, RenderError> {
    let Some(retention) = &b.spec.retention else {
        return Ok(None);
    };
    let storage = storage(b)?;
    if !is_pvc(storage) {
        return Ok(None);
    }
    let owner = Owner::new(Kind::Backup, &b.metadata)?;
    let suffix: String = owner.uid.chars().filter(|c| *c != '-').take(8).collect();
    let tail = format!("-cleanup-{suffix}");
    let base: String = owner
        .name
        .chars()
        .take(names::JOB_NAME_MAX - tail.len())
        .collect();
    let name = format!("{}{tail}", base.trim_end_matches(['-', '.']));
    let chain = chain_root(b);
    let labels = names::backup_labels(
        &owner.name,
        "cleanup",
        &chain,
        b.spec.instance_ref.as_deref().unwrap_or_default(),
    );
    let mut env = vec![corev1::EnvVar {
        name: "BACKUP_DIR".into(),
        value: Some(literal(&format!("{BACKUP_MOUNT}/{chain}"))),
        ..Default::default()
    }];
    if let Some(n) = retention.max_count.filter(|n| *n > 0) {
        env.push(corev1::EnvVar {
            name: "MAX_COUNT".into(),
            value: Some(n.to_string()),
            ..Default::default()
        });
    }
    if let Some(minutes) = retention.max_age.as_deref().and_then(max_age_minutes) {
        env.push(corev1::EnvVar {
            name: "MAX_AGE_MINUTES".into(),
            value: Some(minutes.to_string()),
            ..Default::default()
        });
    }
    let volume = backup_pvc_volume(storage, false).ok_or(RenderError::MissingField {
        field: "spec.storage.pvc.name",
        hint: "name the PVC the backups go to",
    })?;
    let mut container = job_container(target, "backup-cleanup");
    container.command = Some(vec!["/bin/sh".into(), "-c".into(), literal(CLEANUP_SCRIPT)]);
    container.env = Some(env);
    container.volume_mounts = Some(vec![mount("backup-storage", BACKUP_MOUNT, false)]);
    container.resources = Some(super::pod::resources(("10m", "32Mi"), ("200m", "128Mi")));
    let job = batchv1::Job {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(owner.namespace.clone()),
            labels: Some(labels.clone()),
            ..Default::default()
        },
        spec: Some(batchv1::JobSpec {
            backoff_limit: Some(1),
            ttl_seconds_after_finished: Some(300),
            template: corev1::PodTemplateSpec {
                metadata: Some(template_meta(labels, BTreeMap::new())),
                spec: Some(job_pod(target, Vec::new(), container, vec![volume])),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    Ok(Some(desired("batch/v1", "Job", "jobs", name, &job)?))
}
