//! The official tree as the generator uses it: read back from the database after
//! issue 7's import, with the units the generator gives each locality.
//!
//! Before 2025-07-01 the tree has 63 provinces, their districts and about 10,000
//! communes; from then on 34 provinces and 3,321 communes with no districts. The links
//! of the reorganisation (merges and splits) say which old localities each new one
//! comes from, which is where a person's history before 2025-07-01 is placed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use hrplan::{domain::text::fold, localities::official_tree::EFFECTIVE_DATE, store};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::load::{Format, Rows};

/// A unit the generator creates: what it is, and how many of a locality's people it
/// holds relative to its siblings.
#[derive(Debug, Clone, Copy)]
pub struct UnitSpec {
    /// The name, before the locality's name.
    pub prefix: &'static str,
    /// Its sector, as stored.
    pub sector: &'static str,
    /// Its kind, as stored.
    pub kind: &'static str,
    /// Relative share of the locality's people.
    pub weight: u32,
    /// What it does, for choosing posts and categories.
    pub role: UnitRole,
}

/// What a unit does, for the people in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitRole {
    /// Administration (people's committees, departments).
    Administration,
    /// A school.
    School,
    /// A health facility.
    Health,
    /// The party or the Fatherland Front.
    Political,
}

const fn spec(prefix: &'static str, sector: &'static str, kind: &'static str, weight: u32, role: UnitRole) -> UnitSpec {
    UnitSpec { prefix, sector, kind, weight, role }
}

/// The agencies of a province. Provincial agencies, schools and hospitals hold more
/// than half of the country's public workforce.
pub const PROVINCE_UNITS: [UnitSpec; 14] = [
    spec("Văn phòng Ủy ban nhân dân", "state_administration", "peoples_committee", 4, UnitRole::Administration),
    spec("Sở Nội vụ", "state_administration", "specialised_department", 3, UnitRole::Administration),
    spec("Sở Tài chính", "state_administration", "specialised_department", 3, UnitRole::Administration),
    spec("Sở Giáo dục và Đào tạo", "state_administration", "specialised_department", 3, UnitRole::Administration),
    spec("Sở Y tế", "state_administration", "specialised_department", 3, UnitRole::Administration),
    spec("Sở Nông nghiệp và Môi trường", "state_administration", "specialised_department", 4, UnitRole::Administration),
    spec("Bệnh viện Đa khoa", "health", "health_facility", 18, UnitRole::Health),
    spec("Trung tâm Kiểm soát bệnh tật", "health", "health_facility", 6, UnitRole::Health),
    spec("Trường Trung học phổ thông chuyên", "education", "school", 8, UnitRole::School),
    spec("Trường Cao đẳng", "education", "school", 8, UnitRole::School),
    spec("Các trường Trung học phổ thông", "education", "school", 25, UnitRole::School),
    spec("Tỉnh ủy", "party", "party_committee", 5, UnitRole::Political),
    spec("Ủy ban Mặt trận Tổ quốc Việt Nam", "mass_organisation", "mass_organisation", 3, UnitRole::Political),
    spec("Trung tâm Phục vụ hành chính công", "other", "public_service_unit", 5, UnitRole::Administration),
];

/// The units of a district (until 2025-07-01): committee, health centre, schools.
pub const DISTRICT_UNITS: [UnitSpec; 3] = [
    spec("Ủy ban nhân dân", "state_administration", "peoples_committee", 1, UnitRole::Administration),
    spec("Trung tâm Y tế", "health", "health_facility", 1, UnitRole::Health),
    spec("Các trường Trung học cơ sở", "education", "school", 1, UnitRole::School),
];

/// The units of a commune before 2025-07-01.
pub const OLD_COMMUNE_UNITS: [UnitSpec; 2] = [
    spec("Ủy ban nhân dân", "state_administration", "peoples_committee", 1, UnitRole::Administration),
    spec("Trường Tiểu học", "education", "school", 1, UnitRole::School),
];

/// The units of a commune from 2025-07-01, and their shares of its people.
pub const NEW_COMMUNE_UNITS: [UnitSpec; 3] = [
    spec("Ủy ban nhân dân", "state_administration", "peoples_committee", 15, UnitRole::Administration),
    spec("Các trường Tiểu học và Trung học cơ sở", "education", "school", 60, UnitRole::School),
    spec("Trạm Y tế", "health", "health_facility", 25, UnitRole::Health),
];

