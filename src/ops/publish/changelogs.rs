//! One `changelog` per source version, beside the pool, for `apt changelog`.
//!
//! apt asks for `<Changelogs>` with `@CHANGEPATH@` replaced by
//! `<component>/<x>/<source>/<source>_<version>`: the pool's own directory
//! layout. So a publication writes each changelog into its source's pool
//! directory, `pool/<component>/<x>/<source>/<source>_<version>_changelog`,
//! and its Release says `Changelogs: <base>/pool/@CHANGEPATH@_changelog`.
//! The pool placement has just made those directories: a changelog costs one
//! file, where a tree of its own cost a directory per source as well (as
//! much kernel work again as the pool's directories, the slowest part of a
//! first publish).
//!
//! Which changelogs a publication has is decided with the Contents
//! (`contents::prepare`): the text of one .deb per source version. A local
//! publish writes a text as soon as its .deb is read, while the pool is
//! placed; the others (texts read by an earlier publish) come from the
//! database a batch at a time, so memory stays flat whatever the archive's
//! size. Only files not there yet are written, straight to their paths
//! ([`LocalLogs`] says why that is safe). A bucket is told apart by
//! the record of what was written to it (`remote_pool`), so a publish
//! uploads only new changelogs and asks the bucket nothing.
//!
//! `gc` keeps a changelog while a kept tree lists a package of its source
//! version ([`changelog_paths_in_packages`], [`paths_of`]).

use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use futures::{StreamExt as _, TryStreamExt as _};

use super::PublishError;
use crate::db::{Db, PoolObject};
use crate::debian::deb822::find_field;
use crate::debian::sources::{SOURCE_ARCH, split_source_field};
use crate::digest::Sha256;
use crate::model::PackageRecord;
use crate::store::Bucket;
use crate::tree::layout;

/// Texts read from the database at once.
const BATCH: usize = 256;

/// Changelog uploads in flight at once.
const UPLOADS: usize = 16;

/// A changelog a publication holds: its path below the prefix and the .deb
/// whose recorded text it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Changelog {
    /// `pool/<component>/<x>/<source>/<source>_<version>_changelog`.
    pub(super) path: String,
    /// The .deb the text was read from.
    pub(super) deb: Sha256,
}

/// apt's `@CHANGEPATH@` file below the prefix:
/// `pool/<component>/<x>/<source>/<source>_<version>_changelog`, `x` the
/// first letter (four for `lib*`), the epoch dropped; `None` when a part
/// would not be a safe path segment.
pub(crate) fn changelog_path(component: &str, source: &str, version: &str) -> Option<String> {
    let version = version.split_once(':').map_or(version, |(_, v)| v);
    let x = if source.starts_with("lib") {
        source.get(..4).unwrap_or(source)
    } else {
        source.get(..1)?
    };
    let file = format!("{source}_{version}_changelog");
    let ok = component.split('/').all(layout::valid_segment)
        && [x, source, file.as_str()]
            .iter()
            .all(|s| layout::valid_segment(s));
    ok.then(|| format!("pool/{component}/{x}/{source}/{file}"))
}

/// The `Changelogs` field for a prefix reached at `base_url`.
pub(crate) fn changelogs_field(base_url: &str) -> String {
    format!(
        "{}/pool/@CHANGEPATH@_changelog",
        base_url.trim_end_matches('/')
    )
}

/// The source version of a binary: `Source: name (version)`, else its own.
pub(super) fn source_version(r: &PackageRecord) -> String {
    find_field(&r.stanza, "Source")
        .and_then(|v| split_source_field(v).1)
        .unwrap_or(&r.version)
        .to_owned()
}

/// The changelog paths of a publication's binary packages (what `gc` keeps
/// in a bucket).
pub(crate) fn paths_of<'a>(
    records: impl IntoIterator<Item = (&'a str, &'a PackageRecord)>,
) -> HashSet<String> {
    records
        .into_iter()
        .filter(|(_, r)| r.architecture != SOURCE_ARCH)
        .filter_map(|(c, r)| changelog_path(c, &r.source, &source_version(r)))
        .collect()
}

