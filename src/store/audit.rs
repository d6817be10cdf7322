//! The audit log of writes.

use chrono::Utc;
use sea_orm::ConnectionTrait;

use crate::{
    error::Result,
    sql::{self, raw_sql},
};

/// Records a write in the audit log, in the writer's transaction.
pub async fn record(
    conn: &impl ConnectionTrait,
    subject: &str,
    method: &str,
    resource: &str,
    request_id: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    let (now, request_id, detail) = (Utc::now(), request_id.map(str::to_owned), detail.to_string());
    sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO audit_log (occurred_at, subject, method, resource, request_id, detail) \
             VALUES ({now}, {subject}, {method}, {resource}, {request_id}, {detail})"
        ),
    )
    .await?;
    Ok(())
}
