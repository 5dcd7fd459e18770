//! Certificate credentials: an RSA key and its X.509 certificate, proving an app with a signed JWT
//! client assertion (the production default for Blueprints).
//!
//! Loading checks everything that can be checked without Entra: the files are PEM, the key is an
//! unencrypted RSA key, a certificate matches that key (so AADSTS700027 "wrong certificate" is
//! caught at startup), and the thumbprints are computed once. The files are read by
//! `agentmint_base::pem`, the same reader `config check` uses, so both judge a file alike.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use agentmint_base::Fingerprint;
use agentmint_base::clock::{self, SharedClock};
use agentmint_base::pem::{CertificateError, KeyError, KeyKind, PemFile};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use sha1::{Digest, Sha1};

use super::CredentialError;
use super::assertion::AssertionMemo;

/// How long before `notAfter` a certificate starts producing warnings.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 24 * 3600);

/// The JWS algorithm of client assertions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// RSASSA-PSS with SHA-256 and an `x5t#S256` header: what current MSAL sends.
    #[default]
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a SHA-1 `x5t` header: the legacy form.
    Rs256,
}

impl SigningAlgorithm {
    pub(crate) fn jws(self) -> Algorithm {
        match self {
            SigningAlgorithm::Ps256 => Algorithm::PS256,
            SigningAlgorithm::Rs256 => Algorithm::RS256,
        }
    }
}

/// Where a certificate stands relative to its `notAfter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryStatus {
    Valid,
    /// Within [`EXPIRY_WARNING`] of `notAfter`: still usable, but an operator must rotate it.
    ExpiringSoon {
        remaining: Duration,
    },
    Expired,
}

/// Classifies `not_after` as seen at `now`.
pub fn expiry_status(not_after: SystemTime, now: SystemTime) -> ExpiryStatus {
    match not_after.duration_since(now) {
        Err(_) => ExpiryStatus::Expired,
        Ok(remaining) if remaining.is_zero() => ExpiryStatus::Expired,
        Ok(remaining) if remaining <= EXPIRY_WARNING => ExpiryStatus::ExpiringSoon { remaining },
        Ok(_) => ExpiryStatus::Valid,
    }
}

/// An RSA private key and the certificate registered for it on the app.
pub struct CertificateCredential {
    pub(crate) key: EncodingKey,
    pub(crate) algorithm: SigningAlgorithm,
    pub(crate) thumbprint_sha256: String,
    pub(crate) thumbprint_sha1: String,
    /// The certificate's SHA-256 (its `x5t#S256`) as a typed digest, for cache keys.
    fingerprint: Fingerprint,
    not_after: SystemTime,
    pub(crate) clock: SharedClock,
    pub(crate) memo: Mutex<AssertionMemo>,
}

impl CertificateCredential {
    /// Loads the key from `key` and the certificate from `cert`, or both from `key` when `cert` is
    /// `None` (a combined file, in either order).
    pub fn from_files(
        key: &Path,
        cert: Option<&Path>,
        algorithm: SigningAlgorithm,
    ) -> Result<Self, CredentialError> {
        let key_bytes = read(key)?;
        match cert {
            Some(cert) => {
                let cert_bytes = read(cert)?;
                Self::build(&key_bytes, key, &cert_bytes, cert, algorithm)
            }
            None => Self::build(&key_bytes, key, &key_bytes, key, algorithm),
        }
    }

    /// Builds a credential from PEM text already in memory (the emulator, tests).
    pub fn from_pem(
        key_pem: &[u8],
        cert_pem: &[u8],
        algorithm: SigningAlgorithm,
    ) -> Result<Self, CredentialError> {
        Self::build(
            key_pem,
            Path::new("<key PEM>"),
            cert_pem,
            Path::new("<certificate PEM>"),
            algorithm,
        )
    }

