//! Archive-relative paths that are safe to join onto a local directory.
//!
//! Paths come from untrusted index files (`Filename:` in Packages, file
//! lists in Release). A [`SafePath`] is relative, `/`-separated, and has no
//! `.`/`..` or empty segments, backslashes, NULs or control characters, so
//! joining it under a mirror root can never escape that root or create
//! surprising names.

use std::fmt;

use crate::exit::{ExitCode, FAILURE};

/// Longest accepted path, in bytes.
pub const MAX_PATH_LEN: usize = 4096;

/// A path that breaks one of the [`SafePath`] rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafePathError {
    /// The empty string.
    #[error("path is empty")]
    Empty,
    /// Starts with `/`.
    #[error("path {0:?} is absolute")]
    Absolute(String),
    /// Has a `.` or `..` segment.
    #[error("path {0:?} has a `.` or `..` segment")]
    DotSegment(String),
    /// Has an empty segment (`a//b`, trailing `/`).
    #[error("path {0:?} has an empty segment")]
    EmptySegment(String),
    /// Contains a NUL byte.
    #[error("path {0:?} contains a NUL byte")]
    Nul(String),
    /// Contains `\`.
    #[error("path {0:?} contains a backslash")]
    Backslash(String),
    /// Contains a control character other than NUL.
    #[error("path {0:?} contains a control character")]
    Control(String),
    /// Longer than [`MAX_PATH_LEN`] bytes.
    #[error("path `{prefix}…` is {len} bytes long, more than the limit of 4096")]
    TooLong {
        /// The first few characters, for the message.
        prefix: String,
        /// The length in bytes.
        len: usize,
    },
}

impl ExitCode for UnsafePathError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// A validated relative path such as `pool/main/c/curl/curl_7.88.1_amd64.deb`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SafePath(String);

impl SafePath {
    /// Validates `s`.
    pub fn new(s: &str) -> Result<SafePath, UnsafePathError> {
        if s.is_empty() {
            return Err(UnsafePathError::Empty);
        }
        if s.len() > MAX_PATH_LEN {
            let mut end = 64;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            return Err(UnsafePathError::TooLong {
                prefix: s[..end].escape_debug().to_string(),
                len: s.len(),
            });
        }
        // Character rules first, so the message names the most specific one.
        for b in s.bytes() {
            match b {
                0 => return Err(UnsafePathError::Nul(s.to_owned())),
                b'\\' => return Err(UnsafePathError::Backslash(s.to_owned())),
                c if c.is_ascii_control() => return Err(UnsafePathError::Control(s.to_owned())),
                _ => {}
            }
        }
        if s.starts_with('/') {
            return Err(UnsafePathError::Absolute(s.to_owned()));
        }
        for seg in s.split('/') {
            match seg {
                "" => return Err(UnsafePathError::EmptySegment(s.to_owned())),
                "." | ".." => return Err(UnsafePathError::DotSegment(s.to_owned())),
                _ => {}
            }
        }
        Ok(SafePath(s.to_owned()))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment (never empty).
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// Gives back the inner string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for SafePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SafePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SafePath {
    type Err = UnsafePathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SafePath::new(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_normal_paths() {
        for ok in [
            "a",
            "main/binary-amd64/Packages.xz",
            "pool/main/c/curl/curl_7.88.1-10+deb12u8_amd64.deb",
            "..foo/bar..",
            ".hidden/x",
            "by-hash/SHA256/abc",
        ] {
            let p = SafePath::new(ok).unwrap();
            assert_eq!(p.as_str(), ok);
            assert_eq!(p.to_string(), ok);
        }
        assert_eq!(
            SafePath::new("pool/main/c/curl/curl.deb")
                .unwrap()
                .file_name(),
            "curl.deb"
        );
        assert_eq!(SafePath::new("x").unwrap().file_name(), "x");
    }

    fn kind(e: &UnsafePathError) -> &'static str {
        match e {
            UnsafePathError::Empty => "empty",
            UnsafePathError::Absolute(_) => "absolute",
            UnsafePathError::DotSegment(_) => "dot",
            UnsafePathError::EmptySegment(_) => "empty segment",
            UnsafePathError::Nul(_) => "nul",
            UnsafePathError::Backslash(_) => "backslash",
            UnsafePathError::Control(_) => "control",
            UnsafePathError::TooLong { .. } => "too long",
        }
    }

    #[test]
    fn rejects_unsafe_paths() {
        let long = "a/".repeat(2100) + "b";
        let cases = [
            ("", "empty"),
            ("/etc/passwd", "absolute"),
            ("../x", "dot"),
            ("a/../x", "dot"),
            ("a/./x", "dot"),
            (".", "dot"),
            ("a/..", "dot"),
            ("a//b", "empty segment"),
            ("a/b/", "empty segment"),
            ("a\0b", "nul"),
            ("a\\b", "backslash"),
            ("a\nb", "control"),
            ("a\rb\t", "control"),
            (&long, "too long"),
        ];
        for (s, want) in cases {
            let e = SafePath::new(s).unwrap_err();
            assert_eq!(kind(&e), want, "{s:?}: {e}");
        }
        assert_eq!(
            SafePath::new("a\nb").unwrap_err().to_string(),
            "path \"a\\nb\" contains a control character"
        );
        assert_eq!(
            SafePath::new("a/../b").unwrap_err().to_string(),
            "path \"a/../b\" has a `.` or `..` segment"
        );
    }
}
