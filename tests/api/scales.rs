//! ScaleService: the seeded scales, equal ranks as equivalent levels, adding and
//! changing levels, validation, and who may change a scale (a national admin only).

use hrplan::{
    auth::Role,
    grpc::pb::{self},
    store::stmt,
};
use sea_orm::ConnectionTrait;
use tonic::Code;

use crate::clients::{Caller, ScaleClient};
use crate::helpers::{TestApp, fails_with, rejects, spawn_app, token};

fn level(rank: i32, display_name: &str, english_name: &str) -> pb::Level {
    pb::Level {
        name: String::new(),
        rank,
        display_name: display_name.to_owned(),
        english_name: english_name.to_owned(),
    }
}

fn create(parent: &str, level_id: &str, level: pb::Level) -> pb::CreateLevelRequest {
    pb::CreateLevelRequest { parent: parent.to_owned(), level_id: level_id.to_owned(), level: Some(level) }
}

/// An expert IT certificate, above the seeded `advanced` (30).
fn it_expert() -> pb::CreateLevelRequest {
    create("scales/it", "expert", level(40, "Chuyên gia công nghệ thông tin", "IT expert"))
}

fn renamed(name: &str, rank: i32) -> pb::UpdateLevelRequest {
    pb::UpdateLevelRequest {
        level: Some(pb::Level { name: name.to_owned(), ..level(rank, "Thạc sĩ (mới)", "Master's degree (new)") }),
    }
}

async fn list(client: &mut ScaleClient) -> Vec<pb::Scale> {
    client.list_scales(pb::ListScalesRequest {}).await.expect("list scales").into_inner().scales
}

async fn get(client: &mut ScaleClient, name: &str) -> pb::Scale {
    client
        .get_scale(pb::GetScaleRequest { name: name.to_owned() })
        .await
        .expect("get scale")
        .into_inner()
        .scale
        .expect("scale")
}

/// `(level code, rank)` of a scale's levels, in order.
fn ranks(scale: &pb::Scale) -> Vec<(String, i32)> {
    scale.levels.iter().map(|l| (l.name.rsplit('/').next().unwrap_or_default().to_owned(), l.rank)).collect()
}

async fn audited(app: &TestApp, resource: &str) -> Vec<String> {
    let rows = app
        .db
        .query_all_raw(stmt(
            app.db.get_database_backend(),
            "SELECT method FROM audit_log WHERE resource = ? ORDER BY id",
            vec![resource.into()],
        ))
        .await
        .expect("audit query");
    rows.iter().map(|r| r.try_get::<String>("", "method").expect("method")).collect()
}

// Reads.

#[tokio::test]
async fn the_seeded_scales_are_listed_by_name_with_their_levels_highest_first() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let scales = list(&mut app.as_admin().scales()).await;

    // Assert
    let names: Vec<&str> = scales.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "scales/foreign_language",
            "scales/it",
            "scales/political_theory",
            "scales/professional",
            "scales/state_management"
        ]
    );
    let professional = &scales[3];
    assert_eq!(professional.display_name, "Trình độ chuyên môn");
    assert_eq!(professional.english_name, "Professional qualification");
    let codes: Vec<String> = ranks(professional).into_iter().map(|(code, _)| code).collect();
    assert_eq!(
        codes,
        [
            "doctorate",
            "medical_specialist_2",
            "master",
            "medical_specialist_1",
            "university",
            "college",
            "intermediate",
            "elementary",
            "untrained"
        ]
    );
    let master = &professional.levels[2];
    assert_eq!(master.name, "scales/professional/levels/master");
    assert_eq!(master.display_name, "Thạc sĩ");
    assert_eq!(master.english_name, "Master's degree");
}

#[tokio::test]
async fn a_medical_specialist_i_ranks_with_a_master_so_the_two_are_equivalent() {
    let app = spawn_app().await;
    let scales = list(&mut app.as_admin().scales()).await;
    let professional = scales.iter().find(|s| s.name == "scales/professional").expect("professional");
    let rank_of = |code: &str| ranks(professional).into_iter().find(|(c, _)| c == code).map(|(_, r)| r);
    assert_eq!(rank_of("medical_specialist_1"), rank_of("master"));
    assert_eq!(rank_of("medical_specialist_1"), Some(60));
    assert_eq!(rank_of("medical_specialist_2"), rank_of("doctorate"));
    assert!(rank_of("master") > rank_of("university"));
}

