//! Courses of a plan: create, get, list, update, delete. Each write locks its plan
//! `FOR SHARE` and finds it open in the same transaction.

use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{authorize_plan, load, locked};
use crate::{
    context::{Access, RequestContext},
    edge::{etag, names::CourseName},
    error::{Error, Result},
    training::{
        queries::{Lock, courses as queries},
        rules::{Course, course_violations},
        wire::{CourseRef, CreateCourse, ListCourses, UpdateCourse},
    },
    uow::{self, Begun, Done, Tx, Write},
};

async fn load_course(conn: &impl sea_orm::ConnectionTrait, name: CourseName) -> Result<Course> {
    queries::get(conn, name).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// Creates a course of a plan that is not closed.
pub async fn create(db: &DatabaseConnection, ctx: &RequestContext, request: CreateCourse) -> Result<Course> {
    let CreateCourse { plan: plan_name, fields, key } = request;
    let write = Write::new("CreateCourse").idempotent(key);
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            Begun::Replay(tx, resource) => {
                let course = replayed(&tx, &resource).await;
                return tx.replay(course).await;
            }
            Begun::Fresh(tx) => tx,
        };
        authorize_plan(tx.conn(), tx.principal(), plan_name, Access::Write, false).await?;
        let plan = locked(tx.conn(), plan_name, Lock::Share).await?;
        plan.ensure_open()?;
        let violations = course_violations(&plan, &fields, "course");
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        let name = queries::insert(tx.conn(), plan.id(), &fields).await?;
        let course = load_course(tx.conn(), name).await?;
        let detail = json!({ "line_id": fields.line_id, "start_date": fields.start_date, "end_date": fields.end_date });
        tx.commit(Done::new(course, name.to_string()).detail(detail)).await
    })
    .await
}

/// The course a replayed create made, if the caller may still see it.
async fn replayed(tx: &Tx<'_>, resource: &str) -> Result<Course> {
    let name = CourseName::parse(resource).map_err(Error::internal)?;
    authorize_plan(tx.conn(), tx.principal(), crate::edge::names::TrainingPlanName(name.parent), Access::Write, false)
        .await?;
    load_course(tx.conn(), name).await
}

/// Gets a course.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: CourseRef) -> Result<Course> {
    let plan = crate::edge::names::TrainingPlanName(request.name.parent);
    authorize_plan(db, &ctx.principal, plan, Access::Read, false).await?;
    load_course(db, request.name).await
}

/// Lists the courses of a plan, one page at a time, by id; with the token of the
/// next page.
pub async fn list(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: ListCourses,
) -> Result<(Vec<Course>, String)> {
    let ListCourses { plan, page } = request;
    authorize_plan(db, &ctx.principal, plan, Access::Read, false).await?;
    load(db, plan).await?;
    let after = page.after_id().map_err(|e| Error::invalid("page_token", e))?;
    let courses = queries::list(db, plan.id(), after, page.fetch()).await?;
    Ok(page.cut(courses, |c| vec![c.name.id.to_string()]))
}

/// Updates a course of a plan that is not closed.
pub async fn update(db: &DatabaseConnection, ctx: &RequestContext, request: UpdateCourse) -> Result<Course> {
    let UpdateCourse { name, etag: given, changes } = request;
    let plan_name = crate::edge::names::TrainingPlanName(name.parent);
    let write = Write::new("UpdateCourse");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_plan(tx.conn(), tx.principal(), plan_name, Access::Write, false).await?;
        crate::training::queries::plans::lock(tx.conn(), plan_name.id(), Lock::Share).await?;
        let course = load_course(tx.conn(), name).await?;
        etag::check(&given, course.revision, &name.to_string())?;
        let plan = load(tx.conn(), plan_name).await?;
        plan.ensure_open()?;
        let fields = changes.apply(&course.fields);
        let violations = course_violations(&plan, &fields, "course");
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        if !queries::update(tx.conn(), name.id, course.revision, &fields).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        let updated = load_course(tx.conn(), name).await?;
        let detail = json!({
            "start_date": fields.start_date,
            "end_date": fields.end_date,
            "sessions": fields.sessions.len(),
        });
        tx.commit(Done::new(updated, name.to_string()).detail(detail)).await
    })
    .await
}

/// Deletes a course of a plan that is not closed, when no enrolment refers to it.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: CourseRef) -> Result<()> {
    let CourseRef { name, etag: given } = request;
    let plan_name = crate::edge::names::TrainingPlanName(name.parent);
    let write = Write::new("DeleteCourse");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_plan(tx.conn(), tx.principal(), plan_name, Access::Write, false).await?;
        crate::training::queries::plans::lock(tx.conn(), plan_name.id(), Lock::Share).await?;
        let course = load_course(tx.conn(), name).await?;
        etag::check(&given, course.revision, &name.to_string())?;
        load(tx.conn(), plan_name).await?.ensure_open()?;
        let enrolments = queries::enrollment_count(tx.conn(), name.id).await?;
        if enrolments > 0 {
            return Err(Error::precondition(name.to_string(), format!("{enrolments} enrolment(s) refer to it")));
        }
        queries::delete(tx.conn(), name.id).await?;
        let detail = json!({ "line_id": course.fields.line_id, "revision": course.revision });
        tx.commit(Done::new((), name.to_string()).detail(detail)).await
    })
    .await
}