    fn build(
        key_pem: &[u8],
        key_path: &Path,
        cert_pem: &[u8],
        cert_path: &Path,
        algorithm: SigningAlgorithm,
    ) -> Result<Self, CredentialError> {
        let key_file = parse(key_pem, key_path)?;
        let private = key_file.private_key().map_err(|e| key_error(e, key_path))?;
        if let KeyKind::NotRsa { algorithm } = private.kind {
            return Err(CredentialError::UnsupportedKey {
                path: key_path.to_owned(),
                kind: algorithm,
            });
        }
        let bad_key = || CredentialError::BadKey {
            path: key_path.to_owned(),
        };
        let key = EncodingKey::from_rsa_pem(private.pem().as_bytes()).map_err(|_| bad_key())?;
        jsonwebtoken::crypto::sign(b"agentmint key check", &key, algorithm.jws())
            .map_err(|_| bad_key())?;

        let certificates = parse(cert_pem, cert_path)?
            .certificates()
            .map_err(|e| match e {
                CertificateError::NoCertificate => CredentialError::NoCertificate {
                    path: cert_path.to_owned(),
                },
                CertificateError::Malformed => CredentialError::BadCertificate {
                    path: cert_path.to_owned(),
                },
            })?;
        // In a chain or a combined file the leaf is not always first: take the key's own.
        let cert = certificates
            .iter()
            .find(|c| private.belongs_to(c))
            .ok_or_else(|| CredentialError::KeyMismatch {
                key: key_path.to_owned(),
                cert: cert_path.to_owned(),
            })?;
        Ok(Self {
            key,
            algorithm,
            thumbprint_sha256: URL_SAFE_NO_PAD.encode(cert.sha256),
            thumbprint_sha1: URL_SAFE_NO_PAD.encode(Sha1::digest(&cert.der)),
            fingerprint: Fingerprint::from_digest(cert.sha256),
            not_after: cert.not_after.to_system_time(),
            clock: clock::system(),
            memo: Mutex::new(AssertionMemo::default()),
        })
    }

    /// Replaces the clock used for assertion times, reuse and expiry checks.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The certificate's `notAfter`.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// The base64url (unpadded) SHA-256 thumbprint of the certificate's DER: the `x5t#S256` header
    /// and the non-secret fingerprint that tells credentials apart in cache keys.
    pub fn thumbprint_sha256(&self) -> String {
        self.thumbprint_sha256.clone()
    }

    /// The certificate's SHA-256 thumbprint as a digest that prints truncated.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// Where the certificate stands now.
    pub fn expiry_status(&self) -> ExpiryStatus {
        expiry_status(self.not_after, self.clock.wall())
    }
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("thumbprint_sha256", &self.thumbprint_sha256)
            .field("algorithm", &self.algorithm)
            .field("not_after", &display_time(self.not_after))
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CredentialError> {
    std::fs::read(path).map_err(|e| CredentialError::Read {
        path: PathBuf::from(path),
        kind: e.kind(),
    })
}

/// The PEM blocks of `bytes` (the file at `path`).
fn parse(bytes: &[u8], path: &Path) -> Result<PemFile, CredentialError> {
    PemFile::parse(bytes).ok_or_else(|| CredentialError::NotPem {
        path: path.to_owned(),
    })
}

/// The credential error for a key file the PEM reader refused.
fn key_error(err: KeyError, path: &Path) -> CredentialError {
    let path = path.to_owned();
    match err {
        KeyError::NoKey => CredentialError::NoPrivateKey { path },
        KeyError::SeveralKeys(_) => CredentialError::ManyKeys { path },
        KeyError::Encrypted => CredentialError::EncryptedKey { path },
        KeyError::Malformed => CredentialError::BadKey { path },
    }
}

/// Formats a time for messages (RFC 7231 date; never panics on pre-epoch times).
pub(crate) fn display_time(t: SystemTime) -> String {
    if t < SystemTime::UNIX_EPOCH {
        return "before 1970".to_owned();
    }
    httpdate::fmt_http_date(t)
}
