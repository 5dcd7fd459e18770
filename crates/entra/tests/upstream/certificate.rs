//! Certificate credentials: PEM layouts, the signed assertion, its reuse, and expiry.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use agentmint_base::ManualClock;
use agentmint_entra::credential::{ASSERTION_LIFETIME, ExpiryStatus};
use agentmint_entra::{CertificateCredential, CredentialError, SigningAlgorithm};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use der::Decode;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};

use crate::support::*;

const AUD: &str =
    "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token";

/// The wall time the assertion tests start at, in Unix seconds.
const START_SECS: u64 = 1_800_000_000;

fn start_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(START_SECS)
}

/// A certificate credential on a manual clock that starts at [`start_time`].
fn at_start() -> (CertificateCredential, Arc<ManualClock>) {
    with_clock(start_time())
}

fn with_clock(at: SystemTime) -> (CertificateCredential, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::starting_at(at));
    let cred = certificate_credential(SigningAlgorithm::Ps256).with_clock(clock.clone());
    (cred, clock)
}

fn public_key() -> DecodingKey {
    let cert = x509_cert::Certificate::from_der(&cert().cert_der).unwrap();
    DecodingKey::from_rsa_der(
        cert.tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    )
}

fn claims(assertion: &str) -> serde_json::Value {
    serde_json::Value::Object(agentmint_entra::claims::decode_payload(assertion).unwrap())
}

#[test]
fn a_combined_pem_with_the_certificate_first_loads() {
    let c = cert();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("combined.pem");
    std::fs::write(
        &path,
        format!("Bag Attributes\n{}{}", c.cert_pem, c.key_pkcs8_pem),
    )
    .unwrap();
    let cred = CertificateCredential::from_files(&path, None, SigningAlgorithm::Ps256).unwrap();
    assert_eq!(
        cred.thumbprint_sha256(),
        URL_SAFE_NO_PAD.encode(Sha256::digest(&c.cert_der))
    );
}

#[test]
fn pkcs1_and_pkcs8_keys_both_load() {
    let c = cert();
    let dir = tempfile::tempdir().unwrap();
    let (key1, key8, crt) = (
        dir.path().join("k1.pem"),
        dir.path().join("k8.pem"),
        dir.path().join("c.pem"),
    );
    std::fs::write(&key1, &c.key_pkcs1_pem).unwrap();
    std::fs::write(&key8, &c.key_pkcs8_pem).unwrap();
    std::fs::write(&crt, &c.cert_pem).unwrap();
    assert!(
        c.key_pkcs1_pem
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
    );
    for key in [&key1, &key8] {
        let cred =
            CertificateCredential::from_files(key, Some(&crt), SigningAlgorithm::Ps256).unwrap();
        let a = cred.assertion(AUD, BLUEPRINT).unwrap();
        let mut v = Validation::new(Algorithm::PS256);
        v.set_audience(&[AUD]);
        jsonwebtoken::decode::<serde_json::Value>(a.expose(), &public_key(), &v).unwrap();
    }
}

#[test]
fn the_matching_certificate_is_found_after_an_unrelated_one() {
    let c = cert();
    let chain = format!("{}{}", other_cert().cert_pem, c.cert_pem);
    let cred = CertificateCredential::from_pem(
        c.key_pkcs8_pem.as_bytes(),
        chain.as_bytes(),
        SigningAlgorithm::Ps256,
    )
    .unwrap();
    assert_eq!(
        cred.thumbprint_sha256(),
        URL_SAFE_NO_PAD.encode(Sha256::digest(&c.cert_der))
    );
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let err = CertificateCredential::from_pem(
        other_cert().key_pkcs8_pem.as_bytes(),
        cert().cert_pem.as_bytes(),
        SigningAlgorithm::Ps256,
    )
    .unwrap_err();
    assert!(matches!(err, CredentialError::KeyMismatch { .. }), "{err}");
}

#[test]
fn a_missing_file_names_its_path() {
    let err = CertificateCredential::from_files(
        std::path::Path::new("/nonexistent/blueprint.pem"),
        None,
        SigningAlgorithm::Ps256,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("/nonexistent/blueprint.pem"), "{err}");
}

