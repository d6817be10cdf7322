//! The version of the movements the report engine holds in memory for
//! SummarizeRotations: the rotations (`rotations`), the locality and sector of the units
//! they leave and reach (`units`), and their people's category (`people`), in the
//! one-row table `movement_version` (see [`crate::version_table`] for how it is bumped).
//! A unit or a person is read only through a rotation, whose foreign keys refuse or
//! cascade their deletion, so only updates of those columns bump it.

use sea_orm_migration::prelude::*;

use crate::version_table::{self, Watch};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The changes the engine's movements copy.
const WATCHES: &[Watch] = &[
    Watch::all("rotations"),
    Watch::columns("units", &["locality_code", "sector"]),
    Watch::columns("people", &["category"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        version_table::create(manager, "movement_version", WATCHES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        version_table::drop(manager, "movement_version", WATCHES).await
    }
}
