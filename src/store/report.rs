//! Report queries: the population of a report scope and its aggregates, computed in
//! the database with GROUP BY (a few queries per report), never person by person.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, Value};

use super::{placeholders, stmt};
use crate::{
    domain::{
        locality::{Code, Tier},
        person::{Category, MAJORITY_ETHNICITY},
        report::age_band_bounds,
    },
    error::Result,
};

/// Who a report counts.
#[derive(Debug, Clone)]
pub struct Population {
    /// The root locality.
    pub root: Code,
    /// The date.
    pub as_of: NaiveDate,
    /// Only these tiers (empty: all).
    pub tiers: Vec<Tier>,
    /// Only these categories (empty: all).
    pub categories: Vec<Category>,
    /// Only these sectors, as stored (empty: all).
    pub sectors: Vec<String>,
    /// Only leaders.
    pub leaders_only: bool,
    /// Only key posts.
    pub key_posts_only: bool,
    /// Only localities carrying (or under an ancestor carrying) one of these tags.
    pub tags: Vec<String>,
    /// Whether the root itself, or one of its ancestors on the date, carries one.
    pub root_tagged: bool,
    /// Group by the root's children on the date (else one group, the root).
    pub by_child: bool,
}

/// The common table expressions `tree(code, grp, tagged)` and `population(...)`.
pub(crate) fn population_ctes(p: &Population) -> (String, Vec<Value>) {
    let mut values: Vec<Value> = Vec::new();
    let in_force = "v.valid_from <= ? AND (v.valid_until IS NULL OR v.valid_until > ?)";
    let tag_test = if p.tags.is_empty() {
        "0".to_owned()
    } else {
        format!(
            "CASE WHEN EXISTS (SELECT 1 FROM locality_tags lt WHERE lt.code = v.code AND lt.tag IN ({})) THEN 1 ELSE 0 END",
            placeholders(p.tags.len())
        )
    };
    let child_group =
        if p.by_child { "CASE WHEN t.code = ? THEN CAST(v.code AS TEXT) ELSE t.grp END" } else { "t.grp" };
    let tree = format!(
        "tree(code, grp, tagged) AS (\
         SELECT CAST(? AS TEXT), CAST(? AS TEXT), ? \
         UNION ALL \
         SELECT CAST(v.code AS TEXT), {child_group}, CASE WHEN t.tagged = 1 THEN 1 ELSE {tag_test} END \
         FROM locality_versions v JOIN tree t ON v.parent_code = t.code WHERE {in_force})"
    );
    values.extend([p.root.as_str().into(), p.root.as_str().into(), i32::from(p.root_tagged).into()]);
    if p.by_child {
        values.push(p.root.as_str().into());
    }
    values.extend(p.tags.iter().map(|t| Value::from(t.as_str())));
    values.extend([p.as_of.into(), p.as_of.into()]);

    let mut filters = String::new();
    if !p.categories.is_empty() {
        filters.push_str(&format!(" AND p.category IN ({})", placeholders(p.categories.len())));
    }
    if !p.sectors.is_empty() {
        filters.push_str(&format!(" AND u.sector IN ({})", placeholders(p.sectors.len())));
    }
    if !p.tiers.is_empty() {
        filters.push_str(&format!(" AND LENGTH(u.locality_code) IN ({})", placeholders(p.tiers.len())));
    }
    if p.leaders_only {
        filters.push_str(" AND pl.is_leader = ?");
    }
    if p.key_posts_only {
        filters.push_str(" AND pl.is_key_post = ?");
    }
    if !p.tags.is_empty() {
        filters.push_str(" AND t.tagged = 1");
    }
    let population = format!(
        "population(id, grp, birth_date, gender, ethnicity, is_leader) AS (\
         SELECT p.id, t.grp, p.birth_date, p.gender, p.ethnicity, pl.is_leader \
         FROM people p \
         JOIN placements pl ON pl.person_id = p.id AND pl.valid_from <= ? AND (pl.valid_until IS NULL OR pl.valid_until > ?) \
         JOIN units u ON u.id = pl.unit_id \
         JOIN tree t ON t.code = u.locality_code \
         WHERE p.employed_from <= ? AND (p.employed_until IS NULL OR p.employed_until > ?){filters})"
    );
    values.extend([p.as_of.into(), p.as_of.into(), p.as_of.into(), p.as_of.into()]);
    values.extend(p.categories.iter().map(|c| Value::from(c.as_str())));
    values.extend(p.sectors.iter().map(|s| Value::from(s.as_str())));
    values.extend(p.tiers.iter().map(|t| Value::from(i32::try_from(t.code_len()).unwrap_or_default())));
    if p.leaders_only {
        values.push(true.into());
    }
    if p.key_posts_only {
        values.push(true.into());
    }
    (format!("WITH RECURSIVE {tree}, {population}"), values)
}

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

