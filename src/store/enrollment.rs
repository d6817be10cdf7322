//! Enrolments in the lines of training plans, with their status history: reads and
//! the transactional writes of EnrollmentService.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Value};

use super::{placeholders, stmt};
use crate::{
    domain::{locality::Code, person::Category, training::EnrollmentStatus},
    error::{Error, Result},
};

/// An enrolment as stored, with its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentRow {
    /// Id.
    pub id: i64,
    /// The plan.
    pub plan_id: i64,
    /// The person.
    pub person_id: i64,
    /// The line.
    pub line_id: String,
    /// The course, if any.
    pub course_id: Option<i64>,
    /// Current status.
    pub status: EnrollmentStatus,
    /// Date of the initial status.
    pub enrollment_date: NaiveDate,
    /// Grade, once completed.
    pub grade: Option<String>,
    /// With distinction.
    pub distinction: bool,
    /// The qualification its completion recorded.
    pub qualification_id: Option<i64>,
    /// Revision (etag).
    pub revision: i64,
    /// Every status entered, in order.
    pub history: Vec<(EnrollmentStatus, NaiveDate)>,
}

/// A new enrolment, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrollment {
    /// The person.
    pub person_id: i64,
    /// The line.
    pub line_id: String,
    /// The course, if any.
    pub course_id: Option<i64>,
    /// Date of the initial status.
    pub enrollment_date: NaiveDate,
    /// The initial status.
    pub status: EnrollmentStatus,
}

/// Conditions of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrollmentFilter {
    /// Only this line.
    pub line_id: Option<String>,
    /// Only this status.
    pub status: Option<EnrollmentStatus>,
    /// Only this person.
    pub person_id: Option<i64>,
}

/// Where a person is placed on a day, as far as audiences are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementOn {
    /// Locality of the placement's unit.
    pub locality: Code,
    /// Whether the post is a leader's.
    pub leader: bool,
    /// The person's category.
    pub category: Category,
}

fn status_of(name: &str) -> Result<EnrollmentStatus> {
    EnrollmentStatus::from_db(name)
        .ok_or_else(|| Error::internal(format!("stored enrolment status `{name}` is not known to this version")))
}

const COLUMNS: &str = "id, plan_id, person_id, line_id, course_id, status, enrollment_date, grade, distinction, \
    qualification_id, revision";

fn row_of(row: &QueryResult) -> Result<EnrollmentRow> {
    let status: String = row.try_get("", "status")?;
    Ok(EnrollmentRow {
        id: row.try_get("", "id")?,
        plan_id: row.try_get("", "plan_id")?,
        person_id: row.try_get("", "person_id")?,
        line_id: row.try_get("", "line_id")?,
        course_id: row.try_get("", "course_id")?,
        status: status_of(&status)?,
        enrollment_date: row.try_get("", "enrollment_date")?,
        grade: row.try_get("", "grade")?,
        distinction: row.try_get("", "distinction")?,
        qualification_id: row.try_get("", "qualification_id")?,
        revision: row.try_get("", "revision")?,
        history: Vec::new(),
    })
}

async fn with_history(conn: &impl ConnectionTrait, mut rows: Vec<EnrollmentRow>) -> Result<Vec<EnrollmentRow>> {
    if rows.is_empty() {
        return Ok(rows);
    }
    let sql = format!(
        "SELECT enrollment_id, seq, status, date FROM enrollment_history WHERE enrollment_id IN ({}) \
         ORDER BY enrollment_id, seq",
        placeholders(rows.len())
    );
    let values: Vec<Value> = rows.iter().map(|r| Value::from(r.id)).collect();
    let history = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    for h in &history {
        let id: i64 = h.try_get("", "enrollment_id")?;
        let status: String = h.try_get("", "status")?;
        let date: NaiveDate = h.try_get("", "date")?;
        if let Some(row) = rows.iter_mut().find(|r| r.id == id) {
            row.history.push((status_of(&status)?, date));
        }
    }
    Ok(rows)
}

