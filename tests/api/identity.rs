//! Stable identities: the personal identification number and the staff code on
//! people, who may see and search by them, LookupPerson, and ImportPeople's upsert
//! mode keyed on the number.

use chrono::{Datelike, NaiveDate};
use hrplan::{
    auth::Role,
    domain::date::today,
    grpc::pb::{self},
    people::rules::{identity::PersonalId, person::Gender},
    store::stmt,
};
use prost_types::FieldMask;
use sea_orm::ConnectionTrait;
use tonic::{Code, Status};

use crate::clients::{Caller, PersonClient};
use crate::helpers::{TestApp, code_of, committee_unit, date, field_violations, spawn_app};

/// A national editor who may read personal data (what an upsert needs).
fn importer(app: &TestApp) -> PersonClient {
    app.as_(Caller::of(&["*"], &[Role::Editor, Role::PersonalDataReader])).people()
}

/// The demo tree with an open people's committee unit in Lạng Sơn (20) and one in
/// Điện Biên (11): (Lạng Sơn unit, Điện Biên unit).
async fn setup(app: &TestApp) -> (String, String) {
    app.load_demo().await;
    let lang_son = committee_unit(app, "localities/20", "Ủy ban nhân dân tỉnh Lạng Sơn", None).await.name;
    let dien_bien = committee_unit(app, "localities/11", "Ủy ban nhân dân tỉnh Điện Biên", None).await.name;
    (lang_son, dien_bien)
}

fn naive(d: &pb::Date) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32).expect("a real date")
}

/// A valid number for a person, made with the public helper.
fn number_for(person: &pb::Person, serial: u32) -> String {
    let gender = if person.gender == pb::Gender::Male as i32 { Gender::Male } else { Gender::Female };
    PersonalId::synthetic(20, naive(person.birth_date.as_ref().expect("born")), gender, serial)
        .expect("a synthetic number")
        .as_str()
        .to_owned()
}

fn person(i: u32) -> pb::Person {
    let mut p = pb::Person {
        full_name: format!("Hoàng Văn Định {i}"),
        birth_date: Some(date(1965 + (i % 30) as i32, 1 + (i % 12) as i32, 1 + (i % 28) as i32)),
        gender: if i.is_multiple_of(2) { pb::Gender::Female } else { pb::Gender::Male }.into(),
        ethnicity: if i.is_multiple_of(3) { "Tày" } else { "Kinh" }.into(),
        category: pb::PersonCategory::CivilServant.into(),
        employed_from: Some(date(2015, 1, 1)),
        staff_code: format!("LS-{i:04}"),
        ..Default::default()
    };
    p.personal_id = number_for(&p, i);
    p
}

fn placement(unit: &str, from: pb::Date, until: Option<pb::Date>) -> pb::Placement {
    pb::Placement {
        unit: unit.into(),
        post_title: "Chuyên viên".into(),
        valid_from: Some(from),
        valid_until: until,
        ..Default::default()
    }
}

fn qualification(level: &str, awarded_on: pb::Date) -> pb::Qualification {
    pb::Qualification {
        level: format!("scales/professional/levels/{level}"),
        field_of_study: "Luật".into(),
        awarded_on: Some(awarded_on),
        ..Default::default()
    }
}

/// Person `i` with a placement in `unit` from 2020, a university degree and a 2024
/// rating.
fn record(unit: &str, i: u32) -> pb::PersonRecord {
    pb::PersonRecord {
        person: Some(person(i)),
        placements: vec![placement(unit, date(2020, 1, 1), None)],
        qualifications: vec![qualification("university", date(2010, 6, 30))],
        evaluations: vec![pb::Evaluation { year: 2024, rating: pb::Rating::Good.into(), ..Default::default() }],
    }
}

fn upsert(records: Vec<pb::PersonRecord>) -> Vec<pb::ImportPeopleRequest> {
    stream(records, pb::ImportMode::Upsert, false)
}

fn stream(records: Vec<pb::PersonRecord>, mode: pb::ImportMode, validate_only: bool) -> Vec<pb::ImportPeopleRequest> {
    records
        .into_iter()
        .enumerate()
        .map(|(i, record)| pb::ImportPeopleRequest {
            record: Some(record),
            // The first message carries the mode; later ones may leave it out.
            mode: if i == 0 { mode.into() } else { pb::ImportMode::Unspecified.into() },
            validate_only: i == 0 && validate_only,
        })
        .collect()
}

