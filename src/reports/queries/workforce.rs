//! Workforce aggregates of a report's population: its profile, its evaluations and
//! the groups the standard compliance counts, each in one query over the common table
//! expressions of [`population_ctes`].

use std::collections::{BTreeMap, HashMap};

use sea_orm::ConnectionTrait;

use super::{Population, population_ctes};
use crate::{
    error::Result,
    facts::rules::{RATINGS_SEPARATOR, parse_levels_key, rating_entry},
    people::rules::person::MAJORITY_ETHNICITY,
    reports::rules::{AGE_BANDS, RATINGS, age_band_bounds},
    sql::{self, FromQueryResult, raw_sql},
};

/// A scale's levels: scale → (rank, level code, label), for labelling cells.
pub type ScaleLevels = BTreeMap<String, Vec<(i32, String, String)>>;

/// Headcount and leaders of one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupHeads {
    /// People.
    pub headcount: i64,
    /// Leaders among them.
    pub leaders: i64,
}

/// Counts of one group over the values of every dimension: (dimension, key) → count;
/// for scales the key is the rank.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupCounts {
    /// Headcount and leaders.
    pub heads: GroupHeads,
    /// (dimension, key) → people.
    pub cells: BTreeMap<(String, String), i64>,
    /// (scale, rank) → people whose highest level of the scale has that rank.
    pub ranks: BTreeMap<(String, i32), i64>,
}

impl GroupCounts {
    /// Adds `other` into `self`.
    pub fn accumulate(&mut self, other: &GroupCounts) {
        self.heads.headcount += other.heads.headcount;
        self.heads.leaders += other.heads.leaders;
        add_counts(&mut self.cells, &other.cells);
        add_counts(&mut self.ranks, &other.ranks);
    }
}

/// Adds the counts of `other` into `into`; a key is copied only the first time it is met
/// (most are met in every group).
fn add_counts<K: Ord + Clone>(into: &mut BTreeMap<K, i64>, other: &BTreeMap<K, i64>) {
    for (key, n) in other {
        match into.get_mut(key) {
            Some(count) => *count += n,
            None => {
                into.insert(key.clone(), *n);
            }
        }
    }
}

/// A row of the profile query: people of one group sharing highest levels and gender.
#[derive(Debug, FromQueryResult)]
struct ProfileRow {
    grp: String,
    levels: String,
    gender: String,
    n: i64,
    // SUM over rows is never NULL here (a group has at least one row), but PostgreSQL
    // types it NUMERIC or BIGINT depending on the input: read as an optional i64.
    leaders: Option<i64>,
    kinh: Option<i64>,
    below_30: Option<i64>,
    below_40: Option<i64>,
    below_50: Option<i64>,
    below_60: Option<i64>,
}

/// The aggregates of a workforce profile, per group (the root's code when not broken
/// down by child), in one query over the person facts in force on the date. People
/// placed at the root's own units form the root's group.
///
/// The query groups by (group, highest levels, gender) and sums the other dimensions;
/// the levels keys are then split into per-scale counts here, with `levels` giving
/// each level its rank.
pub async fn workforce_counts(
    conn: &impl ConnectionTrait,
    p: &Population,
    levels: &ScaleLevels,
) -> Result<BTreeMap<String, GroupCounts>> {
    let mut q = population_ctes(p);
    let [b30, b40, b50, b60] = age_band_bounds(p.as_of);
    // Age bands by the latest birth date of each; summed columns may hold bind
    // parameters, grouped ones may not (PostgreSQL).
    q.push(" SELECT grp, levels, gender, COUNT(*) AS n, SUM(CASE WHEN is_leader THEN 1 ELSE 0 END) AS leaders, ");
    q.push("SUM(CASE WHEN ethnicity = ").bind(MAJORITY_ETHNICITY).push(" THEN 1 ELSE 0 END) AS kinh, ");
    q.push("SUM(CASE WHEN birth_date > ").bind(b30).push(" THEN 1 ELSE 0 END) AS below_30, ");
    q.push("SUM(CASE WHEN birth_date > ").bind(b40).push(" THEN 1 ELSE 0 END) AS below_40, ");
    q.push("SUM(CASE WHEN birth_date > ").bind(b50).push(" THEN 1 ELSE 0 END) AS below_50, ");
    q.push("SUM(CASE WHEN birth_date > ").bind(b60).push(" THEN 1 ELSE 0 END) AS below_60 ");
    q.push("FROM population GROUP BY grp, levels, gender");
    let rank_of = ranks(levels);

    let mut groups: BTreeMap<String, GroupCounts> = BTreeMap::new();
    for row in sql::all::<ProfileRow>(conn, q.build()).await? {
        let n = row.n;
        let (leaders, kinh) = (row.leaders.unwrap_or_default(), row.kinh.unwrap_or_default());
        let below = [row.below_30, row.below_40, row.below_50, row.below_60].map(Option::unwrap_or_default);
        let counts = groups.entry(row.grp).or_default();
        counts.heads.headcount += n;
        counts.heads.leaders += leaders;
        let mut add = |dimension: &str, key: &str, k: i64| {
            if k != 0 {
                *counts.cells.entry((dimension.to_owned(), key.to_owned())).or_default() += k;
            }
        };
        add("gender", &row.gender, n);
        add("ethnic_minority", "kinh", kinh);
        add("ethnic_minority", "minority", n - kinh);
        let bands = [below[0], below[1] - below[0], below[2] - below[1], below[3] - below[2], n - below[3]];
        for ((band, _), k) in AGE_BANDS.iter().zip(bands) {
            add("age_band", band, k);
        }
        for (scale, level) in parse_levels_key(&row.levels) {
            if let Some(rank) = rank_of.get(&(scale, level)) {
                *counts.ranks.entry((scale.to_owned(), *rank)).or_default() += n;
            }
        }
    }
    Ok(groups)
}

