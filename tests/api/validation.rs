//! Request validation (issue acceptance point 5): every rule of LocalityService input
//! has a test asserting the status code, the field violation (its exact path) and that
//! the database is unchanged.

use std::future::Future;

use hrplan::grpc::pb::{self, LocalityKind as K, LocalityTier as T};
use prost_types::FieldMask;
use tonic::{Code, Response, Status};

use crate::clients::LocalityClient;
use crate::helpers::{
    TestApp, create_request, date, fails_with, field_violations, invalid, rejects, seed_dien_bien, spawn_app, version,
};

/// Runs `call` and asserts INVALID_ARGUMENT with a violation of `field` (whose
/// description contains `words`), and an unchanged database. Returns the violations.
async fn rejects_with<T: std::fmt::Debug>(
    app: &TestApp,
    call: impl Future<Output = Result<Response<T>, Status>>,
    field: &str,
    words: &str,
) -> Vec<(String, String)> {
    let before = app.snapshot().await;
    let status = invalid(call.await);
    let violations = field_violations(&status);
    assert!(
        violations.iter().any(|(f, d)| f == field && d.contains(words)),
        "expected a violation of `{field}` mentioning `{words}`, got {violations:?}"
    );
    assert_eq!(app.snapshot().await, before, "a rejected request changed the database");
    violations
}

/// An app holding `seed_dien_bien` (11; 094 with 03124, 03139; 100 with 03334) and its
/// admin client.
async fn seeded() -> (TestApp, LocalityClient) {
    let app = spawn_app().await;
    let mut admin = app.as_admin().localities();
    seed_dien_bien(&mut admin).await;
    (app, admin)
}

/// An app holding the demo tree and an admin client.
async fn demo() -> (TestApp, LocalityClient) {
    let app = spawn_app().await;
    app.load_demo().await;
    let admin = app.as_admin().localities();
    (app, admin)
}

/// A create request for `code` with the given tier and history.
fn create_with(code: &str, tier: T, versions: Vec<pb::LocalityVersion>) -> pb::CreateLocalityRequest {
    pb::CreateLocalityRequest {
        locality_id: code.to_owned(),
        locality: Some(pb::Locality { tier: tier.into(), versions, ..Default::default() }),
        ..Default::default()
    }
}

/// A commune of Điện Biên Phủ (094) with one open version from 2020-01-01.
fn commune(code: &str) -> pb::CreateLocalityRequest {
    create_request(code, T::Commune, "Phường Thử Nghiệm", K::Ward, "localities/094")
}

/// An update of `name` with the given fields and mask paths.
fn update(locality: pb::Locality, paths: &[&str]) -> pb::UpdateLocalityRequest {
    pb::UpdateLocalityRequest {
        locality: Some(locality),
        update_mask: Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }),
    }
}

fn reorganization(effective_date: pb::Date) -> pb::ReorganizeRequest {
    pb::ReorganizeRequest { effective_date: Some(effective_date), ..Default::default() }
}

fn amend_name(locality: &str, display_name: &str) -> pb::LocalityAmendment {
    pb::LocalityAmendment { locality: locality.to_owned(), display_name: display_name.to_owned(), ..Default::default() }
}

// CreateLocality: the code and the tier.

#[tokio::test]
async fn a_locality_id_that_is_not_digits_is_rejected() {
    let (app, mut admin) = seeded().await;

    for id in ["03a24", "O3124", "+3124", "03 24", ""] {
        let mut request = commune("03199");
        request.locality_id = id.to_owned();
        rejects(&app, admin.create_locality(request), "locality_id").await;
    }
}

#[tokio::test]
async fn a_locality_id_of_a_length_no_tier_has_is_rejected() {
    let (app, mut admin) = seeded().await;

    for id in ["0312", "1", "031245"] {
        let mut request = commune("03199");
        request.locality_id = id.to_owned();
        rejects(&app, admin.create_locality(request), "locality_id").await;
    }
}

#[tokio::test]
async fn a_locality_id_whose_length_does_not_match_the_tier_is_rejected() {
    let (app, mut admin) = seeded().await;
    let three_digit_commune = create_request("099", T::Commune, "Phường Thử Nghiệm", K::Ward, "localities/094");
    let five_digit_district =
        create_request("03199", T::District, "Huyện Thử Nghiệm", K::RuralDistrict, "localities/11");

    rejects(&app, admin.create_locality(three_digit_commune), "locality_id").await;
    rejects(&app, admin.create_locality(five_digit_district), "locality_id").await;
}

#[tokio::test]
async fn a_locality_without_a_tier_is_rejected() {
    let (app, mut admin) = seeded().await;
    let request = create_request("03199", T::Unspecified, "Phường Thử Nghiệm", K::Ward, "localities/094");

    rejects(&app, admin.create_locality(request), "locality.tier").await;
}

#[tokio::test]
async fn a_create_without_a_locality_or_without_versions_is_rejected() {
    let (app, mut admin) = seeded().await;
    let no_locality = pb::CreateLocalityRequest { locality_id: "03199".to_owned(), ..Default::default() };
    let no_versions = create_with("03199", T::Commune, Vec::new());

    rejects(&app, admin.create_locality(no_locality), "locality").await;
    rejects(&app, admin.create_locality(no_versions), "locality.versions").await;
}

// Kinds.

#[tokio::test]
async fn a_version_without_a_kind_is_rejected() {
    let (app, mut admin) = seeded().await;
    let request = create_request("03199", T::Commune, "Phường Thử Nghiệm", K::Unspecified, "localities/094");

    rejects(&app, admin.create_locality(request), "locality.versions[0].kind").await;
}

#[tokio::test]
async fn a_version_with_a_kind_of_another_tier_is_rejected() {
    let (app, mut admin) = seeded().await;
    let ward_district = create_request("099", T::District, "Huyện Thử Nghiệm", K::Ward, "localities/11");
    let province_commune = create_request("03199", T::Commune, "Phường Thử Nghiệm", K::Province, "localities/094");

    rejects(&app, admin.create_locality(ward_district), "locality.versions[0].kind").await;
    rejects(&app, admin.create_locality(province_commune), "locality.versions[0].kind").await;
}

// Parents.

