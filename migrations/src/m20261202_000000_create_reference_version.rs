//! The version of the reference data the report engine holds in memory beside the
//! person facts: the locality tree (`localities`, `locality_versions`, `locality_tags`,
//! `locality_links`) and the qualification scales' levels (`scale_levels`), in the
//! one-row table `reference_version` (see [`crate::version_table`] for how it is bumped).

use sea_orm_migration::prelude::*;

use crate::version_table::{self, Watch};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows the engine's reference data copies.
const TABLES: &[Watch] = &[
    Watch::all("localities"),
    Watch::all("locality_versions"),
    Watch::all("locality_tags"),
    Watch::all("locality_links"),
    Watch::all("scale_levels"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        version_table::create(manager, "reference_version", TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        version_table::drop(manager, "reference_version", TABLES).await
    }
}
