//! Neo4jDatabase: a Job per statement (`shared::render::database`: fixed argv, every user
//! value a Bolt parameter, run by `neo4j-controller cypher` from this controller's image), and
//! status from the Job (`shared::status::database`). With `deletionPolicy: Drop` a finalizer
//! holds the resource until a `DROP DATABASE` Job has succeeded; with `Retain` (the default)
//! deleting the resource leaves the database alone.
//!
//! Jobs are cached (label `app.kubernetes.io/component=neo4j-database`) and trigger their
//! database through the owner reference, on every event (a deleted Job too). The hosts (clusters and standalones) are watched and
//! cached here too: a host's change (its phase reaching Ready, its creation or deletion)
//! triggers the databases that name it, and the reconcile reads the host from the cache the
//! trigger came through, so it never sees an older host than the one that woke it. Nothing is
//! polled: a steady or waiting database costs no reconcile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Client, Resource, ResourceExt};
use neo4j_shared::names::{APP_COMPONENT, FIELD_MANAGER};
use neo4j_shared::policy::Policy;
use neo4j_shared::render::DesiredObject;
use neo4j_shared::render::database::{
    self as jobs, DatabaseHost, JOB_COMPONENT, JobImage, Operation,
};
use neo4j_shared::status::database::{DatabaseObserved, HostState, JobState};
use neo4j_shared::types::{
    Neo4jDatabase, Neo4jDatabaseStatus, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone,
};
use serde_json::json;

use crate::apply;
use crate::cache;
use crate::context::Context;
use crate::error::{Error, Result, is_conflict, is_not_found};
use crate::health::Health;

pub const FINALIZER: &str = "neo4j.neo4j.com/database-finalizer";
const JOB_PULL_POLICY: &str = "IfNotPresent";

/// What the database controller reads and writes with.
pub struct DatabaseContext {
    pub ctx: Arc<Context>,
    pub clusters: Store<Neo4jEnterpriseCluster>,
    pub standalones: Store<Neo4jEnterpriseStandalone>,
    pub jobs: Store<Job>,
    /// The image of the Jobs (this controller's own).
    pub image: String,
}

/// The name of the Job watch in the watch health and its metrics.
pub const JOB_WATCH: &str = "Job/databases";

/// The database Jobs' cache and the stream that drives it and triggers their databases (every
/// event, deletions included).
pub fn job_cache(
    client: &Client,
    namespace: Option<&str>,
    health: &Health,
) -> (
    Store<Job>,
    impl Stream<Item = std::result::Result<Job, watcher::Error>> + Send + 'static,
) {
    let api: Api<Job> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store::<Job>();
    let config = cache::watch_config().labels(&format!("{APP_COMPONENT}={JOB_COMPONENT}"));
    let stream = cache::healthy_watch(api, config, health, JOB_WATCH)
        .modify(|j: &mut Job| {
            j.managed_fields_mut().clear();
            // The pod template is not read; status and owner references are.
            if let Some(spec) = j.spec.as_mut() {
                spec.template = Default::default();
            }
        })
        .reflect(writer)
        .touched_objects();
    (reader, stream)
}

/// A watch of the hosts of kind `K`, cached here (the reconcile reads the host from this cache,
/// which holds a change before it triggers), and its stream of touched hosts (deletions
/// included). Reported to the watch health as `<kind>/databases`.
fn hosts<K>(
    client: &Client,
    namespace: Option<&str>,
    health: &Health,
    name: &'static str,
) -> (
    Store<K>,
    impl Stream<Item = std::result::Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store::<K>();
    let stream = cache::healthy_watch(api, cache::watch_config(), health, name)
        .modify(cache::slim_instance::<K>)
        .reflect(writer)
        .touched_objects();
    (reader, stream)
}

/// The databases of `host`'s namespace that name it.
fn databases_on<K: Resource>(
    databases: &Store<Neo4jDatabase>,
    host: &K,
) -> Vec<ObjectRef<Neo4jDatabase>> {
    let (namespace, name) = (
        host.meta().namespace.as_deref(),
        host.meta().name.as_deref(),
    );
    databases
        .state()
        .iter()
        .filter(|d| {
            d.metadata.namespace.as_deref() == namespace && d.spec.cluster_ref.as_deref() == name
        })
        .map(|d| ObjectRef::from_obj(&**d))
        .collect()
}

