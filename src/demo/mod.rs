//! The demo data (`hrplan serve --demo`): the locality tree, loaded through the same
//! writes as the API so that it obeys the same rules, then units and people
//! ([`people`]). The data lives in `data/demo-localities.json` and `data/demo-people.json`.

pub mod people;

use std::collections::BTreeSet;

use anyhow::Context as _;
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Deserialize;

use crate::{
    auth::{Principal, RequestContext},
    domain::{
        locality::{Code, Kind, SuccessionKind, Version},
        text::normalize_name,
    },
    store::{
        self,
        locality_write::{self as writes, Amendment, Creation, Idempotency, NewLocality, Reorganization},
    },
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
/// workforce unless it holds people. Returns whether the tree was loaded.
pub async fn load(db: &DatabaseConnection) -> anyhow::Result<bool> {
    let loaded = load_tree(db).await?;
    let ctx = demo_context();
    let people = people::load(db, &ctx).await?;
    if people > 0 {
        tracing::info!(people, "loaded the demo workforce");
    }
    Ok(loaded)
}

fn demo_context() -> RequestContext {
    RequestContext {
        principal: Principal { subject: "demo-loader".to_owned(), ..Principal::development() },
        deadline: None,
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
    let ctx = RequestContext {
        principal: Principal { subject: "demo-loader".to_owned(), ..Principal::development() },
        deadline: None,
    };
    let no_retry = Idempotency { request_id: None, fingerprint: String::new() };
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
        writes::create(db, &ctx, &new, &no_retry, false)
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
        writes::reorganize(db, &ctx, &reorganization, &no_retry, false)
            .await
            .map_err(|e| anyhow::anyhow!("demo reorganisation of {} localities: {e}", touched.len()))?;
    }
    Ok(true)
}
