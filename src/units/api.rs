//! UnitService over gRPC: each handler converts the request, calls one use case and
//! converts the answer back.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::usecases;
use crate::{
    context::RequestContext,
    grpc::pb::{self, unit_service_server::UnitService},
};

/// The UnitService implementation.
#[derive(Debug, Clone)]
pub struct UnitApi {
    db: DatabaseConnection,
}

impl UnitApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[tonic::async_trait]
impl UnitService for UnitApi {
    async fn create_unit(
        &self,
        request: Request<pb::CreateUnitRequest>,
    ) -> Result<Response<pb::CreateUnitResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let unit = usecases::create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateUnitResponse { unit: Some((&unit).into()) }))
    }

    async fn get_unit(&self, request: Request<pb::GetUnitRequest>) -> Result<Response<pb::GetUnitResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let unit = usecases::get(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetUnitResponse { unit: Some((&unit).into()) }))
    }

    async fn list_units(
        &self,
        request: Request<pb::ListUnitsRequest>,
    ) -> Result<Response<pb::ListUnitsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (units, next_page_token) = usecases::list(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListUnitsResponse { units: units.iter().map(Into::into).collect(), next_page_token }))
    }

    async fn update_unit(
        &self,
        request: Request<pb::UpdateUnitRequest>,
    ) -> Result<Response<pb::UpdateUnitResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let unit = usecases::update(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateUnitResponse { unit: Some((&unit).into()) }))
    }

    async fn delete_unit(
        &self,
        request: Request<pb::DeleteUnitRequest>,
    ) -> Result<Response<pb::DeleteUnitResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        usecases::delete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteUnitResponse {}))
    }
}
