//! TrainingPlanService: training plans with their target lines, their courses, and
//! their progress against target.
//!
//! The plan's owner locality decides who sees and edits it; as everywhere, scope is
//! judged before existence.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use prost_types::Timestamp;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    Violations, convert, fingerprint, given_etag, parse_id,
    pb::{self, training_plan_service_server::TrainingPlanService},
    person::{category_to_pb, parse_level},
    request_id, update_paths,
};
use crate::{
    auth::{Access, RequestContext, authorize, authorize_plan},
    domain::{
        date::today,
        etag,
        locality::{Code, Tier},
        page,
        person::Category,
        text::normalize_name,
        training::{EnrollmentStatus, PlanStatus, ProgrammeKind, percent_of_plan},
    },
    error::{Error, Result},
    store::{
        locality as localities,
        locality_write::Idempotency,
        training::{LineRecord, PlanRecord, load_plan, plan_name},
        training_write::{
            self as writes, CourseFields, CourseRecord, NewPlan, PlanChanges, SessionRecord, course_name,
        },
    },
};

/// Longest title, topic, provider or location, in characters.
const MAX_TEXT_CHARS: usize = 300;

/// The fields UpdateTrainingPlan may change.
const PLAN_UPDATABLE: &[&str] = &["title", "period_start", "period_end", "legal_basis", "lines"];

/// The fields UpdateCourse may change.
const COURSE_UPDATABLE: &[&str] = &["title", "provider", "location", "start_date", "end_date", "sessions"];

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

// ---- validation ----------------------------------------------------------------------

/// A required text of 1 to `max` characters, in NFC with spaces collapsed.
fn required_text(value: &str, max: usize) -> Result<String, String> {
    let text = normalize_name(value);
    if text.is_empty() {
        Err("is required".to_owned())
    } else if text.chars().count() > max {
        Err(format!("is longer than {max} characters"))
    } else {
        Ok(text)
    }
}

/// An optional text of at most `max` characters, in NFC with spaces collapsed.
fn optional_text(value: &str, max: usize) -> Result<String, String> {
    let text = normalize_name(value);
    if text.chars().count() > max { Err(format!("is longer than {max} characters")) } else { Ok(text) }
}

/// A line id: lower snake case, 1 to 64 characters.
fn line_id(value: &str) -> Result<String, String> {
    let bytes = value.as_bytes();
    let ok = !value.is_empty()
        && value.len() <= 64
        && bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
        && !value.ends_with('_')
        && !value.contains("__");
    if value.is_empty() {
        Err("is required".to_owned())
    } else if ok {
        Ok(value.to_owned())
    } else {
        Err(format!("`{value}` is not lower snake case of 1 to 64 characters (example: `political_theory`)"))
    }
}

fn programme_kind(value: i32) -> Result<ProgrammeKind, String> {
    match pb::ProgrammeKind::try_from(value).map_err(|_| format!("{value} is not a ProgrammeKind"))? {
        pb::ProgrammeKind::Unspecified => Err("is required".to_owned()),
        pb::ProgrammeKind::Degree => Ok(ProgrammeKind::Degree),
        pb::ProgrammeKind::Refresher => Ok(ProgrammeKind::Refresher),
    }
}

pub(super) fn programme_kind_to_pb(value: ProgrammeKind) -> pb::ProgrammeKind {
    match value {
        ProgrammeKind::Degree => pb::ProgrammeKind::Degree,
        ProgrammeKind::Refresher => pb::ProgrammeKind::Refresher,
    }
}

fn optional_tier(value: i32) -> Result<Option<Tier>, String> {
    if value == 0 { Ok(None) } else { convert::tier(value).map(Some) }
}

fn optional_category(value: i32) -> Result<Option<Category>, String> {
    use pb::PersonCategory as C;
    Ok(match C::try_from(value).map_err(|_| format!("{value} is not a PersonCategory"))? {
        C::Unspecified => None,
        C::Cadre => Some(Category::Cadre),
        C::CivilServant => Some(Category::CivilServant),
        C::PublicEmployee => Some(Category::PublicEmployee),
        C::PartTimeWorker => Some(Category::PartTimeWorker),
        C::ContractWorker => Some(Category::ContractWorker),
    })
}

