//! The one mapping from everything that can go wrong with a local request to an HTTP status and
//! an error description in the resolver's own words.
//!
//! Gateway failures map by gRPC code:
//!
//! | gRPC code | HTTP | `error` |
//! |---|---|---|
//! | UNAUTHENTICATED | 500 | `sandbox_credential_rejected`: the *sandbox* is misconfigured, not the caller |
//! | PERMISSION_DENIED | 403 | `permission_denied` |
//! | NOT_FOUND | 404 | `not_found` |
//! | FAILED_PRECONDITION | 409 | `failed_precondition` (e.g. a user token on a provider with no agent user) |
//! | INVALID_ARGUMENT | 400 | `invalid_request` |
//! | UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ABORTED, CANCELLED | 503 + `Retry-After` | `temporarily_unavailable` |
//! | no answer (connection refused or reset, timeout) | 503 + `Retry-After` | `gateway_unavailable` |
//! | anything else | 502 | `bad_gateway` |
//!
//! UNAUTHENTICATED is a 500, not a 401: the caller cannot fix it by presenting anything, and a
//! 401 would invite SDKs to prompt or re-authenticate.
//!
//! The gateway's status *message* is never used: only its structured details (the standard
//! `ErrorInfo` reason and metadata, and `RetryInfo`), each field checked against the shape it must
//! have (an AADSTS code is `AADSTS` and digits, and so on), so
//! no upstream text can reach the sandbox through them.

use std::borrow::Cow;
use std::time::Duration;

use agentmint_proto::{FailureDetails, Reason};
use http::StatusCode;
use tonic::Code;

use crate::gateway::GatewayError;
use crate::parse::BadRequest;

/// `Retry-After` when the gateway gives no better value.
pub(crate) const DEFAULT_RETRY_AFTER_SECS: u32 = 5;
const MAX_RETRY_AFTER_SECS: u32 = 3600;

/// A failed local request, ready to render as either error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub status: StatusCode,
    /// A stable machine-readable category.
    pub error: &'static str,
    pub description: Cow<'static, str>,
    pub retry_after: Option<u32>,
    /// The `Allow` header of a 405.
    pub allow: Option<&'static str>,
    /// What the gateway's error details said, each field checked for shape.
    pub gateway: Option<Box<GatewayFacts>>,
}

/// The structured facts of a gateway refusal.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct GatewayFacts {
    pub reason: Option<String>,
    pub hop: Option<String>,
    pub aadsts: Option<String>,
    /// The gateway's correlation id; the resolver's request id is used when absent.
    pub correlation_id: Option<String>,
}

impl Failure {
    /// A failure decided locally, before or without a gateway call.
    pub(crate) fn local(
        status: StatusCode,
        error: &'static str,
        description: &'static str,
    ) -> Self {
        Self {
            status,
            error,
            description: Cow::Borrowed(description),
            retry_after: None,
            allow: None,
            gateway: None,
        }
    }

    fn fact(&self, pick: impl Fn(&GatewayFacts) -> &Option<String>) -> Option<&str> {
        self.gateway
            .as_deref()
            .and_then(|facts| pick(facts).as_deref())
    }

    pub(crate) fn reason(&self) -> Option<&str> {
        self.fact(|f| &f.reason)
    }

    pub(crate) fn hop(&self) -> Option<&str> {
        self.fact(|f| &f.hop)
    }

    pub(crate) fn aadsts(&self) -> Option<&str> {
        self.fact(|f| &f.aadsts)
    }

    pub(crate) fn correlation_id(&self) -> Option<&str> {
        self.fact(|f| &f.correlation_id)
    }

    pub(crate) fn forbidden(description: &'static str) -> Self {
        Self::local(StatusCode::FORBIDDEN, "forbidden", description)
    }

