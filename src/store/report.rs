//! Report queries: the population of a report scope and its aggregates, computed in
//! the database with GROUP BY (a few queries per report), never person by person.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, IsolationLevel, TransactionTrait,
    Value,
};

use super::{
    facts::{RATINGS_SEPARATOR, rating_entry},
    placeholders, stmt,
};
use crate::{
    domain::{
        facts::parse_levels_key,
        locality::{Code, Tier},
        person::{Category, MAJORITY_ETHNICITY},
        report::{AGE_BANDS, RATINGS, age_band_bounds},
    },
    error::Result,
};

/// Who a report counts.
#[derive(Debug, Clone)]
pub struct Population {
    /// The root locality; `None` for the whole country (every province).
    pub root: Option<Code>,
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
    /// The localities of the tree, once resolved by [`resolve_tree`], with the date
    /// they were resolved for (a tree of another date is walked again); `None` to walk
    /// the tree inside every query.
    pub tree: Option<(NaiveDate, Vec<TreeNode>)>,
}

/// A locality of a report's tree on its date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeNode {
    /// Its code.
    pub code: String,
    /// The group it counts in: the child of the root above it, or the root.
    pub grp: String,
    /// Whether it, or an ancestor, carries one of the scope's tags.
    pub tagged: bool,
}

/// Trees up to this many localities are listed in the report queries; larger ones
/// (the whole country) are walked inside them.
const LISTED_TREE_MAX: usize = 2000;

/// Resolves the localities of the population's tree once, so that every report query
/// lists them: the planner then knows how few they are and reads their facts through
/// the locality index instead of scanning every fact.
pub async fn resolve_tree(conn: &impl ConnectionTrait, p: &mut Population) -> Result<()> {
    p.tree = None;
    let (ctes, values) = tree_cte(p);
    let rows = conn
        .query_all_raw(stmt(conn.get_database_backend(), &format!("{ctes} SELECT code, grp, tagged FROM tree"), values))
        .await?;
    if rows.len() <= LISTED_TREE_MAX {
        let mut nodes = Vec::with_capacity(rows.len());
        for row in &rows {
            nodes.push(TreeNode {
                code: row.try_get("", "code")?,
                grp: row.try_get("", "grp")?,
                tagged: row.try_get::<i32>("", "tagged")? == 1,
            });
        }
        p.tree = Some((p.as_of, nodes));
    }
    Ok(())
}

/// A read-only transaction for a report, so that its queries see one snapshot. On
/// PostgreSQL it also turns just-in-time compilation off (report queries are short,
/// and compiling them costs more than it saves) and plans every execution for its own
/// parameters: a generic plan cached for a prepared report query knows neither the
/// date nor the localities, and scans every fact. Its `work_mem` lets the grouping of
/// a province's facts hash in memory instead of sorting on disk; it is a ceiling per
/// plan node, and report groupings use a few megabytes.
pub async fn snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?;
        txn.execute_unprepared(
            "SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL work_mem = '32MB'",
        )
        .await?;
        Ok(txn)
    } else {
        Ok(db.begin().await?)
    }
}

/// The recursive common table expression `tree(code, grp, tagged)`: the localities of
/// the root's subtree on the date (every province's for the whole country).
fn tree_cte(p: &Population) -> (String, Vec<Value>) {
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
    let tag_values = || p.tags.iter().map(|t| Value::from(t.as_str())).collect::<Vec<_>>();
    let tree = match &p.root {
        Some(root) => {
            let child_group =
                if p.by_child { "CASE WHEN t.code = ? THEN CAST(v.code AS TEXT) ELSE t.grp END" } else { "t.grp" };
            values.extend([root.as_str().into(), root.as_str().into(), i32::from(p.root_tagged).into()]);
            if p.by_child {
                values.push(root.as_str().into());
            }
            format!("SELECT CAST(? AS TEXT), CAST(? AS TEXT), ? UNION ALL SELECT CAST(v.code AS TEXT), {child_group}")
        }
        None => {
            // The whole country: the provinces in force are the roots, and each is its
            // own group when broken down by child.
            let group = if p.by_child { "v.code" } else { "'-'" };
            values.extend(tag_values());
            values.extend([p.as_of.into(), p.as_of.into()]);
            format!(
                "SELECT CAST(v.code AS TEXT), CAST({group} AS TEXT), {tag_test} FROM locality_versions v \
                 WHERE v.parent_code IS NULL AND {in_force} UNION ALL SELECT CAST(v.code AS TEXT), t.grp"
            )
        }
    };
    let tree = format!(
        "tree(code, grp, tagged) AS ({tree}, CASE WHEN t.tagged = 1 THEN 1 ELSE {tag_test} END \
         FROM locality_versions v JOIN tree t ON v.parent_code = t.code WHERE {in_force})"
    );
    values.extend(tag_values());
    values.extend([p.as_of.into(), p.as_of.into()]);
    (format!("WITH RECURSIVE {tree}"), values)
}

