//! [`Fetcher::open_passthrough`]: a file of unknown content as a stream,
//! for `serve`'s caching proxy relaying a file no verified index names
//! (passed through, never cached).

use futures::StreamExt as _;
use url::Url;

use super::{
    BodyStream, FetchError, Fetcher, body_error, check_scheme, redact, request_error, status_error,
};

impl Fetcher {
    /// `GET url`: the announced length and the body, once a successful
    /// response arrived. A response without `Content-Length` fails (the
    /// relay announces the length before any byte); getting the response
    /// is retried as downloads are, the body is not.
    pub async fn open_passthrough(
        &self,
        url: &Url,
        max_bytes: u64,
    ) -> Result<(u64, BodyStream), FetchError> {
        check_scheme(url)?;
        let shown = redact(url);
        let mut backoff = self.backoff();
        loop {
            let err = match self.client.get(url.clone()).send().await {
                Err(e) => request_error(&shown, e),
                Ok(response) if response.status() == reqwest::StatusCode::OK => {
                    let Some(len) = response.content_length().filter(|n| *n <= max_bytes) else {
                        return Err(FetchError::TooLarge {
                            url: shown,
                            limit: max_bytes,
                        });
                    };
                    let timeout = self.opts.read_timeout;
                    let mut got = 0u64;
                    let body = response.bytes_stream().map(move |chunk| {
                        chunk
                            .inspect(|c| got += c.len() as u64)
                            .map_err(|e| body_error(&shown, e, got, Some(len), timeout))
                    });
                    return Ok((len, body.boxed()));
                }
                Ok(response) => status_error(&shown, response.status(), response.headers()),
            };
            let Some(delay) = self.retry_delay(&mut backoff, &err) else {
                return Err(err);
            };
            tracing::info!(url = %shown, error = %err, ?delay, "request failed, retrying");
            tokio::time::sleep(delay).await;
        }
    }
}
