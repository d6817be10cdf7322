//! The report engine: the person facts held in memory as compact columns, one segment
//! per locality ([`columns`]), from which the workforce reports are aggregated by a
//! pass over the segments of the report's tree ([`scan`]), instead of SQL over text
//! keys. The SQL of [`crate::reports::queries`] stays: it answers while the engine
//! loads, when it has fallen too far behind, and in tests as the oracle the engine must
//! agree with.
//!
//! # In step with every committed write, on every replica
//!
//! Every transaction that rebuilds facts records a new version of the facts and the
//! people it rebuilt (see [`crate::facts::changes`]); the database hands versions out
//! in commit order. A report opens its snapshot first, reads the version V in it, and
//! before it counts anything the engine applies the changes of every version up to V,
//! read in that same snapshot ([`Engine::catch_up`]). So a report sees every write
//! committed before its snapshot began — whichever server process took the write, since
//! each process follows the one change log in the database. Several replicas over one
//! PostgreSQL each keep their own columns and each catch up the same way; a background
//! task also catches up between calls, so that a call rarely waits.
//!
//! Writes made around the server (SQL by hand, a migration) mark people pending and
//! reach the facts, and so the change log, when the server's catch-up task rebuilds
//! them (see [`crate::facts`]): the engine sees them exactly when the SQL reports do.
//!
//! The engine may be ahead of a report's snapshot (another call caught it up further),
//! never behind it. If the versions it needs were pruned, or too many people changed
//! (a bulk import), the call is answered by the SQL and the background task reloads.
//!
//! Until the first load completes, health reports NOT_SERVING for ReportService (the
//! reports still answer, from the SQL).
//!
//! # Copies of one version: reference data, enrolments, movements
//!
//! The locality tree and the scales ([`reference`]), the enrolments with their history
//! ([`training`]) and the movements with their units ([`movements`]) are held as whole
//! copies, each of one version of a one-row table that triggers bump once per
//! transaction changing its tables (so writes around the server, on any replica, bump
//! it too; see the migrations creating `reference_version`, `training_version` and
//! `movement_version`). One version always stands for the same committed rows, so a
//! copy of the version a report's snapshot shows answers exactly what the SQL would.
//! The reference data is read in the report's snapshot when the copy is of another
//! version (it is small); the enrolments and movements are not: the SQL answers that
//! report and the background task loads the new version at its next tick.

pub mod columns;
pub mod movements;
pub mod queries;
pub mod reference;
pub mod scan;
pub mod training;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use sea_orm::{DatabaseConnection, DatabaseTransaction};

use self::{
    columns::{Columns, Fact},
    movements::Movements,
    queries::Versioned,
    reference::Reference,
    scan::Scope,
    training::Training,
};
use crate::{
    error::{Error, Result},
    facts::changes,
    people::rules::person::Category,
    reports::queries::{
        Population,
        activity::TrainingRow,
        workforce::{GroupCounts, PostRow, ScaleLevels},
    },
    reports::rules::activity::MovementCount,
};

/// People changed since the engine's version beyond which a call is answered by the SQL
/// and the columns reloaded in the background, rather than caught up in the call.
const CATCH_UP_MAX: usize = 50_000;

/// The report engine; clones share one copy of the columns.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    columns: RwLock<Columns>,
    /// The version of the facts the columns hold.
    version: AtomicI64,
    /// Whether the columns were loaded once.
    loaded: AtomicBool,
    /// Whether the columns fell too far behind and wait to be reloaded.
    stale: AtomicBool,
    /// Held while the columns are loaded or caught up, so that one task does it.
    sync: tokio::sync::Mutex<()>,
    /// Aggregates answered from the columns.
    scans: std::sync::atomic::AtomicU64,
    /// The reference data of the latest version read.
    reference: RwLock<Option<Arc<Reference>>>,
    /// Reference data read from the database.
    reference_loads: AtomicU64,
    /// The training records of the latest version loaded (`None` until loaded).
    training: RwLock<Option<Arc<Training>>>,
    /// Training records loaded from the database.
    training_loads: AtomicU64,
    /// The movements of the latest version loaded (`None` until loaded).
    movements: RwLock<Option<Arc<Movements>>>,
    /// Movements loaded from the database.
    movement_loads: AtomicU64,
}

