//! Rules of Neo4jRestore (the `restore-…` ids of `docs/rules.md`). `create` checks the object
//! alone; `cross` checks the target against the inventory: it exists, it keeps its data on a
//! volume, a standalone may be stopped, its default database (which is always there and
//! online) is replaced only on request, and a cluster is neither asked for point-in-time
//! recovery nor to read a backup PVC. Whether another database of that name exists is known
//! only to Neo4j: the restore then fails with Neo4j's message unless
//! `options.replaceExisting` is set.

use super::backup::{StorageRules, path_safe, storage_fields, temp_path, temp_storage_size};
use super::{
    DATABASE_NAME, DATABASE_NAME_MAX, InstanceRef, not_implemented, require_instance_ref,
    resolve_instance, set, shown,
};
use crate::inventory::{InstanceKind, Inventory};
use crate::policy::Policy;
use crate::types::{
    Kind, Neo4jRestore, RestoreHooks, RestoreOptionsSpec, RestoreSource, StorageLocation,
};
use crate::units::go_duration_seconds;
use crate::verdict::Verdict;
use crate::{defaults, names};

const RESTORE_STORAGE: StorageRules = StorageRules {
    type_: "restore-storage-type",
    charset: "restore-storage-charset",
    cloud_provider: "restore-storage-type",
    identity_provider: "restore-storage-type",
};

/// Longest restore name: its Job `<name>-restore` must fit the 63 characters of the
/// `job-name` label Kubernetes puts on its pod.
pub const NAME_MAX: usize = names::JOB_NAME_MAX - "-restore".len();

const TARGET: InstanceRef = InstanceRef {
    field: "spec.instanceRef",
    required: "restore-instance-ref-required",
    role: "to restore into",
    checks: "the restore target and whether it supports point-in-time recovery",
    not_found: "restore-instance-not-found",
    waiter: "restore",
};

/// How the admission engine and the controller reach this kind: its defaults, then the rules
/// of this file.
impl Policy for Neo4jRestore {
    const KIND: Kind = Kind::Restore;
    fn apply_defaults(&mut self) {
        defaults::restore(&mut self.spec);
    }
    fn create(&self) -> Verdict {
        create(self)
    }
    fn update(old: &Self, new: &Self) -> Verdict {
        update(old, new)
    }
    fn cross(&self, namespace: &str, inventory: &dyn Inventory) -> Verdict {
        cross(self, namespace, inventory)
    }
}

pub fn create(obj: &Neo4jRestore) -> Verdict {
    let mut v = Verdict::default();
    let s = &obj.spec;
    require_instance_ref(&mut v, &s.instance_ref, &TARGET);
    unimplemented_fields(&mut v, obj);
    let name = obj.metadata.name.as_deref().unwrap_or_default();
    if name.len() > NAME_MAX {
        v.error(
            "restore-job-name-len",
            "metadata.name",
            format!(
                "{} has {} characters: its Job {} would pass the {} Kubernetes allows; use at most {NAME_MAX}",
                shown(name),
                name.len(),
                shown(&names::restore_job(name)),
                names::JOB_NAME_MAX
            ),
        );
    }
    let source_type = match &s.source {
        None => {
            v.error("restore-source-type", "spec.source", "is required; set spec.source.type (backup, storage or pitr) and where the backup is");
            None
        }
        Some(src) => source(&mut v, src),
    };

    let all = s.all_databases == Some(true);
    let database = set(&s.database);
    if all {
        if database.is_some() {
            v.error(
                "restore-all-exclusive",
                "spec.allDatabases",
                "allDatabases and spec.database are exclusive; remove one",
            );
        }
        if source_type.is_some_and(|t| t != "backup") {
            v.error(
                "restore-all-needs-backup",
                "spec.allDatabases",
                "restoring every database needs source.type backup (its Neo4jBackup lists the databases); set source.type: backup",
            );
        }
    } else if database.is_none() {
        v.error(
            "restore-database-required",
            "spec.database",
            "is empty; name the database to restore, or set allDatabases: true",
        );
    }
    if let Some(db) = &s.database {
        if db.eq_ignore_ascii_case("system") {
            v.error(
                "restore-database-system",
                "spec.database",
                format!("{} cannot be restored: Neo4j owns the system database (topology, users, roles)", shown(db)),
            );
        } else if (all || !db.is_empty())
            && (db.len() > DATABASE_NAME_MAX || !DATABASE_NAME.is_match(db))
        {
            // An empty name without allDatabases is reported as missing, above.
            v.error(
                "restore-database-name",
                "spec.database",
                format!("{} is not a database name: start with a letter, then letters, digits, '.' or '-', at most {DATABASE_NAME_MAX} characters", shown(db)),
            );
        }
    }
    if let Some(t) = &s.timeout
        && go_duration_seconds(t).is_none_or(|secs| secs <= 0.0)
    {
        v.error(
            "restore-timeout",
            "spec.timeout",
            format!(
                "{} is not a positive duration; write e.g. 30m or 1h",
                shown(t)
            ),
        );
    }
    if let Some(o) = &s.options {
        options(&mut v, o);
        super::quantities::resources("spec.options.resources", o.resources.as_ref(), &mut v);
    }
    v
}

