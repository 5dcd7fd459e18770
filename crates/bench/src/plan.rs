//! How much each scenario does: the full counts, sized so that one run of everything fits in five
//! minutes on 2 cores, and the smoke counts, which only check that every scenario works.

use std::time::Duration;

use crate::generator::LoadSpec;

/// Counts and durations for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub smoke: bool,
    /// Concurrency levels of the hot-path scenarios.
    pub hot_concurrency: Vec<usize>,
    /// Timed requests per hot-path load run (floor and agentmint alike).
    pub hot_requests: u64,
    /// Alternating floor/agentmint rounds per hot-path figure; each side's fastest round counts.
    pub hot_rounds: u32,
    /// Upper bound of one hot-path load run.
    pub hot_time_limit: Duration,
    /// Emulator latency L of the cold-chain scenario.
    pub cold_latency: Duration,
    /// Cold mints timed per figure of the cold-chain scenario.
    pub cold_samples: usize,
    /// Concurrent callers of the stampede scenario.
    pub stampede_callers: usize,
    /// Distinct cold keys of the stampede's second part.
    pub stampede_keys: usize,
    /// Emulator latency during the stampede, so that every caller arrives while the first upstream
    /// call is still in flight.
    pub stampede_latency: Duration,
    /// Token lifetime of the expiry and throttling scenarios.
    pub short_lifetime: Duration,
    /// How many lifetimes the expiry scenario keeps the load on.
    pub expiry_lifetimes: u32,
    /// Requests per second per key under the expiry and throttling scenarios' constant load.
    pub steady_rate: u32,
    /// Cached user tokens of the memory scenario.
    pub memory_keys: usize,
    /// How many lifetimes the throttling scenario keeps the load on.
    pub throttle_lifetimes: u32,
    /// Share of upstream requests the emulator answers 429 in the throttling scenario.
    pub throttle_fraction: f64,
}

impl Plan {
    /// The counts for a full (`smoke == false`) or smoke run.
    pub fn new(smoke: bool) -> Self {
        if smoke {
            Self {
                smoke,
                hot_concurrency: vec![1, 16, 64],
                hot_requests: 100,
                hot_rounds: 1,
                hot_time_limit: Duration::from_secs(10),
                cold_latency: Duration::from_millis(20),
                cold_samples: 3,
                stampede_callers: 1_000,
                stampede_keys: 100,
                stampede_latency: Duration::from_millis(100),
                short_lifetime: Duration::from_secs(4),
                expiry_lifetimes: 2,
                steady_rate: 20,
                memory_keys: 200,
                throttle_lifetimes: 1,
                throttle_fraction: 0.3,
            }
        } else {
            Self {
                smoke,
                hot_concurrency: vec![1, 16, 64],
                hot_requests: 60_000,
                hot_rounds: 5,
                hot_time_limit: Duration::from_secs(15),
                cold_latency: Duration::from_millis(20),
                cold_samples: 25,
                stampede_callers: 1_000,
                stampede_keys: 100,
                stampede_latency: Duration::from_millis(100),
                short_lifetime: Duration::from_secs(8),
                expiry_lifetimes: 4,
                steady_rate: 50,
                memory_keys: 10_000,
                throttle_lifetimes: 3,
                throttle_fraction: 0.3,
            }
        }
    }

    /// The load of one hot-path run at `concurrency`.
    pub fn hot_spec(&self, concurrency: usize) -> LoadSpec {
        LoadSpec {
            warmup: if self.smoke { 2 } else { 50 },
            ..LoadSpec::closed(concurrency, self.hot_requests, self.hot_time_limit)
        }
    }
}
