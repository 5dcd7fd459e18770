//! The IMDS and App Service managed-identity endpoints.

use serde_json::json;

use crate::support::*;

const APP_SERVICE: &str = "/msi/token?api-version=2019-08-01";
const GRAPH: &str = "&resource=https://graph.microsoft.com";

#[tokio::test]
async fn imds_issues_an_exchange_token_with_string_fields() {
    let server = Server::start().await;
    let reply = server.imds("&resource=api://AzureADTokenExchange").await;
    reply.assert_ok();
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
    assert_claims(
        &reply.claims(),
        json!({
            "aud": EXCHANGE_APP_ID,
            "iss": server.v2_issuer(),
            "azp": w.mi_client_id,
            "oid": w.mi_object_id,
            "sub": w.mi_object_id,
            "idtyp": "app",
            "tid": w.tenant_id,
            "xms_mirid": w.mi_resource_id,
        }),
    );
}

#[tokio::test]
async fn imds_selects_an_identity_by_object_id_or_resource_id() {
    let server = Server::start().await;
    let w = &server.world;
    let by_object_id = server
        .imds(&format!("{GRAPH}&object_id={}", w.mi_object_id))
        .await;
    assert_eq!(by_object_id.assert_ok().body["client_id"], w.mi_client_id);
    let by_resource_id = server
        .imds(&format!("{GRAPH}&msi_res_id={}", w.mi_resource_id))
        .await;
    assert_eq!(by_resource_id.assert_ok().body["client_id"], w.mi_client_id);
}

#[tokio::test]
async fn imds_path_with_trailing_slash_is_served() {
    let server = Server::start().await;
    let path = format!("/metadata/identity/oauth2/token/?api-version=2018-02-01{GRAPH}");
    let reply = server.get(&path, &[("Metadata", "true")]).await;
    reply.assert_ok();
}

#[tokio::test]
async fn imds_request_without_what_it_requires_is_400() {
    let server = Server::start().await;
    let rows = [
        (
            "without the Metadata header",
            server.get(&format!("{IMDS}{GRAPH}"), &[]).await,
            "invalid_request",
        ),
        (
            "unknown identity",
            server
                .imds(&format!("{GRAPH}&client_id={}", uuid::Uuid::new_v4()))
                .await,
            "invalid_request",
        ),
        (
            "a scope instead of a resource",
            server.imds(&format!("&resource={GRAPH_DEFAULT}")).await,
            "invalid_resource",
        ),
        (
            "without api-version",
            server
                .get(
                    "/metadata/identity/oauth2/token?resource=https://graph.microsoft.com",
                    &[("Metadata", "true")],
                )
                .await,
            "invalid_request",
        ),
    ];
    for (behaviour, reply, error) in rows {
        assert_eq!(
            (reply.status, reply.error()),
            (400, error),
            "{behaviour}: {}",
            reply.body
        );
    }
}

/// `GET` an App Service token for `resource` with `X-IDENTITY-HEADER: header`, if any.
async fn app_service(server: &Server, resource: &str, header: Option<&str>) -> Reply {
    let path = format!("{APP_SERVICE}&resource={resource}");
    let headers: Vec<(&str, &str)> = header
        .map(|h| ("X-IDENTITY-HEADER", h))
        .into_iter()
        .collect();
    server.get(&path, &headers).await
}

#[tokio::test]
async fn app_service_issues_a_token_with_string_expires_on() {
    let server = Server::start().await;
    let header = server.world.identity_header.clone();
    let reply = app_service(&server, "api://AzureADTokenExchange", Some(&header)).await;
    reply.assert_ok();
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
    let reply = app_service(&server, "https://graph.microsoft.com", None).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["statusCode"], 400);
    assert!(reply.body["message"].is_string());
    assert!(reply.body["correlationId"].is_string());
}

#[tokio::test]
async fn app_service_with_wrong_identity_header_is_401() {
    let server = Server::start().await;
    let reply = app_service(&server, "https://graph.microsoft.com", Some("guessed")).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["statusCode"], 401);
}

#[tokio::test]
async fn emulator_generates_an_identity_header_when_the_directory_has_none() {
    let server = Server::with_directory(|_, directory| directory.identity_header = None).await;
    let header = server.emulator.identity_header().expose().to_string();
    assert!(header.len() >= 32);
    let reply = app_service(&server, "https://graph.microsoft.com", Some(&header)).await;
    reply.assert_ok();
}
