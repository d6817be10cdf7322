//! Enrolments: create one, many (all or nothing), or import a stream (each rejected
//! record named); get and list. Every create locks the plan `FOR SHARE`, finds it
//! approved and checks each enrolment in the transaction that writes it.

use std::collections::{BTreeMap, HashSet};

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use super::{
    authorize_plan,
    checks::{Problems, check_against_records, check_scope, draft},
    load, locked,
};
use crate::{
    context::{Access, Principal, RequestContext},
    edge::names::{EnrollmentName, TrainingPlanName},
    error::{Error, Result, Violation},
    policy::require_access,
    store::audit,
    training::{
        queries::{Lock, enrollments as queries},
        rules::{Enrollment, NewEnrollment, Plan},
        wire::{BatchCreateEnrollments, CreateEnrollment, EnrollmentRef, ImportRecord, ListEnrollments},
    },
    uow::{self, Begun, Done, Tx, Write},
};

/// Authorises the caller for `access` to a plan's enrolments and loads the plan
/// (NOT_FOUND when it does not exist); a write locks it `FOR SHARE` first.
pub(super) async fn plan_for(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    plan: TrainingPlanName,
    access: Access,
) -> Result<Plan> {
    authorize_plan(conn, principal, plan, access, access == Access::Read).await?;
    match access {
        Access::Read => load(conn, plan).await,
        Access::Write => locked(conn, plan, Lock::Share).await,
    }
}

/// The enrolment, NOT_FOUND when it does not exist.
pub(super) async fn load_enrollment(conn: &impl ConnectionTrait, name: EnrollmentName) -> Result<Enrollment> {
    queries::get(conn, name).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// Inserts checked enrolments; their names in order.
async fn insert_all(tx: &Tx<'_>, plan: &Plan, news: &[NewEnrollment]) -> Result<Vec<EnrollmentName>> {
    let mut names = Vec::with_capacity(news.len());
    for new in news {
        names.push(queries::insert(tx.conn(), plan.id(), new).await?);
    }
    Ok(names)
}

/// What the audit log names for enrolments written at once.
fn resource(plan: &Plan, names: &[EnrollmentName]) -> String {
    match names {
        [name] => name.to_string(),
        _ => format!("{}/enrollments ({} created)", plan.name, names.len()),
    }
}

/// Enrols a person in a line of an approved plan.
pub async fn create(db: &DatabaseConnection, ctx: &RequestContext, request: CreateEnrollment) -> Result<Enrollment> {
    let CreateEnrollment { plan: plan_name, enrollment, key } = request;
    let write = Write::new("CreateEnrollment").idempotent(key);
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            // The enrolment the first request made (it may have been deleted since).
            Begun::Replay(tx, resource) => {
                let replayed = replayed(&tx, &resource).await;
                return tx.replay(replayed).await;
            }
            Begun::Fresh(tx) => tx,
        };
        let plan = plan_for(tx.conn(), tx.principal(), plan_name, Access::Write).await?;
        plan.ensure_approved()?;
        let mut problems = Problems::default();
        let new = draft(&mut problems, enrollment.as_ref(), "enrollment", &plan);
        check_scope(tx.conn(), tx.principal(), &mut problems).await?;
        if let Some(new) = &new
            && problems.is_empty()
        {
            check_against_records(tx.conn(), tx.principal(), &plan, new, "enrollment", &mut problems).await?;
        }
        problems.into_error()?;
        let new = new.ok_or_else(|| Error::invalid("enrollment", "is required"))?;
        let names = insert_all(&tx, &plan, std::slice::from_ref(&new)).await?;
        let name = *names.first().ok_or_else(|| Error::internal("no enrolment created"))?;
        let created = load_enrollment(tx.conn(), name).await?;
        let detail = json!({ "enrollments": names.len() });
        tx.commit(Done::new(created, resource(&plan, &names)).detail(detail)).await
    })
    .await
}

/// The enrolment a replayed create made, if the caller may still see it.
async fn replayed(tx: &Tx<'_>, resource: &str) -> Result<Enrollment> {
    let name = EnrollmentName::parse(resource).map_err(Error::internal)?;
    authorize_plan(tx.conn(), tx.principal(), TrainingPlanName(name.parent), Access::Write, false).await?;
    load_enrollment(tx.conn(), name).await
}

/// Gets an enrolment.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: EnrollmentRef) -> Result<Enrollment> {
    plan_for(db, &ctx.principal, TrainingPlanName(request.name.parent), Access::Read).await?;
    let enrollment = load_enrollment(db, request.name).await?;
    audit::read_one(db, ctx, "GetEnrollment", request.name).await?;
    Ok(enrollment)
}

