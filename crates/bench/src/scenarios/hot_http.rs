//! Scenario 1: the hot path through the sandbox. An agent's GET on its local token URL goes to the
//! resolver, over gRPC to the gateway, and is answered from the gateway's cache. Compared with a
//! bare HTTP server answering the very bytes the resolver answered, at concurrency 1, 16 and 64, for
//! both token kinds.

use agentmint_proto::TokenKind;

use crate::error::BenchError;
use crate::floors::BareHttp;
use crate::generator;
use crate::http_client::{HttpProbe, HttpTarget};
use crate::plan::Plan;
use crate::report::{Row, Unit};
use crate::scenarios::{Findings, HotBars};
use crate::stack::{APP_SCOPE, Stack, StackOptions, USER_SCOPE};

pub const NAME: &str = "1 hot path (sandbox HTTP)";

const BARS: HotBars = HotBars {
    min_throughput_ratio: 0.5,
    max_p99_ratio: Some(2.0),
};

pub async fn run(plan: &Plan, findings: &mut Findings) -> Result<(), BenchError> {
    let stack = Stack::start(StackOptions {
        sandbox: true,
        ..StackOptions::default()
    })
    .await?;
    let result = measure(&stack, plan, findings).await;
    stack.shutdown().await;
    result
}

async fn measure(stack: &Stack, plan: &Plan, findings: &mut Findings) -> Result<(), BenchError> {
    let mut upstream_while_hot = 0;
    let mut gateway_calls = 0;
    let mut requests = 0;
    for (kind, scope) in [
        (TokenKind::AppOnly, APP_SCOPE),
        (TokenKind::UserPrincipal, USER_SCOPE),
    ] {
        let target = stack.http_target(kind, scope)?;
        // The first request fills the cache; its body is what the floor answers.
        let body = HttpProbe::connect(&target).await?.fetch_ok().await?;
        let upstream_before = stack.upstream_total();
        let mints_before = stack.state.metrics.mints_total();
        let floor = BareHttp::start(body).await?;
        let floor_target = HttpTarget {
            addr: floor.addr,
            ..target.clone()
        };
        for &concurrency in &plan.hot_concurrency {
            let spec = plan.hot_spec(concurrency);
            let (floor_result, measured) = generator::paired(
                spec,
                plan.hot_rounds,
                || HttpProbe::connect(&floor_target),
                || HttpProbe::connect(&target),
            )
            .await?;
            requests += measured.latency.len();
            let label = format!("{} c={concurrency}", kind.label());
            findings.hot_rows(NAME, &label, &measured, &floor_result, BARS);
        }
        upstream_while_hot += stack.upstream_total() - upstream_before;
        gateway_calls += stack.state.metrics.mints_total() - mints_before;
        floor.stop().await;
    }
    // The resolver answers repeats from its short-lived copy (`token_cache_ttl`); say how many of the
    // timed requests still went to the gateway.
    findings.row(Row::info(
        NAME,
        format!("gateway MintToken calls during the timed runs (of {requests} requests)"),
        gateway_calls as f64,
        Unit::Count,
    ));
    // Every timed request must have been a cache hit, or the ratios measure something else.
    findings.judged(
        Row::info(
            NAME,
            "upstream requests during the timed runs",
            upstream_while_hot as f64,
            Unit::Count,
        ),
        "= 0",
        upstream_while_hot == 0,
    );
    Ok(())
}
