//! Scenario 7: a throttled upstream. The emulator answers 429 with `Retry-After` to a share of
//! requests (deterministically: every n-th), tokens live a few seconds so refreshes keep happening,
//! and a constant load holds an app-only key and a user key for several lifetimes.
//!
//! No bar: the figures say how the cache behaves when Entra pushes back. The upstream request rate
//! should stay near the unthrottled refresh rate (backoff, not retry storms), and callers should
//! keep being served from cache while a still-valid token exists.

use agentmint_emulator::Knobs;

use crate::error::BenchError;
use crate::plan::Plan;
use crate::report::{Row, Unit};
use crate::scenarios::{Findings, steady};
use crate::stack::{Stack, StackOptions};

pub const NAME: &str = "7 throttled upstream";

/// The `Retry-After` the emulator sends, in seconds.
const RETRY_AFTER_SECS: u64 = 1;

pub async fn run(plan: &Plan, findings: &mut Findings) -> Result<(), BenchError> {
    let lifetime = plan.short_lifetime;
    let stack = Stack::start(StackOptions {
        knobs: Knobs {
            token_lifetime: lifetime,
            throttle_fraction: plan.throttle_fraction,
            retry_after_secs: RETRY_AFTER_SECS,
            ..Knobs::default()
        },
        ..StackOptions::default()
    })
    .await?;
    let duration = lifetime * plan.throttle_lifetimes;
    let outcome = steady::run(&stack, plan.steady_rate, duration).await;
    stack.shutdown().await;
    let outcome = outcome?;

    let secs = outcome.elapsed.as_secs_f64().max(f64::EPSILON);
    let upstream = outcome.after.total - outcome.before.total;
    let throttled: u64 = [
        (&outcome.after.blueprint, &outcome.before.blueprint),
        (
            &outcome.after.agent_identity,
            &outcome.before.agent_identity,
        ),
        (&outcome.after.agent_user, &outcome.before.agent_user),
    ]
    .iter()
    .map(|(after, before)| after.count("throttled") - before.count("throttled"))
    .sum();
    let callers = outcome.completed() + outcome.errors();
    let from_cache = outcome.completed().saturating_sub(outcome.waited);
    let share = |n: u64| 100.0 * n as f64 / callers.max(1) as f64;

    findings.row(Row::info(
        NAME,
        "upstream requests per second",
        upstream as f64 / secs,
        Unit::PerSec,
    ));
    findings.row(Row::info(
        NAME,
        "upstream requests answered 429",
        throttled as f64,
        Unit::Count,
    ));
    findings.row(Row::info(
        NAME,
        "callers served from cache",
        share(from_cache),
        Unit::Percent,
    ));
    findings.row(Row::info(
        NAME,
        "callers that waited on an upstream call",
        share(outcome.waited),
        Unit::Percent,
    ));
    findings.row(Row::info(
        NAME,
        "callers refused (UNAVAILABLE)",
        share(outcome.errors()),
        Unit::Percent,
    ));
    findings.note(format!(
        "{NAME}: every {:.1}th upstream request answered 429 with Retry-After: {RETRY_AFTER_SECS} s; \
         token lifetime {} s; load held {secs:.1} s at {} requests/s on each of 2 keys ({callers} \
         callers){}",
        1.0 / plan.throttle_fraction,
        lifetime.as_secs(),
        plan.steady_rate,
        outcome
            .first_error()
            .map(|e| format!("; first refusal: {e}"))
            .unwrap_or_default()
    ));
    Ok(())
}
