//! TrainingPlanService: plans with their target lines, their courses, the plan's life
//! (draft, approved, closed), etags, idempotency, validation, locality scope, and
//! progress against target counted from the enrolments' history.

use std::collections::BTreeSet;

use hrplan::{
    auth::Role,
    grpc::pb::{self},
    store::stmt,
};
use prost::Message as _;
use prost_types::FieldMask;
use sea_orm::ConnectionTrait;
use tonic::Code;

use crate::clients::{Caller, PlanClient};
use crate::helpers::{TestApp, date, fails_with, rejects, spawn_app};

/// An app with the demo tree (Hà Nội 01, Điện Biên 11, Lạng Sơn 20) and a national
/// admin's client.
async fn demo() -> (TestApp, PlanClient) {
    let app = spawn_app().await;
    app.load_demo().await;
    let client = app.as_admin().plans();
    (app, client)
}

fn degree(line_id: &str, level: &str, target: i32) -> pb::TargetLine {
    pb::TargetLine {
        line_id: line_id.to_owned(),
        title: format!("Đào tạo {line_id}"),
        kind: pb::ProgrammeKind::Degree.into(),
        level: level.to_owned(),
        target_enrollments: target,
        budget_vnd: 1_500_000_000,
        audience: Some(pb::Audience {
            tier: pb::LocalityTier::Commune.into(),
            category: pb::PersonCategory::CivilServant.into(),
            leaders_only: true,
        }),
        ..Default::default()
    }
}

fn refresher(line_id: &str, topic: &str, target: i32) -> pb::TargetLine {
    pb::TargetLine {
        line_id: line_id.to_owned(),
        title: format!("Bồi dưỡng {line_id}"),
        kind: pb::ProgrammeKind::Refresher.into(),
        topic: topic.to_owned(),
        target_enrollments: target,
        ..Default::default()
    }
}

/// A 2021-2025 plan of `owner` with three lines (targets 500, 400 and 300).
fn plan(owner: &str) -> pb::TrainingPlan {
    pb::TrainingPlan {
        title: "Kế hoạch đào tạo, bồi dưỡng cán bộ, công chức giai đoạn 2021-2025".to_owned(),
        owner: owner.to_owned(),
        period_start: Some(date(2021, 1, 1)),
        period_end: Some(date(2026, 1, 1)),
        legal_basis: Some(pb::LegalBasis {
            document_number: "125/KH-UBND".to_owned(),
            issued_on: Some(date(2020, 12, 15)),
        }),
        lines: vec![
            degree("political_theory_intermediate", "scales/political_theory/levels/intermediate", 500),
            refresher("digital_skills", "Kỹ năng chuyển đổi số", 400),
            refresher("leadership", "Kỹ năng lãnh đạo, quản lý", 300),
        ],
        ..Default::default()
    }
}

fn create(plan: pb::TrainingPlan) -> pb::CreateTrainingPlanRequest {
    pb::CreateTrainingPlanRequest { training_plan: Some(plan), request_id: String::new() }
}

async fn created(client: &mut PlanClient, plan: pb::TrainingPlan) -> pb::TrainingPlan {
    client.create_training_plan(create(plan)).await.expect("creating a plan").into_inner().training_plan.expect("plan")
}

fn update(plan: pb::TrainingPlan, paths: &[&str]) -> pb::UpdateTrainingPlanRequest {
    pb::UpdateTrainingPlanRequest {
        training_plan: Some(plan),
        update_mask: Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }),
    }
}

fn course(line_id: &str, start: pb::Date, end: pb::Date) -> pb::Course {
    pb::Course {
        line_id: line_id.to_owned(),
        title: "Lớp trung cấp lý luận chính trị khóa 12".to_owned(),
        provider: "Trường Chính trị Hoàng Văn Thụ".to_owned(),
        location: "Lạng Sơn".to_owned(),
        start_date: Some(start),
        end_date: Some(end),
        sessions: vec![pb::CourseSession {
            start_date: Some(start),
            end_date: Some(end),
            location: "Hội trường A".to_owned(),
        }],
        ..Default::default()
    }
}

fn create_course(parent: &str, course: pb::Course) -> pb::CreateCourseRequest {
    pb::CreateCourseRequest { parent: parent.to_owned(), course: Some(course), request_id: String::new() }
}

fn progress(name: &str, as_of: pb::Date) -> pb::GetTrainingPlanProgressRequest {
    pb::GetTrainingPlanProgressRequest { name: name.to_owned(), as_of: Some(as_of) }
}

fn id_of(name: &str) -> i64 {
    name.split('/').nth(1).and_then(|id| id.parse().ok()).expect("an id in the name")
}

