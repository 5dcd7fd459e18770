//! Upstream failures: every error class, the AADSTS messages, bodies that are not what they should
//! be, and upstreams that hang or refuse connections.

use std::time::{Duration, Instant};

use agentmint_entra::grant::{self, ClientAuth};
use agentmint_entra::{
    ClientOptions, EntraClient, EntraError, ErrorClass, Hop, Reason, RetryPolicy, Secret,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wiremock::{MockServer, ResponseTemplate};

use crate::support::*;

const DESCRIPTION: &str = "UPSTREAM-DESCRIPTION-TEXT-MUST-NOT-LEAK";

fn form() -> grant::Form {
    grant::blueprint(
        BLUEPRINT,
        AGENT_ID,
        agentmint_entra::scope::EXCHANGE_SCOPE,
        ClientAuth::Assertion(Secret::new("a.b.c")),
    )
}

async fn answer(server: &MockServer, response: ResponseTemplate) {
    token_post().respond_with(response).mount(server).await;
}

async fn call(server: &MockServer, client: &EntraClient) -> EntraError {
    client
        .request_token(Hop::Blueprint, &authority(server).token_endpoint(), &form())
        .await
        .unwrap_err()
}

async fn entra_error(status: u16, error: &str, code: u32) -> EntraError {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(status).set_body_json(error_body(error, code, DESCRIPTION)),
    )
    .await;
    let err = call(&server, &fast_client()).await;
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "permanent errors are not retried"
    );
    assert!(!err.to_string().contains(DESCRIPTION), "{err}");
    assert!(!format!("{err:?}").contains(DESCRIPTION), "{err:?}");
    err
}

#[tokio::test]
async fn invalid_client_is_permanent_with_ids_and_no_upstream_text() {
    let err = entra_error(401, "invalid_client", 7000215).await;
    assert_eq!(
        (err.class, err.reason),
        (ErrorClass::Permanent, Reason::InvalidClient)
    );
    assert_eq!(err.status, Some(401));
    assert_eq!(err.oauth_error.as_deref(), Some("invalid_client"));
    assert_eq!(err.aadsts_code().as_deref(), Some("AADSTS7000215"));
    assert_eq!(err.correlation_id.as_deref(), Some("corr-0001"));
    assert_eq!(err.trace_id.as_deref(), Some("trace-0001"));
    let shown = err.to_string();
    assert!(
        shown.contains("blueprint")
            && shown.contains("401")
            && shown.contains("AADSTS7000215")
            && shown.contains("corr-0001"),
        "{shown}"
    );
}

/// Each AADSTS code a client meets in practice: its reason, and the words of its message that tell
/// the operator what to check. All are permanent: the same request fails again.
#[tokio::test]
async fn known_aadsts_codes_get_their_reason_and_say_what_to_check() {
    #[rustfmt::skip]
    let cases: [(u16, &str, u32, Reason, &[&str]); 6] = [
        // No matching FIC: which of its fields to check.
        (400, "invalid_grant", 70021, Reason::FicMismatch, &["issuer", "subject", "audience"]),
        // An assertion outside its window: clock skew.
        (400, "invalid_client", 700024, Reason::ClockSkew, &["clock"]),
        (400, "invalid_grant", 65001, Reason::ConsentRequired, &["consent"]),
        // A wrong certificate.
        (401, "invalid_client", 700027, Reason::AssertionRejected, &["certificate"]),
        (400, "invalid_scope", 70011, Reason::InvalidScope, &[]),
        // An unknown tenant.
        (400, "invalid_request", 90002, Reason::TenantNotFound, &[]),
    ];
    for (status, error, code, reason, needles) in cases {
        let err = entra_error(status, error, code).await;
        assert_eq!(
            (err.class, err.reason),
            (ErrorClass::Permanent, reason),
            "{code}"
        );
        for needle in needles {
            assert!(
                err.message.contains(needle),
                "{code} {needle}: {}",
                err.message
            );
        }
    }
}

#[tokio::test]
async fn a_5xx_html_page_is_transient_and_never_echoed() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(502).set_body_raw(
            "<html><body>Bad Gateway SECRETPAGE</body></html>",
            "text/html",
        ),
    )
    .await;
    let err = call(&server, &fast_client()).await;
    assert_eq!(
        (err.class, err.reason),
        (ErrorClass::Transient, Reason::UpstreamUnavailable)
    );
    assert_eq!(err.status, Some(502));
    assert!(!format!("{err} {err:?}").contains("SECRETPAGE"));
}

