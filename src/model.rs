//! Domain types shared by the database, the operations and the CLI.
//!
//! A [`MirrorSpec`] is what the operator asked for (URL, suite, components, …);
//! [`MirrorState`] is what debvault learned from the upstream on the last sync.
//! Identifiers are newtypes so a mirror id can never be passed as a package id.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
pub use crate::redact::MirrorUrl;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
    };
}

id_type!(
    /// Row id of a mirror.
    MirrorId
);
id_type!(
    /// Row id of a package (one name, version, architecture and SHA256).
    PackageId
);
id_type!(
    /// Row id of a stored package set.
    PackageSetId
);
id_type!(
    /// Row id of a mirror revision.
    RevisionId
);
id_type!(
    /// Row id of a snapshot.
    SnapshotId
);
id_type!(
    /// Row id of a publication.
    PublicationId
);
id_type!(
    /// Row id of a local repository.
    RepoId
);

/// What the operator configured for one mirror (one upstream suite).
///
/// Serialized with snake_case keys, as all JSON output is; the aliases read
/// rows that older databases stored with kebab-case keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct MirrorSpec {
    /// Archive base URL, e.g. `http://HOST/debian`; shown with its
    /// password masked.
    pub url: MirrorUrl,
    /// Suite or codename below `dists/`.
    pub suite: String,
    /// Components to mirror; empty means every component the Release lists.
    #[serde(default)]
    pub components: Vec<String>,
    /// Debian architectures to mirror (`all` packages come with them).
    pub architectures: Vec<String>,
    /// Keyring files the Release signature must verify against.
    #[serde(default)]
    pub keyrings: Vec<PathBuf>,
    /// Package filter expression; `None` mirrors everything.
    #[serde(default)]
    pub filter: Option<String>,
    /// Close the filtered set over Depends and Pre-Depends.
    #[serde(default, alias = "with-deps")]
    pub with_deps: bool,
    /// Also follow Recommends when closing over dependencies.
    #[serde(default, alias = "follow-recommends")]
    pub follow_recommends: bool,
    /// Pull in every alternative of `a | b` when closing over dependencies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follow_all_alternatives: bool,
    /// Accept an unsigned or unverifiable Release (explicit opt-in only).
    #[serde(default, alias = "allow-insecure")]
    pub allow_insecure: bool,
    /// Accept SHA-1 key-binding signatures on upstream keys (never data signatures).
    #[serde(default, alias = "allow-sha1-keys")]
    pub allow_sha1_keys: bool,
    /// Review mode: a sync stages additions and removals; `promote` makes them live.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub review: bool,
    /// Also mirror the source packages of the selected binaries (`<component>/source/Sources`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_sources: bool,
    /// Also mirror the Debian installer's packages
    /// (`<component>/debian-installer/binary-<arch>/Packages`, `.udeb` files).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_udebs: bool,
    /// Also mirror the installer images
    /// (`<component>/installer-<arch>/current/images/`, checked through `SHA256SUMS`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_installer: bool,
    /// The group of mirrors clients use together (a suite, its updates, its
    /// security suite): their dependencies close over all members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Version pins (from `apply`): a pinned version stays while upstream no longer lists it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pins: Vec<Pin>,
    /// Languages whose long descriptions (`i18n/Translation-<lang>`) are
    /// mirrored and published; empty: none. Mirrors defined before this
    /// existed get English, as apt asks for it by default.
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    /// Also mirror the AppStream metadata (`<component>/dep11/`) of the
    /// selected packages and the icons it names.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_appstream: bool,
    /// On demand: syncs verify and record the indices but download no
    /// package file; `serve` fetches one from upstream when a client first
    /// asks for it, `mirror fill` fetches them all.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_demand: bool,
}

/// The languages a mirror gets when none are given: `en`.
pub fn default_languages() -> Vec<String> {
    vec!["en".to_owned()]
}

/// Allowed versions of the packages whose name matches a glob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Pin {
    /// Package name or glob.
    pub name: String,
    /// The allowed versions.
    pub versions: Vec<String>,
}

impl MirrorSpec {
    /// `URL/dists/SUITE/` with exactly one slash between parts; for a flat
    /// repository, the directory its Release is in (`URL/DIR/`).
    pub fn dists_url(&self) -> String {
        let url = self.url.expose().trim_end_matches('/');
        if self.is_flat() {
            return format!("{url}/{}", self.suite.trim_start_matches("./"));
        }
        format!("{url}/dists/{}/", self.suite.trim_matches('/'))
    }