fn plan_status_to_pb(value: PlanStatus) -> pb::TrainingPlanStatus {
    match value {
        PlanStatus::Draft => pb::TrainingPlanStatus::Draft,
        PlanStatus::Approved => pb::TrainingPlanStatus::Approved,
        PlanStatus::Closed => pb::TrainingPlanStatus::Closed,
    }
}

/// The lines of a plan, each field checked under `{path}.lines[i]`.
fn lines(v: &mut Violations, value: &[pb::TargetLine], path: &str) -> Option<Vec<LineRecord>> {
    if value.is_empty() {
        v.add(format!("{path}.lines"), "needs at least one line");
        return None;
    }
    let mut result = Vec::new();
    let mut seen = BTreeSet::new();
    let mut complete = true;
    for (i, line) in value.iter().enumerate() {
        let at = |field: &str| format!("{path}.lines[{i}].{field}");
        let id = v.check(at("line_id"), line_id(&line.line_id));
        if let Some(id) = &id
            && !seen.insert(id.clone())
        {
            v.add(at("line_id"), format!("`{id}` is used by an earlier line"));
        }
        let title = v.check(at("title"), required_text(&line.title, MAX_TEXT_CHARS));
        let kind = v.check(at("kind"), programme_kind(line.kind));
        let mut level = None;
        let mut topic = None;
        match kind {
            Some(ProgrammeKind::Degree) => {
                level = v.check(at("level"), parse_level(&line.level));
                if !line.topic.is_empty() {
                    v.add(at("topic"), "must be empty for degree training");
                }
            }
            Some(ProgrammeKind::Refresher) => {
                topic = v.check(at("topic"), required_text(&line.topic, MAX_TEXT_CHARS));
                if !line.level.is_empty() {
                    v.add(at("level"), "must be empty for a refresher course");
                }
            }
            None => {}
        }
        if line.target_enrollments <= 0 {
            v.add(at("target_enrollments"), "must be positive");
        }
        if line.budget_vnd < 0 {
            v.add(at("budget_vnd"), "must not be negative");
        }
        let audience = line.audience.unwrap_or_default();
        let tier = v.check(at("audience.tier"), optional_tier(audience.tier));
        let category = v.check(at("audience.category"), optional_category(audience.category));
        match (id, title, kind, tier, category) {
            (Some(line_id), Some(title), Some(kind), Some(tier), Some(category))
                if (kind == ProgrammeKind::Degree) == level.is_some()
                    && (kind == ProgrammeKind::Refresher) == topic.is_some() =>
            {
                result.push(LineRecord {
                    line_id,
                    title,
                    kind,
                    level,
                    topic,
                    audience_tier: tier,
                    audience_category: category,
                    leaders_only: audience.leaders_only,
                    target: line.target_enrollments,
                    budget_vnd: Some(line.budget_vnd).filter(|b| *b != 0),
                });
            }
            _ => complete = false,
        }
    }
    complete.then_some(result)
}

fn legal_basis(v: &mut Violations, value: Option<&pb::LegalBasis>, path: &str) -> Option<(String, NaiveDate)> {
    let Some(basis) = value else {
        v.add(format!("{path}.legal_basis"), "is required");
        return None;
    };
    let number = v.check(format!("{path}.legal_basis.document_number"), required_text(&basis.document_number, 100));
    let issued = v.check(format!("{path}.legal_basis.issued_on"), convert::date(basis.issued_on.as_ref()));
    number.zip(issued)
}

fn missing(what: &str) -> Status {
    Error::internal(format!("validated request lacks its {what}")).into()
}

/// Parses `trainingPlans/{p}/courses/{c}`.
fn parse_course_name(name: &str) -> Result<(i64, i64), String> {
    let bad = || format!("`{name}` is not a name of the form `trainingPlans/{{plan}}/courses/{{course}}`");
    if name.is_empty() {
        return Err("is required".to_owned());
    }
    let (plan, course) = name.split_once("/courses/").ok_or_else(bad)?;
    let plan = parse_id(plan, "trainingPlans").map_err(|_| bad())?;
    let course = parse_id(&format!("courses/{course}"), "courses").map_err(|_| bad())?;
    Ok((plan, course))
}

