//! The sandbox crate's integration tests, as one test binary (cargo links each binary separately:
//! one binary instead of nine saves minutes of CI on two cores). One module per behaviour; the
//! shared fake gateway, resolver and raw HTTP client are in `common`.

mod common;

mod gateway_faults;
mod launcher;
mod launcher_os_signals;
mod local_endpoint;
mod log_hygiene;
mod managed_identity;
mod sdk_interop;
mod shutdown;
mod token_cache;
