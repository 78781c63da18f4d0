//! The local-directory blob store.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::StoreError;
use crate::digest::Sha256;

static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);
/// Set once `O_TMPFILE` turned out unsupported here (then staging + rename).
static NO_TMPFILE: AtomicBool = AtomicBool::new(false);

/// Blobs in a local directory: `<root>/sha256/ab/<hex>`, staging in `<root>/tmp/`.
///
/// One shard level, not two: with `ab/cd/` a 60,000-package first sync made
/// ~38,000 directories (one 4 KiB block each) and `mkdir` dominated its
/// profile; 256 shards keep directories small (about 4,000 entries at a
/// million blobs, which ext4's hashed directories handle well).
#[derive(Clone, Debug)]
pub struct FsStore {
    root: PathBuf,
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StoreError {
    let path = path.to_owned();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}

impl FsStore {
    /// Opens (and creates) the store at `root`, with its 256 shard directories.
    pub fn open(root: &Path) -> Result<FsStore, StoreError> {
        let tmp = root.join("tmp");
        crate::atomic_file::create_dir_all(&tmp, crate::atomic_file::PUBLIC_DIR)
            .map_err(io_err("create directory", &tmp))?;
        // The last shard is created last: when it exists, all do.
        if !root.join("sha256/ff").is_dir() {
            for i in 0..=255u8 {
                let dir = root.join("sha256").join(format!("{i:02x}"));
                crate::atomic_file::create_dir_all(&dir, crate::atomic_file::PUBLIC_DIR)
                    .map_err(io_err("create directory", &dir))?;
            }
        }
        Ok(FsStore {
            root: root.to_owned(),
        })
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob lives (whether or not it exists).
    pub fn blob_path(&self, digest: &Sha256) -> PathBuf {
        let hex = digest.to_hex();
        self.root.join("sha256").join(&hex[0..2]).join(hex)
    }

    /// Whether the blob exists.
    pub fn contains(&self, digest: &Sha256) -> Result<bool, StoreError> {
        let path = self.blob_path(digest);
        match fs::symlink_metadata(&path) {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("inspect", &path)(e)),
        }
    }

    /// A unique staging path. With the expected digest it lies in the blob's
    /// own shard directory, so the commit is a rename inside one directory
    /// (concurrent downloads then contend on 256 directories, not one).
    pub fn staging_path(&self, digest: Option<&Sha256>) -> Result<PathBuf, StoreError> {
        let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}-{n}.part", std::process::id());
        Ok(match digest {
            Some(d) => self
                .root
                .join("sha256")
                .join(&d.to_hex()[0..2])
                .join(format!(".{name}")),
            None => self.root.join("tmp").join(name),
        })
    }

