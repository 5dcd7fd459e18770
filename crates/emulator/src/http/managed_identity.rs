//! The managed-identity endpoints Azure SDKs call: IMDS (`GET /metadata/identity/oauth2/token`,
//! header `Metadata: true`) and App Service (`GET /msi/token`, header `X-IDENTITY-HEADER`).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use crate::clock::now_unix;
use crate::managed_identity::{self, Selector};
use crate::stats::Hop;

use super::AppState;
use super::faults::{self, Style};
use super::request::correlation_id;
use super::respond::{app_service_error, imds_error, no_store_json};

type QueryPairs = Query<Vec<(String, String)>>;

/// A bad request of either endpoint, before any token logic.
struct Rejected {
    status: u16,
    outcome: &'static str,
    message: String,
}

impl Rejected {
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            outcome: "invalid_request",
            message: message.into(),
        }
    }
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// `api-version` and `resource` are required; at most one identity selector.
fn parse<'a>(
    query: &'a [(String, String)],
    resource_id_names: &[&str],
) -> Result<(&'a str, Selector<'a>), Rejected> {
    if param(query, "api-version").is_none() {
        return Err(Rejected::bad_request(
            "Required query variable 'api-version' is missing",
        ));
    }
    let resource = param(query, "resource")
        .ok_or_else(|| Rejected::bad_request("Required query variable 'resource' is missing"))?;
    let mut selectors = Vec::new();
    if let Some(id) = param(query, "client_id") {
        selectors.push(Selector::ClientId(id));
    }
    // App Service documents `principal_id` as another name for the object id.
    if let Some(id) = param(query, "object_id").or_else(|| param(query, "principal_id")) {
        selectors.push(Selector::ObjectId(id));
    }
    for name in resource_id_names {
        if let Some(id) = param(query, name) {
            selectors.push(Selector::ResourceId(id));
        }
    }
    if selectors.len() > 1 {
        return Err(Rejected::bad_request(
            "Only one of client_id, object_id and the resource id may be given",
        ));
    }
    Ok((resource, selectors.pop().unwrap_or(Selector::Default)))
}

pub(crate) async fn imds(
    State(state): State<AppState>,
    Query(query): QueryPairs,
    headers: HeaderMap,
) -> Response {
    let hop = Hop::ManagedIdentity;
    let correlation = correlation_id(&headers);
    let has_metadata = headers
        .get("Metadata")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !has_metadata {
        state.emulator.record(hop, "invalid_request");
        return imds_error(
            400,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    let knobs = match faults::apply(&state, hop, Style::Imds, &correlation).await {
        Ok(knobs) => knobs,
        Err(response) => return response,
    };
    let (resource, selector) = match parse(&query, &["msi_res_id", "mi_res_id"]) {
        Ok(parsed) => parsed,
        Err(r) => {
            state.emulator.record(hop, r.outcome);
            return imds_error(r.status, r.outcome, &r.message);
        }
    };
    match managed_identity::issue(&state.emulator, &knobs, resource, selector, now_unix()) {
        Ok(t) => {
            state.emulator.record(hop, "ok");
            no_store_json(
                200,
                &json!({
                    "access_token": t.access_token,
                    "client_id": t.client_id,
                    "expires_in": t.expires_in.to_string(),
                    "expires_on": t.expires_on.to_string(),
                    "ext_expires_in": t.expires_in.to_string(),
                    "not_before": t.not_before.to_string(),
                    "resource": t.resource,
                    "token_type": "Bearer",
                }),
            )
        }
        Err(e) => {
            state.emulator.record(hop, e.code());
            imds_error(e.status(), e.code(), &e.message())
        }
    }
}

pub(crate) async fn app_service(
    State(state): State<AppState>,
    Query(query): QueryPairs,
    headers: HeaderMap,
) -> Response {
    let hop = Hop::ManagedIdentity;
    let correlation = correlation_id(&headers);
    let presented = headers
        .get("X-IDENTITY-HEADER")
        .and_then(|h| h.to_str().ok());
    let rejected = match presented {
        None => Some(Rejected::bad_request("X-IDENTITY-HEADER is missing")),
        Some(value) if value != state.emulator.identity_header().expose() => Some(Rejected {
            status: 401,
            outcome: "unauthorized",
            message: "X-IDENTITY-HEADER is invalid".to_string(),
        }),
        Some(_) => None,
    };
    if let Some(r) = rejected {
        state.emulator.record(hop, r.outcome);
        return app_service_error(r.status, &r.message, &correlation);
    }
    let knobs = match faults::apply(&state, hop, Style::AppService, &correlation).await {
        Ok(knobs) => knobs,
        Err(response) => return response,
    };
    let (resource, selector) = match parse(&query, &["mi_res_id", "msi_res_id"]) {
        Ok(parsed) => parsed,
        Err(r) => {
            state.emulator.record(hop, r.outcome);
            return app_service_error(r.status, &r.message, &correlation);
        }
    };
    match managed_identity::issue(&state.emulator, &knobs, resource, selector, now_unix()) {
        Ok(t) => {
            state.emulator.record(hop, "ok");
            no_store_json(
                200,
                &json!({
                    "access_token": t.access_token,
                    "expires_on": t.expires_on.to_string(),
                    "resource": t.resource,
                    "token_type": "Bearer",
                    "client_id": t.client_id,
                }),
            )
        }
        Err(e) => {
            state.emulator.record(hop, e.code());
            app_service_error(e.status(), &e.message(), &correlation)
        }
    }
}
