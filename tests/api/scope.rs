//! Locality-scoped authorisation (issue acceptance point 4): a caller scoped to one
//! province is refused every LocalityService RPC aimed at another province, whether or
//! not the target exists, and its lists and searches never hold another province's
//! localities. The table of out-of-scope calls is checked against the service
//! descriptor, so that a new RPC without a scope test fails here.

use std::collections::BTreeSet;

use hrplan::{
    auth::{Authenticator, KeyConfig, Role},
    grpc::pb::{self, LocalityKind as K, LocalityTier as T},
};
use prost::Message as _;
use prost_types::FieldMask;
use tonic::{Code, Status, metadata::MetadataMap};

use crate::clients::Caller;
use crate::clients::LocalityClient;
use crate::helpers::{SECRET, TestApp, code_of, create_request, date, spawn_app, token, version};

/// The province the scoped caller may act on: Tỉnh Lạng Sơn.
const OWN: &str = "20";
/// The province it may not: Tỉnh Điện Biên.
const OTHER: &str = "11";

/// Every code in the demo subtree of `root`, following the same edges as the service's
/// scope: the parent of every version (including those of the 2025 reorganisation) and
/// every whole succession (merge, rename) from successor to predecessor.
fn demo_subtree(root: &str) -> BTreeSet<String> {
    let demo: serde_json::Value =
        serde_json::from_str(include_str!("../../data/demo-localities.json")).expect("the demo file is JSON");
    let text = |value: &serde_json::Value| value.as_str().map(str::to_owned);
    let mut edges: Vec<(String, String)> = Vec::new();
    let mut units: Vec<&serde_json::Value> = demo["localities"].as_array().expect("localities").iter().collect();
    for reorg in demo["reorganizations"].as_array().expect("reorganizations") {
        units.extend(reorg["creations"].as_array().expect("creations"));
        units.extend(reorg["amendments"].as_array().expect("amendments"));
        for link in reorg["links"].as_array().expect("links") {
            if matches!(link["kind"].as_str(), Some("merge" | "rename")) {
                edges.push((
                    text(&link["successor"]).expect("successor"),
                    text(&link["predecessor"]).expect("predecessor"),
                ));
            }
        }
    }
    for unit in units {
        if let Some(parent) = text(&unit["parent"]) {
            edges.push((parent, text(&unit["code"]).expect("code")));
        }
    }
    let mut subtree = BTreeSet::from([root.to_owned()]);
    loop {
        let more: Vec<String> = edges
            .iter()
            .filter(|(up, down)| subtree.contains(up) && !subtree.contains(down))
            .map(|(_, d)| d.clone())
            .collect();
        if more.is_empty() {
            return subtree;
        }
        subtree.extend(more);
    }
}

/// The codes of `localities` that lie outside `subtree`.
fn outside(localities: &[pb::Locality], subtree: &BTreeSet<String>) -> Vec<String> {
    localities.iter().filter(|l| !subtree.contains(&l.code)).map(|l| l.code.clone()).collect()
}

/// The codes of `localities` that lie inside `subtree`.
fn inside(localities: &[pb::Locality], subtree: &BTreeSet<String>) -> Vec<String> {
    localities.iter().filter(|l| subtree.contains(&l.code)).map(|l| l.code.clone()).collect()
}

/// The methods of `hrplan.v1.LocalityService`, read from the descriptor set the server
/// serves by reflection.
fn locality_service_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(hrplan::grpc::FILE_DESCRIPTOR_SET).expect("a descriptor set");
    let services: Vec<&prost_types::ServiceDescriptorProto> = set
        .file
        .iter()
        .filter(|file| file.package() == "hrplan.v1")
        .flat_map(|file| file.service.iter())
        .filter(|service| service.name() == "LocalityService")
        .collect();
    assert_eq!(services.len(), 1, "hrplan.v1.LocalityService is declared once");
    services[0].method.iter().map(|m| m.name().to_owned()).collect()
}

/// One LocalityService call, named by its RPC.
#[derive(Debug, Clone)]
enum Call {
    Create(pb::CreateLocalityRequest),
    Get(pb::GetLocalityRequest),
    List(pb::ListLocalitiesRequest),
    Update(pb::UpdateLocalityRequest),
    Delete(pb::DeleteLocalityRequest),
    Ancestors(pb::ListAncestorsRequest),
    Descendants(pb::ListDescendantsRequest),
    Search(pb::SearchLocalitiesRequest),
    Reorganize(pb::ReorganizeRequest),
}

