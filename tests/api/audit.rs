//! The audit log of reads and refusals: every read of personal data and every refused
//! call leaves a record naming the caller and its network address; a flood of
//! refusals is bounded, and what had to be dropped is counted.

use std::time::Duration;

use hrplan::{
    auth::{Role, mint_hs256},
    grpc::pb,
};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

use crate::{
    clients::Caller,
    helpers::{SECRET, TestApp, code_of, date, spawn_app, spawn_app_with, unit},
};

/// One audit record, as the tests read it.
#[derive(Debug, Clone, PartialEq)]
struct Audited {
    kind: String,
    subject: String,
    peer: Option<String>,
    method: String,
    resource: String,
    detail: serde_json::Value,
}

async fn audit_log(app: &TestApp) -> Vec<Audited> {
    let sql = "SELECT kind, subject, peer, method, resource, detail FROM audit_log ORDER BY id";
    let rows =
        app.db.query_all_raw(Statement::from_string(app.db.get_database_backend(), sql)).await.expect("audit log");
    rows.iter()
        .map(|row| Audited {
            kind: row.try_get("", "kind").expect("kind"),
            subject: row.try_get("", "subject").expect("subject"),
            peer: row.try_get("", "peer").expect("peer"),
            method: row.try_get("", "method").expect("method"),
            resource: row.try_get("", "resource").expect("resource"),
            detail: serde_json::from_str(&row.try_get::<String>("", "detail").expect("detail")).expect("json"),
        })
        .collect()
}

/// The records of `kind` and `method`, waiting (up to 20 s) until there are at least
/// `at_least` of them: refusals are written in the background.
async fn records_of(app: &TestApp, kind: &str, method: &str, at_least: usize) -> Vec<Audited> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let found: Vec<Audited> =
            audit_log(app).await.into_iter().filter(|r| r.kind == kind && r.method == method).collect();
        if found.len() >= at_least || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A caller of the test server with its own subject.
fn named(subject: &str, localities: &[&str], roles: &[Role]) -> Caller {
    let localities: Vec<String> = localities.iter().map(|l| (*l).to_owned()).collect();
    Caller::with_token(Some(
        mint_hs256(SECRET, subject, &localities, roles, Duration::from_secs(600)).expect("minting a token"),
    ))
}

/// Whether `peer` is the loopback address the tests connect from, with a port.
fn is_test_peer(peer: Option<&str>) -> bool {
    peer.and_then(|p| p.parse::<std::net::SocketAddr>().ok()).is_some_and(|a| a.ip().is_loopback() && a.port() != 0)
}

/// A person placed in province 20 from 2025-07-01, created by `admin`.
async fn person_in_province_20(app: &TestApp) -> String {
    let office = unit(app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2025, 7, 1), None).await;
    let record = pb::PersonRecord {
        person: Some(pb::Person {
            full_name: "Lò Thị Kiểm".into(),
            birth_date: Some(date(1988, 4, 5)),
            gender: pb::Gender::Female.into(),
            ethnicity: "Thái".into(),
            category: pb::PersonCategory::CivilServant.into(),
            employed_from: Some(date(2015, 1, 1)),
            ..Default::default()
        }),
        placements: vec![pb::Placement {
            unit: office,
            post_title: "Công chức Văn phòng - Thống kê".into(),
            valid_from: Some(date(2025, 7, 1)),
            ..Default::default()
        }],
        qualifications: vec![],
        evaluations: vec![],
    };
    app.as_(named("admin-writer", &["*"], &[Role::Admin]))
        .people()
        .create_person(pb::CreatePersonRequest { record: Some(record), request_id: String::new() })
        .await
        .expect("create")
        .into_inner()
        .person
        .expect("person")
        .name
}

