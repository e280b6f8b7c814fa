//! Lingering close: when hyper is done with a connection, the socket is shut down for
//! writing and what the client still sends is read and dropped for a moment before it
//! is closed.
//!
//! A refusal answered before the body was read (401, 413) leaves the body unread. A
//! socket closed with unread data makes the kernel reset the connection, and a reset
//! can destroy the answer before the client has read it: a client that pushes its
//! whole body first would see "connection reset" instead of the 413. Draining for a
//! bounded time (as web servers do) lets the answer arrive. The drain is bounded in
//! time and in how many connections linger at once, so it cannot be used to hold
//! sockets open.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// How long a closing connection is drained at most.
const LINGER_TIME: Duration = Duration::from_secs(2);
/// Connections lingering at once; past this a connection is closed at once.
pub const LINGERING_AT_ONCE: usize = 128;

/// A TCP stream that lingers when dropped.
pub struct Lingering {
    stream: Option<TcpStream>,
    lingering: Arc<Semaphore>,
}

impl Lingering {
    pub fn new(stream: TcpStream, lingering: Arc<Semaphore>) -> Lingering {
        Lingering {
            stream: Some(stream),
            lingering,
        }
    }

    fn stream(&mut self) -> &mut TcpStream {
        self.stream
            .as_mut()
            .expect("the stream is taken only on drop")
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(mut stream) = self.stream.take() else {
            return;
        };
        let Ok(permit) = self.lingering.clone().try_acquire_owned() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let _ = tokio::time::timeout(LINGER_TIME, async {
                let _ = stream.shutdown().await;
                let mut sink = [0u8; 8192];
                while stream.read(&mut sink).await? > 0 {}
                Ok::<(), io::Error>(())
            })
            .await;
            drop(permit);
        });
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(self.stream()).poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.stream()).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // hyper shuts the write side down when it closes a connection; the read side
        // stays open for the drain.
        Pin::new(self.stream()).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.stream()).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }
}
