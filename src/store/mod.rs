//! Persistence: connections, migrations, and the queries of each resource.
//!
//! Queries are written once in portable SQL with `?` placeholders (see [`stmt`]) and
//! run unchanged on SQLite and PostgreSQL. No handler writes SQL.

pub mod audit;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use hrplan_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};

use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};

use crate::{
    context::RequestContext,
    error::{Error, Result},
    facts,
};

/// How long a SQLite connection waits for a lock held by another connection before
/// failing "database is locked". The request writers of this process queue on
/// [`write_turn`] first, so only the one whose turn it is waits here, for a writer
/// outside the queue: another process, a migration, an official-tree import or the
/// facts catch-up, which may hold the lock for seconds. Well under the request
/// timeout, which bounds the whole wait anyway.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A pooled connection idle this long is pinged before it is handed out (it may have
/// been dropped by the server or a firewall meanwhile); a busy one is not: a ping on
/// every checkout is a round trip more on every statement.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// The pool size for `0` ("sized to the work"): on PostgreSQL 8 per core, between 16
/// and 64, since a connection there mostly waits (on round trips, and on the disk when
/// it commits: commits in flight together share one flush, so a pool smaller than the
/// requests in flight caps the commit rate), and an idle one costs the server little;
/// on SQLite 2 per core, at least 8, since its readers run in this process, on its cores,
/// and its writers queue for one lock whatever the pool.
pub fn pool_size(url: &str, requested: u32) -> u32 {
    if requested > 0 {
        return requested;
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let cores = u32::try_from(cores).unwrap_or(u32::MAX);
    if url.starts_with("postgres") { cores.saturating_mul(8).clamp(16, 64) } else { cores.saturating_mul(2).max(8) }
}

/// Opens a pool on `url` (`sqlite://…` or `postgres://…`) of `max_connections`
/// connections (`0`: [`pool_size`]).
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, max_connections, false).await
}

/// Opens a pool for the audit records of reads (see `store::audit`): with
/// `async_commit`, on PostgreSQL, its commits do not wait for the disk
/// (`synchronous_commit = off`): a record is written and visible before the answer
/// leaves, and on disk within a fraction of a second (three `wal_writer_delay`s), but
/// a crash of the database host within that time loses it.
pub async fn connect_audit(url: &str, max_connections: u32, async_commit: bool) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, max_connections, async_commit).await
}

async fn connect_with(url: &str, max_connections: u32, async_commit: bool) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(pool_size(url, max_connections))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|sqlite| sqlite.busy_timeout(SQLITE_BUSY_TIMEOUT));
    if async_commit {
        options.map_sqlx_postgres_opts(|pg| pg.options([("synchronous_commit", "off")]));
    }
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers run beside the one writer; the setting persists in the file.
        db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
    }
    Ok(db)
}

/// Applies every pending migration, then builds the person facts a migration (or a
/// write around the server) left pending: here, not in a read.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await?;
    facts::catch_up(db).await?;
    Ok(())
}

/// Commits a request's write: brings the person facts of the people it touched in
/// step with their records, checks that the caller still waits, then commits. Every
/// write commits here (`clippy.toml` forbids calling `commit` elsewhere), so that no
/// committed state has stale facts.
pub async fn commit(txn: DatabaseTransaction, ctx: &RequestContext) -> Result<()> {
    facts::flush(&txn).await?;
    ctx.check_deadline()?;
    #[allow(clippy::disallowed_methods)]
    txn.commit().await?;
    Ok(())
}

/// Commits a write nobody waits on (demo data, migrations, benchmarks), with its
/// person facts brought in step.
pub async fn commit_background(txn: DatabaseTransaction) -> Result<()> {
    facts::flush(&txn).await?;
    #[allow(clippy::disallowed_methods)]
    txn.commit().await?;
    Ok(())
}

/// Rows inserted per statement, well under both backends' limits on parameters.
const INSERT_CHUNK: usize = 500;