/// The host `name` in `namespace` (cluster first) and how ready it is.
fn host(dc: &DatabaseContext, namespace: &str, name: &str) -> Option<(DatabaseHost, HostState)> {
    let state = |phase: Option<&str>| match phase {
        Some("Ready") => HostState::Ready,
        other => HostState::NotReady(other.unwrap_or("Unknown").to_string()),
    };
    if let Some(c) = dc.clusters.get(&ObjectRef::new(name).within(namespace)) {
        let mut c = (*c).clone();
        c.apply_defaults();
        let phase = c.status.as_ref().and_then(|s| s.phase.clone());
        return DatabaseHost::of_cluster(&c).map(|h| (h, state(phase.as_deref())));
    }
    let s = dc
        .standalones
        .get(&ObjectRef::new(name).within(namespace))?;
    let mut s = (*s).clone();
    s.apply_defaults();
    let phase = s.status.as_ref().and_then(|st| st.phase.clone());
    DatabaseHost::of_standalone(&s).map(|h| (h, state(phase.as_deref())))
}

/// A Job's state from its conditions: `Complete` or `Failed` (with the Job's own message until
/// the container's termination message is read), else running.
pub fn job_state(job: &Job) -> JobState {
    let conditions = job
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let is = |t: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == t && c.status == "True")
    };
    if is("Complete").is_some() {
        return JobState::Succeeded;
    }
    match is("Failed") {
        Some(c) => JobState::Failed(
            [c.reason.as_deref(), c.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
        ),
        None => JobState::Running,
    }
}

/// The termination message of the Job's failed `cypher` container (what the Bolt client wrote:
/// Neo4j's code and message), newest pod first.
async fn termination_message(ctx: &Context, namespace: &str, job: &str) -> Result<Option<String>> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    let list = pods
        .list(&ListParams::default().labels(&format!("job-name={job}")))
        .await
        .map_err(|e| Error::kube("list", "pods", job, e))?;
    let mut found: Vec<(Option<Time>, String)> = list
        .items
        .iter()
        .flat_map(|p| {
            p.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
        })
        .filter(|c| c.name == "cypher")
        .filter_map(|c| {
            let t = c.state.as_ref()?.terminated.as_ref()?;
            let message = t.message.as_deref()?.trim();
            (t.exit_code != 0 && !message.is_empty())
                .then(|| (t.finished_at.clone(), message.to_string()))
        })
        .collect();
    found.sort_by(|a, b| a.0.as_ref().map(|t| t.0).cmp(&b.0.as_ref().map(|t| t.0)));
    Ok(found.pop().map(|(_, m)| m))
}

/// The state of `desired` as cached, with a failed container's own message.
async fn observe_job(
    dc: &DatabaseContext,
    namespace: &str,
    desired: &DesiredObject,
) -> Result<JobState> {
    let Some(job) = dc
        .jobs
        .get(&ObjectRef::new(&desired.name).within(namespace))
    else {
        return Ok(JobState::Missing);
    };
    Ok(match job_state(&job) {
        JobState::Failed(why) => JobState::Failed(
            termination_message(&dc.ctx, namespace, &desired.name)
                .await?
                .unwrap_or(why),
        ),
        other => other,
    })
}

fn job_image(dc: &DatabaseContext) -> JobImage<'_> {
    JobImage {
        image: &dc.image,
        pull_policy: JOB_PULL_POLICY,
    }
}

/// Entry point handed to `Controller::run` for Neo4jDatabases.
pub async fn reconcile(db: Arc<Neo4jDatabase>, dc: Arc<DatabaseContext>) -> Result<Action> {
    let started = Instant::now();
    let result = reconcile_database(&db, &dc).await;
    let label = match &result {
        Ok(_) => "ok",
        Err(e) => e.metric_label(),
    };
    dc.ctx
        .metrics
        .reconciled(Neo4jDatabase::KIND.name(), label, started.elapsed());
    if result.is_ok() {
        dc.ctx.failures.succeed(&key(&db));
    }
    result
}

/// Key of a database in the failure counts.
pub fn key(db: &Neo4jDatabase) -> String {
    format!(
        "{}/{}/{}",
        Neo4jDatabase::KIND.name(),
        db.namespace().unwrap_or_default(),
        db.name_any()
    )
}

