//! The change log of the person facts, which in-memory copies of the facts (the report
//! engine of every server process) follow.
//!
//! `fact_version` holds one row: the version of the facts, bumped once by every
//! transaction that rebuilds someone's facts, as its last statement before commit.
//! The row lock of that update is held until commit, so versions are handed out in
//! commit order: a reader whose snapshot shows version V sees every transaction of a
//! version up to V committed. `fact_changes` lists, per version, the people whose facts
//! it rebuilt. Readers keep up by reading the changes of the versions above theirs;
//! old versions are pruned (a reader further behind reloads everything).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FactVersion {
    Table,
    Id,
    Seq,
}

#[derive(DeriveIden)]
enum FactChanges {
    Table,
    Seq,
    PersonId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FactVersion::Table)
                    .col(
                        ColumnDef::new(FactVersion::Id)
                            .integer()
                            .not_null()
                            .primary_key()
                            .check(Expr::col(FactVersion::Id).eq(1)),
                    )
                    .col(ColumnDef::new(FactVersion::Seq).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager.get_connection().execute_unprepared("INSERT INTO fact_version (id, seq) VALUES (1, 0)").await?;
        manager
            .create_table(
                Table::create()
                    .table(FactChanges::Table)
                    .col(ColumnDef::new(FactChanges::Seq).big_integer().not_null())
                    .col(ColumnDef::new(FactChanges::PersonId).big_integer().not_null())
                    .primary_key(Index::create().col(FactChanges::Seq).col(FactChanges::PersonId))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(FactChanges::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(FactVersion::Table).to_owned()).await
    }
}
