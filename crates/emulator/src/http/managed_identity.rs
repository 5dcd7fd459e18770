//! The managed-identity endpoints Azure SDKs call: IMDS (`GET /metadata/identity/oauth2/token`,
//! header `Metadata: true`) and App Service (`GET /msi/token`, header `X-IDENTITY-HEADER`).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};

use crate::clock::now_unix;
use crate::managed_identity::{self, MiToken, Selector};
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

/// Which managed-identity endpoint is being served: they differ in how the caller proves it is on
/// the host, the names of the resource-id selector, the error shape and the success body, and
/// share everything else.
#[derive(Clone, Copy)]
pub(crate) enum Endpoint {
    Imds,
    AppService,
}

impl Endpoint {
    fn style(self) -> Style {
        match self {
            Endpoint::Imds => Style::Imds,
            Endpoint::AppService => Style::AppService,
        }
    }

    /// The query names of the resource-id selector, in the order the endpoint documents them.
    fn resource_id_names(self) -> &'static [&'static str] {
        match self {
            Endpoint::Imds => &["msi_res_id", "mi_res_id"],
            Endpoint::AppService => &["mi_res_id", "msi_res_id"],
        }
    }

    /// IMDS wants `Metadata: true`; App Service wants the identity header it was given.
    fn check_caller(self, headers: &HeaderMap, state: &AppState) -> Result<(), Rejected> {
        match self {
            Endpoint::Imds => {
                let has_metadata = headers
                    .get("Metadata")
                    .and_then(|h| h.to_str().ok())
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                if has_metadata {
                    Ok(())
                } else {
                    Err(Rejected::bad_request(
                        "Required metadata header not specified",
                    ))
                }
            }
            Endpoint::AppService => {
                let presented = headers
                    .get("X-IDENTITY-HEADER")
                    .and_then(|h| h.to_str().ok());
                match presented {
                    None => Err(Rejected::bad_request("X-IDENTITY-HEADER is missing")),
                    Some(value) if value != state.emulator.identity_header().expose() => {
                        Err(Rejected {
                            status: 401,
                            outcome: "unauthorized",
                            message: "X-IDENTITY-HEADER is invalid".to_string(),
                        })
                    }
                    Some(_) => Ok(()),
                }
            }
        }
    }

    /// The endpoint's own error shape.
    fn error(self, rejected: &Rejected, correlation_id: &str) -> Response {
        match self {
            Endpoint::Imds => imds_error(rejected.status, rejected.outcome, &rejected.message),
            Endpoint::AppService => {
                app_service_error(rejected.status, &rejected.message, correlation_id)
            }
        }
    }

    /// The success body: IMDS sends every number as a string; App Service sends fewer fields.
    fn body(self, t: &MiToken) -> Value {
        match self {
            Endpoint::Imds => json!({
                "access_token": t.access_token,
                "client_id": t.client_id,
                "expires_in": t.expires_in.to_string(),
                "expires_on": t.expires_on.to_string(),
                "ext_expires_in": t.expires_in.to_string(),
                "not_before": t.not_before.to_string(),
                "resource": t.resource,
                "token_type": "Bearer",
            }),
            Endpoint::AppService => json!({
                "access_token": t.access_token,
                "expires_on": t.expires_on.to_string(),
                "resource": t.resource,
                "token_type": "Bearer",
                "client_id": t.client_id,
            }),
        }
    }
}

/// The `GET` route of `endpoint`.
pub(crate) fn route(endpoint: Endpoint) -> MethodRouter<AppState> {
    get(
        move |State(state): State<AppState>, Query(query): QueryPairs, headers: HeaderMap| async move {
            token(endpoint, &state, &query, &headers).await
        },
    )
}

/// Either endpoint: the caller check, the scheduled fault, the query, then the token; every
/// outcome counted under the managed-identity hop.
async fn token(
    endpoint: Endpoint,
    state: &AppState,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Response {
    let hop = Hop::ManagedIdentity;
    let correlation = correlation_id(headers);
    let refuse = |r: Rejected| {
        state.emulator.record(hop, r.outcome);
        endpoint.error(&r, &correlation)
    };
    if let Err(r) = endpoint.check_caller(headers, state) {
        return refuse(r);
    }
    let knobs = match faults::apply(state, hop, endpoint.style(), &correlation).await {
        Ok(knobs) => knobs,
        Err(response) => return response,
    };
    let (resource, selector) = match parse(query, endpoint.resource_id_names()) {
        Ok(parsed) => parsed,
        Err(r) => return refuse(r),
    };
    match managed_identity::issue(&state.emulator, &knobs, resource, selector, now_unix()) {
        Ok(t) => {
            state.emulator.record(hop, "ok");
            no_store_json(200, &endpoint.body(&t))
        }
        Err(e) => refuse(Rejected {
            status: e.status(),
            outcome: e.code(),
            message: e.message(),
        }),
    }
}
