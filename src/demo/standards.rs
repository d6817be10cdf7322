//! The demo's position standards (`data/demo-standards.json`), created through
//! StandardService.

use chrono::NaiveDate;
use serde::Deserialize;

use super::api::{Services, call, date, wire_enum};
use crate::{
    context::RequestContext,
    grpc::pb::{self, standard_service_server::StandardService as _},
};

const STANDARDS: &str = include_str!("../../data/demo-standards.json");

#[derive(Deserialize)]
struct Spec {
    standards: Vec<StandardSpec>,
}

#[derive(Deserialize)]
struct StandardSpec {
    display_name: String,
    tier: Option<String>,
    category: Option<String>,
    leadership: Option<String>,
    post_title: Option<String>,
    effective_from: NaiveDate,
    effective_until: Option<NaiveDate>,
    minimum_levels: Vec<String>,
    legal_basis: String,
}

/// Creates the demo standards; returns how many.
pub async fn load(services: &Services, ctx: &RequestContext) -> anyhow::Result<usize> {
    let spec: Spec = serde_json::from_str(STANDARDS)?;
    for s in &spec.standards {
        let optional = |prefix: &str, value: &Option<String>, parse: fn(&str) -> Option<i32>| {
            value.as_deref().map_or(Ok(0), |v| wire_enum(prefix, v, parse))
        };
        let standard = pb::Standard {
            display_name: s.display_name.clone(),
            tier: optional("LOCALITY_TIER", &s.tier, |n| pb::LocalityTier::from_str_name(n).map(Into::into))?,
            category: optional("PERSON_CATEGORY", &s.category, |n| {
                pb::PersonCategory::from_str_name(n).map(Into::into)
            })?,
            leadership: optional("LEADERSHIP", &s.leadership, |n| pb::Leadership::from_str_name(n).map(Into::into))?,
            post_title: s.post_title.clone().unwrap_or_default(),
            effective_from: date(s.effective_from),
            effective_until: s.effective_until.and_then(date),
            minimum_levels: s.minimum_levels.clone(),
            legal_basis: s.legal_basis.clone(),
            ..Default::default()
        };
        let request = pb::CreateStandardRequest { standard: Some(standard), request_id: String::new() };
        call(ctx, || format!("demo standard {}", s.display_name), request, |r| services.standards.create_standard(r))
            .await?;
    }
    Ok(spec.standards.len())
}
