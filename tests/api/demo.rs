//! The demo data behind every report (issue 10, acceptance 4): the README's report
//! commands, run exactly as written against a server started with `--demo`, answer
//! with non-zero figures; a second load adds nothing; and the planning records never
//! land on a workforce that is not the demo's.

use hrplan::{
    auth::Role,
    grpc::pb::{
        self, report_service_client::ReportServiceClient, staffing_service_client::StaffingServiceClient,
        training_plan_service_client::TrainingPlanServiceClient,
    },
};
use serde_json::{Map, Value};

use crate::helpers::{TestApp, bearer, committee_unit, date, spawn_app, spawn_app_with, token};

/// The marker before the README's block of report commands.
const MARKER: &str = "<!-- demo-report-commands";

/// The reports the README must give one command each for.
const REPORTS: [&str; 9] = [
    "hrplan.v1.ReportService/GetWorkforceProfile",
    "hrplan.v1.ReportService/SummarizeEvaluations",
    "hrplan.v1.ReportService/CompareWorkforceProfiles",
    "hrplan.v1.ReportService/GetStandardCompliance",
    "hrplan.v1.ReportService/SummarizeTraining",
    "hrplan.v1.ReportService/SummarizeRotations",
    "hrplan.v1.ReportService/GetStaffingSummary",
    "hrplan.v1.TrainingPlanService/GetTrainingPlanProgress",
    "hrplan.v1.StaffingService/GetHeadcount",
];

/// The README's report commands: (method, request body) in order.
fn readme_commands() -> Vec<(String, Value)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let (_, after) = readme.split_once(MARKER).expect("the README marks its report commands");
    let (_, block) = after.split_once("```sh\n").expect("a sh block after the marker");
    let (block, _) = block.split_once("```").expect("the block ends");
    block
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            assert!(line.starts_with("grpcurl -plaintext -d '"), "not a grpcurl command: {line}");
            let (_, rest) = line.split_once("-d '").expect("a body");
            let (body, rest) = rest.split_once("' ").expect("a quoted body");
            let method = rest.split_whitespace().last().expect("a method").to_owned();
            assert_eq!(rest.split_whitespace().next(), Some("localhost:50051"), "{line}");
            (method, serde_json::from_str(body).unwrap_or_else(|e| panic!("{line}: {e}")))
        })
        .collect()
}

/// The fields of a JSON object, every one of them among `known` (so that a README
/// command cannot carry a field this test would silently ignore).
fn fields<'a>(value: &'a Value, known: &[&str]) -> &'a Map<String, Value> {
    let object = value.as_object().unwrap_or_else(|| panic!("{value} is not an object"));
    for key in object.keys() {
        assert!(known.contains(&key.as_str()), "field `{key}` of {value} is not read by this test");
    }
    object
}

fn int(value: Option<&Value>) -> i32 {
    value.and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()).unwrap_or_default()
}

fn wire_date(value: Option<&Value>) -> Option<pb::Date> {
    let value = value?;
    let d = fields(value, &["year", "month", "day"]);
    Some(date(int(d.get("year")), int(d.get("month")), int(d.get("day"))))
}

