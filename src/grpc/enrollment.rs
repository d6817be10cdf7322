//! EnrollmentService: enrolments of people in the lines of approved training plans,
//! their transitions, and the qualification a completed degree line records.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::NaiveDate;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use tokio_stream::StreamExt as _;
use tonic::{Request, Response, Status, Streaming};

use super::{
    Violations, check_etag, convert, idempotency, parse_id,
    pb::{self, enrollment_service_server::EnrollmentService},
    replayed, request_id, required,
};
use crate::{
    auth::{Access, PersonAccess, Principal, RequestContext, Scope, authorize_person, authorize_plan, require_access},
    domain::{
        etag, page,
        person::{Category, QualificationFields},
        training::{EnrollmentStatus, PlanStatus, ProgrammeKind, in_period},
    },
    error::{Error, Result, RuleViolation, Violation},
    store::{
        self, audit,
        enrollment::{self as enrollments, EnrollmentFilter, EnrollmentRow, NewEnrollment, Outcome},
        person as people,
        training::{PlanRecord, load_plan, plan_name},
    },
};

/// Most enrolments one BatchCreateEnrollments request may carry.
pub const MAX_BATCH: usize = 1000;
/// Most enrolments one ImportEnrollments stream may carry.
pub const MAX_IMPORT_RECORDS: usize = 100_000;

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

// ---- names -------------------------------------------------------------------------

fn enrollment_name(plan_id: i64, id: i64) -> String {
    format!("trainingPlans/{plan_id}/enrollments/{id}")
}

/// Parses `trainingPlans/{plan}/{collection}/{id}` into (plan id, id).
fn parse_child(name: &str, collection: &str) -> Result<(i64, i64), String> {
    let parts: Vec<&str> = name.split('/').collect();
    let positive = |s: &str| s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0') && !s.is_empty();
    match parts.as_slice() {
        ["trainingPlans", plan, c, id] if *c == collection && positive(plan) && positive(id) => {
            match (plan.parse::<i64>(), id.parse::<i64>()) {
                (Ok(p), Ok(i)) => Ok((p, i)),
                _ => Err(format!("`{name}` does not have positive integer ids")),
            }
        }
        _ if name.is_empty() => Err("is required".to_owned()),
        _ => Err(format!("`{name}` is not a name of the form `trainingPlans/{{plan}}/{collection}/{{id}}`")),
    }
}

// ---- enums -------------------------------------------------------------------------

fn status_to_pb(value: EnrollmentStatus) -> pb::EnrollmentStatus {
    match value {
        EnrollmentStatus::Planned => pb::EnrollmentStatus::Planned,
        EnrollmentStatus::Enrolled => pb::EnrollmentStatus::Enrolled,
        EnrollmentStatus::Completed => pb::EnrollmentStatus::Completed,
        EnrollmentStatus::Dropped => pb::EnrollmentStatus::Dropped,
        EnrollmentStatus::Failed => pb::EnrollmentStatus::Failed,
    }
}

fn status(value: i32) -> Result<EnrollmentStatus, String> {
    use pb::EnrollmentStatus as S;
    match S::try_from(value).map_err(|_| format!("{value} is not an EnrollmentStatus"))? {
        S::Unspecified => Err("is required".to_owned()),
        S::Planned => Ok(EnrollmentStatus::Planned),
        S::Enrolled => Ok(EnrollmentStatus::Enrolled),
        S::Completed => Ok(EnrollmentStatus::Completed),
        S::Dropped => Ok(EnrollmentStatus::Dropped),
        S::Failed => Ok(EnrollmentStatus::Failed),
    }
}

