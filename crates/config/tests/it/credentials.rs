//! Credential types and the files they name: keys, certificates, secrets, tokens.

use std::path::PathBuf;

use agentmint_config::{CredentialSpec, ManagedIdentityId, SigningAlgorithm};
use sha2::{Digest, Sha256};
use time::Duration;

use crate::support::*;
use agentmint_testkit::pki::*;

/// The credential body starts at line 9 of `agent_provider`.
const CREDENTIAL_LINE: usize = 9;

fn certificate_fixture(cert_pem: &str) -> Fixture {
    let fx = Fixture::new();
    fx.write("keys/bp.key", rsa_key().serialize_pem());
    fx.write("keys/bp.crt", cert_pem);
    fx
}

const CERTIFICATE: &str =
    "type = \"certificate\"\nkey_file = \"keys/bp.key\"\ncertificate_file = \"keys/bp.crt\"";

#[test]
fn a_certificate_credential_resolves_paths_against_the_config_directory() {
    let cert = valid_self_signed(rsa_key());
    let fx = certificate_fixture(&cert);
    let loaded = fx.parse(&agent_provider(CERTIFICATE)).unwrap();
    let der = certificate_der(&cert);
    assert_eq!(
        loaded.config.providers[0].credential,
        CredentialSpec::Certificate {
            key_file: fx.path("keys/bp.key"),
            certificate_file: fx.path("keys/bp.crt"),
            algorithm: SigningAlgorithm::Ps256,
            certificate_sha256: Some(Sha256::digest(&der).into()),
        }
    );
    assert!(loaded.warnings.is_empty(), "{}", render(&loaded.warnings));
}

#[test]
fn a_combined_key_and_certificate_file_is_accepted_certificate_first() {
    let fx = Fixture::new();
    fx.write(
        "bp.pem",
        format!(
            "{}{}",
            valid_self_signed(rsa_key()),
            rsa_key().serialize_pem()
        ),
    );
    let loaded = fx
        .parse(&agent_provider(
            "type = \"certificate\"\nkey_file = \"bp.pem\"\nalgorithm = \"RS256\"",
        ))
        .unwrap();
    let CredentialSpec::Certificate {
        key_file,
        certificate_file,
        algorithm,
        ..
    } = &loaded.config.providers[0].credential
    else {
        panic!("not a certificate");
    };
    assert_eq!(key_file, certificate_file);
    assert_eq!(*algorithm, SigningAlgorithm::Rs256);
}

#[test]
fn a_missing_key_file_is_reported_with_its_resolved_path() {
    let fx = Fixture::new();
    let d = fx.credential_error("type = \"certificate\"\nkey_file = \"keys/nope.key\"");
    assert_eq!(d.line, CREDENTIAL_LINE + 1);
    let shown = fx.path("keys/nope.key");
    assert!(
        d.message.contains(&format!(
            "cannot read `key_file` {}: it does not exist",
            shown.display()
        )),
        "{d}"
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap()
            .contains("relative to the config file's directory")
    );
}

#[test]
fn a_key_file_without_a_private_key_is_refused() {
    let cert = valid_self_signed(rsa_key());
    let fx = Fixture::new();
    fx.write("only-cert.pem", &cert);
    let d = fx.credential_error("type = \"certificate\"\nkey_file = \"only-cert.pem\"");
    assert!(d.message.ends_with("holds no private key"), "{d}");
}

#[test]
fn a_file_that_is_not_pem_is_refused_without_echoing_it() {
    let fx = Fixture::new();
    fx.write("k.key", "SUPERSECRETKEYMATERIAL");
    let d = fx.credential_error("type = \"certificate\"\nkey_file = \"k.key\"");
    assert!(d.message.contains("is not a PEM file"));
    assert!(!d.to_string().contains("SUPERSECRET"));
}

#[test]
fn a_key_without_its_certificate_says_where_to_put_it() {
    let fx = Fixture::new();
    fx.write("k.key", rsa_key().serialize_pem());
    let d = fx.credential_error("type = \"certificate\"\nkey_file = \"k.key\"");
    assert!(d.message.contains("holds no certificate"));
    assert!(d.hint.as_deref().unwrap().contains("certificate_file"));
}

#[test]
fn a_certificate_of_another_key_is_refused() {
    let fx = certificate_fixture(&valid_self_signed(other_rsa_key()));
    let d = fx.credential_error(CERTIFICATE);
    assert_eq!(d.line, CREDENTIAL_LINE + 2);
    assert!(d.message.contains("does not belong to the private key"));
}

#[test]
fn a_non_rsa_key_is_refused() {
    let ec = rcgen::KeyPair::generate().unwrap();
    let fx = Fixture::new();
    fx.write("keys/bp.key", ec.serialize_pem());
    fx.write("keys/bp.crt", valid_self_signed(&ec));
    let d = fx.credential_error(CERTIFICATE);
    assert!(d.message.contains("holds a key that is not RSA"));
}

