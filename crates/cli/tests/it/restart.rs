//! RELIABILITY 27 and 28 with real processes: agents keep asking a sidecar resolver for tokens while
//! the gateway process behind it is SIGKILLed (its cache is lost) and started again on the same
//! port. Every agent request gets either a token or a 503 with `Retry-After`, the agents get tokens
//! again by themselves once the gateway is back, and the emulator sees at most one upstream request
//! per key per hop for the refill (single flight, no storm). Counts, never timings; the time bounds
//! are only there so that a hang fails instead of blocking the suite.
//!
//! The scenario is also run at TRACE by `secrets_lifecycle` (RELIABILITY 30), so it is public to
//! the crate.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentmint_stack::layout::MAIL_READ;

use crate::support::stack::{GRAPH_DEFAULT, Stack, StackOptions, USER_SCOPE};
use crate::support::{Proc, path_str};

/// The fixed set of keys the agents cycle through: (provider, kind, scope), both token kinds.
pub(crate) const KEYS: [(&str, &str, &str); 5] = [
    ("agent", "token", GRAPH_DEFAULT),
    ("agent", "user-token", USER_SCOPE),
    ("agent", "user-token", MAIL_READ),
    ("agent-nouser", "token", GRAPH_DEFAULT),
    ("bot", "token", GRAPH_DEFAULT),
];

/// How many upstream cache keys [`KEYS`] spans on each emulator hop, i.e. how many upstream
/// requests a cold gateway makes when single flight holds:
/// - blueprint: T1 of the first and of the second Blueprint (shared by both token kinds);
/// - agent_identity: the agent's app token, the agent's T2, agent-nouser's app token;
/// - agent_user: User.Read and Mail.Read for the Agent User;
/// - managed_identity: the bot's assertion; app: the bot's Graph token.
pub(crate) const KEYS_PER_HOP: [(&str, u64); 6] = [
    ("blueprint", 2),
    ("agent_identity", 3),
    ("agent_user", 2),
    ("managed_identity", 1),
    ("app", 1),
    ("other", 0),
];

/// Phases of the scenario, stamped on each request when it is sent.
const WARM: u8 = 0;
const DOWN: u8 = 1;
const BACK: u8 = 2;

/// The shape of the load: how many agents, and how long each pauses between its requests.
#[derive(Clone, Copy)]
pub(crate) struct Load {
    pub agents: usize,
    pub pause: Duration,
    /// Each agent stops after this many requests whatever happens (a bound, not a goal).
    pub max_requests_per_agent: u64,
}

/// What the agents saw, per phase, and what the emulator counted.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    /// 200s with a token, per phase (warm, gateway down, gateway back).
    pub ok: [u64; 3],
    /// 503s with `Retry-After`, per phase. Warm-phase ones are requests sent just before the kill
    /// and cut by it (the gateway died mid-request, RELIABILITY 27).
    pub unavailable: [u64; 3],
    /// The 503s by "phase:error code" (phase 0 warm, 1 gateway down, 2 gateway back).
    pub unavailable_errors: BTreeMap<String, u64>,
    /// Anything else: another status, a 503 without `Retry-After`, a reset, a hang.
    pub bad: Vec<String>,
    /// Upstream requests per hop of the cold start (from the scenario's start to the kill).
    pub cold: BTreeMap<String, u64>,
    /// Upstream requests per hop from the kill to the end (the refill after the restart).
    pub refill: BTreeMap<String, u64>,
}

#[derive(Default)]
struct Shared {
    phase: AtomicU8,
    stop: AtomicBool,
    ok: [AtomicU64; 3],
    unavailable: [AtomicU64; 3],
    bad: Mutex<Vec<String>>,
    unavailable_errors: Mutex<BTreeMap<String, u64>>,
    /// Per agent: it got a full round of [`KEYS`] as 200s, all sent in the current phase.
    settled: Mutex<Vec<bool>>,
}

enum Outcome {
    Token,
    /// With the resolver's `error` code (`gateway_unavailable`, `temporarily_unavailable`, ...).
    Unavailable(String),
    Bad(String),
}

async fn ask(http: &reqwest::Client, url: &str, scope: &str) -> Outcome {
    let response = match http
        .get(url)
        .query(&[("scope", scope)])
        .header("Metadata", "true")
        .send()
        .await
    {
        Ok(r) => r,
        // A reset, a refused connection or the client's 20 s bound (a hang).
        Err(err) => return Outcome::Bad(format!("no answer: {err}")),
    };
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    let body: serde_json::Value = match response.json().await {
        Ok(body) => body,
        Err(err) => return Outcome::Bad(format!("{status} with an unreadable body: {err}")),
    };
    match status {
        200 if body["access_token"].as_str().is_some_and(|t| !t.is_empty()) => Outcome::Token,
        503 if retry_after => Outcome::Unavailable(body["error"].as_str().unwrap_or("").to_owned()),
        // The body is the resolver's typed error (never a token), safe to show.
        _ => Outcome::Bad(format!("{status} (Retry-After: {retry_after}): {body}")),
    }
}

