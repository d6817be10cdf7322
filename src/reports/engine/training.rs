//! The training records of SummarizeTraining held in memory: every enrolment with its
//! target line and its status history, ordered by person, with an index from person id
//! to that person's enrolments, so that a report joins its population (a pass over the
//! fact columns) to the enrolments with one look-up per person.
//!
//! The copy is of one version of `training_version` (bumped by every transaction that
//! changes an enrolment, its history or a target line: see the migration creating it),
//! and a report reads it only when its snapshot shows that same version; otherwise the
//! SQL answers and the background task loads the new version. Training records change
//! in batches (a plan's enrolments, a course's completions) far more rarely than reports
//! are read, so a reload per changed version costs less than keeping a change log.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::columns::day_number;
use crate::{
    edge::enums::Table as _,
    error::{Error, Result},
    reports::{queries::activity::TrainingRow, rules::activity::TrainingCounts},
    training::rules::{EnrollmentStatus, ProgrammeKind},
};

/// A day number that means "never" for the first enrolled day.
const NEVER: i32 = i32::MIN;

/// Person ids beyond which the index by id would be too large: the SQL answers instead.
const MAX_INDEXED_ID: i64 = 1 << 26;

/// An enrolment as stored, with its line (one row of the load).
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct EnrolmentRow {
    /// The enrolment.
    pub id: i64,
    /// The person enrolled.
    pub person_id: i64,
    /// The line's programme kind, as stored.
    pub kind: String,
    /// The line's scale, for a degree line.
    pub scale_code: Option<String>,
    /// The line's level, for a degree line.
    pub level_code: Option<String>,
}

/// One change of an enrolment's status, as stored.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct HistoryRow {
    /// The enrolment.
    pub enrollment_id: i64,
    /// Its order among the enrolment's changes.
    pub seq: i32,
    /// The status taken.
    pub status: String,
    /// The day it was taken.
    pub date: NaiveDate,
}

/// A target line's programme: its kind and, for a degree line, its level.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Line {
    kind: ProgrammeKind,
    level: Option<(String, String)>,
}

/// The training records of one version, in memory.
#[derive(Debug, Default)]
pub struct Training {
    /// The version of `training_version` they are of.
    pub version: i64,
    /// Whether the records are held (false: a person id too large to index them by, and
    /// the SQL answers).
    pub indexed: bool,
    lines: Vec<Line>,
    /// `first[p]..first[p + 1]`: the enrolments of person `p`.
    first: Vec<u32>,
    /// Per enrolment: its line.
    line: Vec<u32>,
    /// Per enrolment: the first day it was enrolled, or [`NEVER`].
    started: Vec<i32>,
    /// `history[e]..history[e + 1]`: the changes of enrolment `e`, in their order.
    history: Vec<u32>,
    /// Per change: its day.
    day: Vec<i32>,
    /// Per change: its status.
    status: Vec<EnrollmentStatus>,
}

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

fn index(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::internal("too many training records for the report engine"))
}

impl Training {
    /// The records of `version` from its enrolments (in any order) and their changes
    /// (sorted by enrolment and order); not indexed when a person id is too large.
    pub fn new(version: i64, mut enrolments: Vec<EnrolmentRow>, changes: &[HistoryRow]) -> Result<Self> {
        enrolments.sort_by_key(|e| (e.person_id, e.id));
        let max_id = enrolments.iter().map(|e| e.person_id).max().unwrap_or(0);
        if max_id > MAX_INDEXED_ID || enrolments.iter().any(|e| e.person_id < 0) {
            return Ok(Self { version, ..Self::default() });
        }
        let mut training = Self { version, indexed: true, ..Self::default() };
        let mut lines: HashMap<Line, u32> = HashMap::new();
        let people = usize::try_from(max_id).unwrap_or(0) + 1;
        training.first = Vec::with_capacity(people + 1);
        training.history.push(0);
        let mut person = 0_i64;
        training.first.push(0);
        for (e, row) in enrolments.iter().enumerate() {
            while person < row.person_id {
                training.first.push(index(e)?);
                person += 1;
            }
            let kind = ProgrammeKind::from_stored(&row.kind).ok_or_else(|| corrupt("programme kind", &row.kind))?;
            let key = Line { kind, level: row.scale_code.clone().zip(row.level_code.clone()) };
            let next = index(training.lines.len())?;
            let line = *lines.entry(key.clone()).or_insert_with(|| {
                training.lines.push(key);
                next
            });
            training.line.push(line);
            let from = changes.partition_point(|c| c.enrollment_id < row.id);
            let until = changes.partition_point(|c| c.enrollment_id <= row.id);
            let mut started = NEVER;
            for change in changes.get(from..until).unwrap_or_default() {
                let status = EnrollmentStatus::from_stored(&change.status)
                    .ok_or_else(|| corrupt("enrolment status", &change.status))?;
                let day = day_number(change.date);
                if status == EnrollmentStatus::Enrolled && (started == NEVER || day < started) {
                    started = day;
                }
                training.day.push(day);
                training.status.push(status);
            }
            training.started.push(started);
            training.history.push(index(training.day.len())?);
        }
        while training.first.len() <= people {
            training.first.push(index(enrolments.len())?);
        }
        training.shrink_to_fit();
        Ok(training)
    }

