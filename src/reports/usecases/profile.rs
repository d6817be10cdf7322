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
        wire::{CompareWorkforceProfiles, GetWorkforceProfile, cells_to_pb},
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
    let builder = ProfileBuilder { levels: &levels };
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

struct ProfileBuilder<'a> {
    levels: &'a ScaleLevels,
}

impl ProfileBuilder<'_> {
    fn finish(&self, cells: Vec<CellValue>) -> Vec<pb::Cell> {
        cells_to_pb(&cells)
    }

    fn profile(&self, locality: String, display_name: String, counts: &GroupCounts) -> pb::WorkforceProfile {
        let headcount = counts.heads.headcount;
        let mut distributions = Vec::new();
        for (scale, levels) in self.levels {
            // One cell per rank: equal ranks are equivalent levels.
            let mut by_rank: BTreeMap<i32, (String, Vec<String>)> = BTreeMap::new();
            for (rank, code, label) in levels {
                let entry =
                    by_rank.entry(*rank).or_insert_with(|| (format!("scales/{scale}/levels/{code}"), Vec::new()));
                entry.1.push(label.clone());
            }
            let ranks = by_rank
                .into_iter()
                .map(|(rank, (key, labels))| {
                    let count = counts.ranks.get(&(scale.clone(), rank)).copied().unwrap_or_default();
                    (rank, key, labels.join(" / "), count)
                })
                .collect();
            distributions.push(pb::Distribution {
                dimension: format!("scales/{scale}"),
                cells: self.finish(ordered_cells(ranks, headcount, "Chưa có trình độ ghi nhận")),
            });
        }
        let plain = |dimension: &str, keys: &[(&str, &str)]| pb::Distribution {
            dimension: dimension.to_owned(),
            cells: self.finish(
                keys.iter()
                    .map(|(key, label)| {
                        let count =
                            counts.cells.get(&(dimension.to_owned(), (*key).to_owned())).copied().unwrap_or_default();
                        CellValue::new(*key, *label, count, headcount)
                    })
                    .collect(),
            ),
        };
        distributions.push(plain("age_band", &AGE_BANDS));
        distributions.push(plain("gender", &[("female", "Nữ"), ("male", "Nam")]));
        distributions.push(plain("ethnic_minority", &[("minority", "Dân tộc thiểu số"), ("kinh", "Kinh")]));
        let leaders =
            self.finish(vec![CellValue::new("leaders", "Lãnh đạo, quản lý", counts.heads.leaders, headcount)]);
        pb::WorkforceProfile { locality, display_name, headcount, leaders: leaders.into_iter().next(), distributions }
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
