//! The command-not-found indices of a publication: `<component>/cnf/
//! Commands-<arch>` holding the stanzas of the packages it publishes.
//!
//! The stanzas come from the rows syncs stored per package (.deb), so a
//! snapshot gets exactly its packages' commands, and a snapshot merged
//! from several mirrors each package's own. Each file starts with a header
//! naming our suite, the component and the architecture (what Ubuntu's
//! `command-not-found` reads to decide whether the file applies), then
//! the stanzas of its architecture's packages and of the `all` ones, by
//! package name. Components and architectures without data get no file:
//! apt only fetches what the Release lists.

use std::collections::BTreeMap;

use super::PublishError;
use super::job::Job;
use crate::db::{Db, SOURCE_ARCH};
use crate::debian::cnf::header_text;
use crate::digest::Sha256;
use crate::model::PackageRecord;
use crate::tree::{IndexInput, IndexKind};

/// The Commands indices for `records` (component, package) of `job`.
pub(super) fn commands_indices(
    db: &Db,
    records: &[(String, PackageRecord)],
    job: &Job<'_>,
) -> Result<Vec<IndexInput>, PublishError> {
    let shas: Vec<Sha256> = records
        .iter()
        .filter(|(_, r)| r.architecture != SOURCE_ARCH)
        .map(|(_, r)| r.sha256)
        .collect();
    let stanzas = db.commands(&shas)?;
    if stanzas.is_empty() {
        return Ok(Vec::new());
    }
    let suite = job.release_meta(chrono::Utc::now()).suite;
    Ok(indices(records, &stanzas, &job.architectures(), &suite))
}

/// One index per component and architecture that has stanzas.
fn indices(
    records: &[(String, PackageRecord)],
    stanzas: &BTreeMap<Sha256, String>,
    architectures: &[String],
    suite: &str,
) -> Vec<IndexInput> {
    let mut by_component: BTreeMap<&str, Vec<&PackageRecord>> = BTreeMap::new();
    for (component, r) in records {
        if stanzas.contains_key(&r.sha256) {
            by_component.entry(component).or_default().push(r);
        }
    }
    let mut out = Vec::new();
    for (component, mut list) in by_component {
        list.sort_by(|a, b| {
            (&a.name, &a.architecture, a.sha256).cmp(&(&b.name, &b.architecture, b.sha256))
        });
        list.dedup_by_key(|r| r.sha256);
        for arch in architectures
            .iter()
            .filter(|a| *a != "all" && *a != SOURCE_ARCH)
        {
            let members: Vec<String> = list
                .iter()
                .filter(|r| r.architecture == *arch || r.architecture == "all")
                .map(|r| stanzas[&r.sha256].clone())
                .collect();
            if members.is_empty() {
                continue;
            }
            let mut records = vec![header_text(suite, component, arch)];
            records.extend(members);
            out.push(IndexInput {
                component: component.to_owned(),
                kind: IndexKind::Commands {
                    architecture: arch.clone(),
                },
                stanzas: records,
            });
        }
    }
    out
}
