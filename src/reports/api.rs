//! ReportService over gRPC: each handler converts the request, calls one use case and
//! answers (a report's answer is its wire message already).

use tonic::{Request, Response, Status};

use super::usecases::{Reports, activity, compliance, export, profile};
use crate::{
    context::RequestContext,
    grpc::pb::{self, report_service_server::ReportService},
};

/// The ReportService implementation.
#[derive(Debug, Clone)]
pub struct ReportApi {
    reports: Reports,
}

impl ReportApi {
    /// A service over `reports`' database that aggregates with its engine when it has
    /// one (else by SQL) and hides cells smaller than its suppression threshold from
    /// callers without the personal-data role.
    pub fn new(reports: Reports) -> Self {
        Self { reports }
    }
}

/// The stream of ExportReport: every message is ready before the first is sent.
pub type ExportReportStream = tokio_stream::Iter<std::vec::IntoIter<Result<pb::ExportReportResponse, Status>>>;

#[tonic::async_trait]
impl ReportService for ReportApi {
    async fn get_workforce_profile(
        &self,
        request: Request<pb::GetWorkforceProfileRequest>,
    ) -> Result<Response<pb::GetWorkforceProfileResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(profile::get(&self.reports, &ctx, request.into_inner().try_into()?).await?))
    }

    async fn summarize_evaluations(
        &self,
        request: Request<pb::SummarizeEvaluationsRequest>,
    ) -> Result<Response<pb::SummarizeEvaluationsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(compliance::evaluations(&self.reports, &ctx, request.into_inner().try_into()?).await?))
    }

    async fn get_standard_compliance(
        &self,
        request: Request<pb::GetStandardComplianceRequest>,
    ) -> Result<Response<pb::GetStandardComplianceResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(compliance::compliance(&self.reports, &ctx, request.into_inner().try_into()?).await?))
    }

    async fn compare_workforce_profiles(
        &self,
        request: Request<pb::CompareWorkforceProfilesRequest>,
    ) -> Result<Response<pb::CompareWorkforceProfilesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(profile::compare(&self.reports, &ctx, request.into_inner().try_into()?).await?))
    }

    async fn summarize_training(
        &self,
        request: Request<pb::SummarizeTrainingRequest>,
    ) -> Result<Response<pb::SummarizeTrainingResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(activity::training(&self.reports, &ctx, request.into_inner().try_into()?).await?))
    }

    async fn summarize_rotations(
        &self,
        request: Request<pb::SummarizeRotationsRequest>,
    ) -> Result<Response<pb::SummarizeRotationsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(activity::rotations(&self.reports, &ctx, request.into_inner().try_into()?).await?))
    }

    async fn get_staffing_summary(
        &self,
        request: Request<pb::GetStaffingSummaryRequest>,
    ) -> Result<Response<pb::GetStaffingSummaryResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(activity::staffing(&self.reports, &ctx, request.into_inner().try_into()?).await?))
    }

    type ExportReportStream = ExportReportStream;

    async fn export_report(
        &self,
        request: Request<pb::ExportReportRequest>,
    ) -> Result<Response<Self::ExportReportStream>, Status> {
        let ctx = RequestContext::of(&request)?;
        let (metadata, extensions, message) = request.into_parts();
        let caller = export::Caller { metadata, extensions };
        let file = export::export(&self.reports, &ctx, &caller, message.try_into()?).await?;
        Ok(Response::new(tokio_stream::iter(export::messages(file))))
    }
}
