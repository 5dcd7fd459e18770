//! The two claims the managed-identity endpoint reads from a minted token, without verifying it
//! (the gateway already checked every claim): which app it is for (`client_id` in the App Service
//! response) and which principal (to honour an `object_id` selector).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The identity a token speaks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// `appid` (v1 tokens) or `azp` (v2).
    pub client_id: Option<String>,
    pub object_id: Option<String>,
}

/// Reads the identity claims of a JWT; empty when it is not a JWT.
pub(crate) fn identity(token: &str) -> Identity {
    let Some(payload) = token.split('.').nth(1) else {
        return Identity::default();
    };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')) else {
        return Identity::default();
    };
    let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice(&bytes) else {
        return Identity::default();
    };
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    Identity {
        client_id: text("appid").or_else(|| text("azp")),
        object_id: text("oid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims))
    }

    #[test]
    fn reads_appid_or_azp_and_oid() {
        let id = identity(&jwt(r#"{"appid":"a","oid":"o"}"#));
        assert_eq!(id.client_id.as_deref(), Some("a"));
        assert_eq!(id.object_id.as_deref(), Some("o"));
        assert_eq!(
            identity(&jwt(r#"{"azp":"b"}"#)).client_id.as_deref(),
            Some("b")
        );
    }

    #[test]
    fn opaque_tokens_have_no_identity() {
        assert_eq!(identity("opaque"), Identity::default());
        assert_eq!(identity("a.!!!.c"), Identity::default());
        assert_eq!(identity(&jwt("[1]")), Identity::default());
    }
}
