//! Process signals as futures: SIGINT/SIGTERM end a server gracefully. (SIGHUP asks the gateway for
//! a reload and SIGUSR1 for a revoking one: see `cmd::gateway`.)

use tokio::signal::unix::{SignalKind, signal};

/// Resolves on the first SIGINT or SIGTERM.
pub async fn terminate() {
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without signal handlers the process still ends on the default action.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}
