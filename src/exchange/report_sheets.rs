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

use std::collections::BTreeMap;

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

// ---- GetWorkforceProfile and CompareWorkforceProfiles -------------------------------

/// A dimension of the profile as columns: its key, its label, its cells' keys and
/// labels, and whether its cells carry "this level or higher".
struct Dimension {
    key: String,
    label: String,
    cells: Vec<(String, String)>,
    cumulative: bool,
}

/// The scales in the order reports show them.
const SCALE_ORDER: [&str; 5] = [
    "scales/professional",
    "scales/political_theory",
    "scales/state_management",
    "scales/it",
    "scales/foreign_language",
];

fn dimension_label(dimension: &str, labels: &Labels) -> String {
    match dimension {
        "age_band" => "Độ tuổi".to_owned(),
        "gender" => "Giới tính".to_owned(),
        "ethnic_minority" => "Dân tộc".to_owned(),
        other => labels.scales.get(other).cloned().unwrap_or_else(|| other.to_owned()),
    }
}

/// The dimensions of one or more profiles, in the order of the first.
fn dimensions<'a>(
    profiles: impl IntoIterator<Item = &'a pb::WorkforceProfile> + Clone,
    labels: &Labels,
) -> Vec<Dimension> {
    let keys = union_keys(
        profiles
            .clone()
            .into_iter()
            .map(|p| p.distributions.iter().map(|d| (d.dimension.as_str(), d.dimension.as_str()))),
    );
    let mut keys = keys;
    // The order boards publish, whatever order the response lists the scales in
    // (stable: other scales, then age, gender and ethnicity, as the response has them).
    keys.sort_by_key(|(dimension, _)| {
        SCALE_ORDER.iter().position(|s| s == dimension).unwrap_or(if dimension.starts_with("scales/") {
            SCALE_ORDER.len()
        } else {
            SCALE_ORDER.len() + 1
        })
    });
    keys.into_iter()
        .map(|(dimension, _)| {
            let cells = union_keys(profiles.clone().into_iter().map(|p| {
                p.distributions
                    .iter()
                    .filter(|d| d.dimension == dimension)
                    .flat_map(|d| d.cells.iter().map(|c| (c.key.as_str(), c.label.as_str())))
                    .collect::<Vec<_>>()
            }));
            Dimension {
                label: dimension_label(&dimension, labels),
                // Only ordered scales carry "this level or higher".
                cumulative: dimension.starts_with("scales/"),
                key: dimension,
                cells,
            }
        })
        .collect()
}

fn profile_columns(dimensions: &[Dimension]) -> Vec<Column> {
    let mut columns = vec![Column::new(HEADCOUNT, "", "")];
    columns.extend(cell_columns("Lãnh đạo, quản lý", "", COUNT, false));
    for d in dimensions {
        for (_, label) in &d.cells {
            columns.extend(cell_columns(&d.label, label, COUNT, d.cumulative));
        }
    }
    columns
}

fn find_cell<'a>(profile: &'a pb::WorkforceProfile, dimension: &str, key: &str) -> Option<&'a pb::Cell> {
    profile.distributions.iter().find(|d| d.dimension == dimension).and_then(|d| d.cells.iter().find(|c| c.key == key))
}

fn profile_values(profile: &pb::WorkforceProfile, dimensions: &[Dimension]) -> Vec<Value> {
    let mut values = vec![Value::Count(profile.headcount)];
    values.extend(cell_values(profile.leaders.as_ref(), false));
    for d in dimensions {
        for (key, _) in &d.cells {
            values.extend(cell_values(find_cell(profile, &d.key, key), d.cumulative));
        }
    }
    values
}

fn profile_rows(response: &pb::GetWorkforceProfileResponse, dimensions: &[Dimension], date: Option<&str>) -> Vec<Row> {
    groups(&response.children, response.own_units.as_ref(), response.total.as_ref())
        .into_iter()
        .map(|(kind, p)| {
            let mut labels = group_labels(kind, &p.locality, &p.display_name);
            if let Some(date) = date {
                labels.insert(0, date.to_owned());
            }
            Row { labels, values: profile_values(p, dimensions), kind }
        })
        .collect()
}

