//! `[provider.scopes]`: which scopes each token kind may carry and which it gets by default.
//!
//! The limits mirror what the gateway's scope sets accept, so a list that passes here never fails
//! when the gateway builds its policy.

use super::Ctx;
use crate::reader::{At, Table, shorten};
use crate::schema::ScopePolicy;

const KEYS: [&str; 4] = ["app_allowed", "app_default", "user_allowed", "user_default"];
/// The longest scope the gateway accepts.
const MAX_SCOPE_BYTES: usize = 512;
/// The most scopes one list may hold.
const MAX_SCOPES: usize = 32;

/// Whether the provider can mint `USER_PRINCIPAL` tokens at all.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum UserTokens {
    Available,
    /// An agent provider without `agent_user`.
    NoAgentUser,
    /// A provider of kind `app`.
    AppProvider,
}

/// The scope policy; `provider` is the enclosing table, for findings about the provider as a whole.
pub(super) fn read(
    table: Option<&Table<'_, '_>>,
    provider: &Table<'_, '_>,
    user: UserTokens,
    ctx: &mut Ctx<'_>,
) -> Option<ScopePolicy> {
    let errors = ctx.report.error_count();
    let policy = match table {
        Some(t) => {
            t.check_keys(&KEYS, &mut ctx.report);
            if user != UserTokens::Available {
                reject_user_scopes(t, user, ctx);
            }
            let app_allowed = list(t, "app_allowed", true, ctx);
            let app_default = list(t, "app_default", true, ctx);
            let user_allowed = list(t, "user_allowed", false, ctx);
            let user_default = list(t, "user_default", false, ctx);
            subset(
                &app_default,
                "app_default",
                &app_allowed,
                "app_allowed",
                ctx,
            );
            subset(
                &user_default,
                "user_default",
                &user_allowed,
                "user_allowed",
                ctx,
            );
            ScopePolicy {
                app_allowed: owned(app_allowed),
                app_default: owned(app_default),
                user_allowed: owned(user_allowed),
                user_default: owned(user_default),
            }
        }
        None => ScopePolicy::default(),
    };
    if ctx.report.error_count() > errors {
        return None;
    }
    let span = table.map_or(provider.span(), |t| t.span());
    if policy.app_allowed.is_empty() && policy.user_allowed.is_empty() {
        ctx.report
            .warning(span, "this provider allows no scopes, so every mint is refused")
            .hint("add [provider.scopes] with app_allowed = [\"https://graph.microsoft.com/.default\"] (and user_allowed for an agent user)")
            .consequential();
    } else if user == UserTokens::Available && policy.user_allowed.is_empty() {
        ctx.report
            .warning(span, "the provider names an agent_user but allows no user scopes, so USER_PRINCIPAL requests are refused")
            .hint("add user_allowed = [\"https://graph.microsoft.com/Mail.Read\", ...]")
            .consequential();
    }
    Some(policy)
}

fn reject_user_scopes(t: &Table<'_, '_>, user: UserTokens, ctx: &mut Ctx<'_>) {
    for key in ["user_allowed", "user_default"] {
        let Some(span) = t.key_span(key) else {
            continue;
        };
        let (message, hint) = match user {
            UserTokens::AppProvider => (
                format!("`{key}` does not apply to kind = \"app\", which mints app-only tokens"),
                "remove it; only an agent provider with an agent_user mints USER_PRINCIPAL tokens",
            ),
            _ => (
                format!(
                    "`{key}` needs an agent user: USER_PRINCIPAL tokens are minted for the provider's agent_user"
                ),
                "add agent_user = { upn = \"agent@contoso.com\" } to the provider, or remove the user scopes",
            ),
        };
        ctx.report.error(span, message).hint(hint);
    }
}

/// One list, each scope checked; bad entries are reported and left out.
fn list<'a>(t: &Table<'a, '_>, key: &str, app_only: bool, ctx: &mut Ctx<'_>) -> Vec<At<&'a str>> {
    let Some(items) = t.strings(key, &mut ctx.report) else {
        return Vec::new();
    };
    if items.value.len() > MAX_SCOPES {
        ctx.report
            .error(
                items.span(),
                format!(
                    "`{key}` holds {} scopes; at most {MAX_SCOPES} are accepted",
                    items.value.len()
                ),
            )
            .hint("split the provider, or allow the resource's /.default scope instead");
    }
    items
        .value
        .into_iter()
        .filter(|scope| check_scope(key, *scope, app_only, ctx))
        .collect()
}

fn check_scope(key: &str, scope: At<&str>, app_only: bool, ctx: &mut Ctx<'_>) -> bool {
    let text = scope.value;
    let problem = if text.is_empty() {
        Some(("is empty", "remove the empty string"))
    } else if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some((
            "contains whitespace or a control character",
            "write one scope per string: [\"https://graph.microsoft.com/Mail.Read\", \"https://graph.microsoft.com/Mail.Send\"]",
        ))
    } else if text.len() > MAX_SCOPE_BYTES {
        Some((
            "is longer than 512 bytes",
            "check for a pasted token or URL",
        ))
    } else if agentmint_base::exchange::is_exchange_scope(text) {
        Some((
            "is Entra's token-exchange scope, which agentmint never hands to a caller",
            "an exchange token (T1/T2) only mints further tokens: whoever holds one can impersonate the agent; remove it (the gateway requests it itself, inside the chain)",
        ))
    } else if app_only && !text.ends_with("/.default") {
        Some((
            "is not a resource's /.default scope",
            "app-only tokens are requested as RESOURCE/.default (such as https://graph.microsoft.com/.default); what they carry is the app roles granted to the app",
        ))
    } else {
        None
    };
    if let Some((what, hint)) = problem {
        ctx.report
            .error(scope.span(), format!("a scope in `{key}` {what}"))
            .hint(hint);
    }
    problem.is_none()
}

fn subset(
    default: &[At<&str>],
    default_key: &str,
    allowed: &[At<&str>],
    allowed_key: &str,
    ctx: &mut Ctx<'_>,
) {
    for scope in default {
        if !allowed.iter().any(|a| a.value == scope.value) {
            ctx.report
                .error(
                    scope.span(),
                    format!(
                        "default scope {:?} is not in `{allowed_key}`",
                        shorten(scope.value)
                    ),
                )
                .hint(format!(
                    "add it to {allowed_key}, or remove it from {default_key}"
                ));
        }
    }
}

fn owned(list: Vec<At<&str>>) -> Vec<String> {
    list.into_iter().map(|s| s.value.to_owned()).collect()
}
