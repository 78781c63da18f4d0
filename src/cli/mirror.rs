//! `debvault mirror …`: create, import, inspect, edit, drop and sync mirrors.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::failure::{Context as _, Result};
use super::output::UsageError;
use super::printer::Kind;
use super::{Globals, mirror_show};
use crate::debian::apt_sources;
use crate::model::{MirrorSpec, MirrorUrl, native_architecture};
use crate::ops::mirror::{self as ops_mirror, ImportOptions};

#[derive(Debug, Subcommand)]
pub(crate) enum MirrorCommand {
    /// Create a mirror of one upstream suite
    Create(CreateArgs),
    /// Create one mirror per suite found in the machine's apt sources
    ImportAptSources(ImportArgs),
    /// List mirrors
    List,
    /// Show one mirror
    Show {
        /// Mirror name
        #[arg(add = super::complete::mirrors())]
        name: String,
        /// Also list the packages of the current revision
        #[arg(long)]
        with_packages: bool,
    },
    /// Change a mirror's settings (takes effect at the next sync)
    Edit(EditArgs),
    /// Delete a mirror (its packages and blobs stay until `gc`)
    Drop {
        /// Mirror name
        #[arg(add = super::complete::mirrors())]
        name: String,
    },
    /// Rename a mirror (its snapshots keep the name they recorded)
    Rename {
        /// Current name
        #[arg(add = super::complete::mirrors())]
        name: String,
        /// New name
        new_name: String,
    },
    /// Bring mirrors up to date with their upstreams
    Sync(super::sync::SyncArgs),
    /// Download every package file of a mirror's current revision not held yet (an on-demand
    /// mirror's, before upstream goes away)
    Fill(super::ondemand::FillArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Mirror name (letters, digits, `.`, `_`, `-`)
    name: String,
    /// Archive base URL, e.g. http://HOST/debian
    url: String,
    /// Suite or codename, e.g. bookworm; a directory ending in `/` (`./`, `amd64/`) for a flat
    /// repository
    suite: String,
    /// Components (default: every component the Release lists)
    components: Vec<String>,
    /// Component to mirror, as the positional COMPONENTS; for a flat repository, the one its
    /// packages are published under (default: main)
    #[arg(long = "component", value_name = "NAME", value_delimiter = ',')]
    component: Vec<String>,
    /// Architecture to mirror; repeat or comma-separate (default: the machine's)
    #[arg(long = "arch", value_name = "ARCH", value_delimiter = ',')]
    architectures: Vec<String>,
    /// Keyring (binary or armored) the Release signature must verify against; repeatable
    #[arg(long = "keyring", value_name = "FILE")]
    keyrings: Vec<PathBuf>,
    /// Package filter, e.g. 'curl | git (>= 1:2.39) | Priority (required)'
    #[arg(long, value_name = "EXPR")]
    filter: Option<String>,
    /// Also mirror the dependency closure (Depends, Pre-Depends) of the filtered packages
    #[arg(long)]
    with_deps: bool,
    /// Follow Recommends too when closing over dependencies
    #[arg(long)]
    follow_recommends: bool,
    /// Pull in every alternative of `a | b` dependencies, not only the first satisfiable one
    #[arg(long)]
    follow_all_alternatives: bool,
    /// Accept an unsigned or unverifiable Release (dangerous)
    #[arg(long)]
    allow_insecure: bool,
    /// Accept upstream keys bound with SHA-1 signatures (never data signatures)
    #[arg(long)]
    allow_sha1_keys: bool,
    /// Review mode: syncs stage changes; `debvault promote` makes them live
    #[arg(long)]
    review: bool,
    /// Also mirror the source packages of the selected binaries (for `apt-get source`)
    #[arg(long)]
    with_sources: bool,
    /// Also mirror the Debian installer's packages (udebs): the same filter and dependency rules
    #[arg(long)]
    with_udebs: bool,
    /// Also mirror the installer images (`installer-<arch>/current/images/`), each checked against `SHA256SUMS`
    #[arg(long)]
    with_installer: bool,
    /// Languages of the long descriptions to mirror, e.g. en,de,pt_BR (default: en; `none`: none)
    #[arg(long, value_name = "LANG", value_delimiter = ',')]
    languages: Vec<String>,
    /// Also mirror the AppStream metadata (DEP-11) of the selected packages and its icons, for
    /// software centers
    #[arg(long)]
    with_appstream: bool,
    /// Join a group of mirrors clients use together (a suite, its updates, its security suite):
    /// dependencies close over all members
    #[arg(long, value_name = "NAME")]
    group: Option<String>,
    /// Download no package file at sync: `serve` fetches (and keeps) each one from upstream when a
    /// client first asks for it; `mirror fill` fetches them all
    #[arg(long)]
    on_demand: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Sources files (default: /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources})
    files: Vec<PathBuf>,
    /// Package filter for every imported mirror
    #[arg(long, value_name = "EXPR")]
    filter: Option<String>,
    /// Close over dependencies
    #[arg(long)]
    with_deps: bool,
    /// Architectures (default: from the source, else the machine's)
    #[arg(long = "arch", value_name = "ARCH", value_delimiter = ',')]
    architectures: Vec<String>,
    /// The group the imported mirrors join: their dependencies close over all of them, as apt
    /// sees all sources at once
    #[arg(
        long,
        value_name = "NAME",
        default_value = "apt-sources",
        conflicts_with = "no_group"
    )]
    group: String,
    /// Import the mirrors into no group
    #[arg(long)]
    no_group: bool,
    /// Show what would be created, create nothing
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct EditArgs {
    /// Mirror name
    #[arg(add = super::complete::mirrors())]
    name: String,
    /// New filter
    #[arg(long, value_name = "EXPR", conflicts_with = "no_filter")]
    filter: Option<String>,
    /// Remove the filter (mirror everything)
    #[arg(long)]
    no_filter: bool,
    /// Close over dependencies
    #[arg(long, overrides_with = "without_deps")]
    with_deps: bool,
    /// Do not close over dependencies
    #[arg(long)]
    without_deps: bool,
    /// Pull in every alternative of `a | b` dependencies
    #[arg(long, overrides_with = "first_alternative_only")]
    follow_all_alternatives: bool,
    /// Pull in only the first satisfiable alternative (the default)
    #[arg(long)]
    first_alternative_only: bool,
    /// Replace the architectures
    #[arg(long = "arch", value_name = "ARCH", value_delimiter = ',')]
    architectures: Vec<String>,
    /// Replace the components
    #[arg(long = "component", value_name = "NAME", value_delimiter = ',')]
    components: Vec<String>,
    /// Replace the keyrings
    #[arg(long = "keyring", value_name = "FILE")]
    keyrings: Vec<PathBuf>,
    /// Review mode: syncs stage changes for `debvault promote`
    #[arg(long, overrides_with = "no_review")]
    review: bool,
    /// Leave review mode (changes go live at sync; staged ones stay until promoted or rejected)
    #[arg(long)]
    no_review: bool,
    /// Also mirror source packages
    #[arg(long, overrides_with = "no_sources")]
    with_sources: bool,
    /// Stop mirroring source packages
    #[arg(long)]
    no_sources: bool,
    /// Also mirror the Debian installer's packages (udebs)
    #[arg(long, overrides_with = "no_udebs")]
    with_udebs: bool,
    /// Stop mirroring the installer's packages
    #[arg(long)]
    no_udebs: bool,
    /// Also mirror the installer images
    #[arg(long, overrides_with = "no_installer")]
    with_installer: bool,
    /// Stop mirroring the installer images
    #[arg(long)]
    no_installer: bool,
    /// Replace the languages of the long descriptions (`none`: none)
    #[arg(long, value_name = "LANG", value_delimiter = ',')]
    languages: Vec<String>,
    /// Also mirror AppStream metadata (DEP-11) and its icons
    #[arg(long, overrides_with = "no_appstream")]
    with_appstream: bool,
    /// Stop mirroring AppStream metadata
    #[arg(long)]
    no_appstream: bool,
    /// Join a group of mirrors clients use together
    #[arg(long, value_name = "NAME", conflicts_with = "no_group")]
    group: Option<String>,
    /// Leave the group
    #[arg(long)]
    no_group: bool,
    /// Download package files on demand (see `mirror create --on-demand`)
    #[arg(long, overrides_with = "no_on_demand")]
    on_demand: bool,
    /// Download every package file at sync again (`mirror fill` fetches those still missing)
    #[arg(long)]
    no_on_demand: bool,
}

