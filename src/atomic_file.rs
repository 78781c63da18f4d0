//! Files written so that nothing visible is ever half-written (STYLE.md 6).
//!
//! One way for every file debvault writes whole (signing keys, backups,
//! keyrings, metrics, the pool ledger, the index cache): a temporary file
//! in the target's own directory (so the rename cannot cross file
//! systems), filled, flushed and fsynced, renamed over the target, and the
//! directory fsynced so the rename itself survives a crash. A failure at
//! any step removes the temporary file and leaves the target as it was.
//!
//! Modes are explicit and do not depend on the umask (`open` and `mkdir`
//! filter theirs through it; `chmod` does not): publications and blobs
//! are world-readable and nothing is world-writable ([`WriteOptions::PUBLIC`],
//! [`PUBLIC_DIR`]), secrets and the database are the owner's alone. Every
//! directory debvault creates goes through [`create_dir_all`], every new
//! file it fills in place through [`create_new`].

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

/// How an atomic write treats the target.
#[derive(Clone, Copy, Debug)]
pub struct WriteOptions {
    /// The mode the file gets, whatever the umask.
    pub mode: u32,
    /// Fail with [`io::ErrorKind::AlreadyExists`] rather than replace an
    /// existing target.
    pub no_clobber: bool,
}

impl WriteOptions {
    /// Readable by everyone (0644): what a web server or a collector reads.
    pub const PUBLIC: WriteOptions = WriteOptions {
        mode: 0o644,
        no_clobber: false,
    };
    /// Readable by the owner only (0600): secrets and database copies.
    pub const PRIVATE: WriteOptions = WriteOptions {
        mode: 0o600,
        no_clobber: false,
    };

    /// The same, refusing to replace an existing target.
    pub const fn no_clobber(self) -> WriteOptions {
        WriteOptions {
            no_clobber: true,
            ..self
        }
    }
}

/// Mode of directories a web server reads through (data root, blobs,
/// publications).
pub const PUBLIC_DIR: u32 = 0o755;
/// Mode of directories holding secrets (signing keys).
pub const PRIVATE_DIR: u32 = 0o700;

/// Creates directory `path` and its missing parents with `mode`, whatever
/// the umask; existing directories are left as they are.
pub fn create_dir_all(path: &Path, mode: u32) -> io::Result<()> {
    if path.as_os_str().is_empty() {
        return Ok(());
    }
    // `mkdir` first: a publish makes tens of thousands of directories whose
    // parents exist, and asking first would double its system calls.
    match DirBuilder::new().mode(mode).create(path) {
        Ok(()) => set_mode_past_umask(path, mode),
        // Existing (or created by someone else meanwhile).
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if path.is_dir() {
                Ok(())
            } else {
                Err(e)
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                create_dir_all(parent, mode)?;
            }
            match DirBuilder::new().mode(mode).create(path) {
                Ok(()) => set_mode_past_umask(path, mode),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Gives the new `path` the bits of `mode` the umask took at its creation,
/// if it took any (one `chmod` per file only when it did).
pub fn set_mode_past_umask(path: &Path, mode: u32) -> io::Result<()> {
    if umask().is_some_and(|m| mode & m == 0) {
        return Ok(());
    }
    std::fs::set_permissions(path, Permissions::from_mode(mode))
}

/// Gives the new open `file` the bits of `mode` the umask took, if any.
pub fn fix_mode(file: &File, mode: u32) -> io::Result<()> {
    if umask().is_some_and(|m| mode & m == 0) {
        return Ok(());
    }
    file.set_permissions(Permissions::from_mode(mode))
}

/// The process's umask, read once from `/proc/self/status` (reading it
/// through `umask(2)` means setting it, a race with other threads);
/// `None` where that line is missing.
fn umask() -> Option<u32> {
    static UMASK: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
        u32::from_str_radix(line.trim(), 8).ok()
    })
}

/// Sets `path` (whose metadata the caller read, following links or not as
/// it chooses) to `private` when group or others have any access to it.
/// Returns the mode it had when it was changed.
pub fn take_back(path: &Path, meta: &std::fs::Metadata, private: u32) -> io::Result<Option<u32>> {
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    std::fs::set_permissions(path, Permissions::from_mode(private))?;
    Ok(Some(mode))
}

/// Creates the new file `path` (failing if it exists) with `mode`,
/// whatever the umask.
pub fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    fix_mode(&file, mode)?;
    Ok(file)
}

/// Writes `path` atomically and durably with what `fill` writes.
pub fn write_with(
    path: &Path,
    opts: WriteOptions,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".debvault-tmp-")
        .permissions(Permissions::from_mode(opts.mode))
        .tempfile_in(dir)?;
    // The umask filtered the mode asked for at creation.
    tmp.as_file()
        .set_permissions(Permissions::from_mode(opts.mode))?;
    {
        let mut out = BufWriter::new(tmp.as_file_mut());
        fill(&mut out)?;
        out.flush()?;
    }
    tmp.as_file().sync_all()?;
    if opts.no_clobber {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    } else {
        tmp.persist(path).map_err(|e| e.error)?;
    }
    File::open(dir)?.sync_all()
}

/// Writes `data` to `path` atomically and durably.
pub fn write(path: &Path, data: &[u8], opts: WriteOptions) -> io::Result<()> {
    write_with(path, opts, |out| out.write_all(data))
}

/// Copies the file `src` to `path` atomically and durably.
pub fn copy(src: &Path, path: &Path, opts: WriteOptions) -> io::Result<()> {
    let mut from = File::open(src)?;
    write_with(path, opts, |out| io::copy(&mut from, out).map(drop))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_target_whole_with_the_mode_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"old").unwrap();
        write(&path, b"new", WriteOptions::PRIVATE).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn a_failed_fill_leaves_the_target_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"old").unwrap();
        let err = write_with(&path, WriteOptions::PUBLIC, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("disk gone"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk gone");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn no_clobber_refuses_an_existing_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write(&path, b"one", WriteOptions::PRIVATE.no_clobber()).unwrap();
        let err = write(&path, b"two", WriteOptions::PRIVATE.no_clobber()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
    }
}
