//! Placements of one person never overlap, held by the database on PostgreSQL: an
//! exclusion constraint over the person and the placement's period.
//!
//! The period is `daterange(valid_from, valid_until, '[)')`: the first day is in, the
//! end is the first day no longer in force, and an open end (`NULL`) is unbounded, so
//! `&&` is exactly the rule of `people::rules::person::first_overlap` (two periods
//! overlap when each begins before the other ends). The constraint is checked at
//! commit (`DEFERRABLE INITIALLY DEFERRED`): a write that closes one placement and
//! opens the next in the same transaction may pass through an overlap in between,
//! and the use cases' own checks, made in the transaction, answer the usual error
//! first; a commit that still breaks it lost a race with a concurrent writer, which the
//! unit of work runs again.
//!
//! SQLite has no exclusion constraints: there writers are serialised (`BEGIN
//! IMMEDIATE`), so the check made inside the writing transaction suffices.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gist").await?;
        db.execute_unprepared(
            "ALTER TABLE placements ADD CONSTRAINT placements_no_overlap EXCLUDE USING gist \
             (person_id WITH =, daterange(valid_from, valid_until, '[)') WITH &&) DEFERRABLE INITIALLY DEFERRED",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE placements DROP CONSTRAINT IF EXISTS placements_no_overlap")
            .await?;
        Ok(())
    }
}
