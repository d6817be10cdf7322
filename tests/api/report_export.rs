//! ReportService.ExportReport and `hrplan report`: the report files hold exactly the
//! figures of the report RPCs, suppressed cells stay hidden, and the export answers
//! to the same scope, validation and deadline rules as the reports.
//!
//! The people are 49 civil servants of Tỉnh Lạng Sơn (20) on 2024-12-31, imported
//! with ImportPeople: 30 at a unit of Thành phố Lạng Sơn (178), 12 of Huyện Chi Lăng
//! (187) and 7 at the province's own committee, so that the breakdown has children,
//! own units and a total, with small cells (one doctorate, three masters at the
//! province) that aggregate readers see suppressed.

use std::{collections::BTreeMap, io::Cursor, path::PathBuf, time::Duration};

use calamine::{Data, Reader as _, Xlsx, open_workbook_from_rs};
use hrplan::{
    auth::Role,
    cli::{client::ClientArgs, report as cli_report},
    grpc::pb::{self, export_report_request::Report as Asked, export_report_response::Content},
};
use tokio_stream::StreamExt as _;
use tonic::{Code, Status};

use crate::clients::{Caller, ReportClient};
use crate::helpers::{TestApp, committee_unit, date, field_violations, spawn_app, token};

/// A reader of Lạng Sơn who may see person-level data: exact figures.
fn exact_reader(app: &TestApp) -> ReportClient {
    app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).reports()
}

/// A reader of Lạng Sơn who may see aggregates only: small cells hidden.
fn aggregate_reader(app: &TestApp) -> ReportClient {
    app.as_(Caller::of(&["20"], &[Role::AggregateReader])).reports()
}

const AS_OF: (i32, i32, i32) = (2024, 12, 31);

/// The people of the module's fixture: (unit, professional level, political theory
/// level or "", leader) for each person.
fn roster(city: &str, district: &str, province: &str) -> Vec<(String, &'static str, &'static str, bool)> {
    let mut people = Vec::new();
    let professional = [("doctorate", 1), ("master", 6), ("university", 18), ("college", 5)];
    for (i, level) in professional.iter().flat_map(|(l, n)| std::iter::repeat_n(*l, *n)).enumerate() {
        let political = match i {
            0..2 => "advanced",
            2..12 => "intermediate",
            _ => "",
        };
        people.push((city.to_owned(), level, political, i < 6));
    }
    for i in 0..12 {
        people.push((district.to_owned(), "university", if i < 4 { "intermediate" } else { "" }, i < 3));
    }
    for i in 0..7 {
        people.push((province.to_owned(), if i < 3 { "master" } else { "university" }, "advanced", i < 2));
    }
    people
}

/// Loads the demo tree and the module's 49 people with their ratings of 2023 and 2024.
async fn load_people(app: &TestApp) {
    app.load_demo().await;
    let until = Some(date(2025, 7, 1));
    let city = committee_unit(app, "localities/178", "Ủy ban nhân dân thành phố Lạng Sơn", until).await.name;
    let district = committee_unit(app, "localities/187", "Ủy ban nhân dân huyện Chi Lăng", until).await.name;
    let province = committee_unit(app, "localities/20", "Ủy ban nhân dân tỉnh Lạng Sơn", None).await.name;
    let records: Vec<pb::ImportPeopleRequest> = roster(&city, &district, &province)
        .into_iter()
        .enumerate()
        .map(|(i, (unit, professional, political, leader))| {
            let i = i32::try_from(i).expect("small");
            let mut qualifications = vec![pb::Qualification {
                level: format!("scales/professional/levels/{professional}"),
                awarded_on: Some(date(2008, 6, 30)),
                ..Default::default()
            }];
            if !political.is_empty() {
                qualifications.push(pb::Qualification {
                    level: format!("scales/political_theory/levels/{political}"),
                    awarded_on: Some(date(2015, 6, 30)),
                    ..Default::default()
                });
            }
            let rating = |year: i32| match (i + year) % 7 {
                0 => pb::Rating::Excellent,
                1..=4 => pb::Rating::Good,
                5 => pb::Rating::Completed,
                _ => pb::Rating::NotCompleted,
            };
            pb::ImportPeopleRequest {
                record: Some(pb::PersonRecord {
                    person: Some(pb::Person {
                        full_name: format!("Nguyễn Văn Xuất {i}"),
                        birth_date: Some(date(1960 + i % 39, 1 + i % 12, 1)),
                        gender: if i % 3 == 0 { pb::Gender::Female } else { pb::Gender::Male }.into(),
                        ethnicity: if i % 4 == 0 { "Tày" } else { "Kinh" }.into(),
                        category: pb::PersonCategory::CivilServant.into(),
                        employed_from: Some(date(2015, 1, 1)),
                        ..Default::default()
                    }),
                    placements: vec![pb::Placement {
                        // The district-tier units end with the 2025 reorganisation.
                        valid_until: if unit == province { None } else { until },
                        unit,
                        post_title: if leader { "Trưởng phòng" } else { "Chuyên viên" }.into(),
                        leader,
                        valid_from: Some(date(2020, 1, 1)),
                        ..Default::default()
                    }],
                    qualifications,
                    evaluations: [2023, 2024]
                        .into_iter()
                        .map(|year| pb::Evaluation { year, rating: rating(year).into(), ..Default::default() })
                        .collect(),
                }),
                ..Default::default()
            }
        })
        .collect();
    let answer = app.as_admin().people().import_people(tokio_stream::iter(records)).await.expect("import").into_inner();
    assert_eq!(answer.imported_count, 49, "{:?}", answer.rejected.first());
}

