//! The report engine against its oracle, the SQL: one database, two servers over it —
//! one aggregating in memory, one in SQL — must answer every report (and GetHeadcount of
//! a subtree) identically, for
//! random scopes, filters, dates and breakdowns, for callers who see small cells and
//! callers who do not, over the demo workforce and after random changes written around
//! the servers (which reach the engine through the change log). Also: two server
//! processes over one database stay in step with each other's writes, and health says
//! NOT_SERVING for ReportService until the engine is loaded.

use std::fmt::Debug;

use hrplan::{auth::Role, config::ReportEngine, grpc::pb};
use sea_orm::ConnectionTrait;
use tonic::{Response, Status};

use crate::{
    clients::{Caller, Clients},
    helpers::{Rng, TestApp, date, spawn_app, spawn_app_on, spawn_app_with},
};

/// A subset of `values`: none (most often) or each kept at even odds.
fn subset(rng: &mut Rng, values: &[i32]) -> Vec<i32> {
    if rng.chance(60) {
        return Vec::new();
    }
    values.iter().copied().filter(|_| rng.chance(50)).collect()
}

/// Dates around the demo's history and its reorganisation of 2025-07-01.
const DAYS: [(i32, i32, i32); 9] = [
    (2012, 6, 30),
    (2018, 1, 1),
    (2020, 12, 31),
    (2023, 6, 30),
    (2024, 12, 31),
    (2025, 6, 30),
    (2025, 7, 1),
    (2025, 12, 31),
    (2026, 6, 30),
];

fn random_scope(rng: &mut Rng, localities: &[String]) -> pb::ReportScope {
    let (y, m, d) = DAYS[rng.below(DAYS.len())];
    let locality =
        if rng.chance(15) { "localities/-".to_owned() } else { localities[rng.below(localities.len())].clone() };
    let tags = ["border_area", "ethnic_minority_area"];
    pb::ReportScope {
        locality,
        as_of: Some(date(y, m, d)),
        tiers: subset(rng, &[1, 2, 3]),
        categories: subset(rng, &[1, 2, 3, 4, 5]),
        sectors: subset(rng, &[1, 2, 3, 4, 5, 6]),
        leaders_only: rng.chance(15),
        key_posts_only: rng.chance(10),
        locality_tags: if rng.chance(15) { vec![tags[rng.below(2)].to_owned()] } else { Vec::new() },
        breakdown_by_child: rng.chance(60),
    }
}

fn outcome<T: Debug>(result: Result<Response<T>, Status>) -> String {
    match result {
        Ok(response) => format!("{:?}", response.into_inner()),
        Err(status) => format!("error {:?}: {}", status.code(), status.message()),
    }
}

/// One random report, as the same caller asks both servers; the two answers.
async fn ask(rng: &mut Rng, localities: &[String], memory: &Clients, sql: &Clients) -> (String, String, String) {
    let whole = random_scope(rng, localities);
    let scope = Some(whole.clone());
    let (y, m, d) = DAYS[rng.below(DAYS.len())];
    let first_year = 2019 + i32::try_from(rng.below(5)).unwrap_or(0);
    let last_year = first_year + i32::try_from(rng.below(4)).unwrap_or(0);
    let kind = rng.below(8);
    let label = format!("report {kind} over {scope:?}");
    macro_rules! both {
        ($method:ident, $request:expr) => {{
            let request = $request;
            (outcome(memory.reports().$method(request.clone()).await), outcome(sql.reports().$method(request).await))
        }};
    }
    let (a, b) = match kind {
        0 => both!(get_workforce_profile, pb::GetWorkforceProfileRequest { scope }),
        1 => both!(
            compare_workforce_profiles,
            pb::CompareWorkforceProfilesRequest { scope, other_date: Some(date(y, m, d)) }
        ),
        2 => both!(summarize_evaluations, pb::SummarizeEvaluationsRequest { scope, first_year, last_year }),
        3 => both!(get_standard_compliance, pb::GetStandardComplianceRequest { scope }),
        4 => both!(get_staffing_summary, pb::GetStaffingSummaryRequest { scope }),
        7 => {
            // GetHeadcount counts a subtree as the engine does, or (its oracle) in SQL
            // over the people and their placements.
            let request = pb::GetHeadcountRequest { unit: String::new(), locality: whole.locality, as_of: whole.as_of };
            (
                outcome(memory.staffing().get_headcount(request.clone()).await),
                outcome(sql.staffing().get_headcount(request).await),
            )
        }
        _ => {
            // A period of a year or more, ending in the middle of a year.
            let (y, m, d) = DAYS[rng.below(DAYS.len())];
            let (period_start, period_end) =
                (Some(date(y, m, d)), Some(date(y + 1 + i32::try_from(rng.below(3)).unwrap_or(0), 6, 30)));
            if kind == 5 {
                both!(summarize_training, pb::SummarizeTrainingRequest { scope, period_start, period_end })
            } else {
                both!(summarize_rotations, pb::SummarizeRotationsRequest { scope, period_start, period_end })
            }
        }
    };
    (label, a, b)
}

