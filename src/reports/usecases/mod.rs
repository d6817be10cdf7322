//! The use cases of ReportService: one function per report.
//!
//! Every report reads ONE snapshot ([`Reports::begin`], a read-only transaction) from
//! the caller's authorisation to its last aggregate: the scope's tree, tags and group
//! names are resolved inside it, so that the groups and the figures describe the same
//! moment, and nothing in it can write (read RPCs never write: the person facts are
//! kept in step by the writes themselves, see [`crate::facts`]).
//!
//! - [`profile`]: GetWorkforceProfile and CompareWorkforceProfiles;
//! - [`compliance`]: GetStandardCompliance and SummarizeEvaluations;
//! - [`activity`]: SummarizeTraining, SummarizeRotations and GetStaffingSummary;
//! - [`export`]: ExportReport, any of them as a file.

pub mod activity;
pub mod compliance;
pub mod export;
pub mod profile;

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use sea_orm::{DatabaseConnection, DatabaseTransaction};

use super::{
    engine::{Engine, reference::Reference},
    queries::{
        self, Population,
        workforce::{self, GroupCounts, PostRow, ScaleLevels},
    },
    rules::WHOLE_COUNTRY_LABEL,
    wire::WHOLE_COUNTRY,
};
use crate::{
    context::{Access, RequestContext, Role},
    domain::locality::{Code, Tier},
    error::{Error, Result},
    localities::rules::{Condition, LocalityOrder},
    localities::{
        queries::{self as localities, ListQuery},
        rules::LocalityRecord,
    },
    people::rules::person::Category,
    policy::{authorize, authorize_national, authorize_with},
};

/// What every report needs: the database, the engine and the suppression threshold.
#[derive(Debug, Clone)]
pub struct Reports {
    /// The database.
    pub db: DatabaseConnection,
    /// The report engine, when reports are aggregated in memory (else by SQL).
    pub engine: Option<Engine>,
    /// Cells smaller than this are hidden from callers without the personal-data role.
    pub suppression_threshold: i64,
}

impl Reports {
    /// Reports over `db` by SQL alone, hiding nothing: for callers inside the process
    /// (the demo's loader), not for a served API.
    pub fn by_sql(db: DatabaseConnection) -> Self {
        Self { db, engine: None, suppression_threshold: 0 }
    }

    /// Begins a report for `ctx`'s caller: its snapshot.
    pub async fn begin<'a>(&self, ctx: &'a RequestContext) -> Result<Read<'a>> {
        let threshold = (!ctx.principal.has_role(Role::PersonalDataReader)).then_some(self.suppression_threshold);
        let txn = queries::snapshot(&self.db).await?;
        // The engine counts only once in step with this snapshot (see engine): else SQL.
        let engine = match &self.engine {
            Some(engine) if engine.catch_up(&txn).await? => Some(engine.clone()),
            _ => None,
        };
        // The reference data is exact for the snapshot whether or not the columns are.
        let reference = match &self.engine {
            Some(engine) => Some(engine.reference(&txn).await?),
            None => None,
        };
        Ok(Read { txn, engine, reference, ctx, threshold, suppression_threshold: self.suppression_threshold })
    }
}

/// A report being read: its snapshot and its caller.
#[derive(Debug)]
pub struct Read<'a> {
    txn: DatabaseTransaction,
    engine: Option<Engine>,
    /// The tree and the scales in memory, when the service runs the engine (else SQL).
    reference: Option<Arc<Reference>>,
    ctx: &'a RequestContext,
    threshold: Option<i64>,
    suppression_threshold: i64,
}

