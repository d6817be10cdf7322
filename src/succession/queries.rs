//! The SQL of succession pools and their candidates' memberships, typed: rows come back
//! as row structs, parameters are named.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbErr, RuntimeErr, SqlErr};

use super::rules::{Pool, PoolCondition, PoolSpec};
use crate::{
    domain::{locality::Code, text::fold},
    edge::{
        enums::Table as _,
        names::{PersonName, SuccessionPoolName, UnitName},
    },
    error::{Error, Result},
    scope,
    sql::{self, FromQueryResult, Query, raw_sql},
};

/// The partial unique index that holds "one open membership per person and pool"
/// (migration `m20261201_300001_add_candidate_constraints`).
pub const OPEN_MEMBERSHIP_INDEX: &str = "ux_pool_candidates_open";

/// A pool as stored, with its unit's locality and its candidate count on a date.
#[derive(Debug, FromQueryResult)]
struct PoolRow {
    id: i64,
    unit_id: i64,
    locality_code: String,
    post_title: String,
    leader_post: bool,
    term_start_year: i32,
    term_end_year: i32,
    min_candidates: i32,
    max_candidates: i32,
    revision: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
    n: i64,
}

impl From<PoolRow> for Pool {
    fn from(row: PoolRow) -> Self {
        Self {
            name: SuccessionPoolName(row.id),
            unit: UnitName(row.unit_id),
            locality: Code::from_db(row.locality_code),
            spec: PoolSpec {
                post_title: row.post_title,
                leader_post: row.leader_post,
                term_start_year: row.term_start_year,
                term_end_year: row.term_end_year,
                min_candidates: row.min_candidates,
                max_candidates: row.max_candidates,
            },
            revision: row.revision,
            create_time: row.create_time,
            update_time: row.update_time,
            candidate_count: row.n,
        }
    }
}

const COLUMNS: &str = "p.id, p.unit_id, u.locality_code, p.post_title, p.leader_post, p.term_start_year, \
                       p.term_end_year, p.min_candidates, p.max_candidates, p.revision, p.create_time, p.update_time";

/// The columns of a pool with `n`, its candidate count on `day`.
fn select(day: NaiveDate) -> Query {
    let mut q = Query::new(format!(
        "SELECT {COLUMNS}, (SELECT COUNT(*) FROM pool_candidates c WHERE c.pool_id = p.id AND c.added_on <= "
    ));
    q.bind(day).push(" AND (c.removed_on IS NULL OR c.removed_on > ").bind(day);
    q.push(")) AS n FROM succession_pools p JOIN units u ON u.id = p.unit_id");
    q
}

/// Pool `id` with its candidate count on `day`.
pub async fn get(conn: &impl ConnectionTrait, id: i64, day: NaiveDate) -> Result<Option<Pool>> {
    let mut q = select(day);
    q.push(" WHERE p.id = ").bind(id);
    let row: Option<PoolRow> = sql::one(conn, q.build()).await?;
    Ok(row.map(Pool::from))
}

/// Locks pool `id` against any change until the transaction ends; whether it exists.
///
/// PostgreSQL takes the row lock (`FOR UPDATE`): writes of one pool and of its
/// candidates run one after the other, so that each checks what the previous one
/// wrote (the membership checks read rows a concurrent write could add, which READ
/// COMMITTED would not otherwise show). SQLite has no row locks and needs none: its
/// writers are serialised (`BEGIN IMMEDIATE`).
pub async fn lock(conn: &impl ConnectionTrait, id: i64) -> Result<bool> {
    sql::lock_row(conn, "succession_pools", id, sql::Lock::Update).await
}

/// The locality of pool `id` (its unit's), if the pool exists.
pub async fn pool_locality(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Code>> {
    #[derive(FromQueryResult)]
    struct Locality {
        locality_code: String,
    }
    let row: Option<Locality> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT u.locality_code FROM succession_pools p JOIN units u ON u.id = p.unit_id WHERE p.id = {id}"
        ),
    )
    .await?;
    Ok(row.map(|r| Code::from_db(r.locality_code)))
}

