//! The writes of people and their records: batched inserts (an import writes a few
//! statements per few hundred people), single-row inserts, and updates and deletes
//! guarded by the revision the caller read.
//!
//! Placements of one person never overlap. The use cases check it in their
//! transaction; on PostgreSQL the exclusion constraint `placements_no_overlap` holds it
//! too (checked at commit, so that a write that closes one placement and opens the
//! next may pass through an overlap in between), and a commit that breaks it is a
//! conflict the unit of work runs again, when the check sees the other placement. On
//! SQLite writers are serialised (`BEGIN IMMEDIATE`), so the check suffices.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::NewRecord;
use crate::{
    domain::text::fold,
    edge::enums::Table as _,
    error::{Error, Result},
    people::rules::{
        identity::{Identity, StaffCode},
        person::{DisciplineFields, PersonFields, PlacementFields, QualificationFields, Rating},
        upsert::Changes,
    },
    sql::{self, FromQueryResult, Query, raw_sql},
};

/// Rows per multi-row INSERT; keeps every statement under SQLite's parameter limit.
const INSERT_CHUNK: usize = 500;

/// A table whose ids a batch reserves in advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTable {
    /// `people`.
    People,
    /// `placements`.
    Placements,
    /// `qualifications`.
    Qualifications,
}

impl IdTable {
    fn name(self) -> &'static str {
        match self {
            Self::People => "people",
            Self::Placements => "placements",
            Self::Qualifications => "qualifications",
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct Id {
    id: i64,
}

/// Reserves `n` new ids of `table` inside a write transaction, so that a batch can be
/// inserted with ids known in advance. On PostgreSQL the ids come from the table's
/// sequence; on SQLite the write lock of the transaction makes `MAX(id) + 1…` safe.
pub async fn reserve_ids(conn: &impl ConnectionTrait, table: IdTable, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).map_err(|_| Error::internal("too many ids requested"))?;
    let name = table.name();
    match conn.get_database_backend() {
        DbBackend::Postgres => {
            let rows: Vec<Id> = sql::all(
                conn,
                raw_sql!(
                    Postgres,
                    "SELECT nextval(pg_get_serial_sequence({name}, 'id')) AS id FROM generate_series(1, {count}) \
                     ORDER BY 1"
                ),
            )
            .await?;
            Ok(rows.into_iter().map(|r| r.id).collect())
        }
        _ => {
            // AUTOINCREMENT never reuses the id of a deleted row: neither may we. (The
            // table name is one of [`IdTable`]'s, never the caller's.)
            let mut q = Query::new(format!("SELECT MAX(COALESCE((SELECT MAX(id) FROM {name}), 0), "));
            q.push("COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ").bind(name).push("), 0)) AS id");
            let max = sql::one::<Id>(conn, q.build()).await?.map_or(0, |r| r.id);
            Ok((1..=count).map(|i| max + i).collect())
        }
    }
}

/// Inserts `rows` (each the values of `columns`, in order): on PostgreSQL as one JSON
/// document per many thousand rows ([`insert_json`]), on SQLite a few hundred rows per
/// multi-row `INSERT … VALUES` (in process, a statement costs no round trip).
async fn insert_many(conn: &impl ConnectionTrait, table_and_columns: &str, rows: Vec<Vec<Value>>) -> Result<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        return insert_json(conn, table_and_columns, &rows).await;
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut q = Query::new(format!("INSERT INTO {table_and_columns} VALUES "));
        for (i, row) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.bind_list(row.iter().cloned()).push(")");
        }
        sql::execute(conn, q.build()).await?;
    }
    Ok(())
}

/// Rows per statement on PostgreSQL: a few megabytes of JSON.
const JSON_CHUNK: usize = 10_000;

