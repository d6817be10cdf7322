//! Reorganize: the 2025 merger of communes directly under the province.

use hrplan::grpc::pb::{self, LocalityKind as K, LocalityState, SuccessionKind};
use tonic::Code;

use crate::clients::LocalityClient;
use crate::helpers::{code_of, date, names, seed_dien_bien, spawn_app};

/// Noong Bua and Nam Thanh (of Điện Biên Phủ city) and Thanh Xương (of Điện Biên
/// district) become Phường Mường Thanh (03334) directly under the province on
/// 2025-07-01; both districts end.
fn merger() -> pb::ReorganizeRequest {
    pb::ReorganizeRequest {
        effective_date: Some(date(2025, 7, 1)),
        legal_basis: "Nghị quyết 1661/NQ-UBTVQH15".into(),
        endings: vec![
            "localities/094".into(),
            "localities/100".into(),
            "localities/03124".into(),
            "localities/03139".into(),
        ],
        creations: vec![],
        amendments: vec![pb::LocalityAmendment {
            locality: "localities/03334".into(),
            display_name: "Phường Mường Thanh".into(),
            kind: K::Ward.into(),
            parent: "localities/11".into(),
        }],
        links: vec![
            pb::SuccessionLink {
                predecessor: "localities/03124".into(),
                successor: "localities/03334".into(),
                kind: SuccessionKind::Merge.into(),
            },
            pb::SuccessionLink {
                predecessor: "localities/03139".into(),
                successor: "localities/03334".into(),
                kind: SuccessionKind::Merge.into(),
            },
        ],
        request_id: String::new(),
        validate_only: false,
    }
}

async fn descendants(client: &mut LocalityClient, year: i32, month: i32, day: i32) -> Vec<pb::Locality> {
    client
        .list_descendants(pb::ListDescendantsRequest {
            name: "localities/11".into(),
            as_of: Some(date(year, month, day)),
            ..Default::default()
        })
        .await
        .expect("descendants")
        .into_inner()
        .localities
}

#[tokio::test]
async fn the_tree_before_and_after_a_reorganisation_is_the_tree_of_each_date() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;

    let touched = client.reorganize(merger()).await.expect("reorganize").into_inner().localities;
    assert_eq!(
        names(&touched),
        ["localities/03124", "localities/03139", "localities/03334", "localities/094", "localities/100"]
    );

    let before = descendants(&mut client, 2025, 6, 30).await;
    assert_eq!(
        names(&before),
        ["localities/03124", "localities/03139", "localities/03334", "localities/094", "localities/100"]
    );
    let thanh_xuong = before.iter().find(|l| l.code == "03334").expect("03334");
    assert_eq!((thanh_xuong.display_name.as_str(), thanh_xuong.parent.as_str()), ("Xã Thanh Xương", "localities/100"));

    let after = descendants(&mut client, 2025, 7, 1).await;
    assert_eq!(names(&after), ["localities/03334"]);
    assert_eq!(after[0].display_name, "Phường Mường Thanh");
    assert_eq!(after[0].parent, "localities/11");
    assert_eq!(after[0].kind(), K::Ward);
    let predecessors: Vec<&str> = after[0].predecessors.iter().map(|l| l.locality.as_str()).collect();
    assert_eq!(predecessors, ["localities/03124", "localities/03139"]);

    // Today (as_of omitted) an ended commune names its successor.
    let ended = client
        .get_locality(pb::GetLocalityRequest { name: "localities/03124".into(), as_of: None })
        .await
        .expect("get")
        .into_inner()
        .locality
        .expect("locality");
    assert_eq!(ended.state(), LocalityState::Ended);
    assert_eq!(ended.successors.len(), 1);
    assert_eq!(ended.successors[0].locality, "localities/03334");
    assert_eq!(ended.successors[0].kind(), SuccessionKind::Merge);
    assert_eq!(ended.successors[0].effective_date, Some(date(2025, 7, 1)));
    assert_eq!(ended.successors[0].display_name, "Phường Mường Thanh");
    assert_eq!(ended.display_name, "Phường Noong Bua");
}

#[tokio::test]
async fn a_reorganisation_that_would_orphan_a_commune_changes_nothing() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;
    let before = app.snapshot().await;

    let mut request = merger();
    // Thanh Xương is no longer moved to the province, but its district still ends.
    request.amendments.clear();
    request.links.clear();
    let status = client.reorganize(request).await.expect_err("must fail");

    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("localities/03334"), "{}", status.message());
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_reorganisation_is_atomic_when_a_late_change_fails() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;
    let before = app.snapshot().await;

    let mut request = merger();
    // The last link names a successor that is not in force: everything else is valid.
    request.links.push(pb::SuccessionLink {
        predecessor: "localities/03139".into(),
        successor: "localities/99999".into(),
        kind: SuccessionKind::Split.into(),
    });
    assert_eq!(code_of(client.reorganize(request).await), Code::InvalidArgument);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_retried_reorganisation_is_applied_once() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;
    let mut request = merger();
    request.request_id = "reorg-2025-07-01-dien-bien".into();
    let first = client.reorganize(request.clone()).await.expect("first").into_inner();
    let after_first = app.snapshot().await;
    let second = client.reorganize(request).await.expect("retry").into_inner();
    assert_eq!(names(&first.localities), names(&second.localities));
    assert_eq!(app.snapshot().await, after_first);
}

#[tokio::test]
async fn the_demo_tree_rolls_up_along_each_date() {
    let app = spawn_app().await;
    app.load_demo().await;
    let client = app.as_admin().localities();
    let count =
        |localities: &[pb::Locality], tier: pb::LocalityTier| localities.iter().filter(|l| l.tier() == tier).count();
    let all = |day: pb::Date| {
        let mut client = client.clone();
        async move {
            client
                .list_descendants(pb::ListDescendantsRequest {
                    name: "localities/01".into(),
                    as_of: Some(day),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .expect("descendants")
                .into_inner()
                .localities
        }
    };
    let before = all(date(2025, 6, 30)).await;
    assert_eq!(count(&before, pb::LocalityTier::District), 2);
    assert_eq!(count(&before, pb::LocalityTier::Commune), 31);
    let after = all(date(2025, 7, 1)).await;
    assert_eq!(count(&after, pb::LocalityTier::District), 0);
    assert_eq!(count(&after, pb::LocalityTier::Commune), 6);
    assert!(after.iter().all(|l| l.parent == "localities/01"));
}

#[tokio::test]
async fn a_reorganisation_that_would_strand_a_unit_changes_nothing() {
    use hrplan::{auth::Role, grpc::pb::unit_service_client::UnitServiceClient};

    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;
    let mut units = UnitServiceClient::with_interceptor(
        app.channel.clone(),
        crate::helpers::bearer(Some(crate::helpers::token(&["*"], &[Role::Admin]))),
    );
    let unit = units
        .create_unit(pb::CreateUnitRequest {
            unit: Some(pb::Unit {
                display_name: "Ủy ban nhân dân phường Noong Bua".into(),
                locality: "localities/03124".into(),
                sector: pb::Sector::StateAdministration.into(),
                kind: pb::UnitKind::PeoplesCommittee.into(),
                valid_from: Some(date(2020, 1, 1)),
                valid_until: None,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("unit")
        .into_inner()
        .unit
        .expect("unit");
    let before = app.snapshot().await;

    let status = client.reorganize(merger()).await.expect_err("the ward's committee outlives the ward");

    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains(&unit.name), "{}", status.message());
    assert_eq!(app.snapshot().await, before);
}
