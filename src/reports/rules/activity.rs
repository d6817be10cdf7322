//! The rules of the activity reports (training, movements, staffing): report periods,
//! which figures an enrolment counts towards, the cells of training and movement
//! figures (suppressed by [`super::disclosure`]), and vacancies against quota.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::CellValue;
use crate::{
    domain::locality::Tier,
    error::Violation,
    movements::rules::{Direction, Kind, Status, direction},
    training::rules::ProgrammeKind,
};

/// The violation of a period `[start, end]` (both days inclusive) whose end is before
/// its start, if it is.
pub fn period_violation(start: NaiveDate, end: NaiveDate) -> Option<Violation> {
    (end < start).then(|| Violation::new("period_end", format!("{end} is before period_start {start}")))
}

// ---- training ----------------------------------------------------------------------

/// What a line of training figures is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProgrammeKey {
    /// Every programme.
    All,
    /// Every programme of a kind.
    Kind(ProgrammeKind),
    /// Every degree programme towards a level of a scale.
    Scale(String),
    /// Degree programmes towards one level: (scale, level).
    Level(String, String),
}

/// The label of every programme.
pub const ALL_PROGRAMMES_LABEL: &str = "Tất cả chương trình";

/// The Vietnamese label of a kind.
pub fn kind_label(kind: ProgrammeKind) -> &'static str {
    match kind {
        ProgrammeKind::Degree => "Đào tạo",
        ProgrammeKind::Refresher => "Bồi dưỡng",
    }
}

/// The lines of figures an enrolment of a line of `kind` (towards `level`, a
/// (scale, level) pair, for degree training) counts towards: every programme, its
/// kind, and for degree training its scale and its level.
pub fn programme_keys(kind: ProgrammeKind, level: Option<&(String, String)>) -> Vec<ProgrammeKey> {
    let mut keys = vec![ProgrammeKey::All, ProgrammeKey::Kind(kind)];
    if let (ProgrammeKind::Degree, Some((scale, level))) = (kind, level) {
        keys.push(ProgrammeKey::Scale(scale.clone()));
        keys.push(ProgrammeKey::Level(scale.clone(), level.clone()));
    }
    keys
}

/// Enrolments of one programme over a period (see `TrainingFigures` in report.proto):
/// `under_way` = `completed` + `discontinued` + `in_progress` ⊇ `started`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrainingCounts {
    /// Under way at some time in the period.
    pub under_way: i64,
    /// First enrolled inside the period.
    pub started: i64,
    /// Completed inside the period, and still completed at its end.
    pub completed: i64,
    /// Dropped or failed inside the period after having started.
    pub discontinued: i64,
    /// Still enrolled at the end of the period.
    pub in_progress: i64,
}

impl TrainingCounts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Self) {
        self.under_way += other.under_way;
        self.started += other.started;
        self.completed += other.completed;
        self.discontinued += other.discontinued;
        self.in_progress += other.in_progress;
    }
}

/// The cells of one line of training figures.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingCells {
    /// Under way, of the headcount.
    pub under_way: CellValue,
    /// Started, of under way.
    pub started: CellValue,
    /// Completed, of under way.
    pub completed: CellValue,
    /// Discontinued, of under way.
    pub discontinued: CellValue,
    /// In progress at the end, of under way.
    pub in_progress: CellValue,
}

/// The cells of `counts` in a group of `headcount` people: under way of the
/// headcount, the others of under way.
pub fn training_cells(counts: &TrainingCounts, headcount: i64) -> TrainingCells {
    let of = |key: &str, label: &str, count: i64| CellValue::new(key, label, count, counts.under_way);
    TrainingCells {
        under_way: CellValue::new("under_way", "Đang đào tạo, bồi dưỡng trong kỳ", counts.under_way, headcount),
        started: of("started", "Bắt đầu trong kỳ", counts.started),
        completed: of("completed", "Hoàn thành trong kỳ", counts.completed),
        discontinued: of("discontinued", "Bỏ học, không đạt trong kỳ", counts.discontinued),
        in_progress: of("in_progress", "Đang học cuối kỳ", counts.in_progress),
    }
}

// ---- movements ---------------------------------------------------------------------

/// The stable key and Vietnamese label of a movement kind.
pub fn kind_cell(kind: Kind) -> (&'static str, &'static str) {
    let label = match kind {
        Kind::Rotation => "Luân chuyển",
        Kind::Transfer => "Điều động",
        Kind::Reinforcement => "Tăng cường",
        Kind::Secondment => "Biệt phái",
    };
    (kind.as_str(), label)
}

