//! `hrplan template people -o FILE.xlsx`: writes the blank personnel-list template.
//!
//! The levels of its drop-downs are data: they come from the server's ScaleService,
//! and the units' drop-down from the caller's scope. With no reachable server (or
//! `--offline`) the template offers the levels the migrations seed, read by running
//! those migrations on an in-memory SQLite database, so that the seeded scales have
//! one source; levels an administrator added on a server are then missing, and the
//! unit column is free text. The command says so on stderr.

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::Datelike as _;
use clap::{Args, Subcommand};

use super::{client::ClientArgs, reference};
use crate::{
    domain::date::today,
    exchange::template::{self, TemplateSpec},
    grpc::pb,
    scales::wire::scale_to_pb,
    store,
};

/// Which template `hrplan template` writes.
#[derive(Debug, Clone, Subcommand)]
pub enum TemplateCommand {
    /// The personnel list that `hrplan import people` reads.
    People(TemplatePeopleArgs),
}

/// Options of `hrplan template people`.
#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
The template has a sheet \"Danh sách\" (header row, a notes row saying what each column
takes, then one row per person) and a sheet \"Danh mục\" with the lists behind the
drop-downs: genders, categories, yes/no, the levels of every scale, ratings and the units
of your scope. The levels and units come from the server; without a reachable server (or
with --offline) the template lists the levels the database migrations seed and leaves the
unit column free: levels an administrator added on your server are then missing.")]
pub struct TemplatePeopleArgs {
    /// Where to write the template (.xlsx).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Years that get a "Xếp loại <year>" column; default the last three years.
    #[arg(long = "rating-year", value_name = "YEAR")]
    pub rating_years: Vec<i32>,
    /// Do not ask a server: offer the levels the migrations seed, no unit list.
    #[arg(long)]
    pub offline: bool,
    /// List the units of this locality's subtree only (a code, repeatable); default
    /// the token's localities, or every province for a national caller.
    #[arg(long = "locality", value_name = "CODE")]
    pub localities: Vec<String>,
    /// The server and the caller.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Where the template's levels came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelSource {
    /// The server's ScaleService.
    Server,
    /// The levels the migrations seed.
    Seeded,
}

/// The scales the migrations seed, read by migrating an in-memory SQLite database.
pub async fn seeded_scales() -> anyhow::Result<Vec<pb::Scale>> {
    // One connection: every connection to `sqlite::memory:` is a database of its own.
    let db = store::connect("sqlite::memory:", 1).await.context("opening an in-memory database")?;
    store::migrate(&db).await.context("running the migrations in memory")?;
    let scales = crate::scales::queries::list(&db).await?;
    db.close().await.ok();
    Ok(scales.iter().map(scale_to_pb).collect())
}

/// Writes the template; says where its levels came from.
pub async fn write_people_template(args: &TemplatePeopleArgs) -> anyhow::Result<LevelSource> {
    let day = today();
    let rating_years =
        if args.rating_years.is_empty() { (day.year() - 3..day.year()).collect() } else { args.rating_years.clone() };
    let (spec, source) = if args.offline {
        (TemplateSpec { scales: seeded_scales().await?, rating_years, units: vec![] }, LevelSource::Seeded)
    } else {
        match args.client.connect().await {
            Ok(channel) => {
                let scales = reference::scales(&channel).await?;
                let roots = reference::roots(&channel, &args.client, &args.localities, day).await?;
                let mut units: Vec<String> =
                    reference::units(&channel, &roots, day).await?.into_iter().map(|u| u.display_name).collect();
                units.sort();
                units.dedup();
                (TemplateSpec { scales, rating_years, units }, LevelSource::Server)
            }
            Err(error) => {
                eprintln!(
                    "hrplan: no server reachable ({error:#}); the template lists the levels the migrations seed and no units"
                );
                (TemplateSpec { scales: seeded_scales().await?, rating_years, units: vec![] }, LevelSource::Seeded)
            }
        }
    };
    let output = args.output.clone();
    tokio::task::spawn_blocking(move || template::write(&output, &spec))
        .await
        .context("the template writer stopped")??;
    Ok(source)
}

/// Writes a template.
pub async fn run(command: TemplateCommand) -> anyhow::Result<()> {
    match command {
        TemplateCommand::People(args) => {
            let source = write_people_template(&args).await?;
            println!(
                "wrote {} (levels from {})",
                args.output.display(),
                match source {
                    LevelSource::Server => "the server",
                    LevelSource::Seeded => "the seeded scales",
                }
            );
            Ok(())
        }
    }
}
