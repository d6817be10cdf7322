//! What the demo's planning records are drawn from: the demo tree, units, people,
//! placements and qualifications as the database holds them, read once (a few
//! thousand rows) so that people and units can be chosen by their posts on a date.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::{
    domain::{
        date::period_contains,
        locality::{Code, Tier},
    },
    people::rules::person::Category,
    store::stmt,
};

/// A unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Its id.
    pub id: i64,
    /// Its locality.
    pub locality: Code,
    /// Its kind as stored (`peoples_committee`).
    pub kind: String,
    /// First day.
    pub from: NaiveDate,
    /// First day no longer in force.
    pub until: Option<NaiveDate>,
}

impl Unit {
    /// Whether the unit lives through `[from, until)` (`until = None`: for good).
    pub fn covers(&self, from: NaiveDate, until: Option<NaiveDate>) -> bool {
        self.from <= from
            && match (self.until, until) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(end), Some(until)) => end >= until,
            }
    }
}

/// A person's employment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    /// The category.
    pub category: Category,
    /// Last day employed plus one, if the employment ended.
    pub employed_until: Option<NaiveDate>,
}

/// A placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The person.
    pub person_id: i64,
    /// The unit.
    pub unit_id: i64,
    /// The post.
    pub post_title: String,
    /// Whether the post is a leader's.
    pub leader: bool,
    /// First day.
    pub from: NaiveDate,
    /// First day no longer in force.
    pub until: Option<NaiveDate>,
}

/// A person placed on a day: the person, the placement and its unit.
#[derive(Debug, Clone, Copy)]
pub struct Seat<'a> {
    /// The person's id.
    pub person_id: i64,
    /// The person.
    pub person: &'a Person,
    /// The placement in force.
    pub placement: &'a Placed,
    /// Its unit.
    pub unit: &'a Unit,
}

/// A locality's versions: (valid from, valid until, parent).
type Versions = Vec<(NaiveDate, Option<NaiveDate>, Option<Code>)>;

/// The demo workforce as read from the database.
#[derive(Debug, Default)]
pub struct Workforce {
    versions: BTreeMap<Code, Versions>,
    /// Units by id.
    pub units: BTreeMap<i64, Unit>,
    /// People by id.
    pub people: BTreeMap<i64, Person>,
    placements: BTreeMap<i64, Vec<Placed>>,
    held: BTreeMap<i64, Vec<(String, i32, NaiveDate)>>,
    ranks: HashMap<(String, String), i32>,
}

impl Workforce {
    /// Reads the workforce.
    pub async fn read(db: &DatabaseConnection) -> anyhow::Result<Self> {
        let backend = db.get_database_backend();
        let rows = |sql: &str| db.query_all_raw(stmt(backend, sql, vec![]));
        let mut workforce = Self::default();
        for r in
            rows("SELECT code, valid_from, valid_until, parent_code FROM locality_versions ORDER BY code, valid_from")
                .await?
        {
            let parent: Option<String> = r.try_get("", "parent_code")?;
            workforce.versions.entry(Code::from_db(r.try_get("", "code")?)).or_default().push((
                r.try_get("", "valid_from")?,
                r.try_get("", "valid_until")?,
                parent.map(Code::from_db),
            ));
        }
        for r in rows("SELECT id, locality_code, kind, valid_from, valid_until FROM units ORDER BY id").await? {
            let id: i64 = r.try_get("", "id")?;
            workforce.units.insert(
                id,
                Unit {
                    id,
                    locality: Code::from_db(r.try_get("", "locality_code")?),
                    kind: r.try_get("", "kind")?,
                    from: r.try_get("", "valid_from")?,
                    until: r.try_get("", "valid_until")?,
                },
            );
        }
        for r in rows("SELECT id, category, employed_until FROM people ORDER BY id").await? {
            let category: String = r.try_get("", "category")?;
            workforce.people.insert(
                r.try_get("", "id")?,
                Person {
                    category: Category::from_db(&category).with_context(|| format!("stored category {category}"))?,
                    employed_until: r.try_get("", "employed_until")?,
                },
            );
        }
        for r in rows(
            "SELECT person_id, unit_id, post_title, is_leader, valid_from, valid_until FROM placements \
             ORDER BY person_id, valid_from, id",
        )
        .await?
        {
            let person_id: i64 = r.try_get("", "person_id")?;
            workforce.placements.entry(person_id).or_default().push(Placed {
                person_id,
                unit_id: r.try_get("", "unit_id")?,
                post_title: r.try_get("", "post_title")?,
                leader: r.try_get("", "is_leader")?,
                from: r.try_get("", "valid_from")?,
                until: r.try_get("", "valid_until")?,
            });
        }
        for r in rows("SELECT scale_code, code, rank FROM scale_levels").await? {
            workforce.ranks.insert((r.try_get("", "scale_code")?, r.try_get("", "code")?), r.try_get("", "rank")?);
        }
        for r in rows(
            "SELECT q.person_id, q.scale_code, s.rank, q.awarded_on FROM qualifications q \
             JOIN scale_levels s ON s.scale_code = q.scale_code AND s.code = q.level_code ORDER BY q.id",
        )
        .await?
        {
            workforce.held.entry(r.try_get("", "person_id")?).or_default().push((
                r.try_get("", "scale_code")?,
                r.try_get("", "rank")?,
                r.try_get("", "awarded_on")?,
            ));
        }
        Ok(workforce)
    }

