//! The SQL of units, typed: rows come back as [`UnitRow`]s, parameters are named.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;

use super::rules::{Condition, Sector, Unit, UnitFields, UnitKind, code_key};
use crate::{
    domain::{locality::Code, text::fold},
    edge::{enums::Table as _, names::UnitName},
    error::{Error, Result},
    scope,
    sql::{self, FromQueryResult, Query, raw_sql},
};

/// A unit as stored.
#[derive(Debug, FromQueryResult)]
struct UnitRow {
    id: i64,
    locality_code: String,
    name: String,
    sector: String,
    kind: String,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    revision: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
    code: Option<String>,
}

impl TryFrom<UnitRow> for Unit {
    type Error = Error;

    fn try_from(row: UnitRow) -> Result<Self> {
        let unknown = |what: &str, value: &str| {
            Error::internal(format!("stored unit {what} `{value}` is not known to this version of the service"))
        };
        Ok(Self {
            name: UnitName(row.id),
            locality: Code::from_db(row.locality_code),
            display_name: row.name,
            sector: Sector::from_stored(&row.sector).ok_or_else(|| unknown("sector", &row.sector))?,
            kind: UnitKind::from_stored(&row.kind).ok_or_else(|| unknown("kind", &row.kind))?,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            revision: row.revision,
            create_time: row.create_time,
            update_time: row.update_time,
            code: row.code,
        })
    }
}

const COLUMNS: &str = "u.id, u.locality_code, u.name, u.sector, u.kind, u.valid_from, u.valid_until, u.revision, \
     u.create_time, u.update_time, u.code";

/// One unit.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Unit>> {
    let row: Option<UnitRow> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT u.id, u.locality_code, u.name, u.sector, u.kind, u.valid_from, u.valid_until, u.revision, \
             u.create_time, u.update_time, u.code FROM units u WHERE u.id = {id}"
        ),
    )
    .await?;
    row.map(Unit::try_from).transpose()
}

pub use crate::sql::Lock;

/// Locks unit `id` until the transaction ends, so that a check of its period made in
/// the transaction still holds at commit; whether it exists.
///
/// PostgreSQL takes the row lock (`FOR UPDATE` / `FOR SHARE`). SQLite has no row
/// locks and needs none: its writers are serialised (`BEGIN IMMEDIATE`), so nothing
/// changes between the check and the commit.
pub async fn lock(conn: &impl ConnectionTrait, id: i64, lock: Lock) -> Result<bool> {
    sql::lock_row(conn, "units", id, lock).await
}

/// A list of units: those that exist on `as_of` in a locality's subtree as it was that
/// day, within the caller's scope, filtered, after a unit id, ordered by id.
#[derive(Debug, Clone)]
pub struct UnitList<'a> {
    /// The locality whose subtree is listed.
    pub locality: &'a Code,
    /// The date of the tree and of the units' existence.
    pub as_of: NaiveDate,
    /// The caller's scope roots; `None` for a national caller.
    pub scope: Option<&'a std::collections::BTreeSet<Code>>,
    /// Filter conditions.
    pub conditions: &'a [Condition],
    /// Resume after this id.
    pub after: Option<i64>,
    /// Most rows to return.
    pub limit: u64,
}

/// The units of a list, in id order.
pub async fn list(conn: &impl ConnectionTrait, list: &UnitList<'_>) -> Result<Vec<Unit>> {
    let mut q = Query::new("WITH RECURSIVE ");
    if let Some(roots) = list.scope {
        q.append(scope::scope_codes(roots)).push(", ");
    }
    // The locality itself, and every locality whose version in force that day has a
    // parent in the subtree.
    q.push("subtree(code) AS (SELECT code FROM localities WHERE code = ").bind(list.locality);
    q.push(
        " UNION SELECT v.code FROM locality_versions v JOIN subtree s ON v.parent_code = s.code WHERE v.valid_from <= ",
    );
    q.bind(list.as_of).push(" AND (v.valid_until IS NULL OR v.valid_until > ").bind(list.as_of).push("))");
    q.push(format!(
        " SELECT {COLUMNS} FROM units u WHERE u.locality_code IN (SELECT code FROM subtree) AND u.valid_from <= "
    ));
    q.bind(list.as_of).push(" AND (u.valid_until IS NULL OR u.valid_until > ").bind(list.as_of).push(")");
    if list.scope.is_some() {
        q.push(" AND u.locality_code IN (SELECT code FROM scope_codes)");
    }
    for condition in list.conditions {
        match condition {
            Condition::Sector { equal: true, sector } => q.push(" AND u.sector = ").bind(sector.stored()),
            Condition::Sector { equal: false, sector } => q.push(" AND u.sector <> ").bind(sector.stored()),
            Condition::Kind { equal: true, kind } => q.push(" AND u.kind = ").bind(kind.stored()),
            Condition::Kind { equal: false, kind } => q.push(" AND u.kind <> ").bind(kind.stored()),
            Condition::Code { equal: true, code } => q.push(" AND u.code_key = ").bind(code_key(code)),
            Condition::Code { equal: false, code } => {
                q.push(" AND (u.code_key IS NULL OR u.code_key <> ").bind(code_key(code)).push(")")
            }
        };
    }
    if let Some(after) = list.after {
        q.push(" AND u.id > ").bind(after);
    }
    q.push(" ORDER BY u.id LIMIT ").bind(i64::try_from(list.limit).unwrap_or(i64::MAX));
    let rows: Vec<UnitRow> = sql::all(conn, q.build()).await?;
    rows.into_iter().map(Unit::try_from).collect()
}

