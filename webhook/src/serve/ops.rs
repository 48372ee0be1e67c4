//! The plain-HTTP operations port: `/healthz` (the process answers), `/readyz` (a certificate is
//! loaded and, with a cluster, the watch cache has synced) and `/metrics`. It carries no
//! admission traffic, so it needs no TLS.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::metrics::Metrics;

/// What `/readyz` waits for.
#[derive(Debug)]
pub struct Readiness {
    certificate: AtomicBool,
    cache_synced: Arc<AtomicBool>,
    stopping: AtomicBool,
}

impl Readiness {
    /// `cache_synced` is set by the watch cache; pass a `true` flag when there is no cluster.
    pub fn new(cache_synced: Arc<AtomicBool>) -> Self {
        Readiness {
            certificate: AtomicBool::new(false),
            cache_synced,
            stopping: AtomicBool::new(false),
        }
    }

    pub fn certificate_loaded(&self) {
        self.certificate.store(true, Ordering::Release);
    }

    /// From SIGTERM on, the pod should leave the Service's endpoints while requests drain.
    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// `Err` names what is missing.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.stopping.load(Ordering::Acquire) {
            Err("shutting down")
        } else if !self.certificate.load(Ordering::Acquire) {
            Err("no serving certificate loaded")
        } else if !self.cache_synced.load(Ordering::Acquire) {
            Err("watch cache not synced yet")
        } else {
            Ok(())
        }
    }
}

#[derive(Debug)]
pub struct OpsState {
    pub metrics: Arc<Metrics>,
    pub readiness: Arc<Readiness>,
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<Arc<OpsState>>) -> Response {
    match state.readiness.check() {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<Arc<OpsState>>) -> Response {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

pub fn router(state: Arc<OpsState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}
