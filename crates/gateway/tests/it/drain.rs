//! RELIABILITY 35 and 37 at the gateway: a drain says NOT_SERVING first (`/readyz` 503 and gRPC
//! health, for `TokenBroker` and the whole server), keeps serving through the grace, then refuses
//! new connections while the mint in flight still gets its token.

use std::sync::{Mutex, mpsc};
use std::time::Duration;

use agentmint_proto::{TokenBrokerClient, TokenKind};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{AppGateway, app_token_path, app_token_response, http_status, request};

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const BROKER: &str = "agentmint.v1.TokenBroker";

/// A token endpoint that holds each request until the test releases it. wiremock runs its server
/// on a thread of its own, so blocking here holds only the upstream.
struct Gated {
    arrived: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
}

impl Respond for Gated {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let _ = self.arrived.lock().unwrap().send(());
        let _ = self
            .release
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(20));
        ResponseTemplate::new(200).set_body_json(app_token_response())
    }
}

/// A gateway on port 0 (gRPC and admin) that drains when `stop` is sent.
struct Running {
    grpc: std::net::SocketAddr,
    admin: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    credential: &'static str,
    _app: AppGateway,
}

async fn start(upstream: &MockServer, grace_secs: u64) -> Running {
    let app = AppGateway::build(
        &upstream.uri(),
        &format!("drain_grace_seconds = {grace_secs}"),
    );
    let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (grpc_addr, admin_addr) = (grpc.local_addr().unwrap(), admin.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(agentmint_gateway::serve(
        app.gateway.state.clone(),
        app.gateway.drain,
        grpc,
        Some(admin),
        async move {
            let _ = stopped.await;
        },
    ));
    Running {
        grpc: grpc_addr,
        admin: admin_addr,
        stop: Some(stop),
        server,
        credential: app.credential,
        _app: app,
    }
}

impl Running {
    async fn client(&self) -> TokenBrokerClient<tonic::transport::Channel> {
        TokenBrokerClient::connect(format!("http://{}", self.grpc))
            .await
            .unwrap()
    }

    async fn health(&self, service: &str) -> ServingStatus {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", self.grpc))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = HealthClient::new(channel);
        let reply = client
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        ServingStatus::try_from(reply.status).unwrap()
    }

    fn sigterm(&mut self) {
        let _ = self.stop.take().unwrap().send(());
    }
}

async fn mint(
    client: &mut TokenBrokerClient<tonic::transport::Channel>,
    credential: &str,
) -> Result<String, tonic::Status> {
    client
        .mint_token(request(
            Some(credential),
            "bot",
            TokenKind::AppOnly,
            &[GRAPH_DEFAULT],
        ))
        .await
        .map(|r| r.into_inner().access_token)
}

#[tokio::test]
async fn a_drain_flips_readyz_and_grpc_health_together_and_keeps_serving_through_the_grace() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(app_token_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(app_token_response()))
        .mount(&upstream)
        .await;
    // A grace far longer than the test: everything below happens inside it.
    let mut gateway = start(&upstream, 300).await;
    assert_eq!(http_status(gateway.admin, "/readyz").await, Some(200));
    assert_eq!(gateway.health("").await, ServingStatus::Serving);
    assert_eq!(gateway.health(BROKER).await, ServingStatus::Serving);
    let mut before = gateway.client().await;
    mint(&mut before, gateway.credential).await.unwrap();

    gateway.sigterm();
    let mut flipped = false;
    for _ in 0..500 {
        if gateway.health("").await == ServingStatus::NotServing {
            flipped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(flipped, "gRPC health still SERVING after the drain began");
    assert_eq!(gateway.health(BROKER).await, ServingStatus::NotServing);
    assert_eq!(
        http_status(gateway.admin, "/readyz").await,
        Some(503),
        "/readyz flips no later than gRPC health"
    );
    assert_eq!(http_status(gateway.admin, "/healthz").await, Some(200));

    // Still serving during the grace: on the old connection and on a new one.
    mint(&mut before, gateway.credential).await.unwrap();
    let mut during = gateway.client().await;
    mint(&mut during, gateway.credential).await.unwrap();
    assert!(!gateway.server.is_finished());
    assert_eq!(upstream.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn after_the_grace_new_connections_are_refused_and_the_mint_in_flight_gets_its_token() {
    let (arrived_tx, arrived) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(app_token_path()))
        .respond_with(Gated {
            arrived: Mutex::new(arrived_tx),
            release: Mutex::new(release_rx),
        })
        .mount(&upstream)
        .await;
    let mut gateway = start(&upstream, 0).await;
    let mut client = gateway.client().await;
    let credential = gateway.credential;
    let in_flight = tokio::spawn(async move { mint(&mut client, credential).await });
    tokio::task::spawn_blocking(move || arrived.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the mint reaches the upstream");

    gateway.sigterm();
    let mut refused = false;
    for _ in 0..500 {
        if TcpStream::connect(gateway.grpc).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        refused,
        "new connections are still accepted after the grace"
    );
    assert!(
        !gateway.server.is_finished(),
        "serve returned while a mint was in flight"
    );

    release.send(()).unwrap();
    let token = in_flight
        .await
        .unwrap()
        .expect("the in-flight mint succeeds");
    assert!(!token.is_empty());
    tokio::time::timeout(Duration::from_secs(10), &mut gateway.server)
        .await
        .expect("serve returns once the mint in flight is done")
        .unwrap()
        .unwrap();
    assert_eq!(upstream.received_requests().await.unwrap().len(), 1);
}