/// Inserts a unit; its id.
pub async fn insert(conn: &impl ConnectionTrait, locality: &Code, fields: &UnitFields) -> Result<i64> {
    let now = Utc::now();
    let folded = fold(&fields.display_name);
    let (name, sector, kind) = (fields.display_name.as_str(), fields.sector.stored(), fields.kind.stored());
    let (from, until) = (fields.valid_from, fields.valid_until);
    let (code, key) = (fields.code.clone(), fields.code.as_deref().map(code_key));
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    let row: Option<Id> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO units (locality_code, name, name_folded, sector, kind, valid_from, valid_until, revision, \
             create_time, update_time, code, code_key) \
             VALUES ({locality}, {name}, {folded}, {sector}, {kind}, {from}, {until}, 1, {now}, {now}, {code}, {key}) \
             RETURNING id"
        ),
    )
    .await?;
    row.map(|r| r.id).ok_or_else(|| Error::internal("inserting a unit returned no id"))
}

/// Writes `fields` over unit `id` if it is still at `revision`; whether it was.
pub async fn update(conn: &impl ConnectionTrait, id: i64, revision: i64, fields: &UnitFields) -> Result<bool> {
    let now = Utc::now();
    let folded = fold(&fields.display_name);
    let (name, sector, kind) = (fields.display_name.as_str(), fields.sector.stored(), fields.kind.stored());
    let (from, until) = (fields.valid_from, fields.valid_until);
    let (code, key) = (fields.code.clone(), fields.code.as_deref().map(code_key));
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE units SET name = {name}, name_folded = {folded}, sector = {sector}, kind = {kind}, \
             valid_from = {from}, valid_until = {until}, code = {code}, code_key = {key}, \
             revision = revision + 1, update_time = {now} WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// Deletes unit `id`.
pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM units WHERE id = {id}")).await?;
    Ok(())
}

/// The unit other than `except` whose code is `code` (without regard to case).
pub async fn code_holder(conn: &impl ConnectionTrait, code: &str, except: Option<i64>) -> Result<Option<UnitName>> {
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    let (key, except) = (code_key(code), except.unwrap_or(0));
    let row: Option<Id> =
        sql::one(conn, raw_sql!(Postgres, "SELECT id FROM units WHERE code_key = {key} AND id <> {except}")).await?;
    Ok(row.map(|r| UnitName(r.id)))
}

/// A placement of a unit that lies outside a period.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct PlacementOutside {
    /// The placement's id.
    pub id: i64,
    /// Its person.
    pub person_id: i64,
    /// Its first day.
    pub valid_from: NaiveDate,
    /// Its end, if it ends.
    pub valid_until: Option<NaiveDate>,
}

/// Up to `limit` placements of unit `id` that do not lie within `[from, until)`.
pub async fn placements_outside(
    conn: &impl ConnectionTrait,
    id: i64,
    from: NaiveDate,
    until: Option<NaiveDate>,
    limit: i64,
) -> Result<Vec<PlacementOutside>> {
    let statement = match until {
        Some(until) => raw_sql!(
            Postgres,
            "SELECT id, person_id, valid_from, valid_until FROM placements WHERE unit_id = {id} \
             AND (valid_from < {from} OR valid_until IS NULL OR valid_until > {until}) \
             ORDER BY valid_from, id LIMIT {limit}"
        ),
        None => raw_sql!(
            Postgres,
            "SELECT id, person_id, valid_from, valid_until FROM placements WHERE unit_id = {id} \
             AND valid_from < {from} ORDER BY valid_from, id LIMIT {limit}"
        ),
    };
    sql::all(conn, statement).await
}

/// How many placements refer to unit `id`.
pub async fn placement_count(conn: &impl ConnectionTrait, id: i64) -> Result<i64> {
    sql::count(conn, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM placements WHERE unit_id = {id}")).await
}
