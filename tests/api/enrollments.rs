//! EnrollmentService: enrolments in approved plans, transitions, the qualification a
//! completed degree line records (issue 4, acceptance points 2 and 3), batches,
//! imports and scope.
//!
//! Units and people are created through their services; plans and lines are inserted
//! with SQL (columns of migration 000004), so that these tests depend on the
//! TrainingPlanService only through the schema.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use hrplan::{
    auth::Role,
    grpc::pb::{self, ComplianceStatus, EnrollmentStatus as S, LocalityTier as T, PersonCategory as C},
    store::stmt,
};
use prost::Message as _;
use sea_orm::{ConnectionTrait, Value};
use tonic::Code;

use crate::clients::{Caller, EnrollmentClient};
use crate::helpers::{TestApp, date, fails_with, field_violations, spawn_app, unit};

/// Xã Thanh Xương, a commune of Tỉnh Điện Biên (11).
pub(crate) const THANH_XUONG: &str = "localities/03334";
/// Thị trấn Đồng Mỏ, a township of Tỉnh Lạng Sơn (20).
const DONG_MO: &str = "localities/06463";
const MASTER: &str = "scales/professional/levels/master";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a calendar date")
}

/// Creates a civil servant with a college degree placed in `unit` from 2020 (a
/// leader when `leader`) and returns the person's name.
pub(crate) async fn person(app: &TestApp, unit: &str, leader: bool) -> String {
    let mut people = app.as_admin().people();
    people
        .create_person(pb::CreatePersonRequest {
            record: Some(pb::PersonRecord {
                person: Some(pb::Person {
                    full_name: "Lò Văn Minh".into(),
                    birth_date: Some(date(1988, 4, 12)),
                    gender: pb::Gender::Male.into(),
                    ethnicity: "Thái".into(),
                    category: pb::PersonCategory::CivilServant.into(),
                    employed_from: Some(date(2012, 9, 1)),
                    ..Default::default()
                }),
                placements: vec![pb::Placement {
                    unit: unit.into(),
                    post_title: "Công chức Tư pháp - Hộ tịch".into(),
                    leader,
                    valid_from: Some(date(2020, 1, 1)),
                    ..Default::default()
                }],
                qualifications: vec![pb::Qualification {
                    level: "scales/professional/levels/college".into(),
                    field_of_study: "Luật".into(),
                    awarded_on: Some(date(2011, 6, 30)),
                    ..Default::default()
                }],
                evaluations: vec![],
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

/// A target line of a plan, as inserted.
pub(crate) struct Line {
    pub(crate) id: &'static str,
    degree: Option<(&'static str, &'static str)>,
    tier: Option<&'static str>,
    leaders_only: bool,
}

pub(crate) const MASTER_LINE: Line =
    Line { id: "professional_master", degree: Some(("professional", "master")), tier: None, leaders_only: false };
pub(crate) const REFRESHER_LINE: Line = Line { id: "digital_skills", degree: None, tier: None, leaders_only: false };
const DISTRICT_LINE: Line = Line { id: "district_only", degree: None, tier: Some("district"), leaders_only: false };
const LEADERS_LINE: Line = Line { id: "leaders_only", degree: None, tier: None, leaders_only: true };

async fn execute(app: &TestApp, sql: &str, values: Vec<Value>) {
    let db = &app.db;
    db.execute_raw(stmt(db.get_database_backend(), sql, values)).await.expect("fixture statement");
}

/// Inserts a plan of `owner` (a code) for 2021-2025 in `status`, with `lines`, and a
/// course of the first line; returns the plan's name.
pub(crate) async fn plan(app: &TestApp, owner: &str, status: &str, lines: &[Line]) -> String {
    let db = &app.db;
    let now = Utc::now();
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "INSERT INTO training_plans (title, owner_code, period_start, period_end, document_number, issued_on, \
             status, revision, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            vec![
                "Kế hoạch đào tạo, bồi dưỡng cán bộ, công chức giai đoạn 2021-2025".into(),
                owner.into(),
                day(2021, 1, 1).into(),
                day(2026, 1, 1).into(),
                "125/KH-UBND".into(),
                day(2020, 12, 1).into(),
                status.into(),
                1i64.into(),
                now.into(),
                now.into(),
            ],
        ))
        .await
        .expect("inserting a plan")
        .expect("an id");
    let id: i64 = row.try_get("", "id").expect("id");
    for (position, line) in lines.iter().enumerate() {
        let (kind, scale, level, topic) = match line.degree {
            Some((scale, level)) => ("degree", Some(scale), Some(level), None),
            None => ("refresher", None, None, Some("Kỹ năng chuyển đổi số")),
        };
        execute(
            app,
            "INSERT INTO target_lines (plan_id, line_id, position, title, kind, scale_code, level_code, topic, \
             audience_tier, audience_category, leaders_only, target, budget_vnd) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                id.into(),
                line.id.into(),
                i32::try_from(position).expect("position").into(),
                "Thạc sĩ Quản lý công".into(),
                kind.into(),
                scale.map(str::to_owned).into(),
                level.map(str::to_owned).into(),
                topic.map(str::to_owned).into(),
                line.tier.map(str::to_owned).into(),
                Option::<String>::None.into(),
                line.leaders_only.into(),
                10i32.into(),
                Option::<i64>::None.into(),
            ],
        )
        .await;
    }
    if let Some(first) = lines.first() {
        execute(
            app,
            "INSERT INTO courses (plan_id, line_id, title, provider, location, start_date, end_date, sessions, \
             revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                id.into(),
                first.id.into(),
                "Lớp cao học khóa 2023".into(),
                "Học viện Hành chính Quốc gia".into(),
                "Hà Nội".into(),
                day(2023, 1, 1).into(),
                day(2024, 6, 30).into(),
                "[]".into(),
                1i64.into(),
            ],
        )
        .await;
    }
    format!("trainingPlans/{id}")
}