/// Fields this operator version accepts and keeps but does not act on.
fn unimplemented_fields(v: &mut Verdict, obj: &Neo4jRestore) {
    let s = &obj.spec;
    if s.all_databases == Some(true) {
        not_implemented(
            v,
            "spec.allDatabases",
            "the restore reports Failed; restore each database with its own Neo4jRestore",
        );
    }
    if s.source.as_ref().and_then(|src| src.r#type.as_deref()) == Some("pitr") {
        not_implemented(
            v,
            "spec.source.pitr",
            "the restore reports Failed; use source.type storage with source.pointInTime",
        );
    }
    let o = s.options.as_ref();
    for (field, set) in [
        (
            "spec.options.preRestore",
            o.is_some_and(|o| o.pre_restore.is_some()),
        ),
        (
            "spec.options.postRestore",
            o.is_some_and(|o| o.post_restore.is_some()),
        ),
        (
            "spec.options.tempStorage",
            o.is_some_and(|o| o.temp_storage.is_some()),
        ),
    ] {
        if set {
            not_implemented(v, field, "it is ignored");
        }
    }
}

/// The source block; returns its type when it is a known one.
fn source<'a>(v: &mut Verdict, src: &'a RestoreSource) -> Option<&'a str> {
    let kind = match src.r#type.as_deref() {
        Some(t @ ("backup" | "storage" | "pitr")) => Some(t),
        Some(other) => {
            v.error(
                "restore-source-type",
                "spec.source.type",
                format!(
                    "{} is not a source type; use backup, storage or pitr",
                    shown(other)
                ),
            );
            None
        }
        None => {
            v.error(
                "restore-source-type",
                "spec.source.type",
                "is required; use backup, storage or pitr",
            );
            None
        }
    };
    match kind {
        Some("backup") if set(&src.backup_ref).is_none() => {
            v.error(
                "restore-backup-ref-required",
                "spec.source.backupRef",
                "is empty; name the Neo4jBackup to restore from",
            );
        }
        Some("storage") => {
            if src
                .backup_path
                .as_deref()
                .unwrap_or_default()
                .trim_matches('/')
                .trim()
                .is_empty()
            {
                v.error(
                    "restore-backup-path-required",
                    "spec.source.backupPath",
                    "is empty; set the directory holding the .backup files (status.history[].backupsPath of the Neo4jBackup) or the exact .backup file",
                );
            }
            if src.storage.is_none() {
                v.error(
                    "restore-storage-type",
                    "spec.source.storage",
                    "is required for source.type storage; set where the backup lives",
                );
            }
        }
        Some("pitr") => match &src.pitr {
            None => v.error(
                "restore-pitr-config",
                "spec.source.pitr",
                "is required for source.type pitr; set pitr.baseBackup and/or source.pointInTime",
            ),
            Some(p) if p.base_backup.is_none() && src.point_in_time.is_none() => v.error(
                "restore-pitr-config",
                "spec.source.pitr",
                "has neither baseBackup nor a source.pointInTime; set at least one",
            ),
            Some(_) => {}
        },
        _ => {}
    }
    if let Some(path) = set(&src.backup_path) {
        backup_path(v, "spec.source.backupPath", path);
    }
    storage(v, "spec.source.storage", src.storage.as_ref());
    if let Some(p) = &src.pitr {
        storage(v, "spec.source.pitr.logStorage", p.log_storage.as_ref());
        if let Some(base) = &p.base_backup {
            match base.r#type.as_deref() {
                Some("backup" | "storage") => {}
                other => v.error(
                    "restore-pitr-config",
                    "spec.source.pitr.baseBackup.type",
                    format!(
                        "{} is not a base backup type; use backup or storage",
                        shown(other.unwrap_or_default())
                    ),
                ),
            }
            storage(
                v,
                "spec.source.pitr.baseBackup.storage",
                base.storage.as_ref(),
            );
            if let Some(path) = set(&base.backup_path) {
                backup_path(v, "spec.source.pitr.baseBackup.backupPath", path);
            }
        }
    }
    kind
}

