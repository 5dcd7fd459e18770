//! Sandbox authentication: the caller's identity comes from the transport, never from a request
//! field.
//!
//! A sandbox presents `authorization: Bearer <credential>`. The gateway stores only SHA-256 hashes of
//! sandbox credentials, in a map keyed by the hash, so identifying a caller costs one hash and one
//! lookup whatever the number of sandboxes (10,000 cost what 1 does). The lookup stays safe against
//! timing attacks because the attacker chooses the credential, not its hash: how far a lookup gets
//! into a stored hash tells nothing about how close a guess was to a credential.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// The longest credential accepted; anything longer is refused before hashing.
pub const MAX_CREDENTIAL_LEN: usize = 4096;

/// Why a caller was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no sandbox credential was presented (expected `authorization: Bearer ...`)")]
    Missing,
    #[error("the sandbox credential is malformed")]
    Malformed,
    #[error("the sandbox credential is not recognised")]
    Unknown,
    #[error("the service-account token is refused: {0}")]
    ServiceAccount(#[from] crate::service_account::Refused),
}

/// A sandbox's stored identity: its name and the SHA-256 of its credential (`None` for a sandbox
/// identified by a service-account token, see [`crate::service_account`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxIdentity {
    pub name: String,
    pub credential_sha256: Option<[u8; 32]>,
}

/// Extracts the bearer credential from an `authorization` metadata value.
pub fn bearer(value: Option<&[u8]>) -> Result<&[u8], AuthError> {
    let value = value.ok_or(AuthError::Missing)?;
    if value.len() > MAX_CREDENTIAL_LEN + 7 {
        return Err(AuthError::Malformed);
    }
    let rest = value
        .strip_prefix(b"Bearer ")
        .or_else(|| value.strip_prefix(b"bearer "))
        .ok_or(AuthError::Malformed)?;
    if rest.is_empty() || rest.iter().any(|b| !b.is_ascii_graphic()) {
        return Err(AuthError::Malformed);
    }
    Ok(rest)
}

/// The sandboxes by the SHA-256 of their credential, each mapped to its index. When two sandboxes
/// share a credential (`config check` refuses this), the first one keeps it.
pub fn index(sandboxes: &[SandboxIdentity]) -> HashMap<[u8; 32], usize> {
    let mut by_hash = HashMap::with_capacity(sandboxes.len());
    for (i, sandbox) in sandboxes.iter().enumerate() {
        if let Some(hash) = sandbox.credential_sha256 {
            by_hash.entry(hash).or_insert(i);
        }
    }
    by_hash
}

/// Returns the index of the sandbox whose credential hash matches `credential`.
pub fn identify(credential: &[u8], index: &HashMap<[u8; 32], usize>) -> Result<usize, AuthError> {
    let presented: [u8; 32] = Sha256::digest(credential).into();
    index.get(&presented).copied().ok_or(AuthError::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox(name: &str, credential: &str) -> SandboxIdentity {
        SandboxIdentity {
            name: name.into(),
            credential_sha256: Some(Sha256::digest(credential.as_bytes()).into()),
        }
    }

    #[test]
    fn known_credential_identifies_its_sandbox() {
        let all = index(&[sandbox("a", "cred-a"), sandbox("b", "cred-b")]);
        assert_eq!(identify(b"cred-b", &all), Ok(1));
        assert_eq!(identify(b"cred-a", &all), Ok(0));
    }

    #[test]
    fn unknown_credential_is_refused() {
        let all = index(&[sandbox("a", "cred-a")]);
        assert_eq!(identify(b"cred-x", &all), Err(AuthError::Unknown));
        assert_eq!(identify(b"", &all), Err(AuthError::Unknown));
    }

    #[test]
    fn a_shared_credential_identifies_the_first_sandbox_that_has_it() {
        let all = index(&[sandbox("a", "same"), sandbox("b", "same")]);
        assert_eq!(identify(b"same", &all), Ok(0));
    }

    #[test]
    fn bearer_parsing_rejects_missing_and_malformed_values() {
        assert_eq!(bearer(None), Err(AuthError::Missing));
        assert_eq!(bearer(Some(b"Basic abc")), Err(AuthError::Malformed));
        assert_eq!(bearer(Some(b"Bearer ")), Err(AuthError::Malformed));
        assert_eq!(bearer(Some(b"Bearer a b")), Err(AuthError::Malformed));
        assert_eq!(bearer(Some(b"Bearer abc")), Ok(&b"abc"[..]));
        let long = [b'a'; MAX_CREDENTIAL_LEN + 100];
        let mut value = b"Bearer ".to_vec();
        value.extend_from_slice(&long);
        assert_eq!(bearer(Some(&value)), Err(AuthError::Malformed));
    }
}
