//! The HTTP/1.1 accept loop, with the connection-level bounds and graceful shutdown.
//!
//! hyper is driven directly so that the parser itself bounds what a caller can make the resolver
//! buffer (`max_buf_size`, `max_headers`), a slow caller cannot hold a connection open forever
//! (`header_read_timeout`), and the number of open connections is capped. On shutdown `/readyz`
//! turns 503 at once and requests are still accepted for the drain grace; then the listener is
//! dropped (new connections are refused), idle keep-alive connections close, and requests already
//! being served run to completion.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use crate::handler::{self, App};

/// Most connections served at once; further callers wait in the listen backlog.
const MAX_CONNECTIONS: usize = 256;
/// hyper's read buffer: a hard ceiling well above the 8 KiB the handler accepts, so oversized
/// headers get the handler's JSON 400 rather than hyper's bare 431 up to this size.
const MAX_BUF_BYTES: usize = 64 * 1024;
const MAX_HEADER_FIELDS: usize = 100;
const MAX_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` completes and `grace` has passed since, then drains
/// in-flight requests.
pub(crate) async fn run(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    // Connections watch this channel; dropping the sender tells them to finish up.
    let (stop_tx, stop_rx) = watch::channel(());
    let mut connections = JoinSet::new();
    let drain_app = app.clone();
    let shutdown = async move {
        shutdown.await;
        drain_app.set_draining();
        info!(
            grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
            "draining: /readyz answers 503; still serving until the grace ends"
        );
        tokio::time::sleep(grace).await;
    };
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = accept(&listener, &permits) => accepted,
        };
        let (stream, permit) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors and the like: back off instead of spinning.
                warn!(error = %err, "accepting a local connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = app.clone();
        let header_timeout = app.timeout.min(MAX_HEADER_READ_TIMEOUT);
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _permit = permit;
            let service = service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(handler::handle(&app, request).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(MAX_BUF_BYTES)
                .max_headers(MAX_HEADER_FIELDS)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_end(result),
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    log_end(connection.await);
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    drop(stop_tx);
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn accept(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
) -> io::Result<(tokio::net::TcpStream, tokio::sync::OwnedSemaphorePermit)> {
    let permit = permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| io::Error::other("connection limit closed"))?;
    let (stream, _peer) = listener.accept().await?;
    Ok((stream, permit))
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(err) = result {
        debug!(error = %err, "local connection ended with an error");
    }
}
