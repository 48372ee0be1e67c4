//! The admission port's connections: accept, TLS, HTTP/1.1 or HTTP/2 by ALPN, and the bounds on
//! what connections may hold.
//!
//! - At most `max_connections` are open. At the cap, a new connection evicts an idle one (no
//!   request in flight): first one that never sent a request (a silent or slowloris client), the
//!   oldest first; else the one idle longest. With none idle, the new connection is closed at
//!   once. So a flood of idle connections cannot lock out the API server, whose connections
//!   carry requests, and the process never runs out of file descriptors (the cap is kept below
//!   the soft `RLIMIT_NOFILE`).
//! - A connection that has not sent a request within `first_request_timeout` of being accepted,
//!   or has had none in flight for `idle_timeout`, is closed (HTTP/2: GOAWAY first).
//! - HTTP/2 streams per connection, flow-control windows and send buffers are bounded; HTTP/1.1
//!   read buffers are bounded (they do not grow with the largest body seen).
//! - On shutdown, no new connections; every connection is asked to finish (GOAWAY /
//!   `Connection: close`) and is closed when the grace period ends.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::metrics::Metrics;

/// Bounds and timeouts of the admission port's connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Open connections at most (see the module docs for what happens at the cap).
    pub max_connections: usize,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout: Duration,
    /// TLS handshake, and then the first request, each within this.
    pub handshake_timeout: Duration,
    /// HTTP/1.1: time to send a request's headers (hyper also applies it while a keep-alive
    /// connection waits for its next request).
    pub header_read_timeout: Duration,
    /// HTTP/2 streams a connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
    pub h2_max_concurrent_streams: u32,
    /// HTTP/2 flow-control window of each stream, bytes.
    pub h2_stream_window: u32,
    /// HTTP/2 flow-control window of each connection, bytes.
    pub h2_connection_window: u32,
    /// After asking a connection to close (eviction, idle, shutdown), how long it may take to
    /// finish what is in flight before it is dropped.
    pub close_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 128,
            idle_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            h2_max_concurrent_streams: 128,
            h2_stream_window: 1 << 20,
            h2_connection_window: 384 << 10,
            close_grace: Duration::from_secs(10),
        }
    }
}

/// HTTP/1.1 read buffer bound: headers and one read of body at most this large.
const H1_MAX_BUF: usize = 64 * 1024;
/// HTTP/2 bytes buffered for sending per stream (answers are a few KiB).
const H2_MAX_SEND_BUF: usize = 64 * 1024;
/// File descriptors left for everything but admission connections (listeners, the operations
/// port, the cluster client, certificate reads, the runtime).
const FD_RESERVE: u64 = 64;

/// `max_connections`, lowered to fit the process's soft open-file limit.
pub fn effective_max_connections(requested: usize) -> usize {
    match soft_nofile_limit() {
        Some(limit) => {
            let fit =
                usize::try_from(limit.saturating_sub(FD_RESERVE).max(1)).unwrap_or(usize::MAX);
            requested.min(fit)
        }
        None => requested,
    }
}

/// The soft `RLIMIT_NOFILE` of this process, from `/proc/self/limits`.
fn soft_nofile_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// One open connection, as the table and the eviction see it.
#[derive(Debug)]
struct Conn {
    id: u64,
    accepted: Instant,
    /// Milliseconds after `accepted` of the last request start or end.
    last_active_ms: AtomicU64,
    in_flight: AtomicUsize,
    /// Has sent at least one request.
    served: AtomicBool,
    /// Told to close.
    evict: Notify,
}

impl Conn {
    fn touch(&self) {
        let ms = u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_active_ms.store(ms, Ordering::Relaxed);
    }

    fn last_active(&self) -> Instant {
        self.accepted + Duration::from_millis(self.last_active_ms.load(Ordering::Relaxed))
    }

    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }
}

/// Every open connection.
#[derive(Debug, Default)]
struct Table {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    /// Signalled whenever a connection leaves.
    left: Notify,
}

