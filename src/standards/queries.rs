//! The SQL of position standards, typed: reads, the writes of the use cases, and the
//! check that minimum levels exist.
//!
//! Minimum levels are stored one row per scale (the key is the standard and the
//! scale), so they are read back ordered by scale code, not in the order given.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;

use super::rules::{Applicability, Leadership, LevelRef, StandardRecord, StandardSpec};
use crate::{
    domain::text::fold,
    edge::enums::Table as _,
    error::{Error, Result},
    localities::rules::Tier,
    people::rules::person::Category,
    sql::{self, FromQueryResult, Query, raw_sql},
};

/// The collection segment of standard resource names.
pub const COLLECTION: &str = "standards";

/// The resource name of a standard.
pub fn standard_name(id: i64) -> String {
    format!("{COLLECTION}/{id}")
}

pub(super) fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

/// The criteria columns of a standard, as stored.
#[derive(Debug, FromQueryResult)]
pub(super) struct CriteriaRow {
    pub(super) tier: Option<String>,
    pub(super) category: Option<String>,
    pub(super) leadership: Option<String>,
    pub(super) post_title: Option<String>,
}

fn optional<T>(value: Option<String>, what: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>> {
    value.filter(|v| !v.is_empty()).map(|v| parse(&v).ok_or_else(|| corrupt(what, &v))).transpose()
}

impl TryFrom<CriteriaRow> for Applicability {
    type Error = Error;

    fn try_from(row: CriteriaRow) -> Result<Self> {
        Ok(Self {
            tier: optional(row.tier, "tier", Tier::from_stored)?,
            category: optional(row.category, "category", Category::from_db)?,
            leadership: optional(row.leadership, "leadership", Leadership::from_stored)?,
            post_title: row.post_title.filter(|p| !p.is_empty()),
        })
    }
}

#[derive(Debug, FromQueryResult)]
struct StandardRow {
    id: i64,
    name: String,
    tier: Option<String>,
    category: Option<String>,
    leadership: Option<String>,
    post_title: Option<String>,
    effective_from: NaiveDate,
    effective_until: Option<NaiveDate>,
    legal_basis: String,
    revision: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct MinimumRow {
    standard_id: i64,
    scale_code: String,
    level_code: String,
}

#[derive(Debug, FromQueryResult)]
struct Id {
    id: i64,
}

/// Loads the standards `ids`, in the order given; unknown ids are left out.
pub async fn load(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<StandardRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<StandardRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, name, tier, category, leadership, post_title, effective_from, effective_until, \
             legal_basis, revision, create_time, update_time FROM standards WHERE id IN ({..ids})"
        ),
    )
    .await?;
    let mut records = BTreeMap::new();
    for row in rows {
        let record = StandardRecord {
            id: row.id,
            spec: StandardSpec {
                display_name: row.name,
                applies_to: CriteriaRow {
                    tier: row.tier,
                    category: row.category,
                    leadership: row.leadership,
                    post_title: row.post_title,
                }
                .try_into()?,
                effective_from: row.effective_from,
                effective_until: row.effective_until,
                minimums: Vec::new(),
                legal_basis: row.legal_basis,
            },
            revision: row.revision,
            create_time: row.create_time,
            update_time: row.update_time,
        };
        records.insert(record.id, record);
    }
    let minimums: Vec<MinimumRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT standard_id, scale_code, level_code FROM standard_minimums \
             WHERE standard_id IN ({..ids}) ORDER BY standard_id, scale_code"
        ),
    )
    .await?;
    for row in minimums {
        if let Some(record) = records.get_mut(&row.standard_id) {
            record.spec.minimums.push(LevelRef::new(row.scale_code, row.level_code));
        }
    }
    Ok(ids.iter().filter_map(|id| records.remove(id)).collect())
}

/// Loads one standard.
pub async fn load_one(conn: &impl ConnectionTrait, id: i64) -> Result<Option<StandardRecord>> {
    Ok(load(conn, &[id]).await?.pop())
}

