//! `hrplan localities import-official`: loads the official administrative tree of
//! the whole country, before and after the 2025-07-01 reorganisation.

use clap::Args;

use crate::config::DatabaseArgs;

/// Options of `hrplan localities import-official`.
#[derive(Debug, Clone, Args)]
pub struct ImportOfficialArgs {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Runs the import.
pub async fn run(_args: ImportOfficialArgs) -> anyhow::Result<()> {
    anyhow::bail!("hrplan localities import-official is not built yet")
}
