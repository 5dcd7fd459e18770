//! The one reader of key and certificate PEM files, shared by `config check` and the gateway's
//! credential loader so that both accept and refuse the same file for the same reason.
//!
//! Key and certificate files come from many tools: a combined file may hold the certificate first,
//! a chain may follow the leaf, `openssl pkcs12` writes "Bag Attributes" text between blocks. So a
//! file is split into its blocks and the private key is chosen by its label, never by position.
//!
//! Only structure is inspected: the kind of key, the RSA modulus that ties a key to its certificate,
//! and each certificate's validity and SHA-256. Errors describe structure only, never contents; the
//! key block itself is handed out only to the code that signs with it.

use std::fmt;

use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::asn1::{OctetStringRef, UintRef};
use x509_cert::der::{DateTime, Decode, Reader, SliceReader};
use x509_cert::spki::{AlgorithmIdentifierRef, ObjectIdentifier};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// The PEM blocks of one file.
pub struct PemFile {
    blocks: Vec<::pem::Pem>,
}

/// The kind of a private key, as far as assertion signing cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// An RSA key and its modulus (public, also in the certificate), to match the two.
    Rsa { modulus: Vec<u8> },
    /// Anything else: PS256 and RS256 cannot use it. `algorithm` names it for messages ("EC").
    NotRsa { algorithm: &'static str },
}

/// The one private key of a file.
pub struct PrivateKey {
    /// What kind of key it is.
    pub kind: KeyKind,
    /// The key block alone, re-encoded as PEM (`PRIVATE KEY` or `RSA PRIVATE KEY`), for a signer.
    pem: String,
}

/// Why a file holds no usable private key. Messages describe structure only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("holds no private key")]
    NoKey,
    #[error("holds {0} private keys; keep exactly one")]
    SeveralKeys(usize),
    #[error("holds an encrypted private key, which the gateway cannot use")]
    Encrypted,
    #[error("holds a private key block that is not valid DER")]
    Malformed,
}

/// What the gateway needs to know about one certificate (all of it public).
#[derive(Debug, Clone)]
pub struct CertificateInfo {
    /// The certificate's DER (for thumbprints).
    pub der: Vec<u8>,
    pub not_before: DateTime,
    pub not_after: DateTime,
    /// SHA-256 of the DER: the `x5t#S256` thumbprint.
    pub sha256: [u8; 32],
    /// The RSA modulus of its public key, when it is an RSA key.
    pub rsa_modulus: Option<Vec<u8>>,
}

/// Why a file holds no usable certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("holds no certificate")]
    NoCertificate,
    #[error("holds a certificate that cannot be parsed as X.509")]
    Malformed,
}

impl PemFile {
    /// The blocks of `bytes`; `None` when it holds no PEM block at all.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let blocks = ::pem::parse_many(bytes).ok().filter(|b| !b.is_empty())?;
        Some(Self { blocks })
    }

    /// The one private key of the file (a combined file may also hold certificates). Any block
    /// labelled `... PRIVATE KEY` counts, so a second key of another kind is not silently ignored.
    pub fn private_key(&self) -> Result<PrivateKey, KeyError> {
        let keys: Vec<&::pem::Pem> = self
            .blocks
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
        let kind = match key.tag() {
            "ENCRYPTED PRIVATE KEY" => return Err(KeyError::Encrypted),
            _ if legacy_encrypted => return Err(KeyError::Encrypted),
            "PRIVATE KEY" => pkcs8_kind(key.contents()).ok_or(KeyError::Malformed)?,
            "RSA PRIVATE KEY" => pkcs1_modulus(key.contents())
                .map(|modulus| KeyKind::Rsa { modulus })
                .ok_or(KeyError::Malformed)?,
            "EC PRIVATE KEY" => KeyKind::NotRsa { algorithm: "EC" },
            _ => KeyKind::NotRsa {
                algorithm: "non-RSA",
            },
        };
        let alone = ::pem::Pem::new(key.tag(), key.contents());
        Ok(PrivateKey {
            kind,
            pem: ::pem::encode(&alone),
        })
    }

    /// Every certificate of the file, in file order (in a chain, the leaf is first).
    pub fn certificates(&self) -> Result<Vec<CertificateInfo>, CertificateError> {
        let certs: Vec<CertificateInfo> = self
            .blocks
            .iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(|b| certificate(b.contents()))
            .collect::<Result<_, _>>()?;
        if certs.is_empty() {
            return Err(CertificateError::NoCertificate);
        }
        Ok(certs)
    }
}

impl fmt::Debug for PemFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tags: Vec<&str> = self.blocks.iter().map(|b| b.tag()).collect();
        f.debug_struct("PemFile").field("blocks", &tags).finish()
    }
}

impl PrivateKey {
    /// The key block alone as PEM text, for the signer that needs it. Never log it.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// True when `cert` holds this key's public half (RSA moduli compared).
    pub fn belongs_to(&self, cert: &CertificateInfo) -> bool {
        match &self.kind {
            KeyKind::Rsa { modulus } => cert.rsa_modulus.as_deref() == Some(modulus.as_slice()),
            KeyKind::NotRsa { .. } => false,
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            KeyKind::Rsa { .. } => "RSA",
            KeyKind::NotRsa { algorithm } => algorithm,
        };
        f.debug_struct("PrivateKey")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

fn certificate(der: &[u8]) -> Result<CertificateInfo, CertificateError> {
    let cert = Certificate::from_der(der).map_err(|_| CertificateError::Malformed)?;
    let validity = &cert.tbs_certificate.validity;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let rsa_modulus = if is_rsa(spki.algorithm.oid) {
        rsa_public_modulus(spki.subject_public_key.raw_bytes())
    } else {
        None
    };
    Ok(CertificateInfo {
        der: der.to_vec(),
        not_before: validity.not_before.to_date_time(),
        not_after: validity.not_after.to_date_time(),
        sha256: Sha256::digest(der).into(),
        rsa_modulus,
    })
}

fn is_rsa(oid: ObjectIdentifier) -> bool {
    oid == RSA_ENCRYPTION || oid == RSASSA_PSS
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
    if is_rsa(oid) {
        return pkcs1_modulus(inner).map(|modulus| KeyKind::Rsa { modulus });
    }
    let algorithm = match oid {
        EC_PUBLIC_KEY => "EC",
        ED25519 => "Ed25519",
        _ => "non-RSA",
    };
    Some(KeyKind::NotRsa { algorithm })
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

#[cfg(test)]
mod tests;
