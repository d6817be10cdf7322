//! ReportService's requests, checked: each is taken apart field by field (no `..`),
//! so that a field added to a request (or to `ReportScope`) does not compile until it
//! is handled here; and the cells of every report on the wire.
//!
//! A report's answer is its wire message: the use cases compute its cells with the
//! rules and assemble the message with the helpers here, so that there is no second
//! copy of every response message in Rust types.

use chrono::NaiveDate;

use super::{
    files::FileFormat,
    queries::Population,
    rules::{CellValue, MAX_EVALUATION_YEARS, activity::period_violation, percent},
};
use crate::localities::rules::check_tags;
use crate::{
    domain::{
        date::today,
        locality::{Code, Tier},
    },
    edge::{
        Violations,
        enums::Table as _,
        request::{date, optional_date},
    },
    error::{Error, Result},
    grpc::pb,
    people::rules::person::Category,
    units::Sector,
};

/// The scope locality that stands for the whole country.
pub const WHOLE_COUNTRY: &str = "localities/-";

/// The tier of a wire value (the localities feature owns the table).
pub fn tier(value: i32) -> Result<Tier, String> {
    Tier::required(value)
}

/// The wire value of a tier.
pub fn tier_to_pb(value: Tier) -> pb::LocalityTier {
    value.to_wire()
}

/// The category of a wire value (the people feature owns the table).
pub fn category(value: i32) -> Result<Category, String> {
    Category::required(value)
}

/// The wire value of a category.
pub fn category_to_pb(value: Category) -> pb::PersonCategory {
    value.to_wire()
}

/// Checks a report scope and turns it into the population it counts (its tree and
/// tags are resolved later, inside the report's snapshot). Violations are recorded
/// under `scope.…`.
fn population(v: &mut Violations, scope: Option<pb::ReportScope>) -> Option<Population> {
    let Some(scope) = scope else {
        v.add("scope", "is required");
        return None;
    };
    let pb::ReportScope {
        locality,
        as_of,
        tiers,
        categories,
        sectors,
        leaders_only,
        key_posts_only,
        locality_tags,
        breakdown_by_child,
    } = scope;
    // `localities/-` is the whole country.
    let root = if locality == WHOLE_COUNTRY {
        Some(None)
    } else {
        v.check("scope.locality", Code::from_name(&locality)).map(Some)
    };
    let as_of = v.check("scope.as_of", optional_date(as_of.as_ref())).flatten().unwrap_or_else(today);
    let tiers: Vec<Tier> =
        tiers.iter().enumerate().filter_map(|(i, t)| v.check(format!("scope.tiers[{i}]"), tier(*t))).collect();
    let categories: Vec<Category> = categories
        .iter()
        .enumerate()
        .filter_map(|(i, c)| v.check(format!("scope.categories[{i}]"), category(*c)))
        .collect();
    let sectors: Vec<String> = sectors
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            v.check(format!("scope.sectors[{i}]"), Sector::required(*s)).map(|s| s.stored().to_owned())
        })
        .collect();
    v.extend(check_tags(&locality_tags, "scope.locality_tags"));
    Some(Population {
        root: root?,
        as_of,
        tiers,
        categories,
        sectors,
        leaders_only,
        key_posts_only,
        tags: locality_tags,
        root_tagged: false,
        by_child: breakdown_by_child,
        tree: None,
    })
}

/// Checks the required period `[period_start, period_end]`.
fn period(v: &mut Violations, start: Option<&pb::Date>, end: Option<&pb::Date>) -> Option<(NaiveDate, NaiveDate)> {
    let start = v.check("period_start", date(start));
    let end = v.check("period_end", date(end));
    let (start, end) = (start?, end?);
    match period_violation(start, end) {
        Some(violation) => {
            v.extend([violation]);
            None
        }
        None => Some((start, end)),
    }
}

/// Records that a scope filter which is set cannot apply to this report.
fn reject_filter(v: &mut Violations, set: bool, field: &str, why: &str) {
    if set {
        v.add(field, format!("cannot apply to this report: {why}"));
    }
}

/// A checked GetWorkforceProfile request.
#[derive(Debug, Clone)]
pub struct GetWorkforceProfile {
    /// Who is counted.
    pub population: Population,
}

impl TryFrom<pb::GetWorkforceProfileRequest> for GetWorkforceProfile {
    type Error = Error;

    fn try_from(request: pb::GetWorkforceProfileRequest) -> Result<Self> {
        let pb::GetWorkforceProfileRequest { scope } = request;
        let mut v = Violations::new();
        let population = population(&mut v, scope);
        v.into_result(|| Some(Self { population: population? }))
    }
}

/// A checked SummarizeEvaluations request.
#[derive(Debug, Clone)]
pub struct SummarizeEvaluations {
    /// Who is counted.
    pub population: Population,
    /// The first year summarised.
    pub first_year: i32,
    /// The last year summarised (at most 20 years after the first).
    pub last_year: i32,
}

