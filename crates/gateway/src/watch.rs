//! The reload watcher: reloads when the config file, or any file it names, changes content.
//!
//! Operators renew certificates and secrets in place (cert-manager, a Key Vault sync, a kubelet
//! projecting a new sandbox credential) without touching the config, so watching the config alone
//! left a renewed credential unused until someone sent SIGHUP. The watcher polls instead of using
//! inotify: it is portable, survives the symlink swaps Kubernetes uses for mounted secrets, and is
//! cheap (a few small files hashed per interval, each read bounded by [`MAX_BYTES`]).
//!
//! Changes are debounced: a reload starts only once the files have looked the same for one whole
//! interval, so a key and its certificate written one after the other are taken together. A broken
//! config (or a key that does not match its certificate yet) is reported once per distinct content
//! and never swapped in.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use std::io::Read;

use crate::state::GatewayState;

/// How much of each file is hashed. Credential, config and CA files are far smaller; a file that
/// grows past this still changes its digest through its length.
pub const MAX_BYTES: u64 = 1024 * 1024;

/// The content of every watched file: `None` for a file that cannot be read (missing, mid-swap).
type Snapshot = Vec<(PathBuf, Option<[u8; 32]>)>;

/// Polls the config file and every file it names every `every`, and reloads once a change has
/// settled, in addition to explicit reloads (SIGHUP in the CLI). Ends when the gateway drains.
pub fn spawn_reload_watcher(
    state: Arc<GatewayState>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    // Taken now, not in the task, so that a change made right after this call is a change.
    let first = state.config_path.clone().map(|config| {
        let files = watched(&config, &state);
        (config, snapshot(&files))
    });
    tokio::spawn(async move {
        let Some((config, mut applied)) = first else {
            return;
        };
        let mut pending: Option<Snapshot> = None;
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if !state.is_ready() {
                return;
            }
            let files = watched(&config, &state);
            let Ok(now) = tokio::task::spawn_blocking(move || snapshot(&files)).await else {
                return;
            };
            if now == applied {
                pending = None;
            } else if pending.as_ref() == Some(&now) {
                tracing::info!("a watched file changed: reloading the config");
                let _ = state.reload();
                // The reload may name other files: they join the next snapshot, which then differs
                // and leads to one more (no-op) reload. Never re-reading here means no change made
                // during the reload is missed.
                applied = now;
                pending = None;
            } else {
                pending = Some(now);
            }
        }
    })
}

/// The config file and every file the config in force names.
fn watched(config: &Path, state: &GatewayState) -> Vec<PathBuf> {
    let mut files = vec![config.to_path_buf()];
    files.extend(state.watched_files());
    files
}

/// Every file's digest (blocking reads of a few small files).
fn snapshot(files: &[PathBuf]) -> Snapshot {
    files
        .iter()
        .map(|path| (path.clone(), digest(path)))
        .collect()
}

/// The SHA-256 of the file's length and its first [`MAX_BYTES`].
fn digest(path: &Path) -> Option<[u8; 32]> {
    let file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut bytes = Vec::new();
    file.take(MAX_BYTES).read_to_end(&mut bytes).ok()?;
    let mut hasher = Sha256::new();
    hasher.update(len.to_be_bytes());
    hasher.update(&bytes);
    Some(hasher.finalize().into())
}
