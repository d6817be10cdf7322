//! The sheet reader's rules, case by case.

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
}

fn reference() -> Reference {
    let level = |scale: &str, id: &str, vi: &str, en: &str| pb::Level {
        name: format!("scales/{scale}/levels/{id}"),
        rank: 0,
        display_name: vi.into(),
        english_name: en.into(),
    };
    let scales = vec![
        pb::Scale {
            name: "scales/professional".into(),
            display_name: "Trình độ chuyên môn".into(),
            english_name: "Professional qualification".into(),
            levels: vec![
                level("professional", "master", "Thạc sĩ", "Master's degree"),
                level("professional", "university", "Đại học", "University degree"),
            ],
        },
        pb::Scale {
            name: "scales/political_theory".into(),
            display_name: "Lý luận chính trị".into(),
            english_name: "Political theory".into(),
            levels: vec![level("political_theory", "intermediate", "Trung cấp", "Intermediate")],
        },
        pb::Scale {
            name: "scales/foreign_language".into(),
            display_name: "Ngoại ngữ".into(),
            english_name: "Foreign language".into(),
            levels: vec![level("foreign_language", "level_3", "Bậc 3 (B1)", "Level 3 (B1)")],
        },
    ];
    let unit = |id: i64, name: &str, locality: &str| pb::Unit {
        name: format!("units/{id}"),
        display_name: name.into(),
        locality: format!("localities/{locality}"),
        valid_from: Some(pb::Date { year: 2020, month: 1, day: 1 }),
        ..Default::default()
    };
    let units = vec![
        unit(1, "Ủy ban nhân dân xã Thanh Xương", "03334"),
        unit(2, "Trạm Y tế", "03334"),
        unit(3, "Trạm Y tế", "03124"),
    ];
    let locality = |code: &str, name: &str, parent: &str| pb::Locality {
        name: format!("localities/{code}"),
        code: code.into(),
        display_name: name.into(),
        parent: if parent.is_empty() { String::new() } else { format!("localities/{parent}") },
        ..Default::default()
    };
    let localities = vec![
        locality("11", "Tỉnh Điện Biên", ""),
        locality("100", "Huyện Điện Biên", "11"),
        locality("03334", "Xã Thanh Xương", "100"),
        locality("094", "Thành phố Điện Biên Phủ", "11"),
        locality("03124", "Phường Noong Bua", "094"),
    ];
    Reference::new(&scales, &units, &localities)
}

fn grid(rows: Vec<Vec<&str>>) -> Grid {
    Grid {
        sheet: "Sheet1".into(),
        kind: super::super::sheet::SourceKind::Xlsx,
        rows: rows
            .into_iter()
            .map(|r| r.into_iter().map(|c| if c.is_empty() { Cell::Empty } else { Cell::Text(c.into()) }).collect())
            .collect(),
    }
}

const HEADER: [&str; 13] = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Dân tộc",
    "Số định danh cá nhân",
    "Đối tượng",
    "Đơn vị",
    "Xã, phường",
    "Chức vụ",
    "Ngày vào làm",
    "TRÌNH ĐỘ  chuyên môn",
    "Xếp loại 2024",
];

#[test]
fn headers_match_without_case_diacritics_or_hints() {
    let r = reference();
    assert_eq!(field_of("HO VA TEN (*)", &r.scales), Some(Field::FullName));
    assert_eq!(field_of("Ngày\nsinh", &r.scales), Some(Field::BirthDate));
    assert_eq!(field_of("Date of birth", &r.scales), Some(Field::BirthDate));
    assert_eq!(field_of("Xã, phường", &r.scales), Some(Field::Locality));
    assert_eq!(field_of("Xếp loại năm 2023", &r.scales), Some(Field::Rating(2023)));
    assert_eq!(field_of("Rating 2022", &r.scales), Some(Field::Rating(2022)));
    assert_eq!(field_of("Trình độ lý luận chính trị", &r.scales), Some(Field::Scale(1)));
    assert_eq!(field_of("LLCT", &r.scales), Some(Field::Scale(1)));
    assert_eq!(field_of("Foreign language", &r.scales), Some(Field::Scale(2)));
    assert_eq!(field_of("Ghi chú", &r.scales), None);
}

#[test]
fn the_header_row_is_found_below_title_rows() {
    let g = grid(vec![vec!["DANH SÁCH CÁN BỘ, CÔNG CHỨC"], vec![], HEADER.to_vec()]);
    let layout = find_layout(&g, &reference().scales).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(layout.header_row, 2);
    assert_eq!(layout.ignored, vec![(0, "STT".to_owned())]);
    assert_eq!(layout.column(Field::Scale(0)).map(|c| c.index), Some(11));
}