fn profile_scope() -> pb::ReportScope {
    pb::ReportScope {
        locality: "localities/20".into(),
        as_of: Some(date(AS_OF.0, AS_OF.1, AS_OF.2)),
        breakdown_by_child: true,
        ..Default::default()
    }
}

fn profile_request() -> pb::GetWorkforceProfileRequest {
    pb::GetWorkforceProfileRequest { scope: Some(profile_scope()) }
}

/// An export's metadata, its bytes and the size of each chunk.
struct Download {
    file: pb::ExportedFile,
    bytes: Vec<u8>,
    chunks: Vec<usize>,
}

async fn export(client: &mut ReportClient, report: Asked, format: pb::ExportFormat) -> Result<Download, Status> {
    let request = pb::ExportReportRequest { report: Some(report), format: format.into() };
    let mut stream = client.export_report(request).await?.into_inner();
    let mut file = None;
    let mut bytes = Vec::new();
    let mut chunks = Vec::new();
    while let Some(message) = stream.next().await {
        match message?.content.expect("content") {
            Content::File(f) => {
                assert!(file.is_none() && bytes.is_empty(), "the metadata comes first, once");
                file = Some(f);
            }
            Content::Chunk(chunk) => {
                chunks.push(chunk.len());
                bytes.extend(chunk);
            }
        }
    }
    Ok(Download { file: file.expect("metadata"), bytes, chunks })
}

/// The Vietnamese name of every dimension a profile has, as the workbook heads it.
async fn dimension_labels(app: &TestApp) -> BTreeMap<String, String> {
    let scales =
        app.as_admin().scales().list_scales(pb::ListScalesRequest {}).await.expect("scales").into_inner().scales;
    let mut labels: BTreeMap<String, String> = scales.into_iter().map(|s| (s.name, s.display_name)).collect();
    for (dimension, label) in [("age_band", "Độ tuổi"), ("gender", "Giới tính"), ("ethnic_minority", "Dân tộc")]
    {
        labels.insert(dimension.to_owned(), label.to_owned());
    }
    labels
}

/// What a file holds in one place.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Number(f64),
    Marker,
    Empty,
    Text(String),
}

fn shown(data: Option<&Data>) -> Shown {
    match data {
        Some(Data::Float(x)) => Shown::Number(*x),
        Some(Data::Int(n)) => Shown::Number(*n as f64),
        Some(Data::String(s)) if s == "*" => Shown::Marker,
        Some(Data::String(s)) if s.is_empty() => Shown::Empty,
        Some(Data::String(s)) => Shown::Text(s.clone()),
        Some(Data::Empty) | None => Shown::Empty,
        Some(other) => panic!("unexpected cell {other:?}"),
    }
}

/// A report file read back as a table: the header path of each value column and,
/// per row, its labels and values.
#[derive(Debug)]
struct Table {
    paths: Vec<Vec<String>>,
    rows: Vec<(Vec<String>, Vec<Shown>)>,
    /// Everything below the table (notes, the chart's data), row by row.
    below: Vec<Vec<Shown>>,
}

