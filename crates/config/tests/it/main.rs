//! Integration tests of agentmint-config through its public API, one module per area.

mod support;

mod credentials;
mod example;
mod files;
mod gateway;
mod never_panics;
mod providers;
mod sandboxes;
mod scopes;
mod syntax;
