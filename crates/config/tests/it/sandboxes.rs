//! Sandboxes: credentials, provider lists, references and uniqueness.

use agentmint_config::SandboxCredentialSpec;
use sha2::{Digest, Sha256};

use crate::support::*;

const SECRET: &str = "type = \"client_secret\"\nsecret_file = \"s\"";

/// The standard provider plus the given sandbox tables (the first sandbox header is at line 16).
fn with_sandboxes(sandboxes: &str) -> String {
    let src = agent_provider(SECRET);
    let start = src.find("[[sandbox]]").unwrap();
    format!("{}{sandboxes}", &src[..start])
}

#[test]
fn the_hash_is_decoded() {
    let loaded = structure(&agent_provider(SECRET)).unwrap();
    let sandbox = &loaded.config.sandboxes[0];
    assert_eq!(
        sandbox.credential_sha256(),
        Some(hex::decode(SHA).unwrap().try_into().unwrap())
    );
    assert_eq!(sandbox.providers, vec!["mail-agent".to_owned()]);
}

#[test]
fn a_hash_that_is_not_64_hex_characters_is_refused_without_echoing_it() {
    let src = agent_provider(SECRET).replace(SHA, "s3cr3t-not-a-hash");
    let d = one_error(
        &src,
        18,
        "must be 64 hex characters (a SHA-256), found 17 characters",
    );
    assert!(!d.to_string().contains("s3cr3t"));
}

#[test]
fn a_sandbox_naming_an_unknown_provider_is_refused_with_a_suggestion() {
    let src = with_sandboxes(&format!(
        "[[sandbox]]\nname = \"sbx-1\"\ncredential_sha256 = \"{SHA}\"\nproviders = [\"mail-agent\", \"mail-agnt\"]\n"
    ));
    let d = one_error(&src, 19, "no provider is named `mail-agnt`");
    assert_eq!(d.column, 28);
    assert_eq!(d.hint.as_deref(), Some("did you mean `mail-agent`?"));
}

#[test]
fn a_sandbox_with_no_providers_is_refused() {
    let src = with_sandboxes(&format!(
        "[[sandbox]]\nname = \"sbx-1\"\ncredential_sha256 = \"{SHA}\"\nproviders = []\n"
    ));
    one_error(&src, 19, "attaches no provider");
}

#[test]
fn a_provider_listed_twice_is_reported_at_the_repeat() {
    let src = with_sandboxes(&format!(
        "[[sandbox]]\nname = \"sbx-1\"\ncredential_sha256 = \"{SHA}\"\nproviders = [\n  \"mail-agent\",\n  \"mail-agent\",\n]\n"
    ));
    one_error(&src, 21, "provider `mail-agent` is listed twice");
}

#[test]
fn duplicate_sandbox_names_are_reported_at_both_positions() {
    let other = "0".repeat(64);
    let src = with_sandboxes(&format!(
        "[[sandbox]]\nname = \"sbx-1\"\ncredential_sha256 = \"{SHA}\"\nproviders = [\"mail-agent\"]\n\
         [[sandbox]]\nname = \"sbx-1\"\ncredential_sha256 = \"{other}\"\nproviders = [\"mail-agent\"]\n"
    ));
    let errs = error_lines(&src);
    assert_eq!(
        errs,
        vec![
            (
                17,
                "sandbox name `sbx-1` is used again at line 21".to_owned()
            ),
            (
                21,
                "sandbox name `sbx-1` is already used at line 17".to_owned()
            ),
        ]
    );
}

#[test]
fn two_sandboxes_sharing_a_credential_are_refused() {
    let src = with_sandboxes(&format!(
        "[[sandbox]]\nname = \"sbx-1\"\ncredential_sha256 = \"{SHA}\"\nproviders = [\"mail-agent\"]\n\
         [[sandbox]]\nname = \"sbx-2\"\ncredential_sha256 = \"{}\"\nproviders = [\"mail-agent\"]\n",
        SHA.to_uppercase()
    ));
    let lines: Vec<usize> = errors(&src).iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![18, 22]);
}

#[test]
fn both_or_neither_credential_form_is_refused() {
    let both = with_sandboxes(&format!(
        "[[sandbox]]\nname = \"sbx-1\"\ncredential_sha256 = \"{SHA}\"\ncredential_file = \"c\"\nproviders = [\"mail-agent\"]\n"
    ));
    one_error(&both, 19, "both `credential_sha256` and `credential_file`");
    let neither = with_sandboxes("[[sandbox]]\nname = \"sbx-1\"\nproviders = [\"mail-agent\"]\n");
    let d = one_error(&neither, 16, "[[sandbox]] has no `credential_sha256`");
    assert!(d.hint.unwrap().contains("sha256sum"));
}

