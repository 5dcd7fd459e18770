//! RELIABILITY 6, 7, 9, 11: who may mint what, decided before any upstream call.

use crate::support::*;
use agentmint_proto::TokenKind;
use tonic::Code;

#[tokio::test]
async fn provider_not_attached_to_the_sandbox_is_permission_denied_without_upstream_calls() {
    let (h, mut client) = start_connected().await;
    let err = refused_a(&mut client, "second", TokenKind::AppOnly, &[GRAPH]).await;
    assert_refused(&err, Code::PermissionDenied, "NOT_ATTACHED");
    assert!(
        err.message().contains("sandbox-a"),
        "names the sandbox: {}",
        err.message()
    );
    assert_eq!(upstream_total(&h), 0);
}

#[tokio::test]
async fn scope_outside_the_allowlist_is_refused_before_any_upstream_call() {
    let (h, mut client) = start_connected().await;
    let err = refused_a(
        &mut client,
        "agent",
        TokenKind::AppOnly,
        &["https://evil.example/.default"],
    )
    .await;
    assert_refused(&err, Code::PermissionDenied, "SCOPE_NOT_ALLOWED");
    // A user scope is not an app-only scope either.
    let err = refused_a(&mut client, "agent", TokenKind::AppOnly, &[USER_READ]).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(upstream_total(&h), 0);
}

#[tokio::test]
async fn unknown_missing_and_malformed_sandbox_credentials_are_unauthenticated() {
    let (h, mut client) = start_connected().await;
    for credential in [Some("not-a-sandbox"), None, Some("")] {
        let err = client
            .mint_token(request(credential, "agent", TokenKind::AppOnly, &[GRAPH]))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{credential:?}");
    }
    assert_eq!(upstream_total(&h), 0);
}

#[tokio::test]
async fn unknown_provider_and_unspecified_kind_are_refused() {
    let (h, mut client) = start_connected().await;
    // An unknown name answers exactly as a provider attached elsewhere does, so a sandbox cannot
    // probe which providers exist.
    let unknown = refused_a(&mut client, "nope", TokenKind::AppOnly, &[GRAPH]).await;
    let elsewhere = refused_a(&mut client, "second", TokenKind::AppOnly, &[GRAPH]).await;
    assert_refused(&unknown, Code::PermissionDenied, "NOT_ATTACHED");
    assert_eq!(
        unknown.message().replace("\"nope\"", "P"),
        elsewhere.message().replace("\"second\"", "P")
    );
    let err = refused_a(&mut client, "agent", TokenKind::Unspecified, &[GRAPH]).await;
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = refused_a(&mut client, "bot", TokenKind::UserPrincipal, &[USER_READ]).await;
    assert_refused(&err, Code::FailedPrecondition, "NO_AGENT_USER");
    assert_eq!(upstream_total(&h), 0);
}

#[tokio::test]
async fn user_and_app_tokens_never_stand_in_for_each_other() {
    let (_stack, mut client) = start_connected().await;
    let user = minted_a(&mut client, "agent", TokenKind::UserPrincipal, &[USER_READ]).await;
    let app = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    assert_eq!(claims(&user.access_token)["idtyp"], "user");
    assert_eq!(claims(&app.access_token)["idtyp"], "app");
    // Asked again, each kind is served from its own cache entry.
    let user2 = minted_a(&mut client, "agent", TokenKind::UserPrincipal, &[USER_READ]).await;
    let app2 = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    assert!(user2.cache_hit && app2.cache_hit);
    assert_eq!(user2.access_token, user.access_token);
    assert_eq!(app2.access_token, app.access_token);
    assert_ne!(user.access_token, app.access_token);
}

#[tokio::test]
async fn empty_scope_list_gets_the_kinds_default_scopes() {
    let (_stack, mut client) = start_connected().await;
    let app = minted_a(&mut client, "agent", TokenKind::AppOnly, &[]).await;
    assert_eq!(app.scopes, vec![GRAPH.to_string()]);
    let user = minted_a(&mut client, "agent", TokenKind::UserPrincipal, &[]).await;
    assert_eq!(user.scopes, vec![USER_READ.to_string()]);
}
