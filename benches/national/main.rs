//! The national benchmark: a realistic dataset of the whole country on the official
//! tree (issue 7's import), loaded in bulk, and the server measured on it through
//! gRPC as a separate release process.
//!
//! ```sh
//! scripts/bench-national sqlite        # or postgres; see the script for the settings
//! HRPLAN_BENCH_DATABASE_URL=postgres://… HRPLAN_BENCH_PEOPLE=250000 cargo bench --bench national
//! ```
//!
//! Environment:
//! - `HRPLAN_BENCH_DATABASE_URL`: the dataset's database (default: a SQLite file
//!   under `target/bench-national/`). An empty database is generated into; one that
//!   holds exactly `HRPLAN_BENCH_PEOPLE` people is reused as it is.
//! - `HRPLAN_BENCH_PEOPLE` (default 2,500,000), `HRPLAN_BENCH_SEED` (default
//!   20250701), `HRPLAN_BENCH_ITERATIONS` (calls per timed figure, default 30).
//! - `HRPLAN_VIETNAM_PROVINCES` and `HRPLAN_ADMIN_UNITS_2025`: the inputs of the
//!   official tree import, found as the tests find them (the mapping files in
//!   `../shared/data/admin-units-2025` beside the repository; the wheel in
//!   `target/official-data/`, downloaded with pip if missing).
//! - `HRPLAN_BENCH_GENERATE_ONLY=1`: load the dataset and stop.
//! - `HRPLAN_BENCH_REPORTS_ONLY=1`: time the reports only (no server on an empty
//!   database, no writes, no scale-rank change).
//!
//! It prints what each load step took, then the server's start-up time and memory
//! (on an empty database and on the dataset), every report's p50 and p95 for a
//! commune, a province and the whole country, a write's p50, the time of a
//! scale-rank change, and a column-scan floor measured in the same run; the same
//! table is written to `target/bench-national/results-<backend>-<people>.md`.

mod floor;
mod generate;
mod load;
mod measure;
mod people;
mod server;
mod tree;

use std::{path::PathBuf, time::Instant};

use sea_orm::DbBackend;

/// The bench's settings, from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The dataset's database.
    pub database_url: String,
    /// People to generate.
    pub people: usize,
    /// The generator's seed.
    pub seed: u64,
    /// Calls per timed figure.
    pub iterations: usize,
    /// Where results and logs go.
    pub out: PathBuf,
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) => v.replace('_', "").parse().map_err(|_| anyhow::anyhow!("{name}={v} is not a number")),
        Err(_) => Ok(default),
    }
}

/// The backend a URL names.
pub fn backend_of(url: &str) -> DbBackend {
    if url.starts_with("postgres") { DbBackend::Postgres } else { DbBackend::Sqlite }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo.join("target"), PathBuf::from);
    let out = target.join("bench-national");
    std::fs::create_dir_all(&out)?;
    let people = env_number("HRPLAN_BENCH_PEOPLE", 2_500_000usize)?;
    let database_url = std::env::var("HRPLAN_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", out.join(format!("national-{people}.db")).display()));
    let settings = Settings {
        database_url,
        people,
        seed: env_number("HRPLAN_BENCH_SEED", 20_250_701u64)?,
        iterations: env_number("HRPLAN_BENCH_ITERATIONS", 30usize)?.max(1),
        out,
    };
    let backend = if backend_of(&settings.database_url) == DbBackend::Postgres { "PostgreSQL" } else { "SQLite" };
    println!("national benchmark: {backend}, {} people, seed {}", settings.people, settings.seed);

    let started = Instant::now();
    let load = generate::dataset(&settings, &repo).await?;
    println!("dataset ready in {:.1} s", started.elapsed().as_secs_f64());
    if std::env::var("HRPLAN_BENCH_GENERATE_ONLY").is_ok_and(|v| v == "1") {
        return Ok(());
    }
    measure::run(&settings, backend, load).await
}
