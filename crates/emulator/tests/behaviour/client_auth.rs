//! Client authentication: certificate assertions, secrets, and the errors for each way they fail.

use std::time::{Duration, SystemTime};

use agentmint_emulator::directory::hash_client_secret;
use agentmint_emulator::pki;

use crate::support::*;

fn fresh_certificate() -> pki::GeneratedCert {
    let now = SystemTime::now();
    pki::generate_client_certificate(
        "stranger",
        now - Duration::from_secs(60),
        now + Duration::from_secs(3600),
    )
    .unwrap()
}

/// Hop 1 of the primary chain with the Blueprint's assertion changed by `edit`.
async fn hop1_with(server: &Server, edit: impl FnOnce(&mut AssertionSpec)) -> Reply {
    let chain = server.chain();
    let mut spec = server.assertion_spec(&chain);
    edit(&mut spec);
    let form = server.hop1_form(&chain).assertion(&spec.sign());
    server.post_token(&form).await
}

#[tokio::test]
async fn certificate_assertion_that_does_not_prove_the_client_is_refused() {
    let server = Server::start().await;
    let stranger = fresh_certificate();
    let other_key = fresh_certificate().key_pem;
    let another_client = server.second_chain().blueprint;
    let entra_audience = format!(
        "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
        server.world.tenant_id
    );
    let hop1 = server.hop1_form(&server.chain());
    assert_refusals(vec![
        (
            // The registered certificate's thumbprint, another key.
            "wrong signature is 700027",
            hop1_with(&server, |s| s.key_pem = other_key).await,
            (401, "invalid_client", 700027),
        ),
        (
            "unregistered certificate is 700027",
            hop1_with(&server, |s| {
                s.key_pem = stranger.key_pem;
                s.cert_pem = stranger.cert_pem;
            })
            .await,
            (401, "invalid_client", 700027),
        ),
        (
            "expired assertion is 700024",
            hop1_with(&server, |s| (s.nbf, s.exp) = (Some(-1200), -600)).await,
            (401, "invalid_client", 700024),
        ),
        (
            "assertion not yet valid is 700024",
            hop1_with(&server, |s| (s.nbf, s.exp) = (Some(900), 1500)).await,
            (401, "invalid_client", 700024),
        ),
        (
            "assertion for another audience is 700023",
            hop1_with(&server, |s| s.aud = entra_audience).await,
            (401, "invalid_client", 700023),
        ),
        (
            "assertion issued by another client is 700021",
            hop1_with(&server, |s| {
                s.iss = another_client.clone();
                s.sub = another_client;
            })
            .await,
            (401, "invalid_client", 700021),
        ),
        (
            "malformed assertion is 50027",
            server
                .post_token(&hop1.clone().assertion("not-a-jwt"))
                .await,
            (401, "invalid_client", 50027),
        ),
        (
            "wrong assertion type is 9002313",
            server
                .post_token(&hop1.set(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
                ))
                .await,
            (400, "invalid_request", 9002313),
        ),
    ]);
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
    let reply = hop1_with(&server, |s| {
        s.key_pem = expired.key_pem;
        s.cert_pem = expired.cert_pem;
    })
    .await;
    reply.assert_entra_error(401, "invalid_client", 700027);
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(description.contains("expired"), "{description}");
}

#[tokio::test]
async fn assertion_expired_within_clock_skew_is_accepted() {
    let server = Server::start().await;
    let reply = hop1_with(&server, |s| (s.nbf, s.exp) = (Some(-600), -120)).await;
    reply.assert_ok();
}

#[tokio::test]
async fn v1_token_endpoint_audience_is_accepted() {
    let server = Server::start().await;
    let v1 = format!("{}/{}/oauth2/token", server.url, server.world.tenant_id);
    hop1_with(&server, |s| s.aud = v1).await.assert_ok();
}

#[tokio::test]
async fn secret_or_client_that_is_not_registered_is_refused() {
    let server = Server::start().await;
    let chain = server.chain();
    let stranger = uuid::Uuid::new_v4().to_string();
    let app = Form::client_credentials(&server.world.app_id, GRAPH_DEFAULT);
    let no_credential = Form::client_credentials(&chain.blueprint, EXCHANGE_SCOPE)
        .set("fmi_path", &chain.agent_identity);
    assert_refusals(vec![
        (
            "unknown client is 700016",
            server
                .post_token(
                    &app.clone()
                        .set("client_id", &stranger)
                        .set("client_secret", "whatever"),
                )
                .await,
            (400, "unauthorized_client", 700016),
        ),
        (
            "bad secret is 7000215",
            server
                .post_token(&app.clone().set("client_secret", "not-the-secret"))
                .await,
            (401, "invalid_client", 7000215),
        ),
        (
            "no credential is 7000218",
            server.post_token(&no_credential).await,
            (401, "invalid_client", 7000218),
        ),
        (
            "missing client_id is 900144",
            server.post_token(&app.without("client_id")).await,
            (400, "invalid_request", 900144),
        ),
    ]);
}

#[tokio::test]
async fn registered_secret_gets_a_token_with_secret_acr() {
    let server = Server::start().await;
    let secret = std::fs::read_to_string(&server.world.app_secret_path).unwrap();
    let form =
        Form::client_credentials(&server.world.app_id, GRAPH_DEFAULT).set("client_secret", &secret);
    let c = server.post_token(&form).await.assert_ok().claims();
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
    let form = Form::client_credentials(&chain.blueprint, EXCHANGE_SCOPE)
        .set("fmi_path", &chain.agent_identity)
        .set("client_secret", "dev-secret");
    server.post_token(&form).await.assert_ok();
}
