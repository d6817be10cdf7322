//! `hrplan import people FILE`: brings an office's personnel list (XLSX or CSV)
//! into a running server through `PersonService.ImportPeople`.

use clap::{Args, Subcommand};

use super::client::ClientArgs;

/// What `hrplan import` imports.
#[derive(Debug, Clone, Subcommand)]
pub enum ImportCommand {
    /// A personnel list: one row per person.
    People(ImportPeopleArgs),
}

/// Options of `hrplan import people`.
#[derive(Debug, Clone, Args)]
pub struct ImportPeopleArgs {
    /// The server and the caller.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Runs an import.
pub async fn run(command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::People(_) => anyhow::bail!("hrplan import people is not built yet"),
    }
}
