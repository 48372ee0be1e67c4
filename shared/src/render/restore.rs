//! The Jobs of a Neo4jRestore, and what a restore asks of its standalone (`docs/design.md`,
//! Backups and restores).
//!
//! - **Standalone**: the server is stopped (its StatefulSet scaled to 0 by the standalone's own
//!   controller, see [`hold_standalone`]), `<r>-restore` runs `neo4j-admin database restore` on
//!   its data volume, the server starts again, and `<r>-create` makes sure the database exists
//!   (`CREATE DATABASE $name IF NOT EXISTS`).
//! - **Cluster**: `<r>-restore` creates the database from the backup (`seedURI`); every server
//!   fetches the seed itself.
//!
//! Cypher goes to the `system` database through Neo4j's HTTP transaction endpoint: the
//! statement is fixed text and every value a parameter bound by the server, sent as JSON
//! rendered here. The shell scripts are fixed text; values reach them only as environment
//! variables quoted `"$VAR"`.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1 as batchv1;
use k8s_openapi::api::core::v1 as corev1;
use serde_json::{Value, json};

use super::object::{DesiredObject, Owner, RenderError, desired, rehash};
use super::ops::{
    BACKUP_MOUNT, DEFAULT_PREFIX, TLS_MOUNT, Target, backup_pvc_volume, checked_job_name,
    cloud_access, default_resources, env_secret, is_pvc, job_container, job_pod, literal,
    literal_uri, location_path, template_meta, tls_volume,
};
use super::pod::mount;
use crate::inventory::InstanceKind;
use crate::names::{self, Labels};
use crate::types::{Kind, Neo4jBackup, Neo4jRestore, StorageLocation};
use crate::version::Neo4jVersion;

/// Annotation on a standalone's StatefulSet while a restore holds it stopped.
pub const HELD_BY_ANNOTATION: &str = "neo4j.com/stopped-for-restore";

/// What a restore reads: a storage location and a path in it, either a chain directory or one
/// `.backup` file, and the database whose artifacts are wanted.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePlan {
    pub storage: StorageLocation,
    /// Relative to the storage location (see [`location_path`]).
    pub path: String,
    /// The database the artifacts belong to (a backup's database; else the restore's).
    pub source_database: String,
    /// The Neo4jBackup it came from, if any.
    pub backup_ref: Option<String>,
}

impl SourcePlan {
    /// Whether the path names one artifact rather than a directory.
    pub fn is_file(&self) -> bool {
        self.path.ends_with(".backup")
    }
}

/// Where the source of a restore stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    Ready(Box<SourcePlan>),
    /// Not yet (the Neo4jBackup does not exist or has not succeeded): say why and wait.
    Wait(String),
    /// Never: say why.
    Fail(String),
}

/// The database a restore writes.
pub fn database(r: &Neo4jRestore) -> Option<&str> {
    r.spec.database.as_deref().filter(|d| !d.is_empty())
}

