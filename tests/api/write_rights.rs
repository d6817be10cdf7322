//! What writes answer, and to whom, on SQLite and PostgreSQL: a replayed create is
//! judged by the caller's rights now, a request identifier belongs to its caller, a
//! write answers only what the caller may read, concurrent retries of one request all
//! get its first result, and many concurrent writers all get their turn.

use std::time::Duration;

use hrplan::{
    auth::Role,
    grpc::pb::{self},
    sql::{self, raw_sql},
};
use prost_types::FieldMask;
use sea_orm::{DbBackend, SqliteTransactionMode, TransactionOptions, TransactionTrait};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::Code;

use crate::clients::{Caller, PersonClient};
use crate::helpers::{SECRET, TestApp, date, spawn_app, spawn_app_with, unit};
use crate::rotations::person_at;

/// A caller scoped to `localities` with `roles`, whose token names `subject` (request
/// identifiers belong to a subject).
fn subject(subject: &str, localities: &[&str], roles: &[Role]) -> Caller {
    let localities: Vec<String> = localities.iter().map(|s| (*s).to_owned()).collect();
    let token = hrplan::auth::mint_hs256(SECRET, subject, &localities, roles, Duration::from_secs(600))
        .expect("minting a token");
    Caller::with_token(Some(token))
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() })
}

/// The demo tree with a unit in province 11 and one in province 20: (app, unit of 11,
/// unit of 20).
async fn two_provinces() -> (TestApp, String, String) {
    let app = spawn_app().await;
    app.load_demo().await;
    let eleven = unit(&app, "localities/11", "Sở Nội vụ tỉnh 11", date(2020, 1, 1), None).await;
    let twenty = unit(&app, "localities/20", "Sở Nội vụ tỉnh Lạng Sơn", date(2020, 1, 1), None).await;
    (app, eleven, twenty)
}