impl Call {
    /// The RPC's name in the proto.
    fn method(&self) -> &'static str {
        match self {
            Self::Create(_) => "CreateLocality",
            Self::Get(_) => "GetLocality",
            Self::List(_) => "ListLocalities",
            Self::Update(_) => "UpdateLocality",
            Self::Delete(_) => "DeleteLocality",
            Self::Ancestors(_) => "ListAncestors",
            Self::Descendants(_) => "ListDescendants",
            Self::Search(_) => "SearchLocalities",
            Self::Reorganize(_) => "Reorganize",
        }
    }

    /// Whether the call names a locality (and so must be refused out of scope) rather
    /// than filtering what it returns (SearchLocalities).
    fn names_a_locality(&self) -> bool {
        !matches!(self, Self::Search(_))
    }

    /// Runs the call; the localities of its answer.
    async fn run(&self, client: &mut LocalityClient) -> Result<Vec<pb::Locality>, Status> {
        match self.clone() {
            Self::Create(r) => client.create_locality(r).await.map(|a| a.into_inner().locality.into_iter().collect()),
            Self::Get(r) => client.get_locality(r).await.map(|a| a.into_inner().locality.into_iter().collect()),
            Self::List(r) => client.list_localities(r).await.map(|a| a.into_inner().localities),
            Self::Update(r) => client.update_locality(r).await.map(|a| a.into_inner().locality.into_iter().collect()),
            Self::Delete(r) => client.delete_locality(r).await.map(|_| Vec::new()),
            Self::Ancestors(r) => client.list_ancestors(r).await.map(|a| a.into_inner().ancestors),
            Self::Descendants(r) => client.list_descendants(r).await.map(|a| a.into_inner().localities),
            Self::Search(r) => client.search_localities(r).await.map(|a| a.into_inner().localities),
            Self::Reorganize(r) => client.reorganize(r).await.map(|a| a.into_inner().localities),
        }
    }
}

fn get(name: &str) -> Call {
    Call::Get(pb::GetLocalityRequest { name: name.to_owned(), as_of: None })
}