    fn shrink_to_fit(&mut self) {
        self.first.shrink_to_fit();
        self.line.shrink_to_fit();
        self.started.shrink_to_fit();
        self.history.shrink_to_fit();
        self.day.shrink_to_fit();
        self.status.shrink_to_fit();
    }

    /// Enrolments held.
    pub fn enrolments(&self) -> usize {
        self.line.len()
    }

    /// The enrolments of `person`.
    fn of(&self, person: i64) -> std::ops::Range<usize> {
        let Ok(p) = usize::try_from(person) else { return 0..0 };
        match (self.first.get(p), self.first.get(p + 1)) {
            (Some(&from), Some(&until)) => from as usize..until as usize,
            _ => 0..0,
        }
    }

    /// Adds into `tally[(group, line)]` the figures of `person`'s enrolments over the
    /// period `[start, end]` (day numbers), as the SQL of
    /// [`crate::reports::queries::activity::training_counts`] counts them: an enrolment's
    /// status at the end of the period is that of its latest change dated on or before
    /// it, and it counts when it is completed or discontinued inside the period or still
    /// enrolled at its end.
    pub fn add(&self, tally: &mut Tally, group: usize, person: i64, start: i32, end: i32) {
        for e in self.of(person) {
            let (Some(&from), Some(&until)) = (self.history.get(e), self.history.get(e + 1)) else { continue };
            let mut last = None;
            for c in from as usize..until as usize {
                if let (Some(&day), Some(&status)) = (self.day.get(c), self.status.get(c))
                    && day <= end
                {
                    last = Some((day, status));
                }
            }
            let Some((day, status)) = last else { continue };
            let started = self.started.get(e).copied().unwrap_or(NEVER);
            let completed = status == EnrollmentStatus::Completed && day >= start;
            let discontinued = matches!(status, EnrollmentStatus::Dropped | EnrollmentStatus::Failed)
                && day >= start
                && started != NEVER;
            let in_progress = status == EnrollmentStatus::Enrolled;
            if !(completed || discontinued || in_progress) {
                continue;
            }
            let Some(&line) = self.line.get(e) else { continue };
            let counts = tally.entry((group, line)).or_default();
            counts.under_way += 1;
            counts.started += i64::from(started != NEVER && started >= start && started <= end);
            counts.completed += i64::from(completed);
            counts.discontinued += i64::from(discontinued);
            counts.in_progress += i64::from(in_progress);
        }
    }

    /// The rows of the SQL from a tally (`groups[g]` names group `g`): one per group and
    /// line with an enrolment counted.
    pub fn rows(&self, groups: &[String], tally: Tally) -> Vec<TrainingRow> {
        tally
            .into_iter()
            .filter_map(|((group, line), counts)| {
                let (group, line) = (groups.get(group)?, self.lines.get(line as usize)?);
                Some(TrainingRow { group: group.clone(), kind: line.kind, level: line.level.clone(), counts })
            })
            .collect()
    }
}

