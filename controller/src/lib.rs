//! `neo4j-controller`: a slim controller for Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone,
//! Neo4jBackup and Neo4jRestore. Policy (defaults, validation, rendering, status) lives in
//! `neo4j-shared`; this crate watches, applies by server-side apply, and reports.

pub mod apply;
pub mod backoff;
pub mod backup;
pub mod bolt;
pub mod cache;
pub mod cluster;
pub mod config;
pub mod context;
pub mod cypher_cli;
pub mod database;
pub mod error;
pub mod fence;
pub mod finalizer;
pub mod health;
pub mod http;
pub mod instance;
pub mod leader;
pub mod metrics;
pub mod ops;
pub mod owned;
pub mod plugin;
pub mod plugin_fold;
pub mod reconcile;
pub mod restore;
pub mod secrets;
pub mod standalone;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::future;
use futures_util::{Stream, StreamExt};
use kube::Client;
use kube::api::Api;
use kube::client::ClientBuilder;
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{Predicate, WatchStreamExt, predicates};
use neo4j_shared::types::{
    Kind, Neo4jBackup, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, Neo4jRestore,
};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use config::{Config, LogFormat};

use crate::cache::{Caches, ChildKind, Router};
use crate::context::Context;
use crate::fence::{Fence, FenceLayer};
use crate::health::Health;
use crate::instance::Instance;
use crate::metrics::Metrics;
use crate::ops::OpsContext;
use crate::reconcile::{error_policy, reconcile};

/// The client configuration from `--kubeconfig`, else in-cluster / $KUBECONFIG /
/// ~/.kube/config.
pub async fn kube_config(config: &Config) -> anyhow::Result<kube::Config> {
    match &config.kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .context("loading the kubeconfig")
        }
        None => kube::Config::infer()
            .await
            .context("no kubeconfig and not in a cluster"),
    }
}

/// Builds the API client from `--kubeconfig`, else in-cluster / $KUBECONFIG / ~/.kube/config.
pub async fn client(config: &Config) -> anyhow::Result<Client> {
    Client::try_from(kube_config(config).await?).context("building the API client")
}

