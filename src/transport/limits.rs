//! Limits that keep anonymous callers from starving authenticated work: separate
//! concurrency budgets for the token-free services, a bounded wait for a slot, a
//! deadline on the arrival of request messages, and a per-caller rate limit.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::{
    sync::Semaphore,
    time::{Instant, Sleep},
};
use tonic::{
    Code, Status,
    body::Body,
    codegen::{Bytes, StdError},
    transport::server::TcpConnectInfo,
};
use tonic_types::{ErrorDetails, StatusExt};
use tower::{Layer, Service, ServiceExt};

use super::incoming::Connections;
use crate::error::Error;

/// The services callers reach without a token: health always, reflection when it is
/// served openly.
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";
const REFLECTION_PREFIXES: [&str; 2] =
    ["/grpc.reflection.v1.ServerReflection/", "/grpc.reflection.v1alpha.ServerReflection/"];

/// The numbers behind [`LimitsLayer`].
#[derive(Debug, Clone)]
pub struct LimitOptions {
    /// Requests to the token-checked services served at once.
    pub max_concurrent_requests: usize,
    /// Requests to the token-free services served at once (their own budget).
    pub max_concurrent_token_free: usize,
    /// Longest a request waits for a slot before RESOURCE_EXHAUSTED.
    pub queue_timeout: Duration,
    /// Longest the first request message may take to arrive after the headers.
    pub request_body_timeout: Duration,
    /// Longest a client stream may pause between two messages.
    pub stream_idle_timeout: Duration,
    /// Whether reflection is served without a token (and so counts as token-free).
    pub reflection_token_free: bool,
}

/// The per-request limits, as a tower layer around every service.
#[derive(Debug, Clone)]
pub struct LimitsLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    options: LimitOptions,
    token_checked: Arc<Semaphore>,
    token_free: Arc<Semaphore>,
    rate: Option<RateLimiter>,
    connections: Arc<Connections>,
}

impl LimitsLayer {
    /// Limits with these options; `rate` is handed to the context interceptor through
    /// the request's extensions; `connections` learn which are busy.
    pub fn new(options: LimitOptions, rate: Option<RateLimiter>, connections: Arc<Connections>) -> Self {
        let token_checked = Arc::new(Semaphore::new(options.max_concurrent_requests.max(1)));
        let token_free = Arc::new(Semaphore::new(options.max_concurrent_token_free.max(1)));
        Self { shared: Arc::new(Shared { options, token_checked, token_free, rate, connections }) }
    }
}

impl<S> Layer<S> for LimitsLayer {
    type Service = Limits<S>;

    fn layer(&self, inner: S) -> Limits<S> {
        Limits { inner, shared: self.shared.clone() }
    }
}

/// The service of [`LimitsLayer`].
#[derive(Debug, Clone)]
pub struct Limits<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl Shared {
    fn is_token_free(&self, path: &str) -> bool {
        path.starts_with(HEALTH_PREFIX)
            || (self.options.reflection_token_free && REFLECTION_PREFIXES.iter().any(|p| path.starts_with(p)))
    }
}

impl<S, B> Service<http::Request<Body>> for Limits<S>
where
    S: Service<http::Request<Body>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<StdError>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Never wait here: waiting in poll_ready would stall every stream of the
        // connection, and without any clock running. The wait for a slot is in `call`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let shared = self.shared.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            let budget =
                if shared.is_token_free(request.uri().path()) { &shared.token_free } else { &shared.token_checked };
            // Never wait past the caller's own deadline, and give up a little before it:
            // tonic's own timer for that deadline started a moment earlier, and when it
            // fires first the caller is answered CANCELLED instead of DEADLINE_EXCEEDED.
            let deadline = grpc_timeout(&request).filter(|timeout| *timeout < shared.options.queue_timeout);
            let wait = deadline.map_or(shared.options.queue_timeout, before_deadline);
            let busy = request
                .extensions()
                .get::<TcpConnectInfo>()
                .and_then(|info| info.remote_addr)
                .and_then(|peer| shared.connections.begin(peer));
            let Ok(Ok(permit)) = tokio::time::timeout(wait, budget.clone().acquire_owned()).await else {
                let error = if deadline.is_some() {
                    Error::DeadlineExceeded
                } else {
                    Error::ResourceExhausted(
                        "the server is busy: no slot became free in time; retry shortly".to_owned(),
                    )
                };
                return Ok(Status::from(error).into_http());
            };
            let (mut parts, body) = request.into_parts();
            if let Some(rate) = &shared.rate {
                parts.extensions.insert(rate.clone());
            }
            let body = Body::new(TimedBody::new(
                body,
                shared.options.request_body_timeout,
                shared.options.stream_idle_timeout,
            ));
            let response = inner.oneshot(http::Request::from_parts(parts, body)).await?;
            // The slot and the connection's busy mark last until the response is sent.
            Ok(response.map(|body| Body::new(Held { inner: Body::new(body), _held: (permit, busy) })))
        })
    }
}

