//! TrainingPlanService and EnrollmentService over gRPC: each handler converts the
//! request, calls one use case and converts the answer back.

use sea_orm::DatabaseConnection;
use tokio_stream::StreamExt as _;
use tonic::{Request, Response, Status, Streaming};

use super::{
    usecases::{courses, enrollments, plans, transitions},
    wire::{self, ImportRecord, MAX_IMPORT_RECORDS},
};
use crate::{
    context::RequestContext,
    edge::redact::for_caller,
    edge::request::to_date,
    grpc::pb::{self, enrollment_service_server::EnrollmentService, training_plan_service_server::TrainingPlanService},
};

/// The TrainingPlanService implementation.
#[derive(Debug, Clone)]
pub struct TrainingPlanApi {
    db: DatabaseConnection,
}

impl TrainingPlanApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[tonic::async_trait]
impl TrainingPlanService for TrainingPlanApi {
    async fn create_training_plan(
        &self,
        request: Request<pb::CreateTrainingPlanRequest>,
    ) -> Result<Response<pb::CreateTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let plan = plans::create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateTrainingPlanResponse { training_plan: Some((&plan).into()) }))
    }

    async fn get_training_plan(
        &self,
        request: Request<pb::GetTrainingPlanRequest>,
    ) -> Result<Response<pb::GetTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let plan = plans::get(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetTrainingPlanResponse { training_plan: Some((&plan).into()) }))
    }

    async fn list_training_plans(
        &self,
        request: Request<pb::ListTrainingPlansRequest>,
    ) -> Result<Response<pb::ListTrainingPlansResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (found, next_page_token) = plans::list(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListTrainingPlansResponse {
            training_plans: found.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn update_training_plan(
        &self,
        request: Request<pb::UpdateTrainingPlanRequest>,
    ) -> Result<Response<pb::UpdateTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let plan = plans::update(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateTrainingPlanResponse { training_plan: Some((&plan).into()) }))
    }

    async fn delete_training_plan(
        &self,
        request: Request<pb::DeleteTrainingPlanRequest>,
    ) -> Result<Response<pb::DeleteTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        plans::delete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteTrainingPlanResponse {}))
    }

    async fn approve_training_plan(
        &self,
        request: Request<pb::ApproveTrainingPlanRequest>,
    ) -> Result<Response<pb::ApproveTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let plan = plans::approve(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ApproveTrainingPlanResponse { training_plan: Some((&plan).into()) }))
    }

    async fn close_training_plan(
        &self,
        request: Request<pb::CloseTrainingPlanRequest>,
    ) -> Result<Response<pb::CloseTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let plan = plans::close(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CloseTrainingPlanResponse { training_plan: Some((&plan).into()) }))
    }

    async fn create_course(
        &self,
        request: Request<pb::CreateCourseRequest>,
    ) -> Result<Response<pb::CreateCourseResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let course = courses::create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateCourseResponse { course: Some((&course).into()) }))
    }

    async fn get_course(
        &self,
        request: Request<pb::GetCourseRequest>,
    ) -> Result<Response<pb::GetCourseResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let course = courses::get(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetCourseResponse { course: Some((&course).into()) }))
    }

    async fn list_courses(
        &self,
        request: Request<pb::ListCoursesRequest>,
    ) -> Result<Response<pb::ListCoursesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (found, next_page_token) = courses::list(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListCoursesResponse { courses: found.iter().map(Into::into).collect(), next_page_token }))
    }

    async fn update_course(
        &self,
        request: Request<pb::UpdateCourseRequest>,
    ) -> Result<Response<pb::UpdateCourseResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let course = courses::update(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::UpdateCourseResponse { course: Some((&course).into()) }))
    }

    async fn delete_course(
        &self,
        request: Request<pb::DeleteCourseRequest>,
    ) -> Result<Response<pb::DeleteCourseResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        courses::delete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteCourseResponse {}))
    }

    async fn get_training_plan_progress(
        &self,
        request: Request<pb::GetTrainingPlanProgressRequest>,
    ) -> Result<Response<pb::GetTrainingPlanProgressResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let request: wire::GetProgress = request.into_inner().try_into()?;
        let (plan, counts) = plans::progress(&self.db, &ctx, request).await?;
        let (lines, total) = wire::progress(&plan, &counts);
        Ok(Response::new(pb::GetTrainingPlanProgressResponse {
            training_plan: plan.name.to_string(),
            as_of: Some(to_date(request.as_of)),
            lines,
            total: Some(total),
        }))
    }
}