/// A client whose write requests pass only while `fence` is open (`fence.rs`).
pub fn fenced_client(
    config: kube::Config,
    fence: Arc<Fence>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<Client> {
    Ok(ClientBuilder::try_from(config)
        .context("building the API client")?
        .with_layer(&FenceLayer::new(fence, metrics))
        .build())
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

/// Creates at 0 every metric series of the instance kinds (`Metrics::init_kind`).
fn init_series<K: Instance>(metrics: &Metrics) {
    let children = cache::instance_child_kinds(true);
    let mut writes: Vec<(&'static str, &'static str)> =
        children.iter().map(|k| (k.plural, "apply")).collect();
    writes.extend([
        ("persistentvolumeclaims", "delete"),
        ("events", "create"),
        (K::KIND.plural(), "apply"),
        (reconcile::status_resource::<K>(), "apply"),
    ]);
    let skippable: Vec<&'static str> = children.iter().map(|k| k.plural).collect();
    for watch in children.iter().map(|k| k.kind).chain([K::KIND.name()]) {
        let _ = metrics.watch_error_counter(watch);
    }
    metrics.init_kind(
        K::KIND.name(),
        &reconcile::result_labels(),
        &writes,
        &skippable,
    );
}

/// Creates at 0 the metric series of Neo4jDatabase and Neo4jPlugin and of their watches.
fn init_database_and_plugin_series(metrics: &Metrics) {
    use neo4j_shared::types::Kind;
    let (database, plugin) = (Kind::Database, Kind::Plugin);
    metrics.init_kind(
        database.name(),
        &reconcile::result_labels(),
        &[
            ("jobs", "apply"),
            ("events", "create"),
            (database.plural(), "apply"),
            ("neo4jdatabases/status", "apply"),
        ],
        &[],
    );
    metrics.init_kind(
        plugin.name(),
        &reconcile::result_labels(),
        &[("events", "create"), ("neo4jplugins/status", "apply")],
        &[],
    );
    for watch in [
        database::WATCH,
        database::JOB_WATCH,
        "Neo4jEnterpriseCluster/databases",
        "Neo4jEnterpriseStandalone/databases",
        plugin_fold::WATCH,
        plugin::STATEFULSET_WATCH,
    ] {
        let _ = metrics.watch_error_counter(watch);
    }
}

/// Creates at 0 every metric series of the operation kinds.
fn init_ops_series(metrics: &Metrics, kind: Kind) {
    let children = cache::ops_child_kinds();
    let mut writes: Vec<(&'static str, &'static str)> =
        children.iter().map(|k| (k.plural, "apply")).collect();
    writes.extend([
        ("jobs", "delete"),
        ("events", "create"),
        (kind.plural(), "apply"),
        (ops::status_label(kind), "apply"),
    ]);
    if kind == Kind::Backup {
        writes.extend([("cronjobs", "delete"), ("persistentvolumeclaims", "apply")]);
    }
    let skippable: Vec<&'static str> = children.iter().map(|k| k.plural).collect();
    let _ = metrics.watch_error_counter(kind.name());
    metrics.init_kind(
        kind.name(),
        &reconcile::result_labels(),
        &writes,
        &skippable,
    );
}

/// Runs until `shutdown` resolves. Everything it starts lives inside this future: dropping it
/// (a test "killing" the controller) stops every watch, controller and the HTTP server.
pub async fn run_until(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // One crypto provider in the tree (ring); ignore "already installed".
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kube_config = kube_config(&config).await?;
    let metrics = Arc::new(Metrics::new());
    init_series::<Neo4jEnterpriseCluster>(&metrics);
    init_series::<Neo4jEnterpriseStandalone>(&metrics);
    init_database_and_plugin_series(&metrics);
    init_ops_series(&metrics, Kind::Backup);
    init_ops_series(&metrics, Kind::Restore);
    let health = Arc::new(Health::new(metrics.clone()));
    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();

    let listener = tokio::net::TcpListener::bind(config.metrics_listen)
        .await
        .with_context(|| format!("binding {}", config.metrics_listen))?;
    let app = http::router(metrics.clone(), health.clone());
    tasks.spawn(async move { axum::serve(listener, app).await.context("metrics server") });

    let mut shutdown = Box::pin(shutdown);
    let identity = config.identity();
    let fence = if config.leader_elect {
        Fence::leased()
    } else {
        Fence::always()
    };
    // Everything that acts on Neo4j objects uses the fenced client; the Lease does not.
    let client = fenced_client(kube_config.clone(), fence.clone(), metrics.clone())?;
    let mut elector = None;
    if config.leader_elect {
        let (lease_duration, renew_deadline, retry_period) = config.lease_durations();
        let plain = Client::try_from(kube_config).context("building the API client")?;
        let mut e = leader::Elector::new(
            plain,
            leader::LeaseConfig {
                name: config.leader_election_name.clone(),
                namespace: config.lease_namespace(),
                identity: identity.clone(),
                lease_duration,
                renew_deadline,
                retry_period,
            },
        )
        .with_fence(fence.clone());
        tracing::info!(identity = %identity, "waiting for leadership");
        tokio::select! {
            () = e.acquire() => {},
            () = &mut shutdown => return Ok(()),
        }
        elector = Some(e);
    }
    lead(
        Lead {
            config,
            client,
            fence,
            metrics,
            health,
        },
        tasks,
        elector,
        shutdown,
    )
    .await
}

/// What the leader runs with.
struct Lead {
    config: Config,
    client: Client,
    fence: Arc<Fence>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

async fn lead(
    l: Lead,
    mut tasks: JoinSet<anyhow::Result<()>>,
    elector: Option<leader::Elector>,
    shutdown: std::pin::Pin<Box<impl Future<Output = ()> + Send + 'static>>,
) -> anyhow::Result<()> {
    let Lead {
        config,
        client,
        fence,
        metrics,
        health,
    } = l;
    health.leading.store(true, Ordering::Relaxed);
    metrics.leader.set(1);
    let namespace = config.namespace.as_deref();
    let cert_manager = cert_manager_installed(&client).await;
    tracing::info!(cert_manager, namespace = ?namespace, "starting controllers");
    let router = Arc::new(Router::default());
    // The Jobs and CronJobs of backups and restores are children like the instances' own.
    let mut kinds: Vec<ChildKind> = cache::instance_child_kinds(cert_manager);
    kinds.extend(cache::ops_child_kinds());
    let (plugins, plugin_driver) = plugin_fold::cache(&client, namespace, router.clone(), &health);
    let (caches, mut drivers) =
        Caches::new(&client, namespace, &kinds, router.clone(), &health, plugins);
    drivers.push(plugin_driver);
    for d in drivers {
        tasks.spawn(async move {
            d.await;
            Ok(())
        });
    }
    let ctx = Arc::new(
        Context::new(
            client.clone(),
            caches.clone(),
            fence.clone(),
            metrics.clone(),
            Some(config.identity()),
        )
        .with_site(config.site()),
    );
    // Bumped whenever every watch is healthy again after some were not: the controllers then
    // look at every object once, so nothing waits out a backoff taken during the outage.
    let (recovered, recovered_rx) = watch::channel(0u64);
    let kit = Kit {
        client: &client,
        namespace,
        health: &health,
        router: &router,
        recovered: &recovered_rx,
    };
    let (cluster_store, cluster_ctl) = controller_for::<Neo4jEnterpriseCluster>(&kit);
    let (standalone_store, standalone_ctl) = controller_for::<Neo4jEnterpriseStandalone>(&kit);
    // Neo4jDatabase and Neo4jPlugin (database.rs, plugin.rs); plugin changes reach the two
    // instance controllers through the router (plugin_fold.rs).
    let databases_and_plugins = {
        let hosts = plugin::Hosts {
            clusters: cluster_store.clone(),
            standalones: standalone_store.clone(),
        };
        let touched = router.subscribe::<neo4j_shared::types::Neo4jPlugin>();
        let (ctx, health) = (ctx.clone(), health.clone());
        let (db_recovered, plugin_recovered) =
            (changes(recovered_rx.clone()), changes(recovered_rx.clone()));
        let namespace = config.namespace.clone();
        let image = config.database_job_image.clone();
        async move {
            let (a, b) = futures_util::join!(
                database::run(
                    ctx.clone(),
                    namespace.clone(),
                    image,
                    health.clone(),
                    db_recovered
                ),
                plugin::run(ctx, hosts, touched, plugin_recovered, health, namespace)
            );
            a.and(b)
        }
    };

    // Backups and restores: their own watches drive their controllers; their Jobs and
    // CronJobs reach them through the router, like any child.
    let (backups, backup_driver) = ops::watch::<Neo4jBackup>(
        &client,
        namespace,
        &health,
        ops::route_self::<Neo4jBackup>(router.clone()),
    );
    let (restores, restore_driver) = ops::watch::<Neo4jRestore>(
        &client,
        namespace,
        &health,
        ops::route_restore(router.clone()),
    );
    let _ = ctx.restores.set(restores.clone());
    let ops_ctx = Arc::new(OpsContext::new(
        ctx.clone(),
        backups.clone(),
        restores.clone(),
        cluster_store.clone(),
        standalone_store.clone(),
    ));
    // Every trigger, the objects' own changes included, comes through the router.
    let backup_ctl = Controller::for_stream(no_trigger(), backups.clone())
        .reconcile_on(router.subscribe::<Neo4jBackup>())
        .reconcile_all_on(changes(recovered_rx.clone()))
        .with_config(controller_config());
    let restore_ctl = Controller::for_stream(no_trigger(), restores.clone())
        .reconcile_on(router.subscribe::<Neo4jRestore>())
        .reconcile_all_on(changes(recovered_rx.clone()))
        .with_config(controller_config());
    // Driven only now that both kinds are subscribed: the first list triggers every object.
    for d in [backup_driver, restore_driver] {
        tasks.spawn(async move {
            d.await;
            Ok(())
        });
    }

    // The controllers start once every child cache has its initial list: a decision made on an
    // empty cache would re-apply everything. (The main stores are awaited by each Controller.)
    {
        let caches = caches.clone();
        let health = health.clone();
        let ctx = ctx.clone();
        let ops_ctx = ops_ctx.clone();
        tasks.spawn(async move {
            caches.ready().await;
            ops_ctx.ready().await.context("backup and restore caches")?;
            health.synced.store(true, Ordering::Relaxed);
            tracing::info!("caches synced; reconciling");
            let (a, b, c, d, e) = futures_util::join!(
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
                databases_and_plugins,
            );
            a.and(b).and(c).and(d).and(e)
        });
    }
    {
        let metrics = metrics.clone();
        let health = health.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut blind = false;
            let mut n: u64 = 0;
            loop {
                tick.tick().await;
                n += 1;
                if n.is_multiple_of(2) {
                    count_phases(&metrics, &cluster_store);
                    count_phases(&metrics, &standalone_store);
                    ops::count_phases(&metrics, Kind::Backup, &backups, |b: &Neo4jBackup| {
                        b.status.as_ref().and_then(|s| s.phase.clone())
                    });
                    ops::count_phases(&metrics, Kind::Restore, &restores, |r: &Neo4jRestore| {
                        r.status.as_ref().and_then(|s| s.phase.clone())
                    });
                }
                health.export();
                // Only after the first sync: the start is not a recovery.
                let now_blind = health.synced.load(Ordering::Relaxed) && !health.blind().is_empty();
                if blind && !now_blind {
                    tracing::info!("every watch works again; re-checking every object");
                    recovered.send_modify(|v| *v += 1);
                }
                blind = now_blind;
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
        () = fence.closed() => Err(anyhow::anyhow!("the lease was not renewed in time; stopped writing")),
        e = failed => Err(e),
    };
    // Stop acting before giving the lease away.
    fence.revoke();
    tasks.abort_all();
    metrics.leader.set(0);
    health.leading.store(false, Ordering::Relaxed);
    if outcome.is_ok()
        && let Some(e) = elector.as_mut()
    {
        e.release().await;
    }
    outcome
}

/// Reconciles running at once per kind.
const RECONCILE_CONCURRENCY: u16 = 8;

/// What every kind's controller is built from.
struct Kit<'a> {
    client: &'a Client,
    namespace: Option<&'a str>,
    health: &'a Health,
    router: &'a Router,
    recovered: &'a watch::Receiver<u64>,
}

/// `()` every time `rx` changes.
fn changes(rx: watch::Receiver<u64>) -> impl Stream<Item = ()> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        Some(((), rx))
    })
}

