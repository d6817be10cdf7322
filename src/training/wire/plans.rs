//! Plans in and out: create, get, list, update, delete, approve, close, progress.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::people::wire::parse_level;
use crate::{
    domain::{date::today, locality::Code},
    edge::{
        Violations,
        enums::Table as _,
        etag::etag,
        names::TrainingPlanName,
        page::Page,
        request::{date, optional_date, request_key, timestamp, to_date, update_paths},
    },
    error::{Error, Result},
    grpc::pb,
    people::rules::person::Category,
    training::rules::{Line, MAX_TEXT_CHARS, NewPlan, Plan, PlanChanges, ProgrammeKind, Tally, line_id, required_text},
    uow::RequestKey,
};

/// The fields UpdateTrainingPlan may change.
pub const PLAN_UPDATABLE: &[&str] = &["title", "period_start", "period_end", "legal_basis", "lines"];

fn optional_tier(value: i32) -> Result<Option<crate::domain::locality::Tier>, String> {
    if value == 0 { Ok(None) } else { crate::domain::locality::Tier::required(value).map(Some) }
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

/// The lines of a plan, each field checked under `{path}.lines[i]`.
fn lines(v: &mut Violations, value: Vec<pb::TargetLine>, path: &str) -> Option<Vec<Line>> {
    if value.is_empty() {
        v.add(format!("{path}.lines"), "needs at least one line");
        return None;
    }
    let mut result = Vec::new();
    let mut seen = BTreeSet::new();
    let mut complete = true;
    for (i, line) in value.into_iter().enumerate() {
        let pb::TargetLine { line_id: id, title, kind, level, topic, audience, target_enrollments, budget_vnd } = line;
        let at = |field: &str| format!("{path}.lines[{i}].{field}");
        let id = v.check(at("line_id"), line_id(&id));
        if let Some(id) = &id
            && !seen.insert(id.clone())
        {
            v.add(at("line_id"), format!("{} is used by an earlier line", crate::error::quote(id)));
        }
        let title = v.check(at("title"), required_text(&title, MAX_TEXT_CHARS));
        let kind = v.check(at("kind"), ProgrammeKind::required(kind));
        let mut parsed_level = None;
        let mut parsed_topic = None;
        match kind {
            Some(ProgrammeKind::Degree) => {
                parsed_level = v.check(at("level"), parse_level(&level));
                if !topic.is_empty() {
                    v.add(at("topic"), "must be empty for degree training");
                }
            }
            Some(ProgrammeKind::Refresher) => {
                parsed_topic = v.check(at("topic"), required_text(&topic, MAX_TEXT_CHARS));
                if !level.is_empty() {
                    v.add(at("level"), "must be empty for a refresher course");
                }
            }
            None => {}
        }
        if target_enrollments <= 0 {
            v.add(at("target_enrollments"), "must be positive");
        }
        if budget_vnd < 0 {
            v.add(at("budget_vnd"), "must not be negative");
        }
        let pb::Audience { tier, category, leaders_only } = audience.unwrap_or_default();
        let tier = v.check(at("audience.tier"), optional_tier(tier));
        let category = v.check(at("audience.category"), optional_category(category));
        match (id, title, kind, tier, category) {
            (Some(line_id), Some(title), Some(kind), Some(tier), Some(category))
                if (kind == ProgrammeKind::Degree) == parsed_level.is_some()
                    && (kind == ProgrammeKind::Refresher) == parsed_topic.is_some() =>
            {
                result.push(Line {
                    line_id,
                    title,
                    kind,
                    level: parsed_level,
                    topic: parsed_topic,
                    audience_tier: tier,
                    audience_category: category,
                    leaders_only,
                    target: target_enrollments,
                    budget_vnd: Some(budget_vnd).filter(|b| *b != 0),
                });
            }
            _ => complete = false,
        }
    }
    complete.then_some(result)
}

fn legal_basis(v: &mut Violations, value: Option<pb::LegalBasis>, path: &str) -> Option<(String, NaiveDate)> {
    let Some(pb::LegalBasis { document_number, issued_on }) = value else {
        v.add(format!("{path}.legal_basis"), "is required");
        return None;
    };
    let number = v.check(format!("{path}.legal_basis.document_number"), required_text(&document_number, 100));
    let issued = v.check(format!("{path}.legal_basis.issued_on"), date(issued_on.as_ref()));
    number.zip(issued)
}

impl From<&Line> for pb::TargetLine {
    fn from(line: &Line) -> Self {
        pb::TargetLine {
            line_id: line.line_id.clone(),
            title: line.title.clone(),
            kind: line.kind.wire(),
            level: line.level.as_ref().map(|(s, l)| format!("scales/{s}/levels/{l}")).unwrap_or_default(),
            topic: line.topic.clone().unwrap_or_default(),
            audience: (line.audience_tier.is_some() || line.audience_category.is_some() || line.leaders_only).then(
                || pb::Audience {
                    tier: line.audience_tier.map(|t| t.to_wire().into()).unwrap_or_default(),
                    category: line.audience_category.map(|c| c.to_wire().into()).unwrap_or_default(),
                    leaders_only: line.leaders_only,
                },
            ),
            target_enrollments: line.target,
            budget_vnd: line.budget_vnd.unwrap_or_default(),
        }
    }
}

impl From<&Plan> for pb::TrainingPlan {
    fn from(plan: &Plan) -> Self {
        pb::TrainingPlan {
            name: plan.name.to_string(),
            title: plan.title.clone(),
            owner: plan.owner.name(),
            period_start: Some(to_date(plan.period_start)),
            period_end: Some(to_date(plan.period_end)),
            legal_basis: Some(pb::LegalBasis {
                document_number: plan.document_number.clone(),
                issued_on: Some(to_date(plan.issued_on)),
            }),
            status: plan.status.wire(),
            lines: plan.lines.iter().map(Into::into).collect(),
            etag: etag(plan.revision),
            create_time: Some(timestamp(plan.create_time)),
            update_time: Some(timestamp(plan.update_time)),
        }
    }
}

/// A checked CreateTrainingPlan request.
#[derive(Debug, Clone)]
pub struct CreatePlan {
    /// The plan.
    pub new: NewPlan,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
}

impl TryFrom<pb::CreateTrainingPlanRequest> for CreatePlan {
    type Error = Error;

    fn try_from(request: pb::CreateTrainingPlanRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateTrainingPlanRequest { training_plan, request_id: _ } = request;
        let Some(plan) = training_plan else {
            v.add("training_plan", "is required");
            return Err(v.into_error());
        };
        // Output-only fields are ignored on create (AIP-133).
        let pb::TrainingPlan {
            name: _,
            title,
            owner,
            period_start,
            period_end,
            legal_basis: basis,
            status: _,
            lines: given_lines,
            etag: _,
            create_time: _,
            update_time: _,
        } = plan;
        let title = v.check("training_plan.title", required_text(&title, MAX_TEXT_CHARS));
        let owner = v.check("training_plan.owner", Code::from_name(&owner));
        let start = v.check("training_plan.period_start", date(period_start.as_ref()));
        let end = v.check("training_plan.period_end", date(period_end.as_ref()));
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            v.add("training_plan.period_end", "must be after period_start");
        }
        let basis = legal_basis(&mut v, basis, "training_plan");
        let lines = lines(&mut v, given_lines, "training_plan");
        v.into_result(|| {
            let (document_number, issued_on) = basis?;
            Some(Self {
                new: NewPlan {
                    title: title?,
                    owner: owner?,
                    period_start: start?,
                    period_end: end?,
                    document_number,
                    issued_on,
                    lines: lines?,
                },
                key,
            })
        })
    }
}

