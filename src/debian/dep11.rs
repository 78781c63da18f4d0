//! AppStream metadata in Debian's DEP-11 form:
//! `<component>/dep11/Components-<arch>.yml`.
//!
//! The file is multi-document YAML: a header document (`File: DEP-11`,
//! `Origin`, `MediaBaseUrl`, `Time`…), then one document per software
//! component, each naming its binary package on a top-level `Package:`
//! line. Mirroring only needs to cut the file into documents, know each
//! one's package and the icons it names, and write chosen documents back
//! verbatim, so no YAML library is involved: documents are split on `---`
//! lines (a `...` line ends one) and the few keys needed are read from
//! their lines. Every document is bounded in size.

use std::io::BufRead;

/// Why a DEP-11 file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Dep11Error {
    /// Reading the underlying stream failed.
    #[error("read error at line {line}")]
    Read {
        /// 1-based line number reached.
        line: usize,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A document is larger than the bound.
    #[error("the document starting at line {line} exceeds {limit} bytes")]
    TooLarge {
        /// 1-based line of its `---`.
        line: usize,
        /// The bound.
        limit: usize,
    },
    /// A line is not UTF-8.
    #[error("line {line} is not UTF-8")]
    NotUtf8 {
        /// 1-based line number.
        line: usize,
    },
}

/// One document, normalized: `---` on its first line, every line ending
/// in a line break, no trailing blank lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The text, written back as is.
    pub text: String,
    /// 1-based line of its `---` (or of its first line) in the file.
    pub line: usize,
}

impl Document {
    /// The value of the top-level `Package:` line, if any.
    pub fn package(&self) -> Option<&str> {
        top_level(&self.text, "Package")
    }

    /// Whether this is a DEP-11 header (`File: DEP-11`, no `Package`).
    pub fn is_header(&self) -> bool {
        top_level(&self.text, "File") == Some("DEP-11") && self.package().is_none()
    }

    /// The file names of the cached icons the document names
    /// (`Icon: cached: - name: X.png`), in order, each once.
    pub fn cached_icons(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let mut in_icon = false;
        let mut cached_indent: Option<usize> = None;
        for line in self.text.lines().skip(1) {
            let indent = line.len() - line.trim_start_matches(' ').len();
            let body = line.trim();
            if body.is_empty() {
                continue;
            }
            if indent == 0 && !body.starts_with('-') {
                in_icon = key_value(line, "Icon").is_some();
                cached_indent = None;
                continue;
            }
            if !in_icon {
                continue;
            }
            let item = body.strip_prefix("- ").unwrap_or(body).trim_start();
            match cached_indent {
                Some(at) if indent > at || (indent == at && body.starts_with('-')) => {
                    if let Some(name) = key_value(item, "name")
                        && !out.contains(&name)
                    {
                        out.push(name);
                    }
                }
                _ => {
                    cached_indent = key_value(item, "cached").map(|_| indent);
                }
            }
        }
        out
    }
}

/// The value of `line` when it is `key: value` (no indentation), unquoted.
fn key_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.strip_prefix(':')?;
    let v = rest.trim();
    let v = v
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .or_else(|| v.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
        .unwrap_or(v);
    Some(v)
}

/// The value of the top-level (unindented) `key:` line of `text`.
fn top_level<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| key_value(l, key))
        .filter(|v| !v.is_empty())
}

/// Streams the documents of a DEP-11 file. Empty documents are skipped.
pub struct Dep11Reader<R> {
    inner: R,
    max_document: usize,
    line: usize,
    /// The next document's `---` line was already read.
    started: Option<usize>,
    done: bool,
    buf: Vec<u8>,
}

impl<R: BufRead> Dep11Reader<R> {
    /// Reads `inner`; a document above `max_document` bytes is an error.
    pub fn new(inner: R, max_document: usize) -> Self {
        Dep11Reader {
            inner,
            max_document,
            line: 0,
            started: None,
            done: false,
            buf: Vec::new(),
        }
    }