async fn set_status(app: &TestApp, plan: &str, status: &str) {
    let id: i64 = plan.trim_start_matches("trainingPlans/").parse().expect("plan id");
    execute(app, "UPDATE training_plans SET status = ? WHERE id = ?", vec![status.into(), id.into()]).await;
}

pub(crate) fn enrollment(person: &str, line: &str, on: pb::Date, enrolled: bool) -> pb::Enrollment {
    pb::Enrollment {
        person: person.into(),
        line_id: line.into(),
        enrollment_date: Some(on),
        enrolled,
        ..Default::default()
    }
}

pub(crate) fn create(parent: &str, e: pb::Enrollment) -> pb::CreateEnrollmentRequest {
    pb::CreateEnrollmentRequest { parent: parent.into(), enrollment: Some(e), request_id: String::new() }
}

async fn created(client: &mut EnrollmentClient, request: pb::CreateEnrollmentRequest) -> pb::Enrollment {
    client.create_enrollment(request).await.expect("create enrolment").into_inner().enrollment.expect("enrolment")
}

pub(crate) fn transition(name: &str, status: S, on: pb::Date) -> pb::TransitionEnrollmentRequest {
    pb::TransitionEnrollmentRequest {
        name: name.into(),
        status: status.into(),
        date: Some(on),
        result: None,
        etag: String::new(),
    }
}

async fn moved(client: &mut EnrollmentClient, request: pb::TransitionEnrollmentRequest) -> pb::Enrollment {
    client.transition_enrollment(request).await.expect("transition").into_inner().enrollment.expect("enrolment")
}

/// A demo tree with a unit in Thanh Xương and a person placed there.
pub(crate) async fn arranged() -> (TestApp, String) {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, THANH_XUONG, "Ủy ban nhân dân", date(2020, 1, 1), None).await;
    let person = person(&app, &office, false).await;
    (app, person)
}

async fn compliance(app: &TestApp, person: &str, as_of: pb::Date) -> pb::GetPersonComplianceResponse {
    let mut standards = app.as_admin().standards();
    standards
        .get_person_compliance(pb::GetPersonComplianceRequest { person: person.into(), as_of: Some(as_of) })
        .await
        .expect("compliance")
        .into_inner()
}

async fn qualifications(app: &TestApp, person: &str) -> Vec<pb::Qualification> {
    let mut people = app.as_admin().people();
    people
        .list_qualifications(pb::ListQualificationsRequest { parent: person.into(), ..Default::default() })
        .await
        .expect("list qualifications")
        .into_inner()
        .qualifications
}

