//! What training plans, courses and enrolments are and the rules they obey, free of
//! I/O: the statuses and their transitions, the plan's period, the fields of lines and
//! courses, what may change in a plan that has enrolments, and the arithmetic of
//! progress against target.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::{
    domain::{
        locality::{Code, Tier},
        text::normalize_name,
    },
    edge::names::{CourseName, EnrollmentName, PersonName, TrainingPlanName},
    enum_table,
    error::{Error, Result, RuleViolation, Violation},
    grpc::pb,
    people::rules::person::Category,
};

/// Longest title, topic, provider or location, in characters.
pub const MAX_TEXT_CHARS: usize = 300;

/// Where a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanStatus {
    /// Being drafted.
    Draft,
    /// Approved.
    Approved,
    /// Closed: nothing changes any more.
    Closed,
}

enum_table!(PlanStatus, pb::TrainingPlanStatus, "TRAINING_PLAN_STATUS_", {
    Draft => Draft = "draft",
    Approved => Approved = "approved",
    Closed => Closed = "closed",
});

/// What a target line trains for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgrammeKind {
    /// Degree or certificate training towards a level.
    Degree,
    /// Refresher course on a topic.
    Refresher,
}

enum_table!(ProgrammeKind, pb::ProgrammeKind, "PROGRAMME_KIND_", {
    Degree => Degree = "degree",
    Refresher => Refresher = "refresher",
});

/// Where an enrolment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EnrollmentStatus {
    /// Planned, not started.
    Planned,
    /// Studying.
    Enrolled,
    /// Completed.
    Completed,
    /// Dropped out.
    Dropped,
    /// Failed.
    Failed,
}

enum_table!(EnrollmentStatus, pb::EnrollmentStatus, "ENROLLMENT_STATUS_", {
    Planned => Planned = "planned",
    Enrolled => Enrolled = "enrolled",
    Completed => Completed = "completed",
    Dropped => Dropped = "dropped",
    Failed => Failed = "failed",
});

impl EnrollmentStatus {
    /// Whether the enrolment is still open (planned or under way): a person holds at
    /// most one open enrolment per line (the partial unique index
    /// `ux_enrollments_open` holds it on both backends).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Planned | Self::Enrolled)
    }

    /// Whether `self` may move to `next`. Completion can be reverted (to ENROLLED);
    /// dropping and failing are final.
    pub fn can_become(self, next: Self) -> bool {
        use EnrollmentStatus as S;
        matches!(
            (self, next),
            (S::Planned, S::Enrolled)
                | (S::Planned, S::Dropped)
                | (S::Enrolled, S::Completed)
                | (S::Enrolled, S::Dropped)
                | (S::Enrolled, S::Failed)
                | (S::Completed, S::Enrolled)
        )
    }
}

/// Whether `day` lies in the plan period `[start, end)`.
pub fn in_period(start: NaiveDate, end: NaiveDate, day: NaiveDate) -> bool {
    start <= day && day < end
}

/// Achieved against target, in percent, unrounded: 1,314 of 1,200 is 109.5.
pub fn percent_of_plan(achieved: u64, target: u64) -> f64 {
    if target == 0 { 0.0 } else { achieved as f64 * 100.0 / target as f64 }
}

// ---- fields ---------------------------------------------------------------------------

/// A required text of 1 to `max` characters, in NFC with spaces collapsed.
pub fn required_text(value: &str, max: usize) -> Result<String, String> {
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
pub fn optional_text(value: &str, max: usize) -> Result<String, String> {
    let text = normalize_name(value);
    if text.chars().count() > max { Err(format!("is longer than {max} characters")) } else { Ok(text) }
}

/// A line id: lower snake case, 1 to 64 characters.
pub fn line_id(value: &str) -> Result<String, String> {
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
        Err(format!(
            "{} is not lower snake case of 1 to 64 characters (example: `political_theory`)",
            crate::error::quote(value)
        ))
    }
}

// ---- plans ----------------------------------------------------------------------------