/// The enrolment `id` of plan `plan_id`, with its history.
pub async fn load(conn: &impl ConnectionTrait, plan_id: i64, id: i64) -> Result<Option<EnrollmentRow>> {
    let sql = format!("SELECT {COLUMNS} FROM enrollments WHERE plan_id = ? AND id = ?");
    let row = conn.query_one_raw(stmt(conn.get_database_backend(), &sql, vec![plan_id.into(), id.into()])).await?;
    match row {
        None => Ok(None),
        Some(row) => Ok(with_history(conn, vec![row_of(&row)?]).await?.pop()),
    }
}

/// The enrolments of a plan matching `filter`, by id, after `after`, at most `limit`.
pub async fn list(
    conn: &impl ConnectionTrait,
    plan_id: i64,
    filter: &EnrollmentFilter,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<EnrollmentRow>> {
    let mut conditions = vec!["plan_id = ?".to_owned()];
    let mut values: Vec<Value> = vec![plan_id.into()];
    if let Some(line) = &filter.line_id {
        conditions.push("line_id = ?".to_owned());
        values.push(line.as_str().into());
    }
    if let Some(status) = filter.status {
        conditions.push("status = ?".to_owned());
        values.push(status.as_str().into());
    }
    if let Some(person) = filter.person_id {
        conditions.push("person_id = ?".to_owned());
        values.push(person.into());
    }
    if let Some(after) = after {
        conditions.push("id > ?".to_owned());
        values.push(after.into());
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    values.push(limit.into());
    let sql = format!("SELECT {COLUMNS} FROM enrollments WHERE {} ORDER BY id LIMIT ?", conditions.join(" AND "));
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    let rows = rows.iter().map(row_of).collect::<Result<Vec<_>>>()?;
    with_history(conn, rows).await
}

/// The line and provider of a course of a plan, if the course exists there.
pub async fn course(conn: &impl ConnectionTrait, plan_id: i64, course_id: i64) -> Result<Option<(String, String)>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT line_id, provider FROM courses WHERE plan_id = ? AND id = ?",
            vec![plan_id.into(), course_id.into()],
        ))
        .await?;
    row.map(|r| Ok((r.try_get("", "line_id")?, r.try_get("", "provider")?))).transpose()
}

/// Where a person is placed on `day`, with the person's category; `None` when the
/// person is placed nowhere that day (or does not exist).
pub async fn placement_on(conn: &impl ConnectionTrait, person_id: i64, day: NaiveDate) -> Result<Option<PlacementOn>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT u.locality_code, p.is_leader, pe.category FROM placements p \
             JOIN units u ON u.id = p.unit_id JOIN people pe ON pe.id = p.person_id \
             WHERE p.person_id = ? AND p.valid_from <= ? AND (p.valid_until IS NULL OR p.valid_until > ?)",
            vec![person_id.into(), day.into(), day.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let category: String = row.try_get("", "category")?;
    Ok(Some(PlacementOn {
        locality: Code::from_db(row.try_get("", "locality_code")?),
        leader: row.try_get("", "is_leader")?,
        category: Category::from_db(&category)
            .ok_or_else(|| Error::internal(format!("stored category `{category}` is not known")))?,
    }))
}

/// Whether a person exists.
pub async fn person_exists(conn: &impl ConnectionTrait, person_id: i64) -> Result<bool> {
    let row = conn
        .query_one_raw(stmt(conn.get_database_backend(), "SELECT id FROM people WHERE id = ?", vec![person_id.into()]))
        .await?;
    Ok(row.is_some())
}

/// The open (planned or enrolled) enrolment of a person on a line of a plan, if any.
pub async fn open_enrollment(
    conn: &impl ConnectionTrait,
    plan_id: i64,
    line_id: &str,
    person_id: i64,
) -> Result<Option<i64>> {
    let open: Vec<Value> =
        EnrollmentStatus::ALL.iter().filter(|s| s.is_open()).map(|s| Value::from(s.as_str())).collect();
    let sql = format!(
        "SELECT id FROM enrollments WHERE plan_id = ? AND line_id = ? AND person_id = ? AND status IN ({}) \
         ORDER BY id LIMIT 1",
        placeholders(open.len())
    );
    let mut values: Vec<Value> = vec![plan_id.into(), line_id.into(), person_id.into()];
    values.extend(open);
    let row = conn.query_one_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    row.map(|r| Ok(r.try_get("", "id")?)).transpose()
}