/// The dimension the chart of a profile shows: the professional qualification, or
/// the first there is.
fn main_dimension(dimensions: &[Dimension]) -> Option<&Dimension> {
    dimensions.iter().find(|d| d.key == "scales/professional").or_else(|| dimensions.first())
}

fn profile_chart(
    dimensions: &[Dimension],
    totals: &[(String, &pb::WorkforceProfile)],
    scope_name: &str,
) -> Option<Chart> {
    let d = main_dimension(dimensions)?;
    Some(Chart {
        title: format!("{}: {scope_name}", d.label),
        category_header: d.label.clone(),
        categories: d.cells.iter().map(|(_, label)| label.clone()).collect(),
        series: totals
            .iter()
            .map(|(name, total)| Series {
                name: name.clone(),
                values: d.cells.iter().map(|(key, _)| chart_count(find_cell(total, &d.key, key))).collect(),
            })
            .collect(),
        kind: ChartKind::Clustered,
    })
}

fn profile_table(
    request: &pb::GetWorkforceProfileRequest,
    response: &pb::GetWorkforceProfileResponse,
    labels: &Labels,
) -> ReportTable {
    let empty = pb::WorkforceProfile::default();
    let total = response.total.as_ref().unwrap_or(&empty);
    let dimensions = dimensions([total], labels);
    let rows = profile_rows(response, &dimensions, None);
    let mut context = scope_context(request.scope.as_ref(), &total.locality, &total.display_name);
    context.insert(1, ("Ngày số liệu (As of)".to_owned(), vn_date(response.as_of.as_ref())));
    let notes = own_units_note(&rows).into_iter().chain([PERCENT_NOTE.to_owned()]).collect();
    ReportTable {
        sheet_name: "Hồ sơ nhân lực".to_owned(),
        title: "Hồ sơ nhân lực (Workforce profile)".to_owned(),
        context,
        label_headers: vec![CODE.to_owned(), LOCALITY.to_owned()],
        columns: profile_columns(&dimensions),
        chart: profile_chart(&dimensions, &[(COUNT.to_owned(), total)], &total.display_name),
        rows,
        notes,
        file_stem: format!("hoso-nhan-luc-{}-{}", file_scope(&total.locality), iso_date(response.as_of.as_ref())),
    }
}

fn delta_values(delta: Option<&pb::CellDelta>, cumulative: bool) -> Vec<Value> {
    let mut values = match delta {
        None => vec![Value::Blank, Value::Blank],
        Some(d) if d.suppressed => vec![Value::Hidden, Value::Hidden],
        Some(d) => vec![Value::Signed(d.count_delta), Value::Points(d.percentage_point_delta)],
    };
    if cumulative {
        // The response carries no change of "this level or higher".
        values.extend([Value::Blank, Value::Blank]);
    }
    values
}

fn comparison_table(
    request: &pb::CompareWorkforceProfilesRequest,
    response: &pb::CompareWorkforceProfilesResponse,
    labels: &Labels,
) -> ReportTable {
    let empty_response = pb::GetWorkforceProfileResponse::default();
    let empty = pb::WorkforceProfile::default();
    let base = response.base.as_ref().unwrap_or(&empty_response);
    let other = response.other.as_ref().unwrap_or(&empty_response);
    let (base_total, other_total) = (base.total.as_ref().unwrap_or(&empty), other.total.as_ref().unwrap_or(&empty));
    let dimensions = dimensions([base_total, other_total], labels);
    let (base_date, other_date) = (vn_date(base.as_of.as_ref()), vn_date(other.as_of.as_ref()));
    let mut rows = profile_rows(base, &dimensions, Some(&base_date));
    rows.extend(profile_rows(other, &dimensions, Some(&other_date)));

    let mut change = vec![Value::Signed(response.headcount_delta)];
    change.extend(delta_values(response.leaders_delta.as_ref(), false));
    for d in &dimensions {
        let deltas = response.distribution_deltas.iter().find(|dd| dd.dimension == d.key);
        for (key, _) in &d.cells {
            let delta = deltas.and_then(|dd| dd.cells.iter().find(|c| &c.key == key));
            change.extend(delta_values(delta, d.cumulative));
        }
    }
    let mut change_labels = group_labels(RowKind::Change, &base_total.locality, &base_total.display_name);
    change_labels.insert(0, format!("{other_date} so với {base_date}"));
    rows.push(Row { labels: change_labels, values: change, kind: RowKind::Change });

    let scope = request.scope.as_ref();
    let mut context = scope_context(scope, &base_total.locality, &base_total.display_name);
    context.insert(1, ("Ngày so sánh (Dates)".to_owned(), format!("{base_date} và {other_date}")));
    let notes = own_units_note(&rows)
        .into_iter()
        .chain([
            PERCENT_NOTE.to_owned(),
            "Dòng \"Thay đổi\": số người tăng (+) hoặc giảm (-) và tỷ lệ thay đổi theo điểm phần trăm, của dòng tổng \
             cộng. (Change of the total: people and percentage points.)"
                .to_owned(),
        ])
        .collect();
    ReportTable {
        sheet_name: "So sánh hồ sơ nhân lực".to_owned(),
        title: "So sánh hồ sơ nhân lực (Workforce profile comparison)".to_owned(),
        context,
        label_headers: vec!["Ngày số liệu".to_owned(), CODE.to_owned(), LOCALITY.to_owned()],
        columns: profile_columns(&dimensions),
        chart: profile_chart(
            &dimensions,
            &[(base_date.clone(), base_total), (other_date.clone(), other_total)],
            &base_total.display_name,
        ),
        rows,
        notes,
        file_stem: format!(
            "so-sanh-nhan-luc-{}-{}-{}",
            file_scope(&base_total.locality),
            iso_date(base.as_of.as_ref()),
            iso_date(other.as_of.as_ref())
        ),
    }
}

