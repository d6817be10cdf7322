//! The sums each report response states, and the suppression of its cells for callers
//! without the personal-data role: every report's cells go through one
//! [`Table`](super::suppression::Table) built here, so that no hidden cell can be
//! recomputed from the rest of the same response.
//!
//! The sums a response states (see report.proto): each distribution's cells add up
//! to the group's headcount, and an ordered scale's cumulative counts add its cells
//! from the top; a share (`meeting`, a training figure, `promoted`) is taken of
//! another cell, which it would disclose as its denominator; a training line's
//! `under_way` is `completed` + `discontinued` + `in_progress`, `all` is `degree` +
//! `refresher` and a scale is the sum of its levels; compliance per tier and category
//! adds up to the group's when their headcounts do; and with a breakdown, the
//! children and the own units add up to the total, cell by cell (movements excepted:
//! one between two children counts in both).

use std::collections::BTreeMap;

use super::suppression::{CellId, Table, Total, ValueId};
use crate::grpc::pb;

/// The cells of one response and its table.
#[derive(Default)]
struct Sheet<'a> {
    table: Table,
    cells: Vec<(&'a mut pb::Cell, CellId, Option<ValueId>)>,
}

/// A group's values by a key that names the same figure in every group.
type Figures = BTreeMap<String, ValueId>;

impl<'a> Sheet<'a> {
    /// Adds a cell (with its cumulative count when `cumulative`); returns its count's
    /// and cumulative's values.
    fn add(&mut self, cell: &'a mut pb::Cell, cumulative: bool) -> (ValueId, Option<ValueId>) {
        let (id, count, cum) = self.table.cell(cell.count, cumulative.then_some(cell.cumulative_count));
        self.cells.push((cell, id, None));
        (count, cum)
    }

    /// Adds a cell taken of `denominator`.
    fn add_of(&mut self, cell: &'a mut pb::Cell, denominator: ValueId) -> ValueId {
        let (id, count, _) = self.table.cell(cell.count, None);
        self.table.taken_of(id, denominator);
        self.cells.push((cell, id, Some(denominator)));
        count
    }

    /// Adds the cells of a distribution over a group of `headcount` people under
    /// `prefix` in `figures`: they add up to the headcount and, for an ordered scale,
    /// each cumulative count is the previous one plus the cell (the last one's is the
    /// headcount itself).
    fn distribution(
        &mut self,
        figures: &mut Figures,
        prefix: &str,
        cells: &'a mut [pb::Cell],
        headcount: i64,
        ordered: bool,
    ) {
        let last = cells.len().saturating_sub(1);
        let mut counts = Vec::new();
        let mut previous: Option<ValueId> = None;
        for (i, cell) in cells.iter_mut().enumerate() {
            let key = format!("{prefix}|{}", cell.key);
            let (count, cum) = self.add(cell, ordered && i < last);
            figures.insert(key.clone(), count);
            counts.push(count);
            if ordered {
                let parts: Vec<ValueId> = previous.into_iter().chain([count]).collect();
                match cum {
                    Some(cum) => {
                        figures.insert(format!("{key}|cumulative"), cum);
                        self.table.sum(Total::Value(cum), parts);
                        previous = Some(cum);
                    }
                    None => self.table.sum(Total::Public(headcount), parts),
                }
            }
        }
        self.table.sum(Total::Public(headcount), counts);
    }

    /// States that the groups `parts` add up to `total`, figure by figure (a figure a
    /// group does not list is 0 there).
    fn across(&mut self, total: &Figures, parts: &[Figures]) {
        for (key, value) in total {
            self.table.sum(Total::Value(*value), parts.iter().filter_map(|p| p.get(key).copied()).collect());
        }
    }

    /// Suppresses below `threshold` and hides the hidden cells on the wire: count,
    /// percentages and cumulative count, and the denominator when it is hidden too.
    fn finish(mut self, threshold: i64) {
        self.table.suppress(threshold);
        for (cell, id, denominator) in self.cells {
            if self.table.is_hidden(id) {
                cell.suppressed = true;
                cell.count = 0;
                cell.percent = 0.0;
                cell.cumulative_count = 0;
                cell.cumulative_percent = 0.0;
                if denominator.is_some_and(|d| self.table.value_hidden(d)) {
                    cell.denominator = 0;
                }
            }
        }
    }
}

