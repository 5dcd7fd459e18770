//! RELIABILITY 29 and DESIGN's reload rules: a broken file never replaces a working config; a valid
//! one is swapped in without dropping unchanged providers' cached tokens.

use crate::support::*;
use agentmint_proto::TokenKind;
use tonic::Code;

#[tokio::test]
async fn a_broken_reload_keeps_the_old_config_serving_and_reports_file_and_line() {
    let (h, mut client) = start_connected().await;
    minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;

    let good = std::fs::read_to_string(&h.config_path).unwrap();
    std::fs::write(&h.config_path, format!("{good}\n[[provider]]\nname = \n")).unwrap();
    let err = h.gateway.reload().unwrap_err().to_string();
    let prefix = format!("{}:", h.config_path.display());
    assert!(err.contains(&prefix), "names file:line: {err}");

    let again = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    assert!(again.cache_hit, "the old config and its cache keep serving");
}

#[tokio::test]
async fn a_valid_reload_applies_new_attachments_and_keeps_unchanged_providers_tokens() {
    let (h, mut client) = start_connected().await;
    let first = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    minted_a(&mut client, "bot", TokenKind::AppOnly, &[GRAPH]).await;
    let upstream_before = upstream_total(&h);

    // Detach the bot from sandbox A.
    let config = std::fs::read_to_string(&h.config_path).unwrap();
    let detached = config.replace(
        r#"providers = ["agent", "bot"]"#,
        r#"providers = ["agent"]"#,
    );
    assert_ne!(config, detached);
    std::fs::write(&h.config_path, detached).unwrap();
    h.gateway.reload().unwrap();

    let err = refused_a(&mut client, "bot", TokenKind::AppOnly, &[GRAPH]).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let again = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    assert!(again.cache_hit);
    assert_eq!(again.access_token, first.access_token);
    assert_eq!(
        upstream_total(&h),
        upstream_before,
        "no upstream call after the reload"
    );
}