fn text(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn scope(value: Option<&Value>) -> Option<pb::ReportScope> {
    let s = fields(value?, &["locality", "as_of", "breakdown_by_child"]);
    Some(pb::ReportScope {
        locality: text(s.get("locality")),
        as_of: wire_date(s.get("as_of")),
        breakdown_by_child: s.get("breakdown_by_child").and_then(Value::as_bool).unwrap_or_default(),
        ..Default::default()
    })
}

/// A visible cell with people in it.
fn counted(cell: Option<&pb::Cell>) -> bool {
    cell.is_some_and(|c| c.count > 0 && !c.suppressed)
}

/// Runs one README command as a national aggregate reader (the CI's token: small cells
/// are hidden, so each figure checked must be five or more) and checks its figures.
async fn run(app: &TestApp, method: &str, body: &Value) {
    let reader = || bearer(Some(token(&["*"], &[Role::AggregateReader])));
    let mut reports = ReportServiceClient::with_interceptor(app.channel.clone(), reader());
    let b = |known: &[&str]| fields(body, known).clone();
    match method.rsplit('/').next().unwrap_or_default() {
        "GetWorkforceProfile" => {
            let f = b(&["scope"]);
            let scope = scope(f.get("scope"));
            let answer = reports
                .get_workforce_profile(pb::GetWorkforceProfileRequest { scope })
                .await
                .expect(method)
                .into_inner();
            let total = answer.total.expect("total");
            assert!(total.headcount > 0 && counted(total.leaders.as_ref()), "{total:?}");
            assert!(total.distributions.len() >= 4, "{total:?}");
            for d in &total.distributions {
                assert!(d.cells.iter().any(|c| counted(Some(c))), "{}: {d:?}", d.dimension);
            }
            assert!(!answer.children.is_empty() && answer.children.iter().all(|c| c.headcount > 0));
        }
        "SummarizeEvaluations" => {
            let f = b(&["scope", "first_year", "last_year"]);
            let request = pb::SummarizeEvaluationsRequest {
                scope: scope(f.get("scope")),
                first_year: int(f.get("first_year")),
                last_year: int(f.get("last_year")),
            };
            let answer = reports.summarize_evaluations(request.clone()).await.expect(method).into_inner();
            assert!(answer.headcount > 0);
            let years: Vec<i32> = answer.years.iter().map(|y| y.year).collect();
            assert_eq!(years, (request.first_year..=request.last_year).collect::<Vec<_>>());
            for year in &answer.years {
                assert!(counted(year.good_or_better.as_ref()), "{year:?}");
            }
        }
        "CompareWorkforceProfiles" => {
            let f = b(&["scope", "other_date"]);
            let request = pb::CompareWorkforceProfilesRequest {
                scope: scope(f.get("scope")),
                other_date: wire_date(f.get("other_date")),
            };
            let answer = reports.compare_workforce_profiles(request).await.expect(method).into_inner();
            let heads = |r: Option<&pb::GetWorkforceProfileResponse>| {
                r.and_then(|r| r.total.as_ref()).map(|t| t.headcount).unwrap_or_default()
            };
            assert!(heads(answer.base.as_ref()) > 0 && heads(answer.other.as_ref()) > 0);
            assert_ne!(answer.headcount_delta, 0);
            // Training over the term raised qualifications: some visible cell changed.
            assert!(
                answer
                    .distribution_deltas
                    .iter()
                    .filter(|d| d.dimension.starts_with("scales/"))
                    .any(|d| d.cells.iter().any(|c| c.count_delta != 0 && !c.suppressed)),
                "{:?}",
                answer.distribution_deltas
            );
        }
        "GetStandardCompliance" => {
            let f = b(&["scope"]);
            let request = pb::GetStandardComplianceRequest { scope: scope(f.get("scope")) };
            let answer = reports.get_standard_compliance(request).await.expect(method).into_inner();
            let total = answer.total.expect("total");
            let with_standard = total.with_standard.clone().expect("with_standard");
            let meeting = total.meeting.clone().expect("meeting");
            assert!(counted(Some(&with_standard)) && counted(Some(&meeting)), "{total:?}");
            assert!(with_standard.count - meeting.count >= 5, "some people miss a minimum: {total:?}");
            assert!(counted(total.missed_minimums.first()), "{total:?}");
            assert!(total.breakdown.len() > 1, "{total:?}");
        }
        "SummarizeTraining" => {
            let f = b(&["scope", "period_start", "period_end"]);
            let request = pb::SummarizeTrainingRequest {
                scope: scope(f.get("scope")),
                period_start: wire_date(f.get("period_start")),
                period_end: wire_date(f.get("period_end")),
            };
            let answer = reports.summarize_training(request).await.expect(method).into_inner();
            let total = answer.total.expect("total");
            assert!(total.headcount > 0);
            let all = total.programmes.iter().find(|p| p.key == "all").expect("the `all` figures");
            for (what, cell) in [
                ("under way", &all.under_way),
                ("started", &all.started),
                ("completed", &all.completed),
                ("discontinued", &all.discontinued),
                ("in progress", &all.in_progress),
            ] {
                assert!(counted(cell.as_ref()), "{what}: {all:?}");
            }
            for kind in ["degree", "refresher"] {
                let figures = total.programmes.iter().find(|p| p.key == kind).expect(kind);
                assert!(counted(figures.completed.as_ref()), "{kind}: {figures:?}");
            }
        }
        "SummarizeRotations" => {
            let f = b(&["scope", "period_start", "period_end"]);
            let request = pb::SummarizeRotationsRequest {
                scope: scope(f.get("scope")),
                period_start: wire_date(f.get("period_start")),
                period_end: wire_date(f.get("period_end")),
            };
            let answer = reports.summarize_rotations(request).await.expect(method).into_inner();
            let total = answer.total.expect("total");
            assert!(total.rotation_count > 0);
            for (dimension, cells, keys) in [
                ("kind", &total.by_kind, &["rotation", "transfer", "reinforcement", "secondment"][..]),
                ("direction", &total.by_direction, &["downward", "upward", "lateral"][..]),
                ("status", &total.by_status, &["planned", "active", "completed", "cancelled"][..]),
            ] {
                for key in keys {
                    let cell = cells.iter().find(|c| c.key == *key);
                    assert!(counted(cell), "{dimension} {key}: {cells:?}");
                }
            }
            assert!(counted(total.promoted.as_ref()), "promoted afterwards: {total:?}");
        }
        "GetStaffingSummary" => {
            let f = b(&["scope"]);
            let request = pb::GetStaffingSummaryRequest { scope: scope(f.get("scope")) };
            let answer = reports.get_staffing_summary(request).await.expect(method).into_inner();
            let total = answer.total.clone().expect("total");
            let all = total.total.expect("all categories");
            assert!(all.quota > 0 && all.headcount > 0 && all.percent_filled > 0.0, "{all:?}");
            let cells: Vec<&pb::StaffingFigures> = answer
                .children
                .iter()
                .chain(answer.own_units.as_ref())
                .flat_map(|group| &group.categories)
                .filter(|c| c.quota > 0)
                .collect();
            assert!(cells.iter().any(|c| c.vacancies > 0), "some posts to fill: {cells:?}");
            assert!(cells.iter().any(|c| c.vacancies < 0), "some cells over quota: {cells:?}");
        }
        "GetTrainingPlanProgress" => {
            let f = b(&["name", "as_of"]);
            let request =
                pb::GetTrainingPlanProgressRequest { name: text(f.get("name")), as_of: wire_date(f.get("as_of")) };
            let answer = TrainingPlanServiceClient::with_interceptor(app.channel.clone(), reader())
                .get_training_plan_progress(request)
                .await
                .expect(method)
                .into_inner();
            let total = answer.total.expect("total");
            assert!(total.target > 0 && total.percent_of_plan > 0.0, "{total:?}");
            for (status, n) in [
                ("planned", total.planned),
                ("enrolled", total.enrolled),
                ("completed", total.completed),
                ("dropped", total.dropped),
                ("failed", total.failed),
            ] {
                assert!(n > 0, "{status}: {total:?}");
            }
            assert!(answer.lines.len() > 1 && answer.lines.iter().all(|l| l.enrollments > 0), "{:?}", answer.lines);
        }
        "GetHeadcount" => {
            let f = b(&["locality", "unit", "as_of"]);
            let request = pb::GetHeadcountRequest {
                locality: text(f.get("locality")),
                unit: text(f.get("unit")),
                as_of: wire_date(f.get("as_of")),
            };
            let answer = StaffingServiceClient::with_interceptor(app.channel.clone(), reader())
                .get_headcount(request)
                .await
                .expect(method)
                .into_inner();
            let total = answer.total.expect("total");
            assert!(total.headcount > 0 && total.quota > 0 && total.percent_of_quota > 0.0, "{total:?}");
        }
        other => panic!("the README runs {other}, which this test does not check"),
    }
}

#[tokio::test]
async fn each_readme_report_command_returns_non_zero_figures_on_the_demo_data() {
    let commands = readme_commands();
    let methods: Vec<&str> = commands.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(methods, REPORTS, "one command per report, in this order");
    let app = spawn_app_with(|config| config.demo = true).await;
    for (method, body) in &commands {
        run(&app, method, body).await;
    }
}

/// Rows of every table the demo writes, in a stable order.
async fn counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    use sea_orm::ConnectionTrait;
    let mut result = Vec::new();
    for table in [
        "localities",
        "units",
        "people",
        "placements",
        "qualifications",
        "standards",
        "training_plans",
        "courses",
        "enrollments",
        "enrollment_history",
        "rotations",
        "staffing_quotas",
        "succession_pools",
        "pool_candidates",
        "audit_log",
    ] {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        let row = app
            .db
            .query_one_raw(hrplan::store::stmt(app.db.get_database_backend(), &sql, vec![]))
            .await
            .expect("count")
            .expect("a row");
        result.push((table, row.try_get::<i64>("", "n").expect("n")));
    }
    result
}

