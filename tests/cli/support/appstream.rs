//! Fixture upstreams shaped like Debian's for AppStream (DEP-11):
//! `main/dep11/Components-amd64.yml{,.gz,.xz}` (a header document, then one
//! document per software component, each naming its package) and
//! `main/dep11/icons-<size>.tar{,.gz}` (flat tars of `<package>_<id>.png`).

use debvault::debian::ustar;

use super::fixture::{gzip, xz};

/// The header document upstream writes first.
pub const HEADER: &str = "---
File: DEP-11
Version: '0.16'
Origin: fixture-stable-main
MediaBaseUrl: https://media.example.invalid/pool
Time: 20250101T000000
";

/// One software component of a package.
#[derive(Clone, Debug)]
pub struct Component {
    pub package: String,
    pub id: String,
}

impl Component {
    pub fn new(package: &str, id: &str) -> Component {
        Component {
            package: package.to_owned(),
            id: id.to_owned(),
        }
    }

    /// Its cached icon's file name.
    pub fn icon(&self) -> String {
        format!("{}_{}.png", self.package, self.id)
    }

    /// Its document as upstream writes it (a blank line inside a folded
    /// description, as appstream-generator writes paragraphs).
    pub fn document(&self) -> String {
        format!(
            "---
Type: desktop-application
ID: {id}
Package: {package}
Name:
  C: {id}
Summary:
  C: The {id} program
Description:
  C: >-
    <p>First paragraph of {id}.</p>

    <p>Second paragraph.</p>
Icon:
  cached:
  - name: {icon}
    width: 64
    height: 64
  - name: {icon}
    width: 128
    height: 128
  stock: {id}
Categories:
- Utility
",
            id = self.id,
            package = self.package,
            icon = self.icon(),
        )
    }

    /// The fake PNG of its icon at `size`.
    pub fn png(&self, size: &str) -> Vec<u8> {
        format!("\u{89}PNG {size} {}", self.icon()).into_bytes()
    }
}

/// The `dists/` files of a DEP-11 upstream for `components`, in file
/// order; `extra` documents (say, one without `Package`) follow them.
pub fn dep11_files(components: &[Component], extra: &str) -> Vec<(String, Vec<u8>)> {
    let mut yaml = HEADER.to_owned();
    for c in components {
        yaml.push_str(&c.document());
    }
    yaml.push_str(extra);
    let mut out = Vec::new();
    let stem = "main/dep11/Components-amd64.yml";
    out.push((stem.to_owned(), yaml.clone().into_bytes()));
    out.push((format!("{stem}.gz"), gzip(yaml.as_bytes())));
    out.push((format!("{stem}.xz"), xz(yaml.as_bytes())));
    for size in ["64x64", "128x128"] {
        let icons: Vec<(String, Vec<u8>)> =
            components.iter().map(|c| (c.icon(), c.png(size))).collect();
        let tar = ustar::write_flat(icons.iter().map(|(n, d)| (n.as_str(), d.as_slice())))
            .expect("icon tar");
        out.push((format!("main/dep11/icons-{size}.tar.gz"), gzip(&tar)));
        out.push((format!("main/dep11/icons-{size}.tar"), tar));
    }
    out
}

/// The entries (name, content) of a flat tar.
pub fn tar_entries(tar: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read as _;
    let mut reader = debvault::debian::deb::TarReader::new(tar);
    let mut out = Vec::new();
    while let Some(e) = reader.next_entry().expect("tar entry") {
        let mut data = Vec::new();
        reader
            .body(e.size)
            .read_to_end(&mut data)
            .expect("tar body");
        out.push((e.path, data));
    }
    out
}
