//! Spreadsheets in: `hrplan import people` and `hrplan template people`, called
//! in-process through the library functions behind the CLI, against the test server
//! over gRPC, with workbooks and CSV files written here.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use calamine::{Data, Reader as _, Xlsx};
use chrono::{Datelike as _, NaiveDate};
use hrplan::{
    auth::Role,
    cli::{
        client::ClientArgs,
        import::{ImportOutcome, ImportPeopleArgs, import_people},
        progress::Progress,
        template::{LevelSource, TemplatePeopleArgs, seeded_scales, write_people_template},
    },
    exchange::{error_book::ERROR_HEADER, people_sheet::FULL_NAME_NOTE},
    grpc::pb::{self, person_service_client::PersonServiceClient},
    people::rules::{identity::PersonalId, person::Gender},
    store::stmt,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use sea_orm::ConnectionTrait as _;
use tempfile::TempDir;

use tonic::{service::interceptor::InterceptedService, transport::Channel};

use crate::clients::Caller;
use crate::helpers::{Bearer, TestApp, committee_unit, date, spawn_app, token};

/// A cell of a sheet written by a test.
#[derive(Debug, Clone)]
enum V {
    Text(String),
    Date(NaiveDate),
    Empty,
}

fn t(text: &str) -> V {
    V::Text(text.to_owned())
}

/// An office of province 11 with its units, and a place for its files.
struct Office {
    app: TestApp,
    token: String,
    dir: TempDir,
    /// Ủy ban nhân dân phường Điện Biên Phủ (03127), code UB-03127.
    committee: String,
    /// Trạm Y tế of 03127 and of 03334: two units of one name.
    station_03127: String,
    station_03334: String,
}

/// The demo tree and, from 2020-01-01, the units an office of Điện Biên names.
async fn office() -> Office {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut units = app.as_admin().units();
    let committee = units
        .create_unit(pb::CreateUnitRequest {
            unit: Some(pb::Unit {
                display_name: "Ủy ban nhân dân phường Điện Biên Phủ".into(),
                locality: "localities/03127".into(),
                sector: pb::Sector::StateAdministration.into(),
                kind: pb::UnitKind::PeoplesCommittee.into(),
                valid_from: Some(date(2020, 1, 1)),
                code: "UB-03127".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("creating the committee")
        .into_inner()
        .unit
        .expect("unit")
        .name;
    committee_unit(&app, "localities/03334", "Ủy ban nhân dân phường Mường Thanh", None).await;
    committee_unit(&app, "localities/11", "Sở Nội vụ", None).await;
    let station_03127 = committee_unit(&app, "localities/03127", "Trạm Y tế", None).await.name;
    let station_03334 = committee_unit(&app, "localities/03334", "Trạm Y tế", None).await.name;
    Office {
        app,
        token: token(&["11"], &[Role::Editor, Role::PersonalDataReader]),
        dir: tempfile::tempdir().expect("a temp dir"),
        committee,
        station_03127,
        station_03334,
    }
}

impl Office {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn client(&self) -> ClientArgs {
        ClientArgs {
            server: format!("http://{}", self.app.addr),
            token: Some(self.token.clone()),
            call_timeout_seconds: 120,
        }
    }

    fn args(&self, file: &Path) -> ImportPeopleArgs {
        ImportPeopleArgs {
            file: file.to_owned(),
            sheet: None,
            dry_run: false,
            allow_missing_id: false,
            errors: None,
            awarded_on: None,
            localities: vec![],
            client: self.client(),
        }
    }

    async fn import(&self, file: &Path) -> ImportOutcome {
        self.import_with(file, |_| {}).await
    }

    async fn import_with(&self, file: &Path, tweak: impl FnOnce(&mut ImportPeopleArgs)) -> ImportOutcome {
        let mut args = self.args(file);
        tweak(&mut args);
        import_people(&args, &Progress::hidden()).await.unwrap_or_else(|e| panic!("the import failed: {e:#}"))
    }

    async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        let row = self.app.db.query_one_raw(stmt(self.app.db.get_database_backend(), &sql, vec![])).await;
        row.expect("count").expect("row").try_get::<i64>("", "n").expect("n")
    }

    /// Every record row, without the request and audit logs (which record the call).
    async fn records(&self) -> Vec<String> {
        self.app
            .snapshot()
            .await
            .into_iter()
            .filter(|row| !row.starts_with("audit_log:") && !row.starts_with("request_log:"))
            .collect()
    }

    fn people(&self) -> PersonServiceClient<InterceptedService<Channel, Bearer>> {
        self.app.as_(Caller::with_token(Some(self.token.clone()))).people()
    }
}

/// One person of a generated list.
#[derive(Debug, Clone)]
struct Person {
    name: String,
    birth: NaiveDate,
    female: bool,
    personal_id: String,
    category: &'static str,
    /// (unit cell, locality cell)
    unit: (String, String),
    post: String,
    leader: bool,
    employed: NaiveDate,
    professional: &'static str,
    political: &'static str,
    language: &'static str,
    ratings: [&'static str; 2],
}

const HEADER: [&str; 17] = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Dân tộc",
    "Số định danh cá nhân",
    "Đối tượng",
    "Đơn vị",
    "Địa bàn",
    "Chức vụ",
    "Lãnh đạo",
    "Ngày vào làm",
    "Trình độ chuyên môn",
    "Lý luận chính trị",
    "Ngoại ngữ",
    "Xếp loại 2023",
    "Xếp loại 2024",
];

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// `n` people of Điện Biên, spread over the office's units (named every way the
/// import accepts), categories, levels and ratings; `serial` makes their numbers.
fn people(n: usize, serial: u32) -> Vec<Person> {
    const FAMILY: [&str; 6] = ["Nguyễn", "Lò", "Quàng", "Trần", "Lường", "Vì"];
    const GIVEN: [&str; 6] = ["Văn An", "Thị Hoa", "Văn Bình", "Thị Mai", "Đức Thắng", "Thị Lan"];
    const CATEGORIES: [&str; 5] = ["Công chức", "Viên chức", "Cán bộ", "Người lao động", "hop dong"];
    const PROFESSIONAL: [&str; 4] = ["Đại học", "Thạc sĩ", "dai hoc", "Cao đẳng"];
    const POLITICAL: [&str; 3] = ["Trung cấp", "Cao cấp", "So cap"];
    const LANGUAGE: [&str; 3] = ["B1", "Bậc 2 (A2)", ""];
    const RATINGS: [&str; 5] = ["HTTNV", "Hoàn thành xuất sắc nhiệm vụ", "htnv", "Hoàn thành tốt nhiệm vụ", ""];
    (0..n)
        .map(|i| {
            let birth = day(1965 + (i % 30) as i32, 1 + (i % 12) as u32, 1 + (i % 28) as u32);
            let female = i % 2 == 1;
            let gender = if female { Gender::Female } else { Gender::Male };
            let personal_id = PersonalId::synthetic(11, birth, gender, serial + i as u32)
                .expect("a synthetic number")
                .as_str()
                .to_owned();
            let unit = match i % 5 {
                0 => ("uy ban nhan dan phuong dien bien phu".to_owned(), String::new()),
                1 => ("UB-03127".to_owned(), String::new()),
                2 => ("Ủy ban nhân dân phường Mường Thanh".to_owned(), String::new()),
                3 => ("Trạm Y tế".to_owned(), if i % 2 == 0 { "03127" } else { "Phường Mường Thanh" }.to_owned()),
                _ => ("  SỞ NỘI VỤ ".to_owned(), String::new()),
            };
            Person {
                name: format!("{} {} {i}", FAMILY[i % 6], GIVEN[(i / 6) % 6]),
                birth,
                female,
                personal_id,
                category: CATEGORIES[i % 5],
                unit,
                post: if i % 10 == 0 { "Chủ tịch Ủy ban nhân dân" } else { "Chuyên viên" }.to_owned(),
                leader: i % 10 == 0,
                employed: day((birth.year() + 23 + (i % 5) as i32).min(2024), 3, 15),
                professional: PROFESSIONAL[i % 4],
                political: POLITICAL[i % 3],
                language: LANGUAGE[i % 3],
                ratings: [RATINGS[i % 5], RATINGS[(i + 1) % 5]],
            }
        })
        .collect()
}

/// The cells of a person's row; dates as Excel date cells or dd/mm/yyyy text.
fn cells(index: usize, p: &Person, date_cells: bool) -> Vec<V> {
    let when = |d: NaiveDate| if date_cells { V::Date(d) } else { V::Text(d.format("%d/%m/%Y").to_string()) };
    vec![
        t(&(index + 1).to_string()),
        t(&p.name),
        when(p.birth),
        t(if p.female { if index % 4 == 1 { "nu" } else { "Nữ" } } else { "Nam" }),
        t(if index.is_multiple_of(3) { "Thái" } else { "Kinh" }),
        t(&p.personal_id),
        t(p.category),
        t(&p.unit.0),
        t(&p.unit.1),
        t(&p.post),
        if p.leader { t("x") } else { V::Empty },
        when(p.employed),
        t(p.professional),
        t(p.political),
        t(p.language),
        t(p.ratings[0]),
        t(p.ratings[1]),
    ]
}

/// Writes a workbook: a title row, an empty row, the header, then the rows.
fn write_xlsx(path: &Path, header: &[&str], rows: &[Vec<V>]) {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Danh sách").expect("sheet name");
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    sheet.write_string(0, 0, "DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC NĂM 2025").expect("title");
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(2, c as u16, *h).expect("header");
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 3, c as u16);
            match cell {
                V::Text(text) => {
                    sheet.write_string(r, c, text).expect("text");
                }
                V::Date(d) => {
                    let value = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).expect("date");
                    sheet.write_datetime_with_format(r, c, &value, &date_format).expect("date");
                }
                V::Empty => {}
            }
        }
    }
    workbook.save(path).expect("saving the workbook");
}

