//! The SQL of movements, typed: rows come back as [`RotationRow`]s, parameters are
//! named; with the few reads and writes of placements that starting, completing and
//! cancelling a movement make.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, SqlErr};

use super::rules::{Condition, Direction, Kind, Placed, Rotation, RotationFields, Status};
use crate::{
    domain::locality::Code,
    edge::{
        enums::Table as _,
        names::{PersonName, RotationName},
    },
    error::{Error, Result},
    people::rules::person::{PlacementFields, Rating},
    scope,
    sql::{self, FromQueryResult, Query, raw_sql},
};

/// The partial unique index that holds "one open movement per person" (migration
/// `m20261201_300000_add_open_movement_index`).
pub const OPEN_INDEX: &str = "ux_rotations_open_person";

/// A movement as stored, with the localities of its two units.
#[derive(Debug, FromQueryResult)]
struct RotationRow {
    id: i64,
    person_id: i64,
    kind: String,
    source_unit_id: i64,
    source_post: String,
    destination_unit_id: i64,
    destination_post: String,
    destination_leader: bool,
    start_date: NaiveDate,
    planned_end_date: Option<NaiveDate>,
    actual_end_date: Option<NaiveDate>,
    decision_number: String,
    decided_on: NaiveDate,
    issuing_body: String,
    programme: String,
    status: String,
    outcome_rating: Option<String>,
    promoted: bool,
    post_after_return: Option<String>,
    source_placement_id: Option<i64>,
    source_placement_until: Option<NaiveDate>,
    destination_placement_id: Option<i64>,
    return_placement_id: Option<i64>,
    revision: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
    source_locality: String,
    destination_locality: String,
}

impl TryFrom<RotationRow> for Rotation {
    type Error = Error;

    fn try_from(row: RotationRow) -> Result<Self> {
        let unknown = |what: &str, value: &str| {
            Error::internal(format!("stored movement {what} `{value}` is not known to this version of the service"))
        };
        let outcome_rating = match row.outcome_rating.as_deref() {
            None => None,
            Some(r) => Some(Rating::from_db(r).ok_or_else(|| unknown("outcome_rating", r))?),
        };
        Ok(Self {
            name: RotationName(row.id),
            fields: RotationFields {
                person_id: row.person_id,
                kind: Kind::from_stored(&row.kind).ok_or_else(|| unknown("kind", &row.kind))?,
                source_unit_id: row.source_unit_id,
                source_post: row.source_post,
                destination_unit_id: row.destination_unit_id,
                destination_post: row.destination_post,
                destination_leader: row.destination_leader,
                start_date: row.start_date,
                planned_end_date: row.planned_end_date,
                decision_number: row.decision_number,
                decided_on: row.decided_on,
                issuing_body: row.issuing_body,
                programme: row.programme,
            },
            actual_end_date: row.actual_end_date,
            status: Status::from_stored(&row.status).ok_or_else(|| unknown("status", &row.status))?,
            outcome_rating,
            promoted: row.promoted,
            post_after_return: row.post_after_return,
            source_placement_id: row.source_placement_id,
            source_placement_until: row.source_placement_until,
            destination_placement_id: row.destination_placement_id,
            return_placement_id: row.return_placement_id,
            source_locality: Code::from_db(row.source_locality),
            destination_locality: Code::from_db(row.destination_locality),
            revision: row.revision,
            create_time: row.create_time,
            update_time: row.update_time,
        })
    }
}

const SELECT: &str = "SELECT r.id, r.person_id, r.kind, r.source_unit_id, r.source_post, r.destination_unit_id, \
    r.destination_post, r.destination_leader, r.start_date, r.planned_end_date, r.actual_end_date, \
    r.decision_number, r.decided_on, r.issuing_body, r.programme, r.status, r.outcome_rating, r.promoted, \
    r.post_after_return, r.source_placement_id, r.source_placement_until, r.destination_placement_id, \
    r.return_placement_id, r.revision, r.create_time, r.update_time, \
    su.locality_code AS source_locality, du.locality_code AS destination_locality \
    FROM rotations r JOIN units su ON su.id = r.source_unit_id JOIN units du ON du.id = r.destination_unit_id";

/// One movement.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Rotation>> {
    let mut q = Query::new(SELECT);
    q.push(" WHERE r.id = ").bind(id);
    let row: Option<RotationRow> = sql::one(conn, q.build()).await?;
    row.map(Rotation::try_from).transpose()
}

