//! A person's stable identifiers: the 12-digit personal identification number and an
//! employer's staff code, each optional and unique among people.
//!
//! Uniqueness is the database's: unique indexes on `personal_id` and on
//! `staff_code_key` (the staff code in upper case, written by the server beside the
//! code as entered, so that `hn-001` and `HN-001` are one code). They are partial
//! (`WHERE … IS NOT NULL`, the same SQL on SQLite and PostgreSQL): people without
//! identifiers (everyone recorded before this migration) stay valid, any number of
//! them, and cost the indexes nothing. Lookups by `personal_id = ?` or `IN (…)` use
//! them on both databases, which know that such a condition implies `IS NOT NULL`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum People {
    Table,
    PersonalId,
    StaffCode,
    StaffCodeKey,
}

const PERSONAL_ID_INDEX: &str = "ux_people_personal_id";
const STAFF_CODE_INDEX: &str = "ux_people_staff_code_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        for column in [
            ColumnDef::new(People::PersonalId).string_len(12).null().to_owned(),
            ColumnDef::new(People::StaffCode).string_len(32).null().to_owned(),
            ColumnDef::new(People::StaffCodeKey).string_len(32).null().to_owned(),
        ] {
            manager.alter_table(Table::alter().table(People::Table).add_column(column).to_owned()).await?;
        }
        // Partial indexes: only the people who carry an identifier have an entry, so
        // imports of people without one pay nothing for them.
        manager
            .create_index(
                Index::create()
                    .name(PERSONAL_ID_INDEX)
                    .table(People::Table)
                    .col(People::PersonalId)
                    .unique()
                    .and_where(Expr::col(People::PersonalId).is_not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(STAFF_CODE_INDEX)
                    .table(People::Table)
                    .col(People::StaffCodeKey)
                    .unique()
                    .and_where(Expr::col(People::StaffCodeKey).is_not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in [STAFF_CODE_INDEX, PERSONAL_ID_INDEX] {
            manager.drop_index(Index::drop().name(index).table(People::Table).to_owned()).await?;
        }
        for column in [People::StaffCodeKey, People::StaffCode, People::PersonalId] {
            manager.alter_table(Table::alter().table(People::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
