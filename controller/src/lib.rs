//! `neo4j-controller`: a slim controller for Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone,
//! Neo4jBackup and Neo4jRestore. Policy (defaults, validation, rendering, status) lives in
//! `neo4j-shared`; this crate watches, applies by server-side apply, and reports.

pub mod apply;
pub mod backoff;
pub mod backup;
pub mod cache;
pub mod cluster;
pub mod config;
pub mod context;
pub mod error;
pub mod finalizer;
pub mod http;
pub mod instance;
pub mod leader;
pub mod metrics;
pub mod ops;
pub mod reconcile;
pub mod restore;
pub mod standalone;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::StreamExt;
use futures_util::future;
use k8s_openapi::api::batch::v1::Job;
use kube::Client;
use kube::api::Api;
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use neo4j_shared::names::{APP_INSTANCE, APP_NAME, DEFAULT_CLUSTER_DOMAIN};
use neo4j_shared::types::{
    Kind, Neo4jBackup, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, Neo4jRestore,
};
use tokio::task::JoinSet;

pub use config::{Config, LogFormat};

use crate::cache::{Caches, ChildTriggers, Triggers};
use crate::context::Context;
use crate::http::Health;
use crate::instance::Instance;
use crate::metrics::Metrics;
use crate::ops::{OpsContext, OpsWatches};
use crate::reconcile::{error_policy, reconcile};

/// Builds the API client from `--kubeconfig`, else in-cluster / $KUBECONFIG / ~/.kube/config.
pub async fn client(config: &Config) -> anyhow::Result<Client> {
    let kube_config = match &config.kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .context("loading the kubeconfig")?
        }
        None => kube::Config::infer()
            .await
            .context("no kubeconfig and not in a cluster")?,
    };
    Client::try_from(kube_config).context("building the API client")
}

/// Whether the cert-manager Certificate API is served (checked once, at start).
pub async fn cert_manager_installed(client: &Client) -> bool {
    match client.list_api_group_resources("cert-manager.io/v1").await {
        Ok(list) => list.resources.iter().any(|r| r.name == "certificates"),
        Err(_) => false,
    }
}