/// A target line of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Identifier within the plan.
    pub line_id: String,
    /// Title.
    pub title: String,
    /// Degree or refresher.
    pub kind: ProgrammeKind,
    /// The level a degree line leads to: (scale, level).
    pub level: Option<(String, String)>,
    /// The topic of a refresher line.
    pub topic: Option<String>,
    /// Audience tier.
    pub audience_tier: Option<Tier>,
    /// Audience category.
    pub audience_category: Option<Category>,
    /// Leaders only.
    pub leaders_only: bool,
    /// Target enrolments.
    pub target: i32,
    /// Budget in đồng.
    pub budget_vnd: Option<i64>,
}

/// A plan with its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Its name, `trainingPlans/{id}`.
    pub name: TrainingPlanName,
    /// Title.
    pub title: String,
    /// Owner locality.
    pub owner: Code,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// First day after the period.
    pub period_end: NaiveDate,
    /// Legal basis: document number.
    pub document_number: String,
    /// Legal basis: date issued.
    pub issued_on: NaiveDate,
    /// Status.
    pub status: PlanStatus,
    /// Lines in plan order.
    pub lines: Vec<Line>,
    /// Revision (etag).
    pub revision: i64,
    /// Created.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

impl Plan {
    /// The plan's id.
    pub fn id(&self) -> i64 {
        self.name.id()
    }

    /// The line with this id.
    pub fn line(&self, line_id: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.line_id == line_id)
    }

    /// FAILED_PRECONDITION unless the plan may still change: the one statement of
    /// "a closed plan accepts no change", for its lines, courses and enrolments alike.
    pub fn ensure_open(&self) -> Result<()> {
        if self.status == PlanStatus::Closed {
            Err(Error::precondition(self.name.to_string(), "the plan is closed and accepts no change"))
        } else {
            Ok(())
        }
    }

    /// FAILED_PRECONDITION unless the plan takes enrolments and their transitions:
    /// approved, neither a draft nor closed.
    pub fn ensure_approved(&self) -> Result<()> {
        self.ensure_open()?;
        if self.status == PlanStatus::Draft {
            return Err(Error::precondition(self.name.to_string(), "the plan is a draft: approve the plan first"));
        }
        Ok(())
    }

    /// The plan's period, as messages write it.
    pub fn period(&self) -> String {
        format!("[{}, {})", self.period_start, self.period_end)
    }
}

/// A plan to create (in DRAFT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlan {
    /// Title, NFC.
    pub title: String,
    /// Owner locality.
    pub owner: Code,
    /// First day.
    pub period_start: NaiveDate,
    /// First day after.
    pub period_end: NaiveDate,
    /// Legal basis: document number.
    pub document_number: String,
    /// Legal basis: date issued.
    pub issued_on: NaiveDate,
    /// Lines in order.
    pub lines: Vec<Line>,
}

/// The changes of a plan update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanChanges {
    /// New title.
    pub title: Option<String>,
    /// New first day.
    pub period_start: Option<NaiveDate>,
    /// New first day after.
    pub period_end: Option<NaiveDate>,
    /// New legal basis (document number, issued on).
    pub legal_basis: Option<(String, NaiveDate)>,
    /// New lines (the whole list).
    pub lines: Option<Vec<Line>>,
}

/// Why replacing `old` lines by `new` is refused, given the lines with enrolments and
/// with courses: such a line cannot be removed, and an enrolled line keeps its kind
/// and level.
pub fn line_replacement_violations(
    plan: &str,
    old: &[Line],
    new: &[Line],
    enrolled: &BTreeSet<String>,
    with_courses: &BTreeSet<String>,
) -> Vec<RuleViolation> {
    let mut violations = Vec::new();
    for line in old {
        let subject = format!("{plan} line {}", line.line_id);
        match new.iter().find(|n| n.line_id == line.line_id) {
            None if enrolled.contains(&line.line_id) => violations.push(RuleViolation {
                subject,
                description: "the line has enrolments and cannot be removed".to_owned(),
            }),
            None if with_courses.contains(&line.line_id) => violations.push(RuleViolation {
                subject,
                description: "the line has courses and cannot be removed; delete them first".to_owned(),
            }),
            Some(n) if enrolled.contains(&line.line_id) && (n.kind != line.kind || n.level != line.level) => {
                violations.push(RuleViolation {
                    subject,
                    description: "the line has enrolments and cannot change its kind or level".to_owned(),
                });
            }
            _ => {}
        }
    }
    violations
}

