//! Unsigned JWTs with chosen claims, for code under test that reads claims without verifying a
//! signature (the gateway's client never verifies Entra's signatures; it checks claims).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// A JWT with an RS256 header, `claims` as its payload and a placeholder signature.
pub fn unsigned(claims: &Value) -> String {
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJl",
        enc(&json!({"alg": "RS256", "typ": "JWT"})),
        enc(claims)
    )
}

/// The decoded payload of any compact JWT (panics on a malformed one: tests only).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}
