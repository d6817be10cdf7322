//! The SQL of the locality tree, typed: records with their history, lists as of a
//! date, subtrees and search, the coverage checks of parent links, and the writes the
//! use cases make. Rows come back as structs, parameters are named.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbBackend};

use super::rules::{Code, Condition, Kind, LocalityOrder, SuccessionKind, Tier, Version, covers};
pub use super::rules::{Link, LocalityRecord};
use crate::scope::scope_codes;
use crate::{
    domain::text::{escape_like, fold},
    edge::enums::Table as _,
    error::{Error, Result},
    sql::{self, FromQueryResult, Query, raw_sql},
};

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

/// A row of `localities`.
#[derive(Debug, FromQueryResult)]
struct HeadRow {
    code: String,
    tier: String,
    revision: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

/// A row of `locality_versions`, with its code.
#[derive(Debug, FromQueryResult)]
pub(crate) struct VersionRow {
    pub(crate) code: String,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    name: String,
    kind: String,
    parent_code: Option<String>,
}

impl TryFrom<VersionRow> for Version {
    type Error = Error;

    fn try_from(row: VersionRow) -> Result<Self> {
        Ok(Self {
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            display_name: row.name,
            kind: Kind::from_stored(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?,
            parent: row.parent_code.map(Code::from_db),
        })
    }
}

#[derive(Debug, FromQueryResult)]
struct TagRow {
    code: String,
    tag: String,
}

#[derive(Debug, FromQueryResult)]
struct LinkRow {
    predecessor_code: String,
    successor_code: String,
    kind: String,
    effective_date: NaiveDate,
    successor_name: Option<String>,
    predecessor_name: Option<String>,
}

#[derive(Debug, FromQueryResult)]
struct CodeRow {
    code: String,
}

/// A period of a locality's version.
#[derive(Debug, FromQueryResult)]
struct PeriodRow {
    code: String,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
}

fn strs(codes: &[Code]) -> Vec<String> {
    codes.iter().map(|c| c.as_str().to_owned()).collect()
}

/// Every version of `codes`, ordered by code and start.
pub(crate) async fn versions_of(conn: &impl ConnectionTrait, codes: &[String]) -> Result<Vec<VersionRow>> {
    sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT code, valid_from, valid_until, name, kind, parent_code FROM locality_versions \
             WHERE code IN ({..codes}) ORDER BY code, valid_from"
        ),
    )
    .await
}

/// Loads the records of `codes`, in the order given; unknown codes are left out.
pub async fn load(conn: &impl ConnectionTrait, codes: &[Code]) -> Result<Vec<LocalityRecord>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let list = strs(codes);
    let heads: Vec<HeadRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT code, tier, revision, create_time, update_time FROM localities WHERE code IN ({..list})"
        ),
    )
    .await?;
    let mut records = BTreeMap::new();
    for head in heads {
        let record = LocalityRecord {
            code: Code::from_db(head.code),
            tier: Tier::from_stored(&head.tier).ok_or_else(|| corrupt("tier", &head.tier))?,
            tags: Vec::new(),
            versions: Vec::new(),
            successors: Vec::new(),
            predecessors: Vec::new(),
            revision: head.revision,
            create_time: head.create_time,
            update_time: head.update_time,
        };
        records.insert(record.code.clone(), record);
    }
    if records.is_empty() {
        return Ok(Vec::new());
    }
    for row in versions_of(conn, &list).await? {
        if let Some(record) = records.get_mut(&Code::from_db(row.code.clone())) {
            record.versions.push(row.try_into()?);
        }
    }
    let tags: Vec<TagRow> = sql::all(
        conn,
        raw_sql!(Postgres, "SELECT code, tag FROM locality_tags WHERE code IN ({..list}) ORDER BY code, tag"),
    )
    .await?;
    for row in tags {
        if let Some(record) = records.get_mut(&Code::from_db(row.code)) {
            record.tags.push(row.tag);
        }
    }
    // The successor's name on the effective date; the predecessor's the day before.
    let links: Vec<LinkRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT k.predecessor_code, k.successor_code, k.kind, k.effective_date, \
             (SELECT v.name FROM locality_versions v WHERE v.code = k.successor_code \
                AND v.valid_from <= k.effective_date AND (v.valid_until IS NULL OR v.valid_until > k.effective_date)) \
                AS successor_name, \
             (SELECT v.name FROM locality_versions v WHERE v.code = k.predecessor_code \
                AND v.valid_from < k.effective_date AND (v.valid_until IS NULL OR v.valid_until >= k.effective_date)) \
                AS predecessor_name \
             FROM locality_links k WHERE k.predecessor_code IN ({..list}) OR k.successor_code IN ({..list}) \
             ORDER BY k.effective_date, k.predecessor_code, k.successor_code"
        ),
    )
    .await?;
    for row in links {
        let kind = SuccessionKind::from_stored(&row.kind).ok_or_else(|| corrupt("succession kind", &row.kind))?;
        let (predecessor, successor) = (Code::from_db(row.predecessor_code), Code::from_db(row.successor_code));
        if let Some(record) = records.get_mut(&predecessor) {
            record.successors.push(Link {
                other: successor.clone(),
                kind,
                effective_date: row.effective_date,
                other_name: row.successor_name,
            });
        }
        if let Some(record) = records.get_mut(&successor) {
            record.predecessors.push(Link {
                other: predecessor,
                kind,
                effective_date: row.effective_date,
                other_name: row.predecessor_name,
            });
        }
    }
    Ok(codes.iter().filter_map(|c| records.remove(c)).collect())
}

