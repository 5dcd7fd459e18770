//! Signal forwarding end to end: a SIGTERM delivered to the resolver's process reaches the agent,
//! whose own exit status comes back. It signals the whole test process, so it holds
//! [`common::process_signals`] while it runs: no other agent listens to the process's signals then.

use agentmint_sandbox::launcher::run_agent;
use nix::sys::signal::{Signal, raise};

use crate::common::{self, exit_code, wait_until_started};

#[tokio::test]
async fn sigterm_to_the_resolver_is_forwarded_to_the_agent() {
    let _alone = common::process_signals().await;
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let script = format!(
        "trap 'exit 42' TERM; echo > {}; while :; do sleep 0.02; done",
        ready.display()
    );
    let env = vec![("PATH".to_owned(), "/usr/bin:/bin".to_owned())];
    let agent =
        tokio::spawn(async move { run_agent("/bin/sh", &["-c".into(), script], env).await });
    // The agent is running, so `run_agent` has installed its handlers: this SIGTERM is caught and
    // forwarded instead of ending the test process.
    wait_until_started(&ready).await;
    raise(Signal::SIGTERM).unwrap();
    assert_eq!(exit_code(agent).await, 42);
}
