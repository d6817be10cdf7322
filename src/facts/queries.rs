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

/// People rebuilt per round of queries: large enough that the round trips do not
/// count, small enough that a round's rows stay a few megabytes.
const CHUNK: usize = 5000;

/// People rebuilt per transaction when catching up outside a request.
const CATCH_UP_BATCH: i64 = 10_000;

/// Fact rows inserted per statement on SQLite (15 values each), well under its limit
/// on parameters. PostgreSQL inserts a whole round in one statement of 15 arrays.
const INSERT_CHUNK: usize = 500;

#[derive(Debug, FromQueryResult)]
struct PersonId {
    person_id: i64,
}

/// Rebuilds, in `txn`, the facts of every person this transaction marked pending, and
/// clears their marks. Returns how many people were rebuilt.
///
/// On PostgreSQL the marks carry the id of the transaction that made them, indexed:
/// the delete touches this transaction's marks only, however many marks (or, before
/// vacuum, dead rows) others left in the table. A mark left by a write around the
/// server and touched again here was taken over by this transaction's trigger, so every
/// person whose records this transaction changed is rebuilt before it commits. On
/// SQLite writers are serialised and each server write flushes before it commits, so
/// the table holds only this transaction's marks and those of writes around the
/// server (rebuilt here too, harmlessly): the plain delete reads no more than that.
pub async fn flush(txn: &DatabaseTransaction) -> Result<usize> {
    let claim = if txn.get_database_backend() == DbBackend::Postgres {
        // `_if_assigned`: a transaction that has written nothing has no id, and no marks.
        raw_sql!(
            Postgres,
            "DELETE FROM person_facts_pending WHERE txid = pg_current_xact_id_if_assigned() RETURNING person_id"
        )
    } else {
        raw_sql!(Postgres, "DELETE FROM person_facts_pending RETURNING person_id")
    };
    let rows: Vec<PersonId> = sql::all(txn, claim).await?;
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

/// A placement with what the facts keep of it.
#[derive(Debug, FromQueryResult)]
struct PlacementRow {
    person_id: i64,
    unit_id: i64,
    is_leader: bool,
    is_key_post: bool,
    post_title_folded: String,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
}

/// What the facts keep of a unit.
#[derive(Debug, FromQueryResult)]
struct UnitRow {
    id: i64,
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

/// Restricts the rows of the `FROM` clause just written to those whose `column` is
/// among `ids` (at least one): on PostgreSQL a join with one array parameter (sent in its
/// text form, which needs no array support in the driver), whose text is the same
/// whatever the count; on SQLite a `WHERE … IN` list. For small tables (the units).
fn only(column: &str, ids: &[i64], postgres: bool) -> Query {
    let mut q = Query::new("");
    if postgres {
        q.push(" JOIN UNNEST(CAST(").bind(array(ids.iter().map(ToString::to_string)));
        q.push(format!(" AS bigint[])) AS chosen (id) ON chosen.id = {column}"));
    } else {
        q.push(format!(" WHERE {column} IN (")).bind_list(ids.iter().copied()).push(")");
    }
    q
}

/// The rows of `table` (as `alias`) whose `column`, the first column of an index, is
/// among `ids` (at least one): a `FROM` clause, then what goes where the `WHERE` clause
/// would (empty on PostgreSQL), so that joins can be written between the two.
///
/// On PostgreSQL each id is looked up through the index (a lateral subquery behind
/// `OFFSET 0`, which the planner cannot flatten into a plain join): a join of a few
/// thousand ids with the whole table was planned as a hash join over a sequential scan
/// of it, half a second per chunk on 250,000 people and ten times that on the whole
/// country, on the path of every bulk write.
///
/// The subquery selects `columns` (`*`, or `ctid`, which `*` leaves out).
fn chosen_rows(table: &str, alias: &str, column: &str, columns: &str, ids: &[i64], postgres: bool) -> (Query, Query) {
    let (mut from, mut filter) = (Query::new(""), Query::new(""));
    if postgres {
        from.push(" FROM UNNEST(CAST(").bind(array(ids.iter().map(ToString::to_string)));
        from.push(format!(
            " AS bigint[])) AS chosen (id) CROSS JOIN LATERAL \
             (SELECT {columns} FROM {table} WHERE {column} = chosen.id OFFSET 0) AS {alias}"
        ));
    } else {
        from.push(format!(" FROM {table} {alias}"));
        filter.push(format!(" WHERE {alias}.{column} IN (")).bind_list(ids.iter().copied()).push(")");
    }
    (from, filter)
}

/// The text form of a PostgreSQL array of `items`, each quoted (so that any text,
/// commas and braces included, comes back as it went).
fn array(items: impl IntoIterator<Item = String>) -> String {
    let mut out = String::from("{");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in item.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// A fact row about to be written.
struct Fact<'a> {
    person: &'a PersonRow,
    post: &'a PlacementRow,
    unit: &'a UnitRow,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    levels: String,
    ratings: &'a str,
}

/// Replaces the facts of `ids` with those derived from their records now.
async fn rebuild(txn: &DatabaseTransaction, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    let mut delete = Query::new("DELETE FROM person_facts");
    if postgres {
        // By the rows' ids, found through the index (see `chosen_rows`).
        let (from, _) = chosen_rows("person_facts", "f", "person_id", "ctid", ids, postgres);
        delete.push(" WHERE ctid = ANY(ARRAY(SELECT f.ctid").append(from).push("))");
    } else {
        delete.push(" WHERE person_id IN (").bind_list(ids.iter().copied()).push(")");
    }
    sql::execute(txn, delete.build()).await?;

    let mut q =
        Query::new("SELECT p.id, p.birth_date, p.gender, p.ethnicity, p.category, p.employed_from, p.employed_until");
    let (from, filter) = chosen_rows("people", "p", "id", "*", ids, postgres);
    q.append(from).append(filter);
    let people: Vec<PersonRow> = sql::all(txn, q.build()).await?;

    let mut q = Query::new(
        "SELECT pl.person_id, pl.unit_id, pl.is_leader, pl.is_key_post, pl.post_title_folded, pl.valid_from, \
         pl.valid_until",
    );
    let (from, filter) = chosen_rows("placements", "pl", "person_id", "*", ids, postgres);
    q.append(from).append(filter).push(" ORDER BY pl.person_id, pl.valid_from");
    let mut posts: HashMap<i64, Vec<PlacementRow>> = HashMap::new();
    for row in sql::all::<PlacementRow>(txn, q.build()).await? {
        posts.entry(row.person_id).or_default().push(row);
    }

    // On PostgreSQL the unit and level rows read are locked against a concurrent
    // change until commit: a change to them marks (and so rebuilds) the people placed
    // in or holding them as that transaction sees them, and it must not commit between
    // this read and this commit (it would miss a placement or qualification this
    // transaction adds). Each row is locked once, by id, not once per placement: the
    // lock is the same, the work a fraction. SQLite's writers are serialised, so
    // nothing changes in between.
    let mut unit_ids: Vec<i64> = posts.values().flatten().map(|p| p.unit_id).collect();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let mut units: HashMap<i64, UnitRow> = HashMap::new();
    if !unit_ids.is_empty() {
        let mut q = Query::new("SELECT u.id, u.locality_code, u.sector FROM units u");
        q.append(only("u.id", &unit_ids, postgres));
        if postgres {
            q.push(" ORDER BY u.id FOR SHARE OF u");
        }
        units = sql::all::<UnitRow>(txn, q.build()).await?.into_iter().map(|u| (u.id, u)).collect();
    }

    let mut q = Query::new("SELECT q.person_id, q.scale_code, q.level_code, l.rank, q.awarded_on");
    let (from, filter) = chosen_rows("qualifications", "q", "person_id", "*", ids, postgres);
    q.append(from).push(" JOIN scale_levels l ON l.scale_code = q.scale_code AND l.code = q.level_code");
    q.append(filter);
    if postgres {
        q.push(" FOR SHARE OF l");
    }
    let mut held: HashMap<i64, Vec<Held>> = HashMap::new();
    for row in sql::all::<HeldRow>(txn, q.build()).await? {
        held.entry(row.person_id).or_default().push(Held {
            scale: row.scale_code,
            level: row.level_code,
            rank: row.rank,
            awarded_on: row.awarded_on,
        });
    }

    let mut q = Query::new("SELECT e.person_id, e.year, e.rating");
    let (from, filter) = chosen_rows("evaluations", "e", "person_id", "*", ids, postgres);
    q.append(from).append(filter).push(" ORDER BY e.person_id, e.year");
    let mut ratings: HashMap<i64, String> = HashMap::new();
    for row in sql::all::<RatingRow>(txn, q.build()).await? {
        let key = ratings.entry(row.person_id).or_insert_with(|| RATINGS_SEPARATOR.to_owned());
        key.push_str(&rating_entry(row.year, &row.rating));
    }

    let mut facts: Vec<Fact<'_>> = Vec::new();
    for person in &people {
        let basics = PersonBasics { employed_from: person.employed_from, employed_until: person.employed_until };
        let Some(person_posts) = posts.get(&person.id) else { continue };
        let plain: Vec<Post> =
            person_posts.iter().map(|p| Post { valid_from: p.valid_from, valid_until: p.valid_until }).collect();
        let person_held = held.get(&person.id).map(Vec::as_slice).unwrap_or_default();
        let person_ratings = ratings.get(&person.id).map_or(RATINGS_SEPARATOR, String::as_str);
        for Episode { post, valid_from, valid_until, levels } in episodes(&basics, &plain, person_held) {
            let Some(p) = person_posts.get(post) else { continue };
            let Some(unit) = units.get(&p.unit_id) else { continue };
            facts.push(Fact {
                person,
                post: p,
                unit,
                valid_from,
                valid_until: valid_until.unwrap_or(OPEN_END),
                levels,
                ratings: person_ratings,
            });
        }
    }
    if postgres { insert_arrays(txn, &facts).await } else { insert_rows(txn, &facts).await }
}

/// Writes `facts` in one statement over 15 arrays (PostgreSQL): one parameter per
/// column whatever the number of rows, parsed by the server in bulk.
async fn insert_arrays(txn: &DatabaseTransaction, facts: &[Fact<'_>]) -> Result<()> {
    if facts.is_empty() {
        return Ok(());
    }
    let column = |f: &dyn Fn(&Fact<'_>) -> String| array(facts.iter().map(f));
    let flag = |b: bool| if b { "t" } else { "f" }.to_owned();
    let mut q = Query::new(format!("INSERT INTO person_facts ({FACT_COLUMNS}) SELECT * FROM UNNEST("));
    let columns: [(String, &str); 15] = [
        (column(&|f| f.person.id.to_string()), "bigint"),
        (column(&|f| f.valid_from.to_string()), "date"),
        (column(&|f| f.valid_until.to_string()), "date"),
        (column(&|f| f.unit.locality_code.clone()), "text"),
        (column(&|f| f.post.unit_id.to_string()), "bigint"),
        (column(&|f| f.unit.sector.clone()), "text"),
        (column(&|f| f.person.category.clone()), "text"),
        (column(&|f| flag(f.post.is_leader)), "boolean"),
        (column(&|f| flag(f.post.is_key_post)), "boolean"),
        (column(&|f| f.post.post_title_folded.clone()), "text"),
        (column(&|f| f.person.birth_date.to_string()), "date"),
        (column(&|f| f.person.gender.clone()), "text"),
        (column(&|f| f.person.ethnicity.clone()), "text"),
        (column(&|f| f.levels.clone()), "text"),
        (column(&|f| f.ratings.to_owned()), "text"),
    ];
    for (i, (values, kind)) in columns.into_iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push("CAST(").bind(values).push(format!(" AS {kind}[])"));
    }
    q.push(")");
    sql::execute(txn, q.build()).await?;
    Ok(())
}

/// Writes `facts` in multi-row inserts (SQLite, in the caller's transaction).
async fn insert_rows(txn: &DatabaseTransaction, facts: &[Fact<'_>]) -> Result<()> {
    for chunk in facts.chunks(INSERT_CHUNK) {
        let mut insert = Query::new(format!("INSERT INTO person_facts ({FACT_COLUMNS}) VALUES "));
        for (i, f) in chunk.iter().enumerate() {
            if i > 0 {
                insert.push(", ");
            }
            insert.push("(").bind(f.person.id).push(", ").bind(f.valid_from).push(", ").bind(f.valid_until);
            insert.push(", ").bind(f.unit.locality_code.as_str()).push(", ").bind(f.post.unit_id);
            insert.push(", ").bind(f.unit.sector.as_str()).push(", ").bind(f.person.category.as_str());
            insert.push(", ").bind(f.post.is_leader).push(", ").bind(f.post.is_key_post);
            insert.push(", ").bind(f.post.post_title_folded.as_str()).push(", ").bind(f.person.birth_date);
            insert.push(", ").bind(f.person.gender.as_str()).push(", ").bind(f.person.ethnicity.as_str());
            insert.push(", ").bind(f.levels.as_str()).push(", ").bind(f.ratings).push(")");
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
