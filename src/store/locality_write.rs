//! Writes of the locality tree, each in one transaction: create, update, delete and
//! reorganise. Each checks the tree's rules against the state it is about to commit,
//! records the audit entry, and commits only if the caller is still waiting.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, Value};
use serde_json::json;

use super::{
    audit, begin_write,
    locality::{
        CoverageIssue, LocalityRecord, coverage_issues, existing, load, load_one, reference_counts,
        unit_coverage_issues,
    },
    placeholders, stmt,
};
use crate::{
    context::RequestContext,
    domain::{
        locality::{Code, Kind, SuccessionKind, Tier, Version},
        text::fold,
    },
    error::{Error, Result, RuleViolation, Violation},
};

/// A locality to create.
#[derive(Debug, Clone)]
pub struct NewLocality {
    /// Its code.
    pub code: Code,
    /// Its tier (matches the code).
    pub tier: Tier,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its history, checked by `domain::locality::check_versions`.
    pub versions: Vec<Version>,
}

/// Idempotency of a create-like request (AIP-155).
#[derive(Debug, Clone)]
pub struct Idempotency {
    /// The caller's request identifier, if it gave one.
    pub request_id: Option<String>,
    /// Digest of the request body without its identifier.
    pub fingerprint: String,
}

pub use crate::domain::etag;

fn check_etag(given: Option<&str>, record: &LocalityRecord) -> Result<()> {
    match given {
        Some(etag_given) if etag_given != etag(record.revision) => Err(Error::Aborted(format!(
            "{} changed since it was read (etag {etag_given}, now {}); read it again",
            record.code.name(),
            etag(record.revision)
        ))),
        _ => Ok(()),
    }
}

/// Commits, or rolls back for a dry run, but only while the caller still waits.
async fn finish(txn: DatabaseTransaction, ctx: &RequestContext, validate_only: bool) -> Result<()> {
    if validate_only {
        ctx.check_deadline()?;
        txn.rollback().await?;
    } else {
        super::commit(txn, ctx).await?;
    }
    Ok(())
}

/// Replays an earlier request with the same identifier: its resource names, or
/// INVALID_ARGUMENT if the identifier was used for a different request.
async fn replay(txn: &DatabaseTransaction, method: &str, idem: &Idempotency) -> Result<Option<Vec<Code>>> {
    Ok(audit::replayed(txn, method, idem.request_id.as_deref(), &idem.fingerprint).await?.map(|resource| {
        resource.split(',').filter(|n| !n.is_empty()).filter_map(|name| Code::from_name(name).ok()).collect()
    }))
}

/// The columns of `locality_versions` that a write fills, in `VERSION_COLUMNS` order.
pub(crate) fn version_row(code: &Code, version: &Version) -> Vec<Value> {
    vec![
        code.as_str().into(),
        version.valid_from.into(),
        version.valid_until.into(),
        version.display_name.as_str().into(),
        fold(&version.display_name).into(),
        version.kind.as_str().into(),
        version.parent.as_ref().map(|p| p.as_str().to_owned()).into(),
    ]
}

/// The table and columns `version_row` fills.
pub(crate) const VERSION_COLUMNS: &str =
    "locality_versions (code, valid_from, valid_until, name, name_folded, kind, parent_code)";

async fn insert_version(txn: &DatabaseTransaction, code: &Code, version: &Version) -> Result<()> {
    super::insert_rows(txn, VERSION_COLUMNS, 7, vec![version_row(code, version)]).await
}

async fn replace_tags(txn: &DatabaseTransaction, code: &Code, tags: &[String]) -> Result<()> {
    let backend = txn.get_database_backend();
    txn.execute_raw(stmt(backend, "DELETE FROM locality_tags WHERE code = ?", vec![code.as_str().into()])).await?;
    for tag in tags {
        txn.execute_raw(stmt(
            backend,
            "INSERT INTO locality_tags (code, tag) VALUES (?, ?)",
            vec![code.as_str().into(), tag.as_str().into()],
        ))
        .await?;
    }
    Ok(())
}

