//! The SQL of the person facts, typed: rebuilding the facts of people marked pending,
//! in the transaction that marked them ([`flush`]) or afterwards ([`catch_up`]).

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

use super::changes;
use super::rules::{Episode, Held, OPEN_END, PersonBasics, Post, RATINGS_SEPARATOR, episodes, rating_entry};
use crate::{
    error::Result,
    sql::{self, FromQueryResult, Query, raw_sql},
};

/// People rebuilt per round of queries.
const CHUNK: usize = 1000;

/// People rebuilt per transaction when catching up outside a request.
const CATCH_UP_BATCH: i64 = 5000;

/// Fact rows inserted per statement (15 values each), well under both backends' limits
/// on parameters.
const INSERT_CHUNK: usize = 500;

#[derive(Debug, FromQueryResult)]
struct PersonId {
    person_id: i64,
}

/// Rebuilds, in `txn`, the facts of every person marked pending, and clears the marks.
/// Returns how many people were rebuilt.
pub async fn flush(txn: &DatabaseTransaction) -> Result<usize> {
    let rows: Vec<PersonId> =
        sql::all(txn, raw_sql!(Postgres, "DELETE FROM person_facts_pending RETURNING person_id")).await?;
    let mut ids: Vec<i64> = rows.into_iter().map(|r| r.person_id).collect();
    ids.sort_unstable();
    for chunk in ids.chunks(CHUNK) {
        rebuild(txn, chunk).await?;
    }
    // Last, so that the version's row lock is held only until the commit that follows.
    changes::record(txn, &ids).await?;
    Ok(ids.len())
}

/// Rebuilds the facts of everybody marked pending by writes that did not commit through
/// the unit of work (a migration, or SQL run by hand), in transactions of a few
/// thousand people; returns how many people were rebuilt. Run after migrating and by
/// the server's background task, never by a read.
///
/// Each batch claims its people by deleting their marks (`DELETE … RETURNING`), so that
/// replicas catching up at the same time rebuild each person once: on PostgreSQL a
/// second deleter waits for the first's row locks and then finds the marks gone; on
/// SQLite the writers are serialised (`BEGIN IMMEDIATE`).
pub async fn catch_up(db: &DatabaseConnection) -> Result<usize> {
    let mut total = 0;
    loop {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = db.begin_with_options(options).await?;
        let claimed: Vec<PersonId> = sql::all(
            &txn,
            raw_sql!(
                Postgres,
                "DELETE FROM person_facts_pending WHERE person_id IN \
                 (SELECT person_id FROM person_facts_pending ORDER BY person_id LIMIT {CATCH_UP_BATCH}) \
                 RETURNING person_id"
            ),
        )
        .await?;
        if claimed.is_empty() {
            txn.rollback().await?;
            return Ok(total);
        }
        let mut ids: Vec<i64> = claimed.into_iter().map(|r| r.person_id).collect();
        ids.sort_unstable();
        for chunk in ids.chunks(CHUNK) {
            rebuild(&txn, chunk).await?;
        }
        total += ids.len();
        changes::record(&txn, &ids).await?;
        // Nobody waits on this write and it has nothing to audit; the facts it writes
        // are the whole of it.
        #[expect(clippy::disallowed_methods, reason = "the facts' own rebuild commits what it rebuilt")]
        txn.commit().await?;
    }
}

/// Whether some person's facts wait to be rebuilt.
pub async fn any_pending(conn: &impl ConnectionTrait) -> Result<bool> {
    let row: Option<PersonId> =
        sql::one(conn, raw_sql!(Postgres, "SELECT person_id FROM person_facts_pending LIMIT 1")).await?;
    Ok(row.is_some())
}

/// A person as the facts keep them.
#[derive(Debug, FromQueryResult)]
struct PersonRow {
    id: i64,
    birth_date: NaiveDate,
    gender: String,
    ethnicity: String,
    category: String,
    employed_from: NaiveDate,
    employed_until: Option<NaiveDate>,
}

/// A placement with what the facts keep of it and of its unit.
#[derive(Debug, FromQueryResult)]
struct PlacementRow {
    person_id: i64,
    unit_id: i64,
    is_leader: bool,
    is_key_post: bool,
    post_title_folded: String,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    locality_code: String,
    sector: String,
}

