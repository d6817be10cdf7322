//! What ScaleService does. Scales are shared by the whole country, so they are not
//! locality-scoped: any role reads them, and only a national admin adds or changes a
//! level, through the unit of work.
//!
//! A level's rank feeds the person facts (the highest level each person holds): the
//! database marks the facts of every holder of a changed level, and the unit of work
//! rebuilds them in the transaction that changes the rank, so no committed state has
//! facts of the old rank. The primary key of `scale_levels` holds one level per code
//! on both backends, however two creates interleave.

use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{
    queries,
    rules::{LevelRecord, ScaleRecord, require_scale_admin, scale_name},
    wire::{GetScale, LevelWrite},
};
use crate::{
    context::{Access, RequestContext},
    error::{Error, Result},
    policy::require_access,
    uow::{self, Done, Write},
};

/// Every scale with its levels.
pub async fn list(db: &DatabaseConnection, ctx: &RequestContext) -> Result<Vec<ScaleRecord>> {
    require_access(&ctx.principal, Access::Read)?;
    queries::list(db).await
}

/// One scale with its levels.
pub async fn get(db: &DatabaseConnection, ctx: &RequestContext, request: GetScale) -> Result<ScaleRecord> {
    require_access(&ctx.principal, Access::Read)?;
    queries::get(db, &request.name.0).await?.ok_or_else(|| Error::NotFound(request.name.to_string()))
}

async fn load(conn: &impl sea_orm::ConnectionTrait, level: &LevelRecord) -> Result<LevelRecord> {
    queries::level(conn, &level.scale, &level.code).await?.ok_or_else(|| Error::internal("a written level vanished"))
}

/// Adds a level to an existing scale.
pub async fn create_level(db: &DatabaseConnection, ctx: &RequestContext, request: LevelWrite) -> Result<LevelRecord> {
    let LevelWrite { level } = request;
    require_scale_admin(&ctx.principal)?;
    let write = Write::new("CreateLevel");
    let level = &level;
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        if !queries::scale_exists(tx.conn(), &level.scale).await? {
            return Err(Error::NotFound(scale_name(&level.scale)));
        }
        if queries::level(tx.conn(), &level.scale, &level.code).await?.is_some() {
            return Err(Error::AlreadyExists(level.name()));
        }
        match queries::insert_level(tx.conn(), level).await {
            Err(Error::AlreadyExists(_)) => return Err(Error::AlreadyExists(level.name())),
            other => other?,
        }
        let created = load(tx.conn(), level).await?;
        let detail =
            json!({ "rank": level.rank, "display_name": level.display_name, "english_name": level.english_name });
        tx.commit(Done::new(created, level.name()).detail(detail)).await
    })
    .await
}

/// Replaces the rank and labels of an existing level.
pub async fn update_level(db: &DatabaseConnection, ctx: &RequestContext, request: LevelWrite) -> Result<LevelRecord> {
    let LevelWrite { level } = request;
    require_scale_admin(&ctx.principal)?;
    let write = Write::new("UpdateLevel");
    let level = &level;
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let Some(before) = queries::level(tx.conn(), &level.scale, &level.code).await? else {
            return Err(Error::NotFound(level.name()));
        };
        if !queries::update_level(tx.conn(), level).await? {
            return Err(Error::NotFound(level.name()));
        }
        let updated = load(tx.conn(), level).await?;
        // The previous rank is kept: a changed rank changes every "X or higher" figure.
        let detail = json!({
            "rank": { "from": before.rank, "to": level.rank },
            "display_name": level.display_name,
            "english_name": level.english_name,
        });
        tx.commit(Done::new(updated, level.name()).detail(detail)).await
    })
    .await
}
