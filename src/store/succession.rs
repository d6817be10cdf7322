//! Succession pools (quy hoạch): pools, their candidate history, and each candidate's
//! compliance with the standard of the pool's post on a date.
//!
//! A candidate's membership is a half-open period `[added_on, removed_on)`; a person
//! has at most one membership of a pool at a time. Every write runs in one
//! transaction that records its audit entry and commits only while the caller waits.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Value};
use serde_json::json;

use super::{
    audit, begin_write,
    locality_write::Idempotency,
    scope::scope_codes_cte,
    standard::{ComplianceStatus, held_levels, in_force, ranked_minimums},
    stmt,
};
use crate::{
    context::RequestContext,
    domain::{
        date::period_contains,
        etag,
        locality::Code,
        person::Category,
        standard::{PostFacts, RankedLevel, Unmet, applicable, unmet},
        text::fold,
    },
    error::{Error, Result, Violation},
};

/// The collection segment of pool resource names.
pub const COLLECTION: &str = "successionPools";

/// The resource name of a pool.
pub fn pool_name(id: i64) -> String {
    format!("{COLLECTION}/{id}")
}

/// How a pool's candidate count compares with its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bounds {
    /// Within the minimum and maximum.
    Within,
    /// Fewer than the minimum.
    BelowMinimum,
    /// More than the maximum.
    AboveMaximum,
}

impl Bounds {
    /// The name used in SQL and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Within => "WITHIN",
            Self::BelowMinimum => "BELOW_MINIMUM",
            Self::AboveMaximum => "ABOVE_MAXIMUM",
        }
    }

    /// The bounds named `name` (upper case, as in filters).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Within, Self::BelowMinimum, Self::AboveMaximum].into_iter().find(|b| b.as_str() == name)
    }
}

/// How `count` candidates compare with the bounds `min..=max`.
pub fn bounds_of(count: i64, min: i32, max: i32) -> Bounds {
    if count < i64::from(min) {
        Bounds::BelowMinimum
    } else if count > i64::from(max) {
        Bounds::AboveMaximum
    } else {
        Bounds::Within
    }
}

/// A condition of a pool list filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolCondition {
    /// `bounds = X` (true) or `bounds != X` (false).
    Bounds(bool, Bounds),
    /// `term_start_year = N`.
    TermStartYear(i32),
}

/// Parses a pool list filter: `bounds = BELOW_MINIMUM`, `bounds != WITHIN`,
/// `term_start_year = 2025`, joined by `AND`.
pub fn parse_filter(filter: &str) -> Result<Vec<PoolCondition>, String> {
    let filter = filter.trim();
    if filter.is_empty() {
        return Ok(Vec::new());
    }
    let mut conditions = Vec::new();
    let words: Vec<&str> = filter.split_whitespace().collect();
    let mut clauses: Vec<Vec<&str>> = vec![Vec::new()];
    for word in words {
        if word == "AND" {
            clauses.push(Vec::new());
        } else if let Some(last) = clauses.last_mut() {
            last.push(word);
        }
    }
    for clause in clauses {
        let text = clause.join(" ");
        let (field, op, value) = split_comparison(&text)
            .ok_or_else(|| format!("`{text}` is not a condition such as `bounds = BELOW_MINIMUM`"))?;
        match field {
            "bounds" => {
                let bounds = Bounds::from_name(value.strip_prefix("POOL_BOUNDS_").unwrap_or(value))
                    .ok_or_else(|| format!("`{value}` is not a bounds value (WITHIN, BELOW_MINIMUM, ABOVE_MAXIMUM)"))?;
                conditions.push(PoolCondition::Bounds(op == "=", bounds));
            }
            "term_start_year" if op == "=" => {
                let year = value.parse::<i32>().map_err(|_| format!("`{value}` is not a year for term_start_year"))?;
                conditions.push(PoolCondition::TermStartYear(year));
            }
            "term_start_year" => return Err("term_start_year supports only `=`".to_owned()),
            other => {
                return Err(format!("`{other}` cannot be filtered on; use bounds or term_start_year"));
            }
        }
    }
    Ok(conditions)
}