/// Runs until SIGTERM / Ctrl-C (then releases the lease) or until leadership is lost.
pub async fn run(config: Config) -> anyhow::Result<()> {
    run_until(config, shutdown_signal()).await
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = tokio::signal::ctrl_c() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs until `shutdown` resolves. Everything it starts lives inside this future: dropping it
/// (a test "killing" the controller) stops every watch, controller and the HTTP server.
pub async fn run_until(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // One crypto provider in the tree (ring); ignore "already installed".
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = client(&config).await?;
    let metrics = Arc::new(Metrics::new());
    let health = Arc::new(Health::default());
    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();

    let listener = tokio::net::TcpListener::bind(config.metrics_listen)
        .await
        .with_context(|| format!("binding {}", config.metrics_listen))?;
    let app = http::router(metrics.clone(), health.clone());
    tasks.spawn(async move { axum::serve(listener, app).await.context("metrics server") });

    let mut shutdown = Box::pin(shutdown);
    let identity = config.identity();
    let mut elector = None;
    if config.leader_elect {
        let (lease_duration, renew_deadline, retry_period) = config.lease_durations();
        let mut e = leader::Elector::new(
            client.clone(),
            leader::LeaseConfig {
                name: config.leader_election_name.clone(),
                namespace: config.lease_namespace(),
                identity: identity.clone(),
                lease_duration,
                renew_deadline,
                retry_period,
            },
        );
        tracing::info!(identity = %identity, "waiting for leadership");
        tokio::select! {
            () = e.acquire() => {},
            () = &mut shutdown => return Ok(()),
        }
        elector = Some(e);
    } else {
        health.leading.store(true, Ordering::Relaxed);
    }
    lead(config, client, metrics, health, tasks, elector, shutdown).await
}

async fn lead(
    config: Config,
    client: Client,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    mut tasks: JoinSet<anyhow::Result<()>>,
    elector: Option<leader::Elector>,
    shutdown: std::pin::Pin<Box<impl Future<Output = ()> + Send + 'static>>,
) -> anyhow::Result<()> {
    health.leading.store(true, Ordering::Relaxed);
    metrics.leader.set(1);
    let namespace = config.namespace.as_deref();
    let cert_manager = cert_manager_installed(&client).await;
    tracing::info!(cert_manager, namespace = ?namespace, "starting controllers");
    let (caches, triggers, drivers) = Caches::new(&client, namespace, cert_manager);
    for d in drivers {
        tasks.spawn(async move {
            d.await;
            Ok(())
        });
    }
    let ctx = Arc::new(Context::new(
        client.clone(),
        caches.clone(),
        metrics.clone(),
        Some(config.identity()),
    ));
    let OpsWatches {
        jobs,
        cronjobs,
        backups,
        restores,
        job_triggers: (backup_jobs, restore_jobs),
        cronjob_trigger,
        backup_trigger,
        restore_triggers: (restore_trigger, standalone_restores),
        drivers: ops_drivers,
    } = OpsWatches::new(&client, namespace);
    for d in ops_drivers {
        tasks.spawn(async move {
            d.await;
            Ok(())
        });
    }
    let _ = ctx.restores.set(restores.clone());
    let ChildTriggers {
        statefulsets,
        services,
        config_maps,
        service_accounts,
        pdbs,
        certificates,
    } = triggers;
    let (cluster_store, cluster_ctl) = controller_for::<Neo4jEnterpriseCluster>(&client, namespace);
    let (standalone_store, standalone_ctl) =
        controller_for::<Neo4jEnterpriseStandalone>(&client, namespace);
    let mut cluster_ctl = cluster_ctl
        .owns_shared_stream(statefulsets.cluster)
        .owns_shared_stream(services.cluster)
        .owns_shared_stream(config_maps.cluster)
        .owns_shared_stream(service_accounts.cluster)
        .owns_shared_stream(pdbs.cluster);
    let mut standalone_ctl = standalone_ctl
        // A restore's step decides whether its standalone runs.
        .watches_shared_stream(standalone_restores, |r: Arc<Neo4jRestore>| {
            let ns = r.metadata.namespace.clone()?;
            let target = r.spec.instance_ref.clone().filter(|t| !t.is_empty())?;
            Some(ObjectRef::<Neo4jEnterpriseStandalone>::new(&target).within(&ns))
        })
        .owns_shared_stream(statefulsets.standalone)
        .owns_shared_stream(services.standalone)
        .owns_shared_stream(config_maps.standalone)
        .owns_shared_stream(service_accounts.standalone)
        .owns_shared_stream(pdbs.standalone);
    if let Some(Triggers {
        cluster,
        standalone,
    }) = certificates
    {
        cluster_ctl = cluster_ctl.owns_shared_stream(cluster);
        standalone_ctl = standalone_ctl.owns_shared_stream(standalone);
    }

    let ops_ctx = Arc::new(OpsContext::new(
        ctx.clone(),
        jobs,
        cronjobs,
        backups.clone(),
        restores.clone(),
        cluster_store.clone(),
        standalone_store.clone(),
        // The servers' DNS names end in `.svc.<domain>`.
        DEFAULT_CLUSTER_DOMAIN.to_string(),
    ));
    let backup_ctl = Controller::for_shared_stream(backup_trigger, backups.clone())
        .owns_shared_stream(cronjob_trigger)
        .watches_shared_stream(backup_jobs, |j: Arc<Job>| {
            labelled_owner(&j, "neo4j-backup")
        })
        .with_config(controller_config());
    let restore_ctl = Controller::for_shared_stream(restore_trigger, restores.clone())
        .watches_shared_stream(restore_jobs, |j: Arc<Job>| {
            labelled_owner(&j, "neo4j-restore")
        })
        .with_config(controller_config());

    // The controllers start once every child cache has its initial list: a decision made on an
    // empty cache would re-apply everything. (The main stores are awaited by each Controller.)
    {
        let caches = caches.clone();
        let health = health.clone();
        let ctx = ctx.clone();
        let ops_ctx = ops_ctx.clone();
        tasks.spawn(async move {
            caches.ready().await.context("child caches")?;
            ops_ctx.ready().await.context("backup and restore caches")?;
            health.synced.store(true, Ordering::Relaxed);
            tracing::info!("caches synced; reconciling");
            let (a, b, c, d) = futures_util::join!(
                run_controller(cluster_ctl, ctx.clone()),
                run_controller(standalone_ctl, ctx),
                run_ops_controller(
                    backup_ctl,
                    ops_ctx.clone(),
                    backup::reconcile,
                    backup::error_policy,
                    Kind::Backup
                ),
                run_ops_controller(
                    restore_ctl,
                    ops_ctx,
                    restore::reconcile,
                    restore::error_policy,
                    Kind::Restore
                ),
            );
            a.and(b).and(c).and(d)
        });
    }
    {
        let metrics = metrics.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tick.tick().await;
                count_phases(&metrics, &cluster_store);
                count_phases(&metrics, &standalone_store);
                ops::count_phases(&metrics, Kind::Backup, &backups, |b: &Neo4jBackup| {
                    b.status.as_ref().and_then(|s| s.phase.clone())
                });
                ops::count_phases(&metrics, Kind::Restore, &restores, |r: &Neo4jRestore| {
                    r.status.as_ref().and_then(|s| s.phase.clone())
                });
            }
        });
    }

    let mut elector = elector;
    let lost = async {
        match elector.as_mut() {
            Some(e) => e.hold().await,
            None => future::pending::<()>().await,
        }
    };
    let failed = async {
        loop {
            match tasks.join_next().await {
                Some(Ok(Ok(()))) => continue,
                Some(Ok(Err(e))) => return e,
                Some(Err(e)) => return anyhow::anyhow!("task failed: {e}"),
                None => return anyhow::anyhow!("every task ended"),
            }
        }
    };
    let outcome = tokio::select! {
        () = shutdown => Ok(()),
        () = lost => Err(anyhow::anyhow!("lost leadership")),
        e = failed => Err(e),
    };
    // Stop acting before giving the lease away.
    tasks.abort_all();
    metrics.leader.set(0);
    if outcome.is_ok()
        && let Some(e) = elector.as_mut()
    {
        e.release().await;
    }
    outcome
}

