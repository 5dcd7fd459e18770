//! One `[[provider]]`: its identity fields, which depend on its kind, then its credential and scopes.

use super::scopes::UserTokens;
use super::{Ctx, credential, gateway, ids, scopes};
use crate::reader::{At, Table};
use crate::schema::{AgentUser, Provider, ProviderKind};

const KEYS: [&str; 12] = [
    "name",
    "kind",
    "tenant",
    "authority_host",
    "exchange_audience",
    "blueprint_client_id",
    "agent_identity_client_id",
    "agent_identity_object_id",
    "agent_user",
    "client_id",
    "credential",
    "scopes",
];
/// Keys that only an `agent` provider may carry.
const AGENT_ONLY: [&str; 4] = [
    "blueprint_client_id",
    "agent_identity_client_id",
    "agent_identity_object_id",
    "agent_user",
];

const NAME_HINT: &str = "a short name such as \"mail-agent\"; sandboxes and gRPC requests use it";
const TENANT_HINT: &str = "the directory (tenant) id GUID from the Entra admin center, or a verified domain such as contoso.onmicrosoft.com";
const OBJECT_ID_HINT: &str = "the Agent Identity's object id GUID (Entra admin center → Agent ID → the identity's Object ID); app-only tokens' oid is then checked against it";
const GUID_HINT: &str =
    "the application (client) id GUID, such as 00000000-0000-0000-0000-000000000000";

/// A provider as far as it could be read: its name (for cross-record checks, even when the rest is
/// wrong) and the provider itself when every part is valid.
pub(super) struct Checked<'a> {
    pub name: Option<At<&'a str>>,
    pub provider: Option<Provider>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Agent,
    App,
}

pub(super) fn read<'a>(
    t: &Table<'a, '_>,
    default_authority: &str,
    ctx: &mut Ctx<'_>,
) -> Checked<'a> {
    t.check_keys(&KEYS, &mut ctx.report);
    let name = t.required_string("name", NAME_HINT, &mut ctx.report);
    let valid_name = name.and_then(|at| ctx.id("name", at, ids::name, NAME_HINT));
    let tenant = t
        .required_string("tenant", TENANT_HINT, &mut ctx.report)
        .and_then(|at| ctx.id("tenant", at, ids::tenant, TENANT_HINT));
    let authority_host = if t.has("authority_host") {
        gateway::authority_host(t, ctx)
    } else {
        Some(default_authority.to_owned())
    };
    let exchange_audience = exchange_audience(t, ctx);
    let kind = kind(t, ctx);
    let provider_kind = match kind {
        Some(Kind::Agent) => agent(t, ctx),
        Some(Kind::App) => app(t, ctx),
        None => None,
    };
    let credential = match t.table("credential", &mut ctx.report) {
        Some(c) => credential::read(&c, ctx),
        None => {
            if !t.has("credential") {
                t.missing(
                    "credential",
                    "add a [provider.credential] table with type = \"certificate\", \"managed_identity\", \"workload_identity\" or \"client_secret\"",
                    &mut ctx.report,
                );
            }
            None
        }
    };
    let user_tokens = match kind {
        Some(Kind::App) => UserTokens::AppProvider,
        _ if t.has("agent_user") => UserTokens::Available,
        _ => UserTokens::NoAgentUser,
    };
    let scope_table = t.table("scopes", &mut ctx.report);
    let scopes = if scope_table.is_none() && t.has("scopes") {
        None
    } else {
        scopes::read(scope_table.as_ref(), t, user_tokens, ctx)
    };

    let provider = (|| {
        Some(Provider {
            name: name?.value.to_owned(),
            kind: provider_kind?,
            tenant: tenant?,
            authority_host: authority_host?,
            exchange_audience: exchange_audience?,
            credential: credential?,
            scopes: scopes?,
        })
    })();
    Checked {
        name,
        provider: valid_name.and(provider),
    }
}

