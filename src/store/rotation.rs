//! Movements of cadres: reads, the list query, inserts and the bookkeeping columns of
//! their effects on placements.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Value};

use super::{person::allocate_ids, scope::scope_codes_cte, stmt};
use crate::{
    domain::{
        locality::Code,
        person::Rating,
        rotation::{Direction, Kind, RotationFields, Status},
    },
    error::{Error, Result},
};

/// A stored movement, with the localities of its two units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationRow {
    /// Id.
    pub id: i64,
    /// Entered fields.
    pub fields: RotationFields,
    /// Actual first day back.
    pub actual_end_date: Option<NaiveDate>,
    /// Status.
    pub status: Status,
    /// Rating over the period.
    pub outcome_rating: Option<Rating>,
    /// Promoted at or after the end.
    pub promoted: bool,
    /// Post after the return.
    pub post_after_return: Option<String>,
    /// The placement closed at the start.
    pub source_placement_id: Option<i64>,
    /// Its end before the start closed it.
    pub source_placement_until: Option<NaiveDate>,
    /// The placement opened at the destination.
    pub destination_placement_id: Option<i64>,
    /// The placement opened at the return.
    pub return_placement_id: Option<i64>,
    /// The source unit's locality.
    pub source_locality: Code,
    /// The destination unit's locality.
    pub destination_locality: Code,
    /// Revision (etag).
    pub revision: i64,
    /// Created.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

fn rotation_of(row: &QueryResult) -> Result<RotationRow> {
    let kind: String = row.try_get("", "kind")?;
    let status: String = row.try_get("", "status")?;
    let rating: Option<String> = row.try_get("", "outcome_rating")?;
    Ok(RotationRow {
        id: row.try_get("", "id")?,
        fields: RotationFields {
            person_id: row.try_get("", "person_id")?,
            kind: Kind::from_db(&kind).ok_or_else(|| corrupt("kind", &kind))?,
            source_unit_id: row.try_get("", "source_unit_id")?,
            source_post: row.try_get("", "source_post")?,
            destination_unit_id: row.try_get("", "destination_unit_id")?,
            destination_post: row.try_get("", "destination_post")?,
            destination_leader: row.try_get("", "destination_leader")?,
            start_date: row.try_get("", "start_date")?,
            planned_end_date: row.try_get("", "planned_end_date")?,
            decision_number: row.try_get("", "decision_number")?,
            decided_on: row.try_get("", "decided_on")?,
            issuing_body: row.try_get("", "issuing_body")?,
            programme: row.try_get("", "programme")?,
        },
        actual_end_date: row.try_get("", "actual_end_date")?,
        status: Status::from_db(&status).ok_or_else(|| corrupt("status", &status))?,
        outcome_rating: rating.map(|r| Rating::from_db(&r).ok_or_else(|| corrupt("outcome_rating", &r))).transpose()?,
        promoted: row.try_get("", "promoted")?,
        post_after_return: row.try_get("", "post_after_return")?,
        source_placement_id: row.try_get("", "source_placement_id")?,
        source_placement_until: row.try_get("", "source_placement_until")?,
        destination_placement_id: row.try_get("", "destination_placement_id")?,
        return_placement_id: row.try_get("", "return_placement_id")?,
        source_locality: Code::from_db(row.try_get("", "source_locality")?),
        destination_locality: Code::from_db(row.try_get("", "destination_locality")?),
        revision: row.try_get("", "revision")?,
        create_time: row.try_get("", "create_time")?,
        update_time: row.try_get("", "update_time")?,
    })
}

const SELECT: &str = "SELECT r.id, r.person_id, r.kind, r.source_unit_id, r.source_post, r.destination_unit_id, \
    r.destination_post, r.destination_leader, r.start_date, r.planned_end_date, r.actual_end_date, \
    r.decision_number, r.decided_on, r.issuing_body, r.programme, r.status, r.outcome_rating, r.promoted, \
    r.post_after_return, r.source_placement_id, r.source_placement_until, r.destination_placement_id, \
    r.return_placement_id, r.revision, r.create_time, r.update_time, \
    su.locality_code AS source_locality, du.locality_code AS destination_locality \
    FROM rotations r JOIN units su ON su.id = r.source_unit_id JOIN units du ON du.id = r.destination_unit_id";

/// One movement.
pub async fn load(conn: &impl ConnectionTrait, id: i64) -> Result<Option<RotationRow>> {
    let sql = format!("{SELECT} WHERE r.id = ?");
    let row = conn.query_one_raw(stmt(conn.get_database_backend(), &sql, vec![id.into()])).await?;
    row.as_ref().map(rotation_of).transpose()
}

/// The ids of a person's planned or active movements, other than `except`.
pub async fn open_of(conn: &impl ConnectionTrait, person_id: i64, except: Option<i64>) -> Result<Vec<i64>> {
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT id FROM rotations WHERE person_id = ? AND status IN (?, ?) AND id <> ? ORDER BY id",
            vec![
                person_id.into(),
                Status::Planned.as_str().into(),
                Status::Active.as_str().into(),
                except.unwrap_or(0).into(),
            ],
        ))
        .await?;
    rows.iter().map(|r| Ok(r.try_get::<i64>("", "id")?)).collect()
}

