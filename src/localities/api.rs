//! LocalityService over gRPC: each handler converts the request, calls one use case and
//! converts the answer back.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    reorganize, usecases,
    wire::{GetLocality, ListLocalities, Reorganize, locality_to_pb},
};
use crate::{
    context::RequestContext,
    domain::date::today,
    grpc::pb::{self, locality_service_server::LocalityService},
};

/// The LocalityService implementation.
#[derive(Debug, Clone)]
pub struct LocalityApi {
    db: DatabaseConnection,
}

impl LocalityApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn list(&self, ctx: &RequestContext, request: ListLocalities) -> Result<(Vec<pb::Locality>, String), Status> {
        let as_of = request.as_of;
        let (records, next_page_token) = usecases::list(&self.db, ctx, request).await?;
        Ok((records.iter().map(|r| locality_to_pb(r, as_of)).collect(), next_page_token))
    }
}

#[tonic::async_trait]
impl LocalityService for LocalityApi {
    async fn create_locality(
        &self,
        request: Request<pb::CreateLocalityRequest>,
    ) -> Result<Response<pb::CreateLocalityResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = usecases::create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateLocalityResponse { locality: Some(locality_to_pb(&record, today())) }))
    }

    async fn get_locality(
        &self,
        request: Request<pb::GetLocalityRequest>,
    ) -> Result<Response<pb::GetLocalityResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let request: GetLocality = request.into_inner().try_into()?;
        let record = usecases::get(&self.db, &ctx, &request).await?;
        Ok(Response::new(pb::GetLocalityResponse { locality: Some(locality_to_pb(&record, request.as_of)) }))
    }

    async fn list_localities(
        &self,
        request: Request<pb::ListLocalitiesRequest>,
    ) -> Result<Response<pb::ListLocalitiesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (localities, next_page_token) = self.list(&ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListLocalitiesResponse { localities, next_page_token }))
    }

    async fn update_locality(
        &self,
        request: Request<pb::UpdateLocalityRequest>,
    ) -> Result<Response<pb::UpdateLocalityResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = usecases::update(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateLocalityResponse { locality: Some(locality_to_pb(&record, today())) }))
    }

    async fn delete_locality(
        &self,
        request: Request<pb::DeleteLocalityRequest>,
    ) -> Result<Response<pb::DeleteLocalityResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        usecases::delete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteLocalityResponse {}))
    }

    async fn list_ancestors(
        &self,
        request: Request<pb::ListAncestorsRequest>,
    ) -> Result<Response<pb::ListAncestorsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let request: GetLocality = request.into_inner().try_into()?;
        let records = usecases::ancestors(&self.db, &ctx, &request).await?;
        Ok(Response::new(pb::ListAncestorsResponse {
            ancestors: records.iter().map(|r| locality_to_pb(r, request.as_of)).collect(),
        }))
    }

    async fn list_descendants(
        &self,
        request: Request<pb::ListDescendantsRequest>,
    ) -> Result<Response<pb::ListDescendantsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (localities, next_page_token) = self.list(&ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListDescendantsResponse { localities, next_page_token }))
    }

    async fn search_localities(
        &self,
        request: Request<pb::SearchLocalitiesRequest>,
    ) -> Result<Response<pb::SearchLocalitiesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (localities, next_page_token) = self.list(&ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::SearchLocalitiesResponse { localities, next_page_token }))
    }

    async fn reorganize(
        &self,
        request: Request<pb::ReorganizeRequest>,
    ) -> Result<Response<pb::ReorganizeResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let request: Reorganize = request.into_inner().try_into()?;
        let as_of = request.reorg.effective_date;
        let records = reorganize::reorganize(&self.db, &ctx, request).await?;
        Ok(Response::new(pb::ReorganizeResponse {
            localities: records.iter().map(|r| locality_to_pb(r, as_of)).collect(),
        }))
    }
}
