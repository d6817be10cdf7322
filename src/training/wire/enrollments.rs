//! Enrolments in and out: create, get, list, delete, batches, imports, transitions.
//!
//! The fields of an enrolment to create are read here but judged by the use case:
//! whether its line and date are right depends on the plan, and the plan is only
//! read once the caller is known to be allowed to see it (scope before existence).

use chrono::NaiveDate;

use crate::{
    edge::{
        Violations,
        enums::Table as _,
        etag::etag,
        filter::{self, Field},
        names::{CourseName, EnrollmentName, PersonName, TrainingPlanName},
        page::Page,
        request::{date, request_id, request_key, to_date},
    },
    error::{Error, Result},
    grpc::pb,
    training::rules::{Condition, Enrollment, EnrollmentStatus},
    uow::RequestKey,
};

/// Most enrolments one BatchCreateEnrollments request may carry.
pub const MAX_BATCH: usize = 1000;
/// Most enrolments one ImportEnrollments stream may carry.
pub const MAX_IMPORT_RECORDS: usize = 100_000;
/// Longest grade, in characters.
const MAX_GRADE_CHARS: usize = 100;

/// The filterable fields of ListEnrollments.
const FILTER: &[Field<Condition>] = &[
    Field::value("line_id", |equal, v| Ok(Condition::Line { equal, line_id: v.to_owned() })),
    Field::value("status", |equal, v| Ok(Condition::Status { equal, status: EnrollmentStatus::from_filter(v)? })),
    Field::value("person", |equal, v| Ok(Condition::Person { equal, person: PersonName::parse(v)? })),
];

/// Parses a ListEnrollments filter.
pub fn parse_filter(text: &str) -> Result<Vec<Condition>, String> {
    filter::parse(text, FILTER)
}

impl From<&Enrollment> for pb::Enrollment {
    fn from(e: &Enrollment) -> Self {
        let completed = e.status == EnrollmentStatus::Completed;
        pb::Enrollment {
            name: e.name.to_string(),
            person: e.person.to_string(),
            line_id: e.line_id.clone(),
            course: e.course_id.map(|id| CourseName { parent: e.name.parent, id }.to_string()).unwrap_or_default(),
            status: e.status.wire(),
            history: e
                .history
                .iter()
                .map(|(s, d)| pb::StatusChange { status: s.wire(), date: Some(to_date(*d)) })
                .collect(),
            enrollment_date: Some(to_date(e.enrollment_date)),
            enrolled: e.history.first().is_some_and(|(s, _)| *s == EnrollmentStatus::Enrolled),
            result: completed.then(|| pb::EnrollmentResult {
                grade: e.grade.clone().unwrap_or_default(),
                distinction: e.distinction,
            }),
            qualification: e
                .qualification_id
                .map(|q| format!("people/{}/qualifications/{q}", e.person.id()))
                .unwrap_or_default(),
            etag: etag(e.revision),
        }
    }
}

/// The fields of an enrolment to create as the caller sent them, each read but not
/// yet judged (see the module comment): a field that cannot be read keeps its
/// complaint for the use case to report in its turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentInput {
    /// The person.
    pub person: Result<PersonName, String>,
    /// The line, as given.
    pub line_id: String,
    /// The course, when one is given.
    pub course: Option<Result<CourseName, String>>,
    /// The enrolment date.
    pub enrollment_date: Result<NaiveDate, String>,
    /// Whether the enrolment starts ENROLLED rather than PLANNED.
    pub enrolled: bool,
}

impl From<pb::Enrollment> for EnrollmentInput {
    fn from(enrollment: pb::Enrollment) -> Self {
        // Output-only fields are ignored on create (AIP-133).
        let pb::Enrollment {
            name: _,
            person,
            line_id,
            course,
            status: _,
            history: _,
            enrollment_date,
            enrolled,
            result: _,
            qualification: _,
            etag: _,
        } = enrollment;
        Self {
            person: PersonName::parse(&person),
            line_id,
            course: (!course.is_empty()).then(|| CourseName::parse(&course)),
            enrollment_date: date(enrollment_date.as_ref()),
            enrolled,
        }
    }
}

