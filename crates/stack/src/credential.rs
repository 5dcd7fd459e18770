//! Sandbox bearer credentials as an operator would generate them: 32 random bytes, hex-encoded, and
//! the SHA-256 hex digest that `[[sandbox]] credential_sha256` takes.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh random credential (64 hex characters).
pub fn random_credential() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The hex SHA-256 of `credential`, as `credential_sha256` takes it.
pub fn credential_sha256(credential: &str) -> String {
    hex::encode(Sha256::digest(credential.as_bytes()))
}
