//! The head of an HTTP/1.x response, as the pipelined fast path reads it
//! off the socket (httparse; the ordinary path leaves this to reqwest).

use reqwest::header::{ETAG, HeaderMap, HeaderValue, LAST_MODIFIED, RETRY_AFTER};

/// What a response's head said, as far as the fast path cares.
pub(super) struct Head {
    pub status: u16,
    pub content_length: Option<u64>,
    /// Any `Transfer-Encoding`: framing the fast path does not read.
    pub encoded: bool,
    /// The server closes after this response (`Connection: close`, HTTP/1.0).
    pub close: bool,
    /// The headers errors and resumes need: `ETag`, `Last-Modified`, `Retry-After`.
    pub kept: HeaderMap,
}

/// Parses a response head at the start of `data`: the head and the bytes
/// it took, `None` while incomplete, an error for what is not HTTP/1.x with
/// a readable framing.
pub(super) fn parse_head(data: &[u8]) -> Result<Option<(Head, usize)>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let used = match response.parse(data) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(()),
    };
    let status = response.code.ok_or(())?;
    let mut head = Head {
        status,
        content_length: None,
        encoded: false,
        close: response.version != Some(1),
        kept: HeaderMap::new(),
    };
    for header in response.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(header.value).map_err(|_| ())?;
            let n: u64 = value.trim().parse().map_err(|_| ())?;
            if head.content_length.is_some_and(|m| m != n) {
                return Err(());
            }
            head.content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.encoded = true;
        } else if name.eq_ignore_ascii_case("connection") {
            let value = String::from_utf8_lossy(header.value);
            if value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
            {
                head.close = true;
            }
        } else {
            let kept = [ETAG, LAST_MODIFIED, RETRY_AFTER]
                .into_iter()
                .find(|k| name.eq_ignore_ascii_case(k.as_str()));
            if let (Some(key), Ok(value)) = (kept, HeaderValue::from_bytes(header.value)) {
                head.kept.insert(key, value);
            }
        }
    }
    Ok(Some((head, used)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let data: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"x\"\r\nConnection: keep-alive, close\r\n\r\nhello";
        let (head, used) = parse_head(data).expect("valid").expect("complete");
        assert_eq!(
            (head.status, head.content_length, head.close),
            (200, Some(5), true)
        );
        assert_eq!(&data[used..], b"hello");
        assert!(head.kept.contains_key(ETAG));
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Le")
                .expect("valid")
                .is_none()
        );
        let (head, _) = parse_head(b"HTTP/1.0 404 Not Found\r\n\r\n")
            .expect("valid")
            .expect("complete");
        assert_eq!((head.status, head.close), (404, true));
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .is_err()
        );
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }
}
