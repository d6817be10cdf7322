//! The dated locality tree: localities, their versions, tags and succession links.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Localities {
    Table,
    Code,
    Tier,
    Revision,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum LocalityVersions {
    Table,
    Id,
    Code,
    ValidFrom,
    ValidUntil,
    Name,
    NameFolded,
    Kind,
    ParentCode,
}

#[derive(DeriveIden)]
enum LocalityTags {
    Table,
    Code,
    Tag,
}

#[derive(DeriveIden)]
enum LocalityLinks {
    Table,
    Id,
    PredecessorCode,
    SuccessorCode,
    Kind,
    EffectiveDate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Localities::Table)
                    .col(ColumnDef::new(Localities::Code).string_len(5).not_null().primary_key())
                    .col(ColumnDef::new(Localities::Tier).string_len(16).not_null())
                    .col(ColumnDef::new(Localities::Revision).big_integer().not_null().default(1))
                    .col(ColumnDef::new(Localities::CreateTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Localities::UpdateTime).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LocalityVersions::Table)
                    .col(ColumnDef::new(LocalityVersions::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(LocalityVersions::Code).string_len(5).not_null())
                    .col(ColumnDef::new(LocalityVersions::ValidFrom).date().not_null())
                    // Exclusive end; NULL is open-ended.
                    .col(ColumnDef::new(LocalityVersions::ValidUntil).date().null())
                    .col(ColumnDef::new(LocalityVersions::Name).string_len(200).not_null())
                    // Lower case, diacritics removed, `đ` as `d`: what search matches on.
                    .col(ColumnDef::new(LocalityVersions::NameFolded).string_len(200).not_null())
                    .col(ColumnDef::new(LocalityVersions::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(LocalityVersions::ParentCode).string_len(5).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_locality_versions_code")
                            .from(LocalityVersions::Table, LocalityVersions::Code)
                            .to(Localities::Table, Localities::Code)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_locality_versions_parent_code")
                            .from(LocalityVersions::Table, LocalityVersions::ParentCode)
                            .to(Localities::Table, Localities::Code)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_locality_versions_code_valid_from")
                    .table(LocalityVersions::Table)
                    .col(LocalityVersions::Code)
                    .col(LocalityVersions::ValidFrom)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_locality_versions_parent_code")
                    .table(LocalityVersions::Table)
                    .col(LocalityVersions::ParentCode)
                    .col(LocalityVersions::ValidFrom)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LocalityTags::Table)
                    .col(ColumnDef::new(LocalityTags::Code).string_len(5).not_null())
                    .col(ColumnDef::new(LocalityTags::Tag).string_len(64).not_null())
                    .primary_key(Index::create().col(LocalityTags::Code).col(LocalityTags::Tag))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_locality_tags_code")
                            .from(LocalityTags::Table, LocalityTags::Code)
                            .to(Localities::Table, Localities::Code)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_locality_tags_tag")
                    .table(LocalityTags::Table)
                    .col(LocalityTags::Tag)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LocalityLinks::Table)
                    .col(ColumnDef::new(LocalityLinks::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(LocalityLinks::PredecessorCode).string_len(5).not_null())
                    .col(ColumnDef::new(LocalityLinks::SuccessorCode).string_len(5).not_null())
                    .col(ColumnDef::new(LocalityLinks::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(LocalityLinks::EffectiveDate).date().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_locality_links_predecessor")
                            .from(LocalityLinks::Table, LocalityLinks::PredecessorCode)
                            .to(Localities::Table, Localities::Code)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_locality_links_successor")
                            .from(LocalityLinks::Table, LocalityLinks::SuccessorCode)
                            .to(Localities::Table, Localities::Code)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_locality_links")
                    .table(LocalityLinks::Table)
                    .col(LocalityLinks::PredecessorCode)
                    .col(LocalityLinks::SuccessorCode)
                    .col(LocalityLinks::EffectiveDate)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_locality_links_successor")
                    .table(LocalityLinks::Table)
                    .col(LocalityLinks::SuccessorCode)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LocalityLinks::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(LocalityTags::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(LocalityVersions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Localities::Table).to_owned()).await
    }
}
