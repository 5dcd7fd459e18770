//! Structural checks on a parsed directory: required ids, duplicates and parent references.
//! Certificates and resource keys are checked while the index is built (they need parsing).

use std::collections::HashSet;

use super::{Directory, TOKEN_EXCHANGE_APP_ID, Tenant};

/// Every structural problem, each a sentence naming the offending entry.
pub(super) fn problems(directory: &Directory) -> Vec<String> {
    let mut out = Vec::new();
    if directory
        .identity_header
        .as_ref()
        .is_some_and(|h| h.expose().trim().is_empty())
    {
        out.push("identity_header must not be empty".to_string());
    }
    check_resources(directory, &mut out);
    let mut tenant_names = HashSet::new();
    for tenant in &directory.tenants {
        require(&tenant.id, "tenant id", &mut out);
        for name in std::iter::once(&tenant.id).chain(&tenant.domains) {
            if !tenant_names.insert(name.to_ascii_lowercase()) {
                out.push(format!("tenant id or domain {name:?} appears twice"));
            }
        }
        check_tenant(tenant, &mut out);
    }
    let system_assigned = directory
        .tenants
        .iter()
        .flat_map(|t| &t.managed_identities)
        .filter(|mi| mi.system_assigned)
        .count();
    if system_assigned > 1 {
        out.push(format!(
            "{system_assigned} managed identities are system_assigned; a host has at most one"
        ));
    }
    let mut mi_ids = HashSet::new();
    for mi in directory.tenants.iter().flat_map(|t| &t.managed_identities) {
        if !mi_ids.insert(mi.client_id.to_ascii_lowercase()) {
            out.push(format!(
                "managed identity client_id {} appears twice",
                mi.client_id
            ));
        }
    }
    out
}

fn check_resources(directory: &Directory, out: &mut Vec<String>) {
    let mut names = HashSet::new();
    for resource in &directory.resources {
        require(&resource.app_id, "resource app_id", out);
        if !matches!(resource.access_token_version, 1 | 2) {
            out.push(format!(
                "resource {}: access_token_version must be 1 or 2, not {}",
                resource.app_id, resource.access_token_version
            ));
        }
        for name in std::iter::once(&resource.app_id).chain(&resource.identifier_uris) {
            let key = name.trim_end_matches('/').to_ascii_lowercase();
            let builtin = key == TOKEN_EXCHANGE_APP_ID
                || super::Cloud::ALL
                    .iter()
                    .any(|c| key == c.exchange_uri().to_lowercase());
            if builtin {
                out.push(format!(
                    "resource {name}: the token exchange app is built in; remove it"
                ));
            } else if !names.insert(key) {
                out.push(format!(
                    "resource app id or identifier URI {name} appears twice"
                ));
            }
        }
    }
}

fn check_tenant(tenant: &Tenant, out: &mut Vec<String>) {
    let t = &tenant.id;
    let mut client_ids = HashSet::new();
    let mut add_client = |app_id: &str, what: &str, out: &mut Vec<String>| {
        require(app_id, &format!("tenant {t}: {what} app_id"), out);
        if !client_ids.insert(app_id.to_ascii_lowercase()) {
            out.push(format!("tenant {t}: app id {app_id} appears twice"));
        }
    };
    for app in tenant.blueprints.iter().chain(&tenant.apps) {
        add_client(&app.app_id, "app", out);
        require(
            &app.object_id,
            &format!("tenant {t}: app {} object_id", app.app_id),
            out,
        );
    }
    let blueprints: HashSet<String> = tenant
        .blueprints
        .iter()
        .map(|b| b.app_id.to_ascii_lowercase())
        .collect();
    for ai in &tenant.agent_identities {
        add_client(&ai.app_id, "agent identity", out);
        require(
            &ai.object_id,
            &format!("tenant {t}: agent identity {} object_id", ai.app_id),
            out,
        );
        if !blueprints.contains(&ai.blueprint_app_id.to_ascii_lowercase()) {
            out.push(format!(
                "tenant {t}: agent identity {} names blueprint {:?}, which is not a blueprint of this tenant",
                ai.app_id, ai.blueprint_app_id
            ));
        }
    }
    let identities: HashSet<String> = tenant
        .agent_identities
        .iter()
        .map(|ai| ai.app_id.to_ascii_lowercase())
        .collect();
    let mut users = HashSet::new();
    for user in &tenant.agent_users {
        require(
            &user.object_id,
            &format!("tenant {t}: agent user object_id"),
            out,
        );
        require(
            &user.upn,
            &format!("tenant {t}: agent user {} upn", user.object_id),
            out,
        );
        if !users.insert(user.object_id.to_ascii_lowercase())
            || !users.insert(user.upn.to_ascii_lowercase())
        {
            out.push(format!(
                "tenant {t}: agent user {} / {} appears twice",
                user.object_id, user.upn
            ));
        }
        if !identities.contains(&user.agent_identity_app_id.to_ascii_lowercase()) {
            out.push(format!(
                "tenant {t}: agent user {} names agent identity {:?}, which is not an agent identity of this tenant",
                user.upn, user.agent_identity_app_id
            ));
        }
    }
    for mi in &tenant.managed_identities {
        require(
            &mi.client_id,
            &format!("tenant {t}: managed identity client_id"),
            out,
        );
        require(
            &mi.object_id,
            &format!("tenant {t}: managed identity {} object_id", mi.client_id),
            out,
        );
    }
}

fn require(value: &str, what: &str, out: &mut Vec<String>) {
    if value.trim().is_empty() {
        out.push(format!("{what} is missing"));
    }
}
