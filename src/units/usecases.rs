//! What UnitService does: each use case checks the caller's access and the rules,
//! and writes through the unit of work, so that every check that reads the database
//! runs in the transaction that writes.
//!
//! A unit is in a caller's scope when its locality is. Scope is judged before
//! existence: a scoped caller asking for a unit that does not exist is refused, so
//! that refusals reveal nothing about other provinces.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use super::{
    queries::{self, Lock, UnitList},
    rules::{Unit, check_order, code_key, locality_covers, period},
    wire::{CreateUnit, DeleteUnit, GetUnit, ListUnits, UpdateUnit},
};
use crate::{
    context::{Access, Principal, RequestContext, Scope},
    domain::locality::Code,
    edge::{enums::Table as _, etag, names::UnitName},
    error::{Error, Result, RuleViolation},
    localities::queries as localities,
    policy::{authorize, require_access},
    scope,
    uow::{self, Begun, Done, Tx, Write},
};

/// Checks the caller's access to a unit through its locality. A unit that does not
/// exist is NOT_FOUND for a national caller and outside every local scope.
pub async fn authorize_unit(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    name: UnitName,
    access: Access,
) -> Result<()> {
    require_access(principal, access)?;
    match scope::unit_locality(conn, name.id()).await? {
        Some(locality) => authorize(conn, principal, &locality, access).await,
        None => match principal.scope {
            Scope::National => Err(Error::NotFound(name.to_string())),
            Scope::Localities(_) => {
                Err(Error::PermissionDenied(format!("{name} is outside the caller's locality scope")))
            }
        },
    }
}

/// The periods of the versions of `code`; `None` if it does not exist.
async fn locality_periods(
    conn: &impl ConnectionTrait,
    code: &Code,
) -> Result<Option<Vec<(chrono::NaiveDate, Option<chrono::NaiveDate>)>>> {
    Ok(localities::load_one(conn, code)
        .await?
        .map(|r| r.versions.iter().map(|v| (v.valid_from, v.valid_until)).collect()))
}

/// Fails with ALREADY_EXISTS when a unit other than `except` holds `code`.
async fn check_code_free(conn: &impl ConnectionTrait, code: &str, except: Option<i64>) -> Result<()> {
    match queries::code_holder(conn, code, except).await? {
        Some(holder) => Err(Error::AlreadyExists(format!("the unit code `{code}` is already {holder}'s"))),
        None => Ok(()),
    }
}

async fn load(conn: &impl ConnectionTrait, name: UnitName) -> Result<Unit> {
    queries::get(conn, name.id()).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// Creates a unit in a locality that exists and is in force over the unit's period,
/// with its own code if given (unique without regard to case).
pub async fn create(db: &DatabaseConnection, ctx: &RequestContext, request: CreateUnit) -> Result<Unit> {
    let CreateUnit { locality, fields, key } = request;
    let write = Write::new("CreateUnit").idempotent(key);
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            // The unit the first request made (it may have been deleted since).
            Begun::Replay(tx, resource) => {
                let unit = replayed(&tx, &resource).await;
                return tx.replay(unit).await;
            }
            Begun::Fresh(tx) => tx,
        };
        // Scope before existence: a locality outside the scope is refused whether or
        // not it exists; one inside it must exist.
        authorize(tx.conn(), tx.principal(), &locality, Access::Write).await?;
        localities::hold_tree(tx.conn()).await?;
        let Some(periods) = locality_periods(tx.conn(), &locality).await? else {
            return Err(Error::invalid("unit.locality", format!("{} does not exist", locality.name())));
        };
        if let Some(violation) = locality_covers(&locality, &periods, fields.valid_from, fields.valid_until, "unit") {
            return Err(Error::InvalidArgument(vec![violation]));
        }
        if let Some(code) = &fields.code {
            check_code_free(tx.conn(), code, None).await?;
        }
        let name = UnitName(queries::insert(tx.conn(), &locality, &fields).await?);
        let unit = load(tx.conn(), name).await?;
        let detail = json!({
            "locality": locality.name(),
            "sector": fields.sector.stored(),
            "kind": fields.kind.stored(),
            "valid_from": fields.valid_from,
            "valid_until": fields.valid_until,
            "code": fields.code,
        });
        tx.commit(Done::new(unit, name.to_string()).detail(detail)).await
    })
    .await
}

/// The unit a replayed create made, if the caller may still see it.
async fn replayed(tx: &Tx<'_>, resource: &str) -> Result<Unit> {
    let name = UnitName::parse(resource).map_err(Error::internal)?;
    authorize_unit(tx.conn(), tx.principal(), name, Access::Write).await?;
    load(tx.conn(), name).await
}