/// Inserts `rows` of `width` values into `table_and_columns` (`table (a, b, …)`), a
/// few hundred per statement.
pub async fn insert_rows(
    txn: &DatabaseTransaction,
    table_and_columns: &str,
    width: usize,
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    let backend = txn.get_database_backend();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let tuple = format!("({})", placeholders(width));
        let sql = format!("INSERT INTO {table_and_columns} VALUES {}", vec![tuple; chunk.len()].join(", "));
        let values: Vec<Value> = chunk.iter().flatten().cloned().collect();
        txn.execute_raw(stmt(backend, &sql, values)).await?;
    }
    Ok(())
}

/// Whether the database answers.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// Begins a transaction for a write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so that two writers queue instead of failing when the second
/// tries to upgrade its read lock.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    Ok(db.begin_with_options(options).await?)
}

/// One in-process queue of writers per SQLite database file.
static WRITE_TURNS: LazyLock<Mutex<HashMap<PathBuf, Arc<Semaphore>>>> = LazyLock::new(Mutex::default);

/// Waits for the write turn of `db` when it is SQLite, until `deadline` (the caller's)
/// at most: the returned permit is held for the whole write transaction, and taken
/// before a pooled connection is, so that writers wait their turn in order (a tokio
/// semaphore is fair) instead of spinning on SQLite's busy timeout until some fail
/// "database is locked". PostgreSQL writers run concurrently: `None`.
///
/// Without a deadline the wait is bounded by the server's request timeout, which
/// drops the request (and its place in the queue).
pub async fn write_turn(db: &DatabaseConnection, deadline: Option<Instant>) -> Result<Option<OwnedSemaphorePermit>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(None);
    }
    // The pool's options name the file; connections to one file share its queue.
    let file = db.get_sqlite_connection_pool().connect_options().get_filename().to_path_buf();
    let turn = {
        let mut turns = WRITE_TURNS.lock().map_err(|_| Error::internal("the SQLite write queue was poisoned"))?;
        Arc::clone(turns.entry(file).or_insert_with(|| Arc::new(Semaphore::new(1))))
    };
    let acquired = match deadline {
        Some(deadline) => {
            tokio::time::timeout_at(deadline, turn.acquire_owned()).await.map_err(|_| Error::DeadlineExceeded)?
        }
        None => turn.acquire_owned().await,
    };
    // The semaphore is never closed.
    acquired.map(Some).map_err(|_| Error::internal("the SQLite write queue was closed"))
}

/// A statement for `backend` from portable SQL whose parameters are written `?`
/// (PostgreSQL's `$n` are numbered here). The SQL must not contain `?` elsewhere.
pub fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => {
            let mut numbered = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    numbered.push('$');
                    numbered.push_str(&n.to_string());
                } else {
                    numbered.push(c);
                }
            }
            numbered
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `?, ?, ?` for `n` parameters.
pub fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let pg = stmt(DbBackend::Postgres, "SELECT ? WHERE a IN (?, ?)", vec![1.into(), 2.into(), 3.into()]);
        assert_eq!(pg.sql, "SELECT $1 WHERE a IN ($2, $3)");
        let lite = stmt(DbBackend::Sqlite, "SELECT ?", vec![1.into()]);
        assert_eq!(lite.sql, "SELECT ?");
        assert_eq!(placeholders(3), "?, ?, ?");
    }

    #[test]
    fn a_pool_of_zero_is_sized_to_the_backend_and_an_explicit_size_is_kept() {
        let postgres = pool_size("postgres://localhost/hrplan", 0);
        assert!((16..=64).contains(&postgres), "{postgres}");
        assert!(pool_size("sqlite://hrplan.db?mode=rwc", 0) >= 8);
        assert_eq!(pool_size("postgres://localhost/hrplan", 3), 3);
        assert_eq!(pool_size("sqlite::memory:", 1), 1);
    }
}
