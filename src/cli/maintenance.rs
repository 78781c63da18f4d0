//! `status`, `gc`, `verify` and `db backup|restore`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::Globals;
use super::failure::Failure;
use super::failure::Result;
use super::output::{UsageError, human_bytes};
use super::printer::Kind;
use crate::config::parse_duration;
use crate::ops::backup;
use crate::ops::gc::{GcOptions, gc};
use crate::ops::keys::{KeyError, KeyStore};
use crate::ops::publish::BY_HASH_GRACE;
use crate::ops::status::{self, human_duration};
use crate::ops::verify::VerifyOptions;
use crate::pgp::Keyring;

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Also write the figures in Prometheus text format to FILE (atomically; for a textfile collector)
    #[arg(long, value_name = "FILE")]
    prometheus: Option<PathBuf>,
    /// Exit 1 when a mirror is stale or upstream changed a package under its version, or a publication has expired; with -q, print nothing unless so
    #[arg(long)]
    check: bool,
    /// With --check: how old the last successful sync may be
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "2d",
        requires = "check"
    )]
    max_age: String,
    /// With --check: also fail when more than N advisories affect live packages (see `advisories status`)
    #[arg(long, value_name = "N", requires = "check")]
    max_open_advisories: Option<usize>,
}

#[derive(Debug, Args)]
pub(crate) struct GcArgs {
    /// Report what would be removed; remove nothing
    #[arg(long)]
    dry_run: bool,
    /// How long retired publication trees (and pool files only they list) stay for clients mid-update
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    grace: String,
}

pub(crate) fn status(a: StatusArgs, g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let max_age = parse_duration(&a.max_age).ok_or_else(|| {
        UsageError(format!(
            "invalid `--max-age` `{}`: expected a duration such as 36h or 2d (at most 100 years)",
            a.max_age
        ))
    })?;
    let mut st = status::gather(&ctx.db, chrono::Utc::now())?;
    st.on_demand = crate::ops::ondemand_status::gather(&ctx.db, &ctx.store)?;
    st.proxies = crate::ops::proxy_status::gather(&ctx.db)?;
    if let Some(path) = &a.prometheus {
        super::curation::write_atomic(path, &status::prometheus(&st))?;
    }
    let mut problems = if a.check {
        status::problems(
            &st,
            chrono::Duration::seconds(max_age.min(i64::MAX as u64 / 2) as i64),
        )
    } else {
        Vec::new()
    };
    let open = super::evidence::open_advisories(&ctx, a.max_open_advisories, &mut problems)?;
    let mut v = serde_json::to_value(&st)?;
    v["open_advisories"] = serde_json::json!(open);
    if a.check {
        v["problems"] = serde_json::json!(problems);
    }
    // A check is for cron: under -q it says nothing unless something is wrong.
    let kind = if a.check { Kind::Done } else { Kind::Data };
    g.out.result(kind, &v, |out| {
        print_status(out, &st)?;
        super::evidence::print_open(out, open)
    })?;
    if problems.is_empty() {
        return Ok(0);
    }
    for p in &problems {
        g.out.problem(p);
    }
    Err(Failure::silent(crate::exit::FAILURE))
}

