//! `hrplan import people FILE`: brings an office's personnel list (XLSX or CSV)
//! into a running server through `PersonService.ImportPeople`, all or nothing, in
//! upsert mode: a row whose personal identification number is already recorded
//! updates that person, so importing the same sheet twice creates nobody.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::{
    client::{ClientArgs, call_error},
    progress::{Progress, Stage, grouped},
    reference,
};
use crate::{
    domain::date::today,
    exchange::{
        error_book,
        people_sheet::{self, Options, Problem, Reference},
        sheet,
    },
    grpc::pb::{self, person_service_client::PersonServiceClient},
    people::wire::import::MAX_IMPORT_RECORDS,
};

/// What `hrplan import` imports.
#[derive(Debug, Clone, Subcommand)]
pub enum ImportCommand {
    /// A personnel list (XLSX or CSV): one row per person.
    People(ImportPeopleArgs),
}

/// The rules `hrplan import people --help` states (the README says the same).
const PEOPLE_HELP: &str = "\
The sheet: one row per person below a header row (title rows above it are skipped).
Columns (Vietnamese or English headers; case, diacritics and extra spaces ignored):
  Họ và tên, Ngày sinh, Giới tính, Dân tộc, Đối tượng (or Loại), Đơn vị, Chức vụ,
  Ngày vào làm                                   required
  Số định danh cá nhân                           required unless --allow-missing-id
  Mã cán bộ, Địa bàn (or Xã, phường), Mã đơn vị, Lãnh đạo, Chủ chốt, Ngày bổ nhiệm,
  one column per qualification scale (Trình độ chuyên môn, Lý luận chính trị, Quản lý
  nhà nước, Tin học, Ngoại ngữ), Xếp loại <year> (one per year)  optional
Other columns (STT, Ghi chú, ...) are not imported.

Values: dates as dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, yyyy-mm-dd) or Excel dates;
units by their name or code within your scope (add Địa bàn, a locality's code or name,
when two units share a name); levels by their Vietnamese or English name or id on the
column's scale; ratings in full or abbreviated (HTXSNV, HTTNV, HTNV, KHTNV).

What the sheet cannot say:
  - A placement starts on Ngày bổ nhiệm, or without that column on the later of Ngày
    vào làm and the unit's own start. A person who moved to another unit needs Ngày bổ
    nhiệm (the day of the move): the earlier placement is then closed that day.
  - A qualification given by its level alone was awarded on Ngày vào làm, unless
    --awarded-on gives one date for all.