    pub(crate) fn not_found() -> Self {
        Self::local(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
    }

    pub(crate) fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::local(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not accept that method",
            )
        }
    }

    /// A gateway failure, described from the structured detail only.
    pub(crate) fn from_gateway(err: &GatewayError, timeout: Duration) -> Self {
        match err {
            GatewayError::Refused { code, detail } => refused(*code, detail),
            GatewayError::Unreachable => Self {
                retry_after: Some(DEFAULT_RETRY_AFTER_SECS),
                ..Self::local(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "gateway_unavailable",
                    "the agentmint gateway could not be reached; retry after the indicated delay",
                )
            },
            GatewayError::Timeout => Self {
                description: Cow::Owned(format!(
                    "the agentmint gateway did not answer within {} ms; retry after the indicated delay",
                    timeout.as_millis()
                )),
                retry_after: Some(DEFAULT_RETRY_AFTER_SECS),
                ..Self::local(StatusCode::SERVICE_UNAVAILABLE, "gateway_unavailable", "")
            },
            GatewayError::BadResponse { why } => {
                Self::local(StatusCode::BAD_GATEWAY, "bad_gateway", why)
            }
        }
    }
}

impl From<BadRequest> for Failure {
    fn from(err: BadRequest) -> Self {
        Self {
            description: Cow::Owned(err.to_string()),
            ..Self::local(StatusCode::BAD_REQUEST, "invalid_request", "")
        }
    }
}

/// What a gateway reason means to the agent's developer, from a closed list: the gateway's own
/// message text is never relayed.
fn explain(reason: &str) -> Option<&'static str> {
    Some(match Reason::parse(reason)? {
        Reason::NoAgentUser => "the provider names no agent user, so it mints app-only tokens only",
        Reason::NotAttached => "the provider is not attached to this sandbox",
        Reason::ScopeNotAllowed => {
            "the scope is not among the provider's allowed scopes for this kind"
        }
        Reason::UnknownProvider => "no provider of that name is configured",
        Reason::ConsentRequired => "admin consent for the scope is missing in the tenant",
        Reason::FicMismatch => "no federated identity credential matches the presented assertion",
        Reason::AssertionRejected => "Entra rejected the client assertion",
        Reason::ClockSkew => "the client assertion was outside its time window (check clocks)",
        Reason::ClaimsMismatch => "the minted token's claims were not those asked for",
        Reason::Throttled => "Entra is throttling requests",
        Reason::MintInProgress => {
            "the token is still being minted; a retry after the indicated delay is likely served from it"
        }
        _ => return None,
    })
}

fn refused(code: Code, detail: &FailureDetails) -> Failure {
    let (status, error, words) = match code {
        Code::Unauthenticated => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "sandbox_credential_rejected",
            "the gateway rejected this sandbox's own credential; the sandbox is misconfigured (not the caller's fault)",
        ),
        Code::PermissionDenied => (
            StatusCode::FORBIDDEN,
            "permission_denied",
            "the gateway refused: this sandbox may not have that provider, token kind or scope",
        ),
        Code::NotFound => (
            StatusCode::NOT_FOUND,
            "not_found",
            "the gateway knows no such provider",
        ),
        Code::FailedPrecondition => (
            StatusCode::CONFLICT,
            "failed_precondition",
            "the gateway cannot mint this token as the provider is configured",
        ),
        Code::InvalidArgument => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the gateway rejected the request as invalid",
        ),
        Code::Unavailable
        | Code::ResourceExhausted
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::Cancelled => (
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "Entra or the gateway is temporarily unavailable; retry after the indicated delay",
        ),
        _ => (
            StatusCode::BAD_GATEWAY,
            "bad_gateway",
            "the gateway failed to mint the token",
        ),
    };
    let field = |value: &Option<String>| value.clone().unwrap_or_default();
    let reason = checked(&detail.reason, 64, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
    });
    let hop = checked(&field(&detail.hop), 32, |b| {
        b.is_ascii_lowercase() || b == b'_'
    });
    let aadsts = detail.aadsts.clone().filter(|code| {
        code.strip_prefix("AADSTS").is_some_and(|digits| {
            !digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit())
        })
    });
    let correlation_id = checked(&field(&detail.correlation_id), 64, |b| {
        b.is_ascii_alphanumeric() || b == b'-'
    });
    let mut description = words.to_owned();
    if let Some(explained) = reason.as_deref().and_then(explain) {
        description.push_str(": ");
        description.push_str(explained);
    }
    let facts: Vec<String> = [
        reason.as_ref().map(|r| format!("reason {r}")),
        hop.as_ref().map(|h| format!("hop {h}")),
        aadsts.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !facts.is_empty() {
        description.push_str(&format!(" ({})", facts.join(", ")));
    }
    let retry_after = (status == StatusCode::SERVICE_UNAVAILABLE).then(|| {
        match detail.retry_after.map(|d| d.as_secs()) {
            None | Some(0) => DEFAULT_RETRY_AFTER_SECS,
            Some(secs) => u32::try_from(secs)
                .unwrap_or(u32::MAX)
                .min(MAX_RETRY_AFTER_SECS),
        }
    });
    Failure {
        status,
        error,
        description: Cow::Owned(description),
        retry_after,
        allow: None,
        gateway: Some(Box::new(GatewayFacts {
            reason,
            hop,
            aadsts,
            correlation_id,
        })),
    }
}

