//! agentmint-base: the small things the client-side crates (config, entra, cache) must agree on,
//! kept in one leaf crate so that they cannot drift apart.
//!
//! - [`pem`]: the one reader of key and certificate files. `config check` and the gateway's
//!   credential loader both use it, so they accept and refuse the same files for the same reasons.
//! - [`exchange`]: the token-exchange scope in every cloud's spelling, which nothing ever serves.
//! - [`fingerprint`]: a credential's content as a SHA-256 digest that prints truncated, so a
//!   rotated certificate or secret is told from the old one without being held or printed.
//! - [`reason`]: the machine-readable reasons of a refused or failed mint, spelled once for the
//!   wire (the proto crate re-exports them) and for the entra crate's upstream causes.
//! - [`clock`]: the one injected clock (monotonic time for cache expiry, wall time for assertions
//!   and certificate validity, timers that follow it) and [`ManualClock`] for tests.
//!
//! The emulator does not depend on this crate: it plays Entra and must stay independent of the
//! client it is used to test.

#![forbid(unsafe_code)]

pub mod clock;
pub mod exchange;
pub mod fingerprint;
mod manual_clock;
pub mod pem;
pub mod reason;

pub use clock::{Clock, SharedClock, Sleep, SystemClock};
pub use fingerprint::Fingerprint;
pub use manual_clock::ManualClock;
pub use reason::Reason;
