//! Client authentication: certificate assertions, secrets, and the errors for each way they fail.

use std::time::{Duration, SystemTime};

use agentmint_emulator::directory::hash_client_secret;
use agentmint_emulator::pki;

use crate::support::*;

/// A client_credentials request of the primary Blueprint for T1 with `assertion`.
async fn hop1_with(server: &Server, assertion: &str) -> Reply {
    let chain = server.chain();
    server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &chain.blueprint),
            ("scope", EXCHANGE_SCOPE),
            ("fmi_path", &chain.agent_identity),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ])
        .await
}

fn spec(server: &Server) -> AssertionSpec {
    let chain = server.chain();
    AssertionSpec::new(
        &chain.key_pem(),
        &chain.cert_pem(),
        &chain.blueprint,
        &server.token_url(),
    )
}

fn fresh_certificate() -> pki::GeneratedCert {
    let now = SystemTime::now();
    pki::generate_client_certificate(
        "stranger",
        now - Duration::from_secs(60),
        now + Duration::from_secs(3600),
    )
    .unwrap()
}

#[tokio::test]
async fn wrong_signature_is_700027() {
    let server = Server::start().await;
    let mut spec = spec(&server);
    spec.key_pem = fresh_certificate().key_pem; // the registered certificate's thumbprint, another key
    hop1_with(&server, &spec.sign())
        .await
        .assert_entra_error(401, "invalid_client", 700027);
}

#[tokio::test]
async fn unregistered_certificate_is_700027() {
    let server = Server::start().await;
    let stranger = fresh_certificate();
    let mut spec = spec(&server);
    spec.key_pem = stranger.key_pem;
    spec.cert_pem = stranger.cert_pem;
    hop1_with(&server, &spec.sign())
        .await
        .assert_entra_error(401, "invalid_client", 700027);
}

#[tokio::test]
async fn expired_registered_certificate_is_700027() {
    let now = SystemTime::now();
    let day = Duration::from_secs(86_400);
    let expired = pki::generate_client_certificate("expired", now - 10 * day, now - day).unwrap();
    let registered = expired.cert_pem.clone();
    let server = Server::with_directory(move |_, directory| {
        directory.tenants[0].blueprints[0].certificates = vec![registered];
    })
    .await;
    let mut spec = spec(&server);
    spec.key_pem = expired.key_pem;
    spec.cert_pem = expired.cert_pem;
    let reply = hop1_with(&server, &spec.sign()).await;
    reply.assert_entra_error(401, "invalid_client", 700027);
    assert!(
        reply.body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn expired_assertion_is_700024() {
    let server = Server::start().await;
    let mut spec = spec(&server);
    spec.nbf = Some(-1200);
    spec.exp = -600;
    hop1_with(&server, &spec.sign())
        .await
        .assert_entra_error(401, "invalid_client", 700024);
}

#[tokio::test]
async fn assertion_not_yet_valid_is_700024() {
    let server = Server::start().await;
    let mut spec = spec(&server);
    spec.nbf = Some(900);
    spec.exp = 1500;
    hop1_with(&server, &spec.sign())
        .await
        .assert_entra_error(401, "invalid_client", 700024);
}

#[tokio::test]
async fn assertion_expired_within_clock_skew_is_accepted() {
    let server = Server::start().await;
    let mut spec = spec(&server);
    spec.nbf = Some(-600);
    spec.exp = -120;
    let reply = hop1_with(&server, &spec.sign()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn assertion_for_another_audience_is_700023() {
    let server = Server::start().await;
    let mut spec = spec(&server);
    spec.aud = format!(
        "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
        server.world.tenant_id
    );
    hop1_with(&server, &spec.sign())
        .await
        .assert_entra_error(401, "invalid_client", 700023);
}

#[tokio::test]
async fn v1_token_endpoint_audience_is_accepted() {
    let server = Server::start().await;
    let mut spec = spec(&server);
    spec.aud = format!("{}/{}/oauth2/token", server.url, server.world.tenant_id);
    let reply = hop1_with(&server, &spec.sign()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn assertion_issued_by_another_client_is_700021() {
    let server = Server::start().await;
    let mut spec = spec(&server);
    spec.iss = server.second_chain().blueprint;
    spec.sub = spec.iss.clone();
    hop1_with(&server, &spec.sign())
        .await
        .assert_entra_error(401, "invalid_client", 700021);
}

#[tokio::test]
async fn malformed_assertion_is_50027() {
    let server = Server::start().await;
    hop1_with(&server, "not-a-jwt")
        .await
        .assert_entra_error(401, "invalid_client", 50027);
}

#[tokio::test]
async fn wrong_assertion_type_is_rejected() {
    let server = Server::start().await;
    let chain = server.chain();
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &chain.blueprint),
            ("scope", EXCHANGE_SCOPE),
            ("fmi_path", &chain.agent_identity),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            ("client_assertion", &server.blueprint_assertion(&chain)),
        ])
        .await;
    reply.assert_entra_error(400, "invalid_request", 9002313);
}

#[tokio::test]
async fn unknown_client_is_700016() {
    let server = Server::start().await;
    let stranger = uuid::Uuid::new_v4().to_string();
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &stranger),
            ("scope", GRAPH_DEFAULT),
            ("client_secret", "whatever"),
        ])
        .await;
    reply.assert_entra_error(400, "unauthorized_client", 700016);
}

#[tokio::test]
async fn bad_secret_is_7000215() {
    let server = Server::start().await;
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &server.world.app_id),
            ("scope", GRAPH_DEFAULT),
            ("client_secret", "not-the-secret"),
        ])
        .await;
    reply.assert_entra_error(401, "invalid_client", 7000215);
}

#[tokio::test]
async fn registered_secret_gets_a_token_with_secret_acr() {
    let server = Server::start().await;
    let secret = std::fs::read_to_string(&server.world.app_secret_path).unwrap();
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &server.world.app_id),
            ("scope", GRAPH_DEFAULT),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let c = reply.claims();
    assert_eq!(c["appid"], server.world.app_id);
    assert_eq!(c["appidacr"], "1");
}

#[tokio::test]
async fn secret_added_to_the_directory_by_hash_is_accepted() {
    let server = Server::with_directory(|_, directory| {
        directory.tenants[0].blueprints[0].client_secret_sha256 =
            vec![hash_client_secret("dev-secret")];
    })
    .await;
    let chain = server.chain();
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &chain.blueprint),
            ("scope", EXCHANGE_SCOPE),
            ("fmi_path", &chain.agent_identity),
            ("client_secret", "dev-secret"),
        ])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn no_credential_is_7000218() {
    let server = Server::start().await;
    let chain = server.chain();
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &chain.blueprint),
            ("scope", EXCHANGE_SCOPE),
            ("fmi_path", &chain.agent_identity),
        ])
        .await;
    reply.assert_entra_error(401, "invalid_client", 7000218);
}

#[tokio::test]
async fn missing_client_id_is_900144() {
    let server = Server::start().await;
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_DEFAULT),
        ])
        .await;
    reply.assert_entra_error(400, "invalid_request", 900144);
}
