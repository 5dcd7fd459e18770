//! The agent's environment: a pure function of the parent's and the local URLs.

use crate::config::env_prefix;
use crate::{LocalUrls, SandboxCredential};

/// Removed from every agent's environment: they carry or point at long-lived credentials, or
/// would steer an SDK away from the resolver.
const REMOVED: &[&str] = &[
    "AZURE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "MSI_SECRET",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
];
const REMOVED_PREFIXES: &[&str] = &["AGENTMINT_SANDBOX_CREDENTIAL", "AZURE_CLIENT_CERTIFICATE"];
/// Removed when the managed-identity endpoint is on: every other managed-identity source, and the
/// user-assigned identity selector.
const REMOVED_WITH_MI: &[&str] = &[
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "IDENTITY_SERVER_THUMBPRINT",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "AZURE_CLIENT_ID",
];
const NO_PROXY_HOSTS: &[&str] = &["127.0.0.1", "localhost", "::1"];

/// The agent's complete environment: `parent` without credential-bearing variables, plus the
/// sandbox's variables (see the module docs). Pass it to [`super::run_agent`], which clears
/// everything else.
pub fn agent_env(
    parent: impl Iterator<Item = (String, String)>,
    urls: &LocalUrls,
) -> Vec<(String, String)> {
    let ours = sandbox_vars(urls);
    let mi_on = urls.managed_identity.is_some();
    let mut env: Vec<(String, String)> = parent
        .filter(|(name, value)| keep(name, value, &urls.credential, mi_on))
        .filter(|(name, _)| !ours.iter().any(|(ours, _)| ours == name))
        .collect();
    let inherited = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let (upper, lower) = (inherited("NO_PROXY"), inherited("no_proxy"));
    let extra_host = urls.host.clone();
    let no_proxy = |value: Option<String>| extend_no_proxy(value.as_deref(), &extra_host);
    let upper_value = no_proxy(upper.clone().or_else(|| lower.clone()));
    let lower_value = no_proxy(lower.or(upper));
    env.retain(|(name, _)| name != "NO_PROXY" && name != "no_proxy");
    env.extend(ours);
    env.push(("NO_PROXY".to_owned(), upper_value));
    env.push(("no_proxy".to_owned(), lower_value));
    env
}

fn keep(name: &str, value: &str, credential: &SandboxCredential, mi_on: bool) -> bool {
    !(REMOVED.contains(&name)
        || REMOVED_PREFIXES.iter().any(|p| name.starts_with(p))
        || (mi_on && REMOVED_WITH_MI.contains(&name))
        || credential.appears_in(value)
        || credential.file_named_in(value))
}

fn sandbox_vars(urls: &LocalUrls) -> Vec<(String, String)> {
    let first = urls.default_provider();
    let mut vars = vec![
        (
            "AGENTMINT_TOKEN_URL".to_owned(),
            first.app_token_url.clone(),
        ),
        (
            "AGENTMINT_USER_TOKEN_URL".to_owned(),
            first.user_token_url.clone(),
        ),
    ];
    for p in &urls.providers {
        let prefix = env_prefix(&p.provider);
        vars.push((
            format!("AGENTMINT_{prefix}_TOKEN_URL"),
            p.app_token_url.clone(),
        ));
        vars.push((
            format!("AGENTMINT_{prefix}_USER_TOKEN_URL"),
            p.user_token_url.clone(),
        ));
    }
    for alias in [
        "OPENSHELL_MICROSOFT_AGENT_S2S_TOKEN_URL",
        "OPENSHELL_MICROSOFT_AGENT_S2S_TOKEN_PROVIDER_URL",
        "A365_TOKEN_PROVIDER_URL",
    ] {
        vars.push((alias.to_owned(), first.app_token_url.clone()));
    }
    vars.push((
        "OPENSHELL_MICROSOFT_AGENT_USER_TOKEN_URL".to_owned(),
        first.user_token_url.clone(),
    ));
    if let Some(mi) = &urls.managed_identity {
        vars.push(("IDENTITY_ENDPOINT".to_owned(), mi.endpoint.clone()));
        vars.push(("IDENTITY_HEADER".to_owned(), mi.identity_header.clone()));
    }
    vars
}

/// `existing` plus the loopback names and `host`, each once.
fn extend_no_proxy(existing: Option<&str>, host: &str) -> String {
    let mut entries: Vec<&str> = existing
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    for wanted in NO_PROXY_HOSTS.iter().copied().chain([host]) {
        if !entries.iter().any(|e| e.eq_ignore_ascii_case(wanted)) {
            entries.push(wanted);
        }
    }
    entries.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_keeps_existing_entries_and_adds_loopback_once() {
        assert_eq!(
            extend_no_proxy(None, "127.0.0.1"),
            "127.0.0.1,localhost,::1"
        );
        assert_eq!(
            extend_no_proxy(Some(".corp, localhost"), "10.0.0.5"),
            ".corp,localhost,127.0.0.1,::1,10.0.0.5"
        );
    }
}