/// Resolves what to restore from the spec and, for `source.type: backup`, the Neo4jBackup.
pub fn resolve_source(r: &Neo4jRestore, backup: Option<&Neo4jBackup>) -> Resolution {
    let spec = &r.spec;
    if spec.all_databases == Some(true) {
        return Resolution::Fail(
            "spec.allDatabases is not implemented by this operator version; restore each database with its own Neo4jRestore".into(),
        );
    }
    let Some(db) = database(r) else {
        return Resolution::Fail("spec.database is empty".into());
    };
    let Some(source) = &spec.source else {
        return Resolution::Fail("spec.source is missing".into());
    };
    match source.r#type.as_deref() {
        Some("backup") => {
            let name = source.backup_ref.clone().unwrap_or_default();
            let Some(b) = backup else {
                return Resolution::Wait(format!("waiting for Neo4jBackup {name:?}"));
            };
            if b.status.as_ref().and_then(|s| s.last_success_time.as_ref()).is_none() {
                return Resolution::Wait(format!(
                    "waiting for Neo4jBackup {name:?} to complete a backup"
                ));
            }
            let Some(mut storage) = b.spec.storage.clone() else {
                return Resolution::Fail(format!("Neo4jBackup {name:?} has no storage"));
            };
            if b.spec.sharded_database.as_deref().is_some_and(|s| !s.is_empty()) {
                return Resolution::Fail(format!(
                    "Neo4jBackup {name:?} backs up a sharded database, which restores do not support"
                ));
            }
            if !is_pvc(&storage) && storage.path.as_deref().is_none_or(|p| p.trim_matches('/').is_empty()) {
                // Where the backup wrote: the same default as the backup's.
                storage.path = Some(DEFAULT_PREFIX.into());
            }
            let source_database = if b.spec.all_databases == Some(true) {
                db.to_string()
            } else {
                b.spec.database.clone().unwrap_or_else(|| db.to_string())
            };
            Resolution::Ready(Box::new(SourcePlan {
                storage,
                path: super::backup::chain_root(b),
                source_database,
                backup_ref: Some(name),
            }))
        }
        Some("storage") => match (&source.storage, source.backup_path.as_deref()) {
            (Some(storage), Some(path)) if !path.trim_matches('/').is_empty() => {
                Resolution::Ready(Box::new(SourcePlan {
                    storage: storage.clone(),
                    path: path.trim_matches('/').to_string(),
                    source_database: db.to_string(),
                    backup_ref: None,
                }))
            }
            _ => Resolution::Fail("source.type storage needs spec.source.storage and spec.source.backupPath".into()),
        },
        Some("pitr") => Resolution::Fail(
            "source.type pitr is not implemented by this operator version; use source.type storage with source.pointInTime on a standalone".into(),
        ),
        other => Resolution::Fail(format!("source.type {other:?} is not backup or storage")),
    }
}

/// The `--restore-until` value of `source.pointInTime` (UTC, as neo4j-admin wants it).
fn restore_until(r: &Neo4jRestore) -> Option<String> {
    let t = r.spec.source.as_ref()?.point_in_time.as_ref()?;
    let text = t.0.strftime("%Y-%m-%d %H:%M:%S").to_string();
    Some(text)
}

/// The shell of a restore from a PVC directory: picks the newest artifact of
/// `$SOURCE_DATABASE` in `$BACKUP_DIR` (names sort by their timestamp) and runs the argv it
/// was given with `--from-path` set to it. Fixed text.
pub const PICK_LATEST_SCRIPT: &str = r#"set -eu
export LC_ALL=C
log="${TERMINATION_LOG:-/dev/termination-log}"
latest=
for f in "$BACKUP_DIR"/"$SOURCE_DATABASE"-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*.backup; do
  if [ -e "$f" ]; then latest="$f"; fi
done
if [ -z "$latest" ]; then
  echo "no backup of database $SOURCE_DATABASE in $BACKUP_DIR" | tee "$log"
  exit 1
fi
echo "restoring $latest"
exec "$@" --from-path="$latest"
"#;

/// The argv of `<r>-restore` on a standalone, and the environment the pick-latest script
/// reads when the source is a PVC directory.
pub fn restore_argv(
    r: &Neo4jRestore,
    target: &Target,
    plan: &SourcePlan,
) -> Result<(Vec<String>, Vec<corev1::EnvVar>), RenderError> {
    let db = database(r).ok_or(RenderError::MissingField {
        field: "spec.database",
        hint: "name the database to restore",
    })?;
    let location = location_path(&plan.storage, &plan.path).ok_or(RenderError::MissingField {
        field: "spec.source.storage.bucket",
        hint: "object storage needs a bucket (Azure: a container)",
    })?;
    let mut tail: Vec<String> = Vec::new();
    let options = r.spec.options.as_ref();
    if options.and_then(|o| o.replace_existing) == Some(true) {
        tail.push("--overwrite-destination=true".into());
    }
    if let Some(until) = restore_until(r) {
        tail.push(format!("--restore-until={until}"));
    }
    if let Some(tp) = options
        .and_then(|o| o.temp_path.as_deref())
        .filter(|p| !p.is_empty())
    {
        tail.push(format!("--temp-path={}", literal(tp)));
    }
    for extra in options
        .iter()
        .flat_map(|o| o.additional_args.iter().flatten())
    {
        tail.push(literal(extra));
    }
    let mut argv: Vec<String> = ["neo4j-admin", "database", "restore"]
        .map(String::from)
        .to_vec();
    let mut env = Vec::new();
    if plan.is_file() {
        argv.push(format!("--from-path={}", literal_uri(&location)));
        argv.extend(tail);
        argv.push(literal(db));
    } else if is_pvc(&plan.storage) {
        argv.extend(tail);
        argv.push(literal(db));
        let mut script = vec![
            "/bin/sh".to_string(),
            "-c".to_string(),
            literal(PICK_LATEST_SCRIPT),
            "restore".to_string(),
        ];
        script.extend(argv);
        env.push(env_value("BACKUP_DIR", &literal(&location)));
        env.push(env_value(
            "SOURCE_DATABASE",
            &literal(&plan.source_database),
        ));
        return Ok((script, env));
    } else {
        // A directory in object storage: neo4j-admin picks the chain itself (2025.02 and
        // later), and then names the database after its source.
        let calver_ok = target.version.is_some_and(|v| {
            v >= Neo4jVersion {
                major: 2025,
                minor: 2,
                patch: 0,
            }
        });
        if !calver_ok {
            return Err(RenderError::Unsupported {
                field: "spec.source.backupPath",
                why: "restoring from a directory in object storage needs Neo4j 2025.02 or later; name the .backup file instead".into(),
            });
        }
        if plan.source_database != db {
            return Err(RenderError::Unsupported {
                field: "spec.database",
                why: format!(
                    "a restore from a directory in object storage keeps the source name {:?}; name the .backup file to restore under another name",
                    plan.source_database
                ),
            });
        }
        argv.push(format!(
            "--from-path={}/",
            literal_uri(location.trim_end_matches('/'))
        ));
        argv.push(format!(
            "--source-database={}",
            literal(&plan.source_database)
        ));
        argv.extend(tail);
    }
    Ok((argv, env))
}

