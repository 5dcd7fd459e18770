//! The floors: the fastest a server on this machine answers the same bytes, measured by the same
//! generator in the same run.
//!
//! A hot-path figure alone says little on a shared 2-core machine; its ratio to a server that does
//! nothing but answer a body of the same size says how much agentmint adds. [`BareHttp`] is an axum
//! server (the stack the sandbox resolver uses) answering every GET with fixed bytes and the same
//! headers a token response carries. [`BareGrpc`] implements the real `TokenBroker` service with a
//! fixed `MintTokenResponse`, so codec, framing and client are identical to the gateway's.
//!
//! Both floors set `TCP_NODELAY` on accepted sockets, as tonic's own `Server::serve` does: a floor
//! is a well-configured server, so a Nagle/delayed-ACK stall in agentmint shows up as a ratio
//! instead of hiding in the floor too.

use std::net::SocketAddr;

use agentmint_proto::{MintTokenRequest, MintTokenResponse, TokenBroker, TokenBrokerServer};
use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::serve::ListenerExt;
use bytes::Bytes;
use futures::FutureExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use crate::error::BenchError;

/// Resolves when a floor is asked to stop (or its [`Floor`] is gone).
type Stopped =
    futures::future::Map<oneshot::Receiver<()>, fn(Result<(), oneshot::error::RecvError>)>;

/// A running floor server; stops when dropped.
pub struct Floor {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Floor {
    /// Runs `serve` on a task; it is handed the future that resolves when the floor is stopped,
    /// for its graceful shutdown.
    fn spawn<S>(addr: SocketAddr, serve: impl FnOnce(Stopped) -> S) -> Floor
    where
        S: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(stopped.map(drop)));
        Floor {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// Stops accepting and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn loopback() -> Result<(TcpListener, SocketAddr), BenchError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(BenchError::Bind)?;
    let addr = listener.local_addr().map_err(BenchError::Bind)?;
    Ok((listener, addr))
}

/// The bare HTTP floor: answers every GET with `body`.
pub struct BareHttp;

impl BareHttp {
    /// Starts the server on 127.0.0.1:0.
    pub async fn start(body: Bytes) -> Result<Floor, BenchError> {
        let (listener, addr) = loopback().await?;
        let handler = move || {
            let body = body.clone();
            async move {
                (
                    [
                        (CONTENT_TYPE, "application/json"),
                        (CACHE_CONTROL, "no-store"),
                    ],
                    body,
                )
            }
        };
        let router = Router::new().fallback(handler);
        Ok(Floor::spawn(addr, move |stopped| async move {
            let listener = listener.tap_io(|tcp| {
                // Best effort: a socket that refuses it is still a fair floor.
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await;
        }))
    }
}

/// The bare gRPC floor: `TokenBroker.MintToken` answering a fixed response.
pub struct BareGrpc {
    response: MintTokenResponse,
}

#[tonic::async_trait]
impl TokenBroker for BareGrpc {
    async fn mint_token(
        &self,
        _request: Request<MintTokenRequest>,
    ) -> Result<Response<MintTokenResponse>, Status> {
        Ok(Response::new(self.response.clone()))
    }
}

impl BareGrpc {
    /// Starts the server on 127.0.0.1:0.
    pub async fn start(response: MintTokenResponse) -> Result<Floor, BenchError> {
        let (listener, addr) = loopback().await?;
        let service = TokenBrokerServer::new(BareGrpc { response });
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        Ok(Floor::spawn(addr, move |stopped| async move {
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, stopped)
                .await;
        }))
    }
}
