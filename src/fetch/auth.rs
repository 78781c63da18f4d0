//! Credentials kept out of mirror URLs: an apt-style auth file.
//!
//! The file (`[sync] auth-file`, `DEBVAULT_AUTH_FILE`) has apt_auth.conf(5)'s
//! netrc-like form: `machine [SCHEME://]HOST[:PORT][/PATH] login USER
//! password PASS`, tokens separated by any white space, `#` starting a
//! comment. As in apt, an entry without a scheme applies to `https` only, so
//! a password is not sent in the clear unless an `http://` entry says so;
//! the first entry that matches a URL's scheme, host, port and path prefix
//! wins. [`AuthFile::authorize`] puts the credentials into a mirror URL that
//! has none, so they travel as HTTP basic auth exactly like credentials
//! written in the URL: never to another host after a redirect, and shown
//! only masked.

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

use crate::capped;
use crate::exit::{ExitCode, USAGE};

/// An auth file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// It could not be read (or is past its cap).
    #[error("cannot read auth file `{path}`", path = path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A `machine` entry is incomplete or has an unknown token.
    #[error("auth file `{path}`: {detail}", path = path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What is wrong (never a password).
        detail: String,
    },
}

impl ExitCode for AuthError {
    fn exit_code(&self) -> u8 {
        // A file the operator configured.
        USAGE
    }
}

/// One `machine` entry.
#[derive(Clone, PartialEq, Eq)]
struct Entry {
    scheme: Option<String>,
    host: String,
    port: Option<u16>,
    path: String,
    login: String,
    password: String,
}

impl Entry {
    fn parse(machine: &str) -> Option<Entry> {
        let (scheme, rest) = match machine.split_once("://") {
            Some((s, rest)) => (Some(s.to_ascii_lowercase()), rest),
            None => (None, machine),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        // `[v6]:port` or `host:port`; the port is optional.
        let split_at = match authority.rfind(']') {
            Some(close) => authority[close..].find(':').map(|i| close + i),
            None => authority.rfind(':'),
        };
        let (host, port) = match split_at {
            Some(i) => (&authority[..i], Some(authority[i + 1..].parse().ok()?)),
            None => (authority, None),
        };
        (!host.is_empty()).then(|| Entry {
            scheme,
            host: host.trim_matches(['[', ']']).to_ascii_lowercase(),
            port,
            path: path.trim_end_matches('/').to_owned(),
            login: String::new(),
            password: String::new(),
        })
    }

    fn matches(&self, url: &Url) -> bool {
        let scheme_ok = match &self.scheme {
            Some(s) => *s == url.scheme(),
            None => url.scheme() == "https",
        };
        let host = url.host_str().unwrap_or("").trim_matches(['[', ']']);
        let path = url.path();
        scheme_ok
            && host.eq_ignore_ascii_case(&self.host)
            && self
                .port
                .is_none_or(|p| Some(p) == url.port_or_known_default())
            && path.starts_with(&self.path)
            && matches!(path.as_bytes().get(self.path.len()), None | Some(b'/'))
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "machine {} login {} password ***", self.host, self.login)
    }
}

/// The parsed auth file (empty when none is configured).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthFile {
    entries: Vec<Entry>,
}

impl AuthFile {
    /// Reads and parses `path`; the caller warns when [`AuthFile::loose_mode`]
    /// says others may read it.
    pub fn load(path: &Path) -> Result<AuthFile, AuthError> {
        let text =
            capped::read_to_string(path, capped::SECRET).map_err(|source| AuthError::Read {
                path: path.to_owned(),
                source,
            })?;
        AuthFile::parse(&text).map_err(|detail| AuthError::Syntax {
            path: path.to_owned(),
            detail,
        })
    }

    /// The mode of `path` when its group or others may read it.
    pub fn loose_mode(path: &Path) -> Option<u32> {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o044 != 0).then_some(mode)
    }

    fn parse(text: &str) -> Result<AuthFile, String> {
        let mut tokens = text
            .lines()
            .flat_map(|l| l.split('#').next().unwrap_or("").split_whitespace());
        let mut entries: Vec<Entry> = Vec::new();
        while let Some(t) = tokens.next() {
            let mut value = |what: &str| {
                tokens
                    .next()
                    .ok_or_else(|| format!("`{what}` without a value"))
            };
            match t {
                "machine" => {
                    let m = value("machine")?;
                    let entry = Entry::parse(m).ok_or_else(|| format!("invalid machine `{m}`"))?;
                    entries.push(entry);
                }
                "login" | "password" => {
                    let v = value(t)?.to_owned();
                    let e = entries
                        .last_mut()
                        .ok_or_else(|| format!("`{t}` before any `machine`"))?;
                    if t == "login" {
                        e.login = v
                    } else {
                        e.password = v
                    }
                }
                other => return Err(format!("unknown token `{other}`")),
            }
        }
        if let Some(e) = entries.iter().find(|e| e.login.is_empty()) {
            return Err(format!("machine `{}` has no `login`", e.host));
        }
        Ok(AuthFile { entries })
    }

    /// `url` with the first matching entry's credentials, unless it already
    /// carries a user name (credentials in the URL win, as in apt).
    pub fn authorize(&self, mut url: Url) -> Url {
        if !url.username().is_empty() {
            return url;
        }
        if let Some(e) = self.entries.iter().find(|e| e.matches(&url)) {
            // Both fail only for URLs that cannot carry credentials.
            let _ = url.set_username(&e.login);
            let _ = url.set_password(Some(&e.password));
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn entries_match_scheme_host_port_and_path_prefix() {
        let auth = AuthFile::parse(
            "# apt style\nmachine http://h:8080/debian login alice password S3cret\n\
             machine secure.example login bob\n password pw # trailing\n",
        )
        .expect("parse");
        let got = auth.authorize(url("http://h:8080/debian/dists/x/"));
        assert_eq!((got.username(), got.password()), ("alice", Some("S3cret")));
        for other in [
            "http://h:8081/debian/",
            "http://h:8080/debian-security/",
            "http://g:8080/debian/",
            "https://h:8080/debian/",
            "http://secure.example/debian/",
        ] {
            assert_eq!(auth.authorize(url(other)).username(), "", "{other}");
        }
        let got = auth.authorize(url("https://secure.example/x/"));
        assert_eq!((got.username(), got.password()), ("bob", Some("pw")));
        let own = auth.authorize(url("https://carol:c@secure.example/x/"));
        assert_eq!(own.username(), "carol", "the URL's own credentials win");
        assert!(!format!("{auth:?}").contains("S3cret"));
    }

    #[test]
    fn bad_files_say_what_without_the_password() {
        for (text, want) in [
            ("login x", "`login` before any `machine`"),
            ("machine", "`machine` without a value"),
            ("machine h password secret", "machine `h` has no `login`"),
            ("machine h login x port 8", "unknown token `port`"),
        ] {
            let err = AuthFile::parse(text).expect_err(text);
            assert_eq!(err, want);
        }
    }
}
