//! Locality scope in SQL: which localities lie in the subtrees of a caller's roots.
//!
//! A locality is within a root's scope when the root is an ancestor of it in any
//! version of the tree (so a commune that moved from a district to its province stays
//! in the province's scope), or an ancestor of a locality it merged into or was
//! renamed to (so the successor of merged provinces sees their old subtrees).

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, Value};

use crate::domain::locality::Code;
use crate::{
    error::Result,
    sql::{self, FromQueryResult, Query, raw_sql},
};

#[derive(FromQueryResult)]
struct LocalityCode {
    locality_code: String,
}

/// The edges of the scope graph, `up` above `down`: every parent link of every
/// version, and every whole succession (merge, rename) from successor to predecessor.
/// (A common table expression `edges(up, down)`, to follow `WITH RECURSIVE`.)
pub const EDGES: &str = "edges(up, down) AS (\
    SELECT parent_code, code FROM locality_versions WHERE parent_code IS NOT NULL \
    UNION ALL \
    SELECT successor_code, predecessor_code FROM locality_links WHERE kind IN ('merge', 'rename'))";

/// Whether `code` lies within the scope of any of `roots`.
pub async fn is_within(conn: &impl ConnectionTrait, code: &Code, roots: &BTreeSet<Code>) -> Result<bool> {
    if roots.is_empty() {
        return Ok(false);
    }
    if roots.contains(code) {
        return Ok(true);
    }
    let mut q = Query::new(format!(
        "WITH RECURSIVE {EDGES}, \
         ups(code) AS (SELECT CAST("
    ));
    q.bind(code).push(" AS TEXT) UNION SELECT e.up FROM edges e JOIN ups u ON e.down = u.code) ");
    q.push("SELECT COUNT(*) AS n FROM ups WHERE code IN (").bind_list(roots.iter().map(|r| r.as_str().to_owned()));
    q.push(")");
    let n = sql::count(conn, q.build()).await?;
    Ok(n > 0)
}

/// A common table expression `scope_codes(code)` holding every locality within the
/// scope of `roots`, with its parameters for `?` placeholders; list queries join it to
/// leave out the rest. (For the queries not yet typed; typed ones use [`scope_codes`].)
pub fn scope_codes_cte(roots: &BTreeSet<Code>) -> (String, Vec<Value>) {
    let sql = format!(
        "{EDGES}, scope_codes(code) AS (\
         SELECT code FROM localities WHERE code IN ({}) \
         UNION SELECT e.down FROM edges e JOIN scope_codes s ON e.up = s.code)",
        vec!["?"; roots.len().max(1)].join(", ")
    );
    let mut values: Vec<Value> = roots.iter().map(|r| Value::from(r.as_str())).collect();
    if values.is_empty() {
        // No roots: a code that cannot exist, so the scope is empty.
        values.push("-".into());
    }
    (sql, values)
}

/// [`scope_codes_cte`] as a composable query fragment (`scope_codes(code) AS (…)`, to
/// follow `WITH RECURSIVE`).
pub fn scope_codes(roots: &BTreeSet<Code>) -> Query {
    let mut q = Query::new(format!("{EDGES}, scope_codes(code) AS (SELECT code FROM localities WHERE code IN ("));
    if roots.is_empty() {
        // No roots: a code that cannot exist, so the scope is empty.
        q.bind("-");
    } else {
        q.bind_list(roots.iter().map(|r| r.as_str().to_owned()));
    }
    q.push(") UNION SELECT e.down FROM edges e JOIN scope_codes s ON e.up = s.code)");
    q
}

/// The locality that places a person in a caller's scope on `day`: the locality of the
/// unit of the placement in force that day. With `latest_if_none`, a person placed
/// nowhere that day is placed by their most recent placement (so an editor can still
/// correct the records of someone who has left).
pub async fn person_locality(
    conn: &impl ConnectionTrait,
    person_id: i64,
    day: chrono::NaiveDate,
    latest_if_none: bool,
) -> Result<Option<Code>> {
    let placed: Option<LocalityCode> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT u.locality_code FROM placements p JOIN units u ON u.id = p.unit_id \
             WHERE p.person_id = {person_id} AND p.valid_from <= {day} \
             AND (p.valid_until IS NULL OR p.valid_until > {day})"
        ),
    )
    .await?;
    let row = match placed {
        Some(row) => Some(row),
        None if latest_if_none => {
            sql::one(
                conn,
                raw_sql!(
                    Postgres,
                    "SELECT u.locality_code FROM placements p JOIN units u ON u.id = p.unit_id \
                     WHERE p.person_id = {person_id} ORDER BY p.valid_from DESC LIMIT 1"
                ),
            )
            .await?
        }
        None => None,
    };
    Ok(row.map(|r| Code::from_db(r.locality_code)))
}

/// The locality of a unit, if the unit exists.
pub async fn unit_locality(conn: &impl ConnectionTrait, unit_id: i64) -> Result<Option<Code>> {
    let row: Option<LocalityCode> =
        sql::one(conn, raw_sql!(Postgres, "SELECT locality_code FROM units WHERE id = {unit_id}")).await?;
    Ok(row.map(|r| Code::from_db(r.locality_code)))
}
