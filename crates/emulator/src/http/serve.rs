//! The server loop: plain HTTP or TLS on an already-bound listener, until the shutdown future
//! resolves; then in-flight requests finish (requests held by the hang knob are released).

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::emulator::Emulator;
use crate::pki::TlsIdentity;

use super::tls_listener::TlsListener;
use super::{AppState, router};

/// Serves the emulator on `listener` (bind port 0 in tests) until `shutdown` resolves, then
/// finishes in-flight requests and returns. With `tls`, serves https (Microsoft's clients insist
/// on it; see [`pki::generate_ca_and_server`](crate::pki::generate_ca_and_server)).
pub async fn serve(
    listener: TcpListener,
    emulator: Emulator,
    tls: Option<TlsIdentity>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stopping) = watch::channel(false);
    let state = AppState {
        emulator,
        scheme: if tls.is_some() { "https" } else { "http" },
        stopping,
    };
    let app = router(state);
    let signal = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
        }
        Some(identity) => {
            let config = identity.server_config().map_err(std::io::Error::other)?;
            let listener = TlsListener::spawn(listener, Arc::new(config))?;
            axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
        }
    }
}
