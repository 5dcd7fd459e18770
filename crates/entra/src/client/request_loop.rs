//! The one retry loop: every token-endpoint and managed-identity call runs through it.
//!
//! Each attempt is bounded by the request timeout and by what is left of the policy's deadline,
//! so a call never outlives the deadline however the upstream behaves (an abandoned attempt is
//! dropped, not left running). Every failed attempt is logged at WARN with the hop, status, AADSTS
//! code, correlation id and reason; never a token, an assertion or a body.
//!
//! Like MSAL, every attempt carries a fresh `client-request-id` GUID, which Entra records as the
//! request's correlation id. An attempt that fails without an answer Entra correlated (a timeout,
//! a reset, an unreadable body) still leaves that id, in the log and in the error, for an operator
//! to look up in Entra's sign-in logs.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::EntraClient;
use crate::classify::timeout_error;
use crate::error::EntraError;
use crate::hop::Hop;
use crate::retry::RetryPolicy;
use crate::token::IssuedToken;

/// What a failure means for the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Give up now.
    Never,
    /// Retry; the attempt counts towards `max_attempts`.
    Counted,
    /// Retry until the deadline; the attempt does not count (IMDS 410).
    Uncounted,
}

impl EntraClient {
    /// Runs `attempt` until it succeeds, fails for good, or the policy says stop.
    pub(crate) async fn retrying<A, Fut>(
        &self,
        hop: Hop,
        policy: &RetryPolicy,
        rule: fn(&EntraError) -> Retry,
        mut attempt: A,
    ) -> Result<IssuedToken, EntraError>
    where
        A: FnMut(String) -> Fut,
        Fut: Future<Output = Result<(u16, IssuedToken), EntraError>>,
    {
        let started = Instant::now();
        let mut made = 0u32;
        let mut counted = 0u32;
        // The last failed attempt's error: when the deadline (not the upstream) cuts the next
        // attempt short, that answer says more than "timed out".
        let mut last: Option<EntraError> = None;
        loop {
            made += 1;
            let left = policy.deadline.saturating_sub(started.elapsed());
            let limit = self.inner.request_timeout.min(left);
            let cut_by_deadline = limit < self.inner.request_timeout;
            let begun = Instant::now();
            let request_id = uuid::Uuid::new_v4().to_string();
            let outcome = match tokio::time::timeout(limit, attempt(request_id.clone())).await {
                Ok(outcome) => outcome,
                Err(_) if cut_by_deadline && last.is_some() => {
                    let err = last.take().expect("checked above");
                    tracing::warn!(
                        hop = %hop,
                        client_request_id = %request_id,
                        attempt = made,
                        "upstream call abandoned at the retry deadline"
                    );
                    return Err(err);
                }
                Err(_) => Err(timeout_error(hop)),
            };
            let elapsed = begun.elapsed();
            let err = match outcome {
                Ok((status, token)) => {
                    self.observe(hop, Some(status), elapsed, None);
                    tracing::debug!(
                        hop = %hop,
                        status,
                        attempt = made,
                        elapsed_ms = elapsed.as_millis() as u64,
                        "upstream call succeeded"
                    );
                    return Ok(token);
                }
                Err(mut err) => {
                    if err.correlation_id.is_none() {
                        err.correlation_id = Some(request_id.clone());
                    }
                    err
                }
            };
            self.observe(hop, err.status, elapsed, Some(&err));
            let aadsts = err.aadsts_code();
            tracing::warn!(
                hop = %hop,
                status = err.status,
                aadsts = aadsts.as_deref(),
                correlation_id = err.correlation_id.as_deref(),
                client_request_id = %request_id,
                reason = %err.reason,
                attempt = made,
                elapsed_ms = elapsed.as_millis() as u64,
                "upstream call failed"
            );
            match rule(&err) {
                Retry::Never => return Err(err),
                Retry::Counted => counted += 1,
                Retry::Uncounted => {}
            }
            if counted >= policy.max_attempts {
                return Err(err);
            }
            let wait = policy.backoff(made, err.retry_after, self.inner.jitter.sample());
            if started.elapsed() + wait >= policy.deadline {
                let retry_after = err.retry_after.unwrap_or(wait);
                return Err(err.with_retry_after(Some(retry_after)));
            }
            last = Some(err.with_retry_after(Some(wait)));
            tokio::time::sleep(wait).await;
        }
    }

    fn observe(&self, hop: Hop, status: Option<u16>, elapsed: Duration, err: Option<&EntraError>) {
        if let Some(observer) = &self.inner.observer {
            observer.on_attempt(hop, status, elapsed, err);
        }
    }
}

/// Token-endpoint rule: retry what is transient.
pub(crate) fn token_endpoint_rule(err: &EntraError) -> Retry {
    if err.is_transient() {
        Retry::Counted
    } else {
        Retry::Never
    }
}

/// IMDS rule: 410 until the deadline; other transient failures (404, 429, 5xx, network) a few
/// times; never 400 or other permanent failures.
pub(crate) fn managed_identity_rule(err: &EntraError) -> Retry {
    match (err.status, err.is_transient()) {
        (Some(410), _) => Retry::Uncounted,
        (_, true) => Retry::Counted,
        (_, false) => Retry::Never,
    }
}
