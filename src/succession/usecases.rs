//! What SuccessionPoolService does: each use case checks the caller's access and the
//! rules, and writes through the unit of work, so that every check that reads the
//! database runs in the transaction that writes.
//!
//! A pool belongs to its unit's locality: writing needs `editor` over it, reading
//! needs `personal_data_reader` (candidates are people). Scope is judged before
//! existence: a scoped caller naming a pool or unit that does not exist is refused.
//!
//! A person is in a pool once at a time. Every write of a pool or of its candidates
//! locks the pool first ([`queries::lock`]: `FOR UPDATE` on PostgreSQL; SQLite's
//! writers are serialised), so the membership checks see every membership committed
//! before; the database holds the rule too: one open membership per person and pool
//! (a partial unique index, both backends) and no two overlapping memberships (an
//! exclusion constraint, PostgreSQL only).

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use super::{
    compliance::candidates_on,
    queries::{self, PoolList},
    rules::{Pool, check_pool, in_term, overlaps_open},
    wire::{AddCandidate, CreatePool, DeletePool, GetPool, ListPools, PoolOn, RemoveCandidate, UpdatePool},
};
use crate::{
    context::{Access, PersonAccess, Principal, RequestContext, Role, Scope},
    domain::date::today,
    edge::{
        etag,
        names::{SuccessionPoolName, UnitName},
    },
    error::{Error, Result},
    localities::queries as localities,
    policy::{authorize, authorize_person, require_access},
    scope,
    store::audit,
    uow::{self, Begun, Done, Tx, Write},
};

/// The role a read or write of pools needs, before any scope.
fn require_role(principal: &Principal, access: Access) -> Result<()> {
    require_access(principal, access)?;
    if access == Access::Read && !principal.has_role(Role::PersonalDataReader) {
        return Err(Error::PermissionDenied("reading succession pools needs the personal_data_reader role".to_owned()));
    }
    Ok(())
}

/// NOT_FOUND for a national caller, outside the scope for a local one.
fn refused(principal: &Principal, name: String) -> Error {
    match principal.scope {
        Scope::National => Error::NotFound(name),
        Scope::Localities(_) => Error::PermissionDenied(format!("{name} is outside the caller's locality scope")),
    }
}

/// Checks the caller's access to a pool through its unit's locality.
async fn authorize_pool(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    name: SuccessionPoolName,
    access: Access,
) -> Result<()> {
    require_role(principal, access)?;
    match queries::pool_locality(conn, name.id()).await? {
        Some(locality) => authorize(conn, principal, &locality, access).await,
        None => Err(refused(principal, name.to_string())),
    }
}

/// Checks the caller's right to create a pool for `unit`: editor over its locality. A
/// unit that does not exist is refused to a scoped caller; a national one learns it
/// from the create.
async fn authorize_unit(conn: &impl ConnectionTrait, principal: &Principal, unit: UnitName) -> Result<()> {
    require_role(principal, Access::Write)?;
    match scope::unit_locality(conn, unit.id()).await? {
        Some(locality) => authorize(conn, principal, &locality, Access::Write).await,
        None if matches!(principal.scope, Scope::Localities(_)) => Err(refused(principal, unit.to_string())),
        None => Ok(()),
    }
}