fn sessions(v: &mut Violations, value: &[pb::CourseSession], path: &str) -> Option<Vec<SessionRecord>> {
    let mut result = Vec::new();
    let mut complete = true;
    for (i, s) in value.iter().enumerate() {
        let start = v.check(format!("{path}.sessions[{i}].start_date"), convert::date(s.start_date.as_ref()));
        let end = v.check(format!("{path}.sessions[{i}].end_date"), convert::date(s.end_date.as_ref()));
        let location = v.check(format!("{path}.sessions[{i}].location"), optional_text(&s.location, MAX_TEXT_CHARS));
        match (start, end, location) {
            (Some(start_date), Some(end_date), Some(location)) => {
                result.push(SessionRecord { start_date, end_date, location });
            }
            _ => complete = false,
        }
    }
    complete.then_some(result)
}

/// The resume key of a page token.
fn resume_after(key: Option<Vec<String>>) -> Result<Option<i64>, String> {
    match key.as_deref() {
        None => Ok(None),
        Some([id]) => id.parse().map(Some).map_err(|_| "is not a page token of this list".to_owned()),
        Some(_) => Err("is not a page token of this list".to_owned()),
    }
}

// ---- conversion ----------------------------------------------------------------------

fn timestamp(value: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp { seconds: value.timestamp(), nanos: i32::try_from(value.timestamp_subsec_nanos()).unwrap_or_default() }
}

fn line_to_pb(line: &LineRecord) -> pb::TargetLine {
    pb::TargetLine {
        line_id: line.line_id.clone(),
        title: line.title.clone(),
        kind: programme_kind_to_pb(line.kind).into(),
        level: line.level.as_ref().map(|(s, l)| format!("scales/{s}/levels/{l}")).unwrap_or_default(),
        topic: line.topic.clone().unwrap_or_default(),
        audience: (line.audience_tier.is_some() || line.audience_category.is_some() || line.leaders_only).then(|| {
            pb::Audience {
                tier: line.audience_tier.map(|t| convert::tier_to_pb(t).into()).unwrap_or_default(),
                category: line.audience_category.map(|c| category_to_pb(c).into()).unwrap_or_default(),
                leaders_only: line.leaders_only,
            }
        }),
        target_enrollments: line.target,
        budget_vnd: line.budget_vnd.unwrap_or_default(),
    }
}

fn plan_to_pb(plan: &PlanRecord) -> pb::TrainingPlan {
    pb::TrainingPlan {
        name: plan.name(),
        title: plan.title.clone(),
        owner: plan.owner.name(),
        period_start: Some(convert::to_date(plan.period_start)),
        period_end: Some(convert::to_date(plan.period_end)),
        legal_basis: Some(pb::LegalBasis {
            document_number: plan.document_number.clone(),
            issued_on: Some(convert::to_date(plan.issued_on)),
        }),
        status: plan_status_to_pb(plan.status).into(),
        lines: plan.lines.iter().map(line_to_pb).collect(),
        etag: etag(plan.revision),
        create_time: Some(timestamp(plan.create_time)),
        update_time: Some(timestamp(plan.update_time)),
    }
}

fn course_to_pb(course: &CourseRecord) -> pb::Course {
    let f = &course.fields;
    pb::Course {
        name: course.name(),
        line_id: f.line_id.clone(),
        title: f.title.clone(),
        provider: f.provider.clone(),
        location: f.location.clone(),
        start_date: Some(convert::to_date(f.start_date)),
        end_date: Some(convert::to_date(f.end_date)),
        sessions: f
            .sessions
            .iter()
            .map(|s| pb::CourseSession {
                start_date: Some(convert::to_date(s.start_date)),
                end_date: Some(convert::to_date(s.end_date)),
                location: s.location.clone(),
            })
            .collect(),
        etag: etag(course.revision),
    }
}

/// How `completed` compares with `target`.
fn achievement(completed: u64, target: u64) -> pb::Achievement {
    match completed.cmp(&target) {
        std::cmp::Ordering::Less => pb::Achievement::Under,
        std::cmp::Ordering::Equal => pb::Achievement::Exact,
        std::cmp::Ordering::Greater => pb::Achievement::Over,
    }
}