/// Random changes written around both servers, as SQL by hand would: facts then rebuilt
/// by the catch-up and listed in the change log the engine follows; enrolments and their
/// history, which bump the version of the training records the engine holds; movements,
/// their units and their people's category, which bump the version of its movements.
async fn change_around(app: &TestApp, rng: &mut Rng) {
    let k = 3 + rng.below(7);
    let r = rng.below(k);
    let statements = [
        format!(
            "UPDATE people SET gender = CASE WHEN gender = 'male' THEN 'female' ELSE 'male' END WHERE id % {k} = {r}"
        ),
        format!("UPDATE people SET ethnicity = 'Tày' WHERE id % {k} = {r}"),
        format!("UPDATE placements SET is_leader = NOT is_leader WHERE id % {k} = {r}"),
        format!("DELETE FROM evaluations WHERE person_id % {k} = {r}"),
        format!("UPDATE qualifications SET awarded_on = '2024-03-01' WHERE id % {k} = {r}"),
        format!("DELETE FROM qualifications WHERE id % {k} = {r} AND id % 2 = 0"),
        format!(
            "UPDATE enrollment_history SET status = 'dropped' WHERE enrollment_id % {k} = {r} AND status = 'completed'"
        ),
        format!("DELETE FROM enrollment_history WHERE enrollment_id % {k} = {r} AND seq > 1"),
        format!("UPDATE enrollment_history SET date = '2023-01-15' WHERE enrollment_id % {k} = {r} AND seq = 1"),
        format!("DELETE FROM enrollment_history WHERE enrollment_id % {k} = {r}"),
        format!("UPDATE rotations SET promoted = NOT promoted, actual_end_date = NULL WHERE id % {k} = {r}"),
        format!("UPDATE rotations SET destination_leader = NOT destination_leader WHERE id % {k} = {r}"),
        format!("UPDATE units SET sector = 'health' WHERE id % {k} = {r}"),
        format!("UPDATE people SET category = 'public_employee' WHERE id % {k} = {r}"),
        format!("DELETE FROM rotations WHERE id % {k} = {r}"),
    ];
    let chosen = &statements[rng.below(statements.len())];
    app.db.execute_unprepared(chosen).await.expect("a change around the server");
    hrplan::facts::catch_up(&app.db).await.expect("catching the facts up");
}

#[tokio::test]
async fn reports_from_the_engine_equal_reports_from_sql_for_random_scopes_filters_dates_and_changes() {
    let memory_app = spawn_app_with(|config| config.demo = true).await;
    let sql_app = spawn_app_on(memory_app.url.clone(), None, |config| config.report_engine = ReportEngine::Sql).await;
    let engine = memory_app.engine.clone().expect("the default configuration aggregates in memory");
    // The demo was written before the engine loaded or while it did; either way the
    // engine must hold exactly the stored facts before comparing.
    memory_app.assert_facts_in_step().await;

    let localities: Vec<String> = hrplan::demo::tree_codes()
        .expect("the demo tree")
        .iter()
        .map(|code| format!("localities/{}", code.as_str()))
        .collect();
    assert!(localities.len() > 50, "the demo tree has its localities");

    let callers = [
        Caller::of(&["*"], &[Role::Admin, Role::PersonalDataReader]),
        Caller::of(&["*"], &[Role::AggregateReader]),
        Caller::of(&["11"], &[Role::AggregateReader]),
    ];
    let mut rng = Rng(0x00E5_61AE);
    let scans_before = engine.scans();
    let (training_loads, movement_loads) = (engine.training_loads(), engine.movement_loads());
    let mut compared = 0;
    let mut answered = 0;
    for round in 0..10 {
        if round > 0 {
            change_around(&memory_app, &mut rng).await;
            // What the background task does at its next tick, so that the engine (not
            // the SQL, which answers while its copy is of another version) is compared.
            engine.refresh(&memory_app.db).await.expect("the engine keeps up");
        }
        for _ in 0..60 {
            let caller = callers[rng.below(callers.len())].clone();
            let (memory, sql) = (memory_app.as_(caller.clone()), sql_app.as_(caller));
            let (label, a, b) = ask(&mut rng, &localities, &memory, &sql).await;
            assert_eq!(a, b, "round {round}, {label}: the engine and the SQL disagree");
            compared += 1;
            answered += usize::from(!a.starts_with("error "));
        }
    }
    assert_eq!(compared, 600);
    assert!(answered > 160, "most random reports answer ({answered} of {compared})");
    // The engine, not the SQL, answered the in-memory server's reports, and loaded the
    // training records again after the changes to them.
    assert!(engine.training_loads() > training_loads, "the training records were loaded again");
    assert!(engine.movement_loads() > movement_loads, "the movements were loaded again");
    assert!(
        engine.scans() - scans_before >= 250,
        "the engine answered only {} aggregates",
        engine.scans() - scans_before
    );
    memory_app.assert_facts_in_step().await;
}

