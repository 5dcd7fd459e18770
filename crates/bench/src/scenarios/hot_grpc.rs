//! Scenario 2: the hot path over gRPC. `MintToken` on a reused channel, answered from the gateway's
//! cache, compared with a bare tonic `TokenBroker` answering the very message the gateway answered:
//! same codec, same client, same run.

use std::sync::Arc;

use crate::error::BenchError;
use crate::floors::BareGrpc;
use crate::grpc_client::{GrpcCounters, GrpcProbe, GrpcTarget};
use crate::plan::Plan;
use crate::scenarios::{Findings, HotBars, hot};
use crate::stack::{Stack, StackOptions};

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
    for (kind, scope) in hot::KINDS {
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
        hot::compare(
            plan,
            findings,
            NAME,
            kind,
            BARS,
            || GrpcProbe::connect(&floor_target, Arc::new(GrpcCounters::default())),
            || GrpcProbe::connect(&target, counters.clone()),
        )
        .await?;
        upstream_while_hot += stack.upstream_total() - upstream_before;
        floor.stop().await;
    }
    hot::judge_all_hits(findings, NAME, upstream_while_hot);
    Ok(())
}
