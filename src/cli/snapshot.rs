//! `debvault snapshot …`: create, inspect, compare, combine, drop and
//! publish snapshots.

use std::io::Write;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::Globals;
use super::failure::Result;
use super::output::{UsageError, human_bytes};
use super::printer::Kind;
use crate::config::parse_duration;
use crate::model::{ReleaseOptions, Snapshot};
use crate::ops::keys::{KeyStore, passphrase_from_env};
use crate::ops::publish::{PublishOptions, PublishOutcome, PublishReport, Setting, publish};
use crate::ops::snapshot::{self as ops, Change, DiffEntry, MergeStrategy, Merged, SnapshotDetail};
use crate::tree::layout::dists_path;

#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotCommand {
    /// Take an immutable snapshot of mirrors' and local repositories' current packages
    Create {
        /// Snapshot name [default: <first mirror or repo>-YYYYMMDD, made unique]
        name: Option<String>,
        /// Mirror to take packages from; repeat to combine (the newest version of each package wins)
        #[arg(long = "from-mirror", value_name = "MIRROR", required_unless_present_any = ["from_group", "from_repo"], add = super::complete::mirrors())]
        from_mirror: Vec<String>,
        /// Local repository to take packages from (after the mirrors); repeatable
        #[arg(long = "from-repo", value_name = "REPO", conflicts_with = "from_group", add = super::complete::repos())]
        from_repo: Vec<String>,
        /// Take one snapshot of each mirror of a group at once (`<mirror>-YYYYMMDD`, same time)
        #[arg(long = "from-group", value_name = "GROUP", conflicts_with_all = ["name", "from_mirror", "later_wins"])]
        from_group: Option<String>,
        /// Let a later mirror win even with a lower version (each downgrade is printed)
        #[arg(long)]
        later_wins: bool,
    },
    /// List snapshots
    List,
    /// Show a snapshot: counts per component and architecture, total size
    Show {
        /// Snapshot name
        #[arg(add = super::complete::snapshots())]
        name: String,
        /// Also list its packages
        #[arg(long)]
        with_packages: bool,
    },
    /// Compare two snapshots: added, removed, upgraded, downgraded, changed
    Diff {
        /// The older snapshot
        #[arg(add = super::complete::snapshots())]
        a: String,
        /// The newer snapshot
        #[arg(add = super::complete::snapshots())]
        b: String,
        /// Show each change's changelog entries since the old version, their CVE IDs and urgency
        #[arg(long)]
        changelog: bool,
    },
    /// Merge snapshots into a new one (the newest version of each package name and architecture wins)
    Merge {
        /// New snapshot name
        new: String,
        /// Source snapshots, in order
        #[arg(required = true, add = super::complete::snapshots())]
        sources: Vec<String>,
        /// Let a later source win even with a lower version (each downgrade is printed)
        #[arg(long, conflicts_with = "latest")]
        later_wins: bool,
        /// Now the default: the newest version wins (accepted for old scripts)
        #[arg(long, hide = true)]
        latest: bool,
    },
    /// Make a new snapshot of the packages of another that match a filter
    Filter {
        /// New snapshot name
        new: String,
        /// Source snapshot
        #[arg(add = super::complete::snapshots())]
        source: String,
        /// Filter, e.g. 'curl | git (>= 1:2.39) | Priority (required)'
        expr: String,
        /// Add the dependency closure (Depends, Pre-Depends) from the source
        #[arg(long)]
        with_deps: bool,
        /// Follow Recommends too
        #[arg(long)]
        follow_recommends: bool,
    },
    /// List every dependency (Pre-Depends, Depends) nothing in the snapshot satisfies; exit 3 if any
    Verify {
        /// Snapshot name
        #[arg(add = super::complete::snapshots())]
        name: String,
    },
    /// Write a software bill of materials of a snapshot: every package with purl and SHA256, and its sources
    Export(super::evidence::ExportArgs),
    /// Delete a snapshot (refused while it is published)
    Drop {
        /// Snapshot name
        #[arg(add = super::complete::snapshots())]
        name: String,
    },
    /// Rename a snapshot (its publications follow)
    Rename {
        /// Current name
        #[arg(add = super::complete::snapshots())]
        name: String,
        /// New name
        new_name: String,
    },
    /// Publish a snapshot as a signed apt tree, or switch a distribution to it atomically
    Publish(Box<PublishArgs>),
}

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// Snapshot name; several with `--component`, one per component
    #[arg(value_name = "NAME", required = true, add = super::complete::snapshots())]
    names: Vec<String>,
    /// Path below the publish endpoint [default: its root]
    #[arg(long, value_name = "PATH", default_value = ".")]
    prefix: String,
    /// Distribution, served as dists/<DIST> [default: the mirror's suite]
    #[arg(long, value_name = "DIST")]
    distribution: Option<String>,
    /// Publish the snapshots as these components, one per snapshot in order
    ///
    /// Each snapshot's packages are listed under its component, whatever
    /// their components in the snapshot; one Release lists them all and
    /// one switch serves them together. The components are a setting of
    /// the publication: a re-publish names every one, and changing them
    /// needs `--set`. Without it, one snapshot keeps its own components.
    #[arg(long, value_name = "NAME[,NAME…]", value_delimiter = ',')]
    component: Vec<String>,
    /// `Origin` field of the Release [default: debvault]
    #[arg(long)]
    origin: Option<String>,
    /// `Label` field of the Release [default: the distribution, after the prefix if any]
    #[arg(long)]
    label: Option<String>,
    /// `Suite` field of the Release [default: the distribution]
    #[arg(long)]
    suite: Option<String>,
    /// `Codename` field of the Release [default: the distribution]
    #[arg(long)]
    codename: Option<String>,
    /// Write `Valid-Until` this far after `Date`, e.g. 7d, 12h (re-publish to refresh)
    #[arg(long, value_name = "DURATION")]
    valid_for: Option<String>,
    /// `NotAutomatic: yes` (apt installs from it only when asked)
    #[arg(long)]
    not_automatic: bool,
    /// `ButAutomaticUpgrades: yes` (with --not-automatic: upgrades still follow it)
    #[arg(long)]
    but_automatic_upgrades: bool,
    /// URL clients reach the prefix at; writes a `Snapshots` field for `apt --snapshot`
    #[arg(long, value_name = "URL")]
    snapshots_url: Option<String>,
    /// Publish no Contents-<arch>.gz indices (for `apt-file`)
    ///
    /// Contents and changelogs are read from inside the .debs (once per
    /// package, kept in the database); each has its own switch.
    #[arg(long)]
    no_contents: bool,
    /// Publish no changelogs (for `apt changelog`): one file per source version
    ///
    /// Each source version's changelog is a file beside its pool files, as
    /// many files as the pool has directories; a static front or bucket that
    /// charges by the object may do without them.
    #[arg(long)]
    no_changelogs: bool,
    /// URL clients reach the prefix at; writes a `Changelogs` field for `apt changelog`
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Let the flags above change the publication's stored settings
    ///
    /// The Release flags are settings of the publication: the first publish
    /// stores them, later ones reuse them (a flag left out keeps its value).
    /// A flag that differs from the stored value is refused unless `--set`
    /// is given. `debvault publish show` lists the settings.
    #[arg(long)]
    set: bool,
    /// Put a stored setting back to its default (repeatable), e.g. `--unset snapshots-url`
    #[arg(long, value_name = "SETTING", value_parser = setting_parser())]
    unset: Vec<Setting>,
    /// Show what would be published, write nothing
    #[arg(long)]
    dry_run: bool,
    /// Publish even if dependencies are unmet (see `debvault snapshot verify`)
    #[arg(long)]
    allow_unmet: bool,
}

