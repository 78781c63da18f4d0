//! `Contents-<arch>` files: which package installs which path.
//!
//! A line is `path<whitespace>locations`, where locations is a
//! comma-joined list of `section/package` (the section may itself hold a
//! `/`, e.g. `non-free/net`); the path may contain spaces, so the location
//! field is the last whitespace-separated column. Old archives put a free
//! text preamble before a `FILE  LOCATION` heading; it is skipped.
//!
//! [`write_line`] writes lines the way Debian's archive software does: the
//! path padded to 55 columns, one space, the locations sorted by package
//! and comma-joined; lines are sorted by path (bytewise).

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentsLine<'a> {
    /// The path, without a leading `./` or `/`.
    pub path: &'a str,
    /// `section/package` entries, as written.
    pub locations: Vec<&'a str>,
}

impl ContentsLine<'_> {
    /// The package names (the part after each location's last `/`).
    pub fn packages(&self) -> impl Iterator<Item = &str> {
        self.locations
            .iter()
            .map(|l| l.rsplit_once('/').map_or(*l, |(_, p)| p))
    }
}

/// Why a Contents line is not usable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Contents line {line} is malformed: {problem}")]
pub struct ContentsError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub problem: &'static str,
}

impl crate::exit::ExitCode for ContentsError {
    fn exit_code(&self) -> u8 {
        crate::exit::VERIFICATION
    }
}

/// Parses one line (`number` for errors); `Ok(None)` for a blank line.
pub fn parse_line(line: &str, number: usize) -> Result<Option<ContentsLine<'_>>, ContentsError> {
    let line = line.trim_end_matches(['\n', '\r']).trim_end();
    if line.trim().is_empty() {
        return Ok(None);
    }
    let bad = |problem| ContentsError {
        line: number,
        problem,
    };
    let split = line
        .rfind([' ', '\t'])
        .ok_or_else(|| bad("no location column"))?;
    let (path, loc) = (line[..split].trim_end(), &line[split + 1..]);
    let path = path.trim_start_matches("./").trim_start_matches('/');
    if path.is_empty() {
        return Err(bad("empty path"));
    }
    let locations: Vec<&str> = loc.split(',').collect();
    if locations.iter().any(|l| l.is_empty()) {
        return Err(bad("empty location"));
    }
    Ok(Some(ContentsLine { path, locations }))
}

/// Every line of `text`, the preamble before a `FILE LOCATION` heading
/// (old archives; it sits within the first lines) skipped.
pub fn parse(text: &str) -> Result<Vec<ContentsLine<'_>>, ContentsError> {
    let skip = text
        .lines()
        .take(PREAMBLE_LINES)
        .position(is_heading)
        .map_or(0, |i| i + 1);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(skip) {
        if let Some(l) = parse_line(line, i + 1)? {
            out.push(l);
        }
    }
    Ok(out)
}

/// How far into a file a `FILE LOCATION` heading is looked for.
const PREAMBLE_LINES: usize = 200;

fn is_heading(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next() == Some("FILE") && words.next() == Some("LOCATION") && words.next().is_none()
}

/// One line as Debian writes it: `path` padded to 55 columns, a space,
/// then `locations` (already sorted) comma-joined, and a line break.
pub fn write_line(path: &str, locations: &[&str]) -> String {
    format!("{path:<55} {}\n", locations.join(","))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_with_spaces_and_several_packages() {
        let l = parse_line("usr/share/a b/c d   net/curl,libs/libcurl4\n", 1)
            .unwrap()
            .unwrap();
        assert_eq!(l.path, "usr/share/a b/c d");
        assert_eq!(l.locations, vec!["net/curl", "libs/libcurl4"]);
        assert_eq!(l.packages().collect::<Vec<_>>(), vec!["curl", "libcurl4"]);
        let l = parse_line("./bin/x\tnon-free/net/foo", 2).unwrap().unwrap();
        assert_eq!((l.path, l.packages().next()), ("bin/x", Some("foo")));
        assert_eq!(parse_line("   ", 3).unwrap(), None);
        assert_eq!(
            parse_line("lonely", 4).unwrap_err().to_string(),
            "Contents line 4 is malformed: no location column"
        );
        assert!(parse_line("a net/x,,y", 5).is_err());
    }

    #[test]
    fn preamble_is_skipped_and_lines_round_trip() {
        let text = "This file maps\nfiles to packages.\n\nFILE                LOCATION\nbin/bash   shells/bash\n";
        let got = parse(text).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].path, "bin/bash");
        let line = write_line("bin/bash", &["shells/bash"]);
        assert_eq!(line.len(), 55 + 1 + "shells/bash".len() + 1);
        assert_eq!(parse(&line).unwrap()[0], got[0]);
        assert_eq!(
            write_line(&"x".repeat(60), &["a/b", "a/c"]),
            format!("{} a/b,a/c\n", "x".repeat(60))
        );
    }
}
