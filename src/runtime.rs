//! The process's one async runtime, and the two ways into it.
//!
//! debvault's async model: library entry points are synchronous; the I/O
//! underneath them (upstream HTTP in `fetch`, object storage in `store`,
//! the HTTP server in `serve`) is async and runs on one multi-threaded
//! tokio runtime per process, made on first use. There are two ways in:
//!
//! - [`run`], at the top of a call (a CLI verb, an `ops` entry): blocks the
//!   calling thread on a future that may borrow from it;
//! - [`block_on`], from synchronous code anywhere below, even while inside
//!   [`run`]: the future runs on the runtime's workers and the caller waits.
//!
//! CPU-bound parallel work (hashing, compressing, linking) uses
//! `std::thread::scope`, never the runtime.

use std::future::Future;
use std::sync::OnceLock;

/// The runtime could not be started, or a task on it was cancelled.
#[derive(Debug, thiserror::Error)]
#[error("async runtime: {0}")]
pub struct RuntimeError(pub String);

impl crate::exit::ExitCode for RuntimeError {
    fn exit_code(&self) -> u8 {
        crate::exit::FAILURE
    }
}

/// Worker threads: requests are I/O-bound, and the machines debvault runs
/// on are often small.
const WORKERS: usize = 2;

fn runtime() -> Result<&'static tokio::runtime::Runtime, RuntimeError> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("debvault-io")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| RuntimeError(e.clone()))
}

/// Runs `fut` to completion on the runtime, blocking this thread: the way
/// in at the top of a call. Not from inside the runtime (use [`block_on`]).
pub fn run<F: Future>(fut: F) -> Result<F::Output, RuntimeError> {
    Ok(runtime()?.block_on(fut))
}

/// Runs `fut` on the runtime's workers and waits for it, from a plain
/// thread or from inside [`run`] (the runtime hands this thread's other
/// tasks to other workers meanwhile).
pub fn block_on<T: Send + 'static>(
    fut: impl Future<Output = T> + Send + 'static,
) -> Result<T, RuntimeError> {
    let handle = runtime()?.spawn(fut);
    let wait = || futures::executor::block_on(handle);
    let joined = match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(wait)
        }
        _ => wait(),
    };
    match joined {
        Ok(v) => Ok(v),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(RuntimeError(e.to_string())),
    }
}

/// Lowers the calling thread's scheduling priority (on Linux, `setpriority`
/// applies to the one thread), for work that can wait while other threads
/// of the same job are on its critical path. Lowering is always allowed; a
/// failure changes nothing but speed.
pub fn lower_thread_priority() {
    let _ = rustix::process::setpriority_process(None, 10);
}