// ---- SummarizeEvaluations ----------------------------------------------------------

fn evaluation_table(
    request: &pb::SummarizeEvaluationsRequest,
    response: &pb::SummarizeEvaluationsResponse,
    scope_name: &str,
) -> ReportTable {
    let ratings = union_keys(response.years.iter().map(|y| y.cells.iter().map(|c| (c.key.as_str(), c.label.as_str()))));
    let good_label = response
        .years
        .iter()
        .find_map(|y| y.good_or_better.as_ref().map(|c| c.label.clone()))
        .unwrap_or_else(|| "Hoàn thành tốt nhiệm vụ trở lên".to_owned());
    let mut columns = vec![Column::new(HEADCOUNT, "", "")];
    for (_, label) in &ratings {
        columns.extend(cell_columns("Xếp loại", label, COUNT, true));
    }
    columns.extend(cell_columns(&good_label, "", COUNT, false));
    let rows: Vec<Row> = response
        .years
        .iter()
        .map(|year| {
            let mut values = vec![Value::Count(response.headcount)];
            for (key, _) in &ratings {
                values.extend(cell_values(year.cells.iter().find(|c| &c.key == key), true));
            }
            values.extend(cell_values(year.good_or_better.as_ref(), false));
            Row { labels: vec![year.year.to_string()], values, kind: RowKind::Part }
        })
        .collect();
    let scope = request.scope.as_ref();
    let locality = scope.map(|s| s.locality.as_str()).unwrap_or_default();
    let mut context = scope_context(scope, locality, scope_name);
    context.insert(1, ("Năm (Years)".to_owned(), format!("{} - {}", request.first_year, request.last_year)));
    context.insert(2, ("Người được tính tại ngày (Population as of)".to_owned(), vn_date(response.as_of.as_ref())));
    let chart = (!response.years.is_empty()).then(|| Chart {
        title: "Kết quả xếp loại theo năm".to_owned(),
        category_header: "Năm".to_owned(),
        categories: response.years.iter().map(|y| y.year.to_string()).collect(),
        series: ratings
            .iter()
            .map(|(key, label)| Series {
                name: label.clone(),
                values: response.years.iter().map(|y| chart_count(y.cells.iter().find(|c| &c.key == key))).collect(),
            })
            .collect(),
        kind: ChartKind::Stacked,
    });
    ReportTable {
        sheet_name: "Đánh giá, xếp loại".to_owned(),
        title: "Kết quả đánh giá, xếp loại (Evaluation summary)".to_owned(),
        context,
        label_headers: vec!["Năm".to_owned()],
        columns,
        rows,
        notes: vec![
            "Mỗi năm tính trên cùng những người làm việc tại ngày số liệu; \"Từ mức này trở lên\": xếp loại bằng hoặc \
             cao hơn. (The population of the as-of date, rated each year; cumulative: this rating or better.)"
                .to_owned(),
        ],
        chart,
        file_stem: format!("danh-gia-xep-loai-{}-{}-{}", file_scope(locality), request.first_year, request.last_year),
    }
}