async fn execute(app: &TestApp, sql: &str) {
    app.db.execute_raw(stmt(app.db.get_database_backend(), sql, vec![])).await.expect(sql);
}

/// Inserts one person and returns the id.
async fn person(app: &TestApp) -> i64 {
    let now = chrono::Utc::now();
    let row = app
        .db
        .query_one_raw(stmt(
            app.db.get_database_backend(),
            "INSERT INTO people (full_name, name_folded, birth_date, gender, ethnicity, category, employed_from, \
             revision, create_time, update_time) VALUES (?, ?, ?, 'female', 'kinh', 'civil_servant', ?, 1, ?, ?) \
             RETURNING id",
            vec![
                "Hoàng Thị Lan".into(),
                "hoang thi lan".into(),
                chrono::NaiveDate::from_ymd_opt(1985, 4, 2).into(),
                chrono::NaiveDate::from_ymd_opt(2010, 1, 1).into(),
                now.into(),
                now.into(),
            ],
        ))
        .await
        .expect("inserting a person")
        .expect("an id");
    row.try_get("", "id").expect("id")
}

/// Enrolments of one line, each with its history of (status, date): `count` of them,
/// from enrolment id `first` on. Returns the next free id.
#[allow(clippy::too_many_arguments)]
async fn enrol(
    app: &TestApp,
    plan: i64,
    person: i64,
    line: &str,
    first: i64,
    count: i64,
    history: &[(&str, &str)],
    course: Option<i64>,
) -> i64 {
    let ids: Vec<i64> = (first..first + count).collect();
    let (last_status, _) = history.last().copied().expect("a history");
    for chunk in ids.chunks(400) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|id| {
                let course = course.map_or_else(|| "NULL".to_owned(), |c| c.to_string());
                format!(
                    "({id}, {plan}, {person}, '{line}', {course}, '{last_status}', '{}', NULL, FALSE, NULL, 1)",
                    history[0].1
                )
            })
            .collect();
        execute(
            app,
            &format!(
                "INSERT INTO enrollments (id, plan_id, person_id, line_id, course_id, status, enrollment_date, grade, \
                 distinction, qualification_id, revision) VALUES {}",
                rows.join(", ")
            ),
        )
        .await;
        let changes: Vec<String> = chunk
            .iter()
            .flat_map(|id| {
                history
                    .iter()
                    .enumerate()
                    .map(move |(seq, (status, day))| format!("({id}, {}, '{status}', '{day}')", seq + 1))
            })
            .collect();
        execute(
            app,
            &format!("INSERT INTO enrollment_history (enrollment_id, seq, status, date) VALUES {}", changes.join(", ")),
        )
        .await;
    }
    first + count
}

const COMPLETED: &[(&str, &str)] =
    &[("planned", "2022-01-10"), ("enrolled", "2022-03-01"), ("completed", "2022-09-30")];

/// The published example: lines of 500, 400 and 300 (1,200) with 660, 354 and 300
/// completed (1,314), plus enrolments that do not count as achieved.
async fn published_example(app: &TestApp, client: &mut PlanClient) -> pb::TrainingPlan {
    let made = created(client, plan("localities/20")).await;
    let id = id_of(&made.name);
    let who = person(app).await;
    let mut next = 1;
    next = enrol(app, id, who, "political_theory_intermediate", next, 660, COMPLETED, None).await;
    next = enrol(app, id, who, "digital_skills", next, 354, COMPLETED, None).await;
    next = enrol(app, id, who, "leadership", next, 300, COMPLETED, None).await;
    // Five people, each with one open enrolment on the line: a person holds at most
    // one open enrolment per line (the database holds that rule too).
    for _ in 0..5 {
        let planned = person(app).await;
        next = enrol(app, id, planned, "digital_skills", next, 1, &[("planned", "2022-01-10")], None).await;
    }
    let dropped = [("planned", "2022-01-10"), ("dropped", "2022-02-01")];
    next = enrol(app, id, who, "digital_skills", next, 3, &dropped, None).await;
    let failed = [("planned", "2022-01-10"), ("enrolled", "2022-03-01"), ("failed", "2022-09-30")];
    next = enrol(app, id, who, "leadership", next, 2, &failed, None).await;
    // Recorded later: not counted before 2025-06-01.
    enrol(app, id, who, "leadership", next, 1, &[("planned", "2025-06-01")], None).await;
    made
}

fn counts(line: &pb::LineProgress) -> (i32, i32, i32, i32, i32, i32, i32) {
    (line.target, line.enrollments, line.planned, line.enrolled, line.completed, line.dropped, line.failed)
}

// Progress.

