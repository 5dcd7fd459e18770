//! The gateway's integration tests, one binary (each test binary is a separate link): the real
//! gateway on loopback port 0, in front of the emulator or a mock upstream, driven over gRPC.
//! One module per behaviour.

mod claims_mismatch;
mod clouds;
mod concurrency;
mod deadline;
mod drain;
mod policy;
mod reload;
mod rotation;
mod service_account;
mod support;
mod task_leaks;