async fn import(client: &mut PersonClient, requests: Vec<pb::ImportPeopleRequest>) -> pb::ImportPeopleResponse {
    client.import_people(tokio_stream::iter(requests)).await.expect("import").into_inner()
}

async fn create(client: &mut PersonClient, record: pb::PersonRecord) -> Result<pb::Person, Status> {
    client
        .create_person(pb::CreatePersonRequest { record: Some(record), request_id: String::new() })
        .await
        .map(|r| r.into_inner().person.expect("person"))
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let row =
        app.db.query_one_raw(stmt(app.db.get_database_backend(), sql, vec![])).await.expect("count").expect("row");
    row.try_get::<i64>("", "n").expect("n")
}

async fn people_with_number(app: &TestApp, number: &str) -> i64 {
    count(app, &format!("SELECT COUNT(*) AS n FROM people WHERE personal_id = '{number}'")).await
}

fn violation_fields(status: &Status) -> Vec<String> {
    field_violations(status).into_iter().map(|(field, _)| field).collect()
}

// ---- validation -----------------------------------------------------------------------

#[tokio::test]
async fn personal_ids_are_checked_digit_by_digit_against_the_birth_date_and_gender() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let mut client = app.as_admin().people();
    let before = app.snapshot().await;
    // Person 1 is a man born 1966-02-02: a valid number is 020066000001.
    let cases = [
        ("02006600001", "must have 12 digits; it has 11"),
        ("02006600000a", "must contain only the digits 0 to 9"),
        ("097066000001", "097, which is not a province code"),
        ("000066000001", "000, which is not a province code"),
        ("020166000001", "the 4th digit, 1, is for a woman born in the 1900s, but gender is male"),
        ("020266000001", "the 4th digit, 2, is for a man born in the 2000s, but birth_date is in 1966"),
        ("020067000001", "the 5th and 6th digits, 67, are the last two digits of the year of birth"),
    ];
    for (number, expected) in cases {
        let mut r = record(&unit, 1);
        r.person.as_mut().expect("person").personal_id = number.into();
        let status = create(&mut client, r).await.expect_err(number);
        assert_eq!(status.code(), Code::InvalidArgument, "{number}: {status:?}");
        let violations = field_violations(&status);
        assert!(
            violations.iter().any(|(f, d)| f == "record.person.personal_id" && d.contains(expected)),
            "{number}: {violations:?}"
        );
    }
    for (code, expected) in [("LS 0001", "contains ` `"), (&*"X".repeat(33), "longer than 32"), ("LS-đ", "`đ`")] {
        let mut r = record(&unit, 1);
        r.person.as_mut().expect("person").staff_code = code.into();
        let status = create(&mut client, r).await.expect_err(code);
        let violations = field_violations(&status);
        assert!(
            violations.iter().any(|(f, d)| f == "record.person.staff_code" && d.contains(expected)),
            "{code}: {violations:?}"
        );
    }
    assert_eq!(app.snapshot().await, before, "refused creates change nothing");

    let mut valid = record(&unit, 1);
    valid.person.as_mut().expect("person").personal_id = "020066000001".into();
    valid.person.as_mut().expect("person").staff_code = "  ls-0001 ".into();
    let created = create(&mut client, valid).await.expect("a valid number");
    assert_eq!((created.personal_id.as_str(), created.staff_code.as_str()), ("020066000001", "ls-0001"));
}

#[tokio::test]
async fn people_without_identifiers_stay_valid_and_read_back_blank() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let mut r = record(&unit, 2);
    let p = r.person.as_mut().expect("person");
    p.personal_id.clear();
    p.staff_code.clear();
    let created = create(&mut app.as_admin().people(), r).await.expect("create");
    assert_eq!((created.personal_id.as_str(), created.staff_code.as_str()), ("", ""));
    let mut second = record(&unit, 3);
    second.person.as_mut().expect("person").personal_id.clear();
    second.person.as_mut().expect("person").staff_code.clear();
    create(&mut app.as_admin().people(), second).await.expect("two people without identifiers");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM people WHERE personal_id IS NULL").await, 2);
}

