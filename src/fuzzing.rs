//! What the fuzz targets (`fuzz/`) reach: a request's bytes through the path a server
//! takes, without a server or a database. Not part of the service's API.

use crate::grpc::{codec::decode_request, pb};

/// Defines [`request`] and [`methods`] from one list of methods, their request types
/// and the domain commands their handlers convert them into (none for the streamed
/// imports, whose messages are read one by one).
macro_rules! requests {
    ($($method:ident => $request:ident $(, $command:ty)?;)*) => {
        /// Decodes `bytes` as the request of `method` (`GetUnit`, `CreatePerson`...)
        /// through the one codec (decoding and hygiene checks) and, when that succeeds,
        /// converts it with the feature's `TryFrom` into its domain command, as the
        /// handler would; the outcome is dropped. Returns whether `method` is known.
        /// Must never panic.
        pub fn request(method: &str, bytes: &[u8]) -> bool {
            match method {
                $(stringify!($method) => {
                    if let Ok(_request) = decode_request::<pb::$request>(bytes) {
                        $(let _ = <$command>::try_from(_request);)?
                    }
                    true
                })*
                _ => false,
            }
        }

        /// Every method [`request`] knows, in a fixed order (a fuzz target picks one
        /// by index).
        pub fn methods() -> &'static [&'static str] {
            &[$(stringify!($method)),*]
        }
    };
}