/// A province before 2025-07-01.
#[derive(Debug)]
pub struct OldProvince {
    /// Its units (shared with the new province of the same code when it continues).
    pub units: Vec<i64>,
    /// Its districts (indexes).
    pub districts: Vec<usize>,
}

/// A district (before 2025-07-01).
#[derive(Debug)]
pub struct District {
    /// Its units ([`DISTRICT_UNITS`]).
    pub units: Vec<i64>,
    /// Its communes (indexes).
    pub communes: Vec<usize>,
}

/// A commune before 2025-07-01.
#[derive(Debug)]
pub struct OldCommune {
    /// Its district (index).
    pub district: usize,
    /// Its units ([`OLD_COMMUNE_UNITS`]).
    pub units: Vec<i64>,
}

/// A province from 2025-07-01.
#[derive(Debug)]
pub struct Province {
    /// Its code.
    pub code: String,
    /// Its units ([`PROVINCE_UNITS`]).
    pub units: Vec<i64>,
    /// Its communes (indexes).
    pub communes: Vec<usize>,
    /// The old provinces it comes from (indexes; itself when it continues).
    pub predecessors: Vec<usize>,
}

/// A commune from 2025-07-01.
#[derive(Debug)]
pub struct Commune {
    /// Its code.
    pub code: String,
    /// Its units ([`NEW_COMMUNE_UNITS`]).
    pub units: Vec<i64>,
    /// The old communes it comes from (indexes).
    pub predecessors: Vec<usize>,
}

/// The tree before and after the reorganisation, with units.
#[derive(Debug)]
pub struct Tree {
    /// Provinces before.
    pub old_provinces: Vec<OldProvince>,
    /// Districts before.
    pub districts: Vec<District>,
    /// Communes before.
    pub old_communes: Vec<OldCommune>,
    /// Provinces after.
    pub provinces: Vec<Province>,
    /// Communes after.
    pub communes: Vec<Commune>,
    /// The rows of the units.
    pub unit_rows: Rows,
    /// Units created.
    pub unit_count: usize,
}

#[derive(Debug)]
struct Version {
    code: String,
    tier: String,
    name: String,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    parent: Option<String>,
}

struct UnitMaker {
    rows: Rows,
    next_id: i64,
    count: usize,
    stamp: String,
}

impl UnitMaker {
    fn make(
        &mut self,
        specs: &[UnitSpec],
        code: &str,
        name: &str,
        from: NaiveDate,
        until: Option<NaiveDate>,
    ) -> Vec<i64> {
        specs
            .iter()
            .map(|spec| {
                let id = self.next_id;
                self.next_id += 1;
                self.count += 1;
                let display = format!("{} {name}", spec.prefix);
                self.rows
                    .int(id)
                    .text(code)
                    .text(&display)
                    .text(&fold(&display))
                    .text(spec.sector)
                    .text(spec.kind)
                    .date(from)
                    .opt_date(until)
                    .int(1)
                    .text(&self.stamp)
                    .text(&self.stamp);
                self.rows.end();
                id
            })
            .collect()
    }
}

/// The columns of the unit rows.
pub const UNITS: &str = "units (id, locality_code, name, name_folded, sector, kind, valid_from, valid_until, revision, create_time, update_time)";