/// The changelog paths of the packages a `Packages` index of `component`
/// lists (what `gc` keeps in a local pool).
pub(crate) fn changelog_paths_in_packages(component: &str, body: &str, out: &mut HashSet<String>) {
    for stanza in body.split("\n\n") {
        let (Some(name), Some(version)) =
            (find_field(stanza, "Package"), find_field(stanza, "Version"))
        else {
            continue;
        };
        let (source, source_version) = find_field(stanza, "Source")
            .map(split_source_field)
            .unwrap_or((name, None));
        if let Some(p) = changelog_path(component, source, source_version.unwrap_or(version)) {
            out.insert(p);
        }
    }
}

/// The component of a `Packages` index from its path in a Release
/// (`main/binary-amd64/Packages`, `updates/main/debian-installer/binary-amd64/Packages`).
pub(crate) fn component_of_index(path: &str) -> Option<&str> {
    let (dir, _) = path.split_once("/binary-")?;
    Some(dir.strip_suffix("/debian-installer").unwrap_or(dir))
}

/// The name, in the prefix's private directory, of the mark a publish
/// keeps while it may have changelogs half-written (see [`LocalLogs`]).
const MARK: &str = "changelogs-writing";

/// Writes changelogs straight to their final paths below a local prefix.
///
/// No temporary name and rename (three system calls more per file, the
/// changelogs being as many files as the pool has directories): a new
/// path is listed only by the tree being made, which no client sees
/// before the switch. What a killed run can leave is a file cut short, so
/// a publish marks the prefix before it writes one and clears the mark
/// once everything is durable; a publish that finds the mark rewrites
/// every changelog rather than trust the ones there (each under a
/// temporary name then renamed, as a served tree may list it).
pub(super) struct LocalLogs<'a> {
    base: &'a Path,
    /// `base` opened: a changelog is created relative to it, so the kernel
    /// walks its few components, not the whole path, once a file.
    base_fd: std::os::fd::OwnedFd,
    /// A run before this one stopped while writing.
    rewrite: bool,
    /// The prefix had no pool before: no changelog is there but those
    /// this publish writes.
    fresh: bool,
    mark: std::path::PathBuf,
}

impl<'a> LocalLogs<'a> {
    /// Marks the prefix `base` as being written.
    pub(super) fn begin(base: &'a Path) -> Result<Self, PublishError> {
        use crate::atomic_file::{PUBLIC_DIR, create_dir_all};
        let dir = base.join(layout::PRIVATE_DIR);
        let mark = dir.join(MARK);
        let rewrite = std::fs::symlink_metadata(&mark).is_ok();
        let fresh = std::fs::symlink_metadata(base.join("pool")).is_err();
        if rewrite {
            tracing::info!(prefix = %base.display(), "a publish stopped while writing changelogs; writing them all again");
        } else {
            create_dir_all(&dir, PUBLIC_DIR).map_err(super::io_err("create", &dir))?;
            std::fs::File::create(&mark).map_err(super::io_err("create", &mark))?;
        }
        let base_fd = {
            use rustix::fs::{Mode, OFlags, open};
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            open(base, flags, Mode::empty()).map_err(|e| super::io_err("open", base)(e.into()))?
        };
        Ok(LocalLogs {
            base,
            base_fd,
            rewrite,
            fresh,
            mark,
        })
    }

    /// Whether the changelog at `rel` is to be written: asked of the file
    /// system only where one may be there already (the texts of those that
    /// are need not be read).
    fn wanted(&self, rel: &str) -> bool {
        use rustix::fs::{AtFlags, statat};
        self.rewrite || self.fresh || statat(&self.base_fd, rel, AtFlags::SYMLINK_NOFOLLOW).is_err()
    }

    /// Writes `text` at `rel` (and its directory if missing); `false` when
    /// a file was there already and is kept.
    pub(super) fn write(&self, rel: &str, text: &[u8]) -> Result<bool, PublishError> {
        Ok(self.write_inner(rel, text, true)?.unwrap_or(false))
    }

