//! The audit log records reads of personal data and refused calls besides writes, and
//! the caller's network address: a `kind` column (`write`, `read`, `refusal`; the rows
//! already there are writes) and a nullable `peer` column (unknown for old rows and for
//! work done outside the network, such as the demo loader).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Kind,
    Peer,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .add_column(ColumnDef::new(AuditLog::Kind).string_len(16).not_null().default("write"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .add_column(ColumnDef::new(AuditLog::Peer).string_len(128).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_kind_occurred_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::Kind)
                    .col(Alias::new("occurred_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_audit_log_kind_occurred_at").table(AuditLog::Table).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(AuditLog::Table).drop_column(AuditLog::Peer).to_owned()).await?;
        manager.alter_table(Table::alter().table(AuditLog::Table).drop_column(AuditLog::Kind).to_owned()).await
    }
}
