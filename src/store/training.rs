//! Training plans: the reads both training services share.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, QueryResult};

use super::stmt;
use crate::{
    domain::{
        locality::{Code, Tier},
        person::Category,
        training::{PlanStatus, ProgrammeKind},
    },
    error::{Error, Result},
};

/// A target line as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRecord {
    /// Identifier within the plan.
    pub line_id: String,
    /// Title.
    pub title: String,
    /// Degree or refresher.
    pub kind: ProgrammeKind,
    /// The level a degree line leads to: (scale, level).
    pub level: Option<(String, String)>,
    /// The topic of a refresher line.
    pub topic: Option<String>,
    /// Audience tier.
    pub audience_tier: Option<Tier>,
    /// Audience category.
    pub audience_category: Option<Category>,
    /// Leaders only.
    pub leaders_only: bool,
    /// Target enrolments.
    pub target: i32,
    /// Budget in đồng.
    pub budget_vnd: Option<i64>,
}

/// A plan with its lines, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRecord {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Owner locality.
    pub owner: Code,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// First day after the period.
    pub period_end: NaiveDate,
    /// Legal basis: document number.
    pub document_number: String,
    /// Legal basis: date issued.
    pub issued_on: NaiveDate,
    /// Status.
    pub status: PlanStatus,
    /// Lines in plan order.
    pub lines: Vec<LineRecord>,
    /// Revision (etag).
    pub revision: i64,
    /// Created.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

impl PlanRecord {
    /// The resource name, `trainingPlans/{id}`.
    pub fn name(&self) -> String {
        plan_name(self.id)
    }

    /// The line with this id.
    pub fn line(&self, line_id: &str) -> Option<&LineRecord> {
        self.lines.iter().find(|l| l.line_id == line_id)
    }

    /// FAILED_PRECONDITION unless the plan may still change.
    pub fn ensure_open(&self) -> Result<()> {
        if self.status == PlanStatus::Closed {
            Err(Error::precondition(self.name(), "the plan is closed and accepts no change"))
        } else {
            Ok(())
        }
    }
}

/// The resource name of a plan.
pub fn plan_name(id: i64) -> String {
    format!("trainingPlans/{id}")
}

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

fn line_of(row: &QueryResult) -> Result<LineRecord> {
    let kind: String = row.try_get("", "kind")?;
    let scale: Option<String> = row.try_get("", "scale_code")?;
    let level: Option<String> = row.try_get("", "level_code")?;
    let tier: Option<String> = row.try_get("", "audience_tier")?;
    let category: Option<String> = row.try_get("", "audience_category")?;
    Ok(LineRecord {
        line_id: row.try_get("", "line_id")?,
        title: row.try_get("", "title")?,
        kind: ProgrammeKind::from_db(&kind).ok_or_else(|| corrupt("programme kind", &kind))?,
        level: scale.zip(level),
        topic: row.try_get("", "topic")?,
        audience_tier: tier.map(|t| Tier::from_db(&t).ok_or_else(|| corrupt("tier", &t))).transpose()?,
        audience_category: category
            .map(|c| Category::from_db(&c).ok_or_else(|| corrupt("category", &c)))
            .transpose()?,
        leaders_only: row.try_get("", "leaders_only")?,
        target: row.try_get("", "target")?,
        budget_vnd: row.try_get("", "budget_vnd")?,
    })
}

/// Loads a plan with its lines.
pub async fn load_plan(conn: &impl ConnectionTrait, id: i64) -> Result<Option<PlanRecord>> {
    let backend = conn.get_database_backend();
    let Some(row) = conn
        .query_one_raw(stmt(
            backend,
            "SELECT id, title, owner_code, period_start, period_end, document_number, issued_on, status, revision, \
             create_time, update_time FROM training_plans WHERE id = ?",
            vec![id.into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    let status: String = row.try_get("", "status")?;
    let lines = conn
        .query_all_raw(stmt(
            backend,
            "SELECT line_id, title, kind, scale_code, level_code, topic, audience_tier, audience_category, \
             leaders_only, target, budget_vnd FROM target_lines WHERE plan_id = ? ORDER BY position",
            vec![id.into()],
        ))
        .await?
        .iter()
        .map(line_of)
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(PlanRecord {
        id: row.try_get("", "id")?,
        title: row.try_get("", "title")?,
        owner: Code::from_db(row.try_get("", "owner_code")?),
        period_start: row.try_get("", "period_start")?,
        period_end: row.try_get("", "period_end")?,
        document_number: row.try_get("", "document_number")?,
        issued_on: row.try_get("", "issued_on")?,
        status: PlanStatus::from_db(&status).ok_or_else(|| corrupt("plan status", &status))?,
        lines,
        revision: row.try_get("", "revision")?,
        create_time: row.try_get("", "create_time")?,
        update_time: row.try_get("", "update_time")?,
    }))
}

/// The owner of a plan, for the scope check (which comes before existence).
pub async fn plan_owner(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Code>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT owner_code FROM training_plans WHERE id = ?",
            vec![id.into()],
        ))
        .await?;
    row.map(|r| Ok(Code::from_db(r.try_get("", "owner_code")?))).transpose()
}