impl Table {
    fn len(&self) -> usize {
        self.conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn insert(&self) -> Arc<Conn> {
        let now = Instant::now();
        let conn = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            accepted: now,
            last_active_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            evict: Notify::new(),
        });
        self.conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(conn.id, conn.clone());
        conn
    }

    fn remove(&self, id: u64) {
        self.conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        self.left.notify_waiters();
    }

    /// Tells the best idle connection to close (see the module docs); false when none is idle.
    /// The chosen one leaves the table now, so it is not chosen twice.
    fn evict_one(&self) -> bool {
        let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        let victim = conns
            .values()
            .filter(|c| c.idle())
            .min_by_key(|c| (c.served.load(Ordering::Relaxed), c.last_active()))
            .map(|c| c.id);
        match victim.and_then(|id| conns.remove(&id)) {
            Some(conn) => {
                conn.evict.notify_one();
                true
            }
            None => false,
        }
    }

    fn evict_all(&self) {
        for conn in self
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            conn.evict.notify_one();
        }
    }
}

/// The accept loop and everything it shares with its connections.
pub struct Listener {
    pub listener: TcpListener,
    pub acceptor: TlsAcceptor,
    pub app: Router,
    pub limits: ConnectionLimits,
    pub metrics: Arc<Metrics>,
}

/// Counts the connection in the gauge and the table while it lives.
struct Registration {
    table: Arc<Table>,
    metrics: Arc<Metrics>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.table.remove(self.id);
        self.metrics.connections.dec();
    }
}

/// Marks a request in flight on its connection.
struct InFlight(Arc<Conn>);

impl InFlight {
    fn enter(conn: &Arc<Conn>) -> Self {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        conn.served.store(true, Ordering::Relaxed);
        conn.touch();
        InFlight(conn.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

fn out_of_resources(e: &std::io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM.
    matches!(e.raw_os_error(), Some(24 | 23 | 105 | 12))
}

impl Listener {
    /// Accepts until `stop` turns true, then drains: every connection is asked to finish, and
    /// the call returns when all are gone or `grace` has passed.
    pub async fn run(self, mut stop: watch::Receiver<bool>, grace: Duration) {
        let table = Arc::new(Table::default());
        let max = effective_max_connections(self.limits.max_connections);
        tracing::info!(
            max_connections = max,
            max_concurrent_streams = self.limits.h2_max_concurrent_streams,
            "admission port accepting connections"
        );
        let shared = Arc::new(Shared {
            acceptor: self.acceptor,
            app: self.app,
            limits: self.limits,
            metrics: self.metrics.clone(),
            table: table.clone(),
            stop: stop.clone(),
        });
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                _ = stop.wait_for(|s| *s) => break,
            };
            let (tcp, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    self.metrics.connection_dropped("accept-error");
                    if out_of_resources(&e) {
                        // Make room, then give the process a moment before the next accept.
                        if table.evict_one() {
                            self.metrics.connection_dropped("evicted-idle");
                        }
                        tracing::warn!(error = %e, "accepting a connection failed: out of resources");
                    } else {
                        tracing::debug!(error = %e, "accepting a connection failed");
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            if table.len() >= max {
                if table.evict_one() {
                    self.metrics.connection_dropped("evicted-idle");
                } else {
                    self.metrics.connection_dropped("over-limit");
                    tracing::debug!(%peer, "connection refused: at --max-connections with none idle");
                    drop(tcp);
                    continue;
                }
            }
            let _ = tcp.set_nodelay(true);
            let conn = table.insert();
            self.metrics.connections.inc();
            let registration = Registration {
                table: table.clone(),
                metrics: self.metrics.clone(),
                id: conn.id,
            };
            tokio::spawn(shared.clone().serve(tcp, conn, registration));
        }
        // Drain.
        table.evict_all();
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let left = table.left.notified();
            if table.len() == 0 {
                break;
            }
            if tokio::time::timeout_at(deadline, left).await.is_err() {
                tracing::warn!(
                    open = table.len(),
                    "grace period over: closing the remaining connections"
                );
                break;
            }
        }
    }
}

struct Shared {
    acceptor: TlsAcceptor,
    app: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    table: Arc<Table>,
    stop: watch::Receiver<bool>,
}

/// Why a connection stops waiting.
enum Wake {
    Done,
    Evicted,
    Stop,
    Timer,
}

impl Shared {
    async fn serve(self: Arc<Self>, tcp: TcpStream, conn: Arc<Conn>, registration: Registration) {
        let _registration = registration;
        let mut stop = self.stop.clone();
        let handshake =
            tokio::time::timeout(self.limits.handshake_timeout, self.acceptor.accept(tcp));
        let tls = tokio::select! {
            tls = handshake => match tls {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    self.metrics.connection_dropped("handshake");
                    tracing::debug!(error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    self.metrics.connection_dropped("handshake");
                    tracing::debug!("TLS handshake timed out");
                    return;
                }
            },
            () = conn.evict.notified() => return,
            _ = stop.wait_for(|s| *s) => return,
        };
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        let app = self.app.clone();
        let tracked = conn.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = InFlight::enter(&tracked);
            let app = app.clone();
            async move {
                let response = app.oneshot(request).await;
                drop(in_flight);
                response
            }
        });
        let io = TokioIo::new(tls);
        if h2 {
            let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
            builder
                .timer(TokioTimer::new())
                .max_concurrent_streams(self.limits.h2_max_concurrent_streams)
                .initial_stream_window_size(self.limits.h2_stream_window)
                .initial_connection_window_size(self.limits.h2_connection_window)
                .max_send_buf_size(H2_MAX_SEND_BUF)
                .max_pending_accept_reset_streams(Some(20));
            let connection = builder.serve_connection(io, service);
            self.drive(connection, &conn, &mut stop).await;
        } else {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .keep_alive(true)
                .header_read_timeout(Some(self.limits.header_read_timeout))
                .max_buf_size(H1_MAX_BUF);
            let connection = builder.serve_connection(io, service);
            self.drive(connection, &conn, &mut stop).await;
        }
    }

