//! Syntax, unknown keys, wrong types, missing keys, and every mistake at once.

use crate::support::*;

#[test]
fn a_syntax_error_is_reported_at_its_line_and_column() {
    let src = "[gateway]\nlisten = \"127.0.0.1:7443\"\nadmin_listen = 127.0.0.1:7444\n";
    let errs = errors(src);
    assert!(!errs.is_empty());
    assert_eq!(errs[0].line, 3, "{}", render(&errs));
    assert!(errs[0].column > 1, "{}", render(&errs));
}

#[test]
fn a_syntax_error_does_not_hide_the_other_mistakes() {
    let src = format!(
        r#"[[provider]]
name = "mail-agent"
tenant = "{TENANT}"
blueprint_client_id = "{GUID_A}"
agent_identity_client_id = "not-a-guid"
tenant_id = "x"
[provider.credential]
type = "client_secret"
secret_file = "s"
[[sandbox]]
name = "sbx"
credential_sha256 = "{SHA}"
providers = ["mail-agent"
"#
    );
    let lines: Vec<usize> = errors(&src).iter().map(|d| d.line).collect();
    assert!(lines.contains(&5), "{lines:?}");
    assert!(lines.contains(&6), "{lines:?}");
    assert!(lines.iter().any(|l| *l >= 13), "{lines:?}");
}

#[test]
fn a_duplicate_key_is_a_syntax_error_at_the_second_key() {
    let src = format!(
        "[gateway]\nlisten = \"127.0.0.1:1\"\nlisten = \"127.0.0.1:2\"\n{}",
        agent_provider("type = \"client_secret\"\nsecret_file = \"s\"")
    );
    let errs = errors(&src);
    assert_eq!(errs[0].line, 3, "{}", render(&errs));
}

#[test]
fn an_unknown_key_suggests_the_closest_known_one() {
    let src = agent_provider("type = \"client_secret\"\nsecret_file = \"s\"")
        .replace("tenant = ", "tennant = \"x\"\ntenant = ");
    let d = one_error(&src, 3, "unknown key `tennant` in [[provider]]");
    assert_eq!(d.hint.as_deref(), Some("did you mean `tenant`?"));
    assert_eq!(d.column, 1);
}

#[test]
fn unknown_keys_are_found_in_every_table() {
    let src = format!(
        r#"[gateway]
listn = "127.0.0.1:7443"
[gateway.cache]
max_entrys = 5
{}"#,
        agent_provider("type = \"client_secret\"\nsecret_file = \"s\"\nalgoritm = \"PS256\"")
    )
    .replace("app_allowed", "app_alowed");
    let errs = error_lines(&src);
    let unknown: Vec<usize> = errs
        .iter()
        .filter(|(_, m)| m.starts_with("unknown key"))
        .map(|(l, _)| *l)
        .collect();
    assert_eq!(unknown, vec![2, 4, 15, 18], "{errs:?}");
}

#[test]
fn an_unrelated_unknown_key_lists_the_known_keys() {
    let src = format!(
        "colour = \"blue\"\n{}",
        agent_provider("type = \"client_secret\"\nsecret_file = \"s\"")
    );
    let d = one_error(&src, 1, "unknown key `colour`");
    assert_eq!(
        d.hint.as_deref(),
        Some("known keys here: gateway, provider, sandbox")
    );
}

#[test]
fn a_wrong_type_is_reported_at_the_value() {
    let src = agent_provider("type = \"client_secret\"\nsecret_file = \"s\"")
        .replace(&format!("tenant = \"{TENANT}\""), "tenant = 42");
    let d = one_error(&src, 3, "`tenant` must be a string, found integer");
    assert_eq!(d.column, 10);
}

#[test]
fn a_missing_required_key_is_reported_at_the_table_header() {
    let src = agent_provider("type = \"client_secret\"\nsecret_file = \"s\"")
        .replace(&format!("tenant = \"{TENANT}\"\n"), "");
    let d = one_error(&src, 1, "[[provider]] has no `tenant`");
    assert!(d.hint.unwrap().contains("tenant"));
}

#[test]
fn a_file_without_providers_says_how_to_add_one() {
    let d = one_error("", 1, "declares no provider");
    assert!(d.hint.unwrap().contains("[[provider]]"));
}

#[test]
fn a_single_provider_table_instead_of_an_array_is_explained() {
    let d = one_error(
        "[provider]\nname = \"x\"\n",
        1,
        "`provider` must be an array of tables, found table",
    );
    assert!(d.hint.unwrap().contains("[[provider]]"));
}

#[test]
fn five_different_mistakes_are_all_reported_with_their_lines() {
    let src = format!(
        r#"[gateway]
authority_host = "http://login.microsoftonline.com"

[[provider]]
name = "mail-agent"
tenant = "{TENANT}"
blueprint_client_id = "4c3d9a10"
agent_identity_client_id = "{GUID_B}"
colour = "blue"

[provider.credential]
type = "client_secret"
secret = "hunter2-do-not-print"

[[sandbox]]
name = "sbx-1"
credential_sha256 = "abc"
providers = ["mail-agnet"]
"#
    );
    let errs = errors(&src);
    let got: Vec<(usize, &str)> = errs.iter().map(|d| (d.line, d.message.as_str())).collect();
    let expected_lines = [2, 7, 9, 13, 17, 18];
    assert_eq!(
        got.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        expected_lines,
        "{}",
        render(&errs)
    );
    let text = structure(&src).unwrap_err().to_string();
    assert!(
        !text.contains("hunter2"),
        "a secret value was echoed:\n{text}"
    );
}

#[test]
fn the_display_form_is_file_line_col_error_message_hint() {
    let src = agent_provider("type = \"client_secret\"\nsecret_file = \"s\"")
        .replace("tenant = ", "tennant = \"x\"\ntenant = ");
    let text = structure(&src).unwrap_err().to_string();
    assert_eq!(
        text,
        format!(
            "{ORIGIN}:3:1: error: unknown key `tennant` in [[provider]] (hint: did you mean `tenant`?)"
        )
    );
}

#[test]
fn a_broken_header_hides_the_findings_after_it_and_says_so() {
    let src = r#"[[provider]]
name = "mail-agent"
colour = "blue"
[provider.credential
type = "client_secret"
[[sandbox]]
name = "sbx-1"
credential_sha256 = "abc"
providers = ["mail-agent"]
"#;
    let errs = errors(src);
    assert_eq!(
        errs.iter().map(|d| d.line).collect::<Vec<_>>(),
        vec![3, 4],
        "{}",
        render(&errs)
    );
    assert!(errs[0].message.contains("unknown key `colour`"));
    assert_eq!(
        errs[1].hint.as_deref(),
        Some("the rest of the file is checked once this is fixed")
    );
}

#[test]
fn a_bad_scalar_hides_only_its_own_line() {
    let src = agent_provider("type = \"client_secret\"\nsecret_file = \"s\"")
        .replace(
            "[[provider]]",
            "[gateway]\nlisten = 127.0.0.1:7443\n\n[[provider]]",
        )
        .replace(GUID_B, "not-a-guid");
    let errs = errors(&src);
    assert_eq!(
        errs.iter().map(|d| d.line).collect::<Vec<_>>(),
        vec![2, 8],
        "{}",
        render(&errs)
    );
    assert!(
        errs[0].message.contains("invalid float"),
        "{}",
        render(&errs)
    );
    assert!(errs[1].message.contains("is not a GUID"));
}
