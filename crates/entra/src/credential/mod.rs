//! How a Blueprint (or a plain app registration) proves itself at the token endpoint.
//!
//! Four kinds, in the order PROTOCOL.md gives them: a certificate assertion (production default),
//! a managed-identity token used as a federated client assertion, a Kubernetes workload-identity
//! token file, and a client secret read from a file (development only). Every type here prints
//! only non-secret facts (thumbprint, endpoint, path) in `Debug`.

mod assertion;
mod certificate;
mod client_secret;
mod managed_identity;
mod workload;

use std::fmt;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::Arc;

use agentmint_base::Fingerprint;

pub use assertion::{ASSERTION_LIFETIME, ASSERTION_REUSE_MARGIN};
pub use certificate::{
    CertificateCredential, EXPIRY_WARNING, ExpiryStatus, SigningAlgorithm, expiry_status,
};
pub use client_secret::ClientSecretCredential;
pub use managed_identity::{
    APP_SERVICE_API_VERSION, IMDS_API_VERSION, IMDS_ENDPOINT, ManagedIdentityCredential,
    ManagedIdentityRequest, ManagedIdentitySource, UserAssignedIdentity,
};
pub use workload::{REREAD_AFTER, WorkloadIdentityCredential};

/// A credential, shared: the certificate's assertion memo and the workload token's copy live
/// inside and are reused by every chain that holds a clone.
#[derive(Clone)]
pub enum Credential {
    Certificate(Arc<CertificateCredential>),
    ManagedIdentity(Arc<ManagedIdentityCredential>),
    WorkloadIdentity(Arc<WorkloadIdentityCredential>),
    ClientSecret(Arc<ClientSecretCredential>),
}

/// What tells one credential from another in hop-1 cache keys and on reload: its kind and a
/// SHA-256 digest of its content (the certificate's `x5t#S256`, the secret, the managed identity's
/// endpoint and id, the token file's path). Prints the kind and a truncated digest only.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CredentialFingerprint {
    kind: &'static str,
    digest: Fingerprint,
}

impl CredentialFingerprint {
    /// A fingerprint of a credential of `kind` whose content digests to `digest`.
    pub fn new(kind: &'static str, digest: Fingerprint) -> Self {
        Self { kind, digest }
    }

    /// The credential kind (`certificate`, `client_secret`, ...).
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The digest.
    pub fn digest(&self) -> Fingerprint {
        self.digest
    }
}

impl fmt::Debug for CredentialFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.digest)
    }
}

impl fmt::Display for CredentialFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Credential {
    /// What tells this credential apart in hop-1 cache keys: a certificate by its thumbprint, a
    /// client secret by its content (so a secret renewed in place is a different credential), a
    /// managed identity by its endpoint and id, a workload-identity token file by its path (the
    /// kubelet renews its content all the time; the identity behind it stays the same).
    pub fn fingerprint(&self) -> CredentialFingerprint {
        let kind = self.kind();
        let digest = match self {
            Credential::Certificate(c) => c.fingerprint(),
            Credential::ManagedIdentity(m) => Fingerprint::of(m.describe().as_bytes()),
            Credential::WorkloadIdentity(w) => {
                Fingerprint::of(w.path().as_os_str().as_encoded_bytes())
            }
            Credential::ClientSecret(s) => s.digest(),
        };
        CredentialFingerprint { kind, digest }
    }

    /// The kind's name, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::Certificate(_) => "certificate",
            Credential::ManagedIdentity(_) => "managed_identity",
            Credential::WorkloadIdentity(_) => "workload_identity",
            Credential::ClientSecret(_) => "client_secret",
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Certificate(c) => c.fmt(f),
            Credential::ManagedIdentity(m) => m.fmt(f),
            Credential::WorkloadIdentity(w) => w.fmt(f),
            Credential::ClientSecret(s) => s.fmt(f),
        }
    }
}

/// Why a credential could not be loaded or used. Names the file and the problem, never contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read {}: {kind}", path.display())]
    Read { path: PathBuf, kind: ErrorKind },
    #[error("{} is empty", path.display())]
    Empty { path: PathBuf },
    #[error("{} is larger than {max} bytes", path.display())]
    TooLarge { path: PathBuf, max: u64 },
    #[error("{} is not UTF-8 text", path.display())]
    NotText { path: PathBuf },
    #[error("{} holds no PEM block", path.display())]
    NotPem { path: PathBuf },
    #[error(
        "{}: no PEM private key block found (expected PRIVATE KEY or RSA PRIVATE KEY)",
        path.display()
    )]
    NoPrivateKey { path: PathBuf },
    #[error("{}: holds more than one private key block", path.display())]
    ManyKeys { path: PathBuf },
    #[error(
        "{}: the private key is encrypted; provide an unencrypted PKCS#8 or PKCS#1 RSA key",
        path.display()
    )]
    EncryptedKey { path: PathBuf },
    #[error("{}: {kind} private keys are not supported; use an RSA key", path.display())]
    UnsupportedKey { path: PathBuf, kind: &'static str },
    #[error("{}: the private key is not a usable RSA key", path.display())]
    BadKey { path: PathBuf },
    #[error("{}: no CERTIFICATE block found", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{}: the certificate cannot be parsed as X.509", path.display())]
    BadCertificate { path: PathBuf },
    #[error(
        "no certificate in {} matches the private key in {}",
        cert.display(),
        key.display()
    )]
    KeyMismatch { key: PathBuf, cert: PathBuf },
    #[error(
        "the certificate {thumbprint} expired on {not_after}; renew it and upload the new one to the app"
    )]
    Expired {
        thumbprint: String,
        not_after: String,
    },
    #[error("signing a client assertion with the certificate {thumbprint} failed")]
    Signing { thumbprint: String },
    #[error("the managed-identity endpoint {endpoint:?} is not a valid URL")]
    BadEndpoint { endpoint: String },
}
