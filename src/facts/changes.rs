//! The change log of the person facts (`fact_version`, `fact_changes`), which the
//! in-memory copies of the facts follow (see [`crate::reports::engine`]).
//!
//! Every transaction that rebuilds someone's facts ends, just before it commits, by
//! [`record`]ing them: it bumps the one row of `fact_version` and lists the people under
//! the new version. On PostgreSQL the bump's row lock is held until commit, so a second
//! writer gets its version only after the first has committed: versions are handed out
//! in commit order, and a snapshot that shows version V shows every version up to V.
//! On SQLite writers are serialised anyway. This holds whichever server process (or
//! script) writes, since it is the database that orders the versions.

use sea_orm::ConnectionTrait;

use crate::{
    error::Result,
    sql::{self, FromQueryResult, Query, raw_sql},
};

/// People listed per insert statement (two values each).
const INSERT_CHUNK: usize = 1000;

/// Versions kept in `fact_changes`: a reader further behind than this reloads all.
pub const RETAINED_VERSIONS: i64 = 10_000;

#[derive(Debug, FromQueryResult)]
struct Version {
    seq: i64,
}

#[derive(Debug, FromQueryResult)]
struct Changed {
    person_id: i64,
}

#[derive(Debug, FromQueryResult)]
struct Oldest {
    seq: Option<i64>,
}

/// Records, as the last write of the transaction, that the facts of `ids` were rebuilt;
/// returns the new version. Nothing is recorded for no one.
pub async fn record(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Option<i64>> {
    if ids.is_empty() {
        return Ok(None);
    }
    let bumped: Option<Version> =
        sql::one(conn, raw_sql!(Postgres, "UPDATE fact_version SET seq = seq + 1 WHERE id = 1 RETURNING seq")).await?;
    let Some(Version { seq }) = bumped else {
        return Err(crate::error::Error::internal("the fact_version row is missing"));
    };
    for chunk in ids.chunks(INSERT_CHUNK) {
        let mut q = Query::new("INSERT INTO fact_changes (seq, person_id) VALUES ");
        for (i, id) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" }).bind(seq).push(", ").bind(*id).push(")");
        }
        sql::execute(conn, q.build()).await?;
    }
    Ok(Some(seq))
}

/// The version of the facts in `conn`'s snapshot.
pub async fn version(conn: &impl ConnectionTrait) -> Result<i64> {
    let row: Option<Version> = sql::one(conn, raw_sql!(Postgres, "SELECT seq FROM fact_version WHERE id = 1")).await?;
    Ok(row.map_or(0, |r| r.seq))
}

/// The people whose facts changed after version `from` up to `to` (sorted, each once),
/// or `None` when some of those versions were pruned.
pub async fn changed_between(conn: &impl ConnectionTrait, from: i64, to: i64) -> Result<Option<Vec<i64>>> {
    let oldest: Option<Oldest> = sql::one(
        conn,
        raw_sql!(Postgres, "SELECT MIN(seq) AS seq FROM fact_changes WHERE seq > {from} AND seq <= {to}"),
    )
    .await?;
    // Every version lists at least one person, so the first version after `from`
    // missing means it was pruned.
    if oldest.and_then(|o| o.seq) != Some(from + 1) {
        return Ok(None);
    }
    let rows: Vec<Changed> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT DISTINCT person_id FROM fact_changes WHERE seq > {from} AND seq <= {to} ORDER BY person_id"
        ),
    )
    .await?;
    Ok(Some(rows.into_iter().map(|r| r.person_id).collect()))
}

/// Forgets the changes of versions more than [`RETAINED_VERSIONS`] old (a range of the
/// primary key); returns how many rows went.
pub async fn prune(conn: &impl ConnectionTrait) -> Result<u64> {
    let current = version(conn).await?;
    let below = current - RETAINED_VERSIONS;
    if below <= 0 {
        return Ok(0);
    }
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM fact_changes WHERE seq <= {below}")).await
}
