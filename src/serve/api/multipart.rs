//! A small streaming `multipart/form-data` parser (RFC 7578) for uploads.
//!
//! It is fed the body chunk by chunk and hands back file data as it goes,
//! holding at most one delimiter's length of a part's data plus one chunk,
//! so an upload never sits whole in memory. Part headers are capped
//! ([`MAX_HEADERS`]); parts without a `filename` (plain form fields) are
//! skipped. A body that ends before the closing delimiter is an error.

/// Longest header block of one part.
const MAX_HEADERS: usize = 8 * 1024;

/// What the parser found in the bytes fed so far.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Event {
    /// A file part starts: its `filename` as sent.
    File(String),
    /// Bytes of the current file part.
    Data(Vec<u8>),
    /// The current file part is complete.
    FileEnd,
}

/// Why a body is not acceptable multipart.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum MultipartError {
    /// A part's headers are longer than [`MAX_HEADERS`].
    #[error("a part's headers are longer than {MAX_HEADERS} bytes")]
    HeadersTooLong,
    /// Bytes after a delimiter that are neither `--` nor a line end.
    #[error("malformed delimiter")]
    BadDelimiter,
    /// The body ended inside a part.
    #[error("the body ended before the closing delimiter")]
    Truncated,
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Before the first delimiter (a preamble is ignored).
    Preamble,
    /// Right after a delimiter: `--` ends the body, CRLF starts a part.
    AfterDelimiter,
    Headers,
    /// In a part's data; `true` when it is a file part.
    Body(bool),
    Done,
}

pub(super) struct Parser {
    /// `\r\n--BOUNDARY`.
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    state: State,
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub(super) fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    if !parts
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        (!v.is_empty() && v.len() <= 70).then(|| v.to_owned())
    })
}

impl Parser {
    pub(super) fn new(boundary: &str) -> Parser {
        // The CRLF before the first delimiter is optional: start with one,
        // so every delimiter looks the same.
        Parser {
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            buf: b"\r\n".to_vec(),
            state: State::Preamble,
        }
    }

    /// Whether the closing delimiter was seen.
    pub(super) fn done(&self) -> bool {
        self.state == State::Done
    }

    /// Feeds `chunk`; returns what it completed.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, MultipartError> {
        if self.state != State::Done {
            self.buf.extend_from_slice(chunk);
        }
        let mut events = Vec::new();
        loop {
            match self.state {
                State::Done => {
                    self.buf.clear();
                    return Ok(events);
                }
                State::Preamble => match find(&self.buf, &self.delimiter) {
                    Some(i) => {
                        self.buf.drain(..i + self.delimiter.len());
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        let keep = self.delimiter.len().min(self.buf.len());
                        self.buf.drain(..self.buf.len() - keep);
                        return Ok(events);
                    }
                },
                State::AfterDelimiter => {
                    if self.buf.len() < 2 {
                        return Ok(events);
                    }
                    match &self.buf[..2] {
                        b"--" => self.state = State::Done,
                        b"\r\n" => {
                            self.buf.drain(..2);
                            self.state = State::Headers;
                        }
                        _ => return Err(MultipartError::BadDelimiter),
                    }
                }
                State::Headers => {
                    let Some(end) = find(&self.buf, b"\r\n\r\n") else {
                        if self.buf.len() > MAX_HEADERS {
                            return Err(MultipartError::HeadersTooLong);
                        }
                        return Ok(events);
                    };
                    if end > MAX_HEADERS {
                        return Err(MultipartError::HeadersTooLong);
                    }
                    let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                    self.buf.drain(..end + 4);
                    let file = filename(&head);
                    let is_file = file.is_some();
                    if let Some(name) = file {
                        events.push(Event::File(name));
                    }
                    self.state = State::Body(is_file);
                }
                State::Body(is_file) => match find(&self.buf, &self.delimiter) {
                    Some(i) => {
                        let data: Vec<u8> = self.buf.drain(..i).collect();
                        self.buf.drain(..self.delimiter.len());
                        if is_file {
                            if !data.is_empty() {
                                events.push(Event::Data(data));
                            }
                            events.push(Event::FileEnd);
                        }
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        // Keep what could be the start of a delimiter.
                        let keep = (self.delimiter.len() - 1).min(self.buf.len());
                        let data: Vec<u8> = self.buf.drain(..self.buf.len() - keep).collect();
                        if is_file && !data.is_empty() {
                            events.push(Event::Data(data));
                        }
                        return Ok(events);
                    }
                },
            }
        }
    }

    /// The body ended: an error unless the closing delimiter was seen.
    pub(super) fn finish(&self) -> Result<(), MultipartError> {
        if self.done() {
            Ok(())
        } else {
            Err(MultipartError::Truncated)
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `filename` of a part's `Content-Disposition`, if it has one.
fn filename(head: &str) -> Option<String> {
    let line = head.split("\r\n").find(|l| {
        l.split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
    })?;
    let (_, value) = line.split_once(':')?;
    value.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("filename")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn body() -> Vec<u8> {
        b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n\
          --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.deb\"\r\n\
          Content-Type: application/octet-stream\r\n\r\nAB\r\n--Xy\r\nCD\r\n\
          --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.deb\"\r\n\r\n\r\n\
          --XyZ--\r\n"
            .to_vec()
    }

    /// Feeds `data` in chunks of `n` bytes and joins each file's data.
    fn parse(data: &[u8], n: usize) -> Vec<(String, Vec<u8>)> {
        let mut p = Parser::new("XyZ");
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut open = false;
        for chunk in data.chunks(n) {
            for e in p.feed(chunk).unwrap() {
                match e {
                    Event::File(name) => {
                        assert!(!open);
                        open = true;
                        files.push((name, Vec::new()));
                    }
                    Event::Data(d) => files.last_mut().unwrap().1.extend(d),
                    Event::FileEnd => open = false,
                }
            }
        }
        p.finish().unwrap();
        files
    }

    #[test]
    fn files_come_out_whole_whatever_the_chunking() {
        let want = vec![
            ("a.deb".to_owned(), b"AB\r\n--Xy\r\nCD".to_vec()),
            ("b.deb".to_owned(), Vec::new()),
        ];
        for n in [1, 2, 3, 7, 64, 4096] {
            assert_eq!(parse(&body(), n), want, "chunks of {n}");
        }
    }

    #[test]
    fn truncated_and_malformed_bodies_are_errors() {
        let data = body();
        let mut p = Parser::new("XyZ");
        p.feed(&data[..data.len() - 10]).unwrap();
        assert_eq!(p.finish(), Err(MultipartError::Truncated));
        let mut p = Parser::new("XyZ");
        assert_eq!(
            p.feed(b"--XyZxx").map(|_| ()),
            Err(MultipartError::BadDelimiter)
        );
        let mut p = Parser::new("XyZ");
        let mut long = b"--XyZ\r\n".to_vec();
        long.extend(vec![b'a'; MAX_HEADERS + 10]);
        assert_eq!(
            p.feed(&long).map(|_| ()),
            Err(MultipartError::HeadersTooLong)
        );
    }

    #[test]
    fn boundaries_from_content_types() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"abc\"").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;boundary=x-1").as_deref(),
            Some("x-1")
        );
        assert_eq!(boundary("application/json"), None);
    }
}
