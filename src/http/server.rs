//! Serving connections: the routes on hyper's HTTP/1 and HTTP/2, with the
//! read timeouts poem's `Server` does not offer (it builds hyper's connection
//! itself and sets no timer, so hyper's own header timeout never runs). A
//! half-sent request must not hold a connection, its task and its buffers
//! for ever:
//!
//! - a request's head (request line and headers) must arrive within the
//!   header timeout of its first byte, or of the connection's opening for
//!   its first request;
//! - its body must arrive within the body timeout of its head (`408`);
//! - a connection waiting for its next request is closed after the
//!   keep-alive timeout, which is longer than a reverse proxy's own (so that
//!   the proxy, not the gateway, closes the connections it keeps idle and
//!   never sends a request on one being closed).
//!
//! A connection over a timeout is closed: the client reads the end of the stream.
//! A connection upgraded to another protocol (a WebSocket) is that
//! protocol's to time out.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::task::AtomicWaker;
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::{Body, Endpoint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// How long a client may take to send its request (settings
/// `CATALOGUE_HEADER_READ_TIMEOUT_SECONDS`, `CATALOGUE_BODY_READ_TIMEOUT_SECONDS`,
/// `CATALOGUE_KEEP_ALIVE_TIMEOUT_SECONDS`).
#[derive(Debug, Clone, Copy)]
pub struct ReadTimeouts {
    pub header: Duration,
    pub body: Duration,
    pub keep_alive: Duration,
}

/// The error a body read past its deadline ends with.
pub const BODY_TIMED_OUT: &str = "the request body was not received in time";

/// The body of poem's responses, as hyper takes them.
type ResponseBody = http_body_util::combinators::BoxBody<bytes::Bytes, io::Error>;

/// Poem's defaults, kept for HTTP/2.
const HTTP2_MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;
const HTTP2_MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;

/// Serves `endpoint` on `acceptor` until `shutdown` resolves, then lets
/// in-flight requests finish for at most `grace`.
pub async fn serve<E>(
    mut acceptor: TcpAcceptor,
    endpoint: E,
    timeouts: ReadTimeouts,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) -> io::Result<()>
where
    E: Endpoint + 'static,
{
    let endpoint = Arc::new(endpoint);
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = acceptor.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        // Like poem's server: a failed accept (the peer left, too many open
        // files) drops that connection only.
        let Ok((socket, local, remote, scheme)) = accepted else {
            continue;
        };
        let requests = Arc::new(Requests::default());
        let io = TimedIo::new(socket, Arc::clone(&requests), timeouts);
        let endpoint = Arc::clone(&endpoint);
        let service = hyper::service::service_fn(move |request: poem::http::Request<Incoming>| {
            let answering = requests.started();
            let endpoint = Arc::clone(&endpoint);
            let has_body = !request.body().is_end_stream();
            let mut request =
                poem::Request::from((request, local.clone(), remote.clone(), scheme.clone()));
            if has_body {
                let body = request.take_body();
                request.set_body(read_by(body, Instant::now() + timeouts.body));
            }
            async move {
                let response = endpoint.get_response(request).await;
                if response.status() == poem::http::StatusCode::SWITCHING_PROTOCOLS {
                    answering.0.upgraded.store(true, Ordering::SeqCst);
                }
                drop(answering);
                Ok::<_, Infallible>(hyper::Response::<ResponseBody>::from(response))
            }
        });
        let watcher = graceful.watcher();
        connections.spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http2()
                .max_pending_accept_reset_streams(HTTP2_MAX_PENDING_ACCEPT_RESET_STREAMS)
                .max_header_list_size(HTTP2_MAX_HEADER_LIST_SIZE);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
            // A connection closed by a timeout or by its client ends here too.
            let _ = watcher.watch(connection).await;
        });
    }
    drop(acceptor);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = connections.len(),
            "requests still in flight after the shutdown grace period; closing their connections"
        );
    }
    connections.abort_all();
    Ok(())
}

/// The requests of one connection, as its IO sees them.
#[derive(Default)]
struct Requests {
    /// Heads received so far.
    heads: AtomicU64,
    /// Requests being answered.
    in_flight: AtomicUsize,
    /// The read waiting for the last answer: hyper does not read again
    /// after an answer until woken, and the keep-alive timer starts then.
    answered: AtomicWaker,
    /// Whether the connection now speaks another protocol (101).
    upgraded: AtomicBool,
}

impl Requests {
    /// A head has arrived: its request is being answered until the guard drops.
    fn started(self: &Arc<Self>) -> Answering {
        self.heads.fetch_add(1, Ordering::SeqCst);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Answering(Arc::clone(self))
    }

    fn heads(&self) -> u64 {
        self.heads.load(Ordering::SeqCst)
    }

    fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

struct Answering(Arc<Requests>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.answered.wake();
    }
}

/// A connection's socket whose reads fail once the client is late: hyper
/// then closes the connection.
struct TimedIo<T> {
    inner: T,
    requests: Arc<Requests>,
    timeouts: ReadTimeouts,
    /// The head being awaited: how many heads had arrived when it was
    /// awaited (a later count means it has arrived), and when it is due.
    head: Option<(u64, Pin<Box<Sleep>>)>,
    /// When the connection, answering nothing and awaiting no head, is closed.
    idle: Option<Pin<Box<Sleep>>>,
}

impl<T> TimedIo<T> {
    fn new(inner: T, requests: Arc<Requests>, timeouts: ReadTimeouts) -> Self {
        let first_head = Box::pin(tokio::time::sleep(timeouts.header));
        Self {
            inner,
            requests,
            timeouts,
            head: Some((0, first_head)),
            idle: None,
        }
    }

    /// Bytes read while no request is in flight begin a head.
    fn received(&mut self) {
        self.idle = None;
        if self.head.is_none() && self.requests.in_flight() == 0 {
            let due = Box::pin(tokio::time::sleep(self.timeouts.header));
            self.head = Some((self.requests.heads(), due));
        }
    }

    /// A read is pending: the error closing the connection if the awaited
    /// head, or the next request, is late.
    fn poll_late(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let heads = self.requests.heads();
        if self
            .head
            .as_ref()
            .is_some_and(|(awaited, _)| *awaited != heads)
        {
            self.head = None;
        }
        if self.requests.in_flight() > 0 {
            self.idle = None;
            self.requests.answered.register(cx.waker());
            // The answer may have ended between the count and the registration.
            if self.requests.in_flight() > 0 {
                return Poll::Pending;
            }
        }
        if let Some((_, due)) = &mut self.head {
            return match due.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the request head was not received in time",
                ))),
                Poll::Pending => Poll::Pending,
            };
        }
        let keep_alive = self.timeouts.keep_alive;
        let idle = self
            .idle
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(keep_alive)));
        match idle.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the connection was idle for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.requests.upgraded.load(Ordering::SeqCst) {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.received();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => this.poll_late(cx),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.idle = None;
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.idle = None;
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// `body`, failing with [`BODY_TIMED_OUT`] if it is not all received by `deadline`.
fn read_by(body: Body, deadline: Instant) -> Body {
    let chunks = Box::pin(body.into_bytes_stream());
    Body::from_bytes_stream(futures_util::stream::unfold(
        Some(chunks),
        move |chunks| async move {
            let mut chunks = chunks?;
            match tokio::time::timeout_at(deadline, chunks.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(chunks))),
                Ok(None) => None,
                Err(_) => Some((
                    Err(io::Error::new(io::ErrorKind::TimedOut, BODY_TIMED_OUT)),
                    None,
                )),
            }
        },
    ))
}
