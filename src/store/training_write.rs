//! Training plans and courses: the transactional writes (each checks the plan's rules
//! against its enrolments and courses, records the audit entry, and commits only while
//! the caller still waits), the lists, and the one aggregate query of progress.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, QueryResult, Value};
use serde_json::json;

use super::{
    audit, begin_write,
    locality_write::Idempotency,
    scope::scope_codes_cte,
    stmt,
    training::{LineRecord, PlanRecord, load_plan, plan_name},
};
use crate::{
    context::RequestContext,
    domain::{
        etag,
        locality::Code,
        training::{EnrollmentStatus, PlanStatus},
    },
    error::{Error, Result, RuleViolation, Violation},
};

fn check_etag(given: Option<&str>, name: &str, revision: i64) -> Result<()> {
    match given {
        Some(given) if given != etag(revision) => Err(Error::Aborted(format!(
            "{name} changed since it was read (etag {given}, now {}); read it again",
            etag(revision)
        ))),
        _ => Ok(()),
    }
}

async fn count(conn: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<i64> {
    let row = conn.query_one_raw(stmt(conn.get_database_backend(), sql, values)).await?;
    match row {
        Some(row) => Ok(row.try_get("", "n")?),
        None => Ok(0),
    }
}

/// A plan to create (in DRAFT).
#[derive(Debug, Clone)]
pub struct NewPlan {
    /// Title, NFC.
    pub title: String,
    /// Owner locality.
    pub owner: Code,
    /// First day.
    pub period_start: NaiveDate,
    /// First day after.
    pub period_end: NaiveDate,
    /// Legal basis: document number.
    pub document_number: String,
    /// Legal basis: date issued.
    pub issued_on: NaiveDate,
    /// Lines in order.
    pub lines: Vec<LineRecord>,
}

/// Violations of degree lines whose level does not exist, on `{path}.lines[i].level`.
async fn missing_levels(conn: &impl ConnectionTrait, lines: &[LineRecord], path: &str) -> Result<Vec<Violation>> {
    let mut violations = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some((scale, level)) = &line.level {
            let n = count(
                conn,
                "SELECT COUNT(*) AS n FROM scale_levels WHERE scale_code = ? AND code = ?",
                vec![scale.as_str().into(), level.as_str().into()],
            )
            .await?;
            if n == 0 {
                violations.push(Violation::new(
                    format!("{path}.lines[{i}].level"),
                    format!("scales/{scale}/levels/{level} does not exist"),
                ));
            }
        }
    }
    Ok(violations)
}