The import is all or nothing (at most 250,000 rows, the most one ImportPeople call
takes; a larger file is refused, never split). A row whose Số định danh cá nhân is
already recorded updates that person; importing the same sheet twice creates nobody.
On any problem nothing is written: every bad row is listed with its row number and
column, and a copy of the sheet with an error column (\"Lỗi\") beside the data is
written to FILE.loi.xlsx (--errors), also for a CSV input.";

/// Options of `hrplan import people`.
#[derive(Debug, Clone, Args)]
#[command(after_long_help = PEOPLE_HELP)]
pub struct ImportPeopleArgs {
    /// The personnel list: an Excel workbook (.xlsx) or CSV (UTF-8, `;` or `,`).
    pub file: PathBuf,
    /// The worksheet to read; default the first.
    #[arg(long)]
    pub sheet: Option<String>,
    /// Check everything (here, then on the server) and write nothing; print what
    /// would be created, updated and left unchanged.
    #[arg(long)]
    pub dry_run: bool,
    /// Import rows without "Số định danh cá nhân". Such people cannot be matched:
    /// importing the sheet again creates them again.
    #[arg(long)]
    pub allow_missing_id: bool,
    /// Where to write the copy of the sheet with its errors; default FILE.loi.xlsx
    /// beside the input.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
    /// The award date (dd/mm/yyyy or yyyy-mm-dd) of every qualification in the
    /// sheet; default each person's "Ngày vào làm".
    #[arg(long, value_name = "DATE", value_parser = parse_cli_date)]
    pub awarded_on: Option<NaiveDate>,
    /// Look units up in this locality's subtree only (a code, repeatable); default
    /// the token's localities, or every province for a national caller.
    #[arg(long = "locality", value_name = "CODE")]
    pub localities: Vec<String>,
    /// The server and the caller.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// A date given on the command line.
fn parse_cli_date(value: &str) -> Result<NaiveDate, String> {
    match people_sheet::parse_date(&sheet::Cell::Text(value.to_owned())) {
        Ok(Some(date)) => Ok(date),
        Ok(None) => Err("is empty".to_owned()),
        Err(e) => Err(e),
    }
}

/// What an import did (or, for a dry run or a failure, would have done).
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    /// Data rows read (non-empty rows below the header).
    pub rows: usize,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Whether the server committed the import.
    pub written: bool,
    /// People created (for a dry run: that would be).
    pub created: u64,
    /// People updated.
    pub updated: u64,
    /// People matched whom the sheet does not change.
    pub unchanged: u64,
    /// Every problem, found here or by the server, in sheet order; empty on success.
    pub problems: Vec<Problem>,
    /// The error workbook, written when there are problems.
    pub error_workbook: Option<PathBuf>,
    /// Headers of the columns that were not imported.
    pub ignored_columns: Vec<String>,
    /// From reading the file to the server's answer.
    pub elapsed: Duration,
}

/// Runs an import.
pub async fn run(command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::People(args) => {
            let outcome = import_people(&args, &Progress::stderr()).await?;
            print_outcome(&outcome);
            if outcome.problems.is_empty() {
                Ok(())
            } else {
                anyhow::bail!(
                    "{} problem{} in {} row{}; nothing was imported",
                    outcome.problems.len(),
                    if outcome.problems.len() == 1 { "" } else { "s" },
                    rows_with_problems(&outcome.problems),
                    if rows_with_problems(&outcome.problems) == 1 { "" } else { "s" },
                )
            }
        }
    }
}

fn rows_with_problems(problems: &[Problem]) -> usize {
    problems.iter().map(|p| p.row).collect::<std::collections::BTreeSet<_>>().len()
}

/// Rows per second, for the summary.
fn rate(rows: usize, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        return String::new();
    }
    #[expect(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a rate")]
    let per_second = (rows as f64 / seconds).round() as u64;
    format!(", {} rows/s", grouped(per_second))
}

fn print_outcome(outcome: &ImportOutcome) {
    if !outcome.ignored_columns.is_empty() {
        eprintln!("hrplan: columns not imported: {}", outcome.ignored_columns.join(", "));
    }
    let time = format!("{:.1} s{}", outcome.elapsed.as_secs_f64(), rate(outcome.rows, outcome.elapsed));
    if !outcome.problems.is_empty() {
        for problem in &outcome.problems {
            eprintln!("{problem}");
        }
        if let Some(path) = &outcome.error_workbook {
            eprintln!("hrplan: the rows with their errors are in {}", path.display());
        }
        return;
    }
    let counts = format!(
        "created {}, updated {}, unchanged {}",
        grouped(outcome.created),
        grouped(outcome.updated),
        grouped(outcome.unchanged)
    );
    let rows = grouped(outcome.rows as u64);
    if outcome.dry_run {
        println!("dry run, nothing written: {rows} rows checked; importing them would give {counts} ({time})");
    } else {
        println!("imported {rows} rows: {counts} ({time})");
    }
}

/// The problems the server found in the records it was sent, pointed back at the
/// rows and columns they came from.
fn server_problems(
    rejected: &[pb::RejectedRecord],
    sent: &[(usize, Vec<(String, usize)>)],
    layout: &people_sheet::Layout,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for record in rejected {
        let Some((row, paths)) = usize::try_from(record.index).ok().and_then(|i| sent.get(i)) else {
            problems.push(Problem {
                row: 0,
                column: None,
                header: String::new(),
                message: format!("the server rejected record {} that was not sent", record.index),
            });
            continue;
        };
        let located = people_sheet::RowRecord { row: *row, record: pb::PersonRecord::default(), paths: paths.clone() };
        for violation in &record.violations {
            let column = located.column_of(&violation.field);
            problems.push(Problem {
                row: *row,
                column,
                header: column.map(|c| layout.header_of(c)).unwrap_or_default(),
                message: if column.is_some() {
                    violation.description.clone()
                } else {
                    format!("{}: {}", violation.field, violation.description)
                },
            });
        }
    }
    problems
}