fn text(data: Option<&Data>) -> String {
    match data {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Float(x)) => x.to_string(),
        _ => String::new(),
    }
}

/// Reads the only sheet of a workbook, named `sheet`, whose first label header is
/// `first_label` and which has `labels` label columns.
fn read_workbook(bytes: &[u8], sheet: &str, first_label: &str, labels: usize) -> Table {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx workbook");
    assert_eq!(workbook.sheet_names(), [sheet.to_owned()], "one sheet per report");
    let range = workbook.worksheet_range(sheet).expect("the sheet");
    let merges = workbook.merge_cells_by_sheet_name(sheet).expect("merged cells");
    let (height, width) = range.end().map(|(r, c)| (r + 1, c + 1)).expect("a non-empty sheet");
    let at = |r: u32, c: u32| range.get_value((r, c));
    // A merged cell's text is in its top left cell.
    let merged_text = |r: u32, c: u32| {
        let (r, c) = merges
            .iter()
            .find(|d| d.start.0 <= r && r <= d.end.0 && d.start.1 <= c && c <= d.end.1)
            .map_or((r, c), |d| d.start);
        text(at(r, c))
    };
    let top = (0..height).find(|r| text(at(*r, 0)) == first_label).expect("the header row");
    let labels = u32::try_from(labels).expect("few");
    // Data rows have a label (a total may have no code); the header rows below the
    // first have none, being merged into it.
    let labelled = |r: u32| (0..labels).any(|c| !text(at(r, c)).is_empty());
    let first_data = (top + 1..height).find(|r| labelled(*r)).expect("a data row");
    let paths = (labels..width)
        .map(|c| {
            let mut path: Vec<String> = (top..first_data).map(|r| merged_text(r, c)).collect();
            path.dedup();
            path.retain(|p| !p.is_empty());
            path
        })
        .take_while(|p| !p.is_empty())
        .collect::<Vec<_>>();
    let columns = u32::try_from(paths.len()).expect("few");
    let mut rows = Vec::new();
    let mut r = first_data;
    while r < height && labelled(r) {
        let label_texts = (0..labels).map(|c| text(at(r, c))).collect();
        let values = (labels..labels + columns).map(|c| shown(at(r, c))).collect();
        rows.push((label_texts, values));
        r += 1;
    }
    let below = (r..height).map(|r| (0..width).map(|c| shown(at(r, c))).collect()).collect();
    Table { paths, rows, below }
}

/// Reads a CSV file: BOM, `;`, one header row (levels joined by ` - `), decimal comma.
fn read_csv(bytes: &[u8], labels: usize) -> Table {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).expect("a UTF-8 byte order mark");
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_reader(body);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a CSV record")).collect();
    let (header, rows) = records.split_first().expect("a header row");
    let paths = header.iter().skip(labels).map(|h| h.split(" - ").map(str::to_owned).collect()).collect();
    let rows = rows
        .iter()
        .map(|record| {
            let label_texts = record.iter().take(labels).map(str::to_owned).collect();
            let values = record
                .iter()
                .skip(labels)
                .map(|field| match field {
                    "*" => Shown::Marker,
                    "" => Shown::Empty,
                    number => Shown::Number(number.replace(',', ".").parse().expect("a number with a decimal comma")),
                })
                .collect();
            (label_texts, values)
        })
        .collect();
    Table { paths, rows, below: Vec::new() }
}

/// The figure of `profile` under a column's header path, independently of how the
/// renderer built it: `[Tổng số người]`, `[Lãnh đạo, quản lý, measure]` or
/// `[dimension, cell label, measure]`.
fn expected(profile: &pb::WorkforceProfile, path: &[String], labels: &BTreeMap<String, String>) -> Shown {
    let measure = |cell: &pb::Cell, measure: &str| {
        if cell.suppressed {
            return Shown::Marker;
        }
        Shown::Number(match measure {
            "Số người" => cell.count as f64,
            "Tỷ lệ (%)" => cell.percent,
            "Từ mức này trở lên" => cell.cumulative_count as f64,
            "Tỷ lệ từ mức này trở lên (%)" => cell.cumulative_percent,
            other => panic!("unknown measure {other}"),
        })
    };
    match path {
        [headcount] if headcount == "Tổng số người" => Shown::Number(profile.headcount as f64),
        [leaders, m] if leaders == "Lãnh đạo, quản lý" => measure(profile.leaders.as_ref().expect("leaders"), m),
        [dimension, label, m] => {
            let distribution = profile
                .distributions
                .iter()
                .find(|d| labels.get(&d.dimension) == Some(dimension))
                .unwrap_or_else(|| panic!("no dimension headed {dimension}"));
            let cell = distribution
                .cells
                .iter()
                .find(|c| &c.label == label)
                .unwrap_or_else(|| panic!("no cell {label} in {dimension}"));
            measure(cell, m)
        }
        other => panic!("unexpected header {other:?}"),
    }
}