#[test]
fn a_sheet_without_required_columns_names_them() {
    let g = grid(vec![vec!["Họ và tên", "Ngày sinh", "Giới tính"]]);
    let message = find_layout(&g, &reference().scales).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("\"Dân tộc\"") && message.contains("\"Đơn vị\""), "{message}");
}

#[test]
fn dates_are_read_in_every_form_offices_write() {
    assert_eq!(parse_date(&Cell::Text("01/02/1980".into())), Ok(Some(d(1980, 2, 1))));
    assert_eq!(parse_date(&Cell::Text("1/2/1980".into())), Ok(Some(d(1980, 2, 1))));
    assert_eq!(parse_date(&Cell::Text("01-02-1980".into())), Ok(Some(d(1980, 2, 1))));
    assert_eq!(parse_date(&Cell::Text("01.02.1980 00:00:00".into())), Ok(Some(d(1980, 2, 1))));
    assert_eq!(parse_date(&Cell::Text("1980-02-01".into())), Ok(Some(d(1980, 2, 1))));
    assert_eq!(parse_date(&Cell::Date(d(1980, 2, 1))), Ok(Some(d(1980, 2, 1))));
    assert_eq!(parse_date(&Cell::Number(29252.0)), Ok(Some(d(1980, 2, 1))));
    assert_eq!(parse_date(&Cell::Empty), Ok(None));
    assert!(parse_date(&Cell::Text("31/02/1980".into())).is_err_and(|e| e.contains("calendar")));
    assert!(parse_date(&Cell::Text("01/02/80".into())).is_err_and(|e| e.contains("two-digit")));
    assert!(parse_date(&Cell::Number(1980.0)).is_err_and(|e| e.contains("year")));
    assert!(parse_date(&Cell::Text("hôm qua".into())).is_err());
}

#[test]
fn personal_ids_keep_their_leading_zeros() {
    assert_eq!(parse_personal_id(&Cell::Number(1_089_012_345.0)), Ok(Some("001089012345".into())));
    assert_eq!(parse_personal_id(&Cell::Text(" 001 089 012 345 ".into())), Ok(Some("001089012345".into())));
    assert_eq!(parse_personal_id(&Cell::Empty), Ok(None));
    assert!(parse_personal_id(&Cell::Text("12345".into())).is_err());
}

#[test]
fn values_match_without_case_or_diacritics() {
    assert_eq!(parse_gender("nu"), Some(pb::Gender::Female));
    assert_eq!(parse_gender(" NAM "), Some(pb::Gender::Male));
    assert_eq!(parse_category("cong chuc"), Some(pb::PersonCategory::CivilServant));
    assert_eq!(parse_category("Hợp đồng"), Some(pb::PersonCategory::ContractWorker));
    assert_eq!(parse_category("PUBLIC_EMPLOYEE"), Some(pb::PersonCategory::PublicEmployee));
    assert_eq!(parse_category("Người hoạt động không chuyên trách"), Some(pb::PersonCategory::PartTimeWorker));
    assert_eq!(parse_rating("httnv"), Some(pb::Rating::Good));
    assert_eq!(parse_rating("Hoàn thành xuất sắc nhiệm vụ"), Some(pb::Rating::Excellent));
    assert_eq!(parse_rating("KHÔNG HOÀN THÀNH NHIỆM VỤ"), Some(pb::Rating::NotCompleted));
    assert_eq!(parse_flag(&Cell::Text("x".into())), Ok(true));
    assert_eq!(parse_flag(&Cell::Text("Không".into())), Ok(false));
    assert!(parse_flag(&Cell::Text("maybe".into())).is_err());
}