/// Counts of one line (or the total) by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    target: u64,
    by_status: [u64; 5],
}

impl Tally {
    fn of(&self, status: EnrollmentStatus) -> u64 {
        EnrollmentStatus::ALL
            .iter()
            .position(|s| *s == status)
            .and_then(|i| self.by_status.get(i).copied())
            .unwrap_or(0)
    }

    fn add(&mut self, status: EnrollmentStatus, n: u64) {
        if let Some(i) = EnrollmentStatus::ALL.iter().position(|s| *s == status)
            && let Some(slot) = self.by_status.get_mut(i)
        {
            *slot += n;
        }
    }

    fn plus(&mut self, other: &Self) {
        self.target += other.target;
        for (a, b) in self.by_status.iter_mut().zip(other.by_status) {
            *a += b;
        }
    }

    fn to_pb(self, line_id: &str, title: &str) -> pb::LineProgress {
        let n = |v: u64| i32::try_from(v).unwrap_or(i32::MAX);
        let completed = self.of(EnrollmentStatus::Completed);
        pb::LineProgress {
            line_id: line_id.to_owned(),
            title: title.to_owned(),
            target: n(self.target),
            enrollments: n(self.by_status.iter().sum()),
            planned: n(self.of(EnrollmentStatus::Planned)),
            enrolled: n(self.of(EnrollmentStatus::Enrolled)),
            completed: n(completed),
            dropped: n(self.of(EnrollmentStatus::Dropped)),
            failed: n(self.of(EnrollmentStatus::Failed)),
            percent_of_plan: percent_of_plan(completed, self.target),
            achievement: achievement(completed, self.target).into(),
        }
    }
}

/// The progress of each line in plan order, and the total computed from the lines.
fn progress(plan: &PlanRecord, counts: &[writes::StatusCount]) -> (Vec<pb::LineProgress>, pb::LineProgress) {
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    for c in counts {
        tallies.entry(c.line_id.as_str()).or_default().add(c.status, c.count);
    }
    let mut total = Tally::default();
    let mut lines = Vec::new();
    for line in &plan.lines {
        let mut tally = tallies.get(line.line_id.as_str()).copied().unwrap_or_default();
        tally.target = u64::try_from(line.target).unwrap_or_default();
        total.plus(&tally);
        lines.push(tally.to_pb(&line.line_id, &line.title));
    }
    (lines, total.to_pb("", ""))
}

// ---- handlers ------------------------------------------------------------------------