    /// A flat repository (`deb URL ./`, `deb URL dir/`): the suite is a
    /// directory, ending in `/`, holding the Release and the indices.
    pub fn is_flat(&self) -> bool {
        self.suite.ends_with('/')
    }

    /// `URL/` with a trailing slash, the base that pool `Filename`s are relative to.
    pub fn base_url(&self) -> String {
        format!("{}/", self.url.expose().trim_end_matches('/'))
    }

    /// The definition as the database keeps it: the URL with its
    /// credentials (serializing masks them).
    pub fn stored_json(&self) -> serde_json::Result<String> {
        let mut v = serde_json::to_value(self)?;
        v["url"] = self.url.expose().into();
        serde_json::to_string(&v)
    }
}

/// What the last syncs learned about the upstream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorState {
    /// `Date` of the last accepted Release (rollback protection).
    pub release_date: Option<DateTime<Utc>>,
    /// SHA256 of the last accepted InRelease (or Release) document.
    pub release_sha256: Option<Sha256>,
    /// HTTP validators of that document, for a conditional re-sync.
    pub etag: Option<String>,
    /// `Last-Modified` of that document.
    pub last_modified: Option<String>,
    /// When a sync last completed.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The error of the last failed sync, cleared by a successful one.
    pub last_error: Option<String>,
    /// The current revision.
    pub revision: Option<RevisionId>,
}

/// A mirror as stored.
#[derive(Clone, Debug, Serialize)]
pub struct Mirror {
    /// Row id.
    #[serde(skip)]
    pub id: MirrorId,
    /// Unique name.
    pub name: String,
    /// Configuration.
    #[serde(flatten)]
    pub spec: MirrorSpec,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Learned state.
    pub state: MirrorState,
}

/// A package row: one (name, version, architecture, SHA256) with its stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageRecord {
    /// Binary package name.
    pub name: String,
    /// Version string.
    pub version: String,
    /// Architecture (`amd64`, `all`, …).
    pub architecture: String,
    /// SHA256 of the `.deb`.
    pub sha256: Sha256,
    /// Size of the `.deb` in bytes.
    pub size: u64,
    /// Upstream pool path (`pool/main/c/curl/curl_….deb`).
    pub filename: String,
    /// Source package name.
    pub source: String,
    /// The control stanza as the upstream index had it.
    pub stanza: String,
}

/// The identity of a package within one suite: name, version and architecture.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PackageKey {
    /// Binary package name.
    pub name: String,
    /// Version string.
    pub version: String,
    /// Architecture.
    pub architecture: String,
}

impl std::fmt::Display for PackageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}_{}", self.name, self.version, self.architecture)
    }
}

/// Why a package is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FreezeKind {
    /// Sync found different content under the same (name, version, architecture).
    Content,
    /// An operator froze it (`debvault freeze`): no new versions, no removal.
    Manual,
}

impl FreezeKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FreezeKind::Content => "content",
            FreezeKind::Manual => "manual",
        }
    }
}

/// A held package: upstream changed its content under the same version, or an operator froze it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Freeze {
    /// The package that is held.
    pub key: PackageKey,
    /// Why.
    pub kind: FreezeKind,
    /// SHA256 of the copy that keeps serving.
    pub kept_sha256: Sha256,
    /// SHA256 that the upstream now announces.
    pub upstream_sha256: Sha256,
    /// Why it was frozen.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Where a snapshot's packages came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SnapshotOrigin {
    /// The current revisions of mirrors, combined as `snapshot create`
    /// says (the newest version wins, or the later mirror with `--later-wins`).
    Mirrors {
        /// The mirrors, in order.
        mirrors: Vec<MirrorSource>,
        /// Local repositories, in order, after the mirrors (`--from-repo`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        repos: Vec<RepoSource>,
    },
    /// A merge of snapshots.
    Merge {
        /// Source snapshot names, in order.
        sources: Vec<String>,
        /// Only the newest version of each package was kept.
        latest: bool,
    },
    /// A filtered snapshot.
    Filter {
        /// The source snapshot.
        source: String,
        /// The filter expression.
        filter: String,
        /// Whether the dependency closure was added.
        with_deps: bool,
    },
}

/// One mirror a snapshot was taken from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorSource {
    /// Mirror name at the time.
    pub name: String,
    /// Its upstream suite.
    pub suite: String,
    /// The revision taken.
    pub revision: RevisionId,
}

/// One local repository a snapshot was taken from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoSource {
    /// Repo name at the time.
    pub name: String,
    /// How many changes it had seen (its revision counter).
    pub revision: u64,
    /// Its default distribution then, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
}