#[test]
fn the_ps256_assertion_verifies_with_the_certificates_public_key() {
    let a = certificate_credential(SigningAlgorithm::Ps256)
        .assertion(AUD, BLUEPRINT)
        .unwrap();
    let mut v = Validation::new(Algorithm::PS256);
    v.set_audience(&[AUD]);
    v.set_issuer(&[BLUEPRINT]);
    v.sub = Some(BLUEPRINT.to_owned());
    v.validate_nbf = true;
    jsonwebtoken::decode::<serde_json::Value>(a.expose(), &public_key(), &v).unwrap();

    let header = jsonwebtoken::decode_header(a.expose()).unwrap();
    assert_eq!(header.alg, Algorithm::PS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(
        header.x5t_s256,
        Some(URL_SAFE_NO_PAD.encode(Sha256::digest(&cert().cert_der)))
    );
    assert_eq!(header.x5t, None);
}

#[test]
fn the_legacy_rs256_assertion_carries_a_sha1_x5t() {
    use sha1::Sha1;
    let a = certificate_credential(SigningAlgorithm::Rs256)
        .assertion(AUD, BLUEPRINT)
        .unwrap();
    let header = jsonwebtoken::decode_header(a.expose()).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(
        header.x5t,
        Some(URL_SAFE_NO_PAD.encode(Sha1::digest(&cert().cert_der)))
    );
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[AUD]);
    jsonwebtoken::decode::<serde_json::Value>(a.expose(), &public_key(), &v).unwrap();
}

#[test]
fn the_assertion_claims_are_aud_iss_sub_jti_and_a_ten_minute_window() {
    let (cred, _) = at_start();
    let c = claims(cred.assertion(AUD, BLUEPRINT).unwrap().expose());
    assert_eq!(c["aud"], AUD);
    assert_eq!(c["iss"], BLUEPRINT);
    assert_eq!(c["sub"], BLUEPRINT);
    assert!(uuid::Uuid::parse_str(c["jti"].as_str().unwrap()).is_ok());
    assert_eq!(c["nbf"], START_SECS);
    assert_eq!(c["iat"], START_SECS);
    assert_eq!(c["exp"], START_SECS + 600);
}

#[test]
fn an_assertion_is_reused_until_a_minute_before_it_expires() {
    let (cred, clock) = at_start();
    let first = cred.assertion(AUD, BLUEPRINT).unwrap();
    clock.advance(ASSERTION_LIFETIME - Duration::from_secs(61));
    assert_eq!(cred.assertion(AUD, BLUEPRINT).unwrap(), first);
    clock.advance(Duration::from_secs(1));
    let second = cred.assertion(AUD, BLUEPRINT).unwrap();
    assert_ne!(second, first);
    assert_eq!(claims(second.expose())["iat"], START_SECS + 540);
}

#[test]
fn each_audience_and_client_id_gets_its_own_assertion() {
    let (cred, _) = at_start();
    let a = cred.assertion(AUD, BLUEPRINT).unwrap();
    let b = cred.assertion(AUD, APP_ID).unwrap();
    let c = cred
        .assertion("https://login.example/t/oauth2/v2.0/token", BLUEPRINT)
        .unwrap();
    assert_ne!(a, b);
    assert_ne!(a, c);
    assert_eq!(claims(b.expose())["iss"], APP_ID);
}

#[test]
fn a_clock_that_jumps_back_gets_a_fresh_assertion() {
    let (cred, clock) = at_start();
    let first = cred.assertion(AUD, BLUEPRINT).unwrap();
    clock.set_wall(start_time() - Duration::from_secs(3600));
    let second = cred.assertion(AUD, BLUEPRINT).unwrap();
    assert_ne!(first, second);
    assert_eq!(claims(second.expose())["nbf"], START_SECS - 3600);
}

#[test]
fn an_expired_certificate_is_a_credential_error_naming_its_thumbprint() {
    let (cred, _) = with_clock(cert_not_after() + Duration::from_secs(1));
    assert_eq!(cred.expiry_status(), ExpiryStatus::Expired);
    let err = cred.assertion(AUD, BLUEPRINT).unwrap_err();
    assert!(matches!(err, CredentialError::Expired { .. }));
    assert!(err.to_string().contains(&cred.thumbprint_sha256()), "{err}");
}

#[test]
fn a_certificate_within_thirty_days_of_expiry_still_signs_but_reports_it() {
    let (cred, _) = with_clock(cert_not_after() - Duration::from_secs(10 * 86_400));
    assert_eq!(
        cred.expiry_status(),
        ExpiryStatus::ExpiringSoon {
            remaining: Duration::from_secs(10 * 86_400)
        }
    );
    assert!(cred.assertion(AUD, BLUEPRINT).is_ok());
    let (cred, _) = with_clock(cert_not_after() - Duration::from_secs(31 * 86_400));
    assert_eq!(cred.expiry_status(), ExpiryStatus::Valid);
    assert_eq!(cred.not_after(), cert_not_after());
}