// ---- GetStandardCompliance ---------------------------------------------------------

fn level_label(key: &str, label: &str, labels: &Labels) -> String {
    match key.split_once("/levels/") {
        Some((scale, _)) => match labels.scales.get(scale) {
            Some(scale_label) => format!("{scale_label}: {label}"),
            None => label.to_owned(),
        },
        None => label.to_owned(),
    }
}

fn compliance_table(
    request: &pb::GetStandardComplianceRequest,
    response: &pb::GetStandardComplianceResponse,
    labels: &Labels,
) -> ReportTable {
    let empty = pb::ComplianceSummary::default();
    let total = response.total.as_ref().unwrap_or(&empty);
    let all = groups(&response.children, response.own_units.as_ref(), response.total.as_ref());
    let mut posts: Vec<(i32, i32)> = Vec::new();
    for (_, g) in &all {
        for b in &g.breakdown {
            if !posts.contains(&(b.tier, b.category)) {
                posts.push((b.tier, b.category));
            }
        }
    }
    let missed = union_keys(
        std::iter::once(total)
            .chain(all.iter().map(|(_, g)| *g))
            .map(|g| g.missed_minimums.iter().map(|c| (c.key.as_str(), c.label.as_str()))),
    );
    let with_label = total.with_standard.as_ref().map_or("Có tiêu chuẩn áp dụng", |c| c.label.as_str()).to_owned();
    let meeting_label = total.meeting.as_ref().map_or("Đạt tiêu chuẩn", |c| c.label.as_str()).to_owned();

    let mut columns = vec![Column::new(HEADCOUNT, "", "")];
    columns.extend(cell_columns(&with_label, "", COUNT, false));
    columns.extend(cell_columns(&meeting_label, "", COUNT, false));
    for (tier, category) in &posts {
        let group = format!("{} - {}", tier_label(*tier), category_label(*category));
        columns.push(Column::new(&group, HEADCOUNT, ""));
        columns.extend(cell_columns(&group, &with_label, COUNT, false));
        columns.extend(cell_columns(&group, &meeting_label, COUNT, false));
    }
    for (key, label) in &missed {
        columns.extend(cell_columns("Số người chưa đạt mức tối thiểu", &level_label(key, label, labels), COUNT, false));
    }

    let rows: Vec<Row> = all
        .iter()
        .map(|(kind, g)| {
            let mut values = vec![Value::Count(g.headcount)];
            values.extend(cell_values(g.with_standard.as_ref(), false));
            values.extend(cell_values(g.meeting.as_ref(), false));
            for post in &posts {
                match g.breakdown.iter().find(|b| (b.tier, b.category) == *post) {
                    Some(b) => {
                        values.push(Value::Count(b.headcount));
                        values.extend(cell_values(b.with_standard.as_ref(), false));
                        values.extend(cell_values(b.meeting.as_ref(), false));
                    }
                    None => values.extend(vec![Value::Blank; 5]),
                }
            }
            for (key, _) in &missed {
                values.extend(cell_values(g.missed_minimums.iter().find(|c| &c.key == key), false));
            }
            Row { labels: group_labels(*kind, &g.locality, &g.display_name), values, kind: *kind }
        })
        .collect();

    let chart = (!total.breakdown.is_empty()).then(|| Chart {
        title: format!("Đạt tiêu chuẩn theo cấp và loại: {}", total.display_name),
        category_header: "Cấp - loại".to_owned(),
        categories: total
            .breakdown
            .iter()
            .map(|b| format!("{} - {}", tier_label(b.tier), category_label(b.category)))
            .collect(),
        series: vec![
            Series {
                name: with_label.clone(),
                values: total.breakdown.iter().map(|b| chart_count(b.with_standard.as_ref())).collect(),
            },
            Series {
                name: meeting_label.clone(),
                values: total.breakdown.iter().map(|b| chart_count(b.meeting.as_ref())).collect(),
            },
        ],
        kind: ChartKind::Clustered,
    });
    let mut context = scope_context(request.scope.as_ref(), &total.locality, &total.display_name);
    context.insert(1, ("Ngày số liệu (As of)".to_owned(), vn_date(response.as_of.as_ref())));
    let notes = own_units_note(&rows)
        .into_iter()
        .chain([format!(
            "\"{with_label}\": tỷ lệ trên tổng số người; \"{meeting_label}\" và số người chưa đạt: tỷ lệ trên số người \
             có tiêu chuẩn áp dụng. Tiêu chuẩn là tiêu chuẩn có hiệu lực tại ngày số liệu. (Shares of the headcount, \
             then of those to whom a standard applies.)"
        )])
        .collect();
    ReportTable {
        sheet_name: "Đạt tiêu chuẩn".to_owned(),
        title: "Đạt tiêu chuẩn chức danh (Standard compliance)".to_owned(),
        context,
        label_headers: vec![CODE.to_owned(), LOCALITY.to_owned()],
        columns,
        rows,
        notes,
        chart,
        file_stem: format!("dat-chuan-{}-{}", file_scope(&total.locality), iso_date(response.as_of.as_ref())),
    }
}

