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