// ---- visibility -----------------------------------------------------------------------

#[tokio::test]
async fn identifiers_appear_only_for_callers_with_the_personal_data_role() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let expected = person(4);

    // An editor without the personal-data role records them but is not shown them.
    let mut editor = app.as_(Caller::of(&["20"], &[Role::Editor])).people();
    let created = create(&mut editor, record(&unit, 4)).await.expect("create");
    assert_eq!((created.personal_id.as_str(), created.staff_code.as_str()), ("", ""));
    let updated = editor
        .update_person(pb::UpdatePersonRequest {
            person: Some(pb::Person {
                name: created.name.clone(),
                full_name: "Hoàng Văn Định".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask { paths: vec!["full_name".into()] }),
        })
        .await
        .expect("update")
        .into_inner()
        .person
        .expect("person");
    assert_eq!((updated.personal_id.as_str(), updated.staff_code.as_str()), ("", ""));

    let mut reader = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).people();
    let got = reader
        .get_person(pb::GetPersonRequest { name: created.name.clone(), as_of: None })
        .await
        .expect("get")
        .into_inner()
        .person
        .expect("person");
    assert_eq!(got.personal_id, expected.personal_id, "an update of another field keeps the number");
    assert_eq!(got.staff_code, expected.staff_code);
    let exported: Vec<pb::ExportPeopleResponse> = {
        let mut stream = reader
            .export_people(pb::ExportPeopleRequest { locality: "localities/20".into(), ..Default::default() })
            .await
            .expect("export")
            .into_inner();
        let mut all = Vec::new();
        while let Some(message) = stream.message().await.expect("export message") {
            all.push(message);
        }
        all
    };
    let person = exported[0].record.as_ref().and_then(|r| r.person.as_ref()).expect("person");
    assert_eq!(person.personal_id, expected.personal_id);

    // Filtering and looking up by identifier need the role too.
    let mut aggregate = app.as_(Caller::of(&["20"], &[Role::AggregateReader, Role::Editor])).people();
    let filter = format!("personal_id = \"{}\"", expected.personal_id);
    let search = aggregate.search_people(pb::SearchPeopleRequest { filter, ..Default::default() }).await;
    assert_eq!(code_of(search), Code::PermissionDenied);
    let lookup = aggregate
        .lookup_person(pb::LookupPersonRequest {
            identifier: Some(pb::lookup_person_request::Identifier::PersonalId(expected.personal_id.clone())),
            as_of: None,
        })
        .await;
    assert_eq!(code_of(lookup), Code::PermissionDenied);
}

// ---- uniqueness -----------------------------------------------------------------------

#[tokio::test]
async fn a_taken_number_or_staff_code_is_already_exists_naming_the_field_and_not_the_holder() {
    let app = spawn_app().await;
    let (lang_son, dien_bien) = setup(&app).await;
    let mut national = app.as_admin().people();
    let first = create(&mut national, record(&dien_bien, 5)).await.expect("first");
    let before = app.snapshot().await;

    // Another person (here of Lạng Sơn, created by an editor who cannot see Điện Biên)
    // with the same number.
    let mut editor = app.as_(Caller::of(&["20"], &[Role::Editor])).people();
    let mut same_number = record(&lang_son, 6);
    same_number.person.as_mut().expect("person").personal_id = person(5).personal_id;
    same_number.person.as_mut().expect("person").birth_date = person(5).birth_date;
    same_number.person.as_mut().expect("person").gender = person(5).gender;
    let status = create(&mut editor, same_number).await.expect_err("taken number");
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert!(status.message().contains("record.person.personal_id"), "{}", status.message());
    assert!(!status.message().contains(&first.name) && !status.message().contains("people/"), "{}", status.message());

    let mut same_code = record(&lang_son, 6);
    same_code.person.as_mut().expect("person").staff_code = "ls-0005".into();
    let status = create(&mut editor, same_code).await.expect_err("taken staff code, in another case");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(status.message().contains("record.person.staff_code"), "{}", status.message());
    assert_eq!(app.snapshot().await, before, "refused creates change nothing");

    // An update to a taken identifier.
    let second = create(&mut editor, record(&lang_son, 6)).await.expect("second");
    let status = editor
        .update_person(pb::UpdatePersonRequest {
            person: Some(pb::Person { name: second.name.clone(), staff_code: "LS-0005".into(), ..Default::default() }),
            update_mask: Some(FieldMask { paths: vec!["staff_code".into()] }),
        })
        .await
        .expect_err("taken staff code");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(status.message().contains("person.staff_code"), "{}", status.message());
}

