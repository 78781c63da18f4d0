//! `debvault repo …`: local repositories of the team's own packages.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use super::Globals;
use super::failure::Result;
use super::printer::Kind;
use crate::db::{Repo, RepoSpec};
use crate::ops::repo::{
    self as ops, AddOptions, AddReport, CreateOptions, EditReport, RepoPackage,
};

#[derive(Debug, Subcommand)]
pub(crate) enum RepoCommand {
    /// Create an empty local repository for packages added by hand
    Create {
        /// Repo name (letters, digits, `.`, `_`, `-`)
        name: String,
        /// The component its packages are published in
        #[arg(long, value_name = "C", default_value = "main")]
        component: String,
        /// Architectures a snapshot of it publishes [default: those of its packages]
        #[arg(long = "arch", value_name = "A")]
        architectures: Vec<String>,
        /// Free text shown by `repo show`
        #[arg(long)]
        comment: Option<String>,
        /// Check the request, create nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// List local repositories
    List,
    /// Show a local repository
    Show {
        /// Repo name
        #[arg(add = super::complete::repos())]
        name: String,
        /// Also list its packages
        #[arg(long)]
        with_packages: bool,
    },
    /// Delete a local repository (snapshots taken from it keep their packages)
    Drop {
        /// Repo name
        #[arg(add = super::complete::repos())]
        name: String,
        /// Show what would be dropped, change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Add .deb, .udeb and .dsc files (or every one below a directory) to a repository
    ///
    /// Each package's control data is read from the file itself; a .dsc
    /// brings the files it lists, which must lie beside it with the listed
    /// sizes and SHA256 (its signature is not checked here). A package
    /// the repository already has with the same bytes is left as it is;
    /// the same name, version and architecture with other bytes is refused
    /// (exit 3) unless `--force-replace` is given.
    Add {
        /// Repo name
        #[arg(add = super::complete::repos())]
        name: String,
        /// Files and directories
        #[arg(value_name = "FILE|DIR", required = true)]
        paths: Vec<PathBuf>,
        /// Replace a package whose bytes differ under the same version (audited)
        #[arg(long)]
        force_replace: bool,
        /// Show what would be added, store nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove the packages matching a filter from a repository
    Remove {
        /// Repo name
        #[arg(add = super::complete::repos())]
        name: String,
        /// Filter, e.g. 'hello (<< 2.0)' or 'Priority (optional)'
        expr: String,
        /// Show what would be removed, change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy the packages matching a filter from one repository to another
    Copy(CopyArgs),
    /// Move the packages matching a filter from one repository to another
    Move(CopyArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct CopyArgs {
    /// Source repo
    #[arg(add = super::complete::repos())]
    src: String,
    /// Destination repo
    #[arg(add = super::complete::repos())]
    dst: String,
    /// Filter, e.g. 'hello (>= 2.0)'
    expr: String,
    /// Also take the dependencies (Depends, Pre-Depends) the source repo has
    #[arg(long)]
    with_deps: bool,
    /// Show what would change, change nothing
    #[arg(long)]
    dry_run: bool,
}

pub(crate) fn run(cmd: RepoCommand, g: &Globals) -> Result<u8> {
    match cmd {
        RepoCommand::Create {
            name,
            component,
            architectures,
            comment,
            dry_run,
        } => {
            let mut ctx = g.context()?;
            let opts = CreateOptions {
                spec: RepoSpec {
                    component,
                    comment,
                    architectures,
                },
                dry_run,
            };
            let repo = ops::create(&mut ctx, &name, &opts)?;
            let v = serde_json::json!({"repo": repo, "dry_run": dry_run});
            g.out.result(kind(dry_run), &v, |out| {
                let verb = if dry_run { "would create" } else { "created" };
                writeln!(
                    out,
                    "{verb} repo `{name}` (component {})",
                    repo.spec.component
                )?;
                writeln!(out, "next: debvault repo add {name} FILE.deb")?;
                Ok(())
            })?;
            Ok(0)
        }
        RepoCommand::List => list(g),
        RepoCommand::Show {
            name,
            with_packages,
        } => {
            let ctx = g.context()?;
            let d = ops::show(&ctx, &name, with_packages)?;
            g.out.data(&d, |out| {
                print_repo(out, &d.repo)?;
                if with_packages {
                    writeln!(out, "packages:")?;
                    print_packages(out, "  ", &d.package_list)?;
                }
                Ok(())
            })?;
            Ok(0)
        }
        RepoCommand::Drop { name, dry_run } => {
            let mut ctx = g.context()?;
            let repo = ops::drop(&mut ctx, &name, dry_run)?;
            let v = serde_json::json!({"repo": name, "dropped": !dry_run, "dry_run": dry_run, "packages": repo.packages});
            g.out.result(kind(dry_run), &v, |out| {
                let verb = if dry_run { "would drop" } else { "dropped" };
                writeln!(
                    out,
                    "{verb} repo `{name}` ({} packages; snapshots taken from it keep theirs)",
                    repo.packages
                )?;
                Ok(())
            })?;
            Ok(0)
        }
        RepoCommand::Add {
            name,
            paths,
            force_replace,
            dry_run,
        } => {
            let mut ctx = g.context()?;
            let opts = AddOptions {
                force_replace,
                dry_run,
            };
            let report = ops::add(&mut ctx, &name, &paths, &opts)?;
            g.out
                .result(kind(dry_run), &report, |out| print_add(out, &report))?;
            Ok(0)
        }
        RepoCommand::Remove {
            name,
            expr,
            dry_run,
        } => {
            let mut ctx = g.context()?;
            let report = ops::remove(&mut ctx, &name, &expr, dry_run)?;
            edited(g, &report)
        }
        RepoCommand::Copy(a) => copy(a, false, g),
        RepoCommand::Move(a) => copy(a, true, g),
    }
}

fn copy(a: CopyArgs, move_: bool, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    let report = ops::copy(
        &mut ctx,
        &a.src,
        &a.dst,
        &a.expr,
        a.with_deps,
        move_,
        a.dry_run,
    )?;
    edited(g, &report)
}

/// A dry run's plan is data the user asked for; a change's tally is a confirmation.
fn kind(dry_run: bool) -> Kind {
    if dry_run { Kind::Data } else { Kind::Done }
}

fn edited(g: &Globals, r: &EditReport) -> Result<u8> {
    if r.copied.is_empty() && r.removed.is_empty() && r.unchanged.is_empty() {
        g.out.note("no package matches the filter");
    }
    g.out.result(kind(r.dry_run), r, |out| {
        let would = if r.dry_run { "would " } else { "" };
        if let Some(dst) = &r.destination {
            writeln!(
                out,
                "{would}copy {} packages from `{}` to `{dst}` ({} already there)",
                r.copied.len(),
                r.source,
                r.unchanged.len()
            )?;
            print_packages(out, "  + ", &r.copied)?;
        }
        if !r.removed.is_empty() || r.destination.is_none() {
            writeln!(
                out,
                "{would}remove {} packages from `{}`",
                r.removed.len(),
                r.source
            )?;
            print_packages(out, "  - ", &r.removed)?;
        }
        Ok(())
    })?;
    Ok(0)
}

fn print_add(out: &mut dyn Write, r: &AddReport) -> Result<()> {
    let would = if r.dry_run { "would " } else { "" };
    writeln!(
        out,
        "repo `{}`: {would}add {}, {would}replace {}, {} unchanged",
        r.repo,
        r.added.len(),
        r.replaced.len(),
        r.unchanged.len()
    )?;
    for a in &r.added {
        writeln!(out, "  + {}  {}", a.package.key, a.package.sha256)?;
    }
    for a in &r.replaced {
        writeln!(
            out,
            "  ~ {}  {} (was {})",
            a.package.key, a.package.sha256, a.replaced_sha256
        )?;
    }
    Ok(())
}

fn print_packages(out: &mut dyn Write, lead: &str, list: &[RepoPackage]) -> Result<()> {
    for p in list {
        writeln!(out, "{lead}{}  {}", p.key, p.sha256)?;
    }
    Ok(())
}

fn print_repo(out: &mut dyn Write, r: &Repo) -> Result<()> {
    writeln!(out, "name:          {}", r.name)?;
    writeln!(out, "component:     {}", r.spec.component)?;
    if !r.spec.architectures.is_empty() {
        writeln!(out, "architectures: {}", r.spec.architectures.join(", "))?;
    }
    if let Some(c) = &r.spec.comment {
        writeln!(out, "comment:       {c}")?;
    }
    writeln!(out, "packages:      {}", r.packages)?;
    writeln!(out, "revision:      {}", r.revision)?;
    writeln!(
        out,
        "created:       {}",
        r.created_at.format("%Y-%m-%d %H:%M:%S")
    )?;
    writeln!(
        out,
        "updated:       {}",
        r.updated_at.format("%Y-%m-%d %H:%M:%S")
    )?;
    Ok(())
}

fn list(g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let repos = ops::list(&ctx)?;
    if repos.is_empty() {
        g.out
            .note("no repos; create one with `debvault repo create NAME`");
    }
    g.out.data(&repos, |out| {
        if repos.is_empty() {
            return Ok(());
        }
        writeln!(
            out,
            "{:<32} {:<12} {:>8}  {:<20}  COMMENT",
            "NAME", "COMPONENT", "PACKAGES", "UPDATED"
        )?;
        for r in &repos {
            writeln!(
                out,
                "{:<32} {:<12} {:>8}  {:<20}  {}",
                r.name,
                r.spec.component,
                r.packages,
                r.updated_at.format("%Y-%m-%d %H:%M:%S"),
                r.spec.comment.as_deref().unwrap_or("")
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}
