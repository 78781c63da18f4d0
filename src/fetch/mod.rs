//! Talking to upstream archives over HTTP(S).
//!
//! A [`Fetcher`] owns one `reqwest` client (connection pool, HTTP/2 when the
//! server offers it over TLS) and knows two ways of getting a file:
//!
//! - [`Fetcher::get_small`] for the few small, mutable documents at the top of
//!   a suite (`InRelease`, `Release`, `Release.gpg`): conditional requests
//!   with remembered validators, a hard size cap because their content is not
//!   yet authenticated, and `404`/`410` reported as a value because callers
//!   fall back from `InRelease` to `Release`.
//! - [`Fetcher::download`] for everything named by an index (package files,
//!   `Packages.xz`, …): streamed to disk while the size and SHA-256 are checked,
//!   so nothing is held in memory and nothing is read twice.
//!
//! Upstream mirrors are flaky in every imaginable way, so both retry transient
//! failures (connection errors, timeouts and stalls, truncated bodies, 5xx,
//! 408, 429 with its `Retry-After`) with exponential backoff. A download that
//! broke off mid-body resumes with `Range` instead of starting over; a server
//! that ignores `Range` is detected and the download restarts cleanly.
//!
//! # Timeouts
//!
//! There is deliberately no total timeout: a 200 MB package on a slow link is
//! fine as long as bytes keep coming. `connect_timeout` bounds the TCP/TLS
//! handshake and `read_timeout` bounds every wait for data (response headers
//! and each body read), which is what detects a stalled server.
//!
//! # Redirects
//!
//! Archives routinely redirect to CDNs and mirror networks, so redirects are
//! followed to any `http` or `https` host, at most
//! [`FetchOptions::max_redirects`] hops. Integrity never rests on the transport
//! (indices are signed, files are hashed), so a redirect from `https` to
//! `http` is followed too. A chain that revisits a URL fails as a redirect
//! loop; a longer chain fails as too many redirects; a redirect to any other
//! scheme fails at once. `reqwest` drops `Authorization` and cookies when a
//! redirect leaves the original host.
//!
//! # Credentials
//!
//! Mirror URLs may carry `user:password@`. Every message and log line shows
//! URLs through [`redact`] (the password masked, see [`crate::redact`]),
//! and the `reqwest` errors kept as sources have their URL stripped.

mod auth;
mod decompress;
mod download;
mod error;
mod head;
mod pace;
mod passthrough;
mod pipeline;
mod size;
mod small;
mod stream;

use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBackoff, ExponentialBuilder};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::redirect;
use url::Url;

pub use crate::redact::url as redact;
pub use auth::{AuthError, AuthFile};
pub use decompress::{Compression, open_decompressed};
pub use error::FetchError;
pub use pace::Pace;
pub use pipeline::{DEFAULT_PIPELINE_DEPTH, Fetched, Item, Pipeline};
pub use stream::BodyStream;

use crate::digest::Sha256;

/// Tunables for a [`Fetcher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// Bound on establishing a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Longest wait for response headers or for the next body bytes; a
    /// server silent for this long counts as stalled.
    pub read_timeout: Duration,
    /// Retries after the first attempt for transient failures.
    pub retries: u32,
    /// First backoff delay; it doubles (with jitter) on each retry.
    pub min_backoff: Duration,
    /// Cap on any single backoff delay, including one asked for by
    /// `Retry-After`.
    pub max_backoff: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Redirect hops followed before giving up.
    pub max_redirects: usize,
    /// Requests a [`Pipeline`] keeps in flight per connection; 1 or less
    /// turns pipelining off.
    pub pipeline_depth: usize,
    /// Credentials for URLs that carry none ([`Fetcher::authorize`]).
    pub auth: AuthFile,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            retries: 4,
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            user_agent: concat!("debvault/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_redirects: 5,
            pipeline_depth: DEFAULT_PIPELINE_DEPTH,
            auth: AuthFile::default(),
        }
    }
}

/// An HTTP client for upstream archives. Cheap to clone: clones share one
/// connection pool.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    opts: std::sync::Arc<FetchOptions>,
}

/// Validators remembered from a previous response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` header, verbatim (quotes and `W/` included).
    pub etag: Option<String>,
    /// The `Last-Modified` header, verbatim.
    pub last_modified: Option<String>,
}

/// The outcome of [`Fetcher::get_small`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Small {
    /// The server confirmed the remembered validators still hold (`304`).
    NotModified,
    /// A fresh copy, with the validators to remember for next time.
    Fetched {
        body: bytes::Bytes,
        validators: Validators,
    },
    /// `404 Not Found` or `410 Gone`.
    NotFound,
}

