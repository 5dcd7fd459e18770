//! The HTTP face of the emulator: routes, per-request context, and the server loop.

mod control;
mod discovery;
mod faults;
mod managed_identity;
mod request;
mod respond;
mod serve;
mod tls_listener;
mod token;

pub use serve::serve;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::watch;

use crate::emulator::Emulator;

use managed_identity::Endpoint;

/// Token requests are a few kilobytes (hop 3 carries two tokens); anything far larger is not a
/// client we emulate Entra for.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler sees.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) emulator: Emulator,
    /// `http` or `https`: with the Host header, the URL clients address (assertion audiences,
    /// discovery documents).
    pub(crate) scheme: &'static str,
    /// Becomes `true` when the server shuts down; releases requests held by the hang knob.
    pub(crate) stopping: watch::Receiver<bool>,
}

pub(crate) fn router(state: AppState) -> Router {
    // What a client of Entra or of a managed-identity endpoint waits on: the latency knob applies.
    let imds = managed_identity::route(Endpoint::Imds);
    let upstream = Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(token::token).get(token::wrong_method),
        )
        .route("/metadata/identity/oauth2/token", imds.clone())
        .route("/metadata/identity/oauth2/token/", imds)
        .route("/msi/token", managed_identity::route(Endpoint::AppService))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            faults::latency,
        ));
    Router::new()
        .merge(upstream)
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::jwks))
        .route("/{tenant}/discovery/keys", get(discovery::jwks))
        .route("/common/discovery/instance", get(discovery::instance))
        .route("/_emulator/stats", get(control::stats))
        .route("/_emulator/stats/reset", post(control::reset_stats))
        .route("/_emulator/issued", get(control::issued))
        .route(
            "/_emulator/knobs",
            get(control::knobs).put(control::set_knobs),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "error": "not_found" })),
    )
        .into_response()
}
