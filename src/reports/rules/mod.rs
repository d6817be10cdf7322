//! The rules of reports (pure, tested in place): cells with count, denominator and
//! percent, cumulative "this level or higher" over ordered scales, age bands, the
//! suppression of small cells for callers who may not see person-level data, and
//! standard compliance; [`activity`] holds those of the activity reports.

pub mod activity;
pub mod disclosure;
pub mod suppression;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::{
    domain::locality::Tier,
    people::rules::person::Category,
    standards::rules::{Candidate, LevelRef, PostFacts, RankedLevel, applicable, unmet},
};

/// One computed cell, before conversion to the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct CellValue {
    /// Stable key.
    pub key: String,
    /// Vietnamese label.
    pub label: String,
    /// People in the cell.
    pub count: i64,
    /// People the percentage is taken of.
    pub denominator: i64,
    /// People at this level or higher (ordered scales only).
    pub cumulative: Option<i64>,
    /// Whether the cell is hidden.
    pub suppressed: bool,
}

impl CellValue {
    /// A cell of `count` out of `denominator`.
    pub fn new(key: impl Into<String>, label: impl Into<String>, count: i64, denominator: i64) -> Self {
        Self { key: key.into(), label: label.into(), count, denominator, cumulative: None, suppressed: false }
    }

    /// count / denominator × 100, or 0 for an empty group.
    pub fn percent(&self) -> f64 {
        percent(self.count, self.denominator)
    }
}

/// part / whole × 100, or 0 when the whole is 0.
pub fn percent(part: i64, whole: i64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}

/// Cells of an ordered scale, highest rank first, each with the cumulative count of
/// people at that rank or higher. `ranks` holds (rank, key, label, count); people
/// with no level in the scale form the last cell, `none`, whose cumulative is the
/// whole group.
pub fn ordered_cells(mut ranks: Vec<(i32, String, String, i64)>, headcount: i64, none_label: &str) -> Vec<CellValue> {
    ranks.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut running = 0;
    let mut cells: Vec<CellValue> = Vec::with_capacity(ranks.len() + 1);
    cells.extend(ranks.into_iter().map(|(_, key, label, count)| {
        running += count;
        CellValue { cumulative: Some(running), ..CellValue::new(key, label, count, headcount) }
    }));
    let none = (headcount - running).max(0);
    cells.push(CellValue { cumulative: Some(headcount), ..CellValue::new("none", none_label, none, headcount) });
    cells
}

/// The age bands reports use, with their labels.
pub const AGE_BANDS: [(&str, &str); 5] = [
    ("under_30", "Dưới 30 tuổi"),
    ("30_39", "Từ 30 đến 39 tuổi"),
    ("40_49", "Từ 40 đến 49 tuổi"),
    ("50_59", "Từ 50 đến 59 tuổi"),
    ("60_over", "Từ 60 tuổi trở lên"),
];

/// The evaluation ratings, best first, with their labels.
pub const RATINGS: [(&str, &str); 4] = [
    ("excellent", "Hoàn thành xuất sắc nhiệm vụ"),
    ("good", "Hoàn thành tốt nhiệm vụ"),
    ("completed", "Hoàn thành nhiệm vụ"),
    ("not_completed", "Không hoàn thành nhiệm vụ"),
];

/// The label of the whole country, the report scope `localities/-`.
pub const WHOLE_COUNTRY_LABEL: &str = "Toàn quốc";

/// The label of the people to whom a standard applies.
pub const WITH_STANDARD_LABEL: &str = "Có tiêu chuẩn áp dụng";

/// The label of the people who meet the standard of their post.
pub const MEETING_LABEL: &str = "Đạt tiêu chuẩn";

/// The label of people with no rating in a year.
pub const NOT_RATED_LABEL: &str = "Chưa được đánh giá";

/// The most years one evaluation summary covers.
pub const MAX_EVALUATION_YEARS: i32 = 20;

