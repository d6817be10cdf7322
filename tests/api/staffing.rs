//! StaffingService: staffing quotas (biên chế) and headcount against them across a
//! subtree (issue 5, acceptance point 5), with validation and scope checks.

use std::collections::BTreeSet;

use hrplan::{
    auth::Role,
    grpc::pb::{self, PersonCategory as C},
    store::stmt,
};
use prost::Message as _;
use prost_types::FieldMask;
use sea_orm::ConnectionTrait;
use tonic::Code;

use crate::clients::{Caller, StaffingClient};
use crate::helpers::{TestApp, code_of, date, field_violations, invalid, spawn_app, unit};

async fn demo() -> (TestApp, StaffingClient) {
    let app = spawn_app().await;
    app.load_demo().await;
    let client = app.as_admin().staffing();
    (app, client)
}

/// Civil servant `i` placed in `unit` from 2020; retired on `left`, if given.
fn civil_servant(unit: &str, i: usize, left: Option<pb::Date>) -> pb::PersonRecord {
    pb::PersonRecord {
        person: Some(pb::Person {
            full_name: format!("Nguyễn Văn Thử {i}"),
            birth_date: Some(date(1970 + (i % 25) as i32, 1 + (i % 12) as i32, 1)),
            gender: pb::Gender::Female.into(),
            ethnicity: "Tày".into(),
            category: C::CivilServant.into(),
            employed_from: Some(date(2019, 1, 1)),
            employed_until: left,
            end_reason: if left.is_some() { pb::EmploymentEnd::Retired.into() } else { 0 },
            ..Default::default()
        }),
        placements: vec![pb::Placement {
            unit: unit.into(),
            post_title: "Công chức Văn phòng - Thống kê".into(),
            valid_from: Some(date(2020, 1, 1)),
            valid_until: left,
            ..Default::default()
        }],
        qualifications: vec![],
        evaluations: vec![],
    }
}

async fn import(app: &TestApp, records: Vec<pb::PersonRecord>) {
    let mut people = app.as_admin().people();
    let stream = tokio_stream::iter(
        records.into_iter().map(|r| pb::ImportPeopleRequest { record: Some(r), ..Default::default() }),
    );
    let answer = people.import_people(stream).await.expect("import").into_inner();
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected.first());
}

fn unit_quota(unit: &str, year: i32, category: C, quota: i32) -> pb::StaffingQuota {
    pb::StaffingQuota { unit: unit.into(), year, category: category.into(), quota, ..Default::default() }
}

fn locality_quota(locality: &str, year: i32, category: C, quota: i32) -> pb::StaffingQuota {
    pb::StaffingQuota { locality: locality.into(), year, category: category.into(), quota, ..Default::default() }
}

fn create(quota: pb::StaffingQuota) -> pb::CreateStaffingQuotaRequest {
    pb::CreateStaffingQuotaRequest { staffing_quota: Some(quota), request_id: String::new() }
}

async fn created(client: &mut StaffingClient, quota: pb::StaffingQuota) -> pb::StaffingQuota {
    client.create_staffing_quota(create(quota)).await.expect("create quota").into_inner().staffing_quota.expect("quota")
}

fn of_locality(locality: &str, as_of: pb::Date) -> pb::GetHeadcountRequest {
    pb::GetHeadcountRequest { locality: locality.into(), as_of: Some(as_of), ..Default::default() }
}

fn of_unit(unit: &str, as_of: pb::Date) -> pb::GetHeadcountRequest {
    pb::GetHeadcountRequest { unit: unit.into(), as_of: Some(as_of), ..Default::default() }
}

async fn headcount(client: &mut StaffingClient, request: pb::GetHeadcountRequest) -> pb::GetHeadcountResponse {
    client.get_headcount(request).await.expect("headcount").into_inner()
}

fn update(quota: pb::StaffingQuota) -> pb::UpdateStaffingQuotaRequest {
    pb::UpdateStaffingQuotaRequest {
        staffing_quota: Some(quota),
        update_mask: Some(FieldMask { paths: vec!["quota".to_owned()] }),
    }
}

