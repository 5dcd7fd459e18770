//! Response bodies: the token URLs' JSON, the App Service managed-identity JSON, and both error
//! shapes. Every response is JSON, uncacheable, and carries no CORS header of any kind.

use bytes::Bytes;
use http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER, X_CONTENT_TYPE_OPTIONS,
};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

use crate::failure::Failure;
use crate::gateway::Minted;

pub(crate) type Body = Full<Bytes>;

/// Which error body shape the caller's client expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `{"error","error_description","hop","aadsts","correlation_id"}`
    Token,
    /// App Service: `{"statusCode","message","correlationId"}`
    ManagedIdentity,
}

#[derive(Serialize)]
struct TokenBody<'a> {
    access_token: &'a str,
    token_type: &'a str,
    expires_at_unix: i64,
    expires_in: i64,
    scopes: &'a [String],
}

#[derive(Serialize)]
struct ManagedIdentityBody<'a> {
    access_token: &'a str,
    /// Epoch seconds as a string, as App Service sends it.
    expires_on: String,
    resource: &'a str,
    token_type: &'a str,
    client_id: &'a str,
}

#[derive(Serialize)]
struct TokenError<'a> {
    error: &'a str,
    error_description: &'a str,
    hop: Option<&'a str>,
    aadsts: Option<&'a str>,
    correlation_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManagedIdentityError<'a> {
    status_code: u16,
    message: &'a str,
    correlation_id: &'a str,
}

/// 200 for a token URL.
pub(crate) fn token(minted: &Minted, now_unix: i64) -> Response<Body> {
    json(
        StatusCode::OK,
        &TokenBody {
            access_token: &minted.access_token,
            token_type: &minted.token_type,
            expires_at_unix: minted.expires_at_unix,
            expires_in: (minted.expires_at_unix - now_unix).max(0),
            scopes: &minted.scopes,
        },
    )
}

/// 200 for the managed-identity endpoint. `resource` is echoed as sent: the SDKs key their token
/// caches on it.
pub(crate) fn managed_identity(minted: &Minted, resource: &str, client_id: &str) -> Response<Body> {
    json(
        StatusCode::OK,
        &ManagedIdentityBody {
            access_token: &minted.access_token,
            expires_on: minted.expires_at_unix.to_string(),
            resource,
            token_type: &minted.token_type,
            client_id,
        },
    )
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
}

/// `/readyz`: 200 while serving, 503 once draining (the resolver still answers token requests
/// through its drain grace; this tells whoever watches it to stop sending new ones).
pub(crate) fn readiness(ready: bool) -> Response<Body> {
    if ready {
        json(StatusCode::OK, &Readiness { status: "ready" })
    } else {
        json(
            StatusCode::SERVICE_UNAVAILABLE,
            &Readiness { status: "draining" },
        )
    }
}

/// An error in the caller's style, with `Retry-After` and `Allow` when they apply.
pub(crate) fn error(failure: &Failure, correlation_id: &str, style: Style) -> Response<Body> {
    let mut response = match style {
        Style::Token => json(
            failure.status,
            &TokenError {
                error: failure.error,
                error_description: &failure.description,
                hop: failure.hop(),
                aadsts: failure.aadsts(),
                correlation_id,
            },
        ),
        Style::ManagedIdentity => json(
            failure.status,
            &ManagedIdentityError {
                status_code: failure.status.as_u16(),
                message: &failure.description,
                correlation_id,
            },
        ),
    };
    let headers = response.headers_mut();
    if let Some(secs) = failure.retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(allow) = failure.allow {
        headers.insert(ALLOW, HeaderValue::from_static(allow));
    }
    response
}

fn json(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    // Serialising these plain structs cannot fail; an empty object is a safe fallback anyway.
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
