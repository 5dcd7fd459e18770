//! RELIABILITY 30 over this week's new paths, with every process at TRACE: a gateway SIGKILLed and
//! restarted under load (the `restart` scenario), an upstream refusal carried to the agent as the
//! rich gRPC error (`ErrorInfo` with hop, AADSTS code and correlation id, decoded by the resolver),
//! and the gateway's drain on SIGTERM. Then no 8-character substring of any token the emulator
//! issued, of the Blueprint keys, the app secret, the managed-identity header or the sandbox
//! credential appears in the output of any process (the dead gateway, the restarted one, the
//! resolver, the emulator), in the metrics, or in the error bodies. The scanning is `secrets`'s.

use std::time::Duration;

use agentmint_config::DEFAULT_DRAIN_GRACE_SECONDS;

use crate::restart::{self, Load};
use crate::secrets::{assert_no_leak, jwt_secret_parts, pem_body};
use crate::support::stack::{GRAPH_DEFAULT, Stack, wait_for_status};

/// GET a resolver URL; the status, whether `Retry-After` was set, and the body text.
async fn get(url: &str, scope: &str) -> (u16, bool, String) {
    let response = Stack::http()
        .get(url)
        .query(&[("scope", scope)])
        .header("Metadata", "true")
        .send()
        .await
        .expect("the resolver answers");
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    (status, retry_after, response.text().await.unwrap())
}

/// Writes `text` as the gateway's config and waits (bounded) for its reload to be logged.
///
/// The file watcher takes its baseline in a task spawned after the ready line, so a write made
/// right after start-up can become that baseline and never look like a change (seen under load).
/// So when no reload follows, the text is written again with a different trailing comment (a real
/// change), a bounded number of times.
fn reconfigure(stack: &Stack, text: &str) {
    let reloads = || stack.gateway.output().matches("config reloaded").count();
    let before = reloads();
    for attempt in 0..10 {
        std::fs::write(
            &stack.config_path,
            format!("{text}\n# test write {attempt}\n"),
        )
        .unwrap();
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if reloads() > before {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("reconfigure: no reload after write {attempt}; writing again");
    }
    panic!("no reload logged:\n{}", stack.gateway.output());
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_output_of_a_restart_a_rich_refusal_and_a_drain_carries_no_secret() {
    let mut stack = restart::stack("trace");
    let mut bodies = String::new();

    // 1. A refusal from Entra, as the rich gRPC error: the resolver's body names the code and
    //    Entra's correlation id, both carried in ErrorInfo metadata. The bot has no token cached
    //    yet; its config is restored afterwards.
    let config = std::fs::read_to_string(&stack.config_path).unwrap();
    tokio::task::block_in_place(|| {
        reconfigure(&stack, &stack.with_the_bots_federation_broken(&config))
    });
    let (status, _, body) = get(&stack.url("bot", "token"), GRAPH_DEFAULT).await;
    let refusal: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        (400..500).contains(&status) || status == 502,
        "{status}: {body}"
    );
    assert_eq!(refusal["aadsts"], "AADSTS70021", "{body}");
    assert!(
        !refusal["correlation_id"].as_str().unwrap_or("").is_empty(),
        "{body}"
    );
    bodies.push_str(&body);
    tokio::task::block_in_place(|| reconfigure(&stack, &config));

    // 2. The restart under (light: TRACE is verbose) load.
    let load = Load {
        agents: 4,
        pause: Duration::from_millis(20),
        max_requests_per_agent: 2_000,
    };
    let (dead, figures) = restart::run(&mut stack, "trace", load).await;
    restart::assert_properties(&figures);
    let metrics = stack.metrics().await;

    // 3. The drain: served through the grace, exit 0, then the resolver's own 503.
    stack.gateway.sigterm();
    assert!(
        wait_for_status(&format!("{}/readyz", stack.admin_url), 503, 1000).await,
        "/readyz never turned 503\n{}",
        stack.gateway.output()
    );
    let (status, _, body) = get(&stack.url("agent", "token"), GRAPH_DEFAULT).await;
    assert_eq!(status, 200, "served during the grace: {body}");
    let grace = Duration::from_secs(DEFAULT_DRAIN_GRACE_SECONDS);
    let code = tokio::task::block_in_place(|| stack.gateway.exit_code(grace * 4));
    assert_eq!(code, 0, "{}", stack.gateway.output());
    let (status, retry_after, body) = get(&stack.url("agent", "token"), GRAPH_DEFAULT).await;
    assert_eq!((status, retry_after), (503, true), "{body}");
    bodies.push_str(&body);

    // Everything worth protecting.
    let world = &stack.world;
    let mut secrets: Vec<(String, String)> = vec![
        ("sandbox credential".into(), stack.credential.clone()),
        (
            "blueprint key".into(),
            pem_body(&std::fs::read_to_string(&world.blueprint_key_path).unwrap()),
        ),
        (
            "second blueprint key".into(),
            pem_body(&std::fs::read_to_string(&world.second_blueprint_key_path).unwrap()),
        ),
        (
            "app secret".into(),
            std::fs::read_to_string(&world.app_secret_path)
                .unwrap()
                .trim()
                .to_owned(),
        ),
        (
            "managed-identity header".into(),
            world.identity_header.clone(),
        ),
    ];
    let issued = stack.emulator_json("/_emulator/issued").await;
    let issued = issued["tokens"].as_array().expect("issued tokens");
    // Every key minted twice (cold, then after the restart), plus the drain's token.
    assert!(issued.len() >= 2 * 9, "issued: {}", issued.len());
    for token in issued {
        for part in jwt_secret_parts(token.as_str().unwrap()) {
            secrets.push(("an issued token".into(), part));
        }
    }

    let logs = [
        ("killed gateway output", dead.output()),
        ("restarted gateway output", stack.gateway.output()),
        ("resolver output", stack.sandbox.as_ref().unwrap().output()),
        ("emulator output", stack.emulator_output()),
        ("metrics", metrics),
        ("error bodies", bodies),
    ];
    for (name, text) in &logs[..3] {
        assert!(text.contains("TRACE"), "{name} is at TRACE");
    }
    assert!(logs[0].1.contains("AADSTS70021"), "the refusal is logged");
    assert!(
        logs[1].1.contains("drain grace over"),
        "the drain is logged"
    );
    for (name, text) in &logs {
        assert_no_leak(name, text, &secrets);
    }
}
