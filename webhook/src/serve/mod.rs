//! `neo4j-webhook serve`: the HTTPS admission server. `POST /mutate` and `POST /validate` on
//! the TLS port wrap `neo4j_shared::engine`; `/healthz`, `/readyz` and `/metrics` are on a plain
//! port. The certificate is reloaded from its files when they change; SIGTERM drains.

pub mod admission;
pub mod cache;
pub mod config;
pub mod decode;
pub mod listener;
pub mod metrics;
pub mod ops;
pub mod review;
pub mod server;
pub mod strict;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use tracing_subscriber::EnvFilter;

use config::{ClusterSource, Limits, Settings};
use listener::ConnectionLimits;

/// Log line format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Options of `neo4j-webhook serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address of the admission port (HTTPS: POST /mutate, POST /validate).
    #[arg(long, env = "NEO4J_WEBHOOK_LISTEN", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// PEM certificate chain of the admission port (tls.crt of a cert-manager Secret). Reloaded
    /// when its content changes.
    #[arg(long, env = "NEO4J_WEBHOOK_TLS_CERT_FILE")]
    pub tls_cert_file: PathBuf,
    /// PEM private key matching --tls-cert-file (tls.key of the same Secret).
    #[arg(long, env = "NEO4J_WEBHOOK_TLS_KEY_FILE")]
    pub tls_key_file: PathBuf,
    /// Address of the plain-HTTP port serving /healthz, /readyz and /metrics.
    #[arg(
        long,
        env = "NEO4J_WEBHOOK_METRICS_LISTEN",
        default_value = "0.0.0.0:8080"
    )]
    pub metrics_listen: SocketAddr,
    /// Kubeconfig for the watch cache of clusters and standalones (cross-object checks).
    /// Without it: the in-cluster service account, else $KUBECONFIG or ~/.kube/config, else
    /// no cluster.
    #[arg(long, env = "NEO4J_WEBHOOK_KUBECONFIG", conflicts_with = "no_cluster")]
    pub kubeconfig: Option<PathBuf>,
    /// Run without any cluster connection: cross-object checks are skipped with a warning.
    #[arg(long, env = "NEO4J_WEBHOOK_NO_CLUSTER")]
    pub no_cluster: bool,
    /// DNS domain of the Kubernetes cluster, in which the names the operator derives are
    /// checked (`name-fqdn-length`); the controller's `--cluster-domain` must match.
    #[arg(
        long,
        env = "NEO4J_WEBHOOK_CLUSTER_DOMAIN",
        default_value = neo4j_shared::names::DEFAULT_CLUSTER_DOMAIN,
        value_parser = crate::check::cluster_domain
    )]
    pub cluster_domain: String,
    /// How often the certificate files are compared with the pair in use (e.g. 3s, 500ms).
    #[arg(long, env = "NEO4J_WEBHOOK_CERT_RELOAD_INTERVAL", default_value = "3s", value_parser = parse_duration)]
    pub cert_reload_interval: Duration,
    /// Time a client has to send a request's headers (HTTP/1.1; also closes keep-alive
    /// connections idle that long) and to finish the TLS handshake and then its first request.
    #[arg(long, env = "NEO4J_WEBHOOK_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// Time a client has to send a whole request body; slower senders get 408.
    #[arg(long, env = "NEO4J_WEBHOOK_BODY_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub body_timeout: Duration,
    /// Open connections on the admission port at most (lowered to fit the open-file limit).
    /// At the cap a new connection evicts an idle one (one that never sent a request first),
    /// or is closed when none is idle. An API server multiplexes its reviews on a few HTTP/2
    /// connections (another only past the stream limit of each); each holds about 50 KiB.
    #[arg(long, env = "NEO4J_WEBHOOK_MAX_CONNECTIONS", default_value_t = 128)]
    pub max_connections: usize,
    /// A connection with no request in flight for this long is closed (HTTP/2: GOAWAY).
    #[arg(long, env = "NEO4J_WEBHOOK_IDLE_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Admission requests handled at once; more are answered 503 at once.
    #[arg(long, env = "NEO4J_WEBHOOK_MAX_IN_FLIGHT", default_value_t = 1024)]
    pub max_in_flight: usize,
    /// Request-body bytes held by all requests together (e.g. 24Mi, 64Mi); a request that would
    /// go beyond is answered 503 at once. Keep it well below the container's memory limit.
    #[arg(long, env = "NEO4J_WEBHOOK_MAX_BODY_BYTES_IN_FLIGHT", default_value = "24Mi", value_parser = parse_bytes)]
    pub max_body_bytes_in_flight: usize,
    /// HTTP/2 streams one connection may have open at once.
    #[arg(
        long,
        env = "NEO4J_WEBHOOK_HTTP2_MAX_CONCURRENT_STREAMS",
        default_value_t = 128
    )]
    pub http2_max_concurrent_streams: u32,
    /// HTTP/2 flow-control window of each stream (bytes a client may send on a stream before
    /// the server has read them), e.g. 1Mi; from 64Ki to 2Gi.
    #[arg(long, env = "NEO4J_WEBHOOK_HTTP2_STREAM_WINDOW", default_value = "1Mi", value_parser = parse_window)]
    pub http2_stream_window: u32,
    /// HTTP/2 flow-control window of each connection (all its streams together), e.g. 384Ki:
    /// what a client may have sent on a connection that the server has not read yet. Two cores
    /// decode a few reviews at a time; a larger window only holds more bodies waiting.
    #[arg(long, env = "NEO4J_WEBHOOK_HTTP2_CONNECTION_WINDOW", default_value = "384Ki", value_parser = parse_window)]
    pub http2_connection_window: u32,
    /// Largest request body accepted (e.g. 8Mi); larger ones are answered 413 before they are
    /// read when announced, else as soon as they pass it.
    #[arg(long, env = "NEO4J_WEBHOOK_MAX_BODY_BYTES", default_value = "8Mi", value_parser = parse_bytes)]
    pub max_body_bytes: usize,
    /// How long requests in flight may run after SIGTERM/SIGINT before the process exits.
    #[arg(long, env = "NEO4J_WEBHOOK_SHUTDOWN_GRACE", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Log line format.
    #[arg(long, env = "NEO4J_WEBHOOK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter in RUST_LOG syntax, e.g. `info` or `info,neo4j_webhook=debug`.
    #[arg(long, env = "NEO4J_WEBHOOK_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

