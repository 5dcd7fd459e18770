//! The gateway's gRPC port over TLS with client certificates required (`[gateway.tls]` with
//! `client_ca_file`): the sandbox and `agentmint token` get through with the CA and a client
//! certificate, and are refused without the certificate or over plaintext.

use std::path::Path;
use std::time::Duration;

use agentmint_testkit::pki::TestCa;

use crate::support;
use crate::support::stack::{GRAPH_DEFAULT, Stack, StackOptions};

/// Paths of the PEM files, as the command lines and the config take them.
struct Pki {
    ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

impl Pki {
    /// The flags that trust the gateway's CA and present the client certificate.
    fn client_args(&self) -> [&str; 6] {
        [
            "--gateway-ca",
            &self.ca,
            "--client-cert",
            &self.client_cert,
            "--client-key",
            &self.client_key,
        ]
    }
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    support::path_str(&path)
}

/// One CA issuing the gateway's certificate (for 127.0.0.1) and a sandbox's client certificate.
fn pki(dir: &Path) -> Pki {
    let ca = TestCa::new();
    let server = ca.server(&["127.0.0.1"]);
    let client = ca.client(None);
    Pki {
        ca: write(dir, "grpc-ca.pem", &ca.cert_pem),
        server_cert: write(dir, "gateway.crt", &server.cert_pem),
        server_key: write(dir, "gateway.key", &server.key_pem),
        client_cert: write(dir, "sandbox.crt", &client.cert_pem),
        client_key: write(dir, "sandbox.key", &client.key_pem),
    }
}

fn mtls_stack() -> (tempfile::TempDir, Pki, Stack) {
    let dir = support::tempdir();
    let pki = pki(dir.path());
    let stack = Stack::start(StackOptions {
        sandbox_providers: None,
        extra_config: format!(
            "\n[gateway.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\nclient_ca_file = \"{}\"\n",
            pki.server_cert, pki.server_key, pki.ca
        ),
        ..Default::default()
    });
    (dir, pki, stack)
}

fn token(stack: &Stack, url: &str, tls: &[&str]) -> (i32, String, String) {
    let credential = support::path_str(&stack.credential_path);
    let mut args = vec![
        "token",
        "--gateway",
        url,
        "--credential-file",
        &credential,
        "--provider",
        "agent",
    ];
    args.extend_from_slice(tls);
    support::run(&args, &[], Duration::from_secs(20))
}

#[test]
fn a_client_with_the_ca_and_a_client_certificate_mints_and_others_are_refused() {
    let (_dir, pki, stack) = mtls_stack();
    assert!(
        stack.gateway_url.starts_with("https://"),
        "{}",
        stack.gateway_url
    );
    let (ca, cert, key) = (&pki.ca, &pki.client_cert, &pki.client_key);

    let (code, out, err) = token(&stack, &stack.gateway_url, &pki.client_args());
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&stack.world.agent_identity_app_id), "{out}");

    // No client certificate: the handshake is refused before any request.
    let (code, out, err) = token(&stack, &stack.gateway_url, &["--gateway-ca", ca]);
    assert_ne!(code, 0, "{out}\n{err}");
    assert!(!out.contains(&stack.world.agent_identity_app_id), "{out}");
    // An untrusted server (no CA given, the system roots do not know it).
    let (code, out, err) = token(
        &stack,
        &stack.gateway_url,
        &["--client-cert", cert, "--client-key", key],
    );
    assert_ne!(code, 0, "{out}\n{err}");
    // Plaintext to the TLS port.
    let plain = stack.gateway_url.replace("https://", "http://");
    let (code, out, err) = token(&stack, &plain, &[]);
    assert_ne!(code, 0, "{out}\n{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_reaches_an_mtls_gateway() {
    let (_dir, pki, stack) = mtls_stack();
    let command_line = stack.sandbox_command();
    let mut args: Vec<&str> = command_line.iter().map(String::as_str).collect();
    args.extend(pki.client_args());
    let sandbox = support::Proc::start("sandbox", &args, &[]);
    let url = sandbox.ready["urls"]["agent"]["token_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = Stack::http()
        .get(&url)
        .query(&[("scope", GRAPH_DEFAULT)])
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
}
