//! GetWorkforceProfile and CompareWorkforceProfiles: distributions by qualification
//! scale, age band, gender and ethnicity, at one date or two side by side.

use std::collections::BTreeMap;

use super::{Place, Read, Reports};
use crate::{
    context::RequestContext,
    edge::request::to_date,
    error::Result,
    grpc::pb,
    reports::{
        queries::{
            Population,
            workforce::{GroupCounts, ScaleLevels},
        },
        rules::disclosure,
        rules::{AGE_BANDS, CellValue, ordered_cells},
        wire::{CompareWorkforceProfiles, GetWorkforceProfile, cell_into_pb, cells_into_pb},
    },
};

/// GetWorkforceProfile.
pub async fn get(
    reports: &Reports,
    ctx: &RequestContext,
    request: GetWorkforceProfile,
) -> Result<pb::GetWorkforceProfileResponse> {
    let read = reports.begin(ctx).await?;
    let answer = get_in(&read, request).await;
    read.end(answer).await
}

/// GetWorkforceProfile, in `read`'s snapshot.
pub async fn get_in(read: &Read<'_>, request: GetWorkforceProfile) -> Result<pb::GetWorkforceProfileResponse> {
    let population = read.scope(request.population).await?;
    profile(read, &population).await
}

/// CompareWorkforceProfiles.
pub async fn compare(
    reports: &Reports,
    ctx: &RequestContext,
    request: CompareWorkforceProfiles,
) -> Result<pb::CompareWorkforceProfilesResponse> {
    let read = reports.begin(ctx).await?;
    let answer = compare_in(&read, request).await;
    read.end(answer).await
}

/// CompareWorkforceProfiles, in `read`'s snapshot: both dates are read from it.
pub async fn compare_in(
    read: &Read<'_>,
    request: CompareWorkforceProfiles,
) -> Result<pb::CompareWorkforceProfilesResponse> {
    let population = read.scope(request.population).await?;
    let mut other_population = Population { as_of: request.other_date, root_tagged: false, ..population.clone() };
    read.resolve(&mut other_population).await?;
    let base = profile(read, &population).await?;
    let other = profile(read, &other_population).await?;
    let empty = pb::WorkforceProfile::default();
    let (b, o) = (base.total.as_ref().unwrap_or(&empty), other.total.as_ref().unwrap_or(&empty));
    let leaders_delta = Some(cell_delta(b.leaders.as_ref(), o.leaders.as_ref()));
    let distribution_deltas = distribution_deltas(b, o);
    let headcount_delta = o.headcount - b.headcount;
    Ok(pb::CompareWorkforceProfilesResponse {
        base: Some(base),
        other: Some(other),
        headcount_delta,
        leaders_delta,
        distribution_deltas,
    })
}

/// The workforce profile of an authorized population.
async fn profile(read: &Read<'_>, population: &Population) -> Result<pb::GetWorkforceProfileResponse> {
    let places = read.places(population).await?;
    let levels = read.scale_levels().await?;
    let groups = read.workforce_counts(population, &levels).await?;
    let builder = ProfileBuilder::new(&levels);
    let mut total = GroupCounts::default();
    groups.values().for_each(|g| total.accumulate(g));
    let empty = GroupCounts::default();
    let profile = |place: &Place| {
        builder.profile(place.name.clone(), place.display_name.clone(), groups.get(&place.group).unwrap_or(&empty))
    };
    let mut response = pb::GetWorkforceProfileResponse {
        as_of: Some(to_date(population.as_of)),
        total: Some(builder.profile(places.total.name.clone(), places.total.display_name.clone(), &total)),
        children: places.children.iter().map(profile).collect(),
        own_units: places.own_units.as_ref().map(profile),
    };
    if let Some(threshold) = read.threshold() {
        disclosure::workforce_profile(&mut response, threshold);
    }
    Ok(response)
}

/// The cells of one qualification scale, the same for every group of a report.
struct ScaleCells {
    /// `scales/{scale}`.
    dimension: String,
    /// One cell per rank, in the scale's order: the rank, the key of its first level,
    /// and the labels of its levels joined (equal ranks are equivalent levels).
    ranks: Vec<(i32, String, String)>,
    /// The bounds of the scale's entries in [`GroupCounts::ranks`].
    first: (String, i32),
    last: (String, i32),
}

/// A plain distribution: its dimension and, per cell, its key in [`GroupCounts::cells`]
/// and its label.
type PlainCells = (&'static str, Vec<((String, String), &'static str)>);

/// The distributions of a profile, laid out once per report and filled per group.
struct ProfileBuilder {
    scales: Vec<ScaleCells>,
    plain: Vec<PlainCells>,
}

