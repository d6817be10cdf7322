//! A person's placements in units.
//!
//! Two rules protect them, each checked in the transaction that writes:
//! - a placement lies within its unit's period: the unit is locked `FOR SHARE` before
//!   its period is read, so that an UpdateUnit cutting the period (which locks the unit
//!   `FOR UPDATE` and then looks for placements outside the new period) waits for this
//!   write, or this write for it, and the second to run sees the first (PostgreSQL);
//! - placements of one person never overlap: the person is locked `FOR UPDATE`, so
//!   that two writes for one person run one after the other and the second sees the
//!   first, and the exclusion constraint `placements_no_overlap` holds it in the
//!   database whoever writes (PostgreSQL).
//!
//! On SQLite, writers are serialised (`BEGIN IMMEDIATE`): the checks suffice.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use super::{Reference, authorize_unit_write, changed, paginate, person_for};
use crate::{
    context::{PersonAccess, Principal, RequestContext},
    domain::date::today,
    edge::{
        Violations, etag,
        names::{PersonName, PlacementName, UnitName},
    },
    error::{Error, Result},
    people::{
        queries::{self, PersonRow, PlacementRow, Record},
        rules::person::{PlacementFields, check_placement, first_overlap},
        wire::records::{Create, List, Named, PlacementPatch, Update},
    },
    store::audit,
    units::queries::{self as units, Lock},
    uow::{self, Begun, Done, Tx, Write},
};

/// Checks a placement of `person` (other than `except`) inside the write transaction:
/// within the employment, in a unit the caller may write in that exists over the
/// period, overlapping no other placement of the person. Locks the unit.
async fn check(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    person: &PersonRow,
    fields: &PlacementFields,
    except: Option<i64>,
) -> Result<()> {
    let path = "placement";
    let mut v = Violations::new();
    v.extend(check_placement(fields, &person.fields, path));
    // The unit's scope first: a unit elsewhere must not be told apart from none.
    authorize_unit_write(conn, principal, UnitName(fields.unit_id)).await?;
    units::lock(conn, fields.unit_id, Lock::Share).await?;
    v.extend(Reference::unit(conn, fields.unit_id).await?.check_placement(fields, path));
    let others = queries::placements_of(conn, &[person.id]).await?;
    let others: Vec<_> = others.iter().filter(|o| Some(o.id) != except).collect();
    if let Some(i) = first_overlap(
        (fields.valid_from, fields.valid_until),
        others.iter().map(|o| (o.fields.valid_from, o.fields.valid_until)),
    ) {
        v.add(format!("{path}.valid_from"), format!("overlaps people/{}/placements/{}", person.id, others[i].id));
    }
    v.finish()
}

async fn load(conn: &impl ConnectionTrait, name: PlacementName) -> Result<PlacementRow> {
    queries::placement(conn, name.parent, name.id).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// The person of a placement write, authorised and locked.
async fn locked_person(tx: &Tx<'_>, person: PersonName) -> Result<PersonRow> {
    let row = person_for(tx.conn(), tx.principal(), person, today(), PersonAccess::Write).await?;
    queries::lock_person(tx.conn(), person.id()).await?;
    Ok(row)
}

/// Places a person in a unit.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Create<PlacementFields>,
) -> Result<PlacementRow> {
    let Create { person, fields, key } = request;
    let write = Write::new("CreatePlacement").idempotent(key);
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            Begun::Replay(tx, resource) => {
                let placement = replayed(&tx, person, &resource).await;
                return tx.replay(placement).await;
            }
            Begun::Fresh(tx) => tx,
        };
        let row = locked_person(&tx, person).await?;
        check(tx.conn(), tx.principal(), &row, &fields, None).await?;
        let id = queries::insert_placement(tx.conn(), row.id, &fields).await?;
        let name = PlacementName { parent: row.id, id };
        let placement = load(tx.conn(), name).await?;
        let detail = json!({ "unit": UnitName(fields.unit_id).to_string(), "valid_from": fields.valid_from });
        tx.commit(Done::new(placement, name.to_string()).detail(detail)).await
    })
    .await
}

async fn replayed(tx: &Tx<'_>, person: PersonName, resource: &str) -> Result<PlacementRow> {
    person_for(tx.conn(), tx.principal(), person, today(), PersonAccess::Write).await?;
    load(tx.conn(), PlacementName::parse(resource).map_err(Error::internal)?).await
}

/// Gets a placement.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: Named<PlacementName>) -> Result<PlacementRow> {
    let name = request.name;
    person_for(db, &ctx.principal, PersonName(name.parent), today(), PersonAccess::ReadPersonal).await?;
    let placement = load(db, name).await?;
    audit::read_one(db, ctx, "GetPlacement", name).await?;
    Ok(placement)
}

/// Lists a person's placements by id.
pub async fn list(db: &DatabaseConnection, ctx: &RequestContext, request: List) -> Result<(Vec<PlacementRow>, String)> {
    let person = person_for(db, &ctx.principal, request.person, today(), PersonAccess::ReadPersonal).await?;
    let page = paginate(&request.page, queries::placements_of(db, &[person.id]).await?, |r| r.id)?;
    audit::read_many(db, ctx, "ListPlacements", request.person, &audit::query(&request), Some(page.0.len())).await?;
    Ok(page)
}

/// Changes a placement: its unit, post or period.
pub async fn update(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Update<PlacementName, PlacementPatch>,
) -> Result<PlacementRow> {
    let Update { name, etag: given, patch } = request;
    let write = Write::new("UpdatePlacement");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let person = locked_person(&tx, PersonName(name.parent)).await?;
        let row = load(tx.conn(), name).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        let fields = patch.apply(&row.fields);
        check(tx.conn(), tx.principal(), &person, &fields, Some(name.id)).await?;
        if !queries::update_placement(tx.conn(), name.id, row.revision, &fields).await? {
            return Err(changed(name));
        }
        let updated = load(tx.conn(), name).await?;
        tx.commit(Done::new(updated, name.to_string())).await
    })
    .await
}

/// Deletes a placement.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: Named<PlacementName>) -> Result<()> {
    let Named { name, etag: given } = request;
    let write = Write::new("DeletePlacement");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        locked_person(&tx, PersonName(name.parent)).await?;
        let row = load(tx.conn(), name).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if !queries::delete(tx.conn(), Record::Placement(name.id), row.revision).await? {
            return Err(changed(name));
        }
        tx.commit(Done::new((), name.to_string())).await
    })
    .await
}