async fn insert_history(
    txn: &DatabaseTransaction,
    enrollment_id: i64,
    seq: i32,
    status: EnrollmentStatus,
    date: NaiveDate,
) -> Result<()> {
    txn.execute_raw(stmt(
        txn.get_database_backend(),
        "INSERT INTO enrollment_history (enrollment_id, seq, status, date) VALUES (?, ?, ?, ?)",
        vec![enrollment_id.into(), seq.into(), status.as_str().into(), date.into()],
    ))
    .await?;
    Ok(())
}

/// Inserts an enrolment with the first row of its history; returns its id.
pub async fn insert(txn: &DatabaseTransaction, plan_id: i64, new: &NewEnrollment) -> Result<i64> {
    let row = txn
        .query_one_raw(stmt(
            txn.get_database_backend(),
            "INSERT INTO enrollments (plan_id, person_id, line_id, course_id, status, enrollment_date, grade, \
             distinction, qualification_id, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            vec![
                plan_id.into(),
                new.person_id.into(),
                new.line_id.as_str().into(),
                new.course_id.into(),
                new.status.as_str().into(),
                new.enrollment_date.into(),
                Option::<String>::None.into(),
                false.into(),
                Option::<i64>::None.into(),
                1i64.into(),
            ],
        ))
        .await?
        .ok_or_else(|| Error::internal("inserting an enrolment returned no id"))?;
    let id: i64 = row.try_get("", "id")?;
    insert_history(txn, id, 1, new.status, new.enrollment_date).await?;
    Ok(id)
}

/// What a transition changes besides the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Grade.
    pub grade: Option<String>,
    /// Distinction.
    pub distinction: bool,
    /// Recorded qualification.
    pub qualification_id: Option<i64>,
}

/// Moves an enrolment to `status` on `date` if its revision is still `revision`,
/// appending a history row; false when it changed concurrently.
pub async fn transition(
    txn: &DatabaseTransaction,
    row: &EnrollmentRow,
    status: EnrollmentStatus,
    date: NaiveDate,
    outcome: &Outcome,
) -> Result<bool> {
    let changed = txn
        .execute_raw(stmt(
            txn.get_database_backend(),
            "UPDATE enrollments SET status = ?, grade = ?, distinction = ?, qualification_id = ?, \
             revision = revision + 1 WHERE id = ? AND revision = ?",
            vec![
                status.as_str().into(),
                outcome.grade.clone().into(),
                outcome.distinction.into(),
                outcome.qualification_id.into(),
                row.id.into(),
                row.revision.into(),
            ],
        ))
        .await?
        .rows_affected();
    if changed != 1 {
        return Ok(false);
    }
    let seq = i32::try_from(row.history.len()).unwrap_or(i32::MAX - 1) + 1;
    insert_history(txn, row.id, seq, status, date).await?;
    Ok(true)
}

/// Deletes a qualification of a person (the one an enrolment recorded).
pub async fn delete_qualification(txn: &DatabaseTransaction, person_id: i64, id: i64) -> Result<()> {
    txn.execute_raw(stmt(
        txn.get_database_backend(),
        "DELETE FROM qualifications WHERE person_id = ? AND id = ?",
        vec![person_id.into(), id.into()],
    ))
    .await?;
    Ok(())
}

/// Deletes an enrolment and its history if its revision is still `revision`; false
/// when it changed concurrently.
pub async fn delete(txn: &DatabaseTransaction, id: i64, revision: i64) -> Result<bool> {
    let backend = txn.get_database_backend();
    txn.execute_raw(stmt(backend, "DELETE FROM enrollment_history WHERE enrollment_id = ?", vec![id.into()])).await?;
    let deleted = txn
        .execute_raw(stmt(
            backend,
            "DELETE FROM enrollments WHERE id = ? AND revision = ?",
            vec![id.into(), revision.into()],
        ))
        .await?
        .rows_affected();
    Ok(deleted == 1)
}
