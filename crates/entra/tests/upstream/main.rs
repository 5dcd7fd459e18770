//! Integration tests of agentmint-entra against wiremock: one binary, one module per concern.

mod certificate;
mod chain;
mod errors;
mod forms;
mod redaction;
mod retries;
mod support;