/// Every row the helpers snapshot, and the quotas.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let mut rows = app.snapshot().await;
    let backend = app.db.get_database_backend();
    let sql = "SELECT CAST(id AS TEXT) || '|' || COALESCE(CAST(unit_id AS TEXT), '-') || '|' || \
               COALESCE(locality_code, '-') || '|' || CAST(year AS TEXT) || '|' || category || '|' || \
               CAST(quota AS TEXT) || '|' || CAST(revision AS TEXT) AS r FROM staffing_quotas";
    for row in app.db.query_all_raw(stmt(backend, sql, vec![])).await.expect("snapshot") {
        rows.push(row.try_get::<String>("", "r").expect("row"));
    }
    rows.sort();
    rows
}

fn total(answer: &pb::GetHeadcountResponse) -> (i32, i32, f64) {
    let total = answer.total.as_ref().expect("a total");
    (total.headcount, total.quota, total.percent_of_quota)
}

#[tokio::test]
async fn headcount_against_quota_spans_a_subtree_and_leaves_out_people_who_have_left() {
    // Arrange: in Thành phố Lạng Sơn (178), units in Xã Hoàng Đồng and Phường Chi Lăng
    // with quotas of 3,050 in all for 2024 (one of them on the commune itself);
    // 2,813 civil servants at work on 2024-06-30 and 40 who retired before it.
    let (app, mut client) = demo().await;
    let hoang_dong = unit(&app, "localities/05986", "Ủy ban nhân dân xã Hoàng Đồng", date(2020, 1, 1), None).await;
    let chi_lang = unit(&app, "localities/05983", "Ủy ban nhân dân phường Chi Lăng", date(2020, 1, 1), None).await;
    let dong_mo = unit(&app, "localities/06463", "Ủy ban nhân dân thị trấn Đồng Mỏ", date(2020, 1, 1), None).await;
    let thanh_xuong = unit(&app, "localities/03334", "Ủy ban nhân dân xã Thanh Xương", date(2020, 1, 1), None).await;
    let mut records: Vec<pb::PersonRecord> = Vec::new();
    records.extend((0..1_700).map(|i| civil_servant(&hoang_dong, i, None)));
    records.extend((1_700..2_813).map(|i| civil_servant(&chi_lang, i, None)));
    records.extend((2_813..2_833).map(|i| civil_servant(&hoang_dong, i, Some(date(2024, 3, 1)))));
    records.extend((2_833..2_853).map(|i| civil_servant(&chi_lang, i, Some(date(2024, 6, 30)))));
    records.extend((2_853..2_863).map(|i| civil_servant(&dong_mo, i, None)));
    records.extend((2_863..2_868).map(|i| civil_servant(&thanh_xuong, i, None)));
    import(&app, records).await;
    created(&mut client, unit_quota(&hoang_dong, 2024, C::CivilServant, 1_800)).await;
    created(&mut client, unit_quota(&chi_lang, 2024, C::CivilServant, 1_200)).await;
    created(&mut client, locality_quota("localities/05983", 2024, C::CivilServant, 50)).await;
    created(&mut client, unit_quota(&hoang_dong, 2023, C::CivilServant, 999)).await;
    created(&mut client, unit_quota(&hoang_dong, 2024, C::PublicEmployee, 12)).await;
    created(&mut client, unit_quota(&dong_mo, 2024, C::CivilServant, 20)).await;
    created(&mut client, unit_quota(&thanh_xuong, 2024, C::CivilServant, 5)).await;
    let on = date(2024, 6, 30);

    // Act
    let city = headcount(&mut client, of_locality("localities/178", on)).await;
    let province = headcount(&mut client, of_locality("localities/20", on)).await;
    let one_unit = headcount(&mut client, of_unit(&hoang_dong, on)).await;
    let before_retirement = headcount(&mut client, of_unit(&hoang_dong, date(2024, 2, 29))).await;
    let commune = headcount(&mut client, of_locality("localities/05983", on)).await;
    // After the 2025 reorganisation the city is gone and its communes hang from the province.
    let city_after = headcount(&mut client, of_locality("localities/178", date(2025, 8, 1))).await;
    let province_after = headcount(&mut client, of_locality("localities/20", date(2025, 8, 1))).await;

    // Assert: "2,813 of 3,050 (92.2 %)" for the civil servants of the city.
    assert_eq!(city.as_of, Some(on));
    let rows: Vec<(C, i32, i32)> = city.categories.iter().map(|r| (r.category(), r.headcount, r.quota)).collect();
    assert_eq!(rows, [(C::CivilServant, 2_813, 3_050), (C::PublicEmployee, 0, 12)]);
    let civil = &city.categories[0];
    assert!((civil.percent_of_quota - 92.229_508).abs() < 1e-4, "{}", civil.percent_of_quota);
    assert_eq!(format!("{:.1}", civil.percent_of_quota), "92.2");
    assert!(city.categories[1].percent_of_quota.abs() < f64::EPSILON);
    let (people, quota, _) = total(&city);
    assert_eq!((people, quota), (2_813, 3_062));
    assert_eq!(city.total.as_ref().map(pb::HeadcountRow::category), Some(C::Unspecified));
    // The province adds Đồng Mỏ (another district) but never Điện Biên.
    assert_eq!((total(&province).0, total(&province).1), (2_823, 3_082));
    // One unit: its own quotas only, of the year asked.
    assert_eq!((total(&one_unit).0, total(&one_unit).1), (1_700, 1_812));
    assert_eq!(total(&before_retirement).0, 1_720);
    assert_eq!((total(&commune).0, total(&commune).1), (1_113, 1_250));
    assert_eq!((total(&city_after).0, total(&city_after).1), (0, 0));
    assert_eq!((total(&province_after).0, total(&province_after).1), (2_823, 0), "no quota for 2025");
}