/// Loads one record.
pub async fn load_one(conn: &impl ConnectionTrait, code: &Code) -> Result<Option<LocalityRecord>> {
    Ok(load(conn, std::slice::from_ref(code)).await?.pop())
}

/// Which of `codes` exist.
pub async fn existing(conn: &impl ConnectionTrait, codes: &BTreeSet<Code>) -> Result<BTreeSet<Code>> {
    if codes.is_empty() {
        return Ok(BTreeSet::new());
    }
    let list: Vec<String> = codes.iter().map(|c| c.as_str().to_owned()).collect();
    let rows: Vec<CodeRow> =
        sql::all(conn, raw_sql!(Postgres, "SELECT code FROM localities WHERE code IN ({..list})")).await?;
    Ok(rows.into_iter().map(|r| Code::from_db(r.code)).collect())
}

/// The version of `code` in force on `day`.
pub async fn version_at(conn: &impl ConnectionTrait, code: &Code, day: NaiveDate) -> Result<Option<Version>> {
    let row: Option<VersionRow> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT code, valid_from, valid_until, name, kind, parent_code FROM locality_versions \
             WHERE code = {code} AND valid_from <= {day} AND (valid_until IS NULL OR valid_until > {day})"
        ),
    )
    .await?;
    row.map(Version::try_from).transpose()
}

/// What a list of localities in force on a date selects and how it pages.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// The date of the tree.
    pub as_of: NaiveDate,
    /// Only children of this locality.
    pub parent: Option<Code>,
    /// Only descendants (at any depth) of this locality.
    pub descendants_of: Option<Code>,
    /// Only names containing every one of these folded words.
    pub words: Vec<String>,
    /// Filter conditions.
    pub conditions: Vec<Condition>,
    /// The caller's scope roots; `None` for a national caller.
    pub scope: Option<BTreeSet<Code>>,
    /// Sort key.
    pub order: LocalityOrder,
    /// Descending order.
    pub descending: bool,
    /// Resume after this sort key (from a page token).
    pub after: Option<Vec<String>>,
    /// Page size.
    pub limit: u64,
}

impl ListQuery {
    /// Localities in force on `as_of` within `scope`, ordered by code, one page of
    /// `limit` after `after`; narrow it by setting the other fields.
    pub fn in_force(as_of: NaiveDate, scope: Option<BTreeSet<Code>>, limit: u64, after: Option<Vec<String>>) -> Self {
        Self {
            as_of,
            parent: None,
            descendants_of: None,
            words: Vec::new(),
            conditions: Vec::new(),
            scope,
            order: LocalityOrder::Code,
            descending: false,
            after,
            limit,
        }
    }
}

/// One page of codes and the sort key to resume after, if more follow.
#[derive(Debug, Clone)]
pub struct CodePage {
    /// The codes of this page, in order.
    pub codes: Vec<Code>,
    /// The sort key of the last code, when another page follows.
    pub next_after: Option<Vec<String>>,
}

#[derive(Debug, FromQueryResult)]
struct Keyed {
    code: String,
    name: String,
}

/// `v.valid_from <= as_of AND (v.valid_until IS NULL OR v.valid_until > as_of)`.
fn in_force(q: &mut Query, as_of: NaiveDate) {
    q.push("v.valid_from <= ").bind(as_of).push(" AND (v.valid_until IS NULL OR v.valid_until > ").bind(as_of);
    q.push(")");
}

