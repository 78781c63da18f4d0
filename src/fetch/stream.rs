//! [`Fetcher::open_stream`]: one file's body as a stream, for a caller that
//! relays it while it arrives (`serve` answering a pool file on demand).
//!
//! Unlike [`Fetcher::download`], nothing is retried once the body has
//! started: a client is reading along, and bytes already relayed cannot be
//! taken back. Getting the response is retried as downloads are (connection
//! refused, timeouts, 5xx, 408, 429). The caller checks the size and
//! digest as the bytes pass; an announced length other than the expected
//! size fails here, before any byte.

use bytes::Bytes;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use url::Url;

use super::{FetchError, Fetcher, body_error, check_scheme, redact, request_error, status_error};

/// A body being received; each item is the next chunk or why it stopped.
pub type BodyStream = BoxStream<'static, Result<Bytes, FetchError>>;

impl Fetcher {
    /// `GET url` for a file of `size` bytes: the response's body, once a
    /// successful response with no other announced length arrived.
    pub async fn open_stream(&self, url: &Url, size: u64) -> Result<BodyStream, FetchError> {
        let shown = redact(url);
        let response = self.get_success(url, &shown).await?;
        if let Some(announced) = response.content_length()
            && announced != size
        {
            return Err(FetchError::SizeMismatch {
                url: shown,
                expected: size,
                announced,
            });
        }
        Ok(self.body_stream(response, shown, Some(size)))
    }

    /// `GET url` until a successful response, retrying the request as
    /// downloads do (never a body once it started).
    pub(super) async fn get_success(
        &self,
        url: &Url,
        shown: &str,
    ) -> Result<reqwest::Response, FetchError> {
        check_scheme(url)?;
        let mut backoff = self.backoff();
        loop {
            let err = match self.client.get(url.clone()).send().await {
                Err(e) => request_error(shown, e),
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => status_error(shown, response.status(), response.headers()),
            };
            let Some(delay) = self.retry_delay(&mut backoff, &err) else {
                return Err(err);
            };
            tracing::info!(url = %shown, error = %err, ?delay, "request failed, retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// The body of `response` as a stream of chunks, its errors ours.
    pub(super) fn body_stream(
        &self,
        response: reqwest::Response,
        shown: String,
        expected: Option<u64>,
    ) -> BodyStream {
        let timeout = self.opts.read_timeout;
        let mut got = 0u64;
        response
            .bytes_stream()
            .map(move |chunk| {
                chunk
                    .inspect(|c| got += c.len() as u64)
                    .map_err(|e| body_error(&shown, e, got, expected, timeout))
            })
            .boxed()
    }
}