impl TryFrom<pb::SummarizeEvaluationsRequest> for SummarizeEvaluations {
    type Error = Error;

    fn try_from(request: pb::SummarizeEvaluationsRequest) -> Result<Self> {
        let pb::SummarizeEvaluationsRequest { scope, first_year, last_year } = request;
        let mut v = Violations::new();
        if first_year <= 0 {
            v.add("first_year", "is required");
        } else if last_year < first_year {
            v.add("last_year", "must not be before first_year");
        } else if last_year - first_year >= MAX_EVALUATION_YEARS {
            v.add("last_year", format!("spans more than {MAX_EVALUATION_YEARS} years"));
        }
        let population = population(&mut v, scope);
        v.into_result(|| Some(Self { population: population?, first_year, last_year }))
    }
}

/// A checked CompareWorkforceProfiles request.
#[derive(Debug, Clone)]
pub struct CompareWorkforceProfiles {
    /// Who is counted, on the base date (the scope's `as_of`).
    pub population: Population,
    /// The date compared with the base.
    pub other_date: NaiveDate,
}

impl TryFrom<pb::CompareWorkforceProfilesRequest> for CompareWorkforceProfiles {
    type Error = Error;

    fn try_from(request: pb::CompareWorkforceProfilesRequest) -> Result<Self> {
        let pb::CompareWorkforceProfilesRequest { scope, other_date } = request;
        let mut v = Violations::new();
        let other = v.check("other_date", optional_date(other_date.as_ref())).flatten();
        if other_date.is_none() {
            v.add("other_date", "is required");
        }
        let population = population(&mut v, scope);
        v.into_result(|| Some(Self { population: population?, other_date: other? }))
    }
}

/// A checked GetStandardCompliance request.
#[derive(Debug, Clone)]
pub struct GetStandardCompliance {
    /// Who is counted.
    pub population: Population,
}

impl TryFrom<pb::GetStandardComplianceRequest> for GetStandardCompliance {
    type Error = Error;

    fn try_from(request: pb::GetStandardComplianceRequest) -> Result<Self> {
        let pb::GetStandardComplianceRequest { scope } = request;
        let mut v = Violations::new();
        let population = population(&mut v, scope);
        v.into_result(|| Some(Self { population: population? }))
    }
}

/// A checked SummarizeTraining or SummarizeRotations request: a scope over a period.
#[derive(Debug, Clone)]
pub struct OverPeriod {
    /// Who is counted.
    pub population: Population,
    /// The first day of the period.
    pub start: NaiveDate,
    /// The last day of the period (inclusive).
    pub end: NaiveDate,
}

impl TryFrom<pb::SummarizeTrainingRequest> for OverPeriod {
    type Error = Error;

    fn try_from(request: pb::SummarizeTrainingRequest) -> Result<Self> {
        let pb::SummarizeTrainingRequest { scope, period_start, period_end } = request;
        let mut v = Violations::new();
        let period = period(&mut v, period_start.as_ref(), period_end.as_ref());
        let population = population(&mut v, scope);
        v.into_result(|| {
            let (start, end) = period?;
            Some(Self { population: population?, start, end })
        })
    }
}

impl TryFrom<pb::SummarizeRotationsRequest> for OverPeriod {
    type Error = Error;

    fn try_from(request: pb::SummarizeRotationsRequest) -> Result<Self> {
        let pb::SummarizeRotationsRequest { scope, period_start, period_end } = request;
        let mut v = Violations::new();
        let period = period(&mut v, period_start.as_ref(), period_end.as_ref());
        if let Some(scope) = &scope {
            reject_filter(&mut v, scope.key_posts_only, "scope.key_posts_only", "a movement records no key post");
        }
        let population = population(&mut v, scope);
        v.into_result(|| {
            let (start, end) = period?;
            Some(Self { population: population?, start, end })
        })
    }
}

/// A checked GetStaffingSummary request.
#[derive(Debug, Clone)]
pub struct GetStaffingSummary {
    /// Who is counted.
    pub population: Population,
}

impl TryFrom<pb::GetStaffingSummaryRequest> for GetStaffingSummary {
    type Error = Error;

    fn try_from(request: pb::GetStaffingSummaryRequest) -> Result<Self> {
        let pb::GetStaffingSummaryRequest { scope } = request;
        let mut v = Violations::new();
        if let Some(scope) = &scope {
            reject_filter(&mut v, !scope.sectors.is_empty(), "scope.sectors", "a locality's quota has no sector");
            reject_filter(&mut v, scope.leaders_only, "scope.leaders_only", "quotas are not per post");
            reject_filter(&mut v, scope.key_posts_only, "scope.key_posts_only", "quotas are not per post");
        }
        let population = population(&mut v, scope);
        v.into_result(|| Some(Self { population: population? }))
    }
}