/// Lists localities in force on a date, one page at a time.
pub async fn list(conn: &impl ConnectionTrait, query: &ListQuery) -> Result<CodePage> {
    let mut ctes: Vec<Query> = Vec::new();
    if let Some(roots) = &query.scope {
        ctes.push(scope_codes(roots));
    }
    if let Some(root) = &query.descendants_of {
        let mut q = Query::new("subtree(code) AS (SELECT v.code FROM locality_versions v WHERE v.parent_code = ");
        q.bind(root).push(" AND ");
        in_force(&mut q, query.as_of);
        q.push(" UNION SELECT v.code FROM locality_versions v JOIN subtree s ON v.parent_code = s.code WHERE ");
        in_force(&mut q, query.as_of);
        q.push(")");
        ctes.push(q);
    }
    let mut q = Query::new("");
    for (i, cte) in ctes.into_iter().enumerate() {
        q.push(if i == 0 { "WITH RECURSIVE " } else { ", " }).append(cte);
    }
    q.push(" SELECT l.code AS code, v.name AS name FROM localities l JOIN locality_versions v ON v.code = l.code AND ");
    in_force(&mut q, query.as_of);
    q.push(" WHERE 1 = 1");
    if let Some(parent) = &query.parent {
        q.push(" AND v.parent_code = ").bind(parent);
    }
    if query.descendants_of.is_some() {
        q.push(" AND l.code IN (SELECT code FROM subtree)");
    }
    if query.scope.is_some() {
        q.push(" AND l.code IN (SELECT code FROM scope_codes)");
    }
    for word in &query.words {
        q.push(" AND v.name_folded LIKE ").bind(format!("%{}%", escape_like(word))).push(" ESCAPE '\\'");
    }
    for condition in &query.conditions {
        match condition {
            Condition::Tier { equal, tier } => {
                q.push(if *equal { " AND l.tier = " } else { " AND l.tier <> " }).bind(tier.stored())
            }
            Condition::Kind { equal, kind } => {
                q.push(if *equal { " AND v.kind = " } else { " AND v.kind <> " }).bind(kind.stored())
            }
            Condition::Tag { has, tag } => q
                .push(if *has { " AND " } else { " AND NOT " })
                .push("EXISTS (SELECT 1 FROM locality_tags t WHERE t.code = l.code AND t.tag = ")
                .bind(tag.as_str())
                .push(")"),
        };
    }
    let (cmp, dir) = if query.descending { ("<", "DESC") } else { (">", "ASC") };
    match (query.order, query.after.as_deref()) {
        (LocalityOrder::Code, Some([code])) => {
            q.push(format!(" AND l.code {cmp} ")).bind(code.as_str());
        }
        (LocalityOrder::DisplayName, Some([name, code])) => {
            q.push(format!(" AND (v.name {cmp} ")).bind(name.as_str()).push(" OR (v.name = ").bind(name.as_str());
            q.push(format!(" AND l.code {cmp} ")).bind(code.as_str()).push("))");
        }
        (_, None) => {}
        (_, Some(_)) => return Err(Error::invalid("page_token", "does not match the order of this request")),
    }
    match query.order {
        LocalityOrder::Code => q.push(format!(" ORDER BY l.code {dir}")),
        LocalityOrder::DisplayName => q.push(format!(" ORDER BY v.name {dir}, l.code {dir}")),
    };
    q.push(" LIMIT ").bind(i64::try_from(query.limit.saturating_add(1)).unwrap_or(i64::MAX));
    let mut keyed: Vec<Keyed> = sql::all(conn, q.build()).await?;
    let more = keyed.len() as u64 > query.limit;
    keyed.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
    let next_after = match (more, keyed.last()) {
        (true, Some(last)) => Some(match query.order {
            LocalityOrder::Code => vec![last.code.clone()],
            LocalityOrder::DisplayName => vec![last.name.clone(), last.code.clone()],
        }),
        _ => None,
    };
    Ok(CodePage { codes: keyed.into_iter().map(|k| Code::from_db(k.code)).collect(), next_after })
}

/// A version whose parent does not cover it after a change: the parent does not exist
/// or is not in force over the whole period of the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageIssue {
    /// The locality whose version is affected.
    pub child: Code,
    /// Start of the affected version.
    pub valid_from: NaiveDate,
    /// End of the affected version.
    pub valid_until: Option<NaiveDate>,
    /// The parent that fails to cover it.
    pub parent: Code,
}

/// The periods of the versions of `codes`, by code.
async fn periods(
    conn: &impl ConnectionTrait,
    codes: &[String],
) -> Result<BTreeMap<Code, Vec<(NaiveDate, Option<NaiveDate>)>>> {
    let rows: Vec<PeriodRow> = sql::all(
        conn,
        raw_sql!(Postgres, "SELECT code, valid_from, valid_until FROM locality_versions WHERE code IN ({..codes})"),
    )
    .await?;
    let mut periods: BTreeMap<Code, Vec<(NaiveDate, Option<NaiveDate>)>> = BTreeMap::new();
    for row in rows {
        periods.entry(Code::from_db(row.code)).or_default().push((row.valid_from, row.valid_until));
    }
    Ok(periods)
}