/// The latest birth dates of people at least 30, 40, 50 and 60 years old on `day`:
/// a person born on or before `bounds[i]` is in band `i + 1` or above.
pub fn age_band_bounds(day: NaiveDate) -> [NaiveDate; 4] {
    [30, 40, 50, 60].map(|years| years_before(day, years))
}

fn years_before(day: NaiveDate, years: i32) -> NaiveDate {
    let year = day.year() - years;
    // 29 February falls back to 28 February in a common year.
    day.with_year(year).or_else(|| NaiveDate::from_ymd_opt(year, day.month(), 28)).unwrap_or(day)
}

/// People sharing everything that decides their standard and whether they meet it:
/// a row of the compliance query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostGroup {
    /// The tier of their unit's locality.
    pub tier: Option<Tier>,
    /// Their category.
    pub category: Option<Category>,
    /// Whether their post is a leader post.
    pub leader: bool,
    /// Their post title, folded, when some standard names it; else empty.
    pub title: String,
    /// Their highest level per scale.
    pub held: BTreeMap<String, RankedLevel>,
    /// How many they are.
    pub people: i64,
}

/// Compliance counts of one set of people.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplianceTally {
    /// People.
    pub headcount: i64,
    /// People to whom a standard applies.
    pub with_standard: i64,
    /// People who meet every minimum of their standard.
    pub meeting: i64,
    /// Required level → people who miss it.
    pub missed: BTreeMap<LevelRef, i64>,
}

impl ComplianceTally {
    /// Counts `group` under the standard that applies to it on `day`, if any, among
    /// `candidates` (the standards in force) with their ranked `minimums` by id.
    pub fn add(
        &mut self,
        group: &PostGroup,
        candidates: &[Candidate],
        minimums: &BTreeMap<i64, Vec<RankedLevel>>,
        day: NaiveDate,
    ) {
        self.headcount += group.people;
        let facts = PostFacts {
            tier: group.tier,
            category: group.category,
            leader: group.leader,
            post_title: group.title.clone(),
        };
        let Some(standard) = applicable(candidates, &facts, day) else { return };
        self.with_standard += group.people;
        let unmet = unmet(minimums.get(&standard.id).map(Vec::as_slice).unwrap_or_default(), &group.held);
        if unmet.is_empty() {
            self.meeting += group.people;
        }
        for u in unmet {
            *self.missed.entry(u.required).or_default() += group.people;
        }
    }

    /// The minimums missed, most missed first (then by level name).
    pub fn most_missed(&self) -> Vec<(&LevelRef, i64)> {
        let mut missed: Vec<(&LevelRef, i64)> = self.missed.iter().map(|(l, n)| (l, *n)).collect();
        missed.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.name().cmp(&b.0.name())));
        missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_example_adds_up() {
        let headcount = 244;
        let cells = ordered_cells(
            vec![
                (70, "doctorate".into(), "Tiến sĩ".into(), 1),
                (60, "master".into(), "Thạc sĩ".into(), 41),
                (50, "university".into(), "Đại học".into(), 198),
                (40, "college".into(), "Cao đẳng".into(), 3),
                (30, "intermediate".into(), "Trung cấp".into(), 1),
            ],
            headcount,
            "Chưa có",
        );
        let university = &cells[2];
        assert_eq!(university.cumulative, Some(240));
        assert!((percent(240, 244) - 98.3606).abs() < 1e-3);
        assert!((percent(244, 2886) - 8.4546).abs() < 1e-3);
        assert_eq!(cells.last().map(|c| c.count), Some(0));
    }

    #[test]
    fn age_bands_are_bounded_by_birthdays() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        let bounds = age_band_bounds(day);
        assert_eq!(bounds[0], NaiveDate::from_ymd_opt(1994, 2, 28).unwrap_or_default());
        assert_eq!(bounds[3], NaiveDate::from_ymd_opt(1964, 2, 29).unwrap_or_default());
    }
}
