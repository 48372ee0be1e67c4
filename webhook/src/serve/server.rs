//! Wiring: load the certificate, open the watch cache, bind both ports, run until told to stop,
//! then drain. `start` returns as soon as both ports listen, so a test or benchmark can run the
//! real server in-process on ephemeral ports.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use kube::config::{KubeConfigOptions, Kubeconfig};
use neo4j_shared::inventory::NoInventory;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::admission::{self, AppState};
use super::cache::{SharedInventory, WatchCache};
use super::config::{ClusterSource, Settings};
use super::listener::Listener;
use super::metrics::Metrics;
use super::ops::{self, OpsState, Readiness};
use super::tls::{self, CertFiles, CertReloader, TlsError};

/// Why the server could not start or stopped on its own.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("serving certificate: {0}")]
    Certificate(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("kubeconfig {path}: {message}")]
    Kubeconfig { path: String, message: String },
    #[error("cluster client: {0}")]
    Client(#[from] kube::Error),
    #[error("{which} server: {source}")]
    Server {
        which: &'static str,
        source: std::io::Error,
    },
    #[error("{0} task ended abnormally")]
    Task(&'static str),
}

/// A server that is listening.
pub struct Running {
    pub tls_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub metrics: Arc<Metrics>,
    pub readiness: Arc<Readiness>,
    stop: watch::Sender<bool>,
    ops_stop: watch::Sender<bool>,
    admission: JoinHandle<()>,
    ops: JoinHandle<std::io::Result<()>>,
    reloader: JoinHandle<()>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("tls_addr", &self.tls_addr)
            .field("metrics_addr", &self.metrics_addr)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// Stops accepting connections; requests in flight finish within the grace period.
    pub fn shutdown(&self) {
        self.readiness.stopping();
        let _ = self.stop.send(true);
    }

    /// Serves until `signal` resolves (or the admission server fails), then drains: no new
    /// connections, requests in flight finish within the grace period, then everything stops.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> Result<(), ServeError> {
        let early = tokio::select! {
            () = signal => None,
            joined = &mut self.admission => Some(joined),
        };
        self.shutdown();
        let admission = match early {
            Some(joined) => joined,
            None => (&mut self.admission).await,
        };
        admission.map_err(|_| ServeError::Task("admission server"))?;
        // The admission port drained; the operations port goes now.
        let _ = self.ops_stop.send(true);
        let ops = self
            .ops
            .await
            .map_err(|_| ServeError::Task("operations server"))?;
        self.reloader
            .await
            .map_err(|_| ServeError::Task("certificate reloader"))?;
        ops.map_err(|source| ServeError::Server {
            which: "operations",
            source,
        })
    }

    /// Waits until the server has stopped (after [`Running::shutdown`], or on a fatal error).
    pub async fn wait(self) -> Result<(), ServeError> {
        self.run_until(std::future::pending()).await
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    // Err means the sender is gone, which is also a reason to stop.
    let _ = stop.wait_for(|s| *s).await;
}

async fn inventory(
    source: &ClusterSource,
    synced: &Arc<AtomicBool>,
) -> Result<Arc<dyn SharedInventory>, ServeError> {
    let no_cluster = || {
        synced.store(true, std::sync::atomic::Ordering::Release);
        Arc::new(NoInventory) as Arc<dyn SharedInventory>
    };
    let config = match source {
        ClusterSource::None => return Ok(no_cluster()),
        ClusterSource::Given(inventory) => {
            synced.store(true, std::sync::atomic::Ordering::Release);
            return Ok(inventory.clone());
        }
        ClusterSource::Kubeconfig(path) => {
            let kubeconfig_error = |message: String| ServeError::Kubeconfig {
                path: path.display().to_string(),
                message,
            };
            let file = Kubeconfig::read_from(path).map_err(|e| kubeconfig_error(e.to_string()))?;
            kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .map_err(|e| kubeconfig_error(e.to_string()))?
        }
        ClusterSource::Infer => match kube::Config::infer().await {
            Ok(config) => config,
            Err(e) => {
                tracing::info!(reason = %e, "no cluster configuration found: cross-object checks are skipped");
                return Ok(no_cluster());
            }
        },
    };
    tracing::info!(cluster = %config.cluster_url, "watching Neo4jEnterpriseCluster and Neo4jEnterpriseStandalone objects");
    let client = kube::Client::try_from(config)?;
    Ok(Arc::new(WatchCache::start(client, synced.clone())))
}

/// Loads the certificate, opens the watch cache and binds both ports.
pub async fn start(settings: Settings) -> Result<Running, ServeError> {
    tls::install_default_provider();
    let metrics = Arc::new(Metrics::new());
    let files = CertFiles {
        cert: settings.cert_file.clone(),
        key: settings.key_file.clone(),
    };
    let (reloader, resolver) = CertReloader::load(files, metrics.clone()).await?;
    let synced = Arc::new(AtomicBool::new(false));
    let readiness = Arc::new(Readiness::new(synced.clone()));
    readiness.certificate_loaded();
    let inventory = inventory(&settings.cluster, &synced).await?;

    let (stop, stop_rx) = watch::channel(false);
    let state = Arc::new(
        AppState::new(metrics.clone(), inventory, settings.limits)
            .with_cluster_domain(settings.cluster_domain.clone()),
    );
    let app = admission::router(state);

    let tls_listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: settings.listen,
            source,
        })?;
    let tls_addr = tls_listener
        .local_addr()
        .map_err(|source| ServeError::Bind {
            addr: settings.listen,
            source,
        })?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls::server_config(resolver)?));
    let listener = Listener {
        listener: tls_listener,
        acceptor,
        app,
        limits: settings.connections.clone(),
        metrics: metrics.clone(),
    };
    let grace = settings.shutdown_grace;
    let drain = stop_rx.clone();
    let admission = tokio::spawn(async move {
        let mut watch_stop = drain.clone();
        tokio::spawn(async move {
            if watch_stop.wait_for(|s| *s).await.is_ok() {
                tracing::info!(
                    grace_seconds = grace.as_secs(),
                    "stopping: no new connections, draining requests in flight"
                );
            }
        });
        listener.run(drain, grace).await;
    });

    let ops_listener = tokio::net::TcpListener::bind(settings.metrics_listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: settings.metrics_listen,
            source,
        })?;
    let metrics_addr = ops_listener
        .local_addr()
        .map_err(|source| ServeError::Bind {
            addr: settings.metrics_listen,
            source,
        })?;
    let ops_app = ops::router(Arc::new(OpsState {
        metrics: metrics.clone(),
        readiness: readiness.clone(),
    }));
    // The operations port stops only after the admission port drained (see `Running::wait`), so
    // probes and scrapes keep answering during the drain.
    let (ops_stop, ops_stop_rx) = watch::channel(false);
    let ops = tokio::spawn(async move {
        axum::serve(ops_listener, ops_app)
            .with_graceful_shutdown(stopped(ops_stop_rx))
            .await
    });
    let reloader = tokio::spawn(reloader.run(settings.cert_reload_interval, stopped(stop_rx)));
    tracing::info!(%tls_addr, %metrics_addr, "admission webhook listening");
    Ok(Running {
        tls_addr,
        metrics_addr,
        metrics,
        readiness,
        stop,
        ops_stop,
        admission,
        ops,
        reloader,
    })
}