#[tokio::test]
async fn a_parent_that_does_not_exist_is_rejected() {
    let (app, mut admin) = seeded().await;
    let district = create_request("099", T::District, "Huyện Thử Nghiệm", K::RuralDistrict, "localities/12");
    let commune = create_request("03199", T::Commune, "Phường Thử Nghiệm", K::Ward, "localities/098");

    rejects_with(&app, admin.create_locality(district), "locality.versions[0].parent", "does not exist").await;
    rejects_with(&app, admin.create_locality(commune), "locality.versions[0].parent", "does not exist").await;
    let moved = update(
        pb::Locality {
            name: "localities/03124".to_owned(),
            versions: vec![version(date(2020, 1, 1), None, "Phường Noong Bua", K::Ward, "localities/098")],
            ..Default::default()
        },
        &["versions"],
    );
    rejects_with(&app, admin.update_locality(moved), "locality.versions[0].parent", "does not exist").await;
}

#[tokio::test]
async fn a_parent_that_is_not_of_a_higher_tier_is_rejected() {
    let (app, mut admin) = seeded().await;
    let commune_under_commune = create_request("03199", T::Commune, "Phường Thử Nghiệm", K::Ward, "localities/03124");
    let district_under_district =
        create_request("099", T::District, "Huyện Thử Nghiệm", K::RuralDistrict, "localities/094");
    let district_under_commune =
        create_request("099", T::District, "Huyện Thử Nghiệm", K::RuralDistrict, "localities/03124");

    rejects(&app, admin.create_locality(commune_under_commune), "locality.versions[0].parent").await;
    rejects(&app, admin.create_locality(district_under_district), "locality.versions[0].parent").await;
    rejects(&app, admin.create_locality(district_under_commune), "locality.versions[0].parent").await;
}

#[tokio::test]
async fn a_province_with_a_parent_is_rejected() {
    let (app, mut admin) = seeded().await;
    let request = create_request("96", T::Province, "Tỉnh Thử Nghiệm", K::Province, "localities/11");

    rejects(&app, admin.create_locality(request), "locality.versions[0].parent").await;
}

#[tokio::test]
async fn a_district_or_commune_without_a_parent_is_rejected() {
    let (app, mut admin) = seeded().await;
    let district = create_request("099", T::District, "Huyện Thử Nghiệm", K::RuralDistrict, "");
    let commune = create_request("03199", T::Commune, "Phường Thử Nghiệm", K::Ward, "");

    rejects(&app, admin.create_locality(district), "locality.versions[0].parent").await;
    rejects(&app, admin.create_locality(commune), "locality.versions[0].parent").await;
}

#[tokio::test]
async fn a_parent_that_is_not_in_force_over_the_whole_version_is_rejected() {
    let (app, mut admin) = demo().await;
    // Điện Biên's history starts on 2020-01-01.
    let before_the_province = create_with(
        "099",
        T::District,
        vec![version(date(2019, 1, 1), None, "Huyện Thử Nghiệm", K::RuralDistrict, "localities/11")],
    );
    // Thành phố Điện Biên Phủ (094) ends on 2025-07-01.
    let beyond_the_district = create_with(
        "03199",
        T::Commune,
        vec![version(date(2024, 1, 1), None, "Phường Thử Nghiệm", K::Ward, "localities/094")],
    );
    // The second version starts in force but outlives 094.
    let second_version_beyond = create_with(
        "03199",
        T::Commune,
        vec![
            version(date(2020, 1, 1), Some(date(2024, 1, 1)), "Xã Thử Nghiệm", K::Commune, "localities/11"),
            version(date(2024, 1, 1), Some(date(2026, 1, 1)), "Phường Thử Nghiệm", K::Ward, "localities/094"),
        ],
    );

    rejects(&app, admin.create_locality(before_the_province), "locality.versions[0].parent").await;
    rejects(&app, admin.create_locality(beyond_the_district), "locality.versions[0].parent").await;
    let violations = rejects(&app, admin.create_locality(second_version_beyond), "locality.versions[1].parent").await;
    assert!(
        !violations.iter().any(|(f, _)| f == "locality.versions[0].parent"),
        "the first version lies within its parent: {violations:?}"
    );
}

#[tokio::test]
async fn a_locality_cannot_be_its_own_parent() {
    let (app, mut admin) = seeded().await;
    let own_parent = create_request("03199", T::Commune, "Phường Thử Nghiệm", K::Ward, "localities/03199");
    let looped_update = update(
        pb::Locality {
            name: "localities/094".to_owned(),
            versions: vec![version(
                date(2020, 1, 1),
                None,
                "Thành phố Điện Biên Phủ",
                K::ProvincialCity,
                "localities/094",
            )],
            ..Default::default()
        },
        &["versions"],
    );

    rejects_with(&app, admin.create_locality(own_parent), "locality.versions[0].parent", "cycle").await;
    rejects_with(&app, admin.update_locality(looped_update), "locality.versions[0].parent", "cycle").await;
}

// Periods.

#[tokio::test]
async fn a_version_must_end_after_it_starts() {
    let (app, mut admin) = seeded().await;
    let empty_period = create_with(
        "03199",
        T::Commune,
        vec![version(date(2021, 1, 1), Some(date(2021, 1, 1)), "Phường Thử Nghiệm", K::Ward, "localities/094")],
    );
    let reversed_period = create_with(
        "03199",
        T::Commune,
        vec![version(date(2021, 1, 1), Some(date(2020, 6, 1)), "Phường Thử Nghiệm", K::Ward, "localities/094")],
    );

    rejects(&app, admin.create_locality(empty_period), "locality.versions[0].valid_until").await;
    rejects(&app, admin.create_locality(reversed_period), "locality.versions[0].valid_until").await;
}

#[tokio::test]
async fn versions_that_overlap_are_rejected() {
    let (app, mut admin) = seeded().await;
    let overlapping = create_with(
        "03199",
        T::Commune,
        vec![
            version(date(2020, 1, 1), Some(date(2023, 1, 2)), "Xã Thử Nghiệm", K::Commune, "localities/094"),
            version(date(2023, 1, 1), None, "Phường Thử Nghiệm", K::Ward, "localities/094"),
        ],
    );
    let open_then_another = create_with(
        "03199",
        T::Commune,
        vec![
            version(date(2020, 1, 1), None, "Xã Thử Nghiệm", K::Commune, "localities/094"),
            version(date(2023, 1, 1), None, "Phường Thử Nghiệm", K::Ward, "localities/094"),
        ],
    );

    rejects_with(&app, admin.create_locality(overlapping), "locality.versions[1].valid_from", "overlaps").await;
    rejects_with(&app, admin.create_locality(open_then_another), "locality.versions[1].valid_from", "overlaps").await;
}

