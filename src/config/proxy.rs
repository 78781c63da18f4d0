//! `[proxy.NAME]` sections: upstream archives `serve` answers through its
//! verifying cache at `/NAME/…` (and for apt's absolute-URI proxy
//! requests under `upstream`).
//!
//! Sections are checked when the file is read, so a half-written one is an
//! error naming the file and the key, whatever the command. The keyring is
//! only read by `serve`; a clash with a publication prefix is checked
//! there too, against the database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

use super::ConfigError;

/// Names a proxy cannot take: `serve`'s own path segments.
const RESERVED: [&str; 4] = ["api", "snapshots", "dists", "pool"];

/// Default seconds to wait for an upstream connection: short, because a
/// client is waiting and a stale cached copy may do.
pub const DEFAULT_CONNECT_TIMEOUT: u64 = 5;
/// Default seconds an upstream may stay silent.
pub const DEFAULT_READ_TIMEOUT: u64 = 30;

/// `[proxy.NAME]` as written.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProxySection {
    /// The archive root (`http://deb.debian.org/debian`): what `Filename`
    /// fields of its indices are relative to.
    pub upstream: Option<String>,
    /// OpenPGP keyring its `InRelease` must be signed with.
    pub keyring: Option<PathBuf>,
    /// Most bytes of cached pool files kept (`20GiB`, `500MiB`, bytes).
    pub cache_limit: Option<String>,
    /// Seconds to wait for an upstream connection.
    pub connect_timeout: Option<u64>,
    /// Seconds an upstream may send nothing before it counts as failed.
    pub read_timeout: Option<u64>,
}

/// One checked proxy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProxyConfig {
    /// The `NAME` of `[proxy.NAME]`: the first path segment it answers.
    pub name: String,
    /// The archive root, with a trailing `/`.
    #[serde(serialize_with = "as_str")]
    pub upstream: Url,
    /// The keyring, relative paths taken from the config file's directory.
    pub keyring: PathBuf,
    /// Most bytes of cached pool files, if limited.
    pub cache_limit: Option<u64>,
    /// Seconds.
    pub connect_timeout: u64,
    /// Seconds.
    pub read_timeout: u64,
}

fn as_str<S: serde::Serializer>(url: &Url, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(url.as_str())
}

/// Checks every section of the file at `path`.
pub(super) fn resolve(
    sections: &BTreeMap<String, ProxySection>,
    path: Option<&Path>,
) -> Result<Vec<ProxyConfig>, ConfigError> {
    let file = path.map(Path::to_owned).unwrap_or_default();
    let mut out = Vec::new();
    for (name, s) in sections {
        let err = |key: &str, detail: String| ConfigError::Proxy {
            path: file.clone(),
            key: format!("proxy.{name}{key}"),
            detail,
        };
        if let Some(why) = bad_name(name) {
            return Err(err("", why.to_owned()));
        }
        let upstream = s
            .upstream
            .as_deref()
            .ok_or_else(|| err(".upstream", "is missing".into()))?;
        let upstream = parse_upstream(upstream).map_err(|why| err(".upstream", why))?;
        let keyring = s.keyring.as_ref().ok_or_else(|| {
            err(
                ".keyring",
                "is missing: the proxy verifies `InRelease` with it".into(),
            )
        })?;
        let keyring = match file.parent() {
            Some(dir) if keyring.is_relative() => dir.join(keyring),
            _ => keyring.clone(),
        };
        let cache_limit = match &s.cache_limit {
            Some(v) => Some(parse_size(v).ok_or_else(|| {
                err(
                    ".cache-limit",
                    format!("`{v}` is not a size such as `20GiB` or `500MiB`"),
                )
            })?),
            None => None,
        };
        let seconds = |key: &str, v: Option<u64>, default: u64| match v {
            None => Ok(default),
            Some(v @ 1..=3600) => Ok(v),
            Some(_) => Err(err(key, "must be between 1 and 3600 seconds".into())),
        };
        out.push(ProxyConfig {
            name: name.clone(),
            upstream,
            keyring,
            cache_limit,
            connect_timeout: seconds(
                ".connect-timeout",
                s.connect_timeout,
                DEFAULT_CONNECT_TIMEOUT,
            )?,
            read_timeout: seconds(".read-timeout", s.read_timeout, DEFAULT_READ_TIMEOUT)?,
        });
    }
    Ok(out)
}

/// Why `name` cannot name a proxy, if it cannot.
fn bad_name(name: &str) -> Option<&'static str> {
    if name.starts_with('.') {
        return Some("is a dot name, which `serve` never answers");
    }
    if RESERVED.contains(&name) {
        return Some("is a path segment `serve` uses itself");
    }
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    (!ok).then_some("must be letters, digits, `-`, `_` or `.`")
}

/// An `http`/`https` archive root without credentials, query or fragment,
/// normalized to end with `/`.
fn parse_upstream(s: &str) -> Result<Url, String> {
    let mut url = Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("`{s}` is not an `http` or `https` URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{s}` has a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// `20GiB`, `500MiB`, `1G`, `4096` (bytes).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let at = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(at);
    let n: u64 = num.parse().ok()?;
    let shift = match unit.trim() {
        "" | "B" => 0,
        "K" | "KiB" | "k" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        "T" | "TiB" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(toml_text: &str) -> Result<Vec<ProxyConfig>, ConfigError> {
        let file: super::super::ConfigFile = toml::from_str(toml_text).expect("toml");
        resolve(&file.proxy, Some(Path::new("/etc/debvault/config.toml")))
    }

    #[test]
    fn a_section_resolves() {
        let p = one(
            "[proxy.debian]\nupstream = \"http://deb.example.org/debian\"\nkeyring = \"k.gpg\"\ncache-limit = \"2GiB\"\n",
        )
        .expect("valid");
        assert_eq!(p[0].upstream.as_str(), "http://deb.example.org/debian/");
        assert_eq!(p[0].keyring, Path::new("/etc/debvault/k.gpg"));
        assert_eq!(p[0].cache_limit, Some(2 << 30));
        assert_eq!(p[0].connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    }

    #[test]
    fn bad_sections_name_the_key() {
        for (text, key) in [
            ("[proxy.x]\nkeyring = \"k\"\n", "proxy.x.upstream"),
            ("[proxy.x]\nupstream = \"http://h/\"\n", "proxy.x.keyring"),
            (
                "[proxy.x]\nupstream = \"ftp://h/\"\nkeyring = \"k\"\n",
                "proxy.x.upstream",
            ),
            (
                "[proxy.x]\nupstream = \"http://h/\"\nkeyring = \"k\"\ncache-limit = \"lots\"\n",
                "proxy.x.cache-limit",
            ),
            (
                "[proxy.api]\nupstream = \"http://h/\"\nkeyring = \"k\"\n",
                "proxy.api",
            ),
            (
                "[proxy.\".x\"]\nupstream = \"http://h/\"\nkeyring = \"k\"\n",
                "proxy..x",
            ),
        ] {
            let e = one(text).expect_err(text).to_string();
            assert!(e.contains(&format!("`{key}`")), "{text}: {e}");
            assert!(e.contains("/etc/debvault/config.toml"), "{e}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("20GiB"), Some(20 << 30));
        assert_eq!(parse_size("500MiB"), Some(500 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("x"), None);
    }
}
