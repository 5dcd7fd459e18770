//! `agentmint config check` and the gateway's refusal to start on a bad config.

use std::time::Duration;

use agentmint_testkit::pki;

use crate::support;

/// `agentmint config check ARGS`: its exit code, stdout and stderr.
fn config_check(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["config", "check"];
    all.extend_from_slice(args);
    support::run(&all, &[], Duration::from_secs(20))
}

#[test]
fn config_check_reports_every_mistake_with_file_and_line() {
    let dir = support::tempdir();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        r#"[[provider]]
name = "a"
tenant = "not-a-guid"
blueprint_client_id = "00000000-0000-0000-0000-000000000001"
agent_identity_client_id = "00000000-0000-0000-0000-000000000002"
colour = "blue"
[provider.credential]
type = "certificate"
key_file = "missing.key"

[[sandbox]]
name = "s"
credential_sha256 = "abc"
providers = ["nope"]
"#,
    )
    .unwrap();
    let (code, out, err) = config_check(&[&support::path_str(&path)]);
    assert_eq!(code, 1, "{out}{err}");
    let file = support::path_str(&path);
    for (line, needle) in [
        (3, "tenant"),
        (6, "colour"),
        (9, "missing.key"),
        (13, "credential_sha256"),
        (14, "nope"),
    ] {
        let prefix = format!("{file}:{line}:");
        assert!(
            err.lines()
                .any(|l| l.starts_with(&prefix) && l.contains(needle)),
            "expected a diagnostic at line {line} about {needle}:\n{err}"
        );
    }
}

#[test]
fn gateway_refuses_to_start_with_an_expired_certificate() {
    let dir = support::tempdir();
    let key = pki::rsa_key();
    let cert = pki::self_signed(key, time::Duration::days(-30), time::Duration::days(-1));
    std::fs::write(dir.path().join("bp.key"), key.serialize_pem()).unwrap();
    std::fs::write(dir.path().join("bp.pem"), cert).unwrap();
    let path = dir.path().join("gateway.toml");
    let config = agentmint_testkit::config::one_provider(
        "a",
        "tenant = \"00000000-0000-0000-0000-0000000000aa\"\n\
         blueprint_client_id = \"00000000-0000-0000-0000-000000000001\"\n\
         agent_identity_client_id = \"00000000-0000-0000-0000-000000000002\"",
        "type = \"certificate\"\nkey_file = \"bp.key\"\ncertificate_file = \"bp.pem\"",
        &"0".repeat(64),
    );
    std::fs::write(&path, config).unwrap();
    let (code, _out, err) = config_check(&[&support::path_str(&path)]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("expired"), "{err}");
    let (code, _out, err) = support::run(
        &[
            "gateway",
            "--config",
            &support::path_str(&path),
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ],
        &[],
        Duration::from_secs(20),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("refuses to start"), "{err}");
}

#[test]
fn the_example_config_passes_a_structure_check_and_fails_on_its_missing_files() {
    // The example names files that do not exist on this machine: a structure check passes, a full
    // check reports each missing file at its line.
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/gateway.example.toml"
    );
    let (code, out, err) = config_check(&["--structure-only", example]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ok (3 providers, 2 sandboxes"), "{out}");

    let (code, out, err) = config_check(&[example]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.lines()
            .filter(|l| l.contains("gateway.example.toml:") && l.contains("error:"))
            .count()
            >= 2,
        "{err}"
    );
}
