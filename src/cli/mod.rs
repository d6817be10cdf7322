//! The subcommands of the `hrplan` binary beyond `serve`, `migrate` and `token`:
//! maintenance commands that work on the configured database (`localities
//! import-official`) and client commands that talk to a running server over gRPC
//! (`import`, `template`, `report`). The command line itself ([`Cli`]) is defined
//! here; the server's options live in [`crate::config`].

pub mod client;
pub mod import;
pub mod official;
pub mod progress;
pub mod reference;
pub mod report;
pub mod template;

use clap::{Parser, Subcommand};

use crate::config::{DatabaseArgs, ServeArgs, TokenArgs};

/// hrplan: records and reports of Vietnamese public-sector cadre planning, over gRPC.
#[derive(Debug, Parser)]
#[command(name = "hrplan", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of the binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve gRPC (and gRPC-Web) until SIGINT or SIGTERM.
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Print an HS256 bearer token for a server configured with that secret.
    Token(TokenArgs),
    /// Maintain the locality tree in the configured database.
    Localities {
        /// What to do with it.
        #[command(subcommand)]
        command: LocalitiesCommand,
    },
    /// Import a spreadsheet into a running server.
    Import {
        /// What to import.
        #[command(subcommand)]
        command: import::ImportCommand,
    },
    /// Write a blank spreadsheet template.
    Template {
        /// Which template.
        #[command(subcommand)]
        command: template::TemplateCommand,
    },
    /// Save a report of a running server as a workbook (XLSX) or CSV.
    Report {
        /// Which report.
        #[command(subcommand)]
        command: report::ReportCommand,
    },
}

/// The subcommands of `hrplan localities`.
#[derive(Debug, Subcommand)]
pub enum LocalitiesCommand {
    /// Load the official tree of the whole country (before and after 2025-07-01).
    ImportOfficial(official::ImportOfficialArgs),
}