/// Locks movement `id` against any change until the transaction ends, so that its
/// status, checked next, still holds at commit; whether it exists.
///
/// PostgreSQL takes the row lock (`FOR UPDATE`): a concurrent start, completion or
/// cancellation of the same movement waits, then sees the status this one wrote.
/// SQLite has no row locks and needs none: its writers are serialised (`BEGIN
/// IMMEDIATE`).
pub async fn lock(conn: &impl ConnectionTrait, id: i64) -> Result<bool> {
    sql::lock_row(conn, "rotations", id, sql::Lock::Update).await
}

/// Locks person `id` against changes until the transaction ends (PostgreSQL `FOR
/// UPDATE`; SQLite's writers are serialised), so that two writes that move the same
/// person's placements run one after the other and each checks what the other wrote.
pub async fn lock_person(conn: &impl ConnectionTrait, id: i64) -> Result<bool> {
    crate::people::queries::lock_person(conn, id).await
}

#[derive(FromQueryResult)]
struct Id {
    id: i64,
}

/// A person's planned or active movements, other than `except`.
pub async fn open_of(
    conn: &impl ConnectionTrait,
    person: PersonName,
    except: Option<i64>,
) -> Result<Vec<RotationName>> {
    let (person_id, except) = (person.id(), except.unwrap_or(0));
    let (planned, active) = (Status::Planned.stored(), Status::Active.stored());
    let rows: Vec<Id> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id FROM rotations WHERE person_id = {person_id} AND status IN ({planned}, {active}) \
             AND id <> {except} ORDER BY id"
        ),
    )
    .await?;
    Ok(rows.into_iter().map(|r| RotationName(r.id)).collect())
}

/// Maps a violation of [`OPEN_INDEX`] to a conflict, so that the unit of work runs
/// again and its check names the movement that won; any other error as it is.
fn open_conflict(err: sea_orm::DbErr) -> Error {
    match err.sql_err() {
        // PostgreSQL names the index; SQLite the indexed column.
        Some(SqlErr::UniqueConstraintViolation(message))
            if message.contains(OPEN_INDEX) || message.contains("rotations.person_id") =>
        {
            Error::Conflict("a concurrent movement of the same person was recorded first".to_owned())
        }
        _ => err.into(),
    }
}

/// Inserts a planned movement; its id. A concurrent open movement of the same person
/// (the partial unique index) is [`Error::Conflict`].
pub async fn insert(conn: &impl ConnectionTrait, r: &RotationFields) -> Result<RotationName> {
    let now = Utc::now();
    let (person_id, kind, planned) = (r.person_id, r.kind.stored(), Status::Planned.stored());
    let (source_unit, source_post) = (r.source_unit_id, r.source_post.as_str());
    let (destination_unit, destination_post, leader) =
        (r.destination_unit_id, r.destination_post.as_str(), r.destination_leader);
    let (start, planned_end) = (r.start_date, r.planned_end_date);
    let (number, decided_on, body, programme) =
        (r.decision_number.as_str(), r.decided_on, r.issuing_body.as_str(), r.programme.as_str());
    let statement = sql::on(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO rotations (person_id, kind, source_unit_id, source_post, destination_unit_id, \
             destination_post, destination_leader, start_date, planned_end_date, decision_number, decided_on, \
             issuing_body, programme, status, promoted, revision, create_time, update_time) \
             VALUES ({person_id}, {kind}, {source_unit}, {source_post}, {destination_unit}, {destination_post}, \
             {leader}, {start}, {planned_end}, {number}, {decided_on}, {body}, {programme}, {planned}, FALSE, 1, \
             {now}, {now}) RETURNING id"
        ),
    );
    let row = Id::find_by_statement(statement).one(conn).await.map_err(open_conflict)?;
    row.map(|r| RotationName(r.id)).ok_or_else(|| Error::internal("inserting a movement returned no id"))
}

