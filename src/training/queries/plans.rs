//! Plans and their target lines as stored, the plan lock that makes "a closed plan
//! accepts no change" hold under concurrency, and the aggregate query of progress.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;

use super::{Id, corrupt};
use crate::{
    domain::locality::{Code, Tier},
    edge::{enums::Table as _, names::TrainingPlanName},
    error::{Error, Result, Violation},
    people::rules::person::Category,
    scope,
    sql::{self, FromQueryResult, Query, raw_sql},
    training::rules::{EnrollmentStatus, Line, NewPlan, Plan, PlanStatus, ProgrammeKind, StatusCount},
};

#[derive(Debug, FromQueryResult)]
struct PlanRow {
    id: i64,
    title: String,
    owner_code: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    document_number: String,
    issued_on: NaiveDate,
    status: String,
    revision: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct LineRow {
    line_id: String,
    title: String,
    kind: String,
    scale_code: Option<String>,
    level_code: Option<String>,
    topic: Option<String>,
    audience_tier: Option<String>,
    audience_category: Option<String>,
    leaders_only: bool,
    target: i32,
    budget_vnd: Option<i64>,
}

impl TryFrom<LineRow> for Line {
    type Error = Error;

    fn try_from(row: LineRow) -> Result<Self> {
        Ok(Self {
            kind: ProgrammeKind::from_stored(&row.kind).ok_or_else(|| corrupt("programme kind", &row.kind))?,
            level: row.scale_code.zip(row.level_code),
            topic: row.topic,
            audience_tier: row
                .audience_tier
                .map(|t| Tier::from_db(&t).ok_or_else(|| corrupt("tier", &t)))
                .transpose()?,
            audience_category: row
                .audience_category
                .map(|c| Category::from_db(&c).ok_or_else(|| corrupt("category", &c)))
                .transpose()?,
            leaders_only: row.leaders_only,
            target: row.target,
            budget_vnd: row.budget_vnd,
            line_id: row.line_id,
            title: row.title,
        })
    }
}

/// A plan with its lines.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Plan>> {
    let row: Option<PlanRow> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, title, owner_code, period_start, period_end, document_number, issued_on, status, revision, \
             create_time, update_time FROM training_plans WHERE id = {id}"
        ),
    )
    .await?;
    let Some(row) = row else { return Ok(None) };
    let lines: Vec<LineRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT line_id, title, kind, scale_code, level_code, topic, audience_tier, audience_category, \
             leaders_only, target, budget_vnd FROM target_lines WHERE plan_id = {id} ORDER BY position"
        ),
    )
    .await?;
    Ok(Some(Plan {
        name: TrainingPlanName(row.id),
        title: row.title,
        owner: Code::from_db(row.owner_code),
        period_start: row.period_start,
        period_end: row.period_end,
        document_number: row.document_number,
        issued_on: row.issued_on,
        status: PlanStatus::from_stored(&row.status).ok_or_else(|| corrupt("plan status", &row.status))?,
        lines: lines.into_iter().map(Line::try_from).collect::<Result<_>>()?,
        revision: row.revision,
        create_time: row.create_time,
        update_time: row.update_time,
    }))
}