impl ProfileBuilder {
    fn new(levels: &ScaleLevels) -> Self {
        let scales = levels
            .iter()
            .map(|(scale, levels)| {
                let mut by_rank: BTreeMap<i32, (String, Vec<&str>)> = BTreeMap::new();
                for (rank, code, label) in levels {
                    let entry =
                        by_rank.entry(*rank).or_insert_with(|| (format!("scales/{scale}/levels/{code}"), Vec::new()));
                    entry.1.push(label);
                }
                ScaleCells {
                    dimension: format!("scales/{scale}"),
                    ranks: by_rank.into_iter().map(|(rank, (key, labels))| (rank, key, labels.join(" / "))).collect(),
                    first: (scale.clone(), i32::MIN),
                    last: (scale.clone(), i32::MAX),
                }
            })
            .collect();
        let plain = |dimension: &'static str, keys: &[(&'static str, &'static str)]| {
            let keys = keys.iter().map(|(key, label)| ((dimension.to_owned(), (*key).to_owned()), *label)).collect();
            (dimension, keys)
        };
        let plain = vec![
            plain("age_band", &AGE_BANDS),
            plain("gender", &[("female", "Nữ"), ("male", "Nam")]),
            plain("ethnic_minority", &[("minority", "Dân tộc thiểu số"), ("kinh", "Kinh")]),
        ];
        Self { scales, plain }
    }

    fn profile(&self, locality: String, display_name: String, counts: &GroupCounts) -> pb::WorkforceProfile {
        let headcount = counts.heads.headcount;
        let mut distributions = Vec::with_capacity(self.scales.len() + self.plain.len());
        for scale in &self.scales {
            let found: Vec<(i32, i64)> =
                counts.ranks.range(&scale.first..=&scale.last).map(|((_, rank), n)| (*rank, *n)).collect();
            let count_of = |rank: i32| found.iter().find(|(r, _)| *r == rank).map_or(0, |(_, n)| *n);
            let ranks = scale
                .ranks
                .iter()
                .map(|(rank, key, label)| (*rank, key.clone(), label.clone(), count_of(*rank)))
                .collect();
            distributions.push(pb::Distribution {
                dimension: scale.dimension.clone(),
                cells: cells_into_pb(ordered_cells(ranks, headcount, "Chưa có trình độ ghi nhận")),
            });
        }
        for (dimension, keys) in &self.plain {
            let cells = keys
                .iter()
                .map(|(cell, label)| {
                    let count = counts.cells.get(cell).copied().unwrap_or_default();
                    CellValue::new(cell.1.as_str(), *label, count, headcount)
                })
                .collect();
            distributions.push(pb::Distribution { dimension: (*dimension).to_owned(), cells: cells_into_pb(cells) });
        }
        let leaders = CellValue::new("leaders", "Lãnh đạo, quản lý", counts.heads.leaders, headcount);
        pb::WorkforceProfile { locality, display_name, headcount, leaders: Some(cell_into_pb(leaders)), distributions }
    }
}

/// The change of a cell from `base` to `other`; hidden when either is suppressed.
fn cell_delta(base: Option<&pb::Cell>, other: Option<&pb::Cell>) -> pb::CellDelta {
    let empty = pb::Cell::default();
    let (b, o) = (base.unwrap_or(&empty), other.unwrap_or(&empty));
    let (key, label) = if base.is_some() { (&b.key, &b.label) } else { (&o.key, &o.label) };
    let suppressed = b.suppressed || o.suppressed;
    pb::CellDelta {
        key: key.clone(),
        label: label.clone(),
        count_delta: if suppressed { 0 } else { o.count - b.count },
        percentage_point_delta: if suppressed { 0.0 } else { o.percent - b.percent },
        suppressed,
    }
}

/// The changes of every distribution of the total from `base` to `other`, matched by
/// dimension and key, in the order of `base` (then what only `other` has).
fn distribution_deltas(base: &pb::WorkforceProfile, other: &pb::WorkforceProfile) -> Vec<pb::DistributionDelta> {
    let mut dimensions: Vec<&str> = base.distributions.iter().map(|d| d.dimension.as_str()).collect();
    for d in &other.distributions {
        if !dimensions.contains(&d.dimension.as_str()) {
            dimensions.push(&d.dimension);
        }
    }
    let find = |profile: &'_ pb::WorkforceProfile, dimension: &str| -> Vec<pb::Cell> {
        profile.distributions.iter().find(|d| d.dimension == dimension).map(|d| d.cells.clone()).unwrap_or_default()
    };
    dimensions
        .into_iter()
        .map(|dimension| {
            let (b, o) = (find(base, dimension), find(other, dimension));
            let mut keys: Vec<&str> = b.iter().map(|c| c.key.as_str()).collect();
            for c in &o {
                if !keys.contains(&c.key.as_str()) {
                    keys.push(&c.key);
                }
            }
            let cells = keys
                .into_iter()
                .map(|key| cell_delta(b.iter().find(|c| c.key == key), o.iter().find(|c| c.key == key)))
                .collect();
            pb::DistributionDelta { dimension: dimension.to_owned(), cells }
        })
        .collect()
}
