//! Turning a failed upstream attempt into an [`EntraError`]: transient or permanent, a stable
//! [`Reason`], and a message written here.
//!
//! Order of evidence: throttling and server errors first (whatever the body says, retrying may
//! help), then a known AADSTS code (the most specific), then the OAuth `error`, then the status.

use std::time::Duration;

use crate::aadsts;
use crate::error::{EntraError, ErrorClass, Reason};
use crate::hop::Hop;
use crate::response::ErrorBody;

/// The class and reason of an HTTP error from the token endpoint.
pub fn classify(
    status: u16,
    oauth_error: Option<&str>,
    codes: &[u32],
    has_retry_after: bool,
) -> (ErrorClass, Reason) {
    use ErrorClass::{Permanent, Transient};
    if status == 429 || (status == 503 && has_retry_after) {
        return (Transient, Reason::Throttled);
    }
    if status >= 500 {
        return (Transient, Reason::UpstreamUnavailable);
    }
    if status == 408 {
        return (Transient, Reason::Timeout);
    }
    if let Some(reason) = codes
        .iter()
        .find_map(|c| aadsts::describe(*c))
        .map(|(r, _)| r)
    {
        return (Permanent, reason);
    }
    let by_error = match oauth_error {
        Some("invalid_client") => Reason::InvalidClient,
        Some("invalid_grant") => Reason::InvalidGrant,
        Some("invalid_request") => Reason::InvalidRequest,
        Some("invalid_scope") => Reason::InvalidScope,
        Some("unauthorized_client") => Reason::UnknownApplication,
        Some("consent_required") => Reason::ConsentRequired,
        Some("interaction_required") => Reason::InteractionRequired,
        Some("temporarily_unavailable" | "server_error") => {
            return (Transient, Reason::UpstreamUnavailable);
        }
        Some("slow_down") => return (Transient, Reason::Throttled),
        _ => match status {
            401 => Reason::InvalidClient,
            _ => Reason::Other,
        },
    };
    (Permanent, by_error)
}

/// The message for a classified token-endpoint error: the AADSTS code's own message when we have
/// one, else a sentence per reason.
fn message(hop: Hop, reason: Reason, status: u16, codes: &[u32]) -> String {
    if let Some((_, m)) = codes.iter().find_map(|c| aadsts::describe(*c)) {
        return m.to_owned();
    }
    let endpoint = endpoint_name(hop);
    match reason {
        Reason::Throttled => format!("{endpoint} is throttling requests; retry after the delay it asked for"),
        Reason::UpstreamUnavailable => format!("{endpoint} is temporarily unavailable"),
        Reason::Timeout => format!("{endpoint} timed out the request"),
        Reason::InvalidClient => "the client credential was rejected (invalid_client); check the certificate, secret or federated credential registered on the app".to_owned(),
        Reason::InvalidGrant => "the grant was rejected (invalid_grant)".to_owned(),
        Reason::InvalidRequest => "the request was rejected as malformed (invalid_request)".to_owned(),
        Reason::InvalidScope => "the requested scope is invalid (invalid_scope)".to_owned(),
        Reason::UnknownApplication => "the client is not authorized for this request in the tenant (unauthorized_client)".to_owned(),
        Reason::ConsentRequired => "consent is missing (consent_required): an administrator must grant the permissions".to_owned(),
        Reason::InteractionRequired => "user interaction is required (interaction_required), which an agent cannot provide".to_owned(),
        _ => format!("{endpoint} refused the request (HTTP {status})"),
    }
}

fn endpoint_name(hop: Hop) -> &'static str {
    match hop {
        Hop::ManagedIdentity => "the managed-identity endpoint",
        _ => "the token endpoint",
    }
}

/// An error response from the token endpoint. `body` is `None` when the body was not a JSON
/// object (an HTML error page, say); for a 4xx that is itself an invalid response.
pub fn token_endpoint_error(
    hop: Hop,
    status: u16,
    body: Option<&ErrorBody>,
    retry_after: Option<Duration>,
) -> EntraError {
    let empty = ErrorBody::default();
    let parsed = body.unwrap_or(&empty);
    let (class, reason) = classify(
        status,
        parsed.error.as_deref(),
        &parsed.aadsts,
        retry_after.is_some(),
    );
    if body.is_none() && class == ErrorClass::Permanent {
        return EntraError::new(
            hop,
            class,
            Reason::InvalidResponse,
            format!(
                "{} answered with an error body that is not JSON",
                endpoint_name(hop)
            ),
        )
        .with_status(status)
        .with_retry_after(retry_after);
    }
    EntraError::new(
        hop,
        class,
        reason,
        message(hop, reason, status, &parsed.aadsts),
    )
    .with_status(status)
    .with_body(parsed)
    .with_retry_after(retry_after)
}

