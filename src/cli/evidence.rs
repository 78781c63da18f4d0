//! Evidence for review on the command line: `--changelog` of `staged
//! list|report` and `snapshot diff` (the changelog between versions, its
//! CVE IDs and urgency).

use std::io::Write;

use serde::Serialize;

use super::failure::Result;
use crate::ops::curation::StagedItem;
use crate::ops::evidence::changelog::{ChangeEvidence, ChangeQuery, entry_text};
use crate::ops::snapshot::DiffEntry;

/// A change with its changelog evidence: the change's own fields and a
/// `changelog` object beside them in JSON.
#[derive(Serialize)]
pub(crate) struct WithChangelog<'a, T> {
    #[serde(flatten)]
    item: &'a T,
    changelog: &'a ChangeEvidence,
}

/// `items` each paired with its evidence.
pub(crate) fn pair<'a, T>(
    items: &'a [T],
    evidence: &'a [ChangeEvidence],
) -> Vec<WithChangelog<'a, T>> {
    items
        .iter()
        .zip(evidence)
        .map(|(item, changelog)| WithChangelog { item, changelog })
        .collect()
}

/// What to explain of each staged change.
pub(crate) fn staged_queries(items: &[StagedItem]) -> Vec<ChangeQuery> {
    items
        .iter()
        .map(|i| ChangeQuery {
            name: i.name.clone(),
            architecture: i.architecture.clone(),
            old_version: i.old_version.clone(),
            new_version: i.new_version.clone(),
            new_sha256: i.new_version.as_ref().and_then(|_| i.sha256.parse().ok()),
        })
        .collect()
}

/// What to explain of each line of a snapshot diff.
pub(crate) fn diff_queries(changes: &[DiffEntry]) -> Vec<ChangeQuery> {
    changes
        .iter()
        .map(|c| ChangeQuery {
            name: c.name.clone(),
            architecture: c.architecture.clone(),
            old_version: c.old_version.clone(),
            new_version: c.new_version.clone(),
            new_sha256: c.new_sha256,
        })
        .collect()
}