/// Suppresses a workforce profile response (GetWorkforceProfile, and each date of
/// CompareWorkforceProfiles).
pub fn workforce_profile(response: &mut pb::GetWorkforceProfileResponse, threshold: i64) {
    let mut sheet = Sheet::default();
    let pb::GetWorkforceProfileResponse { total, children, own_units, .. } = response;
    let broken = !children.is_empty() || own_units.is_some();
    let total = total.as_mut().map(|g| profile_group(&mut sheet, g));
    let parts: Vec<Figures> =
        children.iter_mut().chain(own_units.as_mut()).map(|g| profile_group(&mut sheet, g)).collect();
    if let (true, Some(total)) = (broken, total) {
        sheet.across(&total, &parts);
    }
    sheet.finish(threshold);
}

fn profile_group<'a>(sheet: &mut Sheet<'a>, group: &'a mut pb::WorkforceProfile) -> Figures {
    let mut figures = Figures::new();
    if let Some(leaders) = group.leaders.as_mut() {
        figures.insert("leaders".to_owned(), sheet.add(leaders, false).0);
    }
    for d in &mut group.distributions {
        let ordered = d.dimension.starts_with("scales/");
        sheet.distribution(&mut figures, &d.dimension, &mut d.cells, group.headcount, ordered);
    }
    figures
}

/// Suppresses a SummarizeEvaluations response: each year's ratings are an ordered
/// distribution of the headcount, and `good_or_better` is the cumulative count of
/// `good`.
pub fn evaluations(response: &mut pb::SummarizeEvaluationsResponse, threshold: i64) {
    let mut sheet = Sheet::default();
    let headcount = response.headcount;
    for year in &mut response.years {
        let mut figures = Figures::new();
        sheet.distribution(&mut figures, "year", &mut year.cells, headcount, true);
        if let Some(good_or_better) = year.good_or_better.as_mut() {
            let (value, _) = sheet.add(good_or_better, false);
            if let Some(good) = figures.get("year|good|cumulative") {
                sheet.table.sum(Total::Value(value), vec![*good]);
            }
        }
    }
    sheet.finish(threshold);
}

/// Suppresses a GetStandardCompliance response; the minimums missed list their
/// hidden cells last, by level name, so that their order tells nothing of a hidden
/// count.
pub fn compliance(response: &mut pb::GetStandardComplianceResponse, threshold: i64) {
    let mut sheet = Sheet::default();
    let pb::GetStandardComplianceResponse { total, children, own_units, .. } = response;
    let broken = !children.is_empty() || own_units.is_some();
    let total_figures = total.as_mut().map(|g| compliance_group(&mut sheet, g));
    let parts: Vec<Figures> =
        children.iter_mut().chain(own_units.as_mut()).map(|g| compliance_group(&mut sheet, g)).collect();
    if let (true, Some(total)) = (broken, total_figures) {
        sheet.across(&total, &parts);
    }
    sheet.finish(threshold);
    for group in response.total.iter_mut().chain(response.children.iter_mut()).chain(response.own_units.iter_mut()) {
        group.missed_minimums.sort_by(|a, b| match (a.suppressed, b.suppressed) {
            (true, true) => a.key.cmp(&b.key),
            (x, y) => x.cmp(&y),
        });
    }
}

