//! The audit log of writes and the idempotency records of create requests.

use chrono::Utc;
use sea_orm::ConnectionTrait;

use super::stmt;
use crate::error::Result;

/// Records a write in the audit log, in the writer's transaction.
pub async fn record(
    conn: &impl ConnectionTrait,
    subject: &str,
    method: &str,
    resource: &str,
    request_id: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    let backend = conn.get_database_backend();
    conn.execute_raw(stmt(
        backend,
        "INSERT INTO audit_log (occurred_at, subject, method, resource, request_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            Utc::now().into(),
            subject.into(),
            method.into(),
            resource.into(),
            request_id.map(str::to_owned).into(),
            detail.to_string().into(),
        ],
    ))
    .await?;
    Ok(())
}
