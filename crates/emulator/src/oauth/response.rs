//! A successful token response, with Entra's lifetime fields.

use serde::Serialize;

use crate::knobs::Knobs;

/// The JSON body of a token answer. Not `Debug`: it holds tokens.
#[derive(Serialize)]
pub(crate) struct TokenResponse {
    token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    expires_in: u64,
    ext_expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_in: Option<u64>,
    access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_info: Option<String>,
}

impl TokenResponse {
    /// An app token answer: `token_type`, `expires_in`, `ext_expires_in`, `refresh_in` when the
    /// knobs call for it, `access_token`.
    pub(crate) fn bearer(access_token: String, knobs: &Knobs) -> Self {
        let lifetime = knobs.token_lifetime.as_secs();
        Self {
            token_type: "Bearer",
            scope: None,
            expires_in: lifetime,
            ext_expires_in: lifetime,
            refresh_in: knobs.refresh_in_secs(),
            access_token,
            refresh_token: None,
            id_token: None,
            client_info: None,
        }
    }

    /// Adds the user-flow fields of hop 3.
    pub(crate) fn with_user_fields(
        mut self,
        scope: String,
        refresh_token: Option<String>,
        id_token: Option<String>,
        client_info: Option<String>,
    ) -> Self {
        self.scope = Some(scope);
        self.refresh_token = refresh_token;
        self.id_token = id_token;
        self.client_info = client_info;
        self
    }
}
