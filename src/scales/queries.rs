//! The SQL of scales and levels, typed.

use std::collections::BTreeMap;

use sea_orm::ConnectionTrait;

use super::rules::{LevelRecord, ScaleRecord, order_levels};
use crate::{
    error::Result,
    sql::{self, FromQueryResult, raw_sql},
};

#[derive(Debug, FromQueryResult)]
struct ScaleRow {
    code: String,
    name: String,
    english_name: String,
}

#[derive(Debug, FromQueryResult)]
struct LevelRow {
    scale_code: String,
    code: String,
    rank: i32,
    name: String,
    english_name: String,
}

impl From<LevelRow> for LevelRecord {
    fn from(row: LevelRow) -> Self {
        Self {
            scale: row.scale_code,
            code: row.code,
            rank: row.rank,
            display_name: row.name,
            english_name: row.english_name,
        }
    }
}

/// Loads every scale (`only = None`) or one, ordered by code.
async fn load(conn: &impl ConnectionTrait, only: Option<&str>) -> Result<Vec<ScaleRecord>> {
    let (scales, levels): (Vec<ScaleRow>, Vec<LevelRow>) = match only {
        Some(code) => (
            sql::all(conn, raw_sql!(Postgres, "SELECT code, name, english_name FROM scales WHERE code = {code}"))
                .await?,
            sql::all(
                conn,
                raw_sql!(
                    Postgres,
                    "SELECT scale_code, code, rank, name, english_name FROM scale_levels WHERE scale_code = {code}"
                ),
            )
            .await?,
        ),
        None => (
            sql::all(conn, raw_sql!(Postgres, "SELECT code, name, english_name FROM scales")).await?,
            sql::all(conn, raw_sql!(Postgres, "SELECT scale_code, code, rank, name, english_name FROM scale_levels"))
                .await?,
        ),
    };
    // A BTreeMap keyed by code orders the scales byte-wise, like the levels.
    let mut records: BTreeMap<String, ScaleRecord> = scales
        .into_iter()
        .map(|s| {
            let record = ScaleRecord {
                code: s.code.clone(),
                display_name: s.name,
                english_name: s.english_name,
                levels: vec![],
            };
            (s.code, record)
        })
        .collect();
    for level in levels {
        if let Some(record) = records.get_mut(&level.scale_code) {
            record.levels.push(level.into());
        }
    }
    let mut records: Vec<ScaleRecord> = records.into_values().collect();
    for record in &mut records {
        order_levels(&mut record.levels);
    }
    Ok(records)
}

/// Every scale with its levels, ordered by code.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<ScaleRecord>> {
    load(conn, None).await
}

/// One scale with its levels.
pub async fn get(conn: &impl ConnectionTrait, code: &str) -> Result<Option<ScaleRecord>> {
    Ok(load(conn, Some(code)).await?.pop())
}

/// One level.
pub async fn level(conn: &impl ConnectionTrait, scale: &str, code: &str) -> Result<Option<LevelRecord>> {
    let row: Option<LevelRow> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT scale_code, code, rank, name, english_name FROM scale_levels \
             WHERE scale_code = {scale} AND code = {code}"
        ),
    )
    .await?;
    Ok(row.map(Into::into))
}

/// Whether scale `scale` exists.
pub async fn scale_exists(conn: &impl ConnectionTrait, scale: &str) -> Result<bool> {
    Ok(sql::count(conn, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM scales WHERE code = {scale}")).await? > 0)
}

/// Inserts a level.
pub async fn insert_level(conn: &impl ConnectionTrait, level: &LevelRecord) -> Result<()> {
    let (scale, code, rank) = (level.scale.as_str(), level.code.as_str(), level.rank);
    let (display_name, english_name) = (level.display_name.as_str(), level.english_name.as_str());
    sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO scale_levels (scale_code, code, rank, name, english_name) \
             VALUES ({scale}, {code}, {rank}, {display_name}, {english_name})"
        ),
    )
    .await?;
    Ok(())
}

/// Replaces the rank and labels of a level; whether it exists.
pub async fn update_level(conn: &impl ConnectionTrait, level: &LevelRecord) -> Result<bool> {
    let (scale, code, rank) = (level.scale.as_str(), level.code.as_str(), level.rank);
    let (display_name, english_name) = (level.display_name.as_str(), level.english_name.as_str());
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE scale_levels SET rank = {rank}, name = {display_name}, english_name = {english_name} \
             WHERE scale_code = {scale} AND code = {code}"
        ),
    )
    .await?;
    Ok(changed == 1)
}