/// Inserts `rows` on PostgreSQL with `INSERT … SELECT … FROM json_populate_recordset`:
/// one bound parameter (a JSON array of the rows) per statement, typed by the table's
/// own row type. A multi-row `VALUES` binds (and PostgreSQL parses) one parameter per
/// value, several thousand per statement, and needs a statement per few hundred rows;
/// this is one round trip per ten thousand rows, at nearly the pace of `COPY`, and
/// runs inside the unit of work's transaction like any statement (which `COPY` through
/// the driver would not).
async fn insert_json(conn: &impl ConnectionTrait, table_and_columns: &str, rows: &[Vec<Value>]) -> Result<()> {
    let (table, columns) = table_and_columns
        .split_once(" (")
        .and_then(|(table, columns)| Some((table, columns.strip_suffix(')')?)))
        .ok_or_else(|| Error::internal(format!("not `table (columns)`: {table_and_columns}")))?;
    let names: Vec<&str> = columns.split(',').map(str::trim).collect();
    let sql = format!(
        "INSERT INTO {table} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{table}, CAST($1 AS json))"
    );
    for chunk in rows.chunks(JSON_CHUNK) {
        let mut json = String::with_capacity(chunk.len() * 64 * names.len());
        json.push('[');
        for (i, row) in chunk.iter().enumerate() {
            json.push_str(if i == 0 { "{" } else { ",{" });
            for (j, (name, value)) in names.iter().zip(row).enumerate() {
                if j > 0 {
                    json.push(',');
                }
                json.push('"');
                json.push_str(name);
                json.push_str("\":");
                push_json(&mut json, value)?;
            }
            json.push('}');
        }
        json.push(']');
        sql::execute(conn, Statement::from_sql_and_values(DbBackend::Postgres, sql.as_str(), [json.into()])).await?;
    }
    Ok(())
}

/// Appends `value` as JSON, in the text PostgreSQL reads back into the column's type.
fn push_json(json: &mut String, value: &Value) -> Result<()> {
    use std::fmt::Write as _;
    let written = match value {
        Value::BigInt(Some(n)) => write!(json, "{n}"),
        Value::Int(Some(n)) => write!(json, "{n}"),
        Value::Bool(Some(b)) => write!(json, "{b}"),
        Value::String(Some(s)) => {
            json.push_str(&serde_json::Value::from(s.as_str()).to_string());
            Ok(())
        }
        Value::ChronoDate(Some(d)) => write!(json, "\"{}\"", d.format("%Y-%m-%d")),
        // Microseconds, as PostgreSQL keeps them and as a bound timestamp is cut to.
        Value::ChronoDateTimeUtc(Some(t)) => {
            write!(json, "\"{}\"", t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        }
        Value::BigInt(None)
        | Value::Int(None)
        | Value::Bool(None)
        | Value::String(None)
        | Value::ChronoDate(None)
        | Value::ChronoDateTimeUtc(None) => {
            json.push_str("null");
            Ok(())
        }
        other => return Err(Error::internal(format!("no JSON form for {other:?}"))),
    };
    written.map_err(|_| Error::internal("writing JSON"))
}

fn person_values(id: i64, p: &PersonFields, identity: &Identity, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        id.into(),
        p.full_name.as_str().into(),
        fold(&p.full_name).into(),
        p.birth_date.into(),
        p.gender.stored().into(),
        p.ethnicity.as_str().into(),
        p.category.stored().into(),
        p.employed_from.into(),
        p.employed_until.into(),
        p.end_reason.map(|r| r.stored().to_owned()).into(),
        identity.personal_id.as_ref().map(|i| i.as_str().to_owned()).into(),
        identity.staff_code.as_ref().map(|c| c.as_str().to_owned()).into(),
        identity.staff_code.as_ref().map(StaffCode::key).into(),
        1i64.into(),
        now.into(),
        now.into(),
    ]
}

fn placement_values(id: i64, person_id: i64, p: &PlacementFields) -> Vec<Value> {
    vec![
        id.into(),
        person_id.into(),
        p.unit_id.into(),
        p.post_title.as_str().into(),
        fold(&p.post_title).into(),
        p.leader.into(),
        p.key_post.into(),
        p.valid_from.into(),
        p.valid_until.into(),
        1i64.into(),
    ]
}

fn qualification_values(id: i64, person_id: i64, q: &QualificationFields) -> Vec<Value> {
    vec![
        id.into(),
        person_id.into(),
        q.scale.as_str().into(),
        q.level.as_str().into(),
        q.field_of_study.as_str().into(),
        q.institution.as_str().into(),
        q.awarded_on.into(),
        1i64.into(),
    ]
}

fn evaluation_values(person_id: i64, year: i32, rating: Rating) -> Vec<Value> {
    vec![person_id.into(), year.into(), rating.stored().into(), 1i64.into()]
}