fn storage(v: &mut Verdict, path: &str, s: Option<&StorageLocation>) {
    if let Some(s) = s {
        storage_fields(v, path, s, &RESTORE_STORAGE);
    }
}

fn backup_path(v: &mut Verdict, field: &str, path: &str) {
    if !path_safe(path) {
        v.error(
            "restore-backup-path-charset",
            field,
            format!(
                "{} may hold only letters, digits, '.', '_', '-' and '/'; rename the path",
                shown(path)
            ),
        );
    }
}

fn options(v: &mut Verdict, o: &RestoreOptionsSpec) {
    temp_path(v, "restore-temp-path", &o.temp_path);
    if let Some(ts) = &o.temp_storage {
        temp_storage_size(v, "restore-options-patterns", ts);
    }
    for (name, hooks) in [
        ("preRestore", &o.pre_restore),
        ("postRestore", &o.post_restore),
    ] {
        if let Some(h) = hooks {
            hook(v, &format!("spec.options.{name}.job"), h);
        }
    }
}

/// A hook Job needs a container image; its timeout is a positive duration.
fn hook(v: &mut Verdict, path: &str, h: &RestoreHooks) {
    let Some(job) = &h.job else { return };
    let image = job
        .template
        .as_ref()
        .and_then(|t| t.container.as_ref())
        .and_then(|c| c.image.as_deref());
    if image.is_none_or(|i| i.trim().is_empty()) {
        v.error(
            "restore-hook-job",
            format!("{path}.template.container.image"),
            "is required; name the image the hook Job runs",
        );
    }
    if let Some(limit) = job.template.as_ref().and_then(|t| t.backoff_limit)
        && limit < 0
    {
        v.error(
            "restore-hook-job",
            format!("{path}.template.backoffLimit"),
            format!("{limit} is negative; set 0 or more"),
        );
    }
    if let Some(t) = &job.timeout
        && go_duration_seconds(t).is_none_or(|secs| secs <= 0.0)
    {
        v.error(
            "restore-hook-job",
            format!("{path}.timeout"),
            format!("{} is not a positive duration; write e.g. 10m", shown(t)),
        );
    }
}

pub fn update(_old: &Neo4jRestore, new: &Neo4jRestore) -> Verdict {
    create(new)
}

