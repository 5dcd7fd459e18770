//! The machine-readable reasons a mint is refused or fails for, spelled once for every crate that
//! names them: carried on the wire as `google.rpc.ErrorInfo.reason` (see the proto crate's
//! `FailureDetails`).
//!
//! The gateway writes them (its own refusals, and Entra failures mapped
//! from the entra crate's typed errors) and the sandbox reads them to explain a refusal in its own
//! words; the entra crate's upstream causes are a subset of them. All three depend on this leaf
//! crate (the proto crate re-exports it as `agentmint_proto::Reason`), so the spelling lives here:
//! a reason renamed in one place without the others no longer compiles.

/// One reason a mint was refused or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    // Refusals decided by the gateway before any upstream call.
    /// No recognised sandbox credential was presented.
    Unauthenticated,
    /// The provider name is empty, too long or has control characters.
    InvalidProvider,
    /// No provider of that name is configured. Kept for the wire's sake (a resolver still
    /// explains it), but the gateway no longer sends it: an unknown name answers `NotAttached`, so
    /// a sandbox cannot probe which providers exist.
    UnknownProvider,
    /// The provider is not attached to the calling sandbox (or does not exist at all).
    NotAttached,
    /// The token kind is unspecified.
    InvalidKind,
    /// A user token was asked of a provider that names no agent user.
    NoAgentUser,
    /// A requested scope is outside the provider's allowlist for the kind.
    ScopeNotAllowed,
    /// The requested scopes are malformed, or none were named and there is no default.
    InvalidScope,
    // Failures of the Entra chain, reported by the gateway.
    ConsentRequired,
    FicMismatch,
    AssertionRejected,
    ClockSkew,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    UnknownApplication,
    TenantNotFound,
    ResourceNotFound,
    InteractionRequired,
    Throttled,
    UpstreamUnavailable,
    Timeout,
    Network,
    InvalidResponse,
    ClaimsMismatch,
    Credential,
    /// An upstream failure with no more specific reason.
    Other,
    // The caller's deadline.
    /// The caller's deadline passed while its mint was still running. The mint goes on (as the
    /// one flight for its key), so a retry after the indicated delay is likely served from it.
    MintInProgress,
}

impl Reason {
    /// Every reason, in declaration order (so `ALL[reason as usize] == reason`), for exhaustive
    /// tests, parsing and the entra crate's mapping of its upstream causes.
    pub const ALL: [Reason; 28] = [
        Reason::Unauthenticated,
        Reason::InvalidProvider,
        Reason::UnknownProvider,
        Reason::NotAttached,
        Reason::InvalidKind,
        Reason::NoAgentUser,
        Reason::ScopeNotAllowed,
        Reason::InvalidScope,
        Reason::ConsentRequired,
        Reason::FicMismatch,
        Reason::AssertionRejected,
        Reason::ClockSkew,
        Reason::InvalidClient,
        Reason::InvalidGrant,
        Reason::InvalidRequest,
        Reason::UnknownApplication,
        Reason::TenantNotFound,
        Reason::ResourceNotFound,
        Reason::InteractionRequired,
        Reason::Throttled,
        Reason::UpstreamUnavailable,
        Reason::Timeout,
        Reason::Network,
        Reason::InvalidResponse,
        Reason::ClaimsMismatch,
        Reason::Credential,
        Reason::Other,
        Reason::MintInProgress,
    ];

    /// The stable wire spelling (`SCREAMING_SNAKE_CASE`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Unauthenticated => "UNAUTHENTICATED",
            Reason::InvalidProvider => "INVALID_PROVIDER",
            Reason::UnknownProvider => "UNKNOWN_PROVIDER",
            Reason::NotAttached => "NOT_ATTACHED",
            Reason::InvalidKind => "INVALID_KIND",
            Reason::NoAgentUser => "NO_AGENT_USER",
            Reason::ScopeNotAllowed => "SCOPE_NOT_ALLOWED",
            Reason::InvalidScope => "INVALID_SCOPE",
            Reason::ConsentRequired => "CONSENT_REQUIRED",
            Reason::FicMismatch => "FIC_MISMATCH",
            Reason::AssertionRejected => "ASSERTION_REJECTED",
            Reason::ClockSkew => "CLOCK_SKEW",
            Reason::InvalidClient => "INVALID_CLIENT",
            Reason::InvalidGrant => "INVALID_GRANT",
            Reason::InvalidRequest => "INVALID_REQUEST",
            Reason::UnknownApplication => "UNKNOWN_APPLICATION",
            Reason::TenantNotFound => "TENANT_NOT_FOUND",
            Reason::ResourceNotFound => "RESOURCE_NOT_FOUND",
            Reason::InteractionRequired => "INTERACTION_REQUIRED",
            Reason::Throttled => "THROTTLED",
            Reason::UpstreamUnavailable => "UPSTREAM_UNAVAILABLE",
            Reason::Timeout => "TIMEOUT",
            Reason::Network => "NETWORK",
            Reason::InvalidResponse => "INVALID_RESPONSE",
            Reason::ClaimsMismatch => "CLAIMS_MISMATCH",
            Reason::Credential => "CREDENTIAL",
            Reason::Other => "OTHER",
            Reason::MintInProgress => "MINT_IN_PROGRESS",
        }
    }

    /// The reason a wire spelling names, if any.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_round_trips_through_its_spelling() {
        for reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(Reason::parse("free text"), None);
    }

    #[test]
    fn all_lists_every_reason_at_its_discriminant() {
        for (index, reason) in Reason::ALL.into_iter().enumerate() {
            assert_eq!(reason as usize, index, "{reason}");
        }
    }

    #[test]
    fn spellings_are_distinct_screaming_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for reason in Reason::ALL {
            let s = reason.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{s}"
            );
        }
    }
}
