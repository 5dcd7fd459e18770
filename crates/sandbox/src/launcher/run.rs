//! Running the agent process: exactly the given environment, signals forwarded, the exit status
//! reported as a shell reports it.
//!
//! The agent stays in the resolver's process group, so an interactive agent keeps its terminal. A
//! Ctrl-C at a terminal therefore reaches it twice (from the terminal and forwarded); agents treat
//! a repeated SIGINT like one, and a resolver run by a supervisor (which signals only the resolver)
//! needs the forwarding.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use futures::stream::{self, BoxStream, Stream, StreamExt};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::Command;
use tokio::signal::unix::{SignalKind, signal};
use tracing::{info, warn};

/// Runs `cmd args` with exactly `env` (nothing inherited), forwarding SIGINT, SIGTERM and SIGHUP
/// received by this process to it. Returns its exit code, or 128 + the signal number when a signal
/// ended it. An error means it could not be started (or waited for).
pub async fn run_agent(cmd: &str, args: &[String], env: Vec<(String, String)>) -> io::Result<u8> {
    run_agent_with_signals(cmd, args, env, os_signals()?).await
}

/// [`run_agent`] with the signals to forward supplied by the caller (tests, or a caller that owns
/// signal handling): each item of `signals` is sent to the agent while it runs.
pub async fn run_agent_with_signals(
    cmd: &str,
    args: &[String],
    env: Vec<(String, String)>,
    mut signals: impl Stream<Item = Signal> + Unpin,
) -> io::Result<u8> {
    let mut child = Command::new(cmd)
        .args(args)
        .env_clear()
        .envs(env)
        // If the resolver's task is dropped, the agent must not outlive it unsupervised.
        .kill_on_drop(true)
        .spawn()?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    info!(command = cmd, pid = ?pid.map(Pid::as_raw), "agent started");
    let mut signals_open = true;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status?,
            signal = signals.next(), if signals_open => match (signal, pid) {
                (Some(signal), Some(pid)) => {
                    info!(%signal, "forwarding signal to the agent");
                    // The child is not reaped until `wait` returns, so the pid cannot be reused.
                    if let Err(err) = kill(pid, signal) {
                        warn!(%signal, error = %err, "forwarding a signal to the agent failed");
                    }
                }
                (Some(_), None) => {}
                (None, _) => signals_open = false,
            },
        }
    };
    let code = exit_code(status);
    info!(code, "agent exited");
    Ok(code)
}

/// The shell's convention: the exit code, or 128 + the number of the signal that ended it.
fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(u8::MAX),
        (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(u8::MAX),
        (None, None) => 1,
    }
}

/// SIGINT, SIGTERM and SIGHUP delivered to this process, as one stream. Installing the handlers
/// replaces their default action (terminating the resolver before its agent).
fn os_signals() -> io::Result<BoxStream<'static, Signal>> {
    let mut streams = Vec::new();
    for (kind, forwarded) in [
        (SignalKind::interrupt(), Signal::SIGINT),
        (SignalKind::terminate(), Signal::SIGTERM),
        (SignalKind::hangup(), Signal::SIGHUP),
    ] {
        let mut received = signal(kind)?;
        streams.push(
            stream::poll_fn(move |cx| received.poll_recv(cx).map(|got| got.map(|()| forwarded)))
                .boxed(),
        );
    }
    Ok(stream::select_all(streams).boxed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
    }
}