/// The evidence under a change's line: its summary, then its entries,
/// indented.
pub(crate) fn write_block(out: &mut dyn Write, e: &ChangeEvidence) -> Result<()> {
    let summary = e.summary();
    if !summary.is_empty() {
        writeln!(out, "    {summary}")?;
    }
    for entry in &e.entries {
        for line in entry_text(entry).lines() {
            if line.is_empty() {
                writeln!(out)?;
            } else {
                writeln!(out, "    {line}")?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The `## Changelogs` section of a review report: per staged change its
/// summary and entries in a fenced block.
pub(crate) fn markdown_section(items: &[StagedItem], evidence: &[ChangeEvidence]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let cves: usize = evidence.iter().map(|e| e.cves.len()).sum();
    let _ = writeln!(s, "## Changelogs ({cves} CVE IDs named)\n");
    if items.is_empty() {
        let _ = writeln!(s, "Nothing is staged.\n");
    }
    for (i, e) in items.iter().zip(evidence) {
        let versions = match (&i.old_version, &i.new_version) {
            (Some(o), Some(n)) => format!("{o} → {n}"),
            (None, Some(n)) => n.clone(),
            (Some(o), None) => format!("{o} → (removed)"),
            (None, None) => "(removed)".into(),
        };
        let _ = writeln!(s, "### {} {} {versions}\n", i.name, i.architecture);
        let summary = e.summary();
        if !summary.is_empty() {
            let _ = writeln!(s, "{summary}\n");
        }
        if !e.entries.is_empty() {
            let _ = writeln!(s, "```");
            for entry in &e.entries {
                let _ = writeln!(s, "{}", entry_text(entry));
            }
            let _ = writeln!(s, "```\n");
        }
    }
    s
}

/// `snapshot export`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// Snapshot name
    #[arg(add = super::complete::snapshots())]
    name: String,
    /// Document format: CycloneDX 1.6 JSON or SPDX 2.3 JSON
    #[arg(long, value_enum)]
    format: SbomFormatArg,
    /// Write to FILE (atomically) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum SbomFormatArg {
    Cyclonedx,
    Spdx,
}

pub(crate) fn export(a: &ExportArgs, g: &super::Globals) -> Result<u8> {
    use crate::ops::evidence::sbom::{self, SbomFormat};
    let ctx = g.context()?;
    let format = match a.format {
        SbomFormatArg::Cyclonedx => SbomFormat::CycloneDx,
        SbomFormatArg::Spdx => SbomFormat::Spdx,
    };
    let doc = sbom::gather(&ctx.db, &a.name)?;
    match &a.output {
        Some(path) => {
            crate::atomic_file::write_with(path, crate::atomic_file::WriteOptions::PUBLIC, |w| {
                doc.write(format, w)
            })
            .map_err(|source| crate::ops::evidence::EvidenceError::Write {
                what: path.display().to_string(),
                source,
            })?;
            let v = serde_json::json!({
                "snapshot": a.name,
                "file": path,
                "packages": doc.packages.len(),
            });
            g.out.done(&v, |out| {
                writeln!(
                    out,
                    "wrote the bill of materials of snapshot `{}` ({} packages) to `{}`",
                    a.name,
                    doc.packages.len(),
                    path.display()
                )?;
                Ok(())
            })?;
        }
        None => {
            let stdout = std::io::stdout().lock();
            let mut w = std::io::BufWriter::with_capacity(256 * 1024, stdout);
            doc.write(format, &mut w)?;
            w.flush()?;
        }
    }
    Ok(0)
}

/// `advisories …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AdvisoriesCommand {
    /// Import the Debian security tracker's JSON or OSV records (a JSON file, a directory or a zip of them)
    Import {
        /// Files, directories or zips (OSV's `all.zip`); each is one import, kept even if a later one fails
        #[arg(required = true, value_name = "FILE")]
        files: Vec<std::path::PathBuf>,
    },
    /// List packages whose version a known advisory affects, and whether a fix is staged, upstream or absent
    Status {
        /// Only this mirror's live packages
        #[arg(long, value_name = "MIRROR", conflicts_with = "snapshot", add = super::complete::mirrors())]
        mirror: Option<String>,
        /// This snapshot's packages
        #[arg(long, value_name = "SNAPSHOT", add = super::complete::snapshots())]
        snapshot: Option<String>,
    },
}

pub(crate) fn advisories(cmd: AdvisoriesCommand, g: &super::Globals) -> Result<u8> {
    use crate::ops::evidence::advisories::{self as ops, Scope};
    let mut ctx = g.context()?;
    match cmd {
        AdvisoriesCommand::Import { files } => {
            let done = ops::import(&mut ctx.db, &files, chrono::Utc::now())?;
            g.out.done(&done, |out| {
                for i in &done {
                    writeln!(
                        out,
                        "imported {} advisory records ({}) from `{}`",
                        i.records, i.format, i.source
                    )?;
                }
                Ok(())
            })?;
        }
        AdvisoriesCommand::Status { mirror, snapshot } => {
            let scope = match (&mirror, &snapshot) {
                (Some(m), _) => Scope::Mirror(m),
                (None, Some(s)) => Scope::Snapshot(s),
                (None, None) => Scope::AllMirrors,
            };
            let found = ops::status(&ctx, scope)?;
            if found.is_empty() {
                g.out.note("no package is affected by a known advisory");
            }
            g.out.data(&found, |out| {
                if found.is_empty() {
                    return Ok(());
                }
                writeln!(
                    out,
                    "{:<16} {:<24} {:<20} {:<20} {:<20} {:<10} FIX",
                    "SCOPE", "PACKAGE", "VERSION", "ADVISORY", "FIXED IN", "URGENCY"
                )?;
                for f in &found {
                    writeln!(
                        out,
                        "{:<16} {:<24} {:<20} {:<20} {:<20} {:<10} {}",
                        f.scope,
                        f.package,
                        f.version,
                        f.advisory,
                        f.fixed.as_deref().unwrap_or("(none yet)"),
                        f.urgency.as_deref().unwrap_or("-"),
                        match f.fix {
                            ops::FixState::Staged => "staged",
                            ops::FixState::Upstream => "upstream",
                            ops::FixState::Absent => "absent",
                        }
                    )?;
                }
                Ok(())
            })?;
        }
    }
    Ok(0)
}

/// How many advisories affect live packages of any mirror (`None` when
/// none were ever imported); over `max`, a problem for `status --check`.
pub(crate) fn open_advisories(
    ctx: &crate::ops::Context,
    max: Option<usize>,
    problems: &mut Vec<String>,
) -> Result<Option<usize>> {
    use crate::ops::evidence::advisories::{Scope, status};
    if ctx.db.advisory_imports()?.is_empty() {
        return Ok(None);
    }
    let open = status(ctx, Scope::AllMirrors)?.len();
    if let Some(max) = max
        && open > max
    {
        problems.push(format!(
            "{open} advisories affect live packages (at most {max} allowed); see `debvault advisories status`"
        ));
    }
    Ok(Some(open))
}

/// The `status` line of open advisories.
pub(crate) fn print_open(out: &mut dyn Write, open: Option<usize>) -> Result<()> {
    if let Some(n) = open {
        writeln!(out, "\nopen advisories: {n}")?;
    }
    Ok(())
}

/// The `## Advisories` section of a review report (the open advisories of
/// `mirror`, or of every mirror) and their count; `None` when no advisory
/// was ever imported.
pub(crate) fn advisory_section(
    ctx: &crate::ops::Context,
    mirror: Option<&str>,
) -> Result<Option<(usize, String)>> {
    use crate::ops::evidence::advisories::{FixState, Scope, status};
    use std::fmt::Write as _;
    if ctx.db.advisory_imports()?.is_empty() {
        return Ok(None);
    }
    let found = status(ctx, mirror.map_or(Scope::AllMirrors, Scope::Mirror))?;
    let mut s = String::new();
    let _ = writeln!(s, "## Open advisories ({})\n", found.len());
    if found.is_empty() {
        let _ = writeln!(s, "None.\n");
    } else {
        let _ = writeln!(
            s,
            "| Mirror | Package | Version | Advisory | Fixed in | Fix |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for f in &found {
            let fix = match f.fix {
                FixState::Staged => "staged",
                FixState::Upstream => "upstream",
                FixState::Absent => "absent",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {fix} |",
                cell(&f.scope),
                cell(&f.package),
                cell(&f.version),
                cell(&f.advisory),
                cell(f.fixed.as_deref().unwrap_or("(none yet)"))
            );
        }
        let _ = writeln!(s);
    }
    Ok(Some((found.len(), s)))
}

/// Text safe in a Markdown table cell (advisory IDs come from outside).
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
