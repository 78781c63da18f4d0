//! [`Fetcher::get_small`]: conditional GET of a small document into memory.

use bytes::BytesMut;
use futures::StreamExt as _;
use reqwest::StatusCode;
use reqwest::header::{
    ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use tracing::debug;
use url::Url;

use super::{
    FetchError, Fetcher, Small, Validators, body_error, check_scheme, redact, request_error,
    status_error,
};

impl Fetcher {
    /// GETs a small document (`InRelease`, `Release`, `Release.gpg`).
    ///
    /// With `validators`, the request is conditional (`If-None-Match`,
    /// `If-Modified-Since`) and a `304` yields [`Small::NotModified`]. `404`
    /// and `410` yield [`Small::NotFound`] so the caller can fall back (from
    /// `InRelease` to `Release`). The body is capped at `max_bytes`: these
    /// files are not authenticated yet, so a hostile server must not be able
    /// to make us buffer gigabytes. Transient failures are retried like
    /// [`Fetcher::download`], always from the start.
    pub async fn get_small(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        max_bytes: u64,
    ) -> Result<Small, FetchError> {
        check_scheme(url)?;
        let shown = redact(url);
        let mut backoff = self.backoff();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let err = match self
                .get_small_once(url, &shown, validators, max_bytes)
                .await
            {
                Ok(small) => return Ok(small),
                Err(err) => err,
            };
            let Some(delay) = self.retry_delay(&mut backoff, &err) else {
                return Err(err);
            };
            tracing::info!(url = %shown, attempt, error = %err, ?delay, "fetch failed, retrying");
            tokio::time::sleep(delay).await;
        }
    }

    async fn get_small_once(
        &self,
        url: &Url,
        shown: &str,
        validators: Option<&Validators>,
        max_bytes: u64,
    ) -> Result<Small, FetchError> {
        let mut request = self.client.get(url.clone());
        if let Some(v) = validators {
            for (name, value) in [
                (IF_NONE_MATCH, v.etag.as_deref()),
                (IF_MODIFIED_SINCE, v.last_modified.as_deref()),
            ] {
                // A validator that is not a valid header value cannot have
                // come from a header; sending the request unconditionally
                // is the safe reading.
                if let Some(value) = value.and_then(|s| HeaderValue::from_str(s).ok()) {
                    request = request.header(name, value);
                }
            }
        }
        debug!(url = %shown, conditional = validators.is_some(), "GET");
        let response = request.send().await.map_err(|e| request_error(shown, e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED && validators.is_some() {
            return Ok(Small::NotModified);
        }
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(Small::NotFound);
        }
        if !status.is_success() || status == StatusCode::PARTIAL_CONTENT {
            return Err(status_error(shown, status, response.headers()));
        }
        let too_large = || FetchError::TooLarge {
            url: shown.to_owned(),
            limit: max_bytes,
        };
        let announced = response.content_length();
        if announced.is_some_and(|n| n > max_bytes) {
            return Err(too_large());
        }
        let validators = validators_of(response.headers());
        let capacity = announced.unwrap_or(0).min(max_bytes);
        let mut body = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(0));
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                body_error(
                    shown,
                    e,
                    body.len() as u64,
                    announced,
                    self.opts.read_timeout,
                )
            })?;
            if (body.len() as u64).saturating_add(chunk.len() as u64) > max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        if let Some(announced) = announced
            && (body.len() as u64) < announced
        {
            return Err(FetchError::Truncated {
                url: shown.to_owned(),
                got: body.len() as u64,
                expected: Some(announced),
                source: None,
            });
        }
        Ok(Small::Fetched {
            body: body.freeze(),
            validators,
        })
    }
}

fn validators_of(headers: &HeaderMap) -> Validators {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    Validators {
        etag: get(ETAG),
        last_modified: get(LAST_MODIFIED),
    }
}
