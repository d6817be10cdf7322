//! The bulk write of the official tree: one transaction that reads the stored tree
//! once, writes the reconciliation plan with multi-row statements, checks the tree's
//! rules over every changed locality at once, records one audit entry and commits.
//!
//! About 14,000 localities change on a fresh database: the row-at-a-time path of
//! `Reorganize` (a load per code) would take minutes, so this path works on sets.
//!
//! It is no caller's request, so it takes no unit of work: it is the one write that
//! begins and commits its own transaction (a background commit, facts in step).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend};

use super::{
    Summary,
    reconcile::{Existing, Plan, plan},
    tree::OfficialTree,
};
use crate::{
    domain::text::fold,
    edge::enums::Table as _,
    error::{Error, Result, RuleViolation},
    localities::{
        queries::{self, ROWS_PER_STATEMENT, VersionRow},
        rules::{Code, SuccessionKind, Version, covers, period},
    },
    sql::{self, FromQueryResult, raw_sql},
    store::{audit, begin_write, commit_background},
};

/// The subject of the audit record an import leaves.
pub const AUDIT_SUBJECT: &str = "import-official";
/// The method of that record.
pub const AUDIT_METHOD: &str = "ImportOfficialLocalities";

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportSettings {
    /// The reorganisation day.
    pub effective_date: NaiveDate,
    /// Where the old tree starts when nothing older is stored.
    pub old_tree_from: NaiveDate,
    /// Compute, check and roll back.
    pub dry_run: bool,
    /// What the audit record says of the inputs (file names, digests).
    pub inputs: serde_json::Value,
}

/// Imports `tree` into the database in one transaction; returns what it did (or, for
/// a dry run or an import that finds nothing to do, what it would do).
///
/// Fails with FAILED_PRECONDITION, writing nothing, if the result would break the
/// tree's rules: a version outside its parent's, a unit outside its locality's.
pub async fn import(db: &DatabaseConnection, tree: &OfficialTree, settings: &ImportSettings) -> Result<Summary> {
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // Other writers of the tree and of units wait until the import commits, so
        // that the rules checked below still hold then; readers go on.
        txn.execute_unprepared(
            "LOCK TABLE localities, locality_versions, locality_links, locality_tags IN EXCLUSIVE MODE; \
             LOCK TABLE units IN SHARE MODE",
        )
        .await?;
    }
    let existing = load_existing(&txn, settings.effective_date).await?;
    let plan =
        plan(tree, &existing, settings.effective_date, settings.old_tree_from).map_err(Error::FailedPrecondition)?;
    let mut summary = plan.summary.clone();
    summary.dry_run = settings.dry_run;
    if plan.is_empty() {
        txn.rollback().await?;
        return Ok(summary);
    }
    write(&txn, &plan, settings.effective_date).await?;
    let rules = broken_rules(&txn, &plan.touched).await?;
    if !rules.is_empty() {
        txn.rollback().await?;
        return Err(Error::FailedPrecondition(rules));
    }
    let mut detail = summary.audit_detail();
    if let Some(object) = detail.as_object_mut() {
        object.insert("inputs".into(), settings.inputs.clone());
    }
    audit::record(
        &txn,
        AUDIT_SUBJECT,
        AUDIT_METHOD,
        &format!("reorganization/{}", settings.effective_date),
        None,
        detail,
    )
    .await?;
    if settings.dry_run {
        txn.rollback().await?;
    } else {
        commit_background(txn).await?;
    }
    Ok(summary)
}

#[derive(FromQueryResult)]
struct CodeRow {
    code: String,
}

#[derive(FromQueryResult)]
struct LinkRow {
    predecessor_code: String,
    successor_code: String,
    kind: String,
}

