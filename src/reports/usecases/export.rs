//! ExportReport: one report, computed by the use case of its own RPC (so with the same
//! checks, roles, scope and suppression), written as a workbook or CSV by
//! [`crate::reports::files`], and streamed: the file's metadata first, then its bytes
//! in chunks. The report's figures and the file's labels (scale and locality names)
//! are read from one snapshot.

use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

use super::{Read, Reports, activity, compliance, profile};
use crate::{
    context::RequestContext,
    domain::locality::Code as LocalityCode,
    edge::request::date,
    error::{Error, Result, Violation},
    grpc::pb::{self, export_report_request::Report as Asked, training_plan_service_server::TrainingPlanService as _},
    localities::queries as localities,
    reports::{
        files::{
            ReportFile, render,
            sheets::{Labels, PlanInfo, Report},
        },
        rules::WHOLE_COUNTRY_LABEL,
        wire::{ExportReport, WHOLE_COUNTRY},
    },
    scales::{queries as scale, rules::scale_name},
    training::TrainingPlanApi,
};

/// The largest chunk of a file in one message of the stream.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Puts the field violations of a report's own request under the field that carries
/// it in ExportReportRequest (`scope.locality` → `workforce_profile.scope.locality`).
fn nested(field: &'static str) -> impl FnOnce(Status) -> Status {
    move |status| {
        if status.code() != Code::InvalidArgument {
            return status;
        }
        let details = status.get_error_details();
        let Some(bad_request) = details.bad_request() else { return status };
        let violations = bad_request
            .field_violations
            .iter()
            .map(|v| Violation::new(format!("{field}.{}", v.field), v.description.clone()))
            .collect();
        Status::from(Error::InvalidArgument(violations))
    }
}

/// [`nested`] for the error of a report's use case.
fn within(field: &'static str) -> impl FnOnce(Error) -> Status {
    move |error| nested(field)(Status::from(error))
}

/// The messages of the stream: the metadata, then the chunks.
pub fn messages(file: ReportFile) -> Vec<Result<pb::ExportReportResponse, Status>> {
    use pb::export_report_response::Content;
    let size_bytes = i64::try_from(file.bytes.len()).unwrap_or(i64::MAX);
    let metadata =
        pb::ExportedFile { content_type: file.content_type.to_owned(), file_name: file.file_name, size_bytes };
    std::iter::once(Content::File(metadata))
        .chain(file.bytes.chunks(CHUNK_BYTES).map(|chunk| Content::Chunk(chunk.to_vec())))
        .map(|content| Ok(pb::ExportReportResponse { content: Some(content) }))
        .collect()
}

/// The caller of ExportReport, to ask another service's handler (the training plans')
/// as it would have asked it.
#[derive(Debug)]
pub struct Caller {
    /// The request's metadata (its token).
    pub metadata: tonic::metadata::MetadataMap,
    /// The request's extensions (its context).
    pub extensions: tonic::Extensions,
}

impl Caller {
    /// `message` as a request of this caller (its token, deadline and context).
    fn request<T>(&self, message: T) -> Request<T> {
        Request::from_parts(self.metadata.clone(), self.extensions.clone(), message)
    }
}

/// ExportReport: the report, by its own use case, rendered as a file.
pub async fn export(
    reports: &Reports,
    ctx: &RequestContext,
    caller: &Caller,
    request: ExportReport,
) -> Result<ReportFile, Status> {
    let ExportReport { report: asked, format } = request;
    let read = reports.begin(ctx).await?;
    // An error drops the snapshot, which ends it.
    let report = report(reports, &read, caller, asked).await?;
    let labels = Labels { scales: scale_names(&read).await?, suppression_threshold: read.suppression_threshold() };
    read.end(Ok(())).await?;
    let file = tokio::task::spawn_blocking(move || render(&report, &labels, format))
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?;
    // Rendering comes after the report was read: a caller that gave up in the
    // meantime gets no file.
    ctx.check_deadline()?;
    tracing::debug!(file.name = %file.file_name, file.bytes = file.bytes.len(), "report exported");
    Ok(file)
}

