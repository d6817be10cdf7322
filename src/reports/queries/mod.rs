//! The SQL of reports, typed: the snapshot a report reads, the tree and population of
//! its scope, and (in [`workforce`] and [`activity`]) their aggregates, computed in the
//! database with GROUP BY (a few queries per report), never person by person.

pub mod activity;
pub mod workforce;

use chrono::NaiveDate;
use sea_orm::TransactionTrait as _;
use sea_orm::{AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, IsolationLevel};

use crate::{
    domain::locality::{Code, Tier},
    error::Result,
    localities::queries as localities,
    people::rules::person::Category,
    sql::{self, FromQueryResult, Query},
};

/// Who a report counts.
#[derive(Debug, Clone, PartialEq)]
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
    /// the tree inside every query. The report engine reads its localities from it; the
    /// SQL lists them when they are few enough and walks the tree otherwise.
    pub tree: Option<(NaiveDate, Vec<TreeNode>)>,
}

impl Population {
    /// Everyone placed in `root`'s subtree (the whole country for `None`) on `as_of`:
    /// no filter, one group.
    pub fn whole(root: Option<Code>, as_of: NaiveDate) -> Self {
        Self {
            root,
            as_of,
            tiers: Vec::new(),
            categories: Vec::new(),
            sectors: Vec::new(),
            leaders_only: false,
            key_posts_only: false,
            tags: Vec::new(),
            root_tagged: false,
            by_child: false,
            tree: None,
        }
    }
}

/// A locality of a report's tree on its date.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct TreeNode {
    /// Its code.
    pub code: String,
    /// The group it counts in: the child of the root above it, or the root.
    pub grp: String,
    /// Whether it, or an ancestor, carries one of the scope's tags (1 or 0).
    pub tagged: i32,
}

/// Trees up to this many localities are listed in the report queries; larger ones
/// (the whole country) are walked inside them.
const LISTED_TREE_MAX: usize = 2000;

/// A read-only transaction for a report, so that every query of it (the caller's
/// authorisation, the scope's tree and tags, the groups' names and the aggregates)
/// sees one snapshot, and none can write. On PostgreSQL: `REPEATABLE READ, READ ONLY`;
/// it also turns just-in-time compilation off (report queries are short, and
/// compiling them costs more than it saves) and plans every execution for its own
/// parameters: a generic plan cached for a prepared report query knows neither the
/// date nor the localities, and scans every fact. Its `work_mem` lets the grouping of
/// a province's facts hash in memory instead of sorting on disk; it is a ceiling per
/// plan node, and report groupings use a few megabytes. On SQLite: a deferred
/// transaction, which reads one snapshot of the WAL from its first read to its end.
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

/// Whether the root or one of its ancestors on the date carries one of the tags.
pub async fn root_tagged(conn: &impl ConnectionTrait, population: &Population) -> Result<bool> {
    if population.tags.is_empty() {
        return Ok(false);
    }
    let Some(root) = &population.root else { return Ok(false) };
    let mut chain = vec![root.clone()];
    let mut current = root.clone();
    while let Some(parent) = localities::version_at(conn, &current, population.as_of).await?.and_then(|v| v.parent) {
        chain.push(parent.clone());
        current = parent;
        if chain.len() > 3 {
            break;
        }
    }
    let records = localities::load(conn, &chain).await?;
    Ok(records.iter().any(|r| r.tags.iter().any(|t| population.tags.contains(t))))
}

/// Resolves the localities of the population's tree once, so that every report query
/// lists them (up to [`LISTED_TREE_MAX`]): the planner then knows how few they are and
/// reads their facts through the locality index instead of scanning every fact.
pub async fn resolve_tree(conn: &impl ConnectionTrait, p: &mut Population) -> Result<()> {
    p.tree = None;
    let mut q = tree_cte(p);
    q.push(" SELECT code, grp, tagged FROM tree");
    let nodes: Vec<TreeNode> = sql::all(conn, q.build()).await?;
    p.tree = Some((p.as_of, nodes));
    Ok(())
}

/// Appends `v.valid_from <= day AND (v.valid_until IS NULL OR v.valid_until > day)`.
fn in_force(q: &mut Query, day: NaiveDate) {
    q.push("v.valid_from <= ").bind(day).push(" AND (v.valid_until IS NULL OR v.valid_until > ").bind(day).push(")");
}

/// Appends whether locality `v` carries one of `tags` (1 or 0).
fn tag_test(q: &mut Query, tags: &[String]) {
    if tags.is_empty() {
        q.push("0");
    } else {
        q.push("CASE WHEN EXISTS (SELECT 1 FROM locality_tags lt WHERE lt.code = v.code AND lt.tag IN (");
        q.bind_list(tags.iter().map(String::as_str)).push(")) THEN 1 ELSE 0 END");
    }
}

