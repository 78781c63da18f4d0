//! The edge's error: what failed, and the exit code its cause declared.
//!
//! A typed error becomes a [`Failure`] the moment it crosses into the CLI
//! (`?` converts any error that implements [`ExitCode`]), and its code is
//! taken then; context added on the way up keeps it. So the edge never
//! guesses a code from a list of types, and an error type that declares
//! none does not compile here.

use std::fmt;

use crate::exit::ExitCode;

/// The CLI's result.
pub(crate) type Result<T, E = Failure> = std::result::Result<T, E>;

/// A failure on its way to `main`: the message chain, and the exit code.
pub(crate) struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    /// Ends the command with `code` and no message of its own: what went
    /// wrong was already said (per mirror of a multi-mirror sync, say).
    pub(crate) fn silent(code: u8) -> Failure {
        Failure {
            code,
            error: anyhow::Error::new(Silent(code)),
        }
    }

    /// The exit code.
    pub(crate) fn code(&self) -> u8 {
        self.code
    }

    /// Whether there is nothing left to print.
    pub(crate) fn is_silent(&self) -> bool {
        self.error.downcast_ref::<Silent>().is_some()
    }

    /// The message chain, outermost first.
    pub(crate) fn error(&self) -> &anyhow::Error {
        &self.error
    }
}