/// A list of pools: those of units in a locality's subtree on a date, within the
/// caller's scope, filtered, after an id, ordered by id.
#[derive(Debug, Clone)]
pub struct PoolList<'a> {
    /// Pools of units in this locality's subtree on `as_of`.
    pub locality: &'a Code,
    /// The date of the tree and of the counts.
    pub as_of: NaiveDate,
    /// Filter conditions.
    pub conditions: &'a [PoolCondition],
    /// The caller's scope roots; `None` for a national caller.
    pub scope: Option<&'a std::collections::BTreeSet<Code>>,
    /// Resume after this id.
    pub after: Option<i64>,
    /// Most rows to return.
    pub limit: u64,
}

/// The pools of a list with their counts, in id order.
pub async fn list(conn: &impl ConnectionTrait, list: &PoolList<'_>) -> Result<Vec<Pool>> {
    let mut q = Query::new("WITH RECURSIVE subtree(code) AS (SELECT CAST(");
    q.bind(list.locality).push(" AS TEXT) UNION SELECT v.code FROM locality_versions v JOIN subtree s ");
    q.push("ON v.parent_code = s.code WHERE v.valid_from <= ").bind(list.as_of);
    q.push(" AND (v.valid_until IS NULL OR v.valid_until > ").bind(list.as_of).push("))");
    if let Some(roots) = list.scope {
        q.push(", ").append(scope::scope_codes(roots));
    }
    // The bounds are computed in SQL so that a filter on them pages like any other.
    q.push(
        " SELECT * FROM (SELECT x.*, CASE WHEN x.n < x.min_candidates THEN 'below_minimum' \
         WHEN x.n > x.max_candidates THEN 'above_maximum' ELSE 'within' END AS bounds FROM (",
    );
    q.append(select(list.as_of));
    q.push(" WHERE u.locality_code IN (SELECT code FROM subtree)");
    if list.scope.is_some() {
        q.push(" AND u.locality_code IN (SELECT code FROM scope_codes)");
    }
    q.push(") x) y WHERE 1 = 1");
    for condition in list.conditions {
        match condition {
            PoolCondition::Bounds(true, bounds) => q.push(" AND y.bounds = ").bind(bounds.stored()),
            PoolCondition::Bounds(false, bounds) => q.push(" AND y.bounds <> ").bind(bounds.stored()),
            PoolCondition::TermStartYear(year) => q.push(" AND y.term_start_year = ").bind(*year),
        };
    }
    if let Some(after) = list.after {
        q.push(" AND y.id > ").bind(after);
    }
    q.push(" ORDER BY y.id LIMIT ").bind(i64::try_from(list.limit).unwrap_or(i64::MAX));
    let rows: Vec<PoolRow> = sql::all(conn, q.build()).await?;
    Ok(rows.into_iter().map(Pool::from).collect())
}

#[derive(FromQueryResult)]
struct Id {
    id: i64,
}

