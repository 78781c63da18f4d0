//! The pool: where each package's file is published, and putting it there.
//!
//! A package's plain pool path is `pool/<component>/<x>/<source>/<file>`;
//! when that path holds other content (pool files are write-once) the
//! package goes to the hash-qualified `…/<source>/sha256-<16 hex>/<file>`
//! instead ([`pool_paths`], both checked safe). The plan ([`plan_pool`],
//! one [`Item`] per package) decides by looking at the files in a local
//! directory (`stat`, the blob's inode, the ledger, or hashing as a last
//! resort); [`execute_pool`] then links or copies the missing files in.
//! The bucket backend makes its own plan from the same paths and `Item`s.

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt as _};
use std::path::{Path, PathBuf};

use super::ledger::{Ledger, Seen};
use super::ondemand::Recorded;
use super::{PublishError, PublishReport, io_err};
use crate::debian::packages::pool_dir;
use crate::debian::safe_path::SafePath;
use crate::digest::{HashingReader, Sha256};
use crate::model::PackageRecord;
use crate::store::{BlobStore, FlushBehind, StoreError};

/// Threads linking pool files (the work is file-system metadata).
const POOL_THREADS: usize = 4;

/// One package's place in the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PoolAction {
    /// Link (or copy) the blob to this new path.
    Add(String),
    /// The path already holds this content.
    Present(String),
}

impl PoolAction {
    pub(super) fn path(&self) -> &str {
        match self {
            PoolAction::Add(p) | PoolAction::Present(p) => p,
        }
    }
}

/// A package to publish with its planned pool path.
pub(super) struct Item<'a> {
    pub(super) component: &'a str,
    pub(super) record: &'a PackageRecord,
    pub(super) action: PoolAction,
    pub(super) qualified: bool,
    /// Pool files looked at and what they hold, for the pool ledger
    /// (only files that are not links of their blob).
    pub(super) seen: Vec<(String, Seen)>,
    /// Whether planning read the file to compare its content.
    pub(super) hashed: bool,
}