fn row(values: [&'static str; 13]) -> Vec<&'static str> {
    values.to_vec()
}

#[test]
fn a_row_becomes_a_record_with_its_placement_qualification_and_rating() {
    let g = grid(vec![
        HEADER.to_vec(),
        row([
            "1",
            "Lò Thị Hoa",
            "01/02/1985",
            "Nữ",
            "Thái",
            "011185000123",
            "Công chức",
            "uy ban nhan dan xa thanh xuong",
            "",
            "Chủ tịch",
            "15/03/2010",
            "dai hoc",
            "HTTNV",
        ]),
    ]);
    let parsed = parse_people(&g, &reference(), &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.problems, vec![]);
    let record = &parsed.records[0];
    assert_eq!(record.row, 1);
    let person = record.record.person.as_ref().unwrap_or_else(|| panic!("person"));
    assert_eq!(person.personal_id, "011185000123");
    assert_eq!(person.gender, i32::from(pb::Gender::Female));
    let placement = &record.record.placements[0];
    assert_eq!(placement.unit, "units/1");
    // No "Ngày bổ nhiệm": the later of employment (2010) and the unit's start (2020).
    assert_eq!(placement.valid_from, Some(pb::Date { year: 2020, month: 1, day: 1 }));
    assert_eq!(record.record.qualifications[0].level, "scales/professional/levels/university");
    assert_eq!(record.record.qualifications[0].awarded_on, Some(pb::Date { year: 2010, month: 3, day: 15 }));
    assert_eq!(record.record.evaluations[0].year, 2024);
    assert_eq!(record.column_of("placements[0].unit"), Some(7));
    assert_eq!(record.column_of("qualifications[0].awarded_on"), Some(11));
    assert_eq!(record.column_of("person.birth_date"), Some(2));
    assert_eq!(record.column_of("person"), None);
}

#[test]
fn every_problem_of_a_row_is_reported_with_its_column() {
    let g = grid(vec![
        HEADER.to_vec(),
        row([
            "1",
            "Lò Thị Hoa",
            "31/02/1985",
            "?",
            "Thái",
            "",
            "Công chức",
            "Trạm Y tế",
            "",
            "Trạm trưởng",
            "15/03/2010",
            "Tiến sĩ",
            "Tốt lắm",
        ]),
    ]);
    let parsed = parse_people(&g, &reference(), &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    let columns: Vec<Option<usize>> = parsed.problems.iter().map(|p| p.column).collect();
    assert_eq!(columns, vec![Some(2), Some(3), Some(5), Some(7), Some(11), Some(12)], "{:#?}", parsed.problems);
    assert!(parsed.problems[3].message.contains("ambiguous"), "{}", parsed.problems[3].message);
    assert!(parsed.problems[3].message.contains("Phường Noong Bua (03124)"), "{}", parsed.problems[3].message);
    assert!(parsed.records.is_empty());
}

#[test]
fn a_locality_tells_units_of_the_same_name_apart() {
    let r = reference();
    assert_eq!(r.find_unit("tram y te", Some("Noong Bua")), Ok(2));
    assert_eq!(r.find_unit("Trạm Y tế", Some("03334")), Ok(1));
    assert_eq!(r.find_unit("Trạm Y tế", Some("Huyện Điện Biên")), Ok(1));
    assert!(r.find_unit("Trạm Y tế", Some("Tỉnh Điện Biên")).is_err_and(|e| e.contains("ambiguous")));
    assert!(r.find_unit("Trạm Y tế", Some("Hà Nội")).is_err_and(|e| e.starts_with("no locality")));
}

#[test]
fn units_of_one_name_in_one_locality_need_a_code() {
    let unit = |id: i64, code: &str| pb::Unit {
        name: format!("units/{id}"),
        display_name: "Trạm Y tế".into(),
        locality: "localities/03334".into(),
        code: code.into(),
        ..Default::default()
    };
    let plain = Reference::new(&[], &[unit(1, ""), unit(2, "")], &[]);
    let message = plain.find_unit("Trạm Y tế", None).err().unwrap_or_default();
    assert!(message.contains("units/1") && message.contains("units/2"), "{message}");
    assert!(message.contains("administrator gives the units codes"), "{message}");
    let coded = Reference::new(&[], &[unit(1, "TYT-1"), unit(2, "tyt-2")], &[]);
    assert_eq!(coded.find_unit("TYT-2", None), Ok(1));
    assert!(coded.find_unit("Trạm Y tế", None).is_err_and(|m| m.ends_with("give the unit's code")));
}

#[test]
fn the_template_notes_row_and_empty_rows_are_skipped() {
    let mut notes = vec![""; 13];
    notes[1] = FULL_NAME_NOTE;
    let g = grid(vec![HEADER.to_vec(), notes, vec![], vec!["", "", "", ""]]);
    let parsed = parse_people(&g, &reference(), &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.rows, 0);
    assert!(parsed.problems.is_empty());
}

#[test]
fn column_letters_run_past_z() {
    assert_eq!(column_letter(0), "A");
    assert_eq!(column_letter(25), "Z");
    assert_eq!(column_letter(26), "AA");
    assert_eq!(column_letter(701), "ZZ");
    assert_eq!(column_letter(702), "AAA");
}
