//! Settings of a running server, separate from the command line so that tests and benchmarks
//! start the same server in-process with their own ports, files and (short) timeouts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::cache::SharedInventory;

/// Largest request body accepted; the API server sends at most a few MiB (its own request limit
/// is 3 MiB, an AdmissionReview carries the object twice on UPDATE).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Bounds on what one request may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    /// Time allowed to receive a whole body once the handler runs (slow senders get 408).
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: MAX_BODY_BYTES,
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// Where the watch cache comes from.
#[derive(Clone)]
pub enum ClusterSource {
    /// No cluster: cross-object checks are skipped (the engine adds a warning).
    None,
    /// A kubeconfig file.
    Kubeconfig(PathBuf),
    /// In-cluster service account, else `$KUBECONFIG` / `~/.kube/config`; none found means
    /// running without a cluster.
    Infer,
    /// An inventory built by the caller (tests and benchmarks: a `MapInventory`, or a
    /// [`WatchCache`](super::cache::WatchCache) over stores they fill themselves).
    Given(Arc<dyn SharedInventory>),
}

impl std::fmt::Debug for ClusterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterSource::None => f.write_str("None"),
            ClusterSource::Kubeconfig(path) => f.debug_tuple("Kubeconfig").field(path).finish(),
            ClusterSource::Infer => f.write_str("Infer"),
            ClusterSource::Given(_) => f.write_str("Given(..)"),
        }
    }
}

/// Everything [`super::server::start`] needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub metrics_listen: SocketAddr,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub cert_reload_interval: Duration,
    /// HTTP/1.1: time to receive a request's headers. hyper also applies it to a keep-alive
    /// connection waiting for its next request, so it doubles as the idle timeout.
    pub header_read_timeout: Duration,
    /// TLS handshake and, after it, the first request on a connection must complete within this.
    pub handshake_timeout: Duration,
    /// How long in-flight requests may run after SIGTERM.
    pub shutdown_grace: Duration,
    pub limits: Limits,
    pub cluster: ClusterSource,
    /// The Kubernetes cluster's DNS domain (`--cluster-domain`).
    pub cluster_domain: String,
}

impl Settings {
    /// Defaults around the given ports and files (what `serve` uses when no flag says otherwise).
    pub fn new(
        listen: SocketAddr,
        metrics_listen: SocketAddr,
        cert_file: PathBuf,
        key_file: PathBuf,
    ) -> Self {
        Settings {
            listen,
            metrics_listen,
            cert_file,
            key_file,
            cert_reload_interval: Duration::from_secs(3),
            header_read_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(20),
            limits: Limits::default(),
            cluster: ClusterSource::None,
            cluster_domain: neo4j_shared::names::DEFAULT_CLUSTER_DOMAIN.to_string(),
        }
    }
}