pub(crate) fn run(cmd: MirrorCommand, g: &Globals) -> Result<u8> {
    match cmd {
        MirrorCommand::Create(a) => create(a, g),
        MirrorCommand::ImportAptSources(a) => import(a, g),
        MirrorCommand::List => mirror_show::list(g),
        MirrorCommand::Show {
            name,
            with_packages,
        } => mirror_show::show(&name, with_packages, g),
        MirrorCommand::Edit(a) => edit(a, g),
        MirrorCommand::Drop { name } => drop_mirror(&name, g),
        MirrorCommand::Rename { name, new_name } => {
            let mut ctx = g.context()?;
            ops_mirror::rename(&mut ctx, &name, &new_name)?;
            renamed(g, "mirror", &name, &new_name)
        }
        MirrorCommand::Sync(a) => super::sync::sync(a, g),
        MirrorCommand::Fill(a) => super::ondemand::fill(a, g),
    }
}

fn absolute(paths: Vec<PathBuf>) -> Result<Vec<PathBuf>> {
    paths
        .into_iter()
        .map(|p| std::path::absolute(&p).with_context(|| format!("invalid path `{}`", p.display())))
        .collect()
}

fn create(a: CreateArgs, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    let architectures = if a.architectures.is_empty() {
        vec![native_architecture().to_owned()]
    } else {
        a.architectures
    };
    if a.suite.ends_with('/') && !a.components.is_empty() {
        return Err(UsageError(format!(
            "a flat repository (suite `{}`) has no components to choose; name the one it is \
             published under with `--component`",
            a.suite
        ))
        .into());
    }
    let spec = MirrorSpec {
        url: MirrorUrl::new(a.url),
        suite: a.suite,
        components: [a.components, a.component].concat(),
        architectures,
        keyrings: absolute(a.keyrings)?,
        filter: a.filter,
        with_deps: a.with_deps,
        follow_recommends: a.follow_recommends,
        follow_all_alternatives: a.follow_all_alternatives,
        allow_insecure: a.allow_insecure,
        allow_sha1_keys: a.allow_sha1_keys,
        review: a.review,
        with_sources: a.with_sources,
        with_udebs: a.with_udebs,
        with_installer: a.with_installer,
        group: a.group,
        pins: Vec::new(),
        languages: if a.languages.is_empty() {
            crate::model::default_languages()
        } else {
            languages(a.languages)
        },
        with_appstream: a.with_appstream,
        on_demand: a.on_demand,
    };
    ops_mirror::create(&mut ctx, &a.name, &spec, None)?;
    let mirror = ops_mirror::load(&ctx.db, &a.name)?;
    g.out.done(&mirror, |out| {
        writeln!(
            out,
            "created mirror `{}`: {} {} [{}]",
            a.name,
            mirror.spec.url,
            mirror.spec.suite,
            describe_scope(&mirror.spec)
        )?;
        writeln!(out, "next: debvault mirror sync {}", a.name)?;
        Ok(())
    })?;
    Ok(0)
}