/// Writes a CSV file as Excel does: UTF-8 with a BOM, `delimiter`-separated, the
/// header on the first line.
fn write_csv(path: &Path, delimiter: u8, header: &[&str], rows: &[Vec<V>]) {
    let mut writer = csv::WriterBuilder::new().delimiter(delimiter).from_writer(Vec::new());
    writer.write_record(header).expect("header");
    for row in rows {
        writer
            .write_record(row.iter().map(|c| match c {
                V::Text(text) => text.clone(),
                V::Date(d) => d.format("%d/%m/%Y").to_string(),
                V::Empty => String::new(),
            }))
            .expect("row");
    }
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(writer.into_inner().expect("csv bytes"));
    std::fs::write(path, bytes).expect("writing the CSV");
}

/// The Excel row number of the data row with this index in `write_xlsx`'s layout.
fn excel_row(index: usize) -> usize {
    index + 4
}

/// (Excel row, column header) of every problem.
fn problem_cells(outcome: &ImportOutcome) -> BTreeSet<(usize, String)> {
    outcome.problems.iter().map(|p| (p.row + 1, p.header.clone())).collect()
}

#[tokio::test]
async fn a_workbook_of_a_thousand_people_imports_and_a_second_import_creates_nobody() {
    // Arrange: half the rows with Excel date cells, half with dd/mm/yyyy text.
    let office = office().await;
    let list = people(1000, 1);
    let rows: Vec<Vec<V>> = list.iter().enumerate().map(|(i, p)| cells(i, p, i % 2 == 0)).collect();
    let file = office.path("ds.xlsx");
    write_xlsx(&file, &HEADER, &rows);
    let qualifications = list
        .iter()
        .map(|p| [p.professional, p.political, p.language].iter().filter(|l| !l.is_empty()).count() as i64)
        .sum::<i64>();
    let evaluations = list.iter().map(|p| p.ratings.iter().filter(|r| !r.is_empty()).count() as i64).sum::<i64>();

    // Act
    let first = office.import(&file).await;

    // Assert
    assert!(first.problems.is_empty(), "{:#?}", &first.problems[..first.problems.len().min(5)]);
    assert!(first.written);
    assert_eq!((first.rows, first.created, first.updated, first.unchanged), (1000, 1000, 0, 0));
    assert_eq!(first.ignored_columns, vec!["STT".to_owned()]);
    assert_eq!(office.count("people").await, 1000);
    assert_eq!(office.count("placements").await, 1000);
    assert_eq!(office.count("qualifications").await, qualifications);
    assert_eq!(office.count("evaluations").await, evaluations);
    // Rows 0 and 1 of every five name the committee, by folded name and by code.
    let committee = office.committee.trim_start_matches("units/");
    assert_eq!(office.count(&format!("placements WHERE unit_id = {committee}")).await, 400);
    office.app.assert_facts_in_step().await;

    // One person, field by field: row 4 (index 3), a Trạm Y tế told apart by locality.
    let p = &list[3];
    let mut client = office.people();
    let person = client
        .lookup_person(pb::LookupPersonRequest {
            identifier: Some(pb::lookup_person_request::Identifier::PersonalId(p.personal_id.clone())),
            as_of: None,
        })
        .await
        .expect("looking the person up")
        .into_inner()
        .person
        .expect("person");
    assert_eq!(person.full_name, p.name);
    assert_eq!(person.birth_date, Some(date(p.birth.year(), p.birth.month() as i32, p.birth.day() as i32)));
    assert_eq!(person.gender, i32::from(pb::Gender::Female));
    assert_eq!(person.category, i32::from(pb::PersonCategory::ContractWorker), "\"Người lao động\"");
    let placement = person.placement.expect("a placement today");
    assert_eq!(placement.unit, office.station_03334, "Phường Mường Thanh's Trạm Y tế");
    // No "Ngày bổ nhiệm": the later of employment and the unit's start (2020-01-01).
    let expected_start = p.employed.max(day(2020, 1, 1));
    assert_eq!(
        placement.valid_from,
        Some(date(expected_start.year(), expected_start.month() as i32, expected_start.day() as i32))
    );
    let held = client
        .list_qualifications(pb::ListQualificationsRequest { parent: person.name.clone(), ..Default::default() })
        .await
        .expect("qualifications")
        .into_inner()
        .qualifications;
    let mut levels: Vec<String> = held.iter().map(|q| q.level.clone()).collect();
    levels.sort();
    assert_eq!(
        levels,
        [
            "scales/foreign_language/levels/level_3",
            "scales/political_theory/levels/intermediate",
            "scales/professional/levels/college"
        ]
    );
    let employed = Some(date(p.employed.year(), 3, 15));
    assert!(held.iter().all(|q| q.awarded_on == employed), "awarded on the employment start: {held:?}");

    // Act: the same sheet again.
    let before = office.records().await;
    let second = office.import(&file).await;

    // Assert: nobody created, nothing changed.
    assert!(second.problems.is_empty(), "{:#?}", &second.problems[..second.problems.len().min(5)]);
    assert_eq!((second.created, second.updated, second.unchanged), (0, 0, 1000));
    assert_eq!(office.records().await, before, "a second import changes no record");
}