async fn insert_head(txn: &DatabaseTransaction, code: &Code, tier: Tier) -> Result<()> {
    let now = Utc::now();
    txn.execute_raw(stmt(
        txn.get_database_backend(),
        "INSERT INTO localities (code, tier, revision, create_time, update_time) VALUES (?, ?, 1, ?, ?)",
        vec![code.as_str().into(), tier.as_str().into(), now.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Increments the revisions of `codes`; with `expected`, only if the (single) code is
/// still at that revision. Returns whether every code was bumped.
async fn bump(txn: &DatabaseTransaction, codes: &BTreeSet<Code>, expected: Option<i64>) -> Result<bool> {
    if codes.is_empty() {
        return Ok(true);
    }
    let mut sql = format!(
        "UPDATE localities SET revision = revision + 1, update_time = ? WHERE code IN ({})",
        placeholders(codes.len())
    );
    let mut values: Vec<Value> = vec![Utc::now().into()];
    values.extend(codes.iter().map(|c| Value::from(c.as_str())));
    if let Some(revision) = expected {
        sql.push_str(" AND revision = ?");
        values.push(revision.into());
    }
    let result = txn.execute_raw(stmt(txn.get_database_backend(), &sql, values)).await?;
    Ok(result.rows_affected() == codes.len() as u64)
}

/// Field violations for parents that do not exist.
async fn missing_parents(txn: &DatabaseTransaction, versions: &[Version], path: &str) -> Result<Vec<Violation>> {
    let parents: BTreeSet<Code> = versions.iter().filter_map(|v| v.parent.clone()).collect();
    let found = existing(txn, &parents).await?;
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

fn period(from: NaiveDate, until: Option<NaiveDate>) -> String {
    match until {
        Some(until) => format!("[{from}, {until})"),
        None => format!("from {from} on"),
    }
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

/// Rule violations for units left outside their locality's versions.
async fn stranded_units(txn: &DatabaseTransaction, codes: &BTreeSet<Code>) -> Result<Vec<RuleViolation>> {
    Ok(unit_coverage_issues(txn, codes)
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

fn orphan(issue: &CoverageIssue) -> RuleViolation {
    RuleViolation {
        subject: issue.child.name(),
        description: format!(
            "its version {} would not lie within a version of its parent {}",
            period(issue.valid_from, issue.valid_until),
            issue.parent.name()
        ),
    }
}

/// Creates a locality.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    new: &NewLocality,
    idem: &Idempotency,
    validate_only: bool,
) -> Result<LocalityRecord> {
    const METHOD: &str = "CreateLocality";
    let txn = begin_write(db).await?;
    if let Some(codes) = replay(&txn, METHOD, idem).await? {
        let record = load(&txn, &codes).await?.pop().ok_or_else(|| Error::NotFound(new.code.name()))?;
        txn.rollback().await?;
        return Ok(record);
    }
    if load_one(&txn, &new.code).await?.is_some() {
        return Err(Error::AlreadyExists(new.code.name()));
    }
    let missing = missing_parents(&txn, &new.versions, "locality.versions").await?;
    if !missing.is_empty() {
        return Err(Error::InvalidArgument(missing));
    }
    insert_head(&txn, &new.code, new.tier).await?;
    for version in &new.versions {
        insert_version(&txn, &new.code, version).await?;
    }
    replace_tags(&txn, &new.code, &new.tags).await?;
    let issues = coverage_issues(&txn, &BTreeSet::from([new.code.clone()])).await?;
    let (own, _) = split_issues(issues, &new.code, &new.versions, "locality.versions");
    if !own.is_empty() {
        return Err(Error::InvalidArgument(own));
    }
    if let Some(request_id) = &idem.request_id {
        audit::remember_request(&txn, METHOD, request_id, &idem.fingerprint, &new.code.name()).await?;
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        METHOD,
        &new.code.name(),
        idem.request_id.as_deref(),
        json!({ "versions": new.versions.len(), "tags": new.tags }),
    )
    .await?;
    let record = load_one(&txn, &new.code).await?.ok_or_else(|| Error::internal("created locality vanished"))?;
    finish(txn, ctx, validate_only).await?;
    Ok(record)
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct LocalityChanges {
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// New history (checked by `domain::locality::check_versions`).
    pub versions: Option<Vec<Version>>,
}

/// Updates the tags and/or history of a locality.
pub async fn update(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    code: &Code,
    etag_given: Option<&str>,
    changes: &LocalityChanges,
) -> Result<LocalityRecord> {
    let txn = begin_write(db).await?;
    let record = load_one(&txn, code).await?.ok_or_else(|| Error::NotFound(code.name()))?;
    check_etag(etag_given, &record)?;
    let backend = txn.get_database_backend();
    if let Some(versions) = &changes.versions {
        let missing = missing_parents(&txn, versions, "locality.versions").await?;
        if !missing.is_empty() {
            return Err(Error::InvalidArgument(missing));
        }
        txn.execute_raw(stmt(backend, "DELETE FROM locality_versions WHERE code = ?", vec![code.as_str().into()]))
            .await?;
        for version in versions {
            insert_version(&txn, code, version).await?;
        }
        let issues = coverage_issues(&txn, &BTreeSet::from([code.clone()])).await?;
        let (own, others) = split_issues(issues, code, versions, "locality.versions");
        if !own.is_empty() {
            return Err(Error::InvalidArgument(own));
        }
        let mut others = others;
        others.extend(stranded_units(&txn, &BTreeSet::from([code.clone()])).await?);
        if !others.is_empty() {
            return Err(Error::FailedPrecondition(others));
        }
    }
    if let Some(tags) = &changes.tags {
        replace_tags(&txn, code, tags).await?;
    }
    if !bump(&txn, &BTreeSet::from([code.clone()]), Some(record.revision)).await? {
        return Err(Error::Aborted(format!("{} changed concurrently; read it again", code.name())));
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        "UpdateLocality",
        &code.name(),
        None,
        json!({
            "tags": changes.tags,
            "versions": changes.versions.as_ref().map(Vec::len),
        }),
    )
    .await?;
    let updated = load_one(&txn, code).await?.ok_or_else(|| Error::internal("updated locality vanished"))?;
    finish(txn, ctx, false).await?;
    Ok(updated)
}

/// Deletes a locality that nothing references.
pub async fn delete(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    code: &Code,
    etag_given: Option<&str>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let record = load_one(&txn, code).await?.ok_or_else(|| Error::NotFound(code.name()))?;
    check_etag(etag_given, &record)?;
    let (children, links) = reference_counts(&txn, code).await?;
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
    txn.execute_raw(stmt(
        txn.get_database_backend(),
        "DELETE FROM localities WHERE code = ?",
        vec![code.as_str().into()],
    ))
    .await?;
    audit::record(&txn, &ctx.principal.subject, "DeleteLocality", &code.name(), None, json!({})).await?;
    finish(txn, ctx, false).await
}

/// A locality begun by a reorganisation.
#[derive(Debug, Clone)]
pub struct Creation {
    /// Its code (new, or an ended code taken up again).
    pub code: Code,
    /// Its tier.
    pub tier: Tier,
    /// Its name.
    pub display_name: String,
    /// Its kind.
    pub kind: Kind,
    /// Its parent.
    pub parent: Option<Code>,
    /// Its tags.
    pub tags: Vec<String>,
}

/// A locality continuing with changes after a reorganisation.
#[derive(Debug, Clone)]
pub struct Amendment {
    /// Its code.
    pub code: Code,
    /// New name, if it changes.
    pub display_name: Option<String>,
    /// New kind, if it changes.
    pub kind: Option<Kind>,
    /// New parent, if it changes.
    pub parent: Option<Code>,
}

/// A reorganisation effective on one date.
#[derive(Debug, Clone)]
pub struct Reorganization {
    /// First day of the new organisation.
    pub effective_date: NaiveDate,
    /// Legal basis, for the audit log.
    pub legal_basis: String,
    /// Localities that end.
    pub endings: Vec<Code>,
    /// Localities that begin.
    pub creations: Vec<Creation>,
    /// Localities that continue with changes.
    pub amendments: Vec<Amendment>,
    /// Succession links (predecessor, successor, kind).
    pub links: Vec<(Code, Code, SuccessionKind)>,
}

impl Reorganization {
    /// Every locality whose versions the reorganisation changes.
    pub fn touched(&self) -> BTreeSet<Code> {
        self.endings
            .iter()
            .chain(self.creations.iter().map(|c| &c.code))
            .chain(self.amendments.iter().map(|a| &a.code))
            .cloned()
            .collect()
    }
}

/// Closes the version of `code` in force on `day` so that it ends the day before;
/// returns that version. The version must have begun before `day`, and none may follow.
async fn close_at(txn: &DatabaseTransaction, record: &LocalityRecord, day: NaiveDate) -> Result<Version> {
    let name = record.code.name();
    if record.versions.iter().any(|v| v.valid_from >= day) {
        return Err(Error::precondition(name, format!("has a version starting on or after {day}")));
    }
    let current = record
        .versions
        .iter()
        .find(|v| v.contains(day))
        .ok_or_else(|| Error::precondition(name.clone(), format!("is not in force on {day}")))?;
    txn.execute_raw(stmt(
        txn.get_database_backend(),
        "UPDATE locality_versions SET valid_until = ? WHERE code = ? AND valid_from = ?",
        vec![day.into(), record.code.as_str().into(), current.valid_from.into()],
    ))
    .await?;
    Ok(current.clone())
}

/// Applies a reorganisation atomically; returns the touched localities.
pub async fn reorganize(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    reorg: &Reorganization,
    idem: &Idempotency,
    validate_only: bool,
) -> Result<Vec<LocalityRecord>> {
    const METHOD: &str = "Reorganize";
    let day = reorg.effective_date;
    let txn = begin_write(db).await?;
    if let Some(codes) = replay(&txn, METHOD, idem).await? {
        let records = load(&txn, &codes).await?;
        txn.rollback().await?;
        return Ok(records);
    }

    // Everything referred to must exist, or be created by this request.
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
    let found = existing(&txn, &wanted).await?;
    let missing: Vec<Violation> = referred
        .iter()
        .filter(|(_, c)| !found.contains(c) && !created.contains(c))
        .map(|(field, c)| Violation::new(field.clone(), format!("{} does not exist", c.name())))
        .collect();
    if !missing.is_empty() {
        return Err(Error::InvalidArgument(missing));
    }

    for code in &reorg.endings {
        let record = load_one(&txn, code).await?.ok_or_else(|| Error::NotFound(code.name()))?;
        close_at(&txn, &record, day).await?;
    }
    for amendment in &reorg.amendments {
        let record = load_one(&txn, &amendment.code).await?.ok_or_else(|| Error::NotFound(amendment.code.name()))?;
        let current = close_at(&txn, &record, day).await?;
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
        insert_version(&txn, &amendment.code, &next).await?;
    }
    for creation in &reorg.creations {
        let version = Version {
            valid_from: day,
            valid_until: None,
            display_name: creation.display_name.clone(),
            kind: creation.kind,
            parent: creation.parent.clone(),
        };
        match load_one(&txn, &creation.code).await? {
            None => {
                insert_head(&txn, &creation.code, creation.tier).await?;
                replace_tags(&txn, &creation.code, &creation.tags).await?;
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
                replace_tags(&txn, &creation.code, &tags).await?;
            }
        }
        insert_version(&txn, &creation.code, &version).await?;
    }
    for (predecessor, successor, kind) in &reorg.links {
        txn.execute_raw(stmt(
            txn.get_database_backend(),
            "INSERT INTO locality_links (predecessor_code, successor_code, kind, effective_date) VALUES (?, ?, ?, ?)",
            vec![predecessor.as_str().into(), successor.as_str().into(), kind.as_str().into(), day.into()],
        ))
        .await?;
    }

    let touched = reorg.touched();
    let issues = coverage_issues(&txn, &touched).await?;
    let mut rules: Vec<RuleViolation> = issues.iter().map(orphan).collect();
    rules.extend(stranded_units(&txn, &touched).await?);
    if !rules.is_empty() {
        return Err(Error::FailedPrecondition(rules));
    }
    let mut changed = touched.clone();
    changed.extend(reorg.links.iter().flat_map(|(p, s, _)| [p.clone(), s.clone()]));
    bump(&txn, &changed, None).await?;

    let names: Vec<String> = touched.iter().map(Code::name).collect();
    if let Some(request_id) = &idem.request_id {
        audit::remember_request(&txn, METHOD, request_id, &idem.fingerprint, &names.join(",")).await?;
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        METHOD,
        &format!("reorganization/{day}"),
        idem.request_id.as_deref(),
        json!({
            "legal_basis": reorg.legal_basis,
            "endings": reorg.endings.iter().map(Code::name).collect::<Vec<_>>(),
            "creations": reorg.creations.iter().map(|c| c.code.name()).collect::<Vec<_>>(),
            "amendments": reorg.amendments.iter().map(|a| a.code.name()).collect::<Vec<_>>(),
            "links": reorg.links.len(),
        }),
    )
    .await?;
    let touched_list: Vec<Code> = touched.into_iter().collect();
    let records = load(&txn, &touched_list).await?;
    finish(txn, ctx, validate_only).await?;
    Ok(records)
}