fn kind(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<Kind> {
    if !t.has("kind") {
        return Some(Kind::Agent);
    }
    let at = t.string("kind", &mut ctx.report)?;
    match at.value {
        "agent" => Some(Kind::Agent),
        "app" => Some(Kind::App),
        _ => {
            ctx.report
                .error(at.span(), "`kind` must be \"agent\" or \"app\"")
                .hint("\"agent\" (the default) for an Entra agent (Blueprint + Agent Identity); \"app\" for a plain app registration such as a Teams bot");
            None
        }
    }
}

fn agent(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<ProviderKind> {
    if let Some(span) = t.key_span("client_id") {
        ctx.report
            .error(span, "`client_id` is for kind = \"app\"; an agent provider names its Blueprint and Agent Identity")
            .hint("use blueprint_client_id and agent_identity_client_id, or set kind = \"app\"");
    }
    let blueprint = required_guid(t, "blueprint_client_id", ctx);
    let agent_identity = required_guid(t, "agent_identity_client_id", ctx);
    let agent_identity_object_id = optional_guid(t, "agent_identity_object_id", ctx);
    let agent_user = agent_user(t, ctx);
    Some(ProviderKind::Agent {
        blueprint_client_id: blueprint?,
        agent_identity_client_id: agent_identity?,
        agent_identity_object_id: agent_identity_object_id?,
        agent_user: agent_user?,
    })
}

fn app(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<ProviderKind> {
    for key in AGENT_ONLY {
        if let Some(span) = t.key_span(key) {
            ctx.report
                .error(span, format!("`{key}` applies only to kind = \"agent\""))
                .hint("an app provider mints app-only tokens for its own client_id; remove the key or set kind = \"agent\"");
        }
    }
    Some(ProviderKind::App {
        client_id: required_guid(t, "client_id", ctx)?,
    })
}

fn required_guid(t: &Table<'_, '_>, key: &str, ctx: &mut Ctx<'_>) -> Option<String> {
    let at = t.required_string(key, GUID_HINT, &mut ctx.report)?;
    ctx.id(key, at, ids::guid, GUID_HINT)
}

/// `exchange_audience`: an override of the exchange resource the authority host implies, for a
/// cloud agentmint does not know. `Some(None)` when absent; `None` after reporting a mistake.
fn exchange_audience(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<Option<String>> {
    if !t.has("exchange_audience") {
        return Some(None);
    }
    let at = t.string("exchange_audience", &mut ctx.report)?;
    let value = at.value;
    if value.len() > "api://".len()
        && value[.."api://".len()].eq_ignore_ascii_case("api://")
        && !value["api://".len()..].contains('/')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Some(Some(value.to_owned()));
    }
    ctx.report
        .error(at.span(), "`exchange_audience` must be an api:// resource such as \"api://AzureADTokenExchangeUSGov\", without /.default")
        .hint("usually leave it out: the exchange audience follows authority_host (public cloud, US Government, China)");
    None
}

/// `Some(None)` when `key` is absent; `None` after reporting a mistake.
fn optional_guid(t: &Table<'_, '_>, key: &str, ctx: &mut Ctx<'_>) -> Option<Option<String>> {
    if !t.has(key) {
        return Some(None);
    }
    let at = t.string(key, &mut ctx.report)?;
    ctx.id(key, at, ids::guid, OBJECT_ID_HINT).map(Some)
}

/// `Some(None)` when the provider names no agent user; `None` after reporting a mistake.
fn agent_user(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<Option<AgentUser>> {
    if !t.has("agent_user") {
        return Some(None);
    }
    let u = t.table("agent_user", &mut ctx.report)?;
    u.check_keys(&["upn", "object_id"], &mut ctx.report);
    let upn = u.string("upn", &mut ctx.report);
    let object_id = u.string("object_id", &mut ctx.report);
    const HINT: &str = "Entra's user_fic grant takes exactly one user selector: agent_user = { upn = \"agent@contoso.com\" } or { object_id = \"<GUID>\" }";
    match (upn, object_id) {
        (Some(_), Some(_)) => {
            ctx.report
                .error(u.span(), "`agent_user` names both `upn` and `object_id`")
                .hint(HINT);
            None
        }
        (Some(at), None) => ctx
            .id(
                "upn",
                at,
                ids::upn,
                "the Agent User's user principal name, such as agent@contoso.com",
            )
            .map(|upn| Some(AgentUser::Upn(upn))),
        (None, Some(at)) => ctx
            .id(
                "object_id",
                at,
                ids::guid,
                "the Agent User's object id GUID",
            )
            .map(|id| Some(AgentUser::ObjectId(id))),
        (None, None) => {
            if !u.has("upn") && !u.has("object_id") {
                ctx.report
                    .error(u.span(), "`agent_user` names neither `upn` nor `object_id`")
                    .hint(HINT);
            }
            None
        }
    }
}
