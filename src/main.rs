//! The `hrplan` command: serve, migrate, mint a development token, load the official
//! locality tree, and the client commands that move spreadsheets in and out.

use std::{process::ExitCode, time::Duration};

use clap::Parser as _;
use hrplan::{
    auth,
    cli::{self, Cli, Command, LocalitiesCommand},
    config::ServerConfig,
    startup::{Application, shutdown_signal},
    store, telemetry,
};

/// mimalloc rather than the system allocator: a report by child builds and drops tens
/// of thousands of small strings on one thread while the engine's scan allocates on
/// another, and glibc's malloc spent a quarter of such a report's time in its own bins
/// (measured with perf on a province's profile by child; BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "hrplan failed");
            eprintln!("hrplan: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            telemetry::init(&args.log_filter);
            let app = Application::build(ServerConfig::try_from(*args)?).await?;
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate(args) => {
            telemetry::init("info");
            let db = store::connect(&args.database_url, 1).await?;
            store::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Token(args) => {
            let options = auth::MintOptions {
                kid: args.kid.clone(),
                not_before: args.not_before_seconds.map(Duration::from_secs),
            };
            let token = auth::mint_hs256_with(
                &args.secret()?,
                &args.subject,
                &args.localities,
                &args.roles,
                Duration::from_secs(args.ttl_seconds),
                &options,
            )?;
            println!("{token}");
            Ok(())
        }
        Command::Localities { command: LocalitiesCommand::ImportOfficial(args) } => {
            telemetry::init("warn");
            cli::official::run(args).await
        }
        // The client commands speak for themselves on stderr (progress, problems);
        // a log line would only repeat their error.
        Command::Import { command } => cli::import::run(command).await,
        Command::Template { command } => cli::template::run(command).await,
        Command::Report { command } => {
            telemetry::init("warn");
            cli::report::run(command).await
        }
    }
}