/// Reads the sheet, checks it, and imports it (or, with `--dry-run` or on any
/// problem, has the server check it and writes nothing). Problems are returned in
/// the outcome, with the error workbook written; errors are for what stops the
/// import as a whole (an unreadable file, an unreachable server, a refused call).
pub async fn import_people(args: &ImportPeopleArgs, progress: &Progress) -> anyhow::Result<ImportOutcome> {
    let started = Instant::now();
    // Said before the file is read: the server would refuse only after every record.
    if let Some(claims) = reference::token_claims(args.client.token.as_deref())?
        && !claims.roles.iter().any(|r| r == "personal_data_reader" || r == "admin")
    {
        anyhow::bail!(
            "the token lacks the personal_data_reader role: an import matches people by their personal identification number, which is personal data (mint a token with --role editor --role personal_data_reader)"
        );
    }
    let day = today();
    let reading = progress.stage("reading", 0, if is_csv(&args.file) { "bytes" } else { "rows" });
    let grid = {
        let path = args.file.clone();
        let sheet_name = args.sheet.clone();
        let stage = reading.clone();
        tokio::task::spawn_blocking(move || {
            sheet::read(&path, sheet_name.as_deref(), &mut |done, total| stage.set(done, total))
        })
        .await
        .context("the sheet reader stopped")??
    };
    reading.finish();

    let channel = args.client.connect().await?;
    let lookup = progress.spinner("looking up scales, units and localities");
    let scales = reference::scales(&channel).await?;
    let roots = reference::roots(&channel, &args.client, &args.localities, day).await?;
    let units = reference::units(&channel, &roots, day).await?;
    let localities = reference::localities(&channel, &roots, day).await?;
    lookup.finish();
    let reference = Reference::new(&scales, &units, &localities);
    let options = Options { allow_missing_id: args.allow_missing_id, awarded_on: args.awarded_on };
    let checking = progress.spinner("checking rows");
    let parsed = people_sheet::parse_people(&grid, &reference, &options)
        .with_context(|| format!("reading {}", args.file.display()))?;
    checking.finish();
    let ignored_columns = parsed.layout.ignored.iter().map(|(_, h)| h.clone()).collect();
    if parsed.rows == 0 {
        anyhow::bail!(
            "{}: no data rows below the header row (row {})",
            args.file.display(),
            parsed.layout.header_row + 1
        );
    }
    if parsed.rows > MAX_IMPORT_RECORDS {
        anyhow::bail!(
            "{}: {} rows, but one import takes at most {}: split the list into several files (each is imported all or nothing)",
            args.file.display(),
            grouped(parsed.rows as u64),
            grouped(MAX_IMPORT_RECORDS as u64)
        );
    }
    let mut problems = parsed.problems;
    let validate_only = args.dry_run || !problems.is_empty();

    // The records go to the server even when some rows have problems: it then only
    // checks them (validate_only), so that one run reports every bad row.
    let mut sent: Vec<(usize, Vec<(String, usize)>)> = Vec::with_capacity(parsed.records.len());
    let mut requests: Vec<pb::ImportPeopleRequest> = Vec::with_capacity(parsed.records.len());
    for (i, row) in parsed.records.into_iter().enumerate() {
        sent.push((row.row, row.paths));
        requests.push(pb::ImportPeopleRequest {
            record: Some(row.record),
            mode: if i == 0 { pb::ImportMode::Upsert.into() } else { pb::ImportMode::Unspecified.into() },
            validate_only: i == 0 && validate_only,
        });
    }
    let mut answer = pb::ImportPeopleResponse::default();
    if !requests.is_empty() {
        let sending = progress.stage("sending", requests.len() as u64, "records");
        let label = if validate_only { "server checking" } else { "server checking and committing" };
        // The server answers once it has every record: from then on a spinner.
        let waiting: Arc<Mutex<Option<Stage>>> = Arc::default();
        let (slot, shown, sent_stage) = (Arc::clone(&waiting), *progress, sending.clone());
        let mut ended = false;
        let records = requests.into_iter().inspect(move |_| sending.inc(1)).chain(std::iter::from_fn(move || {
            if !ended {
                ended = true;
                sent_stage.finish();
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(shown.spinner(label));
                }
            }
            None
        }));
        let mut client = PersonServiceClient::new(channel.clone())
            .max_decoding_message_size(64 * 1024 * 1024)
            .max_encoding_message_size(64 * 1024 * 1024);
        answer = client
            .import_people(tokio_stream::iter(records))
            .await
            .map_err(|s| call_error("PersonService.ImportPeople", &s))?
            .into_inner();
        if let Some(stage) = waiting.lock().ok().and_then(|mut s| s.take()) {
            stage.finish();
        }
    }
    problems.extend(server_problems(&answer.rejected, &sent, &parsed.layout));
    problems.sort_by_key(|p| (p.row, p.column.unwrap_or(usize::MAX)));

    let to_u64 = |n: i32| u64::try_from(n).unwrap_or(0);
    let mut outcome = ImportOutcome {
        rows: parsed.rows,
        dry_run: args.dry_run,
        written: !validate_only && problems.is_empty(),
        created: to_u64(answer.created_count),
        updated: to_u64(answer.updated_count),
        unchanged: to_u64(answer.unchanged_count),
        problems,
        error_workbook: None,
        ignored_columns,
        elapsed: started.elapsed(),
    };
    if !outcome.problems.is_empty() {
        let path = args.errors.clone().unwrap_or_else(|| error_book::default_path(&args.file));
        let (grid, layout, problems, target) = (grid, parsed.layout, outcome.problems.clone(), path.clone());
        tokio::task::spawn_blocking(move || error_book::write(&target, &grid, &layout, &problems))
            .await
            .context("the error workbook writer stopped")??;
        outcome.error_workbook = Some(path);
    }
    Ok(outcome)
}

