//! The bounds on what clients may hold, against the real server on loopback: a cap on
//! connections that idle clients cannot use to lock out a real one, the body size limit, the
//! in-flight request cap and body-byte budget (503 at once, counted), idle connections closed
//! on HTTP/1.1 and HTTP/2, and denials that stay short however many findings they have.
//! Every wait is on a condition with a deadline; no assertion is about time.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use neo4j_shared::types::Kind;
use neo4j_webhook::serve::admission::{DENIAL_LINE_MAX_CHARS, MAX_FINDINGS_LISTED};
use neo4j_webhook::serve::config::Settings;
use neo4j_webhook::serve::metrics::{Metrics, ReasonLabels};
use neo4j_webhook::serve::server::{self, Running};
use serde_json::{Map, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::client::TlsStream;

type Stream = TlsStream<tokio::net::TcpStream>;

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A server with a fresh CA (in `temp_dir(name)`), tuned by `tune`.
async fn start(
    name: &str,
    tune: impl FnOnce(&mut Settings),
) -> (TestPki, std::path::PathBuf, Running) {
    let pki = TestPki::new("bounds CA");
    let dir = temp_dir(name);
    let (cert, key) = write_secret_volume(&dir, "a", &pki.leaf(1));
    let mut settings = Settings::new(loopback(), loopback(), cert, key);
    tune(&mut settings);
    let running = server::start(settings).await.expect("server starts");
    (pki, dir, running)
}

async fn stop(running: Running, dir: std::path::PathBuf) {
    running.shutdown();
    running.wait().await.expect("clean stop");
    let _ = std::fs::remove_dir_all(dir);
}

async fn tls(addr: SocketAddr, pki: &TestPki, alpn: &[u8]) -> Stream {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tokio_rustls::TlsConnector::from(client_config(&[pki.ca_der()], &[alpn]))
        .connect(
            rustls::pki_types::ServerName::try_from("localhost").expect("name"),
            tcp,
        )
        .await
        .expect("handshake")
}

/// A valid review padded with trailing whitespace to at least `len` bytes.
fn padded_review(len: usize) -> Bytes {
    let mut text = valid_review("uid-padded").to_string();
    let pad = len.saturating_sub(text.len());
    text.extend(std::iter::repeat_n(' ', pad));
    Bytes::from(text)
}

fn dropped(metrics: &Metrics, reason: &'static str) -> u64 {
    metrics
        .connections_dropped
        .get_or_create(&ReasonLabels { reason })
        .get()
}

fn overloaded(metrics: &Metrics, reason: &'static str) -> u64 {
    metrics
        .overload
        .get_or_create(&ReasonLabels { reason })
        .get()
}

/// Posts a valid review on a new connection; its HTTP status and whether it was allowed.
async fn post_valid(addr: SocketAddr, pki: &TestPki, alpn: &[u8]) -> (u16, bool) {
    let mut client = Client::connect(addr, client_config(&[pki.ca_der()], &[alpn]))
        .await
        .expect("connect");
    let (status, body) = client
        .post(
            "/validate",
            Bytes::from(valid_review("uid-valid").to_string()),
        )
        .await
        .expect("request");
    (status.as_u16(), allowed(&body))
}

async fn read_some(stream: &mut Stream, what: &str) -> String {
    let mut buf = vec![0u8; 16 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer in time"))
        .expect("read");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn idle_connections_beyond_the_cap_do_not_lock_out_a_valid_review() {
    const CAP: usize = 8;
    let (pki, dir, running) = start("bounds-idle-cap", |s| {
        s.connections.max_connections = CAP;
        // Only evictions close these connections, however slow the machine is.
        s.connections.handshake_timeout = Duration::from_secs(120);
    })
    .await;
    let addr = running.tls_addr;
    // Silent TCP connections (never a handshake) and TLS connections that never send a request,
    // five times the cap in all.
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(tokio::net::TcpStream::connect(addr).await.expect("connect"));
    }
    let mut idle = Vec::new();
    for _ in 0..20 {
        // A handshake may fail when the connection is evicted before it completes; either way
        // the connection is open or gone, never served.
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let connector = tokio_rustls::TlsConnector::from(client_config(&[pki.ca_der()], &[b"h2"]));
        if let Ok(Ok(stream)) = tokio::time::timeout(
            Duration::from_secs(5),
            connector.connect(
                rustls::pki_types::ServerName::try_from("localhost").expect("name"),
                tcp,
            ),
        )
        .await
        {
            idle.push(stream);
        }
    }
    for alpn in [b"http/1.1".as_slice(), b"h2"] {
        let (status, allowed) = post_valid(addr, &pki, alpn).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(alpn));
        assert!(allowed, "{}", String::from_utf8_lossy(alpn));
    }
    let metrics = running.metrics.clone();
    eventually(
        "the open connections to come down to the cap",
        // Generous: evicted connections' tasks close on a loaded machine's schedule.
        Duration::from_secs(30),
        || {
            let open = metrics.connections.get();
            async move { usize::try_from(open).is_ok_and(|n| n <= CAP) }
        },
    )
    .await;
    assert!(
        dropped(&metrics, "evicted-idle") >= 40 - CAP as u64,
        "evicted: {}",
        dropped(&metrics, "evicted-idle")
    );
    drop((silent, idle));
    stop(running, dir).await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let (pki, dir, running) = start("bounds-413", |s| s.limits.max_body_bytes = 64 * 1024).await;
    for alpn in [b"http/1.1".as_slice(), b"h2"] {
        let mut client = Client::connect(running.tls_addr, client_config(&[pki.ca_der()], &[alpn]))
            .await
            .expect("connect");
        let (status, body) = client
            .post("/validate", padded_review(100 * 1024))
            .await
            .expect("request");
        assert_eq!(status.as_u16(), 413, "{}", String::from_utf8_lossy(alpn));
        assert!(
            String::from_utf8_lossy(&body).starts_with("body-too-large: "),
            "{}",
            String::from_utf8_lossy(&body)
        );
        // Under the limit, the same review is answered (on a new connection: HTTP/1.1 closes
        // one whose announced body was not read).
        let mut client = Client::connect(running.tls_addr, client_config(&[pki.ca_der()], &[alpn]))
            .await
            .expect("connect");
        let (status, _) = client
            .post("/validate", padded_review(32 * 1024))
            .await
            .expect("request");
        assert_eq!(status.as_u16(), 200, "{}", String::from_utf8_lossy(alpn));
    }
    stop(running, dir).await;
}

#[tokio::test]
async fn bodies_beyond_the_in_flight_budget_get_503_and_small_reviews_still_pass() {
    const BUDGET: usize = 64 * 1024;
    let (pki, dir, running) = start("bounds-budget", |s| {
        s.limits.max_body_bytes_in_flight = BUDGET
    })
    .await;
    let addr = running.tls_addr;
    let metrics = running.metrics.clone();
    // One request announces 60 KiB and sends 50 KiB of it, then stalls: its bytes are held.
    let mut holder = tls(addr, &pki, b"http/1.1").await;
    let held = padded_review(60 * 1024);
    holder
        .write_all(post_head(held.len(), "").as_bytes())
        .await
        .expect("head");
    holder.write_all(&held[..50 * 1024]).await.expect("body");
    holder.flush().await.expect("flush");
    eventually(
        "the stalled body to be held",
        Duration::from_secs(10),
        || {
            let bytes = metrics.body_bytes_in_flight.get();
            async move { bytes >= 50 * 1024 }
        },
    )
    .await;
    // A 20 KiB review does not fit next to it.
    let mut client = Client::connect(addr, client_config(&[pki.ca_der()], &[b"h2"]))
        .await
        .expect("connect");
    let (status, body) = client
        .post("/validate", padded_review(20 * 1024))
        .await
        .expect("request");
    assert_eq!(status.as_u16(), 503, "{}", String::from_utf8_lossy(&body));
    assert!(
        String::from_utf8_lossy(&body).contains("body-budget"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(overloaded(&metrics, "body-budget"), 1);
    // A small one does.
    let (status, allowed) = post_valid(addr, &pki, b"h2").await;
    assert_eq!((status, allowed), (200, true));
    // The stalled request completes and gives its bytes back.
    holder.write_all(&held[50 * 1024..]).await.expect("rest");
    holder.flush().await.expect("flush");
    let answer = read_some(&mut holder, "the stalled request").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    eventually("the budget to be returned", Duration::from_secs(10), || {
        let bytes = metrics.body_bytes_in_flight.get();
        async move { bytes == 0 }
    })
    .await;
    stop(running, dir).await;
}

#[tokio::test]
async fn requests_beyond_the_in_flight_cap_get_503_at_once() {
    let (pki, dir, running) = start("bounds-in-flight", |s| s.limits.max_in_flight = 1).await;
    let addr = running.tls_addr;
    let body = Bytes::from(valid_review("uid-held").to_string());
    // `Expect: 100-continue`: the 100 says the handler is reading the body, so it is in flight.
    let mut holder = tls(addr, &pki, b"http/1.1").await;
    holder
        .write_all(post_head(body.len(), "Expect: 100-continue\r\n").as_bytes())
        .await
        .expect("head");
    holder.flush().await.expect("flush");
    let continued = read_some(&mut holder, "100-continue").await;
    assert!(continued.starts_with("HTTP/1.1 100"), "{continued}");
    let (status, allowed) = post_valid(addr, &pki, b"http/1.1").await;
    assert_eq!((status, allowed), (503, false));
    assert_eq!(overloaded(&running.metrics, "in-flight-limit"), 1);
    holder.write_all(&body).await.expect("body");
    holder.flush().await.expect("flush");
    let answer = read_some(&mut holder, "the held request").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let metrics = running.metrics.clone();
    eventually("the held request to leave", Duration::from_secs(10), || {
        let n = metrics.in_flight.get();
        async move { n == 0 }
    })
    .await;
    assert_eq!(post_valid(addr, &pki, b"http/1.1").await, (200, true));
    stop(running, dir).await;
}

#[tokio::test]
async fn an_idle_http1_keep_alive_connection_is_closed() {
    let (pki, dir, running) = start("bounds-idle-h1", |s| {
        s.connections.idle_timeout = Duration::from_millis(300)
    })
    .await;
    let mut stream = tls(running.tls_addr, &pki, b"http/1.1").await;
    let body = valid_review("uid-keepalive").to_string();
    stream
        .write_all(format!("{}{body}", post_head(body.len(), "")).as_bytes())
        .await
        .expect("request");
    stream.flush().await.expect("flush");
    let mut seen = Vec::new();
    // The answer, then the end of the stream: the server closed the connection.
    let closed = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut seen)).await;
    let seen = String::from_utf8_lossy(&seen);
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(closed.is_ok(), "the idle connection was not closed");
    let metrics = running.metrics.clone();
    eventually(
        "the idle close to be counted",
        Duration::from_secs(5),
        || {
            let n = dropped(&metrics, "idle-timeout");
            async move { n >= 1 }
        },
    )
    .await;
    stop(running, dir).await;
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    let (pki, dir, running) = start("bounds-idle-h2", |s| {
        s.connections.idle_timeout = Duration::from_millis(300)
    })
    .await;
    let stream = tls(running.tls_addr, &pki, b"h2").await;
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await
    .expect("h2 handshake");
    let connection = tokio::spawn(connection);
    let request = hyper::Request::builder()
        .method("POST")
        .uri("https://localhost/validate")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(valid_review("uid-h2").to_string())))
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status().as_u16(), 200);
    let _ = response.into_body().collect().await.expect("body");
    // The server sends GOAWAY and closes; the client's connection task ends.
    let ended = tokio::time::timeout(Duration::from_secs(10), connection).await;
    assert!(ended.is_ok(), "the idle HTTP/2 connection was not closed");
    assert!(dropped(&running.metrics, "idle-timeout") >= 1);
    stop(running, dir).await;
}

