//! A person is in a succession pool once at a time, held by the database: on both
//! backends a partial unique index allows one open membership (no `removed_on`) per
//! pool and person; on PostgreSQL an exclusion constraint (btree_gist) also forbids two
//! memberships of one person in one pool whose periods `[added_on, removed_on)`
//! overlap, which is exactly the service's rule (a new membership is open-ended, so it
//! overlaps every membership not ended by its first day). SQLite has no exclusion
//! constraints; its writers are serialised, so the service's check in the writing
//! transaction suffices there.
//!
//! The service checked the rule inside its write transaction, but on PostgreSQL under
//! READ COMMITTED two concurrent additions could both pass it. Such pairs are not
//! resolved here (which membership to end is a decision for a person): the migration
//! stops and names them.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The open membership index; the service recognises its violation by this name.
const OPEN_INDEX: &str = "ux_pool_candidates_open";
/// The exclusion constraint (PostgreSQL).
const EXCLUSION: &str = "ex_pool_candidates_period";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let overlapping = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT DISTINCT a.pool_id, a.person_id FROM pool_candidates a JOIN pool_candidates b \
                 ON a.pool_id = b.pool_id AND a.person_id = b.person_id AND a.id < b.id \
                 AND (a.removed_on IS NULL OR b.added_on < a.removed_on) \
                 AND (b.removed_on IS NULL OR a.added_on < b.removed_on) \
                 ORDER BY a.pool_id, a.person_id LIMIT 20",
            ))
            .await?;
        if !overlapping.is_empty() {
            let mut pairs = Vec::new();
            for row in &overlapping {
                let pool: i64 = row.try_get("", "pool_id")?;
                let person: i64 = row.try_get("", "person_id")?;
                pairs.push(format!("people/{person} in successionPools/{pool}"));
            }
            return Err(DbErr::Migration(format!(
                "these candidates have overlapping memberships of one pool, which the service does not allow: {}; \
                 end or remove all but one of each, then migrate again",
                pairs.join(", ")
            )));
        }
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX {OPEN_INDEX} ON pool_candidates (pool_id, person_id) WHERE removed_on IS NULL"
        ))
        .await?;
        if backend == DbBackend::Postgres {
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gist").await?;
            db.execute_unprepared(&format!(
                "ALTER TABLE pool_candidates ADD CONSTRAINT {EXCLUSION} EXCLUDE USING gist \
                 (pool_id WITH =, person_id WITH =, daterange(added_on, removed_on, '[)') WITH &&)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(&format!("ALTER TABLE pool_candidates DROP CONSTRAINT IF EXISTS {EXCLUSION}"))
                .await?;
        }
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {OPEN_INDEX}")).await?;
        Ok(())
    }
}