    /// How long `conn` may go without a request: until its first one, the handshake timeout.
    fn idle_limit(&self, conn: &Conn) -> Duration {
        if conn.served.load(Ordering::Relaxed) {
            self.limits.idle_timeout
        } else {
            self.limits.handshake_timeout
        }
    }

    /// Runs a connection until it ends, closing it when idle too long, evicted or stopping.
    async fn drive<C: GracefulConnection>(
        &self,
        connection: C,
        conn: &Conn,
        stop: &mut watch::Receiver<bool>,
    ) {
        let mut connection = pin!(connection);
        let mut closing: Option<tokio::time::Instant> = None;
        loop {
            let limit = self.idle_limit(conn);
            // Looked at again at least every `idle_timeout`: a first request shortens the limit
            // from the handshake timeout to the idle timeout without waking this loop.
            let recheck = Instant::now() + self.limits.idle_timeout;
            let idle_deadline = tokio::time::Instant::from_std(if conn.idle() {
                (conn.last_active() + limit).min(recheck)
            } else {
                recheck
            });
            let wake = tokio::select! {
                _ = connection.as_mut() => Wake::Done,
                () = conn.evict.notified(), if closing.is_none() => Wake::Evicted,
                _ = stop.wait_for(|s| *s), if closing.is_none() => Wake::Stop,
                () = tokio::time::sleep_until(closing.unwrap_or(idle_deadline)) => Wake::Timer,
            };
            match wake {
                Wake::Done => return,
                Wake::Evicted | Wake::Stop => {
                    connection.as_mut().shutdown();
                    closing = Some(tokio::time::Instant::now() + self.limits.close_grace);
                }
                Wake::Timer => {
                    if closing.is_some() {
                        return;
                    }
                    if conn.idle() && conn.last_active().elapsed() >= self.idle_limit(conn) {
                        self.metrics.connection_dropped("idle-timeout");
                        self.table.remove(conn.id);
                        connection.as_mut().shutdown();
                        closing = Some(tokio::time::Instant::now() + self.limits.close_grace);
                    }
                }
            }
        }
    }
}

/// The two hyper connection types, as [`Shared::drive`] needs them.
trait GracefulConnection: Future {
    fn shutdown(self: std::pin::Pin<&mut Self>);
}

impl<I, S, E> GracefulConnection for hyper::server::conn::http2::Connection<I, S, E>
where
    Self: Future,
    S: hyper::service::HttpService<Incoming>,
    S::ResBody: hyper::body::Body + 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, S::ResBody>,
{
    fn shutdown(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

impl<I, S> GracefulConnection for hyper::server::conn::http1::Connection<I, S>
where
    Self: Future,
    S: hyper::service::HttpService<Incoming>,
    S::ResBody: hyper::body::Body + 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
{
    fn shutdown(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_fits_the_open_file_limit() {
        let limit = soft_nofile_limit().expect("Linux has /proc/self/limits");
        let fit = usize::try_from(limit.saturating_sub(FD_RESERVE).max(1)).unwrap_or(usize::MAX);
        assert_eq!(effective_max_connections(usize::MAX), fit);
        assert_eq!(effective_max_connections(1), 1);
    }
}