/// A checked UpdateTrainingPlan request.
#[derive(Debug, Clone)]
pub struct UpdatePlan {
    /// The plan.
    pub name: TrainingPlanName,
    /// The etag the caller read, if any.
    pub etag: String,
    /// What changes.
    pub changes: PlanChanges,
}

impl TryFrom<pb::UpdateTrainingPlanRequest> for UpdatePlan {
    type Error = Error;

    fn try_from(request: pb::UpdateTrainingPlanRequest) -> Result<Self> {
        let pb::UpdateTrainingPlanRequest { training_plan, update_mask } = request;
        let Some(plan) = training_plan else { return Err(Error::invalid("training_plan", "is required")) };
        let pb::TrainingPlan {
            name,
            title,
            owner: _,
            period_start,
            period_end,
            legal_basis: basis,
            status: _,
            lines: given_lines,
            etag,
            create_time: _,
            update_time: _,
        } = plan;
        let mut v = Violations::new();
        let plan_name = v.check("training_plan.name", TrainingPlanName::parse(&name));
        let mut changes = PlanChanges::default();
        let (mut basis, mut given_lines) = (Some(basis), Some(given_lines));
        for path in update_paths(&mut v, update_mask.as_ref(), PLAN_UPDATABLE) {
            match path.as_str() {
                "title" => changes.title = v.check("training_plan.title", required_text(&title, MAX_TEXT_CHARS)),
                "period_start" => {
                    changes.period_start = v.check("training_plan.period_start", date(period_start.as_ref()));
                }
                "period_end" => changes.period_end = v.check("training_plan.period_end", date(period_end.as_ref())),
                "legal_basis" => {
                    changes.legal_basis = legal_basis(&mut v, basis.take().flatten(), "training_plan");
                }
                "lines" => changes.lines = lines(&mut v, given_lines.take().unwrap_or_default(), "training_plan"),
                _ => {}
            }
        }
        if let (Some(start), Some(end)) = (changes.period_start, changes.period_end)
            && end <= start
        {
            v.add("training_plan.period_end", "must be after period_start");
        }
        v.into_result(|| Some(Self { name: plan_name?, etag, changes }))
    }
}