/// A stored snapshot: an immutable, named package set.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// Row id.
    #[serde(skip)]
    pub id: SnapshotId,
    /// Unique name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// What it was made from, in words.
    pub description: String,
    /// What it was made from.
    pub origin: SnapshotOrigin,
    /// Architectures a publication writes indices for.
    pub architectures: Vec<String>,
    /// Number of packages.
    pub packages: u64,
    /// The package set.
    #[serde(skip)]
    pub package_set: PackageSetId,
}

/// The Release fields and signing policy a publication was rendered with.
///
/// Serialized with snake_case keys, as all JSON output is; the aliases read
/// rows that older databases stored with kebab-case keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct ReleaseOptions {
    /// `Origin`.
    pub origin: Option<String>,
    /// `Label`.
    pub label: Option<String>,
    /// `Suite` (default: the distribution).
    pub suite: Option<String>,
    /// `Codename` (default: the distribution).
    pub codename: Option<String>,
    /// `Valid-Until` is `Date` plus this many seconds.
    #[serde(alias = "valid-for-secs")]
    pub valid_for_secs: Option<u64>,
    /// `NotAutomatic: yes`.
    #[serde(alias = "not-automatic")]
    pub not_automatic: bool,
    /// `ButAutomaticUpgrades: yes`.
    #[serde(alias = "but-automatic-upgrades")]
    pub but_automatic_upgrades: bool,
    /// Base URL of the prefix as clients reach it; enables the `Snapshots` field.
    #[serde(alias = "snapshots-url")]
    pub snapshots_url: Option<String>,
    /// Publish no `Contents` indices.
    #[serde(default)]
    pub no_contents: bool,
    /// Publish no changelogs (and no `Changelogs` field).
    #[serde(default)]
    pub no_changelogs: bool,
    /// URL clients reach the prefix at; enables the `Changelogs` field.
    #[serde(default)]
    pub base_url: Option<String>,
}

impl ReleaseOptions {
    /// The options a publication's row stores. A row written before
    /// changelogs had a setting of their own has `no_contents` alone, which
    /// then meant no changelogs either: such a publication keeps none.
    pub fn from_stored(json: &str) -> Result<Self, serde_json::Error> {
        let row: serde_json::Value = serde_json::from_str(json)?;
        let has_key = row.get("no_changelogs").is_some();
        let mut o: ReleaseOptions = serde_json::from_value(row)?;
        if o.no_contents && !has_key {
            o.no_changelogs = true;
        }
        Ok(o)
    }
}

/// A distribution published under a prefix.
#[derive(Clone, Debug, Serialize)]
pub struct Publication {
    /// Row id.
    #[serde(skip)]
    pub id: PublicationId,
    /// Prefix below the endpoint (`.` for its root).
    pub prefix: String,
    /// Distribution (`dists/<distribution>`).
    pub distribution: String,
    /// The published snapshot.
    #[serde(skip)]
    pub snapshot_id: SnapshotId,
    /// Its name.
    pub snapshot: String,
    /// Release options.
    pub options: ReleaseOptions,
    /// The tree currently switched in (a UTC time, `%Y%m%dT%H%M%SZ`).
    pub tree: String,
    /// SHA256 of the signed Release.
    pub release_sha256: Sha256,
    /// `Valid-Until` of the Release, if any.
    pub valid_until: Option<DateTime<Utc>>,
    /// When it was switched in.
    pub published_at: DateTime<Utc>,
    /// Statistics of that publish (JSON object).
    pub stats: serde_json::Value,
    /// Which snapshot serves which component, in the order given, when
    /// several snapshots are published together (`--component`); empty when
    /// one snapshot is published with its own components.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<PublishedComponent>,
}

impl Publication {
    /// What it publishes, in words: the snapshot's name, or
    /// `main=a,internal=b` for several snapshots as components.
    pub fn snapshots_text(&self) -> String {
        if self.components.is_empty() {
            self.snapshot.clone()
        } else {
            components_text(self.components.iter().map(|c| (&c.component, &c.snapshot)))
        }
    }

    /// Every snapshot it publishes.
    pub fn snapshot_ids(&self) -> Vec<SnapshotId> {
        if self.components.is_empty() {
            vec![self.snapshot_id]
        } else {
            self.components.iter().map(|c| c.snapshot_id).collect()
        }
    }
}

