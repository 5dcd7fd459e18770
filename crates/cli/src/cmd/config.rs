//! `agentmint config check FILE`: every mistake at once, with file:line, exit 0 only when clean.

use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Validate a config file: syntax, keys, ids, references, files, certificates.
    Check {
        /// The config file.
        file: PathBuf,
    },
}

pub async fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Check { file } => match agentmint_config::load(&file) {
            Ok(loaded) => {
                for warning in &loaded.warnings {
                    println!("{warning}");
                }
                println!(
                    "{}: ok ({} providers, {} sandboxes)",
                    file.display(),
                    loaded.config.providers.len(),
                    loaded.config.sandboxes.len()
                );
                Ok(0)
            }
            Err(diagnostics) => {
                eprintln!("{diagnostics}");
                Ok(1)
            }
        },
    }
}