#[tokio::test]
async fn a_plan_of_1200_targeted_and_1314_achieved_enrolments_reports_109_5_percent_with_lines_over_under_and_exact() {
    // Arrange
    let (app, mut client) = demo().await;
    let made = published_example(&app, &mut client).await;

    // Act
    let answer =
        client.get_training_plan_progress(progress(&made.name, date(2023, 1, 1))).await.expect("progress").into_inner();

    // Assert
    assert_eq!(answer.training_plan, made.name);
    assert_eq!(answer.as_of, Some(date(2023, 1, 1)));
    let ids: Vec<&str> = answer.lines.iter().map(|l| l.line_id.as_str()).collect();
    assert_eq!(ids, ["political_theory_intermediate", "digital_skills", "leadership"]);
    let [over, under, exact] = answer.lines.as_slice() else { panic!("three lines") };
    assert_eq!(counts(over), (500, 660, 0, 0, 660, 0, 0));
    assert_eq!(counts(under), (400, 362, 5, 0, 354, 3, 0));
    assert_eq!(counts(exact), (300, 302, 0, 0, 300, 0, 2));
    assert!((over.percent_of_plan - 132.0).abs() < 1e-9);
    assert!((under.percent_of_plan - 88.5).abs() < 1e-9);
    assert!((exact.percent_of_plan - 100.0).abs() < 1e-9);
    let achievements: Vec<i32> = answer.lines.iter().map(|l| l.achievement).collect();
    let expected = [pb::Achievement::Over, pb::Achievement::Under, pb::Achievement::Exact];
    assert_eq!(achievements, expected.map(i32::from));
    let total = answer.total.expect("a total");
    assert_eq!(counts(&total), (1200, 1324, 5, 0, 1314, 3, 2));
    assert!((total.percent_of_plan - 109.5).abs() < 1e-9, "{}", total.percent_of_plan);
    assert_eq!(total.achievement, i32::from(pb::Achievement::Over));
    assert!(total.line_id.is_empty() && total.title.is_empty());
}

#[tokio::test]
async fn before_their_completion_enrolments_count_as_enrolled_and_before_their_first_status_not_at_all() {
    let (app, mut client) = demo().await;
    let made = published_example(&app, &mut client).await;

    let mid = client.get_training_plan_progress(progress(&made.name, date(2022, 6, 30))).await.expect("progress");
    let total = mid.into_inner().total.expect("a total");
    assert_eq!(counts(&total), (1200, 1324, 5, 1316, 0, 3, 0));
    assert_eq!(total.percent_of_plan, 0.0);
    assert_eq!(total.achievement, i32::from(pb::Achievement::Under));

    let before = client.get_training_plan_progress(progress(&made.name, date(2021, 12, 31))).await.expect("progress");
    let before = before.into_inner();
    assert_eq!(counts(&before.total.expect("a total")), (1200, 0, 0, 0, 0, 0, 0));
    assert_eq!(before.lines.len(), 3, "lines without enrolments are reported with zeros");

    let later = client.get_training_plan_progress(progress(&made.name, date(2025, 6, 1))).await.expect("progress");
    assert_eq!(counts(&later.into_inner().total.expect("a total")), (1200, 1325, 6, 0, 1314, 3, 2));

    let today = pb::GetTrainingPlanProgressRequest { name: made.name.clone(), as_of: None };
    let answer = client.get_training_plan_progress(today).await.expect("progress today").into_inner();
    assert!(answer.as_of.is_some());
    assert_eq!(answer.total.expect("a total").completed, 1314);
}

// Plans.

