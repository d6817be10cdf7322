//! The people's queries moved to [`crate::people::queries`]; this path stays for the
//! features that still import it (the lead removes it once they have moved), with the
//! generic row writes those features still use.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Value};

use super::stmt;
use crate::error::{Error, Result};
pub use crate::people::queries::*;

/// Reserves `n` new ids of `table` inside a write transaction, so that a batch can be
/// inserted with ids known in advance. On PostgreSQL the ids come from the table's
/// sequence; on SQLite the write lock of the transaction makes `MAX(id) + 1…` safe.
pub async fn allocate_ids(txn: &DatabaseTransaction, table: &str, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).map_err(|_| Error::internal("too many ids requested"))?;
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            let sql = format!(
                "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id FROM generate_series(1, {count}) ORDER BY 1"
            );
            let rows = txn.query_all_raw(stmt(DbBackend::Postgres, &sql, vec![])).await?;
            rows.iter().map(|r| Ok(r.try_get::<i64>("", "id")?)).collect()
        }
        backend => {
            // AUTOINCREMENT never reuses the id of a deleted row: neither may we.
            let sql = format!(
                "SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), \
                 COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0)) AS id"
            );
            let row = txn.query_one_raw(stmt(backend, &sql, vec![])).await?;
            let max: i64 = match row {
                Some(row) => row.try_get("", "id")?,
                None => 0,
            };
            Ok((1..=count).map(|i| max + i).collect())
        }
    }
}

/// Updates a row's columns if its revision is still `expected` (any revision when
/// `None`), incrementing the revision. Returns whether a row was updated.
pub async fn update_row(
    txn: &DatabaseTransaction,
    table: &str,
    key: &[(&str, Value)],
    expected: Option<i64>,
    columns: Vec<(&str, Value)>,
) -> Result<bool> {
    let mut sets: Vec<String> = columns.iter().map(|(c, _)| format!("{c} = ?")).collect();
    sets.push("revision = revision + 1".to_owned());
    let mut values: Vec<Value> = columns.into_iter().map(|(_, v)| v).collect();
    let mut conditions: Vec<String> = key.iter().map(|(c, _)| format!("{c} = ?")).collect();
    values.extend(key.iter().map(|(_, v)| v.clone()));
    if let Some(revision) = expected {
        conditions.push("revision = ?".to_owned());
        values.push(revision.into());
    }
    let sql = format!("UPDATE {table} SET {} WHERE {}", sets.join(", "), conditions.join(" AND "));
    Ok(txn.execute_raw(stmt(txn.get_database_backend(), &sql, values)).await?.rows_affected() == 1)
}

/// Deletes a row if its revision is still `expected` (any when `None`). Returns whether
/// a row was deleted.
pub async fn delete_row(
    txn: &DatabaseTransaction,
    table: &str,
    key: &[(&str, Value)],
    expected: Option<i64>,
) -> Result<bool> {
    let mut conditions: Vec<String> = key.iter().map(|(c, _)| format!("{c} = ?")).collect();
    let mut values: Vec<Value> = key.iter().map(|(_, v)| v.clone()).collect();
    if let Some(revision) = expected {
        conditions.push("revision = ?".to_owned());
        values.push(revision.into());
    }
    let sql = format!("DELETE FROM {table} WHERE {}", conditions.join(" AND "));
    Ok(txn.execute_raw(stmt(txn.get_database_backend(), &sql, values)).await?.rows_affected() == 1)
}
