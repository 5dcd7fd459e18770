//! `POST /{tenant}/oauth2/v2.0/token`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::clock::now_unix;
use crate::oauth::{self, OAuthError, Params, TokenRequest};
use crate::stats::Hop;

use super::AppState;
use super::faults::{self, Style};
use super::request::{base_url, correlation_id};
use super::respond::{no_store_json, oauth_error, with_request_ids};

pub(crate) async fn token(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let correlation = correlation_id(&headers);
    let params = match Params::parse(&body) {
        Ok(params) => params,
        Err(error) => {
            state.emulator.record(Hop::Other, error.error);
            return oauth_error(&error, &correlation);
        }
    };
    let mut request = TokenRequest {
        tenant,
        base_url: base_url(&state, &headers),
        params,
        now: now_unix(),
    };
    let hop = oauth::classify(&state.emulator, &request);
    let knobs = match faults::apply(&state, hop, Style::Entra, &correlation).await {
        Ok(knobs) => knobs,
        Err(response) => return response,
    };
    request.now = now_unix();
    match oauth::issue(&state.emulator, &knobs, &request) {
        Ok(answer) => {
            state.emulator.record(hop, "ok");
            let trace_id = uuid::Uuid::new_v4().to_string();
            with_request_ids(no_store_json(200, &answer), &correlation, &trace_id)
        }
        Err(error) => {
            tracing::debug!(hop = ?hop, code = error.code, "token request rejected");
            state.emulator.record(hop, error.error);
            oauth_error(&error, &correlation)
        }
    }
}

/// Entra answers a GET on the token endpoint with AADSTS900561.
pub(crate) async fn wrong_method(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.emulator.record(Hop::Other, "invalid_request");
    oauth_error(&OAuthError::post_only(), &correlation_id(&headers))
}
