//! Credentials are never shown.
//!
//! A mirror URL may carry `user:password@` (and credentials from an auth
//! file are carried the same way once a sync matched them). Everything that
//! shows a URL to a person or a log (list and show, their JSON, progress and
//! `-v` lines, error messages, audit records) goes through [`url`] or
//! [`url_str`], which keep the user name and replace the password by `***`.
//! [`MirrorUrl`] does it by construction: it displays and serializes masked,
//! and only [`MirrorUrl::expose`] hands out the real text (to fetch, and to
//! store in the 0600 database).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

/// The password's stand-in.
const MASK: &str = "***";

/// `u` with its password replaced by `***`.
pub fn url(u: &Url) -> String {
    if u.password().is_none() {
        return u.to_string();
    }
    let mut shown = u.clone();
    // Fails only for URLs that cannot carry credentials in the first place.
    let _ = shown.set_password(Some(MASK));
    shown.to_string()
}

/// [`url`] for text, kept as written (even when it does not parse): what
/// follows the first `:` of the user info (between `//` and the last `@`
/// before the next `/`) becomes `***`.
pub fn url_str(s: &str) -> String {
    let Some(start) = s.find("://").map(|i| i + 3) else {
        return s.to_owned();
    };
    let authority_end = s[start..].find('/').map_or(s.len(), |i| start + i);
    let Some(at) = s[start..authority_end].rfind('@').map(|i| start + i) else {
        return s.to_owned();
    };
    match s[start..at].find(':') {
        Some(colon) => format!("{}:{MASK}{}", &s[..start + colon], &s[at..]),
        None => s.to_owned(),
    }
}

/// A mirror's base URL: shown (`Display`, `Serialize`) with its password
/// masked; [`MirrorUrl::expose`] is the one way to the real text.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct MirrorUrl(String);

impl MirrorUrl {
    /// Wraps the URL as the operator wrote it.
    pub fn new(raw: impl Into<String>) -> MirrorUrl {
        MirrorUrl(raw.into())
    }

    /// The URL with its credentials: for fetching and for the database only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MirrorUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&url_str(&self.0))
    }
}

impl fmt::Debug for MirrorUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MirrorUrl({:?})", url_str(&self.0))
    }
}

impl Serialize for MirrorUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&url_str(&self.0))
    }
}

impl<'de> Deserialize<'de> for MirrorUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MirrorUrl, D::Error> {
        String::deserialize(d).map(MirrorUrl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_users_kept() {
        let u = Url::parse("https://alice:S3cret@deb.example.org/debian/").expect("url");
        assert_eq!(url(&u), "https://alice:***@deb.example.org/debian/");
        assert_eq!(
            url_str("http://alice:S3cret@h:81/debian"),
            "http://alice:***@h:81/debian"
        );
        assert_eq!(url_str("http://h/x"), "http://h/x");
        assert_eq!(url_str("http://alice@h/x"), "http://alice@h/x");
        // Not a URL the parser takes, still masked.
        assert_eq!(url_str("http://a:pw@[bad/x"), "http://a:***@[bad/x");
        let m = MirrorUrl::new("http://alice:S3cret@h/debian");
        assert_eq!(m.to_string(), "http://alice:***@h/debian");
        assert_eq!(format!("{m:?}"), "MirrorUrl(\"http://alice:***@h/debian\")");
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            "\"http://alice:***@h/debian\""
        );
        assert_eq!(m.expose(), "http://alice:S3cret@h/debian");
    }
}
