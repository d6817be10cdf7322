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

/// A create request seen before: the fingerprint of its body and the resource it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// Digest of the first request's body.
    pub fingerprint: String,
    /// Name of the resource it created.
    pub resource: String,
}

/// The earlier request with this identifier, if any.
pub async fn find_request(conn: &impl ConnectionTrait, method: &str, request_id: &str) -> Result<Option<SeenRequest>> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(stmt(
            backend,
            "SELECT fingerprint, resource FROM request_log WHERE method = ? AND request_id = ?",
            vec![method.into(), request_id.into()],
        ))
        .await?;
    row.map(|r| Ok(SeenRequest { fingerprint: r.try_get("", "fingerprint")?, resource: r.try_get("", "resource")? }))
        .transpose()
}

/// The resource an earlier create with the same identifier made, if any (AIP-155); a
/// reuse of the identifier for a different request body is INVALID_ARGUMENT.
pub async fn replayed(
    conn: &impl ConnectionTrait,
    method: &str,
    request_id: Option<&str>,
    fingerprint: &str,
) -> Result<Option<String>> {
    let Some(request_id) = request_id else { return Ok(None) };
    match find_request(conn, method, request_id).await? {
        None => Ok(None),
        Some(seen) if seen.fingerprint == fingerprint => Ok(Some(seen.resource)),
        Some(_) => Err(crate::error::Error::invalid("request_id", "was already used for a different request")),
    }
}

/// Remembers a request's identifier with the resource it made.
pub async fn remember_request(
    conn: &impl ConnectionTrait,
    method: &str,
    request_id: &str,
    fingerprint: &str,
    resource: &str,
) -> Result<()> {
    let backend = conn.get_database_backend();
    conn.execute_raw(stmt(
        backend,
        "INSERT INTO request_log (method, request_id, fingerprint, resource, create_time) VALUES (?, ?, ?, ?, ?)",
        vec![method.into(), request_id.into(), fingerprint.into(), resource.into(), Utc::now().into()],
    ))
    .await?;
    Ok(())
}
