//! `hrplan report <report> … -o FILE.xlsx|FILE.csv`: asks a running server for a
//! report as a workbook (or CSV) through `ReportService.ExportReport` and saves it.
//!
//! The server computes and renders the report (the same figures, roles, scope and
//! suppression as the report's own RPC); this command only chooses the report and
//! its scope, then writes the bytes it receives: to a temporary file beside the
//! target, renamed over it once complete, so that a failed or interrupted download
//! never leaves a partial file under the target's name.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use chrono::{Datelike as _, NaiveDate};
use clap::{Args, Subcommand, ValueEnum};
use tokio_stream::StreamExt as _;

use super::client::{ClientArgs, call_error};
use crate::grpc::pb::{self, export_report_request::Report as Asked, report_service_client::ReportServiceClient};

/// Which report `hrplan report` writes.
#[derive(Debug, Clone, Subcommand)]
pub enum ReportCommand {
    /// Workforce profile (GetWorkforceProfile): headcount, leaders, qualifications,
    /// age, gender and ethnicity.
    Profile(ProfileArgs),
    /// Evaluation ratings per year (SummarizeEvaluations), with "good or better".
    Evaluations(EvaluationsArgs),
    /// The workforce profile at two dates with the changes (CompareWorkforceProfiles).
    Compare(CompareArgs),
    /// Who meets the standard of their post (GetStandardCompliance).
    Compliance(ProfileArgs),
    /// Training enrolments over a period (SummarizeTraining).
    Training(PeriodArgs),
    /// Movements of cadres over a period (SummarizeRotations).
    Rotations(PeriodArgs),
    /// Headcount against staffing quota (GetStaffingSummary).
    Staffing(StaffingArgs),
    /// A training plan's progress against its targets (GetTrainingPlanProgress).
    PlanProgress(PlanProgressArgs),
}

/// A report scope's locality and filters (ReportScope).
#[derive(Debug, Clone, Args)]
pub struct ScopeArgs {
    /// The locality whose subtree is counted: `localities/11` or `11`; `-` for the
    /// whole country.
    #[arg(long)]
    pub locality: String,
    /// Only these tiers (comma separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub tiers: Vec<TierArg>,
    /// Only these categories (comma separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub categories: Vec<CategoryArg>,
    /// Only units of these sectors (comma separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub sectors: Vec<SectorArg>,
    /// Only leaders and managers.
    #[arg(long)]
    pub leaders_only: bool,
    /// Only key posts.
    #[arg(long)]
    pub key_posts_only: bool,
    /// Only localities carrying one of these tags, or under one that does (comma
    /// separated), e.g. `poor_district`.
    #[arg(long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Also a row per child locality (and one for the locality's own units).
    #[arg(long)]
    pub by_child: bool,
}

/// Where the file goes and how the server is reached.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// The file to write (`.xlsx` or `.csv` chooses the format), or a directory to
    /// write the server's suggested name in. Default: the suggested name, here.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The format, when the output's extension does not say. Default: xlsx.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// The server and the caller.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Options of `hrplan report profile` and `hrplan report compliance`.
