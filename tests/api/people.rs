//! PersonService: people with their records, moves between localities, import and export.

use hrplan::{
    auth::Role,
    grpc::pb::{self},
};
use prost_types::FieldMask;
use tonic::Code;

use crate::clients::{Caller, PersonClient};
use crate::helpers::{code_of, date, field_violations, spawn_app, spawn_app_with, unit};

fn person(name: &str, born: pb::Date, employed: pb::Date) -> pb::Person {
    pb::Person {
        full_name: name.into(),
        birth_date: Some(born),
        gender: pb::Gender::Female.into(),
        ethnicity: "Tày".into(),
        category: pb::PersonCategory::CivilServant.into(),
        employed_from: Some(employed),
        ..Default::default()
    }
}

fn placement(unit: &str, post: &str, from: pb::Date, until: Option<pb::Date>) -> pb::Placement {
    pb::Placement {
        unit: unit.into(),
        post_title: post.into(),
        valid_from: Some(from),
        valid_until: until,
        ..Default::default()
    }
}

fn record(unit: &str, i: usize) -> pb::PersonRecord {
    pb::PersonRecord {
        person: Some(person(
            &format!("Nguyễn Văn Thử {i}"),
            date(1980 + (i % 20) as i32, 1 + (i % 12) as i32, 1),
            date(2015, 1, 1),
        )),
        placements: vec![placement(unit, "Công chức Văn phòng - Thống kê", date(2020, 1, 1), None)],
        qualifications: vec![pb::Qualification {
            level: if i.is_multiple_of(3) {
                "scales/professional/levels/master"
            } else {
                "scales/professional/levels/university"
            }
            .into(),
            field_of_study: "Luật".into(),
            institution: "Đại học Luật Hà Nội".into(),
            awarded_on: Some(date(2010, 6, 30)),
            ..Default::default()
        }],
        evaluations: vec![pb::Evaluation { year: 2024, rating: pb::Rating::Good.into(), ..Default::default() }],
    }
}

