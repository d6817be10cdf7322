//! StandardService: standards as versioned national rules, and person compliance
//! (issue 3, acceptance points 1 and 2), with its scope checks.
//!
//! People, units, placements and qualifications are inserted with SQL (see
//! [`Fixtures`]), so that these tests depend on the schema only, not on PersonService.

use chrono::{NaiveDate, Utc};
use hrplan::{
    auth::Role,
    grpc::pb::{self, ComplianceStatus, LocalityTier as T, PersonCategory as C},
    store::stmt,
};
use prost_types::FieldMask;
use sea_orm::{ConnectionTrait, Value};
use tonic::Code;

use crate::clients::{Caller, StandardClient};
use crate::helpers::{TestApp, code_of, date, field_violations, invalid, spawn_app};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a calendar date")
}

/// Xã Thanh Xương, a commune of Tỉnh Điện Biên (11) from 2020 on.
const THANH_XUONG: &str = "03334";
/// Thị trấn Đồng Mỏ, a township of Tỉnh Lạng Sơn (20) from 2020 on.
const DONG_MO: &str = "06463";
/// Phường Noong Bua (11), a ward merged away on 2025-07-01.
const NOONG_BUA: &str = "03124";

/// Inserts the records a compliance answer reads, straight into the database.
struct Fixtures<'a> {
    app: &'a TestApp,
}

impl Fixtures<'_> {
    async fn insert(&self, sql: &str, values: Vec<Value>) -> i64 {
        let db = &self.app.db;
        let row = db
            .query_one_raw(stmt(db.get_database_backend(), &format!("{sql} RETURNING id"), values))
            .await
            .expect("fixture insert")
            .expect("an id");
        row.try_get("", "id").expect("id")
    }

    /// A unit (a people's committee) in `locality`, from 2020.
    async fn unit(&self, locality: &str) -> i64 {
        let now = Utc::now();
        self.insert(
            "INSERT INTO units (locality_code, name, name_folded, sector, kind, valid_from, valid_until, \
             create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                locality.into(),
                "UBND".into(),
                "ubnd".into(),
                "state".into(),
                "people_committee".into(),
                day(2020, 1, 1).into(),
                Option::<NaiveDate>::None.into(),
                now.into(),
                now.into(),
            ],
        )
        .await
    }

    /// A person of `category` employed over `[from, until)`.
    async fn person(&self, category: &str, from: NaiveDate, until: Option<NaiveDate>) -> i64 {
        let now = Utc::now();
        self.insert(
            "INSERT INTO people (full_name, name_folded, birth_date, gender, ethnicity, category, employed_from, \
             employed_until, end_reason, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                "Nguyễn Thị Hoa".into(),
                "nguyen thi hoa".into(),
                day(1985, 3, 2).into(),
                "female".into(),
                "Kinh".into(),
                category.into(),
                from.into(),
                until.into(),
                until.map(|_| "retired".to_owned()).into(),
                now.into(),
                now.into(),
            ],
        )
        .await
    }

    /// A placement of `person` in `unit` over `[from, until)`.
    async fn placement(
        &self,
        person: i64,
        unit: i64,
        post: &str,
        leader: bool,
        from: NaiveDate,
        until: Option<NaiveDate>,
    ) -> i64 {
        self.insert(
            "INSERT INTO placements (person_id, unit_id, post_title, post_title_folded, is_leader, is_key_post, \
             valid_from, valid_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                person.into(),
                unit.into(),
                post.into(),
                hrplan::domain::text::fold(post).into(),
                leader.into(),
                leader.into(),
                from.into(),
                until.into(),
            ],
        )
        .await
    }

    /// A qualification of `person`: `scale`/`level` awarded on `awarded_on`.
    async fn qualification(&self, person: i64, scale: &str, level: &str, awarded_on: NaiveDate) -> i64 {
        self.insert(
            "INSERT INTO qualifications (person_id, scale_code, level_code, field_of_study, institution, awarded_on) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![person.into(), scale.into(), level.into(), "Luật".into(), "".into(), awarded_on.into()],
        )
        .await
    }

    /// A commune civil servant placed in `locality` from 2018 (employed from 2015),
    /// with a college degree: `(person, unit, placement)`.
    async fn commune_civil_servant(&self, locality: &str) -> (i64, i64, i64) {
        let unit = self.unit(locality).await;
        let person = self.person("civil_servant", day(2015, 9, 1), None).await;
        let placement = self.placement(person, unit, "Công chức Tư pháp - Hộ tịch", false, day(2018, 1, 1), None).await;
        self.qualification(person, "professional", "college", day(2014, 6, 1)).await;
        (person, unit, placement)
    }
}

