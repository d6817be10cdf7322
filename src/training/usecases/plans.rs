//! Plans: create, get, list, update, delete, approve, close, and their progress.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use super::{authorize_plan, load, locked};
use crate::{
    context::{Access, RequestContext},
    edge::{enums::Table as _, etag, names::TrainingPlanName},
    error::{Error, Result, RuleViolation, Violation},
    policy::authorize,
    training::{
        queries::{
            Lock,
            plans::{self as queries, PlanFields},
        },
        rules::{Line, Plan, PlanStatus, StatusCount, line_replacement_violations},
        wire::{CreatePlan, GetProgress, ListPlans, PlanRef, UpdatePlan},
    },
    uow::{self, Begun, Done, Tx, Write},
};

fn lines_detail(lines: &[Line]) -> serde_json::Value {
    json!(
        lines
            .iter()
            .map(|l| json!({"line_id": l.line_id, "kind": l.kind.stored(), "target": l.target}))
            .collect::<Vec<_>>()
    )
}

/// Creates a plan in DRAFT whose owner exists and whose degree lines lead to levels
/// that exist.
pub async fn create(db: &DatabaseConnection, ctx: &RequestContext, request: CreatePlan) -> Result<Plan> {
    let CreatePlan { new, key } = request;
    let write = Write::new("CreateTrainingPlan").idempotent(key);
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            // The plan the first request made (it may have been deleted since).
            Begun::Replay(tx, resource) => {
                let plan = replayed(&tx, &resource).await;
                return tx.replay(plan).await;
            }
            Begun::Fresh(tx) => tx,
        };
        authorize(tx.conn(), tx.principal(), &new.owner, Access::Write).await?;
        let mut violations = Vec::new();
        if !queries::locality_exists(tx.conn(), &new.owner).await? {
            violations.push(Violation::new("training_plan.owner", format!("{} does not exist", new.owner.name())));
        }
        violations.extend(queries::missing_levels(tx.conn(), &new.lines, "training_plan").await?);
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        let name = TrainingPlanName(queries::insert(tx.conn(), &new).await?);
        let plan = load(tx.conn(), name).await?;
        let detail = json!({
            "owner": new.owner.name(),
            "period_start": new.period_start,
            "period_end": new.period_end,
            "lines": lines_detail(&new.lines),
        });
        tx.commit(Done::new(plan, name.to_string()).detail(detail)).await
    })
    .await
}

/// The plan a replayed create made, if the caller may still see it.
async fn replayed(tx: &Tx<'_>, resource: &str) -> Result<Plan> {
    let name = TrainingPlanName::parse(resource).map_err(Error::internal)?;
    authorize_plan(tx.conn(), tx.principal(), name, Access::Write, false).await?;
    load(tx.conn(), name).await
}

/// Gets a plan.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: PlanRef) -> Result<Plan> {
    authorize_plan(db, &ctx.principal, request.name, Access::Read, false).await?;
    load(db, request.name).await
}

/// Lists the plans of a locality's subtree, one page at a time, by id; with the token
/// of the next page.
pub async fn list(db: &DatabaseConnection, ctx: &RequestContext, request: ListPlans) -> Result<(Vec<Plan>, String)> {
    let ListPlans { owner, page } = request;
    authorize(db, &ctx.principal, &owner, Access::Read).await?;
    if !queries::locality_exists(db, &owner).await? {
        return Err(Error::NotFound(owner.name()));
    }
    let after = page.after_id().map_err(|e| Error::invalid("page_token", e))?;
    let plans = queries::list(db, &owner, after, page.fetch()).await?;
    Ok(page.cut(plans, |p| vec![p.id().to_string()]))
}

/// Why a new period `[start, end)` cannot hold what the plan already has.
async fn period_violations(
    conn: &impl ConnectionTrait,
    plan: &Plan,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
) -> Result<Vec<RuleViolation>> {
    let mut violations = Vec::new();
    let outside = queries::history_outside(conn, plan.id(), start, end).await?;
    if outside > 0 {
        violations.push(RuleViolation {
            subject: plan.name.to_string(),
            description: format!(
                "{outside} enrolment status change(s) would lie outside the new period [{start}, {end})"
            ),
        });
    }
    let courses = queries::courses_outside(conn, plan.id(), start, end).await?;
    if courses > 0 {
        violations.push(RuleViolation {
            subject: plan.name.to_string(),
            description: format!("{courses} course(s) would lie outside the new period [{start}, {end})"),
        });
    }
    Ok(violations)
}

