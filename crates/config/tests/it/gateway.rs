//! `[gateway]`: addresses, authority host, CA file, cache settings, defaults.

use std::net::SocketAddr;

use agentmint_config::{
    CacheSettings, DEFAULT_ADMIN_LISTEN, DEFAULT_AUTHORITY_HOST, DEFAULT_DRAIN_GRACE_SECONDS,
    DEFAULT_LISTEN,
};

use crate::support::*;
use agentmint_testkit::pki::*;

const SECRET: &str = "type = \"client_secret\"\nsecret_file = \"s\"";

fn with_gateway(gateway: &str) -> String {
    format!("{gateway}\n{}", agent_provider(SECRET))
}

#[test]
fn an_absent_gateway_table_gives_the_defaults() {
    let gw = structure(&agent_provider(SECRET)).unwrap().config.gateway;
    assert_eq!(gw.listen, DEFAULT_LISTEN);
    assert_eq!(gw.admin_listen, DEFAULT_ADMIN_LISTEN);
    assert_eq!(gw.authority_host, DEFAULT_AUTHORITY_HOST);
    assert_eq!(gw.ca_file, None);
    assert_eq!(gw.cache, CacheSettings::default());
    assert_eq!(gw.drain_grace_seconds, DEFAULT_DRAIN_GRACE_SECONDS);
}

#[test]
fn the_drain_grace_is_read_and_zero_is_allowed() {
    for (value, expected) in [("0", 0), ("12", 12)] {
        let src = with_gateway(&format!("[gateway]\ndrain_grace_seconds = {value}"));
        let gw = structure(&src).unwrap().config.gateway;
        assert_eq!(gw.drain_grace_seconds, expected);
    }
}

#[test]
fn a_drain_grace_beyond_five_minutes_is_refused_at_its_line() {
    let d = one_error(
        &with_gateway("[gateway]\nlisten = \"127.0.0.1:7443\"\ndrain_grace_seconds = 900"),
        3,
        "`drain_grace_seconds` must be at most 300",
    );
    assert!(d.hint.unwrap().contains("default is 5"));
}

#[test]
fn a_negative_or_textual_drain_grace_is_refused_at_its_line() {
    one_error(
        &with_gateway("[gateway]\ndrain_grace_seconds = -1"),
        2,
        "drain_grace_seconds",
    );
    one_error(
        &with_gateway("[gateway]\ndrain_grace_seconds = \"5s\""),
        2,
        "drain_grace_seconds",
    );
}

#[test]
fn every_setting_is_read() {
    let src = with_gateway(
        "[gateway]\nlisten = \"0.0.0.0:0\"\nadmin_listen = \"[::1]:9000\"\nca_file = \"ca.pem\"\n\
         [gateway.cache]\nsafety_margin_seconds = 120\nmax_entries = 500\nidle_timeout_seconds = 600\n",
    );
    let gw = structure(&src).unwrap().config.gateway;
    assert_eq!(gw.listen, "0.0.0.0:0".parse::<SocketAddr>().unwrap());
    assert_eq!(gw.admin_listen, "[::1]:9000".parse::<SocketAddr>().unwrap());
    assert_eq!(
        gw.ca_file.unwrap(),
        std::path::Path::new("/etc/agentmint/ca.pem")
    );
    assert_eq!(
        gw.cache,
        CacheSettings {
            safety_margin_seconds: Some(120),
            max_entries: Some(500),
            idle_timeout_seconds: Some(600),
        }
    );
}

#[test]
fn a_host_name_is_not_a_listen_address() {
    let d = one_error(
        &with_gateway("[gateway]\nlisten = \"localhost:7443\""),
        2,
        "`listen` is not an IP address and port",
    );
    assert!(d.hint.unwrap().contains("127.0.0.1:7443"));
}

#[test]
fn the_admin_port_cannot_share_the_grpc_address() {
    one_error(
        &with_gateway("[gateway]\nlisten = \"127.0.0.1:9000\"\nadmin_listen = \"127.0.0.1:9000\""),
        3,
        "`listen` and `admin_listen` are both 127.0.0.1:9000",
    );
}

