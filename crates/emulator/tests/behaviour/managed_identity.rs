//! The IMDS and App Service managed-identity endpoints.

use crate::support::*;

const IMDS: &str = "/metadata/identity/oauth2/token?api-version=2018-02-01";
const APP_SERVICE: &str = "/msi/token?api-version=2019-08-01";

#[tokio::test]
async fn imds_issues_an_exchange_token_with_string_fields() {
    let server = Server::start().await;
    let reply = server
        .get(
            &format!("{IMDS}&resource=api://AzureADTokenExchange"),
            &[("Metadata", "true")],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    for field in [
        "access_token",
        "client_id",
        "expires_in",
        "expires_on",
        "ext_expires_in",
        "not_before",
        "resource",
        "token_type",
    ] {
        assert!(
            reply.body[field].is_string(),
            "{field} is not a string: {}",
            reply.body
        );
    }
    let expires_on: u64 = reply.body["expires_on"].as_str().unwrap().parse().unwrap();
    assert!(expires_on > now());
    let w = &server.world;
    let c = reply.claims();
    assert_eq!(c["aud"], EXCHANGE_APP_ID);
    assert_eq!(
        c["iss"],
        format!("https://login.microsoftonline.com/{}/v2.0", w.tenant_id)
    );
    assert_eq!(c["azp"], w.mi_client_id);
    assert_eq!(c["oid"], w.mi_object_id);
    assert_eq!(c["sub"], w.mi_object_id);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["tid"], w.tenant_id);
    assert_eq!(c["xms_mirid"], w.mi_resource_id);
}

#[tokio::test]
async fn imds_without_metadata_header_is_400() {
    let server = Server::start().await;
    let reply = server
        .get(&format!("{IMDS}&resource=https://graph.microsoft.com"), &[])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error(), "invalid_request");
}

#[tokio::test]
async fn imds_selects_an_identity_by_object_id() {
    let server = Server::start().await;
    let path = format!(
        "{IMDS}&resource=https://graph.microsoft.com&object_id={}",
        server.world.mi_object_id
    );
    let reply = server.get(&path, &[("Metadata", "true")]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["client_id"], server.world.mi_client_id);
}

#[tokio::test]
async fn imds_selects_an_identity_by_resource_id() {
    let server = Server::start().await;
    let path = format!(
        "{IMDS}&resource=https://graph.microsoft.com&msi_res_id={}",
        server.world.mi_resource_id
    );
    let reply = server.get(&path, &[("Metadata", "true")]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn imds_unknown_identity_is_400() {
    let server = Server::start().await;
    let path = format!(
        "{IMDS}&resource=https://graph.microsoft.com&client_id={}",
        uuid::Uuid::new_v4()
    );
    let reply = server.get(&path, &[("Metadata", "true")]).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn imds_scope_instead_of_resource_is_400_invalid_resource() {
    let server = Server::start().await;
    let reply = server
        .get(
            &format!("{IMDS}&resource={GRAPH_DEFAULT}"),
            &[("Metadata", "true")],
        )
        .await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_resource"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn imds_without_api_version_is_400() {
    let server = Server::start().await;
    let reply = server
        .get(
            "/metadata/identity/oauth2/token?resource=https://graph.microsoft.com",
            &[("Metadata", "true")],
        )
        .await;
    assert_eq!(reply.status, 400);
}

#[tokio::test]
async fn imds_path_with_trailing_slash_is_served() {
    let server = Server::start().await;
    let reply = server
        .get(
            "/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=https://graph.microsoft.com",
            &[("Metadata", "true")],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn app_service_issues_a_token_with_string_expires_on() {
    let server = Server::start().await;
    let header = server.world.identity_header.clone();
    let reply = server
        .get(
            &format!("{APP_SERVICE}&resource=api://AzureADTokenExchange"),
            &[("X-IDENTITY-HEADER", &header)],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body["expires_on"]
            .as_str()
            .is_some_and(|s| s.parse::<u64>().is_ok())
    );
    assert_eq!(reply.body["resource"], "api://AzureADTokenExchange");
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["client_id"], server.world.mi_client_id);
    assert_eq!(reply.claims()["oid"], server.world.mi_object_id);
}

#[tokio::test]
async fn app_service_without_identity_header_is_400() {
    let server = Server::start().await;
    let reply = server
        .get(
            &format!("{APP_SERVICE}&resource=https://graph.microsoft.com"),
            &[],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["statusCode"], 400);
    assert!(reply.body["message"].is_string());
    assert!(reply.body["correlationId"].is_string());
}

#[tokio::test]
async fn app_service_with_wrong_identity_header_is_401() {
    let server = Server::start().await;
    let reply = server
        .get(
            &format!("{APP_SERVICE}&resource=https://graph.microsoft.com"),
            &[("X-IDENTITY-HEADER", "guessed")],
        )
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["statusCode"], 401);
}

#[tokio::test]
async fn emulator_generates_an_identity_header_when_the_directory_has_none() {
    let server = Server::with_directory(|_, directory| directory.identity_header = None).await;
    let header = server.emulator.identity_header().expose().to_string();
    assert!(header.len() >= 32);
    let reply = server
        .get(
            &format!("{APP_SERVICE}&resource=https://graph.microsoft.com"),
            &[("X-IDENTITY-HEADER", &header)],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}
