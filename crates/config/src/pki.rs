//! What a key or certificate PEM file holds, checked at load so that a wrong file fails
//! `config check` with its path instead of failing the first mint with an AADSTS code.
//!
//! Only structure is inspected: the kind of key, whether it belongs to the certificate (RSA moduli
//! compared), and the certificate's validity period. Nothing read here is kept beyond the SHA-256 of
//! the certificate, which is public (it is the assertion's `x5t#S256`).

use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::asn1::{OctetStringRef, UintRef};
use x509_cert::der::{DateTime, Decode, Reader, SliceReader};
use x509_cert::spki::{AlgorithmIdentifierRef, ObjectIdentifier};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

/// The kind of a private key, as far as assertion signing cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// An RSA key and its modulus (public, also in the certificate), to match the two.
    Rsa { modulus: Vec<u8> },
    /// Anything else (EC, Ed25519, ...): PS256 and RS256 cannot use it.
    NotRsa,
}

/// Why a key file is unusable. Messages describe structure only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyError {
    #[error("holds no private key")]
    NoKey,
    #[error("holds {0} private keys; keep exactly one")]
    SeveralKeys(usize),
    #[error("holds an encrypted private key, which the gateway cannot use")]
    Encrypted,
    #[error("holds a private key block that is not valid DER")]
    Malformed,
}

/// What the gateway needs to know about one certificate.
#[derive(Debug, Clone)]
pub(crate) struct CertificateInfo {
    pub not_before: DateTime,
    pub not_after: DateTime,
    /// SHA-256 of the DER: the `x5t#S256` thumbprint.
    pub sha256: [u8; 32],
    /// The RSA modulus of its public key, when it is an RSA key.
    pub rsa_modulus: Option<Vec<u8>>,
}

/// Why a certificate file is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CertificateError {
    #[error("holds no certificate")]
    NoCertificate,
    #[error("holds a certificate that cannot be parsed as X.509")]
    Malformed,
}

/// The PEM blocks of a file; `None` if it is not PEM at all.
pub(crate) fn blocks(bytes: &[u8]) -> Option<Vec<pem::Pem>> {
    pem::parse_many(bytes).ok().filter(|b| !b.is_empty())
}

/// The one private key among `blocks` (a combined file may also hold certificates).
pub(crate) fn private_key(blocks: &[pem::Pem]) -> Result<KeyKind, KeyError> {
    let keys: Vec<&pem::Pem> = blocks
        .iter()
        .filter(|b| b.tag().ends_with("PRIVATE KEY"))
        .collect();
    let key = match keys.as_slice() {
        [] => return Err(KeyError::NoKey),
        [key] => *key,
        several => return Err(KeyError::SeveralKeys(several.len())),
    };
    let legacy_encrypted = key
        .headers()
        .get("Proc-Type")
        .is_some_and(|v| v.contains("ENCRYPTED"));
    match key.tag() {
        "ENCRYPTED PRIVATE KEY" => Err(KeyError::Encrypted),
        _ if legacy_encrypted => Err(KeyError::Encrypted),
        "PRIVATE KEY" => pkcs8_kind(key.contents()).ok_or(KeyError::Malformed),
        "RSA PRIVATE KEY" => pkcs1_modulus(key.contents())
            .map(|modulus| KeyKind::Rsa { modulus })
            .ok_or(KeyError::Malformed),
        _ => Ok(KeyKind::NotRsa),
    }
}

/// Every certificate among `blocks`, in file order (the first is the leaf).
pub(crate) fn certificates(blocks: &[pem::Pem]) -> Result<Vec<CertificateInfo>, CertificateError> {
    let certs: Vec<CertificateInfo> = blocks
        .iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(|b| certificate(b.contents()))
        .collect::<Result<_, _>>()?;
    if certs.is_empty() {
        return Err(CertificateError::NoCertificate);
    }
    Ok(certs)
}

fn certificate(der: &[u8]) -> Result<CertificateInfo, CertificateError> {
    let cert = Certificate::from_der(der).map_err(|_| CertificateError::Malformed)?;
    let validity = &cert.tbs_certificate.validity;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let rsa_modulus = if spki.algorithm.oid == RSA_ENCRYPTION || spki.algorithm.oid == RSASSA_PSS {
        rsa_public_modulus(spki.subject_public_key.raw_bytes())
    } else {
        None
    };
    Ok(CertificateInfo {
        not_before: validity.not_before.to_date_time(),
        not_after: validity.not_after.to_date_time(),
        sha256: Sha256::digest(der).into(),
        rsa_modulus,
    })
}

/// PKCS#8 `PrivateKeyInfo`: version, algorithm, then the key (PKCS#1 for RSA) in an OCTET STRING.
fn pkcs8_kind(der: &[u8]) -> Option<KeyKind> {
    let mut reader = SliceReader::new(der).ok()?;
    let (oid, inner) = reader
        .sequence(|r| {
            let _version: u8 = r.decode()?;
            let algorithm: AlgorithmIdentifierRef<'_> = r.decode()?;
            let key: OctetStringRef<'_> = r.decode()?;
            // Optional attributes and public key: not needed.
            r.read_slice(r.remaining_len())?;
            Ok((algorithm.oid, key.as_bytes()))
        })
        .ok()?;
    if oid == RSA_ENCRYPTION || oid == RSASSA_PSS {
        pkcs1_modulus(inner).map(|modulus| KeyKind::Rsa { modulus })
    } else {
        Some(KeyKind::NotRsa)
    }
}

/// PKCS#1 `RSAPrivateKey`: version, then the modulus.
fn pkcs1_modulus(der: &[u8]) -> Option<Vec<u8>> {
    let mut reader = SliceReader::new(der).ok()?;
    reader
        .sequence(|r| {
            let _version: u8 = r.decode()?;
            let modulus: UintRef<'_> = r.decode()?;
            r.read_slice(r.remaining_len())?;
            Ok(modulus.as_bytes().to_vec())
        })
        .ok()
}

/// PKCS#1 `RSAPublicKey`: the modulus, then the exponent.
fn rsa_public_modulus(der: &[u8]) -> Option<Vec<u8>> {
    let mut reader = SliceReader::new(der).ok()?;
    reader
        .sequence(|r| {
            let modulus: UintRef<'_> = r.decode()?;
            let _exponent: UintRef<'_> = r.decode()?;
            Ok(modulus.as_bytes().to_vec())
        })
        .ok()
}
