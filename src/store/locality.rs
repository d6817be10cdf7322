//! Reads of the locality tree: records with their history, lists as of a date,
//! subtrees, search, and the coverage check of parent links.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::{placeholders, scope::scope_codes_cte, stmt};
use crate::{
    domain::{
        filter::{Condition, LocalityOrder},
        locality::{Code, Kind, SuccessionKind, Tier, Version, covers},
    },
    error::{Error, Result},
};

/// A succession link seen from one locality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The locality on the other side.
    pub other: Code,
    /// How the predecessor passed to the successor.
    pub kind: SuccessionKind,
    /// First day of the succession.
    pub effective_date: NaiveDate,
    /// Name of the other side around the effective date, if it had a version then.
    pub other_name: Option<String>,
}

/// A locality with its whole history, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalityRecord {
    /// The official code.
    pub code: Code,
    /// The tier.
    pub tier: Tier,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// Versions ordered by `valid_from`.
    pub versions: Vec<Version>,
    /// Localities this one passed to.
    pub successors: Vec<Link>,
    /// Localities that passed to this one.
    pub predecessors: Vec<Link>,
    /// Incremented on every change; the etag.
    pub revision: i64,
    /// When it was created here.
    pub create_time: DateTime<Utc>,
    /// When it last changed here.
    pub update_time: DateTime<Utc>,
}

pub(crate) fn code_at(row: &QueryResult, column: &str) -> Result<Code> {
    Ok(Code::from_db(row.try_get::<String>("", column)?))
}

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