/// Updates a plan that is not closed: its title, period, legal basis or lines. The
/// plan is locked for update first, so that no enrolment or course is written into
/// it meanwhile.
pub async fn update(db: &DatabaseConnection, ctx: &RequestContext, request: UpdatePlan) -> Result<Plan> {
    let UpdatePlan { name, etag: given, changes } = request;
    let write = Write::new("UpdateTrainingPlan");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_plan(tx.conn(), tx.principal(), name, Access::Write, false).await?;
        let plan = locked(tx.conn(), name, Lock::Update).await?;
        etag::check(&given, plan.revision, &name.to_string())?;
        plan.ensure_open()?;
        let start = changes.period_start.unwrap_or(plan.period_start);
        let end = changes.period_end.unwrap_or(plan.period_end);
        if start >= end {
            let field =
                if changes.period_end.is_some() { "training_plan.period_end" } else { "training_plan.period_start" };
            return Err(Error::invalid(field, format!("the period would end ({end}) before it starts ({start})")));
        }
        if let Some(lines) = &changes.lines {
            let missing = queries::missing_levels(tx.conn(), lines, "training_plan").await?;
            if !missing.is_empty() {
                return Err(Error::InvalidArgument(missing));
            }
            let enrolled = queries::enrolled_lines(tx.conn(), plan.id()).await?;
            let with_courses = queries::course_lines(tx.conn(), plan.id()).await?;
            let violations =
                line_replacement_violations(&name.to_string(), &plan.lines, lines, &enrolled, &with_courses);
            if !violations.is_empty() {
                return Err(Error::FailedPrecondition(violations));
            }
        }
        if (start, end) != (plan.period_start, plan.period_end) {
            let violations = period_violations(tx.conn(), &plan, start, end).await?;
            if !violations.is_empty() {
                return Err(Error::FailedPrecondition(violations));
            }
        }
        let (document_number, issued_on) =
            changes.legal_basis.clone().unwrap_or_else(|| (plan.document_number.clone(), plan.issued_on));
        let fields = PlanFields {
            title: changes.title.clone().unwrap_or_else(|| plan.title.clone()),
            period_start: start,
            period_end: end,
            document_number,
            issued_on,
        };
        if !queries::update(tx.conn(), plan.id(), plan.revision, &fields, changes.lines.as_deref()).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        let updated = load(tx.conn(), name).await?;
        let detail = json!({
            "title": changes.title,
            "period_start": changes.period_start,
            "period_end": changes.period_end,
            "legal_basis": changes.legal_basis.as_ref().map(|(n, d)| json!({"document_number": n, "issued_on": d})),
            "lines": changes.lines.as_deref().map(lines_detail),
        });
        tx.commit(Done::new(updated, name.to_string()).detail(detail)).await
    })
    .await
}

/// Deletes a draft plan that has no enrolment (its lines and courses go with it).
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: PlanRef) -> Result<()> {
    let PlanRef { name, etag: given } = request;
    let write = Write::new("DeleteTrainingPlan");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_plan(tx.conn(), tx.principal(), name, Access::Write, false).await?;
        let plan = locked(tx.conn(), name, Lock::Update).await?;
        etag::check(&given, plan.revision, &name.to_string())?;
        if plan.status != PlanStatus::Draft {
            return Err(Error::precondition(
                name.to_string(),
                format!("only a draft plan can be deleted; it is {}", plan.status.stored()),
            ));
        }
        let enrolments = queries::enrollment_count(tx.conn(), plan.id()).await?;
        if enrolments > 0 {
            return Err(Error::precondition(name.to_string(), format!("{enrolments} enrolment(s) refer to it")));
        }
        queries::delete(tx.conn(), plan.id()).await?;
        let detail = json!({ "owner": plan.owner.name(), "revision": plan.revision });
        tx.commit(Done::new((), name.to_string()).detail(detail)).await
    })
    .await
}

/// Approves a draft plan.
pub async fn approve(db: &DatabaseConnection, ctx: &RequestContext, request: PlanRef) -> Result<Plan> {
    change_status(db, ctx, request, PlanStatus::Draft, PlanStatus::Approved, "ApproveTrainingPlan").await
}

/// Closes an approved plan. The plan is locked for update, so the close waits for
/// every enrolment or course being written into it, and sees them.
pub async fn close(db: &DatabaseConnection, ctx: &RequestContext, request: PlanRef) -> Result<Plan> {
    change_status(db, ctx, request, PlanStatus::Approved, PlanStatus::Closed, "CloseTrainingPlan").await
}

async fn change_status(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: PlanRef,
    from: PlanStatus,
    to: PlanStatus,
    method: &'static str,
) -> Result<Plan> {
    let PlanRef { name, etag: given } = request;
    let write = Write::new(method);
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_plan(tx.conn(), tx.principal(), name, Access::Write, false).await?;
        let plan = locked(tx.conn(), name, Lock::Update).await?;
        etag::check(&given, plan.revision, &name.to_string())?;
        if plan.status != from {
            return Err(Error::precondition(
                name.to_string(),
                format!(
                    "the plan is {}; only a {} plan can become {}",
                    plan.status.stored(),
                    from.stored(),
                    to.stored()
                ),
            ));
        }
        if !queries::set_status(tx.conn(), plan.id(), plan.revision, to).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        let updated = load(tx.conn(), name).await?;
        // The enrolments the plan holds as it changes status (read under the plan's
        // lock, so none is still being written): what a closed plan closed with.
        let enrollments = queries::enrollment_count(tx.conn(), plan.id()).await?;
        let detail = json!({ "from": from.stored(), "to": to.stored(), "enrollments": enrollments });
        tx.commit(Done::new(updated, name.to_string()).detail(detail)).await
    })
    .await
}

/// A plan with the counts of its enrolments per line and status at the end of a day
/// (the arithmetic of progress is [`crate::training::rules::progress`]).
pub async fn progress(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: GetProgress,
) -> Result<(Plan, Vec<StatusCount>)> {
    let GetProgress { name, as_of } = request;
    authorize_plan(db, &ctx.principal, name, Access::Read, false).await?;
    let plan = load(db, name).await?;
    let counts = queries::status_counts(db, plan.id(), as_of).await?;
    Ok((plan, counts))
}