/// Counts the pool plan into the report.
pub(super) fn count_pool(report: &mut PublishReport, items: &[Item<'_>]) {
    for it in items {
        match it.action {
            PoolAction::Add(_) => report.pool_added += 1,
            PoolAction::Present(_) => report.pool_present += 1,
        }
        report.pool_qualified += u64::from(it.qualified);
        report.pool_hashed += u64::from(it.hashed);
    }
}

/// Plans each package's pool path (pure but for `stat` and, rarely,
/// hashing a same-sized file that is not a link of the blob).
pub(super) fn plan_pool<'a>(
    base: &Path,
    store: &BlobStore,
    ledger: &Ledger,
    recorded: &Recorded,
    records: &'a [(String, PackageRecord)],
) -> Result<Vec<Item<'a>>, PublishError> {
    // A component without a pool directory (the first publish under this
    // prefix) has no file to look at: every path is new.
    let components: std::collections::HashSet<&str> =
        records.iter().map(|(c, _)| c.as_str()).collect();
    let fresh: std::collections::HashSet<&str> = components
        .into_iter()
        .filter(|c| !base.join("pool").join(c).exists() && recorded.is_empty())
        .collect();
    let fresh = &fresh;
    let chunk = records.len().div_ceil(POOL_THREADS).max(1);
    let results: Vec<Result<Vec<Item>, PublishError>> = std::thread::scope(|s| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(component, record)| {
                            let fresh = fresh.contains(component.as_str());
                            plan_one(base, store, (ledger, recorded), component, record, fresh)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out = Vec::with_capacity(records.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// `name_version_arch` of a record, for messages.
pub(super) fn label(record: &PackageRecord) -> String {
    format!("{}_{}_{}", record.name, record.version, record.architecture)
}

/// A package's plain pool path and its hash-qualified alternative, both
/// checked safe.
pub(crate) fn pool_paths(
    component: &str,
    record: &PackageRecord,
) -> Result<[String; 2], PublishError> {
    let plain = checked_pool_path(record, plain_pool_path(component, record))?;
    let qualified = checked_pool_path(record, qualified_pool_path(&plain, record))?;
    Ok([plain, qualified])
}

/// `path` if it is a safe pool path for `record`.
fn checked_pool_path(record: &PackageRecord, path: String) -> Result<String, PublishError> {
    if SafePath::new(&path).is_err() || path.split('/').any(|s| s.starts_with('.')) {
        return Err(PublishError::UnsafePoolPath {
            package: label(record),
            path,
        });
    }
    Ok(path)
}

/// The hash-qualified alternative of a package's plain pool path:
/// `…/<source>/sha256-<16 hex>/<file>`.
fn qualified_pool_path(plain: &str, record: &PackageRecord) -> String {
    let (dir, file) = plain.rsplit_once('/').unwrap_or(("", plain));
    format!("{dir}/sha256-{}/{file}", &record.sha256.to_hex()[..16])
}

/// A package's plain pool path, `pool/<component>/<x>/<source>/<file>`
/// (not checked: see [`checked_pool_path`]).
pub(super) fn plain_pool_path(component: &str, record: &PackageRecord) -> String {
    let file = record
        .filename
        .rsplit('/')
        .next()
        .unwrap_or(&record.filename);
    format!("{}/{file}", pool_dir(&record.source, component))
}

/// Plans one package: its plain pool path if that is free or holds its
/// content, else the hash-qualified one (an error if that is taken too).
/// `fresh`: the component has no pool directory yet, so nothing to look at.
fn plan_one<'a>(
    base: &Path,
    store: &BlobStore,
    // What the pool's copies hold; what unfilled paths must hold.
    (ledger, recorded): (&Ledger, &Recorded),
    component: &'a str,
    record: &'a PackageRecord,
    fresh: bool,
) -> Result<Item<'a>, PublishError> {
    let plain = checked_pool_path(record, plain_pool_path(component, record))?;
    if fresh {
        return Ok(Item {
            component,
            record,
            action: PoolAction::Add(plain),
            qualified: false,
            seen: Vec::new(),
            hashed: false,
        });
    }
    // The blob's identity (a local store's inode) is only needed when a
    // pool path is taken; a file that is not a link of it is compared
    // through the ledger, or by hashing it.
    let blob = store.local_path(&record.sha256);
    let blob_id = || -> Result<Option<(u64, u64)>, PublishError> {
        let Some(blob) = &blob else {
            return Ok(None);
        };
        let m = std::fs::metadata(blob).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                PublishError::MissingBlob {
                    package: label(record),
                    sha256: record.sha256,
                }
            } else {
                io_err("inspect", blob)(e)
            }
        })?;
        Ok(Some((m.dev(), m.ino())))
    };
    // The plain path, then (only when that holds other content) the
    // hash-qualified one.
    let mut path = plain;
    let mut was_qualified = false;
    let (mut seen, mut hashed) = (Vec::new(), false);
    let action = loop {
        let full = base.join(&path);
        match std::fs::metadata(&full) {
            // Unfilled on demand with other content: taken all the same.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !recorded.holds_other(&path, &record.sha256) {
                    break PoolAction::Add(path);
                }
            }
            Err(e) => return Err(io_err("inspect", &full)(e)),
            Ok(m) => {
                let same = blob_id()? == Some((m.dev(), m.ino()))
                    || (m.len() == record.size && {
                        let content = match ledger.known(&path, &m) {
                            Some(known) => known,
                            None => {
                                hashed = true;
                                file_sha256(&full)?
                            }
                        };
                        seen.push((path.clone(), Seen::of(&m, content)));
                        content == record.sha256
                    });
                if same {
                    break PoolAction::Present(path);
                }
            }
        }
        if was_qualified {
            return Err(PublishError::UnsafePoolPath {
                package: label(record),
                path,
            });
        }
        path = checked_pool_path(record, qualified_pool_path(&path, record))?;
        was_qualified = true;
    };
    Ok(Item {
        component,
        record,
        action,
        qualified: was_qualified,
        seen,
        hashed,
    })
}

/// The SHA256 of the file at `path`, read whole.
fn file_sha256(path: &Path) -> Result<Sha256, PublishError> {
    let f = std::fs::File::open(path).map_err(io_err("read", path))?;
    let mut r = HashingReader::new(f);
    io::copy(&mut r, &mut io::sink()).map_err(io_err("read", path))?;
    Ok(r.finish().0)
}

