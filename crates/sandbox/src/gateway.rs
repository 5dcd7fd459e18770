//! The resolver's gRPC client: one lazily connecting channel to the gateway.
//!
//! The channel connects on first use and reconnects by itself after the gateway goes away, so a
//! resolver started before its gateway, or outliving a gateway restart, heals without help. Every
//! call carries the sandbox credential as `authorization: Bearer ...` (marked sensitive, so the
//! HTTP/2 stack never logs it) and a deadline, enforced here and sent, a margin earlier, as
//! `grpc-timeout`: the gateway answers before it (docs/config.md, "Deadlines").

use std::fmt;
use std::time::Duration;

use agentmint_proto::{FailureDetails, MintTokenRequest, TokenBrokerClient, TokenKind};
use tonic::Code;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;
use tracing::warn;

use crate::{GatewayTls, SandboxCredential, SandboxError};

/// Longest wait for a TCP connection to the gateway, whatever the request timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A token the gateway minted. `Debug` hides the token.
pub(crate) struct Minted {
    pub access_token: String,
    pub token_type: String,
    pub expires_at_unix: i64,
    pub scopes: Vec<String>,
    pub cache_hit: bool,
}

impl fmt::Debug for Minted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Minted")
            .field("access_token", &"[redacted]")
            .field("expires_at_unix", &self.expires_at_unix)
            .field("scopes", &self.scopes)
            .field("cache_hit", &self.cache_hit)
            .finish_non_exhaustive()
    }
}

/// Why a mint failed.
#[derive(Debug)]
pub(crate) enum GatewayError {
    /// The gateway's service answered with an error status; it always attaches its details
    /// (gRPC's standard `ErrorInfo`, and `RetryInfo` when retryable).
    Refused { code: Code, detail: FailureDetails },
    /// No answer from the gateway's service: refused or reset connection, transport failure. The
    /// status was tonic's own, without agentmint's `ErrorInfo`.
    Unreachable,
    /// No answer within the deadline.
    Timeout,
    /// An OK answer whose token cannot be used.
    BadResponse { why: &'static str },
}

/// `Bearer <secret>` as sensitive metadata (never printed by tonic's Debug).
fn bearer(secret: &str) -> Option<MetadataValue<Ascii>> {
    let mut value = MetadataValue::try_from(format!("Bearer {secret}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The gateway client. Cheap to clone: clones share one HTTP/2 connection.
#[derive(Clone)]
pub(crate) struct Gateway {
    client: TokenBrokerClient<Channel>,
    authorization: MetadataValue<Ascii>,
    /// Kept to re-read a rotating service-account token before each call.
    credential: SandboxCredential,
}

impl Gateway {
    /// Prepares the channel without connecting. Must run inside a Tokio runtime.
    pub(crate) fn connect_lazy(
        url: &str,
        tls: &GatewayTls,
        credential: &SandboxCredential,
        request_timeout: Duration,
    ) -> Result<Self, SandboxError> {
        let endpoint = tls.endpoint(url)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SandboxError::NoRuntime);
        }
        let channel = endpoint
            .connect_timeout(request_timeout.min(MAX_CONNECT_TIMEOUT))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10))
            .connect_lazy();
        let authorization =
            bearer(&credential.expose()).ok_or_else(|| SandboxError::CredentialInvalid {
                path: credential.file(),
                why: "it cannot be sent as a bearer value",
            })?;
        Ok(Self {
            client: TokenBrokerClient::new(channel),
            authorization,
            credential: credential.clone(),
        })
    }

