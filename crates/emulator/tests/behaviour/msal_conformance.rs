//! Microsoft's own client, unmodified, against the emulator: MSAL Python runs hop 1, hop 2 and
//! hop 3 over https (tests/interop/msal/conformance.py). `scripts/test` sets `AGENTMINT_INTEROP_PYTHON`
//! to a python with msal (tests/interop/setup.sh); without it the test fails unless
//! `AGENTMINT_SKIP_INTEROP=1`.

use std::path::Path;
use std::time::Duration;

use crate::support::Server;

#[tokio::test]
async fn msal_python_runs_the_whole_agent_chain() {
    let Some(python) = std::env::var_os("AGENTMINT_INTEROP_PYTHON") else {
        // A conformance test that silently passes proves nothing: skipping must be asked for.
        assert!(
            std::env::var("AGENTMINT_SKIP_INTEROP").is_ok_and(|v| v == "1"),
            "AGENTMINT_INTEROP_PYTHON is not set: run scripts/test, or eval \"$(bash tests/interop/setup.sh)\" \
             first (AGENTMINT_SKIP_INTEROP=1 skips it deliberately)"
        );
        println!("skipped: AGENTMINT_SKIP_INTEROP=1");
        return;
    };
    let server = Server::tls().await;
    let ca_path = server.world.dir.join("emulator-ca.pem");
    std::fs::write(&ca_path, server.ca_pem.as_deref().unwrap()).unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/msal/conformance.py");

    let run = tokio::process::Command::new(python)
        .arg(&script)
        .env("AGENTMINT_EMULATOR_URL", &server.url)
        .env("AGENTMINT_EMULATOR_CA", &ca_path)
        .env("AGENTMINT_WORLD_DIR", &server.world.dir)
        .env("NO_PROXY", "localhost,127.0.0.1")
        .env("no_proxy", "localhost,127.0.0.1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("conformance.py finished within two minutes")
        .expect("conformance.py started");
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "conformance.py failed: {}",
        output.status
    );

    let stats = server.emulator.stats();
    assert!(stats.blueprint.ok() >= 1, "{stats:?}");
    assert!(stats.agent_identity.ok() >= 1, "{stats:?}");
    assert!(stats.agent_user.ok() >= 1, "{stats:?}");
}
