//! Dynamic shell completion: `source <(COMPLETE=bash debvault)`.
//!
//! The shell calls `COMPLETE=<shell> debvault -- <words…>` on TAB
//! (clap_complete's `CompleteEnv`, run first thing in `main`); arguments
//! that name mirrors, snapshots or publications carry an
//! [`ArgValueCandidates`] from here. Their candidates come from the database
//! of the root the completed line names (`--root`, `--config`, else the
//! environment and defaults), opened read-only: a missing root, an
//! unreadable config or a locked database yields no candidates, never a
//! message on the terminal and never a file created.

use std::ffi::OsString;
use std::path::PathBuf;

use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

use crate::config::{FlagValues, Settings};
use crate::db::{Db, NameKind};

/// Candidates for a mirror name.
pub(crate) fn mirrors() -> ArgValueCandidates {
    ArgValueCandidates::new(|| candidates(NameKind::Mirror))
}

/// Candidates for a snapshot name.
pub(crate) fn snapshots() -> ArgValueCandidates {
    ArgValueCandidates::new(|| candidates(NameKind::Snapshot))
}

/// Candidates for a local repository name.
pub(crate) fn repos() -> ArgValueCandidates {
    ArgValueCandidates::new(|| candidates(NameKind::Repo))
}

/// Candidates for a publication, as `publish list` prints it.
pub(crate) fn publications() -> ArgValueCandidates {
    ArgValueCandidates::new(|| candidates(NameKind::Publication))
}

fn candidates(kind: NameKind) -> Vec<CompletionCandidate> {
    names(kind)
        .unwrap_or_default()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

fn names(kind: NameKind) -> Option<Vec<String>> {
    let flags = line_flags(std::env::args_os());
    let settings = Settings::resolve(&flags, &|k| std::env::var(k).ok()).ok()?;
    let db = Db::open_read_only(&settings.db_path()).ok()?;
    db.names(kind).ok()
}

/// `--root` and `--config` of the line being completed: the words after
/// the first `--` of `debvault -- debvault [words…]`.
fn line_flags(args: impl IntoIterator<Item = OsString>) -> FlagValues {
    let words: Vec<OsString> = args.into_iter().skip_while(|a| a != "--").skip(1).collect();
    let mut flags = FlagValues::default();
    let mut i = 0;
    while i < words.len() {
        let word = words[i].to_string_lossy();
        if word == "--" {
            break;
        }
        for (name, slot) in [("--root", &mut flags.root), ("--config", &mut flags.config)] {
            if word == name {
                if let Some(v) = words.get(i + 1) {
                    *slot = Some(PathBuf::from(v));
                }
            } else if let Some(v) = word.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                *slot = Some(PathBuf::from(v));
            }
        }
        i += 1;
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(line: &[&str]) -> FlagValues {
        line_flags(line.iter().map(OsString::from))
    }

    #[test]
    fn root_and_config_come_from_the_completed_line() {
        let f = flags(&[
            "debvault",
            "--root",
            "/ignored",
            "--",
            "debvault",
            "--root",
            "/r",
            "mirror",
            "--config=/c.toml",
            "sync",
            "",
        ]);
        assert_eq!(f.root, Some(PathBuf::from("/r")));
        assert_eq!(f.config, Some(PathBuf::from("/c.toml")));
    }

    #[test]
    fn a_line_without_them_leaves_the_defaults() {
        let f = flags(&["debvault", "--", "debvault", "mirror", "sync", "--root"]);
        assert_eq!((f.root, f.config), (None, None));
        let f = flags(&[
            "debvault", "--", "debvault", "mirror", "sync", "--", "--root", "/x",
        ]);
        assert_eq!(f.root, None);
    }
}