/// How many figures a profile has: headcount, leaders (2), and per cell 2, or 4 on
/// ordered scales.
fn figures_of(profile: &pb::WorkforceProfile) -> usize {
    3 + profile
        .distributions
        .iter()
        .map(|d| d.cells.len() * if d.dimension.starts_with("scales/") { 4 } else { 2 })
        .sum::<usize>()
}

/// Asserts that `table` holds exactly the profile `response`: a row per child, the
/// own units and the total, in order, each with every figure of its group under
/// the right header, and no other column.
fn assert_holds_profile(table: &Table, response: &pb::GetWorkforceProfileResponse, labels: &BTreeMap<String, String>) {
    let own = response.own_units.as_ref().expect("own units");
    let total = response.total.as_ref().expect("total");
    let groups: Vec<&pb::WorkforceProfile> = response.children.iter().chain([own, total]).collect();
    assert_eq!(table.rows.len(), groups.len(), "a row per child, own units, total");
    assert_eq!(table.paths.len(), figures_of(total), "a column per figure: {:?}", table.paths);
    for (i, ((row_labels, values), group)) in table.rows.iter().zip(&groups).enumerate() {
        let name = &row_labels[1];
        match i {
            _ if i < response.children.len() => {
                assert_eq!(row_labels[0], group.locality.trim_start_matches("localities/"));
                assert_eq!(name, &group.display_name);
            }
            _ if std::ptr::eq(*group, own) => assert!(name.starts_with("Cơ quan, đơn vị cấp tỉnh"), "{name}"),
            _ => assert_eq!(name, &format!("Tổng cộng: {}", total.display_name)),
        }
        for (path, value) in table.paths.iter().zip(values) {
            assert_eq!(value, &expected(group, path, labels), "{name}, {path:?}");
        }
    }
}

#[tokio::test]
async fn the_profile_workbook_holds_exactly_the_figures_of_the_profile_response() {
    let app = spawn_app().await;
    load_people(&app).await;
    let mut reports = exact_reader(&app);
    let response = reports.get_workforce_profile(profile_request()).await.expect("profile").into_inner();
    assert_eq!(response.children.len(), 2);
    assert_eq!(response.total.as_ref().map(|t| t.headcount), Some(49));

    let download =
        export(&mut reports, Asked::WorkforceProfile(profile_request()), pb::ExportFormat::Xlsx).await.expect("export");

    assert_eq!(download.file.file_name, "hoso-nhan-luc-20-2024-12-31.xlsx");
    assert_eq!(download.file.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(download.file.size_bytes, i64::try_from(download.bytes.len()).expect("size"));
    assert!(download.chunks.iter().all(|n| *n <= 64 * 1024 && *n > 0), "{:?}", download.chunks);
    let labels = dimension_labels(&app).await;
    let table = read_workbook(&download.bytes, "Hồ sơ nhân lực", "Mã", 2);
    assert_holds_profile(&table, &response, &labels);
    // The chart's data: the professional qualification of the total.
    let chart_header = table
        .below
        .iter()
        .position(|row| row.get(1) == Some(&Shown::Text("Trình độ chuyên môn".into())))
        .expect("the chart's data");
    let professional = &response.total.as_ref().expect("total").distributions;
    let professional = &professional.iter().find(|d| d.dimension == "scales/professional").expect("professional").cells;
    for (offset, cell) in professional.iter().enumerate() {
        let row = &table.below[chart_header + 1 + offset];
        assert_eq!(row[1], Shown::Text(cell.label.clone()));
        assert_eq!(row[2], Shown::Number(cell.count as f64));
    }
}

#[tokio::test]
async fn the_profile_csv_holds_exactly_the_figures_of_the_profile_response() {
    let app = spawn_app().await;
    load_people(&app).await;
    let mut reports = exact_reader(&app);
    let response = reports.get_workforce_profile(profile_request()).await.expect("profile").into_inner();

    let download =
        export(&mut reports, Asked::WorkforceProfile(profile_request()), pb::ExportFormat::Csv).await.expect("export");

    assert_eq!(download.file.file_name, "hoso-nhan-luc-20-2024-12-31.csv");
    assert_eq!(download.file.content_type, "text/csv; charset=utf-8");
    let text = std::str::from_utf8(&download.bytes).expect("UTF-8");
    assert!(text.contains("\r\n") && text.lines().next().is_some_and(|h| h.contains(";Tổng số người;")));
    assert_holds_profile(&read_csv(&download.bytes, 2), &response, &dimension_labels(&app).await);
}

/// A directory of its own under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("hrplan-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn client_args(app: &TestApp, localities: &[&str], roles: &[Role]) -> ClientArgs {
    ClientArgs {
        server: format!("http://{}", app.addr),
        token: Some(token(localities, roles)),
        call_timeout_seconds: 30,
    }
}

