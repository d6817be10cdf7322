//! ReportService's activity reports (issue 6): SummarizeTraining, SummarizeRotations
//! and GetStaffingSummary, computed from enrolments, movements, people and quotas
//! created through the API in the demo tree (Lạng Sơn 20 with Thành phố Lạng Sơn 178
//! and Huyện Chi Lăng 187 until the 2025 reorganisation; Điện Biên 11 as the other
//! province).

use hrplan::{
    auth::Role,
    grpc::pb::{
        self, EnrollmentStatus as S, PersonCategory as C, RotationKind as K,
        enrollment_service_client::EnrollmentServiceClient, person_service_client::PersonServiceClient,
        rotation_service_client::RotationServiceClient, staffing_service_client::StaffingServiceClient,
        training_plan_service_client::TrainingPlanServiceClient,
    },
};
use tonic::{Code, Status};

use crate::clients::{Caller, ReportClient, RotationClient};
use crate::helpers::{Bearer, TestApp, bearer, date, fails_with, field_violations, spawn_app, token, unit};

/// A reader of Lạng Sơn who may see person-level data: exact figures.
fn exact_reader(app: &TestApp) -> ReportClient {
    app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).reports()
}

/// A reader of Lạng Sơn who may see aggregates only: small cells hidden.
fn aggregate_reader(app: &TestApp) -> ReportClient {
    app.as_(Caller::of(&["20"], &[Role::AggregateReader])).reports()
}

fn admin() -> Bearer {
    bearer(Some(token(&["*"], &[Role::Admin])))
}

