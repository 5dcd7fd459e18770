//! The validated config: typed, defaults resolved, paths absolute.
//!
//! Nothing here holds a secret. Credentials are named by the files that hold them, and a sandbox's
//! bearer credential is kept only as its SHA-256, so every type derives `Debug` safely. `PartialEq`
//! is what the gateway uses on reload to tell a changed provider from an unchanged one: an unchanged
//! record keeps its credential and its cached tokens.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};

pub use agentmint_base::Fingerprint;

/// Entra's public-cloud authority, the default for every provider.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// Where the gateway serves gRPC unless `[gateway] listen` says otherwise.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7443));
/// Where the gateway serves `/healthz`, `/readyz` and `/metrics` unless `admin_listen` says otherwise.
pub const DEFAULT_ADMIN_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7444));

/// The whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub gateway: GatewaySettings,
    pub providers: Vec<Provider>,
    pub sandboxes: Vec<Sandbox>,
}

/// `[gateway]`: how the gateway itself runs.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewaySettings {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// Admin HTTP listen address.
    pub admin_listen: SocketAddr,
    /// The default authority host of every provider, without a trailing slash.
    pub authority_host: String,
    /// An extra root CA (PEM) to trust for upstream HTTPS, such as the emulator's.
    pub ca_file: Option<PathBuf>,
    /// `[gateway.tls]`: serve gRPC over TLS (and require client certificates when it names a
    /// client CA). `None`: plaintext, for loopback or a service mesh that terminates TLS.
    pub tls: Option<TlsSettings>,
    pub cache: CacheSettings,
    /// `drain_grace_seconds`: how long a draining gateway keeps serving after SIGTERM, with
    /// `/readyz` and gRPC health already saying NOT_SERVING, so load balancers notice before the
    /// listener closes.
    pub drain_grace_seconds: u64,
}

/// The drain grace unless `[gateway] drain_grace_seconds` says otherwise: long enough for a
/// readiness probe (every 5 s in deploy/) or a gRPC health watcher to take the gateway out.
pub const DEFAULT_DRAIN_GRACE_SECONDS: u64 = 5;

/// `[gateway.tls]`: the gRPC port's certificate, and optionally the CA its clients must prove
/// themselves with (mTLS). Paths are absolute. Sandboxes still identify themselves with their
/// bearer credential; a client certificate is a second, transport-level requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The server certificate chain (PEM, leaf first).
    pub cert_file: PathBuf,
    /// Its private key (PEM).
    pub key_file: PathBuf,
    /// When set, only clients presenting a certificate issued by this CA (PEM) may connect.
    pub client_ca_file: Option<PathBuf>,
}

/// `[gateway.cache]`: overrides of the cache's defaults; `None` keeps the default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CacheSettings {
    pub safety_margin_seconds: Option<u64>,
    pub max_entries: Option<usize>,
    pub idle_timeout_seconds: Option<u64>,
}

/// One `[[provider]]`: an Entra agent or a plain app registration the gateway mints for.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    /// Unique, `[a-z0-9_-]`; what sandboxes and gRPC requests name.
    pub name: String,
    pub kind: ProviderKind,
    /// The tenant id (a lowercase GUID) or a verified domain, lowercased.
    pub tenant: String,
    /// The authority host for this provider (its own, else the gateway's, else Entra's).
    pub authority_host: String,
    /// The token-exchange resource, when it overrides the one `authority_host` implies.
    pub exchange_audience: Option<String>,
    pub credential: CredentialSpec,
    pub scopes: ScopePolicy,
}

/// What a provider mints for. GUIDs are lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// An Entra agent: Blueprint → Agent Identity, and → Agent User when one is named.
    Agent {
        blueprint_client_id: String,
        agent_identity_client_id: String,
        /// The Agent Identity's object id, when configured: app-only tokens' `oid` must match it.
        agent_identity_object_id: Option<String>,
        /// Present only when the provider may mint `USER_PRINCIPAL` tokens.
        agent_user: Option<AgentUser>,
    },
    /// A plain app registration (a Teams bot, say): app-only tokens only.
    App { client_id: String },
}

/// The Agent User the `user_fic` hop acts for: exactly one selector, as Entra requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentUser {
    Upn(String),
    /// A lowercase GUID.
    ObjectId(String),
}

/// How the Blueprint (or the app) proves itself. Paths are absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSpec {
    /// A certificate assertion signed with the private key in `key_file`.
    Certificate {
        key_file: PathBuf,
        /// Defaults to `key_file` (a combined PEM holding both).
        certificate_file: PathBuf,
        algorithm: SigningAlgorithm,
        /// SHA-256 of the certificate's DER (its public `x5t#S256`), read at load. It makes a
        /// certificate renewed in place (same paths, new file) count as a changed provider on
        /// reload. `None` when files were not checked.
        certificate_sha256: Option<[u8; 32]>,
    },
    /// A managed-identity token for `api://AzureADTokenExchange`, sent as the client assertion.
    ManagedIdentity {
        /// `None`: the system-assigned identity.
        identity: Option<ManagedIdentityId>,
        /// An endpoint override (otherwise the gateway's environment decides: App Service or IMDS).
        endpoint: Option<String>,
    },
    /// The projected Kubernetes service-account token, re-read as it rotates.
    WorkloadIdentity { token_file: PathBuf },
    /// A client secret read from a file. Development only.
    ClientSecret {
        secret_file: PathBuf,
        /// The digest of the secret read at load (trimmed, as the gateway sends it). It makes a
        /// secret renewed in place count as a changed provider on reload. `None` when files were
        /// not checked. Prints truncated.
        secret_sha256: Option<Fingerprint>,
    },
}

