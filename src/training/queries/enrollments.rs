//! Enrolments with their status history as stored, and what the checks of a new
//! enrolment read (the person, the course, the placement, open enrolments).

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, SqlErr};

use super::{Id, corrupt};
use crate::{
    domain::locality::Code,
    edge::{
        enums::Table as _,
        names::{EnrollmentName, PersonName},
    },
    error::{Error, Result},
    people::rules::person::Category,
    sql::{self, FromQueryResult, Query, raw_sql},
    training::rules::{Condition, Enrollment, EnrollmentStatus, NewEnrollment, Outcome},
};

#[derive(Debug, FromQueryResult)]
struct EnrollmentRow {
    id: i64,
    plan_id: i64,
    person_id: i64,
    line_id: String,
    course_id: Option<i64>,
    status: String,
    enrollment_date: NaiveDate,
    grade: Option<String>,
    distinction: bool,
    qualification_id: Option<i64>,
    revision: i64,
}

impl TryFrom<EnrollmentRow> for Enrollment {
    type Error = Error;

    fn try_from(row: EnrollmentRow) -> Result<Self> {
        Ok(Self {
            name: EnrollmentName { parent: row.plan_id, id: row.id },
            person: PersonName(row.person_id),
            line_id: row.line_id,
            course_id: row.course_id,
            status: status(&row.status)?,
            enrollment_date: row.enrollment_date,
            grade: row.grade,
            distinction: row.distinction,
            qualification_id: row.qualification_id,
            revision: row.revision,
            history: Vec::new(),
        })
    }
}

fn status(name: &str) -> Result<EnrollmentStatus> {
    EnrollmentStatus::from_stored(name).ok_or_else(|| corrupt("enrolment status", name))
}

const COLUMNS: &str = "id, plan_id, person_id, line_id, course_id, status, enrollment_date, grade, distinction, \
    qualification_id, revision";

async fn with_history(conn: &impl ConnectionTrait, rows: Vec<EnrollmentRow>) -> Result<Vec<Enrollment>> {
    #[derive(FromQueryResult)]
    struct HistoryRow {
        enrollment_id: i64,
        status: String,
        date: NaiveDate,
    }
    let mut enrollments = rows.into_iter().map(Enrollment::try_from).collect::<Result<Vec<_>>>()?;
    if enrollments.is_empty() {
        return Ok(enrollments);
    }
    let ids: Vec<i64> = enrollments.iter().map(|e| e.name.id).collect();
    let history: Vec<HistoryRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT enrollment_id, status, date FROM enrollment_history WHERE enrollment_id IN ({..ids}) \
             ORDER BY enrollment_id, seq"
        ),
    )
    .await?;
    for h in history {
        if let Some(e) = enrollments.iter_mut().find(|e| e.name.id == h.enrollment_id) {
            e.history.push((status(&h.status)?, h.date));
        }
    }
    Ok(enrollments)
}

/// An enrolment, with its history.
pub async fn get(conn: &impl ConnectionTrait, name: EnrollmentName) -> Result<Option<Enrollment>> {
    let mut q = Query::new(format!("SELECT {COLUMNS} FROM enrollments WHERE plan_id = "));
    q.bind(name.parent).push(" AND id = ").bind(name.id);
    let rows: Vec<EnrollmentRow> = sql::all(conn, q.build()).await?;
    Ok(with_history(conn, rows).await?.pop())
}

/// The enrolments of a plan matching `conditions`, by id, after `after`, at most `limit`.
pub async fn list(
    conn: &impl ConnectionTrait,
    plan_id: i64,
    conditions: &[Condition],
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<Enrollment>> {
    let mut q = Query::new(format!("SELECT {COLUMNS} FROM enrollments WHERE plan_id = "));
    q.bind(plan_id);
    for condition in conditions {
        let (column, equal, value): (&str, bool, sea_orm::Value) = match condition {
            Condition::Line { equal, line_id } => ("line_id", *equal, line_id.clone().into()),
            Condition::Status { equal, status } => ("status", *equal, status.stored().into()),
            Condition::Person { equal, person } => ("person_id", *equal, person.id().into()),
        };
        q.push(format!(" AND {column} {} ", if equal { "=" } else { "<>" })).bind(value);
    }
    if let Some(after) = after {
        q.push(" AND id > ").bind(after);
    }
    q.push(" ORDER BY id LIMIT ").bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let rows: Vec<EnrollmentRow> = sql::all(conn, q.build()).await?;
    with_history(conn, rows).await
}

/// A course as an enrolment check sees it.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct CourseLine {
    /// The line the course serves.
    pub line_id: String,
    /// Its provider.
    pub provider: String,
}

/// The line and provider of a course of a plan, if the course exists there.
pub async fn course(conn: &impl ConnectionTrait, plan_id: i64, course_id: i64) -> Result<Option<CourseLine>> {
    sql::one(
        conn,
        raw_sql!(Postgres, "SELECT line_id, provider FROM courses WHERE plan_id = {plan_id} AND id = {course_id}"),
    )
    .await
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

/// Where a person is placed on `day`, with the person's category; `None` when the
/// person is placed nowhere that day (or does not exist).
pub async fn placement_on(conn: &impl ConnectionTrait, person_id: i64, day: NaiveDate) -> Result<Option<PlacementOn>> {
    #[derive(FromQueryResult)]
    struct Row {
        locality_code: String,
        is_leader: bool,
        category: String,
    }
    let row: Option<Row> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT u.locality_code, p.is_leader, pe.category FROM placements p \
             JOIN units u ON u.id = p.unit_id JOIN people pe ON pe.id = p.person_id \
             WHERE p.person_id = {person_id} AND p.valid_from <= {day} \
             AND (p.valid_until IS NULL OR p.valid_until > {day})"
        ),
    )
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(PlacementOn {
        locality: Code::from_db(row.locality_code),
        leader: row.is_leader,
        category: Category::from_db(&row.category).ok_or_else(|| corrupt("category", &row.category))?,
    }))
}

