//! Signal forwarding end to end: a SIGTERM delivered to the resolver's process reaches the agent,
//! whose own exit status comes back. In its own test binary because it signals the whole process.

use std::time::Duration;

use agentmint_sandbox::launcher::run_agent;
use nix::sys::signal::{Signal, raise};

#[tokio::test]
async fn sigterm_to_the_resolver_is_forwarded_to_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let script = format!(
        "trap 'exit 42' TERM; echo > {}; while :; do sleep 0.02; done",
        ready.display()
    );
    let env = vec![("PATH".to_owned(), "/usr/bin:/bin".to_owned())];
    let agent =
        tokio::spawn(async move { run_agent("/bin/sh", &["-c".into(), script], env).await });
    for _ in 0..500 {
        if ready.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The agent is running, so `run_agent` has installed its handlers: this SIGTERM is caught and
    // forwarded instead of ending the test process.
    assert!(ready.exists(), "the agent did not start");
    raise(Signal::SIGTERM).unwrap();
    let code = tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(code, 42);
}