// ---- SummarizeTraining -------------------------------------------------------------

const TRAINING_MEASURES: [(&str, &str); 5] = [
    ("under_way", "Đang học trong kỳ"),
    ("started", "Bắt đầu trong kỳ"),
    ("completed", "Hoàn thành"),
    ("discontinued", "Thôi học, không đạt"),
    ("in_progress", "Còn đang học cuối kỳ"),
];

fn training_cell<'a>(figures: &'a pb::TrainingFigures, measure: &str) -> Option<&'a pb::Cell> {
    match measure {
        "under_way" => figures.under_way.as_ref(),
        "started" => figures.started.as_ref(),
        "completed" => figures.completed.as_ref(),
        "discontinued" => figures.discontinued.as_ref(),
        _ => figures.in_progress.as_ref(),
    }
}

fn programme_label(figures: &pb::TrainingFigures, labels: &Labels) -> String {
    if figures.level.is_empty() { figures.label.clone() } else { level_label(&figures.level, &figures.label, labels) }
}

fn training_table(
    request: &pb::SummarizeTrainingRequest,
    response: &pb::SummarizeTrainingResponse,
    labels: &Labels,
) -> ReportTable {
    let empty = pb::TrainingSummary::default();
    let total = response.total.as_ref().unwrap_or(&empty);
    let all = groups(&response.children, response.own_units.as_ref(), response.total.as_ref());
    let lines: Vec<(String, String)> = {
        let mut lines: Vec<(String, String)> = Vec::new();
        for (_, g) in &all {
            for p in &g.programmes {
                if !lines.iter().any(|(k, _)| *k == p.key) {
                    lines.push((p.key.clone(), programme_label(p, labels)));
                }
            }
        }
        lines
    };
    let mut columns = vec![Column::new(HEADCOUNT, "", "")];
    for (_, label) in &lines {
        for (measure, measure_label) in TRAINING_MEASURES {
            let percent = if measure == "under_way" { "Lượt trên 100 người" } else { PERCENT };
            columns.push(Column::new(label, measure_label, "Lượt"));
            columns.push(Column::new(label, measure_label, percent));
        }
    }
    let rows: Vec<Row> = all
        .iter()
        .map(|(kind, g)| {
            let mut values = vec![Value::Count(g.headcount)];
            for (key, _) in &lines {
                let figures = g.programmes.iter().find(|p| &p.key == key);
                for (measure, _) in TRAINING_MEASURES {
                    values.extend(cell_values(figures.and_then(|f| training_cell(f, measure)), false));
                }
            }
            Row { labels: group_labels(*kind, &g.locality, &g.display_name), values, kind: *kind }
        })
        .collect();
    let charted: Vec<&pb::TrainingFigures> = total.programmes.iter().filter(|p| p.key != "all").collect();
    let chart = (!charted.is_empty()).then(|| Chart {
        title: format!("Lượt đào tạo, bồi dưỡng trong kỳ: {}", total.display_name),
        category_header: "Chương trình".to_owned(),
        categories: charted.iter().map(|p| programme_label(p, labels)).collect(),
        series: ["under_way", "completed"]
            .iter()
            .map(|measure| Series {
                name: TRAINING_MEASURES
                    .iter()
                    .find(|(m, _)| m == measure)
                    .map(|(_, l)| (*l).to_owned())
                    .unwrap_or_default(),
                values: charted.iter().map(|p| chart_count(training_cell(p, measure))).collect(),
            })
            .collect(),
        kind: ChartKind::Clustered,
    });
    let mut context = scope_context(request.scope.as_ref(), &total.locality, &total.display_name);
    context.insert(
        1,
        (
            "Kỳ báo cáo (Period)".to_owned(),
            format!("{} - {}", vn_date(response.period_start.as_ref()), vn_date(response.period_end.as_ref())),
        ),
    );
    context.insert(2, ("Người được tính tại ngày (Population as of)".to_owned(), vn_date(response.as_of.as_ref())));
    let notes = own_units_note(&rows)
        .into_iter()
        .chain([
            "Số lượt (một người có thể học nhiều lượt). \"Đang học trong kỳ\": lượt trên 100 người; các cột khác: tỷ lệ \
             trên số lượt đang học trong kỳ. (Enrolments; under way per 100 people, the others as shares of those \
             under way.)"
                .to_owned(),
        ])
        .collect();
    ReportTable {
        sheet_name: "Đào tạo, bồi dưỡng".to_owned(),
        title: "Đào tạo, bồi dưỡng (Training summary)".to_owned(),
        context,
        label_headers: vec![CODE.to_owned(), LOCALITY.to_owned()],
        columns,
        rows,
        notes,
        chart,
        file_stem: format!(
            "dao-tao-boi-duong-{}-{}-{}",
            file_scope(&total.locality),
            iso_date(response.period_start.as_ref()),
            iso_date(response.period_end.as_ref())
        ),
    }
}