#[tokio::test]
async fn a_workbook_with_three_bad_rows_imports_nothing_and_reports_exactly_those_cells() {
    // Arrange: a bad date, an unknown unit, and a number the server finds at odds
    // with the birth date, among good rows.
    let office = office().await;
    let list = people(12, 1);
    let mut rows: Vec<Vec<V>> = list.iter().enumerate().map(|(i, p)| cells(i, p, i % 2 == 0)).collect();
    rows[2][2] = t("31/02/1985");
    rows[5][7] = t("Ủy ban nhân dân xã Không Có");
    let wrong_year = day(list[8].birth.year() + 1, 1, 1);
    let gender = if list[8].female { Gender::Female } else { Gender::Male };
    rows[8][5] = t(PersonalId::synthetic(11, wrong_year, gender, 999_999).expect("number").as_str());
    let file = office.path("co-loi.xlsx");
    write_xlsx(&file, &HEADER, &rows);
    let before = office.records().await;

    // Act
    let outcome = office.import(&file).await;

    // Assert: exactly those rows and columns, nothing written.
    assert!(!outcome.written);
    assert_eq!(
        problem_cells(&outcome),
        BTreeSet::from([
            (excel_row(2), "Ngày sinh".to_owned()),
            (excel_row(5), "Đơn vị".to_owned()),
            (excel_row(8), "Số định danh cá nhân".to_owned()),
        ]),
        "{:#?}",
        outcome.problems
    );
    assert_eq!(outcome.problems.len(), 3, "{:#?}", outcome.problems);
    assert!(outcome.problems[0].message.contains("31/02/1985"), "{}", outcome.problems[0].message);
    assert!(outcome.problems[1].message.contains("Không Có"), "{}", outcome.problems[1].message);
    assert_eq!(office.records().await, before, "a failed import writes nothing");
    assert_eq!(office.count("people").await, 0);

    // The error workbook, read back, holds those rows in its error column.
    let path = outcome.error_workbook.clone().expect("an error workbook");
    assert_eq!(path, office.path("co-loi.loi.xlsx"));
    let mut book: Xlsx<_> = calamine::open_workbook(&path).expect("opening the error workbook");
    let range = book.worksheet_range("Danh sách").expect("the copied sheet");
    let header_row = 2;
    let error_column = (0..range.width())
        .find(|&c| range.get((header_row, c)) == Some(&Data::String(ERROR_HEADER.to_owned())))
        .expect("an error column");
    assert_eq!(error_column, HEADER.len(), "right beside the data");
    let mut flagged = BTreeSet::new();
    for r in header_row + 1..range.height() {
        if let Some(Data::String(message)) = range.get((r, error_column)) {
            flagged.insert((r + 1, message.clone()));
        }
    }
    let rows_flagged: Vec<usize> = flagged.iter().map(|(r, _)| *r).collect();
    assert_eq!(rows_flagged, [excel_row(2), excel_row(5), excel_row(8)]);
    let messages: Vec<&String> = flagged.iter().map(|(_, m)| m).collect();
    assert!(messages[0].starts_with("Ngày sinh (C)"), "{}", messages[0]);
    assert!(messages[1].starts_with("Đơn vị (H)"), "{}", messages[1]);
    assert!(messages[2].starts_with("Số định danh cá nhân (F)"), "{}", messages[2]);
    // The data is copied as it was: the title, names, and the date cells as dates.
    assert_eq!(range.get((0, 0)), Some(&Data::String("DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC NĂM 2025".into())));
    assert_eq!(range.get((3, 1)), Some(&Data::String(list[0].name.clone())));
    assert!(matches!(range.get((3, 2)), Some(Data::DateTime(_))), "{:?}", range.get((3, 2)));
}

