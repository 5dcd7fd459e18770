//! What the two hot-path scenarios (sandbox HTTP and gRPC) share: the token kinds they ask for,
//! one kind's load runs against its floor at each of the plan's concurrencies, and the check that
//! every timed request was a cache hit.

use agentmint_proto::TokenKind;

use crate::error::BenchError;
use crate::generator::{self, Connect};
use crate::plan::Plan;
use crate::report::{Row, Unit};
use crate::scenarios::{Findings, HotBars};
use crate::stack::{APP_SCOPE, USER_SCOPE};

/// Each token kind with the scope its hot path asks for.
pub const KINDS: [(TokenKind, &str); 2] = [
    (TokenKind::AppOnly, APP_SCOPE),
    (TokenKind::UserPrincipal, USER_SCOPE),
];

/// Runs `kind`'s paired load runs (the floor's probes against agentmint's) at each of the plan's
/// concurrencies and writes their rows; returns how many requests agentmint was sent.
pub async fn compare(
    plan: &Plan,
    findings: &mut Findings,
    scenario: &str,
    kind: TokenKind,
    bars: HotBars,
    mut floor: impl Connect,
    mut measured: impl Connect,
) -> Result<u64, BenchError> {
    let mut requests = 0;
    for &concurrency in &plan.hot_concurrency {
        let spec = plan.hot_spec(concurrency);
        let (floor_result, measured_result) = generator::paired(
            spec,
            plan.hot_rounds,
            || floor.connect(),
            || measured.connect(),
        )
        .await?;
        requests += measured_result.latency.len();
        let label = format!("{} c={concurrency}", kind.label());
        findings.hot_rows(scenario, &label, &measured_result, &floor_result, bars);
    }
    Ok(requests)
}

/// Judges that no timed request reached Entra: a miss would make the ratios measure something
/// else than the hot path.
pub fn judge_all_hits(findings: &mut Findings, scenario: &str, upstream_while_hot: u64) {
    findings.judged(
        Row::info(
            scenario,
            "upstream requests during the timed runs",
            upstream_while_hot as f64,
            Unit::Count,
        ),
        "= 0",
        upstream_while_hot == 0,
    );
}
