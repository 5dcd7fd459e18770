//! `grant_type=client_credentials`: hop 1 (a Blueprint's T1 for an Agent Identity), hop 2 (an
//! Agent Identity's T2 or app-only token, authenticated by T1) and plain app tokens.

use crate::directory::{ClientKind, ClientRecord, TOKEN_EXCHANGE_APP_ID};
use crate::tokens::{AccessToken, Identity, fmi_subject};

use super::Ctx;
use super::client_auth::{self, Authenticated};
use super::error::OAuthError;
use super::response::TokenResponse;
use super::scope::{self, AppScope};

/// Facets of an Agent Identity acting as itself (T2 and app-only tokens): 11 = agent identity.
const AGENT_IDENTITY_FACETS: &str = "3 11";

pub(crate) fn issue(ctx: &Ctx<'_>) -> Result<TokenResponse, OAuthError> {
    let auth = client_auth::authenticate(ctx)?;
    let scope = ctx.params().require("scope")?;
    let target = scope::app_scope(ctx.emulator.index(), &ctx.tenant.id, scope)?;
    let token = match auth.client.kind {
        ClientKind::Blueprint => blueprint(ctx, &auth, &target)?,
        // Hop 2: T2 for the exchange scope, otherwise the Agent Identity's app-only token.
        ClientKind::AgentIdentity => resource_token(
            ctx,
            &auth,
            &target,
            auth.client.blueprint_app_id.as_deref(),
            Some(AGENT_IDENTITY_FACETS),
        ),
        ClientKind::App => resource_token(ctx, &auth, &target, None, None),
    };
    ctx.respond(&token)
}

/// Hop 1. With the exchange scope a Blueprint must name one of its Agent Identities in
/// `fmi_path` and gets T1; with any other resource it is an ordinary app.
fn blueprint<'a>(
    ctx: &'a Ctx<'_>,
    auth: &Authenticated<'a>,
    target: &'a AppScope<'_>,
) -> Result<AccessToken<'a>, OAuthError> {
    let blueprint = auth.client;
    let fmi_path = ctx.params().get("fmi_path");
    if !target.resource.is_token_exchange() {
        return match fmi_path {
            Some(_) => Err(OAuthError::fmi_path(
                "fmi_path is only valid with the scope api://AzureADTokenExchange/.default.",
            )),
            None => Ok(resource_token(ctx, auth, target, None, None)),
        };
    }
    let Some(fmi_path) = fmi_path else {
        return Err(OAuthError::fmi_path(
            "A Blueprint requesting api://AzureADTokenExchange/.default must send 'fmi_path' \
             naming one of its agent identities.",
        ));
    };
    let is_child = ctx.tenant.client(fmi_path).is_some_and(|ai| {
        ai.kind == ClientKind::AgentIdentity
            && ai
                .blueprint_app_id
                .as_deref()
                .is_some_and(|parent| parent.eq_ignore_ascii_case(&blueprint.app_id))
    });
    if !is_child {
        return Err(OAuthError::fmi_path(format!(
            "fmi_path '{fmi_path}' does not name an agent identity of blueprint '{}'.",
            blueprint.app_id
        )));
    }
    Ok(AccessToken {
        tenant_id: &ctx.tenant.id,
        version: 2,
        audience: TOKEN_EXCHANGE_APP_ID.to_string(),
        client_app_id: &blueprint.app_id,
        client_acr: auth.acr,
        object_id: &blueprint.object_id,
        subject: fmi_subject(&ctx.tenant.id, &blueprint.app_id, fmi_path),
        identity: Identity::App { roles: None },
        parent_app: None,
        sub_facets: None,
        mi_resource_id: None,
    })
}

/// An app-only token of the authenticated client for the requested resource.
fn resource_token<'a>(
    ctx: &'a Ctx<'_>,
    auth: &Authenticated<'a>,
    target: &'a AppScope<'_>,
    parent_app: Option<&'a str>,
    sub_facets: Option<&'static str>,
) -> AccessToken<'a> {
    let client: &ClientRecord = auth.client;
    let resource = target.resource;
    AccessToken {
        tenant_id: &ctx.tenant.id,
        version: resource.version,
        // v1 tokens carry the identifier the client asked with; v2 tokens the resource's app id.
        audience: if resource.version == 1 {
            target.identifier.clone()
        } else {
            resource.app_id.clone()
        },
        client_app_id: &client.app_id,
        client_acr: auth.acr,
        object_id: &client.object_id,
        subject: client.object_id.clone(),
        identity: Identity::App {
            roles: client.app_roles.get(&resource.app_id).map(Vec::as_slice),
        },
        parent_app,
        sub_facets,
        mi_resource_id: None,
    }
}
