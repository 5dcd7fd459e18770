//! How the Entra HTTP client behaves: timeouts, retries, body bounds, extra trust roots, and who is
//! told about each upstream attempt.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::EntraError;
use crate::hop::Hop;
use crate::response::DEFAULT_MAX_BODY_BYTES;
use crate::retry::{Jitter, RetryPolicy};

/// Told about every upstream attempt (the gateway's metrics).
pub trait UpstreamObserver: Send + Sync {
    /// One attempt ended: `status` is `None` when no response arrived; `error` is `None` on success.
    fn on_attempt(
        &self,
        hop: Hop,
        status: Option<u16>,
        elapsed: Duration,
        error: Option<&EntraError>,
    );
}

/// Options of [`super::EntraClient`].
#[derive(Clone)]
pub struct ClientOptions {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// One attempt, from sending to the end of the body.
    pub request_timeout: Duration,
    /// Retries of token-endpoint calls.
    pub retry: RetryPolicy,
    /// Upstream bodies are read up to this many bytes, never more.
    pub max_body_bytes: usize,
    /// PEM roots trusted in addition to the system's (the emulator's CA).
    pub extra_root_certificates_pem: Vec<Vec<u8>>,
    pub observer: Option<Arc<dyn UpstreamObserver>>,
    /// Retries of managed-identity calls (IMDS rules; 410 is retried until the deadline).
    pub managed_identity_retry: RetryPolicy,
    /// The jitter source of both retry policies.
    pub jitter: Jitter,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            extra_root_certificates_pem: Vec::new(),
            observer: None,
            managed_identity_retry: RetryPolicy::managed_identity(),
            jitter: Jitter::default(),
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("max_body_bytes", &self.max_body_bytes)
            .field(
                "extra_root_certificates",
                &self.extra_root_certificates_pem.len(),
            )
            .field("observer", &self.observer.is_some())
            .field("managed_identity_retry", &self.managed_identity_retry)
            .finish_non_exhaustive()
    }
}
