//! `Debug` for the messages that carry a secret. prost derives `Debug` for every message, and a
//! derived `Debug` of [`MintTokenResponse`] would print the access token into any log line, panic
//! or test failure that formats it with `{:?}`; build.rs turns the derive off for it, and this file
//! writes it by hand with the token redacted.

use std::fmt;

use crate::v1::MintTokenResponse;

impl fmt::Debug for MintTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintTokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_at_unix", &self.expires_at_unix)
            .field("scopes", &self.scopes)
            .field("cache_hit", &self.cache_hit)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_response_never_prints_its_token() {
        let response = MintTokenResponse {
            access_token: "eyJhbGciOi.secret-token-body.signature".into(),
            token_type: "Bearer".into(),
            expires_at_unix: 1,
            scopes: vec!["https://graph.microsoft.com/.default".into()],
            cache_hit: true,
        };
        for text in [format!("{response:?}"), format!("{response:#?}")] {
            assert!(!text.contains("secret-token-body"), "{text}");
            assert!(
                text.contains("[redacted]") && text.contains("Bearer"),
                "{text}"
            );
        }
    }
}