/// `--languages`: `none` alone means none; the rest is validated with the spec.
fn languages(list: Vec<String>) -> Vec<String> {
    if list.len() == 1 && list[0] == "none" {
        Vec::new()
    } else {
        list
    }
}

fn describe_scope(spec: &MirrorSpec) -> String {
    let components = if spec.components.is_empty() {
        "all components".to_owned()
    } else {
        spec.components.join(",")
    };
    format!("{components}; {}", spec.architectures.join(","))
}

fn import(a: ImportArgs, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    let files = if a.files.is_empty() {
        apt_sources::default_files()
    } else {
        a.files
    };
    if files.is_empty() {
        return Err(UsageError(
            "no apt sources found in /etc/apt/sources.list{,.d}; name files to read".into(),
        )
        .into());
    }
    let mut sources = Vec::new();
    for f in &files {
        sources.extend(apt_sources::read_file(f)?);
    }
    let opts = ImportOptions {
        filter: a.filter,
        with_deps: a.with_deps,
        architectures: a.architectures,
        keyring_dir: ctx.settings.root.join("keyrings"),
        group: (!a.no_group).then_some(a.group),
    };
    let plan = ops_mirror::import_plan(&sources, &opts, &ops_mirror::names(&ctx.db)?);
    // A dry run's plan is what the user asked to see; a real run's lines
    // confirm what was done.
    let kind = if a.dry_run { Kind::Data } else { Kind::Done };
    let created = if a.dry_run {
        0
    } else {
        ops_mirror::import_all(&mut ctx, &plan)?
    };
    for item in &plan {
        if let Some(why) = &item.skipped {
            g.out.text(kind, |out| {
                writeln!(
                    out,
                    "skip    {:<32} {} {} ({why})",
                    item.name, item.spec.url, item.spec.suite
                )?;
                Ok(())
            })?;
            continue;
        }
        g.out.text(kind, |out| {
            let verb = if a.dry_run { "would create" } else { "create" };
            writeln!(
                out,
                "{verb:<7} {:<32} {} {} [{}]  (from {})",
                item.name,
                item.spec.url,
                item.spec.suite,
                describe_scope(&item.spec),
                item.origin
            )?;
            Ok(())
        })?;
    }
    g.out.json(&plan)?;
    if created > 0 {
        g.out.text(Kind::Done, |out| {
            writeln!(out, "next: debvault mirror sync --all")?;
            Ok(())
        })?;
    }
    Ok(0)
}

