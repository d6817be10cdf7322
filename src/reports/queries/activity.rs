//! Activity report queries: training enrolments, movements and staffing against quota
//! of a report scope, each aggregated in the database with GROUP BY over the common
//! table expressions of [`population_ctes`] (`tree` and `population`).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use sea_orm::ConnectionTrait;

use super::{Population, population_ctes, tier_lengths, tree_ctes};
use crate::edge::enums::Table as _;
use crate::{
    error::{Error, Result},
    movements::rules::{Kind, Status},
    people::rules::person::Category,
    reports::rules::activity::{MovementCount, Staffing, TrainingCounts, direction_of_code_lengths},
    sql::{self, FromQueryResult, Query},
    training::rules::{EnrollmentStatus, ProgrammeKind},
};

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

#[derive(Debug, FromQueryResult)]
struct GroupCount {
    grp: String,
    n: i64,
}

/// The headcount of a population per group.
pub async fn headcounts(conn: &impl ConnectionTrait, p: &Population) -> Result<BTreeMap<String, i64>> {
    let mut q = population_ctes(p);
    q.push(" SELECT grp, COUNT(*) AS n FROM population GROUP BY grp");
    let rows: Vec<GroupCount> = sql::all(conn, q.build()).await?;
    Ok(rows.into_iter().map(|r| (r.grp, r.n)).collect())
}

/// The training figures of one programme in one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingRow {
    /// The group.
    pub group: String,
    /// The line's kind.
    pub kind: ProgrammeKind,
    /// The level of a degree line: (scale, level).
    pub level: Option<(String, String)>,
    /// The enrolments.
    pub counts: TrainingCounts,
}

#[derive(Debug, FromQueryResult)]
struct EnrolmentRow {
    grp: String,
    kind: String,
    scale_code: Option<String>,
    level_code: Option<String>,
    under_way: i64,
    started: Option<i64>,
    completed: Option<i64>,
    discontinued: Option<i64>,
    in_progress: Option<i64>,
}

