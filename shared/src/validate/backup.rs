//! Rules of Neo4jBackup (the `backup-…` ids of `docs/rules.md`). `create` checks the object
//! alone; `cross` checks its target against the inventory of clusters and standalones (target
//! existence, image version against the options). Rules needing other Neo4jBackups or Secrets
//! (`backup-chain-target`, the sibling half of `backup-replication-source`,
//! `backup-sa-annotation-conflict`) are the controller's.

use std::sync::LazyLock;

use regex::Regex;

use super::{
    DATABASE_NAME, DATABASE_NAME_MAX, DNS1123_SUBDOMAIN, InstanceRef, has_control_chars, item_path,
    not_implemented, regex, require_instance_ref, resolve_instance, set, shown,
};
use crate::inventory::{InstanceSummary, Inventory};
use crate::policy::Policy;
use crate::types::{
    BackupOptions, Kind, Neo4jBackup, RetentionPolicy, StorageLocation, TempStorageSpec,
};
use crate::verdict::Verdict;
use crate::{cron, defaults, names, version};

/// Longest name of a scheduled backup: its CronJob `<name>-backup-cron` must fit the 52
/// characters Kubernetes allows a CronJob name.
pub const SCHEDULED_NAME_MAX: usize = 52 - "-backup-cron".len();
/// Longest name of a one-shot backup: its Job `<name>-backup` must fit the 63 characters of
/// the `job-name` label Kubernetes puts on its pod.
pub const ONE_SHOT_NAME_MAX: usize = names::JOB_NAME_MAX - "-backup".len();

const STORAGE_TYPES: [&str; 4] = ["s3", "gcs", "azure", "pvc"];
const CLOUD_PROVIDERS: [&str; 3] = ["aws", "gcp", "azure"];
const MODES: [&str; 2] = ["standard", "replication-source"];
const BACKUP_TYPES: [&str; 3] = ["FULL", "DIFF", "AUTO"];
const INCLUDE_METADATA: [&str; 4] = ["all", "none", "users", "roles"];
/// Arguments neo4j-admin 5.26 no longer knows.
const REMOVED_ARGS: [&str; 4] = [
    "--cc-graph",
    "--cc-indexes",
    "--cc-label-scan-store",
    "--legacy-format",
];
const SHARDED_NAME_MAX: usize = crate::types::bounds::OBJECT_NAME_MAX as usize;

static SHARDED_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"));
static MAX_AGE: LazyLock<Regex> = LazyLock::new(|| regex(r"^[1-9][0-9]*[dhms]$"));
static PAGE_CACHE: LazyLock<Regex> = LazyLock::new(|| regex(r"^[0-9]+[KMG]?$"));
/// Size of a temporary staging PVC (`tempStorage.size`), as the CRD pattern has it.
static TEMP_STORAGE_SIZE: LazyLock<Regex> = LazyLock::new(|| regex(r"^[0-9]+(Ki|Mi|Gi|Ti)?$"));

/// Whether `s` is safe as a bucket, prefix or path segment of a backup command: letters,
/// digits, `.`, `_`, `-` and `/` only (no shell metacharacter, space or control character).
pub(super) fn path_safe(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
}

/// The rule ids a kind reports for the parts of a [`StorageLocation`] every kind shares.
pub(super) struct StorageRules {
    /// `type` absent or not one of s3, gcs, azure, pvc.
    pub type_: &'static str,
    /// `bucket` or `path` outside [`path_safe`].
    pub charset: &'static str,
    /// `cloud.provider` not aws, gcp or azure.
    pub cloud_provider: &'static str,
    /// `cloud.identity.provider` empty or not aws, gcp or azure.
    pub identity_provider: &'static str,
}

const BACKUP_STORAGE: StorageRules = StorageRules {
    type_: "backup-storage-type",
    charset: "backup-storage-charset",
    cloud_provider: "backup-cloud-provider",
    identity_provider: "backup-identity-provider",
};

/// The checks of a storage location that hold wherever one appears (backup target, restore
/// source, PITR logs): the enums of the CRD and the shell-safety of bucket and path.
pub(super) fn storage_fields(
    v: &mut Verdict,
    path: &str,
    s: &StorageLocation,
    rules: &StorageRules,
) {
    if s.type_.is_empty() {
        v.error(
            rules.type_,
            format!("{path}.type"),
            "is empty; set s3, gcs, azure or pvc",
        );
    } else if !STORAGE_TYPES.contains(&s.type_.as_str()) {
        v.error(
            rules.type_,
            format!("{path}.type"),
            format!(
                "{} is not a storage type; use s3, gcs, azure or pvc",
                shown(&s.type_)
            ),
        );
    }
    for (name, value) in [("bucket", &s.bucket), ("path", &s.path)] {
        if let Some(value) = value.as_deref().filter(|x| !x.is_empty())
            && !path_safe(value)
        {
            v.error(
                rules.charset,
                format!("{path}.{name}"),
                format!(
                    "{} may hold only letters, digits, '.', '_', '-' and '/'; rename it",
                    shown(value)
                ),
            );
        }
    }
    let Some(cloud) = &s.cloud else { return };
    if let Some(provider) = cloud.provider.as_deref().filter(|p| !p.is_empty())
        && !CLOUD_PROVIDERS.contains(&provider)
    {
        v.error(
            rules.cloud_provider,
            format!("{path}.cloud.provider"),
            format!(
                "{} is not a cloud provider; use aws, gcp or azure",
                shown(provider)
            ),
        );
    }
    if let Some(identity) = &cloud.identity {
        let field = format!("{path}.cloud.identity.provider");
        if identity.provider.is_empty() {
            v.error(
                rules.identity_provider,
                field,
                "is empty; set aws, gcp or azure",
            );
        } else if !CLOUD_PROVIDERS.contains(&identity.provider.as_str()) {
            v.error(
                rules.identity_provider,
                field,
                format!(
                    "{} is not a cloud provider; use aws, gcp or azure",
                    shown(&identity.provider)
                ),
            );
        }
    }
}