#[tokio::test]
async fn identifiers_are_set_and_cleared_through_the_update_mask() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let mut client = app.as_admin().people();
    let mut bare = record(&unit, 7);
    bare.person.as_mut().expect("person").personal_id.clear();
    let created = create(&mut client, bare).await.expect("create");
    assert_eq!(created.personal_id, "");

    let number = person(7).personal_id;
    let update = |person: pb::Person, paths: &[&str]| pb::UpdatePersonRequest {
        person: Some(person),
        update_mask: Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }),
    };
    let set = client
        .update_person(update(
            pb::Person { name: created.name.clone(), personal_id: number.clone(), ..Default::default() },
            &["personal_id"],
        ))
        .await
        .expect("set")
        .into_inner()
        .person
        .expect("person");
    assert_eq!((set.personal_id.as_str(), set.staff_code.as_str()), (number.as_str(), "LS-0007"));

    // A new birth date must agree with the recorded number.
    let status = client
        .update_person(update(
            pb::Person { name: created.name.clone(), birth_date: Some(date(1975, 1, 1)), ..Default::default() },
            &["birth_date"],
        ))
        .await
        .expect_err("disagreeing birth date");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violation_fields(&status), ["person.personal_id"]);
    // An editor who may not read the number is told that it disagrees, not its digits.
    let status = app
        .as_(Caller::of(&["20"], &[Role::Editor]))
        .people()
        .update_person(update(
            pb::Person { name: created.name.clone(), birth_date: Some(date(1975, 1, 1)), ..Default::default() },
            &["birth_date"],
        ))
        .await
        .expect_err("disagreeing birth date");
    let violations = field_violations(&status);
    assert_eq!(violations.len(), 1);
    assert!(!violations[0].1.contains("digit"), "{violations:?}");

    let cleared = client
        .update_person(update(pb::Person { name: created.name.clone(), ..Default::default() }, &["staff_code"]))
        .await
        .expect("clear")
        .into_inner()
        .person
        .expect("person");
    assert_eq!((cleared.personal_id.as_str(), cleared.staff_code.as_str()), (number.as_str(), ""));
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM people WHERE staff_code IS NULL AND staff_code_key IS NULL").await,
        1
    );
    // The cleared code is free for someone else.
    let mut other = record(&unit, 8);
    other.person.as_mut().expect("person").staff_code = "LS-0007".into();
    create(&mut client, other).await.expect("the freed staff code");
}

#[tokio::test]
async fn concurrent_creates_with_the_same_number_make_exactly_one_person() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let calls = (0..6).map(|i| {
        let mut client = app.as_admin().people();
        let mut r = record(&unit, 9);
        r.person.as_mut().expect("person").staff_code = format!("CONCURRENT-{i}");
        async move { create(&mut client, r).await }
    });
    let results = futures_join_all(calls).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(created, 1, "{results:?}");
    for result in &results {
        if let Err(status) = result {
            assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
        }
    }
    assert_eq!(people_with_number(&app, &person(9).personal_id).await, 1);
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("task"));
    }
    outputs
}

// ---- search and lookup ----------------------------------------------------------------

