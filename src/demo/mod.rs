//! The demo data (`hrplan serve --demo`): the locality tree, loaded through the same
//! writes as the API so that it obeys the same rules, then units and people
//! ([`people`]), then the records every report reads: position standards, training
//! plans with enrolments, movements, staffing quotas and succession pools, created
//! through the gRPC handlers themselves (module `api`). The data lives in `data/demo-*.json`.
//!
//! Each part loads only into a database that holds none of its records yet, so a
//! restart with `--demo` adds nothing; the planning records load only over the demo
//! workforce (never over people of a real database).

mod api;
mod movements;
pub mod people;
mod pools;
mod rng;
mod staffing;
mod standards;
mod training;
mod workforce;

use std::collections::BTreeSet;

use anyhow::Context as _;
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Deserialize;

use crate::{
    context::{Principal, RequestContext},
    domain::text::normalize_name,
    localities::{
        reorganize::reorganize,
        rules::{Code, Kind, SuccessionKind, Version},
        usecases::create,
        wire::{Amendment, CreateLocality, Creation, NewLocality, Reorganization, Reorganize},
    },
    store,
};

const DEMO: &str = include_str!("../../data/demo-localities.json");

#[derive(Deserialize)]
struct Demo {
    history_start: NaiveDate,
    localities: Vec<Unit>,
    reorganizations: Vec<Reorg>,
}

#[derive(Deserialize)]
struct Unit {
    code: String,
    kind: String,
    name: String,
    parent: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct LinkSpec {
    predecessor: String,
    successor: String,
    kind: String,
}

#[derive(Deserialize)]
struct Reorg {
    effective_date: NaiveDate,
    legal_basis: String,
    endings: Vec<String>,
    creations: Vec<Unit>,
    amendments: Vec<Unit>,
    links: Vec<LinkSpec>,
}

fn code(value: &str) -> anyhow::Result<Code> {
    Code::parse(value).map_err(|e| anyhow::anyhow!("demo code {value}: {e}"))
}

fn kind(value: &str) -> anyhow::Result<Kind> {
    Kind::from_db(value).with_context(|| format!("demo kind {value}"))
}

/// Loads the demo tree unless the database already holds localities, then the demo
/// workforce unless it holds people, then each part of the planning records that the
/// database holds none of. Returns whether the tree was loaded.
pub async fn load(db: &DatabaseConnection) -> anyhow::Result<bool> {
    let loaded = load_tree(db).await?;
    let ctx = demo_context();
    let people = people::load(db, &ctx).await?;
    if people > 0 {
        tracing::info!(people, "loaded the demo workforce");
    }
    load_planning(db, &ctx).await?;
    Ok(loaded)
}

/// The codes of the demo tree (its localities and those its reorganisations create).
///
/// The demo workforce staffs these only, so that `serve --demo` on a database that
/// already holds the official tree of the whole country (`hrplan localities
/// import-official`) still loads the small demo rather than staffing every commune.
pub fn tree_codes() -> anyhow::Result<BTreeSet<Code>> {
    let demo: Demo = serde_json::from_str(DEMO)?;
    demo.localities
        .iter()
        .map(|u| &u.code)
        .chain(demo.reorganizations.iter().flat_map(|r| r.creations.iter().map(|u| &u.code)))
        .map(|c| code(c))
        .collect()
}

/// The number of rows of `table`.
async fn count(db: &DatabaseConnection, table: &str) -> anyhow::Result<i64> {
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let row = db.query_one_raw(store::stmt(db.get_database_backend(), &sql, vec![])).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or_default())
}

