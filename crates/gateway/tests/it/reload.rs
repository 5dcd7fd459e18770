//! RELIABILITY 29 and DESIGN's reload rules: a broken file never replaces a working config; a valid
//! one is swapped in without dropping unchanged providers' cached tokens.

use crate::support::*;
use agentmint_proto::TokenKind;
use tonic::Code;

#[tokio::test]
async fn a_broken_reload_keeps_the_old_config_serving_and_reports_file_and_line() {
    let (h, mut client) = start_connected().await;
    minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;

    let good = std::fs::read_to_string(&h.config_path).unwrap();
    std::fs::write(&h.config_path, format!("{good}\n[[provider]]\nname = \n")).unwrap();
    let err = h.gateway.reload().unwrap_err().to_string();
    let prefix = format!("{}:", h.config_path.display());
    assert!(err.contains(&prefix), "names file:line: {err}");

    let again = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    assert!(again.cache_hit, "the old config and its cache keep serving");
}

#[tokio::test]
async fn a_valid_reload_applies_new_attachments_and_keeps_unchanged_providers_tokens() {
    let (h, mut client) = start_connected().await;
    let first = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    minted_a(&mut client, "bot", TokenKind::AppOnly, &[GRAPH]).await;
    let upstream_before = upstream_total(&h);

    // Detach the bot from sandbox A.
    let config = std::fs::read_to_string(&h.config_path).unwrap();
    let detached = config.replace(
        r#"providers = ["agent", "bot"]"#,
        r#"providers = ["agent"]"#,
    );
    assert_ne!(config, detached);
    std::fs::write(&h.config_path, detached).unwrap();
    h.gateway.reload().unwrap();

    let err = refused_a(&mut client, "bot", TokenKind::AppOnly, &[GRAPH]).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let again = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    assert!(again.cache_hit);
    assert_eq!(again.access_token, first.access_token);
    assert_eq!(
        upstream_total(&h),
        upstream_before,
        "no upstream call after the reload"
    );
}

#[tokio::test]
async fn a_revoked_sandbox_is_unauthenticated_after_reload() {
    let (h, mut client) = start_connected().await;
    mint(&mut client, CRED_B, "second", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap();
    let config = std::fs::read_to_string(&h.config_path).unwrap();
    std::fs::write(
        &h.config_path,
        config.replace(&sha(CRED_B), &sha("rotated")),
    )
    .unwrap();
    h.gateway.reload().unwrap();
    let err = mint(&mut client, CRED_B, "second", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}