#[tokio::test]
async fn a_scale_is_read_by_name_and_an_unknown_one_is_not_found() {
    let app = spawn_app().await;
    let mut client = app.as_admin().scales();
    let political = get(&mut client, "scales/political_theory").await;
    assert_eq!(
        ranks(&political),
        [
            ("advanced".to_owned(), 40),
            ("bachelor".to_owned(), 40),
            ("intermediate".to_owned(), 30),
            ("elementary".to_owned(), 20),
            ("none".to_owned(), 10)
        ]
    );
    fails_with(&app, client.get_scale(pb::GetScaleRequest { name: "scales/army".to_owned() }), Code::NotFound).await;
    for name in ["", "scales/", "scales/Professional", "levels/professional", "scales/professional/levels/master"] {
        rejects(&app, client.get_scale(pb::GetScaleRequest { name: name.to_owned() }), "name").await;
    }
}

// Writes.

#[tokio::test]
async fn a_created_level_is_listed_in_its_place_and_audited() {
    // Arrange
    let app = spawn_app().await;
    let mut client = app.as_admin().scales();

    // Act
    let created = client.create_level(it_expert()).await.expect("create level").into_inner().level.expect("level");

    // Assert
    assert_eq!(created.name, "scales/it/levels/expert");
    assert_eq!(created.rank, 40);
    assert_eq!(created.display_name, "Chuyên gia công nghệ thông tin");
    let scales = list(&mut client).await;
    let it = scales.iter().find(|s| s.name == "scales/it").expect("it");
    assert_eq!(
        ranks(it),
        [("expert".to_owned(), 40), ("advanced".to_owned(), 30), ("basic".to_owned(), 20), ("none".to_owned(), 10)]
    );
    assert_eq!(it.levels[0], created);
    assert_eq!(audited(&app, "scales/it/levels/expert").await, ["CreateLevel"]);
}

#[tokio::test]
async fn a_level_ranked_like_another_is_listed_beside_it_by_code() {
    let app = spawn_app().await;
    let mut client = app.as_admin().scales();
    let nurse =
        create("scales/professional", "nursing_specialist", level(60, "Điều dưỡng chuyên khoa", "Nursing specialist"));
    client.create_level(nurse).await.expect("create level");
    let professional = get(&mut client, "scales/professional").await;
    let codes: Vec<String> = ranks(&professional).into_iter().filter(|(_, r)| *r == 60).map(|(c, _)| c).collect();
    assert_eq!(codes, ["master", "medical_specialist_1", "nursing_specialist"]);
}

#[tokio::test]
async fn labels_are_stored_in_nfc() {
    let app = spawn_app().await;
    let mut client = app.as_admin().scales();
    let decomposed = create("scales/it", "expert", level(40, "  Chuye\u{0302}n gia ", "Expert"));
    let created = client.create_level(decomposed).await.expect("create level").into_inner().level.expect("level");
    assert_eq!(created.display_name, "Chuyên gia");
}

#[tokio::test]
async fn creating_a_level_that_exists_or_in_an_unknown_scale_fails() {
    let app = spawn_app().await;
    let mut client = app.as_admin().scales();
    let master = create("scales/professional", "master", level(60, "Thạc sĩ", "Master's degree"));
    fails_with(&app, client.create_level(master), Code::AlreadyExists).await;
    let unknown = create("scales/army", "general", level(10, "Tướng", "General"));
    fails_with(&app, client.create_level(unknown), Code::NotFound).await;
}

#[tokio::test]
async fn a_level_is_updated_with_its_rank_and_labels_replaced_and_audited() {
    // Arrange
    let app = spawn_app().await;
    let mut client = app.as_admin().scales();

    // Act
    let updated = client
        .update_level(renamed("scales/professional/levels/master", 65))
        .await
        .expect("update level")
        .into_inner()
        .level
        .expect("level");

    // Assert
    assert_eq!(updated.name, "scales/professional/levels/master");
    assert_eq!(updated.rank, 65);
    assert_eq!(updated.display_name, "Thạc sĩ (mới)");
    assert_eq!(updated.english_name, "Master's degree (new)");
    let professional = get(&mut client, "scales/professional").await;
    assert_eq!(professional.levels[2], updated);
    assert_eq!(ranks(&professional)[3], ("medical_specialist_1".to_owned(), 60));
    assert_eq!(audited(&app, "scales/professional/levels/master").await, ["UpdateLevel"]);
}

#[tokio::test]
async fn updating_an_unknown_level_is_not_found() {
    let app = spawn_app().await;
    let mut client = app.as_admin().scales();
    fails_with(&app, client.update_level(renamed("scales/professional/levels/bachelor", 50)), Code::NotFound).await;
    fails_with(&app, client.update_level(renamed("scales/army/levels/master", 50)), Code::NotFound).await;
}

// Validation.

