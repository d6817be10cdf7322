//! The rules of placements under concurrency, on SQLite and PostgreSQL: each race is
//! run for many rounds, so that an interleaving that lets both writes through would
//! show.

use hrplan::{
    grpc::pb::{self},
    sql::{self, raw_sql},
};
use prost_types::FieldMask;
use tonic::{Code, Status};

use crate::helpers::{TestApp, date, field_violations, spawn_app};

/// Rounds of each race.
const ROUNDS: usize = 30;

/// A unit of commune 11 from 2021, open-ended.
async fn new_unit(app: &TestApp, name: &str) -> pb::Unit {
    app.as_admin()
        .units()
        .create_unit(pb::CreateUnitRequest {
            unit: Some(pb::Unit {
                display_name: name.to_owned(),
                locality: "localities/11".to_owned(),
                sector: pb::Sector::Health.into(),
                kind: pb::UnitKind::HealthFacility.into(),
                valid_from: Some(date(2021, 1, 1)),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("creating a unit")
        .into_inner()
        .unit
        .expect("a unit")
}

/// A person employed since 2015, placed nowhere yet; their name.
async fn new_person(app: &TestApp, name: &str) -> String {
    let person = pb::Person {
        full_name: name.to_owned(),
        birth_date: Some(date(1985, 3, 14)),
        gender: pb::Gender::Female.into(),
        ethnicity: "Tày".into(),
        category: pb::PersonCategory::CivilServant.into(),
        employed_from: Some(date(2015, 1, 1)),
        ..Default::default()
    };
    let record = pb::PersonRecord { person: Some(person), ..Default::default() };
    app.as_admin()
        .people()
        .create_person(pb::CreatePersonRequest { record: Some(record), request_id: String::new() })
        .await
        .expect("creating a person")
        .into_inner()
        .person
        .expect("a person")
        .name
}

fn placement_request(person: &str, unit: &str, from: pb::Date) -> pb::CreatePlacementRequest {
    pb::CreatePlacementRequest {
        parent: person.to_owned(),
        placement: Some(pb::Placement {
            unit: unit.to_owned(),
            post_title: "Y sĩ".into(),
            valid_from: Some(from),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn count(app: &TestApp, statement: sea_orm::Statement) -> i64 {
    sql::count(&app.db, statement).await.map_err(|e| e.to_string()).expect("counting")
}

async fn placements_of(app: &TestApp, person: &str) -> i64 {
    let id: i64 = person.trim_start_matches("people/").parse().expect("a person id");
    count(app, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM placements WHERE person_id = {id}")).await
}

/// Placements in `unit` that do not lie within its period.
async fn placements_outside(app: &TestApp, unit: &str) -> i64 {
    let id: i64 = unit.trim_start_matches("units/").parse().expect("a unit id");
    count(
        app,
        raw_sql!(
            Postgres,
            "SELECT COUNT(*) AS n FROM placements p JOIN units u ON u.id = p.unit_id WHERE u.id = {id} \
             AND (p.valid_from < u.valid_from \
             OR (u.valid_until IS NOT NULL AND (p.valid_until IS NULL OR p.valid_until > u.valid_until)))"
        ),
    )
    .await
}

fn is_overlap(status: &Status) -> bool {
    status.code() == Code::InvalidArgument
        && field_violations(status).iter().any(|(f, d)| f == "placement.valid_from" && d.contains("overlaps"))
}

#[tokio::test]
async fn of_two_concurrent_overlapping_placements_of_one_person_exactly_one_is_created() {
    let app = spawn_app().await;
    app.load_demo().await;
    let unit = new_unit(&app, "Trạm Y tế chạy đua").await.name;
    for round in 0..ROUNDS {
        let person = new_person(&app, &format!("Hoàng Thị Đua {round}")).await;
        let calls: Vec<_> = [date(2021, 6, 1), date(2022, 1, 1)]
            .into_iter()
            .map(|from| {
                let mut client = app.as_admin().people();
                let request = placement_request(&person, &unit, from);
                tokio::spawn(async move { client.create_placement(request).await })
            })
            .collect();
        let mut results = Vec::new();
        for call in calls {
            results.push(call.await.expect("the call ran"));
        }
        let created = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(created, 1, "round {round}: exactly one placement is created: {results:?}");
        let refused = results.iter().filter_map(|r| r.as_ref().err()).collect::<Vec<_>>();
        assert!(is_overlap(refused[0]), "round {round}: the other is refused as an overlap: {:?}", refused[0]);
        assert_eq!(placements_of(&app, &person).await, 1, "round {round}: one placement is stored");
    }
}

#[tokio::test]
async fn a_unit_period_cut_racing_a_placement_in_the_cut_off_part_never_lets_both_through() {
    let app = spawn_app().await;
    app.load_demo().await;
    let (mut cut_wins, mut placement_wins) = (0, 0);
    for round in 0..ROUNDS {
        let unit = new_unit(&app, &format!("Trạm Y tế thu hẹp {round}")).await;
        let person = new_person(&app, &format!("Lò Văn Cắt {round}")).await;
        let mut unit_client = app.as_admin().units();
        let cut = pb::UpdateUnitRequest {
            unit: Some(pb::Unit { name: unit.name.clone(), valid_until: Some(date(2023, 1, 1)), ..Default::default() }),
            update_mask: Some(FieldMask { paths: vec!["valid_until".into()] }),
        };
        let cutting = tokio::spawn(async move { unit_client.update_unit(cut).await });
        let mut person_client = app.as_admin().people();
        let request = placement_request(&person, &unit.name, date(2024, 1, 1));
        let placing = tokio::spawn(async move { person_client.create_placement(request).await });
        let (cut, placed) = (cutting.await.expect("the cut ran"), placing.await.expect("the placement ran"));
        match (&cut, &placed) {
            (Ok(_), Err(status)) => {
                assert_eq!(status.code(), Code::InvalidArgument, "round {round}: {status:?}");
                cut_wins += 1;
            }
            (Err(status), Ok(_)) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "round {round}: {status:?}");
                placement_wins += 1;
            }
            _ => panic!("round {round}: exactly one of the two must pass: cut {cut:?}, placement {placed:?}"),
        }
        assert_eq!(placements_outside(&app, &unit.name).await, 0, "round {round}: a placement outside its unit");
    }
    // Both orders are legitimate; which one wins is the scheduler's choice.
    assert_eq!(cut_wins + placement_wins, ROUNDS);
}