async fn load(conn: &impl ConnectionTrait, name: SuccessionPoolName, day: NaiveDate) -> Result<Pool> {
    queries::get(conn, name.id(), day).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// A pool on `day` with its candidates that day.
async fn pool_on(conn: &impl ConnectionTrait, name: SuccessionPoolName, day: NaiveDate) -> Result<PoolOn> {
    let pool = load(conn, name, day).await?;
    let candidates = candidates_on(conn, &pool, day).await?;
    Ok(PoolOn { pool, as_of: day, candidates })
}

/// The pool a replayed create made (it may have been deleted since).
async fn replayed(tx: &Tx<'_>, resource: &str) -> Result<PoolOn> {
    let name = SuccessionPoolName::parse(resource).map_err(Error::internal)?;
    authorize_pool(tx.conn(), tx.principal(), name, Access::Write).await?;
    let day = today();
    Ok(PoolOn { pool: load(tx.conn(), name, day).await?, as_of: day, candidates: Vec::new() })
}

/// Creates a pool for a unit that exists.
pub async fn create(db: &DatabaseConnection, ctx: &RequestContext, request: CreatePool) -> Result<PoolOn> {
    let CreatePool { unit, spec, key } = request;
    let write = Write::new("CreateSuccessionPool").idempotent(key);
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            // A retry is authorised on the pool as it is now, then answered with it.
            Begun::Replay(tx, resource) => {
                let pool = replayed(&tx, &resource).await;
                return tx.replay(pool).await;
            }
            Begun::Fresh(tx) => tx,
        };
        authorize_unit(tx.conn(), tx.principal(), unit).await?;
        if !queries::unit_exists(tx.conn(), unit).await? {
            return Err(Error::invalid("succession_pool.unit", format!("{unit} does not exist")));
        }
        let name = queries::insert(tx.conn(), unit, &spec).await?;
        let day = today();
        let pool = PoolOn { pool: load(tx.conn(), name, day).await?, as_of: day, candidates: Vec::new() };
        let detail = json!({
            "unit": unit.to_string(),
            "post_title": spec.post_title,
            "leader_post": spec.leader_post,
            "term": [spec.term_start_year, spec.term_end_year],
            "candidates": [spec.min_candidates, spec.max_candidates],
        });
        tx.commit(Done::new(pool, name.to_string()).detail(detail)).await
    })
    .await
}

/// Gets a pool on a date with its candidates that day.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: GetPool) -> Result<PoolOn> {
    authorize_pool(db, &ctx.principal, request.name, Access::Read).await?;
    let pool = pool_on(db, request.name, request.as_of).await?;
    // The candidates are people.
    audit::record_read(
        db,
        ctx,
        "GetSuccessionPool",
        &request.name.to_string(),
        serde_json::json!({
            "as_of": request.as_of.to_string(),
            "candidates": pool.candidates.len(),
        }),
    )
    .await?;
    Ok(pool)
}

/// Lists the pools of a locality's subtree on a date with their counts, one page at a
/// time, ordered by id; with the token of the next page.
pub async fn list(db: &DatabaseConnection, ctx: &RequestContext, request: ListPools) -> Result<(Vec<PoolOn>, String)> {
    let ListPools { locality, as_of, conditions, page } = request;
    require_role(&ctx.principal, Access::Read)?;
    authorize(db, &ctx.principal, &locality, Access::Read).await?;
    if localities::load_one(db, &locality).await?.is_none() {
        return Err(Error::NotFound(locality.name()));
    }
    let after = page.after_id().map_err(|e| Error::invalid("page_token", e))?;
    let scope = match &ctx.principal.scope {
        Scope::National => None,
        Scope::Localities(roots) => Some(roots),
    };
    let list = PoolList { locality: &locality, as_of, conditions: &conditions, scope, after, limit: page.fetch() };
    let pools = queries::list(db, &list).await?;
    let pools = pools.into_iter().map(|pool| PoolOn { pool, as_of, candidates: Vec::new() }).collect();
    Ok(page.cut(pools, |p: &PoolOn| vec![p.pool.name.id().to_string()]))
}

/// Updates a pool's term, post or bounds.
pub async fn update(db: &DatabaseConnection, ctx: &RequestContext, request: UpdatePool) -> Result<PoolOn> {
    let UpdatePool { name, etag: given, changes } = request;
    let write = Write::new("UpdateSuccessionPool");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_pool(tx.conn(), tx.principal(), name, Access::Write).await?;
        queries::lock(tx.conn(), name.id()).await?;
        let day = today();
        let pool = load(tx.conn(), name, day).await?;
        etag::check(&given, pool.revision, &name.to_string())?;
        let spec = changes.apply(&pool.spec);
        let violations = check_pool(&spec, "succession_pool");
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        if !queries::update(tx.conn(), name.id(), pool.revision, &spec).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        let updated = PoolOn { pool: load(tx.conn(), name, day).await?, as_of: day, candidates: Vec::new() };
        let detail = json!({
            "post_title": changes.post_title,
            "leader_post": changes.leader_post,
            "term_start_year": changes.term_start_year,
            "term_end_year": changes.term_end_year,
            "min_candidates": changes.min_candidates,
            "max_candidates": changes.max_candidates,
        });
        tx.commit(Done::new(updated, name.to_string()).detail(detail)).await
    })
    .await
}

