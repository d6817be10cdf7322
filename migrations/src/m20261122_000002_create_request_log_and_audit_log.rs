//! Idempotency records of create requests (AIP-155) and the audit log of writes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestLog {
    Table,
    Method,
    RequestId,
    Fingerprint,
    Resource,
    CreateTime,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    OccurredAt,
    Subject,
    Method,
    Resource,
    RequestId,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RequestLog::Table)
                    .col(ColumnDef::new(RequestLog::Method).string_len(128).not_null())
                    .col(ColumnDef::new(RequestLog::RequestId).string_len(128).not_null())
                    // SHA-256 of the request without its request_id: a reuse of the
                    // identifier for another request is refused.
                    .col(ColumnDef::new(RequestLog::Fingerprint).string_len(64).not_null())
                    .col(ColumnDef::new(RequestLog::Resource).string_len(256).not_null())
                    .col(ColumnDef::new(RequestLog::CreateTime).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(RequestLog::Method).col(RequestLog::RequestId))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(ColumnDef::new(AuditLog::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AuditLog::OccurredAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuditLog::Subject).string_len(256).not_null())
                    .col(ColumnDef::new(AuditLog::Method).string_len(128).not_null())
                    .col(ColumnDef::new(AuditLog::Resource).string_len(256).not_null())
                    .col(ColumnDef::new(AuditLog::RequestId).string_len(128).null())
                    .col(ColumnDef::new(AuditLog::Detail).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_audit_log_resource").table(AuditLog::Table).col(AuditLog::Resource).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RequestLog::Table).to_owned()).await
    }
}
