//! deploy/ as an operator would run it, on a machine with no cluster and no container runtime.
//!
//! - Every Kubernetes manifest validates offline against the OpenAPI schemas of a Kubernetes
//!   version with native sidecars (`kubernetes-validate --strict`), the Dockerfile lints clean
//!   (hadolint), and `systemd-analyze verify` accepts the units.
//! - The artefacts' own command lines run: the Dockerfile's ENTRYPOINT/CMD and HEALTHCHECK, every
//!   container's command/args and probes in the manifests, every ExecStart (and ExecStartPost) in
//!   the units. Only file paths are rewritten (into a temporary root per pod or machine), systemd
//!   specifiers expanded, and the ports the artefacts declare mapped onto the real ones (servers
//!   bind port 0 on loopback; a declared port must agree with the config before it is mapped).
//!   Against a local emulator, each shows the gateway ready (its probe passes), the sidecar's env
//!   file written (its probe passes), an agent sourcing that file getting an app-only and a user
//!   token, and SIGTERM ending each process with exit 0 within the configured grace.
//!
//! The tools come from `tests/deploy/setup.sh` (PyPI and Debian); `scripts/test` runs it and
//! exports their paths, and a plain `cargo test` runs it here on first use.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use agentmint_emulator::world::World;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_agentmint");
/// The Kubernetes version the manifests must validate against (native sidecars: 1.29+; the preStop
/// sleep action: 1.30+).
const KUBERNETES_VERSION: &str = "1.31.0";
/// Where the image installs the binary (Dockerfile COPY, probes, unit ExecStart lines).
const IMAGE_BIN: &str = "/usr/local/bin/agentmint";
/// The gateway bounds each gRPC request at 60 s (crates/gateway server timeout): a drain may wait
/// for that long, so every grace period must cover it.
const GATEWAY_REQUEST_BOUND_SECS: u64 = agentmint_gateway::drain::REQUEST_BOUND.as_secs();
/// On SIGTERM the gateway serves on for its drain grace before it closes its listeners (deploy/'s
/// configs keep the default).
const GATEWAY_DRAIN_GRACE_SECS: u64 = agentmint_config::DEFAULT_DRAIN_GRACE_SECONDS;
/// Docker's default `docker stop` grace.
const DOCKER_STOP_GRACE_SECS: u64 = 10;
/// Kubernetes' default terminationGracePeriodSeconds.
const KUBERNETES_DEFAULT_GRACE_SECS: u64 = 30;
/// The placeholder GUIDs in deploy/'s configs, in the order [`world_ids`] gives their values.
const PLACEHOLDERS: [&str; 6] = [
    "00000000-0000-4000-8000-00000000000a",
    "00000000-0000-4000-8000-00000000000b",
    "00000000-0000-4000-8000-00000000000c",
    "00000000-0000-4000-8000-00000000000d",
    "00000000-0000-4000-8000-00000000000e",
    "00000000-0000-4000-8000-00000000000f",
];
const PLACEHOLDER_SHA256: &str = "0000000000000000000000000000000000000000000000000000000000000000";

// ---------------------------------------------------------------------------------------------
// Tools

struct Tools {
    python: PathBuf,
    kubernetes_validate: PathBuf,
    hadolint: PathBuf,
    systemd_analyze: PathBuf,
}

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn tools() -> &'static Tools {
    static ONCE: OnceLock<Tools> = OnceLock::new();
    ONCE.get_or_init(|| {
        let mut vars: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("AGENTMINT_DEPLOY_"))
            .collect();
        if !vars.contains_key("AGENTMINT_DEPLOY_PYTHON") {
            let out = Command::new("bash")
                .arg(repo().join("tests/deploy/setup.sh"))
                .stderr(Stdio::inherit())
                .output()
                .expect("run tests/deploy/setup.sh");
            assert!(out.status.success(), "tests/deploy/setup.sh failed");
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                if let Some((name, value)) =
                    line.strip_prefix("export ").and_then(|l| l.split_once('='))
                {
                    vars.insert(name.to_owned(), value.trim_matches('\'').to_owned());
                }
            }
        }
        let get = |name: &str| {
            PathBuf::from(vars.get(name).unwrap_or_else(|| {
                panic!("{name} is not set: run `eval \"$(bash tests/deploy/setup.sh)\"`")
            }))
        };
        Tools {
            python: get("AGENTMINT_DEPLOY_PYTHON"),
            kubernetes_validate: get("AGENTMINT_DEPLOY_KUBERNETES_VALIDATE"),
            hadolint: get("AGENTMINT_DEPLOY_HADOLINT"),
            systemd_analyze: get("AGENTMINT_DEPLOY_SYSTEMD_ANALYZE"),
        }
    })
}

/// Runs a command to completion (bounded), returning (success, stdout + stderr).
fn run_tool(cmd: &mut Command, timeout: Duration) -> (bool, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("spawn {cmd:?}: {err}"));
    let out = pump(child.stdout.take().unwrap());
    let err = pump(child.stderr.take().unwrap());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(50));
    let text = format!("{}{}", out.lock().unwrap(), err.lock().unwrap());
    (status.success(), text)
}

