//! Person facts (`person_facts`): for each person, the periods over which everything a
//! report counts about them stays the same (see `domain::facts`).
//!
//! Triggers on people, placements, qualifications, units and scale levels mark the
//! people a write may change in `person_facts_pending`. [`flush`] rebuilds their facts
//! from their records in the writing transaction, and every write commits through
//! `store::commit`, which flushes first: committed facts are always in step with
//! committed records.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Value};

use super::{begin_write, commit_background, insert_rows, placeholders, stmt};
use crate::{
    domain::facts::{Episode, Held, PersonBasics, Post, episodes},
    error::Result,
};

/// The `valid_until` of a period still open: a date, not NULL, so that the periods in
/// force on a day are one range of the locality index (`valid_until > day`).
/// (9999-12-31 sorts after every real date as text too, as SQLite compares it.)
pub const OPEN_END: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(day) => day,
    None => NaiveDate::MAX,
};

/// Opens, closes and separates the entries of a person's ratings: `,2023=good,2024=excellent,`.
pub const RATINGS_SEPARATOR: &str = ",";

/// The entry of one year's rating in a person's ratings, followed by the separator: a
/// `LIKE '%,2024=good,%'` finds the people rated so that year.
pub fn rating_entry(year: i32, rating: &str) -> String {
    format!("{year}={rating}{RATINGS_SEPARATOR}")
}

/// People rebuilt per round of queries.
const CHUNK: usize = 1000;

/// People rebuilt per transaction when catching up outside a request.
const CATCH_UP_BATCH: u64 = 5000;

/// Rebuilds, in `txn`, the facts of every person marked pending, and clears the marks.
/// Returns how many people were rebuilt.
pub async fn flush(txn: &DatabaseTransaction) -> Result<usize> {
    let backend = txn.get_database_backend();
    let rows = txn.query_all_raw(stmt(backend, "DELETE FROM person_facts_pending RETURNING person_id", vec![])).await?;
    let mut ids = Vec::with_capacity(rows.len());
    for row in &rows {
        ids.push(row.try_get::<i64>("", "person_id")?);
    }
    ids.sort_unstable();
    for chunk in ids.chunks(CHUNK) {
        rebuild(txn, chunk).await?;
    }
    Ok(ids.len())
}

/// Rebuilds the facts of everybody marked pending by writes that did not commit through
/// `store::commit` (a migration, or SQL run by hand), in transactions of a few
/// thousand people. Returns how many people were rebuilt.
pub async fn catch_up(db: &DatabaseConnection) -> Result<usize> {
    let mut total = 0;
    loop {
        let txn = begin_write(db).await?;
        let rows = txn
            .query_all_raw(stmt(
                txn.get_database_backend(),
                "SELECT person_id FROM person_facts_pending ORDER BY person_id LIMIT ?",
                vec![CATCH_UP_BATCH.into()],
            ))
            .await?;
        if rows.is_empty() {
            txn.rollback().await?;
            return Ok(total);
        }
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            ids.push(row.try_get::<i64>("", "person_id")?);
        }
        for chunk in ids.chunks(CHUNK) {
            txn.execute_raw(stmt(
                txn.get_database_backend(),
                &format!("DELETE FROM person_facts_pending WHERE person_id IN ({})", placeholders(chunk.len())),
                chunk.iter().map(|id| Value::from(*id)).collect(),
            ))
            .await?;
            rebuild(&txn, chunk).await?;
        }
        total += ids.len();
        commit_background(txn).await?;
    }
}

/// Whether some person's facts wait to be rebuilt.
pub async fn any_pending(conn: &impl ConnectionTrait) -> Result<bool> {
    let row = conn
        .query_one_raw(stmt(conn.get_database_backend(), "SELECT person_id FROM person_facts_pending LIMIT 1", vec![]))
        .await?;
    Ok(row.is_some())
}

/// A placement with what the facts keep of it.
struct PostRow {
    post: Post,
    unit_id: i64,
    locality_code: String,
    sector: String,
    is_leader: bool,
    is_key_post: bool,
    post_title_folded: String,
}

