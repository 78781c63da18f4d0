//! A fast streaming reader and writer for deb822 stanzas.
//!
//! deb822 is the `Name: value` format of control files, `Packages`,
//! `Sources`, `Release` and `.sources` files: stanzas separated by blank
//! lines, values continued on lines that start with a space or tab. Mirrors
//! parse Packages files of 60,000 stanzas and ~50 MB on every update, so
//! [`StanzaReader`] reads each stanza into one reused buffer, validates its
//! UTF-8 in one pass and allocates only the field strings. Values are kept so
//! that [`Stanza::write_to`] re-emits a parsed Debian stanza byte for byte.

use std::io::{self, BufRead, Read as _, Write};

use crate::exit::{ExitCode, FAILURE};

/// Default for [`StanzaReader::max_stanza_bytes`]: 4 MiB.
pub const DEFAULT_MAX_STANZA_BYTES: usize = 4 << 20;

/// Why a deb822 document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Deb822Error {
    /// The underlying reader failed.
    #[error("reading deb822 text: {0}")]
    Io(#[from] io::Error),
    /// A line that is neither `Name: value`, a continuation nor blank.
    #[error("line {line}: `{text}` is neither a field nor a continuation line")]
    MissingColon {
        /// 1-based line number.
        line: usize,
        /// The line (cut to 80 characters).
        text: String,
    },
    /// A line starting with `:`.
    #[error("line {line}: field name before `:` is empty")]
    EmptyFieldName {
        /// 1-based line number.
        line: usize,
    },
    /// An indented line at the start of a stanza.
    #[error("line {line}: continuation line comes before any field")]
    ContinuationBeforeField {
        /// 1-based line number.
        line: usize,
    },
    /// The same field (compared case-insensitively) twice in one stanza.
    #[error("line {line}: field `{name}` is repeated in the stanza starting at line {stanza_line}")]
    DuplicateField {
        /// 1-based line number of the second occurrence.
        line: usize,
        /// The field name as spelled the second time.
        name: String,
        /// 1-based line number where the stanza starts.
        stanza_line: usize,
    },
    /// Bytes that are not UTF-8.
    #[error("line {line}: text is not valid UTF-8")]
    InvalidUtf8 {
        /// 1-based line number.
        line: usize,
    },
    /// A stanza over the size limit.
    #[error("line {line}: stanza starting at line {stanza_line} is larger than {limit} bytes")]
    StanzaTooLarge {
        /// 1-based line number where the limit was crossed.
        line: usize,
        /// 1-based line number where the stanza starts.
        stanza_line: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A single line over the size limit.
    #[error("line {line}: line is longer than {limit} bytes")]
    LineTooLong {
        /// 1-based line number.
        line: usize,
        /// The limit in bytes.
        limit: usize,
    },
}

impl ExitCode for Deb822Error {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// One paragraph of `Name: value` fields, in their original order.
///
/// A value is the text after the colon with the first line's surrounding
/// whitespace trimmed, then `\n` + each continuation line as written (its
/// leading space kept, trailing whitespace trimmed). Field names compare
/// case-insensitively. Equality compares the fields only, not [`line`].
///
/// [`line`]: Stanza::line
#[derive(Clone, Debug, Default)]
pub struct Stanza {
    fields: Vec<(String, String)>,
    /// 1-based line where the stanza started in its source; 0 if built by hand.
    line: usize,
}

impl PartialEq for Stanza {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
    }
}

impl Eq for Stanza {}

impl Stanza {
    /// An empty stanza.
    pub fn new() -> Self {
        Self::default()
    }

    /// The 1-based line where this stanza started, if it was parsed.
    pub fn line(&self) -> Option<usize> {
        (self.line > 0).then_some(self.line)
    }

    /// The value of field `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All fields, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// Gives back the fields.
    pub fn into_fields(self) -> Vec<(String, String)> {
        self.fields
    }

    /// Appends a field without checking for an existing one of that name.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.fields.push((name.into(), value.into()));
    }

    /// Replaces the field `name` in place (case-insensitive), or appends it.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self
            .fields
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => *slot = (name, value),
            None => self.fields.push((name, value)),
        }
    }

    /// Removes the field `name` (case-insensitive), returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self
            .fields
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))?;
        Some(self.fields.remove(i).1)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Writes the stanza as `Name: value\n` lines, without a trailing blank
    /// line.
    ///
    /// A value whose first line is empty is written as `Name:\n …`. A
    /// continuation line that would not survive re-parsing (empty,
    /// whitespace-only, or not indented, as can happen with values set by
    /// hand) is written as ` .` or with a leading space; parsed values never
    /// need this and round-trip exactly.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        for (name, value) in &self.fields {
            out.write_all(name.as_bytes())?;
            let mut lines = value.split('\n');
            let first = lines.next().unwrap_or("");
            if first.is_empty() {
                out.write_all(b":")?;
            } else {
                out.write_all(b": ")?;
                out.write_all(first.as_bytes())?;
            }
            for line in lines {
                out.write_all(b"\n")?;
                if line.bytes().all(|b| b.is_ascii_whitespace()) {
                    out.write_all(b" .")?;
                } else {
                    if !line.starts_with([' ', '\t']) {
                        out.write_all(b" ")?;
                    }
                    out.write_all(line.as_bytes())?;
                }
            }
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The stanza as text, as [`write_to`](Self::write_to) writes it.
    pub fn to_text(&self) -> String {
        let cap = self.fields.iter().map(|(n, v)| n.len() + v.len() + 3).sum();
        let mut out = Vec::with_capacity(cap);
        // Writing to a Vec cannot fail.
        let _ = self.write_to(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// A line of the current stanza: byte range in the buffer (without the line
/// ending) and its 1-based line number.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    no: usize,
}

/// Reads stanzas one at a time from a [`BufRead`].
///
/// Stanzas are separated by one or more whitespace-only lines; CRLF line
/// endings are accepted. After the first error the iterator ends.
pub struct StanzaReader<R> {
    reader: R,
    buf: Vec<u8>,
    lines: Vec<Line>,
    line_no: usize,
    allow_comments: bool,
    max_stanza_bytes: usize,
    fields_hint: usize,
    done: bool,
}

impl<R: BufRead> StanzaReader<R> {
    /// A reader with the default limits that treats `#` lines as errors.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            buf: Vec::with_capacity(8192),
            lines: Vec::with_capacity(64),
            line_no: 0,
            allow_comments: false,
            max_stanza_bytes: DEFAULT_MAX_STANZA_BYTES,
            fields_hint: 8,
            done: false,
        }
    }

    /// Whether lines starting with `#` are skipped (for `.sources` files).
    pub fn allow_comments(mut self, yes: bool) -> Self {
        self.allow_comments = yes;
        self
    }

    /// The largest stanza (and line) accepted, in bytes.
    pub fn max_stanza_bytes(mut self, n: usize) -> Self {
        self.max_stanza_bytes = n;
        self
    }

    /// How many lines were read so far.
    pub fn lines_read(&self) -> usize {
        self.line_no
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// Reads the lines of the next stanza into `buf`/`lines`; false at EOF.
    fn fill(&mut self) -> Result<bool, Deb822Error> {
        self.buf.clear();
        self.lines.clear();
        loop {
            let start = self.buf.len();
            let budget = (self.max_stanza_bytes - start.min(self.max_stanza_bytes)) as u64 + 1;
            let n = (&mut self.reader)
                .take(budget)
                .read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                return Ok(!self.lines.is_empty());
            }
            self.line_no += 1;
            let complete_blank = self.buf[self.buf.len() - 1] == b'\n'
                && self.buf[start..].iter().all(u8::is_ascii_whitespace);
            if self.buf.len() > self.max_stanza_bytes && !complete_blank {
                let err = if self.lines.is_empty() {
                    Deb822Error::LineTooLong {
                        line: self.line_no,
                        limit: self.max_stanza_bytes,
                    }
                } else {
                    Deb822Error::StanzaTooLarge {
                        line: self.line_no,
                        stanza_line: self.lines[0].no,
                        limit: self.max_stanza_bytes,
                    }
                };
                return Err(err);
            }
            let mut end = self.buf.len();
            if self.buf[end - 1] == b'\n' {
                end -= 1;
                if end > start && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
            }
            let line = &self.buf[start..end];
            if line.iter().all(u8::is_ascii_whitespace) {
                self.buf.truncate(start);
                if self.lines.is_empty() {
                    continue;
                }
                return Ok(true);
            }
            if self.allow_comments && line[0] == b'#' {
                self.buf.truncate(start);
                continue;
            }
            self.lines.push(Line {
                start,
                end,
                no: self.line_no,
            });
        }
    }

    /// Turns the buffered lines into a stanza.
    fn parse(&mut self) -> Result<Stanza, Deb822Error> {
        let text = match std::str::from_utf8(&self.buf) {
            Ok(t) => t,
            Err(e) => {
                let at = e.valid_up_to();
                let idx = self.lines.partition_point(|l| l.end < at);
                let line = self.lines.get(idx).map_or(self.line_no, |l| l.no);
                return Err(Deb822Error::InvalidUtf8 { line });
            }
        };
        let lines = &self.lines;
        let stanza_line = lines.first().map_or(0, |l| l.no);
        let mut fields: Vec<(String, String)> = Vec::with_capacity(self.fields_hint);
        let is_cont = |l: &Line| matches!(text.as_bytes()[l.start], b' ' | b'\t');
        let mut i = 0;
        while i < lines.len() {
            let l = lines[i];
            if is_cont(&l) {
                return Err(Deb822Error::ContinuationBeforeField { line: l.no });
            }
            let line = &text[l.start..l.end];
            let Some(colon) = line.find(':') else {
                return Err(Deb822Error::MissingColon {
                    line: l.no,
                    text: line.chars().take(80).collect(),
                });
            };
            if colon == 0 {
                return Err(Deb822Error::EmptyFieldName { line: l.no });
            }
            let name = &line[..colon];
            if fields
                .iter()
                .any(|(n, _)| n.len() == name.len() && n.eq_ignore_ascii_case(name))
            {
                return Err(Deb822Error::DuplicateField {
                    line: l.no,
                    name: name.to_owned(),
                    stanza_line,
                });
            }
            let first = line[colon + 1..].trim_ascii();
            let mut j = i + 1;
            let mut extra = 0;
            while j < lines.len() && is_cont(&lines[j]) {
                extra += 1 + lines[j].end - lines[j].start;
                j += 1;
            }
            let value = if j == i + 1 {
                first.to_owned()
            } else {
                let mut v = String::with_capacity(first.len() + extra);
                v.push_str(first);
                for c in &lines[i + 1..j] {
                    v.push('\n');
                    v.push_str(text[c.start..c.end].trim_ascii_end());
                }
                v
            };
            fields.push((name.to_owned(), value));
            i = j;
        }
        self.fields_hint = fields.len().max(self.fields_hint);
        Ok(Stanza {
            fields,
            line: stanza_line,
        })
    }
}

