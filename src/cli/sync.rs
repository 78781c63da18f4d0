//! `debvault mirror sync`: bring mirrors up to date and report each one.

use std::io::Write;

use clap::Args;

use super::Globals;
use super::failure::{Failure, Result};
use super::output::{UsageError, human_bytes};
use super::printer::Kind;
use crate::ops::mirror as ops_mirror;
use crate::ops::sync::{self as ops_sync, Outcome, SyncOptions, SyncReport, sync_mirror};

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// Mirrors to sync
    #[arg(add = super::complete::mirrors())]
    names: Vec<String>,
    /// Sync every mirror
    #[arg(long, conflicts_with = "names")]
    all: bool,
    /// Compute and print the plan; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Parallel downloads [env: DEBVAULT_DOWNLOADS] [default: 8]
    #[arg(long, value_name = "N")]
    downloads: Option<usize>,
    /// Remove packages even when more than `sync.mass-removal-percent` of a mirror would go
    #[arg(long)]
    allow_mass_removal: bool,
    /// Then download every package file the mirrors do not hold yet (on-demand mirrors leave
    /// them upstream; see `mirror fill`)
    #[arg(long, conflicts_with = "dry_run")]
    fetch_all: bool,
}

pub(crate) fn sync(a: SyncArgs, g: &Globals) -> Result<u8> {
    let mut flags = g.flags.clone();
    flags.downloads = a.downloads;
    let mut ctx = g.context_with(&flags)?;
    let names: Vec<String> = if a.all {
        ops_mirror::names(&ctx.db)?
    } else if a.names.is_empty() {
        return Err(UsageError("name the mirrors to sync, or pass `--all`".into()).into());
    } else {
        a.names
    };
    let opts = SyncOptions {
        dry_run: a.dry_run,
        downloads: ctx.settings.downloads,
        allow_mass_removal: a.allow_mass_removal,
        defer_unresolved: false,
        reevaluate: false,
    };
    let mut run = Run {
        reports: Vec::new(),
        code: 0,
        failures: Vec::new(),
        synced: Vec::new(),
        deferred: Vec::new(),
    };
    // A member of a group synced before another member of the run holds
    // back its "not satisfiable" warning: it re-evaluates after them.
    let later_member = ops_sync::later_group_members(&ctx, &names)?;
    for (name, later) in names.iter().zip(later_member) {
        let opts = SyncOptions {
            defer_unresolved: later,
            ..opts.clone()
        };
        run.one(&mut ctx, g, name, &opts, names.len() == 1, false)?;
    }
    // Members of a group synced before another member changed see its new
    // indices now, as do those whose warning waited; a second pass prints
    // only a change or a warning.
    if !a.dry_run {
        let again = ops_sync::group_resyncs(&ctx, &run.synced)?;
        let opts = SyncOptions {
            reevaluate: true,
            ..opts
        };
        let second: Vec<&String> = names
            .iter()
            .filter(|n| again.contains(n) || run.deferred.contains(n))
            .collect();
        for name in second {
            run.one(&mut ctx, g, name, &opts, false, true)?;
        }
    }
    let fills = if a.fetch_all && run.failures.is_empty() {
        super::ondemand::fill_after_sync(&mut ctx, g, &names)?
    } else {
        Vec::new()
    };
    let Run {
        reports,
        code,
        failures,
        ..
    } = run;
    // Serialized straight from the reports: a `json!` value would copy every
    // planned package into a tree first, even when stdout is not JSON.
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        mirrors: &'a [SyncReport],
        failed: &'a [serde_json::Value],
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        filled: &'a [crate::ops::sync::FillReport],
    }
    g.out.json(&Doc {
        mirrors: &reports,
        failed: &failures,
        filled: &fills,
    })?;
    if code == 0 {
        Ok(0)
    } else if failures.is_empty() {
        Ok(code)
    } else {
        Err(Failure::silent(code))
    }
}

/// What a run of syncs gathered.
struct Run {
    reports: Vec<SyncReport>,
    code: u8,
    failures: Vec<serde_json::Value>,
    /// Each mirror synced, in order, with whether it committed a revision.
    synced: Vec<(String, bool)>,
    /// Mirrors whose "not satisfiable" warning waited for a second pass.
    deferred: Vec<String>,
}

