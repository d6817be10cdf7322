//! The person facts as compact columns in memory: every text value is coded as a
//! small integer through a dictionary, every date as a day number, and the rows are
//! kept in one segment per locality, so that a report reads only the segments of its
//! tree's localities (a province is a few hundred segments, never the whole country).

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};

use crate::{
    error::{Error, Result},
    facts::rules::{RATINGS_SEPARATOR, parse_levels_key},
    people::rules::person::MAJORITY_ETHNICITY,
};

/// A stored period of a person's facts, as `person_facts` holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, sea_orm::FromQueryResult)]
pub struct Fact {
    /// The person.
    pub person_id: i64,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day no longer in force (9999-12-31 when open).
    pub valid_until: NaiveDate,
    /// The unit's locality.
    pub locality_code: String,
    /// The unit.
    pub unit_id: i64,
    /// The unit's sector, as stored.
    pub sector: String,
    /// The person's category, as stored.
    pub category: String,
    /// Whether the post is a leader post.
    pub is_leader: bool,
    /// Whether the post is a key post.
    pub is_key_post: bool,
    /// The post title, folded.
    pub post_title_folded: String,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Gender, as stored.
    pub gender: String,
    /// Ethnicity.
    pub ethnicity: String,
    /// The highest levels, as a levels key.
    pub levels: String,
    /// The ratings, `,year=rating,…`.
    pub ratings: String,
}

/// A day as a number (days from the common era), so that comparing days is comparing
/// integers.
pub fn day_number(day: NaiveDate) -> i32 {
    day.num_days_from_ce()
}

fn from_day_number(n: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(n).unwrap_or_default()
}

/// Text values coded as integers, in order of first appearance; codes are never
/// reused, so a code read under a lock stays valid.
#[derive(Debug, Default)]
pub struct Dict {
    values: Vec<String>,
    codes: HashMap<String, u32>,
}

impl Dict {
    /// The code of `value`, given one if new.
    pub fn intern(&mut self, value: &str) -> u32 {
        if let Some(code) = self.codes.get(value) {
            return *code;
        }
        let code = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(value.to_owned());
        self.codes.insert(value.to_owned(), code);
        code
    }

    /// The code of `value`, if it was ever seen.
    pub fn code(&self, value: &str) -> Option<u32> {
        self.codes.get(value).copied()
    }

    /// The value of `code`.
    pub fn value(&self, code: u32) -> &str {
        self.values.get(code as usize).map_or("", String::as_str)
    }

    /// How many values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The flag of a leader post in [`Segment::flags`].
pub const LEADER: u8 = 1;
/// The flag of a key post in [`Segment::flags`].
pub const KEY_POST: u8 = 2;

/// The facts of one locality's units, one vector per column.
#[derive(Debug, Default)]
pub struct Segment {
    /// The person.
    pub person: Vec<i64>,
    /// First day, as a day number.
    pub from: Vec<i32>,
    /// First day no longer in force, as a day number.
    pub until: Vec<i32>,
    /// The unit.
    pub unit: Vec<i64>,
    /// Birth date, as a day number.
    pub birth: Vec<i32>,
    /// Sector code.
    pub sector: Vec<u16>,
    /// Category code.
    pub category: Vec<u16>,
    /// Gender code.
    pub gender: Vec<u16>,
    /// Ethnicity code.
    pub ethnicity: Vec<u16>,
    /// [`LEADER`] and [`KEY_POST`].
    pub flags: Vec<u8>,
    /// Folded post title code.
    pub title: Vec<u32>,
    /// Levels key code.
    pub levels: Vec<u32>,
    /// Ratings code.
    pub ratings: Vec<u32>,
}

impl Segment {
    /// Rows.
    pub fn len(&self) -> usize {
        self.person.len()
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.person.is_empty()
    }

    /// Keeps the rows whose person `keep` accepts, in order; returns how many went.
    fn retain(&mut self, keep: impl Fn(i64) -> bool) -> usize {
        let n = self.len();
        let mut w = 0;
        for r in 0..n {
            if !keep(self.person[r]) {
                continue;
            }
            if w != r {
                self.person[w] = self.person[r];
                self.from[w] = self.from[r];
                self.until[w] = self.until[r];
                self.unit[w] = self.unit[r];
                self.birth[w] = self.birth[r];
                self.sector[w] = self.sector[r];
                self.category[w] = self.category[r];
                self.gender[w] = self.gender[r];
                self.ethnicity[w] = self.ethnicity[r];
                self.flags[w] = self.flags[r];
                self.title[w] = self.title[r];
                self.levels[w] = self.levels[r];
                self.ratings[w] = self.ratings[r];
            }
            w += 1;
        }
        self.person.truncate(w);
        self.from.truncate(w);
        self.until.truncate(w);
        self.unit.truncate(w);
        self.birth.truncate(w);
        self.sector.truncate(w);
        self.category.truncate(w);
        self.gender.truncate(w);
        self.ethnicity.truncate(w);
        self.flags.truncate(w);
        self.title.truncate(w);
        self.levels.truncate(w);
        self.ratings.truncate(w);
        n - w
    }