fn enrollment_to_pb(row: &EnrollmentRow) -> pb::Enrollment {
    let completed = row.status == EnrollmentStatus::Completed;
    pb::Enrollment {
        name: enrollment_name(row.plan_id, row.id),
        person: format!("people/{}", row.person_id),
        line_id: row.line_id.clone(),
        course: row.course_id.map(|c| format!("trainingPlans/{}/courses/{c}", row.plan_id)).unwrap_or_default(),
        status: status_to_pb(row.status).into(),
        history: row
            .history
            .iter()
            .map(|(s, d)| pb::StatusChange { status: status_to_pb(*s).into(), date: Some(convert::to_date(*d)) })
            .collect(),
        enrollment_date: Some(convert::to_date(row.enrollment_date)),
        enrolled: row.history.first().is_some_and(|(s, _)| *s == EnrollmentStatus::Enrolled),
        result: completed.then(|| pb::EnrollmentResult {
            grade: row.grade.clone().unwrap_or_default(),
            distinction: row.distinction,
        }),
        qualification: row
            .qualification_id
            .map(|q| format!("people/{}/qualifications/{q}", row.person_id))
            .unwrap_or_default(),
        etag: etag(row.revision),
    }
}

// ---- helpers -----------------------------------------------------------------------

fn at(path: &str, field: &str) -> String {
    if path.is_empty() { field.to_owned() } else { format!("{path}.{field}") }
}

/// Loads a plan the caller was authorised for; NOT_FOUND when it does not exist.
async fn plan_for(db: &DatabaseConnection, principal: &Principal, plan_id: i64, access: Access) -> Result<PlanRecord> {
    authorize_plan(db, principal, plan_id, access, access == Access::Read).await?;
    load_plan(db, plan_id).await?.ok_or_else(|| Error::NotFound(plan_name(plan_id)))
}

/// FAILED_PRECONDITION unless the plan takes enrolments and transitions.
fn ensure_approved(plan: &PlanRecord) -> Result<()> {
    plan.ensure_open()?;
    if plan.status == PlanStatus::Draft {
        return Err(Error::precondition(plan.name(), "the plan is a draft: approve the plan first"));
    }
    Ok(())
}

/// What is wrong with one enrolment to create.
#[derive(Debug, Default)]
struct Problems {
    /// The person is outside the caller's scope.
    denied: Option<String>,
    /// Bad fields.
    invalid: Vec<Violation>,
    /// Broken rules of the records: (field, rule).
    rules: Vec<(String, RuleViolation)>,
    /// The person and the enrolment date, when both could be read.
    who: Option<(i64, NaiveDate)>,
}

impl Problems {
    fn is_empty(&self) -> bool {
        self.denied.is_none() && self.invalid.is_empty() && self.rules.is_empty()
    }

    /// The one error of a single create: scope first, then fields, then rules.
    fn into_error(self) -> Result<()> {
        if let Some(denied) = self.denied {
            return Err(Error::PermissionDenied(denied));
        }
        if !self.invalid.is_empty() {
            return Err(Error::InvalidArgument(self.invalid));
        }
        if !self.rules.is_empty() {
            return Err(Error::FailedPrecondition(self.rules.into_iter().map(|(_, r)| r).collect()));
        }
        Ok(())
    }

    /// Every problem as a field violation (for imports, where a scope failure reads
    /// like a person that does not exist).
    fn into_violations(self, person_field: &str, unknown_person: &str) -> Vec<Violation> {
        let mut violations = Vec::new();
        if self.denied.is_some() {
            violations.push(Violation::new(person_field, unknown_person));
        }
        violations.extend(self.invalid);
        violations.extend(self.rules.into_iter().map(|(field, r)| Violation::new(field, r.description)));
        violations
    }
}