/// Whether the demo loader made the units of the database's workforce (the audit log
/// says who created each unit).
async fn holds_demo_workforce(db: &DatabaseConnection) -> anyhow::Result<bool> {
    let row = db
        .query_one_raw(store::stmt(
            db.get_database_backend(),
            "SELECT id FROM audit_log WHERE subject = ? AND method = ? ORDER BY id LIMIT 1",
            vec![DEMO_SUBJECT.into(), "CreateUnit".into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// Loads the standards, training plans, movements, staffing quotas and succession
/// pools of the demo, each unless the database holds some already, in a fixed order so
/// that every run gives the same records the same ids.
async fn load_planning(db: &DatabaseConnection, ctx: &RequestContext) -> anyhow::Result<()> {
    let mut missing = BTreeSet::new();
    for table in ["standards", "training_plans", "rotations", "staffing_quotas", "succession_pools"] {
        if count(db, table).await? == 0 {
            missing.insert(table);
        }
    }
    if missing.is_empty() || !holds_demo_workforce(db).await? {
        return Ok(());
    }
    let services = api::Services::new(db);
    let started = std::time::Instant::now();
    if missing.contains("standards") {
        let standards = standards::load(&services, ctx).await?;
        tracing::info!(standards, "loaded the demo standards");
    }
    let workforce = workforce::Workforce::read(db).await?;
    if missing.contains("training_plans") {
        let (plans, enrollments) = training::load(&services, ctx, &workforce).await?;
        tracing::info!(plans, enrollments, "loaded the demo training plans");
    }
    if missing.contains("rotations") {
        let movements = movements::load(&services, ctx, &workforce).await?;
        tracing::info!(movements, "loaded the demo movements");
    }
    if missing.contains("staffing_quotas") {
        let quotas = staffing::load(&services, ctx, &workforce).await?;
        tracing::info!(quotas, "loaded the demo staffing quotas");
    }
    if missing.contains("succession_pools") {
        // The movements changed placements: draw candidates from the records as they are.
        let workforce = workforce::Workforce::read(db).await?;
        let (pools, candidates) = pools::load(&services, ctx, &workforce).await?;
        tracing::info!(pools, candidates, "loaded the demo succession pools");
    }
    tracing::info!(elapsed_ms = started.elapsed().as_millis(), "loaded the demo planning records");
    Ok(())
}

/// The subject the demo loader writes as (a national admin).
const DEMO_SUBJECT: &str = "demo-loader";

fn demo_context() -> RequestContext {
    RequestContext {
        principal: Principal { subject: DEMO_SUBJECT.to_owned(), ..Principal::development() },
        deadline: None,
        peer: None,
        audit: None,
    }
}

/// Loads the demo tree unless the database already holds localities.
pub async fn load_tree(db: &DatabaseConnection) -> anyhow::Result<bool> {
    let row = db
        .query_one_raw(store::stmt(db.get_database_backend(), "SELECT COUNT(*) AS n FROM localities", vec![]))
        .await?;
    let count: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    if count > 0 {
        return Ok(false);
    }
    let demo: Demo = serde_json::from_str(DEMO)?;
    let ctx = demo_context();
    // Parents come before children in the file.
    for unit in &demo.localities {
        let code = code(&unit.code)?;
        let new = NewLocality {
            tier: code.tier(),
            tags: unit.tags.clone(),
            versions: vec![Version {
                valid_from: demo.history_start,
                valid_until: None,
                display_name: normalize_name(&unit.name),
                kind: kind(&unit.kind)?,
                parent: unit.parent.as_deref().map(self::code).transpose()?,
            }],
            code,
        };
        create(db, &ctx, CreateLocality { new, key: None, validate_only: false })
            .await
            .map_err(|e| anyhow::anyhow!("demo {}: {e}", unit.code))?;
    }
    for reorg in &demo.reorganizations {
        let reorganization = Reorganization {
            effective_date: reorg.effective_date,
            legal_basis: reorg.legal_basis.clone(),
            endings: reorg.endings.iter().map(|c| code(c)).collect::<anyhow::Result<_>>()?,
            creations: reorg
                .creations
                .iter()
                .map(|u| {
                    let code = code(&u.code)?;
                    Ok(Creation {
                        tier: code.tier(),
                        code,
                        display_name: normalize_name(&u.name),
                        kind: kind(&u.kind)?,
                        parent: u.parent.as_deref().map(self::code).transpose()?,
                        tags: u.tags.clone(),
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            amendments: reorg
                .amendments
                .iter()
                .map(|u| {
                    Ok(Amendment {
                        code: code(&u.code)?,
                        display_name: Some(normalize_name(&u.name)),
                        kind: Some(kind(&u.kind)?),
                        parent: u.parent.as_deref().map(self::code).transpose()?,
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            links: reorg
                .links
                .iter()
                .map(|l| {
                    let kind =
                        SuccessionKind::from_db(&l.kind).with_context(|| format!("demo link kind {}", l.kind))?;
                    Ok((code(&l.predecessor)?, code(&l.successor)?, kind))
                })
                .collect::<anyhow::Result<_>>()?,
        };
        let touched: BTreeSet<Code> = reorganization.touched();
        reorganize(db, &ctx, Reorganize { reorg: reorganization, key: None, validate_only: false })
            .await
            .map_err(|e| anyhow::anyhow!("demo reorganisation of {} localities: {e}", touched.len()))?;
    }
    Ok(true)
}