/// A request creating `full_name`, born 1985-03-14, placed at `unit` from 2020.
fn create_person(full_name: &str, unit: &str, request_id: &str) -> pb::CreatePersonRequest {
    pb::CreatePersonRequest {
        record: Some(pb::PersonRecord {
            person: Some(pb::Person {
                full_name: full_name.into(),
                birth_date: Some(date(1985, 3, 14)),
                gender: pb::Gender::Female.into(),
                ethnicity: "Tày".into(),
                category: pb::PersonCategory::CivilServant.into(),
                employed_from: Some(date(2015, 1, 1)),
                ..Default::default()
            }),
            placements: vec![pb::Placement {
                unit: unit.into(),
                post_title: "Chuyên viên".into(),
                valid_from: Some(date(2020, 1, 1)),
                ..Default::default()
            }],
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}

async fn created(client: &mut PersonClient, request: pb::CreatePersonRequest) -> pb::Person {
    client.create_person(request).await.expect("creating a person").into_inner().person.expect("a person")
}

/// How many people are called `full_name`, read from the database.
async fn people_called(app: &TestApp, full_name: &str) -> i64 {
    sql::count(&app.db, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM people WHERE full_name = {full_name}"))
        .await
        .map_err(|e| e.to_string())
        .expect("counting people")
}

/// The person's one placement.
async fn only_placement(app: &TestApp, person: &str) -> pb::Placement {
    let list = app
        .as_admin()
        .people()
        .list_placements(pb::ListPlacementsRequest { parent: person.into(), page_size: 10, ..Default::default() })
        .await
        .expect("listing placements")
        .into_inner()
        .placements;
    assert_eq!(list.len(), 1, "{list:?}");
    list.into_iter().next().expect("a placement")
}

/// Whether a person as a write answered it shows nothing about them: only its name,
/// etag and the dates of the record.
fn shows_only_name_and_etag(person: &pb::Person) -> bool {
    let pb::Person { name, etag, .. } = person;
    let bare = pb::Person {
        name: name.clone(),
        etag: etag.clone(),
        as_of: person.as_of,
        create_time: person.create_time,
        update_time: person.update_time,
        ..Default::default()
    };
    !name.is_empty() && !etag.is_empty() && *person == bare
}

#[tokio::test]
async fn a_replayed_create_person_is_refused_once_the_person_moved_out_of_the_callers_scope() {
    // Arrange: an editor of province 11 without the personal-data role creates a person.
    let (app, eleven, twenty) = two_provinces().await;
    let mut editor = app.as_(Caller::editor_of(&["11"])).people();
    let request = create_person("Hoàng Thị Mai", &eleven, "0b5e-create-then-move");
    let first = created(&mut editor, request.clone()).await;
    let replayed_in_scope = created(&mut editor, request.clone()).await;
    // The person moves to province 20.
    let placement = only_placement(&app, &first.name).await;
    app.as_admin()
        .people()
        .update_placement(pb::UpdatePlacementRequest {
            placement: Some(pb::Placement { unit: twenty.clone(), ..placement }),
            update_mask: mask(&["unit"]),
        })
        .await
        .expect("moving the person to province 20");
    let before = app.snapshot().await;

    // Act
    let replayed = editor.create_person(request.clone()).await;
    // The same subject with the personal-data role is refused too: scope, not role.
    let mut with_role = app.as_(Caller::of(&["11"], &[Role::Editor, Role::PersonalDataReader])).people();
    let replayed_with_role = with_role.create_person(request).await;

    // Assert
    assert_eq!(replayed_in_scope.name, first.name, "a replay in scope answers the first result");
    assert!(shows_only_name_and_etag(&replayed_in_scope), "{replayed_in_scope:?}");
    for answer in [replayed, replayed_with_role] {
        let status = answer.expect_err("the person is outside the caller's scope now");
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
        assert!(!status.message().contains("1985"), "{status:?}");
    }
    assert_eq!(app.snapshot().await, before, "a refused replay writes nothing");
    assert_eq!(people_called(&app, "Hoàng Thị Mai").await, 1);
}

#[tokio::test]
async fn another_caller_reusing_a_request_id_gets_a_request_of_its_own_and_learns_nothing() {
    // Arrange
    let (app, eleven, _) = two_provinces().await;
    let roles = [Role::Editor, Role::PersonalDataReader];
    let mut alice = app.as_(subject("alice", &["11"], &roles)).people();
    let mut bob = app.as_(subject("bob", &["11"], &roles)).people();
    let mut carol = app.as_(subject("carol", &["11"], &roles)).people();
    let alices = create_person("Lò Văn An", &eleven, "shared-request-id");
    let first = created(&mut alice, alices.clone()).await;

    // Act: Bob reuses the identifier with another body, Carol with Alice's very body.
    let bobs = created(&mut bob, create_person("Vi Thị Bình", &eleven, "shared-request-id")).await;
    let carols = created(&mut carol, alices.clone()).await;
    let alice_again = created(&mut alice, alices).await;

    // Assert: neither is refused nor answered Alice's person; each made its own.
    assert_ne!(bobs.name, first.name);
    assert_eq!(bobs.full_name, "Vi Thị Bình");
    assert_ne!(carols.name, first.name);
    assert_eq!(alice_again.name, first.name, "Alice's retry still replays her request");
    assert_eq!(people_called(&app, "Lò Văn An").await, 2);
    assert_eq!(people_called(&app, "Vi Thị Bình").await, 1);
}

#[tokio::test]
async fn an_editor_without_the_personal_data_role_gets_only_names_and_etags_from_person_writes() {
    // Arrange
    let (app, eleven, _) = two_provinces().await;
    let mut editor = app.as_(Caller::editor_of(&["11"])).people();
    let mut reader = app.as_(Caller::of(&["11"], &[Role::Editor, Role::PersonalDataReader])).people();

    // Act: a create, a no-op update of the person and of their placement, and one
    // record of each kind.
    let person = created(&mut editor, create_person("Nông Văn Hải", &eleven, "")).await;
    let unchanged = pb::Person {
        name: person.name.clone(),
        etag: person.etag.clone(),
        full_name: "Nông Văn Hải".into(),
        ..Default::default()
    };
    let updated = editor
        .update_person(pb::UpdatePersonRequest { person: Some(unchanged), update_mask: mask(&["full_name"]) })
        .await;
    let placement = only_placement(&app, &person.name).await;
    let placed = editor
        .update_placement(pb::UpdatePlacementRequest { placement: Some(placement), update_mask: mask(&["post_title"]) })
        .await
        .expect("a no-op placement update")
        .into_inner()
        .placement
        .expect("a placement");
    let qualification = editor
        .create_qualification(pb::CreateQualificationRequest {
            parent: person.name.clone(),
            qualification: Some(pb::Qualification {
                level: "scales/professional/levels/master".into(),
                field_of_study: "Quản lý công".into(),
                institution: "Học viện Hành chính Quốc gia".into(),
                awarded_on: Some(date(2019, 6, 30)),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("a qualification")
        .into_inner()
        .qualification
        .expect("a qualification");
    let evaluation = editor
        .create_evaluation(pb::CreateEvaluationRequest {
            parent: person.name.clone(),
            evaluation: Some(pb::Evaluation { year: 2023, rating: pb::Rating::Excellent.into(), ..Default::default() }),
            ..Default::default()
        })
        .await
        .expect("an evaluation")
        .into_inner()
        .evaluation
        .expect("an evaluation");
    let discipline = editor
        .create_discipline(pb::CreateDisciplineRequest {
            parent: person.name.clone(),
            discipline: Some(pb::Discipline {
                sanction: pb::Sanction::Reprimand.into(),
                decided_on: Some(date(2023, 4, 12)),
                decision_number: "125/QĐ-UBND".into(),
                reason: "Vi phạm quy chế làm việc".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("a discipline")
        .into_inner()
        .discipline
        .expect("a discipline");
    let seen_by_reader = created(&mut reader, create_person("Nông Văn Hải", &eleven, "")).await;

    // Assert
    assert!(shows_only_name_and_etag(&person), "{person:?}");
    let updated = updated.expect("the etag of a trimmed answer is usable").into_inner().person.expect("a person");
    assert!(shows_only_name_and_etag(&updated), "{updated:?}");
    assert_eq!(placed, pb::Placement { name: placed.name.clone(), etag: placed.etag.clone(), ..Default::default() });
    assert!(!placed.name.is_empty() && !placed.etag.is_empty());
    assert_eq!(
        qualification,
        pb::Qualification { name: qualification.name.clone(), etag: qualification.etag.clone(), ..Default::default() }
    );
    assert_eq!(
        evaluation,
        pb::Evaluation { name: evaluation.name.clone(), etag: evaluation.etag.clone(), ..Default::default() }
    );
    assert_eq!(
        discipline,
        pb::Discipline { name: discipline.name.clone(), etag: discipline.etag.clone(), ..Default::default() }
    );
    assert!(!qualification.name.is_empty() && !evaluation.name.is_empty() && !discipline.name.is_empty());
    // A caller with the personal-data role gets the whole person.
    assert_eq!(seen_by_reader.full_name, "Nông Văn Hải");
    assert_eq!(seen_by_reader.birth_date, Some(date(1985, 3, 14)));
    assert_eq!(seen_by_reader.placement.map(|p| p.unit), Some(eleven));
}

#[tokio::test]
async fn an_editor_without_the_personal_data_role_gets_no_person_from_movement_and_pool_writes() {
    // Arrange: a person at the provincial department of Lạng Sơn (20), and a commune
    // office there.
    let (app, _, department) = two_provinces().await;
    let commune = unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", date(2020, 1, 1), None).await;
    let person = person_at(&app, "Hoàng Văn Nam", &department, None).await;
    let editor = app.as_(Caller::editor_of(&["20"]));
    let reader = app.as_(Caller::of(&["20"], &[Role::Editor, Role::PersonalDataReader]));
    let movement = pb::Rotation {
        person: person.clone(),
        kind: pb::RotationKind::Secondment.into(),
        source_unit: department.clone(),
        source_post: "Chuyên viên".into(),
        destination_unit: commune.clone(),
        destination_post: "Phó Chủ tịch".into(),
        start_date: Some(date(2024, 1, 1)),
        planned_end_date: Some(date(2026, 1, 1)),
        decision: Some(pb::RotationDecision {
            number: "215-QĐ/TU".into(),
            decided_on: Some(date(2023, 12, 1)),
            issuing_body: "Ban Thường vụ Tỉnh ủy Lạng Sơn".into(),
        }),
        ..Default::default()
    };
    let pool = pb::SuccessionPool {
        term_start_year: 2025,
        term_end_year: 2030,
        unit: commune.clone(),
        post_title: "Chủ tịch Ủy ban nhân dân xã".into(),
        leader_post: true,
        min_candidates: 0,
        max_candidates: 3,
        ..Default::default()
    };
    let candidate = |pool: &str| pb::AddCandidateRequest {
        succession_pool: pool.into(),
        candidate: Some(pb::Candidate {
            person: person.clone(),
            added_on: Some(date(2025, 6, 1)),
            added_reason: "Nghị quyết quy hoạch".into(),
            ..Default::default()
        }),
    };

    // Act
    let rotation = editor
        .rotations()
        .create_rotation(pb::CreateRotationRequest { rotation: Some(movement), request_id: String::new() })
        .await
        .expect("creating a movement")
        .into_inner()
        .rotation
        .expect("a movement");
    let seen_rotation = reader
        .rotations()
        .get_rotation(pb::GetRotationRequest { name: rotation.name.clone() })
        .await
        .expect("reading the movement")
        .into_inner()
        .rotation
        .expect("a movement");
    let mut pools = editor.pools();
    let created_pool = pools
        .create_succession_pool(pb::CreateSuccessionPoolRequest {
            succession_pool: Some(pool.clone()),
            request_id: String::new(),
        })
        .await
        .expect("creating a pool")
        .into_inner()
        .succession_pool
        .expect("a pool");
    let added = pools.add_candidate(candidate(&created_pool.name)).await.expect("adding a candidate").into_inner();
    let readers_pool = reader
        .pools()
        .create_succession_pool(pb::CreateSuccessionPoolRequest {
            succession_pool: Some(pool),
            request_id: String::new(),
        })
        .await
        .expect("creating a pool")
        .into_inner()
        .succession_pool
        .expect("a pool");
    let added_by_reader =
        reader.pools().add_candidate(candidate(&readers_pool.name)).await.expect("adding a candidate").into_inner();

    // Assert
    assert_eq!(
        rotation,
        pb::Rotation {
            name: rotation.name.clone(),
            etag: rotation.etag.clone(),
            create_time: rotation.create_time,
            update_time: rotation.update_time,
            ..Default::default()
        }
    );
    assert_eq!((seen_rotation.person.as_str(), seen_rotation.etag.as_str()), (person.as_str(), rotation.etag.as_str()));
    let added = added.succession_pool.expect("a pool");
    assert_eq!(added.name, created_pool.name);
    assert!(added.candidates.is_empty(), "{added:?}");
    assert_eq!(added.post_title, "Chủ tịch Ủy ban nhân dân xã", "the pool's own settings are not personal");
    let added_by_reader = added_by_reader.succession_pool.expect("a pool");
    assert_eq!(added_by_reader.candidates.iter().map(|c| c.person.as_str()).collect::<Vec<_>>(), [person.as_str()]);
}

/// Concurrent calls of one test (within the server's default concurrency budget of
/// 256, so that none waits for a slot rather than for its write turn).
const CONCURRENT: usize = 200;

/// A server whose request timeout leaves a loaded machine ample time for the queue.
async fn patient_app() -> TestApp {
    let app = spawn_app_with(|config| config.request_timeout = Duration::from_secs(120)).await;
    app.load_demo().await;
    app
}

/// How long a writer outside the server holds SQLite's write lock in the load tests:
/// longer than a pooled connection is waited for and than SQLite's default busy
/// timeout (5 s each), well under the busy timeout the server sets (10 s).
const OUTSIDE_WRITE: Duration = Duration::from_secs(6);

/// On SQLite, a writer outside the server (a second process, a long import) holding
/// the database's write lock for [`OUTSIDE_WRITE`] from now on, so that the server's
/// writers pile up behind it; nothing on PostgreSQL. Await the handle at the end.
async fn outside_writer(app: &TestApp) -> Option<JoinHandle<()>> {
    if app.db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let db = app.db.clone();
    let (locked, is_locked) = oneshot::channel();
    let holder = tokio::spawn(async move {
        let immediate = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = db.begin_with_options(immediate).await.expect("taking the write lock");
        locked.send(()).expect("the test waits");
        tokio::time::sleep(OUTSIDE_WRITE).await;
        txn.rollback().await.expect("releasing the write lock");
    });
    is_locked.await.expect("the write lock was taken");
    Some(holder)
}

#[tokio::test]
async fn concurrent_retries_of_one_create_person_behind_a_long_write_all_answer_the_first_result_once() {
    // Arrange
    let app = patient_app().await;
    let eleven = unit(&app, "localities/11", "Sở Nội vụ tỉnh 11", date(2020, 1, 1), None).await;
    let request = create_person("Triệu Thị Hoa", &eleven, "5c1a-concurrent-retries");
    let caller = app.as_(Caller::of(&["11"], &[Role::Editor, Role::PersonalDataReader]));

    // Act
    let outside = outside_writer(&app).await;
    let calls: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let (mut client, request) = (caller.people(), request.clone());
            tokio::spawn(async move { client.create_person(request).await })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.expect("the call ran"));
    }
    if let Some(outside) = outside {
        outside.await.expect("the outside writer ran");
    }

    // Assert
    let failures: Vec<_> = answers.iter().filter_map(|a| a.as_ref().err()).map(|s| (s.code(), s.message())).collect();
    assert!(failures.is_empty(), "{} of {CONCURRENT} failed: {failures:?}", failures.len());
    let people: Vec<pb::Person> =
        answers.into_iter().map(|a| a.expect("checked").into_inner().person.expect("a person")).collect();
    assert!(people.iter().all(|p| *p == people[0]), "every retry answers the first result");
    assert_eq!(people_called(&app, "Triệu Thị Hoa").await, 1, "exactly one write");
}

#[tokio::test]
async fn a_few_hundred_concurrent_writes_queued_behind_a_long_write_all_get_their_turn() {
    // Arrange
    let app = patient_app().await;
    let admin = app.as_admin();

    // Act
    let outside = outside_writer(&app).await;
    let calls: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let mut client = admin.units();
            let request = pb::CreateUnitRequest {
                unit: Some(pb::Unit {
                    display_name: format!("Trạm Y tế tải {i}"),
                    locality: "localities/11".into(),
                    sector: pb::Sector::Health.into(),
                    kind: pb::UnitKind::HealthFacility.into(),
                    valid_from: Some(date(2021, 1, 1)),
                    ..Default::default()
                }),
                request_id: String::new(),
            };
            tokio::spawn(async move { client.create_unit(request).await })
        })
        .collect();
    let mut failures = Vec::new();
    for call in calls {
        if let Err(status) = call.await.expect("the call ran") {
            failures.push((status.code(), status.message().to_owned()));
        }
    }
    if let Some(outside) = outside {
        outside.await.expect("the outside writer ran");
    }

    // Assert
    assert!(failures.is_empty(), "{} of {CONCURRENT} writes failed: {failures:?}", failures.len());
    let made =
        sql::count(&app.db, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM units WHERE name LIKE 'Trạm Y tế tải %'"))
            .await
            .map_err(|e| e.to_string())
            .expect("counting units");
    assert_eq!(made, i64::try_from(CONCURRENT).expect("a count"));
}
