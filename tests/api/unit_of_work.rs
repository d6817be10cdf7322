//! The unit of work under concurrency: idempotent creates per caller (AIP-155), on
//! SQLite and PostgreSQL. Each race is run with many concurrent calls, so that an
//! ordering that lets two writes through would show.

use hrplan::{
    auth::Role,
    grpc::pb::{self},
    store::stmt,
};
use sea_orm::ConnectionTrait;
use tonic::Code;

use crate::clients::{Caller, UnitClient};
use crate::helpers::{TestApp, date, spawn_app};

fn client(app: &TestApp, subject_token: String) -> UnitClient {
    app.as_(Caller::with_token(Some(subject_token))).units()
}

/// A token for a national editor called `subject`.
fn editor(subject: &str) -> String {
    let localities = vec!["*".to_owned()];
    hrplan::auth::mint_hs256(
        crate::helpers::SECRET,
        subject,
        &localities,
        &[Role::Editor],
        std::time::Duration::from_secs(600),
    )
    .expect("minting a token")
}

fn request(name: &str, request_id: &str) -> pb::CreateUnitRequest {
    pb::CreateUnitRequest {
        unit: Some(pb::Unit {
            display_name: name.to_owned(),
            locality: "localities/11".to_owned(),
            sector: pb::Sector::Health.into(),
            kind: pb::UnitKind::HealthFacility.into(),
            valid_from: Some(date(2021, 1, 1)),
            ..Default::default()
        }),
        request_id: request_id.to_owned(),
    }
}

async fn units_named(app: &TestApp, name: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(stmt(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM units WHERE name = ?",
            vec![name.into()],
        ))
        .await
        .expect("counting units")
        .expect("a row");
    row.try_get("", "n").expect("n")
}

#[tokio::test]
async fn fifty_concurrent_creates_with_one_request_id_make_one_unit_and_answer_it_fifty_times() {
    let app = spawn_app().await;
    app.load_demo().await;
    for round in 0..3 {
        let name = format!("Trạm Y tế thử {round}");
        let request_id = format!("7d0c2a1e-race-{round}");
        let mut calls = Vec::new();
        for _ in 0..50 {
            let mut client = client(&app, editor("alice"));
            let request = request(&name, &request_id);
            calls.push(tokio::spawn(async move { client.create_unit(request).await }));
        }
        let mut answers = Vec::new();
        for call in calls {
            let unit = call.await.expect("the call ran").expect("every retry succeeds").into_inner().unit;
            answers.push(unit.expect("a unit"));
        }
        assert_eq!(units_named(&app, &name).await, 1, "round {round}: exactly one unit");
        let first = &answers[0];
        assert!(answers.iter().all(|u| u.name == first.name && u.etag == first.etag), "round {round}: one answer");
    }
}

#[tokio::test]
async fn the_same_request_id_from_two_callers_makes_two_independent_requests() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut alice = client(&app, editor("alice"));
    let mut bob = client(&app, editor("bob"));
    let a = alice.create_unit(request("Trạm Y tế A", "shared-id")).await.expect("alice").into_inner().unit;
    // Bob's request has another body under the same identifier: not a reuse of
    // Alice's identifier, since identifiers belong to their caller.
    let b = bob.create_unit(request("Trạm Y tế B", "shared-id")).await.expect("bob").into_inner().unit;
    let (a, b) = (a.expect("a unit"), b.expect("a unit"));
    assert_ne!(a.name, b.name);
    assert_eq!((units_named(&app, "Trạm Y tế A").await, units_named(&app, "Trạm Y tế B").await), (1, 1));
    // Each caller's retry replays its own request; a reuse for another body is refused.
    let again = alice.create_unit(request("Trạm Y tế A", "shared-id")).await.expect("retry").into_inner().unit;
    assert_eq!(again.map(|u| u.name), Some(a.name));
    let reuse = alice.create_unit(request("Trạm Y tế C", "shared-id")).await.expect_err("reuse");
    assert_eq!(reuse.code(), Code::InvalidArgument);
    assert_eq!(units_named(&app, "Trạm Y tế C").await, 0);
}
