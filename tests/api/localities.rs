//! LocalityService standard methods, lists, search and idempotency.

use hrplan::grpc::pb::{self, LocalityKind as K, LocalityState, LocalityTier as T};
use prost_types::FieldMask;
use tonic::Code;

use crate::helpers::{code_of, create_request, date, names, seed_dien_bien, spawn_app, version};

#[tokio::test]
async fn a_created_locality_can_be_read_back_with_its_history() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;

    let got = client
        .get_locality(pb::GetLocalityRequest { name: "localities/03334".into(), as_of: Some(date(2024, 5, 1)) })
        .await
        .expect("get")
        .into_inner()
        .locality
        .expect("locality");

    assert_eq!(got.name, "localities/03334");
    assert_eq!(got.code, "03334");
    assert_eq!(got.tier(), T::Commune);
    assert_eq!(got.kind(), K::Commune);
    assert_eq!(got.display_name, "Xã Thanh Xương");
    assert_eq!(got.parent, "localities/100");
    assert_eq!(got.state(), LocalityState::Active);
    assert_eq!(got.versions.len(), 1);
    assert_eq!(got.as_of, Some(date(2024, 5, 1)));
    assert!(!got.etag.is_empty());
    assert!(got.create_time.is_some());
}

#[tokio::test]
async fn a_locality_read_before_it_starts_is_not_yet_established() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;
    let got = client
        .get_locality(pb::GetLocalityRequest { name: "localities/11".into(), as_of: Some(date(2019, 12, 31)) })
        .await
        .expect("get")
        .into_inner()
        .locality
        .expect("locality");
    assert_eq!(got.state(), LocalityState::NotYetEstablished);
}

#[tokio::test]
async fn unknown_localities_are_not_found() {
    let app = spawn_app().await;
    let result = app
        .as_admin()
        .localities()
        .get_locality(pb::GetLocalityRequest { name: "localities/99".into(), as_of: None })
        .await;
    assert_eq!(code_of(result), Code::NotFound);
}

