//! HTTP vocabulary: validators, conditional requests, byte ranges, dates.

use chrono::{DateTime, NaiveDateTime, Utc};
use hyper::header::{self, HeaderMap};

const HTTP_DATE: &str = "%a, %d %b %Y %H:%M:%S GMT";

/// Cheap validators of a file.
#[derive(Debug, Clone)]
pub(super) struct Validators {
    /// Strong, quoted: `"inode-size-mtime"` in hex.
    pub(super) etag: String,
    /// Whole seconds; `None` before 1970 or if the platform has no mtime.
    pub(super) last_modified: Option<DateTime<Utc>>,
}

/// Whether a modification time (whole seconds) lies in a past second.
///
/// `Last-Modified` has whole seconds: a file written in the current second
/// may be replaced within it (a publication switched twice, or switched
/// right after a client's fetch), and a client revalidating with that date
/// would be told "not modified" and keep the old `InRelease` until the next
/// switch. Such a file gets no date, so clients fetch it whole next time;
/// the strong `ETag` still validates it.
pub(super) fn settled(secs: i64) -> bool {
    Utc::now().timestamp() > secs
}

/// Whether `If-Match`, else `If-Unmodified-Since`, fails (412), as RFC 9110
/// §13.2.2 orders them. `If-Match` compares strongly (`*` matches any file);
/// a file with no date (written this second) fails `If-Unmodified-Since`,
/// since it may have changed after the client's date. An unparsable date
/// is ignored.
pub(super) fn precondition_fails(headers: &HeaderMap, validators: &Validators) -> bool {
    if headers.contains_key(header::IF_MATCH) {
        let ours = validators.etag.as_str();
        return !headers
            .get_all(header::IF_MATCH)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag == ours);
    }
    let Some(since) = headers
        .get(header::IF_UNMODIFIED_SINCE)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_http_date)
    else {
        return false;
    };
    validators
        .last_modified
        .is_none_or(|modified| modified > since)
}

/// `If-None-Match` (weak comparison, `*`, lists, repeated headers) wins over
/// `If-Modified-Since`, as RFC 9110 §13.2.2 orders them.
pub(super) fn not_modified(headers: &HeaderMap, validators: &Validators) -> bool {
    if headers.contains_key(header::IF_NONE_MATCH) {
        let ours = validators.etag.as_str();
        return headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours);
    }
    match (
        headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_http_date),
        validators.last_modified,
    ) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

/// Whether a `Range` may be honoured: no `If-Range`, or one that matches
/// exactly (strong `ETag` comparison, or the same `Last-Modified`).
pub(super) fn if_range_holds(headers: &HeaderMap, validators: &Validators) -> bool {
    let Some(value) = headers.get(header::IF_RANGE) else {
        return true;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let value = value.trim();
    if value.starts_with('"') {
        return value == validators.etag;
    }
    if value.starts_with("W/") {
        return false;
    }
    match (parse_http_date(value), validators.last_modified) {
        (Some(date), Some(modified)) => date == modified,
        _ => false,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum ByteRange {
    /// No usable range: the whole file, 200.
    Full,
    /// First and last byte, inclusive.
    Part(u64, u64),
    Unsatisfiable,
}

/// One `bytes=` range against a file of `len` bytes. Malformed, non-byte
/// and multi-range values are ignored (whole file), as RFC 9110 allows.
pub(super) fn parse_range(value: &str, len: u64) -> ByteRange {
    let Some((unit, set)) = value.split_once('=') else {
        return ByteRange::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return ByteRange::Full;
    }
    let mut specs = set
        .split(',')
        .map(str::trim)
        .filter(|spec| !spec.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        return ByteRange::Full;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return ByteRange::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let Some(suffix) = parse_digits(last) else {
            return ByteRange::Full;
        };
        if suffix == 0 || len == 0 {
            return ByteRange::Unsatisfiable;
        }
        return ByteRange::Part(len - suffix.min(len), len - 1);
    }
    let Some(first) = parse_digits(first) else {
        return ByteRange::Full;
    };
    let last = if last.is_empty() {
        None
    } else {
        match parse_digits(last) {
            Some(last) if last >= first => Some(last),
            _ => return ByteRange::Full,
        }
    };
    if first >= len {
        return ByteRange::Unsatisfiable;
    }
    ByteRange::Part(first, last.map_or(len - 1, |last| last.min(len - 1)))
}

fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub(super) fn format_http_date(date: DateTime<Utc>) -> String {
    date.format(HTTP_DATE).to_string()
}

/// IMF-fixdate, plus the obsolete RFC 850 and asctime forms recipients must
/// accept (RFC 9110 §5.6.7).
pub(super) fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    const FORMATS: [&str; 3] = [
        HTTP_DATE,
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
    ];
    let value = value.trim();
    FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use ByteRange::*;
        assert_eq!(parse_range("bytes=0-", 10), Part(0, 9));
        assert_eq!(parse_range("bytes=2-4", 10), Part(2, 4));
        assert_eq!(parse_range("bytes=2-400", 10), Part(2, 9));
        assert_eq!(parse_range("bytes=-3", 10), Part(7, 9));
        assert_eq!(parse_range("bytes=-30", 10), Part(0, 9));
        assert_eq!(parse_range("Bytes = 1 - 1", 10), Part(1, 1));
        assert_eq!(parse_range("bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), Full);
        assert_eq!(parse_range("bytes=4-2", 10), Full);
        assert_eq!(parse_range("bytes=+1-2", 10), Full);
        assert_eq!(parse_range("items=0-1", 10), Full);
        assert_eq!(parse_range("bytes=x", 10), Full);
    }

    #[test]
    fn http_dates_round_trip_in_all_three_forms() {
        let date = DateTime::from_timestamp(784_111_777, 0).expect("valid timestamp");
        assert_eq!(format_http_date(date), "Sun, 06 Nov 1994 08:49:37 GMT");
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(form), Some(date), "{form}");
        }
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
