//! Qualification scales and their levels: reads, and the two writes an admin makes
//! (add a level, change a level's rank or labels), each audited in its transaction.

use std::{cmp::Reverse, collections::BTreeMap};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, Value};
use serde_json::json;

use super::{audit, begin_write, stmt};
use crate::{
    context::RequestContext,
    error::{Error, Result},
};

/// A level of a scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRecord {
    /// The scale's code, such as `professional`.
    pub scale: String,
    /// The level's code, such as `master`.
    pub code: String,
    /// Higher is better; equal ranks are equivalent.
    pub rank: i32,
    /// Vietnamese label, in NFC.
    pub display_name: String,
    /// English label, in NFC.
    pub english_name: String,
}

impl LevelRecord {
    /// The resource name, `scales/{scale}/levels/{level}`.
    pub fn name(&self) -> String {
        format!("{}/levels/{}", scale_name(&self.scale), self.code)
    }
}

/// A scale with its levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleRecord {
    /// The scale's code, such as `professional`.
    pub code: String,
    /// Vietnamese name.
    pub display_name: String,
    /// English name.
    pub english_name: String,
    /// The levels, highest rank first, then by code.
    pub levels: Vec<LevelRecord>,
}

/// The resource name of a scale, `scales/{scale}`.
pub fn scale_name(code: &str) -> String {
    format!("scales/{code}")
}

/// Orders levels highest rank first and equal ranks by code, byte-wise, so that the
/// order is the same whatever the database's collation.
fn order_levels(levels: &mut [LevelRecord]) {
    levels.sort_by(|a, b| (Reverse(a.rank), a.code.as_bytes()).cmp(&(Reverse(b.rank), b.code.as_bytes())));
}

