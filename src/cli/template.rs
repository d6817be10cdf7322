//! `hrplan template people -o FILE.xlsx`: writes the blank personnel-list template.

use clap::{Args, Subcommand};

/// Which template `hrplan template` writes.
#[derive(Debug, Clone, Subcommand)]
pub enum TemplateCommand {
    /// The personnel list that `hrplan import people` reads.
    People(TemplatePeopleArgs),
}

/// Options of `hrplan template people`.
#[derive(Debug, Clone, Args)]
pub struct TemplatePeopleArgs {}

/// Writes a template.
pub async fn run(command: TemplateCommand) -> anyhow::Result<()> {
    match command {
        TemplateCommand::People(_) => anyhow::bail!("hrplan template people is not built yet"),
    }
}
