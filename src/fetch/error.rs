//! [`FetchError`]: everything that can go wrong talking to an upstream
//! archive or unpacking what it served.
//!
//! Every message names the resource (the URL with credentials removed, see
//! [`super::redact`], or the local path) and what was expected, so a log line
//! alone tells the operator which file failed and why. Low-level causes are
//! kept as [`std::error::Error::source`] rather than pasted into the message.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;

use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE, USAGE, VERIFICATION};

/// A failed fetch, or a failed attempt inside a retried fetch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The HTTP client could not be built from the options.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),

    /// A URL could not be built (a pool path that does not join onto the base).
    #[error("`{0}`: invalid URL")]
    InvalidUrl(String),

    /// Only `http` and `https` URLs can be fetched.
    #[error("`{url}`: unsupported URL scheme (expected http or https)")]
    UnsupportedScheme { url: String },

    /// The request could not even be formed (bad header value and the like).
    #[error("`{url}`: invalid request")]
    InvalidRequest {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    /// No TCP/TLS connection could be established.
    #[error("`{url}`: cannot connect")]
    Connect {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    /// The server did not answer (connect or response headers) in time.
    #[error("`{url}`: timed out waiting for the server")]
    Timeout {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    /// The connection failed before a response arrived.
    #[error("`{url}`: request failed")]
    Request {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    /// Following redirects failed: too many, a loop, or a non-HTTP target.
    /// (`reason` is the innermost cause, so there is no separate source.)
    #[error("`{url}`: {reason}")]
    Redirect { url: String, reason: String },

    /// An unexpected HTTP status.
    #[error("`{url}`: HTTP {status}")]
    Status {
        url: String,
        status: StatusCode,
        /// The server's `Retry-After`, if it sent a usable one.
        retry_after: Option<Duration>,
    },

    /// The body stopped arriving for longer than the read timeout.
    #[error("`{url}`: no data for {timeout:?} after {got} bytes (stalled)")]
    Stalled {
        url: String,
        got: u64,
        timeout: Duration,
        #[source]
        source: reqwest::Error,
    },

    /// The body ended (or the connection dropped) before all bytes arrived.
    #[error("`{url}`: body ended after {got}{} bytes (truncated)", of_total(*.expected))]
    Truncated {
        url: String,
        got: u64,
        expected: Option<u64>,
        #[source]
        source: Option<reqwest::Error>,
    },

    /// A pipelined connection failed or went silent mid-answer (see
    /// [`super::Pipeline`]); the request is then retried the ordinary way.
    #[error("`{url}`: connection failed after {got} bytes")]
    Pipelined {
        url: String,
        got: u64,
        #[source]
        source: std::io::Error,
    },

    /// The server announced a size other than the one the index promised.
    #[error("`{url}`: server announces {announced} bytes, expected {expected}")]
    SizeMismatch {
        url: String,
        expected: u64,
        announced: u64,
    },

    /// The body kept going past the expected size; reading stopped there.
    #[error("`{url}`: body is longer than the expected {expected} bytes")]
    TooLong { url: String, expected: u64 },

    /// A small document exceeded its cap.
    #[error("`{url}`: body exceeds the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },

    /// A complete body whose digest is not the one the index promised.
    #[error("`{url}`: SHA256 mismatch: expected `{expected}`, got `{actual}`")]
    HashMismatch {
        url: String,
        expected: Sha256,
        actual: Sha256,
    },

    /// A `206 Partial Content` answer that does not continue where we stopped.
    #[error(
        "`{url}`: partial response does not resume at byte {offset} (Content-Range `{content_range}`)"
    )]
    BadRange {
        url: String,
        offset: u64,
        content_range: String,
    },

    /// Writing the downloaded bytes to disk failed.
    #[error("`{url}`: cannot write `{}`", path.display())]
    Write {
        url: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A local (possibly compressed) file could not be opened for reading.
    #[error("`{}`: cannot open for decompression", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The xz decoder could not be set up.
    #[error("`{}`: cannot start the xz decoder", path.display())]
    XzInit {
        path: PathBuf,
        #[source]
        source: liblzma::stream::Error,
    },
}

impl ExitCode for FetchError {
    fn exit_code(&self) -> u8 {
        match self {
            _ if self.is_integrity() => VERIFICATION,
            FetchError::InvalidUrl { .. } | FetchError::UnsupportedScheme { .. } => USAGE,
            _ => FAILURE,
        }
    }
}

fn of_total(expected: Option<u64>) -> String {
    expected.map(|n| format!(" of {n}")).unwrap_or_default()
}

impl FetchError {
    /// Whether trying the same request again may succeed: connection
    /// failures, timeouts and stalls, truncated bodies, 5xx, 408 and 429.
    /// Other 4xx, size and digest disagreements and local I/O errors are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect { .. }
            | Self::Timeout { .. }
            | Self::Request { .. }
            | Self::Stalled { .. }
            | Self::Pipelined { .. }
            | Self::Truncated { .. }
            | Self::BadRange { .. } => true,
            Self::Status { status, .. } => {
                status.is_server_error()
                    || *status == StatusCode::REQUEST_TIMEOUT
                    || *status == StatusCode::TOO_MANY_REQUESTS
            }
            _ => false,
        }
    }

    /// Whether the upstream delivered bytes other than the Release promised
    /// (a verification failure, exit code 3) rather than failing to deliver.
    pub fn is_integrity(&self) -> bool {
        matches!(
            self,
            Self::HashMismatch { .. } | Self::SizeMismatch { .. } | Self::TooLong { .. }
        )
    }

    /// Whether the server answered 404 Not Found or 410 Gone.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status { status, .. } if *status == StatusCode::NOT_FOUND || *status == StatusCode::GONE)
    }

    /// The delay the server asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