fn tags_update(name: &str, tags: &[&str]) -> pb::UpdateLocalityRequest {
    pb::UpdateLocalityRequest {
        locality: Some(pb::Locality {
            name: name.to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask { paths: vec!["tags".to_owned()] }),
    }
}

/// Calls aimed at Điện Biên (11) and its subtree in the demo tree, at least one for
/// every RPC. Each would be accepted (or refused for another reason than scope) from a
/// national admin.
fn calls_aimed_at_dien_bien() -> Vec<Call> {
    vec![
        Call::Create(create_request("099", T::District, "Huyện Thử Nghiệm", K::RuralDistrict, "localities/11")),
        Call::Create(pb::CreateLocalityRequest {
            locality_id: "03199".to_owned(),
            locality: Some(pb::Locality {
                tier: T::Commune.into(),
                versions: vec![version(
                    date(2020, 1, 1),
                    Some(date(2025, 7, 1)),
                    "Xã Thử Nghiệm",
                    K::Commune,
                    "localities/094",
                )],
                ..Default::default()
            }),
            ..Default::default()
        }),
        get("localities/11"),
        get("localities/03334"),
        Call::List(pb::ListLocalitiesRequest {
            parent: "localities/11".to_owned(),
            as_of: Some(date(2025, 6, 30)),
            ..Default::default()
        }),
        Call::Update(tags_update("localities/100", &["poor_district"])),
        Call::Delete(pb::DeleteLocalityRequest { name: "localities/03124".to_owned(), etag: String::new() }),
        Call::Ancestors(pb::ListAncestorsRequest {
            name: "localities/03334".to_owned(),
            as_of: Some(date(2025, 6, 30)),
        }),
        Call::Descendants(pb::ListDescendantsRequest {
            name: "localities/11".to_owned(),
            as_of: Some(date(2025, 6, 30)),
            ..Default::default()
        }),
        Call::Search(pb::SearchLocalitiesRequest {
            query: "dien bien".to_owned(),
            as_of: Some(date(2025, 6, 30)),
            page_size: 1000,
            ..Default::default()
        }),
        Call::Reorganize(pb::ReorganizeRequest {
            effective_date: Some(date(2026, 1, 1)),
            endings: vec!["localities/03124".to_owned()],
            ..Default::default()
        }),
        Call::Reorganize(pb::ReorganizeRequest {
            effective_date: Some(date(2026, 1, 1)),
            amendments: vec![pb::LocalityAmendment {
                locality: "localities/03127".to_owned(),
                display_name: "Phường Điện Biên Phủ Mới".to_owned(),
                ..Default::default()
            }],
            ..Default::default()
        }),
    ]
}

async fn snapshot_and_run(
    app: &TestApp,
    client: &mut LocalityClient,
    call: &Call,
) -> (Vec<String>, Result<Vec<pb::Locality>, Status>) {
    let before = app.snapshot().await;
    let result = call.run(client).await;
    (before, result)
}

#[tokio::test]
async fn every_locality_rpc_aimed_at_another_province_is_refused_to_a_caller_scoped_to_one_province() {
    // Arrange
    let covered: BTreeSet<String> = calls_aimed_at_dien_bien().iter().map(|c| c.method().to_owned()).collect();
    assert_eq!(
        covered,
        locality_service_methods(),
        "every LocalityService RPC needs an out-of-scope call in calls_aimed_at_dien_bien (and only those)"
    );
    let app = spawn_app().await;
    app.load_demo().await;
    let mut scoped = app.as_(Caller::editor_of(&[OWN])).localities();
    let own = demo_subtree(OWN);
    let other = demo_subtree(OTHER);

    for call in calls_aimed_at_dien_bien() {
        // Act
        let (before, result) = snapshot_and_run(&app, &mut scoped, &call).await;

        // Assert
        if call.names_a_locality() {
            match result {
                Ok(answer) => panic!("{} out of scope succeeded: {answer:?}", call.method()),
                Err(status) => {
                    assert_eq!(status.code(), Code::PermissionDenied, "{}: {status:?}", call.method());
                }
            }
        } else {
            let answer = result.unwrap_or_else(|s| panic!("{} failed: {s:?}", call.method()));
            assert_eq!(outside(&answer, &own), Vec::<String>::new(), "{} returned other provinces", call.method());
            assert_eq!(inside(&answer, &other), Vec::<String>::new(), "{} returned Điện Biên", call.method());
        }
        assert_eq!(app.snapshot().await, before, "{} out of scope changed the database", call.method());
    }
}

#[tokio::test]
async fn a_national_admin_is_not_refused_the_calls_a_scoped_caller_is_refused() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let mut admin = app.as_admin().localities();
    let other = demo_subtree(OTHER);

    for call in calls_aimed_at_dien_bien() {
        // Act
        let result = call.run(&mut admin).await;

        // Assert
        match result {
            Err(status) => assert_ne!(status.code(), Code::PermissionDenied, "{}: {status:?}", call.method()),
            Ok(answer) if !call.names_a_locality() => {
                assert!(
                    !inside(&answer, &other).is_empty(),
                    "{} found nothing of Điện Biên: {answer:?}",
                    call.method()
                );
            }
            Ok(_) => {}
        }
    }
}

#[tokio::test]
async fn a_scoped_caller_is_refused_localities_that_do_not_exist_rather_than_told_they_are_missing() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let mut scoped = app.as_(Caller::editor_of(&[OWN])).localities();
    let mut admin = app.as_admin().localities();
    let missing = ["localities/99", "localities/999", "localities/99999"];

    for name in missing {
        let before = app.snapshot().await;
        let calls = [
            get(name),
            Call::Update(tags_update(name, &["border_area"])),
            Call::Delete(pb::DeleteLocalityRequest { name: name.to_owned(), etag: String::new() }),
            Call::Ancestors(pb::ListAncestorsRequest { name: name.to_owned(), as_of: None }),
        ];
        for call in calls {
            // Act
            let scoped_code = code_of(call.run(&mut scoped).await);
            let admin_code = code_of(call.run(&mut admin).await);

            // Assert
            assert_eq!(scoped_code, Code::PermissionDenied, "{} {name} by a scoped caller", call.method());
            assert_eq!(admin_code, Code::NotFound, "{} {name} by a national admin", call.method());
        }
        let lists = [
            Call::List(pb::ListLocalitiesRequest { parent: name.to_owned(), ..Default::default() }),
            Call::Descendants(pb::ListDescendantsRequest { name: name.to_owned(), ..Default::default() }),
            Call::Reorganize(pb::ReorganizeRequest {
                effective_date: Some(date(2026, 1, 1)),
                endings: vec![name.to_owned()],
                ..Default::default()
            }),
        ];
        for call in lists {
            assert_eq!(code_of(call.run(&mut scoped).await), Code::PermissionDenied, "{} {name}", call.method());
        }
        assert_eq!(app.snapshot().await, before);
    }
}