/// Links (or copies) the planned new pool files. One thread creates the
/// missing directories in path order (directory creation serializes on the
/// parent's lock, so more threads would only wait on it) while
/// [`POOL_THREADS`] threads follow behind, each placing files into the
/// directories already made: the two kinds of kernel work overlap.
///
/// `follow` runs on a thread of its own meanwhile, told which directories
/// exist so far ([`DirsMade`]): the changelogs written beside the pool
/// files wait for their directories rather than make them, which would
/// contend with the maker for the parents' locks.
///
/// Returns the files copied (not linked) into place, by pool path, for the
/// pool ledger, and what `follow` returned.
pub(super) fn execute_pool<F>(
    base: &Path,
    store: &BlobStore,
    items: &[Item<'_>],
    follow: F,
) -> Result<(Vec<(String, Seen)>, u64), PublishError>
where
    F: FnOnce(&DirsMade<'_>) -> Result<u64, PublishError> + Send,
{
    let mut adds: Vec<(&PackageRecord, PathBuf, &str)> = items
        .iter()
        .filter_map(|it| match &it.action {
            PoolAction::Add(p) => Some((it.record, base.join(p), p.as_str())),
            PoolAction::Present(_) => None,
        })
        .collect();
    if adds.is_empty() {
        let none = DirProgress::default();
        let followed = follow(&DirsMade {
            dirs: &[],
            progress: &none,
        })?;
        return Ok((Vec::new(), followed));
    }
    adds.sort_unstable_by(|a, b| a.1.cmp(&b.1));
    // The directories in order, and for each file the number of
    // directories that must exist before it can be placed.
    let mut dirs: Vec<&Path> = Vec::new();
    let mut needs: Vec<usize> = Vec::with_capacity(adds.len());
    for (_, dst, _) in &adds {
        if let Some(dir) = dst.parent()
            && dirs.last() != Some(&dir)
        {
            dirs.push(dir);
        }
        needs.push(dirs.len());
    }
    let progress = DirProgress::default();
    let chunk = 256;
    std::thread::scope(|s| {
        let (dirs, progress) = (&dirs, &progress);
        let maker = s.spawn(move || {
            // Finishes on every way out, a panic included, so that no
            // placer waits for directories that will never come.
            let mut finish = Finish {
                progress,
                failed: true,
            };
            let made = make_dirs(dirs, progress);
            finish.failed = made.is_err();
            made
        });
        let follower = s.spawn(move || {
            yield_to_maker();
            follow(&DirsMade { dirs, progress })
        });
        let flushing = FlushBehind::start(base);
        let (adds, needs) = (&adds, &needs);
        let placers: Vec<_> = (0..POOL_THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut copied = Vec::new();
                    let mut start = t * chunk;
                    while start < adds.len() {
                        let end = (start + chunk).min(adds.len());
                        if !progress.wait_for(needs[end - 1]) {
                            return Ok(copied);
                        }
                        for (record, dst, path) in &adds[start..end] {
                            if let Some(seen) = place(store, record, dst)? {
                                copied.push(((*path).to_owned(), seen));
                            }
                        }
                        start += POOL_THREADS * chunk;
                    }
                    Ok::<_, PublishError>(copied)
                })
            })
            .collect();
        let made = maker
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        drop(flushing);
        let mut placed = Ok(Vec::new());
        for h in placers {
            let r = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            match (&mut placed, r) {
                (Ok(all), Ok(copied)) => all.extend(copied),
                (Ok(_), Err(e)) => placed = Err(e),
                (Err(_), _) => {}
            }
        }
        let followed = follower
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        let placed = made.and(placed)?;
        Ok((placed, followed?))
    })
}

/// Lowers the calling thread's scheduling priority (on Linux, `setpriority`
/// applies to the one thread), for work beside a pool placement that can
/// wait: the directory maker is the thread a first publish waits for, and
/// on a busy machine it spent more time queued for a core than running.
pub(super) fn yield_to_maker() {
    crate::runtime::lower_thread_priority();
}

