//! The reports as tables: each report's response (with the request that asked for
//! it) becomes one neutral [`ReportTable`], which [`super::workbook`] lays out as a
//! sheet and [`super::csv`] as a CSV table, so that both files always hold the same
//! figures in the same places.
//!
//! Every figure is copied from the response, never recomputed: a row per child
//! locality, the scope's own units and the total, in the response's order; a count
//! and a percent column per cell (and the cumulative "this level or higher" where
//! the response has one). A suppressed cell becomes [`Value::Hidden`] in every
//! column it has, so no number of it reaches the file.

mod activity;
mod compliance;
mod profile;

use std::collections::BTreeMap;

use activity::{plan_table, rotation_table, staffing_table, training_table};
use compliance::{compliance_table, evaluation_table};
use profile::{comparison_table, profile_table};

use crate::grpc::pb;

/// A report as the server answered it: the request and its response.
#[derive(Debug, Clone)]
#[expect(clippy::large_enum_variant, reason = "one report per export, built once and moved once")]
pub enum Report {
    /// ReportService.GetWorkforceProfile.
    WorkforceProfile(pb::GetWorkforceProfileRequest, pb::GetWorkforceProfileResponse),
    /// ReportService.SummarizeEvaluations, with the name of the scope's locality on
    /// the date (which its response does not carry).
    EvaluationSummary(pb::SummarizeEvaluationsRequest, pb::SummarizeEvaluationsResponse, String),
    /// ReportService.CompareWorkforceProfiles.
    ProfileComparison(pb::CompareWorkforceProfilesRequest, pb::CompareWorkforceProfilesResponse),
    /// ReportService.GetStandardCompliance.
    StandardCompliance(pb::GetStandardComplianceRequest, pb::GetStandardComplianceResponse),
    /// ReportService.SummarizeTraining.
    TrainingSummary(pb::SummarizeTrainingRequest, pb::SummarizeTrainingResponse),
    /// ReportService.SummarizeRotations.
    RotationSummary(pb::SummarizeRotationsRequest, pb::SummarizeRotationsResponse),
    /// ReportService.GetStaffingSummary.
    StaffingSummary(pb::GetStaffingSummaryRequest, pb::GetStaffingSummaryResponse),
    /// TrainingPlanService.GetTrainingPlanProgress, with the plan it describes.
    TrainingPlanProgress(PlanInfo, pb::GetTrainingPlanProgressResponse),
}

/// What the title of a training plan's progress report says about the plan.
#[derive(Debug, Clone, Default)]
pub struct PlanInfo {
    /// Resource name. Example: `trainingPlans/4`.
    pub name: String,
    /// The plan's title.
    pub title: String,
    /// Resource name of the owner locality. Example: `localities/20`.
    pub owner: String,
    /// The owner's name on the report's date.
    pub owner_name: String,
    /// First day of the plan's period.
    pub period_start: Option<pb::Date>,
    /// First day after the plan's period (exclusive, as the plan stores it).
    pub period_end: Option<pb::Date>,
}

/// What the tables need besides the report: names the responses carry only as keys.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// Vietnamese name of each scale by resource name
    /// (`scales/professional` → `Trình độ chuyên môn`).
    pub scales: BTreeMap<String, String>,
    /// The server's suppression threshold, for the footnote of suppressed cells.
    pub suppression_threshold: i64,
}

/// The text shown instead of a suppressed figure.
pub const HIDDEN_MARKER: &str = "*";

/// One figure of a table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A number of people, enrolments, movements or quota posts.
    Count(i64),
    /// A change of a count, or vacancies: may be negative.
    Signed(i64),
    /// A percentage as the response carries it, unrounded: 109.5 for 109,5 %.
    Percent(f64),
    /// A change of a percentage, in percentage points.
    Points(f64),
    /// A suppressed figure, shown as [`HIDDEN_MARKER`].
    Hidden,
    /// No figure: the group has no such cell in the response.
    Blank,
}

/// What a row of a table stands for, which decides its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A part of the scope: a child locality, a year, a target line.
    Part,
    /// The people at the scope locality's own units, in no child.
    OwnUnits,
    /// The whole scope.
    Total,
    /// The change between two dates.
    Change,
}

/// A row of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The texts of the label columns (code and name, year, line).
    pub labels: Vec<String>,
    /// One value per column.
    pub values: Vec<Value>,
    /// What the row stands for.
    pub kind: RowKind,
}

