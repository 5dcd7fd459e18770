//! RELIABILITY 36 and issue 9's rotation by content: a certificate, a client secret or a sandbox
//! credential renewed in place, under load. After the reload no request reaching the emulator
//! carries the retired credential (the emulator counts every credential presented), and no caller
//! sees an error; the tokens obtained with the old credential are served until the new ones arrive,
//! or dropped at once with a revoking reload.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use agentmint_emulator::directory::hash_client_secret;
use agentmint_emulator::pki;
use agentmint_emulator::{Knobs, Stats};
use agentmint_entra::{CertificateCredential, SigningAlgorithm};
use agentmint_gateway::Revocation;
use agentmint_proto::TokenKind;
use agentmint_stack::{
    Blueprint, DirectoryEdit, Layout, Provider, Sandbox, Stack, StackOptions, UserBy,
};
use tonic::Code;

use crate::support::*;

/// How many times a bounded wait polls before giving up.
const POLLS: usize = 2000;
const POLL_EVERY: Duration = Duration::from_millis(10);

/// The `x5t#S256` a certificate file's assertions carry.
fn thumbprint(key: &std::path::Path, cert: &std::path::Path) -> String {
    CertificateCredential::from_files(key, Some(cert), SigningAlgorithm::Ps256)
        .unwrap()
        .thumbprint_sha256()
}

/// How the emulator labels a client secret in its stats.
fn secret_label(secret: &str) -> String {
    format!("client_secret:sha256:{}", &hash_client_secret(secret)[..12])
}

fn agent_layout(sandbox: Sandbox) -> Layout {
    Layout {
        providers: vec![Provider::agent(
            "agent",
            Blueprint::First,
            Some(UserBy::ObjectId),
            &[USER_READ],
        )],
        sandboxes: vec![sandbox],
        extra_config: String::new(),
    }
}

fn sandbox_a(providers: &[&str]) -> Sandbox {
    Sandbox {
        credential: CRED_A.into(),
        ..Sandbox::new("sandbox-a", providers)
    }
}

type Edit = DirectoryEdit;

async fn start_stack(layout: Layout, edit: Option<Edit>) -> Stack {
    Stack::start(StackOptions {
        layout,
        knobs: Knobs::default(),
        edit_directory: edit,
        ..StackOptions::default()
    })
    .await
    .unwrap()
}

/// A second certificate for the first Blueprint, registered in the emulator before the stack
/// starts (as an operator uploads the new certificate before switching to it): its key and
/// certificate PEM.
fn next_certificate() -> (String, String, Edit) {
    let now = SystemTime::now();
    let next = pki::generate_client_certificate(
        "demo-blueprint",
        now - Duration::from_secs(3600),
        now + Duration::from_secs(30 * 24 * 3600),
    )
    .unwrap();
    let cert = next.cert_pem.clone();
    let edit: Edit = Box::new(move |world, directory| {
        let blueprint = directory
            .tenants
            .iter_mut()
            .flat_map(|t| t.blueprints.iter_mut())
            .find(|b| b.app_id == world.blueprint_app_id)
            .unwrap();
        blueprint.certificates.push(cert);
    });
    (next.key_pem, next.cert_pem, edit)
}

/// Callers minting in a loop until stopped (at most `MAX_ROUNDS` rounds each), counting their
/// successes and errors.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

const MAX_ROUNDS: usize = 20_000;

impl Load {
    fn start(
        client: &TokenBrokerClient,
        calls: &[(&'static str, TokenKind, &'static str)],
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for worker in 0..8 {
            let (provider, kind, scope) = calls[worker % calls.len()];
            let mut client = client.clone();
            let (stop, ok, errors) = (stop.clone(), ok.clone(), errors.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..MAX_ROUNDS {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    match mint(&mut client, CRED_A, provider, kind, &[scope]).await {
                        Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }));
        }
        Self {
            stop,
            ok,
            errors,
            tasks,
        }
    }