/// A Controller for `K` whose main watch ignores status-only updates (its own status writes):
/// a new generation, or a finalizer change, triggers; so does any change of a child (through
/// the [`Router`]) and every object once when the watches recover from an outage.
fn controller_for<K: Instance>(kit: &Kit<'_>) -> (Store<K>, Controller<K>) {
    let api: Api<K> = match kit.namespace {
        Some(ns) => Api::namespaced(kit.client.clone(), ns),
        None => Api::all(kit.client.clone()),
    };
    let (reader, writer) = reflector::store::<K>();
    let stream = cache::healthy_watch(api, cache::watch_config(), kit.health, K::KIND.name())
        .modify(cache::slim_instance::<K>)
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::finalizers),
            Default::default(),
        );
    let ctl = Controller::for_stream(stream, reader.clone())
        .reconcile_on(kit.router.subscribe::<K>())
        .reconcile_all_on(changes(kit.recovered.clone()))
        .with_config(controller_config());
    (reader, ctl)
}

/// A main trigger stream that never yields nor ends (the operation kinds are triggered through
/// the router).
fn no_trigger<K>() -> impl Stream<Item = Result<K, kube::runtime::watcher::Error>> + Send + 'static
where
    K: Send + 'static,
{
    futures_util::stream::pending()
}

fn controller_config() -> controller::Config {
    controller::Config::default()
        // Coalesce the burst of child events that follows an apply into one reconcile.
        .debounce(Duration::from_millis(500))
        // Bounded parallelism: after a restart a thousand objects queue up at once, and
        // unbounded fan-out would hold a thousand requests' buffers in memory together.
        .concurrency(RECONCILE_CONCURRENCY)
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
