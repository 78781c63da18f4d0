//! `status`: the health of every mirror and publication at a glance, for
//! people (`status`), monitoring (`--prometheus FILE`) and cron
//! (`--check --max-age`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{Db, DbError};
use crate::model::FreezeKind;

/// One mirror's health.
#[derive(Clone, Debug, Serialize)]
pub struct MirrorStatus {
    /// Name.
    pub name: String,
    /// Live packages.
    pub packages: u64,
    /// Packages frozen because upstream changed their content under the
    /// same version: a problem for `status --check`.
    pub frozen: u64,
    /// Packages an operator holds (`debvault freeze`): deliberate, not a
    /// problem.
    pub held: u64,
    /// Pending staged changes.
    pub staged: u64,
    /// Dependencies of its current packages nothing inside it satisfies.
    pub unmet: u64,
    /// Whether the mirror stages changes for review.
    pub review: bool,
    /// Last successful sync (a no-op one counts).
    pub last_sync: Option<DateTime<Utc>>,
    /// Error of the last failed sync, cleared by a successful one.
    pub last_error: Option<String>,
    /// `Date` of the upstream Release last accepted.
    pub upstream_date: Option<DateTime<Utc>>,
    /// Seconds since that `Date`.
    pub upstream_age_secs: Option<i64>,
}

/// One publication.
#[derive(Clone, Debug, Serialize)]
pub struct PublicationStatus {
    /// Prefix.
    pub prefix: String,
    /// Distribution.
    pub distribution: String,
    /// Published snapshot, or `main=a,internal=b` for several as components.
    pub snapshot: String,
    /// When it was switched in.
    pub published_at: DateTime<Utc>,
    /// Its `Valid-Until`, if any.
    pub valid_until: Option<DateTime<Utc>>,
}

/// Storage use.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct StorageStatus {
    /// Distinct blobs the database references.
    pub blobs: u64,
    /// Their bytes, each blob counted once.
    pub unique_bytes: u64,
}

/// Everything `status` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// When it was gathered.
    pub generated_at: DateTime<Utc>,
    /// Mirrors by name.
    pub mirrors: Vec<MirrorStatus>,
    /// Publications by prefix and distribution.
    pub publications: Vec<PublicationStatus>,
    /// Storage.
    pub storage: StorageStatus,
    /// On-demand mirrors: how much is local, what `serve` fetched
    /// (filled by [`crate::ops::ondemand_status::gather`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub on_demand: Vec<crate::ops::ondemand_status::OnDemandStatus>,
    /// Local repositories by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repos: Vec<crate::ops::repo::status::RepoStatus>,
    /// `serve`'s caching proxies (filled by [`crate::ops::proxy_status::gather`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub proxies: Vec<crate::ops::proxy_status::ProxyStatus>,
}

/// Gathers the status from the database (no network, no store walk).
pub fn gather(db: &Db, now: DateTime<Utc>) -> Result<Status, DbError> {
    let mut mirrors = Vec::new();
    for m in db.mirrors()? {
        let revision = match m.state.revision {
            Some(rev) => db.revision(rev)?,
            None => None,
        };
        let packages = revision.as_ref().map_or(0, |r| r.packages);
        let unmet = revision.as_ref().map_or(0, |r| r.unmet_dependencies().0);
        let freezes = db.active_freezes(m.id)?;
        let held = freezes
            .iter()
            .filter(|f| f.kind == FreezeKind::Manual)
            .count() as u64;
        mirrors.push(MirrorStatus {
            packages,
            frozen: freezes.len() as u64 - held,
            held,
            staged: db.staged(Some(m.id), false)?.len() as u64,
            unmet,
            review: m.spec.review,
            last_sync: m.state.last_sync_at,
            last_error: m.state.last_error.clone(),
            upstream_date: m.state.release_date,
            upstream_age_secs: m.state.release_date.map(|d| (now - d).num_seconds()),
            name: m.name,
        });
    }
    let publications = db
        .publications()?
        .into_iter()
        .map(|p| PublicationStatus {
            snapshot: p.snapshots_text(),
            prefix: p.prefix,
            distribution: p.distribution,
            published_at: p.published_at,
            valid_until: p.valid_until,
        })
        .collect();
    let (blobs, unique_bytes) = db.unique_blob_bytes()?;
    Ok(Status {
        generated_at: now,
        mirrors,
        publications,
        storage: StorageStatus {
            blobs,
            unique_bytes,
        },
        on_demand: Vec::new(),
        repos: crate::ops::repo::status::gather(db)?,
        proxies: Vec::new(),
    })
}

