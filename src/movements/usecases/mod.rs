//! What RotationService does: each use case checks the caller's access and the rules,
//! and writes through the unit of work, so that every check that reads the database
//! runs in the transaction that writes.
//!
//! A movement is read with personal-data access over its source or its destination,
//! and changed with editor access over both. Scope is judged before existence: a
//! scoped caller naming a movement or unit that does not exist is refused.
//!
//! One open (planned or active) movement per person: checked in the transaction, and
//! held by the partial unique index `ux_rotations_open_person` on both backends. On
//! SQLite the check suffices (writers are serialised); on PostgreSQL (READ COMMITTED)
//! two concurrent creates may both pass it, and the index then makes the second wait
//! for the first and fail; that failure runs the unit of work again, whose check now
//! sees the first movement and answers as it always did.

mod transitions;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

pub use self::transitions::{cancel, complete, start};
use super::{
    queries::{self, RotationList},
    rules::{Rotation, RotationFields, Status, open_rotation_error, source_placement},
    wire::{CreateRotation, ListRotations, Named, UpdateRotation},
};
use crate::{
    context::{Access, PersonAccess, Principal, RequestContext, Role, Scope},
    domain::{date::period_contains, locality::Code},
    edge::{Violations, etag, names::RotationName},
    error::{Error, Result},
    policy::{authorize, authorize_person, require_access},
    scope,
    store::audit,
    uow::{self, Begun, Done, Tx, Write},
};

/// What a request does with a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Reading: personal data over the source or the destination.
    Read,
    /// Changing: editor over both the source and the destination.
    Write,
}

fn personal_reader(principal: &Principal) -> Result<()> {
    if principal.has_role(Role::PersonalDataReader) {
        Ok(())
    } else {
        Err(Error::PermissionDenied("reading personal data needs the personal_data_reader role".to_owned()))
    }
}

/// Resolves a movement for `use_`: role first, then scope before existence. A write
/// locks the movement first (see [`queries::lock`]), so that the status the use case
/// checks next still holds at its commit.
async fn rotation_for(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    name: RotationName,
    use_: Use,
) -> Result<Rotation> {
    match use_ {
        Use::Read => personal_reader(principal)?,
        Use::Write => {
            require_access(principal, Access::Write)?;
            queries::lock(conn, name.id()).await?;
        }
    }
    let row = queries::get(conn, name.id()).await?;
    let roots = match &principal.scope {
        Scope::National => return row.ok_or_else(|| Error::NotFound(name.to_string())),
        Scope::Localities(roots) => roots,
    };
    let denied = || Error::PermissionDenied(format!("{name} is outside the caller's locality scope"));
    let row = row.ok_or_else(denied)?;
    let source = scope::is_within(conn, &row.source_locality, roots).await?;
    let allowed = match use_ {
        Use::Read => source || scope::is_within(conn, &row.destination_locality, roots).await?,
        Use::Write => source && scope::is_within(conn, &row.destination_locality, roots).await?,
    };
    if allowed { Ok(row) } else { Err(denied()) }
}

/// Authorises `access` to a unit's locality and returns it; a unit that does not exist
/// is outside every local scope (scope before existence) and `None` for a national one.
async fn unit_scope(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    unit_id: i64,
    access: Access,
) -> Result<Option<Code>> {
    match scope::unit_locality(conn, unit_id).await? {
        Some(code) => {
            authorize(conn, principal, &code, access).await?;
            Ok(Some(code))
        }
        None if matches!(principal.scope, Scope::Localities(_)) => {
            Err(Error::PermissionDenied(format!("units/{unit_id} is outside the caller's locality scope")))
        }
        None => {
            require_access(principal, access)?;
            Ok(None)
        }
    }
}

/// Editor scope over both units (scope before existence) and over the person on the
/// start date; whether each unit exists.
async fn authorize_planned(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    r: &RotationFields,
) -> Result<(bool, bool)> {
    let source = unit_scope(conn, principal, r.source_unit_id, Access::Write).await?;
    let destination = unit_scope(conn, principal, r.destination_unit_id, Access::Write).await?;
    authorize_person(conn, principal, r.person_id, r.start_date, PersonAccess::Write).await?;
    Ok((source.is_some(), destination.is_some()))
}

/// Everything a planned movement needs beyond its own fields and the caller's scope:
/// the person and units existing on the start date, no other open movement, and the
/// person placed at the source on the start date.
async fn check_planned(
    conn: &impl ConnectionTrait,
    r: &RotationFields,
    known: (bool, bool),
    except: Option<i64>,
) -> Result<()> {
    let (source, destination) = known;
    let mut v = Violations::new();
    if !queries::person_exists(conn, r.person()).await? {
        v.add("rotation.person", format!("{} does not exist", r.person()));
    }
    let units = queries::unit_periods(conn, &[r.source_unit_id, r.destination_unit_id]).await?;
    for (field, id, known) in [
        ("rotation.source_unit", r.source_unit_id, source),
        ("rotation.destination_unit", r.destination_unit_id, destination),
    ] {
        match units.iter().find(|u| u.id == id) {
            Some(u) if known && period_contains(u.valid_from, u.valid_until, r.start_date) => {}
            Some(_) if known => v.add(field, format!("units/{id} does not exist on the start date {}", r.start_date)),
            _ => v.add(field, format!("units/{id} does not exist")),
        }
    }
    v.finish()?;
    let open = queries::open_of(conn, r.person(), except).await?;
    if !open.is_empty() {
        return Err(open_rotation_error(r.person(), &open));
    }
    source_placement(&queries::placements_of(conn, r.person()).await?, r)?;
    Ok(())
}