/// A standard on the wire.
fn standard(
    name: &str,
    tier: T,
    category: C,
    from: pb::Date,
    until: Option<pb::Date>,
    minimums: &[&str],
) -> pb::Standard {
    pb::Standard {
        display_name: name.to_owned(),
        tier: tier.into(),
        category: category.into(),
        effective_from: Some(from),
        effective_until: until,
        minimum_levels: minimums.iter().map(|m| (*m).to_owned()).collect(),
        legal_basis: "Nghị định 33/2023/NĐ-CP".to_owned(),
        ..Default::default()
    }
}

async fn create(client: &mut StandardClient, standard: pb::Standard) -> pb::Standard {
    client
        .create_standard(pb::CreateStandardRequest { standard: Some(standard), request_id: String::new() })
        .await
        .expect("create standard")
        .into_inner()
        .standard
        .expect("standard")
}

/// Standard A (college, until the decree) and B (university, from the decree) for
/// commune civil servants: `(a, b)`.
async fn decree_standards(client: &mut StandardClient) -> (pb::Standard, pb::Standard) {
    let a = create(
        client,
        standard(
            "Công chức cấp xã (trước Nghị định 33)",
            T::Commune,
            C::CivilServant,
            date(2020, 1, 1),
            Some(date(2023, 8, 1)),
            &["scales/professional/levels/college"],
        ),
    )
    .await;
    let b = create(
        client,
        standard(
            "Công chức cấp xã (Nghị định 33/2023/NĐ-CP)",
            T::Commune,
            C::CivilServant,
            date(2023, 8, 1),
            None,
            &["scales/professional/levels/university"],
        ),
    )
    .await;
    (a, b)
}

