//! Cross-process test support: runs the real `agentmint` binary's subcommands as child processes on
//! loopback port 0, reads their JSON ready lines, and keeps every byte they log so tests can assert
//! on logs (and on what must never appear in them).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod interop;
pub mod stack;

pub const BIN: &str = env!("CARGO_BIN_EXE_agentmint");

/// A running child process with captured output.
pub struct Proc {
    child: Child,
    pub ready: Value,
    output: Arc<Mutex<String>>,
}

impl Proc {
    /// Starts `agentmint ARGS` and waits (bounded) for its JSON ready line on stdout.
    pub fn start(name: &'static str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_remove("AGENTMINT_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {name}: {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        pump(stderr, output.clone());
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let out = output.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut sent = false;
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if !sent
                    && let Ok(v) = serde_json::from_str::<Value>(line.trim())
                    && v["event"] == "ready"
                {
                    let _ = tx.send(v);
                    sent = true;
                }
                out.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let ready = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "{name} did not become ready; output:\n{}",
                    output.lock().unwrap()
                );
            }
        };
        Proc {
            child,
            ready,
            output,
        }
    }

    /// Sends the signal named `name` (`HUP`, `USR1`, ...) to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -s {name}");
    }

    /// Everything the process wrote so far (stdout and stderr).
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Sends SIGTERM, as an orchestrator stopping the process would.
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Sends SIGKILL and reaps the process, as a crash or an OOM kill would: nothing is drained and
    /// every in-memory cache is lost. The output captured so far stays readable.
    pub fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// The exit code, waiting at most `within`.
    pub fn exit_code(&mut self, within: Duration) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < within,
                "still running {within:?} later:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (bounded) until the output contains `needle`.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.output().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pump(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
}

/// Runs `agentmint ARGS` to completion (bounded) and returns (exit code, stdout, stderr).
pub fn run(args: &[&str], env: &[(&str, &str)], timeout: Duration) -> (i32, String, String) {
    run_program(Path::new(BIN), args, env, timeout)
}

/// Runs `program ARGS` to completion (bounded) and returns (exit code, stdout, stderr).
pub fn run_program(
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> (i32, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .env_remove("AGENTMINT_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn agentmint");
    let out = Arc::new(Mutex::new(String::new()));
    let err = Arc::new(Mutex::new(String::new()));
    pump(child.stdout.take().unwrap(), out.clone());
    pump(child.stderr.take().unwrap(), err.clone());
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!(
                "{} {args:?} did not finish within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                program.display(),
                out.lock().unwrap(),
                err.lock().unwrap(),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(50));
    let o = out.lock().unwrap().clone();
    let e = err.lock().unwrap().clone();
    (code, o, e)
}

/// A fresh temporary folder kept for the test's lifetime.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