async fn load(conn: &impl ConnectionTrait, name: RotationName) -> Result<Rotation> {
    queries::get(conn, name.id()).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// The movement a replayed create made, as it is now, if the caller may still change
/// it now (editor over its source and destination): a movement whose ends left the
/// caller's scope since is refused, and one deleted since is not found.
async fn replayed(tx: &Tx<'_>, resource: &str) -> Result<Rotation> {
    let name = RotationName::parse(resource).map_err(Error::internal)?;
    rotation_for(tx.conn(), tx.principal(), name, Use::Write).await
}

/// Creates a planned movement: the caller edits both units and the person, the person
/// and units exist on the start date, the person is placed at the source then and has
/// no other open movement.
pub async fn create(db: &DatabaseConnection, ctx: &RequestContext, request: CreateRotation) -> Result<Rotation> {
    let CreateRotation { fields, key } = request;
    let write = Write::new("CreateRotation").idempotent(key);
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            // A retry is authorised on the movement as it is now, then answered with it.
            Begun::Replay(tx, resource) => {
                let rotation = replayed(&tx, &resource).await;
                return tx.replay(rotation).await;
            }
            Begun::Fresh(tx) => tx,
        };
        let known = authorize_planned(tx.conn(), tx.principal(), &fields).await?;
        check_planned(tx.conn(), &fields, known, None).await?;
        let name = queries::insert(tx.conn(), &fields).await?;
        let rotation = load(tx.conn(), name).await?;
        let detail = json!({
            "person": fields.person().to_string(),
            "kind": fields.kind.as_str(),
            "source_unit": fields.source_unit_id,
            "destination_unit": fields.destination_unit_id,
            "start_date": fields.start_date,
            "planned_end_date": fields.planned_end_date,
            "decision": fields.decision_number,
        });
        tx.commit(Done::new(rotation, name.to_string()).detail(detail)).await
    })
    .await
}

/// Gets a movement.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: Named) -> Result<Rotation> {
    let rotation = rotation_for(db, &ctx.principal, request.name, Use::Read).await?;
    audit::read_one(db, ctx, "GetRotation", request.name).await?;
    Ok(rotation)
}

/// Lists the movements whose source or destination lies in a locality's subtree, one
/// page at a time, ordered by id; with the token of the next page.
pub async fn list(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: ListRotations,
) -> Result<(Vec<Rotation>, String)> {
    let asked = audit::query(&request);
    let ListRotations { locality, start_from, start_until, conditions, page } = request;
    personal_reader(&ctx.principal)?;
    authorize(db, &ctx.principal, &locality, Access::Read).await?;
    if crate::localities::queries::load_one(db, &locality).await?.is_none() {
        return Err(Error::NotFound(locality.name()));
    }
    let after = page.after_id().map_err(|e| Error::invalid("page_token", e))?;
    let list = RotationList {
        locality: &locality,
        start_from,
        start_until,
        conditions: &conditions,
        after,
        limit: page.fetch(),
    };
    let rotations = queries::list(db, &list).await?;
    let cut = page.cut(rotations, |r| vec![r.name.id().to_string()]);
    audit::read_many(db, ctx, "ListRotations", "rotations", &asked, Some(cut.0.len())).await?;
    Ok(cut)
}

/// Changes a planned movement's fields, checked again as a whole and against the
/// database as a new movement is.
pub async fn update(db: &DatabaseConnection, ctx: &RequestContext, request: UpdateRotation) -> Result<Rotation> {
    let name = request.name;
    let write = Write::new("UpdateRotation");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let row = rotation_for(tx.conn(), tx.principal(), name, Use::Write).await?;
        etag::check(&request.etag, row.revision, &name.to_string())?;
        if row.status != Status::Planned {
            return Err(row.wrong_stage("updated"));
        }
        let fields = request.apply(&row)?;
        let known = authorize_planned(tx.conn(), tx.principal(), &fields).await?;
        check_planned(tx.conn(), &fields, known, Some(name.id())).await?;
        if !queries::update_fields(tx.conn(), name.id(), row.revision, &fields).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        let updated = load(tx.conn(), name).await?;
        tx.commit(Done::new(updated, name.to_string()).detail(json!({ "paths": request.paths }))).await
    })
    .await
}

/// Deletes a planned movement.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: Named) -> Result<()> {
    let Named { name, etag: given } = request;
    let write = Write::new("DeleteRotation");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let row = rotation_for(tx.conn(), tx.principal(), name, Use::Write).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if row.status != Status::Planned {
            return Err(row.wrong_stage("deleted"));
        }
        if !queries::delete(tx.conn(), name.id(), row.revision).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        let detail = json!({ "person": row.fields.person().to_string(), "revision": row.revision });
        tx.commit(Done::new((), name.to_string()).detail(detail)).await
    })
    .await
}
