//! Certificate client assertions (`private_key_jwt`): a JWT signed with the key of a certificate
//! registered on the app, named by `x5t#S256` (SHA-256 thumbprint) or legacy `x5t` (SHA-1).
//!
//! Checked in Entra's order: the certificate is registered and unexpired, the signature (RS256 or
//! PS256) verifies, `aud` is this token endpoint, `iss` = `sub` = client id, and `nbf`/`exp` hold
//! within five minutes of clock skew.

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde_json::{Map, Value};

use crate::directory::{ClientRecord, RegisteredCertificate};

use super::Ctx;
use super::error::OAuthError;
use super::validity::{self, Validity, claim};

pub(crate) fn verify(
    ctx: &Ctx<'_>,
    client: &ClientRecord,
    assertion: &str,
    header: &Header,
) -> Result<(), OAuthError> {
    let reject = |reason: &str| OAuthError::assertion_signature(&client.app_id, reason);
    let cert = find_certificate(client, header)?;
    let now = UNIX_EPOCH + Duration::from_secs(ctx.now());
    if !cert.is_valid_at(now) {
        return Err(reject("The key used is expired."));
    }
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
        return Err(reject("The signing algorithm must be RS256 or PS256."));
    }
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Map<String, Value>>(assertion, &cert.key, &validation)
        .map_err(|_| reject("The signature is invalid."))?
        .claims;
    if !token_endpoint_audiences(ctx)
        .iter()
        .any(|aud| aud.eq_ignore_ascii_case(claim(&claims, "aud")))
    {
        return Err(OAuthError::assertion_audience());
    }
    let names_client = |name: &str| claim(&claims, name).eq_ignore_ascii_case(&client.app_id);
    if !names_client("iss") || !names_client("sub") {
        return Err(OAuthError::assertion_client_mismatch());
    }
    match validity::check(&claims, ctx.now()) {
        Validity::Valid => Ok(()),
        Validity::NoExpiry => Err(OAuthError::malformed_assertion()),
        Validity::Outside { nbf, exp } => Err(OAuthError::assertion_time(ctx.now(), nbf, exp)),
    }
}

fn find_certificate<'c>(
    client: &'c ClientRecord,
    header: &Header,
) -> Result<&'c RegisteredCertificate, OAuthError> {
    let by_sha256 = header.x5t_s256.as_deref().and_then(decode_thumbprint);
    let by_sha1 = header.x5t.as_deref().and_then(decode_thumbprint);
    let found = client.certificates.iter().find(|cert| {
        by_sha256.as_deref() == Some(&cert.sha256[..]) || by_sha1.as_deref() == Some(&cert.sha1[..])
    });
    found.ok_or_else(|| {
        let presented = by_sha256.or(by_sha1).map(|t| hex(&t)).unwrap_or_default();
        OAuthError::assertion_signature(
            &client.app_id,
            &format!("The key was not found., Thumbprint of key used by client: '{presented}'"),
        )
    })
}

/// Thumbprints are base64url; MSAL Python pads them and some clients use the standard alphabet.
fn decode_thumbprint(text: &str) -> Option<Vec<u8>> {
    let normalized: String = text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(normalized).ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The audiences Entra accepts: this token endpoint (v2.0 or v1), named with the tenant segment
/// the request used or the tenant id.
fn token_endpoint_audiences(ctx: &Ctx<'_>) -> Vec<String> {
    let base = &ctx.request.base_url;
    let mut out = Vec::new();
    for tenant in [ctx.request.tenant.as_str(), ctx.tenant.id.as_str()] {
        out.push(format!("{base}/{tenant}/oauth2/v2.0/token"));
        out.push(format!("{base}/{tenant}/oauth2/token"));
    }
    out
}