/// A copy of some records of one version (see [`reference`], [`training`] and
/// [`movements`]).
trait VersionedCopy: Send + Sync + 'static {
    fn version(&self) -> i64;
}

impl VersionedCopy for Reference {
    fn version(&self) -> i64 {
        self.version
    }
}

impl VersionedCopy for Training {
    fn version(&self) -> i64 {
        self.version
    }
}

impl VersionedCopy for Movements {
    fn version(&self) -> i64 {
        self.version
    }
}

/// Holds `copy` in `slot` unless a newer version is held (another load may have held one
/// meanwhile).
fn hold<T: VersionedCopy>(slot: &RwLock<Option<Arc<T>>>, copy: Arc<T>) -> Result<()> {
    let mut held = slot.write().map_err(poisoned)?;
    if held.as_ref().is_none_or(|h| h.version() < copy.version()) {
        *held = Some(copy);
    }
    Ok(())
}

/// The version of the copy held in `slot`.
fn held_version<T: VersionedCopy>(slot: &RwLock<Option<Arc<T>>>) -> Result<Option<i64>> {
    Ok(slot.read().map_err(poisoned)?.as_ref().map(|c| c.version()))
}

fn poisoned<T>(_: T) -> Error {
    Error::internal("the report engine's lock is poisoned")
}

impl Engine {
    /// An engine with nothing loaded yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the columns were loaded (and reports may be answered from them).
    pub fn is_loaded(&self) -> bool {
        self.inner.loaded.load(Ordering::Acquire)
    }

    /// How many aggregates the columns answered (the SQL answered the others).
    pub fn scans(&self) -> u64 {
        self.inner.scans.load(Ordering::Relaxed)
    }

    /// How many times the reference data was read from the database (once per version
    /// a report met, at most one more per racing report).
    pub fn reference_loads(&self) -> u64 {
        self.inner.reference_loads.load(Ordering::Relaxed)
    }

    /// How many times the training records were loaded from the database (once per
    /// version the background task met).
    pub fn training_loads(&self) -> u64 {
        self.inner.training_loads.load(Ordering::Relaxed)
    }

    /// How many times the movements were loaded from the database.
    pub fn movement_loads(&self) -> u64 {
        self.inner.movement_loads.load(Ordering::Relaxed)
    }

    /// The version of the facts the columns hold.
    pub fn version(&self) -> i64 {
        self.inner.version.load(Ordering::Acquire)
    }

    /// Loads every person's facts from one snapshot of `db`, replacing what was held.
    pub async fn load(&self, db: &DatabaseConnection) -> Result<()> {
        let _one = self.inner.sync.lock().await;
        let txn = crate::reports::queries::snapshot(db).await?;
        let version = changes::version(&txn).await?;
        let mut columns = Columns::default();
        queries::load_all(&txn, &mut columns).await?;
        self.load_activity(&txn).await?;
        txn.rollback().await?;
        columns.shrink_to_fit();
        let (rows, people) = (columns.rows(), columns.people());
        *self.inner.columns.write().map_err(poisoned)? = columns;
        self.inner.version.store(version, Ordering::Release);
        self.inner.stale.store(false, Ordering::Release);
        self.inner.loaded.store(true, Ordering::Release);
        tracing::info!(rows, people, version, "loaded the report engine");
        Ok(())
    }

    /// Brings the columns up to the version of `txn`'s snapshot at least; returns
    /// whether a report in that snapshot may read them (false: not loaded, or too far
    /// behind, and the SQL answers).
    pub async fn catch_up(&self, txn: &DatabaseTransaction) -> Result<bool> {
        if !self.is_loaded() || self.inner.stale.load(Ordering::Acquire) {
            return Ok(false);
        }
        let wanted = changes::version(txn).await?;
        if self.version() >= wanted {
            return Ok(true);
        }
        let _one = self.inner.sync.lock().await;
        let have = self.version();
        if have >= wanted {
            return Ok(true);
        }
        let people = match changes::changed_between(txn, have, wanted).await? {
            Some(people) if people.len() <= CATCH_UP_MAX => people,
            _ => {
                self.inner.stale.store(true, Ordering::Release);
                return Ok(false);
            }
        };
        let facts = queries::facts_of(txn, &people).await?;
        self.inner.columns.write().map_err(poisoned)?.replace(&people, &facts)?;
        self.inner.version.store(wanted, Ordering::Release);
        Ok(true)
    }