#[tokio::test]
async fn search_filters_match_one_identifier_exactly() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let mut client = app.as_admin().people();
    let mut names = Vec::new();
    for i in 10..13 {
        names.push(create(&mut client, record(&unit, i)).await.expect("create").name);
    }
    let mut reader = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).people();
    let mut search = async |filter: &str| {
        reader.search_people(pb::SearchPeopleRequest { filter: filter.into(), ..Default::default() }).await
    };
    let by_number = search(&format!("personal_id = \"{}\"", person(11).personal_id)).await.expect("search");
    let found: Vec<_> = by_number.into_inner().people.into_iter().map(|p| (p.name, p.personal_id)).collect();
    assert_eq!(found, [(names[1].clone(), person(11).personal_id)]);
    let by_code = search("staff_code = \"ls-0012\" AND status = ACTIVE").await.expect("search");
    assert_eq!(by_code.into_inner().people.into_iter().map(|p| p.name).collect::<Vec<_>>(), [names[2].clone()]);
    let nobody = search("personal_id = \"020099999999\"").await.expect("search");
    assert!(nobody.into_inner().people.is_empty());

    for bad in ["personal_id = \"12345\"", "personal_id != \"020066000001\"", "staff_code = \"a b\""] {
        let status = search(bad).await.expect_err(bad);
        assert_eq!(status.code(), Code::InvalidArgument, "{bad}");
        assert_eq!(violation_fields(&status), ["filter"], "{bad}");
    }
}

fn by_number(number: &str) -> pb::LookupPersonRequest {
    pb::LookupPersonRequest {
        identifier: Some(pb::lookup_person_request::Identifier::PersonalId(number.into())),
        as_of: None,
    }
}

fn by_code(code: &str) -> pb::LookupPersonRequest {
    pb::LookupPersonRequest {
        identifier: Some(pb::lookup_person_request::Identifier::StaffCode(code.into())),
        as_of: None,
    }
}

#[tokio::test]
async fn lookup_finds_a_person_by_either_identifier() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let created = create(&mut app.as_admin().people(), record(&unit, 14)).await.expect("create");
    let mut reader = app.as_(Caller::of(&["*"], &[Role::PersonalDataReader])).people();

    let found = reader.lookup_person(by_number(&person(14).personal_id)).await.expect("by number").into_inner();
    let found = found.person.expect("person");
    assert_eq!((found.name.as_str(), found.staff_code.as_str()), (created.name.as_str(), "LS-0014"));
    assert_eq!(found.placement.map(|p| p.unit), Some(unit.clone()));
    let found = reader.lookup_person(by_code("ls-0014")).await.expect("by code").into_inner().person.expect("person");
    assert_eq!(found.name, created.name);

    assert_eq!(code_of(reader.lookup_person(by_number("020099000001")).await), Code::NotFound);
    assert_eq!(code_of(reader.lookup_person(by_code("NOBODY")).await), Code::NotFound);
    let status = reader.lookup_person(by_number("2")).await.expect_err("malformed");
    assert_eq!(violation_fields(&status), ["personal_id"]);
    let status = reader.lookup_person(pb::LookupPersonRequest::default()).await.expect_err("no identifier");
    assert_eq!(violation_fields(&status), ["identifier"]);
}

#[tokio::test]
async fn a_scoped_caller_cannot_tell_a_person_elsewhere_from_nobody() {
    let app = spawn_app().await;
    let (lang_son, dien_bien) = setup(&app).await;
    let mut national = app.as_admin().people();
    let here = create(&mut national, record(&lang_son, 15)).await.expect("create");
    create(&mut national, record(&dien_bien, 16)).await.expect("create");
    let mut reader = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).people();

    let found = reader.lookup_person(by_number(&person(15).personal_id)).await.expect("in scope").into_inner();
    assert_eq!(found.person.map(|p| p.name), Some(here.name));
    let elsewhere = reader.lookup_person(by_number(&person(16).personal_id)).await.expect_err("elsewhere");
    let nobody = reader.lookup_person(by_number("020099000001")).await.expect_err("nobody");
    assert_eq!((elsewhere.code(), nobody.code()), (Code::PermissionDenied, Code::PermissionDenied));
    assert_eq!(elsewhere.message(), nobody.message(), "the two answers must not differ");
    let elsewhere = reader.lookup_person(by_code("LS-0016")).await.expect_err("elsewhere");
    let nobody = reader.lookup_person(by_code("LS-9999")).await.expect_err("nobody");
    assert_eq!(elsewhere.message(), nobody.message());
    assert_eq!(elsewhere.code(), Code::PermissionDenied);
}

// ---- upsert ---------------------------------------------------------------------------

