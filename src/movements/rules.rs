//! What a movement of cadres is (luân chuyển, điều động, tăng cường, biệt phái) and the
//! rules it obeys, free of I/O: kinds, statuses, the direction derived from the tiers,
//! the checks of its own fields, and how it moves a person's placements.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{
    domain::{
        date::period_contains,
        locality::{Code, Tier},
    },
    edge::{
        enums::Table,
        names::{PersonName, RotationName, UnitName},
    },
    enum_table,
    error::{Error, Result, Violation},
    grpc::pb,
    people::rules::person::{Rating, first_overlap},
};

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

enum_table!(Kind, pb::RotationKind, "ROTATION_KIND_", {
    Rotation => Rotation = "rotation",
    Transfer => Transfer = "transfer",
    Reinforcement => Reinforcement = "reinforcement",
    Secondment => Secondment = "secondment",
});

impl Kind {
    /// Every kind (the table's order).
    pub const ALL: &'static [Self] = <Self as Table>::ALL;

    /// Stable name stored in the database (the table's; kept for the reports).
    pub fn as_str(self) -> &'static str {
        self.stored()
    }

    /// The kind stored under `name` (the table's; kept for the reports).
    pub fn from_db(name: &str) -> Option<Self> {
        Self::from_stored(name)
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

enum_table!(Status, pb::RotationStatus, "ROTATION_STATUS_", {
    Planned => Planned = "planned",
    Active => Active = "active",
    Completed => Completed = "completed",
    Cancelled => Cancelled = "cancelled",
});

impl Status {
    /// Every status (the table's order).
    pub const ALL: &'static [Self] = <Self as Table>::ALL;

    /// Stable name stored in the database (the table's; kept for the reports).
    pub fn as_str(self) -> &'static str {
        self.stored()
    }

    /// The status stored under `name` (the table's; kept for the reports).
    pub fn from_db(name: &str) -> Option<Self> {
        Self::from_stored(name)
    }

    /// Whether a person's movement in this status blocks another one (planned or active).
    /// The partial unique index `ux_rotations_open_person` holds the same condition
    /// (`status IN ('planned', 'active')`); change both together.
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

enum_table!(Direction, pb::RotationDirection, "ROTATION_DIRECTION_", {
    Downward => Downward = "downward",
    Upward => Upward = "upward",
    Lateral => Lateral = "lateral",
});

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

impl RotationFields {
    /// The person's resource name.
    pub fn person(&self) -> PersonName {
        PersonName(self.person_id)
    }
}

/// A movement as recorded, with the localities of its two units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Its name, `rotations/{id}`.
    pub name: RotationName,
    /// Entered fields.
    pub fields: RotationFields,
    /// Actual first day back.
    pub actual_end_date: Option<NaiveDate>,
    /// Status.
    pub status: Status,
    /// Rating over the period.
    pub outcome_rating: Option<Rating>,
    /// Promoted at or after the end.
    pub promoted: bool,
    /// Post after the return.
    pub post_after_return: Option<String>,
    /// The placement closed at the start.
    pub source_placement_id: Option<i64>,
    /// Its end before the start closed it.
    pub source_placement_until: Option<NaiveDate>,
    /// The placement opened at the destination.
    pub destination_placement_id: Option<i64>,
    /// The placement opened at the return.
    pub return_placement_id: Option<i64>,
    /// The source unit's locality.
    pub source_locality: Code,
    /// The destination unit's locality.
    pub destination_locality: Code,
    /// Revision (etag).
    pub revision: i64,
    /// Created.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

impl Rotation {
    /// Its direction, from the tiers of its units' localities.
    pub fn direction(&self) -> Direction {
        direction(self.source_locality.tier(), self.destination_locality.tier())
    }

    /// FAILED_PRECONDITION: the movement is in a status from which `action` is not
    /// allowed.
    pub fn wrong_stage(&self, action: &str) -> Error {
        Error::precondition(
            self.name.to_string(),
            format!(
                "is {}; only a {} movement can be {action}",
                self.status.stored(),
                match action {
                    "started" | "updated" | "deleted" => "planned",
                    "completed" => "active",
                    _ => "planned or active",
                }
            ),
        )
    }
}

/// A condition of the ListRotations filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `kind = X`.
    Kind(Kind),
    /// `status = X`.
    Status(Status),
    /// `direction = X`.
    Direction(Direction),
}

/// Longest post titles, in characters.
pub const MAX_POST: usize = 200;

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
    text(&mut violations, at("source_post"), &r.source_post, true, MAX_POST);
    text(&mut violations, at("destination_post"), &r.destination_post, true, MAX_POST);
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
        None if kind.returns() => vec![Violation::new(field, format!("is required for a {}", kind.stored()))],
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

