//! The bulk write of the official tree: one transaction that reads the stored tree
//! once, writes the reconciliation plan with multi-row statements, checks the tree's
//! rules over every changed locality at once, records one audit entry and commits.
//!
//! About 14,000 localities change on a fresh database: the row-at-a-time path of
//! `Reorganize` (a load per code) would take minutes, so this path works on sets.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Value};

use super::{
    audit, begin_write, commit_background, insert_rows,
    locality::code_at,
    locality_write::{VERSION_COLUMNS, version_row},
    placeholders, stmt,
};
use crate::{
    domain::{
        locality::{Code, SuccessionKind, covers},
        official_tree::{
            Summary,
            reconcile::{Existing, Plan, plan},
            tree::OfficialTree,
        },
        text::fold,
    },
    error::{Error, Result, RuleViolation},
};

/// The subject of the audit record an import leaves.
pub const AUDIT_SUBJECT: &str = "import-official";
/// The method of that record.
pub const AUDIT_METHOD: &str = "ImportOfficialLocalities";

/// Codes per `IN (…)` list, well under both backends' limits on parameters.
const CODES_PER_STATEMENT: usize = 500;

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
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
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

/// The stored tree: every locality, every version, and the links of `effective_date`.
async fn load_existing(txn: &DatabaseTransaction, effective_date: NaiveDate) -> Result<Existing> {
    let backend = txn.get_database_backend();
    let mut existing = Existing::default();
    for row in txn.query_all_raw(stmt(backend, "SELECT code FROM localities", vec![])).await? {
        existing.heads.insert(code_at(&row, "code")?);
    }
    let versions = txn
        .query_all_raw(stmt(
            backend,
            "SELECT code, valid_from, valid_until, name, kind, parent_code FROM locality_versions \
             ORDER BY code, valid_from",
            vec![],
        ))
        .await?;
    for row in &versions {
        existing.versions.entry(code_at(row, "code")?).or_default().push(super::locality::version_of(row)?);
    }
    let links = txn
        .query_all_raw(stmt(
            backend,
            "SELECT predecessor_code, successor_code, kind FROM locality_links WHERE effective_date = ?",
            vec![effective_date.into()],
        ))
        .await?;
    for row in &links {
        let kind: String = row.try_get("", "kind")?;
        let kind = SuccessionKind::from_db(&kind)
            .ok_or_else(|| Error::internal(format!("stored succession kind `{kind}` is not known")))?;
        existing.links.insert((code_at(row, "predecessor_code")?, code_at(row, "successor_code")?), kind);
    }
    Ok(existing)
}

fn code_values<'a>(codes: impl IntoIterator<Item = &'a Code>) -> Vec<Value> {
    codes.into_iter().map(|c| Value::from(c.as_str())).collect()
}

