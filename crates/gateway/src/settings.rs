//! `[gateway]` on reload: every change is either applied or reported, never silently ignored.
//!
//! Applied at once: `[gateway.cache]` (the policy of tokens cached from then on, size and idle
//! decisions), `ca_file` (the Entra HTTP client is rebuilt when the path or the file's content
//! changes) and `authority_host` (every provider inheriting it is a changed record: its keys are
//! retired like a rotated credential's). Needing a restart, logged at WARN with file:line: `listen`,
//! `admin_listen` and `[gateway.tls]`, whose sockets and TLS acceptor exist once, at start.

use std::fmt;
use std::path::Path;

use agentmint_config as config;

/// What a reload does about a changed `[gateway]` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Applied,
    NeedsRestart,
}

/// One changed `[gateway]` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingChange {
    /// The key under `[gateway]`, dotted (`cache.max_entries`, `tls`).
    pub key: &'static str,
    pub effect: Effect,
    /// `file:line` where the new config writes it (or its table).
    pub at: String,
}

impl fmt::Display for SettingChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key)
    }
}

/// The `[gateway]` settings a running gateway holds: the ones it started with (for what needs a
/// restart) and the ones applied since (for the rest), with the CA file's content.
#[derive(Debug, Clone)]
pub struct InForce {
    pub started: config::GatewaySettings,
    pub applied: config::GatewaySettings,
    pub ca_pem: Option<Vec<u8>>,
    /// The digest of the TLS listener's files as started ([`tls_digest`]).
    pub tls_files: Option<[u8; 32]>,
    /// The upstream timeout and retry policy the gateway started with.
    pub(crate) upstream: crate::server::Upstream,
}

/// A digest of the `[gateway.tls]` files' contents, so that a certificate renewed in place (same
/// paths) is reported as needing a restart too.
pub fn tls_digest(tls: Option<&config::TlsSettings>) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let tls = tls?;
    let mut hasher = Sha256::new();
    for path in [
        Some(&tls.cert_file),
        Some(&tls.key_file),
        tls.client_ca_file.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        let bytes = std::fs::read(path).unwrap_or_default();
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(&bytes);
    }
    Some(hasher.finalize().into())
}

/// Every `[gateway]` key that differs between what is in force and `new` (written in `file`), with
/// what the reload does about it; `ca_pem` is the content of `new`'s CA file now.
pub fn changes(
    in_force: &InForce,
    new: &config::GatewaySettings,
    ca_pem: &Option<Vec<u8>>,
    file: &Path,
) -> Vec<SettingChange> {
    let (started, applied) = (&in_force.started, &in_force.applied);
    let mut out = Vec::new();
    let mut add = |key: &'static str, path: &[&str], effect: Effect, differs: bool| {
        if differs {
            let mut full = vec!["gateway"];
            full.extend_from_slice(path);
            out.push(SettingChange {
                key,
                effect,
                at: config::locate(file, &full),
            });
        }
    };
    use Effect::{Applied, NeedsRestart};
    add(
        "listen",
        &["listen"],
        NeedsRestart,
        started.listen != new.listen,
    );
    add(
        "admin_listen",
        &["admin_listen"],
        NeedsRestart,
        started.admin_listen != new.admin_listen,
    );
    add(
        "tls",
        &["tls"],
        NeedsRestart,
        started.tls != new.tls || in_force.tls_files != tls_digest(new.tls.as_ref()),
    );
    add(
        "authority_host",
        &["authority_host"],
        Applied,
        applied.authority_host != new.authority_host,
    );
    add(
        "ca_file",
        &["ca_file"],
        Applied,
        applied.ca_file != new.ca_file || in_force.ca_pem != *ca_pem,
    );
    let (old_cache, new_cache) = (&applied.cache, &new.cache);
    add(
        "cache.safety_margin_seconds",
        &["cache", "safety_margin_seconds"],
        Applied,
        old_cache.safety_margin_seconds != new_cache.safety_margin_seconds,
    );
    add(
        "cache.max_entries",
        &["cache", "max_entries"],
        Applied,
        old_cache.max_entries != new_cache.max_entries,
    );
    add(
        "cache.idle_timeout_seconds",
        &["cache", "idle_timeout_seconds"],
        Applied,
        old_cache.idle_timeout_seconds != new_cache.idle_timeout_seconds,
    );
    out
}

/// The keys of `changes` with `effect`, for a log line: `a, b` or `-`.
pub fn keys(changes: &[SettingChange], effect: Effect) -> String {
    let keys: Vec<&str> = changes
        .iter()
        .filter(|c| c.effect == effect)
        .map(|c| c.key)
        .collect();
    if keys.is_empty() {
        "-".to_owned()
    } else {
        keys.join(", ")
    }
}
