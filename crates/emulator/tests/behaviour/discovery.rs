//! OpenID configuration, signing keys and instance discovery.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::support::*;

#[tokio::test]
async fn openid_configuration_points_at_this_server() {
    let server = Server::start().await;
    let tid = &server.world.tenant_id;
    let reply = server
        .get(
            &format!("/{tid}/v2.0/.well-known/openid-configuration"),
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["token_endpoint"], server.token_url());
    assert_eq!(
        reply.body["jwks_uri"],
        format!("{}/{tid}/discovery/v2.0/keys", server.url)
    );
    assert_eq!(
        reply.body["issuer"],
        format!("https://login.microsoftonline.com/{tid}/v2.0")
    );
    assert!(reply.body["authorization_endpoint"].is_string());
}

#[tokio::test]
async fn openid_configuration_by_domain_names_the_tenant_id() {
    let server = Server::start().await;
    let reply = server
        .get(
            &format!(
                "/{}/v2.0/.well-known/openid-configuration",
                server.world.tenant_domain
            ),
            &[],
        )
        .await;
    assert_eq!(reply.body["token_endpoint"], server.token_url());
}

#[tokio::test]
async fn openid_configuration_of_an_unknown_tenant_is_90002() {
    let server = Server::start().await;
    let reply = server
        .get("/not-a-tenant/v2.0/.well-known/openid-configuration", &[])
        .await;
    reply.assert_entra_error(400, "invalid_tenant", 90002);
}

#[tokio::test]
async fn jwks_verifies_issued_tokens() {
    let server = Server::start().await;
    let t1 = server.t1(&server.chain()).await;
    let jwks = server
        .get(
            &format!("/{}/discovery/v2.0/keys", server.world.tenant_id),
            &[],
        )
        .await
        .body;
    let key = &jwks["keys"][0];
    assert_eq!(key["kid"], header(&t1)["kid"]);
    let decoding =
        DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[EXCHANGE_APP_ID]);
    let verified = jsonwebtoken::decode::<serde_json::Value>(&t1, &decoding, &validation);
    assert!(verified.is_ok(), "{verified:?}");
}

#[tokio::test]
async fn common_jwks_is_served() {
    let server = Server::start().await;
    let reply = server.get("/common/discovery/v2.0/keys", &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body["keys"][0]["kid"],
        server.emulator.signing_key_id()
    );
}

#[tokio::test]
async fn instance_discovery_names_the_tenant_discovery_endpoint() {
    let server = Server::start().await;
    let tid = &server.world.tenant_id;
    let authorize = format!("{}/{tid}/oauth2/v2.0/authorize", server.url);
    let reply = instance_discovery(
        &server,
        &[
            ("api-version", "1.1"),
            ("authorization_endpoint", &authorize),
        ],
    )
    .await;
    reply.assert_ok();
    assert_eq!(
        reply.body["tenant_discovery_endpoint"],
        format!("{}/{tid}/v2.0/.well-known/openid-configuration", server.url)
    );
    assert!(reply.body["metadata"][0]["aliases"].is_array());
}

#[tokio::test]
async fn instance_discovery_of_another_host_is_invalid_instance() {
    let server = Server::start().await;
    let evil = "https://evil.example/t/oauth2/v2.0/authorize";
    let reply = instance_discovery(&server, &[("authorization_endpoint", evil)]).await;
    assert_eq!((reply.status, reply.error()), (400, "invalid_instance"));
}

/// `GET /common/discovery/instance` with `query`, as MSAL asks it.
async fn instance_discovery(server: &Server, query: &[(&str, &str)]) -> Reply {
    let query = serde_urlencoded::to_string(query).unwrap();
    server
        .get(&format!("/common/discovery/instance?{query}"), &[])
        .await
}