/// Writes the plan: new localities, version changes, new versions, links, revisions.
async fn write(txn: &DatabaseTransaction, plan: &Plan, effective_date: NaiveDate) -> Result<()> {
    let backend = txn.get_database_backend();
    let now = Utc::now();
    let heads: Vec<Vec<Value>> = plan
        .new_heads
        .iter()
        .map(|code| vec![code.as_str().into(), code.tier().as_str().into(), 1_i64.into(), now.into(), now.into()])
        .collect();
    insert_rows(txn, "localities (code, tier, revision, create_time, update_time)", 5, heads).await?;

    // Ends are the bulk of the updates (every stored unit of the old tree): one
    // statement per few hundred versions sharing a start and an end.
    let mut ends: BTreeMap<(NaiveDate, Option<NaiveDate>), Vec<&Code>> = BTreeMap::new();
    for (update, stored) in &plan.updates {
        if update.only_ends(stored) {
            ends.entry((update.valid_from, update.version.valid_until)).or_default().push(&update.code);
            continue;
        }
        let version = &update.version;
        txn.execute_raw(stmt(
            backend,
            "UPDATE locality_versions SET valid_from = ?, valid_until = ?, name = ?, name_folded = ?, kind = ?, \
             parent_code = ? WHERE code = ? AND valid_from = ?",
            vec![
                version.valid_from.into(),
                version.valid_until.into(),
                version.display_name.as_str().into(),
                fold(&version.display_name).into(),
                version.kind.as_str().into(),
                version.parent.as_ref().map(|p| p.as_str().to_owned()).into(),
                update.code.as_str().into(),
                update.valid_from.into(),
            ],
        ))
        .await?;
    }
    for ((valid_from, valid_until), codes) in &ends {
        for chunk in codes.chunks(CODES_PER_STATEMENT) {
            let mut values: Vec<Value> = vec![(*valid_until).into(), (*valid_from).into()];
            values.extend(code_values(chunk.iter().copied()));
            txn.execute_raw(stmt(
                backend,
                &format!(
                    "UPDATE locality_versions SET valid_until = ? WHERE valid_from = ? AND code IN ({})",
                    placeholders(chunk.len())
                ),
                values,
            ))
            .await?;
        }
    }

    let versions: Vec<Vec<Value>> = plan.inserts.iter().map(|(code, v)| version_row(code, v)).collect();
    insert_rows(txn, VERSION_COLUMNS, 7, versions).await?;

    let links: Vec<Vec<Value>> = plan
        .new_links
        .iter()
        .map(|(p, s, k)| vec![p.as_str().into(), s.as_str().into(), k.as_str().into(), effective_date.into()])
        .collect();
    insert_rows(txn, "locality_links (predecessor_code, successor_code, kind, effective_date)", 4, links).await?;
    for (predecessor, successor, kind) in &plan.relinks {
        txn.execute_raw(stmt(
            backend,
            "UPDATE locality_links SET kind = ? WHERE predecessor_code = ? AND successor_code = ? \
             AND effective_date = ?",
            vec![kind.as_str().into(), predecessor.as_str().into(), successor.as_str().into(), effective_date.into()],
        ))
        .await?;
    }

    let changed: Vec<&Code> = plan.changed.iter().collect();
    for chunk in changed.chunks(CODES_PER_STATEMENT) {
        let mut values: Vec<Value> = vec![now.into()];
        values.extend(code_values(chunk.iter().copied()));
        txn.execute_raw(stmt(
            backend,
            &format!(
                "UPDATE localities SET revision = revision + 1, update_time = ? WHERE code IN ({})",
                placeholders(chunk.len())
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

fn period(from: NaiveDate, until: Option<NaiveDate>) -> String {
    match until {
        Some(until) => format!("[{from}, {until})"),
        None => format!("from {from} on"),
    }
}

/// The rules of `store::locality::coverage_issues` and `unit_coverage_issues`, checked
/// over the whole stored tree at once for the localities in `touched` and their
/// children: every version lies within a version of its parent, every unit within a
/// version of its locality.
async fn broken_rules(txn: &DatabaseTransaction, touched: &BTreeSet<Code>) -> Result<Vec<RuleViolation>> {
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(stmt(
            backend,
            "SELECT code, valid_from, valid_until, parent_code FROM locality_versions",
            vec![],
        ))
        .await?;
    let mut periods: BTreeMap<Code, Vec<(NaiveDate, Option<NaiveDate>)>> = BTreeMap::new();
    let mut children = Vec::new();
    for row in &rows {
        let code = code_at(row, "code")?;
        let from: NaiveDate = row.try_get("", "valid_from")?;
        let until: Option<NaiveDate> = row.try_get("", "valid_until")?;
        if let Some(parent) = row.try_get::<Option<String>>("", "parent_code")?.map(Code::from_db)
            && (touched.contains(&code) || touched.contains(&parent))
        {
            children.push((code.clone(), from, until, parent));
        }
        periods.entry(code).or_default().push((from, until));
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
    let units = txn
        .query_all_raw(stmt(
            backend,
            "SELECT id, locality_code, valid_from, valid_until FROM units ORDER BY id",
            vec![],
        ))
        .await?;
    for row in &units {
        let locality = code_at(row, "locality_code")?;
        if !touched.contains(&locality) {
            continue;
        }
        let id: i64 = row.try_get("", "id")?;
        let from: NaiveDate = row.try_get("", "valid_from")?;
        let until: Option<NaiveDate> = row.try_get("", "valid_until")?;
        if !periods.get(&locality).is_some_and(|p| covers(p, from, until)) {
            rules.push(RuleViolation {
                subject: format!("units/{id}"),
                description: format!(
                    "its period {} would not lie within a version of its locality {}; end or move the unit first",
                    period(from, until),
                    locality.name()
                ),
            });
        }
    }
    Ok(rules)
}