/// The stored tree: every locality, every version, and the links of `effective_date`.
async fn load_existing(txn: &DatabaseTransaction, effective_date: NaiveDate) -> Result<Existing> {
    let mut existing = Existing::default();
    let heads: Vec<CodeRow> = sql::all(txn, raw_sql!(Postgres, "SELECT code FROM localities")).await?;
    existing.heads.extend(heads.into_iter().map(|r| Code::from_db(r.code)));
    let versions: Vec<VersionRow> = sql::all(
        txn,
        raw_sql!(
            Postgres,
            "SELECT code, valid_from, valid_until, name, kind, parent_code FROM locality_versions \
             ORDER BY code, valid_from"
        ),
    )
    .await?;
    for row in versions {
        let code = Code::from_db(row.code.clone());
        existing.versions.entry(code).or_default().push(Version::try_from(row)?);
    }
    let links: Vec<LinkRow> = sql::all(
        txn,
        raw_sql!(
            Postgres,
            "SELECT predecessor_code, successor_code, kind FROM locality_links WHERE effective_date = {effective_date}"
        ),
    )
    .await?;
    for row in links {
        let kind = SuccessionKind::from_stored(&row.kind)
            .ok_or_else(|| Error::internal(format!("stored succession kind `{}` is not known", row.kind)))?;
        existing.links.insert((Code::from_db(row.predecessor_code), Code::from_db(row.successor_code)), kind);
    }
    Ok(existing)
}

fn strs<'a>(codes: impl IntoIterator<Item = &'a Code>) -> Vec<String> {
    codes.into_iter().map(|c| c.as_str().to_owned()).collect()
}

