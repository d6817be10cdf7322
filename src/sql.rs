//! Typed queries, written once for both backends.
//!
//! A statement is written with sea-orm's `raw_sql!` and named parameters: `{id}` binds
//! the variable `id` (any `Into<Value> + Clone`, our domain types included), `{p.id}` a
//! field, `{..ids}` expands a list and `{..(rows.0:2),}` a list of tuples. It is always
//! written `raw_sql!(Postgres, …)`, which numbers the parameters `$1, $2, …`: SQLite
//! accepts that syntax too, so [`on`] only has to set the statement's backend to the
//! connection's. Rows come back as structs deriving [`FromQueryResult`], never by
//! column name:
//!
//! ```ignore
//! #[derive(FromQueryResult)]
//! struct UnitRow { id: i64, display_name: String }
//!
//! let rows = UnitRow::find_by_statement(sql::on(
//!     conn,
//!     raw_sql!(Postgres, "SELECT id, display_name FROM units WHERE locality_code = {code}"),
//! ))
//! .all(conn)
//! .await?;
//! ```
//!
//! (A `macro_rules!` wrapper around `raw_sql!` cannot see the caller's variables, by
//! macro hygiene; hence the small function.)

use sea_orm::{ConnectionTrait, Statement};
pub use sea_orm::{FromQueryResult, raw_sql};

use crate::error::Result;

/// `statement` (written with `raw_sql!(Postgres, …)`) for the backend of `conn`.
pub fn on(conn: &impl ConnectionTrait, mut statement: Statement) -> Statement {
    statement.db_backend = conn.get_database_backend();
    statement
}

/// Runs a statement that returns no rows; the number of rows it changed.
pub async fn execute(conn: &impl ConnectionTrait, statement: Statement) -> Result<u64> {
    Ok(conn.execute_raw(on(conn, statement)).await?.rows_affected())
}

/// Every row of a query.
pub async fn all<R: FromQueryResult>(conn: &impl ConnectionTrait, statement: Statement) -> Result<Vec<R>> {
    Ok(R::find_by_statement(on(conn, statement)).all(conn).await?)
}

/// The first row of a query, if any.
pub async fn one<R: FromQueryResult>(conn: &impl ConnectionTrait, statement: Statement) -> Result<Option<R>> {
    Ok(R::find_by_statement(on(conn, statement)).one(conn).await?)
}

/// A single value, such as `COUNT(*) AS n` read into [`Count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromQueryResult)]
pub struct Count {
    /// The value of the column `n`.
    pub n: i64,
}

/// The value of a `SELECT COUNT(*) AS n …` (0 when it returns no row).
pub async fn count(conn: &impl ConnectionTrait, statement: Statement) -> Result<i64> {
    Ok(one::<Count>(conn, statement).await?.map_or(0, |c| c.n))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use sea_orm::Database;

    use super::*;

    #[derive(Debug, PartialEq, FromQueryResult)]
    struct Row {
        id: i64,
        name: String,
        day: Option<NaiveDate>,
        flag: bool,
    }

    #[tokio::test]
    async fn named_parameters_lists_and_tuples_bind_on_sqlite() -> anyhow::Result<()> {
        let db = Database::connect("sqlite::memory:").await?;
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, day DATE, flag BOOLEAN)")
            .await?;
        let rows: Vec<(i64, &str, bool)> = vec![(1, "một", false), (2, "hai", true)];
        let written = execute(&db, raw_sql!(Postgres, "INSERT INTO t (id, name, flag) VALUES {..(rows.0:2),}")).await;
        assert_eq!(written.map_err(|e| anyhow::anyhow!("{e}"))?, 2);
        let (id, name, day, flag) = (3_i64, "ba", NaiveDate::from_ymd_opt(2025, 7, 1), true);
        execute(&db, raw_sql!(Postgres, "INSERT INTO t (id, name, day, flag) VALUES ({id}, {name}, {day}, {flag})"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let ids = [1_i64, 3];
        let got: Vec<Row> = all(
            &db,
            raw_sql!(
                Postgres,
                "SELECT id, name, day, flag FROM t WHERE id IN ({..ids}) AND name <> {name} ORDER BY id"
            ),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        assert_eq!(got, vec![Row { id: 1, name: "một".into(), day: None, flag: false }]);
        let n = count(&db, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM t WHERE day = {day}"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        assert_eq!(n, 1);
        Ok(())
    }

    #[test]
    fn statements_take_the_backend_of_their_connection_and_number_their_parameters() {
        let (a, b) = (1_i64, "x");
        let statement = raw_sql!(Postgres, "SELECT {a}, {b}, {a}");
        assert_eq!(statement.sql, "SELECT $1, $2, $3");
        assert_eq!(statement.values.map(|v| v.0.len()), Some(3));
    }
}