fn env_value(name: &str, value: &str) -> corev1::EnvVar {
    corev1::EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

fn job(
    owner: &Owner,
    name: String,
    labels: Labels,
    target: &Target,
    container: corev1::Container,
    volumes: Vec<corev1::Volume>,
) -> Result<DesiredObject, RenderError> {
    let name = checked_job_name(name)?;
    let job = batchv1::Job {
        metadata: owner.meta(name.clone(), labels.clone(), Labels::new()),
        spec: Some(batchv1::JobSpec {
            // One try: a restore or a seed is never issued twice by the same Job.
            backoff_limit: Some(0),
            template: corev1::PodTemplateSpec {
                metadata: Some(template_meta(labels, BTreeMap::new())),
                spec: Some(job_pod(target, Vec::new(), container, volumes)),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    desired("batch/v1", "Job", "jobs", name, &job)
}

/// `<r>-restore` of a standalone: `neo4j-admin database restore` onto the server's data
/// volume, which only this pod mounts while the server is stopped.
pub fn restore_job(
    r: &Neo4jRestore,
    target: &Target,
    plan: &SourcePlan,
) -> Result<DesiredObject, RenderError> {
    let owner = Owner::new(Kind::Restore, &r.metadata)?;
    let (command, mut env) = restore_argv(r, target, plan)?;
    let access = cloud_access(&plan.storage);
    env.extend(access.env);
    let mut volumes = access.volumes;
    let mut mounts = access.mounts;
    volumes.push(corev1::Volume {
        name: "neo4j-data".into(),
        persistent_volume_claim: Some(corev1::PersistentVolumeClaimVolumeSource {
            claim_name: target.data_pvc.clone(),
            read_only: None,
        }),
        ..Default::default()
    });
    mounts.push(mount("neo4j-data", "/data", false));
    if is_pvc(&plan.storage) {
        let volume = backup_pvc_volume(&plan.storage, true).ok_or(RenderError::MissingField {
            field: "spec.source.storage.pvc.name",
            hint: "name the PVC holding the backups",
        })?;
        volumes.push(volume);
        mounts.push(mount("backup-storage", BACKUP_MOUNT, true));
    }
    let mut container = job_container(target, "restore");
    container.command = Some(command);
    container.env = (!env.is_empty()).then_some(env);
    container.resources = Some(
        r.spec
            .options
            .as_ref()
            .and_then(|o| o.resources.clone())
            .unwrap_or_else(default_resources),
    );
    container.volume_mounts = Some(mounts);
    job(
        &owner,
        names::restore_job(&owner.name),
        names::restore_labels(&owner.name, "restore", &target.name),
        target,
        container,
        volumes,
    )
}

/// The shell of the Cypher Jobs: posts `$REQUEST_BODY` to `$NEO4J_URL` with the admin
/// credentials and fails, writing Neo4j's message as the termination message, unless the
/// answer has no error and no row with `success: false`. Fixed text; needs `wget` and `jq`,
/// which the Neo4j images carry. (`TERMINATION_LOG` is for tests; pods never set it.)
pub const CYPHER_SCRIPT: &str = r#"set -eu
log="${TERMINATION_LOG:-/dev/termination-log}"
out=/tmp/neo4j-response.json
set -- -q -O "$out" --content-on-error --auth-no-challenge \
  --header=Content-Type:application/json --header=Accept:application/json \
  --user="$NEO4J_USERNAME" --password="$NEO4J_PASSWORD" --post-data="$REQUEST_BODY"
if [ -n "${NEO4J_CA_FILE:-}" ]; then set -- "$@" --ca-certificate="$NEO4J_CA_FILE"; fi
rc=0
wget "$@" "$NEO4J_URL" || rc=$?
cat "$out" 2>/dev/null || true
echo
if [ "$rc" -ne 0 ]; then
  echo "HTTP request to $NEO4J_URL failed (wget exit code $rc)" | tee "$log"
  jq -r '.errors[]?.message' "$out" >> "$log" 2>/dev/null || true
  exit 1
fi
ok='(.errors | length) == 0 and ([.results[]? | .columns as $c | .data[]? | .row as $r | ($c | index("success")) as $i | if $i == null then true else $r[$i] != false end] | all)'
if ! jq -e "$ok" "$out" >/dev/null; then
  jq -r '[.errors[]?.message] + [.results[]? | .columns as $c | .data[]? | .row as $r | ($c | index("message")) as $m | select($m != null) | $r[$m] | strings] | join("; ")' "$out" > "$log" 2>/dev/null || echo "Neo4j refused the statement" > "$log"
  cat "$log"
  exit 1
fi
"#;

/// The body of one HTTP transaction: the statement and its parameters.
pub fn request_body(statement: &str, parameters: Value) -> String {
    json!({"statements": [{
        "statement": statement,
        "parameters": parameters,
        "resultDataContents": ["row"],
    }]})
    .to_string()
}

/// Seconds a restore waits for its database (`spec.timeout`, default 5 minutes), as the
/// integer `WAIT n SECONDS` takes.
pub fn wait_seconds(r: &Neo4jRestore) -> u64 {
    r.spec
        .timeout
        .as_deref()
        .and_then(crate::units::go_duration_seconds)
        .filter(|s| *s >= 1.0)
        .map_or(300, |s| s.min(86_400.0) as u64)
}

/// The statement that seeds a cluster database from `$uri`: `CREATE DATABASE`, or with
/// `options.replaceExisting` the recreate procedure of the target's version.
pub fn seed_statement(r: &Neo4jRestore, version: Option<Neo4jVersion>) -> String {
    let replace = r.spec.options.as_ref().and_then(|o| o.replace_existing) == Some(true);
    if replace {
        let modern = version.is_some_and(|v| {
            v >= Neo4jVersion {
                major: 2025,
                minor: 4,
                patch: 0,
            }
        });
        let procedure = if modern {
            "dbms.recreateDatabase"
        } else {
            "dbms.cluster.recreateDatabase"
        };
        format!("CALL {procedure}($name, {{seedURI: $uri}})")
    } else {
        format!(
            "CREATE DATABASE $name OPTIONS {{existingData: 'use', seedURI: $uri}} WAIT {} SECONDS",
            wait_seconds(r)
        )
    }
}

/// The statement that makes a restored standalone database available.
pub fn create_statement(r: &Neo4jRestore) -> String {
    format!(
        "CREATE DATABASE $name IF NOT EXISTS WAIT {} SECONDS",
        wait_seconds(r)
    )
}

/// A Job posting one Cypher statement to the target's `system` database.
fn cypher_job(
    owner: &Owner,
    name: String,
    component: &str,
    target: &Target,
    domain: &str,
    body: &str,
    extra_env: Vec<corev1::EnvVar>,
) -> Result<DesiredObject, RenderError> {
    let mut env = vec![
        env_value("NEO4J_URL", &target.system_tx_url(domain)),
        env_secret("NEO4J_USERNAME", &target.admin_secret, "username", false),
        env_secret("NEO4J_PASSWORD", &target.admin_secret, "password", false),
    ];
    env.extend(extra_env);
    env.push(env_value("REQUEST_BODY", &literal_uri(body)));
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if let Some(tls) = &target.tls {
        let (v, m) = tls_volume(tls);
        volumes.push(v);
        mounts.push(m);
        env.push(env_value("NEO4J_CA_FILE", &format!("{TLS_MOUNT}/ca.crt")));
    }
    let mut container = job_container(target, "cypher");
    container.command = Some(vec!["/bin/sh".into(), "-c".into(), literal(CYPHER_SCRIPT)]);
    container.env = Some(env);
    container.resources = Some(super::pod::resources(("50m", "32Mi"), ("200m", "128Mi")));
    container.volume_mounts = (!mounts.is_empty()).then_some(mounts);
    job(
        owner,
        name,
        names::restore_labels(&owner.name, component, &target.name),
        target,
        container,
        volumes,
    )
}

/// The seed URI of a cluster restore: the chain directory or file in object storage.
pub fn seed_uri(plan: &SourcePlan) -> Result<String, RenderError> {
    if is_pvc(&plan.storage) {
        return Err(RenderError::Unsupported {
            field: "spec.source",
            why: "a cluster restore seeds every server from object storage (s3, gcs, azure); the servers cannot read a backup PVC".into(),
        });
    }
    let location = location_path(&plan.storage, &plan.path).ok_or(RenderError::MissingField {
        field: "spec.source.storage.bucket",
        hint: "object storage needs a bucket (Azure: a container)",
    })?;
    Ok(if plan.is_file() {
        location
    } else {
        format!("{}/", location.trim_end_matches('/'))
    })
}

/// `<r>-restore` of a cluster: one statement creating the database from the seed.
pub fn seed_job(
    r: &Neo4jRestore,
    target: &Target,
    plan: &SourcePlan,
    domain: &str,
) -> Result<DesiredObject, RenderError> {
    let owner = Owner::new(Kind::Restore, &r.metadata)?;
    let db = database(r).ok_or(RenderError::MissingField {
        field: "spec.database",
        hint: "name the database to restore",
    })?;
    let uri = seed_uri(plan)?;
    let body = request_body(
        &seed_statement(r, target.version),
        json!({"name": db, "uri": uri}),
    );
    // The account of an Azure seed URI comes from the credentials Secret.
    let extra = cloud_access(&plan.storage)
        .env
        .into_iter()
        .filter(|e| e.name == "AZURE_STORAGE_ACCOUNT")
        .collect();
    cypher_job(
        &owner,
        names::restore_job(&owner.name),
        "restore",
        target,
        domain,
        &body,
        extra,
    )
}

/// `<r>-create` of a standalone: the restored database exists (and starts) once the server
/// is back.
pub fn create_job(
    r: &Neo4jRestore,
    target: &Target,
    domain: &str,
) -> Result<DesiredObject, RenderError> {
    let owner = Owner::new(Kind::Restore, &r.metadata)?;
    let db = database(r).ok_or(RenderError::MissingField {
        field: "spec.database",
        hint: "name the database to restore",
    })?;
    let body = request_body(&create_statement(r), json!({"name": db}));
    cypher_job(
        &owner,
        names::restore_create_job(&owner.name),
        "create",
        target,
        domain,
        &body,
        Vec::new(),
    )
}

/// Stops a standalone for the restore `restore`: its StatefulSet gets 0 replicas and says
/// why. Applied by the standalone's own controller to its own rendered objects (one writer
/// per object); other objects are left as they are.
pub fn hold_standalone(objects: &mut [DesiredObject], restore: &str) {
    for d in objects.iter_mut().filter(|d| d.kind == "StatefulSet") {
        if let Some(spec) = d.object.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("replicas".into(), json!(0));
        }
        if let Some(meta) = d.object.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(a) = annotations.as_object_mut() {
                a.insert(
                    HELD_BY_ANNOTATION.into(),
                    Value::String(restore.to_string()),
                );
            }
        }
        rehash(d);
    }
}

/// Whether a target kind restores offline (a standalone) or by seeding (a cluster).
pub fn offline(kind: InstanceKind) -> bool {
    kind == InstanceKind::Standalone
}