fn split_comparison(text: &str) -> Option<(&str, &str, &str)> {
    let (field, op, rest) = if let Some(i) = text.find("!=") {
        (&text[..i], "!=", &text[i + 2..])
    } else {
        let i = text.find('=')?;
        (&text[..i], "=", &text[i + 1..])
    };
    let (field, value) = (field.trim(), rest.trim());
    (!field.is_empty() && !value.is_empty() && !value.contains(char::is_whitespace)).then_some((field, op, value))
}

/// A pool as stored, with its unit's locality and, when counted, its candidate count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolRecord {
    /// Its id.
    pub id: i64,
    /// The unit of the post.
    pub unit_id: i64,
    /// The unit's locality.
    pub locality: Code,
    /// The post title (NFC).
    pub post_title: String,
    /// Whether the post is a leader post.
    pub leader_post: bool,
    /// First year of the term.
    pub term_start_year: i32,
    /// Last year of the term.
    pub term_end_year: i32,
    /// Minimum number of candidates.
    pub min_candidates: i32,
    /// Maximum number of candidates.
    pub max_candidates: i32,
    /// Incremented on every change; the etag.
    pub revision: i64,
    /// When it was created here.
    pub create_time: DateTime<Utc>,
    /// When it last changed here.
    pub update_time: DateTime<Utc>,
    /// Candidates on the date counted (0 when not counted).
    pub candidate_count: i64,
}

impl PoolRecord {
    /// Its resource name.
    pub fn name(&self) -> String {
        pool_name(self.id)
    }

    /// How its count compares with its bounds.
    pub fn bounds(&self) -> Bounds {
        bounds_of(self.candidate_count, self.min_candidates, self.max_candidates)
    }
}

const COLUMNS: &str = "p.id, p.unit_id, u.locality_code, p.post_title, p.leader_post, p.term_start_year, \
                       p.term_end_year, p.min_candidates, p.max_candidates, p.revision, p.create_time, p.update_time";

fn record_of(row: &QueryResult, counted: bool) -> Result<PoolRecord> {
    Ok(PoolRecord {
        id: row.try_get("", "id")?,
        unit_id: row.try_get("", "unit_id")?,
        locality: Code::from_db(row.try_get("", "locality_code")?),
        post_title: row.try_get("", "post_title")?,
        leader_post: row.try_get("", "leader_post")?,
        term_start_year: row.try_get("", "term_start_year")?,
        term_end_year: row.try_get("", "term_end_year")?,
        min_candidates: row.try_get("", "min_candidates")?,
        max_candidates: row.try_get("", "max_candidates")?,
        revision: row.try_get("", "revision")?,
        create_time: row.try_get("", "create_time")?,
        update_time: row.try_get("", "update_time")?,
        candidate_count: if counted { row.try_get("", "n")? } else { 0 },
    })
}

/// Counts the memberships of pool `p` in force on a date (two parameters: the date twice).
const COUNT: &str = "(SELECT COUNT(*) FROM pool_candidates c WHERE c.pool_id = p.id AND c.added_on <= ? \
                     AND (c.removed_on IS NULL OR c.removed_on > ?))";

/// Loads pool `id` with its candidate count on `day`.
pub async fn load(conn: &impl ConnectionTrait, id: i64, day: NaiveDate) -> Result<Option<PoolRecord>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            &format!(
                "SELECT {COLUMNS}, {COUNT} AS n FROM succession_pools p JOIN units u ON u.id = p.unit_id WHERE p.id = ?"
            ),
            vec![day.into(), day.into(), id.into()],
        ))
        .await?;
    row.as_ref().map(|r| record_of(r, true)).transpose()
}

/// The locality of pool `id` (its unit's), if the pool exists.
pub async fn pool_locality(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Code>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT u.locality_code FROM succession_pools p JOIN units u ON u.id = p.unit_id WHERE p.id = ?",
            vec![id.into()],
        ))
        .await?;
    row.map(|r| Ok(Code::from_db(r.try_get::<String>("", "locality_code")?))).transpose()
}

/// What a list of pools selects and how it pages.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Pools of units in this locality's subtree on `as_of`.
    pub locality: Code,
    /// The date of the tree and of the counts.
    pub as_of: NaiveDate,
    /// Filter conditions.
    pub conditions: Vec<PoolCondition>,
    /// The caller's scope roots; `None` for a national caller.
    pub scope: Option<BTreeSet<Code>>,
    /// Resume after this id.
    pub after: Option<i64>,
    /// Page size.
    pub limit: u64,
}

