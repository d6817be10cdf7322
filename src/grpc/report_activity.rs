//! ReportService's activity reports: SummarizeTraining, SummarizeRotations and
//! GetStaffingSummary. Validate, authorize (as every report), call the store's
//! aggregates, and turn them into cells with the domain's rules.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use tonic::Request;

use super::{
    Violations, convert, pb,
    person::category_to_pb,
    report::{Place, Places, ReportApi, cell_to_pb},
    required,
    training_plan::programme_kind_to_pb,
};
use crate::{
    auth::RequestContext,
    domain::{
        person::Category,
        report::CellValue,
        report_activity::{
            ALL_PROGRAMMES_LABEL, MovementCounts, ProgrammeKey, Staffing, TrainingCounts, kind_label, movement_cells,
            period_violation, programme_keys, training_cells,
        },
        training::ProgrammeKind,
    },
    error::Result,
    store::{report as reports, report_activity as activity, scale},
};

/// Checks the required period `[period_start, period_end]`.
fn period(v: &mut Violations, start: Option<&pb::Date>, end: Option<&pb::Date>) -> Option<(NaiveDate, NaiveDate)> {
    let start = v.check("period_start", convert::date(start));
    let end = v.check("period_end", convert::date(end));
    let (start, end) = (start?, end?);
    match period_violation(start, end) {
        Some(violation) => {
            v.extend([violation]);
            None
        }
        None => Some((start, end)),
    }
}

/// Records that a scope filter which is set cannot apply to this report.
fn reject_filter(v: &mut Violations, set: bool, field: &str, why: &str) {
    if set {
        v.add(field, format!("cannot apply to this report: {why}"));
    }
}

fn cells_to_pb(cells: &[CellValue]) -> Vec<pb::Cell> {
    cells.iter().map(cell_to_pb).collect()
}

impl ReportApi {
    /// SummarizeTraining: the enrolments of the scope's population over a period.
    pub(super) async fn summarize_training_impl(
        &self,
        request: Request<pb::SummarizeTrainingRequest>,
    ) -> Result<pb::SummarizeTrainingResponse> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let period = period(&mut v, req.period_start.as_ref(), req.period_end.as_ref());
        let population = self.authorized_population(&ctx, v, req.scope.as_ref()).await?;
        let (start, end) = required(period, "period_start")?;
        let threshold = self.threshold(&ctx);
        let Places { total: root, children, own_units } = self.places(&population).await?;
        let snapshot = reports::snapshot(&self.db).await?;
        let headcounts = activity::headcounts(&snapshot, &population).await?;
        let rows = activity::training_counts(&snapshot, &population, start, end).await?;
        let scales = scale::list(&snapshot).await?;
        snapshot.rollback().await?;

        let mut groups: HashMap<&str, HashMap<ProgrammeKey, TrainingCounts>> = HashMap::new();
        let mut total: HashMap<ProgrammeKey, TrainingCounts> = HashMap::new();
        for row in &rows {
            for key in programme_keys(row.kind, row.level.as_ref()) {
                groups.entry(row.group.as_str()).or_default().entry(key.clone()).or_default().add(&row.counts);
                total.entry(key).or_default().add(&row.counts);
            }
        }
        // The lines every group lists: the kinds always, the scales and levels with
        // enrolments anywhere in the scope.
        let mut lines: Vec<(ProgrammeKey, String)> = vec![
            (ProgrammeKey::All, ALL_PROGRAMMES_LABEL.to_owned()),
            (ProgrammeKey::Kind(ProgrammeKind::Degree), kind_label(ProgrammeKind::Degree).to_owned()),
        ];
        for s in &scales {
            let key = ProgrammeKey::Scale(s.code.clone());
            if total.contains_key(&key) {
                lines.push((key, s.display_name.clone()));
                for level in &s.levels {
                    let key = ProgrammeKey::Level(s.code.clone(), level.code.clone());
                    if total.contains_key(&key) {
                        lines.push((key, level.display_name.clone()));
                    }
                }
            }
        }
        lines.push((ProgrammeKey::Kind(ProgrammeKind::Refresher), kind_label(ProgrammeKind::Refresher).to_owned()));

