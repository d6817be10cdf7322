//! SuccessionPoolService: pools of candidates for a post over a term, each candidate's
//! compliance with the post's standard on a date, and posts outside their bounds
//! (issue 5, acceptance point 4), with validation and scope checks.

use std::collections::BTreeSet;

use hrplan::{
    auth::Role,
    grpc::pb::{self, ComplianceStatus, PoolBounds},
    store::stmt,
};
use prost::Message as _;
use prost_types::FieldMask;
use sea_orm::ConnectionTrait;
use tonic::Code;

use crate::clients::{Caller, PoolClient};
use crate::helpers::{TestApp, code_of, date, field_violations, invalid, spawn_app, unit};

const CHAIR: &str = "Chủ tịch Ủy ban nhân dân xã";

async fn demo() -> (TestApp, PoolClient) {
    let app = spawn_app().await;
    app.load_demo().await;
    let client = app.as_admin().pools();
    (app, client)
}

/// A cadre placed in `unit` from 2020, employed until `until` (retired then), with
/// the given levels awarded in 2015.
fn cadre(name: &str, unit: &str, levels: &[&str], until: Option<pb::Date>) -> pb::PersonRecord {
    pb::PersonRecord {
        person: Some(pb::Person {
            full_name: name.into(),
            birth_date: Some(date(1975, 5, 1)),
            gender: pb::Gender::Male.into(),
            ethnicity: "Tày".into(),
            category: pb::PersonCategory::Cadre.into(),
            employed_from: Some(date(2005, 1, 1)),
            employed_until: until,
            end_reason: if until.is_some() { pb::EmploymentEnd::Retired.into() } else { 0 },
            ..Default::default()
        }),
        placements: vec![pb::Placement {
            unit: unit.into(),
            post_title: "Phó Chủ tịch Ủy ban nhân dân xã".into(),
            leader: true,
            valid_from: Some(date(2020, 1, 1)),
            valid_until: until,
            ..Default::default()
        }],
        qualifications: levels
            .iter()
            .map(|level| pb::Qualification {
                level: (*level).into(),
                field_of_study: "Luật".into(),
                institution: "Học viện".into(),
                awarded_on: Some(date(2015, 6, 30)),
                ..Default::default()
            })
            .collect(),
        evaluations: vec![],
    }
}

/// Imports people and returns their names.
async fn import(app: &TestApp, records: Vec<pb::PersonRecord>) -> Vec<String> {
    let mut people = app.as_admin().people();
    let stream = tokio_stream::iter(
        records.into_iter().map(|r| pb::ImportPeopleRequest { record: Some(r), ..Default::default() }),
    );
    let answer = people.import_people(stream).await.expect("import").into_inner();
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    answer.people
}

