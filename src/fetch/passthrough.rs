//! [`Fetcher::open_passthrough`]: a file of unknown content as a stream,
//! for `serve`'s caching proxy relaying a file no verified index names
//! (passed through, never cached).

use url::Url;

use super::{BodyStream, FetchError, Fetcher, redact};

impl Fetcher {
    /// `GET url`: the announced length and the body, once a successful
    /// response arrived. A response without `Content-Length`, or a longer
    /// one than `max_bytes`, fails (the relay announces the length before
    /// any byte); getting the response is retried as downloads are, the
    /// body is not.
    pub async fn open_passthrough(
        &self,
        url: &Url,
        max_bytes: u64,
    ) -> Result<(u64, BodyStream), FetchError> {
        let shown = redact(url);
        let response = self.get_success(url, &shown).await?;
        let Some(len) = response.content_length().filter(|n| *n <= max_bytes) else {
            return Err(FetchError::TooLarge {
                url: shown,
                limit: max_bytes,
            });
        };
        Ok((len, self.body_stream(response, shown, Some(len))))
    }
}