/// Deletes a pool and its candidate history.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: DeletePool) -> Result<()> {
    let DeletePool { name, etag: given } = request;
    let write = Write::new("DeleteSuccessionPool");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_pool(tx.conn(), tx.principal(), name, Access::Write).await?;
        queries::lock(tx.conn(), name.id()).await?;
        let pool = load(tx.conn(), name, today()).await?;
        etag::check(&given, pool.revision, &name.to_string())?;
        queries::delete(tx.conn(), name.id()).await?;
        let detail = json!({ "unit": pool.unit.to_string(), "revision": pool.revision });
        tx.commit(Done::new((), name.to_string()).detail(detail)).await
    })
    .await
}

/// Adds a person to a pool from a day within its term, unless they are a candidate
/// then or later already; answers the pool on that day.
pub async fn add(db: &DatabaseConnection, ctx: &RequestContext, request: AddCandidate) -> Result<PoolOn> {
    let AddCandidate { pool: name, person, added_on, reason } = request;
    let write = Write::new("AddCandidate");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_pool(tx.conn(), tx.principal(), name, Access::Write).await?;
        authorize_person(tx.conn(), tx.principal(), person.id(), added_on, PersonAccess::Write).await?;
        queries::lock(tx.conn(), name.id()).await?;
        let pool = load(tx.conn(), name, added_on).await?;
        if !queries::person_exists(tx.conn(), person).await? {
            return Err(Error::NotFound(person.to_string()));
        }
        let (start, end) = (pool.spec.term_start_year, pool.spec.term_end_year);
        if !in_term(added_on, start, end) {
            return Err(Error::invalid(
                "candidate.added_on",
                format!("{added_on} is outside the pool's term {start}-{end}"),
            ));
        }
        for m in queries::memberships(tx.conn(), name.id(), person).await? {
            if overlaps_open(added_on, m.added_on, m.removed_on) {
                return Err(Error::precondition(
                    person.to_string(),
                    format!(
                        "is already a candidate of {name} from {}{}",
                        m.added_on,
                        m.removed_on.map(|u| format!(" until {u}")).unwrap_or_default()
                    ),
                ));
            }
        }
        queries::add(tx.conn(), name.id(), person, added_on, &reason).await?;
        let answer = pool_on(tx.conn(), name, added_on).await?;
        let detail = json!({ "person": person.to_string(), "added_on": added_on, "reason": reason });
        tx.commit(Done::new(answer, name.to_string()).detail(detail)).await
    })
    .await
}

/// Ends a person's open membership of a pool on a day after they were added; answers
/// the pool on that day.
pub async fn remove(db: &DatabaseConnection, ctx: &RequestContext, request: RemoveCandidate) -> Result<PoolOn> {
    let RemoveCandidate { pool: name, person, removed_on, reason } = request;
    let write = Write::new("RemoveCandidate");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_pool(tx.conn(), tx.principal(), name, Access::Write).await?;
        queries::lock(tx.conn(), name.id()).await?;
        load(tx.conn(), name, removed_on).await?;
        let Some(membership) = queries::open_membership(tx.conn(), name.id(), person).await? else {
            return Err(Error::precondition(person.to_string(), format!("is not a candidate of {name}")));
        };
        if removed_on <= membership.added_on {
            return Err(Error::invalid(
                "removed_on",
                format!("{removed_on} must be after the day added, {}", membership.added_on),
            ));
        }
        if !queries::remove(tx.conn(), membership.id, removed_on, &reason).await? {
            return Err(Error::Aborted(format!("{person}'s membership of {name} changed concurrently; retry")));
        }
        let answer = pool_on(tx.conn(), name, removed_on).await?;
        let detail = json!({ "person": person.to_string(), "removed_on": removed_on, "reason": reason });
        tx.commit(Done::new(answer, name.to_string()).detail(detail)).await
    })
    .await
}
