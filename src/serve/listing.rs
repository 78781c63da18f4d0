//! Directory listings: a minimal HTML index for humans.

use std::fmt::Write as _;

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header;

use super::paths::percent_encode;
use super::response::{Payload, REVALIDATE, Reply};

/// A minimal HTML index of a directory, with absolute, percent-encoded links
/// and escaped names.
pub(super) fn listing(segments: &[String], entries: &[String]) -> Reply {
    let mut base = String::from("/");
    for segment in segments {
        base.push_str(&percent_encode(segment));
        base.push('/');
    }
    let shown = format!(
        "/{}",
        segments.iter().map(|s| format!("{s}/")).collect::<String>()
    );
    let title = html_escape(&shown);
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n\
         <body><h1>Index of {title}</h1>\n<ul>\n"
    );
    if let Some((_, parents)) = segments.split_last() {
        let mut parent = String::from("/");
        for segment in parents {
            parent.push_str(&percent_encode(segment));
            parent.push('/');
        }
        let _ = writeln!(html, "<li><a href=\"{parent}\">../</a></li>");
    }
    for entry in entries {
        let (name, slash) = entry
            .strip_suffix('/')
            .map_or((entry.as_str(), ""), |n| (n, "/"));
        let _ = writeln!(
            html,
            "<li><a href=\"{base}{}{slash}\">{}{slash}</a></li>",
            percent_encode(name),
            html_escape(name)
        );
    }
    html.push_str("</ul>\n</body></html>\n");
    Reply::new(StatusCode::OK, Payload::Bytes(Bytes::from(html)))
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, REVALIDATE)
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::paths::percent_encode;

    #[test]
    fn names_are_escaped_in_listings() {
        assert_eq!(html_escape("<a&'\">"), "&lt;a&amp;&#39;&quot;&gt;");
        assert_eq!(percent_encode("a b+c%/ü"), "a%20b%2Bc%25%2F%C3%BC");
    }
}