#[tokio::test]
async fn a_retried_create_with_the_same_request_id_returns_the_first_result() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    let mut request = create_request("11", T::Province, "Tỉnh Điện Biên", K::Province, "");
    request.request_id = "0b8f8f0e-7a4e-4d7e-9a53-0d9f0e1c1b11".into();

    let first = client.create_locality(request.clone()).await.expect("first create").into_inner();
    let before = app.snapshot().await;
    let second = client.create_locality(request.clone()).await.expect("retried create").into_inner();

    assert_eq!(first, second);
    assert_eq!(app.snapshot().await, before, "a retry writes nothing");

    request.locality.as_mut().expect("locality").versions[0].display_name = "Tỉnh Lai Châu".into();
    let reused = client.create_locality(request).await;
    assert_eq!(code_of(reused), Code::InvalidArgument);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn creating_an_existing_code_without_a_request_id_is_already_exists() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    let request = create_request("11", T::Province, "Tỉnh Điện Biên", K::Province, "");
    client.create_locality(request.clone()).await.expect("create");
    let before = app.snapshot().await;
    assert_eq!(code_of(client.create_locality(request).await), Code::AlreadyExists);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn validate_only_writes_nothing() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    let mut request = create_request("11", T::Province, "Tỉnh Điện Biên", K::Province, "");
    request.validate_only = true;
    let before = app.snapshot().await;
    let answer = client.create_locality(request).await.expect("dry run").into_inner().locality.expect("locality");
    assert_eq!(answer.display_name, "Tỉnh Điện Biên");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn children_are_listed_as_of_a_date_with_filters_and_order() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut client = app.as_admin().localities();

    let before = client
        .list_localities(pb::ListLocalitiesRequest {
            parent: "localities/11".into(),
            as_of: Some(date(2025, 6, 30)),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(names(&before.localities), ["localities/094", "localities/095", "localities/100"]);

    let after = client
        .list_localities(pb::ListLocalitiesRequest {
            parent: "localities/11".into(),
            as_of: Some(date(2025, 7, 1)),
            order_by: "display_name desc".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    let mut expected = [
        ("Phường Điện Biên Phủ", "localities/03127"),
        ("Phường Mường Lay", "localities/03151"),
        ("Phường Mường Thanh", "localities/03334"),
    ];
    expected.sort();
    expected.reverse();
    assert_eq!(names(&after.localities), expected.iter().map(|(_, n)| (*n).to_owned()).collect::<Vec<_>>());

    let tagged = client
        .list_localities(pb::ListLocalitiesRequest {
            as_of: Some(date(2025, 6, 30)),
            filter: "tier = DISTRICT AND tags:border_area".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(names(&tagged.localities), ["localities/100"]);

    let not_wards = client
        .list_localities(pb::ListLocalitiesRequest {
            parent: "localities/187".into(),
            as_of: Some(date(2025, 6, 30)),
            filter: "kind != WARD AND kind != TOWNSHIP".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(names(&not_wards.localities), ["localities/06523"]);
}

#[tokio::test]
async fn pages_are_stable_while_localities_are_inserted() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut client = app.as_admin().localities();
    let request = |token: String| pb::ListLocalitiesRequest {
        as_of: Some(date(2025, 6, 30)),
        filter: "tier = COMMUNE".into(),
        page_size: 10,
        page_token: token,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = client.list_localities(request(token.clone())).await.expect("page").into_inner();
        assert!(page.localities.len() <= 10);
        seen.extend(names(&page.localities));
        pages += 1;
        if pages == 1 {
            // Inserted before the cursor: must not shift later pages.
            let mut insert = create_request("00002", T::Commune, "Phường Thử Nghiệm", K::Ward, "localities/001");
            insert.locality.as_mut().expect("locality").versions[0].valid_until = Some(date(2025, 7, 1));
            client.create_locality(insert).await.expect("insert during paging");
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no locality twice");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "ordered by code");
    // Every commune in force on 2025-06-30 except the one inserted before the cursor.
    let all = client
        .list_localities(pb::ListLocalitiesRequest { page_size: 1000, ..request(String::new()) })
        .await
        .expect("all")
        .into_inner();
    let expected: Vec<String> = names(&all.localities).into_iter().filter(|n| n != "localities/00002").collect();
    assert_eq!(seen, expected);
    assert!(pages >= 4);
}

#[tokio::test]
async fn search_ignores_case_and_vietnamese_diacritics() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut client = app.as_admin().localities();
    let search = |query: &str, year: i32, month: i32, day: i32| pb::SearchLocalitiesRequest {
        query: query.into(),
        as_of: Some(date(year, month, day)),
        ..Default::default()
    };

    let found = client.search_localities(search("dong mo", 2025, 6, 30)).await.expect("search").into_inner();
    assert_eq!(names(&found.localities), ["localities/06463"]);
    assert_eq!(found.localities[0].display_name, "Thị trấn Đồng Mỏ");

    let found = client.search_localities(search("DIEN BIEN", 2025, 6, 30)).await.expect("search").into_inner();
    let found_names = names(&found.localities);
    for expected in ["localities/11", "localities/094", "localities/100", "localities/00019"] {
        assert!(found_names.contains(&expected.to_owned()), "{expected} not in {found_names:?}");
    }

    // After the reorganisation the township's code carries the commune's new name.
    let found = client.search_localities(search("Đồng Mỏ", 2025, 7, 1)).await.expect("search").into_inner();
    assert!(found.localities.is_empty());
    let found = client.search_localities(search("xa chi lang", 2025, 7, 1)).await.expect("search").into_inner();
    assert_eq!(names(&found.localities), ["localities/06463"]);

    let with_filter =
        pb::SearchLocalitiesRequest { filter: "tier = PROVINCE".into(), ..search("dien bien", 2025, 6, 30) };
    let found = client.search_localities(with_filter).await.expect("search").into_inner();
    assert_eq!(names(&found.localities), ["localities/11"]);
}

#[tokio::test]
async fn tags_are_updated_with_a_field_mask_and_a_stale_etag_is_aborted() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;
    let current = client
        .get_locality(pb::GetLocalityRequest { name: "localities/100".into(), as_of: None })
        .await
        .expect("get")
        .into_inner()
        .locality
        .expect("locality");

    let mut change = current.clone();
    change.tags = vec!["border_area".into(), "poor_district".into()];
    change.versions.clear(); // not in the mask: must be left alone
    let updated = client
        .update_locality(pb::UpdateLocalityRequest {
            locality: Some(change.clone()),
            update_mask: Some(FieldMask { paths: vec!["tags".into()] }),
        })
        .await
        .expect("update")
        .into_inner()
        .locality
        .expect("locality");
    assert_eq!(updated.tags, ["border_area", "poor_district"]);
    assert_eq!(updated.versions, current.versions);
    assert_ne!(updated.etag, current.etag);

    let before = app.snapshot().await;
    let stale = client
        .update_locality(pb::UpdateLocalityRequest {
            locality: Some(change),
            update_mask: Some(FieldMask { paths: vec!["tags".into()] }),
        })
        .await;
    assert_eq!(code_of(stale), Code::Aborted);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn the_history_can_be_replaced_when_children_stay_covered() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;
    let mut district = client
        .get_locality(pb::GetLocalityRequest { name: "localities/094".into(), as_of: None })
        .await
        .expect("get")
        .into_inner()
        .locality
        .expect("locality");
    district.versions = vec![
        version(
            date(2020, 1, 1),
            Some(date(2023, 1, 1)),
            "Thành phố Điện Biên Phủ",
            K::ProvincialCity,
            "localities/11",
        ),
        version(date(2023, 1, 1), None, "Thành phố Điện Biên Phủ", K::ProvincialCity, "localities/11"),
    ];
    let updated = client
        .update_locality(pb::UpdateLocalityRequest {
            locality: Some(district),
            update_mask: Some(FieldMask { paths: vec!["versions".into()] }),
        })
        .await
        .expect("update")
        .into_inner()
        .locality
        .expect("locality");
    assert_eq!(updated.versions.len(), 2);
}

#[tokio::test]
async fn a_leaf_locality_can_be_deleted_and_one_with_children_cannot() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;

    let before = app.snapshot().await;
    let refused =
        client.delete_locality(pb::DeleteLocalityRequest { name: "localities/094".into(), etag: String::new() }).await;
    assert_eq!(code_of(refused), Code::FailedPrecondition);
    assert_eq!(app.snapshot().await, before);

    client
        .delete_locality(pb::DeleteLocalityRequest { name: "localities/03124".into(), etag: String::new() })
        .await
        .expect("delete a leaf");
    let gone = client.get_locality(pb::GetLocalityRequest { name: "localities/03124".into(), as_of: None }).await;
    assert_eq!(code_of(gone), Code::NotFound);
}

#[tokio::test]
async fn ancestors_follow_the_tree_of_the_date() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut client = app.as_admin().localities();
    let before = client
        .list_ancestors(pb::ListAncestorsRequest { name: "localities/03334".into(), as_of: Some(date(2025, 6, 30)) })
        .await
        .expect("ancestors")
        .into_inner();
    assert_eq!(names(&before.ancestors), ["localities/100", "localities/11"]);
    let after = client
        .list_ancestors(pb::ListAncestorsRequest { name: "localities/03334".into(), as_of: Some(date(2025, 7, 1)) })
        .await
        .expect("ancestors")
        .into_inner();
    assert_eq!(names(&after.ancestors), ["localities/11"]);
}

#[tokio::test]
async fn every_write_is_audited() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;
    let audited: Vec<String> = app.snapshot().await.into_iter().filter(|r| r.starts_with("audit_log:")).collect();
    assert_eq!(audited.len(), 6);
    assert!(audited.iter().all(|r| r.contains("| tester | CreateLocality | localities/")), "{audited:?}");
}