async fn compliance(
    client: &mut StandardClient,
    person: i64,
    as_of: pb::Date,
) -> Result<pb::GetPersonComplianceResponse, tonic::Status> {
    client
        .get_person_compliance(pb::GetPersonComplianceRequest {
            person: format!("people/{person}"),
            as_of: Some(as_of),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The rows of the standards tables, and of every table the helpers snapshot.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let mut rows = app.snapshot().await;
    let backend = app.db.get_database_backend();
    let queries = [
        "SELECT CAST(id AS TEXT) || '|' || name || '|' || COALESCE(tier, '') || '|' || COALESCE(category, '') || '|' \
         || COALESCE(leadership, '') || '|' || COALESCE(post_title, '') || '|' || CAST(effective_from AS TEXT) || '|' \
         || COALESCE(CAST(effective_until AS TEXT), '') || '|' || legal_basis || '|' || CAST(revision AS TEXT) AS r \
         FROM standards",
        "SELECT CAST(standard_id AS TEXT) || '|' || scale_code || '|' || level_code AS r FROM standard_minimums",
    ];
    for sql in queries {
        for row in app.db.query_all_raw(stmt(backend, sql, vec![])).await.expect("snapshot query") {
            rows.push(row.try_get::<String>("", "r").expect("text row"));
        }
    }
    rows.sort();
    rows
}

#[tokio::test]
async fn a_college_graduate_meets_the_commune_standard_until_the_decree_date_and_not_from_it() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut admin = app.as_admin().standards();
    let (a, b) = decree_standards(&mut admin).await;
    let (person, unit, placement) = Fixtures { app: &app }.commune_civil_servant(THANH_XUONG).await;

    let before = compliance(&mut admin, person, date(2023, 7, 31)).await.expect("compliance before the decree");
    let after = compliance(&mut admin, person, date(2023, 8, 1)).await.expect("compliance from the decree");

    assert_eq!(before.status(), ComplianceStatus::Compliant);
    assert_eq!(before.standard, a.name);
    assert!(before.unmet.is_empty());
    assert_eq!(after.status(), ComplianceStatus::NotCompliant);
    assert_eq!(after.standard, b.name);
    assert_eq!(after.person, format!("people/{person}"));
    assert_eq!(after.as_of, Some(date(2023, 8, 1)));
    assert_eq!(
        after.unmet,
        [pb::UnmetCriterion {
            scale: "scales/professional".into(),
            required_level: "scales/professional/levels/university".into(),
            held_level: "scales/professional/levels/college".into(),
        }]
    );
    assert_eq!(after.held_levels, ["scales/professional/levels/college"]);
    let shown = after.placement.expect("the placement in force");
    assert_eq!(shown.name, format!("people/{person}/placements/{placement}"));
    assert_eq!(shown.unit, format!("units/{unit}"));
    assert_eq!(shown.post_title, "Công chức Tư pháp - Hộ tịch");
    assert!(!shown.leader);
    assert!(!shown.key_post);
    assert_eq!(shown.valid_from, Some(date(2018, 1, 1)));
    assert_eq!(shown.valid_until, None);
    assert_eq!(shown.locality, format!("localities/{THANH_XUONG}"));
    assert_eq!(shown.tier(), T::Commune);
    assert!(!shown.etag.is_empty());
}

#[tokio::test]
async fn a_medical_specialist_i_counts_as_master_or_higher() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut admin = app.as_admin().standards();
    let master = create(
        &mut admin,
        standard(
            "Lãnh đạo cấp xã",
            T::Unspecified,
            C::Unspecified,
            date(2020, 1, 1),
            None,
            &["scales/professional/levels/master"],
        ),
    )
    .await;
    let fixtures = Fixtures { app: &app };
    let unit = fixtures.unit(THANH_XUONG).await;
    let doctor = fixtures.person("public_employee", day(2010, 1, 1), None).await;
    fixtures.placement(doctor, unit, "Trưởng trạm y tế", true, day(2020, 1, 1), None).await;
    fixtures.qualification(doctor, "professional", "university", day(2009, 6, 1)).await;
    fixtures.qualification(doctor, "professional", "medical_specialist_1", day(2016, 6, 1)).await;
    let graduate = fixtures.person("public_employee", day(2010, 1, 1), None).await;
    fixtures.placement(graduate, unit, "Y sĩ", false, day(2020, 1, 1), None).await;
    fixtures.qualification(graduate, "professional", "university", day(2009, 6, 1)).await;

    let specialist = compliance(&mut admin, doctor, date(2024, 1, 1)).await.expect("compliance of the specialist");
    let other = compliance(&mut admin, graduate, date(2024, 1, 1)).await.expect("compliance of the graduate");

    assert_eq!(specialist.status(), ComplianceStatus::Compliant);
    assert_eq!(specialist.standard, master.name);
    assert_eq!(specialist.held_levels, ["scales/professional/levels/medical_specialist_1"]);
    assert_eq!(other.status(), ComplianceStatus::NotCompliant);
    assert_eq!(other.unmet[0].required_level, "scales/professional/levels/master");
    assert_eq!(other.unmet[0].held_level, "scales/professional/levels/university");
}

#[tokio::test]
async fn of_levels_tied_at_the_top_the_one_awarded_last_is_held_and_later_awards_do_not_count_yet() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut admin = app.as_admin().standards();
    let fixtures = Fixtures { app: &app };
    let (person, _, _) = fixtures.commune_civil_servant(THANH_XUONG).await;
    fixtures.qualification(person, "professional", "master", day(2016, 6, 1)).await;
    fixtures.qualification(person, "professional", "medical_specialist_1", day(2019, 6, 1)).await;
    fixtures.qualification(person, "professional", "doctorate", day(2024, 6, 1)).await;
    fixtures.qualification(person, "political_theory", "intermediate", day(2017, 6, 1)).await;

    let answer = compliance(&mut admin, person, date(2024, 5, 31)).await.expect("compliance");

    assert_eq!(
        answer.held_levels,
        ["scales/political_theory/levels/intermediate", "scales/professional/levels/medical_specialist_1"]
    );
    assert_eq!(answer.status(), ComplianceStatus::NoStandard);
    assert_eq!(answer.standard, "");
}