/// One page of pools and the id to resume after, if more follow.
#[derive(Debug, Clone)]
pub struct PoolPage {
    /// The pools, by id, with their counts.
    pub pools: Vec<PoolRecord>,
    /// The id to resume after.
    pub next_after: Option<i64>,
}

/// Lists the pools of a locality's subtree with their counts on a date.
pub async fn list(conn: &impl ConnectionTrait, query: &ListQuery) -> Result<PoolPage> {
    let mut values: Vec<Value> = Vec::new();
    let mut ctes = vec![
        "subtree(code) AS (SELECT CAST(? AS TEXT) UNION SELECT v.code FROM locality_versions v \
         JOIN subtree s ON v.parent_code = s.code WHERE v.valid_from <= ? AND (v.valid_until IS NULL OR v.valid_until > ?))"
            .to_owned(),
    ];
    values.extend([query.locality.as_str().into(), query.as_of.into(), query.as_of.into()]);
    if let Some(roots) = &query.scope {
        let (cte, cte_values) = scope_codes_cte(roots);
        ctes.push(cte);
        values.extend(cte_values);
    }
    let mut inner = format!(
        "SELECT {COLUMNS}, {COUNT} AS n FROM succession_pools p JOIN units u ON u.id = p.unit_id \
         WHERE u.locality_code IN (SELECT code FROM subtree)"
    );
    values.extend([query.as_of.into(), query.as_of.into()]);
    if query.scope.is_some() {
        inner.push_str(" AND u.locality_code IN (SELECT code FROM scope_codes)");
    }
    let mut sql = format!(
        "WITH RECURSIVE {} SELECT * FROM (SELECT x.*, CASE WHEN x.n < x.min_candidates THEN 'BELOW_MINIMUM' \
         WHEN x.n > x.max_candidates THEN 'ABOVE_MAXIMUM' ELSE 'WITHIN' END AS bounds FROM ({inner}) x) y WHERE 1 = 1",
        ctes.join(", ")
    );
    for condition in &query.conditions {
        match condition {
            PoolCondition::Bounds(equal, bounds) => {
                sql.push_str(if *equal { " AND y.bounds = ?" } else { " AND y.bounds <> ?" });
                values.push(bounds.as_str().into());
            }
            PoolCondition::TermStartYear(year) => {
                sql.push_str(" AND y.term_start_year = ?");
                values.push((*year).into());
            }
        }
    }
    if let Some(after) = query.after {
        sql.push_str(" AND y.id > ?");
        values.push(after.into());
    }
    sql.push_str(" ORDER BY y.id LIMIT ?");
    values.push(i64::try_from(query.limit + 1).unwrap_or(i64::MAX).into());
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    let mut pools = rows.iter().map(|r| record_of(r, true)).collect::<Result<Vec<_>>>()?;
    let more = pools.len() as u64 > query.limit;
    pools.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
    Ok(PoolPage { next_after: pools.last().filter(|_| more).map(|p| p.id), pools })
}

fn check_etag(given: Option<&str>, record: &PoolRecord) -> Result<()> {
    match given {
        Some(given) if given != etag(record.revision) => Err(Error::Aborted(format!(
            "{} changed since it was read (etag {given}, now {}); read it again",
            record.name(),
            etag(record.revision)
        ))),
        _ => Ok(()),
    }
}

/// The rules between a pool's fields, with field paths under `path`.
pub fn check_pool(spec: &PoolSpec, path: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    if spec.term_end_year <= spec.term_start_year {
        violations.push(Violation::new(
            format!("{path}.term_end_year"),
            format!("{} must be after term_start_year {}", spec.term_end_year, spec.term_start_year),
        ));
    }
    if spec.max_candidates < spec.min_candidates {
        violations.push(Violation::new(
            format!("{path}.max_candidates"),
            format!("{} must be at least min_candidates {}", spec.max_candidates, spec.min_candidates),
        ));
    }
    violations
}

/// The content of a pool that writes check and store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSpec {
    /// The post title (NFC).
    pub post_title: String,
    /// Whether the post is a leader post.
    pub leader_post: bool,
    /// First year of the term.
    pub term_start_year: i32,
    /// Last year of the term.
    pub term_end_year: i32,
    /// Minimum number of candidates.
    pub min_candidates: i32,
    /// Maximum number of candidates.
    pub max_candidates: i32,
}

