//! The tables of GetWorkforceProfile and CompareWorkforceProfiles.

use super::*;

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

pub(super) fn profile_table(
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

pub(super) fn comparison_table(
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
