//! The `Release` options of a publication — its settings: resolved from
//! the stored ones and the flags given, checked before anything is written,
//! turned into the fields of each tree's `Release`, and compared with what
//! is published to tell a no-op from a re-publish.
//!
//! Settings belong to the publication (as a reprepro `conf/distributions`
//! stanza does): a first publish takes them from its flags, later ones
//! reuse them. A flag that would change a stored value is refused unless
//! `--set` is given, so a re-publish from a script that forgot a flag
//! cannot silently drop, say, the `Snapshots:` field; `--unset NAME` puts
//! one back to its default.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::PublishError;
use crate::model::{Publication, ReleaseOptions};
use crate::tree::ReleaseMeta;
use crate::tree::layout;

/// A publication setting: stored with the publication, reused by every
/// later publish, changed only on request (`--set`, `--unset NAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `Origin`.
    Origin,
    /// `Label`.
    Label,
    /// `Suite`.
    Suite,
    /// `Codename`.
    Codename,
    /// `Valid-Until` distance.
    ValidFor,
    /// The `Snapshots` URL.
    SnapshotsUrl,
    /// `NotAutomatic`.
    NotAutomatic,
    /// `ButAutomaticUpgrades`.
    ButAutomaticUpgrades,
    /// No Contents indices.
    NoContents,
    /// No changelogs.
    NoChangelogs,
    /// The URL of the prefix (the `Changelogs` field).
    BaseUrl,
}

impl Setting {
    /// Every setting, in the order `publish show` lists them.
    pub const ALL: [Setting; 11] = [
        Setting::Origin,
        Setting::Label,
        Setting::Suite,
        Setting::Codename,
        Setting::ValidFor,
        Setting::SnapshotsUrl,
        Setting::NotAutomatic,
        Setting::ButAutomaticUpgrades,
        Setting::NoContents,
        Setting::NoChangelogs,
        Setting::BaseUrl,
    ];

    /// Its name, as its flag spells it.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Origin => "origin",
            Setting::Label => "label",
            Setting::Suite => "suite",
            Setting::Codename => "codename",
            Setting::ValidFor => "valid-for",
            Setting::SnapshotsUrl => "snapshots-url",
            Setting::NotAutomatic => "not-automatic",
            Setting::ButAutomaticUpgrades => "but-automatic-upgrades",
            Setting::NoContents => "no-contents",
            Setting::NoChangelogs => "no-changelogs",
            Setting::BaseUrl => "base-url",
        }
    }

    /// The setting named `name`.
    pub fn from_name(name: &str) -> Option<Setting> {
        Setting::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Its value in `o`, as text; `None` when unset (its default applies).
    pub fn value(self, o: &ReleaseOptions) -> Option<String> {
        match self {
            Setting::Origin => o.origin.clone(),
            Setting::Label => o.label.clone(),
            Setting::Suite => o.suite.clone(),
            Setting::Codename => o.codename.clone(),
            Setting::ValidFor => o.valid_for_secs.map(duration_text),
            Setting::SnapshotsUrl => o.snapshots_url.clone(),
            Setting::NotAutomatic => o.not_automatic.then(|| "yes".to_owned()),
            Setting::ButAutomaticUpgrades => o.but_automatic_upgrades.then(|| "yes".to_owned()),
            Setting::NoContents => o.no_contents.then(|| "yes".to_owned()),
            Setting::NoChangelogs => o.no_changelogs.then(|| "yes".to_owned()),
            Setting::BaseUrl => o.base_url.clone(),
        }
    }

    /// Sets this setting of `to` to its value in `from`.
    fn copy(self, to: &mut ReleaseOptions, from: &ReleaseOptions) {
        match self {
            Setting::Origin => to.origin.clone_from(&from.origin),
            Setting::Label => to.label.clone_from(&from.label),
            Setting::Suite => to.suite.clone_from(&from.suite),
            Setting::Codename => to.codename.clone_from(&from.codename),
            Setting::ValidFor => to.valid_for_secs = from.valid_for_secs,
            Setting::SnapshotsUrl => to.snapshots_url.clone_from(&from.snapshots_url),
            Setting::NotAutomatic => to.not_automatic = from.not_automatic,
            Setting::ButAutomaticUpgrades => {
                to.but_automatic_upgrades = from.but_automatic_upgrades;
            }
            Setting::NoContents => to.no_contents = from.no_contents,
            Setting::NoChangelogs => to.no_changelogs = from.no_changelogs,
            Setting::BaseUrl => to.base_url.clone_from(&from.base_url),
        }
    }
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A setting a publish changes: shown in the plan, the report and the
/// audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SettingChange {
    /// The setting's name.
    pub setting: &'static str,
    /// The stored value (`None`: unset).
    pub from: Option<String>,
    /// The new value (`None`: unset).
    pub to: Option<String>,
}

