//! Keys and certificates for tests. RSA keys are slow to generate, so each test binary makes a
//! handful once and shares them; EC keys are cheap and made per call.

use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256, SanType,
};
use time::{Duration, OffsetDateTime};

/// One RSA key for the whole test binary.
pub fn rsa_key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(new_rsa_key)
}

/// A second, unrelated RSA key, for mismatches.
pub fn other_rsa_key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(new_rsa_key)
}

/// A fresh RSA-2048 key (slow: prefer [`rsa_key`] unless the test needs a distinct key).
pub fn new_rsa_key() -> KeyPair {
    KeyPair::generate_for(&PKCS_RSA_SHA256).expect("RSA key generation")
}

/// A self-signed certificate PEM for `key`, valid from `now + from` to `now + until`.
pub fn self_signed(key: &KeyPair, from: Duration, until: Duration) -> String {
    let mut params = CertificateParams::new(vec!["blueprint.test".to_owned()]).unwrap();
    let now = OffsetDateTime::now_utc();
    params.not_before = now + from;
    params.not_after = now + until;
    params.self_signed(key).unwrap().pem()
}

/// A self-signed certificate PEM valid from yesterday for a year.
pub fn valid_self_signed(key: &KeyPair) -> String {
    self_signed(key, Duration::days(-1), Duration::days(365))
}

/// The `RSA PRIVATE KEY` (PKCS#1) PEM of an RSA key pair (rcgen serialises PKCS#8).
pub fn pkcs1_pem(key: &KeyPair) -> String {
    pem::encode(&pem::Pem::new(
        "RSA PRIVATE KEY",
        pkcs8_to_pkcs1(&key.serialize_der()),
    ))
}

/// The RSAPrivateKey (PKCS#1) inside a PKCS#8 PrivateKeyInfo.
fn pkcs8_to_pkcs1(pkcs8: &[u8]) -> Vec<u8> {
    use der::asn1::{AnyRef, OctetStringRef};
    use der::{Decode, Reader, SliceReader};
    let mut reader = SliceReader::new(pkcs8).unwrap();
    reader
        .sequence(|r| {
            let _version = u8::decode(r)?;
            let _algorithm = AnyRef::decode(r)?;
            let key = OctetStringRef::decode(r)?;
            Ok(key.as_bytes().to_vec())
        })
        .unwrap()
}

/// A certificate and its private key, both PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A test CA that issues TLS server and client certificates (EC keys: fast).
pub struct TestCa {
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `names` (DNS names or IP literals such as `127.0.0.1`).
    pub fn server(&self, names: &[&str]) -> Issued {
        let names = names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    /// A client certificate, with `uri_san` (e.g. a SPIFFE ID) when given.
    pub fn client(&self, uri_san: Option<&str>) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        if let Some(uri) = uri_san {
            params
                .subject_alt_names
                .push(SanType::URI(uri.try_into().unwrap()));
        }
        self.issue(params)
    }

    fn issue(&self, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// A self-signed certificate PEM for `key`, valid from a day before `not_after` minus a year until
/// exactly `not_after`: for tests that compare against a known expiry.
pub fn self_signed_until(key: &KeyPair, not_after: OffsetDateTime) -> String {
    let mut params = CertificateParams::new(vec!["blueprint.test".to_owned()]).unwrap();
    params.not_before = OffsetDateTime::now_utc().min(not_after) - Duration::days(366);
    params.not_after = not_after;
    params.self_signed(key).unwrap().pem()
}

/// The DER of the first certificate in `cert_pem`.
pub fn certificate_der(cert_pem: &str) -> Vec<u8> {
    pem::parse_many(cert_pem)
        .expect("PEM")
        .into_iter()
        .find(|b| b.tag() == "CERTIFICATE")
        .expect("a CERTIFICATE block")
        .into_contents()
}