const PEOPLE: &str = "people (id, full_name, name_folded, birth_date, gender, ethnicity, category, employed_from, \
    employed_until, end_reason, personal_id, staff_code, staff_code_key, revision, create_time, update_time)";
const PLACEMENTS: &str = "placements (id, person_id, unit_id, post_title, post_title_folded, is_leader, \
    is_key_post, valid_from, valid_until, revision)";
const QUALIFICATIONS: &str =
    "qualifications (id, person_id, scale_code, level_code, field_of_study, institution, awarded_on, revision)";
const EVALUATIONS: &str = "evaluations (person_id, year, rating, revision)";

/// Inserts people without identifiers with their records in batches; returns the new
/// person ids in order.
pub async fn insert_records(conn: &impl ConnectionTrait, records: &[NewRecord]) -> Result<Vec<i64>> {
    insert_people(conn, records.iter().map(|r| (r, &Identity::NONE)), records.len()).await
}

/// Inserts people with their identifiers and records in batches; returns the new
/// person ids in order. A taken identifier fails the statement (unique indexes):
/// ALREADY_EXISTS naming the identifier.
pub async fn insert_identified(conn: &impl ConnectionTrait, records: &[(&NewRecord, &Identity)]) -> Result<Vec<i64>> {
    insert_people(conn, records.iter().copied(), records.len()).await
}

async fn insert_people<'a>(
    conn: &impl ConnectionTrait,
    records: impl Iterator<Item = (&'a NewRecord, &'a Identity)> + Clone,
    count: usize,
) -> Result<Vec<i64>> {
    let now = Utc::now();
    let person_ids = reserve_ids(conn, IdTable::People, count).await?;
    let placement_count = records.clone().map(|(r, _)| r.placements.len()).sum();
    let placement_ids = reserve_ids(conn, IdTable::Placements, placement_count).await?;
    let qualification_count = records.clone().map(|(r, _)| r.qualifications.len()).sum();
    let qualification_ids = reserve_ids(conn, IdTable::Qualifications, qualification_count).await?;
    let mut people = Vec::with_capacity(count);
    let mut placements = Vec::with_capacity(placement_ids.len());
    let mut qualifications = Vec::with_capacity(qualification_ids.len());
    let mut evaluations = Vec::new();
    let mut next_placement = placement_ids.iter();
    let mut next_qualification = qualification_ids.iter();
    for ((record, identity), person_id) in records.zip(&person_ids) {
        people.push(person_values(*person_id, &record.person, identity, now));
        for (placement, id) in record.placements.iter().zip(next_placement.by_ref()) {
            placements.push(placement_values(*id, *person_id, placement));
        }
        for (qualification, id) in record.qualifications.iter().zip(next_qualification.by_ref()) {
            qualifications.push(qualification_values(*id, *person_id, qualification));
        }
        for (year, rating) in &record.evaluations {
            evaluations.push(evaluation_values(*person_id, *year, *rating));
        }
    }
    insert_many(conn, PEOPLE, people).await?;
    insert_many(conn, PLACEMENTS, placements).await?;
    insert_many(conn, QUALIFICATIONS, qualifications).await?;
    insert_many(conn, EVALUATIONS, evaluations).await?;
    Ok(person_ids)
}

/// Inserts one placement; returns its id.
pub async fn insert_placement(conn: &impl ConnectionTrait, person_id: i64, placement: &PlacementFields) -> Result<i64> {
    let id = reserve_ids(conn, IdTable::Placements, 1).await?.pop().ok_or_else(|| Error::internal("no id reserved"))?;
    insert_many(conn, PLACEMENTS, vec![placement_values(id, person_id, placement)]).await?;
    Ok(id)
}

/// Inserts one qualification; returns its id.
pub async fn insert_qualification(conn: &impl ConnectionTrait, person_id: i64, q: &QualificationFields) -> Result<i64> {
    let id =
        reserve_ids(conn, IdTable::Qualifications, 1).await?.pop().ok_or_else(|| Error::internal("no id reserved"))?;
    insert_many(conn, QUALIFICATIONS, vec![qualification_values(id, person_id, q)]).await?;
    Ok(id)
}