#[tokio::test]
async fn a_csv_as_excel_writes_it_imports_with_semicolons_or_commas() {
    // Arrange
    let office = office().await;
    let list = people(6, 1);
    let rows: Vec<Vec<V>> = list.iter().enumerate().map(|(i, p)| cells(i, p, false)).collect();
    let semicolons = office.path("ds-cham-phay.csv");
    write_csv(&semicolons, b';', &HEADER, &rows[..3]);
    let commas = office.path("ds-phay.csv");
    write_csv(&commas, b',', &HEADER, &rows[3..]);

    // Act
    let first = office.import(&semicolons).await;
    let second = office.import(&commas).await;

    // Assert
    assert!(first.problems.is_empty() && second.problems.is_empty(), "{:#?} {:#?}", first.problems, second.problems);
    assert_eq!((first.created, second.created), (3, 3));
    assert_eq!(office.count("people").await, 6);
}

#[tokio::test]
async fn a_bad_csv_row_is_reported_by_its_line_and_the_errors_go_to_a_workbook() {
    // Arrange
    let office = office().await;
    let list = people(3, 1);
    let mut rows: Vec<Vec<V>> = list.iter().enumerate().map(|(i, p)| cells(i, p, false)).collect();
    rows[1][3] = t("không rõ");
    let file = office.path("ds.csv");
    write_csv(&file, b';', &HEADER, &rows);

    // Act
    let outcome = office.import(&file).await;

    // Assert: line 3 (header on line 1), column "Giới tính"; a workbook beside it.
    assert_eq!(problem_cells(&outcome), BTreeSet::from([(3, "Giới tính".to_owned())]));
    assert_eq!(outcome.error_workbook, Some(office.path("ds.loi.xlsx")));
    assert!(office.path("ds.loi.xlsx").exists());
    assert_eq!(office.count("people").await, 0);
}

