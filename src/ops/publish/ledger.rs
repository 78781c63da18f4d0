//! The pool ledger: which local pool files a publish knows the content of,
//! by their identity (device, inode, change time, size), for pool files
//! that are copies rather than links of their blob.
//!
//! With a local blob store on the publication's file system a pool file is
//! a hard link of its blob, and the publish plan tells "this package's
//! file" from "another file at its path" by comparing inodes. With the
//! blobs in a bucket, or on another file system, a pool file is a copy, and
//! the only way to know that a same-sized file at a package's pool path
//! holds that package was to read and hash it: every publish, every file.
//! The ledger remembers the files a publish placed or read (a file found
//! to hold other content too). A file whose identity is unchanged since is
//! known without reading it: any write to it,
//! or a replacement, moves its change time (which no user can set back) or
//! its inode. Anything else is read and hashed as before.
//!
//! It is a cache of facts about files, true whether or not the publish that
//! wrote it finished. Lost, stale or damaged, it only costs reading.

use std::collections::HashMap;
use std::io::{self, BufRead as _, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::atomic_file::WriteOptions;
use crate::digest::Sha256;
use crate::tree::layout::PRIVATE_DIR;

/// A pool file's identity and the content it was known to have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Seen {
    dev: u64,
    ino: u64,
    ctime: i64,
    ctime_nsec: i64,
    size: u64,
    sha256: Sha256,
}

impl Seen {
    /// The file described by `meta` holds content `sha256`.
    pub(super) fn of(meta: &std::fs::Metadata, sha256: Sha256) -> Seen {
        Seen {
            dev: meta.dev(),
            ino: meta.ino(),
            ctime: meta.ctime(),
            ctime_nsec: meta.ctime_nsec(),
            size: meta.len(),
            sha256,
        }
    }
}

/// The ledger of one publish prefix's pool.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    entries: HashMap<String, Seen>,
}

impl Ledger {
    /// Where the ledger of `prefix` under a local endpoint lives (beside the
    /// index cache, outside anything served).
    pub(super) fn file(endpoint: &Path, prefix: &str) -> PathBuf {
        let id = Sha256::of(prefix.as_bytes()).to_hex();
        endpoint
            .join(PRIVATE_DIR)
            .join(format!("pool-ledger-{}", &id[..16]))
    }

    /// Reads a ledger; a missing or unreadable one is empty, damaged lines
    /// are skipped.
    pub(super) fn load(file: &Path) -> Ledger {
        let mut entries = HashMap::new();
        let Ok(f) = std::fs::File::open(file) else {
            return Ledger { entries };
        };
        for line in io::BufReader::new(f).lines() {
            let Ok(line) = line else { break };
            if let Some((path, seen)) = parse_line(&line) {
                entries.insert(path.to_owned(), seen);
            }
        }
        Ledger { entries }
    }

    /// Whether it records nothing.
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The content of the file at pool `path`, if it is the file recorded
    /// there (same identity as `meta` describes now).
    pub(super) fn known(&self, path: &str, meta: &std::fs::Metadata) -> Option<Sha256> {
        let seen = self.entries.get(path)?;
        (*seen == Seen::of(meta, seen.sha256)).then_some(seen.sha256)
    }

    /// Records `seen` (pool paths relative to `base`) over this ledger and
    /// writes it to `file` atomically. Older entries not seen again are kept
    /// while their file exists (other distributions share the pool).
    pub(super) fn save(
        mut self,
        file: &Path,
        base: &Path,
        seen: Vec<(String, Seen)>,
    ) -> io::Result<()> {
        let fresh: HashMap<String, Seen> = seen.into_iter().collect();
        self.entries
            .retain(|path, _| !fresh.contains_key(path) && base.join(path).exists());
        self.entries.extend(fresh);
        if let Some(dir) = file.parent() {
            crate::atomic_file::create_dir_all(dir, crate::atomic_file::PUBLIC_DIR)?;
        }
        crate::atomic_file::write_with(file, WriteOptions::PUBLIC, |out| self.write_entries(out))
    }

    fn write_entries(&self, out: &mut dyn Write) -> io::Result<()> {
        for (path, s) in &self.entries {
            // A pool path is checked safe; a line break would still split
            // the line, so such a path is simply not remembered.
            if path.contains(['\n', '\r']) {
                continue;
            }
            writeln!(
                out,
                "{} {} {} {} {} {} {path}",
                s.sha256, s.size, s.dev, s.ino, s.ctime, s.ctime_nsec
            )?;
        }
        Ok(())
    }
}

fn parse_line(line: &str) -> Option<(&str, Seen)> {
    let mut parts = line.splitn(7, ' ');
    let sha256 = parts.next()?.parse().ok()?;
    let mut num = || parts.next()?.parse::<i64>().ok();
    let size = u64::try_from(num()?).ok()?;
    let dev = u64::try_from(num()?).ok()?;
    let ino = u64::try_from(num()?).ok()?;
    let ctime = num()?;
    let ctime_nsec = num()?;
    let path = parts.next().filter(|p| !p.is_empty())?;
    Some((
        path,
        Seen {
            dev,
            ino,
            ctime,
            ctime_nsec,
            size,
            sha256,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vouches_only_for_the_same_file_unchanged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("public");
        let path = "pool/main/a/app/app_1.0_amd64.deb";
        std::fs::create_dir_all(base.join("pool/main/a/app")).expect("mkdir");
        std::fs::write(base.join(path), b"content").expect("write");
        let sha = Sha256::of(b"content");
        let meta = std::fs::metadata(base.join(path)).expect("stat");
        let file = Ledger::file(dir.path(), "");
        Ledger::load(&file)
            .save(&file, &base, vec![(path.to_owned(), Seen::of(&meta, sha))])
            .expect("save");

        let ledger = Ledger::load(&file);
        assert_eq!(ledger.known(path, &meta), Some(sha));
        assert_eq!(ledger.known("pool/main/a/app/other.deb", &meta), None);

        // Rewritten in place with the same size: the change time moves.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(base.join(path), b"CONTENT").expect("rewrite");
        let changed = std::fs::metadata(base.join(path)).expect("stat");
        assert_eq!(ledger.known(path, &changed), None);

        // Entries of files gone are dropped on the next save.
        std::fs::remove_file(base.join(path)).expect("rm");
        ledger.save(&file, &base, Vec::new()).expect("save");
        assert!(Ledger::load(&file).entries.is_empty());
    }

    #[test]
    fn damaged_lines_are_skipped() {
        let sha = Sha256::of(b"x");
        let good = format!("{sha} 1 2 3 4 5 pool/main/x/x/x 1.deb");
        let (path, seen) = parse_line(&good).expect("parses");
        assert_eq!(path, "pool/main/x/x/x 1.deb");
        assert_eq!((seen.size, seen.ino, seen.ctime_nsec), (1, 3, 5));
        for bad in [
            "",
            "nonsense",
            &format!("{sha} 1 2 3 4 5"),
            &format!("{sha} -1 2 3 4 5 p"),
            &format!("{sha} 1 2 x 4 5 p"),
        ] {
            assert!(parse_line(bad).is_none(), "{bad:?}");
        }
    }
}
