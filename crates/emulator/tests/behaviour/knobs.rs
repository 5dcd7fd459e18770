//! Knobs: latency, throttling, failures, hangs and token lifetimes, set at start or at runtime.

use std::time::{Duration, Instant};

use agentmint_emulator::Knobs;

use crate::support::*;

/// A request that the emulator would answer 400 (unsupported grant) when no fault is injected.
async fn any_token_request(server: &Server) -> Reply {
    server.post_token(&Form::grant("password")).await
}

/// Hop 1 of the primary chain for its Agent Identity.
async fn t1_reply(server: &Server) -> Reply {
    let chain = server.chain();
    server.hop1(&chain, &chain.agent_identity).await
}

/// Every request throttled, with `Retry-After: retry_after_secs`.
fn throttling(retry_after_secs: u64) -> Knobs {
    Knobs {
        throttle_fraction: 1.0,
        retry_after_secs,
        ..Knobs::default()
    }
}

#[tokio::test]
async fn throttled_requests_get_429_with_an_integer_retry_after() {
    let server = Server::with_knobs(throttling(7)).await;
    let reply = t1_reply(&server).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.headers["retry-after"], "7");
    assert_eq!(reply.error(), "temporarily_unavailable");
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(description.starts_with("AADSTS"), "{description}");
    assert_eq!(server.emulator.stats().blueprint.count("throttled"), 1);
}

#[tokio::test]
async fn failed_requests_get_503_with_an_entra_body() {
    let knobs = Knobs {
        fail_fraction: 1.0,
        ..Knobs::default()
    };
    let server = Server::with_knobs(knobs).await;
    let reply = t1_reply(&server).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.error(), "temporarily_unavailable");
    assert!(reply.aadsts() > 0);
    assert_eq!(server.emulator.stats().blueprint.count("failed"), 1);
}

#[tokio::test]
async fn a_fraction_of_one_half_hits_every_second_request() {
    let server = Server::with_knobs(Knobs {
        throttle_fraction: 0.5,
        ..Knobs::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(any_token_request(&server).await.status);
    }
    assert_eq!(statuses, vec![400, 429, 400, 429]);
}

/// A server that never answers a token request.
async fn hanging_server() -> Server {
    Server::with_knobs(Knobs {
        hang_fraction: 1.0,
        ..Knobs::default()
    })
    .await
}

#[tokio::test]
async fn hung_request_is_abandoned_by_the_client_timeout() {
    let server = hanging_server().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = client
        .post(server.token_url())
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(server.emulator.stats().other.count("hung"), 1);
}

#[tokio::test]
async fn shutdown_releases_hung_requests_and_returns() {
    let server = hanging_server().await;
    let request = server.client.post(server.token_url());
    let request = tokio::spawn(request.form(&[("grant_type", "password")]).send());
    while server.emulator.stats().total == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stopped = tokio::time::timeout(Duration::from_secs(5), server.shutdown()).await;
    assert!(
        matches!(stopped, Ok(Ok(()))),
        "serve did not return after shutdown"
    );
    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn latency_delays_every_token_request() {
    let latency = Duration::from_millis(200);
    let server = Server::with_knobs(Knobs {
        latency,
        ..Knobs::default()
    })
    .await;
    let started = Instant::now();
    any_token_request(&server).await;
    assert!(started.elapsed() >= latency);
}

/// `PUT /_emulator/knobs` with `body`; the status.
async fn put_knobs(server: &Server, body: serde_json::Value) -> u16 {
    let put = server
        .client
        .put(format!("{}/_emulator/knobs", server.url))
        .json(&body);
    put.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn knobs_can_be_replaced_over_http() {
    let server = Server::start().await;
    let body = serde_json::json!({ "throttle_fraction": 1.0, "retry_after_secs": 3 });
    assert_eq!(put_knobs(&server, body).await, 200);
    let reply = any_token_request(&server).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.headers["retry-after"], "3");
    let knobs: Knobs =
        serde_json::from_value(server.get("/_emulator/knobs", &[]).await.body).unwrap();
    assert_eq!(knobs.throttle_fraction, 1.0);
    assert_eq!(knobs.token_lifetime, Knobs::default().token_lifetime);
}

#[tokio::test]
async fn invalid_knobs_are_rejected_with_400() {
    let server = Server::start().await;
    let body = serde_json::json!({ "fail_fraction": 2.0 });
    assert_eq!(put_knobs(&server, body).await, 400);
    assert_eq!(server.emulator.knobs(), Knobs::default());
}

#[tokio::test]
async fn set_knobs_applies_to_the_next_request() {
    let server = Server::start().await;
    server.emulator.set_knobs(Knobs {
        fail_fraction: 1.0,
        ..Knobs::default()
    });
    assert_eq!(any_token_request(&server).await.status, 503);
}

#[tokio::test]
async fn token_lifetime_knob_sets_expires_in_and_exp() {
    let server = Server::with_knobs(Knobs {
        token_lifetime: Duration::from_secs(120),
        ..Knobs::default()
    })
    .await;
    let reply = t1_reply(&server).await;
    assert_eq!(reply.body["expires_in"], 120);
    let exp = reply.claims()["exp"].as_u64().unwrap();
    assert!(exp > now() + 100 && exp <= now() + 120, "exp {exp}");
}

#[tokio::test]
async fn refresh_in_is_half_a_long_lifetime_unless_set() {
    let server = Server::start().await;
    let rows = [
        (
            "a three-hour lifetime refreshes at half-life",
            Knobs {
                token_lifetime: Duration::from_secs(3 * 3600),
                ..Knobs::default()
            },
            3 * 1800,
        ),
        (
            "the refresh_in knob is sent as set",
            Knobs {
                refresh_in: Some(Duration::from_secs(42)),
                ..Knobs::default()
            },
            42,
        ),
    ];
    for (behaviour, knobs, refresh_in) in rows {
        server.emulator.set_knobs(knobs);
        let reply = t1_reply(&server).await;
        assert_eq!(reply.body["refresh_in"], refresh_in, "{behaviour}");
    }
}

#[tokio::test]
async fn faults_apply_to_managed_identity_endpoints() {
    let server = Server::with_knobs(throttling(2)).await;
    let reply = server.imds("&resource=https://graph.microsoft.com").await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.headers["retry-after"], "2");
    let throttled = server.emulator.stats().managed_identity.count("throttled");
    assert_eq!(throttled, 1);
}