/// What an index promises about a file. `None` means unknown: the value is
/// then only measured and reported in [`Downloaded`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expected {
    pub size: Option<u64>,
    pub sha256: Option<Sha256>,
    /// Where `size` is unknown, the most bytes accepted (a file no index
    /// sizes, such as an installer image, must not fill the disk before
    /// its hash is checked).
    pub max_size: Option<u64>,
}

/// A completed, verified download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Downloaded {
    /// Digest of the bytes now in the file.
    pub sha256: Sha256,
    /// Length of the file.
    pub size: u64,
    /// HTTP requests made, 1 when nothing went wrong.
    pub attempts: u32,
}

impl Fetcher {
    /// Builds the shared client.
    pub fn new(opts: FetchOptions) -> Result<Fetcher, FetchError> {
        let max_redirects = opts.max_redirects;
        let policy = redirect::Policy::custom(move |attempt| {
            let next = attempt.url();
            if !matches!(next.scheme(), "http" | "https") {
                let reason = format!("redirect to unsupported URL `{}`", redact(next));
                attempt.error(reason)
            } else if attempt.previous().contains(next) {
                let reason = format!("redirect loop through `{}`", redact(next));
                attempt.error(reason)
            } else if attempt.previous().len() > max_redirects {
                // `previous` starts with the original URL, so it holds one
                // entry per hop already followed plus one.
                attempt.error(format!("too many redirects (more than {max_redirects})"))
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .connect_timeout(opts.connect_timeout)
            .read_timeout(opts.read_timeout)
            .redirect(policy)
            .build()
            .map_err(FetchError::Client)?;
        Ok(Fetcher {
            client,
            opts: std::sync::Arc::new(opts),
        })
    }

    /// `url` with the auth file's credentials for it, if it has none of
    /// its own: apply to a mirror's base URLs before fetching below them.
    pub fn authorize(&self, url: Url) -> Url {
        self.opts.auth.authorize(url)
    }

    /// The options this fetcher was built with.
    pub fn options(&self) -> &FetchOptions {
        &self.opts
    }

    fn backoff(&self) -> ExponentialBackoff {
        ExponentialBuilder::default()
            .with_min_delay(self.opts.min_backoff)
            .with_max_delay(self.opts.max_backoff)
            .with_max_times(usize::try_from(self.opts.retries).unwrap_or(usize::MAX))
            .with_jitter()
            .build()
    }

    /// How long to wait before retrying after `err`, or `None` to give up:
    /// the error is permanent or the retries are spent.
    fn retry_delay(&self, backoff: &mut ExponentialBackoff, err: &FetchError) -> Option<Duration> {
        if !err.is_transient() {
            return None;
        }
        let max = self.opts.max_backoff;
        let delay = backoff.next()?.min(max);
        Some(match err.retry_after() {
            Some(asked) => delay.max(asked.min(max)),
            None => delay,
        })
    }
}

fn check_scheme(url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        _ => Err(FetchError::UnsupportedScheme { url: redact(url) }),
    }
}

/// Maps an error from sending a request (before any response) to ours.
fn request_error(url: &str, err: reqwest::Error) -> FetchError {
    let source = err.without_url();
    let url = url.to_owned();
    if source.is_builder() {
        FetchError::InvalidRequest { url, source }
    } else if source.is_redirect() {
        // The policy's own message is the innermost cause.
        let mut reason = String::from("redirect failed");
        let mut cause = std::error::Error::source(&source);
        while let Some(c) = cause {
            reason = c.to_string();
            cause = c.source();
        }
        FetchError::Redirect { url, reason }
    } else if source.is_timeout() {
        FetchError::Timeout { url, source }
    } else if source.is_connect() {
        FetchError::Connect { url, source }
    } else {
        FetchError::Request { url, source }
    }
}

/// Maps an error while reading a body, after `got` bytes, to ours.
fn body_error(
    url: &str,
    err: reqwest::Error,
    got: u64,
    expected: Option<u64>,
    timeout: Duration,
) -> FetchError {
    let source = err.without_url();
    let url = url.to_owned();
    if source.is_timeout() {
        FetchError::Stalled {
            url,
            got,
            timeout,
            source,
        }
    } else {
        FetchError::Truncated {
            url,
            got,
            expected,
            source: Some(source),
        }
    }
}

/// The error for an unwanted status, with any `Retry-After` it carried.
fn status_error(url: &str, status: reqwest::StatusCode, headers: &HeaderMap) -> FetchError {
    FetchError::Status {
        url: url.to_owned(),
        status,
        retry_after: headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after),
    }
}

/// `Retry-After` is either delta-seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_masks_the_password() {
        let url = Url::parse("https://user:secret@deb.example.org/debian/").expect("valid URL");
        assert_eq!(redact(&url), "https://user:***@deb.example.org/debian/");
        let plain = Url::parse("http://deb.example.org/x").expect("valid URL");
        assert_eq!(redact(&plain), "http://deb.example.org/x");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