/// `64Mi`, `512Ki`, `1Gi`, or a bare number of bytes.
fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let n: usize = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size like 24Mi, 512Ki or 1048576"))?;
    let scale: usize = match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        _ => return Err(format!("{text:?}: unit must be Ki, Mi or Gi")),
    };
    n.checked_mul(scale)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{text:?} is out of range"))
}

/// An HTTP/2 window: a size as [`parse_bytes`] reads it, from 64Ki (the protocol's initial
/// window, less one byte) to 2Gi less one byte (its largest).
fn parse_window(text: &str) -> Result<u32, String> {
    let n = parse_bytes(text)?;
    u32::try_from(n)
        .ok()
        .filter(|n| (65_535..=0x7fff_ffff).contains(n))
        .ok_or_else(|| format!("{text:?}: an HTTP/2 window is from 64Ki to 2Gi"))
}

/// `500ms`, `3s`, `2m`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 500ms, 3s or 2m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        _ => Err(format!("{text:?}: unit must be ms, s or m")),
    }
}

impl Args {
    /// The server settings these options describe.
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::new(
            self.listen,
            self.metrics_listen,
            self.tls_cert_file.clone(),
            self.tls_key_file.clone(),
        );
        settings.cert_reload_interval = self.cert_reload_interval;
        settings.connections = ConnectionLimits {
            max_connections: self.max_connections.max(1),
            idle_timeout: self.idle_timeout,
            handshake_timeout: self.header_read_timeout,
            header_read_timeout: self.header_read_timeout,
            h2_max_concurrent_streams: self.http2_max_concurrent_streams.max(1),
            h2_stream_window: self.http2_stream_window,
            h2_connection_window: self.http2_connection_window,
            close_grace: self.shutdown_grace,
        };
        settings.shutdown_grace = self.shutdown_grace;
        settings.limits = Limits {
            body_timeout: self.body_timeout,
            max_body_bytes: self.max_body_bytes,
            max_in_flight: self.max_in_flight.max(1),
            max_body_bytes_in_flight: self.max_body_bytes_in_flight,
            ..Limits::default()
        };
        settings.cluster_domain = self.cluster_domain.clone();
        settings.cluster = match (&self.kubeconfig, self.no_cluster) {
            (_, true) => ClusterSource::None,
            (Some(path), false) => ClusterSource::Kubeconfig(path.clone()),
            (None, false) => ClusterSource::Infer,
        };
        settings
    }
}