// ---- courses --------------------------------------------------------------------------

/// A session of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    /// Where.
    pub location: String,
}

/// The editable fields of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseFields {
    /// The line it serves.
    pub line_id: String,
    /// Title.
    pub title: String,
    /// Provider.
    pub provider: String,
    /// Location.
    pub location: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    /// Sessions.
    pub sessions: Vec<Session>,
}

/// A course of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    /// Its name, `trainingPlans/{plan}/courses/{id}`.
    pub name: CourseName,
    /// The fields.
    pub fields: CourseFields,
    /// Revision (etag).
    pub revision: i64,
}

/// The changes of a course update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseChanges {
    /// New title.
    pub title: Option<String>,
    /// New provider.
    pub provider: Option<String>,
    /// New location.
    pub location: Option<String>,
    /// New first day.
    pub start_date: Option<NaiveDate>,
    /// New last day.
    pub end_date: Option<NaiveDate>,
    /// New sessions (the whole list).
    pub sessions: Option<Vec<Session>>,
}

impl CourseChanges {
    /// `fields` with the changes applied.
    pub fn apply(&self, fields: &CourseFields) -> CourseFields {
        let mut f = fields.clone();
        if let Some(t) = &self.title {
            f.title.clone_from(t);
        }
        if let Some(p) = &self.provider {
            f.provider.clone_from(p);
        }
        if let Some(l) = &self.location {
            f.location.clone_from(l);
        }
        if let Some(s) = self.start_date {
            f.start_date = s;
        }
        if let Some(e) = self.end_date {
            f.end_date = e;
        }
        if let Some(s) = &self.sessions {
            f.sessions.clone_from(s);
        }
        f
    }
}

/// The violations of a course against its plan, on fields under `path` (`course`):
/// the line must be one of the plan's, the dates inside the plan's period (whose end
/// is exclusive), the start not after the end, and each session inside the course.
pub fn course_violations(plan: &Plan, course: &CourseFields, path: &str) -> Vec<Violation> {
    let mut v = Vec::new();
    if plan.line(&course.line_id).is_none() {
        v.push(Violation::new(format!("{path}.line_id"), format!("{} has no line `{}`", plan.name, course.line_id)));
    }
    let period = plan.period();
    if !in_period(plan.period_start, plan.period_end, course.start_date) {
        v.push(Violation::new(format!("{path}.start_date"), format!("is outside the plan's period {period}")));
    }
    if !in_period(plan.period_start, plan.period_end, course.end_date) {
        v.push(Violation::new(format!("{path}.end_date"), format!("is outside the plan's period {period}")));
    }
    if course.end_date < course.start_date {
        v.push(Violation::new(format!("{path}.end_date"), "is before start_date"));
    }
    for (i, s) in course.sessions.iter().enumerate() {
        if s.start_date < course.start_date || s.start_date > course.end_date {
            v.push(Violation::new(format!("{path}.sessions[{i}].start_date"), "is outside the course's dates"));
        }
        if s.end_date < course.start_date || s.end_date > course.end_date {
            v.push(Violation::new(format!("{path}.sessions[{i}].end_date"), "is outside the course's dates"));
        }
        if s.end_date < s.start_date {
            v.push(Violation::new(format!("{path}.sessions[{i}].end_date"), "is before its start_date"));
        }
    }
    v
}

// ---- enrolments -----------------------------------------------------------------------

