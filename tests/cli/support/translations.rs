//! Fixture upstreams shaped like Debian's for long descriptions: Packages
//! entries carry the one-line `Description` and its `Description-md5`, the
//! long text is in `i18n/Translation-<lang>`.

use debvault::digest::Sha256;
use md5::Digest as _;

use super::fixture::{Pkg, RawPkg, xz};

/// A package's description: its short line and long text.
#[derive(Clone, Debug)]
pub struct Described {
    pub pkg: Pkg,
    pub short: String,
    /// Lines of the long text (without their leading space; "." for a blank line).
    pub long: Vec<String>,
}

impl Described {
    pub fn new(pkg: Pkg, short: &str, long: &[&str]) -> Described {
        Described {
            pkg,
            short: short.to_owned(),
            long: long.iter().map(|l| (*l).to_owned()).collect(),
        }
    }

    /// The full `Description` value: short line, then ` line` for each long line.
    pub fn description(&self) -> String {
        let mut d = self.short.clone();
        for l in &self.long {
            d.push_str("\n ");
            d.push_str(l);
        }
        d
    }

    /// apt's `Description-md5`: MD5 of the full value and a newline.
    pub fn md5(&self) -> String {
        hex::encode(md5::Md5::digest(format!("{}\n", self.description())))
    }

    /// The package as Debian's Packages lists it: short Description and its md5.
    pub fn raw(&self) -> RawPkg {
        let p = &self.pkg;
        let deb = p.deb();
        let stanza = format!(
            "Package: {}\nVersion: {}\nArchitecture: {}\nMaintainer: Test <test@example.invalid>\nInstalled-Size: 1\nSection: {}\nPriority: {}\nFilename: {}\nSize: {}\nSHA256: {}\nDescription: {}\nDescription-md5: {}\n",
            p.name,
            p.version,
            p.arch,
            p.section,
            p.priority,
            p.pool_path(),
            deb.len(),
            Sha256::of(&deb),
            self.short,
            self.md5()
        );
        RawPkg {
            component: p.component.clone(),
            arch: p.arch.clone(),
            stanza,
            filename: p.pool_path(),
            data: deb,
        }
    }

    /// The package's Translation stanza for `lang`, its text tagged with `lang`
    /// when not English (so a test tells the languages apart).
    pub fn translation(&self, lang: &str) -> String {
        let mut d = self.description();
        if lang != "en" {
            d = d.replacen('\n', &format!("\n [{lang}]"), 1);
        }
        format!(
            "Package: {}\nDescription-md5: {}\nDescription-{lang}: {d}\n",
            self.pkg.name,
            self.md5()
        )
    }
}

/// `(main/i18n/Translation-<lang>.xz, bytes)` holding every package's entry.
pub fn translation_file(lang: &str, pkgs: &[Described]) -> (String, Vec<u8>) {
    let text: Vec<String> = pkgs.iter().map(|d| d.translation(lang)).collect();
    (
        format!("main/i18n/Translation-{lang}.xz"),
        xz(text.join("\n").as_bytes()),
    )
}