async fn insert_lines(txn: &DatabaseTransaction, plan_id: i64, lines: &[LineRecord]) -> Result<()> {
    let backend = txn.get_database_backend();
    for (position, line) in lines.iter().enumerate() {
        let (scale, level) = match &line.level {
            Some((s, l)) => (Some(s.clone()), Some(l.clone())),
            None => (None, None),
        };
        txn.execute_raw(stmt(
            backend,
            "INSERT INTO target_lines (plan_id, line_id, position, title, kind, scale_code, level_code, topic, \
             audience_tier, audience_category, leaders_only, target, budget_vnd) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                plan_id.into(),
                line.line_id.as_str().into(),
                i32::try_from(position).unwrap_or(i32::MAX).into(),
                line.title.as_str().into(),
                line.kind.as_str().into(),
                scale.into(),
                level.into(),
                line.topic.clone().into(),
                line.audience_tier.map(|t| t.as_str().to_owned()).into(),
                line.audience_category.map(|c| c.as_str().to_owned()).into(),
                line.leaders_only.into(),
                line.target.into(),
                line.budget_vnd.into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

fn lines_detail(lines: &[LineRecord]) -> serde_json::Value {
    json!(
        lines
            .iter()
            .map(|l| json!({"line_id": l.line_id, "kind": l.kind.as_str(), "target": l.target}))
            .collect::<Vec<_>>()
    )
}

/// Creates a plan in DRAFT whose owner exists and whose degree lines lead to levels
/// that exist.
pub async fn create_plan(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    new: &NewPlan,
    idem: &Idempotency,
) -> Result<PlanRecord> {
    const METHOD: &str = "CreateTrainingPlan";
    let txn = begin_write(db).await?;
    if let Some(resource) = audit::replayed(&txn, METHOD, idem.request_id.as_deref(), &idem.fingerprint).await? {
        let id = resource.strip_prefix("trainingPlans/").and_then(|id| id.parse::<i64>().ok());
        let record = match id {
            Some(id) => load_plan(&txn, id).await?,
            None => None,
        };
        txn.rollback().await?;
        return record.ok_or(Error::NotFound(resource));
    }
    let mut violations = Vec::new();
    let owners =
        count(&txn, "SELECT COUNT(*) AS n FROM localities WHERE code = ?", vec![new.owner.as_str().into()]).await?;
    if owners == 0 {
        violations.push(Violation::new("training_plan.owner", format!("{} does not exist", new.owner.name())));
    }
    violations.extend(missing_levels(&txn, &new.lines, "training_plan").await?);
    if !violations.is_empty() {
        return Err(Error::InvalidArgument(violations));
    }
    let now = Utc::now();
    let row = txn
        .query_one_raw(stmt(
            txn.get_database_backend(),
            "INSERT INTO training_plans (title, owner_code, period_start, period_end, document_number, issued_on, \
             status, revision, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
            vec![
                new.title.as_str().into(),
                new.owner.as_str().into(),
                new.period_start.into(),
                new.period_end.into(),
                new.document_number.as_str().into(),
                new.issued_on.into(),
                PlanStatus::Draft.as_str().into(),
                now.into(),
                now.into(),
            ],
        ))
        .await?
        .ok_or_else(|| Error::internal("inserting a plan returned no id"))?;
    let id: i64 = row.try_get("", "id")?;
    insert_lines(&txn, id, &new.lines).await?;
    let name = plan_name(id);
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
            "owner": new.owner.name(),
            "period_start": new.period_start,
            "period_end": new.period_end,
            "lines": lines_detail(&new.lines),
        }),
    )
    .await?;
    let record = load_plan(&txn, id).await?.ok_or_else(|| Error::internal("created plan vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(record)
}

/// The changes of a plan update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PlanChanges {
    /// New title.
    pub title: Option<String>,
    /// New first day.
    pub period_start: Option<NaiveDate>,
    /// New first day after.
    pub period_end: Option<NaiveDate>,
    /// New legal basis (document number, issued on).
    pub legal_basis: Option<(String, NaiveDate)>,
    /// New lines (the whole list).
    pub lines: Option<Vec<LineRecord>>,
}

/// Line ids of plan `id` that have enrolments.
async fn enrolled_lines(conn: &impl ConnectionTrait, id: i64) -> Result<BTreeSet<String>> {
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT DISTINCT line_id FROM enrollments WHERE plan_id = ?",
            vec![id.into()],
        ))
        .await?;
    rows.iter().map(|r| Ok(r.try_get::<String>("", "line_id")?)).collect()
}

/// Line ids of plan `id` that have courses.
async fn course_lines(conn: &impl ConnectionTrait, id: i64) -> Result<BTreeSet<String>> {
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT DISTINCT line_id FROM courses WHERE plan_id = ?",
            vec![id.into()],
        ))
        .await?;
    rows.iter().map(|r| Ok(r.try_get::<String>("", "line_id")?)).collect()
}

