//! The demo's planning records go in through the gRPC handlers themselves, called in
//! process as the demo loader (a national admin): every check a client's request
//! meets (fields, scope, the rules of plans, enrolments, movements, pools and quotas,
//! which partly live in the handlers) holds for the demo data too, and every write is
//! audited and keeps the person facts in step, as through the network.

use std::future::Future;

use anyhow::Context as _;
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::{
    context::RequestContext,
    edge::request::to_date,
    grpc::pb,
    movements::RotationApi,
    reports::usecases::Reports,
    staffing::StaffingApi,
    standards::StandardApi,
    succession::SuccessionPoolApi,
    training::{EnrollmentApi, TrainingPlanApi},
};

/// The services the demo writes through.
#[derive(Debug, Clone)]
pub struct Services {
    /// StandardService.
    pub standards: StandardApi,
    /// TrainingPlanService.
    pub plans: TrainingPlanApi,
    /// EnrollmentService.
    pub enrollments: EnrollmentApi,
    /// RotationService.
    pub rotations: RotationApi,
    /// StaffingService.
    pub staffing: StaffingApi,
    /// SuccessionPoolService.
    pub pools: SuccessionPoolApi,
}

impl Services {
    /// The services over `db`.
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            standards: StandardApi::new(db.clone()),
            plans: TrainingPlanApi::new(db.clone()),
            enrollments: EnrollmentApi::new(db.clone()),
            rotations: RotationApi::new(db.clone()),
            staffing: StaffingApi::new(Reports::by_sql(db.clone())),
            pools: SuccessionPoolApi::new(db.clone()),
        }
    }
}

/// Calls `handler` with `message` as the caller of `ctx`; an error names `what` was
/// being done and carries the status the handler answered.
pub async fn call<M, R, F, Fut>(
    ctx: &RequestContext,
    what: impl FnOnce() -> String,
    message: M,
    handler: F,
) -> anyhow::Result<R>
where
    F: FnOnce(Request<M>) -> Fut,
    Fut: Future<Output = Result<Response<R>, Status>>,
{
    let mut request = Request::new(message);
    request.extensions_mut().insert(ctx.clone());
    match handler(request).await {
        Ok(response) => Ok(response.into_inner()),
        Err(status) => Err(anyhow::anyhow!("{}: {:?}: {}", what(), status.code(), status.message())),
    }
}

/// The wire date of `day`.
pub fn date(day: NaiveDate) -> Option<pb::Date> {
    Some(to_date(day))
}

/// The wire value of an enum given in a data file by its stored name (`civil_servant`)
/// and the prefix of its proto values (`PERSON_CATEGORY`): `PERSON_CATEGORY_CIVIL_SERVANT`.
pub fn wire_enum<E: Into<i32>>(prefix: &str, name: &str, from_str_name: fn(&str) -> Option<E>) -> anyhow::Result<i32> {
    let full = format!("{prefix}_{}", name.to_uppercase());
    from_str_name(&full).map(Into::into).with_context(|| format!("demo data: `{name}` is not a value of {prefix}"))
}
