//! The checks of an enrolment to create, shared by CreateEnrollment,
//! BatchCreateEnrollments and ImportEnrollments; they run inside the write's
//! transaction, after the plan was locked and found approved.

use std::collections::BTreeSet;

use sea_orm::ConnectionTrait;

use crate::{
    context::{PersonAccess, Principal, Scope},
    edge::names::{EnrollmentName, PersonName},
    error::{Error, Result, RuleViolation, Violation},
    policy::authorize_person,
    training::{
        queries::enrollments as queries,
        rules::{EnrollmentStatus, NewEnrollment, Plan, category_words, in_period},
        wire::EnrollmentInput,
    },
};

fn at(path: &str, field: &str) -> String {
    if path.is_empty() { field.to_owned() } else { format!("{path}.{field}") }
}

/// What is wrong with one enrolment to create.
#[derive(Debug, Default)]
pub(super) struct Problems {
    /// The person is outside the caller's scope.
    denied: Option<String>,
    /// Bad fields.
    invalid: Vec<Violation>,
    /// Broken rules of the records: (field, rule).
    rules: Vec<(String, RuleViolation)>,
    /// The person and the enrolment date, when both could be read.
    who: Option<(PersonName, chrono::NaiveDate)>,
}

impl Problems {
    pub(super) fn is_empty(&self) -> bool {
        self.denied.is_none() && self.invalid.is_empty() && self.rules.is_empty()
    }

    /// Records that `new` appears twice in one batch or import (`what`).
    pub(super) fn twice(&mut self, path: &str, new: &NewEnrollment, what: &str) {
        self.invalid.push(Violation::new(
            at(path, "person"),
            format!("{} is enrolled twice in line `{}` in this {what}", new.person, new.line_id),
        ));
    }

    /// Records that an import's message names another plan than its first.
    pub(super) fn invalid_parent(&mut self, parent: &str) {
        self.invalid.push(Violation::new("parent", format!("must be `{parent}` in every message")));
    }

    /// Adds another enrolment's problems (of a batch) to these.
    pub(super) fn absorb(&mut self, other: Self) {
        if self.denied.is_none() {
            self.denied = other.denied;
        }
        self.invalid.extend(other.invalid);
        self.rules.extend(other.rules);
    }