/// The JWS algorithm of certificate assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SigningAlgorithm {
    /// RSASSA-PSS with SHA-256 and an `x5t#S256` header: what Entra expects today.
    #[default]
    Ps256,
    /// PKCS#1 v1.5 with SHA-256 and a SHA-1 `x5t` header: the legacy form.
    Rs256,
}

/// A user-assigned managed identity, by exactly one of its ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagedIdentityId {
    /// Lowercase GUID.
    ClientId(String),
    /// Lowercase GUID.
    ObjectId(String),
    /// The ARM resource id (`/subscriptions/.../userAssignedIdentities/NAME`).
    ResourceId(String),
}

/// Which scopes each token kind may carry, and which an empty request gets.
///
/// An empty `*_allowed` list means the kind is not available; defaults are always a subset of
/// their allowed list (checked at load).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopePolicy {
    pub app_allowed: Vec<String>,
    pub app_default: Vec<String>,
    pub user_allowed: Vec<String>,
    pub user_default: Vec<String>,
}

/// One `[[sandbox]]`: a bearer credential and the providers it may mint from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    pub name: String,
    pub credential: SandboxCredentialSpec,
    pub providers: Vec<String>,
}

/// How the gateway recognises a sandbox's bearer credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxCredentialSpec {
    /// The SHA-256 of the credential, given as `credential_sha256`.
    Sha256([u8; 32]),
    /// A `credential_file`, hashed at load (its contents dropped): the gateway watches the file
    /// and a credential replaced in place takes effect at the next reload.
    File { path: PathBuf, sha256: [u8; 32] },
    /// A `credential_file` that was not read because files were not checked
    /// ([`crate::ParseOptions::check_files`] = false). Such a sandbox authenticates nobody; `load`
    /// never produces it.
    Unread(PathBuf),
    /// A Kubernetes projected service-account token, verified against its issuer's keys.
    ServiceAccount(ServiceAccountSpec),
}

/// `[sandbox.service_account]`: which projected service-account tokens identify the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountSpec {
    /// The tokens' `iss`, exactly as the cluster writes it.
    pub issuer: String,
    /// The `jwks_file` holding the issuer's public keys.
    pub jwks_file: PathBuf,
    /// The file's JSON (public keys only), or `None` when files were not checked.
    pub jwks: Option<String>,
    /// The `aud` the tokens must carry.
    pub audience: String,
    pub namespace: String,
    pub service_account: String,
    /// The longest `exp - iat` accepted.
    pub max_lifetime_seconds: u64,
}

impl Sandbox {
    /// The SHA-256 the gateway compares presented credentials against (in constant time), or `None`
    /// for a credential file that was not read.
    pub fn credential_sha256(&self) -> Option<[u8; 32]> {
        match &self.credential {
            SandboxCredentialSpec::Sha256(hash)
            | SandboxCredentialSpec::File { sha256: hash, .. } => Some(*hash),
            SandboxCredentialSpec::Unread(_) | SandboxCredentialSpec::ServiceAccount(_) => None,
        }
    }
}

impl Config {
    /// Every file the config names (credential keys, certificates, secrets and token files,
    /// sandbox credential files, the CA file, the TLS listener's files), each once, in config
    /// order: what the gateway watches besides the config file itself.
    pub fn files(&self) -> Vec<&Path> {
        let mut files: Vec<&Path> = Vec::new();
        for provider in &self.providers {
            match &provider.credential {
                CredentialSpec::Certificate {
                    key_file,
                    certificate_file,
                    ..
                } => {
                    push_once(&mut files, key_file);
                    push_once(&mut files, certificate_file);
                }
                CredentialSpec::WorkloadIdentity { token_file } => {
                    push_once(&mut files, token_file)
                }
                CredentialSpec::ClientSecret { secret_file, .. } => {
                    push_once(&mut files, secret_file)
                }
                CredentialSpec::ManagedIdentity { .. } => {}
            }
        }
        for sandbox in &self.sandboxes {
            match &sandbox.credential {
                SandboxCredentialSpec::File { path, .. } | SandboxCredentialSpec::Unread(path) => {
                    push_once(&mut files, path)
                }
                SandboxCredentialSpec::ServiceAccount(sa) => push_once(&mut files, &sa.jwks_file),
                SandboxCredentialSpec::Sha256(_) => {}
            }
        }
        if let Some(ca) = &self.gateway.ca_file {
            push_once(&mut files, ca);
        }
        if let Some(tls) = &self.gateway.tls {
            push_once(&mut files, &tls.cert_file);
            push_once(&mut files, &tls.key_file);
            if let Some(ca) = &tls.client_ca_file {
                push_once(&mut files, ca);
            }
        }
        files
    }
}

fn push_once<'a>(files: &mut Vec<&'a Path>, path: &'a Path) {
    if !files.contains(&path) {
        files.push(path);
    }
}