fn edit(a: EditArgs, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    let keyrings = absolute(a.keyrings)?;
    let changes = ops_mirror::edit(&mut ctx, &a.name, None, |spec| {
        if a.no_filter {
            spec.filter = None;
        }
        if a.filter.is_some() {
            spec.filter = a.filter;
        }
        if a.with_deps {
            spec.with_deps = true;
        }
        if a.without_deps {
            spec.with_deps = false;
        }
        if a.with_sources {
            spec.with_sources = true;
        }
        if a.no_sources {
            spec.with_sources = false;
        }
        if a.with_appstream {
            spec.with_appstream = true;
        }
        if a.no_appstream {
            spec.with_appstream = false;
        }
        if a.with_udebs {
            spec.with_udebs = true;
        }
        if a.no_udebs {
            spec.with_udebs = false;
        }
        spec.with_installer = (spec.with_installer || a.with_installer) && !a.no_installer;
        if a.follow_all_alternatives {
            spec.follow_all_alternatives = true;
        }
        if a.first_alternative_only {
            spec.follow_all_alternatives = false;
        }
        if !a.architectures.is_empty() {
            spec.architectures = a.architectures;
        }
        if !a.components.is_empty() {
            spec.components = a.components;
        }
        if !keyrings.is_empty() {
            spec.keyrings = keyrings;
        }
        if a.review {
            spec.review = true;
        }
        if a.no_group {
            spec.group = None;
        }
        if a.group.is_some() {
            spec.group = a.group;
        }
        if a.no_review {
            spec.review = false;
        }
        if !a.languages.is_empty() {
            spec.languages = languages(a.languages);
        }
        if a.on_demand || a.no_on_demand {
            spec.on_demand = a.on_demand;
        }
    })?;
    let v = serde_json::json!({"mirror": a.name, "changes": changes});
    g.out.done(&v, |out| {
        if changes.is_empty() {
            writeln!(
                out,
                "mirror `{}` unchanged: no flag given changes its definition",
                a.name
            )?;
        } else {
            writeln!(
                out,
                "updated mirror `{}`; the next sync applies it:",
                a.name
            )?;
            for c in &changes {
                writeln!(out, "  {c}")?;
            }
        }
        Ok(())
    })?;
    Ok(0)
}

/// "renamed mirror `a` to `b`", for mirrors and snapshots.
pub(crate) fn renamed(g: &Globals, kind: &str, old: &str, new: &str) -> Result<u8> {
    let v = serde_json::json!({ kind: new, "renamed_from": old });
    g.out.done(&v, |out| {
        writeln!(out, "renamed {kind} `{old}` to `{new}`")?;
        Ok(())
    })?;
    Ok(0)
}

fn drop_mirror(name: &str, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    let held_by = ops_mirror::drop(&mut ctx, name)?;
    let v = serde_json::json!({"mirror": name, "dropped": true, "held_by_snapshots": held_by});
    g.out.done(&v, |out| {
        if held_by.is_empty() {
            writeln!(
                out,
                "dropped mirror `{name}`; `debvault gc` frees its blobs"
            )?;
        } else {
            writeln!(
                out,
                "dropped mirror `{name}`; its packages stay while snapshot{} {} hold{} them \
                 (`debvault gc` frees the rest)",
                if held_by.len() == 1 { "" } else { "s" },
                held_by
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if held_by.len() == 1 { "s" } else { "" }
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}