/// Replaces the facts of `ids` with those derived from their records now.
async fn rebuild(txn: &DatabaseTransaction, ids: &[i64]) -> Result<()> {
    let backend = txn.get_database_backend();
    let list = placeholders(ids.len());
    let id_values = || ids.iter().map(|id| Value::from(*id)).collect::<Vec<_>>();
    txn.execute_raw(stmt(backend, &format!("DELETE FROM person_facts WHERE person_id IN ({list})"), id_values()))
        .await?;

    // On PostgreSQL the unit and level rows read are locked against a concurrent
    // change until commit: a change to them marks (and so rebuilds) the people placed
    // in or holding them, and it must not commit between this read and this commit.
    let (lock_units, lock_levels) =
        if backend == DbBackend::Postgres { (" FOR SHARE OF u", " FOR SHARE OF l") } else { ("", "") };
    let people = txn
        .query_all_raw(stmt(
            backend,
            &format!(
                "SELECT id, birth_date, gender, ethnicity, category, employed_from, employed_until \
                 FROM people WHERE id IN ({list})"
            ),
            id_values(),
        ))
        .await?;
    let mut posts: HashMap<i64, Vec<PostRow>> = HashMap::new();
    for row in txn
        .query_all_raw(stmt(
            backend,
            &format!(
                "SELECT pl.person_id, pl.unit_id, pl.is_leader, pl.is_key_post, pl.post_title_folded, \
                 pl.valid_from, pl.valid_until, u.locality_code, u.sector \
                 FROM placements pl JOIN units u ON u.id = pl.unit_id \
                 WHERE pl.person_id IN ({list}) ORDER BY pl.person_id, pl.valid_from{lock_units}"
            ),
            id_values(),
        ))
        .await?
    {
        posts.entry(row.try_get("", "person_id")?).or_default().push(PostRow {
            post: Post { valid_from: row.try_get("", "valid_from")?, valid_until: row.try_get("", "valid_until")? },
            unit_id: row.try_get("", "unit_id")?,
            locality_code: row.try_get("", "locality_code")?,
            sector: row.try_get("", "sector")?,
            is_leader: row.try_get("", "is_leader")?,
            is_key_post: row.try_get("", "is_key_post")?,
            post_title_folded: row.try_get("", "post_title_folded")?,
        });
    }
    let mut held: HashMap<i64, Vec<Held>> = HashMap::new();
    for row in txn
        .query_all_raw(stmt(
            backend,
            &format!(
                "SELECT q.person_id, q.scale_code, q.level_code, l.rank, q.awarded_on FROM qualifications q \
                 JOIN scale_levels l ON l.scale_code = q.scale_code AND l.code = q.level_code \
                 WHERE q.person_id IN ({list}){lock_levels}"
            ),
            id_values(),
        ))
        .await?
    {
        held.entry(row.try_get("", "person_id")?).or_default().push(Held {
            scale: row.try_get("", "scale_code")?,
            level: row.try_get("", "level_code")?,
            rank: row.try_get("", "rank")?,
            awarded_on: row.try_get("", "awarded_on")?,
        });
    }

    let mut ratings: HashMap<i64, String> = HashMap::new();
    for row in txn
        .query_all_raw(stmt(
            backend,
            &format!(
                "SELECT person_id, year, rating FROM evaluations WHERE person_id IN ({list}) ORDER BY person_id, year"
            ),
            id_values(),
        ))
        .await?
    {
        let key = ratings.entry(row.try_get("", "person_id")?).or_insert_with(|| RATINGS_SEPARATOR.to_owned());
        key.push_str(&rating_entry(row.try_get("", "year")?, &row.try_get::<String>("", "rating")?));
    }

    let mut rows: Vec<Vec<Value>> = Vec::new();
    for person in &people {
        let id: i64 = person.try_get("", "id")?;
        let basics = PersonBasics {
            employed_from: person.try_get("", "employed_from")?,
            employed_until: person.try_get("", "employed_until")?,
        };
        let Some(person_posts) = posts.get(&id) else { continue };
        let plain: Vec<Post> = person_posts.iter().map(|p| p.post.clone()).collect();
        let person_held = held.get(&id).map(Vec::as_slice).unwrap_or_default();
        let birth_date: NaiveDate = person.try_get("", "birth_date")?;
        let gender: String = person.try_get("", "gender")?;
        let ethnicity: String = person.try_get("", "ethnicity")?;
        let category: String = person.try_get("", "category")?;
        let person_ratings = ratings.get(&id).cloned().unwrap_or_else(|| RATINGS_SEPARATOR.to_owned());
        for Episode { post, valid_from, valid_until, levels } in episodes(&basics, &plain, person_held) {
            let Some(p) = person_posts.get(post) else { continue };
            rows.push(vec![
                id.into(),
                valid_from.into(),
                valid_until.unwrap_or(OPEN_END).into(),
                p.locality_code.as_str().into(),
                p.unit_id.into(),
                p.sector.as_str().into(),
                category.as_str().into(),
                p.is_leader.into(),
                p.is_key_post.into(),
                p.post_title_folded.as_str().into(),
                birth_date.into(),
                gender.as_str().into(),
                ethnicity.as_str().into(),
                levels.into(),
                person_ratings.as_str().into(),
            ]);
        }
    }
    insert_rows(txn, &format!("person_facts ({FACT_COLUMNS})"), 15, rows).await
}