/// Every direction, in report order.
pub const DIRECTIONS: [Direction; 3] = [Direction::Downward, Direction::Upward, Direction::Lateral];

/// The stable key and Vietnamese label of a direction.
pub fn direction_cell(value: Direction) -> (&'static str, &'static str) {
    match value {
        Direction::Downward => ("downward", "Từ cấp trên xuống cấp dưới"),
        Direction::Upward => ("upward", "Từ cấp dưới lên cấp trên"),
        Direction::Lateral => ("lateral", "Cùng cấp"),
    }
}

/// The stable key and Vietnamese label of a movement status.
pub fn status_cell(status: Status) -> (&'static str, &'static str) {
    let label = match status {
        Status::Planned => "Đã quyết định, chưa thực hiện",
        Status::Active => "Đang thực hiện",
        Status::Completed => "Đã kết thúc",
        Status::Cancelled => "Đã hủy",
    };
    (status.as_str(), label)
}

/// The direction of a movement between localities whose codes have these lengths;
/// `None` for a length no tier has.
pub fn direction_of_code_lengths(source: usize, destination: usize) -> Option<Direction> {
    Some(direction(Tier::from_code_len(source)?, Tier::from_code_len(destination)?))
}

/// One kind of movement among a group's: how many, by their attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MovementCount {
    /// The kind.
    pub kind: Kind,
    /// The direction.
    pub direction: Direction,
    /// The status.
    pub status: Status,
    /// Whether a promotion was recorded at the end.
    pub promoted: bool,
    /// How many.
    pub count: i64,
}

/// The counts of a group's movements per dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MovementCounts {
    /// Every movement.
    pub total: i64,
    /// Per kind key.
    pub kinds: BTreeMap<&'static str, i64>,
    /// Per direction key.
    pub directions: BTreeMap<&'static str, i64>,
    /// Per status key.
    pub statuses: BTreeMap<&'static str, i64>,
    /// Completed movements recorded as followed by a promotion.
    pub promoted: i64,
}

impl MovementCounts {
    /// Adds `n` movements of the same attributes.
    pub fn add(&mut self, m: &MovementCount) {
        self.total += m.count;
        *self.kinds.entry(kind_cell(m.kind).0).or_default() += m.count;
        *self.directions.entry(direction_cell(m.direction).0).or_default() += m.count;
        *self.statuses.entry(status_cell(m.status).0).or_default() += m.count;
        if m.promoted && m.status == Status::Completed {
            self.promoted += m.count;
        }
    }
}

/// The cells of a group's movements.
#[derive(Debug, Clone, PartialEq)]
pub struct MovementCells {
    /// One per kind, of the total.
    pub kinds: Vec<CellValue>,
    /// One per direction, of the total.
    pub directions: Vec<CellValue>,
    /// One per status, of the total.
    pub statuses: Vec<CellValue>,
    /// Promoted, of the completed movements.
    pub promoted: CellValue,
}

/// The cells of `counts`: every dimension of the total, promoted of the completed.
pub fn movement_cells(counts: &MovementCounts) -> MovementCells {
    let cell = |map: &BTreeMap<&str, i64>, (key, label): (&str, &str)| {
        CellValue::new(key, label, map.get(key).copied().unwrap_or_default(), counts.total)
    };
    let kinds: Vec<CellValue> = Kind::ALL.iter().map(|k| cell(&counts.kinds, kind_cell(*k))).collect();
    let directions: Vec<CellValue> = DIRECTIONS.iter().map(|d| cell(&counts.directions, direction_cell(*d))).collect();
    let statuses: Vec<CellValue> = Status::ALL.iter().map(|s| cell(&counts.statuses, status_cell(*s))).collect();
    let completed = counts.statuses.get(Status::Completed.as_str()).copied().unwrap_or_default();
    let promoted = CellValue::new("promoted", "Được đề bạt, bổ nhiệm sau khi kết thúc", counts.promoted, completed);
    MovementCells { kinds, directions, statuses, promoted }
}

// ---- staffing ----------------------------------------------------------------------

/// Headcount against quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Staffing {
    /// The sum of the quotas that apply.
    pub quota: i64,
    /// People counted.
    pub headcount: i64,
}