/// The problems `status --check` fails on: a mirror not synced
/// successfully within `max_age` (or never), a mirror with packages frozen
/// by an upstream content change (an operator's hold is deliberate, not a
/// problem), a publication whose `Valid-Until` has passed.
pub fn problems(status: &Status, max_age: chrono::Duration) -> Vec<String> {
    let now = status.generated_at;
    let mut out = Vec::new();
    for m in &status.mirrors {
        match m.last_sync {
            None => out.push(format!("mirror `{}` has never synced", m.name)),
            Some(t) if now - t > max_age => out.push(format!(
                "mirror `{}` is stale: last successful sync {} ago{}",
                m.name,
                human_duration(now - t),
                m.last_error
                    .as_ref()
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            )),
            Some(_) => {}
        }
        if m.frozen > 0 {
            out.push(format!(
                "mirror `{}` has {} frozen package{}: upstream changed content under the same version (`debvault mirror show {}`)",
                m.name,
                m.frozen,
                if m.frozen == 1 { "" } else { "s" },
                m.name
            ));
        }
    }
    for p in &status.publications {
        if let Some(v) = p.valid_until
            && v < now
        {
            out.push(format!(
                "publication `{}/dists/{}` expired at {} (Valid-Until); re-publish it",
                p.prefix,
                p.distribution,
                v.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
    }
    out
}

/// `3d 4h`, `5h 2m`, `42s`: the two largest units.
pub fn human_duration(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    let (days, hours, mins) = (s / 86400, s % 86400 / 3600, s % 3600 / 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {mins}m")
    } else if mins > 0 {
        format!("{mins}m {}s", s % 60)
    } else {
        format!("{s}s")
    }
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The status in the Prometheus text exposition format (for the node
/// exporter's textfile collector).
pub fn prometheus(status: &Status) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let mut family = |name: &str, help: &str, kind: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(s, "{name}{labels} {v}");
        }
    };
    let per_mirror = |f: &dyn Fn(&MirrorStatus) -> Option<f64>| -> Vec<(String, f64)> {
        status
            .mirrors
            .iter()
            .filter_map(|m| f(m).map(|v| (format!("{{mirror=\"{}\"}}", label(&m.name)), v)))
            .collect()
    };
    family(
        "debvault_mirror_packages",
        "Live packages of the mirror.",
        "gauge",
        per_mirror(&|m| Some(m.packages as f64)),
    );
    family(
        "debvault_mirror_frozen_packages",
        "Packages frozen at their known-good copy: upstream changed their content under the same version.",
        "gauge",
        per_mirror(&|m| Some(m.frozen as f64)),
    );
    family(
        "debvault_mirror_held_packages",
        "Packages an operator holds (debvault freeze).",
        "gauge",
        per_mirror(&|m| Some(m.held as f64)),
    );
    family(
        "debvault_mirror_unmet_dependencies",
        "Dependencies of the mirror's packages that nothing inside it satisfies.",
        "gauge",
        per_mirror(&|m| Some(m.unmet as f64)),
    );
    family(
        "debvault_mirror_staged_changes",
        "Staged changes waiting for promotion.",
        "gauge",
        per_mirror(&|m| Some(m.staged as f64)),
    );
    family(
        "debvault_mirror_last_sync_timestamp_seconds",
        "Time of the last successful sync.",
        "gauge",
        per_mirror(&|m| m.last_sync.map(|t| t.timestamp() as f64)),
    );
    family(
        "debvault_mirror_upstream_date_timestamp_seconds",
        "Date of the upstream Release last accepted.",
        "gauge",
        per_mirror(&|m| m.upstream_date.map(|t| t.timestamp() as f64)),
    );
    family(
        "debvault_mirror_sync_failing",
        "1 when the last sync failed.",
        "gauge",
        per_mirror(&|m| Some(if m.last_error.is_some() { 1.0 } else { 0.0 })),
    );
    family(
        "debvault_publication_timestamp_seconds",
        "Time the publication was switched in.",
        "gauge",
        status
            .publications
            .iter()
            .map(|p| {
                (
                    format!(
                        "{{prefix=\"{}\",distribution=\"{}\",snapshot=\"{}\"}}",
                        label(&p.prefix),
                        label(&p.distribution),
                        label(&p.snapshot)
                    ),
                    p.published_at.timestamp() as f64,
                )
            })
            .collect(),
    );
    family(
        "debvault_storage_unique_bytes",
        "Bytes of the referenced blobs, each counted once.",
        "gauge",
        vec![(String::new(), status.storage.unique_bytes as f64)],
    );
    family(
        "debvault_storage_blobs",
        "Distinct referenced blobs.",
        "gauge",
        vec![(String::new(), status.storage.blobs as f64)],
    );
    s.push_str(&crate::ops::ondemand_status::prometheus(&status.on_demand));
    s.push_str(&crate::ops::proxy_status::prometheus(&status.proxies));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(last_sync_hours_ago: Option<i64>, frozen: u64) -> Status {
        let now = Utc::now();
        Status {
            generated_at: now,
            mirrors: vec![MirrorStatus {
                name: "m".into(),
                packages: 3,
                frozen,
                held: 1,
                staged: 0,
                unmet: 0,
                review: false,
                last_sync: last_sync_hours_ago.map(|h| now - chrono::Duration::hours(h)),
                last_error: None,
                upstream_date: None,
                upstream_age_secs: None,
            }],
            publications: vec![],
            storage: StorageStatus {
                blobs: 3,
                unique_bytes: 300,
            },
            on_demand: vec![],
            repos: vec![],
            proxies: vec![],
        }
    }

    #[test]
    fn check_flags_stale_never_synced_and_frozen() {
        let day = chrono::Duration::hours(24);
        assert!(problems(&status(Some(1), 0), day).is_empty());
        assert!(
            problems(&status(Some(30), 0), day)[0]
                .contains("is stale: last successful sync 1d 6h ago")
        );
        assert!(problems(&status(None, 0), day)[0].contains("never synced"));
        assert!(problems(&status(Some(1), 2), day)[0].contains("2 frozen packages"));
        // The one held package (an operator's freeze) is no problem.
        assert!(problems(&status(Some(1), 0), day).is_empty());
    }

    #[test]
    fn prometheus_text() {
        let text = prometheus(&status(Some(1), 1));
        assert!(text.contains(
            "# TYPE debvault_mirror_packages gauge\ndebvault_mirror_packages{mirror=\"m\"} 3\n"
        ));
        assert!(text.contains("debvault_mirror_frozen_packages{mirror=\"m\"} 1\n"));
        assert!(text.contains("debvault_storage_unique_bytes 300\n"));
        assert!(!text.contains("debvault_mirror_upstream_date_timestamp_seconds{"));
    }
}
