//! `/_emulator/*`: stats and knobs, for tests and benchmarks. Not part of Entra.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::knobs::Knobs;

use super::AppState;

pub(crate) async fn stats(State(state): State<AppState>) -> Response {
    Json(state.emulator.stats()).into_response()
}

/// Every token recently issued (T1, T2, resource and managed-identity tokens), for tests that
/// prove no component leaks one.
pub(crate) async fn issued(State(state): State<AppState>) -> Response {
    Json(json!({ "tokens": state.emulator.issued_tokens() })).into_response()
}

pub(crate) async fn reset_stats(State(state): State<AppState>) -> StatusCode {
    state.emulator.reset_stats();
    StatusCode::NO_CONTENT
}

pub(crate) async fn knobs(State(state): State<AppState>) -> Response {
    Json(state.emulator.knobs()).into_response()
}

/// Replaces the knobs (missing fields take their defaults); 400 with a reason when invalid.
pub(crate) async fn set_knobs(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<Knobs>(&body) {
        Ok(knobs) => {
            state.emulator.set_knobs(knobs);
            Json(state.emulator.knobs()).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_knobs", "error_description": e.to_string() })),
        )
            .into_response(),
    }
}
