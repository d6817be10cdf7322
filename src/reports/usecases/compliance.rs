//! GetStandardCompliance (the share meeting the standard of their post, and the
//! minimums missed most) and SummarizeEvaluations (ratings per year).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{Place, Read, Reports};
use crate::{
    context::RequestContext,
    domain::{locality::Tier, text::fold},
    edge::request::to_date,
    error::Result,
    facts::rules::parse_levels_key,
    grpc::pb,
    people::rules::person::Category,
    reports::{
        queries::workforce,
        rules::{
            CellValue, ComplianceTally, MEETING_LABEL, NOT_RATED_LABEL, PostGroup, RATINGS, WITH_STANDARD_LABEL,
            disclosure, ordered_cells,
        },
        wire::{GetStandardCompliance, SummarizeEvaluations, category_to_pb, cells_to_pb, tier_to_pb},
    },
    standards::compliance as standards,
    standards::rules::{Candidate, LevelRef, RankedLevel},
};

/// SummarizeEvaluations.
pub async fn evaluations(
    reports: &Reports,
    ctx: &RequestContext,
    request: SummarizeEvaluations,
) -> Result<pb::SummarizeEvaluationsResponse> {
    let read = reports.begin(ctx).await?;
    let answer = evaluations_in(&read, request).await;
    read.end(answer).await
}

/// SummarizeEvaluations, in `read`'s snapshot.
pub async fn evaluations_in(
    read: &Read<'_>,
    request: SummarizeEvaluations,
) -> Result<pb::SummarizeEvaluationsResponse> {
    let SummarizeEvaluations { population, first_year, last_year } = request;
    let population = read.scope(population).await?;
    let (headcount, counts) = read.evaluation_counts(&population, first_year, last_year).await?;
    let finish = |cells: Vec<CellValue>| cells_to_pb(&cells);
    let years = (first_year..=last_year)
        .map(|year| {
            let count = |rating: &str| counts.get(&(year, rating.to_owned())).copied().unwrap_or_default();
            let rank_of = |i: usize| i32::try_from(RATINGS.len() - i).unwrap_or_default();
            let ranks = RATINGS
                .iter()
                .enumerate()
                .map(|(i, (key, label))| (rank_of(i), (*key).to_owned(), (*label).to_owned(), count(key)))
                .collect();
            let mut cells = ordered_cells(ranks, headcount, NOT_RATED_LABEL);
            if let Some(last) = cells.last_mut() {
                last.key = "not_rated".to_owned();
            }
            let good_or_better = finish(vec![CellValue::new(
                "good_or_better",
                "Hoàn thành tốt nhiệm vụ trở lên",
                count("excellent") + count("good"),
                headcount,
            )]);
            pb::EvaluationYear { year, cells: finish(cells), good_or_better: good_or_better.into_iter().next() }
        })
        .collect();
    let mut response = pb::SummarizeEvaluationsResponse { as_of: Some(to_date(population.as_of)), headcount, years };
    if let Some(threshold) = read.threshold() {
        disclosure::evaluations(&mut response, threshold);
    }
    Ok(response)
}

/// Compliance tallies of one group: overall and per (tier, category).
#[derive(Default)]
struct GroupCompliance {
    all: ComplianceTally,
    by_post: BTreeMap<(Tier, Category), ComplianceTally>,
}

impl GroupCompliance {
    fn add(
        &mut self,
        group: &PostGroup,
        candidates: &[Candidate],
        minimums: &BTreeMap<i64, Vec<RankedLevel>>,
        day: NaiveDate,
    ) {
        self.all.add(group, candidates, minimums, day);
        if let (Some(tier), Some(category)) = (group.tier, group.category) {
            self.by_post.entry((tier, category)).or_default().add(group, candidates, minimums, day);
        }
    }
}

/// GetStandardCompliance.
pub async fn compliance(
    reports: &Reports,
    ctx: &RequestContext,
    request: GetStandardCompliance,
) -> Result<pb::GetStandardComplianceResponse> {
    let read = reports.begin(ctx).await?;
    let answer = compliance_in(&read, request).await;
    read.end(answer).await
}

