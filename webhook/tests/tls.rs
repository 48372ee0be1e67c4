//! The real server on ephemeral loopback ports with a CA generated at test time: TLS, ALPN,
//! trust, certificate rotation through a Kubernetes-style `..data` symlink swap, slow clients
//! and graceful shutdown.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use hyper::body::Bytes;
use neo4j_shared::types::Kind;
use neo4j_webhook::serve::config::Settings;
use neo4j_webhook::serve::server::{self, Running};
use neo4j_webhook::serve::tls;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn start(
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    tune: impl FnOnce(&mut Settings),
) -> Running {
    let mut settings = Settings::new(loopback(), loopback(), cert, key);
    settings.cert_reload_interval = Duration::from_millis(100);
    tune(&mut settings);
    server::start(settings).await.expect("server starts")
}

/// A server on a fresh CA's leaf `serial` (secret volume stamp `a`, in `temp_dir(name)`).
async fn start_with_leaf(
    name: &str,
    serial: u64,
    tune: impl FnOnce(&mut Settings),
) -> (TestPki, std::path::PathBuf, Running) {
    let pki = TestPki::new("test CA");
    let dir = temp_dir(name);
    let (cert, key) = write_secret_volume(&dir, "a", &pki.leaf(serial));
    let running = start(cert, key, tune).await;
    (pki, dir, running)
}

/// Stops the server cleanly and removes its directory.
async fn stop_server(running: Running, dir: std::path::PathBuf) {
    running.shutdown();
    running.wait().await.expect("clean stop");
    let _ = std::fs::remove_dir_all(dir);
}

/// Writes `bytes` (`what` in the panic) and flushes.
async fn send(stream: &mut (impl AsyncWriteExt + Unpin), bytes: &[u8], what: &str) {
    stream.write_all(bytes).await.expect(what);
    stream.flush().await.expect("flush");
}

/// One `read` that must answer within 5 s (`what` in the panic otherwise); the bytes read.
async fn read_within_5s(
    stream: &mut (impl AsyncReadExt + Unpin),
    buf: &mut [u8],
    what: &str,
) -> usize {
    tokio::time::timeout(Duration::from_secs(5), stream.read(buf))
        .await
        .expect(what)
        .expect("read")
}

fn denied_review() -> Bytes {
    let object = object(Kind::Cluster, "graph", json!({"topology": {"servers": 1}}));
    Bytes::from(review("uid-tls", "CREATE", &object, None).to_string())
}

/// The HTTP status of `denied_review()` posted to `/validate` on `client`.
async fn validate_status(client: &mut Client) -> hyper::StatusCode {
    client
        .post("/validate", denied_review())
        .await
        .expect("request")
        .0
}