#[tokio::test]
async fn a_post_title_standard_beats_a_general_one_and_every_unmet_minimum_is_named() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut admin = app.as_admin().standards();
    decree_standards(&mut admin).await;
    let mut chair = standard(
        "Chủ tịch UBND xã",
        T::Unspecified,
        C::Unspecified,
        date(2020, 1, 1),
        None,
        &["scales/professional/levels/university", "scales/political_theory/levels/intermediate"],
    );
    chair.post_title = "Chủ tịch UBND xã".into();
    let chair = create(&mut admin, chair).await;
    let fixtures = Fixtures { app: &app };
    let unit = fixtures.unit(THANH_XUONG).await;
    let person = fixtures.person("civil_servant", day(2015, 1, 1), None).await;
    fixtures.placement(person, unit, "CHỦ TỊCH  UBND Xã", true, day(2021, 6, 1), None).await;
    fixtures.qualification(person, "professional", "university", day(2012, 6, 1)).await;

    let answer = compliance(&mut admin, person, date(2024, 1, 1)).await.expect("compliance");

    assert_eq!(answer.standard, chair.name);
    assert_eq!(answer.status(), ComplianceStatus::NotCompliant);
    assert_eq!(
        answer.unmet,
        [pb::UnmetCriterion {
            scale: "scales/political_theory".into(),
            required_level: "scales/political_theory/levels/intermediate".into(),
            held_level: String::new(),
        }]
    );
    assert!(answer.placement.expect("placement").leader);
}

#[tokio::test]
async fn a_person_not_employed_or_without_a_placement_on_the_date_is_not_placed() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut admin = app.as_admin().standards();
    decree_standards(&mut admin).await;
    let fixtures = Fixtures { app: &app };
    let unit = fixtures.unit(THANH_XUONG).await;
    let retired = fixtures.person("civil_servant", day(2015, 1, 1), Some(day(2022, 1, 1))).await;
    fixtures.placement(retired, unit, "Công chức Địa chính", false, day(2015, 1, 1), None).await;
    fixtures.qualification(retired, "professional", "university", day(2012, 6, 1)).await;

    let placed = compliance(&mut admin, retired, date(2021, 12, 31)).await.expect("while employed");
    let gone = compliance(&mut admin, retired, date(2022, 1, 1)).await.expect("after retiring");
    let early = compliance(&mut admin, retired, date(2014, 12, 31)).await.expect("before employment");

    assert_eq!(placed.status(), ComplianceStatus::Compliant);
    for answer in [gone, early] {
        assert_eq!(answer.status(), ComplianceStatus::NotPlaced);
        assert_eq!(answer.placement, None);
        assert_eq!(answer.standard, "");
        assert!(answer.unmet.is_empty());
    }

    let between = fixtures.person("civil_servant", day(2015, 1, 1), None).await;
    fixtures.placement(between, unit, "Công chức Địa chính", false, day(2015, 1, 1), Some(day(2020, 1, 1))).await;
    fixtures.placement(between, unit, "Công chức Tư pháp", false, day(2021, 1, 1), None).await;
    let gap = compliance(&mut admin, between, date(2020, 6, 1)).await.expect("between placements");
    assert_eq!(gap.status(), ComplianceStatus::NotPlaced);
}

