//! `debvault repo …`: local repositories of the team's own packages.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use super::Globals;
use super::failure::Result;
use super::printer::Kind;
use crate::db::{Repo, RepoSpec};
use crate::ops::repo::{
    self as ops, AddOptions, AddReport, CreateOptions, EditReport, IncludeOptions, RepoPackage,
    Uploaders,
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
        /// The distribution a snapshot of it publishes to when `--distribution` names none
        #[arg(long, value_name = "DIST")]
        distribution: Option<String>,
        /// Stage added, copied and moved packages for review (`staged`, `promote`, `reject`)
        #[arg(long)]
        review: bool,
        #[command(flatten)]
        uploaders: UploadersArgs,
        /// Check the request, create nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Change a repository's settings or who may upload to it with `repo include`
    #[command(group(clap::ArgGroup::new("change").required(true).multiple(true).args(
        ["uploaders", "no_uploaders", "comment", "distribution", "review"]
    )))]
    Edit {
        /// Repo name
        #[arg(add = super::complete::repos())]
        name: String,
        /// Free text shown by `repo show` (empty: none)
        #[arg(long)]
        comment: Option<String>,
        /// The distribution a snapshot of it publishes to by default (empty: none)
        #[arg(long, value_name = "DIST")]
        distribution: Option<String>,
        /// Stage changes for review (true), or make them live at once (false)
        #[arg(long, value_name = "BOOL")]
        review: Option<bool>,
        #[command(flatten)]
        uploaders: UploadersArgs,
        /// Remove its uploaders: anyone may include, unsigned uploads too
        #[arg(long, conflicts_with = "uploaders_keyring")]
        no_uploaders: bool,
        /// Check the request, change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Include an upload described by a .changes file (dput, dpkg-genchanges)
    ///
    /// Every file the .changes lists must lie beside it with the listed
    /// size, SHA256 (and SHA1 and MD5 when listed); its .deb, .udeb and .dsc
    /// files are then added as `repo add` adds them. A repository with
    /// uploaders takes only a .changes clearsigned by a key of its uploaders
    /// keyring that its rules allow for every package; one without takes
    /// unsigned uploads. All or nothing: any refusal stores nothing (exit 3).
    Include {
        /// Repo name
        #[arg(add = super::complete::repos())]
        name: String,
        /// The .changes file
        #[arg(value_name = "FILE.changes")]
        changes: PathBuf,
        /// Replace a package whose bytes differ under the same version (audited)
        #[arg(long)]
        force_replace: bool,
        /// Check the upload, store nothing
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

/// Who may upload to a repository with `repo include`.
#[derive(Debug, clap::Args)]
pub(crate) struct UploadersArgs {
    /// Uploaders rules, JSON in aptly's uploaders.json shape
    ///
    /// `{"Groups": {"team": ["FINGERPRINT", …]}, "Rules": [{"Condition":
    /// "FILTER", "Allow": ["team"], "Deny": ["*"]}, …]}`: the first rule
    /// whose Condition (a package filter, as for `snapshot filter`, on each
    /// uploaded package's fields, then the .changes fields) matches
    /// decides; a signer in Deny refuses, in Allow accepts; no matching
    /// rule refuses. Keys are fingerprints or 16-hex key ids, `*` is any
    /// key of the uploaders keyring. Stored in the database: later changes
    /// of the file need `repo edit`.
    #[arg(long, value_name = "FILE", requires = "uploaders_keyring")]
    uploaders: Option<PathBuf>,
    /// Public keys of the uploaders (binary or armored), stored with the rules
    #[arg(long, value_name = "KEYRING", requires = "uploaders")]
    uploaders_keyring: Option<PathBuf>,
}

impl UploadersArgs {
    fn load(&self) -> Result<Option<Uploaders>> {
        match (&self.uploaders, &self.uploaders_keyring) {
            (Some(rules), Some(keyring)) => Ok(Some(
                Uploaders::load(rules, keyring).map_err(ops::RepoError::from)?,
            )),
            _ => Ok(None),
        }
    }
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
            distribution,
            review,
            uploaders,
            dry_run,
        } => {
            let mut ctx = g.context()?;
            let opts = CreateOptions {
                spec: RepoSpec {
                    component,
                    comment,
                    architectures,
                    default_distribution: distribution,
                    review,
                },
                uploaders: uploaders.load()?,
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
        RepoCommand::Edit {
            name,
            comment,
            distribution,
            review,
            uploaders,
            no_uploaders,
            dry_run,
        } => {
            let change = ops::settings::SettingsChange {
                comment,
                component: None,
                default_distribution: distribution,
                review,
                dry_run,
            };
            let settings = change.comment.is_some()
                || change.default_distribution.is_some()
                || change.review.is_some();
            if settings {
                edit_settings(&name, &change, g)?;
            }
            if no_uploaders || uploaders.uploaders_keyring.is_some() {
                edit(name, uploaders, dry_run, g)?;
            }
            Ok(0)
        }
        RepoCommand::Include {
            name,
            changes,
            force_replace,
            dry_run,
        } => include(name, changes, force_replace, dry_run, g),
        RepoCommand::List => list(g),
        RepoCommand::Show {
            name,
            with_packages,
        } => show(name, with_packages, g),
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

fn edit_settings(name: &str, change: &ops::settings::SettingsChange, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    let repo = ops::settings::edit(&mut ctx, name, change)?;
    let v = serde_json::json!({"repo": repo, "dry_run": change.dry_run});
    g.out.result(kind(change.dry_run), &v, |out| {
        let would = if change.dry_run { "would be" } else { "is now" };
        let s = &repo.spec;
        writeln!(
            out,
            "repo `{name}` {would}: component {}, default distribution {}, review {}",
            s.component,
            s.default_distribution.as_deref().unwrap_or("(none)"),
            if s.review { "on" } else { "off" }
        )?;
        Ok(())
    })?;
    Ok(0)
}

fn edit(name: String, uploaders: UploadersArgs, dry_run: bool, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    let u = uploaders.load()?;
    let summary = ops::set_uploaders(&mut ctx, &name, u.as_ref(), dry_run)?;
    let v = serde_json::json!({"repo": name, "uploaders": summary, "dry_run": dry_run});
    g.out.result(kind(dry_run), &v, |out| {
        let would = if dry_run { "would " } else { "" };
        match &summary {
            Some(s) => writeln!(
                out,
                "repo `{name}`: {would}set uploaders ({} rules, {} keys)",
                s.rules,
                s.keys.len()
            )?,
            None => writeln!(
                out,
                "repo `{name}`: {would}remove its uploaders (anyone may include)"
            )?,
        }
        Ok(())
    })?;
    Ok(0)
}

fn include(
    name: String,
    changes: std::path::PathBuf,
    force_replace: bool,
    dry_run: bool,
    g: &Globals,
) -> Result<u8> {
    let mut ctx = g.context()?;
    let opts = IncludeOptions {
        force_replace,
        dry_run,
    };
    let report = ops::include(&mut ctx, &name, &changes, &opts)?;
    for w in &report.warnings {
        g.out.warn(w);
    }
    g.out.result(kind(dry_run), &report, |out| {
        let would = if dry_run { "would " } else { "" };
        writeln!(
            out,
            "repo `{}`: {would}include `{}`: {would}add {}, {would}replace {}, {} unchanged",
            report.repo,
            report.changes,
            report.added.len(),
            report.replaced.len(),
            report.unchanged.len()
        )?;
        for s in &report.signers {
            writeln!(out, "  signed by {}", s.cert)?;
        }
        for a in &report.added {
            writeln!(out, "  + {}  {}", a.package.key, a.package.sha256)?;
        }
        for a in &report.replaced {
            writeln!(
                out,
                "  ~ {}  {} (was {})",
                a.package.key, a.package.sha256, a.replaced_sha256
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}

fn show(name: String, with_packages: bool, g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let d = ops::show(&ctx, &name, with_packages)?;
    g.out.data(&d, |out| {
        print_repo(out, &d.repo)?;
        match &d.uploaders {
            Some(u) => {
                writeln!(out, "uploaders:     {} rules", u.rules)?;
                for k in &u.keys {
                    writeln!(out, "  key          {k}")?;
                }
            }
            None => writeln!(out, "uploaders:     none (anyone may include)")?,
        }
        if with_packages {
            writeln!(out, "packages:")?;
            print_packages(out, "  ", &d.package_list)?;
        }
        Ok(())
    })?;
    Ok(0)
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
            if r.staged {
                writeln!(out, "staged for review in `{dst}`: promote or reject them")?;
            }
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
    if r.staged {
        writeln!(out, "staged for review, not live: promote or reject them")?;
    }
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

/// The local repositories' block of `status` (nothing without repos).
pub(crate) fn print_status(
    out: &mut dyn Write,
    repos: &[crate::ops::repo::status::RepoStatus],
) -> Result<()> {
    if repos.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<20} {:>8} {:>8}  {:<16}  UPLOADERS",
        "REPO", "PACKAGES", "REVISION", "LAST CHANGE"
    )?;
    for r in repos {
        writeln!(
            out,
            "{:<20} {:>8} {:>8}  {:<16}  {}",
            r.name,
            r.packages,
            r.revision,
            r.last_change.format("%Y-%m-%d %H:%M"),
            if r.uploaders { "signed only" } else { "anyone" }
        )?;
    }
    for r in repos.iter().filter(|r| r.held > 0) {
        writeln!(out, "repo `{}`: {} held (debvault freeze)", r.name, r.held)?;
    }
    for r in repos.iter().filter(|r| r.staged > 0) {
        writeln!(
            out,
            "repo `{}`: {} staged for review (debvault staged list {})",
            r.name, r.staged, r.name
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