/// A value column: its header, up to three levels from the top (an empty level
/// merges with the one above), such as `Trình độ chuyên môn` / `Thạc sĩ` / `Số người`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The header levels, top first.
    pub header: [String; 3],
}

impl Column {
    fn new(group: impl Into<String>, label: impl Into<String>, measure: impl Into<String>) -> Self {
        Self { header: [group.into(), label.into(), measure.into()] }
    }

    /// The non-empty header levels joined, as the one header row of a CSV table.
    pub fn flat_header(&self) -> String {
        self.header.iter().filter(|h| !h.is_empty()).cloned().collect::<Vec<_>>().join(" - ")
    }
}

/// How the bars of a chart stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// Side by side.
    Clustered,
    /// Stacked into one bar per category.
    Stacked,
}

/// A series of a chart: its name and one value per category.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The name, shown in the legend.
    pub name: String,
    /// One value per category: a count, a percent, or hidden.
    pub values: Vec<Value>,
}

/// The chart of a table's main distribution, with the data it plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The chart's title.
    pub title: String,
    /// The header of the category column of the chart's data.
    pub category_header: String,
    /// The categories, in order.
    pub categories: Vec<String>,
    /// The series.
    pub series: Vec<Series>,
    /// How the bars stand.
    pub kind: ChartKind,
}

/// A report as one table.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportTable {
    /// The sheet's name (at most 31 characters).
    pub sheet_name: String,
    /// The report's name in Vietnamese, then in English.
    pub title: String,
    /// The title block: (what, value) such as (`Địa bàn (Scope)`, `Tỉnh Điện Biên (11)`).
    pub context: Vec<(String, String)>,
    /// The headers of the label columns.
    pub label_headers: Vec<String>,
    /// The value columns.
    pub columns: Vec<Column>,
    /// The rows, in the response's order: parts, own units, total.
    pub rows: Vec<Row>,
    /// Footnotes.
    pub notes: Vec<String>,
    /// The chart of the main distribution, if the report has one.
    pub chart: Option<Chart>,
    /// The suggested file name without its extension, in ASCII.
    pub file_stem: String,
}

impl ReportTable {
    /// Whether any figure of the table is suppressed.
    pub fn has_hidden(&self) -> bool {
        self.rows.iter().any(|r| r.values.contains(&Value::Hidden))
    }
}

/// Turns a report into its table.
pub fn table(report: &Report, labels: &Labels) -> ReportTable {
    let mut table = match report {
        Report::WorkforceProfile(request, response) => profile_table(request, response, labels),
        Report::EvaluationSummary(request, response, scope_name) => evaluation_table(request, response, scope_name),
        Report::ProfileComparison(request, response) => comparison_table(request, response, labels),
        Report::StandardCompliance(request, response) => compliance_table(request, response, labels),
        Report::TrainingSummary(request, response) => training_table(request, response, labels),
        Report::RotationSummary(request, response) => rotation_table(request, response),
        Report::StaffingSummary(request, response) => staffing_table(request, response),
        Report::TrainingPlanProgress(plan, response) => plan_table(plan, response),
    };
    if table.has_hidden() {
        let n = labels.suppression_threshold;
        table.notes.insert(
            0,
            format!(
                "{HIDDEN_MARKER} Số liệu được ẩn vì ô có dưới {n} người (hoặc tính trên một ô bị ẩn), để không nhận \
                 diện được cá nhân. (Suppressed: fewer than {n} people, or a share of a suppressed figure.)"
            ),
        );
    }
    table
}

// ---- shared pieces ---------------------------------------------------------------

const COUNT: &str = "Số người";
const PERCENT: &str = "Tỷ lệ (%)";
const CUMULATIVE: &str = "Từ mức này trở lên";
const CUMULATIVE_PERCENT: &str = "Tỷ lệ từ mức này trở lên (%)";
const HEADCOUNT: &str = "Tổng số người";
const CODE: &str = "Mã";
const LOCALITY: &str = "Địa bàn";

/// `31/12/2024`, or empty.
fn vn_date(date: Option<&pb::Date>) -> String {
    date.map(|d| format!("{:02}/{:02}/{:04}", d.day, d.month, d.year)).unwrap_or_default()
}

/// `2024-12-31`, or empty.
fn iso_date(date: Option<&pb::Date>) -> String {
    date.map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
}