/// `value` if it is 1..=`max` bytes that all pass `ok`.
fn checked(value: &str, max: usize, ok: impl Fn(u8) -> bool) -> Option<String> {
    (!value.is_empty() && value.len() <= max && value.bytes().all(ok)).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(code: Code, detail: FailureDetails) -> Failure {
        Failure::from_gateway(
            &GatewayError::Refused { code, detail },
            Duration::from_secs(1),
        )
    }

    #[test]
    fn codes_map_to_their_http_statuses() {
        for (code, status) in [
            (Code::Unauthenticated, 500),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::FailedPrecondition, 409),
            (Code::InvalidArgument, 400),
            (Code::Unavailable, 503),
            (Code::Internal, 502),
        ] {
            assert_eq!(
                refusal(code, FailureDetails::default()).status.as_u16(),
                status,
                "{code:?}"
            );
        }
    }

    #[test]
    fn unavailable_carries_the_gateways_retry_after_or_a_default() {
        let with = FailureDetails {
            retry_after: Some(Duration::from_secs(7)),
            ..FailureDetails::default()
        };
        assert_eq!(refusal(Code::Unavailable, with).retry_after, Some(7));
        assert_eq!(
            refusal(Code::Unavailable, FailureDetails::default()).retry_after,
            Some(DEFAULT_RETRY_AFTER_SECS)
        );
        assert_eq!(
            refusal(Code::PermissionDenied, FailureDetails::default()).retry_after,
            None
        );
    }

    #[test]
    fn detail_fields_of_the_wrong_shape_are_dropped() {
        let detail = FailureDetails {
            reason: "free text from upstream".into(),
            hop: Some("Blueprint\r\n".into()),
            aadsts: Some("AADSTS70021: no match".into()),
            correlation_id: Some("id with spaces".into()),
            ..FailureDetails::default()
        };
        let f = refusal(Code::FailedPrecondition, detail);
        assert_eq!(f.gateway.as_deref(), Some(&GatewayFacts::default()));
        assert!(!f.description.contains("upstream"));
    }

    #[test]
    fn well_formed_detail_fields_are_kept_and_described() {
        let detail = FailureDetails {
            hop: Some("blueprint".into()),
            aadsts: Some("AADSTS70021".into()),
            correlation_id: Some("0b5e-42".into()),
            ..FailureDetails::new(Reason::FicMismatch)
        };
        let f = refusal(Code::FailedPrecondition, detail);
        assert_eq!(f.hop(), Some("blueprint"));
        assert_eq!(f.aadsts(), Some("AADSTS70021"));
        assert_eq!(f.correlation_id(), Some("0b5e-42"));
        assert!(
            f.description
                .contains("reason FIC_MISMATCH, hop blueprint, AADSTS70021")
        );
    }
}
