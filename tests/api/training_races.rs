//! Training under concurrency, on SQLite and PostgreSQL: a closed plan accepts no
//! enrolment however the enrolment and the close interleave, and a person holds one
//! open enrolment per line however many identical enrolments race. Each race runs
//! for many rounds, so that an ordering that lets a write through would show.

use hrplan::{
    grpc::pb::{self},
    store::stmt,
};
use sea_orm::ConnectionTrait;
use tonic::Code;

use crate::{
    enrollments::{MASTER_LINE, REFRESHER_LINE, THANH_XUONG, create, enrollment, person, plan},
    helpers::{TestApp, date, spawn_app, unit},
};

const ROUNDS: usize = 30;

async fn count(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) -> i64 {
    let db = &app.db;
    let row = db.query_one_raw(stmt(db.get_database_backend(), sql, values)).await.expect("a count").expect("a row");
    row.try_get("", "n").expect("n")
}

/// The number of enrolments the plan's closing counted, from its audit entry.
async fn closed_with(app: &TestApp, plan: &str) -> i64 {
    let db = &app.db;
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT detail FROM audit_log WHERE method = 'CloseTrainingPlan' AND resource = ?",
            vec![plan.into()],
        ))
        .await
        .expect("reading the audit log")
        .expect("the close was audited");
    let detail: String = row.try_get("", "detail").expect("detail");
    let detail: serde_json::Value = serde_json::from_str(&detail).expect("json detail");
    detail["enrollments"].as_i64().expect("the close counted the enrolments")
}

fn plan_id(plan: &str) -> i64 {
    plan.trim_start_matches("trainingPlans/").parse().expect("a plan id")
}

#[tokio::test]
async fn an_enrolment_racing_the_plans_closing_either_commits_before_the_close_sees_it_or_is_refused() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, THANH_XUONG, "Ủy ban nhân dân", date(2020, 1, 1), None).await;
    let mut people = Vec::new();
    for _ in 0..4 {
        people.push(person(&app, &office, false).await);
    }
    let (mut committed, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        let plan = plan(&app, "11", "approved", &[MASTER_LINE, REFRESHER_LINE]).await;
        let mut enrolments = Vec::new();
        for (i, person) in people.iter().enumerate() {
            let mut client = app.as_admin().enrollments();
            let line = if i % 2 == 0 { MASTER_LINE.id } else { REFRESHER_LINE.id };
            let request = create(&plan, enrollment(person, line, date(2023, 1, 15), false));
            enrolments.push(tokio::spawn(async move { client.create_enrollment(request).await }));
        }
        let mut plans = app.as_admin().plans();
        let close = pb::CloseTrainingPlanRequest { name: plan.clone(), etag: String::new() };
        let closing = tokio::spawn(async move { plans.close_training_plan(close).await });
        for call in enrolments {
            match call.await.expect("the call ran") {
                Ok(_) => committed += 1,
                Err(status) => {
                    assert_eq!(status.code(), Code::FailedPrecondition, "round {round}: {status:?}");
                    assert!(status.message().contains("closed"), "round {round}: {status:?}");
                    refused += 1;
                }
            }
        }
        let closed = closing.await.expect("the call ran").expect("the close succeeds").into_inner();
        assert_eq!(closed.training_plan.map(|p| p.status()), Some(pb::TrainingPlanStatus::Closed));
        let held =
            count(&app, "SELECT COUNT(*) AS n FROM enrollments WHERE plan_id = ?", vec![plan_id(&plan).into()]).await;
        assert_eq!(
            held,
            closed_with(&app, &plan).await,
            "round {round}: every enrolment of the closed plan committed before the close counted it"
        );
    }
    assert_eq!(committed + refused, ROUNDS * 4);
    app.assert_facts_in_step().await;
}

#[tokio::test]
async fn identical_enrolments_racing_make_one_open_enrolment_and_the_others_name_it() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, THANH_XUONG, "Ủy ban nhân dân", date(2020, 1, 1), None).await;
    let person = person(&app, &office, false).await;
    for round in 0..ROUNDS {
        let plan = plan(&app, "11", "approved", &[MASTER_LINE]).await;
        let mut calls = Vec::new();
        for _ in 0..5 {
            let mut client = app.as_admin().enrollments();
            let request = create(&plan, enrollment(&person, MASTER_LINE.id, date(2023, 1, 15), true));
            calls.push(tokio::spawn(async move { client.create_enrollment(request).await }));
        }
        let (mut created, mut refusals) = (Vec::new(), Vec::new());
        for call in calls {
            match call.await.expect("the call ran") {
                Ok(answer) => created.push(answer.into_inner().enrollment.expect("an enrolment").name),
                Err(status) => refusals.push(status),
            }
        }
        assert_eq!(created.len(), 1, "round {round}: exactly one enrolment is created ({refusals:?})");
        for status in &refusals {
            assert_eq!(status.code(), Code::FailedPrecondition, "round {round}: {status:?}");
            assert!(status.message().contains(&created[0]), "round {round}: names the open enrolment: {status:?}");
        }
        let open = count(
            &app,
            "SELECT COUNT(*) AS n FROM enrollments WHERE plan_id = ? AND status IN ('planned', 'enrolled')",
            vec![plan_id(&plan).into()],
        )
        .await;
        assert_eq!(open, 1, "round {round}");
    }
}

#[tokio::test]
async fn reopening_a_completed_enrolment_beside_an_open_one_on_the_line_is_refused() {
    let app = spawn_app().await;
    app.load_demo().await;
    let office = unit(&app, THANH_XUONG, "Ủy ban nhân dân", date(2020, 1, 1), None).await;
    let person = person(&app, &office, false).await;
    let plan = plan(&app, "11", "approved", &[REFRESHER_LINE]).await;
    let mut client = app.as_admin().enrollments();
    let first = client
        .create_enrollment(create(&plan, enrollment(&person, REFRESHER_LINE.id, date(2023, 1, 15), true)))
        .await
        .expect("an enrolment")
        .into_inner()
        .enrollment
        .expect("an enrolment");
    let done = pb::TransitionEnrollmentRequest {
        name: first.name.clone(),
        status: pb::EnrollmentStatus::Completed.into(),
        date: Some(date(2023, 6, 1)),
        result: None,
        etag: String::new(),
    };
    client.transition_enrollment(done).await.expect("completed");
    let second = client
        .create_enrollment(create(&plan, enrollment(&person, REFRESHER_LINE.id, date(2024, 1, 15), false)))
        .await
        .expect("a second enrolment once the first is completed")
        .into_inner()
        .enrollment
        .expect("an enrolment");
    let reopen = pb::TransitionEnrollmentRequest {
        name: first.name.clone(),
        status: pb::EnrollmentStatus::Enrolled.into(),
        date: Some(date(2024, 2, 1)),
        result: None,
        etag: String::new(),
    };
    let status = client.transition_enrollment(reopen).await.expect_err("a second open enrolment");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains(&second.name), "{status:?}");
}
