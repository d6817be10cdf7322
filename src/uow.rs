//! The unit of work: the one path every write takes.
//!
//! A use case runs [`retrying`] around [`Write::begin`] … [`Tx::commit`]:
//! 1. [`Write::begin`] begins a transaction: on SQLite `BEGIN IMMEDIATE`, after waiting for the
//!    process's write turn on that database ([`store::write_turn`], until the caller's deadline),
//!    so writers queue one behind the other and a check made inside the transaction still
//!    holds at its commit; on
//!    PostgreSQL `READ COMMITTED` with the row locks and constraints each use case
//!    takes, or `REPEATABLE READ` for a write that plans from several reads
//!    ([`Write::snapshot`]);
//! 2. claims the caller's request identifier (AIP-155, per caller: the key is the
//!    token's subject, the method and the identifier): a retry of a request that
//!    committed replays its result, a reuse of the identifier for another request is
//!    INVALID_ARGUMENT, and a retry that arrives while the first still runs waits for
//!    it on the key's primary key, then replays;
//! 3. the use case checks its rules that read the database and writes, on
//!    [`Tx::conn`];
//! 4. [`Tx::commit`] records the audit entry, brings the person facts of the people the write
//!    touched in step, checks that the caller still waits, and commits (or rolls back
//!    for `validate_only`).
//!
//! A conflict with a concurrent transaction ([`Error::Conflict`]: a PostgreSQL
//! serialization failure or deadlock, or the identifier claimed by a request in
//! flight) makes [`retrying`] run the whole unit again, a few times, before it answers
//! ABORTED. An error anywhere drops the transaction, which rolls it back.
//!
//! ```ignore
//! let write = Write::new("CreateUnit").idempotent(key);
//! uow::retrying(|| async {
//!     let tx = match write.begin(db, ctx).await? {
//!         Begun::Replay(tx, resource) => return tx.replay(load(tx.conn(), &resource).await).await,
//!         Begun::Fresh(tx) => tx,
//!     };
//!     authorize(tx.conn(), tx.principal(), &locality, Access::Write).await?;
//!     let id = queries::insert(tx.conn(), &fields).await?;
//!     tx.commit(Done::new(load(tx.conn(), id).await?, format!("units/{id}"))).await
//! })
//! .await
//! ```
//! (Closures that take the transaction as an argument would read better, but their
//! futures cannot be shown to be `Send` for every lifetime, which tonic needs.)

use std::future::Future;

use chrono::Utc;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, FromQueryResult, IsolationLevel,
    SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tokio::sync::OwnedSemaphorePermit;

use crate::{
    context::{Principal, RequestContext},
    error::{Error, Result},
    sql::{self, raw_sql},
    store,
};

/// How often a unit of work runs before a conflict is answered ABORTED.
const ATTEMPTS: usize = 5;

/// Runs `attempt` (a whole unit of work: begin … commit) again while it ends in a
/// conflict with a concurrent transaction, a few times; then answers ABORTED.
pub async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(Error::Conflict(why)) if tries < ATTEMPTS => {
                tracing::debug!(tries, why, "write conflicted with a concurrent one; running it again");
                tries += 1;
            }
            Err(Error::Conflict(why)) => return Err(Error::Aborted(why)),
            other => return other,
        }
    }
}

/// The transaction of a unit of work, with the request it serves.
#[derive(Debug)]
pub struct Tx<'a> {
    // Declared before `turn`, so that a dropped transaction is rolled back before the
    // next writer's turn begins.
    txn: DatabaseTransaction,
    ctx: &'a RequestContext,
    write: Write,
    /// The SQLite write turn ([`store::write_turn`]), held until the transaction ends.
    turn: Option<OwnedSemaphorePermit>,
}

