//! The SQL of the report engine, typed: every period of the person facts (streamed, for
//! a load), the periods of some people (for keeping up with the change log), and the
//! reference data of reports (the locality tree and the scales' levels).

use sea_orm::{ConnectionTrait, StreamTrait};
use tokio_stream::StreamExt as _;

use std::collections::HashMap;

use super::{
    columns::{Columns, Fact},
    movements::{MovementRow, Movements},
    reference::{Locality, Period, Reference},
    training::{EnrolmentRow, HistoryRow, Training},
};
use crate::{
    domain::locality::Tier,
    edge::enums::Table as _,
    error::Result,
    reports::queries::workforce::scale_levels,
    sql::{self, FromQueryResult, raw_sql},
};

/// People read per query when keeping up.
const CHUNK: usize = 1000;

/// Adds every period of `person_facts` in `conn`'s snapshot to `columns`, row by row as
/// they arrive (the whole table is never held as rows).
pub async fn load_all<C: ConnectionTrait + StreamTrait>(conn: &C, columns: &mut Columns) -> Result<()> {
    let statement = sql::on(
        conn,
        raw_sql!(
            Postgres,
            "SELECT person_id, valid_from, valid_until, locality_code, unit_id, sector, category, is_leader, \
             is_key_post, post_title_folded, birth_date, gender, ethnicity, levels, ratings FROM person_facts"
        ),
    );
    let rows = conn.stream_raw(statement).await?;
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = rows.next().await {
        columns.push(&Fact::from_query_result(&row?, "")?)?;
    }
    Ok(())
}

/// Every period of the facts of `people`.
pub async fn facts_of(conn: &impl ConnectionTrait, people: &[i64]) -> Result<Vec<Fact>> {
    let mut out = Vec::new();
    for ids in people.chunks(CHUNK) {
        let rows: Vec<Fact> = sql::all(
            conn,
            raw_sql!(
                Postgres,
                "SELECT person_id, valid_from, valid_until, locality_code, unit_id, sector, category, is_leader, \
                 is_key_post, post_title_folded, birth_date, gender, ethnicity, levels, ratings FROM person_facts \
                 WHERE person_id IN ({..ids})"
            ),
        )
        .await?;
        out.extend(rows);
    }
    Ok(out)
}

#[derive(Debug, FromQueryResult)]
struct Seq {
    seq: i64,
}

/// A one-row version table of a copy the engine holds (see the migrations creating
/// them).
#[derive(Debug, Clone, Copy)]
pub enum Versioned {
    /// `reference_version`: the locality tree and the scales' levels.
    Reference,
    /// `training_version`: enrolments, their history and target lines.
    Training,
    /// `movement_version`: rotations, their units and people's category.
    Movements,
}

/// The version of `what` in `conn`'s snapshot.
pub async fn version(conn: &impl ConnectionTrait, what: Versioned) -> Result<i64> {
    let statement = match what {
        Versioned::Reference => raw_sql!(Postgres, "SELECT seq FROM reference_version WHERE id = 1"),
        Versioned::Training => raw_sql!(Postgres, "SELECT seq FROM training_version WHERE id = 1"),
        Versioned::Movements => raw_sql!(Postgres, "SELECT seq FROM movement_version WHERE id = 1"),
    };
    let row: Option<Seq> = sql::one(conn, statement).await?;
    Ok(row.map_or(0, |r| r.seq))
}

#[derive(Debug, FromQueryResult)]
struct LocalityRow {
    code: String,
    tier: String,
}

#[derive(Debug, FromQueryResult)]
struct PeriodRow {
    code: String,
    valid_from: chrono::NaiveDate,
    valid_until: Option<chrono::NaiveDate>,
    name: String,
    parent_code: Option<String>,
}

#[derive(Debug, FromQueryResult)]
struct TagRow {
    code: String,
    tag: String,
}

#[derive(Debug, FromQueryResult)]
struct SuccessionRow {
    successor_code: String,
    predecessor_code: String,
}

/// The reference data in `conn`'s snapshot, at `version` (read in that snapshot).
pub async fn load_reference(conn: &impl ConnectionTrait, version: i64) -> Result<Reference> {
    let heads: Vec<LocalityRow> = sql::all(conn, raw_sql!(Postgres, "SELECT code, tier FROM localities")).await?;
    let mut localities: HashMap<String, Locality> = heads
        .into_iter()
        .map(|r| (r.code, Locality { tier: Tier::from_stored(&r.tier), ..Locality::default() }))
        .collect();
    let periods: Vec<PeriodRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT code, valid_from, valid_until, name, parent_code FROM locality_versions ORDER BY code, valid_from"
        ),
    )
    .await?;
    for row in periods {
        localities.entry(row.code).or_default().versions.push(Period {
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            name: row.name,
            parent: row.parent_code,
        });
    }
    let tags: Vec<TagRow> = sql::all(conn, raw_sql!(Postgres, "SELECT code, tag FROM locality_tags")).await?;
    for row in tags {
        localities.entry(row.code).or_default().tags.push(row.tag);
    }
    let successions: Vec<SuccessionRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT successor_code, predecessor_code FROM locality_links WHERE kind IN ('merge', 'rename')"
        ),
    )
    .await?;
    let levels = scale_levels(conn).await?;
    Ok(Reference::new(
        version,
        localities,
        successions.into_iter().map(|r| (r.successor_code, r.predecessor_code)).collect(),
        levels,
    ))
}

/// The training records in `conn`'s snapshot, at `version` (read in that snapshot).
pub async fn load_training(conn: &impl ConnectionTrait, version: i64) -> Result<Training> {
    let enrolments: Vec<EnrolmentRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT e.id, e.person_id, l.kind, l.scale_code, l.level_code FROM enrollments e \
             JOIN target_lines l ON l.plan_id = e.plan_id AND l.line_id = e.line_id"
        ),
    )
    .await?;
    let changes: Vec<HistoryRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT enrollment_id, seq, status, date FROM enrollment_history ORDER BY enrollment_id, seq"
        ),
    )
    .await?;
    Training::new(version, enrolments, &changes)
}

/// The movements in `conn`'s snapshot, at `version` (read in that snapshot).
pub async fn load_movements(conn: &impl ConnectionTrait, version: i64) -> Result<Movements> {
    let rows: Vec<MovementRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT r.kind, r.status, r.promoted, r.destination_leader, r.start_date, \
             COALESCE(r.actual_end_date, r.planned_end_date) AS end_date, \
             su.locality_code AS source_locality, su.sector AS source_sector, \
             du.locality_code AS destination_locality, du.sector AS destination_sector, pe.category \
             FROM rotations r JOIN units su ON su.id = r.source_unit_id \
             JOIN units du ON du.id = r.destination_unit_id JOIN people pe ON pe.id = r.person_id"
        ),
    )
    .await?;
    Movements::new(version, &rows)
}
