//! Accepted connections: a cap on how many are open, the TLS handshake off the accept
//! loop and under a deadline, and closing connections that carry no request for a while.

use std::{
    collections::HashMap,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, mpsc},
    time::{Instant, Sleep},
};
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpConnectInfo};
use tracing::{debug, warn};

use super::tls::TlsReloader;

/// How connections are accepted.
#[derive(Debug, Clone)]
pub struct AcceptOptions {
    /// Most connections open at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Longest a TLS handshake may take.
    pub handshake_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout: Duration,
    /// TLS, or plaintext when `None`.
    pub tls: Option<TlsReloader>,
}

/// The open connections, by peer address, so that a request can mark its connection
/// busy (see [`Connections::begin`]).
#[derive(Debug, Default)]
pub struct Connections {
    by_peer: Mutex<HashMap<SocketAddr, Arc<Activity>>>,
}

impl Connections {
    /// Marks the connection of `peer` busy until the returned guard is dropped.
    pub fn begin(&self, peer: SocketAddr) -> Option<Busy> {
        let activity = self.by_peer.lock().ok()?.get(&peer).cloned()?;
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Some(Busy(activity))
    }

    fn register(&self, peer: SocketAddr, activity: Arc<Activity>) {
        if let Ok(mut map) = self.by_peer.lock() {
            map.insert(peer, activity);
        }
    }

    fn forget(&self, peer: SocketAddr) {
        if let Ok(mut map) = self.by_peer.lock() {
            map.remove(&peer);
        }
    }
}

/// What a connection is doing: requests in flight and when the last one ended.
#[derive(Debug)]
struct Activity {
    start: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `start` to the end of the last request.
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self { start: Instant::now(), in_flight: AtomicUsize::new(0), last_ms: AtomicU64::new(0) }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(ms, Ordering::AcqRel);
    }

    /// When the connection becomes idle for `idle`, or `None` while a request is in flight.
    fn idle_at(&self, idle: Duration) -> Option<Instant> {
        (self.in_flight.load(Ordering::Acquire) == 0)
            .then(|| self.start + Duration::from_millis(self.last_ms.load(Ordering::Acquire)) + idle)
    }
}

/// A request in flight on a connection; dropping it ends the request.
#[derive(Debug)]
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Accepts connections on `listener` until the returned stream is dropped.
pub fn accept(
    listener: TcpListener,
    options: AcceptOptions,
    connections: Arc<Connections>,
) -> ReceiverStream<io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(accept_loop(listener, options, connections, tx));
    ReceiverStream::new(rx)
}

async fn accept_loop(
    listener: TcpListener,
    options: AcceptOptions,
    connections: Arc<Connections>,
    tx: mpsc::Sender<io::Result<Conn>>,
) {
    let slots = Arc::new(Semaphore::new(options.max_connections));
    let mut refused_logged = None::<Instant>;
    loop {
        let accepted = tokio::select! {
            () = tx.closed() => return,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closing at once tells the client to go elsewhere; keeping it waiting
            // would only hold one more socket.
            if refused_logged.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                warn!(max = options.max_connections, "connection limit reached; refusing new connections");
                refused_logged = Some(Instant::now());
            }
            drop(tcp);
            continue;
        };
        // Without TCP_NODELAY Nagle's algorithm holds the end of a response for the
        // peer's delayed ACK (40 ms on Linux) whenever it is written in pieces.
        tcp.set_nodelay(true).ok();
        let local = tcp.local_addr().ok();
        let tx = tx.clone();
        let options = options.clone();
        let connections = connections.clone();
        tokio::spawn(async move {
            let stream = match &options.tls {
                None => Stream::Plain(tcp),
                Some(tls) => match tokio::time::timeout(options.handshake_timeout, tls.acceptor().accept(tcp)).await {
                    Ok(Ok(tls)) => Stream::Tls(Box::new(tls)),
                    Ok(Err(error)) => {
                        debug!(%peer, %error, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                },
            };
            let activity = Arc::new(Activity::new());
            connections.register(peer, activity.clone());
            let conn = Conn {
                stream,
                peer,
                local,
                activity,
                idle_timeout: options.idle_timeout,
                idle: Box::pin(tokio::time::sleep(options.idle_timeout)),
                connections,
                _slot: slot,
            };
            tx.send(Ok(conn)).await.ok();
        });
    }
}

#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// One accepted connection, plaintext or TLS; it holds one of the open-connection slots.
#[derive(Debug)]
pub struct Conn {
    stream: Stream,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    activity: Arc<Activity>,
    idle_timeout: Duration,
    idle: Pin<Box<Sleep>>,
    connections: Arc<Connections>,
    _slot: OwnedSemaphorePermit,
}

impl Conn {
    /// Fails the read once the connection has carried no request for the idle
    /// timeout, which makes the server close it.
    fn check_idle(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        while self.idle.as_mut().poll(cx).is_ready() {
            match self.activity.idle_at(self.idle_timeout) {
                Some(at) if at <= Instant::now() => {
                    debug!(peer = %self.peer, "closing an idle connection");
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "idle connection"));
                }
                Some(at) => self.idle.as_mut().reset(at),
                None => self.idle.as_mut().reset(Instant::now() + self.idle_timeout),
            }
        }
        Ok(())
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.connections.forget(self.peer);
    }
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        TcpConnectInfo { local_addr: self.local, remote_addr: Some(self.peer) }
    }
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Err(error) = self.check_idle(cx) {
            return Poll::Ready(Err(error));
        }
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.stream {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
