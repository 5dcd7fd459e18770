//! The one mapping from how a mint can fail to a gRPC status.
//!
//! A mint ends in a token or a [`MintFailure`]: a [`Refusal`] decided locally, or an upstream
//! [`EntraError`]. Codes tell retryable from fatal (UNAVAILABLE is the only retryable one), and every
//! status carries gRPC's standard rich error details ([`FailureDetails`]): a `google.rpc.ErrorInfo`
//! whose reason is one of the shared [`Reason`](agentmint_proto::Reason)s, with the hop, upstream
//! status, AADSTS code and correlation id of an upstream failure as metadata, and a
//! `google.rpc.RetryInfo` when a retry may succeed. Messages are agentmint's own words: an upstream
//! body never reaches a caller.

use agentmint_entra::{EntraError, ErrorClass, Reason as EntraReason};
use std::time::Duration;

use agentmint_proto::{FailureDetails, Reason};
use tonic::{Code, Status};

use crate::plan::Refusal;
use crate::policy::PolicyError;

/// Why a mint produced no token.
#[derive(Debug, thiserror::Error)]
pub enum MintFailure {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Upstream(#[from] EntraError),
    /// The caller's deadline passed first; the mint goes on without it.
    #[error(
        "the caller's deadline passed while the token was still being minted; the mint goes on, retry to get it"
    )]
    MintInProgress,
}

impl MintFailure {
    /// The status a caller receives.
    pub fn to_status(&self) -> Status {
        match self {
            MintFailure::Refused(refusal) => refused(refusal),
            MintFailure::Upstream(err) => from_entra(err),
            MintFailure::MintInProgress => FailureDetails {
                retry_after: Some(crate::deadline::MINT_IN_PROGRESS_RETRY_AFTER),
                ..FailureDetails::new(Reason::MintInProgress)
            }
            .into_status(Code::Unavailable, self.to_string()),
        }
    }
}

/// The status of a local refusal.
fn refused(refusal: &Refusal) -> Status {
    let code = match refusal {
        Refusal::Unauthenticated(_) => Code::Unauthenticated,
        Refusal::InvalidProvider | Refusal::InvalidKind => Code::InvalidArgument,
        Refusal::NotAttached { .. }
        | Refusal::Scopes(PolicyError::NotAllowed(_) | PolicyError::ExchangeScope(_)) => {
            Code::PermissionDenied
        }
        Refusal::NoAgentUser(_) => Code::FailedPrecondition,
        Refusal::Scopes(_) => Code::InvalidArgument,
    };
    FailureDetails::new(refusal.reason()).into_status(code, refusal.to_string())
}

/// The gRPC code for an upstream failure.
fn code_for(err: &EntraError) -> Code {
    if err.class == ErrorClass::Transient {
        return Code::Unavailable;
    }
    match err.reason {
        EntraReason::InvalidScope | EntraReason::ResourceNotFound => Code::InvalidArgument,
        EntraReason::ClaimsMismatch | EntraReason::InvalidResponse | EntraReason::Other => {
            Code::Internal
        }
        _ => Code::FailedPrecondition,
    }
}

/// The shared reason for the entra crate's typed one (exhaustive: a new entra reason must be
/// given its wire spelling here).
pub fn reason(reason: EntraReason) -> Reason {
    match reason {
        EntraReason::ConsentRequired => Reason::ConsentRequired,
        EntraReason::FicMismatch => Reason::FicMismatch,
        EntraReason::AssertionRejected => Reason::AssertionRejected,
        EntraReason::ClockSkew => Reason::ClockSkew,
        EntraReason::InvalidClient => Reason::InvalidClient,
        EntraReason::InvalidScope => Reason::InvalidScope,
        EntraReason::InvalidGrant => Reason::InvalidGrant,
        EntraReason::InvalidRequest => Reason::InvalidRequest,
        EntraReason::UnknownApplication => Reason::UnknownApplication,
        EntraReason::TenantNotFound => Reason::TenantNotFound,
        EntraReason::ResourceNotFound => Reason::ResourceNotFound,
        EntraReason::InteractionRequired => Reason::InteractionRequired,
        EntraReason::Throttled => Reason::Throttled,
        EntraReason::UpstreamUnavailable => Reason::UpstreamUnavailable,
        EntraReason::Timeout => Reason::Timeout,
        EntraReason::Network => Reason::Network,
        EntraReason::InvalidResponse => Reason::InvalidResponse,
        EntraReason::ClaimsMismatch => Reason::ClaimsMismatch,
        EntraReason::Credential => Reason::Credential,
        EntraReason::Other => Reason::Other,
    }
}

/// Maps an upstream failure to a status carrying its details.
fn from_entra(err: &EntraError) -> Status {
    let details = FailureDetails {
        reason: reason(err.reason).as_str().to_owned(),
        hop: Some(err.hop.as_str().to_owned()),
        upstream_status: err.status,
        aadsts: err.aadsts_code(),
        correlation_id: err.correlation_id.clone(),
        retry_after: retry_after(err),
    };
    details.into_status(code_for(err), err.to_string())
}

/// The `result` label of a status code in the mint counter (a closed set).
pub fn code_label(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::InvalidArgument => "invalid_argument",
        Code::NotFound => "not_found",
        Code::PermissionDenied => "permission_denied",
        Code::FailedPrecondition => "failed_precondition",
        Code::Unauthenticated => "unauthenticated",
        Code::Unavailable => "unavailable",
        Code::Internal => "internal",
        _ => "other",
    }
}