#[tokio::test]
async fn a_write_acknowledged_by_one_server_is_counted_by_a_report_through_another_right_after() {
    let first = spawn_app().await;
    first.load_demo().await;
    let second = spawn_app_on(first.url.clone(), None, |_| {}).await;
    let unit = crate::helpers::committee_unit(&first, "localities/11", "Ủy ban nhân dân tỉnh thử", None).await;
    let scope =
        || pb::ReportScope { locality: "localities/11".into(), as_of: Some(date(2024, 6, 30)), ..Default::default() };
    let headcount = |app: &TestApp| {
        let reports = app.as_admin().reports();
        async move {
            let mut reports = reports;
            reports
                .get_workforce_profile(pb::GetWorkforceProfileRequest { scope: Some(scope()) })
                .await
                .expect("a profile")
                .into_inner()
                .total
                .expect("a total")
                .headcount
        }
    };
    // Both engines loaded and serving before the writes; the demo tree has no people.
    assert_eq!(headcount(&second).await, 0);
    let scans = second.engine.as_ref().map(hrplan::reports::engine::Engine::scans).unwrap_or_default();
    for n in 1..=3 {
        let record = crate::helpers::person_record(&unit.name, &format!("Người thứ {n}"));
        first
            .as_admin()
            .people()
            .create_person(pb::CreatePersonRequest { record: Some(record), request_id: String::new() })
            .await
            .expect("creating a person through the first server");
        // Acknowledged by the first server; counted at once by the second.
        assert_eq!(headcount(&second).await, n);
        assert_eq!(headcount(&first).await, n);
    }
    let engine = second.engine.as_ref().expect("the second server aggregates in memory");
    assert!(engine.scans() > scans, "the second server's engine, not its SQL, counted");
    second.assert_facts_in_step().await;
}

#[tokio::test]
async fn health_reports_the_report_service_not_serving_until_the_engine_is_loaded() {
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel.clone());
    let status = |service: &str| HealthCheckRequest { service: service.to_owned() };
    // Loaded (the helper waits for it): serving, overall and for reports.
    let engine = app.engine.clone().expect("an engine");
    assert!(engine.is_loaded());
    for service in ["", "hrplan.v1.ReportService", "hrplan.v1.PersonService"] {
        let mut serving = false;
        for _ in 0..100 {
            let answer = health.check(status(service)).await.expect("a health answer").into_inner();
            if answer.status == ServingStatus::Serving as i32 {
                serving = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(serving, "{service} serving once the engine is loaded");
    }
    // A server whose engine cannot load (its database holds no facts table yet, since it
    // does not migrate) serves the other services but not reports.
    let (url, path) = crate::helpers::fresh_database(None).await;
    let bare = spawn_app_on(url, path, |config| config.migrate = false).await;
    assert!(!bare.engine.as_ref().is_some_and(hrplan::reports::engine::Engine::is_loaded));
    let mut health = HealthClient::new(bare.channel.clone());
    let mut seen = None;
    for _ in 0..100 {
        let answer = health.check(status("hrplan.v1.ReportService")).await.expect("a health answer").into_inner();
        if answer.status != ServingStatus::Unknown as i32 && answer.status != ServingStatus::ServiceUnknown as i32 {
            seen = Some(answer.status);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen, Some(ServingStatus::NotServing as i32));
    let people = health.check(status("hrplan.v1.PersonService")).await.expect("a health answer").into_inner();
    assert_eq!(people.status, ServingStatus::Serving as i32);
}
