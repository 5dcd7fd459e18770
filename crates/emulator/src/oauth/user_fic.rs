//! `grant_type=user_fic` (hop 3): an Agent Identity, authenticated by its T1, presents its T2 as
//! `user_federated_identity_credential` and names one of its Agent Users by `user_id` or
//! `username`; it gets that user's delegated token for consented scopes.
//!
//! `requested_token_use` (some docs send `on_behalf_of`) and `client_info` are accepted; MSAL
//! sends the latter and never the former.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::directory::{ClientKind, UserRecord};
use crate::tokens::{AccessToken, IdToken, Identity, random_string};

use super::Ctx;
use super::client_auth;
use super::error::OAuthError;
use super::federated;
use super::response::TokenResponse;
use super::scope::{self, DelegatedScopes};

/// Facets of an Agent User token: 13 = agent user.
const AGENT_USER_FACETS: &str = "3 13";

pub(crate) fn issue(ctx: &Ctx<'_>) -> Result<TokenResponse, OAuthError> {
    let auth = client_auth::authenticate(ctx)?;
    let agent_identity = auth.client;
    if agent_identity.kind != ClientKind::AgentIdentity {
        return Err(OAuthError::user_fic_not_agent_identity(
            &agent_identity.app_id,
        ));
    }
    let params = ctx.params();
    let credential = params.require("user_federated_identity_credential")?;
    federated::verify_user_credential(ctx, agent_identity, credential)?;
    let user = find_user(ctx)?;
    if !user
        .agent_identity_app_id
        .eq_ignore_ascii_case(&agent_identity.app_id)
    {
        return Err(OAuthError::user_not_bound(
            &user.upn,
            &agent_identity.app_id,
        ));
    }
    let scopes = scope::delegated_scopes(
        ctx.emulator.index(),
        &ctx.tenant.id,
        params.require("scope")?,
    )?;
    let granted = consented(user, &scopes)?;

    // A stable pairwise subject per (user, client), as Entra's `sub` is.
    let subject = URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("{}|{}", user.object_id, agent_identity.app_id).as_bytes(),
    ));
    let resource = scopes.resource;
    let name = if user.display_name.is_empty() {
        &user.upn
    } else {
        &user.display_name
    };
    let token = AccessToken {
        tenant_id: &ctx.tenant.id,
        version: resource.version,
        audience: match (&scopes.identifier, resource.version) {
            (Some(identifier), 1) => identifier.clone(),
            (None, 1) => crate::directory::GRAPH_URI.to_string(),
            _ => resource.app_id.clone(),
        },
        client_app_id: &agent_identity.app_id,
        client_acr: auth.acr,
        object_id: &user.object_id,
        subject: subject.clone(),
        identity: Identity::User {
            upn: &user.upn,
            name,
            scopes: &granted,
        },
        parent_app: agent_identity.blueprint_app_id.as_deref(),
        sub_facets: Some(AGENT_USER_FACETS),
        mi_resource_id: None,
    };
    let id_token = if scopes.wants("openid") {
        let claims = IdToken {
            tenant_id: &ctx.tenant.id,
            client_app_id: &agent_identity.app_id,
            object_id: &user.object_id,
            subject,
            upn: &user.upn,
            name,
        }
        .claims(ctx.now(), ctx.lifetime());
        Some(ctx.sign(claims)?)
    } else {
        None
    };
    let refresh_token = scopes
        .wants("offline_access")
        .then(|| format!("1.{}", random_string(96)));
    let client_info = (params.get("client_info") == Some("1")).then(|| {
        let info = json!({ "uid": user.object_id, "utid": ctx.tenant.id });
        URL_SAFE_NO_PAD.encode(info.to_string())
    });
    Ok(ctx.respond(&token)?.with_user_fields(
        response_scope(&scopes, &granted),
        refresh_token,
        id_token,
        client_info,
    ))
}

/// The user named by exactly one of `user_id` (object id) or `username` (UPN).
fn find_user<'a>(ctx: &Ctx<'a>) -> Result<&'a UserRecord, OAuthError> {
    let params = ctx.params();
    match (params.get("user_id"), params.get("username")) {
        (Some(_), Some(_)) => Err(OAuthError::malformed(
            "Send exactly one of 'user_id' and 'username'.",
        )),
        (None, None) => Err(OAuthError::missing_parameter("user_id' or 'username")),
        (Some(oid), None) => ctx
            .tenant
            .user_by_object_id(oid)
            .ok_or_else(|| OAuthError::user_not_found(oid, &ctx.tenant.id)),
        (None, Some(upn)) => ctx
            .tenant
            .user_by_upn(upn)
            .ok_or_else(|| OAuthError::user_not_found(upn, &ctx.tenant.id)),
    }
}

/// The scope names granted: all consented ones for `.default`, else the requested ones, which
/// must all be consented (AADSTS65001 otherwise).
fn consented(user: &UserRecord, scopes: &DelegatedScopes<'_>) -> Result<Vec<String>, OAuthError> {
    let consent = user
        .consents
        .get(&scopes.resource.app_id)
        .filter(|c| !c.is_empty());
    let client_id = user.agent_identity_app_id.as_str();
    let Some(consent) = consent else {
        return Err(OAuthError::consent_required(
            client_id,
            &scopes.names.join(" "),
        ));
    };
    if scopes.is_default() {
        return Ok(consent.clone());
    }
    let missing: Vec<&str> = scopes
        .names
        .iter()
        .filter(|n| !consent.iter().any(|c| c.eq_ignore_ascii_case(n)))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(scopes.names.clone())
    } else {
        Err(OAuthError::consent_required(client_id, &missing.join(" ")))
    }
}

/// The `scope` of the response: granted scopes named as requested, plus `openid`/`profile`/
/// `email` when asked for.
fn response_scope(scopes: &DelegatedScopes<'_>, granted: &[String]) -> String {
    let mut out: Vec<String> = granted
        .iter()
        .map(|name| match &scopes.identifier {
            Some(identifier) => format!("{identifier}/{name}"),
            None => name.clone(),
        })
        .collect();
    out.extend(
        scopes
            .oidc
            .iter()
            .filter(|s| **s != "offline_access")
            .map(|s| (*s).to_string()),
    );
    out.join(" ")
}