/// The recursive common table expression `tree(code, grp, tagged)`: the localities of
/// the root's subtree on the date (every province's for the whole country).
fn tree_cte(p: &Population) -> Query {
    let mut q = Query::new("WITH RECURSIVE tree(code, grp, tagged) AS (");
    match &p.root {
        Some(root) => {
            q.push("SELECT CAST(").bind(root.as_str()).push(" AS TEXT), CAST(").bind(root.as_str()).push(" AS TEXT), ");
            q.bind(i32::from(p.root_tagged)).push(" UNION ALL SELECT CAST(v.code AS TEXT), ");
            if p.by_child {
                q.push("CASE WHEN t.code = ").bind(root.as_str()).push(" THEN CAST(v.code AS TEXT) ELSE t.grp END");
            } else {
                q.push("t.grp");
            }
        }
        None => {
            // The whole country: the provinces in force are the roots, and each is its
            // own group when broken down by child.
            let group = if p.by_child { "v.code" } else { "'-'" };
            q.push(format!("SELECT CAST(v.code AS TEXT), CAST({group} AS TEXT), "));
            tag_test(&mut q, &p.tags);
            q.push(" FROM locality_versions v WHERE v.parent_code IS NULL AND ");
            in_force(&mut q, p.as_of);
            q.push(" UNION ALL SELECT CAST(v.code AS TEXT), t.grp");
        }
    }
    q.push(", CASE WHEN t.tagged = 1 THEN 1 ELSE ");
    tag_test(&mut q, &p.tags);
    q.push(" END FROM locality_versions v JOIN tree t ON v.parent_code = t.code WHERE ");
    in_force(&mut q, p.as_of);
    q.push(")");
    q
}

/// The common table expression `tree(code, grp, tagged)` after `WITH RECURSIVE`, alone:
/// listed when resolved, else walked. For a query that reads no person: `tree`
/// referenced once is inlined into it, so that a small tree drives index lookups (with
/// `population` beside it, also referring to `tree`, PostgreSQL materialises `tree`
/// and joins it by hash after reading the whole of the other side).
pub fn tree_ctes(p: &Population) -> Query {
    match &p.tree {
        Some((day, nodes)) if *day == p.as_of && nodes.len() <= LISTED_TREE_MAX => {
            let listed: Vec<&TreeNode> = nodes.iter().filter(|n| p.tags.is_empty() || n.tagged == 1).collect();
            let mut q = Query::new("WITH RECURSIVE tree(code, grp, tagged) AS (");
            if listed.is_empty() {
                q.push("SELECT CAST(NULL AS TEXT), CAST(NULL AS TEXT), 0 WHERE 1 = 0");
            } else {
                q.push("SELECT column1, column2, column3 FROM (VALUES ");
                for (i, node) in listed.iter().enumerate() {
                    q.push(if i == 0 { "(CAST(" } else { ", (CAST(" });
                    q.bind(node.code.as_str()).push(" AS TEXT), CAST(").bind(node.grp.as_str()).push(" AS TEXT), ");
                    q.bind(node.tagged).push(")");
                }
                q.push(") AS listed");
            }
            q.push(")");
            q
        }
        _ => tree_cte(p),
    }
}

/// The common table expressions `tree(code, grp, tagged)` (as [`tree_ctes`]) and
/// `population(...)`, after `WITH RECURSIVE`: a report query appends its own common
/// table expressions (`, name AS (…)`) and its `SELECT`.
pub fn population_ctes(p: &Population) -> Query {
    let mut q = tree_ctes(p);
    // The person facts in force on the date: one period per person at most, since
    // placements never overlap.
    q.push(
        ", population(id, grp, birth_date, gender, ethnicity, is_leader, levels, category, locality_code, \
         post_title_folded, ratings) AS (\
         SELECT f.person_id, t.grp, f.birth_date, f.gender, f.ethnicity, f.is_leader, f.levels, f.category, \
         f.locality_code, f.post_title_folded, f.ratings \
         FROM person_facts f JOIN tree t ON t.code = f.locality_code \
         WHERE f.valid_until > ",
    );
    q.bind(p.as_of).push(" AND f.valid_from <= ").bind(p.as_of);
    if !p.categories.is_empty() {
        q.push(" AND f.category IN (").bind_list(p.categories.iter().map(|c| c.as_str())).push(")");
    }
    if !p.sectors.is_empty() {
        q.push(" AND f.sector IN (").bind_list(p.sectors.iter().map(String::as_str)).push(")");
    }
    if !p.tiers.is_empty() {
        q.push(" AND LENGTH(f.locality_code) IN (").bind_list(tier_lengths(&p.tiers)).push(")");
    }
    if p.leaders_only {
        q.push(" AND f.is_leader = ").bind(true);
    }
    if p.key_posts_only {
        q.push(" AND f.is_key_post = ").bind(true);
    }
    if !p.tags.is_empty() {
        q.push(" AND t.tagged = 1");
    }
    q.push(")");
    q
}

/// The lengths of the locality codes of `tiers` (a code's length is its tier).
pub fn tier_lengths(tiers: &[Tier]) -> impl Iterator<Item = i32> + '_ {
    tiers.iter().map(|t| i32::try_from(t.code_len()).unwrap_or_default())
}