/// A checked ExportReport request: the report's own request (checked by the report's
/// use case, under the field that carries it) and the file format.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// The report asked for, as its own request.
    pub report: pb::export_report_request::Report,
    /// The file's format.
    pub format: FileFormat,
}

impl TryFrom<pb::ExportReportRequest> for ExportReport {
    type Error = Error;

    fn try_from(request: pb::ExportReportRequest) -> Result<Self> {
        let pb::ExportReportRequest { report, format } = request;
        let mut v = Violations::new();
        let format = file_format(&mut v, format);
        if report.is_none() {
            v.add(
                "report",
                "is required: one of workforce_profile, evaluation_summary, profile_comparison, standard_compliance, \
                 training_summary, rotation_summary, staffing_summary, training_plan_progress",
            );
        }
        v.into_result(|| Some(Self { report: report?, format: format? }))
    }
}

fn file_format(v: &mut Violations, value: i32) -> Option<FileFormat> {
    match pb::ExportFormat::try_from(value) {
        Ok(pb::ExportFormat::Xlsx) => Some(FileFormat::Xlsx),
        Ok(pb::ExportFormat::Csv) => Some(FileFormat::Csv),
        Ok(pb::ExportFormat::Unspecified) => {
            v.add("format", "is required: EXPORT_FORMAT_XLSX or EXPORT_FORMAT_CSV");
            None
        }
        Err(_) => {
            v.add("format", format!("{value} is not an ExportFormat (EXPORT_FORMAT_XLSX or EXPORT_FORMAT_CSV)"));
            None
        }
    }
}

/// A cell on the wire.
pub fn cell_to_pb(cell: &CellValue) -> pb::Cell {
    cell_into_pb(cell.clone())
}

/// A cell on the wire, its key and label moved rather than copied.
pub fn cell_into_pb(cell: CellValue) -> pb::Cell {
    let (percent, cumulative_percent) =
        (cell.percent(), cell.cumulative.map(|c| percent(c, cell.denominator)).unwrap_or_default());
    pb::Cell {
        key: cell.key,
        label: cell.label,
        count: cell.count,
        denominator: cell.denominator,
        percent,
        cumulative_count: cell.cumulative.unwrap_or_default(),
        cumulative_percent,
        suppressed: cell.suppressed,
    }
}

/// Cells on the wire.
pub fn cells_to_pb(cells: &[CellValue]) -> Vec<pb::Cell> {
    cells.iter().map(cell_to_pb).collect()
}

/// Cells on the wire, their keys and labels moved rather than copied.
pub fn cells_into_pb(cells: Vec<CellValue>) -> Vec<pb::Cell> {
    cells.into_iter().map(cell_into_pb).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(error: Error) -> Vec<String> {
        match error {
            Error::InvalidArgument(violations) => violations.into_iter().map(|v| v.field).collect(),
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    #[test]
    fn a_report_scope_reports_every_bad_field_at_once_after_the_reports_own() {
        let scope = pb::ReportScope {
            locality: "localities/x".into(),
            as_of: Some(pb::Date { year: 2024, month: 2, day: 30 }),
            tiers: vec![0],
            categories: vec![99],
            sectors: vec![0],
            ..Default::default()
        };
        let request = pb::SummarizeRotationsRequest {
            scope: Some(pb::ReportScope { key_posts_only: true, ..scope }),
            period_start: None,
            period_end: Some(pb::Date { year: 2024, month: 1, day: 1 }),
        };
        let error = OverPeriod::try_from(request).err().map(fields);
        assert_eq!(
            error,
            Some(
                [
                    "period_start",
                    "scope.key_posts_only",
                    "scope.locality",
                    "scope.as_of",
                    "scope.tiers[0]",
                    "scope.categories[0]",
                    "scope.sectors[0]"
                ]
                .map(String::from)
                .to_vec()
            )
        );
    }

    #[test]
    fn the_whole_country_is_a_scope_without_a_root() {
        let request = pb::GetWorkforceProfileRequest {
            scope: Some(pb::ReportScope { locality: WHOLE_COUNTRY.into(), ..Default::default() }),
        };
        let checked = GetWorkforceProfile::try_from(request).map(|r| r.population.root);
        assert!(matches!(checked, Ok(None)));
        let missing = GetWorkforceProfile::try_from(pb::GetWorkforceProfileRequest { scope: None });
        assert_eq!(missing.err().map(fields), Some(vec!["scope".to_owned()]));
    }

    #[test]
    fn an_export_names_its_missing_report_and_format() {
        let error = ExportReport::try_from(pb::ExportReportRequest::default()).err().map(fields);
        assert_eq!(error, Some(vec!["format".to_owned(), "report".to_owned()]));
    }
}
