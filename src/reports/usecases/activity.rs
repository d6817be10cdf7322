//! The activity reports: SummarizeTraining, SummarizeRotations and GetStaffingSummary,
//! turned into cells with the rules of [`crate::reports::rules::activity`].

use std::collections::{BTreeMap, HashMap};

use chrono::Datelike;

use super::{Place, Places, Read, Reports};
use crate::{
    context::RequestContext,
    edge::request::to_date,
    error::Result,
    grpc::pb,
    people::rules::person::Category,
    reports::{
        rules::activity::{
            ALL_PROGRAMMES_LABEL, MovementCounts, ProgrammeKey, Staffing, TrainingCounts, kind_label, movement_cells,
            programme_keys, training_cells,
        },
        rules::disclosure,
        wire::{GetStaffingSummary, OverPeriod, category_to_pb, cell_to_pb, cells_to_pb},
    },
    scales::{queries as scale, rules::scale_name},
    training::rules::ProgrammeKind,
};

/// SummarizeTraining.
pub async fn training(
    reports: &Reports,
    ctx: &RequestContext,
    request: OverPeriod,
) -> Result<pb::SummarizeTrainingResponse> {
    let read = reports.begin(ctx).await?;
    let answer = training_in(&read, request).await;
    read.end(answer).await
}

/// SummarizeRotations.
pub async fn rotations(
    reports: &Reports,
    ctx: &RequestContext,
    request: OverPeriod,
) -> Result<pb::SummarizeRotationsResponse> {
    let read = reports.begin(ctx).await?;
    let answer = rotations_in(&read, request).await;
    read.end(answer).await
}

/// GetStaffingSummary.
pub async fn staffing(
    reports: &Reports,
    ctx: &RequestContext,
    request: GetStaffingSummary,
) -> Result<pb::GetStaffingSummaryResponse> {
    let read = reports.begin(ctx).await?;
    let answer = staffing_in(&read, request).await;
    read.end(answer).await
}

/// SummarizeTraining, in `read`'s snapshot: the enrolments of the scope's population
/// over a period.
pub async fn training_in(read: &Read<'_>, request: OverPeriod) -> Result<pb::SummarizeTrainingResponse> {
    let OverPeriod { population, start, end } = request;
    let population = read.scope(population).await?;
    let Places { total: root, children, own_units } = read.places(&population).await?;
    let headcounts = read.headcounts(&population).await?;
    let rows = read.training_counts(&population, start, end).await?;
    let scales = scale::list(read.conn()).await?;

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
                let cells = training_cells(&figures, headcount);
                let (kind, scale, level) = match key {
                    ProgrammeKey::All => (pb::ProgrammeKind::Unspecified, String::new(), String::new()),
                    ProgrammeKey::Kind(kind) => {
                        (crate::edge::enums::Table::to_wire(*kind), String::new(), String::new())
                    }
                    ProgrammeKey::Scale(s) => (pb::ProgrammeKind::Degree, scale_name(s), String::new()),
                    ProgrammeKey::Level(s, l) => {
                        let scale = scale_name(s);
                        (pb::ProgrammeKind::Degree, scale.clone(), format!("{scale}/levels/{l}"))
                    }
                };
                let key_name = match key {
                    ProgrammeKey::All => "all".to_owned(),
                    ProgrammeKey::Kind(kind) => crate::edge::enums::Table::stored(*kind).to_owned(),
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
    let mut response = pb::SummarizeTrainingResponse {
        as_of: Some(to_date(population.as_of)),
        period_start: Some(to_date(start)),
        period_end: Some(to_date(end)),
        total: Some(total_summary),
        children: children.iter().map(of).collect(),
        own_units: own_units.as_ref().map(of),
    };
    if let Some(threshold) = read.threshold() {
        disclosure::training(&mut response, threshold);
    }
    Ok(response)
}

/// SummarizeRotations, in `read`'s snapshot: the movements touching the scope over a
/// period.
pub async fn rotations_in(read: &Read<'_>, request: OverPeriod) -> Result<pb::SummarizeRotationsResponse> {
    let OverPeriod { population, start, end } = request;
    let population = read.scope(population).await?;
    let Places { total: root, children, own_units } = read.places(&population).await?;
    let rows = read.movement_counts(&population, start, end).await?;

    let mut total = MovementCounts::default();
    let mut groups: BTreeMap<&str, MovementCounts> = BTreeMap::new();
    for (group, count) in &rows {
        match group {
            None => total.add(count),
            Some(group) => groups.entry(group.as_str()).or_default().add(count),
        }
    }
    let summary = |group: &Place, counts: &MovementCounts| {
        let cells = movement_cells(counts);
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
    let mut response = pb::SummarizeRotationsResponse {
        as_of: Some(to_date(population.as_of)),
        period_start: Some(to_date(start)),
        period_end: Some(to_date(end)),
        total: Some(summary(&root, &total)),
        children: children.iter().map(of).collect(),
        own_units: own_units.as_ref().map(of),
    };
    if let Some(threshold) = read.threshold() {
        disclosure::rotations(&mut response, threshold);
    }
    Ok(response)
}

/// GetStaffingSummary, in `read`'s snapshot: headcount against quota for the scope.
pub async fn staffing_in(read: &Read<'_>, request: GetStaffingSummary) -> Result<pb::GetStaffingSummaryResponse> {
    let population = read.scope(request.population).await?;
    let Places { total: root, children, own_units } = read.places(&population).await?;
    let counts = read.staffing_counts(&population).await?;

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
        as_of: Some(to_date(population.as_of)),
        year: population.as_of.year(),
        total: Some(total),
        children: children.iter().map(of).collect(),
        own_units: own_units.as_ref().map(of),
    })
}
