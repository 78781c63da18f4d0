//! [`Fetcher::content_length`]: what a file would cost, without its body.

use reqwest::StatusCode;
use reqwest::header::CONTENT_LENGTH;
use url::Url;

use super::{FetchError, Fetcher, check_scheme, redact, request_error, status_error};

impl Fetcher {
    /// The size the server announces for `url` (a `HEAD`'s
    /// `Content-Length`): `None` when it announces none or has no such
    /// file. For a dry run's estimate: nothing is verified, no retries.
    pub async fn content_length(&self, url: &Url) -> Result<Option<u64>, FetchError> {
        check_scheme(url)?;
        let shown = redact(url);
        tracing::debug!(url = %shown, "HEAD");
        let response = self
            .client
            .head(url.clone())
            .send()
            .await
            .map_err(|e| request_error(&shown, e))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(status_error(&shown, status, response.headers()));
        }
        // The header itself: for a HEAD, the body's length is always 0.
        Ok(response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok()))
    }
}
