//! Mirrors used together: a mirror **group**.
//!
//! apt sees all of a machine's sources at once, so the mirrors made from
//! them (a suite, its `-updates`, its `-security`) must close their
//! dependencies together: the security suite's curl needs libraries only
//! the main suite has. A member's sync therefore reads, besides its own
//! indices, the other members' last verified `Packages` indices — from the
//! index cache, by the SHA256 their current revision recorded, hashed
//! again — and lists their packages after its own under extra component
//! numbers. Each member's filter selects roots among its own packages, one
//! dependency closure runs over the union, and the syncing mirror keeps the
//! packages of its own upstream that the closure needs. A member that has
//! not synced yet, or whose cached index is gone, contributes nothing (a
//! warning says which).

use crate::digest::Sha256;
use crate::fetch::{self, Compression};
use crate::model::Mirror;
use crate::ops::Context;
use crate::ops::index_cache::IndexCache;
use crate::ops::upstream::{Upstream, UpstreamError, index_architecture};
use crate::query::{Candidate, ClosureOptions, Filter, Selection, select_roots};

use super::plan::{kept_fields, selection_rules};
use super::{SyncError, warn};

/// Largest decompressed index accepted (as for the mirror's own).
const MAX_INDEX_BYTES: u64 = 4 << 30;

/// The other members of a mirror's group, as their last syncs left them.
#[derive(Default)]
pub(super) struct Others {
    members: Vec<Member>,
}

/// One other member.
struct Member {
    name: String,
    /// Its own filter: the roots it contributes.
    filter: Filter,
    /// What a change of this member changes for the syncing one.
    digest_part: String,
    /// Its current revision's `Packages` indices: (component, path, SHA256).
    indices: Vec<(String, String, Sha256)>,
}

impl Others {
    /// The other members of `mirror`'s group that have a current revision;
    /// none when it is in no group.
    pub fn load(ctx: &Context, mirror: &Mirror) -> Result<Others, SyncError> {
        let Some(group) = &mirror.spec.group else {
            return Ok(Others::default());
        };
        let mut members = Vec::new();
        for other in ctx.db.mirrors()? {
            if other.id == mirror.id || other.spec.group.as_ref() != Some(group) {
                continue;
            }
            let Some(rev) = other.state.revision else {
                continue;
            };
            let Some(revision) = ctx.db.revision(rev)? else {
                continue;
            };
            let indices = packages_indices(revision.stats.get("indices"));
            let (filter, _) = selection_rules(&other)?;
            let digest_part = format!(
                "{}\n{}\n{}",
                other.name,
                serde_json::to_string(&other.spec).unwrap_or_default(),
                serde_json::to_string(&indices).unwrap_or_default()
            );
            members.push(Member {
                name: other.name,
                filter,
                digest_part,
                indices,
            });
        }
        members.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Others { members })
    }

    /// Whether there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Text that changes whenever a member's definition or indices do, for
    /// the syncing mirror's configuration digest: a member's new indices
    /// re-evaluate the closure even when this mirror's upstream is unchanged.
    pub fn digest_part(&self) -> String {
        self.members
            .iter()
            .map(|m| m.digest_part.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// Adds the control fields the members' filters read to `fields`.
    pub fn add_fields(&self, fields: &mut Vec<String>, closure: &ClosureOptions) {
        for m in &self.members {
            for f in kept_fields(&m.filter, closure) {
                if !fields.iter().any(|have| have.eq_ignore_ascii_case(&f)) {
                    fields.push(f);
                }
            }
        }
    }

    /// Parses the members' indices into `upstream` after the mirror's own
    /// `own` component numbers, appending each index's component to
    /// `components`. Returns, for each added component number (from `own`
    /// on), the member whose filter roots its packages.
    pub fn read_into(
        &self,
        ctx: &Context,
        mirror: &str,
        upstream: &mut Upstream,
        components: &mut Vec<String>,
    ) -> Result<Roots<'_>, SyncError> {
        let own = components.len();
        let cache = IndexCache::new(&ctx.settings.root);
        let mut member_of = Vec::new();
        for (m, member) in self.members.iter().enumerate() {
            for (component, path, sha256) in &member.indices {
                let missing = |why: String| {
                    format!(
                        "group member `{}`: its index `{path}` is {why}; its packages do not count for this sync",
                        member.name
                    )
                };
                let entry = match cache.verified(sha256) {
                    Ok(Some(entry)) => entry,
                    Ok(None) => {
                        warn(ctx, mirror, missing("not in the index cache".into()));
                        continue;
                    }
                    Err(e) => {
                        warn(
                            ctx,
                            mirror,
                            missing(format!("unreadable in the index cache ({e})")),
                        );
                        continue;
                    }
                };
                let number = u32::try_from(components.len()).unwrap_or(u32::MAX);
                fetch::open_decompressed(&entry, compression_of(path), MAX_INDEX_BYTES)
                    .map_err(|e| UpstreamError::Parse(e.to_string()))
                    .and_then(|reader| upstream.parse(reader, number, index_architecture(path)))
                    .map_err(|e| match e {
                        UpstreamError::Parse(detail) => SyncError::BadIndex {
                            mirror: mirror.to_owned(),
                            index: format!("{path} (of group member `{}`)", member.name),
                            detail,
                        },
                        spool => SyncError::spool(mirror, spool),
                    })?;
                components.push(component.clone());
                member_of.push(m);
            }
        }
        Ok(Roots {
            others: self,
            own,
            member_of,
        })
    }
}