/// An error response from a managed-identity endpoint (IMDS or App Service).
pub fn managed_identity_error(
    status: u16,
    body: Option<&ErrorBody>,
    retry_after: Option<Duration>,
) -> EntraError {
    use ErrorClass::{Permanent, Transient};
    let (class, reason, message) = match status {
        400 => (
            Permanent,
            Reason::Credential,
            "the managed-identity endpoint refused the request: no managed identity is assigned \
             to this host, or the user-assigned identity id is wrong",
        ),
        401 | 403 => (
            Permanent,
            Reason::Credential,
            "the managed-identity endpoint refused the identity header; check IDENTITY_HEADER",
        ),
        404 => (
            Transient,
            Reason::UpstreamUnavailable,
            "the managed-identity endpoint does not know the identity yet (it may still be \
             being assigned)",
        ),
        410 => (
            Transient,
            Reason::UpstreamUnavailable,
            "the managed-identity endpoint is not ready yet",
        ),
        429 => (
            Transient,
            Reason::Throttled,
            "the managed-identity endpoint is throttling requests",
        ),
        s if s >= 500 => (
            Transient,
            Reason::UpstreamUnavailable,
            "the managed-identity endpoint is temporarily unavailable",
        ),
        _ => (
            Permanent,
            Reason::Other,
            "the managed-identity endpoint refused the request",
        ),
    };
    let mut err = EntraError::new(Hop::ManagedIdentity, class, reason, message)
        .with_status(status)
        .with_retry_after(retry_after);
    if let Some(body) = body {
        err = err.with_body(body);
    }
    err
}

/// A request that got no response: the connection failed or timed out.
pub fn transport_error(hop: Hop, err: &reqwest::Error) -> EntraError {
    if err.is_timeout() {
        return timeout_error(hop);
    }
    let what = if err.is_connect() {
        "could not connect to"
    } else {
        "lost the connection to"
    };
    EntraError::new(
        hop,
        ErrorClass::Transient,
        Reason::Network,
        format!("{what} {}", endpoint_name(hop)),
    )
}