/// A checked request naming a plan (get, delete, approve, close), with the etag the
/// caller read, if the request has one.
#[derive(Debug, Clone)]
pub struct PlanRef {
    /// The plan.
    pub name: TrainingPlanName,
    /// The etag the caller read, if any.
    pub etag: String,
}

fn plan_ref(name: &str, etag: String) -> Result<PlanRef> {
    let mut v = Violations::new();
    let name = v.check("name", TrainingPlanName::parse(name));
    v.into_result(|| Some(PlanRef { name: name?, etag }))
}

impl TryFrom<pb::GetTrainingPlanRequest> for PlanRef {
    type Error = Error;

    fn try_from(request: pb::GetTrainingPlanRequest) -> Result<Self> {
        let pb::GetTrainingPlanRequest { name } = request;
        plan_ref(&name, String::new())
    }
}

impl TryFrom<pb::DeleteTrainingPlanRequest> for PlanRef {
    type Error = Error;

    fn try_from(request: pb::DeleteTrainingPlanRequest) -> Result<Self> {
        let pb::DeleteTrainingPlanRequest { name, etag } = request;
        plan_ref(&name, etag)
    }
}

impl TryFrom<pb::ApproveTrainingPlanRequest> for PlanRef {
    type Error = Error;

    fn try_from(request: pb::ApproveTrainingPlanRequest) -> Result<Self> {
        let pb::ApproveTrainingPlanRequest { name, etag } = request;
        plan_ref(&name, etag)
    }
}

impl TryFrom<pb::CloseTrainingPlanRequest> for PlanRef {
    type Error = Error;

    fn try_from(request: pb::CloseTrainingPlanRequest) -> Result<Self> {
        let pb::CloseTrainingPlanRequest { name, etag } = request;
        plan_ref(&name, etag)
    }
}

/// A checked ListTrainingPlans request.
#[derive(Debug, Clone)]
pub struct ListPlans {
    /// The owner locality whose subtree's plans are listed.
    pub owner: Code,
    /// The page asked for.
    pub page: Page,
}

impl TryFrom<pb::ListTrainingPlansRequest> for ListPlans {
    type Error = Error;