impl<R: BufRead> Iterator for StanzaReader<R> {
    type Item = Result<Stanza, Deb822Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = match self.fill() {
            Ok(true) => self.parse(),
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

/// Parses every stanza of `s`.
pub fn parse_str(s: &str) -> Result<Vec<Stanza>, Deb822Error> {
    StanzaReader::new(s.as_bytes()).collect()
}

/// The value of field `name` (case-insensitive) in one stanza's text, without
/// parsing the rest: continuation lines are included, surrounding whitespace
/// trimmed. Used to keep parsed indices compact (one string per stanza).
pub fn find_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        let end = memchr_newline(bytes, pos);
        let line = &text[pos..end];
        if let Some((field, _)) = line.split_once(':')
            && !line.starts_with([' ', '\t'])
            && field.eq_ignore_ascii_case(name)
        {
            let start = pos + field.len() + 1;
            let mut stop = end;
            // Continuation lines start with a space or tab.
            while stop < bytes.len() && matches!(bytes.get(stop + 1), Some(b' ' | b'\t')) {
                stop = memchr_newline(bytes, stop + 1);
            }
            return Some(text[start..stop].trim());
        }
        pos = end + 1;
    }
    None
}

fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| from + i)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Instant;

    const PKG: &str = "\
Package: curl
Version: 7.88.1-10+deb12u8
Installed-Size: 500
Maintainer: Alessandro Ghedini <maintainer@example.invalid>
Architecture: amd64
Depends: libc6 (>= 2.34), libcurl4 (= 7.88.1-10+deb12u8),
 zlib1g (>= 1:1.1.4)
