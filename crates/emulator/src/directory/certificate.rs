//! A certificate registered on an app: how a client assertion names it (thumbprints), the key
//! that verifies it, and the validity window Entra enforces on the key credential.

use std::time::SystemTime;

use jsonwebtoken::DecodingKey;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::spki::ObjectIdentifier;

/// `rsaEncryption`: the only key type Entra accepts for RS256/PS256 client assertions.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// A parsed, registered certificate.
#[derive(Clone)]
pub(crate) struct RegisteredCertificate {
    pub(crate) sha256: [u8; 32],
    pub(crate) sha1: [u8; 20],
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
    pub(crate) key: DecodingKey,
}

impl RegisteredCertificate {
    /// Parses one PEM certificate; the error says what is wrong with it.
    pub(crate) fn from_pem(text: &str) -> Result<Self, String> {
        let block = pem::parse(text.trim()).map_err(|e| format!("not PEM: {e}"))?;
        if block.tag() != "CERTIFICATE" {
            return Err(format!(
                "expected a CERTIFICATE block, found {}",
                block.tag()
            ));
        }
        let der = block.contents();
        let cert = Certificate::from_der(der).map_err(|e| format!("not X.509: {e}"))?;
        let tbs = &cert.tbs_certificate;
        let spki = &tbs.subject_public_key_info;
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(format!(
                "only RSA certificates are supported, found key algorithm {}",
                spki.algorithm.oid
            ));
        }
        // The BIT STRING of an RSA SPKI is the PKCS#1 RSAPublicKey the verifier expects.
        let public_key = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| "public key is not a whole number of bytes".to_string())?;
        Ok(Self {
            sha256: Sha256::digest(der).into(),
            sha1: Sha1::digest(der).into(),
            not_before: tbs.validity.not_before.to_system_time(),
            not_after: tbs.validity.not_after.to_system_time(),
            key: DecodingKey::from_rsa_der(public_key),
        })
    }

    /// Whether the key credential is usable at `now` (Entra rejects expired key credentials).
    pub(crate) fn is_valid_at(&self, now: SystemTime) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}