fn init_logging(args: &Args) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&args.log_level)
        .with_context(|| format!("--log-level {:?}", args.log_level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match args.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("installing the logger: {e}"))
}

/// Resolves on SIGTERM (what the kubelet sends) or SIGINT.
async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
    Ok(())
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let running = server::start(args.settings()).await?;
    let mut signal_error = None;
    let signal = async {
        if let Err(e) = shutdown_signal().await {
            signal_error = Some(e);
        }
    };
    running.run_until(signal).await?;
    match signal_error {
        Some(e) => Err(e),
        None => {
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// Threads for blocking work: one decodes large reviews (they go one at a time), the others
/// serve certificate reloads and other file reads.
const BLOCKING_THREADS: usize = 8;

pub fn run(args: Args) -> ExitCode {
    if let Err(e) = init_logging(&args) {
        eprintln!("neo4j-webhook serve: {e:#}");
        return ExitCode::from(2);
    }
    // Parse the settings catalogues now, not on the first admission request.
    neo4j_shared::settings::warm();
    // Blocking threads (large reviews are decoded on one, file reads run on them) are few and
    // leave a second after their last task, so their stacks and allocator caches do not outlive
    // a burst.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .thread_keep_alive(std::time::Duration::from_secs(1))
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "neo4j-webhook serve failed");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("1h").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("24Mi"), Ok(24 << 20));
        assert_eq!(parse_bytes("512Ki"), Ok(512 << 10));
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("1MB").is_err());
        assert!(parse_bytes("Mi").is_err());
        assert_eq!(parse_window("1Mi"), Ok(1 << 20));
        assert!(parse_window("1Ki").is_err());
        assert!(parse_window("2Gi").is_err());
    }

    /// `serve` with no bound given runs with the bounds the library's defaults name (tests and
    /// benches build their settings from those), so the two cannot drift apart.
    #[test]
    fn command_line_bounds_default_to_the_library_defaults() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        let cli = <Cli as clap::Parser>::try_parse_from([
            "serve",
            "--tls-cert-file",
            "tls.crt",
            "--tls-key-file",
            "tls.key",
        ])
        .expect("the required options are given");
        let given = cli.args.settings().connections;
        let library = ConnectionLimits::default();
        assert_eq!(given.max_connections, library.max_connections);
        assert_eq!(given.idle_timeout, library.idle_timeout);
        assert_eq!(given.header_read_timeout, library.header_read_timeout);
        assert_eq!(
            given.h2_max_concurrent_streams,
            library.h2_max_concurrent_streams
        );
        assert_eq!(given.h2_stream_window, library.h2_stream_window);
        assert_eq!(given.h2_connection_window, library.h2_connection_window);
        assert_eq!(
            (given.max_connections, given.h2_connection_window),
            (128, 384 << 10)
        );
    }
}