const TARGET: InstanceRef = InstanceRef {
    field: "spec.instanceRef",
    required: "backup-instance-ref-required",
    role: "to back up",
    checks: "the backup target and the options its Neo4j version supports",
    not_found: "backup-instance-not-found",
    waiter: "backup",
};

/// How the admission engine and the controller reach this kind: its defaults, then the rules
/// of this file.
impl Policy for Neo4jBackup {
    const KIND: Kind = Kind::Backup;
    fn apply_defaults(&mut self) {
        defaults::backup(&mut self.spec);
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

pub fn create(obj: &Neo4jBackup) -> Verdict {
    let mut v = Verdict::default();
    let s = &obj.spec;
    require_instance_ref(&mut v, &s.instance_ref, &TARGET);
    unimplemented_fields(&mut v, obj);
    scope(&mut v, obj);
    storage(&mut v, s.storage.as_ref());

    let name = obj.metadata.name.as_deref().unwrap_or_default();
    if s.schedule.as_deref().is_none_or(|x| x.is_empty()) && name.len() > ONE_SHOT_NAME_MAX {
        v.error(
            "backup-job-name-len",
            "metadata.name",
            format!(
                "{} has {} characters: its Job {} would pass the {} Kubernetes allows; use at most {ONE_SHOT_NAME_MAX}",
                shown(name),
                name.len(),
                shown(&names::backup_job(name)),
                names::JOB_NAME_MAX
            ),
        );
    }
    if let Some(schedule) = s.schedule.as_deref().filter(|x| !x.is_empty()) {
        if let Err(why) = cron::check(schedule) {
            v.error(
                "backup-schedule-cron",
                "spec.schedule",
                format!("{} {why}", shown(schedule)),
            );
        }
        let name = obj.metadata.name.as_deref().unwrap_or_default();
        if name.len() > SCHEDULED_NAME_MAX {
            v.error(
                "backup-scheduled-name-len",
                "metadata.name",
                format!(
                    "{} has {} characters: its CronJob {} would pass the 52 Kubernetes allows; use at most {SCHEDULED_NAME_MAX} for a scheduled backup",
                    shown(name),
                    name.len(),
                    shown(&names::backup_cronjob(name))
                ),
            );
        }
    }

    let mode = s.mode.as_deref().unwrap_or("standard");
    if !MODES.contains(&mode) {
        v.error(
            "backup-options-patterns",
            "spec.mode",
            format!(
                "{} is not a mode; use standard or replication-source",
                shown(mode)
            ),
        );
    }
    if mode == "replication-source" {
        replication_source(&mut v, obj);
    }
    if let Some(r) = &s.retention {
        retention(&mut v, obj, r);
    }
    if let Some(o) = &s.options {
        options(&mut v, o);
        super::quantities::resources("spec.options.resources", o.resources.as_ref(), &mut v);
    }
    if let Some(parent) = set(&s.chain_from_backup) {
        if Some(parent) == obj.metadata.name.as_deref() {
            v.error(
                "backup-chain-self",
                "spec.chainFromBackup",
                format!(
                    "{} is this backup itself; name another Neo4jBackup or remove the field",
                    shown(parent)
                ),
            );
        }
        if parent.len() > 253 || !DNS1123_SUBDOMAIN.is_match(parent) {
            v.error(
                "backup-chain-name",
                "spec.chainFromBackup",
                format!("{} is not a Kubernetes object name; use lower-case letters, digits, '-' and '.'", shown(parent)),
            );
        }
    }
    v
}

/// Fields this operator version accepts and keeps but does not act on.
fn unimplemented_fields(v: &mut Verdict, obj: &Neo4jBackup) {
    let s = &obj.spec;
    if set(&s.sharded_database).is_some() {
        not_implemented(
            v,
            "spec.shardedDatabase",
            "backups of sharded databases are not run; the backup reports Failed",
        );
    }
    if s.options.as_ref().and_then(|o| o.validate) == Some(true) {
        not_implemented(
            v,
            "spec.options.validate",
            "the backup is not validated after it is taken",
        );
    }
    if s.storage
        .as_ref()
        .and_then(|st| st.pvc.as_ref())
        .and_then(|p| p.size.as_deref())
        .is_some_and(|x| !x.is_empty())
    {
        not_implemented(
            v,
            "spec.storage.pvc.size",
            "the backup PVC is not created; create it before the first run",
        );
    }
}

/// Exactly one of database, allDatabases, shardedDatabase; each name in its grammar.
fn scope(v: &mut Verdict, obj: &Neo4jBackup) {
    let s = &obj.spec;
    let scopes = [
        set(&s.database).is_some(),
        s.all_databases == Some(true),
        set(&s.sharded_database).is_some(),
    ];
    let count = scopes.iter().filter(|x| **x).count();
    match count {
        0 => v.error(
            "backup-scope-required",
            "spec.database",
            "no scope is set; set one of spec.database (one database), spec.allDatabases (every database) or spec.shardedDatabase",
        ),
        1 => {}
        _ => v.error(
            "backup-scope-exclusive",
            "spec.allDatabases",
            "spec.database, spec.allDatabases and spec.shardedDatabase are exclusive; keep exactly one",
        ),
    }
    // An empty name with no other scope is reported as a missing scope, above.
    if let Some(db) = &s.database
        && !(db.is_empty() && count == 0)
        && (db.len() > DATABASE_NAME_MAX || !DATABASE_NAME.is_match(db))
    {
        v.error(
            "backup-database-name",
            "spec.database",
            format!("{} is not a database name: start with a letter, then letters, digits, '.' or '-', at most {DATABASE_NAME_MAX} characters", shown(db)),
        );
    }
    if let Some(sharded) = &s.sharded_database
        && !(sharded.is_empty() && count == 0)
        && (sharded.len() > SHARDED_NAME_MAX || !SHARDED_NAME.is_match(sharded))
    {
        v.error(
            "backup-sharded-name",
            "spec.shardedDatabase",
            format!("{} is not a Neo4jShardedDatabase name: lower-case letters, digits, '-' and '.', at most {SHARDED_NAME_MAX} characters", shown(sharded)),
        );
    }
}

fn storage(v: &mut Verdict, storage: Option<&StorageLocation>) {
    let Some(s) = storage else {
        v.error(
            "backup-storage-type",
            "spec.storage",
            "is required; set spec.storage.type (s3, gcs, azure or pvc) and its location",
        );
        return;
    };
    storage_fields(v, "spec.storage", s, &BACKUP_STORAGE);
    let provider = s
        .cloud
        .as_ref()
        .and_then(|c| c.provider.as_deref())
        .unwrap_or_default();
    let cloud = match s.type_.as_str() {
        "s3" => Some(("aws", "an S3 bucket")),
        "gcs" => Some(("gcp", "a GCS bucket")),
        "azure" => Some(("azure", "an Azure container")),
        _ => None,
    };
    if let Some((wanted, what)) = cloud {
        if set(&s.bucket).is_none() {
            v.error(
                "backup-storage-provider",
                "spec.storage.bucket",
                format!(
                    "is empty; {} storage needs {what}: set spec.storage.bucket",
                    s.type_
                ),
            );
        }
        if provider != wanted {
            v.error(
                "backup-storage-provider",
                "spec.storage.cloud.provider",
                if provider.is_empty() {
                    format!("is empty; {} storage needs spec.storage.cloud.provider: {wanted}", s.type_)
                } else {
                    format!("{} does not match storage type {}; set spec.storage.cloud.provider: {wanted}", shown(provider), s.type_)
                },
            );
        }
    }
    if s.type_ == "pvc" {
        match &s.pvc {
            None => v.error(
                "backup-storage-provider",
                "spec.storage.pvc",
                "is missing; pvc storage needs spec.storage.pvc.name (an existing PVC, or one to create with size)",
            ),
            Some(pvc) if pvc.name.as_deref().is_none_or(|n| n.trim().is_empty()) => v.error(
                "backup-storage-provider",
                "spec.storage.pvc.name",
                "is empty; without a PVC the backup would land on a volume deleted with its Job: name the PVC",
            ),
            Some(_) => {}
        }
    }
}

/// The local half of the replication-source rules (the sibling-writer half needs the other
/// Neo4jBackups of the namespace and is the controller's).
fn replication_source(v: &mut Verdict, obj: &Neo4jBackup) {
    let s = &obj.spec;
    const RULE: &str = "backup-replication-source";
    if s.all_databases == Some(true) {
        v.error(RULE, "spec.allDatabases", "mode replication-source backs up one database; remove allDatabases and set spec.database");
    }
    if set(&s.sharded_database).is_some() {
        v.error(
            RULE,
            "spec.shardedDatabase",
            "mode replication-source does not support sharded databases; set spec.database instead",
        );
    }
    if set(&s.database).is_none()
        && s.all_databases != Some(true)
        && set(&s.sharded_database).is_none()
    {
        v.error(
            RULE,
            "spec.database",
            "mode replication-source needs spec.database: the database a replica pulls",
        );
    }
    if s.retention.is_some() {
        v.error(
            RULE,
            "spec.retention",
            "mode replication-source forbids retention: pruning a parent of a differential breaks the replica; remove spec.retention",
        );
    }
    if s.schedule.as_deref().is_none_or(|x| x.trim().is_empty()) {
        v.error(RULE, "spec.schedule", "mode replication-source needs a schedule, or the replica falls behind without bound; set spec.schedule");
    }
    v.warn(
        "backup-replication-caveat",
        "spec.mode",
        "a replication source's chain must never be expired: keep bucket lifecycle rules off its path (pvc storage has no cross-cluster URI)",
    );
}

fn retention(v: &mut Verdict, obj: &Neo4jBackup, r: &RetentionPolicy) {
    let max_age = set(&r.max_age);
    if let Some(age) = max_age
        && !MAX_AGE.is_match(age)
    {
        v.error(
            "backup-retention-max-age",
            "spec.retention.maxAge",
            format!(
                "{} is not a single-unit age; write a number and one of d, h, m, s, e.g. 7d or 24h",
                shown(age)
            ),
        );
    }
    let max_count = r.max_count.unwrap_or(0);
    if max_count < 0 {
        v.error(
            "backup-retention-max-count",
            "spec.retention.maxCount",
            format!("{max_count} is negative; set 0 (no limit) or more"),
        );
    }
    if let Some(policy) = r.delete_policy.as_deref()
        && policy != "Delete"
    {
        v.error(
            "backup-retention-policy",
            "spec.retention.deletePolicy",
            format!(
                "{} is not supported; the only policy is Delete",
                shown(policy)
            ),
        );
    }
    if max_age.is_none() && max_count == 0 {
        v.error(
            "backup-retention-criterion",
            "spec.retention",
            "has no criterion; set maxAge, maxCount, or remove spec.retention",
        );
    }

    let storage_type = obj
        .spec
        .storage
        .as_ref()
        .map(|s| s.type_.as_str())
        .unwrap_or_default();
    v.warn(
        "backup-retention-on-delete",
        "spec.retention",
        "is applied only when this Neo4jBackup is deleted, and only to pvc storage; old backups are kept until then",
    );
    let backup_type = obj
        .spec
        .options
        .as_ref()
        .and_then(|o| o.backup_type.as_deref())
        .unwrap_or("AUTO");
    if storage_type == "pvc" && backup_type != "FULL" {
        v.warn(
            "backup-retention-diff",
            "spec.retention",
            format!("pruning by age or count may delete the FULL backup that {backup_type} backups depend on; prefer options.backupType: FULL"),
        );
    }
    if matches!(storage_type, "s3" | "gcs" | "azure") {
        v.warn(
            "backup-cloud-retention",
            "spec.retention",
            format!("the operator never prunes {storage_type} storage; expire old backups with a bucket lifecycle rule instead"),
        );
    }
}

fn options(v: &mut Verdict, o: &BackupOptions) {
    for (i, arg) in o.additional_args.iter().flatten().enumerate() {
        let field = item_path("spec.options.additionalArgs", i, "");
        if let Some(removed) = REMOVED_ARGS.iter().find(|r| arg.starts_with(*r)) {
            v.error(
                "backup-args-deprecated",
                field,
                format!(
                    "{} uses {removed}, which neo4j-admin 5.26 and later removed; drop it",
                    shown(arg)
                ),
            );
        } else if !arg.starts_with('-') {
            v.error(
                "backup-args-format",
                field,
                format!(
                    "{} is not an option; each argument starts with - or --",
                    shown(arg)
                ),
            );
        } else if has_control_chars(arg) {
            v.error(
                "backup-args-format",
                field,
                format!("{} holds a control character; remove it", shown(arg)),
            );
        }
    }
    if let Some(pc) = o.page_cache.as_deref()
        && !PAGE_CACHE.is_match(pc)
    {
        v.error(
            "backup-options-patterns",
            "spec.options.pageCache",
            format!(
                "{} is not a size; write digits with an optional K, M or G, e.g. 4G",
                shown(pc)
            ),
        );
    }
    if let Some(t) = o.backup_type.as_deref()
        && !BACKUP_TYPES.contains(&t)
    {
        v.error(
            "backup-options-patterns",
            "spec.options.backupType",
            format!("{} is not a backup type; use FULL, DIFF or AUTO", shown(t)),
        );
    }
    if let Some(m) = o.include_metadata.as_deref()
        && !INCLUDE_METADATA.contains(&m)
    {
        v.error(
            "backup-options-patterns",
            "spec.options.includeMetadata",
            format!(
                "{} is not supported; use all, none, users or roles",
                shown(m)
            ),
        );
    }
    if let Some(ts) = &o.temp_storage {
        temp_storage_size(v, "backup-options-patterns", ts);
    }
    temp_path(v, "backup-temp-path", &o.temp_path);
}

/// `spec.options.tempStorage.size` of a backup or restore: the size of its staging PVC.
pub(super) fn temp_storage_size(v: &mut Verdict, rule: &'static str, ts: &TempStorageSpec) {
    match ts.size.as_deref() {
        Some(size) if TEMP_STORAGE_SIZE.is_match(size) => {}
        Some(size) => v.error(
            rule,
            "spec.options.tempStorage.size",
            format!(
                "{} is not a size; write digits with an optional Ki, Mi, Gi or Ti, e.g. 50Gi",
                shown(size)
            ),
        ),
        None => v.error(
            rule,
            "spec.options.tempStorage.size",
            "is required; set the staging PVC size, e.g. 50Gi",
        ),
    }
}

/// `spec.options.tempPath` of a backup or restore, when set: an absolute, shell-safe path.
pub(super) fn temp_path(v: &mut Verdict, rule: &'static str, temp_path: &Option<String>) {
    if let Some(tp) = set(temp_path)
        && (!tp.starts_with('/') || !path_safe(tp))
    {
        v.error(
            rule,
            "spec.options.tempPath",
            format!(
                "{} must be an absolute path of letters, digits, '.', '_', '-' and '/'",
                shown(tp)
            ),
        );
    }
}

pub fn update(_old: &Neo4jBackup, new: &Neo4jBackup) -> Verdict {
    create(new)
}

/// Options that need a minimum Neo4j version on the target: (field, set, minimum).
fn version_gated(o: &BackupOptions) -> [(&'static str, bool, version::Neo4jVersion); 4] {
    let at = |major, minor| version::Neo4jVersion {
        major,
        minor,
        patch: 0,
    };
    [
        (
            "parallelDownload",
            o.parallel_download == Some(true),
            at(2025, 11),
        ),
        ("skipRecovery", o.skip_recovery == Some(true), at(2025, 11)),
        (
            "remoteAddressResolution",
            o.remote_address_resolution == Some(true),
            at(2025, 9),
        ),
        (
            "preferDiffAsParent",
            o.prefer_diff_as_parent == Some(true),
            at(2025, 4),
        ),
    ]
}

pub fn cross(obj: &Neo4jBackup, namespace: &str, inventory: &dyn Inventory) -> Verdict {
    let mut v = Verdict::default();
    if let Some((_, instance)) = resolve_instance(
        &mut v,
        inventory,
        namespace,
        &obj.spec.instance_ref,
        &TARGET,
    ) {
        target_version(&mut v, obj, &instance);
    }
    v
}

fn target_version(v: &mut Verdict, obj: &Neo4jBackup, instance: &InstanceSummary) {
    let Some(tag) = instance.image_tag.as_deref() else {
        return;
    };
    let Some(running) = version::parse_tag(tag) else {
        return;
    };
    let Some(o) = &obj.spec.options else { return };
    for (field, on, minimum) in version_gated(o) {
        if on && running < minimum {
            v.error(
                "backup-version-flags",
                format!("spec.options.{field}"),
                format!("needs Neo4j {}.{:02} or later, but the target runs {}; remove it or upgrade the target", minimum.major, minimum.minor, shown(tag)),
            );
        }
    }
    if o.validate == Some(true) && !running.is_calver() {
        v.warn(
            "backup-validate-unsupported",
            "spec.options.validate",
            format!("the target runs {} and neo4j-admin backup validate exists only on 2025.x and later; the step will be skipped", shown(tag)),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::inventory::NoInventory;
    use crate::validate::testkit::{
        self, Case, Kind, NAMESPACE, Via, build, hit, inventory, manifest, miss, run,
    };

    fn base() -> Value {
        manifest(
            "Neo4jBackup",
            "nightly",
            json!({"instanceRef": "graph", "database": "neo4j", "storage": {"type": "pvc", "pvc": {"name": "backups"}}}),
        )
    }

    const KIND: Kind<Neo4jBackup> = Kind {
        base,
        not_run_yet: false,
        defaults: |b| crate::defaults::backup(&mut b.spec),
        create,
        update,
        cross,
        rules: || crate::catalog::coverage::kind(crate::types::Kind::Backup),
    };

    fn s3() -> Value {
        json!({"type": "s3", "bucket": "backups", "path": "prod/graph", "pvc": null, "cloud": {"provider": "aws"}})
    }

    fn cases() -> Vec<Case> {
        use Via::*;
        let replication = json!({"mode": "replication-source", "schedule": "0 * * * *"});
        vec![
            // Scope.
            hit("backup-instance-ref-required", json!({"instanceRef": null})),
            hit("backup-instance-ref-required", json!({"instanceRef": "  "})),
            miss("backup-instance-ref-required", json!({"instanceRef": "other"})),
            hit("backup-scope-required", json!({"database": null})),
            hit("backup-scope-required", json!({"database": "", "allDatabases": false})),
            hit("backup-database-name", json!({"database": "", "allDatabases": true})),
            miss("backup-scope-required", json!({"database": null, "allDatabases": true})),
            // An update is judged as a create of the new object.
            miss("backup-scope-required", json!({})).updated_from(json!({"database": null})),
            hit("backup-scope-required", json!({"database": null})).updated_from(json!({})),
            miss("backup-scope-required", json!({"database": null, "shardedDatabase": "products"})).warnings(&["field-not-implemented"]),
            hit("backup-scope-exclusive", json!({"allDatabases": true})),
            hit("backup-scope-exclusive", json!({"database": null, "allDatabases": true, "shardedDatabase": "p"})).warnings(&["field-not-implemented"]),
            miss("backup-scope-exclusive", json!({"allDatabases": false})),
            hit("backup-database-name", json!({"database": "1sales"})),
            hit("backup-database-name", json!({"database": "sales;DROP"})),
            hit("backup-database-name", json!({"database": format!("a{}", "b".repeat(65))})),
            miss("backup-database-name", json!({"database": format!("a{}", "b".repeat(64))})),
            miss("backup-database-name", json!({"database": "sales.eu-1"})),
            hit("backup-sharded-name", json!({"database": null, "shardedDatabase": "Products"})).warnings(&["field-not-implemented"]),
            hit("backup-sharded-name", json!({"database": null, "shardedDatabase": "p-"})).warnings(&["field-not-implemented"]),
            miss("backup-sharded-name", json!({"database": null, "shardedDatabase": "products.v1"})).warnings(&["field-not-implemented"]),
            // Storage.
            hit("backup-storage-type", json!({"storage": null})),
            hit("backup-storage-type", json!({"storage": {"type": "nfs"}})),
            hit("backup-storage-type", json!({"storage": {"type": ""}})),
            miss("backup-storage-type", json!({"storage": s3()})),
            hit("backup-storage-provider", json!({"storage": {"pvc": null}})),
            hit("backup-storage-provider", json!({"storage": {"pvc": {"name": " "}}})),
            hit("backup-storage-provider", json!({"storage": {"type": "s3", "pvc": null, "cloud": {"provider": "aws"}}})),
            // A bucket without a provider gets the one its type names (defaults), so it passes.
            miss("backup-storage-provider", json!({"storage": {"type": "s3", "bucket": "b", "pvc": null}})),
            hit("backup-storage-provider", json!({"storage": {"type": "gcs", "bucket": "b", "pvc": null, "cloud": {"provider": "aws"}}})),
            hit("backup-storage-provider", json!({"storage": {"type": "azure", "pvc": null, "cloud": {"provider": "azure"}}})),
            miss("backup-storage-provider", json!({"storage": {"type": "azure", "bucket": "c", "pvc": null, "cloud": {"provider": "azure"}}})),
            miss("backup-storage-provider", json!({"storage": {"type": "gcs", "bucket": "b", "pvc": null, "cloud": {"provider": "gcp"}}})),
            hit("backup-storage-charset", json!({"storage": {"type": "s3", "bucket": "b'; rm -rf /", "pvc": null, "cloud": {"provider": "aws"}}})),
            hit("backup-storage-charset", json!({"storage": {"type": "s3", "bucket": "b", "path": "a b", "pvc": null, "cloud": {"provider": "aws"}}})),
            hit("backup-storage-charset", json!({"storage": {"path": "$(id)"}})),
            miss("backup-storage-charset", json!({"storage": {"type": "s3", "bucket": "my.bucket_1", "path": "/a/b-c/", "pvc": null, "cloud": {"provider": "aws"}}})),
            hit("backup-cloud-provider", json!({"storage": {"cloud": {"provider": "custom"}}})),
            miss("backup-cloud-provider", json!({"storage": {"cloud": {"provider": ""}}})),
            hit("backup-cloud-provider", json!({"storage": {"type": "s3", "bucket": "b", "pvc": null, "cloud": {"provider": "AWS"}}}))
                .errors(&["backup-cloud-provider", "backup-storage-provider"]),
            hit("backup-identity-provider", json!({"storage": {"cloud": {"identity": {"provider": ""}}}})),
            hit("backup-identity-provider", json!({"storage": {"cloud": {"identity": {"provider": "ibm"}}}})),
            miss("backup-identity-provider", json!({"storage": {"type": "s3", "bucket": "b", "pvc": null, "cloud": {"provider": "aws", "identity": {"provider": "aws"}}}})),
            // Schedule.
            hit("backup-schedule-cron", json!({"schedule": "TZ=UTC 0 2 * * *"})),
            hit("backup-schedule-cron", json!({"schedule": "CRON_TZ=UTC 0 2 * * *"})),
            hit("backup-schedule-cron", json!({"schedule": "0 2 * *"})),
            hit("backup-schedule-cron", json!({"schedule": "@every 1h"})),
            hit("backup-schedule-cron", json!({"schedule": "0 2 * * 7"})),
            hit("backup-schedule-cron", json!({"schedule": "   "})),
            miss("backup-schedule-cron", json!({"schedule": "0 */4 * * MON-FRI"})),
            miss("backup-schedule-cron", json!({"schedule": "@daily"})),
            miss("backup-schedule-cron", json!({"schedule": ""})),
            hit("backup-scheduled-name-len", json!({"schedule": "@daily"})).named("a-very-long-backup-name-of-forty-one-char"),
            miss("backup-scheduled-name-len", json!({"schedule": "@daily"})).named("a-very-long-backup-name-of-forty-chars-x"),
            miss("backup-scheduled-name-len", json!({})).named("a-very-long-backup-name-of-forty-one-char"),
            hit("backup-job-name-len", json!({})).named(&"j".repeat(ONE_SHOT_NAME_MAX + 1)),
            miss("backup-job-name-len", json!({})).named(&"j".repeat(ONE_SHOT_NAME_MAX)),
            hit("backup-scheduled-name-len", json!({"schedule": "@daily"})).named(&"j".repeat(ONE_SHOT_NAME_MAX + 1)),
            // Not implemented fields are accepted, with a warning.
            miss("field-not-implemented", json!({"options": {"validate": false}})),
            hit("field-not-implemented", json!({"options": {"validate": true}})).warning(),
            hit("field-not-implemented", json!({"storage": {"pvc": {"name": "backups", "size": "10Gi"}}})).warning(),
            // Retention.
            hit("backup-retention-max-age", json!({"retention": {"maxAge": "1h30m"}})).warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            hit("backup-retention-max-age", json!({"retention": {"maxAge": "0d"}})).warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            miss("backup-retention-max-age", json!({"retention": {"maxAge": "30d"}})).warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            hit("backup-retention-max-count", json!({"retention": {"maxAge": "7d", "maxCount": -1}}))
                .warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            miss("backup-retention-max-count", json!({"retention": {"maxCount": 5}})).warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            hit("backup-retention-policy", json!({"retention": {"maxCount": 5, "deletePolicy": "Archive"}}))
                .warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            miss("backup-retention-policy", json!({"retention": {"maxCount": 5, "deletePolicy": ""}}))
                .warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            hit("backup-retention-criterion", json!({"retention": {}})).warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            hit("backup-retention-criterion", json!({"retention": {"maxAge": "", "maxCount": 0}}))
                .warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            miss("backup-retention-criterion", json!({"retention": {"maxCount": 1}})).warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            hit("resources-quantity-format", json!({"options": {"resources": {"limits": {"memory": "lots"}}}})),
            miss("resources-quantity-format", json!({"options": {"resources": {"limits": {"memory": "2Gi"}}}})),
            hit("resources-quantity-positive", json!({"options": {"resources": {"limits": {"memory": "-4Gi"}}}})),
            miss("resources-quantity-positive", json!({"options": {"resources": {"limits": {"memory": "4Gi"}}}})),
            hit("resources-request-le-limit", json!({"options": {"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}})),
            miss("resources-request-le-limit", json!({"options": {"resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}}})),
            hit("backup-retention-on-delete", json!({"retention": {"maxCount": 3}, "options": {"backupType": "FULL"}})).warning(),
            miss("backup-retention-on-delete", json!({"options": {"backupType": "DIFF"}})),
            hit("backup-retention-diff", json!({"retention": {"maxCount": 3}, "options": {"backupType": "DIFF"}}))
                .errors(&[])
                .warnings(&["backup-retention-on-delete", "backup-retention-diff"]),
            miss("backup-retention-diff", json!({"retention": {"maxCount": 3}, "options": {"backupType": "FULL"}})).warnings(&["backup-retention-on-delete"]),
            hit("backup-cloud-retention", json!({"retention": {"maxCount": 3}, "storage": s3()}))
                .errors(&[])
                .warnings(&["backup-retention-on-delete", "backup-cloud-retention"]),
            miss("backup-cloud-retention", json!({"storage": s3()})),
            // Options.
            hit("backup-args-format", json!({"options": {"additionalArgs": ["--verbose", "verbose"]}})),
            hit("backup-args-format", json!({"options": {"additionalArgs": ["--x=a\nb"]}})),
            miss("backup-args-format", json!({"options": {"additionalArgs": ["--verbose", "-v"]}})),
            hit("backup-args-deprecated", json!({"options": {"additionalArgs": ["--cc-graph=true"]}})),
            hit("backup-args-deprecated", json!({"options": {"additionalArgs": ["--legacy-format"]}})),
            miss("backup-args-deprecated", json!({"options": {"additionalArgs": ["--check-graph=true"]}})),
            hit("backup-temp-path", json!({"options": {"tempPath": "tmp/x"}})),
            hit("backup-temp-path", json!({"options": {"tempPath": "/tmp/$(id)"}})),
            miss("backup-temp-path", json!({"options": {"tempPath": "/tmp/neo4j-staging"}})),
            miss("backup-temp-path", json!({"options": {"tempPath": ""}})),
            hit("backup-options-patterns", json!({"options": {"pageCache": "4Gi"}})),
            hit("backup-options-patterns", json!({"options": {"backupType": "INCREMENTAL"}})),
            hit("backup-options-patterns", json!({"options": {"includeMetadata": "everything"}})),
            hit("backup-options-patterns", json!({"options": {"tempStorage": {"size": "50GB"}}})),
            hit("backup-options-patterns", json!({"options": {"tempStorage": {"storageClassName": "fast"}}})),
            hit("backup-options-patterns", json!({"mode": "mirror"})),
            miss("backup-options-patterns", json!({"mode": "", "options": {"pageCache": "4G", "backupType": "", "includeMetadata": "users", "tempStorage": {"size": "50Gi"}}})),
            // Chains.
            hit("backup-chain-self", json!({"chainFromBackup": "nightly"})),
            miss("backup-chain-self", json!({"chainFromBackup": "weekly-full"})),
            hit("backup-chain-name", json!({"chainFromBackup": "Weekly_Full"})),
            hit("backup-chain-name", json!({"chainFromBackup": "x; rm -rf /"})),
            miss("backup-chain-name", json!({"chainFromBackup": "weekly.full-1"})),
            // Replication source (the local half).
            miss("backup-replication-source", replication.clone()).warnings(&["backup-replication-caveat"]),
            hit("backup-replication-source", json!({"mode": "replication-source"})).warnings(&["backup-replication-caveat"]),
            hit("backup-replication-source", json!({"mode": "replication-source", "schedule": "0 * * * *", "database": null, "allDatabases": true}))
                .warnings(&["backup-replication-caveat"]),
            hit("backup-replication-source", json!({"mode": "replication-source", "schedule": "0 * * * *", "database": null, "shardedDatabase": "p"}))
                .warnings(&["backup-replication-caveat", "field-not-implemented"]),
            hit("backup-replication-source", json!({"mode": "replication-source", "schedule": "0 * * * *", "database": null}))
                .errors(&["backup-scope-required", "backup-replication-source"])
                .warnings(&["backup-replication-caveat"]),
            hit("backup-replication-source", json!({"mode": "replication-source", "schedule": "0 * * * *", "retention": {"maxCount": 2}}))
                .warnings(&["backup-replication-caveat", "backup-retention-on-delete", "backup-retention-diff"]),
            hit("backup-replication-caveat", replication).warning(),
            miss("backup-replication-caveat", json!({"mode": "standard"})),
            // Cross checks.
            miss("backup-instance-not-found", json!({})).via(Cross),
            hit("backup-instance-not-found", json!({"instanceRef": "missing"})).warning().via(Cross),
            miss("backup-version-flags", json!({"options": {"preferDiffAsParent": true, "remoteAddressResolution": true}})).via(Cross),
            hit("backup-version-flags", json!({"options": {"parallelDownload": true}})).via(Cross),
            miss("backup-version-flags", json!({"instanceRef": "old", "options": {"parallelDownload": false}})).via(Cross),
            hit("backup-version-flags", json!({"instanceRef": "old", "options": {"parallelDownload": true}})).via(Cross),
            hit("backup-version-flags", json!({"instanceRef": "duo", "options": {"preferDiffAsParent": true, "remoteAddressResolution": true}}))
                .errors(&["backup-version-flags", "backup-version-flags"])
                .via(Cross),
            hit("backup-version-flags", json!({"instanceRef": "solo", "options": {"skipRecovery": true}})).via(Cross),
            hit("backup-validate-unsupported", json!({"instanceRef": "solo", "options": {"validate": true}})).warning().via(Cross),
            miss("backup-validate-unsupported", json!({"options": {"validate": true}})).via(Cross),
            hit("cross-check-skipped", json!({})).warning().via(CrossBlind),
            miss("cross-check-skipped", json!({"instanceRef": null})).via(CrossBlind),
        ]
    }

    #[test]
    fn minimal_backup_is_clean() {
        let b = build(&KIND, &json!({}), None);
        assert_eq!(create(&b), Verdict::default());
        assert_eq!(cross(&b, NAMESPACE, &inventory()), Verdict::default());
    }

    #[test]
    fn backup_rule_table() {
        run(&KIND, &cases());
    }

    #[test]
    fn messages_name_the_value_and_the_field() {
        let b = build(
            &KIND,
            &json!({"storage": {"type": "nfs"}, "options": {"additionalArgs": ["-v", "oops"]}}),
            None,
        );
        let v = create(&b);
        let fields: Vec<&str> = v.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["spec.storage.type", "spec.options.additionalArgs[1]"]
        );
        assert!(
            v.errors[0].message.contains("\"nfs\""),
            "{}",
            v.errors[0].message
        );
        assert!(
            v.errors[1].message.contains("\"oops\""),
            "{}",
            v.errors[1].message
        );
    }

    #[test]
    fn blind_cross_check_warns_once() {
        let b = build(
            &KIND,
            &json!({"options": {"validate": true, "parallelDownload": true}}),
            None,
        );
        assert_eq!(
            cross(&b, NAMESPACE, &NoInventory).rules(),
            vec!["cross-check-skipped"]
        );
    }

    #[test]
    fn one_shot_name_bound_matches_the_job_limit() {
        assert_eq!(ONE_SHOT_NAME_MAX, 56);
        assert_eq!(names::backup_job(&"x".repeat(ONE_SHOT_NAME_MAX)).len(), 63);
    }

    #[test]
    fn scheduled_name_bound_matches_the_cronjob_limit() {
        assert_eq!(SCHEDULED_NAME_MAX, 40);
        assert_eq!(
            names::backup_cronjob(&"x".repeat(SCHEDULED_NAME_MAX)).len(),
            52
        );
    }

    fn rich() -> Value {
        manifest(
            "Neo4jBackup",
            "hourly",
            json!({
                "instanceRef": "old", "database": "orders", "allDatabases": false, "shardedDatabase": "products",
                "storage": {"type": "s3", "bucket": "backups", "path": "prod", "pvc": {"name": "p", "size": "1Gi"},
                    "cloud": {"provider": "aws", "credentialsSecretRef": "c", "endpointURL": "https://minio",
                        "forcePathStyle": true, "identity": {"provider": "aws", "autoCreate": {"annotations": {"a": "b"}}}}},
                "schedule": "0 * * * *", "mode": "replication-source",
                "retention": {"maxAge": "7d", "maxCount": 3, "deletePolicy": "Delete"},
                "options": {"compress": false, "backupType": "DIFF", "pageCache": "4G", "parallelDownload": true,
                    "remoteAddressResolution": true, "skipRecovery": true, "validate": true, "additionalArgs": ["--a", "b"],
                    "preferDiffAsParent": true, "tempPath": "/tmp/x", "tempStorage": {"size": "1Gi"}, "includeMetadata": "all",
                    "parallelRecovery": true, "keepFailed": true},
                "suspend": false, "chainFromBackup": "hourly"
            }),
        )
    }

    testkit::never_panic!(
        KIND,
        backup_rules_never_panic_on_mutated_specs(rich()),
        backup_rules_never_panic_on_arbitrary_specs(base()),
    );
}
