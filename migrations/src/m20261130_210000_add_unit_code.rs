//! Units get an optional code of their own (mã đơn vị), unique without regard to
//! case, so that spreadsheets can name a unit by a stable code instead of its name.
//!
//! `code` keeps the code as written; `code_key` is its upper-case form, which the
//! unique index holds (NULLs, the units without a code, do not collide on either
//! database).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Units {
    Table,
    Code,
    CodeKey,
}

const INDEX: &str = "ux_units_code_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Units::Table)
                    .add_column(ColumnDef::new(Units::Code).string_len(32).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Units::Table)
                    .add_column(ColumnDef::new(Units::CodeKey).string_len(32).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name(INDEX).table(Units::Table).col(Units::CodeKey).unique().to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Units::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Units::Table).drop_column(Units::CodeKey).to_owned()).await?;
        manager.alter_table(Table::alter().table(Units::Table).drop_column(Units::Code).to_owned()).await
    }
}
