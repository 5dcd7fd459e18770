//! Facts about the incoming request that answers depend on.

use axum::http::HeaderMap;
use axum::http::header::HOST;

use super::AppState;

/// `scheme://host[:port]` as the client addressed this server. Clients build assertion
/// audiences from the URL they use, so the Host header is the source of truth.
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && b != b'/'))
        .unwrap_or("localhost");
    format!("{}://{host}", state.scheme)
}

/// The correlation id Entra echoes: the client's `client-request-id` when it sent a sane one.
pub(crate) fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|h| h.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
}