/// Why replacing `old` lines by `new` is refused, given the lines with enrolments and
/// with courses: such a line cannot be removed, and an enrolled line keeps its kind
/// and level.
pub fn line_replacement_violations(
    plan: &str,
    old: &[LineRecord],
    new: &[LineRecord],
    enrolled: &BTreeSet<String>,
    with_courses: &BTreeSet<String>,
) -> Vec<RuleViolation> {
    let mut violations = Vec::new();
    for line in old {
        let subject = format!("{plan} line {}", line.line_id);
        match new.iter().find(|n| n.line_id == line.line_id) {
            None if enrolled.contains(&line.line_id) => violations.push(RuleViolation {
                subject,
                description: "the line has enrolments and cannot be removed".to_owned(),
            }),
            None if with_courses.contains(&line.line_id) => violations.push(RuleViolation {
                subject,
                description: "the line has courses and cannot be removed; delete them first".to_owned(),
            }),
            Some(n) if enrolled.contains(&line.line_id) && (n.kind != line.kind || n.level != line.level) => {
                violations.push(RuleViolation {
                    subject,
                    description: "the line has enrolments and cannot change its kind or level".to_owned(),
                });
            }
            _ => {}
        }
    }
    violations
}

/// Updates a plan that is not closed.
pub async fn update_plan(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    id: i64,
    etag_given: Option<&str>,
    changes: &PlanChanges,
) -> Result<PlanRecord> {
    let txn = begin_write(db).await?;
    let record = load_plan(&txn, id).await?.ok_or_else(|| Error::NotFound(plan_name(id)))?;
    let name = record.name();
    check_etag(etag_given, &name, record.revision)?;
    record.ensure_open()?;
    let start = changes.period_start.unwrap_or(record.period_start);
    let end = changes.period_end.unwrap_or(record.period_end);
    if start >= end {
        let field =
            if changes.period_end.is_some() { "training_plan.period_end" } else { "training_plan.period_start" };
        return Err(Error::invalid(field, format!("the period would end ({end}) before it starts ({start})")));
    }
    if let Some(lines) = &changes.lines {
        let missing = missing_levels(&txn, lines, "training_plan").await?;
        if !missing.is_empty() {
            return Err(Error::InvalidArgument(missing));
        }
        let enrolled = enrolled_lines(&txn, id).await?;
        let with_courses = course_lines(&txn, id).await?;
        let violations = line_replacement_violations(&name, &record.lines, lines, &enrolled, &with_courses);
        if !violations.is_empty() {
            return Err(Error::FailedPrecondition(violations));
        }
    }
    if (start, end) != (record.period_start, record.period_end) {
        let mut violations = Vec::new();
        let outside = count(
            &txn,
            "SELECT COUNT(*) AS n FROM enrollment_history h JOIN enrollments e ON e.id = h.enrollment_id \
             WHERE e.plan_id = ? AND (h.date < ? OR h.date >= ?)",
            vec![id.into(), start.into(), end.into()],
        )
        .await?;
        if outside > 0 {
            violations.push(RuleViolation {
                subject: name.clone(),
                description: format!(
                    "{outside} enrolment status change(s) would lie outside the new period [{start}, {end})"
                ),
            });
        }
        let courses = count(
            &txn,
            "SELECT COUNT(*) AS n FROM courses WHERE plan_id = ? AND (start_date < ? OR end_date >= ?)",
            vec![id.into(), start.into(), end.into()],
        )
        .await?;
        if courses > 0 {
            violations.push(RuleViolation {
                subject: name.clone(),
                description: format!("{courses} course(s) would lie outside the new period [{start}, {end})"),
            });
        }
        if !violations.is_empty() {
            return Err(Error::FailedPrecondition(violations));
        }
    }
    let title = changes.title.clone().unwrap_or_else(|| record.title.clone());
    let (document_number, issued_on) =
        changes.legal_basis.clone().unwrap_or_else(|| (record.document_number.clone(), record.issued_on));
    let backend = txn.get_database_backend();
    let result = txn
        .execute_raw(stmt(
            backend,
            "UPDATE training_plans SET title = ?, period_start = ?, period_end = ?, document_number = ?, \
             issued_on = ?, revision = revision + 1, update_time = ? WHERE id = ? AND revision = ?",
            vec![
                title.as_str().into(),
                start.into(),
                end.into(),
                document_number.as_str().into(),
                issued_on.into(),
                Utc::now().into(),
                id.into(),
                record.revision.into(),
            ],
        ))
        .await?;
    if result.rows_affected() != 1 {
        return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
    }
    if let Some(lines) = &changes.lines {
        txn.execute_raw(stmt(backend, "DELETE FROM target_lines WHERE plan_id = ?", vec![id.into()])).await?;
        insert_lines(&txn, id, lines).await?;
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        "UpdateTrainingPlan",
        &name,
        None,
        json!({
            "title": changes.title,
            "period_start": changes.period_start,
            "period_end": changes.period_end,
            "legal_basis": changes.legal_basis.as_ref().map(|(n, d)| json!({"document_number": n, "issued_on": d})),
            "lines": changes.lines.as_deref().map(lines_detail),
        }),
    )
    .await?;
    let updated = load_plan(&txn, id).await?.ok_or_else(|| Error::internal("updated plan vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(updated)
}

/// Deletes a draft plan that has no enrolment (its lines and courses go with it).
pub async fn delete_plan(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    id: i64,
    etag_given: Option<&str>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let record = load_plan(&txn, id).await?.ok_or_else(|| Error::NotFound(plan_name(id)))?;
    let name = record.name();
    check_etag(etag_given, &name, record.revision)?;
    if record.status != PlanStatus::Draft {
        return Err(Error::precondition(
            name,
            format!("only a draft plan can be deleted; it is {}", record.status.as_str()),
        ));
    }
    let enrolments = count(&txn, "SELECT COUNT(*) AS n FROM enrollments WHERE plan_id = ?", vec![id.into()]).await?;
    if enrolments > 0 {
        return Err(Error::precondition(name, format!("{enrolments} enrolment(s) refer to it")));
    }
    let backend = txn.get_database_backend();
    txn.execute_raw(stmt(backend, "DELETE FROM courses WHERE plan_id = ?", vec![id.into()])).await?;
    txn.execute_raw(stmt(backend, "DELETE FROM target_lines WHERE plan_id = ?", vec![id.into()])).await?;
    txn.execute_raw(stmt(backend, "DELETE FROM training_plans WHERE id = ?", vec![id.into()])).await?;
    audit::record(
        &txn,
        &ctx.principal.subject,
        "DeleteTrainingPlan",
        &name,
        None,
        json!({ "owner": record.owner.name(), "revision": record.revision }),
    )
    .await?;
    super::commit(txn, ctx).await
}

/// Moves a plan from `from` to `to` (approve: draft to approved; close: approved to
/// closed).
pub async fn transition_plan(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    id: i64,
    etag_given: Option<&str>,
    from: PlanStatus,
    to: PlanStatus,
    method: &str,
) -> Result<PlanRecord> {
    let txn = begin_write(db).await?;
    let record = load_plan(&txn, id).await?.ok_or_else(|| Error::NotFound(plan_name(id)))?;
    let name = record.name();
    check_etag(etag_given, &name, record.revision)?;
    if record.status != from {
        return Err(Error::precondition(
            name,
            format!("the plan is {}; only a {} plan can become {}", record.status.as_str(), from.as_str(), to.as_str()),
        ));
    }
    let result = txn
        .execute_raw(stmt(
            txn.get_database_backend(),
            "UPDATE training_plans SET status = ?, revision = revision + 1, update_time = ? WHERE id = ? AND revision = ?",
            vec![to.as_str().into(), Utc::now().into(), id.into(), record.revision.into()],
        ))
        .await?;
    if result.rows_affected() != 1 {
        return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        method,
        &name,
        None,
        json!({ "from": from.as_str(), "to": to.as_str() }),
    )
    .await?;
    let updated = load_plan(&txn, id).await?.ok_or_else(|| Error::internal("updated plan vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(updated)
}

/// A page of plans and the id to resume after, if more follow.
#[derive(Debug, Clone)]
pub struct PlanPage {
    /// The plans, by id.
    pub plans: Vec<PlanRecord>,
    /// The id of the last plan, when another page follows.
    pub next_after: Option<i64>,
}

/// Lists the plans owned by `owner` or by any locality of its subtree in any version
/// of the tree, by id. (The caller was authorised on `owner`, so its subtree lies in
/// the caller's scope: scope is closed under descent.)
pub async fn list_plans(conn: &impl ConnectionTrait, owner: &Code, after: Option<i64>, limit: u64) -> Result<PlanPage> {
    let (cte, mut values) = scope_codes_cte(&BTreeSet::from([owner.clone()]));
    let mut sql = format!(
        "WITH RECURSIVE {cte} SELECT id FROM training_plans WHERE owner_code IN (SELECT code FROM scope_codes)"
    );
    if let Some(after) = after {
        sql.push_str(" AND id > ?");
        values.push(after.into());
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    values.push(i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX).into());
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    let ids = rows.iter().map(|r| Ok(r.try_get::<i64>("", "id")?)).collect::<Result<Vec<_>>>()?;
    let more = ids.len() as u64 > limit;
    let mut plans = Vec::new();
    for id in ids.into_iter().take(usize::try_from(limit).unwrap_or(usize::MAX)) {
        if let Some(plan) = load_plan(conn, id).await? {
            plans.push(plan);
        }
    }
    let next_after = if more { plans.last().map(|p| p.id) } else { None };
    Ok(PlanPage { plans, next_after })
}

// ---- courses ---------------------------------------------------------------------

/// A session of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    /// Where.
    pub location: String,
}

/// The editable fields of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseFields {
    /// The line it serves.
    pub line_id: String,
    /// Title.
    pub title: String,
    /// Provider.
    pub provider: String,
    /// Location.
    pub location: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    /// Sessions.
    pub sessions: Vec<SessionRecord>,
}

/// A course as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRecord {
    /// Id.
    pub id: i64,
    /// Plan id.
    pub plan_id: i64,
    /// The fields.
    pub fields: CourseFields,
    /// Revision (etag).
    pub revision: i64,
}

/// The resource name of a course.
pub fn course_name(plan_id: i64, id: i64) -> String {
    format!("trainingPlans/{plan_id}/courses/{id}")
}

impl CourseRecord {
    /// The resource name.
    pub fn name(&self) -> String {
        course_name(self.plan_id, self.id)
    }
}

fn sessions_json(sessions: &[SessionRecord]) -> String {
    json!(
        sessions
            .iter()
            .map(|s| json!({"start_date": s.start_date.to_string(), "end_date": s.end_date.to_string(), "location": s.location}))
            .collect::<Vec<_>>()
    )
    .to_string()
}

fn parse_sessions(text: &str) -> Result<Vec<SessionRecord>> {
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
            Ok(SessionRecord {
                start_date: day("start_date")?,
                end_date: day("end_date")?,
                location: item.get("location").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

fn course_of(row: &QueryResult) -> Result<CourseRecord> {
    let sessions: String = row.try_get("", "sessions")?;
    Ok(CourseRecord {
        id: row.try_get("", "id")?,
        plan_id: row.try_get("", "plan_id")?,
        fields: CourseFields {
            line_id: row.try_get("", "line_id")?,
            title: row.try_get("", "title")?,
            provider: row.try_get("", "provider")?,
            location: row.try_get("", "location")?,
            start_date: row.try_get("", "start_date")?,
            end_date: row.try_get("", "end_date")?,
            sessions: parse_sessions(&sessions)?,
        },
        revision: row.try_get("", "revision")?,
    })
}

const COURSE_COLUMNS: &str =
    "id, plan_id, line_id, title, provider, location, start_date, end_date, sessions, revision";

/// Loads a course of a plan.
pub async fn load_course(conn: &impl ConnectionTrait, plan_id: i64, id: i64) -> Result<Option<CourseRecord>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            &format!("SELECT {COURSE_COLUMNS} FROM courses WHERE id = ? AND plan_id = ?"),
            vec![id.into(), plan_id.into()],
        ))
        .await?;
    row.as_ref().map(course_of).transpose()
}

/// A page of courses.
#[derive(Debug, Clone)]
pub struct CoursePage {
    /// The courses, by id.
    pub courses: Vec<CourseRecord>,
    /// The id of the last course, when another page follows.
    pub next_after: Option<i64>,
}

/// Lists the courses of a plan by id.
pub async fn list_courses(
    conn: &impl ConnectionTrait,
    plan_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<CoursePage> {
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            &format!("SELECT {COURSE_COLUMNS} FROM courses WHERE plan_id = ? AND id > ? ORDER BY id LIMIT ?"),
            vec![
                plan_id.into(),
                after.unwrap_or(0).into(),
                i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX).into(),
            ],
        ))
        .await?;
    let mut courses = rows.iter().map(course_of).collect::<Result<Vec<_>>>()?;
    let more = courses.len() as u64 > limit;
    courses.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_after = if more { courses.last().map(|c| c.id) } else { None };
    Ok(CoursePage { courses, next_after })
}

