//! The demo's training plans (`data/demo-training.json`): plans with their target
//! lines and courses, approved (and one closed), and enrolments in every state,
//! created and moved through TrainingPlanService and EnrollmentService, so that a
//! completed degree line records the person's qualification as a client's would.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::{
    api::{Services, call, date, wire_enum},
    rng::{Rng, Weighted},
    workforce::Workforce,
};
use crate::{
    context::RequestContext,
    domain::locality::{Code, Tier},
    grpc::pb::{
        self, enrollment_service_server::EnrollmentService as _, training_plan_service_server::TrainingPlanService as _,
    },
    people::rules::person::Category,
    standards::rules::LevelRef,
};

const TRAINING: &str = include_str!("../../data/demo-training.json");

/// The final states a course's participants may be given, in the order they are
/// assigned (the order is part of the data's meaning: the same seed, the same people).
const OUTCOMES: [&str; 6] = ["completed", "failed", "dropped", "enrolled", "planned", "withdrawn"];

#[derive(Deserialize)]
struct Spec {
    seed: u64,
    grades: Weighted,
    distinction: String,
    plans: Vec<PlanSpec>,
}

#[derive(Deserialize)]
struct PlanSpec {
    owner: String,
    title: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    document_number: String,
    issued_on: NaiveDate,
    close: bool,
    lines: Vec<LineSpec>,
    courses: Vec<CourseSpec>,
}

#[derive(Deserialize)]
struct LineSpec {
    line_id: String,
    title: String,
    kind: String,
    level: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    audience: AudienceSpec,
    target: i32,
    budget_vnd: i64,
    candidates: Vec<String>,
}

#[derive(Deserialize, Default)]
struct AudienceSpec {
    tier: Option<String>,
    category: Option<String>,
    #[serde(default)]
    leaders_only: bool,
}

#[derive(Deserialize)]
struct CourseSpec {
    line: String,
    title: String,
    provider: String,
    location: String,
    start: NaiveDate,
    end: NaiveDate,
    planned_on: Option<NaiveDate>,
    participants: BTreeMap<String, usize>,
}

/// Who a line admits, as the enrolment rules and the data's candidate list say.
struct Admission {
    tier: Option<Tier>,
    category: Option<Category>,
    leaders_only: bool,
    candidates: Vec<Category>,
    /// The line's level and its rank, for degree lines: only people below it enrol.
    level: Option<(LevelRef, i32)>,
}

impl Admission {
    fn of(line: &LineSpec, workforce: &Workforce) -> anyhow::Result<Self> {
        let category = |name: &str| Category::from_db(name).with_context(|| format!("demo category {name}"));
        let level = match &line.level {
            Some(name) => {
                let level =
                    LevelRef::from_name(name).map_err(|e| anyhow::anyhow!("demo line {}: {e}", line.line_id))?;
                let rank = workforce.rank(&level.scale, &level.level)?;
                Some((level, rank))
            }
            None => None,
        };
        Ok(Self {
            tier: line
                .audience
                .tier
                .as_deref()
                .map(|t| Tier::from_db(t).with_context(|| format!("demo tier {t}")))
                .transpose()?,
            category: line.audience.category.as_deref().map(category).transpose()?,
            leaders_only: line.audience.leaders_only,
            candidates: line.candidates.iter().map(|c| category(c)).collect::<anyhow::Result<_>>()?,
            level,
        })
    }
}

/// Creates the demo plans with their courses and enrolments; returns (plans, enrolments).
pub async fn load(services: &Services, ctx: &RequestContext, workforce: &Workforce) -> anyhow::Result<(usize, usize)> {
    let spec: Spec = serde_json::from_str(TRAINING)?;
    let mut rng = Rng::new(spec.seed);
    let mut enrolments = 0;
    for plan in &spec.plans {
        enrolments += load_plan(services, ctx, workforce, &spec, plan, &mut rng).await?;
    }
    Ok((spec.plans.len(), enrolments))
}

fn line_to_pb(line: &LineSpec) -> anyhow::Result<pb::TargetLine> {
    let a = &line.audience;
    let audience = if a.tier.is_some() || a.category.is_some() || a.leaders_only {
        Some(pb::Audience {
            tier: a
                .tier
                .as_deref()
                .map_or(Ok(0), |t| wire_enum("LOCALITY_TIER", t, pb::LocalityTier::from_str_name))?,
            category: a
                .category
                .as_deref()
                .map_or(Ok(0), |c| wire_enum("PERSON_CATEGORY", c, pb::PersonCategory::from_str_name))?,
            leaders_only: a.leaders_only,
        })
    } else {
        None
    };
    Ok(pb::TargetLine {
        line_id: line.line_id.clone(),
        title: line.title.clone(),
        kind: wire_enum("PROGRAMME_KIND", &line.kind, pb::ProgrammeKind::from_str_name)?,
        level: line.level.clone().unwrap_or_default(),
        topic: line.topic.clone().unwrap_or_default(),
        audience,
        target_enrollments: line.target,
        budget_vnd: line.budget_vnd,
    })
}

