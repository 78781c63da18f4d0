//! Curation records: the append-only audit trail, freezes and staged changes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{Db, DbError, PackageSet, corrupt, parse_sha, parse_ts, sql, store_set, ts};
use crate::digest::Sha256;
use crate::model::{Freeze, FreezeKind, MirrorId, PackageId, PackageKey, RevisionId};

/// One audited action, as a command describes it.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    /// `freeze`, `unfreeze`, `promote`, `reject`, `publish`, `publish-drop`, …
    pub action: &'static str,
    /// What it acted on, e.g. "mirror `m` package `curl_8.0_amd64`".
    pub subject: String,
    /// The operator's reason, when the command takes one.
    pub reason: Option<String>,
    /// Facts worth keeping (versions, digests, snapshot names), as a JSON object.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// An event without reason or detail.
    pub fn new(action: &'static str, subject: impl Into<String>) -> AuditEvent {
        AuditEvent {
            action,
            subject: subject.into(),
            reason: None,
            detail: serde_json::json!({}),
        }
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> AuditEvent {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the detail object.
    pub fn detail(mut self, detail: serde_json::Value) -> AuditEvent {
        self.detail = detail;
        self
    }
}

/// A stored audit record.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AuditRecord {
    /// Sequence number.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: `user@host`.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub subject: String,
    /// Why.
    pub reason: Option<String>,
    /// Details.
    pub detail: serde_json::Value,
}

/// Staged change kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageAction {
    /// Upstream lists a package that is not live.
    Add,
    /// A live package upstream no longer lists.
    Remove,
}

impl StageAction {
    fn as_str(self) -> &'static str {
        match self {
            StageAction::Add => "add",
            StageAction::Remove => "remove",
        }
    }

    fn parse(s: &str) -> Option<StageAction> {
        match s {
            "add" => Some(StageAction::Add),
            "remove" => Some(StageAction::Remove),
            _ => None,
        }
    }
}

/// A staged change as stored.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StagedRow {
    /// Row id.
    #[serde(skip)]
    pub id: i64,
    /// Mirror (0 for a repo's staged change).
    #[serde(skip)]
    pub mirror_id: MirrorId,
    /// Add or remove.
    pub action: StageAction,
    /// Component.
    pub component: String,
    /// The package row (absent once rejected).
    #[serde(skip)]
    pub package_id: Option<PackageId>,
    /// Identity.
    pub key: PackageKey,
    /// Content digest.
    pub sha256: Sha256,
    /// Size in bytes.
    pub size: u64,
    /// Upstream Release `Date` of the sync that staged it.
    pub release_date: Option<DateTime<Utc>>,
    /// When it was staged.
    pub staged_at: DateTime<Utc>,
    /// `true` once rejected (kept as the decision).
    pub rejected: bool,
}

/// A change a review-mode sync stages; `id` is the package row of a removal.
#[derive(Clone, Debug)]
pub struct NewStaged {
    /// Add or remove.
    pub action: StageAction,
    /// Component.
    pub component: String,
    /// The package row; for an addition, filled in by the commit.
    pub id: Option<PackageId>,
    /// Identity.
    pub key: PackageKey,
    /// Content digest.
    pub sha256: Sha256,
    /// Size.
    pub size: u64,
}

pub(super) fn append_audit(
    conn: &Connection,
    actor: &str,
    event: &AuditEvent,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, action, subject, reason, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            ts(&Utc::now()),
            actor,
            event.action,
            event.subject,
            event.reason,
            event.detail.to_string()
        ])
    })
    .map_err(sql(format!("record audit event `{}`", event.action)))?;
    Ok(())
}

/// The subject text of a package of a mirror.
pub fn package_subject(mirror: &str, key: &PackageKey) -> String {
    format!("mirror `{mirror}` package `{key}`")
}

impl Db {
    /// Appends one event to the audit trail in its own transaction.
    pub fn audit(&mut self, event: &AuditEvent) -> Result<(), DbError> {
        append_audit(&self.conn, &self.actor, event)
    }