fn pump(from: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let into = Arc::new(Mutex::new(String::new()));
    let sink = into.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    into
}

/// A YAML or TOML file as JSON, read by the setup's Python (PyYAML; tomllib).
fn to_json(path: &Path) -> Value {
    let script = "import json, sys, tomllib, yaml\n\
        p = sys.argv[1]\n\
        if p.endswith('.toml'):\n    print(json.dumps(tomllib.load(open(p, 'rb'))))\n\
        else:\n    print(json.dumps(list(yaml.safe_load_all(open(p)))))\n";
    let (ok, text) = run_tool(
        Command::new(&tools().python)
            .arg("-c")
            .arg(script)
            .arg(path),
        Duration::from_secs(30),
    );
    assert!(ok, "reading {}: {text}", path.display());
    serde_json::from_str(&text).unwrap()
}

fn toml_text_to_json(text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    to_json(&path)
}

// ---------------------------------------------------------------------------------------------
// Processes

/// A long-running process from an artefact's command line, killed on drop.
struct Proc {
    name: String,
    child: Child,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
}

impl Proc {
    fn start(name: &str, argv: &[String], env: &[(String, String)]) -> Proc {
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .env_remove("AGENTMINT_LOG")
            .env_remove("CREDENTIALS_DIRECTORY")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("{name}: spawn {argv:?}: {err}"));
        let out = pump(child.stdout.take().unwrap());
        let err = pump(child.stderr.take().unwrap());
        Proc {
            name: name.to_owned(),
            child,
            out,
            err,
        }
    }

    fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.out.lock().unwrap(),
            self.err.lock().unwrap()
        )
    }

    /// The JSON line with `"event": "ready"` on stdout.
    fn ready(&mut self) -> Value {
        let start = Instant::now();
        loop {
            let found = self
                .out
                .lock()
                .unwrap()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| v["event"] == "ready");
            if let Some(ready) = found {
                return ready;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before ready\n{}",
                    self.name,
                    self.output()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{} not ready in 30 s\n{}",
                self.name,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then the exit code within `grace`.
    fn terminate(&mut self, grace: Duration) -> i32 {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < grace,
                "{} still running {grace:?} after SIGTERM\n{}",
                self.name,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a probe or one-shot command line; returns (exit 0, output).
fn run_once(argv: &[String], env: &[(String, String)]) -> (bool, String) {
    run_tool(
        Command::new(&argv[0])
            .args(&argv[1..])
            .env_remove("AGENTMINT_LOG")
            .env_remove("CREDENTIALS_DIRECTORY")
            .envs(env.iter().map(|(k, v)| (k, v))),
        Duration::from_secs(60),
    )
}

// ---------------------------------------------------------------------------------------------
// Rewriting: file paths into a root, declared ports onto real ones

/// Absolute paths the artefacts use for files; everything else (URLs, /bin/sh) stays.
const FILE_PREFIXES: [&str; 5] = ["/etc/", "/var/", "/run/", "/app/", "/opt/"];

/// Rewrites the file paths in one argument (or a `sh -c` script) into `root`; the image's binary
/// becomes the built one.
fn rewrite(arg: &str, root: &Path) -> String {
    let root_s = root.display().to_string();
    let mut out = String::new();
    let mut i = 0;
    let bytes = arg.as_bytes();
    while i < arg.len() {
        let at_word_start = i == 0 || matches!(bytes[i - 1], b' ' | b'=' | b'\'' | b'"');
        let rest = &arg[i..];
        if at_word_start && rest.starts_with(IMAGE_BIN) {
            out.push_str(BIN);
            i += IMAGE_BIN.len();
        } else if at_word_start
            && !rest.starts_with(&root_s)
            && FILE_PREFIXES.iter().any(|p| rest.starts_with(p))
        {
            out.push_str(&root_s);
            out.push('/');
            i += 1;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Where an absolute artefact path lands under `root`.
fn under(root: &Path, path: &str) -> PathBuf {
    assert!(path.starts_with('/'), "{path} is not absolute");
    root.join(&path[1..])
}

fn write_file(path: &Path, contents: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// `http(s)://HOST:PORT/...` with the declared host and port replaced by the real loopback port.
fn remap_url(url: &str, declared_host: &str, declared_port: u16, actual: u16) -> String {
    let declared = format!("{declared_host}:{declared_port}");
    assert!(
        url.contains(&format!("://{declared}")),
        "{url} does not point at {declared}, the address the deployment declares"
    );
    url.replacen(&declared, &format!("127.0.0.1:{actual}"), 1)
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no port in {addr}"))
}

// ---------------------------------------------------------------------------------------------
// The Entra side: emulator, world, certificates, configs

struct Universe {
    _dir: tempfile::TempDir,
    world: World,
    _emulator: Proc,
    emulator_url: String,
    emulator_ca: PathBuf,
    credential: String,
}

impl Universe {
    fn start() -> Universe {
        let dir = tempfile::tempdir().unwrap();
        let world = World::generate(dir.path()).expect("generate world");
        let argv: Vec<String> = [
            BIN,
            "--log",
            "warn",
            "emulator",
            "--directory",
            &world.directory_path.display().to_string(),
            "--tls-dir",
            &dir.path().join("tls").display().to_string(),
        ]
        .map(str::to_owned)
        .to_vec();
        let mut emulator = Proc::start("emulator", &argv, &[]);
        let ready = emulator.ready();
        let credential = agentmint_testkit::credential::random_credential();
        Universe {
            emulator_url: ready["url"].as_str().unwrap().to_owned(),
            emulator_ca: PathBuf::from(ready["ca"].as_str().unwrap()),
            _dir: dir,
            world,
            _emulator: emulator,
            credential,
        }
    }

    fn world_ids(&self) -> [String; 6] {
        let w = &self.world;
        [
            w.tenant_id.clone(),
            w.blueprint_app_id.clone(),
            w.agent_identity_app_id.clone(),
            w.agent_user_object_id.clone(),
            w.second_blueprint_app_id.clone(),
            w.second_agent_identity_app_id.clone(),
        ]
    }

    /// A deploy/ config made to run here: placeholder ids become the emulator's, the placeholder
    /// sandbox hash the test credential's, the listen addresses port 0 on loopback, the authority
    /// the emulator, and file paths move under `root`. Returns the text and the declared
    /// (grpc, admin) ports.
    fn config_for(&self, deploy_config: &str, root: &Path) -> (String, u16, u16) {
        let mut text = deploy_config.to_owned();
        for (placeholder, id) in PLACEHOLDERS.iter().zip(self.world_ids()) {
            text = text.replace(placeholder, &id);
        }
        let hash = agentmint_testkit::credential::credential_sha256(&self.credential);
        text = text.replace(PLACEHOLDER_SHA256, &hash);
        let (mut grpc, mut admin) = (None, None);
        let mut lines = Vec::new();
        for line in text.lines() {
            let key = line.split('=').next().unwrap_or("").trim();
            let value = line.split('"').nth(1).unwrap_or("");
            match key {
                "listen" => {
                    grpc = Some(port_of(value));
                    lines.push("listen = \"127.0.0.1:0\"".to_owned());
                }
                "admin_listen" => {
                    admin = Some(port_of(value));
                    lines.push("admin_listen = \"127.0.0.1:0\"".to_owned());
                }
                _ => lines.push(rewrite(line, root)),
            }
            if line.trim() == "[gateway]" {
                lines.push(format!("authority_host = \"{}\"", self.emulator_url));
                lines.push(format!("ca_file = \"{}\"", self.emulator_ca.display()));
            }
        }
        (
            lines.join("\n") + "\n",
            grpc.expect("the config declares [gateway] listen"),
            admin.expect("the config declares [gateway] admin_listen"),
        )
    }

    /// Places the world's Blueprint key and certificate where the config's `mail-agent` provider
    /// reads them (paths already resolved by the caller).
    fn blueprint_files(&self) -> (Vec<u8>, Vec<u8>) {
        (
            std::fs::read(&self.world.blueprint_key_path).unwrap(),
            std::fs::read(&self.world.blueprint_cert_path).unwrap(),
        )
    }
}

/// A CA and a server certificate for the gateway's gRPC port (the Service name and loopback).
fn grpc_pki() -> (String, String, String) {
    let ca = agentmint_testkit::pki::TestCa::new();
    let server = ca.server(&["agentmint-gateway", "127.0.0.1"]);
    (ca.cert_pem.clone(), server.cert_pem, server.key_pem)
}

/// The stand-in agent: fetches both token kinds from the URLs in its environment and prints the
/// claims that tell them apart (never a token).
const AGENT_PY: &str = r#"import base64, json, os, urllib.request
def claims(url):
    request = urllib.request.Request(url, headers={"Metadata": "true"})
    with urllib.request.urlopen(request, timeout=20) as response:
        token = json.load(response)["access_token"]
    part = token.split(".")[1]
    part += "=" * (-len(part) % 4)
    c = json.loads(base64.urlsafe_b64decode(part))
    return {k: c.get(k) for k in ("idtyp", "oid", "appid", "azp")}
print(json.dumps({"app": claims(os.environ["AGENTMINT_TOKEN_URL"]),
                  "user": claims(os.environ["AGENTMINT_USER_TOKEN_URL"])}))
"#;

/// The agent got an app-only token as the Agent Identity and a user token as the Agent User.
fn assert_both_token_kinds(universe: &Universe, output: &str) {
    let line = output
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("the agent printed no claims: {output}"));
    let got: Value = serde_json::from_str(line).unwrap();
    let w = &universe.world;
    let appid = |c: &Value| {
        c["appid"]
            .as_str()
            .or(c["azp"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(got["app"]["idtyp"], "app", "{got}");
    assert_eq!(appid(&got["app"]), w.agent_identity_app_id, "{got}");
    assert_eq!(got["user"]["idtyp"], "user", "{got}");
    assert_eq!(got["user"]["oid"], w.agent_user_object_id.as_str(), "{got}");
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Static checks

fn manifests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("deploy/kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[test]
fn kubernetes_manifests_validate_offline_against_a_version_with_native_sidecars() {
    for file in manifests() {
        let (ok, text) = run_tool(
            Command::new(&tools().kubernetes_validate)
                .args(["--strict", "-k", KUBERNETES_VERSION])
                .arg(&file),
            Duration::from_secs(120),
        );
        assert!(ok, "{}:\n{text}", file.display());
        assert!(!text.contains("WARN"), "{}:\n{text}", file.display());
    }
}

#[test]
fn the_dockerfile_lints_clean() {
    let (ok, text) = run_tool(
        Command::new(&tools().hadolint).arg(repo().join("deploy/Dockerfile")),
        Duration::from_secs(60),
    );
    assert!(ok && text.trim().is_empty(), "hadolint:\n{text}");
}

fn units() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("deploy/systemd"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "service"))
        .collect();
    files.sort();
    files
}

#[test]
fn systemd_analyze_verifies_the_units() {
    // The units name /usr/local/bin/agentmint, which is not installed here: verify copies that
    // name the built binary instead. Templates are verified as an instance.
    let dir = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for unit in units() {
        let text = std::fs::read_to_string(&unit).unwrap();
        let name = unit.file_name().unwrap().to_str().unwrap().to_owned();
        std::fs::write(dir.path().join(&name), text.replace(IMAGE_BIN, BIN)).unwrap();
        names.push(name.replace("@.", "@mail-agent."));
    }
    let (ok, text) = run_tool(
        Command::new(&tools().systemd_analyze)
            .arg("verify")
            .args(&names)
            .current_dir(dir.path())
            .env("SYSTEMD_LOG_LEVEL", "notice"),
        Duration::from_secs(60),
    );
    assert!(ok, "systemd-analyze verify:\n{text}");
    let complaints: Vec<&str> = text.lines().filter(|l| l.contains("agentmint")).collect();
    assert!(complaints.is_empty(), "systemd-analyze verify:\n{text}");
}

// ---------------------------------------------------------------------------------------------
// The container image

struct Dockerfile {
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    healthcheck: Vec<String>,
    user: String,
}

/// The final stage's ENTRYPOINT, CMD, HEALTHCHECK CMD and USER (exec form only: the image has no
/// shell for the other).
fn dockerfile() -> Dockerfile {
    let text = std::fs::read_to_string(repo().join("deploy/Dockerfile")).unwrap();
    let joined = text.replace("\\\n", " ");
    let last_stage = joined.rsplit("\nFROM ").next().unwrap();
    let mut file = Dockerfile {
        entrypoint: Vec::new(),
        cmd: Vec::new(),
        healthcheck: Vec::new(),
        user: String::new(),
    };
    let exec_form = |rest: &str| -> Vec<String> {
        let value: Value = serde_json::from_str(rest.trim())
            .unwrap_or_else(|_| panic!("not the exec form (JSON array): {rest}"));
        strings(&value)
    };
    for line in last_stage.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("ENTRYPOINT ") {
            file.entrypoint = exec_form(rest);
        } else if let Some(rest) = line.strip_prefix("CMD ") {
            file.cmd = exec_form(rest);
        } else if let Some(rest) = line.strip_prefix("HEALTHCHECK ") {
            let cmd = rest
                .split(" CMD ")
                .nth(1)
                .expect("HEALTHCHECK ... CMD [..]");
            file.healthcheck = exec_form(cmd);
        } else if let Some(rest) = line.strip_prefix("USER ") {
            file.user = rest.trim().to_owned();
        }
    }
    assert_eq!(
        file.entrypoint,
        [IMAGE_BIN],
        "the image's entrypoint is the binary"
    );
    assert!(
        !file.healthcheck.is_empty() && file.healthcheck[0] == IMAGE_BIN,
        "the health check runs the binary itself (distroless has no shell): {:?}",
        file.healthcheck
    );
    file
}

/// The ConfigMap's gateway.toml: the config the image's CMD and the Deployment read.
fn kubernetes_gateway_config() -> String {
    let docs = to_json(&repo().join("deploy/kubernetes/gateway.yaml"));
    let cm = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("a ConfigMap in gateway.yaml");
    cm["data"]["gateway.toml"].as_str().unwrap().to_owned()
}

#[test]
fn the_images_entrypoint_and_health_check_run() {
    let universe = Universe::start();
    let image = dockerfile();
    assert!(
        image
            .user
            .split(':')
            .all(|id| id.parse::<u32>().is_ok_and(|n| n != 0)),
        "USER is a numeric non-root id (runAsNonRoot can check it): {}",
        image.user
    );
    let root = tempfile::tempdir().unwrap();
    let argv: Vec<String> = image
        .entrypoint
        .iter()
        .chain(&image.cmd)
        .map(|a| rewrite(a, root.path()))
        .collect();
    let config_arg = image
        .cmd
        .iter()
        .skip_while(|a| *a != "--config")
        .nth(1)
        .expect("CMD gives --config");
    let (_grpc_ca, env) = kubernetes_gateway_files(&universe, root.path(), config_arg);
    let mut gateway = Proc::start("image gateway", &argv, &env);
    let ready = gateway.ready();
    assert!(
        ready["grpc"].as_str().unwrap().starts_with("https://"),
        "{ready}"
    );
    let admin = port_of(ready["admin"].as_str().unwrap());
    let (_, _, declared_admin) = universe.config_for(&kubernetes_gateway_config(), root.path());
    let probe: Vec<String> = image
        .healthcheck
        .iter()
        .map(|a| rewrite(a, root.path()))
        .map(|a| {
            if a.starts_with("http://") {
                remap_url(&a, "127.0.0.1", declared_admin, admin)
            } else {
                a
            }
        })
        .collect();
    let (ok, out) = run_once(&probe, &[]);
    assert!(ok, "HEALTHCHECK {probe:?}: {out}\n{}", gateway.output());
    let code = gateway.terminate(Duration::from_secs(DOCKER_STOP_GRACE_SECS));
    assert_eq!(code, 0, "{}", gateway.output());
    // A stopped gateway fails the same health check.
    let (ok, _) = run_once(&probe, &[]);
    assert!(!ok, "the health check passes with no gateway");
}

/// Writes the ConfigMap's config (made to run here) at `config_path` under `root`, and every file
/// it names: the gRPC TLS pair, the Blueprint key and certificate. Returns the gRPC CA and the
/// gateway's environment (the workload identity webhook's token file).
fn kubernetes_gateway_files(
    universe: &Universe,
    root: &Path,
    config_path: &str,
) -> (String, Vec<(String, String)>) {
    let (text, _, _) = universe.config_for(&kubernetes_gateway_config(), root);
    write_file(&under(root, config_path), &text);
    let config = toml_text_to_json(&text);
    let (ca, cert, key) = grpc_pki();
    let tls = &config["gateway"]["tls"];
    write_file(Path::new(tls["cert_file"].as_str().unwrap()), &cert);
    write_file(Path::new(tls["key_file"].as_str().unwrap()), &key);
    let (bp_key, bp_cert) = universe.blueprint_files();
    let mut wrote_blueprint = false;
    for provider in config["provider"].as_array().unwrap() {
        let credential = &provider["credential"];
        if credential["type"] == "certificate" {
            write_file(Path::new(credential["key_file"].as_str().unwrap()), &bp_key);
            write_file(
                Path::new(credential["certificate_file"].as_str().unwrap()),
                &bp_cert,
            );
            wrote_blueprint = true;
        }
    }
    assert!(wrote_blueprint, "the config has a certificate provider");
    let token_file = root.join("var/run/secrets/azure/tokens/azure-identity-token");
    write_file(&token_file, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2ln");
    (
        ca,
        vec![(
            "AZURE_FEDERATED_TOKEN_FILE".to_owned(),
            token_file.display().to_string(),
        )],
    )
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

fn find<'a>(docs: &'a Value, kind: &str) -> &'a Value {
    docs.as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

/// A named container port's number.
fn container_port(container: &Value, name: &str) -> u16 {
    container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("no container port {name}")) as u16
}

fn probe_port(container: &Value, probe: &Value) -> u16 {
    match &probe["httpGet"]["port"] {
        Value::String(name) => container_port(container, name),
        Value::Number(n) => n.as_u64().unwrap() as u16,
        other => panic!("probe port {other}"),
    }
}

/// Every absolute file the config names lies under one of the container's volume mounts.
fn assert_mounted(container: &Value, path: &str, what: &str) {
    let mounted = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| path.starts_with(&format!("{}/", m["mountPath"].as_str().unwrap())));
    assert!(
        mounted,
        "{what} {path} is on no volume mount of {}",
        container["name"]
    );
}

fn env_of(container: &Value) -> Vec<(String, String)> {
    container["env"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["name"].as_str().unwrap().to_owned(),
                        e["value"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kubernetes_gateway_and_agent_pod_run_as_written() {
    let universe = Universe::start();
    let image = dockerfile();
    let gateway_docs = to_json(&repo().join("deploy/kubernetes/gateway.yaml"));
    let deployment = find(&gateway_docs, "Deployment");
    let service = find(&gateway_docs, "Service");
    let pod_spec = &deployment["spec"]["template"]["spec"];
    assert!(deployment["spec"]["replicas"].as_u64().unwrap() >= 2);
    let pdb = find(&gateway_docs, "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["selector"], deployment["spec"]["selector"]);
    let container = &pod_spec["containers"][0];
    assert!(
        container["command"].is_null(),
        "the image's ENTRYPOINT runs"
    );

    // The gateway pod: ENTRYPOINT + args, the config from the ConfigMap mount.
    let gw_root = tempfile::tempdir().unwrap();
    let args = strings(&container["args"]);
    let config_arg = args
        .iter()
        .skip_while(|a| *a != "--config")
        .nth(1)
        .expect("args give --config")
        .clone();
    let config_mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| config_arg.starts_with(&format!("{}/", m["mountPath"].as_str().unwrap())))
        .expect("--config is on a volume mount");
    let config_key = config_arg.rsplit('/').next().unwrap();
    let config_volume = pod_spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == config_mount["name"])
        .unwrap();
    assert_eq!(
        config_volume["configMap"]["name"],
        find(&gateway_docs, "ConfigMap")["metadata"]["name"]
    );
    assert!(
        find(&gateway_docs, "ConfigMap")["data"][config_key].is_string(),
        "the ConfigMap has the key {config_key}"
    );
    let declared = toml_text_to_json(&kubernetes_gateway_config());
    for file in [
        declared["gateway"]["tls"]["cert_file"].as_str().unwrap(),
        declared["gateway"]["tls"]["key_file"].as_str().unwrap(),
    ] {
        assert_mounted(container, file, "the gRPC TLS file");
    }
    for provider in declared["provider"].as_array().unwrap() {
        for key in ["key_file", "certificate_file"] {
            if let Some(file) = provider["credential"][key].as_str() {
                assert_mounted(container, file, key);
            }
        }
    }
    let (grpc_ca, mut env) = kubernetes_gateway_files(&universe, gw_root.path(), &config_arg);
    env.extend(env_of(container));
    let argv: Vec<String> = image
        .entrypoint
        .iter()
        .chain(&args)
        .map(|a| rewrite(a, gw_root.path()))
        .collect();
    let mut gateway = Proc::start("kubernetes gateway", &argv, &env);
    let ready = gateway.ready();
    let grpc = port_of(ready["grpc"].as_str().unwrap());
    let admin = port_of(ready["admin"].as_str().unwrap());
    let (_, declared_grpc, declared_admin) =
        universe.config_for(&kubernetes_gateway_config(), gw_root.path());
    assert_eq!(container_port(container, "grpc"), declared_grpc);
    assert_eq!(container_port(container, "admin"), declared_admin);
    for probe in ["readinessProbe", "livenessProbe"] {
        let p = &container[probe];
        assert_eq!(
            probe_port(container, p),
            declared_admin,
            "{probe} on the admin port"
        );
        let url = format!(
            "http://127.0.0.1:{admin}{}",
            p["httpGet"]["path"].as_str().unwrap()
        );
        let (ok, out) = run_once(&[BIN.into(), "probe".into(), "http".into(), url], &[]);
        assert!(ok, "{probe}: {out}\n{}", gateway.output());
    }

    // The agent pod: the sidecar's args, its probes, the agent's command.
    let agent_docs = to_json(&repo().join("deploy/kubernetes/agent-pod.yaml"));
    let pod = find(&agent_docs, "Pod");
    let pod_root = tempfile::tempdir().unwrap();
    let sidecar = &pod["spec"]["initContainers"][0];
    assert_eq!(sidecar["restartPolicy"], "Always", "a native sidecar");
    let svc_port = &service["spec"]["ports"][0];
    assert_eq!(
        container_port(container, svc_port["targetPort"].as_str().unwrap()),
        declared_grpc,
        "the Service targets the gRPC port"
    );
    let service_name = service["metadata"]["name"].as_str().unwrap();
    let service_port = svc_port["port"].as_u64().unwrap() as u16;
    let mut sidecar_argv: Vec<String> = image
        .entrypoint
        .iter()
        .map(|a| rewrite(a, pod_root.path()))
        .collect();
    for arg in strings(&sidecar["args"]) {
        let arg = match arg.split_once('=') {
            Some(("--gateway", url)) => format!(
                "--gateway={}",
                remap_url(url, service_name, service_port, grpc)
            ),
            Some(("--gateway-ca", path)) => {
                assert_mounted(sidecar, path, "--gateway-ca");
                write_file(&under(pod_root.path(), path), &grpc_ca);
                rewrite(&arg, pod_root.path())
            }
            Some(("--credential-file", path)) => {
                assert_mounted(sidecar, path, "--credential-file");
                write_file(&under(pod_root.path(), path), &universe.credential);
                rewrite(&arg, pod_root.path())
            }
            Some(("--env-file", path)) => {
                assert_mounted(sidecar, path, "--env-file");
                std::fs::create_dir_all(under(pod_root.path(), path).parent().unwrap()).unwrap();
                rewrite(&arg, pod_root.path())
            }
            _ => rewrite(&arg, pod_root.path()),
        };
        sidecar_argv.push(arg);
    }
    let mut resolver = Proc::start("kubernetes sidecar", &sidecar_argv, &env_of(sidecar));
    resolver.ready();
    for probe in ["startupProbe", "livenessProbe"] {
        let command: Vec<String> = strings(&sidecar[probe]["exec"]["command"])
            .iter()
            .map(|a| rewrite(a, pod_root.path()))
            .collect();
        assert!(!command.is_empty(), "the sidecar has an exec {probe}");
        let (ok, out) = run_once(&command, &[]);
        assert!(ok, "{probe} {command:?}: {out}\n{}", resolver.output());
    }
    let agent = &pod["spec"]["containers"][0];
    let agent_command: Vec<String> = strings(&agent["command"])
        .iter()
        .chain(&strings(&agent["args"]))
        .map(|a| rewrite(a, pod_root.path()))
        .collect();
    write_file(&pod_root.path().join("app/agent.py"), AGENT_PY);
    let (ok, out) = run_once(&agent_command, &[]);
    assert!(ok, "agent {agent_command:?}: {out}\n{}", resolver.output());
    assert_both_token_kinds(&universe, &out);

    // Termination: the sidecar within the pod's grace, the gateway within its own less preStop.
    let pod_grace = pod["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .unwrap_or(KUBERNETES_DEFAULT_GRACE_SECS);
    assert_eq!(resolver.terminate(Duration::from_secs(pod_grace)), 0);
    let grace = pod_spec["terminationGracePeriodSeconds"].as_u64().unwrap();
    let pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .expect("the gateway's preStop sleeps (distroless: the sleep action, not a shell)");
    assert!(
        grace >= pre_stop + GATEWAY_DRAIN_GRACE_SECS + GATEWAY_REQUEST_BOUND_SECS,
        "terminationGracePeriodSeconds {grace} does not cover preStop {pre_stop} s + the gateway's {GATEWAY_DRAIN_GRACE_SECS} s drain grace + its {GATEWAY_REQUEST_BOUND_SECS} s request bound"
    );
    let code = gateway.terminate(Duration::from_secs(grace - pre_stop));
    assert_eq!(code, 0, "{}", gateway.output());
}

// ---------------------------------------------------------------------------------------------
// systemd

struct Unit {
    keys: Vec<(String, String)>,
}

impl Unit {
    fn read(name: &str, instance: &str, creds: &Path) -> Unit {
        let text = std::fs::read_to_string(repo().join("deploy/systemd").join(name)).unwrap();
        let mut keys = Vec::new();
        for line in text.replace("\\\n", " ").lines() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with('[') || line.is_empty() {
                continue;
            }
            let (key, value) = line.split_once('=').unwrap();
            let value = value
                .replace("%%", "\u{0}")
                .replace("%i", instance)
                .replace("%d", &creds.display().to_string())
                .replace('\u{0}', "%");
            assert!(!value.contains('%'), "an unexpanded specifier in {line}");
            keys.push((key.to_owned(), value));
        }
        Unit { keys }
    }

    fn all(&self, key: &str) -> Vec<&str> {
        self.keys
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn one(&self, key: &str) -> &str {
        let all = self.all(key);
        assert_eq!(all.len(), 1, "exactly one {key}=");
        all[0]
    }

    fn seconds(&self, key: &str) -> u64 {
        self.one(key).parse().unwrap()
    }

    /// `Environment=` as pairs.
    fn env(&self) -> Vec<(String, String)> {
        self.all("Environment")
            .iter()
            .flat_map(|v| split_words(v))
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect()
    }

    /// `LoadCredential=ID:SOURCE` as pairs.
    fn credentials(&self) -> Vec<(String, String)> {
        self.all("LoadCredential")
            .iter()
            .map(|v| {
                let (id, source) = v.split_once(':').expect("LoadCredential=ID:PATH");
                (id.to_owned(), source.to_owned())
            })
            .collect()
    }
}

/// systemd's command-line splitting: whitespace, with single and double quotes.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Does what systemd does for LoadCredential=: copies each source into the credentials directory
/// under its id. The sources are written first by `fill`.
fn load_credentials(unit: &Unit, root: &Path, creds: &Path, fill: impl Fn(&str) -> Vec<u8>) {
    std::fs::create_dir_all(creds).unwrap();
    for (id, source) in unit.credentials() {
        let source = under(root, &source);
        write_file(&source, fill(&id));
        std::fs::copy(&source, creds.join(&id)).unwrap();
    }
}

#[test]
fn systemd_units_run_as_written() {
    let universe = Universe::start();
    let root = tempfile::tempdir().unwrap();
    let instance = "mail-agent";

    // The gateway unit: credentials through LoadCredential=, the config's relative paths
    // resolved against $CREDENTIALS_DIRECTORY.
    let gw_creds = root.path().join("credentials/agentmint-gateway");
    let gw_unit = Unit::read("agentmint-gateway.service", instance, &gw_creds);
    let deploy_config =
        std::fs::read_to_string(repo().join("deploy/systemd/gateway.toml")).unwrap();
    let (config_text, declared_grpc, _) = universe.config_for(&deploy_config, root.path());
    let config = toml_text_to_json(&config_text);
    let mail = config["provider"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == instance)
        .expect("the config's provider is the sandbox instance's name");
    let key_name = mail["credential"]["key_file"].as_str().unwrap().to_owned();
    let cert_name = mail["credential"]["certificate_file"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        Path::new(&key_name).is_relative() && Path::new(&cert_name).is_relative(),
        "the config names its credentials relative to $CREDENTIALS_DIRECTORY"
    );
    let (bp_key, bp_cert) = universe.blueprint_files();
    load_credentials(&gw_unit, root.path(), &gw_creds, |id| {
        if id == key_name {
            bp_key.clone()
        } else if id == cert_name {
            bp_cert.clone()
        } else {
            panic!("LoadCredential={id} is named by no config path")
        }
    });
    for name in [&key_name, &cert_name] {
        assert!(
            gw_creds.join(name).exists(),
            "no LoadCredential= gives {name}"
        );
    }
    let exec: Vec<String> = split_words(gw_unit.one("ExecStart"))
        .iter()
        .map(|a| rewrite(a, root.path()))
        .collect();
    let config_arg = exec
        .iter()
        .skip_while(|a| *a != "--config")
        .nth(1)
        .expect("ExecStart gives --config");
    write_file(Path::new(config_arg), &config_text);
    let mut env = gw_unit.env();
    env.push((
        "CREDENTIALS_DIRECTORY".to_owned(),
        gw_creds.display().to_string(),
    ));
    // `agentmint config check`, as the guide runs it, agrees with the gateway.
    let (ok, out) = run_once(
        &[
            BIN.into(),
            "config".into(),
            "check".into(),
            config_arg.clone(),
        ],
        &env,
    );
    assert!(ok, "config check under the unit's credentials: {out}");
    let mut gateway = Proc::start("systemd gateway", &exec, &env);
    let ready = gateway.ready();
    let grpc = port_of(ready["grpc"].as_str().unwrap());
    let admin = port_of(ready["admin"].as_str().unwrap());
    let (ok, out) = run_once(
        &[
            BIN.into(),
            "probe".into(),
            "http".into(),
            format!("http://127.0.0.1:{admin}/readyz"),
        ],
        &[],
    );
    assert!(ok, "readyz: {out}\n{}", gateway.output());

    // The sandbox template: its credential through LoadCredential=, the env file at a fixed path
    // in its RuntimeDirectory, ExecStartPost's probe.
    let sbx_creds = root.path().join("credentials/agentmint-sandbox");
    let sbx_unit = Unit::read("agentmint-sandbox@.service", instance, &sbx_creds);
    load_credentials(&sbx_unit, root.path(), &sbx_creds, |_| {
        universe.credential.clone().into_bytes()
    });
    let runtime_dir = format!("/run/{}", sbx_unit.one("RuntimeDirectory"));
    std::fs::create_dir_all(under(root.path(), &runtime_dir)).unwrap();
    let sbx_exec: Vec<String> = split_words(sbx_unit.one("ExecStart"))
        .iter()
        .map(|a| {
            if a.starts_with("http://") {
                remap_url(a, "127.0.0.1", declared_grpc, grpc)
            } else {
                rewrite(a, root.path())
            }
        })
        .collect();
    let env_file = sbx_exec
        .iter()
        .skip_while(|a| *a != "--env-file")
        .nth(1)
        .expect("the sandbox unit writes an env file");
    assert!(
        env_file.starts_with(&under(root.path(), &runtime_dir).display().to_string()),
        "the env file {env_file} is in the unit's RuntimeDirectory {runtime_dir}"
    );
    let mut resolver = Proc::start("systemd sandbox", &sbx_exec, &sbx_unit.env());
    resolver.ready();
    for post in sbx_unit.all("ExecStartPost") {
        let argv: Vec<String> = split_words(post)
            .iter()
            .map(|a| rewrite(a, root.path()))
            .collect();
        let (ok, out) = run_once(&argv, &[]);
        assert!(ok, "ExecStartPost {argv:?}: {out}\n{}", resolver.output());
    }

    // The example agent unit sources the env file.
    let agent_unit = Unit::read("agentmint-agent@.service", instance, &sbx_creds);
    let agent_exec: Vec<String> = split_words(agent_unit.one("ExecStart"))
        .iter()
        .map(|a| rewrite(a, root.path()))
        .collect();
    let agent_path = agent_exec
        .last()
        .unwrap()
        .rsplit("exec ")
        .next()
        .unwrap()
        .to_owned();
    write_file(
        Path::new(&agent_path),
        format!("#!/usr/bin/env python3\n{AGENT_PY}"),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&agent_path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (ok, out) = run_once(&agent_exec, &agent_unit.env());
    assert!(ok, "agent {agent_exec:?}: {out}\n{}", resolver.output());
    assert_both_token_kinds(&universe, &out);

    // Stops within TimeoutStopSec=, exit 0; the gateway's covers its request bound.
    let sbx_grace = sbx_unit.seconds("TimeoutStopSec");
    assert_eq!(resolver.terminate(Duration::from_secs(sbx_grace)), 0);
    let gw_grace = gw_unit.seconds("TimeoutStopSec");
    assert!(gw_grace >= GATEWAY_DRAIN_GRACE_SECS + GATEWAY_REQUEST_BOUND_SECS);
    let code = gateway.terminate(Duration::from_secs(gw_grace));
    assert_eq!(code, 0, "{}", gateway.output());
}