/// The mirrors of a run to sync once more, in run order: each member of a
/// group that was synced before another member of its group changed in
/// the same run, so its closure sees that member's new indices. (A member
/// reads the others' indices, never their selections, so one more pass
/// suffices.) `run` lists each mirror synced, in order, with whether it
/// committed a new revision.
pub fn group_resyncs(ctx: &Context, run: &[(String, bool)]) -> Result<Vec<String>, SyncError> {
    let mut groups = Vec::with_capacity(run.len());
    for (name, _) in run {
        groups.push(ctx.db.mirror(name)?.and_then(|m| m.spec.group));
    }
    let mut out = Vec::new();
    for (i, (name, _)) in run.iter().enumerate() {
        let Some(group) = &groups[i] else { continue };
        let later_change = run
            .iter()
            .zip(&groups)
            .skip(i + 1)
            .any(|((other, changed), g)| *changed && other != name && g.as_ref() == Some(group));
        if later_change && !out.contains(name) {
            out.push(name.clone());
        }
    }
    Ok(out)
}

/// For each mirror of a run, in order: whether a later mirror of the run is
/// in its group (then it re-evaluates after that one).
pub fn later_group_members(ctx: &Context, run: &[String]) -> Result<Vec<bool>, SyncError> {
    let mut groups = Vec::with_capacity(run.len());
    for name in run {
        groups.push(ctx.db.mirror(name)?.and_then(|m| m.spec.group));
    }
    Ok((0..run.len())
        .map(|i| {
            groups[i]
                .as_ref()
                .is_some_and(|g| groups[i + 1..].iter().any(|o| o.as_ref() == Some(g)))
        })
        .collect())
}

/// Which filter roots the packages of each component number.
pub(super) struct Roots<'a> {
    others: &'a Others,
    /// Component numbers below this are the syncing mirror's own.
    own: usize,
    /// The member of each component number from `own` on.
    member_of: Vec<usize>,
}

