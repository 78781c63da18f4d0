//! [`Fetcher::download`]: stream a file to disk, verifying while it arrives,
//! resuming broken transfers with `Range`.

use std::io::SeekFrom;
use std::path::Path;

use futures::StreamExt as _;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, ETAG, HeaderValue, IF_RANGE, LAST_MODIFIED, RANGE};
use tokio::fs::File;
use tokio::io::{AsyncSeekExt as _, AsyncWriteExt as _, BufWriter};
use tracing::debug;
use url::Url;

use super::{
    Downloaded, Expected, FetchError, Fetcher, body_error, check_scheme, redact, request_error,
    status_error,
};
use crate::digest::Hasher;

/// Write buffer: large enough that the blocking-pool round trip of each
/// `tokio::fs` write is amortised over many network chunks.
const WRITE_BUFFER: usize = 256 * 1024;

/// Files up to this size are gathered in memory and written with one
/// blocking call: a 60,000-file sync otherwise spends much of its time handing
/// each small file's open, write and flush to tokio's blocking pool.
const IN_MEMORY_MAX: u64 = 1 << 20;

/// Where the bytes go: straight to the file, or (small files) memory first.
enum Out {
    File(BufWriter<File>),
    Memory(Vec<u8>),
}

/// What a first attempt made outside [`Fetcher::download`] received: the
/// body so far, its running digest and the `If-Range` validator of the
/// response it came from.
pub(super) struct Partial {
    pub(super) body: Vec<u8>,
    pub(super) hasher: Hasher,
    pub(super) if_range: Option<HeaderValue>,
}

/// The destination and the digest of what it holds so far. Survives across
/// attempts so a retry can continue where the last one stopped.
struct Sink {
    out: Out,
    /// Where a memory-gathered file is written at the end; `None` keeps it in memory.
    dest: Option<std::path::PathBuf>,
    hasher: Hasher,
    /// `If-Range` validator of the response the bytes so far came from, so a
    /// resumed request cannot splice two versions of a file together.
    if_range: Option<HeaderValue>,
}

impl Sink {
    async fn new(dest: Option<&Path>, expected_size: Option<u64>) -> std::io::Result<Sink> {
        let out = match (dest, expected_size) {
            (Some(dest), size) if size.is_none_or(|s| s > IN_MEMORY_MAX) => Out::File(
                BufWriter::with_capacity(WRITE_BUFFER, File::create(dest).await?),
            ),
            (_, size) => Out::Memory(Vec::with_capacity(
                size.unwrap_or(0).min(IN_MEMORY_MAX) as usize
            )),
        };
        Ok(Sink {
            out,
            dest: dest.map(Path::to_owned),
            hasher: Hasher::new(),
            if_range: None,
        })
    }

    /// The body gathered in memory (a sink without a destination file).
    fn into_memory(self, url: &Url) -> Result<Vec<u8>, FetchError> {
        match self.out {
            Out::Memory(buf) => Ok(buf),
            Out::File(_) => Err(FetchError::InvalidUrl(redact(url))),
        }
    }

    fn written(&self) -> u64 {
        self.hasher.len()
    }

    async fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        match &mut self.out {
            Out::File(f) => f.write_all(data).await?,
            Out::Memory(buf) => buf.extend_from_slice(data),
        }
        self.hasher.update(data);
        Ok(())
    }

    /// Empties the destination and the hasher to start over.
    async fn reset(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            Out::File(f) => {
                f.flush().await?;
                f.get_mut().set_len(0).await?;
                f.seek(SeekFrom::Start(0)).await?;
            }
            Out::Memory(buf) => buf.clear(),
        }
        self.hasher = Hasher::new();
        self.if_range = None;
        Ok(())
    }

    /// Puts the bytes in the file. No fsync: the blob store makes a whole
    /// batch durable with one `syncfs` before the database commit, which is
    /// far cheaper than one fsync per small pool file.
    async fn finish(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            Out::File(f) => f.flush().await,
            Out::Memory(buf) => match &self.dest {
                // A small file: one short blocking write beats a blocking-pool
                // round trip (two thread wake-ups) per file.
                Some(dest) => std::fs::write(dest, std::mem::take(buf)),
                None => Ok(()),
            },
        }
    }
}

