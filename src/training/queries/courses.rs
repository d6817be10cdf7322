//! Courses of a plan as stored; their sessions are a JSON array in one column.

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::Id;
use crate::{
    edge::names::CourseName,
    error::{Error, Result},
    sql::{self, FromQueryResult, raw_sql},
    training::rules::{Course, CourseFields, Session},
};

#[derive(Debug, FromQueryResult)]
struct CourseRow {
    id: i64,
    plan_id: i64,
    line_id: String,
    title: String,
    provider: String,
    location: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    sessions: String,
    revision: i64,
}

impl TryFrom<CourseRow> for Course {
    type Error = Error;

    fn try_from(row: CourseRow) -> Result<Self> {
        Ok(Self {
            name: CourseName { parent: row.plan_id, id: row.id },
            fields: CourseFields {
                line_id: row.line_id,
                title: row.title,
                provider: row.provider,
                location: row.location,
                start_date: row.start_date,
                end_date: row.end_date,
                sessions: parse_sessions(&row.sessions)?,
            },
            revision: row.revision,
        })
    }
}

/// The stored form of sessions.
fn sessions_json(sessions: &[Session]) -> String {
    json!(
        sessions
            .iter()
            .map(|s| json!({"start_date": s.start_date.to_string(), "end_date": s.end_date.to_string(), "location": s.location}))
            .collect::<Vec<_>>()
    )
    .to_string()
}

fn parse_sessions(text: &str) -> Result<Vec<Session>> {
    let bad = || Error::internal(format!("stored course sessions `{text}` are malformed"));
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| bad())?;
    let items = value.as_array().ok_or_else(bad)?;
    items
        .iter()
        .map(|item| {
            let day = |key: &str| {
                item.get(key)
                    .and_then(serde_json::Value::as_str)
                    .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                    .ok_or_else(bad)
            };
            Ok(Session {
                start_date: day("start_date")?,
                end_date: day("end_date")?,
                location: item.get("location").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// A course of a plan.
pub async fn get(conn: &impl ConnectionTrait, name: CourseName) -> Result<Option<Course>> {
    let (id, plan_id) = (name.id, name.parent);
    let row: Option<CourseRow> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, plan_id, line_id, title, provider, location, start_date, end_date, sessions, revision \
             FROM courses WHERE id = {id} AND plan_id = {plan_id}"
        ),
    )
    .await?;
    row.map(Course::try_from).transpose()
}

/// The courses of a plan by id, after `after`, at most `limit`.
pub async fn list(conn: &impl ConnectionTrait, plan_id: i64, after: Option<i64>, limit: u64) -> Result<Vec<Course>> {
    let (after, limit) = (after.unwrap_or(0), i64::try_from(limit).unwrap_or(i64::MAX));
    let rows: Vec<CourseRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, plan_id, line_id, title, provider, location, start_date, end_date, sessions, revision \
             FROM courses WHERE plan_id = {plan_id} AND id > {after} ORDER BY id LIMIT {limit}"
        ),
    )
    .await?;
    rows.into_iter().map(Course::try_from).collect()
}

/// Inserts a course of plan `plan_id`; its name.
pub async fn insert(conn: &impl ConnectionTrait, plan_id: i64, fields: &CourseFields) -> Result<CourseName> {
    let (line_id, title, provider) = (fields.line_id.as_str(), fields.title.as_str(), fields.provider.as_str());
    let (location, start, end) = (fields.location.as_str(), fields.start_date, fields.end_date);
    let sessions = sessions_json(&fields.sessions);
    let row: Option<Id> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO courses (plan_id, line_id, title, provider, location, start_date, end_date, sessions, \
             revision) VALUES ({plan_id}, {line_id}, {title}, {provider}, {location}, {start}, {end}, {sessions}, 1) \
             RETURNING id"
        ),
    )
    .await?;
    let id = row.map(|r| r.id).ok_or_else(|| Error::internal("inserting a course returned no id"))?;
    Ok(CourseName { parent: plan_id, id })
}

/// Writes `fields` over course `id` if it is still at `revision`; whether it was.
pub async fn update(conn: &impl ConnectionTrait, id: i64, revision: i64, fields: &CourseFields) -> Result<bool> {
    let (title, provider, location) = (fields.title.as_str(), fields.provider.as_str(), fields.location.as_str());
    let (start, end, sessions) = (fields.start_date, fields.end_date, sessions_json(&fields.sessions));
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE courses SET title = {title}, provider = {provider}, location = {location}, \
             start_date = {start}, end_date = {end}, sessions = {sessions}, revision = revision + 1 \
             WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// Deletes course `id`.
pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM courses WHERE id = {id}")).await?;
    Ok(())
}

/// How many enrolments refer to course `id`.
pub async fn enrollment_count(conn: &impl ConnectionTrait, id: i64) -> Result<i64> {
    sql::count(conn, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM enrollments WHERE course_id = {id}")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_round_trip_through_json() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        let sessions =
            vec![Session { start_date: day(2024, 3, 1), end_date: day(2024, 3, 5), location: "Hà Nội".to_owned() }];
        assert_eq!(parse_sessions(&sessions_json(&sessions)).ok(), Some(sessions));
        assert!(parse_sessions("{}").is_err());
    }
}