#[derive(Debug, Clone, Args)]
pub struct ProfileArgs {
    /// Who is counted.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The date counted (YYYY-MM-DD or DD/MM/YYYY). Default: today.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// The file and the server.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `hrplan report evaluations`.
#[derive(Debug, Clone, Args)]
pub struct EvaluationsArgs {
    /// Who is counted.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The years: consecutive, comma separated (`2022,2023,2024`) or a range
    /// (`2022-2024`).
    #[arg(long, value_parser = parse_years)]
    pub years: Years,
    /// The date the population is counted on. Default: today.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// The file and the server.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `hrplan report compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Who is counted.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The base date.
    #[arg(long, value_parser = parse_date)]
    pub from: NaiveDate,
    /// The date compared with the base.
    #[arg(long, value_parser = parse_date)]
    pub to: NaiveDate,
    /// The file and the server.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `hrplan report training` and `hrplan report rotations`.
#[derive(Debug, Clone, Args)]
pub struct PeriodArgs {
    /// Who (or which movements) is counted.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The first day of the period.
    #[arg(long, value_parser = parse_date)]
    pub period_start: NaiveDate,
    /// The last day of the period (inclusive).
    #[arg(long, value_parser = parse_date)]
    pub period_end: NaiveDate,
    /// The date of the population (training) or of the tree (rotations).
    /// Default: the period's last day.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// The file and the server.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `hrplan report staffing`.
#[derive(Debug, Clone, Args)]
pub struct StaffingArgs {
    /// Who is counted.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The year: headcount on its 31 December against its quotas.
    #[arg(long, conflicts_with = "as_of")]
    pub year: Option<i32>,
    /// The date counted; its year's quotas apply. Default: today.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// The file and the server.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `hrplan report plan-progress`.
#[derive(Debug, Clone, Args)]
pub struct PlanProgressArgs {
    /// The plan: `trainingPlans/4` or `4`.
    #[arg(long)]
    pub plan: String,
    /// Count the enrolments' statuses as of this day. Default: today.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// The file and the server.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A tier, as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TierArg {
    /// Province (tỉnh).
    Province,
    /// District (huyện).
    District,
    /// Commune (xã).
    Commune,
}

/// A category of people, as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CategoryArg {
    /// Cán bộ.
    Cadre,
    /// Công chức.
    CivilServant,
    /// Viên chức.
    PublicEmployee,
    /// Người hoạt động không chuyên trách.
    PartTimeWorker,
    /// Người lao động.
    ContractWorker,
}

/// A sector of units, as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SectorArg {
    /// Party organs.
    Party,
    /// People's committees and their departments.
    StateAdministration,
    /// The Fatherland Front and mass organisations.
    MassOrganisation,
    /// Schools.
    Education,
    /// Health units.
    Health,
    /// Other public-service units.
    Other,
}

/// A file format, as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// An Excel workbook.
    Xlsx,
    /// A CSV table (UTF-8 with BOM, `;`, decimal comma).
    Csv,
}

/// A range of consecutive years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Years {
    /// The first year.
    pub first: i32,
    /// The last year.
    pub last: i32,
}

/// Parses `2024-12-31` or `31/12/2024`.
pub fn parse_date(value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%d/%m/%Y"))
        .map_err(|_| format!("`{value}` is not a date: use YYYY-MM-DD or DD/MM/YYYY"))
}

/// Parses `2022,2023,2024` (consecutive) or `2022-2024`.
pub fn parse_years(value: &str) -> Result<Years, String> {
    let year = |s: &str| s.trim().parse::<i32>().map_err(|_| format!("`{}` is not a year", s.trim()));
    let years: Vec<i32> = match value.split_once('-') {
        Some((first, last)) => {
            let (first, last) = (year(first)?, year(last)?);
            if last < first {
                return Err(format!("`{value}` ends before it starts"));
            }
            vec![first, last]
        }
        None => value.split(',').map(year).collect::<Result<_, _>>()?,
    };
    if value.contains(',') && years.windows(2).any(|w| w[1] != w[0] + 1) {
        return Err(format!("`{value}`: the years must be consecutive and in order, e.g. 2022,2023,2024 or 2022-2024"));
    }
    match (years.first(), years.last()) {
        (Some(first), Some(last)) => Ok(Years { first: *first, last: *last }),
        _ => Err("no year given".to_owned()),
    }
}

fn date_pb(date: NaiveDate) -> pb::Date {
    pb::Date {
        year: date.year(),
        month: i32::try_from(date.month()).unwrap_or_default(),
        day: i32::try_from(date.day()).unwrap_or_default(),
    }
}

