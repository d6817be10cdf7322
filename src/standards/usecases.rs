//! What StandardService does. Standards are national rules: any role reads them, and
//! only a national admin changes them, through the unit of work, with the check that
//! their minimum levels exist made in the transaction that writes. (A level is never
//! deleted, and `standard_minimums` refers to it by foreign key, so the check still
//! holds at commit on both backends.)

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use super::{
    compliance::{self, Compliance},
    queries,
    rules::{LevelRef, StandardRecord, StandardSpec, require_national_admin},
    wire::{CreateStandard, GetCompliance, ListStandards, StandardRef, UpdateStandard},
};
use crate::{
    context::{Access, PersonAccess, RequestContext},
    edge::{etag, names::StandardName},
    error::{Error, Result, Violation},
    policy::{authorize_person, require_access},
    store::audit,
    uow::{self, Begun, Done, Write},
};

async fn load(conn: &impl ConnectionTrait, name: StandardName) -> Result<StandardRecord> {
    queries::load_one(conn, name.id()).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// Field violations for minimum levels that no scale defines.
async fn missing_levels(conn: &impl ConnectionTrait, minimums: &[LevelRef]) -> Result<Vec<Violation>> {
    let missing = queries::missing_levels(conn, minimums).await?;
    Ok(minimums
        .iter()
        .enumerate()
        .filter(|(_, level)| missing.contains(*level))
        .map(|(i, level)| {
            Violation::new(format!("standard.minimum_levels[{i}]"), format!("{} does not exist", level.name()))
        })
        .collect())
}

fn audit_detail(spec: &StandardSpec) -> serde_json::Value {
    json!({
        "display_name": spec.display_name,
        "effective_from": spec.effective_from.to_string(),
        "effective_until": spec.effective_until.map(|d| d.to_string()),
        "minimum_levels": spec.minimums.iter().map(LevelRef::name).collect::<Vec<_>>(),
    })
}

/// Creates a standard; a retry with the same request identifier (from the same
/// caller) answers the first result.
pub async fn create(db: &DatabaseConnection, ctx: &RequestContext, request: CreateStandard) -> Result<StandardRecord> {
    let CreateStandard { spec, key } = request;
    require_national_admin(&ctx.principal)?;
    let write = Write::new("CreateStandard").idempotent(key);
    let spec = &spec;
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            Begun::Replay(tx, resource) => {
                let record = match StandardName::parse(&resource) {
                    Ok(name) => load(tx.conn(), name).await,
                    Err(_) => Err(Error::internal(format!("an idempotency key names `{resource}`"))),
                };
                return tx.replay(record).await;
            }
            Begun::Fresh(tx) => tx,
        };
        let missing = missing_levels(tx.conn(), &spec.minimums).await?;
        if !missing.is_empty() {
            return Err(Error::InvalidArgument(missing));
        }
        let name = StandardName(queries::insert(tx.conn(), spec).await?);
        let record = load(tx.conn(), name).await?;
        tx.commit(Done::new(record, name.to_string()).detail(audit_detail(spec))).await
    })
    .await
}

/// Gets a standard.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: StandardRef) -> Result<StandardRecord> {
    require_access(&ctx.principal, Access::Read)?;
    load(db, request.name).await
}

/// Lists standards by id, optionally those in force on a day, one page at a time;
/// with the token of the next page.
pub async fn list(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: ListStandards,
) -> Result<(Vec<StandardRecord>, String)> {
    let ListStandards { in_force_on, page } = request;
    require_access(&ctx.principal, Access::Read)?;
    let after = page.after_id().map_err(|e| Error::invalid("page_token", e))?;
    let records = queries::list(db, in_force_on, after, page.fetch()).await?;
    Ok(page.cut(records, |r| vec![r.id.to_string()]))
}

/// Updates a standard, checking the rules on the result.
pub async fn update(db: &DatabaseConnection, ctx: &RequestContext, request: UpdateStandard) -> Result<StandardRecord> {
    let UpdateStandard { name, etag: given, changes } = request;
    require_national_admin(&ctx.principal)?;
    let write = Write::new("UpdateStandard");
    let changes = &changes;
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let record = load(tx.conn(), name).await?;
        etag::check(&given, record.revision, &name.to_string())?;
        let spec = changes.apply(&record.spec);
        let mut violations = changes.check(&spec);
        if changes.minimums.is_some() {
            violations.extend(missing_levels(tx.conn(), &spec.minimums).await?);
        }
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        if !queries::update(tx.conn(), name.id(), record.revision, &spec, changes.minimums.is_some()).await? {
            return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
        }
        let updated = load(tx.conn(), name).await?;
        tx.commit(Done::new(updated, name.to_string()).detail(audit_detail(&spec))).await
    })
    .await
}

/// Deletes a standard.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, request: StandardRef) -> Result<()> {
    let StandardRef { name, etag: given } = request;
    require_national_admin(&ctx.principal)?;
    let write = Write::new("DeleteStandard");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let record = load(tx.conn(), name).await?;
        etag::check(&given, record.revision, &name.to_string())?;
        queries::delete(tx.conn(), name.id()).await?;
        tx.commit(Done::new((), name.to_string()).detail(audit_detail(&record.spec))).await
    })
    .await
}

/// Whether a person meets the standard of their post on a date. Role and scope are
/// judged first, so that a refusal says nothing of whether the person exists.
pub async fn compliance(db: &DatabaseConnection, ctx: &RequestContext, request: GetCompliance) -> Result<Compliance> {
    let GetCompliance { person, as_of } = request;
    authorize_person(db, &ctx.principal, person.id(), as_of, PersonAccess::ReadPersonal).await?;
    let found =
        compliance::compliance(db, person.id(), as_of).await?.ok_or_else(|| Error::NotFound(person.to_string()))?;
    audit::read_one(db, ctx, "GetPersonCompliance", person).await?;
    Ok(found)
}