/// Writes `r` over movement `id` if it is still at `revision`; whether it was.
pub async fn update_fields(conn: &impl ConnectionTrait, id: i64, revision: i64, r: &RotationFields) -> Result<bool> {
    let now = Utc::now();
    let kind = r.kind.stored();
    let (source_unit, source_post) = (r.source_unit_id, r.source_post.as_str());
    let (destination_unit, destination_post, leader) =
        (r.destination_unit_id, r.destination_post.as_str(), r.destination_leader);
    let (start, planned_end) = (r.start_date, r.planned_end_date);
    let (number, decided_on, body, programme) =
        (r.decision_number.as_str(), r.decided_on, r.issuing_body.as_str(), r.programme.as_str());
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE rotations SET kind = {kind}, source_unit_id = {source_unit}, source_post = {source_post}, \
             destination_unit_id = {destination_unit}, destination_post = {destination_post}, \
             destination_leader = {leader}, start_date = {start}, planned_end_date = {planned_end}, \
             decision_number = {number}, decided_on = {decided_on}, issuing_body = {body}, \
             programme = {programme}, revision = revision + 1, update_time = {now} \
             WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// What starting a movement changed, recorded on it so that a cancellation can undo it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The placement closed at the source.
    pub source_placement_id: i64,
    /// Its end before the start closed it.
    pub source_placement_until: Option<NaiveDate>,
    /// The placement opened at the destination.
    pub destination_placement_id: i64,
}

/// Marks movement `id` (at `revision`) active with what starting it changed; whether
/// it was still at `revision`.
pub async fn mark_started(conn: &impl ConnectionTrait, id: i64, revision: i64, started: Started) -> Result<bool> {
    let (now, active) = (Utc::now(), Status::Active.stored());
    let Started { source_placement_id, source_placement_until, destination_placement_id } = started;
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE rotations SET status = {active}, source_placement_id = {source_placement_id}, \
             source_placement_until = {source_placement_until}, \
             destination_placement_id = {destination_placement_id}, revision = revision + 1, update_time = {now} \
             WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// How a movement ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The first day back (or at the destination for good, for a transfer).
    pub actual_end_date: NaiveDate,
    /// The rating over the period.
    pub rating: Option<Rating>,
    /// Promoted at or after the end.
    pub promoted: bool,
    /// The post after the return.
    pub post_after_return: Option<String>,
    /// The placement opened at the return.
    pub return_placement_id: Option<i64>,
}

/// Marks movement `id` (at `revision`) completed; whether it was still at `revision`.
pub async fn mark_completed(conn: &impl ConnectionTrait, id: i64, revision: i64, done: &Completion) -> Result<bool> {
    let (now, completed) = (Utc::now(), Status::Completed.stored());
    let (end, rating, promoted) = (done.actual_end_date, done.rating.map(Rating::as_str), done.promoted);
    let (post, return_id) = (done.post_after_return.clone(), done.return_placement_id);
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE rotations SET status = {completed}, actual_end_date = {end}, outcome_rating = {rating}, \
             promoted = {promoted}, post_after_return = {post}, return_placement_id = {return_id}, \
             revision = revision + 1, update_time = {now} WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// Marks movement `id` (at `revision`) cancelled; `undone` also forgets the placements
/// a started movement had opened (they were removed). Whether it was still at `revision`.
pub async fn mark_cancelled(conn: &impl ConnectionTrait, id: i64, revision: i64, undone: bool) -> Result<bool> {
    let (now, cancelled) = (Utc::now(), Status::Cancelled.stored());
    let statement = if undone {
        raw_sql!(
            Postgres,
            "UPDATE rotations SET status = {cancelled}, destination_placement_id = NULL, \
             return_placement_id = NULL, revision = revision + 1, update_time = {now} \
             WHERE id = {id} AND revision = {revision}"
        )
    } else {
        raw_sql!(
            Postgres,
            "UPDATE rotations SET status = {cancelled}, revision = revision + 1, update_time = {now} \
             WHERE id = {id} AND revision = {revision}"
        )
    };
    Ok(sql::execute(conn, statement).await? == 1)
}

/// Deletes movement `id` if it is still at `revision`; whether it was.
pub async fn delete(conn: &impl ConnectionTrait, id: i64, revision: i64) -> Result<bool> {
    let deleted =
        sql::execute(conn, raw_sql!(Postgres, "DELETE FROM rotations WHERE id = {id} AND revision = {revision}"))
            .await?;
    Ok(deleted == 1)
}

/// A list of movements: those whose source or destination unit lies in a locality's
/// subtree, by start date and filter, after an id, ordered by id.
#[derive(Debug, Clone)]
pub struct RotationList<'a> {
    /// The locality whose subtree is listed.
    pub locality: &'a Code,
    /// Starting on or after.
    pub start_from: Option<NaiveDate>,
    /// Starting before.
    pub start_until: Option<NaiveDate>,
    /// Filter conditions.
    pub conditions: &'a [Condition],
    /// Resume after this id.
    pub after: Option<i64>,
    /// Most rows to return.
    pub limit: u64,
}

