//! SuccessionPoolService over gRPC: each handler converts the request, calls one use
//! case and converts the answer back.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::usecases;
use crate::{
    context::RequestContext,
    edge::redact::for_caller,
    grpc::pb::{self, succession_pool_service_server::SuccessionPoolService},
};

/// The SuccessionPoolService implementation.
#[derive(Debug, Clone)]
pub struct SuccessionPoolApi {
    db: DatabaseConnection,
}

impl SuccessionPoolApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[tonic::async_trait]
impl SuccessionPoolService for SuccessionPoolApi {
    async fn create_succession_pool(
        &self,
        request: Request<pb::CreateSuccessionPoolRequest>,
    ) -> Result<Response<pb::CreateSuccessionPoolResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let pool = usecases::create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateSuccessionPoolResponse {
            succession_pool: Some(for_caller(&ctx.principal, (&pool).into())),
        }))
    }

    async fn get_succession_pool(
        &self,
        request: Request<pb::GetSuccessionPoolRequest>,
    ) -> Result<Response<pb::GetSuccessionPoolResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let pool = usecases::get(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetSuccessionPoolResponse { succession_pool: Some((&pool).into()) }))
    }

    async fn list_succession_pools(
        &self,
        request: Request<pb::ListSuccessionPoolsRequest>,
    ) -> Result<Response<pb::ListSuccessionPoolsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (pools, next_page_token) = usecases::list(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListSuccessionPoolsResponse {
            succession_pools: pools.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn update_succession_pool(
        &self,
        request: Request<pb::UpdateSuccessionPoolRequest>,
    ) -> Result<Response<pb::UpdateSuccessionPoolResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let pool = usecases::update(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateSuccessionPoolResponse {
            succession_pool: Some(for_caller(&ctx.principal, (&pool).into())),
        }))
    }

    async fn delete_succession_pool(
        &self,
        request: Request<pb::DeleteSuccessionPoolRequest>,
    ) -> Result<Response<pb::DeleteSuccessionPoolResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        usecases::delete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteSuccessionPoolResponse {}))
    }

    async fn add_candidate(
        &self,
        request: Request<pb::AddCandidateRequest>,
    ) -> Result<Response<pb::AddCandidateResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let pool = usecases::add(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::AddCandidateResponse {
            succession_pool: Some(for_caller(&ctx.principal, (&pool).into())),
        }))
    }

    async fn remove_candidate(
        &self,
        request: Request<pb::RemoveCandidateRequest>,
    ) -> Result<Response<pb::RemoveCandidateResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let pool = usecases::remove(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::RemoveCandidateResponse {
            succession_pool: Some(for_caller(&ctx.principal, (&pool).into())),
        }))
    }
}
