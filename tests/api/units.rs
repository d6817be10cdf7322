//! UnitService: standard methods, idempotency, etags, the unit's period against its
//! locality's history and its placements, lists of a dated subtree, validation and
//! locality scope.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use hrplan::{
    auth::Role,
    grpc::pb::{self, UnitKind as UK},
    store::stmt,
};
use prost::Message as _;
use prost_types::FieldMask;
use sea_orm::{ConnectionTrait, Value};
use tonic::Code;

use crate::clients::{Caller, UnitClient};
use crate::helpers::{TestApp, code_of, date, fails_with, rejects, spawn_app};

/// An app holding the demo tree (Hà Nội 01, Điện Biên 11, Lạng Sơn 20; the district
/// tier ends on 2025-07-01) and a national admin's client.
async fn demo() -> (TestApp, UnitClient) {
    let app = spawn_app().await;
    app.load_demo().await;
    let client = app.as_admin().units();
    (app, client)
}

/// A health facility in `locality` over `[from, until)`.
fn unit(locality: &str, name: &str, from: pb::Date, until: Option<pb::Date>) -> pb::Unit {
    pb::Unit {
        display_name: name.to_owned(),
        locality: locality.to_owned(),
        sector: pb::Sector::Health.into(),
        kind: UK::HealthFacility.into(),
        valid_from: Some(from),
        valid_until: until,
        ..Default::default()
    }
}

fn create(unit: pb::Unit) -> pb::CreateUnitRequest {
    pb::CreateUnitRequest { unit: Some(unit), request_id: String::new() }
}

/// Creates a unit as a national admin and returns it.
async fn created(client: &mut UnitClient, unit: pb::Unit) -> pb::Unit {
    client.create_unit(create(unit)).await.expect("creating a unit").into_inner().unit.expect("unit")
}

/// Trạm Y tế xã Thanh Xương, in 03334 (a commune of district 100 until 2025-07-01, then
/// a ward of province 11), from 2020-01-01.
fn thanh_xuong_station() -> pb::Unit {
    unit("localities/03334", "Trạm Y tế xã Thanh Xương", date(2020, 1, 1), None)
}

fn get(name: &str) -> pb::GetUnitRequest {
    pb::GetUnitRequest { name: name.to_owned() }
}

fn update(unit: pb::Unit, paths: &[&str]) -> pb::UpdateUnitRequest {
    pb::UpdateUnitRequest {
        unit: Some(unit),
        update_mask: Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }),
    }
}

fn delete(name: &str, etag: &str) -> pb::DeleteUnitRequest {
    pb::DeleteUnitRequest { name: name.to_owned(), etag: etag.to_owned() }
}

fn list(locality: &str, as_of: pb::Date) -> pb::ListUnitsRequest {
    pb::ListUnitsRequest { locality: locality.to_owned(), as_of: Some(as_of), ..Default::default() }
}

/// The names of the units of a list, for a national admin.
async fn listed(client: &mut UnitClient, request: pb::ListUnitsRequest) -> Vec<String> {
    let answer = client.list_units(request).await.expect("list").into_inner();
    assert_eq!(answer.next_page_token, "", "one page expected");
    answer.units.into_iter().map(|u| u.display_name).collect()
}

/// Rows of the tables the unit service touches, as text, sorted.
async fn rows(app: &TestApp, tables: &[(&str, &[&str])]) -> Vec<String> {
    let backend = app.db.get_database_backend();
    let mut out = Vec::new();
    for (table, columns) in tables {
        let select: Vec<String> =
            columns.iter().enumerate().map(|(i, c)| format!("COALESCE(CAST({c} AS TEXT), 'NULL') AS c{i}")).collect();
        let sql = format!("SELECT {} FROM {table}", select.join(", "));
        for row in app.db.query_all_raw(stmt(backend, &sql, vec![])).await.expect("rows query") {
            let cells: Vec<String> =
                (0..columns.len()).map(|i| row.try_get::<String>("", &format!("c{i}")).expect("text cell")).collect();
            out.push(format!("{table}: {}", cells.join(" | ")));
        }
    }
    out.sort();
    out
}

