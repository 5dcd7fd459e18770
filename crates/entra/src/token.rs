//! What a successful grant yields, and what a cache hands back.

use std::sync::Arc;
use std::time::Duration;

use crate::secret::Secret;

/// A token as parsed from a successful token-endpoint (or managed-identity) response.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: Secret,
    /// "Bearer" in practice.
    pub token_type: String,
    /// Lifetime from the moment the response was received. Always positive and bounded (see
    /// `response`): a missing or absurd `expires_in` is an error, never a token that lives forever.
    pub expires_in: Duration,
    /// Entra's hint for a proactive refresh, when present.
    pub refresh_in: Option<Duration>,
    /// The `scope` the endpoint reported, when present.
    pub scope: Option<String>,
}

/// A token handed out by a [`crate::cache::HopCache`].
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: Arc<IssuedToken>,
    /// True when no upstream call was made for this request.
    pub cache_hit: bool,
    /// Wall-clock expiry (Unix seconds), for responses to callers.
    pub expires_at_unix: i64,
}