/// The day before `date` (for the exclusive end of a plan's period).
fn day_before(date: &pb::Date) -> pb::Date {
    chrono::NaiveDate::from_ymd_opt(
        date.year,
        u32::try_from(date.month).unwrap_or(1),
        u32::try_from(date.day).unwrap_or(1),
    )
    .and_then(|d| d.pred_opt())
    .map(|d| {
        use chrono::Datelike as _;
        pb::Date {
            year: d.year(),
            month: i32::try_from(d.month()).unwrap_or_default(),
            day: i32::try_from(d.day()).unwrap_or_default(),
        }
    })
    .unwrap_or(*date)
}

/// The code of a locality's resource name (`localities/11` → `11`); empty for the
/// whole country.
fn code_of(locality: &str) -> String {
    match locality.strip_prefix("localities/") {
        Some("-") | None => String::new(),
        Some(code) => code.to_owned(),
    }
}

/// The scope in a file name: the code, or `toan-quoc` for the whole country.
fn file_scope(locality: &str) -> String {
    let code = code_of(locality);
    if code.is_empty() { "toan-quoc".to_owned() } else { code }
}

/// `Tỉnh Điện Biên (11)`, or `Toàn quốc` for the whole country.
fn scope_text(locality: &str, display_name: &str) -> String {
    let code = code_of(locality);
    if code.is_empty() { display_name.to_owned() } else { format!("{display_name} ({code})") }
}

/// The name of the people at the scope locality's own units, by its tier.
fn own_units_label(locality: &str, display_name: &str) -> String {
    let tier = match code_of(locality).len() {
        2 => "cấp tỉnh",
        3 => "cấp huyện",
        _ => "cấp xã",
    };
    format!("Cơ quan, đơn vị {tier} ({display_name})")
}

/// The label columns of a group: its code and name.
fn group_labels(kind: RowKind, locality: &str, display_name: &str) -> Vec<String> {
    let name = match kind {
        RowKind::Part => display_name.to_owned(),
        RowKind::OwnUnits => own_units_label(locality, display_name),
        RowKind::Total => format!("Tổng cộng: {display_name}"),
        RowKind::Change => format!("Thay đổi: {display_name}"),
    };
    vec![code_of(locality), name]
}

fn tier_label(tier: i32) -> &'static str {
    match pb::LocalityTier::try_from(tier) {
        Ok(pb::LocalityTier::Province) => "Cấp tỉnh",
        Ok(pb::LocalityTier::District) => "Cấp huyện",
        Ok(pb::LocalityTier::Commune) => "Cấp xã",
        _ => "Không rõ cấp",
    }
}

fn category_label(category: i32) -> &'static str {
    match pb::PersonCategory::try_from(category) {
        Ok(pb::PersonCategory::Cadre) => "Cán bộ",
        Ok(pb::PersonCategory::CivilServant) => "Công chức",
        Ok(pb::PersonCategory::PublicEmployee) => "Viên chức",
        Ok(pb::PersonCategory::PartTimeWorker) => "Người hoạt động không chuyên trách",
        Ok(pb::PersonCategory::ContractWorker) => "Người lao động",
        _ => "Tất cả",
    }
}

fn sector_label(sector: i32) -> &'static str {
    match pb::Sector::try_from(sector) {
        Ok(pb::Sector::Party) => "khối Đảng",
        Ok(pb::Sector::StateAdministration) => "quản lý nhà nước",
        Ok(pb::Sector::MassOrganisation) => "Mặt trận, đoàn thể",
        Ok(pb::Sector::Education) => "giáo dục",
        Ok(pb::Sector::Health) => "y tế",
        Ok(pb::Sector::Other) => "khác",
        _ => "không rõ",
    }
}

/// The filters of a scope, in words; `Không (none)` when there is none.
fn filters_text(scope: Option<&pb::ReportScope>) -> String {
    let Some(scope) = scope else { return "Không (none)".to_owned() };
    let mut parts = Vec::new();
    let lower = |s: &str| s.to_lowercase();
    if !scope.tiers.is_empty() {
        parts.push(scope.tiers.iter().map(|t| lower(tier_label(*t))).collect::<Vec<_>>().join(", "));
    }
    if !scope.categories.is_empty() {
        parts.push(scope.categories.iter().map(|c| lower(category_label(*c))).collect::<Vec<_>>().join(", "));
    }
    if !scope.sectors.is_empty() {
        parts.push(format!(
            "khối, ngành: {}",
            scope.sectors.iter().map(|s| sector_label(*s)).collect::<Vec<_>>().join(", ")
        ));
    }
    if scope.leaders_only {
        parts.push("chỉ lãnh đạo, quản lý".to_owned());
    }
    if scope.key_posts_only {
        parts.push("chỉ chức danh chủ chốt".to_owned());
    }
    if !scope.locality_tags.is_empty() {
        parts.push(format!("địa bàn có nhãn {}", scope.locality_tags.join(", ")));
    }
    if parts.is_empty() { "Không (none)".to_owned() } else { parts.join("; ") }
}

