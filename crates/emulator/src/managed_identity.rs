//! Managed-identity tokens, shared by the IMDS and App Service endpoints (which differ only in
//! their request and answer formats).
//!
//! A token for `api://AzureADTokenExchange` is what an app presents as a federated credential: a v2
//! token with `aud` the exchange app's id, `sub` = `oid` = the identity's object id. A token for
//! any other resource is the identity's own (`appid` = the identity's client id), which is the
//! "direct managed-identity token" mistake resources reject; it is issued so that the mistake can
//! be reproduced.

use crate::directory::Index;
use crate::emulator::Emulator;
use crate::knobs::Knobs;
use crate::tokens::{AccessToken, Identity};

/// Which identity a request names.
pub(crate) enum Selector<'a> {
    /// None named: the system-assigned identity, or the only one there is.
    Default,
    ClientId(&'a str),
    ObjectId(&'a str),
    ResourceId(&'a str),
}

/// An issued managed-identity token and its times (epoch seconds).
pub(crate) struct MiToken {
    pub(crate) access_token: String,
    pub(crate) expires_in: u64,
    pub(crate) expires_on: u64,
    pub(crate) not_before: u64,
    pub(crate) resource: String,
    pub(crate) client_id: String,
}

/// Why no token was issued.
#[derive(Debug)]
pub(crate) enum MiError {
    IdentityNotFound,
    /// Several user-assigned identities and none named.
    AmbiguousIdentity,
    ResourceNotFound(String),
    Internal(String),
}

impl MiError {
    /// The IMDS-style `error` code (also the stats outcome).
    pub(crate) fn code(&self) -> &'static str {
        match self {
            MiError::IdentityNotFound | MiError::AmbiguousIdentity => "invalid_request",
            MiError::ResourceNotFound(_) => "invalid_resource",
            MiError::Internal(_) => "server_error",
        }
    }

    pub(crate) fn status(&self) -> u16 {
        match self {
            MiError::Internal(_) => 500,
            _ => 400,
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            MiError::IdentityNotFound => "Identity not found".to_string(),
            MiError::AmbiguousIdentity => "Multiple user assigned identities exist, please \
                                            specify the clientId / resourceId of the identity in \
                                            the token request"
                .to_string(),
            MiError::ResourceNotFound(resource) => format!(
                "AADSTS500011: The resource principal named {resource} was not found in the \
                 tenant. Managed identity endpoints take a resource, not a scope: do not append \
                 /.default."
            ),
            MiError::Internal(detail) => format!("Internal error: {detail}"),
        }
    }
}

/// Issues a token for `resource` (an identifier URI or app id, no `/.default`).
pub(crate) fn issue(
    emulator: &Emulator,
    knobs: &Knobs,
    resource: &str,
    selector: Selector<'_>,
    now: u64,
) -> Result<MiToken, MiError> {
    let index = emulator.index();
    let identity = select(index, selector)?;
    let target = index
        .resource(resource)
        .ok_or_else(|| MiError::ResourceNotFound(resource.to_string()))?;
    let lifetime = knobs.token_lifetime.as_secs();
    let token = AccessToken {
        tenant_id: &identity.tenant_id,
        version: target.version,
        audience: if target.version == 1 {
            resource.to_string()
        } else {
            target.app_id.clone()
        },
        client_app_id: &identity.client_id,
        client_acr: "2",
        object_id: &identity.object_id,
        subject: identity.object_id.clone(),
        identity: Identity::App {
            roles: identity.app_roles.get(&target.app_id).map(Vec::as_slice),
        },
        parent_app: None,
        sub_facets: None,
        mi_resource_id: identity.resource_id.as_deref(),
    };
    let claims = token.claims(now, lifetime);
    let access_token = emulator
        .issue_token(&claims)
        .map_err(|e| MiError::Internal(e.to_string()))?;
    Ok(MiToken {
        access_token,
        expires_in: lifetime,
        expires_on: now + lifetime,
        not_before: claims
            .get("nbf")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(now),
        resource: resource.to_string(),
        client_id: identity.client_id.clone(),
    })
}

fn select<'a>(
    index: &'a Index,
    selector: Selector<'_>,
) -> Result<&'a crate::directory::ManagedIdentityRecord, MiError> {
    let all = index.managed_identities();
    let found = match selector {
        Selector::ClientId(id) => all.iter().find(|mi| mi.client_id.eq_ignore_ascii_case(id)),
        Selector::ObjectId(id) => all.iter().find(|mi| mi.object_id.eq_ignore_ascii_case(id)),
        Selector::ResourceId(id) => all.iter().find(|mi| {
            mi.resource_id
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(id))
        }),
        Selector::Default => match all.iter().find(|mi| mi.system_assigned) {
            Some(mi) => Some(mi),
            None if all.len() > 1 => return Err(MiError::AmbiguousIdentity),
            None => all.first(),
        },
    };
    found.ok_or(MiError::IdentityNotFound)
}