#[tokio::test]
async fn importing_the_same_50_records_again_in_upsert_mode_changes_nothing() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let mut client = importer(&app);
    let records: Vec<_> = (0..50).map(|i| record(&unit, i)).collect();

    let first = import(&mut client, upsert(records.clone())).await;
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    assert_eq!((first.created_count, first.updated_count, first.unchanged_count), (50, 0, 0));
    assert_eq!((first.received_count, first.imported_count, first.people.len()), (50, 50, 50));
    let before = app.snapshot().await;

    let again = import(&mut client, upsert(records)).await;
    assert!(again.rejected.is_empty(), "{:?}", again.rejected);
    assert_eq!((again.created_count, again.updated_count, again.unchanged_count), (0, 0, 50));
    assert_eq!(again.imported_count, 50);
    assert_eq!(again.people, first.people, "each record names the person it matched, in stream order");
    let after = app.snapshot().await;
    let changed: Vec<_> = after.iter().filter(|r| !before.contains(r) && !r.starts_with("audit_log")).collect();
    assert!(changed.is_empty(), "the second import changed {changed:#?}");
    let removed: Vec<_> = before.iter().filter(|r| !after.contains(r)).collect();
    assert!(removed.is_empty(), "the second import removed {removed:#?}");
    assert_eq!(after.len(), before.len() + 1, "one audit record of the import, nothing else");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM people").await, 50);
}

async fn professional_master_count(app: &TestApp) -> i64 {
    let total = app
        .as_admin()
        .reports()
        .get_workforce_profile(pb::GetWorkforceProfileRequest {
            scope: Some(pb::ReportScope {
                locality: "localities/20".into(),
                as_of: Some(date(today().year(), today().month() as i32, today().day() as i32)),
                ..Default::default()
            }),
        })
        .await
        .expect("profile")
        .into_inner()
        .total
        .expect("total");
    let professional = &total.distributions.iter().find(|d| d.dimension == "scales/professional").expect("scale").cells;
    professional.iter().find(|c| c.key == "scales/professional/levels/master").expect("master").count
}

#[tokio::test]
async fn an_upsert_updates_ratings_placements_and_qualifications_without_duplicating_them() {
    let app = spawn_app().await;
    let (unit, other_unit) = setup(&app).await;
    let mut client = importer(&app);
    let records: Vec<_> = (0..10).map(|i| record(&unit, i)).collect();
    let first = import(&mut client, upsert(records.clone())).await;
    assert_eq!(first.created_count, 10, "{:?}", first.rejected);
    assert_eq!(professional_master_count(&app).await, 0);

    let mut changed = records;
    // 0: a better rating for 2024 and a new one for 2025.
    changed[0].evaluations = vec![
        pb::Evaluation { year: 2024, rating: pb::Rating::Excellent.into(), ..Default::default() },
        pb::Evaluation { year: 2025, rating: pb::Rating::Good.into(), ..Default::default() },
    ];
    // 1: a master's degree besides the university one.
    changed[1].qualifications.push(qualification("master", date(2021, 6, 30)));
    // 2: moved to another unit on 2025-07-01: the open placement closes that day.
    changed[2].placements = vec![placement(&other_unit, date(2025, 7, 1), None)];
    // 3: the university degree's award date corrected, its field left empty (kept).
    changed[3].qualifications[0].awarded_on = Some(date(2010, 7, 15));
    changed[3].qualifications[0].field_of_study.clear();
    // 4: a new name.
    changed[4].person.as_mut().expect("person").full_name = "Hoàng Văn Định Mới".into();
    let second = import(&mut client, upsert(changed.clone())).await;
    assert!(second.rejected.is_empty(), "{:?}", second.rejected);
    assert_eq!((second.created_count, second.updated_count, second.unchanged_count), (0, 5, 5));
    assert_eq!(second.people, first.people);

    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM people").await, 10);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM placements").await, 11);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM qualifications").await, 11);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM evaluations").await, 11);
    let id = |i: usize| first.people[i].trim_start_matches("people/").to_owned();
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) AS n FROM evaluations WHERE person_id = {} AND year = 2024 AND rating = 'excellent'",
                id(0)
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM placements WHERE person_id = {} AND valid_until = '2025-07-01'", id(2))
        )
        .await,
        1,
        "the earlier open placement is closed the day the new one begins"
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM placements WHERE person_id = {} AND valid_until IS NULL", id(2))
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) AS n FROM qualifications WHERE person_id = {} AND awarded_on = '2010-07-15' AND field_of_study = 'Luật'", id(3))).await,
        1
    );
    // The person facts of the touched people were rebuilt with the write: the report
    // counts the new master's degree.
    assert_eq!(professional_master_count(&app).await, 1);
    app.assert_facts_in_step().await;

    // And the changed records again change nothing more.
    let third = import(&mut client, upsert(changed)).await;
    assert_eq!((third.created_count, third.updated_count, third.unchanged_count), (0, 0, 10));
}

