//! Shared helpers of the verbs: sizes, usage errors, and the hints the
//! error reporter adds to well-known failures. Writing is the printer's
//! (`printer.rs`).

use crate::exit::{ExitCode, USAGE};

/// A usage error found after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub String);

impl ExitCode for UsageError {
    fn exit_code(&self) -> u8 {
        USAGE
    }
}

/// `1.5 MiB` style sizes.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Hints for well-known failures.
pub(crate) fn hints(err: &anyhow::Error) -> Vec<String> {
    use crate::ops::sync::SyncError;
    let mut out = Vec::new();
    if let Some(e) = err.downcast_ref::<SyncError>() {
        match e {
            SyncError::NoMirror(_) => out.push("`debvault mirror list` shows the mirrors".into()),
            SyncError::Signature { .. } => out.push(
                "check the mirror's `--keyring` files (`debvault mirror show NAME`); the upstream may have rotated its key"
                    .into(),
            ),
            SyncError::Rollback { .. } => {
                out.push("the upstream served an older Release than already accepted; check the mirror URL".into())
            }
            SyncError::Locked(_) => out.push("wait for the other sync to finish; the lock vanishes with its process".into()),
            _ => {}
        }
    }
    if let Some(crate::ops::publish::PublishError::SettingChanged { setting, .. }) =
        err.downcast_ref()
    {
        out.push(format!(
            "add `--set` to change the publication's {setting}, or leave `--{setting}` out to keep it"
        ));
    }
    if let Some(crate::ops::publish::PublishError::ComponentsChanged { .. }) = err.downcast_ref() {
        out.push(
            "add `--set` to change the publication's components, or name every one as it is with `--component`"
                .into(),
        );
    }
    use crate::ops::curation::CurationError;
    use crate::ops::installable::InstallableError;
    if let Some(CurationError::WouldBreak {
        mirror, dependents, ..
    }) = err.downcast_ref::<CurationError>()
    {
        out.push(format!(
            "reject them too (add `{}` to the command), or pass `--no-deps` to reject anyway; `debvault staged list {mirror}` shows what is staged",
            dependents.join(" ")
        ));
    }
    if let Some(InstallableError::Unmet { snapshots, .. }) = err.downcast_ref::<InstallableError>()
    {
        out.push(match &snapshots[..] {
            [one] => format!(
                "`debvault snapshot verify {one}` lists them all; pass `--allow-unmet` to publish anyway"
            ),
            _ => "pass `--allow-unmet` to publish anyway".to_owned(),
        });
    }
    if out_of_space(err) {
        out.push(
            "a write failed for want of space (or a file-size limit): free space where the data root, blob store and publish endpoint live, then run the command again; nothing of this run was committed"
                .into(),
        );
    }
    out
}

/// Whether a cause in the chain is a full disk or a file-size limit
/// (directly, or as SQLite's I/O or full-database error).
fn out_of_space(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        if let Some(e) = c.downcast_ref::<std::io::Error>() {
            // An input over its read cap is not a full disk.
            if crate::capped::is_too_large(e) {
                return false;
            }
            return matches!(
                e.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::FileTooLarge
            ) || matches!(e.raw_os_error(), Some(27 | 28));
        }
        if let Some(rusqlite::Error::SqliteFailure(e, _)) = c.downcast_ref::<rusqlite::Error>() {
            return matches!(
                e.code,
                rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure
            );
        }
        false
    })
}