/// A checked CreateEnrollment request.
#[derive(Debug, Clone)]
pub struct CreateEnrollment {
    /// The plan.
    pub plan: TrainingPlanName,
    /// The enrolment, if given.
    pub enrollment: Option<EnrollmentInput>,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
}

impl TryFrom<pb::CreateEnrollmentRequest> for CreateEnrollment {
    type Error = Error;

    fn try_from(request: pb::CreateEnrollmentRequest) -> Result<Self> {
        let mut v = Violations::new();
        let plan = v.check("parent", TrainingPlanName::parse(&request.parent));
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateEnrollmentRequest { parent: _, enrollment, request_id: _ } = request;
        v.into_result(|| Some(Self { plan: plan?, enrollment: enrollment.map(Into::into), key }))
    }
}

/// A checked BatchCreateEnrollments request.
#[derive(Debug, Clone)]
pub struct BatchCreateEnrollments {
    /// The plan.
    pub plan: TrainingPlanName,
    /// The enrolments, in order (`None` where a request carries none).
    pub enrollments: Vec<Option<EnrollmentInput>>,
}

impl TryFrom<pb::BatchCreateEnrollmentsRequest> for BatchCreateEnrollments {
    type Error = Error;

    fn try_from(request: pb::BatchCreateEnrollmentsRequest) -> Result<Self> {
        let pb::BatchCreateEnrollmentsRequest { parent, requests } = request;
        let mut v = Violations::new();
        let plan = v.check("parent", TrainingPlanName::parse(&parent));
        if requests.is_empty() {
            v.add("requests", "is required: 1 to 1000 enrolments");
        } else if requests.len() > MAX_BATCH {
            v.add("requests", format!("carries {} enrolments; at most {MAX_BATCH}", requests.len()));
        }
        let mut enrollments = Vec::with_capacity(requests.len());
        for (i, r) in requests.into_iter().enumerate() {
            // Each request's identifier is checked; the batch as a whole is not
            // idempotent (it has no identifier of its own).
            let pb::CreateEnrollmentRequest { parent: own_parent, enrollment, request_id: id } = r;
            if !own_parent.is_empty() && own_parent != parent {
                v.add(format!("requests[{i}].parent"), format!("must be empty or `{parent}`"));
            }
            v.check(format!("requests[{i}].request_id"), request_id(&id));
            enrollments.push(enrollment.map(Into::into));
        }
        v.into_result(|| Some(Self { plan: plan?, enrollments }))
    }
}

/// One record of an import.
#[derive(Debug, Clone)]
pub struct ImportRecord {
    /// The parent the message named.
    pub parent: String,
    /// Its enrolment, if given.
    pub enrollment: Option<EnrollmentInput>,
}

impl From<pb::ImportEnrollmentsRequest> for ImportRecord {
    fn from(message: pb::ImportEnrollmentsRequest) -> Self {
        let pb::ImportEnrollmentsRequest { parent, enrollment } = message;
        Self { parent, enrollment: enrollment.map(Into::into) }
    }
}

/// The plan an import names in its first message.
pub fn import_plan(first: &pb::ImportEnrollmentsRequest) -> Result<TrainingPlanName> {
    TrainingPlanName::parse(&first.parent).map_err(|e| Error::invalid("parent", e))
}

/// A checked request naming an enrolment (get, delete), with the etag the caller
/// read, if the request has one.
#[derive(Debug, Clone)]
pub struct EnrollmentRef {
    /// The enrolment.
    pub name: EnrollmentName,
    /// The etag the caller read, if any.
    pub etag: String,
}

impl TryFrom<pb::GetEnrollmentRequest> for EnrollmentRef {
    type Error = Error;

    fn try_from(request: pb::GetEnrollmentRequest) -> Result<Self> {
        let pb::GetEnrollmentRequest { name } = request;
        let name = EnrollmentName::parse(&name).map_err(|e| Error::invalid("name", e))?;
        Ok(Self { name, etag: String::new() })
    }
}

impl TryFrom<pb::DeleteEnrollmentRequest> for EnrollmentRef {
    type Error = Error;

    fn try_from(request: pb::DeleteEnrollmentRequest) -> Result<Self> {
        let pb::DeleteEnrollmentRequest { name, etag } = request;
        let name = EnrollmentName::parse(&name).map_err(|e| Error::invalid("name", e))?;
        Ok(Self { name, etag })
    }
}