pub(crate) fn run(cmd: SnapshotCommand, g: &Globals) -> Result<u8> {
    match cmd {
        SnapshotCommand::Create {
            name,
            from_mirror,
            from_repo,
            from_group,
            later_wins,
        } => {
            let mut ctx = g.context()?;
            let today = chrono::Utc::now().date_naive();
            if let Some(group) = from_group {
                let snaps = ops::create_from_group(&mut ctx.db, &group, today)?;
                g.out.done(&snaps, |out| {
                    snaps.iter().try_for_each(|snap| created_line(out, snap))
                })?;
                return Ok(0);
            }
            let merged = ops::create_from_sources(
                &mut ctx.db,
                name.as_deref(),
                &from_mirror,
                &from_repo,
                strategy(later_wins),
                today,
            )?;
            merged_cmd(&merged, g)
        }
        SnapshotCommand::List => list(g),
        SnapshotCommand::Show {
            name,
            with_packages,
        } => show(&name, with_packages, g),
        SnapshotCommand::Diff { a, b, changelog } => diff(&a, &b, changelog, g),
        SnapshotCommand::Merge {
            new,
            sources,
            later_wins,
            latest: _,
        } => {
            let mut ctx = g.context()?;
            let merged = ops::merge(&mut ctx.db, &new, &sources, strategy(later_wins))?;
            merged_cmd(&merged, g)
        }
        SnapshotCommand::Filter {
            new,
            source,
            expr,
            with_deps,
            follow_recommends,
        } => {
            let mut ctx = g.context()?;
            let (snap, unresolved) = ops::filter(
                &mut ctx.db,
                &new,
                &source,
                &expr,
                with_deps,
                follow_recommends,
            )?;
            if !unresolved.is_empty() {
                g.out.warn(&format!(
                    "{} dependencies could not be resolved in `{source}`, e.g. {}",
                    unresolved.len(),
                    unresolved
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
            created(&snap, g)
        }
        SnapshotCommand::Drop { name } => {
            let mut ctx = g.context()?;
            ops::drop(&mut ctx.db, &name)?;
            let v = serde_json::json!({"snapshot": name, "dropped": true});
            g.out.done(&v, |out| {
                writeln!(out, "dropped snapshot `{name}`")?;
                Ok(())
            })?;
            Ok(0)
        }
        SnapshotCommand::Rename { name, new_name } => {
            let mut ctx = g.context()?;
            ops::rename(&mut ctx.db, &name, &new_name)?;
            super::mirror::renamed(g, "snapshot", &name, &new_name)
        }
        SnapshotCommand::Verify { name } => verify(&name, g),
        SnapshotCommand::Export(args) => super::evidence::export(&args, g),
        SnapshotCommand::Publish(args) => publish_cmd(*args, g),
    }
}

fn strategy(later_wins: bool) -> MergeStrategy {
    if later_wins {
        MergeStrategy::LaterWins
    } else {
        MergeStrategy::Newest
    }
}

/// How many downgrades a merge names one by one before summing up the rest.
const DOWNGRADES_SHOWN: usize = 20;

/// Reports a snapshot made from several sources: each downgrade it made is a
/// warning (stderr, every mode), the JSON carries them all.
fn merged_cmd(merged: &Merged, g: &Globals) -> Result<u8> {
    for d in merged.downgrades.iter().take(DOWNGRADES_SHOWN) {
        g.out.warn(&format!(
            "downgraded {} {}/{}: {} from `{}` replaces {} from `{}`",
            d.component,
            d.name,
            d.architecture,
            d.to_version,
            d.to_source,
            d.from_version,
            d.from_source
        ));
    }
    if merged.downgrades.len() > DOWNGRADES_SHOWN {
        g.out.warn(&format!(
            "… and {} more downgrades (--json lists them all)",
            merged.downgrades.len() - DOWNGRADES_SHOWN
        ));
    }
    created_as(merged, &merged.snapshot, g)
}

fn verify(name: &str, g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let report = crate::ops::installable::verify(&ctx.db, name)?;
    g.out.data(&report, |out| {
        for u in &report.unmet {
            writeln!(out, "{u}")?;
        }
        Ok(())
    })?;
    if report.unmet.is_empty() {
        g.out.note(&format!(
            "snapshot `{name}`: every dependency of its {} packages is satisfied",
            report.packages
        ));
        return Ok(0);
    }
    g.out.problem(&format!(
        "snapshot `{name}`: {} unmet {} among {} packages",
        report.unmet.len(),
        if report.unmet.len() == 1 {
            "dependency"
        } else {
            "dependencies"
        },
        report.packages
    ));
    Ok(crate::exit::VERIFICATION)
}

fn created(snap: &Snapshot, g: &Globals) -> Result<u8> {
    created_as(snap, snap, g)
}

/// "created snapshot …" for people; `value` (the snapshot, or more) as JSON.
fn created_as<T: Serialize>(value: &T, snap: &Snapshot, g: &Globals) -> Result<u8> {
    g.out.done(value, |out| created_line(out, snap))?;
    Ok(0)
}

/// "created snapshot `NAME` with N packages, DESCRIPTION".
fn created_line(out: &mut dyn Write, snap: &Snapshot) -> Result<()> {
    writeln!(
        out,
        "created snapshot `{}` with {} packages, {}",
        snap.name, snap.packages, snap.description
    )?;
    Ok(())
}

fn list(g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let snaps = ops::list(&ctx.db)?;
    if snaps.is_empty() {
        g.out
            .note("no snapshots; take one with `debvault snapshot create --from-mirror MIRROR`");
    }
    g.out.data(&snaps, |out| {
        if snaps.is_empty() {
            return Ok(());
        }
        writeln!(
            out,
            "{:<32} {:>8}  {:<20}  DESCRIPTION",
            "NAME", "PACKAGES", "CREATED"
        )?;
        for s in &snaps {
            writeln!(
                out,
                "{:<32} {:>8}  {:<20}  {}",
                s.name,
                s.packages,
                s.created_at.format("%Y-%m-%d %H:%M:%S"),
                s.description
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}

fn show(name: &str, with_packages: bool, g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let d = ops::show(&ctx.db, name, with_packages)?;
    g.out.data(&d, |out| print_show(out, &d))?;
    Ok(0)
}

fn print_show(out: &mut dyn Write, d: &SnapshotDetail) -> Result<()> {
    let snap = &d.snapshot;
    writeln!(out, "name:          {}", snap.name)?;
    writeln!(
        out,
        "created:       {}",
        snap.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    )?;
    writeln!(out, "source:        {}", snap.description)?;
    writeln!(out, "architectures: {}", snap.architectures.join(", "))?;
    writeln!(
        out,
        "packages:      {} ({})",
        snap.packages,
        human_bytes(d.bytes)
    )?;
    if d.published_as.is_empty() {
        writeln!(out, "published as:  (not published)")?;
    } else {
        writeln!(out, "published as:  {}", d.published_as.join(", "))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<16} {:<12} {:>8} {:>12}",
        "COMPONENT", "ARCH", "PACKAGES", "SIZE"
    )?;
    for c in &d.indices {
        writeln!(
            out,
            "{:<16} {:<12} {:>8} {:>12}",
            c.component,
            c.architecture,
            c.packages,
            human_bytes(c.bytes)
        )?;
    }
    if let Some(list) = &d.package_list {
        writeln!(out)?;
        for line in list {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct DiffJson<'a, T> {
    from: &'a str,
    to: &'a str,
    changes: &'a [T],
}

fn diff(a: &str, b: &str, changelog: bool, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    let changes = ops::diff(&ctx.db, a, b)?;
    let ev = if changelog {
        let queries = super::evidence::diff_queries(&changes);
        crate::ops::evidence::changelog::explain(&mut ctx, &queries)?
    } else {
        Vec::new()
    };
    let paired = super::evidence::pair(&changes, &ev);
    let human = |out: &mut dyn Write| -> Result<()> {
        for (n, c) in changes.iter().enumerate() {
            let (word, versions) = describe_change(c);
            writeln!(
                out,
                "{word:<10} {:<32} {:<8} {versions}",
                c.name, c.architecture
            )?;
            if let Some(e) = ev.get(n) {
                super::evidence::write_block(out, e)?;
            }
        }
        Ok(())
    };
    if changelog {
        let doc = DiffJson {
            from: a,
            to: b,
            changes: &paired,
        };
        g.out.data(&doc, human)?;
    } else {
        let doc = DiffJson {
            from: a,
            to: b,
            changes: &changes,
        };
        g.out.data(&doc, human)?;
    }
    let mut tally = [0usize; 5];
    for c in &changes {
        tally[c.change as usize] += 1;
    }
    g.out.note(&format!(
        "{} added, {} removed, {} upgraded, {} downgraded, {} changed",
        tally[0], tally[1], tally[2], tally[3], tally[4]
    ));
    Ok(0)
}

/// The word of a diff line and its versions.
fn describe_change(c: &DiffEntry) -> (&'static str, String) {
    let old = c.old_version.as_deref().unwrap_or_default();
    let new = c.new_version.as_deref().unwrap_or_default();
    match c.change {
        Change::Added => ("added", new.to_owned()),
        Change::Removed => ("removed", old.to_owned()),
        Change::Upgraded => ("upgraded", format!("{old} -> {new}")),
        Change::Downgraded => ("downgraded", format!("{old} -> {new}")),
        Change::Changed => ("changed", format!("{new} (same version, other content)")),
    }
}

fn publish_cmd(a: PublishArgs, g: &Globals) -> Result<u8> {
    let valid_for_secs = match &a.valid_for {
        None => None,
        Some(v) => Some(parse_duration(v).ok_or_else(|| {
            UsageError(format!(
                "`--valid-for` `{v}` is not a duration like 7d, 12h, 30m or 3600 (at most 100 years)"
            ))
        })?),
    };
    let opts = PublishOptions {
        prefix: a.prefix,
        distribution: a.distribution,
        components: a.component,
        release: ReleaseOptions {
            origin: a.origin,
            label: a.label,
            suite: a.suite,
            codename: a.codename,
            valid_for_secs,
            not_automatic: a.not_automatic,
            but_automatic_upgrades: a.but_automatic_upgrades,
            snapshots_url: a.snapshots_url,
            no_contents: a.no_contents,
            no_changelogs: a.no_changelogs,
            base_url: a.base_url,
        },
        set: a.set,
        unset: a.unset,
        dry_run: a.dry_run,
        render: Default::default(),
    };
    crate::ops::publish::check_components(a.names.len(), &opts.components)?;
    let mut ctx = g.context()?;
    if !a.allow_unmet {
        let names: Vec<&str> = a.names.iter().map(String::as_str).collect();
        crate::ops::installable::check_installable(&ctx.db, &names)?;
    }
    let opts = PublishOptions {
        render: crate::tree::RenderOptions {
            xz_preset: ctx.settings.xz_preset,
            ..Default::default()
        },
        ..opts
    };
    let keys = if a.dry_run {
        Vec::new()
    } else {
        KeyStore::new(
            ctx.settings.root.join("keys"),
            passphrase_from_env(&|k| std::env::var(k).ok())?,
        )
        .signing_keys()?
    };
    let report = publish(&mut ctx, &keys, &a.names, &opts)?;
    // A dry run's plan is what the user asked to see; a publish's line
    // confirms what it did.
    let kind = if a.dry_run { Kind::Data } else { Kind::Done };
    g.out
        .result(kind, &report, |out| print_publish(out, &report))?;
    Ok(0)
}

fn print_publish(out: &mut dyn Write, r: &PublishReport) -> Result<()> {
    let place = dists_path(&r.prefix, &r.distribution);
    match r.outcome {
        PublishOutcome::Unchanged => {
            writeln!(
                out,
                "`{}` is already published as `{place}`; nothing to do",
                r.snapshot
            )?;
        }
        PublishOutcome::DryRun => {
            writeln!(
                out,
                "would publish `{}` as `{place}`: {} packages, {}; pool: {} to add, {} present{}",
                r.snapshot,
                r.packages,
                indices(r.indices),
                r.pool_added,
                r.pool_present,
                qualified(r)
            )?;
            print_changes(out, r)?;
        }
        PublishOutcome::Published => {
            let what = match &r.replaced {
                Some(old) => format!("switched `{place}` from `{old}` to `{}`", r.snapshot),
                None => format!("published `{}` as `{place}`", r.snapshot),
            };
            writeln!(
                out,
                "{what}: {} packages, {} ({} reused); pool: {} added, {} present{} in {:.1}s",
                r.packages,
                indices(r.indices),
                r.reused_indices,
                r.pool_added,
                r.pool_present,
                qualified(r),
                r.seconds
            )?;
            print_changes(out, r)?;
            if r.pool_on_demand > 0 {
                writeln!(
                    out,
                    "{} pool files left upstream: `debvault serve` fetches each when first asked for",
                    r.pool_on_demand
                )?;
            }
            if let Some(until) = r.valid_until {
                writeln!(
                    out,
                    "valid until {}; publish again before then to refresh the signature",
                    until.format("%Y-%m-%d %H:%M:%S UTC")
                )?;
            }
        }
    }
    Ok(())
}

/// `--unset`'s values: the settings' names.
fn setting_parser() -> impl clap::builder::TypedValueParser<Value = Setting> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Setting::ALL.map(Setting::name))
        .map(|name| Setting::from_name(&name).unwrap_or(Setting::Origin))
}

/// One line per setting a publish changes (or would).
fn print_changes(out: &mut dyn Write, r: &PublishReport) -> Result<()> {
    let text = |v: &Option<String>| {
        v.as_ref()
            .map_or_else(|| "(unset)".to_owned(), |v| format!("`{v}`"))
    };
    for c in &r.changed {
        writeln!(out, "{}: {} -> {}", c.setting, text(&c.from), text(&c.to))?;
    }
    Ok(())
}

fn indices(n: u64) -> String {
    if n == 1 {
        "1 index".to_owned()
    } else {
        format!("{n} indices")
    }
}

fn qualified(r: &PublishReport) -> String {
    if r.pool_qualified == 0 {
        String::new()
    } else {
        format!(
            ", {} at hash-qualified paths (another file holds the plain path)",
            r.pool_qualified
        )
    }
}