/// The movements of a list, in id order.
pub async fn list(conn: &impl ConnectionTrait, list: &RotationList<'_>) -> Result<Vec<Rotation>> {
    let mut q = Query::new("WITH RECURSIVE ");
    q.append(scope::scope_codes(&BTreeSet::from([list.locality.clone()])));
    q.push(format!(
        " {SELECT} WHERE (su.locality_code IN (SELECT code FROM scope_codes) \
         OR du.locality_code IN (SELECT code FROM scope_codes))"
    ));
    if let Some(from) = list.start_from {
        q.push(" AND r.start_date >= ").bind(from);
    }
    if let Some(until) = list.start_until {
        q.push(" AND r.start_date < ").bind(until);
    }
    for condition in list.conditions {
        match condition {
            Condition::Kind(kind) => q.push(" AND r.kind = ").bind(kind.stored()),
            Condition::Status(status) => q.push(" AND r.status = ").bind(status.stored()),
            // The tier follows from the length of the code: longer is lower.
            Condition::Direction(direction) => q.push(match direction {
                Direction::Downward => " AND LENGTH(du.locality_code) > LENGTH(su.locality_code)",
                Direction::Upward => " AND LENGTH(du.locality_code) < LENGTH(su.locality_code)",
                Direction::Lateral => " AND LENGTH(du.locality_code) = LENGTH(su.locality_code)",
            }),
        };
    }
    if let Some(after) = list.after {
        q.push(" AND r.id > ").bind(after);
    }
    q.push(" ORDER BY r.id LIMIT ").bind(i64::try_from(list.limit).unwrap_or(i64::MAX));
    let rows: Vec<RotationRow> = sql::all(conn, q.build()).await?;
    rows.into_iter().map(Rotation::try_from).collect()
}

// ---- the person and units a movement touches -------------------------------------

/// Whether person `id` exists.
pub async fn person_exists(conn: &impl ConnectionTrait, person: PersonName) -> Result<bool> {
    let id = person.id();
    Ok(sql::count(conn, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM people WHERE id = {id}")).await? > 0)
}

/// The end of person `id`'s employment: `None` if the person does not exist,
/// `Some(None)` while employed.
pub async fn employed_until(conn: &impl ConnectionTrait, person: PersonName) -> Result<Option<Option<NaiveDate>>> {
    #[derive(FromQueryResult)]
    struct Employment {
        employed_until: Option<NaiveDate>,
    }
    let id = person.id();
    let row: Option<Employment> =
        sql::one(conn, raw_sql!(Postgres, "SELECT employed_until FROM people WHERE id = {id}")).await?;
    Ok(row.map(|r| r.employed_until))
}

/// The period of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromQueryResult)]
pub struct UnitPeriod {
    /// The unit's id.
    pub id: i64,
    /// First day it exists.
    pub valid_from: NaiveDate,
    /// First day it no longer exists.
    pub valid_until: Option<NaiveDate>,
}

/// The periods of the units `ids` that exist.
pub async fn unit_periods(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<UnitPeriod>> {
    sql::all(conn, raw_sql!(Postgres, "SELECT id, valid_from, valid_until FROM units WHERE id IN ({..ids})")).await
}

#[derive(FromQueryResult)]
struct PlacedRow {
    id: i64,
    unit_id: i64,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
}

/// A person's placements, by first day.
pub async fn placements_of(conn: &impl ConnectionTrait, person: PersonName) -> Result<Vec<Placed>> {
    let id = person.id();
    let rows: Vec<PlacedRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, unit_id, valid_from, valid_until FROM placements WHERE person_id = {id} \
             ORDER BY valid_from, id"
        ),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Placed { id: r.id, unit_id: r.unit_id, valid_from: r.valid_from, valid_until: r.valid_until })
        .collect())
}

/// Sets the end of placement `id`; whether it exists.
pub async fn end_placement(conn: &impl ConnectionTrait, id: i64, until: Option<NaiveDate>) -> Result<bool> {
    let changed = sql::execute(
        conn,
        raw_sql!(Postgres, "UPDATE placements SET valid_until = {until}, revision = revision + 1 WHERE id = {id}"),
    )
    .await?;
    Ok(changed == 1)
}

/// Opens a placement of `person`; its id. Placements are the people feature's rows:
/// its insert is used, so that they are written one way.
pub async fn open_placement(txn: &DatabaseTransaction, person: PersonName, placement: &PlacementFields) -> Result<i64> {
    crate::people::queries::insert_placement(txn, person.id(), placement).await
}

/// Removes placement `id`.
pub async fn remove_placement(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM placements WHERE id = {id}")).await?;
    Ok(())
}
