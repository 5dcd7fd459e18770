//! Sandbox authentication: the caller's identity comes from the transport, never from a request
//! field.
//!
//! A sandbox presents `authorization: Bearer <credential>`. The gateway stores only SHA-256 hashes of
//! sandbox credentials and compares the presented credential's hash against every known hash in
//! constant time, without stopping at the first match, so neither the comparison nor the loop tells
//! an attacker how close a guess was or which sandbox it matched.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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
}

/// A sandbox's stored identity: its name and the SHA-256 of its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxIdentity {
    pub name: String,
    pub credential_sha256: [u8; 32],
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

/// Returns the index of the sandbox whose credential hash matches `credential`.
pub fn identify(credential: &[u8], sandboxes: &[SandboxIdentity]) -> Result<usize, AuthError> {
    let presented: [u8; 32] = Sha256::digest(credential).into();
    let mut found: Option<usize> = None;
    for (i, sandbox) in sandboxes.iter().enumerate() {
        let equal: bool = sandbox.credential_sha256.ct_eq(&presented).into();
        if equal && found.is_none() {
            found = Some(i);
        }
    }
    found.ok_or(AuthError::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox(name: &str, credential: &str) -> SandboxIdentity {
        SandboxIdentity {
            name: name.into(),
            credential_sha256: Sha256::digest(credential.as_bytes()).into(),
        }
    }

    #[test]
    fn known_credential_identifies_its_sandbox() {
        let all = [sandbox("a", "cred-a"), sandbox("b", "cred-b")];
        assert_eq!(identify(b"cred-b", &all), Ok(1));
        assert_eq!(identify(b"cred-a", &all), Ok(0));
    }

    #[test]
    fn unknown_credential_is_refused() {
        let all = [sandbox("a", "cred-a")];
        assert_eq!(identify(b"cred-x", &all), Err(AuthError::Unknown));
        assert_eq!(identify(b"", &all), Err(AuthError::Unknown));
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
