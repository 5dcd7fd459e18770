//! https with the generated CA, as Microsoft's clients require.

use crate::support::*;

#[tokio::test]
async fn https_with_the_generated_ca_serves_the_whole_chain() {
    let server = Server::tls().await;
    assert!(server.url.starts_with("https://localhost:"));
    server.user_token(&server.chain()).await.assert_ok();
}

#[tokio::test]
async fn client_that_does_not_trust_the_ca_is_refused() {
    let server = Server::tls().await;
    let untrusting = reqwest::Client::builder()
        .tls_certs_only(Vec::<reqwest::Certificate>::new())
        .build()
        .unwrap();
    let result = untrusting
        .get(format!("{}/_emulator/stats", server.url))
        .send()
        .await;
    assert!(result.is_err(), "an untrusted CA must fail the handshake");
}

#[tokio::test]
async fn tls_identity_loads_from_pem() {
    let now = std::time::SystemTime::now();
    let cert = agentmint_emulator::pki::generate_client_certificate(
        "localhost",
        now,
        now + std::time::Duration::from_secs(60),
    )
    .unwrap();
    let identity =
        agentmint_emulator::TlsIdentity::from_pem(&cert.cert_pem, &cert.key_pem).unwrap();
    assert!(format!("{identity:?}").contains("[redacted]"));
    assert!(agentmint_emulator::TlsIdentity::from_pem("", &cert.key_pem).is_err());
}