// ---- SummarizeRotations ------------------------------------------------------------

/// The cells of one dimension of a movement summary.
type RotationCells = fn(&pb::RotationSummary) -> &[pb::Cell];

/// A dimension of the movement summary as columns: its label, its cells, and the
/// keys and labels of those cells over every group.
struct RotationDimension<'a> {
    label: &'a str,
    cells: RotationCells,
    keys: Vec<(String, String)>,
}

fn rotation_table(request: &pb::SummarizeRotationsRequest, response: &pb::SummarizeRotationsResponse) -> ReportTable {
    let empty = pb::RotationSummary::default();
    let total = response.total.as_ref().unwrap_or(&empty);
    let all = groups(&response.children, response.own_units.as_ref(), response.total.as_ref());
    let dimensions: [(&str, RotationCells); 3] = [
        ("Theo hình thức", |s| &s.by_kind),
        ("Theo chiều", |s| &s.by_direction),
        ("Theo trạng thái", |s| &s.by_status),
    ];
    let keyed: Vec<RotationDimension> = dimensions
        .iter()
        .map(|(label, cells)| RotationDimension {
            label,
            cells: *cells,
            keys: union_keys(all.iter().map(|(_, g)| cells(g).iter().map(|c| (c.key.as_str(), c.label.as_str())))),
        })
        .collect();
    let promoted_label =
        total.promoted.as_ref().map_or("Được đề bạt, bổ nhiệm sau luân chuyển", |c| c.label.as_str());
    let promoted_label = if promoted_label.is_empty() {
        "Được đề bạt, bổ nhiệm sau luân chuyển"
    } else {
        promoted_label
    };
    let mut columns = vec![Column::new("Tổng số lượt", "", "")];
    for d in &keyed {
        for (_, label) in &d.keys {
            columns.extend(cell_columns(d.label, label, "Số lượt", false));
        }
    }
    columns.extend(cell_columns(promoted_label, "", "Số lượt", false));
    let rows: Vec<Row> = all
        .iter()
        .map(|(kind, g)| {
            let mut values = vec![Value::Count(g.rotation_count)];
            for d in &keyed {
                for (key, _) in &d.keys {
                    values.extend(cell_values((d.cells)(g).iter().find(|c| &c.key == key), false));
                }
            }
            values.extend(cell_values(g.promoted.as_ref(), false));
            Row { labels: group_labels(*kind, &g.locality, &g.display_name), values, kind: *kind }
        })
        .collect();
    let chart = (!total.by_kind.is_empty()).then(|| Chart {
        title: format!("Luân chuyển, điều động theo hình thức: {}", total.display_name),
        category_header: "Hình thức".to_owned(),
        categories: total.by_kind.iter().map(|c| c.label.clone()).collect(),
        series: vec![Series {
            name: "Số lượt".to_owned(),
            values: total.by_kind.iter().map(|c| chart_count(Some(c))).collect(),
        }],
        kind: ChartKind::Clustered,
    });
    let mut context = scope_context(request.scope.as_ref(), &total.locality, &total.display_name);
    context.insert(
        1,
        (
            "Kỳ báo cáo (Period)".to_owned(),
            format!("{} - {}", vn_date(response.period_start.as_ref()), vn_date(response.period_end.as_ref())),
        ),
    );
    let notes = own_units_note(&rows)
        .into_iter()
        .chain([
            "Tỷ lệ (%) trên tổng số lượt của dòng; \"được đề bạt, bổ nhiệm\": trên số lượt đã hoàn thành. Một lượt giữa \
             hai địa bàn trực thuộc được tính ở cả hai, một lần ở dòng tổng cộng. (Shares of the row's movements; \
             promoted: of the completed ones.)"
                .to_owned(),
        ])
        .collect();
    ReportTable {
        sheet_name: "Luân chuyển, điều động".to_owned(),
        title: "Luân chuyển, điều động (Rotation summary)".to_owned(),
        context,
        label_headers: vec![CODE.to_owned(), LOCALITY.to_owned()],
        columns,
        rows,
        notes,
        chart,
        file_stem: format!(
            "luan-chuyen-{}-{}-{}",
            file_scope(&total.locality),
            iso_date(response.period_start.as_ref()),
            iso_date(response.period_end.as_ref())
        ),
    }
}

