//! The tables of SummarizeEvaluations and GetStandardCompliance.

use super::*;

// ---- SummarizeEvaluations ----------------------------------------------------------

pub(super) fn evaluation_table(
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

pub(super) fn level_label(key: &str, label: &str, labels: &Labels) -> String {
    match key.split_once("/levels/") {
        Some((scale, _)) => match labels.scales.get(scale) {
            Some(scale_label) => format!("{scale_label}: {label}"),
            None => label.to_owned(),
        },
        None => label.to_owned(),
    }
}

pub(super) fn compliance_table(
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
