//! Scenario 1: the hot path through the sandbox. An agent's GET on its local token URL goes to the
//! resolver, over gRPC to the gateway, and is answered from the gateway's cache. Compared with a
//! bare HTTP server answering the very bytes the resolver answered, at concurrency 1, 16 and 64, for
//! both token kinds.

use crate::error::BenchError;
use crate::floors::BareHttp;
use crate::http_client::{HttpProbe, HttpTarget};
use crate::plan::Plan;
use crate::report::{Row, Unit};
use crate::scenarios::{Findings, HotBars, hot};
use crate::stack::{Stack, StackOptions};

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
    for (kind, scope) in hot::KINDS {
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
        requests += hot::compare(
            plan,
            findings,
            NAME,
            kind,
            BARS,
            || HttpProbe::connect(&floor_target),
            || HttpProbe::connect(&target),
        )
        .await?;
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
    hot::judge_all_hits(findings, NAME, upstream_while_hot);
    Ok(())
}
