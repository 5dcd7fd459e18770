//! The local token URLs: what they serve, and RELIABILITY 1-5 (what they refuse before any gateway
//! call).

use crate::common;
use agentmint_proto::MintTokenRequest;
use common::{AGENT, Behaviour, CREDENTIAL, FakeGateway, FakeState, Reply, Sandbox, get, text};

async fn setup() -> (FakeGateway, Sandbox) {
    let gateway = FakeGateway::start(FakeState::new(Behaviour::Token));
    let sandbox = Sandbox::start(&gateway).await;
    (gateway, sandbox)
}

#[tokio::test]
async fn get_with_scopes_returns_the_gateways_token_with_no_store() {
    let (gateway, sandbox) = setup().await;
    let reply = sandbox
        .get(&format!(
            "{}?scope=https://graph.microsoft.com/.default&scope=api://x/y",
            sandbox.app_path()
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["access_token"], "token-demo-agent-APP_ONLY");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 3500);
    assert!(body["expires_at_unix"].as_i64().unwrap() > common::unix_now());
    assert_eq!(
        body["scopes"],
        serde_json::json!(["https://graph.microsoft.com/.default", "api://x/y"])
    );
    let sent = gateway.state.last_request();
    assert_eq!(sent.provider, AGENT);
    assert_eq!(sent.kind, agentmint_proto::TokenKind::AppOnly as i32);
}

#[tokio::test]
async fn the_gateway_call_carries_the_sandbox_credential_as_bearer() {
    let (gateway, sandbox) = setup().await;
    assert_eq!(sandbox.get(&sandbox.app_path()).await.status, 200);
    assert_eq!(
        gateway.state.bearers.lock().unwrap().as_slice(),
        [format!("Bearer {CREDENTIAL}")]
    );
}