/// Creates a pool for unit `unit_id`, which must exist.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    unit_id: i64,
    spec: &PoolSpec,
    idem: &Idempotency,
) -> Result<PoolRecord> {
    const METHOD: &str = "CreateSuccessionPool";
    let txn = begin_write(db).await?;
    let today = crate::domain::date::today();
    if let Some(resource) = audit::replayed(&txn, METHOD, idem.request_id.as_deref(), &idem.fingerprint).await? {
        let id = resource.strip_prefix("successionPools/").and_then(|id| id.parse::<i64>().ok());
        let record = match id {
            Some(id) => load(&txn, id, today).await?,
            None => None,
        };
        txn.rollback().await?;
        return record.ok_or(Error::NotFound(resource));
    }
    let backend = txn.get_database_backend();
    let unit = txn.query_one_raw(stmt(backend, "SELECT id FROM units WHERE id = ?", vec![unit_id.into()])).await?;
    if unit.is_none() {
        return Err(Error::invalid("succession_pool.unit", format!("units/{unit_id} does not exist")));
    }
    let now = Utc::now();
    let row = txn
        .query_one_raw(stmt(
            backend,
            "INSERT INTO succession_pools (unit_id, post_title, post_title_folded, leader_post, term_start_year, \
             term_end_year, min_candidates, max_candidates, revision, create_time, update_time) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
            vec![
                unit_id.into(),
                spec.post_title.as_str().into(),
                fold(&spec.post_title).into(),
                spec.leader_post.into(),
                spec.term_start_year.into(),
                spec.term_end_year.into(),
                spec.min_candidates.into(),
                spec.max_candidates.into(),
                now.into(),
                now.into(),
            ],
        ))
        .await?
        .ok_or_else(|| Error::internal("insert returned no id"))?;
    let id: i64 = row.try_get("", "id")?;
    let name = pool_name(id);
    if let Some(request_id) = &idem.request_id {
        audit::remember_request(&txn, METHOD, request_id, &idem.fingerprint, &name).await?;
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        METHOD,
        &name,
        idem.request_id.as_deref(),
        json!({
            "unit": format!("units/{unit_id}"),
            "post_title": spec.post_title,
            "leader_post": spec.leader_post,
            "term": [spec.term_start_year, spec.term_end_year],
            "candidates": [spec.min_candidates, spec.max_candidates],
        }),
    )
    .await?;
    let record = load(&txn, id, today).await?.ok_or_else(|| Error::internal("created pool vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(record)
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PoolChanges {
    /// New post title (NFC).
    pub post_title: Option<String>,
    /// New leader flag.
    pub leader_post: Option<bool>,
    /// New first year.
    pub term_start_year: Option<i32>,
    /// New last year.
    pub term_end_year: Option<i32>,
    /// New minimum.
    pub min_candidates: Option<i32>,
    /// New maximum.
    pub max_candidates: Option<i32>,
}

impl PoolChanges {
    /// The spec of `record` with these changes.
    pub fn apply(&self, record: &PoolRecord) -> PoolSpec {
        PoolSpec {
            post_title: self.post_title.clone().unwrap_or_else(|| record.post_title.clone()),
            leader_post: self.leader_post.unwrap_or(record.leader_post),
            term_start_year: self.term_start_year.unwrap_or(record.term_start_year),
            term_end_year: self.term_end_year.unwrap_or(record.term_end_year),
            min_candidates: self.min_candidates.unwrap_or(record.min_candidates),
            max_candidates: self.max_candidates.unwrap_or(record.max_candidates),
        }
    }
}

/// Updates a pool's term, post or bounds.
pub async fn update(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    id: i64,
    etag_given: Option<&str>,
    changes: &PoolChanges,
) -> Result<PoolRecord> {
    let txn = begin_write(db).await?;
    let today = crate::domain::date::today();
    let record = load(&txn, id, today).await?.ok_or_else(|| Error::NotFound(pool_name(id)))?;
    check_etag(etag_given, &record)?;
    let spec = changes.apply(&record);
    let violations = check_pool(&spec, "succession_pool");
    if !violations.is_empty() {
        return Err(Error::InvalidArgument(violations));
    }
    let result = txn
        .execute_raw(stmt(
            txn.get_database_backend(),
            "UPDATE succession_pools SET post_title = ?, post_title_folded = ?, leader_post = ?, term_start_year = ?, \
             term_end_year = ?, min_candidates = ?, max_candidates = ?, revision = revision + 1, update_time = ? \
             WHERE id = ? AND revision = ?",
            vec![
                spec.post_title.as_str().into(),
                fold(&spec.post_title).into(),
                spec.leader_post.into(),
                spec.term_start_year.into(),
                spec.term_end_year.into(),
                spec.min_candidates.into(),
                spec.max_candidates.into(),
                Utc::now().into(),
                id.into(),
                record.revision.into(),
            ],
        ))
        .await?;
    if result.rows_affected() != 1 {
        return Err(Error::Aborted(format!("{} changed concurrently; read it again", record.name())));
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        "UpdateSuccessionPool",
        &record.name(),
        None,
        json!({
            "post_title": changes.post_title,
            "leader_post": changes.leader_post,
            "term_start_year": changes.term_start_year,
            "term_end_year": changes.term_end_year,
            "min_candidates": changes.min_candidates,
            "max_candidates": changes.max_candidates,
        }),
    )
    .await?;
    let updated = load(&txn, id, today).await?.ok_or_else(|| Error::internal("updated pool vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(updated)
}

/// Deletes a pool and its candidate history.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, id: i64, etag_given: Option<&str>) -> Result<()> {
    let txn = begin_write(db).await?;
    let record = load(&txn, id, crate::domain::date::today()).await?.ok_or_else(|| Error::NotFound(pool_name(id)))?;
    check_etag(etag_given, &record)?;
    let backend = txn.get_database_backend();
    txn.execute_raw(stmt(backend, "DELETE FROM pool_candidates WHERE pool_id = ?", vec![id.into()])).await?;
    txn.execute_raw(stmt(backend, "DELETE FROM succession_pools WHERE id = ?", vec![id.into()])).await?;
    audit::record(
        &txn,
        &ctx.principal.subject,
        "DeleteSuccessionPool",
        &record.name(),
        None,
        json!({ "unit": format!("units/{}", record.unit_id), "revision": record.revision }),
    )
    .await?;
    super::commit(txn, ctx).await
}

/// Whether `day` lies in the term `start..=end` (by year).
pub fn in_term(day: NaiveDate, start: i32, end: i32) -> bool {
    (start..=end).contains(&day.year())
}

/// Whether a new open membership from `day` would overlap a membership `[from, until)`.
pub fn overlaps_open(day: NaiveDate, _from: NaiveDate, until: Option<NaiveDate>) -> bool {
    until.is_none_or(|until| until > day)
}

/// Adds `person_id` to pool `id` from `added_on`.
pub async fn add_candidate(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    id: i64,
    person_id: i64,
    added_on: NaiveDate,
    reason: &str,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let record = load(&txn, id, added_on).await?.ok_or_else(|| Error::NotFound(pool_name(id)))?;
    let backend = txn.get_database_backend();
    let person = txn.query_one_raw(stmt(backend, "SELECT id FROM people WHERE id = ?", vec![person_id.into()])).await?;
    if person.is_none() {
        return Err(Error::NotFound(format!("people/{person_id}")));
    }
    if !in_term(added_on, record.term_start_year, record.term_end_year) {
        return Err(Error::invalid(
            "candidate.added_on",
            format!("{added_on} is outside the pool's term {}-{}", record.term_start_year, record.term_end_year),
        ));
    }
    let rows = txn
        .query_all_raw(stmt(
            backend,
            "SELECT added_on, removed_on FROM pool_candidates WHERE pool_id = ? AND person_id = ?",
            vec![id.into(), person_id.into()],
        ))
        .await?;
    for row in &rows {
        let from: NaiveDate = row.try_get("", "added_on")?;
        let until: Option<NaiveDate> = row.try_get("", "removed_on")?;
        if overlaps_open(added_on, from, until) {
            return Err(Error::precondition(
                format!("people/{person_id}"),
                format!(
                    "is already a candidate of {} from {from}{}",
                    record.name(),
                    until.map(|u| format!(" until {u}")).unwrap_or_default()
                ),
            ));
        }
    }
    txn.execute_raw(stmt(
        backend,
        "INSERT INTO pool_candidates (pool_id, person_id, added_on, added_reason) VALUES (?, ?, ?, ?)",
        vec![id.into(), person_id.into(), added_on.into(), reason.into()],
    ))
    .await?;
    audit::record(
        &txn,
        &ctx.principal.subject,
        "AddCandidate",
        &record.name(),
        None,
        json!({ "person": format!("people/{person_id}"), "added_on": added_on, "reason": reason }),
    )
    .await?;
    super::commit(txn, ctx).await
}

/// Removes `person_id`'s open membership of pool `id` from `removed_on`.
pub async fn remove_candidate(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    id: i64,
    person_id: i64,
    removed_on: NaiveDate,
    reason: &str,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let record = load(&txn, id, removed_on).await?.ok_or_else(|| Error::NotFound(pool_name(id)))?;
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(stmt(
            backend,
            "SELECT id, added_on FROM pool_candidates WHERE pool_id = ? AND person_id = ? AND removed_on IS NULL \
             ORDER BY added_on DESC LIMIT 1",
            vec![id.into(), person_id.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Err(Error::precondition(
            format!("people/{person_id}"),
            format!("is not a candidate of {}", record.name()),
        ));
    };
    let membership: i64 = row.try_get("", "id")?;
    let added_on: NaiveDate = row.try_get("", "added_on")?;
    if removed_on <= added_on {
        return Err(Error::invalid("removed_on", format!("{removed_on} must be after the day added, {added_on}")));
    }
    txn.execute_raw(stmt(
        backend,
        "UPDATE pool_candidates SET removed_on = ?, removed_reason = ? WHERE id = ?",
        vec![removed_on.into(), reason.into(), membership.into()],
    ))
    .await?;
    audit::record(
        &txn,
        &ctx.principal.subject,
        "RemoveCandidate",
        &record.name(),
        None,
        json!({ "person": format!("people/{person_id}"), "removed_on": removed_on, "reason": reason }),
    )
    .await?;
    super::commit(txn, ctx).await
}

/// A candidate in a pool on a date, with their compliance with the post's standard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateRecord {
    /// The person.
    pub person_id: i64,
    /// Their full name.
    pub full_name: String,
    /// The day they entered the pool.
    pub added_on: NaiveDate,
    /// Why.
    pub added_reason: String,
    /// The day they left, if they did.
    pub removed_on: Option<NaiveDate>,
    /// Why they left.
    pub removed_reason: Option<String>,
    /// Their compliance on the date.
    pub status: ComplianceStatus,
    /// Every unmet minimum.
    pub unmet: Vec<Unmet>,
}

/// The candidates of `pool` on `day`, by the day added then person, each with their
/// compliance with the standard of the pool's post that day.
pub async fn candidates_on(
    conn: &impl ConnectionTrait,
    pool: &PoolRecord,
    day: NaiveDate,
) -> Result<Vec<CandidateRecord>> {
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT c.person_id, c.added_on, c.added_reason, c.removed_on, c.removed_reason, p.full_name, p.category, \
             p.employed_from, p.employed_until FROM pool_candidates c JOIN people p ON p.id = c.person_id \
             WHERE c.pool_id = ? AND c.added_on <= ? AND (c.removed_on IS NULL OR c.removed_on > ?) \
             ORDER BY c.added_on, c.person_id",
            vec![pool.id.into(), day.into(), day.into()],
        ))
        .await?;
    let standards = in_force(conn, day).await?;
    let mut minimums_of: BTreeMap<i64, Vec<RankedLevel>> = BTreeMap::new();
    let mut candidates = Vec::with_capacity(rows.len());
    for row in &rows {
        let person_id: i64 = row.try_get("", "person_id")?;
        let category: String = row.try_get("", "category")?;
        let employed = period_contains(row.try_get("", "employed_from")?, row.try_get("", "employed_until")?, day);
        let (status, missing) = if employed {
            let facts = PostFacts {
                tier: Some(pool.locality.tier()),
                category: Category::from_db(&category),
                leader: pool.leader_post,
                post_title: pool.post_title.clone(),
            };
            match applicable(&standards, &facts, day) {
                None => (ComplianceStatus::NoStandard, Vec::new()),
                Some(standard) => {
                    let minimums = match minimums_of.get(&standard.id) {
                        Some(m) => m.clone(),
                        None => {
                            let m = ranked_minimums(conn, standard.id).await?;
                            minimums_of.insert(standard.id, m.clone());
                            m
                        }
                    };
                    let held: BTreeMap<String, RankedLevel> = held_levels(conn, person_id, day)
                        .await?
                        .into_iter()
                        .map(|h| (h.level.scale.clone(), h))
                        .collect();
                    let missing = unmet(&minimums, &held);
                    let status =
                        if missing.is_empty() { ComplianceStatus::Compliant } else { ComplianceStatus::NotCompliant };
                    (status, missing)
                }
            }
        } else {
            (ComplianceStatus::NotPlaced, Vec::new())
        };
        candidates.push(CandidateRecord {
            person_id,
            full_name: row.try_get("", "full_name")?,
            added_on: row.try_get("", "added_on")?,
            added_reason: row.try_get("", "added_reason")?,
            removed_on: row.try_get("", "removed_on")?,
            removed_reason: row.try_get("", "removed_reason")?,
            status,
            unmet: missing,
        });
    }
    Ok(candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn counts_are_compared_with_inclusive_bounds() {
        assert_eq!(bounds_of(1, 2, 4), Bounds::BelowMinimum);
        assert_eq!(bounds_of(2, 2, 4), Bounds::Within);
        assert_eq!(bounds_of(4, 2, 4), Bounds::Within);
        assert_eq!(bounds_of(5, 2, 4), Bounds::AboveMaximum);
        assert_eq!(bounds_of(0, 0, 0), Bounds::Within);
    }

    #[test]
    fn filters_name_bounds_and_term_start_year() {
        assert_eq!(parse_filter(""), Ok(vec![]));
        assert_eq!(parse_filter("bounds = BELOW_MINIMUM"), Ok(vec![PoolCondition::Bounds(true, Bounds::BelowMinimum)]));
        assert_eq!(
            parse_filter("bounds!=WITHIN AND term_start_year = 2025"),
            Ok(vec![PoolCondition::Bounds(false, Bounds::Within), PoolCondition::TermStartYear(2025)])
        );
        assert_eq!(
            parse_filter("bounds = POOL_BOUNDS_ABOVE_MAXIMUM"),
            Ok(vec![PoolCondition::Bounds(true, Bounds::AboveMaximum)])
        );
        assert!(parse_filter("bounds = LOW").is_err());
        assert!(parse_filter("unit = 3").is_err());
        assert!(parse_filter("term_start_year = x").is_err());
        assert!(parse_filter("term_start_year != 2025").is_err());
        assert!(parse_filter("bounds =").is_err());
        assert!(parse_filter("bounds = WITHIN AND").is_err());
    }

    #[test]
    fn pools_need_a_term_that_ends_after_it_starts_and_ordered_bounds() {
        let spec = PoolSpec {
            post_title: "Chủ tịch".into(),
            leader_post: true,
            term_start_year: 2025,
            term_end_year: 2030,
            min_candidates: 2,
            max_candidates: 4,
        };
        assert!(check_pool(&spec, "p").is_empty());
        let bad = PoolSpec { term_end_year: 2025, max_candidates: 1, ..spec };
        let fields: Vec<String> = check_pool(&bad, "p").into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["p.term_end_year", "p.max_candidates"]);
    }

    #[test]
    fn memberships_are_within_the_term_and_never_overlap() {
        assert!(in_term(day(2025, 1, 1), 2025, 2030));
        assert!(in_term(day(2030, 12, 31), 2025, 2030));
        assert!(!in_term(day(2024, 12, 31), 2025, 2030));
        assert!(!in_term(day(2031, 1, 1), 2025, 2030));
        assert!(overlaps_open(day(2026, 1, 1), day(2025, 1, 1), None));
        assert!(overlaps_open(day(2026, 1, 1), day(2025, 1, 1), Some(day(2026, 2, 1))));
        assert!(!overlaps_open(day(2026, 2, 1), day(2025, 1, 1), Some(day(2026, 2, 1))));
        assert!(overlaps_open(day(2024, 1, 1), day(2025, 1, 1), Some(day(2026, 2, 1))), "a later membership");
    }
}
