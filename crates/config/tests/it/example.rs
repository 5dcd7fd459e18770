//! The shipped example: its structure is valid, and it shows every kind of record.

use std::path::Path;

use agentmint_config::{CredentialSpec, ParseOptions, ProviderKind, SandboxCredentialSpec, parse};

const EXAMPLE: &str = include_str!("../../../../config/gateway.example.toml");

fn parse_example(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<agentmint_config::Loaded, agentmint_config::Diagnostics> {
    parse(
        EXAMPLE,
        Path::new("config/gateway.example.toml"),
        env,
        &ParseOptions { check_files: false },
    )
}

#[test]
fn the_example_is_valid_apart_from_its_files() {
    let env = |name: &str| {
        (name == "AZURE_FEDERATED_TOKEN_FILE")
            .then(|| "/var/run/secrets/azure/tokens/azure-identity-token".to_owned())
    };
    let loaded = parse_example(&env).unwrap_or_else(|d| panic!("{d}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let config = loaded.config;

    let kinds: Vec<(&str, bool, &str)> = config
        .providers
        .iter()
        .map(|p| {
            let has_user = matches!(
                &p.kind,
                ProviderKind::Agent {
                    agent_user: Some(_),
                    ..
                }
            );
            let credential = match &p.credential {
                CredentialSpec::Certificate { .. } => "certificate",
                CredentialSpec::ManagedIdentity { .. } => "managed_identity",
                CredentialSpec::WorkloadIdentity { .. } => "workload_identity",
                CredentialSpec::ClientSecret { .. } => "client_secret",
            };
            (p.name.as_str(), has_user, credential)
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("mail-agent", true, "certificate"),
            ("research-agent", false, "workload_identity"),
            ("teams-bot", false, "managed_identity"),
        ]
    );
    assert!(matches!(config.providers[2].kind, ProviderKind::App { .. }));
    assert_eq!(config.sandboxes.len(), 2);
    assert!(matches!(
        config.sandboxes[1].credential,
        SandboxCredentialSpec::Unread(_)
    ));
}

#[test]
fn the_example_parses_without_any_environment() {
    parse_example(&|_| None).unwrap_or_else(|d| panic!("{d}"));
}

#[test]
fn without_its_token_file_the_example_needs_the_workload_identity_variable() {
    let line = "token_file = \"/var/run/secrets/azure/tokens/azure-identity-token\"\n";
    assert!(EXAMPLE.contains(line));
    let without = EXAMPLE.replacen(line, "", 1);
    let parse_without = |env: &dyn Fn(&str) -> Option<String>| {
        parse(
            &without,
            Path::new("config/gateway.example.toml"),
            env,
            &ParseOptions { check_files: false },
        )
    };
    let err = parse_without(&|_| None).unwrap_err();
    let errors: Vec<_> = err.errors().collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0]
            .message
            .contains("AZURE_FEDERATED_TOKEN_FILE is not set")
    );
    let env = |name: &str| (name == "AZURE_FEDERATED_TOKEN_FILE").then(|| "/t/token".to_owned());
    parse_without(&env).unwrap_or_else(|d| panic!("{d}"));
}
