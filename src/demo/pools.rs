//! The demo's succession pools (`data/demo-pools.json`): pools for leading posts with
//! candidates added and removed on dates, through SuccessionPoolService.

use anyhow::Context as _;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{
    api::{Services, call, date},
    rng::Rng,
    workforce::Workforce,
};
use crate::{
    context::RequestContext,
    domain::locality::{Code, Tier},
    grpc::pb::{self, succession_pool_service_server::SuccessionPoolService as _},
};

const POOLS: &str = include_str!("../../data/demo-pools.json");

#[derive(Deserialize)]
struct Spec {
    seed: u64,
    pools: Vec<PoolSpec>,
}

#[derive(Deserialize)]
struct PoolSpec {
    provinces: Vec<String>,
    unit: UnitSpec,
    post_title: String,
    leader_post: bool,
    term_start_year: i32,
    term_end_year: i32,
    min_candidates: i32,
    max_candidates: i32,
    candidate_tiers: Vec<String>,
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct UnitSpec {
    tier: String,
    kind: String,
    /// The day the unit must be in force (default: the day of the first change).
    on: Option<NaiveDate>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    add: usize,
    #[serde(default)]
    remove: usize,
    on: NaiveDate,
    reason: String,
}

/// Creates the demo pools with their candidates; returns (pools, candidates added).
pub async fn load(services: &Services, ctx: &RequestContext, workforce: &Workforce) -> anyhow::Result<(usize, usize)> {
    let spec: Spec = serde_json::from_str(POOLS)?;
    let mut rng = Rng::new(spec.seed);
    let (mut pools, mut added) = (0, 0);
    for pool in &spec.pools {
        let unit_tier = Tier::from_db(&pool.unit.tier).with_context(|| format!("demo tier {}", pool.unit.tier))?;
        let tiers: Vec<Tier> = pool
            .candidate_tiers
            .iter()
            .map(|t| Tier::from_db(t).with_context(|| format!("demo tier {t}")))
            .collect::<anyhow::Result<_>>()?;
        let first = pool.changes.first().map(|c| c.on).context("a demo pool without changes")?;
        let unit_day = pool.unit.on.unwrap_or(first);
        for province in &pool.provinces {
            let province = Code::parse(province).map_err(|e| anyhow::anyhow!("demo province {province}: {e}"))?;
            let unit = workforce
                .units
                .values()
                .find(|u| {
                    u.kind == pool.unit.kind
                        && u.locality.tier() == unit_tier
                        && u.from <= unit_day
                        && u.until.is_none_or(|until| until > unit_day)
                        && workforce.province_on(&u.locality, unit_day).as_ref() == Some(&province)
                })
                .with_context(|| format!("demo pool {}: no unit in {}", pool.post_title, province.name()))?;
            let request = pb::CreateSuccessionPoolRequest {
                succession_pool: Some(pb::SuccessionPool {
                    term_start_year: pool.term_start_year,
                    term_end_year: pool.term_end_year,
                    unit: format!("units/{}", unit.id),
                    post_title: pool.post_title.clone(),
                    leader_post: pool.leader_post,
                    min_candidates: pool.min_candidates,
                    max_candidates: pool.max_candidates,
                    ..Default::default()
                }),
                request_id: String::new(),
            };
            let what = || format!("demo pool {} of units/{}", pool.post_title, unit.id);
            let created = call(ctx, what, request, |r| services.pools.create_succession_pool(r)).await?;
            let name = created.succession_pool.map(|p| p.name).context("CreateSuccessionPool answered no pool")?;
            pools += 1;
            let mut members: Vec<i64> = Vec::new();
            let mut ever: Vec<i64> = Vec::new();
            for change in &pool.changes {
                let leaders: Vec<i64> = workforce
                    .seated_on(change.on)
                    .into_iter()
                    .filter(|s| {
                        s.placement.leader
                            && tiers.contains(&s.unit.locality.tier())
                            && workforce.within(&s.unit.locality, &province, change.on)
                            && !ever.contains(&s.person_id)
                    })
                    .map(|s| s.person_id)
                    .collect();
                let chosen = rng.sample(&leaders, change.add);
                if chosen.len() < change.add {
                    anyhow::bail!(
                        "demo pool {name}: {} candidates wanted on {}, {} leaders",
                        change.add,
                        change.on,
                        leaders.len()
                    );
                }
                for person in chosen {
                    let request = pb::AddCandidateRequest {
                        succession_pool: name.clone(),
                        candidate: Some(pb::Candidate {
                            person: format!("people/{person}"),
                            added_on: date(change.on),
                            added_reason: change.reason.clone(),
                            ..Default::default()
                        }),
                    };
                    let what = || format!("demo candidate people/{person} of {name}");
                    call(ctx, what, request, |r| services.pools.add_candidate(r)).await?;
                    members.push(person);
                    ever.push(person);
                    added += 1;
                }
                for _ in 0..change.remove {
                    if members.is_empty() {
                        anyhow::bail!("demo pool {name}: nobody to remove on {}", change.on);
                    }
                    let person = members.remove(rng.below(members.len()));
                    let request = pb::RemoveCandidateRequest {
                        succession_pool: name.clone(),
                        person: format!("people/{person}"),
                        removed_on: date(change.on),
                        reason: change.reason.clone(),
                    };
                    let what = || format!("demo removal of people/{person} from {name}");
                    call(ctx, what, request, |r| services.pools.remove_candidate(r)).await?;
                }
            }
        }
    }
    Ok((pools, added))
}
