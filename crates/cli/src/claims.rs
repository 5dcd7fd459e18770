//! Showing a token's claims to a person: the interesting ones, never the token itself.

use serde_json::{Map, Value};

/// The claims shown side by side by `demo` and `token`.
pub const SHOWN: [&str; 11] = [
    "aud",
    "iss",
    "appid",
    "azp",
    "oid",
    "idtyp",
    "tid",
    "scp",
    "roles",
    "xms_par_app_azp",
    "exp",
];

/// Decodes a JWT's payload (no signature check: display only).
pub fn decode(token: &str) -> Option<Map<String, Value>> {
    agentmint_gateway::claims::decode_payload(token).ok()
}

/// A claim as a short display string.
pub fn show(claims: &Map<String, Value>, name: &str) -> String {
    match claims.get(name) {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    }
}