#[tokio::test]
async fn a_placement_no_standard_applies_to_has_no_standard() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut admin = app.as_admin().standards();
    decree_standards(&mut admin).await;
    let fixtures = Fixtures { app: &app };
    let unit = fixtures.unit(THANH_XUONG).await;
    let teacher = fixtures.person("public_employee", day(2015, 1, 1), None).await;
    fixtures.placement(teacher, unit, "Giáo viên", false, day(2015, 1, 1), None).await;
    // A civil servant in a ward that was merged away on 2025-07-01: from then on the
    // ward has no tier, so no commune standard applies to the placement.
    let ward = fixtures.unit(NOONG_BUA).await;
    let clerk = fixtures.person("civil_servant", day(2015, 1, 1), None).await;
    fixtures.placement(clerk, ward, "Công chức Văn phòng", false, day(2020, 1, 1), None).await;
    fixtures.qualification(clerk, "professional", "university", day(2012, 6, 1)).await;

    let answer = compliance(&mut admin, teacher, date(2024, 1, 1)).await.expect("compliance");
    let in_ward = compliance(&mut admin, clerk, date(2025, 6, 30)).await.expect("while the ward exists");
    let ended = compliance(&mut admin, clerk, date(2025, 7, 1)).await.expect("after the merger");

    assert_eq!(answer.status(), ComplianceStatus::NoStandard);
    assert_eq!(answer.standard, "");
    assert!(answer.placement.is_some());
    assert_eq!(in_ward.status(), ComplianceStatus::Compliant);
    assert_eq!(ended.status(), ComplianceStatus::NoStandard);
    assert_eq!(ended.placement.expect("placement").locality, format!("localities/{NOONG_BUA}"));
}

#[tokio::test]
async fn compliance_of_a_person_placed_outside_the_callers_province_is_permission_denied() {
    let app = spawn_app().await;
    app.load_demo().await;
    let fixtures = Fixtures { app: &app };
    let (in_11, _, _) = fixtures.commune_civil_servant(THANH_XUONG).await;
    let (in_20, _, _) = fixtures.commune_civil_servant(DONG_MO).await;
    let mut lang_son = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).standards();

    let refused = compliance(&mut lang_son, in_11, date(2024, 1, 1)).await;
    let allowed = compliance(&mut lang_son, in_20, date(2024, 1, 1)).await;

    assert_eq!(code_of(refused), Code::PermissionDenied);
    assert_eq!(allowed.expect("own province").status(), ComplianceStatus::NoStandard);
}

#[tokio::test]
async fn compliance_needs_the_personal_data_reader_role() {
    let app = spawn_app().await;
    app.load_demo().await;
    let (person, _, _) = Fixtures { app: &app }.commune_civil_servant(THANH_XUONG).await;
    let mut aggregates = app.as_(Caller::of(&["*"], &[Role::AggregateReader, Role::Editor])).standards();
    assert_eq!(code_of(compliance(&mut aggregates, person, date(2024, 1, 1)).await), Code::PermissionDenied);
}

#[tokio::test]
async fn an_unknown_person_is_refused_to_scoped_callers_and_not_found_by_national_ones() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut scoped = app.as_(Caller::of(&["11"], &[Role::PersonalDataReader])).standards();
    let mut national = app.as_(Caller::of(&["*"], &[Role::PersonalDataReader])).standards();
    assert_eq!(code_of(compliance(&mut scoped, 4242, date(2024, 1, 1)).await), Code::PermissionDenied);
    assert_eq!(code_of(compliance(&mut national, 4242, date(2024, 1, 1)).await), Code::NotFound);
    let bad = national
        .get_person_compliance(pb::GetPersonComplianceRequest { person: "persons/1".into(), as_of: None })
        .await;
    assert_eq!(field_violations(&invalid(bad))[0].0, "person");
}