#[tokio::test]
async fn an_upsert_placement_overlapping_a_closed_one_is_rejected_and_nothing_is_written() {
    let app = spawn_app().await;
    let (unit, other_unit) = setup(&app).await;
    let mut client = importer(&app);
    let mut first = record(&unit, 20);
    first.placements[0].valid_until = Some(date(2024, 1, 1));
    import(&mut client, upsert(vec![first, record(&unit, 21)])).await;
    let before = app.snapshot().await;

    let mut overlapping = record(&unit, 20);
    overlapping.placements = vec![placement(&other_unit, date(2023, 6, 1), None)];
    let answer = import(&mut client, upsert(vec![record(&unit, 21), overlapping])).await;
    assert_eq!(answer.imported_count, 0);
    assert_eq!(answer.rejected.len(), 1);
    assert_eq!(answer.rejected[0].index, 1);
    assert_eq!(answer.rejected[0].violations[0].field, "placements[0].valid_from");
    assert!(answer.rejected[0].violations[0].description.contains("overlaps people/"), "{:?}", answer.rejected);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn an_upsert_matching_a_person_outside_the_callers_scope_is_rejected_without_saying_who() {
    let app = spawn_app().await;
    let (lang_son, dien_bien) = setup(&app).await;
    import(&mut importer(&app), upsert(vec![record(&dien_bien, 22)])).await;
    let before = app.snapshot().await;

    // A Lạng Sơn office imports a sheet that lists the Điện Biên person's number.
    let mut lang_son_office = app.as_(Caller::of(&["20"], &[Role::Editor, Role::PersonalDataReader])).people();
    let answer = import(&mut lang_son_office, upsert(vec![record(&lang_son, 22), record(&lang_son, 23)])).await;
    assert_eq!(answer.imported_count, 0);
    assert_eq!(answer.rejected.len(), 1, "{:?}", answer.rejected);
    let violation = &answer.rejected[0].violations[0];
    assert_eq!((answer.rejected[0].index, violation.field.as_str()), (0, "person.personal_id"));
    assert!(violation.description.contains("outside the caller's locality scope"), "{violation:?}");
    assert!(!violation.description.contains("people/") && !violation.description.contains("Định"), "{violation:?}");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn records_sharing_a_number_or_a_staff_code_in_one_stream_are_all_rejected() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let mut client = importer(&app);
    let mut same_code = record(&unit, 26);
    same_code.person.as_mut().expect("person").staff_code = "ls-0024".into();
    let records = vec![record(&unit, 24), record(&unit, 25), record(&unit, 24), same_code];
    for mode in [pb::ImportMode::Create, pb::ImportMode::Upsert] {
        let answer = import(&mut client, stream(records.clone(), mode, false)).await;
        let rejected: Vec<_> = answer.rejected.iter().map(|r| r.index).collect();
        assert_eq!(rejected, [0, 2, 3], "{mode:?}: {:?}", answer.rejected);
        assert_eq!(answer.rejected[0].violations.len(), 2, "number and staff code: {:?}", answer.rejected[0]);
        assert!(answer.rejected[1].violations[0].description.contains("record 0"), "{:?}", answer.rejected[1]);
    }
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM people").await, 0);
}

#[tokio::test]
async fn in_create_mode_a_recorded_number_is_a_rejected_record() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let mut client = importer(&app);
    import(&mut client, stream(vec![record(&unit, 27)], pb::ImportMode::Create, false)).await;
    let answer =
        import(&mut client, stream(vec![record(&unit, 28), record(&unit, 27)], pb::ImportMode::Create, false)).await;
    assert_eq!(answer.imported_count, 0);
    let fields: Vec<_> =
        answer.rejected.iter().flat_map(|r| r.violations.iter().map(|v| (r.index, v.field.clone()))).collect();
    assert_eq!(fields, [(1, "person.personal_id".to_owned()), (1, "person.staff_code".to_owned())]);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM people").await, 1);
}

