//! The version of the training records the report engine holds in memory for
//! SummarizeTraining: enrolments (`enrollments`), their status history
//! (`enrollment_history`) and the plans' target lines they belong to (`target_lines`),
//! in the one-row table `training_version` (see [`crate::version_table`] for how it is
//! bumped).

use sea_orm_migration::prelude::*;

use crate::version_table::{self, Watch};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows the engine's training records copy.
const TABLES: &[Watch] = &[Watch::all("enrollments"), Watch::all("enrollment_history"), Watch::all("target_lines")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        version_table::create(manager, "training_version", TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        version_table::drop(manager, "training_version", TABLES).await
    }
}