/// The owner of a plan, for the scope check (which comes before existence).
pub async fn owner(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Code>> {
    #[derive(FromQueryResult)]
    struct Owner {
        owner_code: String,
    }
    let row: Option<Owner> =
        sql::one(conn, raw_sql!(Postgres, "SELECT owner_code FROM training_plans WHERE id = {id}")).await?;
    Ok(row.map(|r| Code::from_db(r.owner_code)))
}

pub use crate::sql::Lock;

/// Locks plan `id` until the transaction ends; whether it exists.
///
/// This is what makes "a closed plan accepts no change" hold under concurrency.
/// Every write of a plan's content (a course, an enrolment, a transition) locks the
/// plan `FOR SHARE` before it reads the plan's status; closing the plan (and every
/// other change of the plan row) locks it `FOR UPDATE`. On PostgreSQL under READ
/// COMMITTED the two wait for each other: either the content write commits first and
/// the close, reading after it, sees it; or the close commits first and the content
/// write, reading the plan after its lock is granted (a new statement, a new
/// snapshot), sees it closed and is refused. SQLite has no row locks and needs none:
/// its writers are serialised (`BEGIN IMMEDIATE`), so the status read inside the
/// transaction still holds at its commit.
pub async fn lock(conn: &impl ConnectionTrait, id: i64, lock: Lock) -> Result<bool> {
    sql::lock_row(conn, "training_plans", id, lock).await
}

/// Whether locality `code` exists.
pub async fn locality_exists(conn: &impl ConnectionTrait, code: &Code) -> Result<bool> {
    Ok(sql::count(conn, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM localities WHERE code = {code}")).await? > 0)
}

/// Violations of degree lines whose level does not exist, on `{path}.lines[i].level`.
pub async fn missing_levels(conn: &impl ConnectionTrait, lines: &[Line], path: &str) -> Result<Vec<Violation>> {
    let mut violations = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some((scale, level)) = &line.level {
            let n = sql::count(
                conn,
                raw_sql!(
                    Postgres,
                    "SELECT COUNT(*) AS n FROM scale_levels WHERE scale_code = {scale} AND code = {level}"
                ),
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

/// Inserts a plan in DRAFT with its lines; its id.
pub async fn insert(conn: &impl ConnectionTrait, new: &NewPlan) -> Result<i64> {
    let now = Utc::now();
    let (title, owner, start, end) = (new.title.as_str(), &new.owner, new.period_start, new.period_end);
    let (number, issued, status) = (new.document_number.as_str(), new.issued_on, PlanStatus::Draft.stored());
    let row: Option<Id> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO training_plans (title, owner_code, period_start, period_end, document_number, issued_on, \
             status, revision, create_time, update_time) \
             VALUES ({title}, {owner}, {start}, {end}, {number}, {issued}, {status}, 1, {now}, {now}) RETURNING id"
        ),
    )
    .await?;
    let id = row.map(|r| r.id).ok_or_else(|| Error::internal("inserting a plan returned no id"))?;
    insert_lines(conn, id, &new.lines).await?;
    Ok(id)
}

async fn insert_lines(conn: &impl ConnectionTrait, plan_id: i64, lines: &[Line]) -> Result<()> {
    for (position, line) in lines.iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        let (scale, level) = match &line.level {
            Some((s, l)) => (Some(s.clone()), Some(l.clone())),
            None => (None, None),
        };
        let (line_id, title, kind, topic) =
            (line.line_id.as_str(), line.title.as_str(), line.kind.stored(), &line.topic);
        let tier = line.audience_tier.map(|t| t.as_str().to_owned());
        let category = line.audience_category.map(|c| c.as_str().to_owned());
        let (leaders, target, budget) = (line.leaders_only, line.target, line.budget_vnd);
        let topic = topic.clone();
        sql::execute(
            conn,
            raw_sql!(
                Postgres,
                "INSERT INTO target_lines (plan_id, line_id, position, title, kind, scale_code, level_code, topic, \
                 audience_tier, audience_category, leaders_only, target, budget_vnd) \
                 VALUES ({plan_id}, {line_id}, {position}, {title}, {kind}, {scale}, {level}, {topic}, {tier}, \
                 {category}, {leaders}, {target}, {budget})"
            ),
        )
        .await?;
    }
    Ok(())
}

/// The plan's own fields an update writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFields {
    /// Title.
    pub title: String,
    /// First day.
    pub period_start: NaiveDate,
    /// First day after.
    pub period_end: NaiveDate,
    /// Legal basis: document number.
    pub document_number: String,
    /// Legal basis: date issued.
    pub issued_on: NaiveDate,
}

/// Writes `fields` over plan `id` if it is still at `revision` (and its lines, when
/// given, over its lines); whether it was.
pub async fn update(
    conn: &impl ConnectionTrait,
    id: i64,
    revision: i64,
    fields: &PlanFields,
    lines: Option<&[Line]>,
) -> Result<bool> {
    let now = Utc::now();
    let (title, start, end) = (fields.title.as_str(), fields.period_start, fields.period_end);
    let (number, issued) = (fields.document_number.as_str(), fields.issued_on);
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE training_plans SET title = {title}, period_start = {start}, period_end = {end}, \
             document_number = {number}, issued_on = {issued}, revision = revision + 1, update_time = {now} \
             WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    if changed != 1 {
        return Ok(false);
    }
    if let Some(lines) = lines {
        sql::execute(conn, raw_sql!(Postgres, "DELETE FROM target_lines WHERE plan_id = {id}")).await?;
        insert_lines(conn, id, lines).await?;
    }
    Ok(true)
}

/// Moves plan `id` to `status` if it is still at `revision`; whether it was.
pub async fn set_status(conn: &impl ConnectionTrait, id: i64, revision: i64, status: PlanStatus) -> Result<bool> {
    let (now, status) = (Utc::now(), status.stored());
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE training_plans SET status = {status}, revision = revision + 1, update_time = {now} \
             WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// Deletes plan `id` with its courses and lines.
pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM courses WHERE plan_id = {id}")).await?;
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM target_lines WHERE plan_id = {id}")).await?;
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM training_plans WHERE id = {id}")).await?;
    Ok(())
}

#[derive(Debug, FromQueryResult)]
struct LineIdRow {
    line_id: String,
}

/// Line ids of plan `id` that have enrolments.
pub async fn enrolled_lines(conn: &impl ConnectionTrait, id: i64) -> Result<BTreeSet<String>> {
    let rows: Vec<LineIdRow> =
        sql::all(conn, raw_sql!(Postgres, "SELECT DISTINCT line_id FROM enrollments WHERE plan_id = {id}")).await?;
    Ok(rows.into_iter().map(|r| r.line_id).collect())
}

/// Line ids of plan `id` that have courses.
pub async fn course_lines(conn: &impl ConnectionTrait, id: i64) -> Result<BTreeSet<String>> {
    let rows: Vec<LineIdRow> =
        sql::all(conn, raw_sql!(Postgres, "SELECT DISTINCT line_id FROM courses WHERE plan_id = {id}")).await?;
    Ok(rows.into_iter().map(|r| r.line_id).collect())
}

/// How many enrolment status changes of plan `id` lie outside `[start, end)`.
pub async fn history_outside(conn: &impl ConnectionTrait, id: i64, start: NaiveDate, end: NaiveDate) -> Result<i64> {
    sql::count(
        conn,
        raw_sql!(
            Postgres,
            "SELECT COUNT(*) AS n FROM enrollment_history h JOIN enrollments e ON e.id = h.enrollment_id \
             WHERE e.plan_id = {id} AND (h.date < {start} OR h.date >= {end})"
        ),
    )
    .await
}

/// How many courses of plan `id` lie outside `[start, end)`.
pub async fn courses_outside(conn: &impl ConnectionTrait, id: i64, start: NaiveDate, end: NaiveDate) -> Result<i64> {
    sql::count(
        conn,
        raw_sql!(
            Postgres,
            "SELECT COUNT(*) AS n FROM courses WHERE plan_id = {id} AND (start_date < {start} OR end_date >= {end})"
        ),
    )
    .await
}

/// How many enrolments plan `id` has.
pub async fn enrollment_count(conn: &impl ConnectionTrait, id: i64) -> Result<i64> {
    sql::count(conn, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM enrollments WHERE plan_id = {id}")).await
}

/// The plans owned by `owner` or by any locality of its subtree in any version of the
/// tree, by id, after `after`, at most `limit`. (The caller was authorised on
/// `owner`, so its subtree lies in the caller's scope: scope is closed under descent.)
pub async fn list(conn: &impl ConnectionTrait, owner: &Code, after: Option<i64>, limit: u64) -> Result<Vec<Plan>> {
    let mut q = Query::new("WITH RECURSIVE ");
    q.append(scope::scope_codes(&BTreeSet::from([owner.clone()])));
    q.push(" SELECT id FROM training_plans WHERE owner_code IN (SELECT code FROM scope_codes)");
    if let Some(after) = after {
        q.push(" AND id > ").bind(after);
    }
    q.push(" ORDER BY id LIMIT ").bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let ids: Vec<Id> = sql::all(conn, q.build()).await?;
    let mut plans = Vec::with_capacity(ids.len());
    for Id { id } in ids {
        if let Some(plan) = get(conn, id).await? {
            plans.push(plan);
        }
    }
    Ok(plans)
}

/// Counts the enrolments of plan `plan_id` per line and status as they stood at the
/// end of `as_of`: each enrolment's status is that of its latest history row dated on
/// or before `as_of` (highest seq); enrolments with no such row are not counted.
pub async fn status_counts(conn: &impl ConnectionTrait, plan_id: i64, as_of: NaiveDate) -> Result<Vec<StatusCount>> {
    #[derive(FromQueryResult)]
    struct Row {
        line_id: String,
        status: String,
        n: i64,
    }
    let rows: Vec<Row> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT line_id, status, COUNT(*) AS n FROM (\
               SELECT e.line_id, h.status, \
                 ROW_NUMBER() OVER (PARTITION BY h.enrollment_id ORDER BY h.seq DESC) AS latest \
               FROM enrollments e JOIN enrollment_history h ON h.enrollment_id = e.id \
               WHERE e.plan_id = {plan_id} AND h.date <= {as_of}) changes \
             WHERE latest = 1 GROUP BY line_id, status"
        ),
    )
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(StatusCount {
                status: EnrollmentStatus::from_stored(&r.status)
                    .ok_or_else(|| corrupt("enrolment status", &r.status))?,
                line_id: r.line_id,
                count: u64::try_from(r.n).unwrap_or_default(),
            })
        })
        .collect()
}
