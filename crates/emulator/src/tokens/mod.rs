//! Issuing and recognising the emulator's own tokens.

mod claims;
mod signer;

pub(crate) use claims::{AccessToken, IdToken, Identity, fmi_subject, issuer};
pub(crate) use signer::Signer;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// A random base64url string of `bytes` random bytes (token ids, refresh tokens, trace ids).
pub(crate) fn random_string(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}