/// Standards by id after `after`, at most `limit`, optionally only those in force on
/// `in_force_on`.
pub async fn list(
    conn: &impl ConnectionTrait,
    in_force_on: Option<NaiveDate>,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<StandardRecord>> {
    let mut q = Query::new("SELECT id FROM standards WHERE id > ");
    q.bind(after.unwrap_or(0));
    if let Some(day) = in_force_on {
        q.push(" AND effective_from <= ").bind(day).push(" AND (effective_until IS NULL OR effective_until > ");
        q.bind(day).push(")");
    }
    q.push(" ORDER BY id LIMIT ").bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let ids: Vec<Id> = sql::all(conn, q.build()).await?;
    load(conn, &ids.into_iter().map(|r| r.id).collect::<Vec<_>>()).await
}

/// The levels of `levels` that no scale defines.
pub async fn missing_levels(conn: &impl ConnectionTrait, levels: &[LevelRef]) -> Result<BTreeSet<LevelRef>> {
    let wanted: BTreeSet<&LevelRef> = levels.iter().collect();
    if wanted.is_empty() {
        return Ok(BTreeSet::new());
    }
    let pairs: Vec<(String, String)> = wanted.iter().map(|l| (l.scale.clone(), l.level.clone())).collect();
    #[derive(FromQueryResult)]
    struct Found {
        scale_code: String,
        code: String,
    }
    let rows: Vec<Found> = sql::all(
        conn,
        raw_sql!(Postgres, "SELECT scale_code, code FROM scale_levels WHERE (scale_code, code) IN ({..(pairs.0:1),})"),
    )
    .await?;
    let found: BTreeSet<LevelRef> = rows.into_iter().map(|r| LevelRef::new(r.scale_code, r.code)).collect();
    Ok(wanted.into_iter().filter(|l| !found.contains(*l)).cloned().collect())
}

/// The columns a spec sets, bound in this order: name, tier, category, leadership,
/// post title (and folded), period, legal basis.
type SpecValues = (
    String,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<String>,
    Option<String>,
    NaiveDate,
    Option<NaiveDate>,
    String,
);

fn spec_values(spec: &StandardSpec) -> SpecValues {
    let a = &spec.applies_to;
    (
        spec.display_name.clone(),
        a.tier.map(|t| t.stored()),
        a.category.map(Category::as_str),
        a.leadership.map(|l| l.stored()),
        a.post_title.clone(),
        a.post_title.as_deref().map(fold),
        spec.effective_from,
        spec.effective_until,
        spec.legal_basis.clone(),
    )
}

/// Inserts a standard and its minimums; its id.
pub async fn insert(conn: &impl ConnectionTrait, spec: &StandardSpec) -> Result<i64> {
    let (name, tier, category, leadership, title, folded, from, until, basis) = spec_values(spec);
    let now = Utc::now();
    let row: Option<Id> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO standards (name, tier, category, leadership, post_title, post_title_folded, \
             effective_from, effective_until, legal_basis, revision, create_time, update_time) \
             VALUES ({name}, {tier}, {category}, {leadership}, {title}, {folded}, {from}, {until}, {basis}, 1, \
             {now}, {now}) RETURNING id"
        ),
    )
    .await?;
    let id = row.map(|r| r.id).ok_or_else(|| Error::internal("inserting a standard returned no id"))?;
    insert_minimums(conn, id, &spec.minimums).await?;
    Ok(id)
}

async fn insert_minimums(conn: &impl ConnectionTrait, id: i64, minimums: &[LevelRef]) -> Result<()> {
    if minimums.is_empty() {
        return Ok(());
    }
    let rows: Vec<(i64, String, String)> = minimums.iter().map(|m| (id, m.scale.clone(), m.level.clone())).collect();
    sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO standard_minimums (standard_id, scale_code, level_code) VALUES {..(rows.0:2),}"
        ),
    )
    .await?;
    Ok(())
}

/// Writes `spec` over standard `id` if it is still at `revision` (its minimums too
/// when `minimums_changed`); whether it was.
pub async fn update(
    conn: &impl ConnectionTrait,
    id: i64,
    revision: i64,
    spec: &StandardSpec,
    minimums_changed: bool,
) -> Result<bool> {
    let (name, tier, category, leadership, title, folded, from, until, basis) = spec_values(spec);
    let now = Utc::now();
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE standards SET name = {name}, tier = {tier}, category = {category}, leadership = {leadership}, \
             post_title = {title}, post_title_folded = {folded}, effective_from = {from}, \
             effective_until = {until}, legal_basis = {basis}, revision = revision + 1, update_time = {now} \
             WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    if changed != 1 {
        return Ok(false);
    }
    if minimums_changed {
        sql::execute(conn, raw_sql!(Postgres, "DELETE FROM standard_minimums WHERE standard_id = {id}")).await?;
        insert_minimums(conn, id, &spec.minimums).await?;
    }
    Ok(true)
}

/// Deletes a standard and its minimums.
pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM standard_minimums WHERE standard_id = {id}")).await?;
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM standards WHERE id = {id}")).await?;
    Ok(())
}