/// Whether unit `id` exists.
pub async fn unit_exists(conn: &impl ConnectionTrait, unit: UnitName) -> Result<bool> {
    let id = unit.id();
    Ok(sql::count(conn, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM units WHERE id = {id}")).await? > 0)
}

/// Whether person `id` exists.
pub async fn person_exists(conn: &impl ConnectionTrait, person: PersonName) -> Result<bool> {
    let id = person.id();
    Ok(sql::count(conn, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM people WHERE id = {id}")).await? > 0)
}

/// Inserts a pool for `unit`; its name.
pub async fn insert(conn: &impl ConnectionTrait, unit: UnitName, spec: &PoolSpec) -> Result<SuccessionPoolName> {
    let now = Utc::now();
    let (unit_id, title, folded, leader) =
        (unit.id(), spec.post_title.as_str(), fold(&spec.post_title), spec.leader_post);
    let (start, end, min, max) = (spec.term_start_year, spec.term_end_year, spec.min_candidates, spec.max_candidates);
    let row: Option<Id> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO succession_pools (unit_id, post_title, post_title_folded, leader_post, term_start_year, \
             term_end_year, min_candidates, max_candidates, revision, create_time, update_time) \
             VALUES ({unit_id}, {title}, {folded}, {leader}, {start}, {end}, {min}, {max}, 1, {now}, {now}) \
             RETURNING id"
        ),
    )
    .await?;
    row.map(|r| SuccessionPoolName(r.id)).ok_or_else(|| Error::internal("inserting a pool returned no id"))
}

/// Writes `spec` over pool `id` if it is still at `revision`; whether it was.
pub async fn update(conn: &impl ConnectionTrait, id: i64, revision: i64, spec: &PoolSpec) -> Result<bool> {
    let now = Utc::now();
    let (title, folded, leader) = (spec.post_title.as_str(), fold(&spec.post_title), spec.leader_post);
    let (start, end, min, max) = (spec.term_start_year, spec.term_end_year, spec.min_candidates, spec.max_candidates);
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE succession_pools SET post_title = {title}, post_title_folded = {folded}, \
             leader_post = {leader}, term_start_year = {start}, term_end_year = {end}, \
             min_candidates = {min}, max_candidates = {max}, revision = revision + 1, update_time = {now} \
             WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// Deletes pool `id` and its candidate history.
pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM pool_candidates WHERE pool_id = {id}")).await?;
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM succession_pools WHERE id = {id}")).await?;
    Ok(())
}

/// A person's membership of a pool.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Membership {
    /// Its id.
    pub id: i64,
    /// The day the person entered the pool.
    pub added_on: NaiveDate,
    /// The day they left, if they did.
    pub removed_on: Option<NaiveDate>,
}

/// Every membership of `person` in pool `id`.
pub async fn memberships(conn: &impl ConnectionTrait, id: i64, person: PersonName) -> Result<Vec<Membership>> {
    let person_id = person.id();
    sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, added_on, removed_on FROM pool_candidates WHERE pool_id = {id} AND person_id = {person_id} \
             ORDER BY added_on, id"
        ),
    )
    .await
}

/// `person`'s open membership of pool `id`, if any.
pub async fn open_membership(conn: &impl ConnectionTrait, id: i64, person: PersonName) -> Result<Option<Membership>> {
    let person_id = person.id();
    sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, added_on, removed_on FROM pool_candidates WHERE pool_id = {id} AND person_id = {person_id} \
             AND removed_on IS NULL ORDER BY added_on DESC LIMIT 1"
        ),
    )
    .await
}

/// Adds `person` to pool `id` from `added_on`. A membership the database refuses as
/// overlapping another (the partial unique index on both backends, the exclusion
/// constraint on PostgreSQL) is [`Error::Conflict`], so that the unit of work runs
/// again and its check names the membership in the way.
pub async fn add(
    conn: &impl ConnectionTrait,
    id: i64,
    person: PersonName,
    added_on: NaiveDate,
    reason: &str,
) -> Result<()> {
    let person_id = person.id();
    let statement = sql::on(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO pool_candidates (pool_id, person_id, added_on, added_reason) \
             VALUES ({id}, {person_id}, {added_on}, {reason})"
        ),
    );
    match conn.execute_raw(statement).await {
        Ok(_) => Ok(()),
        Err(err) if refused_as_overlap(&err) => {
            Err(Error::Conflict("a concurrent membership of the same person was recorded first".to_owned()))
        }
        Err(err) => Err(err.into()),
    }
}

/// Whether the database refused a membership as overlapping another: the open
/// membership index (PostgreSQL names it, SQLite its columns) or PostgreSQL's
/// exclusion constraint (SQLSTATE 23P01).
fn refused_as_overlap(err: &DbErr) -> bool {
    if let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() {
        return message.contains(OPEN_MEMBERSHIP_INDEX) || message.contains("pool_candidates.pool_id");
    }
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            e.as_database_error().is_some_and(|db| db.code().as_deref() == Some("23P01"))
        }
        _ => false,
    }
}

/// Ends open membership `membership` on `removed_on`; whether it was still open.
pub async fn remove(conn: &impl ConnectionTrait, membership: i64, removed_on: NaiveDate, reason: &str) -> Result<bool> {
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE pool_candidates SET removed_on = {removed_on}, removed_reason = {reason} \
             WHERE id = {membership} AND removed_on IS NULL"
        ),
    )
    .await?;
    Ok(changed == 1)
}
