//! One open enrolment per person and line of a plan, held by the database: a partial
//! unique index over the enrolments still PLANNED or ENROLLED (portable: SQLite and
//! PostgreSQL both have partial indexes). The service checks the rule in the
//! transaction that writes; the index makes two concurrent writers unable to both
//! succeed on PostgreSQL (SQLite serialises its writers anyway).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_enrollments_open ON enrollments (plan_id, line_id, person_id) \
                 WHERE status IN ('planned', 'enrolled')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP INDEX ux_enrollments_open").await?;
        Ok(())
    }
}