    /// Audit records, oldest first, from `since` on.
    pub fn audit_records(&self, since: Option<DateTime<Utc>>) -> Result<Vec<AuditRecord>, DbError> {
        let what = "read the audit trail";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, at, actor, action, subject, reason, detail FROM audit \
                 WHERE at >= ?1 ORDER BY id",
            )
            .map_err(sql(what))?;
        let since = since.as_ref().map(ts).unwrap_or_default();
        let rows = stmt
            .query_map([since], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(sql(what))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, actor, action, subject, reason, detail) = row.map_err(sql(what))?;
            let w = format!("audit record {id}");
            out.push(AuditRecord {
                id,
                at: parse_ts(Some(at), &w)?.unwrap_or_default(),
                actor,
                action,
                subject,
                reason,
                detail: serde_json::from_str(&detail).map_err(|e| corrupt(&w, e))?,
            });
        }
        Ok(out)
    }

    /// Freezes of a mirror: the active ones, or all (lifted too) with `all`.
    pub fn freezes(&self, mirror: MirrorId, all: bool) -> Result<Vec<Freeze>, DbError> {
        let q = format!(
            "SELECT name, version, arch, kept_sha256, upstream_sha256, reason, created_at, kind FROM freezes \
             WHERE mirror_id = ?1 {} ORDER BY name, version, arch, id",
            if all { "" } else { "AND lifted_at IS NULL" }
        );
        let mut stmt = self.conn.prepare_cached(&q).map_err(sql("list freezes"))?;
        let rows = stmt
            .query_map([mirror.0], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(sql("list freezes"))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, version, architecture, kept, upstream, reason, created, kind) =
                row.map_err(sql("list freezes"))?;
            let what = format!("freeze of `{name}`");
            out.push(Freeze {
                kind: match kind.as_str() {
                    "manual" => FreezeKind::Manual,
                    _ => FreezeKind::Content,
                },
                kept_sha256: kept.parse().map_err(|e| corrupt(&what, e))?,
                upstream_sha256: upstream.parse().map_err(|e| corrupt(&what, e))?,
                reason,
                created_at: parse_ts(Some(created), &what)?.unwrap_or_default(),
                key: PackageKey {
                    name,
                    version,
                    architecture,
                },
            });
        }
        Ok(out)
    }

    /// Active (not lifted) freezes of a mirror.
    pub fn active_freezes(&self, mirror: MirrorId) -> Result<Vec<Freeze>, DbError> {
        self.freezes(mirror, false)
    }

    /// Upstream content an operator accepted with `unfreeze --accept-new`, per package.
    pub fn accepted_content(
        &self,
        mirror: MirrorId,
    ) -> Result<HashMap<PackageKey, Sha256>, DbError> {
        let what = "list accepted content";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, version, arch, accepted_sha256 FROM freezes \
                 WHERE mirror_id = ?1 AND accepted_sha256 IS NOT NULL ORDER BY id",
            )
            .map_err(sql(what))?;
        let rows = stmt
            .query_map([mirror.0], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(sql(what))?;
        let mut out = HashMap::new();
        for row in rows {
            let (name, version, architecture, sha) = row.map_err(sql(what))?;
            let sha = parse_sha(Some(sha), what)?.ok_or_else(|| corrupt(what, "empty"))?;
            out.insert(
                PackageKey {
                    name,
                    version,
                    architecture,
                },
                sha,
            );
        }
        Ok(out)
    }

    /// Records operator freezes with their audit events, in one transaction.
    pub fn add_freezes(
        &mut self,
        mirror: MirrorId,
        mirror_name: &str,
        freezes: &[Freeze],
    ) -> Result<(), DbError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql("freeze"))?;
        insert_freezes(&tx, &self.actor, mirror, mirror_name, freezes)?;
        tx.commit().map_err(sql("freeze"))
    }

    /// Lifts the active freezes of `keys`, recording the upstream content as
    /// accepted where `accept` says so, with their audit events.
    pub fn lift_freezes(
        &mut self,
        mirror: MirrorId,
        mirror_name: &str,
        lifts: &[(Freeze, bool)],
        reason: &str,
    ) -> Result<(), DbError> {
        let what = "unfreeze";
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(what))?;
        let now = ts(&Utc::now());
        for (f, accept) in lifts {
            let accepted = accept.then(|| f.upstream_sha256.to_string());
            tx.execute(
                "UPDATE freezes SET lifted_at = ?1, lifted_reason = ?2, accepted_sha256 = ?3 \
                 WHERE mirror_id = ?4 AND name = ?5 AND version = ?6 AND arch = ?7 AND lifted_at IS NULL",
                params![
                    now,
                    reason,
                    accepted,
                    mirror.0,
                    f.key.name,
                    f.key.version,
                    f.key.architecture
                ],
            )
            .map_err(sql(what))?;
            append_audit(
                &tx,
                &self.actor,
                &AuditEvent::new("unfreeze", package_subject(mirror_name, &f.key))
                    .reason(reason)
                    .detail(serde_json::json!({
                        "kind": f.kind,
                        "kept_sha256": f.kept_sha256,
                        "upstream_sha256": f.upstream_sha256,
                        "accept_new": accept,
                    })),
            )?;
        }
        tx.commit().map_err(sql(what))
    }

    /// Staged changes of one mirror or of all, pending first (rejected with `rejected`).
    pub fn staged(
        &self,
        mirror: Option<MirrorId>,
        rejected: bool,
    ) -> Result<Vec<StagedRow>, DbError> {
        let q = format!(
            "SELECT id, mirror_id, action, component, package_id, name, version, arch, sha256, size, \
             release_date, staged_at, status FROM staged WHERE (?1 IS NULL OR mirror_id = ?1) {} \
             ORDER BY mirror_id, name, arch, action, version",
            if rejected {
                ""
            } else {
                "AND status = 'staged'"
            }
        );
        read_staged(&self.conn, &q, mirror.map(|m| m.0))
    }

    /// Promotes staged rows: the mirror's live revision becomes `set`
    /// (a new revision carrying `stats`), the rows leave staging, and one
    /// audit event per row is appended; one transaction.
    pub fn promote(
        &mut self,
        mirror: MirrorId,
        set: &PackageSet,
        stats: &serde_json::Value,
        rows: &[i64],
        events: &[AuditEvent],
    ) -> Result<RevisionId, DbError> {
        let what = "promote";
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(what))?;
        let set_id = store_set(&tx, set)?;
        tx.execute(
            "INSERT INTO mirror_revisions (mirror_id, created_at, release_date, release_sha256, package_set_id, stats) \
             SELECT id, ?2, release_date, release_sha256, ?3, ?4 FROM mirrors WHERE id = ?1",
            params![mirror.0, ts(&Utc::now()), set_id.0, stats.to_string()],
        )
        .map_err(sql(what))?;
        let rev = RevisionId(tx.last_insert_rowid());
        tx.execute(
            "UPDATE mirrors SET revision_id = ?1 WHERE id = ?2",
            params![rev.0, mirror.0],
        )
        .map_err(sql(what))?;
        for id in rows {
            tx.execute("DELETE FROM staged WHERE id = ?1", [id])
                .map_err(sql(what))?;
        }
        for e in events {
            append_audit(&tx, &self.actor, e)?;
        }
        tx.commit().map_err(sql(what))?;
        Ok(rev)
    }

    /// Rejects staged rows (kept as decisions, without their package), with audit events.
    pub fn reject(&mut self, rows: &[i64], events: &[AuditEvent]) -> Result<(), DbError> {
        let what = "reject";
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(what))?;
        let now = ts(&Utc::now());
        for id in rows {
            tx.execute(
                "UPDATE staged SET status = 'rejected', package_id = NULL, decided_at = ?1 WHERE id = ?2",
                params![now, id],
            )
            .map_err(sql(what))?;
        }
        for e in events {
            append_audit(&tx, &self.actor, e)?;
        }
        tx.commit().map_err(sql(what))
    }
}