#[tokio::test]
async fn creating_a_code_that_exists_in_another_province_is_refused_rather_than_reported_as_existing() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let request = pb::CreateLocalityRequest {
        locality_id: "03124".to_owned(),
        locality: Some(pb::Locality {
            tier: T::Commune.into(),
            versions: vec![version(
                date(2020, 1, 1),
                Some(date(2025, 7, 1)),
                "Xã Trùng Mã",
                K::Commune,
                "localities/187",
            )],
            ..Default::default()
        }),
        ..Default::default()
    };
    let before = app.snapshot().await;

    // Act
    let scoped = code_of(app.as_(Caller::editor_of(&[OWN])).localities().create_locality(request.clone()).await);
    let national = code_of(app.as_admin().localities().create_locality(request).await);

    // Assert
    assert_eq!(scoped, Code::PermissionDenied);
    assert_eq!(national, Code::AlreadyExists);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_scoped_caller_is_told_when_a_code_of_its_own_province_exists() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let request = pb::CreateLocalityRequest {
        locality_id: "06463".to_owned(),
        locality: Some(pb::Locality {
            tier: T::Commune.into(),
            versions: vec![version(
                date(2020, 1, 1),
                Some(date(2025, 7, 1)),
                "Xã Trùng Mã",
                K::Commune,
                "localities/187",
            )],
            ..Default::default()
        }),
        ..Default::default()
    };
    let before = app.snapshot().await;

    // Act
    let result = app.as_(Caller::editor_of(&[OWN])).localities().create_locality(request).await;

    // Assert
    assert_eq!(code_of(result), Code::AlreadyExists);
    assert_eq!(app.snapshot().await, before);
}

/// The lists and searches of the scope acceptance point, for `as_of`.
fn lists_and_searches(as_of: pb::Date) -> Vec<Call> {
    let search = |query: &str| {
        Call::Search(pb::SearchLocalitiesRequest {
            query: query.to_owned(),
            as_of: Some(as_of),
            page_size: 1000,
            ..Default::default()
        })
    };
    vec![
        Call::List(pb::ListLocalitiesRequest { as_of: Some(as_of), page_size: 1000, ..Default::default() }),
        search("phuong"),
        search("xa"),
        Call::Descendants(pb::ListDescendantsRequest {
            name: format!("localities/{OWN}"),
            as_of: Some(as_of),
            page_size: 1000,
            ..Default::default()
        }),
    ]
}

#[tokio::test]
async fn a_scoped_callers_lists_and_searches_hold_only_localities_of_its_province() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let mut scoped = app.as_(Caller::editor_of(&[OWN])).localities();
    let own = demo_subtree(OWN);

    for as_of in [date(2025, 6, 30), date(2025, 7, 1)] {
        for call in lists_and_searches(as_of) {
            // Act
            let answer =
                call.run(&mut scoped).await.unwrap_or_else(|s| panic!("{} on {as_of:?}: {s:?}", call.method()));

            // Assert
            assert!(!answer.is_empty(), "{} on {as_of:?} found nothing (the positive control)", call.method());
            assert_eq!(outside(&answer, &own), Vec::<String>::new(), "{} on {as_of:?} left Lạng Sơn", call.method());
        }
    }
}

#[tokio::test]
async fn a_national_admin_gets_other_provinces_from_the_same_lists_and_searches() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let mut admin = app.as_admin().localities();
    let other = demo_subtree(OTHER);

    for as_of in [date(2025, 6, 30), date(2025, 7, 1)] {
        let calls = [
            Call::List(pb::ListLocalitiesRequest { as_of: Some(as_of), page_size: 1000, ..Default::default() }),
            Call::Search(pb::SearchLocalitiesRequest {
                query: "phuong".to_owned(),
                as_of: Some(as_of),
                page_size: 1000,
                ..Default::default()
            }),
            Call::Descendants(pb::ListDescendantsRequest {
                name: format!("localities/{OTHER}"),
                as_of: Some(as_of),
                page_size: 1000,
                ..Default::default()
            }),
        ];
        for call in calls {
            // Act
            let answer = call.run(&mut admin).await.unwrap_or_else(|s| panic!("{} on {as_of:?}: {s:?}", call.method()));

            // Assert
            assert!(!inside(&answer, &other).is_empty(), "{} on {as_of:?} has no locality of Điện Biên", call.method());
        }
    }
}