Description: command line tool for transferring data with URL syntax
 curl is a command line tool for transferring data with URL syntax.
 .
 Supported protocols include DICT, FILE, FTP.
Homepage: https://curl.se/
Description-md5: 9a4a3b6b21e0f8f8d1f3b5a2b7f1e7c0
Section: web
Priority: optional
Filename: pool/main/c/curl/curl_7.88.1-10+deb12u8_amd64.deb
Size: 315708
MD5sum: 2fa3a2cf1b6b4e7d8d6c5a4b3c2d1e0f
SHA256: 8ff8a5c4c1f5a6c3b0e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6
";

    #[test]
    fn parses_and_round_trips_packages_stanza() {
        let all = format!("{PKG}\n{PKG}");
        let stanzas = parse_str(&all).unwrap();
        assert_eq!(stanzas.len(), 2);
        let s = &stanzas[0];
        assert_eq!(s.get("package"), Some("curl"));
        assert_eq!(s.get("VERSION"), Some("7.88.1-10+deb12u8"));
        assert_eq!(
            s.get("Depends"),
            Some("libc6 (>= 2.34), libcurl4 (= 7.88.1-10+deb12u8),\n zlib1g (>= 1:1.1.4)")
        );
        assert!(s.get("Description").unwrap().contains("\n .\n"));
        assert_eq!(s.line(), Some(1));
        assert_eq!(stanzas[1].line(), Some(21));
        assert_eq!(s.to_text(), PKG);
        let mut out = Vec::new();
        for (i, st) in stanzas.iter().enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            st.write_to(&mut out).unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), all);
    }

    #[test]
    fn release_style_lists_and_whitespace() {
        let txt = "Origin:   Debian  \r\nSHA256:\r\n abc 12 main/x\r\n def 3 main/y   \r\nEmpty:\n";
        let s = parse_str(txt).unwrap().remove(0);
        assert_eq!(s.get("Origin"), Some("Debian"));
        assert_eq!(s.get("SHA256"), Some("\n abc 12 main/x\n def 3 main/y"));
        assert_eq!(s.get("Empty"), Some(""));
        assert_eq!(
            s.to_text(),
            "Origin: Debian\nSHA256:\n abc 12 main/x\n def 3 main/y\nEmpty:\n"
        );
    }

    #[test]
    fn blank_lines_and_comments() {
        let txt = "\n \n\nA: 1\n\t\n  \n\nB: 2\n\n\n";
        let v = parse_str(txt).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].get("b"), Some("2"));
        assert_eq!(v[1].line(), Some(8));
        assert!(parse_str("").unwrap().is_empty());
        assert!(parse_str("\n\n").unwrap().is_empty());
        // No trailing newline.
        assert_eq!(parse_str("A: 1").unwrap()[0].get("A"), Some("1"));

        let src = "# comment\nTypes: deb\n# inside\nURIs: http://x\n Suites: y\n\n#only\n";
        assert!(parse_str(src).is_err());
        let v: Vec<_> = StanzaReader::new(src.as_bytes())
            .allow_comments(true)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].get("URIs"), Some("http://x\n Suites: y"));
        assert_eq!(v[0].line(), Some(2));
    }

    fn err(txt: &[u8]) -> Deb822Error {
        StanzaReader::new(txt)
            .collect::<Result<Vec<_>, _>>()
            .unwrap_err()
    }

    #[test]
    fn errors_with_line_numbers() {
        let e = err(b"A: 1\nB 2\n");
        assert!(
            matches!(e, Deb822Error::MissingColon { line: 2, .. }),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "line 2: `B 2` is neither a field nor a continuation line"
        );
        let e = err(b"A: 1\n\n continued\n");
        assert!(
            matches!(e, Deb822Error::ContinuationBeforeField { line: 3 }),
            "{e}"
        );
        let e = err(b"A: 1\nB: 2\na: 3\n");
        assert_eq!(
            e.to_string(),
            "line 3: field `a` is repeated in the stanza starting at line 1"
        );
        let e = err(b"A: 1\n\nB: \xff\n");
        assert!(matches!(e, Deb822Error::InvalidUtf8 { line: 3 }), "{e}");
        let e = err(b": x\n");
        assert!(matches!(e, Deb822Error::EmptyFieldName { line: 1 }), "{e}");
    }

    #[test]
    fn size_limits() {
        let r = |t: &'static str| {
            StanzaReader::new(t.as_bytes())
                .max_stanza_bytes(16)
                .collect::<Result<Vec<_>, _>>()
        };
        assert!(r("A: 123456789012\n\nB: 1\n").is_ok());
        let e = r("A: 1\nB: 2\nC: 3\nD: 4\n").unwrap_err();
        assert!(
            matches!(
                e,
                Deb822Error::StanzaTooLarge {
                    line: 4,
                    stanza_line: 1,
                    limit: 16
                }
            ),
            "{e}"
        );
        let e = r("A: 1\n\nB: 12345678901234567890\n").unwrap_err();
        assert!(matches!(e, Deb822Error::LineTooLong { line: 3, .. }), "{e}");
        // Blank lines between stanzas do not count.
        assert!(r("A: 12345678901\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nB: 1\n").is_ok());
    }

    #[test]
    fn edit_fields() {
        let mut s = Stanza::new();
        s.push("Package", "a");
        s.push("Version", "1");
        s.set("version", "2");
        s.set("Size", "3");
        assert_eq!(s.len(), 3);
        assert_eq!(s.get("VERSION"), Some("2"));
        assert_eq!(s.remove("package").as_deref(), Some("a"));
        assert_eq!(s.remove("package"), None);
        assert_eq!(s.to_text(), "version: 2\nSize: 3\n");
        assert!(s.line().is_none());
        // Hand-made values that would break the format are repaired.
        s.set("Description", "short\nlong\n\n  ");
        let back = parse_str(&s.to_text()).unwrap().remove(0);
        assert_eq!(back.get("Description"), Some("short\n long\n .\n ."));
    }

    fn synthetic_packages(n: usize) -> String {
        let mut out = String::with_capacity(n * 900);
        for i in 0..n {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&PKG.replace("Package: curl", &format!("Package: pkg{i}")));
        }
        out
    }

    #[test]
    fn many_stanzas() {
        let txt = synthetic_packages(500);
        let v = parse_str(&txt).unwrap();
        assert_eq!(v.len(), 500);
        assert_eq!(v[499].get("Package"), Some("pkg499"));
    }

    /// Round-trips a real, uncompressed Packages file named by
    /// `DEBVAULT_PACKAGES` (e.g. `lz4cat /var/lib/apt/lists/*_Packages.lz4`).
    #[test]
    #[ignore]
    fn round_trips_real_packages() {
        let Ok(path) = std::env::var("DEBVAULT_PACKAGES") else {
            return;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let mut secs = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let n = StanzaReader::new(text.as_bytes())
                .map(|s| s.unwrap().len())
                .sum::<usize>();
            assert!(n > 0);
            secs = secs.min(t.elapsed().as_secs_f64());
        }
        let stanzas = parse_str(&text).unwrap();
        let mut out = String::with_capacity(text.len());
        for (i, s) in stanzas.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&s.to_text());
        }
        // Values are trimmed, so the only expected difference is trailing
        // whitespace (Debian has a few `Description: … ` lines) and blank
        // lines at the very end.
        let mut trimmed = 0;
        let mut want = String::with_capacity(text.len());
        for line in text.trim_end().lines() {
            trimmed += usize::from(line.len() != line.trim_ascii_end().len());
            want.push_str(line.trim_ascii_end());
            want.push('\n');
        }
        assert!(out == want, "{path} does not round-trip");
        println!(
            "{path}: {} stanzas, {:.1} MB parsed in {secs:.3} s = {:.0} MB/s, \
             round-trips except {trimmed} lines with trailing whitespace",
            stanzas.len(),
            text.len() as f64 / 1e6,
            text.len() as f64 / 1e6 / secs
        );
    }

    /// `cargo test --release -- --ignored --nocapture throughput`
    #[test]
    #[ignore]
    fn throughput() {
        let txt = synthetic_packages(60_000);
        let mb = txt.len() as f64 / 1e6;
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let mut n = 0;
            for s in StanzaReader::new(io::BufReader::with_capacity(1 << 16, txt.as_bytes())) {
                n += s.unwrap().len();
            }
            assert_eq!(n, 60_000 * 15);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("deb822: {mb:.1} MB in {best:.3} s = {:.0} MB/s", mb / best);
    }
}
