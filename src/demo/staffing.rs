//! The demo's staffing quotas (`data/demo-staffing.json`): one year's quotas per unit
//! of the provincial and district agencies and per commune, set from the headcount
//! that StaffingService.GetHeadcount reports and created through StaffingService.

use anyhow::Context as _;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{
    api::{Services, call, date, wire_enum},
    rng::{Rng, Weighted},
    workforce::Workforce,
};
use crate::{
    context::RequestContext,
    domain::locality::Tier,
    grpc::pb::{self, staffing_service_server::StaffingService as _},
};

const STAFFING: &str = include_str!("../../data/demo-staffing.json");

#[derive(Deserialize)]
struct Spec {
    seed: u64,
    year: i32,
    counted_on: NaiveDate,
    categories: Vec<String>,
    fill_percent: Weighted,
    unit_quota_tiers: Vec<String>,
    locality_quota_tiers: Vec<String>,
}

/// The quota that `headcount` people fill to `fill` percent, rounded to the nearest post.
fn quota_for(headcount: i32, fill: u32) -> i32 {
    let fill = i64::from(fill.max(1));
    i32::try_from((i64::from(headcount) * 200 + fill) / (2 * fill)).unwrap_or(i32::MAX)
}

/// Creates the demo quotas; returns how many.
pub async fn load(services: &Services, ctx: &RequestContext, workforce: &Workforce) -> anyhow::Result<usize> {
    let spec: Spec = serde_json::from_str(STAFFING)?;
    let mut rng = Rng::new(spec.seed);
    let tiers = |names: &[String]| -> anyhow::Result<Vec<Tier>> {
        names.iter().map(|t| Tier::from_db(t).with_context(|| format!("demo tier {t}"))).collect()
    };
    let (unit_tiers, locality_tiers) = (tiers(&spec.unit_quota_tiers)?, tiers(&spec.locality_quota_tiers)?);
    let categories: Vec<i32> = spec
        .categories
        .iter()
        .map(|c| wire_enum("PERSON_CATEGORY", c, pb::PersonCategory::from_str_name))
        .collect::<anyhow::Result<_>>()?;
    let day = spec.counted_on;
    // Units first (by id), then localities (by code): a stable order, so stable ids.
    let mut targets: Vec<(String, String)> = workforce
        .units
        .values()
        .filter(|u| u.from <= day && u.until.is_none_or(|until| until > day) && unit_tiers.contains(&u.locality.tier()))
        .map(|u| (format!("units/{}", u.id), String::new()))
        .collect();
    targets.extend(
        workforce
            .codes_in_force(day)
            .into_iter()
            .filter(|code| locality_tiers.contains(&code.tier()))
            .map(|code| (String::new(), code.name())),
    );
    let mut created = 0;
    for (unit, locality) in targets {
        let what = || format!("demo headcount of {unit}{locality}");
        let request = pb::GetHeadcountRequest { unit: unit.clone(), locality: locality.clone(), as_of: date(day) };
        let counted = call(ctx, what, request, |r| services.staffing.get_headcount(r)).await?;
        for row in counted.categories.iter().filter(|r| categories.contains(&r.category) && r.headcount > 0) {
            let fill = rng.weighted(&spec.fill_percent).and_then(|f| f.parse::<u32>().ok()).unwrap_or(100);
            let quota = pb::StaffingQuota {
                unit: unit.clone(),
                locality: locality.clone(),
                year: spec.year,
                category: row.category,
                quota: quota_for(row.headcount, fill),
                ..Default::default()
            };
            let request = pb::CreateStaffingQuotaRequest { staffing_quota: Some(quota), request_id: String::new() };
            let what = || format!("demo quota of {unit}{locality}");
            call(ctx, what, request, |r| services.staffing.create_staffing_quota(r)).await?;
            created += 1;
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_is_the_headcount_over_the_fill_rate_rounded() {
        assert_eq!(quota_for(8, 100), 8);
        assert_eq!(quota_for(8, 80), 10);
        assert_eq!(quota_for(9, 110), 8);
        assert_eq!(quota_for(12, 125), 10);
        assert_eq!(quota_for(0, 90), 0);
    }
}
