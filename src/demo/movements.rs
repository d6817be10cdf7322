//! The demo's movements of cadres (`data/demo-movements.json`): created, started,
//! completed or cancelled through RotationService, so that placements move with them
//! exactly as they do for a client.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::{
    api::{Services, call, date, wire_enum},
    rng::Rng,
    workforce::{Seat, Workforce},
};
use crate::{
    context::RequestContext,
    domain::locality::{Code, Tier},
    grpc::pb::{self, rotation_service_server::RotationService as _},
    people::rules::person::Category,
};

const MOVEMENTS: &str = include_str!("../../data/demo-movements.json");

/// Days between a movement's decision and its start.
const DECIDED_BEFORE_DAYS: i64 = 21;
/// The number of each province's first demo decision.
const FIRST_DECISION: u32 = 101;

#[derive(Deserialize)]
struct Spec {
    seed: u64,
    issuing_bodies: BTreeMap<String, String>,
    decision_suffix: String,
    batches: Vec<Batch>,
}

#[derive(Deserialize)]
struct Batch {
    provinces: Vec<String>,
    kind: String,
    source: SourceSpec,
    destination: DestinationSpec,
    destination_post: String,
    destination_leader: bool,
    programme: String,
    movements: Vec<MovementSpec>,
}

#[derive(Deserialize)]
struct SourceSpec {
    tier: String,
    unit_kinds: Vec<String>,
    leader: Option<bool>,
    categories: Vec<String>,
}

#[derive(Deserialize)]
struct DestinationSpec {
    tier: String,
    unit_kinds: Vec<String>,
    relation: Relation,
}

/// Where the destination lies with respect to the source's locality.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Relation {
    /// Under it (a district's commune).
    InsideSource,
    /// Above it (a commune's district).
    ContainsSource,
    /// In the same locality.
    SameLocality,
    /// In another locality of the province.
    Elsewhere,
}

#[derive(Deserialize)]
struct MovementSpec {
    start: NaiveDate,
    end: Option<NaiveDate>,
    status: String,
    #[serde(default)]
    started: bool,
    #[serde(default)]
    promoted: bool,
    rating: Option<String>,
    post_after_return: Option<String>,
}

impl MovementSpec {
    /// Whether the movement is started on its way to its status.
    fn starts(&self) -> bool {
        matches!(self.status.as_str(), "active" | "completed") || (self.status == "cancelled" && self.started)
    }
}

/// Creates the demo movements; returns how many.
pub async fn load(services: &Services, ctx: &RequestContext, workforce: &Workforce) -> anyhow::Result<usize> {
    let spec: Spec = serde_json::from_str(MOVEMENTS)?;
    let mut rng = Rng::new(spec.seed);
    let mut moved: BTreeSet<i64> = BTreeSet::new();
    let mut decisions: BTreeMap<&str, u32> = BTreeMap::new();
    let mut count = 0;
    for batch in &spec.batches {
        let returns = batch.kind != "transfer";
        let source_tier = tier(&batch.source.tier)?;
        let destination_tier = tier(&batch.destination.tier)?;
        let categories: Vec<Category> = batch
            .source
            .categories
            .iter()
            .map(|c| Category::from_db(c).with_context(|| format!("demo category {c}")))
            .collect::<anyhow::Result<_>>()?;
        for province in &batch.provinces {
            let province_code = Code::parse(province).map_err(|e| anyhow::anyhow!("demo province {province}: {e}"))?;
            let issuing_body =
                spec.issuing_bodies.get(province).with_context(|| format!("demo issuing body of {province}"))?;
            for m in &batch.movements {
                let end_needed = if returns { m.starts() } else { m.status == "completed" };
                if end_needed && m.end.is_none() {
                    anyhow::bail!("demo {} from {}: the end is missing", batch.kind, m.start);
                }
                // Started movements need the person placed at the source until the
                // planned end and the destination unit alive until then: a transfer's
                // destination placement never ends, so it stays only in a unit that
                // does not end, from a placement that does not.
                let until = if m.starts() { if returns { m.end } else { None } } else { m.start.succ_opt() };
                let seats: Vec<Seat<'_>> = workforce
                    .seated_on(m.start)
                    .into_iter()
                    .filter(|s| {
                        !moved.contains(&s.person_id)
                            && s.person.employed_until.is_none()
                            && categories.contains(&s.person.category)
                            && s.unit.locality.tier() == source_tier
                            && batch.source.unit_kinds.contains(&s.unit.kind)
                            && batch.source.leader.is_none_or(|l| s.placement.leader == l)
                            && s.placement.from < m.start
                            && match (s.placement.until, until) {
                                (None, _) => true,
                                (Some(_), None) => false,
                                (Some(placed), Some(needed)) => placed >= needed,
                            }
                            && workforce.province_on(&s.unit.locality, m.start).as_ref() == Some(&province_code)
                    })
                    .collect();
                let destinations = |seat: &Seat<'_>| -> Vec<i64> {
                    let source = &seat.unit.locality;
                    workforce
                        .units
                        .values()
                        .filter(|u| {
                            u.id != seat.unit.id
                                && u.locality.tier() == destination_tier
                                && batch.destination.unit_kinds.contains(&u.kind)
                                && u.covers(m.start, until)
                                && workforce.in_force(&u.locality, m.start)
                                && workforce.province_on(&u.locality, m.start).as_ref() == Some(&province_code)
                                && match batch.destination.relation {
                                    Relation::InsideSource => {
                                        &u.locality != source && workforce.within(&u.locality, source, m.start)
                                    }
                                    Relation::ContainsSource => {
                                        &u.locality != source && workforce.within(source, &u.locality, m.start)
                                    }
                                    Relation::SameLocality => &u.locality == source,
                                    Relation::Elsewhere => &u.locality != source,
                                }
                        })
                        .map(|u| u.id)
                        .collect()
                };
                let with_destination: Vec<usize> =
                    (0..seats.len()).filter(|i| seats.get(*i).is_some_and(|s| !destinations(s).is_empty())).collect();
                let seat = rng
                    .pick(&with_destination)
                    .and_then(|i| seats.get(*i))
                    .with_context(|| format!("demo {} in {province} from {}: nobody to move", batch.kind, m.start))?;
                let destination = *rng.pick(&destinations(seat)).context("demo movement: no destination")?;
                moved.insert(seat.person_id);
                let number = decisions.entry(province.as_str()).or_insert(FIRST_DECISION);
                let rotation = pb::Rotation {
                    person: format!("people/{}", seat.person_id),
                    kind: wire_enum("ROTATION_KIND", &batch.kind, pb::RotationKind::from_str_name)?,
                    source_unit: format!("units/{}", seat.unit.id),
                    source_post: seat.placement.post_title.clone(),
                    destination_unit: format!("units/{destination}"),
                    destination_post: batch.destination_post.clone(),
                    destination_leader: batch.destination_leader,
                    start_date: date(m.start),
                    planned_end_date: if returns { m.end.and_then(date) } else { None },
                    decision: Some(pb::RotationDecision {
                        number: format!("{number}{}", spec.decision_suffix),
                        decided_on: date(m.start - Duration::days(DECIDED_BEFORE_DAYS)),
                        issuing_body: issuing_body.clone(),
                    }),
                    programme: batch.programme.clone(),
                    ..Default::default()
                };
                *number += 1;
                let what = || format!("demo {} of people/{} from {}", batch.kind, seat.person_id, m.start);
                let request = pb::CreateRotationRequest { rotation: Some(rotation), request_id: String::new() };
                let created = call(ctx, what, request, |r| services.rotations.create_rotation(r)).await?;
                let name = created.rotation.map(|r| r.name).context("CreateRotation answered no movement")?;
                advance(services, ctx, &name, m, what).await?;
                count += 1;
            }
        }
    }
    Ok(count)
}

