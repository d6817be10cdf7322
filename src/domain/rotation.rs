//! Movements of cadres (luân chuyển, điều động, tăng cường, biệt phái): kinds,
//! statuses, the direction derived from the tiers, and the rules that need no database.

use chrono::NaiveDate;

use super::locality::Tier;
use crate::error::Violation;

/// The kind of a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Luân chuyển: for a set term, then back.
    Rotation,
    /// Điều động: the person stays at the destination.
    Transfer,
    /// Tăng cường: reinforcement for a set term.
    Reinforcement,
    /// Biệt phái: secondment for a set term.
    Secondment,
}

impl Kind {
    /// Every kind.
    pub const ALL: &'static [Self] = &[Self::Rotation, Self::Transfer, Self::Reinforcement, Self::Secondment];

    /// Stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rotation => "rotation",
            Self::Transfer => "transfer",
            Self::Reinforcement => "reinforcement",
            Self::Secondment => "secondment",
        }
    }

    /// The kind stored under `name`.
    pub fn from_db(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }

    /// Whether the person returns to the source at the end (every kind but a transfer),
    /// so that a planned end is required.
    pub fn returns(self) -> bool {
        self != Self::Transfer
    }
}

/// Where a movement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Decided, not started: placements unchanged.
    Planned,
    /// Under way: the person is placed at the destination.
    Active,
    /// Ended.
    Completed,
    /// Cancelled (placements restored if it had started).
    Cancelled,
}

impl Status {
    /// Every status.
    pub const ALL: &'static [Self] = &[Self::Planned, Self::Active, Self::Completed, Self::Cancelled];

    /// Stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status stored under `name`.
    pub fn from_db(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == name)
    }

    /// Whether a person's movement in this status blocks another one (planned or active).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Planned | Self::Active)
    }

    /// Whether a movement may go from this status to `next`: planned to active, active
    /// to completed, planned or active to cancelled.
    pub fn can_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Planned, Self::Active)
                | (Self::Active, Self::Completed)
                | (Self::Planned, Self::Cancelled)
                | (Self::Active, Self::Cancelled)
        )
    }
}

/// The direction of a movement, derived from the tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// To a lower tier (province to district or commune, district to commune).
    Downward,
    /// To a higher tier.
    Upward,
    /// Within one tier.
    Lateral,
}

/// The direction of a movement from a unit of tier `from` to a unit of tier `to`.
pub fn direction(from: Tier, to: Tier) -> Direction {
    // Tiers are ordered from the top: province < district < commune.
    match to.cmp(&from) {
        std::cmp::Ordering::Greater => Direction::Downward,
        std::cmp::Ordering::Less => Direction::Upward,
        std::cmp::Ordering::Equal => Direction::Lateral,
    }
}

/// The fields of a movement that are entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationFields {
    /// The person.
    pub person_id: i64,
    /// The kind.
    pub kind: Kind,
    /// The unit left.
    pub source_unit_id: i64,
    /// The post held there.
    pub source_post: String,
    /// The unit joined.
    pub destination_unit_id: i64,
    /// The post held there.
    pub destination_post: String,
    /// Whether the destination post is a leader post.
    pub destination_leader: bool,
    /// First day at the destination.
    pub start_date: NaiveDate,
    /// Planned first day back (none for a transfer).
    pub planned_end_date: Option<NaiveDate>,
    /// Decision number.
    pub decision_number: String,
    /// Decision date.
    pub decided_on: NaiveDate,
    /// Issuing body.
    pub issuing_body: String,
    /// Programme (may be empty).
    pub programme: String,
}

fn text(violations: &mut Vec<Violation>, field: String, value: &str, required: bool, max: usize) {
    if required && value.is_empty() {
        violations.push(Violation::new(field, "is required"));
    } else if value.chars().count() > max {
        violations.push(Violation::new(field, format!("is longer than {max} characters")));
    }
}

/// Checks a movement's own fields: texts, ordered dates, a planned end exactly when the
/// kind returns, and distinct units. Paths are under `path` (`rotation`).
pub fn check_rotation(r: &RotationFields, path: &str) -> Vec<Violation> {
    let at = |field: &str| format!("{path}.{field}");
    let mut violations = Vec::new();
    text(&mut violations, at("source_post"), &r.source_post, true, 200);
    text(&mut violations, at("destination_post"), &r.destination_post, true, 200);
    text(&mut violations, at("decision.number"), &r.decision_number, true, 100);
    text(&mut violations, at("decision.issuing_body"), &r.issuing_body, true, 300);
    text(&mut violations, at("programme"), &r.programme, false, 300);
    violations.extend(check_planned_end(r.kind, r.start_date, r.planned_end_date, path));
    if r.source_unit_id == r.destination_unit_id {
        violations.push(Violation::new(at("destination_unit"), "must differ from the source unit"));
    }
    violations
}