/// The standard of commune chairs: university and intermediate political theory.
async fn chair_standard(app: &TestApp) {
    let mut standards = app.as_admin().standards();
    standards
        .create_standard(pb::CreateStandardRequest {
            standard: Some(pb::Standard {
                display_name: "Chủ tịch UBND cấp xã".into(),
                tier: pb::LocalityTier::Commune.into(),
                category: pb::PersonCategory::Cadre.into(),
                leadership: pb::Leadership::Leaders.into(),
                post_title: CHAIR.into(),
                effective_from: Some(date(2020, 1, 1)),
                minimum_levels: vec![
                    "scales/professional/levels/university".into(),
                    "scales/political_theory/levels/intermediate".into(),
                ],
                legal_basis: "Quyết định 04/2004/QĐ-BNV".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("creating a standard");
}

fn pool(unit: &str, start: i32, end: i32, min: i32, max: i32) -> pb::SuccessionPool {
    pb::SuccessionPool {
        term_start_year: start,
        term_end_year: end,
        unit: unit.into(),
        post_title: CHAIR.into(),
        leader_post: true,
        min_candidates: min,
        max_candidates: max,
        ..Default::default()
    }
}

fn create(pool: pb::SuccessionPool) -> pb::CreateSuccessionPoolRequest {
    pb::CreateSuccessionPoolRequest { succession_pool: Some(pool), request_id: String::new() }
}

async fn created(client: &mut PoolClient, pool: pb::SuccessionPool) -> pb::SuccessionPool {
    client.create_succession_pool(create(pool)).await.expect("create pool").into_inner().succession_pool.expect("pool")
}

fn add(pool: &str, person: &str, on: pb::Date) -> pb::AddCandidateRequest {
    pb::AddCandidateRequest {
        succession_pool: pool.into(),
        candidate: Some(pb::Candidate {
            person: person.into(),
            added_on: Some(on),
            added_reason: "Nghị quyết quy hoạch".into(),
            ..Default::default()
        }),
    }
}

fn remove(pool: &str, person: &str, on: pb::Date) -> pb::RemoveCandidateRequest {
    pb::RemoveCandidateRequest {
        succession_pool: pool.into(),
        person: person.into(),
        removed_on: Some(on),
        reason: "Đưa ra khỏi quy hoạch".into(),
    }
}

fn get(name: &str, as_of: pb::Date) -> pb::GetSuccessionPoolRequest {
    pb::GetSuccessionPoolRequest { name: name.into(), as_of: Some(as_of) }
}

async fn got(client: &mut PoolClient, name: &str, as_of: pb::Date) -> pb::SuccessionPool {
    client.get_succession_pool(get(name, as_of)).await.expect("get pool").into_inner().succession_pool.expect("pool")
}

fn list(locality: &str, as_of: pb::Date, filter: &str) -> pb::ListSuccessionPoolsRequest {
    pb::ListSuccessionPoolsRequest {
        locality: locality.into(),
        as_of: Some(as_of),
        filter: filter.into(),
        ..Default::default()
    }
}

async fn listed(client: &mut PoolClient, locality: &str, as_of: pb::Date, filter: &str) -> Vec<pb::SuccessionPool> {
    client.list_succession_pools(list(locality, as_of, filter)).await.expect("list pools").into_inner().succession_pools
}

fn update(pool: pb::SuccessionPool, paths: &[&str]) -> pb::UpdateSuccessionPoolRequest {
    pb::UpdateSuccessionPoolRequest {
        succession_pool: Some(pool),
        update_mask: Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }),
    }
}

fn delete(name: &str, etag: &str) -> pb::DeleteSuccessionPoolRequest {
    pb::DeleteSuccessionPoolRequest { name: name.into(), etag: etag.into() }
}

/// Every row the helpers snapshot, and the pools with their candidates.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let mut rows = app.snapshot().await;
    let backend = app.db.get_database_backend();
    for sql in [
        "SELECT CAST(id AS TEXT) || '|' || CAST(unit_id AS TEXT) || '|' || post_title || '|' || \
         CAST(term_start_year AS TEXT) || '|' || CAST(term_end_year AS TEXT) || '|' || CAST(min_candidates AS TEXT) \
         || '|' || CAST(max_candidates AS TEXT) || '|' || CAST(revision AS TEXT) AS r FROM succession_pools",
        "SELECT CAST(pool_id AS TEXT) || '|' || CAST(person_id AS TEXT) || '|' || CAST(added_on AS TEXT) || '|' || \
         COALESCE(CAST(removed_on AS TEXT), '-') AS r FROM pool_candidates",
    ] {
        for row in app.db.query_all_raw(stmt(backend, sql, vec![])).await.expect("snapshot") {
            rows.push(row.try_get::<String>("", "r").expect("row"));
        }
    }
    rows.sort();
    rows
}

#[tokio::test]
async fn a_pool_shows_each_candidates_unmet_criteria_and_a_post_below_its_minimum_is_reported() {
    // Arrange: a commune chair standard, three cadres of Đồng Mỏ (Lạng Sơn): one who
    // meets it, one with a college degree and no political theory, one retired.
    let (app, mut client) = demo().await;
    chair_standard(&app).await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã", date(2020, 1, 1), None).await;
    let people = import(
        &app,
        vec![
            cadre(
                "Hoàng Văn Đạt",
                &office,
                &["scales/professional/levels/university", "scales/political_theory/levels/intermediate"],
                None,
            ),
            cadre("Lường Thị Mai", &office, &["scales/professional/levels/college"], None),
            cadre(
                "Nông Văn Hưu",
                &office,
                &["scales/professional/levels/master", "scales/political_theory/levels/advanced"],
                Some(date(2024, 8, 1)),
            ),
        ],
    )
    .await;
    let made = created(&mut client, pool(&office, 2021, 2026, 3, 5)).await;
    let other = created(
        &mut client,
        pb::SuccessionPool { post_title: "Phó Chủ tịch".into(), ..pool(&office, 2026, 2031, 0, 2) },
    )
    .await;
    assert_eq!((made.candidate_count, made.bounds()), (0, PoolBounds::BelowMinimum));
    for person in &people {
        client.add_candidate(add(&made.name, person, date(2022, 3, 1))).await.expect("add candidate");
    }

    // Act
    let full = got(&mut client, &made.name, date(2024, 9, 1)).await;
    let removed = client
        .remove_candidate(remove(&made.name, &people[1], date(2024, 10, 1)))
        .await
        .expect("remove")
        .into_inner()
        .succession_pool
        .expect("pool");
    let after = got(&mut client, &made.name, date(2024, 11, 1)).await;
    let below = listed(&mut client, "localities/20", date(2024, 11, 1), "bounds = BELOW_MINIMUM").await;
    let not_below = listed(&mut client, "localities/20", date(2024, 11, 1), "bounds != BELOW_MINIMUM").await;
    let earlier = listed(&mut client, "localities/20", date(2024, 9, 1), "bounds = BELOW_MINIMUM").await;
    let by_term = listed(&mut client, "localities/20", date(2024, 11, 1), "term_start_year = 2026").await;

    // Assert: compliance on 2024-09-01, with every unmet criterion.
    assert_eq!((full.candidate_count, full.bounds()), (3, PoolBounds::Within));
    let statuses: Vec<(String, ComplianceStatus)> =
        full.candidates.iter().map(|c| (c.full_name.clone(), c.compliance())).collect();
    assert_eq!(
        statuses,
        [
            ("Hoàng Văn Đạt".to_owned(), ComplianceStatus::Compliant),
            ("Lường Thị Mai".to_owned(), ComplianceStatus::NotCompliant),
            ("Nông Văn Hưu".to_owned(), ComplianceStatus::NotPlaced),
        ]
    );
    let unmet: Vec<(&str, &str, &str)> = full.candidates[1]
        .unmet
        .iter()
        .map(|u| (u.scale.as_str(), u.required_level.as_str(), u.held_level.as_str()))
        .collect();
    assert_eq!(
        unmet,
        [
            ("scales/political_theory", "scales/political_theory/levels/intermediate", ""),
            ("scales/professional", "scales/professional/levels/university", "scales/professional/levels/college"),
        ]
    );
    assert!(full.candidates[0].unmet.is_empty() && full.candidates[2].unmet.is_empty());
    assert_eq!(full.candidates[0].added_on, Some(date(2022, 3, 1)));
    // The removal keeps the history and leaves the post below its minimum.
    assert_eq!(removed.candidate_count, 2);
    assert_eq!((after.candidate_count, after.bounds()), (2, PoolBounds::BelowMinimum));
    assert_eq!(after.candidates.iter().map(|c| c.person.as_str()).collect::<Vec<_>>(), [&people[0], &people[2]]);
    assert_eq!(got(&mut client, &made.name, date(2024, 9, 1)).await.candidate_count, 3);
    let history = got(&mut client, &made.name, date(2024, 9, 30)).await;
    assert_eq!(history.candidates[1].removed_on, Some(date(2024, 10, 1)));
    assert_eq!(history.candidates[1].removed_reason, "Đưa ra khỏi quy hoạch");
    // Listings report the post below its minimum, with counts and no candidates.
    assert_eq!(below.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), [made.name.as_str()]);
    assert_eq!((below[0].candidate_count, below[0].bounds()), (2, PoolBounds::BelowMinimum));
    assert!(below[0].candidates.is_empty());
    assert_eq!(not_below.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), [other.name.as_str()]);
    assert!(earlier.is_empty(), "{earlier:?}");
    assert_eq!(by_term.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), [other.name.as_str()]);
}

