//! Microsoft's real client libraries for interop tests: the Python venv and the npm folder that
//! `tests/interop/setup.sh` installs (from PyPI and npm) into target/interop. `scripts/test` runs the
//! setup once and exports the paths; a plain `cargo test` runs it here on first use.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

pub struct Interop {
    pub python: PathBuf,
    pub node_dir: Option<PathBuf>,
    pub root: PathBuf,
}

pub fn interop() -> &'static Interop {
    static ONCE: OnceLock<Interop> = OnceLock::new();
    ONCE.get_or_init(|| {
        let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        if let Ok(python) = std::env::var("AGENTMINT_INTEROP_PYTHON") {
            return Interop {
                python: python.into(),
                node_dir: std::env::var("AGENTMINT_INTEROP_NODE_DIR")
                    .ok()
                    .map(PathBuf::from),
                root,
            };
        }
        let out = Command::new("bash")
            .arg(root.join("tests/interop/setup.sh"))
            .output()
            .expect("running tests/interop/setup.sh");
        assert!(
            out.status.success(),
            "tests/interop/setup.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let value = |name: &str| {
            stdout.lines().find_map(|l| {
                l.strip_prefix(&format!("export {name}='"))
                    .and_then(|v| v.strip_suffix('\''))
                    .map(PathBuf::from)
            })
        };
        Interop {
            python: value("AGENTMINT_INTEROP_PYTHON").expect("python path from setup.sh"),
            node_dir: value("AGENTMINT_INTEROP_NODE_DIR"),
            root,
        }
    })
}
