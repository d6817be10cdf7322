//! What StaffingService does: each use case checks the caller's access and the rules,
//! and writes through the unit of work, so that every check that reads the database
//! runs in the transaction that writes.
//!
//! A quota belongs to its unit's locality, or to its locality. Reads (quotas and
//! headcounts are aggregates) need any role over it; writes need `editor`. Scope is
//! judged before existence.
//!
//! One quota per unit (or locality), year and category: checked in the transaction to
//! name the quota that holds the key, and held by two partial unique indexes
//! (migration `m20261201_400000`) on both backends, so that of two concurrent creates
//! on PostgreSQL the second fails on the index even though both passed the check (on
//! SQLite writers are serialised and the check alone would do).

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use super::{
    queries,
    rules::{HeadcountRow, QuotaRecord, Target, headcount_rows},
    wire::{CreateQuota, GetHeadcount, ListQuotas, QuotaRef, UpdateQuota},
};
use crate::{
    context::{Access, Principal, RequestContext, Scope},
    edge::{etag, names::StaffingQuotaName},
    error::{Error, Result},
    localities::queries as localities,
    policy::{authorize, require_access},
    reports::{queries::Population, usecases::Reports},
    scope,
    uow::{self, Begun, Done, Tx, Write},
};

fn refused(principal: &Principal, name: String) -> Error {
    match principal.scope {
        Scope::National => Error::NotFound(name),
        Scope::Localities(_) => Error::PermissionDenied(format!("{name} is outside the caller's locality scope")),
    }
}

/// Checks the caller's access to a unit or locality; whether it was judged (a unit
/// that does not exist is refused to a scoped caller and, for a national caller,
/// answered `false`).
async fn authorize_target(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    target: &Target,
    access: Access,
) -> Result<bool> {
    require_access(principal, access)?;
    match target {
        Target::Locality(code) => authorize(conn, principal, code, access).await.map(|()| true),
        Target::Unit(id) => match scope::unit_locality(conn, *id).await? {
            Some(locality) => authorize(conn, principal, &locality, access).await.map(|()| true),
            None => match principal.scope {
                Scope::National => Ok(false),
                Scope::Localities(_) => Err(refused(principal, target.name())),
            },
        },
    }
}

/// Checks the caller's access to quota `name` through its locality.
async fn authorize_quota(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    name: StaffingQuotaName,
    access: Access,
) -> Result<()> {
    require_access(principal, access)?;
    match queries::quota_locality(conn, name.id()).await? {
        Some(locality) => authorize(conn, principal, &locality, access).await,
        None => Err(refused(principal, name.to_string())),
    }
}

async fn load(conn: &impl ConnectionTrait, name: StaffingQuotaName) -> Result<QuotaRecord> {
    queries::load(conn, name.id()).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// The quota a replayed create made, if the caller may still read it.
async fn replayed(tx: &Tx<'_>, resource: &str) -> Result<QuotaRecord> {
    let name = StaffingQuotaName::parse(resource).map_err(Error::internal)?;
    authorize_quota(tx.conn(), tx.principal(), name, Access::Read).await?;
    load(tx.conn(), name).await
}

/// Creates a quota; one per unit (or locality), year and category.
pub async fn create(db: &DatabaseConnection, ctx: &RequestContext, request: CreateQuota) -> Result<QuotaRecord> {
    let CreateQuota { new, key } = request;
    let write = Write::new("CreateStaffingQuota").idempotent(key);
    let new = &new;
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            Begun::Replay(tx, resource) => {
                let record = replayed(&tx, &resource).await;
                return tx.replay(record).await;
            }
            Begun::Fresh(tx) => tx,
        };
        authorize_target(tx.conn(), tx.principal(), &new.target, Access::Write).await?;
        if !queries::target_exists(tx.conn(), &new.target).await? {
            let field = match new.target {
                Target::Unit(_) => "staffing_quota.unit",
                Target::Locality(_) => "staffing_quota.locality",
            };
            return Err(Error::invalid(field, format!("{} does not exist", new.target.name())));
        }
        let taken = |holder: String| {
            Error::AlreadyExists(format!(
                "{holder} (the quota of {} for {} in {})",
                new.target.name(),
                new.category.as_str(),
                new.year
            ))
        };
        if let Some(id) = queries::holder(tx.conn(), new).await? {
            return Err(taken(StaffingQuotaName(id).to_string()));
        }
        // A concurrent create of the same key that committed first fails this insert on
        // the unique index (PostgreSQL); its id cannot be read in this transaction.
        let id = match queries::insert(tx.conn(), new).await {
            Err(Error::AlreadyExists(_)) => return Err(taken("another quota".to_owned())),
            other => other?,
        };
        let name = StaffingQuotaName(id);
        let record = load(tx.conn(), name).await?;
        let detail = json!({
            "for": new.target.name(),
            "year": new.year,
            "category": new.category.as_str(),
            "quota": new.quota,
        });
        tx.commit(Done::new(record, name.to_string()).detail(detail)).await
    })
    .await
}