fn compliance_group<'a>(sheet: &mut Sheet<'a>, group: &'a mut pb::ComplianceSummary) -> Figures {
    let mut figures = Figures::new();
    let pb::ComplianceSummary { headcount, with_standard, meeting, breakdown, missed_minimums, .. } = group;
    let mut pair =
        |figures: &mut Figures, prefix: &str, with: Option<&'a mut pb::Cell>, meet: Option<&'a mut pb::Cell>| {
            let with = with.map(|c| sheet.add(c, false).0);
            let meet = match (with, meet) {
                (Some(with), Some(meet)) => Some(sheet.add_of(meet, with)),
                (None, Some(meet)) => Some(sheet.add(meet, false).0),
                _ => None,
            };
            for (name, value) in [("with_standard", with), ("meeting", meet)] {
                if let Some(value) = value {
                    figures.insert(format!("{prefix}{name}"), value);
                }
            }
            (with, meet)
        };
    let (with, meet) = pair(&mut figures, "", with_standard.as_mut(), meeting.as_mut());
    let covered: i64 = breakdown.iter().map(|b| b.headcount).sum();
    let mut withs = Vec::new();
    let mut meets = Vec::new();
    for b in breakdown.iter_mut() {
        let prefix = format!("{}|{}|", b.tier, b.category);
        let (w, m) = pair(&mut figures, &prefix, b.with_standard.as_mut(), b.meeting.as_mut());
        withs.extend(w);
        meets.extend(m);
    }
    // Every person of the group has a tier and a category: the breakdown adds up.
    if covered == *headcount {
        if let Some(with) = with {
            sheet.table.sum(Total::Value(with), withs);
        }
        if let Some(meet) = meet {
            sheet.table.sum(Total::Value(meet), meets);
        }
    }
    for cell in missed_minimums.iter_mut() {
        let key = format!("missed|{}", cell.key);
        let value = match with {
            Some(with) => sheet.add_of(cell, with),
            None => sheet.add(cell, false).0,
        };
        figures.insert(key, value);
    }
    figures
}

/// Suppresses a SummarizeTraining response.
pub fn training(response: &mut pb::SummarizeTrainingResponse, threshold: i64) {
    let mut sheet = Sheet::default();
    let pb::SummarizeTrainingResponse { total, children, own_units, .. } = response;
    let broken = !children.is_empty() || own_units.is_some();
    let total = total.as_mut().map(|g| training_group(&mut sheet, g));
    let parts: Vec<Figures> =
        children.iter_mut().chain(own_units.as_mut()).map(|g| training_group(&mut sheet, g)).collect();
    if let (true, Some(total)) = (broken, total) {
        sheet.across(&total, &parts);
    }
    sheet.finish(threshold);
}

/// The values of a training line's figures, in the order of [`TRAINING_FIGURES`].
type Line = [Option<ValueId>; 5];

/// The figures of a training line, in the order of `TrainingFigures`.
const TRAINING_FIGURES: [&str; 5] = ["under_way", "started", "completed", "discontinued", "in_progress"];

fn training_group<'a>(sheet: &mut Sheet<'a>, group: &'a mut pb::TrainingSummary) -> Figures {
    let mut figures = Figures::new();
    // (line key, scale of a level line) → the line's five values.
    let mut lines: Vec<(String, Option<String>, [Option<ValueId>; 5])> = Vec::new();
    for line in &mut group.programmes {
        let pb::TrainingFigures { key, scale, level, under_way, started, completed, discontinued, in_progress, .. } =
            line;
        let mut values = [None; 5];
        let under = under_way.as_mut().map(|c| sheet.add(c, false).0);
        values[0] = under;
        for (slot, cell) in values.iter_mut().skip(1).zip([started, completed, discontinued, in_progress]) {
            *slot = cell.as_mut().map(|c| match under {
                Some(under) => sheet.add_of(c, under),
                None => sheet.add(c, false).0,
            });
        }
        if let (Some(under), [_, _, Some(c), Some(d), Some(p)]) = (under, values) {
            sheet.table.sum(Total::Value(under), vec![c, d, p]);
        }
        for (name, value) in TRAINING_FIGURES.iter().zip(values) {
            if let Some(value) = value {
                figures.insert(format!("{key}|{name}"), value);
            }
        }
        lines.push((key.clone(), (!level.is_empty()).then(|| scale.clone()), values));
    }
    let line = |key: &str| lines.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| *v);
    let mut sums: Vec<(Line, Vec<Line>)> = Vec::new();
    if let (Some(all), Some(degree), Some(refresher)) = (line("all"), line("degree"), line("refresher")) {
        sums.push((all, vec![degree, refresher]));
    }
    for (key, of_scale, values) in &lines {
        if of_scale.is_none() && key.starts_with("scales/") {
            let levels = lines.iter().filter(|(_, s, _)| s.as_deref() == Some(key)).map(|(_, _, v)| *v).collect();
            sums.push((*values, levels));
        }
    }
    for (total, parts) in sums {
        for figure in 0..TRAINING_FIGURES.len() {
            if let Some(Some(total)) = total.get(figure) {
                let parts = parts.iter().filter_map(|p| p.get(figure).copied().flatten()).collect();
                sheet.table.sum(Total::Value(*total), parts);
            }
        }
    }
    figures
}

