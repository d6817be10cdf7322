//! `hrplan report <report> … -o FILE.xlsx|FILE.csv`: asks a running server for a
//! report as a workbook (or CSV) and saves it.

use clap::Subcommand;

/// Which report `hrplan report` writes.
#[derive(Debug, Clone, Subcommand)]
pub enum ReportCommand {}

/// Writes a report.
pub async fn run(command: ReportCommand) -> anyhow::Result<()> {
    match command {}
}