/// Gets a quota.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: QuotaRef) -> Result<QuotaRecord> {
    authorize_quota(db, &ctx.principal, request.name, Access::Read).await?;
    load(db, request.name).await
}

/// Updates a quota's number.
pub async fn update(db: &DatabaseConnection, ctx: &RequestContext, request: UpdateQuota) -> Result<QuotaRecord> {
    let UpdateQuota { name, etag: given, quota } = request;
    let write = Write::new("UpdateStaffingQuota");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_quota(tx.conn(), tx.principal(), name, Access::Write).await?;
        let record = load(tx.conn(), name).await?;
        etag::check(&given, record.revision, &name.to_string())?;
        if !queries::update(tx.conn(), name.id(), record.revision, quota).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        let updated = load(tx.conn(), name).await?;
        let detail = json!({ "quota": quota, "was": record.quota });
        tx.commit(Done::new(updated, name.to_string()).detail(detail)).await
    })
    .await
}

/// Deletes a quota.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: QuotaRef) -> Result<()> {
    let QuotaRef { name, etag: given } = request;
    let write = Write::new("DeleteStaffingQuota");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_quota(tx.conn(), tx.principal(), name, Access::Write).await?;
        let record = load(tx.conn(), name).await?;
        etag::check(&given, record.revision, &name.to_string())?;
        queries::delete(tx.conn(), name.id()).await?;
        let detail = json!({ "for": record.target.name(), "year": record.year, "quota": record.quota });
        tx.commit(Done::new((), name.to_string()).detail(detail)).await
    })
    .await
}

/// Lists the quotas of a locality's subtree, one page at a time, by id; with the token
/// of the next page.
pub async fn list(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: ListQuotas,
) -> Result<(Vec<QuotaRecord>, String)> {
    let ListQuotas { locality, year, page } = request;
    authorize(db, &ctx.principal, &locality, Access::Read).await?;
    if localities::load_one(db, &locality).await?.is_none() {
        return Err(Error::NotFound(locality.name()));
    }
    let after = page.after_id().map_err(|e| Error::invalid("page_token", e))?;
    let quotas = queries::list(db, &locality, year, after, page.fetch()).await?;
    Ok(page.cut(quotas, |q| vec![q.id.to_string()]))
}

/// The headcount of a unit, or of a locality's subtree, against the quotas of the
/// year, by category and in total.
///
/// A subtree is counted as a report counts the scope of a locality with no filter, in
/// one snapshot in step with every committed write: by the report engine when it serves
/// (see [`crate::reports::engine`]), else by SQL over the people and their placements
/// (the oracle the engine is tested against). A unit is one indexed query.
pub async fn headcount(
    reports: &Reports,
    ctx: &RequestContext,
    request: &GetHeadcount,
) -> Result<(Vec<HeadcountRow>, HeadcountRow)> {
    let GetHeadcount { target, as_of } = request;
    let Target::Locality(code) = target else {
        if !authorize_target(&reports.db, &ctx.principal, target, Access::Read).await? {
            return Err(Error::NotFound(target.name()));
        }
        return queries::headcount(&reports.db, target, *as_of).await;
    };
    let read = reports.begin(ctx).await?;
    let answer = async {
        // Authorizes (scope before existence) and resolves the subtree on the date.
        let population = read.scope(Population::whole(Some(code.clone()), *as_of)).await?;
        match read.engine_staffing_totals(&population).await? {
            Some(totals) => {
                let counted = totals.iter().map(|(category, s)| (category.as_str(), s.headcount)).collect();
                let quotas = totals.iter().map(|(category, s)| (category.as_str(), s.quota)).collect();
                Ok(headcount_rows(&counted, &quotas))
            }
            None => queries::headcount(read.conn(), target, *as_of).await,
        }
    }
    .await;
    read.end(answer).await
}