impl Tx<'_> {
    /// The connection every query of the use case runs on.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// The request.
    pub fn ctx(&self) -> &RequestContext {
        self.ctx
    }

    /// The caller.
    pub fn principal(&self) -> &Principal {
        &self.ctx.principal
    }

    /// Ends a replay: answers `value` (what the first request's resource is now) and
    /// writes nothing.
    pub async fn replay<T>(self, value: Result<T>) -> Result<T> {
        let value = value?;
        self.txn.rollback().await?;
        Ok(value)
    }

    /// Ends the unit of work: records what the use case did in the idempotency key
    /// and the audit log, brings the person facts in step, checks that the caller
    /// still waits, and commits (or, for `validate_only`, rolls back); answers the
    /// use case's value.
    pub async fn commit<T>(self, done: Done<T>) -> Result<T> {
        // `_turn` lives to the end of this function: past the commit.
        let Self { txn, ctx, write, turn: _turn } = self;
        let subject = ctx.principal.subject.as_str();
        if let Some(key) = &write.key {
            let (method, request_id, resource) = (write.method, key.request_id.as_str(), done.resource.as_str());
            sql::execute(
                &txn,
                raw_sql!(
                    Postgres,
                    "UPDATE idempotency_keys SET resource = {resource} \
                     WHERE subject = {subject} AND method = {method} AND request_id = {request_id}"
                ),
            )
            .await?;
        }
        let request_id = write.key.as_ref().map(|k| k.request_id.as_str());
        store::audit::record(&txn, subject, write.method, &done.resource, request_id, done.detail).await?;
        if write.validate_only {
            ctx.check_deadline()?;
            txn.rollback().await?;
        } else {
            store::commit(txn, ctx).await?;
        }
        Ok(done.value)
    }
}

/// How a unit of work began.
#[derive(Debug)]
pub enum Begun<'a> {
    /// A new request: do the work, then [`Tx::commit`].
    Fresh(Tx<'a>),
    /// A retry of a committed request: answer what its resource (the `String`, as its
    /// work named it) is now, with [`Tx::replay`].
    Replay(Tx<'a>, String),
}

impl<'a> Begun<'a> {
    /// The transaction of a write that is never replayed (it has no request key).
    pub fn fresh(self) -> Result<Tx<'a>> {
        match self {
            Self::Fresh(tx) => Ok(tx),
            Self::Replay(_, resource) => {
                Err(Error::internal(format!("a write without a request identifier was replayed ({resource})")))
            }
        }
    }
}

/// How a write reads the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Isolation {
    /// PostgreSQL `READ COMMITTED`, with the row locks and constraints the use case
    /// relies on; SQLite's single writer.
    #[default]
    ReadCommitted,
    /// PostgreSQL `REPEATABLE READ`: every read sees one snapshot, and a row changed
    /// by a concurrent writer since fails the write (which then runs again).
    Snapshot,
}

/// A request identifier (AIP-155) with the digest of the request body it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    /// The caller's identifier.
    pub request_id: String,
    /// SHA-256 of the request without its identifier.
    pub fingerprint: String,
}

/// What a use case wrote: its value, the resource it names in the audit log (and
/// that a replay loads), and the audit entry's detail.
#[derive(Debug)]
pub struct Done<T> {
    /// What the use case returns.
    pub value: T,
    /// The resource written, e.g. `units/42` (several: comma separated).
    pub resource: String,
    /// What the audit log records of the write.
    pub detail: serde_json::Value,
}

impl<T> Done<T> {
    /// A result naming `resource`, with an empty audit detail.
    pub fn new(value: T, resource: impl Into<String>) -> Self {
        Self { value, resource: resource.into(), detail: serde_json::json!({}) }
    }

    /// The same result with `detail` in its audit entry.
    #[must_use]
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// A write about to run: its method and how it runs.
#[derive(Debug, Clone)]
pub struct Write {
    method: &'static str,
    key: Option<RequestKey>,
    isolation: Isolation,
    validate_only: bool,
}

#[derive(Debug, FromQueryResult)]
struct KeyRow {
    fingerprint: String,
    resource: String,
}

impl Write {
    /// A write of the RPC `method` (as the audit log names it, e.g. `CreateUnit`).
    pub fn new(method: &'static str) -> Self {
        Self { method, key: None, isolation: Isolation::default(), validate_only: false }
    }