impl<E> From<E> for Failure
where
    E: ExitCode + std::error::Error + Send + Sync + 'static,
{
    fn from(e: E) -> Failure {
        Failure {
            code: e.exit_code(),
            error: anyhow::Error::new(e),
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} (exit {})", self.error, self.code)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

/// An exit with nothing more to say.
#[derive(Debug)]
struct Silent(u8);

impl fmt::Display for Silent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Silent {}

/// Context for the message chain; the exit code stays the cause's.
pub(crate) trait Context<T> {
    /// Wraps the error in the message `f` makes (only on failure).
    fn with_context<M: fmt::Display + Send + Sync + 'static>(
        self,
        f: impl FnOnce() -> M,
    ) -> Result<T>;
}

impl<T, E: Into<Failure>> Context<T> for std::result::Result<T, E> {
    fn with_context<M: fmt::Display + Send + Sync + 'static>(
        self,
        f: impl FnOnce() -> M,
    ) -> Result<T> {
        self.map_err(|e| {
            let failure = e.into();
            Failure {
                code: failure.code,
                error: failure.error.context(f()),
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::ConfigError;
    use crate::db::DbError;
    use crate::fetch::FetchError;
    use crate::lock::LockError;
    use crate::ops::apply::ApplyError;
    use crate::ops::backup::BackupError;
    use crate::ops::curation::CurationError;
    use crate::ops::evidence::EvidenceError;
    use crate::ops::evidence::advisories::AdvisoryError;
    use crate::ops::gc::GcError;
    use crate::ops::installable::InstallableError;
    use crate::ops::keys::KeyError;
    use crate::ops::mirror::MirrorError;
    use crate::ops::publish::PublishError;
    use crate::ops::snapshot::SnapshotError;
    use crate::ops::sync::SyncError;
    use crate::ops::verify::VerifyError;
    use crate::pgp::PgpError;
    use crate::serve::ServeError;
    use crate::store::StoreError;
    use crate::tree::TreeError;

    fn code(e: impl Into<Failure>) -> u8 {
        e.into().code()
    }

    fn io() -> std::io::Error {
        std::io::Error::other("boom")
    }

    /// One case per error kind the CLI meets, with the code DESIGN.md §2
    /// gives it; context on the way up keeps the code.
    #[test]
    fn every_error_kind_maps_to_its_exit_code() {
        let db = || DbError::Corrupt {
            what: "m".into(),
            detail: "x".into(),
        };
        let cases: Vec<(&str, u8, u8)> = vec![
            ("io", code(io()), 1),
            ("config", code(ConfigError::NoRoot), 2),
            ("usage", code(crate::cli::output::UsageError("x".into())), 2),
            ("db", code(db()), 1),
            ("name taken", code(DbError::MirrorExists("m".into())), 2),
            (
                "repo exists",
                code(crate::ops::repo::RepoError::Exists("r".into())),
                2,
            ),
            (
                "repo frozen",
                code(crate::ops::repo::RepoError::Frozen(Box::new(
                    crate::ops::repo::freeze::FrozenChange {
                        repo: "r".into(),
                        package: "p_2_all".into(),
                        action: "add",
                        frozen: "p_1_all".into(),
                        reason: "release".into(),
                    },
                ))),
                4,
            ),
            (
                "repo conflict",
                code(crate::ops::repo::RepoError::Conflict(Box::new(
                    crate::ops::repo::Conflict {
                        repo: "r".into(),
                        package: "p_1_all".into(),
                        existing: crate::digest::Sha256::of(b"a"),
                        offered: crate::digest::Sha256::of(b"b"),
                        offered_by: "`f`".into(),
                    },
                ))),
                3,
            ),
            (
                "repo name",
                code(crate::ops::repo::RepoError::BadName("-".into())),
                2,
            ),
            (
                "repo include unsigned",
                code(crate::ops::repo::IncludeError::Unsigned {
                    changes: "c".into(),
                    repo: "r".into(),
                }),
                3,
            ),
            (
                "repo uploaders key",
                code(crate::ops::repo::UploadersError::BadKey {
                    origin: "u".into(),
                    key: "k".into(),
                }),
                2,
            ),
            (
                "lock",
                code(LockError::Io {
                    path: PathBuf::from("l"),
                    source: io(),
                }),
                1,
            ),
            (
                "store url",
                code(StoreError::BadUrl {
                    url: "s3://".into(),
                    reason: "no bucket",
                }),
                2,
            ),
            (
                "store io",
                code(StoreError::Io {
                    action: "read",
                    path: PathBuf::from("b"),
                    source: io(),
                }),
                1,
            ),
            (
                "mirror no keyring",
                code(MirrorError::NoKeyring("m".into())),
                2,
            ),
            (
                "mirror bad name",
                code(MirrorError::InvalidName("../m".into())),
                2,
            ),
            ("mirror missing", code(MirrorError::NotFound("m".into())), 1),
            ("mirror db", code(MirrorError::Db(db())), 1),
            ("key exists", code(KeyError::Exists("F".into())), 2),
            ("key none", code(KeyError::Empty(PathBuf::from("keys"))), 2),
            ("key pgp", code(KeyError::Pgp(PgpError::NoSigningKeys)), 2),
            ("key audit", code(KeyError::Db(db())), 1),
            ("pgp bad signature", code(PgpError::NotClearsigned), 3),
            (
                "gc busy",
                code(GcError::Busy(LockError::Io {
                    path: PathBuf::from("l"),
                    source: io(),
                })),
                1,
            ),
            (
                "gc publish",
                code(GcError::Publish(PublishError::BadPrefix("..".into()))),
                2,
            ),
            ("verify db", code(VerifyError::Db(db())), 1),
            (
                "apply parse",
                code(ApplyError::Parse {
                    path: PathBuf::from("f"),
                    message: "x".into(),
                }),
                2,
            ),
            ("apply db", code(ApplyError::Db(db())), 1),
            ("backup mismatch", code(BackupError::Missing("b".into())), 1),
            (
                "backup bad key file",
                code(BackupError::Keys(KeyError::BadFileName("../x".into()))),
                3,
            ),
            (
                "verify endpoint",
                code(VerifyError::Publish(PublishError::BadPrefix("..".into()))),
                2,
            ),
            (
                "snapshot bad name",
                code(SnapshotError::BadName("..".into())),
                2,
            ),
            (
                "snapshot missing",
                code(SnapshotError::NoSnapshot("s".into())),
                1,
            ),
            ("curation no reason", code(CurationError::NoReason), 2),
            (
                "reject would break",
                code(CurationError::WouldBreak {
                    mirror: "m".into(),
                    count: 1,
                    first: vec!["nginx 1 amd64: Depends: iproute2".into()],
                    dependents: vec!["nginx".into()],
                }),
                2,
            ),
            (
                "snapshot unmet",
                code(InstallableError::Unmet {
                    snapshots: vec!["s".into()],
                    count: 1,
                    first: vec!["app 1 amd64: Depends: lib".into()],
                }),
                3,
            ),
            (
                "verify no snapshot",
                code(InstallableError::NoSnapshot("s".into())),
                1,
            ),
            (
                "publish bad prefix",
                code(PublishError::BadPrefix("..".into())),
                2,
            ),
            (
                "publish tree hash",
                code(PublishError::Tree(TreeError::Missing {
                    path: "Release".into(),
                })),
                3,
            ),
            ("tree no keys", code(TreeError::NoSigningKeys), 2),
            ("sync no mirror", code(SyncError::NoMirror("m".into())), 1),
            (
                "sync rollback",
                code(SyncError::Rollback {
                    mirror: "m".into(),
                    url: "u".into(),
                    date: chrono::DateTime::UNIX_EPOCH,
                    last: chrono::Utc::now(),
                }),
                3,
            ),
            (
                "serve root",
                code(ServeError::RootNotDirectory {
                    path: PathBuf::from("x"),
                }),
                2,
            ),
            ("fetch url", code(FetchError::InvalidUrl("x".into())), 2),
            (
                "auth file",
                code(crate::fetch::AuthError::Syntax {
                    path: PathBuf::from("x"),
                    detail: "d".into(),
                }),
                2,
            ),
            (
                "capped key file",
                code(crate::ops::keys::KeyError::Io {
                    action: "read",
                    path: PathBuf::from("x"),
                    source: crate::capped::read(std::path::Path::new("/dev/zero"), 1)
                        .expect_err("capped"),
                }),
                2,
            ),
            (
                "context keeps it",
                code(
                    Err::<(), _>(MirrorError::NoKeyring("m".into()))
                        .with_context(|| "cannot create")
                        .unwrap_err(),
                ),
                2,
            ),
            ("silent", Failure::silent(4).code(), 4),
            (
                "advisory bad record",
                code(AdvisoryError::BadRecord {
                    path: PathBuf::from("a.json"),
                    record: "hello/CVE-1".into(),
                    problem: "x".into(),
                }),
                1,
            ),
            (
                "advisory zip64",
                code(AdvisoryError::Zip {
                    path: PathBuf::from("a.zip"),
                    source: crate::debian::zip::ZipError::Zip64,
                }),
                2,
            ),
            (
                "advisory zip damaged",
                code(AdvisoryError::Zip {
                    path: PathBuf::from("a.zip"),
                    source: crate::debian::zip::ZipError::Crc {
                        name: "x.json".into(),
                    },
                }),
                1,
            ),
            (
                "advisory scope",
                code(AdvisoryError::NoScope("mirror `m`".into())),
                1,
            ),
            ("evidence db", code(EvidenceError::Db(db())), 1),
        ];
        let wrong: Vec<_> = cases.iter().filter(|(_, got, want)| got != want).collect();
        assert!(wrong.is_empty(), "name, got, want: {wrong:?}");
    }
}