impl ScopeArgs {
    /// The ReportScope on `as_of`.
    pub fn scope(&self, as_of: Option<NaiveDate>) -> pb::ReportScope {
        let locality = self.locality.trim();
        let locality =
            if locality.starts_with("localities/") { locality.to_owned() } else { format!("localities/{locality}") };
        pb::ReportScope {
            locality,
            as_of: as_of.map(date_pb),
            tiers: self
                .tiers
                .iter()
                .map(|t| {
                    match t {
                        TierArg::Province => pb::LocalityTier::Province,
                        TierArg::District => pb::LocalityTier::District,
                        TierArg::Commune => pb::LocalityTier::Commune,
                    }
                    .into()
                })
                .collect(),
            categories: self
                .categories
                .iter()
                .map(|c| {
                    match c {
                        CategoryArg::Cadre => pb::PersonCategory::Cadre,
                        CategoryArg::CivilServant => pb::PersonCategory::CivilServant,
                        CategoryArg::PublicEmployee => pb::PersonCategory::PublicEmployee,
                        CategoryArg::PartTimeWorker => pb::PersonCategory::PartTimeWorker,
                        CategoryArg::ContractWorker => pb::PersonCategory::ContractWorker,
                    }
                    .into()
                })
                .collect(),
            sectors: self
                .sectors
                .iter()
                .map(|s| {
                    match s {
                        SectorArg::Party => pb::Sector::Party,
                        SectorArg::StateAdministration => pb::Sector::StateAdministration,
                        SectorArg::MassOrganisation => pb::Sector::MassOrganisation,
                        SectorArg::Education => pb::Sector::Education,
                        SectorArg::Health => pb::Sector::Health,
                        SectorArg::Other => pb::Sector::Other,
                    }
                    .into()
                })
                .collect(),
            leaders_only: self.leaders_only,
            key_posts_only: self.key_posts_only,
            locality_tags: self.tags.clone(),
            breakdown_by_child: self.by_child,
        }
    }
}

impl ReportCommand {
    /// The report asked for, and where its file goes.
    pub fn request(&self) -> (Asked, &OutputArgs) {
        match self {
            Self::Profile(a) => (
                Asked::WorkforceProfile(pb::GetWorkforceProfileRequest { scope: Some(a.scope.scope(a.as_of)) }),
                &a.output,
            ),
            Self::Evaluations(a) => (
                Asked::EvaluationSummary(pb::SummarizeEvaluationsRequest {
                    scope: Some(a.scope.scope(a.as_of)),
                    first_year: a.years.first,
                    last_year: a.years.last,
                }),
                &a.output,
            ),
            Self::Compare(a) => (
                Asked::ProfileComparison(pb::CompareWorkforceProfilesRequest {
                    scope: Some(a.scope.scope(Some(a.from))),
                    other_date: Some(date_pb(a.to)),
                }),
                &a.output,
            ),
            Self::Compliance(a) => (
                Asked::StandardCompliance(pb::GetStandardComplianceRequest { scope: Some(a.scope.scope(a.as_of)) }),
                &a.output,
            ),
            Self::Training(a) => (
                Asked::TrainingSummary(pb::SummarizeTrainingRequest {
                    scope: Some(a.scope.scope(Some(a.as_of.unwrap_or(a.period_end)))),
                    period_start: Some(date_pb(a.period_start)),
                    period_end: Some(date_pb(a.period_end)),
                }),
                &a.output,
            ),
            Self::Rotations(a) => (
                Asked::RotationSummary(pb::SummarizeRotationsRequest {
                    scope: Some(a.scope.scope(Some(a.as_of.unwrap_or(a.period_end)))),
                    period_start: Some(date_pb(a.period_start)),
                    period_end: Some(date_pb(a.period_end)),
                }),
                &a.output,
            ),
            Self::Staffing(a) => {
                let as_of = a.as_of.or_else(|| a.year.and_then(|y| NaiveDate::from_ymd_opt(y, 12, 31)));
                (Asked::StaffingSummary(pb::GetStaffingSummaryRequest { scope: Some(a.scope.scope(as_of)) }), &a.output)
            }
            Self::PlanProgress(a) => {
                let plan = a.plan.trim();
                let name =
                    if plan.starts_with("trainingPlans/") { plan.to_owned() } else { format!("trainingPlans/{plan}") };
                (
                    Asked::TrainingPlanProgress(pb::GetTrainingPlanProgressRequest {
                        name,
                        as_of: a.as_of.map(date_pb),
                    }),
                    &a.output,
                )
            }
        }
    }
}

