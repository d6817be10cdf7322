//! Idempotency keys per caller (AIP-155): a request identifier belongs to the caller
//! that sent it, so that two callers who happen to pick the same identifier make two
//! independent requests, and a replay can only ever answer the caller who made the
//! first request.
//!
//! The unit of work claims the key at the start of its transaction (the row is
//! inserted before any other write), so that concurrent retries of one request queue
//! behind the first on the primary key and then replay its result. The old
//! `request_log` (keyed by method and identifier only) stays readable for the writes
//! that have not moved to the unit of work yet; its rows are copied here with the
//! subject the audit log recorded for them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Subject,
    Method,
    RequestId,
    Fingerprint,
    Resource,
    CreateTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    // The token's `sub`: who sent the request.
                    .col(ColumnDef::new(IdempotencyKeys::Subject).string_len(256).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Method).string_len(128).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::RequestId).string_len(128).not_null())
                    // SHA-256 of the request without its request_id: a reuse of the
                    // identifier for another request is refused.
                    .col(ColumnDef::new(IdempotencyKeys::Fingerprint).string_len(64).not_null())
                    // The resource(s) the first request wrote; empty while it runs.
                    .col(ColumnDef::new(IdempotencyKeys::Resource).text().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::CreateTime).timestamp_with_time_zone().not_null())
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Subject)
                            .col(IdempotencyKeys::Method)
                            .col(IdempotencyKeys::RequestId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO idempotency_keys (subject, method, request_id, fingerprint, resource, create_time) \
                 SELECT COALESCE((SELECT MIN(a.subject) FROM audit_log a \
                                  WHERE a.method = r.method AND a.request_id = r.request_id), ''), \
                        r.method, r.request_id, r.fingerprint, r.resource, r.create_time \
                 FROM request_log r",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned()).await
    }
}