/// The retry delay of a transient failure: its `Retry-After`, at least a second; `None` for a
/// permanent one (no `RetryInfo`).
fn retry_after(err: &EntraError) -> Option<Duration> {
    err.is_transient().then(|| {
        err.retry_after
            .unwrap_or(Duration::ZERO)
            .max(Duration::from_secs(1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentmint_entra::Hop;

    use tonic_types::StatusExt;

    fn detail(status: &Status) -> FailureDetails {
        FailureDetails::from_status(status).expect("agentmint details")
    }

    #[test]
    fn transient_errors_are_unavailable_with_retry_after() {
        let mut err = EntraError::new(
            Hop::AgentIdentity,
            ErrorClass::Transient,
            EntraReason::Throttled,
            "throttled",
        );
        err.status = Some(429);
        err.retry_after = Some(Duration::from_secs(7));
        let status = from_entra(&err);
        assert_eq!(status.code(), Code::Unavailable);
        // Decoded as any client would: the standard ErrorInfo and RetryInfo.
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "THROTTLED");
        assert_eq!(info.domain, "agentmint.dev");
        assert_eq!(info.metadata["hop"], "agent_identity");
        assert_eq!(info.metadata["upstream_status"], "429");
        let retry = status.get_details_retry_info().expect("RetryInfo");
        assert_eq!(retry.retry_delay, Some(Duration::from_secs(7)));
    }

    #[test]
    fn permanent_errors_name_the_aadsts_code_and_correlation_id() {
        let mut err = EntraError::new(
            Hop::Blueprint,
            ErrorClass::Permanent,
            EntraReason::FicMismatch,
            "no federated identity credential matches",
        );
        err.status = Some(400);
        err.aadsts = vec![70021];
        err.correlation_id = Some("corr-1".into());
        let status = from_entra(&err);
        assert_eq!(status.code(), Code::FailedPrecondition);
        let d = detail(&status);
        assert_eq!(d.aadsts.as_deref(), Some("AADSTS70021"));
        assert_eq!(d.correlation_id.as_deref(), Some("corr-1"));
        assert_eq!(
            d.retry_after, None,
            "a permanent failure carries no RetryInfo"
        );
    }

    #[test]
    fn a_passed_caller_deadline_is_unavailable_mint_in_progress_with_a_retry_delay() {
        let status = MintFailure::MintInProgress.to_status();
        assert_eq!(status.code(), Code::Unavailable);
        let d = detail(&status);
        assert_eq!(d.reason, "MINT_IN_PROGRESS");
        assert_eq!(d.retry_after, Some(Duration::from_secs(1)));
    }

    #[test]
    fn claims_mismatch_is_internal() {
        let err = EntraError::new(
            Hop::App,
            ErrorClass::Permanent,
            EntraReason::ClaimsMismatch,
            "appid mismatch",
        );
        assert_eq!(from_entra(&err).code(), Code::Internal);
    }

    #[test]
    fn entra_reasons_keep_their_spelling_on_the_wire() {
        use EntraReason as E;
        for r in [
            E::ConsentRequired,
            E::FicMismatch,
            E::AssertionRejected,
            E::ClockSkew,
            E::InvalidClient,
            E::InvalidScope,
            E::InvalidGrant,
            E::InvalidRequest,
            E::UnknownApplication,
            E::TenantNotFound,
            E::ResourceNotFound,
            E::InteractionRequired,
            E::Throttled,
            E::UpstreamUnavailable,
            E::Timeout,
            E::Network,
            E::InvalidResponse,
            E::ClaimsMismatch,
            E::Credential,
            E::Other,
        ] {
            assert_eq!(reason(r).as_str(), r.as_str());
        }
    }

    #[test]
    fn refusals_map_to_their_codes_and_reasons() {
        for (refusal, code, wire) in [
            (
                Refusal::Unauthenticated(crate::auth::AuthError::Missing),
                Code::Unauthenticated,
                "UNAUTHENTICATED",
            ),
            (
                Refusal::InvalidProvider,
                Code::InvalidArgument,
                "INVALID_PROVIDER",
            ),
            (
                Refusal::NotAttached {
                    provider: "p".into(),
                    sandbox: "s".into(),
                    configured: true,
                },
                Code::PermissionDenied,
                "NOT_ATTACHED",
            ),
            (Refusal::InvalidKind, Code::InvalidArgument, "INVALID_KIND"),
            (
                Refusal::NoAgentUser("p".into()),
                Code::FailedPrecondition,
                "NO_AGENT_USER",
            ),
            (
                Refusal::Scopes(PolicyError::NotAllowed("x".into())),
                Code::PermissionDenied,
                "SCOPE_NOT_ALLOWED",
            ),
            (
                Refusal::Scopes(PolicyError::ExchangeScope(
                    "api://AzureADTokenExchange/.default".into(),
                )),
                Code::PermissionDenied,
                "SCOPE_NOT_ALLOWED",
            ),
            (
                Refusal::Scopes(PolicyError::NoDefault),
                Code::InvalidArgument,
                "INVALID_SCOPE",
            ),
        ] {
            let status = MintFailure::from(refusal.clone()).to_status();
            assert_eq!(status.code(), code, "{refusal:?}");
            assert_eq!(status.message(), refusal.to_string());
            assert_eq!(detail(&status).reason, wire);
            assert!(status.get_details_retry_info().is_none(), "{refusal:?}");
        }
    }
}