    /// [`Self::write`] where the directory exists already; `None` when it
    /// does not. A .deb read while the pool is placed leaves a directory
    /// not made yet to the pool's maker, which makes them in order (making
    /// it here contended with the maker for the parent's lock), and its text
    /// to the writer that follows the maker.
    pub(super) fn write_if_dir(
        &self,
        rel: &str,
        text: &[u8],
    ) -> Result<Option<bool>, PublishError> {
        self.write_inner(rel, text, false)
    }

    fn write_inner(
        &self,
        rel: &str,
        text: &[u8],
        make_dir: bool,
    ) -> Result<Option<bool>, PublishError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;

        use crate::atomic_file::{PUBLIC_DIR, WriteOptions, create_dir_all, fix_mode};
        let mode = WriteOptions::PUBLIC.mode;
        let path = self.base.join(rel);
        // Rewriting replaces a file a served tree may list: by a rename, so
        // a client never reads it cut short.
        let target = if self.rewrite {
            let mut name = std::ffi::OsString::from(".debvault-tmp-");
            name.push(path.file_name().unwrap_or_default());
            path.with_file_name(name)
        } else {
            path.clone()
        };
        let open = || -> std::io::Result<std::fs::File> {
            if self.rewrite {
                let mut o = std::fs::OpenOptions::new();
                o.write(true).mode(mode).create(true).truncate(true);
                return o.open(&target);
            }
            use rustix::fs::{Mode, OFlags, openat};
            let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
            let fd = openat(&self.base_fd, rel, flags, Mode::from_raw_mode(mode))?;
            Ok(std::fs::File::from(fd))
        };
        // The source's pool directory exists unless its files are not
        // placed yet (the pool is placed meanwhile), none is held (on
        // demand), or apt's `x` differs from the pool's.
        let opened = match open() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !make_dir => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    create_dir_all(dir, PUBLIC_DIR).map_err(super::io_err("create", dir))?;
                }
                open()
            }
            other => other,
        };
        let mut file = match opened {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(Some(false)),
            other => other.map_err(super::io_err("write", &target))?,
        };
        fix_mode(&file, mode)
            .and_then(|()| file.write_all(text))
            .map_err(super::io_err("write", &target))?;
        if self.rewrite {
            std::fs::rename(&target, &path).map_err(super::io_err("rename", &target))?;
        }
        Ok(Some(true))
    }

    /// Clears the mark, once what was written is durable.
    pub(super) fn done(self) {
        let _ = std::fs::remove_file(&self.mark);
    }
}

/// Reads the texts of the changelogs of `logs` to write (not of a .deb in
/// `done`, and missing below the prefix) a batch at a time and sends them to
/// [`write_local`]; the first error ends it (and the writer's input with it).
pub(super) fn feed_local(
    db: &mut Db,
    out: &LocalLogs<'_>,
    logs: &[Changelog],
    done: &HashSet<Sha256>,
    tx: SyncSender<Vec<(String, Vec<u8>)>>,
) -> Result<(), PublishError> {
    let mut missing: Vec<&Changelog> = logs
        .iter()
        .filter(|l| !done.contains(&l.deb) && out.wanted(&l.path))
        .collect();
    // In the order the pool's directories are made (see `write_local`).
    missing.sort_unstable_by(|a, b| Path::new(&a.path).cmp(Path::new(&b.path)));
    for batch in missing.chunks(BATCH) {
        let texts = texts(db, batch)?;
        if tx.send(texts).is_err() {
            break; // the writer stopped on an error of its own
        }
    }
    Ok(())
}

/// A bounded channel from [`feed_local`] to [`write_local`].
pub(super) type Feed = (
    SyncSender<Vec<(String, Vec<u8>)>>,
    Receiver<Vec<(String, Vec<u8>)>>,
);

/// The channel [`feed_local`] sends on: two batches ahead at most.
pub(super) fn feed() -> Feed {
    sync_channel(2)
}