/// Lists the enrolments of a plan, filtered, one page at a time, by id; with the
/// token of the next page.
pub async fn list(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: ListEnrollments,
) -> Result<(Vec<Enrollment>, String)> {
    let asked = audit::query(&request);
    let ListEnrollments { plan, conditions, page } = request;
    plan_for(db, &ctx.principal, plan, Access::Read).await?;
    let after = page.after_id().map_err(|e| Error::invalid("page_token", e))?;
    let rows = queries::list(db, plan.id(), &conditions, after, page.fetch()).await?;
    let cut = page.cut(rows, |e| vec![e.name.id.to_string()]);
    audit::read_many(db, ctx, "ListEnrollments", format!("{plan}/enrollments"), &asked, Some(cut.0.len())).await?;
    Ok(cut)
}

/// Enrols several people at once: all or nothing, each violation named by its
/// position in the batch.
pub async fn batch_create(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: BatchCreateEnrollments,
) -> Result<Vec<Enrollment>> {
    let BatchCreateEnrollments { plan: plan_name, enrollments } = request;
    let write = Write::new("BatchCreateEnrollments");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let plan = plan_for(tx.conn(), tx.principal(), plan_name, Access::Write).await?;
        plan.ensure_approved()?;
        let mut problems = Problems::default();
        let mut news = Vec::with_capacity(enrollments.len());
        let mut seen: HashSet<(i64, String)> = HashSet::new();
        for (i, given) in enrollments.iter().enumerate() {
            let path = format!("requests[{i}].enrollment");
            let mut own = Problems::default();
            let new = draft(&mut own, given.as_ref(), &path, &plan);
            check_scope(tx.conn(), tx.principal(), &mut own).await?;
            if let Some(new) = &new {
                if !seen.insert((new.person.id(), new.line_id.clone())) {
                    own.twice(&path, new, "batch");
                }
                if own.is_empty() {
                    check_against_records(tx.conn(), tx.principal(), &plan, new, &path, &mut own).await?;
                }
            }
            problems.absorb(own);
            news.extend(new);
        }
        problems.into_error()?;
        let names = insert_all(&tx, &plan, &news).await?;
        let mut created = Vec::with_capacity(names.len());
        for name in &names {
            created.push(load_enrollment(tx.conn(), *name).await?);
        }
        let detail = json!({ "enrollments": names.len() });
        tx.commit(Done::new(created, resource(&plan, &names)).detail(detail)).await
    })
    .await
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// How many enrolments were written (all, or none when any was rejected).
    pub imported: usize,
    /// The violations of each rejected record, by its index in the stream.
    pub rejected: BTreeMap<usize, Vec<Violation>>,
}

/// Checks that the caller may write at all, before an import's stream is read.
pub fn check_importer(ctx: &RequestContext) -> Result<()> {
    require_access(&ctx.principal, Access::Write)
}

/// Checks that the caller may import into `plan` and that it takes enrolments, as
/// soon as the first message names it, before the rest of the stream is read (an
/// early refusal; the import checks all of it again in its transaction).
pub async fn authorize_import(db: &DatabaseConnection, ctx: &RequestContext, plan: TrainingPlanName) -> Result<()> {
    authorize_plan(db, &ctx.principal, plan, Access::Write, false).await?;
    load(db, plan).await?.ensure_approved()
}

/// Imports enrolments into an approved plan: every record is checked; if any is
/// rejected nothing is written and each rejected record is named with its violations.
pub async fn import(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    plan_name: TrainingPlanName,
    records: Vec<ImportRecord>,
) -> Result<Imported> {
    let write = Write::new("ImportEnrollments");
    let parent = plan_name.to_string();
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let plan = plan_for(tx.conn(), tx.principal(), plan_name, Access::Write).await?;
        plan.ensure_approved()?;
        let mut rejected: BTreeMap<usize, Vec<Violation>> = BTreeMap::new();
        let mut news = Vec::with_capacity(records.len());
        let mut seen: HashSet<(i64, String)> = HashSet::new();
        for (index, record) in records.iter().enumerate() {
            let mut own = Problems::default();
            if record.parent != parent {
                own.invalid_parent(&parent);
            }
            let new = draft(&mut own, record.enrollment.as_ref(), "", &plan);
            check_scope(tx.conn(), tx.principal(), &mut own).await?;
            if let Some(new) = &new {
                if !seen.insert((new.person.id(), new.line_id.clone())) {
                    own.twice("", new, "import");
                }
                if own.is_empty() {
                    check_against_records(tx.conn(), tx.principal(), &plan, new, "", &mut own).await?;
                }
            }
            if !own.is_empty() {
                rejected.insert(index, own.into_violations(tx.principal()));
            }
            news.extend(new);
        }
        if !rejected.is_empty() || news.is_empty() {
            // Nothing is written: the transaction is dropped, which rolls it back.
            return Ok(Imported { imported: 0, rejected });
        }
        let names = insert_all(&tx, &plan, &news).await?;
        let detail = json!({ "enrollments": names.len() });
        tx.commit(Done::new(Imported { imported: names.len(), rejected }, resource(&plan, &names)).detail(detail)).await
    })
    .await
}
