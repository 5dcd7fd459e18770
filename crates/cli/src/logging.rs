//! Logging: `tracing` with an env filter, human-readable or JSON lines, always to stderr (stdout is
//! for command output such as the demo's claims table and ready lines).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(filter: &str, json: bool) -> Result<(), String> {
    let filter = EnvFilter::try_new(filter).map_err(|e| format!("invalid --log filter: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: a log file or collector gets plain `key=value` text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| format!("cannot initialise logging: {e}"))
}