/// The title lines every scoped report has: scope, date and filters.
fn scope_context(scope: Option<&pb::ReportScope>, total_locality: &str, total_name: &str) -> Vec<(String, String)> {
    vec![
        ("Địa bàn (Scope)".to_owned(), scope_text(total_locality, total_name)),
        ("Bộ lọc (Filters)".to_owned(), filters_text(scope)),
    ]
}

/// The count and percent columns of a cell (and its cumulative ones).
fn cell_columns(group: &str, label: &str, unit: &str, cumulative: bool) -> Vec<Column> {
    let mut columns = vec![Column::new(group, label, unit), Column::new(group, label, PERCENT)];
    if cumulative {
        columns.push(Column::new(group, label, CUMULATIVE));
        columns.push(Column::new(group, label, CUMULATIVE_PERCENT));
    }
    columns
}

/// The values of a cell, in the order of [`cell_columns`]: hidden in every column
/// when suppressed, blank when the group has no such cell.
fn cell_values(cell: Option<&pb::Cell>, cumulative: bool) -> Vec<Value> {
    let width = if cumulative { 4 } else { 2 };
    match cell {
        None => vec![Value::Blank; width],
        Some(c) if c.suppressed => vec![Value::Hidden; width],
        Some(c) => {
            let mut values = vec![Value::Count(c.count), Value::Percent(c.percent)];
            if cumulative {
                values.push(Value::Count(c.cumulative_count));
                values.push(Value::Percent(c.cumulative_percent));
            }
            values
        }
    }
}

/// A cell's count for a chart: hidden when suppressed.
fn chart_count(cell: Option<&pb::Cell>) -> Value {
    match cell {
        Some(c) if c.suppressed => Value::Hidden,
        Some(c) => Value::Count(c.count),
        None => Value::Blank,
    }
}

/// The groups of a breakdown, in the response's order: children, own units, total.
fn groups<'a, T>(children: &'a [T], own_units: Option<&'a T>, total: Option<&'a T>) -> Vec<(RowKind, &'a T)> {
    let mut groups: Vec<(RowKind, &T)> = children.iter().map(|c| (RowKind::Part, c)).collect();
    groups.extend(own_units.map(|o| (RowKind::OwnUnits, o)));
    groups.extend(total.map(|t| (RowKind::Total, t)));
    groups
}

/// The note on the own-units row, when there is one.
fn own_units_note(rows: &[Row]) -> Option<String> {
    rows.iter().any(|r| r.kind == RowKind::OwnUnits).then(|| {
        "Dòng \"Cơ quan, đơn vị\" là người làm việc tại các cơ quan, đơn vị của chính địa bàn báo cáo, không thuộc \
         địa bàn trực thuộc nào; các dòng trên cộng lại bằng dòng tổng cộng. (Own units: people at the scope \
         locality's own units; the rows add up to the total.)"
            .to_owned()
    })
}

const PERCENT_NOTE: &str = "Tỷ lệ (%) tính trên tổng số người của từng dòng (percent of the row's headcount); \"Từ mức \
                            này trở lên\" cộng dồn từ mức cao nhất (this level or higher).";

