//! An enrolment's transitions (with the qualification a completed degree line
//! records) and its deletion. Both lock the plan `FOR SHARE` and find it open (a
//! transition: approved) in the transaction that writes.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use super::enrollments::{load_enrollment, plan_for};
use crate::{
    context::{Access, RequestContext},
    edge::{enums::Table as _, etag, names::TrainingPlanName},
    error::{Error, Result},
    people::queries as people,
    people::rules::person::QualificationFields,
    training::{
        queries::enrollments as queries,
        rules::{Enrollment, EnrollmentStatus, Outcome, Plan, ProgrammeKind, in_period},
        wire::{EnrollmentRef, TransitionEnrollment},
    },
    uow::{self, Done, Write},
};

/// The qualification a completed degree line records.
async fn recorded_qualification(
    conn: &impl ConnectionTrait,
    plan: &Plan,
    row: &Enrollment,
    day: NaiveDate,
) -> Result<Option<QualificationFields>> {
    let Some(line) = plan.line(&row.line_id) else { return Ok(None) };
    let (ProgrammeKind::Degree, Some((scale, level))) = (line.kind, line.level.clone()) else { return Ok(None) };
    let institution = match row.course_id {
        Some(course_id) => queries::course(conn, plan.id(), course_id).await?.map(|c| c.provider).unwrap_or_default(),
        None => String::new(),
    };
    Ok(Some(QualificationFields {
        scale,
        level,
        field_of_study: line.title.chars().take(200).collect(),
        institution: institution.chars().take(200).collect(),
        awarded_on: day,
    }))
}

/// Moves an enrolment of an approved plan to another status on a day within the
/// plan's period and not before its last transition. Completing a degree line
/// records the qualification it leads to; reverting a completion removes it.
pub async fn transition(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: TransitionEnrollment,
) -> Result<Enrollment> {
    let TransitionEnrollment { name, next, day, result, etag: given } = request;
    let write = Write::new("TransitionEnrollment");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let plan = plan_for(tx.conn(), tx.principal(), TrainingPlanName(name.parent), Access::Write).await?;
        plan.ensure_approved()?;
        let row = load_enrollment(tx.conn(), name).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if !row.status.can_become(next) {
            return Err(Error::precondition(
                name.to_string(),
                format!("an enrolment {} cannot become {}", row.status.stored(), next.stored()),
            ));
        }
        if !in_period(plan.period_start, plan.period_end, day) {
            return Err(Error::invalid("date", format!("{day} is outside the plan's period {}", plan.period())));
        }
        if let Some((_, last)) = row.history.last()
            && day < *last
        {
            return Err(Error::invalid("date", format!("{day} is before the last transition, on {last}")));
        }
        // Reopening a completed enrolment must not make a second open one on the line.
        if next.is_open()
            && !row.status.is_open()
            && let Some(open) =
                queries::open_enrollment(tx.conn(), plan.id(), &row.line_id, row.person.id(), Some(name.id)).await?
        {
            return Err(Error::precondition(
                name.to_string(),
                format!("{} already has an open enrolment in line `{}`: {open}", row.person, row.line_id),
            ));
        }
        let mut outcome =
            Outcome { grade: row.grade.clone(), distinction: row.distinction, qualification_id: row.qualification_id };
        if next == EnrollmentStatus::Completed {
            outcome.grade = result.as_ref().and_then(|(grade, _)| grade.clone());
            outcome.distinction = result.as_ref().is_some_and(|(_, distinction)| *distinction);
            if let Some(q) = recorded_qualification(tx.conn(), &plan, &row, day).await? {
                outcome.qualification_id = Some(people::insert_qualification(tx.conn(), row.person.id(), &q).await?);
            }
        } else if row.status == EnrollmentStatus::Completed {
            outcome = Outcome { grade: None, distinction: false, qualification_id: None };
        }
        if !queries::transition(tx.conn(), &row, next, day, &outcome).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        if row.status == EnrollmentStatus::Completed
            && let Some(q) = row.qualification_id
        {
            queries::delete_qualification(tx.conn(), row.person.id(), q).await?;
        }
        let moved = load_enrollment(tx.conn(), name).await?;
        let detail = json!({ "from": row.status.stored(), "to": next.stored(), "date": day.to_string() });
        tx.commit(Done::new(moved, name.to_string()).detail(detail)).await
    })
    .await
}

/// Deletes an enrolment of a plan that is not closed, with the qualification its
/// completion recorded.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: EnrollmentRef) -> Result<()> {
    let EnrollmentRef { name, etag: given } = request;
    let write = Write::new("DeleteEnrollment");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let plan = plan_for(tx.conn(), tx.principal(), TrainingPlanName(name.parent), Access::Write).await?;
        plan.ensure_open()?;
        let row = load_enrollment(tx.conn(), name).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if !queries::delete(tx.conn(), name.id, row.revision).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        if let Some(q) = row.qualification_id {
            queries::delete_qualification(tx.conn(), row.person.id(), q).await?;
        }
        let detail = json!({ "qualification": row.qualification_id });
        tx.commit(Done::new((), name.to_string()).detail(detail)).await
    })
    .await
}