    fn try_from(request: pb::ListTrainingPlansRequest) -> Result<Self> {
        let pb::ListTrainingPlansRequest { owner, page_size, page_token } = request;
        let mut v = Violations::new();
        let code = v.check("owner", Code::from_name(&owner));
        let page = Page::parse(&mut v, page_size, &page_token, &["ListTrainingPlans", &owner]);
        v.into_result(|| Some(Self { owner: code?, page: page? }))
    }
}

/// A checked GetTrainingPlanProgress request.
#[derive(Debug, Clone, Copy)]
pub struct GetProgress {
    /// The plan.
    pub name: TrainingPlanName,
    /// The day whose end the counts describe.
    pub as_of: NaiveDate,
}

impl TryFrom<pb::GetTrainingPlanProgressRequest> for GetProgress {
    type Error = Error;

    fn try_from(request: pb::GetTrainingPlanProgressRequest) -> Result<Self> {
        let pb::GetTrainingPlanProgressRequest { name, as_of } = request;
        let mut v = Violations::new();
        let name = v.check("name", TrainingPlanName::parse(&name));
        let as_of = v.check("as_of", optional_date(as_of.as_ref())).map(|d| d.unwrap_or_else(today));
        v.into_result(|| Some(Self { name: name?, as_of: as_of? }))
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

/// The wire form of one line's (or the total's) progress.
pub fn line_progress(tally: &Tally, line_id: &str, title: &str) -> pb::LineProgress {
    use crate::training::rules::EnrollmentStatus as S;
    let n = |v: u64| i32::try_from(v).unwrap_or(i32::MAX);
    let completed = tally.of(S::Completed);
    pb::LineProgress {
        line_id: line_id.to_owned(),
        title: title.to_owned(),
        target: n(tally.target),
        enrollments: n(tally.enrollments()),
        planned: n(tally.of(S::Planned)),
        enrolled: n(tally.of(S::Enrolled)),
        completed: n(completed),
        dropped: n(tally.of(S::Dropped)),
        failed: n(tally.of(S::Failed)),
        percent_of_plan: tally.percent_of_plan(),
        achievement: achievement(completed, tally.target).into(),
    }
}

/// The progress of each line in plan order, and the total computed from the lines.
pub fn progress(
    plan: &Plan,
    counts: &[crate::training::rules::StatusCount],
) -> (Vec<pb::LineProgress>, pb::LineProgress) {
    let (lines, total) = crate::training::rules::progress(plan, counts);
    (
        lines.iter().map(|(line, tally)| line_progress(tally, &line.line_id, &line.title)).collect(),
        line_progress(&total, "", ""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::rules::{EnrollmentStatus, PlanStatus, StatusCount};

    #[test]
    fn the_total_is_the_sum_of_the_lines() {
        let line = |id: &str, target: i32| Line {
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
        let plan = Plan {
            name: TrainingPlanName(1),
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

    #[test]
    fn a_create_request_reports_every_bad_field_at_once() {
        let request = pb::CreateTrainingPlanRequest {
            training_plan: Some(pb::TrainingPlan {
                title: " ".into(),
                owner: "localities/x".into(),
                period_start: Some(pb::Date { year: 2025, month: 1, day: 1 }),
                period_end: Some(pb::Date { year: 2021, month: 1, day: 1 }),
                lines: vec![pb::TargetLine { line_id: "Bad".into(), kind: 9, ..Default::default() }],
                ..Default::default()
            }),
            request_id: "bad id".into(),
        };
        let Err(Error::InvalidArgument(violations)) = CreatePlan::try_from(request) else {
            panic!("expected INVALID_ARGUMENT")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "request_id",
                "training_plan.title",
                "training_plan.owner",
                "training_plan.period_end",
                "training_plan.legal_basis",
                "training_plan.lines[0].line_id",
                "training_plan.lines[0].title",
                "training_plan.lines[0].kind",
                "training_plan.lines[0].target_enrollments",
            ]
        );
    }
}