#[tokio::test]
async fn a_person_is_in_a_pool_once_at_a_time_and_only_within_its_term() {
    // Arrange
    let (app, mut client) = demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã", date(2020, 1, 1), None).await;
    let people = import(&app, vec![cadre("Hoàng Văn Đạt", &office, &[], None)]).await;
    let made = created(&mut client, pool(&office, 2021, 2026, 1, 2)).await;
    client.add_candidate(add(&made.name, &people[0], date(2022, 3, 1))).await.expect("add");
    let before = snapshot(&app).await;

    // Act and assert: nothing below changes the database.
    let twice = client.add_candidate(add(&made.name, &people[0], date(2023, 1, 1))).await;
    assert_eq!(code_of(twice), Code::FailedPrecondition);
    let earlier = client.add_candidate(add(&made.name, &people[0], date(2021, 5, 1))).await;
    assert_eq!(code_of(earlier), Code::FailedPrecondition);
    let outside = invalid(client.add_candidate(add(&made.name, &people[0], date(2027, 1, 1))).await);
    assert_eq!(field_violations(&outside)[0].0, "candidate.added_on");
    let backwards = invalid(client.remove_candidate(remove(&made.name, &people[0], date(2022, 3, 1))).await);
    assert_eq!(field_violations(&backwards)[0].0, "removed_on");
    let nobody = client.add_candidate(add(&made.name, "people/999999", date(2022, 3, 1))).await;
    assert_eq!(code_of(nobody), Code::NotFound);
    assert_eq!(snapshot(&app).await, before);

    // A person removed can come back later, and a person not in the pool cannot be removed.
    client.remove_candidate(remove(&made.name, &people[0], date(2023, 1, 1))).await.expect("remove");
    let again = client.remove_candidate(remove(&made.name, &people[0], date(2024, 1, 1))).await;
    assert_eq!(code_of(again), Code::FailedPrecondition);
    let back = client.add_candidate(add(&made.name, &people[0], date(2024, 1, 1))).await.expect("re-add");
    assert_eq!(back.into_inner().succession_pool.expect("pool").candidate_count, 1);
    assert_eq!(got(&mut client, &made.name, date(2023, 6, 1)).await.candidate_count, 0);
}

