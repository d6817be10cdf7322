//! The audit log: every write, every read of personal data, every refused call, each
//! with the caller (the token's subject) and the peer address.
//!
//! The three kinds are recorded differently, on purpose:
//! - a **write** is recorded in the writer's transaction ([`record`]): no record, no
//!   change;
//! - a **read of personal data** is recorded before its answer leaves ([`record_read`]),
//!   and a failure to record fails the read: no record, no data;
//! - a **refusal** (UNAUTHENTICATED, PERMISSION_DENIED) is seen in one place, by
//!   [`AuditLayer`] from the grpc-status of the response, and queued to one background
//!   writer ([`RefusalWriter`]). Refusals cost the caller nothing, so a flood of them
//!   must not become a flood of database writes: the queue is bounded, a full queue drops
//!   the record and counts it, and the writer records how many it had to drop (and logs
//!   a warning). At most one connection is ever busy with refusals.
//!
//! What the interceptor learns of the call (the peer address, then the subject) is kept
//! in a task-local [`Call`] that [`AuditLayer`] opens around each request, so that the
//! write path and the refusal record find it without being handed it.

use std::{
    pin::Pin,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::mpsc;

use crate::{
    context::RequestContext,
    error::Result,
    sql::{self, raw_sql},
};

/// How many refusal records may wait for the background writer; beyond, they are
/// dropped and counted.
pub const REFUSAL_QUEUE: usize = 1024;

/// The longest refusal message kept in a record, in characters.
const MESSAGE_PREFIX: usize = 200;

/// What the audit log says an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A change, recorded in its transaction.
    Write,
    /// A read of person-level data.
    Read,
    /// A call refused as UNAUTHENTICATED or PERMISSION_DENIED.
    Refusal,
}

impl Kind {
    /// The value of the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Write => "write",
            Kind::Read => "read",
            Kind::Refusal => "refusal",
        }
    }
}

/// What is known of the request being served, filled in by the interceptor.
#[derive(Debug, Default)]
pub struct Call {
    peer: OnceLock<String>,
    subject: OnceLock<String>,
}

tokio::task_local! {
    static CALL: Arc<Call>;
}

/// Notes the peer address of the call being served (no-op outside [`AuditLayer`]).
pub fn note_peer(peer: Option<&str>) {
    if let Some(peer) = peer {
        CALL.try_with(|call| call.peer.set(peer.to_owned())).ok();
    }
}

/// Notes the authenticated subject of the call being served.
pub fn note_subject(subject: &str) {
    CALL.try_with(|call| call.subject.set(subject.to_owned())).ok();
}

fn current_peer() -> Option<String> {
    CALL.try_with(|call| call.peer.get().cloned()).ok().flatten()
}

/// Records a write in the audit log, in the writer's transaction (with the peer
/// address of the call being served, if any).
pub async fn record(
    conn: &impl ConnectionTrait,
    subject: &str,
    method: &str,
    resource: &str,
    request_id: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    insert(conn, Kind::Write, subject, current_peer(), method, resource, request_id, &detail).await
}

/// Records that the caller of `ctx` read person-level data: `resource` names what was
/// read (a resource name, or the collection of a list or export, whose `detail` gives
/// the query and the count). Call it before the answer leaves; its failure must fail
/// the read.
pub async fn record_read(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    method: &str,
    resource: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let subject = ctx.principal.subject.as_str();
    let peer = ctx.peer.clone();
    match &ctx.audit {
        Some(audit) => insert(audit, Kind::Read, subject, peer, method, resource, None, &detail).await,
        None => insert(conn, Kind::Read, subject, peer, method, resource, None, &detail).await,
    }
}

/// Records a read of the one resource `name`.
pub async fn read_one(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    method: &str,
    name: impl std::fmt::Display,
) -> Result<()> {
    record_read(conn, ctx, method, &name.to_string(), serde_json::json!({})).await
}

/// Records a read of `count` resources of `collection` found by `query` (a list, a
/// search or an export).
pub async fn read_many(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    method: &str,
    collection: impl std::fmt::Display,
    query: &str,
    count: Option<usize>,
) -> Result<()> {
    let detail = serde_json::json!({ "query": query, "count": count });
    record_read(conn, ctx, method, &collection.to_string(), detail).await
}

/// The query of a list as the audit log records it: the parsed request, cut at
/// 2,000 characters.
pub fn query(request: &impl std::fmt::Debug) -> String {
    format!("{request:?}").chars().take(2000).collect()
}

#[expect(clippy::too_many_arguments, reason = "one argument per column of the audit record")]
async fn insert(
    conn: &impl ConnectionTrait,
    kind: Kind,
    subject: &str,
    peer: Option<String>,
    method: &str,
    resource: &str,
    request_id: Option<&str>,
    detail: &serde_json::Value,
) -> Result<()> {
    let (now, kind, request_id, detail) =
        (Utc::now(), kind.as_str(), request_id.map(str::to_owned), detail.to_string());
    // The resource column holds 256 characters; a longer name is cut, not refused.
    let resource: String = resource.chars().take(256).collect();
    sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO audit_log (occurred_at, kind, subject, peer, method, resource, request_id, detail) \
             VALUES ({now}, {kind}, {subject}, {peer}, {method}, {resource}, {request_id}, {detail})"
        ),
    )
    .await?;
    Ok(())
}