fn is_csv(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::people_sheet::Field;

    #[test]
    fn command_line_dates_take_the_sheets_forms() {
        assert_eq!(parse_cli_date("15/03/2010"), Ok(NaiveDate::from_ymd_opt(2010, 3, 15).unwrap_or_default()));
        assert_eq!(parse_cli_date("2010-03-15"), Ok(NaiveDate::from_ymd_opt(2010, 3, 15).unwrap_or_default()));
        assert!(parse_cli_date("15/03/10").is_err());
    }

    #[test]
    fn the_help_states_the_limit_the_server_holds() {
        assert!(PEOPLE_HELP.contains(&format!("at most {} rows", grouped(MAX_IMPORT_RECORDS as u64))));
    }

    #[test]
    fn the_rate_is_rows_per_second() {
        assert_eq!(rate(1000, Duration::from_secs(2)), ", 500 rows/s");
        assert_eq!(rate(1000, Duration::ZERO), "");
    }

    #[test]
    fn server_rejections_point_at_the_rows_and_columns() {
        let layout = people_sheet::Layout {
            header_row: 0,
            columns: vec![
                people_sheet::Column { index: 2, header: "Ngày sinh".into(), field: Field::BirthDate },
                people_sheet::Column { index: 5, header: "Đơn vị".into(), field: Field::Unit },
            ],
            ignored: vec![],
        };
        let sent = vec![
            (3, vec![("person.birth_date".to_owned(), 2), ("placements[0].unit".to_owned(), 5)]),
            (7, vec![("placements[0]".to_owned(), 5)]),
        ];
        let rejected = vec![pb::RejectedRecord {
            index: 1,
            violations: vec![
                pb::RecordViolation { field: "placements[0].valid_from".into(), description: "overlaps".into() },
                pb::RecordViolation { field: "person.employed_until".into(), description: "odd".into() },
            ],
        }];
        let problems = server_problems(&rejected, &sent, &layout);
        assert_eq!(problems.len(), 2);
        assert_eq!((problems[0].row, problems[0].column, problems[0].header.as_str()), (7, Some(5), "Đơn vị"));
        assert_eq!((problems[1].row, problems[1].column), (7, None));
        assert!(problems[1].message.starts_with("person.employed_until"));
    }
}
