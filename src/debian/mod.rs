//! Debian archive formats: versions, relation fields, deb822 stanzas,
//! Release files, Packages, Sources and Translation entries and safe
//! archive-relative paths.
//!
//! Everything a mirror reads from an apt repository is parsed here, with
//! dpkg-compatible semantics, so the rest of the crate works on validated
//! types instead of raw text.

pub mod apt_sources;
pub mod changelog;
pub mod changes;
pub mod checksums;
pub mod cnf;
pub mod contents;
pub mod deb;
pub mod deb822;
#[cfg(feature = "full")]
pub mod deb_control;
#[cfg(feature = "full")]
pub mod deb_scan;
pub mod dep11;
pub mod packages;
pub mod relation;
pub mod release;
pub mod safe_path;
pub mod sources;
pub mod translation;
pub mod ustar;
pub mod version;
#[cfg(feature = "deflate")]
pub mod zip;

pub use cnf::{CnfError, CommandsEntry, CommandsReader};
pub use deb822::{Deb822Error, Stanza, StanzaReader, parse_str};
pub use packages::{BinaryPackage, PackageError, is_valid_package_name, pool_dir};
pub use relation::{
    Dependency, Relation, RelationError, VersionConstraint, VersionOp, parse_relations,
};
pub use release::{Release, ReleaseError, ReleaseFile};
pub use safe_path::{SafePath, UnsafePathError};
pub use sources::{SourceError, SourceFile, SourcePackage};
pub use translation::{TranslationEntry, TranslationError, TranslationReader};
pub use version::{Version, VersionError, compare};