    /// The reference data of reports (the locality tree, the scales' levels) as they are
    /// in `txn`'s snapshot: the copy held when it is of the snapshot's version, else read
    /// in the snapshot (and held, when newer than the copy). One version always stands
    /// for the same data (see the migration creating `reference_version`), so the copy
    /// answers exactly what the SQL would in that snapshot, whichever replica wrote.
    pub async fn reference(&self, txn: &DatabaseTransaction) -> Result<Arc<Reference>> {
        let version = queries::version(txn, Versioned::Reference).await?;
        if let Some(held) = self.inner.reference.read().map_err(poisoned)?.as_ref()
            && held.version == version
        {
            return Ok(held.clone());
        }
        let reference = Arc::new(queries::load_reference(txn, version).await?);
        self.inner.reference_loads.fetch_add(1, Ordering::Relaxed);
        hold(&self.inner.reference, reference.clone())?;
        Ok(reference)
    }

    /// Loads the training records and the movements of `txn`'s snapshot, unless those of
    /// its versions are held.
    async fn load_activity(&self, txn: &DatabaseTransaction) -> Result<()> {
        let version = queries::version(txn, Versioned::Training).await?;
        if held_version(&self.inner.training)?.is_none_or(|held| held < version) {
            let training = queries::load_training(txn, version).await?;
            self.inner.training_loads.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(enrolments = training.enrolments(), version, "loaded the training records");
            hold(&self.inner.training, Arc::new(training))?;
        }
        let version = queries::version(txn, Versioned::Movements).await?;
        if held_version(&self.inner.movements)?.is_none_or(|held| held < version) {
            let movements = queries::load_movements(txn, version).await?;
            self.inner.movement_loads.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(movements = movements.len(), version, "loaded the movements");
            hold(&self.inner.movements, Arc::new(movements))?;
        }
        Ok(())
    }

    /// Catches up between calls (or reloads when stale): what the background task does
    /// at every tick.
    pub async fn refresh(&self, db: &DatabaseConnection) -> Result<()> {
        if !self.is_loaded() || self.inner.stale.load(Ordering::Acquire) {
            return self.load(db).await;
        }
        let txn = crate::reports::queries::snapshot(db).await?;
        let mut caught_up = self.catch_up(&txn).await.map(|_| ());
        if caught_up.is_ok() {
            caught_up = self.load_activity(&txn).await;
        }
        txn.rollback().await?;
        caught_up
    }

    /// Loads the columns (trying again every `interval` while the database fails), then
    /// keeps up every `interval`; runs until the task is dropped.
    pub async fn run(self, db: DatabaseConnection, interval: Duration) {
        let started = std::time::Instant::now();
        while let Err(err) = self.load(&db).await {
            tracing::warn!(error = %err, "loading the report engine failed; trying again");
            tokio::time::sleep(interval).await;
        }
        tracing::info!(seconds = started.elapsed().as_secs_f64(), "the report engine is ready");
        loop {
            tokio::time::sleep(interval).await;
            if let Err(err) = self.refresh(&db).await {
                tracing::debug!(error = %err, "keeping the report engine up failed; trying again");
            }
        }
    }

    /// Every period held, sorted: equal to `person_facts` when in step.
    pub fn facts(&self) -> Result<Vec<Fact>> {
        let mut facts = self.inner.columns.read().map_err(poisoned)?.facts();
        facts.sort();
        Ok(facts)
    }

    /// The periods held once caught up with `db`, and those `person_facts` stores, both
    /// sorted: equal when the engine is in step (for tests and operators; with no write
    /// in between).
    pub async fn held_and_stored(&self, db: &DatabaseConnection) -> Result<(Vec<Fact>, Vec<Fact>)> {
        self.refresh(db).await?;
        let txn = crate::reports::queries::snapshot(db).await?;
        let mut stored = Columns::default();
        queries::load_all(&txn, &mut stored).await?;
        txn.rollback().await?;
        let mut stored = stored.facts();
        stored.sort();
        Ok((self.facts()?, stored))
    }