impl Run {
    /// Syncs `name` and prints its report (a `quiet_unchanged` second pass
    /// prints only a change). `alone`: the only mirror, whose failure is
    /// the command's error.
    fn one(
        &mut self,
        ctx: &mut crate::ops::Context,
        g: &Globals,
        name: &str,
        opts: &SyncOptions,
        alone: bool,
        quiet_unchanged: bool,
    ) -> Result<()> {
        // A dry run's plan is what the user asked to see; a sync's report
        // confirms what it did.
        let kind = if opts.dry_run { Kind::Data } else { Kind::Done };
        let failed = match crate::runtime::run(sync_mirror(ctx, name, opts))? {
            Ok(report) => {
                let p = &report.plan;
                let changed = report.outcome == Outcome::Synced;
                self.synced.push((name.to_owned(), changed));
                if report.unresolved_deferred {
                    self.deferred.push(name.to_owned());
                }
                // A second pass shows what it changed or still lacks.
                let quiet = quiet_unchanged
                    && p.added.is_empty()
                    && p.removed.is_empty()
                    && p.freezes.is_empty()
                    && p.staged.is_empty()
                    && p.unresolved.is_empty();
                let news = !quiet;
                if news {
                    g.out
                        .text(kind, |out| print_report(out, &report, opts.dry_run))?;
                }
                // A dry run shows the plan the mass-removal guard stops, then
                // fails as the real run would.
                let refusal = report.refusal();
                if refusal.is_none() {
                    self.code = self.code.max(report.exit_code());
                }
                if news {
                    self.reports.push(report);
                }
                refusal
            }
            Err(e) => Some(e),
        };
        if let Some(e) = failed {
            let err = Failure::from(e);
            if alone && !g.out.is_json() {
                return Err(err);
            }
            self.code = self.code.max(err.code());
            self.failures
                .push(serde_json::json!({"mirror": name, "error": format!("{:#}", err.error())}));
            if !g.out.is_json() {
                super::report_error(&err);
            }
        }
        Ok(())
    }
}

fn print_report(out: &mut dyn Write, r: &SyncReport, dry_run: bool) -> Result<()> {
    let p = &r.plan;
    match r.outcome {
        Outcome::Unchanged => writeln!(
            out,
            "mirror `{}`: unchanged, {} packages ({:.2}s)",
            r.mirror, r.packages, r.seconds
        )?,
        Outcome::Synced | Outcome::Planned => {
            let verb = if dry_run { "would sync" } else { "synced" };
            // Indices other mirrors of the same upstream fetched already.
            let cached = match r.index_cached_bytes {
                0 => String::new(),
                n => format!(", {} from cache", human_bytes(n)),
            };
            // Pool files and indices apart: the plan announced pool bytes only.
            let transfer = if dry_run {
                let images = r.installer_images.map(|i| {
                    let size = human_bytes(i.bytes);
                    format!(" and {} installer files ({size})", i.files)
                });
                format!(
                    "would download {} files ({}){} after reading indices ({}{cached})",
                    p.download_files,
                    human_bytes(p.download_bytes),
                    images.unwrap_or_default(),
                    human_bytes(r.index_bytes)
                )
            } else {
                format!(
                    "downloaded {} files ({}) and indices ({}{cached})",
                    r.downloaded_files,
                    human_bytes(r.downloaded_bytes.saturating_sub(r.index_bytes)),
                    human_bytes(r.index_bytes)
                )
            };
            writeln!(
                out,
                "mirror `{}`: {verb} {} packages: {} new, {} removed, {} kept, {} frozen; {transfer} in {:.2}s",
                r.mirror,
                r.packages,
                p.added.len(),
                p.removed.len(),
                p.kept,
                p.freezes.len(),
                r.seconds
            )?;
            if r.left_upstream > 0 {
                writeln!(
                    out,
                    "  on demand: {} package files left upstream (`debvault mirror fill {}` fetches them)",
                    r.left_upstream, r.mirror
                )?;
            }
            if p.sources_added > 0 {
                writeln!(out, "  source packages: {} new", p.sources_added)?;
            }
            if r.descriptions > 0 {
                let verb = if dry_run { "would keep" } else { "kept" };
                writeln!(out, "  {verb} {} long descriptions", r.descriptions)?;
            }
            if dry_run {
                for a in &p.added {
                    writeln!(
                        out,
                        "  + {} ({}){}",
                        a.key,
                        a.component,
                        if a.download { "" } else { " [in store]" }
                    )?;
                }
                for k in &p.removed {
                    writeln!(out, "  - {k}")?;
                }
            }
            for f in &p.freezes {
                writeln!(
                    out,
                    "  frozen {}: kept {}, upstream now {}",
                    f.key, f.kept_sha256, f.upstream_sha256
                )?;
            }
            for k in &p.restored {
                writeln!(
                    out,
                    "  unfrozen {k}: upstream serves the known-good content again"
                )?;
            }
            if !p.alternatives_left_out.is_empty() {
                let n = p.alternatives_left_out.len();
                writeln!(
                    out,
                    "  {n} alternative{} left out (`--follow-all-alternatives` takes them): {}",
                    if n == 1 { "" } else { "s" },
                    first_few(&p.alternatives_left_out, 3)
                )?;
            }
            if !p.staged.is_empty() {
                writeln!(
                    out,
                    "  {} {} changes for review (`debvault staged list {}`)",
                    if dry_run { "would stage" } else { "staged" },
                    p.staged.len(),
                    r.mirror
                )?;
                if dry_run {
                    for st in &p.staged {
                        let sign = match st.action {
                            crate::db::StageAction::Add => '+',
                            crate::db::StageAction::Remove => '-',
                        };
                        writeln!(out, "  {sign} {} ({}) [staged]", st.key, st.component)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The first `n` items joined by `; `, then `and K more` if there are more.
pub(crate) fn first_few(items: &[String], n: usize) -> String {
    let mut text = items[..n.min(items.len())].join("; ");
    if items.len() > n {
        text.push_str(&format!("; and {} more", items.len() - n));
    }
    text
}