/// A checked ListEnrollments request.
#[derive(Debug, Clone)]
pub struct ListEnrollments {
    /// The plan.
    pub plan: TrainingPlanName,
    /// The filter's conditions.
    pub conditions: Vec<Condition>,
    /// The page asked for.
    pub page: Page,
}

impl TryFrom<pb::ListEnrollmentsRequest> for ListEnrollments {
    type Error = Error;

    fn try_from(request: pb::ListEnrollmentsRequest) -> Result<Self> {
        let pb::ListEnrollmentsRequest { parent, filter, page_size, page_token } = request;
        let mut v = Violations::new();
        let plan = v.check("parent", TrainingPlanName::parse(&parent));
        let conditions = v.check("filter", parse_filter(&filter));
        let page = Page::parse(&mut v, page_size, &page_token, &["enrollments", &parent, &filter]);
        v.into_result(|| Some(Self { plan: plan?, conditions: conditions?, page: page? }))
    }
}

/// A checked TransitionEnrollment request.
#[derive(Debug, Clone)]
pub struct TransitionEnrollment {
    /// The enrolment.
    pub name: EnrollmentName,
    /// The status it moves to.
    pub next: EnrollmentStatus,
    /// The day it does.
    pub day: NaiveDate,
    /// The grade (trimmed; `None` when empty) and distinction of a completion.
    pub result: Option<(Option<String>, bool)>,
    /// The etag the caller read, if any.
    pub etag: String,
}

impl TryFrom<pb::TransitionEnrollmentRequest> for TransitionEnrollment {
    type Error = Error;

    fn try_from(request: pb::TransitionEnrollmentRequest) -> Result<Self> {
        let pb::TransitionEnrollmentRequest { name, status, date: day, result, etag } = request;
        let mut v = Violations::new();
        let name = v.check("name", EnrollmentName::parse(&name));
        let next = v.check("status", EnrollmentStatus::required(status));
        let day = v.check("date", date(day.as_ref()));
        let result = result.map(|pb::EnrollmentResult { grade, distinction }| {
            let grade = grade.trim().to_owned();
            if grade.chars().count() > MAX_GRADE_CHARS {
                v.add("result.grade", format!("is longer than {MAX_GRADE_CHARS} characters"));
            }
            (Some(grade).filter(|g| !g.is_empty()), distinction)
        });
        v.into_result(|| Some(Self { name: name?, next: next?, day: day?, result, etag }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrollment_names_parse_with_positive_ids() {
        assert_eq!(EnrollmentName::parse("trainingPlans/4/enrollments/17"), Ok(EnrollmentName { parent: 4, id: 17 }));
        assert!(EnrollmentName::parse("trainingPlans/4/courses/17").is_err());
        assert!(EnrollmentName::parse("trainingPlans/0/enrollments/17").is_err());
        assert!(EnrollmentName::parse("trainingPlans/4/enrollments/x").is_err());
        assert!(EnrollmentName::parse("").is_err());
    }

    #[test]
    fn filters_parse() {
        let parsed = parse_filter(r#"line_id = "master" AND status = COMPLETED AND person = "people/1""#);
        assert_eq!(
            parsed,
            Ok(vec![
                Condition::Line { equal: true, line_id: "master".into() },
                Condition::Status { equal: true, status: EnrollmentStatus::Completed },
                Condition::Person { equal: true, person: PersonName(1) },
            ])
        );
        assert!(parse_filter("status = GRADUATED").is_err());
        assert!(parse_filter("grade = 3").is_err());
        assert_eq!(parse_filter(""), Ok(vec![]));
    }

    #[test]
    fn a_transition_reports_every_bad_field_at_once() {
        let request = pb::TransitionEnrollmentRequest {
            name: "trainingPlans/1/courses/2".into(),
            status: 0,
            date: None,
            result: Some(pb::EnrollmentResult { grade: "x".repeat(101), distinction: false }),
            etag: String::new(),
        };
        let Err(Error::InvalidArgument(violations)) = TransitionEnrollment::try_from(request) else {
            panic!("expected INVALID_ARGUMENT")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["name", "status", "date", "result.grade"]);
    }
}