impl TrainingPlanApi {
    async fn create(&self, ctx: &RequestContext, req: pb::CreateTrainingPlanRequest) -> Result<PlanRecord> {
        let mut v = Violations::new();
        let request_id = v.check("request_id", request_id(&req.request_id)).flatten();
        let Some(plan) = req.training_plan.as_ref() else {
            v.add("training_plan", "is required");
            v.finish()?;
            return Err(Error::invalid("training_plan", "is required"));
        };
        let title = v.check("training_plan.title", required_text(&plan.title, MAX_TEXT_CHARS));
        let owner = v.check("training_plan.owner", Code::from_name(&plan.owner));
        let start = v.check("training_plan.period_start", convert::date(plan.period_start.as_ref()));
        let end = v.check("training_plan.period_end", convert::date(plan.period_end.as_ref()));
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            v.add("training_plan.period_end", "must be after period_start");
        }
        let basis = legal_basis(&mut v, plan.legal_basis.as_ref(), "training_plan");
        let lines = lines(&mut v, &plan.lines, "training_plan");
        v.finish()?;
        let (
            Some(title),
            Some(owner),
            Some(period_start),
            Some(period_end),
            Some((document_number, issued_on)),
            Some(lines),
        ) = (title, owner, start, end, basis, lines)
        else {
            return Err(Error::internal("validated create request lacks a field"));
        };
        authorize(&self.db, &ctx.principal, &owner, Access::Write).await?;
        let mut body = req.clone();
        body.request_id.clear();
        let idem = Idempotency { request_id, fingerprint: fingerprint(&body) };
        let new = NewPlan { title, owner, period_start, period_end, document_number, issued_on, lines };
        writes::create_plan(&self.db, ctx, &new, &idem).await
    }

    async fn update(&self, ctx: &RequestContext, req: pb::UpdateTrainingPlanRequest) -> Result<PlanRecord> {
        let mut v = Violations::new();
        let Some(plan) = req.training_plan.as_ref() else {
            return Err(Error::invalid("training_plan", "is required"));
        };
        let id = v.check("training_plan.name", parse_id(&plan.name, "trainingPlans"));
        let paths = update_paths(&mut v, req.update_mask.as_ref(), PLAN_UPDATABLE);
        let mut changes = PlanChanges::default();
        for path in &paths {
            match path.as_str() {
                "title" => changes.title = v.check("training_plan.title", required_text(&plan.title, MAX_TEXT_CHARS)),
                "period_start" => {
                    changes.period_start =
                        v.check("training_plan.period_start", convert::date(plan.period_start.as_ref()));
                }
                "period_end" => {
                    changes.period_end = v.check("training_plan.period_end", convert::date(plan.period_end.as_ref()));
                }
                "legal_basis" => changes.legal_basis = legal_basis(&mut v, plan.legal_basis.as_ref(), "training_plan"),
                "lines" => changes.lines = lines(&mut v, &plan.lines, "training_plan"),
                _ => {}
            }
        }
        if let (Some(start), Some(end)) = (changes.period_start, changes.period_end)
            && end <= start
        {
            v.add("training_plan.period_end", "must be after period_start");
        }
        v.finish()?;
        let Some(id) = id else { return Err(Error::internal("validated update request lacks its id")) };
        authorize_plan(&self.db, &ctx.principal, id, Access::Write, false).await?;
        writes::update_plan(&self.db, ctx, id, given_etag(&plan.etag), &changes).await
    }

    /// Parses and authorises a plan name given in `field`.
    async fn plan_id(&self, ctx: &RequestContext, name: &str, field: &str, access: Access) -> Result<i64> {
        let mut v = Violations::new();
        let id = v.check(field, parse_id(name, "trainingPlans"));
        v.finish()?;
        let Some(id) = id else { return Err(Error::internal("validated request lacks its plan")) };
        authorize_plan(&self.db, &ctx.principal, id, access, false).await?;
        Ok(id)
    }

    async fn transition(
        &self,
        ctx: &RequestContext,
        name: &str,
        etag_given: &str,
        from: PlanStatus,
        to: PlanStatus,
        method: &str,
    ) -> Result<PlanRecord> {
        let id = self.plan_id(ctx, name, "name", Access::Write).await?;
        writes::transition_plan(&self.db, ctx, id, given_etag(etag_given), from, to, method).await
    }

    async fn create_course(&self, ctx: &RequestContext, req: pb::CreateCourseRequest) -> Result<CourseRecord> {
        let mut v = Violations::new();
        let plan_id = v.check("parent", parse_id(&req.parent, "trainingPlans"));
        let request_id = v.check("request_id", request_id(&req.request_id)).flatten();
        let Some(course) = req.course.as_ref() else {
            v.add("course", "is required");
            v.finish()?;
            return Err(Error::invalid("course", "is required"));
        };
        let line = v.check("course.line_id", line_id(&course.line_id));
        let title = v.check("course.title", required_text(&course.title, MAX_TEXT_CHARS));
        let provider = v.check("course.provider", optional_text(&course.provider, MAX_TEXT_CHARS));
        let location = v.check("course.location", optional_text(&course.location, MAX_TEXT_CHARS));
        let start = v.check("course.start_date", convert::date(course.start_date.as_ref()));
        let end = v.check("course.end_date", convert::date(course.end_date.as_ref()));
        let sessions = sessions(&mut v, &course.sessions, "course");
        v.finish()?;
        let (
            Some(plan_id),
            Some(line_id),
            Some(title),
            Some(provider),
            Some(location),
            Some(start_date),
            Some(end_date),
            Some(sessions),
        ) = (plan_id, line, title, provider, location, start, end, sessions)
        else {
            return Err(Error::internal("validated create request lacks a field"));
        };
        authorize_plan(&self.db, &ctx.principal, plan_id, Access::Write, false).await?;
        let mut body = req.clone();
        body.request_id.clear();
        let idem = Idempotency { request_id, fingerprint: fingerprint(&body) };
        let fields = CourseFields { line_id, title, provider, location, start_date, end_date, sessions };
        writes::create_course(&self.db, ctx, plan_id, &fields, &idem).await
    }

    async fn update_course(&self, ctx: &RequestContext, req: pb::UpdateCourseRequest) -> Result<CourseRecord> {
        let mut v = Violations::new();
        let Some(course) = req.course.as_ref() else {
            return Err(Error::invalid("course", "is required"));
        };
        let ids = v.check("course.name", parse_course_name(&course.name));
        let paths = update_paths(&mut v, req.update_mask.as_ref(), COURSE_UPDATABLE);
        let mut title = None;
        let mut provider = None;
        let mut location = None;
        let mut start = None;
        let mut end = None;
        let mut new_sessions = None;
        for path in &paths {
            match path.as_str() {
                "title" => title = v.check("course.title", required_text(&course.title, MAX_TEXT_CHARS)),
                "provider" => provider = v.check("course.provider", optional_text(&course.provider, MAX_TEXT_CHARS)),
                "location" => location = v.check("course.location", optional_text(&course.location, MAX_TEXT_CHARS)),
                "start_date" => start = v.check("course.start_date", convert::date(course.start_date.as_ref())),
                "end_date" => end = v.check("course.end_date", convert::date(course.end_date.as_ref())),
                "sessions" => new_sessions = sessions(&mut v, &course.sessions, "course"),
                _ => {}
            }
        }
        v.finish()?;
        let Some((plan_id, id)) = ids else { return Err(Error::internal("validated update request lacks its id")) };
        authorize_plan(&self.db, &ctx.principal, plan_id, Access::Write, false).await?;
        writes::update_course(&self.db, ctx, plan_id, id, given_etag(&course.etag), |f| {
            if let Some(t) = title {
                f.title = t;
            }
            if let Some(p) = provider {
                f.provider = p;
            }
            if let Some(l) = location {
                f.location = l;
            }
            if let Some(s) = start {
                f.start_date = s;
            }
            if let Some(e) = end {
                f.end_date = e;
            }
            if let Some(s) = new_sessions {
                f.sessions = s;
            }
        })
        .await
    }

    /// Parses and authorises a course name given in `field`.
    async fn course_ids(&self, ctx: &RequestContext, name: &str, access: Access) -> Result<(i64, i64)> {
        let mut v = Violations::new();
        let ids = v.check("name", parse_course_name(name));
        v.finish()?;
        let Some((plan_id, id)) = ids else { return Err(Error::internal("validated request lacks its name")) };
        authorize_plan(&self.db, &ctx.principal, plan_id, access, false).await?;
        Ok((plan_id, id))
    }
}