/// An attempt that outlived its timeout.
pub fn timeout_error(hop: Hop) -> EntraError {
    EntraError::new(
        hop,
        ErrorClass::Transient,
        Reason::Timeout,
        format!("no answer from {} within the timeout", endpoint_name(hop)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(error: &str, codes: &[u32]) -> ErrorBody {
        ErrorBody {
            error: Some(error.into()),
            aadsts: codes.to_vec(),
            correlation_id: Some("corr".into()),
            trace_id: Some("trace".into()),
        }
    }

    #[test]
    fn throttling_and_server_errors_are_transient_whatever_the_body() {
        let b = body("invalid_client", &[7000215]);
        let e = token_endpoint_error(Hop::Blueprint, 429, Some(&b), None);
        assert_eq!(
            (e.class, e.reason),
            (ErrorClass::Transient, Reason::Throttled)
        );
        let e = token_endpoint_error(Hop::Blueprint, 503, None, Some(Duration::from_secs(3)));
        assert_eq!(
            (e.class, e.reason),
            (ErrorClass::Transient, Reason::Throttled)
        );
        let e = token_endpoint_error(Hop::Blueprint, 502, None, None);
        assert_eq!(
            (e.class, e.reason),
            (ErrorClass::Transient, Reason::UpstreamUnavailable)
        );
        let e = token_endpoint_error(Hop::Blueprint, 408, None, None);
        assert_eq!(
            (e.class, e.reason),
            (ErrorClass::Transient, Reason::Timeout)
        );
    }

    #[test]
    fn known_aadsts_codes_decide_reason_and_message() {
        let cases = [
            (70021, Reason::FicMismatch),
            (700211, Reason::FicMismatch),
            (700212, Reason::FicMismatch),
            (700213, Reason::FicMismatch),
            (700214, Reason::FicMismatch),
            (700229, Reason::AssertionRejected),
            (700024, Reason::ClockSkew),
            (700027, Reason::AssertionRejected),
            (7000215, Reason::InvalidClient),
            (7000218, Reason::InvalidClient),
            (700016, Reason::UnknownApplication),
            (65001, Reason::ConsentRequired),
            (500011, Reason::ResourceNotFound),
            (70011, Reason::InvalidScope),
            (70003, Reason::InvalidGrant),
            (900144, Reason::InvalidRequest),
            (90002, Reason::TenantNotFound),
            (50076, Reason::InteractionRequired),
            (50079, Reason::InteractionRequired),
            (530003, Reason::InteractionRequired),
        ];
        for (code, reason) in cases {
            let e = token_endpoint_error(
                Hop::AgentUser,
                400,
                Some(&body("invalid_grant", &[code])),
                None,
            );
            assert_eq!(
                (e.class, e.reason),
                (ErrorClass::Permanent, reason),
                "AADSTS{code}"
            );
            assert_eq!(e.message, aadsts::describe(code).unwrap().1);
            assert_eq!(e.aadsts_code(), Some(format!("AADSTS{code}")));
            assert_eq!(e.correlation_id.as_deref(), Some("corr"));
        }
    }

    #[test]
    fn oauth_errors_decide_when_the_code_is_unknown() {
        let cases = [
            (
                "invalid_client",
                401,
                ErrorClass::Permanent,
                Reason::InvalidClient,
            ),
            (
                "invalid_grant",
                400,
                ErrorClass::Permanent,
                Reason::InvalidGrant,
            ),
            (
                "invalid_request",
                400,
                ErrorClass::Permanent,
                Reason::InvalidRequest,
            ),
            (
                "invalid_scope",
                400,
                ErrorClass::Permanent,
                Reason::InvalidScope,
            ),
            (
                "unauthorized_client",
                400,
                ErrorClass::Permanent,
                Reason::UnknownApplication,
            ),
            (
                "consent_required",
                400,
                ErrorClass::Permanent,
                Reason::ConsentRequired,
            ),
            (
                "interaction_required",
                400,
                ErrorClass::Permanent,
                Reason::InteractionRequired,
            ),
            (
                "temporarily_unavailable",
                400,
                ErrorClass::Transient,
                Reason::UpstreamUnavailable,
            ),
            ("slow_down", 400, ErrorClass::Transient, Reason::Throttled),
            ("something_new", 400, ErrorClass::Permanent, Reason::Other),
        ];
        for (error, status, class, reason) in cases {
            let e = token_endpoint_error(Hop::App, status, Some(&body(error, &[99999])), None);
            assert_eq!((e.class, e.reason), (class, reason), "{error}");
            assert_eq!(e.oauth_error.as_deref(), Some(error));
        }
    }

    #[test]
    fn a_non_json_4xx_is_an_invalid_response_naming_the_status() {
        let e = token_endpoint_error(Hop::AgentIdentity, 403, None, None);
        assert_eq!(
            (e.class, e.reason),
            (ErrorClass::Permanent, Reason::InvalidResponse)
        );
        let shown = e.to_string();
        assert!(
            shown.contains("agent_identity") && shown.contains("403"),
            "{shown}"
        );
    }

    #[test]
    fn managed_identity_statuses_follow_imds_rules() {
        let cases = [
            (400, ErrorClass::Permanent),
            (401, ErrorClass::Permanent),
            (404, ErrorClass::Transient),
            (410, ErrorClass::Transient),
            (429, ErrorClass::Transient),
            (500, ErrorClass::Transient),
            (418, ErrorClass::Permanent),
        ];
        for (status, class) in cases {
            let e = managed_identity_error(status, None, None);
            assert_eq!(e.class, class, "{status}");
            assert_eq!(e.hop, Hop::ManagedIdentity);
        }
    }

    #[test]
    fn timeouts_are_transient() {
        let e = timeout_error(Hop::Blueprint);
        assert_eq!(
            (e.class, e.reason),
            (ErrorClass::Transient, Reason::Timeout)
        );
    }
}
