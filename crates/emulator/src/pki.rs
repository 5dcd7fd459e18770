//! Throwaway PKI for the emulator: a CA and server certificate for https (Microsoft's clients
//! refuse plain http for an authority), and RSA client certificates that app registrations and
//! Blueprints register and sign their client assertions with.

use std::fmt;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};

/// How long generated CA and server certificates are valid (they live for one run).
const SERVER_VALIDITY: Duration = Duration::from_secs(30 * 24 * 3600);
/// Back-dating, so a client whose clock is slightly behind still accepts them.
const BACKDATE: Duration = Duration::from_secs(3600);

/// Why certificates could not be generated or loaded.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("invalid PEM: {0}")]
    Pem(String),
    #[error("not_before must not be after not_after")]
    Validity,
}

/// A server certificate chain and its private key, for serving https.
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl TlsIdentity {
    /// Loads a chain (leaf first) and a private key (PKCS#8, PKCS#1 or SEC1) from PEM text.
    pub fn from_pem(cert_chain_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let chain: Vec<CertificateDer<'static>> = pem::parse_many(cert_chain_pem)
            .map_err(|e| PkiError::Pem(e.to_string()))?
            .into_iter()
            .filter(|block| block.tag() == "CERTIFICATE")
            .map(|block| CertificateDer::from(block.into_contents()))
            .collect();
        if chain.is_empty() {
            return Err(PkiError::Pem("no CERTIFICATE block".into()));
        }
        let key = pem::parse_many(key_pem)
            .map_err(|e| PkiError::Pem(e.to_string()))?
            .into_iter()
            .find_map(|block| match block.tag() {
                "PRIVATE KEY" => Some(PrivatePkcs8KeyDer::from(block.into_contents()).into()),
                "RSA PRIVATE KEY" => Some(PrivatePkcs1KeyDer::from(block.into_contents()).into()),
                "EC PRIVATE KEY" => Some(PrivateSec1KeyDer::from(block.into_contents()).into()),
                _ => None,
            })
            .ok_or_else(|| PkiError::Pem("no private key block".into()))?;
        Ok(Self { chain, key })
    }

    /// A rustls server configuration (aws-lc-rs, TLS 1.2 and 1.3, HTTP/1.1).
    pub(crate) fn server_config(&self) -> Result<rustls::ServerConfig, rustls::Error> {
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl Clone for TlsIdentity {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("certificates", &self.chain.len())
            .field("key", &"[redacted]")
            .finish()
    }
}

/// A CA certificate in PEM, to be written to a file clients trust (`REQUESTS_CA_BUNDLE`,
/// `SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`). Public, so a plain string.
pub type CaCert = String;

/// A generated certificate and its private key, both PEM. `Debug` hides the key.
#[derive(Clone)]
pub struct GeneratedCert {
    pub cert_pem: String,
    /// PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    pub key_pem: String,
}

impl fmt::Debug for GeneratedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedCert")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"[redacted]")
            .finish()
    }
}

/// A fresh CA (ECDSA P-256) and a server certificate it signed for `hosts` (DNS names or IP
/// addresses, e.g. `["localhost", "127.0.0.1"]`).
pub fn generate_ca_and_server(hosts: &[&str]) -> Result<(CaCert, TlsIdentity), PkiError> {
    let now = SystemTime::now();
    let (not_before, not_after) = (now - BACKDATE, now + SERVER_VALIDITY);

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name = name("agentmint emulator CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = not_before.into();
    ca_params.not_after = not_after.into();
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let server_key = KeyPair::generate()?;
    let hosts: Vec<String> = hosts.iter().map(|h| (*h).to_string()).collect();
    let mut server_params = CertificateParams::new(hosts)?;
    server_params.distinguished_name = name("agentmint emulator");
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.use_authority_key_identifier_extension = true;
    server_params.not_before = not_before.into();
    server_params.not_after = not_after.into();
    let server_cert = server_params.signed_by(&server_key, &issuer)?;

    let identity = TlsIdentity {
        chain: vec![server_cert.der().clone()],
        key: PrivatePkcs8KeyDer::from(server_key.serialize_der()).into(),
    };
    Ok((ca_cert.pem(), identity))
}

/// A self-signed RSA 2048 certificate for `common_name`, valid from `not_before` to `not_after`
/// (both may be in the past, to test expired credentials). Entra accepts self-signed
/// certificates as app credentials.
pub fn generate_client_certificate(
    common_name: &str,
    not_before: SystemTime,
    not_after: SystemTime,
) -> Result<GeneratedCert, PkiError> {
    if not_before > not_after {
        return Err(PkiError::Validity);
    }
    let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = name(common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.not_before = not_before.into();
    params.not_after = not_after.into();
    let cert = params.self_signed(&key)?;
    Ok(GeneratedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}