#[tokio::test]
async fn each_bad_field_of_a_new_pool_is_named_and_nothing_is_written() {
    let (app, mut client) = demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã", date(2020, 1, 1), None).await;
    let base = || pool(&office, 2025, 2030, 2, 4);
    let before = snapshot(&app).await;
    let cases: Vec<(pb::SuccessionPool, &str)> = vec![
        (pb::SuccessionPool { unit: String::new(), ..base() }, "succession_pool.unit"),
        (pb::SuccessionPool { unit: "localities/20".into(), ..base() }, "succession_pool.unit"),
        (pb::SuccessionPool { unit: "units/999".into(), ..base() }, "succession_pool.unit"),
        (pb::SuccessionPool { post_title: " ".into(), ..base() }, "succession_pool.post_title"),
        (pb::SuccessionPool { post_title: "ư".repeat(201), ..base() }, "succession_pool.post_title"),
        (pb::SuccessionPool { term_start_year: 1949, ..base() }, "succession_pool.term_start_year"),
        (pb::SuccessionPool { term_end_year: 2101, ..base() }, "succession_pool.term_end_year"),
        (pb::SuccessionPool { term_end_year: 2025, ..base() }, "succession_pool.term_end_year"),
        (pb::SuccessionPool { min_candidates: -1, ..base() }, "succession_pool.min_candidates"),
        (pb::SuccessionPool { max_candidates: 1, ..base() }, "succession_pool.max_candidates"),
    ];
    for (bad, field) in cases {
        let status = invalid(client.create_succession_pool(create(bad)).await);
        let fields: Vec<String> = field_violations(&status).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{status:?}");
    }
    let long_id = pb::CreateSuccessionPoolRequest { succession_pool: Some(base()), request_id: "x".repeat(129) };
    assert_eq!(field_violations(&invalid(client.create_succession_pool(long_id).await))[0].0, "request_id");
    assert_eq!(
        code_of(client.create_succession_pool(pb::CreateSuccessionPoolRequest::default()).await),
        Code::InvalidArgument
    );
    for name in ["", "successionPools/0", "units/1"] {
        assert_eq!(
            field_violations(&invalid(client.get_succession_pool(get(name, date(2025, 1, 1))).await))[0].0,
            "name"
        );
    }
    let bad_filter =
        invalid(client.list_succession_pools(list("localities/20", date(2025, 1, 1), "bounds = LOW")).await);
    assert_eq!(field_violations(&bad_filter)[0].0, "filter");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn pools_are_created_once_per_request_id_updated_with_their_etag_and_deleted() {
    // Arrange
    let (app, mut client) = demo().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã", date(2020, 1, 1), None).await;
    let request = pb::CreateSuccessionPoolRequest {
        succession_pool: Some(pb::SuccessionPool {
            post_title: "  Chủ tịch   UBND xã ".into(),
            ..pool(&office, 2025, 2030, 2, 4)
        }),
        request_id: "4f7c1d2e-pool".into(),
    };

    // Act
    let first = client.create_succession_pool(request.clone()).await.expect("create").into_inner().succession_pool;
    let retried = client.create_succession_pool(request).await.expect("retry").into_inner().succession_pool;
    let first = first.expect("pool");
    let changed = pb::SuccessionPool {
        name: first.name.clone(),
        etag: first.etag.clone(),
        max_candidates: 6,
        term_end_year: 2031,
        ..Default::default()
    };
    let updated = client
        .update_succession_pool(update(changed.clone(), &["max_candidates", "term_end_year"]))
        .await
        .expect("update")
        .into_inner()
        .succession_pool
        .expect("pool");

    // Assert
    assert_eq!(retried.as_ref().map(|p| p.name.as_str()), Some(first.name.as_str()));
    assert_eq!(first.post_title, "Chủ tịch UBND xã");
    assert_eq!((updated.max_candidates, updated.term_end_year, updated.min_candidates), (6, 2031, 2));
    assert_ne!(updated.etag, first.etag);
    let stale = client.update_succession_pool(update(changed, &["max_candidates"])).await;
    assert_eq!(code_of(stale), Code::Aborted);
    let below_min = pb::SuccessionPool { name: first.name.clone(), max_candidates: 1, ..Default::default() };
    let status = invalid(client.update_succession_pool(update(below_min, &["max_candidates"])).await);
    assert_eq!(field_violations(&status)[0].0, "succession_pool.max_candidates");
    let bad_mask = pb::SuccessionPool { name: first.name.clone(), ..Default::default() };
    assert_eq!(
        field_violations(&invalid(client.update_succession_pool(update(bad_mask, &["unit"])).await))[0].0,
        "update_mask"
    );
    assert_eq!(code_of(client.delete_succession_pool(delete(&first.name, &first.etag)).await), Code::Aborted);
    client.delete_succession_pool(delete(&first.name, &updated.etag)).await.expect("delete");
    assert_eq!(code_of(client.get_succession_pool(get(&first.name, date(2025, 1, 1))).await), Code::NotFound);
}

/// The methods of `hrplan.v1.SuccessionPoolService`, from the descriptor set.
fn pool_service_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(hrplan::grpc::FILE_DESCRIPTOR_SET).expect("a descriptor set");
    set.file
        .iter()
        .filter(|file| file.package() == "hrplan.v1")
        .flat_map(|file| file.service.iter())
        .filter(|service| service.name() == "SuccessionPoolService")
        .flat_map(|service| service.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

#[tokio::test]
async fn every_pool_rpc_aimed_at_another_province_is_refused_to_a_caller_scoped_to_one_province() {
    // Arrange: a pool and a person of Điện Biên (11); a caller scoped to Lạng Sơn (20)
    // with every role but admin.
    let (app, mut client) = demo().await;
    let office = unit(&app, "localities/03334", "Ủy ban nhân dân xã", date(2020, 1, 1), None).await;
    let people = import(&app, vec![cadre("Lò Văn Pọm", &office, &[], None)]).await;
    let made = created(&mut client, pool(&office, 2021, 2026, 1, 2)).await;
    client.add_candidate(add(&made.name, &people[0], date(2022, 3, 1))).await.expect("add");
    let mut scoped = app.as_(Caller::of(&["20"], &[Role::Editor, Role::PersonalDataReader])).pools();
    let before = snapshot(&app).await;
    let on = date(2023, 1, 1);

    // Act
    let mut refused = BTreeSet::new();
    let mut check = |method: &str, result: Code| {
        assert_eq!(result, Code::PermissionDenied, "{method}");
        refused.insert(method.to_owned());
    };
    check(
        "CreateSuccessionPool",
        code_of(scoped.create_succession_pool(create(pool(&office, 2025, 2030, 1, 2))).await),
    );
    check("GetSuccessionPool", code_of(scoped.get_succession_pool(get(&made.name, on)).await));
    check("ListSuccessionPools", code_of(scoped.list_succession_pools(list("localities/11", on, "")).await));
    let change = pb::SuccessionPool { name: made.name.clone(), max_candidates: 9, ..Default::default() };
    check("UpdateSuccessionPool", code_of(scoped.update_succession_pool(update(change, &["max_candidates"])).await));
    check("DeleteSuccessionPool", code_of(scoped.delete_succession_pool(delete(&made.name, "")).await));
    check("AddCandidate", code_of(scoped.add_candidate(add(&made.name, &people[0], on)).await));
    check("RemoveCandidate", code_of(scoped.remove_candidate(remove(&made.name, &people[0], on)).await));

    // Assert
    assert_eq!(refused, pool_service_methods(), "every SuccessionPoolService RPC needs an out-of-scope call here");
    assert_eq!(snapshot(&app).await, before);
    // Pools that do not exist are refused too, rather than reported missing.
    assert_eq!(code_of(scoped.get_succession_pool(get("successionPools/999", on)).await), Code::PermissionDenied);
    let nowhere = pool("units/999", 2025, 2030, 1, 2);
    assert_eq!(code_of(scoped.create_succession_pool(create(nowhere)).await), Code::PermissionDenied);
}

#[tokio::test]
async fn a_person_out_of_the_callers_scope_cannot_be_added_and_reading_pools_needs_the_personal_data_role() {
    // Arrange: a pool of Lạng Sơn (20) and a person of Điện Biên (11).
    let (app, mut client) = demo().await;
    let own = unit(&app, "localities/06463", "Ủy ban nhân dân xã", date(2020, 1, 1), None).await;
    let far = unit(&app, "localities/03334", "Ủy ban nhân dân xã", date(2020, 1, 1), None).await;
    let people =
        import(&app, vec![cadre("Lò Văn Pọm", &far, &[], None), cadre("Hoàng Văn Đạt", &own, &[], None)]).await;
    let made = created(&mut client, pool(&own, 2021, 2026, 1, 2)).await;
    let mut editor = app.as_(Caller::of(&["20"], &[Role::Editor, Role::PersonalDataReader])).pools();
    let mut aggregate = app.as_(Caller::of(&["20"], &[Role::AggregateReader])).pools();

    // Act and assert
    let far_person = editor.add_candidate(add(&made.name, &people[0], date(2022, 3, 1))).await;
    assert_eq!(code_of(far_person), Code::PermissionDenied);
    editor.add_candidate(add(&made.name, &people[1], date(2022, 3, 1))).await.expect("a person in scope");
    assert_eq!(got(&mut editor, &made.name, date(2023, 1, 1)).await.candidate_count, 1);
    assert_eq!(listed(&mut editor, "localities/20", date(2023, 1, 1), "").await.len(), 1);
    assert_eq!(code_of(aggregate.get_succession_pool(get(&made.name, date(2023, 1, 1))).await), Code::PermissionDenied);
    let listing = aggregate.list_succession_pools(list("localities/20", date(2023, 1, 1), "")).await;
    assert_eq!(code_of(listing), Code::PermissionDenied);
}
