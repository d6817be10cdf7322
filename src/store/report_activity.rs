//! Activity report queries: training enrolments, movements and staffing against quota
//! of a report scope, each aggregated in the database with GROUP BY over the common
//! table expressions of [`population_ctes`] (`tree` and `population`).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use sea_orm::{ConnectionTrait, Value};

use super::{
    placeholders,
    report::{Population, population_ctes},
    stmt,
};
use crate::{
    domain::{
        person::Category,
        report_activity::{MovementCount, Staffing, TrainingCounts, direction_of_code_lengths},
        rotation::{Kind, Status},
        training::{EnrollmentStatus, ProgrammeKind},
    },
    error::{Error, Result},
};

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

/// The headcount of a population per group.
pub async fn headcounts(conn: &impl ConnectionTrait, p: &Population) -> Result<BTreeMap<String, i64>> {
    let (ctes, values) = population_ctes(p);
    let sql = format!("{ctes} SELECT grp, COUNT(*) AS n FROM population GROUP BY grp");
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    rows.iter().map(|r| Ok((r.try_get::<String>("", "grp")?, r.try_get::<i64>("", "n")?))).collect()
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

/// The enrolments of a population's people over `[start, end]`, per group, line kind
/// and level, with the figures of `TrainingFigures` (report.proto); only enrolments
/// under way in the period are returned.
pub async fn training_counts(
    conn: &impl ConnectionTrait,
    p: &Population,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<TrainingRow>> {
    let (ctes, mut values) = population_ctes(p);
    let enrolled = EnrollmentStatus::Enrolled.as_str();
    let completed = EnrollmentStatus::Completed.as_str();
    let dropped = EnrollmentStatus::Dropped.as_str();
    let failed = EnrollmentStatus::Failed.as_str();
    // Each enrolment's status at the end of the period is that of its latest change
    // dated on or before it (highest seq), as in GetTrainingPlanProgress. The flags are
    // computed in a CTE and summed, so that no grouped expression holds a parameter.
    let sql = format!(
        "{ctes}, \
         enrolment_state(grp, kind, scale_code, level_code, started_on, end_status, end_date) AS (\
           SELECT pp.grp, l.kind, l.scale_code, l.level_code, \
             (SELECT MIN(f.date) FROM enrollment_history f WHERE f.enrollment_id = e.id AND f.status = '{enrolled}'), \
             h.status, h.date \
           FROM enrollments e \
           JOIN population pp ON pp.id = e.person_id \
           JOIN target_lines l ON l.plan_id = e.plan_id AND l.line_id = e.line_id \
           JOIN enrollment_history h ON h.enrollment_id = e.id AND h.seq = (SELECT MAX(m.seq) \
             FROM enrollment_history m WHERE m.enrollment_id = e.id AND m.date <= ?)), \
         enrolment_flags(grp, kind, scale_code, level_code, started, completed, discontinued, in_progress) AS (\
           SELECT grp, kind, scale_code, level_code, \
             CASE WHEN started_on >= ? AND started_on <= ? THEN 1 ELSE 0 END, \
             CASE WHEN end_status = '{completed}' AND end_date >= ? THEN 1 ELSE 0 END, \
             CASE WHEN end_status IN ('{dropped}', '{failed}') AND end_date >= ? AND started_on IS NOT NULL \
               THEN 1 ELSE 0 END, \
             CASE WHEN end_status = '{enrolled}' THEN 1 ELSE 0 END \
           FROM enrolment_state) \
         SELECT grp, kind, scale_code, level_code, COUNT(*) AS under_way, SUM(started) AS started, \
           SUM(completed) AS completed, SUM(discontinued) AS discontinued, SUM(in_progress) AS in_progress \
         FROM enrolment_flags WHERE completed + discontinued + in_progress > 0 \
         GROUP BY grp, kind, scale_code, level_code"
    );
    values.extend([end.into(), start.into(), end.into(), start.into(), start.into()]);
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("", "kind")?;
            let scale: Option<String> = r.try_get("", "scale_code")?;
            let level: Option<String> = r.try_get("", "level_code")?;
            let sum = |column: &str| -> Result<i64> { Ok(r.try_get::<Option<i64>>("", column)?.unwrap_or_default()) };
            Ok(TrainingRow {
                group: r.try_get("", "grp")?,
                kind: ProgrammeKind::from_db(&kind).ok_or_else(|| corrupt("programme kind", &kind))?,
                level: scale.zip(level),
                counts: TrainingCounts {
                    under_way: r.try_get("", "under_way")?,
                    started: sum("started")?,
                    completed: sum("completed")?,
                    discontinued: sum("discontinued")?,
                    in_progress: sum("in_progress")?,
                },
            })
        })
        .collect()
}

