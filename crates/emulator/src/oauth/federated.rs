//! Tokens this emulator issued, presented back to it as credentials:
//!
//! - as a client assertion: a T1 for the Agent Identity it names (the Agent Identity's implicit
//!   trust in its Blueprint), or a managed-identity token matching one of an app's federated
//!   identity credentials (exact issuer and subject; the audience by name or app id);
//! - as `user_federated_identity_credential` at hop 3: the T2 of that same Agent Identity.

use serde_json::{Map, Value};

use crate::directory::{ClientKind, ClientRecord, Index, TOKEN_EXCHANGE_APP_ID};
use crate::tokens::{fmi_subject, issuer};

use super::Ctx;
use super::error::OAuthError;
use super::validity::{self, Validity, claim};

/// Why a presented token is unusable before its claims are even looked at.
enum Unusable {
    Signature,
    NoExpiry,
    Outside { nbf: Option<f64>, exp: Option<f64> },
}

impl Unusable {
    /// The `exp` of a token outside its validity window (none when it has no expiry).
    fn expiry(&self) -> Option<f64> {
        match self {
            Unusable::Outside { exp, .. } => *exp,
            Unusable::Signature | Unusable::NoExpiry => None,
        }
    }
}

fn verify(ctx: &Ctx<'_>, token: &str) -> Result<Map<String, Value>, Unusable> {
    let claims = ctx
        .emulator
        .signer()
        .verify(token)
        .map_err(|_| Unusable::Signature)?;
    match validity::check(&claims, ctx.now()) {
        Validity::Valid => Ok(claims),
        Validity::NoExpiry => Err(Unusable::NoExpiry),
        Validity::Outside { nbf, exp } => Err(Unusable::Outside { nbf, exp }),
    }
}

/// A token this emulator signed, in its validity window, issued to an app (both uses take only
/// app tokens); `unusable` words a signature or time problem as the caller's error.
fn verify_app_token(
    ctx: &Ctx<'_>,
    token: &str,
    unusable: impl FnOnce(Unusable) -> OAuthError,
) -> Result<Map<String, Value>, OAuthError> {
    let claims = verify(ctx, token).map_err(unusable)?;
    if claim(&claims, "idtyp") != "app" {
        return Err(OAuthError::federated_token_not_app());
    }
    Ok(claims)
}

/// Checks a client assertion the emulator issued against what the client trusts.
pub(crate) fn authenticate_client(
    ctx: &Ctx<'_>,
    client: &ClientRecord,
    assertion: &str,
) -> Result<(), OAuthError> {
    let claims = verify_app_token(ctx, assertion, |problem| match problem {
        Unusable::Signature => {
            OAuthError::assertion_signature(&client.app_id, "The signature is invalid.")
        }
        Unusable::NoExpiry => OAuthError::malformed_assertion(),
        Unusable::Outside { nbf, exp } => OAuthError::assertion_time(ctx.now(), nbf, exp),
    })?;
    let (iss, sub, aud) = (
        claim(&claims, "iss"),
        claim(&claims, "sub"),
        claim(&claims, "aud"),
    );
    let trusted = match client.kind {
        ClientKind::AgentIdentity => is_t1_for(&ctx.tenant.id, client, &claims),
        ClientKind::Blueprint | ClientKind::App => client.federated_credentials.iter().any(|fic| {
            fic.issuer == iss
                && fic.subject == sub
                && same_audience(ctx.emulator.index(), &fic.audience, aud)
        }),
    };
    if trusted {
        Ok(())
    } else {
        Err(OAuthError::no_matching_federation(iss, sub, aud))
    }
}

/// Checks the `user_federated_identity_credential` of hop 3: a T2 of this Agent Identity.
pub(crate) fn verify_user_credential(
    ctx: &Ctx<'_>,
    agent_identity: &ClientRecord,
    token: &str,
) -> Result<(), OAuthError> {
    let claims = verify_app_token(ctx, token, |problem| match problem {
        Unusable::Signature => OAuthError::user_assertion_signature(),
        time => OAuthError::user_assertion_time(ctx.now(), time.expiry()),
    })?;
    if is_t2_for(&ctx.tenant.id, agent_identity, &claims) {
        Ok(())
    } else {
        Err(OAuthError::user_assertion_mismatch(
            claim(&claims, "iss"),
            claim(&claims, "sub"),
            claim(&claims, "aud"),
        ))
    }
}

/// A T1 issued by the Agent Identity's own Blueprint, in this tenant, for this Agent Identity.
fn is_t1_for(tenant_id: &str, agent_identity: &ClientRecord, claims: &Map<String, Value>) -> bool {
    let Some(blueprint) = agent_identity.blueprint_app_id.as_deref() else {
        return false;
    };
    claim(claims, "iss") == issuer(tenant_id, 2)
        && claim(claims, "aud") == TOKEN_EXCHANGE_APP_ID
        && claim(claims, "azp").eq_ignore_ascii_case(blueprint)
        && claim(claims, "sub") == fmi_subject(tenant_id, blueprint, &agent_identity.app_id)
}

/// A T2 of this Agent Identity: the exchange audience, issued to it, on behalf of its Blueprint.
fn is_t2_for(tenant_id: &str, agent_identity: &ClientRecord, claims: &Map<String, Value>) -> bool {
    let Some(blueprint) = agent_identity.blueprint_app_id.as_deref() else {
        return false;
    };
    claim(claims, "iss") == issuer(tenant_id, 2)
        && claim(claims, "aud") == TOKEN_EXCHANGE_APP_ID
        && claim(claims, "azp").eq_ignore_ascii_case(&agent_identity.app_id)
        && claim(claims, "oid").eq_ignore_ascii_case(&agent_identity.object_id)
        && claim(claims, "xms_par_app_azp").eq_ignore_ascii_case(blueprint)
}

/// A credential's audience matches a token's when they are equal or name the same resource
/// (`api://AzureADTokenExchange` and the exchange app's id).
fn same_audience(index: &Index, configured: &str, presented: &str) -> bool {
    configured == presented
        || index
            .resource(configured)
            .zip(index.resource(presented))
            .is_some_and(|(a, b)| a.app_id == b.app_id)
}