fn print_status(out: &mut dyn Write, st: &status::Status) -> Result<()> {
    if st.mirrors.is_empty() {
        writeln!(out, "no mirrors")?;
    } else {
        writeln!(
            out,
            "{:<20} {:>8} {:>6} {:>6} {:>6} {:>6}  {:<16}  {:<26}  LAST ERROR",
            "MIRROR",
            "PACKAGES",
            "FROZEN",
            "HELD",
            "STAGED",
            "UNMET",
            "LAST SYNC",
            "UPSTREAM DATE (AGE)"
        )?;
        for m in &st.mirrors {
            let upstream = match (m.upstream_date, m.upstream_age_secs) {
                (Some(d), Some(age)) => format!(
                    "{} ({})",
                    d.format("%Y-%m-%d %H:%M"),
                    human_duration(chrono::Duration::seconds(age))
                ),
                _ => "-".into(),
            };
            writeln!(
                out,
                "{:<20} {:>8} {:>6} {:>6} {:>6} {:>6}  {:<16}  {:<26}  {}",
                m.name,
                m.packages,
                m.frozen,
                m.held,
                m.staged,
                m.unmet,
                m.last_sync
                    .map_or("never".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
                upstream,
                m.last_error.as_deref().unwrap_or("-")
            )?;
        }
    }
    if !st.on_demand.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{:<20} {:>15} {:>21} {:>8} {:>8} {:>9}",
            "ON-DEMAND MIRROR", "LOCAL PACKAGES", "LOCAL BYTES", "FETCHED", "REFUSED", "UPSTREAM!"
        )?;
        for m in &st.on_demand {
            writeln!(
                out,
                "{:<20} {:>15} {:>21} {:>8} {:>8} {:>9}",
                m.mirror,
                format!("{}/{}", m.local_packages, m.packages),
                format!(
                    "{}/{}",
                    super::output::human_bytes(m.local_bytes),
                    super::output::human_bytes(m.bytes)
                ),
                m.counts.fetched,
                m.counts.mismatches,
                m.counts.upstream_errors
            )?;
        }
    }
    super::repo::print_status(out, &st.repos)?;
    if !st.proxies.is_empty() {
        super::serve_proxy::status_table(out, &st.proxies)?;
    }
    if !st.publications.is_empty() {
        writeln!(out)?;
        writeln!(out, "{:<32} {:<28} PUBLISHED", "PUBLICATION", "SNAPSHOT")?;
        for p in &st.publications {
            writeln!(
                out,
                "{:<32} {:<28} {}",
                crate::tree::layout::dists_path(&p.prefix, &p.distribution),
                p.snapshot,
                p.published_at.format("%Y-%m-%d %H:%M")
            )?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "storage: {} blobs, {} unique",
        st.storage.blobs,
        human_bytes(st.storage.unique_bytes)
    )?;
    Ok(())
}