#[test]
fn an_encrypted_key_is_refused_with_the_fix() {
    let fx = Fixture::new();
    fx.write(
        "k.key",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let errs = fx.errors(&agent_provider(
        "type = \"certificate\"\nkey_file = \"k.key\"",
    ));
    assert!(
        errs[0].message.contains("encrypted private key"),
        "{}",
        render(&errs)
    );
    assert!(errs[0].hint.as_deref().unwrap().contains("openssl pkcs8"));
}

#[test]
fn an_expired_certificate_is_an_error() {
    let fx = certificate_fixture(&self_signed(
        rsa_key(),
        Duration::days(-30),
        Duration::days(-1),
    ));
    let d = fx.credential_error(CERTIFICATE);
    assert_eq!(d.line, CREDENTIAL_LINE + 2);
    assert!(d.message.contains("expired at"), "{d}");
}

#[test]
fn a_certificate_expiring_within_a_week_is_a_warning() {
    let fx = certificate_fixture(&self_signed(
        rsa_key(),
        Duration::days(-30),
        Duration::days(3),
    ));
    let loaded = fx.parse(&agent_provider(CERTIFICATE)).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{}", render(&loaded.warnings));
    let w = &loaded.warnings[0];
    assert_eq!(w.line, CREDENTIAL_LINE + 2);
    assert!(w.message.contains("expires at"), "{w}");
    assert!(w.to_string().contains(": warning: "));
}

#[test]
fn a_certificate_not_yet_valid_is_an_error() {
    let fx = certificate_fixture(&self_signed(
        rsa_key(),
        Duration::days(2),
        Duration::days(300),
    ));
    let errs = fx.errors(&agent_provider(CERTIFICATE));
    assert!(
        errs[0].message.contains("is not valid before"),
        "{}",
        render(&errs)
    );
}

#[test]
#[cfg(unix)]
fn a_world_readable_key_is_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let fx = certificate_fixture(&valid_self_signed(rsa_key()));
    std::fs::set_permissions(
        fx.path("keys/bp.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let loaded = fx.parse(&agent_provider(CERTIFICATE)).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{}", render(&loaded.warnings));
    assert!(
        loaded.warnings[0]
            .message
            .contains("readable by every user")
    );
}

#[test]
fn an_unknown_algorithm_is_refused() {
    let src = agent_provider(&format!("{CERTIFICATE}\nalgorithm = \"ES256\""));
    one_error(
        &src,
        CREDENTIAL_LINE + 3,
        "`algorithm` must be \"PS256\" or \"RS256\"",
    );
}

#[test]
fn an_inline_secret_is_refused_and_never_echoed() {
    let src = agent_provider("type = \"client_secret\"\nsecret = \"Xy7~very-secret\"");
    let errs = errors(&src);
    let rendered = render(&errs);
    assert!(!rendered.contains("very-secret"), "{rendered}");
    let inline = errs
        .iter()
        .find(|d| d.line == CREDENTIAL_LINE + 1)
        .expect(&rendered);
    assert!(inline.message.contains("secrets are never inline"));
    assert!(inline.hint.as_deref().unwrap().contains("secret_file"));
}

#[test]
fn a_client_secret_file_must_exist_and_hold_something() {
    let fx = Fixture::new();
    fx.write("empty.secret", "\n");
    let errs = fx.errors(&agent_provider(
        "type = \"client_secret\"\nsecret_file = \"empty.secret\"",
    ));
    assert_eq!(errs.len(), 1, "{}", render(&errs));
    assert!(errs[0].message.contains("is empty"));
    let errs = fx.errors(&agent_provider(
        "type = \"client_secret\"\nsecret_file = \"absent.secret\"",
    ));
    assert!(errs[0].message.contains("it does not exist"));
}

#[test]
fn keys_of_another_credential_type_are_refused() {
    let src = agent_provider("type = \"managed_identity\"\nkey_file = \"k.pem\"");
    let d = one_error(
        &src,
        CREDENTIAL_LINE + 1,
        "`key_file` does not apply to type = \"managed_identity\"",
    );
    assert!(
        d.hint
            .unwrap()
            .contains("client_id, object_id, resource_id, endpoint")
    );
}

#[test]
fn an_unknown_credential_type_suggests_the_closest() {
    let d = one_error(
        &agent_provider("type = \"certficate\""),
        CREDENTIAL_LINE,
        "`type` must be",
    );
    assert_eq!(d.hint.as_deref(), Some("did you mean \"certificate\"?"));
}

#[test]
fn a_missing_credential_is_reported_at_the_provider() {
    let src = agent_provider("").replace("[provider.credential]\n", "");
    let d = one_error(&src, 1, "[[provider]] has no `credential`");
    assert!(d.hint.unwrap().contains("[provider.credential]"));
}

#[test]
fn managed_identity_takes_at_most_one_id() {
    let src = agent_provider(&format!(
        "type = \"managed_identity\"\nclient_id = \"{GUID_A}\"\nobject_id = \"{GUID_B}\""
    ));
    one_error(
        &src,
        CREDENTIAL_LINE - 1,
        "named by client_id and object_id",
    );
    let src = agent_provider(
        "type = \"managed_identity\"\nresource_id = \"/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1\"\nendpoint = \"http://169.254.169.254/metadata/identity/oauth2/token\"",
    );
    let loaded = structure(&src).unwrap();
    let CredentialSpec::ManagedIdentity { identity, endpoint } =
        &loaded.config.providers[0].credential
    else {
        panic!("not a managed identity");
    };
    assert!(matches!(identity, Some(ManagedIdentityId::ResourceId(_))));
    assert_eq!(
        endpoint.as_deref(),
        Some("http://169.254.169.254/metadata/identity/oauth2/token")
    );
}

#[test]
fn a_bad_managed_identity_resource_id_is_refused() {
    let src = agent_provider("type = \"managed_identity\"\nresource_id = \"id1\"");
    one_error(
        &src,
        CREDENTIAL_LINE + 1,
        "not a user-assigned identity's ARM resource id",
    );
}

#[test]
fn workload_identity_defaults_to_the_environment_variable() {
    let fx = Fixture::new();
    let token = fx.write("token", "eyJ.projected.token");
    let env_path = token.display().to_string();
    let env = move |name: &str| (name == "AZURE_FEDERATED_TOKEN_FILE").then(|| env_path.clone());
    let loaded = fx
        .parse_with_env(&agent_provider("type = \"workload_identity\""), &env)
        .unwrap();
    assert_eq!(
        loaded.config.providers[0].credential,
        CredentialSpec::WorkloadIdentity { token_file: token }
    );
}

#[test]
fn workload_identity_without_a_file_or_variable_is_refused() {
    let d = one_error(
        &agent_provider("type = \"workload_identity\""),
        CREDENTIAL_LINE - 1,
        "AZURE_FEDERATED_TOKEN_FILE is not set",
    );
    assert!(d.hint.unwrap().contains("token_file"));
}

#[test]
fn an_explicit_token_file_wins_over_the_environment() {
    let loaded = structure(&agent_provider(
        "type = \"workload_identity\"\ntoken_file = \"/var/run/token\"",
    ))
    .unwrap();
    assert_eq!(
        loaded.config.providers[0].credential,
        CredentialSpec::WorkloadIdentity {
            token_file: PathBuf::from("/var/run/token")
        }
    );
}

#[test]
fn a_missing_certificate_file_is_reported_at_its_value() {
    let fx = Fixture::new();
    fx.write("keys/bp.key", rsa_key().serialize_pem());
    let d = fx.credential_error(CERTIFICATE);
    assert_eq!((d.line, d.column), (CREDENTIAL_LINE + 2, 20));
    assert!(d.message.contains(&format!(
        "cannot read `certificate_file` {}",
        fx.path("keys/bp.crt").display()
    )));
}

#[test]
fn a_missing_token_file_is_reported_with_its_path() {
    let fx = Fixture::new();
    let d = fx.credential_error("type = \"workload_identity\"\ntoken_file = \"tokens/sa\"");
    assert_eq!(d.line, CREDENTIAL_LINE + 1);
    assert!(
        d.message
            .contains(&fx.path("tokens/sa").display().to_string())
    );
}

#[test]
fn a_client_secret_renewed_in_place_is_a_different_record_and_its_digest_prints_truncated() {
    let fx = Fixture::new();
    let src = agent_provider("type = \"client_secret\"\nsecret_file = \"app.secret\"");
    fx.write("app.secret", "first-secret-value\n");
    let first = fx.parse(&src).unwrap();
    fx.write("app.secret", "first-secret-value");
    let same = fx.parse(&src).unwrap();
    fx.write("app.secret", "second-secret-value\n");
    let renewed = fx.parse(&src).unwrap();
    assert_eq!(
        first.config.providers, same.config.providers,
        "the trailing newline is no change"
    );
    assert_ne!(first.config.providers, renewed.config.providers);
    let shown = format!("{:?}", renewed.config);
    assert!(!shown.contains("second-secret"), "{shown}");
}

#[test]
fn the_config_lists_every_file_it_names_once() {
    let fx = Fixture::new();
    fx.write("app.secret", "a-secret");
    fx.write("sbx-2.credential", "a-sandbox-credential");
    let src = format!(
        "{}\n[[sandbox]]\nname = \"sbx-2\"\ncredential_file = \"sbx-2.credential\"\nproviders = [\"mail-agent\"]\n",
        agent_provider("type = \"client_secret\"\nsecret_file = \"app.secret\"")
    );
    let loaded = fx.parse(&src).unwrap();
    assert_eq!(
        loaded.config.files(),
        [fx.path("app.secret"), fx.path("sbx-2.credential")]
    );
}