/// The conditions a movement's unit `u`, in locality `t` of the tree, must meet to
/// put the movement in scope: the scope's sectors, tiers and tags. Their parameters
/// are appended to `values`.
fn unit_conditions(p: &Population, u: &str, t: &str, values: &mut Vec<Value>) -> String {
    let mut conditions = String::new();
    if !p.sectors.is_empty() {
        conditions.push_str(&format!(" AND {u}.sector IN ({})", placeholders(p.sectors.len())));
        values.extend(p.sectors.iter().map(|s| Value::from(s.as_str())));
    }
    if !p.tiers.is_empty() {
        conditions.push_str(&format!(" AND LENGTH({u}.locality_code) IN ({})", placeholders(p.tiers.len())));
        values.extend(p.tiers.iter().map(|t| Value::from(i32::try_from(t.code_len()).unwrap_or_default())));
    }
    if !p.tags.is_empty() {
        conditions.push_str(&format!(" AND {t}.tagged = 1"));
    }
    conditions
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
    let (ctes, mut values) = population_ctes(p);
    let source = unit_conditions(p, "su", "st", &mut values);
    let destination = unit_conditions(p, "du", "dt", &mut values);
    let mut person = String::new();
    values.extend([end.into(), start.into()]);
    if !p.categories.is_empty() {
        person.push_str(&format!(" AND pe.category IN ({})", placeholders(p.categories.len())));
        values.extend(p.categories.iter().map(|c| Value::from(c.as_str())));
    }
    if p.leaders_only {
        person.push_str(" AND r.destination_leader = ?");
        values.push(true.into());
    }
    let columns = "kind, status, promoted, source_len, destination_len";
    let mut sql = format!(
        "{ctes}, \
         moved(id, source_grp, destination_grp, kind, status, promoted, source_len, destination_len) AS (\
           SELECT r.id, st.grp, dt.grp, r.kind, r.status, CASE WHEN r.promoted THEN 1 ELSE 0 END, \
             LENGTH(su.locality_code), LENGTH(du.locality_code) \
           FROM rotations r \
           JOIN units su ON su.id = r.source_unit_id \
           JOIN units du ON du.id = r.destination_unit_id \
           JOIN people pe ON pe.id = r.person_id \
           LEFT JOIN tree st ON st.code = su.locality_code{source} \
           LEFT JOIN tree dt ON dt.code = du.locality_code{destination} \
           WHERE (st.code IS NOT NULL OR dt.code IS NOT NULL) AND r.start_date <= ? \
             AND (COALESCE(r.actual_end_date, r.planned_end_date) IS NULL \
               OR COALESCE(r.actual_end_date, r.planned_end_date) > ?){person}) \
         SELECT 0 AS per_group, '' AS grp, {columns}, COUNT(*) AS n FROM moved GROUP BY {columns}"
    );
    if p.by_child {
        // UNION (not ALL) keeps a movement once in a group holding both its units.
        sql.push_str(&format!(
            " UNION ALL SELECT 1, grp, {columns}, COUNT(*) FROM (\
               SELECT id, source_grp AS grp, {columns} FROM moved WHERE source_grp IS NOT NULL \
               UNION SELECT id, destination_grp, {columns} FROM moved WHERE destination_grp IS NOT NULL) g \
             GROUP BY grp, {columns}"
        ));
    }
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("", "kind")?;
            let status: String = r.try_get("", "status")?;
            let (source_len, destination_len): (i32, i32) =
                (r.try_get("", "source_len")?, r.try_get("", "destination_len")?);
            let direction = direction_of_code_lengths(
                usize::try_from(source_len).unwrap_or_default(),
                usize::try_from(destination_len).unwrap_or_default(),
            )
            .ok_or_else(|| corrupt("locality code length", &format!("{source_len} or {destination_len}")))?;
            let per_group: i32 = r.try_get("", "per_group")?;
            let group = (per_group == 1).then(|| r.try_get::<String>("", "grp")).transpose()?;
            Ok((
                group,
                MovementCount {
                    kind: Kind::from_db(&kind).ok_or_else(|| corrupt("movement kind", &kind))?,
                    direction,
                    status: Status::from_db(&status).ok_or_else(|| corrupt("movement status", &status))?,
                    promoted: r.try_get::<i32>("", "promoted")? == 1,
                    count: r.try_get("", "n")?,
                },
            ))
        })
        .collect()
}