/// Checks, in the current state, that every version of `codes` and every version of a
/// child of `codes` lies within a version of its parent.
pub async fn coverage_issues(conn: &impl ConnectionTrait, codes: &BTreeSet<Code>) -> Result<Vec<CoverageIssue>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = codes.iter().map(|c| c.as_str().to_owned()).collect();
    #[derive(FromQueryResult)]
    struct Child {
        code: String,
        valid_from: NaiveDate,
        valid_until: Option<NaiveDate>,
        parent_code: String,
    }
    let children: Vec<Child> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT code, valid_from, valid_until, parent_code FROM locality_versions \
             WHERE parent_code IS NOT NULL AND (code IN ({..list}) OR parent_code IN ({..list})) \
             ORDER BY code, valid_from"
        ),
    )
    .await?;
    let parents: Vec<String> =
        children.iter().map(|c| c.parent_code.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let periods = if parents.is_empty() { BTreeMap::new() } else { periods(conn, &parents).await? };
    Ok(children
        .into_iter()
        .map(|c| CoverageIssue {
            child: Code::from_db(c.code),
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            parent: Code::from_db(c.parent_code),
        })
        .filter(|i| !periods.get(&i.parent).is_some_and(|p| covers(p, i.valid_from, i.valid_until)))
        .collect())
}

/// Units of `codes` whose period no longer lies within a version of their locality:
/// (unit id, unit period, locality).
pub async fn unit_coverage_issues(
    conn: &impl ConnectionTrait,
    codes: &BTreeSet<Code>,
) -> Result<Vec<(i64, NaiveDate, Option<NaiveDate>, Code)>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = codes.iter().map(|c| c.as_str().to_owned()).collect();
    #[derive(FromQueryResult)]
    struct UnitRow {
        id: i64,
        locality_code: String,
        valid_from: NaiveDate,
        valid_until: Option<NaiveDate>,
    }
    let units: Vec<UnitRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, locality_code, valid_from, valid_until FROM units WHERE locality_code IN ({..list})"
        ),
    )
    .await?;
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let periods = periods(conn, &list).await?;
    Ok(units
        .into_iter()
        .map(|u| (u.id, u.valid_from, u.valid_until, Code::from_db(u.locality_code)))
        .filter(|(_, from, until, locality)| !periods.get(locality).is_some_and(|p| covers(p, *from, *until)))
        .collect())
}

/// How many versions of other localities name `code` as parent, and how many
/// succession links involve it.
pub async fn reference_counts(conn: &impl ConnectionTrait, code: &Code) -> Result<(i64, i64)> {
    #[derive(FromQueryResult)]
    struct Counts {
        children: i64,
        links: i64,
    }
    let row: Option<Counts> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT (SELECT COUNT(*) FROM locality_versions WHERE parent_code = {code}) AS children, \
             (SELECT COUNT(*) FROM locality_links WHERE predecessor_code = {code} OR successor_code = {code}) AS links"
        ),
    )
    .await?;
    Ok(row.map_or((0, 0), |r| (r.children, r.links)))
}

/// Keeps the other writers of the tree out until this transaction ends, so that the
/// tree rules it checks (every version within its parent's, every unit within its
/// locality's) still hold at its commit; readers go on.
///
/// PostgreSQL takes `SHARE ROW EXCLUSIVE` on `localities`, which conflicts with itself
/// and with every row change of the table: writers of the tree queue one behind the
/// other, as on SQLite, where `BEGIN IMMEDIATE` serialises every writer already and
/// nothing is needed. (Row locks would not do: a new child changes no row of its
/// parent.)
pub async fn lock_tree(conn: &impl ConnectionTrait) -> Result<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared("LOCK TABLE localities IN SHARE ROW EXCLUSIVE MODE").await?;
    }
    Ok(())
}

/// Keeps the writers of the tree out until this transaction ends, for a write that
/// checks itself against the tree (a unit within its locality's period) without
/// changing it: PostgreSQL takes `SHARE` on `localities`, which conflicts with the tree
/// writers' `SHARE ROW EXCLUSIVE` ([`lock_tree`]) but not with other such readers, so
/// unit writes go on side by side. SQLite's `BEGIN IMMEDIATE` already serialises them.
pub async fn hold_tree(conn: &impl ConnectionTrait) -> Result<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared("LOCK TABLE localities IN SHARE MODE").await?;
    }
    Ok(())
}