/// The report asked for, in `read`'s snapshot (the training plan's progress through
/// its own service).
async fn report(reports: &Reports, read: &Read<'_>, caller: &Caller, asked: Asked) -> Result<Report, Status> {
    Ok(match asked {
        Asked::WorkforceProfile(r) => {
            let checked = r.clone().try_into().map_err(within("workforce_profile"))?;
            Report::WorkforceProfile(r, profile::get_in(read, checked).await.map_err(within("workforce_profile"))?)
        }
        Asked::EvaluationSummary(r) => {
            let checked = r.clone().try_into().map_err(within("evaluation_summary"))?;
            let response = compliance::evaluations_in(read, checked).await.map_err(within("evaluation_summary"))?;
            let locality = r.scope.as_ref().map(|s| s.locality.clone()).unwrap_or_default();
            let name = locality_name(read, &locality, response.as_of.as_ref()).await?;
            Report::EvaluationSummary(r, response, name)
        }
        Asked::ProfileComparison(r) => {
            let checked = r.clone().try_into().map_err(within("profile_comparison"))?;
            Report::ProfileComparison(
                r,
                profile::compare_in(read, checked).await.map_err(within("profile_comparison"))?,
            )
        }
        Asked::StandardCompliance(r) => {
            let checked = r.clone().try_into().map_err(within("standard_compliance"))?;
            let response = compliance::compliance_in(read, checked).await.map_err(within("standard_compliance"))?;
            Report::StandardCompliance(r, response)
        }
        Asked::TrainingSummary(r) => {
            let checked = r.clone().try_into().map_err(within("training_summary"))?;
            Report::TrainingSummary(r, activity::training_in(read, checked).await.map_err(within("training_summary"))?)
        }
        Asked::RotationSummary(r) => {
            let checked = r.clone().try_into().map_err(within("rotation_summary"))?;
            Report::RotationSummary(r, activity::rotations_in(read, checked).await.map_err(within("rotation_summary"))?)
        }
        Asked::StaffingSummary(r) => {
            let checked = r.clone().try_into().map_err(within("staffing_summary"))?;
            Report::StaffingSummary(r, activity::staffing_in(read, checked).await.map_err(within("staffing_summary"))?)
        }
        Asked::TrainingPlanProgress(r) => {
            let plans = TrainingPlanApi::new(reports.db.clone());
            let response = plans
                .get_training_plan_progress(caller.request(r))
                .await
                .map_err(nested("training_plan_progress"))?
                .into_inner();
            let plan = plans
                .get_training_plan(caller.request(pb::GetTrainingPlanRequest { name: response.training_plan.clone() }))
                .await?
                .into_inner()
                .training_plan
                .unwrap_or_default();
            let owner_name = locality_name(read, &plan.owner, response.as_of.as_ref()).await?;
            let info = PlanInfo {
                name: plan.name,
                title: plan.title,
                owner: plan.owner,
                owner_name,
                period_start: plan.period_start,
                period_end: plan.period_end,
            };
            Report::TrainingPlanProgress(info, response)
        }
    })
}

/// The Vietnamese name of every scale, by resource name.
async fn scale_names(read: &Read<'_>) -> Result<std::collections::BTreeMap<String, String>> {
    Ok(scale::list(read.conn()).await?.into_iter().map(|s| (scale_name(&s.code), s.display_name)).collect())
}

/// The name of a locality on a date (its latest name if it had none that day);
/// `Toàn quốc` for the whole country. Only called once the report's own use case has
/// authorized the caller over it.
async fn locality_name(read: &Read<'_>, locality: &str, as_of: Option<&pb::Date>) -> Result<String> {
    if locality == WHOLE_COUNTRY {
        return Ok(WHOLE_COUNTRY_LABEL.to_owned());
    }
    let Ok(code) = LocalityCode::from_name(locality) else { return Ok(String::new()) };
    let Some(record) = localities::load_one(read.conn(), &code).await? else { return Ok(String::new()) };
    let day = date(as_of).ok();
    let on_day = day.and_then(|day| record.versions.iter().find(|v| v.contains(day)));
    Ok(on_day.or(record.versions.last()).map(|v| v.display_name.clone()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_streams_as_metadata_then_chunks_of_at_most_64_kib() {
        let file = ReportFile {
            file_name: "x.csv".into(),
            content_type: "text/csv; charset=utf-8",
            bytes: (0..CHUNK_BYTES * 2 + 5).map(|i| (i % 251) as u8).collect(),
        };
        let expected = file.bytes.clone();
        let messages: Vec<_> = messages(file).into_iter().map(|m| m.expect("ok").content.expect("content")).collect();
        let pb::export_report_response::Content::File(metadata) = &messages[0] else { panic!("metadata first") };
        assert_eq!(metadata.size_bytes, i64::try_from(expected.len()).expect("size"));
        let chunks: Vec<&Vec<u8>> = messages[1..]
            .iter()
            .map(|m| match m {
                pb::export_report_response::Content::Chunk(bytes) => bytes,
                pb::export_report_response::Content::File(_) => panic!("one metadata message"),
            })
            .collect();
        assert_eq!(chunks.iter().map(|c| c.len()).collect::<Vec<_>>(), [CHUNK_BYTES, CHUNK_BYTES, 5]);
        assert_eq!(chunks.iter().flat_map(|c| c.iter().copied()).collect::<Vec<u8>>(), expected);
    }

    #[test]
    fn violations_of_a_report_request_are_named_inside_the_export_request() {
        let status = Status::from(Error::invalid("scope.locality", "is required"));
        let status = nested("workforce_profile")(status);
        let details = status.get_error_details();
        let fields: Vec<&str> = details
            .bad_request()
            .map(|b| b.field_violations.iter().map(|v| v.field.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["workforce_profile.scope.locality"]);
        let denied = nested("workforce_profile")(Status::permission_denied("no"));
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
}