/// The common table expressions `tree(code, grp, tagged)` (listed when resolved, else
/// walked) and `population(...)`.
pub(crate) fn population_ctes(p: &Population) -> (String, Vec<Value>) {
    let (tree, mut values) = match &p.tree {
        Some((day, nodes)) if *day == p.as_of => {
            let listed: Vec<&TreeNode> = nodes.iter().filter(|n| p.tags.is_empty() || n.tagged).collect();
            let mut values: Vec<Value> = Vec::with_capacity(listed.len() * 3);
            for node in &listed {
                values.extend([node.code.as_str().into(), node.grp.as_str().into(), i32::from(node.tagged).into()]);
            }
            let rows = if listed.is_empty() {
                "SELECT CAST(NULL AS TEXT), CAST(NULL AS TEXT), 0 WHERE 1 = 0".to_owned()
            } else {
                format!(
                    "SELECT column1, column2, column3 FROM (VALUES {}) AS listed",
                    vec!["(CAST(? AS TEXT), CAST(? AS TEXT), ?)"; listed.len()].join(", ")
                )
            };
            (format!("WITH RECURSIVE tree(code, grp, tagged) AS ({rows})"), values)
        }
        _ => tree_cte(p),
    };

    let mut filters = String::new();
    if !p.categories.is_empty() {
        filters.push_str(&format!(" AND f.category IN ({})", placeholders(p.categories.len())));
    }
    if !p.sectors.is_empty() {
        filters.push_str(&format!(" AND f.sector IN ({})", placeholders(p.sectors.len())));
    }
    if !p.tiers.is_empty() {
        filters.push_str(&format!(" AND LENGTH(f.locality_code) IN ({})", placeholders(p.tiers.len())));
    }
    if p.leaders_only {
        filters.push_str(" AND f.is_leader = ?");
    }
    if p.key_posts_only {
        filters.push_str(" AND f.is_key_post = ?");
    }
    if !p.tags.is_empty() {
        filters.push_str(" AND t.tagged = 1");
    }
    // The person facts in force on the date: one period per person at most, since
    // placements never overlap.
    let population = format!(
        "population(id, grp, birth_date, gender, ethnicity, is_leader, levels, category, locality_code, \
         post_title_folded, ratings) AS (\
         SELECT f.person_id, t.grp, f.birth_date, f.gender, f.ethnicity, f.is_leader, f.levels, f.category, \
         f.locality_code, f.post_title_folded, f.ratings \
         FROM person_facts f JOIN tree t ON t.code = f.locality_code \
         WHERE f.valid_until > ? AND f.valid_from <= ?{filters})"
    );
    values.extend([p.as_of.into(), p.as_of.into()]);
    values.extend(p.categories.iter().map(|c| Value::from(c.as_str())));
    values.extend(p.sectors.iter().map(|s| Value::from(s.as_str())));
    values.extend(p.tiers.iter().map(|t| Value::from(i32::try_from(t.code_len()).unwrap_or_default())));
    if p.leaders_only {
        values.push(true.into());
    }
    if p.key_posts_only {
        values.push(true.into());
    }
    (format!("{tree}, {population}"), values)
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
/// down by child), in one query over the person facts in force on the date. People
/// placed at the root's own units form the root's group.
///
/// The query groups by (group, highest levels, gender) and sums the other dimensions;
/// the levels keys are then split into per-scale counts here, with `levels` (the
/// scale levels: scale → (rank, code, label)) giving each level its rank.
pub async fn workforce_counts(
    conn: &impl ConnectionTrait,
    p: &Population,
    levels: &BTreeMap<String, Vec<(i32, String, String)>>,
) -> Result<BTreeMap<String, GroupCounts>> {
    let backend = conn.get_database_backend();
    let (ctes, mut values) = population_ctes(p);
    let bounds = age_band_bounds(p.as_of);
    // Age bands by the latest birth date of each; summed columns may hold bind
    // parameters, grouped ones may not (PostgreSQL).
    let sql = format!(
        "{ctes} SELECT grp, levels, gender, COUNT(*) AS n, \
         SUM(CASE WHEN is_leader THEN 1 ELSE 0 END) AS leaders, \
         SUM(CASE WHEN ethnicity = ? THEN 1 ELSE 0 END) AS kinh, \
         SUM(CASE WHEN birth_date > ? THEN 1 ELSE 0 END) AS below_30, \
         SUM(CASE WHEN birth_date > ? THEN 1 ELSE 0 END) AS below_40, \
         SUM(CASE WHEN birth_date > ? THEN 1 ELSE 0 END) AS below_50, \
         SUM(CASE WHEN birth_date > ? THEN 1 ELSE 0 END) AS below_60 \
         FROM population GROUP BY grp, levels, gender"
    );
    values.push(MAJORITY_ETHNICITY.into());
    values.extend(bounds.iter().map(|d| Value::from(*d)));
    let rank_of = ranks(levels);

    let mut groups: BTreeMap<String, GroupCounts> = BTreeMap::new();
    for row in conn.query_all_raw(stmt(backend, &sql, values)).await? {
        let group: String = row.try_get("", "grp")?;
        let key: String = row.try_get("", "levels")?;
        let gender: String = row.try_get("", "gender")?;
        // SUM over rows is never NULL here (a group has at least one row), but
        // PostgreSQL types it NUMERIC or BIGINT depending on the input: read as i64.
        let sum = |name: &str| -> Result<i64> { Ok(row.try_get::<Option<i64>>("", name)?.unwrap_or_default()) };
        let n: i64 = row.try_get("", "n")?;
        let (leaders, kinh) = (sum("leaders")?, sum("kinh")?);
        let below = [sum("below_30")?, sum("below_40")?, sum("below_50")?, sum("below_60")?];
        let counts = groups.entry(group).or_default();
        counts.heads.headcount += n;
        counts.heads.leaders += leaders;
        let mut add = |dimension: &str, key: &str, k: i64| {
            if k != 0 {
                *counts.cells.entry((dimension.to_owned(), key.to_owned())).or_default() += k;
            }
        };
        add("gender", &gender, n);
        add("ethnic_minority", "kinh", kinh);
        add("ethnic_minority", "minority", n - kinh);
        let bands = [below[0], below[1] - below[0], below[2] - below[1], below[3] - below[2], n - below[3]];
        for ((band, _), k) in AGE_BANDS.iter().zip(bands) {
            add("age_band", band, k);
        }
        for (scale, level) in parse_levels_key(&key) {
            if let Some(rank) = rank_of.get(&(scale, level)) {
                *counts.ranks.entry((scale.to_owned(), *rank)).or_default() += n;
            }
        }
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

/// The rank of every level of `levels` (as [`scale_levels`] gives them), by (scale
/// code, level code).
pub fn ranks(levels: &BTreeMap<String, Vec<(i32, String, String)>>) -> HashMap<(&str, &str), i32> {
    levels
        .iter()
        .flat_map(|(scale, ls)| ls.iter().map(move |(rank, code, _)| ((scale.as_str(), code.as_str()), *rank)))
        .collect()
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
    let backend = conn.get_database_backend();
    let (ctes, mut values) = population_ctes(p);
    let mut columns = Vec::new();
    let mut cells = Vec::new();
    for year in first_year..=last_year {
        for (rating, _) in RATINGS {
            columns.push(format!("SUM(CASE WHEN ratings LIKE ? THEN 1 ELSE 0 END) AS c{}", cells.len()));
            values.push(format!("%{RATINGS_SEPARATOR}{}%", rating_entry(year, rating)).into());
            cells.push((year, rating.to_owned()));
        }
    }
    let sql = format!("{ctes} SELECT COUNT(*) AS n, {} FROM population", columns.join(", "));
    let mut counts = BTreeMap::new();
    let Some(row) = conn.query_one_raw(stmt(backend, &sql, values)).await? else { return Ok((0, counts)) };
    let headcount: i64 = row.try_get("", "n")?;
    for (i, cell) in cells.into_iter().enumerate() {
        let n = row.try_get::<Option<i64>>("", &format!("c{i}"))?.unwrap_or_default();
        if n != 0 {
            counts.insert(cell, n);
        }
    }
    Ok((headcount, counts))
}

/// A row of the compliance query: people of one group sharing tier, category, leader
/// post, named post title and highest levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRow {
    /// The group.
    pub grp: String,
    /// The length of their unit's locality code (the tier).
    pub tier_len: usize,
    /// Their category, as stored.
    pub category: String,
    /// Whether their post is a leader post.
    pub leader: bool,
    /// Their folded post title when it is one of the titles asked for; else empty.
    pub title: String,
    /// Their levels key.
    pub levels: String,
    /// How many they are.
    pub people: i64,
}

/// The population grouped by everything that decides which standard applies and
/// whether it is met, in one query; `titles` are the folded post titles some standard
/// in force names (other titles are grouped as one).
pub async fn post_rows(conn: &impl ConnectionTrait, p: &Population, titles: &[String]) -> Result<Vec<PostRow>> {
    let (ctes, mut values) = population_ctes(p);
    // The title is grouped from a subquery column: PostgreSQL would not match a
    // grouped expression holding bind parameters against the select list.
    let title = if titles.is_empty() {
        "CAST('' AS TEXT)".to_owned()
    } else {
        values.extend(titles.iter().map(|t| Value::from(t.as_str())));
        format!("CASE WHEN post_title_folded IN ({}) THEN post_title_folded ELSE '' END", placeholders(titles.len()))
    };
    let sql = format!(
        "{ctes} SELECT grp, tier_len, category, is_leader, title, levels, COUNT(*) AS n FROM (\
         SELECT grp, LENGTH(locality_code) AS tier_len, category, is_leader, {title} AS title, levels \
         FROM population) x GROUP BY grp, tier_len, category, is_leader, title, levels"
    );
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(PostRow {
            grp: row.try_get("", "grp")?,
            tier_len: usize::try_from(row.try_get::<i32>("", "tier_len")?).unwrap_or_default(),
            category: row.try_get("", "category")?,
            leader: row.try_get("", "is_leader")?,
            title: row.try_get("", "title")?,
            levels: row.try_get("", "levels")?,
            people: row.try_get("", "n")?,
        });
    }
    Ok(out)
}
