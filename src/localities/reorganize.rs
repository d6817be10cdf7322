//! Reorganize: endings, creations, amendments and succession links effective on one
//! date, applied in one unit of work, all or nothing.

use std::collections::BTreeSet;

use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{
    queries::{self, coverage_issues, existing, load, load_one},
    rules::{Code, LocalityRecord, Version},
    usecases::{orphan, stranded_units, version_ending},
    wire::{Reorganization, Reorganize},
};
use crate::{
    context::{Access, RequestContext},
    error::{Error, Result, RuleViolation, Violation},
    policy::{authorize, require_access, require_national},
    uow::{self, Begun, Done, Tx, Write},
};

/// Checks the caller may write every locality the reorganisation names: the endings,
/// the amended localities and their new parents, the parents of creations (a creation
/// without one is a province: national callers only), both sides of each link, and a
/// created code that exists already (an ended code taken up again).
async fn authorize_reorganization(tx: &Tx<'_>, reorg: &Reorganization) -> Result<()> {
    require_access(tx.principal(), Access::Write)?;
    let created: BTreeSet<&Code> = reorg.creations.iter().map(|c| &c.code).collect();
    let mut targets: BTreeSet<&Code> = BTreeSet::new();
    targets.extend(reorg.endings.iter());
    for a in &reorg.amendments {
        targets.insert(&a.code);
        targets.extend(a.parent.as_ref());
    }
    for c in &reorg.creations {
        match &c.parent {
            Some(parent) => {
                targets.insert(parent);
            }
            None => require_national(tx.principal(), "creating a province")?,
        }
    }
    for (p, s, _) in &reorg.links {
        targets.insert(p);
        targets.insert(s);
    }
    // A created code that does not exist is judged by its parent.
    let taken_up = existing(tx.conn(), &created.iter().map(|c| (*c).clone()).collect()).await?;
    for code in targets.into_iter().filter(|c| !created.contains(c)).chain(taken_up.iter()) {
        authorize(tx.conn(), tx.principal(), code, Access::Write).await?;
    }
    Ok(())
}

/// INVALID_ARGUMENT naming each locality referred to that neither exists nor is created.
async fn check_referred(tx: &Tx<'_>, reorg: &Reorganization) -> Result<()> {
    let created: BTreeSet<Code> = reorg.creations.iter().map(|c| c.code.clone()).collect();
    let mut referred: Vec<(String, Code)> = Vec::new();
    referred.extend(reorg.endings.iter().enumerate().map(|(i, c)| (format!("endings[{i}]"), c.clone())));
    for (i, a) in reorg.amendments.iter().enumerate() {
        referred.push((format!("amendments[{i}].locality"), a.code.clone()));
        if let Some(p) = &a.parent {
            referred.push((format!("amendments[{i}].parent"), p.clone()));
        }
    }
    for (i, c) in reorg.creations.iter().enumerate() {
        if let Some(p) = &c.parent {
            referred.push((format!("creations[{i}].parent"), p.clone()));
        }
    }
    for (i, (pred, succ, _)) in reorg.links.iter().enumerate() {
        referred.push((format!("links[{i}].predecessor"), pred.clone()));
        referred.push((format!("links[{i}].successor"), succ.clone()));
    }
    let wanted: BTreeSet<Code> = referred.iter().map(|(_, c)| c.clone()).chain(created.iter().cloned()).collect();
    let found = existing(tx.conn(), &wanted).await?;
    let missing: Vec<Violation> = referred
        .iter()
        .filter(|(_, c)| !found.contains(c) && !created.contains(c))
        .map(|(field, c)| Violation::new(field.clone(), format!("{} does not exist", c.name())))
        .collect();
    if missing.is_empty() { Ok(()) } else { Err(Error::InvalidArgument(missing)) }
}

async fn loaded(tx: &Tx<'_>, code: &Code) -> Result<LocalityRecord> {
    load_one(tx.conn(), code).await?.ok_or_else(|| Error::NotFound(code.name()))
}