impl Fetcher {
    /// Streams `url` into the file at `dest` (created or truncated), checking
    /// size and SHA-256 on the way (durability is the caller's: see the blob store).
    ///
    /// Transient failures are retried with exponential backoff, up to
    /// [`FetchOptions::retries`](super::FetchOptions::retries) times. After a
    /// partial body the retry asks for the rest with `Range: bytes=N-` (and
    /// `If-Range`) and keeps hashing; a `200` answer means the server ignored
    /// the range, so the file and hash start over. A body longer than
    /// `expected.size` is cut off at the first excess byte and fails, as does
    /// a server announcing a different size. A complete body with the wrong
    /// digest is fetched once more from scratch (it may have been spliced from
    /// two versions during a mirror update) before
    /// [`FetchError::HashMismatch`] is returned. Any other 4xx than 408/429
    /// fails at once.
    ///
    /// On error the contents of `dest` are unspecified; the caller owns the
    /// path and should download into a temporary name.
    pub async fn download(
        &self,
        url: &Url,
        expected: &Expected,
        dest: &Path,
    ) -> Result<Downloaded, FetchError> {
        Ok(self.run(url, expected, Some(dest)).await?.0)
    }

    /// Like [`Fetcher::download`], but keeps the verified body in memory: for
    /// files of known, small size (a blob store can then write it in one step).
    pub async fn download_bytes(
        &self,
        url: &Url,
        expected: &Expected,
    ) -> Result<(Vec<u8>, Downloaded), FetchError> {
        let (downloaded, sink) = self.run(url, expected, None).await?;
        Ok((sink.into_memory(url)?, downloaded))
    }

    async fn run(
        &self,
        url: &Url,
        expected: &Expected,
        dest: Option<&Path>,
    ) -> Result<(Downloaded, Sink), FetchError> {
        check_scheme(url)?;
        let write_error = |source| FetchError::Write {
            url: redact(url),
            path: dest.unwrap_or(Path::new("(memory)")).to_owned(),
            source,
        };
        let sink = Sink::new(dest, expected.size).await.map_err(write_error)?;
        self.drive(url, expected, sink, None).await
    }

    /// Finishes a download of a small file whose first attempt was made on a
    /// pipelined connection ([`super::Pipeline`]): `partial` holds what it
    /// received and `first` how it ended. The retry loop then goes on exactly
    /// as if that attempt had been its own, so retries, resumes with `Range`,
    /// the one refetch after a digest mismatch and the final error are the
    /// same whichever way the first request went.
    pub(super) async fn continue_bytes(
        &self,
        url: &Url,
        expected: &Expected,
        partial: Partial,
        first: Result<(), FetchError>,
    ) -> Result<(Vec<u8>, Downloaded), FetchError> {
        let sink = Sink {
            out: Out::Memory(partial.body),
            dest: None,
            hasher: partial.hasher,
            if_range: partial.if_range,
        };
        let (downloaded, sink) = self.drive(url, expected, sink, Some(first)).await?;
        Ok((sink.into_memory(url)?, downloaded))
    }