#[tokio::test]
async fn one_bad_record_in_an_upsert_writes_nothing() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let mut client = importer(&app);
    let records: Vec<_> = (30..40).map(|i| record(&unit, i)).collect();
    import(&mut client, upsert(records.clone())).await;
    let before = app.snapshot().await;

    let mut changed: Vec<_> = records.into_iter().chain((40..45).map(|i| record(&unit, i))).collect();
    changed[0].evaluations[0].rating = pb::Rating::Excellent.into();
    changed[12].qualifications[0].level = "scales/professional/levels/wizard".into();
    let answer = import(&mut client, upsert(changed)).await;
    assert_eq!(answer.rejected.iter().map(|r| r.index).collect::<Vec<_>>(), [12]);
    assert_eq!((answer.imported_count, answer.created_count, answer.updated_count), (0, 0, 0));
    assert!(answer.people.is_empty());
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn validate_only_reports_what_an_upsert_would_do_and_writes_nothing() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let mut client = importer(&app);
    import(&mut client, upsert((50..55).map(|i| record(&unit, i)).collect())).await;
    let before = app.snapshot().await;

    let mut records: Vec<_> = (50..58).map(|i| record(&unit, i)).collect();
    records[1].evaluations[0].rating = pb::Rating::Completed.into();
    let answer = import(&mut client, stream(records, pb::ImportMode::Upsert, true)).await;
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    assert_eq!((answer.created_count, answer.updated_count, answer.unchanged_count), (3, 1, 4));
    assert_eq!((answer.received_count, answer.imported_count), (8, 0));
    assert!(answer.people.is_empty());
    assert_eq!(app.snapshot().await, before);

    // validate_only checks the database too: a number recorded elsewhere in create mode.
    let answer = import(&mut client, stream(vec![record(&unit, 50)], pb::ImportMode::Create, true)).await;
    assert_eq!(answer.rejected.len(), 1);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn upsert_needs_the_personal_data_role_and_one_mode_per_stream() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let mut editor = app.as_(Caller::of(&["*"], &[Role::Editor])).people();
    let status = editor.import_people(tokio_stream::iter(upsert(vec![record(&unit, 60)]))).await.expect_err("role");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("personal_data_reader"), "{}", status.message());

    let mut requests = upsert(vec![record(&unit, 61), record(&unit, 62)]);
    requests[1].mode = pb::ImportMode::Create.into();
    let status = importer(&app).import_people(tokio_stream::iter(requests)).await.expect_err("two modes");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violation_fields(&status), ["mode"]);
    let mut requests = upsert(vec![record(&unit, 61), record(&unit, 62)]);
    requests[1].validate_only = true;
    let status = importer(&app).import_people(tokio_stream::iter(requests)).await.expect_err("late validate_only");
    assert_eq!(violation_fields(&status), ["validate_only"]);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM people").await, 0);
}

#[tokio::test]
async fn concurrent_upserts_of_the_same_new_number_create_one_person() {
    let app = spawn_app().await;
    let (unit, _) = setup(&app).await;
    let calls = (0..4).map(|_| {
        let mut client = importer(&app);
        let requests = upsert(vec![record(&unit, 70), record(&unit, 71)]);
        async move { client.import_people(tokio_stream::iter(requests)).await.map(|r| r.into_inner()) }
    });
    let answers = futures_join_all(calls).await;
    let mut created = 0;
    for answer in &answers {
        let answer = answer.as_ref().expect("every import succeeds: the losers find the person created");
        assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
        created += answer.created_count;
    }
    assert_eq!(created, 2, "{answers:?}");
    assert_eq!(people_with_number(&app, &person(70).personal_id).await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM people").await, 2);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM placements").await, 2);
    app.assert_facts_in_step().await;
}