/// Transient errors back off per object; anything else waits for a change.
pub fn error_policy(db: Arc<Neo4jDatabase>, error: &Error, dc: Arc<DatabaseContext>) -> Action {
    if error.is_transient() {
        let delay = dc.ctx.failures.fail(&key(&db));
        tracing::warn!(%error, name = %db.name_any(), retry_in = ?delay, "database reconcile failed");
        Action::requeue(delay)
    } else {
        tracing::error!(%error, name = %db.name_any(), "database reconcile failed; waiting for a change");
        Action::await_change()
    }
}

/// The name of the Neo4jDatabase watch in the watch health and its metrics.
pub const WATCH: &str = "Neo4jDatabase";

/// The Neo4jDatabase controller: its own watch (new generations and finalizer changes
/// trigger, not its status writes), the database Jobs it owns and the hosts (every event of
/// those, deletions included), and every database once when the watches recover from an
/// outage. Runs until a watch ends.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<String>,
    image: String,
    health: Arc<Health>,
    recovered: impl Stream<Item = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let api: Api<Neo4jDatabase> = match &namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store::<Neo4jDatabase>();
    let stream = cache::healthy_watch(api, cache::watch_config(), &health, WATCH)
        .modify(cache::slim_instance::<Neo4jDatabase>)
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::finalizers),
            Default::default(),
        );
    let (jobs, job_stream) = job_cache(&client, namespace.as_deref(), &health);
    let (clusters, cluster_stream) = hosts::<Neo4jEnterpriseCluster>(
        &client,
        namespace.as_deref(),
        &health,
        "Neo4jEnterpriseCluster/databases",
    );
    let (standalones, standalone_stream) = hosts::<Neo4jEnterpriseStandalone>(
        &client,
        namespace.as_deref(),
        &health,
        "Neo4jEnterpriseStandalone/databases",
    );
    let (on_cluster, on_standalone) = (reader.clone(), reader.clone());
    let dc = Arc::new(DatabaseContext {
        ctx,
        clusters,
        standalones,
        jobs,
        image,
    });
    let metrics = dc.ctx.metrics.clone();
    let counted = reader.clone();
    let controller = Controller::for_stream(stream, reader)
        .owns_stream(job_stream)
        .watches_stream(cluster_stream, move |h| databases_on(&on_cluster, &h))
        .watches_stream(standalone_stream, move |h| databases_on(&on_standalone, &h))
        .reconcile_all_on(recovered)
        .with_config(controller::Config::default().debounce(Duration::from_millis(500)))
        .run(reconcile, error_policy, dc)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(kind = "Neo4jDatabase", error = %e, "reconcile error");
            }
        });
    tokio::select! {
        () = controller => {},
        () = crate::plugin::count_phases(&metrics, Neo4jDatabase::KIND.name(), &counted, |d| {
            d.status.as_ref().and_then(|s| s.phase.as_deref())
        }) => {},
    }
    Err(anyhow::anyhow!("Neo4jDatabase controller stopped"))
}

/// Creates the Job `desired` (called only when the Job cache has none of that name). Not
/// through `apply::apply`: Jobs have no child cache there, and its memory of the hashes this
/// process applied would skip re-creating a Job that was deleted.
async fn apply_job(ctx: &Context, namespace: &str, desired: &DesiredObject) -> Result<()> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), namespace, &apply::api_resource(desired));
    ctx.fence.check()?;
    ctx.metrics
        .wrote(Neo4jDatabase::KIND.name(), desired.plural, "apply");
    match api
        .patch(
            &desired.name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&apply::body(desired, None)),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            if is_conflict(&e) {
                ctx.metrics.conflict(desired.plural);
            }
            Err(Error::kube("apply", desired.plural, &desired.name, e))
        }
    }
}