#[tokio::test]
async fn excel_date_cells_and_dd_mm_yyyy_text_give_the_same_dates() {
    // Arrange: the same person twice over, once with date cells and once with text.
    let office = office().await;
    let list = people(2, 1);
    let mut twin = list[0].clone();
    twin.personal_id = list[1].personal_id.clone();
    twin.female = list[1].female;
    twin.birth = list[0].birth;
    let twin_id = PersonalId::synthetic(11, twin.birth, if twin.female { Gender::Female } else { Gender::Male }, 77)
        .expect("number");
    twin.personal_id = twin_id.as_str().to_owned();
    let file = office.path("ngay.xlsx");
    write_xlsx(&file, &HEADER, &[cells(0, &list[0], true), cells(1, &twin, false)]);

    // Act
    let outcome = office.import(&file).await;

    // Assert
    assert!(outcome.problems.is_empty(), "{:#?}", outcome.problems);
    let (born, employed) = (list[0].birth.format("%Y-%m-%d"), list[0].employed.format("%Y-%m-%d"));
    assert_eq!(office.count(&format!("people WHERE birth_date = '{born}' AND employed_from = '{employed}'")).await, 2);
}

#[tokio::test]
async fn headers_units_levels_and_values_match_without_case_or_diacritics() {
    // Arrange: headers in capitals without diacritics, values folded every way.
    let office = office().await;
    let p = &people(1, 1)[0];
    let header = [
        "HO VA TEN",
        "ngay sinh",
        "GIOI TINH",
        "dan toc",
        "SO DINH DANH CA NHAN",
        "LOAI",
        "don vi",
        "CHUC VU",
        "Lanh dao",
        "NGAY VAO LAM",
        "trinh do chuyen mon",
        "LLCT",
        "xep loai nam 2024",
    ];
    let row = vec![
        t(&p.name),
        t(&p.birth.format("%d/%m/%Y").to_string()),
        t(if p.female { "NU" } else { "nam" }),
        t("kinh"),
        t(&p.personal_id),
        t("VIEN CHUC"),
        t("UY BAN NHAN DAN PHUONG MUONG THANH"),
        t("Chuyên viên"),
        t("co"),
        t(&p.employed.format("%d/%m/%Y").to_string()),
        t("THAC SI"),
        t("cao cap"),
        t("hoan thanh tot nhiem vu"),
    ];
    let file = office.path("khong-dau.xlsx");
    write_xlsx(&file, &header, &[row]);

    // Act
    let outcome = office.import(&file).await;

    // Assert
    assert!(outcome.problems.is_empty(), "{:#?}", outcome.problems);
    assert_eq!(outcome.created, 1);
    let levels = office.count("qualifications WHERE level_code IN ('master', 'advanced')").await;
    assert_eq!(levels, 2);
    assert_eq!(office.count("evaluations WHERE year = 2024 AND rating = 'good'").await, 1);
    assert_eq!(office.count("placements WHERE is_leader").await, 1);
}

