//! Issue 12: a sandbox identified by a Kubernetes projected service-account token. A valid token
//! for the configured namespace and service account mints; every forged, stale or foreign token is
//! UNAUTHENTICATED before any upstream call; a key added to the JWKS file works after a reload.

use agentmint_proto::TokenKind;
use agentmint_stack::{Stack, StackOptions};
use agentmint_testkit::service_account::{self as sa, IssuerKey};
use serde_json::{Value, json};
use tonic::Code;

use crate::support::*;

const NS: &str = "agents";
const SA: &str = "agent-k";

struct Cluster {
    _dir: tempfile::TempDir,
    jwks_path: std::path::PathBuf,
    key: IssuerKey,
}

fn cluster() -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let jwks_path = dir.path().join("cluster-jwks.json");
    let key = IssuerKey::new("k1");
    std::fs::write(&jwks_path, sa::jwks(&[&key])).unwrap();
    Cluster {
        _dir: dir,
        jwks_path,
        key,
    }
}

async fn start_cluster(cluster: &Cluster) -> Stack {
    let mut layout = layout();
    layout.extra_config = format!(
        "\n[[sandbox]]\nname = \"sandbox-k\"\nproviders = [\"bot\"]\n{}",
        sa::sandbox_section(cluster.jwks_path.to_str().unwrap(), NS, SA)
    );
    Stack::start(StackOptions {
        layout,
        ..StackOptions::default()
    })
    .await
    .unwrap()
}

fn with(mut claims: Value, edit: impl FnOnce(&mut Value)) -> Value {
    edit(&mut claims);
    claims
}

#[tokio::test]
async fn a_valid_service_account_token_mints_and_every_bad_one_is_unauthenticated() {
    let c = cluster();
    let h = start_cluster(&c).await;
    let mut client = connect(&h).await;
    let good = sa::claims(NS, SA);
    let now = sa::now();
    let foreign = IssuerKey::new("k1");
    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            c.key.sign(
                &with(good.clone(), |v| {
                    v["iat"] = json!(now - 7200);
                    v["nbf"] = json!(now - 7200);
                    v["exp"] = json!(now - 3600);
                }),
                None,
            ),
        ),
        (
            "not yet valid",
            c.key.sign(
                &with(good.clone(), |v| {
                    v["nbf"] = json!(now + 600);
                    v["iat"] = json!(now + 600);
                    v["exp"] = json!(now + 4200);
                }),
                None,
            ),
        ),
        (
            "wrong audience",
            c.key
                .sign(&with(good.clone(), |v| v["aud"] = json!(["vault"])), None),
        ),
        (
            "wrong issuer",
            c.key.sign(
                &with(good.clone(), |v| v["iss"] = json!("https://other.example")),
                None,
            ),
        ),
        (
            "wrong namespace",
            c.key.sign(&sa::claims("default", SA), None),
        ),
        (
            "wrong service account",
            c.key.sign(&sa::claims(NS, "other"), None),
        ),
        ("unknown kid", c.key.sign(&good, Some("k9"))),
        ("bad signature", foreign.sign(&good, None)),
        ("alg none", c.key.unsigned(&good)),
        (
            "hs256 keyed with the public key",
            c.key.hs256_with_public_key(&good),
        ),
        (
            "over the maximum lifetime",
            c.key.sign(
                &with(good.clone(), |v| v["exp"] = json!(now + 86400 + 3600)),
                None,
            ),
        ),
    ];
    let before = upstream_total(&h);
    for (case, token) in &cases {
        let err = mint(&mut client, token, "bot", TokenKind::AppOnly, &[GRAPH])
            .await
            .expect_err(case);
        assert_eq!(err.code(), Code::Unauthenticated, "{case}: {err:?}");
        assert!(
            !err.message().contains(token.as_str()),
            "{case}: token echoed"
        );
    }
    assert_eq!(
        upstream_total(&h),
        before,
        "no upstream call for a refused token"
    );

    let token = c.key.sign(&good, None);
    mint(&mut client, &token, "bot", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap();
    // The sandbox's providers still bound what the token may mint from.
    let err = mint(&mut client, &token, "agent", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap_err();
    assert_ne!(err.code(), Code::Ok);
    // Bearer-credential sandboxes keep working beside it.
    minted_a(&mut client, "bot", TokenKind::AppOnly, &[GRAPH]).await;
    h.shutdown().await;
}

#[tokio::test]
async fn a_key_added_to_the_jwks_file_is_used_after_a_reload() {
    let c = cluster();
    let h = start_cluster(&c).await;
    let mut client = connect(&h).await;
    let rotated = IssuerKey::new("k2");
    let token = rotated.sign(&sa::claims(NS, SA), None);
    let err = mint(&mut client, &token, "bot", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    std::fs::write(&c.jwks_path, sa::jwks(&[&c.key, &rotated])).unwrap();
    h.gateway.reload().unwrap();
    mint(&mut client, &token, "bot", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap();
    // A key dropped from the file stops working at the next reload.
    std::fs::write(&c.jwks_path, sa::jwks(&[&rotated])).unwrap();
    h.gateway.reload().unwrap();
    let old = c.key.sign(&sa::claims(NS, SA), None);
    let err = mint(&mut client, &old, "bot", TokenKind::AppOnly, &[GRAPH])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    h.shutdown().await;
}

/// The real resolver, started with a service-account token file, mints through the gateway; a
/// token rotated in the file (new contents, new mtime) is presented from the next call on.
#[tokio::test]
async fn the_resolver_presents_a_rotating_service_account_token_file() {
    use agentmint_sandbox::{
        GatewayTls, ManagedIdentityMode, Resolver, SandboxConfig, SandboxCredential,
    };
    let c = cluster();
    let h = start_cluster(&c).await;
    let token_file = c.jwks_path.with_file_name("token");
    let t0 = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    let write = |token: &str, mtime: std::time::SystemTime| {
        std::fs::write(&token_file, token).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&token_file)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    };
    write(&c.key.sign(&sa::claims(NS, "someone-else"), None), t0);
    let resolver = Resolver::new(SandboxConfig {
        gateway: h.gateway_url.clone(),
        gateway_tls: GatewayTls::default(),
        credential: SandboxCredential::from_token_file(&token_file).unwrap(),
        providers: vec!["bot".into()],
        managed_identity: ManagedIdentityMode::Off,
        allowed_hosts: Vec::new(),
        request_timeout: std::time::Duration::from_secs(10),
        token_cache_ttl: agentmint_sandbox::DEFAULT_TOKEN_CACHE_TTL,
        path_secret: None,
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let urls = resolver.urls(addr);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = resolver
            .serve(listener, async {
                let _ = stop_rx.await;
            })
            .await;
    });
    let scope = GRAPH.replace(':', "%3A").replace('/', "%2F");
    let url = format!(
        "{}?scope={scope}",
        urls.provider("bot").unwrap().app_token_url
    );
    let refused = agent_get(&url).await;
    assert_ne!(refused.status, 200, "{}", refused.body);
    write(
        &c.key.sign(&sa::claims(NS, SA), None),
        t0 + std::time::Duration::from_secs(60),
    );
    let minted = agent_get(&url).await;
    assert_eq!(minted.status, 200, "{}", minted.body);
    let _ = stop_tx.send(());
    let _ = task.await;
    h.shutdown().await;
}