/// The staged rows query `q` selects (`id, owner, action, component,
/// package_id, name, version, arch, sha256, size, release_date, staged_at,
/// status`, `?1` the owner or NULL): a mirror's from `staged`, a repo's
/// from `repo_staged`.
pub(super) fn read_staged(
    conn: &Connection,
    q: &str,
    owner: Option<i64>,
) -> Result<Vec<StagedRow>, DbError> {
    let what = "list staged changes";
    let mut stmt = conn.prepare_cached(q).map_err(sql(what))?;
    let rows = stmt
        .query_map([owner], |r| {
            Ok((
                (
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ),
                (
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, i64>(9)?,
                ),
                (
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, String>(11)?,
                    r.get::<_, String>(12)?,
                ),
            ))
        })
        .map_err(sql(what))?;
    let mut out = Vec::new();
    for row in rows {
        let (
            (id, mirror_id, action, component, package_id),
            (name, version, arch, sha, size),
            (date, at, status),
        ) = row.map_err(sql(what))?;
        let w = format!("staged change of `{name}`");
        out.push(StagedRow {
            id,
            mirror_id: MirrorId(mirror_id),
            action: StageAction::parse(&action).ok_or_else(|| corrupt(&w, &action))?,
            component,
            package_id: package_id.map(PackageId),
            sha256: parse_sha(Some(sha), &w)?.ok_or_else(|| corrupt(&w, "no digest"))?,
            size: size as u64,
            release_date: parse_ts(date, &w)?,
            staged_at: parse_ts(Some(at), &w)?.unwrap_or_default(),
            rejected: status == "rejected",
            key: PackageKey {
                name,
                version,
                architecture: arch,
            },
        });
    }
    Ok(out)
}