/// The pool directories a placement makes, in order, and how many exist so
/// far.
pub(super) struct DirsMade<'a> {
    dirs: &'a [&'a Path],
    progress: &'a DirProgress,
}

impl DirsMade<'_> {
    /// Waits until `dir` exists when this placement makes it (at once
    /// otherwise); false when making the directories failed.
    pub(super) fn wait_for(&self, dir: &Path) -> bool {
        match self.dirs.binary_search(&dir) {
            Ok(i) => self.progress.wait_for(i + 1),
            Err(_) => true,
        }
    }
}

/// Directories made between two reports of progress. Each report wakes
/// the threads waiting for it, and a woken thread preempts the maker on
/// its next system call: every 64 directories, that was a few hundred
/// preemptions of the thread a first publish waits for.
const ADVANCE_EVERY: usize = 512;

/// Creates `dirs` in order (and any missing parents), reporting progress.
fn make_dirs(dirs: &[&Path], progress: &DirProgress) -> Result<(), PublishError> {
    for (i, dir) in dirs.iter().enumerate() {
        crate::atomic_file::create_dir_all(dir, crate::atomic_file::PUBLIC_DIR)
            .map_err(io_err("create", dir))?;
        if i % ADVANCE_EVERY == ADVANCE_EVERY - 1 {
            progress.advance(i + 1);
        }
    }
    Ok(())
}

/// Calls [`DirProgress::finish`] when dropped.
struct Finish<'a> {
    progress: &'a DirProgress,
    failed: bool,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        self.progress.finish(self.failed);
    }
}

/// How many pool directories exist so far, shared between the thread that
/// makes them and the threads that fill them.
#[derive(Default)]
struct DirProgress {
    /// Directories made, and whether making them stopped early.
    state: std::sync::Mutex<(usize, bool)>,
    changed: std::sync::Condvar,
}

impl DirProgress {
    fn advance(&self, made: usize) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 = made;
        self.changed.notify_all();
    }

    /// Marks every directory made, or the making failed.
    fn finish(&self, failed: bool) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *s = (usize::MAX, failed);
        self.changed.notify_all();
    }

    /// Waits until `n` directories exist; false if making them failed.
    fn wait_for(&self, n: usize) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while s.0 < n {
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        !s.1
    }
}

/// Puts the blob of `record` at the new name `dst`: a hardlink from a local
/// store, else a copy (or download) to a temporary name linked into place,
/// so `dst` never exists half-written. A `dst` that appeared meanwhile is
/// left alone (the next publish checks its content). A copy placed here is
/// returned with its identity, for the pool ledger.
fn place(
    store: &BlobStore,
    record: &PackageRecord,
    dst: &Path,
) -> Result<Option<Seen>, PublishError> {
    if let Some(src) = store.local_path(&record.sha256) {
        match std::fs::hard_link(&src, dst) {
            Ok(()) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(PublishError::MissingBlob {
                    package: label(record),
                    sha256: record.sha256,
                });
            }
            Err(_) => {}
        }
    }
    let tmp = dst.with_file_name(format!(".tmp-{}-pool", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let copy = || -> Result<Option<u64>, PublishError> {
        store.fetch_to(&record.sha256, &tmp).map_err(|e| match e {
            StoreError::Missing(sha256) => PublishError::MissingBlob {
                package: label(record),
                sha256,
            },
            e => e.into(),
        })?;
        // Served as is: world-readable whatever the umask or the store.
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))
            .map_err(io_err("copy into", dst))?;
        let file = std::fs::File::open(&tmp).map_err(io_err("copy into", dst))?;
        file.sync_all().map_err(io_err("copy into", dst))?;
        let ino = file.metadata().map_err(io_err("copy into", dst))?.ino();
        match std::fs::hard_link(&tmp, dst) {
            Ok(()) => Ok(Some(ino)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(io_err("copy into", dst)(e)),
        }
    };
    let res = copy();
    let _ = std::fs::remove_file(&tmp);
    // Its identity once the temporary name is gone (unlinking it moves the
    // change time), if `dst` is still the copy made here.
    Ok(res?.and_then(|ino| {
        let m = std::fs::metadata(dst).ok()?;
        (m.ino() == ino).then(|| Seen::of(&m, record.sha256))
    }))
}