impl Roots<'_> {
    /// The mirror's own selection — its filter and closure over its own
    /// packages, as without a group — plus what the group needs of it:
    /// each member's filter roots among its own packages, one closure over
    /// all, and the syncing mirror's own packages of that closure added. So
    /// a group only ever adds to a member (a newer library in another
    /// member never takes away the one this member's own packages use).
    /// Unsatisfiable dependencies and left-out alternatives are the group
    /// closure's, for this mirror's packages.
    pub fn select<C: Candidate>(
        &self,
        packages: &[C],
        component_of: impl Fn(&C) -> usize,
        filter: &Filter,
        closure: &ClosureOptions,
    ) -> Selection {
        let own = |i: usize| component_of(&packages[i]) < self.own;
        // The mirror's own packages come first (its indices are read
        // first, and deduplication keeps the order): its own closure runs
        // over them alone.
        let mine = packages
            .iter()
            .take_while(|p| component_of(p) < self.own)
            .count();
        let alone = select_roots(&packages[..mine], |_, p| filter.matches(p), closure);
        if self.member_of.is_empty() {
            return alone;
        }
        let mut group = select_roots(
            packages,
            |_, p| match component_of(p).checked_sub(self.own) {
                None => filter.matches(p),
                Some(k) => self
                    .member_of
                    .get(k)
                    .is_some_and(|&m| self.others.members[m].filter.matches(p)),
            },
            closure,
        );
        let mut selected = alone.selected;
        selected.extend(group.selected.into_iter().filter(|&i| own(i)));
        selected.sort_unstable();
        selected.dedup();
        group.selected = selected;
        group.unresolved.retain(|u| own(u.package));
        group.left_out.retain(|l| own(l.package));
        group
    }

    /// Whether a package of another member is named `name`: a filter name
    /// the group has is no warning for the member that lacks it.
    pub fn others_have<C: Candidate>(
        &self,
        packages: &[C],
        component_of: impl Fn(&C) -> usize,
        name: &str,
    ) -> bool {
        !self.member_of.is_empty()
            && packages
                .iter()
                .any(|p| component_of(p) >= self.own && p.name() == name)
    }
}

/// The `Packages` indices among a revision's recorded indices (path →
/// SHA256), with their components: `main/binary-amd64/Packages.xz` → `main`.
fn packages_indices(recorded: Option<&serde_json::Value>) -> Vec<(String, String, Sha256)> {
    let Some(map) = recorded.and_then(serde_json::Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, sha) in map {
        // `main/debian-installer/binary-amd64/…` holds udebs, which close
        // among themselves, not with the group.
        let Some((component, rest)) = path
            .split_once("/binary-")
            .filter(|(c, _)| !c.contains('/'))
        else {
            continue;
        };
        let is_packages = rest
            .rsplit('/')
            .next()
            .is_some_and(|f| f.starts_with("Packages"));
        let sha = sha.as_str().and_then(|s| s.parse::<Sha256>().ok());
        if let (true, Some(sha)) = (is_packages, sha) {
            out.push((component.to_owned(), path.clone(), sha));
        }
    }
    out
}

/// The compression of an index file, by its name.
fn compression_of(path: &str) -> Compression {
    if path.ends_with(".xz") {
        Compression::Xz
    } else if path.ends_with(".gz") {
        Compression::Gzip
    } else {
        Compression::None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn recorded_packages_indices_and_their_components() {
        let sha = Sha256::of(b"x").to_string();
        let recorded = serde_json::json!({
            "main/binary-amd64/Packages.xz": sha,
            "contrib/binary-arm64/Packages": sha,
            "main/source/Sources.xz": sha,
            "main/i18n/Translation-en.xz": sha,
            "main/debian-installer/binary-amd64/Packages.xz": sha,
            "main/binary-amd64/Packages.gz": "not a digest",
        });
        let got: Vec<(String, String)> = packages_indices(Some(&recorded))
            .into_iter()
            .map(|(c, p, _)| (c, p))
            .collect();
        assert_eq!(
            got,
            [
                ("contrib".into(), "contrib/binary-arm64/Packages".into()),
                ("main".into(), "main/binary-amd64/Packages.xz".into()),
            ]
        );
        assert_eq!(compression_of("a/Packages.xz"), Compression::Xz);
        assert_eq!(compression_of("a/Packages.gz"), Compression::Gzip);
        assert_eq!(compression_of("a/Packages"), Compression::None);
    }
}