async fn load_plan(
    services: &Services,
    ctx: &RequestContext,
    workforce: &Workforce,
    spec: &Spec,
    plan: &PlanSpec,
    rng: &mut Rng,
) -> anyhow::Result<usize> {
    let owner = Code::parse(&plan.owner).map_err(|e| anyhow::anyhow!("demo plan owner {}: {e}", plan.owner))?;
    let what = || format!("demo plan {}", plan.title);
    let request = pb::CreateTrainingPlanRequest {
        training_plan: Some(pb::TrainingPlan {
            title: plan.title.clone(),
            owner: owner.name(),
            period_start: date(plan.period_start),
            period_end: date(plan.period_end),
            legal_basis: Some(pb::LegalBasis {
                document_number: plan.document_number.clone(),
                issued_on: date(plan.issued_on),
            }),
            lines: plan.lines.iter().map(line_to_pb).collect::<anyhow::Result<_>>()?,
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let created = call(ctx, what, request, |r| services.plans.create_training_plan(r)).await?;
    let name = created.training_plan.map(|p| p.name).context("CreateTrainingPlan answered no plan")?;
    let approve = pb::ApproveTrainingPlanRequest { name: name.clone(), etag: String::new() };
    call(ctx, what, approve, |r| services.plans.approve_training_plan(r)).await?;

    let mut admissions = BTreeMap::new();
    for line in &plan.lines {
        admissions.insert(line.line_id.as_str(), Admission::of(line, workforce)?);
    }
    let mut enrolled_in_line: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    let mut enrolments = 0;
    for course in &plan.courses {
        let admission =
            admissions.get(course.line.as_str()).with_context(|| format!("demo course line {}", course.line))?;
        let course_name = create_course(services, ctx, &name, course).await?;
        let taken = enrolled_in_line.entry(course.line.as_str()).or_default();
        let day = course.planned_on.unwrap_or(course.start);
        let outcomes: Vec<&str> = OUTCOMES
            .iter()
            .flat_map(|o| std::iter::repeat_n(*o, course.participants.get(*o).copied().unwrap_or_default()))
            .collect();
        if outcomes.len() != course.participants.values().sum::<usize>() {
            anyhow::bail!("demo course {}: participants may only be {OUTCOMES:?}", course.title);
        }
        let eligible: Vec<i64> = workforce
            .seated_on(day)
            .into_iter()
            .filter(|s| {
                workforce.within(&s.unit.locality, &owner, day)
                    && admission.tier.is_none_or(|t| s.unit.locality.tier() == t)
                    && admission.category.is_none_or(|c| s.person.category == c)
                    && (!admission.leaders_only || s.placement.leader)
                    && admission.candidates.contains(&s.person.category)
                    && s.person.employed_until.is_none_or(|until| until > course.end)
                    && admission
                        .level
                        .as_ref()
                        .is_none_or(|(level, rank)| workforce.rank_on(s.person_id, &level.scale, course.start) < *rank)
                    && !taken.contains(&s.person_id)
            })
            .map(|s| s.person_id)
            .collect();
        let chosen = rng.sample(&eligible, outcomes.len());
        if chosen.len() < outcomes.len() {
            anyhow::bail!(
                "demo course {}: {} participants wanted, {} people eligible",
                course.title,
                outcomes.len(),
                eligible.len()
            );
        }
        taken.extend(chosen.iter().copied());
        let requests = chosen
            .iter()
            .map(|person| pb::CreateEnrollmentRequest {
                parent: String::new(),
                enrollment: Some(pb::Enrollment {
                    person: format!("people/{person}"),
                    line_id: course.line.clone(),
                    course: course_name.clone(),
                    enrollment_date: date(day),
                    enrolled: course.planned_on.is_none(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .collect();
        let batch = pb::BatchCreateEnrollmentsRequest { parent: name.clone(), requests };
        let what = || format!("demo enrolments of {}", course.title);
        let created = call(ctx, what, batch, |r| services.enrollments.batch_create_enrollments(r)).await?;
        if created.enrollments.len() != outcomes.len() {
            anyhow::bail!("demo course {}: {} enrolments created", course.title, created.enrollments.len());
        }
        for (enrolment, outcome) in created.enrollments.iter().zip(&outcomes) {
            for (status, on) in transitions(course, outcome) {
                let grade = (status == pb::EnrollmentStatus::Completed)
                    .then(|| rng.weighted(&spec.grades).unwrap_or_default().to_owned());
                let request = pb::TransitionEnrollmentRequest {
                    name: enrolment.name.clone(),
                    status: status.into(),
                    date: date(on),
                    result: grade.map(|grade| pb::EnrollmentResult { distinction: grade == spec.distinction, grade }),
                    etag: String::new(),
                };
                let what = || format!("demo transition of {} to {status:?}", enrolment.name);
                call(ctx, what, request, |r| services.enrollments.transition_enrollment(r)).await?;
            }
        }
        enrolments += outcomes.len();
    }
    if plan.close {
        let close = pb::CloseTrainingPlanRequest { name: name.clone(), etag: String::new() };
        call(ctx, what, close, |r| services.plans.close_training_plan(r)).await?;
    }
    Ok(enrolments)
}

async fn create_course(
    services: &Services,
    ctx: &RequestContext,
    plan: &str,
    course: &CourseSpec,
) -> anyhow::Result<String> {
    let request = pb::CreateCourseRequest {
        parent: plan.to_owned(),
        course: Some(pb::Course {
            line_id: course.line.clone(),
            title: course.title.clone(),
            provider: course.provider.clone(),
            location: course.location.clone(),
            start_date: date(course.start),
            end_date: date(course.end),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let created =
        call(ctx, || format!("demo course {}", course.title), request, |r| services.plans.create_course(r)).await?;
    created.course.map(|c| c.name).context("CreateCourse answered no course")
}

/// The transitions that bring a participant of `course` to `outcome`, with their dates:
/// planned participants start on the first day; completions and failures are dated
/// the last day, drop-outs half way (or, before the start, the day before it).
fn transitions(course: &CourseSpec, outcome: &str) -> Vec<(pb::EnrollmentStatus, NaiveDate)> {
    use pb::EnrollmentStatus as S;
    let half_way = course.start + Duration::days((course.end - course.start).num_days() / 2);
    let mut steps = Vec::new();
    if course.planned_on.is_some() && outcome != "planned" && outcome != "withdrawn" {
        steps.push((S::Enrolled, course.start));
    }
    match outcome {
        "completed" => steps.push((S::Completed, course.end)),
        "failed" => steps.push((S::Failed, course.end)),
        "dropped" => steps.push((S::Dropped, half_way)),
        "withdrawn" => steps.push((S::Dropped, course.start.pred_opt().unwrap_or(course.start))),
        _ => {}
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::EnrollmentStatus;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn course(planned_on: Option<NaiveDate>) -> CourseSpec {
        CourseSpec {
            line: "l".into(),
            title: "t".into(),
            provider: String::new(),
            location: String::new(),
            start: day(2023, 3, 1),
            end: day(2023, 3, 31),
            planned_on,
            participants: BTreeMap::new(),
        }
    }

    fn domain(status: pb::EnrollmentStatus) -> EnrollmentStatus {
        use pb::EnrollmentStatus as S;
        match status {
            S::Unspecified | S::Planned => EnrollmentStatus::Planned,
            S::Enrolled => EnrollmentStatus::Enrolled,
            S::Completed => EnrollmentStatus::Completed,
            S::Dropped => EnrollmentStatus::Dropped,
            S::Failed => EnrollmentStatus::Failed,
        }
    }

    #[test]
    fn participants_reach_their_outcome_through_allowed_transitions_in_date_order() {
        for planned_on in [None, Some(day(2023, 2, 1))] {
            let c = course(planned_on);
            for outcome in OUTCOMES {
                if planned_on.is_none() && (outcome == "planned" || outcome == "withdrawn") {
                    continue;
                }
                let mut current =
                    if planned_on.is_some() { EnrollmentStatus::Planned } else { EnrollmentStatus::Enrolled };
                let mut last = planned_on.unwrap_or(c.start);
                for (next, on) in transitions(&c, outcome) {
                    let next = domain(next);
                    assert!(current.can_become(next), "{outcome}: {current:?} to {next:?}");
                    assert!(on >= last && on < day(2023, 4, 1), "{outcome}: {on}");
                    (current, last) = (next, on);
                }
                let expected = match outcome {
                    "completed" => EnrollmentStatus::Completed,
                    "failed" => EnrollmentStatus::Failed,
                    "dropped" | "withdrawn" => EnrollmentStatus::Dropped,
                    "enrolled" => EnrollmentStatus::Enrolled,
                    _ => EnrollmentStatus::Planned,
                };
                assert_eq!(current, expected, "{outcome}");
            }
        }
    }

    #[test]
    fn the_data_file_reads_and_names_known_outcomes() {
        let spec: Spec = serde_json::from_str(TRAINING).expect("demo-training.json");
        for plan in &spec.plans {
            for course in &plan.courses {
                assert!(course.participants.keys().all(|k| OUTCOMES.contains(&k.as_str())), "{}", course.title);
                assert!(plan.lines.iter().any(|l| l.line_id == course.line), "{}", course.title);
                assert!(plan.period_start <= course.start && course.end < plan.period_end, "{}", course.title);
            }
        }
    }
}