pub(crate) fn run_gc(a: GcArgs, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    let grace = parse_duration(&a.grace).ok_or_else(|| {
        UsageError(format!(
            "invalid `--grace` `{}`: expected a duration such as 24h (at most 100 years)",
            a.grace
        ))
    })?;
    let grace = std::time::Duration::from_secs(grace);
    if grace < BY_HASH_GRACE {
        g.out.warn(&format!(
            "`--grace {}` is shorter than the by-hash grace of published trees (24h): clients in the middle of `apt update` may see missing files",
            a.grace
        ));
    }
    let r = gc(
        &mut ctx,
        &GcOptions {
            dry_run: a.dry_run,
            grace,
        },
    )?;
    // A dry run's report is what the user asked to see; a real run's
    // tally confirms what was done.
    let kind = if a.dry_run { Kind::Data } else { Kind::Done };
    g.out.result(kind, &r, |out| {
        writeln!(
        out,
        "gc{}: {} {} revisions, {} package sets, {} packages, {} blobs ({}); {} trees{}, {} pool files, {} index-cache files{}; {} {} in {:.2}s",
        if r.dry_run { " (dry run)" } else { "" },
        if r.dry_run { "would remove" } else { "removed" },
        r.db.revisions,
        r.db.package_sets,
        r.db.packages,
        r.blobs,
        human_bytes(r.blob_bytes),
        r.trees,
        if r.by_hash_files > 0 {
            format!(", {} by-hash files", r.by_hash_files)
        } else {
            String::new()
        },
        r.pool_files,
        r.index_cache_files,
        if r.leftovers.is_empty() {
            String::new()
        } else {
            format!(", {} leftovers", r.leftovers.len())
        },
        if r.dry_run { "would free" } else { "freed" },
        human_bytes(r.freed_bytes),
        r.seconds
    )?;
        for path in &r.leftovers {
            writeln!(
                out,
                "{} leftover `{}`",
                if r.dry_run { "would remove" } else { "removed" },
                path.display()
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Percentage of blobs to re-hash (presence and size of all are always checked)
    #[arg(long, value_name = "PERCENT", default_value_t = 100.0)]
    sample: f64,
}

/// `debvault verify`: exit 3 on any difference.
pub(crate) fn verify(a: VerifyArgs, g: &Globals) -> Result<u8> {
    if !(0.0..=100.0).contains(&a.sample) {
        return Err(UsageError(format!(
            "invalid --sample `{}`: expected a percentage from 0 to 100",
            a.sample
        ))
        .into());
    }
    let ctx = g.context()?;
    let endpoint = ctx.endpoint()?;
    let keys = KeyStore::new(ctx.settings.root.join("keys"), None);
    let keyring = match keys.export(false) {
        Ok(public) => Some(Keyring::from_bytes(&public, "the signing keys")?),
        Err(KeyError::Empty(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let r = crate::ops::verify::verify(
        &ctx.db,
        &ctx.store,
        &endpoint,
        keyring.as_ref(),
        &ctx.settings.root.join("tmp"),
        VerifyOptions {
            sample_percent: a.sample,
        },
    )?;
    g.out.data(&r, |out| {
        writeln!(
            out,
            "verified {} blobs ({} re-hashed, {}), {} publications, {} pool files in {:.2}s: {}",
            r.blobs,
            r.blobs_hashed,
            human_bytes(r.bytes_hashed),
            r.publications,
            r.pool_files,
            r.seconds,
            if r.ok() {
                "all match".to_owned()
            } else {
                format!("{} problems", r.problems.len())
            }
        )?;
        Ok(())
    })?;
    for p in &r.problems {
        g.out
            .problem(&format!("{} `{}`: {}", p.kind, p.subject, p.detail));
    }
    Ok(if r.ok() { 0 } else { 3 })
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum DbCommand {
    /// Copy the database and the signing keys (consistently, while other commands run) to a
    /// file or `s3://bucket/key` (0600), with `<DEST>.manifest.json` (size, SHA256, schema
    /// version, key files) beside it; a killed backup leaves the previous one whole
    Backup {
        /// A file path or `s3://bucket/key`
        dest: String,
        /// Leave the signing keys out (for a destination less trusted than the data root)
        #[arg(long)]
        no_keys: bool,
    },
    /// Replace the database by a backup after checking it against its manifest, and put back
    /// the signing keys the data root lacks; the current database is kept as
    /// `debvault.db.pre-restore-<time>`
    Restore {
        /// A file path or `s3://bucket/key` written by `db backup`
        src: String,
    },
}

pub(crate) fn db(cmd: DbCommand, g: &Globals) -> Result<u8> {
    match cmd {
        DbCommand::Backup { dest, no_keys } => {
            let ctx = g.context()?;
            let keys = KeyStore::new(ctx.settings.root.join("keys"), None);
            let keys = (!no_keys).then_some(&keys);
            let r = backup::backup(&ctx.db, keys, &dest, &ctx.settings.root.join("tmp"))?;
            g.out.done(&r, |out| {
                let n = r.manifest.keys.len();
                let keys = match (r.keys_left_out, n) {
                    (true, _) => "without the signing keys (`--no-keys`)".to_owned(),
                    (false, 0) => "without signing keys (the data root has none)".to_owned(),
                    (false, n) => format!("with {n} signing key{}", plural(n)),
                };
                writeln!(
                    out,
                    "backed up the database {keys} to `{}` ({}, SHA256 {}, schema {}); manifest `{}`",
                    r.location,
                    human_bytes(r.manifest.size),
                    r.manifest.sha256,
                    r.manifest.schema_version,
                    r.manifest_location
                )?;
                Ok(())
            })?;
        }
        DbCommand::Restore { src } => {
            let settings = g.settings()?;
            let keys = KeyStore::new(settings.root.join("keys"), None);
            let r = backup::restore(
                &settings.db_path(),
                &keys,
                &src,
                &settings.root.join("tmp"),
                &settings.lock_dir(),
            )?;
            g.out.done(&r, |out| {
                writeln!(
                    out,
                    "restored the database from `{}` with the manifest `{}` (taken {}, schema {})",
                    r.location,
                    r.manifest_location,
                    r.manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    r.manifest.schema_version
                )?;
                let (new, had) = (r.keys_restored.len(), r.keys_present.len());
                if new + had > 0 {
                    writeln!(
                        out,
                        "restored {new} signing key{} to `{}` ({had} already there)",
                        plural(new),
                        settings.root.join("keys").display()
                    )?;
                }
                if let Some(prev) = &r.previous {
                    writeln!(out, "the replaced database is kept as `{}`", prev.display())?;
                }
                writeln!(
                    out,
                    "run `debvault verify` to check the blobs and publications against it"
                )?;
                Ok(())
            })?;
        }
    }
    Ok(0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
