//! The demo workforce: units for every demo locality version and people placed in
//! them, with qualifications and ratings drawn from the distributions in
//! `data/demo-people.json`. On 2025-07-01 the staff of ended communes and districts
//! move to the units of the communes that succeeded them, as happened in 2025.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use chrono::{Datelike, NaiveDate};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Deserialize;

use super::rng::{Rng, Weighted};
use crate::{
    context::RequestContext,
    domain::locality::{Code, Tier},
    edge::enums::Table as _,
    localities::queries::{self as localities, LocalityRecord},
    people::{
        queries::{self as people, NewRecord},
        rules::person::{Category, EmploymentEnd, Gender, PersonFields, PlacementFields, QualificationFields, Rating},
    },
    store::{self},
    units::{self, Sector, UnitFields, UnitKind, wire::CreateUnit},
};

const PEOPLE: &str = include_str!("../../data/demo-people.json");

#[derive(Deserialize)]
struct Spec {
    seed: u64,
    family_names: HashMap<String, Vec<String>>,
    middle_names: HashMap<String, Vec<String>>,
    given_names: HashMap<String, Vec<String>>,
    ethnic_groups: HashMap<String, Weighted>,
    units: Vec<UnitSpec>,
    professional: HashMap<String, Weighted>,
    political_theory: HashMap<String, Weighted>,
    state_management: HashMap<String, Weighted>,
    ratings: Weighted,
    retirement_percent: u32,
}

#[derive(Deserialize)]
struct UnitSpec {
    tier: String,
    kind: String,
    sector: String,
    name: String,
    staff: usize,
    posts: Vec<(String, bool, bool)>,
    categories: Weighted,
}

/// "Xã Chi Lăng" as it reads inside a unit's name: "xã Chi Lăng".
fn inner_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

struct DemoUnit {
    id: i64,
    spec: usize,
    locality: Code,
    province: Code,
    from: NaiveDate,
    until: Option<NaiveDate>,
}

fn date(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).with_context(|| format!("bad demo date {y}-{m}-{d}"))
}

/// The province of a locality on `day`, walking up the versions in force that day.
fn province_of(records: &BTreeMap<Code, LocalityRecord>, code: &Code, day: NaiveDate) -> Option<Code> {
    let mut current = code.clone();
    for _ in 0..3 {
        if current.tier() == Tier::Province {
            return Some(current);
        }
        let version = records.get(&current)?.versions.iter().find(|v| v.contains(day))?;
        current = version.parent.clone()?;
    }
    None
}