/// The EnrollmentService implementation.
#[derive(Debug, Clone)]
pub struct EnrollmentApi {
    db: DatabaseConnection,
}

impl EnrollmentApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[tonic::async_trait]
impl EnrollmentService for EnrollmentApi {
    async fn create_enrollment(
        &self,
        request: Request<pb::CreateEnrollmentRequest>,
    ) -> Result<Response<pb::CreateEnrollmentResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let created = enrollments::create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::CreateEnrollmentResponse {
            enrollment: Some(for_caller(&ctx.principal, (&created).into())),
        }))
    }

    async fn get_enrollment(
        &self,
        request: Request<pb::GetEnrollmentRequest>,
    ) -> Result<Response<pb::GetEnrollmentResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let found = enrollments::get(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::GetEnrollmentResponse { enrollment: Some((&found).into()) }))
    }

    async fn list_enrollments(
        &self,
        request: Request<pb::ListEnrollmentsRequest>,
    ) -> Result<Response<pb::ListEnrollmentsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (found, next_page_token) = enrollments::list(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::ListEnrollmentsResponse {
            enrollments: found.iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn delete_enrollment(
        &self,
        request: Request<pb::DeleteEnrollmentRequest>,
    ) -> Result<Response<pb::DeleteEnrollmentResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        transitions::delete(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::DeleteEnrollmentResponse {}))
    }

    async fn batch_create_enrollments(
        &self,
        request: Request<pb::BatchCreateEnrollmentsRequest>,
    ) -> Result<Response<pb::BatchCreateEnrollmentsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let created = enrollments::batch_create(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::BatchCreateEnrollmentsResponse {
            enrollments: for_caller(&ctx.principal, created.iter().map(Into::into).collect()),
        }))
    }

    async fn import_enrollments(
        &self,
        request: Request<Streaming<pb::ImportEnrollmentsRequest>>,
    ) -> Result<Response<pb::ImportEnrollmentsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        enrollments::check_importer(&ctx)?;
        let mut stream = request.into_inner();
        let mut records: Vec<ImportRecord> = Vec::new();
        let mut plan = None;
        while let Some(message) = stream.next().await {
            let message = message?;
            if records.len() >= MAX_IMPORT_RECORDS {
                return Err(Status::resource_exhausted(format!(
                    "an import carries at most {MAX_IMPORT_RECORDS} enrolments; split it"
                )));
            }
            if plan.is_none() {
                // The first message names the plan; it is authorised before the rest is read.
                let name = wire::import_plan(&message)?;
                enrollments::authorize_import(&self.db, &ctx, name).await?;
                plan = Some(name);
            }
            records.push(message.into());
        }
        let received_count = i32::try_from(records.len()).unwrap_or(i32::MAX);
        let Some(plan) = plan else {
            return Ok(Response::new(pb::ImportEnrollmentsResponse {
                received_count,
                imported_count: 0,
                rejected: Vec::new(),
            }));
        };
        let imported = enrollments::import(&self.db, &ctx, plan, records).await?;
        if imported.imported > 0 {
            tracing::info!(enrollments = imported.imported, "imported enrolments");
        }
        Ok(Response::new(pb::ImportEnrollmentsResponse {
            received_count,
            imported_count: i32::try_from(imported.imported).unwrap_or(i32::MAX),
            rejected: imported
                .rejected
                .into_iter()
                .map(|(index, violations)| pb::RejectedEnrollment {
                    index: i32::try_from(index).unwrap_or(i32::MAX),
                    violations: violations
                        .into_iter()
                        .map(|v| pb::EnrollmentViolation { field: v.field, description: v.description })
                        .collect(),
                })
                .collect(),
        }))
    }

    async fn transition_enrollment(
        &self,
        request: Request<pb::TransitionEnrollmentRequest>,
    ) -> Result<Response<pb::TransitionEnrollmentResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let moved = transitions::transition(&self.db, &ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::TransitionEnrollmentResponse {
            enrollment: Some(for_caller(&ctx.principal, (&moved).into())),
        }))
    }
}