#[tokio::test]
async fn restarting_with_the_demo_adds_nothing_and_every_part_was_loaded() {
    let app = spawn_app_with(|config| config.demo = true).await;
    let before = counts(&app).await;
    assert!(before.iter().all(|(_, n)| *n > 0), "every part of the demo is there: {before:?}");
    assert!(!hrplan::demo::load(&app.db).await.expect("loading the demo again"), "the tree is not loaded twice");
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn the_planning_records_are_never_loaded_over_a_workforce_that_is_not_the_demos() {
    let app = spawn_app().await;
    app.load_demo().await;
    // A workforce of the operator's own: one person, not made by the demo.
    let office =
        committee_unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", Some(date(2025, 7, 1))).await.name;
    app.as_admin()
        .people()
        .create_person(pb::CreatePersonRequest {
            record: Some(pb::PersonRecord {
                person: Some(pb::Person {
                    full_name: "Lăng Văn Thực".into(),
                    birth_date: Some(date(1985, 3, 4)),
                    gender: pb::Gender::Male.into(),
                    ethnicity: "Nùng".into(),
                    category: pb::PersonCategory::CivilServant.into(),
                    employed_from: Some(date(2010, 1, 1)),
                    ..Default::default()
                }),
                placements: vec![pb::Placement {
                    unit: office,
                    post_title: "Công chức Văn phòng - Thống kê".into(),
                    valid_from: Some(date(2020, 1, 1)),
                    valid_until: Some(date(2025, 7, 1)),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("a person of the operator's own");
    let before = counts(&app).await;
    assert!(!hrplan::demo::load(&app.db).await.expect("the demo over another workforce"));
    assert_eq!(counts(&app).await, before, "neither people nor planning records were added");
}

/// The demo's planning records as text, with their ids, in id order.
async fn planning_rows(app: &TestApp) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let tables: [(&str, &[&str]); 7] = [
        ("standards", &["id", "name", "effective_from"]),
        ("training_plans", &["id", "owner_code", "title", "status"]),
        ("courses", &["id", "plan_id", "line_id", "title"]),
        ("enrollments", &["id", "plan_id", "person_id", "line_id", "course_id", "status", "qualification_id"]),
        ("rotations", &["id", "person_id", "kind", "source_unit_id", "destination_unit_id", "start_date", "status"]),
        ("staffing_quotas", &["id", "unit_id", "locality_code", "year", "category", "quota"]),
        ("pool_candidates", &["id", "pool_id", "person_id", "added_on", "removed_on"]),
    ];
    let mut rows = Vec::new();
    for (table, columns) in tables {
        let select: Vec<String> =
            columns.iter().enumerate().map(|(i, c)| format!("COALESCE(CAST({c} AS TEXT), 'NULL') AS c{i}")).collect();
        let sql = format!("SELECT {} FROM {table} ORDER BY id", select.join(", "));
        let backend = app.db.get_database_backend();
        for row in app.db.query_all_raw(hrplan::store::stmt(backend, &sql, vec![])).await.expect("rows") {
            let cells: Vec<String> =
                (0..columns.len()).map(|i| row.try_get::<String>("", &format!("c{i}")).expect("text")).collect();
            rows.push(format!("{table}: {}", cells.join(" | ")));
        }
    }
    rows
}

#[tokio::test]
async fn the_demo_gives_the_same_records_the_same_ids_every_time() {
    let first = spawn_app_with(|config| config.demo = true).await;
    let rows = planning_rows(&first).await;
    drop(first);
    let second = spawn_app_with(|config| config.demo = true).await;
    assert!(rows.len() > 600, "{} rows", rows.len());
    assert_eq!(planning_rows(&second).await, rows);
}
