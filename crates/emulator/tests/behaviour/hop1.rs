//! Hop 1: a Blueprint, with its certificate, gets T1 for one of its Agent Identities.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn blueprint_with_certificate_and_fmi_path_gets_t1() {
    let server = Server::start().await;
    let chain = server.chain();
    let reply = server.hop1(&chain, &chain.agent_identity).await;
    reply.assert_ok();
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 3600);
    assert_eq!(reply.body["ext_expires_in"], 3600);
    assert!(
        reply.body.get("refresh_in").is_none(),
        "one-hour tokens carry no refresh_in"
    );
    let tid = &server.world.tenant_id;
    assert_claims(
        &reply.claims(),
        json!({
            "aud": EXCHANGE_APP_ID,
            "iss": server.v2_issuer(),
            "azp": chain.blueprint,
            "oid": server.world.blueprint_object_id,
            "idtyp": "app",
            "tid": tid,
            "ver": "2.0",
            "sub": format!("/eid1/c/pub/t/{tid}/a/{}/{}", chain.blueprint, chain.agent_identity),
            // v2 tokens carry azp, not appid.
            "appid": null,
            "xms_par_app_azp": null,
        }),
    );
}

#[tokio::test]
async fn tokens_are_rs256_with_the_emulators_kid() {
    let server = Server::start().await;
    let t1 = server.t1(&server.chain()).await;
    let h = header(&t1);
    assert_eq!(h["alg"], "RS256");
    assert_eq!(h["kid"], server.emulator.signing_key_id());
}

#[tokio::test]
async fn legacy_rs256_assertion_with_sha1_thumbprint_is_accepted() {
    let server = Server::start().await;
    let chain = server.chain();
    let mut spec = server.assertion_spec(&chain);
    spec.alg = jsonwebtoken::Algorithm::RS256;
    spec.thumbprint = Thumbprint::Sha1;
    let form = server.hop1_form(&chain).assertion(&spec.sign());
    server.post_token(&form).await.assert_ok();
}

#[tokio::test]
async fn fmi_path_missing_foreign_or_with_a_resource_scope_is_700211() {
    let server = Server::start().await;
    let chain = server.chain();
    let hop1 = server.hop1_form(&chain);
    let refused = (400, "invalid_request", 700211);
    assert_refusals(vec![
        (
            "missing fmi_path",
            server.post_token(&hop1.clone().without("fmi_path")).await,
            refused,
        ),
        (
            "fmi_path of another Blueprint's Agent Identity",
            server
                .hop1(&chain, &server.second_chain().agent_identity)
                .await,
            refused,
        ),
        (
            "fmi_path with a resource scope",
            server.post_token(&hop1.set("scope", GRAPH_DEFAULT)).await,
            refused,
        ),
    ]);
}

#[tokio::test]
async fn blueprint_without_fmi_path_gets_its_own_resource_token() {
    let server = Server::start().await;
    let chain = server.chain();
    let form = server
        .hop1_form(&chain)
        .without("fmi_path")
        .set("scope", GRAPH_DEFAULT);
    let reply = server.post_token(&form).await;
    assert_eq!(reply.assert_ok().claims()["appid"], chain.blueprint);
}

#[tokio::test]
async fn tenant_domain_is_accepted_in_the_path_and_the_assertion_audience() {
    let server = Server::start().await;
    let chain = server.chain();
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        server.url, server.world.tenant_domain
    );
    let mut spec = server.assertion_spec(&chain);
    spec.aud = url.clone();
    let form = server.hop1_form(&chain).assertion(&spec.sign());
    let reply = server.post_form(&url, &form).await;
    assert_eq!(reply.assert_ok().claims()["tid"], server.world.tenant_id);
}

#[tokio::test]
async fn malformed_requests_get_entras_codes() {
    let server = Server::start().await;
    let blueprint = server.chain().blueprint;
    let unknown_tenant = format!("{}/{}/oauth2/v2.0/token", server.url, uuid::Uuid::new_v4());
    let token_path = format!("/{}/oauth2/v2.0/token", server.world.tenant_id);
    let no_grant = Form::default().set("client_id", &blueprint);
    let stranger = Form::grant("client_credentials").set("client_id", "x");
    assert_refusals(vec![
        (
            "unknown tenant is 90002",
            server.post_form(&unknown_tenant, &stranger).await,
            (400, "invalid_request", 90002),
        ),
        (
            "missing grant_type is 900144",
            server.post_token(&no_grant).await,
            (400, "invalid_request", 900144),
        ),
        (
            "unsupported grant_type is 70003",
            server
                .post_token(&no_grant.set("grant_type", "password"))
                .await,
            (400, "unsupported_grant_type", 70003),
        ),
        (
            "GET on the token endpoint is 900561",
            server.get(&token_path, &[]).await,
            (400, "invalid_request", 900561),
        ),
    ]);
}

#[tokio::test]
async fn unknown_fields_are_tolerated() {
    let server = Server::start().await;
    let form = server
        .hop1_form(&server.chain())
        .set("client_info", "1")
        .set("x-client-future-field", "whatever");
    server.post_token(&form).await.assert_ok();
}

#[tokio::test]
async fn error_bodies_have_entras_shape_and_echo_the_correlation_id() {
    let server = Server::start().await;
    let correlation = "5d2a3c3e-1111-4222-8333-444455556666";
    let response = server
        .client
        .post(server.token_url())
        .header("client-request-id", correlation)
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    let reply = Reply::read(response).await;
    let body = &reply.body;
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with("AADSTS70003: "), "{description}");
    for part in ["Trace ID: ", "Correlation ID: ", "Timestamp: "] {
        assert!(description.contains(part), "{description} lacks {part}");
    }
    assert!(description.contains(correlation));
    assert_eq!(body["correlation_id"], correlation);
    assert_eq!(body["error_codes"], json!([70003]));
    assert!(
        body["trace_id"]
            .as_str()
            .is_some_and(|t| description.contains(t))
    );
    assert!(body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(
        body["error_uri"],
        "https://login.microsoftonline.com/error?code=70003"
    );
    assert_eq!(reply.headers["client-request-id"], correlation);
}