/// GetStandardCompliance, in `read`'s snapshot.
pub async fn compliance_in(
    read: &Read<'_>,
    request: GetStandardCompliance,
) -> Result<pb::GetStandardComplianceResponse> {
    let population = read.scope(request.population).await?;
    let day = population.as_of;
    let places = read.places(&population).await?;
    let candidates = standards::in_force(read.conn(), day).await?;
    let mut minimums = BTreeMap::new();
    for candidate in &candidates {
        minimums.insert(candidate.id, standards::ranked_minimums(read.conn(), candidate.id).await?);
    }
    let mut titles: Vec<String> =
        candidates.iter().filter_map(|c| c.applies_to.post_title.as_deref().map(fold)).collect();
    titles.sort();
    titles.dedup();
    let rows = read.post_rows(&population, &titles).await?;
    let levels = read.scale_levels().await?;

    let rank_of = workforce::ranks(&levels);
    let mut total = GroupCompliance::default();
    let mut groups: BTreeMap<String, GroupCompliance> = BTreeMap::new();
    for row in &rows {
        let held = parse_levels_key(&row.levels)
            .filter_map(|(scale, level)| {
                rank_of
                    .get(&(scale, level))
                    .map(|rank| (scale.to_owned(), RankedLevel { level: LevelRef::new(scale, level), rank: *rank }))
            })
            .collect();
        let group = PostGroup {
            tier: Tier::from_code_len(usize::try_from(row.tier_len).unwrap_or_default()),
            category: Category::from_db(&row.category),
            leader: row.is_leader,
            title: row.title.clone(),
            held,
            people: row.n,
        };
        total.add(&group, &candidates, &minimums, day);
        groups.entry(row.grp.clone()).or_default().add(&group, &candidates, &minimums, day);
    }

    let label_of = |level: &LevelRef| {
        levels
            .get(&level.scale)
            .and_then(|ls| ls.iter().find(|(_, code, _)| *code == level.level))
            .map(|(_, _, label)| label.clone())
            .unwrap_or_default()
    };
    let finish = |cell: CellValue| cells_to_pb(&[cell]).into_iter().next();
    let standard_cells = |t: &ComplianceTally| {
        (
            finish(CellValue::new("with_standard", WITH_STANDARD_LABEL, t.with_standard, t.headcount)),
            finish(CellValue::new("meeting", MEETING_LABEL, t.meeting, t.with_standard)),
        )
    };
    let summary = |place: &Place, g: &GroupCompliance| {
        let (with_standard, meeting) = standard_cells(&g.all);
        pb::ComplianceSummary {
            locality: place.name.clone(),
            display_name: place.display_name.clone(),
            headcount: g.all.headcount,
            with_standard,
            meeting,
            breakdown: g
                .by_post
                .iter()
                .map(|((tier, category), t)| {
                    let (with_standard, meeting) = standard_cells(t);
                    pb::ComplianceBreakdown {
                        tier: tier_to_pb(*tier).into(),
                        category: category_to_pb(*category).into(),
                        headcount: t.headcount,
                        with_standard,
                        meeting,
                    }
                })
                .collect(),
            missed_minimums: g
                .all
                .most_missed()
                .into_iter()
                .filter_map(|(level, n)| finish(CellValue::new(level.name(), label_of(level), n, g.all.with_standard)))
                .collect(),
        }
    };
    let empty = GroupCompliance::default();
    let of = |place: &Place| summary(place, groups.get(&place.group).unwrap_or(&empty));
    let mut response = pb::GetStandardComplianceResponse {
        as_of: Some(to_date(day)),
        total: Some(summary(&places.total, &total)),
        children: places.children.iter().map(of).collect(),
        own_units: places.own_units.as_ref().map(of),
    };
    if let Some(threshold) = read.threshold() {
        disclosure::compliance(&mut response, threshold);
    }
    Ok(response)
}
