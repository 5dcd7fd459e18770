//! The admin HTTP port: `/healthz` (the process is up), `/readyz` (a valid config is loaded and the
//! gateway is not draining) and `/metrics` (OpenMetrics text, which Prometheus scrapes natively).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::state::GatewayState;

/// The admin router.
pub fn router(state: Arc<GatewayState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn readyz(State(state): State<Arc<GatewayState>>) -> impl IntoResponse {
    if state.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n")
    }
}

async fn metrics(State(state): State<Arc<GatewayState>>) -> impl IntoResponse {
    let body = state.metrics.render(&state.caches.stats());
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], body)
}

/// Serves the admin port until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: Arc<GatewayState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