/// Creates the demo units and people unless people exist already. Returns how many
/// people it created.
pub async fn load(db: &DatabaseConnection, ctx: &RequestContext) -> anyhow::Result<usize> {
    let row =
        db.query_one_raw(store::stmt(db.get_database_backend(), "SELECT COUNT(*) AS n FROM people", vec![])).await?;
    if row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or_default() > 0 {
        return Ok(0);
    }
    let spec: Spec = serde_json::from_str(PEOPLE)?;
    let mut rng = Rng::new(spec.seed);
    let reorganization = date(2025, 7, 1)?;
    let today = crate::domain::date::today();

    // Only the demo tree's localities, even when the database holds more (the official
    // tree of the whole country): the demo stays small wherever it is loaded.
    let demo_codes = super::tree_codes()?;
    let codes: Vec<Code> = db
        .query_all_raw(store::stmt(db.get_database_backend(), "SELECT code FROM localities ORDER BY code", vec![]))
        .await?
        .iter()
        .map(|r| Ok(Code::from_db(r.try_get("", "code")?)))
        .filter(|code: &anyhow::Result<Code>| code.as_ref().map_or(true, |c| demo_codes.contains(c)))
        .collect::<anyhow::Result<_>>()?;
    let records: BTreeMap<Code, LocalityRecord> = localities::load(db, &codes)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .map(|r| (r.code.clone(), r))
        .collect();

    // Units: one set per locality version, living as long as the version.
    let mut demo_units: Vec<DemoUnit> = Vec::new();
    for record in records.values() {
        for version in &record.versions {
            let Some(province) = province_of(&records, &record.code, version.valid_from) else { continue };
            for (index, unit) in spec.units.iter().enumerate().filter(|(_, u)| u.tier == record.tier.as_str()) {
                let new = CreateUnit {
                    locality: record.code.clone(),
                    fields: UnitFields {
                        display_name: unit.name.replace("{name}", &inner_name(&version.display_name)),
                        sector: Sector::from_stored(&unit.sector)
                            .with_context(|| format!("demo sector {}", unit.sector))?,
                        kind: UnitKind::from_stored(&unit.kind)
                            .with_context(|| format!("demo unit kind {}", unit.kind))?,
                        valid_from: version.valid_from,
                        valid_until: version.valid_until,
                        code: None,
                    },
                    key: None,
                };
                let created =
                    units::usecases::create(db, ctx, new).await.map_err(|e| anyhow::anyhow!("demo unit: {e}"))?;
                demo_units.push(DemoUnit {
                    id: created.name.id(),
                    spec: index,
                    locality: record.code.clone(),
                    province: province.clone(),
                    from: version.valid_from,
                    until: version.valid_until,
                });
            }
        }
    }

    // Where the staff of a unit that ends on 2025-07-01 go: the same kind of unit of
    // the commune that continues the code, or of its first successor, or (districts)
    // of a commune of the same province.
    let after: Vec<&DemoUnit> = demo_units.iter().filter(|u| u.from == reorganization).collect();
    let commune_committee = spec.units.iter().position(|u| u.tier == "commune" && u.kind == "peoples_committee");
    let successor_unit = |unit: &DemoUnit, rng: &mut Rng| -> Option<i64> {
        let same_spec = |code: &Code| after.iter().find(|u| &u.locality == code && u.spec == unit.spec).map(|u| u.id);
        let any_commune = |rng: &mut Rng| {
            let candidates: Vec<i64> = after
                .iter()
                .filter(|u| {
                    u.province == unit.province
                        && u.locality.tier() == Tier::Commune
                        && Some(u.spec) == commune_committee
                })
                .map(|u| u.id)
                .collect();
            rng.pick(&candidates).copied()
        };
        same_spec(&unit.locality)
            .or_else(|| records.get(&unit.locality)?.successors.iter().find_map(|link| same_spec(&link.other)))
            .or_else(|| any_commune(rng))
    };

    let mut new_records = Vec::new();
    for unit in &demo_units {
        // Units begun by the reorganisation are staffed by those who move in, plus a
        // few new hires for units that have no predecessor.
        let spec_unit = &spec.units[unit.spec];
        let staff = if unit.from == reorganization {
            if records.get(&unit.locality).is_some_and(|r| r.versions.len() > 1) { 0 } else { spec_unit.staff / 2 }
        } else {
            spec_unit.staff
        };
        for slot in 0..staff {
            let ethnic_table = spec.ethnic_groups.get(unit.province.as_str()).or_else(|| spec.ethnic_groups.get("01"));
            let ethnicity = ethnic_table.and_then(|t| rng.weighted(t)).unwrap_or("Kinh").to_owned();
            let female =
                rng.percent(if spec_unit.sector == "education" || spec_unit.sector == "health" { 70 } else { 42 });
            let sex = if female { "female" } else { "male" };
            let family = spec
                .family_names
                .get(&ethnicity)
                .or_else(|| spec.family_names.get("Kinh"))
                .and_then(|names| rng.pick(names).cloned())
                .unwrap_or_default();
            let middle = spec.middle_names.get(sex).and_then(|n| rng.pick(n).cloned()).unwrap_or_default();
            let given = spec.given_names.get(sex).and_then(|n| rng.pick(n).cloned()).unwrap_or_default();
            let (post, leader, key_post) = spec_unit
                .posts
                .get(slot.min(spec_unit.posts.len().saturating_sub(1)))
                .cloned()
                .unwrap_or_else(|| ("Chuyên viên".to_owned(), false, false));
            let category_name = if leader && spec_unit.sector != "education" && spec_unit.sector != "health" {
                "cadre"
            } else {
                rng.weighted(&spec_unit.categories).unwrap_or("civil_servant")
            };
            let category =
                Category::from_db(category_name).with_context(|| format!("demo category {category_name}"))?;
            let age_then = 24 + i32::try_from(rng.below(34)).unwrap_or_default();
            let birth = date(
                unit.from.year() - age_then,
                1 + u32::try_from(rng.below(12)).unwrap_or_default(),
                1 + u32::try_from(rng.below(28)).unwrap_or_default(),
            )?;
            let employed_from =
                date(birth.year() + 22 + i32::try_from(rng.below(4)).unwrap_or_default(), 8, 1)?.min(unit.from);
            let start = unit.from;
            let mut end = unit.until;
            let mut next_unit = None;
            if unit.until == Some(reorganization) {
                next_unit = successor_unit(unit, &mut rng);
            }
            let retires = rng.percent(spec.retirement_percent);
            let retirement = if retires {
                Some(rng.day_between(start + chrono::Duration::days(30), end.unwrap_or(today).min(today)))
            } else {
                None
            };
            let mut placements = Vec::new();
            if let Some(day) = retirement {
                end = Some(day);
                next_unit = None;
            }
            placements.push(PlacementFields {
                unit_id: unit.id,
                post_title: post.clone(),
                leader,
                key_post,
                valid_from: start,
                valid_until: end,
            });
            if let Some(next) = next_unit {
                placements.push(PlacementFields {
                    unit_id: next,
                    // After a merger most former leaders serve as deputies or specialists.
                    post_title: if leader && !rng.percent(30) {
                        format!("Phó {}", post.trim_start_matches("Phó "))
                    } else {
                        post.clone()
                    },
                    leader: leader && rng.percent(60),
                    key_post: key_post && rng.percent(30),
                    valid_from: reorganization,
                    valid_until: None,
                });
            }
            let employed_until = retirement;
            let health = spec_unit.sector == "health";
            let table = |tables: &HashMap<String, Weighted>, rng: &mut Rng| -> Option<String> {
                let key = if leader {
                    "leader"
                } else if health && tables.contains_key("health") {
                    "health"
                } else if tables.contains_key(category_name) {
                    category_name
                } else {
                    "default"
                };
                tables.get(key).or_else(|| tables.get("default")).and_then(|t| rng.weighted(t)).map(str::to_owned)
            };
            let mut qualifications = Vec::new();
            let graduation = date(birth.year() + 22, 6, 30)?.min(employed_from);
            for (scale, tables, awarded) in [
                ("professional", &spec.professional, graduation),
                (
                    "political_theory",
                    &spec.political_theory,
                    rng.day_between(employed_from, start.max(employed_from + chrono::Duration::days(2))),
                ),
                (
                    "state_management",
                    &spec.state_management,
                    rng.day_between(employed_from, start.max(employed_from + chrono::Duration::days(2))),
                ),
            ] {
                if let Some(level) = table(tables, &mut rng) {
                    qualifications.push(QualificationFields {
                        scale: scale.to_owned(),
                        level,
                        field_of_study: String::new(),
                        institution: String::new(),
                        awarded_on: awarded.min(today),
                    });
                }
            }
            let last_year = employed_until.unwrap_or(today).year() - 1;
            let evaluations = (start.year().max(2020)..=last_year.min(2025))
                .filter_map(|year| rng.weighted(&spec.ratings).and_then(Rating::from_db).map(|r| (year, r)))
                .collect();
            new_records.push(NewRecord {
                person: PersonFields {
                    full_name: format!("{family} {middle} {given}"),
                    birth_date: birth,
                    gender: if female { Gender::Female } else { Gender::Male },
                    ethnicity,
                    category,
                    employed_from,
                    employed_until,
                    end_reason: employed_until.map(|_| EmploymentEnd::Retired),
                },
                placements,
                qualifications,
                evaluations,
            });
        }
    }
    let txn = store::begin_write(db).await?;
    let ids = people::insert_records(&txn, &new_records).await.map_err(|e| anyhow::anyhow!("demo people: {e}"))?;
    crate::store::commit_background(txn).await?;
    Ok(ids.len())
}
