//! The one retry loop: backoff, Retry-After, bounded attempts, deadlines, IMDS rules, observers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use agentmint_entra::credential::{ManagedIdentityCredential, ManagedIdentitySource};
use agentmint_entra::grant;
use agentmint_entra::{
    ClientOptions, EntraClient, EntraError, ErrorClass, Hop, Reason, RetryPolicy, Secret,
    UpstreamObserver,
};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

fn form() -> grant::Form {
    grant::agent_identity(
        AGENT_ID,
        &Secret::new("a.b.c"),
        &agentmint_entra::ScopeSet::new([GRAPH]).unwrap(),
    )
}

/// A token endpoint answering `first` to the first `n` requests, then a token.
async fn flaky(first: ResponseTemplate, n: u64) -> MockServer {
    let server = MockServer::start().await;
    token_post()
        .respond_with(first)
        .up_to_n_times(n)
        .with_priority(1)
        .mount(&server)
        .await;
    token_post()
        .respond_with(token_reply(&app_token(AGENT_ID, "ok")))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

/// A refusal of `status` asking to retry after `value` (seconds or an HTTP date).
fn retry_after(status: u16, value: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("Retry-After", value)
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

async fn run(
    server: &MockServer,
    client: &EntraClient,
) -> Result<agentmint_entra::IssuedToken, EntraError> {
    client
        .request_token(
            Hop::AgentIdentity,
            &authority(server).token_endpoint(),
            &form(),
        )
        .await
}

#[tokio::test]
async fn a_5xx_then_success_is_retried_once() {
    let server = flaky(ResponseTemplate::new(503), 1).await;
    run(&server, &fast_client()).await.unwrap();
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn attempts_are_bounded_and_the_last_error_is_returned() {
    let server = flaky(ResponseTemplate::new(500), 100).await;
    let err = run(&server, &fast_client()).await.unwrap_err();
    assert_eq!(
        (err.class, err.reason, err.status),
        (
            ErrorClass::Transient,
            Reason::UpstreamUnavailable,
            Some(500)
        )
    );
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn permanent_errors_are_never_retried() {
    let server = flaky(
        ResponseTemplate::new(400).set_body_json(error_body("invalid_grant", 70021, "x")),
        100,
    )
    .await;
    assert_eq!(
        run(&server, &fast_client()).await.unwrap_err().reason,
        Reason::FicMismatch
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_429_with_retry_after_in_seconds_waits_at_least_that_long() {
    let server = flaky(retry_after(429, "1"), 1).await;
    let client = EntraClient::new(ClientOptions {
        jitter: agentmint_entra::Jitter::fixed(0.0),
        ..fast_options()
    })
    .unwrap();
    let started = Instant::now();
    run(&server, &client).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_retry_after_past_the_deadline_gives_up_at_once_and_reports_the_wait() {
    let server = flaky(retry_after(429, "30"), 100).await;
    let started = Instant::now();
    let err = run(&server, &fast_client()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        (err.class, err.reason),
        (ErrorClass::Transient, Reason::Throttled)
    );
    assert_eq!(err.retry_after, Some(Duration::from_secs(30)));
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_retry_after_http_date_is_honoured() {
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
    let server = flaky(retry_after(503, at.as_str()), 100).await;
    let err = run(&server, &fast_client()).await.unwrap_err();
    assert_eq!(err.reason, Reason::Throttled);
    let wait = err.retry_after.unwrap();
    assert!(
        wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_huge_retry_after_is_capped() {
    let server = flaky(retry_after(429, "86400"), 100).await;
    let err = run(&server, &fast_client()).await.unwrap_err();
    assert_eq!(
        err.retry_after,
        Some(agentmint_entra::retry_after::MAX_RETRY_AFTER)
    );
}

/// (hop, status, failure reason) of one attempt.
type Seen = (Hop, Option<u16>, Option<Reason>);

#[derive(Default)]
struct Recorder(Mutex<Vec<Seen>>);

impl UpstreamObserver for Recorder {
    fn on_attempt(
        &self,
        hop: Hop,
        status: Option<u16>,
        _elapsed: Duration,
        error: Option<&EntraError>,
    ) {
        self.0
            .lock()
            .unwrap()
            .push((hop, status, error.map(|e| e.reason)));
    }
}

#[tokio::test]
async fn the_observer_sees_every_attempt() {
    let server = flaky(ResponseTemplate::new(500), 2).await;
    let recorder = Arc::new(Recorder::default());
    let client = EntraClient::new(ClientOptions {
        observer: Some(recorder.clone()),
        ..fast_options()
    })
    .unwrap();
    run(&server, &client).await.unwrap();
    let seen = recorder.0.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            (
                Hop::AgentIdentity,
                Some(500),
                Some(Reason::UpstreamUnavailable)
            ),
            (
                Hop::AgentIdentity,
                Some(500),
                Some(Reason::UpstreamUnavailable)
            ),
            (Hop::AgentIdentity, Some(200), None),
        ]
    );
}

fn imds(server: &MockServer) -> ManagedIdentityCredential {
    ManagedIdentityCredential::new(
        ManagedIdentitySource::Imds {
            endpoint: format!("{}/metadata/identity/oauth2/token", server.uri()),
        },
        None,
    )
}

/// Asks the IMDS at `server` for a token of `resource`.
async fn imds_token(
    server: &MockServer,
    resource: &str,
) -> Result<agentmint_entra::IssuedToken, EntraError> {
    fast_client()
        .managed_identity_token(&imds(server), resource)
        .await
}

/// An IMDS answering `first` to the first `n` requests, then a token.
async fn flaky_imds(first: ResponseTemplate, n: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(first)
        .up_to_n_times(n)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": app_token(MI_ID, "mi"), "expires_in": "3600", "token_type": "Bearer"
        })))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn imds_410_is_retried_beyond_max_attempts_until_it_is_ready() {
    let server = flaky_imds(ResponseTemplate::new(410), 5).await;
    let token = imds_token(&server, "api://AzureADTokenExchange")
        .await
        .unwrap();
    assert!(token.access_token.expose().contains('.'));
    assert_eq!(requests(&server).await, 6);
}

#[tokio::test]
async fn imds_410_stops_at_the_deadline() {
    let server = flaky_imds(ResponseTemplate::new(410), 10_000).await;
    let started = Instant::now();
    let err = imds_token(&server, "api://AzureADTokenExchange")
        .await
        .unwrap_err();
    assert_eq!(
        (err.class, err.status, err.hop),
        (ErrorClass::Transient, Some(410), Hop::ManagedIdentity)
    );
    // Not a timing figure: only that the loop stopped near its 0.5 s deadline instead of running
    // through the 10,000 answers (a generous bound, so a loaded machine cannot fail it).
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn imds_404_and_5xx_are_retried_a_bounded_number_of_times() {
    let server = flaky_imds(ResponseTemplate::new(404), 1).await;
    imds_token(&server, "r").await.unwrap();
    assert_eq!(requests(&server).await, 2);

    let server = flaky_imds(ResponseTemplate::new(500), 100).await;
    let err = imds_token(&server, "r").await.unwrap_err();
    assert_eq!(err.status, Some(500));
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn imds_400_is_never_retried() {
    let body =
        serde_json::json!({"error": "invalid_request", "error_description": "Identity not found"});
    let server = flaky_imds(ResponseTemplate::new(400).set_body_json(body), 100).await;
    let err = imds_token(&server, "r").await.unwrap_err();
    assert_eq!(
        (err.class, err.reason, err.status),
        (ErrorClass::Permanent, Reason::Credential, Some(400))
    );
    assert_eq!(requests(&server).await, 1);
}

#[test]
fn the_default_policy_is_three_attempts_within_twenty_seconds() {
    let p = RetryPolicy::default();
    assert_eq!((p.max_attempts, p.deadline), (3, Duration::from_secs(20)));
    assert_eq!(
        RetryPolicy::managed_identity().deadline,
        Duration::from_secs(70)
    );
}

/// The `client-request-id` of each request the server received, in order.
async fn request_ids(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(
                r.headers
                    .get("return-client-request-id")
                    .map(|v| v.to_str().unwrap()),
                Some("true")
            );
            let id = r
                .headers
                .get("client-request-id")
                .expect("client-request-id sent");
            let id = id.to_str().unwrap().to_owned();
            assert!(uuid::Uuid::try_parse(&id).is_ok(), "{id} is a GUID");
            id
        })
        .collect()
}

#[tokio::test]
async fn every_attempt_sends_a_fresh_client_request_id_and_asks_for_it_back() {
    let server = flaky(ResponseTemplate::new(503), 1).await;
    run(&server, &fast_client()).await.unwrap();
    let ids = request_ids(&server).await;
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
}

#[tokio::test]
async fn a_failure_entra_did_not_correlate_carries_the_client_request_id() {
    let server = flaky(
        ResponseTemplate::new(500).set_body_string("<html>oops</html>"),
        10,
    )
    .await;
    let err = run(&server, &fast_client()).await.unwrap_err();
    let ids = request_ids(&server).await;
    assert_eq!(
        err.correlation_id.as_deref(),
        ids.last().map(String::as_str)
    );
}

#[tokio::test]
async fn a_timed_out_attempt_still_leaves_its_client_request_id() {
    let server = flaky(
        ResponseTemplate::new(200).set_delay(Duration::from_secs(30)),
        10,
    )
    .await;
    let client = EntraClient::new(ClientOptions {
        request_timeout: Duration::from_millis(200),
        retry: RetryPolicy {
            max_attempts: 1,
            ..fast_options().retry
        },
        ..fast_options()
    })
    .unwrap();
    let err = run(&server, &client).await.unwrap_err();
    assert_eq!(err.reason, Reason::Timeout);
    let ids = request_ids(&server).await;
    assert_eq!(ids.len(), 1);
    assert_eq!(err.correlation_id.as_deref(), Some(ids[0].as_str()));
}
