//! `mirror list` and `mirror show`: how a mirror's definition and state read.

use std::io::Write;

use serde::Serialize;

use super::Globals;
use super::failure::Result;
use crate::model::{Freeze, Mirror};
use crate::ops::mirror::{self as ops_mirror, MirrorDetail};
pub(super) fn list(g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let mirrors = ops_mirror::list(&ctx.db)?;
    if mirrors.is_empty() {
        g.out.note(
            "no mirrors; create one with `debvault mirror create` or `debvault mirror import-apt-sources`",
        );
    }
    g.out.data(&mirrors, |out| {
        if mirrors.is_empty() {
            return Ok(());
        }
        writeln!(
            out,
            "{:<24} {:<16} {:>8} {:>6}  {:<20}  URL",
            "NAME", "SUITE", "PACKAGES", "FROZEN", "LAST SYNC"
        )?;
        for s in &mirrors {
            let m = &s.mirror;
            let last = m.state.last_sync_at.map_or_else(
                || "never".to_owned(),
                |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
            );
            writeln!(
                out,
                "{:<24} {:<16} {:>8} {:>6}  {:<20}  {}",
                m.name, m.spec.suite, s.packages, s.frozen, last, m.spec.url
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}

pub(super) fn show(name: &str, with_packages: bool, g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let d = ops_mirror::show(&ctx.db, name, with_packages)?;
    #[derive(Serialize)]
    struct Listed<'a> {
        package: &'a str,
        component: &'a str,
    }
    #[derive(Serialize)]
    struct Doc<'a> {
        mirror: &'a Mirror,
        packages: u64,
        freezes: &'a [Freeze],
        revisions: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        package_list: Option<Vec<Listed<'a>>>,
    }
    let doc = Doc {
        mirror: &d.mirror,
        packages: d.packages,
        freezes: &d.freezes,
        revisions: d.revisions,
        package_list: d.package_list.as_ref().map(|l| {
            l.iter()
                .map(|(package, component)| Listed { package, component })
                .collect()
        }),
    };
    g.out.data(&doc, |out| {
        print_spec(out, &d.mirror)?;
        print_state(out, &d)
    })?;
    Ok(0)
}

/// `mirror show`'s first part: the definition.
fn print_spec(out: &mut dyn Write, m: &Mirror) -> Result<()> {
    let s = &m.spec;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    writeln!(out, "name:          {}", m.name)?;
    writeln!(out, "url:           {}", s.url)?;
    writeln!(out, "suite:         {}", s.suite)?;
    writeln!(
        out,
        "components:    {}",
        if s.components.is_empty() {
            "(all in Release)".into()
        } else {
            s.components.join(" ")
        }
    )?;
    writeln!(out, "architectures: {}", s.architectures.join(" "))?;
    let keyrings: Vec<String> = s.keyrings.iter().map(|k| k.display().to_string()).collect();
    writeln!(
        out,
        "keyrings:      {}",
        if keyrings.is_empty() {
            "-".into()
        } else {
            keyrings.join(" ")
        }
    )?;
    writeln!(out, "filter:        {}", opt(&s.filter))?;
    writeln!(
        out,
        "languages:     {}",
        if s.languages.is_empty() {
            "none".into()
        } else {
            s.languages.join(" ")
        }
    )?;
    writeln!(
        out,
        "with-deps:     {}",
        if s.with_deps { "yes" } else { "no" }
    )?;
    if s.with_sources {
        writeln!(out, "sources:       yes (source packages mirrored)")?;
    }
    if s.with_appstream {
        writeln!(
            out,
            "appstream:     yes (DEP-11 metadata and icons mirrored)"
        )?;
    }
    if s.with_udebs {
        writeln!(out, "udebs:         yes (installer packages mirrored)")?;
    }
    if s.with_installer {
        writeln!(out, "installer:     yes (installer images mirrored)")?;
    }
    if s.follow_recommends {
        writeln!(out, "recommends:    followed")?;
    }
    if s.follow_all_alternatives {
        writeln!(out, "alternatives:  all followed")?;
    }
    if s.allow_insecure {
        writeln!(out, "insecure:      yes (signatures not required)")?;
    }
    if s.review {
        writeln!(
            out,
            "review:        yes (syncs stage changes for `debvault promote`)"
        )?;
    }
    if let Some(group) = &s.group {
        writeln!(
            out,
            "group:         {group} (dependencies close over every member)"
        )?;
    }
    if s.on_demand {
        writeln!(
            out,
            "on-demand:     yes (package files fetched when served)"
        )?;
    }
    for pin in &s.pins {
        writeln!(
            out,
            "pin:           {} = {}",
            pin.name,
            pin.versions.join(", ")
        )?;
    }
    writeln!(
        out,
        "created:       {}",
        m.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    )?;
    Ok(())
}

/// `mirror show`'s second part: state, freezes and packages.
fn print_state(out: &mut dyn Write, d: &MirrorDetail) -> Result<()> {
    let st = &d.mirror.state;
    writeln!(
        out,
        "last sync:     {}",
        st.last_sync_at.map_or("never".into(), |t| t
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string())
    )?;
    writeln!(
        out,
        "release date:  {}",
        st.release_date.map_or("-".into(), |t| t
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string())
    )?;
    writeln!(
        out,
        "last error:    {}",
        st.last_error.as_deref().unwrap_or("-")
    )?;
    writeln!(out, "revisions:     {}", d.revisions)?;
    writeln!(out, "packages:      {}", d.packages)?;
    match d.unmet_examples.first() {
        Some(first) => writeln!(
            out,
            "unmet deps:    {} (nothing in the mirror satisfies them), e.g. {first}",
            d.unmet_dependencies
        )?,
        None => writeln!(out, "unmet deps:    {}", d.unmet_dependencies)?,
    }
    writeln!(out, "frozen:        {}", d.freezes.len())?;
    for f in &d.freezes {
        match f.kind {
            crate::model::FreezeKind::Content => writeln!(
                out,
                "  {} kept {} (upstream {}) since {}: {}",
                f.key,
                f.kept_sha256,
                f.upstream_sha256,
                f.created_at.format("%Y-%m-%d"),
                f.reason
            )?,
            crate::model::FreezeKind::Manual => writeln!(
                out,
                "  {} held by an operator since {}: {}",
                f.key,
                f.created_at.format("%Y-%m-%d"),
                f.reason
            )?,
        }
    }
    if let Some(listing) = &d.package_list {
        writeln!(out, "package list:")?;
        for (key, component) in listing {
            writeln!(out, "  {key} ({component})")?;
        }
    }
    Ok(())
}