/// Keys and labels in first-seen order over several lists.
fn union_keys<'a>(
    lists: impl IntoIterator<Item = impl IntoIterator<Item = (&'a str, &'a str)>>,
) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for list in lists {
        for (key, label) in list {
            if !keys.iter().any(|(k, _)| k == key) {
                keys.push((key.to_owned(), label.to_owned()));
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(key: &str, count: i64, denominator: i64, suppressed: bool) -> pb::Cell {
        pb::Cell {
            key: key.into(),
            label: key.to_uppercase(),
            count,
            denominator,
            percent: if denominator == 0 { 0.0 } else { count as f64 * 100.0 / denominator as f64 },
            cumulative_count: count,
            cumulative_percent: 0.0,
            suppressed,
        }
    }

    fn profile(locality: &str, name: &str, headcount: i64, master: pb::Cell) -> pb::WorkforceProfile {
        pb::WorkforceProfile {
            locality: locality.into(),
            display_name: name.into(),
            headcount,
            leaders: Some(cell("leaders", 2, headcount, true)),
            distributions: vec![
                pb::Distribution { dimension: "scales/professional".into(), cells: vec![master] },
                pb::Distribution { dimension: "gender".into(), cells: vec![cell("female", 7, headcount, false)] },
            ],
        }
    }

    fn labels() -> Labels {
        Labels {
            scales: [("scales/professional".to_owned(), "Trình độ chuyên môn".to_owned())].into_iter().collect(),
            suppression_threshold: 5,
        }
    }

    #[test]
    fn a_profile_has_a_row_per_child_then_own_units_then_the_total() {
        let response = pb::GetWorkforceProfileResponse {
            as_of: Some(pb::Date { year: 2024, month: 12, day: 31 }),
            total: Some(profile("localities/11", "Tỉnh Điện Biên", 20, cell("master", 9, 20, false))),
            children: vec![profile("localities/094", "Thành phố Điện Biên Phủ", 12, cell("master", 6, 12, false))],
            own_units: Some(profile("localities/11", "Tỉnh Điện Biên", 8, cell("master", 3, 8, true))),
        };
        let table = table(&Report::WorkforceProfile(Default::default(), response), &labels());

        let kinds: Vec<RowKind> = table.rows.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [RowKind::Part, RowKind::OwnUnits, RowKind::Total]);
        assert_eq!(table.rows[0].labels, ["094", "Thành phố Điện Biên Phủ"]);
        assert_eq!(table.file_stem, "hoso-nhan-luc-11-2024-12-31");
        // Headcount, leaders (2), master (4 with "or higher"), female (2).
        assert_eq!(table.columns.len(), 1 + 2 + 4 + 2);
        assert!(table.rows.iter().all(|r| r.values.len() == table.columns.len()));
        assert_eq!(table.columns[3].header, ["Trình độ chuyên môn".to_owned(), "MASTER".into(), COUNT.into()]);
        let child = &table.rows[0].values;
        assert_eq!(child[0], Value::Count(12));
        assert_eq!(&child[1..3], [Value::Hidden, Value::Hidden]);
        assert_eq!(child[3], Value::Count(6));
        assert_eq!(child[4], Value::Percent(50.0));
        // A suppressed cell is hidden in every one of its columns, the cumulative too.
        assert_eq!(&table.rows[1].values[3..7], [Value::Hidden; 4]);
        // Gender has no "or higher".
        assert_eq!(table.rows[2].values[7..], [Value::Count(7), Value::Percent(35.0)]);
        assert!(table.notes[0].starts_with("* ") && table.notes[0].contains("dưới 5 người"));
        let chart = table.chart.expect("a chart of the professional qualification");
        assert_eq!(chart.categories, ["MASTER"]);
        assert_eq!(chart.series[0].values, [Value::Count(9)]);
    }

    #[test]
    fn the_whole_country_is_named_in_words_and_files() {
        assert_eq!(file_scope("localities/-"), "toan-quoc");
        assert_eq!(scope_text("localities/-", "Toàn quốc"), "Toàn quốc");
        assert_eq!(scope_text("localities/20", "Tỉnh Lạng Sơn"), "Tỉnh Lạng Sơn (20)");
        assert_eq!(
            own_units_label("localities/094", "Thành phố Điện Biên Phủ"),
            "Cơ quan, đơn vị cấp huyện (Thành phố Điện Biên Phủ)"
        );
    }

    #[test]
    fn filters_are_listed_in_words() {
        let scope = pb::ReportScope {
            tiers: vec![pb::LocalityTier::Commune.into()],
            categories: vec![pb::PersonCategory::CivilServant.into(), pb::PersonCategory::Cadre.into()],
            leaders_only: true,
            locality_tags: vec!["poor_district".into()],
            ..Default::default()
        };
        assert_eq!(
            filters_text(Some(&scope)),
            "cấp xã; công chức, cán bộ; chỉ lãnh đạo, quản lý; địa bàn có nhãn poor_district"
        );
        assert_eq!(filters_text(Some(&pb::ReportScope::default())), "Không (none)");
    }

    #[test]
    fn a_plan_period_ends_the_day_before_its_exclusive_end() {
        assert_eq!(day_before(&pb::Date { year: 2026, month: 1, day: 1 }), pb::Date { year: 2025, month: 12, day: 31 });
        assert_eq!(vn_date(Some(&pb::Date { year: 2024, month: 3, day: 8 })), "08/03/2024");
    }
}