/// Reads the imported tree from `db` and plans its units (ids from `first_unit_id`).
pub async fn read(db: &DatabaseConnection, format: Format, first_unit_id: i64, stamp: &str) -> anyhow::Result<Tree> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(store::stmt(
            backend,
            "SELECT v.code, l.tier, v.name, v.valid_from, v.valid_until, v.parent_code FROM locality_versions v \
             JOIN localities l ON l.code = v.code ORDER BY v.code, v.valid_from",
            vec![],
        ))
        .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in &rows {
        versions.push(Version {
            code: row.try_get("", "code")?,
            tier: row.try_get("", "tier")?,
            name: row.try_get("", "name")?,
            valid_from: row.try_get("", "valid_from")?,
            valid_until: row.try_get("", "valid_until")?,
            parent: row.try_get("", "parent_code")?,
        });
    }
    let links: Vec<(String, String)> = db
        .query_all_raw(store::stmt(backend, "SELECT predecessor_code, successor_code FROM locality_links", vec![]))
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "predecessor_code")?, row.try_get("", "successor_code")?)))
        .collect::<anyhow::Result<_>>()?;

    let mut maker =
        UnitMaker { rows: Rows::new(UNITS, format), next_id: first_unit_id, count: 0, stamp: stamp.to_owned() };
    let before = |v: &Version| v.valid_from < EFFECTIVE_DATE;
    let after = |v: &Version| v.valid_until.is_none_or(|u| u > EFFECTIVE_DATE);

    // Provinces: a code in force on both sides keeps its agencies (one set of units).
    let mut old_provinces = Vec::new();
    let mut old_province_of: HashMap<String, usize> = HashMap::new();
    let mut provinces = Vec::new();
    let mut province_of: HashMap<String, usize> = HashMap::new();
    for v in versions.iter().filter(|v| v.tier == "province") {
        let units = maker.make(&PROVINCE_UNITS, &v.code, &v.name, v.valid_from, v.valid_until);
        if before(v) {
            old_province_of.insert(v.code.clone(), old_provinces.len());
            old_provinces.push(OldProvince { units: units.clone(), districts: Vec::new() });
        }
        if after(v) {
            province_of.insert(v.code.clone(), provinces.len());
            provinces.push(Province { code: v.code.clone(), units, communes: Vec::new(), predecessors: Vec::new() });
        }
    }
    let mut districts = Vec::new();
    let mut district_of: HashMap<String, usize> = HashMap::new();
    for v in versions.iter().filter(|v| v.tier == "district" && before(v)) {
        let Some(&province) = v.parent.as_ref().and_then(|p| old_province_of.get(p)) else { continue };
        let units = maker.make(&DISTRICT_UNITS, &v.code, &v.name, v.valid_from, v.valid_until);
        district_of.insert(v.code.clone(), districts.len());
        old_provinces[province].districts.push(districts.len());
        districts.push(District { units, communes: Vec::new() });
    }
    let mut old_communes = Vec::new();
    let mut old_commune_of: HashMap<String, usize> = HashMap::new();
    let mut communes = Vec::new();
    let mut commune_of: HashMap<String, usize> = HashMap::new();
    for v in versions.iter().filter(|v| v.tier == "commune") {
        if before(v) {
            let Some(&district) = v.parent.as_ref().and_then(|p| district_of.get(p)) else { continue };
            let units = maker.make(&OLD_COMMUNE_UNITS, &v.code, &v.name, v.valid_from, v.valid_until);
            old_commune_of.insert(v.code.clone(), old_communes.len());
            districts[district].communes.push(old_communes.len());
            old_communes.push(OldCommune { district, units });
        } else if after(v) {
            let Some(&province) = v.parent.as_ref().and_then(|p| province_of.get(p)) else { continue };
            let units = maker.make(&NEW_COMMUNE_UNITS, &v.code, &v.name, v.valid_from, v.valid_until);
            commune_of.insert(v.code.clone(), communes.len());
            provinces[province].communes.push(communes.len());
            communes.push(Commune { code: v.code.clone(), units, predecessors: Vec::new() });
        }
    }

    // Where each new locality comes from: the links, and for a province whose code
    // continues, itself. A commune with no link of its own goes to the new commune of
    // the same code, if there is one.
    let mut province_from: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let mut commune_from: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let mut linked: BTreeSet<usize> = BTreeSet::new();
    for (from, to) in &links {
        if let (Some(&old), Some(&new)) = (old_province_of.get(from), province_of.get(to)) {
            province_from.entry(new).or_default().insert(old);
        }
        if let (Some(&old), Some(&new)) = (old_commune_of.get(from), commune_of.get(to)) {
            commune_from.entry(new).or_default().insert(old);
            linked.insert(old);
        }
    }
    for (code, &new) in &province_of {
        if let Some(&old) = old_province_of.get(code) {
            province_from.entry(new).or_default().insert(old);
        }
    }
    for (code, &old) in &old_commune_of {
        if !linked.contains(&old)
            && let Some(&new) = commune_of.get(code)
        {
            commune_from.entry(new).or_default().insert(old);
        }
    }
    for (new, olds) in province_from {
        provinces[new].predecessors = olds.into_iter().collect();
    }
    for (new, olds) in commune_from {
        communes[new].predecessors = olds.into_iter().collect();
    }
    anyhow::ensure!(
        !provinces.is_empty() && !communes.is_empty(),
        "the official tree has no province or commune in force from {EFFECTIVE_DATE}: was it imported?"
    );
    Ok(Tree {
        old_provinces,
        districts,
        old_communes,
        provinces,
        communes,
        unit_count: maker.count,
        unit_rows: maker.rows,
    })
}