/// The end of the placement after the return: [`return_until`], cut at the end of the
/// source unit or of the person's employment when either comes first (`limits`).
pub fn return_end(
    actual_end: NaiveDate,
    source_until: Option<NaiveDate>,
    limits: impl IntoIterator<Item = Option<NaiveDate>>,
) -> Option<NaiveDate> {
    let mut until = return_until(actual_end, source_until);
    for limit in limits.into_iter().flatten() {
        until = Some(until.map_or(limit, |u| u.min(limit)));
    }
    until
}

/// A person's placement as a movement sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// The placement's id.
    pub id: i64,
    /// Its unit.
    pub unit_id: i64,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day no longer in force.
    pub valid_until: Option<NaiveDate>,
}

/// The placement a movement starting on `start` closes at the source: the one in force
/// on the start date, or (if none is) the one in force the day before; it must be at
/// the source unit and have begun before the start.
pub fn source_placement(placements: &[Placed], r: &RotationFields) -> Result<Placed> {
    let on = |day: NaiveDate| placements.iter().find(|p| period_contains(p.valid_from, p.valid_until, day));
    let person = r.person().to_string();
    let source = UnitName(r.source_unit_id);
    let placed = on(r.start_date).or_else(|| r.start_date.pred_opt().and_then(on));
    match placed {
        Some(p) if p.unit_id == r.source_unit_id && p.valid_from < r.start_date => Ok(*p),
        Some(p) if p.unit_id == r.source_unit_id => Err(Error::precondition(
            person,
            format!("the placement at {source} begins on the start date {}; nothing to leave", r.start_date),
        )),
        _ => Err(Error::precondition(person, format!("is not placed at {source} on the start date {}", r.start_date))),
    }
}

/// FAILED_PRECONDITION if any two of a person's placements overlap.
pub fn no_overlap(person: PersonName, placements: &[Placed]) -> Result<()> {
    for (i, p) in placements.iter().enumerate() {
        let earlier = placements[..i].iter().map(|o| (o.valid_from, o.valid_until));
        if let Some(j) = first_overlap((p.valid_from, p.valid_until), earlier) {
            let other = placements.get(j).map(|o| o.id).unwrap_or_default();
            return Err(Error::precondition(
                person.to_string(),
                format!("the movement would make placements {other} and {} overlap; placements never overlap", p.id),
            ));
        }
    }
    Ok(())
}

/// FAILED_PRECONDITION: the person already has the `open` movements.
pub fn open_rotation_error(person: PersonName, open: &[RotationName]) -> Error {
    let names: Vec<String> = open.iter().map(ToString::to_string).collect();
    Error::precondition(
        person.to_string(),
        format!("already has a planned or active movement ({}); one at a time", names.join(", ")),
    )
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

    #[test]
    fn the_return_ends_where_the_unit_or_the_employment_ends_first() {
        let end = day(2026, 1, 1);
        assert_eq!(return_end(end, Some(day(2028, 1, 1)), [Some(day(2027, 1, 1)), None]), Some(day(2027, 1, 1)));
        assert_eq!(return_end(end, None, [None, Some(day(2030, 1, 1))]), Some(day(2030, 1, 1)));
        assert_eq!(return_end(end, None, [None, None]), None);
    }

    #[test]
    fn the_source_placement_is_the_one_in_force_at_the_start_at_the_source_unit() {
        let r = fields();
        let at = |unit_id, from, until| Placed { id: 7, unit_id, valid_from: from, valid_until: until };
        assert!(source_placement(&[at(1, day(2020, 1, 1), None)], &r).is_ok());
        // Ended the day before the start: still the one the movement closes.
        assert!(source_placement(&[at(1, day(2020, 1, 1), Some(day(2024, 1, 1)))], &r).is_ok());
        assert!(source_placement(&[at(3, day(2020, 1, 1), None)], &r).is_err());
        assert!(source_placement(&[at(1, day(2024, 1, 1), None)], &r).is_err(), "begins on the start date");
        assert!(source_placement(&[], &r).is_err());
    }

    #[test]
    fn placements_that_overlap_are_refused() {
        let p = |id, from, until| Placed { id, unit_id: 1, valid_from: from, valid_until: until };
        let apart = [p(1, day(2020, 1, 1), Some(day(2024, 1, 1))), p(2, day(2024, 1, 1), None)];
        assert!(no_overlap(PersonName(1), &apart).is_ok());
        let overlapping = [p(1, day(2020, 1, 1), None), p(2, day(2024, 1, 1), None)];
        assert!(matches!(no_overlap(PersonName(1), &overlapping), Err(Error::FailedPrecondition(_))));
    }
}