/// Whether a person exists.
pub async fn person_exists(conn: &impl ConnectionTrait, person_id: i64) -> Result<bool> {
    Ok(sql::count(conn, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM people WHERE id = {person_id}")).await? > 0)
}

/// The open (planned or enrolled) enrolment of a person on a line of a plan other
/// than `except`, if any.
pub async fn open_enrollment(
    conn: &impl ConnectionTrait,
    plan_id: i64,
    line_id: &str,
    person_id: i64,
    except: Option<i64>,
) -> Result<Option<EnrollmentName>> {
    let open: Vec<&str> = EnrollmentStatus::ALL.iter().filter(|s| s.is_open()).map(|s| s.stored()).collect();
    let except = except.unwrap_or(0);
    let row: Option<Id> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id FROM enrollments WHERE plan_id = {plan_id} AND line_id = {line_id} \
             AND person_id = {person_id} AND status IN ({..open}) AND id <> {except} ORDER BY id LIMIT 1"
        ),
    )
    .await?;
    Ok(row.map(|r| EnrollmentName { parent: plan_id, id: r.id }))
}

/// The error of a write the partial unique index `ux_enrollments_open` refused: a
/// second open enrolment of a person on a line. Only a concurrent writer can get
/// there (the use cases check first, in the same transaction), so it is a conflict:
/// the unit of work runs again, and its check then names the enrolment that won.
/// (The enrolment tables have no other unique key than their primary keys.)
fn second_open(err: sea_orm::DbErr) -> Error {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::Conflict("a concurrent open enrolment of the person on the line committed first".to_owned())
        }
        _ => err.into(),
    }
}

async fn insert_history(
    conn: &impl ConnectionTrait,
    enrollment_id: i64,
    seq: i32,
    status: EnrollmentStatus,
    date: NaiveDate,
) -> Result<()> {
    let status = status.stored();
    sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO enrollment_history (enrollment_id, seq, status, date) \
             VALUES ({enrollment_id}, {seq}, {status}, {date})"
        ),
    )
    .await?;
    Ok(())
}

/// Inserts an enrolment with the first row of its history; its name.
pub async fn insert(conn: &impl ConnectionTrait, plan_id: i64, new: &NewEnrollment) -> Result<EnrollmentName> {
    let (person_id, line_id, course_id) = (new.person.id(), new.line_id.as_str(), new.course.map(|c| c.id));
    let (status, date) = (new.status.stored(), new.enrollment_date);
    let row = Id::find_by_statement(sql::on(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO enrollments (plan_id, person_id, line_id, course_id, status, enrollment_date, grade, \
             distinction, qualification_id, revision) \
             VALUES ({plan_id}, {person_id}, {line_id}, {course_id}, {status}, {date}, NULL, FALSE, NULL, 1) \
             RETURNING id"
        ),
    ))
    .one(conn)
    .await
    .map_err(second_open)?;
    let id = row.map(|r| r.id).ok_or_else(|| Error::internal("inserting an enrolment returned no id"))?;
    insert_history(conn, id, 1, new.status, new.enrollment_date).await?;
    Ok(EnrollmentName { parent: plan_id, id })
}

/// Moves an enrolment to `status` on `date` if its revision is still the one read,
/// appending a history row; false when it changed concurrently.
pub async fn transition(
    conn: &impl ConnectionTrait,
    row: &Enrollment,
    next: EnrollmentStatus,
    date: NaiveDate,
    outcome: &Outcome,
) -> Result<bool> {
    let (status, grade, distinction) = (next.stored(), outcome.grade.clone(), outcome.distinction);
    let (qualification, id, revision) = (outcome.qualification_id, row.name.id, row.revision);
    let changed = conn
        .execute_raw(sql::on(
            conn,
            raw_sql!(
                Postgres,
                "UPDATE enrollments SET status = {status}, grade = {grade}, distinction = {distinction}, \
                 qualification_id = {qualification}, revision = revision + 1 WHERE id = {id} AND revision = {revision}"
            ),
        ))
        .await
        .map_err(second_open)?
        .rows_affected();
    if changed != 1 {
        return Ok(false);
    }
    let seq = i32::try_from(row.history.len()).unwrap_or(i32::MAX - 1) + 1;
    insert_history(conn, id, seq, next, date).await?;
    Ok(true)
}

/// Deletes a qualification of a person (the one an enrolment recorded).
pub async fn delete_qualification(conn: &impl ConnectionTrait, person_id: i64, id: i64) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM qualifications WHERE person_id = {person_id} AND id = {id}"))
        .await?;
    Ok(())
}

/// Deletes an enrolment and its history if its revision is still `revision`; false
/// when it changed concurrently.
pub async fn delete(conn: &impl ConnectionTrait, id: i64, revision: i64) -> Result<bool> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM enrollment_history WHERE enrollment_id = {id}")).await?;
    let deleted =
        sql::execute(conn, raw_sql!(Postgres, "DELETE FROM enrollments WHERE id = {id} AND revision = {revision}"))
            .await?;
    Ok(deleted == 1)
}
