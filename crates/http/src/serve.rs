//! The accept loop of every listener, plain or TLS, with the limits that
//! keep one client from holding a service: at most `max_connections` at a
//! time per listener (the next ones are closed at once), a request head
//! must arrive within `header_read_timeout` (idle keep-alive connections
//! end the same way), and a request body may not stall for longer than
//! `body_idle_timeout`. TLS handshakes run in their connection's own task
//! with [`crate::tls::HANDSHAKE_TIMEOUT`], inside the same cap.
//!
//! On shutdown the loop stops accepting, asks every connection to finish
//! its request in flight and close, and waits for them; the daemon bounds
//! that wait (its grace period).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request};
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// What one listener allows a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; the next ones are closed on accept.
    pub max_connections: usize,
    /// How long a request head (or, on a kept-alive connection, the next
    /// one) may take to arrive.
    pub header_read_timeout: Duration,
    /// How long a request body may go without sending anything.
    pub body_idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves `router` on `listener` (HTTPS when `tls` is given) within
/// `limits` until `shutdown` resolves and the connections have closed.
pub async fn run(
    listener: TcpListener,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    limits: Limits,
) -> std::io::Result<()> {
    let tls = tls.map(TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refused = Arc::new(AtomicU64::new(0));
    let (close_tx, close_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            r = listener.accept() => {
                let (sock, addr) = match r {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of descriptors, typically: let some close.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    let n = refused.fetch_add(1, Ordering::Relaxed);
                    if n.is_power_of_two() {
                        tracing::warn!(
                            client = %addr.ip(),
                            refused = n + 1,
                            max = limits.max_connections,
                            "connection limit reached: closing new connections"
                        );
                    }
                    drop(sock);
                    continue;
                };
                crate::no_delay(&sock);
                let (app, close, tls) = (router.clone(), close_rx.clone(), tls.clone());
                conns.spawn(async move {
                    let _held = permit;
                    match tls {
                        None => connection(sock, addr, app, close, limits, false).await,
                        Some(acceptor) => {
                            let hs = tokio::time::timeout(
                                crate::tls::HANDSHAKE_TIMEOUT,
                                acceptor.accept(sock),
                            );
                            match hs.await {
                                Ok(Ok(s)) => connection(s, addr, app, close, limits, true).await,
                                Ok(Err(e)) => {
                                    tracing::debug!(%addr, error = %e, "TLS handshake failed")
                                }
                                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                            }
                        }
                    }
                });
            }
        }
    }
    let _ = close_tx.send(true);
    while conns.join_next().await.is_some() {}
    Ok(())
}

/// One connection: HTTP/1.1 with the header timeout, each request's body
/// under the idle timeout, the client's address in `ConnectInfo`.
async fn connection<I>(
    io: I,
    addr: SocketAddr,
    app: Router,
    mut close: watch::Receiver<bool>,
    limits: Limits,
    https: bool,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let idle = limits.body_idle_timeout;
    let svc = tower::service_fn(move |req: Request<Incoming>| {
        let mut req = req.map(|b| Body::new(IdleBody::new(b, idle)));
        req.extensions_mut().insert(ConnectInfo(addr));
        if https {
            // Links the services build (`base_url`) say https.
            req.headers_mut()
                .insert("x-forwarded-proto", HeaderValue::from_static("https"));
        }
        let app = app.clone();
        async move { Ok::<_, Infallible>(app.oneshot(req).await.unwrap_or_else(|e| match e {})) }
    });
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let conn = b.serve_connection(TokioIo::new(io), TowerToHyperService::new(svc));
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%addr, error = %e, "connection ended");
                }
                return;
            }
            _ = close.wait_for(|c| *c), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A request body that fails once it has sent nothing for `idle` (a
/// client announcing more than it sends cannot hold its handler). The timer
/// exists only once the body has had to wait: a body that is read at once
/// (most are) or never (a GET) costs no timer.
struct IdleBody {
    inner: Incoming,
    idle: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl IdleBody {
    fn new(inner: Incoming, idle: Duration) -> Self {
        IdleBody {
            inner,
            idle,
            timer: None,
        }
    }
}

impl http_body::Body for IdleBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                // The next wait starts its own period.
                this.timer = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(this.idle)))
                .as_mut()
                .poll(cx)
            {
                Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                    "the request body sent nothing for {} s",
                    this.idle.as_secs()
                )
                .into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
