//! `/api/snapshots`, `POST /api/repos/{name}/snapshots` and `POST
//! /api/mirrors/{name}/snapshots`, through `ops::snapshot`.
//!
//! aptly's JSON: a snapshot is `{Name, CreatedAt, Description}`; a diff is
//! a list of `{Left, Right}` package keys (`null` on the side that lacks
//! the package). A snapshot's description is debvault's own account of
//! its sources: a `Description` in the request is not kept.

use std::collections::HashMap;

use hyper::StatusCode;
use serde_json::{Value, json};

use super::Job;
use super::reply::{ApiError, JsonBody};
use super::repos::package_ref;
use super::routes::query_param;
use crate::model::Snapshot;
use crate::ops::snapshot::{self as ops, MergeStrategy, SnapshotError};

fn snapshot_json(s: &Snapshot) -> Value {
    json!({
        "Name": s.name,
        "CreatedAt": s.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "Description": s.description,
    })
}

fn snapshot_error(e: &SnapshotError) -> ApiError {
    if matches!(e, SnapshotError::Exists(_) | SnapshotError::NeverSynced(_)) {
        // aptly's status for a name in use.
        return ApiError::bad_request(super::reply::chain(e));
    }
    let missing = matches!(
        e,
        SnapshotError::NoSnapshot(_) | SnapshotError::NoMirror(_) | SnapshotError::NoRepo(_)
    );
    let busy = matches!(e, SnapshotError::Published { .. });
    ApiError::from_op(e, missing, busy)
}

/// `POST /api/repos/{name}/snapshots` (`repo`) or `POST
/// /api/mirrors/{name}/snapshots`: `Name` is required.
pub(super) fn create(source: String, repo: bool, body: JsonBody) -> Result<Job, ApiError> {
    let name = body.required("Name")?;
    body.string("Description")?;
    Ok(Box::new(move |ctx| {
        let today = chrono::Utc::now().date_naive();
        let (mirrors, repos) = if repo {
            (Vec::new(), vec![source])
        } else {
            (vec![source], Vec::new())
        };
        let merged = ops::create_from_sources(
            &mut ctx.db,
            Some(&name),
            &mirrors,
            &repos,
            MergeStrategy::Newest,
            today,
        )
        .map_err(|e| snapshot_error(&e))?;
        Ok((StatusCode::CREATED, snapshot_json(&merged.snapshot)))
    }))
}

/// `POST /api/snapshots/merge`: `Destination`, `Sources` (at least one),
/// as aptly 1.6: by default a later source's package replaces an earlier
/// one's of the same name and architecture; `?latest=1` keeps the newest
/// version; `?no-remove=1` keeps every version (not with `latest`).
pub(super) fn merge(query: Option<&str>, body: JsonBody) -> Result<Job, ApiError> {
    let name = body.required("Destination")?;
    let sources = body.strings("Sources")?;
    if sources.is_empty() {
        return Err(ApiError::bad_request(
            "field `Sources`: at least one source snapshot is required",
        ));
    }
    let flag = |q: &str| query_param(query, q).as_deref() == Some("1");
    let strategy = match (flag("latest"), flag("no-remove")) {
        (true, true) => {
            return Err(ApiError::bad_request(
                "`latest` and `no-remove` are mutually exclusive",
            ));
        }
        (true, false) => MergeStrategy::Newest,
        (false, true) => MergeStrategy::KeepAll,
        (false, false) => MergeStrategy::LaterWins,
    };
    Ok(Box::new(move |ctx| {
        let merged =
            ops::merge(&mut ctx.db, &name, &sources, strategy).map_err(|e| snapshot_error(&e))?;
        Ok((StatusCode::CREATED, snapshot_json(&merged.snapshot)))
    }))
}

/// `GET /api/snapshots[?sort=time]`: by name, or by creation time.
pub(super) fn list(query: Option<&str>) -> Job {
    let by_time = query_param(query, "sort").as_deref() == Some("time");
    Box::new(move |ctx| {
        let mut list = ops::list(&ctx.db).map_err(|e| snapshot_error(&e))?;
        if by_time {
            list.sort_by_key(|a| a.created_at);
        } else {
            list.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let list: Vec<Value> = list.iter().map(snapshot_json).collect();
        Ok((StatusCode::OK, Value::Array(list)))
    })
}

/// `GET /api/snapshots/{name}`.
pub(super) fn show(name: String) -> Job {
    Box::new(move |ctx| {
        let s = ops::load(&ctx.db, &name).map_err(|e| snapshot_error(&e))?;
        Ok((StatusCode::OK, snapshot_json(&s)))
    })
}

/// `GET /api/snapshots/{a}/diff/{b}`: what differs by package name and
/// architecture, newest version on each side.
pub(super) fn diff(a: String, b: String) -> Job {
    Box::new(move |ctx| {
        let left = ops::load(&ctx.db, &a).map_err(|e| snapshot_error(&e))?;
        let right = ops::load(&ctx.db, &b).map_err(|e| snapshot_error(&e))?;
        let left = ops::entries(&ctx.db, &left).map_err(|e| snapshot_error(&e))?;
        let right = ops::entries(&ctx.db, &right).map_err(|e| snapshot_error(&e))?;
        let refs = |entries: &[ops::Entry]| -> HashMap<(String, String, String), String> {
            entries
                .iter()
                .map(|e| {
                    let k = &e.package.key;
                    (
                        (k.name.clone(), k.architecture.clone(), k.version.clone()),
                        package_ref(k, &e.package.sha256),
                    )
                })
                .collect()
        };
        let (lrefs, rrefs) = (refs(&left), refs(&right));
        let out: Vec<Value> = ops::diff_entries(&left, &right)
            .iter()
            .map(|d| {
                let side = |refs: &HashMap<_, String>, v: &Option<String>| {
                    v.as_ref().and_then(|v| {
                        refs.get(&(d.name.clone(), d.architecture.clone(), v.clone()))
                            .cloned()
                    })
                };
                json!({
                    "Left": side(&lrefs, &d.old_version),
                    "Right": side(&rrefs, &d.new_version),
                })
            })
            .collect();
        Ok((StatusCode::OK, Value::Array(out)))
    })
}
