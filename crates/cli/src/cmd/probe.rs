//! `agentmint probe`: health checks run by the binary itself, for images without a shell.
//!
//! The container image is distroless (no `sh`, `test`, `curl` or `wget`), so a Docker
//! `HEALTHCHECK` or a Kubernetes `exec` probe cannot use shell tools. Two checks cover the two
//! processes:
//!
//! - `agentmint probe http URL`: GET the URL (the gateway's admin `/readyz` or `/healthz`); exit 0
//!   on a 2xx answer within the timeout, 1 otherwise.
//! - `agentmint probe env-file PATH`: the sidecar resolver wrote its env file (`--env-file`), the
//!   file holds `AGENTMINT_TOKEN_URL`, and the resolver accepts connections at that URL's address;
//!   exit 0 then, 1 otherwise. `--wait-secs N` retries for up to N seconds (systemd
//!   `ExecStartPost=`, so units ordered after the sidecar find the file written).
//!
//! Output is one line on stderr saying why a check failed. The env file holds capability URLs, so
//! a failure names the file and the variable, never a value.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

#[derive(clap::Subcommand)]
pub enum Command {
    /// GET a URL (e.g. http://127.0.0.1:7444/readyz); exit 0 on a 2xx answer.
    Http {
        /// The URL to GET.
        url: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 2)]
        timeout_secs: u64,
    },
    /// Check a sidecar's env file: written, holds AGENTMINT_TOKEN_URL, and the resolver answers.
    EnvFile {
        /// The file given to `agentmint sandbox --env-file`.
        path: PathBuf,
        /// Give up connecting to the resolver after this many seconds.
        #[arg(long, default_value_t = 2)]
        timeout_secs: u64,
        /// Keep checking for up to this many seconds before failing (a systemd `ExecStartPost=`
        /// waiting for the sidecar to start; 0 checks once, as a Kubernetes probe does).
        #[arg(long, default_value_t = 0)]
        wait_secs: u64,
    },
}

/// The largest env file read (a few hundred bytes per provider).
const MAX_ENV_FILE_BYTES: u64 = 1 << 20;

pub async fn run(command: Command) -> anyhow::Result<u8> {
    let outcome = match command {
        Command::Http { url, timeout_secs } => http(&url, Duration::from_secs(timeout_secs)).await,
        Command::EnvFile {
            path,
            timeout_secs,
            wait_secs,
        } => {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(wait_secs);
            loop {
                let outcome = env_file(&path, Duration::from_secs(timeout_secs)).await;
                if outcome.is_ok() || tokio::time::Instant::now() >= deadline {
                    break outcome;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    match outcome {
        Ok(()) => Ok(0),
        Err(err) => {
            eprintln!("agentmint probe: {err:#}");
            Ok(1)
        }
    }
}

async fn http(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()?;
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "GET {url}: {status}");
    Ok(())
}

async fn env_file(path: &std::path::Path, timeout: Duration) -> anyhow::Result<()> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .with_context(|| format!("{} is not there yet", path.display()))?
        .take(MAX_ENV_FILE_BYTES)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {}", path.display()))?;
    let url = exported(&text, "AGENTMINT_TOKEN_URL")
        .with_context(|| format!("{} has no AGENTMINT_TOKEN_URL", path.display()))?;
    let address = authority(&url).with_context(|| {
        format!(
            "AGENTMINT_TOKEN_URL in {} is not an http URL",
            path.display()
        )
    })?;
    tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address))
        .await
        .map_err(|_| anyhow::anyhow!("the resolver at {address} did not answer in {timeout:?}"))?
        .with_context(|| format!("the resolver at {address} refuses connections"))?;
    Ok(())
}

/// The value of `export NAME='value'` in a file written by `agentmint sandbox --env-file`
/// (single-quoted, a quote written as `'\''`).
fn exported(text: &str, name: &str) -> Option<String> {
    let prefix = format!("export {name}='");
    let line = text.lines().find(|line| line.starts_with(&prefix))?;
    let quoted = line[prefix.len()..].strip_suffix('\'')?;
    Some(quoted.replace("'\\''", "'"))
}

/// `host:port` of an `http://host:port/...` URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("http://")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..end];
    authority.rsplit_once(':').map(|_| authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sidecars_export_lines() {
        let text = "# written by agentmint sandbox\nexport AGENTMINT_TOKEN_URL='http://127.0.0.1:4000/s/agent/token'\nexport X='it'\\''s'\n";
        assert_eq!(
            exported(text, "AGENTMINT_TOKEN_URL").as_deref(),
            Some("http://127.0.0.1:4000/s/agent/token")
        );
        assert_eq!(exported(text, "X").as_deref(), Some("it's"));
        assert_eq!(exported(text, "AGENTMINT_USER_TOKEN_URL"), None);
    }

    #[test]
    fn finds_the_resolvers_address() {
        assert_eq!(
            authority("http://127.0.0.1:4000/s/agent/token"),
            Some("127.0.0.1:4000")
        );
        assert_eq!(authority("http://[::1]:4000/x"), Some("[::1]:4000"));
        assert_eq!(authority("https://127.0.0.1:4000/x"), None);
        assert_eq!(authority("http://localhost/x"), None);
    }
}
