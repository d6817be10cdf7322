//! StandardService over gRPC: each handler converts the request, calls one use case
//! and converts the answer back.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    usecases,
    wire::{GetCompliance, compliance_to_pb},
};
use crate::{
    context::RequestContext,
    grpc::pb::{self, standard_service_server::StandardService},
};

/// The StandardService implementation.
#[derive(Debug, Clone)]
pub struct StandardApi {
    db: DatabaseConnection,
}

impl StandardApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[tonic::async_trait]
impl StandardService for StandardApi {
    async fn create_standard(
        &self,
        request: Request<pb::CreateStandardRequest>,
    ) -> Result<Response<pb::CreateStandardResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let standard = usecases::create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateStandardResponse { standard: Some((&standard).into()) }))
    }

    async fn get_standard(
        &self,
        request: Request<pb::GetStandardRequest>,
    ) -> Result<Response<pb::GetStandardResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let standard = usecases::get(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetStandardResponse { standard: Some((&standard).into()) }))
    }

    async fn list_standards(
        &self,
        request: Request<pb::ListStandardsRequest>,
    ) -> Result<Response<pb::ListStandardsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (standards, next_page_token) = usecases::list(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListStandardsResponse {
            standards: standards.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn update_standard(
        &self,
        request: Request<pb::UpdateStandardRequest>,
    ) -> Result<Response<pb::UpdateStandardResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let standard = usecases::update(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateStandardResponse { standard: Some((&standard).into()) }))
    }

    async fn delete_standard(
        &self,
        request: Request<pb::DeleteStandardRequest>,
    ) -> Result<Response<pb::DeleteStandardResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        usecases::delete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteStandardResponse {}))
    }

    async fn get_person_compliance(
        &self,
        request: Request<pb::GetPersonComplianceRequest>,
    ) -> Result<Response<pb::GetPersonComplianceResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let request: GetCompliance = request.into_inner().try_into()?;
        let answer = usecases::compliance(&self.db, &ctx, request).await?;
        Ok(Response::new(compliance_to_pb(request.person, request.as_of, &answer)))
    }
}
