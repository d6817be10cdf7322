//! What a succession pool (quy hoạch) is and the rules it obeys, free of I/O: its term,
//! post and bounds on the number of candidates, and a candidate's membership, a
//! half-open period `[added_on, removed_on)` within the term, never two at a time for
//! one person in one pool.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::{
    domain::{locality::Code, text::normalize_name},
    edge::names::{SuccessionPoolName, UnitName},
    enum_table,
    error::Violation,
    grpc::pb,
    standards::compliance::ComplianceStatus,
    standards::rules::Unmet,
};

/// Longest post title, in characters.
pub const MAX_POST_TITLE: usize = 200;
/// Longest reason, in characters.
pub const MAX_REASON: usize = 500;
/// Earliest and latest term years accepted.
pub const YEARS: std::ops::RangeInclusive<i32> = 1950..=2100;

/// How a pool's candidate count compares with its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bounds {
    /// Within the minimum and maximum.
    Within,
    /// Fewer than the minimum.
    BelowMinimum,
    /// More than the maximum.
    AboveMaximum,
}

// The stored names are those the list query computes (`CASE … END AS bounds`).
enum_table!(Bounds, pb::PoolBounds, "POOL_BOUNDS_", {
    Within => Within = "within",
    BelowMinimum => BelowMinimum = "below_minimum",
    AboveMaximum => AboveMaximum = "above_maximum",
});

/// How `count` candidates compare with the bounds `min..=max`.
pub fn bounds_of(count: i64, min: i32, max: i32) -> Bounds {
    if count < i64::from(min) {
        Bounds::BelowMinimum
    } else if count > i64::from(max) {
        Bounds::AboveMaximum
    } else {
        Bounds::Within
    }
}

/// A condition of a pool list filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolCondition {
    /// `bounds = X` (true) or `bounds != X` (false).
    Bounds(bool, Bounds),
    /// `term_start_year = N`.
    TermStartYear(i32),
}

/// A pool as stored, with its unit's locality and its candidate count on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Its name, `successionPools/{id}`.
    pub name: SuccessionPoolName,
    /// The unit of the post.
    pub unit: UnitName,
    /// The unit's locality.
    pub locality: Code,
    /// Its term, post and bounds.
    pub spec: PoolSpec,
    /// Incremented on every change; the etag.
    pub revision: i64,
    /// When it was created here.
    pub create_time: DateTime<Utc>,
    /// When it last changed here.
    pub update_time: DateTime<Utc>,
    /// Candidates on the date counted.
    pub candidate_count: i64,
}

impl Pool {
    /// How its count compares with its bounds.
    pub fn bounds(&self) -> Bounds {
        bounds_of(self.candidate_count, self.spec.min_candidates, self.spec.max_candidates)
    }
}

/// The content of a pool that writes check and store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSpec {
    /// The post title (NFC).
    pub post_title: String,
    /// Whether the post is a leader post.
    pub leader_post: bool,
    /// First year of the term.
    pub term_start_year: i32,
    /// Last year of the term.
    pub term_end_year: i32,
    /// Minimum number of candidates.
    pub min_candidates: i32,
    /// Maximum number of candidates.
    pub max_candidates: i32,
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolChanges {
    /// New post title (NFC).
    pub post_title: Option<String>,
    /// New leader flag.
    pub leader_post: Option<bool>,
    /// New first year.
    pub term_start_year: Option<i32>,
    /// New last year.
    pub term_end_year: Option<i32>,
    /// New minimum.
    pub min_candidates: Option<i32>,
    /// New maximum.
    pub max_candidates: Option<i32>,
}

impl PoolChanges {
    /// `spec` with these changes.
    pub fn apply(&self, spec: &PoolSpec) -> PoolSpec {
        PoolSpec {
            post_title: self.post_title.clone().unwrap_or_else(|| spec.post_title.clone()),
            leader_post: self.leader_post.unwrap_or(spec.leader_post),
            term_start_year: self.term_start_year.unwrap_or(spec.term_start_year),
            term_end_year: self.term_end_year.unwrap_or(spec.term_end_year),
            min_candidates: self.min_candidates.unwrap_or(spec.min_candidates),
            max_candidates: self.max_candidates.unwrap_or(spec.max_candidates),
        }
    }
}

/// A candidate in a pool on a date, with their compliance with the post's standard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The person.
    pub person_id: i64,
    /// Their full name.
    pub full_name: String,
    /// The day they entered the pool.
    pub added_on: NaiveDate,
    /// Why.
    pub added_reason: String,
    /// The day they left, if they did.
    pub removed_on: Option<NaiveDate>,
    /// Why they left.
    pub removed_reason: Option<String>,
    /// Their compliance on the date.
    pub status: ComplianceStatus,
    /// Every unmet minimum.
    pub unmet: Vec<Unmet>,
}

/// The rules between a pool's fields, with field paths under `path`.
pub fn check_pool(spec: &PoolSpec, path: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    if spec.term_end_year <= spec.term_start_year {
        violations.push(Violation::new(
            format!("{path}.term_end_year"),
            format!("{} must be after term_start_year {}", spec.term_end_year, spec.term_start_year),
        ));
    }
    if spec.max_candidates < spec.min_candidates {
        violations.push(Violation::new(
            format!("{path}.max_candidates"),
            format!("{} must be at least min_candidates {}", spec.max_candidates, spec.min_candidates),
        ));
    }
    violations
}