/// A qualification with the rank of its level.
#[derive(Debug, FromQueryResult)]
struct HeldRow {
    person_id: i64,
    scale_code: String,
    level_code: String,
    rank: i32,
    awarded_on: NaiveDate,
}

/// An evaluation.
#[derive(Debug, FromQueryResult)]
struct RatingRow {
    person_id: i64,
    year: i32,
    rating: String,
}

/// Replaces the facts of `ids` with those derived from their records now.
async fn rebuild(txn: &DatabaseTransaction, ids: &[i64]) -> Result<()> {
    sql::execute(txn, raw_sql!(Postgres, "DELETE FROM person_facts WHERE person_id IN ({..ids})")).await?;

    let people: Vec<PersonRow> = sql::all(
        txn,
        raw_sql!(
            Postgres,
            "SELECT id, birth_date, gender, ethnicity, category, employed_from, employed_until \
             FROM people WHERE id IN ({..ids})"
        ),
    )
    .await?;
    // On PostgreSQL the unit and level rows read are locked against a concurrent
    // change until commit: a change to them marks (and so rebuilds) the people placed
    // in or holding them, and it must not commit between this read and this commit.
    // SQLite's writers are serialised, so nothing changes in between.
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    let placements = if postgres {
        raw_sql!(
            Postgres,
            "SELECT pl.person_id, pl.unit_id, pl.is_leader, pl.is_key_post, pl.post_title_folded, \
             pl.valid_from, pl.valid_until, u.locality_code, u.sector \
             FROM placements pl JOIN units u ON u.id = pl.unit_id \
             WHERE pl.person_id IN ({..ids}) ORDER BY pl.person_id, pl.valid_from FOR SHARE OF u"
        )
    } else {
        raw_sql!(
            Postgres,
            "SELECT pl.person_id, pl.unit_id, pl.is_leader, pl.is_key_post, pl.post_title_folded, \
             pl.valid_from, pl.valid_until, u.locality_code, u.sector \
             FROM placements pl JOIN units u ON u.id = pl.unit_id \
             WHERE pl.person_id IN ({..ids}) ORDER BY pl.person_id, pl.valid_from"
        )
    };
    let mut posts: HashMap<i64, Vec<PlacementRow>> = HashMap::new();
    for row in sql::all::<PlacementRow>(txn, placements).await? {
        posts.entry(row.person_id).or_default().push(row);
    }
    let qualifications = if postgres {
        raw_sql!(
            Postgres,
            "SELECT q.person_id, q.scale_code, q.level_code, l.rank, q.awarded_on FROM qualifications q \
             JOIN scale_levels l ON l.scale_code = q.scale_code AND l.code = q.level_code \
             WHERE q.person_id IN ({..ids}) FOR SHARE OF l"
        )
    } else {
        raw_sql!(
            Postgres,
            "SELECT q.person_id, q.scale_code, q.level_code, l.rank, q.awarded_on FROM qualifications q \
             JOIN scale_levels l ON l.scale_code = q.scale_code AND l.code = q.level_code \
             WHERE q.person_id IN ({..ids})"
        )
    };
    let mut held: HashMap<i64, Vec<Held>> = HashMap::new();
    for row in sql::all::<HeldRow>(txn, qualifications).await? {
        held.entry(row.person_id).or_default().push(Held {
            scale: row.scale_code,
            level: row.level_code,
            rank: row.rank,
            awarded_on: row.awarded_on,
        });
    }
    let mut ratings: HashMap<i64, String> = HashMap::new();
    let rated: Vec<RatingRow> = sql::all(
        txn,
        raw_sql!(
            Postgres,
            "SELECT person_id, year, rating FROM evaluations WHERE person_id IN ({..ids}) ORDER BY person_id, year"
        ),
    )
    .await?;
    for row in rated {
        let key = ratings.entry(row.person_id).or_insert_with(|| RATINGS_SEPARATOR.to_owned());
        key.push_str(&rating_entry(row.year, &row.rating));
    }

    let mut rows: Vec<Query> = Vec::new();
    for person in &people {
        let basics = PersonBasics { employed_from: person.employed_from, employed_until: person.employed_until };
        let Some(person_posts) = posts.get(&person.id) else { continue };
        let plain: Vec<Post> =
            person_posts.iter().map(|p| Post { valid_from: p.valid_from, valid_until: p.valid_until }).collect();
        let person_held = held.get(&person.id).map(Vec::as_slice).unwrap_or_default();
        let person_ratings = ratings.get(&person.id).cloned().unwrap_or_else(|| RATINGS_SEPARATOR.to_owned());
        for Episode { post, valid_from, valid_until, levels } in episodes(&basics, &plain, person_held) {
            let Some(p) = person_posts.get(post) else { continue };
            let mut row = Query::new("(");
            row.bind(person.id).push(", ").bind(valid_from).push(", ").bind(valid_until.unwrap_or(OPEN_END));
            row.push(", ").bind(p.locality_code.as_str()).push(", ").bind(p.unit_id);
            row.push(", ").bind(p.sector.as_str()).push(", ").bind(person.category.as_str());
            row.push(", ").bind(p.is_leader).push(", ").bind(p.is_key_post);
            row.push(", ").bind(p.post_title_folded.as_str()).push(", ").bind(person.birth_date);
            row.push(", ").bind(person.gender.as_str()).push(", ").bind(person.ethnicity.as_str());
            row.push(", ").bind(levels).push(", ").bind(person_ratings.as_str()).push(")");
            rows.push(row);
        }
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut insert = Query::new(format!("INSERT INTO person_facts ({FACT_COLUMNS}) VALUES "));
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                insert.push(", ");
            }
            insert.append(row.clone());
        }
        sql::execute(txn, insert.build()).await?;
    }
    Ok(())
}