// ---- GetStaffingSummary ------------------------------------------------------------

fn staffing_columns(group: &str) -> Vec<Column> {
    vec![
        Column::new(group, "Biên chế được giao", ""),
        Column::new(group, "Số người", ""),
        Column::new(group, "Còn thiếu (+) / vượt (-)", ""),
        Column::new(group, "Tỷ lệ đạt (%)", ""),
    ]
}

fn staffing_values(figures: Option<&pb::StaffingFigures>) -> Vec<Value> {
    match figures {
        None => vec![Value::Blank; 4],
        Some(f) => vec![
            Value::Count(f.quota),
            Value::Count(f.headcount),
            Value::Signed(f.vacancies),
            Value::Percent(f.percent_filled),
        ],
    }
}

fn staffing_table(request: &pb::GetStaffingSummaryRequest, response: &pb::GetStaffingSummaryResponse) -> ReportTable {
    let empty = pb::StaffingSummary::default();
    let total = response.total.as_ref().unwrap_or(&empty);
    let all = groups(&response.children, response.own_units.as_ref(), response.total.as_ref());
    let mut categories: Vec<i32> = Vec::new();
    for (_, g) in &all {
        for c in &g.categories {
            if !categories.contains(&c.category) {
                categories.push(c.category);
            }
        }
    }
    let mut columns = staffing_columns("Tổng số");
    for c in &categories {
        columns.extend(staffing_columns(category_label(*c)));
    }
    let rows: Vec<Row> = all
        .iter()
        .map(|(kind, g)| {
            let mut values = staffing_values(g.total.as_ref());
            for c in &categories {
                values.extend(staffing_values(g.categories.iter().find(|f| f.category == *c)));
            }
            Row { labels: group_labels(*kind, &g.locality, &g.display_name), values, kind: *kind }
        })
        .collect();
    let chart = (!total.categories.is_empty()).then(|| Chart {
        title: format!("Biên chế và số người: {}", total.display_name),
        category_header: "Loại".to_owned(),
        categories: total.categories.iter().map(|c| category_label(c.category).to_owned()).collect(),
        series: vec![
            Series {
                name: "Biên chế được giao".to_owned(),
                values: total.categories.iter().map(|c| Value::Count(c.quota)).collect(),
            },
            Series {
                name: "Số người".to_owned(),
                values: total.categories.iter().map(|c| Value::Count(c.headcount)).collect(),
            },
        ],
        kind: ChartKind::Clustered,
    });
    let mut context = scope_context(request.scope.as_ref(), &total.locality, &total.display_name);
    context.insert(1, ("Ngày số liệu (As of)".to_owned(), vn_date(response.as_of.as_ref())));
    context.insert(2, ("Biên chế năm (Quota year)".to_owned(), response.year.to_string()));
    let notes = own_units_note(&rows)
        .into_iter()
        .chain([
            "Tỷ lệ đạt: số người trên biên chế được giao (0 khi không giao biên chế). Số liệu biên chế không bị ẩn. \
             (Percent filled: headcount of quota; staffing figures are never suppressed.)"
                .to_owned(),
        ])
        .collect();
    ReportTable {
        sheet_name: "Biên chế".to_owned(),
        title: "Biên chế và số người làm việc (Staffing summary)".to_owned(),
        context,
        label_headers: vec![CODE.to_owned(), LOCALITY.to_owned()],
        columns,
        rows,
        notes,
        chart,
        file_stem: format!("bien-che-{}-{}", file_scope(&total.locality), iso_date(response.as_of.as_ref())),
    }
}

