//! Provider records: kinds, ids, agent users, authority hosts, names.

use agentmint_config::{AgentUser, DEFAULT_AUTHORITY_HOST, ProviderKind};

use crate::support::*;

const SECRET: &str = "type = \"client_secret\"\nsecret_file = \"s\"";

fn app_provider(extra: &str) -> String {
    format!(
        r#"[[provider]]
name = "teams-bot"
kind = "app"
tenant = "{TENANT}"
client_id = "{GUID_A}"
{extra}
[provider.credential]
type = "managed_identity"

[provider.scopes]
app_allowed = ["https://api.botframework.com/.default"]

[[sandbox]]
name = "sbx-1"
credential_sha256 = "{SHA}"
providers = ["teams-bot"]
"#
    )
}

#[test]
fn an_agent_provider_is_read_with_its_user_and_defaults() {
    let loaded = structure(&agent_provider(SECRET)).unwrap();
    let p = &loaded.config.providers[0];
    assert_eq!(p.name, "mail-agent");
    assert_eq!(p.authority_host, DEFAULT_AUTHORITY_HOST);
    assert_eq!(
        p.kind,
        ProviderKind::Agent {
            blueprint_client_id: GUID_A.to_owned(),
            agent_identity_client_id: GUID_B.to_owned(),
            agent_identity_object_id: None,
            agent_user: Some(AgentUser::Upn("agent@contoso.com".to_owned())),
        }
    );
    assert!(loaded.warnings.is_empty(), "{}", render(&loaded.warnings));
}

#[test]
fn the_agent_identitys_object_id_is_optional_and_checked_as_a_guid() {
    let src = agent_provider(SECRET).replace(
        "agent_identity_client_id",
        &format!(
            "agent_identity_object_id = \"{}\"\nagent_identity_client_id",
            GUID_A.to_uppercase()
        ),
    );
    let loaded = structure(&src).unwrap();
    let ProviderKind::Agent {
        agent_identity_object_id,
        ..
    } = &loaded.config.providers[0].kind
    else {
        panic!("not an agent");
    };
    assert_eq!(agent_identity_object_id.as_deref(), Some(GUID_A));

    let bad = agent_provider(SECRET).replace(
        "agent_identity_client_id",
        "agent_identity_object_id = \"not-a-guid\"\nagent_identity_client_id",
    );
    let errors = structure(&bad).unwrap_err();
    let text = errors.to_string();
    assert!(text.contains("agent_identity_object_id"), "{text}");
}

#[test]
fn an_app_provider_is_read() {
    let loaded = structure(&app_provider("")).unwrap();
    assert_eq!(
        loaded.config.providers[0].kind,
        ProviderKind::App {
            client_id: GUID_A.to_owned()
        }
    );
}

#[test]
fn guids_are_lowercased() {
    let src = agent_provider(SECRET).replace(GUID_A, &GUID_A.to_uppercase());
    let loaded = structure(&src).unwrap();
    let ProviderKind::Agent {
        blueprint_client_id,
        ..
    } = &loaded.config.providers[0].kind
    else {
        panic!("not an agent");
    };
    assert_eq!(blueprint_client_id, GUID_A);
}

#[test]
fn a_malformed_guid_is_reported_at_its_value() {
    let src = agent_provider(SECRET).replace(GUID_B, "9b1e7f22-0000-4000-8000");
    let d = one_error(&src, 5, "`agent_identity_client_id` is not a GUID");
    assert_eq!(d.column, 28);
}

#[test]
fn a_tenant_may_be_a_verified_domain_but_not_an_alias() {
    let src = agent_provider(SECRET).replace(TENANT, "contoso.onmicrosoft.com");
    assert_eq!(
        structure(&src).unwrap().config.providers[0].tenant,
        "contoso.onmicrosoft.com"
    );
    let src = agent_provider(SECRET).replace(TENANT, "common");
    one_error(&src, 3, "multi-tenant alias");
}

#[test]
fn a_bad_provider_name_is_refused() {
    let src = agent_provider(SECRET).replace("\"mail-agent\"", "\"Mail Agent\"");
    first_error(&src, 2, "`name` must be 1 to 64 characters");
}

#[test]
fn agent_only_fields_on_an_app_provider_are_refused() {
    let src = app_provider(&format!(
        "blueprint_client_id = \"{GUID_B}\"\nagent_user = {{ upn = \"a@contoso.com\" }}"
    ));
    errors_at(
        &src,
        &[
            (6, "`blueprint_client_id` applies only to kind = \"agent\""),
            (7, "`agent_user` applies only"),
        ],
    );
}

#[test]
fn an_app_client_id_on_an_agent_provider_is_refused() {
    let src = agent_provider(SECRET).replace(
        "agent_user",
        &format!("client_id = \"{GUID_A}\"\nagent_user"),
    );
    one_error(&src, 6, "`client_id` is for kind = \"app\"");
}

