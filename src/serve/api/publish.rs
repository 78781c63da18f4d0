//! `/api/publish`: publish snapshots, switch a distribution to another
//! snapshot in place, drop it — through `ops::publish`, as `snapshot
//! publish` and `publish drop` do (the installability check included).
//!
//! aptly's JSON and prefix encoding (`routes::decode_prefix`). debvault
//! publishes snapshots only: `SourceKind` must be `snapshot` (snapshot a
//! repo first), and publications are always signed with the server's keys
//! (`Signing.Skip` is refused, other signing fields are ignored).
//! `Architectures` is ignored: a snapshot's architectures decide.

use hyper::StatusCode;
use serde_json::{Value, json};

use super::Job;
use super::reply::{ApiError, JsonBody};
use super::routes::decode_prefix;
use crate::model::Publication;
use crate::ops::Context;
use crate::ops::keys::{KeyStore, passphrase_from_env};
use crate::ops::publish::{self as ops, PublishError, PublishOptions};
use crate::ops::snapshot::SnapshotError;

fn publish_error(e: &PublishError) -> ApiError {
    let missing = matches!(
        e,
        PublishError::NoPublication { .. } | PublishError::Snapshot(SnapshotError::NoSnapshot(_))
    );
    let busy = matches!(
        e,
        PublishError::Locked(_)
            | PublishError::Immutable { .. }
            | PublishError::SettingChanged { .. }
            | PublishError::ComponentsChanged { .. }
    );
    ApiError::from_op(e, missing, busy)
}

fn prefix(raw: &str) -> Result<String, ApiError> {
    let p = decode_prefix(raw).map_err(ApiError::bad_request)?;
    ops::normalize_prefix(&p).map_err(|e| publish_error(&e))
}

/// A publication as aptly lists it.
fn publication_json(ctx: &Context, p: &Publication) -> Value {
    let sources: Vec<Value> = if p.components.is_empty() {
        vec![json!({"Component": "", "Name": p.snapshot})]
    } else {
        p.components
            .iter()
            .map(|c| json!({"Component": c.component, "Name": c.snapshot}))
            .collect()
    };
    let architectures = crate::ops::snapshot::load(&ctx.db, &p.snapshot)
        .map(|s| s.architectures)
        .unwrap_or_default();
    let yes = |b: bool| if b { "yes" } else { "" };
    json!({
        "Storage": "",
        "Prefix": p.prefix,
        "Distribution": p.distribution,
        "SourceKind": "snapshot",
        "Sources": sources,
        "Architectures": architectures,
        "Label": p.options.label.clone().unwrap_or_default(),
        "Origin": p.options.origin.clone().unwrap_or_default(),
        "NotAutomatic": yes(p.options.not_automatic),
        "ButAutomaticUpgrades": yes(p.options.but_automatic_upgrades),
        "AcquireByHash": true,
    })
}

/// `GET /api/publish[/{prefix}]`.
pub(super) fn list(raw_prefix: Option<&str>) -> Result<Job, ApiError> {
    let only = raw_prefix.map(prefix).transpose()?;
    Ok(Box::new(move |ctx| {
        let all = ops::list(ctx).map_err(|e| publish_error(&e))?;
        let list: Vec<Value> = all
            .iter()
            .filter(|p| only.as_ref().is_none_or(|o| *o == p.prefix))
            .map(|p| publication_json(ctx, p))
            .collect();
        Ok((StatusCode::OK, Value::Array(list)))
    }))
}

/// `GET /api/publish/{prefix}/{distribution}`.
pub(super) fn show(raw_prefix: &str, distribution: String) -> Result<Job, ApiError> {
    let prefix = prefix(raw_prefix)?;
    Ok(Box::new(move |ctx| {
        let (p, _) = ops::show(ctx, &prefix, &distribution).map_err(|e| publish_error(&e))?;
        Ok((StatusCode::OK, publication_json(ctx, &p)))
    }))
}