    fn shrink_to_fit(&mut self) {
        self.person.shrink_to_fit();
        self.from.shrink_to_fit();
        self.until.shrink_to_fit();
        self.unit.shrink_to_fit();
        self.birth.shrink_to_fit();
        self.sector.shrink_to_fit();
        self.category.shrink_to_fit();
        self.gender.shrink_to_fit();
        self.ethnicity.shrink_to_fit();
        self.flags.shrink_to_fit();
        self.title.shrink_to_fit();
        self.levels.shrink_to_fit();
        self.ratings.shrink_to_fit();
    }
}

/// Every person's facts as columns, with the dictionaries that code them.
#[derive(Debug, Default)]
pub struct Columns {
    /// Locality codes; a locality's code indexes [`Columns::segments`].
    pub localities: Dict,
    /// The facts of each locality's units.
    pub segments: Vec<Segment>,
    /// Sectors, as stored.
    pub sectors: Dict,
    /// Categories, as stored.
    pub categories: Dict,
    /// Genders, as stored.
    pub genders: Dict,
    /// Ethnicities.
    pub ethnicities: Dict,
    /// Whether each ethnicity is the majority's.
    pub kinh: Vec<bool>,
    /// Folded post titles.
    pub titles: Dict,
    /// Levels keys.
    pub levels: Dict,
    /// The `(scale, level)` pairs of each levels key.
    pub level_pairs: Vec<Vec<(String, String)>>,
    /// Ratings.
    pub ratings: Dict,
    /// The `(year, rating)` entries of each ratings value, each once.
    pub rating_entries: Vec<Vec<(i32, String)>>,
    /// The locality of each person's facts (the first, when several).
    homes: HashMap<i64, u32>,
    /// The other localities of people whose facts lie in several.
    more_homes: HashMap<i64, Vec<u32>>,
    /// Rows in all.
    rows: usize,
}

fn small(code: u32, what: &str) -> Result<u16> {
    u16::try_from(code).map_err(|_| Error::internal(format!("more than 65,536 distinct {what} in the person facts")))
}

impl Columns {
    /// Rows in all.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// People with facts.
    pub fn people(&self) -> usize {
        self.homes.len()
    }

    /// Adds one period of a person's facts.
    pub fn push(&mut self, fact: &Fact) -> Result<()> {
        let locality = self.localities.intern(&fact.locality_code);
        if locality as usize == self.segments.len() {
            self.segments.push(Segment::default());
        }
        match self.homes.get(&fact.person_id) {
            None => {
                self.homes.insert(fact.person_id, locality);
            }
            Some(home) if *home == locality => {}
            Some(_) => {
                let more = self.more_homes.entry(fact.person_id).or_default();
                if !more.contains(&locality) {
                    more.push(locality);
                }
            }
        }
        let sector = small(self.sectors.intern(&fact.sector), "sectors")?;
        let category = small(self.categories.intern(&fact.category), "categories")?;
        let gender = small(self.genders.intern(&fact.gender), "genders")?;
        let ethnicity_code = self.ethnicities.intern(&fact.ethnicity);
        if ethnicity_code as usize == self.kinh.len() {
            self.kinh.push(fact.ethnicity == MAJORITY_ETHNICITY);
        }
        let ethnicity = small(ethnicity_code, "ethnicities")?;
        let title = self.titles.intern(&fact.post_title_folded);
        let levels = self.levels.intern(&fact.levels);
        if levels as usize == self.level_pairs.len() {
            self.level_pairs.push(parse_levels_key(&fact.levels).map(|(s, l)| (s.to_owned(), l.to_owned())).collect());
        }
        let ratings = self.ratings.intern(&fact.ratings);
        if ratings as usize == self.rating_entries.len() {
            self.rating_entries.push(parse_ratings(&fact.ratings));
        }
        let Some(segment) = self.segments.get_mut(locality as usize) else {
            return Err(Error::internal("a locality code without its segment"));
        };
        segment.person.push(fact.person_id);
        segment.from.push(day_number(fact.valid_from));
        segment.until.push(day_number(fact.valid_until));
        segment.unit.push(fact.unit_id);
        segment.birth.push(day_number(fact.birth_date));
        segment.sector.push(sector);
        segment.category.push(category);
        segment.gender.push(gender);
        segment.ethnicity.push(ethnicity);
        segment.flags.push((u8::from(fact.is_leader) * LEADER) | (u8::from(fact.is_key_post) * KEY_POST));
        segment.title.push(title);
        segment.levels.push(levels);
        segment.ratings.push(ratings);
        self.rows += 1;
        Ok(())
    }

    /// Removes every period of the facts of `people`.
    pub fn remove(&mut self, people: &[i64]) {
        let mut by_locality: HashMap<u32, HashSet<i64>> = HashMap::new();
        for person in people {
            if let Some(home) = self.homes.remove(person) {
                by_locality.entry(home).or_default().insert(*person);
            }
            for locality in self.more_homes.remove(person).unwrap_or_default() {
                by_locality.entry(locality).or_default().insert(*person);
            }
        }
        for (locality, gone) in by_locality {
            if let Some(segment) = self.segments.get_mut(locality as usize) {
                self.rows -= segment.retain(|person| !gone.contains(&person));
            }
        }
    }

