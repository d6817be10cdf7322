//! What LocalityService does: each use case checks the caller's access and the tree's
//! rules, and writes through the unit of work, so that every check that reads the
//! database runs in the transaction that writes.
//!
//! The tree's rules span rows (a version must lie within its parent's, a unit within
//! its locality's): every write of the tree first takes [`queries::lock_tree`], so
//! that on PostgreSQL tree writers queue one behind the other as they do on SQLite,
//! and the checks made in the transaction still hold at its commit. The primary key
//! of `localities` holds "one locality per code" on both backends besides.
//!
//! Scope is judged before existence: a scoped caller asking for a locality outside
//! its scope is refused whether or not it exists.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use super::{
    queries::{self, CoverageIssue, ListQuery, coverage_issues, existing, load, load_one, unit_coverage_issues},
    rules::{Code, LocalityOrder, LocalityRecord, Tier, Version, period, shown_on},
    wire::{CreateLocality, DeleteLocality, GetLocality, ListLocalities, UpdateLocality},
};
use crate::{
    context::{Access, Principal, RequestContext, Scope},
    edge::etag,
    error::{Error, Result, RuleViolation, Violation},
    policy::{authorize, require_access, require_national},
    uow::{self, Begun, Done, Tx, Write},
};

/// Checks write access to every distinct parent named in `versions`.
pub(super) async fn authorize_parents(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    versions: &[Version],
) -> Result<()> {
    let parents: BTreeSet<&Code> = versions.iter().filter_map(|v| v.parent.as_ref()).collect();
    for parent in parents {
        authorize(conn, principal, parent, Access::Write).await?;
    }
    Ok(())
}

/// Field violations for parents that do not exist.
async fn missing_parents(conn: &impl ConnectionTrait, versions: &[Version], path: &str) -> Result<Vec<Violation>> {
    let parents: BTreeSet<Code> = versions.iter().filter_map(|v| v.parent.clone()).collect();
    let found = existing(conn, &parents).await?;
    Ok(versions
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.parent
                .as_ref()
                .filter(|p| !found.contains(*p))
                .map(|p| Violation::new(format!("{path}[{i}].parent"), format!("{} does not exist", p.name())))
        })
        .collect())
}

/// Splits coverage issues into field violations of `code`'s own versions (matched by
/// start date into `path`) and rule violations of other localities.
fn split_issues(
    issues: Vec<CoverageIssue>,
    code: &Code,
    versions: &[Version],
    path: &str,
) -> (Vec<Violation>, Vec<RuleViolation>) {
    let mut own = Vec::new();
    let mut others = Vec::new();
    for issue in issues {
        if &issue.child == code {
            let index = versions.iter().position(|v| v.valid_from == issue.valid_from).unwrap_or_default();
            own.push(Violation::new(
                format!("{path}[{index}].parent"),
                format!(
                    "{} is not in force over the whole period {} of this version",
                    issue.parent.name(),
                    period(issue.valid_from, issue.valid_until)
                ),
            ));
        } else {
            others.push(orphan(&issue));
        }
    }
    (own, others)
}

/// The rule violation of a version left outside its parent's.
pub(super) fn orphan(issue: &CoverageIssue) -> RuleViolation {
    RuleViolation {
        subject: issue.child.name(),
        description: format!(
            "its version {} would not lie within a version of its parent {}",
            period(issue.valid_from, issue.valid_until),
            issue.parent.name()
        ),
    }
}

/// Rule violations for units left outside their locality's versions.
pub(super) async fn stranded_units(conn: &impl ConnectionTrait, codes: &BTreeSet<Code>) -> Result<Vec<RuleViolation>> {
    Ok(unit_coverage_issues(conn, codes)
        .await?
        .into_iter()
        .map(|(id, from, until, locality)| RuleViolation {
            subject: format!("units/{id}"),
            description: format!(
                "its period {} would not lie within a version of its locality {}; end or move the unit first",
                period(from, until),
                locality.name()
            ),
        })
        .collect())
}

async fn loaded(conn: &impl ConnectionTrait, code: &Code) -> Result<LocalityRecord> {
    load_one(conn, code).await?.ok_or_else(|| Error::NotFound(code.name()))
}

/// The locality a replayed create made, if the caller may still read it.
async fn replayed(tx: &Tx<'_>, resource: &str) -> Result<LocalityRecord> {
    let code = Code::from_name(resource).map_err(Error::internal)?;
    authorize(tx.conn(), tx.principal(), &code, Access::Read).await?;
    loaded(tx.conn(), &code).await
}

