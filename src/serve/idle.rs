//! The send-side idle timeout: a connection whose peer accepts no bytes
//! for a while is closed.
//!
//! A client that asks for a large file and then stops reading fills the
//! socket buffers; every write after that waits, and without a bound the
//! connection (its buffers, the open file, a descriptor) is held forever.
//! [`IdleStream`] wraps the socket: when a write has waited for the whole
//! timeout without one byte accepted, it fails with [`IdleTimeout`], which
//! ends the connection. Each accepted byte starts the wait afresh, so a
//! slow reader is never cut off, only one that stopped. Reads are not
//! timed here: the request head has its own timeout (hyper's), and between
//! requests nothing is written.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::sendfile::FileSends;

/// The cause of the error a stalled write ends with.
#[derive(Debug, thiserror::Error)]
#[error("the client accepted no bytes for {}s", timeout.as_secs())]
pub(super) struct IdleTimeout {
    timeout: Duration,
}

impl IdleTimeout {
    /// Whether `err` (anywhere in its source chain) is an idle timeout.
    pub(super) fn caused(err: &(dyn std::error::Error + 'static)) -> bool {
        let mut cause = Some(err);
        while let Some(err) = cause {
            if let Some(io) = err.downcast_ref::<io::Error>()
                && io.get_ref().is_some_and(|inner| inner.is::<IdleTimeout>())
            {
                return true;
            }
            cause = err.source();
        }
        false
    }
}

/// A socket whose writes fail once they have made no progress for `timeout`,
/// and which sends the file spans of `sends` in place of their frames.
pub(super) struct IdleStream {
    inner: TcpStream,
    sends: Arc<FileSends>,
    timeout: Duration,
    /// Armed when a write first waits; disarmed by progress.
    deadline: Pin<Box<Sleep>>,
    waiting: bool,
}

impl IdleStream {
    pub(super) fn new(inner: TcpStream, sends: Arc<FileSends>, timeout: Duration) -> IdleStream {
        IdleStream {
            inner,
            sends,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            waiting: false,
        }
    }

    /// Passes a write's outcome through, timing the waits: progress disarms
    /// the deadline, a wait arms it, and a wait past it fails.
    fn timed<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        let Poll::Pending = poll else {
            self.waiting = false;
            return poll;
        };
        if !self.waiting {
            self.waiting = true;
            self.deadline.as_mut().reset(Instant::now() + self.timeout);
        }
        ready!(self.deadline.as_mut().poll(cx));
        // Reset (RST) rather than a graceful close: the data still queued
        // for a peer that does not read would otherwise keep the kernel's
        // buffers busy long after the descriptor is gone.
        if let Err(err) = self.inner.set_zero_linger() {
            tracing::debug!(error = %err, "cannot set SO_LINGER");
        }
        let timeout = self.timeout;
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            IdleTimeout { timeout },
        )))
    }
}

impl AsyncRead for IdleStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for IdleStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = match this
            .sends
            .poll_send(&this.inner, cx, &[io::IoSlice::new(buf)])
        {
            Some(poll) => poll,
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        };
        this.timed(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = match this.sends.poll_send(&this.inner, cx, bufs) {
            Some(poll) => poll,
            None => Pin::new(&mut this.inner).poll_write_vectored(cx, bufs),
        };
        this.timed(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.timed(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.timed(cx, poll)
    }
}
