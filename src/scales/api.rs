//! ScaleService over gRPC: each handler converts the request, calls one use case and
//! converts the answer back.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::usecases;
use crate::{
    context::RequestContext,
    grpc::pb::{self, scale_service_server::ScaleService},
};

/// The ScaleService implementation.
#[derive(Debug, Clone)]
pub struct ScaleApi {
    db: DatabaseConnection,
}

impl ScaleApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[tonic::async_trait]
impl ScaleService for ScaleApi {
    async fn list_scales(
        &self,
        request: Request<pb::ListScalesRequest>,
    ) -> Result<Response<pb::ListScalesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let pb::ListScalesRequest {} = request.into_inner();
        let scales = usecases::list(&self.db, &ctx).await?;
        Ok(Response::new(pb::ListScalesResponse { scales: scales.iter().map(Into::into).collect() }))
    }

    async fn get_scale(&self, request: Request<pb::GetScaleRequest>) -> Result<Response<pb::GetScaleResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let scale = usecases::get(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetScaleResponse { scale: Some((&scale).into()) }))
    }

    async fn create_level(
        &self,
        request: Request<pb::CreateLevelRequest>,
    ) -> Result<Response<pb::CreateLevelResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let level = usecases::create_level(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateLevelResponse { level: Some((&level).into()) }))
    }

    async fn update_level(
        &self,
        request: Request<pb::UpdateLevelRequest>,
    ) -> Result<Response<pb::UpdateLevelResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let level = usecases::update_level(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateLevelResponse { level: Some((&level).into()) }))
    }
}
