//! RELIABILITY 33 and the launcher: the agent's environment has the token URLs and no credential;
//! the agent's exit status and signals pass through.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use crate::common;
use agentmint_sandbox::launcher::{agent_env, run_agent_with_signals};
use agentmint_sandbox::{
    LocalUrls, ManagedIdentityMode, Resolver, SandboxConfig, SandboxCredential,
};
use common::{AGENT, BOT, CREDENTIAL, run_agent};
use nix::sys::signal::Signal;

fn urls(credential_file: &Path, managed_identity: ManagedIdentityMode) -> LocalUrls {
    let resolver = Resolver::new(SandboxConfig {
        gateway: "http://127.0.0.1:9".into(),
        gateway_tls: agentmint_sandbox::GatewayTls::default(),
        credential: SandboxCredential::from_file(credential_file).unwrap(),
        providers: vec![AGENT.into(), BOT.into()],
        managed_identity,
        allowed_hosts: Vec::new(),
        request_timeout: Duration::from_secs(1),
        token_cache_ttl: agentmint_sandbox::DEFAULT_TOKEN_CACHE_TTL,
        path_secret: None,
    })
    .unwrap();
    resolver.urls("127.0.0.1:4321".parse().unwrap())
}

fn app_mi() -> ManagedIdentityMode {
    ManagedIdentityMode::AppOnly {
        provider: AGENT.into(),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn as_map(env: &[(String, String)]) -> HashMap<&str, &str> {
    let map: HashMap<&str, &str> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(map.len(), env.len(), "a variable appears twice");
    map
}

/// A parent environment full of things the agent must not see.
fn hostile_parent(credential_path: &str) -> Vec<(String, String)> {
    let with_credential = format!("prefix-{CREDENTIAL}-suffix");
    let mut parent = pairs(&[
        ("PATH", "/usr/bin:/bin"),
        ("HOME", "/home/agent"),
        ("AZURE_TENANT_ID", "tenant"),
        ("AGENTMINT_SANDBOX_CREDENTIAL", CREDENTIAL),
        ("AGENTMINT_SANDBOX_CREDENTIAL_FILE", credential_path),
        ("AZURE_CLIENT_SECRET", "client-secret"),
        ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/token"),
        ("AZURE_CLIENT_CERTIFICATE_PATH", "/etc/cert.pem"),
        ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "cert-password"),
        ("AZURE_CLIENT_CERTIFICATE_SEND_CERTIFICATE_CHAIN", "true"),
        ("AZURE_USERNAME", "someone@contoso"),
        ("AZURE_PASSWORD", "hunter2"),
        ("IDENTITY_ENDPOINT", "http://169.254.1.1/msi"),
        ("IDENTITY_HEADER", "host-identity-header"),
        ("MSI_SECRET", "msi-secret"),
        ("UNRELATED_NAME", CREDENTIAL),
        ("HIDDEN", "x"),
        ("NO_PROXY", ".corp.example"),
    ]);
    parent.push(("WRAPPED".into(), with_credential));
    parent.push((
        "CRED_PATH_OPTS".into(),
        format!("--credential-file={credential_path}"),
    ));
    parent
}

/// A credential file, and the agent's environment built from a [`hostile_parent`] naming it.
fn env_from_a_hostile_parent() -> (tempfile::NamedTempFile, Vec<(String, String)>) {
    let file = common::credential_file();
    let path = file.path().display().to_string();
    let env = agent_env(
        hostile_parent(&path).into_iter(),
        &urls(file.path(), app_mi()),
    );
    (file, env)
}

#[tokio::test]
async fn agent_env_strips_every_credential_bearing_variable() {
    let (file, env) = env_from_a_hostile_parent();
    let path = file.path().display().to_string();
    let map = as_map(&env);
    for removed in [
        "AGENTMINT_SANDBOX_CREDENTIAL",
        "AGENTMINT_SANDBOX_CREDENTIAL_FILE",
        "AZURE_CLIENT_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_CLIENT_CERTIFICATE_SEND_CERTIFICATE_CHAIN",
        "AZURE_USERNAME",
        "AZURE_PASSWORD",
        "MSI_SECRET",
        "UNRELATED_NAME",
        "WRAPPED",
        "CRED_PATH_OPTS",
    ] {
        assert!(!map.contains_key(removed), "{removed} reached the agent");
    }
    for (name, value) in &env {
        assert!(!value.contains(CREDENTIAL), "{name} carries the credential");
        assert!(!value.contains(&path), "{name} names the credential file");
    }
    assert_eq!(map["PATH"], "/usr/bin:/bin");
    assert_eq!(map["HOME"], "/home/agent");
    assert_eq!(map["AZURE_TENANT_ID"], "tenant");
    assert_eq!(map["HIDDEN"], "x");
}

#[tokio::test]
async fn agent_env_sets_token_urls_for_every_provider_and_the_openshell_aliases() {
    let file = common::credential_file();
    let urls = urls(file.path(), ManagedIdentityMode::Off);
    let env = agent_env(std::iter::empty(), &urls);
    let map = as_map(&env);
    let agent = urls.provider(AGENT).unwrap();
    let bot = urls.provider(BOT).unwrap();
    assert!(agent.app_token_url.starts_with("http://127.0.0.1:4321/"));
    assert_eq!(map["AGENTMINT_TOKEN_URL"], agent.app_token_url);
    assert_eq!(map["AGENTMINT_USER_TOKEN_URL"], agent.user_token_url);
    assert_eq!(map["AGENTMINT_DEMO_AGENT_TOKEN_URL"], agent.app_token_url);
    assert_eq!(
        map["AGENTMINT_DEMO_AGENT_USER_TOKEN_URL"],
        agent.user_token_url
    );
    assert_eq!(map["AGENTMINT_TEAMS_BOT_TOKEN_URL"], bot.app_token_url);
    assert_eq!(
        map["AGENTMINT_TEAMS_BOT_USER_TOKEN_URL"],
        bot.user_token_url
    );
    assert_eq!(
        map["OPENSHELL_MICROSOFT_AGENT_S2S_TOKEN_URL"],
        agent.app_token_url
    );
    assert_eq!(
        map["OPENSHELL_MICROSOFT_AGENT_S2S_TOKEN_PROVIDER_URL"],
        agent.app_token_url
    );
    assert_eq!(map["A365_TOKEN_PROVIDER_URL"], agent.app_token_url);
    assert_eq!(
        map["OPENSHELL_MICROSOFT_AGENT_USER_TOKEN_URL"],
        agent.user_token_url
    );
    assert!(!map.contains_key("IDENTITY_ENDPOINT"));
    assert!(!map.contains_key("IDENTITY_HEADER"));
}

#[tokio::test]
async fn managed_identity_mode_replaces_every_other_identity_source() {
    let file = common::credential_file();
    let urls = urls(file.path(), app_mi());
    let parent = pairs(&[
        ("IDENTITY_ENDPOINT", "http://old"),
        ("IDENTITY_HEADER", "old"),
        ("IMDS_ENDPOINT", "http://169.254.169.254"),
        ("MSI_ENDPOINT", "http://msi"),
        ("IDENTITY_SERVER_THUMBPRINT", "ab"),
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://pod"),
        ("AZURE_CLIENT_ID", "host-identity"),
    ]);
    let env = agent_env(parent.into_iter(), &urls);
    let map = as_map(&env);
    let mi = urls.managed_identity.as_ref().unwrap();
    assert_eq!(map["IDENTITY_ENDPOINT"], mi.endpoint);
    assert_eq!(map["IDENTITY_HEADER"], mi.identity_header);
    assert_eq!(mi.identity_header.len(), 64);
    for removed in [
        "IMDS_ENDPOINT",
        "MSI_ENDPOINT",
        "IDENTITY_SERVER_THUMBPRINT",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        "AZURE_CLIENT_ID",
    ] {
        assert!(!map.contains_key(removed), "{removed}");
    }
}

#[tokio::test]
async fn without_managed_identity_other_sources_are_left_alone_but_identity_header_is_not() {
    let file = common::credential_file();
    let parent = pairs(&[
        ("IMDS_ENDPOINT", "http://imds"),
        ("IDENTITY_HEADER", "old"),
        ("AZURE_CLIENT_ID", "c"),
    ]);
    let env = agent_env(
        parent.into_iter(),
        &urls(file.path(), ManagedIdentityMode::Off),
    );
    let map = as_map(&env);
    assert_eq!(map["IMDS_ENDPOINT"], "http://imds");
    assert_eq!(map["AZURE_CLIENT_ID"], "c");
    assert!(!map.contains_key("IDENTITY_HEADER"));
}

#[tokio::test]
async fn no_proxy_is_extended_with_loopback_in_both_spellings() {
    let file = common::credential_file();
    let parent = pairs(&[("NO_PROXY", ".corp.example")]);
    let env = agent_env(parent.into_iter(), &urls(file.path(), app_mi()));
    let map = as_map(&env);
    assert_eq!(map["NO_PROXY"], ".corp.example,127.0.0.1,localhost,::1");
    assert_eq!(map["no_proxy"], ".corp.example,127.0.0.1,localhost,::1");
}

#[tokio::test]
async fn the_agent_process_sees_exactly_the_agent_env_and_no_credential() {
    let (file, env) = env_from_a_hostile_parent();
    let path = file.path().display().to_string();
    let out = tempfile::NamedTempFile::new().unwrap();
    let code = run_agent(
        "/bin/sh",
        &[
            "-c".into(),
            "/usr/bin/env > \"$0\"".into(),
            out.path().display().to_string(),
        ],
        env.clone(),
    )
    .await
    .unwrap();
    assert_eq!(code, 0);
    let seen = std::fs::read_to_string(out.path()).unwrap();
    assert!(
        !seen.contains(CREDENTIAL),
        "the credential reached the agent"
    );
    assert!(
        !seen.contains(&path),
        "the credential file's path reached the agent"
    );
    let seen: HashMap<&str, &str> = seen.lines().filter_map(|l| l.split_once('=')).collect();
    for (name, value) in &env {
        assert_eq!(seen.get(name.as_str()), Some(&value.as_str()), "{name}");
    }
    let shell_own = ["PWD", "OLDPWD", "SHLVL", "_"];
    for name in seen.keys() {
        assert!(
            env.iter().any(|(n, _)| n == name) || shell_own.contains(name),
            "{name} was inherited"
        );
    }
}

#[tokio::test]
async fn the_agents_exit_code_is_returned() {
    let code = run_agent("/bin/sh", &["-c".into(), "exit 7".into()], Vec::new())
        .await
        .unwrap();
    assert_eq!(code, 7);
}

#[tokio::test]
async fn an_agent_killed_by_a_signal_returns_128_plus_the_signal() {
    let code = run_agent(
        "/bin/sh",
        &["-c".into(), "kill -TERM $$".into()],
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(code, 143);
}

#[tokio::test]
async fn an_agent_that_cannot_start_is_an_error() {
    assert!(
        run_agent("/nonexistent/agent", &[], Vec::new())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn forwarded_signals_reach_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let got = dir.path().join("got-term");
    let script = format!(
        "trap 'echo term > {got}; exit 42' TERM; echo > {ready}; while :; do sleep 0.02; done",
        got = got.display(),
        ready = ready.display()
    );
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let agent = tokio::spawn(async move {
        run_agent_with_signals(
            "/bin/sh",
            &["-c".into(), script],
            pairs(&[("PATH", "/usr/bin:/bin")]),
            tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
        )
        .await
    });
    common::wait_until_started(&ready).await;
    tx.send(Signal::SIGTERM).unwrap();
    assert_eq!(common::exit_code(agent).await, 42);
    assert!(got.exists(), "the agent's TERM trap did not run");
}