    /// The retry loop around [`Self::download_once`]; `first` is the outcome
    /// of an attempt already made elsewhere, counted as the first.
    async fn drive(
        &self,
        url: &Url,
        expected: &Expected,
        mut sink: Sink,
        mut first: Option<Result<(), FetchError>>,
    ) -> Result<(Downloaded, Sink), FetchError> {
        let shown = redact(url);
        let dest_shown = sink
            .dest
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from("(memory)"));
        let write_error = |source| FetchError::Write {
            url: shown.clone(),
            path: dest_shown.clone(),
            source,
        };
        let mut backoff = self.backoff();
        let mut attempts = 0u32;
        let mut refetched_after_mismatch = false;
        loop {
            attempts += 1;
            let outcome = match first.take() {
                Some(outcome) => outcome,
                None => {
                    self.download_once(url, &shown, expected, &dest_shown, &mut sink)
                        .await
                }
            };
            let err = match outcome {
                Ok(()) => {
                    let (sha256, size) = sink.hasher.clone().finish();
                    match expected.sha256 {
                        Some(want) if want != sha256 => {
                            let err = FetchError::HashMismatch {
                                url: shown.clone(),
                                expected: want,
                                actual: sha256,
                            };
                            if refetched_after_mismatch {
                                return Err(err);
                            }
                            refetched_after_mismatch = true;
                            tracing::info!(url = %shown, error = %err, "refetching from scratch");
                            sink.reset().await.map_err(write_error)?;
                            tokio::time::sleep(self.opts.min_backoff).await;
                            continue;
                        }
                        _ => {}
                    }
                    sink.finish().await.map_err(write_error)?;
                    debug!(url = %shown, size, attempts, "downloaded");
                    let downloaded = Downloaded {
                        sha256,
                        size,
                        attempts,
                    };
                    return Ok((downloaded, sink));
                }
                Err(err) => err,
            };
            let Some(delay) = self.retry_delay(&mut backoff, &err) else {
                return Err(err);
            };
            tracing::info!(
                url = %shown,
                attempt = attempts,
                have = sink.written(),
                error = %err,
                ?delay,
                "download failed, retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One request: continue the file in `sink` from where it stands.
    async fn download_once(
        &self,
        url: &Url,
        shown: &str,
        expected: &Expected,
        dest: &Path,
        sink: &mut Sink,
    ) -> Result<(), FetchError> {
        let write_error = |source| FetchError::Write {
            url: shown.to_owned(),
            path: dest.to_owned(),
            source,
        };
        let offset = sink.written();
        let mut request = self.client.get(url.clone());
        if offset > 0 {
            request = request.header(RANGE, format!("bytes={offset}-"));
            if let Some(validator) = &sink.if_range {
                request = request.header(IF_RANGE, validator.clone());
            }
        }
        debug!(url = %shown, offset, "GET");
        let response = request.send().await.map_err(|e| request_error(shown, e))?;
        let status = response.status();
        let headers = response.headers();

        let total = if offset > 0 && status == StatusCode::PARTIAL_CONTENT {
            let content_range = headers
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            match parse_content_range(content_range) {
                Some((start, total)) if start == offset => {
                    if let (Some(want), Some(announced)) = (expected.size, total)
                        && want != announced
                    {
                        return Err(FetchError::SizeMismatch {
                            url: shown.to_owned(),
                            expected: want,
                            announced,
                        });
                    }
                    debug!(url = %shown, offset, "resuming");
                    expected.size.or(total)
                }
                _ => {
                    let content_range = content_range.to_owned();
                    sink.reset().await.map_err(write_error)?;
                    return Err(FetchError::BadRange {
                        url: shown.to_owned(),
                        offset,
                        content_range,
                    });
                }
            }
        } else if offset > 0 && status == StatusCode::RANGE_NOT_SATISFIABLE {
            let content_range = headers
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .to_owned();
            sink.reset().await.map_err(write_error)?;
            return Err(FetchError::BadRange {
                url: shown.to_owned(),
                offset,
                content_range,
            });
        } else if status.is_success() && status != StatusCode::PARTIAL_CONTENT {
            if offset > 0 {
                debug!(url = %shown, offset, %status, "server ignored Range, starting over");
                sink.reset().await.map_err(write_error)?;
            }
            let announced = response.content_length();
            if let (Some(want), Some(announced)) = (expected.size, announced)
                && want != announced
            {
                return Err(FetchError::SizeMismatch {
                    url: shown.to_owned(),
                    expected: want,
                    announced,
                });
            }
            if let (None, Some(max), Some(announced)) =
                (expected.size, expected.max_size, announced)
                && announced > max
            {
                return Err(FetchError::TooLong {
                    url: shown.to_owned(),
                    expected: max,
                });
            }
            sink.if_range = if_range_validator(headers);
            expected.size.or(announced)
        } else {
            return Err(status_error(shown, status, headers));
        };

        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk
                .map_err(|e| body_error(shown, e, sink.written(), total, self.opts.read_timeout))?;
            if let Some(limit) = expected.size.or(expected.max_size)
                && sink.written().saturating_add(chunk.len() as u64) > limit
            {
                return Err(FetchError::TooLong {
                    url: shown.to_owned(),
                    expected: limit,
                });
            }
            sink.write(&chunk).await.map_err(write_error)?;
        }
        match total {
            Some(total) if sink.written() < total => Err(FetchError::Truncated {
                url: shown.to_owned(),
                got: sink.written(),
                expected: Some(total),
                source: None,
            }),
            _ => Ok(()),
        }
    }
}

/// A validator safe for `If-Range`: a strong `ETag`, else `Last-Modified`.
pub(super) fn if_range_validator(headers: &reqwest::header::HeaderMap) -> Option<HeaderValue> {
    let strong_etag = headers
        .get(ETAG)
        .filter(|v| !v.as_bytes().starts_with(b"W/"));
    strong_etag.or_else(|| headers.get(LAST_MODIFIED)).cloned()
}

/// `bytes START-END/TOTAL` (TOTAL may be `*`) → (START, TOTAL).
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        n => Some(n.parse().ok()?),
    };
    Some((start, total))
}

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 100-199/200"),
            Some((100, Some(200)))
        );
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("bytes */200"), None);
        assert_eq!(parse_content_range("items 1-2/3"), None);
    }
}