    /// Asks the gateway for a token; gives up after `timeout`.
    pub(crate) async fn mint(
        &self,
        provider: &str,
        kind: TokenKind,
        scopes: Vec<String>,
        timeout: Duration,
    ) -> Result<Minted, GatewayError> {
        let mut request = tonic::Request::new(MintTokenRequest {
            provider: provider.to_owned(),
            kind: kind as i32,
            scopes,
        });
        // A rotated token file is presented as soon as it changed; an unusable one keeps the last.
        let authorization =
            bearer(&self.credential.expose()).unwrap_or_else(|| self.authorization.clone());
        request
            .metadata_mut()
            .insert("authorization", authorization);
        // The gateway is told a deadline a little before ours, so that its typed answer (UNAVAILABLE
        // with MINT_IN_PROGRESS and a retry delay, when the mint outlives it) arrives before we
        // give up on our own.
        request.set_timeout(timeout - answer_margin(timeout));
        let mut client = self.client.clone();
        let response = match tokio::time::timeout(timeout, client.mint_token(request)).await {
            Err(_elapsed) => return Err(GatewayError::Timeout),
            Ok(Err(status)) => return Err(classify(&status)),
            Ok(Ok(response)) => response.into_inner(),
        };
        if response.access_token.is_empty() {
            return Err(GatewayError::BadResponse {
                why: "the gateway returned an empty token",
            });
        }
        Ok(Minted {
            access_token: response.access_token,
            token_type: if response.token_type.is_empty() {
                "Bearer".to_owned()
            } else {
                response.token_type
            },
            expires_at_unix: response.expires_at_unix,
            scopes: response.scopes,
            cache_hit: response.cache_hit,
        })
    }
}

/// The part of our deadline kept for the gateway's answer to travel back: a tenth, at most half a
/// second.
fn answer_margin(timeout: Duration) -> Duration {
    (timeout / 10).min(Duration::from_millis(500))
}

/// Tells a gateway refusal from a transport failure: the gateway's service attaches an agentmint
/// `ErrorInfo` to every status it returns; tonic's own transport statuses carry none.
fn classify(status: &tonic::Status) -> GatewayError {
    match FailureDetails::from_status(status) {
        Some(detail) => GatewayError::Refused {
            code: status.code(),
            detail,
        },
        None => {
            // tonic's own words about the transport (e.g. "tcp connect error"), never the gateway's.
            warn!(code = ?status.code(), error = %status.message(), "no answer from the gateway");
            match status.code() {
                Code::DeadlineExceeded => GatewayError::Timeout,
                _ => GatewayError::Unreachable,
            }
        }
    }
}

/// Checks the gateway URL at start-up (not on the first request): only `http(s)://host:port`.
/// Returns true when it is `https://`, which [`GatewayTls`] then secures.
pub(crate) fn check_url(url: &str) -> Result<bool, SandboxError> {
    let bad = |why| SandboxError::GatewayUrl {
        url: url.to_owned(),
        why,
    };
    let uri: http::Uri = url.parse().map_err(|_| bad("it is not a valid URI"))?;
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(bad("it must start with http:// or https://")),
    };
    if uri.authority().is_none() {
        return Err(bad("it names no host"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(bad("it must be only http(s)://host:port"));
    }
    Ok(https)
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentmint_proto::Reason;

    #[test]
    fn gateway_urls_must_be_http_or_https_host_port() {
        assert_eq!(check_url("http://127.0.0.1:7000").ok(), Some(false));
        assert_eq!(check_url("http://gateway.internal:7000/").ok(), Some(false));
        assert_eq!(check_url("https://gateway.internal:7443").ok(), Some(true));
        for bad in ["g:1", "http://g:1/x", "http://g:1?x=1", "ftp://g", ""] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_gateway_is_given_a_deadline_before_ours() {
        assert_eq!(
            answer_margin(Duration::from_secs(10)),
            Duration::from_millis(500)
        );
        assert_eq!(
            answer_margin(Duration::from_secs(1)),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn statuses_without_detail_are_transport_failures() {
        let status = tonic::Status::unknown("h2 protocol error: connection reset");
        assert!(matches!(classify(&status), GatewayError::Unreachable));
    }

    #[test]
    fn statuses_with_detail_are_refusals() {
        let status =
            FailureDetails::new(Reason::NotAttached).into_status(Code::PermissionDenied, "no");
        match classify(&status) {
            GatewayError::Refused { code, detail } => {
                assert_eq!(code, Code::PermissionDenied);
                assert_eq!(detail.reason, Reason::NotAttached.as_str());
            }
            other => panic!("{other:?}"),
        }
    }
}