pub(super) fn insert_freezes(
    tx: &Connection,
    actor: &str,
    mirror: MirrorId,
    mirror_name: &str,
    freezes: &[Freeze],
) -> Result<(), DbError> {
    for f in freezes {
        tx.execute(
            "INSERT INTO freezes (mirror_id, name, version, arch, kept_sha256, upstream_sha256, reason, \
             created_at, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                mirror.0,
                f.key.name,
                f.key.version,
                f.key.architecture,
                f.kept_sha256.to_string(),
                f.upstream_sha256.to_string(),
                f.reason,
                ts(&f.created_at),
                f.kind.as_str()
            ],
        )
        .map_err(sql(format!("record freeze of `{}`", f.key)))?;
        append_audit(
            tx,
            actor,
            &AuditEvent::new("freeze", package_subject(mirror_name, &f.key))
                .reason(f.reason.clone())
                .detail(serde_json::json!({
                    "kind": f.kind,
                    "kept_sha256": f.kept_sha256,
                    "upstream_sha256": f.upstream_sha256,
                })),
        )?;
    }
    Ok(())
}

/// Replaces a mirror's pending staged rows by `staged` (rows already staged
/// keep their time; rejected rows stay as decisions).
pub(super) fn replace_staged(
    tx: &Connection,
    mirror: MirrorId,
    staged: &[NewStaged],
    release_date: Option<&DateTime<Utc>>,
) -> Result<(), DbError> {
    let what = "stage changes";
    let now = ts(&Utc::now());
    let mut keep = std::collections::HashSet::new();
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO staged (mirror_id, action, component, package_id, name, version, arch, sha256, \
                 size, release_date, staged_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                 ON CONFLICT DO NOTHING",
            )
            .map_err(sql(what))?;
        let mut find = tx
            .prepare_cached(
                "SELECT id FROM staged WHERE mirror_id = ?1 AND action = ?2 AND name = ?3 AND version = ?4 \
                 AND arch = ?5 AND sha256 = ?6",
            )
            .map_err(sql(what))?;
        for s in staged {
            let sha = s.sha256.to_string();
            insert
                .execute(params![
                    mirror.0,
                    s.action.as_str(),
                    s.component,
                    s.id.map(|i| i.0),
                    s.key.name,
                    s.key.version,
                    s.key.architecture,
                    sha,
                    s.size as i64,
                    release_date.map(ts),
                    now
                ])
                .map_err(sql(what))?;
            let id: i64 = find
                .query_row(
                    params![
                        mirror.0,
                        s.action.as_str(),
                        s.key.name,
                        s.key.version,
                        s.key.architecture,
                        sha
                    ],
                    |r| r.get(0),
                )
                .map_err(sql(what))?;
            keep.insert(id);
        }
    }
    let pending: Vec<i64> = {
        let mut stmt = tx
            .prepare_cached("SELECT id FROM staged WHERE mirror_id = ?1 AND status = 'staged'")
            .map_err(sql(what))?;
        let rows = stmt
            .query_map([mirror.0], |r| r.get(0))
            .map_err(sql(what))?;
        rows.collect::<Result<_, _>>().map_err(sql(what))?
    };
    for id in pending.into_iter().filter(|id| !keep.contains(id)) {
        tx.execute("DELETE FROM staged WHERE id = ?1", [id])
            .map_err(sql(what))?;
    }
    Ok(())
}