#[tokio::test]
async fn a_standard_can_be_created_read_listed_updated_and_deleted() {
    let app = spawn_app().await;
    let mut admin = app.as_admin().standards();
    let (a, b) = decree_standards(&mut admin).await;
    assert_eq!(a.tier(), T::Commune);
    assert_eq!(a.category(), C::CivilServant);
    assert_eq!(a.minimum_levels, ["scales/professional/levels/college"]);
    assert_eq!(a.legal_basis, "Nghị định 33/2023/NĐ-CP");
    assert!(a.create_time.is_some() && !a.etag.is_empty());

    let mut reader = app.as_(Caller::of(&["20"], &[Role::AggregateReader])).standards();
    let got =
        reader.get_standard(pb::GetStandardRequest { name: b.name.clone() }).await.expect("get").into_inner().standard;
    assert_eq!(got.as_ref(), Some(&b));
    let first = reader
        .list_standards(pb::ListStandardsRequest { page_size: 1, ..Default::default() })
        .await
        .expect("first page")
        .into_inner();
    assert_eq!(first.standards, std::slice::from_ref(&a));
    let second = reader
        .list_standards(pb::ListStandardsRequest {
            page_size: 1,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
        .await
        .expect("second page")
        .into_inner();
    assert_eq!(second.standards, std::slice::from_ref(&b));
    assert_eq!(second.next_page_token, "");
    let on_decree = reader
        .list_standards(pb::ListStandardsRequest { in_force_on: Some(date(2023, 8, 1)), ..Default::default() })
        .await
        .expect("in force")
        .into_inner();
    assert_eq!(on_decree.standards, std::slice::from_ref(&b));
    let replayed = reader
        .list_standards(pb::ListStandardsRequest {
            in_force_on: Some(date(2023, 8, 1)),
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await;
    assert_eq!(field_violations(&invalid(replayed))[0].0, "page_token");

    let change = pb::Standard {
        name: b.name.clone(),
        etag: b.etag.clone(),
        leadership: pb::Leadership::NonLeaders.into(),
        minimum_levels: vec![
            "scales/professional/levels/university".into(),
            "scales/political_theory/levels/elementary".into(),
        ],
        ..Default::default()
    };
    let updated = admin
        .update_standard(pb::UpdateStandardRequest {
            standard: Some(change),
            update_mask: Some(FieldMask { paths: vec!["leadership".into(), "minimum_levels".into()] }),
        })
        .await
        .expect("update")
        .into_inner()
        .standard
        .expect("standard");
    assert_eq!(updated.leadership(), pb::Leadership::NonLeaders);
    assert_eq!(
        updated.minimum_levels,
        ["scales/political_theory/levels/elementary", "scales/professional/levels/university"]
    );
    assert_eq!(updated.display_name, b.display_name, "fields outside the mask are kept");
    assert_ne!(updated.etag, b.etag);

    admin
        .delete_standard(pb::DeleteStandardRequest { name: updated.name.clone(), etag: updated.etag.clone() })
        .await
        .expect("delete");
    let gone = reader.get_standard(pb::GetStandardRequest { name: updated.name }).await;
    assert_eq!(code_of(gone), Code::NotFound);
    let audited = app
        .db
        .query_all_raw(stmt(
            app.db.get_database_backend(),
            "SELECT method FROM audit_log WHERE resource = ? ORDER BY id",
            vec![b.name.clone().into()],
        ))
        .await
        .expect("audit log");
    let methods: Vec<String> = audited.iter().map(|r| r.try_get("", "method").expect("method")).collect();
    assert_eq!(methods, ["CreateStandard", "UpdateStandard", "DeleteStandard"]);
}

#[tokio::test]
async fn a_retried_create_with_the_same_request_id_returns_the_first_result() {
    let app = spawn_app().await;
    let mut admin = app.as_admin().standards();
    let request = pb::CreateStandardRequest {
        standard: Some(standard(
            "Công chức cấp xã",
            T::Commune,
            C::CivilServant,
            date(2023, 8, 1),
            None,
            &["scales/professional/levels/university"],
        )),
        request_id: "5b0c8c5e-2f59-4b8e-9d43-2a1f3c0e7a10".into(),
    };
    let first = admin.create_standard(request.clone()).await.expect("first").into_inner();
    let before = snapshot(&app).await;

    let second = admin.create_standard(request.clone()).await.expect("retry").into_inner();
    assert_eq!(first, second);
    assert_eq!(snapshot(&app).await, before, "a retry writes nothing");

    let mut other = request;
    other.standard.as_mut().expect("standard").display_name = "Công chức cấp huyện".into();
    let reused = admin.create_standard(other).await;
    assert_eq!(field_violations(&invalid(reused))[0].0, "request_id");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn invalid_standards_are_rejected_with_their_fields_and_change_nothing() {
    let app = spawn_app().await;
    let mut admin = app.as_admin().standards();
    decree_standards(&mut admin).await;
    let valid = || {
        standard(
            "Công chức cấp xã",
            T::Commune,
            C::CivilServant,
            date(2023, 8, 1),
            None,
            &["scales/professional/levels/university"],
        )
    };
    type Edit = fn(&mut pb::Standard);
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("no display name", |s| s.display_name = "  ".into(), "standard.display_name"),
        ("overlong display name", |s| s.display_name = "x".repeat(301), "standard.display_name"),
        ("no start", |s| s.effective_from = None, "standard.effective_from"),
        ("impossible start", |s| s.effective_from = Some(date(2023, 2, 30)), "standard.effective_from"),
        ("end before start", |s| s.effective_until = Some(date(2023, 7, 31)), "standard.effective_until"),
        ("end on start", |s| s.effective_until = Some(date(2023, 8, 1)), "standard.effective_until"),
        ("no minimum", |s| s.minimum_levels.clear(), "standard.minimum_levels"),
        (
            "malformed level",
            |s| s.minimum_levels = vec!["professional/university".into()],
            "standard.minimum_levels[0]",
        ),
        ("unknown level", |s| s.minimum_levels.push("scales/it/levels/expert".into()), "standard.minimum_levels[1]"),
        (
            "two levels of one scale",
            |s| s.minimum_levels.push("scales/professional/levels/master".into()),
            "standard.minimum_levels[1]",
        ),
        ("unknown tier", |s| s.tier = 99, "standard.tier"),
        ("unknown category", |s| s.category = 99, "standard.category"),
        ("unknown leadership", |s| s.leadership = 99, "standard.leadership"),
        ("overlong post title", |s| s.post_title = "x".repeat(201), "standard.post_title"),
        ("overlong legal basis", |s| s.legal_basis = "x".repeat(501), "standard.legal_basis"),
    ];
    let before = snapshot(&app).await;
    for (case, edit, field) in cases {
        let mut bad = valid();
        edit(&mut bad);
        let result =
            admin.create_standard(pb::CreateStandardRequest { standard: Some(bad), request_id: String::new() }).await;
        let fields: Vec<String> = field_violations(&invalid(result)).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{case}");
        assert_eq!(snapshot(&app).await, before, "{case}");
    }
    let missing = admin.create_standard(pb::CreateStandardRequest::default()).await;
    assert_eq!(field_violations(&invalid(missing))[0].0, "standard");
    let mut many = valid();
    many.display_name.clear();
    many.effective_from = None;
    many.minimum_levels.clear();
    let result =
        admin.create_standard(pb::CreateStandardRequest { standard: Some(many), request_id: String::new() }).await;
    let fields: Vec<String> = field_violations(&invalid(result)).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["standard.display_name", "standard.effective_from", "standard.minimum_levels"]);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn invalid_updates_are_rejected_with_their_fields_and_change_nothing() {
    let app = spawn_app().await;
    let mut admin = app.as_admin().standards();
    let (a, _) = decree_standards(&mut admin).await;
    let before = snapshot(&app).await;
    let cases: Vec<(&str, pb::Standard, Vec<&str>, &str)> = vec![
        ("no mask", a.clone(), vec![], "update_mask"),
        ("unknown path", a.clone(), vec!["etag"], "update_mask"),
        ("bad name", pb::Standard { name: "standards/x".into(), ..a.clone() }, vec!["display_name"], "standard.name"),
        (
            "a start after the stored end",
            pb::Standard { effective_from: Some(date(2024, 1, 1)), ..a.clone() },
            vec!["effective_from"],
            "standard.effective_from",
        ),
        (
            "an end before the stored start",
            pb::Standard { effective_until: Some(date(2019, 1, 1)), ..a.clone() },
            vec!["effective_until"],
            "standard.effective_until",
        ),
        (
            "an unknown level",
            pb::Standard { minimum_levels: vec!["scales/professional/levels/bachelor".into()], ..a.clone() },
            vec!["minimum_levels"],
            "standard.minimum_levels[0]",
        ),
        (
            "no minimum",
            pb::Standard { minimum_levels: vec![], ..a.clone() },
            vec!["minimum_levels"],
            "standard.minimum_levels",
        ),
        (
            "a blank display name",
            pb::Standard { display_name: " ".into(), ..a.clone() },
            vec!["*"],
            "standard.display_name",
        ),
    ];
    for (case, standard, paths, field) in cases {
        let mask = (!paths.is_empty()).then(|| FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() });
        let result =
            admin.update_standard(pb::UpdateStandardRequest { standard: Some(standard), update_mask: mask }).await;
        let fields: Vec<String> = field_violations(&invalid(result)).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{case}");
        assert_eq!(snapshot(&app).await, before, "{case}");
    }
    let unknown = admin
        .update_standard(pb::UpdateStandardRequest {
            standard: Some(pb::Standard { name: "standards/999".into(), ..a.clone() }),
            update_mask: Some(FieldMask { paths: vec!["display_name".into()] }),
        })
        .await;
    assert_eq!(code_of(unknown), Code::NotFound);
}

#[tokio::test]
async fn a_stale_etag_is_aborted_and_changes_nothing() {
    let app = spawn_app().await;
    let mut admin = app.as_admin().standards();
    let (a, _) = decree_standards(&mut admin).await;
    let rename = |name: &str| pb::UpdateStandardRequest {
        standard: Some(pb::Standard { display_name: name.into(), ..a.clone() }),
        update_mask: Some(FieldMask { paths: vec!["display_name".into()] }),
    };
    admin.update_standard(rename("Công chức cấp xã (2020)")).await.expect("first update with the etag read");
    let before = snapshot(&app).await;

    let stale = admin.update_standard(rename("Công chức cấp xã (cũ)")).await;
    let stale_delete =
        admin.delete_standard(pb::DeleteStandardRequest { name: a.name.clone(), etag: a.etag.clone() }).await;

    assert_eq!(code_of(stale), Code::Aborted);
    assert_eq!(code_of(stale_delete), Code::Aborted);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn only_national_admins_change_standards() {
    let app = spawn_app().await;
    app.load_demo().await;
    let mut admin = app.as_admin().standards();
    let (a, _) = decree_standards(&mut admin).await;
    let before = snapshot(&app).await;
    let callers = [
        ("national editor", app.as_(Caller::of(&["*"], &[Role::Editor, Role::PersonalDataReader])).standards()),
        ("provincial admin", app.as_(Caller::of(&["11"], &[Role::Admin])).standards()),
        ("aggregate reader", app.as_(Caller::of(&["*"], &[Role::AggregateReader])).standards()),
    ];
    for (who, mut caller) in callers {
        let created = caller
            .create_standard(pb::CreateStandardRequest {
                standard: Some(standard(
                    "Công chức cấp xã",
                    T::Commune,
                    C::CivilServant,
                    date(2023, 8, 1),
                    None,
                    &["scales/professional/levels/university"],
                )),
                request_id: String::new(),
            })
            .await;
        let updated = caller
            .update_standard(pb::UpdateStandardRequest {
                standard: Some(pb::Standard { display_name: "Đổi tên".into(), ..a.clone() }),
                update_mask: Some(FieldMask { paths: vec!["display_name".into()] }),
            })
            .await;
        let deleted =
            caller.delete_standard(pb::DeleteStandardRequest { name: a.name.clone(), etag: String::new() }).await;
        assert_eq!(code_of(created), Code::PermissionDenied, "{who}");
        assert_eq!(code_of(updated), Code::PermissionDenied, "{who}");
        assert_eq!(code_of(deleted), Code::PermissionDenied, "{who}");
        assert_eq!(snapshot(&app).await, before, "{who}");
        let read = caller.get_standard(pb::GetStandardRequest { name: a.name.clone() }).await;
        assert_eq!(read.expect("any role reads standards").into_inner().standard.as_ref(), Some(&a), "{who}");
    }
    let mut nobody = app.as_(Caller::of(&["*"], &[])).standards();
    assert_eq!(code_of(nobody.list_standards(pb::ListStandardsRequest::default()).await), Code::PermissionDenied);
}