    /// The next line into `buf` (without its line break); `false` at the end.
    fn next_line(&mut self, first: usize) -> Result<bool, Dep11Error> {
        self.buf.clear();
        let limit = self.max_document as u64 + 2;
        let n = std::io::Read::take(&mut self.inner, limit)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| Dep11Error::Read {
                line: self.line + 1,
                source,
            })?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.buf.len() as u64 >= limit {
            return Err(Dep11Error::TooLarge {
                line: first,
                limit: self.max_document,
            });
        }
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Ok(true)
    }

    fn next_document(&mut self) -> Result<Option<Document>, Dep11Error> {
        while !self.done {
            let first = self.started.take().unwrap_or(self.line + 1);
            let mut text = String::from("---\n");
            let mut blank_run = 0usize;
            loop {
                if !self.next_line(first)? {
                    self.done = true;
                    break;
                }
                let line = std::str::from_utf8(&self.buf)
                    .map_err(|_| Dep11Error::NotUtf8 { line: self.line })?;
                if line.trim_end() == "---" {
                    self.started = Some(self.line);
                    break;
                }
                if line.trim_end() == "..." {
                    continue;
                }
                if line.trim().is_empty() {
                    blank_run += 1;
                    continue;
                }
                // Blank lines inside a document (block scalars) are kept.
                if text.len() > 4 {
                    text.extend(std::iter::repeat_n('\n', blank_run));
                }
                blank_run = 0;
                text.push_str(line);
                text.push('\n');
                if text.len() > self.max_document {
                    return Err(Dep11Error::TooLarge {
                        line: first,
                        limit: self.max_document,
                    });
                }
            }
            if text.len() > 4 {
                return Ok(Some(Document { text, line: first }));
            }
        }
        Ok(None)
    }
}

impl<R: BufRead> Iterator for Dep11Reader<R> {
    type Item = Result<Document, Dep11Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_document() {
            Ok(d) => d.map(Ok),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Whether `name` can be an icon's file name in a flat tarball: one plain
/// path segment of at most 100 bytes (a ustar name field).
pub fn is_icon_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !name.chars().any(char::is_control)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const FILE: &str = "---
File: DEP-11
Version: '0.16'
Origin: debian-bookworm-main
MediaBaseUrl: https://example.org/media
Time: 20230611T220036
---
Type: desktop-application
ID: org.example.Puzzle
Package: puzzles
Name:
  C: Puzzle
Description:
  C: >-
    <p>One</p>

    <p>Two</p>
Icon:
  cached:
  - name: puzzles_org.example.Puzzle.png
    width: 48
    height: 48
  - name: puzzles_org.example.Puzzle.png
    width: 64
    height: 64
  stock: puzzle
  remote:
  - name: not-cached.png
    url: https://example.org/x.png
Categories:
- Game
---
Type: addon
ID: other
Package: \"other\"
...
";

    fn docs(text: &str) -> Vec<Document> {
        Dep11Reader::new(text.as_bytes(), 1 << 20)
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn splits_documents_and_reads_their_keys() {
        let d = docs(FILE);
        assert_eq!(d.len(), 3);
        assert!(d[0].is_header());
        assert_eq!(d[0].package(), None);
        assert_eq!(d[1].package(), Some("puzzles"));
        assert_eq!(d[1].line, 7);
        assert!(d[1].text.starts_with("---\nType: desktop-application\n"));
        assert!(d[1].text.contains("<p>One</p>\n\n    <p>Two</p>\n"));
        assert!(d[1].text.ends_with("- Game\n"));
        assert_eq!(d[1].cached_icons(), ["puzzles_org.example.Puzzle.png"]);
        assert_eq!(d[2].package(), Some("other"));
        assert_eq!(
            d[2].text,
            "---\nType: addon\nID: other\nPackage: \"other\"\n"
        );
        assert!(d[2].cached_icons().is_empty());
        let rejoined: String = d.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(docs(&rejoined), d, "normalized text splits the same");
    }

    #[test]
    fn a_first_document_without_a_separator_and_blank_ones() {
        let d = docs("File: DEP-11\n---\n\n---\nPackage: a\n\n\n");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].text, "---\nFile: DEP-11\n");
        assert_eq!(d[1].text, "---\nPackage: a\n");
    }

    #[test]
    fn documents_are_bounded() {
        let big = format!("---\nPackage: a\nX: {}\n", "y".repeat(100));
        let got: Vec<_> = Dep11Reader::new(big.as_bytes(), 64).collect();
        assert!(matches!(
            got.last(),
            Some(Err(Dep11Error::TooLarge { line: 1, .. }))
        ));
        let one_line = format!("---\n{}", "y".repeat(1000));
        let got: Vec<_> = Dep11Reader::new(one_line.as_bytes(), 64).collect();
        assert!(matches!(got.last(), Some(Err(Dep11Error::TooLarge { .. }))));
    }

    #[test]
    fn icon_names_are_plain_short_file_names() {
        assert!(is_icon_name("a_b.png"));
        for bad in ["", "..", "a/b.png", "a\\b", &"x".repeat(101)] {
            assert!(!is_icon_name(bad), "{bad}");
        }
    }
}