/// Loads every scale (`only = None`) or one, ordered by code.
async fn load(conn: &impl ConnectionTrait, only: Option<&str>) -> Result<Vec<ScaleRecord>> {
    let backend = conn.get_database_backend();
    let (scale_filter, level_filter, values): (&str, &str, Vec<Value>) = match only {
        Some(code) => (" WHERE code = ?", " WHERE scale_code = ?", vec![code.into()]),
        None => ("", "", Vec::new()),
    };
    let scale_rows = conn
        .query_all_raw(stmt(
            backend,
            &format!("SELECT code, name, english_name FROM scales{scale_filter}"),
            values.clone(),
        ))
        .await?;
    let mut scales = BTreeMap::new();
    for row in &scale_rows {
        let code: String = row.try_get("", "code")?;
        scales.insert(
            code.clone(),
            ScaleRecord {
                code,
                display_name: row.try_get("", "name")?,
                english_name: row.try_get("", "english_name")?,
                levels: Vec::new(),
            },
        );
    }
    if scales.is_empty() {
        return Ok(Vec::new());
    }
    let level_rows = conn
        .query_all_raw(stmt(
            backend,
            &format!("SELECT scale_code, code, rank, name, english_name FROM scale_levels{level_filter}"),
            values,
        ))
        .await?;
    for row in &level_rows {
        let scale: String = row.try_get("", "scale_code")?;
        if let Some(record) = scales.get_mut(&scale) {
            record.levels.push(LevelRecord {
                scale,
                code: row.try_get("", "code")?,
                rank: row.try_get("", "rank")?,
                display_name: row.try_get("", "name")?,
                english_name: row.try_get("", "english_name")?,
            });
        }
    }
    // A BTreeMap keyed by code orders the scales byte-wise, like the levels.
    let mut records: Vec<ScaleRecord> = scales.into_values().collect();
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

async fn load_level(txn: &DatabaseTransaction, scale: &str, code: &str) -> Result<Option<LevelRecord>> {
    let row = txn
        .query_one_raw(stmt(
            txn.get_database_backend(),
            "SELECT rank, name, english_name FROM scale_levels WHERE scale_code = ? AND code = ?",
            vec![scale.into(), code.into()],
        ))
        .await?;
    row.map(|row| {
        Ok(LevelRecord {
            scale: scale.to_owned(),
            code: code.to_owned(),
            rank: row.try_get("", "rank")?,
            display_name: row.try_get("", "name")?,
            english_name: row.try_get("", "english_name")?,
        })
    })
    .transpose()
}

async fn scale_exists(txn: &DatabaseTransaction, scale: &str) -> Result<bool> {
    let row = txn
        .query_one_raw(stmt(
            txn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM scales WHERE code = ?",
            vec![scale.into()],
        ))
        .await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(n > 0)
}

/// Adds a level to an existing scale.
pub async fn create_level(db: &DatabaseConnection, ctx: &RequestContext, level: &LevelRecord) -> Result<LevelRecord> {
    let txn = begin_write(db).await?;
    if !scale_exists(&txn, &level.scale).await? {
        return Err(Error::NotFound(scale_name(&level.scale)));
    }
    if load_level(&txn, &level.scale, &level.code).await?.is_some() {
        return Err(Error::AlreadyExists(level.name()));
    }
    txn.execute_raw(stmt(
        txn.get_database_backend(),
        "INSERT INTO scale_levels (scale_code, code, rank, name, english_name) VALUES (?, ?, ?, ?, ?)",
        vec![
            level.scale.as_str().into(),
            level.code.as_str().into(),
            level.rank.into(),
            level.display_name.as_str().into(),
            level.english_name.as_str().into(),
        ],
    ))
    .await?;
    audit::record(
        &txn,
        &ctx.principal.subject,
        "CreateLevel",
        &level.name(),
        None,
        json!({ "rank": level.rank, "display_name": level.display_name, "english_name": level.english_name }),
    )
    .await?;
    let created = load_level(&txn, &level.scale, &level.code)
        .await?
        .ok_or_else(|| Error::internal("created scale level vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(created)
}

/// Replaces the rank and labels of an existing level.
pub async fn update_level(db: &DatabaseConnection, ctx: &RequestContext, level: &LevelRecord) -> Result<LevelRecord> {
    let txn = begin_write(db).await?;
    let Some(before) = load_level(&txn, &level.scale, &level.code).await? else {
        return Err(Error::NotFound(level.name()));
    };
    txn.execute_raw(stmt(
        txn.get_database_backend(),
        "UPDATE scale_levels SET rank = ?, name = ?, english_name = ? WHERE scale_code = ? AND code = ?",
        vec![
            level.rank.into(),
            level.display_name.as_str().into(),
            level.english_name.as_str().into(),
            level.scale.as_str().into(),
            level.code.as_str().into(),
        ],
    ))
    .await?;
    // The previous rank is kept: a changed rank changes every "X or higher" figure.
    audit::record(
        &txn,
        &ctx.principal.subject,
        "UpdateLevel",
        &level.name(),
        None,
        json!({
            "rank": { "from": before.rank, "to": level.rank },
            "display_name": level.display_name,
            "english_name": level.english_name,
        }),
    )
    .await?;
    let updated = load_level(&txn, &level.scale, &level.code)
        .await?
        .ok_or_else(|| Error::internal("updated scale level vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(code: &str, rank: i32) -> LevelRecord {
        LevelRecord {
            scale: "professional".to_owned(),
            code: code.to_owned(),
            rank,
            display_name: code.to_owned(),
            english_name: code.to_owned(),
        }
    }

    #[test]
    fn levels_are_ordered_by_rank_descending_then_code() {
        let mut levels = vec![
            level("university", 50),
            level("medical_specialist_1", 60),
            level("doctorate", 70),
            level("master", 60),
        ];
        order_levels(&mut levels);
        let codes: Vec<&str> = levels.iter().map(|l| l.code.as_str()).collect();
        assert_eq!(codes, ["doctorate", "master", "medical_specialist_1", "university"]);
    }

    #[test]
    fn level_names_nest_under_their_scale() {
        assert_eq!(level("master", 60).name(), "scales/professional/levels/master");
    }
}