#[tokio::test]
async fn a_4xx_html_page_is_an_invalid_response_naming_hop_and_status() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(403)
            .set_body_raw("<html>Forbidden by proxy SECRETPAGE</html>", "text/html"),
    )
    .await;
    let err = call(&server, &fast_client()).await;
    assert_eq!(
        (err.class, err.reason),
        (ErrorClass::Permanent, Reason::InvalidResponse)
    );
    let shown = err.to_string();
    assert!(
        shown.contains("blueprint") && shown.contains("403") && !shown.contains("SECRETPAGE"),
        "{shown}"
    );
}

#[tokio::test]
async fn malformed_json_on_success_is_a_permanent_invalid_response() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"access_token":"eyJtoken-frag"#, "application/json"),
    )
    .await;
    let err = call(&server, &fast_client()).await;
    assert_eq!(
        (err.class, err.reason, err.status),
        (ErrorClass::Permanent, Reason::InvalidResponse, Some(200))
    );
    assert!(!format!("{err} {err:?}").contains("eyJtoken-frag"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_success_without_access_token_is_an_invalid_response() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"token_type":"Bearer","expires_in":3599})),
    )
    .await;
    let err = call(&server, &fast_client()).await;
    assert_eq!(err.reason, Reason::InvalidResponse);
    assert!(err.message.contains("access_token"), "{}", err.message);
}

#[tokio::test]
async fn a_string_expires_in_is_accepted_and_a_missing_one_refused() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"access_token":"a.b.c","expires_in":"120"})),
    )
    .await;
    let token = fast_client()
        .request_token(
            Hop::Blueprint,
            &authority(&server).token_endpoint(),
            &form(),
        )
        .await
        .unwrap();
    assert_eq!(token.expires_in, Duration::from_secs(120));

    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"access_token":"a.b.c"})),
    )
    .await;
    assert_eq!(
        call(&server, &fast_client()).await.reason,
        Reason::InvalidResponse
    );
}

#[tokio::test]
async fn a_multi_megabyte_body_is_refused_at_the_bound() {
    let server = MockServer::start().await;
    let huge = format!(
        r#"{{"access_token":"{}","expires_in":3599}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    answer(
        &server,
        ResponseTemplate::new(200).set_body_raw(huge, "application/json"),
    )
    .await;
    let err = call(&server, &fast_client()).await;
    assert_eq!(
        (err.class, err.reason),
        (ErrorClass::Permanent, Reason::InvalidResponse)
    );
    assert!(err.message.contains("larger than"), "{}", err.message);
}

/// A server that streams a chunked body forever: only the bound stops the client.
#[tokio::test]
async fn an_endless_chunked_body_is_cut_at_the_bound() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 4096];
        let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "y".repeat(16 * 1024));
        while socket.write_all(chunk.as_bytes()).await.is_ok() {}
    });
    let endpoint = format!("http://{addr}/{TENANT}/oauth2/v2.0/token");
    let started = Instant::now();
    let err = fast_client()
        .request_token(Hop::Blueprint, &endpoint, &form())
        .await
        .unwrap_err();
    assert_eq!(err.reason, Reason::InvalidResponse);
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Accepts connections and never answers.
async fn silent_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}/{TENANT}/oauth2/v2.0/token")
}

#[tokio::test]
async fn an_upstream_that_never_answers_is_aborted_at_the_timeout() {
    let retry = RetryPolicy {
        max_attempts: 1,
        ..fast_options().retry
    };
    let err = ask_silent_upstream(Duration::from_millis(100), retry).await;
    assert_eq!(
        (err.class, err.reason, err.status),
        (ErrorClass::Transient, Reason::Timeout, None)
    );
}

#[tokio::test]
async fn retries_of_a_silent_upstream_end_by_the_deadline() {
    let retry = RetryPolicy {
        max_attempts: 10,
        deadline: Duration::from_millis(300),
        ..fast_options().retry
    };
    let err = ask_silent_upstream(Duration::from_secs(5), retry).await;
    assert_eq!(err.reason, Reason::Timeout);
}

/// Asks an upstream that never answers through a client with `request_timeout` and `retry`, and
/// checks that the client gave up within a second; returns its error.
async fn ask_silent_upstream(request_timeout: Duration, retry: RetryPolicy) -> EntraError {
    let endpoint = silent_upstream().await;
    let client = EntraClient::new(ClientOptions {
        request_timeout,
        retry,
        ..fast_options()
    })
    .unwrap();
    let started = Instant::now();
    let err = client
        .request_token(Hop::AgentIdentity, &endpoint, &form())
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    err
}

#[tokio::test]
async fn a_refused_connection_is_a_transient_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let endpoint = format!("http://{addr}/{TENANT}/oauth2/v2.0/token");
    let err = fast_client()
        .request_token(Hop::Blueprint, &endpoint, &form())
        .await
        .unwrap_err();
    assert_eq!(
        (err.class, err.reason, err.status),
        (ErrorClass::Transient, Reason::Network, None)
    );
}
