//! Discovery: the tenant's OpenID configuration, the signing keys, and instance discovery (which
//! MSAL calls for an authority host it does not know).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::oauth::OAuthError;
use crate::tokens::issuer;

use super::AppState;
use super::request::{base_url, correlation_id};
use super::respond::{no_store_json, oauth_error};

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`. Endpoints use this server's URL and the
/// tenant id (MSAL derives the tenant from `token_endpoint`); `issuer` is Entra's, as in tokens.
pub(crate) async fn openid_configuration(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(found) = state.emulator.index().tenant(&tenant) else {
        return oauth_error(
            &OAuthError::invalid_tenant(&tenant),
            &correlation_id(&headers),
        );
    };
    let endpoint = format!("{}/{}", base_url(&state, &headers), found.id);
    Json(json!({
        "token_endpoint": format!("{endpoint}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{endpoint}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer(&found.id, 2),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{endpoint}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{endpoint}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{endpoint}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
            "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": null,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }))
    .into_response()
}

/// `GET /{tenant}/discovery/v2.0/keys` (and the v1 path): one key set for every tenant, as Entra.
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    let keys = state
        .emulator
        .signer()
        .jwks("https://login.microsoftonline.com/{tenantid}/v2.0");
    Json(keys).into_response()
}

/// `GET /common/discovery/instance?authorization_endpoint=...`: vouches for authorities on this
/// host, as Entra does for its clouds, and points at their OpenID configuration. MSAL names the
/// authority by host name only (no port), so only host names are compared; the answer carries
/// this server's full URL.
pub(crate) async fn instance(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let ours = base_url(&state, &headers);
    let Some(endpoint) = query.get("authorization_endpoint") else {
        return no_store_json(
            400,
            &json!({ "error": "invalid_request", "error_description": "authorization_endpoint is required" }),
        );
    };
    let our_host = host_name(ours.split("://").nth(1).unwrap_or_default());
    let Some((host, tenant)) = split_authority(endpoint) else {
        return invalid_instance(endpoint);
    };
    if !host_name(host).eq_ignore_ascii_case(our_host) {
        return invalid_instance(endpoint);
    }
    Json(json!({
        "tenant_discovery_endpoint": format!("{ours}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{ "preferred_network": our_host, "preferred_cache": our_host, "aliases": [our_host] }],
    }))
    .into_response()
}

/// `https://host:port/tenant/...` → (`host:port`, `tenant`).
fn split_authority(url: &str) -> Option<(&str, &str)> {
    let (_scheme, rest) = url.split_once("://")?;
    let (host, path) = rest.split_once('/')?;
    let tenant = path.split('/').next().filter(|t| !t.is_empty())?;
    Some((host, tenant))
}

/// `host:port` → `host` (also for `[::1]:port`).
fn host_name(authority: &str) -> &str {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

fn invalid_instance(endpoint: &str) -> Response {
    no_store_json(
        400,
        &json!({
            "error": "invalid_instance",
            "error_description": format!("AADSTS50049: Unknown or invalid instance. Authority: {endpoint}"),
            "error_codes": [50049],
        }),
    )
}
