//! A short-lived copy of the gateway's answers, so an agent that asks for the same token over and
//! over is answered locally instead of by one gRPC round trip per request.
//!
//! The gateway stays the authority: an answer is reused for at most `ttl` after the gateway gave it
//! (so a provider detached from this sandbox, or a revoked sandbox credential, stops being served
//! within `ttl`), never for more than a tenth of the token's remaining lifetime at that moment (so a
//! short-lived token is never stretched toward its expiry), and only while the gateway said the
//! token was fresh. Failures are never kept. The map is bounded; when full, the entry closest to
//! being unusable goes first. Everything held is a token the agent could ask for anyway, in the
//! agent's own trust domain, and `Debug` prints none of it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentmint_proto::TokenKind;

use crate::gateway::Minted;

/// Most answers kept; one per (provider, kind, scope set) an agent asks for.
pub(crate) const MAX_ENTRIES: usize = 1024;

/// What a request asks for: the provider, the kind and the scopes (already checked by `parse`),
/// sorted and deduplicated (the gateway normalises the same way, so spelling order does not split
/// entries).
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct MemoKey {
    provider: String,
    kind: TokenKind,
    scopes: Vec<String>,
}

impl MemoKey {
    pub(crate) fn new(provider: &str, kind: TokenKind, scopes: &[String]) -> Self {
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        Self {
            provider: provider.to_owned(),
            kind,
            scopes,
        }
    }
}

struct Entry {
    minted: Arc<Minted>,
    /// When this copy stops being served.
    until: Instant,
}

/// The resolver's copy of recent answers. `ttl` zero disables it.
pub(crate) struct Memo {
    ttl: Duration,
    entries: Mutex<HashMap<MemoKey, Entry>>,
}

impl Memo {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The kept answer for `key`, if still servable at `now`.
    pub(crate) fn get(&self, key: &MemoKey, now: Instant) -> Option<Arc<Minted>> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut entries = self.lock();
        match entries.get(key) {
            Some(entry) if now < entry.until => Some(entry.minted.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `minted`, received at `now` with `remaining` lifetime, for later requests.
    pub(crate) fn put(&self, key: MemoKey, minted: Arc<Minted>, now: Instant, remaining: Duration) {
        let hold = self.ttl.min(remaining / 10);
        if hold.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.retain(|_, e| now < e.until);
            if entries.len() >= MAX_ENTRIES
                && let Some(soonest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.until)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&soonest);
            }
        }
        entries.insert(
            key,
            Entry {
                minted,
                until: now + hold,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<MemoKey, Entry>> {
        // Every update is a single insert or remove: the map is consistent even after a panic.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for Memo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Memo")
            .field("ttl", &self.ttl)
            .field("entries", &self.lock().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minted(token: &str) -> Arc<Minted> {
        Arc::new(Minted {
            access_token: token.to_owned(),
            token_type: "Bearer".to_owned(),
            expires_at_unix: 0,
            scopes: Vec::new(),
            cache_hit: false,
        })
    }

    fn key(provider: &str, kind: TokenKind, scopes: &[&str]) -> MemoKey {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        MemoKey::new(provider, kind, &scopes)
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn an_answer_is_served_until_the_ttl_and_not_after() {
        let memo = Memo::new(Duration::from_secs(30));
        let t0 = Instant::now();
        let k = key("p", TokenKind::AppOnly, &["s"]);
        memo.put(k.clone(), minted("a"), t0, HOUR);
        assert!(memo.get(&k, t0 + Duration::from_secs(29)).is_some());
        assert!(memo.get(&k, t0 + Duration::from_secs(30)).is_none());
    }

    #[test]
    fn a_short_lived_token_is_held_a_tenth_of_its_remaining_life_at_most() {
        let memo = Memo::new(Duration::from_secs(30));
        let t0 = Instant::now();
        let k = key("p", TokenKind::AppOnly, &["s"]);
        memo.put(k.clone(), minted("a"), t0, Duration::from_secs(20));
        assert!(memo.get(&k, t0 + Duration::from_millis(1900)).is_some());
        assert!(memo.get(&k, t0 + Duration::from_secs(2)).is_none());
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let memo = Memo::new(Duration::ZERO);
        let t0 = Instant::now();
        let k = key("p", TokenKind::AppOnly, &["s"]);
        memo.put(k.clone(), minted("a"), t0, HOUR);
        assert!(memo.get(&k, t0).is_none());
    }

    #[test]
    fn provider_kind_and_scopes_all_separate_entries_but_order_does_not() {
        let memo = Memo::new(Duration::from_secs(30));
        let t0 = Instant::now();
        memo.put(
            key("p", TokenKind::AppOnly, &["a", "b"]),
            minted("x"),
            t0,
            HOUR,
        );
        assert!(
            memo.get(&key("p", TokenKind::AppOnly, &["b", "a", "a"]), t0)
                .is_some()
        );
        for other in [
            key("q", TokenKind::AppOnly, &["a", "b"]),
            key("p", TokenKind::UserPrincipal, &["a", "b"]),
            key("p", TokenKind::AppOnly, &["a"]),
            key("p", TokenKind::AppOnly, &["ab"]),
        ] {
            assert!(memo.get(&other, t0).is_none());
        }
    }

    #[test]
    fn the_map_is_bounded_and_drops_the_entry_closest_to_expiry() {
        let memo = Memo::new(Duration::from_secs(30));
        let t0 = Instant::now();
        for i in 0..MAX_ENTRIES {
            let hold = HOUR + Duration::from_secs(i as u64);
            let k = key("p", TokenKind::AppOnly, &[&format!("s{i}")]);
            // Entry 0 has the shortest hold (a tenth of 2 s).
            let remaining = if i == 0 { Duration::from_secs(2) } else { hold };
            memo.put(k, minted("t"), t0, remaining);
        }
        memo.put(
            key("p", TokenKind::AppOnly, &["new"]),
            minted("t"),
            t0,
            HOUR,
        );
        assert_eq!(memo.lock().len(), MAX_ENTRIES);
        assert!(
            memo.get(&key("p", TokenKind::AppOnly, &["s0"]), t0)
                .is_none()
        );
        assert!(
            memo.get(&key("p", TokenKind::AppOnly, &["new"]), t0)
                .is_some()
        );
    }

    #[test]
    fn debug_shows_no_token() {
        let memo = Memo::new(Duration::from_secs(30));
        let t0 = Instant::now();
        memo.put(
            key("p", TokenKind::AppOnly, &["s"]),
            minted("secret-token-value"),
            t0,
            HOUR,
        );
        assert!(!format!("{memo:?}").contains("secret-token-value"));
    }
}