// ---- GetTrainingPlanProgress -------------------------------------------------------

fn plan_values(line: &pb::LineProgress) -> Vec<Value> {
    [line.target, line.enrollments, line.planned, line.enrolled, line.completed, line.dropped, line.failed]
        .into_iter()
        .map(|n| Value::Count(i64::from(n)))
        .chain([Value::Percent(line.percent_of_plan)])
        .collect()
}

fn plan_table(plan: &PlanInfo, response: &pb::GetTrainingPlanProgressResponse) -> ReportTable {
    let columns = [
        "Chỉ tiêu (lượt)",
        "Tổng số lượt",
        "Dự kiến",
        "Đang học",
        "Hoàn thành",
        "Thôi học",
        "Không đạt",
        "Đạt % kế hoạch",
    ]
    .into_iter()
    .map(|h| Column::new(h, "", ""))
    .collect();
    let mut rows: Vec<Row> = response
        .lines
        .iter()
        .map(|l| Row { labels: vec![l.line_id.clone(), l.title.clone()], values: plan_values(l), kind: RowKind::Part })
        .collect();
    if let Some(total) = &response.total {
        rows.push(Row {
            labels: vec![String::new(), "Tổng cộng".to_owned()],
            values: plan_values(total),
            kind: RowKind::Total,
        });
    }
    let chart = (!response.lines.is_empty()).then(|| Chart {
        title: "Chỉ tiêu và số lượt hoàn thành".to_owned(),
        category_header: "Chỉ tiêu".to_owned(),
        categories: response.lines.iter().map(|l| l.title.clone()).collect(),
        series: vec![
            Series {
                name: "Chỉ tiêu (lượt)".to_owned(),
                values: response.lines.iter().map(|l| Value::Count(i64::from(l.target))).collect(),
            },
            Series {
                name: "Hoàn thành".to_owned(),
                values: response.lines.iter().map(|l| Value::Count(i64::from(l.completed))).collect(),
            },
        ],
        kind: ChartKind::Clustered,
    });
    let period = match (&plan.period_start, &plan.period_end) {
        (Some(start), Some(end)) => format!("{} - {}", vn_date(Some(start)), vn_date(Some(&day_before(end)))),
        _ => String::new(),
    };
    let plan_id = plan.name.strip_prefix("trainingPlans/").unwrap_or(&plan.name);
    ReportTable {
        sheet_name: "Tiến độ kế hoạch".to_owned(),
        title: "Tiến độ kế hoạch đào tạo, bồi dưỡng (Training plan progress)".to_owned(),
        context: vec![
            ("Kế hoạch (Plan)".to_owned(), format!("{} ({})", plan.title, plan.name)),
            ("Đơn vị chủ trì (Owner)".to_owned(), scope_text(&plan.owner, &plan.owner_name)),
            ("Giai đoạn (Period)".to_owned(), period),
            ("Số liệu đến ngày (As of)".to_owned(), vn_date(response.as_of.as_ref())),
        ],
        label_headers: vec!["Mã dòng".to_owned(), "Chỉ tiêu".to_owned()],
        columns,
        rows,
        notes: vec![
            "Đạt % kế hoạch = số lượt hoàn thành / chỉ tiêu × 100. (Percent of plan: completed of target.)".to_owned(),
        ],
        chart,
        file_stem: format!("tien-do-ke-hoach-{plan_id}-{}", iso_date(response.as_of.as_ref())),
    }
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