/// Gets a unit.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: GetUnit) -> Result<Unit> {
    authorize_unit(db, &ctx.principal, request.name, Access::Read).await?;
    load(db, request.name).await
}

/// Lists the units that exist on a date in a locality's subtree as it was that day, one
/// page at a time, ordered by id; with the token of the next page.
pub async fn list(db: &DatabaseConnection, ctx: &RequestContext, request: ListUnits) -> Result<(Vec<Unit>, String)> {
    let ListUnits { locality, as_of, conditions, page } = request;
    authorize(db, &ctx.principal, &locality, Access::Read).await?;
    if localities::load_one(db, &locality).await?.is_none() {
        return Err(Error::NotFound(locality.name()));
    }
    let after = page.after_id().map_err(|e| Error::invalid("page_token", e))?;
    let scope = match &ctx.principal.scope {
        Scope::National => None,
        Scope::Localities(roots) => Some(roots),
    };
    let list = UnitList { locality: &locality, as_of, scope, conditions: &conditions, after, limit: page.fetch() };
    let units = queries::list(db, &list).await?;
    Ok(page.cut(units, |u| vec![u.name.id().to_string()]))
}

/// Updates a unit's name, sector, kind, code or period. A new period must lie within
/// the locality's history and cover every placement of the unit: the unit is locked
/// first, so that no placement can be written into the part being cut off meanwhile.
pub async fn update(db: &DatabaseConnection, ctx: &RequestContext, request: UpdateUnit) -> Result<Unit> {
    let UpdateUnit { name, etag: given, changes } = request;
    let write = Write::new("UpdateUnit");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_unit(tx.conn(), tx.principal(), name, Access::Write).await?;
        // The tree before the unit row: tree writers hold the tree and then read units.
        localities::hold_tree(tx.conn()).await?;
        queries::lock(tx.conn(), name.id(), Lock::Update).await?;
        let unit = load(tx.conn(), name).await?;
        etag::check(&given, unit.revision, &name.to_string())?;
        let fields = changes.apply(&unit.fields());
        let (from, until) = (fields.valid_from, fields.valid_until);
        let field = if changes.valid_until.is_some() { "unit.valid_until" } else { "unit.valid_from" };
        if let Some(violation) = check_order(from, until, field) {
            return Err(Error::InvalidArgument(vec![violation]));
        }
        if (from, until) != (unit.valid_from, unit.valid_until) {
            let periods = locality_periods(tx.conn(), &unit.locality).await?.unwrap_or_default();
            if let Some(violation) = locality_covers(&unit.locality, &periods, from, until, "unit") {
                return Err(Error::precondition(name.to_string(), violation.description));
            }
            let outside = queries::placements_outside(tx.conn(), name.id(), from, until, 10).await?;
            if !outside.is_empty() {
                return Err(Error::FailedPrecondition(
                    outside
                        .into_iter()
                        .map(|p| RuleViolation {
                            subject: format!("people/{}/placements/{}", p.person_id, p.id),
                            description: format!(
                                "this placement {} in {name} would lie outside the unit's new period {}",
                                period(p.valid_from, p.valid_until),
                                period(from, until)
                            ),
                        })
                        .collect(),
                ));
            }
        }
        if let Some(code) = &fields.code
            && unit.code.as_deref().map(code_key) != Some(code_key(code))
        {
            check_code_free(tx.conn(), code, Some(name.id())).await?;
        }
        if !queries::update(tx.conn(), name.id(), unit.revision, &fields).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        let updated = load(tx.conn(), name).await?;
        let detail = json!({
            "display_name": changes.display_name,
            "sector": changes.sector.map(|s| s.stored()),
            "kind": changes.kind.map(|k| k.stored()),
            "valid_from": changes.valid_from,
            "valid_until": changes.valid_until,
            "code": changes.code,
        });
        tx.commit(Done::new(updated, name.to_string()).detail(detail)).await
    })
    .await
}

/// Deletes a unit that no placement refers to.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: DeleteUnit) -> Result<()> {
    let DeleteUnit { name, etag: given } = request;
    let write = Write::new("DeleteUnit");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        authorize_unit(tx.conn(), tx.principal(), name, Access::Write).await?;
        queries::lock(tx.conn(), name.id(), Lock::Update).await?;
        let unit = load(tx.conn(), name).await?;
        etag::check(&given, unit.revision, &name.to_string())?;
        let placements = queries::placement_count(tx.conn(), name.id()).await?;
        if placements > 0 {
            return Err(Error::precondition(
                name.to_string(),
                format!("{placements} placement(s) refer to it; end it with valid_until instead"),
            ));
        }
        queries::delete(tx.conn(), name.id()).await?;
        let detail = json!({ "locality": unit.locality.name(), "revision": unit.revision });
        tx.commit(Done::new((), name.to_string()).detail(detail)).await
    })
    .await
}