/// Whether `day` lies in the term `start..=end` (by year).
pub fn in_term(day: NaiveDate, start: i32, end: i32) -> bool {
    (start..=end).contains(&day.year())
}

/// Whether a new open membership from `day` would overlap a membership `[from, until)`.
///
/// A new membership is open-ended, so it overlaps every membership that has not ended
/// by `day`, even one that begins later: exactly the overlap of the two date ranges,
/// which the exclusion constraint `ex_pool_candidates_period` holds on PostgreSQL.
pub fn overlaps_open(day: NaiveDate, _from: NaiveDate, until: Option<NaiveDate>) -> bool {
    until.is_none_or(|until| until > day)
}

/// A required post title: NFC, 1 to 200 characters.
pub fn post_title(value: &str) -> Result<String, String> {
    let title = normalize_name(value);
    if title.is_empty() {
        Err("is required".to_owned())
    } else if title.chars().count() > MAX_POST_TITLE {
        Err(format!("is longer than {MAX_POST_TITLE} characters"))
    } else {
        Ok(title)
    }
}

/// A term year.
pub fn year(value: i32) -> Result<i32, String> {
    if YEARS.contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not a year from {} to {}", YEARS.start(), YEARS.end()))
    }
}

/// A number of candidates.
pub fn count(value: i32) -> Result<i32, String> {
    if value < 0 { Err(format!("{value} must be 0 or more")) } else { Ok(value) }
}

/// A reason for adding or removing a candidate: NFC, at most 500 characters.
pub fn reason(value: &str) -> Result<String, String> {
    let text = normalize_name(value);
    if text.chars().count() > MAX_REASON { Err(format!("is longer than {MAX_REASON} characters")) } else { Ok(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn counts_are_compared_with_inclusive_bounds() {
        assert_eq!(bounds_of(1, 2, 4), Bounds::BelowMinimum);
        assert_eq!(bounds_of(2, 2, 4), Bounds::Within);
        assert_eq!(bounds_of(4, 2, 4), Bounds::Within);
        assert_eq!(bounds_of(5, 2, 4), Bounds::AboveMaximum);
        assert_eq!(bounds_of(0, 0, 0), Bounds::Within);
    }

    #[test]
    fn pools_need_a_term_that_ends_after_it_starts_and_ordered_bounds() {
        let spec = PoolSpec {
            post_title: "Chủ tịch".into(),
            leader_post: true,
            term_start_year: 2025,
            term_end_year: 2030,
            min_candidates: 2,
            max_candidates: 4,
        };
        assert!(check_pool(&spec, "p").is_empty());
        let bad = PoolSpec { term_end_year: 2025, max_candidates: 1, ..spec };
        let fields: Vec<String> = check_pool(&bad, "p").into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["p.term_end_year", "p.max_candidates"]);
    }

    #[test]
    fn memberships_are_within_the_term_and_never_overlap() {
        assert!(in_term(day(2025, 1, 1), 2025, 2030));
        assert!(in_term(day(2030, 12, 31), 2025, 2030));
        assert!(!in_term(day(2024, 12, 31), 2025, 2030));
        assert!(!in_term(day(2031, 1, 1), 2025, 2030));
        assert!(overlaps_open(day(2026, 1, 1), day(2025, 1, 1), None));
        assert!(overlaps_open(day(2026, 1, 1), day(2025, 1, 1), Some(day(2026, 2, 1))));
        assert!(!overlaps_open(day(2026, 2, 1), day(2025, 1, 1), Some(day(2026, 2, 1))));
        assert!(overlaps_open(day(2024, 1, 1), day(2025, 1, 1), Some(day(2026, 2, 1))), "a later membership");
    }

    #[test]
    fn post_titles_are_nfc_and_bounded() {
        assert_eq!(post_title("  Chủ tịch   UBND xã "), Ok("Chủ tịch UBND xã".to_owned()));
        assert!(post_title(" ").is_err());
        assert!(post_title(&"ư".repeat(201)).is_err());
        assert!(post_title(&"ư".repeat(200)).is_ok());
    }

    #[test]
    fn years_and_counts_are_bounded() {
        assert!(year(1949).is_err());
        assert!(year(2101).is_err());
        assert_eq!(year(2025), Ok(2025));
        assert!(count(-1).is_err());
        assert_eq!(count(0), Ok(0));
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let spec = PoolSpec {
            post_title: "Chủ tịch".into(),
            leader_post: true,
            term_start_year: 2025,
            term_end_year: 2030,
            min_candidates: 2,
            max_candidates: 4,
        };
        let changes = PoolChanges { max_candidates: Some(6), term_end_year: Some(2031), ..Default::default() };
        assert_eq!(changes.apply(&spec), PoolSpec { max_candidates: 6, term_end_year: 2031, ..spec.clone() });
        assert_eq!(PoolChanges::default().apply(&spec), spec);
    }
}