    /// The parent of `code` on `day`; `None` for a province or a locality not in force.
    pub fn parent_on(&self, code: &Code, day: NaiveDate) -> Option<&Code> {
        self.versions.get(code)?.iter().find(|(from, until, _)| period_contains(*from, *until, day))?.2.as_ref()
    }

    /// Whether `code` is in force on `day`.
    pub fn in_force(&self, code: &Code, day: NaiveDate) -> bool {
        self.versions.get(code).is_some_and(|v| v.iter().any(|(from, until, _)| period_contains(*from, *until, day)))
    }

    /// The localities in force on `day`, by code.
    pub fn codes_in_force(&self, day: NaiveDate) -> Vec<&Code> {
        self.versions.keys().filter(|code| self.in_force(code, day)).collect()
    }

    /// Whether `code` is `root` or lies under it on `day`.
    pub fn within(&self, code: &Code, root: &Code, day: NaiveDate) -> bool {
        if !self.in_force(code, day) {
            return false;
        }
        let mut current = code;
        for _ in 0..3 {
            if current == root {
                return true;
            }
            match self.parent_on(current, day) {
                Some(parent) => current = parent,
                None => return false,
            }
        }
        false
    }

    /// The province of `code` on `day`.
    pub fn province_on(&self, code: &Code, day: NaiveDate) -> Option<Code> {
        let mut current = code;
        for _ in 0..3 {
            if current.tier() == Tier::Province {
                return Some(current.clone());
            }
            current = self.parent_on(current, day)?;
        }
        None
    }

    /// Everyone employed and placed on `day`, by person.
    pub fn seated_on(&self, day: NaiveDate) -> Vec<Seat<'_>> {
        let mut seats = Vec::new();
        for (person_id, placements) in &self.placements {
            let Some(person) = self.people.get(person_id) else { continue };
            if person.employed_until.is_some_and(|until| until <= day) {
                continue;
            }
            let placed = placements.iter().find(|p| period_contains(p.from, p.until, day));
            if let Some(placement) = placed
                && let Some(unit) = self.units.get(&placement.unit_id)
            {
                seats.push(Seat { person_id: *person_id, person, placement, unit });
            }
        }
        seats
    }

    /// The rank of a level; an error names a level the scales lack.
    pub fn rank(&self, scale: &str, level: &str) -> anyhow::Result<i32> {
        self.ranks
            .get(&(scale.to_owned(), level.to_owned()))
            .copied()
            .with_context(|| format!("demo data: no level scales/{scale}/levels/{level}"))
    }

    /// The highest rank a person holds on `scale` on `day` (0 with none).
    pub fn rank_on(&self, person_id: i64, scale: &str, day: NaiveDate) -> i32 {
        self.held
            .get(&person_id)
            .into_iter()
            .flatten()
            .filter(|(s, _, awarded)| s == scale && *awarded <= day)
            .map(|(_, rank, _)| *rank)
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn code(c: &str) -> Code {
        Code::from_db(c.to_owned())
    }

    #[test]
    fn a_commune_lies_under_its_district_until_the_district_ends() {
        let mut w = Workforce::default();
        let reform = day(2025, 7, 1);
        w.versions.insert(code("11"), vec![(day(2020, 1, 1), None, None)]);
        w.versions.insert(code("100"), vec![(day(2020, 1, 1), Some(reform), Some(code("11")))]);
        w.versions.insert(
            code("03334"),
            vec![(day(2020, 1, 1), Some(reform), Some(code("100"))), (reform, None, Some(code("11")))],
        );
        assert!(w.within(&code("03334"), &code("100"), day(2025, 6, 30)));
        assert!(!w.within(&code("03334"), &code("100"), reform));
        assert!(w.within(&code("03334"), &code("11"), reform));
        assert_eq!(w.province_on(&code("03334"), day(2021, 1, 1)), Some(code("11")));
        assert!(!w.in_force(&code("100"), reform));
    }

    #[test]
    fn a_unit_covers_a_period_inside_its_own() {
        let unit = Unit {
            id: 1,
            locality: code("100"),
            kind: "school".into(),
            from: day(2020, 1, 1),
            until: Some(day(2025, 7, 1)),
        };
        assert!(unit.covers(day(2021, 1, 1), Some(day(2025, 7, 1))));
        assert!(!unit.covers(day(2021, 1, 1), Some(day(2025, 7, 2))));
        assert!(!unit.covers(day(2021, 1, 1), None));
        assert!(!unit.covers(day(2019, 12, 31), Some(day(2021, 1, 1))));
    }
}