/// Converts an enrolment to create and checks it against the plan, without the
/// database. `path` prefixes the field paths.
fn draft(
    problems: &mut Problems,
    given: Option<&pb::Enrollment>,
    path: &str,
    plan: &PlanRecord,
) -> Option<NewEnrollment> {
    let Some(e) = given else {
        problems.invalid.push(Violation::new(if path.is_empty() { "enrollment" } else { path }, "is required"));
        return None;
    };
    let mut v = Vec::new();
    let person_id = parse_id(&e.person, "people").map_err(|d| v.push(Violation::new(at(path, "person"), d))).ok();
    let line_id = if e.line_id.is_empty() {
        v.push(Violation::new(at(path, "line_id"), "is required"));
        None
    } else if plan.line(&e.line_id).is_none() {
        v.push(Violation::new(at(path, "line_id"), format!("`{}` is not a line of {}", e.line_id, plan.name())));
        None
    } else {
        Some(e.line_id.clone())
    };
    let course_id = if e.course.is_empty() {
        Some(None)
    } else {
        match parse_child(&e.course, "courses") {
            Ok((p, c)) if p == plan.id => Some(Some(c)),
            Ok(_) => {
                v.push(Violation::new(
                    at(path, "course"),
                    format!("`{}` is not a course of {}", e.course, plan.name()),
                ));
                None
            }
            Err(d) => {
                v.push(Violation::new(at(path, "course"), d));
                None
            }
        }
    };
    let date = match convert::date(e.enrollment_date.as_ref()) {
        Ok(day) if in_period(plan.period_start, plan.period_end, day) => Some(day),
        Ok(day) => {
            v.push(Violation::new(
                at(path, "enrollment_date"),
                format!("{day} is outside the plan's period [{}, {})", plan.period_start, plan.period_end),
            ));
            None
        }
        Err(d) => {
            v.push(Violation::new(at(path, "enrollment_date"), d));
            None
        }
    };
    problems.invalid.extend(v);
    if let (Some(person_id), Ok(day)) = (person_id, convert::date(e.enrollment_date.as_ref())) {
        problems.who = Some((person_id, day));
    }
    Some(NewEnrollment {
        person_id: person_id?,
        line_id: line_id?,
        course_id: course_id?,
        enrollment_date: date?,
        status: if e.enrolled { EnrollmentStatus::Enrolled } else { EnrollmentStatus::Planned },
    })
}

/// The words for a person that does not exist (or, for a scoped caller, is outside
/// its scope: both read the same).
fn unknown_person(principal: &Principal, person_id: i64) -> String {
    match principal.scope {
        Scope::National => format!("people/{person_id} does not exist"),
        Scope::Localities(_) => format!("people/{person_id} does not exist or is outside the caller's scope"),
    }
}

