//! `hrplan localities import-official`: the official tree of the whole country, loaded
//! through the command's library entry point and read back through the gRPC API,
//! checked against the input files read here independently.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Read as _,
    path::PathBuf,
};

use chrono::NaiveDate;
use hrplan::{
    auth::Role,
    cli::official::{ImportOptions, import},
    error::Error,
    grpc::pb::{self, LocalityKind as K, LocalityState, SuccessionKind},
    localities::official_tree::{DEFAULT_OLD_TREE_FROM, TierCounts},
    store::stmt,
};
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::clients::Caller;
use crate::clients::LocalityClient;
use crate::helpers::{
    OfficialInputs, TestApp, committee_unit, create_request, date, official_inputs, seed_dien_bien, spawn_app,
    spawn_app_with,
};

fn options(inputs: &OfficialInputs) -> ImportOptions {
    ImportOptions {
        divisions: inputs.divisions.clone(),
        admin_units: inputs.admin_units.clone(),
        old_tree_from: DEFAULT_OLD_TREE_FROM,
        dry_run: false,
    }
}

/// What the inputs say, read here without the importer's code.
struct Expected {
    old_provinces: BTreeSet<String>,
    old_districts: BTreeSet<String>,
    /// Commune code on 2025-06-30 -> its province.
    old_communes: BTreeMap<String, String>,
    /// The package's communes -> their district.
    package_district: BTreeMap<String, String>,
    new_provinces: BTreeSet<String>,
    /// Commune code from 2025-07-01 -> its province.
    new_communes: BTreeMap<String, String>,
    /// Old unit -> the new units it went to.
    went_to: BTreeMap<String, BTreeSet<String>>,
    /// New commune -> the old units it took.
    predecessors: BTreeMap<String, BTreeSet<String>>,
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_else(|| panic!("`{key}` in {value}")).to_owned()
}

fn read_json(path: &PathBuf) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("reading an input")).expect("an input is JSON")
}