/// The headcount of a population and the quotas of its scope, per group and category.
///
/// The quotas are those of the as-of date's year whose locality (a locality quota) or
/// whose unit's locality (a unit quota) lies in the tree, counted in that locality's
/// group, with a category and tier (of that locality) among the scope's, and, with
/// tags, a tagged locality. The scope's sectors and post filters do not apply to
/// quotas; the caller rejects them.
pub async fn staffing_counts(
    conn: &impl ConnectionTrait,
    p: &Population,
) -> Result<HashMap<(String, Category), Staffing>> {
    let (ctes, mut values) = population_ctes(p);
    let mut filters = String::new();
    values.push(p.as_of.year().into());
    if !p.categories.is_empty() {
        filters.push_str(&format!(" AND q.category IN ({})", placeholders(p.categories.len())));
        values.extend(p.categories.iter().map(|c| Value::from(c.as_str())));
    }
    if !p.tiers.is_empty() {
        filters.push_str(&format!(
            " AND LENGTH(COALESCE(q.locality_code, u.locality_code)) IN ({})",
            placeholders(p.tiers.len())
        ));
        values.extend(p.tiers.iter().map(|t| Value::from(i32::try_from(t.code_len()).unwrap_or_default())));
    }
    if !p.tags.is_empty() {
        filters.push_str(" AND t.tagged = 1");
    }
    let sql = format!(
        "{ctes} \
         SELECT 'heads' AS what, pp.grp AS grp, pp.category AS category, COUNT(*) AS n \
         FROM population pp GROUP BY pp.grp, pp.category \
         UNION ALL \
         SELECT 'quota', t.grp, q.category, SUM(q.quota) FROM staffing_quotas q \
         LEFT JOIN units u ON u.id = q.unit_id \
         JOIN tree t ON t.code = COALESCE(q.locality_code, u.locality_code) \
         WHERE q.year = ?{filters} GROUP BY t.grp, q.category"
    );
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    let mut counts: HashMap<(String, Category), Staffing> = HashMap::new();
    for r in &rows {
        let category: String = r.try_get("", "category")?;
        let category = Category::from_db(&category).ok_or_else(|| corrupt("category", &category))?;
        let n = r.try_get::<Option<i64>>("", "n")?.unwrap_or_default();
        let entry = counts.entry((r.try_get("", "grp")?, category)).or_default();
        if r.try_get::<String>("", "what")? == "heads" {
            entry.headcount += n;
        } else {
            entry.quota += n;
        }
    }
    Ok(counts)
}
