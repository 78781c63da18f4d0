//! Debian package versions and their ordering.
//!
//! A version is `[epoch:]upstream[-revision]` (Debian Policy 5.6.12). Mirror
//! decisions (which version is newest, whether a constraint holds) must agree
//! with dpkg exactly, so [`compare`] is a faithful port of dpkg's
//! `verrevcmp`: epochs compare numerically, then upstream and revision are
//! compared as alternating non-digit runs (letters sort before non-letters,
//! `~` sorts before everything, even the end of the string) and digit runs
//! (compared numerically). [`Version`] keeps the original text, so printing
//! it back gives exactly what the archive said.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::exit::{ExitCode, FAILURE};

/// Why a string is not a Debian version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Nothing at all.
    #[error("version string is empty")]
    Empty,
    /// Longer than any version (64 KiB); the length.
    #[error("version string of {0} bytes is too long")]
    TooLong(usize),
    /// Spaces, tabs or line breaks inside.
    #[error("version `{0}` contains whitespace")]
    Whitespace(String),
    /// The part before the first colon is not a number.
    #[error("epoch of version `{0}` is not a non-negative number below 2^31")]
    BadEpoch(String),
    /// Nothing between the epoch colon and the revision.
    #[error("upstream part of version `{0}` is empty")]
    EmptyUpstream(String),
    /// A trailing hyphen.
    #[error("revision of version `{0}` is empty")]
    EmptyRevision(String),
    /// A character dpkg does not allow in the upstream part.
    #[error("version `{version}` has invalid character {ch:?} in its upstream part")]
    BadUpstreamChar {
        /// The whole version.
        version: String,
        /// The offending character.
        ch: char,
    },
    /// A character dpkg does not allow in the revision.
    #[error("version `{version}` has invalid character {ch:?} in its revision")]
    BadRevisionChar {
        /// The whole version.
        version: String,
        /// The offending character.
        ch: char,
    },
}

impl ExitCode for VersionError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// A validated Debian version that keeps its original spelling.
///
/// Equality follows dpkg's ordering, so `1.0`, `0:1.0` and `1.0-0` are
/// equal; [`Hash`] hashes a normalized form consistent with that.
#[derive(Clone)]
pub struct Version {
    /// Boxed, with `u32` offsets: a sync holds one per listed package.
    raw: Box<str>,
    epoch: u32,
    /// Byte range of the upstream part in `raw`.
    up_start: u32,
    up_end: u32,
}

/// The longest version accepted.
const MAX_VERSION: usize = 64 << 10;

impl Version {
    /// Parses and validates `s` as dpkg does.
    ///
    /// Like dpkg, an upstream part that does not start with a digit is
    /// accepted (dpkg only warns); whitespace, control characters and other
    /// characters outside `[A-Za-z0-9.+~:-]` are rejected.
    pub fn parse(s: &str) -> Result<Version, VersionError> {
        if s.is_empty() {
            return Err(VersionError::Empty);
        }
        if s.len() > MAX_VERSION {
            return Err(VersionError::TooLong(s.len()));
        }
        if s.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(VersionError::Whitespace(s.to_owned()));
        }
        let (epoch, up_start) = match s.find(':') {
            Some(i) => {
                let e = &s[..i];
                if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(VersionError::BadEpoch(s.to_owned()));
                }
                match e.parse::<u32>() {
                    Ok(n) if n <= i32::MAX as u32 => (n, i + 1),
                    _ => return Err(VersionError::BadEpoch(s.to_owned())),
                }
            }
            None => (0, 0),
        };
        let rest = &s[up_start..];
        let up_end = match rest.rfind('-') {
            Some(i) => {
                if i + 1 == rest.len() {
                    return Err(VersionError::EmptyRevision(s.to_owned()));
                }
                up_start + i
            }
            None => s.len(),
        };
        let upstream = &s[up_start..up_end];
        if upstream.is_empty() {
            return Err(VersionError::EmptyUpstream(s.to_owned()));
        }
        if let Some(ch) = upstream
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '~' | ':')))
        {
            return Err(VersionError::BadUpstreamChar {
                version: s.to_owned(),
                ch,
            });
        }
        if up_end < s.len()
            && let Some(ch) = s[up_end + 1..]
                .chars()
                .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~')))
        {
            return Err(VersionError::BadRevisionChar {
                version: s.to_owned(),
                ch,
            });
        }
        // Both are at most MAX_VERSION.
        let offset = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        Ok(Version {
            raw: s.into(),
            epoch,
            up_start: offset(up_start),
            up_end: offset(up_end),
        })
    }

    /// The version exactly as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The epoch, 0 when absent.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream part (between the epoch colon and the last hyphen).
    pub fn upstream(&self) -> &str {
        self.raw
            .get(self.up_start as usize..self.up_end as usize)
            .unwrap_or("")
    }

    /// The Debian revision (after the last hyphen), empty when absent.
    pub fn revision(&self) -> &str {
        self.raw.get(self.up_end as usize + 1..).unwrap_or("")
    }
}