/// The violations of a course against its plan, on fields under `path` (`course`):
/// the line must be one of the plan's, the dates inside the plan's period (whose end
/// is exclusive), the start not after the end, and each session inside the course.
pub fn course_violations(plan: &PlanRecord, course: &CourseFields, path: &str) -> Vec<Violation> {
    let mut v = Vec::new();
    if plan.line(&course.line_id).is_none() {
        v.push(Violation::new(format!("{path}.line_id"), format!("{} has no line `{}`", plan.name(), course.line_id)));
    }
    let period = format!("[{}, {})", plan.period_start, plan.period_end);
    if !crate::domain::training::in_period(plan.period_start, plan.period_end, course.start_date) {
        v.push(Violation::new(format!("{path}.start_date"), format!("is outside the plan's period {period}")));
    }
    if !crate::domain::training::in_period(plan.period_start, plan.period_end, course.end_date) {
        v.push(Violation::new(format!("{path}.end_date"), format!("is outside the plan's period {period}")));
    }
    if course.end_date < course.start_date {
        v.push(Violation::new(format!("{path}.end_date"), "is before start_date"));
    }
    for (i, s) in course.sessions.iter().enumerate() {
        if s.start_date < course.start_date || s.start_date > course.end_date {
            v.push(Violation::new(format!("{path}.sessions[{i}].start_date"), "is outside the course's dates"));
        }
        if s.end_date < course.start_date || s.end_date > course.end_date {
            v.push(Violation::new(format!("{path}.sessions[{i}].end_date"), "is outside the course's dates"));
        }
        if s.end_date < s.start_date {
            v.push(Violation::new(format!("{path}.sessions[{i}].end_date"), "is before its start_date"));
        }
    }
    v
}

