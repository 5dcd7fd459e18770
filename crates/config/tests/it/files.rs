//! `load`: reading the config file itself.

use agentmint_config::load;

use crate::support::*;

#[test]
fn a_missing_config_file_is_one_diagnostic_naming_it() {
    let fx = Fixture::new();
    let path = fx.path("absent.toml");
    let err = load(&path).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(
        err.to_string(),
        format!(
            "{}:1:1: error: cannot read the config file: it does not exist",
            path.display()
        )
    );
}

#[test]
fn a_config_file_that_is_not_utf8_points_at_the_bad_byte() {
    let fx = Fixture::new();
    let path = fx.write("bad.toml", b"[gateway]\nlisten = \"\xff\"\n");
    let err = load(&path).unwrap_err();
    assert_eq!((err[0].line, err[0].column), (2, 11));
    assert!(err[0].message.contains("not valid UTF-8"));
}

#[test]
fn load_checks_the_files_the_config_names() {
    let fx = Fixture::new();
    fx.write("s", "a-client-secret");
    let path = fx.write(
        "gateway.toml",
        agent_provider("type = \"client_secret\"\nsecret_file = \"s\""),
    );
    let loaded = load(&path).unwrap();
    assert_eq!(loaded.config.providers.len(), 1);

    let path = fx.write(
        "broken.toml",
        agent_provider("type = \"client_secret\"\nsecret_file = \"missing\""),
    );
    let err = load(&path).unwrap_err();
    assert!(
        err[0].message.contains("cannot read `secret_file`"),
        "{err}"
    );
}

#[test]
fn an_unchanged_file_loads_to_an_equal_config_and_a_changed_provider_differs() {
    let fx = Fixture::new();
    fx.write("s", "a-client-secret");
    let src = agent_provider("type = \"client_secret\"\nsecret_file = \"s\"");
    let first = fx.parse(&src).unwrap().config;
    let again = fx.parse(&src).unwrap().config;
    assert_eq!(first.providers[0], again.providers[0]);
    let changed = fx
        .parse(&src.replace("Mail.Read", "Mail.Send"))
        .unwrap()
        .config;
    assert_ne!(first.providers[0], changed.providers[0]);
}
