//! The one error type of every upstream interaction.
//!
//! An [`EntraError`] names the hop, the HTTP status, the OAuth error, the AADSTS codes and the
//! correlation and trace ids, classifies itself as transient or permanent, and carries a human
//! message. It never carries the upstream body: `Display` is built only from parsed, bounded fields.

use std::fmt;
use std::time::Duration;

use agentmint_base::Reason as WireReason;

use crate::hop::Hop;
use crate::response::ErrorBody;

/// Whether retrying can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Timeouts, connection failures, 429, 5xx: retry with backoff; keep serving a still-valid token.
    Transient,
    /// Bad credentials, FIC mismatch, consent missing, bad scope, malformed responses, claims
    /// mismatch: evict and report; retrying the same request will fail again.
    Permanent,
}

/// A stable, machine-readable cause, mapped to gRPC error details: the subset of the shared
/// [`WireReason`]s an upstream interaction can end in. Each cause is bound to its wire reason by
/// its discriminant, so the spelling is written once, in `agentmint-base`, and a cause that names
/// no wire reason does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Reason {
    ConsentRequired = WireReason::ConsentRequired as u8,
    FicMismatch = WireReason::FicMismatch as u8,
    AssertionRejected = WireReason::AssertionRejected as u8,
    ClockSkew = WireReason::ClockSkew as u8,
    InvalidClient = WireReason::InvalidClient as u8,
    InvalidScope = WireReason::InvalidScope as u8,
    InvalidGrant = WireReason::InvalidGrant as u8,
    InvalidRequest = WireReason::InvalidRequest as u8,
    UnknownApplication = WireReason::UnknownApplication as u8,
    TenantNotFound = WireReason::TenantNotFound as u8,
    ResourceNotFound = WireReason::ResourceNotFound as u8,
    InteractionRequired = WireReason::InteractionRequired as u8,
    Throttled = WireReason::Throttled as u8,
    UpstreamUnavailable = WireReason::UpstreamUnavailable as u8,
    Timeout = WireReason::Timeout as u8,
    Network = WireReason::Network as u8,
    InvalidResponse = WireReason::InvalidResponse as u8,
    ClaimsMismatch = WireReason::ClaimsMismatch as u8,
    Credential = WireReason::Credential as u8,
    Other = WireReason::Other as u8,
}

impl Reason {
    /// The shared reason this cause is reported as.
    pub const fn wire(self) -> WireReason {
        // The discriminant is the wire reason's, and `ALL` lists the wire reasons at theirs.
        WireReason::ALL[self as usize]
    }

    /// The SCREAMING_SNAKE_CASE name carried in gRPC error details.
    pub const fn as_str(self) -> &'static str {
        self.wire().as_str()
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed upstream interaction (or a failed local credential step of a hop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraError {
    pub hop: Hop,
    pub class: ErrorClass,
    pub reason: Reason,
    /// The HTTP status, `None` when no response arrived.
    pub status: Option<u16>,
    /// The OAuth `error` field (`invalid_client`, ...), bounded and sanitised.
    pub oauth_error: Option<String>,
    /// AADSTS codes from `error_codes` (or parsed from the description's prefix).
    pub aadsts: Vec<u32>,
    pub correlation_id: Option<String>,
    pub trace_id: Option<String>,
    /// From `Retry-After`, capped.
    pub retry_after: Option<Duration>,
    /// A human message written by agentmint (never upstream text).
    pub message: String,
}

impl EntraError {
    /// A new error with no upstream details; use the builder-style setters for the rest.
    pub fn new(hop: Hop, class: ErrorClass, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            hop,
            class,
            reason,
            status: None,
            oauth_error: None,
            aadsts: Vec::new(),
            correlation_id: None,
            trace_id: None,
            retry_after: None,
            message: message.into(),
        }
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the (already capped) `Retry-After`.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Copies the parsed, sanitised fields of an upstream error body.
    pub fn with_body(mut self, body: &ErrorBody) -> Self {
        self.oauth_error = body.error.clone();
        self.aadsts = body.aadsts.clone();
        self.correlation_id = body.correlation_id.clone();
        self.trace_id = body.trace_id.clone();
        self
    }

    /// True when a retry may succeed.
    pub fn is_transient(&self) -> bool {
        self.class == ErrorClass::Transient
    }

    /// The first AADSTS code formatted as Entra spells it (`AADSTS70021`).
    pub fn aadsts_code(&self) -> Option<String> {
        self.aadsts.first().map(|c| format!("AADSTS{c}"))
    }
}

impl fmt::Display for EntraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} hop failed", self.hop)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status}")?;
            if let Some(code) = self.aadsts_code() {
                write!(f, ", {code}")?;
            }
            f.write_str(")")?;
        } else if let Some(code) = self.aadsts_code() {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.correlation_id {
            write!(f, " [correlation id {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for EntraError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_is_spelled_as_its_wire_reason() {
        for (cause, wire) in [
            (Reason::ConsentRequired, "CONSENT_REQUIRED"),
            (Reason::InvalidScope, "INVALID_SCOPE"),
            (Reason::Throttled, "THROTTLED"),
            (Reason::Other, "OTHER"),
        ] {
            assert_eq!(cause.as_str(), wire);
            assert_eq!(cause.wire().as_str(), wire);
        }
    }
}
