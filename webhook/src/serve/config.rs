//! Settings of a running server, separate from the command line so that tests and benchmarks
//! start the same server in-process with their own ports, files and (short) timeouts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::cache::SharedInventory;
use super::listener::ConnectionLimits;

/// Largest request body accepted; the API server sends at most a few MiB (its own request limit
/// is 3 MiB, an AdmissionReview carries the object twice on UPDATE).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// JSON values (map entries and list items) one review may hold. A legitimate review holds a
/// few hundred to a few thousand; the bound keeps a review of a hundred thousand tiny values
/// from growing a decoded tree a hundred times the size of its body.
pub const MAX_REVIEW_VALUES: usize = 50_000;

/// Bounds on what requests may cost, one by one and all together.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    /// Time allowed to receive a whole body once the handler runs (slow senders get 408).
    pub body_timeout: Duration,
    /// JSON values one review may hold (beyond: 413 `too-many-values`).
    pub max_review_values: usize,
    /// Requests handled at once; more are answered 503 at once.
    pub max_in_flight: usize,
    /// Request-body bytes held by all requests together; a request that would go beyond is
    /// answered 503 at once. An eighth of it is kept for bodies up to `inline_body_max`, so
    /// large bodies cannot starve small reviews.
    pub max_body_bytes_in_flight: usize,
    /// Bodies up to this size are decoded on the connection's own task; larger ones one at a
    /// time on a separate thread, so a few large reviews cannot stall every small one.
    pub inline_body_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: MAX_BODY_BYTES,
            body_timeout: Duration::from_secs(10),
            max_review_values: MAX_REVIEW_VALUES,
            max_in_flight: 1024,
            max_body_bytes_in_flight: 24 * 1024 * 1024,
            inline_body_max: 256 * 1024,
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
    /// Connections of the admission port: caps, timeouts, HTTP/2 limits.
    pub connections: ConnectionLimits,
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
            connections: ConnectionLimits::default(),
            shutdown_grace: Duration::from_secs(20),
            limits: Limits::default(),
            cluster: ClusterSource::None,
            cluster_domain: neo4j_shared::names::DEFAULT_CLUSTER_DOMAIN.to_string(),
        }
    }
}
