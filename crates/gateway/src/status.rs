//! The one mapping from gateway failures to gRPC statuses.
//!
//! Codes tell retryable from fatal (UNAVAILABLE is the only retryable one), and every status carries
//! a prost-encoded [`ErrorDetail`] with the reason, hop, upstream status, AADSTS code and correlation
//! id. Messages are agentmint's own words: an upstream body never reaches a caller.

use agentmint_entra::{EntraError, ErrorClass, Reason};
use agentmint_proto::ErrorDetail;
use prost::Message;
use tonic::{Code, Status};

/// Builds a status with structured details.
pub fn with_detail(code: Code, message: impl Into<String>, detail: ErrorDetail) -> Status {
    Status::with_details(code, message, detail.encode_to_vec().into())
}

/// A local (non-upstream) failure with a reason.
pub fn local(code: Code, reason: &str, message: impl Into<String>) -> Status {
    with_detail(
        code,
        message,
        ErrorDetail {
            reason: reason.to_owned(),
            ..ErrorDetail::default()
        },
    )
}

/// The gRPC code for an upstream failure.
pub fn code_for(err: &EntraError) -> Code {
    if err.class == ErrorClass::Transient {
        return Code::Unavailable;
    }
    match err.reason {
        Reason::InvalidScope | Reason::ResourceNotFound => Code::InvalidArgument,
        Reason::ClaimsMismatch | Reason::InvalidResponse | Reason::Other => Code::Internal,
        _ => Code::FailedPrecondition,
    }
}

/// Maps an upstream failure to a status carrying its details.
pub fn from_entra(err: &EntraError) -> Status {
    let detail = ErrorDetail {
        reason: err.reason.as_str().to_owned(),
        hop: err.hop.as_str().to_owned(),
        upstream_status: err.status.map(u32::from).unwrap_or(0),
        aadsts: err.aadsts_code().unwrap_or_default(),
        correlation_id: err.correlation_id.clone().unwrap_or_default(),
        retry_after_seconds: retry_after_seconds(err),
        retryable: err.is_transient(),
    };
    with_detail(code_for(err), err.to_string(), detail)
}

fn retry_after_seconds(err: &EntraError) -> u32 {
    if !err.is_transient() {
        return 0;
    }
    let secs = err.retry_after.map(|d| d.as_secs().max(1)).unwrap_or(1);
    u32::try_from(secs).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentmint_entra::Hop;
    use std::time::Duration;

    fn detail(status: &Status) -> ErrorDetail {
        ErrorDetail::decode(status.details()).expect("details decode")
    }

    #[test]
    fn transient_errors_are_unavailable_with_retry_after() {
        let mut err = EntraError::new(
            Hop::AgentIdentity,
            ErrorClass::Transient,
            Reason::Throttled,
            "throttled",
        );
        err.status = Some(429);
        err.retry_after = Some(Duration::from_secs(7));
        let status = from_entra(&err);
        assert_eq!(status.code(), Code::Unavailable);
        let d = detail(&status);
        assert_eq!(d.reason, "THROTTLED");
        assert_eq!(d.hop, "agent_identity");
        assert_eq!(d.upstream_status, 429);
        assert_eq!(d.retry_after_seconds, 7);
        assert!(d.retryable);
    }

    #[test]
    fn permanent_errors_name_the_aadsts_code_and_correlation_id() {
        let mut err = EntraError::new(
            Hop::Blueprint,
            ErrorClass::Permanent,
            Reason::FicMismatch,
            "no federated identity credential matches",
        );
        err.status = Some(400);
        err.aadsts = vec![70021];
        err.correlation_id = Some("corr-1".into());
        let status = from_entra(&err);
        assert_eq!(status.code(), Code::FailedPrecondition);
        let d = detail(&status);
        assert_eq!(d.aadsts, "AADSTS70021");
        assert_eq!(d.correlation_id, "corr-1");
        assert_eq!(d.retry_after_seconds, 0);
        assert!(!d.retryable);
    }

    #[test]
    fn claims_mismatch_is_internal() {
        let err = EntraError::new(
            Hop::App,
            ErrorClass::Permanent,
            Reason::ClaimsMismatch,
            "appid mismatch",
        );
        assert_eq!(from_entra(&err).code(), Code::Internal);
    }
}