/// The aggregates of a workforce profile, per group (the root's code when not broken
/// down by child). People placed at the root's own units form the root's group.
pub async fn workforce_counts(conn: &impl ConnectionTrait, p: &Population) -> Result<BTreeMap<String, GroupCounts>> {
    let backend = conn.get_database_backend();
    let (ctes, values) = population_ctes(p);
    let mut groups: BTreeMap<String, GroupCounts> = BTreeMap::new();

    let heads = format!(
        "{ctes} SELECT grp, COUNT(*) AS n, SUM(CASE WHEN is_leader THEN 1 ELSE 0 END) AS leaders FROM population GROUP BY grp"
    );
    for row in conn.query_all_raw(stmt(backend, &heads, values.clone())).await? {
        let group: String = row.try_get("", "grp")?;
        let leaders: Option<i64> = row.try_get("", "leaders")?;
        groups.entry(group).or_default().heads =
            GroupHeads { headcount: row.try_get("", "n")?, leaders: leaders.unwrap_or_default() };
    }

    let bounds = age_band_bounds(p.as_of);
    let demographics = format!(
        "{ctes} \
         SELECT grp, 'gender' AS dim, gender AS k, COUNT(*) AS n FROM population GROUP BY grp, gender \
         UNION ALL \
         SELECT grp, 'ethnic_minority', eth, COUNT(*) FROM (SELECT grp, \
           CASE WHEN ethnicity = ? THEN 'kinh' ELSE 'minority' END AS eth FROM population) e GROUP BY grp, eth \
         UNION ALL \
         SELECT grp, 'age_band', band, COUNT(*) FROM (SELECT grp, CASE \
           WHEN birth_date > ? THEN 'under_30' WHEN birth_date > ? THEN '30_39' WHEN birth_date > ? THEN '40_49' \
           WHEN birth_date > ? THEN '50_59' ELSE '60_over' END AS band FROM population) banded GROUP BY grp, band"
    );
    let mut demo_values = values.clone();
    demo_values.push(MAJORITY_ETHNICITY.into());
    demo_values.extend(bounds.iter().map(|d| Value::from(*d)));
    for row in conn.query_all_raw(stmt(backend, &demographics, demo_values)).await? {
        let group: String = row.try_get("", "grp")?;
        let key = (row.try_get::<String>("", "dim")?, row.try_get::<String>("", "k")?);
        groups.entry(group).or_default().cells.insert(key, row.try_get("", "n")?);
    }

    let scales = format!(
        "{ctes}, best(person_id, grp, scale_code, rnk) AS (\
         SELECT q.person_id, pp.grp, q.scale_code, MAX(l.rank) FROM qualifications q \
         JOIN scale_levels l ON l.scale_code = q.scale_code AND l.code = q.level_code \
         JOIN population pp ON pp.id = q.person_id \
         WHERE q.awarded_on <= ? GROUP BY q.person_id, pp.grp, q.scale_code) \
         SELECT grp, scale_code, rnk, COUNT(*) AS n FROM best GROUP BY grp, scale_code, rnk"
    );
    let mut scale_values = values;
    scale_values.push(p.as_of.into());
    for row in conn.query_all_raw(stmt(backend, &scales, scale_values)).await? {
        let group: String = row.try_get("", "grp")?;
        let key = (row.try_get::<String>("", "scale_code")?, row.try_get::<i32>("", "rnk")?);
        groups.entry(group).or_default().ranks.insert(key, row.try_get("", "n")?);
    }
    Ok(groups)
}

/// A scale's levels: scale → (rank, level code, label), for labelling cells.
pub async fn scale_levels(conn: &impl ConnectionTrait) -> Result<BTreeMap<String, Vec<(i32, String, String)>>> {
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT scale_code, code, rank, name FROM scale_levels ORDER BY scale_code, rank DESC, code",
            vec![],
        ))
        .await?;
    let mut scales: BTreeMap<String, Vec<(i32, String, String)>> = BTreeMap::new();
    for row in &rows {
        scales.entry(row.try_get("", "scale_code")?).or_default().push((
            row.try_get("", "rank")?,
            row.try_get("", "code")?,
            row.try_get("", "name")?,
        ));
    }
    Ok(scales)
}

/// The evaluations of a population over a range of years, in one query: the
/// population's headcount and (year, rating) → people rated so that year.
pub async fn evaluation_counts(
    conn: &impl ConnectionTrait,
    p: &Population,
    first_year: i32,
    last_year: i32,
) -> Result<(i64, BTreeMap<(i32, String), i64>)> {
    let backend = conn.get_database_backend();
    let (ctes, mut values) = population_ctes(p);
    // The grouped columns come from a subquery, never from an expression with a bind
    // parameter, which PostgreSQL would not match against the select list.
    let sql = format!(
        "{ctes} \
         SELECT 'heads' AS kind, 0 AS yr, '' AS rating, COUNT(*) AS n FROM population \
         UNION ALL \
         SELECT 'rated', yr, rating, COUNT(*) FROM (SELECT e.year AS yr, e.rating AS rating \
           FROM evaluations e JOIN population pp ON pp.id = e.person_id \
           WHERE e.year >= ? AND e.year <= ?) r GROUP BY yr, rating"
    );
    values.extend([first_year.into(), last_year.into()]);
    let mut headcount = 0;
    let mut counts = BTreeMap::new();
    for row in conn.query_all_raw(stmt(backend, &sql, values)).await? {
        let kind: String = row.try_get("", "kind")?;
        let n: i64 = row.try_get("", "n")?;
        if kind == "heads" {
            headcount = n;
        } else {
            counts.insert((row.try_get::<i32>("", "yr")?, row.try_get::<String>("", "rating")?), n);
        }
    }
    Ok((headcount, counts))
}