/// GETs `target(sandbox)` (a path the resolver handed out, with a query), expects a token, and
/// returns the reply and the request the gateway received.
async fn fetched(target: impl Fn(&Sandbox) -> String) -> (Reply, MintTokenRequest) {
    let (gateway, sandbox) = setup().await;
    let reply = sandbox.get(&target(&sandbox)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    (reply, gateway.state.last_request())
}

#[tokio::test]
async fn user_token_url_asks_for_the_user_principal_kind() {
    let (reply, sent) = fetched(|s| format!("{}?scope=User.Read%20Mail.Read", s.user_path())).await;
    assert_eq!(
        reply.json()["access_token"],
        "token-demo-agent-USER_PRINCIPAL"
    );
    assert_eq!(sent.kind, agentmint_proto::TokenKind::UserPrincipal as i32);
    assert_eq!(sent.scopes, ["User.Read", "Mail.Read"]);
}

#[tokio::test]
async fn no_scope_sends_an_empty_list_for_the_gateways_defaults() {
    let (_, sent) = fetched(Sandbox::app_path).await;
    assert!(sent.scopes.is_empty());
}

#[tokio::test]
async fn audience_maps_to_its_default_scope() {
    let (_, sent) =
        fetched(|s| format!("{}?audience=api://a365-observability", s.app_path())).await;
    assert_eq!(sent.scopes, ["api://a365-observability/.default"]);
}

/// POSTs `body` with `Metadata: true` and `headers` to the app-token URL, expects a token, and
/// returns the scopes the gateway was asked for.
async fn posted_scopes(headers: &[(&str, &str)], body: &[u8]) -> Vec<String> {
    let (gateway, sandbox) = setup().await;
    let mut all = vec![("Metadata", "true")];
    all.extend_from_slice(headers);
    let reply = sandbox.app_request("POST", &all, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    gateway.state.last_request().scopes
}

/// Asserts that `reply` has `status` and that the request never reached the gateway.
#[track_caller]
fn refused_locally(gateway: &FakeGateway, reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(gateway.state.calls(), 0);
}

#[tokio::test]
async fn post_json_scopes_are_sent_to_the_gateway() {
    let scopes = posted_scopes(
        &[("Content-Type", "application/json")],
        br#"{"scopes":["https://graph.microsoft.com/.default"]}"#,
    )
    .await;
    assert_eq!(scopes, ["https://graph.microsoft.com/.default"]);
}

#[tokio::test]
async fn post_json_audience_is_accepted_for_openshell_clients() {
    let scopes = posted_scopes(&[], br#"{"audience":"api://x"}"#).await;
    assert_eq!(scopes, ["api://x/.default"]);
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let (gateway, sandbox) = setup().await;
    let reply = sandbox
        .app_request("PUT", &[("Metadata", "true")], b"{}")
        .await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    assert_eq!(gateway.state.calls(), 0);
}

// RELIABILITY 1: the Metadata header.

#[tokio::test]
async fn metadata_header_missing_empty_repeated_or_wrong_is_refused_without_a_gateway_call() {
    let (gateway, sandbox) = setup().await;
    let cases: [&[(&str, &str)]; 4] = [
        &[],
        &[("Metadata", "")],
        &[("Metadata", "true"), ("Metadata", "true")],
        &[("Metadata", "yes")],
    ];
    for headers in cases {
        let reply = sandbox
            .send(&get(&sandbox.app_path(), &sandbox.host(), headers))
            .await;
        assert_eq!(reply.status, 400, "{headers:?}");
        let body = reply.json();
        assert_eq!(body["error"], "invalid_request");
        assert!(text(&body["error_description"]).contains("Metadata"));
        assert!(!text(&body["correlation_id"]).is_empty());
    }
    assert_eq!(gateway.state.calls(), 0);
}

// RELIABILITY 2: Host allowlist.

#[tokio::test]
async fn a_foreign_host_is_refused_with_403_before_anything_else() {
    let (gateway, sandbox) = setup().await;
    let port = sandbox.addr.port();
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        "127.0.0.1".to_owned(),
        format!("localhost:{}", port.wrapping_add(1)),
    ] {
        // Even a request that is wrong in every other way gets the Host refusal.
        let reply = sandbox.send(&get("/nowhere", &host, &[])).await;
        assert_eq!(reply.status, 403, "{host}");
        assert_eq!(reply.json()["error"], "forbidden");
        let reply = sandbox
            .send(&get(&sandbox.app_path(), &host, &[("Metadata", "true")]))
            .await;
        assert_eq!(reply.status, 403, "{host}");
    }
    assert_eq!(gateway.state.calls(), 0);
}

#[tokio::test]
async fn loopback_names_and_configured_hosts_are_served() {
    let gateway = FakeGateway::start(FakeState::new(Behaviour::Token));
    let mut options = common::Options::new(gateway.url());
    options.allowed_hosts = vec!["agent-resolver.internal".into()];
    let sandbox = Sandbox::start_with(options).await;
    let port = sandbox.addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "agent-resolver.internal".to_owned(),
    ] {
        let reply = sandbox
            .send(&get(&sandbox.app_path(), &host, &[("Metadata", "true")]))
            .await;
        assert_eq!(reply.status, 200, "{host}: {}", reply.body);
    }
}

// RELIABILITY 3: no CORS.

#[tokio::test]
async fn origin_and_preflight_are_refused_and_no_response_grants_cors() {
    let (gateway, sandbox) = setup().await;
    let with_origin = sandbox
        .get_app_with(&[("Metadata", "true"), ("Origin", "https://evil.example")])
        .await;
    assert_eq!(with_origin.status, 403);
    with_origin.assert_no_cors();
    let preflight = sandbox
        .app_request(
            "OPTIONS",
            &[
                ("Origin", "https://evil.example"),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "metadata"),
            ],
            b"",
        )
        .await;
    assert_eq!(preflight.status, 403);
    preflight.assert_no_cors();
    let bare_options = sandbox.app_request("OPTIONS", &[], b"").await;
    assert_eq!(bare_options.status, 403);
    assert_eq!(gateway.state.calls(), 0);

    let success = sandbox.get(&sandbox.app_path()).await;
    assert_eq!(success.status, 200);
    success.assert_no_cors();
    sandbox.get("/not-a-path").await.assert_no_cors();
}

#[tokio::test]
async fn browser_fetch_metadata_headers_are_refused() {
    let (gateway, sandbox) = setup().await;
    let reply = sandbox
        .get_app_with(&[("Metadata", "true"), ("Sec-Fetch-Site", "cross-site")])
        .await;
    refused_locally(&gateway, &reply, 403);
}

// RELIABILITY 4: path variants.

