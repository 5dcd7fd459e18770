//! The harness's errors: [`ProbeError`] for one request of the load generator, [`BenchError`] for
//! anything that stops a run or a scenario.

use std::path::PathBuf;

/// Errors of other crates (emulator, config, gateway, sandbox) pass through boxed: the harness only
/// reports them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why one request of the load generator failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    #[error("cannot build the request: {0}")]
    Request(#[from] http::Error),
    #[error("unexpected HTTP status {status}: {body}")]
    Status { status: u16, body: String },
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("gRPC status {code:?}: {message}")]
    Grpc { code: tonic::Code, message: String },
}

impl From<tonic::Status> for ProbeError {
    fn from(status: tonic::Status) -> Self {
        Self::Grpc {
            code: status.code(),
            message: status.message().to_owned(),
        }
    }
}

/// Why a run (or one scenario of it) could not produce its figures.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot bind a loopback listener: {0}")]
    Bind(#[source] std::io::Error),
    #[error("cannot connect a load-generator worker: {0}")]
    Connect(#[source] ProbeError),
    #[error("a probe request failed: {0}")]
    Probe(#[from] ProbeError),
    #[error("cannot set up {what}: {source}")]
    Setup {
        what: &'static str,
        #[source]
        source: BoxError,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("a load-generator worker panicked or was cancelled: {0}")]
    Worker(#[from] tokio::task::JoinError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode the report as JSON: {0}")]
    Encode(#[from] serde_json::Error),
}

impl BenchError {
    /// Wraps another crate's error met while setting up `what`.
    pub fn setup(what: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Setup {
            what,
            source: source.into(),
        }
    }
}
