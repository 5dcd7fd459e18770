//! `agentmint config check FILE`: every mistake at once, with file:line, exit 0 only when clean.

use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Validate a config file: syntax, keys, ids, references, files, certificates.
    Check {
        /// The config file.
        file: PathBuf,
        /// Check the file's structure alone, without reading the keys, certificates, secrets and
        /// credential files it names (a config written for another machine).
        #[arg(long)]
        structure_only: bool,
    },
}

pub async fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Check {
            file,
            structure_only,
        } => match agentmint_config::load_with(
            &file,
            &agentmint_config::ParseOptions {
                check_files: !structure_only,
            },
        ) {
            Ok(loaded) => {
                for warning in &loaded.warnings {
                    println!("{warning}");
                }
                println!(
                    "{}: ok ({} providers, {} sandboxes{})",
                    file.display(),
                    loaded.config.providers.len(),
                    loaded.config.sandboxes.len(),
                    if structure_only {
                        "; structure only, the files it names were not read"
                    } else {
                        ""
                    }
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