/// The format of a report file: `--format`, else the output's extension, else XLSX.
pub fn file_format(output: Option<&Path>, format: Option<FormatArg>) -> anyhow::Result<pb::ExportFormat> {
    let by_extension = match output.filter(|p| !p.is_dir()).and_then(|p| p.extension()) {
        None => None,
        Some(ext) => match ext.to_string_lossy().to_ascii_lowercase().as_str() {
            "xlsx" => Some(FormatArg::Xlsx),
            "csv" => Some(FormatArg::Csv),
            other => {
                if format.is_none() {
                    bail!(
                        "cannot tell the format from the extension `.{other}`: name the file .xlsx or .csv, or pass --format"
                    );
                }
                None
            }
        },
    };
    let chosen = match (format, by_extension) {
        (Some(f), Some(e)) if f != e => {
            bail!(
                "--format {} does not match the output's extension",
                f.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default()
            )
        }
        (Some(f), _) | (None, Some(f)) => f,
        (None, None) => FormatArg::Xlsx,
    };
    Ok(match chosen {
        FormatArg::Xlsx => pb::ExportFormat::Xlsx,
        FormatArg::Csv => pb::ExportFormat::Csv,
    })
}

/// A report file written to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Where it was written.
    pub path: PathBuf,
    /// Its length in bytes.
    pub size_bytes: u64,
    /// Its media type, as the server said.
    pub content_type: String,
}

/// The largest file the command accepts from a server.
const MAX_FILE_BYTES: i64 = 1 << 30;

/// Asks the server for `report` as a file in `format` and writes it to `output` (a
/// file, or a directory for the server's suggested name; default the current
/// directory), atomically. The library function behind `hrplan report`.
pub async fn export(
    client: &ClientArgs,
    report: Asked,
    format: pb::ExportFormat,
    output: Option<&Path>,
) -> anyhow::Result<Written> {
    // Refuse a bad destination before asking the server for anything.
    if let Some(dir) = output
        && dir.as_os_str().to_string_lossy().ends_with(std::path::MAIN_SEPARATOR)
        && !dir.is_dir()
    {
        bail!("the directory {} does not exist", dir.display());
    }
    let channel = client.connect().await?;
    // Chunks are at most 64 KiB: the default message limit suits them.
    let mut reports = ReportServiceClient::new(channel);
    let request = pb::ExportReportRequest { report: Some(report), format: format.into() };
    let mut stream = reports.export_report(request).await.map_err(|s| call_error("ExportReport", &s))?.into_inner();
    let file = match stream.next().await {
        Some(Ok(pb::ExportReportResponse { content: Some(pb::export_report_response::Content::File(file)) })) => file,
        Some(Ok(_)) => bail!("ExportReport: the server's answer did not start with the file's metadata"),
        Some(Err(status)) => return Err(call_error("ExportReport", &status)),
        None => bail!("ExportReport: the server's answer was empty"),
    };
    if !(0..=MAX_FILE_BYTES).contains(&file.size_bytes) {
        bail!("ExportReport: the server announced a file of {} bytes", file.size_bytes);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(file.size_bytes).unwrap_or_default());
    while let Some(message) = stream.next().await {
        match message.map_err(|s| call_error("ExportReport (while receiving the file)", &s))?.content {
            Some(pb::export_report_response::Content::Chunk(chunk)) => bytes.extend_from_slice(&chunk),
            _ => bail!("ExportReport: the server sent something other than the file's bytes"),
        }
        if i64::try_from(bytes.len()).unwrap_or(i64::MAX) > file.size_bytes {
            bail!("ExportReport: the server sent more than the {} bytes it announced", file.size_bytes);
        }
    }
    if i64::try_from(bytes.len()).unwrap_or(i64::MAX) != file.size_bytes {
        bail!("ExportReport: the server sent {} bytes of the {} it announced", bytes.len(), file.size_bytes);
    }
    let path = target(output, &file.file_name);
    write_atomically(&path, &bytes)?;
    Ok(Written { path, size_bytes: bytes.len() as u64, content_type: file.content_type })
}