/// Suppresses a SummarizeRotations response: each dimension adds up to the movement
/// count of its group, and `promoted` is taken of the completed movements. Groups do
/// not add up (a movement between two children counts in both).
pub fn rotations(response: &mut pb::SummarizeRotationsResponse, threshold: i64) {
    let mut sheet = Sheet::default();
    let pb::SummarizeRotationsResponse { total, children, own_units, .. } = response;
    for group in total.iter_mut().chain(children.iter_mut()).chain(own_units.iter_mut()) {
        let mut figures = Figures::new();
        let pb::RotationSummary { rotation_count, by_kind, by_direction, by_status, promoted, .. } = group;
        sheet.distribution(&mut figures, "kind", by_kind, *rotation_count, false);
        sheet.distribution(&mut figures, "direction", by_direction, *rotation_count, false);
        sheet.distribution(&mut figures, "status", by_status, *rotation_count, false);
        if let Some(promoted) = promoted.as_mut() {
            match figures.get("status|completed") {
                Some(completed) => {
                    sheet.add_of(promoted, *completed);
                }
                None => {
                    sheet.add(promoted, false);
                }
            }
        }
    }
    sheet.finish(threshold);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(key: &str, count: i64, denominator: i64) -> pb::Cell {
        let percent = if denominator == 0 { 0.0 } else { count as f64 * 100.0 / denominator as f64 };
        pb::Cell { key: key.into(), count, denominator, percent, ..Default::default() }
    }

    #[test]
    fn minimums_missed_list_hidden_cells_last_by_level_name() {
        let group = pb::ComplianceSummary {
            headcount: 100,
            with_standard: Some(cell("with_standard", 80, 100)),
            meeting: Some(cell("meeting", 60, 80)),
            missed_minimums: vec![cell("z", 12, 80), cell("b", 4, 80), cell("a", 3, 80)],
            ..Default::default()
        };
        let mut response = pb::GetStandardComplianceResponse { total: Some(group), ..Default::default() };
        compliance(&mut response, 5);
        let missed = response.total.map(|t| t.missed_minimums).unwrap_or_default();
        let shown: Vec<(&str, i64, bool)> = missed.iter().map(|c| (c.key.as_str(), c.count, c.suppressed)).collect();
        assert_eq!(shown, [("z", 12, false), ("a", 0, true), ("b", 0, true)]);
        assert!(missed.iter().all(|c| c.denominator == 80), "their denominator is shown");
    }

    #[test]
    fn a_hidden_under_way_count_hides_the_line_and_its_denominators() {
        let line = |under_way: i64, completed: i64, in_progress: i64| pb::TrainingFigures {
            key: "refresher".into(),
            under_way: Some(cell("under_way", under_way, 50)),
            started: Some(cell("started", under_way, under_way)),
            completed: Some(cell("completed", completed, under_way)),
            discontinued: Some(cell("discontinued", 0, under_way)),
            in_progress: Some(cell("in_progress", in_progress, under_way)),
            ..Default::default()
        };
        let group = pb::TrainingSummary { headcount: 50, programmes: vec![line(4, 4, 0)], ..Default::default() };
        let mut response = pb::SummarizeTrainingResponse { total: Some(group), ..Default::default() };
        training(&mut response, 5);
        let figures = response.total.map(|t| t.programmes).unwrap_or_default();
        let line = figures.first().cloned().unwrap_or_default();
        let under_way = line.under_way.unwrap_or_default();
        assert!(under_way.suppressed && under_way.denominator == 50, "the headcount is public");
        for c in [line.started, line.completed, line.discontinued, line.in_progress].into_iter().flatten() {
            assert!(c.suppressed && c.count == 0 && c.denominator == 0, "{c:?}");
        }
    }
}