#[tokio::test]
async fn a_plan_is_created_in_draft_once_per_request_id_read_listed_and_updated() {
    let (app, mut client) = demo().await;
    let request =
        pb::CreateTrainingPlanRequest { training_plan: Some(plan("localities/20")), request_id: "r-1".into() };

    let first = client.create_training_plan(request.clone()).await.expect("create").into_inner().training_plan;
    let again = client.create_training_plan(request.clone()).await.expect("retry").into_inner().training_plan;
    let first = first.expect("plan");
    assert_eq!(Some(first.clone()), again);
    assert_eq!(first.status, i32::from(pb::TrainingPlanStatus::Draft));
    assert_eq!(first.lines, plan("").lines);
    let other = pb::CreateTrainingPlanRequest { training_plan: Some(plan("localities/11")), request_id: "r-1".into() };
    rejects(&app, client.create_training_plan(other), "request_id").await;

    let got = client.get_training_plan(pb::GetTrainingPlanRequest { name: first.name.clone() }).await.expect("get");
    assert_eq!(got.into_inner().training_plan, Some(first.clone()));
    let second = created(&mut client, plan("localities/11")).await;
    let list = |owner: &str, page_token: String| pb::ListTrainingPlansRequest {
        owner: owner.to_owned(),
        page_size: 1,
        page_token,
    };
    let page = client.list_training_plans(list("localities/20", String::new())).await.expect("list").into_inner();
    assert_eq!(page.training_plans.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), [first.name.as_str()]);
    assert!(page.next_page_token.is_empty());
    let all = pb::ListTrainingPlansRequest { owner: "localities/11".to_owned(), ..Default::default() };
    let page = client.list_training_plans(all).await.expect("list").into_inner();
    assert_eq!(page.training_plans.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), [second.name.as_str()]);

    let mut changed = first.clone();
    changed.title = "Kế hoạch điều chỉnh".to_owned();
    changed.lines = vec![
        refresher("digital_skills", "Chuyển đổi số", 450),
        degree("it", "scales/professional/levels/university", 10),
    ];
    let updated = client
        .update_training_plan(update(changed, &["title", "lines"]))
        .await
        .expect("update")
        .into_inner()
        .training_plan
        .expect("plan");
    assert_eq!(updated.title, "Kế hoạch điều chỉnh");
    assert_eq!(updated.lines.iter().map(|l| l.line_id.as_str()).collect::<Vec<_>>(), ["digital_skills", "it"]);
    assert_ne!(updated.etag, first.etag);
    let mut stale = first.clone();
    stale.title = "Cũ".to_owned();
    fails_with(&app, client.update_training_plan(update(stale, &["title"])), Code::Aborted).await;
}

#[tokio::test]
async fn each_bad_field_of_a_new_plan_is_named() {
    let (app, mut client) = demo().await;
    let base = || plan("localities/20");
    let with_line = |line: pb::TargetLine| pb::TrainingPlan { lines: vec![line], ..base() };
    let cases: Vec<(pb::TrainingPlan, &str)> = vec![
        (pb::TrainingPlan { title: " ".to_owned(), ..base() }, "training_plan.title"),
        (pb::TrainingPlan { title: "ạ".repeat(301), ..base() }, "training_plan.title"),
        (pb::TrainingPlan { owner: "localities/2".to_owned(), ..base() }, "training_plan.owner"),
        (pb::TrainingPlan { owner: "localities/77".to_owned(), ..base() }, "training_plan.owner"),
        (pb::TrainingPlan { period_end: Some(date(2021, 1, 1)), ..base() }, "training_plan.period_end"),
        (pb::TrainingPlan { period_start: None, ..base() }, "training_plan.period_start"),
        (pb::TrainingPlan { legal_basis: None, ..base() }, "training_plan.legal_basis"),
        (
            pb::TrainingPlan {
                legal_basis: Some(pb::LegalBasis {
                    document_number: "x".repeat(101),
                    issued_on: Some(date(2020, 1, 1)),
                }),
                ..base()
            },
            "training_plan.legal_basis.document_number",
        ),
        (
            pb::TrainingPlan {
                legal_basis: Some(pb::LegalBasis { document_number: "1/KH".to_owned(), issued_on: None }),
                ..base()
            },
            "training_plan.legal_basis.issued_on",
        ),
        (pb::TrainingPlan { lines: vec![], ..base() }, "training_plan.lines"),
        (with_line(refresher("Bad-Id", "t", 1)), "training_plan.lines[0].line_id"),
        (with_line(pb::TargetLine { title: String::new(), ..refresher("a", "t", 1) }), "training_plan.lines[0].title"),
        (with_line(pb::TargetLine { kind: 0, ..refresher("a", "t", 1) }), "training_plan.lines[0].kind"),
        (with_line(degree("a", "", 1)), "training_plan.lines[0].level"),
        (with_line(degree("a", "scales/political_theory/levels/nonesuch", 1)), "training_plan.lines[0].level"),
        (
            with_line(pb::TargetLine {
                topic: "t".to_owned(),
                ..degree("a", "scales/political_theory/levels/advanced", 1)
            }),
            "training_plan.lines[0].topic",
        ),
        (with_line(refresher("a", "", 1)), "training_plan.lines[0].topic"),
        (
            with_line(pb::TargetLine {
                level: "scales/political_theory/levels/advanced".to_owned(),
                ..refresher("a", "t", 1)
            }),
            "training_plan.lines[0].level",
        ),
        (with_line(refresher("a", "t", 0)), "training_plan.lines[0].target_enrollments"),
        (with_line(pb::TargetLine { budget_vnd: -1, ..refresher("a", "t", 1) }), "training_plan.lines[0].budget_vnd"),
        (
            with_line(pb::TargetLine {
                audience: Some(pb::Audience { tier: 9, ..Default::default() }),
                ..refresher("a", "t", 1)
            }),
            "training_plan.lines[0].audience.tier",
        ),
        (
            with_line(pb::TargetLine {
                audience: Some(pb::Audience { category: 9, ..Default::default() }),
                ..refresher("a", "t", 1)
            }),
            "training_plan.lines[0].audience.category",
        ),
        (
            pb::TrainingPlan { lines: vec![refresher("a", "t", 1), refresher("a", "u", 2)], ..base() },
            "training_plan.lines[1].line_id",
        ),
    ];
    for (bad, field) in cases {
        rejects(&app, client.create_training_plan(create(bad)), field).await;
    }
    rejects(&app, client.create_training_plan(pb::CreateTrainingPlanRequest::default()), "training_plan").await;
    for name in ["", "trainingPlans/0", "plans/1", "trainingPlans/x"] {
        rejects(&app, client.get_training_plan(pb::GetTrainingPlanRequest { name: name.to_owned() }), "name").await;
    }
    rejects(&app, client.list_training_plans(pb::ListTrainingPlansRequest::default()), "owner").await;
}