requests! {
        GetScale => GetScaleRequest, crate::scales::wire::GetScale;
        CreateLevel => CreateLevelRequest, crate::scales::wire::LevelWrite;
        UpdateLevel => UpdateLevelRequest, crate::scales::wire::LevelWrite;
        CreateStaffingQuota => CreateStaffingQuotaRequest, crate::staffing::wire::CreateQuota;
        UpdateStaffingQuota => UpdateStaffingQuotaRequest, crate::staffing::wire::UpdateQuota;
        GetStaffingQuota => GetStaffingQuotaRequest, crate::staffing::wire::QuotaRef;
        DeleteStaffingQuota => DeleteStaffingQuotaRequest, crate::staffing::wire::QuotaRef;
        ListStaffingQuotas => ListStaffingQuotasRequest, crate::staffing::wire::ListQuotas;
        GetHeadcount => GetHeadcountRequest, crate::staffing::wire::GetHeadcount;
        CreateLocality => CreateLocalityRequest, crate::localities::wire::CreateLocality;
        GetLocality => GetLocalityRequest, crate::localities::wire::GetLocality;
        ListAncestors => ListAncestorsRequest, crate::localities::wire::GetLocality;
        ListLocalities => ListLocalitiesRequest, crate::localities::wire::ListLocalities;
        ListDescendants => ListDescendantsRequest, crate::localities::wire::ListLocalities;
        SearchLocalities => SearchLocalitiesRequest, crate::localities::wire::ListLocalities;
        UpdateLocality => UpdateLocalityRequest, crate::localities::wire::UpdateLocality;
        DeleteLocality => DeleteLocalityRequest, crate::localities::wire::DeleteLocality;
        Reorganize => ReorganizeRequest, crate::localities::wire::Reorganize;
        CreateEnrollment => CreateEnrollmentRequest, crate::training::wire::enrollments::CreateEnrollment;
        BatchCreateEnrollments => BatchCreateEnrollmentsRequest, crate::training::wire::enrollments::BatchCreateEnrollments;
        GetEnrollment => GetEnrollmentRequest, crate::training::wire::enrollments::EnrollmentRef;
        DeleteEnrollment => DeleteEnrollmentRequest, crate::training::wire::enrollments::EnrollmentRef;
        ListEnrollments => ListEnrollmentsRequest, crate::training::wire::enrollments::ListEnrollments;
        TransitionEnrollment => TransitionEnrollmentRequest, crate::training::wire::enrollments::TransitionEnrollment;
        CreateTrainingPlan => CreateTrainingPlanRequest, crate::training::wire::plans::CreatePlan;
        UpdateTrainingPlan => UpdateTrainingPlanRequest, crate::training::wire::plans::UpdatePlan;
        GetTrainingPlan => GetTrainingPlanRequest, crate::training::wire::plans::PlanRef;
        DeleteTrainingPlan => DeleteTrainingPlanRequest, crate::training::wire::plans::PlanRef;
        ApproveTrainingPlan => ApproveTrainingPlanRequest, crate::training::wire::plans::PlanRef;
        CloseTrainingPlan => CloseTrainingPlanRequest, crate::training::wire::plans::PlanRef;
        ListTrainingPlans => ListTrainingPlansRequest, crate::training::wire::plans::ListPlans;
        GetTrainingPlanProgress => GetTrainingPlanProgressRequest, crate::training::wire::plans::GetProgress;
        CreateCourse => CreateCourseRequest, crate::training::wire::courses::CreateCourse;
        UpdateCourse => UpdateCourseRequest, crate::training::wire::courses::UpdateCourse;
        GetCourse => GetCourseRequest, crate::training::wire::courses::CourseRef;
        DeleteCourse => DeleteCourseRequest, crate::training::wire::courses::CourseRef;
        ListCourses => ListCoursesRequest, crate::training::wire::courses::ListCourses;
        CreateUnit => CreateUnitRequest, crate::units::wire::CreateUnit;
        UpdateUnit => UpdateUnitRequest, crate::units::wire::UpdateUnit;
        GetUnit => GetUnitRequest, crate::units::wire::GetUnit;
        DeleteUnit => DeleteUnitRequest, crate::units::wire::DeleteUnit;
        ListUnits => ListUnitsRequest, crate::units::wire::ListUnits;
        CreateRotation => CreateRotationRequest, crate::movements::wire::CreateRotation;
        GetRotation => GetRotationRequest, crate::movements::wire::Named;
        DeleteRotation => DeleteRotationRequest, crate::movements::wire::Named;
        StartRotation => StartRotationRequest, crate::movements::wire::Named;
        CancelRotation => CancelRotationRequest, crate::movements::wire::Named;
        UpdateRotation => UpdateRotationRequest, crate::movements::wire::UpdateRotation;
        CompleteRotation => CompleteRotationRequest, crate::movements::wire::CompleteRotation;
        ListRotations => ListRotationsRequest, crate::movements::wire::ListRotations;
        CreateStandard => CreateStandardRequest, crate::standards::wire::CreateStandard;
        UpdateStandard => UpdateStandardRequest, crate::standards::wire::UpdateStandard;
        GetStandard => GetStandardRequest, crate::standards::wire::StandardRef;
        DeleteStandard => DeleteStandardRequest, crate::standards::wire::StandardRef;
        ListStandards => ListStandardsRequest, crate::standards::wire::ListStandards;
        GetPersonCompliance => GetPersonComplianceRequest, crate::standards::wire::GetCompliance;
        CreateSuccessionPool => CreateSuccessionPoolRequest, crate::succession::wire::CreatePool;
        UpdateSuccessionPool => UpdateSuccessionPoolRequest, crate::succession::wire::UpdatePool;
        GetSuccessionPool => GetSuccessionPoolRequest, crate::succession::wire::GetPool;
        DeleteSuccessionPool => DeleteSuccessionPoolRequest, crate::succession::wire::DeletePool;
        ListSuccessionPools => ListSuccessionPoolsRequest, crate::succession::wire::ListPools;
        AddCandidate => AddCandidateRequest, crate::succession::wire::AddCandidate;
        RemoveCandidate => RemoveCandidateRequest, crate::succession::wire::RemoveCandidate;
        GetWorkforceProfile => GetWorkforceProfileRequest, crate::reports::wire::GetWorkforceProfile;
        SummarizeEvaluations => SummarizeEvaluationsRequest, crate::reports::wire::SummarizeEvaluations;
        CompareWorkforceProfiles => CompareWorkforceProfilesRequest, crate::reports::wire::CompareWorkforceProfiles;
        GetStandardCompliance => GetStandardComplianceRequest, crate::reports::wire::GetStandardCompliance;
        SummarizeTraining => SummarizeTrainingRequest, crate::reports::wire::OverPeriod;
        SummarizeRotations => SummarizeRotationsRequest, crate::reports::wire::OverPeriod;
        GetStaffingSummary => GetStaffingSummaryRequest, crate::reports::wire::GetStaffingSummary;
        ExportReport => ExportReportRequest, crate::reports::wire::ExportReport;
        CreatePlacement => CreatePlacementRequest, crate::people::wire::records::Create<crate::people::rules::person::PlacementFields>;
        GetPlacement => GetPlacementRequest, crate::people::wire::records::Named<crate::edge::names::PlacementName>;
        DeletePlacement => DeletePlacementRequest, crate::people::wire::records::Named<crate::edge::names::PlacementName>;
        ListPlacements => ListPlacementsRequest, crate::people::wire::records::List;
        UpdatePlacement => UpdatePlacementRequest, crate::people::wire::records::Update<crate::edge::names::PlacementName, crate::people::wire::records::PlacementPatch>;
        CreateQualification => CreateQualificationRequest, crate::people::wire::records::Create<crate::people::rules::person::QualificationFields>;
        GetQualification => GetQualificationRequest, crate::people::wire::records::Named<crate::edge::names::QualificationName>;
        DeleteQualification => DeleteQualificationRequest, crate::people::wire::records::Named<crate::edge::names::QualificationName>;
        ListQualifications => ListQualificationsRequest, crate::people::wire::records::List;
        UpdateQualification => UpdateQualificationRequest, crate::people::wire::records::Update<crate::edge::names::QualificationName, crate::people::wire::records::QualificationPatch>;
        CreateEvaluation => CreateEvaluationRequest, crate::people::wire::records::Create<crate::people::wire::records::EvaluationFields>;
        GetEvaluation => GetEvaluationRequest, crate::people::wire::records::Named<crate::people::wire::records::EvaluationKey>;
        DeleteEvaluation => DeleteEvaluationRequest, crate::people::wire::records::Named<crate::people::wire::records::EvaluationKey>;
        ListEvaluations => ListEvaluationsRequest, crate::people::wire::records::List;
        UpdateEvaluation => UpdateEvaluationRequest, crate::people::wire::records::Update<crate::people::wire::records::EvaluationKey, crate::people::rules::person::Rating>;
        CreateDiscipline => CreateDisciplineRequest, crate::people::wire::records::Create<crate::people::rules::person::DisciplineFields>;
        GetDiscipline => GetDisciplineRequest, crate::people::wire::records::Named<crate::edge::names::DisciplineName>;
        DeleteDiscipline => DeleteDisciplineRequest, crate::people::wire::records::Named<crate::edge::names::DisciplineName>;
        ListDisciplines => ListDisciplinesRequest, crate::people::wire::records::List;
        UpdateDiscipline => UpdateDisciplineRequest, crate::people::wire::records::Update<crate::edge::names::DisciplineName, crate::people::wire::records::DisciplinePatch>;
        CreatePerson => CreatePersonRequest, crate::people::wire::person::CreatePerson;
        GetPerson => GetPersonRequest, crate::people::wire::person::GetPerson;
        UpdatePerson => UpdatePersonRequest, crate::people::wire::person::UpdatePerson;
        DeletePerson => DeletePersonRequest, crate::people::wire::person::DeletePerson;
        LookupPerson => LookupPersonRequest, crate::people::wire::person::LookupPerson;
        SearchPeople => SearchPeopleRequest, crate::people::wire::person::SearchPeople;
        ExportPeople => ExportPeopleRequest, crate::people::wire::person::ExportPeople;
        ListScales => ListScalesRequest;
        ImportPeople => ImportPeopleRequest;
        ImportEnrollments => ImportEnrollmentsRequest;
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    #[test]
    fn every_method_of_the_descriptor_set_is_reachable() {
        let set = prost_types::FileDescriptorSet::decode(crate::grpc::FILE_DESCRIPTOR_SET).expect("decodes");
        for method in set.file.iter().flat_map(|f| &f.service).flat_map(|s| &s.method) {
            assert!(super::methods().contains(&method.name()), "{} is not fuzzed", method.name());
            assert!(super::request(method.name(), &[0x0a, 0x7f]));
        }
    }
}
