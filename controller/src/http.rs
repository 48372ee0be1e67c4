//! The plain HTTP side port: `/metrics` (Prometheus text), `/healthz` (the process serves) and
//! `/readyz` (leading with synced caches, or a healthy standby).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::metrics::Metrics;

/// Readiness facts, flipped by `run`.
#[derive(Debug, Default)]
pub struct Health {
    /// This replica is the leader (always, without leader election).
    pub leading: AtomicBool,
    /// The leader's caches have their initial lists.
    pub synced: AtomicBool,
}

impl Health {
    pub fn ready(&self) -> bool {
        // A standby is ready to take over; a leader is ready once it can decide on a full cache.
        !self.leading.load(Ordering::Relaxed) || self.synced.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

pub fn router(metrics: Arc<Metrics>, health: Arc<Health>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(AppState { metrics, health })
}

async fn metrics_handler(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.encode(),
    )
}

async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    if s.health.ready() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "caches not synced")
    }
}
