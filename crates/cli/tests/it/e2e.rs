//! Cross-process end-to-end tests: the real `agentmint` binary as emulator, gateway and sandbox
//! resolver processes on loopback, driven over HTTP like an agent would.

use std::time::Duration;

use crate::support;
use crate::support::stack::{GRAPH_DEFAULT, Stack, StackOptions, USER_SCOPE, claims};

async fn get(url: &str, scope: &str) -> (u16, serde_json::Value) {
    let response = Stack::http()
        .get(url)
        .query(&[("scope", scope)])
        .header("Metadata", "true")
        .send()
        .await
        .expect("sandbox reachable");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn both_token_kinds_carry_the_claims_of_their_kind() {
    let stack = Stack::start(StackOptions::default());
    let w = &stack.world;

    let (status, app) = get(&stack.url("agent", "token"), GRAPH_DEFAULT).await;
    assert_eq!(status, 200, "{app}");
    let c = claims(app["access_token"].as_str().unwrap());
    assert_eq!(c["appid"], w.agent_identity_app_id.as_str());
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["tid"], w.tenant_id.as_str());
    assert_eq!(c["xms_par_app_azp"], w.blueprint_app_id.as_str());

    let (status, user) = get(&stack.url("agent", "user-token"), USER_SCOPE).await;
    assert_eq!(status, 200, "{user}");
    let c = claims(user["access_token"].as_str().unwrap());
    assert_eq!(c["idtyp"], "user");
    assert_eq!(c["oid"], w.agent_user_object_id.as_str());
    assert_eq!(c["tid"], w.tenant_id.as_str());
    let azp = c.get("azp").or_else(|| c.get("appid")).unwrap();
    assert_eq!(azp, w.agent_identity_app_id.as_str());

    // Hop counts: T1 once, T2 + app token at hop 2, user token at hop 3.
    let stats = stack.emulator_stats().await;
    assert_eq!(stats["requests"]["blueprint"]["ok"], 1, "{stats}");
    assert_eq!(stats["requests"]["agent_identity"]["ok"], 2, "{stats}");
    assert_eq!(stats["requests"]["agent_user"]["ok"], 1, "{stats}");

    // Asking again is served from the gateway's caches: no new upstream request.
    let (status, _) = get(&stack.url("agent", "user-token"), USER_SCOPE).await;
    assert_eq!(status, 200);
    let again = stack.emulator_stats().await;
    assert_eq!(again["requests"], stats["requests"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_identity_app_token_carries_the_apps_own_appid() {
    let stack = Stack::start(StackOptions::default());
    let (status, body) = get(&stack.url("bot", "token"), GRAPH_DEFAULT).await;
    assert_eq!(status, 200, "{body}");
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["appid"], stack.world.app_id.as_str());
    assert_ne!(c["appid"], stack.world.mi_client_id.as_str());
    let stats = stack.emulator_stats().await;
    assert_eq!(stats["requests"]["managed_identity"]["ok"], 1, "{stats}");
    assert_eq!(stats["requests"]["app"]["ok"], 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn user_token_for_a_provider_without_agent_user_is_a_precondition_failure() {
    let stack = Stack::start(StackOptions::default());
    let (status, body) = get(&stack.url("agent-nouser", "user-token"), USER_SCOPE).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("agent user"),
        "{body}"
    );
    let stats = stack.emulator_stats().await;
    assert_eq!(stats["total"], 0, "no upstream call: {stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fic_mismatch_surfaces_as_aadsts70021_in_gateway_log_and_sandbox_error() {
    // The bot's credential is a managed identity that no FIC on the app trusts.
    let stack = Stack::start(StackOptions::default());
    let config = std::fs::read_to_string(&stack.config_path).unwrap();
    let broken = stack.with_the_bots_federation_broken(&config);
    std::fs::write(&stack.config_path, broken).unwrap();
    assert!(
        stack
            .gateway
            .wait_for_output("config reloaded", Duration::from_secs(10)),
        "{}",
        stack.gateway.output()
    );

    let (status, body) = get(&stack.url("bot", "token"), GRAPH_DEFAULT).await;
    assert!(
        status == 424 || status == 400 || status == 409 || status == 502 || status == 403,
        "status {status}: {body}"
    );
    assert_eq!(body["aadsts"], "AADSTS70021", "{body}");
    assert!(
        !body["correlation_id"].as_str().unwrap_or("").is_empty(),
        "{body}"
    );
    let log = stack.gateway.output();
    assert!(
        log.contains("AADSTS70021"),
        "gateway log names the code:\n{log}"
    );
    // The upstream failure's WARN line names the provider, the hop, the status, the code and
    // Entra's correlation id.
    let line = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("upstream call failed"))
        .unwrap_or_else(|| panic!("no WARN line for the upstream failure:\n{log}"));
    for needle in [
        "provider=bot",
        "hop=app",
        "status=400",
        "AADSTS70021",
        "correlation_id=",
    ] {
        assert!(line.contains(needle), "{needle} missing from: {line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_sandbox_credential_is_refused_without_upstream_calls() {
    let stack = Stack::without_sandbox();
    let dir = support::tempdir();
    let bad = dir.path().join("bad.credential");
    std::fs::write(&bad, "not-a-known-credential").unwrap();
    let (code, _out, err) = support::run(
        &[
            "token",
            "--gateway",
            &stack.gateway_url,
            "--credential-file",
            &support::path_str(&bad),
            "--provider",
            "agent",
        ],
        &[],
        Duration::from_secs(20),
    );
    assert_eq!(code, 1);
    assert!(err.contains("Unauthenticated"), "{err}");
    assert_eq!(stack.emulator_stats().await["total"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_command_prints_claims_not_the_token() {
    let stack = Stack::without_sandbox();
    let (code, out, err) = support::run(
        &[
            "token",
            "--gateway",
            &stack.gateway_url,
            "--credential-file",
            &support::path_str(&stack.credential_path),
            "--provider",
            "agent",
            "--kind",
            "user",
        ],
        &[],
        Duration::from_secs(20),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&stack.world.agent_user_object_id), "{out}");
    assert!(!out.contains("eyJ"), "no raw token without --raw:\n{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_mints_and_upstream_requests() {
    let stack = Stack::start(StackOptions::default());
    let (status, _) = get(&stack.url("agent", "token"), GRAPH_DEFAULT).await;
    assert_eq!(status, 200);
    let metrics = stack.metrics().await;
    assert!(
        metrics.contains(
            "agentmint_mints_total{provider=\"agent\",kind=\"app_only\",result=\"ok\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("agentmint_upstream_requests_total{hop=\"blueprint\",status=\"200\"} 1"),
        "{metrics}"
    );
    let ready = Stack::http()
        .get(format!("{}/readyz", stack.admin_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sidecar_writes_an_env_file_an_agent_in_another_container_can_source() {
    let env_dir = support::tempdir();
    let env_file = env_dir.path().join("agent.env");
    let stack = Stack::start(StackOptions {
        sandbox_providers: Some(vec!["agent"]),
        sandbox_args: vec!["--env-file".into(), support::path_str(&env_file)],
        ..Default::default()
    });
    let text = std::fs::read_to_string(&env_file).unwrap();
    assert!(
        !text.contains(&stack.credential),
        "the credential is not in the env file"
    );
    assert!(
        !text.contains(&support::path_str(&stack.credential_path)),
        "nor its path"
    );
    // What a shell in the agent's container sees after sourcing it.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". '{}' && printf '%s\\n%s' \"$AGENTMINT_TOKEN_URL\" \"$AGENTMINT_USER_TOKEN_URL\"",
            env_file.display()
        ))
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    let mut lines = out.lines();
    let (app_url, user_url) = (lines.next().unwrap(), lines.next().unwrap());
    assert!(app_url.starts_with("http://127.0.0.1:"), "{app_url}");
    assert!(user_url.ends_with("/user-token"), "{user_url}");
    let (status, body) = get(app_url, GRAPH_DEFAULT).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(user_url, USER_SCOPE).await;
    assert_eq!(status, 200, "{body}");
    // The URLs went to the file only, not to the sidecar's stdout (often collected as logs).
    let ready = stack.sandbox.as_ref().unwrap().ready.to_string();
    assert!(ready.contains("\"event\":\"ready\""), "{ready}");
    assert!(
        !ready.contains(app_url) && !ready.contains("token_url"),
        "{ready}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_and_sigusr1_reloads_revoking() {
    let stack = Stack::without_sandbox();
    stack.gateway.signal("HUP");
    assert!(
        stack
            .gateway
            .wait_for_output("revoke=false", Duration::from_secs(10)),
        "{}",
        stack.gateway.output()
    );
    stack.gateway.signal("USR1");
    assert!(
        stack
            .gateway
            .wait_for_output("revoke=true", Duration::from_secs(10)),
        "{}",
        stack.gateway.output()
    );
    let log = stack.gateway.output();
    let line = log.lines().find(|l| l.contains("revoke=true")).unwrap();
    assert!(
        line.contains("config reloaded") && line.contains("kept_cache="),
        "{line}"
    );
}
