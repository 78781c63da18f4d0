//! File bodies sent with `sendfile(2)`: from the page cache to the socket
//! without copying them through a user buffer first.
//!
//! hyper owns the connection and writes whatever `Bytes` a body yields, so
//! a file cannot be handed to it. Instead a body asks its connection's
//! [`FileSends`] for a placeholder frame ([`FileSends::frame`]): a `Bytes`
//! of the span's length that points into [`MARK`], a static region no
//! other buffer lies in, while the span (file, offset, length) goes to the
//! back of the connection's queue. hyper queues frames unchanged (its
//! vectored write strategy, set in `serve_connection`) and writes them in
//! order through the socket wrapper (`idle.rs`), which sends a slice that
//! lies in [`MARK`] as the queue's front span with `sendfile` instead
//! ([`FileSends::poll_send`]). The slice's offset within [`MARK`] is how
//! much of the span hyper already counted as written. A slice that does
//! not line up with the front span ends the connection with an error: the
//! client then sees a short read, never wrong bytes.
//!
//! Loopback figures (`bench/pullthrough.sh`): reading each 128 KiB chunk
//! into a buffer and writing it again put two copies at ~22% of serve's
//! CPU time relaying cached pool files to 20 apt clients.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use tokio::io::Interest;
use tokio::net::TcpStream;

use super::flight::lock;

/// Longest span one frame stands for.
pub(super) const SPAN: usize = 1 << 20;

/// What placeholder frames point into: never read, never written (it lies
/// in `.bss` and costs no memory until touched).
static MARK: [u8; SPAN] = [0; SPAN];

/// Whether `sendfile` works here; cleared at the first refusal (a file
/// system without it), after which bodies are read into buffers again.
static WORKS: AtomicBool = AtomicBool::new(true);

/// One connection's file spans waiting to be sent, in the order hyper
/// will write their frames.
#[derive(Debug, Default)]
pub(super) struct FileSends {
    spans: Mutex<VecDeque<Span>>,
}

#[derive(Debug)]
struct Span {
    file: Arc<std::fs::File>,
    at: u64,
    len: usize,
}

impl FileSends {
    /// Whether bodies should ask for frames at all.
    pub(super) fn enabled() -> bool {
        WORKS.load(Ordering::Relaxed)
    }

    /// A placeholder frame for `len` bytes (at most [`SPAN`]) of `file` at
    /// offset `at`; the span is queued to be sent in its place.
    pub(super) fn frame(&self, file: &Arc<std::fs::File>, at: u64, len: usize) -> Bytes {
        let len = len.min(SPAN);
        lock(&self.spans).push_back(Span {
            file: Arc::clone(file),
            at,
            len,
        });
        Bytes::from_static(&MARK[..len])
    }

    /// Where `buf` starts within [`MARK`], if it lies in it.
    fn offset_in_mark(buf: &[u8]) -> Option<usize> {
        let start = MARK.as_ptr() as usize;
        let at = (buf.as_ptr() as usize).checked_sub(start)?;
        (!buf.is_empty() && at + buf.len() <= SPAN).then_some(at)
    }

    /// Writes `bufs` to `socket` as far as it takes them: the slices up to
    /// the first placeholder with `writev` (told more follows, so headers
    /// and the file leave in one segment), or, when the first slice is a
    /// placeholder, its span with `sendfile`. `None` when no span is
    /// queued: the caller writes as usual.
    pub(super) fn poll_send(
        &self,
        socket: &TcpStream,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Option<Poll<io::Result<usize>>> {
        if lock(&self.spans).is_empty() {
            return None;
        }
        let start = bufs.iter().position(|b| !b.is_empty())?;
        let bufs = &bufs[start..];
        let Some(skip) = Self::offset_in_mark(&bufs[0]) else {
            let upto = bufs
                .iter()
                .position(|b| Self::offset_in_mark(b).is_some())
                .unwrap_or(bufs.len());
            // A peer gone is an error (`EPIPE`), not a signal; so it is
            // for `sendfile`, as Rust ignores `SIGPIPE` in its programs.
            let flags = if upto < bufs.len() {
                rustix::net::SendFlags::MORE | rustix::net::SendFlags::NOSIGNAL
            } else {
                rustix::net::SendFlags::NOSIGNAL
            };
            return Some(poll_io(socket, cx, || {
                let mut control = rustix::net::SendAncillaryBuffer::default();
                Ok(rustix::net::sendmsg(
                    socket,
                    &bufs[..upto],
                    &mut control,
                    flags,
                )?)
            }));
        };
        let first = &bufs[0];
        let (file, at, len) = {
            let spans = lock(&self.spans);
            let span = spans.front()?;
            (Arc::clone(&span.file), span.at, span.len)
        };
        if skip + first.len() != len {
            return Some(Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a file body's frames were written out of order",
            ))));
        }
        let want = first.len();
        let Poll::Ready(sent) = poll_io(socket, cx, || {
            let mut offset = at + skip as u64;
            match rustix::fs::sendfile(socket, &*file, Some(&mut offset), want) {
                Ok(0) => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file shrank while being served",
                )),
                Ok(n) => Ok(n),
                Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
                    // Later bodies are read into buffers; this span is
                    // still owed, so copy it.
                    WORKS.store(false, Ordering::Relaxed);
                    copy(socket, &file, offset, want)
                }
                Err(e) => Err(e.into()),
            }
        }) else {
            return Some(Poll::Pending);
        };
        if let Ok(n) = sent
            && skip + n == len
        {
            lock(&self.spans).pop_front();
        }
        Some(Poll::Ready(sent))
    }
}

/// Runs the non-blocking socket call `op` once the socket is writable,
/// waiting (and registering `cx`) while it would block.
fn poll_io(
    socket: &TcpStream,
    cx: &mut Context<'_>,
    mut op: impl FnMut() -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        ready!(socket.poll_write_ready(cx))?;
        match socket.try_io(Interest::WRITABLE, &mut op) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            done => return Poll::Ready(done),
        }
    }
}

/// Where `sendfile` is refused: up to 64 KiB of `file` at `at` read and
/// written as the socket takes them.
fn copy(socket: &TcpStream, file: &std::fs::File, at: u64, want: usize) -> io::Result<usize> {
    use std::os::unix::fs::FileExt as _;
    let mut buf = vec![0; want.min(64 * 1024)];
    let n = file.read_at(&mut buf, at)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "file shrank while being served",
        ));
    }
    socket.try_write(&buf[..n])
}
