//! `hrplan localities import-official`: loads the official administrative tree of
//! the whole country, before and after the 2025-07-01 reorganisation, into the
//! configured database (migrating it first, as `serve` would).
//!
//! Reading the files and printing are here; the tree and the plan are
//! `localities::official_tree`, the write its `import`.

use std::{
    io::Read as _,
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::Args;
use sea_orm::DatabaseConnection;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::{
    config::DatabaseArgs,
    error::Error,
    localities::official_tree::{
        DEFAULT_OLD_TREE_FROM, EFFECTIVE_DATE, Summary,
        import::{self, ImportSettings},
        input::{self, Inputs},
        tree::{self, InputFile, OfficialTree},
    },
    store,
};

/// The version of the `vietnam-provinces` package whose code list the import reads.
pub const PACKAGE_VERSION: &str = "0.6.0";
/// The wheel `pip download` saves.
pub const WHEEL_NAME: &str = "vietnam_provinces-0.6.0-py3-none-any.whl";
/// The code list's path inside the wheel.
pub const DIVISIONS_IN_WHEEL: &str = "vietnam_provinces/data/nested-divisions.json";

const HOW_TO_GET_DIVISIONS: &str = "it is vietnam_provinces/data/nested-divisions.json of the PyPI package \
    vietnam-provinces 0.6.0: run `python3 -m pip download --no-deps vietnam-provinces==0.6.0 -d DIR` and pass \
    --divisions DIR/vietnam_provinces-0.6.0-py3-none-any.whl (the wheel itself, or the JSON file taken out of it; \
    also HRPLAN_VIETNAM_PROVINCES)";

const HOW_TO_GET_ADMIN_UNITS: &str = "splits.json and merges.json are mapping/splits.json and \
    mapping/merges.json of the public repository https://github.com/dvhcvn/20250701 (MIT licence); put both in \
    one folder and pass it as --admin-units DIR (also HRPLAN_ADMIN_UNITS_2025)";

/// Options of `hrplan localities import-official`.
#[derive(Debug, Clone, Args)]
pub struct ImportOfficialArgs {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The statistics office's code list: the wheel of the PyPI package
    /// vietnam-provinces 0.6.0 (`pip download --no-deps vietnam-provinces==0.6.0`), or
    /// `vietnam_provinces/data/nested-divisions.json` taken out of it, or a folder
    /// holding either.
    #[arg(long, env = "HRPLAN_VIETNAM_PROVINCES")]
    pub divisions: Option<PathBuf>,
    /// The folder holding `splits.json` and `merges.json` of the 2025 reorganisation.
    #[arg(long, env = "HRPLAN_ADMIN_UNITS_2025", default_value = "../shared/data/admin-units-2025")]
    pub admin_units: PathBuf,
    /// First day of the versions of the tree before 2025-07-01, where no older history
    /// is stored. The lists only describe 2025-06-30; earlier changes are not known.
    #[arg(long, env = "HRPLAN_OLD_TREE_FROM", default_value_t = DEFAULT_OLD_TREE_FROM)]
    pub old_tree_from: NaiveDate,
    /// Compute, check and print the summary, and write nothing.
    #[arg(long, env = "HRPLAN_DRY_RUN")]
    pub dry_run: bool,
}

/// What an import reads and how it runs, however it was configured.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The package's wheel, its `nested-divisions.json`, or a folder holding either.
    pub divisions: PathBuf,
    /// The folder holding `splits.json` and `merges.json`.
    pub admin_units: PathBuf,
    /// First day of the old tree where nothing older is stored.
    pub old_tree_from: NaiveDate,
    /// Write nothing.
    pub dry_run: bool,
}

/// Runs the command: migrates the database, imports, prints the summary.
pub async fn run(args: ImportOfficialArgs) -> anyhow::Result<()> {
    let divisions = args.divisions.ok_or_else(|| {
        anyhow::anyhow!("--divisions is required: the statistics office's code list; {HOW_TO_GET_DIVISIONS}")
    })?;
    let options = ImportOptions {
        divisions,
        admin_units: args.admin_units,
        old_tree_from: args.old_tree_from,
        dry_run: args.dry_run,
    };
    // Fail on unusable inputs before touching the database.
    let started = Instant::now();
    let (tree, inputs) = read_tree(&options)?;
    let db = store::connect(&args.database.database_url, 2).await?;
    store::migrate(&db).await.context("migrating the database")?;
    let mut summary = match import_tree(&db, &tree, inputs, &options).await {
        Ok(summary) => summary,
        Err(error) => {
            if let Some(Error::FailedPrecondition(rules)) = error.downcast_ref::<Error>() {
                eprintln!("The import would break the tree's rules:");
                for rule in rules {
                    eprintln!("  {}: {}", rule.subject, rule.description);
                }
                anyhow::bail!("the import would break {} rule(s) of the tree; nothing was written", rules.len());
            }
            return Err(error);
        }
    };
    summary.elapsed = Some(started.elapsed());
    println!("{summary}");
    Ok(())
}