fn tier(name: &str) -> anyhow::Result<Tier> {
    Tier::from_db(name).with_context(|| format!("demo tier {name}"))
}

/// Takes a created movement to its status.
async fn advance(
    services: &Services,
    ctx: &RequestContext,
    name: &str,
    m: &MovementSpec,
    what: impl Fn() -> String + Copy,
) -> anyhow::Result<()> {
    if m.starts() {
        let start = pb::StartRotationRequest { name: name.to_owned(), etag: String::new() };
        call(ctx, what, start, |r| services.rotations.start_rotation(r)).await?;
    }
    match m.status.as_str() {
        "planned" | "active" => {}
        "completed" => {
            let rating = m.rating.as_deref().map_or(Ok(0), |r| wire_enum("RATING", r, pb::Rating::from_str_name))?;
            let complete = pb::CompleteRotationRequest {
                name: name.to_owned(),
                actual_end_date: m.end.and_then(date),
                outcome: Some(pb::RotationOutcome {
                    rating,
                    promoted: m.promoted,
                    post_after_return: m.post_after_return.clone().unwrap_or_default(),
                }),
                etag: String::new(),
            };
            call(ctx, what, complete, |r| services.rotations.complete_rotation(r)).await?;
        }
        "cancelled" => {
            let cancel = pb::CancelRotationRequest { name: name.to_owned(), etag: String::new() };
            call(ctx, what, cancel, |r| services.rotations.cancel_rotation(r)).await?;
        }
        other => anyhow::bail!("demo movement status `{other}` is not planned, active, completed or cancelled"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_gives_each_province_every_kind_direction_and_status_five_times() {
        let spec: Spec = serde_json::from_str(MOVEMENTS).expect("demo-movements.json");
        let rank = |t: &str| ["province", "district", "commune"].iter().position(|x| *x == t);
        for province in ["11", "20"] {
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for batch in spec.batches.iter().filter(|b| b.provinces.iter().any(|p| p == province)) {
                let direction = match rank(&batch.destination.tier).cmp(&rank(&batch.source.tier)) {
                    std::cmp::Ordering::Greater => "downward",
                    std::cmp::Ordering::Less => "upward",
                    std::cmp::Ordering::Equal => "lateral",
                };
                for m in &batch.movements {
                    for key in [batch.kind.as_str(), direction, m.status.as_str()] {
                        *seen.entry(key.to_owned()).or_default() += 1;
                    }
                    if m.promoted {
                        *seen.entry("promoted".to_owned()).or_default() += 1;
                        assert_eq!(m.status, "completed");
                    }
                }
            }
            // Five or more each, so that no cell is hidden from an aggregate reader.
            for key in [
                "rotation",
                "transfer",
                "reinforcement",
                "secondment",
                "downward",
                "upward",
                "lateral",
                "planned",
                "active",
                "completed",
                "cancelled",
                "promoted",
            ] {
                assert!(seen.get(key).copied().unwrap_or_default() >= 5, "{province}: {key} {seen:?}");
            }
        }
    }
}
