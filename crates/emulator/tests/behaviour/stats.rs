//! `GET /_emulator/stats` and its reset.

use crate::support::*;

#[tokio::test]
async fn stats_count_every_hop_and_outcome() {
    let server = Server::start().await;
    let chain = server.chain();
    server.user_token(&chain).await.assert_ok();
    server.hop1(&chain, "not-an-agent-identity").await;
    server.imds_token("https://graph.microsoft.com", "").await;
    let nobody = Form::grant("client_credentials").set("client_id", "nobody");
    server.post_token(&nobody).await;

    let stats = server.stats_json().await;
    assert_eq!(stats["total"], 6, "{stats}");
    let requests = &stats["requests"];
    assert_eq!(requests["blueprint"]["total"], 2);
    assert_eq!(requests["blueprint"]["ok"], 1);
    assert_eq!(requests["blueprint"]["invalid_request"], 1);
    assert_eq!(requests["agent_identity"]["ok"], 1);
    assert_eq!(requests["agent_user"]["ok"], 1);
    assert_eq!(requests["managed_identity"]["ok"], 1);
    assert_eq!(requests["other"]["unauthorized_client"], 1);
    assert_eq!(requests["app"]["total"], 0);
}

#[tokio::test]
async fn stats_reset_zeroes_every_count() {
    let server = Server::start().await;
    server.t1(&server.chain()).await;
    let reset = server
        .post_form(
            &format!("{}/_emulator/stats/reset", server.url),
            &Form::default(),
        )
        .await;
    assert_eq!(reset.status, 204);
    assert_eq!(server.stats_json().await["total"], 0);
    assert_eq!(
        server.emulator.stats(),
        agentmint_emulator::Stats::default()
    );
}

#[tokio::test]
async fn stats_count_the_credentials_presented_by_thumbprint_or_secret_digest_whatever_the_outcome()
{
    use agentmint_emulator::directory::hash_client_secret;
    use base64::Engine;
    use sha2::Digest;
    let server = Server::start().await;
    let chain = server.chain();
    server.t1(&chain).await;
    server.t1(&chain).await;
    let secret = std::fs::read_to_string(&server.world.app_secret_path).unwrap();
    let app = |s: &str| {
        Form::client_credentials(&server.world.app_id, GRAPH_DEFAULT).set("client_secret", s)
    };
    server.post_token(&app(&secret)).await.assert_ok();
    server.post_token(&app("not-the-secret")).await;

    let cert = std::fs::read_to_string(&server.world.blueprint_cert_path).unwrap();
    let der = pem::parse(&cert).unwrap().into_contents();
    let x5t = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der));
    let stats = server.stats_json().await;
    let seen = &stats["credentials"];
    assert_eq!(seen[format!("x5t#S256:{x5t}")], 2, "{stats}");
    let label = |s: &str| format!("client_secret:sha256:{}", &hash_client_secret(s)[..12]);
    assert_eq!(seen[label(&secret)], 1, "{stats}");
    assert_eq!(seen[label("not-the-secret")], 1, "{stats}");
    assert!(
        !stats.to_string().contains(&secret),
        "never the secret itself"
    );
    assert_eq!(server.emulator.stats().assertions_by(&x5t), 2);
}
