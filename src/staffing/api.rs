//! StaffingService over gRPC: each handler converts the request, calls one use case
//! and converts the answer back.

use tonic::{Request, Response, Status};

use super::{usecases, wire::GetHeadcount};
use crate::{
    context::RequestContext,
    edge::request::to_date,
    grpc::pb::{self, staffing_service_server::StaffingService},
    reports::usecases::Reports,
};

/// The StaffingService implementation.
#[derive(Debug, Clone)]
pub struct StaffingApi {
    /// The database, and what GetHeadcount counts a subtree with: the report snapshot
    /// and engine.
    reports: Reports,
}

impl StaffingApi {
    /// A service over `reports`' database, counting subtrees with its engine if any.
    pub fn new(reports: Reports) -> Self {
        Self { reports }
    }
}

#[tonic::async_trait]
impl StaffingService for StaffingApi {
    async fn create_staffing_quota(
        &self,
        request: Request<pb::CreateStaffingQuotaRequest>,
    ) -> Result<Response<pb::CreateStaffingQuotaResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let quota = usecases::create(&self.reports.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateStaffingQuotaResponse { staffing_quota: Some((&quota).into()) }))
    }

    async fn get_staffing_quota(
        &self,
        request: Request<pb::GetStaffingQuotaRequest>,
    ) -> Result<Response<pb::GetStaffingQuotaResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let quota = usecases::get(&self.reports.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetStaffingQuotaResponse { staffing_quota: Some((&quota).into()) }))
    }

    async fn list_staffing_quotas(
        &self,
        request: Request<pb::ListStaffingQuotasRequest>,
    ) -> Result<Response<pb::ListStaffingQuotasResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (quotas, next_page_token) =
            usecases::list(&self.reports.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListStaffingQuotasResponse {
            staffing_quotas: quotas.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn update_staffing_quota(
        &self,
        request: Request<pb::UpdateStaffingQuotaRequest>,
    ) -> Result<Response<pb::UpdateStaffingQuotaResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let quota = usecases::update(&self.reports.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateStaffingQuotaResponse { staffing_quota: Some((&quota).into()) }))
    }

    async fn delete_staffing_quota(
        &self,
        request: Request<pb::DeleteStaffingQuotaRequest>,
    ) -> Result<Response<pb::DeleteStaffingQuotaResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        usecases::delete(&self.reports.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteStaffingQuotaResponse {}))
    }

    async fn get_headcount(
        &self,
        request: Request<pb::GetHeadcountRequest>,
    ) -> Result<Response<pb::GetHeadcountResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let request: GetHeadcount = request.into_inner().try_into()?;
        let (rows, total) = usecases::headcount(&self.reports, &ctx, &request).await?;
        Ok(Response::new(pb::GetHeadcountResponse {
            as_of: Some(to_date(request.as_of)),
            categories: rows.iter().map(Into::into).collect(),
            total: Some((&total).into()),
        }))
    }
}
