//! Courses in and out: create, get, list, update, delete.

use crate::{
    edge::{
        Violations,
        etag::etag,
        names::{CourseName, TrainingPlanName},
        page::Page,
        request::{date, request_key, to_date, update_paths},
    },
    error::{Error, Result},
    grpc::pb,
    training::rules::{
        Course, CourseChanges, CourseFields, MAX_TEXT_CHARS, Session, line_id, optional_text, required_text,
    },
    uow::RequestKey,
};

/// The fields UpdateCourse may change.
pub const COURSE_UPDATABLE: &[&str] = &["title", "provider", "location", "start_date", "end_date", "sessions"];

fn sessions(v: &mut Violations, value: Vec<pb::CourseSession>, path: &str) -> Option<Vec<Session>> {
    let mut result = Vec::new();
    let mut complete = true;
    for (i, session) in value.into_iter().enumerate() {
        let pb::CourseSession { start_date, end_date, location } = session;
        let start = v.check(format!("{path}.sessions[{i}].start_date"), date(start_date.as_ref()));
        let end = v.check(format!("{path}.sessions[{i}].end_date"), date(end_date.as_ref()));
        let location = v.check(format!("{path}.sessions[{i}].location"), optional_text(&location, MAX_TEXT_CHARS));
        match (start, end, location) {
            (Some(start_date), Some(end_date), Some(location)) => {
                result.push(Session { start_date, end_date, location });
            }
            _ => complete = false,
        }
    }
    complete.then_some(result)
}

impl From<&Course> for pb::Course {
    fn from(course: &Course) -> Self {
        let f = &course.fields;
        pb::Course {
            name: course.name.to_string(),
            line_id: f.line_id.clone(),
            title: f.title.clone(),
            provider: f.provider.clone(),
            location: f.location.clone(),
            start_date: Some(to_date(f.start_date)),
            end_date: Some(to_date(f.end_date)),
            sessions: f
                .sessions
                .iter()
                .map(|s| pb::CourseSession {
                    start_date: Some(to_date(s.start_date)),
                    end_date: Some(to_date(s.end_date)),
                    location: s.location.clone(),
                })
                .collect(),
            etag: etag(course.revision),
        }
    }
}

/// A checked CreateCourse request.
#[derive(Debug, Clone)]
pub struct CreateCourse {
    /// The plan.
    pub plan: TrainingPlanName,
    /// The course.
    pub fields: CourseFields,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
}

impl TryFrom<pb::CreateCourseRequest> for CreateCourse {
    type Error = Error;

    fn try_from(request: pb::CreateCourseRequest) -> Result<Self> {
        let mut v = Violations::new();
        let plan = v.check("parent", TrainingPlanName::parse(&request.parent));
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateCourseRequest { parent: _, course, request_id: _ } = request;
        let Some(course) = course else {
            v.add("course", "is required");
            return Err(v.into_error());
        };
        let pb::Course {
            name: _,
            line_id: line,
            title,
            provider,
            location,
            start_date,
            end_date,
            sessions: given_sessions,
            etag: _,
        } = course;
        let line = v.check("course.line_id", line_id(&line));
        let title = v.check("course.title", required_text(&title, MAX_TEXT_CHARS));
        let provider = v.check("course.provider", optional_text(&provider, MAX_TEXT_CHARS));
        let location = v.check("course.location", optional_text(&location, MAX_TEXT_CHARS));
        let start = v.check("course.start_date", date(start_date.as_ref()));
        let end = v.check("course.end_date", date(end_date.as_ref()));
        let sessions = sessions(&mut v, given_sessions, "course");
        v.into_result(|| {
            Some(Self {
                plan: plan?,
                fields: CourseFields {
                    line_id: line?,
                    title: title?,
                    provider: provider?,
                    location: location?,
                    start_date: start?,
                    end_date: end?,
                    sessions: sessions?,
                },
                key,
            })
        })
    }
}

