//! Scenario 5: the expiry boundary. Tokens live a few seconds (the emulator's lifetime knob), the
//! cache keeps its default policy (whose margin scales down to a tenth of such lifetimes), and a
//! constant load holds an app-only key and a user key warm for several lifetimes.
//!
//! Two figures. Callers that waited on an upstream call after warm-up must be zero: refresh ahead
//! means nobody on a warm key ever waits for Entra. And upstream requests per key per lifetime must
//! match one refresh per token: the cache renews each token once, at `refresh_fraction` of its
//! lifetime (± jitter), so a key costs 1/`refresh_fraction` requests per lifetime, never more.

use std::time::Duration;

use agentmint_cache::CachePolicy;
use agentmint_emulator::Knobs;

use crate::error::BenchError;
use crate::plan::Plan;
use crate::report::{Row, Unit};
use crate::scenarios::{Findings, steady};
use crate::stack::{Stack, StackOptions};

pub const NAME: &str = "5 expiry boundary";

pub async fn run(plan: &Plan, findings: &mut Findings) -> Result<(), BenchError> {
    let lifetime = plan.short_lifetime;
    let policy = CachePolicy::default();
    let stack = Stack::start(StackOptions {
        knobs: Knobs {
            token_lifetime: lifetime,
            ..Knobs::default()
        },
        ..StackOptions::default()
    })
    .await?;
    let duration = lifetime * plan.expiry_lifetimes;
    let waits_before = stack.state.caches.stats().total().waits;
    let outcome = steady::run(&stack, plan.steady_rate, duration).await;
    let cache = stack.state.caches.stats().total();
    stack.shutdown().await;
    let outcome = outcome?;

    findings.judged(
        Row::info(
            NAME,
            "callers that waited on an upstream call after warm-up",
            outcome.waited as f64,
            Unit::Count,
        ),
        "= 0",
        outcome.waited == 0 && outcome.completed() > 0,
    );
    findings.row(Row::info(
        NAME,
        "callers answered",
        outcome.completed() as f64,
        Unit::Count,
    ));
    if outcome.errors() > 0 {
        findings.row(Row::error(
            NAME,
            "callers failed",
            format!(
                "{} failed; first: {}",
                outcome.errors(),
                outcome.first_error().unwrap_or("")
            ),
        ));
    }
    findings.row(Row::info(
        NAME,
        "cache waits, all hops (incl. background refreshes joining T1/T2)",
        cache.waits.saturating_sub(waits_before) as f64,
        Unit::Count,
    ));
    findings.row(Row::info(
        NAME,
        "background refreshes failed",
        cache.refreshes_failed as f64,
        Unit::Count,
    ));

    let elapsed = outcome.elapsed;
    let lifetimes = elapsed.as_secs_f64() / lifetime.as_secs_f64();
    let max_per_key = most_refreshes(&policy, lifetime, elapsed);
    // Keys per hop: T1 is shared; hop 2 holds T2 and the app-only token; hop 3 the user token.
    let hops = [
        (
            "blueprint (T1)",
            1,
            outcome.after.blueprint.total - outcome.before.blueprint.total,
        ),
        (
            "agent_identity (T2 + app token)",
            2,
            outcome.after.agent_identity.total - outcome.before.agent_identity.total,
        ),
        (
            "agent_user (user token)",
            1,
            outcome.after.agent_user.total - outcome.before.agent_user.total,
        ),
    ];
    for (hop, keys, requests) in hops {
        let per_key_per_lifetime = requests as f64 / keys as f64 / lifetimes;
        let bar = max_per_key as f64 / lifetimes;
        findings.judged(
            Row::info(
                NAME,
                format!("{hop} upstream requests per key per lifetime"),
                per_key_per_lifetime,
                Unit::Number,
            ),
            format!(
                "≤ {bar:.2} (one per token: refresh at {} L ± {:.0} %)",
                policy.refresh_fraction,
                policy.jitter * 100.0
            ),
            requests <= max_per_key * keys,
        );
    }
    findings.note(format!(
        "{NAME}: token lifetime L = {} s, load held {:.1} s ({lifetimes:.1} L) at {} requests/s on \
         each of 2 keys; cache policy defaults (margin {:.1} s at this lifetime)",
        lifetime.as_secs(),
        elapsed.as_secs_f64(),
        plan.steady_rate,
        lifetime.as_secs_f64() * policy.min_margin_fraction.min(0.5),
    ));
    Ok(())
}

/// The most upstream requests one key can make in `elapsed` if every token is refreshed once, at
/// the earliest point the policy's jitter allows.
fn most_refreshes(policy: &CachePolicy, lifetime: Duration, elapsed: Duration) -> u64 {
    let earliest = lifetime.as_secs_f64() * policy.refresh_fraction * (1.0 - policy.jitter);
    if earliest <= 0.0 {
        return u64::MAX;
    }
    (elapsed.as_secs_f64() / earliest).floor() as u64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_refreshes_counts_refreshes_at_the_earliest_jittered_offset() {
        let policy = CachePolicy::default();
        // 8 s tokens refresh at 6 s ± 10 %: at most one every 5.4 s, so 5 in 32 s, plus the tail.
        let n = most_refreshes(&policy, Duration::from_secs(8), Duration::from_secs(32));
        assert_eq!(n, 6);
    }
}
