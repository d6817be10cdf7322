//! The person facts reports count stay in step with every kind of write: after each
//! write the report shows it, and the stored facts equal those derived afresh.

use std::collections::BTreeMap;

use hrplan::{
    auth::Role,
    grpc::pb::{
        self, person_service_client::PersonServiceClient, scale_service_client::ScaleServiceClient,
        unit_service_client::UnitServiceClient,
    },
    store::stmt,
};
use prost_types::FieldMask;
use sea_orm::ConnectionTrait;

use crate::clients::Caller;
use crate::helpers::{TestApp, bearer, committee_unit, date, spawn_app, spawn_app_with, token};

/// What the tests read of a profile of Lạng Sơn (`localities/20`).
#[derive(Debug, Default, PartialEq, Eq)]
struct Seen {
    headcount: i64,
    leaders: i64,
    /// Non-empty cells of the professional scale and of gender, by key.
    cells: BTreeMap<String, i64>,
}

async fn seen(app: &TestApp, as_of: pb::Date, sectors: Vec<i32>) -> Seen {
    let mut reports = app.as_(Caller::of(&["*"], &[Role::Admin, Role::PersonalDataReader])).reports();
    let total = reports
        .get_workforce_profile(pb::GetWorkforceProfileRequest {
            scope: Some(pb::ReportScope {
                locality: "localities/20".into(),
                as_of: Some(as_of),
                sectors,
                ..Default::default()
            }),
        })
        .await
        .expect("a profile")
        .into_inner()
        .total
        .expect("total");
    let cells = total
        .distributions
        .iter()
        .filter(|d| d.dimension == "scales/professional" || d.dimension == "gender")
        .flat_map(|d| d.cells.iter())
        .filter(|c| c.count > 0 && c.key != "none")
        .map(|c| (c.key.clone(), c.count))
        .collect();
    Seen { headcount: total.headcount, leaders: total.leaders.map(|c| c.count).unwrap_or_default(), cells }
}

fn expect(headcount: i64, leaders: i64, cells: &[(&str, i64)]) -> Seen {
    Seen { headcount, leaders, cells: cells.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect() }
}

const UNIVERSITY: &str = "scales/professional/levels/university";
const MASTER: &str = "scales/professional/levels/master";

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() })
}

