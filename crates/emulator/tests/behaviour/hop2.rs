//! Hop 2: an Agent Identity presents its T1 and gets T2 or an app-only resource token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::support::*;

#[tokio::test]
async fn agent_identity_with_its_t1_gets_t2() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let reply = server
        .hop2(&chain.agent_identity, &t1, EXCHANGE_SCOPE)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let c = reply.claims();
    let tid = &server.world.tenant_id;
    assert_eq!(c["aud"], EXCHANGE_APP_ID);
    assert_eq!(
        c["iss"],
        format!("https://login.microsoftonline.com/{tid}/v2.0")
    );
    assert_eq!(c["azp"], chain.agent_identity);
    assert_eq!(c["oid"], chain.agent_identity_object_id);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["tid"], *tid);
    assert_eq!(c["xms_par_app_azp"], chain.blueprint);
    assert!(has_facet(&c, "11"), "{c}");
}

#[tokio::test]
async fn agent_identity_with_its_t1_gets_a_v1_graph_app_token() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let reply = server.hop2(&chain.agent_identity, &t1, GRAPH_DEFAULT).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let c = reply.claims();
    let tid = &server.world.tenant_id;
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["iss"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(c["appid"], chain.agent_identity);
    assert_eq!(c["oid"], chain.agent_identity_object_id);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["tid"], *tid);
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["roles"], serde_json::json!(["User.Read.All"]));
    assert_eq!(c["xms_par_app_azp"], chain.blueprint);
    assert!(has_facet(&c, "11"), "{c}");
    assert!(c.get("azp").is_none(), "v1 tokens carry appid, not azp");
}

#[tokio::test]
async fn graph_requested_by_app_id_has_the_app_id_audience() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let scope = format!("{}/.default", server.world.graph_app_id);
    let reply = server.hop2(&chain.agent_identity, &t1, &scope).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.claims()["aud"], server.world.graph_app_id);
}

#[tokio::test]
async fn t1_of_another_agent_identity_is_70021() {
    let server = Server::start().await;
    let other_t1 = server.t1(&server.second_chain()).await;
    let reply = server
        .hop2(&server.chain().agent_identity, &other_t1, EXCHANGE_SCOPE)
        .await;
    reply.assert_entra_error(400, "invalid_request", 70021);
}

#[tokio::test]
async fn t2_presented_as_client_assertion_is_70021() {
    let server = Server::start().await;
    let chain = server.chain();
    let t2 = server.t2(&chain).await;
    let reply = server
        .hop2(&chain.agent_identity, &t2, EXCHANGE_SCOPE)
        .await;
    reply.assert_entra_error(400, "invalid_request", 70021);
}

#[tokio::test]
async fn tampered_t1_is_700027() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let mut payload = claims(&t1);
    payload["exp"] = serde_json::json!(now() + 86_400);
    let parts: Vec<&str> = t1.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    let reply = server
        .hop2(&chain.agent_identity, &forged, EXCHANGE_SCOPE)
        .await;
    reply.assert_entra_error(401, "invalid_client", 700027);
}

#[tokio::test]
async fn t1_from_another_emulator_is_700027() {
    let server = Server::start().await;
    let elsewhere = Server::start().await;
    let foreign_t1 = elsewhere.t1(&elsewhere.chain()).await;
    let reply = server
        .hop2(&server.chain().agent_identity, &foreign_t1, EXCHANGE_SCOPE)
        .await;
    reply.assert_entra_error(401, "invalid_client", 700027);
}

#[tokio::test]
async fn user_token_presented_as_client_assertion_is_700229() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let t2 = server.t2(&chain).await;
    let user_token = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("user_id", &chain.user_object_id),
            USER_READ,
            &[],
        )
        .await
        .access_token();
    let reply = server
        .hop2(&chain.agent_identity, &user_token, EXCHANGE_SCOPE)
        .await;
    reply.assert_entra_error(400, "invalid_request", 700229);
}

#[tokio::test]
async fn agent_identity_without_credential_is_7000218() {
    let server = Server::start().await;
    let reply = server
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &server.chain().agent_identity),
            ("scope", EXCHANGE_SCOPE),
        ])
        .await;
    reply.assert_entra_error(401, "invalid_client", 7000218);
}

#[tokio::test]
async fn unknown_resource_is_500011() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let reply = server
        .hop2(&chain.agent_identity, &t1, "api://no-such-api/.default")
        .await;
    reply.assert_entra_error(400, "invalid_resource", 500011);
}

#[tokio::test]
async fn scope_without_default_suffix_is_70011() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let reply = server.hop2(&chain.agent_identity, &t1, USER_READ).await;
    reply.assert_entra_error(400, "invalid_scope", 70011);
}

#[tokio::test]
async fn two_scopes_in_client_credentials_is_70011() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let scope = format!("{GRAPH_DEFAULT} {EXCHANGE_SCOPE}");
    let reply = server.hop2(&chain.agent_identity, &t1, &scope).await;
    reply.assert_entra_error(400, "invalid_scope", 70011);
}
