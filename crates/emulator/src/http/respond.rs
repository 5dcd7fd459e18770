//! Answer formats: Entra's token endpoint, IMDS and App Service each have their own error shape.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use crate::clock::now_unix;
use crate::oauth::OAuthError;

/// A JSON answer that must not be cached (it may carry a token).
pub(crate) fn no_store_json(status: u16, body: &impl Serialize) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Adds `Retry-After: secs`.
pub(crate) fn with_retry_after(mut response: Response, secs: u64) -> Response {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

/// Echoes the correlation id as Entra does, and names this answer with a trace id.
pub(crate) fn with_request_ids(
    mut response: Response,
    correlation_id: &str,
    trace_id: &str,
) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("client-request-id", correlation_id),
        ("x-ms-request-id", trace_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    response
}

/// Entra's token endpoint error.
pub(crate) fn oauth_error(error: &OAuthError, correlation_id: &str) -> Response {
    let trace_id = uuid::Uuid::new_v4().to_string();
    let body = error.body(&trace_id, correlation_id, now_unix());
    let mut response = no_store_json(error.status, &body);
    if let Some(secs) = error.retry_after {
        response = with_retry_after(response, secs);
    }
    with_request_ids(response, correlation_id, &trace_id)
}

/// IMDS's error: `{"error", "error_description"}`.
pub(crate) fn imds_error(status: u16, error: &str, description: &str) -> Response {
    no_store_json(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

/// App Service's error: `{"statusCode", "message", "correlationId"}`.
pub(crate) fn app_service_error(status: u16, message: &str, correlation_id: &str) -> Response {
    no_store_json(
        status,
        &json!({ "statusCode": status, "message": message, "correlationId": correlation_id }),
    )
}
