//! A manual clock, a scripted fake token endpoint and key builders.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agentmint_base::Fingerprint;
use agentmint_cache::{CachePolicy, Clock, HopCaches, ManualClock};
use agentmint_entra::{
    CredentialFingerprint, EntraError, ErrorClass, ExchangeKey, Hop, HopCache, HopKey, IssuedToken,
    Minted, Minter, Reason, ResourceKey, ScopeSet, Secret, UserKey, UserSelector,
};
use tokio::sync::Semaphore;

pub const SEC: Duration = Duration::from_secs(1);
pub const MIN: Duration = Duration::from_secs(60);
pub const HOUR: Duration = Duration::from_secs(3600);

/// The wall-clock time `secs` Unix seconds, for [`ManualClock::set_wall`].
pub fn unix(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
}

/// Lets every task woken so far run to its next wait (the tests run on a current-thread runtime).
pub async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}

/// Awaits `future`, failing the test instead of hanging if a broken cache never answers.
pub async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(5), future)
        .await
        .expect("the cache answers")
}

/// Caches on a manual clock with a fixed random seed.
pub struct Harness {
    pub clock: Arc<ManualClock>,
    pub caches: Arc<HopCaches>,
    pub start: Instant,
}

impl Harness {
    pub fn new(policy: CachePolicy) -> Self {
        let clock = Arc::new(ManualClock::new());
        let caches = HopCaches::new(policy, clock.clone(), Some(7));
        let start = clock.now();
        Self {
            clock,
            caches,
            start,
        }
    }

    /// Default policy but no jitter, so refresh times are exact.
    pub fn exact() -> Self {
        Self::new(CachePolicy {
            jitter: 0.0,
            ..CachePolicy::default()
        })
    }

    pub async fn get(&self, key: &HopKey, upstream: &Arc<Upstream>) -> Result<Minted, EntraError> {
        within(self.caches.get_or_mint(key.clone(), upstream.minter())).await
    }

    /// Moves time forward and lets woken refreshers run.
    pub async fn advance(&self, by: Duration) {
        self.clock.advance(by);
        settle().await;
    }

    /// Caches a token for each of `agent_key(0..n)`.
    pub async fn fill(&self, upstream: &Arc<Upstream>, n: usize) {
        for i in 0..n {
            self.get(&agent_key(i), upstream).await.unwrap();
        }
    }

    /// Moves time forward to `at` after the start.
    pub async fn advance_to(&self, at: Duration) {
        let elapsed = self.clock.now() - self.start;
        self.advance(at.saturating_sub(elapsed)).await;
    }
}

/// A fake token endpoint: counts and timestamps calls, can be held at a gate, and fails while a
/// failure is set.
pub struct Upstream {
    name: &'static str,
    clock: Arc<ManualClock>,
    lifetime: Mutex<Duration>,
    refresh_in: Mutex<Option<Duration>>,
    failure: Mutex<Option<EntraError>>,
    gate: Option<Semaphore>,
    calls: AtomicUsize,
    times: Mutex<Vec<Instant>>,
}

impl Upstream {
    /// One-hour tokens named `token-1`, `token-2`, ...
    pub fn new(h: &Harness) -> Arc<Self> {
        Self::build(h, "token", false)
    }

    /// Tokens named `{name}-1`, ...
    pub fn named(h: &Harness, name: &'static str) -> Arc<Self> {
        Self::build(h, name, false)
    }

    /// Calls wait at a gate until [`Upstream::release`].
    pub fn gated(h: &Harness) -> Arc<Self> {
        Self::build(h, "token", true)
    }

    fn build(h: &Harness, name: &'static str, gated: bool) -> Arc<Self> {
        Arc::new(Self {
            name,
            clock: h.clock.clone(),
            lifetime: Mutex::new(HOUR),
            refresh_in: Mutex::new(None),
            failure: Mutex::new(None),
            gate: gated.then(|| Semaphore::new(0)),
            calls: AtomicUsize::new(0),
            times: Mutex::new(Vec::new()),
        })
    }

    pub fn minter(self: &Arc<Self>) -> Minter {
        let upstream = self.clone();
        Arc::new(move || {
            let upstream = upstream.clone();
            Box::pin(async move { upstream.mint().await })
        })
    }

