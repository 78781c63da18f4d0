//! `debvault mirror fill` and `mirror sync --fetch-all`: download what an
//! on-demand mirror still lacks, to have it local before upstream goes away.

use std::io::Write;

use clap::Args;

use super::Globals;
use super::failure::Result;
use super::output::human_bytes;
use crate::ops::sync::{FillReport, fill_mirror};

#[derive(Debug, Args)]
pub(crate) struct FillArgs {
    /// Mirror name
    #[arg(add = super::complete::mirrors())]
    name: String,
    /// Parallel downloads [env: DEBVAULT_DOWNLOADS] [default: 8]
    #[arg(long, value_name = "N")]
    downloads: Option<usize>,
}

/// `mirror fill NAME`.
pub(crate) fn fill(a: FillArgs, g: &Globals) -> Result<u8> {
    let mut flags = g.flags.clone();
    flags.downloads = a.downloads;
    let mut ctx = g.context_with(&flags)?;
    let downloads = ctx.settings.downloads;
    let report = crate::runtime::run(fill_mirror(&mut ctx, &a.name, downloads))??;
    g.out.done(&report, |out| print_fill(out, &report))?;
    Ok(0)
}

/// After `mirror sync --fetch-all`: fills each mirror synced.
pub(crate) fn fill_after_sync(
    ctx: &mut crate::ops::Context,
    g: &Globals,
    names: &[String],
) -> Result<Vec<FillReport>> {
    let downloads = ctx.settings.downloads;
    let mut reports = Vec::new();
    for name in names {
        let report = crate::runtime::run(fill_mirror(ctx, name, downloads))??;
        g.out
            .text(super::printer::Kind::Done, |out| print_fill(out, &report))?;
        reports.push(report);
    }
    Ok(reports)
}

fn print_fill(out: &mut dyn Write, r: &FillReport) -> Result<()> {
    writeln!(
        out,
        "mirror `{}`: {} of {} package files were local; downloaded {} files ({}) in {:.2}s",
        r.mirror,
        r.already_local,
        r.packages,
        r.downloaded_files,
        human_bytes(r.downloaded_bytes),
        r.seconds
    )?;
    Ok(())
}