    /// Renames a verified staged file into place. An existing blob has the
    /// same content (same digest), so replacing it is harmless; the shard
    /// directories are created only when the first rename finds them missing.
    /// Blobs are 0644 whatever the umask: publications hardlink them.
    pub fn commit(&self, staged: &Path, digest: &Sha256) -> Result<(), StoreError> {
        let dest = self.blob_path(digest);
        fs::set_permissions(staged, fs::Permissions::from_mode(0o644))
            .map_err(io_err("commit blob to", &dest))?;
        match fs::rename(staged, &dest) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound && staged.exists() => {
                if let Some(parent) = dest.parent() {
                    crate::atomic_file::create_dir_all(parent, crate::atomic_file::PUBLIC_DIR)
                        .map_err(io_err("create directory", parent))?;
                }
                fs::rename(staged, &dest).map_err(io_err("commit blob to", &dest))
            }
            Err(e) => Err(io_err("commit blob to", &dest)(e)),
        }
    }

    /// Stores verified bytes as blob `digest` in one step: an anonymous file
    /// (`O_TMPFILE`) in the shard directory, linked under its name once
    /// written, so no partial blob is ever visible and there is no rename.
    /// Falls back to a staging file and a rename where `O_TMPFILE` is missing.
    pub fn put_bytes(&self, digest: &Sha256, data: &[u8]) -> Result<(), StoreError> {
        let dest = self.blob_path(digest);
        if !NO_TMPFILE.load(Ordering::Relaxed) {
            match put_tmpfile(&dest, data) {
                Ok(()) => return Ok(()),
                Err(e) if tmpfile_unsupported(&e) => NO_TMPFILE.store(true, Ordering::Relaxed),
                Err(e) => return Err(io_err("write blob", &dest)(e)),
            }
        }
        let staged = self.staging_path(Some(digest))?;
        fs::write(&staged, data).map_err(io_err("write", &staged))?;
        self.commit(&staged, digest)
    }

    /// Flushes the store's file system in the background until dropped.
    pub fn flush_behind(&self) -> FlushBehind {
        FlushBehind::start(&self.root)
    }

    /// Flushes the whole filesystem holding the store (one `syncfs`, not one fsync per blob).
    pub fn sync(&self) -> Result<(), StoreError> {
        let dir = File::open(&self.root).map_err(io_err("open", &self.root))?;
        rustix::fs::syncfs(&dir).map_err(|e| io_err("sync", &self.root)(e.into()))
    }

    /// Opens a blob.
    pub fn open_blob(&self, digest: &Sha256) -> Result<File, StoreError> {
        let path = self.blob_path(digest);
        File::open(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                StoreError::Missing(*digest)
            } else {
                io_err("open", &path)(e)
            }
        })
    }

    /// Lists every blob by walking the shard directories.
    pub fn list(&self) -> Result<Vec<Sha256>, StoreError> {
        let mut out = Vec::new();
        for shard in read_dir(&self.root.join("sha256"))? {
            for f in read_dir(&shard)? {
                if let Some(d) = f
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.parse().ok())
                {
                    out.push(d);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// The size of a blob, `None` when it is absent.
    pub fn size(&self, digest: &Sha256) -> Result<Option<u64>, StoreError> {
        let path = self.blob_path(digest);
        match fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("stat", &path)(e)),
        }
    }

    /// Deletes a blob; missing is fine.
    pub fn delete(&self, digest: &Sha256) -> Result<(), StoreError> {
        let path = self.blob_path(digest);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("delete", &path)(e)),
        }
    }

    /// Deletes staging files whose writer process is gone; returns how many.
    pub fn clean_staging(&self) -> Result<u64, StoreError> {
        let mut dirs = vec![self.root.join("tmp")];
        dirs.extend(read_dir(&self.root.join("sha256"))?);
        let mut n = 0;
        for dir in dirs {
            for path in read_dir(&dir)? {
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let Some(stem) = name.strip_suffix(".part") else {
                    continue;
                };
                let pid = stem
                    .trim_start_matches('.')
                    .split('-')
                    .next()
                    .and_then(|p| p.parse::<u32>().ok());
                let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
                if !alive && fs::remove_file(&path).is_ok() {
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

fn put_tmpfile(dest: &Path, data: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    use std::os::fd::AsRawFd as _;

    use rustix::fs::{AtFlags, CWD, Mode, OFlags, linkat, openat};

    let dir = dest
        .parent()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let fd = openat(
        CWD,
        dir,
        OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )?;
    let mut file = File::from(fd);
    // The umask filtered the mode above.
    file.set_permissions(fs::Permissions::from_mode(0o644))?;
    file.write_all(data)?;
    let fd_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    match linkat(CWD, fd_path.as_str(), CWD, dest, AtFlags::SYMLINK_FOLLOW) {
        // Already there: the same digest means the same content.
        Ok(()) | Err(rustix::io::Errno::EXIST) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Flushes a file system every 250 ms from a thread of its own, until
/// dropped, so that writing many small files overlaps with writing them
/// out: the flush that makes the work durable (`syncfs` before a commit or
/// a switch) then has little left to do. Best effort: errors are ignored,
/// the final flush is the one that counts.
pub struct FlushBehind {
    stop: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FlushBehind {
    /// Starts flushing the file system that holds `dir`.
    pub fn start(dir: &Path) -> FlushBehind {
        let stop = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let file = File::open(dir).ok();
        let signal = stop.clone();
        let thread = file.and_then(|file| {
            std::thread::Builder::new()
                .name("flush-behind".into())
                .spawn(move || {
                    let (stopped, wake) = &*signal;
                    loop {
                        let guard = stopped.lock().unwrap_or_else(|p| p.into_inner());
                        let (guard, _) = wake
                            .wait_timeout_while(guard, std::time::Duration::from_millis(250), |s| {
                                !*s
                            })
                            .unwrap_or_else(|p| p.into_inner());
                        if *guard {
                            return;
                        }
                        drop(guard);
                        let _ = rustix::fs::syncfs(&file);
                    }
                })
                .ok()
        });
        FlushBehind { stop, thread }
    }
}

impl Drop for FlushBehind {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `O_TMPFILE` or `/proc/self/fd` not available (old kernel, some filesystems, no /proc).
fn tmpfile_unsupported(e: &io::Error) -> bool {
    matches!(
        rustix::io::Errno::from_io_error(e),
        Some(
            rustix::io::Errno::OPNOTSUPP
                | rustix::io::Errno::ISDIR
                | rustix::io::Errno::INVAL
                | rustix::io::Errno::NOENT
                | rustix::io::Errno::PERM
                | rustix::io::Errno::ACCESS
        )
    )
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("list", dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        out.push(entry.map_err(io_err("list", dir))?.path());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_behind_stops_when_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FsStore::open(dir.path()).expect("open");
        let flushing = store.flush_behind();
        assert!(flushing.thread.is_some(), "a flushing thread runs");
        store.put_bytes(&Sha256::of(b"x"), b"x").expect("put");
        drop(flushing); // joins the thread: returns, does not hang
        // A directory that cannot be opened: no thread, nothing to stop.
        let none = FlushBehind::start(&dir.path().join("missing"));
        assert!(none.thread.is_none());
    }

    #[test]
    fn commit_list_delete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FsStore::open(dir.path()).expect("open");
        let staged = store.staging_path(None).expect("staging");
        fs::write(&staged, b"hello").expect("write");
        let d = Sha256::of(b"hello");
        assert!(!store.contains(&d).expect("contains"));
        store.commit(&staged, &d).expect("commit");
        store.sync().expect("sync");
        assert!(store.contains(&d).expect("contains"));
        assert_eq!(store.list().expect("list"), vec![d]);
        assert_eq!(fs::read(store.blob_path(&d)).expect("read"), b"hello");
        // A second commit of the same content is a no-op and consumes the staged file.
        let staged2 = store.staging_path(Some(&d)).expect("staging");
        fs::write(&staged2, b"hello").expect("write");
        store.commit(&staged2, &d).expect("commit again");
        assert!(!staged2.exists());
        assert_eq!(fs::read(store.blob_path(&d)).expect("read"), b"hello");
        let d2 = Sha256::of(b"direct");
        store.put_bytes(&d2, b"direct").expect("put");
        store.put_bytes(&d2, b"direct").expect("put again is fine");
        assert_eq!(fs::read(store.blob_path(&d2)).expect("read"), b"direct");
        store.delete(&d2).expect("delete");
        store.delete(&d).expect("delete");
        store.delete(&d).expect("delete missing is fine");
        assert!(store.list().expect("list").is_empty());
    }
}