async fn reconcile_database(db: &Neo4jDatabase, dc: &DatabaseContext) -> Result<Action> {
    let ctx = &dc.ctx;
    // No decision on an empty cache (a Job seen as missing would be applied again, a host
    // seen as missing would be reported so).
    let ready = futures_util::try_join!(
        dc.jobs.wait_until_ready(),
        dc.clusters.wait_until_ready(),
        dc.standalones.wait_until_ready()
    );
    if ready.is_err() {
        return Err(Error::MissingField("a cache of the database controller"));
    }
    let namespace = db.namespace().ok_or(Error::MissingField("namespace"))?;
    let mut defaulted = db.clone();
    defaulted.apply_defaults();
    let verdict = defaulted.create();
    let seen_generation = db.status.as_ref().and_then(|s| s.observed_generation);
    if seen_generation != db.meta().generation {
        crate::reconcile::publish_findings(ctx, db, &verdict).await;
    }
    let drops = defaulted.spec.deletion_policy.as_deref() == Some("Drop");
    let has_finalizer = db.finalizers().iter().any(|f| f == FINALIZER);
    let host_name = defaulted.spec.cluster_ref.clone().unwrap_or_default();
    let host = host(dc, &namespace, &host_name);

    if db.meta().deletion_timestamp.is_some() {
        if !has_finalizer {
            return Ok(Action::await_change());
        }
        // Without a host, a valid spec or a statement there is nothing to drop.
        let drop_job = match (&host, drops && verdict.allowed()) {
            (Some((h, _)), true) => jobs::job(&defaulted, h, Operation::Drop, job_image(dc)).ok(),
            _ => None,
        };
        if let Some(desired) = drop_job {
            match observe_job(dc, &namespace, &desired).await? {
                JobState::Succeeded => {}
                state => {
                    if state == JobState::Missing {
                        apply_job(ctx, &namespace, &desired).await?;
                    }
                    let observed = DatabaseObserved {
                        host: host.map_or(HostState::Missing, |(_, s)| s),
                        job: Some((desired.name.clone(), state)),
                        render_error: None,
                        deleting: true,
                    };
                    write_status(ctx, db, &defaulted, &observed, &verdict).await?;
                    // The Job's events bring the next reconcile.
                    return Ok(Action::await_change());
                }
            }
        }
        set_finalizer(ctx, db, false).await?;
        return Ok(Action::await_change());
    }

    if drops != has_finalizer && (verdict.allowed() || !drops) {
        set_finalizer(ctx, db, drops).await?;
    }
    if !verdict.allowed() {
        let observed = DatabaseObserved {
            host: host.map_or(HostState::Missing, |(_, s)| s),
            job: None,
            render_error: None,
            deleting: false,
        };
        write_status(ctx, db, &defaulted, &observed, &verdict).await?;
        return Ok(Action::await_change());
    }

    let (observed, action) = match host {
        None => (
            DatabaseObserved {
                host: HostState::Missing,
                job: None,
                render_error: None,
                deleting: false,
            },
            Action::await_change(),
        ),
        Some((h, state)) => match jobs::job(&defaulted, &h, Operation::Create, job_image(dc)) {
            Err(e) => (
                DatabaseObserved {
                    host: state,
                    job: None,
                    render_error: Some(e),
                    deleting: false,
                },
                Action::await_change(),
            ),
            Ok(desired) => {
                let mut job = observe_job(dc, &namespace, &desired).await?;
                // Created already for this generation (the Job's name changed only because
                // the operator's image did): never run the statement again.
                if job == JobState::Missing && created_this_generation(db) {
                    job = JobState::Succeeded;
                }
                // A Job is started only on a Ready host; one started earlier runs on.
                if job == JobState::Missing && state == HostState::Ready {
                    apply_job(ctx, &namespace, &desired).await?;
                    job = JobState::Running;
                }
                let action = match (&state, &job) {
                    (_, JobState::Succeeded) => Action::requeue(crate::reconcile::RESYNC),
                    (_, JobState::Failed(_) | JobState::Running) => Action::await_change(),
                    (_, JobState::Missing) => Action::await_change(),
                };
                (
                    DatabaseObserved {
                        host: state,
                        job: Some((desired.name, job)),
                        render_error: None,
                        deleting: false,
                    },
                    action,
                )
            }
        },
    };
    write_status(ctx, db, &defaulted, &observed, &verdict).await?;
    Ok(action)
}

/// Whether the status says the database was created for the current generation.
pub fn created_this_generation(db: &Neo4jDatabase) -> bool {
    db.status.as_ref().is_some_and(|s| {
        s.phase.as_deref() == Some("Ready") && s.observed_generation == db.metadata.generation
    })
}