#[tonic::async_trait]
impl TrainingPlanService for TrainingPlanApi {
    async fn create_training_plan(
        &self,
        request: Request<pb::CreateTrainingPlanRequest>,
    ) -> Result<Response<pb::CreateTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.create(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::CreateTrainingPlanResponse { training_plan: Some(plan_to_pb(&record)) }))
    }

    async fn get_training_plan(
        &self,
        request: Request<pb::GetTrainingPlanRequest>,
    ) -> Result<Response<pb::GetTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let id = self.plan_id(&ctx, &req.name, "name", Access::Read).await?;
        let record = load_plan(&self.db, id).await?.ok_or_else(|| Error::NotFound(plan_name(id)))?;
        Ok(Response::new(pb::GetTrainingPlanResponse { training_plan: Some(plan_to_pb(&record)) }))
    }

    async fn list_training_plans(
        &self,
        request: Request<pb::ListTrainingPlansRequest>,
    ) -> Result<Response<pb::ListTrainingPlansResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let owner = v.check("owner", Code::from_name(&req.owner));
        let token_fingerprint = page::fingerprint(&["ListTrainingPlans", &req.owner]);
        let limit = v.check("page_size", page::page_size(req.page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
        let after =
            v.check("page_token", page::decode(&req.page_token, &token_fingerprint).and_then(resume_after)).flatten();
        v.finish()?;
        let Some(owner) = owner else { return Err(missing("owner")) };
        authorize(&self.db, &ctx.principal, &owner, Access::Read).await?;
        if localities::load_one(&self.db, &owner).await?.is_none() {
            return Err(Error::NotFound(owner.name()).into());
        }
        let page = writes::list_plans(&self.db, &owner, after, limit).await?;
        let next_page_token =
            page.next_after.map(|id| page::encode(&token_fingerprint, vec![id.to_string()])).unwrap_or_default();
        Ok(Response::new(pb::ListTrainingPlansResponse {
            training_plans: page.plans.iter().map(plan_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_training_plan(
        &self,
        request: Request<pb::UpdateTrainingPlanRequest>,
    ) -> Result<Response<pb::UpdateTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.update(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::UpdateTrainingPlanResponse { training_plan: Some(plan_to_pb(&record)) }))
    }

    async fn delete_training_plan(
        &self,
        request: Request<pb::DeleteTrainingPlanRequest>,
    ) -> Result<Response<pb::DeleteTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let id = self.plan_id(&ctx, &req.name, "name", Access::Write).await?;
        writes::delete_plan(&self.db, &ctx, id, given_etag(&req.etag)).await?;
        Ok(Response::new(pb::DeleteTrainingPlanResponse {}))
    }

    async fn approve_training_plan(
        &self,
        request: Request<pb::ApproveTrainingPlanRequest>,
    ) -> Result<Response<pb::ApproveTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let record = self
            .transition(&ctx, &req.name, &req.etag, PlanStatus::Draft, PlanStatus::Approved, "ApproveTrainingPlan")
            .await?;
        Ok(Response::new(pb::ApproveTrainingPlanResponse { training_plan: Some(plan_to_pb(&record)) }))
    }

    async fn close_training_plan(
        &self,
        request: Request<pb::CloseTrainingPlanRequest>,
    ) -> Result<Response<pb::CloseTrainingPlanResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let record = self
            .transition(&ctx, &req.name, &req.etag, PlanStatus::Approved, PlanStatus::Closed, "CloseTrainingPlan")
            .await?;
        Ok(Response::new(pb::CloseTrainingPlanResponse { training_plan: Some(plan_to_pb(&record)) }))
    }

    async fn create_course(
        &self,
        request: Request<pb::CreateCourseRequest>,
    ) -> Result<Response<pb::CreateCourseResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.create_course(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::CreateCourseResponse { course: Some(course_to_pb(&record)) }))
    }

    async fn get_course(
        &self,
        request: Request<pb::GetCourseRequest>,
    ) -> Result<Response<pb::GetCourseResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (plan_id, id) = self.course_ids(&ctx, &req.name, Access::Read).await?;
        let record = writes::load_course(&self.db, plan_id, id)
            .await?
            .ok_or_else(|| Error::NotFound(course_name(plan_id, id)))?;
        Ok(Response::new(pb::GetCourseResponse { course: Some(course_to_pb(&record)) }))
    }

    async fn list_courses(
        &self,
        request: Request<pb::ListCoursesRequest>,
    ) -> Result<Response<pb::ListCoursesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let plan_id = v.check("parent", parse_id(&req.parent, "trainingPlans"));
        let token_fingerprint = page::fingerprint(&["ListCourses", &req.parent]);
        let limit = v.check("page_size", page::page_size(req.page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
        let after =
            v.check("page_token", page::decode(&req.page_token, &token_fingerprint).and_then(resume_after)).flatten();
        v.finish()?;
        let Some(plan_id) = plan_id else { return Err(missing("parent")) };
        authorize_plan(&self.db, &ctx.principal, plan_id, Access::Read, false).await?;
        if load_plan(&self.db, plan_id).await?.is_none() {
            return Err(Error::NotFound(plan_name(plan_id)).into());
        }
        let page = writes::list_courses(&self.db, plan_id, after, limit).await?;
        let next_page_token =
            page.next_after.map(|id| page::encode(&token_fingerprint, vec![id.to_string()])).unwrap_or_default();
        Ok(Response::new(pb::ListCoursesResponse {
            courses: page.courses.iter().map(course_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_course(
        &self,
        request: Request<pb::UpdateCourseRequest>,
    ) -> Result<Response<pb::UpdateCourseResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.update_course(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::UpdateCourseResponse { course: Some(course_to_pb(&record)) }))
    }

    async fn delete_course(
        &self,
        request: Request<pb::DeleteCourseRequest>,
    ) -> Result<Response<pb::DeleteCourseResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (plan_id, id) = self.course_ids(&ctx, &req.name, Access::Write).await?;
        writes::delete_course(&self.db, &ctx, plan_id, id, given_etag(&req.etag)).await?;
        Ok(Response::new(pb::DeleteCourseResponse {}))
    }

    async fn get_training_plan_progress(
        &self,
        request: Request<pb::GetTrainingPlanProgressRequest>,
    ) -> Result<Response<pb::GetTrainingPlanProgressResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, "trainingPlans"));
        let as_of = v.check("as_of", convert::optional_date(req.as_of.as_ref())).flatten().unwrap_or_else(today);
        v.finish()?;
        let Some(id) = id else { return Err(missing("name")) };
        authorize_plan(&self.db, &ctx.principal, id, Access::Read, false).await?;
        let plan = load_plan(&self.db, id).await?.ok_or_else(|| Error::NotFound(plan_name(id)))?;
        let counts = writes::status_counts(&self.db, id, as_of).await?;
        let (lines, total) = progress(&plan, &counts);
        Ok(Response::new(pb::GetTrainingPlanProgressResponse {
            training_plan: plan.name(),
            as_of: Some(convert::to_date(as_of)),
            lines,
            total: Some(total),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ids_are_lower_snake_case() {
        assert!(line_id("political_theory_intermediate").is_ok());
        assert!(line_id("it2").is_ok());
        for bad in ["", "Political", "_a", "a_", "a__b", "2a", "a-b", &"a".repeat(65)] {
            assert!(line_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn course_names_have_a_plan_and_a_course() {
        assert_eq!(parse_course_name("trainingPlans/4/courses/2"), Ok((4, 2)));
        for bad in ["", "trainingPlans/4", "trainingPlans/0/courses/2", "trainingPlans/4/courses/x", "courses/2"] {
            assert!(parse_course_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_total_is_the_sum_of_the_lines() {
        use crate::store::training_write::StatusCount;
        let line = |id: &str, target: i32| LineRecord {
            line_id: id.to_owned(),
            title: id.to_owned(),
            kind: ProgrammeKind::Refresher,
            level: None,
            topic: Some("t".to_owned()),
            audience_tier: None,
            audience_category: None,
            leaders_only: false,
            target,
            budget_vnd: None,
        };
        let plan = PlanRecord {
            id: 1,
            title: "p".to_owned(),
            owner: Code::from_db("20".to_owned()),
            period_start: NaiveDate::MIN,
            period_end: NaiveDate::MAX,
            document_number: "1".to_owned(),
            issued_on: NaiveDate::MIN,
            status: PlanStatus::Draft,
            lines: vec![line("a", 500), line("b", 400), line("c", 300)],
            revision: 1,
            create_time: chrono::DateTime::<chrono::Utc>::MIN_UTC,
            update_time: chrono::DateTime::<chrono::Utc>::MIN_UTC,
        };
        let c = |id: &str, status, count| StatusCount { line_id: id.to_owned(), status, count };
        let counts = [
            c("a", EnrollmentStatus::Completed, 660),
            c("b", EnrollmentStatus::Completed, 354),
            c("b", EnrollmentStatus::Planned, 7),
            c("c", EnrollmentStatus::Completed, 300),
        ];
        let (lines, total) = progress(&plan, &counts);
        assert_eq!(lines.iter().map(|l| l.achievement).collect::<Vec<_>>(), [3, 1, 2]);
        assert_eq!((total.target, total.completed, total.enrollments), (1200, 1314, 1321));
        assert!((total.percent_of_plan - 109.5).abs() < 1e-9);
    }
}
