//! People: create (with their records), get, update, delete, and lookup by identifier.

use std::collections::BTreeSet;

use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{
    Reference, authorize_unit_write, changed, check_identity_free, person_for, personal_reader, read_personal,
    sees_identifiers, view,
};
use crate::{
    context::{Access, PersonAccess, RequestContext, Scope},
    domain::date::today,
    edge::{
        etag,
        names::{PersonName, UnitName},
    },
    error::{Error, Result},
    people::{
        queries::{self, Record},
        rules::person::{check_person, check_placement},
        wire::{
            PersonView,
            person::{CreatePerson, DeletePerson, GetPerson, LookupPerson, UpdatePerson},
        },
    },
    policy::require_access,
    store::audit,
    units::queries::{self as units, Lock},
    uow::{self, Begun, Done, Tx, Write},
};

/// Creates a person with their placements, qualifications and evaluations. The units
/// placed in are locked against a change of their period until the commit.
pub async fn create(db: &DatabaseConnection, ctx: &RequestContext, request: CreatePerson) -> Result<PersonView> {
    let CreatePerson { record: (record, identity), key } = request;
    require_access(&ctx.principal, Access::Write)?;
    let write = Write::new("CreatePerson").idempotent(key);
    let units: BTreeSet<i64> = record.placements.iter().map(|p| p.unit_id).collect();
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            Begun::Replay(tx, resource) => {
                let person = replayed(&tx, &resource).await;
                return tx.replay(person).await;
            }
            Begun::Fresh(tx) => tx,
        };
        for unit in &units {
            authorize_unit_write(tx.conn(), tx.principal(), UnitName(*unit)).await?;
            units::lock(tx.conn(), *unit, Lock::Share).await?;
        }
        let reference = Reference::load(tx.conn(), tx.principal(), units.clone()).await?;
        let violations = reference.check_record(&record, "record");
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        check_identity_free(tx.conn(), &identity, None, "record.person").await?;
        let ids = queries::insert_identified(tx.conn(), &[(&record, &identity)]).await?;
        let id = ids.first().copied().ok_or_else(|| Error::internal("no person created"))?;
        let name = PersonName(id);
        let row =
            queries::load_person(tx.conn(), id).await?.ok_or_else(|| Error::internal("created person vanished"))?;
        let person = view(tx.conn(), tx.principal(), row, today()).await?;
        tx.commit(Done::new(person, name.to_string()).detail(json!({ "people": 1 }))).await
    })
    .await
}

/// The person a replayed create made, as it is now, if the caller may still write
/// where they are placed now (not where the request placed them: a person who moved
/// out of the caller's scope since is refused, and nothing of theirs is answered).
async fn replayed(tx: &Tx<'_>, resource: &str) -> Result<PersonView> {
    let name = PersonName::parse(resource).map_err(Error::internal)?;
    let row = person_for(tx.conn(), tx.principal(), name, today(), PersonAccess::Write).await?;
    view(tx.conn(), tx.principal(), row, today()).await
}

/// Gets a person as on a date.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: GetPerson) -> Result<PersonView> {
    let GetPerson { name, as_of } = request;
    let person = read_personal(db, &ctx.principal, name, as_of).await?;
    audit::read_one(db, ctx, "GetPerson", name).await?;
    Ok(person)
}

/// Updates a person's own fields and identifiers. The person is locked first, so that
/// no placement is written outside the new employment meanwhile.
pub async fn update(db: &DatabaseConnection, ctx: &RequestContext, request: UpdatePerson) -> Result<PersonView> {
    let UpdatePerson { name, etag: given, patch } = request;
    let write = Write::new("UpdatePerson");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let day = today();
        let row = person_for(tx.conn(), tx.principal(), name, day, PersonAccess::Write).await?;
        queries::lock_person(tx.conn(), name.id()).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        let personal = sees_identifiers(tx.principal());
        let (fields, identity) = patch.apply(&row.fields, &row.identity);
        let mut v = crate::edge::Violations::new();
        v.extend(check_person(&fields, "person", day));
        let disagreements = identity.check(fields.birth_date, fields.gender, "person");
        if personal || patch.personal_id.is_some() || disagreements.is_empty() {
            v.extend(disagreements);
        } else {
            // The stored number is personal data: say that it disagrees, not how.
            v.add("person.personal_id", "the recorded personal_id does not agree with the new birth_date or gender");
        }
        for placement in queries::placements_of(tx.conn(), &[row.id]).await? {
            if !check_placement(&placement.fields, &fields, "p").is_empty() {
                v.add(
                    "person.employed_from",
                    format!("people/{}/placements/{} would fall outside the employment", row.id, placement.id),
                );
            }
        }
        v.finish()?;
        if identity != row.identity {
            check_identity_free(tx.conn(), &identity, Some(row.id), "person").await?;
        }
        if !queries::update_person(tx.conn(), row.id, row.revision, &fields, &identity).await? {
            return Err(changed(name));
        }
        let updated =
            queries::load_person(tx.conn(), row.id).await?.ok_or_else(|| Error::NotFound(name.to_string()))?;
        let person = view(tx.conn(), tx.principal(), updated, day).await?;
        tx.commit(Done::new(person, name.to_string())).await
    })
    .await
}

/// Deletes a person (their records go with them).
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: DeletePerson) -> Result<()> {
    let DeletePerson { name, etag: given } = request;
    let write = Write::new("DeletePerson");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let row = person_for(tx.conn(), tx.principal(), name, today(), PersonAccess::Write).await?;
        queries::lock_person(tx.conn(), name.id()).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if !queries::delete(tx.conn(), Record::Person(row.id), row.revision).await? {
            return Err(changed(name));
        }
        tx.commit(Done::new((), name.to_string())).await
    })
    .await
}

/// Finds the person who carries an identifier. A scoped caller gets the same answer
/// for a person outside its scope and for nobody, so that it cannot probe numbers it
/// may not see.
pub async fn lookup(db: &DatabaseConnection, ctx: &RequestContext, request: LookupPerson) -> Result<PersonView> {
    let LookupPerson { identity, what, as_of } = request;
    personal_reader(&ctx.principal)?;
    let hidden = || {
        Error::PermissionDenied(format!(
            "nobody carries this {what} in the caller's locality scope on {as_of} (the person may be elsewhere or \
             not recorded)"
        ))
    };
    let scoped = matches!(ctx.principal.scope, Scope::Localities(_));
    let id = match queries::id_by_identifier(db, &identity).await? {
        Some(id) => id,
        None if scoped => return Err(hidden()),
        None => return Err(Error::NotFound(format!("a person with this {what}"))),
    };
    let person = match read_personal(db, &ctx.principal, PersonName(id), as_of).await {
        Ok(person) => person,
        Err(Error::PermissionDenied(_) | Error::NotFound(_)) if scoped => return Err(hidden()),
        Err(e) => return Err(e),
    };
    audit::read_one(db, ctx, "LookupPerson", PersonName(id)).await?;
    Ok(person)
}
