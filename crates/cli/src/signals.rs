//! Process signals as futures: SIGINT/SIGTERM end a server gracefully. (SIGHUP asks the gateway for
//! a reload and SIGUSR1 for a revoking one: see `cmd::gateway`.)

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};

/// Resolves on the first SIGINT or SIGTERM received after this call. The handlers are installed
/// here, not when the future is first polled: call it before announcing readiness, or a SIGTERM sent
/// right after the ready line would take the default action and kill the process without a drain.
pub fn terminate() -> impl Future<Output = ()> + Send + 'static {
    let handlers = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    );
    async move {
        let (Ok(mut int), Ok(mut term)) = handlers else {
            // Without signal handlers the process still ends on the default action.
            std::future::pending::<()>().await;
            return;
        };
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    }
}