/// `7d`, `12h`, `30m` or `90s`: the largest unit that divides `secs`.
pub fn duration_text(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The settings a publish uses, from the stored ones (`None`: a first
/// publish) and the flags given (unset fields and `false` are flags not
/// given): an absent flag keeps the stored value; a flag that differs from
/// it is refused unless `set`; `unset` settings go back to their defaults.
/// Returns the settings and what changed.
pub(super) fn resolve(
    place: &str,
    stored: Option<&ReleaseOptions>,
    given: &ReleaseOptions,
    set: bool,
    unset: &[Setting],
) -> Result<(ReleaseOptions, Vec<SettingChange>), PublishError> {
    let Some(stored) = stored else {
        return Ok((given.clone(), Vec::new()));
    };
    let mut out = stored.clone();
    let mut changes = Vec::new();
    let defaults = ReleaseOptions::default();
    for s in Setting::ALL {
        let old = s.value(stored);
        let new = s.value(given);
        if unset.contains(&s) {
            if new.is_some() {
                return Err(PublishError::BadOption(format!(
                    "`--{s}` and `--unset {s}` contradict each other"
                )));
            }
            s.copy(&mut out, &defaults);
        } else if let Some(new) = new {
            if old.as_ref() != Some(&new) && !set {
                return Err(PublishError::SettingChanged {
                    place: place.to_owned(),
                    setting: s.name(),
                    stored: old,
                    given: new,
                });
            }
            s.copy(&mut out, given);
        }
        let now = s.value(&out);
        if now != old {
            changes.push(SettingChange {
                setting: s.name(),
                from: old,
                to: now,
            });
        }
    }
    Ok((out, changes))
}

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
    for (flag, url) in [
        ("snapshots-url", &o.snapshots_url),
        ("base-url", &o.base_url),
    ] {
        let Some(url) = url else { continue };
        let ok = url::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.query().is_none());
        if !ok {
            return Err(PublishError::BadOption(format!(
                "`--{flag}` `{url}` is not an http(s) URL"
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

/// The `Origin` of a publication that sets none: apt ignores `Snapshots:`
/// in a Release with neither `Origin` nor `Label`.
pub const DEFAULT_ORIGIN: &str = "debvault";

/// The `Label` of a publication that sets none: its distribution, after
/// its prefix if it has one (`ci/debian/stable`).
pub fn default_label(prefix: &str, distribution: &str) -> String {
    if prefix == "." {
        distribution.to_owned()
    } else {
        format!("{prefix}/{distribution}")
    }
}

/// The `Release` fields of a tree made at `now`.
pub(super) fn release_meta(
    o: &ReleaseOptions,
    prefix: &str,
    distribution: &str,
    now: DateTime<Utc>,
) -> ReleaseMeta {
    ReleaseMeta {
        origin: Some(
            o.origin
                .clone()
                .unwrap_or_else(|| DEFAULT_ORIGIN.to_owned()),
        ),
        label: Some(
            o.label
                .clone()
                .unwrap_or_else(|| default_label(prefix, distribution)),
        ),
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
                "{}/{}/@SNAPSHOTID@/",
                u.trim_end_matches('/'),
                layout::SNAPSHOTS_SEGMENT
            )
        }),
        changelogs: o
            .base_url
            .as_deref()
            .filter(|_| !o.no_changelogs)
            .map(super::changelogs::changelogs_field),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn with_origin(origin: &str) -> ReleaseOptions {
        ReleaseOptions {
            origin: Some(origin.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn settings_resolve() {
        let stored = ReleaseOptions {
            snapshots_url: Some("http://x.invalid/".into()),
            ..with_origin("A")
        };
        // First publish: the flags.
        let (o, c) = resolve("dists/s", None, &with_origin("A"), false, &[]).unwrap();
        assert_eq!((o, c.len()), (with_origin("A"), 0));
        // Absent flags keep, equal flags pass.
        let none = ReleaseOptions::default();
        let (o, c) = resolve("dists/s", Some(&stored), &none, false, &[]).unwrap();
        assert_eq!((&o, c.len()), (&stored, 0));
        let (o, _) = resolve("dists/s", Some(&stored), &with_origin("A"), false, &[]).unwrap();
        assert_eq!(o, stored);
        // A different one needs `set`.
        let err = resolve("dists/s", Some(&stored), &with_origin("B"), false, &[]).unwrap_err();
        assert!(matches!(
            err,
            PublishError::SettingChanged {
                setting: "origin",
                ..
            }
        ));
        let (o, c) = resolve("dists/s", Some(&stored), &with_origin("B"), true, &[]).unwrap();
        assert_eq!(o.origin.as_deref(), Some("B"));
        assert_eq!(o.snapshots_url, stored.snapshots_url);
        assert_eq!(
            c,
            vec![SettingChange {
                setting: "origin",
                from: Some("A".into()),
                to: Some("B".into())
            }]
        );
        // Unset clears; with the flag too it contradicts.
        let (o, c) = resolve(
            "dists/s",
            Some(&stored),
            &none,
            false,
            &[Setting::SnapshotsUrl],
        )
        .unwrap();
        assert_eq!((o.snapshots_url, c.len()), (None, 1));
        assert!(
            resolve(
                "dists/s",
                Some(&stored),
                &with_origin("A"),
                true,
                &[Setting::Origin]
            )
            .is_err()
        );
    }

    #[test]
    fn durations_read_back() {
        for (secs, text) in [(604_800, "7d"), (43_200, "12h"), (90, "90s"), (1800, "30m")] {
            assert_eq!(duration_text(secs), text);
            assert_eq!(crate::config::parse_duration(text), Some(secs));
        }
    }
}