/// Writes the reorganisation: ends, amends, creates and links.
async fn apply(tx: &Tx<'_>, reorg: &Reorganization) -> Result<()> {
    let day = reorg.effective_date;
    for code in &reorg.endings {
        let ending = version_ending(&loaded(tx, code).await?, day)?;
        queries::end_version(tx.conn(), code, ending.valid_from, day).await?;
    }
    for amendment in &reorg.amendments {
        let record = loaded(tx, &amendment.code).await?;
        let current = version_ending(&record, day)?;
        queries::end_version(tx.conn(), &amendment.code, current.valid_from, day).await?;
        let next = Version {
            valid_from: day,
            valid_until: current.valid_until,
            display_name: amendment.display_name.clone().unwrap_or(current.display_name),
            kind: amendment.kind.unwrap_or(current.kind),
            parent: amendment.parent.clone().or(current.parent),
        };
        if next.kind.tier() != record.tier {
            return Err(Error::precondition(
                amendment.code.name(),
                format!("kind {} does not belong to its tier {}", next.kind.as_str(), record.tier.as_str()),
            ));
        }
        queries::insert_version(tx.conn(), &amendment.code, &next).await?;
    }
    for creation in &reorg.creations {
        let version = Version {
            valid_from: day,
            valid_until: None,
            display_name: creation.display_name.clone(),
            kind: creation.kind,
            parent: creation.parent.clone(),
        };
        match load_one(tx.conn(), &creation.code).await? {
            None => {
                queries::insert_head(tx.conn(), &creation.code, creation.tier).await?;
                queries::replace_tags(tx.conn(), &creation.code, &creation.tags).await?;
            }
            Some(record) => {
                // An ended code taken up again by a new unit.
                if record.versions.iter().any(|v| v.valid_until.is_none_or(|until| until > day)) {
                    return Err(Error::precondition(
                        creation.code.name(),
                        format!("is in force on or after {day}; list it in amendments to change it"),
                    ));
                }
                let mut tags = record.tags.clone();
                tags.extend(creation.tags.iter().cloned());
                tags.sort();
                tags.dedup();
                queries::replace_tags(tx.conn(), &creation.code, &tags).await?;
            }
        }
        queries::insert_version(tx.conn(), &creation.code, &version).await?;
    }
    for (predecessor, successor, kind) in &reorg.links {
        queries::insert_link(tx.conn(), predecessor, successor, *kind, day).await?;
    }
    Ok(())
}

/// Applies a reorganisation atomically; returns the localities whose versions it
/// changed. A retry with the same request id answers those localities as they are now
/// (the body is the same, so they are the same localities).
pub async fn reorganize(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Reorganize,
) -> Result<Vec<LocalityRecord>> {
    let Reorganize { reorg, key, validate_only } = request;
    let write = Write::new("Reorganize").idempotent(key).validate_only(validate_only);
    let touched = reorg.touched();
    let touched_list: Vec<Code> = touched.iter().cloned().collect();
    let reorg = &reorg;
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            // A retry is authorised as a first request would be now, then answered
            // with the localities as they are now.
            Begun::Replay(tx, _) => {
                let records = async {
                    authorize_reorganization(&tx, reorg).await?;
                    load(tx.conn(), &touched_list).await
                }
                .await;
                return tx.replay(records).await;
            }
            Begun::Fresh(tx) => tx,
        };
        authorize_reorganization(&tx, reorg).await?;
        queries::lock_tree(tx.conn()).await?;
        check_referred(&tx, reorg).await?;
        apply(&tx, reorg).await?;
        let mut rules: Vec<RuleViolation> = coverage_issues(tx.conn(), &touched).await?.iter().map(orphan).collect();
        rules.extend(stranded_units(tx.conn(), &touched).await?);
        if !rules.is_empty() {
            return Err(Error::FailedPrecondition(rules));
        }
        let mut changed = touched.clone();
        changed.extend(reorg.links.iter().flat_map(|(p, s, _)| [p.clone(), s.clone()]));
        queries::bump(tx.conn(), &changed, None).await?;
        let records = load(tx.conn(), &touched_list).await?;
        let detail = json!({
            "legal_basis": reorg.legal_basis,
            "endings": reorg.endings.iter().map(Code::name).collect::<Vec<_>>(),
            "creations": reorg.creations.iter().map(|c| c.code.name()).collect::<Vec<_>>(),
            "amendments": reorg.amendments.iter().map(|a| a.code.name()).collect::<Vec<_>>(),
            "links": reorg.links.len(),
        });
        tx.commit(Done::new(records, format!("reorganization/{}", reorg.effective_date)).detail(detail)).await
    })
    .await
}
