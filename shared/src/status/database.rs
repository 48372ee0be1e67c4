//! Status of a Neo4jDatabase: a pure function of what the controller observed (the host, the
//! create Job and what Neo4j answered it), the verdict and the previous status. As for the
//! instance kinds, `now` is a parameter and a condition keeps its `lastTransitionTime` while its
//! status and reason stay, so a steady database costs no write.
//!
//! Phases:
//! - `Failed`: the spec fails validation or yields no statement, or Neo4j refused the statement
//!   (the `Ready` condition carries Neo4j's code and message);
//! - `Pending`: the host does not exist, or is not Ready yet;
//! - `Creating`: the Job running `CREATE DATABASE` has not finished;
//! - `Ready`: the Job succeeded (`creationTime` is set once, then kept);
//! - `Deleting`: the resource is being deleted and `DROP DATABASE` runs first.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{ConditionType, Draft, MESSAGE_MAX_CHARS, stamp, valid_condition};
use crate::render::RenderError;
use crate::text::one_line;
use crate::types::{Neo4jDatabase, Neo4jDatabaseStatus};
use crate::verdict::Verdict;

/// Where a database stands, as written to `status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabasePhase {
    Pending,
    Creating,
    Ready,
    Failed,
    Deleting,
}

impl DatabasePhase {
    pub const ALL: [DatabasePhase; 5] = [
        DatabasePhase::Pending,
        DatabasePhase::Creating,
        DatabasePhase::Ready,
        DatabasePhase::Failed,
        DatabasePhase::Deleting,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DatabasePhase::Pending => "Pending",
            DatabasePhase::Creating => "Creating",
            DatabasePhase::Ready => "Ready",
            DatabasePhase::Failed => "Failed",
            DatabasePhase::Deleting => "Deleting",
        }
    }
}

/// The host as the controller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostState {
    /// No cluster or standalone of that name.
    Missing,
    /// The host exists but is not Ready (its phase).
    NotReady(String),
    Ready,
}

/// A Job's outcome as the controller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Not created yet.
    Missing,
    Running,
    Succeeded,
    /// Failed for good: the container's termination message (the Bolt client writes Neo4j's
    /// code and message there), else the Job's own reason.
    Failed(String),
}

/// What the controller observed of a database.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseObserved {
    pub host: HostState,
    /// The create Job of the current spec: its name and state.
    pub job: Option<(String, JobState)>,
    /// The statement could not be built; nothing was applied.
    pub render_error: Option<RenderError>,
    /// The resource is being deleted (`DROP DATABASE` runs first).
    pub deleting: bool,
}

struct Standing {
    phase: DatabasePhase,
    reason: &'static str,
    message: String,
}

fn standing(db: &Neo4jDatabase, o: &DatabaseObserved, validation: &Verdict) -> Standing {
    let name = db.spec.name.as_deref().unwrap_or_default();
    let host = db.spec.cluster_ref.as_deref().unwrap_or_default();
    let s = |phase, reason, message: String| Standing {
        phase,
        reason,
        message,
    };
    if !validation.errors.is_empty() {
        return s(
            DatabasePhase::Failed,
            "ValidationFailed",
            format!(
                "validation failed: {}",
                super::unique(&validation.error_rules()).join(", ")
            ),
        );
    }
    if o.deleting {
        return match &o.job {
            Some((job, JobState::Failed(why))) => s(
                DatabasePhase::Deleting,
                "DropFailed",
                format!(
                    "DROP DATABASE failed (Job {job}): {why}; the finalizer holds the resource (set deletionPolicy to Retain to let it go)"
                ),
            ),
            _ => s(
                DatabasePhase::Deleting,
                "Dropping",
                format!("running DROP DATABASE for {name:?} before the resource goes"),
            ),
        };
    }
    if let Some(e) = &o.render_error {
        return s(DatabasePhase::Failed, "RenderFailed", e.to_string());
    }
    match (&o.host, o.job.as_ref().map(|(n, j)| (n.as_str(), j))) {
        (HostState::Missing, _) => s(
            DatabasePhase::Pending,
            "HostNotFound",
            format!("waiting for the Neo4jEnterpriseCluster or Neo4jEnterpriseStandalone {host:?}"),
        ),
        (_, Some((_, JobState::Succeeded))) => s(
            DatabasePhase::Ready,
            "DatabaseReady",
            format!("database {name:?} exists on {host:?}"),
        ),
        (_, Some((job, JobState::Failed(why)))) => s(
            DatabasePhase::Failed,
            "CreationFailed",
            format!("CREATE DATABASE failed (Job {job}): {why}"),
        ),
        (HostState::NotReady(phase), Some((_, JobState::Missing)) | None) => s(
            DatabasePhase::Pending,
            "HostNotReady",
            format!("waiting for {host:?} to be Ready (it is {phase})"),
        ),
        (_, Some((job, _))) => s(
            DatabasePhase::Creating,
            "Creating",
            format!("Job {job} runs CREATE DATABASE for {name:?}"),
        ),
        (HostState::Ready, None) => s(
            DatabasePhase::Creating,
            "Creating",
            format!("creating database {name:?}"),
        ),
    }
}