#[tokio::test]
async fn every_kind_of_write_reaches_the_reports_at_once() {
    let app = spawn_app().await;
    app.load_demo().await;
    let admin = || bearer(Some(token(&["*"], &[Role::Admin])));
    let mut units = UnitServiceClient::with_interceptor(app.channel.clone(), admin());
    let mut people = PersonServiceClient::with_interceptor(app.channel.clone(), admin());
    let mut scales = ScaleServiceClient::with_interceptor(app.channel.clone(), admin());
    let unit =
        committee_unit(&app, "localities/178", "Ủy ban nhân dân thành phố Lạng Sơn", Some(date(2025, 7, 1))).await;
    let day = date(2024, 6, 1);
    assert_eq!(seen(&app, day, vec![]).await, Seen::default());

    // A person with a placement and a degree.
    let created = people
        .create_person(pb::CreatePersonRequest {
            record: Some(pb::PersonRecord {
                person: Some(pb::Person {
                    full_name: "Hoàng Thị Lan".into(),
                    birth_date: Some(date(1985, 3, 3)),
                    gender: pb::Gender::Female.into(),
                    ethnicity: "Tày".into(),
                    category: pb::PersonCategory::CivilServant.into(),
                    employed_from: Some(date(2010, 1, 1)),
                    ..Default::default()
                }),
                placements: vec![pb::Placement {
                    unit: unit.name.clone(),
                    post_title: "Chuyên viên".into(),
                    valid_from: Some(date(2020, 1, 1)),
                    valid_until: Some(date(2025, 7, 1)),
                    ..Default::default()
                }],
                qualifications: vec![pb::Qualification {
                    level: UNIVERSITY.into(),
                    field_of_study: "Luật".into(),
                    institution: "Đại học Luật Hà Nội".into(),
                    awarded_on: Some(date(2008, 6, 30)),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("person")
        .into_inner()
        .person
        .expect("person");
    assert_eq!(seen(&app, day, vec![]).await, expect(1, 0, &[(UNIVERSITY, 1), ("female", 1)]));
    app.assert_facts_in_step().await;

    // A master's degree from 2024-01-01: counted from that day only.
    let master = people
        .create_qualification(pb::CreateQualificationRequest {
            parent: created.name.clone(),
            qualification: Some(pb::Qualification {
                level: MASTER.into(),
                field_of_study: "Luật".into(),
                institution: "Đại học Luật Hà Nội".into(),
                awarded_on: Some(date(2024, 1, 1)),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("qualification")
        .into_inner()
        .qualification
        .expect("qualification");
    assert_eq!(seen(&app, day, vec![]).await, expect(1, 0, &[(MASTER, 1), ("female", 1)]));
    assert_eq!(seen(&app, date(2023, 12, 31), vec![]).await, expect(1, 0, &[(UNIVERSITY, 1), ("female", 1)]));
    app.assert_facts_in_step().await;

    // The person's own fields.
    let person = people
        .get_person(pb::GetPersonRequest { name: created.name.clone(), as_of: None })
        .await
        .expect("get")
        .into_inner()
        .person
        .expect("person");
    people
        .update_person(pb::UpdatePersonRequest {
            person: Some(pb::Person { gender: pb::Gender::Male.into(), ..person }),
            update_mask: mask(&["gender"]),
        })
        .await
        .expect("update person");
    assert_eq!(seen(&app, day, vec![]).await, expect(1, 0, &[(MASTER, 1), ("male", 1)]));
    app.assert_facts_in_step().await;

    // A rating: the facts carry every rating of the person.
    people
        .create_evaluation(pb::CreateEvaluationRequest {
            parent: created.name.clone(),
            evaluation: Some(pb::Evaluation { year: 2023, rating: pb::Rating::Excellent.into(), ..Default::default() }),
            ..Default::default()
        })
        .await
        .expect("evaluation");
    app.assert_facts_in_step().await;

    // The placement becomes a leader post.
    let placement = people
        .list_placements(pb::ListPlacementsRequest { parent: created.name.clone(), ..Default::default() })
        .await
        .expect("placements")
        .into_inner()
        .placements
        .into_iter()
        .next()
        .expect("placement");
    people
        .update_placement(pb::UpdatePlacementRequest {
            placement: Some(pb::Placement { leader: true, ..placement.clone() }),
            update_mask: mask(&["leader"]),
        })
        .await
        .expect("update placement");
    assert_eq!(seen(&app, day, vec![]).await, expect(1, 1, &[(MASTER, 1), ("male", 1)]));
    app.assert_facts_in_step().await;

    // The unit moves to another sector: the sector filter follows.
    units
        .update_unit(pb::UpdateUnitRequest {
            unit: Some(pb::Unit { sector: pb::Sector::MassOrganisation.into(), ..unit.clone() }),
            update_mask: mask(&["sector"]),
        })
        .await
        .expect("update unit");
    let mass = vec![pb::Sector::MassOrganisation.into()];
    let state = vec![pb::Sector::StateAdministration.into()];
    assert_eq!(seen(&app, day, mass.clone()).await.headcount, 1);
    assert_eq!(seen(&app, day, state).await.headcount, 0);
    app.assert_facts_in_step().await;

    // A scale's ranks change: the highest level held changes with them.
    let levels = scales
        .get_scale(pb::GetScaleRequest { name: "scales/professional".into() })
        .await
        .expect("scale")
        .into_inner()
        .scale
        .expect("scale")
        .levels;
    let rank = |name: &str| levels.iter().find(|l| l.name == name).map(|l| l.rank).expect("level");
    let university_rank = rank(UNIVERSITY);
    assert!(rank(MASTER) > university_rank);
    let top = levels.iter().map(|l| l.rank).max().expect("levels");
    let university = levels.iter().find(|l| l.name == UNIVERSITY).expect("level").clone();
    scales
        .update_level(pb::UpdateLevelRequest { level: Some(pb::Level { rank: top + 1, ..university.clone() }) })
        .await
        .expect("rank above every other");
    assert_eq!(seen(&app, day, vec![]).await, expect(1, 1, &[(UNIVERSITY, 1), ("male", 1)]));
    app.assert_facts_in_step().await;
    scales
        .update_level(pb::UpdateLevelRequest { level: Some(pb::Level { rank: university_rank, ..university }) })
        .await
        .expect("rank restored");
    assert_eq!(seen(&app, day, vec![]).await, expect(1, 1, &[(MASTER, 1), ("male", 1)]));

    // The master's degree is deleted.
    people
        .delete_qualification(pb::DeleteQualificationRequest { name: master.name.clone(), etag: String::new() })
        .await
        .expect("delete qualification");
    assert_eq!(seen(&app, day, vec![]).await, expect(1, 1, &[(UNIVERSITY, 1), ("male", 1)]));
    app.assert_facts_in_step().await;

    // The placement ends early, before the date.
    people
        .update_placement(pb::UpdatePlacementRequest {
            placement: Some(pb::Placement {
                valid_until: Some(date(2024, 1, 1)),
                etag: String::new(),
                ..placement.clone()
            }),
            update_mask: mask(&["valid_until"]),
        })
        .await
        .expect("end the placement");
    assert_eq!(seen(&app, day, vec![]).await, Seen::default());
    assert_eq!(seen(&app, date(2023, 6, 1), vec![]).await.headcount, 1);
    app.assert_facts_in_step().await;

    // Deleted people leave no facts behind.
    people
        .delete_person(pb::DeletePersonRequest { name: created.name.clone(), etag: String::new() })
        .await
        .expect("delete person");
    assert_eq!(seen(&app, date(2023, 6, 1), vec![]).await, Seen::default());
    app.assert_facts_in_step().await;
    let left = app
        .db
        .query_all_raw(stmt(app.db.get_database_backend(), "SELECT person_id FROM person_facts", vec![]))
        .await
        .expect("facts");
    assert!(left.is_empty());
}

#[tokio::test]
async fn records_written_around_the_server_are_counted_once_their_facts_are_built() {
    // The server's own catch-up waits an hour, so that the marks stay until this test
    // builds the facts (as `hrplan migrate` does); a report never builds them.
    let app = spawn_app_with(|c| c.facts_catch_up_interval = std::time::Duration::from_secs(3600)).await;
    app.load_demo().await;
    let backend = app.db.get_database_backend();
    // Written by hand, as an operator might: no server transaction builds the facts,
    // but the triggers mark the person as pending.
    for sql in [
        "INSERT INTO units (id, locality_code, name, name_folded, sector, kind, valid_from, valid_until, revision, \
         create_time, update_time) VALUES (900, '178', 'Ủy ban', 'uy ban', 'state_administration', \
         'peoples_committee', '2020-01-01', NULL, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO people (id, full_name, name_folded, birth_date, gender, ethnicity, category, employed_from, \
         revision, create_time, update_time) VALUES (900, 'Lý Văn An', 'ly van an', '1990-01-01', 'male', 'Nùng', \
         'civil_servant', '2015-01-01', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO placements (id, person_id, unit_id, post_title, post_title_folded, is_leader, is_key_post, \
         valid_from, revision) VALUES (900, 900, 900, 'Chuyên viên', 'chuyen vien', TRUE, FALSE, '2020-01-01', 1)",
    ] {
        let sql = if backend == sea_orm::DbBackend::Postgres {
            sql.replace("'2020-01-01'", "DATE '2020-01-01'")
                .replace("'1990-01-01'", "DATE '1990-01-01'")
                .replace("'2015-01-01'", "DATE '2015-01-01'")
        } else {
            sql.to_owned()
        };
        app.db.execute_unprepared(&sql).await.expect("a write by hand");
    }
    let pending = app
        .db
        .query_all_raw(stmt(backend, "SELECT person_id FROM person_facts_pending", vec![]))
        .await
        .expect("pending");
    assert_eq!(pending.len(), 1, "the triggers mark the person");
    hrplan::store::migrate(&app.db).await.expect("migrating builds the pending facts");
    assert_eq!(seen(&app, date(2024, 6, 1), vec![]).await, expect(1, 1, &[("male", 1)]));
    app.assert_facts_in_step().await;
}

#[tokio::test]
async fn people_hired_after_the_date_or_gone_before_it_are_not_counted() {
    let app = spawn_app().await;
    app.load_demo().await;
    let admin = || bearer(Some(token(&["*"], &[Role::Admin])));
    let unit =
        committee_unit(&app, "localities/178", "Ủy ban nhân dân thành phố Lạng Sơn", Some(date(2025, 7, 1))).await.name;
    let mut people = PersonServiceClient::with_interceptor(app.channel.clone(), admin());
    // Hired on 2024-03-01; gone (retired) on 2024-01-01.
    for (name, from, placed_from, until) in [
        ("Vi Văn Mới", date(2024, 3, 1), date(2024, 3, 1), None),
        ("Hoàng Văn Nghỉ", date(2015, 1, 1), date(2020, 1, 1), Some(date(2024, 1, 1))),
    ] {
        people
            .create_person(pb::CreatePersonRequest {
                record: Some(pb::PersonRecord {
                    person: Some(pb::Person {
                        full_name: name.into(),
                        birth_date: Some(date(1990, 1, 1)),
                        gender: pb::Gender::Male.into(),
                        ethnicity: "Nùng".into(),
                        category: pb::PersonCategory::CivilServant.into(),
                        employed_from: Some(from),
                        employed_until: until,
                        end_reason: if until.is_some() {
                            pb::EmploymentEnd::Retired
                        } else {
                            pb::EmploymentEnd::Unspecified
                        }
                        .into(),
                        ..Default::default()
                    }),
                    placements: vec![pb::Placement {
                        unit: unit.clone(),
                        post_title: "Chuyên viên".into(),
                        valid_from: Some(placed_from),
                        valid_until: until.or(Some(date(2025, 7, 1))),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("person");
    }
    assert_eq!(seen(&app, date(2023, 12, 31), vec![]).await.headcount, 1, "only the one not yet gone");
    assert_eq!(seen(&app, date(2024, 1, 1), vec![]).await.headcount, 0, "gone that day, the other not yet hired");
    assert_eq!(seen(&app, date(2024, 2, 29), vec![]).await.headcount, 0);
    assert_eq!(seen(&app, date(2024, 3, 1), vec![]).await.headcount, 1, "hired that day");
    app.assert_facts_in_step().await;
}

/// People with the given professional levels (awarded in turn from 2005), placed in
/// `unit` from mid-2020 to mid-2025, written in one transaction whose commit builds their facts; their
/// ids, in order.
async fn people_holding(app: &TestApp, unit: i64, holdings: &[&[&str]]) -> Vec<i64> {
    use chrono::NaiveDate;
    use hrplan::people::{
        queries::{NewRecord, insert_records},
        rules::person::{Category, Gender, PersonFields, PlacementFields, QualificationFields},
    };
    let day = |y: i32| NaiveDate::from_ymd_opt(y, 6, 30).expect("a date");
    let records: Vec<NewRecord> = holdings
        .iter()
        .enumerate()
        .map(|(i, levels)| NewRecord {
            person: PersonFields {
                full_name: format!("Người giữ {i}"),
                birth_date: day(1980),
                gender: Gender::Female,
                ethnicity: "Tày".into(),
                category: Category::CivilServant,
                employed_from: day(2004),
                employed_until: None,
                end_reason: None,
            },
            placements: vec![PlacementFields {
                unit_id: unit,
                post_title: "Chuyên viên".into(),
                leader: false,
                key_post: false,
                valid_from: day(2020),
                valid_until: Some(day(2025)),
            }],
            qualifications: levels
                .iter()
                .zip(2005..)
                .map(|(level, year)| QualificationFields {
                    scale: "professional".into(),
                    level: (*level).into(),
                    field_of_study: String::new(),
                    institution: String::new(),
                    awarded_on: day(year),
                })
                .collect(),
            evaluations: vec![],
        })
        .collect();
    let txn = hrplan::store::begin_write(&app.db).await.expect("a transaction");
    let ids = insert_records(&txn, &records).await.expect("inserting people");
    hrplan::store::commit_background(txn).await.expect("committing people");
    ids
}

/// The people whose facts wait to be rebuilt, sorted.
async fn pending(app: &TestApp) -> Vec<i64> {
    let rows = app
        .db
        .query_all_raw(stmt(
            app.db.get_database_backend(),
            "SELECT person_id FROM person_facts_pending ORDER BY person_id",
            vec![],
        ))
        .await
        .expect("pending");
    rows.iter().map(|r| r.try_get::<i64>("", "person_id").expect("an id")).collect()
}

/// Runs `sql` by hand (around the server, so that the marks it makes stay visible),
/// checks that it marked exactly `expected`, then rebuilds them and checks that the
/// facts are in step again.
async fn marks_exactly(app: &TestApp, sql: &str, expected: &[i64]) {
    app.db.execute_unprepared(sql).await.expect("a write by hand");
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(pending(app).await, expected, "people marked by {sql}");
    let rebuilt = hrplan::facts::catch_up(&app.db).await.expect("catching up");
    assert_eq!(rebuilt, expected.len());
    app.assert_facts_in_step().await;
}

fn unit_id(unit: &pb::Unit) -> i64 {
    unit.name.rsplit('/').next().and_then(|id| id.parse().ok()).expect("a unit id")
}

#[tokio::test]
async fn a_rank_change_marks_only_the_holders_whose_highest_level_it_can_change() {
    let app = spawn_app_with(|c| c.facts_catch_up_interval = std::time::Duration::from_secs(3600)).await;
    app.load_demo().await;
    let unit =
        committee_unit(&app, "localities/178", "Ủy ban nhân dân thành phố Lạng Sơn", Some(date(2025, 7, 1))).await;
    // Ranks: doctorate and medical_specialist_2 70, master and medical_specialist_1 60,
    // university 50, college 40, intermediate 30.
    let ids = people_holding(
        &app,
        unit_id(&unit),
        &[
            &["university"],
            &["university", "master"],
            &["college", "university"],
            &["university", "doctorate"],
            &["master"],
            &["university", "medical_specialist_1"],
            &["intermediate", "college"],
            &["college", "doctorate"],
        ],
    )
    .await;
    let [_only_university, master, college, doctorate, _only_master, specialist, _intermediate, college_doctorate] =
        ids[..]
    else {
        panic!("eight people");
    };
    assert!(pending(&app).await.is_empty(), "the import built its facts");
    let level = |code: &str| format!("WHERE scale_code = 'professional' AND code = '{code}'");

    // Labels, or a rank set to itself, change nobody's facts.
    marks_exactly(
        &app,
        &format!("UPDATE scale_levels SET rank = rank, name = 'Đại học (mới)' {}", level("university")),
        &[],
    )
    .await;
    // Above master and medical_specialist_1, still below doctorate: only those who
    // hold university and one of the two flip; someone holding university alone keeps it.
    marks_exactly(&app, &format!("UPDATE scale_levels SET rank = 65 {}", level("university")), &[master, specialist])
        .await;
    // Down to a tie with master and medical_specialist_1: university stays first (the
    // greater code among equal ranks), so nobody's highest level changes.
    marks_exactly(&app, &format!("UPDATE scale_levels SET rank = 60 {}", level("university")), &[]).await;
    // Up to a tie with doctorate: university now comes first among equal ranks.
    marks_exactly(&app, &format!("UPDATE scale_levels SET rank = 70 {}", level("university")), &[doctorate]).await;
    // One statement reorders two levels past each other (university 70 → 10, college
    // 40 → 75): every holder of a pair that changed order, and nobody else.
    marks_exactly(
        &app,
        "UPDATE scale_levels SET rank = CASE code WHEN 'university' THEN 10 ELSE 75 END \
         WHERE scale_code = 'professional' AND code IN ('university', 'college')",
        &[master, college, doctorate, specialist, college_doctorate],
    )
    .await;
}

#[tokio::test]
async fn a_unit_marks_its_people_only_when_its_locality_or_sector_changes() {
    let app = spawn_app_with(|c| c.facts_catch_up_interval = std::time::Duration::from_secs(3600)).await;
    app.load_demo().await;
    let unit =
        committee_unit(&app, "localities/178", "Ủy ban nhân dân thành phố Lạng Sơn", Some(date(2025, 7, 1))).await;
    let ids = people_holding(&app, unit_id(&unit), &[&["university"], &["master"]]).await;
    let id = unit_id(&unit);
    marks_exactly(
        &app,
        &format!("UPDATE units SET locality_code = locality_code, sector = sector, name = 'Ủy ban' WHERE id = {id}"),
        &[],
    )
    .await;
    marks_exactly(&app, &format!("UPDATE units SET sector = 'mass_organisation' WHERE id = {id}"), &ids).await;
}

#[tokio::test]
async fn a_server_write_rebuilds_a_person_marked_around_the_server_before_it_commits() {
    let app = spawn_app_with(|c| c.facts_catch_up_interval = std::time::Duration::from_secs(3600)).await;
    app.load_demo().await;
    let unit =
        committee_unit(&app, "localities/178", "Ủy ban nhân dân thành phố Lạng Sơn", Some(date(2025, 7, 1))).await;
    let ids = people_holding(&app, unit_id(&unit), &[&["university"], &["master"]]).await;
    let (touched, other) = (ids[0], ids[1]);
    // Both changed by hand: marked, facts stale.
    app.db
        .execute_unprepared(&format!("UPDATE people SET ethnicity = 'Nùng' WHERE id IN ({touched}, {other})"))
        .await
        .expect("a write by hand");
    assert_eq!(pending(&app).await, vec![touched, other]);
    // A server write touches one of them: it takes over that mark and rebuilds the
    // person before it commits.
    let txn = hrplan::store::begin_write(&app.db).await.expect("a transaction");
    txn.execute_unprepared(&format!("UPDATE people SET gender = 'male' WHERE id = {touched}")).await.expect("a write");
    hrplan::store::commit_background(txn).await.expect("commit");
    let left = pending(&app).await;
    assert!(!left.contains(&touched), "the server write rebuilt the person it touched");
    if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Its flush claimed its own marks only, through the index; the other person
        // waits for the catch-up.
        assert_eq!(left, vec![other]);
    }
    hrplan::facts::catch_up(&app.db).await.expect("catching up");
    app.assert_facts_in_step().await;
}
