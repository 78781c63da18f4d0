//! Reading whole files from outside with a size cap.
//!
//! Every file the operator names (the config, keyrings, signing keys, scope
//! and apt sources files, passphrase files) is read with [`read`] or
//! [`read_to_string`], so `/dev/zero` or a mistyped multi-gigabyte path ends
//! in an error naming the cap instead of exhausting memory. The cap is
//! reported as an [`io::Error`] whose inner error is [`TooLarge`], so it
//! travels through each module's existing `Read` variant (which names the
//! path); [`is_too_large`] lets that variant's exit code say it is a usage
//! error.

use std::io::{self, Read as _};
use std::path::Path;

/// Cap of a config file.
pub const CONFIG: u64 = 1 << 20;
/// Cap of a keyring or a key file.
pub const KEYRING: u64 = 16 << 20;
/// Cap of scope, filter and apt sources files.
pub const SCOPE: u64 = 16 << 20;
/// Cap of a passphrase or credentials file.
pub const SECRET: u64 = 1 << 20;

/// A file longer than the cap its reader allows.
#[derive(Debug, thiserror::Error)]
#[error("larger than the {} limit", human(*.limit))]
pub struct TooLarge {
    /// The cap, bytes.
    pub limit: u64,
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// The bytes of `path`, or an error when it holds more than `limit` (an
/// endless file included: at most `limit + 1` bytes are read).
pub fn read(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut data = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            TooLarge { limit },
        ));
    }
    Ok(data)
}

/// [`read`] as UTF-8 text.
pub fn read_to_string(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read(path, limit)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Whether `err` is [`read`]'s cap (a usage error, not a failure).
pub fn is_too_large(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<TooLarge>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_file_stops_at_the_cap() {
        let err = read(Path::new("/dev/zero"), 1024).expect_err("capped");
        assert!(is_too_large(&err));
        assert_eq!(err.to_string(), "larger than the 1024 bytes limit");
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("f");
        std::fs::write(&f, vec![b'a'; 1 << 20]).expect("write");
        assert_eq!(read(&f, CONFIG).expect("at the cap").len(), 1 << 20);
        let err = read_to_string(&f, 1000).expect_err("over");
        assert!(is_too_large(&err), "{err}");
    }
}