const FACT_COLUMNS: &str = "person_id, valid_from, valid_until, locality_code, unit_id, sector, category, \
    is_leader, is_key_post, post_title_folded, birth_date, gender, ethnicity, levels, ratings";

/// A stored period of a person's facts.
#[derive(Debug, FromQueryResult)]
struct FactRow {
    person_id: i64,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    locality_code: String,
    unit_id: i64,
    sector: String,
    category: String,
    is_leader: bool,
    is_key_post: bool,
    post_title_folded: String,
    birth_date: NaiveDate,
    gender: String,
    ethnicity: String,
    levels: String,
    ratings: String,
}

/// The facts as stored, one sorted line per period.
async fn fact_lines(conn: &impl ConnectionTrait) -> Result<Vec<String>> {
    let rows: Vec<FactRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT person_id, valid_from, valid_until, locality_code, unit_id, sector, category, \
             is_leader, is_key_post, post_title_folded, birth_date, gender, ethnicity, levels, ratings \
             FROM person_facts"
        ),
    )
    .await?;
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} {:?} {} {} {} {} {} {} {} {} {} {} [{}] {}",
                r.person_id,
                r.valid_from,
                r.valid_until,
                r.locality_code,
                r.unit_id,
                r.sector,
                r.category,
                r.is_leader,
                r.is_key_post,
                r.post_title_folded,
                r.birth_date,
                r.gender,
                r.ethnicity,
                r.levels,
                r.ratings
            )
        })
        .collect();
    lines.sort();
    Ok(lines)
}

/// The facts as stored and as derived afresh from every record (in a transaction
/// rolled back afterwards), one sorted line per period: equal when the facts are in
/// step with the records. For tests and operators.
pub async fn stored_and_derived(db: &DatabaseConnection) -> Result<(Vec<String>, Vec<String>)> {
    let stored = fact_lines(db).await?;
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    let txn = db.begin_with_options(options).await?;
    sql::execute(&txn, raw_sql!(Postgres, "DELETE FROM person_facts_pending")).await?;
    sql::execute(&txn, raw_sql!(Postgres, "INSERT INTO person_facts_pending (person_id) SELECT id FROM people"))
        .await?;
    sql::execute(&txn, raw_sql!(Postgres, "DELETE FROM person_facts")).await?;
    flush(&txn).await?;
    let derived = fact_lines(&txn).await?;
    txn.rollback().await?;
    Ok((stored, derived))
}