#[test]
fn an_unknown_kind_is_refused() {
    let src = app_provider("").replace("kind = \"app\"", "kind = \"bot\"");
    one_error(&src, 3, "`kind` must be \"agent\" or \"app\"");
}

#[test]
fn agent_user_needs_exactly_one_selector() {
    let both = agent_provider(SECRET).replace(
        "{ upn = \"agent@contoso.com\" }",
        &format!("{{ upn = \"agent@contoso.com\", object_id = \"{GUID_A}\" }}"),
    );
    let d = one_error(&both, 6, "names both `upn` and `object_id`");
    assert_eq!(d.column, 14);
    let neither = agent_provider(SECRET).replace("{ upn = \"agent@contoso.com\" }", "{}");
    one_error(&neither, 6, "names neither `upn` nor `object_id`");
}

#[test]
fn agent_user_by_object_id_is_read() {
    let src = agent_provider(SECRET).replace(
        "{ upn = \"agent@contoso.com\" }",
        &format!("{{ object_id = \"{}\" }}", GUID_A.to_uppercase()),
    );
    let loaded = structure(&src).unwrap();
    let ProviderKind::Agent { agent_user, .. } = &loaded.config.providers[0].kind else {
        panic!("not an agent");
    };
    assert_eq!(agent_user, &Some(AgentUser::ObjectId(GUID_A.to_owned())));
}

#[test]
fn a_bad_upn_is_refused() {
    let src = agent_provider(SECRET).replace("agent@contoso.com", "agent");
    one_error(&src, 6, "`upn` is not a user principal name");
}

#[test]
fn agent_user_as_a_string_is_explained() {
    let src =
        agent_provider(SECRET).replace("{ upn = \"agent@contoso.com\" }", "\"agent@contoso.com\"");
    let errs = errors(&src);
    let d = &errs[0];
    assert_eq!(d.line, 6, "{}", render(&errs));
    assert!(
        d.message
            .contains("`agent_user` must be a table, found string")
    );
    assert!(d.hint.as_deref().unwrap().contains("agent_user = { ... }"));
}

#[test]
fn a_provider_authority_host_overrides_the_gateway_default() {
    let src = format!(
        "[gateway]\nauthority_host = \"https://login.microsoftonline.us/\"\n{}",
        agent_provider(SECRET)
    );
    let loaded = structure(&src).unwrap();
    assert_eq!(
        loaded.config.gateway.authority_host,
        "https://login.microsoftonline.us"
    );
    assert_eq!(
        loaded.config.providers[0].authority_host,
        "https://login.microsoftonline.us"
    );

    let src = agent_provider(SECRET).replace(
        "tenant =",
        "authority_host = \"http://127.0.0.1:8443\"\ntenant =",
    );
    let loaded = structure(&src).unwrap();
    assert_eq!(
        loaded.config.providers[0].authority_host,
        "http://127.0.0.1:8443"
    );
}

#[test]
fn plain_http_authority_is_refused_off_loopback() {
    let src = agent_provider(SECRET).replace(
        "tenant =",
        "authority_host = \"http://login.example.com\"\ntenant =",
    );
    let d = one_error(&src, 3, "must use https");
    assert!(d.message.contains("loopback"));
}

#[test]
fn an_authority_host_with_the_tenant_in_it_is_explained() {
    let src = agent_provider(SECRET).replace(
        "tenant =",
        &format!("authority_host = \"https://login.microsoftonline.com/{TENANT}\"\ntenant ="),
    );
    let d = one_error(&src, 3, "must be the host only");
    assert!(d.hint.unwrap().contains("`tenant`"));
}

#[test]
fn duplicate_provider_names_are_reported_at_both_positions() {
    let one = agent_provider(SECRET);
    let provider_only = &one[..one.find("[[sandbox]]").unwrap()];
    let src = format!("{provider_only}{one}");
    errors_at(
        &src,
        &[
            (2, "provider name `mail-agent` is used again at line 17"),
            (17, "is already used at line 2"),
        ],
    );
}

#[test]
fn an_exchange_audience_override_is_an_api_uri_without_default() {
    let with = |value: &str| {
        agent_provider(SECRET).replace(
            "agent_identity_client_id",
            &format!("exchange_audience = \"{value}\"\nagent_identity_client_id"),
        )
    };
    let loaded = structure(&with("api://AzureADTokenExchangeUSGov")).unwrap();
    assert_eq!(
        loaded.config.providers[0].exchange_audience.as_deref(),
        Some("api://AzureADTokenExchangeUSGov")
    );
    assert_eq!(
        structure(&agent_provider(SECRET)).unwrap().config.providers[0].exchange_audience,
        None
    );
    for bad in [
        "https://example.com",
        "api://AzureADTokenExchange/.default",
        "api://",
        "api://a b",
    ] {
        let text = structure(&with(bad)).unwrap_err().to_string();
        assert!(text.contains("exchange_audience"), "{bad}: {text}");
    }
}