    /// Runs `aggregate` over the columns for `population`, off the async threads; `None`
    /// when the population's tree is not resolved for its date.
    async fn scan<T: Send + 'static>(
        &self,
        population: &Population,
        aggregate: impl FnOnce(&Columns, &Scope) -> T + Send + 'static,
    ) -> Result<Option<T>> {
        let inner = self.inner.clone();
        let population = population.clone();
        tokio::task::spawn_blocking(move || {
            let columns = inner.columns.read().map_err(poisoned)?;
            let answer = Scope::new(&columns, &population).map(|scope| aggregate(&columns, &scope));
            if answer.is_some() {
                inner.scans.fetch_add(1, Ordering::Relaxed);
            }
            Ok(answer)
        })
        .await
        .map_err(|err| Error::internal(format!("a report engine scan failed: {err}")))?
    }

    /// See [`crate::reports::queries::workforce::workforce_counts`].
    pub async fn workforce_counts(
        &self,
        population: &Population,
        levels: &ScaleLevels,
    ) -> Result<Option<BTreeMap<String, GroupCounts>>> {
        let (levels, as_of) = (levels.clone(), population.as_of);
        self.scan(population, move |columns, scope| scan::workforce_counts(columns, scope, as_of, &levels)).await
    }

    /// See [`crate::reports::queries::workforce::evaluation_counts`].
    pub async fn evaluation_counts(
        &self,
        population: &Population,
        first_year: i32,
        last_year: i32,
    ) -> Result<Option<(i64, BTreeMap<(i32, String), i64>)>> {
        self.scan(population, move |columns, scope| scan::evaluation_counts(columns, scope, first_year, last_year))
            .await
    }

    /// See [`crate::reports::queries::workforce::post_rows`].
    pub async fn post_rows(&self, population: &Population, titles: &[String]) -> Result<Option<Vec<PostRow>>> {
        let titles = titles.to_vec();
        self.scan(population, move |columns, scope| scan::post_rows(columns, scope, &titles)).await
    }

    /// See [`crate::reports::queries::activity::training_counts`]: `None` also when the
    /// training records held are not those of `txn`'s snapshot (the background task
    /// loads them).
    pub async fn training_counts(
        &self,
        txn: &DatabaseTransaction,
        population: &Population,
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> Result<Option<Vec<TrainingRow>>> {
        let version = queries::version(txn, Versioned::Training).await?;
        let held = self.inner.training.read().map_err(poisoned)?.clone();
        let Some(training) = held.filter(|t| t.version == version && t.indexed) else { return Ok(None) };
        self.scan(population, move |columns, scope| scan::training_counts(columns, scope, &training, start, end)).await
    }

    /// See [`crate::reports::queries::activity::movement_counts`]: `None` also when the
    /// movements held are not those of `txn`'s snapshot (the background task loads them).
    pub async fn movement_counts(
        &self,
        txn: &DatabaseTransaction,
        population: &Population,
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> Result<Option<Vec<(Option<String>, MovementCount)>>> {
        let version = queries::version(txn, Versioned::Movements).await?;
        let held = self.inner.movements.read().map_err(poisoned)?.clone();
        let Some(movements) = held.filter(|m| m.version == version && m.indexed) else { return Ok(None) };
        let population = population.clone();
        let counts = tokio::task::spawn_blocking(move || movements.counts(&population, start, end))
            .await
            .map_err(|err| Error::internal(format!("a report engine scan failed: {err}")))?;
        if counts.is_some() {
            self.inner.scans.fetch_add(1, Ordering::Relaxed);
        }
        Ok(counts)
    }

    /// See [`crate::reports::queries::activity::category_headcounts`].
    pub async fn category_headcounts(
        &self,
        population: &Population,
    ) -> Result<Option<HashMap<(String, Category), i64>>> {
        let Some(rows) = self.scan(population, scan::category_headcounts).await? else { return Ok(None) };
        let mut counts = HashMap::new();
        for (group, category, n) in rows {
            let category = Category::from_db(&category).ok_or_else(|| {
                Error::internal(format!("stored category `{category}` is not known to this version of the service"))
            })?;
            *counts.entry((group, category)).or_default() += n;
        }
        Ok(Some(counts))
    }

    /// See [`crate::reports::queries::activity::headcounts`].
    pub async fn headcounts(&self, population: &Population) -> Result<Option<BTreeMap<String, i64>>> {
        self.scan(population, scan::headcounts).await
    }
}
