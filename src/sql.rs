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
//!
//! SQL whose shape depends on the request (optional filter terms, a scope CTE) is
//! assembled with [`Query`]: text and bound values pushed in order, numbered when the
//! statement is made, so that fragments compose without anyone counting placeholders.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value, Values};
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

/// SQL assembled from fragments and bound values.
///
/// ```ignore
/// let mut q = Query::new("SELECT id FROM units WHERE valid_from <= ");
/// q.bind(as_of).push(" AND sector IN (").bind_list(sectors).push(")");
/// let ids: Vec<IdRow> = sql::all(conn, q.build()).await?;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Query {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Value(Value),
}

impl Query {
    /// A query starting with `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self { parts: vec![Part::Text(text.into())] }
    }

    /// Appends SQL text (never a value: values are bound).
    pub fn push(&mut self, text: impl Into<String>) -> &mut Self {
        self.parts.push(Part::Text(text.into()));
        self
    }

    /// Appends a bound value.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.parts.push(Part::Value(value.into()));
        self
    }

    /// Appends bound values separated by commas (for `IN (…)`). An empty list writes
    /// `NULL`, which neither `IN` nor `NOT IN` matches: leave the term out instead.
    pub fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        let mut any = false;
        for value in values {
            if any {
                self.parts.push(Part::Text(", ".to_owned()));
            }
            self.parts.push(Part::Value(value.into()));
            any = true;
        }
        if !any {
            self.parts.push(Part::Text("NULL".to_owned()));
        }
        self
    }

    /// Appends another query's fragments and values.
    pub fn append(&mut self, other: Query) -> &mut Self {
        self.parts.extend(other.parts);
        self
    }

    /// The statement, parameters numbered `$1, $2, …` in order (both backends accept
    /// them); pass it to [`all`], [`one`], [`execute`] or [`count`], which set its backend.
    pub fn build(&self) -> Statement {
        let mut sql = String::new();
        let mut values = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => sql.push_str(text),
                Part::Value(value) => {
                    values.push(value.clone());
                    sql.push('$');
                    sql.push_str(&values.len().to_string());
                }
            }
        }
        Statement { sql, values: Some(Values(values)), db_backend: sea_orm::DbBackend::Postgres }
    }
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

/// How [`lock_row`] locks a row for the rest of its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Against any change: the row is about to change (or a decision rests on it
    /// that no other writer may take at the same time).
    Update,
    /// Against changes to it, while other writers may lock it too: something that
    /// must agree with the row (a placement within its unit's period, an enrolment in
    /// an open plan) is being written.
    Share,
}

/// Locks row `id` of `table` until the transaction ends, so that a check made on it in
/// the transaction still holds at commit; whether the row exists.
///
/// PostgreSQL takes the row lock (`FOR UPDATE` / `FOR SHARE`). SQLite has no row
/// locks and needs none: its writers are serialised (`BEGIN IMMEDIATE`), so nothing
/// changes between the check and the commit. `table` is one of the schema's table
/// names, never input.
pub async fn lock_row(conn: &impl ConnectionTrait, table: &'static str, id: i64, lock: Lock) -> Result<bool> {
    let clause = match (conn.get_database_backend(), lock) {
        (DbBackend::Postgres, Lock::Update) => " FOR UPDATE",
        (DbBackend::Postgres, Lock::Share) => " FOR SHARE",
        _ => "",
    };
    let mut query = Query::new(format!("SELECT COUNT(*) AS n FROM (SELECT id FROM {table} WHERE id = "));
    query.bind(id).push(format!("{clause}) l"));
    Ok(count(conn, query.build()).await? > 0)
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
    fn assembled_queries_number_their_values_in_order() {
        let mut cte = Query::new("WITH picked(id) AS (SELECT id FROM t WHERE id IN (");
        cte.bind_list([1_i64, 2]).push("))");
        let mut q = Query::new("");
        q.append(cte).push(" SELECT * FROM picked WHERE id > ").bind(0_i64).push(" AND id NOT IN (");
        q.bind_list(Vec::<i64>::new()).push(")");
        let statement = q.build();
        assert_eq!(
            statement.sql,
            "WITH picked(id) AS (SELECT id FROM t WHERE id IN ($1, $2)) SELECT * FROM picked WHERE id > $3 \
             AND id NOT IN (NULL)"
        );
        assert_eq!(statement.values.map(|v| v.0.len()), Some(3));
    }

    #[test]
    fn statements_take_the_backend_of_their_connection_and_number_their_parameters() {
        let (a, b) = (1_i64, "x");
        let statement = raw_sql!(Postgres, "SELECT {a}, {b}, {a}");
        assert_eq!(statement.sql, "SELECT $1, $2, $3");
        assert_eq!(statement.values.map(|v| v.0.len()), Some(3));
    }
}