#[tokio::test]
async fn each_bad_field_of_a_new_level_is_named() {
    let app = spawn_app().await;
    let mut client = app.as_admin().scales();
    let with = |change: &dyn Fn(&mut pb::CreateLevelRequest)| {
        let mut request = it_expert();
        change(&mut request);
        request
    };

    for level_id in ["", "Expert", "1st", "expert-level", "chuyên_gia", &"a".repeat(65)] {
        rejects(&app, client.create_level(with(&|r| r.level_id = level_id.to_owned())), "level_id").await;
    }
    for parent in ["", "it", "scales/IT", "scales/it/levels/basic"] {
        rejects(&app, client.create_level(with(&|r| r.parent = parent.to_owned())), "parent").await;
    }
    let blank = with(&|r| r.level = Some(level(40, "  ", "IT expert")));
    rejects(&app, client.create_level(blank), "level.display_name").await;
    let long = with(&|r| r.level = Some(level(40, &"ư".repeat(201), "IT expert")));
    rejects(&app, client.create_level(long), "level.display_name").await;
    let no_english = with(&|r| r.level = Some(level(40, "Chuyên gia", "")));
    rejects(&app, client.create_level(no_english), "level.english_name").await;
    let long_english = with(&|r| r.level = Some(level(40, "Chuyên gia", &"e".repeat(201))));
    rejects(&app, client.create_level(long_english), "level.english_name").await;
    rejects(&app, client.create_level(with(&|r| r.level = None)), "level").await;
    // The longest accepted labels and any rank, even negative, are fine.
    let edge = with(&|r| r.level = Some(level(-5, &"ư".repeat(200), &"e".repeat(200))));
    client.create_level(edge).await.expect("labels of 200 characters");
}

#[tokio::test]
async fn each_bad_field_of_a_level_update_is_named() {
    let app = spawn_app().await;
    let mut client = app.as_admin().scales();
    for name in ["", "scales/professional", "scales/professional/master", "scales/professional/levels/Master"] {
        rejects(&app, client.update_level(renamed(name, 60)), "level.name").await;
    }
    let mut blank = renamed("scales/professional/levels/master", 60);
    if let Some(level) = blank.level.as_mut() {
        level.display_name.clear();
        level.english_name = " ".to_owned();
    }
    let violations = rejects(&app, client.update_level(blank), "level.display_name").await;
    assert!(violations.iter().any(|(f, _)| f == "level.english_name"), "{violations:?}");
    rejects(&app, client.update_level(pb::UpdateLevelRequest { level: None }), "level").await;
}

// Authorisation.

#[tokio::test]
async fn only_a_national_admin_may_change_a_scale() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let callers = [
        ("a national editor", token(&["*"], &[Role::Editor])),
        ("a national personal-data reader", token(&["*"], &[Role::PersonalDataReader])),
        ("an admin scoped to Lạng Sơn", token(&["20"], &[Role::Admin])),
        ("an editor scoped to Lạng Sơn", token(&["20"], &[Role::Editor])),
        ("a caller with no role", token(&["*"], &[])),
    ];

    for (who, token) in callers {
        let mut client = app.as_(Caller::with_token(Some(token))).scales();

        // Act and assert
        let status = fails_with(&app, client.create_level(it_expert()), Code::PermissionDenied).await;
        assert_eq!(status.code(), Code::PermissionDenied, "CreateLevel by {who}");
        let status = fails_with(
            &app,
            client.update_level(renamed("scales/professional/levels/master", 60)),
            Code::PermissionDenied,
        )
        .await;
        assert_eq!(status.code(), Code::PermissionDenied, "UpdateLevel by {who}");
    }
}

#[tokio::test]
async fn any_role_anywhere_reads_the_scales_but_a_caller_without_a_role_or_token_does_not() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut reader = app.as_(Caller::of(&["20"], &[Role::AggregateReader])).scales();
    assert_eq!(list(&mut reader).await.len(), 5);
    assert_eq!(get(&mut reader, "scales/it").await.levels.len(), 3);

    let mut roleless = app.as_(Caller::of(&["*"], &[])).scales();
    fails_with(&app, roleless.list_scales(pb::ListScalesRequest {}), Code::PermissionDenied).await;
    let mut anonymous = app.as_(Caller::with_token(None)).scales();
    fails_with(&app, anonymous.list_scales(pb::ListScalesRequest {}), Code::Unauthenticated).await;
    let request = pb::GetScaleRequest { name: "scales/it".to_owned() };
    fails_with(&app, anonymous.get_scale(request), Code::Unauthenticated).await;
    fails_with(&app, anonymous.create_level(it_expert()), Code::Unauthenticated).await;
}