fn unit_id(name: &str) -> i64 {
    name.strip_prefix("units/").and_then(|id| id.parse().ok()).expect("a unit name")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// Places a new person in `unit` over `[from, until)`, directly in the database.
async fn place(app: &TestApp, unit: &str, from: NaiveDate, until: Option<NaiveDate>) {
    let backend = app.db.get_database_backend();
    let now = chrono::Utc::now();
    let person = app
        .db
        .query_one_raw(stmt(
            backend,
            "INSERT INTO people (full_name, name_folded, birth_date, gender, ethnicity, category, employed_from, \
             revision, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
            vec![
                "Lò Văn Thử".into(),
                "lo van thu".into(),
                day(1985, 3, 2).into(),
                "male".into(),
                "thai".into(),
                "public_employee".into(),
                from.into(),
                now.into(),
                now.into(),
            ],
        ))
        .await
        .expect("inserting a person")
        .expect("a person id");
    let person: i64 = person.try_get("", "id").expect("id");
    let values: Vec<Value> = vec![
        person.into(),
        unit_id(unit).into(),
        "Trạm trưởng".into(),
        "tram truong".into(),
        true.into(),
        false.into(),
        from.into(),
        until.into(),
    ];
    app.db
        .execute_raw(stmt(
            backend,
            "INSERT INTO placements (person_id, unit_id, post_title, post_title_folded, is_leader, is_key_post, \
             valid_from, valid_until, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            values,
        ))
        .await
        .expect("inserting a placement");
}

/// The audit entries of `resource`, as method names.
async fn audited(app: &TestApp, resource: &str) -> Vec<String> {
    let rows = app
        .db
        .query_all_raw(stmt(
            app.db.get_database_backend(),
            "SELECT method FROM audit_log WHERE resource = ? ORDER BY id",
            vec![resource.into()],
        ))
        .await
        .expect("audit query");
    rows.iter().map(|r| r.try_get::<String>("", "method").expect("method")).collect()
}

// Create and read.

#[tokio::test]
async fn a_created_unit_can_be_read_back() {
    // Arrange
    let (app, mut client) = demo().await;
    let mut request = thanh_xuong_station();
    request.display_name = "  Trạm Y te\u{0302}\u{0301}  xã Thanh Xương ".to_owned();

    // Act
    let made = created(&mut client, request).await;
    let got = client.get_unit(get(&made.name)).await.expect("get").into_inner().unit.expect("unit");

    // Assert
    assert!(made.name.starts_with("units/"), "{}", made.name);
    assert_eq!(made.display_name, "Trạm Y tế xã Thanh Xương", "stored in NFC with spaces collapsed");
    assert_eq!(made.locality, "localities/03334");
    assert_eq!(made.sector(), pb::Sector::Health);
    assert_eq!(made.kind(), UK::HealthFacility);
    assert_eq!(made.valid_from, Some(date(2020, 1, 1)));
    assert_eq!(made.valid_until, None);
    assert_eq!(made.etag, "\"1\"");
    assert!(made.create_time.is_some() && made.update_time.is_some());
    assert_eq!(got, made);
    let stored = rows(&app, &[("units", &["name_folded"])]).await;
    assert_eq!(stored, vec!["units: tram y te xa thanh xuong".to_owned()]);
    assert_eq!(audited(&app, &made.name).await, ["CreateUnit"]);
}

#[tokio::test]
async fn a_retried_create_with_the_same_request_id_returns_the_first_unit() {
    // Arrange
    let (app, mut client) = demo().await;
    let request = pb::CreateUnitRequest { unit: Some(thanh_xuong_station()), request_id: "req-1".to_owned() };

    // Act
    let first = client.create_unit(request.clone()).await.expect("first").into_inner().unit.expect("unit");
    let retried = client.create_unit(request.clone()).await.expect("retry").into_inner().unit.expect("unit");

    // Assert
    assert_eq!(retried, first);
    assert_eq!(rows(&app, &[("units", &["id"])]).await.len(), 1, "the retry made no second unit");
    let mut other = request;
    other.unit = Some(unit("localities/03334", "Trường Tiểu học Thanh Xương", date(2020, 1, 1), None));
    rejects(&app, client.create_unit(other), "request_id").await;
}

#[tokio::test]
async fn unknown_units_are_not_found_for_a_national_caller() {
    let (app, mut client) = demo().await;
    fails_with(&app, client.get_unit(get("units/999")), Code::NotFound).await;
    let mut missing = thanh_xuong_station();
    missing.name = "units/999".to_owned();
    fails_with(&app, client.update_unit(update(missing, &["display_name"])), Code::NotFound).await;
    fails_with(&app, client.delete_unit(delete("units/999", "")), Code::NotFound).await;
    let absent = list("localities/99", date(2024, 1, 1));
    fails_with(&app, client.list_units(absent), Code::NotFound).await;
}

// The unit's period and its locality's history.

#[tokio::test]
async fn a_unit_in_a_commune_that_ends_must_end_with_it() {
    // Arrange: Phường Noong Bua (03124) exists from 2020-01-01 until 2025-07-01.
    let (app, mut client) = demo().await;

    // Act and assert
    let open = unit("localities/03124", "Trạm Y tế phường Noong Bua", date(2024, 1, 1), None);
    rejects(&app, client.create_unit(create(open)), "unit.valid_until").await;
    let early = unit("localities/03124", "Trạm Y tế phường Noong Bua", date(2019, 1, 1), Some(date(2025, 7, 1)));
    rejects(&app, client.create_unit(create(early)), "unit.valid_from").await;
    let after = unit("localities/03124", "Trạm Y tế phường Noong Bua", date(2025, 7, 1), None);
    rejects(&app, client.create_unit(create(after)), "unit.valid_from").await;
    let within = unit("localities/03124", "Trạm Y tế phường Noong Bua", date(2024, 1, 1), Some(date(2025, 7, 1)));
    created(&mut client, within).await;
}

#[tokio::test]
async fn a_unit_in_a_locality_that_does_not_exist_is_rejected() {
    let (app, mut client) = demo().await;
    let nowhere = unit("localities/99", "Trạm Y tế", date(2024, 1, 1), None);
    rejects(&app, client.create_unit(create(nowhere)), "unit.locality").await;
}

// Lists.

#[tokio::test]
async fn units_are_listed_by_the_subtree_of_their_locality_as_it_was_on_the_date() {
    // Arrange
    let (_app, mut client) = demo().await;
    let noong_bua = unit("localities/03124", "Trạm Y tế phường Noong Bua", date(2024, 1, 1), Some(date(2025, 7, 1)));
    created(&mut client, noong_bua).await;
    created(&mut client, thanh_xuong_station()).await;
    created(&mut client, unit("localities/11", "Sở Y tế tỉnh Điện Biên", date(2020, 1, 1), None)).await;
    created(&mut client, unit("localities/20", "Sở Y tế tỉnh Lạng Sơn", date(2020, 1, 1), None)).await;

    // Act and assert: before the reorganisation, 03124 lies under district 094 and
    // 03334 under district 100.
    let before = date(2024, 6, 1);
    assert_eq!(listed(&mut client, list("localities/094", before)).await, ["Trạm Y tế phường Noong Bua"]);
    assert_eq!(listed(&mut client, list("localities/100", before)).await, ["Trạm Y tế xã Thanh Xương"]);
    assert_eq!(
        listed(&mut client, list("localities/11", before)).await,
        ["Trạm Y tế phường Noong Bua", "Trạm Y tế xã Thanh Xương", "Sở Y tế tỉnh Điện Biên"]
    );
    assert_eq!(listed(&mut client, list("localities/03124", before)).await, ["Trạm Y tế phường Noong Bua"]);
    // Before the unit existed.
    assert_eq!(listed(&mut client, list("localities/094", date(2023, 12, 31))).await, Vec::<String>::new());

    // After it, the districts and Noong Bua have ended and 03334 hangs from the province.
    let after = date(2025, 7, 1);
    assert_eq!(listed(&mut client, list("localities/094", after)).await, Vec::<String>::new());
    assert_eq!(listed(&mut client, list("localities/100", after)).await, Vec::<String>::new());
    assert_eq!(
        listed(&mut client, list("localities/11", after)).await,
        ["Trạm Y tế xã Thanh Xương", "Sở Y tế tỉnh Điện Biên"]
    );
    assert_eq!(listed(&mut client, list("localities/20", after)).await, ["Sở Y tế tỉnh Lạng Sơn"]);
}

#[tokio::test]
async fn unit_lists_filter_on_sector_and_kind() {
    // Arrange
    let (app, mut client) = demo().await;
    created(&mut client, thanh_xuong_station()).await;
    let mut school = unit("localities/03334", "Trường Tiểu học Thanh Xương", date(2020, 1, 1), None);
    school.sector = pb::Sector::Education.into();
    school.kind = UK::School.into();
    created(&mut client, school).await;
    let filtered =
        |filter: &str| pb::ListUnitsRequest { filter: filter.to_owned(), ..list("localities/11", date(2024, 1, 1)) };

    // Act and assert
    assert_eq!(listed(&mut client, filtered("sector = HEALTH")).await, ["Trạm Y tế xã Thanh Xương"]);
    assert_eq!(listed(&mut client, filtered("kind = UNIT_KIND_SCHOOL")).await, ["Trường Tiểu học Thanh Xương"]);
    assert_eq!(listed(&mut client, filtered("kind != school")).await, ["Trạm Y tế xã Thanh Xương"]);
    assert_eq!(
        listed(&mut client, filtered("sector = EDUCATION AND kind = HEALTH_FACILITY")).await,
        Vec::<String>::new()
    );
    rejects(&app, client.list_units(filtered("sector = ARMY")), "filter").await;
    rejects(&app, client.list_units(filtered("tier = COMMUNE")), "filter").await;
}

#[tokio::test]
async fn a_unit_code_is_unique_without_regard_to_case_and_can_be_filtered_changed_and_removed() {
    // Arrange
    let (app, mut client) = demo().await;
    let station = created(&mut client, pb::Unit { code: "DB-TYT-03334".into(), ..thanh_xuong_station() }).await;
    let school =
        created(&mut client, unit("localities/03334", "Trường Tiểu học Thanh Xương", date(2020, 1, 1), None)).await;
    let filtered =
        |filter: &str| pb::ListUnitsRequest { filter: filter.to_owned(), ..list("localities/11", date(2024, 1, 1)) };

    // Act and assert: kept as written, found without regard to case
    assert_eq!(station.code, "DB-TYT-03334");
    assert_eq!(listed(&mut client, filtered(r#"code = "db-tyt-03334""#)).await, ["Trạm Y tế xã Thanh Xương"]);
    assert_eq!(listed(&mut client, filtered(r#"code != "DB-TYT-03334""#)).await, ["Trường Tiểu học Thanh Xương"]);
    let before = app.snapshot().await;
    let duplicate = client
        .create_unit(create(pb::Unit {
            code: "db-tyt-03334".into(),
            ..unit("localities/03334", "Trạm Y tế khác", date(2020, 1, 1), None)
        }))
        .await;
    assert_eq!(code_of(duplicate), Code::AlreadyExists);
    let taken = client.update_unit(update(pb::Unit { code: "Db-Tyt-03334".into(), ..school.clone() }, &["code"])).await;
    assert_eq!(code_of(taken), Code::AlreadyExists);
    rejects(
        &app,
        client.create_unit(create(pb::Unit { code: "TYT 03334".into(), ..thanh_xuong_station() })),
        "unit.code",
    )
    .await;
    assert_eq!(app.snapshot().await, before, "refused codes change nothing");

    // The unit's own code may change case, and an empty code removes it.
    let recased = client
        .update_unit(update(pb::Unit { code: "db-tyt-03334".into(), ..station.clone() }, &["code"]))
        .await
        .expect("recasing its own code")
        .into_inner()
        .unit
        .expect("unit");
    assert_eq!(recased.code, "db-tyt-03334");
    let removed = client
        .update_unit(update(pb::Unit { code: String::new(), ..recased }, &["code"]))
        .await
        .expect("removing the code")
        .into_inner()
        .unit
        .expect("unit");
    assert_eq!(removed.code, "");
    assert_eq!(listed(&mut client, filtered(r#"code = "DB-TYT-03334""#)).await, Vec::<String>::new());
    let reused = created(
        &mut client,
        pb::Unit {
            code: "DB-TYT-03334".into(), ..unit("localities/03334", "Trạm Y tế mới", date(2020, 1, 1), None)
        },
    )
    .await;
    assert_eq!(reused.code, "DB-TYT-03334", "a removed code is free again");
}

#[tokio::test]
async fn unit_lists_page_by_id_with_tokens_bound_to_their_parameters() {
    // Arrange
    let (app, mut client) = demo().await;
    let mut names = Vec::new();
    for n in 1..=3 {
        let made = created(&mut client, unit("localities/11", &format!("Đơn vị {n}"), date(2020, 1, 1), None)).await;
        names.push(made.name);
    }
    let paged = |token: &str| pb::ListUnitsRequest {
        page_size: 2,
        page_token: token.to_owned(),
        ..list("localities/11", date(2024, 1, 1))
    };

    // Act
    let first = client.list_units(paged("")).await.expect("first page").into_inner();
    let second = client.list_units(paged(&first.next_page_token)).await.expect("second page").into_inner();

    // Assert
    let got: Vec<String> = first.units.iter().chain(second.units.iter()).map(|u| u.name.clone()).collect();
    assert_eq!(got, names);
    assert_eq!(first.units.len(), 2);
    assert!(!first.next_page_token.is_empty());
    assert_eq!(second.next_page_token, "");
    let elsewhere = pb::ListUnitsRequest { locality: "localities/094".to_owned(), ..paged(&first.next_page_token) };
    rejects(&app, client.list_units(elsewhere), "page_token").await;
    rejects(&app, client.list_units(paged("not-a-token")), "page_token").await;
    let negative = pb::ListUnitsRequest { page_size: -1, ..paged("") };
    rejects(&app, client.list_units(negative), "page_size").await;
}

// Update.

#[tokio::test]
async fn a_unit_is_updated_through_its_mask() {
    // Arrange
    let (app, mut client) = demo().await;
    let made = created(&mut client, thanh_xuong_station()).await;
    let change = pb::Unit {
        name: made.name.clone(),
        display_name: "Trạm Y tế phường Mường Thanh".to_owned(),
        sector: pb::Sector::Other.into(),
        kind: UK::School.into(),
        valid_until: Some(date(2030, 1, 1)),
        etag: made.etag.clone(),
        ..Default::default()
    };

    // Act
    let updated = client
        .update_unit(update(change, &["display_name", "sector", "valid_until"]))
        .await
        .expect("update")
        .into_inner()
        .unit
        .expect("unit");

    // Assert
    assert_eq!(updated.display_name, "Trạm Y tế phường Mường Thanh");
    assert_eq!(updated.sector(), pb::Sector::Other);
    assert_eq!(updated.kind(), UK::HealthFacility, "the kind is not in the mask");
    assert_eq!(updated.valid_from, Some(date(2020, 1, 1)));
    assert_eq!(updated.valid_until, Some(date(2030, 1, 1)));
    assert_eq!(updated.locality, made.locality);
    assert_ne!(updated.etag, made.etag);
    assert_eq!(client.get_unit(get(&made.name)).await.expect("get").into_inner().unit, Some(updated));
    let stored = rows(&app, &[("units", &["name_folded"])]).await;
    assert_eq!(stored, vec!["units: tram y te phuong muong thanh".to_owned()]);
    assert_eq!(audited(&app, &made.name).await, ["CreateUnit", "UpdateUnit"]);
}

#[tokio::test]
async fn a_stale_etag_aborts_an_update_or_a_delete() {
    // Arrange
    let (app, mut client) = demo().await;
    let made = created(&mut client, thanh_xuong_station()).await;
    let renamed = |name: &str| pb::Unit {
        name: made.name.clone(),
        display_name: name.to_owned(),
        etag: made.etag.clone(),
        ..Default::default()
    };
    client.update_unit(update(renamed("Trạm Y tế Thanh Xương"), &["display_name"])).await.expect("a fresh etag");

    // Act and assert
    fails_with(&app, client.update_unit(update(renamed("Trạm Y tế cũ"), &["display_name"])), Code::Aborted).await;
    fails_with(&app, client.delete_unit(delete(&made.name, &made.etag)), Code::Aborted).await;
}

#[tokio::test]
async fn an_update_that_leaves_a_placement_outside_the_unit_is_a_failed_precondition() {
    // Arrange
    let (app, mut client) = demo().await;
    let made = created(&mut client, thanh_xuong_station()).await;
    place(&app, &made.name, day(2021, 1, 1), Some(day(2024, 1, 1))).await;
    let period = |from: Option<pb::Date>, until: Option<pb::Date>| pb::Unit {
        name: made.name.clone(),
        valid_from: from,
        valid_until: until,
        ..Default::default()
    };

    // Act and assert
    fails_with(
        &app,
        client.update_unit(update(period(None, Some(date(2023, 1, 1))), &["valid_until"])),
        Code::FailedPrecondition,
    )
    .await;
    fails_with(
        &app,
        client.update_unit(update(period(Some(date(2022, 1, 1)), None), &["valid_from"])),
        Code::FailedPrecondition,
    )
    .await;
    // A period that still covers the placement is accepted.
    let kept = period(Some(date(2021, 1, 1)), Some(date(2024, 1, 1)));
    client.update_unit(update(kept, &["valid_from", "valid_until"])).await.expect("a period covering the placement");
}

#[tokio::test]
async fn an_update_beyond_the_history_of_the_locality_is_a_failed_precondition() {
    // Arrange: Phường Noong Bua (03124) ends on 2025-07-01.
    let (app, mut client) = demo().await;
    let made = created(
        &mut client,
        unit("localities/03124", "Trạm Y tế phường Noong Bua", date(2024, 1, 1), Some(date(2025, 7, 1))),
    )
    .await;
    let reopened = pb::Unit { name: made.name.clone(), valid_until: None, ..Default::default() };
    let earlier = pb::Unit { name: made.name.clone(), valid_from: Some(date(2019, 6, 1)), ..Default::default() };

    // Act and assert
    fails_with(&app, client.update_unit(update(reopened, &["valid_until"])), Code::FailedPrecondition).await;
    fails_with(&app, client.update_unit(update(earlier, &["valid_from"])), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn an_update_must_leave_the_unit_ending_after_it_starts() {
    let (app, mut client) = demo().await;
    let made = created(&mut client, thanh_xuong_station()).await;
    let ends_first = pb::Unit { name: made.name.clone(), valid_until: Some(date(2019, 1, 1)), ..Default::default() };
    rejects(&app, client.update_unit(update(ends_first, &["valid_until"])), "unit.valid_until").await;
    let both = pb::Unit {
        name: made.name.clone(),
        valid_from: Some(date(2024, 1, 1)),
        valid_until: Some(date(2024, 1, 1)),
        ..Default::default()
    };
    rejects(&app, client.update_unit(update(both, &["valid_from", "valid_until"])), "unit.valid_until").await;
}

#[tokio::test]
async fn an_update_with_a_bad_mask_name_or_value_is_rejected() {
    // Arrange
    let (app, mut client) = demo().await;
    let made = created(&mut client, thanh_xuong_station()).await;
    let named = pb::Unit { name: made.name.clone(), ..Default::default() };

    // Act and assert
    let no_mask = pb::UpdateUnitRequest { unit: Some(named.clone()), update_mask: None };
    rejects(&app, client.update_unit(no_mask), "update_mask").await;
    let moved = pb::Unit { locality: "localities/20".to_owned(), ..named.clone() };
    rejects(&app, client.update_unit(update(moved, &["locality"])), "update_mask").await;
    rejects(&app, client.update_unit(update(named.clone(), &["display_name"])), "unit.display_name").await;
    rejects(&app, client.update_unit(update(named.clone(), &["sector"])), "unit.sector").await;
    rejects(&app, client.update_unit(update(named.clone(), &["kind"])), "unit.kind").await;
    rejects(&app, client.update_unit(update(named, &["valid_from"])), "unit.valid_from").await;
    let badly_named =
        pb::Unit { name: "units/abc".to_owned(), display_name: "Trạm".to_owned(), ..Default::default() };
    rejects(&app, client.update_unit(update(badly_named, &["display_name"])), "unit.name").await;
    let without = pb::UpdateUnitRequest { unit: None, update_mask: Some(FieldMask { paths: vec!["kind".into()] }) };
    rejects(&app, client.update_unit(without), "unit").await;
}

// Delete.

#[tokio::test]
async fn a_deleted_unit_is_gone_and_audited() {
    // Arrange
    let (app, mut client) = demo().await;
    let made = created(&mut client, thanh_xuong_station()).await;

    // Act
    client.delete_unit(delete(&made.name, &made.etag)).await.expect("delete");

    // Assert
    assert_eq!(code_of(client.get_unit(get(&made.name)).await), Code::NotFound);
    assert!(rows(&app, &[("units", &["id"])]).await.is_empty());
    assert_eq!(audited(&app, &made.name).await, ["CreateUnit", "DeleteUnit"]);
}

#[tokio::test]
async fn deleting_a_unit_with_a_placement_is_a_failed_precondition() {
    let (app, mut client) = demo().await;
    let made = created(&mut client, thanh_xuong_station()).await;
    place(&app, &made.name, day(2021, 1, 1), None).await;
    fails_with(&app, client.delete_unit(delete(&made.name, "")), Code::FailedPrecondition).await;
}

// Validation of create, get, list and delete.

#[tokio::test]
async fn a_unit_without_its_required_fields_is_rejected_with_every_field_named() {
    // Arrange
    let (app, mut client) = demo().await;

    // Act
    let violations = rejects(&app, client.create_unit(create(pb::Unit::default())), "unit.display_name").await;

    // Assert
    let fields: BTreeSet<&str> = violations.iter().map(|(f, _)| f.as_str()).collect();
    let expected = ["unit.display_name", "unit.locality", "unit.sector", "unit.kind", "unit.valid_from"];
    assert_eq!(fields, expected.into_iter().collect());
    rejects(&app, client.create_unit(pb::CreateUnitRequest::default()), "unit").await;
}

#[tokio::test]
async fn each_bad_field_of_a_new_unit_is_named() {
    let (app, mut client) = demo().await;
    let base = thanh_xuong_station;

    let blank = pb::Unit { display_name: " \t ".to_owned(), ..base() };
    rejects(&app, client.create_unit(create(blank)), "unit.display_name").await;
    let long = pb::Unit { display_name: "ư".repeat(301), ..base() };
    rejects(&app, client.create_unit(create(long)), "unit.display_name").await;
    let malformed = pb::Unit { locality: "provinces/11".to_owned(), ..base() };
    rejects(&app, client.create_unit(create(malformed)), "unit.locality").await;
    let bad_code = pb::Unit { locality: "localities/1234".to_owned(), ..base() };
    rejects(&app, client.create_unit(create(bad_code)), "unit.locality").await;
    let no_sector = pb::Unit { sector: 0, ..base() };
    rejects(&app, client.create_unit(create(no_sector)), "unit.sector").await;
    let unknown_sector = pb::Unit { sector: 42, ..base() };
    rejects(&app, client.create_unit(create(unknown_sector)), "unit.sector").await;
    let unknown_kind = pb::Unit { kind: 42, ..base() };
    rejects(&app, client.create_unit(create(unknown_kind)), "unit.kind").await;
    let impossible = pb::Unit { valid_from: Some(date(2025, 2, 29)), ..base() };
    rejects(&app, client.create_unit(create(impossible)), "unit.valid_from").await;
    let backwards = pb::Unit { valid_until: Some(date(2020, 1, 1)), ..base() };
    rejects(&app, client.create_unit(create(backwards)), "unit.valid_until").await;
    let impossible_end = pb::Unit { valid_until: Some(date(2030, 13, 1)), ..base() };
    rejects(&app, client.create_unit(create(impossible_end)), "unit.valid_until").await;
    let request_id = pb::CreateUnitRequest { unit: Some(base()), request_id: "x".repeat(129) };
    rejects(&app, client.create_unit(request_id), "request_id").await;
}

#[tokio::test]
async fn a_malformed_unit_name_or_list_request_is_rejected() {
    let (app, mut client) = demo().await;
    for name in ["", "units/0", "units/abc", "people/1", "units/1/x"] {
        rejects(&app, client.get_unit(get(name)), "name").await;
        rejects(&app, client.delete_unit(delete(name, "")), "name").await;
    }
    rejects(&app, client.list_units(pb::ListUnitsRequest::default()), "locality").await;
    let bad_date = list("localities/11", date(2024, 2, 30));
    rejects(&app, client.list_units(bad_date), "as_of").await;
}

// Authorisation.

/// The methods of `hrplan.v1.UnitService`, from the descriptor set served by reflection.
fn unit_service_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(hrplan::grpc::FILE_DESCRIPTOR_SET).expect("a descriptor set");
    set.file
        .iter()
        .filter(|file| file.package() == "hrplan.v1")
        .flat_map(|file| file.service.iter())
        .filter(|service| service.name() == "UnitService")
        .flat_map(|service| service.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

#[tokio::test]
async fn every_unit_rpc_aimed_at_another_province_is_refused_to_a_caller_scoped_to_one_province() {
    // Arrange: units of Điện Biên (11), and a caller scoped to Lạng Sơn (20).
    let (app, mut client) = demo().await;
    let station = created(&mut client, thanh_xuong_station()).await;
    let department =
        created(&mut client, unit("localities/11", "Sở Y tế tỉnh Điện Biên", date(2020, 1, 1), None)).await;
    let mut scoped = app.as_(Caller::of(&["20"], &[Role::Editor])).units();
    let mut methods = BTreeSet::new();

    for target in [&station, &department] {
        let name = target.name.clone();
        let renamed = pb::Unit { name: name.clone(), display_name: "Đổi tên".to_owned(), ..Default::default() };
        let mut status = Vec::new();

        // Act
        let new = unit(&target.locality, "Trạm mới", date(2024, 1, 1), None);
        status.push(("CreateUnit", fails_with(&app, scoped.create_unit(create(new)), Code::PermissionDenied).await));
        status.push(("GetUnit", fails_with(&app, scoped.get_unit(get(&name)), Code::PermissionDenied).await));
        let listing = list(&target.locality, date(2024, 1, 1));
        status.push(("ListUnits", fails_with(&app, scoped.list_units(listing), Code::PermissionDenied).await));
        let change = update(renamed, &["display_name"]);
        status.push(("UpdateUnit", fails_with(&app, scoped.update_unit(change), Code::PermissionDenied).await));
        let removal = delete(&name, &target.etag);
        status.push(("DeleteUnit", fails_with(&app, scoped.delete_unit(removal), Code::PermissionDenied).await));

        // Assert
        for (method, status) in status {
            assert!(!status.message().contains("Sở Y tế"), "{method} told a name: {status:?}");
            methods.insert(method.to_owned());
        }
    }
    assert_eq!(methods, unit_service_methods(), "every UnitService RPC needs an out-of-scope call here");
}

#[tokio::test]
async fn a_scoped_caller_is_refused_units_and_localities_that_do_not_exist_rather_than_told_they_are_missing() {
    let (app, _client) = demo().await;
    let mut scoped = app.as_(Caller::of(&["20"], &[Role::Editor])).units();
    fails_with(&app, scoped.get_unit(get("units/999")), Code::PermissionDenied).await;
    let missing = pb::Unit { name: "units/999".to_owned(), display_name: "Trạm".to_owned(), ..Default::default() };
    fails_with(&app, scoped.update_unit(update(missing, &["display_name"])), Code::PermissionDenied).await;
    fails_with(&app, scoped.delete_unit(delete("units/999", "")), Code::PermissionDenied).await;
    fails_with(&app, scoped.list_units(list("localities/99", date(2024, 1, 1))), Code::PermissionDenied).await;
    let nowhere = unit("localities/99", "Trạm", date(2024, 1, 1), None);
    fails_with(&app, scoped.create_unit(create(nowhere)), Code::PermissionDenied).await;
}

#[tokio::test]
async fn a_scoped_caller_works_on_the_units_of_its_own_province_and_sees_only_them() {
    // Arrange
    let (app, mut client) = demo().await;
    created(&mut client, thanh_xuong_station()).await;
    let mut scoped = app.as_(Caller::of(&["20"], &[Role::Editor])).units();

    // Act
    let own = unit("localities/06463", "Trạm Y tế xã Chi Lăng", date(2020, 1, 1), None);
    let made = scoped.create_unit(create(own)).await.expect("create in scope").into_inner().unit.expect("unit");
    let renamed =
        pb::Unit { name: made.name.clone(), display_name: "Trạm Y tế Chi Lăng".to_owned(), ..Default::default() };
    scoped.update_unit(update(renamed, &["display_name"])).await.expect("update in scope");

    // Assert
    assert_eq!(listed(&mut scoped, list("localities/20", date(2024, 1, 1))).await, ["Trạm Y tế Chi Lăng"]);
    assert_eq!(listed(&mut scoped, list("localities/20", date(2025, 8, 1))).await, ["Trạm Y tế Chi Lăng"]);
    scoped.delete_unit(delete(&made.name, "")).await.expect("delete in scope");
}

#[tokio::test]
async fn a_reader_reads_units_but_cannot_change_them_and_no_token_is_unauthenticated() {
    // Arrange
    let (app, mut client) = demo().await;
    let made = created(&mut client, thanh_xuong_station()).await;
    let mut reader = app.as_(Caller::of(&["11"], &[Role::AggregateReader])).units();
    let mut anonymous = app.as_(Caller::with_token(None)).units();

    // Act and assert
    reader.get_unit(get(&made.name)).await.expect("a reader reads");
    assert_eq!(listed(&mut reader, list("localities/11", date(2024, 1, 1))).await.len(), 1);
    fails_with(&app, reader.create_unit(create(thanh_xuong_station())), Code::PermissionDenied).await;
    fails_with(&app, reader.delete_unit(delete(&made.name, "")), Code::PermissionDenied).await;
    fails_with(&app, anonymous.get_unit(get(&made.name)), Code::Unauthenticated).await;
    fails_with(&app, anonymous.create_unit(create(thanh_xuong_station())), Code::Unauthenticated).await;
}
