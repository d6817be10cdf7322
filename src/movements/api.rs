//! RotationService over gRPC: each handler converts the request, calls one use case and
//! converts the answer back.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::usecases;
use crate::{
    context::RequestContext,
    edge::redact::for_caller,
    grpc::pb::{self, rotation_service_server::RotationService},
};

/// The RotationService implementation.
#[derive(Debug, Clone)]
pub struct RotationApi {
    db: DatabaseConnection,
}

impl RotationApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[tonic::async_trait]
impl RotationService for RotationApi {
    async fn create_rotation(
        &self,
        request: Request<pb::CreateRotationRequest>,
    ) -> Result<Response<pb::CreateRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let rotation = usecases::create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateRotationResponse { rotation: Some(for_caller(&ctx.principal, (&rotation).into())) }))
    }

    async fn get_rotation(
        &self,
        request: Request<pb::GetRotationRequest>,
    ) -> Result<Response<pb::GetRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let rotation = usecases::get(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetRotationResponse { rotation: Some((&rotation).into()) }))
    }

    async fn list_rotations(
        &self,
        request: Request<pb::ListRotationsRequest>,
    ) -> Result<Response<pb::ListRotationsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (rotations, next_page_token) = usecases::list(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListRotationsResponse {
            rotations: rotations.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn update_rotation(
        &self,
        request: Request<pb::UpdateRotationRequest>,
    ) -> Result<Response<pb::UpdateRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let rotation = usecases::update(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateRotationResponse { rotation: Some(for_caller(&ctx.principal, (&rotation).into())) }))
    }

    async fn delete_rotation(
        &self,
        request: Request<pb::DeleteRotationRequest>,
    ) -> Result<Response<pb::DeleteRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        usecases::delete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteRotationResponse {}))
    }

    async fn start_rotation(
        &self,
        request: Request<pb::StartRotationRequest>,
    ) -> Result<Response<pb::StartRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let rotation = usecases::start(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::StartRotationResponse { rotation: Some(for_caller(&ctx.principal, (&rotation).into())) }))
    }

    async fn complete_rotation(
        &self,
        request: Request<pb::CompleteRotationRequest>,
    ) -> Result<Response<pb::CompleteRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let rotation = usecases::complete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CompleteRotationResponse {
            rotation: Some(for_caller(&ctx.principal, (&rotation).into())),
        }))
    }

    async fn cancel_rotation(
        &self,
        request: Request<pb::CancelRotationRequest>,
    ) -> Result<Response<pb::CancelRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let rotation = usecases::cancel(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CancelRotationResponse { rotation: Some(for_caller(&ctx.principal, (&rotation).into())) }))
    }
}
