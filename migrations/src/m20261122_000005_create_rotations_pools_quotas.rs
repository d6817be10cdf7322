//! Movements of cadres (rotations), succession pools with their candidates, and
//! staffing quotas.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Localities {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Rotations {
    Table,
    Id,
    PersonId,
    Kind,
    SourceUnitId,
    SourcePost,
    DestinationUnitId,
    DestinationPost,
    DestinationLeader,
    StartDate,
    PlannedEndDate,
    ActualEndDate,
    DecisionNumber,
    DecidedOn,
    IssuingBody,
    Programme,
    Status,
    OutcomeRating,
    Promoted,
    PostAfterReturn,
    // What starting changed, so that a cancellation can restore it.
    SourcePlacementId,
    SourcePlacementUntil,
    DestinationPlacementId,
    ReturnPlacementId,
    Revision,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum SuccessionPools {
    Table,
    Id,
    UnitId,
    PostTitle,
    PostTitleFolded,
    LeaderPost,
    TermStartYear,
    TermEndYear,
    MinCandidates,
    MaxCandidates,
    Revision,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum PoolCandidates {
    Table,
    Id,
    PoolId,
    PersonId,
    AddedOn,
    AddedReason,
    RemovedOn,
    RemovedReason,
}

#[derive(DeriveIden)]
enum StaffingQuotas {
    Table,
    Id,
    UnitId,
    LocalityCode,
    Year,
    Category,
    Quota,
    Revision,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    action: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).on_delete(action).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Rotations::Table)
                    .col(ColumnDef::new(Rotations::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Rotations::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(Rotations::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Rotations::SourceUnitId).big_integer().not_null())
                    .col(ColumnDef::new(Rotations::SourcePost).string_len(200).not_null())
                    .col(ColumnDef::new(Rotations::DestinationUnitId).big_integer().not_null())
                    .col(ColumnDef::new(Rotations::DestinationPost).string_len(200).not_null())
                    .col(ColumnDef::new(Rotations::DestinationLeader).boolean().not_null())
                    .col(ColumnDef::new(Rotations::StartDate).date().not_null())
                    .col(ColumnDef::new(Rotations::PlannedEndDate).date().null())
                    .col(ColumnDef::new(Rotations::ActualEndDate).date().null())
                    .col(ColumnDef::new(Rotations::DecisionNumber).string_len(100).not_null())
                    .col(ColumnDef::new(Rotations::DecidedOn).date().not_null())
                    .col(ColumnDef::new(Rotations::IssuingBody).string_len(300).not_null())
                    .col(ColumnDef::new(Rotations::Programme).string_len(300).not_null())
                    .col(ColumnDef::new(Rotations::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Rotations::OutcomeRating).string_len(16).null())
                    .col(ColumnDef::new(Rotations::Promoted).boolean().not_null())
                    .col(ColumnDef::new(Rotations::PostAfterReturn).string_len(200).null())
                    .col(ColumnDef::new(Rotations::SourcePlacementId).big_integer().null())
                    .col(ColumnDef::new(Rotations::SourcePlacementUntil).date().null())
                    .col(ColumnDef::new(Rotations::DestinationPlacementId).big_integer().null())
                    .col(ColumnDef::new(Rotations::ReturnPlacementId).big_integer().null())
                    .col(ColumnDef::new(Rotations::Revision).big_integer().not_null().default(1))
                    .col(ColumnDef::new(Rotations::CreateTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Rotations::UpdateTime).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut fk(
                        "fk_rotations_person",
                        (Rotations::Table, Rotations::PersonId),
                        (People::Table, People::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_rotations_source_unit",
                        (Rotations::Table, Rotations::SourceUnitId),
                        (Units::Table, Units::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_rotations_destination_unit",
                        (Rotations::Table, Rotations::DestinationUnitId),
                        (Units::Table, Units::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_rotations_person").table(Rotations::Table).col(Rotations::PersonId).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_rotations_start").table(Rotations::Table).col(Rotations::StartDate).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SuccessionPools::Table)
                    .col(ColumnDef::new(SuccessionPools::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(SuccessionPools::UnitId).big_integer().not_null())
                    .col(ColumnDef::new(SuccessionPools::PostTitle).string_len(200).not_null())
                    .col(ColumnDef::new(SuccessionPools::PostTitleFolded).string_len(200).not_null())
                    .col(ColumnDef::new(SuccessionPools::LeaderPost).boolean().not_null())
                    .col(ColumnDef::new(SuccessionPools::TermStartYear).integer().not_null())
                    .col(ColumnDef::new(SuccessionPools::TermEndYear).integer().not_null())
                    .col(ColumnDef::new(SuccessionPools::MinCandidates).integer().not_null())
                    .col(ColumnDef::new(SuccessionPools::MaxCandidates).integer().not_null())
                    .col(ColumnDef::new(SuccessionPools::Revision).big_integer().not_null().default(1))
                    .col(ColumnDef::new(SuccessionPools::CreateTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(SuccessionPools::UpdateTime).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut fk(
                        "fk_succession_pools_unit",
                        (SuccessionPools::Table, SuccessionPools::UnitId),
                        (Units::Table, Units::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PoolCandidates::Table)
                    .col(ColumnDef::new(PoolCandidates::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(PoolCandidates::PoolId).big_integer().not_null())
                    .col(ColumnDef::new(PoolCandidates::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(PoolCandidates::AddedOn).date().not_null())
                    .col(ColumnDef::new(PoolCandidates::AddedReason).string_len(500).not_null())
                    .col(ColumnDef::new(PoolCandidates::RemovedOn).date().null())
                    .col(ColumnDef::new(PoolCandidates::RemovedReason).string_len(500).null())
                    .foreign_key(&mut fk(
                        "fk_pool_candidates_pool",
                        (PoolCandidates::Table, PoolCandidates::PoolId),
                        (SuccessionPools::Table, SuccessionPools::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_pool_candidates_person",
                        (PoolCandidates::Table, PoolCandidates::PersonId),
                        (People::Table, People::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_pool_candidates_pool")
                    .table(PoolCandidates::Table)
                    .col(PoolCandidates::PoolId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StaffingQuotas::Table)
                    .col(ColumnDef::new(StaffingQuotas::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(StaffingQuotas::UnitId).big_integer().null())
                    .col(ColumnDef::new(StaffingQuotas::LocalityCode).string_len(5).null())
                    .col(ColumnDef::new(StaffingQuotas::Year).integer().not_null())
                    .col(ColumnDef::new(StaffingQuotas::Category).string_len(32).not_null())
                    .col(ColumnDef::new(StaffingQuotas::Quota).integer().not_null())
                    .col(ColumnDef::new(StaffingQuotas::Revision).big_integer().not_null().default(1))
                    .foreign_key(&mut fk(
                        "fk_staffing_quotas_unit",
                        (StaffingQuotas::Table, StaffingQuotas::UnitId),
                        (Units::Table, Units::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_staffing_quotas_locality",
                        (StaffingQuotas::Table, StaffingQuotas::LocalityCode),
                        (Localities::Table, Localities::Code),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_staffing_quotas_year")
                    .table(StaffingQuotas::Table)
                    .col(StaffingQuotas::Year)
                    .col(StaffingQuotas::Category)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StaffingQuotas::Table.into_iden(),
            PoolCandidates::Table.into_iden(),
            SuccessionPools::Table.into_iden(),
            Rotations::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