async fn agent(index: usize, urls: Vec<(String, &'static str)>, load: Load, shared: Arc<Shared>) {
    let http = Stack::http();
    let mut streak = 0usize;
    let mut streak_phase = WARM;
    for n in 0..load.max_requests_per_agent {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let phase = shared.phase.load(Ordering::SeqCst);
        if phase != streak_phase {
            (streak, streak_phase) = (0, phase);
        }
        let (url, scope) = &urls[(index + n as usize) % urls.len()];
        let p = usize::from(phase);
        match ask(&http, url, scope).await {
            Outcome::Token => {
                shared.ok[p].fetch_add(1, Ordering::SeqCst);
                streak += 1;
                if streak >= urls.len() && shared.phase.load(Ordering::SeqCst) == phase {
                    shared.settled.lock().unwrap()[index] = true;
                }
            }
            Outcome::Unavailable(error) => {
                shared.unavailable[p].fetch_add(1, Ordering::SeqCst);
                *shared
                    .unavailable_errors
                    .lock()
                    .unwrap()
                    .entry(format!("{phase}:{error}"))
                    .or_default() += 1;
                streak = 0;
            }
            Outcome::Bad(what) => {
                shared
                    .bad
                    .lock()
                    .unwrap()
                    .push(format!("agent {index}, phase {phase}, {url}: {what}"));
                streak = 0;
            }
        }
        tokio::time::sleep(load.pause).await;
    }
}

/// Waits (bounded, so a hang fails) until `done` holds.
async fn wait_until(what: &str, bound: Duration, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < bound,
            "no-hang bound passed waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Upstream requests per hop (every outcome), from the emulator's stats endpoint.
async fn upstream_per_hop(stack: &Stack) -> BTreeMap<String, u64> {
    let stats = stack.emulator_stats().await;
    KEYS_PER_HOP
        .iter()
        .map(|(hop, _)| {
            let total = stats["requests"][hop]["total"]
                .as_u64()
                .unwrap_or_else(|| panic!("no count for {hop}: {stats}"));
            (hop.to_string(), total)
        })
        .collect()
}

/// The socket address of a `scheme://host:port` URL.
fn socket_addr(url: &str) -> SocketAddr {
    url.split_once("://")
        .map_or(url, |(_, rest)| rest)
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// SIGKILLs the stack's gateway, as a crash or an OOM kill would: its cache is lost. Returns the
/// gRPC address the resolver keeps using.
pub(crate) fn kill_gateway(stack: &mut Stack) -> SocketAddr {
    stack.gateway.sigkill();
    socket_addr(&stack.gateway_url)
}

/// Starts a new gateway on `addr`, the killed one's gRPC port, so the resolver, which keeps its
/// gateway address, finds it again. Returns the dead process (its output stays readable).
///
/// The port is free once the old process is reaped, but another process on the machine may take it
/// in between; so it is probed by binding and releasing, and the start is retried, a bounded number
/// of times. The admin port is a new one (the config's `127.0.0.1:0`).
pub(crate) fn restart_gateway(stack: &mut Stack, log: &str, addr: SocketAddr) -> Proc {
    let mi_endpoint = format!("{}/msi/token", stack.emulator_url);
    let config = path_str(&stack.config_path);
    let listen = addr.to_string();
    const ATTEMPTS: usize = 10;
    for attempt in 1..=ATTEMPTS {
        if let Err(err) = TcpListener::bind(addr) {
            eprintln!("restart attempt {attempt}: {addr} is taken ({err}); retrying");
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        // Released here; the gateway binds it again right away (tokio sets SO_REUSEADDR, so the
        // old connections' TIME_WAIT does not stand in the way).
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| {
            Proc::start(
                "gateway (restarted)",
                &[
                    "--log",
                    log,
                    "gateway",
                    "--config",
                    &config,
                    "--listen",
                    &listen,
                    "--reload-poll-seconds",
                    "1",
                ],
                &[
                    ("IDENTITY_ENDPOINT", &mi_endpoint),
                    ("IDENTITY_HEADER", &stack.world.identity_header),
                ],
            )
        }));
        match started {
            Ok(gateway) => {
                assert_eq!(
                    socket_addr(gateway.ready["grpc"].as_str().unwrap()),
                    addr,
                    "the restarted gateway listens where the resolver looks"
                );
                stack.admin_url = gateway.ready["admin"].as_str().unwrap().to_string();
                return std::mem::replace(&mut stack.gateway, gateway);
            }
            Err(_) => {
                eprintln!("restart attempt {attempt}: the gateway did not start; retrying");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    panic!("the gateway could not be restarted on {addr} in {ATTEMPTS} attempts");
}

/// A stack whose resolver keeps no copy of an answer, so every agent request reaches the gateway.
pub(crate) fn stack(log: &'static str) -> Stack {
    Stack::start(StackOptions {
        log,
        sandbox_args: vec!["--token-cache-secs".into(), "0".into()],
        ..StackOptions::default()
    })
}

/// Every upstream request takes at least this long, so that agents asking for the same cold key
/// overlap for certain: without single flight each of them would reach the emulator.
const UPSTREAM_LATENCY_MS: u64 = 150;

/// The scenario: agents warm the gateway up, the gateway is SIGKILLed and restarted on its port,
/// the agents carry on until each has had a full round of tokens again. Returns the dead gateway
/// (for its logs) and the figures; asserts only that each phase is reached within its no-hang bound.
pub(crate) async fn run(stack: &mut Stack, log: &str, load: Load) -> (Proc, Figures) {
    stack
        .set_knobs(serde_json::json!({ "latency_ms": UPSTREAM_LATENCY_MS }))
        .await;
    let base = upstream_per_hop(stack).await;
    let shared = Arc::new(Shared {
        settled: Mutex::new(vec![false; load.agents]),
        ..Shared::default()
    });
    let urls: Vec<(String, &'static str)> = KEYS
        .iter()
        .map(|(provider, kind, scope)| (stack.url(provider, kind), *scope))
        .collect();
    let agents: Vec<_> = (0..load.agents)
        .map(|i| tokio::spawn(agent(i, urls.clone(), load, shared.clone())))
        .collect();
    let all_settled = || shared.settled.lock().unwrap().iter().all(|s| *s);
    let bound = Duration::from_secs(60);

    wait_until("every agent served a full round (warm)", bound, all_settled).await;
    let warm_total = upstream_per_hop(stack).await;
    let cold = warm_total
        .iter()
        .map(|(hop, n)| (hop.clone(), n - base[hop]))
        .collect();

    shared.phase.store(DOWN, Ordering::SeqCst);
    let addr = tokio::task::block_in_place(|| kill_gateway(stack));
    // As many answers as there are agents while the gateway is gone (503s, or anything else, which
    // the assertions then report), so the resolver's behaviour without a gateway is exercised.
    let answered_down = || {
        let bad = shared.bad.lock().unwrap().len() as u64;
        shared.unavailable[usize::from(DOWN)].load(Ordering::SeqCst) + bad >= load.agents as u64
    };
    wait_until("answers while the gateway is down", bound, answered_down).await;
    let dead = tokio::task::block_in_place(|| restart_gateway(stack, log, addr));
    // Phase first: a round finished by a request sent before it can no longer mark its agent.
    shared.phase.store(BACK, Ordering::SeqCst);
    shared.settled.lock().unwrap().fill(false);
    wait_until(
        "every agent served a full round after the restart",
        bound,
        all_settled,
    )
    .await;

    shared.stop.store(true, Ordering::SeqCst);
    for agent in agents {
        tokio::time::timeout(bound, agent)
            .await
            .expect("an agent hung")
            .expect("an agent panicked");
    }
    let after = upstream_per_hop(stack).await;
    let refill = after
        .iter()
        .map(|(hop, n)| (hop.clone(), n - warm_total[hop]))
        .collect();
    let figures = Figures {
        ok: shared.ok.each_ref().map(|n| n.load(Ordering::SeqCst)),
        unavailable: shared
            .unavailable
            .each_ref()
            .map(|n| n.load(Ordering::SeqCst)),
        unavailable_errors: shared.unavailable_errors.lock().unwrap().clone(),
        bad: shared.bad.lock().unwrap().clone(),
        cold,
        refill,
    };
    eprintln!("restart figures: {figures:?}");
    (dead, figures)
}

/// Asserts the RELIABILITY 27/28 properties on the figures of [`run`].
pub(crate) fn assert_properties(figures: &Figures) {
    assert!(
        figures.bad.is_empty(),
        "{} agent requests got neither a token nor a 503 with Retry-After, e.g. {:#?}",
        figures.bad.len(),
        &figures.bad[..figures.bad.len().min(5)]
    );
    for (hop, keys) in KEYS_PER_HOP {
        assert_eq!(
            figures.cold[hop], keys,
            "cold start, hop {hop}: one upstream request per key ({figures:?})"
        );
        assert!(
            figures.refill[hop] <= keys,
            "after the restart, hop {hop}: at most one upstream request per key ({keys}), got {} \
             ({figures:?})",
            figures.refill[hop]
        );
    }
    assert!(
        figures.refill.values().sum::<u64>() > 0,
        "the restarted gateway had to mint again (its cache was lost): {figures:?}"
    );
    // The resolver's typed codes for "no answer from the gateway" and "the gateway says later".
    for key in figures.unavailable_errors.keys() {
        assert!(
            key.ends_with(":gateway_unavailable") || key.ends_with(":temporarily_unavailable"),
            "a 503 of another kind: {key} ({figures:?})"
        );
    }
    assert!(
        figures.unavailable[usize::from(DOWN)] > 0,
        "the resolver answered 503 while the gateway was gone: {figures:?}"
    );
    assert!(figures.ok[usize::from(BACK)] > 0, "{figures:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_killed_and_restarted_under_load_refills_once_per_key_and_agents_recover() {
    let mut stack = stack("info");
    let load = Load {
        agents: 16,
        pause: Duration::from_millis(5),
        max_requests_per_agent: 5_000,
    };
    let (_dead, figures) = run(&mut stack, "info", load).await;
    assert_properties(&figures);
}
