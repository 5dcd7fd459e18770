//! The emulator's state: the indexed directory and signing key (fixed at creation), plus the knobs,
//! fault schedule and stats that change while it serves. Cloning shares the state.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value};

use crate::directory::{Directory, Index};
use crate::error::EmulatorError;
use crate::knobs::{Fault, FaultSchedule, Knobs};
use crate::secret::Secret;
use crate::stats::{Hop, Stats};
use crate::tokens::{Signer, random_string};

/// A running emulator's shared state. Serve it with [`serve`](crate::serve).
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    index: Index,
    signer: Signer,
    identity_header: Secret,
    mutable: Mutex<Mutable>,
}

struct Mutable {
    knobs: Knobs,
    schedule: FaultSchedule,
    stats: Stats,
    /// The most recent tokens issued, newest last, for secret-hygiene tests (`/_emulator/issued`).
    issued: VecDeque<String>,
}

/// How many issued tokens `/_emulator/issued` remembers; older ones are forgotten.
pub const ISSUED_KEPT: usize = 256;

impl Emulator {
    /// Checks the directory and generates a fresh signing key (with its `kid`). Out-of-range
    /// knobs are clamped (see [`Emulator::set_knobs`]).
    pub fn new(directory: Directory, knobs: Knobs) -> Result<Self, EmulatorError> {
        let index = Index::build(&directory)?;
        let identity_header = index
            .identity_header
            .clone()
            .unwrap_or_else(|| Secret::new(random_string(32)));
        Ok(Self {
            inner: Arc::new(Inner {
                index,
                signer: Signer::generate()?,
                identity_header,
                mutable: Mutex::new(Mutable {
                    knobs: sanitize(knobs),
                    schedule: FaultSchedule::default(),
                    stats: Stats::default(),
                    issued: VecDeque::new(),
                }),
            }),
        })
    }

    /// The current knobs.
    pub fn knobs(&self) -> Knobs {
        self.lock().knobs.clone()
    }

    /// Replaces the knobs and restarts the fault schedule. Fractions are clamped to [0, 1] (NaN
    /// counts as 0) and the lifetime to at least a second; use [`Knobs::validate`] to reject
    /// instead.
    pub fn set_knobs(&self, knobs: Knobs) {
        let mut state = self.lock();
        state.knobs = sanitize(knobs);
        state.schedule = FaultSchedule::default();
    }

    /// Counts since start or the last reset.
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Sets every count to zero.
    pub fn reset_stats(&self) {
        self.lock().stats = Stats::default();
    }

    /// The value App Service-style clients must send as `X-IDENTITY-HEADER` (from the directory,
    /// or generated when the directory has none).
    pub fn identity_header(&self) -> &Secret {
        &self.inner.identity_header
    }

    /// The `kid` of the token-signing key.
    pub fn signing_key_id(&self) -> &str {
        self.inner.signer.kid()
    }

    pub(crate) fn index(&self) -> &Index {
        &self.inner.index
    }

    pub(crate) fn signer(&self) -> &Signer {
        &self.inner.signer
    }

    /// Signs a token and remembers it among the last [`ISSUED_KEPT`] issued.
    pub(crate) fn issue_token(
        &self,
        claims: &Map<String, Value>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let token = self.inner.signer.sign(claims)?;
        let mut state = self.lock();
        if state.issued.len() == ISSUED_KEPT {
            state.issued.pop_front();
        }
        state.issued.push_back(token.clone());
        Ok(token)
    }

    /// The most recent tokens issued (at most [`ISSUED_KEPT`]), oldest first. The emulator is a
    /// test tool: its tokens are worthless outside it, and tests need them to prove that no
    /// component ever logs one.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.lock().issued.iter().cloned().collect()
    }

    /// The knobs and the fault (if any) for the next token or managed-identity request.
    pub(crate) fn next_fault(&self) -> (Knobs, Option<Fault>) {
        let mut state = self.lock();
        let Mutable {
            knobs, schedule, ..
        } = &mut *state;
        let fault = schedule.next(knobs);
        (knobs.clone(), fault)
    }

    pub(crate) fn record(&self, hop: Hop, outcome: &str) {
        self.lock().stats.record(hop, outcome);
    }

    /// Counts a client credential presented (see [`Stats::credentials`]).
    pub(crate) fn record_credential(&self, label: String) {
        self.lock().stats.record_credential(label);
    }

    fn lock(&self) -> MutexGuard<'_, Mutable> {
        // The guarded data stays consistent even if a holder panicked: every update is one
        // assignment or one counter increment.
        self.inner
            .mutable
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn sanitize(mut knobs: Knobs) -> Knobs {
    for fraction in [
        &mut knobs.throttle_fraction,
        &mut knobs.fail_fraction,
        &mut knobs.hang_fraction,
    ] {
        *fraction = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
    }
    knobs.token_lifetime = knobs.token_lifetime.max(std::time::Duration::from_secs(1));
    knobs
}
