//! The locality tree and the records keyed on it under concurrency (localities,
//! staffing quotas), on SQLite and PostgreSQL: each race is run many times, so that an
//! ordering that lets two writes through would show.

use hrplan::{
    grpc::pb::{self},
    store::stmt,
};
use sea_orm::ConnectionTrait;
use tonic::Code;

use crate::helpers::{TestApp, create_request, date, seed_dien_bien, spawn_app, version};

async fn count(app: &TestApp, sql: &str, code: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(stmt(app.db.get_database_backend(), sql, vec![code.into()]))
        .await
        .expect("counting")
        .expect("a row");
    row.try_get("", "n").expect("n")
}

#[tokio::test]
async fn concurrent_creations_of_one_locality_code_make_one_locality_and_the_rest_already_exist() {
    let app = spawn_app().await;
    let mut admin = app.as_admin().localities();
    seed_dien_bien(&mut admin).await;
    for round in 0..20 {
        let code = format!("031{round:02}");
        let mut calls = Vec::new();
        for caller in 0..10 {
            let mut client = app.as_admin().localities();
            let request = create_request(
                &code,
                pb::LocalityTier::Commune,
                &format!("Phường thử {round} ({caller})"),
                pb::LocalityKind::Ward,
                "localities/094",
            );
            calls.push(tokio::spawn(async move { client.create_locality(request).await }));
        }
        let mut created = 0;
        for call in calls {
            match call.await.expect("the call ran") {
                Ok(_) => created += 1,
                Err(status) => assert_eq!(status.code(), Code::AlreadyExists, "round {round}: {status:?}"),
            }
        }
        assert_eq!(created, 1, "round {round}: exactly one create succeeds");
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM localities WHERE code = ?", &code).await, 1);
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM locality_versions WHERE code = ?", &code).await, 1);
    }
}

#[tokio::test]
async fn a_parent_shortened_while_a_child_is_created_in_the_part_cut_off_never_lets_both_through() {
    let app = spawn_app().await;
    let mut admin = app.as_admin().localities();
    seed_dien_bien(&mut admin).await;
    for round in 0..20 {
        let district = format!("2{round:02}");
        let commune = format!("2{round:02}01");
        let created = admin
            .create_locality(create_request(
                &district,
                pb::LocalityTier::District,
                &format!("Huyện thử {round}"),
                pb::LocalityKind::RuralDistrict,
                "localities/11",
            ))
            .await
            .expect("a district")
            .into_inner()
            .locality
            .expect("a locality");
        // The district ends on 2025-07-01 while a commune open-ended from 2020 is put
        // under it: whichever commits second must fail, since the commune would outlive
        // its parent.
        let shorten = pb::UpdateLocalityRequest {
            locality: Some(pb::Locality {
                name: created.name.clone(),
                versions: vec![version(
                    date(2020, 1, 1),
                    Some(date(2025, 7, 1)),
                    &format!("Huyện thử {round}"),
                    pb::LocalityKind::RuralDistrict,
                    "localities/11",
                )],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["versions".into()] }),
        };
        let child = create_request(
            &commune,
            pb::LocalityTier::Commune,
            &format!("Xã thử {round}"),
            pb::LocalityKind::Commune,
            &created.name,
        );
        let (mut a, mut b) = (app.as_admin().localities(), app.as_admin().localities());
        let update = tokio::spawn(async move { a.update_locality(shorten).await });
        let create = tokio::spawn(async move { b.create_locality(child).await });
        let (update, create) = (update.await.expect("the update ran"), create.await.expect("the create ran"));
        match (&update, &create) {
            (Ok(_), Err(status)) => assert_eq!(status.code(), Code::InvalidArgument, "round {round}: {status:?}"),
            (Err(status), Ok(_)) => assert_eq!(status.code(), Code::FailedPrecondition, "round {round}: {status:?}"),
            _ => panic!("round {round}: exactly one of the two must succeed: {update:?} / {create:?}"),
        }
        let children =
            count(&app, "SELECT COUNT(*) AS n FROM locality_versions WHERE parent_code = ?", &district).await;
        let open = count(
            &app,
            "SELECT COUNT(*) AS n FROM locality_versions WHERE code = ? AND valid_until IS NULL",
            &district,
        )
        .await;
        assert_eq!((children, open), if create.is_ok() { (1, 1) } else { (0, 0) }, "round {round}");
    }
}

#[tokio::test]
async fn concurrent_quotas_for_one_locality_year_and_category_make_one_quota() {
    let app = spawn_app().await;
    let mut admin = app.as_admin().localities();
    seed_dien_bien(&mut admin).await;
    for round in 0..20 {
        let year = 2000 + round;
        let mut calls = Vec::new();
        for caller in 0..10 {
            let mut client = app.as_admin().staffing();
            let request = pb::CreateStaffingQuotaRequest {
                staffing_quota: Some(pb::StaffingQuota {
                    locality: "localities/11".into(),
                    year,
                    category: pb::PersonCategory::CivilServant.into(),
                    quota: 100 + caller,
                    ..Default::default()
                }),
                request_id: format!("quota-{round}-{caller}"),
            };
            calls.push(tokio::spawn(async move { client.create_staffing_quota(request).await }));
        }
        let mut created = 0;
        for call in calls {
            match call.await.expect("the call ran") {
                Ok(_) => created += 1,
                Err(status) => assert_eq!(status.code(), Code::AlreadyExists, "round {round}: {status:?}"),
            }
        }
        assert_eq!(created, 1, "round {round}: exactly one create succeeds");
        let stored = app
            .db
            .query_one_raw(stmt(
                app.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM staffing_quotas WHERE locality_code = '11' AND year = ? \
                 AND category = 'civil_servant'",
                vec![year.into()],
            ))
            .await
            .expect("counting")
            .expect("a row");
        assert_eq!(stored.try_get::<i64>("", "n").expect("n"), 1, "round {round}: one quota stored");
    }
}