/// Inserts a locality's head row.
pub async fn insert_head(conn: &impl ConnectionTrait, code: &Code, tier: Tier) -> Result<()> {
    let (now, tier) = (Utc::now(), tier.stored());
    sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO localities (code, tier, revision, create_time, update_time) \
             VALUES ({code}, {tier}, 1, {now}, {now})"
        ),
    )
    .await?;
    Ok(())
}

/// The columns of a version row: code, start, end, name, folded name, kind, parent.
pub(crate) type VersionValues = (String, NaiveDate, Option<NaiveDate>, String, String, &'static str, Option<String>);

/// The values of a version row of `code`.
pub(crate) fn version_values(code: &Code, version: &Version) -> VersionValues {
    (
        code.as_str().to_owned(),
        version.valid_from,
        version.valid_until,
        version.display_name.clone(),
        fold(&version.display_name),
        version.kind.stored(),
        version.parent.as_ref().map(|p| p.as_str().to_owned()),
    )
}

/// Rows inserted per statement, well under both backends' limits on parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// Inserts versions, a few hundred per statement.
pub async fn insert_versions(conn: &impl ConnectionTrait, rows: &[VersionValues]) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let rows = chunk.to_vec();
        sql::execute(
            conn,
            raw_sql!(
                Postgres,
                "INSERT INTO locality_versions (code, valid_from, valid_until, name, name_folded, kind, parent_code) \
                 VALUES {..(rows.0:6),}"
            ),
        )
        .await?;
    }
    Ok(())
}

/// Inserts one version of `code`.
pub async fn insert_version(conn: &impl ConnectionTrait, code: &Code, version: &Version) -> Result<()> {
    insert_versions(conn, &[version_values(code, version)]).await
}

/// Deletes every version of `code`.
pub async fn delete_versions(conn: &impl ConnectionTrait, code: &Code) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM locality_versions WHERE code = {code}")).await?;
    Ok(())
}

/// Ends the version of `code` that starts on `valid_from` on `until`.
pub async fn end_version(
    conn: &impl ConnectionTrait,
    code: &Code,
    valid_from: NaiveDate,
    until: NaiveDate,
) -> Result<()> {
    sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE locality_versions SET valid_until = {until} WHERE code = {code} AND valid_from = {valid_from}"
        ),
    )
    .await?;
    Ok(())
}

/// Replaces the tags of `code`.
pub async fn replace_tags(conn: &impl ConnectionTrait, code: &Code, tags: &[String]) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM locality_tags WHERE code = {code}")).await?;
    if !tags.is_empty() {
        let rows: Vec<(String, String)> = tags.iter().map(|t| (code.as_str().to_owned(), t.clone())).collect();
        sql::execute(conn, raw_sql!(Postgres, "INSERT INTO locality_tags (code, tag) VALUES {..(rows.0:1),}")).await?;
    }
    Ok(())
}

/// Records a succession link.
pub async fn insert_link(
    conn: &impl ConnectionTrait,
    predecessor: &Code,
    successor: &Code,
    kind: SuccessionKind,
    day: NaiveDate,
) -> Result<()> {
    let kind = kind.stored();
    sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO locality_links (predecessor_code, successor_code, kind, effective_date) \
             VALUES ({predecessor}, {successor}, {kind}, {day})"
        ),
    )
    .await?;
    Ok(())
}

/// Increments the revisions of `codes`; with `expected`, only if the (single) code is
/// still at that revision. Returns whether every code was bumped.
pub async fn bump(conn: &impl ConnectionTrait, codes: &BTreeSet<Code>, expected: Option<i64>) -> Result<bool> {
    if codes.is_empty() {
        return Ok(true);
    }
    let (now, list) = (Utc::now(), codes.iter().map(|c| c.as_str().to_owned()).collect::<Vec<_>>());
    let changed = match expected {
        Some(revision) => {
            sql::execute(
                conn,
                raw_sql!(
                    Postgres,
                    "UPDATE localities SET revision = revision + 1, update_time = {now} \
                     WHERE code IN ({..list}) AND revision = {revision}"
                ),
            )
            .await?
        }
        None => {
            sql::execute(
                conn,
                raw_sql!(
                    Postgres,
                    "UPDATE localities SET revision = revision + 1, update_time = {now} WHERE code IN ({..list})"
                ),
            )
            .await?
        }
    };
    Ok(changed == codes.len() as u64)
}

/// Deletes a locality's head (its versions and tags go with it).
pub async fn delete(conn: &impl ConnectionTrait, code: &Code) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM localities WHERE code = {code}")).await?;
    Ok(())
}