    /// Replaces the facts of `people` with `facts` (theirs, as stored now).
    pub fn replace(&mut self, people: &[i64], facts: &[Fact]) -> Result<()> {
        self.remove(people);
        facts.iter().try_for_each(|fact| self.push(fact))
    }

    /// Gives back the memory vectors grew into while loading.
    pub fn shrink_to_fit(&mut self) {
        self.segments.iter_mut().for_each(Segment::shrink_to_fit);
        self.homes.shrink_to_fit();
        self.more_homes.shrink_to_fit();
    }

    /// Every period held, as stored (unordered): for checking that the columns are in
    /// step with `person_facts`.
    pub fn facts(&self) -> Vec<Fact> {
        let mut out = Vec::with_capacity(self.rows);
        for (locality, segment) in self.segments.iter().enumerate() {
            let locality_code = self.localities.value(u32::try_from(locality).unwrap_or(u32::MAX));
            for r in 0..segment.len() {
                out.push(Fact {
                    person_id: segment.person[r],
                    valid_from: from_day_number(segment.from[r]),
                    valid_until: from_day_number(segment.until[r]),
                    locality_code: locality_code.to_owned(),
                    unit_id: segment.unit[r],
                    sector: self.sectors.value(u32::from(segment.sector[r])).to_owned(),
                    category: self.categories.value(u32::from(segment.category[r])).to_owned(),
                    is_leader: segment.flags[r] & LEADER != 0,
                    is_key_post: segment.flags[r] & KEY_POST != 0,
                    post_title_folded: self.titles.value(segment.title[r]).to_owned(),
                    birth_date: from_day_number(segment.birth[r]),
                    gender: self.genders.value(u32::from(segment.gender[r])).to_owned(),
                    ethnicity: self.ethnicities.value(u32::from(segment.ethnicity[r])).to_owned(),
                    levels: self.levels.value(segment.levels[r]).to_owned(),
                    ratings: self.ratings.value(segment.ratings[r]).to_owned(),
                });
            }
        }
        out
    }
}

/// The `(year, rating)` entries of a ratings value (`,2023=good,2024=excellent,`), each
/// once.
fn parse_ratings(ratings: &str) -> Vec<(i32, String)> {
    let mut entries: Vec<(i32, String)> = ratings
        .split(RATINGS_SEPARATOR)
        .filter_map(|entry| entry.split_once('='))
        .filter_map(|(year, rating)| year.parse().ok().map(|y| (y, rating.to_owned())))
        .collect();
    entries.sort();
    entries.dedup();
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(person_id: i64, locality: &str, from: (i32, u32, u32)) -> Fact {
        let day = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        Fact {
            person_id,
            valid_from: day(from),
            valid_until: day((9999, 12, 31)),
            locality_code: locality.into(),
            unit_id: 7,
            sector: "education".into(),
            category: "civil_servant".into(),
            is_leader: person_id % 2 == 0,
            is_key_post: false,
            post_title_folded: "chuyen vien".into(),
            birth_date: day((1980, 2, 29)),
            gender: "female".into(),
            ethnicity: "Kinh".into(),
            levels: "professional=master".into(),
            ratings: ",2023=good,2024=excellent,".into(),
        }
    }

    #[test]
    fn columns_give_back_exactly_the_facts_put_in() {
        let mut columns = Columns::default();
        let facts = [fact(1, "00004", (2020, 1, 1)), fact(2, "00004", (2021, 1, 1)), fact(1, "001", (2010, 1, 1))];
        facts.iter().try_for_each(|f| columns.push(f)).unwrap_or_default();
        let mut got = columns.facts();
        got.sort();
        let mut want = facts.to_vec();
        want.sort();
        assert_eq!(got, want);
        assert_eq!((columns.rows(), columns.people()), (3, 2));
    }

    #[test]
    fn replacing_a_person_removes_every_period_in_every_locality() {
        let mut columns = Columns::default();
        for f in [fact(1, "00004", (2020, 1, 1)), fact(2, "00004", (2021, 1, 1)), fact(1, "001", (2010, 1, 1))] {
            columns.push(&f).unwrap_or_default();
        }
        let new = fact(1, "002", (2022, 1, 1));
        columns.replace(&[1], std::slice::from_ref(&new)).unwrap_or_default();
        let mut got = columns.facts();
        got.sort();
        assert_eq!(got, vec![new, fact(2, "00004", (2021, 1, 1))]);
        assert_eq!(columns.rows(), 2);
        columns.remove(&[1, 2, 3]);
        assert!(columns.facts().is_empty());
        assert_eq!((columns.rows(), columns.people()), (0, 0));
    }

    #[test]
    fn ratings_are_parsed_into_entries_each_once() {
        assert_eq!(
            parse_ratings(",2023=good,2024=excellent,2023=good,"),
            [(2023, "good".into()), (2024, "excellent".into())]
        );
        assert!(parse_ratings(",").is_empty());
    }
}
