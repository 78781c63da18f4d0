//! The `Release` options of a publication: checked before anything is
//! written, turned into the fields of each tree's `Release`, and compared
//! with what is published to tell a no-op from a re-publish.

use chrono::{DateTime, Utc};

use super::PublishError;
use crate::model::{Publication, ReleaseOptions};
use crate::tree::ReleaseMeta;
use crate::tree::layout;

/// Whether `cur`'s `Valid-Until` (if any) has more than half its time left.
pub(super) fn fresh_enough(cur: &Publication, options: &ReleaseOptions) -> bool {
    match (cur.valid_until, options.valid_for_secs) {
        (Some(until), Some(secs)) => {
            let half = chrono::Duration::seconds(i64::try_from(secs / 2).unwrap_or(i64::MAX));
            until - Utc::now() > half
        }
        _ => true,
    }
}

/// Refuses `Release` options that cannot be published as given.
pub(super) fn check_options(o: &ReleaseOptions) -> Result<(), PublishError> {
    if o.but_automatic_upgrades && !o.not_automatic {
        return Err(PublishError::BadOption(
            "`--but-automatic-upgrades` needs `--not-automatic`".into(),
        ));
    }
    if let Some(url) = &o.snapshots_url {
        let ok = url::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.query().is_none());
        if !ok {
            return Err(PublishError::BadOption(format!(
                "`--snapshots-url` `{url}` is not an http(s) URL"
            )));
        }
    }
    if o.valid_for_secs == Some(0) {
        return Err(PublishError::BadOption(
            "`--valid-for` must be positive".into(),
        ));
    }
    Ok(())
}

/// The `Release` fields of a tree made at `now`.
pub(super) fn release_meta(
    o: &ReleaseOptions,
    distribution: &str,
    now: DateTime<Utc>,
) -> ReleaseMeta {
    ReleaseMeta {
        origin: o.origin.clone(),
        label: o.label.clone(),
        suite: o.suite.clone().unwrap_or_else(|| distribution.to_owned()),
        codename: Some(
            o.codename
                .clone()
                .unwrap_or_else(|| distribution.to_owned()),
        ),
        version: None,
        description: None,
        date: now,
        valid_until: o
            .valid_for_secs
            .map(|s| now + chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 2))),
        not_automatic: o.not_automatic,
        but_automatic_upgrades: o.but_automatic_upgrades,
        snapshots: o.snapshots_url.as_ref().map(|u| {
            format!(
                "{}/{}/@SNAPSHOTID@",
                u.trim_end_matches('/'),
                layout::SNAPSHOTS_SEGMENT
            )
        }),
    }
}