pub(crate) fn version_of(row: &QueryResult) -> Result<Version> {
    let kind: String = row.try_get("", "kind")?;
    Ok(Version {
        valid_from: row.try_get("", "valid_from")?,
        valid_until: row.try_get("", "valid_until")?,
        display_name: row.try_get("", "name")?,
        kind: Kind::from_db(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        parent: row.try_get::<Option<String>>("", "parent_code")?.map(Code::from_db),
    })
}

fn code_values(codes: &[Code]) -> Vec<Value> {
    codes.iter().map(|c| Value::from(c.as_str())).collect()
}

/// Loads the records of `codes`, in the order given; unknown codes are left out.
pub async fn load(conn: &impl ConnectionTrait, codes: &[Code]) -> Result<Vec<LocalityRecord>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let backend = conn.get_database_backend();
    let marks = placeholders(codes.len());
    let heads = conn
        .query_all_raw(stmt(
            backend,
            &format!("SELECT code, tier, revision, create_time, update_time FROM localities WHERE code IN ({marks})"),
            code_values(codes),
        ))
        .await?;
    let mut records = BTreeMap::new();
    for row in &heads {
        let tier: String = row.try_get("", "tier")?;
        let record = LocalityRecord {
            code: code_at(row, "code")?,
            tier: Tier::from_db(&tier).ok_or_else(|| corrupt("tier", &tier))?,
            tags: Vec::new(),
            versions: Vec::new(),
            successors: Vec::new(),
            predecessors: Vec::new(),
            revision: row.try_get("", "revision")?,
            create_time: row.try_get("", "create_time")?,
            update_time: row.try_get("", "update_time")?,
        };
        records.insert(record.code.clone(), record);
    }
    if records.is_empty() {
        return Ok(Vec::new());
    }

    let versions = conn
        .query_all_raw(stmt(
            backend,
            &format!(
                "SELECT code, valid_from, valid_until, name, kind, parent_code FROM locality_versions \
                 WHERE code IN ({marks}) ORDER BY code, valid_from"
            ),
            code_values(codes),
        ))
        .await?;
    for row in &versions {
        if let Some(record) = records.get_mut(&code_at(row, "code")?) {
            record.versions.push(version_of(row)?);
        }
    }

    let tags = conn
        .query_all_raw(stmt(
            backend,
            &format!("SELECT code, tag FROM locality_tags WHERE code IN ({marks}) ORDER BY code, tag"),
            code_values(codes),
        ))
        .await?;
    for row in &tags {
        if let Some(record) = records.get_mut(&code_at(row, "code")?) {
            record.tags.push(row.try_get("", "tag")?);
        }
    }

    // The successor's name on the effective date; the predecessor's the day before.
    let links_sql = format!(
        "SELECT k.predecessor_code, k.successor_code, k.kind, k.effective_date, \
         (SELECT v.name FROM locality_versions v WHERE v.code = k.successor_code \
            AND v.valid_from <= k.effective_date AND (v.valid_until IS NULL OR v.valid_until > k.effective_date)) \
            AS successor_name, \
         (SELECT v.name FROM locality_versions v WHERE v.code = k.predecessor_code \
            AND v.valid_from < k.effective_date AND (v.valid_until IS NULL OR v.valid_until >= k.effective_date)) \
            AS predecessor_name \
         FROM locality_links k WHERE k.predecessor_code IN ({marks}) OR k.successor_code IN ({marks}) \
         ORDER BY k.effective_date, k.predecessor_code, k.successor_code"
    );
    let mut values = code_values(codes);
    values.extend(code_values(codes));
    for row in &conn.query_all_raw(stmt(backend, &links_sql, values)).await? {
        let predecessor = code_at(row, "predecessor_code")?;
        let successor = code_at(row, "successor_code")?;
        let kind_name: String = row.try_get("", "kind")?;
        let kind = SuccessionKind::from_db(&kind_name).ok_or_else(|| corrupt("succession kind", &kind_name))?;
        let effective_date: NaiveDate = row.try_get("", "effective_date")?;
        if let Some(record) = records.get_mut(&predecessor) {
            record.successors.push(Link {
                other: successor.clone(),
                kind,
                effective_date,
                other_name: row.try_get("", "successor_name")?,
            });
        }
        if let Some(record) = records.get_mut(&successor) {
            record.predecessors.push(Link {
                other: predecessor,
                kind,
                effective_date,
                other_name: row.try_get("", "predecessor_name")?,
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
    let list: Vec<Code> = codes.iter().cloned().collect();
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            &format!("SELECT code FROM localities WHERE code IN ({})", placeholders(list.len())),
            code_values(&list),
        ))
        .await?;
    rows.iter().map(|r| code_at(r, "code")).collect()
}

/// The version of `code` in force on `day`.
pub async fn version_at(conn: &impl ConnectionTrait, code: &Code, day: NaiveDate) -> Result<Option<Version>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT valid_from, valid_until, name, kind, parent_code FROM locality_versions \
             WHERE code = ? AND valid_from <= ? AND (valid_until IS NULL OR valid_until > ?)",
            vec![code.as_str().into(), day.into(), day.into()],
        ))
        .await?;
    row.as_ref().map(version_of).transpose()
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