#[tokio::test]
async fn completing_a_master_enrolment_makes_master_the_highest_level_from_that_date_and_reverting_undoes_it() {
    // Arrange: a commune civil servant with a college degree, a standard requiring a
    // master's, and an approved provincial plan with a master's line.
    let (app, person) = arranged().await;
    let mut standards = app.as_admin().standards();
    standards
        .create_standard(pb::CreateStandardRequest {
            standard: Some(pb::Standard {
                display_name: "Công chức cấp xã (thạc sĩ)".into(),
                tier: T::Commune.into(),
                category: C::CivilServant.into(),
                effective_from: Some(date(2020, 1, 1)),
                minimum_levels: vec![MASTER.into()],
                legal_basis: "Nghị định 33/2023/NĐ-CP".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create standard");
    let plan = plan(&app, "11", "approved", &[MASTER_LINE]).await;
    let mut client = app.as_admin().enrollments();
    let mut request = create(&plan, enrollment(&person, MASTER_LINE.id, date(2023, 1, 15), true));
    request.enrollment.as_mut().expect("enrolment").course = format!("{plan}/courses/1");
    let made = created(&mut client, request).await;
    assert_eq!(made.status(), S::Enrolled);
    assert_eq!(made.history.len(), 1);
    let before = compliance(&app, &person, date(2024, 6, 30)).await;
    assert_eq!(before.status(), ComplianceStatus::NotCompliant);

    // Act: complete on 2024-06-30.
    let mut complete = transition(&made.name, S::Completed, date(2024, 6, 30));
    complete.result = Some(pb::EnrollmentResult { grade: "Giỏi".into(), distinction: true });
    complete.etag = made.etag.clone();
    let completed = moved(&mut client, complete).await;

    // Assert: master from that date, not the day before.
    assert_eq!(completed.status(), S::Completed);
    assert_eq!(completed.result, Some(pb::EnrollmentResult { grade: "Giỏi".into(), distinction: true }));
    assert!(completed.qualification.starts_with(&format!("{person}/qualifications/")), "{completed:?}");
    assert_eq!(
        completed.history.iter().map(|h| (h.status(), h.date)).collect::<Vec<_>>(),
        [(S::Enrolled, Some(date(2023, 1, 15))), (S::Completed, Some(date(2024, 6, 30)))]
    );
    let eve = compliance(&app, &person, date(2024, 6, 29)).await;
    assert_eq!(eve.status(), ComplianceStatus::NotCompliant);
    let on = compliance(&app, &person, date(2024, 6, 30)).await;
    assert_eq!(on.status(), ComplianceStatus::Compliant);
    assert_eq!(on.held_levels, [MASTER]);
    let recorded: Vec<_> = qualifications(&app, &person).await.into_iter().filter(|q| q.level == MASTER).collect();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].name, completed.qualification);
    assert_eq!(recorded[0].awarded_on, Some(date(2024, 6, 30)));
    assert_eq!(recorded[0].field_of_study, "Thạc sĩ Quản lý công");
    assert_eq!(recorded[0].institution, "Học viện Hành chính Quốc gia");

    // Act: revert the completion.
    let mut revert = transition(&completed.name, S::Enrolled, date(2024, 7, 2));
    revert.etag = completed.etag.clone();
    let reverted = moved(&mut client, revert).await;

    // Assert: the qualification is gone, and so is compliance.
    assert_eq!(reverted.status(), S::Enrolled);
    assert!(reverted.qualification.is_empty());
    assert!(reverted.result.is_none());
    assert_eq!(reverted.history.len(), 3);
    assert!(qualifications(&app, &person).await.iter().all(|q| q.level != MASTER));
    assert_eq!(compliance(&app, &person, date(2024, 6, 30)).await.status(), ComplianceStatus::NotCompliant);
    assert_eq!(compliance(&app, &person, date(2024, 8, 1)).await.status(), ComplianceStatus::NotCompliant);
    let got = client
        .get_enrollment(pb::GetEnrollmentRequest { name: made.name.clone() })
        .await
        .expect("get")
        .into_inner()
        .enrollment
        .expect("enrolment");
    assert_eq!(got, reverted);
}

#[tokio::test]
async fn invalid_transitions_enrolments_outside_the_period_and_changes_to_a_closed_plan_fail_and_change_nothing() {
    let (app, person) = arranged().await;
    let plan = plan(&app, "11", "approved", &[MASTER_LINE, REFRESHER_LINE]).await;
    let mut client = app.as_admin().enrollments();
    let planned =
        created(&mut client, create(&plan, enrollment(&person, MASTER_LINE.id, date(2023, 1, 15), false))).await;

    // Transitions that are not allowed.
    let status = fails_with(
        &app,
        client.transition_enrollment(transition(&planned.name, S::Completed, date(2023, 2, 1))),
        Code::FailedPrecondition,
    )
    .await;
    assert!(status.message().contains("cannot become"), "{status:?}");
    fails_with(
        &app,
        client.transition_enrollment(transition(&planned.name, S::Planned, date(2023, 2, 1))),
        Code::FailedPrecondition,
    )
    .await;
    let dropped =
        created(&mut client, create(&plan, enrollment(&person, REFRESHER_LINE.id, date(2023, 1, 15), true))).await;
    let dropped = moved(&mut client, transition(&dropped.name, S::Dropped, date(2023, 3, 1))).await;
    fails_with(
        &app,
        client.transition_enrollment(transition(&dropped.name, S::Enrolled, date(2023, 4, 1))),
        Code::FailedPrecondition,
    )
    .await;

    // Dates outside the period, or before the last transition.
    let status = fails_with(
        &app,
        client.transition_enrollment(transition(&planned.name, S::Enrolled, date(2026, 1, 1))),
        Code::InvalidArgument,
    )
    .await;
    assert_eq!(field_violations(&status)[0].0, "date");
    let status = fails_with(
        &app,
        client.transition_enrollment(transition(&planned.name, S::Enrolled, date(2023, 1, 14))),
        Code::InvalidArgument,
    )
    .await;
    assert_eq!(field_violations(&status)[0].0, "date");
    for outside in [date(2020, 12, 31), date(2026, 1, 1)] {
        let status = fails_with(
            &app,
            client.create_enrollment(create(&plan, enrollment(&person, REFRESHER_LINE.id, outside, false))),
            Code::InvalidArgument,
        )
        .await;
        assert_eq!(field_violations(&status)[0].0, "enrollment.enrollment_date");
    }

    // A stale etag.
    let mut stale = transition(&planned.name, S::Enrolled, date(2023, 2, 1));
    stale.etag = "\"99\"".into();
    fails_with(&app, client.transition_enrollment(stale), Code::Aborted).await;

    // A closed plan accepts no change.
    set_status(&app, &plan, "closed").await;
    let status = fails_with(
        &app,
        client.transition_enrollment(transition(&planned.name, S::Enrolled, date(2023, 2, 1))),
        Code::FailedPrecondition,
    )
    .await;
    assert!(status.message().contains("closed"), "{status:?}");
    fails_with(
        &app,
        client.create_enrollment(create(&plan, enrollment(&person, REFRESHER_LINE.id, date(2023, 6, 1), false))),
        Code::FailedPrecondition,
    )
    .await;
    fails_with(
        &app,
        client.delete_enrollment(pb::DeleteEnrollmentRequest { name: planned.name.clone(), etag: String::new() }),
        Code::FailedPrecondition,
    )
    .await;
    let batch = pb::BatchCreateEnrollmentsRequest {
        parent: plan.clone(),
        requests: vec![create("", enrollment(&person, REFRESHER_LINE.id, date(2023, 6, 1), false))],
    };
    fails_with(&app, client.batch_create_enrollments(batch), Code::FailedPrecondition).await;

    // A draft plan takes no enrolment yet.
    set_status(&app, &plan, "draft").await;
    let status = fails_with(
        &app,
        client.create_enrollment(create(&plan, enrollment(&person, REFRESHER_LINE.id, date(2023, 6, 1), false))),
        Code::FailedPrecondition,
    )
    .await;
    assert!(status.message().contains("approve the plan first"), "{status:?}");
}

#[tokio::test]
async fn an_enrolment_needs_a_line_of_the_plan_a_person_placed_in_the_owner_subtree_in_the_audience_once() {
    let (app, person) = arranged().await;
    let elsewhere = person_in(&app, DONG_MO).await;
    let plan = plan(&app, "11", "approved", &[MASTER_LINE, DISTRICT_LINE, LEADERS_LINE]).await;
    let other_plan = plan_of_20(&app).await;
    let mut client = app.as_admin().enrollments();

    let status = fails_with(
        &app,
        client.create_enrollment(create(&plan, enrollment(&person, "no_such_line", date(2023, 1, 15), false))),
        Code::InvalidArgument,
    )
    .await;
    assert_eq!(field_violations(&status)[0].0, "enrollment.line_id");
    let mut wrong_course = enrollment(&person, MASTER_LINE.id, date(2023, 1, 15), false);
    wrong_course.course = format!("{other_plan}/courses/2");
    let status = fails_with(&app, client.create_enrollment(create(&plan, wrong_course)), Code::InvalidArgument).await;
    assert_eq!(field_violations(&status)[0].0, "enrollment.course");
    fails_with(
        &app,
        client.create_enrollment(create(&plan, enrollment("people/999", MASTER_LINE.id, date(2023, 1, 15), false))),
        Code::InvalidArgument,
    )
    .await;
    // Placed in Lạng Sơn, not inside Điện Biên.
    let status = fails_with(
        &app,
        client.create_enrollment(create(&plan, enrollment(&elsewhere, MASTER_LINE.id, date(2023, 1, 15), false))),
        Code::FailedPrecondition,
    )
    .await;
    assert!(status.message().contains("not placed inside localities/11"), "{status:?}");
    // Outside the audience: a district line, a leaders' line.
    for line in [DISTRICT_LINE.id, LEADERS_LINE.id] {
        fails_with(
            &app,
            client.create_enrollment(create(&plan, enrollment(&person, line, date(2023, 1, 15), false))),
            Code::FailedPrecondition,
        )
        .await;
    }
    // A person outside the caller's scope is refused before anything else is said.
    // (The editor reads personal data too: the enrolments written below are checked.)
    let mut editor = app.as_(Caller::of(&["11"], &[Role::Editor, Role::PersonalDataReader])).enrollments();
    fails_with(
        &app,
        editor.create_enrollment(create(&plan, enrollment(&elsewhere, "no_such_line", date(2023, 1, 15), false))),
        Code::PermissionDenied,
    )
    .await;
    fails_with(
        &app,
        editor.create_enrollment(create(&plan, enrollment(&elsewhere, MASTER_LINE.id, date(2023, 1, 15), false))),
        Code::PermissionDenied,
    )
    .await;

    // Not twice open on the same line; again once the first is dropped.
    let first =
        created(&mut editor, create(&plan, enrollment(&person, MASTER_LINE.id, date(2023, 1, 15), false))).await;
    let status = fails_with(
        &app,
        editor.create_enrollment(create(&plan, enrollment(&person, MASTER_LINE.id, date(2023, 2, 1), true))),
        Code::FailedPrecondition,
    )
    .await;
    assert!(status.message().contains(&first.name), "{status:?}");
    moved(&mut editor, transition(&first.name, S::Dropped, date(2023, 2, 1))).await;
    let second = created(&mut editor, create(&plan, enrollment(&person, MASTER_LINE.id, date(2023, 2, 1), true))).await;
    assert_eq!(second.status(), S::Enrolled);
    assert!(second.enrolled);
}

/// A person placed in `locality` from 2020; returns the person's name.
pub(crate) async fn person_in(app: &TestApp, locality: &str) -> String {
    let office = unit(app, locality, "Ủy ban nhân dân", date(2020, 1, 1), None).await;
    person(app, &office, false).await
}

/// An approved plan of Lạng Sơn (20) with the master's line and a course.
async fn plan_of_20(app: &TestApp) -> String {
    plan(app, "20", "approved", &[MASTER_LINE]).await
}

fn enrollment_service_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(hrplan::grpc::FILE_DESCRIPTOR_SET).expect("a descriptor set");
    set.file
        .iter()
        .filter(|file| file.package() == "hrplan.v1")
        .flat_map(|file| file.service.iter())
        .filter(|service| service.name() == "EnrollmentService")
        .flat_map(|service| service.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

fn import_stream(
    parent: &str,
    items: Vec<pb::Enrollment>,
) -> impl tonic::IntoStreamingRequest<Message = pb::ImportEnrollmentsRequest> {
    let parent = parent.to_owned();
    tokio_stream::iter(
        items.into_iter().map(move |e| pb::ImportEnrollmentsRequest { parent: parent.clone(), enrollment: Some(e) }),
    )
}

#[tokio::test]
async fn every_enrollment_rpc_aimed_at_a_plan_of_another_province_is_refused_to_a_caller_scoped_to_one_province() {
    // Arrange: an enrolment in a plan of Điện Biên (11); an editor and reader of Lạng Sơn (20).
    let (app, person) = arranged().await;
    let plan = plan(&app, "11", "approved", &[MASTER_LINE]).await;
    let made = created(
        &mut app.as_admin().enrollments(),
        create(&plan, enrollment(&person, MASTER_LINE.id, date(2023, 1, 15), true)),
    )
    .await;
    let roles = [Role::Editor, Role::PersonalDataReader];
    let mut scoped = app.as_(Caller::of(&["20"], &roles)).enrollments();
    let mut methods = BTreeSet::new();

    for target in [plan.clone(), "trainingPlans/999".to_owned()] {
        let name = if target == plan { made.name.clone() } else { format!("{target}/enrollments/1") };
        let new = || enrollment(&person, MASTER_LINE.id, date(2023, 2, 1), false);
        let mut status = Vec::new();
        status.push((
            "CreateEnrollment",
            fails_with(&app, scoped.create_enrollment(create(&target, new())), Code::PermissionDenied).await,
        ));
        status.push((
            "GetEnrollment",
            fails_with(
                &app,
                scoped.get_enrollment(pb::GetEnrollmentRequest { name: name.clone() }),
                Code::PermissionDenied,
            )
            .await,
        ));
        let listing = pb::ListEnrollmentsRequest { parent: target.clone(), ..Default::default() };
        status.push((
            "ListEnrollments",
            fails_with(&app, scoped.list_enrollments(listing), Code::PermissionDenied).await,
        ));
        let removal = pb::DeleteEnrollmentRequest { name: name.clone(), etag: String::new() };
        status.push((
            "DeleteEnrollment",
            fails_with(&app, scoped.delete_enrollment(removal), Code::PermissionDenied).await,
        ));
        let batch = pb::BatchCreateEnrollmentsRequest { parent: target.clone(), requests: vec![create("", new())] };
        status.push((
            "BatchCreateEnrollments",
            fails_with(&app, scoped.batch_create_enrollments(batch), Code::PermissionDenied).await,
        ));
        status.push((
            "ImportEnrollments",
            fails_with(&app, scoped.import_enrollments(import_stream(&target, vec![new()])), Code::PermissionDenied)
                .await,
        ));
        let change = transition(&name, S::Completed, date(2024, 6, 30));
        status.push((
            "TransitionEnrollment",
            fails_with(&app, scoped.transition_enrollment(change), Code::PermissionDenied).await,
        ));
        for (method, status) in status {
            assert!(!status.message().contains("Điện Biên"), "{method} told a name: {status:?}");
            methods.insert(method.to_owned());
        }
    }
    assert_eq!(methods, enrollment_service_methods(), "every EnrollmentService RPC needs an out-of-scope call here");

    // An aggregate reader of the owner cannot read enrolments: they are personal data.
    let mut aggregate = app.as_(Caller::of(&["11"], &[Role::AggregateReader])).enrollments();
    fails_with(
        &app,
        aggregate.get_enrollment(pb::GetEnrollmentRequest { name: made.name.clone() }),
        Code::PermissionDenied,
    )
    .await;
    let listing = pb::ListEnrollmentsRequest { parent: plan.clone(), ..Default::default() };
    fails_with(&app, aggregate.list_enrollments(listing), Code::PermissionDenied).await;
    // A plan that does not exist: NOT_FOUND for a national caller.
    let mut national = app.as_admin().enrollments();
    fails_with(
        &app,
        national.get_enrollment(pb::GetEnrollmentRequest { name: "trainingPlans/999/enrollments/1".into() }),
        Code::NotFound,
    )
    .await;
    let listing = pb::ListEnrollmentsRequest { parent: "trainingPlans/999".into(), ..Default::default() };
    fails_with(&app, national.list_enrollments(listing), Code::NotFound).await;
    fails_with(
        &app,
        national.create_enrollment(create(
            "trainingPlans/999",
            enrollment(&person, MASTER_LINE.id, date(2023, 2, 1), false),
        )),
        Code::NotFound,
    )
    .await;
    // The owner's personal-data reader reads them.
    let mut reader = app.as_(Caller::of(&["11"], &[Role::PersonalDataReader])).enrollments();
    reader.get_enrollment(pb::GetEnrollmentRequest { name: made.name.clone() }).await.expect("read in scope");
}

#[tokio::test]
async fn a_batch_is_all_or_nothing_and_names_its_violations_by_position() {
    let (app, person) = arranged().await;
    let other = person_in(&app, THANH_XUONG).await;
    let plan = plan(&app, "11", "approved", &[MASTER_LINE, REFRESHER_LINE]).await;
    let mut client = app.as_admin().enrollments();
    let good = create("", enrollment(&person, MASTER_LINE.id, date(2023, 1, 15), false));

    let twice = pb::BatchCreateEnrollmentsRequest {
        parent: plan.clone(),
        requests: vec![good.clone(), create("", enrollment(&other, "nope", date(2023, 1, 15), false)), good.clone()],
    };
    let status = fails_with(&app, client.batch_create_enrollments(twice), Code::InvalidArgument).await;
    let fields: Vec<String> = field_violations(&status).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["requests[1].enrollment.line_id", "requests[2].enrollment.person"]);
    let empty = pb::BatchCreateEnrollmentsRequest { parent: plan.clone(), requests: vec![] };
    fails_with(&app, client.batch_create_enrollments(empty), Code::InvalidArgument).await;

    let batch = pb::BatchCreateEnrollmentsRequest {
        parent: plan.clone(),
        requests: vec![
            good.clone(),
            create(&plan, enrollment(&other, MASTER_LINE.id, date(2023, 1, 15), true)),
            create("", enrollment(&person, REFRESHER_LINE.id, date(2023, 3, 1), false)),
        ],
    };
    let made = client.batch_create_enrollments(batch).await.expect("batch").into_inner().enrollments;
    assert_eq!(
        made.iter().map(|e| (e.person.as_str(), e.line_id.as_str())).collect::<Vec<_>>(),
        [(person.as_str(), MASTER_LINE.id), (other.as_str(), MASTER_LINE.id), (person.as_str(), REFRESHER_LINE.id),]
    );
    // The same again: every one is open already.
    let again = pb::BatchCreateEnrollmentsRequest { parent: plan.clone(), requests: vec![good] };
    fails_with(&app, client.batch_create_enrollments(again), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn an_import_names_every_rejected_record_and_a_person_out_of_scope_reads_as_one_that_does_not_exist() {
    let (app, person) = arranged().await;
    let elsewhere = person_in(&app, DONG_MO).await;
    let plan = plan(&app, "11", "approved", &[MASTER_LINE, REFRESHER_LINE]).await;
    let mut editor = app.as_(Caller::of(&["11"], &[Role::Editor])).enrollments();

    let before = app.snapshot().await;
    let answer = editor
        .import_enrollments(import_stream(
            &plan,
            vec![
                enrollment(&person, MASTER_LINE.id, date(2023, 1, 15), false),
                enrollment(&elsewhere, MASTER_LINE.id, date(2023, 1, 15), false),
                enrollment("people/999", MASTER_LINE.id, date(2023, 1, 15), false),
                enrollment(&person, REFRESHER_LINE.id, date(2027, 1, 1), false),
            ],
        ))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(app.snapshot().await, before);
    assert_eq!(answer.received_count, 4);
    assert_eq!(answer.imported_count, 0);
    let rejected: Vec<(i32, Vec<(String, String)>)> = answer
        .rejected
        .iter()
        .map(|r| (r.index, r.violations.iter().map(|v| (v.field.clone(), v.description.clone())).collect()))
        .collect();
    assert_eq!(rejected.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(rejected[0].1[0].0, "person");
    assert_eq!(rejected[1].1[0].0, "person");
    assert_eq!(
        rejected[0].1[0].1.replace(&elsewhere, "X"),
        rejected[1].1[0].1.replace("people/999", "X"),
        "a person out of scope reads like one that does not exist"
    );
    assert_eq!(rejected[2].1[0].0, "enrollment_date");

    let answer = editor
        .import_enrollments(import_stream(
            &plan,
            vec![
                enrollment(&person, MASTER_LINE.id, date(2023, 1, 15), false),
                enrollment(&person, REFRESHER_LINE.id, date(2023, 1, 15), true),
            ],
        ))
        .await
        .expect("import")
        .into_inner();
    assert_eq!((answer.received_count, answer.imported_count), (2, 2));
    assert!(answer.rejected.is_empty());
}

#[tokio::test]
async fn enrolments_list_by_filter_page_by_id_replay_by_request_id_and_delete_with_their_qualification() {
    let (app, person) = arranged().await;
    let other = person_in(&app, THANH_XUONG).await;
    let plan = plan(&app, "11", "approved", &[MASTER_LINE, REFRESHER_LINE]).await;
    let mut client = app.as_admin().enrollments();
    let mut request = create(&plan, enrollment(&person, MASTER_LINE.id, date(2023, 1, 15), true));
    request.request_id = "enrol-minh-master".into();
    let first = created(&mut client, request.clone()).await;
    assert_eq!(created(&mut client, request.clone()).await, first, "a retry returns the first result");
    request.enrollment.as_mut().expect("enrolment").enrollment_date = Some(date(2023, 1, 16));
    fails_with(&app, client.create_enrollment(request), Code::InvalidArgument).await;
    let second = created(&mut client, create(&plan, enrollment(&other, MASTER_LINE.id, date(2023, 1, 15), true))).await;
    let third =
        created(&mut client, create(&plan, enrollment(&person, REFRESHER_LINE.id, date(2023, 1, 15), false))).await;
    let completed = moved(&mut client, transition(&first.name, S::Completed, date(2024, 6, 30))).await;

    let list = |filter: &str, page_size: i32, page_token: String| pb::ListEnrollmentsRequest {
        parent: plan.clone(),
        filter: filter.into(),
        page_size,
        page_token,
    };
    let names =
        |page: &pb::ListEnrollmentsResponse| page.enrollments.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
    let page = client.list_enrollments(list("", 2, String::new())).await.expect("list").into_inner();
    assert_eq!(names(&page), [first.name.clone(), second.name.clone()]);
    let rest = client.list_enrollments(list("", 2, page.next_page_token.clone())).await.expect("list").into_inner();
    assert_eq!(names(&rest), [third.name.as_str()]);
    assert!(rest.next_page_token.is_empty());
    fails_with(&app, client.list_enrollments(list("status = PLANNED", 2, page.next_page_token)), Code::InvalidArgument)
        .await;
    let by_line = client
        .list_enrollments(list(r#"line_id = "professional_master""#, 0, String::new()))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(names(&by_line), [first.name.clone(), second.name.clone()]);
    let by_status =
        client.list_enrollments(list("status = COMPLETED", 0, String::new())).await.expect("list").into_inner();
    assert_eq!(by_status.enrollments, std::slice::from_ref(&completed));
    let by_person = client
        .list_enrollments(list(&format!(r#"person = "{person}" AND status = PLANNED"#), 0, String::new()))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(names(&by_person), [third.name.as_str()]);
    fails_with(&app, client.list_enrollments(list("grade = 3", 0, String::new())), Code::InvalidArgument).await;

    // Deleting the completed enrolment deletes the qualification it recorded.
    fails_with(
        &app,
        client
            .delete_enrollment(pb::DeleteEnrollmentRequest { name: completed.name.clone(), etag: first.etag.clone() }),
        Code::Aborted,
    )
    .await;
    client
        .delete_enrollment(pb::DeleteEnrollmentRequest { name: completed.name.clone(), etag: completed.etag.clone() })
        .await
        .expect("delete");
    assert!(qualifications(&app, &person).await.iter().all(|q| q.level != MASTER));
    fails_with(&app, client.get_enrollment(pb::GetEnrollmentRequest { name: completed.name.clone() }), Code::NotFound)
        .await;
}

#[tokio::test]
async fn completing_a_refresher_line_records_no_qualification_and_a_long_grade_is_refused() {
    let (app, person) = arranged().await;
    let plan = plan(&app, "11", "approved", &[REFRESHER_LINE]).await;
    let mut client = app.as_admin().enrollments();
    let made =
        created(&mut client, create(&plan, enrollment(&person, REFRESHER_LINE.id, date(2023, 1, 15), true))).await;
    let before = qualifications(&app, &person).await;

    let mut long = transition(&made.name, S::Completed, date(2023, 3, 1));
    long.result = Some(pb::EnrollmentResult { grade: "x".repeat(101), distinction: false });
    let status = fails_with(&app, client.transition_enrollment(long), Code::InvalidArgument).await;
    assert_eq!(field_violations(&status)[0].0, "result.grade");
    let mut complete = transition(&made.name, S::Completed, date(2023, 3, 1));
    complete.result = Some(pb::EnrollmentResult { grade: "Đạt".into(), distinction: false });
    let completed = moved(&mut client, complete).await;

    assert_eq!(completed.status(), S::Completed);
    assert!(completed.qualification.is_empty());
    assert_eq!(completed.result, Some(pb::EnrollmentResult { grade: "Đạt".into(), distinction: false }));
    assert_eq!(qualifications(&app, &person).await, before);
    let failed = moved(&mut client, transition(&made.name, S::Enrolled, date(2023, 3, 1))).await;
    let failed = moved(&mut client, transition(&failed.name, S::Failed, date(2023, 4, 1))).await;
    assert_eq!(
        failed.history.iter().map(|h| h.status()).collect::<Vec<_>>(),
        [S::Enrolled, S::Completed, S::Enrolled, S::Failed]
    );
    assert!(failed.result.is_none());
}
