//! The token endpoint's rules, independent of HTTP: a form in, a token response or an Entra error
//! out.

mod certificate_assertion;
mod client_auth;
mod client_credentials;
pub(crate) mod error;
mod federated;
mod params;
mod response;
mod scope;
mod user_fic;
mod validity;

pub(crate) use error::OAuthError;
pub(crate) use params::Params;
pub(crate) use response::TokenResponse;

use crate::directory::{ClientKind, TenantIndex};
use crate::emulator::Emulator;
use crate::knobs::Knobs;
use crate::stats::Hop;
use crate::tokens::AccessToken;

/// One token request as the endpoint received it.
pub(crate) struct TokenRequest {
    /// The tenant path segment (an id or a domain).
    pub(crate) tenant: String,
    /// `scheme://host[:port]` as the client addressed this server (client assertions must name
    /// this endpoint as their audience).
    pub(crate) base_url: String,
    pub(crate) params: Params,
    pub(crate) now: u64,
}

/// Everything a grant handler needs.
pub(crate) struct Ctx<'a> {
    pub(crate) emulator: &'a Emulator,
    pub(crate) tenant: &'a TenantIndex,
    pub(crate) request: &'a TokenRequest,
    pub(crate) knobs: &'a Knobs,
}

impl Ctx<'_> {
    pub(crate) fn params(&self) -> &Params {
        &self.request.params
    }

    pub(crate) fn now(&self) -> u64 {
        self.request.now
    }

    pub(crate) fn lifetime(&self) -> u64 {
        self.knobs.token_lifetime.as_secs()
    }

    /// Signs an access token and wraps it in a response with Entra's lifetime fields.
    pub(crate) fn respond(&self, token: &AccessToken<'_>) -> Result<TokenResponse, OAuthError> {
        let access_token = self.sign(token.claims(self.now(), self.lifetime()))?;
        Ok(TokenResponse::bearer(access_token, self.knobs))
    }

    pub(crate) fn sign(
        &self,
        claims: serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, OAuthError> {
        self.emulator
            .issue_token(&claims)
            .map_err(|e| OAuthError::internal(&e.to_string()))
    }
}

/// Runs the grant named by the request.
pub(crate) fn issue(
    emulator: &Emulator,
    knobs: &Knobs,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let tenant = emulator
        .index()
        .tenant(&request.tenant)
        .ok_or_else(|| OAuthError::tenant_not_found(&request.tenant))?;
    let ctx = Ctx {
        emulator,
        tenant,
        request,
        knobs,
    };
    match request.params.require("grant_type")? {
        "client_credentials" => client_credentials::issue(&ctx),
        "user_fic" => user_fic::issue(&ctx),
        other => Err(OAuthError::unsupported_grant(other)),
    }
}

/// Which hop a request is, from its tenant, client and grant (before it is processed, so that
/// throttled and failed requests are counted against the right hop).
pub(crate) fn classify(emulator: &Emulator, request: &TokenRequest) -> Hop {
    let client = emulator
        .index()
        .tenant(&request.tenant)
        .zip(request.params.get("client_id"))
        .and_then(|(tenant, client_id)| tenant.client(client_id));
    match client.map(|c| c.kind) {
        Some(ClientKind::Blueprint) => Hop::Blueprint,
        Some(ClientKind::AgentIdentity) if request.params.get("grant_type") == Some("user_fic") => {
            Hop::AgentUser
        }
        Some(ClientKind::AgentIdentity) => Hop::AgentIdentity,
        Some(ClientKind::App) => Hop::App,
        None => Hop::Other,
    }
}
