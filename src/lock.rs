//! Advisory locks that vanish with their holder.
//!
//! A lock is a file under `<root>/locks/` held with `flock` (through
//! [`std::fs::File::try_lock`]); the kernel releases it when the process dies,
//! so a killed sync never leaves a stale lock behind. The holder writes its PID
//! into the file so a second process can say who holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use crate::exit::{ExitCode, FAILURE};

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("{what} is locked by another debvault process (PID {pid}); lock file `{path}`")]
    Held {
        /// What the lock protects, e.g. "mirror `bookworm`".
        what: String,
        /// The holder's PID as written in the file, or `unknown`.
        pid: String,
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file could not be created or locked.
    #[error("cannot lock `{path}`")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

impl ExitCode for LockError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// A held lock; released on drop.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
    exclusive: bool,
}

impl Lock {
    /// Takes a shared hold on the lock at `path` without waiting: any number
    /// of shared holders, but none while someone holds it exclusively (whose
    /// PID the error names).
    pub fn try_acquire_shared(path: &Path, what: &str) -> Result<Lock, LockError> {
        let mut file = open(path)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(Lock {
                file,
                path: path.to_owned(),
                exclusive: false,
            }),
            Err(TryLockError::WouldBlock) => Err(held(&mut file, path, what)),
            Err(TryLockError::Error(e)) => Err(io_err(path, e)),
        }
    }

    /// Takes the lock at `path` without waiting; `what` names the protected object in errors.
    pub fn try_acquire(path: &Path, what: &str) -> Result<Lock, LockError> {
        let io = |source| io_err(path, source);
        let mut file = open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(held(&mut file, path, what)),
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Lock {
            file,
            path: path.to_owned(),
            exclusive: true,
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn io_err(path: &Path, source: std::io::Error) -> LockError {
    LockError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Opens (creating it and its directory) a lock file without truncating
/// it: a holder's PID must stay readable for the error of a second process.
fn open(path: &Path) -> Result<File, LockError> {
    if let Some(parent) = path.parent() {
        crate::atomic_file::create_dir_all(parent, crate::atomic_file::PUBLIC_DIR)
            .map_err(|e| io_err(path, e))?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        // Not writable by others whatever the umask (it only removes bits).
        .mode(0o644)
        .open(path)
        .map_err(|e| io_err(path, e))
}

/// The error for a lock someone else holds, naming the PID an exclusive holder wrote.
fn held(file: &mut File, path: &Path, what: &str) -> LockError {
    let mut pid = String::new();
    let _ = file.read_to_string(&mut pid);
    let pid = pid.trim();
    LockError::Held {
        what: what.to_owned(),
        pid: if pid.is_empty() {
            "unknown".into()
        } else {
            pid.to_owned()
        },
        path: path.to_owned(),
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Only an exclusive holder wrote its PID; a shared one leaves the file alone.
        if self.exclusive {
            let _ = self.file.set_len(0);
        }
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_pid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("locks/m.lock");
        let first = Lock::try_acquire(&path, "mirror `m`").expect("first lock");
        // flock locks belong to the open file description: a second open conflicts.
        let err = Lock::try_acquire(&path, "mirror `m`").expect_err("second lock must fail");
        let msg = err.to_string();
        assert!(msg.contains(&std::process::id().to_string()), "{msg}");
        assert!(msg.contains("mirror `m`"), "{msg}");
        drop(first);
        Lock::try_acquire(&path, "mirror `m`").expect("lock after release");
    }

    #[test]
    fn shared_holders_coexist_and_exclude_an_exclusive_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("gc.lock");
        let a = Lock::try_acquire_shared(&path, "gc").expect("first shared");
        let b = Lock::try_acquire_shared(&path, "gc").expect("second shared");
        Lock::try_acquire(&path, "gc").expect_err("exclusive while shared");
        drop((a, b));
        let x = Lock::try_acquire(&path, "gc").expect("exclusive");
        let err = Lock::try_acquire_shared(&path, "gc").expect_err("shared while exclusive");
        assert!(err.to_string().contains(&std::process::id().to_string()));
        drop(x);
    }
}