/// A level of a scale.
#[derive(Debug, FromQueryResult)]
struct LevelRow {
    scale_code: String,
    code: String,
    rank: i32,
    name: String,
}

/// Every scale's levels, highest rank first, for labelling cells.
pub async fn scale_levels(conn: &impl ConnectionTrait) -> Result<ScaleLevels> {
    let rows: Vec<LevelRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT scale_code, code, rank, name FROM scale_levels ORDER BY scale_code, rank DESC, code"
        ),
    )
    .await?;
    let mut scales = ScaleLevels::new();
    for row in rows {
        scales.entry(row.scale_code).or_default().push((row.rank, row.code, row.name));
    }
    Ok(scales)
}

/// The rank of every level of `levels` (as [`scale_levels`] gives them), by (scale
/// code, level code).
pub fn ranks(levels: &ScaleLevels) -> HashMap<(&str, &str), i32> {
    levels
        .iter()
        .flat_map(|(scale, ls)| ls.iter().map(move |(rank, code, _)| ((scale.as_str(), code.as_str()), *rank)))
        .collect()
}

/// A row of the evaluation query: people rated `rating` in `year`; the row of year 0
/// holds the headcount.
#[derive(Debug, FromQueryResult)]
struct RatedRow {
    year: i32,
    rating: String,
    n: Option<i64>,
}

/// The evaluations of a population over a range of years, in one pass over the
/// person facts (which carry every person's ratings): the population's headcount and
/// (year, rating) → people rated so that year.
pub async fn evaluation_counts(
    conn: &impl ConnectionTrait,
    p: &Population,
    first_year: i32,
    last_year: i32,
) -> Result<(i64, BTreeMap<(i32, String), i64>)> {
    let mut q = population_ctes(p);
    // One row per (year, rating) asked for, with the pattern its ratings entry matches.
    q.push(", rated(year, rating, pattern) AS (SELECT column1, column2, column3 FROM (VALUES ");
    let mut first = true;
    for year in first_year..=last_year {
        for (rating, _) in RATINGS {
            q.push(if first { "(CAST(" } else { ", (CAST(" });
            first = false;
            q.bind(year).push(" AS INTEGER), CAST(").bind(rating).push(" AS TEXT), CAST(");
            q.bind(format!("%{RATINGS_SEPARATOR}{}%", rating_entry(year, rating))).push(" AS TEXT))");
        }
    }
    q.push(
        ") AS asked) \
         SELECT CAST(0 AS INTEGER) AS year, CAST('' AS TEXT) AS rating, COUNT(*) AS n FROM population \
         UNION ALL SELECT r.year, r.rating, SUM(CASE WHEN pp.ratings LIKE r.pattern THEN 1 ELSE 0 END) \
         FROM population pp CROSS JOIN rated r GROUP BY r.year, r.rating",
    );
    let mut headcount = 0;
    let mut counts = BTreeMap::new();
    for row in sql::all::<RatedRow>(conn, q.build()).await? {
        let n = row.n.unwrap_or_default();
        if row.year == 0 {
            headcount = n;
        } else if n != 0 {
            counts.insert((row.year, row.rating), n);
        }
    }
    Ok((headcount, counts))
}

/// A row of the compliance query: people of one group sharing tier, category, leader
/// post, named post title and highest levels.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct PostRow {
    /// The group.
    pub grp: String,
    /// The length of their unit's locality code (the tier).
    pub tier_len: i32,
    /// Their category, as stored.
    pub category: String,
    /// Whether their post is a leader post.
    pub is_leader: bool,
    /// Their folded post title when it is one of the titles asked for; else empty.
    pub title: String,
    /// Their levels key.
    pub levels: String,
    /// How many they are.
    pub n: i64,
}

/// The population grouped by everything that decides which standard applies and
/// whether it is met, in one query; `titles` are the folded post titles some standard
/// in force names (other titles are grouped as one).
pub async fn post_rows(conn: &impl ConnectionTrait, p: &Population, titles: &[String]) -> Result<Vec<PostRow>> {
    let mut q = population_ctes(p);
    // The title is grouped from a subquery column: PostgreSQL would not match a
    // grouped expression holding bind parameters against the select list.
    q.push(" SELECT grp, tier_len, category, is_leader, title, levels, COUNT(*) AS n FROM (");
    q.push("SELECT grp, LENGTH(locality_code) AS tier_len, category, is_leader, ");
    if titles.is_empty() {
        q.push("CAST('' AS TEXT)");
    } else {
        q.push("CASE WHEN post_title_folded IN (").bind_list(titles.iter().map(String::as_str));
        q.push(") THEN post_title_folded ELSE '' END");
    }
    q.push(" AS title, levels FROM population) x GROUP BY grp, tier_len, category, is_leader, title, levels");
    sql::all(conn, q.build()).await
}
