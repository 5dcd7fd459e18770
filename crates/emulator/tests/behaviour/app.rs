//! A plain app registration (the "teams bot") trading a managed-identity token for its own token
//! through a federated identity credential, and the mistake of using the MI token directly.

use crate::support::*;

const EXCHANGE_RESOURCE: &str = "api://AzureADTokenExchange";

async fn app_token_with(server: &Server, assertion: &str) -> Reply {
    let form = Form::client_credentials(&server.world.app_id, GRAPH_DEFAULT).assertion(assertion);
    server.post_token(&form).await
}

#[tokio::test]
async fn app_with_managed_identity_assertion_gets_its_own_graph_token() {
    let server = Server::start().await;
    let mi_token = server.imds_token(EXCHANGE_RESOURCE, "").await;
    let reply = app_token_with(&server, &mi_token).await;
    let c = reply.assert_ok().claims();
    assert_eq!(c["appid"], server.world.app_id);
    assert_eq!(c["oid"], server.world.app_object_id);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["roles"], serde_json::json!(["ChannelMessage.Send"]));
    assert!(c.get("xms_par_app_azp").is_none());
}

#[tokio::test]
async fn managed_identity_token_of_an_untrusted_identity_is_70021() {
    let server = Server::start().await;
    let stray = server.world.stray_mi_client_id.clone();
    let mi_token = server
        .imds_token(EXCHANGE_RESOURCE, &format!("&client_id={stray}"))
        .await;
    let reply = app_token_with(&server, &mi_token).await;
    reply.assert_entra_error(400, "invalid_request", 70021);
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(
        description.contains(&server.world.stray_mi_object_id),
        "{description}"
    );
}

#[tokio::test]
async fn managed_identity_graph_token_as_assertion_is_70021() {
    let server = Server::start().await;
    let graph_token = server.imds_token("https://graph.microsoft.com", "").await;
    let reply = app_token_with(&server, &graph_token).await;
    reply.assert_entra_error(400, "invalid_request", 70021);
}

#[tokio::test]
async fn direct_managed_identity_graph_token_carries_the_identitys_appid() {
    let server = Server::start().await;
    let token = server.imds_token("https://graph.microsoft.com", "").await;
    let c = claims(&token);
    assert_eq!(c["appid"], server.world.mi_client_id);
    assert_ne!(c["appid"], server.world.app_id);
    assert_eq!(c["aud"], "https://graph.microsoft.com");
}

#[tokio::test]
async fn app_with_certificate_gets_its_own_token() {
    let cert = agentmint_emulator::pki::generate_client_certificate(
        "teams bot",
        std::time::SystemTime::now() - std::time::Duration::from_secs(60),
        std::time::SystemTime::now() + std::time::Duration::from_secs(3600),
    )
    .unwrap();
    let registered = cert.cert_pem.clone();
    let server = Server::with_directory(move |_, directory| {
        directory.tenants[0].apps[0].certificates.push(registered);
    })
    .await;
    let assertion = AssertionSpec::new(
        &cert.key_pem,
        &cert.cert_pem,
        &server.world.app_id,
        &server.token_url(),
    )
    .sign();
    let reply = app_token_with(&server, &assertion).await;
    assert_eq!(reply.assert_ok().claims()["appid"], server.world.app_id);
}
