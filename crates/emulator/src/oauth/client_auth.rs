//! Client authentication: who is asking, and what proves it. One of a client assertion (a JWT
//! signed by a registered certificate, or a token this emulator issued that the client trusts) or
//! a client secret.

use crate::directory::{ClientRecord, hash_client_secret};

use super::error::OAuthError;
use super::{Ctx, certificate_assertion, federated};

/// The only `client_assertion_type` Entra accepts.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An authenticated client.
pub(crate) struct Authenticated<'a> {
    pub(crate) client: &'a ClientRecord,
    /// `appidacr`/`azpacr`: "1" for a client secret, "2" for an assertion.
    pub(crate) acr: &'static str,
}

/// Identifies the client and checks its credential.
pub(crate) fn authenticate<'a>(ctx: &Ctx<'a>) -> Result<Authenticated<'a>, OAuthError> {
    let params = ctx.params();
    let client_id = params.require("client_id")?;
    let client = ctx
        .tenant
        .client(client_id)
        .ok_or_else(|| OAuthError::client_not_found(client_id, &ctx.tenant.id))?;
    if let Some(assertion) = params.get("client_assertion") {
        let kind = params.require("client_assertion_type")?;
        if kind != JWT_BEARER {
            return Err(OAuthError::assertion_type(kind));
        }
        let header = jsonwebtoken::decode_header(assertion)
            .map_err(|_| OAuthError::malformed_assertion())?;
        // A token this emulator issued (T1, a managed-identity token) names its key by `kid`;
        // a certificate assertion names its certificate by thumbprint.
        if header.kid.as_deref() == Some(ctx.emulator.signer().kid()) {
            federated::authenticate_client(ctx, client, assertion)?;
        } else {
            if let Some(label) = certificate_label(&header) {
                ctx.emulator.record_credential(label);
            }
            certificate_assertion::verify(ctx, client, assertion, &header)?;
        }
        return Ok(Authenticated { client, acr: "2" });
    }
    if let Some(secret) = params.get("client_secret") {
        let hash = hash_client_secret(secret);
        ctx.emulator
            .record_credential(format!("client_secret:sha256:{}", &hash[..12]));
        return if client.secret_hashes.contains(&hash) {
            Ok(Authenticated { client, acr: "1" })
        } else {
            Err(OAuthError::bad_secret(&client.app_id))
        };
    }
    Err(OAuthError::no_credential())
}

/// How a certificate assertion is counted in the stats: by the thumbprint header it names.
fn certificate_label(header: &jsonwebtoken::Header) -> Option<String> {
    match (&header.x5t_s256, &header.x5t) {
        (Some(sha256), _) => Some(format!("x5t#S256:{sha256}")),
        (None, Some(sha1)) => Some(format!("x5t:{sha1}")),
        (None, None) => None,
    }
}