#[tokio::test]
async fn a_plan_moves_from_draft_to_approved_to_closed_and_a_closed_plan_accepts_no_change() {
    let (app, mut client) = demo().await;
    let made = created(&mut client, plan("localities/20")).await;
    let close = |etag: &str| pb::CloseTrainingPlanRequest { name: made.name.clone(), etag: etag.to_owned() };
    let approve = |etag: &str| pb::ApproveTrainingPlanRequest { name: made.name.clone(), etag: etag.to_owned() };

    fails_with(&app, client.close_training_plan(close("")), Code::FailedPrecondition).await;
    fails_with(&app, client.approve_training_plan(approve("\"9\"")), Code::Aborted).await;
    let approved = client.approve_training_plan(approve(&made.etag)).await.expect("approve").into_inner();
    let approved = approved.training_plan.expect("plan");
    assert_eq!(approved.status, i32::from(pb::TrainingPlanStatus::Approved));
    fails_with(&app, client.approve_training_plan(approve("")), Code::FailedPrecondition).await;
    let removal = pb::DeleteTrainingPlanRequest { name: made.name.clone(), etag: String::new() };
    fails_with(&app, client.delete_training_plan(removal.clone()), Code::FailedPrecondition).await;
    let closed = client.close_training_plan(close(&approved.etag)).await.expect("close").into_inner();
    assert_eq!(closed.training_plan.expect("plan").status, i32::from(pb::TrainingPlanStatus::Closed));

    fails_with(&app, client.close_training_plan(close("")), Code::FailedPrecondition).await;
    let renamed = pb::TrainingPlan { name: made.name.clone(), title: "Mới".to_owned(), ..Default::default() };
    fails_with(&app, client.update_training_plan(update(renamed, &["title"])), Code::FailedPrecondition).await;
    let new_course = create_course(&made.name, course("leadership", date(2022, 1, 1), date(2022, 1, 5)));
    fails_with(&app, client.create_course(new_course), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn only_a_draft_plan_without_enrolments_is_deleted_and_only_with_its_current_etag() {
    let (app, mut client) = demo().await;
    let made = created(&mut client, plan("localities/20")).await;
    let removal = |etag: &str| pb::DeleteTrainingPlanRequest { name: made.name.clone(), etag: etag.to_owned() };
    let who = person(&app).await;
    enrol(&app, id_of(&made.name), who, "leadership", 1, 1, &[("planned", "2022-01-10")], None).await;
    fails_with(&app, client.delete_training_plan(removal("")), Code::FailedPrecondition).await;
    execute(&app, "DELETE FROM enrollment_history").await;
    execute(&app, "DELETE FROM enrollments").await;
    fails_with(&app, client.delete_training_plan(removal("\"7\"")), Code::Aborted).await;
    client
        .create_course(create_course(&made.name, course("leadership", date(2022, 1, 1), date(2022, 1, 5))))
        .await
        .expect("course");
    client.delete_training_plan(removal(&made.etag)).await.expect("delete");
    fails_with(&app, client.get_training_plan(pb::GetTrainingPlanRequest { name: made.name.clone() }), Code::NotFound)
        .await;
    let courses =
        app.snapshot().await.into_iter().filter(|r| r.starts_with("courses") || r.starts_with("target_lines"));
    assert_eq!(courses.count(), 0);
}

#[tokio::test]
async fn lines_with_enrolments_stay_with_their_kind_and_the_period_keeps_every_enrolment_and_course() {
    let (app, mut client) = demo().await;
    let made = created(&mut client, plan("localities/20")).await;
    let who = person(&app).await;
    enrol(&app, id_of(&made.name), who, "political_theory_intermediate", 1, 2, COMPLETED, None).await;
    client
        .create_course(create_course(&made.name, course("digital_skills", date(2025, 3, 1), date(2025, 3, 5))))
        .await
        .expect("course");

    let mut removed = made.clone();
    removed.lines.remove(0);
    fails_with(&app, client.update_training_plan(update(removed, &["lines"])), Code::FailedPrecondition).await;
    let mut rekinded = made.clone();
    rekinded.lines[0] = refresher("political_theory_intermediate", "Lý luận", 500);
    fails_with(&app, client.update_training_plan(update(rekinded, &["lines"])), Code::FailedPrecondition).await;
    let mut relevelled = made.clone();
    relevelled.lines[0].level = "scales/political_theory/levels/advanced".to_owned();
    fails_with(&app, client.update_training_plan(update(relevelled, &["lines"])), Code::FailedPrecondition).await;
    let mut without_course_line = made.clone();
    without_course_line.lines.remove(1);
    fails_with(&app, client.update_training_plan(update(without_course_line, &["lines"])), Code::FailedPrecondition)
        .await;
    let late = pb::TrainingPlan { period_start: Some(date(2022, 6, 1)), ..made.clone() };
    fails_with(&app, client.update_training_plan(update(late, &["period_start"])), Code::FailedPrecondition).await;
    let short = pb::TrainingPlan { period_end: Some(date(2025, 3, 5)), ..made.clone() };
    fails_with(&app, client.update_training_plan(update(short, &["period_end"])), Code::FailedPrecondition).await;
    let backwards = pb::TrainingPlan { period_end: Some(date(2020, 6, 1)), ..made.clone() };
    rejects(&app, client.update_training_plan(update(backwards, &["period_end"])), "training_plan.period_end").await;

    let mut retargeted = made.clone();
    retargeted.lines[0].target_enrollments = 600;
    retargeted.lines[0].title = "Trung cấp lý luận chính trị - hành chính".to_owned();
    retargeted.lines.remove(2);
    let narrower =
        pb::TrainingPlan { period_start: Some(date(2022, 1, 10)), period_end: Some(date(2025, 3, 6)), ..retargeted };
    let updated = client
        .update_training_plan(update(narrower, &["lines", "period_start", "period_end"]))
        .await
        .expect("an allowed update")
        .into_inner()
        .training_plan
        .expect("plan");
    assert_eq!(updated.lines.len(), 2);
    assert_eq!(updated.lines[0].target_enrollments, 600);
}

// Courses.

#[tokio::test]
async fn courses_of_a_line_are_created_listed_updated_and_deleted_unless_an_enrolment_refers_to_them() {
    let (app, mut client) = demo().await;
    let made = created(&mut client, plan("localities/20")).await;
    let new = course("political_theory_intermediate", date(2022, 3, 1), date(2022, 9, 30));
    let request = pb::CreateCourseRequest { request_id: "c-1".to_owned(), ..create_course(&made.name, new.clone()) };
    let first = client.create_course(request.clone()).await.expect("create").into_inner().course.expect("course");
    let again = client.create_course(request).await.expect("retry").into_inner().course.expect("course");
    assert_eq!(first, again);
    assert_eq!(first.sessions, new.sessions);
    assert!(first.name.starts_with(&format!("{}/courses/", made.name)));

    let got = client.get_course(pb::GetCourseRequest { name: first.name.clone() }).await.expect("get").into_inner();
    assert_eq!(got.course, Some(first.clone()));
    let listed = client
        .list_courses(pb::ListCoursesRequest { parent: made.name.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.courses, vec![first.clone()]);

    let mut changed = first.clone();
    changed.title = "Lớp khóa 13".to_owned();
    changed.end_date = Some(date(2022, 10, 31));
    let mask = Some(FieldMask { paths: vec!["title".to_owned(), "end_date".to_owned()] });
    let updated = client
        .update_course(pb::UpdateCourseRequest { course: Some(changed), update_mask: mask.clone() })
        .await
        .expect("update")
        .into_inner()
        .course
        .expect("course");
    assert_eq!(updated.title, "Lớp khóa 13");
    let mut stale = first.clone();
    stale.title = "Cũ".to_owned();
    let stale = pb::UpdateCourseRequest {
        course: Some(stale),
        update_mask: Some(FieldMask { paths: vec!["title".to_owned()] }),
    };
    fails_with(&app, client.update_course(stale), Code::Aborted).await;

    let who = person(&app).await;
    enrol(
        &app,
        id_of(&made.name),
        who,
        "political_theory_intermediate",
        1,
        1,
        COMPLETED,
        Some(first.name.rsplit('/').next().and_then(|id| id.parse().ok()).expect("a course id")),
    )
    .await;
    let removal = pb::DeleteCourseRequest { name: first.name.clone(), etag: String::new() };
    fails_with(&app, client.delete_course(removal.clone()), Code::FailedPrecondition).await;
    execute(&app, "DELETE FROM enrollment_history").await;
    execute(&app, "DELETE FROM enrollments").await;
    client.delete_course(removal).await.expect("delete");
    fails_with(&app, client.get_course(pb::GetCourseRequest { name: first.name.clone() }), Code::NotFound).await;
}

#[tokio::test]
async fn each_bad_field_of_a_new_course_is_named() {
    let (app, mut client) = demo().await;
    let made = created(&mut client, plan("localities/20")).await;
    let base = || course("leadership", date(2022, 3, 1), date(2022, 3, 10));
    let session =
        |start, end| pb::CourseSession { start_date: Some(start), end_date: Some(end), location: String::new() };
    let cases: Vec<(pb::Course, &str)> = vec![
        (pb::Course { line_id: "nonesuch".to_owned(), ..base() }, "course.line_id"),
        (pb::Course { line_id: String::new(), ..base() }, "course.line_id"),
        (pb::Course { title: String::new(), ..base() }, "course.title"),
        (pb::Course { provider: "p".repeat(301), ..base() }, "course.provider"),
        (pb::Course { start_date: Some(date(2020, 12, 31)), ..base() }, "course.start_date"),
        (pb::Course { end_date: None, ..base() }, "course.end_date"),
        (pb::Course { end_date: Some(date(2026, 1, 1)), ..base() }, "course.end_date"),
        (pb::Course { end_date: Some(date(2022, 2, 1)), sessions: vec![], ..base() }, "course.end_date"),
        (
            pb::Course { sessions: vec![session(date(2022, 2, 28), date(2022, 3, 2))], ..base() },
            "course.sessions[0].start_date",
        ),
        (
            pb::Course { sessions: vec![session(date(2022, 3, 2), date(2022, 3, 11))], ..base() },
            "course.sessions[0].end_date",
        ),
        (
            pb::Course { sessions: vec![session(date(2022, 3, 5), date(2022, 3, 4))], ..base() },
            "course.sessions[0].end_date",
        ),
    ];
    for (bad, field) in cases {
        rejects(&app, client.create_course(create_course(&made.name, bad)), field).await;
    }
    rejects(&app, client.create_course(create_course("plans/1", base())), "parent").await;
    fails_with(&app, client.create_course(create_course("trainingPlans/999", base())), Code::NotFound).await;
    for name in ["", "trainingPlans/1", "trainingPlans/1/courses/0", "courses/1"] {
        rejects(&app, client.get_course(pb::GetCourseRequest { name: name.to_owned() }), "name").await;
    }
}

// Authorisation.

fn service_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(hrplan::grpc::FILE_DESCRIPTOR_SET).expect("a descriptor set");
    set.file
        .iter()
        .filter(|file| file.package() == "hrplan.v1")
        .flat_map(|file| file.service.iter())
        .filter(|service| service.name() == "TrainingPlanService")
        .flat_map(|service| service.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

#[tokio::test]
async fn every_training_plan_rpc_aimed_at_another_province_is_refused_to_a_caller_scoped_to_one_province() {
    // Arrange: a plan of Điện Biên (11) with a course, and a caller scoped to Lạng Sơn (20).
    let (app, mut client) = demo().await;
    let made =
        created(&mut client, pb::TrainingPlan { title: "Kế hoạch Điện Biên".to_owned(), ..plan("localities/11") })
            .await;
    let new = course("leadership", date(2022, 1, 1), date(2022, 1, 5));
    let made_course = client
        .create_course(create_course(&made.name, new.clone()))
        .await
        .expect("course")
        .into_inner()
        .course
        .expect("course");
    let mut scoped = app.as_(Caller::of(&["20"], &[Role::Editor, Role::PersonalDataReader])).plans();
    let name = made.name.clone();
    let mut status = Vec::new();

    // Act
    status.push((
        "CreateTrainingPlan",
        fails_with(&app, scoped.create_training_plan(create(plan("localities/11"))), Code::PermissionDenied).await,
    ));
    status.push((
        "GetTrainingPlan",
        fails_with(
            &app,
            scoped.get_training_plan(pb::GetTrainingPlanRequest { name: name.clone() }),
            Code::PermissionDenied,
        )
        .await,
    ));
    let listing = pb::ListTrainingPlansRequest { owner: "localities/11".to_owned(), ..Default::default() };
    status.push((
        "ListTrainingPlans",
        fails_with(&app, scoped.list_training_plans(listing), Code::PermissionDenied).await,
    ));
    let renamed = pb::TrainingPlan { name: name.clone(), title: "Đổi tên".to_owned(), ..Default::default() };
    status.push((
        "UpdateTrainingPlan",
        fails_with(&app, scoped.update_training_plan(update(renamed, &["title"])), Code::PermissionDenied).await,
    ));
    let removal = pb::DeleteTrainingPlanRequest { name: name.clone(), etag: made.etag.clone() };
    status.push((
        "DeleteTrainingPlan",
        fails_with(&app, scoped.delete_training_plan(removal), Code::PermissionDenied).await,
    ));
    let approve = pb::ApproveTrainingPlanRequest { name: name.clone(), etag: String::new() };
    status.push((
        "ApproveTrainingPlan",
        fails_with(&app, scoped.approve_training_plan(approve), Code::PermissionDenied).await,
    ));
    let close = pb::CloseTrainingPlanRequest { name: name.clone(), etag: String::new() };
    status
        .push(("CloseTrainingPlan", fails_with(&app, scoped.close_training_plan(close), Code::PermissionDenied).await));
    status.push((
        "CreateCourse",
        fails_with(&app, scoped.create_course(create_course(&name, new)), Code::PermissionDenied).await,
    ));
    status.push((
        "GetCourse",
        fails_with(
            &app,
            scoped.get_course(pb::GetCourseRequest { name: made_course.name.clone() }),
            Code::PermissionDenied,
        )
        .await,
    ));
    let courses = pb::ListCoursesRequest { parent: name.clone(), ..Default::default() };
    status.push(("ListCourses", fails_with(&app, scoped.list_courses(courses), Code::PermissionDenied).await));
    let mut changed = made_course.clone();
    changed.title = "Đổi".to_owned();
    let change = pb::UpdateCourseRequest {
        course: Some(changed),
        update_mask: Some(FieldMask { paths: vec!["title".to_owned()] }),
    };
    status.push(("UpdateCourse", fails_with(&app, scoped.update_course(change), Code::PermissionDenied).await));
    let removal = pb::DeleteCourseRequest { name: made_course.name.clone(), etag: String::new() };
    status.push(("DeleteCourse", fails_with(&app, scoped.delete_course(removal), Code::PermissionDenied).await));
    status.push((
        "GetTrainingPlanProgress",
        fails_with(&app, scoped.get_training_plan_progress(progress(&name, date(2023, 1, 1))), Code::PermissionDenied)
            .await,
    ));

    // Assert
    let mut methods = BTreeSet::new();
    for (method, status) in status {
        assert!(!status.message().contains("Điện Biên"), "{method} told a title: {status:?}");
        methods.insert(method.to_owned());
    }
    assert_eq!(methods, service_methods(), "every TrainingPlanService RPC needs an out-of-scope call here");
}

#[tokio::test]
async fn a_plan_that_does_not_exist_is_refused_to_a_scoped_caller_and_not_found_for_a_national_one() {
    let (app, mut client) = demo().await;
    let mut scoped = app.as_(Caller::of(&["20"], &[Role::Editor])).plans();
    let get = || pb::GetTrainingPlanRequest { name: "trainingPlans/999".to_owned() };
    fails_with(&app, scoped.get_training_plan(get()), Code::PermissionDenied).await;
    fails_with(&app, client.get_training_plan(get()), Code::NotFound).await;
    fails_with(
        &app,
        scoped.get_training_plan_progress(progress("trainingPlans/999", date(2023, 1, 1))),
        Code::PermissionDenied,
    )
    .await;
    fails_with(
        &app,
        client.get_training_plan_progress(progress("trainingPlans/999", date(2023, 1, 1))),
        Code::NotFound,
    )
    .await;
    let course = || pb::GetCourseRequest { name: "trainingPlans/999/courses/1".to_owned() };
    fails_with(&app, scoped.get_course(course()), Code::PermissionDenied).await;
    fails_with(&app, client.get_course(course()), Code::NotFound).await;

    // In its own province the scoped editor works, and a reader cannot write.
    let own = scoped.create_training_plan(create(plan("localities/20"))).await.expect("create in scope");
    let own = own.into_inner().training_plan.expect("plan");
    let mut reader = app.as_(Caller::of(&["20"], &[Role::AggregateReader])).plans();
    reader.get_training_plan_progress(progress(&own.name, date(2023, 1, 1))).await.expect("aggregates are readable");
    let approve = pb::ApproveTrainingPlanRequest { name: own.name.clone(), etag: String::new() };
    fails_with(&app, reader.approve_training_plan(approve), Code::PermissionDenied).await;
}