#[test]
fn cache_settings_are_bounded() {
    let src = with_gateway(
        "[gateway.cache]\nsafety_margin_seconds = 3600\nmax_entries = 0\nidle_timeout_seconds = -5",
    );
    let errs = error_lines(&src);
    assert_eq!(
        errs.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        vec![2, 3, 4],
        "{errs:?}"
    );
    assert!(errs[0].1.contains("under an hour"));
    assert!(errs[1].1.contains("at least 1"));
    assert!(errs[2].1.contains("non-negative"));
}

#[test]
fn the_emulator_on_loopback_may_use_plain_http() {
    let src = with_gateway("[gateway]\nauthority_host = \"http://127.0.0.1:8443/\"");
    assert_eq!(
        structure(&src).unwrap().config.providers[0].authority_host,
        "http://127.0.0.1:8443"
    );
}

#[test]
fn a_ca_file_must_hold_a_valid_certificate() {
    let fx = Fixture::new();
    fx.write("s", "secret");
    fx.write("ca.pem", valid_self_signed(rsa_key()));
    assert!(
        fx.parse(&with_gateway("[gateway]\nca_file = \"ca.pem\""))
            .is_ok()
    );
    fx.write("empty.pem", "");
    let errs = fx.errors(&with_gateway("[gateway]\nca_file = \"empty.pem\""));
    assert_eq!(errs.len(), 1, "{}", render(&errs));
    assert_eq!(errs[0].line, 2);
    fx.write(
        "old.pem",
        self_signed(
            rsa_key(),
            time::Duration::days(-9),
            time::Duration::days(-2),
        ),
    );
    let errs = fx.errors(&with_gateway("[gateway]\nca_file = \"old.pem\""));
    assert!(errs[0].message.contains("expired"), "{}", render(&errs));
}

#[test]
fn a_tls_table_is_read_with_its_files_checked() {
    let f = Fixture::new();
    f.write("tls/gw.crt", valid_self_signed(rsa_key()));
    f.write("tls/gw.key", rsa_key().serialize_pem());
    f.write("tls/clients.pem", valid_self_signed(other_rsa_key()));
    f.write("s", "secret");
    let src = with_gateway(
        "[gateway.tls]\ncert_file = \"tls/gw.crt\"\nkey_file = \"tls/gw.key\"\nclient_ca_file = \"tls/clients.pem\"\n",
    );
    let tls = f
        .parse(&src)
        .unwrap_or_else(|d| panic!("{d}"))
        .config
        .gateway
        .tls
        .expect("tls settings");
    assert_eq!(tls.cert_file, f.path("tls/gw.crt"));
    assert_eq!(tls.key_file, f.path("tls/gw.key"));
    assert_eq!(tls.client_ca_file, Some(f.path("tls/clients.pem")));
}

#[test]
fn tls_mistakes_are_all_reported_at_their_lines() {
    let f = Fixture::new();
    f.write("gw.crt", rsa_key().serialize_pem());
    f.write("s", "secret");
    let src = with_gateway(
        "[gateway.tls]\ncert_file = \"gw.crt\"\nclient_ca_file = \"missing.pem\"\nport = 1\n",
    );
    let errors = f.errors(&src);
    let text = render(&errors);
    for (line, needle) in [
        (1, "key_file"),
        (2, "holds no certificate"),
        (3, "missing.pem"),
        (4, "port"),
    ] {
        assert!(
            errors
                .iter()
                .any(|d| d.line == line && d.to_string().contains(needle)),
            "expected {needle} at line {line}:\n{text}"
        );
    }
}

#[test]
fn a_tls_key_file_without_a_key_is_an_error() {
    let f = Fixture::new();
    f.write("gw.crt", valid_self_signed(rsa_key()));
    f.write("gw.key", valid_self_signed(rsa_key()));
    f.write("s", "secret");
    let src = with_gateway("[gateway.tls]\ncert_file = \"gw.crt\"\nkey_file = \"gw.key\"\n");
    one_error_in(&f, &src, 3, "holds no private key");
}

fn one_error_in(f: &Fixture, src: &str, line: usize, needle: &str) {
    let errors = f.errors(src);
    assert_eq!(errors.len(), 1, "{}", render(&errors));
    assert_eq!(errors[0].line, line, "{}", render(&errors));
    assert!(errors[0].message.contains(needle), "{}", render(&errors));
}
