//! Scope policies: shapes, defaults within allowed, user scopes only with an agent user.

use agentmint_config::ScopePolicy;

use crate::support::*;

const SECRET: &str = "type = \"client_secret\"\nsecret_file = \"s\"";

/// The agent provider with its `[provider.scopes]` body replaced (body starts at line 13).
fn with_scopes(body: &str) -> String {
    let src = agent_provider(SECRET);
    let start = src.find("app_allowed").unwrap();
    let end = src.find("[[sandbox]]").unwrap();
    format!("{}{body}\n\n{}", &src[..start], &src[end..])
}

#[test]
fn the_policy_is_read_as_written() {
    let src = with_scopes(
        r#"app_allowed = ["https://graph.microsoft.com/.default"]
app_default = ["https://graph.microsoft.com/.default"]
user_allowed = ["https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/Mail.Send"]
user_default = ["https://graph.microsoft.com/Mail.Read"]"#,
    );
    let scopes = structure(&src).unwrap().config.providers[0].scopes.clone();
    assert_eq!(
        scopes,
        ScopePolicy {
            app_allowed: vec!["https://graph.microsoft.com/.default".into()],
            app_default: vec!["https://graph.microsoft.com/.default".into()],
            user_allowed: vec![
                "https://graph.microsoft.com/Mail.Read".into(),
                "https://graph.microsoft.com/Mail.Send".into()
            ],
            user_default: vec!["https://graph.microsoft.com/Mail.Read".into()],
        }
    );
}

#[test]
fn a_default_outside_allowed_is_reported_at_the_default() {
    let src = with_scopes(
        r#"app_allowed = ["https://graph.microsoft.com/.default"]
user_allowed = ["https://graph.microsoft.com/Mail.Read"]
user_default = ["https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/Mail.Send"]"#,
    );
    let d = one_error(&src, 15, "is not in `user_allowed`");
    assert_eq!(d.column, 58);
    assert!(d.message.contains("Mail.Send"));
}

#[test]
fn a_scope_with_whitespace_is_refused() {
    let src =
        with_scopes(r#"app_allowed = ["https://graph.microsoft.com/.default https://x/.default"]"#);
    one_error(&src, 13, "contains whitespace or a control character");
    let src = with_scopes("app_allowed = [\"https://graph.microsoft.com/.default\\u0007\"]");
    one_error(&src, 13, "contains whitespace or a control character");
}

#[test]
fn an_app_scope_must_be_a_default_scope() {
    let src = with_scopes(r#"app_allowed = ["https://graph.microsoft.com/Mail.Read"]"#);
    one_error(&src, 13, "is not a resource's /.default scope");
}

#[test]
fn user_scopes_without_an_agent_user_are_refused() {
    let src = agent_provider(SECRET).replace("agent_user = { upn = \"agent@contoso.com\" }\n", "");
    let d = one_error(&src, 13, "`user_allowed` needs an agent user");
    assert!(d.hint.unwrap().contains("agent_user"));
}

#[test]
fn user_scopes_on_an_app_provider_are_refused() {
    let src = format!(
        r#"[[provider]]
name = "bot"
kind = "app"
tenant = "{TENANT}"
client_id = "{GUID_A}"
[provider.credential]
type = "managed_identity"
[provider.scopes]
app_allowed = ["https://api.botframework.com/.default"]
user_default = ["https://graph.microsoft.com/Mail.Read"]
"#
    );
    first_error(&src, 10, "`user_default` does not apply to kind = \"app\"");
}

#[test]
fn a_provider_without_scopes_is_a_warning() {
    let src = with_scopes("");
    let loaded = structure(&src).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{}", render(&loaded.warnings));
    assert!(loaded.warnings[0].message.contains("allows no scopes"));
    assert_eq!(loaded.warnings[0].line, 12);
}

#[test]
fn too_many_scopes_are_refused() {
    let many: Vec<String> = (0..33)
        .map(|i| format!("\"api://r{i}/.default\""))
        .collect();
    let src = with_scopes(&format!("app_allowed = [{}]", many.join(", ")));
    one_error(&src, 13, "holds 33 scopes; at most 32");
}

#[test]
fn the_exchange_scope_is_refused_in_every_list_and_every_clouds_spelling() {
    for scope in [
        "api://AzureADTokenExchange/.default",
        "api://azureadtokenexchange/.default",
        "api://AzureADTokenExchangeUSGov/.default",
        "api://AzureADTokenExchangeChina/.default",
        "fb60f99c-7a34-4190-8149-302f77469936/.default",
    ] {
        for (line, key) in [(13, "app_allowed"), (14, "user_allowed")] {
            let lists = if key == "app_allowed" {
                format!(
                    "app_allowed = [\"{scope}\"]\nuser_allowed = [\"https://graph.microsoft.com/Mail.Read\"]"
                )
            } else {
                format!(
                    "app_allowed = [\"https://graph.microsoft.com/.default\"]\nuser_allowed = [\"{scope}\"]"
                )
            };
            let d = one_error(&with_scopes(&lists), line, "token-exchange scope");
            assert!(d.message.contains(key), "{scope}: {}", d.message);
            assert!(
                d.hint
                    .as_deref()
                    .is_some_and(|h| h.contains("exchange token")),
                "{scope}: the hint says why"
            );
        }
    }
}