#[tokio::test]
async fn an_aggregate_reader_may_read_its_province_but_not_change_it() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let reader_token = token(&[OWN], &[Role::AggregateReader]);
    let mut metadata = MetadataMap::new();
    metadata.insert("authorization", format!("Bearer {reader_token}").parse().expect("ascii"));
    let authenticator = Authenticator::new(&KeyConfig::Hs256(SECRET.to_vec()), None, None).expect("authenticator");
    let principal = authenticator.authenticate(&metadata).expect("the token authenticates");
    assert_eq!(principal.roles, BTreeSet::from([Role::AggregateReader]));
    let mut reader = app.as_(Caller::with_token(Some(reader_token))).localities();
    let before = app.snapshot().await;

    // Act
    let read = reader.get_locality(pb::GetLocalityRequest { name: "localities/187".to_owned(), as_of: None }).await;
    let other = reader.get_locality(pb::GetLocalityRequest { name: "localities/11".to_owned(), as_of: None }).await;
    let create =
        reader.create_locality(create_request("06999", T::Commune, "Xã Thử Nghiệm", K::Commune, "localities/20")).await;
    let update = reader.update_locality(tags_update("localities/187", &["poor_district"])).await;
    let delete = reader
        .delete_locality(pb::DeleteLocalityRequest { name: "localities/06187".to_owned(), etag: String::new() })
        .await;
    let reorganize = reader
        .reorganize(pb::ReorganizeRequest {
            effective_date: Some(date(2026, 1, 1)),
            amendments: vec![pb::LocalityAmendment {
                locality: "localities/06187".to_owned(),
                display_name: "Phường Kỳ Lừa Mới".to_owned(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;

    // Assert
    assert_eq!(read.expect("a reader reads its province").into_inner().locality.expect("locality").code, "187");
    assert_eq!(code_of(other), Code::PermissionDenied);
    assert_eq!(code_of(create), Code::PermissionDenied);
    assert_eq!(code_of(update), Code::PermissionDenied);
    assert_eq!(code_of(delete), Code::PermissionDenied);
    assert_eq!(code_of(reorganize), Code::PermissionDenied);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn creating_a_province_needs_a_national_scope() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let mut scoped = app.as_(Caller::editor_of(&[OWN])).localities();
    let province = create_request("96", T::Province, "Tỉnh Thử Nghiệm", K::Province, "");
    let before = app.snapshot().await;

    // Act
    let create = scoped.create_locality(province.clone()).await;
    let reorganize = scoped
        .reorganize(pb::ReorganizeRequest {
            effective_date: Some(date(2026, 1, 1)),
            creations: vec![pb::LocalityCreation {
                locality_id: "96".to_owned(),
                tier: T::Province.into(),
                display_name: "Tỉnh Thử Nghiệm".to_owned(),
                kind: K::Province.into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;

    // Assert
    assert_eq!(code_of(create), Code::PermissionDenied);
    assert_eq!(code_of(reorganize), Code::PermissionDenied);
    assert_eq!(app.snapshot().await, before);
    app.as_admin().localities().create_locality(province).await.expect("a national admin creates the province");
}

#[tokio::test]
async fn a_scoped_editor_cannot_move_its_localities_into_another_province() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let mut scoped = app.as_(Caller::editor_of(&[OWN])).localities();
    let history = pb::UpdateLocalityRequest {
        locality: Some(pb::Locality {
            name: "localities/06463".to_owned(),
            versions: vec![
                version(date(2020, 1, 1), Some(date(2025, 7, 1)), "Thị trấn Đồng Mỏ", K::Township, "localities/187"),
                version(date(2025, 7, 1), None, "Xã Chi Lăng", K::Commune, "localities/11"),
            ],
            ..Default::default()
        }),
        update_mask: Some(FieldMask { paths: vec!["versions".to_owned()] }),
    };
    let amendment = pb::ReorganizeRequest {
        effective_date: Some(date(2026, 1, 1)),
        amendments: vec![pb::LocalityAmendment {
            locality: "localities/06463".to_owned(),
            parent: "localities/11".to_owned(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let link = pb::ReorganizeRequest {
        effective_date: Some(date(2026, 1, 1)),
        amendments: vec![pb::LocalityAmendment {
            locality: "localities/06463".to_owned(),
            display_name: "Xã Chi Lăng Mới".to_owned(),
            ..Default::default()
        }],
        links: vec![pb::SuccessionLink {
            predecessor: "localities/03334".to_owned(),
            successor: "localities/06463".to_owned(),
            kind: pb::SuccessionKind::Merge.into(),
        }],
        ..Default::default()
    };
    let before = app.snapshot().await;

    // Act
    let update = scoped.update_locality(history).await;
    let reorganize = scoped.reorganize(amendment).await;
    let linked = scoped.reorganize(link).await;

    // Assert
    assert_eq!(code_of(update), Code::PermissionDenied);
    assert_eq!(code_of(reorganize), Code::PermissionDenied);
    assert_eq!(code_of(linked), Code::PermissionDenied);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_scoped_editor_may_change_its_own_province() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let mut scoped = app.as_(Caller::editor_of(&[OWN])).localities();
    let commune = pb::CreateLocalityRequest {
        locality_id: "06999".to_owned(),
        locality: Some(pb::Locality {
            tier: T::Commune.into(),
            versions: vec![version(date(2026, 1, 1), None, "Xã Thử Nghiệm", K::Commune, "localities/20")],
            ..Default::default()
        }),
        ..Default::default()
    };

    // Act
    let updated = scoped.update_locality(tags_update("localities/187", &["poor_district"])).await;
    let created = scoped.create_locality(commune).await;

    // Assert
    assert_eq!(updated.expect("update in scope").into_inner().locality.expect("locality").tags, vec!["poor_district"]);
    assert_eq!(created.expect("create in scope").into_inner().locality.expect("locality").code, "06999");
}

#[tokio::test]
async fn a_scoped_editor_cannot_take_up_a_code_of_another_province_in_a_reorganisation() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let mut scoped = app.as_(Caller::editor_of(&[OWN])).localities();
    let creation = |code: &str| pb::ReorganizeRequest {
        effective_date: Some(date(2026, 1, 1)),
        creations: vec![pb::LocalityCreation {
            locality_id: code.to_owned(),
            tier: T::Commune.into(),
            display_name: "Xã Mượn Mã".to_owned(),
            kind: K::Commune.into(),
            parent: format!("localities/{OWN}"),
            tags: Vec::new(),
        }],
        ..Default::default()
    };
    let before = app.snapshot().await;

    // Act
    // Phường Noong Bua (03124) of Điện Biên ended on 2025-07-01; 03334 is in force.
    let ended = scoped.reorganize(creation("03124")).await;
    let in_force = scoped.reorganize(creation("03334")).await;

    // Assert
    let codes = (ended.as_ref().err().map(Status::code), in_force.as_ref().err().map(Status::code));
    assert_eq!(
        codes,
        (Some(Code::PermissionDenied), Some(Code::PermissionDenied)),
        "taking up 03124 (ended in Điện Biên): {ended:?}; taking up 03334 (in force in Điện Biên): {in_force:?}"
    );
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn ancestors_outside_a_callers_scope_are_left_out() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let mut district = app.as_(Caller::editor_of(&["187"])).localities();
    let request = pb::ListAncestorsRequest { name: "localities/06463".to_owned(), as_of: Some(date(2024, 1, 1)) };

    // Act
    let ancestors = district.list_ancestors(request.clone()).await.expect("ancestors").into_inner().ancestors;
    let national = app.as_admin().localities().list_ancestors(request).await.expect("ancestors").into_inner().ancestors;
    let province =
        district.get_locality(pb::GetLocalityRequest { name: "localities/20".to_owned(), as_of: None }).await;

    // Assert
    assert_eq!(ancestors.iter().map(|l| l.code.as_str()).collect::<Vec<_>>(), ["187"]);
    assert_eq!(national.iter().map(|l| l.code.as_str()).collect::<Vec<_>>(), ["187", "20"]);
    assert_eq!(code_of(province), Code::PermissionDenied);
}
