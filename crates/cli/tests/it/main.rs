//! The `agentmint` binary's integration tests, one test binary (each binary is a separate link):
//! the real binary's subcommands as child processes on loopback, driven like an operator and an
//! agent would. One module per behaviour.

mod config_check;
mod demo;
mod deploy;
mod drain;
mod e2e;
mod grpc_interop;
mod mtls;
mod restart;
mod sdk_interop;
mod secrets;
mod secrets_lifecycle;
mod support;
