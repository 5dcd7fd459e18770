//! RELIABILITY 30-33 across processes: with gateway and sandbox logging at TRACE, no 8-character
//! substring of any token, assertion, private key or sandbox credential appears in their logs, in
//! the metrics, or in error bodies.

use std::collections::HashSet;

use crate::support::stack::{GRAPH_DEFAULT, Stack, StackOptions, USER_SCOPE};

const WINDOW: usize = 8;

/// Every 8-character window of `text`.
fn windows(text: &str) -> HashSet<&str> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(WINDOW - 1))
        .filter_map(|i| text.get(i..i + WINDOW))
        .collect()
}

/// Fails naming the secret and the leaked window (never the whole secret).
pub(crate) fn assert_no_leak(haystack_name: &str, haystack: &str, secrets: &[(String, String)]) {
    let seen = windows(haystack);
    for (name, secret) in secrets {
        for i in 0..secret.len().saturating_sub(WINDOW - 1) {
            if let Some(w) = secret.get(i..i + WINDOW) {
                assert!(
                    !seen.contains(w),
                    "{haystack_name} contains 8 characters of {name} at offset {i}"
                );
            }
        }
    }
}

/// The parts of a JWT worth protecting: the payload and signature (the header is shared by many).
pub(crate) fn jwt_secret_parts(token: &str) -> Vec<String> {
    token.split('.').skip(1).map(str::to_owned).collect()
}

pub(crate) fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_logs_metrics_and_errors_carry_no_secret() {
    let stack = Stack::start(StackOptions {
        log: "trace",
        ..Default::default()
    });
    let http = Stack::http();
    let mut secrets: Vec<(String, String)> = vec![
        ("sandbox credential".into(), stack.credential.clone()),
        (
            "blueprint key".into(),
            pem_body(&std::fs::read_to_string(&stack.world.blueprint_key_path).unwrap()),
        ),
    ];
    let mut bodies = String::new();
    for (provider, kind, scope) in [
        ("agent", "token", GRAPH_DEFAULT),
        ("agent", "user-token", USER_SCOPE),
        ("bot", "token", GRAPH_DEFAULT),
    ] {
        let response = http
            .get(stack.url(provider, kind))
            .query(&[("scope", scope)])
            .header("Metadata", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        for part in jwt_secret_parts(body["access_token"].as_str().unwrap()) {
            secrets.push((format!("{provider} {kind} token"), part));
        }
    }
    // Failures too: a scope outside the allowlist, and a missing Metadata header.
    for request in [
        http.get(stack.url("agent", "token"))
            .query(&[("scope", "https://evil.example/.default")])
            .header("Metadata", "true"),
        http.get(stack.url("agent", "token")),
    ] {
        let response = request.send().await.unwrap();
        assert!(response.status().is_client_error());
        bodies.push_str(&response.text().await.unwrap());
    }
    // Every intermediate token the emulator issued (T1, T2, managed-identity assertions).
    let issued = stack.emulator_json("/_emulator/issued").await;
    let issued = issued["tokens"].as_array().expect("issued tokens");
    assert!(
        issued.len() >= 6,
        "T1, T2, app, user, MI, bot tokens: {}",
        issued.len()
    );
    for token in issued {
        for part in jwt_secret_parts(token.as_str().unwrap()) {
            secrets.push(("an issued token or assertion".into(), part));
        }
    }
    let metrics = stack.metrics().await;

    let gateway_log = stack.gateway.output();
    let sandbox_log = stack.sandbox.as_ref().unwrap().output();
    assert!(
        gateway_log.contains("TRACE") || gateway_log.contains("DEBUG"),
        "trace logging is on"
    );
    assert_no_leak("gateway log", &gateway_log, &secrets);
    assert_no_leak("sandbox log", &sandbox_log, &secrets);
    assert_no_leak("metrics", &metrics, &secrets);
    assert_no_leak("error bodies", &bodies, &secrets);
}
