//! Scope strings: `{resource}/.default` for app tokens, `{resource}/{name}` (or a bare Graph name)
//! plus OpenID Connect scopes for delegated tokens.

use crate::directory::{Index, ResolvedResource};

use super::error::OAuthError;

/// OpenID Connect scopes: they ask for an ID token, a refresh token or profile claims, not for
/// access to a resource, and are stripped before the resource scopes are checked.
pub(crate) const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "offline_access", "email"];

/// The resource of a `client_credentials` request, and the identifier it was named by (v1 tokens
/// carry that identifier as `aud`).
pub(crate) struct AppScope<'a> {
    pub(crate) resource: &'a ResolvedResource,
    pub(crate) identifier: String,
}

/// Parses the one `{resource}/.default` scope a `client_credentials` request may carry.
pub(crate) fn app_scope<'a>(
    index: &'a Index,
    tenant: &str,
    scope: &str,
) -> Result<AppScope<'a>, OAuthError> {
    let mut scopes = scope.split_whitespace();
    let (Some(first), None) = (scopes.next(), scopes.next()) else {
        return Err(OAuthError::invalid_scope(
            scope,
            "Client credential flows take exactly one scope, '{resource}/.default'.",
        ));
    };
    let Some(identifier) = first.strip_suffix("/.default").filter(|r| !r.is_empty()) else {
        return Err(OAuthError::invalid_scope(
            scope,
            "Client credential flows must have a scope value with /.default suffixed to the \
             resource identifier (application ID URI).",
        ));
    };
    let resource = index
        .resource(identifier)
        .ok_or_else(|| OAuthError::resource_not_found(identifier, tenant))?;
    Ok(AppScope {
        resource,
        identifier: identifier.to_string(),
    })
}

/// The resource scopes of a delegated request.
pub(crate) struct DelegatedScopes<'a> {
    pub(crate) resource: &'a ResolvedResource,
    /// The prefix scopes were named with (`https://graph.microsoft.com`), `None` for bare names.
    pub(crate) identifier: Option<String>,
    /// Requested scope names (`User.Read`), or `[".default"]`.
    pub(crate) names: Vec<String>,
    /// The OpenID Connect scopes that were requested.
    pub(crate) oidc: Vec<&'static str>,
}

impl DelegatedScopes<'_> {
    pub(crate) fn is_default(&self) -> bool {
        self.names.iter().any(|n| n == ".default")
    }

    pub(crate) fn wants(&self, oidc_scope: &str) -> bool {
        self.oidc.contains(&oidc_scope)
    }
}

/// Parses the scope of a `user_fic` request: resource scopes of exactly one resource, plus any
/// OpenID Connect scopes.
pub(crate) fn delegated_scopes<'a>(
    index: &'a Index,
    tenant: &str,
    scope: &str,
) -> Result<DelegatedScopes<'a>, OAuthError> {
    let mut oidc = Vec::new();
    let mut named: Vec<(Option<&str>, &str)> = Vec::new();
    for item in scope.split_whitespace() {
        if let Some(known) = OIDC_SCOPES.iter().find(|s| s.eq_ignore_ascii_case(item)) {
            if !oidc.contains(known) {
                oidc.push(*known);
            }
            continue;
        }
        match item.rsplit_once('/') {
            Some((prefix, name)) if !prefix.is_empty() && !name.is_empty() => {
                named.push((Some(prefix), name));
            }
            Some(_) => return Err(OAuthError::invalid_scope(item, "The scope is malformed.")),
            None => named.push((None, item)),
        }
    }
    let Some(&(first_prefix, _)) = named.first() else {
        return Err(OAuthError::invalid_scope(
            scope,
            "The request must name at least one resource scope.",
        ));
    };
    let resolve = |prefix: Option<&str>| match prefix {
        Some(p) => index
            .resource(p)
            .ok_or_else(|| OAuthError::resource_not_found(p, tenant)),
        None => index
            .graph()
            .ok_or_else(|| OAuthError::resource_not_found(crate::directory::GRAPH_URI, tenant)),
    };
    let resource = resolve(first_prefix)?;
    let mut names: Vec<String> = Vec::new();
    for (prefix, name) in &named {
        if resolve(*prefix)?.app_id != resource.app_id {
            return Err(OAuthError::invalid_scope(
                scope,
                "Scopes of more than one resource cannot be requested in one token.",
            ));
        }
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push((*name).to_string());
        }
    }
    if names.len() > 1 && names.iter().any(|n| n == ".default") {
        return Err(OAuthError::invalid_scope(
            scope,
            "'.default' cannot be combined with other scopes of the same resource.",
        ));
    }
    Ok(DelegatedScopes {
        resource,
        identifier: first_prefix.map(str::to_string),
        names,
        oidc,
    })
}