/// Sets this controller's entry of `metadata.finalizers` (`present`) or gives it up, by
/// server-side apply of that field alone.
async fn set_finalizer(ctx: &Context, db: &Neo4jDatabase, present: bool) -> Result<()> {
    let namespace = db.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = db.name_any();
    let mut metadata = json!({"name": name});
    if present {
        metadata["finalizers"] = json!([FINALIZER]);
    }
    let patch = json!({
        "apiVersion": Neo4jDatabase::api_version(&()),
        "kind": Neo4jDatabase::kind(&()),
        "metadata": metadata,
    });
    let plural = Neo4jDatabase::KIND.plural();
    ctx.metrics
        .wrote(Neo4jDatabase::KIND.name(), plural, "apply");
    let api: Api<Neo4jDatabase> = Api::namespaced(ctx.client.clone(), &namespace);
    ctx.fence.check()?;
    match api
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if !present && is_not_found(&e) => Ok(()),
        Err(e) => {
            if is_conflict(&e) {
                ctx.metrics.conflict(plural);
            }
            Err(Error::kube("apply", plural, name, e))
        }
    }
}

async fn write_status(
    ctx: &Context,
    db: &Neo4jDatabase,
    defaulted: &Neo4jDatabase,
    observed: &DatabaseObserved,
    verdict: &neo4j_shared::Verdict,
) -> Result<()> {
    let status: Neo4jDatabaseStatus = neo4j_shared::status::database::database(
        defaulted,
        observed,
        verdict,
        db.status.as_ref(),
        Time(k8s_openapi::jiff::Timestamp::now()),
    );
    if db.status.as_ref() == Some(&status) {
        return Ok(());
    }
    // Neo4j's refusal also becomes one Warning event, when the status first says so.
    let reason_of = |s: Option<&Neo4jDatabaseStatus>| {
        s.and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
            .map(|c| (c.reason.clone(), c.message.clone()))
    };
    if let Some((reason, message)) = reason_of(Some(&status))
        && matches!(reason.as_str(), "CreationFailed" | "DropFailed")
        && reason_of(db.status.as_ref()).map(|(r, _)| r) != Some(reason.clone())
    {
        crate::reconcile::publish(ctx, db, &reason, &message, "Cypher").await;
    }
    let namespace = db.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = db.name_any();
    let body = json!({
        "apiVersion": Neo4jDatabase::api_version(&()),
        "kind": Neo4jDatabase::kind(&()),
        "metadata": {"name": name},
        "status": status,
    });
    let api: Api<Neo4jDatabase> = Api::namespaced(ctx.client.clone(), &namespace);
    ctx.fence.check()?;
    ctx.metrics
        .wrote(Neo4jDatabase::KIND.name(), "neo4jdatabases/status", "apply");
    match api
        .patch_status(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            if is_conflict(&e) {
                ctx.metrics.conflict("neo4jdatabases/status");
            }
            Err(Error::kube("apply", "neo4jdatabases/status", name, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(conditions: serde_json::Value) -> Job {
        serde_json::from_value(
            json!({"metadata": {"name": "j"}, "status": {"conditions": conditions}}),
        )
        .expect("job")
    }

    #[test]
    fn a_ready_database_of_this_generation_is_not_created_again() {
        let db = |generation: i64, phase: &str| -> Neo4jDatabase {
            serde_json::from_value(json!({
                "metadata": {"name": "orders", "generation": 2},
                "spec": {"clusterRef": "graph", "name": "orders"},
                "status": {"phase": phase, "observedGeneration": generation}
            }))
            .expect("database")
        };
        assert!(created_this_generation(&db(2, "Ready")));
        assert!(
            !created_this_generation(&db(1, "Ready")),
            "a new generation runs"
        );
        assert!(!created_this_generation(&db(2, "Failed")));
    }

    #[test]
    fn job_states_follow_the_job_conditions() {
        assert_eq!(job_state(&job(json!([]))), JobState::Running);
        assert_eq!(
            job_state(&job(json!([{"type": "Complete", "status": "True"}]))),
            JobState::Succeeded
        );
        assert_eq!(
            job_state(&job(
                json!([{"type": "Failed", "status": "True", "reason": "PodFailurePolicy",
                "message": "Container cypher for pod ns/p failed with exit code 3"}])
            )),
            JobState::Failed(
                "PodFailurePolicy: Container cypher for pod ns/p failed with exit code 3".into()
            )
        );
        assert_eq!(
            job_state(&job(json!([{"type": "Failed", "status": "False"}]))),
            JobState::Running
        );
    }
}