/// Writes the plan: new localities, version changes, new versions, links, revisions.
async fn write(txn: &DatabaseTransaction, plan: &Plan, effective_date: NaiveDate) -> Result<()> {
    let now = Utc::now();
    type Head = (String, &'static str, i64, chrono::DateTime<Utc>, chrono::DateTime<Utc>);
    let heads: Vec<Head> =
        plan.new_heads.iter().map(|code| (code.as_str().to_owned(), code.tier().stored(), 1, now, now)).collect();
    for chunk in heads.chunks(ROWS_PER_STATEMENT) {
        let rows = chunk.to_vec();
        sql::execute(
            txn,
            raw_sql!(
                Postgres,
                "INSERT INTO localities (code, tier, revision, create_time, update_time) VALUES {..(rows.0:4),}"
            ),
        )
        .await?;
    }

    // Ends are the bulk of the updates (every stored unit of the old tree): one
    // statement per few hundred versions sharing a start and an end.
    let mut ends: BTreeMap<(NaiveDate, Option<NaiveDate>), Vec<&Code>> = BTreeMap::new();
    for (update, stored) in &plan.updates {
        if update.only_ends(stored) {
            ends.entry((update.valid_from, update.version.valid_until)).or_default().push(&update.code);
            continue;
        }
        let version = &update.version;
        let (from, until, name, folded) =
            (version.valid_from, version.valid_until, version.display_name.as_str(), fold(&version.display_name));
        let (kind, parent) = (version.kind.stored(), version.parent.as_ref().map(|p| p.as_str().to_owned()));
        let (code, stored_from) = (&update.code, update.valid_from);
        sql::execute(
            txn,
            raw_sql!(
                Postgres,
                "UPDATE locality_versions SET valid_from = {from}, valid_until = {until}, name = {name}, \
                 name_folded = {folded}, kind = {kind}, parent_code = {parent} \
                 WHERE code = {code} AND valid_from = {stored_from}"
            ),
        )
        .await?;
    }
    for (&(valid_from, valid_until), codes) in &ends {
        for chunk in codes.chunks(ROWS_PER_STATEMENT) {
            let list = strs(chunk.iter().copied());
            sql::execute(
                txn,
                raw_sql!(
                    Postgres,
                    "UPDATE locality_versions SET valid_until = {valid_until} \
                     WHERE valid_from = {valid_from} AND code IN ({..list})"
                ),
            )
            .await?;
        }
    }

    let versions: Vec<_> = plan.inserts.iter().map(|(code, v)| queries::version_values(code, v)).collect();
    queries::insert_versions(txn, &versions).await?;

    let links: Vec<(String, String, &'static str, NaiveDate)> = plan
        .new_links
        .iter()
        .map(|(p, s, k)| (p.as_str().to_owned(), s.as_str().to_owned(), k.stored(), effective_date))
        .collect();
    for chunk in links.chunks(ROWS_PER_STATEMENT) {
        let rows = chunk.to_vec();
        sql::execute(
            txn,
            raw_sql!(
                Postgres,
                "INSERT INTO locality_links (predecessor_code, successor_code, kind, effective_date) \
                 VALUES {..(rows.0:3),}"
            ),
        )
        .await?;
    }
    for (predecessor, successor, kind) in &plan.relinks {
        let kind = kind.stored();
        sql::execute(
            txn,
            raw_sql!(
                Postgres,
                "UPDATE locality_links SET kind = {kind} WHERE predecessor_code = {predecessor} \
                 AND successor_code = {successor} AND effective_date = {effective_date}"
            ),
        )
        .await?;
    }

    let changed: Vec<&Code> = plan.changed.iter().collect();
    for chunk in changed.chunks(ROWS_PER_STATEMENT) {
        let list = strs(chunk.iter().copied());
        sql::execute(
            txn,
            raw_sql!(
                Postgres,
                "UPDATE localities SET revision = revision + 1, update_time = {now} WHERE code IN ({..list})"
            ),
        )
        .await?;
    }
    Ok(())
}

/// The rules of `queries::coverage_issues` and `unit_coverage_issues`, checked over
/// the whole stored tree at once for the localities in `touched` and their children:
/// every version lies within a version of its parent, every unit within a version of
/// its locality.
async fn broken_rules(txn: &DatabaseTransaction, touched: &BTreeSet<Code>) -> Result<Vec<RuleViolation>> {
    #[derive(FromQueryResult)]
    struct PeriodRow {
        code: String,
        valid_from: NaiveDate,
        valid_until: Option<NaiveDate>,
        parent_code: Option<String>,
    }
    #[derive(FromQueryResult)]
    struct UnitRow {
        id: i64,
        locality_code: String,
        valid_from: NaiveDate,
        valid_until: Option<NaiveDate>,
    }
    let rows: Vec<PeriodRow> =
        sql::all(txn, raw_sql!(Postgres, "SELECT code, valid_from, valid_until, parent_code FROM locality_versions"))
            .await?;
    let mut periods: BTreeMap<Code, Vec<(NaiveDate, Option<NaiveDate>)>> = BTreeMap::new();
    let mut children = Vec::new();
    for row in rows {
        let code = Code::from_db(row.code);
        if let Some(parent) = row.parent_code.map(Code::from_db)
            && (touched.contains(&code) || touched.contains(&parent))
        {
            children.push((code.clone(), row.valid_from, row.valid_until, parent));
        }
        periods.entry(code).or_default().push((row.valid_from, row.valid_until));
    }
    let mut rules = Vec::new();
    for (child, from, until, parent) in children {
        if !periods.get(&parent).is_some_and(|p| covers(p, from, until)) {
            rules.push(RuleViolation {
                subject: child.name(),
                description: format!(
                    "its version {} would not lie within a version of its parent {}",
                    period(from, until),
                    parent.name()
                ),
            });
        }
    }
    let units: Vec<UnitRow> =
        sql::all(txn, raw_sql!(Postgres, "SELECT id, locality_code, valid_from, valid_until FROM units ORDER BY id"))
            .await?;
    for unit in units {
        let locality = Code::from_db(unit.locality_code);
        if !touched.contains(&locality) {
            continue;
        }
        if !periods.get(&locality).is_some_and(|p| covers(p, unit.valid_from, unit.valid_until)) {
            rules.push(RuleViolation {
                subject: format!("units/{}", unit.id),
                description: format!(
                    "its period {} would not lie within a version of its locality {}; end or move the unit first",
                    period(unit.valid_from, unit.valid_until),
                    locality.name()
                ),
            });
        }
    }
    Ok(rules)
}