/// A checked UpdateCourse request.
#[derive(Debug, Clone)]
pub struct UpdateCourse {
    /// The course.
    pub name: CourseName,
    /// The etag the caller read, if any.
    pub etag: String,
    /// What changes.
    pub changes: CourseChanges,
}

impl TryFrom<pb::UpdateCourseRequest> for UpdateCourse {
    type Error = Error;

    fn try_from(request: pb::UpdateCourseRequest) -> Result<Self> {
        let pb::UpdateCourseRequest { course, update_mask } = request;
        let Some(course) = course else { return Err(Error::invalid("course", "is required")) };
        let pb::Course {
            name,
            line_id: _,
            title,
            provider,
            location,
            start_date,
            end_date,
            sessions: given_sessions,
            etag,
        } = course;
        let mut v = Violations::new();
        let course_name = v.check("course.name", CourseName::parse(&name));
        let mut changes = CourseChanges::default();
        let mut given_sessions = Some(given_sessions);
        for path in update_paths(&mut v, update_mask.as_ref(), COURSE_UPDATABLE) {
            match path.as_str() {
                "title" => changes.title = v.check("course.title", required_text(&title, MAX_TEXT_CHARS)),
                "provider" => changes.provider = v.check("course.provider", optional_text(&provider, MAX_TEXT_CHARS)),
                "location" => changes.location = v.check("course.location", optional_text(&location, MAX_TEXT_CHARS)),
                "start_date" => changes.start_date = v.check("course.start_date", date(start_date.as_ref())),
                "end_date" => changes.end_date = v.check("course.end_date", date(end_date.as_ref())),
                "sessions" => {
                    changes.sessions = sessions(&mut v, given_sessions.take().unwrap_or_default(), "course");
                }
                _ => {}
            }
        }
        v.into_result(|| Some(Self { name: course_name?, etag, changes }))
    }
}

/// A checked request naming a course (get, delete), with the etag the caller read,
/// if the request has one.
#[derive(Debug, Clone)]
pub struct CourseRef {
    /// The course.
    pub name: CourseName,
    /// The etag the caller read, if any.
    pub etag: String,
}

fn course_ref(name: &str, etag: String) -> Result<CourseRef> {
    let mut v = Violations::new();
    let name = v.check("name", CourseName::parse(name));
    v.into_result(|| Some(CourseRef { name: name?, etag }))
}

impl TryFrom<pb::GetCourseRequest> for CourseRef {
    type Error = Error;

    fn try_from(request: pb::GetCourseRequest) -> Result<Self> {
        let pb::GetCourseRequest { name } = request;
        course_ref(&name, String::new())
    }
}

impl TryFrom<pb::DeleteCourseRequest> for CourseRef {
    type Error = Error;

    fn try_from(request: pb::DeleteCourseRequest) -> Result<Self> {
        let pb::DeleteCourseRequest { name, etag } = request;
        course_ref(&name, etag)
    }
}

/// A checked ListCourses request.
#[derive(Debug, Clone)]
pub struct ListCourses {
    /// The plan.
    pub plan: TrainingPlanName,
    /// The page asked for.
    pub page: Page,
}

impl TryFrom<pb::ListCoursesRequest> for ListCourses {
    type Error = Error;

    fn try_from(request: pb::ListCoursesRequest) -> Result<Self> {
        let pb::ListCoursesRequest { parent, page_size, page_token } = request;
        let mut v = Violations::new();
        let plan = v.check("parent", TrainingPlanName::parse(&parent));
        let page = Page::parse(&mut v, page_size, &page_token, &["ListCourses", &parent]);
        v.into_result(|| Some(Self { plan: plan?, page: page? }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_names_have_a_plan_and_a_course() {
        assert_eq!(CourseName::parse("trainingPlans/4/courses/2"), Ok(CourseName { parent: 4, id: 2 }));
        for bad in ["", "trainingPlans/4", "trainingPlans/0/courses/2", "trainingPlans/4/courses/x", "courses/2"] {
            assert!(CourseName::parse(bad).is_err(), "{bad}");
        }
    }
}