/// Imports the official tree into `db`: reads the inputs, plans, writes in one
/// transaction, and returns the summary (with the time taken).
///
/// Unusable inputs fail naming the file and how to obtain it; an import that would
/// break the tree's rules fails with [`Error::FailedPrecondition`] (reachable with
/// `downcast_ref`), naming the localities and units; neither writes anything.
pub async fn import(db: &DatabaseConnection, options: &ImportOptions) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let (tree, inputs) = read_tree(options)?;
    let mut summary = import_tree(db, &tree, inputs, options).await?;
    summary.elapsed = Some(started.elapsed());
    Ok(summary)
}

async fn import_tree(
    db: &DatabaseConnection,
    tree: &OfficialTree,
    inputs: serde_json::Value,
    options: &ImportOptions,
) -> anyhow::Result<Summary> {
    if options.old_tree_from >= EFFECTIVE_DATE {
        anyhow::bail!(
            "--old-tree-from {} must be before the reorganisation of {EFFECTIVE_DATE}: it is where the tree before it starts",
            options.old_tree_from
        );
    }
    let settings = ImportSettings {
        effective_date: EFFECTIVE_DATE,
        old_tree_from: options.old_tree_from,
        dry_run: options.dry_run,
        inputs,
    };
    import::import(db, tree, &settings).await.map_err(|error| match error {
        Error::FailedPrecondition(_) => anyhow::Error::new(error),
        other => anyhow::Error::new(other).context("importing the official tree (nothing was written)"),
    })
}

/// One input file read: where from, its bytes, and their digest for the audit record.
struct Read {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Read {
    fn audit(&self) -> serde_json::Value {
        json!({"path": self.path.display().to_string(), "sha256": format!("{:x}", Sha256::digest(&self.bytes))})
    }
}

fn read_file(path: &Path, how_to_get: &str) -> anyhow::Result<Read> {
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}; {how_to_get}", path.display()))?;
    Ok(Read { path: path.to_owned(), bytes })
}

/// The code list: from the wheel (a zip) or the JSON file, or from a folder holding either.
fn read_divisions(path: &Path) -> anyhow::Result<Read> {
    let path = if path.is_dir() {
        [path.join(WHEEL_NAME), path.join(DIVISIONS_IN_WHEEL), path.join("nested-divisions.json")]
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} holds neither {WHEEL_NAME} nor nested-divisions.json; {HOW_TO_GET_DIVISIONS}",
                    path.display()
                )
            })?
    } else {
        path.to_owned()
    };
    let file = read_file(&path, HOW_TO_GET_DIVISIONS)?;
    if !file.bytes.starts_with(b"PK\x03\x04") {
        return Ok(file);
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&file.bytes)).map_err(|e| {
        anyhow::anyhow!("{} is not a readable wheel (zip): {e}; {HOW_TO_GET_DIVISIONS}", path.display())
    })?;
    let mut entry = archive
        .by_name(DIVISIONS_IN_WHEEL)
        .map_err(|e| anyhow::anyhow!("{} has no {DIVISIONS_IN_WHEEL} ({e}); {HOW_TO_GET_DIVISIONS}", path.display()))?;
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot read {DIVISIONS_IN_WHEEL} in {}: {e}", path.display()))?;
    let shown = path.join(DIVISIONS_IN_WHEEL);
    Ok(Read { path: shown, bytes })
}

/// Reads and checks the three inputs and builds the official tree; also returns what
/// the audit record says of them.
pub fn read_tree(options: &ImportOptions) -> anyhow::Result<(OfficialTree, serde_json::Value)> {
    let divisions = read_divisions(&options.divisions)?;
    let splits = read_file(&options.admin_units.join("splits.json"), HOW_TO_GET_ADMIN_UNITS)?;
    let merges = read_file(&options.admin_units.join("merges.json"), HOW_TO_GET_ADMIN_UNITS)?;
    let malformed = |file: &Read, how_to_get: &str, message: String| {
        anyhow::anyhow!("{} {message}; {how_to_get}", file.path.display())
    };
    let inputs = Inputs {
        divisions: input::parse_divisions(&divisions.bytes)
            .map_err(|e| malformed(&divisions, HOW_TO_GET_DIVISIONS, e))?,
        splits: input::parse_splits(&splits.bytes).map_err(|e| malformed(&splits, HOW_TO_GET_ADMIN_UNITS, e))?,
        merges: input::parse_merges(&merges.bytes).map_err(|e| malformed(&merges, HOW_TO_GET_ADMIN_UNITS, e))?,
    };
    let tree = tree::build(&inputs).map_err(|error| {
        let (file, how_to_get) = match error.file {
            InputFile::Divisions => (&divisions, HOW_TO_GET_DIVISIONS),
            InputFile::Splits => (&splits, HOW_TO_GET_ADMIN_UNITS),
            InputFile::Merges => (&merges, HOW_TO_GET_ADMIN_UNITS),
        };
        malformed(file, how_to_get, format!("cannot be used: {}", error.message))
    })?;
    let audit = json!({
        "divisions": divisions.audit(),
        "splits": splits.audit(),
        "merges": merges.audit(),
        "package_version": PACKAGE_VERSION,
    });
    Ok((tree, audit))
}