/// Training figures per (group, line) counted so far: only those with an enrolment, so
/// that a report by child over thousands of plans' lines allocates nothing per line.
pub type Tally = HashMap<(usize, u32), TrainingCounts>;

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn enrolment(id: i64, person_id: i64, level: Option<&str>) -> EnrolmentRow {
        EnrolmentRow {
            id,
            person_id,
            kind: if level.is_some() { "degree" } else { "refresher" }.to_owned(),
            scale_code: level.map(|_| "political_theory".to_owned()),
            level_code: level.map(str::to_owned),
        }
    }

    fn change(enrollment_id: i64, seq: i32, status: &str, date: NaiveDate) -> HistoryRow {
        HistoryRow { enrollment_id, seq, status: status.to_owned(), date }
    }

    /// The figures of `person`'s enrolments, per line.
    fn tally(training: &Training, person: i64, start: NaiveDate, end: NaiveDate) -> Vec<TrainingCounts> {
        let mut tally = Tally::new();
        training.add(&mut tally, 0, person, day_number(start), day_number(end));
        assert!(tally.keys().all(|(group, _)| *group == 0));
        let mut lines = vec![TrainingCounts::default(); training.lines.len()];
        for ((_, line), counts) in tally {
            lines[line as usize] = counts;
        }
        lines
    }

    #[test]
    fn an_enrolment_counts_by_its_status_at_the_end_of_the_period() {
        let training = Training::new(
            7,
            vec![enrolment(10, 3, Some("advanced")), enrolment(11, 3, None), enrolment(12, 5, Some("advanced"))],
            &[
                change(10, 1, "planned", day(2023, 1, 1)),
                change(10, 2, "enrolled", day(2023, 3, 1)),
                change(10, 3, "completed", day(2024, 6, 30)),
                change(11, 1, "enrolled", day(2024, 2, 1)),
                change(11, 2, "dropped", day(2024, 5, 1)),
                change(12, 1, "planned", day(2024, 1, 1)),
            ],
        )
        .expect("loaded");
        assert_eq!(training.version, 7);
        assert_eq!(training.enrolments(), 3);
        // 2024: person 3 completed one line and dropped the other, both started before
        // the end; the degree started in 2023.
        let counts = tally(&training, 3, day(2024, 1, 1), day(2024, 12, 31));
        let degree = counts.iter().find(|c| c.completed == 1).expect("the degree line");
        assert_eq!((degree.under_way, degree.started, degree.in_progress), (1, 0, 0));
        let refresher = counts.iter().find(|c| c.discontinued == 1).expect("the refresher line");
        assert_eq!((refresher.under_way, refresher.started), (1, 1));
        // 2023: the degree is still enrolled at the end, started inside; the refresher
        // has no change on or before the end and does not count.
        let counts = tally(&training, 3, day(2023, 1, 1), day(2023, 12, 31));
        let total: i64 = counts.iter().map(|c| c.under_way).sum();
        assert_eq!(total, 1);
        assert!(counts.iter().any(|c| c.in_progress == 1 && c.started == 1));
        // A planned enrolment never counts; a person without enrolments adds nothing.
        assert!(tally(&training, 5, day(2024, 1, 1), day(2024, 12, 31)).iter().all(|c| c.under_way == 0));
        assert!(tally(&training, 4, day(2024, 1, 1), day(2024, 12, 31)).iter().all(|c| c.under_way == 0));
        assert!(tally(&training, 99, day(2024, 1, 1), day(2024, 12, 31)).iter().all(|c| c.under_way == 0));
    }

    #[test]
    fn a_drop_before_any_enrolment_is_not_discontinued_and_an_unknown_status_is_refused() {
        let training =
            Training::new(1, vec![enrolment(1, 1, None)], &[change(1, 1, "dropped", day(2024, 3, 1))]).expect("loaded");
        assert!(tally(&training, 1, day(2024, 1, 1), day(2024, 12, 31)).iter().all(|c| c.under_way == 0));
        let refused = Training::new(1, vec![enrolment(1, 1, None)], &[change(1, 1, "paused", day(2024, 3, 1))]);
        assert!(refused.is_err());
        let unindexed = Training::new(1, vec![enrolment(1, MAX_INDEXED_ID + 1, None)], &[]).expect("loaded");
        assert!(!unindexed.indexed && training.indexed);
    }
}
