//! Hop 3 (`user_fic`): the Agent Identity's T1 and T2 buy its Agent User's delegated token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::support::*;

const MSAL_SCOPE: &str = "https://graph.microsoft.com/User.Read openid profile offline_access";

/// T1 and T2 of a chain.
async fn credentials(server: &Server, chain: &Chain) -> (String, String) {
    let t1 = server.t1(chain).await;
    let reply = server
        .hop2(&chain.agent_identity, &t1, EXCHANGE_SCOPE)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    (t1, reply.access_token())
}

#[tokio::test]
async fn agent_user_token_by_object_id_has_user_claims() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("user_id", &chain.user_object_id),
            MSAL_SCOPE,
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let c = reply.claims();
    let tid = &server.world.tenant_id;
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["iss"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(c["appid"], chain.agent_identity);
    assert_eq!(c["oid"], chain.user_object_id);
    assert_eq!(c["idtyp"], "user");
    assert_eq!(c["scp"], "User.Read");
    assert_eq!(c["upn"], chain.upn);
    assert_eq!(c["tid"], *tid);
    assert_eq!(c["xms_par_app_azp"], chain.blueprint);
    assert!(has_facet(&c, "13"), "{c}");
}

#[tokio::test]
async fn agent_user_response_has_the_user_flow_fields() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("user_id", &chain.user_object_id),
            MSAL_SCOPE,
            &[],
        )
        .await;
    let body = &reply.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["ext_expires_in"], 3600);
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let scope = body["scope"].as_str().unwrap();
    assert!(scope.split(' ').any(|s| s == USER_READ), "{scope}");
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], chain.agent_identity);
    assert_eq!(id["oid"], chain.user_object_id);
    assert_eq!(id["preferred_username"], chain.upn);
    assert_eq!(id["tid"], server.world.tenant_id);
    let info: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(body["client_info"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info["uid"], chain.user_object_id);
    assert_eq!(info["utid"], server.world.tenant_id);
}

#[tokio::test]
async fn agent_user_token_by_username() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("username", &chain.upn),
            USER_READ,
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.claims()["oid"], chain.user_object_id);
}

#[tokio::test]
async fn requested_token_use_on_behalf_of_is_accepted() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("user_id", &chain.user_object_id),
            USER_READ,
            &[("requested_token_use", "on_behalf_of")],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn default_scope_grants_every_consented_scope() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("user_id", &chain.user_object_id),
            GRAPH_DEFAULT,
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let expected = agentmint_emulator::world::CONSENTED_GRAPH_SCOPES.join(" ");
    assert_eq!(reply.claims()["scp"], expected);
}

#[tokio::test]
async fn scope_not_consented_is_65001() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("user_id", &chain.user_object_id),
            "https://graph.microsoft.com/Files.ReadWrite.All openid",
            &[],
        )
        .await;
    reply.assert_entra_error(400, "invalid_grant", 65001);
    assert_eq!(reply.body["suberror"], "consent_required");
}

#[tokio::test]
async fn t2_of_another_agent_identity_is_rejected() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let (_, other_t2) = credentials(&server, &server.second_chain()).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &other_t2,
            ("user_id", &chain.user_object_id),
            USER_READ,
            &[],
        )
        .await;
    reply.assert_entra_error(400, "invalid_grant", 70021);
}

#[tokio::test]
async fn t1_presented_as_user_credential_is_rejected() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t1,
            ("user_id", &chain.user_object_id),
            USER_READ,
            &[],
        )
        .await;
    reply.assert_entra_error(400, "invalid_grant", 70021);
}

#[tokio::test]
async fn t1_of_another_agent_identity_as_client_assertion_is_70021() {
    let server = Server::start().await;
    let chain = server.chain();
    let (_, t2) = credentials(&server, &chain).await;
    let other_t1 = server.t1(&server.second_chain()).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &other_t1,
            &t2,
            ("user_id", &chain.user_object_id),
            USER_READ,
            &[],
        )
        .await;
    reply.assert_entra_error(400, "invalid_request", 70021);
}

#[tokio::test]
async fn user_of_another_agent_identity_is_50034() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let other_user = server.second_chain().user_object_id;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("user_id", &other_user),
            USER_READ,
            &[],
        )
        .await;
    reply.assert_entra_error(400, "invalid_grant", 50034);
}

#[tokio::test]
async fn unknown_user_is_50034() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("username", "nobody@example.com"),
            USER_READ,
            &[],
        )
        .await;
    reply.assert_entra_error(400, "invalid_grant", 50034);
}

#[tokio::test]
async fn both_user_id_and_username_is_rejected() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("user_id", &chain.user_object_id),
            USER_READ,
            &[("username", &chain.upn)],
        )
        .await;
    reply.assert_entra_error(400, "invalid_request", 9002313);
}

#[tokio::test]
async fn missing_user_selector_is_900144() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("client_info", "1"),
            USER_READ,
            &[],
        )
        .await;
    reply.assert_entra_error(400, "invalid_request", 900144);
}

#[tokio::test]
async fn missing_user_credential_is_900144() {
    let server = Server::start().await;
    let chain = server.chain();
    let t1 = server.t1(&chain).await;
    let reply = server
        .post_token(&[
            ("grant_type", "user_fic"),
            ("client_id", &chain.agent_identity),
            ("scope", USER_READ),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &t1),
            ("user_id", &chain.user_object_id),
        ])
        .await;
    reply.assert_entra_error(400, "invalid_request", 900144);
}

#[tokio::test]
async fn user_fic_by_a_blueprint_is_70003() {
    let server = Server::start().await;
    let chain = server.chain();
    let (_, t2) = credentials(&server, &chain).await;
    let reply = server
        .post_token(&[
            ("grant_type", "user_fic"),
            ("client_id", &chain.blueprint),
            ("scope", USER_READ),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &server.blueprint_assertion(&chain)),
            ("user_federated_identity_credential", &t2),
            ("user_id", &chain.user_object_id),
        ])
        .await;
    reply.assert_entra_error(400, "unsupported_grant_type", 70003);
}

#[tokio::test]
async fn only_oidc_scopes_is_70011() {
    let server = Server::start().await;
    let chain = server.chain();
    let (t1, t2) = credentials(&server, &chain).await;
    let reply = server
        .hop3(
            &chain.agent_identity,
            &t1,
            &t2,
            ("user_id", &chain.user_object_id),
            "openid profile offline_access",
            &[],
        )
        .await;
    reply.assert_entra_error(400, "invalid_scope", 70011);
}