/// How long to wait for a slot within a caller's `timeout`: a tenth less, by 2 ms at
/// least and 50 ms at most, so that the queue answers before tonic's timer for the same
/// deadline does (it answers CANCELLED, and the timer wheel's millisecond ticks can put
/// either first when both aim at the same instant).
fn before_deadline(timeout: Duration) -> Duration {
    timeout.saturating_sub((timeout / 10).clamp(Duration::from_millis(2), Duration::from_millis(50)))
}

/// The `grpc-timeout` header, when present and well formed.
fn grpc_timeout<B>(request: &http::Request<B>) -> Option<Duration> {
    let value = request.headers().get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// A request body that fails with DEADLINE_EXCEEDED when the server waits too long for
/// the client: for the first frame, or between two frames. Only the time spent waiting
/// counts, not the time the server takes to use a frame before asking for the next.
struct TimedBody {
    inner: Body,
    first: Option<Duration>,
    idle: Duration,
    /// Running while the server waits for a frame.
    timer: Option<Pin<Box<Sleep>>>,
}

impl TimedBody {
    fn new(inner: Body, first: Duration, idle: Duration) -> Self {
        Self { inner, first: Some(first), idle, timer: None }
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.first = None;
            this.timer = None;
            return Poll::Ready(frame);
        }
        let limit = this.first.unwrap_or(this.idle);
        let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let message = if this.first.is_some() {
            "the request message did not arrive in time"
        } else {
            "the client stream paused too long between messages"
        };
        Poll::Ready(Some(Err(Status::new(Code::DeadlineExceeded, message))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps `_held` (a concurrency slot, a busy mark) until it ends.
struct Held<H> {
    inner: Body,
    _held: H,
}

impl<H: Unpin> HttpBody for Held<H> {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Requests per caller: a token bucket per verified token subject.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    inner: Arc<RateInner>,
}

#[derive(Debug)]
struct RateInner {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets kept before full ones (callers quiet long enough) are forgotten.
const MAX_BUCKETS: usize = 10_000;

impl RateLimiter {
    /// `per_second` requests a second on average, up to `burst` at once; `None` when
    /// `per_second` is zero (no limit).
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        (per_second > 0).then(|| Self {
            inner: Arc::new(RateInner {
                per_second: f64::from(per_second),
                burst: f64::from(burst.max(1)),
                buckets: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Takes one request from `subject`'s bucket, or answers RESOURCE_EXHAUSTED with
    /// the time until the next one is allowed.
    pub fn check(&self, subject: &str) -> Result<(), Status> {
        let RateInner { per_second, burst, buckets } = &*self.inner;
        let now = Instant::now();
        let mut buckets = match buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(subject) {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_second < *burst);
        }
        let bucket = buckets.entry(subject.to_owned()).or_insert(Bucket { tokens: *burst, at: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_second).min(*burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let retry = Duration::from_secs_f64((1.0 - bucket.tokens) / per_second);
        Err(Status::with_error_details(
            Code::ResourceExhausted,
            "too many requests from this caller; retry later",
            ErrorDetails::with_retry_info(Some(retry)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_gives_up_a_tenth_before_the_callers_deadline_within_bounds() {
        let ms = Duration::from_millis;
        assert_eq!(before_deadline(ms(300)), ms(270));
        assert_eq!(before_deadline(ms(10)), ms(8), "2 ms at least");
        assert_eq!(before_deadline(Duration::from_secs(5)), ms(4950), "50 ms at most");
        assert_eq!(before_deadline(ms(1)), Duration::ZERO);
    }

    #[test]
    fn a_caller_past_the_burst_is_refused_and_others_are_not() {
        let limiter = RateLimiter::new(1, 3).expect("a limit");
        for _ in 0..3 {
            limiter.check("alice").expect("within the burst");
        }
        let refused = limiter.check("alice").expect_err("past the burst");
        assert_eq!(refused.code(), Code::ResourceExhausted);
        assert!(refused.get_details_retry_info().is_some());
        limiter.check("bob").expect("another caller has a bucket of their own");
    }

    #[test]
    fn grpc_timeouts_parse_in_every_unit() {
        let request = |value: &str| http::Request::builder().header("grpc-timeout", value).body(()).expect("request");
        assert_eq!(grpc_timeout(&request("5S")), Some(Duration::from_secs(5)));
        assert_eq!(grpc_timeout(&request("250m")), Some(Duration::from_millis(250)));
        assert_eq!(grpc_timeout(&request("x")), None);
    }
}
