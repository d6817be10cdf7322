//! RotationService: movements of cadres, their direction, and their effects on
//! placements (start, completion, cancellation), with their rules and scope.

use std::collections::BTreeSet;

use hrplan::{
    auth::Role,
    grpc::pb::{self},
};
use prost::Message as _;
use prost_types::FieldMask;
use tonic::Code;

use crate::clients::{Caller, RotationClient};
use crate::helpers::{TestApp, date, fails_with, rejects, spawn_app, unit};

/// A change that breaks one rule of a movement.
type Change = Box<dyn Fn(&mut pb::Rotation)>;

/// Creates a person placed at `unit` from 2020-01-01 (until `until`); returns the name.
pub(crate) async fn person_at(app: &TestApp, full_name: &str, unit: &str, until: Option<pb::Date>) -> String {
    app.as_admin()
        .people()
        .create_person(pb::CreatePersonRequest {
            record: Some(pb::PersonRecord {
                person: Some(pb::Person {
                    full_name: full_name.into(),
                    birth_date: Some(date(1982, 5, 4)),
                    gender: pb::Gender::Male.into(),
                    ethnicity: "Tày".into(),
                    category: pb::PersonCategory::CivilServant.into(),
                    employed_from: Some(date(2005, 9, 1)),
                    ..Default::default()
                }),
                placements: vec![pb::Placement {
                    unit: unit.into(),
                    post_title: "Phó Trưởng phòng Nội vụ".into(),
                    valid_from: Some(date(2020, 1, 1)),
                    valid_until: until,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("creating a person")
        .into_inner()
        .person
        .expect("person")
        .name
}

fn rotation(
    person: &str,
    kind: pb::RotationKind,
    from: &str,
    to: &str,
    start: pb::Date,
    planned_end: Option<pb::Date>,
) -> pb::Rotation {
    pb::Rotation {
        person: person.into(),
        kind: kind.into(),
        source_unit: from.into(),
        source_post: "Phó Trưởng phòng Nội vụ".into(),
        destination_unit: to.into(),
        destination_post: "Bí thư Đảng ủy xã".into(),
        destination_leader: true,
        start_date: Some(start),
        planned_end_date: planned_end,
        decision: Some(pb::RotationDecision {
            number: "215-QĐ/TU".into(),
            decided_on: Some(date(2023, 12, 1)),
            issuing_body: "Ban Thường vụ Tỉnh ủy Lạng Sơn".into(),
        }),
        programme: "Đề án 500".into(),
        ..Default::default()
    }
}

fn create(r: pb::Rotation) -> pb::CreateRotationRequest {
    pb::CreateRotationRequest { rotation: Some(r), request_id: String::new() }
}

async fn created(client: &mut RotationClient, r: pb::Rotation) -> pb::Rotation {
    client.create_rotation(create(r)).await.expect("create rotation").into_inner().rotation.expect("rotation")
}

async fn start(client: &mut RotationClient, name: &str) -> pb::Rotation {
    client
        .start_rotation(pb::StartRotationRequest { name: name.into(), etag: String::new() })
        .await
        .expect("start")
        .into_inner()
        .rotation
        .expect("rotation")
}

fn completion(name: &str, end: pb::Date, promoted: bool) -> pb::CompleteRotationRequest {
    pb::CompleteRotationRequest {
        name: name.into(),
        actual_end_date: Some(end),
        outcome: Some(pb::RotationOutcome {
            rating: pb::Rating::Excellent.into(),
            promoted,
            post_after_return: String::new(),
        }),
        etag: String::new(),
    }
}

fn cancel(name: &str) -> pb::CancelRotationRequest {
    pb::CancelRotationRequest { name: name.into(), etag: String::new() }
}

/// The people placed in `locality` on a date.
async fn counted(app: &TestApp, locality: &str, as_of: pb::Date) -> Vec<String> {
    let found: Vec<String> = app
        .as_admin()
        .people()
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
        .collect();
    // The reports count the same people there that day (a rotated person at the
    // destination during the rotation), from facts in step with the placements.
    let report = app
        .as_(Caller::of(&["*"], &[Role::PersonalDataReader]))
        .reports()
        .get_workforce_profile(pb::GetWorkforceProfileRequest {
            scope: Some(pb::ReportScope { locality: locality.into(), as_of: Some(as_of), ..Default::default() }),
        })
        .await
        .expect("report")
        .into_inner();
    assert_eq!(report.total.map(|t| t.headcount), Some(i64::try_from(found.len()).unwrap_or_default()));
    app.assert_facts_in_step().await;
    found
}

/// A person's placements as (unit, from, until), failing if any two overlap.
async fn placements(app: &TestApp, person: &str) -> Vec<(String, pb::Date, Option<pb::Date>)> {
    let list = app
        .as_admin()
        .people()
        .list_placements(pb::ListPlacementsRequest { parent: person.into(), page_size: 1000, ..Default::default() })
        .await
        .expect("list placements")
        .into_inner()
        .placements;
    let key = |d: &pb::Date| (d.year, d.month, d.day);
    let mut periods: Vec<_> =
        list.iter().map(|p| (p.unit.clone(), p.valid_from.expect("from"), p.valid_until)).collect();
    periods.sort_by_key(|(_, from, _)| key(from));
    for pair in periods.windows(2) {
        let (_, _, until) = &pair[0];
        let (_, next_from, _) = &pair[1];
        let until = until.as_ref().expect("only the last placement may be open-ended");
        assert!(key(until) <= key(next_from), "overlapping placements: {periods:?}");
    }
    periods
}

/// The demo tree with units: a district office of Huyện Chi Lăng (187, until the
/// 2025 reorganisation), commune offices of Đồng Mỏ (06463) and Vĩnh Trại (05977),
/// and the provincial department of Lạng Sơn (20).
struct Fixture {
    app: TestApp,
    district: String,
    dong_mo: String,
    vinh_trai: String,
    province: String,
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    app.load_demo().await;
    let district =
        unit(&app, "localities/187", "Ủy ban nhân dân huyện Chi Lăng", date(2020, 1, 1), Some(date(2025, 7, 1))).await;
    let dong_mo = unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", date(2020, 1, 1), None).await;
    let vinh_trai = unit(&app, "localities/05977", "Ủy ban nhân dân phường Vĩnh Trại", date(2020, 1, 1), None).await;
    let province = unit(&app, "localities/20", "Sở Nội vụ tỉnh Lạng Sơn", date(2020, 1, 1), None).await;
    Fixture { app, district, dong_mo, vinh_trai, province }
}

#[tokio::test]
async fn direction_follows_the_tiers_of_the_tree_on_the_start_date() {
    let f = fixture().await;
    let mut client = f.app.as_admin().rotations();
    use pb::{RotationDirection as D, RotationKind as K};

    let a = person_at(&f.app, "Hoàng Văn A", &f.district, Some(date(2025, 7, 1))).await;
    let down = created(
        &mut client,
        rotation(&a, K::Rotation, &f.district, &f.dong_mo, date(2024, 1, 1), Some(date(2025, 1, 1))),
    )
    .await;
    assert_eq!(down.direction(), D::Downward);
    assert!(down.crosses_localities);
    assert_eq!(down.status(), pb::RotationStatus::Planned);

    let b = person_at(&f.app, "Hoàng Văn B", &f.dong_mo, None).await;
    let up = created(
        &mut client,
        rotation(&b, K::Rotation, &f.dong_mo, &f.district, date(2024, 3, 1), Some(date(2025, 3, 1))),
    )
    .await;
    assert_eq!(up.direction(), D::Upward);

    let c = person_at(&f.app, "Hoàng Văn C", &f.dong_mo, None).await;
    let lateral = created(
        &mut client,
        rotation(&c, K::Reinforcement, &f.dong_mo, &f.vinh_trai, date(2024, 3, 1), Some(date(2025, 3, 1))),
    )
    .await;
    assert_eq!(lateral.direction(), D::Lateral);
    assert!(lateral.crosses_localities);

    // Across the reorganisation: after 2025-07-01 the district is gone, so a commune
    // cadre can no longer go up to it; the province is the tier above the commune.
    let d = person_at(&f.app, "Hoàng Văn D", &f.dong_mo, None).await;
    let late = rotation(&d, K::Rotation, &f.dong_mo, &f.district, date(2025, 8, 1), Some(date(2026, 8, 1)));
    rejects(&f.app, client.create_rotation(create(late)), "rotation.destination_unit").await;
    let before = rotation(&d, K::Rotation, &f.dong_mo, &f.district, date(2025, 3, 1), Some(date(2025, 6, 1)));
    let before = created(&mut client, before).await;
    assert_eq!(before.direction(), D::Upward);
    client.delete_rotation(pb::DeleteRotationRequest { name: before.name, etag: before.etag }).await.expect("delete");
    let after = created(
        &mut client,
        rotation(&d, K::Secondment, &f.dong_mo, &f.province, date(2025, 8, 1), Some(date(2026, 8, 1))),
    )
    .await;
    assert_eq!(after.direction(), D::Upward);

    let e = person_at(&f.app, "Hoàng Văn E", &f.province, None).await;
    let from_province = created(
        &mut client,
        rotation(&e, K::Rotation, &f.province, &f.dong_mo, date(2025, 9, 1), Some(date(2027, 9, 1))),
    )
    .await;
    assert_eq!(from_province.direction(), D::Downward);

    // Listing filters on the derived direction.
    let listed = client
        .list_rotations(pb::ListRotationsRequest {
            locality: "localities/20".into(),
            filter: "direction = DOWNWARD".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .rotations;
    let names: BTreeSet<String> = listed.into_iter().map(|r| r.name).collect();
    assert_eq!(names, BTreeSet::from([down.name.clone(), from_province.name.clone()]));

    // Paging by id covers every movement once.
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_rotations(pb::ListRotationsRequest {
                locality: "localities/20".into(),
                start_from: Some(date(2024, 1, 1)),
                page_size: 2,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.rotations.len() <= 2);
        seen.extend(page.rotations.into_iter().map(|r| r.name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, [&down, &up, &lateral, &after, &from_province].map(|r| r.name.clone()));
}

#[tokio::test]
async fn the_person_counts_at_the_destination_during_a_rotation_and_at_the_source_before_and_after() {
    let f = fixture().await;
    let mut client = f.app.as_admin().rotations();
    let person = person_at(&f.app, "Lường Văn Thắng", &f.vinh_trai, None).await;
    let (source, destination) = ("localities/05977", "localities/06463");
    let planned = created(
        &mut client,
        rotation(
            &person,
            pb::RotationKind::Rotation,
            &f.vinh_trai,
            &f.dong_mo,
            date(2024, 1, 1),
            Some(date(2025, 1, 1)),
        ),
    )
    .await;

    // Planned: nothing moves.
    assert_eq!(counted(&f.app, source, date(2024, 6, 1)).await, vec![person.clone()]);
    assert_eq!(placements(&f.app, &person).await.len(), 1);

    // Started: at the destination during the period, at the source before.
    let active = start(&mut client, &planned.name).await;
    assert_eq!(active.status(), pb::RotationStatus::Active);
    assert_eq!(counted(&f.app, source, date(2023, 12, 31)).await, vec![person.clone()]);
    assert!(counted(&f.app, destination, date(2023, 12, 31)).await.is_empty());
    assert_eq!(counted(&f.app, destination, date(2024, 1, 1)).await, vec![person.clone()]);
    assert!(counted(&f.app, source, date(2024, 6, 1)).await.is_empty());
    let during = placements(&f.app, &person).await;
    assert_eq!(
        during,
        [
            (f.vinh_trai.clone(), date(2020, 1, 1), Some(date(2024, 1, 1))),
            (f.dong_mo.clone(), date(2024, 1, 1), Some(date(2025, 1, 1))),
        ]
    );

    // Completed with a return: back at the source from the actual end.
    let done = client
        .complete_rotation(completion(&planned.name, date(2025, 2, 1), true))
        .await
        .expect("complete")
        .into_inner()
        .rotation
        .expect("rotation");
    assert_eq!(done.status(), pb::RotationStatus::Completed);
    assert_eq!(done.actual_end_date, Some(date(2025, 2, 1)));
    let outcome = done.outcome.expect("outcome");
    assert!(outcome.promoted);
    assert_eq!(outcome.rating(), pb::Rating::Excellent);
    assert_eq!(counted(&f.app, destination, date(2025, 1, 15)).await, vec![person.clone()]);
    assert_eq!(counted(&f.app, source, date(2025, 2, 1)).await, vec![person.clone()]);
    assert!(counted(&f.app, destination, date(2025, 2, 1)).await.is_empty());
    assert_eq!(placements(&f.app, &person).await.len(), 3);

    // A completed movement cannot be cancelled.
    fails_with(&f.app, client.cancel_rotation(cancel(&planned.name)), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn cancelling_a_started_rotation_restores_the_placements_and_a_transfer_stays() {
    let f = fixture().await;
    let mut client = f.app.as_admin().rotations();
    let person = person_at(&f.app, "Vi Thị Hạnh", &f.vinh_trai, None).await;
    let before = placements(&f.app, &person).await;
    let planned = created(
        &mut client,
        rotation(
            &person,
            pb::RotationKind::Secondment,
            &f.vinh_trai,
            &f.dong_mo,
            date(2024, 1, 1),
            Some(date(2025, 1, 1)),
        ),
    )
    .await;
    start(&mut client, &planned.name).await;
    assert_eq!(placements(&f.app, &person).await.len(), 2);
    let cancelled =
        client.cancel_rotation(cancel(&planned.name)).await.expect("cancel").into_inner().rotation.expect("rotation");
    assert_eq!(cancelled.status(), pb::RotationStatus::Cancelled);
    assert_eq!(placements(&f.app, &person).await, before);
    assert_eq!(counted(&f.app, "localities/05977", date(2024, 6, 1)).await, vec![person.clone()]);

    // A planned movement is cancelled without effect; a transfer stays at the destination.
    let planned = created(
        &mut client,
        rotation(
            &person,
            pb::RotationKind::Rotation,
            &f.vinh_trai,
            &f.dong_mo,
            date(2024, 2, 1),
            Some(date(2025, 1, 1)),
        ),
    )
    .await;
    client.cancel_rotation(cancel(&planned.name)).await.expect("cancel planned");
    assert_eq!(placements(&f.app, &person).await, before);
    let transfer = created(
        &mut client,
        rotation(&person, pb::RotationKind::Transfer, &f.vinh_trai, &f.dong_mo, date(2024, 3, 1), None),
    )
    .await;
    start(&mut client, &transfer.name).await;
    client.complete_rotation(completion(&transfer.name, date(2024, 9, 1), false)).await.expect("complete");
    assert_eq!(
        placements(&f.app, &person).await,
        [(f.vinh_trai.clone(), date(2020, 1, 1), Some(date(2024, 3, 1))), (f.dong_mo.clone(), date(2024, 3, 1), None),]
    );
    assert_eq!(counted(&f.app, "localities/06463", date(2026, 1, 1)).await, vec![person.clone()]);
}

#[tokio::test]
async fn a_second_open_rotation_for_the_same_person_fails_and_changes_nothing() {
    let f = fixture().await;
    let mut client = f.app.as_admin().rotations();
    let person = person_at(&f.app, "Nông Văn Dũng", &f.vinh_trai, None).await;
    let first = created(
        &mut client,
        rotation(
            &person,
            pb::RotationKind::Rotation,
            &f.vinh_trai,
            &f.dong_mo,
            date(2024, 1, 1),
            Some(date(2025, 1, 1)),
        ),
    )
    .await;
    let second = rotation(
        &person,
        pb::RotationKind::Reinforcement,
        &f.vinh_trai,
        &f.province,
        date(2024, 1, 1),
        Some(date(2025, 1, 1)),
    );
    fails_with(&f.app, client.create_rotation(create(second.clone())), Code::FailedPrecondition).await;
    start(&mut client, &first.name).await;
    let later = rotation(
        &person,
        pb::RotationKind::Rotation,
        &f.dong_mo,
        &f.province,
        date(2024, 6, 1),
        Some(date(2024, 12, 1)),
    );
    fails_with(&f.app, client.create_rotation(create(later)), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn starting_fails_when_the_destination_period_would_overlap_another_placement() {
    let f = fixture().await;
    let mut client = f.app.as_admin().rotations();
    let person = person_at(&f.app, "Hà Văn Quang", &f.vinh_trai, Some(date(2024, 6, 1))).await;
    f.app
        .as_admin()
        .people()
        .create_placement(pb::CreatePlacementRequest {
            parent: person.clone(),
            placement: Some(pb::Placement {
                unit: f.province.clone(),
                post_title: "Chuyên viên".into(),
                valid_from: Some(date(2024, 6, 1)),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("a later placement");
    let planned = created(
        &mut client,
        rotation(
            &person,
            pb::RotationKind::Rotation,
            &f.vinh_trai,
            &f.dong_mo,
            date(2024, 1, 1),
            Some(date(2025, 1, 1)),
        ),
    )
    .await;
    let request = pb::StartRotationRequest { name: planned.name.clone(), etag: planned.etag.clone() };
    fails_with(&f.app, client.start_rotation(request), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn each_rule_of_a_movement_is_a_violation_of_its_field_and_changes_nothing() {
    let f = fixture().await;
    let mut client = f.app.as_admin().rotations();
    let person = person_at(&f.app, "Đinh Thị Lan", &f.vinh_trai, None).await;
    let good = || {
        rotation(
            &person,
            pb::RotationKind::Rotation,
            &f.vinh_trai,
            &f.dong_mo,
            date(2024, 1, 1),
            Some(date(2025, 1, 1)),
        )
    };
    let cases: Vec<(&str, Change)> = vec![
        ("rotation.person", Box::new(|r| r.person = "persons/1".into())),
        ("rotation.kind", Box::new(|r| r.kind = 0)),
        ("rotation.source_unit", Box::new(|r| r.source_unit = String::new())),
        ("rotation.source_post", Box::new(|r| r.source_post = "  ".into())),
        ("rotation.destination_post", Box::new(|r| r.destination_post = "x".repeat(201))),
        ("rotation.start_date", Box::new(|r| r.start_date = None)),
        ("rotation.planned_end_date", Box::new(|r| r.planned_end_date = Some(date(2023, 1, 1)))),
        ("rotation.planned_end_date", Box::new(|r| r.planned_end_date = None)),
        ("rotation.planned_end_date", Box::new(|r| r.kind = pb::RotationKind::Transfer.into())),
        ("rotation.decision", Box::new(|r| r.decision = None)),
        ("rotation.decision.number", Box::new(|r| r.decision.as_mut().expect("decision").number = String::new())),
        (
            "rotation.decision.issuing_body",
            Box::new(|r| r.decision.as_mut().expect("decision").issuing_body = String::new()),
        ),
        ("rotation.decision.decided_on", Box::new(|r| r.decision.as_mut().expect("decision").decided_on = None)),
        ("rotation.programme", Box::new(|r| r.programme = "x".repeat(301))),
        ("rotation.destination_unit", Box::new(|r| r.destination_unit = r.source_unit.clone())),
        ("rotation.destination_unit", Box::new(|r| r.destination_unit = "units/999".into())),
    ];
    for (field, change) in cases {
        let mut r = good();
        change(&mut r);
        rejects(&f.app, client.create_rotation(create(r)), field).await;
    }
    // Not placed at the source on the start date.
    let elsewhere = rotation(
        &person,
        pb::RotationKind::Rotation,
        &f.province,
        &f.dong_mo,
        date(2024, 1, 1),
        Some(date(2025, 1, 1)),
    );
    fails_with(&f.app, client.create_rotation(create(elsewhere)), Code::FailedPrecondition).await;
    let gone = person_at(&f.app, "Đinh Văn Cường", &f.vinh_trai, Some(date(2022, 6, 1))).await;
    let early =
        rotation(&gone, pb::RotationKind::Rotation, &f.vinh_trai, &f.dong_mo, date(2023, 1, 1), Some(date(2024, 1, 1)));
    fails_with(&f.app, client.create_rotation(create(early)), Code::FailedPrecondition).await;

    // Idempotent creation; etags; only planned movements are updated or deleted.
    let request = pb::CreateRotationRequest { rotation: Some(good()), request_id: "rot-1".into() };
    let made = client.create_rotation(request.clone()).await.expect("create").into_inner().rotation.expect("r");
    let snapshot = f.app.snapshot().await;
    let again = client.create_rotation(request).await.expect("retry").into_inner().rotation.expect("r");
    assert_eq!(again.name, made.name);
    assert_eq!(f.app.snapshot().await, snapshot);
    let stale = pb::DeleteRotationRequest { name: made.name.clone(), etag: "\"99\"".into() };
    fails_with(&f.app, client.delete_rotation(stale), Code::Aborted).await;
    let mut change = made.clone();
    change.destination_post = "Chủ tịch Ủy ban nhân dân xã".into();
    change.planned_end_date = Some(date(2025, 6, 1));
    let updated = client
        .update_rotation(pb::UpdateRotationRequest {
            rotation: Some(change.clone()),
            update_mask: Some(FieldMask { paths: vec!["destination_post".into(), "planned_end_date".into()] }),
        })
        .await
        .expect("update")
        .into_inner()
        .rotation
        .expect("r");
    assert_eq!(updated.destination_post, "Chủ tịch Ủy ban nhân dân xã");
    assert_eq!(updated.planned_end_date, Some(date(2025, 6, 1)));
    assert_ne!(updated.etag, made.etag);
    let mut bad = updated.clone();
    bad.planned_end_date = Some(date(2023, 1, 1));
    let mask = FieldMask { paths: vec!["planned_end_date".into()] };
    let call =
        client.update_rotation(pb::UpdateRotationRequest { rotation: Some(bad), update_mask: Some(mask.clone()) });
    rejects(&f.app, call, "rotation.planned_end_date").await;
    start(&mut client, &made.name).await;
    change.etag.clear();
    let call = client.update_rotation(pb::UpdateRotationRequest { rotation: Some(change), update_mask: Some(mask) });
    fails_with(&f.app, call, Code::FailedPrecondition).await;
    let removal = pb::DeleteRotationRequest { name: made.name.clone(), etag: String::new() };
    fails_with(&f.app, client.delete_rotation(removal), Code::FailedPrecondition).await;
    fails_with(
        &f.app,
        client.start_rotation(pb::StartRotationRequest { name: made.name.clone(), etag: String::new() }),
        Code::FailedPrecondition,
    )
    .await;
    rejects(&f.app, client.complete_rotation(completion(&made.name, date(2023, 1, 1), false)), "actual_end_date").await;
}

fn rotation_service_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(hrplan::grpc::FILE_DESCRIPTOR_SET).expect("a descriptor set");
    set.file
        .iter()
        .filter(|file| file.package() == "hrplan.v1")
        .flat_map(|file| file.service.iter())
        .filter(|service| service.name() == "RotationService")
        .flat_map(|service| service.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

#[tokio::test]
async fn every_rotation_rpc_aimed_at_another_province_is_refused_and_writes_need_both_ends() {
    // Arrange: a rotation in Điện Biên (11), and a caller scoped to Lạng Sơn (20).
    let f = fixture().await;
    let app = &f.app;
    let mut client = app.as_admin().rotations();
    let thanh_xuong = unit(app, "localities/03334", "Ủy ban nhân dân xã Thanh Xương", date(2020, 1, 1), None).await;
    let department = unit(app, "localities/11", "Sở Nội vụ tỉnh Điện Biên", date(2020, 1, 1), None).await;
    let person = person_at(app, "Lò Văn Pâng", &thanh_xuong, None).await;
    let target = created(
        &mut client,
        rotation(
            &person,
            pb::RotationKind::Rotation,
            &thanh_xuong,
            &department,
            date(2024, 1, 1),
            Some(date(2025, 1, 1)),
        ),
    )
    .await;
    let mut scoped = app.as_(Caller::of(&["20"], &[Role::Editor, Role::PersonalDataReader])).rotations();
    let name = target.name.clone();
    let mut status = Vec::new();

    // Act
    let new = rotation(&person, pb::RotationKind::Transfer, &thanh_xuong, &department, date(2024, 2, 1), None);
    status.push(("CreateRotation", fails_with(app, scoped.create_rotation(create(new)), Code::PermissionDenied).await));
    let get = pb::GetRotationRequest { name: name.clone() };
    status.push(("GetRotation", fails_with(app, scoped.get_rotation(get), Code::PermissionDenied).await));
    let list = pb::ListRotationsRequest { locality: "localities/11".into(), ..Default::default() };
    status.push(("ListRotations", fails_with(app, scoped.list_rotations(list), Code::PermissionDenied).await));
    let mut change = target.clone();
    change.programme = "Khác".into();
    let update = pb::UpdateRotationRequest {
        rotation: Some(change),
        update_mask: Some(FieldMask { paths: vec!["programme".into()] }),
    };
    status.push(("UpdateRotation", fails_with(app, scoped.update_rotation(update), Code::PermissionDenied).await));
    let delete = pb::DeleteRotationRequest { name: name.clone(), etag: String::new() };
    status.push(("DeleteRotation", fails_with(app, scoped.delete_rotation(delete), Code::PermissionDenied).await));
    let begin = pb::StartRotationRequest { name: name.clone(), etag: String::new() };
    status.push(("StartRotation", fails_with(app, scoped.start_rotation(begin), Code::PermissionDenied).await));
    let finish = completion(&name, date(2025, 1, 1), false);
    status.push(("CompleteRotation", fails_with(app, scoped.complete_rotation(finish), Code::PermissionDenied).await));
    status
        .push(("CancelRotation", fails_with(app, scoped.cancel_rotation(cancel(&name)), Code::PermissionDenied).await));

    // Assert
    let mut methods = BTreeSet::new();
    for (method, status) in status {
        assert!(!status.message().contains("Lò Văn"), "{method} told a name: {status:?}");
        methods.insert(method.to_owned());
    }
    assert_eq!(methods, rotation_service_methods(), "every RotationService RPC needs an out-of-scope call here");

    // A rotation that does not exist is refused to a scoped caller, not found to a national one.
    let missing = pb::GetRotationRequest { name: "rotations/999".into() };
    fails_with(app, scoped.get_rotation(missing.clone()), Code::PermissionDenied).await;
    fails_with(app, client.get_rotation(missing), Code::NotFound).await;

    // A "20" editor may not move a Lạng Sơn person to a Điện Biên unit, but may move
    // them within Lạng Sơn, and then reads the movement.
    let local = person_at(app, "Hoàng Thị Lụa", &f.vinh_trai, None).await;
    let away = rotation(
        &local,
        pb::RotationKind::Rotation,
        &f.vinh_trai,
        &department,
        date(2024, 1, 1),
        Some(date(2025, 1, 1)),
    );
    fails_with(app, scoped.create_rotation(create(away)), Code::PermissionDenied).await;
    let home = rotation(
        &local,
        pb::RotationKind::Rotation,
        &f.vinh_trai,
        &f.dong_mo,
        date(2024, 1, 1),
        Some(date(2025, 1, 1)),
    );
    let made = created(&mut scoped, home).await;
    scoped.get_rotation(pb::GetRotationRequest { name: made.name.clone() }).await.expect("read in scope");
    let listed = scoped
        .list_rotations(pb::ListRotationsRequest { locality: "localities/20".into(), ..Default::default() })
        .await
        .expect("list in scope")
        .into_inner()
        .rotations;
    assert_eq!(listed.iter().map(|r| r.name.clone()).collect::<Vec<_>>(), vec![made.name.clone()]);

    // An editor without personal-data access cannot read movements.
    let mut editor = app.as_(Caller::of(&["20"], &[Role::Editor])).rotations();
    fails_with(app, editor.get_rotation(pb::GetRotationRequest { name: made.name }), Code::PermissionDenied).await;
}