/// The status of a database. `now` stamps conditions that change and the first `creationTime`.
pub fn database(
    db: &Neo4jDatabase,
    observed: &DatabaseObserved,
    validation: &Verdict,
    previous: Option<&Neo4jDatabaseStatus>,
    now: Time,
) -> Neo4jDatabaseStatus {
    let st = standing(db, observed, validation);
    let generation = db.metadata.generation;
    let previous_conditions = previous.and_then(|p| p.conditions.as_deref());
    let conditions = [
        Draft {
            type_: ConditionType::Ready,
            status: st.phase == DatabasePhase::Ready,
            reason: st.reason,
            message: st.message.clone(),
        },
        valid_condition(validation),
    ]
    .into_iter()
    .map(|c| stamp(c, generation, previous_conditions, &now))
    .collect();
    let creation_time = previous
        .and_then(|p| p.creation_time.clone())
        .or_else(|| (st.phase == DatabasePhase::Ready).then(|| now.clone()));
    Neo4jDatabaseStatus {
        conditions: Some(conditions),
        phase: Some(st.phase.as_str().to_string()),
        message: Some(one_line(&st.message, MESSAGE_MAX_CHARS)),
        observed_generation: generation,
        creation_time,
        // Carried over: these are the reference's fields, not written by this controller.
        data_imported: previous.and_then(|p| p.data_imported),
        size: previous.and_then(|p| p.size.clone()),
        state: previous.and_then(|p| p.state.clone()),
        servers: previous.and_then(|p| p.servers.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db() -> Neo4jDatabase {
        serde_json::from_value(json!({
            "apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jDatabase",
            "metadata": {"name": "orders", "namespace": "shop", "generation": 2},
            "spec": {"clusterRef": "graph", "name": "orders"}
        }))
        .expect("db")
    }

    fn t(s: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(s).expect("time"))
    }

    fn observed(host: HostState, job: Option<JobState>) -> DatabaseObserved {
        DatabaseObserved {
            host,
            job: job.map(|j| ("orders-create-0123abcd".to_string(), j)),
            render_error: None,
            deleting: false,
        }
    }

    fn ready(s: &Neo4jDatabaseStatus) -> (String, String, String) {
        let c = &s.conditions.as_ref().expect("conditions")[0];
        (c.status.clone(), c.reason.clone(), c.message.clone())
    }

    #[test]
    fn phases_follow_the_host_and_the_job() {
        let ok = Verdict::default();
        for (o, phase, reason) in [
            (
                observed(HostState::Missing, None),
                "Pending",
                "HostNotFound",
            ),
            (
                observed(HostState::NotReady("Initializing".into()), None),
                "Pending",
                "HostNotReady",
            ),
            (observed(HostState::Ready, None), "Creating", "Creating"),
            (
                observed(HostState::Ready, Some(JobState::Running)),
                "Creating",
                "Creating",
            ),
            (
                observed(
                    HostState::NotReady("Upgrading".into()),
                    Some(JobState::Succeeded),
                ),
                "Ready",
                "DatabaseReady",
            ),
            (
                observed(HostState::Ready, Some(JobState::Failed("x".into()))),
                "Failed",
                "CreationFailed",
            ),
        ] {
            let s = database(&db(), &o, &ok, None, t(10));
            assert_eq!(s.phase.as_deref(), Some(phase), "{o:?}");
            assert_eq!(ready(&s).1, reason, "{o:?}");
            assert_eq!(ready(&s).0 == "True", phase == "Ready");
            assert_eq!(s.observed_generation, Some(2));
        }
    }

    #[test]
    fn neo4js_refusal_is_the_condition_message() {
        // What a Neo4j 5.26 Community server answers (tests/neo4j BoltClientTest).
        let why = "Neo.ClientError.Statement.UnsupportedAdministrationCommand: Unsupported administration command: CREATE DATABASE $name IF NOT EXISTS WAIT";
        let s = database(
            &db(),
            &observed(HostState::Ready, Some(JobState::Failed(why.into()))),
            &Verdict::default(),
            None,
            t(10),
        );
        let (status, reason, message) = ready(&s);
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "CreationFailed")
        );
        assert!(message.ends_with(why), "{message}");
        assert!(message.contains("orders-create-0123abcd"), "{message}");
    }

    #[test]
    fn steady_inputs_give_an_equal_status_and_creation_time_is_kept() {
        let o = observed(HostState::Ready, Some(JobState::Succeeded));
        let first = database(&db(), &o, &Verdict::default(), None, t(10));
        assert_eq!(first.creation_time, Some(t(10)));
        let again = database(&db(), &o, &Verdict::default(), Some(&first), t(99));
        assert_eq!(first, again);
    }

    #[test]
    fn validation_and_deletion_come_first() {
        let mut v = Verdict::default();
        v.error("database-name-pattern", "spec.name", "bad");
        let s = database(
            &db(),
            &observed(HostState::Ready, Some(JobState::Succeeded)),
            &v,
            None,
            t(1),
        );
        assert_eq!(s.phase.as_deref(), Some("Failed"));
        let mut o = observed(HostState::Ready, Some(JobState::Succeeded));
        o.deleting = true;
        let s = database(&db(), &o, &Verdict::default(), None, t(1));
        assert_eq!(s.phase.as_deref(), Some("Deleting"));
        o.job = Some((
            "orders-drop-0123abcd".into(),
            JobState::Failed("Neo.ClientError.Database.DatabaseNotFound: x".into()),
        ));
        let s = database(&db(), &o, &Verdict::default(), None, t(1));
        let (status, reason, message) = ready(&s);
        assert_eq!((status.as_str(), reason.as_str()), ("False", "DropFailed"));
        assert!(
            message.contains("Neo.ClientError.Database.DatabaseNotFound: x"),
            "{message}"
        );
        assert_eq!(s.phase.as_deref(), Some("Deleting"));
    }
}