/// Checks the planned end: required after the start for a movement with a return,
/// absent for a transfer.
pub fn check_planned_end(kind: Kind, start: NaiveDate, planned_end: Option<NaiveDate>, path: &str) -> Vec<Violation> {
    let field = format!("{path}.planned_end_date");
    match planned_end {
        None if kind.returns() => vec![Violation::new(field, format!("is required for a {}", kind.as_str()))],
        Some(_) if !kind.returns() => vec![Violation::new(field, "must be absent for a transfer")],
        Some(end) if end <= start => vec![Violation::new(field, "must be after start_date")],
        _ => Vec::new(),
    }
}

/// The period of the placement after the return: from `actual_end`, open-ended unless
/// the placement the movement closed had a later end of its own.
pub fn return_until(actual_end: NaiveDate, source_until: Option<NaiveDate>) -> Option<NaiveDate> {
    source_until.filter(|until| *until > actual_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn fields() -> RotationFields {
        RotationFields {
            person_id: 1,
            kind: Kind::Rotation,
            source_unit_id: 1,
            source_post: "Phó Trưởng phòng Nội vụ".into(),
            destination_unit_id: 2,
            destination_post: "Bí thư Đảng ủy xã".into(),
            destination_leader: true,
            start_date: day(2024, 1, 1),
            planned_end_date: Some(day(2026, 1, 1)),
            decision_number: "215-QĐ/TU".into(),
            decided_on: day(2023, 12, 1),
            issuing_body: "Ban Thường vụ Tỉnh ủy Lạng Sơn".into(),
            programme: String::new(),
        }
    }

    fn paths(v: &[Violation]) -> Vec<&str> {
        v.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn direction_follows_the_tiers() {
        assert_eq!(direction(Tier::District, Tier::Commune), Direction::Downward);
        assert_eq!(direction(Tier::Province, Tier::District), Direction::Downward);
        assert_eq!(direction(Tier::Province, Tier::Commune), Direction::Downward);
        assert_eq!(direction(Tier::Commune, Tier::District), Direction::Upward);
        assert_eq!(direction(Tier::Commune, Tier::Province), Direction::Upward);
        assert_eq!(direction(Tier::Commune, Tier::Commune), Direction::Lateral);
        assert_eq!(direction(Tier::Province, Tier::Province), Direction::Lateral);
    }

    #[test]
    fn a_planned_end_is_required_except_for_a_transfer() {
        assert!(check_rotation(&fields(), "r").is_empty());
        let mut open = fields();
        open.planned_end_date = None;
        assert_eq!(paths(&check_rotation(&open, "r")), ["r.planned_end_date"]);
        for kind in [Kind::Reinforcement, Kind::Secondment] {
            open.kind = kind;
            assert_eq!(paths(&check_rotation(&open, "r")), ["r.planned_end_date"]);
        }
        open.kind = Kind::Transfer;
        assert!(check_rotation(&open, "r").is_empty());
        let mut transfer = fields();
        transfer.kind = Kind::Transfer;
        assert_eq!(paths(&check_rotation(&transfer, "r")), ["r.planned_end_date"]);
        let mut backwards = fields();
        backwards.planned_end_date = Some(backwards.start_date);
        assert_eq!(paths(&check_rotation(&backwards, "r")), ["r.planned_end_date"]);
    }

    #[test]
    fn texts_are_required_and_bounded_and_units_differ() {
        let mut r = fields();
        r.source_post.clear();
        r.decision_number = "x".repeat(101);
        r.issuing_body.clear();
        r.programme = "x".repeat(301);
        r.destination_unit_id = r.source_unit_id;
        assert_eq!(
            paths(&check_rotation(&r, "r")),
            ["r.source_post", "r.decision.number", "r.decision.issuing_body", "r.programme", "r.destination_unit"]
        );
    }

    #[test]
    fn statuses_move_forward_or_to_cancelled() {
        use Status::*;
        assert!(Planned.can_become(Active));
        assert!(Active.can_become(Completed));
        assert!(Planned.can_become(Cancelled));
        assert!(Active.can_become(Cancelled));
        assert!(!Planned.can_become(Completed));
        assert!(!Completed.can_become(Cancelled));
        assert!(!Cancelled.can_become(Active));
        assert!(!Active.can_become(Planned));
        assert!(Planned.is_open() && Active.is_open() && !Completed.is_open() && !Cancelled.is_open());
        for s in Status::ALL {
            assert_eq!(Status::from_db(s.as_str()), Some(*s));
        }
        for k in Kind::ALL {
            assert_eq!(Kind::from_db(k.as_str()), Some(*k));
        }
    }

    #[test]
    fn the_return_runs_open_ended_or_to_the_later_old_end() {
        assert_eq!(return_until(day(2026, 1, 1), None), None);
        assert_eq!(return_until(day(2026, 1, 1), Some(day(2025, 1, 1))), None);
        assert_eq!(return_until(day(2026, 1, 1), Some(day(2028, 1, 1))), Some(day(2028, 1, 1)));
    }
}
