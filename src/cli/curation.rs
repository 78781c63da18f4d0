//! Curation verbs: `apply`, `freeze`, `unfreeze`, `staged`, `promote`,
//! `reject` and `audit`.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};

use super::Globals;
use super::evidence;
use super::failure::{Context as _, Result};
use super::output::{UsageError, human_bytes};
use super::printer::Kind;
use super::repo_curation;
use crate::atomic_file::WriteOptions;
use crate::config::parse_duration;
use crate::db::{AuditRecord, StageAction};
use crate::ops::apply::{self, MirrorChange};
use crate::ops::curation::{self, DecideOptions, Decision, Selector, StagedItem};
use crate::ops::evidence::changelog::{ChangeEvidence, explain};
use crate::ops::repo::freeze::{self as repo_freeze, Target};

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// Scope file (see examples/curated.toml)
    file: PathBuf,
    /// Print the plan; change nothing
    #[arg(long)]
    dry_run: bool,
}

/// Which of a mirror and a repo of the same name a curation verb means.
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// NAME is a mirror (needed only when a repo has the same name)
    #[arg(long, conflicts_with = "repo")]
    mirror: bool,
    /// NAME is a local repository (needed only when a mirror has the same name)
    #[arg(long)]
    repo: bool,
}

impl TargetArgs {
    fn resolve(&self, ctx: &crate::ops::Context, name: &str) -> Result<Target> {
        let forced = match (self.mirror, self.repo) {
            (true, _) => Some(Target::Mirror),
            (_, true) => Some(Target::Repo),
            _ => None,
        };
        Ok(repo_freeze::target(ctx, name, forced)?)
    }
}

#[derive(Debug, Args)]
pub(crate) struct FreezeArgs {
    /// Mirror or local repository name
    #[arg(add = super::complete::mirrors())]
    name: String,
    #[command(flatten)]
    target: TargetArgs,
    /// Packages: NAME, NAME:ARCH, NAME=VERSION or NAME:ARCH=VERSION (NAME may be a glob)
    #[arg(required = true, value_name = "PKG")]
    packages: Vec<String>,
    /// Why (recorded in the audit trail)
    #[arg(long, value_name = "TEXT")]
    reason: String,
}

