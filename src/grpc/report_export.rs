//! ReportService.ExportReport: one report, computed by the handler of its own RPC
//! (so with the same roles, scope, suppression and deadline), written as a workbook
//! or CSV by [`crate::exchange`], and streamed: the file's metadata first, then its
//! bytes in chunks.

use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

use super::{
    Violations, convert,
    pb::{
        self, export_report_request::Report as Asked, report_service_server::ReportService as _,
        training_plan_service_server::TrainingPlanService as _,
    },
    report::{ExportReportStream, ReportApi},
    required,
    training_plan::TrainingPlanApi,
};
use crate::{
    auth::RequestContext,
    domain::{locality::Code as LocalityCode, report::WHOLE_COUNTRY_LABEL},
    error::{Error, Result, Violation},
    exchange::{
        report_file::{FileFormat, ReportFile, render},
        report_sheets::{Labels, PlanInfo, Report},
    },
    store::{locality as localities, scale},
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

fn file_format(v: &mut Violations, value: i32) -> Option<FileFormat> {
    match pb::ExportFormat::try_from(value) {
        Ok(pb::ExportFormat::Xlsx) => Some(FileFormat::Xlsx),
        Ok(pb::ExportFormat::Csv) => Some(FileFormat::Csv),
        Ok(pb::ExportFormat::Unspecified) => {
            v.add("format", "is required: EXPORT_FORMAT_XLSX or EXPORT_FORMAT_CSV");
            None
        }
        Err(_) => {
            v.add("format", format!("{value} is not an ExportFormat (EXPORT_FORMAT_XLSX or EXPORT_FORMAT_CSV)"));
            None
        }
    }
}

/// The messages of the stream: the metadata, then the chunks.
fn messages(file: ReportFile) -> Vec<Result<pb::ExportReportResponse, Status>> {
    use pb::export_report_response::Content;
    let size_bytes = i64::try_from(file.bytes.len()).unwrap_or(i64::MAX);
    let metadata =
        pb::ExportedFile { content_type: file.content_type.to_owned(), file_name: file.file_name, size_bytes };
    std::iter::once(Content::File(metadata))
        .chain(file.bytes.chunks(CHUNK_BYTES).map(|chunk| Content::Chunk(chunk.to_vec())))
        .map(|content| Ok(pb::ExportReportResponse { content: Some(content) }))
        .collect()
}

/// The caller of ExportReport, to make the requests of the reports' own handlers.
struct Caller {
    metadata: tonic::metadata::MetadataMap,
    extensions: tonic::Extensions,
}

impl Caller {
    /// `message` as a request of this caller (its token, deadline and context).
    fn request<T>(&self, message: T) -> Request<T> {
        Request::from_parts(self.metadata.clone(), self.extensions.clone(), message)
    }
}

impl ReportApi {
    /// ExportReport: validates the envelope, asks the report's own handler, renders.
    pub(super) async fn export_report_impl(
        &self,
        request: Request<pb::ExportReportRequest>,
    ) -> Result<ExportReportStream, Status> {
        let (metadata, extensions, req) = request.into_parts();
        let ctx = extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| Error::internal("request reached a handler without passing the context interceptor"))?;
        let mut v = Violations::new();
        let format = file_format(&mut v, req.format);
        if req.report.is_none() {
            v.add(
                "report",
                "is required: one of workforce_profile, evaluation_summary, profile_comparison, standard_compliance, \
                 training_summary, rotation_summary, staffing_summary, training_plan_progress",
            );
        }
        v.finish()?;
        let format = required(format, "format")?;
        let asked = required(req.report, "report")?;
        // The report's own request, with the caller's metadata and context.
        let caller = Caller { metadata, extensions };

        let report = match asked {
            Asked::WorkforceProfile(r) => {
                let response =
                    self.get_workforce_profile(caller.request(r.clone())).await.map_err(nested("workforce_profile"))?;
                Report::WorkforceProfile(r, response.into_inner())
            }
            Asked::EvaluationSummary(r) => {
                let response = self
                    .summarize_evaluations(caller.request(r.clone()))
                    .await
                    .map_err(nested("evaluation_summary"))?
                    .into_inner();
                let locality = r.scope.as_ref().map(|s| s.locality.clone()).unwrap_or_default();
                let name = self.locality_name(&locality, response.as_of.as_ref()).await?;
                Report::EvaluationSummary(r, response, name)
            }
            Asked::ProfileComparison(r) => {
                let response = self
                    .compare_workforce_profiles(caller.request(r.clone()))
                    .await
                    .map_err(nested("profile_comparison"))?;
                Report::ProfileComparison(r, response.into_inner())
            }
            Asked::StandardCompliance(r) => {
                let response = self
                    .get_standard_compliance(caller.request(r.clone()))
                    .await
                    .map_err(nested("standard_compliance"))?;
                Report::StandardCompliance(r, response.into_inner())
            }
            Asked::TrainingSummary(r) => {
                let response =
                    self.summarize_training(caller.request(r.clone())).await.map_err(nested("training_summary"))?;
                Report::TrainingSummary(r, response.into_inner())
            }
            Asked::RotationSummary(r) => {
                let response =
                    self.summarize_rotations(caller.request(r.clone())).await.map_err(nested("rotation_summary"))?;
                Report::RotationSummary(r, response.into_inner())
            }
            Asked::StaffingSummary(r) => {
                let response =
                    self.get_staffing_summary(caller.request(r.clone())).await.map_err(nested("staffing_summary"))?;
                Report::StaffingSummary(r, response.into_inner())
            }
            Asked::TrainingPlanProgress(r) => {
                let plans = TrainingPlanApi::new(self.db.clone());
                let response = plans
                    .get_training_plan_progress(caller.request(r))
                    .await
                    .map_err(nested("training_plan_progress"))?
                    .into_inner();
                let plan = plans
                    .get_training_plan(
                        caller.request(pb::GetTrainingPlanRequest { name: response.training_plan.clone() }),
                    )
                    .await?
                    .into_inner()
                    .training_plan
                    .unwrap_or_default();
                let owner_name = self.locality_name(&plan.owner, response.as_of.as_ref()).await?;
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
        };

        let labels = Labels { scales: self.scale_names().await?, suppression_threshold: self.suppression_threshold };
        let file = tokio::task::spawn_blocking(move || render(&report, &labels, format))
            .await
            .map_err(Error::internal)?
            .map_err(Error::internal)?;
        // Rendering comes after the report's own deadline checks: a caller that gave
        // up in the meantime gets no file.
        ctx.check_deadline()?;
        tracing::debug!(file.name = %file.file_name, file.bytes = file.bytes.len(), "report exported");
        Ok(tokio_stream::iter(messages(file)))
    }

    /// The Vietnamese name of every scale, by resource name.
    async fn scale_names(&self) -> Result<std::collections::BTreeMap<String, String>> {
        Ok(scale::list(&self.db).await?.into_iter().map(|s| (scale::scale_name(&s.code), s.display_name)).collect())
    }

    /// The name of a locality on a date (its latest name if it had none that day);
    /// `Toàn quốc` for the whole country. Only called once the report's own handler
    /// has authorized the caller over it.
    async fn locality_name(&self, locality: &str, as_of: Option<&pb::Date>) -> Result<String> {
        if locality == "localities/-" {
            return Ok(WHOLE_COUNTRY_LABEL.to_owned());
        }
        let Ok(code) = LocalityCode::from_name(locality) else { return Ok(String::new()) };
        let Some(record) = localities::load_one(&self.db, &code).await? else { return Ok(String::new()) };
        let day = convert::date(as_of).ok();
        let on_day = day.and_then(|day| record.versions.iter().find(|v| v.contains(day)));
        Ok(on_day.or(record.versions.last()).map(|v| v.display_name.clone()).unwrap_or_default())
    }
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