#[tokio::test]
async fn a_unit_name_two_units_share_is_rejected_naming_both_unless_a_locality_tells_them_apart() {
    // Arrange
    let office = office().await;
    let list = people(2, 1);
    let mut rows: Vec<Vec<V>> = list.iter().enumerate().map(|(i, p)| cells(i, p, false)).collect();
    rows[0][7] = t("tram y te");
    rows[0][8] = V::Empty;
    rows[1][7] = t("Trạm Y tế");
    rows[1][8] = t("phuong dien bien phu");
    let file = office.path("trung-ten.xlsx");
    write_xlsx(&file, &HEADER, &rows);

    // Act
    let outcome = office.import(&file).await;

    // Assert
    assert_eq!(problem_cells(&outcome), BTreeSet::from([(excel_row(0), "Đơn vị".to_owned())]));
    let message = &outcome.problems[0].message;
    assert!(message.contains("ambiguous"), "{message}");
    assert!(message.contains("(03127)") && message.contains("(03334)"), "both candidates named: {message}");
    assert_eq!(office.count("people").await, 0);

    // The second row alone goes to the unit of its locality.
    let alone = office.path("mot-dong.xlsx");
    write_xlsx(&alone, &HEADER, &rows[1..]);
    let outcome = office.import(&alone).await;
    assert!(outcome.problems.is_empty(), "{:#?}", outcome.problems);
    let station = office.station_03127.trim_start_matches("units/");
    assert_eq!(office.count(&format!("placements WHERE unit_id = {station}")).await, 1);
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_says_what_would_happen() {
    // Arrange: 4 people already imported, then a sheet with one changed and one new.
    let office = office().await;
    let list = people(5, 1);
    let first: Vec<Vec<V>> = list[..4].iter().enumerate().map(|(i, p)| cells(i, p, false)).collect();
    let file = office.path("dau.xlsx");
    write_xlsx(&file, &HEADER, &first);
    office.import(&file).await;
    let mut next = first.clone();
    next[0][9] = t("Phó Chủ tịch Ủy ban nhân dân");
    next.push(cells(4, &list[4], false));
    let file = office.path("sau.xlsx");
    write_xlsx(&file, &HEADER, &next);
    let before = office.app.snapshot().await;

    // Act
    let outcome = office.import_with(&file, |a| a.dry_run = true).await;

    // Assert
    assert!(outcome.problems.is_empty(), "{:#?}", outcome.problems);
    assert!(outcome.dry_run && !outcome.written);
    assert_eq!((outcome.created, outcome.updated, outcome.unchanged), (1, 1, 3));
    assert_eq!(office.app.snapshot().await, before, "a dry run writes nothing, not even a log entry");
}

#[tokio::test]
async fn rows_without_a_personal_id_are_refused_unless_allowed() {
    // Arrange
    let office = office().await;
    let list = people(2, 1);
    let mut rows: Vec<Vec<V>> = list.iter().enumerate().map(|(i, p)| cells(i, p, false)).collect();
    rows[1][5] = V::Empty;
    let file = office.path("thieu-so.xlsx");
    write_xlsx(&file, &HEADER, &rows);

    // Act
    let refused = office.import(&file).await;
    let allowed = office.import_with(&file, |a| a.allow_missing_id = true).await;

    // Assert
    assert_eq!(problem_cells(&refused), BTreeSet::from([(excel_row(1), "Số định danh cá nhân".to_owned())]));
    assert!(refused.problems[0].message.contains("second import"), "{}", refused.problems[0].message);
    assert!(allowed.problems.is_empty(), "{:#?}", allowed.problems);
    assert_eq!(allowed.created, 2);
}

#[tokio::test]
async fn a_sheet_made_from_the_template_imports_skipping_its_notes_row() {
    // Arrange: the template's own headers, its notes row, then people.
    let office = office().await;
    let template = office.path("mau.xlsx");
    let source = write_people_template(&TemplatePeopleArgs {
        output: template.clone(),
        rating_years: vec![2023, 2024],
        offline: false,
        localities: vec![],
        client: office.client(),
    })
    .await
    .expect("writing the template");
    assert_eq!(source, LevelSource::Server);
    let mut book: Xlsx<_> = calamine::open_workbook(&template).expect("opening the template");
    let range = book.worksheet_range("Danh sách").expect("the data sheet");
    let headers: Vec<String> =
        (0..range.width()).map(|c| range.get((0, c)).map(|d| d.to_string()).unwrap_or_default()).collect();
    let notes: Vec<String> =
        (0..range.width()).map(|c| range.get((1, c)).map(|d| d.to_string()).unwrap_or_default()).collect();
    let p = &people(1, 1)[0];
    let mut row: Vec<V> = headers.iter().map(|_| V::Empty).collect();
    let set = |row: &mut Vec<V>, header: &str, value: V| {
        let at = headers.iter().position(|h| h == header).unwrap_or_else(|| panic!("no column {header}"));
        row[at] = value;
    };
    set(&mut row, "Họ và tên", t(&p.name));
    set(&mut row, "Ngày sinh", V::Date(p.birth));
    set(&mut row, "Giới tính", t(if p.female { "Nữ" } else { "Nam" }));
    set(&mut row, "Dân tộc", t("Kinh"));
    set(&mut row, "Số định danh cá nhân", t(&p.personal_id));
    set(&mut row, "Đối tượng", t("Công chức"));
    set(&mut row, "Đơn vị", t("Sở Nội vụ"));
    set(&mut row, "Chức vụ", t("Chuyên viên"));
    set(&mut row, "Ngày vào làm", V::Date(p.employed));
    set(&mut row, "Ngày bổ nhiệm", V::Date(day(2022, 5, 1)));
    set(&mut row, "Tin học", t("Ứng dụng công nghệ thông tin cơ bản"));
    set(&mut row, "Xếp loại 2024", t("Hoàn thành tốt nhiệm vụ"));
    let notes_row: Vec<V> = notes.iter().map(|n| t(n)).collect();
    assert_eq!(notes[0], FULL_NAME_NOTE);
    let file = office.path("tu-mau.xlsx");
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    write_xlsx(&file, &header_refs, &[notes_row, row]);

    // Act
    let outcome = office.import(&file).await;

    // Assert: one person, placed from "Ngày bổ nhiệm".
    assert!(outcome.problems.is_empty(), "{:#?}", outcome.problems);
    assert_eq!((outcome.rows, outcome.created), (1, 1));
    assert_eq!(office.count("placements WHERE valid_from = '2022-05-01'").await, 1);
}

/// The data validations of the first sheet of a workbook, as (range, formula).
fn list_validations(path: &Path) -> Vec<(String, String)> {
    use std::io::Read as _;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).expect("the workbook")).expect("a zip");
    let mut xml = String::new();
    archive.by_name("xl/worksheets/sheet1.xml").expect("sheet1").read_to_string(&mut xml).expect("xml");
    xml.split("<dataValidation ")
        .skip(1)
        .filter(|v| v.contains(r#"type="list""#))
        .map(|v| {
            let range = v.split("sqref=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
            let formula = v.split("<formula1>").nth(1).and_then(|f| f.split("</formula1>").next()).unwrap_or_default();
            (range.to_owned(), formula.replace("&apos;", "'"))
        })
        .collect()
}

#[tokio::test]
async fn the_template_has_the_headers_a_notes_row_and_drop_downs_from_the_server() {
    // Arrange
    let office = office().await;
    let path = office.path("mau.xlsx");

    // Act
    let source = write_people_template(&TemplatePeopleArgs {
        output: path.clone(),
        rating_years: vec![2024],
        offline: false,
        localities: vec![],
        client: office.client(),
    })
    .await
    .expect("writing the template");

    // Assert: the headers, the notes under them.
    assert_eq!(source, LevelSource::Server);
    let mut book: Xlsx<_> = calamine::open_workbook(&path).expect("opening the template");
    assert_eq!(book.sheet_names(), ["Danh sách", "Danh mục"]);
    let data = book.worksheet_range("Danh sách").expect("data sheet");
    let headers: Vec<String> =
        (0..data.width()).map(|c| data.get((0, c)).map(|d| d.to_string()).unwrap_or_default()).collect();
    assert_eq!(
        headers,
        [
            "Họ và tên",
            "Ngày sinh",
            "Giới tính",
            "Dân tộc",
            "Số định danh cá nhân",
            "Mã cán bộ",
            "Đối tượng",
            "Đơn vị",
            "Địa bàn",
            "Chức vụ",
            "Lãnh đạo, quản lý",
            "Chủ chốt",
            "Ngày vào làm",
            "Ngày bổ nhiệm",
            "Trình độ chuyên môn",
            "Lý luận chính trị",
            "Quản lý nhà nước",
            "Tin học",
            "Ngoại ngữ",
            "Xếp loại 2024",
        ]
    );
    assert!((0..data.width()).all(|c| matches!(data.get((1, c)), Some(Data::String(s)) if !s.is_empty())));

    // The lists behind the drop-downs: levels from the server, units of the scope.
    let lists = book.worksheet_range("Danh mục").expect("lists sheet");
    let column = |title: &str| -> Vec<String> {
        let c = (0..lists.width()).find(|&c| lists.get((0, c)).map(|d| d.to_string()).as_deref() == Some(title));
        let c = c.unwrap_or_else(|| panic!("no list {title}"));
        (1..lists.height()).filter_map(|r| lists.get((r, c)).map(|d| d.to_string())).filter(|s| !s.is_empty()).collect()
    };
    assert_eq!(column("Giới tính"), ["Nam", "Nữ"]);
    assert_eq!(column("Đối tượng").len(), 5);
    assert_eq!(column("Lãnh đạo, quản lý"), ["Có", "Không"]);
    assert_eq!(
        column("Tin học"),
        ["Ứng dụng công nghệ thông tin nâng cao", "Ứng dụng công nghệ thông tin cơ bản", "Chưa có chứng chỉ"]
    );
    assert_eq!(column("Trình độ chuyên môn").len(), 9);
    assert_eq!(column("Xếp loại 2024")[0], "Hoàn thành xuất sắc nhiệm vụ");
    assert_eq!(
        column("Đơn vị"),
        ["Sở Nội vụ", "Trạm Y tế", "Ủy ban nhân dân phường Mường Thanh", "Ủy ban nhân dân phường Điện Biên Phủ"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );

    // The drop-downs themselves: each list column of data rows points at its list.
    let validations = list_validations(&path);
    let position = |h: &str| headers.iter().position(|x| x == h).expect("header");
    let letter = |i: usize| hrplan::exchange::people_sheet::column_letter(i);
    let expect = [
        ("Giới tính", "A", 2),
        ("Đối tượng", "B", 5),
        ("Đơn vị", "C", 4),
        ("Lãnh đạo, quản lý", "D", 2),
        ("Chủ chốt", "E", 2),
        ("Trình độ chuyên môn", "F", 9),
        ("Ngoại ngữ", "J", 7),
        ("Xếp loại 2024", "K", 4),
    ];
    for (header, list_letter, len) in expect {
        let c = letter(position(header));
        let want = (format!("{c}3:{c}100002"), format!("'Danh mục'!${list_letter}$2:${list_letter}${}", len + 1));
        assert!(validations.contains(&want), "{header}: {want:?} not in {validations:?}");
    }
    assert_eq!(validations.len(), 11, "gender, category, unit, two flags, five scales, one rating year");
}

#[tokio::test]
async fn without_a_server_the_template_offers_the_levels_the_migrations_seed() {
    // Arrange: a fresh server's levels, and a port nobody listens on.
    let app = spawn_app().await;
    let served = app
        .as_(Caller::of(&["*"], &[Role::AggregateReader]))
        .scales()
        .list_scales(pb::ListScalesRequest {})
        .await
        .expect("listing the scales")
        .into_inner()
        .scales;
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("mau.xlsx");

    // Act
    let seeded = seeded_scales().await.expect("the seeded scales");
    let source = write_people_template(&TemplatePeopleArgs {
        output: path.clone(),
        rating_years: vec![2024],
        offline: false,
        localities: vec![],
        client: ClientArgs { server: "http://127.0.0.1:1".into(), token: None, call_timeout_seconds: 5 },
    })
    .await
    .expect("writing the template offline");

    // Assert
    assert_eq!(seeded, served, "one source: the migrations");
    assert_eq!(source, LevelSource::Seeded);
    let mut book: Xlsx<_> = calamine::open_workbook(&path).expect("opening the template");
    let lists = book.worksheet_range("Danh mục").expect("lists sheet");
    let titles: Vec<String> =
        (0..lists.width()).map(|c| lists.get((0, c)).map(|d| d.to_string()).unwrap_or_default()).collect();
    assert!(titles.contains(&"Trình độ chuyên môn".to_owned()), "{titles:?}");
    assert!(!titles.contains(&"Đơn vị".to_owned()), "no unit list offline: {titles:?}");
}