/// Creates a locality with its history and tags. Only a national caller creates a
/// province; anyone else needs write access to every parent its history names.
pub async fn create(db: &DatabaseConnection, ctx: &RequestContext, request: CreateLocality) -> Result<LocalityRecord> {
    let CreateLocality { new, key, validate_only } = request;
    let write = Write::new("CreateLocality").idempotent(key).validate_only(validate_only);
    let code = &new.code;
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            Begun::Replay(tx, resource) => {
                let record = replayed(&tx, &resource).await;
                return tx.replay(record).await;
            }
            Begun::Fresh(tx) => tx,
        };
        if new.tier == Tier::Province {
            require_national(tx.principal(), "creating a province")?;
        } else {
            require_access(tx.principal(), Access::Write)?;
            authorize_parents(tx.conn(), tx.principal(), &new.versions).await?;
        }
        queries::lock_tree(tx.conn()).await?;
        if load_one(tx.conn(), code).await?.is_some() {
            // Existence is told only to callers whose scope covers the locality.
            authorize(tx.conn(), tx.principal(), code, Access::Read).await?;
            return Err(Error::AlreadyExists(code.name()));
        }
        let missing = missing_parents(tx.conn(), &new.versions, "locality.versions").await?;
        if !missing.is_empty() {
            return Err(Error::InvalidArgument(missing));
        }
        // The primary key holds one locality per code even if the lock were missing.
        match queries::insert_head(tx.conn(), code, new.tier).await {
            Err(Error::AlreadyExists(_)) => return Err(Error::AlreadyExists(code.name())),
            other => other?,
        }
        let rows: Vec<_> = new.versions.iter().map(|v| queries::version_values(code, v)).collect();
        queries::insert_versions(tx.conn(), &rows).await?;
        queries::replace_tags(tx.conn(), code, &new.tags).await?;
        let issues = coverage_issues(tx.conn(), &BTreeSet::from([code.clone()])).await?;
        let (own, _) = split_issues(issues, code, &new.versions, "locality.versions");
        if !own.is_empty() {
            return Err(Error::InvalidArgument(own));
        }
        let record = loaded(tx.conn(), code).await?;
        let detail = json!({ "versions": new.versions.len(), "tags": new.tags });
        tx.commit(Done::new(record, code.name()).detail(detail)).await
    })
    .await
}

/// Gets a locality.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: &GetLocality) -> Result<LocalityRecord> {
    authorize(db, &ctx.principal, &request.code, Access::Read).await?;
    loaded(db, &request.code).await
}

/// Lists localities in force on a date (children of a parent, descendants of a
/// locality, or names holding words), within the caller's scope, one page at a time;
/// with the token of the next page.
pub async fn list(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: ListLocalities,
) -> Result<(Vec<LocalityRecord>, String)> {
    let ListLocalities { parent, descendants_of, words, as_of, conditions, order, page } = request;
    match parent.as_ref().or(descendants_of.as_ref()) {
        Some(code) => {
            authorize(db, &ctx.principal, code, Access::Read).await?;
            // A parent that does not exist is NOT_FOUND, not an empty page.
            if queries::load_one(db, code).await?.is_none() {
                return Err(Error::NotFound(code.name()));
            }
        }
        None => require_access(&ctx.principal, Access::Read)?,
    }
    let scope = match &ctx.principal.scope {
        Scope::National => None,
        Scope::Localities(roots) => Some(roots.clone()),
    };
    let query = ListQuery {
        parent,
        descendants_of,
        words,
        conditions,
        order: order.0,
        descending: order.1,
        // One more than the page, so that the page knows whether another follows.
        ..ListQuery::in_force(as_of, scope, page.fetch(), page.after.clone())
    };
    let codes = queries::list(db, &query).await?.codes;
    let records = load(db, &codes).await?;
    Ok(page.cut(records, |r| match order.0 {
        LocalityOrder::Code => vec![r.code.as_str().to_owned()],
        LocalityOrder::DisplayName => {
            let name = shown_on(&r.versions, as_of).1.map(|v| v.display_name.clone()).unwrap_or_default();
            vec![name, r.code.as_str().to_owned()]
        }
    }))
}