        let summary = |group: &Place, headcount: i64, counts: Option<&HashMap<ProgrammeKey, TrainingCounts>>| {
            let programmes = lines
                .iter()
                .map(|(key, label)| {
                    let figures = counts.and_then(|c| c.get(key)).copied().unwrap_or_default();
                    let cells = training_cells(&figures, headcount, threshold);
                    let (kind, scale, level) = match key {
                        ProgrammeKey::All => (pb::ProgrammeKind::Unspecified, String::new(), String::new()),
                        ProgrammeKey::Kind(kind) => (programme_kind_to_pb(*kind), String::new(), String::new()),
                        ProgrammeKey::Scale(s) => (pb::ProgrammeKind::Degree, scale::scale_name(s), String::new()),
                        ProgrammeKey::Level(s, l) => {
                            let scale = scale::scale_name(s);
                            (pb::ProgrammeKind::Degree, scale.clone(), format!("{scale}/levels/{l}"))
                        }
                    };
                    let key_name = match key {
                        ProgrammeKey::All => "all".to_owned(),
                        ProgrammeKey::Kind(kind) => kind.as_str().to_owned(),
                        ProgrammeKey::Scale(_) => scale.clone(),
                        ProgrammeKey::Level(..) => level.clone(),
                    };
                    pb::TrainingFigures {
                        key: key_name,
                        label: label.clone(),
                        kind: kind.into(),
                        scale,
                        level,
                        under_way: Some(cell_to_pb(&cells.under_way)),
                        started: Some(cell_to_pb(&cells.started)),
                        completed: Some(cell_to_pb(&cells.completed)),
                        discontinued: Some(cell_to_pb(&cells.discontinued)),
                        in_progress: Some(cell_to_pb(&cells.in_progress)),
                    }
                })
                .collect();
            pb::TrainingSummary {
                locality: group.name.clone(),
                display_name: group.display_name.clone(),
                headcount,
                programmes,
            }
        };
        let total_summary = summary(&root, headcounts.values().sum(), Some(&total));
        let of = |place: &Place| {
            let code = place.group.as_str();
            summary(place, headcounts.get(code).copied().unwrap_or_default(), groups.get(code))
        };
        Ok(pb::SummarizeTrainingResponse {
            as_of: Some(convert::to_date(population.as_of)),
            period_start: Some(convert::to_date(start)),
            period_end: Some(convert::to_date(end)),
            total: Some(total_summary),
            children: children.iter().map(of).collect(),
            own_units: own_units.as_ref().map(of),
        })
    }

    /// SummarizeRotations: the movements touching the scope over a period.
    pub(super) async fn summarize_rotations_impl(
        &self,
        request: Request<pb::SummarizeRotationsRequest>,
    ) -> Result<pb::SummarizeRotationsResponse> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let period = period(&mut v, req.period_start.as_ref(), req.period_end.as_ref());
        if let Some(scope) = &req.scope {
            reject_filter(&mut v, scope.key_posts_only, "scope.key_posts_only", "a movement records no key post");
        }
        let population = self.authorized_population(&ctx, v, req.scope.as_ref()).await?;
        let (start, end) = required(period, "period_start")?;
        let threshold = self.threshold(&ctx);
        let Places { total: root, children, own_units } = self.places(&population).await?;
        let snapshot = reports::snapshot(&self.db).await?;
        let rows = activity::movement_counts(&snapshot, &population, start, end).await?;
        snapshot.rollback().await?;

        let mut total = MovementCounts::default();
        let mut groups: BTreeMap<&str, MovementCounts> = BTreeMap::new();
        for (group, count) in &rows {
            match group {
                None => total.add(count),
                Some(group) => groups.entry(group.as_str()).or_default().add(count),
            }
        }
        let summary = |group: &Place, counts: &MovementCounts| {
            let cells = movement_cells(counts, threshold);
            pb::RotationSummary {
                locality: group.name.clone(),
                display_name: group.display_name.clone(),
                rotation_count: counts.total,
                by_kind: cells_to_pb(&cells.kinds),
                by_direction: cells_to_pb(&cells.directions),
                by_status: cells_to_pb(&cells.statuses),
                promoted: Some(cell_to_pb(&cells.promoted)),
            }
        };
        let empty = MovementCounts::default();
        let of = |place: &Place| summary(place, groups.get(place.group.as_str()).unwrap_or(&empty));
        Ok(pb::SummarizeRotationsResponse {
            as_of: Some(convert::to_date(population.as_of)),
            period_start: Some(convert::to_date(start)),
            period_end: Some(convert::to_date(end)),
            total: Some(summary(&root, &total)),
            children: children.iter().map(of).collect(),
            own_units: own_units.as_ref().map(of),
        })
    }

    /// GetStaffingSummary: headcount against quota for the scope.
    pub(super) async fn get_staffing_summary_impl(
        &self,
        request: Request<pb::GetStaffingSummaryRequest>,
    ) -> Result<pb::GetStaffingSummaryResponse> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        if let Some(scope) = &req.scope {
            reject_filter(&mut v, !scope.sectors.is_empty(), "scope.sectors", "a locality's quota has no sector");
            reject_filter(&mut v, scope.leaders_only, "scope.leaders_only", "quotas are not per post");
            reject_filter(&mut v, scope.key_posts_only, "scope.key_posts_only", "quotas are not per post");
        }
        let population = self.authorized_population(&ctx, v, req.scope.as_ref()).await?;
        let Places { total: root, children, own_units } = self.places(&population).await?;
        let snapshot = reports::snapshot(&self.db).await?;
        let counts = activity::staffing_counts(&snapshot, &population).await?;
        snapshot.rollback().await?;

        let mut per_category: BTreeMap<&str, Staffing> = BTreeMap::new();
        for ((_, category), staffing) in &counts {
            per_category.entry(category.as_str()).or_default().add(staffing);
        }
        // Every group lists the categories with people or a quota anywhere in the scope.
        let categories: Vec<Category> =
            Category::ALL.iter().copied().filter(|c| per_category.contains_key(c.as_str())).collect();
        let figures = |category: Option<Category>, s: Staffing| pb::StaffingFigures {
            category: category.map_or(pb::PersonCategory::Unspecified, category_to_pb).into(),
            quota: s.quota,
            headcount: s.headcount,
            vacancies: s.vacancies(),
            percent_filled: s.percent_filled(),
        };
        let summary = |group: &Place, of: &dyn Fn(Category) -> Staffing| {
            let mut total = Staffing::default();
            let rows = categories
                .iter()
                .map(|c| {
                    let s = of(*c);
                    total.add(&s);
                    figures(Some(*c), s)
                })
                .collect();
            pb::StaffingSummary {
                locality: group.name.clone(),
                display_name: group.display_name.clone(),
                total: Some(figures(None, total)),
                categories: rows,
            }
        };
        let total = summary(&root, &|c| per_category.get(c.as_str()).copied().unwrap_or_default());
        let of = |place: &Place| {
            summary(place, &|c| counts.get(&(place.group.as_str().to_owned(), c)).copied().unwrap_or_default())
        };
        Ok(pb::GetStaffingSummaryResponse {
            as_of: Some(convert::to_date(population.as_of)),
            year: population.as_of.year(),
            total: Some(total),
            children: children.iter().map(of).collect(),
            own_units: own_units.as_ref().map(of),
        })
    }
}