#[test]
fn a_credential_file_is_hashed_without_its_trailing_newline() {
    let fx = Fixture::new();
    fx.write("s", "client-secret-value");
    fx.write("sbx-1.credential", "the-sandbox-credential\n");
    let src = with_sandboxes(
        "[[sandbox]]\nname = \"sbx-1\"\ncredential_file = \"sbx-1.credential\"\nproviders = [\"mail-agent\"]\n",
    );
    let loaded = fx.parse(&src).unwrap();
    let expected: [u8; 32] = Sha256::digest(b"the-sandbox-credential").into();
    assert!(matches!(
        &loaded.config.sandboxes[0].credential,
        SandboxCredentialSpec::File { path, sha256 }
            if *sha256 == expected && path.ends_with("sbx-1.credential")
    ));
    assert!(!format!("{loaded:?}").contains("the-sandbox-credential"));
}

#[test]
fn an_unchecked_credential_file_is_unread() {
    let src = with_sandboxes(
        "[[sandbox]]\nname = \"sbx-1\"\ncredential_file = \"sbx-1.credential\"\nproviders = [\"mail-agent\"]\n",
    );
    let loaded = structure(&src).unwrap();
    assert_eq!(loaded.config.sandboxes[0].credential_sha256(), None);
}

#[test]
fn a_provider_no_sandbox_uses_is_a_warning() {
    let src = with_sandboxes(&format!(
        "[[sandbox]]\nname = \"sbx-1\"\ncredential_sha256 = \"{SHA}\"\nproviders = [\"mail-agent\"]\n"
    ))
    .replacen("[[provider]]", &format!("[[provider]]\nname = \"spare\"\nkind = \"app\"\ntenant = \"{TENANT}\"\nclient_id = \"{GUID_A}\"\n[provider.credential]\ntype = \"managed_identity\"\n[provider.scopes]\napp_allowed = [\"api://x/.default\"]\n\n[[provider]]"), 1);
    let loaded = structure(&src).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{}", render(&loaded.warnings));
    assert_eq!(loaded.warnings[0].line, 2);
    assert!(
        loaded.warnings[0]
            .message
            .contains("`spare` is attached to no sandbox")
    );
}

/// A sandbox identified by a service-account token (`[[sandbox]]` at line 16, the section at 19,
/// issuer at 20, jwks_file at 21, audience at 22, namespace at 23, service_account at 24).
fn service_account(issuer: &str, jwks: &str, namespace: &str) -> String {
    with_sandboxes(&format!(
        "[[sandbox]]\nname = \"sbx-k\"\nproviders = [\"mail-agent\"]\n[sandbox.service_account]\n\
         issuer = \"{issuer}\"\n{jwks}\naudience = \"agentmint\"\nnamespace = \"{namespace}\"\n\
         service_account = \"agent-k\"\n"
    ))
}

const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

#[test]
fn a_service_account_sandbox_is_read_with_its_jwks_file() {
    let f = Fixture::new();
    let key = agentmint_testkit::service_account::IssuerKey::new("k1");
    f.write("s", "secret");
    f.write(
        "jwks.json",
        agentmint_testkit::service_account::jwks(&[&key]),
    );
    let loaded = f
        .parse(&service_account(
            ISSUER,
            "jwks_file = \"jwks.json\"",
            "agents",
        ))
        .unwrap();
    let SandboxCredentialSpec::ServiceAccount(spec) = &loaded.config.sandboxes[0].credential else {
        panic!("not a service-account sandbox");
    };
    assert_eq!(spec.issuer, ISSUER);
    assert_eq!(spec.namespace, "agents");
    assert_eq!(spec.service_account, "agent-k");
    assert_eq!(spec.max_lifetime_seconds, 48 * 3600);
    assert!(spec.jwks.as_deref().unwrap().contains("k1"));
    assert!(
        loaded
            .config
            .files()
            .contains(&f.path("jwks.json").as_path())
    );
}

#[test]
fn service_account_mistakes_are_reported_at_their_line() {
    one_error(
        &service_account("http://cluster", "jwks_file = \"j\"", "agents"),
        20,
        "`issuer` must be an https URL",
    );
    one_error(
        &service_account(ISSUER, "jwks_url = \"https://x/openid/v1/jwks\"", "agents"),
        21,
        "`jwks_url` is not supported yet",
    );
    one_error(
        &service_account(ISSUER, "jwks_file = \"j\"", " "),
        23,
        "`namespace` is empty",
    );
    let both = service_account(ISSUER, "jwks_file = \"j\"", "agents").replace(
        "name = \"sbx-k\"\n",
        &format!("name = \"sbx-k\"\ncredential_sha256 = \"{SHA}\"\n"),
    );
    one_error(&both, 20, "gives `service_account` and a bearer credential");
}

#[test]
fn a_jwks_file_without_an_rs256_or_es256_key_is_refused() {
    let f = Fixture::new();
    f.write("s", "secret");
    f.write(
        "hmac.json",
        r#"{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}"#,
    );
    f.write("junk.json", "not json");
    let src = service_account(ISSUER, "jwks_file = \"hmac.json\"", "agents");
    let err = f.parse(&src).unwrap_err().to_string();
    assert!(err.contains("holds no RS256 or ES256 key"), "{err}");
    assert!(err.contains(":21"), "{err}");
    let src = service_account(ISSUER, "jwks_file = \"junk.json\"", "agents");
    let err = f.parse(&src).unwrap_err().to_string();
    assert!(err.contains("is not a JWKS"), "{err}");
}