/// Reconciles running at once per kind.
const RECONCILE_CONCURRENCY: u16 = 8;

/// A Controller for `K` whose main watch ignores status-only updates (its own status writes):
/// a new generation, or a finalizer change, triggers; children trigger through owner refs.
fn controller_for<K: Instance>(
    client: &Client,
    namespace: Option<&str>,
) -> (Store<K>, Controller<K>) {
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store::<K>();
    let stream = watcher(api, cache::watch_config())
        .default_backoff()
        .modify(cache::slim_instance::<K>)
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::finalizers),
            Default::default(),
        );
    let ctl = Controller::for_stream(stream, reader.clone()).with_config(controller_config());
    (reader, ctl)
}

fn controller_config() -> controller::Config {
    controller::Config::default()
        // Coalesce the burst of child events that follows an apply into one reconcile.
        .debounce(Duration::from_millis(500))
        // Bounded parallelism: after a restart a thousand objects queue up at once, and
        // unbounded fan-out would hold a thousand requests' buffers in memory together.
        .concurrency(RECONCILE_CONCURRENCY)
}

/// The backup or restore (`app.kubernetes.io/name` = `name`) a Job belongs to, by its labels:
/// the Jobs a CronJob makes are owned by the CronJob, not by the backup.
fn labelled_owner<K>(job: &Job, name: &str) -> Option<ObjectRef<K>>
where
    K: kube::Resource<DynamicType = ()>,
{
    let labels = job.metadata.labels.as_ref()?;
    if labels.get(APP_NAME).map(String::as_str) != Some(name) {
        return None;
    }
    let owner = labels.get(APP_INSTANCE)?;
    let ns = job.metadata.namespace.as_deref()?;
    Some(ObjectRef::new(owner).within(ns))
}

async fn run_ops_controller<K, R, E, F>(
    ctl: Controller<K>,
    ctx: Arc<OpsContext>,
    reconcile: R,
    error_policy: E,
    kind: Kind,
) -> anyhow::Result<()>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
    R: FnMut(Arc<K>, Arc<OpsContext>) -> F,
    F: Future<Output = Result<kube::runtime::controller::Action, crate::error::Error>>
        + Send
        + 'static,
    E: Fn(Arc<K>, &crate::error::Error, Arc<OpsContext>) -> kube::runtime::controller::Action,
{
    ctl.run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(kind = kind.name(), error = %e, "reconcile error");
            }
        })
        .await;
    Err(anyhow::anyhow!("{} controller stopped", kind.name()))
}

async fn run_controller<K: Instance>(ctl: Controller<K>, ctx: Arc<Context>) -> anyhow::Result<()> {
    ctl.run(reconcile::<K>, error_policy::<K>, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(kind = K::KIND.name(), error = %e, "reconcile error");
            }
        })
        .await;
    Err(anyhow::anyhow!("{} controller stopped", K::KIND.name()))
}

fn count_phases<K: Instance>(metrics: &Metrics, store: &Store<K>) {
    let mut counts: std::collections::BTreeMap<String, i64> = Default::default();
    for obj in store.state() {
        let phase = obj
            .current_status()
            .and_then(K::phase)
            .unwrap_or("Unknown")
            .to_string();
        *counts.entry(phase).or_default() += 1;
    }
    metrics.set_objects(K::KIND.name(), counts);
}

/// Installs the tracing subscriber for `--log-format`.
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
