//! Scenario 2: the hot path over gRPC. `MintToken` on a reused channel, answered from the gateway's
//! cache, compared with a bare tonic `TokenBroker` answering the very message the gateway answered:
//! same codec, same client, same run.

use std::sync::Arc;

use agentmint_proto::TokenKind;

use crate::error::BenchError;
use crate::floors::BareGrpc;
use crate::generator;
use crate::grpc_client::{GrpcCounters, GrpcProbe, GrpcTarget};
use crate::plan::Plan;
use crate::report::{Row, Unit};
use crate::scenarios::{Findings, HotBars};
use crate::stack::{APP_SCOPE, Stack, StackOptions, USER_SCOPE};

pub const NAME: &str = "2 hot path (gRPC)";

const BARS: HotBars = HotBars {
    min_throughput_ratio: 0.8,
    max_p99_ratio: None,
};

pub async fn run(plan: &Plan, findings: &mut Findings) -> Result<(), BenchError> {
    let stack = Stack::start(StackOptions::default()).await?;
    let result = measure(&stack, plan, findings).await;
    stack.shutdown().await;
    result
}

async fn measure(stack: &Stack, plan: &Plan, findings: &mut Findings) -> Result<(), BenchError> {
    let mut upstream_while_hot = 0;
    for (kind, scope) in [
        (TokenKind::AppOnly, APP_SCOPE),
        (TokenKind::UserPrincipal, USER_SCOPE),
    ] {
        let target = stack.grpc_target(kind, vec![scope.to_owned()]);
        let counters = Arc::new(GrpcCounters::default());
        // The first request fills the cache; the answer to the second (a hit) is what the floor
        // answers, byte for byte.
        let mut probe = GrpcProbe::connect(&target, counters.clone()).await?;
        probe.mint().await?;
        let response = probe.mint().await?;
        let upstream_before = stack.upstream_total();
        drop(probe);
        let floor = BareGrpc::start(response).await?;
        let floor_target = GrpcTarget {
            addr: floor.addr,
            ..target.clone()
        };
        for &concurrency in &plan.hot_concurrency {
            let spec = plan.hot_spec(concurrency);
            let (floor_result, measured) = generator::paired(
                spec,
                plan.hot_rounds,
                || GrpcProbe::connect(&floor_target, Arc::new(GrpcCounters::default())),
                || GrpcProbe::connect(&target, counters.clone()),
            )
            .await?;
            let label = format!("{} c={concurrency}", kind.label());
            findings.hot_rows(NAME, &label, &measured, &floor_result, BARS);
        }
        upstream_while_hot += stack.upstream_total() - upstream_before;
        floor.stop().await;
    }
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