impl Read<'_> {
    /// The snapshot every query of the report runs on.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// The workforce profile's aggregates of an authorized, resolved population: from
    /// the engine when it serves this read, else from the SQL.
    pub async fn workforce_counts(
        &self,
        population: &Population,
        levels: &ScaleLevels,
    ) -> Result<BTreeMap<String, GroupCounts>> {
        if let Some(engine) = &self.engine
            && let Some(counts) = engine.workforce_counts(population, levels).await?
        {
            return Ok(counts);
        }
        workforce::workforce_counts(self.conn(), population, levels).await
    }

    /// The evaluations of a population (see [`workforce::evaluation_counts`]).
    pub async fn evaluation_counts(
        &self,
        population: &Population,
        first_year: i32,
        last_year: i32,
    ) -> Result<(i64, BTreeMap<(i32, String), i64>)> {
        if let Some(engine) = &self.engine
            && let Some(counts) = engine.evaluation_counts(population, first_year, last_year).await?
        {
            return Ok(counts);
        }
        workforce::evaluation_counts(self.conn(), population, first_year, last_year).await
    }

    /// The population grouped for standard compliance (see [`workforce::post_rows`]).
    pub async fn post_rows(&self, population: &Population, titles: &[String]) -> Result<Vec<PostRow>> {
        if let Some(engine) = &self.engine
            && let Some(rows) = engine.post_rows(population, titles).await?
        {
            return Ok(rows);
        }
        workforce::post_rows(self.conn(), population, titles).await
    }

    /// The enrolments of a population over a period (see
    /// [`queries::activity::training_counts`]).
    pub async fn training_counts(
        &self,
        population: &Population,
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> Result<Vec<queries::activity::TrainingRow>> {
        if let Some(engine) = &self.engine
            && let Some(rows) = engine.training_counts(self.conn(), population, start, end).await?
        {
            return Ok(rows);
        }
        queries::activity::training_counts(self.conn(), population, start, end).await
    }

    /// The movements of a scope over a period (see
    /// [`queries::activity::movement_counts`]).
    pub async fn movement_counts(
        &self,
        population: &Population,
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> Result<Vec<(Option<String>, crate::reports::rules::activity::MovementCount)>> {
        if let Some(engine) = &self.engine
            && let Some(counts) = engine.movement_counts(self.conn(), population, start, end).await?
        {
            return Ok(counts);
        }
        queries::activity::movement_counts(self.conn(), population, start, end).await
    }

    /// The headcount and quotas of a population per group and category (see
    /// [`queries::activity::staffing_counts`]): the headcounts from the engine when it
    /// serves this read, the quotas from the SQL.
    pub async fn staffing_counts(
        &self,
        population: &Population,
    ) -> Result<HashMap<(String, Category), crate::reports::rules::activity::Staffing>> {
        if let Some(engine) = &self.engine
            && let Some(heads) = engine.category_headcounts(population).await?
        {
            let quotas = queries::activity::quota_counts(self.conn(), population).await?;
            return Ok(queries::activity::staffing(heads, quotas));
        }
        queries::activity::staffing_counts(self.conn(), population).await
    }

    /// The headcount and quotas of a population per category, all its groups together:
    /// the headcounts from the engine, the quotas from the SQL, as
    /// [`Read::staffing_counts`] gives them; `None` when the engine does not serve this
    /// read (the caller then counts in its own SQL, the oracle the engine is tested
    /// against).
    pub async fn engine_staffing_totals(
        &self,
        population: &Population,
    ) -> Result<Option<BTreeMap<Category, crate::reports::rules::activity::Staffing>>> {
        let Some(engine) = &self.engine else { return Ok(None) };
        let Some(heads) = engine.category_headcounts(population).await? else { return Ok(None) };
        let quotas = queries::activity::quota_counts(self.conn(), population).await?;
        let mut totals: BTreeMap<Category, crate::reports::rules::activity::Staffing> = BTreeMap::new();
        for ((_, category), staffing) in queries::activity::staffing(heads, quotas) {
            totals.entry(category).or_default().add(&staffing);
        }
        Ok(Some(totals))
    }

    /// The headcount of a population per group (see [`queries::activity::headcounts`]).
    pub async fn headcounts(&self, population: &Population) -> Result<BTreeMap<String, i64>> {
        if let Some(engine) = &self.engine
            && let Some(counts) = engine.headcounts(population).await?
        {
            return Ok(counts);
        }
        queries::activity::headcounts(self.conn(), population).await
    }

    /// The threshold below which this caller's cells are hidden, if any.
    pub fn threshold(&self) -> Option<i64> {
        self.threshold
    }

    /// The service's suppression threshold (what an exported file says it hides).
    pub fn suppression_threshold(&self) -> i64 {
        self.suppression_threshold
    }

    /// Ends the read (nothing to keep: it rolls back) and answers `value`.
    pub async fn end<T>(self, value: Result<T>) -> Result<T> {
        let value = value?;
        self.txn.rollback().await?;
        Ok(value)
    }

    /// Authorizes the caller over the population's locality and resolves, in this
    /// snapshot, whether its root is tagged and which localities its tree holds.
    pub async fn scope(&self, mut population: Population) -> Result<Population> {
        match (&population.root, &self.reference) {
            (Some(root), Some(reference)) => {
                authorize_with(&self.ctx.principal, root, Access::Read, |roots| reference.is_within(root, roots))?;
                if !reference.exists(root) {
                    return Err(Error::NotFound(root.name()));
                }
            }
            (Some(root), None) => {
                authorize(self.conn(), &self.ctx.principal, root, Access::Read).await?;
                // Checked here, not only where a report names its places, so that every
                // report answers NOT_FOUND for a locality that does not exist.
                if localities::load_one(self.conn(), root).await?.is_none() {
                    return Err(Error::NotFound(root.name()));
                }
            }
            (None, _) => authorize_national(&self.ctx.principal, Access::Read)?,
        }
        self.resolve(&mut population).await?;
        Ok(population)
    }

    /// Resolves (again, e.g. for another date) the root's tags and the tree of an
    /// authorized population.
    pub async fn resolve(&self, population: &mut Population) -> Result<()> {
        if let Some(reference) = &self.reference {
            population.root_tagged = reference.root_tagged(population);
            population.tree = Some((population.as_of, reference.tree(population)));
            return Ok(());
        }
        population.root_tagged = queries::root_tagged(self.conn(), population).await?;
        queries::resolve_tree(self.conn(), population).await
    }

    /// The levels of every qualification scale, for labelling cells.
    pub async fn scale_levels(&self) -> Result<ScaleLevels> {
        match &self.reference {
            Some(reference) => Ok(reference.levels.clone()),
            None => workforce::scale_levels(self.conn()).await,
        }
    }

    /// The places a report's groups stand for: the scope, its children on the date when
    /// broken down, and its own units.
    pub async fn places(&self, population: &Population) -> Result<Places> {
        if let Some(reference) = &self.reference {
            return places_in(reference, population);
        }
        let place = |record: &LocalityRecord| Place {
            name: record.code.name(),
            display_name: record
                .versions
                .iter()
                .find(|v| v.contains(population.as_of))
                .map(|v| v.display_name.clone())
                .unwrap_or_default(),
            group: record.code.as_str().to_owned(),
        };
        let root = match &population.root {
            Some(code) => {
                Some(localities::load_one(self.conn(), code).await?.ok_or_else(|| Error::NotFound(code.name()))?)
            }
            None => None,
        };
        let total = match &root {
            Some(root) => place(root),
            None => Place {
                name: WHOLE_COUNTRY.to_owned(),
                display_name: WHOLE_COUNTRY_LABEL.to_owned(),
                group: String::new(),
            },
        };
        let mut children = Vec::new();
        let mut own_units = None;
        if population.by_child {
            let query = ListQuery {
                parent: population.root.clone(),
                conditions: if population.root.is_none() {
                    vec![Condition::Tier { equal: true, tier: Tier::Province }]
                } else {
                    Vec::new()
                },
                order: LocalityOrder::Code,
                ..ListQuery::in_force(population.as_of, None, MAX_CHILDREN, None)
            };
            let page = localities::list(self.conn(), &query).await?;
            children = localities::load(self.conn(), &page.codes).await?.iter().map(place).collect();
            own_units = root.as_ref().map(place);
        }
        Ok(Places { total, children, own_units })
    }
}

/// The localities listed as a report's groups: as many as one page of ListLocalities.
const MAX_CHILDREN: u64 = 1000;

/// [`Read::places`] from the reference data in memory.
fn places_in(reference: &Reference, population: &Population) -> Result<Places> {
    let place = |code: &str, display_name: String| Place {
        name: Code::from_db(code.to_owned()).name(),
        display_name,
        group: code.to_owned(),
    };
    let day = population.as_of;
    let total = match &population.root {
        Some(code) => {
            place(code.as_str(), reference.name_at(code.as_str(), day).ok_or_else(|| Error::NotFound(code.name()))?)
        }
        None => {
            Place { name: WHOLE_COUNTRY.to_owned(), display_name: WHOLE_COUNTRY_LABEL.to_owned(), group: String::new() }
        }
    };
    let (mut children, mut own_units) = (Vec::new(), None);
    if population.by_child {
        children = reference
            .child_codes(population.root.as_ref(), day, usize::try_from(MAX_CHILDREN).unwrap_or(usize::MAX))
            .iter()
            .map(|code| place(code, reference.name_at(code, day).unwrap_or_default()))
            .collect();
        own_units = population.root.as_ref().map(|_| total.clone());
    }
    Ok(Places { total, children, own_units })
}

/// A group of a report and the locality it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Resource name of the locality (`localities/-` for the whole country).
    pub name: String,
    /// Its name on the date.
    pub display_name: String,
    /// The group key of the report queries.
    pub group: String,
}

/// The groups of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    /// The scope.
    pub total: Place,
    /// Its children on the date, when broken down.
    pub children: Vec<Place>,
    /// Its own units, when broken down (not for the whole country).
    pub own_units: Option<Place>,
}
