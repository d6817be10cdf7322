//! Movements and succession pools under concurrency, on SQLite and PostgreSQL: each
//! race is run many times, so that an ordering that lets two writes through would show.
//!
//! - one open (planned or active) movement per person: two concurrent CreateRotation
//!   calls for one person create exactly one movement;
//! - a movement starts once: two concurrent StartRotation calls move the placements once;
//! - a person is in a pool once at a time: two concurrent AddCandidate calls for one
//!   person and pool add exactly one membership;
//! - and the database itself refuses a second open movement or membership written
//!   past the service.

use hrplan::{
    grpc::pb::{self},
    store::stmt,
};
use sea_orm::ConnectionTrait;
use tonic::Code;

use crate::helpers::{TestApp, committee_unit, date, spawn_app};
use crate::rotations::person_at;

/// Rounds of each race.
const ROUNDS: usize = 30;

fn movement(person: &str, from: &str, to: &str, kind: pb::RotationKind) -> pb::CreateRotationRequest {
    let returns = kind != pb::RotationKind::Transfer;
    pb::CreateRotationRequest {
        rotation: Some(pb::Rotation {
            person: person.into(),
            kind: kind.into(),
            source_unit: from.into(),
            source_post: "Chuyên viên".into(),
            destination_unit: to.into(),
            destination_post: "Phó Chủ tịch Ủy ban nhân dân".into(),
            start_date: Some(date(2024, 3, 1)),
            planned_end_date: returns.then(|| date(2026, 3, 1)),
            decision: Some(pb::RotationDecision {
                number: "88-QĐ/TU".into(),
                decided_on: Some(date(2024, 2, 1)),
                issuing_body: "Ban Thường vụ Tỉnh ủy Lạng Sơn".into(),
            }),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

/// The `n` of a `SELECT COUNT(*) AS n …` with one parameter, `id`.
async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    let row = app
        .db
        .query_one_raw(stmt(app.db.get_database_backend(), sql, vec![id.into()]))
        .await
        .expect("counting")
        .expect("a row");
    row.try_get("", "n").expect("n")
}

fn id_of(name: &str) -> i64 {
    name.rsplit('/').next().and_then(|id| id.parse().ok()).expect("a numeric id")
}

#[tokio::test]
async fn two_concurrent_movements_for_one_person_create_exactly_one() {
    let app = spawn_app().await;
    app.load_demo().await;
    let source = committee_unit(&app, "localities/05977", "Ủy ban nhân dân phường Vĩnh Trại", None).await.name;
    let commune = committee_unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", None).await.name;
    let province = committee_unit(&app, "localities/20", "Sở Nội vụ tỉnh Lạng Sơn", None).await.name;
    for round in 0..ROUNDS {
        let person = person_at(&app, &format!("Lường Thị Thu {round}"), &source, None).await;
        // Two different movements of the same person, sent at the same time.
        let requests = [
            movement(&person, &source, &commune, pb::RotationKind::Rotation),
            movement(&person, &source, &province, pb::RotationKind::Transfer),
        ];
        let calls: Vec<_> = requests
            .into_iter()
            .map(|request| {
                let mut client = app.as_admin().rotations();
                tokio::spawn(async move { client.create_rotation(request).await })
            })
            .collect();
        let mut created = Vec::new();
        let mut refused = Vec::new();
        for call in calls {
            match call.await.expect("the call ran") {
                Ok(answer) => created.push(answer.into_inner().rotation.expect("a movement")),
                Err(status) => refused.push(status),
            }
        }
        assert_eq!(created.len(), 1, "round {round}: exactly one movement is created, refused: {refused:?}");
        let [status] = refused.as_slice() else { panic!("round {round}: the other is refused") };
        assert_eq!(status.code(), Code::FailedPrecondition, "round {round}: {status:?}");
        // The answer a sequential second request gets: the movement in the way, named.
        assert!(status.message().contains("one at a time"), "round {round}: {status:?}");
        assert!(status.message().contains(&created[0].name), "round {round}: {status:?}");
        let open = count(
            &app,
            "SELECT COUNT(*) AS n FROM rotations WHERE person_id = ? AND status IN ('planned', 'active')",
            id_of(&person),
        )
        .await;
        assert_eq!(open, 1, "round {round}: the database holds one open movement");
    }
}

#[tokio::test]
async fn two_concurrent_starts_of_one_movement_move_the_placements_once() {
    let app = spawn_app().await;
    app.load_demo().await;
    let source = committee_unit(&app, "localities/05977", "Ủy ban nhân dân phường Vĩnh Trại", None).await.name;
    let commune = committee_unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", None).await.name;
    for round in 0..ROUNDS {
        let person = person_at(&app, &format!("Hà Văn Sơn {round}"), &source, None).await;
        let made = app
            .as_admin()
            .rotations()
            .create_rotation(movement(&person, &source, &commune, pb::RotationKind::Rotation))
            .await
            .expect("a movement")
            .into_inner()
            .rotation
            .expect("a movement");
        let calls: Vec<_> = (0..2)
            .map(|_| {
                let mut client = app.as_admin().rotations();
                let request = pb::StartRotationRequest { name: made.name.clone(), etag: String::new() };
                tokio::spawn(async move { client.start_rotation(request).await })
            })
            .collect();
        let mut started = 0;
        let mut refused = Vec::new();
        for call in calls {
            match call.await.expect("the call ran") {
                Ok(_) => started += 1,
                Err(status) => refused.push(status),
            }
        }
        assert_eq!(started, 1, "round {round}: exactly one start succeeds, refused: {refused:?}");
        // The second sees the movement active, as it would one call later.
        assert!(refused.iter().all(|s| s.code() == Code::FailedPrecondition), "round {round}: {refused:?}");
        let placements = count(&app, "SELECT COUNT(*) AS n FROM placements WHERE person_id = ?", id_of(&person)).await;
        assert_eq!(placements, 2, "round {round}: the source placement closed and one destination placement opened");
    }
}

#[tokio::test]
async fn the_database_refuses_a_second_open_movement_written_past_the_service() {
    let app = spawn_app().await;
    app.load_demo().await;
    let source = committee_unit(&app, "localities/05977", "Ủy ban nhân dân phường Vĩnh Trại", None).await.name;
    let commune = committee_unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", None).await.name;
    let person = person_at(&app, "Vi Văn Toàn", &source, None).await;
    let made = app
        .as_admin()
        .rotations()
        .create_rotation(movement(&person, &source, &commune, pb::RotationKind::Rotation))
        .await
        .expect("the first movement")
        .into_inner()
        .rotation
        .expect("a movement");
    let copy = |status: &str| {
        format!(
            "INSERT INTO rotations (person_id, kind, source_unit_id, source_post, destination_unit_id, \
             destination_post, destination_leader, start_date, planned_end_date, decision_number, decided_on, \
             issuing_body, programme, status, promoted, revision, create_time, update_time) \
             SELECT person_id, kind, source_unit_id, source_post, destination_unit_id, destination_post, \
             destination_leader, start_date, planned_end_date, decision_number, decided_on, issuing_body, \
             programme, '{status}', promoted, revision, create_time, update_time FROM rotations WHERE id = ?"
        )
    };
    let backend = app.db.get_database_backend();
    let id = id_of(&made.name);
    for open in ["planned", "active"] {
        let written = app.db.execute_raw(stmt(backend, &copy(open), vec![id.into()])).await;
        assert!(written.is_err(), "a second {open} movement of one person was stored");
    }
    // Ended movements are history: any number of them.
    for closed in ["completed", "cancelled", "completed"] {
        app.db.execute_raw(stmt(backend, &copy(closed), vec![id.into()])).await.expect("an ended movement");
    }
    let all = count(&app, "SELECT COUNT(*) AS n FROM rotations WHERE person_id = ?", id_of(&person)).await;
    assert_eq!(all, 4);
}
fn pool(unit: &str) -> pb::CreateSuccessionPoolRequest {
    pb::CreateSuccessionPoolRequest {
        succession_pool: Some(pb::SuccessionPool {
            unit: unit.into(),
            post_title: "Chủ tịch Ủy ban nhân dân".into(),
            leader_post: true,
            term_start_year: 2021,
            term_end_year: 2026,
            min_candidates: 1,
            max_candidates: 3,
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

fn add(pool: &str, person: &str, added_on: pb::Date) -> pb::AddCandidateRequest {
    pb::AddCandidateRequest {
        succession_pool: pool.into(),
        candidate: Some(pb::Candidate {
            person: person.into(),
            added_on: Some(added_on),
            added_reason: "Nghị quyết của Ban Thường vụ".into(),
            ..Default::default()
        }),
    }
}

#[tokio::test]
async fn two_concurrent_additions_of_one_person_to_a_pool_add_exactly_one_membership() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = committee_unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", None).await.name;
    let person = person_at(&app, "Hoàng Văn Đạt", &office, None).await;
    for round in 0..ROUNDS {
        let made = app.as_admin().pools().create_succession_pool(pool(&office)).await.expect("a pool").into_inner();
        let name = made.succession_pool.expect("a pool").name;
        // The same person, from two dates, at the same time.
        let calls: Vec<_> = [date(2022, 3, 1), date(2023, 1, 1)]
            .into_iter()
            .map(|on| {
                let (mut client, request) = (app.as_admin().pools(), add(&name, &person, on));
                tokio::spawn(async move { client.add_candidate(request).await })
            })
            .collect();
        let mut added = 0;
        let mut refused = Vec::new();
        for call in calls {
            match call.await.expect("the call ran") {
                Ok(_) => added += 1,
                Err(status) => refused.push(status),
            }
        }
        assert_eq!(added, 1, "round {round}: exactly one membership is added, refused: {refused:?}");
        assert!(refused.iter().all(|s| s.code() == Code::FailedPrecondition), "round {round}: {refused:?}");
        let memberships =
            count(&app, "SELECT COUNT(*) AS n FROM pool_candidates WHERE pool_id = ?", id_of(&name)).await;
        assert_eq!(memberships, 1, "round {round}: the database holds one membership");
    }
}

#[tokio::test]
async fn the_database_refuses_a_second_open_membership_written_past_the_service() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = committee_unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", None).await.name;
    let person = person_at(&app, "Nông Thị Hoa", &office, None).await;
    let made = app.as_admin().pools().create_succession_pool(pool(&office)).await.expect("a pool").into_inner();
    let name = made.succession_pool.expect("a pool").name;
    app.as_admin().pools().add_candidate(add(&name, &person, date(2022, 3, 1))).await.expect("the first membership");
    let backend = app.db.get_database_backend();
    let insert = |added_on: &str, removed_on: &str| {
        format!(
            "INSERT INTO pool_candidates (pool_id, person_id, added_on, added_reason, removed_on) \
             VALUES (?, ?, '{added_on}', 'x', {removed_on})"
        )
    };
    let ids = || vec![id_of(&name).into(), id_of(&person).into()];
    let open_again = app.db.execute_raw(stmt(backend, &insert("2024-01-01", "NULL"), ids())).await;
    assert!(open_again.is_err(), "a second open membership of one person in one pool was stored");
    // A closed membership before the open one is history, and allowed.
    app.db.execute_raw(stmt(backend, &insert("2021-02-01", "'2021-06-01'"), ids())).await.expect("an earlier one");
    // One that overlaps the open membership: PostgreSQL's exclusion constraint refuses
    // it; SQLite, which has none, relies on the service's check in its serialised writes.
    let overlapping = app.db.execute_raw(stmt(backend, &insert("2021-09-01", "'2022-06-01'"), ids())).await;
    let expected = if backend == sea_orm::DbBackend::Postgres { 2 } else { 3 };
    assert_eq!(overlapping.is_err(), backend == sea_orm::DbBackend::Postgres, "{overlapping:?}");
    let memberships = count(&app, "SELECT COUNT(*) AS n FROM pool_candidates WHERE pool_id = ?", id_of(&name)).await;
    assert_eq!(memberships, expected);
}

/// Runs the migration called `name` again, on the test's database.
async fn migrate_again(app: &TestApp, name: &str) -> Result<(), sea_orm::DbErr> {
    use hrplan_migrations::{Migrator, MigratorTrait as _, SchemaManager};
    let migration = Migrator::migrations().into_iter().find(|m| m.name() == name).expect("the migration exists");
    migration.up(&SchemaManager::new(&app.db)).await
}

#[tokio::test]
async fn the_migration_names_people_with_two_open_movements_and_leaves_the_choice_to_a_person() {
    // Arrange: a database from before the index, in which a race let two open
    // movements of one person through.
    let app = spawn_app().await;
    app.load_demo().await;
    let source = committee_unit(&app, "localities/05977", "Ủy ban nhân dân phường Vĩnh Trại", None).await.name;
    let commune = committee_unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", None).await.name;
    let person = person_at(&app, "Mã Văn Khải", &source, None).await;
    let made = app
        .as_admin()
        .rotations()
        .create_rotation(movement(&person, &source, &commune, pb::RotationKind::Rotation))
        .await
        .expect("a movement")
        .into_inner()
        .rotation
        .expect("a movement");
    let backend = app.db.get_database_backend();
    let run = |sql: &str, values: Vec<sea_orm::Value>| app.db.execute_raw(stmt(backend, sql, values));
    run("DROP INDEX ux_rotations_open_person", vec![]).await.expect("dropping the index");
    let copy = "INSERT INTO rotations (person_id, kind, source_unit_id, source_post, destination_unit_id, \
                destination_post, destination_leader, start_date, planned_end_date, decision_number, decided_on, \
                issuing_body, programme, status, promoted, revision, create_time, update_time) \
                SELECT person_id, kind, source_unit_id, source_post, destination_unit_id, destination_post, \
                destination_leader, start_date, planned_end_date, decision_number, decided_on, issuing_body, \
                programme, 'active', promoted, revision, create_time, update_time FROM rotations WHERE id = ?";
    run(copy, vec![id_of(&made.name).into()]).await.expect("a second open movement, before the index");

    // Act and assert: the migration stops, naming the person, and changes nothing.
    let refused = migrate_again(&app, "m20261201_300000_add_open_movement_index").await;
    let message = refused.expect_err("the migration refuses").to_string();
    assert!(message.contains(&format!("{person} (2)")), "{message}");
    let open = "SELECT COUNT(*) AS n FROM rotations WHERE person_id = ? AND status IN ('planned', 'active')";
    assert_eq!(count(&app, open, id_of(&person)).await, 2);

    // Once a person has cancelled one of them, it runs, and the index holds again.
    run("UPDATE rotations SET status = 'cancelled' WHERE id = ?", vec![id_of(&made.name).into()])
        .await
        .expect("cancel");
    migrate_again(&app, "m20261201_300000_add_open_movement_index").await.expect("the migration runs");
    let max = "SELECT MAX(id) AS n FROM rotations WHERE person_id = ?";
    let open_one = count(&app, max, id_of(&person)).await;
    assert!(run(copy, vec![open_one.into()]).await.is_err(), "the index is back");
}

#[tokio::test]
async fn the_migration_names_overlapping_memberships_and_leaves_the_choice_to_a_person() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = committee_unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", None).await.name;
    let person = person_at(&app, "Triệu Thị Mai", &office, None).await;
    let made = app.as_admin().pools().create_succession_pool(pool(&office)).await.expect("a pool").into_inner();
    let name = made.succession_pool.expect("a pool").name;
    app.as_admin().pools().add_candidate(add(&name, &person, date(2022, 3, 1))).await.expect("a membership");
    let backend = app.db.get_database_backend();
    let run = |sql: &str, values: Vec<sea_orm::Value>| app.db.execute_raw(stmt(backend, sql, values));
    if backend == sea_orm::DbBackend::Postgres {
        run("ALTER TABLE pool_candidates DROP CONSTRAINT ex_pool_candidates_period", vec![]).await.expect("drop");
    }
    run("DROP INDEX ux_pool_candidates_open", vec![]).await.expect("dropping the index");
    let overlapping = "INSERT INTO pool_candidates (pool_id, person_id, added_on, added_reason, removed_on) \
                       VALUES (?, ?, '2021-09-01', 'x', '2022-06-01')";
    run(overlapping, vec![id_of(&name).into(), id_of(&person).into()]).await.expect("an overlap, before");

    let refused = migrate_again(&app, "m20261201_300001_add_candidate_constraints").await;
    let message = refused.expect_err("the migration refuses").to_string();
    assert!(message.contains(&format!("{person} in {name}")), "{message}");

    run("DELETE FROM pool_candidates WHERE added_on = '2021-09-01'", vec![]).await.expect("removing the overlap");
    migrate_again(&app, "m20261201_300001_add_candidate_constraints").await.expect("the migration runs");
    let open_again = "INSERT INTO pool_candidates (pool_id, person_id, added_on, added_reason) \
                      VALUES (?, ?, '2024-01-01', 'x')";
    let again = run(open_again, vec![id_of(&name).into(), id_of(&person).into()]).await;
    assert!(again.is_err(), "the index is back");
}
