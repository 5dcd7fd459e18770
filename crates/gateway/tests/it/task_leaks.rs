//! RELIABILITY 25: an upstream that accepts the connection and never answers. Every attempt is
//! abandoned at its timeout, the callers all get a typed error from the one flight, and once the
//! gateway has stopped, the runtime holds as many tasks as before it started: no flight, refresher,
//! connection or timer task is left behind.

use std::time::Duration;

use agentmint_entra::RetryPolicy;
use agentmint_proto::{FailureDetails, TokenBrokerClient, TokenKind};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{AppGateway, app_token_path, request};

const CALLERS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_upstream_is_abandoned_at_its_timeout_and_leaves_no_task_behind() {
    // wiremock serves from a thread and runtime of its own: its tasks are not counted below.
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(app_token_path()))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .mount(&upstream)
        .await;
    let runtime = tokio::runtime::Handle::current().metrics();
    let baseline = runtime.num_alive_tasks();

    let app = AppGateway::build_with(
        &upstream.uri(),
        "drain_grace_seconds = 0",
        agentmint_gateway::Overrides {
            upstream_request_timeout: Some(Duration::from_millis(300)),
            upstream_retry: Some(RetryPolicy {
                max_attempts: 2,
                base: Duration::from_millis(10),
                max_delay: Duration::from_millis(10),
                deadline: Duration::from_secs(5),
            }),
            ..Default::default()
        },
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(agentmint_gateway::serve(
        app.gateway.state.clone(),
        app.gateway.drain,
        listener,
        None,
        async move {
            let _ = stopped.await;
        },
    ));
    let client = TokenBrokerClient::connect(url).await.unwrap();
    let credential = app.credential;
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let mut client = client.clone();
            tokio::spawn(async move {
                let mut req = request(
                    Some(credential),
                    "bot",
                    TokenKind::AppOnly,
                    &["https://graph.microsoft.com/.default"],
                );
                req.set_timeout(Duration::from_secs(30));
                client.mint_token(req).await.map(|_| ())
            })
        })
        .collect();
    for caller in callers {
        let status = caller
            .await
            .unwrap()
            .expect_err("a hung upstream gives no token");
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
        let details = FailureDetails::from_status(&status).expect("typed details");
        assert_eq!(details.reason, "TIMEOUT", "{details:?}");
        assert!(details.retry_after.is_some());
    }
    assert_eq!(
        upstream.received_requests().await.unwrap().len(),
        2,
        "one flight for all callers, its attempts bounded"
    );

    drop(client);
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returns")
        .unwrap()
        .unwrap();
    drop(app);
    let mut alive = runtime.num_alive_tasks();
    for _ in 0..500 {
        if alive <= baseline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        alive = runtime.num_alive_tasks();
    }
    assert_eq!(alive, baseline, "tasks left behind by the gateway");
}