/// An enrolment with its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    /// Its name, `trainingPlans/{plan}/enrollments/{id}`.
    pub name: EnrollmentName,
    /// The person.
    pub person: PersonName,
    /// The line.
    pub line_id: String,
    /// The course, if any (its id, in the same plan).
    pub course_id: Option<i64>,
    /// Current status.
    pub status: EnrollmentStatus,
    /// Date of the initial status.
    pub enrollment_date: NaiveDate,
    /// Grade, once completed.
    pub grade: Option<String>,
    /// With distinction.
    pub distinction: bool,
    /// The qualification its completion recorded (its id, of the same person).
    pub qualification_id: Option<i64>,
    /// Revision (etag).
    pub revision: i64,
    /// Every status entered, in order.
    pub history: Vec<(EnrollmentStatus, NaiveDate)>,
}

/// An enrolment to create, its fields checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrollment {
    /// The person.
    pub person: PersonName,
    /// The line.
    pub line_id: String,
    /// The course, if any: its name as given (checked against the plan later).
    pub course: Option<CourseName>,
    /// Date of the initial status.
    pub enrollment_date: NaiveDate,
    /// The initial status.
    pub status: EnrollmentStatus,
}

/// What a transition changes besides the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Grade.
    pub grade: Option<String>,
    /// Distinction.
    pub distinction: bool,
    /// Recorded qualification.
    pub qualification_id: Option<i64>,
}

/// A condition of a ListEnrollments filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `line_id = "…"` (or `!=`).
    Line {
        /// Whether the line must equal (or differ from) the value.
        equal: bool,
        /// The line id.
        line_id: String,
    },
    /// `status = COMPLETED` (or `!=`).
    Status {
        /// Whether the status must equal (or differ from) the value.
        equal: bool,
        /// The status.
        status: EnrollmentStatus,
    },
    /// `person = "people/7"` (or `!=`).
    Person {
        /// Whether the person must equal (or differ from) the value.
        equal: bool,
        /// The person.
        person: PersonName,
    },
}

/// The words for a category in an audience rule.
pub fn category_words(category: Category) -> &'static str {
    match category {
        Category::Cadre => "cadres",
        Category::CivilServant => "civil servants",
        Category::PublicEmployee => "public employees",
        Category::PartTimeWorker => "part-time workers",
        Category::ContractWorker => "contract workers",
    }
}

// ---- progress -------------------------------------------------------------------------

/// The number of enrolments of a line in a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    /// The line.
    pub line_id: String,
    /// The status at the end of the day asked.
    pub status: EnrollmentStatus,
    /// How many enrolments.
    pub count: u64,
}

/// Counts of one line (or the total) by status, with its target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// The target.
    pub target: u64,
    by_status: [u64; 5],
}

impl Tally {
    fn slot(status: EnrollmentStatus) -> usize {
        match status {
            EnrollmentStatus::Planned => 0,
            EnrollmentStatus::Enrolled => 1,
            EnrollmentStatus::Completed => 2,
            EnrollmentStatus::Dropped => 3,
            EnrollmentStatus::Failed => 4,
        }
    }

    /// How many enrolments are in `status`.
    pub fn of(&self, status: EnrollmentStatus) -> u64 {
        self.by_status.get(Self::slot(status)).copied().unwrap_or(0)
    }

    /// How many enrolments in all.
    pub fn enrollments(&self) -> u64 {
        self.by_status.iter().sum()
    }

    fn add(&mut self, status: EnrollmentStatus, n: u64) {
        if let Some(slot) = self.by_status.get_mut(Self::slot(status)) {
            *slot += n;
        }
    }

    fn plus(&mut self, other: &Self) {
        self.target += other.target;
        for (a, b) in self.by_status.iter_mut().zip(other.by_status) {
            *a += b;
        }
    }

    /// Completed against target, in percent.
    pub fn percent_of_plan(&self) -> f64 {
        percent_of_plan(self.of(EnrollmentStatus::Completed), self.target)
    }
}

