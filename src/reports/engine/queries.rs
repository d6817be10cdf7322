//! The SQL of the report engine, typed: every period of the person facts (streamed, for
//! a load), and the periods of some people (for keeping up with the change log).

use sea_orm::{ConnectionTrait, FromQueryResult as _, StreamTrait};
use tokio_stream::StreamExt as _;

use super::columns::{Columns, Fact};
use crate::{
    error::Result,
    sql::{self, raw_sql},
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