/// Splits a raw version into (epoch, upstream, revision) without validating.
///
/// A non-numeric or oversized epoch counts as 0, which is as good as any
/// answer for strings dpkg itself would refuse.
fn split(s: &str) -> (u64, &[u8], &[u8]) {
    let s = s.as_bytes();
    let (epoch, rest) = match s.iter().position(|&b| b == b':') {
        Some(i) => {
            let mut e: u64 = 0;
            for &b in &s[..i] {
                if !b.is_ascii_digit() {
                    e = 0;
                    break;
                }
                e = e.saturating_mul(10).saturating_add(u64::from(b - b'0'));
            }
            (e, &s[i + 1..])
        }
        None => (0, s),
    };
    match rest.iter().rposition(|&b| b == b'-') {
        Some(i) => (epoch, &rest[..i], &rest[i + 1..]),
        None => (epoch, rest, &[]),
    }
}

/// dpkg's per-character weight for non-digit runs; `0` stands for the end.
#[inline]
fn order(c: u8) -> i32 {
    match c {
        0 | b'0'..=b'9' => 0,
        b'a'..=b'z' | b'A'..=b'Z' => i32::from(c),
        b'~' => -1,
        _ => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp` on one part (upstream or revision).
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        // Non-digit run.
        loop {
            let (ca, cb) = (at(a, i), at(b, j));
            // By position, not by value: a NUL inside unvalidated input
            // is a character to step over, not the end.
            let a_nd = i < a.len() && !ca.is_ascii_digit();
            let b_nd = j < b.len() && !cb.is_ascii_digit();
            if !(a_nd || b_nd) {
                break;
            }
            let (oa, ob) = (order(ca), order(cb));
            if oa != ob {
                return oa.cmp(&ob);
            }
            i += 1;
            j += 1;
        }
        // Digit run, compared numerically.
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// Compares two version strings in dpkg order, without allocating.
///
/// Works on unvalidated input too (a malformed epoch counts as 0).
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| verrevcmp(ua, ub))
        .then_with(|| verrevcmp(ra, rb))
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream().as_bytes(), other.upstream().as_bytes()))
            .then_with(|| verrevcmp(self.revision().as_bytes(), other.revision().as_bytes()))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

/// Feeds `part` with leading zeros of every digit run dropped, which maps
/// all `verrevcmp`-equal parts to the same byte sequence.
fn hash_part<H: Hasher>(part: &[u8], state: &mut H) {
    let mut in_digits = false;
    let mut leading = false;
    for &c in part {
        if c.is_ascii_digit() {
            if !in_digits {
                in_digits = true;
                leading = true;
            }
            if leading && c == b'0' {
                continue;
            }
            leading = false;
        } else {
            in_digits = false;
        }
        state.write_u8(c);
    }
    state.write_u8(0xff);
}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u32(self.epoch);
        hash_part(self.upstream().as_bytes(), state);
        hash_part(self.revision().as_bytes(), state);
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({:?})", self.raw)
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

impl AsRef<str> for Version {
    fn as_ref(&self) -> &str {
        &self.raw
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Version::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;
    use std::process::Command;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn a_nul_inside_unvalidated_input_ends_the_comparison() {
        // Found by fuzzing changelogs: a NUL byte was taken for the end of
        // the string and never stepped over.
        assert_eq!(compare("2\u{1}\0\0.10-3", "2.10-3"), Ordering::Less);
        assert_eq!(compare("1\0a", "1\0a"), Ordering::Equal);
        assert_eq!(compare("1\0", "1"), Ordering::Equal);
    }

    #[test]
    fn known_orderings() {
        use Ordering::*;
        let table = [
            ("1.0~rc1", "1.0", Less),
            ("1:0.1", "2.0", Greater),
            ("1.0-1", "1.0-1+b1", Less),
            ("2.30-3", "2.3-3", Greater),
            ("1.0", "1.0", Equal),
            ("1.0", "0:1.0", Equal),
            ("1.0", "1.0-0", Equal),
            ("1.00", "1.0", Equal),
            ("1.0", "1.0.0", Less),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0.", Less),
            ("1.0~", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0~~a", "1.0~~", Greater),
            ("1.0~beta", "1.0~alpha", Greater),
            ("1.0+dfsg", "1.0", Greater),
            ("1.0+dfsg-1", "1.0-1", Greater),
            ("10", "9", Greater),
            ("1.10", "1.9", Greater),
            ("2:1", "1:9", Greater),
            ("1.2.3-1ubuntu1", "1.2.3-1", Greater),
            ("1.2.3-1~bpo12+1", "1.2.3-1", Less),
            ("7.88.1-10+deb12u8", "7.88.1-10+deb12u5", Greater),
            ("1.0-1", "1.0-a", Less),
            ("a", "1", Greater),
            ("1:1.0-1", "1.0-1", Greater),
        ];
        for (a, b, want) in table {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
            assert_eq!(v(a).cmp(&v(b)), want, "{a} vs {b}");
        }
    }

    #[test]
    fn parts() {
        let x = v("2:1.2-3-4");
        assert_eq!(x.epoch(), 2);
        assert_eq!(x.upstream(), "1.2-3");
        assert_eq!(x.revision(), "4");
        assert_eq!(x.as_str(), "2:1.2-3-4");
        let y = v("1.0");
        assert_eq!((y.epoch(), y.upstream(), y.revision()), (0, "1.0", ""));
        let z = v("1:2:3");
        assert_eq!((z.epoch(), z.upstream(), z.revision()), (1, "2:3", ""));
        assert_eq!(v("abc").upstream(), "abc");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            " ",
            "1.0 ",
            " 1.0",
            "1 0",
            "1.0\n",
            "a:1.0",
            ":1.0",
            "1:",
            "1.0-",
            "-1",
            "1:-1",
            "1.0_1",
            "1.0-1:2",
            "1.0-1-",
            "1.\u{7f}",
            "99999999999:1",
            "1.0\u{e9}",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            Version::parse("1.0_1").unwrap_err().to_string(),
            "version `1.0_1` has invalid character '_' in its upstream part"
        );
    }

    fn hash_of(x: &Version) -> u64 {
        let mut s = DefaultHasher::new();
        x.hash(&mut s);
        s.finish()
    }

    #[test]
    fn hash_consistent_with_eq() {
        let h = hash_of;
        for (a, b) in [
            ("1.0", "0:1.0"),
            ("1.0", "1.0-0"),
            ("1.00", "1.0"),
            ("01", "1"),
        ] {
            assert_eq!(v(a), v(b));
            assert_eq!(h(&v(a)), h(&v(b)), "{a} vs {b}");
        }
    }

    #[test]
    fn serde_as_string() {
        let x = v("1:2.0-1");
        let j = serde_json::to_string(&x).unwrap();
        assert_eq!(j, "\"1:2.0-1\"");
        let back: Version = serde_json::from_str(&j).unwrap();
        assert_eq!(back.as_str(), "1:2.0-1");
        assert!(serde_json::from_str::<Version>("\"1.0 x\"").is_err());
        assert_eq!(format!("{x}"), "1:2.0-1");
        assert_eq!("1.0".parse::<Version>().unwrap(), v("1.0"));
    }

    /// Asks the real dpkg for the order of `a` and `b`.
    fn dpkg_order(a: &str, b: &str) -> Ordering {
        let run = |op: &str| {
            Command::new("dpkg")
                .args(["--compare-versions", a, op, b])
                .status()
                .expect("spawn dpkg")
                .success()
        };
        if run("lt") {
            Ordering::Less
        } else if run("eq") {
            Ordering::Equal
        } else {
            assert!(run("gt"), "dpkg says neither lt, eq nor gt for {a} {b}");
            Ordering::Greater
        }
    }

    fn version_strategy() -> impl Strategy<Value = String> {
        let upstream = "[0-9][0-9a-z.+~]{0,7}";
        let revision = proptest::option::of("[0-9a-z.+~]{1,5}");
        let epoch = proptest::option::of(0u32..4);
        (epoch, upstream, revision).prop_map(|(e, u, r)| {
            let mut s = String::new();
            if let Some(e) = e {
                s.push_str(&format!("{e}:"));
            }
            s.push_str(&u);
            if let Some(r) = r {
                s.push('-');
                s.push_str(&r);
            }
            s
        })
    }

    /// Pairs that often share a prefix, so the interesting cases come up.
    fn pair_strategy() -> impl Strategy<Value = (String, String)> {
        (
            version_strategy(),
            version_strategy(),
            "[0-9a-z.+~]{0,3}",
            any::<bool>(),
        )
            .prop_map(|(a, b, suffix, related)| {
                if related {
                    let b2 = format!("{a}{suffix}");
                    (a, b2)
                } else {
                    (a, b)
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn agrees_with_dpkg((a, b) in pair_strategy()) {
            prop_assume!(Version::parse(&a).is_ok() && Version::parse(&b).is_ok());
            let want = dpkg_order(&a, &b);
            prop_assert_eq!(compare(&a, &b), want, "{} vs {}", a, b);
            prop_assert_eq!(v(&a).cmp(&v(&b)), want);
            if want == Ordering::Equal {
                prop_assert_eq!(hash_of(&v(&a)), hash_of(&v(&b)));
            }
        }
    }
}