const FACT_COLUMNS: &str = "person_id, valid_from, valid_until, locality_code, unit_id, sector, category, \
    is_leader, is_key_post, post_title_folded, birth_date, gender, ethnicity, levels, ratings";

/// The facts as stored, one sorted line per period.
async fn fact_lines(conn: &impl ConnectionTrait) -> Result<Vec<String>> {
    let sql = format!("SELECT {FACT_COLUMNS} FROM person_facts");
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, vec![])).await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in &rows {
        lines.push(format!(
            "{} {} {:?} {} {} {} {} {} {} {} {} {} {} [{}] {}",
            row.try_get::<i64>("", "person_id")?,
            row.try_get::<NaiveDate>("", "valid_from")?,
            row.try_get::<NaiveDate>("", "valid_until")?,
            row.try_get::<String>("", "locality_code")?,
            row.try_get::<i64>("", "unit_id")?,
            row.try_get::<String>("", "sector")?,
            row.try_get::<String>("", "category")?,
            row.try_get::<bool>("", "is_leader")?,
            row.try_get::<bool>("", "is_key_post")?,
            row.try_get::<String>("", "post_title_folded")?,
            row.try_get::<NaiveDate>("", "birth_date")?,
            row.try_get::<String>("", "gender")?,
            row.try_get::<String>("", "ethnicity")?,
            row.try_get::<String>("", "levels")?,
            row.try_get::<String>("", "ratings")?,
        ));
    }
    lines.sort();
    Ok(lines)
}

/// The facts as stored and as derived afresh from every record (in a transaction
/// rolled back afterwards), one sorted line per period: equal when the facts are in
/// step with the records. For tests and operators.
pub async fn stored_and_derived(db: &DatabaseConnection) -> Result<(Vec<String>, Vec<String>)> {
    let backend = db.get_database_backend();
    let stored = fact_lines(db).await?;
    let txn = begin_write(db).await?;
    txn.execute_raw(stmt(backend, "DELETE FROM person_facts_pending", vec![])).await?;
    txn.execute_raw(stmt(backend, "INSERT INTO person_facts_pending (person_id) SELECT id FROM people", vec![]))
        .await?;
    txn.execute_raw(stmt(backend, "DELETE FROM person_facts", vec![])).await?;
    flush(&txn).await?;
    let derived = fact_lines(&txn).await?;
    txn.rollback().await?;
    Ok((stored, derived))
}
