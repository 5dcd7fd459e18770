//! Hop 2: an Agent Identity presents its T1 and gets T2 or an app-only resource token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::support::*;

/// Asserts what every token of an Agent Identity acting as itself carries: its object id, an
/// app token of this tenant, its Blueprint as parent, and the agent identity facet (11).
#[track_caller]
fn assert_agent_identity_app_token(server: &Server, chain: &Chain, c: &serde_json::Value) {
    assert_claims(
        c,
        json!({
            "oid": chain.agent_identity_object_id,
            "idtyp": "app",
            "tid": server.world.tenant_id,
            "xms_par_app_azp": chain.blueprint,
        }),
    );
    assert!(has_facet(c, "11"), "{c}");
}

#[tokio::test]
async fn agent_identity_with_its_t1_gets_t2() {
    let server = Server::start().await;
    let chain = server.chain();
    let c = claims(&server.t2(&chain).await);
    assert_agent_identity_app_token(&server, &chain, &c);
    assert_claims(
        &c,
        json!({
            "aud": EXCHANGE_APP_ID,
            "iss": server.v2_issuer(),
            "azp": chain.agent_identity,
        }),
    );
}

#[tokio::test]
async fn agent_identity_with_its_t1_gets_a_v1_graph_app_token() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let reply = server.hop2(&chain.agent_identity, &t1, GRAPH_DEFAULT).await;
    let c = reply.assert_ok().claims();
    assert_agent_identity_app_token(&server, &chain, &c);
    assert_claims(
        &c,
        json!({
            "aud": "https://graph.microsoft.com",
            "iss": server.v1_issuer(),
            "appid": chain.agent_identity,
            "ver": "1.0",
            "roles": ["User.Read.All"],
            // v1 tokens carry appid, not azp.
            "azp": null,
        }),
    );
}

#[tokio::test]
async fn graph_requested_by_app_id_has_the_app_id_audience() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let scope = format!("{}/.default", server.world.graph_app_id);
    let reply = server.hop2(&chain.agent_identity, &t1, &scope).await;
    assert_eq!(reply.assert_ok().claims()["aud"], server.world.graph_app_id);
}

/// T1 with its payload changed (a later `exp`) and the original signature.
fn tampered(t1: &str) -> String {
    let mut payload = claims(t1);
    payload["exp"] = json!(now() + 86_400);
    let parts: Vec<&str> = t1.split('.').collect();
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

#[tokio::test]
async fn client_assertion_other_than_the_agent_identitys_own_t1_is_refused() {
    let server = Server::start().await;
    let elsewhere = Server::start().await;
    let chain = server.chain();
    let ai = &chain.agent_identity;
    let (t1, t2) = server.credentials(&chain).await;
    let other_t1 = server.t1(&server.second_chain()).await;
    let foreign_t1 = elsewhere.t1(&elsewhere.chain()).await;
    let user_token = server.user_token(&chain).await.access_token();
    let tampered = tampered(&t1);
    let not_its_t1 = (400, "invalid_request", 70021);
    let bad_signature = (401, "invalid_client", 700027);
    let rows = [
        (
            "T1 of another Agent Identity",
            other_t1.as_str(),
            not_its_t1,
        ),
        ("T2 presented as client assertion", &t2, not_its_t1),
        ("tampered T1", &tampered, bad_signature),
        ("T1 from another emulator", &foreign_t1, bad_signature),
        (
            "user token as client assertion",
            &user_token,
            (400, "invalid_request", 700229),
        ),
    ];
    for (behaviour, assertion, expected) in rows {
        let reply = server.hop2(ai, assertion, EXCHANGE_SCOPE).await;
        reply.assert_entra_error_for(behaviour, expected);
    }
    // An Agent Identity without any credential is 7000218.
    let no_credential = Form::client_credentials(ai, EXCHANGE_SCOPE);
    let reply = server.post_token(&no_credential).await;
    reply.assert_entra_error(401, "invalid_client", 7000218);
}

#[tokio::test]
async fn scope_other_than_one_known_resources_default_is_refused() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let ai = &chain.agent_identity;
    assert_refusals(vec![
        (
            "unknown resource is 500011",
            server.hop2(ai, &t1, "api://no-such-api/.default").await,
            (400, "invalid_resource", 500011),
        ),
        (
            "scope without the /.default suffix is 70011",
            server.hop2(ai, &t1, USER_READ).await,
            (400, "invalid_scope", 70011),
        ),
        (
            "two scopes in client_credentials is 70011",
            server
                .hop2(ai, &t1, &format!("{GRAPH_DEFAULT} {EXCHANGE_SCOPE}"))
                .await,
            (400, "invalid_scope", 70011),
        ),
    ]);
}
