//! The accept loop: hyper's HTTP/1 server with its header-read timeout, a cap on open
//! connections that sheds the excess with a 503 instead of stalling, and graceful
//! shutdown that lets in-flight requests finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::Service;

use super::gate::Gate;
use super::hyper_read_buffer;
use super::linger::{LINGERING_AT_ONCE, Lingering};

/// Connections being refused at once; past this an excess connection is closed
/// without an answer, so that refusing can never cost more than serving.
const SHEDDING_AT_ONCE: usize = 64;
/// How long a refused connection is given to take its 503.
const SHED_WRITE_TIME: Duration = Duration::from_secs(1);
/// How often the quota state of quiet clients is dropped.
const FORGET_QUIET_CLIENTS: Duration = Duration::from_secs(60);

/// Serves `router` on `listener` behind `gate` until `shutdown` resolves; then stops
/// accepting, lets in-flight requests finish (up to the front door's grace period)
/// and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    gate: Arc<Gate>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let front = gate.front().clone();
    let app = router.layer(Extension(gate.clone()));
    let connections = Arc::new(Semaphore::new(front.max_connections.max(1)));
    let shedding = Arc::new(Semaphore::new(SHEDDING_AT_ONCE));
    let lingering = Arc::new(Semaphore::new(LINGERING_AT_ONCE));
    let refusal = Arc::new(overloaded(front.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(front.header_read_timeout)
        .keep_alive(true)
        .max_buf_size(hyper_read_buffer(&front));
    let graceful = GracefulShutdown::new();
    let forgetting = {
        let gate = gate.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(FORGET_QUIET_CLIENTS);
            loop {
                interval.tick().await;
                gate.forget_quiet_clients();
            }
        })
    };
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            shed(stream, &shedding, &refusal);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().call(request)
        });
        let io = TokioIo::new(Lingering::new(stream, lingering.clone()));
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection closed with an error");
            }
            drop(permit);
        });
    }
    forgetting.abort();
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(front.shutdown_grace) => {
            tracing::warn!(
                grace = ?front.shutdown_grace,
                "requests still in flight at the end of the shutdown grace period were cut"
            );
        }
    }
    Ok(())
}

/// Errors of one connection (reset before it was accepted) are not the listener's;
/// others (out of file descriptors) pass with time, so the loop waits a moment
/// rather than spinning.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%error, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Answers a connection over the cap with a 503 problem and closes it, in a task of
/// its own so the accept loop goes straight back to accepting.
fn shed(stream: TcpStream, shedding: &Arc<Semaphore>, refusal: &Arc<Vec<u8>>) {
    let Ok(permit) = shedding.clone().try_acquire_owned() else {
        return; // dropped: the client sees the connection closed at once
    };
    let refusal = refusal.clone();
    tokio::spawn(async move {
        let mut stream = stream;
        let _ = tokio::time::timeout(SHED_WRITE_TIME, async {
            stream.write_all(&refusal).await?;
            stream.shutdown().await?;
            // Read what the client sent so that closing does not reset the
            // connection under the answer before the client has read it.
            let mut sink = [0u8; 4096];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<(), std::io::Error>(())
        })
        .await;
        drop(permit);
    });
}

/// The whole HTTP/1.1 response a shed connection gets.
fn overloaded(max_connections: usize) -> Vec<u8> {
    let body = serde_json::json!({
        "type": "urn:motcua:problem:overloaded",
        "title": "Server overloaded",
        "status": 503,
        "detail": format!(
            "the server has its maximum of {max_connections} connections open; try again shortly"
        ),
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