/// Snapshot names and, for several, the component of each.
fn sources(body: &JsonBody, field: &str) -> Result<(Vec<String>, Vec<String>), ApiError> {
    let sources = body.sources(field)?;
    if sources.is_empty() {
        return Err(ApiError::bad_request(format!(
            "field `{field}` is required: a list of `{{\"Name\": SNAPSHOT, \"Component\": COMPONENT}}`"
        )));
    }
    let names = sources.iter().map(|(n, _)| n.clone()).collect();
    if sources.len() == 1 {
        // One snapshot publishes its own components.
        return Ok((names, Vec::new()));
    }
    let components = sources
        .iter()
        .map(|(n, c)| {
            c.clone().ok_or_else(|| {
                ApiError::bad_request(format!(
                    "field `{field}`: snapshot `{n}` needs a `Component` when several are published"
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((names, components))
}

fn check_signing(body: &JsonBody) -> Result<(), ApiError> {
    if body.object("Signing")?.bool("Skip")? == Some(true) {
        return Err(ApiError::bad_request(
            "field `Signing.Skip`: debvault always signs publications, with the server's keys",
        ));
    }
    Ok(())
}

/// Publishes (or switches) and answers with the publication.
fn run_publish(
    ctx: &mut Context,
    names: &[String],
    opts: PublishOptions,
    status: StatusCode,
) -> Result<(StatusCode, Value), ApiError> {
    ops::check_components(names.len(), &opts.components).map_err(|e| publish_error(&e))?;
    for name in names {
        // A missing snapshot is a 404 before any other check names it.
        crate::ops::snapshot::load(&ctx.db, name)
            .map_err(|e| publish_error(&PublishError::Snapshot(e)))?;
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    crate::ops::installable::check_installable(&ctx.db, &refs)
        .map_err(|e| ApiError::from_op(&e, false, false))?;
    let opts = PublishOptions {
        render: crate::tree::RenderOptions {
            xz_preset: ctx.settings.xz_preset,
            ..Default::default()
        },
        ..opts
    };
    let passphrase = passphrase_from_env(&|k| std::env::var(k).ok())
        .map_err(|e| ApiError::from_op(&e, false, false))?;
    let keys = KeyStore::new(ctx.settings.root.join("keys"), passphrase)
        .signing_keys()
        .map_err(|e| ApiError::from_op(&e, false, false))?;
    let report = ops::publish(ctx, &keys, names, &opts).map_err(|e| publish_error(&e))?;
    let (p, _) =
        ops::show(ctx, &report.prefix, &report.distribution).map_err(|e| publish_error(&e))?;
    Ok((status, publication_json(ctx, &p)))
}

/// `POST /api/publish[/{prefix}]`: `SourceKind` `snapshot`, `Sources`,
/// `Distribution`, `Label`, `Origin`, `NotAutomatic`, `ButAutomaticUpgrades`.
pub(super) fn create(raw_prefix: &str, body: JsonBody) -> Result<Job, ApiError> {
    let prefix = prefix(raw_prefix)?;
    match body.required("SourceKind")?.as_str() {
        "snapshot" => {}
        "local" => {
            return Err(ApiError::bad_request(
                "field `SourceKind`: debvault publishes snapshots; snapshot the repo first (`POST /api/repos/{name}/snapshots`)",
            ));
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "field `SourceKind` must be `snapshot`, not `{other}`"
            )));
        }
    }
    let (names, components) = sources(&body, "Sources")?;
    check_signing(&body)?;
    body.strings("Architectures")?;
    let yes = |field: &str| -> Result<bool, ApiError> {
        Ok(body
            .string(field)?
            .is_some_and(|v| v.eq_ignore_ascii_case("yes")))
    };
    let mut opts = PublishOptions {
        prefix: prefix.clone(),
        distribution: body.string("Distribution")?.filter(|d| !d.is_empty()),
        components,
        ..PublishOptions::default()
    };
    opts.release.label = body.string("Label")?.filter(|s| !s.is_empty());
    opts.release.origin = body.string("Origin")?.filter(|s| !s.is_empty());
    opts.release.not_automatic = yes("NotAutomatic")?;
    opts.release.but_automatic_upgrades = yes("ButAutomaticUpgrades")?;
    Ok(Box::new(move |ctx| {
        if let Some(d) = &opts.distribution
            && ctx
                .db
                .publication(&prefix, d)
                .map_err(|e| publish_error(&PublishError::from(e)))?
                .is_some()
        {
            return Err(ApiError::bad_request(format!(
                "prefix `{prefix}` distribution `{d}` is already published; switch it with `PUT /api/publish/{{prefix}}/{d}`"
            )));
        }
        run_publish(ctx, &names, opts, StatusCode::CREATED)
    }))
}

/// `PUT /api/publish/{prefix}/{distribution}`: `Snapshots` switches the
/// distribution to other snapshots in place, keeping its settings.
pub(super) fn switch(
    raw_prefix: &str,
    distribution: String,
    body: JsonBody,
) -> Result<Job, ApiError> {
    let prefix = prefix(raw_prefix)?;
    let (names, components) = sources(&body, "Snapshots")?;
    check_signing(&body)?;
    Ok(Box::new(move |ctx| {
        let (current, _) = ops::show(ctx, &prefix, &distribution).map_err(|e| publish_error(&e))?;
        // A publication of one snapshot stays one; of several, each keeps
        // the component given.
        let components = if current.components.is_empty() {
            Vec::new()
        } else {
            components
        };
        let opts = PublishOptions {
            prefix,
            distribution: Some(distribution),
            components,
            ..PublishOptions::default()
        };
        run_publish(ctx, &names, opts, StatusCode::OK)
    }))
}

/// `DELETE /api/publish/{prefix}/{distribution}`.
pub(super) fn drop(raw_prefix: &str, distribution: String) -> Result<Job, ApiError> {
    let prefix = prefix(raw_prefix)?;
    Ok(Box::new(move |ctx| {
        ops::drop_publication(ctx, &prefix, &distribution).map_err(|e| publish_error(&e))?;
        Ok((StatusCode::OK, json!({})))
    }))
}