/// Checks that the enrolled person is in the caller's scope on the enrolment date
/// (before anything else is said about the enrolment).
async fn check_scope(db: &DatabaseConnection, principal: &Principal, problems: &mut Problems) -> Result<()> {
    let Some((person_id, day)) = problems.who else { return Ok(()) };
    match authorize_person(db, principal, person_id, day, PersonAccess::Write).await {
        Ok(()) => Ok(()),
        Err(Error::PermissionDenied(message)) => {
            problems.denied = Some(message);
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// Checks an enrolment to create against the records: the caller's scope over the
/// person, the course, the person's placement and the line's audience, and open
/// enrolments of the same person on the line.
async fn check_against_records(
    db: &DatabaseConnection,
    principal: &Principal,
    plan: &PlanRecord,
    new: &NewEnrollment,
    path: &str,
    problems: &mut Problems,
) -> Result<()> {
    let person = format!("people/{}", new.person_id);
    if !enrollments::person_exists(db, new.person_id).await? {
        problems.invalid.push(Violation::new(at(path, "person"), unknown_person(principal, new.person_id)));
        return Ok(());
    }
    let line = plan.line(&new.line_id);
    if let Some(course_id) = new.course_id {
        match enrollments::course(db, plan.id, course_id).await? {
            None => problems.invalid.push(Violation::new(
                at(path, "course"),
                format!("trainingPlans/{}/courses/{course_id} does not exist", plan.id),
            )),
            Some((course_line, _)) if course_line != new.line_id => problems.invalid.push(Violation::new(
                at(path, "course"),
                format!(
                    "trainingPlans/{}/courses/{course_id} serves line `{course_line}`, not `{}`",
                    plan.id, new.line_id
                ),
            )),
            Some(_) => {}
        }
    }
    let mut rule = |field: &str, description: String| {
        problems.rules.push((at(path, field), RuleViolation { subject: person.clone(), description }));
    };
    let day = new.enrollment_date;
    match enrollments::placement_on(db, new.person_id, day).await? {
        None => rule("person", format!("{person} is placed nowhere on {day}")),
        Some(placed) => {
            let owner = BTreeSet::from([plan.owner.clone()]);
            if !store::scope::is_within(db, &placed.locality, &owner).await? {
                rule("person", format!("{person} is not placed inside {} on {day}", plan.owner.name()));
            }
            if let Some(line) = line {
                if let Some(tier) = line.audience_tier
                    && placed.locality.tier() != tier
                {
                    rule("person", format!("line `{}` is for the {} tier only", line.line_id, tier.as_str()));
                }
                if let Some(category) = line.audience_category
                    && placed.category != category
                {
                    rule("person", format!("line `{}` is for {} only", line.line_id, category_words(category)));
                }
                if line.leaders_only && !placed.leader {
                    rule("person", format!("line `{}` is for leaders and managers only", line.line_id));
                }
            }
        }
    }
    if let Some(open) = enrollments::open_enrollment(db, plan.id, &new.line_id, new.person_id).await? {
        rule(
            "line_id",
            format!(
                "{person} already has an open enrolment in line `{}`: {}",
                new.line_id,
                enrollment_name(plan.id, open)
            ),
        );
    }
    Ok(())
}

fn category_words(category: Category) -> &'static str {
    match category {
        Category::Cadre => "cadres",
        Category::CivilServant => "civil servants",
        Category::PublicEmployee => "public employees",
        Category::PartTimeWorker => "part-time workers",
        Category::ContractWorker => "contract workers",
    }
}

/// Writes enrolments in one transaction and audits them; returns their ids in order.
async fn write_enrollments(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    method: &str,
    plan: &PlanRecord,
    news: &[NewEnrollment],
    idem: Option<&(String, String)>,
) -> Result<Vec<i64>> {
    let txn = store::begin_write(db).await?;
    let mut ids = Vec::with_capacity(news.len());
    for new in news {
        // Again inside the transaction, so that two concurrent writers cannot both open one.
        if let Some(open) = enrollments::open_enrollment(&txn, plan.id, &new.line_id, new.person_id).await? {
            return Err(Error::precondition(
                format!("people/{}", new.person_id),
                format!("already has an open enrolment in line `{}`: {}", new.line_id, enrollment_name(plan.id, open)),
            ));
        }
        ids.push(enrollments::insert(&txn, plan.id, new).await?);
    }
    let resource = match ids.as_slice() {
        [id] => enrollment_name(plan.id, *id),
        _ => format!("{}/enrollments ({} created)", plan.name(), ids.len()),
    };
    if let Some((request_id, fingerprint)) = idem {
        audit::remember_request(&txn, method, request_id, fingerprint, &resource).await?;
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        method,
        &resource,
        idem.map(|(r, _)| r.as_str()),
        serde_json::json!({ "enrollments": ids.len() }),
    )
    .await?;
    crate::store::commit(txn, ctx).await?;
    Ok(ids)
}

async fn reload(db: &DatabaseConnection, plan_id: i64, id: i64) -> Result<pb::Enrollment> {
    enrollments::load(db, plan_id, id)
        .await?
        .map(|row| enrollment_to_pb(&row))
        .ok_or_else(|| Error::NotFound(enrollment_name(plan_id, id)))
}

fn parse_filter(filter: &str) -> Result<EnrollmentFilter, String> {
    let mut parsed = EnrollmentFilter::default();
    let filter = filter.trim();
    if filter.is_empty() {
        return Ok(parsed);
    }
    if filter.len() > 1000 {
        return Err("is longer than 1000 characters".to_owned());
    }
    for term in filter.split(" AND ") {
        let Some((field, value)) = term.split_once('=') else {
            return Err(format!("cannot read `{}`; expected `field = value`", term.trim()));
        };
        let value = value.trim();
        let unquoted = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        match field.trim() {
            "line_id" => parsed.line_id = Some(unquoted.to_owned()),
            "status" => {
                let upper = unquoted.to_uppercase();
                let short = upper.strip_prefix("ENROLLMENT_STATUS_").unwrap_or(&upper).to_lowercase();
                parsed.status =
                    Some(EnrollmentStatus::from_db(&short).ok_or_else(|| format!("unknown status `{unquoted}`"))?);
            }
            "person" => parsed.person_id = Some(parse_id(unquoted, "people")?),
            other => {
                return Err(format!("unknown field `{other}`; filterable fields are line_id, status and person"));
            }
        }
    }
    Ok(parsed)
}

/// The qualification a completed degree line records.
async fn recorded_qualification(
    db: &DatabaseConnection,
    plan: &PlanRecord,
    row: &EnrollmentRow,
    day: NaiveDate,
) -> Result<Option<QualificationFields>> {
    let Some(line) = plan.line(&row.line_id) else { return Ok(None) };
    let (ProgrammeKind::Degree, Some((scale, level))) = (line.kind, line.level.clone()) else { return Ok(None) };
    let institution = match row.course_id {
        Some(course_id) => enrollments::course(db, plan.id, course_id).await?.map(|(_, p)| p).unwrap_or_default(),
        None => String::new(),
    };
    Ok(Some(QualificationFields {
        scale,
        level,
        field_of_study: line.title.chars().take(200).collect(),
        institution: institution.chars().take(200).collect(),
        awarded_on: day,
    }))
}

async fn apply_transition(
    txn: &DatabaseTransaction,
    row: &EnrollmentRow,
    next: EnrollmentStatus,
    day: NaiveDate,
    result: Option<&pb::EnrollmentResult>,
    qualification: Option<&QualificationFields>,
) -> Result<()> {
    let mut outcome =
        Outcome { grade: row.grade.clone(), distinction: row.distinction, qualification_id: row.qualification_id };
    if next == EnrollmentStatus::Completed {
        outcome.grade = result.map(|r| r.grade.trim().to_owned()).filter(|g| !g.is_empty());
        outcome.distinction = result.is_some_and(|r| r.distinction);
        if let Some(q) = qualification {
            outcome.qualification_id = Some(people::insert_qualification(txn, row.person_id, q).await?);
        }
    } else if row.status == EnrollmentStatus::Completed {
        outcome = Outcome { grade: None, distinction: false, qualification_id: None };
    }
    if !enrollments::transition(txn, row, next, day, &outcome).await? {
        return Err(Error::Aborted(format!(
            "{} changed concurrently; read it again",
            enrollment_name(row.plan_id, row.id)
        )));
    }
    if row.status == EnrollmentStatus::Completed
        && let Some(q) = row.qualification_id
    {
        enrollments::delete_qualification(txn, row.person_id, q).await?;
    }
    Ok(())
}

#[tonic::async_trait]
impl EnrollmentService for EnrollmentApi {
    async fn create_enrollment(
        &self,
        request: Request<pb::CreateEnrollmentRequest>,
    ) -> Result<Response<pb::CreateEnrollmentResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let plan_id = v.check("parent", parse_id(&req.parent, "trainingPlans"));
        let rid = v.check("request_id", request_id(&req.request_id)).flatten();
        v.finish()?;
        let plan = plan_for(&self.db, &ctx.principal, required(plan_id, "parent")?, Access::Write).await?;
        let idem = idempotency(rid, &req, |r| r.request_id.clear());
        if let Some(name) = replayed(&self.db, "CreateEnrollment", idem.as_ref()).await? {
            let (plan_id, id) = parse_child(&name, "enrollments").map_err(Error::internal)?;
            return Ok(Response::new(pb::CreateEnrollmentResponse {
                enrollment: Some(reload(&self.db, plan_id, id).await?),
            }));
        }
        ensure_approved(&plan)?;
        let mut problems = Problems::default();
        let new = draft(&mut problems, req.enrollment.as_ref(), "enrollment", &plan);
        check_scope(&self.db, &ctx.principal, &mut problems).await?;
        if let Some(new) = &new
            && problems.is_empty()
        {
            check_against_records(&self.db, &ctx.principal, &plan, new, "enrollment", &mut problems).await?;
        }
        problems.into_error()?;
        let new = required(new, "enrollment")?;
        let ids =
            write_enrollments(&self.db, &ctx, "CreateEnrollment", &plan, std::slice::from_ref(&new), idem.as_ref())
                .await?;
        let id = ids.first().copied().ok_or_else(|| Error::internal("no enrolment created"))?;
        Ok(Response::new(pb::CreateEnrollmentResponse { enrollment: Some(reload(&self.db, plan.id, id).await?) }))
    }

    async fn get_enrollment(
        &self,
        request: Request<pb::GetEnrollmentRequest>,
    ) -> Result<Response<pb::GetEnrollmentResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (plan_id, id) = parse_child(&req.name, "enrollments").map_err(|e| Error::invalid("name", e))?;
        plan_for(&self.db, &ctx.principal, plan_id, Access::Read).await?;
        let row = enrollments::load(&self.db, plan_id, id).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        Ok(Response::new(pb::GetEnrollmentResponse { enrollment: Some(enrollment_to_pb(&row)) }))
    }

    async fn list_enrollments(
        &self,
        request: Request<pb::ListEnrollmentsRequest>,
    ) -> Result<Response<pb::ListEnrollmentsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let plan_id = v.check("parent", parse_id(&req.parent, "trainingPlans"));
        let filter = v.check("filter", parse_filter(&req.filter)).unwrap_or_default();
        let limit = v.check("page_size", page::page_size(req.page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
        let fingerprint = page::fingerprint(&["enrollments", &req.parent, &req.filter]);
        let after = v
            .check("page_token", page::decode(&req.page_token, &fingerprint))
            .flatten()
            .and_then(|key| key.first().and_then(|k| k.parse::<i64>().ok()));
        v.finish()?;
        let plan = plan_for(&self.db, &ctx.principal, required(plan_id, "parent")?, Access::Read).await?;
        let mut rows = enrollments::list(&self.db, plan.id, &filter, after, limit + 1).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            rows.last().map(|last| page::encode(&fingerprint, vec![last.id.to_string()])).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListEnrollmentsResponse {
            enrollments: rows.iter().map(enrollment_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn delete_enrollment(
        &self,
        request: Request<pb::DeleteEnrollmentRequest>,
    ) -> Result<Response<pb::DeleteEnrollmentResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (plan_id, id) = parse_child(&req.name, "enrollments").map_err(|e| Error::invalid("name", e))?;
        let plan = plan_for(&self.db, &ctx.principal, plan_id, Access::Write).await?;
        plan.ensure_open()?;
        let row = enrollments::load(&self.db, plan_id, id).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        check_etag(&req.etag, row.revision, &req.name)?;
        let txn = store::begin_write(&self.db).await?;
        if !enrollments::delete(&txn, row.id, row.revision).await? {
            return Err(Error::Aborted(format!("{} changed concurrently; read it again", req.name)).into());
        }
        if let Some(q) = row.qualification_id {
            enrollments::delete_qualification(&txn, row.person_id, q).await?;
        }
        audit::record(
            &txn,
            &ctx.principal.subject,
            "DeleteEnrollment",
            &req.name,
            None,
            serde_json::json!({ "qualification": row.qualification_id }),
        )
        .await?;
        crate::store::commit(txn, &ctx).await?;
        Ok(Response::new(pb::DeleteEnrollmentResponse {}))
    }

    async fn batch_create_enrollments(
        &self,
        request: Request<pb::BatchCreateEnrollmentsRequest>,
    ) -> Result<Response<pb::BatchCreateEnrollmentsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let plan_id = v.check("parent", parse_id(&req.parent, "trainingPlans"));
        if req.requests.is_empty() {
            v.add("requests", "is required: 1 to 1000 enrolments");
        } else if req.requests.len() > MAX_BATCH {
            v.add("requests", format!("carries {} enrolments; at most {MAX_BATCH}", req.requests.len()));
        }
        for (i, r) in req.requests.iter().enumerate() {
            if !r.parent.is_empty() && r.parent != req.parent {
                v.add(format!("requests[{i}].parent"), format!("must be empty or `{}`", req.parent));
            }
            if let Err(e) = request_id(&r.request_id) {
                v.add(format!("requests[{i}].request_id"), e);
            }
        }
        v.finish()?;
        let plan = plan_for(&self.db, &ctx.principal, required(plan_id, "parent")?, Access::Write).await?;
        ensure_approved(&plan)?;
        let mut problems = Problems::default();
        let mut news = Vec::with_capacity(req.requests.len());
        let mut seen: HashSet<(i64, String)> = HashSet::new();
        for (i, r) in req.requests.iter().enumerate() {
            let path = format!("requests[{i}].enrollment");
            let mut own = Problems::default();
            let new = draft(&mut own, r.enrollment.as_ref(), &path, &plan);
            check_scope(&self.db, &ctx.principal, &mut own).await?;
            if let Some(new) = &new {
                if !seen.insert((new.person_id, new.line_id.clone())) {
                    own.invalid.push(Violation::new(
                        at(&path, "person"),
                        format!("people/{} is enrolled twice in line `{}` in this batch", new.person_id, new.line_id),
                    ));
                }
                if own.is_empty() {
                    check_against_records(&self.db, &ctx.principal, &plan, new, &path, &mut own).await?;
                }
            }
            if problems.denied.is_none() {
                problems.denied = own.denied;
            }
            problems.invalid.extend(own.invalid);
            problems.rules.extend(own.rules);
            news.extend(new);
        }
        problems.into_error()?;
        let ids = write_enrollments(&self.db, &ctx, "BatchCreateEnrollments", &plan, &news, None).await?;
        let mut created = Vec::with_capacity(ids.len());
        for id in ids {
            created.push(reload(&self.db, plan.id, id).await?);
        }
        Ok(Response::new(pb::BatchCreateEnrollmentsResponse { enrollments: created }))
    }

    async fn import_enrollments(
        &self,
        request: Request<Streaming<pb::ImportEnrollmentsRequest>>,
    ) -> Result<Response<pb::ImportEnrollmentsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        require_access(&ctx.principal, Access::Write)?;
        let mut stream = request.into_inner();
        let mut messages: Vec<pb::ImportEnrollmentsRequest> = Vec::new();
        let mut plan: Option<PlanRecord> = None;
        while let Some(message) = stream.next().await {
            let message = message?;
            if messages.len() >= MAX_IMPORT_RECORDS {
                return Err(Status::resource_exhausted(format!(
                    "an import carries at most {MAX_IMPORT_RECORDS} enrolments; split it"
                )));
            }
            if plan.is_none() {
                // The first message names the plan; it is authorised before anything else is read.
                let plan_id = parse_id(&message.parent, "trainingPlans").map_err(|e| Error::invalid("parent", e))?;
                let found = plan_for(&self.db, &ctx.principal, plan_id, Access::Write).await?;
                ensure_approved(&found)?;
                plan = Some(found);
            }
            messages.push(message);
        }
        let received_count = i32::try_from(messages.len()).unwrap_or(i32::MAX);
        let Some(plan) = plan else {
            return Ok(Response::new(pb::ImportEnrollmentsResponse {
                received_count,
                imported_count: 0,
                rejected: Vec::new(),
            }));
        };
        let parent = plan.name();
        let mut rejected: BTreeMap<usize, Vec<Violation>> = BTreeMap::new();
        let mut news = Vec::with_capacity(messages.len());
        let mut seen: HashSet<(i64, String)> = HashSet::new();
        for (index, message) in messages.iter().enumerate() {
            let mut own = Problems::default();
            if message.parent != parent {
                own.invalid.push(Violation::new("parent", format!("must be `{parent}` in every message")));
            }
            let new = draft(&mut own, message.enrollment.as_ref(), "", &plan);
            check_scope(&self.db, &ctx.principal, &mut own).await?;
            let unknown = own.who.map(|(person_id, _)| unknown_person(&ctx.principal, person_id)).unwrap_or_default();
            if let Some(new) = &new {
                if !seen.insert((new.person_id, new.line_id.clone())) {
                    own.invalid.push(Violation::new(
                        "person",
                        format!("people/{} is enrolled twice in line `{}` in this import", new.person_id, new.line_id),
                    ));
                }
                if own.is_empty() {
                    check_against_records(&self.db, &ctx.principal, &plan, new, "", &mut own).await?;
                }
            }
            if !own.is_empty() {
                rejected.insert(index, own.into_violations("person", &unknown));
            }
            news.extend(new);
        }
        if !rejected.is_empty() || news.is_empty() {
            return Ok(Response::new(pb::ImportEnrollmentsResponse {
                received_count,
                imported_count: 0,
                rejected: rejected
                    .into_iter()
                    .map(|(index, violations)| pb::RejectedEnrollment {
                        index: i32::try_from(index).unwrap_or(i32::MAX),
                        violations: violations
                            .into_iter()
                            .map(|v| pb::EnrollmentViolation { field: v.field, description: v.description })
                            .collect(),
                    })
                    .collect(),
            }));
        }
        let ids = write_enrollments(&self.db, &ctx, "ImportEnrollments", &plan, &news, None).await?;
        tracing::info!(enrollments = ids.len(), "imported enrolments");
        Ok(Response::new(pb::ImportEnrollmentsResponse {
            received_count,
            imported_count: i32::try_from(ids.len()).unwrap_or(i32::MAX),
            rejected: Vec::new(),
        }))
    }

    async fn transition_enrollment(
        &self,
        request: Request<pb::TransitionEnrollmentRequest>,
    ) -> Result<Response<pb::TransitionEnrollmentResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let key = v.check("name", parse_child(&req.name, "enrollments"));
        let next = v.check("status", status(req.status));
        let day = v.check("date", convert::date(req.date.as_ref()));
        if let Some(result) = &req.result
            && result.grade.trim().chars().count() > 100
        {
            v.add("result.grade", "is longer than 100 characters");
        }
        v.finish()?;
        let (plan_id, id) = required(key, "name")?;
        let (next, day) = (required(next, "status")?, required(day, "date")?);
        let plan = plan_for(&self.db, &ctx.principal, plan_id, Access::Write).await?;
        ensure_approved(&plan)?;
        let row = enrollments::load(&self.db, plan_id, id).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        check_etag(&req.etag, row.revision, &req.name)?;
        if !row.status.can_become(next) {
            return Err(Error::precondition(
                &req.name,
                format!("an enrolment {} cannot become {}", row.status.as_str(), next.as_str()),
            )
            .into());
        }
        if !in_period(plan.period_start, plan.period_end, day) {
            return Err(Error::invalid(
                "date",
                format!("{day} is outside the plan's period [{}, {})", plan.period_start, plan.period_end),
            )
            .into());
        }
        if let Some((_, last)) = row.history.last()
            && day < *last
        {
            return Err(Error::invalid("date", format!("{day} is before the last transition, on {last}")).into());
        }
        let qualification = if next == EnrollmentStatus::Completed {
            recorded_qualification(&self.db, &plan, &row, day).await?
        } else {
            None
        };
        let txn = store::begin_write(&self.db).await?;
        apply_transition(&txn, &row, next, day, req.result.as_ref(), qualification.as_ref()).await?;
        audit::record(
            &txn,
            &ctx.principal.subject,
            "TransitionEnrollment",
            &req.name,
            None,
            serde_json::json!({ "from": row.status.as_str(), "to": next.as_str(), "date": day.to_string() }),
        )
        .await?;
        crate::store::commit(txn, &ctx).await?;
        Ok(Response::new(pb::TransitionEnrollmentResponse { enrollment: Some(reload(&self.db, plan_id, id).await?) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrollment_names_parse_with_positive_ids() {
        assert_eq!(parse_child("trainingPlans/4/enrollments/17", "enrollments"), Ok((4, 17)));
        assert!(parse_child("trainingPlans/4/courses/17", "enrollments").is_err());
        assert!(parse_child("trainingPlans/0/enrollments/17", "enrollments").is_err());
        assert!(parse_child("trainingPlans/4/enrollments/x", "enrollments").is_err());
        assert!(parse_child("", "enrollments").is_err());
    }

    #[test]
    fn filters_parse() {
        let parsed = parse_filter(r#"line_id = "master" AND status = COMPLETED AND person = "people/1""#);
        assert_eq!(
            parsed,
            Ok(EnrollmentFilter {
                line_id: Some("master".into()),
                status: Some(EnrollmentStatus::Completed),
                person_id: Some(1),
            })
        );
        assert!(parse_filter("status = GRADUATED").is_err());
        assert!(parse_filter("grade = 3").is_err());
        assert_eq!(parse_filter(""), Ok(EnrollmentFilter::default()));
    }
}