fn read_package(path: &PathBuf) -> Value {
    let bytes = std::fs::read(path).expect("reading the package");
    if !bytes.starts_with(b"PK") {
        return serde_json::from_slice(&bytes).expect("nested-divisions.json is JSON");
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("the wheel is a zip");
    let mut entry =
        archive.by_name("vietnam_provinces/data/nested-divisions.json").expect("the code list in the wheel");
    let mut json = Vec::new();
    entry.read_to_end(&mut json).expect("reading the code list");
    serde_json::from_slice(&json).expect("nested-divisions.json is JSON")
}

fn expected(inputs: &OfficialInputs) -> Expected {
    let package = read_package(&inputs.divisions);
    let splits = read_json(&inputs.admin_units.join("splits.json"));
    let merges = read_json(&inputs.admin_units.join("merges.json"));
    let mut e = Expected {
        old_provinces: BTreeSet::new(),
        old_districts: BTreeSet::new(),
        old_communes: BTreeMap::new(),
        package_district: BTreeMap::new(),
        new_provinces: BTreeSet::new(),
        new_communes: BTreeMap::new(),
        went_to: BTreeMap::new(),
        predecessors: BTreeMap::new(),
    };
    for province in package.as_array().expect("a list of provinces") {
        for district in province["districts"].as_array().expect("districts") {
            let code = format!("{:03}", district["code"].as_u64().expect("a district code"));
            for commune in district["wards"].as_array().expect("wards") {
                e.package_district.insert(format!("{:05}", commune["code"].as_u64().expect("a code")), code.clone());
            }
            e.old_districts.insert(code);
        }
    }
    for province in splits["data"].as_array().expect("data") {
        let code = text(province, "level1_id");
        for commune in province["level3s"].as_array().expect("level3s") {
            e.old_communes.insert(text(commune, "level3_id"), code.clone());
        }
        e.old_provinces.insert(code);
    }
    for province in merges["data"].as_array().expect("data") {
        let code = text(province, "level1_id");
        for old in province["merges"].as_array().expect("merges") {
            e.went_to.entry(text(old, "old_id")).or_default().insert(code.clone());
        }
        for commune in province["level2s"].as_array().expect("level2s") {
            let new = text(commune, "level2_id");
            for old in commune["merges"].as_array().expect("merges") {
                e.went_to.entry(text(old, "old_id")).or_default().insert(new.clone());
                e.predecessors.entry(new.clone()).or_default().insert(text(old, "old_id"));
            }
            e.new_communes.insert(new, code.clone());
        }
        e.new_provinces.insert(code);
    }
    e
}

/// Every locality in force on `as_of` matching `filter`, page after page.
async fn list_all(client: &mut LocalityClient, as_of: pb::Date, filter: &str) -> Vec<pb::Locality> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_localities(pb::ListLocalitiesRequest {
                as_of: Some(as_of),
                filter: filter.into(),
                page_size: 1000,
                page_token,
                ..Default::default()
            })
            .await
            .expect("listing localities")
            .into_inner();
        all.extend(page.localities);
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

fn codes(localities: &[pb::Locality]) -> BTreeSet<String> {
    localities.iter().map(|l| l.code.clone()).collect()
}

fn other(link: &pb::LocalityLink) -> String {
    link.locality.trim_start_matches("localities/").to_owned()
}

fn links(links: &[pb::LocalityLink]) -> Vec<(String, SuccessionKind, String)> {
    links.iter().map(|l| (other(l), l.kind(), l.display_name.clone())).collect()
}

async fn get(client: &mut LocalityClient, code: &str, as_of: pb::Date) -> pb::Locality {
    client
        .get_locality(pb::GetLocalityRequest { name: format!("localities/{code}"), as_of: Some(as_of) })
        .await
        .expect("get locality")
        .into_inner()
        .locality
        .expect("locality")
}

/// A version on the wire as (from, until, name, kind, parent).
type VersionRow = (Option<pb::Date>, Option<pb::Date>, String, K, String);

fn versions(locality: &pb::Locality) -> Vec<VersionRow> {
    locality
        .versions
        .iter()
        .map(|v| (v.valid_from, v.valid_until, v.display_name.clone(), v.kind(), v.parent.clone()))
        .collect()
}

fn before() -> pb::Date {
    date(2025, 6, 30)
}

fn after() -> pb::Date {
    date(2025, 7, 1)
}

async fn audit_records(app: &TestApp) -> i64 {
    let row = app
        .db
        .query_one_raw(stmt(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM audit_log WHERE subject = 'import-official'",
            vec![],
        ))
        .await
        .expect("counting audit records")
        .expect("a count");
    row.try_get("", "n").expect("n")
}

#[tokio::test]
async fn on_a_fresh_database_the_official_tree_is_the_tree_of_each_date_and_a_second_run_changes_nothing() {
    let app = spawn_app().await;
    let inputs = official_inputs();
    let expected = expected(&inputs);
    let mut client = app.as_admin().localities();

    // A dry run computes the whole import and writes nothing.
    let empty = app.snapshot().await;
    let dry = import(&app.db, &ImportOptions { dry_run: true, ..options(&inputs) }).await.expect("dry run");
    assert!(dry.changed() && dry.dry_run);
    assert!(dry.to_string().contains("nothing was written"), "{dry}");
    assert_eq!(app.snapshot().await, empty, "a dry run writes nothing");

    let summary = import(&app.db, &options(&inputs)).await.expect("import");
    assert_eq!(summary.created_before, TierCounts { provinces: 63, districts: 696, communes: 10_047 });
    // New codes: the five special zones made of whole island districts.
    assert_eq!(summary.created_after, TierCounts { provinces: 0, districts: 0, communes: 5 });
    assert_eq!(summary.inferred.len(), 10, "{summary}");
    assert_eq!(summary.package_only.len(), 14, "{summary}");
    assert_eq!(summary.differences.len() + summary.cosmetic_differences, 45, "{summary}");
    assert_eq!(audit_records(&app).await, 1);

    // The day before: 63 provinces, the package's districts, the communes of splits.json.
    let provinces = list_all(&mut client, before(), "tier = PROVINCE").await;
    assert_eq!(codes(&provinces), expected.old_provinces);
    assert_eq!(provinces.len(), 63);
    let districts = list_all(&mut client, before(), "tier = DISTRICT").await;
    assert_eq!(codes(&districts), expected.old_districts);
    assert_eq!(districts.len(), 696);
    let communes = list_all(&mut client, before(), "tier = COMMUNE").await;
    assert_eq!(codes(&communes), expected.old_communes.keys().cloned().collect::<BTreeSet<_>>());
    assert_eq!(communes.len(), 10_047);
    let district_province: BTreeMap<String, String> =
        districts.iter().map(|d| (d.code.clone(), d.parent.clone())).collect();
    for commune in &communes {
        let district = commune.parent.trim_start_matches("localities/");
        if let Some(package) = expected.package_district.get(&commune.code) {
            assert_eq!(district, package, "{} lies in the package's district", commune.code);
        }
        assert_eq!(
            district_province.get(district),
            Some(&format!("localities/{}", expected.old_communes[&commune.code])),
            "{} lies in a district of its province",
            commune.code
        );
    }

    // The day of the reorganisation: 34 provinces and 3,321 communes directly under them.
    let provinces = list_all(&mut client, after(), "tier = PROVINCE").await;
    assert_eq!(codes(&provinces), expected.new_provinces);
    assert_eq!(provinces.len(), 34);
    assert!(list_all(&mut client, after(), "tier = DISTRICT").await.is_empty());
    let new_communes = list_all(&mut client, after(), "tier = COMMUNE").await;
    assert_eq!(new_communes.len(), 3_321);
    let placed: BTreeMap<String, String> =
        new_communes.iter().map(|c| (c.code.clone(), c.parent.trim_start_matches("localities/").to_owned())).collect();
    assert_eq!(placed, expected.new_communes);
    let ha_noi = client
        .list_descendants(pb::ListDescendantsRequest {
            name: "localities/01".into(),
            as_of: Some(after()),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("descendants")
        .into_inner();
    assert!(ha_noi.next_page_token.is_empty());
    assert_eq!(
        codes(&ha_noi.localities),
        expected.new_communes.iter().filter(|(_, p)| *p == "01").map(|(c, _)| c.clone()).collect()
    );

    // Every old commune names where it went: one merge, or a split to each part; a
    // commune whose code a unit it went into reuses continues as that unit instead.
    let mut ended = 0;
    for commune in &communes {
        let targets = &expected.went_to[&commune.code];
        let continues = expected.predecessors.get(&commune.code).is_some_and(|p| p.contains(&commune.code));
        let mut named: BTreeSet<String> = commune.successors.iter().map(other).collect();
        assert!(!named.contains(&commune.code), "{} links to itself", commune.code);
        if continues {
            named.insert(commune.code.clone());
        } else {
            ended += 1;
            assert!(!commune.successors.is_empty(), "ended commune {} names no successor", commune.code);
        }
        assert_eq!(&named, targets, "successors of {}", commune.code);
        let kind = if targets.len() == 1 { SuccessionKind::Merge } else { SuccessionKind::Split };
        assert!(
            commune.successors.iter().all(|l| l.kind() == kind && l.effective_date == Some(after())),
            "links of {}: {:?}",
            commune.code,
            commune.successors
        );
    }
    assert_eq!(ended, 10_047 - 3_314, "all but the 3,314 communes whose code a unit they went into took up end");

    // A commune split between two wards, and one merged whole.
    let ngoc_ha = get(&mut client, "00016", after()).await;
    assert_eq!(ngoc_ha.state(), LocalityState::Ended);
    assert_eq!(
        links(&ngoc_ha.successors),
        [
            ("00004".into(), SuccessionKind::Split, "Phường Ba Đình".into()),
            ("00008".into(), SuccessionKind::Split, "Phường Ngọc Hà".into())
        ]
    );
    let phuc_xa = get(&mut client, "00001", after()).await;
    assert_eq!(links(&phuc_xa.successors), [("00097".into(), SuccessionKind::Merge, "Phường Hồng Hà".into())]);

    // An old district links to every commune its communes went to.
    let ba_dinh = get(&mut client, "001", after()).await;
    assert_eq!(ba_dinh.state(), LocalityState::Ended);
    let territory: BTreeSet<String> = expected
        .package_district
        .iter()
        .filter(|(c, d)| *d == "001" && expected.old_communes.contains_key(*c))
        .flat_map(|(c, _)| expected.went_to[c].iter().cloned())
        .collect();
    assert_eq!(ba_dinh.successors.iter().map(other).collect::<BTreeSet<_>>(), territory);
    assert!(territory.len() > 1 && ba_dinh.successors.iter().all(|l| l.kind() == SuccessionKind::Split));
    // A whole island district became a special zone.
    let bach_long_vi = get(&mut client, "318", after()).await;
    assert_eq!(
        links(&bach_long_vi.successors),
        [("11948".into(), SuccessionKind::Merge, "Đặc khu Bạch Long Vĩ".into())]
    );
    let zone = get(&mut client, "11948", after()).await;
    assert_eq!((zone.kind(), zone.parent.as_str()), (K::SpecialZone, "localities/31"));

    // Two codes taken up by a unit their commune did not go into: the locality
    // continues as a new version and its old territory still names where it went.
    for (code, old_name, new_name, went) in
        [("23710", "Xã A Dơk", "Xã Ia Băng", "23869"), ("23737", "Xã Ia Mơ Nông", "Xã Ia Mơ", "23734")]
    {
        let locality = get(&mut client, code, after()).await;
        let history = versions(&locality);
        assert_eq!(history.len(), 2, "{history:?}");
        let district = format!("localities/{}", expected.package_district[code]);
        assert_eq!(history[0], (Some(date(2020, 1, 1)), Some(after()), old_name.into(), K::Commune, district));
        assert_eq!(history[1], (Some(after()), None, new_name.into(), K::Commune, "localities/52".into()));
        assert_eq!(
            locality.successors.iter().map(|l| (other(l), l.kind())).collect::<Vec<_>>(),
            [(went.to_owned(), SuccessionKind::Merge)]
        );
        let predecessors: BTreeSet<String> = locality.predecessors.iter().map(other).collect();
        // The communes it took, and their districts.
        let communes = &expected.predecessors[code];
        let mut listed = communes.clone();
        listed.extend(communes.iter().filter_map(|c| expected.package_district.get(c).cloned()));
        assert!(predecessors.is_subset(&listed) && communes.is_subset(&predecessors), "{predecessors:?}");
    }

    // A province that kept its name and kind keeps one open version.
    let dien_bien = get(&mut client, "11", after()).await;
    assert_eq!(
        versions(&dien_bien),
        [(Some(date(2020, 1, 1)), None, "Tỉnh Điện Biên".into(), K::Province, String::new())]
    );

    // A second run changes nothing and says so.
    let imported = app.snapshot().await;
    let again = import(&app.db, &options(&inputs)).await.expect("second import");
    assert!(!again.changed());
    assert!(again.to_string().contains("The tree already matches the official lists: nothing changed"), "{again}");
    assert_eq!(app.snapshot().await, imported, "a second run changes nothing");
}

async fn stored_versions(app: &TestApp) -> BTreeMap<String, Vec<Vec<String>>> {
    let rows = app
        .db
        .query_all_raw(stmt(
            app.db.get_database_backend(),
            "SELECT code, CAST(valid_from AS TEXT) AS f, COALESCE(CAST(valid_until AS TEXT), '') AS u, name, kind, \
             COALESCE(parent_code, '') AS p FROM locality_versions ORDER BY code, valid_from",
            vec![],
        ))
        .await
        .expect("reading versions");
    let mut versions: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for row in rows {
        let cells: Vec<String> = ["f", "u", "name", "kind", "p"].iter().map(|c| row.try_get("", c).expect(c)).collect();
        versions.entry(row.try_get("", "code").expect("code")).or_default().push(cells);
    }
    versions
}

async fn profile_total(app: &TestApp, locality: &str, as_of: pb::Date) -> pb::WorkforceProfile {
    app.as_(Caller::of(&["*"], &[Role::Admin, Role::PersonalDataReader]))
        .reports()
        .get_workforce_profile(pb::GetWorkforceProfileRequest {
            scope: Some(pb::ReportScope { locality: locality.into(), as_of: Some(as_of), ..Default::default() }),
        })
        .await
        .expect("a profile")
        .into_inner()
        .total
        .expect("total")
}

#[tokio::test]
async fn into_the_demo_tree_the_import_adds_the_rest_of_the_country_without_duplicating_or_disturbing_it() {
    let app = spawn_app_with(|config| config.demo = true).await;
    let inputs = official_inputs();
    let demo = stored_versions(&app).await;
    let demo_provinces = demo.keys().filter(|c| c.len() == 2).count();
    let mut profiles = Vec::new();
    for (locality, as_of) in
        [("localities/11", date(2024, 12, 31)), ("localities/20", after()), ("localities/01", after())]
    {
        profiles.push(profile_total(&app, locality, as_of).await);
    }
    assert!(profiles.iter().all(|p| p.headcount > 0), "the demo has people in every province");

    let summary = import(&app.db, &options(&inputs)).await.expect("import into the demo");
    // The demo's units are the official ones: nothing to correct, nothing unknown.
    assert!(summary.corrections.is_empty(), "{summary}");
    assert!(summary.unlisted_links.is_empty() && summary.unlisted.is_empty(), "{summary}");
    assert_eq!(summary.created_before.provinces, 63 - demo_provinces);

    // The demo's localities keep their versions; the only additions to them are the
    // old-tree versions of the two codes the demo only knew from 2025-07-01.
    let stored = stored_versions(&app).await;
    for (code, versions) in &demo {
        let now = &stored[code];
        for version in versions {
            assert!(now.contains(version), "{code} lost {version:?}: {now:?}");
        }
        for version in now.iter().filter(|v| !versions.contains(v)) {
            assert_eq!(version[1], "2025-07-01", "{code} gained {version:?}");
            assert!(versions.iter().all(|v| v[0] == "2025-07-01"), "{code} had an old version: {versions:?}");
        }
    }

    // No duplicates: one version per locality and day, and the official counts.
    for day in ["2025-06-30", "2025-07-01"] {
        let doubled = stored
            .iter()
            .filter(|(_, vs)| {
                vs.iter().filter(|v| v[0].as_str() <= day && (v[1].is_empty() || v[1].as_str() > day)).count() > 1
            })
            .count();
        assert_eq!(doubled, 0, "localities with two versions on {day}");
    }
    let mut client = app.as_admin().localities();
    assert_eq!(list_all(&mut client, before(), "tier = PROVINCE").await.len(), 63);
    assert_eq!(list_all(&mut client, before(), "tier = DISTRICT").await.len(), 696);
    assert_eq!(list_all(&mut client, before(), "tier = COMMUNE").await.len(), 10_047);
    assert_eq!(list_all(&mut client, after(), "tier = COMMUNE").await.len(), 3_321);

    // Units and people stay valid, and the reports count the same people.
    let unit_localities: BTreeSet<hrplan::localities::Code> = app
        .db
        .query_all_raw(stmt(app.db.get_database_backend(), "SELECT DISTINCT locality_code FROM units", vec![]))
        .await
        .expect("unit localities")
        .iter()
        .map(|r| hrplan::localities::Code::from_db(r.try_get("", "locality_code").expect("code")))
        .collect();
    assert!(!unit_localities.is_empty());
    let stranded =
        hrplan::localities::queries::unit_coverage_issues(&app.db, &unit_localities).await.expect("coverage");
    assert!(stranded.is_empty(), "{stranded:?}");
    app.assert_facts_in_step().await;
    for ((locality, as_of), before) in
        [("localities/11", date(2024, 12, 31)), ("localities/20", after()), ("localities/01", after())]
            .into_iter()
            .zip(&profiles)
    {
        assert_eq!(&profile_total(&app, locality, as_of).await, before, "{locality}");
    }

    let imported = app.snapshot().await;
    assert!(!import(&app.db, &options(&inputs)).await.expect("second import").changed());
    assert_eq!(app.snapshot().await, imported);
}

#[tokio::test]
async fn a_stored_locality_that_differs_from_the_lists_is_corrected_listed_and_its_etag_changes() {
    let app = spawn_app().await;
    let inputs = official_inputs();
    let mut client = app.as_admin().localities();
    seed_dien_bien(&mut client).await;
    let him_lam = create_request("03127", pb::LocalityTier::Commune, "Xã Him Lam Cũ", K::Commune, "localities/094");
    client.create_locality(him_lam).await.expect("a misnamed commune");
    let etag_before = get(&mut client, "03127", before()).await.etag;
    let province_before = get(&mut client, "11", before()).await;

    let summary = import(&app.db, &options(&inputs)).await.expect("import");
    let corrected: Vec<(&str, &str, &str)> =
        summary.corrections.iter().map(|c| (c.code.as_str(), c.before.0.as_str(), c.after.0.as_str())).collect();
    assert_eq!(corrected, [("03127", "Xã Him Lam Cũ", "Phường Him Lam")]);
    assert!(summary.to_string().contains("Xã Him Lam Cũ"), "{summary}");

    let him_lam = get(&mut client, "03127", before()).await;
    assert_ne!(him_lam.etag, etag_before);
    assert_eq!(
        versions(&him_lam)[0],
        (Some(date(2020, 1, 1)), Some(after()), "Phường Him Lam".into(), K::Ward, "localities/094".into())
    );
    // The province was already right: its one version and its etag stay.
    let province = get(&mut client, "11", before()).await;
    assert_eq!((province.etag, province.versions), (province_before.etag, province_before.versions));
}

#[tokio::test]
async fn an_import_that_would_leave_a_unit_outside_its_locality_fails_naming_it_and_writes_nothing() {
    let app = spawn_app().await;
    let inputs = official_inputs();
    seed_dien_bien(&mut app.as_admin().localities()).await;
    // Huyện Điện Biên ends on 2025-07-01; its people's committee is open-ended.
    let unit = committee_unit(&app, "localities/100", "Ủy ban nhân dân huyện Điện Biên", None).await;
    let stored = app.snapshot().await;

    let error = import(&app.db, &options(&inputs)).await.expect_err("a stranded unit");
    match error.downcast_ref::<Error>() {
        Some(Error::FailedPrecondition(rules)) => {
            assert_eq!(rules.iter().map(|r| r.subject.as_str()).collect::<Vec<_>>(), [unit.name.as_str()]);
            assert!(rules[0].description.contains("localities/100"), "{rules:?}");
        }
        _ => panic!("expected FAILED_PRECONDITION naming {}, got {error:#}", unit.name),
    }
    assert_eq!(app.snapshot().await, stored, "nothing was written");
}

/// A folder of its own under the temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("hrplan-official-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&path).expect("a scratch folder");
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

#[tokio::test]
async fn missing_or_malformed_inputs_fail_naming_the_file_and_how_to_get_it_and_change_nothing() {
    let app = spawn_app().await;
    let inputs = official_inputs();
    seed_dien_bien(&mut app.as_admin().localities()).await;
    let stored = app.snapshot().await;
    let scratch = Scratch::new("bad-inputs");
    let failure = |options: ImportOptions| {
        let db = app.db.clone();
        async move { format!("{:#}", import(&db, &options).await.expect_err("bad inputs")) }
    };

    let missing = scratch.0.join("no-such.whl");
    let message = failure(ImportOptions { divisions: missing.clone(), ..options(&inputs) }).await;
    assert!(message.contains(&missing.display().to_string()), "{message}");
    assert!(message.contains("pip download --no-deps vietnam-provinces==0.6.0"), "{message}");

    let empty = Scratch::new("empty");
    let message = failure(ImportOptions { admin_units: empty.0.clone(), ..options(&inputs) }).await;
    assert!(message.contains("splits.json") && message.contains("dvhcvn/20250701"), "{message}");

    let garbled = scratch.0.join("nested-divisions.json");
    std::fs::write(&garbled, "{ not json").expect("writing a garbled file");
    let message = failure(ImportOptions { divisions: garbled.clone(), ..options(&inputs) }).await;
    assert!(message.contains(&garbled.display().to_string()) && message.contains("nested-divisions.json"), "{message}");

    let broken_zip = scratch.0.join("broken.whl");
    std::fs::write(&broken_zip, b"PK\x03\x04 not a zip").expect("writing a broken wheel");
    let message = failure(ImportOptions { divisions: broken_zip, ..options(&inputs) }).await;
    assert!(message.contains("not a readable wheel"), "{message}");

    let admin_units = Scratch::new("admin-units");
    std::fs::copy(inputs.admin_units.join("splits.json"), admin_units.0.join("splits.json")).expect("copy");
    std::fs::write(admin_units.0.join("merges.json"), r#"{"data": [{"level1_id": "01"}]}"#).expect("write");
    let message = failure(ImportOptions { admin_units: admin_units.0.clone(), ..options(&inputs) }).await;
    assert!(message.contains("merges.json") && message.contains("dvhcvn/20250701"), "{message}");

    // Well-formed JSON that disagrees with the other files.
    let merges = read_json(&inputs.admin_units.join("merges.json"));
    let mut cut = merges.clone();
    if let Some(provinces) = cut["data"].as_array_mut() {
        provinces.truncate(1);
    }
    std::fs::write(admin_units.0.join("merges.json"), cut.to_string()).expect("write");
    let message = failure(ImportOptions { admin_units: admin_units.0.clone(), ..options(&inputs) }).await;
    assert!(message.contains("merges.json") && message.contains("goes to no new unit"), "{message}");

    let old_tree_from = NaiveDate::from_ymd_opt(2025, 7, 1).expect("a date");
    let message = failure(ImportOptions { old_tree_from, ..options(&inputs) }).await;
    assert!(message.contains("--old-tree-from 2025-07-01 must be before"), "{message}");

    assert_eq!(app.snapshot().await, stored, "bad inputs change nothing");
}

#[tokio::test]
async fn the_demo_loaded_after_the_official_tree_staffs_only_the_demo_localities() {
    // The same demo loaded on its own tree, to compare with.
    let reference = spawn_app_with(|config| config.demo = true).await;
    let count = |app: &TestApp, sql: &'static str| {
        let db = app.db.clone();
        async move {
            let row = db.query_one_raw(stmt(db.get_database_backend(), sql, vec![])).await.expect("count");
            row.expect("a row").try_get::<i64>("", "n").expect("n")
        }
    };
    let demo_people = count(&reference, "SELECT COUNT(*) AS n FROM people").await;
    let demo_units = count(&reference, "SELECT COUNT(*) AS n FROM units").await;
    assert!(demo_people > 0 && demo_units > 0);

    let app = spawn_app().await;
    let inputs = official_inputs();
    import(&app.db, &options(&inputs)).await.expect("import into a fresh database");
    hrplan::demo::load(&app.db).await.expect("the demo over the official tree");

    // The whole country's tree is there, but the demo workforce stays the demo's.
    let demo_codes = hrplan::demo::tree_codes().expect("demo codes");
    let staffed: BTreeSet<String> = app
        .db
        .query_all_raw(stmt(app.db.get_database_backend(), "SELECT DISTINCT locality_code FROM units", vec![]))
        .await
        .expect("unit localities")
        .iter()
        .map(|r| r.try_get("", "locality_code").expect("code"))
        .collect();
    assert!(!staffed.is_empty());
    assert!(
        staffed.iter().all(|c| demo_codes.iter().any(|d| d.as_str() == c)),
        "units outside the demo tree: {:?}",
        staffed.iter().filter(|c| !demo_codes.iter().any(|d| d.as_str() == *c)).take(5).collect::<Vec<_>>()
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM units").await, demo_units);
    // The official tree links some demo communes to successors outside the demo, so
    // who moves where on 2025-07-01 differs a little; the workforce stays demo-sized
    // (the country's 10,000 communes would give some 350,000 people).
    let people = count(&app, "SELECT COUNT(*) AS n FROM people").await;
    assert!(people > demo_people * 9 / 10 && people < demo_people * 11 / 10, "{people} people, demo {demo_people}");
    app.assert_facts_in_step().await;
}
