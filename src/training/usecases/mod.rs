//! What TrainingPlanService and EnrollmentService do: each use case checks the
//! caller's access and the rules, and writes through the unit of work, so that every
//! check that reads the database runs in the transaction that writes.
//!
//! A plan is in a caller's scope when its owner locality is; scope is judged before
//! existence. Every write of a plan's content locks the plan first
//! ([`queries::plans::lock`]): `FOR SHARE` for courses and enrolments, `FOR UPDATE`
//! for the plan's own changes (its status, period, lines), so that "a closed plan
//! accepts no change" ([`Plan::ensure_open`]) is read in the transaction that writes
//! and still holds at its commit.
//!
//! - [`plans`]: plans, their approval and closing, progress;
//! - [`courses`]: courses of a plan;
//! - [`enrollments`]: enrolments, one at a time, in batches and imported;
//! - [`transitions`]: an enrolment's transitions and deletion.

mod checks;
pub mod courses;
pub mod enrollments;
pub mod plans;
pub mod transitions;

use sea_orm::ConnectionTrait;

use super::{
    queries::{self, Lock},
    rules::Plan,
};
use crate::{
    context::{Access, Principal, Role, Scope},
    edge::names::TrainingPlanName,
    error::{Error, Result},
    policy::{authorize, require_access},
};

/// Checks that the caller may have `access` to a training plan, judged by its owner
/// locality; personal data in it (enrolments) additionally needs `personal` access.
/// A plan that does not exist is outside every local scope (scope before existence).
pub async fn authorize_plan(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    plan: TrainingPlanName,
    access: Access,
    personal: bool,
) -> Result<()> {
    if personal && !principal.has_role(Role::PersonalDataReader) && access == Access::Read {
        return Err(Error::PermissionDenied("reading enrolments needs the personal_data_reader role".to_owned()));
    }
    match queries::plans::owner(conn, plan.id()).await? {
        Some(owner) => authorize(conn, principal, &owner, access).await,
        None => {
            require_access(principal, access)?;
            match principal.scope {
                Scope::National => Ok(()),
                Scope::Localities(_) => {
                    Err(Error::PermissionDenied(format!("{plan} is outside the caller's locality scope")))
                }
            }
        }
    }
}

/// The plan, NOT_FOUND when it does not exist.
async fn load(conn: &impl ConnectionTrait, name: TrainingPlanName) -> Result<Plan> {
    queries::plans::get(conn, name.id()).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// The plan a write is about, locked with `lock` before it is read (see the module
/// comment); NOT_FOUND when it does not exist.
async fn locked(conn: &impl ConnectionTrait, name: TrainingPlanName, lock: Lock) -> Result<Plan> {
    queries::plans::lock(conn, name.id(), lock).await?;
    load(conn, name).await
}
