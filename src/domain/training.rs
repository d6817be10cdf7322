//! Training plans and enrolments: statuses, programme kinds, the allowed transitions
//! of an enrolment, and the arithmetic of progress against target.

use chrono::NaiveDate;

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

impl PlanStatus {
    /// Stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Approved => "approved",
            Self::Closed => "closed",
        }
    }

    /// The status stored under `name`.
    pub fn from_db(name: &str) -> Option<Self> {
        [Self::Draft, Self::Approved, Self::Closed].into_iter().find(|s| s.as_str() == name)
    }
}

/// What a target line trains for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgrammeKind {
    /// Degree or certificate training towards a level.
    Degree,
    /// Refresher course on a topic.
    Refresher,
}

impl ProgrammeKind {
    /// Stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Degree => "degree",
            Self::Refresher => "refresher",
        }
    }

    /// The kind stored under `name`.
    pub fn from_db(name: &str) -> Option<Self> {
        [Self::Degree, Self::Refresher].into_iter().find(|s| s.as_str() == name)
    }
}

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

impl EnrollmentStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [Self::Planned, Self::Enrolled, Self::Completed, Self::Dropped, Self::Failed];

    /// Stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Enrolled => "enrolled",
            Self::Completed => "completed",
            Self::Dropped => "dropped",
            Self::Failed => "failed",
        }
    }

    /// The status stored under `name`.
    pub fn from_db(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the enrolment is still open (planned or under way): a person holds at
    /// most one open enrolment per line.
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let start = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap_or_default();
        let end = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        assert!(in_period(start, end, start));
        assert!(!in_period(start, end, end));
    }
}