/// The tally of each line in plan order (with its line), and the total computed from
/// the lines.
pub fn progress<'a>(plan: &'a Plan, counts: &[StatusCount]) -> (Vec<(&'a Line, Tally)>, Tally) {
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
        lines.push((line, tally));
    }
    (lines, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    pub(crate) fn line(id: &str, kind: ProgrammeKind) -> Line {
        Line {
            line_id: id.to_owned(),
            title: id.to_owned(),
            kind,
            level: None,
            topic: None,
            audience_tier: None,
            audience_category: None,
            leaders_only: false,
            target: 1,
            budget_vnd: None,
        }
    }

    #[test]
    fn the_published_example_is_109_5_percent() {
        assert!((percent_of_plan(1314, 1200) - 109.5).abs() < 1e-9);
        assert_eq!(percent_of_plan(5, 0), 0.0);
    }

    #[test]
    fn only_the_listed_transitions_are_allowed() {
        use EnrollmentStatus as S;
        assert!(S::Planned.can_become(S::Enrolled));
        assert!(S::Enrolled.can_become(S::Completed));
        assert!(S::Completed.can_become(S::Enrolled));
        assert!(!S::Planned.can_become(S::Completed));
        assert!(!S::Dropped.can_become(S::Enrolled));
        assert!(!S::Failed.can_become(S::Completed));
        assert!(!S::Completed.can_become(S::Completed));
        assert!(S::Planned.is_open() && S::Enrolled.is_open() && !S::Completed.is_open());
    }

    #[test]
    fn periods_are_half_open() {
        let start = day(2021, 1, 1);
        let end = day(2026, 1, 1);
        assert!(in_period(start, end, start));
        assert!(!in_period(start, end, end));
    }

    #[test]
    fn line_ids_are_lower_snake_case() {
        assert!(line_id("political_theory_intermediate").is_ok());
        assert!(line_id("it2").is_ok());
        for bad in ["", "Political", "_a", "a_", "a__b", "2a", "a-b", &"a".repeat(65)] {
            assert!(line_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enrolled_lines_keep_their_kind_and_lines_with_courses_stay() {
        let old = vec![
            line("a", ProgrammeKind::Degree),
            line("b", ProgrammeKind::Refresher),
            line("c", ProgrammeKind::Refresher),
        ];
        let enrolled = BTreeSet::from(["a".to_owned()]);
        let courses = BTreeSet::from(["b".to_owned()]);
        let keep = old.clone();
        assert!(line_replacement_violations("p", &old, &keep, &enrolled, &courses).is_empty());
        let dropped = vec![line("c", ProgrammeKind::Refresher)];
        assert_eq!(line_replacement_violations("p", &old, &dropped, &enrolled, &courses).len(), 2);
        let changed = vec![line("a", ProgrammeKind::Refresher), line("b", ProgrammeKind::Refresher)];
        assert_eq!(line_replacement_violations("p", &old, &changed, &enrolled, &courses).len(), 1);
    }

    #[test]
    fn a_closed_plan_accepts_no_change_and_a_draft_no_enrolment() {
        let plan = |status| Plan {
            name: TrainingPlanName(1),
            title: "p".to_owned(),
            owner: Code::from_db("20".to_owned()),
            period_start: day(2021, 1, 1),
            period_end: day(2026, 1, 1),
            document_number: "1".to_owned(),
            issued_on: day(2020, 1, 1),
            status,
            lines: vec![],
            revision: 1,
            create_time: DateTime::<Utc>::MIN_UTC,
            update_time: DateTime::<Utc>::MIN_UTC,
        };
        assert!(matches!(plan(PlanStatus::Closed).ensure_open(), Err(Error::FailedPrecondition(_))));
        assert!(plan(PlanStatus::Draft).ensure_open().is_ok());
        assert!(matches!(plan(PlanStatus::Draft).ensure_approved(), Err(Error::FailedPrecondition(_))));
        assert!(matches!(plan(PlanStatus::Closed).ensure_approved(), Err(Error::FailedPrecondition(_))));
        assert!(plan(PlanStatus::Approved).ensure_approved().is_ok());
    }
}
