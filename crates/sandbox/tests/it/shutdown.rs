//! RELIABILITY 35: graceful shutdown. `/readyz` turns 503 when the stop comes while token requests
//! are still served through the drain grace; after it a request being served still gets its
//! token; new connections are refused; `serve` returns once the last request is done.

use std::time::Duration;

use crate::common;
use common::{Behaviour, FakeGateway, FakeState, Options, Sandbox};
use tokio::net::TcpStream;

#[tokio::test]
async fn an_in_flight_request_completes_with_200_and_new_connections_are_refused() {
    let state = FakeState::new(Behaviour::Gated);
    let gateway = FakeGateway::start(state.clone());
    let mut sandbox = Sandbox::start(&gateway).await;
    let (addr, target, host) = (sandbox.addr, sandbox.app_path(), sandbox.host());
    let in_flight = tokio::spawn(async move {
        common::send(addr, &common::get(&target, &host, &[("Metadata", "true")])).await
    });
    state.wait_for_calls(1).await;

    sandbox.stop();
    let mut refused = false;
    for _ in 0..200 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(refused, "new connections are still accepted after the stop");
    let server = sandbox.server.take().unwrap();
    assert!(
        !server.is_finished(),
        "serve returned before the in-flight request finished"
    );

    state.release.notify_one();
    let reply = in_flight.await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["access_token"], "token-demo-agent-APP_ONLY");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve returns after draining")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_does_not_hold_up_shutdown() {
    let gateway = FakeGateway::start(FakeState::new(Behaviour::Token));
    let mut sandbox = Sandbox::start(&gateway).await;
    // An open connection that has sent nothing.
    let _idle = TcpStream::connect(sandbox.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    sandbox.stop();
    let server = sandbox.server.take().unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve returns with an idle connection open")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn readyz_turns_503_at_the_stop_and_tokens_are_still_served_through_the_grace() {
    let state = FakeState::new(Behaviour::Token);
    let gateway = FakeGateway::start(state.clone());
    let mut sandbox = Sandbox::start_with(Options {
        // Far longer than the test: everything below happens inside the grace.
        drain_grace: Duration::from_secs(300),
        ..Options::new(gateway.url())
    })
    .await;
    let (addr, target, host) = (sandbox.addr, sandbox.app_path(), sandbox.host());
    let readyz = common::get("/readyz", &host, &[]);
    assert_eq!(common::send(addr, &readyz).await.status, 200);

    sandbox.stop();
    let mut draining = false;
    for _ in 0..500 {
        if common::send(addr, &readyz).await.status == 503 {
            draining = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(draining, "/readyz still 200 after the stop");
    let reply = common::send(addr, &common::get(&target, &host, &[("Metadata", "true")])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["access_token"], "token-demo-agent-APP_ONLY");
    assert!(!sandbox.server.as_ref().unwrap().is_finished());
}