#[tokio::test]
async fn a_revoked_sandbox_is_unauthenticated_after_reload() {
    let (h, mut client) = start_connected().await;
    mint(&mut client, CRED_B, "second", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap();
    let config = std::fs::read_to_string(&h.config_path).unwrap();
    std::fs::write(
        &h.config_path,
        config.replace(&sha(CRED_B), &sha("rotated")),
    )
    .unwrap();
    h.gateway.reload().unwrap();
    let err = mint(&mut client, CRED_B, "second", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}

/// The 1-based line of the first line of `text` starting with `prefix`.
fn line_starting(text: &str, prefix: &str) -> usize {
    text.lines().position(|l| l.starts_with(prefix)).unwrap() + 1
}

#[tokio::test]
async fn every_gateway_key_is_applied_or_reported_as_needing_a_restart_with_file_and_line() {
    use agentmint_gateway::settings::Effect::{Applied, NeedsRestart};
    let ca = agentmint_testkit::pki::TestCa::new();
    let server = ca.server(&["localhost"]);
    let other_ca = agentmint_testkit::pki::TestCa::new();
    // (key, how the config changes, effect)
    type Edit = Box<dyn Fn(&str, &std::path::Path) -> String>;
    let cases: Vec<(&str, Edit, agentmint_gateway::settings::Effect)> = vec![
        (
            "listen",
            Box::new(|c, _| {
                c.replace(
                    "listen = \"127.0.0.1:0\"\nadmin",
                    "listen = \"127.0.0.1:1\"\nadmin",
                )
            }),
            NeedsRestart,
        ),
        (
            "admin_listen",
            Box::new(|c, _| {
                c.replace(
                    "admin_listen = \"127.0.0.1:0\"",
                    "admin_listen = \"127.0.0.1:1\"",
                )
            }),
            NeedsRestart,
        ),
        (
            "tls",
            Box::new(move |c, dir| {
                std::fs::write(dir.join("tls.cert.pem"), &server.cert_pem).unwrap();
                std::fs::write(dir.join("tls.key.pem"), &server.key_pem).unwrap();
                format!(
                    "{c}\n[gateway.tls]\ncert_file = {:?}\nkey_file = {:?}\n",
                    dir.join("tls.cert.pem"),
                    dir.join("tls.key.pem")
                )
            }),
            NeedsRestart,
        ),
        (
            "authority_host",
            Box::new(|c, _| {
                c.replace(
                    "authority_host = \"http://127.0.0.1:",
                    "authority_host = \"http://localhost:",
                )
            }),
            Applied,
        ),
        (
            "ca_file",
            Box::new(move |c, dir| {
                std::fs::write(dir.join("extra-ca.pem"), &ca.cert_pem).unwrap();
                c.replace(
                    "authority_host =",
                    &format!("ca_file = {:?}\nauthority_host =", dir.join("extra-ca.pem")),
                )
            }),
            Applied,
        ),
        (
            "cache.safety_margin_seconds",
            Box::new(|c, _| format!("{c}\n[gateway.cache]\nsafety_margin_seconds = 120\n")),
            Applied,
        ),
        (
            "cache.max_entries",
            Box::new(|c, _| format!("{c}\n[gateway.cache]\nmax_entries = 7\n")),
            Applied,
        ),
        (
            "cache.idle_timeout_seconds",
            Box::new(|c, _| format!("{c}\n[gateway.cache]\nidle_timeout_seconds = 600\n")),
            Applied,
        ),
    ];
    for (key, edit, effect) in cases {
        let h = start().await;
        let mut client = connect(&h).await;
        minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
        let config = std::fs::read_to_string(&h.config_path).unwrap();
        let changed = edit(&config, h.config_path.parent().unwrap());
        assert_ne!(config, changed, "{key}");
        std::fs::write(&h.config_path, &changed).unwrap();

        let reloaded = h.gateway.reload().unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(reloaded.gateway.len(), 1, "{key}: {:?}", reloaded.gateway);
        let change = &reloaded.gateway[0];
        assert_eq!((change.key, change.effect), (key, effect));
        let written = key.rsplit('.').next().unwrap();
        let line = if key == "tls" {
            line_starting(&changed, "[gateway.tls]")
        } else {
            line_starting(&changed, &format!("{written} ="))
        };
        assert_eq!(
            change.at,
            format!("{}:{line}", h.config_path.display()),
            "{key}"
        );

        let policy = h.gateway.caches.policy();
        match key {
            "cache.safety_margin_seconds" => {
                assert_eq!(policy.safety_margin, std::time::Duration::from_secs(120))
            }
            "cache.max_entries" => assert_eq!(policy.max_entries, 7),
            "cache.idle_timeout_seconds" => {
                assert_eq!(policy.idle_timeout, std::time::Duration::from_secs(600))
            }
            "authority_host" => {
                assert_eq!(reloaded.providers.changed, ["agent", "bot", "second"]);
                let again = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
                assert!(!again.cache_hit, "keys follow the new authority");
            }
            _ => {
                let again = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
                assert!(again.cache_hit, "{key}: providers keep their cache");
            }
        }
        if key == "ca_file" {
            // A CA renewed in place (same path, new content) is applied again.
            let path = h.config_path.parent().unwrap().join("extra-ca.pem");
            std::fs::write(&path, &other_ca.cert_pem).unwrap();
            let again = h.gateway.reload().unwrap();
            assert_eq!(again.gateway.len(), 1);
            assert_eq!(
                (again.gateway[0].key, again.gateway[0].effect),
                ("ca_file", Applied)
            );
            assert!(
                h.gateway.reload().unwrap().gateway.is_empty(),
                "then nothing changed"
            );
        }
        if effect == NeedsRestart {
            // Still not applied: every later reload says so again.
            assert_eq!(h.gateway.reload().unwrap().gateway.len(), 1, "{key}");
        }
    }
}

#[tokio::test]
async fn a_tls_certificate_renewed_in_place_is_reported_as_needing_a_restart() {
    use agentmint_gateway::settings::Effect::NeedsRestart;
    let dir = tempfile::tempdir().unwrap();
    let ca = agentmint_testkit::pki::TestCa::new();
    let (cert, key) = (
        dir.path().join("tls.cert.pem"),
        dir.path().join("tls.key.pem"),
    );
    let first = ca.server(&["127.0.0.1"]);
    std::fs::write(&cert, &first.cert_pem).unwrap();
    std::fs::write(&key, &first.key_pem).unwrap();
    let h = agentmint_stack::Stack::start(agentmint_stack::StackOptions {
        dir: Some(dir.path().to_path_buf()),
        layout: agentmint_stack::Layout {
            providers: vec![agentmint_stack::Provider::Bot { name: "bot".into() }],
            sandboxes: vec![agentmint_stack::Sandbox::new("s", &["bot"])],
            extra_config: format!("\n[gateway.tls]\ncert_file = {cert:?}\nkey_file = {key:?}\n"),
        },
        ..agentmint_stack::StackOptions::default()
    })
    .await
    .unwrap();
    assert!(
        h.gateway.reload().unwrap().gateway.is_empty(),
        "nothing changed yet"
    );

    let renewed = ca.server(&["127.0.0.1"]);
    std::fs::write(&cert, &renewed.cert_pem).unwrap();
    std::fs::write(&key, &renewed.key_pem).unwrap();
    let reloaded = h.gateway.reload().unwrap();
    assert_eq!(reloaded.gateway.len(), 1);
    assert_eq!(
        (reloaded.gateway[0].key, reloaded.gateway[0].effect),
        ("tls", NeedsRestart)
    );
}