/// A refused call waiting to be recorded.
#[derive(Debug)]
struct Refusal {
    subject: String,
    peer: Option<String>,
    path: String,
    code: i32,
    message: String,
}

/// The sending side of the refusal queue; cheap to clone.
#[derive(Debug, Clone)]
pub struct RefusalSink {
    queue: mpsc::Sender<Refusal>,
    dropped: Arc<AtomicU64>,
}

impl RefusalSink {
    /// Queues a refusal record, or counts it as dropped when the queue is full.
    fn push(&self, refusal: Refusal) {
        if self.queue.try_send(refusal).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The background writer of refusal records.
#[derive(Debug)]
pub struct RefusalWriter {
    queue: mpsc::Receiver<Refusal>,
    dropped: Arc<AtomicU64>,
    db: DatabaseConnection,
}

/// A bounded refusal queue of `capacity` records: the sink the [`AuditLayer`] pushes
/// to, and the writer that empties it into `db`.
pub fn refusal_queue(db: DatabaseConnection, capacity: usize) -> (RefusalSink, RefusalWriter) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    (RefusalSink { queue: tx, dropped: dropped.clone() }, RefusalWriter { queue: rx, dropped, db })
}

impl RefusalWriter {
    /// Writes queued refusals one at a time until every sink is gone; after each, if
    /// records were dropped meanwhile, records how many (method `AuditDropped`).
    pub async fn run(mut self) {
        loop {
            // Drops are counted after each record, and every second while idle, so that
            // the count of the last burst is not held back until the next refusal.
            let refusal = match tokio::time::timeout(std::time::Duration::from_secs(1), self.queue.recv()).await {
                Ok(Some(refusal)) => refusal,
                Ok(None) => {
                    self.report_dropped().await;
                    return;
                }
                Err(_) => {
                    self.report_dropped().await;
                    continue;
                }
            };
            let code = if refusal.code == 16 { "UNAUTHENTICATED" } else { "PERMISSION_DENIED" };
            let detail = serde_json::json!({ "path": refusal.path, "code": code, "message": refusal.message });
            let method = refusal.path.rsplit('/').next().unwrap_or_default();
            let written =
                insert(&self.db, Kind::Refusal, &refusal.subject, refusal.peer, method, "", None, &detail).await;
            if let Err(e) = written {
                tracing::warn!(error = %e, "could not record a refused call in the audit log");
            }
            self.report_dropped().await;
        }
    }

    /// Records how many refusals were dropped since the last report, if any.
    async fn report_dropped(&self) {
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(dropped, "the audit queue of refused calls was full: records dropped");
            let detail = serde_json::json!({ "dropped": dropped });
            if let Err(e) = insert(&self.db, Kind::Refusal, "", None, "AuditDropped", "", None, &detail).await {
                tracing::warn!(error = %e, dropped, "could not record the count of dropped audit records");
            }
        }
    }
}

/// A tower layer that opens the task-local [`Call`] around each request and queues an
/// audit record for every response whose grpc-status is UNAUTHENTICATED or
/// PERMISSION_DENIED (refusals answered in the headers, as tonic answers every error
/// raised before a response stream starts).
#[derive(Debug, Clone)]
pub struct AuditLayer {
    sink: RefusalSink,
}

impl AuditLayer {
    /// A layer queueing refusals to `sink`.
    pub fn new(sink: RefusalSink) -> Self {
        Self { sink }
    }
}

impl<S> tower::Layer<S> for AuditLayer {
    type Service = Audited<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Audited { inner, sink: self.sink.clone() }
    }
}

/// The service [`AuditLayer`] wraps.
#[derive(Debug, Clone)]
pub struct Audited<S> {
    inner: S,
    sink: RefusalSink,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for Audited<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<std::result::Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let call = Arc::new(Call::default());
        let path = request.uri().path().to_owned();
        // Interceptors run when the service is called, handlers when its future is
        // polled: both see the call.
        let future = CALL.sync_scope(call.clone(), || self.inner.call(request));
        let sink = self.sink.clone();
        Box::pin(CALL.scope(call.clone(), async move {
            let response = future.await?;
            let status = response.headers().get("grpc-status").and_then(|v| v.to_str().ok()?.parse::<i32>().ok());
            if let Some(code @ (7 | 16)) = status {
                let message = response
                    .headers()
                    .get("grpc-message")
                    .and_then(|v| v.to_str().ok())
                    .map(|m| m.chars().take(MESSAGE_PREFIX).collect())
                    .unwrap_or_default();
                let subject = call.subject.get().cloned().unwrap_or_default();
                sink.push(Refusal { subject, peer: call.peer.get().cloned(), path, code, message });
            }
            Ok(response)
        }))
    }
}
