//! Applies the knobs to a token or managed-identity request: the scheduled fault, answered in the
//! endpoint's own error format and counted in the stats; and the latency, counted from the request's
//! arrival, so that a request answered with latency L takes L however long the emulator's own work
//! (assertion checks, RSA signing) took.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::knobs::{Fault, Knobs};
use crate::oauth::OAuthError;
use crate::stats::Hop;

use super::AppState;
use super::respond::{app_service_error, imds_error, oauth_error, with_retry_after};

/// The error format of the endpoint being served.
#[derive(Clone, Copy)]
pub(crate) enum Style {
    Entra,
    Imds,
    AppService,
}

/// Route middleware of the upstream endpoints (token, IMDS, App Service): answers no sooner than
/// the configured latency after the request arrived, whatever the answer.
pub(crate) async fn latency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let latency = state.emulator.knobs().latency;
    let arrival = tokio::time::Instant::now();
    let response = next.run(request).await;
    if !latency.is_zero() {
        wait_until(arrival + latency).await;
    }
    response
}

/// Waits until `deadline` to within microseconds. Tokio's timer fires on the first millisecond
/// tick at or after its deadline, up to a millisecond late; a benchmark that adds L per upstream
/// round trip would otherwise see L plus that error on every one. So: sleep until a tick before the
/// deadline, then yield until it passes.
async fn wait_until(deadline: tokio::time::Instant) {
    const TIMER_TICK: std::time::Duration = std::time::Duration::from_millis(2);
    if let Some(early) = deadline.checked_sub(TIMER_TICK) {
        tokio::time::sleep_until(early).await;
    }
    while tokio::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

/// Returns the knobs to serve the request with, or the injected fault's answer.
pub(crate) async fn apply(
    state: &AppState,
    hop: Hop,
    style: Style,
    correlation_id: &str,
) -> Result<Knobs, Response> {
    let (knobs, fault) = state.emulator.next_fault();
    let Some(fault) = fault else {
        return Ok(knobs);
    };
    let outcome = match fault {
        Fault::Hang => "hung",
        Fault::Throttle => "throttled",
        Fault::Fail => "failed",
    };
    state.emulator.record(hop, outcome);
    if fault == Fault::Hang {
        // Never answer while serving; a shutting-down server must still finish, so give up then.
        let mut stopping = state.stopping.clone();
        let _ = stopping.wait_for(|stop| *stop).await;
    }
    Err(match fault {
        Fault::Throttle => throttled(style, knobs.retry_after_secs, correlation_id),
        Fault::Hang | Fault::Fail => unavailable(style, correlation_id),
    })
}

fn throttled(style: Style, retry_after: u64, correlation_id: &str) -> Response {
    let response = match style {
        Style::Entra => return oauth_error(&OAuthError::throttled(retry_after), correlation_id),
        Style::Imds => imds_error(429, "temporarily_unavailable", "Too many requests."),
        Style::AppService => app_service_error(429, "Too many requests.", correlation_id),
    };
    with_retry_after(response, retry_after)
}

fn unavailable(style: Style, correlation_id: &str) -> Response {
    match style {
        Style::Entra => oauth_error(&OAuthError::unavailable(), correlation_id),
        Style::Imds => imds_error(
            503,
            "temporarily_unavailable",
            "The service is unavailable.",
        ),
        Style::AppService => app_service_error(503, "The service is unavailable.", correlation_id),
    }
}