async fn search(client: &mut PersonClient, locality: &str, as_of: pb::Date) -> Vec<String> {
    client
        .search_people(pb::SearchPeopleRequest {
            locality: locality.into(),
            as_of: Some(as_of),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner()
        .people
        .into_iter()
        .map(|p| p.name)
        .collect()
}

#[tokio::test]
async fn a_person_created_with_records_reads_back_as_of_a_date() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office =
        unit(&app, "localities/187", "Ủy ban nhân dân huyện Chi Lăng", date(2020, 1, 1), Some(date(2025, 7, 1))).await;
    let mut client = app.as_admin().people();

    let created = client
        .create_person(pb::CreatePersonRequest {
            record: Some(pb::PersonRecord {
                person: Some(person("Hoàng Thị Mai", date(1985, 3, 2), date(2008, 9, 1))),
                placements: vec![placement(
                    &office,
                    "Chuyên viên Phòng Nội vụ",
                    date(2020, 1, 1),
                    Some(date(2025, 7, 1)),
                )],
                qualifications: vec![pb::Qualification {
                    level: "scales/professional/levels/university".into(),
                    awarded_on: Some(date(2007, 6, 30)),
                    ..Default::default()
                }],
                evaluations: vec![],
            }),
            request_id: "create-hoang-thi-mai".into(),
        })
        .await
        .expect("create")
        .into_inner()
        .person
        .expect("person");
    assert!(created.name.starts_with("people/"));
    assert!(created.ethnic_minority);

    let then = client
        .get_person(pb::GetPersonRequest { name: created.name.clone(), as_of: Some(date(2024, 1, 1)) })
        .await
        .expect("get")
        .into_inner()
        .person
        .expect("person");
    assert_eq!(then.full_name, "Hoàng Thị Mai");
    assert_eq!(then.status(), pb::EmploymentStatus::Active);
    let placed = then.placement.expect("placed in 2024");
    assert_eq!(placed.locality, "localities/187");
    assert_eq!(placed.tier(), pb::LocalityTier::District);

    let qualifications = client
        .list_qualifications(pb::ListQualificationsRequest { parent: created.name.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner()
        .qualifications;
    assert_eq!(qualifications.len(), 1);
    assert_eq!(qualifications[0].level, "scales/professional/levels/university");

    // A retry with the same request id returns the same person and writes nothing.
    let before = app.snapshot().await;
    let retried = client
        .create_person(pb::CreatePersonRequest {
            record: Some(pb::PersonRecord {
                person: Some(person("Hoàng Thị Mai", date(1985, 3, 2), date(2008, 9, 1))),
                placements: vec![placement(
                    &office,
                    "Chuyên viên Phòng Nội vụ",
                    date(2020, 1, 1),
                    Some(date(2025, 7, 1)),
                )],
                qualifications: vec![pb::Qualification {
                    level: "scales/professional/levels/university".into(),
                    awarded_on: Some(date(2007, 6, 30)),
                    ..Default::default()
                }],
                evaluations: vec![],
            }),
            request_id: "create-hoang-thi-mai".into(),
        })
        .await
        .expect("retry")
        .into_inner()
        .person
        .expect("person");
    assert_eq!(retried.name, created.name);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_person_moved_by_a_new_placement_counts_under_the_new_locality_from_that_date() {
    let app = spawn_app().await;
    app.load_demo().await;
    let dien_bien = unit(
        &app,
        "localities/094",
        "Ủy ban nhân dân thành phố Điện Biên Phủ",
        date(2020, 1, 1),
        Some(date(2025, 7, 1)),
    )
    .await;
    let lang_son =
        unit(&app, "localities/178", "Ủy ban nhân dân thành phố Lạng Sơn", date(2020, 1, 1), Some(date(2025, 7, 1)))
            .await;
    let mut client = app.as_admin().people();
    let created = client
        .create_person(pb::CreatePersonRequest {
            record: Some(pb::PersonRecord {
                person: Some(person("Lò Văn Minh", date(1980, 5, 5), date(2005, 1, 1))),
                placements: vec![placement(
                    &dien_bien,
                    "Phó Chánh Văn phòng",
                    date(2020, 1, 1),
                    Some(date(2024, 1, 1)),
                )],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner()
        .person
        .expect("person");

    client
        .create_placement(pb::CreatePlacementRequest {
            parent: created.name.clone(),
            placement: Some(placement(&lang_son, "Chánh Văn phòng", date(2024, 1, 1), Some(date(2025, 7, 1)))),
            request_id: String::new(),
        })
        .await
        .expect("the move");

    assert_eq!(search(&mut client, "localities/11", date(2023, 12, 31)).await, std::slice::from_ref(&created.name));
    assert!(search(&mut client, "localities/20", date(2023, 12, 31)).await.is_empty());
    assert_eq!(search(&mut client, "localities/20", date(2024, 1, 1)).await, std::slice::from_ref(&created.name));
    assert!(search(&mut client, "localities/11", date(2024, 1, 1)).await.is_empty());

    // A caller of Lạng Sơn sees the person from the move on, and not before it.
    let mut lang_son_reader = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).people();
    let before = lang_son_reader
        .get_person(pb::GetPersonRequest { name: created.name.clone(), as_of: Some(date(2023, 12, 31)) })
        .await;
    assert_eq!(code_of(before), Code::PermissionDenied);
    let after = lang_son_reader
        .get_person(pb::GetPersonRequest { name: created.name.clone(), as_of: Some(date(2024, 6, 1)) })
        .await;
    assert_eq!(
        after.expect("visible after the move").into_inner().person.expect("person").placement.expect("placed").locality,
        "localities/178"
    );
}

#[tokio::test]
async fn overlapping_placements_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    let mut client = app.as_admin().people();
    let created = client
        .create_person(pb::CreatePersonRequest { record: Some(record(&office, 1)), request_id: String::new() })
        .await
        .expect("create")
        .into_inner()
        .person
        .expect("person");
    // record() places the person from 2020 open-ended: a second placement overlaps it.
    let before = app.snapshot().await;
    let overlapping = client
        .create_placement(pb::CreatePlacementRequest {
            parent: created.name.clone(),
            placement: Some(placement(&office, "Phó Chủ tịch", date(2023, 1, 1), Some(date(2024, 1, 1)))),
            request_id: String::new(),
        })
        .await
        .expect_err("overlap");
    assert_eq!(overlapping.code(), Code::InvalidArgument);
    assert!(field_violations(&overlapping).iter().any(|(f, _)| f == "placement.valid_from"), "{overlapping:?}");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_placement_outside_its_units_life_is_refused() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office =
        unit(&app, "localities/187", "Ủy ban nhân dân huyện Chi Lăng", date(2020, 1, 1), Some(date(2025, 7, 1))).await;
    let mut client = app.as_admin().people();
    let before = app.snapshot().await;
    let status = client
        .create_person(pb::CreatePersonRequest { record: Some(record(&office, 7)), request_id: String::new() })
        .await;
    // record() leaves the placement open-ended while the unit ends on 2025-07-01.
    let status = status.expect_err("unit ends before the placement");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(field_violations(&status).iter().any(|(f, _)| f == "record.placements[0].unit"), "{status:?}");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn reading_personal_data_needs_the_personal_data_role() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2025, 7, 1), None).await;
    let mut client = app.as_admin().people();
    let mut r = record(&office, 3);
    r.placements[0].valid_from = Some(date(2025, 7, 1));
    let created = client
        .create_person(pb::CreatePersonRequest { record: Some(r), request_id: String::new() })
        .await
        .expect("create")
        .into_inner()
        .person
        .expect("person");

    let mut aggregate_only = app.as_(Caller::of(&["20"], &[Role::AggregateReader])).people();
    let refused = aggregate_only.get_person(pb::GetPersonRequest { name: created.name.clone(), as_of: None }).await;
    assert_eq!(code_of(refused), Code::PermissionDenied);
    let refused = aggregate_only.search_people(pb::SearchPeopleRequest::default()).await;
    assert_eq!(code_of(refused), Code::PermissionDenied);

    let mut reader = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).people();
    let got = reader.get_person(pb::GetPersonRequest { name: created.name.clone(), as_of: None }).await;
    assert_eq!(
        got.expect("a personal-data reader of Lạng Sơn").into_inner().person.expect("person").name,
        created.name
    );
    let mut other_province = app.as_(Caller::of(&["11"], &[Role::PersonalDataReader])).people();
    assert_eq!(
        code_of(other_province.get_person(pb::GetPersonRequest { name: created.name.clone(), as_of: None }).await),
        Code::PermissionDenied
    );
    // Unknown people are refused to scoped callers and not found for national ones.
    assert_eq!(
        code_of(reader.get_person(pb::GetPersonRequest { name: "people/999999".into(), as_of: None }).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code_of(client.get_person(pb::GetPersonRequest { name: "people/999999".into(), as_of: None }).await),
        Code::NotFound
    );
}

async fn import(client: &mut PersonClient, records: Vec<pb::PersonRecord>) -> pb::ImportPeopleResponse {
    let stream = tokio_stream::iter(
        records.into_iter().map(|r| pb::ImportPeopleRequest { record: Some(r), ..Default::default() }),
    );
    client.import_people(stream).await.expect("import").into_inner()
}

#[tokio::test]
async fn an_import_with_one_bad_record_writes_nothing_and_names_that_record() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    let mut client = app.as_admin().people();
    let mut records: Vec<pb::PersonRecord> = (0..1000).map(|i| record(&office, i)).collect();
    records[500].person.as_mut().expect("person").birth_date = Some(date(2031, 1, 1));
    records[700].qualifications[0].level = "scales/professional/levels/wizard".into();
    let before = app.snapshot().await;

    let answer = import(&mut client, records).await;

    assert_eq!(answer.received_count, 1000);
    assert_eq!(answer.imported_count, 0);
    let rejected: Vec<(i32, Vec<String>)> =
        answer.rejected.iter().map(|r| (r.index, r.violations.iter().map(|v| v.field.clone()).collect())).collect();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(rejected[0].0, 500);
    assert!(rejected[0].1.contains(&"person.birth_date".to_owned()), "{rejected:?}");
    assert_eq!(rejected[1], (700, vec!["qualifications[0].level".to_owned()]));
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn importing_100000_people_through_the_stream_succeeds() {
    // One request writes 100,000 people with their facts: more than the default 30 s
    // on an unoptimised build sharing two cores with the rest of the suite.
    let app = spawn_app_with(|config| config.request_timeout = std::time::Duration::from_secs(300)).await;
    app.load_demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    let mut client = app.as_admin().people();
    let records: Vec<pb::PersonRecord> = (0..100_000).map(|i| record(&office, i)).collect();

    let answer = import(&mut client, records).await;

    assert_eq!(answer.received_count, 100_000);
    assert_eq!(answer.imported_count, 100_000, "{:?}", answer.rejected.first());
    assert_eq!(answer.people.len(), 100_000);
    // Every imported person is there with their records.
    let exported: Vec<pb::PersonRecord> = {
        let mut stream = client
            .export_people(pb::ExportPeopleRequest { locality: "localities/20".into(), ..Default::default() })
            .await
            .expect("export")
            .into_inner();
        let mut all = Vec::new();
        while let Some(message) = stream.message().await.expect("export message") {
            all.push(message.record.expect("record"));
        }
        all
    };
    assert_eq!(exported.len(), 100_000);
    let last = exported.last().expect("one");
    assert_eq!(last.placements.len(), 1);
    assert_eq!(last.qualifications.len(), 1);
    assert_eq!(last.evaluations.len(), 1);
    let masters = exported.iter().filter(|r| r.qualifications.iter().any(|q| q.level.ends_with("/master"))).count();
    assert_eq!(masters, (0..100_000usize).filter(|i| i.is_multiple_of(3)).count());
}

#[tokio::test]
async fn people_are_found_by_name_without_diacritics_and_by_status() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    let mut client = app.as_admin().people();
    let mut retired = record(&office, 2);
    retired.person.as_mut().expect("person").full_name = "Đặng Thị Hồng".into();
    retired.person.as_mut().expect("person").employed_until = Some(date(2024, 1, 1));
    retired.person.as_mut().expect("person").end_reason = pb::EmploymentEnd::Retired.into();
    retired.placements[0].valid_until = Some(date(2024, 1, 1));
    let answer = import(&mut client, vec![record(&office, 1), retired]).await;
    assert_eq!(answer.imported_count, 2, "{:?}", answer.rejected);

    let found = client
        .search_people(pb::SearchPeopleRequest {
            query: "dang thi hong".into(),
            as_of: Some(date(2023, 6, 1)),
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner()
        .people;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].full_name, "Đặng Thị Hồng");

    let active_2025 = client
        .search_people(pb::SearchPeopleRequest {
            as_of: Some(date(2025, 1, 1)),
            filter: "status = ACTIVE".into(),
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner()
        .people;
    assert_eq!(active_2025.len(), 1);
    let retired_2025 = client
        .search_people(pb::SearchPeopleRequest {
            as_of: Some(date(2025, 1, 1)),
            filter: "status = RETIRED".into(),
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner()
        .people;
    assert_eq!(retired_2025.len(), 1);
    assert_eq!(retired_2025[0].status(), pb::EmploymentStatus::Retired);
}

#[tokio::test]
async fn evaluations_are_one_per_year_and_updates_need_a_fresh_etag() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    let mut client = app.as_admin().people();
    let created = client
        .create_person(pb::CreatePersonRequest { record: Some(record(&office, 4)), request_id: String::new() })
        .await
        .expect("create")
        .into_inner()
        .person
        .expect("person");
    let before = app.snapshot().await;
    let again = client
        .create_evaluation(pb::CreateEvaluationRequest {
            parent: created.name.clone(),
            evaluation: Some(pb::Evaluation { year: 2024, rating: pb::Rating::Excellent.into(), ..Default::default() }),
            request_id: String::new(),
        })
        .await;
    assert_eq!(code_of(again), Code::AlreadyExists);
    assert_eq!(app.snapshot().await, before);

    let name = format!("{}/evaluations/2024", created.name);
    let current = client
        .get_evaluation(pb::GetEvaluationRequest { name: name.clone() })
        .await
        .expect("get")
        .into_inner()
        .evaluation
        .expect("e");
    let updated = client
        .update_evaluation(pb::UpdateEvaluationRequest {
            evaluation: Some(pb::Evaluation { rating: pb::Rating::Excellent.into(), ..current.clone() }),
            update_mask: Some(FieldMask { paths: vec!["rating".into()] }),
        })
        .await
        .expect("update")
        .into_inner()
        .evaluation
        .expect("e");
    assert_eq!(updated.rating(), pb::Rating::Excellent);
    let stale = client
        .update_evaluation(pb::UpdateEvaluationRequest {
            evaluation: Some(pb::Evaluation { rating: pb::Rating::Completed.into(), ..current }),
            update_mask: Some(FieldMask { paths: vec!["rating".into()] }),
        })
        .await;
    assert_eq!(code_of(stale), Code::Aborted);
}

#[tokio::test]
async fn disciplines_are_recorded_and_listed() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    let mut client = app.as_admin().people();
    let created = client
        .create_person(pb::CreatePersonRequest { record: Some(record(&office, 5)), request_id: String::new() })
        .await
        .expect("create")
        .into_inner()
        .person
        .expect("person");
    client
        .create_discipline(pb::CreateDisciplineRequest {
            parent: created.name.clone(),
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
        .expect("discipline");
    let listed = client
        .list_disciplines(pb::ListDisciplinesRequest { parent: created.name.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner()
        .disciplines;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].decision_number, "125/QĐ-UBND");
    let before = app.snapshot().await;
    let bad = client
        .create_discipline(pb::CreateDisciplineRequest {
            parent: created.name.clone(),
            discipline: Some(pb::Discipline {
                sanction: pb::Sanction::Warning.into(),
                decided_on: Some(date(2099, 1, 1)),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("future date and no number");
    let fields: Vec<String> = field_violations(&bad).into_iter().map(|(f, _)| f).collect();
    assert!(
        fields.contains(&"discipline.decided_on".to_owned())
            && fields.contains(&"discipline.decision_number".to_owned()),
        "{fields:?}"
    );
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn the_demo_workforce_moves_to_the_merged_communes_on_2025_07_01() {
    let app = spawn_app().await;
    assert!(hrplan::demo::load(&app.db).await.expect("loading the whole demo"));
    let mut client = app.as_admin().people();
    for province in ["localities/01", "localities/11", "localities/20"] {
        let before = search(&mut client, province, date(2025, 6, 30)).await;
        let after = search(&mut client, province, date(2025, 7, 1)).await;
        assert!(!before.is_empty() && !after.is_empty(), "{province}: {} then {}", before.len(), after.len());
    }
    // On 2025-07-01 nobody is placed in a district or in an ended commune of Điện Biên.
    let ended = search(&mut client, "localities/094", date(2025, 7, 1)).await;
    assert!(ended.is_empty());
    let merged = search(&mut client, "localities/03334", date(2025, 7, 1)).await;
    let thanh_xuong = search(&mut client, "localities/03334", date(2025, 6, 30)).await;
    let noong_bua = search(&mut client, "localities/03124", date(2025, 6, 30)).await;
    assert!(merged.len() > thanh_xuong.len(), "Phường Mường Thanh gains the staff of the wards merged into it");
    assert!(noong_bua.iter().any(|p| merged.contains(p)), "staff of Noong Bua move to Mường Thanh");
}

#[tokio::test]
async fn retried_creates_of_records_return_the_first_result() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    let mut client = app.as_admin().people();
    let mut r = record(&office, 8);
    r.placements[0].valid_until = Some(date(2023, 1, 1));
    r.evaluations.clear();
    let created = client
        .create_person(pb::CreatePersonRequest { record: Some(r), request_id: String::new() })
        .await
        .expect("create")
        .into_inner()
        .person
        .expect("person");
    let placement_request = pb::CreatePlacementRequest {
        parent: created.name.clone(),
        placement: Some(placement(&office, "Phó Chủ tịch Ủy ban nhân dân", date(2023, 1, 1), None)),
        request_id: "7d6a3c52-placement".into(),
    };
    let first = client.create_placement(placement_request.clone()).await.expect("first").into_inner();
    let evaluation_request = pb::CreateEvaluationRequest {
        parent: created.name.clone(),
        evaluation: Some(pb::Evaluation { year: 2023, rating: pb::Rating::Good.into(), ..Default::default() }),
        request_id: "7d6a3c52-evaluation".into(),
    };
    let first_evaluation = client.create_evaluation(evaluation_request.clone()).await.expect("first").into_inner();
    let before = app.snapshot().await;

    let again = client.create_placement(placement_request.clone()).await.expect("retry").into_inner();
    let again_evaluation = client.create_evaluation(evaluation_request).await.expect("retry").into_inner();

    assert_eq!(first, again);
    assert_eq!(first_evaluation, again_evaluation);
    assert_eq!(app.snapshot().await, before);
    let mut other = placement_request;
    other.placement.as_mut().expect("placement").post_title = "Chủ tịch Ủy ban nhân dân".into();
    assert_eq!(code_of(client.create_placement(other).await), Code::InvalidArgument);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn people_are_paged_in_order_of_their_names() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    let mut client = app.as_admin().people();
    let names = ["Vi Thị Yến", "Đặng Văn An", "Hoàng Thị Bích", "Nông Văn Dũng", "Lương Thị Hạnh"];
    let records = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut r = record(&office, i);
            r.person.as_mut().expect("person").full_name = (*name).into();
            r
        })
        .collect();
    assert_eq!(import(&mut client, records).await.imported_count, 5);

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .search_people(pb::SearchPeopleRequest {
                order_by: "full_name desc".into(),
                page_size: 2,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        seen.extend(page.people.into_iter().map(|p| p.full_name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    // Folded: vi thi yen > nong van dung > luong thi hanh > hoang thi bich > dang van an.
    assert_eq!(seen, ["Vi Thị Yến", "Nông Văn Dũng", "Lương Thị Hạnh", "Hoàng Thị Bích", "Đặng Văn An"]);
    let bad = client.search_people(pb::SearchPeopleRequest { order_by: "age".into(), ..Default::default() }).await;
    assert_eq!(code_of(bad), Code::InvalidArgument);
}