    async fn mint(&self) -> Result<IssuedToken, EntraError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.times.lock().unwrap().push(self.clock.now());
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        if let Some(error) = self.failure.lock().unwrap().clone() {
            return Err(error);
        }
        Ok(IssuedToken {
            access_token: Secret::new(format!("{}-{n}", self.name)),
            token_type: "Bearer".into(),
            expires_in: *self.lifetime.lock().unwrap(),
            refresh_in: *self.refresh_in.lock().unwrap(),
            scope: None,
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// When each call was made.
    pub fn times(&self) -> Vec<Instant> {
        self.times.lock().unwrap().clone()
    }

    pub fn set_lifetime(&self, lifetime: Duration) {
        *self.lifetime.lock().unwrap() = lifetime;
    }

    pub fn set_refresh_in(&self, refresh_in: Option<Duration>) {
        *self.refresh_in.lock().unwrap() = refresh_in;
    }

    /// Every call fails with `error` until it is cleared.
    pub fn fail_with(&self, error: Option<EntraError>) {
        *self.failure.lock().unwrap() = error;
    }

    /// Lets `n` gated calls finish.
    pub fn release(&self, n: usize) {
        if let Some(gate) = &self.gate {
            gate.add_permits(n);
        }
    }
}

pub fn token_of(minted: &Minted) -> &str {
    minted.token.access_token.expose()
}

pub fn transient() -> EntraError {
    EntraError::new(
        Hop::AgentIdentity,
        ErrorClass::Transient,
        Reason::UpstreamUnavailable,
        "upstream unavailable",
    )
}

pub fn permanent() -> EntraError {
    EntraError::new(
        Hop::AgentIdentity,
        ErrorClass::Permanent,
        Reason::InvalidClient,
        "invalid client",
    )
}

pub fn throttled(retry_after: Duration) -> EntraError {
    let mut error = EntraError::new(
        Hop::AgentIdentity,
        ErrorClass::Transient,
        Reason::Throttled,
        "throttled",
    );
    error.retry_after = Some(retry_after);
    error
}

pub fn resource(client: &str, scopes: &[&str]) -> ResourceKey {
    ResourceKey {
        authority_host: "https://login.microsoftonline.com".into(),
        tenant: "tenant-1".into(),
        client_id: client.into(),
        scopes: ScopeSet::new(scopes).unwrap(),
    }
}

/// An exact harness and an upstream that has minted one token, cached for the key.
pub async fn one_token_cached() -> (Harness, Arc<Upstream>, HopKey) {
    let h = Harness::exact();
    let upstream = Upstream::new(&h);
    let key = agent_key(1);
    h.get(&key, &upstream).await.unwrap();
    (h, upstream, key)
}

/// An exact harness and a gated upstream that has let one token through, cached for the key.
pub async fn one_token_behind_a_gate() -> (Harness, Arc<Upstream>, HopKey) {
    let h = Harness::exact();
    let upstream = Upstream::gated(&h);
    let key = agent_key(1);
    upstream.release(1);
    h.get(&key, &upstream).await.unwrap();
    (h, upstream, key)
}

/// A hop-2 key for client `agent-{n}`.
pub fn agent_key(n: usize) -> HopKey {
    HopKey::AgentIdentity(resource(
        &format!("agent-{n}"),
        &["https://graph.microsoft.com/.default"],
    ))
}

pub fn user_key(client: &str, scopes: &[&str]) -> HopKey {
    HopKey::User(UserKey {
        authority_host: "https://login.microsoftonline.com".into(),
        tenant: "tenant-1".into(),
        client_id: client.into(),
        user: UserSelector::Upn("agent-user@example.com".into()),
        scopes: ScopeSet::new(scopes).unwrap(),
    })
}

pub fn exchange_key() -> HopKey {
    HopKey::Exchange(ExchangeKey {
        authority_host: "https://login.microsoftonline.com".into(),
        tenant: "tenant-1".into(),
        client_id: "blueprint".into(),
        credential: CredentialFingerprint::new("certificate", Fingerprint::of(b"thumbprint")),
        fmi_path: "agent-1".into(),
    })
}