    /// Makes the write idempotent under `key`, when the caller gave one.
    #[must_use]
    pub fn idempotent(mut self, key: Option<RequestKey>) -> Self {
        self.key = key;
        self
    }

    /// Reads one snapshot throughout ([`Isolation::Snapshot`]).
    #[must_use]
    pub fn snapshot(mut self) -> Self {
        self.isolation = Isolation::Snapshot;
        self
    }

    /// Checks everything and writes nothing, when `validate_only` is set.
    #[must_use]
    pub fn validate_only(mut self, validate_only: bool) -> Self {
        self.validate_only = validate_only;
        self
    }

    /// Begins the unit of work, claiming the request key if there is one.
    pub async fn begin<'a>(&self, db: &DatabaseConnection, ctx: &'a RequestContext) -> Result<Begun<'a>> {
        // The turn first, then a connection: a queued writer holds no connection.
        let turn = store::write_turn(db, ctx.deadline).await?;
        let tx = Tx { txn: begin(db, self.isolation).await?, ctx, write: self.clone(), turn };
        match &self.key {
            Some(key) => match self.claim(&tx, key).await? {
                Some(resource) => Ok(Begun::Replay(tx, resource)),
                None => Ok(Begun::Fresh(tx)),
            },
            None => Ok(Begun::Fresh(tx)),
        }
    }

    /// Claims `key` for this request: `None` when it is new (the key row is written in
    /// this transaction), or the resource a committed request with the same key and
    /// body wrote.
    async fn claim(&self, tx: &Tx<'_>, key: &RequestKey) -> Result<Option<String>> {
        let (subject, method) = (tx.principal().subject.as_str(), self.method);
        let (request_id, fingerprint) = (key.request_id.as_str(), key.fingerprint.as_str());
        let seen: Option<KeyRow> = sql::one(
            tx.conn(),
            raw_sql!(
                Postgres,
                "SELECT fingerprint, resource FROM idempotency_keys \
                 WHERE subject = {subject} AND method = {method} AND request_id = {request_id}"
            ),
        )
        .await?;
        match seen {
            Some(seen) if seen.fingerprint == key.fingerprint => return Ok(Some(seen.resource)),
            Some(_) => return Err(Error::invalid("request_id", "was already used for a different request")),
            None => {}
        }
        let now = Utc::now();
        let claimed = tx
            .conn()
            .execute_raw(sql::on(
                tx.conn(),
                raw_sql!(
                    Postgres,
                    "INSERT INTO idempotency_keys (subject, method, request_id, fingerprint, resource, create_time) \
                     VALUES ({subject}, {method}, {request_id}, {fingerprint}, '', {now})"
                ),
            ))
            .await;
        match claimed {
            Ok(_) => Ok(None),
            // A concurrent request with the same key committed first (PostgreSQL let
            // this insert wait for it): run again, and replay it.
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Err(Error::Conflict(format!("request_id {request_id} was in flight")))
            }
            Err(err) => Err(err.into()),
        }
    }
}

/// Begins a write transaction with `isolation`.
async fn begin(db: &DatabaseConnection, isolation: Isolation) -> Result<DatabaseTransaction, DbErr> {
    let options = match (db.get_database_backend(), isolation) {
        (DbBackend::Postgres, Isolation::Snapshot) => {
            TransactionOptions { isolation_level: Some(IsolationLevel::RepeatableRead), ..Default::default() }
        }
        (DbBackend::Postgres, Isolation::ReadCommitted) => TransactionOptions::default(),
        _ => {
            TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() }
        }
    };
    db.begin_with_options(options).await
}
