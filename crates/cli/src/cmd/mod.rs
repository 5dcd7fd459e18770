//! One module per subcommand.

pub mod bench;
pub mod config;
pub mod demo;
pub mod emulator;
pub mod gateway;
pub mod gateway_conn;
pub mod probe;
pub mod sandbox;
pub mod token;
