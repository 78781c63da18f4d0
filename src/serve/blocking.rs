//! Blocking work of `serve` (path lookups, database queries, reads the
//! page cache cannot answer, settling a flight) on tokio's blocking pool,
//! at most [`AT_ONCE`] pieces at a time.
//!
//! The pool starts a thread for every task that finds none idle (up to
//! 512). With 100 apt clients, requests queued for the database mutex or a
//! chunk read each held one: about 270 threads, their stacks, and every
//! malloc arena glibc allows (16 on 2 cores), each keeping freed chunk
//! buffers (`bench/pullthrough.sh`: peak RSS 58–68 MB). Work past the
//! limit waits for a permit on the async side, holding no thread; the
//! lookups and queries are short, and the database is one connection
//! behind a mutex, so more threads would only wait for it.

use tokio::sync::Semaphore;
use tokio::task::JoinError;

/// Blocking tasks of `serve` running at once.
pub(super) const AT_ONCE: usize = 8;

static PERMITS: Semaphore = Semaphore::const_new(AT_ONCE);

/// Runs `f` on the blocking pool once fewer than [`AT_ONCE`] others run.
/// The permit goes with the task, so one whose caller went away still
/// counts until it ends.
pub(super) async fn run<T, F>(f: F) -> Result<T, JoinError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // The semaphore is never closed, so this is always a permit.
    let permit = PERMITS.acquire().await.ok();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::{AT_ONCE, run};

    #[test]
    fn at_most_at_once_run_together() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a runtime");
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let done = rt.block_on(async {
            let tasks: Vec<_> = (0..AT_ONCE * 4)
                .map(|_| {
                    let (now, most) = (Arc::clone(&now), Arc::clone(&most));
                    tokio::spawn(run(move || {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                    }))
                })
                .collect();
            let mut done = 0;
            for t in tasks {
                if matches!(t.await, Ok(Ok(()))) {
                    done += 1;
                }
            }
            done
        });
        assert_eq!(done, AT_ONCE * 4);
        let most = most.load(Ordering::SeqCst);
        // Other tests of the binary share the permits, so fewer may run.
        assert!((1..=AT_ONCE).contains(&most), "{most} ran at once");
    }
}
