//! The details of a failed mint, on the wire as gRPC's standard rich error model, so that any
//! gRPC client (grpcio-status, Go's `status.Details`, tonic-types) decodes them without our stubs.
//!
//! The status `details` bytes are a `google.rpc.Status` carrying a `google.rpc.ErrorInfo` (reason =
//! a [`Reason`]'s wire spelling, domain [`DOMAIN`], metadata under the [`key`] names: hop, upstream
//! status, AADSTS code, correlation id, each only when known) and, when a retry may succeed, a
//! `google.rpc.RetryInfo` with its delay. The gateway encodes and the resolver decodes through this
//! one type, so the keys are spelled once, like the reasons.

use std::collections::HashMap;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::Reason;

/// `ErrorInfo.domain` of every agentmint failure.
pub const DOMAIN: &str = "agentmint.dev";

/// The `ErrorInfo.metadata` keys.
pub mod key {
    /// The hop that failed: `blueprint`, `agent_identity`, `agent_user`, `managed_identity`, `app`.
    pub const HOP: &str = "hop";
    /// The upstream HTTP status, as decimal digits.
    pub const UPSTREAM_STATUS: &str = "upstream_status";
    /// The first AADSTS code, e.g. `AADSTS70021`.
    pub const AADSTS: &str = "aadsts";
    /// Entra's correlation id (or the gateway's own `client-request-id`).
    pub const CORRELATION_ID: &str = "correlation_id";
}

/// What a failed mint says beyond its code and message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureDetails {
    /// A [`Reason`]'s wire spelling (a newer gateway may send one this build does not know).
    pub reason: String,
    pub hop: Option<String>,
    pub upstream_status: Option<u16>,
    pub aadsts: Option<String>,
    pub correlation_id: Option<String>,
    /// Present when a retry may succeed: after this long.
    pub retry_after: Option<Duration>,
}

impl FailureDetails {
    /// Details naming `reason` and nothing else.
    pub fn new(reason: Reason) -> Self {
        Self {
            reason: reason.as_str().to_owned(),
            ..Self::default()
        }
    }

    /// The status carrying these details as `ErrorInfo` (and `RetryInfo` when retryable).
    pub fn into_status(self, code: Code, message: impl Into<String>) -> Status {
        let mut metadata = HashMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                metadata.insert(k.to_owned(), v);
            }
        };
        put(key::HOP, self.hop);
        put(
            key::UPSTREAM_STATUS,
            self.upstream_status.map(|s| s.to_string()),
        );
        put(key::AADSTS, self.aadsts);
        put(key::CORRELATION_ID, self.correlation_id);
        let mut details = ErrorDetails::with_error_info(self.reason, DOMAIN, metadata);
        if let Some(delay) = self.retry_after {
            details.set_retry_info(Some(delay));
        }
        Status::with_error_details(code, message, details)
    }

    /// The details of `status`, if it carries an agentmint `ErrorInfo`; `None` for statuses that
    /// did not come from a gateway (tonic's own transport errors) or from another domain.
    pub fn from_status(status: &Status) -> Option<Self> {
        let details = status.check_error_details().ok()?;
        let info = details.error_info()?;
        if info.domain != DOMAIN {
            return None;
        }
        let get = |k: &str| info.metadata.get(k).cloned();
        Some(Self {
            reason: info.reason.clone(),
            hop: get(key::HOP),
            upstream_status: get(key::UPSTREAM_STATUS).and_then(|s| s.parse().ok()),
            aadsts: get(key::AADSTS),
            correlation_id: get(key::CORRELATION_ID),
            retry_after: details.retry_info().and_then(|r| r.retry_delay),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_round_trip_through_the_standard_messages() {
        let details = FailureDetails {
            hop: Some("blueprint".into()),
            upstream_status: Some(429),
            aadsts: Some("AADSTS50196".into()),
            correlation_id: Some("0b5e-42".into()),
            retry_after: Some(Duration::from_secs(7)),
            ..FailureDetails::new(Reason::Throttled)
        };
        let status = details.clone().into_status(Code::Unavailable, "throttled");
        let info = status.get_details_error_info().expect("an ErrorInfo");
        assert_eq!(info.reason, "THROTTLED");
        assert_eq!(info.domain, DOMAIN);
        assert_eq!(info.metadata[key::HOP], "blueprint");
        assert_eq!(
            status.get_details_retry_info().unwrap().retry_delay,
            Some(Duration::from_secs(7))
        );
        assert_eq!(FailureDetails::from_status(&status), Some(details));
    }

    #[test]
    fn a_permanent_failure_has_no_retry_info_and_unknown_fields_are_left_out() {
        let status =
            FailureDetails::new(Reason::NotAttached).into_status(Code::PermissionDenied, "no");
        assert!(status.get_details_retry_info().is_none());
        let info = status.get_details_error_info().unwrap();
        assert!(info.metadata.is_empty(), "{:?}", info.metadata);
    }

    #[test]
    fn statuses_without_agentmint_details_have_none() {
        assert_eq!(
            FailureDetails::from_status(&Status::unavailable("tcp connect error")),
            None
        );
        let foreign = Status::with_error_details(
            Code::Internal,
            "x",
            ErrorDetails::with_error_info("R", "example.com", HashMap::new()),
        );
        assert_eq!(FailureDetails::from_status(&foreign), None);
        let garbage = Status::with_details(Code::Internal, "x", vec![0xff, 0x01].into());
        assert_eq!(FailureDetails::from_status(&garbage), None);
    }
}