/// Where a file goes: `output` itself, or the suggested name in `output` (a
/// directory) or in the current directory.
fn target(output: Option<&Path>, suggested: &str) -> PathBuf {
    // The suggested name comes from the server: keep only a plain file name.
    let suggested = Path::new(suggested)
        .file_name()
        .filter(|n| !n.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("bao-cao"));
    match output {
        Some(dir) if dir.is_dir() => dir.join(suggested),
        Some(file) => file.to_path_buf(),
        None => suggested,
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = dir.join(format!(".{name}.{}.part", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(error) = written {
        std::fs::remove_file(&temporary).ok();
        return Err(error).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}

/// Writes a report.
pub async fn run(command: ReportCommand) -> anyhow::Result<()> {
    let (report, output) = command.request();
    let format = file_format(output.output.as_deref(), output.format)?;
    let written = export(&output.client, report, format, output.output.as_deref()).await?;
    println!("wrote {} ({} bytes, {})", written.path.display(), written.size_bytes, written.content_type);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_both_ways_round() {
        assert_eq!(parse_date("2024-12-31"), Ok(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default()));
        assert_eq!(parse_date("31/12/2024"), parse_date("2024-12-31"));
        assert!(parse_date("12/31/2024").is_err());
    }

    #[test]
    fn years_are_a_list_of_consecutive_years_or_a_range() {
        assert_eq!(parse_years("2022,2023,2024"), Ok(Years { first: 2022, last: 2024 }));
        assert_eq!(parse_years("2022-2024"), Ok(Years { first: 2022, last: 2024 }));
        assert_eq!(parse_years("2024"), Ok(Years { first: 2024, last: 2024 }));
        assert!(parse_years("2022,2024").is_err());
        assert!(parse_years("2024,2023").is_err());
        assert!(parse_years("2024-2022").is_err());
        assert!(parse_years("x").is_err());
    }

    #[test]
    fn the_format_follows_the_flag_then_the_extension() {
        assert_eq!(file_format(Some(Path::new("a.CSV")), None).ok(), Some(pb::ExportFormat::Csv));
        assert_eq!(file_format(Some(Path::new("a.xlsx")), None).ok(), Some(pb::ExportFormat::Xlsx));
        assert_eq!(file_format(None, None).ok(), Some(pb::ExportFormat::Xlsx));
        assert_eq!(file_format(None, Some(FormatArg::Csv)).ok(), Some(pb::ExportFormat::Csv));
        assert_eq!(file_format(Some(Path::new("a.dat")), Some(FormatArg::Csv)).ok(), Some(pb::ExportFormat::Csv));
        assert!(file_format(Some(Path::new("a.xls")), None).is_err());
        assert!(file_format(Some(Path::new("a.csv")), Some(FormatArg::Xlsx)).is_err());
    }

    #[test]
    fn a_scope_names_its_locality_in_full() {
        let args = ScopeArgs {
            locality: "11".into(),
            tiers: vec![TierArg::Commune],
            categories: vec![CategoryArg::CivilServant],
            sectors: vec![],
            leaders_only: true,
            key_posts_only: false,
            tags: vec!["poor_district".into()],
            by_child: true,
        };
        let scope = args.scope(NaiveDate::from_ymd_opt(2024, 12, 31));
        assert_eq!(scope.locality, "localities/11");
        assert_eq!(scope.as_of, Some(pb::Date { year: 2024, month: 12, day: 31 }));
        assert_eq!(scope.tiers, [i32::from(pb::LocalityTier::Commune)]);
        assert!(scope.leaders_only && scope.breakdown_by_child);
        assert_eq!(ScopeArgs { locality: "-".into(), ..args }.scope(None).locality, "localities/-");
    }

    #[test]
    fn a_file_is_renamed_into_place_and_no_part_is_left() {
        let dir = std::env::temp_dir().join(format!("hrplan-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let path = dir.join("bao-cao.csv");
        write_atomically(&path, b"a;b\r\n").expect("written");
        assert_eq!(std::fs::read(&path).expect("read back"), b"a;b\r\n");
        let leftovers: Vec<_> =
            std::fs::read_dir(&dir).expect("list").filter_map(|e| e.ok()).filter(|e| e.path() != path).collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        assert!(write_atomically(&dir.join("missing/x.csv"), b"x").is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
