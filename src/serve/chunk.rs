//! Chunks of files read for a response body (`body.rs`) or relayed from a
//! flight (`flight.rs`), in buffers that are reused: the bytes that cannot
//! go out with `sendfile` (`sendfile.rs`), because the page cache does not
//! hold them yet ([`cached`]) or the file system refuses it.
//!
//! A chunk is read on the async thread when the page cache holds it
//! (`preadv2` with `RWF_NOWAIT`), else on the blocking pool. Its buffer
//! comes from a small free list and goes back to it when hyper has sent
//! the chunk and drops it: with 100 clients each read took a fresh 128 KiB
//! buffer, zeroed by `calloc` first (as safe Rust must before a read into
//! it), and the freed buffers stayed in malloc's arenas, fragmented. A
//! reused buffer was zeroed once, when it was made.

use std::io::{self, Read as _};
use std::os::unix::fs::FileExt as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::flight::lock;

/// Size of one body chunk read from a file: small enough that a stalled
/// connection holds little, large enough that the blocking-pool hop per
/// chunk stays cheap (32 KiB chunks halved the throughput of a 1 GiB file
/// on loopback; 128 KiB is within about 15% of unbounded buffering).
pub(super) const CHUNK: usize = 128 * 1024;

/// Idle buffers kept for reuse (at most 8 MiB); the rest are freed.
const KEEP: usize = 64;

static FREE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A chunk's buffer: its first `len` bytes are the chunk. Back to [`FREE`]
/// when dropped.
struct Buffer {
    buf: Vec<u8>,
    len: usize,
}

impl Buffer {
    /// A buffer of [`CHUNK`] bytes, reused if one is free.
    fn take() -> Buffer {
        let buf = lock(&FREE).pop().unwrap_or_else(|| vec![0; CHUNK]);
        Buffer { buf, len: 0 }
    }
}

impl AsRef<[u8]> for Buffer {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        let mut free = lock(&FREE);
        if free.len() < KEEP {
            free.push(buf);
        }
    }
}

/// Up to `want` bytes (at most [`CHUNK`]) of `file` at offset `at`
/// (`None`: from its position, which the read advances); empty at its end.
/// Read on this (async) thread when the page cache holds them
/// ([`read_cached`]), else on the blocking pool.
pub(super) async fn read(
    file: &Arc<std::fs::File>,
    at: Option<u64>,
    want: usize,
) -> io::Result<Bytes> {
    let want = want.min(CHUNK);
    let mut chunk = Buffer::take();
    if let Some(n) = read_cached(file, at, &mut chunk.buf[..want]) {
        chunk.len = n;
        return Ok(Bytes::from_owner(chunk));
    }
    let file = Arc::clone(file);
    let read = super::blocking::run(move || {
        chunk.len = fill(&file, at, &mut chunk.buf[..want])?;
        Ok(Bytes::from_owner(chunk))
    })
    .await;
    read.unwrap_or_else(|err| Err(io::Error::other(err)))
}

/// Reads until `buf` is full or the file ends; the bytes read.
fn fill(file: &std::fs::File, at: Option<u64>, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let read = match at {
            Some(at) => file.read_at(&mut buf[n..], at + n as u64),
            None => (&*file).read(&mut buf[n..]),
        };
        match read {
            Ok(0) => break,
            Ok(got) => n += got,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(n)
}

/// Whether the page cache holds `len` bytes of `file` at `at`, as far as
/// their first and last byte tell (a `RWF_NOWAIT` read of each): a file
/// is cached as it is read or written, front to back, so a span is rarely
/// cached at both ends but not between. `false` when the kernel cannot
/// tell.
pub(super) fn cached(file: &std::fs::File, at: u64, len: usize) -> bool {
    let mut byte = [0u8; 1];
    let last = at + len.saturating_sub(1) as u64;
    len > 0
        && read_cached(file, Some(at), &mut byte).is_some()
        && (last == at || read_cached(file, Some(last), &mut byte).is_some())
}

/// Whether `RWF_NOWAIT` reads work here; cleared at the first refusal
/// (an old kernel, a file system or sandbox without it).
static NOWAIT: AtomicBool = AtomicBool::new(true);

/// Reads into `buf` from offset `at` (`None`: the file's position, which
/// the read advances) on the calling (async) thread, only if the page
/// cache holds the bytes: `preadv2` with `RWF_NOWAIT` never waits for the
/// disk. `None` when it would (or the kernel cannot tell, or at the end of
/// the file): the caller reads on the blocking pool. A hop to the blocking
/// pool per chunk cost about half of serve's CPU time relaying warm pool
/// files to many apt clients (`bench/pullthrough.sh`).
fn read_cached(file: &std::fs::File, at: Option<u64>, buf: &mut [u8]) -> Option<usize> {
    if !NOWAIT.load(Ordering::Relaxed) {
        return None;
    }
    let flags = rustix::io::ReadWriteFlags::NOWAIT;
    // `u64::MAX`: at the file's position, which the read advances.
    let offset = at.unwrap_or(u64::MAX);
    match rustix::io::preadv2(file, &mut [io::IoSliceMut::new(buf)], offset, flags) {
        // End of file, or nothing cached at the position: the blocking read says which.
        Ok(0) => None,
        Ok(n) => Some(n),
        Err(rustix::io::Errno::AGAIN) => None,
        Err(_) => {
            NOWAIT.store(false, Ordering::Relaxed);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::sync::Arc;

    use super::{CHUNK, read};

    /// Chunks read at offsets and from the position give the file's bytes,
    /// whether the buffer is new or reused (holding an earlier chunk).
    #[test]
    fn chunks_read_back_the_file_through_reused_buffers() {
        let mut tmp = tempfile::tempfile().expect("a temporary file");
        let data: Vec<u8> = (0..CHUNK * 2 + 1000).map(|i| (i % 251) as u8).collect();
        tmp.write_all(&data).expect("written");
        let file = Arc::new(tmp);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            let mut got = Vec::new();
            for round in 0..3 {
                got.clear();
                let mut at = 0;
                loop {
                    let chunk = read(&file, Some(at), CHUNK).await.expect("read");
                    if chunk.is_empty() {
                        break;
                    }
                    at += chunk.len() as u64;
                    got.extend_from_slice(&chunk);
                }
                assert_eq!(got, data, "round {round}");
            }
            let short = read(&file, Some(5), 10).await.expect("read");
            assert_eq!(&short[..], &data[5..15]);
            let past = read(&file, Some(data.len() as u64), CHUNK)
                .await
                .expect("read");
            assert!(past.is_empty());
            // From the position: the file was written to its end.
            let at_end = read(&file, None, CHUNK).await.expect("read");
            assert!(at_end.is_empty());
        });
    }
}