#[tokio::test]
async fn versions_out_of_order_are_rejected() {
    let (app, mut admin) = seeded().await;
    let out_of_order = create_with(
        "03199",
        T::Commune,
        vec![
            version(date(2023, 1, 1), None, "Phường Thử Nghiệm", K::Ward, "localities/094"),
            version(date(2020, 1, 1), Some(date(2023, 1, 1)), "Xã Thử Nghiệm", K::Commune, "localities/094"),
        ],
    );
    let same_start = create_with(
        "03199",
        T::Commune,
        vec![
            version(date(2020, 1, 1), Some(date(2021, 1, 1)), "Xã Thử Nghiệm", K::Commune, "localities/094"),
            version(date(2020, 1, 1), Some(date(2022, 1, 1)), "Phường Thử Nghiệm", K::Ward, "localities/094"),
        ],
    );

    rejects_with(&app, admin.create_locality(out_of_order), "locality.versions[1].valid_from", "ordered").await;
    rejects(&app, admin.create_locality(same_start), "locality.versions[1].valid_from").await;
}

#[tokio::test]
async fn impossible_or_missing_dates_are_rejected() {
    let (app, mut admin) = seeded().await;
    for bad in [date(2021, 13, 1), date(2021, 2, 30), date(2021, 0, 1), date(0, 1, 1), date(2021, 4, 31)] {
        let request =
            create_with("03199", T::Commune, vec![version(bad, None, "Phường Thử Nghiệm", K::Ward, "localities/094")]);
        rejects(&app, admin.create_locality(request), "locality.versions[0].valid_from").await;
    }
    let mut missing = version(date(2021, 1, 1), None, "Phường Thử Nghiệm", K::Ward, "localities/094");
    missing.valid_from = None;
    let bad_until = version(date(2021, 1, 1), Some(date(2023, 2, 29)), "Phường Thử Nghiệm", K::Ward, "localities/094");

    rejects(
        &app,
        admin.create_locality(create_with("03199", T::Commune, vec![missing])),
        "locality.versions[0].valid_from",
    )
    .await;
    rejects(
        &app,
        admin.create_locality(create_with("03199", T::Commune, vec![bad_until])),
        "locality.versions[0].valid_until",
    )
    .await;
}

// Names.

#[tokio::test]
async fn an_empty_blank_or_overlong_display_name_is_rejected() {
    let (app, mut admin) = seeded().await;
    let too_long = format!("Xã {}", "a".repeat(200));

    for name in ["", "   ", "\t\n", too_long.as_str()] {
        let request = create_request("03199", T::Commune, name, K::Ward, "localities/094");
        rejects(&app, admin.create_locality(request), "locality.versions[0].display_name").await;
    }
}