#[tokio::test]
async fn a_denial_lists_at_most_the_cap_of_findings_and_cuts_long_lines() {
    let state = state();
    // Each entry holds a newline (a finding each); one key, listed first, is very long.
    let mut config = Map::new();
    for i in 0..(MAX_FINDINGS_LISTED + 30) {
        config.insert(format!("server.custom.key{i:03}"), json!("a\nb"));
    }
    config.insert(format!("server.a{}", "k".repeat(5000)), json!("a\nb"));
    let object = object(Kind::Cluster, "graph", json!({"config": config}));
    let response = admit(&state, "/validate", "uid-many", "CREATE", &object, None).await;
    assert_eq!(response["allowed"], false);
    let message = response["status"]["message"].as_str().expect("message");
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), MAX_FINDINGS_LISTED + 1, "{message}");
    let last = lines.last().expect("a last line");
    assert!(last.contains("more violations"), "{last}");
    assert!(
        lines
            .iter()
            .all(|l| l.chars().count() <= DENIAL_LINE_MAX_CHARS),
        "a line is longer than {DENIAL_LINE_MAX_CHARS} chars"
    );
    assert!(message.len() < 64 * 1024, "{} bytes", message.len());
}

#[tokio::test]
async fn a_review_over_the_inline_size_is_answered_like_the_same_review_small() {
    let state = state();
    let inline = state.limits.inline_body_max;
    for path in ["/mutate", "/validate"] {
        let object = object(Kind::Cluster, "graph", json!({"topology": {"servers": 1}}));
        let small = review("uid-large", "CREATE", &object, None).to_string();
        // The same review with trailing whitespace past the size decoded on the connection's
        // own task: it goes through the separate thread for large reviews.
        let mut large = small.clone();
        large.extend(std::iter::repeat_n(' ', inline + 1));
        let mut answers = Vec::new();
        for body in [small, large] {
            let answer = call(
                neo4j_webhook::serve::admission::router(state.clone()),
                "POST",
                path,
                Some("application/json"),
                axum::body::Body::from(body),
            )
            .await;
            answers.push((answer.status, answer.text()));
        }
        assert_eq!(answers[0], answers[1], "{path}");
        assert_eq!(answers[0].0.as_u16(), 200, "{path}: {}", answers[0].1);
    }
}