/// Inserts one evaluation.
pub async fn insert_evaluation(conn: &impl ConnectionTrait, person_id: i64, year: i32, rating: Rating) -> Result<()> {
    insert_many(conn, EVALUATIONS, vec![evaluation_values(person_id, year, rating)]).await
}

/// Inserts one disciplinary decision; returns its id.
pub async fn insert_discipline(conn: &impl ConnectionTrait, person_id: i64, d: &DisciplineFields) -> Result<i64> {
    let (sanction, decided_on) = (d.sanction.stored(), d.decided_on);
    let (number, reason) = (d.decision_number.as_str(), d.reason.as_str());
    let row: Option<Id> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO disciplines (person_id, sanction, decided_on, decision_number, reason, revision) \
             VALUES ({person_id}, {sanction}, {decided_on}, {number}, {reason}, 1) RETURNING id"
        ),
    )
    .await?;
    row.map(|r| r.id).ok_or_else(|| Error::internal("inserting a discipline returned no id"))
}

/// Writes a person's fields and identifiers if the row is still at `revision`; whether
/// it was.
pub async fn update_person(
    conn: &impl ConnectionTrait,
    id: i64,
    revision: i64,
    p: &PersonFields,
    identity: &Identity,
) -> Result<bool> {
    let now = Utc::now();
    let (name, folded, birth, gender) = (p.full_name.as_str(), fold(&p.full_name), p.birth_date, p.gender.stored());
    let (ethnicity, category, from, until) =
        (p.ethnicity.as_str(), p.category.stored(), p.employed_from, p.employed_until);
    let reason = p.end_reason.map(|r| r.stored());
    let number = identity.personal_id.as_ref().map(|i| i.as_str().to_owned());
    let code = identity.staff_code.as_ref().map(|c| c.as_str().to_owned());
    let key = identity.staff_code.as_ref().map(StaffCode::key);
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE people SET full_name = {name}, name_folded = {folded}, birth_date = {birth}, gender = {gender}, \
             ethnicity = {ethnicity}, category = {category}, employed_from = {from}, employed_until = {until}, \
             end_reason = {reason}, personal_id = {number}, staff_code = {code}, staff_code_key = {key}, \
             update_time = {now}, revision = revision + 1 WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// Writes a placement's fields if it is still at `revision`; whether it was.
pub async fn update_placement(
    conn: &impl ConnectionTrait,
    id: i64,
    revision: i64,
    p: &PlacementFields,
) -> Result<bool> {
    let (unit, title, folded, leader, key) =
        (p.unit_id, p.post_title.as_str(), fold(&p.post_title), p.leader, p.key_post);
    let (from, until) = (p.valid_from, p.valid_until);
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE placements SET unit_id = {unit}, post_title = {title}, post_title_folded = {folded}, \
             is_leader = {leader}, is_key_post = {key}, valid_from = {from}, valid_until = {until}, \
             revision = revision + 1 WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// Writes a qualification's fields if it is still at `revision`; whether it was.
pub async fn update_qualification(
    conn: &impl ConnectionTrait,
    id: i64,
    revision: i64,
    q: &QualificationFields,
) -> Result<bool> {
    let (scale, level, field, institution, awarded) =
        (q.scale.as_str(), q.level.as_str(), q.field_of_study.as_str(), q.institution.as_str(), q.awarded_on);
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE qualifications SET scale_code = {scale}, level_code = {level}, field_of_study = {field}, \
             institution = {institution}, awarded_on = {awarded}, revision = revision + 1 \
             WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// Writes an evaluation's rating if it is still at `revision`; whether it was.
pub async fn update_evaluation(
    conn: &impl ConnectionTrait,
    person_id: i64,
    year: i32,
    revision: i64,
    rating: Rating,
) -> Result<bool> {
    let rating = rating.stored();
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE evaluations SET rating = {rating}, revision = revision + 1 \
             WHERE person_id = {person_id} AND year = {year} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// Writes a disciplinary decision's fields if it is still at `revision`; whether it was.
pub async fn update_discipline(
    conn: &impl ConnectionTrait,
    id: i64,
    revision: i64,
    d: &DisciplineFields,
) -> Result<bool> {
    let (sanction, decided_on) = (d.sanction.stored(), d.decided_on);
    let (number, reason) = (d.decision_number.as_str(), d.reason.as_str());
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE disciplines SET sanction = {sanction}, decided_on = {decided_on}, decision_number = {number}, \
             reason = {reason}, revision = revision + 1 WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// A record of a person that is deleted by its key and revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// `people/{id}`.
    Person(i64),
    /// `people/*/placements/{id}`.
    Placement(i64),
    /// `people/*/qualifications/{id}`.
    Qualification(i64),
    /// `people/{person}/evaluations/{year}`.
    Evaluation(i64, i32),
    /// `people/*/disciplines/{id}`.
    Discipline(i64),
}

/// Deletes a record if it is still at `revision`; whether it was.
pub async fn delete(conn: &impl ConnectionTrait, record: Record, revision: i64) -> Result<bool> {
    let statement = match record {
        Record::Person(id) => raw_sql!(Postgres, "DELETE FROM people WHERE id = {id} AND revision = {revision}"),
        Record::Placement(id) => {
            raw_sql!(Postgres, "DELETE FROM placements WHERE id = {id} AND revision = {revision}")
        }
        Record::Qualification(id) => {
            raw_sql!(Postgres, "DELETE FROM qualifications WHERE id = {id} AND revision = {revision}")
        }
        Record::Evaluation(person_id, year) => raw_sql!(
            Postgres,
            "DELETE FROM evaluations WHERE person_id = {person_id} AND year = {year} AND revision = {revision}"
        ),
        Record::Discipline(id) => {
            raw_sql!(Postgres, "DELETE FROM disciplines WHERE id = {id} AND revision = {revision}")
        }
    };
    Ok(sql::execute(conn, statement).await? == 1)
}

/// What an upsert writes for one person already recorded.
#[derive(Debug, Clone, Copy)]
pub struct PersonChanges<'a> {
    /// The person.
    pub person_id: i64,
    /// The person's revision when read.
    pub revision: i64,
    /// The changes.
    pub changes: &'a Changes,
}

/// Writes the changes of an upsert: single-row updates guarded by the revisions read
/// (ABORTED when a row changed since), multi-row inserts for the rows added.
pub async fn apply_changes(conn: &impl ConnectionTrait, people: &[PersonChanges<'_>]) -> Result<()> {
    let conflict = |what: String| Error::Aborted(format!("{what} changed during the import; import again"));
    let mut placements = Vec::new();
    let mut qualifications = Vec::new();
    let mut evaluations = Vec::new();
    for p in people {
        let c = p.changes;
        if let Some((fields, identity)) = &c.person
            && !update_person(conn, p.person_id, p.revision, fields, identity).await?
        {
            return Err(conflict(format!("people/{}", p.person_id)));
        }
        for (id, revision, fields) in &c.placements_updated {
            if !update_placement(conn, *id, *revision, fields).await? {
                return Err(conflict(format!("people/{}/placements/{id}", p.person_id)));
            }
        }
        for (id, revision, fields) in &c.qualifications_updated {
            if !update_qualification(conn, *id, *revision, fields).await? {
                return Err(conflict(format!("people/{}/qualifications/{id}", p.person_id)));
            }
        }
        for (year, revision, rating) in &c.evaluations_updated {
            if !update_evaluation(conn, p.person_id, *year, *revision, *rating).await? {
                return Err(conflict(format!("people/{}/evaluations/{year}", p.person_id)));
            }
        }
        placements.extend(c.placements_added.iter().map(|f| (p.person_id, f)));
        qualifications.extend(c.qualifications_added.iter().map(|f| (p.person_id, f)));
        evaluations
            .extend(c.evaluations_added.iter().map(|(year, rating)| evaluation_values(p.person_id, *year, *rating)));
    }
    let ids = reserve_ids(conn, IdTable::Placements, placements.len()).await?;
    let rows = placements.iter().zip(ids).map(|((person, f), id)| placement_values(id, *person, f)).collect();
    insert_many(conn, PLACEMENTS, rows).await?;
    let ids = reserve_ids(conn, IdTable::Qualifications, qualifications.len()).await?;
    let rows = qualifications.iter().zip(ids).map(|((person, f), id)| qualification_values(id, *person, f)).collect();
    insert_many(conn, QUALIFICATIONS, rows).await?;
    insert_many(conn, EVALUATIONS, evaluations).await?;
    Ok(())
}