#[tokio::test]
async fn reads_of_personal_data_leave_audit_records_with_the_caller_and_peer_address() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let person = person_in_province_20(&app).await;
    let mut reader = app.as_(named("reader-20", &["20"], &[Role::PersonalDataReader])).people();

    // Act
    let got = reader.get_person(pb::GetPersonRequest { name: person.clone(), as_of: None }).await;
    let found = reader
        .search_people(pb::SearchPeopleRequest { locality: "localities/20".into(), ..Default::default() })
        .await
        .expect("search")
        .into_inner()
        .people;
    let placements = reader
        .list_placements(pb::ListPlacementsRequest { parent: person.clone(), ..Default::default() })
        .await
        .expect("placements")
        .into_inner()
        .placements;
    let mut export = reader
        .export_people(pb::ExportPeopleRequest { locality: "localities/20".into(), ..Default::default() })
        .await
        .expect("export")
        .into_inner();
    while export.message().await.expect("export stream").is_some() {}

    // Assert
    assert_eq!(got.expect("get").into_inner().person.expect("person").name, person);
    let get = records_of(&app, "read", "GetPerson", 1).await;
    assert_eq!(get.len(), 1, "{get:?}");
    assert_eq!((get[0].subject.as_str(), get[0].resource.as_str()), ("reader-20", person.as_str()));
    assert!(is_test_peer(get[0].peer.as_deref()), "{get:?}");
    let search = records_of(&app, "read", "SearchPeople", 1).await;
    assert_eq!(search.len(), 1, "{search:?}");
    assert_eq!(search[0].subject, "reader-20");
    assert_eq!(search[0].detail["count"], serde_json::json!(found.len()), "the count of people read");
    assert!(search[0].detail["query"].as_str().is_some_and(|q| q.contains("20")), "{search:?}");
    let listed = records_of(&app, "read", "ListPlacements", 1).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].resource, person);
    assert_eq!(listed[0].detail["count"], serde_json::json!(placements.len()));
    let exported = records_of(&app, "read", "ExportPeople", 1).await;
    assert_eq!(exported.len(), 1, "{exported:?}");
    assert!(is_test_peer(exported[0].peer.as_deref()), "{exported:?}");
    // Writes name their caller's address too.
    let created = records_of(&app, "write", "CreatePerson", 1).await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].subject, "admin-writer");
    assert!(is_test_peer(created[0].peer.as_deref()), "{created:?}");
}

#[tokio::test]
async fn refused_calls_leave_audit_records_with_the_method_caller_and_peer_address() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let person = person_in_province_20(&app).await;
    let mut anonymous = app.as_(Caller::with_token(None)).people();
    let mut aggregate = app.as_(named("aggregate-20", &["20"], &[Role::AggregateReader])).people();
    let mut elsewhere = app.as_(named("reader-11", &["11"], &[Role::PersonalDataReader])).people();

    // Act
    let no_token = anonymous.get_person(pb::GetPersonRequest { name: person.clone(), as_of: None }).await;
    let no_role = aggregate.get_person(pb::GetPersonRequest { name: person.clone(), as_of: None }).await;
    let out_of_scope = elsewhere.get_person(pb::GetPersonRequest { name: person.clone(), as_of: None }).await;

    // Assert
    assert_eq!(code_of(no_token), Code::Unauthenticated);
    assert_eq!(code_of(no_role), Code::PermissionDenied);
    assert_eq!(code_of(out_of_scope), Code::PermissionDenied);
    let refusals = records_of(&app, "refusal", "GetPerson", 3).await;
    let seen: Vec<(&str, &str)> =
        refusals.iter().map(|r| (r.subject.as_str(), r.detail["code"].as_str().unwrap_or_default())).collect();
    assert_eq!(
        seen,
        [("", "UNAUTHENTICATED"), ("aggregate-20", "PERMISSION_DENIED"), ("reader-11", "PERMISSION_DENIED")],
        "{refusals:?}"
    );
    assert!(refusals.iter().all(|r| is_test_peer(r.peer.as_deref())), "{refusals:?}");
    assert!(refusals.iter().all(|r| r.detail["path"] == "/hrplan.v1.PersonService/GetPerson"), "{refusals:?}");
    assert!(records_of(&app, "read", "GetPerson", 0).await.is_empty(), "no read was recorded for a refused call");
}

#[tokio::test]
async fn a_flood_of_refusals_is_recorded_or_counted_as_dropped_never_lost_silently() {
    // Arrange: a queue of two records, so that a burst overflows it.
    let app = spawn_app_with(|config| config.audit_refusal_queue = 2).await;
    const CALLS: usize = 300;

    // Act
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..CALLS {
        let mut anonymous = app.as_(Caller::with_token(None)).scales();
        calls.spawn(async move { code_of(anonymous.list_scales(pb::ListScalesRequest {}).await) });
    }
    let codes = calls.join_all().await;

    // Assert
    assert!(codes.iter().all(|c| *c == Code::Unauthenticated));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (recorded, dropped) = loop {
        let log = audit_log(&app).await;
        let recorded = log.iter().filter(|r| r.kind == "refusal" && r.method == "ListScales").count();
        let dropped: u64 =
            log.iter().filter(|r| r.method == "AuditDropped").filter_map(|r| r.detail["dropped"].as_u64()).sum();
        if recorded + usize::try_from(dropped).expect("small") >= CALLS || tokio::time::Instant::now() > deadline {
            break (recorded, dropped);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(recorded + usize::try_from(dropped).expect("small"), CALLS, "recorded {recorded}, dropped {dropped}");
    println!("{CALLS} refusals with a queue of 2: {recorded} recorded, {dropped} dropped and counted");
}