/// The enrolments of a population's people over `[start, end]`, per group, line kind
/// and level, with the figures of `TrainingFigures` (report.proto); only enrolments
/// under way in the period are returned.
pub async fn training_counts(
    conn: &impl ConnectionTrait,
    p: &Population,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<TrainingRow>> {
    let mut q = population_ctes(p);
    let enrolled = EnrollmentStatus::Enrolled.stored();
    let completed = EnrollmentStatus::Completed.stored();
    let dropped = EnrollmentStatus::Dropped.stored();
    let failed = EnrollmentStatus::Failed.stored();
    // Each enrolment's status at the end of the period is that of its latest change
    // dated on or before it (highest seq), as in GetTrainingPlanProgress. The flags are
    // computed in a CTE and summed, so that no grouped expression holds a parameter.
    q.push(format!(
        ", enrolment_state(grp, kind, scale_code, level_code, started_on, end_status, end_date) AS (\
           SELECT pp.grp, l.kind, l.scale_code, l.level_code, \
             (SELECT MIN(f.date) FROM enrollment_history f WHERE f.enrollment_id = e.id AND f.status = '{enrolled}'), \
             h.status, h.date \
           FROM enrollments e \
           JOIN population pp ON pp.id = e.person_id \
           JOIN target_lines l ON l.plan_id = e.plan_id AND l.line_id = e.line_id \
           JOIN enrollment_history h ON h.enrollment_id = e.id AND h.seq = (SELECT MAX(m.seq) \
             FROM enrollment_history m WHERE m.enrollment_id = e.id AND m.date <= "
    ));
    q.bind(end).push(
        ")), enrolment_flags(grp, kind, scale_code, level_code, started, completed, discontinued, in_progress) AS (\
           SELECT grp, kind, scale_code, level_code, CASE WHEN started_on >= ",
    );
    q.bind(start).push(" AND started_on <= ").bind(end).push(" THEN 1 ELSE 0 END, ");
    q.push(format!("CASE WHEN end_status = '{completed}' AND end_date >= ")).bind(start).push(" THEN 1 ELSE 0 END, ");
    q.push(format!("CASE WHEN end_status IN ('{dropped}', '{failed}') AND end_date >= ")).bind(start);
    q.push(format!(
        " AND started_on IS NOT NULL THEN 1 ELSE 0 END, \
             CASE WHEN end_status = '{enrolled}' THEN 1 ELSE 0 END \
           FROM enrolment_state) \
         SELECT grp, kind, scale_code, level_code, COUNT(*) AS under_way, SUM(started) AS started, \
           SUM(completed) AS completed, SUM(discontinued) AS discontinued, SUM(in_progress) AS in_progress \
         FROM enrolment_flags WHERE completed + discontinued + in_progress > 0 \
         GROUP BY grp, kind, scale_code, level_code"
    ));
    let rows: Vec<EnrolmentRow> = sql::all(conn, q.build()).await?;
    rows.into_iter()
        .map(|r| {
            Ok(TrainingRow {
                kind: ProgrammeKind::from_stored(&r.kind).ok_or_else(|| corrupt("programme kind", &r.kind))?,
                group: r.grp,
                level: r.scale_code.zip(r.level_code),
                counts: TrainingCounts {
                    under_way: r.under_way,
                    started: r.started.unwrap_or_default(),
                    completed: r.completed.unwrap_or_default(),
                    discontinued: r.discontinued.unwrap_or_default(),
                    in_progress: r.in_progress.unwrap_or_default(),
                },
            })
        })
        .collect()
}

/// Appends the conditions a movement's unit `u`, in locality `t` of the tree, must meet
/// to put the movement in scope: the scope's sectors, tiers and tags.
fn unit_conditions(q: &mut Query, p: &Population, u: &str, t: &str) {
    if !p.sectors.is_empty() {
        q.push(format!(" AND {u}.sector IN (")).bind_list(p.sectors.iter().map(String::as_str)).push(")");
    }
    if !p.tiers.is_empty() {
        q.push(format!(" AND LENGTH({u}.locality_code) IN (")).bind_list(tier_lengths(&p.tiers)).push(")");
    }
    if !p.tags.is_empty() {
        q.push(format!(" AND {t}.tagged = 1"));
    }
}

#[derive(Debug, FromQueryResult)]
struct MovementRow {
    per_group: i32,
    grp: String,
    kind: String,
    status: String,
    promoted: i32,
    source_len: i32,
    destination_len: i32,
    n: i64,
}

/// The movements of a scope over `[start, end]`: `(None, ...)` for the whole scope and,
/// when the population is broken down by child, `(Some(group), ...)` for each group
/// holding one of a movement's qualifying units (a movement counts once per group).
///
/// A movement is in scope when its source or destination unit lies in the tree and
/// passes the sectors, tiers and tags, its person's category is one of the scope's,
/// its destination post is a leader's under `leaders_only`, and its time at the
/// destination, `[start_date, actual or planned end)`, overlaps the period.
pub async fn movement_counts(
    conn: &impl ConnectionTrait,
    p: &Population,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<(Option<String>, MovementCount)>> {
    let mut q = population_ctes(p);
    q.push(
        ", moved(id, source_grp, destination_grp, kind, status, promoted, source_len, destination_len) AS (\
           SELECT r.id, st.grp, dt.grp, r.kind, r.status, CASE WHEN r.promoted THEN 1 ELSE 0 END, \
             LENGTH(su.locality_code), LENGTH(du.locality_code) \
           FROM rotations r \
           JOIN units su ON su.id = r.source_unit_id \
           JOIN units du ON du.id = r.destination_unit_id \
           JOIN people pe ON pe.id = r.person_id \
           LEFT JOIN tree st ON st.code = su.locality_code",
    );
    unit_conditions(&mut q, p, "su", "st");
    q.push(" LEFT JOIN tree dt ON dt.code = du.locality_code");
    unit_conditions(&mut q, p, "du", "dt");
    q.push(" WHERE (st.code IS NOT NULL OR dt.code IS NOT NULL) AND r.start_date <= ").bind(end);
    q.push(
        " AND (COALESCE(r.actual_end_date, r.planned_end_date) IS NULL \
           OR COALESCE(r.actual_end_date, r.planned_end_date) > ",
    );
    q.bind(start).push(")");
    if !p.categories.is_empty() {
        q.push(" AND pe.category IN (").bind_list(p.categories.iter().map(|c| c.as_str())).push(")");
    }
    if p.leaders_only {
        q.push(" AND r.destination_leader = ").bind(true);
    }
    let columns = "kind, status, promoted, source_len, destination_len";
    q.push(format!(") SELECT 0 AS per_group, '' AS grp, {columns}, COUNT(*) AS n FROM moved GROUP BY {columns}"));
    if p.by_child {
        // UNION (not ALL) keeps a movement once in a group holding both its units.
        q.push(format!(
            " UNION ALL SELECT 1, grp, {columns}, COUNT(*) FROM (\
               SELECT id, source_grp AS grp, {columns} FROM moved WHERE source_grp IS NOT NULL \
               UNION SELECT id, destination_grp, {columns} FROM moved WHERE destination_grp IS NOT NULL) g \
             GROUP BY grp, {columns}"
        ));
    }
    let rows: Vec<MovementRow> = sql::all(conn, q.build()).await?;
    rows.into_iter()
        .map(|r| {
            let direction = direction_of_code_lengths(
                usize::try_from(r.source_len).unwrap_or_default(),
                usize::try_from(r.destination_len).unwrap_or_default(),
            )
            .ok_or_else(|| corrupt("locality code length", &format!("{} or {}", r.source_len, r.destination_len)))?;
            Ok((
                (r.per_group == 1).then_some(r.grp),
                MovementCount {
                    kind: Kind::from_db(&r.kind).ok_or_else(|| corrupt("movement kind", &r.kind))?,
                    direction,
                    status: Status::from_db(&r.status).ok_or_else(|| corrupt("movement status", &r.status))?,
                    promoted: r.promoted == 1,
                    count: r.n,
                },
            ))
        })
        .collect()
}

#[derive(Debug, FromQueryResult)]
struct StaffingRow {
    grp: String,
    category: String,
    n: Option<i64>,
}

/// The headcount of a population and the quotas of its scope, per group and category
/// (the headcounts as [`category_headcounts`] counts them, the quotas as
/// [`quota_counts`] does).
pub async fn staffing_counts(
    conn: &impl ConnectionTrait,
    p: &Population,
) -> Result<HashMap<(String, Category), Staffing>> {
    Ok(staffing(category_headcounts(conn, p).await?, quota_counts(conn, p).await?))
}

/// The staffing per group and category from its headcounts and its quotas.
pub fn staffing(
    headcounts: HashMap<(String, Category), i64>,
    quotas: HashMap<(String, Category), i64>,
) -> HashMap<(String, Category), Staffing> {
    let mut counts: HashMap<(String, Category), Staffing> = HashMap::new();
    for (key, n) in headcounts {
        counts.entry(key).or_default().headcount += n;
    }
    for (key, n) in quotas {
        counts.entry(key).or_default().quota += n;
    }
    counts
}

/// The headcount of a population per group and category.
pub async fn category_headcounts(
    conn: &impl ConnectionTrait,
    p: &Population,
) -> Result<HashMap<(String, Category), i64>> {
    let mut q = population_ctes(p);
    q.push(
        " SELECT pp.grp AS grp, pp.category AS category, COUNT(*) AS n FROM population pp GROUP BY pp.grp, pp.category",
    );
    let rows: Vec<StaffingRow> = sql::all(conn, q.build()).await?;
    to_counts(rows)
}

/// The quotas of a population's scope per group and category.
///
/// The quotas are those of the as-of date's year whose locality (a locality quota) or
/// whose unit's locality (a unit quota) lies in the tree, counted in that locality's
/// group, with a category and tier (of that locality) among the scope's, and, with
/// tags, a tagged locality. The scope's sectors and post filters do not apply to
/// quotas; the request rejects them.
pub async fn quota_counts(conn: &impl ConnectionTrait, p: &Population) -> Result<HashMap<(String, Category), i64>> {
    let mut q = tree_ctes(p);
    // A locality quota counts where its locality is, a unit quota where its unit is: two
    // branches, so that each reaches its quotas through an index (locality, year) or
    // (unit, year) for a small tree, where one join on COALESCE(locality, unit's
    // locality) read every quota of the year.
    let year = p.as_of.year();
    q.push(" SELECT t.grp AS grp, q.category AS category, SUM(q.quota) AS n FROM (SELECT q.locality_code AS code, ");
    q.push("q.category, q.quota FROM staffing_quotas q WHERE q.locality_code IS NOT NULL AND q.year = ").bind(year);
    q.push(" UNION ALL SELECT u.locality_code, q.category, q.quota FROM staffing_quotas q ");
    q.push("JOIN units u ON u.id = q.unit_id WHERE q.locality_code IS NULL AND q.year = ").bind(year);
    q.push(") q JOIN tree t ON t.code = q.code WHERE 1 = 1");
    if !p.categories.is_empty() {
        q.push(" AND q.category IN (").bind_list(p.categories.iter().map(|c| c.as_str())).push(")");
    }
    if !p.tiers.is_empty() {
        q.push(" AND LENGTH(q.code) IN (").bind_list(tier_lengths(&p.tiers)).push(")");
    }
    if !p.tags.is_empty() {
        q.push(" AND t.tagged = 1");
    }
    q.push(" GROUP BY t.grp, q.category");
    let rows: Vec<StaffingRow> = sql::all(conn, q.build()).await?;
    to_counts(rows)
}

fn to_counts(rows: Vec<StaffingRow>) -> Result<HashMap<(String, Category), i64>> {
    let mut counts = HashMap::new();
    for r in rows {
        let category = Category::from_db(&r.category).ok_or_else(|| corrupt("category", &r.category))?;
        *counts.entry((r.grp, category)).or_default() += r.n.unwrap_or_default();
    }
    Ok(counts)
}