#[tokio::test]
async fn the_cli_writes_the_profile_workbook_and_csv_with_the_figures_of_the_response() {
    let app = spawn_app().await;
    load_people(&app).await;
    let response = exact_reader(&app).get_workforce_profile(profile_request()).await.expect("profile").into_inner();
    let labels = dimension_labels(&app).await;
    let client = client_args(&app, &["20"], &[Role::PersonalDataReader]);
    let dir = temp_dir("cli-export");

    let path = dir.join("hoso.xlsx");
    let format = cli_report::file_format(Some(&path), None).expect("a format");
    let written = cli_report::export(&client, Asked::WorkforceProfile(profile_request()), format, Some(&path))
        .await
        .expect("the CLI export");
    assert_eq!(written.path, path);
    let bytes = std::fs::read(&path).expect("the workbook on disk");
    assert_eq!(written.size_bytes, bytes.len() as u64);
    assert_holds_profile(&read_workbook(&bytes, "Hồ sơ nhân lực", "Mã", 2), &response, &labels);

    // A directory gets the server's suggested name; the format comes from --format.
    let format = cli_report::file_format(Some(&dir), Some(cli_report::FormatArg::Csv)).expect("a format");
    let written = cli_report::export(&client, Asked::WorkforceProfile(profile_request()), format, Some(&dir))
        .await
        .expect("the CLI export");
    assert_eq!(written.path, dir.join("hoso-nhan-luc-20-2024-12-31.csv"));
    assert_holds_profile(&read_csv(&std::fs::read(&written.path).expect("the CSV"), 2), &response, &labels);

    // Nothing else was left in the directory (no partial download).
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into())
        .collect();
    files.sort();
    assert_eq!(files, ["hoso-nhan-luc-20-2024-12-31.csv", "hoso.xlsx"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn suppressed_cells_are_markers_in_every_file_with_no_number_for_them() {
    let app = spawn_app().await;
    load_people(&app).await;
    let hidden_response =
        aggregate_reader(&app).get_workforce_profile(profile_request()).await.expect("profile").into_inner();
    let exact_response =
        exact_reader(&app).get_workforce_profile(profile_request()).await.expect("profile").into_inner();
    let labels = dimension_labels(&app).await;
    let suppressed = |p: &pb::WorkforceProfile| {
        p.distributions.iter().flat_map(|d| &d.cells).filter(|c| c.suppressed).count()
            + usize::from(p.leaders.as_ref().is_some_and(|l| l.suppressed))
    };
    // The fixture's small cells: one doctorate in the total, three masters at the
    // province's own units.
    let total = hidden_response.total.as_ref().expect("total");
    assert!(suppressed(total) > 0 && suppressed(hidden_response.own_units.as_ref().expect("own")) > 0);
    assert_eq!(suppressed(exact_response.total.as_ref().expect("total")), 0);

    let mut hidden = aggregate_reader(&app);
    let workbook =
        export(&mut hidden, Asked::WorkforceProfile(profile_request()), pb::ExportFormat::Xlsx).await.expect("export");
    let table = read_workbook(&workbook.bytes, "Hồ sơ nhân lực", "Mã", 2);
    // Every figure is as the aggregate reader's response has it: markers where it is
    // suppressed (all its columns, "or higher" included), never a number.
    assert_holds_profile(&table, &hidden_response, &labels);
    let markers: usize =
        table.rows.iter().map(|(_, values)| values.iter().filter(|v| **v == Shown::Marker).count()).sum();
    assert!(markers >= 4, "{markers} markers");
    let note = table
        .below
        .iter()
        .flatten()
        .find_map(|v| match v {
            Shown::Text(t) if t.starts_with("* ") => Some(t.clone()),
            _ => None,
        })
        .expect("a footnote for the marker");
    assert!(note.contains("dưới 5 người"), "{note}");
    // The chart's data shows the suppressed doctorate as a gap, not a number.
    let doctorate = table
        .below
        .iter()
        .find(|row| matches!(row.get(1), Some(Shown::Text(t)) if t.starts_with("Tiến sĩ") && t.ends_with("(*)")))
        .expect("the doctorate in the chart's data, marked");
    assert_eq!(doctorate[2], Shown::Empty);

    let csv =
        export(&mut hidden, Asked::WorkforceProfile(profile_request()), pb::ExportFormat::Csv).await.expect("export");
    assert_holds_profile(&read_csv(&csv.bytes, 2), &hidden_response, &labels);
}

/// Creates a draft training plan of Lạng Sơn with two lines and returns its name.
async fn plan(app: &TestApp) -> String {
    app.as_admin()
        .plans()
        .create_training_plan(pb::CreateTrainingPlanRequest {
            training_plan: Some(pb::TrainingPlan {
                title: "Kế hoạch đào tạo, bồi dưỡng cán bộ, công chức giai đoạn 2021-2025".into(),
                owner: "localities/20".into(),
                period_start: Some(date(2021, 1, 1)),
                period_end: Some(date(2026, 1, 1)),
                legal_basis: Some(pb::LegalBasis {
                    document_number: "125/KH-UBND".into(),
                    issued_on: Some(date(2020, 12, 15)),
                }),
                lines: vec![
                    pb::TargetLine {
                        line_id: "political_theory_intermediate".into(),
                        title: "Trung cấp lý luận chính trị".into(),
                        kind: pb::ProgrammeKind::Degree.into(),
                        level: "scales/political_theory/levels/intermediate".into(),
                        target_enrollments: 40,
                        ..Default::default()
                    },
                    pb::TargetLine {
                        line_id: "digital_skills".into(),
                        title: "Bồi dưỡng kỹ năng chuyển đổi số".into(),
                        kind: pb::ProgrammeKind::Refresher.into(),
                        topic: "Kỹ năng chuyển đổi số".into(),
                        target_enrollments: 120,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("a plan")
        .into_inner()
        .training_plan
        .expect("plan")
        .name
}

#[tokio::test]
async fn every_report_exports_as_a_workbook_and_a_csv_with_a_row_per_group() {
    let app = spawn_app().await;
    load_people(&app).await;
    let plan = plan(&app).await;
    let scope = profile_scope;
    let period = (Some(date(2024, 1, 1)), Some(date(2024, 12, 31)));
    // (report, sheet, file name, first label header, label columns, rows)
    let reports: Vec<(Asked, &str, String, &str, usize, usize)> = vec![
        (
            Asked::WorkforceProfile(profile_request()),
            "Hồ sơ nhân lực",
            "hoso-nhan-luc-20-2024-12-31".into(),
            "Mã",
            2,
            4,
        ),
        (
            Asked::EvaluationSummary(pb::SummarizeEvaluationsRequest {
                scope: Some(scope()),
                first_year: 2023,
                last_year: 2024,
            }),
            "Đánh giá, xếp loại",
            "danh-gia-xep-loai-20-2023-2024".into(),
            "Năm",
            1,
            2,
        ),
        (
            Asked::ProfileComparison(pb::CompareWorkforceProfilesRequest {
                scope: Some(pb::ReportScope { as_of: Some(date(2020, 12, 31)), ..scope() }),
                other_date: Some(date(2024, 12, 31)),
            }),
            "So sánh hồ sơ nhân lực",
            "so-sanh-nhan-luc-20-2020-12-31-2024-12-31".into(),
            "Ngày số liệu",
            3,
            // Two dates of children, own units and total, then the change.
            9,
        ),
        (
            Asked::StandardCompliance(pb::GetStandardComplianceRequest { scope: Some(scope()) }),
            "Đạt tiêu chuẩn",
            "dat-chuan-20-2024-12-31".into(),
            "Mã",
            2,
            4,
        ),
        (
            Asked::TrainingSummary(pb::SummarizeTrainingRequest {
                scope: Some(scope()),
                period_start: period.0,
                period_end: period.1,
            }),
            "Đào tạo, bồi dưỡng",
            "dao-tao-boi-duong-20-2024-01-01-2024-12-31".into(),
            "Mã",
            2,
            4,
        ),
        (
            Asked::RotationSummary(pb::SummarizeRotationsRequest {
                scope: Some(scope()),
                period_start: period.0,
                period_end: period.1,
            }),
            "Luân chuyển, điều động",
            "luan-chuyen-20-2024-01-01-2024-12-31".into(),
            "Mã",
            2,
            4,
        ),
        (
            Asked::StaffingSummary(pb::GetStaffingSummaryRequest { scope: Some(scope()) }),
            "Biên chế",
            "bien-che-20-2024-12-31".into(),
            "Mã",
            2,
            4,
        ),
        (
            Asked::TrainingPlanProgress(pb::GetTrainingPlanProgressRequest {
                name: plan.clone(),
                as_of: Some(date(2024, 12, 31)),
            }),
            "Tiến độ kế hoạch",
            format!("tien-do-ke-hoach-{}-2024-12-31", plan.trim_start_matches("trainingPlans/")),
            "Mã dòng",
            2,
            // Two lines and the total.
            3,
        ),
    ];
    let mut client = exact_reader(&app);
    for (asked, sheet, stem, first_label, labels, rows) in reports {
        let workbook = export(&mut client, asked.clone(), pb::ExportFormat::Xlsx).await.expect(sheet);
        assert_eq!(workbook.file.file_name, format!("{stem}.xlsx"));
        let table = read_workbook(&workbook.bytes, sheet, first_label, labels);
        assert_eq!(table.rows.len(), rows, "{sheet}: {:?}", table.rows.iter().map(|r| &r.0).collect::<Vec<_>>());
        assert!(
            table.rows.iter().all(|(_, values)| values.len() == table.paths.len() && !values.is_empty()),
            "{sheet}"
        );

        let csv = export(&mut client, asked, pb::ExportFormat::Csv).await.expect(sheet);
        assert_eq!(csv.file.file_name, format!("{stem}.csv"));
        let csv_table = read_csv(&csv.bytes, labels);
        assert_eq!(csv_table.paths.len(), table.paths.len(), "{sheet}: the same columns");
        // The same figures in both files.
        let figures = |t: &Table| t.rows.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>();
        assert_eq!(figures(&csv_table), figures(&table), "{sheet}");
    }
}

#[tokio::test]
async fn the_evaluation_workbook_holds_the_ratings_of_every_year() {
    let app = spawn_app().await;
    load_people(&app).await;
    let request = pb::SummarizeEvaluationsRequest { scope: Some(profile_scope()), first_year: 2023, last_year: 2024 };
    let mut reports = exact_reader(&app);
    let response = reports.summarize_evaluations(request.clone()).await.expect("evaluations").into_inner();

    let download =
        export(&mut reports, Asked::EvaluationSummary(request), pb::ExportFormat::Xlsx).await.expect("export");
    let table = read_workbook(&download.bytes, "Đánh giá, xếp loại", "Năm", 1);

    assert_eq!(table.rows.iter().map(|r| r.0[0].clone()).collect::<Vec<_>>(), ["2023", "2024"]);
    for ((_, values), year) in table.rows.iter().zip(&response.years) {
        let mut figures = vec![Shown::Number(response.headcount as f64)];
        for cell in &year.cells {
            figures.extend(
                [cell.count as f64, cell.percent, cell.cumulative_count as f64, cell.cumulative_percent]
                    .map(Shown::Number),
            );
        }
        let good = year.good_or_better.as_ref().expect("good or better");
        figures.extend([Shown::Number(good.count as f64), Shown::Number(good.percent)]);
        assert_eq!(values, &figures, "{}", year.year);
    }
    let context: Vec<String> = {
        let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(download.bytes.clone())).expect("xlsx");
        let range = workbook.worksheet_range("Đánh giá, xếp loại").expect("sheet");
        (0..6).map(|r| text(range.get_value((r, 0)))).collect()
    };
    assert_eq!(context[0], "Kết quả đánh giá, xếp loại (Evaluation summary)");
    assert!(context.iter().any(|line| line.contains("Tỉnh Lạng Sơn (20)")), "{context:?}");
}

#[tokio::test]
async fn a_caller_of_another_province_is_refused_by_the_rpc_and_the_cli() {
    let app = spawn_app().await;
    load_people(&app).await;
    let mut outsider = app.as_(Caller::of(&["11"], &[Role::Admin])).reports();

    for format in [pb::ExportFormat::Xlsx, pb::ExportFormat::Csv] {
        let status =
            export(&mut outsider, Asked::WorkforceProfile(profile_request()), format).await.err().expect("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    }
    let dir = temp_dir("cli-denied");
    let path = dir.join("hoso.xlsx");
    let error = cli_report::export(
        &client_args(&app, &["11"], &[Role::Admin]),
        Asked::WorkforceProfile(profile_request()),
        pb::ExportFormat::Xlsx,
        Some(&path),
    )
    .await
    .expect_err("refused");
    assert!(format!("{error:#}").contains("PermissionDenied"), "{error:#}");
    assert!(std::fs::read_dir(&dir).expect("list").next().is_none(), "no file is written");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn bad_export_requests_are_refused_with_their_fields_and_change_nothing() {
    let app = spawn_app().await;
    load_people(&app).await;
    let before = app.snapshot().await;
    let mut client = exact_reader(&app);
    let violated = |status: Status| {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        field_violations(&status).into_iter().map(|(field, _)| field).collect::<Vec<_>>()
    };

    let no_report = client
        .export_report(pb::ExportReportRequest { report: None, format: pb::ExportFormat::Xlsx.into() })
        .await
        .expect_err("refused");
    assert_eq!(violated(no_report), ["report"]);
    let nothing = client.export_report(pb::ExportReportRequest::default()).await.expect_err("refused");
    assert_eq!(violated(nothing), ["format", "report"]);
    let unknown_format = client
        .export_report(pb::ExportReportRequest { report: Some(Asked::WorkforceProfile(profile_request())), format: 42 })
        .await
        .expect_err("refused");
    assert_eq!(violated(unknown_format), ["format"]);
    let no_scope = export(
        &mut client,
        Asked::WorkforceProfile(pb::GetWorkforceProfileRequest { scope: None }),
        pb::ExportFormat::Xlsx,
    )
    .await
    .err()
    .expect("refused");
    assert_eq!(violated(no_scope), ["workforce_profile.scope"]);
    let backwards = export(
        &mut client,
        Asked::EvaluationSummary(pb::SummarizeEvaluationsRequest {
            scope: Some(profile_scope()),
            first_year: 2024,
            last_year: 2023,
        }),
        pb::ExportFormat::Csv,
    )
    .await
    .err()
    .expect("refused");
    assert_eq!(violated(backwards), ["evaluation_summary.last_year"]);
    let bad_locality = export(
        &mut client,
        Asked::StandardCompliance(pb::GetStandardComplianceRequest {
            scope: Some(pb::ReportScope { locality: "provinces/20".into(), ..profile_scope() }),
        }),
        pb::ExportFormat::Xlsx,
    )
    .await
    .err()
    .expect("refused");
    assert_eq!(violated(bad_locality), ["standard_compliance.scope.locality"]);

    assert_eq!(app.snapshot().await, before, "a refused export changed the database");
}

#[tokio::test]
async fn an_export_whose_deadline_has_passed_is_refused() {
    let app = spawn_app().await;
    load_people(&app).await;
    let mut client = exact_reader(&app);
    let request = || pb::ExportReportRequest {
        report: Some(Asked::WorkforceProfile(profile_request())),
        format: pb::ExportFormat::Xlsx.into(),
    };

    let mut late = tonic::Request::new(request());
    late.set_timeout(Duration::from_nanos(1));
    let status = client.export_report(late).await.expect_err("the deadline has passed");
    assert!(matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled), "{status:?}");

    // The same request with time to spare succeeds, so the refusal was the deadline's.
    let mut timely = tonic::Request::new(request());
    timely.set_timeout(Duration::from_secs(30));
    let mut stream = client.export_report(timely).await.expect("in time").into_inner();
    assert!(matches!(stream.next().await, Some(Ok(pb::ExportReportResponse { content: Some(Content::File(_)) }))));
}
