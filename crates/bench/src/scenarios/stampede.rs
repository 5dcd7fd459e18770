//! Scenario 4: the stampede. A thousand callers ask at once for keys nobody has asked for yet; the
//! emulator adds latency so that every caller arrives while the first upstream call is in flight.
//! Single flight means exactly one upstream request per hop and distinct key, however many wait.
//!
//! Three fresh stacks, so each part starts with every cache cold: one USER_PRINCIPAL key, one
//! APP_ONLY key, then 100 USER_PRINCIPAL keys (distinct scopes) of one provider, which share T1
//! and T2.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use agentmint_proto::{MintTokenRequest, TokenKind};
use tokio::sync::Barrier;

use crate::error::BenchError;
use crate::grpc_client::{GrpcCounters, GrpcProbe};
use crate::keys::key_sets;
use crate::plan::Plan;
use crate::report::{Row, Unit};
use crate::scenarios::Findings;
use crate::stack::{APP_SCOPE, Stack, StackOptions, USER_SCOPE};

pub const NAME: &str = "4 stampede";

/// Callers share this many HTTP/2 connections (a few hundred streams each at most).
const CHANNELS: usize = 20;

/// One part of the scenario.
struct Part {
    label: String,
    kind: TokenKind,
    /// The distinct scope sets asked for; callers are spread evenly over them.
    keys: Vec<Vec<String>>,
    /// Extra scopes the provider must allow.
    scopes: usize,
}

/// What the emulator saw for one part.
struct Seen {
    blueprint: u64,
    agent_identity: u64,
    agent_user: u64,
    total: u64,
    answered: usize,
    failed: usize,
    first_error: Option<String>,
    /// Keys whose callers did not all receive the same token.
    split_keys: usize,
    elapsed_ms: f64,
}

pub async fn run(plan: &Plan, findings: &mut Findings) -> Result<(), BenchError> {
    let callers = plan.stampede_callers;
    let many = key_sets(plan.stampede_keys)?;
    let parts = [
        Part {
            label: "1 user key".into(),
            kind: TokenKind::UserPrincipal,
            keys: vec![vec![USER_SCOPE.to_owned()]],
            scopes: 0,
        },
        Part {
            label: "1 app key".into(),
            kind: TokenKind::AppOnly,
            keys: vec![vec![APP_SCOPE.to_owned()]],
            scopes: 0,
        },
        Part {
            label: format!("{} user keys", plan.stampede_keys),
            kind: TokenKind::UserPrincipal,
            keys: many.sets,
            scopes: many.scopes,
        },
    ];
    for part in parts {
        let seen = stampede(plan, &part).await?;
        let n = part.keys.len() as u64;
        let label = format!("{}, {callers} callers", part.label);
        let (hop_name, hop_count) = match part.kind {
            TokenKind::UserPrincipal => ("agent_user (hop 3)", seen.agent_user),
            _ => ("agent_identity app token (hop 2)", seen.agent_identity),
        };
        count(
            findings,
            &label,
            "blueprint (T1) requests",
            seen.blueprint,
            1,
        );
        if part.kind == TokenKind::UserPrincipal {
            count(
                findings,
                &label,
                "agent_identity (T2) requests",
                seen.agent_identity,
                1,
            );
        }
        count(
            findings,
            &label,
            &format!("{hop_name} requests"),
            hop_count,
            n,
        );
        let expected_total = if part.kind == TokenKind::UserPrincipal {
            2 + n
        } else {
            1 + n
        };
        count(
            findings,
            &label,
            "upstream requests, all hops",
            seen.total,
            expected_total,
        );
        count(
            findings,
            &label,
            "callers answered",
            seen.answered as u64,
            callers as u64,
        );
        count(
            findings,
            &label,
            "keys whose callers got different tokens",
            seen.split_keys as u64,
            0,
        );
        findings.row(Row::info(
            NAME,
            format!("{label}: time to answer all"),
            seen.elapsed_ms,
            Unit::Millis,
        ));
        if seen.failed > 0 {
            findings.note(format!(
                "{NAME} {label}: {} callers failed; first: {}",
                seen.failed,
                seen.first_error.unwrap_or_default()
            ));
        }
    }
    findings.note(format!(
        "{NAME}: emulator latency {} ms per request so every caller arrives while the first upstream \
         call is in flight; callers share {CHANNELS} gRPC channels",
        plan.stampede_latency.as_millis()
    ));
    Ok(())
}

fn count(findings: &mut Findings, label: &str, what: &str, value: u64, expected: u64) {
    findings.judged(
        Row::info(NAME, format!("{label}: {what}"), value as f64, Unit::Count),
        format!("= {expected}"),
        value == expected,
    );
}

async fn stampede(plan: &Plan, part: &Part) -> Result<Seen, BenchError> {
    let stack = Stack::start(StackOptions::cold(plan.stampede_latency, part.scopes)).await?;
    let result = fire(&stack, plan.stampede_callers, part).await;
    stack.shutdown().await;
    result
}

async fn fire(stack: &Stack, callers: usize, part: &Part) -> Result<Seen, BenchError> {
    let target = stack.grpc_target(part.kind, Vec::new());
    let counters = Arc::new(GrpcCounters::default());
    let mut channels = Vec::with_capacity(CHANNELS);
    for _ in 0..CHANNELS {
        channels.push(GrpcProbe::connect(&target, counters.clone()).await?);
    }
    let start = Arc::new(Barrier::new(callers + 1));
    let mut tasks = Vec::with_capacity(callers);
    for i in 0..callers {
        let key = i % part.keys.len();
        let request = MintTokenRequest {
            scopes: part.keys[key].clone(),
            ..target.request.clone()
        };
        let mut probe = channels[i % CHANNELS].clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            (key, probe.send(request).await)
        }));
    }
    start.wait().await;
    let began = Instant::now();
    let mut tokens: Vec<HashSet<String>> = vec![HashSet::new(); part.keys.len()];
    let (mut answered, mut failed, mut first_error) = (0, 0, None);
    for task in tasks {
        match task.await? {
            (key, Ok(response)) => {
                answered += 1;
                tokens[key].insert(response.access_token);
            }
            (_, Err(err)) => {
                failed += 1;
                first_error.get_or_insert_with(|| err.to_string());
            }
        }
    }
    let elapsed_ms = began.elapsed().as_secs_f64() * 1_000.0;
    let stats = stack.upstream();
    Ok(Seen {
        blueprint: stats.blueprint.total,
        agent_identity: stats.agent_identity.total,
        agent_user: stats.agent_user.total,
        total: stats.total,
        answered,
        failed,
        first_error,
        split_keys: tokens.iter().filter(|t| t.len() > 1).count(),
        elapsed_ms,
    })
}