async fn open_plan(txn: &DatabaseTransaction, plan_id: i64) -> Result<PlanRecord> {
    let plan = load_plan(txn, plan_id).await?.ok_or_else(|| Error::NotFound(plan_name(plan_id)))?;
    plan.ensure_open()?;
    Ok(plan)
}

/// Creates a course of a plan that is not closed.
pub async fn create_course(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    plan_id: i64,
    fields: &CourseFields,
    idem: &Idempotency,
) -> Result<CourseRecord> {
    const METHOD: &str = "CreateCourse";
    let txn = begin_write(db).await?;
    if let Some(resource) = audit::replayed(&txn, METHOD, idem.request_id.as_deref(), &idem.fingerprint).await? {
        let id = resource.rsplit('/').next().and_then(|id| id.parse::<i64>().ok());
        let record = match id {
            Some(id) => load_course(&txn, plan_id, id).await?,
            None => None,
        };
        txn.rollback().await?;
        return record.ok_or(Error::NotFound(resource));
    }
    let plan = open_plan(&txn, plan_id).await?;
    let violations = course_violations(&plan, fields, "course");
    if !violations.is_empty() {
        return Err(Error::InvalidArgument(violations));
    }
    let row = txn
        .query_one_raw(stmt(
            txn.get_database_backend(),
            "INSERT INTO courses (plan_id, line_id, title, provider, location, start_date, end_date, sessions, \
             revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id",
            vec![
                plan_id.into(),
                fields.line_id.as_str().into(),
                fields.title.as_str().into(),
                fields.provider.as_str().into(),
                fields.location.as_str().into(),
                fields.start_date.into(),
                fields.end_date.into(),
                sessions_json(&fields.sessions).into(),
            ],
        ))
        .await?
        .ok_or_else(|| Error::internal("inserting a course returned no id"))?;
    let id: i64 = row.try_get("", "id")?;
    let name = course_name(plan_id, id);
    if let Some(request_id) = &idem.request_id {
        audit::remember_request(&txn, METHOD, request_id, &idem.fingerprint, &name).await?;
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        METHOD,
        &name,
        idem.request_id.as_deref(),
        json!({ "line_id": fields.line_id, "start_date": fields.start_date, "end_date": fields.end_date }),
    )
    .await?;
    let record = load_course(&txn, plan_id, id).await?.ok_or_else(|| Error::internal("created course vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(record)
}

/// Updates a course of a plan that is not closed: `apply` sets the new fields.
pub async fn update_course(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    plan_id: i64,
    id: i64,
    etag_given: Option<&str>,
    apply: impl FnOnce(&mut CourseFields),
) -> Result<CourseRecord> {
    let txn = begin_write(db).await?;
    let record = load_course(&txn, plan_id, id).await?.ok_or_else(|| Error::NotFound(course_name(plan_id, id)))?;
    let name = record.name();
    check_etag(etag_given, &name, record.revision)?;
    let plan = open_plan(&txn, plan_id).await?;
    let mut fields = record.fields.clone();
    apply(&mut fields);
    let violations = course_violations(&plan, &fields, "course");
    if !violations.is_empty() {
        return Err(Error::InvalidArgument(violations));
    }
    let result = txn
        .execute_raw(stmt(
            txn.get_database_backend(),
            "UPDATE courses SET title = ?, provider = ?, location = ?, start_date = ?, end_date = ?, sessions = ?, \
             revision = revision + 1 WHERE id = ? AND revision = ?",
            vec![
                fields.title.as_str().into(),
                fields.provider.as_str().into(),
                fields.location.as_str().into(),
                fields.start_date.into(),
                fields.end_date.into(),
                sessions_json(&fields.sessions).into(),
                id.into(),
                record.revision.into(),
            ],
        ))
        .await?;
    if result.rows_affected() != 1 {
        return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        "UpdateCourse",
        &name,
        None,
        json!({ "start_date": fields.start_date, "end_date": fields.end_date, "sessions": fields.sessions.len() }),
    )
    .await?;
    let updated = load_course(&txn, plan_id, id).await?.ok_or_else(|| Error::internal("updated course vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(updated)
}

/// Deletes a course of a plan that is not closed, when no enrolment refers to it.
pub async fn delete_course(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    plan_id: i64,
    id: i64,
    etag_given: Option<&str>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let record = load_course(&txn, plan_id, id).await?.ok_or_else(|| Error::NotFound(course_name(plan_id, id)))?;
    let name = record.name();
    check_etag(etag_given, &name, record.revision)?;
    open_plan(&txn, plan_id).await?;
    let enrolments = count(&txn, "SELECT COUNT(*) AS n FROM enrollments WHERE course_id = ?", vec![id.into()]).await?;
    if enrolments > 0 {
        return Err(Error::precondition(name, format!("{enrolments} enrolment(s) refer to it")));
    }
    txn.execute_raw(stmt(txn.get_database_backend(), "DELETE FROM courses WHERE id = ?", vec![id.into()])).await?;
    audit::record(
        &txn,
        &ctx.principal.subject,
        "DeleteCourse",
        &name,
        None,
        json!({ "line_id": record.fields.line_id, "revision": record.revision }),
    )
    .await?;
    super::commit(txn, ctx).await
}

// ---- progress --------------------------------------------------------------------

/// The number of enrolments of a line in a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    /// The line.
    pub line_id: String,
    /// The status at the end of the day asked.
    pub status: EnrollmentStatus,
    /// How many enrolments.
    pub count: u64,
}

/// Counts the enrolments of plan `plan_id` per line and status as they stood at the
/// end of `as_of`: each enrolment's status is that of its latest history row dated on
/// or before `as_of` (highest seq); enrolments with no such row are not counted.
pub async fn status_counts(conn: &impl ConnectionTrait, plan_id: i64, as_of: NaiveDate) -> Result<Vec<StatusCount>> {
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT e.line_id AS line_id, h.status AS status, COUNT(*) AS n \
             FROM enrollments e JOIN enrollment_history h ON h.enrollment_id = e.id \
             WHERE e.plan_id = ? AND h.seq = (SELECT MAX(l.seq) FROM enrollment_history l \
             WHERE l.enrollment_id = e.id AND l.date <= ?) \
             GROUP BY e.line_id, h.status",
            vec![plan_id.into(), as_of.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("", "status")?;
            let n: i64 = r.try_get("", "n")?;
            Ok(StatusCount {
                line_id: r.try_get("", "line_id")?,
                status: EnrollmentStatus::from_db(&status).ok_or_else(|| {
                    Error::internal(format!("stored enrolment status `{status}` is not known to this version"))
                })?,
                count: u64::try_from(n).unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::training::ProgrammeKind;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn line(id: &str, kind: ProgrammeKind) -> LineRecord {
        LineRecord {
            line_id: id.to_owned(),
            title: id.to_owned(),
            kind,
            level: None,
            topic: None,
            audience_tier: None,
            audience_category: None,
            leaders_only: false,
            target: 1,
            budget_vnd: None,
        }
    }

    #[test]
    fn sessions_round_trip_through_json() {
        let sessions = vec![SessionRecord {
            start_date: day(2024, 3, 1),
            end_date: day(2024, 3, 5),
            location: "Hà Nội".to_owned(),
        }];
        assert_eq!(parse_sessions(&sessions_json(&sessions)).ok(), Some(sessions));
        assert!(parse_sessions("{}").is_err());
    }

    #[test]
    fn enrolled_lines_keep_their_kind_and_lines_with_courses_stay() {
        let old = vec![
            line("a", ProgrammeKind::Degree),
            line("b", ProgrammeKind::Refresher),
            line("c", ProgrammeKind::Refresher),
        ];
        let enrolled = BTreeSet::from(["a".to_owned()]);
        let courses = BTreeSet::from(["b".to_owned()]);
        let keep = old.clone();
        assert!(line_replacement_violations("p", &old, &keep, &enrolled, &courses).is_empty());
        let dropped = vec![line("c", ProgrammeKind::Refresher)];
        assert_eq!(line_replacement_violations("p", &old, &dropped, &enrolled, &courses).len(), 2);
        let changed = vec![line("a", ProgrammeKind::Refresher), line("b", ProgrammeKind::Refresher)];
        assert_eq!(line_replacement_violations("p", &old, &changed, &enrolled, &courses).len(), 1);
    }
}
