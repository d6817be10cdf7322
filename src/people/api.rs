//! PersonService over gRPC: each handler converts the request, calls one use case and
//! converts the answer back.

use std::pin::Pin;

use sea_orm::DatabaseConnection;
use tokio_stream::{Stream, StreamExt as _, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, Streaming};

use super::{
    usecases::{import, people, placements, records, search},
    wire::import::ImportMessage,
};
use crate::{
    context::RequestContext,
    domain::date::today,
    edge::redact::for_caller,
    grpc::pb::{self, person_service_server::PersonService},
};

/// The PersonService implementation.
#[derive(Debug, Clone)]
pub struct PersonApi {
    db: DatabaseConnection,
}

impl PersonApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// The stream ExportPeople answers with.
pub type ExportStream = Pin<Box<dyn Stream<Item = Result<pb::ExportPeopleResponse, Status>> + Send>>;

#[tonic::async_trait]
impl PersonService for PersonApi {
    async fn create_person(
        &self,
        request: Request<pb::CreatePersonRequest>,
    ) -> Result<Response<pb::CreatePersonResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = people::create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreatePersonResponse { person: Some(for_caller(&ctx.principal, (&value).into())) }))
    }

    async fn get_person(
        &self,
        request: Request<pb::GetPersonRequest>,
    ) -> Result<Response<pb::GetPersonResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = people::get(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetPersonResponse { person: Some((&value).into()) }))
    }

    async fn update_person(
        &self,
        request: Request<pb::UpdatePersonRequest>,
    ) -> Result<Response<pb::UpdatePersonResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = people::update(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdatePersonResponse { person: Some(for_caller(&ctx.principal, (&value).into())) }))
    }

    async fn delete_person(
        &self,
        request: Request<pb::DeletePersonRequest>,
    ) -> Result<Response<pb::DeletePersonResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        people::delete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeletePersonResponse {}))
    }

    async fn lookup_person(
        &self,
        request: Request<pb::LookupPersonRequest>,
    ) -> Result<Response<pb::LookupPersonResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = people::lookup(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::LookupPersonResponse { person: Some((&value).into()) }))
    }

    async fn search_people(
        &self,
        request: Request<pb::SearchPeopleRequest>,
    ) -> Result<Response<pb::SearchPeopleResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (rows, next_page_token) = search::search(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::SearchPeopleResponse { people: rows.iter().map(Into::into).collect(), next_page_token }))
    }

    type ExportPeopleStream = ExportStream;

    async fn export_people(
        &self,
        request: Request<pb::ExportPeopleRequest>,
    ) -> Result<Response<Self::ExportPeopleStream>, Status> {
        let ctx = RequestContext::of(&request)?;
        let records = search::export(&self.db, &ctx, request.into_inner().try_into()?).await?;
        let stream = ReceiverStream::new(records)
            .map(|record| record.map(|r| pb::ExportPeopleResponse { record: Some((&r).into()) }).map_err(Status::from));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn import_people(
        &self,
        request: Request<Streaming<pb::ImportPeopleRequest>>,
    ) -> Result<Response<pb::ImportPeopleResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let day = today();
        let messages = request
            .into_inner()
            .map(move |message| message.and_then(|m| ImportMessage::read(m, day).map_err(Status::from)));
        Ok(Response::new(import::import(&self.db, &ctx, messages).await?.into()))
    }

    async fn create_placement(
        &self,
        request: Request<pb::CreatePlacementRequest>,
    ) -> Result<Response<pb::CreatePlacementResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = placements::create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreatePlacementResponse { placement: Some(for_caller(&ctx.principal, (&value).into())) }))
    }

    async fn get_placement(
        &self,
        request: Request<pb::GetPlacementRequest>,
    ) -> Result<Response<pb::GetPlacementResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = placements::get(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetPlacementResponse { placement: Some((&value).into()) }))
    }

    async fn list_placements(
        &self,
        request: Request<pb::ListPlacementsRequest>,
    ) -> Result<Response<pb::ListPlacementsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (rows, next_page_token) = placements::list(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListPlacementsResponse {
            placements: rows.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn update_placement(
        &self,
        request: Request<pb::UpdatePlacementRequest>,
    ) -> Result<Response<pb::UpdatePlacementResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = placements::update(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdatePlacementResponse { placement: Some(for_caller(&ctx.principal, (&value).into())) }))
    }

    async fn delete_placement(
        &self,
        request: Request<pb::DeletePlacementRequest>,
    ) -> Result<Response<pb::DeletePlacementResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        placements::delete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeletePlacementResponse {}))
    }

    async fn create_qualification(
        &self,
        request: Request<pb::CreateQualificationRequest>,
    ) -> Result<Response<pb::CreateQualificationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = records::create_qualification(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateQualificationResponse {
            qualification: Some(for_caller(&ctx.principal, (&value).into())),
        }))
    }

    async fn get_qualification(
        &self,
        request: Request<pb::GetQualificationRequest>,
    ) -> Result<Response<pb::GetQualificationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = records::get_qualification(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetQualificationResponse { qualification: Some((&value).into()) }))
    }

    async fn list_qualifications(
        &self,
        request: Request<pb::ListQualificationsRequest>,
    ) -> Result<Response<pb::ListQualificationsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (rows, next_page_token) =
            records::list_qualifications(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListQualificationsResponse {
            qualifications: rows.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn update_qualification(
        &self,
        request: Request<pb::UpdateQualificationRequest>,
    ) -> Result<Response<pb::UpdateQualificationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = records::update_qualification(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateQualificationResponse {
            qualification: Some(for_caller(&ctx.principal, (&value).into())),
        }))
    }

    async fn delete_qualification(
        &self,
        request: Request<pb::DeleteQualificationRequest>,
    ) -> Result<Response<pb::DeleteQualificationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        records::delete_qualification(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteQualificationResponse {}))
    }

    async fn create_evaluation(
        &self,
        request: Request<pb::CreateEvaluationRequest>,
    ) -> Result<Response<pb::CreateEvaluationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = records::create_evaluation(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateEvaluationResponse {
            evaluation: Some(for_caller(&ctx.principal, (&value).into())),
        }))
    }

    async fn get_evaluation(
        &self,
        request: Request<pb::GetEvaluationRequest>,
    ) -> Result<Response<pb::GetEvaluationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = records::get_evaluation(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetEvaluationResponse { evaluation: Some((&value).into()) }))
    }

    async fn list_evaluations(
        &self,
        request: Request<pb::ListEvaluationsRequest>,
    ) -> Result<Response<pb::ListEvaluationsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (rows, next_page_token) =
            records::list_evaluations(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListEvaluationsResponse {
            evaluations: rows.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn update_evaluation(
        &self,
        request: Request<pb::UpdateEvaluationRequest>,
    ) -> Result<Response<pb::UpdateEvaluationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = records::update_evaluation(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateEvaluationResponse {
            evaluation: Some(for_caller(&ctx.principal, (&value).into())),
        }))
    }

    async fn delete_evaluation(
        &self,
        request: Request<pb::DeleteEvaluationRequest>,
    ) -> Result<Response<pb::DeleteEvaluationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        records::delete_evaluation(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteEvaluationResponse {}))
    }

    async fn create_discipline(
        &self,
        request: Request<pb::CreateDisciplineRequest>,
    ) -> Result<Response<pb::CreateDisciplineResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = records::create_discipline(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateDisciplineResponse {
            discipline: Some(for_caller(&ctx.principal, (&value).into())),
        }))
    }

    async fn get_discipline(
        &self,
        request: Request<pb::GetDisciplineRequest>,
    ) -> Result<Response<pb::GetDisciplineResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = records::get_discipline(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetDisciplineResponse { discipline: Some((&value).into()) }))
    }

    async fn list_disciplines(
        &self,
        request: Request<pb::ListDisciplinesRequest>,
    ) -> Result<Response<pb::ListDisciplinesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (rows, next_page_token) =
            records::list_disciplines(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListDisciplinesResponse {
            disciplines: rows.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn update_discipline(
        &self,
        request: Request<pb::UpdateDisciplineRequest>,
    ) -> Result<Response<pb::UpdateDisciplineResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let value = records::update_discipline(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateDisciplineResponse {
            discipline: Some(for_caller(&ctx.principal, (&value).into())),
        }))
    }

    async fn delete_discipline(
        &self,
        request: Request<pb::DeleteDisciplineRequest>,
    ) -> Result<Response<pb::DeleteDisciplineResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        records::delete_discipline(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteDisciplineResponse {}))
    }
}
