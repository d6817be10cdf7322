//! The tables of SummarizeTraining, SummarizeRotations, GetStaffingSummary and
//! GetTrainingPlanProgress.

use super::{compliance::level_label, *};

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

pub(super) fn training_table(
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

pub(super) fn rotation_table(
    request: &pb::SummarizeRotationsRequest,
    response: &pb::SummarizeRotationsResponse,
) -> ReportTable {
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

pub(super) fn staffing_table(
    request: &pb::GetStaffingSummaryRequest,
    response: &pb::GetStaffingSummaryResponse,
) -> ReportTable {
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

pub(super) fn plan_table(plan: &PlanInfo, response: &pb::GetTrainingPlanProgressResponse) -> ReportTable {
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