/// The columns of the entered fields.
pub fn field_columns(r: &RotationFields) -> Vec<(&'static str, Value)> {
    vec![
        ("kind", r.kind.as_str().into()),
        ("source_unit_id", r.source_unit_id.into()),
        ("source_post", r.source_post.as_str().into()),
        ("destination_unit_id", r.destination_unit_id.into()),
        ("destination_post", r.destination_post.as_str().into()),
        ("destination_leader", r.destination_leader.into()),
        ("start_date", r.start_date.into()),
        ("planned_end_date", r.planned_end_date.into()),
        ("decision_number", r.decision_number.as_str().into()),
        ("decided_on", r.decided_on.into()),
        ("issuing_body", r.issuing_body.as_str().into()),
        ("programme", r.programme.as_str().into()),
    ]
}

/// Inserts a planned movement; returns its id.
pub async fn insert(txn: &DatabaseTransaction, r: &RotationFields) -> Result<i64> {
    let id = allocate_ids(txn, "rotations", 1).await?.pop().ok_or_else(|| Error::internal("no id allocated"))?;
    let now = Utc::now();
    let mut columns: Vec<(&str, Value)> = vec![("id", id.into()), ("person_id", r.person_id.into())];
    columns.extend(field_columns(r));
    columns.extend([
        ("status", Status::Planned.as_str().into()),
        ("promoted", false.into()),
        ("revision", 1i64.into()),
        ("create_time", now.into()),
        ("update_time", now.into()),
    ]);
    let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
    let sql = format!("INSERT INTO rotations ({}) VALUES ({})", names.join(", "), super::placeholders(columns.len()));
    txn.execute_raw(stmt(txn.get_database_backend(), &sql, columns.into_iter().map(|(_, v)| v).collect())).await?;
    Ok(id)
}

/// Updates a movement's columns (and its update time) if its revision is still
/// `expected`; returns whether it was.
pub async fn update(
    txn: &DatabaseTransaction,
    id: i64,
    expected: i64,
    mut columns: Vec<(&'static str, Value)>,
) -> Result<bool> {
    columns.push(("update_time", Utc::now().into()));
    super::person::update_row(txn, "rotations", &[("id", id.into())], Some(expected), columns).await
}

/// Conditions of the list filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `kind = X`.
    Kind(Kind),
    /// `status = X`.
    Status(Status),
    /// `direction = X`.
    Direction(Direction),
}

/// What a list of movements selects.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Movements whose source or destination unit lies in this locality's subtree.
    pub locality: Code,
    /// Starting on or after.
    pub start_from: Option<NaiveDate>,
    /// Starting before.
    pub start_until: Option<NaiveDate>,
    /// Filter conditions.
    pub conditions: Vec<Condition>,
    /// Resume after this id.
    pub after: Option<i64>,
    /// Page size; one more row is read to tell whether more follow.
    pub limit: u64,
}

/// One page of movements, by id; the `limit + 1`-th row tells more follow.
pub async fn list(conn: &impl ConnectionTrait, query: &ListQuery) -> Result<Vec<RotationRow>> {
    let (cte, mut values) = scope_codes_cte(&BTreeSet::from([query.locality.clone()]));
    let mut sql = format!(
        "WITH RECURSIVE {cte} {SELECT} WHERE (su.locality_code IN (SELECT code FROM scope_codes) \
         OR du.locality_code IN (SELECT code FROM scope_codes))"
    );
    if let Some(from) = query.start_from {
        sql.push_str(" AND r.start_date >= ?");
        values.push(from.into());
    }
    if let Some(until) = query.start_until {
        sql.push_str(" AND r.start_date < ?");
        values.push(until.into());
    }
    for condition in &query.conditions {
        match condition {
            Condition::Kind(kind) => {
                sql.push_str(" AND r.kind = ?");
                values.push(kind.as_str().into());
            }
            Condition::Status(status) => {
                sql.push_str(" AND r.status = ?");
                values.push(status.as_str().into());
            }
            // The tier follows from the length of the code: longer is lower.
            Condition::Direction(direction) => sql.push_str(match direction {
                Direction::Downward => " AND LENGTH(du.locality_code) > LENGTH(su.locality_code)",
                Direction::Upward => " AND LENGTH(du.locality_code) < LENGTH(su.locality_code)",
                Direction::Lateral => " AND LENGTH(du.locality_code) = LENGTH(su.locality_code)",
            }),
        }
    }
    if let Some(after) = query.after {
        sql.push_str(" AND r.id > ?");
        values.push(after.into());
    }
    sql.push_str(" ORDER BY r.id LIMIT ?");
    values.push(i64::try_from(query.limit + 1).unwrap_or(i64::MAX).into());
    conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?.iter().map(rotation_of).collect()
}
