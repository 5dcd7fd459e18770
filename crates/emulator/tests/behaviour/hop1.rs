//! Hop 1: a Blueprint, with its certificate, gets T1 for one of its Agent Identities.

use crate::support::*;

#[tokio::test]
async fn blueprint_with_certificate_and_fmi_path_gets_t1() {
    let server = Server::start().await;
    let chain = server.chain();
    let reply = server.hop1(&chain, &chain.agent_identity).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 3600);
    assert_eq!(reply.body["ext_expires_in"], 3600);
    assert!(
        reply.body.get("refresh_in").is_none(),
        "one-hour tokens carry no refresh_in"
    );
    let c = reply.claims();
    let tid = &server.world.tenant_id;
    assert_eq!(c["aud"], EXCHANGE_APP_ID);
    assert_eq!(
        c["iss"],
        format!("https://login.microsoftonline.com/{tid}/v2.0")
    );
    assert_eq!(c["azp"], chain.blueprint);
    assert_eq!(c["oid"], server.world.blueprint_object_id);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["tid"], *tid);
    assert_eq!(c["ver"], "2.0");
    assert_eq!(
        c["sub"],
        format!(
            "/eid1/c/pub/t/{tid}/a/{}/{}",
            chain.blueprint, chain.agent_identity
        )
    );
    assert!(c.get("appid").is_none(), "v2 tokens carry azp, not appid");
    assert!(c.get("xms_par_app_azp").is_none());
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
    let mut spec = AssertionSpec::new(
        &chain.key_pem(),
        &chain.cert_pem(),
        &chain.blueprint,
        &server.token_url(),
    );
    spec.alg = jsonwebtoken::Algorithm::RS256;
    spec.thumbprint = Thumbprint::Sha1;
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &chain.blueprint),
            ("scope", EXCHANGE_SCOPE),
            ("fmi_path", &chain.agent_identity),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &spec.sign()),
        ])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn missing_fmi_path_is_700211() {
    let server = Server::start().await;
    let chain = server.chain();
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &chain.blueprint),
            ("scope", EXCHANGE_SCOPE),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &server.blueprint_assertion(&chain)),
        ])
        .await;
    reply.assert_entra_error(400, "invalid_request", 700211);
}

#[tokio::test]
async fn fmi_path_of_another_blueprints_agent_identity_is_700211() {
    let server = Server::start().await;
    let reply = server
        .hop1(&server.chain(), &server.second_chain().agent_identity)
        .await;
    reply.assert_entra_error(400, "invalid_request", 700211);
}

#[tokio::test]
async fn fmi_path_with_a_resource_scope_is_700211() {
    let server = Server::start().await;
    let chain = server.chain();
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &chain.blueprint),
            ("scope", GRAPH_DEFAULT),
            ("fmi_path", &chain.agent_identity),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &server.blueprint_assertion(&chain)),
        ])
        .await;
    reply.assert_entra_error(400, "invalid_request", 700211);
}

#[tokio::test]
async fn blueprint_without_fmi_path_gets_its_own_resource_token() {
    let server = Server::start().await;
    let chain = server.chain();
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &chain.blueprint),
            ("scope", GRAPH_DEFAULT),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &server.blueprint_assertion(&chain)),
        ])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.claims()["appid"], chain.blueprint);
}

#[tokio::test]
async fn tenant_domain_is_accepted_in_the_path_and_the_assertion_audience() {
    let server = Server::start().await;
    let chain = server.chain();
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        server.url, server.world.tenant_domain
    );
    let assertion =
        AssertionSpec::new(&chain.key_pem(), &chain.cert_pem(), &chain.blueprint, &url).sign();
    let reply = server
        .post_form(
            &url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &chain.blueprint),
                ("scope", EXCHANGE_SCOPE),
                ("fmi_path", &chain.agent_identity),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &assertion),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.claims()["tid"], server.world.tenant_id);
}

#[tokio::test]
async fn unknown_tenant_is_90002() {
    let server = Server::start().await;
    let url = format!("{}/{}/oauth2/v2.0/token", server.url, uuid::Uuid::new_v4());
    let reply = server
        .post_form(
            &url,
            &[("grant_type", "client_credentials"), ("client_id", "x")],
        )
        .await;
    reply.assert_entra_error(400, "invalid_request", 90002);
}

#[tokio::test]
async fn missing_grant_type_is_900144() {
    let server = Server::start().await;
    let reply = server
        .post_token(&[("client_id", &server.chain().blueprint)])
        .await;
    reply.assert_entra_error(400, "invalid_request", 900144);
}

#[tokio::test]
async fn unsupported_grant_type_is_70003() {
    let server = Server::start().await;
    let reply = server
        .post_token(&[
            ("grant_type", "password"),
            ("client_id", &server.chain().blueprint),
        ])
        .await;
    reply.assert_entra_error(400, "unsupported_grant_type", 70003);
}

#[tokio::test]
async fn get_on_the_token_endpoint_is_900561() {
    let server = Server::start().await;
    let reply = server
        .get(
            &format!("/{}/oauth2/v2.0/token", server.world.tenant_id),
            &[],
        )
        .await;
    reply.assert_entra_error(400, "invalid_request", 900561);
}

#[tokio::test]
async fn unknown_fields_are_tolerated() {
    let server = Server::start().await;
    let chain = server.chain();
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &chain.blueprint),
            ("scope", EXCHANGE_SCOPE),
            ("fmi_path", &chain.agent_identity),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &server.blueprint_assertion(&chain)),
            ("client_info", "1"),
            ("x-client-future-field", "whatever"),
        ])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
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
    assert_eq!(body["error_codes"], serde_json::json!([70003]));
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