#[tokio::test]
async fn quotas_are_one_per_unit_year_and_category_and_each_bad_field_is_named() {
    // Arrange
    let (app, mut client) = demo().await;
    let office = unit(&app, "localities/05986", "Ủy ban nhân dân xã Hoàng Đồng", date(2020, 1, 1), None).await;
    let first = created(&mut client, unit_quota(&office, 2024, C::CivilServant, 20)).await;
    created(&mut client, locality_quota("localities/05986", 2024, C::CivilServant, 5)).await;
    let before = snapshot(&app).await;

    // Act and assert: nothing below changes the database.
    let again = client.create_staffing_quota(create(unit_quota(&office, 2024, C::CivilServant, 30))).await;
    assert_eq!(code_of(again), Code::AlreadyExists);
    let again =
        client.create_staffing_quota(create(locality_quota("localities/05986", 2024, C::CivilServant, 1))).await;
    assert_eq!(code_of(again), Code::AlreadyExists);
    let base = || unit_quota(&office, 2025, C::Cadre, 3);
    let cases: Vec<(pb::StaffingQuota, &str)> = vec![
        (pb::StaffingQuota { unit: String::new(), ..base() }, "staffing_quota.unit"),
        (pb::StaffingQuota { locality: "localities/05986".into(), ..base() }, "staffing_quota.locality"),
        (pb::StaffingQuota { unit: "people/1".into(), ..base() }, "staffing_quota.unit"),
        (pb::StaffingQuota { unit: "units/999".into(), ..base() }, "staffing_quota.unit"),
        (locality_quota("localities/1234", 2025, C::Cadre, 3), "staffing_quota.locality"),
        (locality_quota("localities/99", 2025, C::Cadre, 3), "staffing_quota.locality"),
        (pb::StaffingQuota { year: 1949, ..base() }, "staffing_quota.year"),
        (pb::StaffingQuota { year: 2101, ..base() }, "staffing_quota.year"),
        (pb::StaffingQuota { category: 0, ..base() }, "staffing_quota.category"),
        (pb::StaffingQuota { category: 42, ..base() }, "staffing_quota.category"),
        (pb::StaffingQuota { quota: -1, ..base() }, "staffing_quota.quota"),
    ];
    for (bad, field) in cases {
        let status = invalid(client.create_staffing_quota(create(bad)).await);
        let fields: Vec<String> = field_violations(&status).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{status:?}");
    }
    let negative = pb::StaffingQuota { name: first.name.clone(), quota: -5, ..Default::default() };
    assert_eq!(
        field_violations(&invalid(client.update_staffing_quota(update(negative)).await))[0].0,
        "staffing_quota.quota"
    );
    let neither = pb::GetHeadcountRequest { as_of: Some(date(2024, 1, 1)), ..Default::default() };
    assert_eq!(field_violations(&invalid(client.get_headcount(neither).await))[0].0, "unit");
    let bad_day = of_locality("localities/20", date(2024, 2, 30));
    assert_eq!(field_violations(&invalid(client.get_headcount(bad_day).await))[0].0, "as_of");
    for name in ["", "staffingQuotas/0", "units/1"] {
        let status = invalid(client.get_staffing_quota(pb::GetStaffingQuotaRequest { name: name.into() }).await);
        assert_eq!(field_violations(&status)[0].0, "name");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn quotas_are_read_listed_updated_with_their_etag_and_deleted() {
    // Arrange
    let (app, mut client) = demo().await;
    let office = unit(&app, "localities/05986", "Ủy ban nhân dân xã Hoàng Đồng", date(2020, 1, 1), None).await;
    let far = unit(&app, "localities/03334", "Ủy ban nhân dân xã Thanh Xương", date(2020, 1, 1), None).await;
    let request = pb::CreateStaffingQuotaRequest {
        staffing_quota: Some(unit_quota(&office, 2024, C::CivilServant, 20)),
        request_id: "quota-0001".into(),
    };
    let first = client.create_staffing_quota(request.clone()).await.expect("create").into_inner().staffing_quota;
    let retried = client.create_staffing_quota(request).await.expect("retry").into_inner().staffing_quota;
    let first = first.expect("quota");
    let second = created(&mut client, locality_quota("localities/178", 2024, C::Cadre, 7)).await;
    let other_year = created(&mut client, locality_quota("localities/20", 2025, C::Cadre, 9)).await;
    created(&mut client, unit_quota(&far, 2024, C::CivilServant, 4)).await;

    // Act
    let fetched = client
        .get_staffing_quota(pb::GetStaffingQuotaRequest { name: first.name.clone() })
        .await
        .expect("get")
        .into_inner()
        .staffing_quota
        .expect("quota");
    let page = |year: i32, page_size: i32, page_token: String| pb::ListStaffingQuotasRequest {
        locality: "localities/20".into(),
        year,
        page_size,
        page_token,
    };
    let first_page = client.list_staffing_quotas(page(2024, 1, String::new())).await.expect("list").into_inner();
    let second_page = client
        .list_staffing_quotas(page(2024, 1, first_page.next_page_token.clone()))
        .await
        .expect("list")
        .into_inner();
    let every_year = client.list_staffing_quotas(page(0, 0, String::new())).await.expect("list").into_inner();
    let changed =
        pb::StaffingQuota { name: first.name.clone(), etag: first.etag.clone(), quota: 25, ..Default::default() };
    let updated = client
        .update_staffing_quota(update(changed.clone()))
        .await
        .expect("update")
        .into_inner()
        .staffing_quota
        .expect("q");

    // Assert
    assert_eq!(retried.map(|q| q.name), Some(first.name.clone()));
    assert_eq!(fetched, first);
    assert_eq!(
        (first.unit.as_str(), first.locality.as_str(), first.category()),
        (office.as_str(), "", C::CivilServant)
    );
    assert_eq!(first_page.staffing_quotas.iter().map(|q| &q.name).collect::<Vec<_>>(), [&first.name]);
    assert_eq!(second_page.staffing_quotas.iter().map(|q| &q.name).collect::<Vec<_>>(), [&second.name]);
    assert!(second_page.next_page_token.is_empty());
    let names: Vec<&String> = every_year.staffing_quotas.iter().map(|q| &q.name).collect();
    assert_eq!(names, [&first.name, &second.name, &other_year.name]);
    assert_eq!(updated.quota, 25);
    assert_ne!(updated.etag, first.etag);
    assert_eq!(code_of(client.update_staffing_quota(update(changed)).await), Code::Aborted);
    let stale = pb::DeleteStaffingQuotaRequest { name: first.name.clone(), etag: first.etag.clone() };
    assert_eq!(code_of(client.delete_staffing_quota(stale).await), Code::Aborted);
    let fresh = pb::DeleteStaffingQuotaRequest { name: first.name.clone(), etag: updated.etag.clone() };
    client.delete_staffing_quota(fresh).await.expect("delete");
    let gone = client.get_staffing_quota(pb::GetStaffingQuotaRequest { name: first.name.clone() }).await;
    assert_eq!(code_of(gone), Code::NotFound);
}

/// The methods of `hrplan.v1.StaffingService`, from the descriptor set.
fn staffing_service_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(hrplan::grpc::FILE_DESCRIPTOR_SET).expect("a descriptor set");
    set.file
        .iter()
        .filter(|file| file.package() == "hrplan.v1")
        .flat_map(|file| file.service.iter())
        .filter(|service| service.name() == "StaffingService")
        .flat_map(|service| service.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

#[tokio::test]
async fn every_staffing_rpc_aimed_at_another_province_is_refused_to_a_caller_scoped_to_one_province() {
    // Arrange: quotas of Điện Biên (11), on a unit and on a commune; a caller scoped
    // to Lạng Sơn (20).
    let (app, mut client) = demo().await;
    let office = unit(&app, "localities/03334", "Ủy ban nhân dân xã Thanh Xương", date(2020, 1, 1), None).await;
    let on_unit = created(&mut client, unit_quota(&office, 2024, C::CivilServant, 20)).await;
    let on_commune = created(&mut client, locality_quota("localities/03334", 2024, C::CivilServant, 5)).await;
    let mut scoped = app.as_(Caller::of(&["20"], &[Role::Editor])).staffing();
    let before = snapshot(&app).await;
    let mut refused = BTreeSet::new();

    for target in [&on_unit, &on_commune] {
        let mut codes: Vec<(&str, Code)> = Vec::new();
        // Act
        let new = pb::StaffingQuota { name: String::new(), etag: String::new(), year: 2025, ..target.clone() };
        codes.push(("CreateStaffingQuota", code_of(scoped.create_staffing_quota(create(new)).await)));
        let get = pb::GetStaffingQuotaRequest { name: target.name.clone() };
        codes.push(("GetStaffingQuota", code_of(scoped.get_staffing_quota(get).await)));
        let list = pb::ListStaffingQuotasRequest { locality: "localities/11".into(), ..Default::default() };
        codes.push(("ListStaffingQuotas", code_of(scoped.list_staffing_quotas(list).await)));
        let change = pb::StaffingQuota { name: target.name.clone(), quota: 1, ..Default::default() };
        codes.push(("UpdateStaffingQuota", code_of(scoped.update_staffing_quota(update(change)).await)));
        let delete = pb::DeleteStaffingQuotaRequest { name: target.name.clone(), etag: String::new() };
        codes.push(("DeleteStaffingQuota", code_of(scoped.delete_staffing_quota(delete).await)));
        let count = if target.unit.is_empty() {
            of_locality(&target.locality, date(2024, 6, 30))
        } else {
            of_unit(&target.unit, date(2024, 6, 30))
        };
        codes.push(("GetHeadcount", code_of(scoped.get_headcount(count).await)));

        // Assert
        for (method, code) in codes {
            assert_eq!(code, Code::PermissionDenied, "{method} on {}", target.name);
            refused.insert(method.to_owned());
        }
    }
    assert_eq!(refused, staffing_service_methods(), "every StaffingService RPC needs an out-of-scope call here");
    assert_eq!(snapshot(&app).await, before);
    // What does not exist is refused too, rather than reported missing.
    let missing = pb::GetStaffingQuotaRequest { name: "staffingQuotas/999".into() };
    assert_eq!(code_of(scoped.get_staffing_quota(missing).await), Code::PermissionDenied);
    assert_eq!(code_of(scoped.get_headcount(of_unit("units/999", date(2024, 1, 1))).await), Code::PermissionDenied);
}

#[tokio::test]
async fn any_role_reads_quotas_and_headcounts_but_only_an_editor_writes_them() {
    let (app, mut client) = demo().await;
    let office = unit(&app, "localities/05986", "Ủy ban nhân dân xã Hoàng Đồng", date(2020, 1, 1), None).await;
    let quota = created(&mut client, unit_quota(&office, 2024, C::CivilServant, 20)).await;
    let mut reader = app.as_(Caller::of(&["20"], &[Role::AggregateReader])).staffing();
    let mut editor = app.as_(Caller::of(&["20"], &[Role::Editor])).staffing();

    reader.get_staffing_quota(pb::GetStaffingQuotaRequest { name: quota.name.clone() }).await.expect("a reader reads");
    let answer = headcount(&mut reader, of_locality("localities/20", date(2024, 6, 30))).await;
    assert_eq!(total(&answer).1, 20);
    let new = unit_quota(&office, 2025, C::CivilServant, 20);
    assert_eq!(code_of(reader.create_staffing_quota(create(new.clone())).await), Code::PermissionDenied);
    editor.create_staffing_quota(create(new)).await.expect("an editor in scope writes");
}