#[tokio::test]
async fn path_variants_are_not_found_and_nothing_is_forwarded() {
    let (gateway, sandbox) = setup().await;
    let good = sandbox.app_path();
    let secret = good.split('/').nth(1).unwrap().to_owned();
    let upper = secret.to_uppercase();
    let variants = [
        good.replacen(&secret, &upper, 1),
        good.replace("/providers/", "/Providers/"),
        good.replace("/token", "/TOKEN"),
        format!("/{good}"),
        good.replace("/providers/", "//providers/"),
        format!("{good}/"),
        good.replace("/providers/", "/./providers/"),
        good.replace("/providers/", "/providers/../providers/"),
        good.replace("/providers/demo-agent/", "/providers/demo-agent%2F"),
        good.replace("/providers/", "%2Fproviders/"),
        good.replace("demo-agent", "demo%2Dagent"),
        good.replace("demo-agent", "unknown-provider"),
        format!("/{secret}/providers/demo-agent"),
        format!("/{secret}"),
        "/providers/demo-agent/token".to_owned(),
        "/".to_owned(),
    ];
    for path in variants {
        let reply = sandbox.get(&path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.json()["error"], "not_found");
    }
    assert_eq!(gateway.state.calls(), 0);
}

// RELIABILITY 5: control characters and size bounds.

#[tokio::test]
async fn control_characters_in_a_scope_are_refused_without_echo() {
    let (gateway, sandbox) = setup().await;
    for encoded in [
        "evil%0D%0AX-Injected:%201",
        "evil%0Ainjected",
        "evil%00nul",
        "evil%1Bescape",
    ] {
        let reply = sandbox
            .get(&format!("{}?scope={encoded}", sandbox.app_path()))
            .await;
        assert_eq!(reply.status, 400, "{encoded}");
        assert!(!reply.body.contains("evil"), "{}", reply.body);
        assert!(!reply.body.contains("Injected") && !reply.body.contains("injected"));
        assert!(reply.header("x-injected").is_none());
    }
    let reply = sandbox
        .app_request(
            "POST",
            &[("Metadata", "true")],
            b"{\"scopes\":[\"evil\\r\\nX-Injected: 1\"]}",
        )
        .await;
    assert!(!reply.body.contains("evil"));
    refused_locally(&gateway, &reply, 400);
}

#[tokio::test]
async fn an_oversized_query_is_refused_without_echo() {
    let (gateway, sandbox) = setup().await;
    let long = "q".repeat(4097);
    let reply = sandbox
        .get(&format!("{}?scope={long}", sandbox.app_path()))
        .await;
    assert!(!reply.body.contains("qqqq"));
    refused_locally(&gateway, &reply, 400);
}

#[tokio::test]
async fn an_oversized_body_is_refused_without_echo() {
    let (gateway, sandbox) = setup().await;
    let body = format!(r#"{{"scopes":["{}"]}}"#, "b".repeat(17 * 1024));
    let reply = sandbox
        .app_request("POST", &[("Metadata", "true")], body.as_bytes())
        .await;
    assert!(!reply.body.contains("bbbb"));
    refused_locally(&gateway, &reply, 400);
}

#[tokio::test]
async fn an_oversized_chunked_body_is_refused() {
    let (gateway, sandbox) = setup().await;
    let chunk = "c".repeat(8 * 1024);
    let mut raw = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nMetadata: true\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
        sandbox.app_path(),
        sandbox.host()
    );
    for _ in 0..3 {
        raw.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    raw.push_str("0\r\n\r\n");
    let reply = sandbox.send(raw.as_bytes()).await;
    assert!(!reply.body.contains("cccc"));
    refused_locally(&gateway, &reply, 400);
}

#[tokio::test]
async fn oversized_headers_are_refused_without_echo() {
    let (gateway, sandbox) = setup().await;
    let big = "h".repeat(9 * 1024);
    let reply = sandbox
        .get_app_with(&[("Metadata", "true"), ("X-Big", &big)])
        .await;
    assert_eq!(reply.status, 400);
    assert!(!reply.body.contains("hhhh"));
    let many: Vec<(String, String)> = (0..80)
        .map(|i| (format!("X-H{i}"), "v".to_owned()))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let mut headers = vec![("Metadata", "true")];
    headers.extend(many);
    let reply = sandbox.get_app_with(&headers).await;
    refused_locally(&gateway, &reply, 400);
}

#[tokio::test]
async fn unknown_query_parameters_are_refused() {
    let (gateway, sandbox) = setup().await;
    let reply = sandbox
        .get(&format!("{}?scopes=a", sandbox.app_path()))
        .await;
    refused_locally(&gateway, &reply, 400);
}