#[derive(Debug, Args)]
pub(crate) struct UnfreezeArgs {
    /// Mirror or local repository name
    #[arg(add = super::complete::mirrors())]
    name: String,
    #[command(flatten)]
    target: TargetArgs,
    /// Packages: NAME, NAME:ARCH, NAME=VERSION or NAME:ARCH=VERSION (NAME may be a glob)
    #[arg(required = true, value_name = "PKG")]
    packages: Vec<String>,
    /// Why (recorded in the audit trail)
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// Take the new upstream content of a package frozen because it changed under the same version
    #[arg(long)]
    accept_new: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StagedCommand {
    /// List changes waiting for review
    List {
        /// Only this mirror
        #[arg(add = super::complete::mirrors())]
        mirror: Option<String>,
        /// Show each change's changelog entries since the live version, their CVE IDs and urgency
        #[arg(long)]
        changelog: bool,
    },
    /// A Markdown report for a review meeting: pending changes and recent decisions
    Report {
        /// Only this mirror
        #[arg(add = super::complete::mirrors())]
        mirror: Option<String>,
        /// Decisions since DATE (YYYY-MM-DD, RFC 3339, or a duration such as 7d)
        #[arg(long, value_name = "DATE", default_value = "7d")]
        since: String,
        /// Add each change's changelog entries since the live version, their CVE IDs and urgency
        #[arg(long)]
        changelog: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct DecideArgs {
    /// Mirror or local repository name
    #[arg(add = super::complete::mirrors())]
    pub(crate) name: String,
    #[command(flatten)]
    target: TargetArgs,
    /// Packages: NAME, NAME:ARCH, NAME=VERSION or NAME:ARCH=VERSION (NAME may be a glob)
    #[arg(
        value_name = "PKG",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub(crate) packages: Vec<String>,
    /// Every staged change of the mirror
    #[arg(long)]
    pub(crate) all: bool,
    /// Why (recorded in the audit trail)
    #[arg(long, value_name = "TEXT")]
    pub(crate) reason: String,
    /// Do not follow dependencies: promote only what is named, reject even if
    /// that leaves packages uninstallable (what is left unmet is printed)
    #[arg(long)]
    no_deps: bool,
    /// Show what would be decided, change nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}

impl DecideArgs {
    fn options(&self) -> DecideOptions {
        DecideOptions {
            follow_deps: !self.no_deps,
            dry_run: self.dry_run,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Only records since DATE (YYYY-MM-DD, RFC 3339, or a duration such as 30d)
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
}

pub(crate) fn selectors(packages: &[String]) -> Result<Vec<Selector>> {
    Ok(packages
        .iter()
        .map(|p| Selector::parse(p))
        .collect::<Result<_, _>>()?)
}

/// `YYYY-MM-DD`, RFC 3339, or a duration back from now.
pub(crate) fn parse_since(s: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    if let Some(secs) = parse_duration(s) {
        // Bounded by parse_duration: 100 years fit in chrono's range.
        let back = chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000));
        return Ok(Utc::now() - back);
    }
    Err(UsageError(format!(
        "invalid `--since` `{s}`: expected YYYY-MM-DD, an RFC 3339 time, or a duration such as 7d (at most 100 years)"
    ))
    .into())
}

pub(crate) fn apply(a: ApplyArgs, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    let plan = apply::plan(&ctx.db, &a.file)?;
    if !a.dry_run {
        apply::execute(&mut ctx, &plan)?;
    }
    // A dry run's plan is what the user asked to see; a real run's lines
    // confirm what was done.
    let kind = if a.dry_run { Kind::Data } else { Kind::Done };
    let v = serde_json::json!({"dry_run": a.dry_run, "plan": &plan});
    g.out.result(kind, &v, |out| {
        let verb = |now: &'static str, would: &'static str| if a.dry_run { would } else { now };
        for c in &plan.changes {
            match c {
                MirrorChange::Create { name } => {
                    writeln!(out, "{} mirror `{name}`", verb("created", "would create"))?
                }
                MirrorChange::Update { name, changes } => {
                    writeln!(out, "{} mirror `{name}`:", verb("updated", "would update"))?;
                    for ch in changes {
                        writeln!(out, "  {ch}")?;
                    }
                }
                MirrorChange::Unchanged { name } => {
                    writeln!(out, "mirror `{name}` is as declared")?
                }
                MirrorChange::Unmanaged { name } => {
                    writeln!(out, "mirror `{name}` is not in the file; left alone")?
                }
            }
        }
        for p in &plan.pins_missing {
            writeln!(
                out,
                "pinned version no longer upstream (kept while live): {p}"
            )?;
        }
        Ok(())
    })?;
    let changed = plan
        .changes
        .iter()
        .any(|c| matches!(c, MirrorChange::Create { .. } | MirrorChange::Update { .. }));
    if changed && !a.dry_run {
        g.out.text(Kind::Done, |out| {
            writeln!(out, "next: debvault mirror sync --all")?;
            Ok(())
        })?;
    }
    Ok(0)
}

pub(crate) fn freeze(a: FreezeArgs, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    if a.target.resolve(&ctx, &a.name)? == Target::Repo {
        return repo_curation::freeze(&mut ctx, g, &a.name, &selectors(&a.packages)?, &a.reason);
    }
    let frozen = curation::freeze(&mut ctx, &a.name, &selectors(&a.packages)?, &a.reason)?;
    let v = serde_json::json!({"mirror": a.name, "frozen": frozen});
    g.out.done(&v, |out| {
        if frozen.is_empty() {
            writeln!(out, "mirror `{}`: already frozen", a.name)?;
        }
        for f in &frozen {
            writeln!(
                out,
                "froze {} in mirror `{}`: syncs take no new version and remove nothing",
                f.key, a.name
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}

pub(crate) fn unfreeze(a: UnfreezeArgs, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    if a.target.resolve(&ctx, &a.name)? == Target::Repo {
        let sel = selectors(&a.packages)?;
        return repo_curation::unfreeze(&mut ctx, g, &a.name, &sel, &a.reason, a.accept_new);
    }
    let lifted = curation::unfreeze(
        &mut ctx,
        &a.name,
        &selectors(&a.packages)?,
        &a.reason,
        a.accept_new,
    )?;
    let v = serde_json::json!({"mirror": a.name, "unfrozen": lifted, "accept_new": a.accept_new});
    g.out.done(&v, |out| {
        for f in &lifted {
            match f.kind {
                crate::model::FreezeKind::Content => writeln!(
                    out,
                    "unfroze {} in mirror `{}`: the next sync takes upstream's content {}",
                    f.key, a.name, f.upstream_sha256
                )?,
                crate::model::FreezeKind::Manual => writeln!(
                    out,
                    "unfroze {} in mirror `{}`: the next sync follows upstream again",
                    f.key, a.name
                )?,
            }
        }
        Ok(())
    })?;
    Ok(0)
}

fn change_text(i: &StagedItem) -> String {
    match (&i.old_version, &i.new_version) {
        (Some(o), Some(n)) => format!("{o} → {n}"),
        (None, Some(n)) => format!("(new) → {n}"),
        (Some(o), None) => format!("{o} → (removed)"),
        (None, None) => "(removed)".into(),
    }
}

fn signed_bytes(n: i64) -> String {
    if n < 0 {
        format!("-{}", human_bytes(n.unsigned_abs()))
    } else {
        format!("+{}", human_bytes(n as u64))
    }
}

fn date(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

pub(crate) fn staged(cmd: StagedCommand, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    match cmd {
        StagedCommand::List { mirror, changelog } => {
            let items = repo_curation::staged_items(&ctx, mirror.as_deref())?;
            if items.is_empty() {
                g.out.note("nothing staged");
            }
            if changelog {
                let ev = explain(&mut ctx, &evidence::staged_queries(&items))?;
                g.out.data(&evidence::pair(&items, &ev), |out| {
                    print_staged(out, &items, Some(&ev))
                })?;
            } else {
                g.out.data(&items, |out| print_staged(out, &items, None))?;
            }
        }
        StagedCommand::Report {
            mirror,
            since,
            changelog,
        } => {
            let since = parse_since(&since)?;
            let items = repo_curation::staged_items(&ctx, mirror.as_deref())?;
            let decisions = repo_curation::decisions(&ctx, mirror.as_deref(), since)?;
            let ev = if changelog {
                Some(explain(&mut ctx, &evidence::staged_queries(&items))?)
            } else {
                None
            };
            let mut v = match &ev {
                Some(ev) => {
                    serde_json::json!({"since": since, "staged": evidence::pair(&items, ev), "decisions": decisions})
                }
                None => {
                    serde_json::json!({"since": since, "staged": items, "decisions": decisions})
                }
            };
            // Advisories are about mirrors: a repo's report has none.
            let advisories = match mirror.as_deref() {
                Some(m) if ctx.db.mirror(m)?.is_none() => None,
                m => evidence::advisory_section(&ctx, m)?,
            };
            if let Some((open, _)) = &advisories {
                v["open_advisories"] = serde_json::json!(open);
            }
            g.out.data(&v, |out| {
                let mut text = markdown_report(&items, &decisions, since);
                if let Some((_, section)) = &advisories {
                    text.push_str(section);
                }
                if let Some(ev) = &ev {
                    text.push_str(&evidence::markdown_section(&items, ev));
                }
                out.write_all(text.as_bytes())?;
                Ok(())
            })?;
        }
    }
    Ok(0)
}

fn print_staged(
    out: &mut dyn Write,
    items: &[StagedItem],
    changelogs: Option<&[ChangeEvidence]>,
) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{:<16} {:<24} {:<8} {:<28} {:>11}  {:<16}  {:<16}  PULLED IN BY",
        "MIRROR", "PACKAGE", "ARCH", "CHANGE", "SIZE", "UPSTREAM DATE", "STAGED"
    )?;
    for (n, i) in items.iter().enumerate() {
        writeln!(
            out,
            "{:<16} {:<24} {:<8} {:<28} {:>11}  {:<16}  {:<16}  {}",
            source(i),
            i.name,
            i.architecture,
            change_text(i),
            signed_bytes(i.size_change),
            date(i.upstream_date),
            date(Some(i.staged_at)),
            if i.pulled_in_by.is_empty() {
                "-".to_owned()
            } else {
                i.pulled_in_by.join(", ")
            }
        )?;
        if let Some(e) = changelogs.and_then(|c| c.get(n)) {
            evidence::write_block(out, e)?;
        }
    }
    Ok(())
}

/// The mirror of a staged change, or `repo:NAME` for a local repository's.
fn source(i: &StagedItem) -> String {
    if i.repo {
        format!("repo:{}", i.mirror)
    } else {
        i.mirror.clone()
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown_report(
    items: &[StagedItem],
    decisions: &[AuditRecord],
    since: DateTime<Utc>,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "# debvault review report\n");
    let _ = writeln!(
        s,
        "Decisions since {}; pending changes as of {}.\n",
        since.format("%Y-%m-%d %H:%M UTC"),
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(s, "## Waiting for review ({})\n", items.len());
    if items.is_empty() {
        let _ = writeln!(s, "Nothing is staged.\n");
    } else {
        let _ = writeln!(
            s,
            "| Mirror | Package | Arch | Change | Size | Upstream date |"
        );
        let _ = writeln!(s, "|---|---|---|---|---:|---|");
        for i in items {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&source(i)),
                cell(&i.name),
                cell(&i.architecture),
                cell(&change_text(i)),
                signed_bytes(i.size_change),
                date(i.upstream_date)
            );
        }
        let _ = writeln!(s);
    }
    for (action, title) in [
        ("promote", "Promoted"),
        ("reject", "Rejected"),
        ("freeze", "Frozen"),
        ("unfreeze", "Unfrozen"),
    ] {
        let rows: Vec<&AuditRecord> = decisions.iter().filter(|r| r.action == action).collect();
        let _ = writeln!(s, "## {title} ({})\n", rows.len());
        if rows.is_empty() {
            let _ = writeln!(s, "None.\n");
            continue;
        }
        let _ = writeln!(s, "| When | What | By | Reason |");
        let _ = writeln!(s, "|---|---|---|---|");
        for r in rows {
            let what = if r.detail.get("change").and_then(|c| c.as_str()) == Some("remove") {
                format!("{} (removal)", r.subject)
            } else {
                r.subject.clone()
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                r.at.format("%Y-%m-%d %H:%M"),
                cell(&what),
                cell(&r.actor),
                cell(r.reason.as_deref().unwrap_or("-"))
            );
        }
        let _ = writeln!(s);
    }
    s
}

fn print_decision(d: &Decision, g: &Globals) -> Result<u8> {
    let left = if d.dry_run {
        "would leave unmet"
    } else {
        "left unmet"
    };
    for u in &d.unmet {
        g.out.warn(&format!("{left}: {u}"));
    }
    // A dry run's plan is what the user asked to see.
    let kind = if d.dry_run { Kind::Data } else { Kind::Done };
    g.out.result(kind, d, |out| {
        let verb = match (d.action, d.dry_run) {
            ("promote", false) => "promoted",
            ("promote", true) => "would promote",
            (_, false) => "rejected",
            (_, true) => "would reject",
        };
        let what = if d.changes.iter().any(|c| c.repo) {
            "repo"
        } else {
            "mirror"
        };
        writeln!(
            out,
            "{what} `{}`: {verb} {} change{}; {} packages live",
            d.mirror,
            d.changes.len(),
            if d.changes.len() == 1 { "" } else { "s" },
            d.packages
        )?;
        for p in &d.pulled_in {
            writeln!(
                out,
                "  {} comes along: `{}` depends on it",
                p.package, p.needed_by
            )?;
        }
        for i in &d.changes {
            let sign = match i.action {
                StageAction::Add => '+',
                StageAction::Remove => '-',
            };
            writeln!(
                out,
                "  {sign} {} ({}) {}",
                i.name,
                i.architecture,
                change_text(i)
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}

pub(crate) fn promote(a: DecideArgs, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    if a.target.resolve(&ctx, &a.name)? == Target::Repo {
        let d = repo_curation::decide(&mut ctx, &a, true)?;
        return print_decision(&d, g);
    }
    let d = curation::promote(
        &mut ctx,
        &a.name,
        &selectors(&a.packages)?,
        a.all,
        &a.reason,
        a.options(),
    )?;
    print_decision(&d, g)
}

pub(crate) fn reject(a: DecideArgs, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    if a.target.resolve(&ctx, &a.name)? == Target::Repo {
        let d = repo_curation::decide(&mut ctx, &a, false)?;
        return print_decision(&d, g);
    }
    let d = curation::reject(
        &mut ctx,
        &a.name,
        &selectors(&a.packages)?,
        a.all,
        &a.reason,
        a.options(),
    )?;
    let code = print_decision(&d, g)?;
    if a.dry_run && !a.no_deps && !d.unmet.is_empty() {
        let mut names: Vec<&str> = d.unmet.iter().map(|u| u.package.as_str()).collect();
        names.dedup();
        g.out.warn(&format!(
            "the rejection would be refused: reject `{}` too, or pass `--no-deps`",
            names.join(" ")
        ));
    }
    Ok(code)
}

pub(crate) fn audit(a: AuditArgs, g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let since = a.since.as_deref().map(parse_since).transpose()?;
    let records = curation::audit_records(&ctx, since)?;
    if records.is_empty() {
        g.out.note("no audit records");
    }
    g.out.data(&records, |out| {
        for r in &records {
            write!(
                out,
                "{}  {}  {}  {}",
                r.at.format("%Y-%m-%d %H:%M:%S"),
                r.actor,
                r.action,
                r.subject
            )?;
            if let Some(reason) = &r.reason {
                write!(out, ": {reason}")?;
            }
            writeln!(out)?;
        }
        Ok(())
    })?;
    Ok(0)
}

/// Writes `text` to `path` atomically (a temporary file renamed over it),
/// so a metrics collector never reads half a file.
pub(crate) fn write_atomic(path: &std::path::Path, text: &str) -> Result<()> {
    crate::atomic_file::write(path, text.as_bytes(), WriteOptions::PUBLIC)
        .with_context(|| format!("cannot write `{}`", path.display()))
}