/// `main=a,internal=b`: components and the snapshots that serve them.
pub fn components_text<'a>(pairs: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    pairs
        .map(|(c, s)| format!("{c}={s}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// One component of a publication of several snapshots, and the snapshot
/// whose packages it lists (whatever their components in the snapshot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublishedComponent {
    /// The component (`dists/<dist>/<component>`, `pool/<component>`).
    pub component: String,
    /// The snapshot's row.
    #[serde(skip)]
    pub snapshot_id: SnapshotId,
    /// Its name.
    pub snapshot: String,
}

/// Checks a mirror (or snapshot) name: letters, digits, `.`, `_`, `-`; starts alphanumeric.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The Debian architecture name of the machine debvault runs on.
pub fn native_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "i386",
        "arm" => "armhf",
        "powerpc64" => "ppc64el",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "loongarch64" => "loong64",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_specs_are_snake_case_and_read_old_kebab_rows() {
        let old = r#"{"url":"http://h/d","suite":"s","architectures":["amd64"],"with-deps":true,"follow-recommends":true,"allow-insecure":true,"allow-sha1-keys":true}"#;
        let spec: MirrorSpec = serde_json::from_str(old).expect("old row");
        assert!(spec.with_deps && spec.follow_recommends && spec.allow_insecure);
        assert!(spec.allow_sha1_keys);
        let json = serde_json::to_string(&spec).expect("json");
        assert!(json.contains(r#""with_deps":true"#), "{json}");
        assert!(!json.contains("with-deps"), "{json}");
    }

    #[test]
    fn release_options_are_snake_case_and_read_old_kebab_rows() {
        let old = r#"{"origin":"o","label":null,"suite":null,"codename":null,"valid-for-secs":60,"not-automatic":true,"but-automatic-upgrades":true,"snapshots-url":"http://h/"}"#;
        let o: ReleaseOptions = serde_json::from_str(old).expect("old row");
        assert_eq!(o.valid_for_secs, Some(60));
        assert!(o.not_automatic && o.but_automatic_upgrades);
        assert_eq!(o.snapshots_url.as_deref(), Some("http://h/"));
        let json = serde_json::to_string(&o).expect("json");
        assert!(json.contains(r#""valid_for_secs":60"#), "{json}");
        assert!(!json.contains('-'), "{json}");
        let back: ReleaseOptions = serde_json::from_str(&json).expect("new row");
        assert_eq!(back, o);
    }

    #[test]
    fn rows_from_before_no_changelogs_keep_no_changelogs_with_no_contents() {
        let old = r#"{"origin":null,"label":null,"suite":null,"codename":null,"valid_for_secs":null,"not_automatic":false,"but_automatic_upgrades":false,"snapshots_url":null,"no_contents":true}"#;
        let o = ReleaseOptions::from_stored(old).expect("old row");
        assert!(o.no_contents && o.no_changelogs);
        let json = serde_json::to_string(&ReleaseOptions {
            no_contents: true,
            ..ReleaseOptions::default()
        })
        .expect("json");
        let new = ReleaseOptions::from_stored(&json).expect("new row");
        assert!(new.no_contents && !new.no_changelogs, "{json}");
        let o = ReleaseOptions::from_stored(&old.replace("true", "false")).expect("row");
        assert!(!o.no_contents && !o.no_changelogs);
        // Only the key counts, not a value that spells it.
        let named = old.replace(r#""origin":null"#, r#""origin":"no_changelogs""#);
        assert!(
            ReleaseOptions::from_stored(&named)
                .expect("row")
                .no_changelogs
        );
    }

    #[test]
    fn names() {
        assert!(valid_name("bookworm-main"));
        assert!(valid_name("a1.b_c"));
        assert!(!valid_name("-x"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name(""));
    }

    #[test]
    fn urls() {
        let spec = MirrorSpec {
            url: MirrorUrl::new("http://h/debian/"),
            suite: "bookworm".into(),
            components: vec![],
            architectures: vec!["amd64".into()],
            keyrings: vec![],
            filter: None,
            with_deps: false,
            follow_recommends: false,
            follow_all_alternatives: false,
            allow_insecure: false,
            allow_sha1_keys: false,
            review: false,
            with_sources: false,
            with_udebs: false,
            with_installer: false,
            group: None,
            pins: vec![],
            languages: default_languages(),
            with_appstream: false,
            on_demand: false,
        };
        assert_eq!(spec.dists_url(), "http://h/debian/dists/bookworm/");
        assert_eq!(spec.base_url(), "http://h/debian/");
        let flat = |suite: &str| MirrorSpec {
            suite: suite.into(),
            ..spec.clone()
        };
        assert_eq!(flat("./").dists_url(), "http://h/debian/");
        assert_eq!(flat("amd64/").dists_url(), "http://h/debian/amd64/");
        assert!(flat("./").is_flat() && !spec.is_flat());
    }
}