    /// The one error of a single create or a batch: scope first, then fields, then rules.
    pub(super) fn into_error(self) -> Result<()> {
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
    pub(super) fn into_violations(self, principal: &Principal) -> Vec<Violation> {
        let mut violations = Vec::new();
        if self.denied.is_some() {
            let unknown = self.who.map(|(person, _)| unknown_person(principal, person)).unwrap_or_default();
            violations.push(Violation::new("person", unknown));
        }
        violations.extend(self.invalid);
        violations.extend(self.rules.into_iter().map(|(field, r)| Violation::new(field, r.description)));
        violations
    }
}

/// The words for a person that does not exist (or, for a scoped caller, is outside
/// its scope: both read the same).
fn unknown_person(principal: &Principal, person: PersonName) -> String {
    match principal.scope {
        Scope::National => format!("{person} does not exist"),
        Scope::Localities(_) => format!("{person} does not exist or is outside the caller's scope"),
    }
}

/// Judges the fields of an enrolment to create against the plan, without the
/// database. `path` prefixes the field paths.
pub(super) fn draft(
    problems: &mut Problems,
    given: Option<&EnrollmentInput>,
    path: &str,
    plan: &Plan,
) -> Option<NewEnrollment> {
    let Some(e) = given else {
        problems.invalid.push(Violation::new(if path.is_empty() { "enrollment" } else { path }, "is required"));
        return None;
    };
    let mut v = Vec::new();
    let person = e.person.clone().map_err(|d| v.push(Violation::new(at(path, "person"), d))).ok();
    let line_id = if e.line_id.is_empty() {
        v.push(Violation::new(at(path, "line_id"), "is required"));
        None
    } else if plan.line(&e.line_id).is_none() {
        v.push(Violation::new(at(path, "line_id"), format!("`{}` is not a line of {}", e.line_id, plan.name)));
        None
    } else {
        Some(e.line_id.clone())
    };
    let course = match &e.course {
        None => Some(None),
        Some(Ok(course)) if course.parent == plan.id() => Some(Some(*course)),
        Some(Ok(course)) => {
            v.push(Violation::new(at(path, "course"), format!("`{course}` is not a course of {}", plan.name)));
            None
        }
        Some(Err(d)) => {
            v.push(Violation::new(at(path, "course"), d.clone()));
            None
        }
    };
    let date = match &e.enrollment_date {
        Ok(day) if in_period(plan.period_start, plan.period_end, *day) => Some(*day),
        Ok(day) => {
            v.push(Violation::new(
                at(path, "enrollment_date"),
                format!("{day} is outside the plan's period {}", plan.period()),
            ));
            None
        }
        Err(d) => {
            v.push(Violation::new(at(path, "enrollment_date"), d.clone()));
            None
        }
    };
    problems.invalid.extend(v);
    if let (Some(person), Ok(day)) = (person, &e.enrollment_date) {
        problems.who = Some((person, *day));
    }
    Some(NewEnrollment {
        person: person?,
        line_id: line_id?,
        course: course?,
        enrollment_date: date?,
        status: if e.enrolled { EnrollmentStatus::Enrolled } else { EnrollmentStatus::Planned },
    })
}

/// Checks that the enrolled person is in the caller's scope on the enrolment date
/// (before anything else is said about the enrolment).
pub(super) async fn check_scope(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    problems: &mut Problems,
) -> Result<()> {
    let Some((person, day)) = problems.who else { return Ok(()) };
    match authorize_person(conn, principal, person.id(), day, PersonAccess::Write).await {
        Ok(()) => Ok(()),
        Err(Error::PermissionDenied(message)) => {
            problems.denied = Some(message);
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// Checks an enrolment to create against the records: the person, the course, the
/// person's placement and the line's audience, and open enrolments of the same person
/// on the line (held by the database too: a second open enrolment that a concurrent
/// writer commits meanwhile is refused by the partial unique index
/// `ux_enrollments_open`, and the write then runs again and lands here).
pub(super) async fn check_against_records(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    plan: &Plan,
    new: &NewEnrollment,
    path: &str,
    problems: &mut Problems,
) -> Result<()> {
    let person = new.person.to_string();
    if !queries::person_exists(conn, new.person.id()).await? {
        problems.invalid.push(Violation::new(at(path, "person"), unknown_person(principal, new.person)));
        return Ok(());
    }
    let line = plan.line(&new.line_id);
    if let Some(course) = new.course {
        match queries::course(conn, plan.id(), course.id).await? {
            None => problems.invalid.push(Violation::new(at(path, "course"), format!("{course} does not exist"))),
            Some(found) if found.line_id != new.line_id => problems.invalid.push(Violation::new(
                at(path, "course"),
                format!("{course} serves line `{}`, not `{}`", found.line_id, new.line_id),
            )),
            Some(_) => {}
        }
    }
    let mut rule = |field: &str, description: String| {
        problems.rules.push((at(path, field), RuleViolation { subject: person.clone(), description }));
    };
    let day = new.enrollment_date;
    match queries::placement_on(conn, new.person.id(), day).await? {
        None => rule("person", format!("{person} is placed nowhere on {day}")),
        Some(placed) => {
            let owner = BTreeSet::from([plan.owner.clone()]);
            if !crate::scope::is_within(conn, &placed.locality, &owner).await? {
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
    if let Some(open) = queries::open_enrollment(conn, plan.id(), &new.line_id, new.person.id(), None).await? {
        rule("line_id", already_open(new, open));
    }
    Ok(())
}

/// The words of the rule "one open enrolment per person and line".
pub(super) fn already_open(new: &NewEnrollment, open: EnrollmentName) -> String {
    format!("{} already has an open enrolment in line `{}`: {open}", new.person, new.line_id)
}