async fn get_plain(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .expect("write");
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.expect("read");
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn serves_reviews_over_tls_to_a_client_that_trusts_the_ca() {
    let pki = TestPki::new("test CA");
    let leaf = pki.leaf(1);
    let dir = temp_dir("serve");
    let (cert, key) = write_secret_volume(&dir, "2026_01_01", &leaf);
    let running = start(cert, key, |_| {}).await;

    for alpn in [&b"http/1.1"[..], &b"h2"[..]] {
        let mut client = Client::connect(running.tls_addr, client_config(&[pki.ca_der()], &[alpn]))
            .await
            .expect("handshake");
        assert_eq!(client.alpn.as_deref(), Some(alpn));
        assert_eq!(client.serial, leaf.serial);
        let (status, body) = client
            .post("/validate", denied_review())
            .await
            .expect("request");
        assert_eq!(status, 200);
        let response: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(response["response"]["uid"], "uid-tls");
        assert_eq!(response["response"]["allowed"], false);
        assert!(denial_rules(&response["response"]).contains(&"cluster-min-servers".to_string()));
        // Keep-alive: a second request on the same connection.
        let (status, _) = client
            .post("/mutate", denied_review())
            .await
            .expect("second request");
        assert_eq!(status, 200);
    }

    assert_eq!(get_plain(running.metrics_addr, "/healthz").await.0, 200);
    assert_eq!(get_plain(running.metrics_addr, "/readyz").await.0, 200);
    let (status, metrics) = get_plain(running.metrics_addr, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(
        metric(
            &metrics,
            "neo4j_webhook_certificate_expiry_timestamp_seconds"
        ),
        Some(leaf.not_after as f64)
    );
    assert!(metrics.contains("webhook=\"validate\",kind=\"Neo4jEnterpriseCluster\",operation=\"CREATE\",result=\"denied\"} 2"), "{metrics}");

    stop_server(running, dir).await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_fails_the_handshake() {
    let (_pki, dir, running) = start_with_leaf("untrusted", 7, |_| {}).await;
    let stranger = TestPki::new("another CA");
    let result = Client::connect(
        running.tls_addr,
        client_config(&[stranger.ca_der()], &[b"http/1.1"]),
    )
    .await;
    let error = result.err().expect("the handshake must fail").to_string();
    assert!(
        error.contains("invalid peer certificate") || error.contains("UnknownIssuer"),
        "{error}"
    );
    stop_server(running, dir).await;
}

#[tokio::test]
async fn speaks_tls_1_2_and_1_3_only() {
    let (pki, dir, running) = start_with_leaf("versions", 3, |_| {}).await;
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca_der()).expect("root");
        let config = rustls::ClientConfig::builder_with_provider(tls::provider())
            .with_protocol_versions(&[version])
            .expect("version")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut client = Client::connect(running.tls_addr, Arc::new(config))
            .await
            .expect("handshake");
        assert_eq!(validate_status(&mut client).await, 200);
    }
    stop_server(running, dir).await;
}

#[tokio::test]
async fn rotation_by_symlink_swap_reaches_new_handshakes_without_a_failed_request() {
    let pki = TestPki::new("test CA");
    let (old, new) = (pki.leaf(100), pki.leaf(200));
    let dir = temp_dir("rotate");
    let (cert, key) = write_secret_volume(&dir, "2026_01_01_00_00_00.1", &old);
    let running = start(cert, key, |_| {}).await;
    let config = client_config(&[pki.ca_der()], &[b"http/1.1"]);

    // A client loop: every request on a NEW connection, so every one is a new handshake.
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let seen: Arc<std::sync::Mutex<Vec<Vec<u8>>>> = Arc::default();
    let loop_task = {
        let (stop, failures, seen, config, addr) = (
            stop.clone(),
            failures.clone(),
            seen.clone(),
            config.clone(),
            running.tls_addr,
        );
        tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Acquire) && n < 20_000 {
                n += 1;
                match Client::connect(addr, config.clone()).await {
                    Ok(mut c) => {
                        let ok = matches!(c.post("/validate", denied_review()).await, Ok((status, _)) if status == 200);
                        if !ok {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                        seen.lock().expect("lock").push(c.serial);
                    }
                    Err(_) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let count = |serial: &Vec<u8>| {
        seen.lock()
            .expect("lock")
            .iter()
            .filter(|s| *s == serial)
            .count()
    };
    eventually(
        "requests with the old certificate",
        Duration::from_secs(10),
        || async { count(&old.serial) >= 5 },
    )
    .await;

    write_secret_volume(&dir, "2026_02_01_00_00_00.2", &new);
    eventually(
        "a handshake presenting the new certificate",
        Duration::from_secs(10),
        || async { count(&new.serial) >= 1 },
    )
    .await;
    let after_swap = seen.lock().expect("lock").len();
    eventually(
        "more requests after the swap",
        Duration::from_secs(10),
        || async { seen.lock().expect("lock").len() >= after_swap + 20 },
    )
    .await;
    stop.store(true, Ordering::Release);
    loop_task.await.expect("client loop");

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "no request may fail during rotation"
    );
    // Once the new certificate is served, no handshake gets the old one again.
    let first_new = seen
        .iter()
        .position(|s| *s == new.serial)
        .expect("new seen");
    assert!(
        seen[first_new..].iter().all(|s| *s == new.serial),
        "old certificate after the swap"
    );
    assert!(seen.iter().all(|s| *s == old.serial || *s == new.serial));
    let metrics = running.metrics.encode();
    assert_eq!(
        metric(
            &metrics,
            "neo4j_webhook_certificate_reloads_total{result=\"success\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            "neo4j_webhook_certificate_reloads_total{result=\"error\"}"
        ),
        Some(0.0),
        "{metrics}"
    );
    stop_server(running, dir).await;
}

#[tokio::test]
async fn a_bad_new_pair_is_refused_and_the_old_one_stays() {
    let pki = TestPki::new("test CA");
    let (good, other, third) = (pki.leaf(1), pki.leaf(2), pki.leaf(3));
    let dir = temp_dir("refuse");
    let (cert, key) = write_secret_volume(&dir, "a", &good);
    let running = start(cert, key, |_| {}).await;
    let config = client_config(&[pki.ca_der()], &[b"http/1.1"]);
    let reloads = |result: &str| {
        metric(
            &running.metrics.encode(),
            &format!("neo4j_webhook_certificate_reloads_total{{result=\"{result}\"}}"),
        )
    };

    // A certificate with somebody else's key.
    let mismatched = Leaf {
        cert_pem: other.cert_pem.clone(),
        key_pem: third.key_pem.clone(),
        serial: other.serial.clone(),
        not_after: 0,
    };
    write_secret_volume(&dir, "b", &mismatched);
    eventually(
        "the mismatched pair to be refused",
        Duration::from_secs(10),
        || async { reloads("error") == Some(1.0) },
    )
    .await;
    let mut client = Client::connect(running.tls_addr, config.clone())
        .await
        .expect("still serving");
    assert_eq!(client.serial, good.serial, "the old pair stays");
    assert_eq!(validate_status(&mut client).await, 200);

    // Garbage is refused too, and counted once however many polls see it.
    let garbage = Leaf {
        cert_pem: "not a certificate".into(),
        key_pem: "not a key".into(),
        serial: vec![],
        not_after: 0,
    };
    write_secret_volume(&dir, "c", &garbage);
    eventually("garbage to be refused", Duration::from_secs(10), || async {
        reloads("error") == Some(2.0)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await; // several polls of the same bad content
    assert_eq!(reloads("error"), Some(2.0));
    assert_eq!(
        Client::connect(running.tls_addr, config.clone())
            .await
            .expect("still serving")
            .serial,
        good.serial
    );

    // A good pair afterwards is taken.
    write_secret_volume(&dir, "d", &other);
    eventually(
        "the good pair to be served",
        Duration::from_secs(10),
        || async {
            Client::connect(running.tls_addr, config.clone())
                .await
                .map(|c| c.serial == other.serial)
                .unwrap_or(false)
        },
    )
    .await;
    assert_eq!(reloads("success"), Some(1.0));
    stop_server(running, dir).await;
}

#[tokio::test]
async fn a_server_without_a_valid_pair_does_not_start() {
    let pki = TestPki::new("test CA");
    let dir = temp_dir("nostart");
    let (a, b) = (pki.leaf(1), pki.leaf(2));
    let (cert, key) = write_secret_volume(
        &dir,
        "a",
        &Leaf {
            cert_pem: a.cert_pem,
            key_pem: b.key_pem,
            serial: vec![],
            not_after: 0,
        },
    );
    let error = server::start(Settings::new(loopback(), loopback(), cert, key))
        .await
        .expect_err("refused");
    assert!(
        error.to_string().contains("does not fit the certificate"),
        "{error}"
    );
    let missing = server::start(Settings::new(
        loopback(),
        loopback(),
        dir.join("nope.crt"),
        dir.join("nope.key"),
    ))
    .await;
    assert!(
        missing
            .expect_err("refused")
            .to_string()
            .contains("cannot read")
    );
    let _ = std::fs::remove_dir_all(dir);
}

async fn tls_stream(
    addr: SocketAddr,
    pki: &TestPki,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let connector =
        tokio_rustls::TlsConnector::from(client_config(&[pki.ca_der()], &[b"http/1.1"]));
    connector
        .connect(
            rustls::pki_types::ServerName::try_from("localhost").expect("name"),
            tcp,
        )
        .await
        .expect("handshake")
}

#[tokio::test]
async fn a_client_sending_headers_too_slowly_is_disconnected() {
    let (pki, dir, running) = start_with_leaf("slowloris", 1, |s| {
        s.connections.header_read_timeout = Duration::from_millis(300)
    })
    .await;
    let mut stream = tls_stream(running.tls_addr, &pki).await;
    send(
        &mut stream,
        b"POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Slow: ",
        "partial headers",
    )
    .await;
    let mut buf = Vec::new();
    // The server closes the connection (possibly after a 408) well before this deadline.
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was not closed");
    stop_server(running, dir).await;
}

#[tokio::test]
async fn a_client_sending_the_body_too_slowly_gets_408() {
    let (pki, dir, running) = start_with_leaf("slowbody", 1, |s| {
        s.limits.body_timeout = Duration::from_millis(300)
    })
    .await;
    let mut stream = tls_stream(running.tls_addr, &pki).await;
    send(&mut stream, b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"api", "headers").await;
    let mut buf = vec![0u8; 4096];
    let n = read_within_5s(&mut stream, &mut buf, "answered in time").await;
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("body-timeout: "), "{head}");
    stop_server(running, dir).await;
}

#[tokio::test]
async fn shutdown_finishes_the_request_in_flight_then_stops() {
    let (pki, dir, running) = start_with_leaf("drain", 1, |_| {}).await;
    let addr = running.tls_addr;
    let body = denied_review();
    let mut stream = tls_stream(addr, &pki).await;
    // `Expect: 100-continue` makes the server say when the handler starts reading the body:
    // from then on the request is in flight.
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    send(&mut stream, head.as_bytes(), "head").await;
    let mut buf = vec![0u8; 64];
    let n = read_within_5s(&mut stream, &mut buf, "100 in time").await;
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    send(&mut stream, &body[..body.len() / 2], "half body").await;
    running.shutdown();
    let readiness = running.readiness.check();
    assert_eq!(readiness, Err("shutting down"));
    let waiting = tokio::spawn(running.wait());
    send(&mut stream, &body[body.len() / 2..], "rest of body").await;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("in time")
        .expect("read");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("cluster-min-servers"), "{response}");
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("stops in time")
        .expect("join")
        .expect("clean stop");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
    let _ = std::fs::remove_dir_all(dir);
}