pub fn cross(obj: &Neo4jRestore, namespace: &str, inventory: &dyn Inventory) -> Verdict {
    let mut v = Verdict::default();
    let Some((target, instance)) = resolve_instance(
        &mut v,
        inventory,
        namespace,
        &obj.spec.instance_ref,
        &TARGET,
    ) else {
        return v;
    };
    if !instance.persistent_storage {
        v.error(
            "restore-target-storage",
            "spec.instanceRef",
            format!(
                "{} keeps no data on a volume (spec.storage.size is not a positive size): a restored database would not survive a restart; give the target persistent storage first",
                shown(target)
            ),
        );
    }
    let replace = obj.spec.options.as_ref().and_then(|o| o.replace_existing) == Some(true);
    if let Some(db) = set(&obj.spec.database)
        && db.eq_ignore_ascii_case(&instance.default_database)
        && !replace
    {
        v.error(
            "restore-overwrite-confirm",
            "spec.options.replaceExisting",
            format!(
                "{} is the default database of {}, which always exists and is online; set spec.options.replaceExisting: true to replace it, or restore under another name",
                shown(db),
                shown(target)
            ),
        );
    }
    if instance.kind == InstanceKind::Standalone && obj.spec.stop_cluster != Some(true) {
        v.error(
            "restore-standalone-stop",
            "spec.stopCluster",
            format!(
                "restoring into the standalone {} stops its server (every database goes offline) while neo4j-admin writes its volume; set spec.stopCluster: true to confirm",
                shown(target)
            ),
        );
    }
    if instance.kind == InstanceKind::Cluster
        && let Some(src) = &obj.spec.source
        && src.r#type.as_deref() == Some("storage")
        && src.storage.as_ref().is_some_and(|st| st.type_ == "pvc")
    {
        v.error(
            "restore-cluster-object-storage",
            "spec.source.storage.type",
            format!(
                "pvc cannot seed the cluster {}: every server fetches the backup itself and none mounts the PVC; restore from s3, gcs or azure",
                shown(target)
            ),
        );
    }
    if instance.kind == InstanceKind::Cluster
        && let Some(src) = &obj.spec.source
    {
        let hint = "point-in-time recovery restores standalones only; for a cluster create a Neo4jDatabase with seedConfig.restoreUntil";
        if src.r#type.as_deref() == Some("pitr") {
            v.error(
                "restore-pitr-cluster",
                "spec.source.type",
                format!(
                    "pitr is not supported: {} is a cluster; {hint}",
                    shown(target)
                ),
            );
        }
        if src.point_in_time.is_some() {
            v.error(
                "restore-pitr-cluster",
                "spec.source.pointInTime",
                format!("is not supported: {} is a cluster; {hint}", shown(target)),
            );
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::validate::testkit::{
        self, Case, Kind, NAMESPACE, Via, build, hit, inventory, manifest, miss, run,
    };

    fn base() -> Value {
        manifest(
            "Neo4jRestore",
            "restore",
            json!({"instanceRef": "solo", "database": "orders", "stopCluster": true, "source": {"type": "backup", "backupRef": "nightly"}}),
        )
    }

    const KIND: Kind<Neo4jRestore> = Kind {
        base,
        not_run_yet: false,
        defaults: |r| crate::defaults::restore(&mut r.spec),
        create,
        update,
        cross,
        rules: || crate::catalog::coverage::kind(crate::types::Kind::Restore),
    };

    fn storage_source() -> Value {
        json!({"type": "storage", "backupRef": null, "backupPath": "nightly/orders.backup",
            "storage": {"type": "s3", "bucket": "backups", "cloud": {"provider": "aws"}}})
    }

    fn pitr_source() -> Value {
        json!({"type": "pitr", "pointInTime": "2026-01-02T03:04:05Z", "pitr": {"logStorage": {"type": "pvc", "pvc": {"name": "logs"}}}})
    }

    fn cases() -> Vec<Case> {
        use Via::*;
        vec![
            hit(
                "restore-instance-ref-required",
                json!({"instanceRef": null}),
            ),
            hit("restore-instance-ref-required", json!({"instanceRef": ""})),
            miss(
                "restore-instance-ref-required",
                json!({"instanceRef": "graph"}),
            ),
            hit("restore-source-type", json!({"source": null})),
            hit("restore-source-type", json!({"source": {"type": "s3"}})),
            hit("restore-source-type", json!({"source": {"type": null}})),
            miss("restore-source-type", json!({"source": storage_source()})),
            hit(
                "restore-backup-ref-required",
                json!({"source": {"backupRef": ""}}),
            ),
            miss(
                "restore-backup-ref-required",
                json!({"source": {"backupRef": "weekly"}}),
            ),
            hit(
                "restore-backup-path-required",
                json!({"source": {"type": "storage", "backupPath": "//", "storage": {"type": "pvc", "pvc": {"name": "b"}}}}),
            ),
            hit(
                "restore-backup-path-required",
                json!({"source": {"type": "storage", "storage": {"type": "pvc"}}}),
            ),
            miss(
                "restore-backup-path-required",
                json!({"source": {"type": "storage", "backupPath": "/nightly", "storage": {"type": "pvc"}}}),
            ),
            hit(
                "restore-backup-path-charset",
                json!({"source": {"type": "storage", "backupPath": "x'; rm -rf /'", "storage": {"type": "pvc"}}}),
            ),
            hit(
                "restore-backup-path-charset",
                json!({"source": {"backupPath": "a b"}}),
            ),
            hit(
                "restore-backup-path-charset",
                json!({"source": {"type": "pitr", "pitr": {"baseBackup": {"type": "backup", "backupRef": "n", "backupPath": "$(x)"}}}}),
            )
            .warnings(&["field-not-implemented"]),
            miss(
                "restore-backup-path-charset",
                json!({"source": {"backupPath": "nightly/neo4j-2026.backup"}}),
            ),
            hit("restore-pitr-config", json!({"source": {"type": "pitr"}}))
            .warnings(&["field-not-implemented"]),
            hit(
                "restore-pitr-config",
                json!({"source": {"type": "pitr", "pitr": {"logStorage": {"type": "pvc"}}}}),
            )
            .warnings(&["field-not-implemented"]),
            hit(
                "restore-pitr-config",
                json!({"source": {"type": "pitr", "pitr": {"baseBackup": {"type": "s3"}}}}),
            )
            .warnings(&["field-not-implemented"]),
            miss("restore-pitr-config", json!({"source": pitr_source()}))
            .warnings(&["field-not-implemented"]),
            miss(
                "restore-pitr-config",
                json!({"source": {"type": "pitr", "pitr": {"baseBackup": {"type": "backup", "backupRef": "n"}}}}),
            )
            .warnings(&["field-not-implemented"]),
            // Scope.
            hit("restore-all-exclusive", json!({"allDatabases": true}))
            .warnings(&["field-not-implemented"]),
            miss(
                "restore-all-exclusive",
                json!({"allDatabases": true, "database": null}),
            )
            .warnings(&["field-not-implemented"]),
            hit(
                "restore-all-needs-backup",
                json!({"allDatabases": true, "database": null, "source": storage_source()}),
            )
            .warnings(&["field-not-implemented"]),
            miss(
                "restore-all-needs-backup",
                json!({"allDatabases": true, "database": null}),
            )
            .warnings(&["field-not-implemented"]),
            hit(
                "restore-database-name",
                json!({"allDatabases": true, "database": ""}),
            )
            .warnings(&["field-not-implemented"]),
            hit("restore-database-required", json!({"database": null})),
            hit(
                "restore-database-required",
                json!({"database": "", "allDatabases": false}),
            ),
            miss(
                "restore-database-required",
                json!({"database": null, "allDatabases": true}),
            )
            .warnings(&["field-not-implemented"]),
            hit("restore-database-system", json!({"database": "SYSTEM"})),
            miss("restore-database-system", json!({"database": "systems"})),
            hit(
                "restore-database-name",
                json!({"database": "orders`; DROP"}),
            ),
            hit("restore-database-name", json!({"database": "x".repeat(66)})),
            hit("restore-database-name", json!({"database": "_orders"})),
            miss("restore-database-name", json!({"database": "x".repeat(65)})),
            hit("restore-timeout", json!({"timeout": "0s"})),
            hit("restore-timeout", json!({"timeout": "-5m"})),
            hit("restore-timeout", json!({"timeout": "5 minutes"})),
            miss("restore-timeout", json!({"timeout": "1h30m"})),
            miss("restore-timeout", json!({"timeout": ""})),
            // Options.
            hit(
                "resources-quantity-format",
                json!({"options": {"resources": {"requests": {"cpu": "a lot"}}}}),
            ),
            miss(
                "resources-quantity-format",
                json!({"options": {"resources": {"requests": {"cpu": "500m"}}}}),
            ),
            hit(
                "resources-quantity-positive",
                json!({"options": {"resources": {"requests": {"cpu": "0"}}}}),
            ),
            miss(
                "resources-quantity-positive",
                json!({"options": {"resources": {"requests": {"cpu": "100m"}}}}),
            ),
            hit(
                "resources-request-le-limit",
                json!({"options": {"resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}}}),
            ),
            miss(
                "resources-request-le-limit",
                json!({"options": {"resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "2Gi"}}}}),
            ),
            hit(
                "restore-temp-path",
                json!({"options": {"tempPath": "relative/dir"}}),
            ),
            hit(
                "restore-temp-path",
                json!({"options": {"tempPath": "/tmp/a;b"}}),
            ),
            miss(
                "restore-temp-path",
                json!({"options": {"tempPath": "/var/tmp/restore"}}),
            ),
            hit(
                "restore-options-patterns",
                json!({"options": {"tempStorage": {"size": "5G"}}}),
            )
            .warnings(&["field-not-implemented"]),
            hit(
                "restore-options-patterns",
                json!({"options": {"tempStorage": {}}}),
            )
            .warnings(&["field-not-implemented"]),
            miss(
                "restore-options-patterns",
                json!({"options": {"tempStorage": {"size": "5Gi"}}}),
            )
            .warnings(&["field-not-implemented"]),
            hit(
                "restore-hook-job",
                json!({"options": {"preRestore": {"job": {"template": {"container": {"image": ""}}}}}}),
            )
            .warnings(&["field-not-implemented"]),
            hit(
                "restore-hook-job",
                json!({"options": {"postRestore": {"job": {}}}}),
            )
            .warnings(&["field-not-implemented"]),
            hit(
                "restore-hook-job",
                json!({"options": {"postRestore": {"job": {"template": {"container": {"image": "busybox"}}, "timeout": "soon"}}}}),
            )
            .warnings(&["field-not-implemented"]),
            hit(
                "restore-hook-job",
                json!({"options": {"postRestore": {"job": {"template": {"container": {"image": "busybox"}, "backoffLimit": -1}}}}}),
            )
            .warnings(&["field-not-implemented"]),
            miss(
                "restore-hook-job",
                json!({"options": {"preRestore": {"cypherStatements": ["RETURN 1"], "job": {"template": {"container": {"image": "busybox"}, "backoffLimit": 0}, "timeout": "10m"}}}}),
            )
            .warnings(&["field-not-implemented"]),
            // Storage locations.
            hit(
                "restore-storage-type",
                json!({"source": {"type": "storage", "backupPath": "x"}}),
            ),
            hit(
                "restore-storage-type",
                json!({"source": {"type": "storage", "backupPath": "x", "storage": {"type": "ftp"}}}),
            ),
            hit(
                "restore-storage-type",
                json!({"source": {"type": "pitr", "pointInTime": "2026-01-02T03:04:05Z", "pitr": {"logStorage": {"type": "s3", "cloud": {"provider": "ibm"}}}}}),
            )
            .warnings(&["field-not-implemented"]),
            hit(
                "restore-storage-type",
                json!({"source": {"type": "storage", "backupPath": "x", "storage": {"type": "s3", "cloud": {"identity": {"provider": ""}}}}}),
            ),
            miss(
                "restore-storage-type",
                json!({"source": {"type": "storage", "backupPath": "x", "storage": {"type": "gcs", "bucket": "b", "cloud": {"provider": "gcp"}}}}),
            ),
            hit(
                "restore-storage-charset",
                json!({"source": {"type": "storage", "backupPath": "x", "storage": {"type": "s3", "bucket": "b|c"}}}),
            ),
            hit(
                "restore-storage-charset",
                json!({"source": {"type": "pitr", "pitr": {"baseBackup": {"type": "storage", "storage": {"type": "pvc", "path": "a\nb"}}}}}),
            )
            .warnings(&["field-not-implemented"]),
            miss(
                "restore-storage-charset",
                json!({"source": storage_source()}),
            ),
            // An update is judged as a create of the new object.
            miss("restore-database-required", json!({})).updated_from(json!({"database": null})),
            hit("restore-database-required", json!({"database": null})).updated_from(json!({})),
            // Cross checks.
            miss("restore-instance-not-found", json!({})).via(Cross),
            hit("restore-instance-not-found", json!({"instanceRef": "gone"}))
                .warning()
                .via(Cross),
            hit(
                "restore-pitr-cluster",
                json!({"instanceRef": "graph", "source": pitr_source()}),
            )
            .errors(&["restore-pitr-cluster", "restore-pitr-cluster"])
            .via(Cross),
            hit(
                "restore-pitr-cluster",
                json!({"instanceRef": "graph", "source": {"pointInTime": "2026-01-02T03:04:05Z"}}),
            )
            .via(Cross),
            miss("restore-pitr-cluster", json!({"source": pitr_source()})).via(Cross),
            miss("restore-pitr-cluster", json!({"instanceRef": "graph"})).via(Cross),
            hit("restore-target-storage", json!({"instanceRef": "bare"})).via(Cross),
            miss("restore-target-storage", json!({"instanceRef": "solo"})).via(Cross),
            hit("restore-overwrite-confirm", json!({"database": "neo4j"})).via(Cross),
            hit("restore-overwrite-confirm", json!({"instanceRef": "graph", "database": "NEO4J"})).via(Cross),
            hit("restore-overwrite-confirm", json!({"instanceRef": "bare", "database": "movies"}))
                .errors(&["restore-overwrite-confirm", "restore-target-storage"])
                .via(Cross),
            miss("restore-overwrite-confirm", json!({"database": "neo4j", "options": {"replaceExisting": true}})).via(Cross),
            miss("restore-overwrite-confirm", json!({"instanceRef": "bare", "database": "neo4j"}))
                .errors(&["restore-target-storage"])
                .via(Cross),
            hit("restore-standalone-stop", json!({"stopCluster": null})).via(Cross),
            hit("restore-standalone-stop", json!({"stopCluster": false})).via(Cross),
            miss("restore-standalone-stop", json!({"instanceRef": "graph", "stopCluster": null})).via(Cross),
            hit("restore-cluster-object-storage", json!({"instanceRef": "graph", "source": {"type": "storage", "backupRef": null,
                "backupPath": "nightly", "storage": {"type": "pvc", "pvc": {"name": "backups"}}}})).via(Cross),
            miss("restore-cluster-object-storage", json!({"instanceRef": "graph", "source": storage_source()})).via(Cross),
            miss("restore-cluster-object-storage", json!({"source": {"type": "storage", "backupRef": null,
                "backupPath": "nightly", "storage": {"type": "pvc", "pvc": {"name": "backups"}}}})).via(Cross),
            hit("restore-job-name-len", json!({})).named(&"r".repeat(NAME_MAX + 1)),
            miss("restore-job-name-len", json!({})).named(&"r".repeat(NAME_MAX)),
            hit("field-not-implemented", json!({"options": {"tempStorage": {"size": "5Gi"}}})).warning(),
            miss("field-not-implemented", json!({"options": {"replaceExisting": true}})),
            hit("cross-check-skipped", json!({}))
                .warning()
                .via(CrossBlind),
            miss("cross-check-skipped", json!({"instanceRef": ""})).via(CrossBlind),]
    }

    #[test]
    fn minimal_restore_is_clean() {
        let r = build(&KIND, &json!({}), None);
        assert_eq!(create(&r), crate::verdict::Verdict::default());
        assert_eq!(
            cross(&r, NAMESPACE, &inventory()),
            crate::verdict::Verdict::default()
        );
        assert_eq!(r.spec.timeout.as_deref(), Some("5m"), "defaults ran");
    }

    #[test]
    fn restore_rule_table() {
        run(&KIND, &cases());
    }

    #[test]
    fn pitr_cluster_error_names_the_field() {
        let r = build(
            &KIND,
            &json!({"instanceRef": "graph", "source": {"pointInTime": "2026-01-02T03:04:05Z"}}),
            None,
        );
        let v = cross(&r, NAMESPACE, &inventory());
        assert_eq!(v.errors.len(), 1);
        assert_eq!(v.errors[0].field, "spec.source.pointInTime");
        assert!(
            v.errors[0].message.contains("\"graph\""),
            "{}",
            v.errors[0].message
        );
    }

    fn rich() -> Value {
        let hook = json!({"cypherStatements": ["RETURN 1"], "job": {"template": {"container": {"image": "busybox",
            "command": ["sh"], "args": ["-c"], "env": [{"name": "A", "value": "1"}]}, "backoffLimit": 0}, "timeout": "10m"}});
        manifest(
            "Neo4jRestore",
            "pitr",
            json!({
                "instanceRef": "graph",
                "source": {"type": "pitr", "backupRef": "nightly", "backupPath": "nightly/neo4j.backup",
                    "storage": {"type": "s3", "bucket": "b", "path": "p", "cloud": {"provider": "aws", "identity": {"provider": "aws"}}},
                    "pointInTime": "2026-01-02T03:04:05Z",
                    "pitr": {"logStorage": {"type": "gcs", "bucket": "logs", "path": ""},
                        "baseBackup": {"type": "storage", "backupRef": "", "storage": {"type": "azure", "bucket": "base"}, "backupPath": "full"}}},
                "database": "neo4j", "allDatabases": false,
                "options": {"replaceExisting": true, "additionalArgs": ["--verbose"], "tempPath": "/tmp/x",
                    "tempStorage": {"size": "5Gi"}, "preRestore": hook.clone(), "postRestore": hook},
                "stopCluster": true, "timeout": "5m"
            }),
        )
    }

    testkit::never_panic!(
        KIND,
        restore_rules_never_panic_on_mutated_specs(rich()),
        restore_rules_never_panic_on_arbitrary_specs(base()),
    );
}