#[tokio::test]
async fn names_are_stored_in_nfc_and_found_without_diacritics() {
    // Arrange
    let (app, mut admin) = demo().await;
    let composed = "Xã Đồng Mỏ";
    let decomposed = "Xa\u{0303} Đo\u{0302}\u{0300}ng Mo\u{0309}";
    assert_ne!(decomposed, composed);
    let request = create_with(
        "06999",
        T::Commune,
        vec![version(date(2025, 7, 1), None, decomposed, K::Commune, "localities/20")],
    );

    // Act
    let created = admin.create_locality(request).await.expect("create").into_inner().locality.expect("locality");
    let got = admin
        .get_locality(pb::GetLocalityRequest { name: "localities/06999".to_owned(), as_of: Some(date(2025, 7, 1)) })
        .await
        .expect("get")
        .into_inner()
        .locality
        .expect("locality");
    let found = admin
        .search_localities(pb::SearchLocalitiesRequest {
            query: "dong mo".to_owned(),
            as_of: Some(date(2025, 7, 1)),
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner()
        .localities;

    // Assert
    assert_eq!(created.versions[0].display_name, composed);
    assert_eq!(got.display_name, composed);
    assert_eq!(got.versions[0].display_name, composed);
    assert_ne!(got.display_name.len(), decomposed.len());
    assert!(found.iter().any(|l| l.code == "06999"), "search `dong mo` found {found:?}");
    let stored = app.snapshot().await;
    assert!(stored.iter().any(|row| row.starts_with("locality_versions: 06999 |") && row.contains(composed)));
    assert!(!stored.iter().any(|row| row.contains(decomposed)), "the decomposed form was stored");
}

// Tags.

#[tokio::test]
async fn tags_must_be_unique_lower_snake_case() {
    let (app, mut admin) = seeded().await;
    let too_long = "a".repeat(65);
    let cases: [(&[&str], &str); 6] = [
        (&["Border_Area"], "locality.tags[0]"),
        (&["border area"], "locality.tags[0]"),
        (&["border_area", "border_area"], "locality.tags[1]"),
        (&["poor_district", ""], "locality.tags[1]"),
        (&["_border"], "locality.tags[0]"),
        (&[too_long.as_str()], "locality.tags[0]"),
    ];

    for (tags, field) in cases {
        let mut create = commune("03199");
        if let Some(locality) = create.locality.as_mut() {
            locality.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        }
        let tags_update = update(
            pb::Locality {
                name: "localities/094".to_owned(),
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                ..Default::default()
            },
            &["tags"],
        );
        rejects(&app, admin.create_locality(create), field).await;
        rejects(&app, admin.update_locality(tags_update), field).await;
    }
}

// Request identifiers.

#[tokio::test]
async fn a_request_id_longer_than_128_characters_is_rejected() {
    let (app, mut admin) = seeded().await;
    let mut too_long = commune("03199");
    too_long.request_id = "r".repeat(129);
    let mut not_printable = commune("03199");
    not_printable.request_id = "two words".to_owned();
    let mut longest = commune("03199");
    longest.request_id = "r".repeat(128);
    let mut reorganize = reorganization(date(2026, 1, 1));
    reorganize.amendments = vec![amend_name("localities/03334", "Xã Thanh Xương Mới")];
    reorganize.request_id = "r".repeat(129);

    rejects(&app, admin.create_locality(too_long), "request_id").await;
    rejects(&app, admin.create_locality(not_printable), "request_id").await;
    rejects(&app, admin.reorganize(reorganize), "request_id").await;
    admin.create_locality(longest).await.expect("a request_id of 128 characters is accepted");
}

// UpdateLocality.

#[tokio::test]
async fn an_update_without_a_mask_is_rejected() {
    let (app, mut admin) = seeded().await;
    let request = pb::UpdateLocalityRequest {
        locality: Some(pb::Locality {
            name: "localities/094".to_owned(),
            tags: vec!["border_area".to_owned()],
            ..Default::default()
        }),
        update_mask: None,
    };

    rejects(&app, admin.update_locality(request), "update_mask").await;
}

#[tokio::test]
async fn an_update_of_a_field_that_cannot_be_updated_is_rejected() {
    let (app, mut admin) = seeded().await;
    let locality = pb::Locality {
        name: "localities/094".to_owned(),
        display_name: "Thành phố Mới".to_owned(),
        tags: vec!["border_area".to_owned()],
        ..Default::default()
    };

    for paths in [&["display_name"][..], &["tags", "parent"], &["name"], &[]] {
        rejects(&app, admin.update_locality(update(locality.clone(), paths)), "update_mask").await;
    }
}

#[tokio::test]
async fn an_update_with_a_malformed_name_is_rejected() {
    let (app, mut admin) = seeded().await;

    for name in ["", "people/1", "localities/1", "localities/0a1", "localities/094/x"] {
        let request = update(
            pb::Locality { name: name.to_owned(), tags: vec!["border_area".to_owned()], ..Default::default() },
            &["tags"],
        );
        rejects(&app, admin.update_locality(request), "locality.name").await;
    }
}

#[tokio::test]
async fn an_update_without_a_locality_is_rejected() {
    let (app, mut admin) = seeded().await;
    let request =
        pb::UpdateLocalityRequest { locality: None, update_mask: Some(FieldMask { paths: vec!["tags".to_owned()] }) };

    rejects(&app, admin.update_locality(request), "locality").await;
}

#[tokio::test]
async fn an_update_with_a_stale_etag_is_aborted() {
    // Arrange
    let (app, mut admin) = seeded().await;
    let read = admin
        .get_locality(pb::GetLocalityRequest { name: "localities/094".to_owned(), as_of: None })
        .await
        .expect("get")
        .into_inner()
        .locality
        .expect("locality");
    let tags = |tag: &str, etag: &str| {
        update(
            pb::Locality {
                name: "localities/094".to_owned(),
                tags: vec![tag.to_owned()],
                etag: etag.to_owned(),
                ..Default::default()
            },
            &["tags"],
        )
    };
    admin.update_locality(tags("border_area", &read.etag)).await.expect("the first update with a fresh etag");

    // Act and assert
    fails_with(&app, admin.update_locality(tags("poor_district", &read.etag)), Code::Aborted).await;
    fails_with(
        &app,
        admin.delete_locality(pb::DeleteLocalityRequest {
            name: "localities/03124".to_owned(),
            etag: "\"999\"".to_owned(),
        }),
        Code::Aborted,
    )
    .await;
}

#[tokio::test]
async fn an_update_that_would_leave_children_outside_the_locality_is_a_failed_precondition() {
    let (app, mut admin) = demo().await;
    // The communes of Thành phố Điện Biên Phủ (094) run until 2025-07-01.
    let shortened = update(
        pb::Locality {
            name: "localities/094".to_owned(),
            versions: vec![version(
                date(2020, 1, 1),
                Some(date(2024, 1, 1)),
                "Thành phố Điện Biên Phủ",
                K::ProvincialCity,
                "localities/11",
            )],
            ..Default::default()
        },
        &["versions"],
    );

    fails_with(&app, admin.update_locality(shortened), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn an_update_whose_own_versions_leave_the_parent_is_rejected() {
    let (app, mut admin) = demo().await;
    // Điện Biên (11) starts on 2020-01-01.
    let too_early = update(
        pb::Locality {
            name: "localities/094".to_owned(),
            versions: vec![version(
                date(2019, 1, 1),
                Some(date(2025, 7, 1)),
                "Thành phố Điện Biên Phủ",
                K::ProvincialCity,
                "localities/11",
            )],
            ..Default::default()
        },
        &["versions"],
    );

    rejects(&app, admin.update_locality(too_early), "locality.versions[0].parent").await;
}

// DeleteLocality.

#[tokio::test]
async fn deleting_a_locality_with_children_is_a_failed_precondition() {
    let (app, mut admin) = seeded().await;
    let request = pb::DeleteLocalityRequest { name: "localities/094".to_owned(), etag: String::new() };

    fails_with(&app, admin.delete_locality(request), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn deleting_a_locality_with_succession_links_is_a_failed_precondition() {
    let (app, mut admin) = demo().await;
    // Phường Noong Bua merged into 03334 on 2025-07-01; it has no children.
    let request = pb::DeleteLocalityRequest { name: "localities/03124".to_owned(), etag: String::new() };

    fails_with(&app, admin.delete_locality(request), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn deleting_an_unknown_locality_is_not_found() {
    let (app, mut admin) = seeded().await;

    for name in ["localities/99", "localities/999", "localities/99999"] {
        let request = pb::DeleteLocalityRequest { name: name.to_owned(), etag: String::new() };
        fails_with(&app, admin.delete_locality(request), Code::NotFound).await;
    }
}

#[tokio::test]
async fn a_delete_with_a_malformed_name_is_rejected() {
    let (app, mut admin) = seeded().await;

    for name in ["", "people/1", "localities/1"] {
        let request = pb::DeleteLocalityRequest { name: name.to_owned(), etag: String::new() };
        rejects(&app, admin.delete_locality(request), "name").await;
    }
}

// ListLocalities, SearchLocalities, ListDescendants.

fn list(filter: &str) -> pb::ListLocalitiesRequest {
    pb::ListLocalitiesRequest { filter: filter.to_owned(), as_of: Some(date(2024, 1, 1)), ..Default::default() }
}

fn search(filter: &str) -> pb::SearchLocalitiesRequest {
    pb::SearchLocalitiesRequest {
        query: "phuong".to_owned(),
        filter: filter.to_owned(),
        as_of: Some(date(2024, 1, 1)),
        ..Default::default()
    }
}

fn descendants(filter: &str) -> pb::ListDescendantsRequest {
    pb::ListDescendantsRequest {
        name: "localities/11".to_owned(),
        filter: filter.to_owned(),
        as_of: Some(date(2024, 1, 1)),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_filter_that_cannot_be_read_is_rejected() {
    let (app, mut admin) = seeded().await;

    for filter in ["population > 3", "tier = HAMLET", "kind = VILLAGE", "kind:ward", "tier", "tags:"] {
        rejects(&app, admin.list_localities(list(filter)), "filter").await;
        rejects(&app, admin.search_localities(search(filter)), "filter").await;
        rejects(&app, admin.list_descendants(descendants(filter)), "filter").await;
    }
}

#[tokio::test]
async fn an_order_by_that_cannot_be_read_is_rejected() {
    let (app, mut admin) = seeded().await;

    for order_by in ["population", "code sideways", "display_name desc code", "tier"] {
        let request = pb::ListLocalitiesRequest { order_by: order_by.to_owned(), ..list("") };
        rejects(&app, admin.list_localities(request), "order_by").await;
    }
}

#[tokio::test]
async fn a_negative_page_size_is_rejected() {
    let (app, mut admin) = seeded().await;

    rejects(&app, admin.list_localities(pb::ListLocalitiesRequest { page_size: -1, ..list("") }), "page_size").await;
    rejects(&app, admin.search_localities(pb::SearchLocalitiesRequest { page_size: -1, ..search("") }), "page_size")
        .await;
    rejects(&app, admin.list_descendants(pb::ListDescendantsRequest { page_size: -1, ..descendants("") }), "page_size")
        .await;
}

#[tokio::test]
async fn a_page_token_the_service_did_not_issue_is_rejected() {
    let (app, mut admin) = seeded().await;

    for token in ["garbage", "eyJmIjoiMSIsImsiOlsiMDEiXX0", "%%%"] {
        let list = pb::ListLocalitiesRequest { page_token: token.to_owned(), ..list("") };
        let search = pb::SearchLocalitiesRequest { page_token: token.to_owned(), ..search("") };
        let descendants = pb::ListDescendantsRequest { page_token: token.to_owned(), ..descendants("") };
        rejects(&app, admin.list_localities(list), "page_token").await;
        rejects(&app, admin.search_localities(search), "page_token").await;
        rejects(&app, admin.list_descendants(descendants), "page_token").await;
    }
}

#[tokio::test]
async fn a_page_token_reused_with_other_parameters_is_rejected() {
    // Arrange
    let (app, mut admin) = seeded().await;
    let list_token = admin
        .list_localities(pb::ListLocalitiesRequest { page_size: 1, ..list("") })
        .await
        .expect("list")
        .into_inner()
        .next_page_token;
    let search_token = admin
        .search_localities(pb::SearchLocalitiesRequest { page_size: 1, ..search("") })
        .await
        .expect("search")
        .into_inner()
        .next_page_token;
    let descendants_token = admin
        .list_descendants(pb::ListDescendantsRequest { page_size: 1, ..descendants("") })
        .await
        .expect("descendants")
        .into_inner()
        .next_page_token;
    assert!(!list_token.is_empty() && !search_token.is_empty() && !descendants_token.is_empty());

    // Act and assert
    let other_filter =
        pb::ListLocalitiesRequest { page_size: 1, page_token: list_token.clone(), ..list("tier = COMMUNE") };
    let other_order = pb::ListLocalitiesRequest {
        page_size: 1,
        page_token: list_token.clone(),
        order_by: "display_name".to_owned(),
        ..list("")
    };
    let other_date = pb::ListLocalitiesRequest {
        page_size: 1,
        page_token: list_token.clone(),
        as_of: Some(date(2024, 1, 2)),
        ..list("")
    };
    rejects(&app, admin.list_localities(other_filter), "page_token").await;
    rejects(&app, admin.list_localities(other_order), "page_token").await;
    rejects(&app, admin.list_localities(other_date), "page_token").await;
    let other_search =
        pb::SearchLocalitiesRequest { page_size: 1, page_token: search_token, ..search("tier = COMMUNE") };
    rejects(&app, admin.search_localities(other_search), "page_token").await;
    let other_root = pb::ListDescendantsRequest {
        page_size: 1,
        page_token: descendants_token,
        name: "localities/094".to_owned(),
        ..descendants("")
    };
    rejects(&app, admin.list_descendants(other_root), "page_token").await;
    let across_methods = pb::SearchLocalitiesRequest { page_size: 1, page_token: list_token, ..search("") };
    rejects(&app, admin.search_localities(across_methods), "page_token").await;
}

#[tokio::test]
async fn a_search_without_words_is_rejected() {
    let (app, mut admin) = seeded().await;
    let too_long = "a".repeat(201);

    for query in ["", "   ", "\t", too_long.as_str()] {
        let request = pb::SearchLocalitiesRequest { query: query.to_owned(), ..search("") };
        rejects(&app, admin.search_localities(request), "query").await;
    }
}

#[tokio::test]
async fn an_impossible_as_of_date_is_rejected() {
    let (app, mut admin) = seeded().await;
    let feb_30 = Some(date(2025, 2, 30));

    rejects(
        &app,
        admin.get_locality(pb::GetLocalityRequest { name: "localities/11".to_owned(), as_of: feb_30 }),
        "as_of",
    )
    .await;
    rejects(&app, admin.list_localities(pb::ListLocalitiesRequest { as_of: feb_30, ..list("") }), "as_of").await;
    rejects(&app, admin.search_localities(pb::SearchLocalitiesRequest { as_of: feb_30, ..search("") }), "as_of").await;
    rejects(&app, admin.list_descendants(pb::ListDescendantsRequest { as_of: feb_30, ..descendants("") }), "as_of")
        .await;
    rejects(
        &app,
        admin.list_ancestors(pb::ListAncestorsRequest {
            name: "localities/03334".to_owned(),
            as_of: Some(date(2025, 13, 1)),
        }),
        "as_of",
    )
    .await;
}

#[tokio::test]
async fn a_name_outside_the_locality_collection_is_rejected() {
    let (app, mut admin) = seeded().await;

    for name in ["people/1", "", "localities/", "localities/1", "localities/abc"] {
        let get = pb::GetLocalityRequest { name: name.to_owned(), as_of: None };
        let ancestors = pb::ListAncestorsRequest { name: name.to_owned(), as_of: None };
        let descendants = pb::ListDescendantsRequest { name: name.to_owned(), ..Default::default() };
        rejects(&app, admin.get_locality(get), "name").await;
        rejects(&app, admin.list_ancestors(ancestors), "name").await;
        rejects(&app, admin.list_descendants(descendants), "name").await;
    }
    for parent in ["people/1", "localities/1"] {
        let request = pb::ListLocalitiesRequest { parent: parent.to_owned(), ..list("") };
        rejects(&app, admin.list_localities(request), "parent").await;
    }
}

// Reorganize.

#[tokio::test]
async fn a_reorganisation_without_an_effective_date_is_rejected() {
    let (app, mut admin) = seeded().await;
    let mut missing = reorganization(date(2026, 1, 1));
    missing.effective_date = None;
    missing.amendments = vec![amend_name("localities/03334", "Xã Thanh Xương Mới")];
    let mut impossible = missing.clone();
    impossible.effective_date = Some(date(2026, 2, 29));

    rejects(&app, admin.reorganize(missing), "effective_date").await;
    rejects(&app, admin.reorganize(impossible), "effective_date").await;
}

#[tokio::test]
async fn a_reorganisation_that_changes_nothing_is_rejected() {
    // Arrange
    let (app, mut admin) = seeded().await;
    let before = app.snapshot().await;

    // Act
    let status = invalid(admin.reorganize(reorganization(date(2026, 1, 1))).await);

    // Assert
    assert!(!field_violations(&status).is_empty(), "an empty reorganisation names a violation: {status:?}");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_locality_named_twice_in_one_reorganisation_is_rejected() {
    let (app, mut admin) = seeded().await;
    let mut ended_and_amended = reorganization(date(2026, 1, 1));
    ended_and_amended.endings = vec!["localities/03334".to_owned()];
    ended_and_amended.amendments = vec![amend_name("localities/03334", "Xã Thanh Xương Mới")];
    let mut ended_twice = reorganization(date(2026, 1, 1));
    ended_twice.endings = vec!["localities/03124".to_owned(), "localities/03124".to_owned()];
    let mut created_and_amended = reorganization(date(2026, 1, 1));
    created_and_amended.creations = vec![pb::LocalityCreation {
        locality_id: "03334".to_owned(),
        tier: T::Commune.into(),
        display_name: "Xã Thanh Xương".to_owned(),
        kind: K::Commune.into(),
        parent: "localities/100".to_owned(),
        tags: Vec::new(),
    }];
    created_and_amended.amendments = vec![amend_name("localities/03334", "Xã Thanh Xương Mới")];

    rejects(&app, admin.reorganize(ended_and_amended), "amendments[0].locality").await;
    rejects(&app, admin.reorganize(ended_twice), "endings[1]").await;
    rejects(&app, admin.reorganize(created_and_amended), "amendments[0].locality").await;
}

#[tokio::test]
async fn an_amendment_that_changes_nothing_is_rejected() {
    let (app, mut admin) = seeded().await;
    let mut request = reorganization(date(2026, 1, 1));
    request.amendments = vec![pb::LocalityAmendment { locality: "localities/03334".to_owned(), ..Default::default() }];

    rejects(&app, admin.reorganize(request), "amendments[0].locality").await;
}

#[tokio::test]
async fn an_amendment_to_a_kind_of_another_tier_or_to_its_own_parent_is_rejected() {
    let (app, mut admin) = seeded().await;
    let mut other_tier = reorganization(date(2026, 1, 1));
    other_tier.amendments = vec![pb::LocalityAmendment {
        locality: "localities/03334".to_owned(),
        kind: K::RuralDistrict.into(),
        ..Default::default()
    }];
    let mut own_parent = reorganization(date(2026, 1, 1));
    own_parent.amendments = vec![pb::LocalityAmendment {
        locality: "localities/03334".to_owned(),
        parent: "localities/03334".to_owned(),
        ..Default::default()
    }];
    let mut lower_parent = reorganization(date(2026, 1, 1));
    lower_parent.amendments = vec![pb::LocalityAmendment {
        locality: "localities/100".to_owned(),
        parent: "localities/094".to_owned(),
        ..Default::default()
    }];

    rejects(&app, admin.reorganize(other_tier), "amendments[0].kind").await;
    rejects_with(&app, admin.reorganize(own_parent), "amendments[0].parent", "cycle").await;
    rejects(&app, admin.reorganize(lower_parent), "amendments[0].parent").await;
}

#[tokio::test]
async fn a_creation_in_a_reorganisation_obeys_the_rules_of_create() {
    let (app, mut admin) = seeded().await;
    let creation = |locality_id: &str, tier: T, display_name: &str, kind: K, parent: &str| {
        let mut request = reorganization(date(2026, 1, 1));
        request.creations = vec![pb::LocalityCreation {
            locality_id: locality_id.to_owned(),
            tier: tier.into(),
            display_name: display_name.to_owned(),
            kind: kind.into(),
            parent: parent.to_owned(),
            tags: Vec::new(),
        }];
        request
    };

    let cases = [
        (creation("0319", T::Commune, "Xã Mới", K::Commune, "localities/100"), "creations[0].locality_id"),
        (creation("099", T::Commune, "Xã Mới", K::Commune, "localities/100"), "creations[0].locality_id"),
        (creation("03199", T::Unspecified, "Xã Mới", K::Commune, "localities/100"), "creations[0].tier"),
        (creation("03199", T::Commune, "  ", K::Commune, "localities/100"), "creations[0].display_name"),
        (creation("03199", T::Commune, "Xã Mới", K::Unspecified, "localities/100"), "creations[0].kind"),
        (creation("03199", T::Commune, "Xã Mới", K::Town, "localities/100"), "creations[0].kind"),
        (creation("03199", T::Commune, "Xã Mới", K::Commune, ""), "creations[0].parent"),
        (creation("03199", T::Commune, "Xã Mới", K::Commune, "localities/03334"), "creations[0].parent"),
        (creation("03199", T::Commune, "Xã Mới", K::Commune, "people/1"), "creations[0].parent"),
    ];
    for (request, field) in cases {
        rejects(&app, admin.reorganize(request), field).await;
    }
    let mut bad_tags = creation("03199", T::Commune, "Xã Mới", K::Commune, "localities/100");
    bad_tags.creations[0].tags = vec!["Border Area".to_owned()];
    rejects(&app, admin.reorganize(bad_tags), "creations[0].tags[0]").await;
}

#[tokio::test]
async fn a_locality_cannot_succeed_itself() {
    let (app, mut admin) = seeded().await;
    let mut request = reorganization(date(2026, 1, 1));
    request.endings = vec!["localities/03124".to_owned()];
    request.links = vec![pb::SuccessionLink {
        predecessor: "localities/03124".to_owned(),
        successor: "localities/03124".to_owned(),
        kind: pb::SuccessionKind::Merge.into(),
    }];
    let mut no_kind = reorganization(date(2026, 1, 1));
    no_kind.endings = vec!["localities/03124".to_owned()];
    no_kind.links = vec![pb::SuccessionLink {
        predecessor: "localities/03124".to_owned(),
        successor: "localities/03139".to_owned(),
        kind: pb::SuccessionKind::Unspecified.into(),
    }];

    rejects(&app, admin.reorganize(request), "links[0].successor").await;
    rejects(&app, admin.reorganize(no_kind), "links[0].kind").await;
}

#[tokio::test]
async fn ending_a_locality_that_does_not_exist_is_rejected() {
    let (app, mut admin) = seeded().await;
    let mut missing = reorganization(date(2026, 1, 1));
    missing.endings = vec!["localities/03199".to_owned()];
    let mut malformed = reorganization(date(2026, 1, 1));
    malformed.endings = vec!["localities/3199".to_owned()];
    let mut missing_link = reorganization(date(2026, 1, 1));
    missing_link.endings = vec!["localities/03124".to_owned()];
    missing_link.links = vec![pb::SuccessionLink {
        predecessor: "localities/03124".to_owned(),
        successor: "localities/03199".to_owned(),
        kind: pb::SuccessionKind::Merge.into(),
    }];

    rejects_with(&app, admin.reorganize(missing), "endings[0]", "does not exist").await;
    rejects(&app, admin.reorganize(malformed), "endings[0]").await;
    rejects_with(&app, admin.reorganize(missing_link), "links[0].successor", "does not exist").await;
}

#[tokio::test]
async fn ending_a_district_whose_communes_stay_under_it_is_a_failed_precondition() {
    let (app, mut admin) = seeded().await;
    let mut request = reorganization(date(2025, 6, 1));
    request.endings = vec!["localities/094".to_owned()];

    fails_with(&app, admin.reorganize(request), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn a_reorganisation_with_one_bad_change_applies_none_of_its_changes() {
    // Arrange
    let (app, mut admin) = seeded().await;
    let mut valid = reorganization(date(2025, 6, 1));
    valid.endings = vec!["localities/03124".to_owned()];
    valid.creations = vec![pb::LocalityCreation {
        locality_id: "03199".to_owned(),
        tier: T::Commune.into(),
        display_name: "Xã Mới".to_owned(),
        kind: K::Commune.into(),
        parent: "localities/100".to_owned(),
        tags: Vec::new(),
    }];
    valid.amendments = vec![amend_name("localities/03334", "Xã Thanh Xương Mới")];
    valid.links = vec![pb::SuccessionLink {
        predecessor: "localities/03124".to_owned(),
        successor: "localities/03199".to_owned(),
        kind: pb::SuccessionKind::Merge.into(),
    }];
    // Ending 094 as well leaves Nam Thanh (03139) without its district.
    let mut orphaning = valid.clone();
    orphaning.endings.push("localities/094".to_owned());

    // Act and assert
    fails_with(&app, admin.reorganize(orphaning), Code::FailedPrecondition).await;
    let before = app.snapshot().await;
    admin.reorganize(valid).await.expect("the valid changes alone apply");
    assert_ne!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_reorganisation_whose_later_change_cannot_apply_leaves_its_earlier_changes_undone() {
    let (app, mut admin) = demo().await;
    // On 2025-01-01 Phường Noong Bua (03124) is in force but 03127's current version
    // starts on 2025-07-01: the ending applies, the amendment cannot.
    let mut request = reorganization(date(2025, 1, 1));
    request.endings = vec!["localities/03124".to_owned()];
    request.amendments = vec![amend_name("localities/03127", "Phường Him Lam Mới")];

    fails_with(&app, admin.reorganize(request), Code::FailedPrecondition).await;
}

#[tokio::test]
async fn a_legal_basis_longer_than_500_characters_is_rejected() {
    let (app, mut admin) = seeded().await;
    let mut request = reorganization(date(2026, 1, 1));
    request.amendments = vec![amend_name("localities/03334", "Xã Thanh Xương Mới")];
    request.legal_basis = "Nghị quyết ".repeat(50);

    rejects(&app, admin.reorganize(request), "legal_basis").await;
}

#[tokio::test]
async fn a_request_id_reused_for_a_different_request_is_rejected() {
    // Arrange
    let (app, mut admin) = seeded().await;
    let mut first = commune("03199");
    first.request_id = "3f0c9a7e-0d5b-4f7e-9d1a-6c2b8e4f1a20".to_owned();
    admin.create_locality(first.clone()).await.expect("the first create");
    let mut different = commune("03198");
    different.request_id = first.request_id.clone();
    let mut reorganize = reorganization(date(2026, 1, 1));
    reorganize.amendments = vec![amend_name("localities/03334", "Xã Thanh Xương Mới")];
    reorganize.request_id = "reorganisation-1".to_owned();
    admin.reorganize(reorganize.clone()).await.expect("the first reorganisation");
    let mut different_reorganize = reorganize.clone();
    different_reorganize.amendments = vec![amend_name("localities/03139", "Phường Nam Thanh Mới")];

    // Act and assert
    rejects(&app, admin.create_locality(different), "request_id").await;
    rejects(&app, admin.reorganize(different_reorganize), "request_id").await;
}

#[tokio::test]
async fn an_update_mask_mixing_a_wildcard_with_an_unknown_path_is_rejected() {
    let (app, mut admin) = seeded().await;
    let locality = pb::Locality {
        name: "localities/094".to_owned(),
        display_name: "Thành phố Mới".to_owned(),
        tags: vec!["border_area".to_owned()],
        versions: vec![version(date(2020, 1, 1), None, "Thành phố Điện Biên Phủ", K::ProvincialCity, "localities/11")],
        ..Default::default()
    };

    rejects(&app, admin.update_locality(update(locality, &["*", "display_name"])), "update_mask").await;
}

#[tokio::test]
async fn an_update_of_the_versions_to_none_is_rejected() {
    let (app, mut admin) = seeded().await;
    let request = update(pb::Locality { name: "localities/03124".to_owned(), ..Default::default() }, &["versions"]);

    rejects(&app, admin.update_locality(request), "locality.versions").await;
}

#[tokio::test]
async fn more_than_32_tags_are_rejected() {
    let (app, mut admin) = seeded().await;
    let tags: Vec<String> = (0..33).map(|i| format!("tag_{i}")).collect();
    let mut create = commune("03199");
    if let Some(locality) = create.locality.as_mut() {
        locality.tags = tags.clone();
    }
    let tags_update =
        update(pb::Locality { name: "localities/094".to_owned(), tags: tags.clone(), ..Default::default() }, &["tags"]);
    let mut most = commune("03199");
    if let Some(locality) = most.locality.as_mut() {
        locality.tags = tags[..32].to_vec();
    }

    rejects(&app, admin.create_locality(create), "locality.tags").await;
    rejects(&app, admin.update_locality(tags_update), "locality.tags").await;
    admin.create_locality(most).await.expect("32 tags are accepted");
}

#[tokio::test]
async fn an_enum_value_outside_the_proto_is_rejected() {
    let (app, mut admin) = seeded().await;
    let mut bad_tier = commune("03199");
    if let Some(locality) = bad_tier.locality.as_mut() {
        locality.tier = 42;
    }
    let mut bad_kind = commune("03199");
    if let Some(locality) = bad_kind.locality.as_mut() {
        locality.versions[0].kind = 42;
    }
    let mut bad_link = reorganization(date(2026, 1, 1));
    bad_link.endings = vec!["localities/03124".to_owned()];
    bad_link.links = vec![pb::SuccessionLink {
        predecessor: "localities/03124".to_owned(),
        successor: "localities/03139".to_owned(),
        kind: 42,
    }];

    rejects(&app, admin.create_locality(bad_tier), "locality.tier").await;
    rejects(&app, admin.create_locality(bad_kind), "locality.versions[0].kind").await;
    rejects(&app, admin.reorganize(bad_link), "links[0].kind").await;
}

#[tokio::test]
async fn a_partial_or_out_of_range_as_of_date_is_rejected() {
    let (app, mut admin) = seeded().await;

    for as_of in [date(2025, 0, 0), date(2025, 7, 0), date(0, 0, 0), date(10000, 1, 1), date(-1, 1, 1)] {
        let request = pb::GetLocalityRequest { name: "localities/11".to_owned(), as_of: Some(as_of) };
        rejects(&app, admin.get_locality(request), "as_of").await;
    }
}

#[tokio::test]
async fn a_reorganisation_referring_to_localities_that_do_not_exist_is_rejected() {
    let (app, mut admin) = seeded().await;
    let mut amended_parent = reorganization(date(2026, 1, 1));
    amended_parent.amendments = vec![pb::LocalityAmendment {
        locality: "localities/03334".to_owned(),
        parent: "localities/098".to_owned(),
        ..Default::default()
    }];
    let mut amended_missing = reorganization(date(2026, 1, 1));
    amended_missing.amendments = vec![amend_name("localities/03199", "Xã Mới")];
    let mut created_parent = reorganization(date(2026, 1, 1));
    created_parent.creations = vec![pb::LocalityCreation {
        locality_id: "03199".to_owned(),
        tier: T::Commune.into(),
        display_name: "Xã Mới".to_owned(),
        kind: K::Commune.into(),
        parent: "localities/098".to_owned(),
        tags: Vec::new(),
    }];
    let mut linked_predecessor = reorganization(date(2026, 1, 1));
    linked_predecessor.amendments = vec![amend_name("localities/03334", "Xã Thanh Xương Mới")];
    linked_predecessor.links = vec![pb::SuccessionLink {
        predecessor: "localities/03198".to_owned(),
        successor: "localities/03334".to_owned(),
        kind: pb::SuccessionKind::Merge.into(),
    }];

    rejects_with(&app, admin.reorganize(amended_parent), "amendments[0].parent", "does not exist").await;
    rejects_with(&app, admin.reorganize(amended_missing), "amendments[0].locality", "does not exist").await;
    rejects_with(&app, admin.reorganize(created_parent), "creations[0].parent", "does not exist").await;
    rejects_with(&app, admin.reorganize(linked_predecessor), "links[0].predecessor", "does not exist").await;
}

#[tokio::test]
async fn an_amendment_with_a_blank_display_name_is_rejected() {
    let (app, mut admin) = seeded().await;
    let mut request = reorganization(date(2026, 1, 1));
    request.amendments = vec![amend_name("localities/03334", "   ")];

    rejects(&app, admin.reorganize(request), "amendments[0].display_name").await;
}

#[tokio::test]
async fn a_link_repeated_in_one_reorganisation_is_rejected() {
    let (app, mut admin) = seeded().await;
    let link = |kind: pb::SuccessionKind| pb::SuccessionLink {
        predecessor: "localities/03124".to_owned(),
        successor: "localities/03139".to_owned(),
        kind: kind.into(),
    };
    let mut repeated = reorganization(date(2025, 6, 1));
    repeated.endings = vec!["localities/03124".to_owned()];
    repeated.links = vec![link(pb::SuccessionKind::Merge), link(pb::SuccessionKind::Merge)];
    let mut two_kinds = repeated.clone();
    two_kinds.links = vec![link(pb::SuccessionKind::Merge), link(pb::SuccessionKind::Split)];

    rejects(&app, admin.reorganize(repeated), "links[1]").await;
    rejects(&app, admin.reorganize(two_kinds), "links[1]").await;
}
