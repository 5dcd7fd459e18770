//! Client assertions signed with a certificate, and their reuse.
//!
//! An assertion is valid for ten minutes; Entra accepts it any number of times in that window, so
//! one is reused per (audience, client id) until a minute before it expires, as MSAL does. This
//! memo is the credential's own: it is not a token cache and never calls Entra.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::Header;
use serde::Serialize;

use super::CredentialError;
use super::certificate::{
    CertificateCredential, ExpiryStatus, SigningAlgorithm, display_time, expiry_status,
};
use crate::secret::Secret;

/// How long a signed assertion is valid.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);
/// A memoised assertion is replaced when less than this remains.
pub const ASSERTION_REUSE_MARGIN: Duration = Duration::from_secs(60);
/// The memo never holds more entries than this (one per audience and client id in practice).
const MEMO_BOUND: usize = 64;

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

struct Memoised {
    assertion: Secret,
    issued_at: SystemTime,
    expires_at: SystemTime,
}

/// Assertions by (audience, client id).
#[derive(Default)]
pub(crate) struct AssertionMemo(HashMap<(String, String), Memoised>);

impl CertificateCredential {
    /// A signed client assertion for `client_id` at the token endpoint `audience`, reused while more
    /// than a minute of it remains.
    ///
    /// An expired certificate is an error (Entra would refuse it with a less helpful message); one
    /// within 30 days of expiry logs a warning each time a new assertion is signed.
    pub fn assertion(&self, audience: &str, client_id: &str) -> Result<Secret, CredentialError> {
        let now = self.clock.wall();
        match expiry_status(self.not_after(), now) {
            ExpiryStatus::Expired => {
                return Err(CredentialError::Expired {
                    thumbprint: self.thumbprint_sha256.clone(),
                    not_after: display_time(self.not_after()),
                });
            }
            ExpiryStatus::ExpiringSoon { remaining } => {
                tracing::warn!(
                    thumbprint = %self.thumbprint_sha256,
                    not_after = %display_time(self.not_after()),
                    days_left = remaining.as_secs() / 86_400,
                    "certificate credential expires soon; rotate it"
                );
            }
            ExpiryStatus::Valid => {}
        }

        let key = (audience.to_owned(), client_id.to_owned());
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = memo.0.get(&key) {
            // A clock that jumped back before `issued_at` would make `nbf` lie in the future.
            let fresh = now >= m.issued_at
                && m.expires_at
                    .duration_since(now)
                    .is_ok_and(|left| left > ASSERTION_REUSE_MARGIN);
            if fresh {
                return Ok(m.assertion.clone());
            }
        }
        let assertion = self.sign(audience, client_id, now)?;
        if memo.0.len() >= MEMO_BOUND {
            memo.0.clear();
        }
        memo.0.insert(
            key,
            Memoised {
                assertion: assertion.clone(),
                issued_at: now,
                expires_at: now + ASSERTION_LIFETIME,
            },
        );
        Ok(assertion)
    }

    fn sign(
        &self,
        audience: &str,
        client_id: &str,
        now: SystemTime,
    ) -> Result<Secret, CredentialError> {
        let mut header = Header::new(self.algorithm.jws());
        header.typ = Some("JWT".to_owned());
        match self.algorithm {
            SigningAlgorithm::Ps256 => header.x5t_s256 = Some(self.thumbprint_sha256.clone()),
            SigningAlgorithm::Rs256 => header.x5t = Some(self.thumbprint_sha1.clone()),
        }
        let iat = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let claims = Claims {
            aud: audience,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: iat,
            iat,
            exp: iat + ASSERTION_LIFETIME.as_secs(),
        };
        let jwt = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|_| {
            CredentialError::Signing {
                thumbprint: self.thumbprint_sha256.clone(),
            }
        })?;
        Ok(Secret::new(jwt))
    }
}
