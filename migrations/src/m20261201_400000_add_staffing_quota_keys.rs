//! One staffing quota per unit (or per locality), year and category, held by the
//! database: two partial unique indexes, one for quotas of a unit and one for quotas of
//! a locality as a whole (a quota has exactly one of the two). Before, the rule was a
//! check-then-insert that two concurrent creates could both pass on PostgreSQL.
//!
//! Both backends support partial indexes with the same syntax. Should a database hold
//! duplicates made by that race, the migration fails naming the index; merge the
//! duplicate quotas by hand, then migrate again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_staffing_quotas_unit_year_category \
             ON staffing_quotas (unit_id, year, category) WHERE unit_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_staffing_quotas_locality_year_category \
             ON staffing_quotas (locality_code, year, category) WHERE locality_code IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX ux_staffing_quotas_locality_year_category").await?;
        db.execute_unprepared("DROP INDEX ux_staffing_quotas_unit_year_category").await?;
        Ok(())
    }
}