/// Creates a person of `category` placed at `unit` from 2020-01-01 (until `until`,
/// when employment ends too) and returns the person's name.
async fn person(app: &TestApp, unit: &str, category: C, until: Option<pb::Date>) -> String {
    PersonServiceClient::with_interceptor(app.channel.clone(), admin())
        .create_person(pb::CreatePersonRequest {
            record: Some(pb::PersonRecord {
                person: Some(pb::Person {
                    full_name: "Hoàng Thị Thử".into(),
                    birth_date: Some(date(1985, 3, 8)),
                    gender: pb::Gender::Female.into(),
                    ethnicity: "Tày".into(),
                    category: category.into(),
                    employed_from: Some(date(2010, 1, 1)),
                    employed_until: until,
                    end_reason: if until.is_some() { pb::EmploymentEnd::Retired.into() } else { 0 },
                    ..Default::default()
                }),
                placements: vec![pb::Placement {
                    unit: unit.into(),
                    post_title: "Chuyên viên".into(),
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

/// The fields named by an INVALID_ARGUMENT answer.
fn violated(status: &Status) -> Vec<String> {
    field_violations(status).into_iter().map(|(field, _)| field).collect()
}

fn scope(locality: &str, as_of: pb::Date) -> pb::ReportScope {
    pb::ReportScope { locality: locality.into(), as_of: Some(as_of), ..Default::default() }
}

fn by_child(locality: &str, as_of: pb::Date) -> pb::ReportScope {
    pb::ReportScope { breakdown_by_child: true, ..scope(locality, as_of) }
}

/// (count, denominator, suppressed) of a cell.
fn cell(c: Option<&pb::Cell>) -> (i64, i64, bool) {
    let c = c.expect("a cell");
    (c.count, c.denominator, c.suppressed)
}

// ---- SummarizeTraining ---------------------------------------------------------------

const INTERMEDIATE: &str = "scales/political_theory/levels/intermediate";
const MASTER: &str = "scales/professional/levels/master";

/// Creates and approves a 2021-2025 plan of `owner` with a political-theory
/// intermediate line, a master's line and a refresher line; returns its name.
async fn approved_plan(app: &TestApp, owner: &str) -> String {
    let mut plans = TrainingPlanServiceClient::with_interceptor(app.channel.clone(), admin());
    let degree = |line_id: &str, level: &str| pb::TargetLine {
        line_id: line_id.into(),
        title: format!("Đào tạo {line_id}"),
        kind: pb::ProgrammeKind::Degree.into(),
        level: level.into(),
        target_enrollments: 50,
        ..Default::default()
    };
    let plan = plans
        .create_training_plan(pb::CreateTrainingPlanRequest {
            training_plan: Some(pb::TrainingPlan {
                title: "Kế hoạch đào tạo, bồi dưỡng cán bộ, công chức giai đoạn 2021-2025".into(),
                owner: owner.into(),
                period_start: Some(date(2021, 1, 1)),
                period_end: Some(date(2026, 1, 1)),
                legal_basis: Some(pb::LegalBasis {
                    document_number: "125/KH-UBND".into(),
                    issued_on: Some(date(2020, 12, 15)),
                }),
                lines: vec![
                    degree("political_theory_intermediate", INTERMEDIATE),
                    degree("professional_master", MASTER),
                    pb::TargetLine {
                        line_id: "digital_skills".into(),
                        title: "Bồi dưỡng kỹ năng chuyển đổi số".into(),
                        kind: pb::ProgrammeKind::Refresher.into(),
                        topic: "Kỹ năng chuyển đổi số".into(),
                        target_enrollments: 50,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("creating a plan")
        .into_inner()
        .training_plan
        .expect("plan");
    plans
        .approve_training_plan(pb::ApproveTrainingPlanRequest { name: plan.name.clone(), etag: plan.etag })
        .await
        .expect("approving the plan");
    plan.name
}

/// Enrols `person` in `line` of `plan` on `on` (ENROLLED when `enrolled`, else
/// PLANNED), then applies each (status, date) transition in turn.
async fn enrol(
    app: &TestApp,
    plan: &str,
    person: &str,
    line: &str,
    on: pb::Date,
    enrolled: bool,
    then: &[(S, pb::Date)],
) {
    let mut client = EnrollmentServiceClient::with_interceptor(app.channel.clone(), admin());
    let enrolment = client
        .create_enrollment(pb::CreateEnrollmentRequest {
            parent: plan.into(),
            enrollment: Some(pb::Enrollment {
                person: person.into(),
                line_id: line.into(),
                enrollment_date: Some(on),
                enrolled,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("enrolling")
        .into_inner()
        .enrollment
        .expect("enrolment");
    for (status, day) in then {
        client
            .transition_enrollment(pb::TransitionEnrollmentRequest {
                name: enrolment.name.clone(),
                status: (*status).into(),
                date: Some(*day),
                result: None,
                etag: String::new(),
            })
            .await
            .expect("a transition");
    }
}

/// Twelve civil servants of Lạng Sơn (eight in Đồng Mỏ, district 187; four in Vĩnh
/// Trại, city 178) and one of Điện Biên, with enrolments around the year 2024:
///
/// | who | line | history | in 2024 |
/// |---|---|---|---|
/// | 187: p1-p3 | intermediate | enrolled 03-01, completed 11-15 | started, completed |
/// | 187: p4 | intermediate | enrolled 03-01, dropped 06-01 | started, discontinued |
/// | 187: p5, p6 | intermediate | enrolled 01-01 (the first day) | started, in progress |
/// | 187: p7 | intermediate | enrolled 2023-12-31 (the day before) | in progress, not started |
/// | 187: p8 | intermediate | enrolled 2023-09-01, completed 2023-12-31 | nothing |
/// | 187: p1 | refresher | enrolled 05-01, completed 05-20 | started, completed |
/// | 187: p2 | refresher | enrolled 05-01, completed 2025-01-01 | started, in progress |
/// | 178: p9 | intermediate | planned 02-01, never started | nothing |
/// | 178: p10 | intermediate | enrolled 2025-01-01 (the day after) | nothing |
/// | 178: p11 | intermediate | enrolled 12-31 (the last day) | started, in progress |
/// | 178: p12 | master | enrolled 2022-09-01, failed 2024-01-01 (the first day) | discontinued |
/// | Điện Biên | intermediate | enrolled 03-01 (another province) | nothing |
async fn training_fixture() -> TestApp {
    let app = spawn_app().await;
    app.load_demo().await;
    let dong_mo =
        unit(&app, "localities/06463", &format!("Ủy ban nhân dân {}", "localities/06463"), date(2020, 1, 1), None)
            .await;
    let vinh_trai =
        unit(&app, "localities/05977", &format!("Ủy ban nhân dân {}", "localities/05977"), date(2020, 1, 1), None)
            .await;
    let thanh_xuong =
        unit(&app, "localities/03334", &format!("Ủy ban nhân dân {}", "localities/03334"), date(2020, 1, 1), None)
            .await;
    let mut p = Vec::new();
    for i in 0..12 {
        p.push(person(&app, if i < 8 { &dong_mo } else { &vinh_trai }, C::CivilServant, None).await);
    }
    let outsider = person(&app, &thanh_xuong, C::CivilServant, None).await;
    let plan = approved_plan(&app, "localities/20").await;
    let other_plan = approved_plan(&app, "localities/11").await;
    let pt = "political_theory_intermediate";
    for who in &p[0..3] {
        enrol(&app, &plan, who, pt, date(2024, 3, 1), true, &[(S::Completed, date(2024, 11, 15))]).await;
    }
    enrol(&app, &plan, &p[3], pt, date(2024, 3, 1), true, &[(S::Dropped, date(2024, 6, 1))]).await;
    for who in &p[4..6] {
        enrol(&app, &plan, who, pt, date(2024, 1, 1), true, &[]).await;
    }
    enrol(&app, &plan, &p[6], pt, date(2023, 12, 31), true, &[]).await;
    enrol(&app, &plan, &p[7], pt, date(2023, 9, 1), true, &[(S::Completed, date(2023, 12, 31))]).await;
    enrol(&app, &plan, &p[0], "digital_skills", date(2024, 5, 1), true, &[(S::Completed, date(2024, 5, 20))]).await;
    enrol(&app, &plan, &p[1], "digital_skills", date(2024, 5, 1), true, &[(S::Completed, date(2025, 1, 1))]).await;
    enrol(&app, &plan, &p[8], pt, date(2024, 2, 1), false, &[]).await;
    enrol(&app, &plan, &p[9], pt, date(2025, 1, 1), true, &[]).await;
    enrol(&app, &plan, &p[10], pt, date(2024, 12, 31), true, &[]).await;
    enrol(&app, &plan, &p[11], "professional_master", date(2022, 9, 1), true, &[(S::Failed, date(2024, 1, 1))]).await;
    enrol(&app, &other_plan, &outsider, pt, date(2024, 3, 1), true, &[]).await;
    app
}

fn training_request(scope: pb::ReportScope) -> pb::SummarizeTrainingRequest {
    pb::SummarizeTrainingRequest {
        scope: Some(scope),
        period_start: Some(date(2024, 1, 1)),
        period_end: Some(date(2024, 12, 31)),
    }
}

fn programme<'a>(summary: &'a pb::TrainingSummary, key: &str) -> &'a pb::TrainingFigures {
    summary.programmes.iter().find(|p| p.key == key).unwrap_or_else(|| panic!("no figures for {key}: {summary:?}"))
}

/// (under way, started, completed, discontinued, in progress) of a programme.
fn figures(summary: &pb::TrainingSummary, key: &str) -> (i64, i64, i64, i64, i64) {
    let f = programme(summary, key);
    let count = |c: &Option<pb::Cell>| c.as_ref().map(|c| c.count).expect("a cell");
    (count(&f.under_way), count(&f.started), count(&f.completed), count(&f.discontinued), count(&f.in_progress))
}

#[tokio::test]
async fn training_counts_the_populations_enrolments_under_way_in_the_period_per_programme_and_level() {
    let app = training_fixture().await;
    let mut reports = exact_reader(&app);

    let answer = reports
        .summarize_training(training_request(by_child("localities/20", date(2024, 12, 31))))
        .await
        .expect("summary")
        .into_inner();
    assert_eq!((answer.period_start, answer.period_end), (Some(date(2024, 1, 1)), Some(date(2024, 12, 31))));
    let total = answer.total.as_ref().expect("total");
    assert_eq!((total.locality.as_str(), total.headcount), ("localities/20", 12));
    let keys: Vec<&str> = total.programmes.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        ["all", "degree", "scales/political_theory", INTERMEDIATE, "scales/professional", MASTER, "refresher"]
    );
    // The day before, the day after and the planned enrolment stay out; the first and
    // the last day of the period count; Điện Biên's enrolment is not Lạng Sơn's.
    assert_eq!(figures(total, INTERMEDIATE), (8, 7, 3, 1, 4));
    assert_eq!(figures(total, MASTER), (1, 0, 0, 1, 0));
    assert_eq!(figures(total, "scales/political_theory"), (8, 7, 3, 1, 4));
    assert_eq!(figures(total, "degree"), (9, 7, 3, 2, 4));
    assert_eq!(figures(total, "refresher"), (2, 2, 1, 0, 1));
    assert_eq!(figures(total, "all"), (11, 9, 4, 2, 5));

    let intermediate = programme(total, INTERMEDIATE);
    assert_eq!(
        (intermediate.kind(), intermediate.scale.as_str()),
        (pb::ProgrammeKind::Degree, "scales/political_theory")
    );
    assert_eq!(intermediate.label, "Trung cấp");
    assert_eq!(cell(intermediate.under_way.as_ref()), (8, 12, false));
    let completed = intermediate.completed.as_ref().expect("completed");
    assert_eq!(completed.denominator, 8);
    assert!((completed.percent - 37.5).abs() < 1e-9, "{}", completed.percent);

    // Each enrolment counts where its person is placed.
    let children: Vec<(&str, i64)> = answer.children.iter().map(|c| (c.locality.as_str(), c.headcount)).collect();
    assert_eq!(children, [("localities/178", 4), ("localities/187", 8)]);
    let city = &answer.children[0];
    let district = &answer.children[1];
    assert_eq!(figures(city, INTERMEDIATE), (1, 1, 0, 0, 1));
    assert_eq!(figures(city, MASTER), (1, 0, 0, 1, 0));
    assert_eq!(figures(city, "refresher"), (0, 0, 0, 0, 0));
    assert_eq!(figures(district, INTERMEDIATE), (7, 6, 3, 1, 3));
    assert_eq!(figures(district, MASTER), (0, 0, 0, 0, 0));
    assert_eq!(figures(district, "refresher"), (2, 2, 1, 0, 1));

    // Another year: only what was under way in 2023 (p7 started on its last day, p8
    // completed then, p12 studying).
    let year_2023 = reports
        .summarize_training(pb::SummarizeTrainingRequest {
            period_start: Some(date(2023, 1, 1)),
            period_end: Some(date(2023, 12, 31)),
            ..training_request(scope("localities/20", date(2024, 12, 31)))
        })
        .await
        .expect("summary")
        .into_inner();
    let total_2023 = year_2023.total.as_ref().expect("total");
    assert_eq!(figures(total_2023, INTERMEDIATE), (2, 2, 1, 0, 1));
    assert_eq!(figures(total_2023, MASTER), (1, 0, 0, 0, 1));
}

#[tokio::test]
async fn small_training_figures_are_hidden_from_aggregate_readers_with_what_is_taken_of_them() {
    let app = training_fixture().await;
    let request = || training_request(scope("localities/20", date(2024, 12, 31)));

    let hidden = aggregate_reader(&app).summarize_training(request()).await.expect("summary").into_inner();
    let total = hidden.total.as_ref().expect("total");
    let all = programme(total, "all");
    assert_eq!(cell(all.under_way.as_ref()), (11, 12, false));
    assert_eq!(cell(all.started.as_ref()), (9, 11, false));
    assert_eq!(cell(all.in_progress.as_ref()), (5, 11, false));
    assert_eq!(cell(all.completed.as_ref()), (0, 11, true), "4 completions are fewer than 5");
    assert_eq!(cell(all.discontinued.as_ref()), (0, 11, true));
    // One master's enrolment under way: its count and everything taken of it are hidden.
    let master = programme(total, MASTER);
    assert_eq!(cell(master.under_way.as_ref()), (0, 12, true));
    assert_eq!(cell(master.discontinued.as_ref()), (0, 0, true));
    assert_eq!(cell(master.started.as_ref()), (0, 0, true));

    let exact = exact_reader(&app).summarize_training(request()).await.expect("summary").into_inner();
    let total = exact.total.as_ref().expect("total");
    assert_eq!(cell(programme(total, "all").completed.as_ref()), (4, 11, false));
    assert_eq!(cell(programme(total, MASTER).discontinued.as_ref()), (1, 1, false));
}

#[tokio::test]
async fn training_summaries_reject_bad_periods_and_scopes_outside_the_caller_and_change_nothing() {
    let app = training_fixture().await;
    let mut reports = exact_reader(&app);
    let request = || training_request(scope("localities/20", date(2024, 12, 31)));

    let backwards = pb::SummarizeTrainingRequest { period_start: Some(date(2025, 1, 1)), ..request() };
    let status = fails_with(&app, reports.summarize_training(backwards), Code::InvalidArgument).await;
    assert_eq!(violated(&status), ["period_end"]);
    let missing = pb::SummarizeTrainingRequest { period_start: None, period_end: None, ..request() };
    let status = fails_with(&app, reports.summarize_training(missing), Code::InvalidArgument).await;
    assert_eq!(violated(&status), ["period_start", "period_end"]);
    let not_a_date = pb::SummarizeTrainingRequest { period_end: Some(date(2024, 2, 30)), ..request() };
    let status = fails_with(&app, reports.summarize_training(not_a_date), Code::InvalidArgument).await;
    assert_eq!(violated(&status), ["period_end"]);
    let no_scope = pb::SummarizeTrainingRequest { scope: None, ..request() };
    let status = fails_with(&app, reports.summarize_training(no_scope), Code::InvalidArgument).await;
    assert_eq!(violated(&status), ["scope"]);

    let mut dien_bien = app.as_(Caller::of(&["11"], &[Role::PersonalDataReader])).reports();
    fails_with(&app, dien_bien.summarize_training(request()), Code::PermissionDenied).await;
    let mut national = app.as_(Caller::of(&["*"], &[Role::PersonalDataReader])).reports();
    let unknown = training_request(scope("localities/99", date(2024, 12, 31)));
    fails_with(&app, national.summarize_training(unknown), Code::NotFound).await;
    // Điện Biên's own reader sees its one enrolment.
    let own = dien_bien
        .summarize_training(training_request(scope("localities/11", date(2024, 12, 31))))
        .await
        .expect("summary")
        .into_inner();
    assert_eq!(figures(own.total.as_ref().expect("total"), INTERMEDIATE), (1, 1, 0, 0, 1));
}

// ---- SummarizeRotations --------------------------------------------------------------

/// Units of the rotation fixture.
struct Units {
    district: String,
    dong_mo: String,
    vinh_trai: String,
    province: String,
}

fn movement(
    person: &str,
    kind: K,
    from: &str,
    to: &str,
    start: pb::Date,
    planned_end: Option<pb::Date>,
    leader: bool,
) -> pb::CreateRotationRequest {
    pb::CreateRotationRequest {
        rotation: Some(pb::Rotation {
            person: person.into(),
            kind: kind.into(),
            source_unit: from.into(),
            source_post: "Phó Trưởng phòng Nội vụ".into(),
            destination_unit: to.into(),
            destination_post: "Phó Chủ tịch Ủy ban nhân dân".into(),
            destination_leader: leader,
            start_date: Some(start),
            planned_end_date: planned_end,
            decision: Some(pb::RotationDecision {
                number: "215-QĐ/TU".into(),
                decided_on: Some(date(2023, 12, 1)),
                issuing_body: "Ban Thường vụ Tỉnh ủy".into(),
            }),
            programme: String::new(),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn create_movement(client: &mut RotationClient, request: pb::CreateRotationRequest) -> String {
    client.create_rotation(request).await.expect("creating a movement").into_inner().rotation.expect("movement").name
}

async fn start_movement(client: &mut RotationClient, name: &str) {
    client
        .start_rotation(pb::StartRotationRequest { name: name.into(), etag: String::new() })
        .await
        .expect("starting a movement");
}

async fn complete_movement(client: &mut RotationClient, name: &str, end: pb::Date, promoted: bool) {
    client
        .complete_rotation(pb::CompleteRotationRequest {
            name: name.into(),
            actual_end_date: Some(end),
            outcome: Some(pb::RotationOutcome { promoted, ..Default::default() }),
            etag: String::new(),
        })
        .await
        .expect("completing a movement");
}

/// Movements around the year 2024 of Lạng Sơn (district office of Chi Lăng 187, the
/// commune offices of Đồng Mỏ 06463 in 187 and Vĩnh Trại 05977 in 178, the
/// provincial department) and one of Điện Biên:
///
/// | movement | kind | direction | dates | status |
/// |---|---|---|---|---|
/// | district → Đồng Mỏ | rotation | down | 2024-01-01, back 12-01 | completed, promoted |
/// | district → Đồng Mỏ | reinforcement | down | from 03-01 | active |
/// | Đồng Mỏ → district | rotation | up | from 02-01 | planned |
/// | Đồng Mỏ → Vĩnh Trại, to no leader post | secondment | lateral | from 06-01 | cancelled |
/// | district → province, a cadre | transfer | up | 07-01 to 09-01 | completed, not promoted |
/// | 4 × district → Đồng Mỏ | rotation | down | from 04-01 (one from 12-31) | planned |
/// | district → Đồng Mỏ | rotation | down | 2023-01-01, back 2024-01-01 | out: over before |
/// | district → Đồng Mỏ | rotation | down | from 2025-01-01 | out: starts after |
/// | Điện Biên district → commune | rotation | down | from 03-01 | out: other province |
async fn rotation_fixture() -> (TestApp, Units) {
    let app = spawn_app().await;
    app.load_demo().await;
    let u = Units {
        district: unit(
            &app,
            "localities/187",
            &format!("Ủy ban nhân dân {}", "localities/187"),
            date(2020, 1, 1),
            Some(date(2025, 7, 1)),
        )
        .await,
        dong_mo: unit(
            &app,
            "localities/06463",
            &format!("Ủy ban nhân dân {}", "localities/06463"),
            date(2020, 1, 1),
            None,
        )
        .await,
        vinh_trai: unit(
            &app,
            "localities/05977",
            &format!("Ủy ban nhân dân {}", "localities/05977"),
            date(2020, 1, 1),
            None,
        )
        .await,
        province: unit(&app, "localities/20", &format!("Ủy ban nhân dân {}", "localities/20"), date(2020, 1, 1), None)
            .await,
    };
    let dien_bien_district = unit(
        &app,
        "localities/100",
        &format!("Ủy ban nhân dân {}", "localities/100"),
        date(2020, 1, 1),
        Some(date(2025, 7, 1)),
    )
    .await;
    let thanh_xuong =
        unit(&app, "localities/03334", &format!("Ủy ban nhân dân {}", "localities/03334"), date(2020, 1, 1), None)
            .await;
    let mut client = RotationServiceClient::with_interceptor(app.channel.clone(), admin());
    let until = Some(date(2025, 7, 1));
    let civil_servant = |unit: &str| {
        let (app, unit) = (&app, unit.to_owned());
        async move { person(app, &unit, C::CivilServant, until).await }
    };

    let a = civil_servant(&u.district).await;
    let down = movement(&a, K::Rotation, &u.district, &u.dong_mo, date(2024, 1, 1), Some(date(2025, 1, 1)), true);
    let down = create_movement(&mut client, down).await;
    start_movement(&mut client, &down).await;
    complete_movement(&mut client, &down, date(2024, 12, 1), true).await;

    let b = civil_servant(&u.district).await;
    let help = movement(&b, K::Reinforcement, &u.district, &u.dong_mo, date(2024, 3, 1), Some(date(2025, 3, 1)), true);
    let help = create_movement(&mut client, help).await;
    start_movement(&mut client, &help).await;

    let c = civil_servant(&u.dong_mo).await;
    let up = movement(&c, K::Rotation, &u.dong_mo, &u.district, date(2024, 2, 1), Some(date(2025, 2, 1)), true);
    create_movement(&mut client, up).await;

    let d = civil_servant(&u.dong_mo).await;
    let lateral =
        movement(&d, K::Secondment, &u.dong_mo, &u.vinh_trai, date(2024, 6, 1), Some(date(2025, 6, 1)), false);
    let lateral = create_movement(&mut client, lateral).await;
    client.cancel_rotation(pb::CancelRotationRequest { name: lateral, etag: String::new() }).await.expect("cancelling");

    let e = person(&app, &u.district, C::Cadre, until).await;
    let transfer = movement(&e, K::Transfer, &u.district, &u.province, date(2024, 7, 1), None, true);
    let transfer = create_movement(&mut client, transfer).await;
    start_movement(&mut client, &transfer).await;
    complete_movement(&mut client, &transfer, date(2024, 9, 1), false).await;

    for start in [date(2024, 4, 1), date(2024, 4, 1), date(2024, 4, 1), date(2024, 12, 31)] {
        let who = civil_servant(&u.district).await;
        let planned = movement(&who, K::Rotation, &u.district, &u.dong_mo, start, Some(date(2026, 4, 1)), true);
        create_movement(&mut client, planned).await;
    }

    let f = civil_servant(&u.district).await;
    let before = movement(&f, K::Rotation, &u.district, &u.dong_mo, date(2023, 1, 1), Some(date(2024, 1, 1)), true);
    let before = create_movement(&mut client, before).await;
    start_movement(&mut client, &before).await;
    complete_movement(&mut client, &before, date(2024, 1, 1), true).await;

    let g = civil_servant(&u.district).await;
    let after = movement(&g, K::Rotation, &u.district, &u.dong_mo, date(2025, 1, 1), Some(date(2026, 1, 1)), true);
    create_movement(&mut client, after).await;

    let h = civil_servant(&dien_bien_district).await;
    let elsewhere =
        movement(&h, K::Rotation, &dien_bien_district, &thanh_xuong, date(2024, 3, 1), Some(date(2025, 3, 1)), true);
    create_movement(&mut client, elsewhere).await;
    (app, u)
}

fn rotations_request(scope: pb::ReportScope) -> pb::SummarizeRotationsRequest {
    pb::SummarizeRotationsRequest {
        scope: Some(scope),
        period_start: Some(date(2024, 1, 1)),
        period_end: Some(date(2024, 12, 31)),
    }
}

/// (key, count, suppressed) of a list of cells.
fn shown(cells: &[pb::Cell]) -> Vec<(&str, i64, bool)> {
    cells.iter().map(|c| (c.key.as_str(), c.count, c.suppressed)).collect()
}

/// The counts of a list of cells, by key.
fn counts(cells: &[pb::Cell]) -> Vec<(&str, i64)> {
    cells.iter().map(|c| (c.key.as_str(), c.count)).collect()
}

async fn rotation_summary(client: &mut ReportClient, scope: pb::ReportScope) -> pb::SummarizeRotationsResponse {
    client.summarize_rotations(rotations_request(scope)).await.expect("summary").into_inner()
}

#[tokio::test]
async fn movements_overlapping_the_period_are_counted_by_kind_direction_status_and_promotion() {
    let (app, _) = rotation_fixture().await;
    let mut reports = exact_reader(&app);

    let answer = rotation_summary(&mut reports, scope("localities/20", date(2024, 6, 30))).await;
    let total = answer.total.as_ref().expect("total");
    assert_eq!(total.rotation_count, 9);
    assert_eq!(counts(&total.by_kind), [("rotation", 6), ("transfer", 1), ("reinforcement", 1), ("secondment", 1)]);
    assert_eq!(counts(&total.by_direction), [("downward", 6), ("upward", 2), ("lateral", 1)]);
    assert_eq!(counts(&total.by_status), [("planned", 5), ("active", 1), ("completed", 2), ("cancelled", 1)]);
    assert!(total.by_kind.iter().chain(&total.by_direction).chain(&total.by_status).all(|c| c.denominator == 9));
    let downward = &total.by_direction[0];
    assert!((downward.percent - 600.0 / 9.0).abs() < 1e-9, "{}", downward.percent);
    assert_eq!(cell(total.promoted.as_ref()), (1, 2, false));

    // The district's subtree holds a unit of every one of them; the other province none.
    let district = rotation_summary(&mut reports, scope("localities/187", date(2024, 6, 30))).await;
    assert_eq!(district.total.map(|t| t.rotation_count), Some(9));
    let city = rotation_summary(&mut reports, scope("localities/178", date(2024, 6, 30))).await;
    assert_eq!(city.total.as_ref().map(|t| counts(&t.by_kind)[3]), Some(("secondment", 1)));
    assert_eq!(city.total.map(|t| t.rotation_count), Some(1));
    let mut dien_bien = app.as_(Caller::of(&["11"], &[Role::PersonalDataReader])).reports();
    let other = rotation_summary(&mut dien_bien, scope("localities/11", date(2024, 6, 30))).await;
    assert_eq!(other.total.map(|t| t.rotation_count), Some(1));

    // The whole country: both provinces' movements, each province a child.
    let mut national = app.as_(Caller::of(&["*"], &[Role::PersonalDataReader])).reports();
    let country = rotation_summary(&mut national, by_child("localities/-", date(2024, 6, 30))).await;
    let total = country.total.as_ref().expect("total");
    assert_eq!((total.locality.as_str(), total.rotation_count), ("localities/-", 10));
    let provinces: Vec<(&str, i64)> =
        country.children.iter().map(|c| (c.locality.as_str(), c.rotation_count)).collect();
    assert_eq!(provinces, [("localities/01", 0), ("localities/11", 1), ("localities/20", 9)]);
    let whole_country = rotations_request(scope("localities/-", date(2024, 6, 30)));
    fails_with(&app, reports.summarize_rotations(whole_country), Code::PermissionDenied).await;

    // 2023: only the movement that ended on the first day of 2024 (and had started).
    let year_2023 = reports
        .summarize_rotations(pb::SummarizeRotationsRequest {
            period_start: Some(date(2023, 1, 1)),
            period_end: Some(date(2023, 12, 31)),
            ..rotations_request(scope("localities/20", date(2023, 6, 30)))
        })
        .await
        .expect("summary")
        .into_inner();
    let total_2023 = year_2023.total.expect("total");
    assert_eq!(total_2023.rotation_count, 1);
    assert_eq!(cell(total_2023.promoted.as_ref()), (1, 1, false));
}

#[tokio::test]
async fn movement_filters_apply_to_either_unit_and_to_the_person_and_children_count_each_movement_they_hold() {
    let (app, _) = rotation_fixture().await;
    let mut reports = exact_reader(&app);
    let on = date(2024, 6, 30);

    // Communes: every movement with a commune unit, not the district-to-province transfer.
    let communes = pb::ReportScope { tiers: vec![pb::LocalityTier::Commune.into()], ..scope("localities/20", on) };
    let communes = rotation_summary(&mut reports, communes).await.total.expect("total");
    assert_eq!(communes.rotation_count, 8);
    assert_eq!(counts(&communes.by_kind)[1], ("transfer", 0));
    // The moved person's category: only the cadre's transfer.
    let cadres = pb::ReportScope { categories: vec![C::Cadre.into()], ..scope("localities/20", on) };
    let cadres = rotation_summary(&mut reports, cadres).await.total.expect("total");
    assert_eq!((cadres.rotation_count, counts(&cadres.by_kind)[1]), (1, ("transfer", 1)));
    // Leaders: every movement but the secondment to a post that is not a leader's.
    let leaders = pb::ReportScope { leaders_only: true, ..scope("localities/20", on) };
    let leaders = rotation_summary(&mut reports, leaders).await.total.expect("total");
    assert_eq!((leaders.rotation_count, counts(&leaders.by_kind)[3]), (8, ("secondment", 0)));
    // Tags: Chi Lăng (187) is an ethnic-minority area, the city is not.
    let minority = pb::ReportScope { locality_tags: vec!["ethnic_minority_area".into()], ..scope("localities/20", on) };
    let minority = rotation_summary(&mut reports, minority).await.total.expect("total");
    assert_eq!(minority.rotation_count, 9);
    let city_only =
        pb::ReportScope { locality_tags: vec!["ethnic_minority_area".into()], ..scope("localities/178", on) };
    assert_eq!(rotation_summary(&mut reports, city_only).await.total.map(|t| t.rotation_count), Some(0));

    // By child: the secondment from Đồng Mỏ (187) to Vĩnh Trại (178) counts in both
    // children and once in the total.
    let answer = rotation_summary(&mut reports, by_child("localities/20", on)).await;
    assert_eq!(answer.total.as_ref().map(|t| t.rotation_count), Some(9));
    let children: Vec<(&str, i64)> = answer.children.iter().map(|c| (c.locality.as_str(), c.rotation_count)).collect();
    assert_eq!(children, [("localities/178", 1), ("localities/187", 9)]);
    assert_eq!(counts(&answer.children[0].by_direction), [("downward", 0), ("upward", 0), ("lateral", 1)]);
    // The province's own units: the district-to-province transfer, also counted in 187.
    let own = answer.own_units.as_ref().map(|o| (o.locality.as_str(), o.rotation_count));
    assert_eq!(own, Some(("localities/20", 1)));
}

#[tokio::test]
async fn small_movement_figures_are_hidden_from_aggregate_readers_and_bad_requests_are_rejected() {
    let (app, _) = rotation_fixture().await;
    let request = || rotations_request(scope("localities/20", date(2024, 6, 30)));

    let hidden = aggregate_reader(&app).summarize_rotations(request()).await.expect("summary").into_inner();
    let total = hidden.total.as_ref().expect("total");
    assert_eq!(total.rotation_count, 9);
    assert_eq!(
        shown(&total.by_kind),
        [("rotation", 6, false), ("transfer", 0, true), ("reinforcement", 0, true), ("secondment", 0, true)]
    );
    assert_eq!(shown(&total.by_direction), [("downward", 6, false), ("upward", 0, true), ("lateral", 0, true)]);
    // Two completed are hidden, and so is the promoted count taken of them.
    assert_eq!(cell(total.promoted.as_ref()), (0, 0, true));
    let exact = exact_reader(&app).summarize_rotations(request()).await.expect("summary").into_inner();
    let exact = exact.total.expect("total");
    assert_eq!(shown(&exact.by_direction), [("downward", 6, false), ("upward", 2, false), ("lateral", 1, false)]);

    let mut reports = exact_reader(&app);
    let key_posts = pb::SummarizeRotationsRequest {
        scope: Some(pb::ReportScope { key_posts_only: true, ..scope("localities/20", date(2024, 6, 30)) }),
        ..request()
    };
    let status = fails_with(&app, reports.summarize_rotations(key_posts), Code::InvalidArgument).await;
    assert_eq!(violated(&status), ["scope.key_posts_only"]);
    let backwards = pb::SummarizeRotationsRequest { period_end: Some(date(2023, 12, 31)), ..request() };
    let status = fails_with(&app, reports.summarize_rotations(backwards), Code::InvalidArgument).await;
    assert_eq!(violated(&status), ["period_end"]);
    let mut dien_bien = app.as_(Caller::of(&["11"], &[Role::Admin])).reports();
    fails_with(&app, dien_bien.summarize_rotations(request()), Code::PermissionDenied).await;
}

// ---- GetStaffingSummary --------------------------------------------------------------

/// On 2024-06-30: six civil servants in Đồng Mỏ (187) and a seventh retired on
/// 2024-03-01, three in Vĩnh Trại (178), two public employees in the district office
/// of Chi Lăng (187), one civil servant in Điện Biên. Quotas of 2024: Đồng Mỏ's office
/// 8 civil servants, the city (178, a locality quota) 2, the district office 5 public
/// employees, the provincial department 4 civil servants; and, not counted, Đồng Mỏ's
/// office 100 in 2023 and Điện Biên's commune office 50.
async fn staffing_fixture() -> TestApp {
    let app = spawn_app().await;
    app.load_demo().await;
    let dong_mo =
        unit(&app, "localities/06463", &format!("Ủy ban nhân dân {}", "localities/06463"), date(2020, 1, 1), None)
            .await;
    let vinh_trai =
        unit(&app, "localities/05977", &format!("Ủy ban nhân dân {}", "localities/05977"), date(2020, 1, 1), None)
            .await;
    let district = unit(
        &app,
        "localities/187",
        &format!("Ủy ban nhân dân {}", "localities/187"),
        date(2020, 1, 1),
        Some(date(2025, 7, 1)),
    )
    .await;
    let province =
        unit(&app, "localities/20", &format!("Ủy ban nhân dân {}", "localities/20"), date(2020, 1, 1), None).await;
    let thanh_xuong =
        unit(&app, "localities/03334", &format!("Ủy ban nhân dân {}", "localities/03334"), date(2020, 1, 1), None)
            .await;
    for _ in 0..6 {
        person(&app, &dong_mo, C::CivilServant, None).await;
    }
    person(&app, &dong_mo, C::CivilServant, Some(date(2024, 3, 1))).await;
    for _ in 0..3 {
        person(&app, &vinh_trai, C::CivilServant, None).await;
    }
    for _ in 0..2 {
        person(&app, &district, C::PublicEmployee, Some(date(2025, 7, 1))).await;
    }
    person(&app, &thanh_xuong, C::CivilServant, None).await;
    let mut staffing = StaffingServiceClient::with_interceptor(app.channel.clone(), admin());
    let quotas = [
        (dong_mo.as_str(), "", 2024, C::CivilServant, 8),
        ("", "localities/178", 2024, C::CivilServant, 2),
        (district.as_str(), "", 2024, C::PublicEmployee, 5),
        (province.as_str(), "", 2024, C::CivilServant, 4),
        (dong_mo.as_str(), "", 2023, C::CivilServant, 100),
        (thanh_xuong.as_str(), "", 2024, C::CivilServant, 50),
    ];
    for (unit, locality, year, category, quota) in quotas {
        staffing
            .create_staffing_quota(pb::CreateStaffingQuotaRequest {
                staffing_quota: Some(pb::StaffingQuota {
                    unit: unit.into(),
                    locality: locality.into(),
                    year,
                    category: category.into(),
                    quota,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("creating a quota");
    }
    app
}

/// (category, quota, headcount, vacancies) of staffing figures.
type Staffed = (C, i64, i64, i64);

/// The [`Staffed`] view of staffing figures.
fn staffed(f: &pb::StaffingFigures) -> Staffed {
    (f.category(), f.quota, f.headcount, f.vacancies)
}

async fn staffing_summary(client: &mut ReportClient, scope: pb::ReportScope) -> pb::GetStaffingSummaryResponse {
    client
        .get_staffing_summary(pb::GetStaffingSummaryRequest { scope: Some(scope) })
        .await
        .expect("staffing summary")
        .into_inner()
}

#[tokio::test]
async fn staffing_compares_the_headcount_with_the_quotas_of_the_scope_and_year_per_category_and_child() {
    let app = staffing_fixture().await;
    let mut reports = aggregate_reader(&app);

    let answer = staffing_summary(&mut reports, by_child("localities/20", date(2024, 6, 30))).await;
    assert_eq!((answer.year, answer.as_of), (2024, Some(date(2024, 6, 30))));
    let total = answer.total.as_ref().expect("total");
    let all = total.total.as_ref().expect("all categories");
    assert_eq!(staffed(all), (C::Unspecified, 19, 11, 8));
    assert!((all.percent_filled - 1100.0 / 19.0).abs() < 1e-9, "{}", all.percent_filled);
    let categories: Vec<_> = total.categories.iter().map(staffed).collect();
    assert_eq!(categories, [(C::CivilServant, 14, 9, 5), (C::PublicEmployee, 5, 2, 3)]);

    let children: Vec<(&str, Vec<Staffed>)> =
        answer.children.iter().map(|c| (c.locality.as_str(), c.categories.iter().map(staffed).collect())).collect();
    assert_eq!(
        children,
        [
            ("localities/178", vec![(C::CivilServant, 2, 3, -1), (C::PublicEmployee, 0, 0, 0)]),
            ("localities/187", vec![(C::CivilServant, 8, 6, 2), (C::PublicEmployee, 5, 2, 3)]),
        ]
    );
    // The province's own units (its department's quota): children and own units add
    // up to the total.
    let own = answer.own_units.as_ref().expect("own units");
    assert_eq!(own.locality, "localities/20");
    let own_categories: Vec<_> = own.categories.iter().map(staffed).collect();
    assert_eq!(own_categories, [(C::CivilServant, 4, 0, 4), (C::PublicEmployee, 0, 0, 0)]);
    let city = answer.children[0].total.as_ref().expect("city");
    assert_eq!(staffed(city), (C::Unspecified, 2, 3, -1));
    assert!((city.percent_filled - 150.0).abs() < 1e-9, "over quota: {}", city.percent_filled);

    // Filters apply to the quotas too: a commune's unit quota, not the city's locality
    // quota nor the district's office; the commune people only.
    let communes =
        pb::ReportScope { tiers: vec![pb::LocalityTier::Commune.into()], ..scope("localities/20", date(2024, 6, 30)) };
    let communes = staffing_summary(&mut reports, communes).await.total.expect("total");
    assert_eq!(communes.total.as_ref().map(staffed), Some((C::Unspecified, 8, 9, -1)));
    let employees =
        pb::ReportScope { categories: vec![C::PublicEmployee.into()], ..scope("localities/20", date(2024, 6, 30)) };
    let employees = staffing_summary(&mut reports, employees).await.total.expect("total");
    assert_eq!(employees.categories.iter().map(staffed).collect::<Vec<_>>(), [(C::PublicEmployee, 5, 2, 3)]);

    // Before the retirement the seventh civil servant counts; 2023 has its own quota.
    let earlier = staffing_summary(&mut reports, scope("localities/187", date(2023, 6, 30))).await;
    assert_eq!(earlier.total.and_then(|t| t.total).as_ref().map(staffed), Some((C::Unspecified, 100, 9, 91)));
}

#[tokio::test]
async fn staffing_summaries_reject_filters_quotas_cannot_honour_and_scopes_outside_the_caller() {
    let app = staffing_fixture().await;
    let mut reports = aggregate_reader(&app);
    let on = date(2024, 6, 30);
    let request = |scope: pb::ReportScope| pb::GetStaffingSummaryRequest { scope: Some(scope) };

    let filtered = pb::ReportScope {
        sectors: vec![pb::Sector::Education.into()],
        leaders_only: true,
        key_posts_only: true,
        ..scope("localities/20", on)
    };
    let status = fails_with(&app, reports.get_staffing_summary(request(filtered)), Code::InvalidArgument).await;
    assert_eq!(violated(&status), ["scope.sectors", "scope.leaders_only", "scope.key_posts_only"]);
    let bad_locality = scope("province-20", on);
    let status = fails_with(&app, reports.get_staffing_summary(request(bad_locality)), Code::InvalidArgument).await;
    assert_eq!(violated(&status), ["scope.locality"]);

    let mut dien_bien = app.as_(Caller::of(&["11"], &[Role::AggregateReader])).reports();
    fails_with(&app, dien_bien.get_staffing_summary(request(scope("localities/20", on))), Code::PermissionDenied).await;
    let own = staffing_summary(&mut dien_bien, scope("localities/11", on)).await;
    assert_eq!(own.total.and_then(|t| t.total).as_ref().map(staffed), Some((C::Unspecified, 50, 1, 49)));
}