/// Writes the changelogs [`feed_local`] sends, each once the pool placement
/// running meanwhile has made its directory (`made`). Not fsynced here: the
/// publish makes the whole file system durable with one `syncfs` before the
/// switch. Returns how many were written; stops early, writing nothing
/// more, when the placement failed (its error is the publish's).
pub(super) fn write_local(
    out: &LocalLogs<'_>,
    rx: Receiver<Vec<(String, Vec<u8>)>>,
    made: &super::pool::DirsMade<'_>,
) -> Result<u64, PublishError> {
    let mut written = 0;
    for batch in rx {
        for (rel, text) in batch {
            let path = out.base.join(&rel);
            if !made.wait_for(path.parent().unwrap_or(out.base)) {
                return Ok(written);
            }
            written += u64::from(out.write(&rel, &text)?);
        }
    }
    Ok(written)
}

/// Uploads the changelogs of `logs` the record of `location` (the bucket
/// `base`) does not know, a batch of texts at a time, and records them.
/// Returns how many were uploaded.
pub(super) fn upload(
    db: &mut Db,
    base: &Bucket,
    location: &str,
    logs: &[Changelog],
) -> Result<u64, PublishError> {
    use crate::store::s3::block_on;
    let known = db.remote_pool(location)?;
    let missing: Vec<&Changelog> = logs
        .iter()
        .filter(|l| !known.contains_key(&l.path))
        .collect();
    let mut uploaded = 0;
    for batch in missing.chunks(BATCH) {
        let texts = texts(db, batch)?;
        let written: Vec<(String, PoolObject)> = texts
            .iter()
            .map(|(path, text)| {
                let object = PoolObject {
                    sha256: Sha256::of(text),
                    size: text.len() as u64,
                };
                (path.clone(), object)
            })
            .collect();
        let b = base.clone();
        block_on(async move {
            futures::stream::iter(texts.into_iter().map(|(path, text)| {
                let b = b.clone();
                async move { b.put(&path, bytes::Bytes::from(text)).await }
            }))
            .buffer_unordered(UPLOADS)
            .try_collect::<Vec<()>>()
            .await
        })??;
        uploaded += written.len() as u64;
        db.record_remote_pool(location, &written, &[], None)?;
    }
    Ok(uploaded)
}

/// The texts of `batch`, by path; a .deb whose text is gone is skipped.
fn texts(db: &Db, batch: &[&Changelog]) -> Result<Vec<(String, Vec<u8>)>, PublishError> {
    let shas: Vec<Sha256> = batch.iter().map(|l| l.deb).collect();
    let mut texts = db.deb_changelogs(&shas)?;
    Ok(batch
        .iter()
        .filter_map(|l| {
            let text = texts.get_mut(&l.deb)?.take()?;
            Some((l.path.clone(), text))
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn changepaths_follow_apt_and_the_pool() {
        assert_eq!(
            changelog_path("main", "libfoo", "1:2.0-1").as_deref(),
            Some("pool/main/libf/libfoo/libfoo_2.0-1_changelog")
        );
        assert_eq!(
            changelog_path("main", "hello", "1.0").as_deref(),
            Some("pool/main/h/hello/hello_1.0_changelog")
        );
        assert_eq!(changelog_path("main", "../x", "1"), None);
        assert_eq!(
            changelogs_field("http://h:1/deb/"),
            "http://h:1/deb/pool/@CHANGEPATH@_changelog"
        );
    }

    #[test]
    fn packages_name_their_changelogs() {
        let body = "Package: hello\nVersion: 2.10-3\nFilename: pool/main/h/hello/x.deb\n\n\
                    Package: libfoo1\nSource: libfoo (1:2.0-1)\nVersion: 2.0-1+b1\n\n\
                    Package: bar-doc\nSource: bar\nVersion: 3\n";
        let mut out = HashSet::new();
        changelog_paths_in_packages("main", body, &mut out);
        let mut got: Vec<_> = out.into_iter().collect();
        got.sort();
        assert_eq!(
            got,
            [
                "pool/main/b/bar/bar_3_changelog",
                "pool/main/h/hello/hello_2.10-3_changelog",
                "pool/main/libf/libfoo/libfoo_2.0-1_changelog",
            ]
        );
        assert_eq!(
            component_of_index("updates/main/debian-installer/binary-amd64/Packages"),
            Some("updates/main")
        );
        assert_eq!(component_of_index("main/source/Sources"), None);
    }
}