/// The ancestors of a locality on a date that the caller may read, nearest first.
pub async fn ancestors(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: &GetLocality,
) -> Result<Vec<LocalityRecord>> {
    let GetLocality { code, as_of } = request;
    authorize(db, &ctx.principal, code, Access::Read).await?;
    let Some(mut version) = queries::version_at(db, code, *as_of).await? else {
        return Err(Error::NotFound(format!("{} on {as_of}", code.name())));
    };
    let mut chain = Vec::new();
    while let Some(parent) = version.parent.take() {
        // Tiers strictly decrease upwards, so this stops after at most two steps.
        let Some(next) = queries::version_at(db, &parent, *as_of).await? else { break };
        chain.push(parent);
        version = next;
        if chain.len() > 3 {
            return Err(Error::internal("locality ancestry deeper than the tiers allow"));
        }
    }
    let mut visible = Vec::with_capacity(chain.len());
    for ancestor in chain {
        if authorize(db, &ctx.principal, &ancestor, Access::Read).await.is_ok() {
            visible.push(ancestor);
        }
    }
    load(db, &visible).await
}

/// Updates the tags and/or history of a locality. A new history must keep every
/// child's versions within its own and every unit's period within it.
pub async fn update(db: &DatabaseConnection, ctx: &RequestContext, request: UpdateLocality) -> Result<LocalityRecord> {
    let UpdateLocality { code, etag: given, changes } = request;
    let write = Write::new("UpdateLocality");
    let code = &code;
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize(tx.conn(), tx.principal(), code, Access::Write).await?;
        if let Some(versions) = &changes.versions {
            authorize_parents(tx.conn(), tx.principal(), versions).await?;
        }
        queries::lock_tree(tx.conn()).await?;
        let record = loaded(tx.conn(), code).await?;
        etag::check(&given, record.revision, &code.name())?;
        if let Some(versions) = &changes.versions {
            let missing = missing_parents(tx.conn(), versions, "locality.versions").await?;
            if !missing.is_empty() {
                return Err(Error::InvalidArgument(missing));
            }
            queries::delete_versions(tx.conn(), code).await?;
            let rows: Vec<_> = versions.iter().map(|v| queries::version_values(code, v)).collect();
            queries::insert_versions(tx.conn(), &rows).await?;
            let only = BTreeSet::from([code.clone()]);
            let (own, mut others) =
                split_issues(coverage_issues(tx.conn(), &only).await?, code, versions, "locality.versions");
            if !own.is_empty() {
                return Err(Error::InvalidArgument(own));
            }
            others.extend(stranded_units(tx.conn(), &only).await?);
            if !others.is_empty() {
                return Err(Error::FailedPrecondition(others));
            }
        }
        if let Some(tags) = &changes.tags {
            queries::replace_tags(tx.conn(), code, tags).await?;
        }
        if !queries::bump(tx.conn(), &BTreeSet::from([code.clone()]), Some(record.revision)).await? {
            return Err(Error::Aborted(format!("{} changed concurrently; read it again", code.name())));
        }
        let updated = loaded(tx.conn(), code).await?;
        let detail = json!({ "tags": changes.tags, "versions": changes.versions.as_ref().map(Vec::len) });
        tx.commit(Done::new(updated, code.name()).detail(detail)).await
    })
    .await
}

/// Deletes a locality that nothing refers to (no child version, no succession link;
/// units and other records refer to it through foreign keys).
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: DeleteLocality) -> Result<()> {
    let DeleteLocality { code, etag: given } = request;
    let write = Write::new("DeleteLocality");
    let code = &code;
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize(tx.conn(), tx.principal(), code, Access::Write).await?;
        queries::lock_tree(tx.conn()).await?;
        let record = loaded(tx.conn(), code).await?;
        etag::check(&given, record.revision, &code.name())?;
        let (children, links) = queries::reference_counts(tx.conn(), code).await?;
        let mut rules = Vec::new();
        if children > 0 {
            rules.push(RuleViolation {
                subject: code.name(),
                description: format!("{children} version(s) of other localities have it as parent"),
            });
        }
        if links > 0 {
            rules.push(RuleViolation {
                subject: code.name(),
                description: format!("{links} succession link(s) involve it; end it with Reorganize instead"),
            });
        }
        if !rules.is_empty() {
            return Err(Error::FailedPrecondition(rules));
        }
        queries::delete(tx.conn(), code).await?;
        tx.commit(Done::new((), code.name())).await
    })
    .await
}

/// The version of `record` in force on `day`, after checking that it began before
/// `day` and that none follows it: what a reorganisation on `day` ends.
pub(super) fn version_ending(record: &LocalityRecord, day: NaiveDate) -> Result<Version> {
    let name = record.code.name();
    if record.versions.iter().any(|v| v.valid_from >= day) {
        return Err(Error::precondition(name, format!("has a version starting on or after {day}")));
    }
    record
        .versions
        .iter()
        .find(|v| v.contains(day))
        .cloned()
        .ok_or_else(|| Error::precondition(name, format!("is not in force on {day}")))
}