/// Lists localities in force on a date, one page at a time.
pub async fn list(conn: &impl ConnectionTrait, query: &ListQuery) -> Result<CodePage> {
    let backend = conn.get_database_backend();
    let mut ctes: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(roots) = &query.scope {
        let (cte, cte_values) = scope_codes_cte(roots);
        ctes.push(cte);
        values.extend(cte_values);
    }
    let in_force = "v.valid_from <= ? AND (v.valid_until IS NULL OR v.valid_until > ?)";
    if let Some(root) = &query.descendants_of {
        ctes.push(format!(
            "subtree(code) AS (\
             SELECT v.code FROM locality_versions v WHERE v.parent_code = ? AND {in_force} \
             UNION SELECT v.code FROM locality_versions v JOIN subtree s ON v.parent_code = s.code WHERE {in_force})"
        ));
        values.extend([root.as_str().into(), query.as_of.into(), query.as_of.into()]);
        values.extend([query.as_of.into(), query.as_of.into()]);
    }
    let mut sql = String::new();
    if !ctes.is_empty() {
        sql.push_str("WITH RECURSIVE ");
        sql.push_str(&ctes.join(", "));
        sql.push(' ');
    }
    sql.push_str(&format!(
        "SELECT l.code AS code, v.name AS name FROM localities l \
         JOIN locality_versions v ON v.code = l.code AND {in_force} WHERE 1 = 1"
    ));
    values.extend([query.as_of.into(), query.as_of.into()]);
    if let Some(parent) = &query.parent {
        sql.push_str(" AND v.parent_code = ?");
        values.push(parent.as_str().into());
    }
    if query.descendants_of.is_some() {
        sql.push_str(" AND l.code IN (SELECT code FROM subtree)");
    }
    if query.scope.is_some() {
        sql.push_str(" AND l.code IN (SELECT code FROM scope_codes)");
    }
    for word in &query.words {
        sql.push_str(" AND v.name_folded LIKE ? ESCAPE '\\'");
        values.push(format!("%{}%", crate::domain::text::escape_like(word)).into());
    }
    for condition in &query.conditions {
        match condition {
            Condition::Tier { equal, tier } => {
                sql.push_str(if *equal { " AND l.tier = ?" } else { " AND l.tier <> ?" });
                values.push(tier.as_str().into());
            }
            Condition::Kind { equal, kind } => {
                sql.push_str(if *equal { " AND v.kind = ?" } else { " AND v.kind <> ?" });
                values.push(kind.as_str().into());
            }
            Condition::Tag { has, tag } => {
                sql.push_str(if *has { " AND " } else { " AND NOT " });
                sql.push_str("EXISTS (SELECT 1 FROM locality_tags t WHERE t.code = l.code AND t.tag = ?)");
                values.push(tag.as_str().into());
            }
        }
    }
    let (cmp, dir) = if query.descending { ("<", "DESC") } else { (">", "ASC") };
    match (query.order, query.after.as_deref()) {
        (LocalityOrder::Code, Some([code])) => {
            sql.push_str(&format!(" AND l.code {cmp} ?"));
            values.push(code.as_str().into());
        }
        (LocalityOrder::DisplayName, Some([name, code])) => {
            sql.push_str(&format!(" AND (v.name {cmp} ? OR (v.name = ? AND l.code {cmp} ?))"));
            values.extend([name.as_str().into(), name.as_str().into(), code.as_str().into()]);
        }
        (_, None) => {}
        (_, Some(_)) => return Err(Error::invalid("page_token", "does not match the order of this request")),
    }
    match query.order {
        LocalityOrder::Code => sql.push_str(&format!(" ORDER BY l.code {dir}")),
        LocalityOrder::DisplayName => sql.push_str(&format!(" ORDER BY v.name {dir}, l.code {dir}")),
    }
    sql.push_str(" LIMIT ?");
    values.push(i64::try_from(query.limit + 1).unwrap_or(i64::MAX).into());

    let rows = conn.query_all_raw(stmt(backend, &sql, values)).await?;
    let mut keyed = Vec::with_capacity(rows.len());
    for row in &rows {
        keyed.push((code_at(row, "code")?, row.try_get::<String>("", "name")?));
    }
    let more = keyed.len() as u64 > query.limit;
    keyed.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
    let next_after = match (more, keyed.last()) {
        (true, Some((code, name))) => Some(match query.order {
            LocalityOrder::Code => vec![code.as_str().to_owned()],
            LocalityOrder::DisplayName => vec![name.clone(), code.as_str().to_owned()],
        }),
        _ => None,
    };
    Ok(CodePage { codes: keyed.into_iter().map(|(code, _)| code).collect(), next_after })
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

/// Checks, in the current state, that every version of `codes` and every version of a
/// child of `codes` lies within a version of its parent.
pub async fn coverage_issues(conn: &impl ConnectionTrait, codes: &BTreeSet<Code>) -> Result<Vec<CoverageIssue>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let backend = conn.get_database_backend();
    let list: Vec<Code> = codes.iter().cloned().collect();
    let marks = placeholders(list.len());
    let mut values = code_values(&list);
    values.extend(code_values(&list));
    let rows = conn
        .query_all_raw(stmt(
            backend,
            &format!(
                "SELECT code, valid_from, valid_until, parent_code FROM locality_versions \
                 WHERE parent_code IS NOT NULL AND (code IN ({marks}) OR parent_code IN ({marks})) \
                 ORDER BY code, valid_from"
            ),
            values,
        ))
        .await?;
    let mut checked = Vec::with_capacity(rows.len());
    for row in &rows {
        checked.push((
            code_at(row, "code")?,
            row.try_get::<NaiveDate>("", "valid_from")?,
            row.try_get::<Option<NaiveDate>>("", "valid_until")?,
            code_at(row, "parent_code")?,
        ));
    }
    let parents: Vec<Code> =
        checked.iter().map(|(_, _, _, p)| p.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let mut periods: BTreeMap<Code, Vec<(NaiveDate, Option<NaiveDate>)>> = BTreeMap::new();
    if !parents.is_empty() {
        let rows = conn
            .query_all_raw(stmt(
                backend,
                &format!(
                    "SELECT code, valid_from, valid_until FROM locality_versions WHERE code IN ({})",
                    placeholders(parents.len())
                ),
                code_values(&parents),
            ))
            .await?;
        for row in &rows {
            periods
                .entry(code_at(row, "code")?)
                .or_default()
                .push((row.try_get("", "valid_from")?, row.try_get("", "valid_until")?));
        }
    }
    Ok(checked
        .into_iter()
        .filter(|(_, from, until, parent)| !periods.get(parent).is_some_and(|p| covers(p, *from, *until)))
        .map(|(child, valid_from, valid_until, parent)| CoverageIssue { child, valid_from, valid_until, parent })
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
    let backend = conn.get_database_backend();
    let list: Vec<Code> = codes.iter().cloned().collect();
    let marks = placeholders(list.len());
    let units = conn
        .query_all_raw(stmt(
            backend,
            &format!("SELECT id, locality_code, valid_from, valid_until FROM units WHERE locality_code IN ({marks})"),
            code_values(&list),
        ))
        .await?;
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let versions = conn
        .query_all_raw(stmt(
            backend,
            &format!("SELECT code, valid_from, valid_until FROM locality_versions WHERE code IN ({marks})"),
            code_values(&list),
        ))
        .await?;
    let mut periods: BTreeMap<Code, Vec<(NaiveDate, Option<NaiveDate>)>> = BTreeMap::new();
    for row in &versions {
        periods
            .entry(code_at(row, "code")?)
            .or_default()
            .push((row.try_get("", "valid_from")?, row.try_get("", "valid_until")?));
    }
    let mut issues = Vec::new();
    for row in &units {
        let locality = code_at(row, "locality_code")?;
        let from: NaiveDate = row.try_get("", "valid_from")?;
        let until: Option<NaiveDate> = row.try_get("", "valid_until")?;
        if !periods.get(&locality).is_some_and(|p| covers(p, from, until)) {
            issues.push((row.try_get("", "id")?, from, until, locality));
        }
    }
    Ok(issues)
}

/// How many versions of other localities name `code` as parent, and how many
/// succession links involve it.
pub async fn reference_counts(conn: &impl ConnectionTrait, code: &Code) -> Result<(i64, i64)> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT (SELECT COUNT(*) FROM locality_versions WHERE parent_code = ?) AS children, \
             (SELECT COUNT(*) FROM locality_links WHERE predecessor_code = ? OR successor_code = ?) AS links",
            vec![code.as_str().into(), code.as_str().into(), code.as_str().into()],
        ))
        .await?;
    match row {
        Some(row) => Ok((row.try_get("", "children")?, row.try_get("", "links")?)),
        None => Ok((0, 0)),
    }
}