    /// Waits (bounded) until `more` further mints succeeded.
    async fn run_for(&self, more: u64) {
        let target = self.ok.load(Ordering::Relaxed) + more;
        for _ in 0..POLLS {
            if self.ok.load(Ordering::Relaxed) >= target {
                return;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        panic!("the load made no progress");
    }

    /// Stops the callers and returns how many errors they saw.
    async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        self.errors.load(Ordering::Relaxed)
    }
}

type TokenBrokerClient = agentmint_proto::TokenBrokerClient<tonic::transport::Channel>;

/// Waits (bounded) until the emulator's stats satisfy `done`.
async fn until(h: &Stack, what: &str, done: impl Fn(&Stats) -> bool) -> Stats {
    for _ in 0..POLLS {
        let stats = h.emulator.stats();
        if done(&stats) {
            return stats;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    panic!("timed out waiting for {what}: {:?}", h.emulator.stats());
}

fn ok(stats: &Stats, hop: &str) -> u64 {
    stats.count(hop, "ok")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_certificate_rotated_in_place_under_load_never_signs_again_after_the_reload() {
    let (next_key, next_cert, edit) = next_certificate();
    let h = start_stack(agent_layout(sandbox_a(&["agent"])), Some(edit)).await;
    let (key_path, cert_path) = (&h.world.blueprint_key_path, &h.world.blueprint_cert_path);
    let old = thumbprint(key_path, cert_path);
    let mut client = connect(&h).await;
    let app_before = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    minted_a(&mut client, "agent", TokenKind::UserPrincipal, &[USER_READ]).await;

    let load = Load::start(
        &client,
        &[
            ("agent", TokenKind::AppOnly, GRAPH),
            ("agent", TokenKind::UserPrincipal, USER_READ),
        ],
    );
    load.run_for(200).await;

    std::fs::write(key_path, &next_key).unwrap();
    std::fs::write(cert_path, &next_cert).unwrap();
    let new = thumbprint(key_path, cert_path);
    assert_ne!(old, new);
    let before = h.emulator.stats();
    assert_eq!(before.assertions_by(&old), 1, "one T1 before the rotation");
    let reloaded = h.gateway.reload().unwrap();
    assert_eq!(reloaded.providers.changed, ["agent"]);
    assert_eq!(reloaded.dropped, 1, "the old T1 is dropped");
    assert_eq!(
        reloaded.renewing, 3,
        "app-only, T2 and user tokens are renewed"
    );

    // The renewals land in the background while the load keeps being served.
    let after = until(&h, "the renewed tokens", |s| {
        ok(s, "agent_user") == ok(&before, "agent_user") + 1
            && ok(s, "agent_identity") == ok(&before, "agent_identity") + 2
    })
    .await;
    load.run_for(200).await;
    assert_eq!(load.finish().await, 0, "no caller saw an error");

    let end = h.emulator.stats();
    assert_eq!(end.assertions_by(&old), 1, "the old key never signed again");
    assert_eq!(
        end.assertions_by(&new),
        1,
        "one T1 with the new key, for every renewal"
    );
    assert_eq!(ok(&end, "blueprint"), ok(&before, "blueprint") + 1);
    assert_eq!(
        end.total(),
        after.total(),
        "then everything is served from cache"
    );
    let app_after = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    assert!(app_after.cache_hit);
    assert_ne!(
        app_after.access_token, app_before.access_token,
        "the renewed token is served"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_secret_renewed_in_place_under_load_is_never_sent_again_after_the_reload() {
    let next_secret = "renewed-client-secret-0123456789abcdef".to_owned();
    let registered = next_secret.clone();
    let edit: Edit = Box::new(move |world, directory| {
        let app = directory
            .tenants
            .iter_mut()
            .flat_map(|t| t.apps.iter_mut())
            .find(|a| a.app_id == world.app_id)
            .unwrap();
        app.client_secret_sha256
            .push(hash_client_secret(&registered));
    });
    let layout = Layout {
        providers: vec![Provider::SecretApp { name: "app".into() }],
        sandboxes: vec![sandbox_a(&["app"])],
        extra_config: String::new(),
    };
    let h = start_stack(layout, Some(edit)).await;
    let old_secret = std::fs::read_to_string(&h.world.app_secret_path).unwrap();
    let mut client = connect(&h).await;
    minted_a(&mut client, "app", TokenKind::AppOnly, &[GRAPH]).await;
    let load = Load::start(&client, &[("app", TokenKind::AppOnly, GRAPH)]);
    load.run_for(200).await;

    std::fs::write(&h.world.app_secret_path, format!("{next_secret}\n")).unwrap();
    let before = h.emulator.stats();
    assert_eq!(before.credential(&secret_label(old_secret.trim())), 1);
    let reloaded = h.gateway.reload().unwrap();
    assert_eq!(reloaded.providers.changed, ["app"]);
    assert_eq!(reloaded.renewing, 1);

    until(&h, "the renewed app token", |s| {
        ok(s, "app") == ok(&before, "app") + 1
    })
    .await;
    load.run_for(200).await;
    assert_eq!(load.finish().await, 0, "no caller saw an error");
    let end = h.emulator.stats();
    assert_eq!(
        end.credential(&secret_label(old_secret.trim())),
        1,
        "the old secret never again"
    );
    assert_eq!(end.credential(&secret_label(&next_secret)), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sandbox_credential_file_renewed_in_place_refuses_the_old_one_after_the_reload() {
    let sandbox = Sandbox {
        credential: CRED_A.into(),
        by_file: true,
        ..Sandbox::new("sandbox-a", &["agent"])
    };
    let h = start_stack(agent_layout(sandbox), None).await;
    let client = connect(&h).await;
    let load = Load::start(&client, &[("agent", TokenKind::AppOnly, GRAPH)]);
    load.run_for(200).await;
    assert_eq!(load.finish().await, 0);
    let upstream_before = upstream_total(&h);

    let path = &h.credential("sandbox-a").unwrap().credential_path;
    let renewed = "sandbox-a-renewed-credential-0123456789";
    std::fs::write(path, format!("{renewed}\n")).unwrap();
    let reloaded = h.gateway.reload().unwrap();
    assert_eq!(
        reloaded.providers.kept,
        ["agent"],
        "the provider keeps its cache"
    );

    let mut client = connect(&h).await;
    let old = mint(&mut client, CRED_A, "agent", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap_err();
    assert_eq!(old.code(), Code::Unauthenticated);
    let new = mint(&mut client, renewed, "agent", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap();
    assert!(new.cache_hit, "the provider's tokens were kept");
    assert_eq!(upstream_total(&h), upstream_before, "no upstream call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoking_reload_never_serves_a_token_obtained_with_the_old_certificate() {
    let (next_key, next_cert, edit) = next_certificate();
    let h = start_stack(agent_layout(sandbox_a(&["agent"])), Some(edit)).await;
    let mut client = connect(&h).await;
    let before = minted_a(&mut client, "agent", TokenKind::UserPrincipal, &[USER_READ]).await;
    std::fs::write(&h.world.blueprint_key_path, &next_key).unwrap();
    std::fs::write(&h.world.blueprint_cert_path, &next_cert).unwrap();

    let reloaded = h.gateway.reload_with(Revocation::Revoke).unwrap();
    assert_eq!(reloaded.renewing, 0);
    assert_eq!(reloaded.dropped, 3, "T1, T2 and the user token");
    let after = minted_a(&mut client, "agent", TokenKind::UserPrincipal, &[USER_READ]).await;
    assert!(
        !after.cache_hit,
        "the caller waited for a token minted with the new key"
    );
    assert_ne!(after.access_token, before.access_token);
    let new = thumbprint(&h.world.blueprint_key_path, &h.world.blueprint_cert_path);
    assert_eq!(h.emulator.stats().assertions_by(&new), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_picks_up_a_certificate_renewed_in_place_without_a_signal() {
    let (next_key, next_cert, edit) = next_certificate();
    let h = start_stack(agent_layout(sandbox_a(&["agent"])), Some(edit)).await;
    let mut client = connect(&h).await;
    minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    let watcher = agentmint_gateway::spawn_reload_watcher(h.gateway.clone(), POLL_EVERY);
    let old = thumbprint(&h.world.blueprint_key_path, &h.world.blueprint_cert_path);

    // Written one after the other, as a renewal tool would: the watcher waits for them to settle.
    std::fs::write(&h.world.blueprint_key_path, &next_key).unwrap();
    std::fs::write(&h.world.blueprint_cert_path, &next_cert).unwrap();
    let new = thumbprint(&h.world.blueprint_key_path, &h.world.blueprint_cert_path);
    let end = until(&h, "the T1 signed with the renewed certificate", |s| {
        s.assertions_by(&new) == 1 && s.count("agent_identity", "ok") == 2
    })
    .await;
    assert_eq!(end.assertions_by(&old), 1);
    watcher.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_picks_up_a_sandbox_credential_file_renewed_in_place() {
    let sandbox = Sandbox {
        credential: CRED_A.into(),
        by_file: true,
        ..Sandbox::new("sandbox-a", &["agent"])
    };
    let h = start_stack(agent_layout(sandbox), None).await;
    let mut client = connect(&h).await;
    minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    let watcher = agentmint_gateway::spawn_reload_watcher(h.gateway.clone(), POLL_EVERY);

    let renewed = "sandbox-a-renewed-credential-0123456789";
    let path = h.credential("sandbox-a").unwrap().credential_path.clone();
    std::fs::write(&path, renewed).unwrap();
    let mut accepted = false;
    for _ in 0..POLLS {
        if mint(&mut client, renewed, "agent", TokenKind::AppOnly, &[GRAPH])
            .await
            .is_ok()
        {
            accepted = true;
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    assert!(
        accepted,
        "the renewed credential is accepted without a signal"
    );
    let old = mint(&mut client, CRED_A, "agent", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap_err();
    assert_eq!(old.code(), Code::Unauthenticated);
    watcher.abort();
}