impl Staffing {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Self) {
        self.quota += other.quota;
        self.headcount += other.headcount;
    }

    /// Posts still to fill; negative when over quota.
    pub fn vacancies(&self) -> i64 {
        self.quota - self.headcount
    }

    /// headcount / quota × 100, unrounded; 0 without a quota.
    pub fn percent_filled(&self) -> f64 {
        super::percent(self.headcount, self.quota)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn a_period_may_be_one_day_but_not_end_before_it_starts() {
        assert_eq!(period_violation(day(2024, 1, 1), day(2024, 1, 1)), None);
        assert_eq!(period_violation(day(2024, 1, 1), day(2024, 12, 31)), None);
        let violation = period_violation(day(2024, 1, 2), day(2024, 1, 1));
        assert_eq!(violation.map(|v| v.field), Some("period_end".to_owned()));
    }

    #[test]
    fn degree_enrolments_count_towards_their_scale_and_level() {
        let level = ("political_theory".to_owned(), "intermediate".to_owned());
        assert_eq!(
            programme_keys(ProgrammeKind::Degree, Some(&level)),
            [
                ProgrammeKey::All,
                ProgrammeKey::Kind(ProgrammeKind::Degree),
                ProgrammeKey::Scale("political_theory".into()),
                ProgrammeKey::Level("political_theory".into(), "intermediate".into()),
            ]
        );
        assert_eq!(
            programme_keys(ProgrammeKind::Refresher, None),
            [ProgrammeKey::All, ProgrammeKey::Kind(ProgrammeKind::Refresher)]
        );
    }

    #[test]
    fn training_cells_are_taken_of_the_enrolments_under_way() {
        let counts = TrainingCounts { under_way: 10, started: 6, completed: 4, discontinued: 1, in_progress: 5 };
        let cells = training_cells(&counts, 40);
        assert_eq!((cells.under_way.count, cells.under_way.denominator), (10, 40));
        assert_eq!((cells.started.count, cells.started.denominator), (6, 10));
        assert!((cells.completed.percent() - 40.0).abs() < 1e-9);
    }

    #[test]
    fn movements_add_up_per_dimension_and_promotion_counts_when_completed() {
        let mut counts = MovementCounts::default();
        let m = |kind, direction, status, promoted, count| MovementCount { kind, direction, status, promoted, count };
        counts.add(&m(Kind::Rotation, Direction::Downward, Status::Completed, true, 6));
        counts.add(&m(Kind::Rotation, Direction::Upward, Status::Completed, false, 2));
        counts.add(&m(Kind::Transfer, Direction::Lateral, Status::Active, false, 1));
        let cells = movement_cells(&counts);
        let keys = |cells: &[CellValue]| cells.iter().map(|c| (c.key.clone(), c.count)).collect::<Vec<_>>();
        assert_eq!(
            keys(&cells.kinds),
            [("rotation".into(), 8), ("transfer".into(), 1), ("reinforcement".into(), 0), ("secondment".into(), 0)]
        );
        assert_eq!(keys(&cells.directions), [("downward".into(), 6), ("upward".into(), 2), ("lateral".into(), 1)]);
        assert_eq!(cells.statuses.iter().map(|c| c.count).collect::<Vec<_>>(), [0, 1, 8, 0]);
        assert!(cells.kinds.iter().all(|c| c.denominator == 9));
        assert_eq!((cells.promoted.count, cells.promoted.denominator), (6, 8));
        assert!((cells.promoted.percent() - 75.0).abs() < 1e-9);
    }

    #[test]
    fn directions_follow_the_code_lengths_of_the_tiers() {
        assert_eq!(direction_of_code_lengths(3, 5), Some(Direction::Downward));
        assert_eq!(direction_of_code_lengths(5, 2), Some(Direction::Upward));
        assert_eq!(direction_of_code_lengths(5, 5), Some(Direction::Lateral));
        assert_eq!(direction_of_code_lengths(4, 5), None);
    }

    #[test]
    fn vacancies_may_be_negative_over_quota() {
        let under = Staffing { quota: 10, headcount: 7 };
        assert_eq!(under.vacancies(), 3);
        assert!((under.percent_filled() - 70.0).abs() < 1e-9);
        let over = Staffing { quota: 2, headcount: 3 };
        assert_eq!(over.vacancies(), -1);
        assert!((over.percent_filled() - 150.0).abs() < 1e-9);
        assert!(Staffing { quota: 0, headcount: 4 }.percent_filled().abs() < f64::EPSILON);
    }
}
